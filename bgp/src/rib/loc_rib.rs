//! The Loc-RIB: every usable path per prefix, best first. RFC 4271 §3.2, §9.1.
//!
//! Owned by one task (the speaker's core); no locks. Every change reports whether the best
//! path of the prefix changed, which is what gets advertised and published.

use std::collections::BTreeMap;
use std::net::IpAddr;

use ipnetwork::IpNetwork;

use super::best::compare;
use super::route::{Path, Route, RouteSource};

/// The best path of a prefix changed; `best` is `None` when the prefix became unreachable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BestChange {
    pub prefix: IpNetwork,
    pub best: Option<Path>,
}

/// Paths per prefix, kept sorted best first.
#[derive(Debug, Default)]
pub struct LocRib {
    prefixes: BTreeMap<IpNetwork, Vec<Path>>,
}

impl LocRib {
    pub fn new() -> Self {
        Self::default()
    }

    /// Add `path`, replacing the one from the same source. Returns the new best path when it
    /// changed.
    pub fn insert(&mut self, prefix: IpNetwork, path: Path) -> Option<BestChange> {
        let paths = self.prefixes.entry(prefix).or_default();
        let old_best = paths.first().cloned();
        paths.retain(|p| !p.source.same_as(&path.source));
        let at = paths
            .iter()
            .position(|p| compare(&path, p).is_lt())
            .unwrap_or(paths.len());
        paths.insert(at, path);
        changed(prefix, old_best, paths.first())
    }

    /// Remove the path of `source` (local or a peer). Returns the new best when it changed.
    pub fn remove(&mut self, prefix: IpNetwork, source: &RouteSource) -> Option<BestChange> {
        let paths = self.prefixes.get_mut(&prefix)?;
        let old_best = paths.first().cloned();
        paths.retain(|p| !p.source.same_as(source));
        let change = changed(prefix, old_best, paths.first());
        if paths.is_empty() {
            self.prefixes.remove(&prefix);
        }
        change
    }

    /// Remove everything learned from the peer at `address` (its session went down).
    pub fn remove_peer(&mut self, address: IpAddr) -> Vec<BestChange> {
        let prefixes: Vec<IpNetwork> = self
            .prefixes
            .iter()
            .filter(|(_, paths)| {
                paths
                    .iter()
                    .any(|p| p.source.peer_address() == Some(address))
            })
            .map(|(prefix, _)| *prefix)
            .collect();
        let source = RouteSource::Peer {
            address,
            router_id: std::net::Ipv4Addr::UNSPECIFIED,
            peer_type: super::route::PeerType::External,
        };
        prefixes
            .into_iter()
            .filter_map(|prefix| self.remove(prefix, &source))
            .collect()
    }

    /// The best path to `prefix`.
    pub fn best(&self, prefix: &IpNetwork) -> Option<&Path> {
        self.prefixes.get(prefix).and_then(|paths| paths.first())
    }

    /// Every prefix with its best path, in prefix order.
    pub fn best_paths(&self) -> impl Iterator<Item = (IpNetwork, &Path)> {
        self.prefixes
            .iter()
            .filter_map(|(prefix, paths)| paths.first().map(|p| (*prefix, p)))
    }

    /// Every path, best flagged, in prefix order.
    pub fn routes(&self) -> Vec<Route> {
        self.prefixes
            .iter()
            .flat_map(|(prefix, paths)| {
                paths.iter().enumerate().map(|(i, path)| Route {
                    prefix: *prefix,
                    path: path.clone(),
                    best: i == 0,
                })
            })
            .collect()
    }

    /// How many prefixes have a path from the peer at `address`.
    pub fn count_from(&self, address: IpAddr) -> usize {
        self.prefixes
            .values()
            .filter(|paths| {
                paths
                    .iter()
                    .any(|p| p.source.peer_address() == Some(address))
            })
            .count()
    }

    /// Number of prefixes.
    pub fn len(&self) -> usize {
        self.prefixes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.prefixes.is_empty()
    }
}

fn changed(prefix: IpNetwork, old: Option<Path>, new: Option<&Path>) -> Option<BestChange> {
    if old.as_ref() == new {
        None
    } else {
        Some(BestChange {
            prefix,
            best: new.cloned(),
        })
    }
}
