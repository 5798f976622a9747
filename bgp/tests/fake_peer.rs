//! A speaker against a scripted peer over a plain TcpStream: hold timer expiry withdraws what
//! the peer announced; unknown peers are turned away; GTSM drops packets with a low TTL.

mod speaker_support;

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use bgp::packet::error::cease_subcode;
use bgp::packet::{Capability, Message, Notification, NotificationCode, Open};
use bgp::{PeerConfig, Speaker, State};
use speaker_support::fake::{FakePeer, announce};
use speaker_support::{speaker, state, wait_for};

async fn listening_speaker(address: Ipv4Addr, peer: Ipv4Addr) -> Speaker {
    let speaker = speaker(65001, address).await;
    let mut config = PeerConfig::new(IpAddr::V4(peer), 65009);
    config.passive = true;
    config.hold_time = 3;
    speaker.add_peer(config).await.unwrap();
    speaker
}

#[tokio::test]
async fn hold_timer_expiry_withdraws_learned_routes() {
    let address = Ipv4Addr::new(127, 0, 0, 31);
    let peer = Ipv4Addr::new(127, 0, 0, 32);
    let speaker = listening_speaker(address, peer).await;
    let mut fake = FakePeer::connect(peer, speaker.listen_addresses()[0], None)
        .await
        .unwrap();
    fake.establish(3).await;
    let prefix: ipnetwork::Ipv4Network = "198.51.100.0/24".parse().unwrap();
    fake.send(announce(peer, &["198.51.100.0/24"])).await;
    wait_for("the route is learned", Duration::from_secs(5), || async {
        speaker
            .loc_rib()
            .await
            .unwrap()
            .iter()
            .any(|r| r.prefix == ipnetwork::IpNetwork::V4(prefix))
    })
    .await;
    assert_eq!(state(&speaker, peer).await, Some(State::Established));

    // Now say nothing more. Within the 3 s hold time plus margin the speaker gives up.
    let notification = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match fake.receive().await {
                Some(Message::Notification(n)) => return Some(n),
                Some(_) => continue,
                None => return None,
            }
        }
    })
    .await
    .expect("the speaker reacts within the hold time")
    .expect("a NOTIFICATION before the close");
    assert_eq!(notification.code, NotificationCode::HoldTimerExpired);
    wait_for("the route is withdrawn", Duration::from_secs(5), || async {
        speaker.loc_rib().await.unwrap().is_empty()
    })
    .await;
    let status = speaker.peer(IpAddr::V4(peer)).await.unwrap().unwrap();
    assert_eq!(
        status.last_error.as_deref(),
        Some("sent NOTIFICATION Hold Timer Expired (4/0)")
    );
    speaker.shutdown().await.unwrap();
}

/// An Established session that the peer closes with Cease/Connection Collision Resolution
/// (the peer resolved a collision while its end was still in OpenConfirm) goes down, but the
/// session lives on over the other connection: no last error. Any other Cease is an error.
#[tokio::test]
async fn collision_resolution_on_an_established_session_is_not_an_error() {
    let address = Ipv4Addr::new(127, 0, 0, 41);
    let peer = Ipv4Addr::new(127, 0, 0, 42);
    let speaker = listening_speaker(address, peer).await;
    for (subcode, expected) in [
        (cease_subcode::CONNECTION_COLLISION_RESOLUTION, None),
        (
            cease_subcode::ADMINISTRATIVE_RESET,
            Some("received NOTIFICATION Cease/Administrative Reset (6/4)"),
        ),
    ] {
        let mut fake = FakePeer::connect(peer, speaker.listen_addresses()[0], None)
            .await
            .unwrap();
        fake.establish(3).await;
        wait_for("Established", Duration::from_secs(5), || async {
            state(&speaker, peer).await == Some(State::Established)
        })
        .await;
        fake.send(Message::Notification(Notification {
            code: NotificationCode::Cease,
            subcode,
            data: Default::default(),
        }))
        .await;
        wait_for("the session goes down", Duration::from_secs(5), || async {
            state(&speaker, peer).await != Some(State::Established)
        })
        .await;
        let status = speaker.peer(IpAddr::V4(peer)).await.unwrap().unwrap();
        assert_eq!(
            status.last_error.as_deref(),
            expected,
            "Cease subcode {subcode}"
        );
    }
    speaker.shutdown().await.unwrap();
}

/// A peer that connects the moment the listener opens: known when configured with the start
/// (it gets an OPEN), turned away when it arrives before a later `add_peer`.
#[tokio::test]
async fn peers_given_at_start_are_known_to_the_first_connection() {
    let address = Ipv4Addr::new(127, 0, 0, 43);
    let peer = Ipv4Addr::new(127, 0, 0, 44);
    let mut config = bgp::SpeakerConfig::new(65001, address);
    config.listen = vec![std::net::SocketAddr::new(IpAddr::V4(address), 0)];
    let mut peer_config = PeerConfig::new(IpAddr::V4(peer), 65009);
    peer_config.passive = true;

    let early = Speaker::start(config.clone()).await.unwrap();
    let mut fake = FakePeer::connect(peer, early.listen_addresses()[0], None)
        .await
        .unwrap();
    let received = tokio::time::timeout(Duration::from_secs(5), fake.receive())
        .await
        .expect("closed promptly");
    assert_eq!(received, None, "before add_peer the peer is unknown");
    early.shutdown().await.unwrap();

    let speaker = Speaker::start_with_peers(config.clone(), vec![peer_config.clone()])
        .await
        .unwrap();
    let mut fake = FakePeer::connect(peer, speaker.listen_addresses()[0], None)
        .await
        .unwrap();
    let received = tokio::time::timeout(Duration::from_secs(5), fake.receive())
        .await
        .expect("an answer");
    assert!(matches!(received, Some(Message::Open(_))), "{received:?}");
    speaker.shutdown().await.unwrap();

    // An invalid peer fails the start and leaves nothing listening.
    let mut invalid = peer_config;
    invalid.hold_time = 1;
    let error = Speaker::start_with_peers(config, vec![invalid])
        .await
        .expect_err("hold time 1 is invalid");
    assert!(
        matches!(error, bgp::SpeakerError::InvalidHoldTime(1)),
        "{error}"
    );
}

#[tokio::test]
async fn connections_from_unknown_addresses_are_closed() {
    let address = Ipv4Addr::new(127, 0, 0, 33);
    let speaker = listening_speaker(address, Ipv4Addr::new(127, 0, 0, 34)).await;
    let mut stranger = FakePeer::connect(
        Ipv4Addr::new(127, 0, 0, 35),
        speaker.listen_addresses()[0],
        None,
    )
    .await
    .unwrap();
    let received = tokio::time::timeout(Duration::from_secs(5), stranger.receive())
        .await
        .expect("closed promptly");
    assert_eq!(received, None, "closed without an OPEN");
    speaker.shutdown().await.unwrap();
}

#[tokio::test]
async fn wrong_peer_as_is_refused_with_bad_peer_as() {
    let address = Ipv4Addr::new(127, 0, 0, 36);
    let peer = Ipv4Addr::new(127, 0, 0, 37);
    let speaker = listening_speaker(address, peer).await;
    let mut fake = FakePeer::connect(peer, speaker.listen_addresses()[0], None)
        .await
        .unwrap();
    fake.send(Message::Open(Open {
        version: 4,
        my_as: 65010,
        hold_time: 90,
        bgp_identifier: Ipv4Addr::new(198, 18, 9, 9),
        capabilities: vec![Capability::FourOctetAs(65010)],
    }))
    .await;
    let mut notification = None;
    while let Ok(Some(message)) = tokio::time::timeout(Duration::from_secs(5), fake.receive()).await
    {
        if let Message::Notification(n) = message {
            notification = Some(n);
            break;
        }
    }
    let notification = notification.expect("a NOTIFICATION");
    assert_eq!(
        (notification.code, notification.subcode),
        (NotificationCode::OpenMessage, 2)
    );
    speaker.shutdown().await.unwrap();
}

#[tokio::test]
async fn gtsm_accepts_ttl_255_and_drops_lower_ttl() {
    let address = Ipv4Addr::new(127, 0, 0, 38);
    let peer = Ipv4Addr::new(127, 0, 0, 39);
    let speaker = speaker(65001, address).await;
    let mut config = PeerConfig::new(IpAddr::V4(peer), 65009);
    config.passive = true;
    config.ttl_security = Some(1);
    speaker.add_peer(config).await.unwrap();
    let listen = speaker.listen_addresses()[0];

    // TTL 64: the listener's IP_MINTTL 255 drops the SYN, so the connection never completes
    // (or, if it did, nothing is answered).
    let low = tokio::time::timeout(Duration::from_secs(2), async {
        let mut fake = FakePeer::connect(peer, listen, Some(64)).await.ok()?;
        fake.establish_quietly().await
    })
    .await;
    assert!(!matches!(low, Ok(Some(_))), "a low-TTL peer got an answer");

    // TTL 255: accepted.
    let mut fake = FakePeer::connect(peer, listen, Some(255)).await.unwrap();
    fake.establish(90).await;
    wait_for("Established", Duration::from_secs(5), || async {
        state(&speaker, peer).await == Some(State::Established)
    })
    .await;
    speaker.shutdown().await.unwrap();
}

impl FakePeer {
    /// Send an OPEN and return the first message answered, if any.
    async fn establish_quietly(&mut self) -> Option<Message> {
        self.send(Message::Open(Open {
            version: 4,
            my_as: 65009,
            hold_time: 90,
            bgp_identifier: Ipv4Addr::new(198, 18, 9, 9),
            capabilities: vec![Capability::FourOctetAs(65009)],
        }))
        .await;
        self.receive().await
    }
}
