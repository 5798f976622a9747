//! The Loc-RIB: every path per prefix, with the outcome of the decision process
//! ([`super::decision`]). RFC 4271 §3.2, §9.1.
//!
//! Owned by one task (the speaker's core); no locks. Every change reports whether the
//! selected paths of the prefix (the best and its equal-cost companions) changed, with the
//! best before and after, which is all an exporter needs to derive what to send: tern keeps
//! no per-peer copy of what it advertised.

use std::collections::{BTreeMap, HashSet};
use std::net::IpAddr;

use ipnetwork::IpNetwork;

use super::decision::{DecidingStep, DecisionContext, decide, why_better};
use super::route::{Path, Route, RouteSource};

/// Default number of equal-cost paths selected per prefix.
pub const DEFAULT_MAX_PATHS: usize = 8;

/// The selected paths of a prefix changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BestChange {
    pub prefix: IpNetwork,
    /// The best path before the change.
    pub previous: Option<Path>,
    /// The best path now; `None` when the prefix became unreachable.
    pub best: Option<Path>,
    /// The other selected equal-cost paths now (not including `best`).
    pub multipath: Vec<Path>,
    /// What made `best` best.
    pub step: Option<DecidingStep>,
}

/// The paths of one prefix: the selected ones first (best at 0), then the rest.
#[derive(Debug, Default)]
struct Entry {
    paths: Paths,
    selected: u8,
    step: Option<DecidingStep>,
}

/// Most prefixes have one path: it is kept inline, without a separate allocation.
#[derive(Debug, Default)]
enum Paths {
    #[default]
    None,
    One(Path),
    Many(Vec<Path>),
}

impl Paths {
    fn as_slice(&self) -> &[Path] {
        match self {
            Paths::None => &[],
            Paths::One(path) => std::slice::from_ref(path),
            Paths::Many(paths) => paths,
        }
    }

    fn from_vec(mut paths: Vec<Path>) -> Self {
        match paths.len() {
            0 => Paths::None,
            1 => paths.pop().map_or(Paths::None, Paths::One),
            _ => Paths::Many(paths),
        }
    }

    fn into_vec(self) -> Vec<Path> {
        match self {
            Paths::None => Vec::new(),
            Paths::One(path) => vec![path],
            Paths::Many(paths) => paths,
        }
    }
}

impl Entry {
    fn paths(&self) -> &[Path] {
        self.paths.as_slice()
    }

    fn selected(&self) -> &[Path] {
        let paths = self.paths();
        &paths[..usize::from(self.selected).min(paths.len())]
    }
}

/// Paths per prefix with their decision.
#[derive(Debug)]
pub struct LocRib {
    prefixes: BTreeMap<IpNetwork, Entry>,
    local_asn: u32,
    max_paths: usize,
    unreachable: HashSet<IpAddr>,
}

impl Default for LocRib {
    fn default() -> Self {
        Self::new()
    }
}

impl LocRib {
    /// A Loc-RIB selecting [`DEFAULT_MAX_PATHS`] paths, for AS 0 (use [`LocRib::with`]).
    pub fn new() -> Self {
        Self::with(0, DEFAULT_MAX_PATHS)
    }

    /// A Loc-RIB for a speaker in `local_asn` selecting up to `max_paths` equal-cost paths.
    pub fn with(local_asn: u32, max_paths: usize) -> Self {
        Self {
            prefixes: BTreeMap::new(),
            local_asn,
            max_paths: max_paths.clamp(1, usize::from(u8::MAX)),
            unreachable: HashSet::new(),
        }
    }

    fn context(&self) -> DecisionContext<'_> {
        DecisionContext {
            local_asn: self.local_asn,
            max_paths: self.max_paths,
            unreachable: &self.unreachable,
        }
    }

    /// Add `path`, replacing the one from the same source. Returns the change of the selected
    /// paths, if any.
    pub fn insert(&mut self, prefix: IpNetwork, path: Path) -> Option<BestChange> {
        self.change(prefix, |paths| {
            match paths.iter_mut().find(|p| p.source.same_as(&path.source)) {
                Some(existing) => *existing = path,
                None => paths.push(path),
            }
        })
    }

    /// Remove the path of `source` (local or a peer).
    pub fn remove(&mut self, prefix: IpNetwork, source: &RouteSource) -> Option<BestChange> {
        if !self.prefixes.contains_key(&prefix) {
            return None;
        }
        self.change(prefix, |paths| paths.retain(|p| !p.source.same_as(source)))
    }

    /// Mark the path of `source` stale or fresh (graceful restart, RFC 4724 §4.2).
    pub fn set_stale(
        &mut self,
        prefix: IpNetwork,
        source: &RouteSource,
        stale: bool,
    ) -> Option<BestChange> {
        let entry = self.prefixes.get(&prefix)?;
        entry
            .paths()
            .iter()
            .find(|p| p.source.same_as(source) && p.stale != stale)?;
        self.change(prefix, |paths| {
            for path in paths.iter_mut().filter(|p| p.source.same_as(source)) {
                path.stale = stale;
            }
        })
    }

    /// Replace the set of unusable next hops and decide again every prefix with a path whose
    /// next hop changed status.
    pub fn set_unreachable(&mut self, unreachable: HashSet<IpAddr>) -> Vec<BestChange> {
        let flipped: HashSet<IpAddr> = unreachable
            .symmetric_difference(&self.unreachable)
            .copied()
            .collect();
        self.unreachable = unreachable;
        if flipped.is_empty() {
            return Vec::new();
        }
        let affected: Vec<IpNetwork> = self
            .prefixes
            .iter()
            .filter(|(_, entry)| {
                entry
                    .paths()
                    .iter()
                    .any(|p| p.next_hop.is_some_and(|hop| flipped.contains(&hop)))
            })
            .map(|(prefix, _)| *prefix)
            .collect();
        affected
            .into_iter()
            .filter_map(|prefix| self.change(prefix, |_| {}))
            .collect()
    }

    /// Apply `edit` to the paths of `prefix`, decide again, report the change.
    fn change(
        &mut self,
        prefix: IpNetwork,
        edit: impl FnOnce(&mut Vec<Path>),
    ) -> Option<BestChange> {
        let context = DecisionContext {
            local_asn: self.local_asn,
            max_paths: self.max_paths,
            unreachable: &self.unreachable,
        };
        let entry = self.prefixes.entry(prefix).or_default();
        let before: Vec<Path> = entry.selected().to_vec();
        let mut paths = std::mem::take(&mut entry.paths).into_vec();
        edit(&mut paths);
        let decision = decide(&paths, &context);
        let mut taken: Vec<Option<Path>> = paths.into_iter().map(Some).collect();
        let mut ordered = Vec::with_capacity(taken.len());
        for &i in &decision.selected {
            if let Some(path) = taken.get_mut(i).and_then(Option::take) {
                ordered.push(path);
            }
        }
        ordered.extend(taken.into_iter().flatten());
        entry.paths = Paths::from_vec(ordered);
        entry.selected = u8::try_from(decision.selected.len()).unwrap_or(u8::MAX);
        entry.step = decision.step;
        let after = entry.selected();
        let change = (before.as_slice() != after).then(|| BestChange {
            prefix,
            previous: before.first().cloned(),
            best: after.first().cloned(),
            multipath: after.iter().skip(1).cloned().collect(),
            step: entry.step,
        });
        if entry.paths().is_empty() {
            self.prefixes.remove(&prefix);
        }
        change
    }

    /// The best path to `prefix`.
    pub fn best(&self, prefix: &IpNetwork) -> Option<&Path> {
        self.prefixes
            .get(prefix)
            .and_then(|entry| entry.selected().first())
    }

    /// The path to `prefix` from `source`, if any.
    pub fn path_from(&self, prefix: &IpNetwork, source: &RouteSource) -> Option<&Path> {
        self.prefixes
            .get(prefix)?
            .paths()
            .iter()
            .find(|p| p.source.same_as(source))
    }

    /// Every prefix with a path from `source` (walks the whole table).
    pub fn prefixes_from(&self, source: &RouteSource) -> Vec<IpNetwork> {
        self.prefixes
            .iter()
            .filter(|(_, entry)| entry.paths().iter().any(|p| p.source.same_as(source)))
            .map(|(prefix, _)| *prefix)
            .collect()
    }

    /// The selected paths of `prefix`, best first.
    pub fn selected(&self, prefix: &IpNetwork) -> &[Path] {
        self.prefixes.get(prefix).map_or(&[], Entry::selected)
    }

    /// Every prefix with its best path, in prefix order.
    pub fn best_paths(&self) -> impl Iterator<Item = (IpNetwork, &Path)> {
        self.prefixes
            .iter()
            .filter_map(|(prefix, entry)| entry.selected().first().map(|p| (*prefix, p)))
    }

    /// The best paths of the prefixes after `after` (all of them for `None`), in prefix order.
    pub fn best_paths_after(
        &self,
        after: Option<IpNetwork>,
    ) -> impl Iterator<Item = (IpNetwork, &Path)> {
        use std::ops::Bound;
        let start = after.map_or(Bound::Unbounded, Bound::Excluded);
        self.prefixes
            .range((start, Bound::Unbounded))
            .filter_map(|(prefix, entry)| entry.selected().first().map(|p| (*prefix, p)))
    }

    /// Every prefix with its selected paths (best first) and the step that chose the best,
    /// in prefix order.
    pub fn selections(&self) -> impl Iterator<Item = (IpNetwork, &[Path], Option<DecidingStep>)> {
        self.prefixes
            .iter()
            .filter(|(_, entry)| entry.selected > 0)
            .map(|(prefix, entry)| (*prefix, entry.selected(), entry.step))
    }

    /// Every path, in prefix order, the selected ones first, each with why it is (not) best.
    pub fn routes(&self) -> Vec<Route> {
        let context = self.context();
        let mut routes = Vec::new();
        for (prefix, entry) in &self.prefixes {
            let selected = usize::from(entry.selected);
            let best = entry.selected().first();
            for (i, path) in entry.paths().iter().enumerate() {
                let decided_by = match best {
                    Some(_) if i == 0 => entry.step,
                    Some(best) => Some(why_better(best, path, &context)),
                    None => Some(DecidingStep::NextHopUnreachable),
                };
                routes.push(Route {
                    prefix: *prefix,
                    path: path.clone(),
                    best: i == 0 && selected > 0,
                    multipath: i < selected && selected > 1,
                    decided_by,
                });
            }
        }
        routes
    }

    /// Number of prefixes.
    pub fn len(&self) -> usize {
        self.prefixes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.prefixes.is_empty()
    }
}
