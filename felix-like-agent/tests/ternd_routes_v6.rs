//! ternd programs IPv6 routes, end to end in network namespaces (needs root).
//!
//! - Two dual-stack ternd nodes, one IPv4-only ternd node and two BIRD routers (IPv6 sessions)
//!   on one switch: each dual-stack node installs the other's IPv6 pod CIDR via the other's
//!   IPv6 address and its IPv4 pod CIDR via its IPv4 address (protocol 201), a blackhole for
//!   each of its own pod CIDRs, and an IPv6 ECMP route over both routers for the prefix they
//!   announce. The IPv4-only node gets the IPv4 routes and no IPv6 route or session. A learned
//!   IPv6 route deleted and one altered by hand come back (the time is printed); a static IPv6
//!   route of another protocol stays; withdrawals shrink the ECMP route, then remove it.
//! - Two dual-stack nodes with an IPv6 "pod" behind each: no route before ternd runs, then the
//!   pods reach each other along the route tern installed, and a bounded ping6 between them
//!   loses no packet while one ternd restarts; a stale IPv6 tern route planted while ternd was
//!   down is removed once the restarted speaker has relearned its routes.

mod common;

use std::time::Instant;

use common::route_node::{
    Node, NodeSpec, WAIT, attach_pod, bird_routers, ip, is_tern, is_tern_blackhole, networks, via,
};
use interop_tests::{Switch, Veth, wait_until};

const N1_V4: &str = "198.18.0.11";
const N2_V4: &str = "198.18.0.12";
const N1_V6: &str = "2001:db8:ff::11";
const N2_V6: &str = "2001:db8:ff::12";
const N1_ADDRESSES: &[&str] = &["198.18.0.11/24", "2001:db8:ff::11/64"];
const N2_ADDRESSES: &[&str] = &["198.18.0.12/24", "2001:db8:ff::12/64"];
const N3_ADDRESSES: &[&str] = &["198.18.0.13/24"];
const ROUTER1_V6: &str = "2001:db8:ff::21";
const ROUTER2_V6: &str = "2001:db8:ff::22";
const ROUTER_PREFIX: &str = "2001:db8:100::/48";

/// n1 and n2, dual stack (pods 198.19.N.0/24 and 2001:db8:N::/64), optionally n3 with IPv4
/// only (198.18.0.13, pods 198.19.3.0/24), plus the global BGPPeers.
fn cluster(ipv4_only_node: bool, routers: &[&str]) -> String {
    let mut nodes = vec![
        NodeSpec {
            name: "n1",
            addresses: N1_ADDRESSES,
            pod_cidrs: &["198.19.1.0/24", "2001:db8:1::/64"],
        },
        NodeSpec {
            name: "n2",
            addresses: N2_ADDRESSES,
            pod_cidrs: &["198.19.2.0/24", "2001:db8:2::/64"],
        },
    ];
    if ipv4_only_node {
        nodes.push(NodeSpec {
            name: "n3",
            addresses: N3_ADDRESSES,
            pod_cidrs: &["198.19.3.0/24"],
        });
    }
    common::route_node::manifests(&nodes, routers)
}

/// What each node must hold: (node, own pod CIDRs, the peer's pod CIDRs with next hops).
fn expect_mesh_routes(node: &Node, own: [&str; 2], other: [(&str, &str); 2]) {
    for cidr in own {
        node.wait_route("blackhole for the local pod CIDR", is_tern_blackhole, cidr);
    }
    for (cidr, next_hop) in other {
        let route = node.wait_route("the other node's pod CIDR", via(&[next_hop]), cidr);
        eprintln!("{}: {route}", node.name);
    }
}

/// The IPv4-only n3 and the dual-stack nodes: IPv4 pod routes both ways; on n3 not one IPv6
/// route of tern's, no failed install, no IPv6 session.
fn expect_ipv4_only_routes(n1: &Node, n2: &Node, n3: &Node) {
    for (cidr, next_hop) in [("198.19.1.0/24", N1_V4), ("198.19.2.0/24", N2_V4)] {
        n3.wait_route("a dual-stack node's IPv4 pod CIDR", via(&[next_hop]), cidr);
    }
    n3.wait_route("n3's blackhole", is_tern_blackhole, "198.19.3.0/24");
    for node in [n1, n2] {
        node.wait_route("n3's pod CIDR", via(&["198.18.0.13"]), "198.19.3.0/24");
    }
    let ipv6_routes: Vec<_> = n3.routes(true).into_iter().filter(is_tern).collect();
    let log = n3.log();
    assert!(ipv6_routes.is_empty(), "{ipv6_routes:?}\n{log}");
    assert!(!log.contains("failed:"), "{log}");
    assert!(!log.contains("add peer address=2001:db8"), "{log}");
}

#[test]
fn dual_stack_nodes_install_ipv6_routes_and_repair_drift() {
    let switch = Switch::new("r6-sw").unwrap();
    let text = cluster(true, &[ROUTER1_V6, ROUTER2_V6]);
    let mut n1 = Node::new("n1", &text);
    let mut n2 = Node::new("n2", &text);
    let mut n3 = Node::new("n3", &text);
    let _ports: Vec<_> = [
        (&n1, N1_ADDRESSES),
        (&n2, N2_ADDRESSES),
        (&n3, N3_ADDRESSES),
    ]
    .into_iter()
    .map(|(node, addresses)| {
        switch
            .connect_with_addresses(&node.host, &networks(addresses))
            .unwrap()
    })
    .collect();
    // Two routers announce the same IPv6 prefix over IPv6-only sessions (Neighbor::new takes
    // the family of the address).
    let (mut routers, _router_ports) = bird_routers(
        &switch,
        &[
            ("2001:db8:ff::21/64", "198.18.0.21"),
            ("2001:db8:ff::22/64", "198.18.0.22"),
        ],
        &[N1_V6, N2_V6],
        ROUTER_PREFIX,
    );

    let started = Instant::now();
    n1.start();
    n2.start();
    n3.start();
    expect_mesh_routes(
        &n1,
        ["198.19.1.0/24", "2001:db8:1::/64"],
        [("198.19.2.0/24", N2_V4), ("2001:db8:2::/64", N2_V6)],
    );
    expect_mesh_routes(
        &n2,
        ["198.19.2.0/24", "2001:db8:2::/64"],
        [("198.19.1.0/24", N1_V4), ("2001:db8:1::/64", N1_V6)],
    );
    for node in [&n1, &n2] {
        let route = node.wait_route(
            "IPv6 ECMP route over both routers",
            via(&[ROUTER1_V6, ROUTER2_V6]),
            ROUTER_PREFIX,
        );
        eprintln!("{}: {route}", node.name);
    }
    // A session whose first connection reaches a ternd that has not added that peer yet
    // waits out the 5 s connect retry: with simultaneous starts this figure is often ~4.5 s.
    eprintln!(
        "dual stack: every route on both nodes {} ms after start",
        started.elapsed().as_millis()
    );

    // n3 has IPv4 only: the IPv4 routes, and no IPv6 route nor session (each session carries
    // its own family, so IPv6 routes never reach it over the IPv4 mesh).
    expect_ipv4_only_routes(&n1, &n2, &n3);

    // Drift on n1: someone else's static IPv6 route, the learned pod route deleted and the
    // ECMP route replaced by hand (which also makes it protocol `boot`).
    n1.host
        .ip(&[
            "-6",
            "route",
            "add",
            "2001:db8:99::/64",
            "via",
            ROUTER1_V6,
            "proto",
            "static",
        ])
        .unwrap();
    let drifted = Instant::now();
    n1.host
        .ip(&["-6", "route", "del", "2001:db8:2::/64"])
        .unwrap();
    n1.host
        .ip(&["-6", "route", "replace", ROUTER_PREFIX, "via", ROUTER1_V6])
        .unwrap();
    n1.wait_routes_via(
        "both drifted IPv6 routes restored",
        &[
            ("2001:db8:2::/64", &[N2_V6]),
            (ROUTER_PREFIX, &[ROUTER1_V6, ROUTER2_V6]),
        ],
    );
    eprintln!(
        "drift: deleted + altered IPv6 routes restored after {} ms",
        drifted.elapsed().as_millis()
    );
    n1.assert_foreign_route("2001:db8:99::/64", "static", ROUTER1_V6);

    // Withdrawals: ECMP shrinks to one router, then the prefix leaves both kernels.
    routers[1].withdraw(ROUTER_PREFIX.parse().unwrap()).unwrap();
    for node in [&n1, &n2] {
        node.wait_route(
            "IPv6 ECMP shrinks to one router",
            via(&[ROUTER1_V6]),
            ROUTER_PREFIX,
        );
    }
    routers[0].withdraw(ROUTER_PREFIX.parse().unwrap()).unwrap();
    for node in [&n1, &n2] {
        node.wait_no_route("withdrawn IPv6 prefix removed", ROUTER_PREFIX);
    }
    assert!(
        n1.route("2001:db8:99::/64").is_some(),
        "static IPv6 route still untouched"
    );
    n1.stop();
    n2.stop();
    n3.stop();
}

#[test]
fn ipv6_pods_reach_each_other_over_tern_routes_across_a_restart() {
    let text = cluster(false, &[]);
    let mut n1 = Node::new("n1", &text);
    let mut n2 = Node::new("n2", &text);
    let _underlay = Veth::with_addresses(
        &n1.host,
        &networks(N1_ADDRESSES),
        &n2.host,
        &networks(N2_ADDRESSES),
    )
    .unwrap();
    let (pod1, _link1) = attach_pod(&n1.host, "2001:db8:1::10", "2001:db8:1::1");
    let (_pod2, _link2) = attach_pod(&n2.host, "2001:db8:2::10", "2001:db8:2::1");
    // Before ternd: n1 has no route to n2's pods.
    assert!(
        pod1.ping(ip("2001:db8:2::10")).is_err(),
        "pods reach each other without tern's routes"
    );
    n1.start();
    n2.start();
    n1.wait_route("n2's IPv6 pod CIDR", via(&[N2_V6]), "2001:db8:2::/64");
    n2.wait_route("n1's IPv6 pod CIDR", via(&[N1_V6]), "2001:db8:1::/64");
    wait_until("pod to pod over IPv6", WAIT, || {
        pod1.ping(ip("2001:db8:2::10")).map(Some)
    })
    .unwrap();
    let lookup = n1
        .host
        .ip(&["-6", "route", "get", "2001:db8:2::10"])
        .unwrap()
        .stdout;
    eprintln!("n1: route get 2001:db8:2::10: {}", lookup.trim());
    assert!(
        lookup.contains(&format!("via {N2_V6}")) && lookup.contains("proto 201"),
        "{lookup}"
    );

    // 300 echoes (6 s) while n1's ternd restarts; while it is down a stale IPv6 tern route is
    // planted (it must go afterwards).
    let summary = n1.ping_across_restart(&pod1, "2001:db8:2::10", 300, ("2001:db8:77::/64", N2_V6));
    eprintln!("ping6 across a ternd restart: {summary}");
    n1.wait_route("IPv6 pod route kept", via(&[N2_V6]), "2001:db8:2::/64");
    n1.wait_no_route("stale IPv6 tern route removed", "2001:db8:77::/64");
    n1.stop();
    n2.stop();
}
