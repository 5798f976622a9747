//! The decision process: which of the paths to a prefix is best, which others are equal
//! enough to be installed with it (multipath), and which step decided. RFC 4271 §9.1.2.2
//! with the route reflection tie-breaks of RFC 4456 §9.
//!
//! Paths whose next hop is unusable (the agent says so, [`crate::Speaker::set_unreachable_next_hops`])
//! are not eligible (RFC 4271 §9.1.2.1). Among the eligible ones, each step keeps only the
//! paths that are best by it, until one is left:
//!
//! 1. highest LOCAL_PREF (100 when absent);
//! 2. locally originated over learned;
//! 3. shortest AS_PATH (an AS_SET counts 1, confederation segments 0);
//! 4. lowest ORIGIN (IGP < EGP < INCOMPLETE);
//! 5. lowest MULTI_EXIT_DISC (0 when absent), compared only between paths from the same
//!    neighbour AS (the first AS of the path; our own AS for an empty path);
//! 6. external (eBGP) over internal (iBGP);
//! 7. (IGP cost to the next hop: not known to tern, all equal);
//! 8. lowest ORIGINATOR_ID, or the peer's BGP identifier when there is none;
//! 9. shortest CLUSTER_LIST;
//! 10. lowest peer address.
//!
//! **Multipath.** The paths still in the running after step 6 are equal for forwarding: same
//! LOCAL_PREF, same origination, same AS_PATH *length* (the neighbour AS may differ, like
//! FRR's `bestpath as-path multipath-relax` and BIRD's `merge paths`), same ORIGIN, none beaten
//! on MED within its neighbour AS, same peer type. Steps 8–10 order them; the first
//! `max_paths` of them are selected, the best first. Only the best is advertised to peers.

use std::borrow::Borrow;
use std::cmp::{Ordering, Reverse};
use std::collections::HashSet;
use std::fmt;
use std::net::IpAddr;

use crate::packet::Origin;

use super::route::{Path, PeerType, RouteSource};

/// LOCAL_PREF assumed when a path has none. RFC 4271 §5.1.5 leaves it to the speaker; 100 is
/// what every router uses.
pub const DEFAULT_LOCAL_PREF: u32 = 100;

/// The step of the decision process that made the difference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum DecidingStep {
    /// There was no other eligible path.
    OnlyPath,
    /// Higher LOCAL_PREF. RFC 4271 §9.1.1.
    LocalPref,
    /// Locally originated over learned.
    LocallyOriginated,
    /// Shorter AS_PATH. RFC 4271 §9.1.2.2 a.
    AsPathLength,
    /// Lower ORIGIN. RFC 4271 §9.1.2.2 b.
    Origin,
    /// Lower MULTI_EXIT_DISC from the same neighbour AS. RFC 4271 §9.1.2.2 c.
    Med,
    /// eBGP over iBGP. RFC 4271 §9.1.2.2 d.
    ExternalOverInternal,
    /// Lower ORIGINATOR_ID or BGP identifier. RFC 4271 §9.1.2.2 f, RFC 4456 §9.
    RouterId,
    /// Shorter CLUSTER_LIST. RFC 4456 §9.
    ClusterListLength,
    /// Lower peer address. RFC 4271 §9.1.2.2 g.
    PeerAddress,
    /// The path's next hop is not usable, so it was not a candidate. RFC 4271 §9.1.2.1.
    NextHopUnreachable,
}

impl DecidingStep {
    /// A short text for the CLI ("why best").
    pub fn describe(self) -> &'static str {
        match self {
            DecidingStep::OnlyPath => "only path",
            DecidingStep::LocalPref => "higher local preference",
            DecidingStep::LocallyOriginated => "locally originated",
            DecidingStep::AsPathLength => "shorter AS path",
            DecidingStep::Origin => "lower origin",
            DecidingStep::Med => "lower MED",
            DecidingStep::ExternalOverInternal => "eBGP over iBGP",
            DecidingStep::RouterId => "lower router ID",
            DecidingStep::ClusterListLength => "shorter cluster list",
            DecidingStep::PeerAddress => "lower peer address",
            DecidingStep::NextHopUnreachable => "next hop unreachable",
        }
    }
}

impl fmt::Display for DecidingStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

/// What the decision needs besides the paths.
#[derive(Debug, Clone, Copy)]
pub struct DecisionContext<'a> {
    /// Our AS: the neighbour AS of paths with an empty AS_PATH.
    pub local_asn: u32,
    /// How many paths to select (best included); at least 1 is used.
    pub max_paths: usize,
    /// Next hops that must not be used.
    pub unreachable: &'a HashSet<IpAddr>,
}

impl DecisionContext<'_> {
    /// Whether the path may be chosen at all.
    pub fn eligible(&self, path: &Path) -> bool {
        path.next_hop
            .is_none_or(|next_hop| !self.unreachable.contains(&next_hop))
    }
}

/// The outcome for one prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// Indices of the selected paths: the best first, then the other multipath members.
    /// Empty when no path is eligible.
    pub selected: Vec<usize>,
    /// What made the best path best; `None` when there is none.
    pub step: Option<DecidingStep>,
}

/// One elimination step: it keeps the candidates (indices) that are best by it.
type Step<'a> = (DecidingStep, &'a dyn Fn(&mut Vec<usize>));

/// Run the decision process over `paths`.
pub fn decide<P: Borrow<Path>>(paths: &[P], context: &DecisionContext<'_>) -> Decision {
    let path = |i: usize| paths[i].borrow();
    let mut alive: Vec<usize> = (0..paths.len())
        .filter(|&i| context.eligible(path(i)))
        .collect();
    match alive.len() {
        0 => {
            return Decision {
                selected: Vec::new(),
                step: None,
            };
        }
        1 => {
            return Decision {
                selected: alive,
                step: Some(DecidingStep::OnlyPath),
            };
        }
        _ => {}
    }
    let local_asn = context.local_asn;
    let steps: [Step<'_>; 6] = [
        (DecidingStep::LocalPref, &|alive| {
            keep_lowest(alive, |i| Reverse(local_pref(path(i))))
        }),
        (DecidingStep::LocallyOriginated, &|alive| {
            keep_lowest(alive, |i| !matches!(path(i).source, RouteSource::Local))
        }),
        (DecidingStep::AsPathLength, &|alive| {
            keep_lowest(alive, |i| as_path_length(path(i)))
        }),
        (DecidingStep::Origin, &|alive| {
            keep_lowest(alive, |i| origin(path(i)))
        }),
        (DecidingStep::Med, &|alive| {
            let snapshot = alive.clone();
            alive.retain(|&i| {
                let (asn, own) = (neighbor_as(path(i), local_asn), med(path(i)));
                !snapshot
                    .iter()
                    .any(|&j| neighbor_as(path(j), local_asn) == asn && med(path(j)) < own)
            });
        }),
        (DecidingStep::ExternalOverInternal, &|alive| {
            keep_lowest(alive, |i| is_internal(path(i)))
        }),
    ];
    for (step, apply) in steps {
        apply(&mut alive);
        if alive.len() == 1 {
            return Decision {
                selected: alive,
                step: Some(step),
            };
        }
    }
    // Equal for forwarding: order them by the remaining tie-breaks.
    alive.sort_by(|&a, &b| tie_break(path(a), path(b)).0);
    let step = match alive.as_slice() {
        [first, second, ..] => tie_break(path(*first), path(*second)).1,
        _ => DecidingStep::OnlyPath,
    };
    alive.truncate(context.max_paths.max(1));
    Decision {
        selected: alive,
        step: Some(step),
    }
}

/// Why `best` beats `other` (for showing non-best paths): the deciding step of the two alone.
pub fn why_better(best: &Path, other: &Path, context: &DecisionContext<'_>) -> DecidingStep {
    if !context.eligible(other) {
        return DecidingStep::NextHopUnreachable;
    }
    let single = DecisionContext {
        max_paths: 1,
        ..*context
    };
    decide(&[best, other], &single)
        .step
        .unwrap_or(DecidingStep::OnlyPath)
}

/// Steps 8–10: ORIGINATOR_ID or router ID, CLUSTER_LIST length, peer address; with the step
/// that separated the two (or `PeerAddress` when nothing did).
fn tie_break(a: &Path, b: &Path) -> (Ordering, DecidingStep) {
    let keys = [
        (router_id(a).cmp(&router_id(b)), DecidingStep::RouterId),
        (
            a.attributes
                .cluster_list
                .len()
                .cmp(&b.attributes.cluster_list.len()),
            DecidingStep::ClusterListLength,
        ),
        (
            a.source.peer_address().cmp(&b.source.peer_address()),
            DecidingStep::PeerAddress,
        ),
    ];
    keys.into_iter()
        .find(|(ordering, _)| ordering.is_ne())
        .unwrap_or((Ordering::Equal, DecidingStep::PeerAddress))
}

fn keep_lowest<K: Ord>(alive: &mut Vec<usize>, key: impl Fn(usize) -> K) {
    if let Some(lowest) = alive.iter().map(|&i| key(i)).min() {
        alive.retain(|&i| key(i) == lowest);
    }
}

/// The LOCAL_PREF of a path, [`DEFAULT_LOCAL_PREF`] when absent.
pub fn local_pref(path: &Path) -> u32 {
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

fn med(path: &Path) -> u32 {
    path.attributes.med.unwrap_or(0)
}

/// The AS the path entered our AS from: the first AS of the path, our own for an empty path
/// (a route originated inside our AS). RFC 4271 §9.1.2.2 c.
pub fn neighbor_as(path: &Path, local_asn: u32) -> u32 {
    path.attributes
        .as_path
        .as_ref()
        .and_then(|p| p.first_as())
        .unwrap_or(local_asn)
}

fn is_internal(path: &Path) -> bool {
    path.source.peer_type() == Some(PeerType::Internal)
}

/// ORIGINATOR_ID when present (RFC 4456 §9), else the peer's BGP identifier; 0 for local.
fn router_id(path: &Path) -> u32 {
    match (path.attributes.originator_id, path.source) {
        (Some(originator), _) => u32::from(originator),
        (None, RouteSource::Peer { router_id, .. }) => u32::from(router_id),
        (None, RouteSource::Local) => 0,
    }
}
