//! Shared pieces of the peer self-tests: a two-router topology over one veth with a v4 and a
//! v6 session, and the check that each side received the other's routes.

#![allow(dead_code)]

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use interop_tests::peers::{self, BgpPeer, Neighbor, PeerConfig, PeerKind, Route};
use interop_tests::{Host, Veth, logs};
use ipnetwork::IpNetwork;

/// Generous bound for session establishment and route propagation (real daemons, 2 shared
/// cores; most converge in 1-3 s).
pub const CONVERGE: Duration = Duration::from_secs(60);

pub fn net(text: &str) -> IpNetwork {
    text.parse().expect("test prefix")
}

pub fn addr(text: &str) -> IpAddr {
    text.parse().expect("test address")
}

/// One side of a two-router test.
pub struct Side {
    pub host: Host,
    pub peer: Box<dyn BgpPeer>,
    pub v4: IpAddr,
    pub v6: IpAddr,
    pub asn: u32,
    pub v4_route: Route,
    pub v6_route: Route,
}

/// Options applied to both sides' neighbors.
#[derive(Clone, Default)]
pub struct Options {
    pub md5: Option<String>,
    pub ttl_security: bool,
    pub multihop: Option<u8>,
    pub a_passive: bool,
    pub graceful_restart: bool,
    pub hold_time: Option<u16>,
}

fn apply(neighbor: Neighbor, options: &Options) -> Neighbor {
    let mut neighbor = neighbor.graceful_restart(options.graceful_restart);
    if let Some(password) = &options.md5 {
        neighbor = neighbor.md5(password);
    }
    if options.ttl_security {
        neighbor = neighbor.ttl_security(1);
    }
    if let Some(ttl) = options.multihop {
        neighbor = neighbor.multihop(ttl);
    }
    if let Some(hold) = options.hold_time {
        neighbor = neighbor.hold_time(hold);
    }
    neighbor
}

/// Two routers `a` (AS 65001) and `b` (AS 65002) on one veth (198.18.10.0/24,
/// 2001:db8:10::/64), each with a v4 and a v6 eBGP session to the other, each originating a
/// v4 and a v6 prefix (with a community).
pub fn two_routers(kind_a: PeerKind, kind_b: PeerKind, options: &Options) -> (Side, Side) {
    let host_a = Host::new(&format!("{kind_a:?}-a")).expect("host a");
    let host_b = Host::new(&format!("{kind_b:?}-b")).expect("host b");
    Veth::with_addresses(
        &host_a,
        &[net("198.18.10.1/24"), net("2001:db8:10::1/64")],
        &host_b,
        &[net("198.18.10.2/24"), net("2001:db8:10::2/64")],
    )
    .expect("veth");
    let a_v4 = addr("198.18.10.1");
    let a_v6 = addr("2001:db8:10::1");
    let b_v4 = addr("198.18.10.2");
    let b_v6 = addr("2001:db8:10::2");
    let a_routes = (
        Route::new(net("198.51.100.0/24")).community(65001, 4),
        Route::new(net("2001:db8:100::/48")).community(65001, 6),
    );
    let b_routes = (
        Route::new(net("203.0.113.0/24")).community(65002, 4),
        Route::new(net("2001:db8:200::/48")).community(65002, 6),
    );
    let mut a_neighbor_v4 = apply(Neighbor::new(b_v4, 65002).local_address(a_v4), options);
    let mut a_neighbor_v6 = apply(Neighbor::new(b_v6, 65002).local_address(a_v6), options);
    if options.a_passive {
        a_neighbor_v4 = a_neighbor_v4.passive();
        a_neighbor_v6 = a_neighbor_v6.passive();
    }
    let config_a = PeerConfig::new(Ipv4Addr::new(198, 18, 10, 1), 65001)
        .neighbor(a_neighbor_v4)
        .neighbor(a_neighbor_v6)
        .route(a_routes.0.clone())
        .route(a_routes.1.clone());
    let config_b = PeerConfig::new(Ipv4Addr::new(198, 18, 10, 2), 65002)
        .neighbor(apply(
            Neighbor::new(a_v4, 65001).local_address(b_v4),
            options,
        ))
        .neighbor(apply(
            Neighbor::new(a_v6, 65001).local_address(b_v6),
            options,
        ))
        .route(b_routes.0.clone())
        .route(b_routes.1.clone());
    let peer_a = peers::start(kind_a, &host_a, config_a).expect("start a");
    let peer_b = peers::start(kind_b, &host_b, config_b).expect("start b");
    (
        Side {
            host: host_a,
            peer: peer_a,
            v4: a_v4,
            v6: a_v6,
            asn: 65001,
            v4_route: a_routes.0,
            v6_route: a_routes.1,
        },
        Side {
            host: host_b,
            peer: peer_b,
            v4: b_v4,
            v6: b_v6,
            asn: 65002,
            v4_route: b_routes.0,
            v6_route: b_routes.1,
        },
    )
}

/// Panics with both sides' logs.
pub fn fail(a: &Side, b: &Side, error: impl std::fmt::Display) -> ! {
    panic!("{error}\n{}", logs::dump(&[&a.host, &b.host]))
}

/// Waits for both sessions on both sides.
pub fn wait_sessions(a: &Side, b: &Side) {
    for (side, other) in [(a, b), (b, a)] {
        for neighbor in [other.v4, other.v6] {
            if let Err(e) = side.peer.wait_established(neighbor, CONVERGE) {
                fail(a, b, e);
            }
        }
    }
}

/// Asserts that `receiver` has `sender`'s two routes with `sender`'s address as next hop, an
/// AS path of exactly `[sender.asn]` and the community.
pub fn assert_received(receiver: &Side, sender: &Side, a: &Side, b: &Side) {
    for (route, next_hop) in [(&sender.v4_route, sender.v4), (&sender.v6_route, sender.v6)] {
        let received = match receiver.peer.wait_route(route.prefix, CONVERGE) {
            Ok(received) => received,
            Err(e) => fail(a, b, e),
        };
        assert_eq!(received.next_hop, next_hop, "next hop of {}", route.prefix);
        assert_eq!(
            received.as_path,
            vec![sender.asn],
            "AS path of {}",
            route.prefix
        );
        for community in &route.communities {
            assert!(
                received.communities.contains(community),
                "community {community:?} on {received:?}"
            );
        }
        if let Some(from) = received.from {
            assert_eq!(from, next_hop, "learned from {next_hop}");
        }
    }
}

/// The full check: sessions up and routes exchanged both ways.
pub fn assert_exchange(a: &Side, b: &Side) {
    wait_sessions(a, b);
    assert_received(a, b, a, b);
    assert_received(b, a, a, b);
}
