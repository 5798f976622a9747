//! The speaker's core task: it owns the Loc-RIB and the peer table. Commands from the
//! [`crate::Speaker`] handle, events from session tasks and accepted connections all arrive
//! here, one at a time, so nothing needs a lock.
//!
//! The core never waits on a session task (it sends to them on unbounded channels); session
//! tasks wait on the core (bounded channel), which gives backpressure from a busy core.

mod peers;
mod routes;

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use ipnetwork::IpNetwork;
use tokio::net::TcpListener;
use tokio::sync::{broadcast, mpsc, oneshot};
use tokio::task::JoinHandle;
use tracing::debug;

use crate::fsm::{Negotiated, State};
use crate::packet::PathAttributes;
use crate::rib::{ExportContext, Exported, LocRib, PeerType, Route};
use crate::speaker::status::SharedCounters;
use crate::speaker::{PeerConfig, PeerStatus, RouteChange, SpeakerConfig, SpeakerError};

use super::listener::Accepted;
use super::peer::{PeerCommand, PeerEventEnvelope};

/// Requests from the [`crate::Speaker`] handle.
#[derive(Debug)]
pub enum Command {
    AddPeer(PeerConfig, oneshot::Sender<Result<(), SpeakerError>>),
    UpdatePeer(PeerConfig, oneshot::Sender<Result<(), SpeakerError>>),
    RemovePeer(IpAddr, oneshot::Sender<Result<(), SpeakerError>>),
    Originate(IpNetwork, PathAttributes, oneshot::Sender<()>),
    Withdraw(IpNetwork, oneshot::Sender<()>),
    Peers(oneshot::Sender<Vec<PeerStatus>>),
    LocRib(oneshot::Sender<Vec<Route>>),
    Shutdown(oneshot::Sender<()>),
}

/// The session of a peer while it is Established.
#[derive(Debug)]
struct Established {
    epoch: u64,
    negotiated: Negotiated,
    local: SocketAddr,
    remote: SocketAddr,
    export: ExportContext,
}

/// One configured peer.
#[derive(Debug)]
struct Peer {
    config: PeerConfig,
    peer_type: PeerType,
    instance: u64,
    commands: mpsc::UnboundedSender<PeerCommand>,
    task: JoinHandle<()>,
    counters: Arc<SharedCounters>,
    state: State,
    since: SystemTime,
    last_error: Option<String>,
    router_id: Option<Ipv4Addr>,
    established: Option<Established>,
    /// Prefixes accepted from the peer (their paths are in the Loc-RIB).
    adj_rib_in: HashSet<IpNetwork>,
    /// What we advertised to the peer, as advertised.
    adj_rib_out: HashMap<IpNetwork, Exported>,
}

/// The core's state.
pub struct Core {
    config: SpeakerConfig,
    rib: LocRib,
    peers: HashMap<IpAddr, Peer>,
    listeners: Vec<Arc<TcpListener>>,
    listener_tasks: Vec<JoinHandle<()>>,
    routes: broadcast::Sender<RouteChange>,
    events: mpsc::Sender<PeerEventEnvelope>,
    next_instance: u64,
}

/// Channels the core task reads.
pub struct Inbox {
    pub commands: mpsc::Receiver<Command>,
    pub events: mpsc::Receiver<PeerEventEnvelope>,
    pub accepted: mpsc::Receiver<Accepted>,
}

impl Core {
    pub fn new(
        config: SpeakerConfig,
        listeners: Vec<Arc<TcpListener>>,
        listener_tasks: Vec<JoinHandle<()>>,
        routes: broadcast::Sender<RouteChange>,
        events: mpsc::Sender<PeerEventEnvelope>,
    ) -> Self {
        Self {
            config,
            rib: LocRib::new(),
            peers: HashMap::new(),
            listeners,
            listener_tasks,
            routes,
            events,
            next_instance: 1,
        }
    }

    /// Run until shut down (or until every [`crate::Speaker`] handle is dropped).
    pub async fn run(mut self, mut inbox: Inbox) {
        loop {
            tokio::select! {
                command = inbox.commands.recv() => match command {
                    None => {
                        self.shutdown().await;
                        return;
                    }
                    Some(Command::Shutdown(reply)) => {
                        self.shutdown().await;
                        let _ = reply.send(());
                        return;
                    }
                    Some(command) => self.command(command),
                },
                Some(envelope) = inbox.events.recv() => self.peer_event(envelope),
                Some((stream, remote)) = inbox.accepted.recv() => {
                    let address = canonical(remote.ip());
                    match self.peers.get(&address) {
                        Some(peer) => {
                            let _ = peer.commands.send(PeerCommand::Incoming(stream));
                        }
                        None => debug!(%remote, "connection from unknown peer closed"),
                    }
                }
            }
        }
    }

    fn command(&mut self, command: Command) {
        match command {
            Command::AddPeer(config, reply) => {
                let _ = reply.send(self.add_peer(config));
            }
            Command::UpdatePeer(config, reply) => {
                let _ = reply.send(self.update_peer(config));
            }
            Command::RemovePeer(address, reply) => {
                let _ = reply.send(self.remove_peer(address, crate::fsm::cease::PEER_DECONFIGURED));
            }
            Command::Originate(prefix, attributes, reply) => {
                self.originate(prefix, attributes);
                let _ = reply.send(());
            }
            Command::Withdraw(prefix, reply) => {
                self.withdraw(prefix);
                let _ = reply.send(());
            }
            Command::Peers(reply) => {
                let _ = reply.send(self.statuses());
            }
            Command::LocRib(reply) => {
                let _ = reply.send(self.rib.routes());
            }
            Command::Shutdown(_) => {}
        }
    }

    async fn shutdown(&mut self) {
        for task in self.listener_tasks.drain(..) {
            task.abort();
        }
        let mut tasks = Vec::new();
        for (_, peer) in self.peers.drain() {
            let _ = peer.commands.send(PeerCommand::Stop {
                cease_subcode: crate::fsm::cease::ADMINISTRATIVE_SHUTDOWN,
            });
            tasks.push(peer.task);
        }
        let _ = tokio::time::timeout(Duration::from_secs(3), async {
            for task in tasks {
                let _ = task.await;
            }
        })
        .await;
    }

    fn statuses(&self) -> Vec<PeerStatus> {
        let mut statuses: Vec<PeerStatus> = self
            .peers
            .values()
            .map(|peer| PeerStatus {
                address: peer.config.address,
                asn: peer.config.asn,
                peer_type: peer.peer_type,
                state: peer.state,
                since: peer.since,
                prefixes_received: peer.adj_rib_in.len(),
                prefixes_advertised: peer.adj_rib_out.len(),
                last_error: peer.last_error.clone(),
                router_id: peer.router_id,
                hold_time: peer.established.as_ref().map(|e| e.negotiated.hold_time),
                local_address: peer.established.as_ref().map(|e| e.local),
                remote_address: peer.established.as_ref().map(|e| e.remote),
                messages: peer.counters.snapshot(),
            })
            .collect();
        statuses.sort_by_key(|status| status.address);
        statuses
    }
}

/// An IPv4-mapped IPv6 address as the IPv4 address it stands for.
pub fn canonical(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}
