//! The Kubernetes datastore against kube's mock service: list/watch responses recorded from
//! the contract objects, a watch that ends in `410 Gone` and a relist, and Secrets watched
//! only by name.

mod common;

use std::collections::{BTreeMap, VecDeque};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http::{Request, Response};
use k8s_openapi::ByteString;
use kube::Client;
use kube::client::Body;
use serde::Deserialize;
use serde_json::{Value, json};
use tern_agent::calc::calculate;
use tern_agent::datastore::{KubeOptions, watch_kubernetes};
use tern_agent::model::{Kind, ObjectKey};
use tern_agent::snapshot::Snapshot;
use tokio::sync::watch;

/// API path of each kind's collection.
fn collection(kind: Kind) -> String {
    match kind {
        Kind::Node => "/api/v1/nodes".into(),
        Kind::Service => "/api/v1/services".into(),
        Kind::Namespace => "/api/v1/namespaces".into(),
        Kind::Pod => "/api/v1/pods".into(),
        Kind::Secret => "/api/v1/namespaces/kube-system/secrets".into(),
        Kind::EndpointSlice => "/apis/discovery.k8s.io/v1/endpointslices".into(),
        Kind::NetworkPolicy => "/apis/networking.k8s.io/v1/networkpolicies".into(),
        Kind::BgpConfiguration => "/apis/tern.dev/v1alpha1/bgpconfigurations".into(),
        Kind::BgpPeer => "/apis/tern.dev/v1alpha1/bgppeers".into(),
        Kind::IpPool => "/apis/tern.dev/v1alpha1/ippools".into(),
        Kind::BgpFilter => "/apis/tern.dev/v1alpha1/bgpfilters".into(),
    }
}

/// A list response as the API server sends it.
fn list(kind: Kind, items: Vec<Value>, resource_version: &str) -> Value {
    json!({
        "apiVersion": kind.api_version(),
        "kind": format!("{}List", kind.name()),
        "metadata": { "resourceVersion": resource_version },
        "items": items,
    })
}

/// The contract files as the API server would return them: each YAML document as JSON, with
/// the bookkeeping the server adds (`uid`, `resourceVersion`, `creationTimestamp`,
/// `generation`, `managedFields`) and Secrets' `stringData` stored as base64 `data`. Built
/// from the raw YAML, independently of the file datastore.
fn recorded_lists() -> BTreeMap<String, VecDeque<Value>> {
    let mut items: BTreeMap<Kind, Vec<Value>> = BTreeMap::new();
    let mut files: Vec<_> = std::fs::read_dir(common::examples_dir())
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    let mut serial = 0;
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for document in serde_yaml_ng::Deserializer::from_str(&text) {
            let mut value = Value::deserialize(document).unwrap();
            if value.is_null() {
                continue;
            }
            let kind = Kind::from_type(
                value["apiVersion"].as_str().unwrap(),
                value["kind"].as_str().unwrap(),
            )
            .unwrap();
            serial += 1;
            let api_version = value["apiVersion"].clone();
            let metadata = &mut value["metadata"];
            metadata["uid"] = json!(format!("00000000-0000-4000-8000-{serial:012}"));
            metadata["resourceVersion"] = json!((1000 + serial).to_string());
            metadata["generation"] = json!(1);
            metadata["creationTimestamp"] = json!("2026-11-21T09:00:00Z");
            metadata["managedFields"] = json!([{
                "manager": "kubectl-client-side-apply",
                "operation": "Update",
                "apiVersion": api_version,
                "time": "2026-11-21T09:00:00Z",
            }]);
            if let Some(string_data) = value.as_object_mut().unwrap().remove("stringData") {
                let data: serde_json::Map<String, Value> = string_data
                    .as_object()
                    .unwrap()
                    .iter()
                    .map(|(key, text)| {
                        let bytes = ByteString(text.as_str().unwrap().as_bytes().to_vec());
                        (key.clone(), serde_json::to_value(bytes).unwrap())
                    })
                    .collect();
                value["data"] = Value::Object(data);
            }
            items.entry(kind).or_default().push(value);
        }
    }
    Kind::ALL
        .into_iter()
        .map(|kind| {
            let values = items.remove(&kind).unwrap_or_default();
            (
                collection(kind),
                VecDeque::from([list(kind, values, "2000")]),
            )
        })
        .collect()
}

/// A scripted API server: list responses per path (the last one repeats), watch bodies per
/// path (once used up, watches hang like an idle server), and a log of every request.
struct FakeApiServer {
    lists: BTreeMap<String, VecDeque<Value>>,
    watches: BTreeMap<String, VecDeque<String>>,
    requests: Arc<Mutex<Vec<String>>>,
}

impl FakeApiServer {
    fn start(self) -> Client {
        let (service, handle) = tower_test::mock::pair::<Request<Body>, Response<Body>>();
        tokio::spawn(self.serve(handle));
        Client::new(service, "default")
    }

    async fn serve(mut self, handle: tower_test::mock::Handle<Request<Body>, Response<Body>>) {
        let mut handle = std::pin::pin!(handle);
        let mut idle_watches = Vec::new();
        while let Some((request, send)) = handle.next_request().await {
            let uri = request.uri().clone();
            self.requests.lock().unwrap().push(uri.to_string());
            let path = uri.path().to_string();
            if uri.query().unwrap_or_default().contains("watch=true") {
                match self.watches.get_mut(&path).and_then(VecDeque::pop_front) {
                    Some(body) => send.send_response(Response::new(Body::from(body.into_bytes()))),
                    None => idle_watches.push(send),
                }
                continue;
            }
            let responses = self.lists.entry(path).or_default();
            let body = if responses.len() > 1 {
                responses.pop_front()
            } else {
                responses.front().cloned()
            };
            let body = body.unwrap_or_else(|| list(Kind::Secret, vec![], "1"));
            send.send_response(Response::new(Body::from(
                serde_json::to_vec(&body).unwrap(),
            )));
        }
    }
}

fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/kubernetes")
        .join(name);
    std::fs::read_to_string(path).unwrap()
}

async fn wait_for(
    receiver: &mut watch::Receiver<Arc<Snapshot>>,
    what: &str,
    condition: impl Fn(&Snapshot) -> bool,
) -> Arc<Snapshot> {
    let result = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            if condition(&receiver.borrow_and_update()) {
                return receiver.borrow().clone();
            }
            receiver.changed().await.unwrap();
        }
    })
    .await;
    result.unwrap_or_else(|_| panic!("{what}: not reached within 30 s"))
}

#[tokio::test]
async fn contract_loads_into_the_same_snapshot_as_from_files() {
    let requests = Arc::new(Mutex::new(Vec::new()));
    let client = FakeApiServer {
        lists: recorded_lists(),
        watches: BTreeMap::new(),
        requests: requests.clone(),
    }
    .start();
    let (mut snapshots, mut ready, _task) = watch_kubernetes(client, KubeOptions::default());
    tokio::time::timeout(Duration::from_secs(30), ready.wait_for(|ready| *ready))
        .await
        .expect("initial sync within 30 s")
        .unwrap();
    let snapshot = wait_for(&mut snapshots, "secret listed", |s| !s.secrets.is_empty()).await;

    // Acceptance: the contract files give the same snapshot through either datastore.
    let from_files = common::contract_snapshot();
    assert_eq!(*snapshot, from_files);
    for node in ["node-1", "node-2", "rr-1"] {
        let expected = calculate(&from_files, node).unwrap();
        let actual = calculate(&snapshot, node).unwrap();
        assert_eq!(actual, expected, "{node}");
    }
    let requests = requests.lock().unwrap().clone();
    assert!(
        requests
            .iter()
            .any(|r| r.starts_with("/api/v1/namespaces/kube-system/secrets?")
                && r.contains("fieldSelector=metadata.name%3Dbgp-secrets")),
        "{requests:#?}"
    );
    assert!(
        !requests.iter().any(|r| r.starts_with("/api/v1/secrets")),
        "no cluster-wide Secret watch"
    );
}

#[tokio::test]
async fn watch_ending_in_410_gone_relists() {
    let mut lists = recorded_lists();
    let relist: Value = serde_json::from_str(&fixture("nodes-relist.json")).unwrap();
    lists.get_mut("/api/v1/nodes").unwrap().push_back(relist);
    let client = FakeApiServer {
        lists,
        watches: BTreeMap::from([(
            "/api/v1/nodes".to_string(),
            VecDeque::from([fixture("nodes-watch-410.jsonl")]),
        )]),
        requests: Arc::new(Mutex::new(Vec::new())),
    }
    .start();
    let (mut snapshots, _ready, _task) = watch_kubernetes(client, KubeOptions::default());
    let snapshot = wait_for(&mut snapshots, "relisted nodes", |s| {
        s.node("node-3").is_some() && s.node("rr-1").is_none()
    })
    .await;
    assert_eq!(snapshot.nodes.len(), 3);
    // node-2 moved to rack r1 and now peers with the ToR.
    let intent = calculate(&snapshot, "node-2").unwrap();
    assert!(
        intent.peer("198.18.0.254".parse().unwrap()).is_some(),
        "{:?}",
        intent.peers
    );
}

#[tokio::test]
async fn secrets_follow_bgp_peer_references() {
    let mut peer =
        serde_json::to_value(&common::contract_snapshot().bgp_peers[&ObjectKey::cluster("tor-r1")])
            .unwrap();
    peer["metadata"]["resourceVersion"] = json!("120");
    let peer_deleted = json!({ "type": "DELETED", "object": peer });
    let client = FakeApiServer {
        lists: recorded_lists(),
        watches: BTreeMap::from([(
            "/apis/tern.dev/v1alpha1/bgppeers".to_string(),
            VecDeque::from([format!("{peer_deleted}\n")]),
        )]),
        requests: Arc::new(Mutex::new(Vec::new())),
    }
    .start();
    let (mut snapshots, _ready, _task) = watch_kubernetes(client, KubeOptions::default());
    let snapshot = wait_for(&mut snapshots, "peer deleted", |s| s.bgp_peers.len() == 2).await;
    assert!(
        snapshot.secrets.is_empty(),
        "an unreferenced Secret is dropped"
    );
}
