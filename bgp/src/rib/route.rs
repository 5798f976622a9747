//! A path to a prefix and where it came from.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use ipnetwork::IpNetwork;

use crate::packet::PathAttributes;

use super::decision::DecidingStep;

/// Internal (same AS) or external peer. RFC 4271 §1.1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PeerType {
    /// iBGP: the peer is in our AS.
    Internal,
    /// eBGP: the peer is in another AS.
    External,
}

impl PeerType {
    /// Internal when both AS numbers are equal.
    pub fn between(local_asn: u32, peer_asn: u32) -> Self {
        if local_asn == peer_asn {
            PeerType::Internal
        } else {
            PeerType::External
        }
    }
}

impl fmt::Display for PeerType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PeerType::Internal => "iBGP",
            PeerType::External => "eBGP",
        })
    }
}

/// Where a path came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RouteSource {
    /// Originated by this speaker ([`crate::Speaker::originate`]).
    Local,
    /// Learned from a peer.
    Peer {
        address: IpAddr,
        router_id: Ipv4Addr,
        peer_type: PeerType,
        /// The peer is a route reflector client of ours (RFC 4456 §6), which decides where
        /// its routes are reflected to.
        reflector_client: bool,
    },
}

impl RouteSource {
    /// A peer source that is not a route reflector client.
    pub fn peer(address: IpAddr, router_id: Ipv4Addr, peer_type: PeerType) -> Self {
        RouteSource::Peer {
            address,
            router_id,
            peer_type,
            reflector_client: false,
        }
    }

    /// Internal, external, or `None` for local routes.
    pub fn peer_type(&self) -> Option<PeerType> {
        match self {
            RouteSource::Local => None,
            RouteSource::Peer { peer_type, .. } => Some(*peer_type),
        }
    }

    /// The peer's address, for learned paths.
    pub fn peer_address(&self) -> Option<IpAddr> {
        match self {
            RouteSource::Local => None,
            RouteSource::Peer { address, .. } => Some(*address),
        }
    }

    /// Same origin (local, or the same peer address), whatever the rest says.
    pub fn same_as(&self, other: &RouteSource) -> bool {
        self.peer_address() == other.peer_address()
    }
}

/// One path to a prefix: its source, next hop and attributes. RFC 4271 §3.1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Path {
    pub source: RouteSource,
    /// The next hop as received (NEXT_HOP or the MP_REACH_NLRI next hop, RFC 4760 §3); `None`
    /// for locally originated paths (the next hop is this speaker).
    pub next_hop: Option<IpAddr>,
    /// Shared with every other prefix of the same UPDATE.
    pub attributes: Arc<PathAttributes>,
    /// Kept for a restarting peer whose session went down (RFC 4724 §4.2): still usable, and
    /// removed unless the peer announces it again before its End-of-RIB.
    pub stale: bool,
}

impl Path {
    /// A fresh (not stale) path.
    pub fn new(
        source: RouteSource,
        next_hop: Option<IpAddr>,
        attributes: Arc<PathAttributes>,
    ) -> Self {
        Self {
            source,
            next_hop,
            attributes,
            stale: false,
        }
    }
}

/// One Loc-RIB entry as users see it ([`crate::Speaker::loc_rib`], route subscriptions).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub prefix: IpNetwork,
    pub path: Path,
    /// Chosen by the decision process for this prefix.
    pub best: bool,
    /// One of the equal-cost best paths installed together (the best path included);
    /// see [`crate::rib::decision`] for what "equal" means.
    pub multipath: bool,
    /// For the best path: the step of the decision process that chose it over the others.
    /// For another path: the step at which the best path beat it (or
    /// [`DecidingStep::NextHopUnreachable`]). RFC 4271 §9.1.2.2.
    pub decided_by: Option<DecidingStep>,
}

impl Route {
    /// The AS path (empty for local routes and routes from iBGP peers that originated them).
    pub fn as_path(&self) -> Vec<u32> {
        self.path
            .attributes
            .as_path
            .as_ref()
            .map(|p| p.asns().collect())
            .unwrap_or_default()
    }
}
