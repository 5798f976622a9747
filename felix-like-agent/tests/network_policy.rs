//! ternd's NetworkPolicy feed: snapshots in, nft scripts and element batches out (recorded, no
//! root): the node's addresses, local pods from `spec.nodeName`, incremental pod churn, a full
//! table after a policy edit.

use std::sync::{Arc, Mutex};

use policy::netlink::ElementOp;
use policy::{ApplyError, ApplyKind, NftRunner};
use serde_json::json;
use tern_agent::model::Object;
use tern_agent::network_policy::{PolicySync, node_addresses, policy_input};
use tern_agent::snapshot::Snapshot;

#[derive(Clone, Default)]
struct Recorder {
    scripts: Arc<Mutex<Vec<String>>>,
    batches: Arc<Mutex<Vec<Vec<ElementOp>>>>,
}

impl NftRunner for Recorder {
    fn apply(&self, script: &str) -> Result<(), ApplyError> {
        self.scripts.lock().unwrap().push(script.to_string());
        Ok(())
    }

    fn list(&self) -> Result<String, ApplyError> {
        Ok(String::new())
    }

    fn apply_elements(&self, ops: &[ElementOp]) -> Result<bool, ApplyError> {
        self.batches.lock().unwrap().push(ops.to_vec());
        Ok(true)
    }
}

fn object(value: serde_json::Value) -> Object {
    let kind = value["kind"].as_str().unwrap().to_string();
    match kind.as_str() {
        "Node" => Object::Node(serde_json::from_value(value).unwrap()),
        "Namespace" => Object::Namespace(serde_json::from_value(value).unwrap()),
        "Pod" => Object::Pod(serde_json::from_value(value).unwrap()),
        _ => Object::NetworkPolicy(serde_json::from_value(value).unwrap()),
    }
}

fn pod(name: &str, node: &str, address: &str, app: &str) -> Object {
    object(json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"namespace": "shop", "name": name, "labels": {"app": app}},
        "spec": {"nodeName": node, "containers": [{"name": "c"}]},
        "status": {"phase": "Running", "podIPs": [{"ip": address}]},
    }))
}

fn snapshot(extra: Vec<Object>) -> Snapshot {
    let mut objects = vec![
        object(json!({
            "apiVersion": "v1", "kind": "Node",
            "metadata": {"name": "node-1", "annotations": {"tern.dev/bgp-ipv4-address": "198.18.0.11/24"}},
            "spec": {"podCIDRs": ["198.19.1.0/24"]},
            "status": {"addresses": [{"type": "InternalIP", "address": "198.18.0.11"},
                                     {"type": "Hostname", "address": "node-1"}]},
        })),
        object(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}})),
        object(json!({
            "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"namespace": "shop", "name": "web"},
            "spec": {"podSelector": {"matchLabels": {"app": "web"}},
                     "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "client"}}}]}]},
        })),
        pod("web-1", "node-1", "198.19.1.10", "web"),
        pod("client-1", "node-2", "198.19.2.10", "client"),
    ];
    objects.extend(extra);
    Snapshot::from_objects(objects)
}

#[test]
fn node_addresses_include_the_pod_cidr_gateway() {
    let snapshot = snapshot(Vec::new());
    let addresses: Vec<String> = node_addresses(&snapshot, "node-1")
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(addresses, ["198.18.0.11", "198.19.1.1"]);
    assert!(node_addresses(&snapshot, "node-9").is_empty());
    let input = policy_input(&snapshot, "node-1");
    assert_eq!((input.pods.len(), input.policies.len()), (2, 1));
}

#[test]
fn pod_churn_is_incremental_and_policy_edits_replace_the_difference() {
    let recorder = Recorder::default();
    let mut sync = PolicySync::new("node-1", recorder.clone());
    assert_eq!(
        sync.sync(Arc::new(snapshot(Vec::new()))).unwrap(),
        ApplyKind::Full
    );
    {
        let scripts = recorder.scripts.lock().unwrap();
        assert!(scripts[0].contains("198.19.1.10 comment \"shop/web-1\""));
        assert!(
            scripts[0].contains("198.19.2.10"),
            "the remote client is a peer"
        );
    }

    // A new client on another node and a new local web pod: elements only.
    let churn = snapshot(vec![
        pod("client-2", "node-3", "198.19.3.10", "client"),
        pod("web-2", "node-1", "198.19.1.11", "web"),
    ]);
    assert!(matches!(
        sync.sync(Arc::new(churn)).unwrap(),
        ApplyKind::Incremental { .. }
    ));
    assert_eq!(recorder.scripts.lock().unwrap().len(), 1, "no nft run");
    let batches = recorder.batches.lock().unwrap().clone();
    let sets: Vec<&str> = batches[0].iter().map(|op| op.set.as_str()).collect();
    assert!(sets.contains(&"ingress/v4"), "{sets:?}");
    assert!(sets.iter().any(|s| s.ends_with("/pods/v4")), "{sets:?}");

    // Same snapshot again: nothing to do.
    let same = snapshot(vec![
        pod("client-2", "node-3", "198.19.3.10", "client"),
        pod("web-2", "node-1", "198.19.1.11", "web"),
    ]);
    assert_eq!(sync.sync(Arc::new(same)).unwrap(), ApplyKind::Unchanged);

    // The policy goes away: chains and sets change, so nft gets a script.
    let mut without_policy = snapshot(Vec::new());
    without_policy.network_policies.clear();
    assert!(matches!(
        sync.sync(Arc::new(without_policy)).unwrap(),
        ApplyKind::Incremental { .. }
    ));
    let scripts = recorder.scripts.lock().unwrap();
    assert_eq!(scripts.len(), 2);
    assert!(scripts[1].contains("delete chain inet tern ing/shop/web/"));
}
