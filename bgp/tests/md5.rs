//! TCP-MD5 (RFC 2385) between two speakers on loopback. Needs CAP_NET_ADMIN-free
//! `TCP_MD5SIG`, which Linux allows to any user on their own sockets.

mod speaker_support;

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use bgp::State;
use speaker_support::{peer_of, speaker, state, wait_established};

#[tokio::test]
async fn matching_passwords_establish() {
    let a_addr = Ipv4Addr::new(127, 0, 0, 21);
    let b_addr = Ipv4Addr::new(127, 0, 0, 22);
    let a = speaker(65001, a_addr).await;
    let b = speaker(65002, b_addr).await;
    let mut to_b = peer_of(&b, a_addr);
    to_b.password = Some("tern-secret".into());
    let mut to_a = peer_of(&a, b_addr);
    to_a.password = Some("tern-secret".into());
    to_a.passive = true;
    a.add_peer(to_b).await.unwrap();
    b.add_peer(to_a).await.unwrap();
    wait_established(&a, b_addr).await;
    wait_established(&b, a_addr).await;
    a.shutdown().await.unwrap();
    b.shutdown().await.unwrap();
}

#[tokio::test]
async fn mismatched_passwords_do_not_establish() {
    let a_addr = Ipv4Addr::new(127, 0, 0, 23);
    let b_addr = Ipv4Addr::new(127, 0, 0, 24);
    let a = speaker(65001, a_addr).await;
    let b = speaker(65002, b_addr).await;
    let mut to_b = peer_of(&b, a_addr);
    to_b.password = Some("one".into());
    let mut to_a = peer_of(&a, b_addr);
    to_a.password = Some("other".into());
    to_a.passive = true;
    a.add_peer(to_b).await.unwrap();
    b.add_peer(to_a).await.unwrap();
    // Several connect attempts (1 s apart) have the time to fail.
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_ne!(state(&a, b_addr).await, Some(State::Established));
    assert_ne!(state(&b, a_addr).await, Some(State::Established));
    let status = b.peer(IpAddr::V4(a_addr)).await.unwrap().unwrap();
    assert_eq!(status.messages.received.open, 0, "no segment got through");
    // A's SYNs are dropped, so its attempts hang: its status says so.
    let status = a.peer(IpAddr::V4(b_addr)).await.unwrap().unwrap();
    let error = status.last_error.unwrap_or_default();
    assert!(
        error.starts_with("connect to 127.0.0.24:") && error.contains("no answer within 1 s"),
        "{error}"
    );
    a.shutdown().await.unwrap();
    b.shutdown().await.unwrap();
}

#[tokio::test]
async fn password_on_one_side_only_does_not_establish() {
    let a_addr = Ipv4Addr::new(127, 0, 0, 25);
    let b_addr = Ipv4Addr::new(127, 0, 0, 26);
    let a = speaker(65001, a_addr).await;
    let b = speaker(65002, b_addr).await;
    let mut to_b = peer_of(&b, a_addr);
    to_b.password = Some("only-a".into());
    let mut to_a = peer_of(&a, b_addr);
    to_a.passive = true;
    a.add_peer(to_b).await.unwrap();
    b.add_peer(to_a).await.unwrap();
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_ne!(state(&a, b_addr).await, Some(State::Established));
    a.shutdown().await.unwrap();
    b.shutdown().await.unwrap();
}

#[tokio::test]
async fn overlong_password_is_refused() {
    let a = speaker(65001, Ipv4Addr::new(127, 0, 0, 27)).await;
    let mut peer = bgp::PeerConfig::new(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 28)), 65002);
    peer.password = Some("x".repeat(81));
    let error = a.add_peer(peer).await.unwrap_err();
    assert!(matches!(error, bgp::SpeakerError::Md5(_)), "{error}");
    a.shutdown().await.unwrap();
}
