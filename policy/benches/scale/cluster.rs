//! The synthetic cluster of the scale bench. Pod `i` lives in namespace `ns-(i % N)` on node
//! `(i / N + i) % nodes`, so every namespace has pods on every node (10 pods per namespace, one
//! of them on this node, `node-0`, at the default shape). Labels: `app-0..4`,
//! `role` frontend/backend/db, named container port `http` = 8000..8002 and `metrics` 9090.
//! Namespaces carry `team-0..19` and `env` prod/staging; kube-system runs two DNS pods.
//!
//! Policies: one default-deny per namespace (Ingress and Egress, DNS to kube-system allowed),
//! then a mix cycling over ten kinds: same-namespace app allows (4 of 10), cross-namespace
//! namespaceSelector AND podSelector with an endPort range (2), ipBlock with except (1),
//! egress to named ports in prod namespaces (1), monitoring by namespace name (1), UDP ranges (1).

use std::net::IpAddr;

use k8s_openapi::api::core::v1::{Namespace, Pod};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use policy::PolicyInput;
use serde_json::{Value, json};

pub const NODE: &str = "node-0";

#[derive(Clone, Copy, Debug)]
pub struct Shape {
    pub pods: usize,
    pub namespaces: usize,
    pub policies: usize,
    pub nodes: usize,
}

pub struct Cluster {
    shape: Shape,
    pods: Vec<Pod>,
    namespaces: Vec<Namespace>,
    policies: Vec<NetworkPolicy>,
    local: Vec<IpAddr>,
}

fn address(index: usize) -> String {
    format!("198.19.{}.{}", index / 250, index % 250 + 1)
}

fn pod_json(namespace: &str, name: &str, node: &str, address: &str, k: usize) -> Value {
    let roles = ["frontend", "backend", "db"];
    json!({
        "metadata": {"namespace": namespace, "name": name,
                     "labels": {"app": format!("app-{}", k % 5), "role": roles[k % 3]}},
        "spec": {"nodeName": node, "containers": [{"name": "c", "ports": [
            {"name": "http", "containerPort": 8000 + (k % 3)},
            {"name": "metrics", "containerPort": 9090}]}]},
        "status": {"phase": "Running", "podIPs": [{"ip": address}]},
    })
}

fn policy_json(shape: &Shape, p: usize) -> Value {
    let namespaces = shape.namespaces;
    if p < namespaces {
        return json!({
            "metadata": {"namespace": format!("ns-{p}"), "name": "default-deny"},
            "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"],
                     "egress": [{"to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}}}],
                                 "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]}]}
        });
    }
    let q = p - namespaces;
    let namespace = format!("ns-{}", q % namespaces);
    let app = json!({"matchLabels": {"app": format!("app-{}", q % 5)}});
    let spec = match q % 10 {
        0..=3 => json!({"podSelector": app,
            "ingress": [{"from": [{"podSelector": {"matchLabels": {"role": "frontend"}}}],
                         "ports": [{"port": 80}, {"port": "http"}]}]}),
        4 | 5 => json!({"podSelector": app,
            "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {"team": format!("team-{}", q % 20)}},
                                   "podSelector": {"matchLabels": {"role": "frontend"}}}],
                         "ports": [{"port": 8000, "endPort": 8002}]}]}),
        6 => json!({"podSelector": app,
            "ingress": [{"from": [{"ipBlock": {"cidr": "192.0.2.0/24", "except": ["192.0.2.128/25"]}}],
                         "ports": [{"port": 443}]}]}),
        7 => json!({"podSelector": app, "policyTypes": ["Egress"],
            "egress": [{"to": [{"namespaceSelector": {"matchLabels": {"env": "prod"}}}],
                        "ports": [{"port": "http"}]}]}),
        8 => json!({"podSelector": {},
            "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}],
                         "ports": [{"port": "metrics"}]}]}),
        _ => json!({"podSelector": app,
            "ingress": [{"from": [{"podSelector": {}}],
                         "ports": [{"protocol": "UDP", "port": 5000, "endPort": 5100}]}]}),
    };
    json!({"metadata": {"namespace": namespace, "name": format!("allow-{q}")}, "spec": spec})
}

impl Cluster {
    pub fn generate(shape: &Shape) -> Cluster {
        let mut pods = Vec::new();
        let mut local = Vec::new();
        for i in 0..shape.pods {
            let k = i / shape.namespaces;
            let node = format!("node-{}", (k + i) % shape.nodes);
            if node == NODE {
                local.push(address(i).parse().unwrap());
            }
            let value = pod_json(
                &format!("ns-{}", i % shape.namespaces),
                &format!("pod-{i}"),
                &node,
                &address(i),
                k,
            );
            pods.push(serde_json::from_value(value).unwrap());
        }
        for (n, name) in ["dns-0", "dns-1"].iter().enumerate() {
            let value = pod_json(
                "kube-system",
                name,
                "node-1",
                &format!("198.19.251.{}", n + 1),
                0,
            );
            pods.push(serde_json::from_value(value).unwrap());
        }
        let mut namespaces: Vec<Namespace> = (0..shape.namespaces)
            .map(|n| {
                let env = if n % 2 == 0 { "prod" } else { "staging" };
                serde_json::from_value(json!({"metadata": {"name": format!("ns-{n}"),
                    "labels": {"team": format!("team-{}", n % 20), "env": env}}}))
                .unwrap()
            })
            .collect();
        for name in ["kube-system", "monitoring"] {
            namespaces.push(serde_json::from_value(json!({"metadata": {"name": name}})).unwrap());
        }
        let policies = (0..shape.policies)
            .map(|p| serde_json::from_value(policy_json(shape, p)).unwrap())
            .collect();
        Cluster {
            shape: *shape,
            pods,
            namespaces,
            policies,
            local,
        }
    }

    /// The compiler input for `node-0`.
    pub fn input(&self) -> PolicyInput {
        PolicyInput {
            node_name: NODE.into(),
            node_addresses: vec![
                "198.18.0.10".parse().unwrap(),
                "198.19.252.1".parse().unwrap(),
            ],
            pods: self.pods.clone(),
            namespaces: self.namespaces.clone(),
            policies: self.policies.clone(),
        }
    }

    /// Addresses of the pods on `node-0`.
    pub fn local_addresses(&self) -> Vec<IpAddr> {
        self.local.clone()
    }

    /// Namespace of extra pod `n` (one that already has pods on this node).
    pub fn extra_namespace(&self, n: usize) -> String {
        format!("ns-{}", (n * 37) % self.shape.namespaces)
    }

    pub fn extra_name(&self, n: usize) -> String {
        format!("extra-{n}")
    }

    /// A new pod, on this node when `local`, in an existing namespace.
    pub fn extra_pod(&self, n: usize, local: bool) -> Pod {
        let node = if local { NODE } else { "node-1" };
        let value = pod_json(
            &self.extra_namespace(n),
            &self.extra_name(n),
            node,
            &format!("198.19.250.{}", n + 1),
            n,
        );
        serde_json::from_value(value).unwrap()
    }

    /// Change the ports of the `n`th non-default-deny policy in `input`.
    pub fn edit_policy(&self, input: &mut PolicyInput, n: usize) {
        let index = self.shape.namespaces + n;
        let Some(policy) = input.policies.get_mut(index) else {
            return;
        };
        let mut value = serde_json::to_value(&*policy).unwrap();
        value["spec"]["ingress"] = json!([{"ports": [{"port": 7000 + n}]}]);
        value["spec"]["policyTypes"] = json!(["Ingress"]);
        *policy = serde_json::from_value(value).unwrap();
    }
}
