//! Equal-cost multipath: equal paths from two eBGP peers are both selected; peers are sent
//! only the best.

mod speaker_support;

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use bgp::packet::PathAttributes;
use bgp::{DecidingStep, PeerConfig, Route, Speaker};
use speaker_support::{net, peer_of, speaker, wait_established, wait_for};

async fn paths(speaker: &Speaker, prefix: &str) -> Vec<Route> {
    let prefix = net(prefix);
    speaker
        .loc_rib()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.prefix == prefix)
        .collect()
}

/// Peer `speaker` (passive) with `other` (at `other_address`).
async fn connect(speaker: &Speaker, other: &Speaker, other_address: Ipv4Addr) {
    let mut config = PeerConfig::new(IpAddr::V4(other_address), other.asn());
    config.passive = true;
    speaker.add_peer(config).await.unwrap();
    other
        .add_peer(peer_of(speaker, other_address))
        .await
        .unwrap();
    wait_established(speaker, other_address).await;
}

async fn two_equal_paths(center: Ipv4Addr, first: (Ipv4Addr, u32), second: (Ipv4Addr, u32)) {
    let s = speaker(65000, center).await;
    let one = speaker(first.1, first.0).await;
    let two = speaker(second.1, second.0).await;
    connect(&s, &one, first.0).await;
    connect(&s, &two, second.0).await;
    let mut changes = s.subscribe();
    for origin in [&one, &two] {
        origin
            .originate(net("198.19.99.0/24"), PathAttributes::default())
            .await
            .unwrap();
    }
    wait_for("both paths arrive", Duration::from_secs(10), || async {
        paths(&s, "198.19.99.0/24").await.len() == 2
    })
    .await;
    let routes = paths(&s, "198.19.99.0/24").await;
    assert!(routes.iter().all(|r| r.multipath), "{routes:?}");
    assert_eq!(routes.iter().filter(|r| r.best).count(), 1);
    // Equal up to the tie-breaks: the lower router ID (first) decided.
    assert_eq!(routes[0].path.next_hop, Some(IpAddr::V4(first.0)));
    assert_eq!(routes[0].decided_by, Some(DecidingStep::RouterId));

    let mut last = None;
    while let Ok(Ok(change)) =
        tokio::time::timeout(Duration::from_millis(100), changes.recv()).await
    {
        last = Some(change);
    }
    let change = last.expect("route changes were published");
    let mut hops = change.next_hops();
    hops.sort();
    assert_eq!(hops, vec![IpAddr::V4(first.0), IpAddr::V4(second.0)]);

    // Peers get the single best path only: not back to its source, and to the other peer
    // only when its AS is not in the path already.
    let to_one = s.peer(IpAddr::V4(first.0)).await.unwrap().unwrap();
    assert_eq!(to_one.prefixes_advertised, 0);
    let to_two = s.peer(IpAddr::V4(second.0)).await.unwrap().unwrap();
    if first.1 == second.1 {
        assert_eq!(to_two.prefixes_advertised, 0);
    } else {
        assert_eq!(to_two.prefixes_advertised, 1);
        wait_for(
            "the best path is advertised on",
            Duration::from_secs(10),
            || async { paths(&two, "198.19.99.0/24").await.len() == 2 },
        )
        .await;
        let at_two: Vec<Vec<u32>> = paths(&two, "198.19.99.0/24")
            .await
            .iter()
            .map(Route::as_path)
            .collect();
        assert!(at_two.contains(&vec![65000, first.1]), "{at_two:?}");
    }

    // The agent says the first next hop is unusable: the second path is the only one left.
    s.set_unreachable_next_hops([IpAddr::V4(first.0)].into())
        .await
        .unwrap();
    let routes = paths(&s, "198.19.99.0/24").await;
    let best: Vec<&Route> = routes.iter().filter(|r| r.best).collect();
    assert_eq!(best.len(), 1);
    assert_eq!(best[0].path.next_hop, Some(IpAddr::V4(second.0)));
    assert!(routes.iter().all(|r| !r.multipath));
    let other = routes.iter().find(|r| !r.best).unwrap();
    assert_eq!(other.decided_by, Some(DecidingStep::NextHopUnreachable));
    let change = changes.recv().await.unwrap();
    assert_eq!(change.next_hops(), vec![IpAddr::V4(second.0)]);
    for speaker in [s, one, two] {
        speaker.shutdown().await.unwrap();
    }
}

#[tokio::test]
async fn equal_paths_from_two_neighbour_ases_are_both_selected() {
    two_equal_paths(
        Ipv4Addr::new(127, 0, 0, 91),
        (Ipv4Addr::new(127, 0, 0, 92), 65001),
        (Ipv4Addr::new(127, 0, 0, 93), 65002),
    )
    .await;
}

#[tokio::test]
async fn equal_paths_from_two_peers_in_the_same_as_are_both_selected() {
    two_equal_paths(
        Ipv4Addr::new(127, 0, 0, 94),
        (Ipv4Addr::new(127, 0, 0, 95), 65001),
        (Ipv4Addr::new(127, 0, 0, 96), 65001),
    )
    .await;
}
