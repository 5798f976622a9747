//! The Adj-RIB-In of one peer: every route it announced, as received (before import
//! filters), and whether the filters accepted it. RFC 4271 §3.2.
//!
//! Keeping the pre-policy routes lets a filter change be applied again without asking the
//! peer (soft reconfiguration), and lets graceful restart find the stale routes of a peer
//! (RFC 4724).
//!
//! Memory: most routes are accepted unchanged, and then the Loc-RIB path *is* the received
//! route (same next hop, same shared attributes). Only routes the import filters rejected or
//! changed are stored here; the others are read from the Loc-RIB. So every operation takes
//! the Loc-RIB and the peer's [`RouteSource`], and listing a peer's routes walks the Loc-RIB
//! (rare: session loss, restart, filter change). Counts are kept up to date.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;

use ipnetwork::IpNetwork;

use crate::packet::PathAttributes;

use super::loc_rib::{BestChange, LocRib};
use super::route::{Path, RouteSource};

/// One received route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// The next hop as received.
    pub next_hop: Option<IpAddr>,
    /// The attributes as received (after loop checks, before import filters).
    pub attributes: Arc<PathAttributes>,
    /// The import filters accepted it (its path is in the Loc-RIB).
    pub accepted: bool,
    /// Kept across the peer's restart and not announced again yet (RFC 4724 §4.2).
    pub stale: bool,
}

/// The routes of one peer that the Loc-RIB does not hold as received, with counts.
#[derive(Debug, Default)]
pub struct AdjRibIn {
    /// Rejected routes, and accepted ones the filters changed, as received.
    differing: BTreeMap<IpNetwork, Received>,
    accepted_v4: usize,
    accepted_v6: usize,
    stale: usize,
}

impl AdjRibIn {
    pub fn new() -> Self {
        Self::default()
    }

    /// The received form of the peer's route to `prefix`.
    pub fn get(&self, rib: &LocRib, source: &RouteSource, prefix: &IpNetwork) -> Option<Received> {
        if let Some(received) = self.differing.get(prefix) {
            return Some(received.clone());
        }
        rib.path_from(prefix, source).map(|path| Received {
            next_hop: path.next_hop,
            attributes: path.attributes.clone(),
            accepted: true,
            stale: path.stale,
        })
    }

    /// Store `received` for `prefix`; `accepted` is what the import filters made of its
    /// attributes (`None`: rejected). Returns the Loc-RIB change.
    pub fn store(
        &mut self,
        rib: &mut LocRib,
        source: RouteSource,
        prefix: IpNetwork,
        received: Received,
        accepted: Option<Arc<PathAttributes>>,
    ) -> Option<BestChange> {
        self.forget_counts(rib, &source, &prefix);
        let stale = received.stale;
        let change = match accepted {
            Some(attributes) => {
                if Arc::ptr_eq(&attributes, &received.attributes) {
                    self.differing.remove(&prefix);
                } else {
                    self.differing.insert(
                        prefix,
                        Received {
                            accepted: true,
                            ..received.clone()
                        },
                    );
                }
                *self.accepted_counter(&prefix) += 1;
                let mut path = Path::new(source, received.next_hop, attributes);
                path.stale = stale;
                rib.insert(prefix, path)
            }
            None => {
                self.differing.insert(
                    prefix,
                    Received {
                        accepted: false,
                        ..received
                    },
                );
                rib.remove(prefix, &source)
            }
        };
        if stale {
            self.stale += 1;
        }
        change
    }

    /// Forget the peer's route to `prefix`.
    pub fn withdraw(
        &mut self,
        rib: &mut LocRib,
        source: &RouteSource,
        prefix: IpNetwork,
    ) -> Option<BestChange> {
        self.forget_counts(rib, source, &prefix);
        self.differing.remove(&prefix);
        rib.remove(prefix, source)
    }

    /// Mark the peer's route to `prefix` stale or fresh.
    pub fn set_stale(
        &mut self,
        rib: &mut LocRib,
        source: &RouteSource,
        prefix: IpNetwork,
        stale: bool,
    ) -> Option<BestChange> {
        let was = self.get(rib, source, &prefix)?.stale;
        if was == stale {
            return None;
        }
        if stale {
            self.stale += 1;
        } else {
            self.stale = self.stale.saturating_sub(1);
        }
        if let Some(received) = self.differing.get_mut(&prefix) {
            received.stale = stale;
        }
        rib.set_stale(prefix, source, stale)
    }

    /// Every prefix the peer announced, in order.
    pub fn prefixes(&self, rib: &LocRib, source: &RouteSource) -> Vec<IpNetwork> {
        let mut prefixes = rib.prefixes_from(source);
        prefixes.extend(self.differing.keys().copied());
        prefixes.sort_unstable();
        prefixes.dedup();
        prefixes
    }

    /// Forget every route of the peer; returns the Loc-RIB changes.
    pub fn clear(&mut self, rib: &mut LocRib, source: &RouteSource) -> Vec<BestChange> {
        let changes = rib
            .prefixes_from(source)
            .into_iter()
            .filter_map(|prefix| rib.remove(prefix, source))
            .collect();
        *self = Self::default();
        changes
    }

    /// Routes the import filters accepted, both families.
    pub fn accepted(&self) -> usize {
        self.accepted_v4 + self.accepted_v6
    }

    /// Accepted routes of one family.
    pub fn accepted_in(&self, ipv4: bool) -> usize {
        if ipv4 {
            self.accepted_v4
        } else {
            self.accepted_v6
        }
    }

    /// Routes kept stale (accepted or not).
    pub fn stale(&self) -> usize {
        self.stale
    }

    fn accepted_counter(&mut self, prefix: &IpNetwork) -> &mut usize {
        if prefix.is_ipv4() {
            &mut self.accepted_v4
        } else {
            &mut self.accepted_v6
        }
    }

    /// Take the current route to `prefix` out of the counts.
    fn forget_counts(&mut self, rib: &LocRib, source: &RouteSource, prefix: &IpNetwork) {
        if let Some(old) = self.get(rib, source, prefix) {
            if old.accepted {
                let counter = self.accepted_counter(prefix);
                *counter = counter.saturating_sub(1);
            }
            if old.stale {
                self.stale = self.stale.saturating_sub(1);
            }
        }
    }
}
