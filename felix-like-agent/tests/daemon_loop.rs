//! The daemon loop with a recording applier: the first intent is applied whole, unrelated
//! object changes apply nothing, a Service change only originates, a missing node keeps the
//! last intent, and a failed apply is retried.

mod common;

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use tern_agent::apply::{IntentApplier, IntentDiff};
use tern_agent::calc::NodeIntent;
use tern_agent::daemon::{DaemonOptions, run};
use tern_agent::model::{Object, ObjectKey};
use tern_agent::snapshot::Snapshot;
use tokio::sync::{mpsc, watch};

/// Sends every diff it is given; fails the first `failures` calls.
struct RecordingApplier {
    diffs: mpsc::UnboundedSender<IntentDiff>,
    failures: usize,
}

impl IntentApplier for RecordingApplier {
    type Error = String;

    async fn apply(&mut self, _intent: &NodeIntent, diff: &IntentDiff) -> Result<(), String> {
        self.diffs.send(diff.clone()).unwrap();
        if self.failures > 0 {
            self.failures -= 1;
            return Err("speaker unavailable".into());
        }
        Ok(())
    }
}

struct Harness {
    snapshots: watch::Sender<Arc<Snapshot>>,
    diffs: mpsc::UnboundedReceiver<IntentDiff>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<Option<NodeIntent>>,
}

fn start(node: &str, failures: usize) -> Harness {
    let (snapshots, receiver) = watch::channel(Arc::new(common::contract_snapshot()));
    let (diffs_tx, diffs) = mpsc::unbounded_channel();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let options = DaemonOptions {
        node_name: node.to_string(),
        ..DaemonOptions::default()
    };
    let task = tokio::spawn(async move {
        let mut applier = RecordingApplier {
            diffs: diffs_tx,
            failures,
        };
        run(&options, receiver, &mut applier, async {
            let _ = stopped.await;
        })
        .await
    });
    Harness {
        snapshots,
        diffs,
        stop: Some(stop),
        task,
    }
}

impl Harness {
    async fn next_diff(&mut self) -> IntentDiff {
        tokio::time::timeout(Duration::from_secs(20), self.diffs.recv())
            .await
            .expect("a diff within 20 s")
            .unwrap()
    }

    async fn no_diff(&mut self) {
        // Bounded wait for something that must not happen; the loop reacts in microseconds.
        let result = tokio::time::timeout(Duration::from_millis(300), self.diffs.recv()).await;
        assert!(result.is_err(), "unexpected diff: {result:?}");
    }

    fn change(&self, edit: impl FnOnce(&mut Snapshot)) {
        self.snapshots
            .send_modify(|snapshot| edit(Arc::make_mut(snapshot)));
    }

    async fn stop(mut self) -> Option<NodeIntent> {
        self.stop.take().unwrap().send(()).unwrap();
        self.task.await.unwrap()
    }
}

#[tokio::test]
async fn applies_only_what_changed() {
    let mut harness = start("node-2", 0);
    let first = harness.next_diff().await;
    assert!(first.identity_changed);
    assert_eq!(first.peers_added.len(), 2);

    harness.change(|snapshot| {
        snapshot.insert(Object::Namespace(Namespace {
            metadata: ObjectMeta {
                name: Some("unrelated".into()),
                ..Default::default()
            },
            ..Default::default()
        }));
    });
    harness.no_diff().await;

    harness.change(|snapshot| {
        snapshot
            .services
            .remove(&ObjectKey::namespaced("shop", "checkout"));
    });
    let diff = harness.next_diff().await;
    assert!(
        diff.peers_added.is_empty() && diff.peers_reset.is_empty() && diff.peers_removed.is_empty()
    );
    assert_eq!(diff.withdraw.len(), 2);

    // The node disappears: nothing is torn down; the last intent stays.
    harness.change(|snapshot| {
        snapshot.nodes.remove(&ObjectKey::cluster("node-2"));
    });
    harness.no_diff().await;
    let last = harness.stop().await.unwrap();
    assert_eq!(last.peers.len(), 2);
}

#[tokio::test(start_paused = true)]
async fn failed_apply_is_retried() {
    let mut harness = start("node-1", 1);
    let first = harness.next_diff().await;
    let retried = harness.next_diff().await;
    assert_eq!(first, retried, "the retry repeats the whole change");
    assert!(harness.stop().await.is_some());
}
