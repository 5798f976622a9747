//! Graceful restart (RFC 4724) with a scripted peer and between loopback speakers: as a
//! helper we keep a restarting peer's routes stale and sweep what it does not announce again;
//! as a restarting speaker we send R and F, and hold selection until End-of-RIB or the
//! deferral time.

mod speaker_support;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use bgp::packet::{Capability, Message, Notification, NotificationCode, PathAttributes, Update};
use bgp::{GracefulRestartConfig, PeerConfig, Route, Speaker, SpeakerConfig};
use ipnetwork::{IpNetwork, Ipv4Network};
use speaker_support::fake::{FakePeer, announce, graceful_restart, open};
use speaker_support::{peer_of, speaker, wait_established, wait_for};
use tokio::time::Instant;

const PEER_ASN: u32 = 65009;

fn v4(s: &str) -> Ipv4Network {
    s.parse().unwrap()
}

fn end_of_rib() -> Message {
    Message::Update(Update::default())
}

async fn routes(speaker: &Speaker) -> Vec<Route> {
    speaker.loc_rib().await.unwrap()
}

/// A speaker at `address` with a passive GR peer at `peer`.
async fn helper(address: Ipv4Addr, peer: Ipv4Addr) -> Speaker {
    let speaker = speaker(65001, address).await;
    let mut config = PeerConfig::new(IpAddr::V4(peer), PEER_ASN);
    config.passive = true;
    config.graceful_restart = Some(GracefulRestartConfig::default());
    speaker.add_peer(config).await.unwrap();
    speaker
}

/// Connect from `peer`, establish with a GR capability, announce `prefixes`.
async fn restarting_peer(
    speaker: &Speaker,
    peer: Ipv4Addr,
    restart_time: u16,
    restarting: bool,
    prefixes: &[&str],
) -> FakePeer {
    let mut fake = FakePeer::connect(peer, speaker.listen_addresses()[0], None)
        .await
        .unwrap();
    let theirs = fake
        .establish_with(open(
            PEER_ASN,
            Ipv4Addr::new(198, 18, 9, 9),
            90,
            vec![graceful_restart(restart_time, restarting)],
        ))
        .await;
    assert!(
        theirs
            .capabilities
            .iter()
            .any(|c| matches!(c, Capability::GracefulRestart(gr) if !gr.restarting)),
        "the speaker offers graceful restart"
    );
    if !prefixes.is_empty() {
        fake.send(announce(peer, prefixes)).await;
    }
    fake
}

async fn all_stale(speaker: &Speaker, count: usize) -> bool {
    let routes = routes(speaker).await;
    routes.len() == count && routes.iter().all(|r| r.path.stale && r.best)
}

#[tokio::test]
async fn helper_keeps_routes_stale_and_sweeps_what_is_not_announced_again_before_end_of_rib() {
    let (address, peer) = (Ipv4Addr::new(127, 0, 0, 111), Ipv4Addr::new(127, 0, 0, 112));
    let speaker = helper(address, peer).await;
    let prefixes = ["198.51.100.0/24", "198.51.101.0/24", "198.51.102.0/24"];
    let fake = restarting_peer(&speaker, peer, 120, false, &prefixes).await;
    wait_for("three routes", Duration::from_secs(5), || async {
        routes(&speaker).await.len() == 3
    })
    .await;
    assert!(routes(&speaker).await.iter().all(|r| !r.path.stale));

    drop(fake); // TCP goes without a NOTIFICATION: the peer is restarting.
    wait_for(
        "the routes are kept, stale",
        Duration::from_secs(5),
        || async { all_stale(&speaker, 3).await },
    )
    .await;
    let status = speaker.peer(IpAddr::V4(peer)).await.unwrap().unwrap();
    assert_eq!((status.prefixes_received, status.prefixes_stale), (3, 3));

    let mut back = restarting_peer(&speaker, peer, 120, true, &["198.51.100.0/24"]).await;
    back.send(end_of_rib()).await;
    wait_for("the others are swept", Duration::from_secs(5), || async {
        routes(&speaker).await.len() == 1
    })
    .await;
    let kept = routes(&speaker).await.pop().unwrap();
    assert_eq!(kept.prefix, IpNetwork::V4(v4("198.51.100.0/24")));
    assert!(!kept.path.stale, "announced again: fresh");
    speaker.shutdown().await.unwrap();
}

#[tokio::test]
async fn helper_removes_stale_routes_when_the_peer_is_not_back_within_its_restart_time() {
    let (address, peer) = (Ipv4Addr::new(127, 0, 0, 113), Ipv4Addr::new(127, 0, 0, 114));
    let speaker = helper(address, peer).await;
    let fake = restarting_peer(&speaker, peer, 4, false, &["198.51.100.0/24"]).await;
    wait_for("the route", Duration::from_secs(5), || async {
        routes(&speaker).await.len() == 1
    })
    .await;
    drop(fake);
    wait_for("stale", Duration::from_secs(2), || async {
        all_stale(&speaker, 1).await
    })
    .await;
    wait_for(
        "removed after the 2 s restart time",
        Duration::from_secs(10),
        || async { routes(&speaker).await.is_empty() },
    )
    .await;
    speaker.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_notification_ends_the_session_without_graceful_restart() {
    let (address, peer) = (Ipv4Addr::new(127, 0, 0, 115), Ipv4Addr::new(127, 0, 0, 116));
    let speaker = helper(address, peer).await;
    let mut fake = restarting_peer(&speaker, peer, 120, false, &["198.51.100.0/24"]).await;
    wait_for("the route", Duration::from_secs(5), || async {
        routes(&speaker).await.len() == 1
    })
    .await;
    fake.send(Message::Notification(Notification::new(
        NotificationCode::Cease,
        2,
        Vec::new(),
    )))
    .await;
    // Well within the 120 s restart time.
    wait_for("withdrawn at once", Duration::from_secs(5), || async {
        routes(&speaker).await.is_empty()
    })
    .await;
    speaker.shutdown().await.unwrap();
}

async fn restarting_speaker(address: Ipv4Addr, deferral: Duration) -> Speaker {
    let mut config = SpeakerConfig::new(65001, address);
    config.listen = vec![SocketAddr::new(IpAddr::V4(address), 0)];
    config.restarting = true;
    config.selection_deferral = deferral;
    Speaker::start(config).await.unwrap()
}

#[tokio::test]
async fn restarting_speaker_sends_r_and_f_and_advertises_only_after_the_peers_end_of_rib() {
    let (address, peer) = (Ipv4Addr::new(127, 0, 0, 117), Ipv4Addr::new(127, 0, 0, 118));
    let speaker = restarting_speaker(address, Duration::from_secs(600)).await;
    let mut config = PeerConfig::new(IpAddr::V4(peer), PEER_ASN);
    config.passive = true;
    config.graceful_restart = Some(GracefulRestartConfig {
        restart_time: Duration::from_secs(90),
    });
    speaker.add_peer(config).await.unwrap();
    speaker
        .originate(
            "198.19.117.0/24".parse().unwrap(),
            PathAttributes::default(),
        )
        .await
        .unwrap();
    let mut changes = speaker.subscribe();

    let mut fake = FakePeer::connect(peer, speaker.listen_addresses()[0], None)
        .await
        .unwrap();
    let theirs = fake
        .establish_with(open(
            PEER_ASN,
            Ipv4Addr::new(198, 18, 9, 9),
            90,
            vec![graceful_restart(120, false)],
        ))
        .await;
    let gr = theirs
        .capabilities
        .iter()
        .find_map(|c| match c {
            Capability::GracefulRestart(gr) => Some(gr.clone()),
            _ => None,
        })
        .expect("graceful restart offered");
    assert!(gr.restarting, "R bit");
    assert_eq!(gr.restart_time, 90);
    assert!(gr.families.iter().all(|f| f.forwarding_preserved), "F bits");
    assert!(!gr.families.is_empty());

    fake.send(announce(peer, &["198.51.100.0/24"])).await;
    wait_for(
        "the peer's route is in the Loc-RIB",
        Duration::from_secs(5),
        || async { routes(&speaker).await.len() == 2 },
    )
    .await;
    // Selection is deferred: nothing advertised, nothing published yet.
    let status = speaker.peer(IpAddr::V4(peer)).await.unwrap().unwrap();
    assert_eq!(status.prefixes_advertised, 0);
    assert!(changes.try_recv().is_err());

    fake.send(end_of_rib()).await;
    let table = fake.receive_update().await;
    assert_eq!(table.nlri, vec![v4("198.19.117.0/24")]);
    let end = fake.receive_update().await;
    assert!(end.is_end_of_rib());
    let mut published = Vec::new();
    while let Ok(Ok(change)) = tokio::time::timeout(Duration::from_secs(2), changes.recv()).await {
        published.push(change.prefix);
        if published.len() == 2 {
            break;
        }
    }
    published.sort();
    assert_eq!(
        published,
        vec![
            IpNetwork::V4(v4("198.19.117.0/24")),
            IpNetwork::V4(v4("198.51.100.0/24"))
        ]
    );
    speaker.shutdown().await.unwrap();
}

#[tokio::test]
async fn restarting_speaker_advertises_when_the_selection_deferral_runs_out() {
    let (address, peer) = (Ipv4Addr::new(127, 0, 0, 119), Ipv4Addr::new(127, 0, 0, 120));
    let started = Instant::now();
    let deferral = Duration::from_secs(2);
    let speaker = restarting_speaker(address, deferral).await;
    // A GR peer that never comes, and a plain one that does.
    let mut absent = PeerConfig::new(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 250)), PEER_ASN);
    absent.passive = true;
    absent.graceful_restart = Some(GracefulRestartConfig::default());
    speaker.add_peer(absent).await.unwrap();
    let mut present = PeerConfig::new(IpAddr::V4(peer), PEER_ASN);
    present.passive = true;
    speaker.add_peer(present).await.unwrap();
    speaker
        .originate(
            "198.19.119.0/24".parse().unwrap(),
            PathAttributes::default(),
        )
        .await
        .unwrap();
    let mut fake = FakePeer::connect(peer, speaker.listen_addresses()[0], None)
        .await
        .unwrap();
    fake.establish(90).await;
    let table = fake.receive_update().await;
    assert_eq!(table.nlri, vec![v4("198.19.119.0/24")]);
    assert!(
        started.elapsed() >= deferral,
        "held until the deferral ran out"
    );
    assert!(fake.receive_update().await.is_end_of_rib());
    speaker.shutdown().await.unwrap();
}

#[tokio::test]
async fn shutdown_for_restart_keeps_our_routes_at_the_peer_until_we_are_back() {
    let (a_address, b_address) = (Ipv4Addr::new(127, 0, 0, 121), Ipv4Addr::new(127, 0, 0, 122));
    let gr = Some(GracefulRestartConfig::default());
    let prefix: IpNetwork = "198.19.121.0/24".parse().unwrap();
    let a = speaker(65001, a_address).await;
    let b = speaker(65002, b_address).await;
    let mut to_b = peer_of(&b, a_address);
    to_b.graceful_restart = gr;
    a.add_peer(to_b.clone()).await.unwrap();
    let mut to_a = peer_of(&a, b_address);
    to_a.graceful_restart = gr;
    b.add_peer(to_a).await.unwrap();
    wait_established(&b, a_address).await;
    a.originate(prefix, PathAttributes::default())
        .await
        .unwrap();
    wait_for("B learns the prefix", Duration::from_secs(10), || async {
        routes(&b).await.iter().any(|r| r.prefix == prefix)
    })
    .await;

    a.shutdown_for_restart().await.unwrap();
    wait_for("B keeps it, stale", Duration::from_secs(10), || async {
        all_stale(&b, 1).await
    })
    .await;

    // A comes back (a new process in real life), restarting.
    let mut config = SpeakerConfig::new(65001, a_address);
    config.listen = vec![SocketAddr::new(IpAddr::V4(a_address), 0)];
    config.restarting = true;
    let a = Speaker::start(config).await.unwrap();
    a.add_peer(to_b).await.unwrap();
    a.originate(prefix, PathAttributes::default())
        .await
        .unwrap();
    wait_for("B has it fresh again", Duration::from_secs(20), || async {
        let routes = routes(&b).await;
        routes.len() == 1 && !routes[0].path.stale
    })
    .await;
    a.shutdown().await.unwrap();
    b.shutdown().await.unwrap();
}
