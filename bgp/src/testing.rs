//! Test fixtures (feature `testing`): speakers on loopback addresses and bounded waiting, for
//! this crate's tests and for the crates whose tests drive a [`Speaker`] (`ternctl`'s).
//! Every wait has a limit and panics with what it waited for.

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use crate::{PeerConfig, Speaker, SpeakerConfig, State};

/// Start a speaker with AS `asn` and router ID `address`, listening on `address:0` (a free
/// port); its IPv6 next hop is `2001:db8::` followed by the last octet's decimal digits
/// (127.0.0.11 → `2001:db8::11`).
pub async fn speaker(asn: u32, address: Ipv4Addr) -> Speaker {
    let mut config = SpeakerConfig::new(asn, address);
    config.listen = vec![SocketAddr::new(IpAddr::V4(address), 0)];
    let next_hop: Ipv6Addr = format!("2001:db8::{}", address.octets()[3])
        .parse()
        .expect("an IPv6 address");
    config.ipv6_next_hop = Some(next_hop);
    Speaker::start(config).await.expect("speaker starts")
}

/// A peer config pointing at `other`'s listener, from our `local` address, with a connect
/// retry of one second.
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
        while !condition().await {
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
        .expect("the speaker answers")
        .map(|status| status.state)
}

/// Wait (20 s at most) until `speaker`'s session with `address` is Established.
pub async fn wait_established(speaker: &Speaker, address: Ipv4Addr) {
    wait_for("Established", Duration::from_secs(20), || async {
        state(speaker, address).await == Some(State::Established)
    })
    .await;
}
