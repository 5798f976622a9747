//! What a peer router is told to be: one [`PeerConfig`] rendered by every driver into its own
//! config language, so a test can swap BIRD for FRR without rewriting its topology.

use std::net::{IpAddr, Ipv4Addr};

use ipnetwork::IpNetwork;

/// A standard community `high:low` (RFC 1997).
pub type Community = (u16, u16);

/// How the TTL of the session's packets is handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Ttl {
    /// Directly connected eBGP (TTL 1) or the router's default for iBGP.
    #[default]
    Default,
    /// eBGP multihop: send with this TTL (`ebgp-multihop N`).
    Multihop(u8),
    /// GTSM (RFC 5082): send with TTL 255 and accept only packets that crossed at most `hops`
    /// hops (minimum incoming TTL 256 - hops).
    Security {
        /// Allowed hop count (1 = directly connected).
        hops: u8,
    },
}

/// One BGP neighbor of a peer router.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Neighbor {
    /// The neighbor's address.
    pub address: IpAddr,
    /// The neighbor's AS.
    pub remote_as: u32,
    /// Source address of the session (drivers that need one look it up when absent).
    pub local_address: Option<IpAddr>,
    /// Never open the connection; wait for the neighbor.
    pub passive: bool,
    /// TCP-MD5 password (RFC 2385).
    pub md5_password: Option<String>,
    /// Multihop / GTSM.
    pub ttl: Ttl,
    /// Negotiate IPv4 unicast.
    pub ipv4_unicast: bool,
    /// Negotiate IPv6 unicast.
    pub ipv6_unicast: bool,
    /// Rewrite the next hop to our own address on export.
    pub next_hop_self: bool,
    /// Treat this iBGP neighbor as a route-reflector client (RFC 4456).
    pub route_reflector_client: bool,
    /// Advertise the graceful-restart capability (RFC 4724).
    pub graceful_restart: bool,
    /// Do not advertise the 4-octet AS capability (RFC 6793); GoBGP and ExaBGP only.
    pub disable_four_octet_as: bool,
    /// Hold time in seconds (keepalive = hold / 3); the router default when `None`.
    pub hold_time: Option<u16>,
}

impl Neighbor {
    /// A neighbor with defaults: active, no password, default TTL, the address family of
    /// `address` only, no next-hop-self, not an RR client, graceful restart off.
    pub fn new(address: IpAddr, remote_as: u32) -> Neighbor {
        Neighbor {
            address,
            remote_as,
            local_address: None,
            passive: false,
            md5_password: None,
            ttl: Ttl::Default,
            ipv4_unicast: address.is_ipv4(),
            ipv6_unicast: address.is_ipv6(),
            next_hop_self: false,
            route_reflector_client: false,
            graceful_restart: false,
            disable_four_octet_as: false,
            hold_time: None,
        }
    }

    /// Sets the session's source address.
    pub fn local_address(mut self, address: IpAddr) -> Self {
        self.local_address = Some(address);
        self
    }

    /// Waits for the neighbor to connect.
    pub fn passive(mut self) -> Self {
        self.passive = true;
        self
    }

    /// Uses TCP-MD5 with this password.
    pub fn md5(mut self, password: &str) -> Self {
        self.md5_password = Some(password.to_string());
        self
    }

    /// eBGP multihop with this TTL.
    pub fn multihop(mut self, ttl: u8) -> Self {
        self.ttl = Ttl::Multihop(ttl);
        self
    }

    /// GTSM allowing `hops` hops.
    pub fn ttl_security(mut self, hops: u8) -> Self {
        self.ttl = Ttl::Security { hops };
        self
    }

    /// Chooses the address families.
    pub fn families(mut self, ipv4_unicast: bool, ipv6_unicast: bool) -> Self {
        self.ipv4_unicast = ipv4_unicast;
        self.ipv6_unicast = ipv6_unicast;
        self
    }

    /// Sets next-hop-self.
    pub fn next_hop_self(mut self) -> Self {
        self.next_hop_self = true;
        self
    }

    /// Marks the neighbor as a route-reflector client.
    pub fn route_reflector_client(mut self) -> Self {
        self.route_reflector_client = true;
        self
    }

    /// Turns graceful restart on or off.
    pub fn graceful_restart(mut self, on: bool) -> Self {
        self.graceful_restart = on;
        self
    }

    /// Suppresses the 4-octet AS capability (GoBGP, ExaBGP).
    pub fn disable_four_octet_as(mut self) -> Self {
        self.disable_four_octet_as = true;
        self
    }

    /// Sets the hold time (seconds).
    pub fn hold_time(mut self, seconds: u16) -> Self {
        self.hold_time = Some(seconds);
        self
    }

    /// Whether the session is iBGP for a router in `local_as`.
    pub fn is_internal(&self, local_as: u32) -> bool {
        self.remote_as == local_as
    }
}

/// A route the peer originates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// The prefix.
    pub prefix: IpNetwork,
    /// Explicit next hop; `None` means "our own address on the session" (next-hop self).
    pub next_hop: Option<IpAddr>,
    /// Communities to attach.
    pub communities: Vec<Community>,
    /// MED to attach.
    pub med: Option<u32>,
    /// AS_PATH the route starts with, before the router adds its own AS on eBGP sessions
    /// (BIRD `bgp_path.prepend`, FRR `set as-path prepend`, GoBGP `aspath`; not ExaBGP).
    pub as_path: Vec<u32>,
}

impl Route {
    /// A route with our own next hop and no attributes.
    pub fn new(prefix: IpNetwork) -> Route {
        Route {
            prefix,
            next_hop: None,
            communities: Vec::new(),
            med: None,
            as_path: Vec::new(),
        }
    }

    /// Starts the AS_PATH with these ASes.
    pub fn as_path(mut self, as_path: &[u32]) -> Self {
        self.as_path = as_path.to_vec();
        self
    }

    /// Sets an explicit next hop.
    pub fn next_hop(mut self, next_hop: IpAddr) -> Self {
        self.next_hop = Some(next_hop);
        self
    }

    /// Adds a community.
    pub fn community(mut self, high: u16, low: u16) -> Self {
        self.communities.push((high, low));
        self
    }

    /// Sets the MED.
    pub fn med(mut self, med: u32) -> Self {
        self.med = Some(med);
        self
    }
}

/// Everything a peer router is configured with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerConfig {
    /// BGP identifier.
    pub router_id: Ipv4Addr,
    /// Our AS.
    pub local_as: u32,
    /// Route-reflector cluster id (when any neighbor is an RR client); router id otherwise.
    pub cluster_id: Option<Ipv4Addr>,
    /// Graceful-restart restart time advertised (seconds) where graceful restart is on.
    pub graceful_restart_time: u16,
    /// Neighbors.
    pub neighbors: Vec<Neighbor>,
    /// Routes originated from the start.
    pub routes: Vec<Route>,
}

impl PeerConfig {
    /// An empty configuration.
    pub fn new(router_id: Ipv4Addr, local_as: u32) -> PeerConfig {
        PeerConfig {
            router_id,
            local_as,
            cluster_id: None,
            graceful_restart_time: 120,
            neighbors: Vec::new(),
            routes: Vec::new(),
        }
    }

    /// Adds a neighbor.
    pub fn neighbor(mut self, neighbor: Neighbor) -> Self {
        self.neighbors.push(neighbor);
        self
    }

    /// Adds an originated route.
    pub fn route(mut self, route: Route) -> Self {
        self.routes.push(route);
        self
    }

    /// Sets the route-reflector cluster id.
    pub fn cluster_id(mut self, cluster_id: Ipv4Addr) -> Self {
        self.cluster_id = Some(cluster_id);
        self
    }

    /// Replaces (or adds) the originated route for `route.prefix`.
    pub fn upsert_route(&mut self, route: Route) {
        self.routes
            .retain(|existing| existing.prefix != route.prefix);
        self.routes.push(route);
    }

    /// Removes the originated route for `prefix`; whether there was one.
    pub fn remove_route(&mut self, prefix: IpNetwork) -> bool {
        let before = self.routes.len();
        self.routes.retain(|existing| existing.prefix != prefix);
        before != self.routes.len()
    }
}
