//! GTSM (RFC 5082) against a router two hops away, over IPv4 (`IP_MINTTL`) and IPv6
//! (`IPV6_MINHOPCOUNT`):
//!
//! ```text
//! tern 198.18.2.1      — router 198.18.2.254 | 198.18.3.254 — BIRD 198.18.3.2
//!      2001:db8:2::1          2001:db8:2::fe | 2001:db8:3::fe        2001:db8:3::2
//! ```
//!
//! BIRD is configured `multihop 255` towards tern, so its packets arrive with TTL 254.

mod tern_common;

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use interop_tests::peers::{self, BgpPeer, Neighbor, PeerConfig, PeerKind, Route, SessionState};
use interop_tests::tern::{PeerSpec, SpeakerSpec, TernSpeaker};
use interop_tests::{Host, Veth, logs};
use tern_common::{
    CONVERGE, PEER_AS, TERN_AS, addr, net, peer_v4_prefix, peer_v6_prefix, tern_binary,
};

/// How long a refused session is watched.
const REFUSED_FOR: Duration = Duration::from_secs(5);

struct TwoHops {
    tern_host: Host,
    _router: Host,
    peer_host: Host,
    tern: TernSpeaker,
    peer: Box<dyn BgpPeer>,
    /// tern's and BIRD's session addresses (one family).
    tern_address: IpAddr,
    peer_address: IpAddr,
    ipv6: bool,
}

impl TwoHops {
    fn new(ipv6: bool) -> TwoHops {
        let label = if ipv6 { "gtsm6" } else { "gtsm4" };
        let tern_host = Host::new(&format!("tern-{label}")).expect("tern host");
        let router = Host::new(&format!("router-{label}")).expect("router host");
        let peer_host = Host::new(&format!("peer-{label}")).expect("peer host");
        Veth::with_addresses(
            &tern_host,
            &[net("198.18.2.1/24"), net("2001:db8:2::1/64")],
            &router,
            &[net("198.18.2.254/24"), net("2001:db8:2::fe/64")],
        )
        .expect("veth tern-router");
        Veth::with_addresses(
            &router,
            &[net("198.18.3.254/24"), net("2001:db8:3::fe/64")],
            &peer_host,
            &[net("198.18.3.2/24"), net("2001:db8:3::2/64")],
        )
        .expect("veth router-peer");
        router.enable_forwarding().expect("forwarding");
        for (host, destinations, via) in [
            (
                &tern_host,
                ["198.18.3.0/24", "2001:db8:3::/64"],
                ["198.18.2.254", "2001:db8:2::fe"],
            ),
            (
                &peer_host,
                ["198.18.2.0/24", "2001:db8:2::/64"],
                ["198.18.3.254", "2001:db8:3::fe"],
            ),
        ] {
            for (destination, gateway) in destinations.into_iter().zip(via) {
                host.add_route(net(destination), addr(gateway))
                    .expect("route via the router");
            }
        }
        let (tern_address, peer_address, prefix) = match ipv6 {
            false => (addr("198.18.2.1"), addr("198.18.3.2"), peer_v4_prefix()),
            true => (
                addr("2001:db8:2::1"),
                addr("2001:db8:3::2"),
                peer_v6_prefix(),
            ),
        };
        let config = PeerConfig::new(Ipv4Addr::new(198, 18, 3, 2), PEER_AS)
            .neighbor(
                Neighbor::new(tern_address, TERN_AS)
                    .local_address(peer_address)
                    .multihop(255),
            )
            .route(Route::new(prefix));
        let peer = peers::start(PeerKind::Bird, &peer_host, config).expect("start BIRD");
        let spec = SpeakerSpec::new(TERN_AS, Ipv4Addr::new(198, 18, 2, 1));
        let tern = TernSpeaker::start(&tern_host, tern_binary(), spec).expect("start tern");
        TwoHops {
            tern_host,
            _router: router,
            peer_host,
            tern,
            peer,
            tern_address,
            peer_address,
            ipv6,
        }
    }

    fn fail(&self, error: impl std::fmt::Display) -> ! {
        panic!(
            "{error}\n{}",
            logs::dump(&[&self.tern_host, &self.peer_host])
        )
    }

    /// tern's peer BIRD, in the session's family only.
    fn spec(&self) -> PeerSpec {
        PeerSpec::new(self.peer_address, PEER_AS)
            .local_address(self.tern_address)
            .families(!self.ipv6, self.ipv6)
    }

    /// The prefix BIRD originates.
    fn prefix(&self) -> ipnetwork::IpNetwork {
        if self.ipv6 {
            peer_v6_prefix()
        } else {
            peer_v4_prefix()
        }
    }

    /// Replaces tern's peer BIRD.
    fn set_peer(&self, spec: PeerSpec) {
        if self.tern.peer(self.peer_address).is_ok() {
            self.tern
                .remove_peer(self.peer_address)
                .unwrap_or_else(|e| self.fail(e));
        }
        self.tern.add_peer(spec).unwrap_or_else(|e| self.fail(e));
    }

    /// Neither side reaches Established for [`REFUSED_FOR`]; returns the states BIRD went
    /// through.
    fn assert_refused(&self, case: &str) -> Vec<SessionState> {
        let deadline = Instant::now() + REFUSED_FOR;
        let mut seen = Vec::new();
        loop {
            let entry = self
                .tern
                .peer(self.peer_address)
                .unwrap_or_else(|e| self.fail(e));
            let router = self
                .peer
                .session_state(self.tern_address)
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
                    "{case} ({}), router 2 hops away: tern stayed {}, BIRD {router}, tern's last error {:?}",
                    self.peer_address, entry.state, entry.last_error
                );
                return seen;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The session comes up and tern learns BIRD's prefix.
    fn assert_up(&self, case: &str) {
        self.tern
            .wait_established(self.peer_address, CONVERGE)
            .unwrap_or_else(|e| self.fail(format!("{case}: {e}")));
        self.tern
            .wait_route(self.prefix(), CONVERGE)
            .unwrap_or_else(|e| self.fail(format!("{case}: {e}")));
    }
}

/// GTSM with one allowed hop refuses a router two hops away (it sends with TTL 255, which
/// arrives as 254); the same topology comes up with GTSM allowing two hops, and without GTSM
/// (plain multihop), so the refusal is GTSM's doing.
fn refuses_two_hops_away(ipv6: bool) {
    let topology = TwoHops::new(ipv6);
    // tern connects out: BIRD's answers arrive with TTL 254 and are dropped.
    topology.set_peer(topology.spec().ttl_security(1));
    topology.assert_refused("GTSM 1 hop, tern active");
    topology.set_peer(topology.spec().ttl_security(2));
    topology.assert_up("GTSM 2 hops");
    topology.set_peer(topology.spec().ttl(255));
    topology.assert_up("no GTSM, multihop 255");
}

#[test]
fn tern_gtsm_refuses_a_router_two_hops_away() {
    refuses_two_hops_away(false);
}

#[test]
fn tern_gtsm_refuses_a_router_two_hops_away_over_ipv6() {
    refuses_two_hops_away(true);
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
fn refuses_an_accepted_connection(ipv6: bool) {
    let topology = TwoHops::new(ipv6);
    let other = if ipv6 {
        "2001:db8:2::99"
    } else {
        "198.18.2.99"
    };
    topology
        .tern
        .add_peer(PeerSpec::new(addr(other), 65099).passive())
        .unwrap_or_else(|e| topology.fail(e));
    topology.set_peer(topology.spec().ttl_security(1).passive());
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

#[test]
fn tern_gtsm_refuses_an_accepted_connection_from_two_hops_away() {
    refuses_an_accepted_connection(false);
}

#[test]
fn tern_gtsm_refuses_an_accepted_connection_from_two_hops_away_over_ipv6() {
    refuses_an_accepted_connection(true);
}
