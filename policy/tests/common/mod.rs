//! Test world: namespaces x, y, z with pods a, b, c each (the upstream conformance layout),
//! spread over two nodes. This node is `node-1`; x/* and y/a run here, the rest on `node-2`.

#![allow(dead_code)]

use std::net::IpAddr;

use k8s_openapi::api::core::v1::{Namespace, Pod};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use policy::explain::{Hook, Packet, Verdict, explain};
use policy::{Compiled, PolicyInput, compile};
use serde_json::json;

pub const NODE: &str = "node-1";
pub const NODE_ADDRESS: &str = "198.18.0.11";
pub const EXTERNAL: &str = "192.0.2.10";

pub fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

pub fn namespace(name: &str, labels: serde_json::Value) -> Namespace {
    serde_json::from_value(json!({"metadata": {"name": name, "labels": labels}})).unwrap()
}

/// A running pod. `ports`: (name, protocol, number).
pub fn pod(
    namespace: &str,
    name: &str,
    node: &str,
    addresses: &[&str],
    labels: serde_json::Value,
    ports: &[(&str, &str, u16)],
) -> Pod {
    let ports: Vec<_> = ports
        .iter()
        .map(|(name, protocol, port)| {
            json!({"name": name, "protocol": protocol, "containerPort": port})
        })
        .collect();
    let pod_ips: Vec<_> = addresses.iter().map(|a| json!({"ip": a})).collect();
    serde_json::from_value(json!({
        "metadata": {"namespace": namespace, "name": name, "labels": labels},
        "spec": {"nodeName": node, "containers": [{"name": "c", "ports": ports}]},
        "status": {"phase": "Running", "podIP": addresses.first(), "podIPs": pod_ips},
    }))
    .unwrap()
}

pub fn policy(yaml: &str) -> NetworkPolicy {
    serde_yaml_ng::from_str(yaml).unwrap()
}

pub struct World {
    pub input: PolicyInput,
}

/// Address of pod `<namespace>/<pod>` in the standard world.
pub fn address_of(pod: &str) -> IpAddr {
    let (namespace, name) = pod.split_once('/').unwrap();
    let n = ["x", "y", "z"]
        .iter()
        .position(|x| *x == namespace)
        .unwrap() as u8;
    let p = ["a", "b", "c"].iter().position(|x| *x == name).unwrap() as u8;
    let local = namespace == "x" || pod == "y/a";
    let subnet = if local { 1 } else { 2 };
    ip(&format!("198.19.{subnet}.{}", 10 * (n + 1) + p))
}

impl World {
    /// The standard world, no policies.
    pub fn xyz() -> World {
        let mut input = PolicyInput {
            node_name: NODE.into(),
            node_addresses: vec![ip(NODE_ADDRESS)],
            ..PolicyInput::default()
        };
        for namespace_name in ["x", "y", "z"] {
            input
                .namespaces
                .push(namespace(namespace_name, json!({"ns": namespace_name})));
            for pod_name in ["a", "b", "c"] {
                let id = format!("{namespace_name}/{pod_name}");
                let local = namespace_name == "x" || id == "y/a";
                let node = if local { NODE } else { "node-2" };
                let address = address_of(&id).to_string();
                input.pods.push(pod(
                    namespace_name,
                    pod_name,
                    node,
                    &[&address],
                    json!({"pod": pod_name}),
                    &[("serve-80-tcp", "TCP", 80), ("serve-81-udp", "UDP", 81)],
                ));
            }
        }
        World { input }
    }

    pub fn with(mut self, yaml: &str) -> World {
        self.input.policies.push(policy(yaml));
        self
    }

    pub fn compile(&self) -> Compiled {
        compile(&self.input)
    }

    pub fn pod_mut(&mut self, id: &str) -> &mut Pod {
        let (namespace, name) = id.split_once('/').unwrap();
        self.input
            .pods
            .iter_mut()
            .find(|p| {
                p.metadata.namespace.as_deref() == Some(namespace)
                    && p.metadata.name.as_deref() == Some(name)
            })
            .unwrap()
    }
}

/// Resolve "x/a", an address, or "node" to an address.
pub fn endpoint(text: &str) -> IpAddr {
    if text == "node" {
        ip(NODE_ADDRESS)
    } else if text.contains('/') && !text.contains(':') && text.len() <= 4 {
        address_of(text)
    } else {
        ip(text)
    }
}

/// Verdict for the first packet `from` → `to` through this node's forward hook.
pub fn forward(compiled: &Compiled, packet: Packet) -> Verdict {
    explain(&compiled.ir, Hook::Forward, &packet)
}

pub fn tcp(compiled: &Compiled, from: &str, to: &str, port: u16) -> bool {
    forward(compiled, Packet::tcp(endpoint(from), endpoint(to), port)).is_accept()
}

pub fn udp(compiled: &Compiled, from: &str, to: &str, port: u16) -> bool {
    forward(compiled, Packet::udp(endpoint(from), endpoint(to), port)).is_accept()
}

pub fn ping(compiled: &Compiled, from: &str, to: &str) -> bool {
    forward(compiled, Packet::ping(endpoint(from), endpoint(to))).is_accept()
}

/// Every pod of the standard world.
pub const PODS: [&str; 9] = [
    "x/a", "x/b", "x/c", "y/a", "y/b", "y/c", "z/a", "z/b", "z/c",
];

/// The standard world with two policies in x: `web-from-y` (x/a from namespace y and
/// 192.0.2.0/24 except its upper half, on tcp 80, udp 81 and tcp 9000-9010) and `deny` (every
/// pod of x isolated both ways).
pub fn demo() -> World {
    World::xyz()
        .with(
            "metadata: {name: web-from-y, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  ingress:
    - from: [{namespaceSelector: {matchLabels: {ns: y}}}, {ipBlock: {cidr: 192.0.2.0/24, except: [192.0.2.128/25]}}]
      ports: [{port: 80}, {protocol: UDP, port: 81}, {port: 9000, endPort: 9010}]",
        )
        .with("metadata: {name: deny, namespace: x}\nspec: {podSelector: {}, policyTypes: [Ingress, Egress]}")
}
