//! Configuration of the speaker and of each peer.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use crate::filter::Filter;
use crate::fsm::config::{DEFAULT_CONNECT_RETRY, DEFAULT_HOLD_TIME};
use crate::packet::{Afi, Safi};
use crate::rib::DEFAULT_MAX_PATHS;

/// How long a restarting speaker waits for its peers' End-of-RIB before it selects and
/// advertises routes anyway (RFC 4724 §4.1 Selection_Deferral_Timer).
pub const DEFAULT_SELECTION_DEFERRAL: Duration = Duration::from_secs(30);
/// Restart time we advertise in the Graceful Restart capability by default (seconds, the
/// value BIRD and FRR use).
pub const DEFAULT_RESTART_TIME: Duration = Duration::from_secs(120);

/// The well-known BGP port. RFC 4271 §8.2.1.
pub const BGP_PORT: u16 = 179;

/// Default [`PeerConfig::max_send_queue`]: 64 MiB, far more than route churn leaves waiting
/// for a peer that reads.
pub const DEFAULT_MAX_SEND_QUEUE: usize = 64 * 1024 * 1024;

/// The speaker as a whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpeakerConfig {
    /// Our AS number (4 octets).
    pub asn: u32,
    /// Our BGP identifier. RFC 4271 §4.2, RFC 6286.
    pub router_id: Ipv4Addr,
    /// Where to accept connections, e.g. `0.0.0.0:179` and `[::]:179` (IPv6 listeners are
    /// IPv6-only, so list both for dual stack). Empty: do not listen; only connect out.
    pub listen: Vec<SocketAddr>,
    /// IPv4 next hop to announce on sessions whose transport is IPv6 (the local address is
    /// used on IPv4 sessions). Without it, IPv4 routes are not sent over IPv6 sessions.
    pub ipv4_next_hop: Option<Ipv4Addr>,
    /// IPv6 next hop to announce on sessions whose transport is IPv4. Without it, IPv6 routes
    /// are not sent over IPv4 sessions.
    pub ipv6_next_hop: Option<Ipv6Addr>,
    /// Most equal-cost paths selected per prefix for installation (default 8; 1 turns
    /// multipath off). Peers are only ever sent the single best path. See
    /// [`crate::rib::decision`].
    pub max_paths: usize,
    /// Route reflector cluster ID (RFC 4456 §7; Calico `routeReflectorClusterID`). `None`:
    /// our router ID.
    pub cluster_id: Option<Ipv4Addr>,
    /// We are restarting with forwarding state preserved (the agent kept its kernel routes;
    /// it knows from a state file). Graceful Restart capabilities then carry the R and F bits,
    /// and route selection and advertisement wait for the End-of-RIB of every peer with
    /// graceful restart, at most [`SpeakerConfig::selection_deferral`]. RFC 4724 §4.1.
    /// Peers are added after start, so the wait ends early only once some GR peer was added
    /// and all of them are done; without any GR peer it lasts the whole deferral time.
    pub restarting: bool,
    /// Longest wait for End-of-RIBs when `restarting` (default 30 s).
    pub selection_deferral: Duration,
}

impl SpeakerConfig {
    /// A speaker listening on `0.0.0.0:179` and `[::]:179`.
    pub fn new(asn: u32, router_id: Ipv4Addr) -> Self {
        Self {
            asn,
            router_id,
            listen: vec![
                SocketAddr::new(Ipv4Addr::UNSPECIFIED.into(), BGP_PORT),
                SocketAddr::new(Ipv6Addr::UNSPECIFIED.into(), BGP_PORT),
            ],
            ipv4_next_hop: None,
            ipv6_next_hop: None,
            max_paths: DEFAULT_MAX_PATHS,
            cluster_id: None,
            restarting: false,
            selection_deferral: DEFAULT_SELECTION_DEFERRAL,
        }
    }

    /// The cluster ID in use: the configured one or the router ID.
    pub fn cluster_id(&self) -> Ipv4Addr {
        self.cluster_id.unwrap_or(self.router_id)
    }
}

/// Graceful restart with a peer (RFC 4724), both roles: we keep its routes while it
/// restarts, and it keeps ours while we do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GracefulRestartConfig {
    /// The restart time we advertise: how long the peer should keep our routes after our
    /// session drops (whole seconds, at most 4095; Calico `maxRestartTime`).
    pub restart_time: Duration,
}

impl Default for GracefulRestartConfig {
    fn default() -> Self {
        Self {
            restart_time: DEFAULT_RESTART_TIME,
        }
    }
}

/// A limit on the prefixes accepted from a peer, per family (RFC 4486 §4, Cease subcode 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MaxPrefix {
    /// More accepted prefixes than this in one family close the session with NOTIFICATION
    /// Cease / Maximum Number of Prefixes Reached (data: AFI, SAFI, limit).
    pub limit: u32,
    /// Log a warning when this percentage of the limit is reached (e.g. 75).
    pub warning_threshold_percent: u8,
    /// Start the session again after this long; `None`: stay down until reconfigured.
    pub restart_after: Option<Duration>,
}

/// Address families a session carries (Multiprotocol capability, RFC 4760).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Families {
    /// IPv4 unicast (classic NLRI).
    pub ipv4: bool,
    /// IPv6 unicast (MP_REACH_NLRI / MP_UNREACH_NLRI).
    pub ipv6: bool,
}

impl Default for Families {
    fn default() -> Self {
        Self {
            ipv4: true,
            ipv6: true,
        }
    }
}

impl Families {
    /// As (AFI, SAFI) pairs.
    pub fn to_vec(self) -> Vec<(Afi, Safi)> {
        let mut families = Vec::new();
        if self.ipv4 {
            families.push((Afi::Ipv4, Safi::Unicast));
        }
        if self.ipv6 {
            families.push((Afi::Ipv6, Safi::Unicast));
        }
        families
    }
}

/// One peer (neighbor). Field names follow Calico's BGPPeer where it has them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerConfig {
    /// The peer's address (`peerIP`); incoming connections are matched on it.
    pub address: IpAddr,
    /// The peer's AS (`asNumber`). Equal to ours: iBGP; else eBGP.
    pub asn: u32,
    /// The peer's TCP port (default 179).
    pub port: u16,
    /// Source address for our connections (`sourceAddress`); also our next hop on this
    /// session. `None`: chosen by the kernel.
    pub local_address: Option<IpAddr>,
    /// Never connect; wait for the peer to connect.
    pub passive: bool,
    /// TCP-MD5 password (RFC 2385; `password.secretKeyRef`), at most 80 bytes.
    pub password: Option<String>,
    /// GTSM (RFC 5082; `ttlSecurity`): the peer is at most this many hops away; we send with
    /// TTL 255 and drop packets below 256 - hops.
    pub ttl_security: Option<u8>,
    /// TTL to send with when GTSM is off (eBGP multihop). `None`: 1 for eBGP (directly
    /// connected, like routers by default), the system default (64) for iBGP.
    pub ttl: Option<u8>,
    /// Hold time we propose, seconds: 0 or at least 3 (default 90). The session uses the
    /// smaller of both sides' values; keepalives go every third of it.
    pub hold_time: u16,
    /// Time between connection attempts (default 5 s).
    pub connect_retry: Duration,
    /// Families offered.
    pub families: Families,
    /// Keep the received next hop when passing learned routes to this (external) peer
    /// (`keepOriginalNextHop`).
    pub keep_original_next_hop: bool,
    /// Set our address as next hop for every route sent to this internal peer, reflected and
    /// eBGP-learned ones too (by default they keep theirs, RFC 4271 §5.1.3, RFC 4456 §10).
    pub next_hop_self: bool,
    /// The peer is our route reflector client (RFC 4456; Calico: the peer's cluster ID).
    pub route_reflector_client: bool,
    /// How many times our own AS may appear in the AS_PATH of a received route (Calico
    /// `numAllowedLocalASNumbers`; 0: routes with our AS are loops and ignored).
    pub allow_as_in: u8,
    /// Import and export filters, in order (Calico `filters`). See [`crate::filter`]. A change
    /// of only the filters is applied without restarting the session.
    pub filters: Vec<Arc<Filter>>,
    /// Offer graceful restart (RFC 4724). `None`: the capability is not sent and the peer's
    /// routes go as soon as its session does.
    pub graceful_restart: Option<GracefulRestartConfig>,
    /// Limit on the prefixes accepted from the peer.
    pub max_prefixes: Option<MaxPrefix>,
    /// Most bytes of UPDATEs queued for the peer and not yet written to its socket (default
    /// [`DEFAULT_MAX_SEND_QUEUE`], 64 MiB). A peer that keeps its session alive but reads
    /// slower than routes change would otherwise make the queue, and our memory, grow without
    /// bound; past the limit the session is closed with NOTIFICATION Cease / Out of Resources
    /// (RFC 4486 subcode 8), the queue is dropped and the session restarts as after any error.
    /// Whole-table transfers are paced by what the peer reads: they add at most one chunk of
    /// 2048 prefixes at a time (up to 8 MiB of UPDATEs when no two prefixes share attributes),
    /// so keep the limit well above that.
    pub max_send_queue: usize,
}

impl PeerConfig {
    /// A peer with defaults: port 179, active, no password, no GTSM, hold time 90 s, connect
    /// retry 5 s, IPv4 and IPv6 unicast, no filters, no reflection, no graceful restart, no
    /// prefix limit.
    pub fn new(address: IpAddr, asn: u32) -> Self {
        Self {
            address,
            asn,
            port: BGP_PORT,
            local_address: None,
            passive: false,
            password: None,
            ttl_security: None,
            ttl: None,
            hold_time: DEFAULT_HOLD_TIME,
            connect_retry: DEFAULT_CONNECT_RETRY,
            families: Families::default(),
            keep_original_next_hop: false,
            next_hop_self: false,
            route_reflector_client: false,
            allow_as_in: 0,
            filters: Vec::new(),
            graceful_restart: None,
            max_prefixes: None,
            max_send_queue: DEFAULT_MAX_SEND_QUEUE,
        }
    }

    /// The peer's socket address.
    pub fn socket_address(&self) -> SocketAddr {
        SocketAddr::new(self.address, self.port)
    }
}
