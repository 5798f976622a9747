//! Which of two paths to a prefix is better: a first cut of the decision process of
//! RFC 4271 §9.1.2.2 (MED and IGP cost come with the full decision process).
//!
//! Order: locally originated first; then highest LOCAL_PREF (100 when absent); shortest
//! AS_PATH; lowest ORIGIN; external over internal; lowest peer BGP identifier; lowest peer
//! address.

use std::cmp::Ordering;

use crate::packet::Origin;

use super::route::{Path, PeerType, RouteSource};

/// LOCAL_PREF assumed when a path has none. RFC 4271 §5.1.5 leaves it to the speaker; 100 is
/// what every router uses.
pub const DEFAULT_LOCAL_PREF: u32 = 100;

/// `Less` when `a` is preferred over `b`.
pub fn compare(a: &Path, b: &Path) -> Ordering {
    rank(&a.source)
        .cmp(&rank(&b.source))
        .then_with(|| local_pref(b).cmp(&local_pref(a)))
        .then_with(|| as_path_length(a).cmp(&as_path_length(b)))
        .then_with(|| origin(a).cmp(&origin(b)))
        .then_with(|| peer_type(a).cmp(&peer_type(b)))
        .then_with(|| router_id(a).cmp(&router_id(b)))
        .then_with(|| a.source.peer_address().cmp(&b.source.peer_address()))
}

fn rank(source: &RouteSource) -> u8 {
    match source {
        RouteSource::Local => 0,
        RouteSource::Peer { .. } => 1,
    }
}

fn local_pref(path: &Path) -> u32 {
    path.attributes.local_pref.unwrap_or(DEFAULT_LOCAL_PREF)
}

fn as_path_length(path: &Path) -> usize {
    path.attributes
        .as_path
        .as_ref()
        .map_or(0, |p| p.path_length())
}

fn origin(path: &Path) -> Origin {
    path.attributes.origin.unwrap_or(Origin::Incomplete)
}

/// External (0) before internal (1).
fn peer_type(path: &Path) -> u8 {
    match path.source {
        RouteSource::Peer {
            peer_type: PeerType::Internal,
            ..
        } => 1,
        _ => 0,
    }
}

fn router_id(path: &Path) -> u32 {
    match path.source {
        RouteSource::Peer { router_id, .. } => u32::from(router_id),
        RouteSource::Local => 0,
    }
}
