//! A peer that keeps its session up but stops reading: what we queue for it is bounded by
//! `PeerConfig::max_send_queue`; past it the session is closed with NOTIFICATION Cease / Out of
//! Resources (RFC 4486 subcode 8), its routes are withdrawn and the peer may come back. A peer
//! that reads never trips the default limit.

mod speaker_support;

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use bgp::packet::error::cease_subcode;
use bgp::packet::{LargeCommunity, NotificationCode, PathAttributes};
use bgp::{PeerConfig, Speaker, State};
use ipnetwork::{IpNetwork, Ipv4Network};
use speaker_support::fake::{FakePeer, announce};
use speaker_support::{speaker, state, wait_for};

/// Most routes a test originates (each UPDATE is about 1 KB: 20 MB in all).
const MAX_ROUTES: u32 = 20_000;
/// Routes originated between two looks at the session state.
const STEP: u32 = 100;

fn host(i: u32) -> IpNetwork {
    IpNetwork::V4(Ipv4Network::new(Ipv4Addr::from(0xc612_0000 + i), 32).unwrap())
}

/// Attributes that differ from route to route (so every route is an UPDATE of its own) and
/// make each UPDATE about 1 KB.
fn distinct_attributes(i: u32) -> PathAttributes {
    PathAttributes {
        med: Some(i),
        large_communities: (0..80).map(|n| LargeCommunity::new(65001, i, n)).collect(),
        ..PathAttributes::default()
    }
}

/// Originate routes `from..from + STEP`.
async fn originate_step(speaker: &Speaker, from: u32) {
    for i in from..from + STEP {
        speaker
            .originate(host(i), distinct_attributes(i))
            .await
            .unwrap();
    }
}

/// What the peer announces before it stops reading.
const LEARNED: &str = "198.51.100.0/24";

async fn has_route(speaker: &Speaker, prefix: &str) -> bool {
    let prefix: IpNetwork = prefix.parse().unwrap();
    speaker
        .loc_rib()
        .await
        .unwrap()
        .iter()
        .any(|r| r.prefix == prefix)
}

fn passive_peer(peer: Ipv4Addr) -> PeerConfig {
    let mut config = PeerConfig::new(IpAddr::V4(peer), 65009);
    config.passive = true;
    config
}

#[tokio::test]
async fn a_peer_that_stops_reading_is_closed_with_cease_out_of_resources() {
    let (address, peer) = (Ipv4Addr::new(127, 0, 0, 151), Ipv4Addr::new(127, 0, 0, 152));
    let speaker = speaker(65001, address).await;
    let mut config = passive_peer(peer);
    // Above one chunk of the initial table (2048 of these routes, 2 MB), which the peer
    // that comes back at the end reads.
    config.max_send_queue = 3 * 1024 * 1024;
    speaker.add_peer(config).await.unwrap();
    let listen = speaker.listen_addresses()[0];

    let mut fake = FakePeer::connect_with_receive_buffer(peer, listen, 4096)
        .await
        .unwrap();
    fake.establish(90).await;
    fake.send(announce(peer, &[LEARNED])).await;
    wait_for(
        "the peer's route is learned",
        Duration::from_secs(5),
        || async { has_route(&speaker, LEARNED).await },
    )
    .await;

    // From here on the peer reads nothing; its session stays up (hold time 90 s).
    let mut originated = 0;
    while state(&speaker, peer).await == Some(State::Established) {
        assert!(
            originated < MAX_ROUTES,
            "still Established after {originated} routes of ~1 KB queued for a peer that \
             does not read"
        );
        originate_step(&speaker, originated).await;
        originated += STEP;
    }
    let status = speaker.peer(IpAddr::V4(peer)).await.unwrap().unwrap();
    let error = status.last_error.unwrap_or_default();
    assert!(
        error.starts_with("sent NOTIFICATION Cease/Out of Resources (6/8): ")
            && error.ends_with(" bytes queued, peer not reading"),
        "last error: {error:?}"
    );
    assert_eq!(status.send_queue_bytes, 0, "no queue without a session");
    wait_for(
        "the peer's route is withdrawn",
        Duration::from_secs(5),
        || async { !has_route(&speaker, LEARNED).await },
    )
    .await;

    // What was queued is dropped; reading again, the peer gets what was already on its way,
    // then the NOTIFICATION.
    let notification = fake
        .receive_notification()
        .await
        .expect("the NOTIFICATION before the close");
    assert_eq!(notification.code, NotificationCode::Cease);
    assert_eq!(notification.subcode, cease_subcode::OUT_OF_RESOURCES);

    // The session is not shut for good: the peer may connect again, and reading this time it
    // gets the whole table.
    let mut again = FakePeer::connect(peer, listen, None).await.unwrap();
    again.establish(90).await;
    let mut announced = 0;
    loop {
        let update = again.receive_update().await;
        if update.is_end_of_rib() {
            break;
        }
        announced += update.nlri.len();
    }
    assert_eq!(announced, originated as usize);
    assert_eq!(state(&speaker, peer).await, Some(State::Established));
    speaker.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_peer_that_reads_keeps_its_session_under_the_default_limit() {
    let (address, peer) = (Ipv4Addr::new(127, 0, 0, 153), Ipv4Addr::new(127, 0, 0, 154));
    let speaker = speaker(65001, address).await;
    speaker.add_peer(passive_peer(peer)).await.unwrap();
    assert_eq!(
        speaker
            .peer(IpAddr::V4(peer))
            .await
            .unwrap()
            .unwrap()
            .send_queue_bytes,
        0
    );
    let mut fake = FakePeer::connect_with_receive_buffer(peer, speaker.listen_addresses()[0], 4096)
        .await
        .unwrap();
    fake.establish(90).await;
    let end_of_rib = fake.receive_update().await;
    assert!(end_of_rib.is_end_of_rib());

    // The same churn as above, read as it comes.
    const ROUTES: u32 = 2000;
    let reading = tokio::spawn(async move {
        let mut received = 0;
        while received < ROUTES {
            received += u32::try_from(fake.receive_update().await.nlri.len()).unwrap();
        }
        fake
    });
    for from in (0..ROUTES).step_by(STEP as usize) {
        originate_step(&speaker, from).await;
    }
    let _fake = reading.await.expect("every route arrives");
    let status = speaker.peer(IpAddr::V4(peer)).await.unwrap().unwrap();
    assert_eq!(status.state, State::Established);
    assert_eq!(status.last_error, None);
    assert_eq!(status.send_queue_bytes, 0, "everything was written");
    speaker.shutdown().await.unwrap();
}
