//! Random policies over the standard world: the compiled IR, evaluated as this node's table
//! would, agrees with the independent oracle on every flow this node judges.

mod common;
mod oracle;

use common::*;
use k8s_openapi::api::networking::v1::NetworkPolicy;
use oracle::{Flow, Oracle};
use policy::explain::{Hook, Packet, explain};
use policy::ports::Protocol;
use proptest::prelude::*;
use serde_json::{Value, json};

fn selector() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!({})),
        Just(json!({"matchLabels": {"pod": "a"}})),
        Just(json!({"matchLabels": {"pod": "b"}})),
        Just(json!({"matchExpressions": [{"key": "pod", "operator": "NotIn", "values": ["a"]}]})),
        Just(json!({"matchExpressions": [{"key": "pod", "operator": "In", "values": ["b", "c"]}]})),
        Just(json!({"matchExpressions": [{"key": "role", "operator": "DoesNotExist"}]})),
        Just(json!({"matchExpressions": [{"key": "role", "operator": "Exists"}]})),
    ]
}

fn namespace_selector() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!({})),
        Just(json!({"matchLabels": {"ns": "y"}})),
        Just(json!({"matchExpressions": [{"key": "ns", "operator": "In", "values": ["x", "z"]}]})),
        Just(json!({"matchLabels": {"kubernetes.io/metadata.name": "x"}})),
    ]
}

fn peer() -> impl Strategy<Value = Value> {
    prop_oneof![
        selector().prop_map(|s| json!({"podSelector": s})),
        namespace_selector().prop_map(|n| json!({"namespaceSelector": n})),
        (namespace_selector(), selector())
            .prop_map(|(n, s)| json!({"namespaceSelector": n, "podSelector": s})),
        Just(json!({"ipBlock": {"cidr": "198.19.1.0/24", "except": ["198.19.1.10/31"]}})),
        Just(json!({"ipBlock": {"cidr": "198.19.0.0/16", "except": ["198.19.2.16/28"]}})),
        Just(json!({"ipBlock": {"cidr": "198.19.2.20/30"}})),
        Just(json!({"ipBlock": {"cidr": "192.0.2.0/24", "except": ["192.0.2.0/28"]}})),
    ]
}

fn port() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!({"port": 80})),
        Just(json!({"protocol": "UDP", "port": 81})),
        Just(json!({"port": "serve-80-tcp"})),
        Just(json!({"protocol": "UDP", "port": "serve-81-udp"})),
        Just(json!({"port": 80, "endPort": 81})),
        Just(json!({"protocol": "UDP"})),
        Just(json!({"protocol": "SCTP", "port": 80})),
        Just(json!({})),
    ]
}

/// A list that may be missing, empty, or hold one or two items.
fn list(item: impl Strategy<Value = Value> + 'static) -> impl Strategy<Value = Option<Value>> {
    prop_oneof![
        Just(None),
        Just(Some(json!([]))),
        prop::collection::vec(item, 1..=2).prop_map(|items| Some(Value::Array(items))),
    ]
}

fn rule(peers_key: &'static str) -> impl Strategy<Value = Value> {
    (list(peer()), list(port())).prop_map(move |(peers, ports)| {
        let mut rule = serde_json::Map::new();
        if let Some(peers) = peers {
            rule.insert(peers_key.into(), peers);
        }
        if let Some(ports) = ports {
            rule.insert("ports".into(), ports);
        }
        Value::Object(rule)
    })
}

fn policy_value(index: usize) -> impl Strategy<Value = Value> {
    let types = prop_oneof![
        Just(None),
        Just(Some(json!(["Ingress"]))),
        Just(Some(json!(["Egress"]))),
        Just(Some(json!(["Ingress", "Egress"]))),
    ];
    (
        prop::sample::select(vec!["x", "y", "z"]),
        selector(),
        types,
        list(rule("from")),
        list(rule("to")),
    )
        .prop_map(move |(namespace, pod_selector, types, ingress, egress)| {
            let mut spec = serde_json::Map::new();
            spec.insert("podSelector".into(), pod_selector);
            if let Some(types) = types {
                spec.insert("policyTypes".into(), types);
            }
            if let Some(ingress) = ingress {
                spec.insert("ingress".into(), ingress);
            }
            if let Some(egress) = egress {
                spec.insert("egress".into(), egress);
            }
            json!({"metadata": {"namespace": namespace, "name": format!("p{index}")}, "spec": spec})
        })
}

fn policies() -> impl Strategy<Value = Vec<Value>> {
    (1usize..=4).prop_flat_map(|count| (0..count).map(policy_value).collect::<Vec<_>>())
}

/// The standard world, with per-pod variety: pod c serves `serve-80-tcp` on 81, and y/b has a
/// `role` label.
fn varied_world() -> World {
    let mut world = World::xyz();
    for id in ["x/c", "y/c", "z/c"] {
        world.pod_mut(id).spec.as_mut().unwrap().containers[0].ports = Some(
            serde_json::from_value(json!([{"name": "serve-80-tcp", "containerPort": 81},
                                          {"name": "serve-81-udp", "protocol": "UDP", "containerPort": 80}]))
            .unwrap(),
        );
    }
    world
        .pod_mut("y/b")
        .metadata
        .labels
        .as_mut()
        .unwrap()
        .insert("role".into(), "db".into());
    world
}

const LOCAL: [&str; 4] = ["x/a", "x/b", "x/c", "y/a"];

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn compiled_table_agrees_with_the_oracle(values in policies()) {
        let mut world = varied_world();
        world.input.policies = values
            .iter()
            .map(|v| serde_json::from_value::<NetworkPolicy>(v.clone()).unwrap())
            .collect();
        let compiled = world.compile();
        prop_assert!(compiled.diagnostics.is_empty(), "{:?}", compiled.diagnostics);
        let oracle = Oracle {
            pods: &world.input.pods,
            namespaces: &world.input.namespaces,
            policies: &world.input.policies,
        };
        let endpoints: Vec<String> = PODS.iter().map(|p| p.to_string())
            .chain(["192.0.2.1".to_string(), "192.0.2.100".to_string()])
            .collect();
        for source in &endpoints {
            for destination in &endpoints {
                let local = |e: &String| LOCAL.contains(&e.as_str());
                if source == destination || !(local(source) || local(destination)) {
                    continue;
                }
                for (protocol, name) in [(Protocol::Tcp, "TCP"), (Protocol::Udp, "UDP"), (Protocol::Sctp, "SCTP")] {
                    for port in [80u16, 81] {
                        let (from, to) = (endpoint(source), endpoint(destination));
                        let flow = Flow { source: from, destination: to, protocol: name, port };
                        // This node enforces egress of its own pods and ingress of its own pods.
                        let expected = (!local(source) || oracle.egress_allows(&flow))
                            && (!local(destination) || oracle.ingress_allows(&flow));
                        let verdict = explain(&compiled.ir, Hook::Forward, &Packet::ports(from, to, protocol, port));
                        prop_assert_eq!(
                            verdict.is_accept(), expected,
                            "{} → {} {}/{}: {:?}\n{}", source, destination, name, port, verdict,
                            serde_json::to_string_pretty(&values).unwrap()
                        );
                    }
                }
            }
        }
    }
}
