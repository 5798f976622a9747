//! Helpers for the speaker tests: speakers on loopback addresses, bounded waiting.

#![allow(dead_code, unused_imports)]

pub mod fake;

pub use bgp::testing::{peer_of, speaker, state, wait_established, wait_for};
use bgp::{Route, Speaker};
use ipnetwork::IpNetwork;

/// A prefix from text (tests only).
pub fn net(s: &str) -> IpNetwork {
    s.parse().unwrap()
}

/// The best route to `prefix` in `speaker`'s Loc-RIB.
pub async fn best(speaker: &Speaker, prefix: &str) -> Option<Route> {
    let prefix = net(prefix);
    speaker
        .loc_rib()
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.prefix == prefix && r.best)
}
