//! deploy/*.yaml are valid Kubernetes objects, and the RBAC grants read access to every kind
//! ternd reads — and nothing more.

use std::path::{Path, PathBuf};

use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::rbac::v1::{ClusterRole, Role};
use serde::Deserialize;

fn deploy(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../deploy")
        .join(name)
}

fn documents(name: &str) -> Vec<serde_yaml_ng::Value> {
    let text = std::fs::read_to_string(deploy(name)).unwrap();
    serde_yaml_ng::Deserializer::from_str(&text)
        .map(|document| serde_yaml_ng::Value::deserialize(document).unwrap())
        .collect()
}

fn of_kind<T: serde::de::DeserializeOwned>(name: &str, kind: &str) -> Vec<T> {
    documents(name)
        .into_iter()
        .filter(|d| d["kind"] == kind)
        .map(|d| serde_yaml_ng::from_value(d).unwrap())
        .collect()
}

#[test]
fn rbac_is_read_only_and_covers_every_kind() {
    let roles: Vec<ClusterRole> = of_kind("rbac.yaml", "ClusterRole");
    assert_eq!(roles.len(), 1);
    let mut granted = Vec::new();
    for rule in roles[0].rules.iter().flatten() {
        assert_eq!(rule.verbs, ["get", "list", "watch"]);
        for resource in rule.resources.iter().flatten() {
            granted.push(resource.clone());
        }
    }
    for resource in [
        "nodes",
        "services",
        "namespaces",
        "pods",
        "endpointslices",
        "networkpolicies",
        "bgpconfigurations",
        "bgppeers",
        "ippools",
        "bgpfilters",
    ] {
        assert!(granted.contains(&resource.to_string()), "{resource}");
    }
    assert!(
        !granted.contains(&"secrets".to_string()),
        "no cluster-wide Secrets"
    );
    let namespaced: Vec<Role> = of_kind("rbac.yaml", "Role");
    assert_eq!(
        namespaced[0].metadata.namespace.as_deref(),
        Some("kube-system")
    );
}

#[test]
fn daemonset_runs_ternd_with_the_contract_environment() {
    let sets: Vec<DaemonSet> = of_kind("daemonset.yaml", "DaemonSet");
    let pod = sets[0].spec.template.spec.as_ref().unwrap();
    assert_eq!(pod.host_network, Some(true));
    let container = &pod.containers[0];
    let env: Vec<&str> = container
        .env
        .iter()
        .flatten()
        .map(|e| e.name.as_str())
        .collect();
    assert!(env.contains(&"TERN_NODE_NAME") && env.contains(&"TERN_API_SOCKET"));
    let capabilities = container
        .security_context
        .as_ref()
        .and_then(|s| s.capabilities.as_ref())
        .unwrap();
    assert_eq!(capabilities.drop.as_deref(), Some(&["ALL".to_string()][..]));
}
