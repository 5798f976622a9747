//! What one session needs to know about us and the peer, and the OPEN it sends.

use std::net::Ipv4Addr;
use std::time::Duration;

use crate::packet::{AS_TRANS, Afi, Capability, GracefulRestart, Open, Safi};

/// Hold time we propose when none is configured, in seconds (RFC 4271 §10 suggests 90).
pub const DEFAULT_HOLD_TIME: u16 = 90;
/// Hold time while waiting for the peer's OPEN. RFC 4271 §8.2.2 suggests "a large value" of 4 minutes.
pub const OPEN_HOLD_TIME: Duration = Duration::from_secs(240);
/// Time between outgoing connection attempts. RFC 4271 §10 suggests 120 s; a cluster agent
/// whose peers come and go with nodes wants sessions back quickly, so tern uses 5 s.
pub const DEFAULT_CONNECT_RETRY: Duration = Duration::from_secs(5);
/// First delay before the automatic restart after an error; doubles on each failure in a row.
pub const DEFAULT_IDLE_HOLD: Duration = Duration::from_secs(1);
/// Longest delay before the automatic restart (the doubling stops here).
pub const DEFAULT_IDLE_HOLD_MAX: Duration = Duration::from_secs(32);

/// Configuration of one BGP session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionConfig {
    /// Our AS number (4 octets; OPEN carries [`AS_TRANS`] when it does not fit in 2).
    pub local_asn: u32,
    /// Our BGP identifier (router ID).
    pub local_id: Ipv4Addr,
    /// The AS the peer must announce (RFC 4271 §6.2 Bad Peer AS otherwise).
    pub peer_asn: u32,
    /// Hold time we propose, seconds: 0 (no keepalives) or at least 3.
    pub hold_time: u16,
    /// Time between outgoing connection attempts (RFC 4271 §10 ConnectRetryTime).
    pub connect_retry: Duration,
    /// First delay of the automatic restart after an error.
    pub idle_hold: Duration,
    /// Longest delay of the automatic restart.
    pub idle_hold_max: Duration,
    /// Never connect; only accept the peer's connections (RFC 4271 §8.1.1 PassiveTcpEstablishment).
    pub passive: bool,
    /// Address families we offer (Multiprotocol capability, RFC 4760 §8).
    pub families: Vec<(Afi, Safi)>,
    /// Offer ROUTE-REFRESH (RFC 2918).
    pub route_refresh: bool,
    /// Offer Enhanced Route Refresh (RFC 7313).
    pub enhanced_route_refresh: bool,
    /// Offer Graceful Restart with these parameters (RFC 4724).
    pub graceful_restart: Option<GracefulRestart>,
    /// Offer Extended Next Hop for these (AFI, SAFI, next-hop AFI) tuples (RFC 8950).
    pub extended_next_hop: Vec<(Afi, Safi, Afi)>,
}

impl SessionConfig {
    /// A session with tern's defaults: IPv4 and IPv6 unicast, route refresh, hold time 90 s,
    /// connect retry 5 s, active.
    pub fn new(local_asn: u32, local_id: Ipv4Addr, peer_asn: u32) -> Self {
        Self {
            local_asn,
            local_id,
            peer_asn,
            hold_time: DEFAULT_HOLD_TIME,
            connect_retry: DEFAULT_CONNECT_RETRY,
            idle_hold: DEFAULT_IDLE_HOLD,
            idle_hold_max: DEFAULT_IDLE_HOLD_MAX,
            passive: false,
            families: vec![(Afi::Ipv4, Safi::Unicast), (Afi::Ipv6, Safi::Unicast)],
            route_refresh: true,
            enhanced_route_refresh: false,
            graceful_restart: None,
            extended_next_hop: Vec::new(),
        }
    }

    /// Same AS on both ends (RFC 4271 §1.1 internal peer).
    pub fn is_internal(&self) -> bool {
        self.local_asn == self.peer_asn
    }

    /// The OPEN we send. RFC 4271 §4.2, capabilities per RFC 5492; the 4-octet AS capability is
    /// always sent (RFC 6793 §3).
    pub fn open(&self) -> Open {
        let mut capabilities: Vec<Capability> = self
            .families
            .iter()
            .map(|&(afi, safi)| Capability::MultiProtocol { afi, safi })
            .collect();
        if self.route_refresh {
            capabilities.push(Capability::RouteRefresh);
        }
        if self.enhanced_route_refresh {
            capabilities.push(Capability::EnhancedRouteRefresh);
        }
        if !self.extended_next_hop.is_empty() {
            capabilities.push(Capability::ExtendedNextHop(self.extended_next_hop.clone()));
        }
        if let Some(gr) = &self.graceful_restart {
            capabilities.push(Capability::GracefulRestart(gr.clone()));
        }
        capabilities.push(Capability::FourOctetAs(self.local_asn));
        Open {
            version: 4,
            my_as: u16::try_from(self.local_asn).unwrap_or(AS_TRANS),
            hold_time: self.hold_time,
            bgp_identifier: self.local_id,
            capabilities,
        }
    }
}
