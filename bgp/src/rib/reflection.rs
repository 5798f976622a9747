//! Route reflection (RFC 4456) and the loop checks every received path goes through.
//!
//! - On receipt ([`check_loops`]): a path is ignored when our AS appears in its AS_PATH more
//!   often than the peer's `allow_as_in` permits (RFC 4271 §9.1.2; Calico's
//!   `numAllowedLocalASNumbers`), when its ORIGINATOR_ID is our router ID, or when its
//!   CLUSTER_LIST holds our cluster ID (RFC 4456 §8).
//! - On advertisement ([`may_advertise_internal`], [`reflect`]): a path learned over iBGP goes
//!   to another internal peer only by reflection: from a client to every internal peer, from a
//!   non-client to clients only (RFC 4456 §6). A reflected path gets ORIGINATOR_ID (when it has
//!   none) and our cluster ID prepended to its CLUSTER_LIST (RFC 4456 §8); its next hop is
//!   left alone.

use std::fmt;
use std::net::Ipv4Addr;

use crate::packet::PathAttributes;

use super::route::{PeerType, RouteSource};

/// What the loop checks need to know about us and the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoopCheck {
    pub local_asn: u32,
    pub router_id: Ipv4Addr,
    pub cluster_id: Ipv4Addr,
    /// How many times our AS may appear in a received AS_PATH (0: not at all).
    pub allow_as_in: u8,
}

/// Why a received path was ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoopReason {
    /// Our AS is in the AS_PATH (more often than allowed).
    OwnAs,
    /// The ORIGINATOR_ID is our router ID.
    OriginatorIsUs,
    /// Our cluster ID is in the CLUSTER_LIST.
    ClusterLoop,
}

impl fmt::Display for LoopReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LoopReason::OwnAs => "our AS is in the AS path",
            LoopReason::OriginatorIsUs => "the originator ID is our router ID",
            LoopReason::ClusterLoop => "our cluster ID is in the cluster list",
        })
    }
}

/// `Err` when the path must be ignored. RFC 4271 §9.1.2, RFC 4456 §8.
pub fn check_loops(attributes: &PathAttributes, check: &LoopCheck) -> Result<(), LoopReason> {
    let own = attributes.as_path.as_ref().map_or(0, |path| {
        path.asns().filter(|&asn| asn == check.local_asn).count()
    });
    if own > usize::from(check.allow_as_in) {
        return Err(LoopReason::OwnAs);
    }
    if attributes.originator_id == Some(check.router_id) {
        return Err(LoopReason::OriginatorIsUs);
    }
    if attributes.cluster_list.contains(&check.cluster_id) {
        return Err(LoopReason::ClusterLoop);
    }
    Ok(())
}

/// Whether a path from `source` may go to an internal peer (`to_client`: the peer is a
/// route reflector client). Local and eBGP-learned paths go to every internal peer;
/// iBGP-learned ones only by reflection. RFC 4271 §9.2, RFC 4456 §6.
pub fn may_advertise_internal(source: &RouteSource, to_client: bool) -> bool {
    match source {
        RouteSource::Local => true,
        RouteSource::Peer {
            peer_type: PeerType::External,
            ..
        } => true,
        RouteSource::Peer {
            reflector_client, ..
        } => *reflector_client || to_client,
    }
}

/// Whether advertising a path from `source` to an internal peer is a reflection.
pub fn is_reflection(source: &RouteSource) -> bool {
    source.peer_type() == Some(PeerType::Internal)
}

/// Mark `attributes` as reflected by us: ORIGINATOR_ID is the router ID of the peer we
/// learned it from unless already set, and `cluster_id` goes first in CLUSTER_LIST.
/// RFC 4456 §8.
pub fn reflect(attributes: &mut PathAttributes, learned_from: Ipv4Addr, cluster_id: Ipv4Addr) {
    attributes.originator_id.get_or_insert(learned_from);
    attributes.cluster_list.insert(0, cluster_id);
}
