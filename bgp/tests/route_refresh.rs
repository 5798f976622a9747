//! Soft reset (RFC 2918) and the per-peer views, against a scripted peer:
//! - a ROUTE-REFRESH from the peer makes the speaker announce its routes again;
//! - `refresh_out` does the same without being asked; `refresh_in` sends ROUTE-REFRESH, and
//!   is refused when the peer did not advertise the capability or the session is down;
//! - the status names the negotiated capabilities and counts ROUTE-REFRESH both ways;
//! - `adj_rib_in` shows what the peer sent (rejected routes flagged), `adj_rib_out` what it
//!   gets (after export rules: our AS prepended, next hop self).

mod speaker_support;

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::Duration;

use bgp::filter::{Action, Filter, MatchOperator, Rule};
use bgp::packet::{
    Afi, AsPath, Capability, Message, Origin, PathAttributes, RouteRefresh, Safi, Update,
};
use bgp::{PeerConfig, Speaker, SpeakerError};
use ipnetwork::{IpNetwork, Ipv4Network};
use speaker_support::fake::{FakePeer, open};
use speaker_support::{net, speaker, wait_established, wait_for};

const ORIGINATED: &str = "198.19.0.0/24";

/// A speaker (AS 65001) with `peer` (AS 65009, passive) importing all but 203.0.113.0/24,
/// originating [`ORIGINATED`], and the fake peer connected and Established; the initial
/// table has been read. `route_refresh`: the fake offers the ROUTE-REFRESH capability.
async fn established(
    address: Ipv4Addr,
    peer: Ipv4Addr,
    route_refresh: bool,
) -> (Speaker, FakePeer) {
    let speaker = speaker(65001, address).await;
    let mut config = PeerConfig::new(IpAddr::V4(peer), 65009);
    config.passive = true;
    config.filters = vec![Arc::new(Filter {
        name: "no-test-net-3".into(),
        import_v4: vec![
            Rule::new(Action::Reject).cidr(net("203.0.113.0/24"), MatchOperator::Equal),
        ],
        ..Filter::default()
    })];
    speaker.add_peer(config).await.unwrap();
    speaker
        .originate(net(ORIGINATED), PathAttributes::default())
        .await
        .unwrap();
    let mut fake = FakePeer::connect(peer, speaker.listen_addresses()[0], None)
        .await
        .unwrap();
    let capabilities = if route_refresh {
        vec![Capability::RouteRefresh]
    } else {
        Vec::new()
    };
    fake.establish_with(open(65009, Ipv4Addr::new(198, 18, 9, 9), 90, capabilities))
        .await;
    wait_established(&speaker, peer).await;
    announced(&mut fake).await;
    (speaker, fake)
}

/// Reads UPDATEs until one announces [`ORIGINATED`]; returns it.
async fn announced(fake: &mut FakePeer) -> Update {
    let wanted: Ipv4Network = ORIGINATED.parse().unwrap();
    for _ in 0..8 {
        let update = fake.receive_update().await;
        if update.nlri.contains(&wanted) {
            return update;
        }
    }
    panic!("{ORIGINATED} not announced within 8 UPDATEs");
}

fn ipv4_refresh() -> RouteRefresh {
    RouteRefresh {
        afi: Afi::Ipv4,
        subtype: 0,
        safi: Safi::Unicast,
    }
}

fn from_peer(peer: Ipv4Addr, prefixes: &[&str]) -> Update {
    Update {
        attributes: PathAttributes {
            origin: Some(Origin::Igp),
            as_path: Some(AsPath::from_sequence(vec![65009])),
            next_hop: Some(peer),
            ..PathAttributes::default()
        },
        nlri: prefixes.iter().map(|p| p.parse().unwrap()).collect(),
        ..Update::default()
    }
}

#[tokio::test]
async fn route_refresh_from_the_peer_and_refresh_out_announce_the_table_again() {
    let peer = Ipv4Addr::new(127, 0, 0, 52);
    let (speaker, mut fake) = established(Ipv4Addr::new(127, 0, 0, 51), peer, true).await;

    fake.send(Message::RouteRefresh(ipv4_refresh())).await;
    let again = announced(&mut fake).await;
    assert_eq!(
        again.attributes.as_path.unwrap().asns().collect::<Vec<_>>(),
        [65001]
    );

    speaker.refresh_out(IpAddr::V4(peer)).await.unwrap();
    announced(&mut fake).await;

    let status = speaker.peer(IpAddr::V4(peer)).await.unwrap().unwrap();
    assert_eq!(status.messages.received.route_refresh, 1);
    assert_eq!(status.prefixes_advertised, 1, "still one prefix advertised");
}

#[tokio::test]
async fn refresh_in_sends_route_refresh_for_each_negotiated_family() {
    let peer = Ipv4Addr::new(127, 0, 0, 54);
    let (speaker, mut fake) = established(Ipv4Addr::new(127, 0, 0, 53), peer, true).await;

    let status = speaker.peer(IpAddr::V4(peer)).await.unwrap().unwrap();
    assert!(
        status.capabilities.contains(&"route-refresh".to_string())
            && status.capabilities.contains(&"4-octet-as".to_string())
            && status
                .capabilities
                .contains(&"multiprotocol ipv4-unicast".to_string()),
        "{:?}",
        status.capabilities
    );

    speaker.refresh_in(IpAddr::V4(peer)).await.unwrap();
    let refresh = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match fake.receive().await {
                Some(Message::RouteRefresh(refresh)) => return refresh,
                Some(_) => continue,
                None => panic!("connection closed"),
            }
        }
    })
    .await
    .expect("a ROUTE-REFRESH within 10 s");
    // The fake announced no Multiprotocol capability: IPv4 unicast only (RFC 4760 §8).
    assert_eq!(refresh, ipv4_refresh());
    let status = speaker.peer(IpAddr::V4(peer)).await.unwrap().unwrap();
    assert_eq!(status.messages.sent.route_refresh, 1);
}

#[tokio::test]
async fn refresh_in_is_refused_without_the_capability_or_the_session() {
    let peer = Ipv4Addr::new(127, 0, 0, 56);
    let (speaker, _fake) = established(Ipv4Addr::new(127, 0, 0, 55), peer, false).await;
    let status = speaker.peer(IpAddr::V4(peer)).await.unwrap().unwrap();
    assert!(!status.capabilities.contains(&"route-refresh".to_string()));
    assert!(matches!(
        speaker.refresh_in(IpAddr::V4(peer)).await,
        Err(SpeakerError::NoRouteRefresh(_))
    ));

    let idle = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 57));
    let mut config = PeerConfig::new(idle, 65010);
    config.passive = true;
    speaker.add_peer(config).await.unwrap();
    assert!(matches!(
        speaker.refresh_in(idle).await,
        Err(SpeakerError::NotEstablished(_))
    ));
    assert!(matches!(
        speaker.refresh_out(idle).await,
        Err(SpeakerError::NotEstablished(_))
    ));
    let unknown = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 58));
    assert!(matches!(
        speaker.refresh_in(unknown).await,
        Err(SpeakerError::UnknownPeer(_))
    ));
}

#[tokio::test]
async fn adj_rib_in_and_out_show_what_the_peer_sent_and_gets() {
    let address = Ipv4Addr::new(127, 0, 0, 59);
    let peer = Ipv4Addr::new(127, 0, 0, 60);
    let (speaker, mut fake) = established(address, peer, true).await;
    fake.send(Message::Update(from_peer(
        peer,
        &["198.51.100.0/24", "203.0.113.0/24"],
    )))
    .await;
    wait_for("both routes received", Duration::from_secs(10), || async {
        speaker.adj_rib_in(IpAddr::V4(peer)).await.unwrap().len() == 2
    })
    .await;

    let received = speaker.adj_rib_in(IpAddr::V4(peer)).await.unwrap();
    let summary: Vec<(IpNetwork, bool)> = received.iter().map(|r| (r.prefix, r.accepted)).collect();
    assert_eq!(
        summary,
        [
            (net("198.51.100.0/24"), true),
            (net("203.0.113.0/24"), false)
        ],
        "the filter rejected 203.0.113.0/24; it is still shown, flagged"
    );
    assert_eq!(received[0].next_hop, Some(IpAddr::V4(peer)));

    let advertised = speaker.adj_rib_out(IpAddr::V4(peer)).await.unwrap();
    assert_eq!(
        advertised.len(),
        1,
        "not the peer's own routes back: {advertised:?}"
    );
    assert_eq!(advertised[0].prefix, net(ORIGINATED));
    assert_eq!(advertised[0].next_hop, IpAddr::V4(address));
    let as_path: Vec<u32> = advertised[0]
        .attributes
        .as_path
        .as_ref()
        .map(|p| p.asns().collect())
        .unwrap_or_default();
    assert_eq!(as_path, [65001]);

    let unknown = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 61));
    assert!(matches!(
        speaker.adj_rib_out(unknown).await,
        Err(SpeakerError::UnknownPeer(_))
    ));
}
