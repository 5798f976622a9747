//! The per-packet path (rules a packet meets) depends on the policies selecting the two pods,
//! not on how many policies or pods exist.

mod common;

use common::*;
use policy::explain::{Hook, Packet, evaluate};
use serde_json::json;

/// The standard world plus `extra` namespaces, each with one local pod and two policies
/// (a deny-all and an allow from x/a's labels anywhere).
fn crowded(extra: usize) -> World {
    let mut world = World::xyz()
        .with("metadata: {name: deny, namespace: x}\nspec: {podSelector: {}, policyTypes: [Ingress, Egress]}")
        .with(
            "metadata: {name: a-to-b, namespace: x}
spec:
  podSelector: {}
  ingress: [{from: [{podSelector: {matchLabels: {pod: a}}}], ports: [{port: 80}]}]
  egress: [{to: [{podSelector: {matchLabels: {pod: b}}}]}]",
        );
    for n in 0..extra {
        let namespace = format!("n-{n}");
        world.input.namespaces.push(namespace_of(&namespace));
        let address = format!("198.19.{}.{}", 64 + n / 200, n % 200 + 1);
        world.input.pods.push(pod(
            &namespace,
            "p",
            NODE,
            &[&address],
            json!({"pod": "a"}),
            &[],
        ));
        world = world
            .with(&format!("metadata: {{name: deny, namespace: {namespace}}}\nspec: {{podSelector: {{}}}}"))
            .with(&format!(
                "metadata: {{name: allow, namespace: {namespace}}}
spec: {{podSelector: {{}}, ingress: [{{from: [{{namespaceSelector: {{}}, podSelector: {{matchLabels: {{pod: a}}}}}}]}}]}}"
            ));
    }
    world
}

fn namespace_of(name: &str) -> k8s_openapi::api::core::v1::Namespace {
    namespace(name, json!({}))
}

#[test]
fn path_length_does_not_grow_with_policies() {
    let small = crowded(4).compile();
    let large = crowded(1000).compile();
    // x's pods share one ingress and one egress chain; each crowded namespace has its own.
    assert_eq!(small.ir.chains.len(), 2 + 4);
    assert_eq!(large.ir.chains.len(), 2 + 1000);
    for (from, to, port) in [
        ("x/a", "x/b", 80),
        ("x/a", "x/b", 81),
        ("x/c", "x/b", 80),
        ("x/b", "x/a", 80),
    ] {
        let packet = Packet::tcp(address_of(from), address_of(to), port);
        let few = evaluate(&small.ir, Hook::Forward, &packet);
        let many = evaluate(&large.ir, Hook::Forward, &packet);
        assert_eq!(few, many, "{from} → {to}:{port}");
        assert!(few.rules_evaluated < 20, "{few:?}");
    }
    // ct, nd, egress/v4 vmap → [ct invalid, pods/v4 return], egress/v6 vmap, ingress/v4 vmap →
    // [ct invalid, pods/v4 accept].
    let allowed = Packet::tcp(address_of("x/a"), address_of("x/b"), 80);
    assert_eq!(
        evaluate(&large.ir, Hook::Forward, &allowed).rules_evaluated,
        9
    );
    // A packet into one of the thousand crowded namespaces meets the same short chain too.
    let into_crowd = |ir: &policy::PolicyIr, address: &str| {
        evaluate(
            ir,
            Hook::Forward,
            &Packet::tcp(address_of("x/a"), ip(address), 80),
        )
        .rules_evaluated
    };
    assert_eq!(
        into_crowd(&small.ir, "198.19.64.1"),
        into_crowd(&large.ir, "198.19.68.200")
    );
}
