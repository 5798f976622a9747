//! The difference between two intents, as the speaker needs it: sessions to add, reset,
//! update in place or remove, and prefixes to originate or withdraw. Pure; a peer is reset
//! only when its session parameters change ([`PeerIntent::session_differs`]), so adding a
//! Service or moving an endpoint never touches unrelated sessions.

use std::collections::BTreeMap;
use std::net::IpAddr;

use ipnetwork::IpNetwork;

use crate::calc::{Advertisement, NodeIntent, PeerIntent};

/// Identifies a session: remote address and port.
pub type PeerKey = (IpAddr, u16);

/// What changed from one intent to the next.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct IntentDiff {
    /// First intent, or AS, router ID, listen port or cluster ID changed: the speaker must be
    /// (re)started with this identity (every session resets). The lists below are still exact.
    pub identity_changed: bool,
    /// New sessions.
    pub peers_added: Vec<PeerIntent>,
    /// Sessions whose parameters changed: tear down and re-establish with the new ones.
    pub peers_reset: Vec<PeerIntent>,
    /// Sessions whose policy changed (filters, next-hop handling, source label): re-run
    /// import/export without a reset (RFC 2918 route refresh where routes must be re-read).
    pub peers_updated: Vec<PeerIntent>,
    /// Sessions to close.
    pub peers_removed: Vec<PeerKey>,
    /// Prefixes to originate, new or with changed communities.
    pub originate: Vec<Advertisement>,
    /// Prefixes no longer originated.
    pub withdraw: Vec<IpNetwork>,
}

impl IntentDiff {
    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        !self.identity_changed
            && self.peers_added.is_empty()
            && self.peers_reset.is_empty()
            && self.peers_updated.is_empty()
            && self.peers_removed.is_empty()
            && self.originate.is_empty()
            && self.withdraw.is_empty()
    }

    /// A one-line summary for logs.
    pub fn summary(&self) -> String {
        format!(
            "identity {}, peers +{} ~{} reset {} -{}, originate {}, withdraw {}",
            if self.identity_changed {
                "changed"
            } else {
                "unchanged"
            },
            self.peers_added.len(),
            self.peers_updated.len(),
            self.peers_reset.len(),
            self.peers_removed.len(),
            self.originate.len(),
            self.withdraw.len()
        )
    }
}

/// The changes that turn `old` (nothing, at start-up) into `new`.
pub fn diff_intents(old: Option<&NodeIntent>, new: &NodeIntent) -> IntentDiff {
    let mut diff = IntentDiff {
        identity_changed: old.is_none_or(|old| {
            old.asn != new.asn
                || old.router_id != new.router_id
                || old.listen_port != new.listen_port
                || old.route_reflector_cluster_id != new.route_reflector_cluster_id
        }),
        ..IntentDiff::default()
    };

    let old_peers: BTreeMap<PeerKey, &PeerIntent> = old
        .map(|old| old.peers.iter().map(|p| ((p.address, p.port), p)).collect())
        .unwrap_or_default();
    let new_peers: BTreeMap<PeerKey, &PeerIntent> =
        new.peers.iter().map(|p| ((p.address, p.port), p)).collect();
    for (key, peer) in &new_peers {
        match old_peers.get(key) {
            None => diff.peers_added.push((*peer).clone()),
            Some(before) if before.session_differs(peer) => diff.peers_reset.push((*peer).clone()),
            Some(before) if before != peer => diff.peers_updated.push((*peer).clone()),
            Some(_) => {}
        }
    }
    diff.peers_removed = old_peers
        .keys()
        .filter(|key| !new_peers.contains_key(key))
        .copied()
        .collect();

    let old_prefixes: BTreeMap<IpNetwork, &Advertisement> = old
        .map(|old| old.advertisements.iter().map(|a| (a.prefix, a)).collect())
        .unwrap_or_default();
    for advertisement in &new.advertisements {
        let unchanged = old_prefixes
            .get(&advertisement.prefix)
            .is_some_and(|before| before.communities == advertisement.communities);
        if !unchanged {
            diff.originate.push(advertisement.clone());
        }
    }
    diff.withdraw = old_prefixes
        .keys()
        .filter(|prefix| new.advertisement(**prefix).is_none())
        .copied()
        .collect();
    diff
}
