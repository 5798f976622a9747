//! Daemon lifecycle through the drivers: freeze (hold timer expiry), graceful restart (stale
//! paths while the restarting side is down), restart, and capability options.

mod common;

use std::net::IpAddr;

use common::{CONVERGE, Options, assert_exchange, fail, two_routers};
use interop_tests::peers::{BgpPeer, Bird, ExaBgp, Neighbor, PeerConfig, PeerKind, SessionState};
use interop_tests::{Host, Veth, wait_until};

#[test]
fn freeze_stops_keepalives_and_thaw_recovers() {
    let options = Options {
        hold_time: Some(3),
        ..Options::default()
    };
    let (a, b) = two_routers(PeerKind::Bird, PeerKind::Frr, &options);
    assert_exchange(&a, &b);
    b.peer.freeze().expect("freeze FRR");
    // BIRD's hold timer (3 s) expires: the session leaves Established and FRR's routes go.
    wait_until("BIRD to drop the frozen FRR", CONVERGE, || {
        let state = a.peer.session_state(b.v4)?;
        match state {
            SessionState::Established => {
                Err(interop_tests::Error::Unsupported(format!("still {state}")))
            }
            _ => Ok(Some(())),
        }
    })
    .unwrap_or_else(|e| fail(&a, &b, e));
    a.peer
        .wait_no_route(b.v4_route.prefix, CONVERGE)
        .unwrap_or_else(|e| fail(&a, &b, e));
    b.peer.thaw().expect("thaw FRR");
    assert_exchange(&a, &b);
}

fn graceful_restart_keeps_stale_paths(helper: PeerKind) {
    let options = Options {
        graceful_restart: true,
        ..Options::default()
    };
    let (mut a, b) = two_routers(PeerKind::Bird, helper, &options);
    assert_exchange(&a, &b);
    let prefix = a.v4_route.prefix;
    let before = b.peer.wait_route(prefix, CONVERGE).expect("route");
    assert!(!before.stale, "fresh path is not stale: {before:?}");
    // SIGKILL: no NOTIFICATION, the helper keeps BIRD's paths, marked stale.
    a.peer.kill().expect("kill BIRD");
    wait_until("helper to mark BIRD's path stale", CONVERGE, || {
        let routes = b.peer.routes_for(prefix)?;
        match routes.iter().any(|route| route.stale) {
            true => Ok(Some(())),
            false => Err(interop_tests::Error::Unsupported(format!(
                "paths {routes:?}"
            ))),
        }
    })
    .unwrap_or_else(|e| fail(&a, &b, e));
    a.peer.restart().expect("restart BIRD");
    assert_exchange(&a, &b);
    wait_until("path to be fresh again", CONVERGE, || {
        let routes = b.peer.routes_for(prefix)?;
        match !routes.is_empty() && routes.iter().all(|route| !route.stale) {
            true => Ok(Some(())),
            false => Err(interop_tests::Error::Unsupported(format!(
                "paths {routes:?}"
            ))),
        }
    })
    .unwrap_or_else(|e| fail(&a, &b, e));
}

#[test]
fn frr_keeps_stale_paths_while_bird_restarts() {
    graceful_restart_keeps_stale_paths(PeerKind::Frr);
}

#[test]
fn gobgp_keeps_stale_paths_while_bird_restarts() {
    graceful_restart_keeps_stale_paths(PeerKind::GoBgp);
}

#[test]
fn restart_brings_sessions_and_routes_back() {
    let (a, mut b) = two_routers(PeerKind::ExaBgp, PeerKind::GoBgp, &Options::default());
    assert_exchange(&a, &b);
    b.peer.stop().expect("stop GoBGP");
    a.peer
        .wait_no_route(b.v4_route.prefix, CONVERGE)
        .unwrap_or_else(|e| fail(&a, &b, e));
    b.peer.restart().expect("restart GoBGP");
    assert_exchange(&a, &b);
}

#[test]
fn exabgp_without_four_octet_as_capability_peers_with_bird() {
    let host_a = Host::new("bird-as4").expect("host");
    let host_b = Host::new("exa-as2").expect("host");
    Veth::with_addresses(
        &host_a,
        &[common::net("198.18.30.1/24")],
        &host_b,
        &[common::net("198.18.30.2/24")],
    )
    .expect("veth");
    let a_address: IpAddr = common::addr("198.18.30.1");
    let b_address: IpAddr = common::addr("198.18.30.2");
    let bird = Bird::start(
        &host_a,
        PeerConfig::new("198.18.30.1".parse().expect("id"), 65001)
            .neighbor(Neighbor::new(b_address, 65002)),
    )
    .expect("bird");
    let exabgp = ExaBgp::start(
        &host_b,
        PeerConfig::new("198.18.30.2".parse().expect("id"), 65002)
            .neighbor(
                Neighbor::new(a_address, 65001)
                    .local_address(b_address)
                    .disable_four_octet_as(),
            )
            .route(interop_tests::peers::Route::new(common::net(
                "203.0.113.0/24",
            ))),
    )
    .expect("exabgp");
    bird.wait_established(b_address, CONVERGE)
        .unwrap_or_else(|e| panic!("{e}\n{}", interop_tests::logs::dump(&[&host_a, &host_b])));
    let route = bird
        .wait_route(common::net("203.0.113.0/24"), CONVERGE)
        .expect("route");
    assert_eq!(route.as_path, vec![65002]);
    let protocol = bird
        .birdc(&["show", "protocols", "all", "n0"])
        .expect("birdc");
    let neighbor_caps = protocol
        .split("Neighbor capabilities")
        .nth(1)
        .and_then(|rest| rest.split("Session:").next())
        .unwrap_or_default()
        .to_string();
    assert!(!neighbor_caps.is_empty(), "{protocol}");
    assert!(
        !neighbor_caps.contains("4-octet AS numbers"),
        "ExaBGP must not advertise AS4: {neighbor_caps}"
    );
    drop(exabgp);
}

/// With GTSM both BIRD and FRR send every BGP packet with TTL 255 (RFC 5082 §3); without it,
/// eBGP packets leave with TTL 1. Checked on the wire with tcpdump.
fn ttls_on_the_wire(ttl_security: bool) -> Vec<u8> {
    let options = Options {
        ttl_security,
        hold_time: Some(3),
        ..Options::default()
    };
    let (a, b) = two_routers(PeerKind::Bird, PeerKind::Frr, &options);
    assert_exchange(&a, &b);
    // Keepalives flow every second in both directions; capture a few (IPv4 session only).
    let capture = a
        .host
        .spawn(
            "tcpdump",
            "tcpdump",
            &[
                "-n", "-v", "-l", "-i", "eth0", "-c", "6", "ip", "and", "tcp", "port", "179",
            ],
        )
        .expect("tcpdump");
    wait_until("tcpdump to capture 6 packets", CONVERGE, || {
        Ok::<_, interop_tests::Error>((!capture.is_running()).then_some(()))
    })
    .unwrap_or_else(|e| fail(&a, &b, e));
    let text = std::fs::read_to_string(capture.stdout_path()).expect("capture");
    let ttls: Vec<u8> = text
        .split("ttl ")
        .skip(1)
        .filter_map(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
        .filter_map(|ttl| ttl.parse().ok())
        .collect();
    assert_eq!(ttls.len(), 6, "{text}");
    ttls
}

#[test]
fn gtsm_sessions_send_ttl_255_both_ways() {
    let ttls = ttls_on_the_wire(true);
    assert!(ttls.iter().all(|ttl| *ttl == 255), "{ttls:?}");
}

#[test]
fn plain_ebgp_sessions_send_ttl_1() {
    let ttls = ttls_on_the_wire(false);
    assert!(ttls.iter().all(|ttl| *ttl == 1), "{ttls:?}");
}
