//! The [`Speaker`] API: what the agent and the interop tests use.
//!
//! ```no_run
//! # async fn example() -> Result<(), bgp::SpeakerError> {
//! use bgp::{PeerConfig, Speaker, SpeakerConfig};
//! use bgp::packet::PathAttributes;
//!
//! let mut config = SpeakerConfig::new(64512, "198.18.0.11".parse().unwrap());
//! config.listen = vec!["198.18.0.11:179".parse().unwrap()];
//! let speaker = Speaker::start(config).await?;
//! speaker.add_peer(PeerConfig::new("198.18.0.1".parse().unwrap(), 64512)).await?;
//! speaker.originate("198.19.0.0/24".parse().unwrap(), PathAttributes::default()).await?;
//! let mut changes = speaker.subscribe();
//! while let Ok(change) = changes.recv().await {
//!     // Every equal-cost next hop, for a multipath kernel route.
//!     println!("{} -> {:?}", change.prefix, change.next_hops());
//! }
//! # Ok(()) }
//! ```
//!
//! A route reflector client with graceful restart and an export filter that keeps a pool's
//! more specifics in (Calico `BGPFilter` semantics):
//!
//! ```
//! use std::sync::Arc;
//! use bgp::filter::{Action, Filter, MatchOperator, Rule};
//! use bgp::{GracefulRestartConfig, PeerConfig};
//!
//! let only_pool = Arc::new(Filter {
//!     name: "only-pool".into(),
//!     export_v4: vec![
//!         Rule::new(Action::Accept).cidr("198.19.0.0/17".parse().unwrap(), MatchOperator::In),
//!         Rule::new(Action::Reject),
//!     ],
//!     ..Filter::default()
//! });
//! let mut client = PeerConfig::new("198.18.0.21".parse().unwrap(), 64512);
//! client.route_reflector_client = true;
//! client.graceful_restart = Some(GracefulRestartConfig::default());
//! client.filters = vec![only_pool];
//! ```
//!
//! The handle is cheap to clone and `Send + Sync`; every call goes to the speaker's core
//! task. Dropping every handle (or [`Speaker::shutdown`]) stops all sessions with NOTIFICATION
//! Cease / Administrative Shutdown; [`Speaker::shutdown_for_restart`] closes them without one.
//!
//! What the speaker does with routes:
//! - received routes pass loop checks (own AS with `allow_as_in`, ORIGINATOR_ID, CLUSTER_LIST)
//!   and the peer's import filters ([`crate::filter`]) into the Loc-RIB; the routes as received
//!   are kept per peer, so a change of only the filters is applied without a session reset;
//! - the decision process ([`crate::rib::decision`]) picks the best path per prefix and up
//!   to [`SpeakerConfig::max_paths`] equal-cost paths; [`RouteChange`] carries them all, peers
//!   get only the best;
//! - internal peers marked [`PeerConfig::route_reflector_client`] make this speaker a route
//!   reflector (RFC 4456; [`crate::rib::reflection`]);
//! - with [`PeerConfig::graceful_restart`], a peer's routes survive its restart and ours
//!   survive our own ([`SpeakerConfig::restarting`]); RFC 4724;
//! - [`PeerConfig::max_prefixes`] bounds what a peer may send (RFC 4486).

pub mod config;
pub mod error;
pub(crate) mod feed;
pub mod status;
pub mod views;

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use ipnetwork::IpNetwork;
use tokio::sync::{broadcast, mpsc, oneshot};

use crate::driver::core::{Command, Core, Inbox, PeerOperation};
use crate::driver::{listener, socket};
use crate::packet::PathAttributes;
use crate::rib::Route;

pub use config::{
    BGP_PORT, DEFAULT_MAX_SEND_QUEUE, Families, GracefulRestartConfig, MaxPrefix, PeerConfig,
    SpeakerConfig,
};
pub use error::SpeakerError;
pub use status::{MessageCounters, MessageCounts, PeerStatus, RouteChange};
pub use views::{AdvertisedRoute, ReceivedRoute};

/// How many best-route changes a subscriber may fall behind before it sees
/// [`broadcast::error::RecvError::Lagged`] (then re-read [`Speaker::loc_rib`]).
pub const ROUTE_CHANGE_CAPACITY: usize = 65_536;

/// A running BGP speaker: its sessions, its Loc-RIB, its listeners.
#[derive(Debug, Clone)]
pub struct Speaker {
    commands: mpsc::Sender<Command>,
    routes: feed::RouteFeed,
    listen: Arc<Vec<SocketAddr>>,
    asn: u32,
    router_id: Ipv4Addr,
}

impl Speaker {
    /// Open the listeners and start the speaker's tasks. Must run inside a tokio runtime.
    pub async fn start(config: SpeakerConfig) -> Result<Speaker, SpeakerError> {
        Speaker::start_with_peers(config, Vec::new()).await
    }

    /// [`Speaker::start`] with `peers` configured before the first accepted connection is
    /// looked at: a peer that connects right after the listener opens is not turned away as
    /// unknown (and left waiting out its connect-retry time) because its configuration was
    /// still on the way. On an invalid peer, nothing keeps running.
    pub async fn start_with_peers(
        config: SpeakerConfig,
        peers: Vec<PeerConfig>,
    ) -> Result<Speaker, SpeakerError> {
        let mut listeners = Vec::new();
        let mut bound = Vec::new();
        for &address in &config.listen {
            let listener = socket::listen(address)
                .map_err(|source| SpeakerError::Listen { address, source })?;
            bound.push(listener.local_addr().unwrap_or(address));
            listeners.push(Arc::new(listener));
        }
        let (commands, command_inbox) = mpsc::channel(256);
        let (events, event_inbox) = mpsc::channel(1024);
        let (accepted, accepted_inbox) = mpsc::channel(64);
        let routes = feed::RouteFeed::default();
        let listener_tasks = listeners
            .iter()
            .map(|listener| listener::spawn(listener.clone(), accepted.clone()))
            .collect();
        let mut core = Core::new(
            config.clone(),
            listeners,
            listener_tasks,
            routes.clone(),
            events,
        );
        core.add_peers(peers).await?;
        tokio::spawn(core.run(Inbox {
            commands: command_inbox,
            events: event_inbox,
            accepted: accepted_inbox,
        }));
        Ok(Speaker {
            commands,
            routes,
            listen: Arc::new(bound),
            asn: config.asn,
            router_id: config.router_id,
        })
    }

    /// The addresses actually listened on (a configured port 0 shows the chosen port).
    pub fn listen_addresses(&self) -> &[SocketAddr] {
        &self.listen
    }

    pub fn asn(&self) -> u32 {
        self.asn
    }

    pub fn router_id(&self) -> Ipv4Addr {
        self.router_id
    }

    /// Configure a peer and start its session. Fails if the address is configured already,
    /// the hold time is 1 or 2, or the kernel refuses the TCP-MD5 key.
    pub async fn add_peer(&self, peer: PeerConfig) -> Result<(), SpeakerError> {
        self.request(|reply| Command::AddPeer(peer, reply)).await?
    }

    /// Change a peer. A change restarts the session (Cease / Other Configuration Change).
    pub async fn update_peer(&self, peer: PeerConfig) -> Result<(), SpeakerError> {
        self.request(|reply| Command::UpdatePeer(peer, reply))
            .await?
    }

    /// Stop a peer's session (Cease / Peer De-configured) and forget its routes.
    pub async fn remove_peer(&self, address: IpAddr) -> Result<(), SpeakerError> {
        self.request(|reply| Command::RemovePeer(address, reply))
            .await?
    }

    /// Announce `prefix` from this speaker (replacing an earlier origination of it). ORIGIN
    /// defaults to IGP; NEXT_HOP is always this speaker; AS_PATH, LOCAL_PREF and the rest are
    /// taken from `attributes` and adjusted per peer (see [`mod@crate::rib::export`]).
    pub async fn originate(
        &self,
        prefix: IpNetwork,
        attributes: PathAttributes,
    ) -> Result<(), SpeakerError> {
        self.request(|reply| Command::Originate(prefix, attributes, reply))
            .await
    }

    /// Stop announcing `prefix`.
    pub async fn withdraw(&self, prefix: IpNetwork) -> Result<(), SpeakerError> {
        self.request(|reply| Command::Withdraw(prefix, reply)).await
    }

    /// Best-route changes from now on. Read [`Speaker::loc_rib`] after subscribing for the
    /// current table.
    pub fn subscribe(&self) -> broadcast::Receiver<RouteChange> {
        self.routes.subscribe()
    }

    /// Every peer's status, ordered by address.
    pub async fn peers(&self) -> Result<Vec<PeerStatus>, SpeakerError> {
        self.request(Command::Peers).await
    }

    /// One peer's status.
    pub async fn peer(&self, address: IpAddr) -> Result<Option<PeerStatus>, SpeakerError> {
        let address = crate::driver::core::canonical(address);
        Ok(self
            .peers()
            .await?
            .into_iter()
            .find(|status| status.address == address))
    }

    /// The Loc-RIB: every path, best flagged, in prefix order.
    pub async fn loc_rib(&self) -> Result<Vec<Route>, SpeakerError> {
        self.request(Command::LocRib).await
    }

    /// Soft reset in: ask the peer to announce its routes again (ROUTE-REFRESH for every
    /// negotiated family, RFC 2918 §3). Fails unless Established with the capability.
    pub async fn refresh_in(&self, address: IpAddr) -> Result<(), SpeakerError> {
        let address = crate::driver::core::canonical(address);
        self.request(|reply| Command::Peer(PeerOperation::RefreshIn(address, reply)))
            .await?
    }

    /// Soft reset out: announce our routes to the peer again, as on receipt of its
    /// ROUTE-REFRESH (RFC 2918 §4). Fails unless Established.
    pub async fn refresh_out(&self, address: IpAddr) -> Result<(), SpeakerError> {
        let address = crate::driver::core::canonical(address);
        self.request(|reply| Command::Peer(PeerOperation::RefreshOut(address, reply)))
            .await?
    }

    /// The routes the peer announced and still stands by, as received, in prefix order.
    pub async fn adj_rib_in(&self, address: IpAddr) -> Result<Vec<ReceivedRoute>, SpeakerError> {
        let address = crate::driver::core::canonical(address);
        self.request(|reply| Command::Peer(PeerOperation::AdjRibIn(address, reply)))
            .await?
    }

    /// The routes advertised to the peer now, as it got them, in prefix order; empty unless
    /// Established.
    pub async fn adj_rib_out(&self, address: IpAddr) -> Result<Vec<AdvertisedRoute>, SpeakerError> {
        let address = crate::driver::core::canonical(address);
        self.request(|reply| Command::Peer(PeerOperation::AdjRibOut(address, reply)))
            .await?
    }

    /// Say which next hops are unusable (the agent's view of reachability, level-triggered:
    /// the whole set each time). Paths through them are not eligible in the decision process
    /// (RFC 4271 §9.1.2.1); every prefix with such a path is decided again.
    pub async fn set_unreachable_next_hops(
        &self,
        unreachable: HashSet<IpAddr>,
    ) -> Result<(), SpeakerError> {
        self.request(|reply| Command::SetUnreachableNextHops(unreachable, reply))
            .await
    }

    /// Stop every session (Cease / Administrative Shutdown), close the listeners and wait
    /// (at most a few seconds) for the NOTIFICATIONs to leave.
    pub async fn shutdown(&self) -> Result<(), SpeakerError> {
        self.request(Command::Shutdown).await
    }

    /// Stop for a graceful restart (RFC 4724 §4.1): close every connection *without*
    /// NOTIFICATION, so peers with graceful restart keep our routes (marked stale) until we
    /// are back with [`SpeakerConfig::restarting`] and have sent End-of-RIB. Kernel routes
    /// are the agent's to keep.
    pub async fn shutdown_for_restart(&self) -> Result<(), SpeakerError> {
        self.request(Command::ShutdownForRestart).await
    }

    async fn request<T>(
        &self,
        command: impl FnOnce(oneshot::Sender<T>) -> Command,
    ) -> Result<T, SpeakerError> {
        let (reply, answer) = oneshot::channel();
        self.commands
            .send(command(reply))
            .await
            .map_err(|_| SpeakerError::ShutDown)?;
        answer.await.map_err(|_| SpeakerError::ShutDown)
    }
}
