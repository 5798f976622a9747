//! The prefix limit (RFC 4486): a peer sending more than allowed gets NOTIFICATION Cease /
//! Maximum Number of Prefixes Reached with AFI, SAFI and the limit, and may come back later.

mod speaker_support;

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use bgp::packet::{Message, NotificationCode};
use bgp::{MaxPrefix, PeerConfig, State};
use speaker_support::fake::{FakePeer, announce};
use speaker_support::{speaker, state, wait_for};

#[tokio::test]
async fn more_prefixes_than_the_limit_close_the_session_with_cease_1_then_it_restarts() {
    let (address, peer) = (Ipv4Addr::new(127, 0, 0, 131), Ipv4Addr::new(127, 0, 0, 132));
    let speaker = speaker(65001, address).await;
    let mut config = PeerConfig::new(IpAddr::V4(peer), 65009);
    config.passive = true;
    config.max_prefixes = Some(MaxPrefix {
        limit: 2,
        warning_threshold_percent: 50,
        restart_after: Some(Duration::from_secs(1)),
    });
    speaker.add_peer(config).await.unwrap();
    let listen = speaker.listen_addresses()[0];

    let mut fake = FakePeer::connect(peer, listen, None).await.unwrap();
    fake.establish(90).await;
    fake.send(announce(peer, &["198.51.100.0/24", "198.51.101.0/24"]))
        .await;
    fake.send(announce(peer, &["198.51.102.0/24"])).await;
    let notification = fake
        .receive_notification()
        .await
        .expect("a NOTIFICATION before the close");
    assert_eq!(notification.code, NotificationCode::Cease);
    assert_eq!(notification.subcode, 1);
    assert_eq!(
        notification.data.as_ref(),
        [0, 1, 1, 0, 0, 0, 2],
        "AFI 1, SAFI 1, limit 2"
    );
    wait_for(
        "the routes are withdrawn",
        Duration::from_secs(5),
        || async { speaker.loc_rib().await.unwrap().is_empty() },
    )
    .await;
    let status = speaker.peer(IpAddr::V4(peer)).await.unwrap().unwrap();
    assert_eq!(
        status.last_error.as_deref(),
        Some("sent NOTIFICATION Cease/Maximum Number of Prefixes Reached (6/1)")
    );

    // After `restart_after` the session may come up again.
    wait_for(
        "the session is accepted again",
        Duration::from_secs(15),
        || async {
            let Ok(mut again) = FakePeer::connect(peer, listen, None).await else {
                return false;
            };
            again
                .send(Message::Open(speaker_support::fake::open(
                    65009,
                    Ipv4Addr::new(198, 18, 9, 9),
                    90,
                    Vec::new(),
                )))
                .await;
            matches!(
                tokio::time::timeout(Duration::from_secs(1), again.receive()).await,
                Ok(Some(Message::Open(_)))
            )
        },
    )
    .await;
    assert_ne!(state(&speaker, peer).await, Some(State::Idle));
    speaker.shutdown().await.unwrap();
}
