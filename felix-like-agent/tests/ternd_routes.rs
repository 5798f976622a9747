//! ternd programs kernel routes, end to end in network namespaces (needs root).
//!
//! - Two ternd nodes in a BGP mesh plus two BIRD routers on one switch: each node installs
//!   the other's pod CIDR (protocol 201), a blackhole for its own, and an ECMP route over both
//!   routers for the prefix they both announce. A route deleted and a route altered by hand
//!   come back (the time is printed); a static route of another protocol stays.
//! - Two ternd nodes with a "pod" namespace behind each: a bounded ping between the pods runs
//!   while one ternd restarts; no packet is lost, and a stale tern route planted while ternd
//!   was down is removed once the restarted speaker has relearned its routes.

mod common;

use std::time::Instant;

use common::route_node::{
    Node, NodeSpec, WAIT, attach_pod, bird_routers, ip, is_tern, is_tern_blackhole, manifests, via,
};
use interop_tests::{Switch, Veth, wait_until};

/// Two IPv4-only nodes: n1 (198.18.0.11, pods 198.19.1.0/24) and n2 (.12, 198.19.2.0/24).
fn two_nodes(routers: &[&str]) -> String {
    manifests(
        &[
            NodeSpec {
                name: "n1",
                addresses: &["198.18.0.11/24"],
                pod_cidrs: &["198.19.1.0/24"],
            },
            NodeSpec {
                name: "n2",
                addresses: &["198.18.0.12/24"],
                pod_cidrs: &["198.19.2.0/24"],
            },
        ],
        routers,
    )
}

/// Starts both nodes' ternd and waits until each has installed the other's pod CIDR.
fn start_and_learn(n1: &mut Node, n2: &mut Node) {
    n1.start();
    n2.start();
    n1.wait_route(
        "n2's pod CIDR on n1",
        via(&["198.18.0.12"]),
        "198.19.2.0/24",
    );
    n2.wait_route(
        "n1's pod CIDR on n2",
        via(&["198.18.0.11"]),
        "198.19.1.0/24",
    );
}

#[test]
fn nodes_install_learned_ecmp_and_blackhole_routes_and_repair_drift() {
    let switch = Switch::new("rt-sw").unwrap();
    let text = two_nodes(&["198.18.0.21", "198.18.0.22"]);
    let mut n1 = Node::new("n1", &text);
    let mut n2 = Node::new("n2", &text);
    let _p1 = switch
        .connect_with_addresses(&n1.host, &["198.18.0.11/24".parse().unwrap()])
        .unwrap();
    let _p2 = switch
        .connect_with_addresses(&n2.host, &["198.18.0.12/24".parse().unwrap()])
        .unwrap();
    let (mut routers, _router_ports) = bird_routers(
        &switch,
        &[
            ("198.18.0.21/24", "198.18.0.21"),
            ("198.18.0.22/24", "198.18.0.22"),
        ],
        &["198.18.0.11", "198.18.0.12"],
        "192.0.2.0/24",
    );
    // Each node: the other's pod CIDR, a blackhole for its own, ECMP over both routers.
    start_and_learn(&mut n1, &mut n2);
    for node in [&n1, &n2] {
        let own = if node.name == "n1" {
            "198.19.1.0/24"
        } else {
            "198.19.2.0/24"
        };
        node.wait_route("blackhole for the local pod CIDR", is_tern_blackhole, own);
        node.wait_route(
            "ECMP route over both routers",
            via(&["198.18.0.21", "198.18.0.22"]),
            "192.0.2.0/24",
        );
    }

    // Drift on n1: a static route elsewhere (someone else's), one tern route deleted and
    // one replaced by hand (which also makes it protocol `boot`).
    n1.host
        .ip(&[
            "route",
            "add",
            "198.19.99.0/24",
            "via",
            "198.18.0.21",
            "proto",
            "static",
        ])
        .unwrap();
    let started = Instant::now();
    n1.host.ip(&["route", "del", "198.19.2.0/24"]).unwrap();
    n1.host
        .ip(&["route", "replace", "192.0.2.0/24", "via", "198.18.0.21"])
        .unwrap();
    n1.wait_routes_via(
        "both drifted routes restored",
        &[
            ("198.19.2.0/24", &["198.18.0.12"]),
            ("192.0.2.0/24", &["198.18.0.21", "198.18.0.22"]),
        ],
    );
    eprintln!(
        "drift: deleted + altered route restored after {} ms",
        started.elapsed().as_millis()
    );
    n1.assert_foreign_route("198.19.99.0/24", "static", "198.18.0.21");

    // A route no longer announced leaves the kernel.
    routers[1]
        .withdraw("192.0.2.0/24".parse().unwrap())
        .unwrap();
    n1.wait_route(
        "ECMP shrinks to one router",
        via(&["198.18.0.21"]),
        "192.0.2.0/24",
    );
    for router in &mut routers {
        router.withdraw("192.0.2.0/24".parse().unwrap()).unwrap();
    }
    n1.wait_no_route("withdrawn route removed", "192.0.2.0/24");
    assert!(
        n1.route("198.19.99.0/24").is_some(),
        "static route still untouched"
    );
    n1.stop();
    n2.stop();
}

#[test]
fn ternd_restart_loses_no_packets() {
    let text = two_nodes(&[]);
    let mut n1 = Node::new("n1", &text);
    let mut n2 = Node::new("n2", &text);
    let _underlay = Veth::with_addresses(
        &n1.host,
        &["198.18.0.11/24".parse().unwrap()],
        &n2.host,
        &["198.18.0.12/24".parse().unwrap()],
    )
    .unwrap();
    let (pod1, _link1) = attach_pod(&n1.host, "198.19.1.10", "198.19.1.1");
    let (_pod2, _link2) = attach_pod(&n2.host, "198.19.2.10", "198.19.2.1");
    start_and_learn(&mut n1, &mut n2);
    wait_until("pod to pod", WAIT, || {
        pod1.ping(ip("198.19.2.10")).map(Some)
    })
    .unwrap();

    // 500 echoes (10 s) while n1's ternd restarts; while it is down a tern route nothing
    // wants any more is planted (it must go after the restart).
    let summary =
        n1.ping_across_restart(&pod1, "198.19.2.10", 500, ("198.19.77.0/24", "198.18.0.12"));
    eprintln!("restart: {summary}");
    assert!(n1.route("198.19.2.0/24").is_some_and(|r| is_tern(&r)));
    n1.wait_no_route("stale tern route removed", "198.19.77.0/24");
    n1.stop();
    n2.stop();
}
