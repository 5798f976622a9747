//! Traffic that NetworkPolicy never blocks, and where on the host each check happens: the node
//! itself, neighbour discovery, pod → host, Services (post-DNAT), finished pods.

mod common;

use common::*;
use policy::explain::{Hook, Packet, Verdict, explain};
use serde_json::json;

fn deny_all_x() -> policy::Compiled {
    World::xyz()
        .with("metadata: {name: deny, namespace: x}\nspec: {podSelector: {}, policyTypes: [Ingress, Egress]}")
        .compile()
}

#[test]
fn the_node_reaches_its_pods_through_output() {
    let compiled = deny_all_x();
    let probe = Packet::tcp(ip(NODE_ADDRESS), address_of("x/a"), 8080);
    assert!(explain(&compiled.ir, Hook::Output, &probe).is_accept());
    // Another source address on the host (not a node address) is judged.
    let other = Packet::tcp(ip("198.18.0.99"), address_of("x/a"), 8080);
    assert!(!explain(&compiled.ir, Hook::Output, &other).is_accept());
    // The node's address arriving from elsewhere (forward) is not special.
    assert!(!tcp(&compiled, NODE_ADDRESS, "x/a", 8080));
}

#[test]
fn pod_to_host_is_judged_by_the_pods_egress_in_input() {
    let compiled = deny_all_x();
    let to_host = Packet::tcp(address_of("x/a"), ip(NODE_ADDRESS), 10250);
    assert!(matches!(
        explain(&compiled.ir, Hook::Input, &to_host),
        Verdict::Drop { .. }
    ));
    let from_y = Packet::tcp(address_of("y/a"), ip(NODE_ADDRESS), 10250);
    assert!(explain(&compiled.ir, Hook::Input, &from_y).is_accept());
}

#[test]
fn ipv6_neighbour_discovery_always_passes() {
    let compiled = deny_all_x();
    for icmp_type in 133..=137 {
        let packet = Packet {
            source: ip("2001:db8:1::a"),
            destination: ip("2001:db8:1::1"),
            protocol: 58,
            port: None,
            icmp_type: Some(icmp_type),
        };
        for hook in [Hook::Forward, Hook::Input, Hook::Output] {
            assert!(explain(&compiled.ir, hook, &packet).is_accept());
        }
    }
    let script = policy::render_full(&compiled.ir);
    assert_eq!(
        script.matches("nd-neighbor-solicit").count(),
        3,
        "in all three base chains"
    );
}

#[test]
fn replies_of_allowed_connections_pass_via_conntrack() {
    let script = policy::render_full(&deny_all_x().ir);
    let base_chains: Vec<&str> = script
        .split("\tchain ")
        .filter(|c| c.contains("hook"))
        .collect();
    assert_eq!(base_chains.len(), 3);
    for chain in base_chains {
        let first_rule = chain.lines().nth(2).unwrap().trim();
        assert_eq!(first_rule, "ct state established,related accept", "{chain}");
    }
}

#[test]
fn service_traffic_is_judged_on_the_backend_after_dnat() {
    // y/a may reach x/b on 80 only; a Service 198.19.240.10:8000 → x/b:80 is DNATed before the
    // filter hooks, so the forward hook sees x/b:80 and the rule applies to the backend.
    let compiled = World::xyz()
        .with(
            "metadata: {name: out, namespace: y}
spec:
  podSelector: {matchLabels: {pod: a}}
  policyTypes: [Egress]
  egress: [{to: [{namespaceSelector: {}, podSelector: {matchLabels: {pod: b}}}], ports: [{port: 80}]}]",
        )
        .compile();
    assert!(tcp(&compiled, "y/a", "x/b", 80), "post-DNAT packet");
    assert!(
        !tcp(&compiled, "y/a", "198.19.240.10", 8000),
        "a pre-DNAT view would not match"
    );
}

#[test]
fn finished_and_unaddressed_pods_take_no_part() {
    let mut world = World::xyz().with(
        "metadata: {name: p, namespace: x}\nspec: {podSelector: {}, ingress: [{from: [{namespaceSelector: {}}]}]}",
    );
    let mut done = pod("y", "done", "node-2", &["198.19.2.99"], json!({}), &[]);
    done.status.as_mut().unwrap().phase = Some("Succeeded".into());
    world.input.pods.push(done);
    let mut pending = pod("x", "pending", NODE, &[], json!({}), &[]);
    pending.status.as_mut().unwrap().pod_ip = None;
    world.input.pods.push(pending);
    let compiled = world.compile();
    assert!(!tcp(&compiled, "198.19.2.99", "x/a", 80));
    assert!(!compiled.ir.pods.keys().any(|id| id.name == "pending"));
}

#[test]
fn pod_ip_alone_is_used_when_pod_ips_is_missing() {
    let mut world =
        World::xyz().with("metadata: {name: deny, namespace: x}\nspec: {podSelector: {}}");
    world.pod_mut("x/a").status.as_mut().unwrap().pod_ips = None;
    let compiled = world.compile();
    assert!(compiled.ir.ingress_map.contains_key(&address_of("x/a")));
    assert!(!tcp(&compiled, "y/b", "x/a", 80));
}
