//! The speaker's core task: it owns the Loc-RIB and the peer table. Commands from the
//! [`crate::Speaker`] handle, events from session tasks and accepted connections all arrive
//! here, one at a time, so nothing needs a lock.
//!
//! The core never waits on a session task (it sends to them on unbounded channels); session
//! tasks wait on the core (bounded channel), which gives backpressure from a busy core.
//!
//! - `peers`: adding, changing, removing peers; events from session tasks;
//! - `import`: UPDATEs through loop checks and import filters into Adj-RIB-In and Loc-RIB;
//! - `advertise`: route changes out to subscribers and peers (Adj-RIB-Out derived, not kept);
//! - `groups`: peers with the same export share one export, packing and encoding of each
//!   batch of changes (update groups, [`crate::rib::update_group`]);
//! - `routes`: local origination;
//! - `graceful_restart`: RFC 4724 helper and restarting-speaker behaviour;
//! - `max_prefix`: the per-peer prefix limit (RFC 4486).
//!
//! UPDATEs already waiting are imported together and their net change advertised once per
//! batch (at most `EVENT_BATCH` events or `CHANGE_BATCH` changes); any other event or command
//! first advertises what is pending.
//!
//! The core's own timers (graceful restart, selection deferral, max-prefix restart) are
//! deadlines in a [`Timers`] it sleeps on between messages.

mod advertise;
mod graceful_restart;
mod groups;
mod import;
mod max_prefix;
mod operations;
mod peers;
mod routes;

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use ipnetwork::IpNetwork;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio::time::{Instant, sleep_until};
use tracing::debug;

use crate::fsm::{Negotiated, State};
use crate::packet::{Afi, PathAttributes, Safi};
use crate::rib::{
    AdjRibIn, AttributeInterner, BestChange, ExportContext, GroupKey, LocRib, PeerType, Route,
    RouteSource,
};
use crate::speaker::feed::RouteFeed;
use crate::speaker::status::SharedCounters;
use crate::speaker::{PeerConfig, PeerStatus, SpeakerConfig, SpeakerError};

use super::listener::Accepted;
use super::peer::{PeerCommand, PeerEventEnvelope};
use super::timers::Timers;
pub use operations::PeerOperation;

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
    SetUnreachableNextHops(HashSet<IpAddr>, oneshot::Sender<()>),
    Shutdown(oneshot::Sender<()>),
    /// Close every session without NOTIFICATION (graceful restart of this speaker).
    ShutdownForRestart(oneshot::Sender<()>),
    /// Soft reset and per-peer views.
    Peer(PeerOperation),
}

/// The core's own timers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CoreTimer {
    /// A restarting peer did not come back within its restart time (RFC 4724 §4.2).
    PeerRestart(IpAddr),
    /// A peer that came back did not finish its End-of-RIBs in time.
    StaleRoutes(IpAddr),
    /// Our own restart: stop waiting for End-of-RIBs (RFC 4724 §4.1).
    SelectionDeferral,
    /// Start a session stopped for too many prefixes again.
    MaxPrefixRestart(IpAddr),
}

/// The session of a peer while it is Established.
#[derive(Debug)]
struct Established {
    /// The update group ([`Core::groups`]) of the session.
    group: usize,
    epoch: u64,
    negotiated: Negotiated,
    local: SocketAddr,
    remote: SocketAddr,
    export: ExportContext,
    /// Families whose End-of-RIB the peer has sent.
    end_of_rib: HashSet<(Afi, Safi)>,
    /// How far the initial table has gone out.
    table: TableState,
}

/// The initial table of a session goes out in chunks, each after the previous one is written
/// (so ten peers joining at once do not queue ten whole tables in memory).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TableState {
    /// Not started (our own restart defers it).
    NotSent,
    /// Sent up to and including this prefix (`None`: nothing yet); changes to later prefixes
    /// wait for the walk to reach them.
    Walking { after: Option<IpNetwork> },
    /// All sent, End-of-RIB included.
    Sent,
}

impl TableState {
    /// Whether the peer has been sent (the then best path of) `prefix`.
    fn covers(&self, prefix: &IpNetwork) -> bool {
        match self {
            TableState::NotSent => false,
            TableState::Walking { after } => after.is_some_and(|after| *prefix <= after),
            TableState::Sent => true,
        }
    }
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
    /// Routes received from the peer, before import filters; the accepted ones are in the
    /// Loc-RIB.
    adj_rib_in: AdjRibIn,
    /// Prefixes advertised to the peer (what they are is derived from the Loc-RIB).
    advertised: usize,
    /// Families whose routes are kept stale while the peer restarts (RFC 4724 §4.2).
    stale_families: Vec<(Afi, Safi)>,
    /// Warned about approaching the prefix limit.
    max_prefix_warned: bool,
    /// Stopped for too many prefixes; updates still queued are ignored.
    halted: bool,
}

impl Peer {
    /// How paths learned from this peer are tagged.
    fn source(&self, router_id: Ipv4Addr) -> RouteSource {
        RouteSource::Peer {
            address: self.config.address,
            router_id,
            peer_type: self.peer_type,
            reflector_client: self.config.route_reflector_client,
        }
    }
}

/// The core's state.
pub struct Core {
    config: SpeakerConfig,
    rib: LocRib,
    peers: HashMap<IpAddr, Peer>,
    listeners: Vec<Arc<TcpListener>>,
    listener_tasks: Vec<JoinHandle<()>>,
    routes: RouteFeed,
    events: mpsc::Sender<PeerEventEnvelope>,
    next_instance: u64,
    timers: Timers<CoreTimer>,
    /// Received and filtered attribute sets, shared across UPDATEs and peers.
    interner: AttributeInterner,
    /// While we restart: the GR peers whose End-of-RIB we still wait for before selecting
    /// and advertising (RFC 4724 §4.1). `None` when not deferring.
    deferral: Option<graceful_restart::Deferral>,
    /// Loc-RIB changes of the UPDATEs of the current batch, not advertised yet; every
    /// [`Core::propagate`] sends them first, and each batch of events ends with one.
    pending: Vec<BestChange>,
    /// Update groups by number (never removed: few, and small).
    groups: Vec<GroupKey>,
}

/// Most peer events handled before the changes they caused are advertised.
const EVENT_BATCH: usize = 256;
/// Advertise once this many Loc-RIB changes are pending.
const CHANGE_BATCH: usize = 16 * 1024;

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
        routes: RouteFeed,
        events: mpsc::Sender<PeerEventEnvelope>,
    ) -> Self {
        let mut timers = Timers::default();
        let deferral = config.restarting.then(|| {
            timers.arm(CoreTimer::SelectionDeferral, config.selection_deferral);
            graceful_restart::Deferral::default()
        });
        Self {
            rib: LocRib::with(config.asn, config.max_paths),
            config,
            peers: HashMap::new(),
            listeners,
            listener_tasks,
            routes,
            events,
            next_instance: 1,
            timers,
            interner: AttributeInterner::new(),
            deferral,
            pending: Vec::new(),
            groups: Vec::new(),
        }
    }

    /// Run until shut down (or until every [`crate::Speaker`] handle is dropped).
    /// Configure `peers` before [`Core::run`]; on the first invalid one, stop everything
    /// started so far (listeners, peer tasks) and return its error.
    pub async fn add_peers(&mut self, peers: Vec<PeerConfig>) -> Result<(), SpeakerError> {
        for peer in peers {
            if let Err(error) = self.add_peer(peer) {
                self.shutdown(false).await;
                return Err(error);
            }
        }
        Ok(())
    }

    pub async fn run(mut self, mut inbox: Inbox) {
        loop {
            let next = self.timers.next();
            tokio::select! {
                command = inbox.commands.recv() => match command {
                    None => {
                        self.shutdown(true).await;
                        return;
                    }
                    Some(Command::Shutdown(reply)) => {
                        self.shutdown(true).await;
                        let _ = reply.send(());
                        return;
                    }
                    Some(Command::ShutdownForRestart(reply)) => {
                        self.shutdown(false).await;
                        let _ = reply.send(());
                        return;
                    }
                    Some(command) => self.command(command),
                },
                () = sleep_until(next.unwrap_or_else(Instant::now)), if next.is_some() => {
                    for timer in self.timers.take_expired(Instant::now()) {
                        self.timer_expired(timer);
                    }
                }
                Some(envelope) = inbox.events.recv() => {
                    // Take what else is already waiting, then advertise the net change once:
                    // one export, packing and write per batch instead of per UPDATE.
                    self.peer_event(envelope);
                    for _ in 1..EVENT_BATCH {
                        let Ok(envelope) = inbox.events.try_recv() else {
                            break;
                        };
                        self.peer_event(envelope);
                        if self.pending.len() >= CHANGE_BATCH {
                            break;
                        }
                    }
                    self.propagate(Vec::new());
                }
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
        self.propagate(Vec::new());
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
            Command::SetUnreachableNextHops(unreachable, reply) => {
                let changes = self.rib.set_unreachable(unreachable);
                self.propagate(changes);
                let _ = reply.send(());
            }
            Command::Peer(operation) => self.peer_operation(operation),
            Command::Shutdown(_) | Command::ShutdownForRestart(_) => {}
        }
    }

    fn timer_expired(&mut self, timer: CoreTimer) {
        self.propagate(Vec::new());
        match timer {
            CoreTimer::PeerRestart(address) | CoreTimer::StaleRoutes(address) => {
                self.restart_time_over(address);
            }
            CoreTimer::SelectionDeferral => self.end_deferral(),
            CoreTimer::MaxPrefixRestart(address) => self.restart_halted(address),
        }
    }

    /// Stop every session: with NOTIFICATION Cease / Administrative Shutdown when `notify`,
    /// else by closing the connections (peers with graceful restart keep our routes).
    async fn shutdown(&mut self, notify: bool) {
        for task in self.listener_tasks.drain(..) {
            task.abort();
        }
        let mut tasks = Vec::new();
        for (_, peer) in self.peers.drain() {
            let command = if notify {
                PeerCommand::Stop {
                    cease_subcode: crate::fsm::cease::ADMINISTRATIVE_SHUTDOWN,
                }
            } else {
                PeerCommand::Abort
            };
            let _ = peer.commands.send(command);
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
                prefixes_received: peer.adj_rib_in.accepted(),
                prefixes_stale: peer.adj_rib_in.stale(),
                prefixes_advertised: peer.advertised,
                last_error: peer.last_error.clone(),
                router_id: peer.router_id,
                hold_time: peer.established.as_ref().map(|e| e.negotiated.hold_time),
                local_address: peer.established.as_ref().map(|e| e.local),
                remote_address: peer.established.as_ref().map(|e| e.remote),
                capabilities: peer
                    .established
                    .as_ref()
                    .map(|e| e.negotiated.capability_names())
                    .unwrap_or_default(),
                messages: peer.counters.snapshot(),
                send_queue_bytes: peer.counters.send_queue_bytes(),
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
