//! Max-prefix (RFC 4486) with a real peer (issue 3, acceptance point 5): a GoBGP peer that
//! sends more prefixes than tern's limit gets NOTIFICATION Cease / Maximum Number of
//! Prefixes Reached (6/1), as GoBGP itself reports it, and its routes leave tern's Loc-RIB.

mod tern_common;
mod tern_lab;

use std::net::IpAddr;

use interop_tests::Host;
use interop_tests::peers::gobgp::GoBgp;
use interop_tests::peers::{BgpPeer, Neighbor, PeerConfig, Route};
use interop_tests::tern::{MaxPrefixSpec, PeerSpec, SpeakerSpec, TernSpeaker};
use tern_lab::{CONVERGE, Lab, net};

const TERN_AS: u32 = 65001;
const GOBGP_AS: u32 = 65002;
const LIMIT: u32 = 10;

/// tern (.1) and a GoBGP peer (.2) established; tern's limit on the peer is `max`.
struct Setup {
    lab: Lab,
    gobgp_host: Host,
    gobgp: GoBgp,
    tern: TernSpeaker,
    gobgp_address: IpAddr,
}

fn setup(label: &str, subnet: [u8; 3], max: MaxPrefixSpec) -> Setup {
    let mut lab = Lab::new(label, subnet);
    let tern_host = lab.host("tern", 1);
    let gobgp_host = lab.host("gobgp", 2);
    let (tern_address, gobgp_address) = (lab.address(1), lab.address(2));
    let gobgp_config = PeerConfig::new(gobgp_address, GOBGP_AS).neighbor(
        Neighbor::new(IpAddr::V4(tern_address), TERN_AS).local_address(IpAddr::V4(gobgp_address)),
    );
    let gobgp = GoBgp::start(&gobgp_host, gobgp_config)
        .unwrap_or_else(|e| lab.fail(format!("start GoBGP: {e}")));
    let mut peer = PeerSpec::new(IpAddr::V4(gobgp_address), GOBGP_AS)
        .local_address(IpAddr::V4(tern_address))
        .families(true, false);
    peer.max_prefixes = Some(max);
    let tern = lab.tern(
        &tern_host,
        SpeakerSpec::new(TERN_AS, tern_address).peer(peer),
    );
    lab.established(&gobgp, tern_address);
    Setup {
        lab,
        gobgp_host,
        gobgp,
        tern,
        gobgp_address: IpAddr::V4(gobgp_address),
    }
}

#[test]
fn gobgp_sending_more_than_the_limit_gets_cease_1() {
    let Setup {
        lab,
        gobgp_host,
        mut gobgp,
        tern,
        gobgp_address,
    } = setup(
        "maxp",
        [198, 18, 33],
        MaxPrefixSpec {
            limit: LIMIT,
            warning_threshold_percent: 0,
            restart_after_ms: None,
        },
    );
    // Up to the limit: accepted, the session stays.
    let prefixes: Vec<_> = (0..=LIMIT)
        .map(|i| net(&format!("198.19.33.{}/32", i * 4)))
        .collect();
    for prefix in &prefixes[..LIMIT as usize] {
        lab.check(gobgp.announce(Route::new(*prefix)));
    }
    lab.wait("tern to accept the limit's worth", CONVERGE, || {
        let peer = tern.peer(gobgp_address).map_err(|e| e.to_string())?;
        Ok((peer.prefixes_received == LIMIT as usize && peer.state == "Established").then_some(()))
    });
    // One more: Cease/1.
    lab.check(gobgp.announce(Route::new(prefixes[LIMIT as usize])));
    // GoBGP logs (with --log-plain, on stdout) `received notification Code=6 Data="[0 1 1
    // 0 0 0 10]" ... Subcode=1` and `Peer Down ... Reason="notification-received code
    // 6(cease) subcode 1(maximum number of prefixes reached)"`.
    let log_path = gobgp_host.dir().join("gobgpd.stdout");
    let notification = lab.wait("GoBGP to receive Cease/1", CONVERGE, || {
        let log = std::fs::read_to_string(&log_path).map_err(|e| e.to_string())?;
        Ok(log
            .lines()
            .find(|line| line.contains("received notification"))
            .map(str::to_string))
    });
    println!("GoBGP: {notification}");
    assert!(
        notification.contains("Code=6") && notification.contains("Subcode=1"),
        "GoBGP's notification: {notification}"
    );
    // RFC 4486 §4 data: AFI 1, SAFI 1, the limit as 4 octets.
    assert!(
        notification.contains(&format!("Data=\"[0 1 1 0 0 0 {LIMIT}]\"")),
        "GoBGP's notification data: {notification}"
    );
    let log = std::fs::read_to_string(&log_path).unwrap_or_default();
    assert!(
        log.contains("subcode 1(maximum number of prefixes reached)"),
        "GoBGP's Peer Down reason:\n{log}"
    );
    let status = lab.check(tern.peer(gobgp_address));
    println!("tern: {status:?}");
    assert_ne!(status.state, "Established", "{status:?}");
    assert!(
        status
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("6/1")),
        "{status:?}"
    );
    lab.check(tern.wait_no_route(prefixes[0], CONVERGE));
    // Without a restart timer tern stays down, though GoBGP keeps trying.
    let state = lab.check(tern.peer_state(gobgp_address));
    assert!(!state.is_established(), "{state}");
    let gobgp_state = lab.check(gobgp.session_state(IpAddr::V4(lab.address(1))));
    assert!(!gobgp_state.is_established(), "GoBGP: {gobgp_state}");
}

/// With a warning threshold (80 %) and a restart timer (2 s): tern warns at 8 prefixes,
/// closes at 11, starts the session again after the timer, and closes it again because GoBGP
/// still sends 11.
#[test]
fn warning_threshold_and_restart_timer() {
    let Setup {
        lab,
        gobgp_host,
        mut gobgp,
        tern,
        ..
    } = setup(
        "maxr",
        [198, 18, 37],
        MaxPrefixSpec {
            limit: LIMIT,
            warning_threshold_percent: 80,
            restart_after_ms: Some(2000),
        },
    );
    let tern_log = || std::fs::read_to_string(tern.process().stderr_path()).unwrap_or_default();
    let prefixes: Vec<_> = (0..=LIMIT)
        .map(|i| net(&format!("198.19.37.{}/32", i * 4)))
        .collect();
    for prefix in &prefixes[..8] {
        lab.check(gobgp.announce(Route::new(*prefix)));
    }
    lab.wait("tern to warn at 80 % of the limit", CONVERGE, || {
        Ok(tern_log()
            .contains("prefix limit nearly reached")
            .then_some(()))
    });
    for prefix in &prefixes[8..] {
        lab.check(gobgp.announce(Route::new(*prefix)));
    }
    let log_path = gobgp_host.dir().join("gobgpd.stdout");
    let notifications = || {
        std::fs::read_to_string(&log_path)
            .unwrap_or_default()
            .lines()
            .filter(|line| {
                line.contains("received notification")
                    && line.contains("Code=6")
                    && line.contains("Subcode=1")
            })
            .count()
    };
    lab.wait("GoBGP to receive Cease/1", CONVERGE, || {
        Ok((notifications() >= 1).then_some(()))
    });
    let first = std::time::Instant::now();
    // The restart timer brings the session back, and the limit closes it again. (tern
    // connects again exactly when the timer ends; GoBGP closes connections for a few more
    // seconds after a Cease, so the second Cease comes ~5.7 s after the first.)
    lab.wait(
        "tern to restart the session and close it again",
        CONVERGE,
        || Ok((notifications() >= 2).then_some(())),
    );
    println!(
        "second Cease/1 {} ms after the first (restart timer 2000 ms)",
        tern_lab::ms(first.elapsed())
    );
    let log = tern_log();
    let closes = log.matches("prefix limit exceeded").count();
    assert!(closes >= 2, "tern closed {closes} times:\n{log}");
}
