//! Shared pieces of the tern-against-real-routers tests: a two-host topology (tern and one
//! peer router on a veth), the route exchange checks, and withdrawal latency measurement.
//!
//! IPv6 runs on its own session over IPv6 transport (one IPv4 session carrying IPv4 unicast,
//! one IPv6 session carrying IPv6 unicast), so both sides announce their own global IPv6
//! address as next hop without any next-hop configuration.

#![allow(dead_code)]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;
use std::time::{Duration, Instant};

use interop_tests::peers::{self, BgpPeer, Neighbor, PeerConfig, PeerKind, PeerRoute, Route};
use interop_tests::tern::{PeerSpec, RouteSpec, SpeakerSpec, TernSpeaker};
use interop_tests::{Host, Veth, logs};
use ipnetwork::IpNetwork;

/// Bound for session establishment and route propagation (real daemons on 2 shared cores;
/// sessions usually come up in 1-5 s).
pub const CONVERGE: Duration = Duration::from_secs(60);

/// Withdrawals must propagate within this (acceptance point of issue 2).
pub const WITHDRAW_BOUND: Duration = Duration::from_secs(1);

/// How often a latency measurement polls.
pub const LATENCY_POLL: Duration = Duration::from_millis(20);

pub const TERN_AS: u32 = 65001;
pub const PEER_AS: u32 = 65002;

/// tern's originated prefixes.
pub fn tern_v4_prefix() -> IpNetwork {
    net("198.19.1.0/24")
}
pub fn tern_v6_prefix() -> IpNetwork {
    net("2001:db8:42:1::/64")
}
/// The peer's originated prefixes.
pub fn peer_v4_prefix() -> IpNetwork {
    net("203.0.113.0/24")
}
pub fn peer_v6_prefix() -> IpNetwork {
    net("2001:db8:99::/48")
}

/// The community tern attaches to its routes.
pub const TERN_COMMUNITY: (u16, u16) = (65001, 42);

pub fn net(text: &str) -> IpNetwork {
    text.parse().expect("test prefix")
}

pub fn addr(text: &str) -> IpAddr {
    text.parse().expect("test address")
}

/// The test daemon built by Cargo for this package.
pub fn tern_binary() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_tern-speaker"))
}

/// tern and one peer router on a veth: tern 198.18.1.1 / 2001:db8:1::1, peer 198.18.1.2 /
/// 2001:db8:1::2.
pub struct Pair {
    pub tern_host: Host,
    pub peer_host: Host,
    pub tern: TernSpeaker,
    pub peer: Box<dyn BgpPeer>,
    pub kind: PeerKind,
    pub tern_as: u32,
    pub peer_as: u32,
    pub ipv6: Ipv6,
}

pub const TERN_V4: &str = "198.18.1.1";
pub const TERN_V6: &str = "2001:db8:1::1";
pub const PEER_V4: &str = "198.18.1.2";
pub const PEER_V6: &str = "2001:db8:1::2";

/// How IPv6 unicast travels between tern and the router.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ipv6 {
    /// Not at all (one IPv4 session with IPv4 unicast only).
    None,
    /// Its own session over IPv6 transport (next hops: each side's global address).
    OwnSession,
    /// MP-BGP on the IPv4 session (RFC 4760): tern announces `SpeakerSpec::ipv6_next_hop`
    /// (its global IPv6 address) and the router whatever it picks for that case.
    OverIpv4,
}

/// What to build.
#[derive(Clone)]
pub struct Setup {
    pub kind: PeerKind,
    pub tern_as: u32,
    pub peer_as: u32,
    /// IPv6 routes: not at all, on their own session, or over the IPv4 session.
    pub ipv6: Ipv6,
    /// Changes to tern's peers (applied to both sessions).
    pub tern_peer: fn(PeerSpec) -> PeerSpec,
    /// Changes to the router's neighbors (applied to both sessions).
    pub peer_neighbor: fn(Neighbor) -> Neighbor,
    /// The AS the router is told tern has (AS_TRANS for 2-octet routers).
    pub tern_as_seen_by_peer: Option<u32>,
}

impl Setup {
    pub fn new(kind: PeerKind, tern_as: u32, peer_as: u32) -> Setup {
        Setup {
            kind,
            tern_as,
            peer_as,
            ipv6: Ipv6::OwnSession,
            tern_peer: |peer| peer,
            peer_neighbor: |neighbor| neighbor,
            tern_as_seen_by_peer: None,
        }
    }
}

/// Builds the two hosts, starts the router (originating the peer prefixes) and tern
/// (originating tern's prefixes with [`TERN_COMMUNITY`]).
pub fn pair(setup: &Setup) -> Pair {
    pair_with(setup, |_| {})
}

/// Like [`pair`], calling `before_tern` with tern's host after the router started and before
/// tern starts (e.g. to start a packet capture).
pub fn pair_with(setup: &Setup, before_tern: impl FnOnce(&Host)) -> Pair {
    let label = format!("{:?}", setup.kind).to_lowercase();
    let tern_host = Host::new(&format!("tern-{label}")).expect("tern host");
    let peer_host = Host::new(&format!("peer-{label}")).expect("peer host");
    Veth::with_addresses(
        &tern_host,
        &[net("198.18.1.1/24"), net("2001:db8:1::1/64")],
        &peer_host,
        &[net("198.18.1.2/24"), net("2001:db8:1::2/64")],
    )
    .expect("veth");
    let (tern_v4, tern_v6, peer_v4, peer_v6) =
        (addr(TERN_V4), addr(TERN_V6), addr(PEER_V4), addr(PEER_V6));
    let tern_as_seen = setup.tern_as_seen_by_peer.unwrap_or(setup.tern_as);
    let neighbor = |tern: IpAddr, local: IpAddr| {
        (setup.peer_neighbor)(Neighbor::new(tern, tern_as_seen).local_address(local))
    };
    let over_ipv4 = setup.ipv6 == Ipv6::OverIpv4;
    let mut peer_config = PeerConfig::new(Ipv4Addr::new(198, 18, 1, 2), setup.peer_as)
        .neighbor(neighbor(tern_v4, peer_v4).families(true, over_ipv4))
        .route(Route::new(peer_v4_prefix()));
    let mut spec = SpeakerSpec::new(setup.tern_as, Ipv4Addr::new(198, 18, 1, 1))
        .peer((setup.tern_peer)(
            PeerSpec::new(peer_v4, setup.peer_as)
                .local_address(tern_v4)
                .families(true, over_ipv4),
        ))
        .route(RouteSpec::new(tern_v4_prefix()).community(TERN_COMMUNITY.0, TERN_COMMUNITY.1));
    if setup.ipv6 == Ipv6::OwnSession {
        peer_config = peer_config.neighbor(neighbor(tern_v6, peer_v6));
        spec = spec.peer((setup.tern_peer)(
            PeerSpec::new(peer_v6, setup.peer_as)
                .local_address(tern_v6)
                .families(false, true),
        ));
    }
    if setup.ipv6 != Ipv6::None {
        peer_config = peer_config.route(Route::new(peer_v6_prefix()));
        spec = spec
            .route(RouteSpec::new(tern_v6_prefix()).community(TERN_COMMUNITY.0, TERN_COMMUNITY.1));
    }
    if over_ipv4 {
        spec.ipv6_next_hop = Some(Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 1));
    }
    let peer = peers::start(setup.kind, &peer_host, peer_config)
        .unwrap_or_else(|e| panic!("start {:?}: {e}\n{}", setup.kind, peer_host.logs_tail(40)));
    before_tern(&tern_host);
    let tern = TernSpeaker::start(&tern_host, tern_binary(), spec)
        .unwrap_or_else(|e| panic!("start tern: {e}\n{}", tern_host.logs_tail(40)));
    Pair {
        tern_host,
        peer_host,
        tern,
        peer,
        kind: setup.kind,
        tern_as: setup.tern_as,
        peer_as: setup.peer_as,
        ipv6: setup.ipv6,
    }
}

impl Pair {
    /// Panics with `error` and both hosts' log tails.
    pub fn fail(&self, error: impl std::fmt::Display) -> ! {
        panic!(
            "{:?}: {error}\n{}",
            self.kind,
            logs::dump(&[&self.tern_host, &self.peer_host])
        )
    }

    /// Unwraps or fails with logs.
    pub fn check<T, E: std::fmt::Display>(&self, result: Result<T, E>) -> T {
        result.unwrap_or_else(|e| self.fail(e))
    }

    pub fn is_internal(&self) -> bool {
        self.tern_as == self.peer_as
    }

    /// Waits until tern and the router both see the sessions (v4, and v6 when `ipv6`)
    /// Established.
    pub fn wait_sessions(&self, ipv6: bool) {
        let mut sessions = vec![(addr(PEER_V4), addr(TERN_V4))];
        if ipv6 {
            sessions.push((addr(PEER_V6), addr(TERN_V6)));
        }
        for (peer, tern) in sessions {
            self.check(self.tern.wait_established(peer, CONVERGE));
            self.check(self.peer.wait_established(tern, CONVERGE));
        }
    }

    /// The router's best path for `prefix` (waiting for it).
    pub fn peer_route(&self, prefix: IpNetwork) -> PeerRoute {
        self.check(self.peer.wait_route(prefix, CONVERGE))
    }

    /// tern's best learned path for `prefix` (waiting for it).
    pub fn tern_route(&self, prefix: IpNetwork) -> PeerRoute {
        self.check(self.tern.wait_route(prefix, CONVERGE))
    }

    /// The router has tern's prefix with tern's address as next hop, the AS path [tern AS]
    /// (eBGP) or [] (iBGP) and tern's community.
    pub fn assert_peer_has_tern_route(&self, prefix: IpNetwork, next_hop: IpAddr) {
        let route = self.peer_route(prefix);
        let expected_path = match self.is_internal() {
            true => vec![],
            false => vec![self.tern_as],
        };
        assert_eq!(
            route.next_hop, next_hop,
            "{:?}'s next hop for {prefix}: {route:?}",
            self.kind
        );
        assert_eq!(
            route.as_path, expected_path,
            "{:?}'s AS path for {prefix}: {route:?}",
            self.kind
        );
        assert!(
            route.communities.contains(&TERN_COMMUNITY),
            "{:?} lost the community on {prefix}: {route:?}",
            self.kind
        );
        if self.is_internal() {
            assert_eq!(
                route.local_pref,
                Some(100),
                "{:?}'s LOCAL_PREF: {route:?}",
                self.kind
            );
        }
    }

    /// tern has the router's prefix with the router's address as next hop, the AS path
    /// [peer AS] (eBGP) or [] (iBGP), learned from that address.
    pub fn assert_tern_has_peer_route(&self, prefix: IpNetwork, next_hop: IpAddr) {
        let route = self.tern_route(prefix);
        let expected_path = match self.is_internal() {
            true => vec![],
            false => vec![self.peer_as],
        };
        assert_eq!(
            route.next_hop, next_hop,
            "tern's next hop for {prefix}: {route:?}"
        );
        assert_eq!(
            route.as_path, expected_path,
            "tern's AS path for {prefix}: {route:?}"
        );
        let session = match self.ipv6 {
            Ipv6::OverIpv4 => addr(PEER_V4),
            _ => next_hop,
        };
        assert_eq!(
            route.from,
            Some(session),
            "tern learned {prefix} from: {route:?}"
        );
        if self.is_internal() {
            assert_eq!(route.local_pref, Some(100), "tern's LOCAL_PREF: {route:?}");
        }
    }

    /// Asserts that neither tern nor the router reaches Established with the other on `peer`
    /// (tern's side) / `tern` (router's side) for `duration`; returns tern's last state and
    /// error.
    pub fn assert_never_established(
        &self,
        peer: IpAddr,
        tern: IpAddr,
        duration: Duration,
    ) -> (String, Option<String>) {
        let deadline = Instant::now() + duration;
        loop {
            let entry = self.check(self.tern.peer(peer));
            let router = self.check(self.peer.session_state(tern));
            if entry.state == "Established" || router.is_established() {
                self.fail(format!(
                    "session {peer} came up: tern {}, {:?} {router}",
                    entry.state, self.kind
                ));
            }
            if Instant::now() >= deadline {
                return (entry.state, entry.last_error);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// tern's `peers` view of the sessions: type, RFC state name, one prefix per family each
    /// way, negotiated hold time 90 s (tern's default; every router proposes at least that).
    pub fn assert_peer_status(&self, internal: bool, own_ipv6_session: bool) {
        let sessions = match own_ipv6_session {
            true => vec![(addr(PEER_V4), 1), (addr(PEER_V6), 1)],
            false => vec![(addr(PEER_V4), 2)],
        };
        for (peer, prefixes) in sessions {
            let entry = self.check(self.tern.peer(peer));
            let expected_type = if internal { "iBGP" } else { "eBGP" };
            assert_eq!(entry.peer_type, expected_type, "{entry:?}");
            assert_eq!(entry.asn, self.peer_as, "{entry:?}");
            assert_eq!(entry.state, "Established", "{entry:?}");
            assert_eq!(entry.prefixes_received, prefixes, "{entry:?}");
            assert_eq!(entry.prefixes_advertised, prefixes, "{entry:?}");
            assert_eq!(entry.hold_time, Some(90), "{entry:?}");
            assert!(entry.since_unix_ms > 0, "{entry:?}");
        }
    }

    /// Withdraws `prefix` at tern and measures how long until the router has no path for it.
    pub fn measure_tern_withdrawal(&self, prefix: IpNetwork) -> Duration {
        let start = Instant::now();
        self.check(self.tern.withdraw(prefix));
        self.measure_until_gone(start, &format!("{:?} to lose {prefix}", self.kind), || {
            self.peer.routes_for(prefix).map(|routes| routes.is_empty())
        })
    }

    /// Withdraws `prefix` at the router and measures how long until tern has no path for it.
    pub fn measure_peer_withdrawal(&mut self, prefix: IpNetwork) -> Duration {
        let start = Instant::now();
        let withdrawn = self.peer.withdraw(prefix);
        self.check(withdrawn);
        println!(
            "  ({:?}'s withdraw command for {prefix} returned after {} ms)",
            self.kind,
            start.elapsed().as_millis()
        );
        self.measure_until_gone(start, &format!("tern to lose {prefix}"), || {
            self.tern.routes_for(prefix).map(|routes| routes.is_empty())
        })
    }

    fn measure_until_gone<E: std::fmt::Display>(
        &self,
        start: Instant,
        what: &str,
        mut gone: impl FnMut() -> Result<bool, E>,
    ) -> Duration {
        let deadline = start + Duration::from_secs(10);
        loop {
            match gone() {
                Ok(true) => return start.elapsed(),
                Ok(false) => {}
                Err(e) => self.fail(format!("while waiting for {what}: {e}")),
            }
            if Instant::now() >= deadline {
                self.fail(format!("{what}: still there after 10 s"));
            }
            std::thread::sleep(LATENCY_POLL);
        }
    }
}

/// The whole exchange for one router and one session type: sessions up, prefixes both ways
/// in both families with the right next hops and AS paths, then withdrawals both ways within
/// [`WITHDRAW_BOUND`] (figures printed). IPv6 on its own session.
pub fn exchange(kind: PeerKind, internal: bool) {
    exchange_with(kind, internal, Ipv6::OwnSession);
}

/// [`exchange`] with IPv6 carried as chosen.
pub fn exchange_with(kind: PeerKind, internal: bool, ipv6: Ipv6) {
    let peer_as = if internal { TERN_AS } else { PEER_AS };
    let mut setup = Setup::new(kind, TERN_AS, peer_as);
    setup.ipv6 = ipv6;
    let mut pair = pair(&setup);
    let session = match (internal, ipv6) {
        (true, Ipv6::OverIpv4) => "iBGP (IPv6 over IPv4)",
        (false, Ipv6::OverIpv4) => "eBGP (IPv6 over IPv4)",
        (true, _) => "iBGP",
        (false, _) => "eBGP",
    };
    let own_session = ipv6 == Ipv6::OwnSession;
    pair.wait_sessions(own_session);
    pair.assert_peer_has_tern_route(tern_v4_prefix(), addr(TERN_V4));
    pair.assert_peer_has_tern_route(tern_v6_prefix(), addr(TERN_V6));
    pair.assert_tern_has_peer_route(peer_v4_prefix(), addr(PEER_V4));
    // Over an IPv4 session GoBGP (without a configured IPv6 next hop) announces its IPv4
    // address mapped into IPv6; BIRD and FRR announce their global IPv6 address.
    let peer_v6_next_hop = match (ipv6, kind) {
        (Ipv6::OverIpv4, PeerKind::GoBgp) => addr("::ffff:198.18.1.2"),
        _ => addr(PEER_V6),
    };
    pair.assert_tern_has_peer_route(peer_v6_prefix(), peer_v6_next_hop);
    pair.assert_peer_status(internal, own_session);
    let mut figures = Vec::new();
    for prefix in [tern_v4_prefix(), tern_v6_prefix()] {
        let took = pair.measure_tern_withdrawal(prefix);
        figures.push((format!("tern -> {kind:?} withdraw {prefix}"), took));
    }
    for prefix in [peer_v4_prefix(), peer_v6_prefix()] {
        let took = pair.measure_peer_withdrawal(prefix);
        figures.push((format!("{kind:?} -> tern withdraw {prefix}"), took));
    }
    for (what, took) in &figures {
        println!("latency {session} {what}: {} ms", took.as_millis());
    }
    for (what, took) in &figures {
        assert!(
            *took < WITHDRAW_BOUND,
            "{session} {what} took {} ms (bound {} ms)",
            took.as_millis(),
            WITHDRAW_BOUND.as_millis()
        );
    }
    // The sessions survived all of it.
    pair.wait_sessions(own_session);
}

/// How tern is told to stop.
#[derive(Debug, Clone, Copy)]
pub enum StopBy {
    /// SIGTERM.
    Signal,
    /// A `shutdown` control request.
    Request,
}

/// Sessions up, then tern stopped: it exits 0 and the router leaves Established within 3 s
/// (the router's hold time is 90 s, so only tern's NOTIFICATION / close explains it).
pub fn clean_stop(kind: PeerKind, by: StopBy) {
    let pair = pair(&Setup::new(kind, TERN_AS, PEER_AS));
    pair.wait_sessions(true);
    pair.peer_route(tern_v4_prefix());
    let started = Instant::now();
    match by {
        StopBy::Signal => pair.check(pair.tern.process().signal(libc::SIGTERM)),
        StopBy::Request => pair.check(pair.tern.shutdown()),
    }
    let exited = interop_tests::wait_until("tern to exit", Duration::from_secs(5), || {
        Ok::<_, String>((!pair.tern.process().is_running()).then_some(()))
    });
    pair.check(exited);
    let status = match pair.tern.process().check_running() {
        Err(interop_tests::Error::Exited { status, .. }) => status,
        other => pair.fail(format!("tern's exit status unknown: {other:?}")),
    };
    assert_eq!(
        status,
        "exit status: 0",
        "tern's exit: {}",
        pair.tern.logs()
    );
    for tern in [addr(TERN_V4), addr(TERN_V6)] {
        let down = interop_tests::wait_until(
            &format!("{kind:?} to drop its session with {tern}"),
            Duration::from_secs(3),
            || match pair.peer.session_state(tern) {
                Ok(state) if !state.is_established() => Ok(Some(state)),
                Ok(state) => Err(format!("still {state}")),
                Err(e) => Err(e.to_string()),
            },
        );
        let state = pair.check(down);
        println!(
            "{kind:?} after tern stopped ({by:?}): session with {tern} {state} after {} ms",
            started.elapsed().as_millis()
        );
    }
    let log = std::fs::read_to_string(pair.tern.process().stderr_path()).unwrap_or_default();
    assert!(
        log.contains("stopped"),
        "tern did not log a clean stop:\n{log}"
    );
    if kind == PeerKind::Bird {
        // BIRD names the NOTIFICATION it received (Cease / Administrative Shutdown).
        let socket = pair.peer_host.dir().join("bird.ctl");
        let socket = socket.to_string_lossy();
        let output = pair.check(
            pair.peer_host
                .exec("birdc", &["-s", &socket, "show", "protocols", "all"]),
        );
        let reasons = output
            .stdout
            .matches("Last error:       Received: Administrative shutdown")
            .count();
        assert_eq!(reasons, 2, "BIRD's view of the stop:\n{}", output.stdout);
    }
}
