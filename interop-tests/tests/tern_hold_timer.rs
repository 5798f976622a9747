//! Hold timer (RFC 4271 §4.4, §8.2.2 HoldTimer_Expires): a router that stops talking (SIGSTOP:
//! sockets open, no keepalives) is dropped after the negotiated hold time, and what tern
//! learned from it is withdrawn.

mod tern_common;

use std::time::{Duration, Instant};

use interop_tests::peers::{PeerKind, SessionState};
use tern_common::{Ipv6, PEER_AS, PEER_V4, Setup, TERN_AS, addr, peer_v4_prefix};

const HOLD: u16 = 3;

fn hold_timer(kind: PeerKind) {
    let mut setup = Setup::new(kind, TERN_AS, PEER_AS);
    setup.ipv6 = Ipv6::None;
    setup.tern_peer = |peer| peer.hold_time(HOLD);
    setup.peer_neighbor = |neighbor| neighbor.hold_time(HOLD);
    let pair = tern_common::pair(&setup);
    pair.wait_sessions(false);
    pair.assert_tern_has_peer_route(peer_v4_prefix(), addr(PEER_V4));
    let entry = pair.check(pair.tern.peer(addr(PEER_V4)));
    assert_eq!(
        entry.hold_time,
        Some(HOLD),
        "negotiated hold time: {entry:?}"
    );

    pair.check(pair.peer.freeze());
    let frozen = Instant::now();
    let hold = Duration::from_secs(u64::from(HOLD));
    let deadline = frozen + hold + Duration::from_secs(2);
    let (dropped_after, entry) = loop {
        let entry = pair.check(pair.tern.peer(addr(PEER_V4)));
        if SessionState::from_word(&entry.state) != SessionState::Established {
            break (frozen.elapsed(), entry);
        }
        if Instant::now() >= deadline {
            let _ = pair.peer.thaw();
            pair.fail(format!(
                "tern still Established {} ms after freezing {kind:?} (hold time {HOLD} s)",
                frozen.elapsed().as_millis()
            ));
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    // What tern learned from the frozen router is gone, while the router is still frozen.
    let routes = pair.check(pair.tern.routes_for(peer_v4_prefix()));
    let _ = pair.peer.thaw();
    println!(
        "{kind:?} frozen: tern left Established after {} ms (hold {HOLD} s), now {}, last error {:?}",
        dropped_after.as_millis(),
        entry.state,
        entry.last_error
    );
    assert!(
        dropped_after >= hold - Duration::from_secs(1),
        "tern dropped the session after only {} ms (hold {HOLD} s)",
        dropped_after.as_millis()
    );
    assert!(
        routes.is_empty(),
        "tern kept routes of the dropped {kind:?} session: {routes:?}"
    );
    let error = entry.last_error.unwrap_or_default().to_lowercase();
    assert!(
        error.contains("hold"),
        "last error should name the hold timer: {error:?}"
    );
}

#[test]
fn tern_hold_timer_with_bird() {
    hold_timer(PeerKind::Bird);
}

#[test]
fn tern_hold_timer_with_frr() {
    hold_timer(PeerKind::Frr);
}

#[test]
fn tern_hold_timer_with_gobgp() {
    hold_timer(PeerKind::GoBgp);
}

#[test]
fn tern_hold_timer_with_exabgp() {
    hold_timer(PeerKind::ExaBgp);
}
