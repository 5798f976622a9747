//! Two speakers on loopback: sessions, prefixes both ways in both families, withdrawals,
//! session loss.

mod speaker_support;

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use bgp::packet::PathAttributes;
use bgp::{RouteSource, Speaker, State};
use speaker_support::{best, net, peer_of, speaker, wait_established, wait_for};

const A: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 11);
const B: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 12);

async fn pair(a_addr: Ipv4Addr, b_addr: Ipv4Addr) -> (Speaker, Speaker) {
    let a = speaker(65001, a_addr).await;
    let b = speaker(65002, b_addr).await;
    a.add_peer(peer_of(&b, a_addr)).await.unwrap();
    b.add_peer(peer_of(&a, b_addr)).await.unwrap();
    wait_established(&a, b_addr).await;
    wait_established(&b, a_addr).await;
    (a, b)
}

#[tokio::test]
async fn two_speakers_exchange_ipv4_and_ipv6_prefixes_both_ways() {
    let (a, b) = pair(A, B).await;
    a.originate(net("198.19.1.0/24"), PathAttributes::default())
        .await
        .unwrap();
    a.originate(net("2001:db8:1::/48"), PathAttributes::default())
        .await
        .unwrap();
    b.originate(net("198.19.2.0/24"), PathAttributes::default())
        .await
        .unwrap();
    b.originate(net("2001:db8:2::/48"), PathAttributes::default())
        .await
        .unwrap();

    wait_for("B learns A's prefixes", Duration::from_secs(10), || async {
        best(&b, "198.19.1.0/24").await.is_some() && best(&b, "2001:db8:1::/48").await.is_some()
    })
    .await;
    wait_for("A learns B's prefixes", Duration::from_secs(10), || async {
        best(&a, "198.19.2.0/24").await.is_some() && best(&a, "2001:db8:2::/48").await.is_some()
    })
    .await;

    let v4 = best(&b, "198.19.1.0/24").await.unwrap();
    assert_eq!(v4.path.next_hop, Some(IpAddr::V4(A)));
    assert_eq!(v4.as_path(), vec![65001]);
    assert!(
        matches!(v4.path.source, RouteSource::Peer { address, .. } if address == IpAddr::V4(A))
    );
    let v6 = best(&b, "2001:db8:1::/48").await.unwrap();
    assert_eq!(v6.path.next_hop, Some("2001:db8::11".parse().unwrap()));
    assert_eq!(v6.as_path(), vec![65001]);

    let status = b.peer(IpAddr::V4(A)).await.unwrap().unwrap();
    assert_eq!(status.state, State::Established);
    assert_eq!(status.prefixes_received, 2);
    assert_eq!(status.prefixes_advertised, 2);
    assert!(status.messages.received.update >= 2);
    assert_eq!(status.state.to_string(), "Established");

    // A's own routes are not sent back to A.
    let own = best(&a, "198.19.1.0/24").await.unwrap();
    assert_eq!(own.path.source, RouteSource::Local);

    a.withdraw(net("198.19.1.0/24")).await.unwrap();
    a.withdraw(net("2001:db8:1::/48")).await.unwrap();
    wait_for(
        "B drops A's withdrawn prefixes",
        Duration::from_secs(10),
        || async {
            best(&b, "198.19.1.0/24").await.is_none() && best(&b, "2001:db8:1::/48").await.is_none()
        },
    )
    .await;
    assert!(best(&a, "198.19.2.0/24").await.is_some(), "B's routes stay");
    a.shutdown().await.unwrap();
    b.shutdown().await.unwrap();
}

#[tokio::test]
async fn session_down_removes_learned_routes_and_reports_why() {
    let a_addr = Ipv4Addr::new(127, 0, 0, 13);
    let b_addr = Ipv4Addr::new(127, 0, 0, 14);
    let (a, b) = pair(a_addr, b_addr).await;
    a.originate(net("198.19.3.0/24"), PathAttributes::default())
        .await
        .unwrap();
    wait_for("B learns the prefix", Duration::from_secs(10), || async {
        best(&b, "198.19.3.0/24").await.is_some()
    })
    .await;
    let mut changes = b.subscribe();
    a.shutdown().await.unwrap();
    wait_for("B forgets the prefix", Duration::from_secs(10), || async {
        best(&b, "198.19.3.0/24").await.is_none()
    })
    .await;
    let change = tokio::time::timeout(Duration::from_secs(5), changes.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(change.prefix, net("198.19.3.0/24"));
    assert_eq!(change.best, None);
    let status = b.peer(IpAddr::V4(a_addr)).await.unwrap().unwrap();
    assert_ne!(status.state, State::Established);
    assert_eq!(
        status.last_error.as_deref(),
        Some("received NOTIFICATION Cease/Administrative Shutdown (6/2)")
    );
    b.shutdown().await.unwrap();
}

#[tokio::test]
async fn subscribers_see_best_route_changes() {
    let a_addr = Ipv4Addr::new(127, 0, 0, 15);
    let b_addr = Ipv4Addr::new(127, 0, 0, 16);
    let (a, b) = pair(a_addr, b_addr).await;
    let mut changes = b.subscribe();
    a.originate(net("198.19.4.0/24"), PathAttributes::default())
        .await
        .unwrap();
    let change = tokio::time::timeout(Duration::from_secs(10), changes.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(change.prefix, net("198.19.4.0/24"));
    let best = change.best.unwrap();
    assert_eq!(best.path.next_hop, Some(IpAddr::V4(a_addr)));
    a.shutdown().await.unwrap();
    b.shutdown().await.unwrap();
}

#[tokio::test]
async fn removing_a_peer_closes_the_session_and_forgets_its_routes() {
    let a_addr = Ipv4Addr::new(127, 0, 0, 17);
    let b_addr = Ipv4Addr::new(127, 0, 0, 18);
    let (a, b) = pair(a_addr, b_addr).await;
    a.originate(net("198.19.5.0/24"), PathAttributes::default())
        .await
        .unwrap();
    wait_for("B learns the prefix", Duration::from_secs(10), || async {
        best(&b, "198.19.5.0/24").await.is_some()
    })
    .await;
    b.remove_peer(IpAddr::V4(a_addr)).await.unwrap();
    assert!(best(&b, "198.19.5.0/24").await.is_none());
    assert!(b.peers().await.unwrap().is_empty());
    wait_for(
        "A sees the session end",
        Duration::from_secs(10),
        || async {
            a.peer(IpAddr::V4(b_addr))
                .await
                .unwrap()
                .unwrap()
                .last_error
                .as_deref()
                == Some("received NOTIFICATION Cease/Peer De-configured (6/3)")
        },
    )
    .await;
    a.shutdown().await.unwrap();
    b.shutdown().await.unwrap();
}

#[tokio::test]
async fn updating_a_peer_restarts_its_session_with_the_new_settings() {
    let a_addr = Ipv4Addr::new(127, 0, 0, 19);
    let b_addr = Ipv4Addr::new(127, 0, 0, 20);
    let (a, b) = pair(a_addr, b_addr).await;
    let status = a.peer(IpAddr::V4(b_addr)).await.unwrap().unwrap();
    assert_eq!(status.hold_time, Some(90));
    let mut changed = peer_of(&b, a_addr);
    changed.hold_time = 30;
    a.update_peer(changed.clone()).await.unwrap();
    wait_for(
        "the session comes back with hold time 30",
        Duration::from_secs(20),
        || async {
            let status = a.peer(IpAddr::V4(b_addr)).await.unwrap().unwrap();
            status.state == State::Established && status.hold_time == Some(30)
        },
    )
    .await;
    // The same configuration again changes nothing.
    a.update_peer(changed).await.unwrap();
    assert_eq!(
        a.peer(IpAddr::V4(b_addr)).await.unwrap().unwrap().state,
        State::Established
    );
    let unknown = bgp::PeerConfig::new(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 99)), 1);
    assert!(matches!(
        a.update_peer(unknown).await,
        Err(bgp::SpeakerError::UnknownPeer(_))
    ));
    a.shutdown().await.unwrap();
    b.shutdown().await.unwrap();
}

#[tokio::test]
async fn adding_a_peer_twice_or_with_hold_time_two_is_refused() {
    let a = speaker(65001, Ipv4Addr::new(127, 0, 0, 29)).await;
    let peer = bgp::PeerConfig::new(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 30)), 65002);
    a.add_peer(peer.clone()).await.unwrap();
    assert!(matches!(
        a.add_peer(peer.clone()).await,
        Err(bgp::SpeakerError::PeerExists(_))
    ));
    let mut bad = peer;
    bad.address = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 31));
    bad.hold_time = 2;
    assert!(matches!(
        a.add_peer(bad).await,
        Err(bgp::SpeakerError::InvalidHoldTime(2))
    ));
    a.shutdown().await.unwrap();
}
