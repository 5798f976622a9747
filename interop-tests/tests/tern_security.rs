//! TCP-MD5 (RFC 2385) against BIRD and FRR, over IPv4 and IPv6 sessions. GTSM is in
//! `tern_gtsm.rs`.

mod tern_common;

use std::time::{Duration, Instant};

use interop_tests::peers::PeerKind;
use interop_tests::tern::PeerSpec;
use tern_common::{
    PEER_AS, PEER_V4, PEER_V6, Setup, TERN_AS, TERN_V4, TERN_V6, addr, peer_v4_prefix,
    peer_v6_prefix, tern_v4_prefix,
};

const PASSWORD: &str = "tern-md5-secret";

/// How long a refused session is watched.
const REFUSED_FOR: Duration = Duration::from_secs(5);

/// The router has the right password, tern a wrong one: no session (v4 nor v6) for 5 s.
/// Then tern's peers are re-added with the right password: both come up and routes flow.
fn md5(kind: PeerKind) {
    let mut setup = Setup::new(kind, TERN_AS, PEER_AS);
    setup.peer_neighbor = |neighbor| neighbor.md5(PASSWORD);
    setup.tern_peer = |peer| peer.password("wrong-secret");
    let pair = tern_common::pair(&setup);
    for (peer, tern) in [(PEER_V4, TERN_V4), (PEER_V6, TERN_V6)] {
        let (state, error) = pair.assert_never_established(addr(peer), addr(tern), REFUSED_FOR);
        println!("{kind:?} wrong MD5 password, {peer}: tern stayed {state}, last error {error:?}");
    }
    let started = Instant::now();
    for (peer, tern, v4) in [(PEER_V4, TERN_V4, true), (PEER_V6, TERN_V6, false)] {
        pair.check(pair.tern.remove_peer(addr(peer)));
        let spec = PeerSpec::new(addr(peer), PEER_AS)
            .local_address(addr(tern))
            .families(v4, !v4)
            .password(PASSWORD);
        pair.check(pair.tern.add_peer(spec));
    }
    pair.wait_sessions(true);
    println!(
        "{kind:?} right MD5 password: both sessions Established after {} ms",
        started.elapsed().as_millis()
    );
    pair.assert_tern_has_peer_route(peer_v4_prefix(), addr(PEER_V4));
    pair.assert_tern_has_peer_route(peer_v6_prefix(), addr(PEER_V6));
    pair.assert_peer_has_tern_route(tern_v4_prefix(), addr(TERN_V4));
}

#[test]
fn tern_md5_with_bird() {
    md5(PeerKind::Bird);
}

#[test]
fn tern_md5_with_frr() {
    md5(PeerKind::Frr);
}
