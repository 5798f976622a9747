//! Synthetic cluster at the scale, timed in-process (compile, render, incremental pod
//! add). `cargo run --release -p policy --example scale -- [PODS NAMESPACES POLICIES NODES]`.
//! Defaults: 10,000 pods, 1,000 namespaces, 2,000 policies, 10 nodes (1,000 pods on this node).
//! The bench binary (issue 6, later) adds nft apply times; this is its generator's first draft.

use std::time::Instant;

use k8s_openapi::api::core::v1::{Namespace, Pod};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use policy::{PolicyInput, compile, render_full, render_update};
use serde_json::json;

fn address(index: usize) -> String {
    format!("198.19.{}.{}", index / 250, index % 250 + 1)
}

fn pod(index: usize, namespaces: usize, nodes: usize) -> Pod {
    let roles = ["frontend", "backend", "db"];
    serde_json::from_value(json!({
        "metadata": {"namespace": format!("ns-{}", index % namespaces), "name": format!("pod-{index}"),
                     "labels": {"app": format!("app-{}", index % 5), "role": roles[index % 3]}},
        "spec": {"nodeName": format!("node-{}", index % nodes),
                 "containers": [{"name": "c", "ports": [{"name": "http", "containerPort": 8000 + (index % 3)}]}]},
        "status": {"phase": "Running", "podIPs": [{"ip": address(index)}]},
    }))
    .unwrap()
}

fn main() {
    let numbers: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let get = |i: usize, default: usize| numbers.get(i).copied().unwrap_or(default);
    let (pods, namespaces, policies, nodes) =
        (get(0, 10_000), get(1, 1_000), get(2, 2_000), get(3, 10));
    let mut input = PolicyInput {
        node_name: "node-0".into(),
        node_addresses: vec!["198.18.0.10".parse().unwrap()],
        ..PolicyInput::default()
    };
    for n in 0..namespaces {
        let namespace: Namespace = serde_json::from_value(json!({
            "metadata": {"name": format!("ns-{n}"), "labels": {"team": format!("team-{}", n % 20)}}
        }))
        .unwrap();
        input.namespaces.push(namespace);
    }
    for index in 0..pods {
        input.pods.push(pod(index, namespaces, nodes));
    }
    for p in 0..policies {
        let namespace = format!("ns-{}", p % namespaces);
        let policy: NetworkPolicy = if p < namespaces {
            serde_json::from_value(json!({
                "metadata": {"namespace": namespace, "name": "default-deny"},
                "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"],
                         "egress": [{"ports": [{"protocol": "UDP", "port": 53}]}]}
            }))
        } else {
            serde_json::from_value(json!({
                "metadata": {"namespace": namespace, "name": format!("allow-{p}")},
                "spec": {
                    "podSelector": {"matchLabels": {"app": format!("app-{}", p % 5)}},
                    "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {"team": format!("team-{}", p % 20)}},
                                           "podSelector": {"matchLabels": {"role": "frontend"}}},
                                          {"ipBlock": {"cidr": "192.0.2.0/24", "except": ["192.0.2.128/25"]}}],
                                 "ports": [{"port": 80}, {"port": "http"}, {"port": 9000, "endPort": 9010}]}],
                    "egress": [{"to": [{"namespaceSelector": {"matchLabels": {"team": format!("team-{}", p % 20)}}}],
                                "ports": [{"port": "http"}]}]
                }
            }))
        }
        .unwrap();
        input.policies.push(policy);
    }

    let start = Instant::now();
    let compiled = compile(&input);
    let compile_time = start.elapsed();
    let start = Instant::now();
    let script = render_full(&compiled.ir);
    let render_time = start.elapsed();
    let elements: usize = compiled.ir.sets.values().map(|s| s.elements.len()).sum();
    println!("pods {pods}, namespaces {namespaces}, policies {policies}, nodes {nodes}");
    println!("compile {compile_time:?}, render {render_time:?}");
    println!(
        "local pods {}, chains {}, sets {}, set elements {elements}, map entries {}, script {} bytes, {} lines",
        compiled.ir.pods.len(),
        compiled.ir.chains.len(),
        compiled.ir.sets.len(),
        compiled.ir.ingress_map.len() + compiled.ir.egress_map.len(),
        script.len(),
        script.lines().count()
    );
    let longest = compiled
        .ir
        .chains
        .values()
        .map(|g| g.lines.len())
        .max()
        .unwrap_or(0);
    println!("longest group chain: {longest} allow lines");

    input.pods.push(pod(pods, namespaces, nodes));
    let start = Instant::now();
    let next = compile(&input);
    let recompile_time = start.elapsed();
    let start = Instant::now();
    let update = render_update(&compiled.ir, &next.ir).unwrap_or_default();
    println!(
        "pod add: recompile {recompile_time:?}, diff {:?}, update {} commands, {} bytes",
        start.elapsed(),
        update.lines().count(),
        update.len()
    );
    if std::env::var_os("SCALE_SCRIPT").is_some() {
        std::fs::write("/tmp/tern-scale.nft", &script).unwrap();
        std::fs::write("/tmp/tern-scale-update.nft", &update).unwrap();
    }
}
