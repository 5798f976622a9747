//! The incremental compiler equals a full compile after every step of random pod churn (adds,
//! removals, relabels, moves between nodes, address clashes, hostNetwork pods) against policies
//! of every shape, and it does take the incremental path for most steps.

mod common;

use common::*;
use policy::{PolicyCompiler, Update, compile};
use serde_json::json;

/// A small deterministic generator (xorshift), so a failure replays.
struct Random(u64);

impl Random {
    fn below(&mut self, bound: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % bound as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

fn world() -> World {
    World::xyz()
        .with("metadata: {name: deny, namespace: x}\nspec: {podSelector: {}, policyTypes: [Ingress, Egress]}")
        .with(
            "metadata: {name: web, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  ingress:
    - from: [{namespaceSelector: {matchLabels: {ns: y}}, podSelector: {matchLabels: {pod: b}}},
             {ipBlock: {cidr: 198.19.2.0/24, except: [198.19.2.128/25]}}]
      ports: [{port: serve-80-tcp}, {protocol: UDP, port: 81}]
  egress:
    - to: [{namespaceSelector: {}}]
      ports: [{port: serve-80-tcp}, {protocol: UDP, port: serve-81-udp}]
    - to: [{ipBlock: {cidr: 198.19.1.0/24}}]
      ports: [{protocol: UDP, port: serve-81-udp}]
    - ports: [{port: serve-80-tcp}]",
        )
        .with(
            "metadata: {name: b-only, namespace: x}
spec:
  podSelector: {matchLabels: {pod: b}}
  ingress: [{from: [{podSelector: {matchExpressions: [{key: pod, operator: In, values: [a, c]}]}}]}]",
        )
        .with(
            "metadata: {name: rare, namespace: y}
spec:
  podSelector: {matchLabels: {pod: d}}
  ingress: [{from: [{namespaceSelector: {matchLabels: {ns: z}}}]}]",
        )
        .with(
            "metadata: {name: all-y, namespace: y}
spec:
  podSelector: {}
  policyTypes: [Egress]
  egress: [{to: [{podSelector: {matchLabels: {pod: c}}}, {namespaceSelector: {matchLabels: {ns: x}}}]}]",
        )
}

#[test]
fn incremental_equals_full_under_random_churn() {
    let mut random = Random(0x5eed_1234_abcd_0001);
    let mut compiler = PolicyCompiler::new(world().input);
    let (mut incremental, mut full, mut unchanged) = (0, 0, 0);
    for step in 0..1500 {
        let namespace = random.pick(&["x", "y", "z"]);
        let name = random.pick(&["a", "b", "c", "d", "e", "f"]);
        let update = if random.below(4) == 0 {
            compiler.remove_pod(namespace, name)
        } else {
            let node = random.pick(&[NODE, NODE, "node-2"]);
            let address = format!("198.19.{}.{}", 1 + random.below(2), 10 + random.below(40));
            let label = random.pick(&["a", "b", "c", "d"]);
            let ports: &[(&str, &str, u16)] = match random.below(3) {
                0 => &[("serve-80-tcp", "TCP", 80), ("serve-81-udp", "UDP", 81)],
                1 => &[("serve-80-tcp", "TCP", 8080)],
                _ => &[],
            };
            let mut pod = pod(
                namespace,
                name,
                node,
                &[&address],
                json!({"pod": label}),
                ports,
            );
            if random.below(20) == 0 {
                pod.spec.as_mut().unwrap().host_network = Some(true);
            }
            compiler.upsert_pod(pod)
        };
        match update {
            Update::Incremental => incremental += 1,
            Update::Full => full += 1,
            Update::Unchanged => unchanged += 1,
        }
        let expected = compile(compiler.input());
        assert!(
            *compiler.ir() == expected.ir,
            "step {step} ({update:?}, {namespace}/{name}): incremental IR differs from a full compile"
        );
    }
    println!("incremental {incremental}, full {full}, unchanged {unchanged}");
    assert!(incremental > full, "incremental {incremental}, full {full}");
}

#[test]
fn policy_and_namespace_changes_compile_everything() {
    let mut compiler = PolicyCompiler::new(world().input);
    let mut input = compiler.input().clone();
    input.policies.pop();
    assert_eq!(compiler.replace(input.clone()), Update::Full);
    assert!(*compiler.ir() == compile(&input).ir);
}
