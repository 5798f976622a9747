//! What the `tern-speaker` test daemon reads and speaks: its JSON configuration file and the
//! newline-delimited JSON requests and replies of its control socket.
//!
//! One request per line, one reply per line, in order. Every request gets exactly one reply:
//! the data asked for, `{"reply":"ok"}`, or `{"reply":"error","message":...}`.
//!
//! ```text
//! → {"request":"withdraw","prefix":"198.19.1.0/24"}
//! ← {"reply":"ok"}
//! → {"request":"peers"}
//! ← {"reply":"peers","peers":[{"address":"198.18.1.2","asn":65002,"type":"eBGP",
//!     "state":"Established",...}]}
//! ```

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use ipnetwork::IpNetwork;
use serde::{Deserialize, Serialize};

use crate::peers::{Community, PeerRoute};

use super::filter::FilterSpec;

/// The daemon's configuration file: `bgp::SpeakerConfig`, its peers and its originated routes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpeakerSpec {
    /// Our AS (4 octets).
    pub asn: u32,
    /// Our BGP identifier.
    pub router_id: Ipv4Addr,
    /// Listening addresses (e.g. `0.0.0.0:179`, `[::]:179`); empty: connect out only.
    #[serde(default)]
    pub listen: Vec<SocketAddr>,
    /// IPv4 next hop announced on IPv6 sessions.
    #[serde(default)]
    pub ipv4_next_hop: Option<Ipv4Addr>,
    /// IPv6 next hop announced on IPv4 sessions.
    #[serde(default)]
    pub ipv6_next_hop: Option<Ipv6Addr>,
    /// Peers configured at start.
    #[serde(default)]
    pub peers: Vec<PeerSpec>,
    /// Routes originated at start.
    #[serde(default)]
    pub routes: Vec<RouteSpec>,
    /// Route-reflector cluster ID (RFC 4456); `None`: the router ID.
    #[serde(default)]
    pub cluster_id: Option<Ipv4Addr>,
    /// Most equal-cost paths per prefix (`bgp::SpeakerConfig::max_paths`); `None`: the default.
    #[serde(default)]
    pub max_paths: Option<usize>,
    /// Restarting with forwarding state kept (RFC 4724 §4.1): R and F bits, selection
    /// deferred until the GR peers' End-of-RIBs.
    #[serde(default)]
    pub restarting: bool,
    /// Longest selection deferral when `restarting`, milliseconds; `None`: the default (30 s).
    #[serde(default)]
    pub selection_deferral_ms: Option<u64>,
}

impl SpeakerSpec {
    /// A speaker listening on `0.0.0.0:179` and `[::]:179`, without peers or routes.
    pub fn new(asn: u32, router_id: Ipv4Addr) -> SpeakerSpec {
        SpeakerSpec {
            asn,
            router_id,
            listen: vec![
                SocketAddr::new(Ipv4Addr::UNSPECIFIED.into(), 179),
                SocketAddr::new(Ipv6Addr::UNSPECIFIED.into(), 179),
            ],
            ipv4_next_hop: None,
            ipv6_next_hop: None,
            peers: Vec::new(),
            routes: Vec::new(),
            cluster_id: None,
            max_paths: None,
            restarting: false,
            selection_deferral_ms: None,
        }
    }

    /// Starts as a restarting speaker that waits at most `deferral` for End-of-RIBs.
    pub fn restarting(mut self, deferral: std::time::Duration) -> SpeakerSpec {
        self.restarting = true;
        self.selection_deferral_ms = Some(u64::try_from(deferral.as_millis()).unwrap_or(u64::MAX));
        self
    }

    /// Sets the route-reflector cluster ID.
    pub fn cluster_id(mut self, cluster_id: Ipv4Addr) -> SpeakerSpec {
        self.cluster_id = Some(cluster_id);
        self
    }

    /// Adds a peer.
    pub fn peer(mut self, peer: PeerSpec) -> SpeakerSpec {
        self.peers.push(peer);
        self
    }

    /// Adds an originated route.
    pub fn route(mut self, route: RouteSpec) -> SpeakerSpec {
        self.routes.push(route);
        self
    }
}

/// One peer: every field of `bgp::PeerConfig`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeerSpec {
    /// The peer's address.
    pub address: IpAddr,
    /// The peer's AS.
    pub asn: u32,
    /// The peer's TCP port.
    #[serde(default = "default_port")]
    pub port: u16,
    /// Our source address (also our next hop on the session).
    #[serde(default)]
    pub local_address: Option<IpAddr>,
    /// Wait for the peer to connect.
    #[serde(default)]
    pub passive: bool,
    /// TCP-MD5 password (RFC 2385).
    #[serde(default)]
    pub password: Option<String>,
    /// GTSM (RFC 5082): the peer is at most this many hops away.
    #[serde(default)]
    pub ttl_security: Option<u8>,
    /// Outgoing TTL when GTSM is off (eBGP multihop).
    #[serde(default)]
    pub ttl: Option<u8>,
    /// Hold time we propose, seconds.
    #[serde(default = "default_hold_time")]
    pub hold_time: u16,
    /// Time between connection attempts, milliseconds.
    #[serde(default = "default_connect_retry_ms")]
    pub connect_retry_ms: u64,
    /// Offer IPv4 unicast.
    #[serde(default = "default_true")]
    pub ipv4: bool,
    /// Offer IPv6 unicast.
    #[serde(default = "default_true")]
    pub ipv6: bool,
    /// Keep the received next hop towards external peers.
    #[serde(default)]
    pub keep_original_next_hop: bool,
    /// The peer is a route-reflector client of ours (RFC 4456).
    #[serde(default)]
    pub route_reflector_client: bool,
    /// Our address as next hop on every route sent to this internal peer.
    #[serde(default)]
    pub next_hop_self: bool,
    /// Times our own AS may appear in a received AS_PATH.
    #[serde(default)]
    pub allow_as_in: u8,
    /// Graceful restart (RFC 4724) with this restart time in seconds; `None`: off.
    #[serde(default)]
    pub graceful_restart_time: Option<u16>,
    /// Prefix limit (RFC 4486 Cease/1).
    #[serde(default)]
    pub max_prefixes: Option<MaxPrefixSpec>,
    /// Import and export filters, in order.
    #[serde(default)]
    pub filters: Vec<FilterSpec>,
}

/// `bgp::MaxPrefix`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MaxPrefixSpec {
    /// More accepted prefixes than this in one family close the session.
    pub limit: u32,
    /// Warn at this percentage of the limit.
    #[serde(default)]
    pub warning_threshold_percent: u8,
    /// Start again after this long (milliseconds); `None`: stay down.
    #[serde(default)]
    pub restart_after_ms: Option<u64>,
}

fn default_port() -> u16 {
    179
}

fn default_hold_time() -> u16 {
    90
}

fn default_connect_retry_ms() -> u64 {
    1000
}

fn default_true() -> bool {
    true
}

impl PeerSpec {
    /// A peer with defaults: port 179, active, hold time 90 s, connect retry 1 s (tests want
    /// quick retries), both families.
    pub fn new(address: IpAddr, asn: u32) -> PeerSpec {
        PeerSpec {
            address,
            asn,
            port: default_port(),
            local_address: None,
            passive: false,
            password: None,
            ttl_security: None,
            ttl: None,
            hold_time: default_hold_time(),
            connect_retry_ms: default_connect_retry_ms(),
            ipv4: true,
            ipv6: true,
            keep_original_next_hop: false,
            route_reflector_client: false,
            next_hop_self: false,
            allow_as_in: 0,
            graceful_restart_time: None,
            max_prefixes: None,
            filters: Vec::new(),
        }
    }

    /// Graceful restart with this restart time (seconds).
    pub fn graceful_restart(mut self, restart_time: u16) -> PeerSpec {
        self.graceful_restart_time = Some(restart_time);
        self
    }

    /// Closes the session (Cease/1) when the peer sends more than `limit` prefixes in a
    /// family; no warning threshold, no automatic restart.
    pub fn max_prefixes(mut self, limit: u32) -> PeerSpec {
        self.max_prefixes = Some(MaxPrefixSpec {
            limit,
            warning_threshold_percent: 0,
            restart_after_ms: None,
        });
        self
    }

    /// Adds a filter.
    pub fn filter(mut self, filter: FilterSpec) -> PeerSpec {
        self.filters.push(filter);
        self
    }

    /// Makes the peer a route-reflector client of ours.
    pub fn route_reflector_client(mut self) -> PeerSpec {
        self.route_reflector_client = true;
        self
    }

    /// Sets the source address.
    pub fn local_address(mut self, address: IpAddr) -> PeerSpec {
        self.local_address = Some(address);
        self
    }

    /// Offers only these families.
    pub fn families(mut self, ipv4: bool, ipv6: bool) -> PeerSpec {
        self.ipv4 = ipv4;
        self.ipv6 = ipv6;
        self
    }

    /// Uses TCP-MD5 with this password.
    pub fn password(mut self, password: &str) -> PeerSpec {
        self.password = Some(password.to_string());
        self
    }

    /// GTSM allowing `hops` hops.
    pub fn ttl_security(mut self, hops: u8) -> PeerSpec {
        self.ttl_security = Some(hops);
        self
    }

    /// Sends with this TTL (multihop).
    pub fn ttl(mut self, ttl: u8) -> PeerSpec {
        self.ttl = Some(ttl);
        self
    }

    /// Proposes this hold time.
    pub fn hold_time(mut self, seconds: u16) -> PeerSpec {
        self.hold_time = seconds;
        self
    }

    /// Never connects out.
    pub fn passive(mut self) -> PeerSpec {
        self.passive = true;
        self
    }
}

/// A route tern originates, with optional attributes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteSpec {
    /// The prefix.
    pub prefix: IpNetwork,
    /// Standard communities (RFC 1997) as `[high, low]`.
    #[serde(default)]
    pub communities: Vec<Community>,
    /// MULTI_EXIT_DISC.
    #[serde(default)]
    pub med: Option<u32>,
    /// LOCAL_PREF (sent to internal peers only).
    #[serde(default)]
    pub local_pref: Option<u32>,
    /// AS numbers to start the AS_PATH with (one AS_SEQUENCE); empty: none.
    #[serde(default)]
    pub as_path: Vec<u32>,
}

impl RouteSpec {
    /// A route without attributes.
    pub fn new(prefix: IpNetwork) -> RouteSpec {
        RouteSpec {
            prefix,
            communities: Vec::new(),
            med: None,
            local_pref: None,
            as_path: Vec::new(),
        }
    }

    /// Adds a community.
    pub fn community(mut self, high: u16, low: u16) -> RouteSpec {
        self.communities.push((high, low));
        self
    }

    /// Sets the MED.
    pub fn med(mut self, med: u32) -> RouteSpec {
        self.med = Some(med);
        self
    }

    /// Starts the AS_PATH with these ASes.
    pub fn as_path(mut self, as_path: &[u32]) -> RouteSpec {
        self.as_path = as_path.to_vec();
        self
    }
}

/// A control request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "request", rename_all = "snake_case")]
pub enum Request {
    /// The Loc-RIB.
    Rib,
    /// Every peer's status.
    Peers,
    /// Originate (or replace) a route.
    Originate {
        /// The route.
        route: RouteSpec,
    },
    /// Stop originating a prefix.
    Withdraw {
        /// The prefix.
        prefix: IpNetwork,
    },
    /// Configure a peer and start its session.
    AddPeer {
        /// The peer.
        peer: PeerSpec,
    },
    /// Change a peer (`bgp::Speaker::update_peer`: only new filters keep the session up).
    UpdatePeer {
        /// The peer's new configuration.
        peer: PeerSpec,
    },
    /// Stop a peer's session and forget it.
    RemovePeer {
        /// The peer's address.
        address: IpAddr,
    },
    /// Stop every session and exit.
    Shutdown,
    /// Close every session without NOTIFICATION (graceful restart, RFC 4724 §4.1) and exit.
    ShutdownForRestart,
}

/// A control reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reply", rename_all = "snake_case")]
pub enum Reply {
    /// Done.
    Ok,
    /// The request failed.
    Error {
        /// Why.
        message: String,
    },
    /// The Loc-RIB.
    Rib {
        /// Every path, in prefix order.
        routes: Vec<RibEntry>,
    },
    /// Peer statuses.
    Peers {
        /// Ordered by address.
        peers: Vec<PeerEntry>,
    },
}

/// One Loc-RIB path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RibEntry {
    /// The prefix.
    pub prefix: IpNetwork,
    /// The next hop as received; `None` for our own routes.
    pub next_hop: Option<IpAddr>,
    /// AS numbers of the AS_PATH in order.
    pub as_path: Vec<u32>,
    /// LOCAL_PREF, when present.
    pub local_pref: Option<u32>,
    /// MULTI_EXIT_DISC, when present.
    pub med: Option<u32>,
    /// Standard communities, sorted.
    pub communities: Vec<Community>,
    /// The peer it was learned from; `None` for our own routes.
    pub from: Option<IpAddr>,
    /// Chosen as best.
    pub best: bool,
    /// One of the equal-cost paths selected with the best (the best included).
    #[serde(default)]
    pub multipath: bool,
    /// Kept from a restarting peer (RFC 4724 §4.2).
    #[serde(default)]
    pub stale: bool,
    /// ORIGINATOR_ID (RFC 4456).
    #[serde(default)]
    pub originator_id: Option<Ipv4Addr>,
    /// CLUSTER_LIST (RFC 4456), in order.
    #[serde(default)]
    pub cluster_list: Vec<Ipv4Addr>,
}

impl RibEntry {
    /// The harness's normalized view of a learned path (`None` for our own routes), so
    /// assertions read the same for tern and for the peer routers.
    pub fn to_peer_route(&self) -> Option<PeerRoute> {
        Some(PeerRoute {
            prefix: self.prefix,
            next_hop: self.next_hop?,
            as_path: self.as_path.clone(),
            local_pref: self.local_pref,
            med: self.med,
            communities: self.communities.clone(),
            originator_id: self.originator_id,
            cluster_list: self.cluster_list.clone(),
            stale: self.stale,
            best: self.best,
            from: self.from,
        })
    }
}

/// One peer's status (the shape of `ternctl node status`, plus the negotiated hold time).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerEntry {
    /// The peer's address.
    pub address: IpAddr,
    /// The peer's AS.
    pub asn: u32,
    /// `iBGP` or `eBGP`.
    #[serde(rename = "type")]
    pub peer_type: String,
    /// RFC 4271 state name.
    pub state: String,
    /// When the session entered `state`, milliseconds since the Unix epoch.
    pub since_unix_ms: u64,
    /// Prefixes accepted from the peer.
    pub prefixes_received: usize,
    /// Of those, kept stale while the peer restarts (RFC 4724).
    #[serde(default)]
    pub prefixes_stale: usize,
    /// Prefixes advertised to the peer.
    pub prefixes_advertised: usize,
    /// Why the session last went down or was refused.
    pub last_error: Option<String>,
    /// Negotiated hold time while Established, seconds.
    pub hold_time: Option<u16>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_tagged_snake_case_lines() {
        let request = Request::Withdraw {
            prefix: "198.19.1.0/24".parse().expect("prefix"),
        };
        let line = serde_json::to_string(&request).expect("encode");
        assert_eq!(line, r#"{"request":"withdraw","prefix":"198.19.1.0/24"}"#);
        assert_eq!(
            serde_json::from_str::<Request>(r#"{"request":"rib"}"#).expect("decode"),
            Request::Rib
        );
    }

    #[test]
    fn a_minimal_config_gets_defaults() {
        let spec: SpeakerSpec = serde_json::from_str(
            r#"{"asn":65001,"router_id":"198.18.1.1",
                "peers":[{"address":"198.18.1.2","asn":65002}],
                "routes":[{"prefix":"198.19.1.0/24","communities":[[65001,4]]}]}"#,
        )
        .expect("decode");
        assert_eq!(
            spec.peers[0],
            PeerSpec::new("198.18.1.2".parse().expect("ip"), 65002)
        );
        assert_eq!(spec.routes[0].communities, vec![(65001, 4)]);
        assert!(spec.listen.is_empty());
    }

    #[test]
    fn unknown_config_fields_are_refused() {
        let result =
            serde_json::from_str::<PeerSpec>(r#"{"address":"198.18.1.2","asn":65002,"hold":3}"#);
        assert!(result.is_err());
    }
}
