//! ternd's NetworkPolicy feed: snapshots in, nft scripts and element batches out (recorded, no
//! root): the node's addresses, local pods from `spec.nodeName`, incremental pod churn, a full
//! table after a policy edit; and what the API shows of the applied table for one pod
//! (`ternctl policy show`).

use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use policy::ir::PodId;
use policy::netlink::ElementOp;
use policy::{ApplyError, ApplyKind, NftRunner};
use serde_json::json;
use tern_agent::api::AgentApi;
use tern_agent::api::policy_view::pod_policy;
use tern_agent::api::views::{PolicyRule, ViewError};
use tern_agent::model::Object;
use tern_agent::network_policy::{PolicyHandle, PolicySync, node_addresses, policy_input};
use tern_agent::snapshot::Snapshot;
use tern_proto::NodeApi;

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

/// A second policy for the web pods: ingress from an ipBlock, egress to DNS only.
fn web_egress() -> Object {
    object(json!({
        "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
        "metadata": {"namespace": "shop", "name": "web-egress"},
        "spec": {"podSelector": {"matchLabels": {"app": "web"}},
                 "policyTypes": ["Ingress", "Egress"],
                 "ingress": [{"from": [{"ipBlock": {"cidr": "192.0.2.0/24"}}],
                              "ports": [{"port": 443}]}],
                 "egress": [{"ports": [{"protocol": "UDP", "port": 53}]}]},
    }))
}

/// The view of the IR a sync of `snapshot` applied.
fn applied_view(snapshot: Snapshot) -> PolicyHandle {
    let mut sync = PolicySync::new("node-1", Recorder::default());
    let view = sync.view();
    sync.sync(Arc::new(snapshot)).unwrap();
    view
}

fn rule(policy: &str, direction: &str, action: &str, description: &str) -> PolicyRule {
    PolicyRule {
        policy: policy.into(),
        direction: direction.into(),
        action: action.into(),
        description: description.into(),
    }
}

#[test]
fn a_pod_selected_by_two_policies_shows_both_their_rules_and_its_chains() {
    let view = applied_view(snapshot(vec![web_egress()]));
    let ir = view.applied().unwrap();
    let web = pod_policy(&ir, "shop", "web-1").unwrap();
    assert_eq!(web.addresses, ["198.19.1.10".parse::<IpAddr>().unwrap()]);
    assert_eq!(web.policies, ["shop/web", "shop/web-egress"]);
    assert!(web.ingress_isolated && web.egress_isolated);
    assert_eq!(
        web.rules,
        [
            rule(
                "shop/web",
                "ingress",
                "allow",
                "from pods in set ing/shop/web/r0/pods (1 address) on any port"
            ),
            rule(
                "shop/web-egress",
                "ingress",
                "allow",
                "from addresses in 192.0.2.0/24 on tcp 443"
            ),
            rule(
                "shop/web, shop/web-egress",
                "ingress",
                "deny",
                "anything else: no rule allows it"
            ),
            rule(
                "shop/web-egress",
                "egress",
                "allow",
                "to anywhere on udp 53"
            ),
            rule(
                "shop/web-egress",
                "egress",
                "deny",
                "anything else: no rule allows it"
            ),
        ]
    );
    let local = &ir.pods[&PodId {
        namespace: "shop".into(),
        name: "web-1".into(),
    }];
    for chain in [&local.ingress_chain, &local.egress_chain] {
        let chain = chain.as_ref().unwrap();
        assert!(
            web.nftables.contains(&format!("chain {chain} {{")),
            "{chain}:\n{}",
            web.nftables
        );
    }
    for text in [
        "comment \"ingress of shop/web, shop/web-egress\";",
        "accept comment \"shop/web ingress rule 0\"",
        "udp dport 53 return comment \"shop/web-egress egress rule 0\"",
        "drop comment \"isolated: no rule allows it\"",
    ] {
        assert!(web.nftables.contains(text), "{text}:\n{}", web.nftables);
    }
}

#[test]
fn pods_of_other_nodes_and_unknown_pods_are_not_found_and_unselected_pods_are_open() {
    let db = pod("db-1", "node-1", "198.19.1.20", "db");
    let view = applied_view(snapshot(vec![db]));
    let ir = view.applied().unwrap();
    for (namespace, name) in [("shop", "client-1"), ("shop", "nope"), ("other", "web-1")] {
        let result = pod_policy(&ir, namespace, name);
        assert!(
            matches!(result, Err(ViewError::NotFound(_))),
            "{namespace}/{name}: {result:?}"
        );
    }
    let db = pod_policy(&ir, "shop", "db-1").unwrap();
    assert_eq!(db.addresses, ["198.19.1.20".parse::<IpAddr>().unwrap()]);
    assert!(db.policies.is_empty() && db.rules.is_empty() && db.nftables.is_empty());
    assert!(!db.ingress_isolated && !db.egress_isolated);
}

#[tokio::test]
async fn the_api_answers_from_the_applied_table_once_there_is_one() {
    let mut sync = PolicySync::new("node-1", Recorder::default());
    let view = sync.view();
    let (_, speaker) = tokio::sync::watch::channel(None);
    let api =
        AgentApi::new("node-1", speaker, Default::default()).with_policy(Arc::new(view.clone()));
    let ask = || api.pod_policy("web-1".into(), "shop".into());

    let error = ask().await.unwrap_err();
    assert_eq!(error.code(), tonic::Code::FailedPrecondition);
    assert!(
        error.message().contains("not been applied"),
        "{}",
        error.message()
    );

    sync.sync(Arc::new(snapshot(Vec::new()))).unwrap();
    let shown = ask().await.unwrap();
    assert_eq!(
        (shown.pod.as_str(), shown.namespace.as_str()),
        ("web-1", "shop")
    );
    assert_eq!(shown.policies, ["shop/web"]);
    assert!(shown.ingress_isolated && !shown.egress_isolated);

    // Nothing changed: the same published IR, not a copy.
    let before = view.applied().unwrap();
    assert_eq!(
        sync.sync(Arc::new(snapshot(Vec::new()))).unwrap(),
        ApplyKind::Unchanged
    );
    assert!(Arc::ptr_eq(&before, &view.applied().unwrap()));

    // The policy goes away: the pod is open again.
    let mut without_policy = snapshot(Vec::new());
    without_policy.network_policies.clear();
    sync.sync(Arc::new(without_policy)).unwrap();
    let shown = ask().await.unwrap();
    assert!(shown.policies.is_empty() && !shown.ingress_isolated);
    let missing = api
        .pod_policy("client-1".into(), "shop".into())
        .await
        .unwrap_err();
    assert_eq!(missing.code(), tonic::Code::NotFound);
}
