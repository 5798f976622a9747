//! What users see about peers and routes.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::SystemTime;

use ipnetwork::IpNetwork;

use crate::fsm::State;
use crate::packet::MessageType;
use crate::rib::{PeerType, Route};

/// One peer, as `ternctl node status` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerStatus {
    pub address: IpAddr,
    pub asn: u32,
    pub peer_type: PeerType,
    /// RFC 4271 state; `Display` gives the RFC name.
    pub state: State,
    /// When the session entered `state`.
    pub since: SystemTime,
    /// Prefixes currently accepted from the peer (after import filters).
    pub prefixes_received: usize,
    /// Of those, kept from before the peer restarted and not announced again yet (RFC 4724).
    pub prefixes_stale: usize,
    /// Prefixes currently advertised to the peer.
    pub prefixes_advertised: usize,
    /// Why the session last went down or was refused, e.g. "received NOTIFICATION Cease/
    /// Administrative Shutdown (6/2)".
    pub last_error: Option<String>,
    /// The peer's BGP identifier, once an OPEN was accepted.
    pub router_id: Option<Ipv4Addr>,
    /// The negotiated hold time, while Established.
    pub hold_time: Option<u16>,
    /// Both ends of the established connection.
    pub local_address: Option<SocketAddr>,
    pub remote_address: Option<SocketAddr>,
    /// What the session negotiated, in words ([`crate::fsm::Negotiated::capability_names`]);
    /// empty unless Established.
    pub capabilities: Vec<String>,
    pub messages: MessageCounters,
    /// Bytes queued for the peer and not yet written to its socket (0 unless Established).
    /// Grows while the peer reads slower than we send; past `PeerConfig::max_send_queue`
    /// the session is closed with Cease / Out of Resources.
    pub send_queue_bytes: usize,
}

/// Messages per type, both ways.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MessageCounters {
    pub sent: MessageCounts,
    pub received: MessageCounts,
}

/// Messages of each type.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MessageCounts {
    pub open: u64,
    pub update: u64,
    pub notification: u64,
    pub keepalive: u64,
    pub route_refresh: u64,
}

impl MessageCounts {
    pub fn total(&self) -> u64 {
        self.open + self.update + self.notification + self.keepalive + self.route_refresh
    }
}

/// A change of the selected routes to a prefix ([`crate::Speaker::subscribe`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteChange {
    pub prefix: IpNetwork,
    /// The new best route; `None` when the prefix is no longer reachable.
    pub best: Option<Route>,
    /// The other equal-cost routes selected with it (multipath; empty without).
    pub multipath: Vec<Route>,
}

impl RouteChange {
    /// The next hops to install: the best route's and the other multipath routes', without
    /// duplicates (local routes have none).
    pub fn next_hops(&self) -> Vec<IpAddr> {
        let mut hops = Vec::new();
        for route in self.best.iter().chain(&self.multipath) {
            if let Some(hop) = route.path.next_hop
                && !hops.contains(&hop)
            {
                hops.push(hop);
            }
        }
        hops
    }
}

/// Counters shared between a session task (which counts) and the core (which reports).
#[derive(Debug, Default)]
pub(crate) struct SharedCounters {
    sent: [AtomicU64; 5],
    received: [AtomicU64; 5],
    /// The established connection's count of bytes waiting to be written.
    send_queue: Mutex<Option<Arc<AtomicUsize>>>,
}

impl SharedCounters {
    pub fn count_sent(&self, kind: MessageType) {
        self.sent[index(kind)].fetch_add(1, Ordering::Relaxed);
    }

    /// `count` messages of one kind sent at once.
    pub fn count_sent_many(&self, kind: MessageType, count: u64) {
        self.sent[index(kind)].fetch_add(count, Ordering::Relaxed);
    }

    pub fn count_received(&self, kind: MessageType) {
        self.received[index(kind)].fetch_add(1, Ordering::Relaxed);
    }

    /// Follow this connection's send queue (`None`: no established connection).
    pub fn set_send_queue(&self, queue: Option<Arc<AtomicUsize>>) {
        *self
            .send_queue
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = queue;
    }

    /// Bytes waiting to be written on the established connection.
    pub fn send_queue_bytes(&self) -> usize {
        self.send_queue
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .map_or(0, |queue| queue.load(Ordering::Relaxed))
    }

    pub fn snapshot(&self) -> MessageCounters {
        let read = |counts: &[AtomicU64; 5]| MessageCounts {
            open: counts[0].load(Ordering::Relaxed),
            update: counts[1].load(Ordering::Relaxed),
            notification: counts[2].load(Ordering::Relaxed),
            keepalive: counts[3].load(Ordering::Relaxed),
            route_refresh: counts[4].load(Ordering::Relaxed),
        };
        MessageCounters {
            sent: read(&self.sent),
            received: read(&self.received),
        }
    }
}

fn index(kind: MessageType) -> usize {
    match kind {
        MessageType::Open => 0,
        MessageType::Update => 1,
        MessageType::Notification => 2,
        MessageType::Keepalive => 3,
        MessageType::RouteRefresh => 4,
    }
}
