//! BIRD and FRR against each other: plain eBGP, TCP-MD5, GTSM, runtime announce/withdraw.

mod common;

use common::{CONVERGE, Options, assert_exchange, fail, net, two_routers};
use interop_tests::peers::{PeerKind, Route};

#[test]
fn bird_and_frr_exchange_routes() {
    let (a, b) = two_routers(PeerKind::Bird, PeerKind::Frr, &Options::default());
    assert_exchange(&a, &b);
}

#[test]
fn bird_and_frr_with_tcp_md5() {
    let options = Options {
        md5: Some("tern-secret".into()),
        ..Options::default()
    };
    let (a, b) = two_routers(PeerKind::Bird, PeerKind::Frr, &options);
    assert_exchange(&a, &b);
}

#[test]
fn md5_mismatch_keeps_the_session_down() {
    let options = Options {
        md5: Some("tern-secret".into()),
        ..Options::default()
    };
    let (a, b) = two_routers(PeerKind::Bird, PeerKind::Frr, &options);
    // Restart FRR with a different password: the session must not come up.
    let mut b = b;
    let mut config = b.peer.config().clone();
    for neighbor in &mut config.neighbors {
        neighbor.md5_password = Some("other-secret".into());
    }
    b.peer.stop().expect("stop frr");
    b.peer = interop_tests::peers::start(PeerKind::Frr, &b.host, config).expect("restart frr");
    // Give the routers several connect attempts; the assertion is on state, not on timing.
    let error = b
        .peer
        .wait_established(a.v4, std::time::Duration::from_secs(8))
        .expect_err("session with mismatched MD5 must not establish");
    assert!(error.to_string().contains("state is"), "{error}");
}

#[test]
fn bird_and_frr_with_gtsm() {
    let options = Options {
        ttl_security: true,
        ..Options::default()
    };
    let (a, b) = two_routers(PeerKind::Bird, PeerKind::Frr, &options);
    assert_exchange(&a, &b);
}

#[test]
fn frr_and_bird_announce_and_withdraw_at_runtime() {
    let (mut a, mut b) = two_routers(PeerKind::Frr, PeerKind::Bird, &Options::default());
    assert_exchange(&a, &b);
    let extra_v4 = Route::new(net("198.51.100.128/25"))
        .community(65001, 99)
        .med(7);
    let extra_v6 = Route::new(net("2001:db8:101::/48"));
    for (side, route) in [(&mut a, &extra_v4), (&mut b, &extra_v6)] {
        side.peer.announce(route.clone()).expect("announce");
    }
    let received = b
        .peer
        .wait_route(extra_v4.prefix, CONVERGE)
        .unwrap_or_else(|e| fail(&a, &b, e));
    assert_eq!(received.communities, vec![(65001, 99)]);
    assert_eq!(received.med, Some(7));
    a.peer
        .wait_route(extra_v6.prefix, CONVERGE)
        .unwrap_or_else(|e| fail(&a, &b, e));
    a.peer.withdraw(extra_v4.prefix).expect("withdraw");
    b.peer.withdraw(extra_v6.prefix).expect("withdraw");
    b.peer
        .wait_no_route(extra_v4.prefix, CONVERGE)
        .unwrap_or_else(|e| fail(&a, &b, e));
    a.peer
        .wait_no_route(extra_v6.prefix, CONVERGE)
        .unwrap_or_else(|e| fail(&a, &b, e));
    // The original routes are untouched.
    b.peer
        .wait_route(a.v4_route.prefix, CONVERGE)
        .unwrap_or_else(|e| fail(&a, &b, e));
}
