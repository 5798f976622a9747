//! A passive side never opens the connection: its established BGP sockets all have local port
//! 179 (it accepted them), checked with `ss`.

mod common;

use common::{Options, assert_exchange, two_routers};
use interop_tests::peers::PeerKind;

fn passive_side_only_accepts(passive: PeerKind, active: PeerKind) {
    let options = Options {
        a_passive: true,
        ..Options::default()
    };
    let (a, b) = two_routers(passive, active, &options);
    assert_exchange(&a, &b);
    let sockets = a
        .host
        .run("ss -tnH state established '( sport = :179 or dport = :179 )'")
        .expect("ss");
    let lines: Vec<&str> = sockets.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 2, "one v4 and one v6 session: {sockets}");
    for line in lines {
        let local = line.split_whitespace().nth(2).unwrap_or_default();
        assert!(
            local.ends_with(":179"),
            "{passive:?} accepted, not connected: {line}"
        );
    }
}

#[test]
fn bird_passive_accepts_only() {
    passive_side_only_accepts(PeerKind::Bird, PeerKind::GoBgp);
}

#[test]
fn frr_passive_accepts_only() {
    passive_side_only_accepts(PeerKind::Frr, PeerKind::Bird);
}

#[test]
fn gobgp_passive_accepts_only() {
    passive_side_only_accepts(PeerKind::GoBgp, PeerKind::Frr);
}
