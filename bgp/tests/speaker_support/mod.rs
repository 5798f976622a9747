//! Helpers for the speaker tests: speakers on loopback addresses, bounded waiting.

#![allow(dead_code)]

pub mod fake;

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use bgp::{PeerConfig, Route, Speaker, SpeakerConfig, State};
use ipnetwork::IpNetwork;

/// Start a speaker listening on `address:0` (a free port).
pub async fn speaker(asn: u32, address: Ipv4Addr) -> Speaker {
    let mut config = SpeakerConfig::new(asn, address);
    config.listen = vec![SocketAddr::new(IpAddr::V4(address), 0)];
    config.ipv6_next_hop = Some(
        format!("2001:db8::{}", address.octets()[3])
            .parse()
            .unwrap(),
    );
    Speaker::start(config).await.expect("speaker starts")
}

/// A peer config pointing at `other`'s listener, from our `local` address, with a short
/// connect retry.
pub fn peer_of(other: &Speaker, local: Ipv4Addr) -> PeerConfig {
    let listen = other.listen_addresses()[0];
    let mut peer = PeerConfig::new(listen.ip(), other.asn());
    peer.port = listen.port();
    peer.local_address = Some(IpAddr::V4(local));
    peer.connect_retry = Duration::from_secs(1);
    peer
}

/// Poll `condition` every 50 ms until it holds; panic after `limit`.
pub async fn wait_for<F, Fut>(what: &str, limit: Duration, mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let polling = async {
        loop {
            if condition().await {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    if tokio::time::timeout(limit, polling).await.is_err() {
        panic!("timed out after {limit:?} waiting for {what}");
    }
}

/// The state of `speaker`'s session with `address`.
pub async fn state(speaker: &Speaker, address: Ipv4Addr) -> Option<State> {
    speaker
        .peer(IpAddr::V4(address))
        .await
        .unwrap()
        .map(|status| status.state)
}

pub async fn wait_established(speaker: &Speaker, address: Ipv4Addr) {
    wait_for("Established", Duration::from_secs(20), || async {
        state(speaker, address).await == Some(State::Established)
    })
    .await;
}

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
