//! ternd programs IPv6 routes, end to end in network namespaces (needs root).
//!
//! - Two dual-stack ternd nodes in the node-to-node mesh plus a BIRD router on one switch:
//!   each node installs the other's IPv6 pod CIDR via the other's IPv6 address and its IPv4
//!   pod CIDR via its IPv4 address (protocol 201), a blackhole for each of its own pod CIDRs,
//!   and the router's IPv6 prefix via the router's IPv6 address. A learned IPv6 route deleted
//!   by hand comes back (the time is printed); a static IPv6 route of another protocol stays;
//!   the router's withdrawal removes its prefix from both nodes.
//! - Two dual-stack nodes with an IPv6 "pod" behind each: no route before ternd runs, then a
//!   bounded ping6 between the pods gets every reply, along the route tern installed.

mod common;

use std::time::Instant;

use common::route_node::{Node, NodeSpec, attach_pod, gateways, ip, is_tern_blackhole, via};
use interop_tests::peers::{self, Neighbor, PeerConfig, PeerKind, Route};
use interop_tests::{Host, Switch, Veth, wait_until};

const N1_V4: &str = "198.18.0.11";
const N2_V4: &str = "198.18.0.12";
const N1_V6: &str = "2001:db8:ff::11";
const N2_V6: &str = "2001:db8:ff::12";
const ROUTER_V6: &str = "2001:db8:ff::21";
const ROUTER_PREFIX: &str = "2001:db8:100::/48";

/// n1 and n2, dual stack (pods 198.19.N.0/24 and 2001:db8:N::/64), plus the global BGPPeers.
fn dual_stack_nodes(routers: &[&str]) -> String {
    common::route_node::manifests(
        &[
            NodeSpec {
                name: "n1",
                addresses: &["198.18.0.11/24", "2001:db8:ff::11/64"],
                pod_cidrs: &["198.19.1.0/24", "2001:db8:1::/64"],
            },
            NodeSpec {
                name: "n2",
                addresses: &["198.18.0.12/24", "2001:db8:ff::12/64"],
                pod_cidrs: &["198.19.2.0/24", "2001:db8:2::/64"],
            },
        ],
        routers,
    )
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

#[test]
fn dual_stack_nodes_install_ipv6_routes_and_repair_drift() {
    let switch = Switch::new("r6-sw").unwrap();
    let text = dual_stack_nodes(&[ROUTER_V6]);
    let mut n1 = Node::new("n1", &text);
    let mut n2 = Node::new("n2", &text);
    let _p1 = switch
        .connect_with_addresses(
            &n1.host,
            &[
                "198.18.0.11/24".parse().unwrap(),
                "2001:db8:ff::11/64".parse().unwrap(),
            ],
        )
        .unwrap();
    let _p2 = switch
        .connect_with_addresses(
            &n2.host,
            &[
                "198.18.0.12/24".parse().unwrap(),
                "2001:db8:ff::12/64".parse().unwrap(),
            ],
        )
        .unwrap();
    let router_host = Host::new("r6-bird").unwrap();
    let _router_port = switch
        .connect_with_addresses(&router_host, &["2001:db8:ff::21/64".parse().unwrap()])
        .unwrap();
    // IPv6-only sessions (Neighbor::new takes the family of the address) from the router.
    let config = PeerConfig::new("198.18.0.21".parse().unwrap(), 65000)
        .neighbor(Neighbor::new(ip(N1_V6), 64512))
        .neighbor(Neighbor::new(ip(N2_V6), 64512))
        .route(Route::new(ROUTER_PREFIX.parse().unwrap()));
    let mut router = peers::start(PeerKind::Bird, &router_host, config).unwrap();

    let started = Instant::now();
    n1.start();
    n2.start();
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
        let route = node.wait_route("the router's IPv6 prefix", via(&[ROUTER_V6]), ROUTER_PREFIX);
        eprintln!("{}: {route}", node.name);
    }
    eprintln!(
        "dual stack: every route on both nodes {} ms after start",
        started.elapsed().as_millis()
    );

    // Drift on n1: someone else's static IPv6 route, and the learned IPv6 route deleted.
    n1.host
        .ip(&[
            "-6",
            "route",
            "add",
            "2001:db8:99::/64",
            "via",
            ROUTER_V6,
            "proto",
            "static",
        ])
        .unwrap();
    let deleted = Instant::now();
    n1.host
        .ip(&["-6", "route", "del", "2001:db8:2::/64"])
        .unwrap();
    n1.wait_route(
        "deleted IPv6 route restored",
        via(&[N2_V6]),
        "2001:db8:2::/64",
    );
    eprintln!(
        "drift: deleted IPv6 route restored after {} ms",
        deleted.elapsed().as_millis()
    );
    let foreign = n1
        .route("2001:db8:99::/64")
        .expect("the static IPv6 route is untouched");
    assert_eq!(foreign["protocol"], "static");
    assert_eq!(gateways(&foreign), [ROUTER_V6]);

    // The router withdraws its prefix: it leaves both kernels; the static route stays.
    router.withdraw(ROUTER_PREFIX.parse().unwrap()).unwrap();
    for node in [&n1, &n2] {
        node.wait_no_route("withdrawn IPv6 prefix removed", ROUTER_PREFIX);
    }
    assert!(
        n1.route("2001:db8:99::/64").is_some(),
        "static IPv6 route still untouched"
    );
    n1.stop();
    n2.stop();
}

#[test]
fn ipv6_pods_reach_each_other_over_tern_routes() {
    let text = dual_stack_nodes(&[]);
    let mut n1 = Node::new("n1", &text);
    let mut n2 = Node::new("n2", &text);
    let _underlay = Veth::with_addresses(
        &n1.host,
        &[
            "198.18.0.11/24".parse().unwrap(),
            "2001:db8:ff::11/64".parse().unwrap(),
        ],
        &n2.host,
        &[
            "198.18.0.12/24".parse().unwrap(),
            "2001:db8:ff::12/64".parse().unwrap(),
        ],
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
    wait_until("pod to pod over IPv6", common::route_node::WAIT, || {
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

    // 100 echoes, 20 ms apart (2 s), each waiting at most 1 s for its reply.
    // A lost reply makes ping exit non-zero: read its summary either way.
    let output = pod1
        .run("ping -n -q -c 100 -i 0.02 -W 1 2001:db8:2::10 || true")
        .unwrap();
    let summary = output
        .lines()
        .find(|line| line.contains("packets transmitted"))
        .unwrap_or_else(|| panic!("no ping summary: {output}"));
    eprintln!("ping6: {summary}");
    assert!(
        summary.starts_with("100 packets transmitted, 100 received"),
        "{summary}"
    );
    n1.stop();
    n2.stop();
}
