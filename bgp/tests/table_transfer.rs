//! The initial table goes out in chunks (each after the previous one is written) and ends
//! with End-of-RIB; changes during the transfer are not lost.

mod speaker_support;

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr};

use bgp::PeerConfig;
use bgp::packet::PathAttributes;
use ipnetwork::{IpNetwork, Ipv4Network};
use speaker_support::fake::FakePeer;
use speaker_support::speaker;

/// More than two chunks of 2048.
const PREFIXES: u32 = 5000;

fn host(i: u32) -> Ipv4Network {
    Ipv4Network::new(Ipv4Addr::from(0xc612_0000 + i), 32).unwrap()
}

#[tokio::test]
async fn a_table_of_several_chunks_arrives_whole_then_end_of_rib() {
    let (address, peer) = (Ipv4Addr::new(127, 0, 0, 141), Ipv4Addr::new(127, 0, 0, 142));
    let speaker = speaker(65001, address).await;
    let mut config = PeerConfig::new(IpAddr::V4(peer), 65009);
    config.passive = true;
    speaker.add_peer(config).await.unwrap();
    for i in 0..PREFIXES {
        speaker
            .originate(IpNetwork::V4(host(i)), PathAttributes::default())
            .await
            .unwrap();
    }
    let mut fake = FakePeer::connect(peer, speaker.listen_addresses()[0], None)
        .await
        .unwrap();
    fake.establish(90).await;
    // While the table is on its way: one prefix withdrawn, one added after the end.
    speaker
        .withdraw(IpNetwork::V4(host(PREFIXES - 1)))
        .await
        .unwrap();
    speaker
        .originate(IpNetwork::V4(host(PREFIXES)), PathAttributes::default())
        .await
        .unwrap();

    let mut announced = HashSet::new();
    let mut withdrawn = HashSet::new();
    loop {
        let update = fake.receive_update().await;
        if update.is_end_of_rib() {
            break;
        }
        for prefix in &update.withdrawn {
            announced.remove(prefix);
            withdrawn.insert(*prefix);
        }
        announced.extend(update.nlri.iter().copied());
    }
    let expected: HashSet<Ipv4Network> = (0..PREFIXES - 1).chain([PREFIXES]).map(host).collect();
    assert_eq!(announced, expected);
    // Whether the withdrawal came before or after the walk reached the prefix, the count of
    // what the peer holds must match (a change beyond the walk is left to the walk).
    assert!(withdrawn.iter().all(|p| *p == host(PREFIXES - 1)));
    let status = speaker.peer(IpAddr::V4(peer)).await.unwrap().unwrap();
    assert_eq!(status.prefixes_advertised, expected.len());
    assert!(status.messages.sent.update >= 3, "several UPDATEs");
    speaker.shutdown().await.unwrap();
}
