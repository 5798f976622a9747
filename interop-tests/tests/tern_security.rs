//! Session security against real routers: TCP-MD5 (RFC 2385) with BIRD and FRR, GTSM
//! (RFC 5082) against a router two hops away.

mod tern_common;

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use interop_tests::peers::{self, BgpPeer, Neighbor, PeerConfig, PeerKind, Route, SessionState};
use interop_tests::tern::{PeerSpec, SpeakerSpec, TernSpeaker};
use interop_tests::{Host, Veth, logs};
use tern_common::{
    CONVERGE, PEER_AS, PEER_V4, PEER_V6, Setup, TERN_AS, TERN_V4, TERN_V6, addr, net,
    peer_v4_prefix, peer_v6_prefix, tern_binary, tern_v4_prefix,
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

/// tern (198.18.2.1) — router (198.18.2.254 | 198.18.3.254, forwarding) — BIRD (198.18.3.2),
/// BIRD configured `multihop 255` towards tern.
struct TwoHops {
    tern_host: Host,
    _router: Host,
    peer_host: Host,
    tern: TernSpeaker,
    peer: Box<dyn BgpPeer>,
}

const TERN_FAR: &str = "198.18.2.1";
const PEER_FAR: &str = "198.18.3.2";

impl TwoHops {
    fn new() -> TwoHops {
        let tern_host = Host::new("tern-gtsm").expect("tern host");
        let router = Host::new("gtsm-router").expect("router host");
        let peer_host = Host::new("peer-gtsm").expect("peer host");
        Veth::with_addresses(
            &tern_host,
            &[net("198.18.2.1/24")],
            &router,
            &[net("198.18.2.254/24")],
        )
        .expect("veth tern-router");
        Veth::with_addresses(
            &router,
            &[net("198.18.3.254/24")],
            &peer_host,
            &[net("198.18.3.2/24")],
        )
        .expect("veth router-peer");
        router.enable_forwarding().expect("forwarding");
        tern_host
            .add_route(net("198.18.3.0/24"), addr("198.18.2.254"))
            .expect("tern route");
        peer_host
            .add_route(net("198.18.2.0/24"), addr("198.18.3.254"))
            .expect("peer route");
        let config = PeerConfig::new(Ipv4Addr::new(198, 18, 3, 2), PEER_AS)
            .neighbor(
                Neighbor::new(addr(TERN_FAR), TERN_AS)
                    .local_address(addr(PEER_FAR))
                    .multihop(255),
            )
            .route(Route::new(peer_v4_prefix()));
        let peer = peers::start(PeerKind::Bird, &peer_host, config).expect("start BIRD");
        let spec = SpeakerSpec::new(TERN_AS, Ipv4Addr::new(198, 18, 2, 1));
        let tern = TernSpeaker::start(&tern_host, tern_binary(), spec).expect("start tern");
        TwoHops {
            tern_host,
            _router: router,
            peer_host,
            tern,
            peer,
        }
    }

    fn fail(&self, error: impl std::fmt::Display) -> ! {
        panic!(
            "{error}\n{}",
            logs::dump(&[&self.tern_host, &self.peer_host])
        )
    }

    fn set_peer(&self, spec: PeerSpec) {
        let peer: IpAddr = addr(PEER_FAR);
        if self.tern.peer(peer).is_ok() {
            self.tern.remove_peer(peer).unwrap_or_else(|e| self.fail(e));
        }
        self.tern.add_peer(spec).unwrap_or_else(|e| self.fail(e));
    }

    /// Neither side reaches Established for [`REFUSED_FOR`]; returns the states BIRD went
    /// through.
    fn assert_refused(&self, case: &str) -> Vec<SessionState> {
        let (peer, tern) = (addr(PEER_FAR), addr(TERN_FAR));
        let deadline = Instant::now() + REFUSED_FOR;
        let mut seen = Vec::new();
        loop {
            let entry = self.tern.peer(peer).unwrap_or_else(|e| self.fail(e));
            let router = self
                .peer
                .session_state(tern)
                .unwrap_or_else(|e| self.fail(e));
            if entry.state == "Established" || router.is_established() {
                self.fail(format!(
                    "{case}: session came up (tern {}, BIRD {router})",
                    entry.state
                ));
            }
            if !seen.contains(&router) {
                seen.push(router.clone());
            }
            if Instant::now() >= deadline {
                println!(
                    "{case}, router 2 hops away: tern stayed {}, BIRD {router}, tern's last error {:?}",
                    entry.state, entry.last_error
                );
                return seen;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn spec() -> PeerSpec {
        PeerSpec::new(addr(PEER_FAR), PEER_AS)
            .local_address(addr(TERN_FAR))
            .families(true, false)
    }
}

/// GTSM with one allowed hop refuses a router two hops away (it sends with TTL 255, which
/// arrives as 254); the same topology comes up with GTSM allowing two hops, and without GTSM
/// (plain multihop), so the refusal is GTSM's doing.
#[test]
fn tern_gtsm_refuses_a_router_two_hops_away() {
    let topology = TwoHops::new();
    let peer = addr(PEER_FAR);
    // tern connects out: BIRD's answers arrive with TTL 254 and are dropped.
    topology.set_peer(TwoHops::spec().ttl_security(1));
    topology.assert_refused("GTSM 1 hop, tern active");

    topology.set_peer(TwoHops::spec().ttl_security(2));
    topology
        .tern
        .wait_established(peer, CONVERGE)
        .unwrap_or_else(|e| topology.fail(format!("GTSM 2 hops: {e}")));
    topology
        .tern
        .wait_route(peer_v4_prefix(), CONVERGE)
        .unwrap_or_else(|e| topology.fail(format!("GTSM 2 hops: {e}")));

    topology.set_peer(TwoHops::spec().ttl(255));
    topology
        .tern
        .wait_established(peer, CONVERGE)
        .unwrap_or_else(|e| topology.fail(format!("no GTSM, multihop 255: {e}")));
}

/// BIRD connects in while tern also has a non-GTSM peer, so the listener cannot filter SYNs
/// by TTL: the connection is accepted and GTSM must be checked on it after accept. BIRD's
/// OPEN is queued on the socket before tern can set `IP_MINTTL`, so tern checks the TTL of
/// the SYN (`TCP_SAVED_SYN`) and refuses the connection; the session never comes up.
///
/// Evidence the accept path ran: tern logs the refusal, or (without the SYN check) BIRD got
/// tern's OPEN (OpenSent / OpenConfirm). This runs in its own topology: a connection that
/// got past accept can stay half-open in BIRD (its ACKs are dropped by GTSM, so tern's FIN
/// waits behind its own unacknowledged OPEN) and win every collision until BIRD's hold timer.
#[test]
fn tern_gtsm_refuses_an_accepted_connection_from_two_hops_away() {
    let topology = TwoHops::new();
    topology
        .tern
        .add_peer(PeerSpec::new(addr("198.18.2.99"), 65099).passive())
        .unwrap_or_else(|e| topology.fail(e));
    topology.set_peer(TwoHops::spec().ttl_security(1).passive());
    let seen = topology.assert_refused("GTSM 1 hop, tern passive, listener unfiltered");
    let log = std::fs::read_to_string(topology.tern.process().stderr_path()).unwrap_or_default();
    let refusals = log
        .lines()
        .filter(|line| line.contains("refusing accepted connection") && line.contains("TTL 254"))
        .count();
    println!(
        "tern refused {refusals} connection(s) for their SYN's TTL; BIRD went through {seen:?}"
    );
    let opened = seen
        .iter()
        .any(|state| matches!(state, SessionState::OpenSent | SessionState::OpenConfirm));
    assert!(
        refusals > 0 || opened,
        "BIRD never connected to tern (states seen {seen:?}): the accept path was not exercised"
    );
}
