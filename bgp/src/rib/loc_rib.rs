//! The Loc-RIB: every path per prefix, with the outcome of the decision process
//! ([`super::decision`]). RFC 4271 §3.2, §9.1.
//!
//! Owned by one task (the speaker's core); no locks. Every change reports whether the
//! selected paths of the prefix (the best and its equal-cost companions) changed, with the
//! best before and after, which is all an exporter needs to derive what to send: tern keeps
//! no per-peer copy of what it advertised.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::IpAddr;
use std::sync::Arc;

use ipnetwork::{IpNetwork, Ipv4Network, Ipv6Network};

use crate::packet::PathAttributes;

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

/// A path as the Loc-RIB keeps it: source and next hop by number ([`Numbers`]), 24 bytes
/// instead of a [`Path`]'s 56. A full table is half a million of these.
#[derive(Debug, Clone)]
struct Stored {
    attributes: Arc<PathAttributes>,
    source: u32,
    /// [`NO_NEXT_HOP`] for none.
    next_hop: u32,
    stale: bool,
}

const NO_NEXT_HOP: u32 = u32::MAX;

/// Most prefixes have one path: it is kept inline, without a separate allocation.
#[derive(Debug, Default)]
enum Paths {
    #[default]
    None,
    One(Stored),
    Many(Vec<Stored>),
}

impl Paths {
    fn as_slice(&self) -> &[Stored] {
        match self {
            Paths::None => &[],
            Paths::One(path) => std::slice::from_ref(path),
            Paths::Many(paths) => paths,
        }
    }

    fn from_vec(mut paths: Vec<Stored>) -> Self {
        match paths.len() {
            0 => Paths::None,
            1 => paths.pop().map_or(Paths::None, Paths::One),
            _ => Paths::Many(paths),
        }
    }
}

impl Entry {
    fn paths(&self) -> &[Stored] {
        self.paths.as_slice()
    }

    fn selected(&self) -> &[Stored] {
        let paths = self.paths();
        &paths[..usize::from(self.selected).min(paths.len())]
    }
}

/// Sources and next hops by number. Both are few (peers, their next hops) and are kept for
/// the speaker's lifetime.
#[derive(Debug, Default)]
struct Numbers {
    sources: Vec<RouteSource>,
    source_numbers: HashMap<RouteSource, u32>,
    next_hops: Vec<IpAddr>,
    next_hop_numbers: HashMap<IpAddr, u32>,
}

impl Numbers {
    fn store(&mut self, path: Path) -> Stored {
        let source = number(&mut self.sources, &mut self.source_numbers, path.source);
        let next_hop = path.next_hop.map_or(NO_NEXT_HOP, |hop| {
            number(&mut self.next_hops, &mut self.next_hop_numbers, hop)
        });
        Stored {
            attributes: path.attributes,
            source,
            next_hop,
            stale: path.stale,
        }
    }

    fn load(&self, stored: &Stored) -> Path {
        Path {
            source: self.source(stored),
            next_hop: self.next_hops.get(stored.next_hop as usize).copied(),
            attributes: stored.attributes.clone(),
            stale: stored.stale,
        }
    }

    fn source(&self, stored: &Stored) -> RouteSource {
        self.sources
            .get(stored.source as usize)
            .copied()
            .unwrap_or(RouteSource::Local)
    }

    fn same_source(&self, stored: &Stored, source: &RouteSource) -> bool {
        self.source(stored).same_as(source)
    }

    fn load_all(&self, stored: &[Stored]) -> Vec<Path> {
        stored.iter().map(|s| self.load(s)).collect()
    }
}

/// The number of `value`, given one if new.
fn number<T: Copy + Eq + std::hash::Hash>(
    values: &mut Vec<T>,
    numbers: &mut HashMap<T, u32>,
    value: T,
) -> u32 {
    *numbers.entry(value).or_insert_with(|| {
        values.push(value);
        u32::try_from(values.len() - 1).unwrap_or(NO_NEXT_HOP - 1)
    })
}

/// Paths per prefix with their decision. IPv4 and IPv6 prefixes are kept apart (an IPv4 key
/// is 5 bytes, an [`IpNetwork`] 18); walks give IPv4 first, as [`IpNetwork`] orders them.
#[derive(Debug)]
pub struct LocRib {
    v4: BTreeMap<Ipv4Network, Entry>,
    v6: BTreeMap<Ipv6Network, Entry>,
    numbers: Numbers,
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
            v4: BTreeMap::new(),
            v6: BTreeMap::new(),
            numbers: Numbers::default(),
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

    fn get(&self, prefix: &IpNetwork) -> Option<&Entry> {
        match prefix {
            IpNetwork::V4(v4) => self.v4.get(v4),
            IpNetwork::V6(v6) => self.v6.get(v6),
        }
    }

    fn contains(&self, prefix: &IpNetwork) -> bool {
        self.get(prefix).is_some()
    }

    /// Every entry in prefix order, starting after `after` (all for `None`).
    fn entries_after(
        &self,
        after: Option<IpNetwork>,
    ) -> Box<dyn Iterator<Item = (IpNetwork, &Entry)> + '_> {
        use std::ops::Bound::{Excluded, Unbounded};
        fn v4<'a>(e: (&Ipv4Network, &'a Entry)) -> (IpNetwork, &'a Entry) {
            (IpNetwork::V4(*e.0), e.1)
        }
        fn v6<'a>(e: (&Ipv6Network, &'a Entry)) -> (IpNetwork, &'a Entry) {
            (IpNetwork::V6(*e.0), e.1)
        }
        match after {
            None => Box::new(self.v4.iter().map(v4).chain(self.v6.iter().map(v6))),
            Some(IpNetwork::V4(after)) => Box::new(
                self.v4
                    .range((Excluded(after), Unbounded))
                    .map(v4)
                    .chain(self.v6.iter().map(v6)),
            ),
            Some(IpNetwork::V6(after)) => {
                Box::new(self.v6.range((Excluded(after), Unbounded)).map(v6))
            }
        }
    }

    fn entries(&self) -> impl Iterator<Item = (IpNetwork, &Entry)> {
        self.entries_after(None)
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
        if !self.contains(&prefix) {
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
        let entry = self.get(&prefix)?;
        entry
            .paths()
            .iter()
            .find(|p| self.numbers.same_source(p, source) && p.stale != stale)?;
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
        let flipped: HashSet<u32> = flipped
            .iter()
            .filter_map(|hop| self.numbers.next_hop_numbers.get(hop).copied())
            .collect();
        let affected: Vec<IpNetwork> = self
            .entries()
            .filter(|(_, entry)| entry.paths().iter().any(|p| flipped.contains(&p.next_hop)))
            .map(|(prefix, _)| prefix)
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
        let numbers = &mut self.numbers;
        let entry = match prefix {
            IpNetwork::V4(v4) => self.v4.entry(v4).or_default(),
            IpNetwork::V6(v6) => self.v6.entry(v6).or_default(),
        };
        let before: Vec<Path> = numbers.load_all(entry.selected());
        let mut paths = numbers.load_all(entry.paths());
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
        let selected = decision.selected.len().min(ordered.len());
        let change = (before.as_slice() != &ordered[..selected]).then(|| BestChange {
            prefix,
            previous: before.first().cloned(),
            best: ordered.first().filter(|_| selected > 0).cloned(),
            multipath: ordered.iter().take(selected).skip(1).cloned().collect(),
            step: decision.step,
        });
        let empty = ordered.is_empty();
        entry.paths = Paths::from_vec(ordered.into_iter().map(|p| numbers.store(p)).collect());
        entry.selected = u8::try_from(selected).unwrap_or(u8::MAX);
        entry.step = decision.step;
        if empty {
            match prefix {
                IpNetwork::V4(v4) => self.v4.remove(&v4),
                IpNetwork::V6(v6) => self.v6.remove(&v6),
            };
        }
        change
    }

    /// The best path to `prefix`.
    pub fn best(&self, prefix: &IpNetwork) -> Option<Path> {
        self.get(prefix)
            .and_then(|entry| entry.selected().first())
            .map(|stored| self.numbers.load(stored))
    }

    /// The path to `prefix` from `source`, if any.
    pub fn path_from(&self, prefix: &IpNetwork, source: &RouteSource) -> Option<Path> {
        self.get(prefix)?
            .paths()
            .iter()
            .find(|p| self.numbers.same_source(p, source))
            .map(|stored| self.numbers.load(stored))
    }

    /// Every prefix with a path from `source` (walks the whole table).
    pub fn prefixes_from(&self, source: &RouteSource) -> Vec<IpNetwork> {
        let numbers: HashSet<u32> = (0..self.numbers.sources.len())
            .filter(|&i| self.numbers.sources[i].same_as(source))
            .filter_map(|i| u32::try_from(i).ok())
            .collect();
        self.entries()
            .filter(|(_, entry)| entry.paths().iter().any(|p| numbers.contains(&p.source)))
            .map(|(prefix, _)| prefix)
            .collect()
    }

    /// The selected paths of `prefix`, best first.
    pub fn selected(&self, prefix: &IpNetwork) -> Vec<Path> {
        self.get(prefix)
            .map(|entry| self.numbers.load_all(entry.selected()))
            .unwrap_or_default()
    }

    /// Every prefix with its best path, in prefix order.
    pub fn best_paths(&self) -> impl Iterator<Item = (IpNetwork, Path)> + '_ {
        self.best_paths_after(None)
    }

    /// The best paths of the prefixes after `after` (all of them for `None`), in prefix order.
    pub fn best_paths_after(
        &self,
        after: Option<IpNetwork>,
    ) -> impl Iterator<Item = (IpNetwork, Path)> + '_ {
        self.entries_after(after).filter_map(|(prefix, entry)| {
            entry
                .selected()
                .first()
                .map(|p| (prefix, self.numbers.load(p)))
        })
    }

    /// Every prefix with its selected paths (best first) and the step that chose the best,
    /// in prefix order.
    pub fn selections(
        &self,
    ) -> impl Iterator<Item = (IpNetwork, Vec<Path>, Option<DecidingStep>)> + '_ {
        self.entries()
            .filter(|(_, entry)| entry.selected > 0)
            .map(|(prefix, entry)| (prefix, self.numbers.load_all(entry.selected()), entry.step))
    }

    /// Every path, in prefix order, the selected ones first, each with why it is (not) best.
    pub fn routes(&self) -> Vec<Route> {
        let context = self.context();
        let mut routes = Vec::new();
        for (prefix, entry) in self.entries() {
            let selected = usize::from(entry.selected);
            let paths = self.numbers.load_all(entry.paths());
            let best = paths.first().filter(|_| selected > 0);
            for (i, path) in paths.iter().enumerate() {
                let decided_by = match best {
                    Some(_) if i == 0 => entry.step,
                    Some(best) => Some(why_better(best, path, &context)),
                    None => Some(DecidingStep::NextHopUnreachable),
                };
                routes.push(Route {
                    prefix,
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
        self.v4.len() + self.v6.len()
    }

    pub fn is_empty(&self) -> bool {
        self.v4.is_empty() && self.v6.is_empty()
    }
}
