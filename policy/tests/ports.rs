//! Port semantics: TCP default, UDP/SCTP separate, endPort ranges, named ports resolved on the
//! destination pod (ingress) or on each peer pod (egress).

mod common;

use common::*;
use policy::explain::Packet;
use policy::ports::Protocol;
use serde_json::json;

fn ingress_ports(ports: &str) -> World {
    World::xyz().with(&format!(
        "metadata: {{name: p, namespace: x}}\nspec: {{podSelector: {{}}, ingress: [{{ports: {ports}}}]}}"
    ))
}

fn sctp(compiled: &policy::Compiled, from: &str, to: &str, port: u16) -> bool {
    forward(
        compiled,
        Packet::ports(endpoint(from), endpoint(to), Protocol::Sctp, port),
    )
    .is_accept()
}

#[test]
fn protocol_defaults_to_tcp() {
    let compiled = ingress_ports("[{port: 80}]").compile();
    assert!(tcp(&compiled, "y/b", "x/a", 80));
    assert!(!udp(&compiled, "y/b", "x/a", 80));
    assert!(!sctp(&compiled, "y/b", "x/a", 80));
    assert!(!tcp(&compiled, "y/b", "x/a", 81));
}

#[test]
fn udp_and_sctp_are_separate_protocols() {
    let compiled = ingress_ports("[{protocol: UDP, port: 81}, {protocol: SCTP}]").compile();
    assert!(udp(&compiled, "y/b", "x/a", 81));
    assert!(!tcp(&compiled, "y/b", "x/a", 81));
    assert!(
        sctp(&compiled, "y/b", "x/a", 5000),
        "SCTP with no port: every SCTP port"
    );
    assert!(!udp(&compiled, "y/b", "x/a", 5000));
}

#[test]
fn sctp_only_rule_still_isolates() {
    let compiled = ingress_ports("[{protocol: SCTP, port: 80}]").compile();
    assert!(sctp(&compiled, "y/b", "x/a", 80));
    assert!(!tcp(&compiled, "y/b", "x/a", 80));
    assert!(!udp(&compiled, "y/b", "x/a", 80));
    assert!(!ping(&compiled, "y/b", "x/a"));
}

#[test]
fn end_port_is_an_inclusive_range() {
    let compiled = ingress_ports("[{port: 9000, endPort: 9010}]").compile();
    assert!(!tcp(&compiled, "y/b", "x/a", 8999));
    assert!(tcp(&compiled, "y/b", "x/a", 9000));
    assert!(tcp(&compiled, "y/b", "x/a", 9010));
    assert!(!tcp(&compiled, "y/b", "x/a", 9011));
}

#[test]
fn invalid_ports_match_nothing_but_still_isolate() {
    let compiled = ingress_ports("[{port: 9000, endPort: 10}, {protocol: ICMP}]").compile();
    assert!(!tcp(&compiled, "y/b", "x/a", 9000));
    assert!(!ping(&compiled, "y/b", "x/a"));
    assert_eq!(compiled.diagnostics.len(), 2);
}

/// x/a serves `http` on 8080, x/b on 9090, x/c does not serve it.
fn with_http_ports(mut world: World) -> World {
    world.pod_mut("x/a").spec.as_mut().unwrap().containers[0].ports =
        Some(serde_json::from_value(json!([{"name": "http", "containerPort": 8080}])).unwrap());
    world.pod_mut("x/b").spec.as_mut().unwrap().containers[0].ports = Some(
        serde_json::from_value(
            json!([{"name": "http", "containerPort": 9090, "protocol": "TCP"},
                                      {"name": "dns", "containerPort": 53, "protocol": "UDP"}]),
        )
        .unwrap(),
    );
    world
}

#[test]
fn ingress_named_port_resolves_on_each_destination_pod() {
    let compiled = with_http_ports(ingress_ports("[{port: http}]")).compile();
    assert!(tcp(&compiled, "y/b", "x/a", 8080));
    assert!(!tcp(&compiled, "y/b", "x/a", 9090));
    assert!(tcp(&compiled, "y/b", "x/b", 9090));
    assert!(!tcp(&compiled, "y/b", "x/b", 8080));
    for port in [80, 8080, 9090] {
        assert!(
            !tcp(&compiled, "y/b", "x/c", port),
            "x/c serves no http: nothing matches"
        );
    }
    let chains: std::collections::BTreeSet<_> = compiled
        .ir
        .ingress_map
        .values()
        .map(|entry| &entry.chain)
        .collect();
    assert_eq!(chains.len(), 3, "different resolutions, different chains");
}

#[test]
fn named_port_protocol_must_match_the_declaration() {
    let compiled =
        with_http_ports(ingress_ports("[{port: dns}, {port: http, protocol: UDP}]")).compile();
    assert!(
        !udp(&compiled, "y/b", "x/b", 53),
        "dns is UDP, the rule says TCP"
    );
    assert!(!tcp(&compiled, "y/b", "x/b", 53));
    assert!(!udp(&compiled, "y/b", "x/b", 9090), "http is TCP");
    let compiled = with_http_ports(ingress_ports("[{port: dns, protocol: UDP}]")).compile();
    assert!(udp(&compiled, "y/b", "x/b", 53));
}

#[test]
fn egress_named_port_resolves_on_each_peer_pod() {
    let world = with_http_ports(World::xyz()).with(
        "metadata: {name: out, namespace: y}
spec:
  podSelector: {matchLabels: {pod: a}}
  policyTypes: [Egress]
  egress: [{to: [{namespaceSelector: {matchLabels: {ns: x}}}], ports: [{port: http}]}]",
    );
    let compiled = world.compile();
    assert!(tcp(&compiled, "y/a", "x/a", 8080));
    assert!(
        !tcp(&compiled, "y/a", "x/a", 9090),
        "9090 is x/b's http, not x/a's"
    );
    assert!(tcp(&compiled, "y/a", "x/b", 9090));
    assert!(!tcp(&compiled, "y/a", "x/c", 8080), "x/c serves no http");
    assert!(!tcp(&compiled, "y/a", "z/a", 80));
}

#[test]
fn egress_named_port_without_peers_reaches_any_pod_serving_it() {
    let world = with_http_ports(World::xyz()).with(
        "metadata: {name: out, namespace: y}
spec: {podSelector: {matchLabels: {pod: a}}, policyTypes: [Egress], egress: [{ports: [{port: http}]}]}",
    );
    let compiled = world.compile();
    assert!(tcp(&compiled, "y/a", "x/a", 8080));
    assert!(tcp(&compiled, "y/a", "x/b", 9090));
    assert!(
        !tcp(&compiled, "y/a", EXTERNAL, 8080),
        "an outside address serves no named port"
    );
}

#[test]
fn egress_named_port_with_ip_block_peer_uses_pods_inside_the_block() {
    let x_b = address_of("x/b");
    let world = with_http_ports(World::xyz()).with(&format!(
        "metadata: {{name: out, namespace: y}}
spec:
  podSelector: {{matchLabels: {{pod: a}}}}
  policyTypes: [Egress]
  egress: [{{to: [{{ipBlock: {{cidr: {x_b}/32}}}}], ports: [{{port: http}}, {{port: 80}}]}}]"
    ));
    let compiled = world.compile();
    assert!(tcp(&compiled, "y/a", "x/b", 9090));
    assert!(tcp(&compiled, "y/a", "x/b", 80));
    assert!(
        !tcp(&compiled, "y/a", "x/a", 8080),
        "x/a is outside the block"
    );
}
