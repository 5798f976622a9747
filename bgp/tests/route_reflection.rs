//! Route reflection (RFC 4456) between loopback speakers: a reflector and its clients and
//! non-clients, all in one AS.

mod speaker_support;

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use bgp::packet::PathAttributes;
use bgp::{PeerConfig, Speaker, SpeakerConfig};
use speaker_support::{best, net, peer_of, speaker, wait_established, wait_for};

const ASN: u32 = 65000;
const CLUSTER_ID: Ipv4Addr = Ipv4Addr::new(198, 18, 255, 1);

async fn reflector(address: Ipv4Addr) -> Speaker {
    let mut config = SpeakerConfig::new(ASN, address);
    config.listen = vec![std::net::SocketAddr::new(IpAddr::V4(address), 0)];
    config.cluster_id = Some(CLUSTER_ID);
    Speaker::start(config).await.unwrap()
}

/// Peer `member` (a speaker at `member_address`) with the reflector, as a client or not.
async fn attach(
    reflector: &Speaker,
    reflector_address: Ipv4Addr,
    member: &Speaker,
    member_address: Ipv4Addr,
    client: bool,
) {
    let mut at_reflector = PeerConfig::new(IpAddr::V4(member_address), ASN);
    at_reflector.passive = true;
    at_reflector.route_reflector_client = client;
    reflector.add_peer(at_reflector).await.unwrap();
    member
        .add_peer(peer_of(reflector, member_address))
        .await
        .unwrap();
    wait_established(reflector, member_address).await;
    wait_established(member, reflector_address).await;
}

#[tokio::test]
async fn a_clients_route_reaches_the_other_client_with_originator_id_and_cluster_list() {
    let (r, a, b) = (
        Ipv4Addr::new(127, 0, 0, 81),
        Ipv4Addr::new(127, 0, 0, 82),
        Ipv4Addr::new(127, 0, 0, 83),
    );
    let reflector = reflector(r).await;
    let client_a = speaker(ASN, a).await;
    let client_b = speaker(ASN, b).await;
    attach(&reflector, r, &client_a, a, true).await;
    attach(&reflector, r, &client_b, b, true).await;

    client_a
        .originate(net("198.19.82.0/24"), PathAttributes::default())
        .await
        .unwrap();
    wait_for("B learns A's prefix", Duration::from_secs(10), || async {
        best(&client_b, "198.19.82.0/24").await.is_some()
    })
    .await;
    let at_b = best(&client_b, "198.19.82.0/24").await.unwrap();
    assert_eq!(at_b.path.attributes.originator_id, Some(a), "A's router ID");
    assert_eq!(at_b.path.attributes.cluster_list, vec![CLUSTER_ID]);
    assert_eq!(
        at_b.path.next_hop,
        Some(IpAddr::V4(a)),
        "next hop unchanged"
    );
    assert_eq!(at_b.as_path(), Vec::<u32>::new());
    assert_eq!(at_b.path.attributes.local_pref, Some(100));
    // At the reflector the route is as A sent it: no reflection attributes yet.
    let at_r = best(&reflector, "198.19.82.0/24").await.unwrap();
    assert_eq!(at_r.path.attributes.originator_id, None);
    assert!(at_r.path.attributes.cluster_list.is_empty());
    // A does not get its own route back (the reflector skips the originator).
    let status = reflector.peer(IpAddr::V4(a)).await.unwrap().unwrap();
    assert_eq!(status.prefixes_advertised, 0);
    for speaker in [reflector, client_a, client_b] {
        speaker.shutdown().await.unwrap();
    }
}

#[tokio::test]
async fn non_client_routes_are_reflected_to_clients_only() {
    let (r, client, n1, n2) = (
        Ipv4Addr::new(127, 0, 0, 85),
        Ipv4Addr::new(127, 0, 0, 86),
        Ipv4Addr::new(127, 0, 0, 87),
        Ipv4Addr::new(127, 0, 0, 88),
    );
    let reflector = reflector(r).await;
    let c = speaker(ASN, client).await;
    let non_client_1 = speaker(ASN, n1).await;
    let non_client_2 = speaker(ASN, n2).await;
    attach(&reflector, r, &c, client, true).await;
    attach(&reflector, r, &non_client_1, n1, false).await;
    attach(&reflector, r, &non_client_2, n2, false).await;

    non_client_1
        .originate(net("198.19.87.0/24"), PathAttributes::default())
        .await
        .unwrap();
    wait_for(
        "the client learns N1's prefix",
        Duration::from_secs(10),
        || async { best(&c, "198.19.87.0/24").await.is_some() },
    )
    .await;
    // The client's prefix goes to every non-client; when N2 has it, the reflector has dealt
    // with N1's prefix too, and N2 must not have that one.
    c.originate(net("198.19.86.0/24"), PathAttributes::default())
        .await
        .unwrap();
    wait_for(
        "both non-clients learn the client's prefix",
        Duration::from_secs(10),
        || async {
            best(&non_client_1, "198.19.86.0/24").await.is_some()
                && best(&non_client_2, "198.19.86.0/24").await.is_some()
        },
    )
    .await;
    assert!(best(&non_client_2, "198.19.87.0/24").await.is_none());
    let to_n2 = reflector.peer(IpAddr::V4(n2)).await.unwrap().unwrap();
    assert_eq!(to_n2.prefixes_advertised, 1, "only the client's prefix");
    let at_n2 = best(&non_client_2, "198.19.86.0/24").await.unwrap();
    assert_eq!(at_n2.path.attributes.originator_id, Some(client));
    assert_eq!(at_n2.path.attributes.cluster_list, vec![CLUSTER_ID]);
    for speaker in [reflector, c, non_client_1, non_client_2] {
        speaker.shutdown().await.unwrap();
    }
}
