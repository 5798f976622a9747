//! The Adj-RIB-In of one peer: every route it announced, as received (before import
//! filters), and whether the filters accepted it. RFC 4271 §3.2.
//!
//! Keeping the pre-policy routes lets a filter change be applied again without asking the
//! peer (soft reconfiguration), and lets graceful restart find the stale routes of a peer
//! (RFC 4724). Attributes are shared (`Arc`) with every other prefix of the same UPDATE, so an
//! entry costs a prefix, a next hop, a pointer and two flags (about 60 bytes).

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;
use std::net::IpAddr;
use std::sync::Arc;

use ipnetwork::IpNetwork;

use crate::packet::PathAttributes;

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

/// The routes of one peer, with accepted counts per family.
#[derive(Debug, Default)]
pub struct AdjRibIn {
    /// A B-tree, not a hash map: no load-factor slack, which matters at a million routes.
    routes: BTreeMap<IpNetwork, Received>,
    accepted_v4: usize,
    accepted_v6: usize,
}

impl AdjRibIn {
    pub fn new() -> Self {
        Self::default()
    }

    fn count(&mut self, prefix: &IpNetwork, received: &Received, add: bool) {
        if !received.accepted {
            return;
        }
        let counter = if prefix.is_ipv4() {
            &mut self.accepted_v4
        } else {
            &mut self.accepted_v6
        };
        if add {
            *counter += 1;
        } else {
            *counter = counter.saturating_sub(1);
        }
    }

    /// Store `received` for `prefix`, replacing what was there.
    pub fn insert(&mut self, prefix: IpNetwork, received: Received) {
        self.count(&prefix, &received, true);
        if let Some(old) = self.routes.insert(prefix, received) {
            self.count(&prefix, &old, false);
        }
    }

    /// Forget `prefix`; returns what was stored.
    pub fn remove(&mut self, prefix: &IpNetwork) -> Option<Received> {
        let old = self.routes.remove(prefix)?;
        self.count(prefix, &old, false);
        Some(old)
    }

    /// Record whether the import filters accept `prefix`.
    pub fn set_accepted(&mut self, prefix: &IpNetwork, accepted: bool) {
        let Some(received) = self.routes.get(prefix).cloned() else {
            return;
        };
        if received.accepted != accepted {
            self.insert(
                *prefix,
                Received {
                    accepted,
                    ..received
                },
            );
        }
    }

    /// Mark `prefix` stale or fresh.
    pub fn set_stale(&mut self, prefix: &IpNetwork, stale: bool) {
        if let Entry::Occupied(mut entry) = self.routes.entry(*prefix) {
            entry.get_mut().stale = stale;
        }
    }

    pub fn get(&self, prefix: &IpNetwork) -> Option<&Received> {
        self.routes.get(prefix)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&IpNetwork, &Received)> {
        self.routes.iter()
    }

    /// Every prefix (for walking while changing the table).
    pub fn prefixes(&self) -> Vec<IpNetwork> {
        self.routes.keys().copied().collect()
    }

    /// Remove everything; returns the routes.
    pub fn drain(&mut self) -> impl Iterator<Item = (IpNetwork, Received)> + use<> {
        self.accepted_v4 = 0;
        self.accepted_v6 = 0;
        std::mem::take(&mut self.routes).into_iter()
    }

    /// Routes received (accepted or not).
    pub fn len(&self) -> usize {
        self.routes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.routes.is_empty()
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
}
