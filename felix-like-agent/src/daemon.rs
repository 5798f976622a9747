//! The agent's main loop, level-triggered: every new snapshot is turned into this node's
//! intent, and the difference from the last applied intent goes to the applier. When the
//! intent cannot be computed (the node is missing, say), the last applied intent stays in
//! force rather than tearing sessions down.

use std::sync::Arc;

use tokio::sync::watch;

use crate::apply::{IntentApplier, diff_intents};
use crate::calc::{CalcOptions, NodeIntent, calculate_with};
use crate::snapshot::Snapshot;

/// Runs until `shutdown` completes or the snapshot source closes. Returns the last applied
/// intent.
pub async fn run<A: IntentApplier>(
    node_name: &str,
    options: &CalcOptions,
    mut snapshots: watch::Receiver<Arc<Snapshot>>,
    applier: &mut A,
    shutdown: impl std::future::Future<Output = ()>,
) -> Option<NodeIntent> {
    let mut current: Option<NodeIntent> = None;
    let mut last_error: Option<String> = None;
    tokio::pin!(shutdown);
    loop {
        let snapshot = snapshots.borrow_and_update().clone();
        match calculate_with(&snapshot, node_name, options) {
            Ok(intent) => {
                last_error = None;
                if current.as_ref() != Some(&intent) {
                    report_problems(current.as_ref(), &intent);
                    let diff = diff_intents(current.as_ref(), &intent);
                    if !diff.is_empty() {
                        tracing::info!("applying intent change: {}", diff.summary());
                    }
                    match applier.apply(&intent, &diff).await {
                        Ok(()) => current = Some(intent),
                        Err(error) => tracing::error!("applying intent failed: {error}"),
                    }
                }
            }
            Err(error) => {
                let message = error.to_string();
                if last_error.as_ref() != Some(&message) {
                    tracing::error!("{message}; keeping the last applied intent");
                    last_error = Some(message);
                }
            }
        }
        tokio::select! {
            _ = &mut shutdown => return current,
            changed = snapshots.changed() => if changed.is_err() {
                return current;
            },
        }
    }
}

/// Logs problems that are new since the previous intent.
fn report_problems(previous: Option<&NodeIntent>, intent: &NodeIntent) {
    for problem in &intent.problems {
        if !previous.is_some_and(|p| p.problems.contains(problem)) {
            tracing::warn!("{problem}");
        }
    }
}
