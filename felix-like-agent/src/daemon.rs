//! The agent's main loop, level-triggered: every new snapshot is turned into this node's
//! intent, and the difference from the last applied intent goes to the applier. When the
//! intent cannot be computed (the node is missing, say), the last applied intent stays in
//! force rather than tearing sessions down.

use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::watch;

use crate::apply::{IntentApplier, diff_intents};
use crate::calc::{CalcOptions, NodeIntent, calculate_with};
use crate::cni;
use crate::snapshot::Snapshot;

/// How long to wait before applying again after the applier failed. The retry diffs from the
/// last intent applied successfully, so appliers must tolerate repeating part of a change.
pub const APPLY_RETRY: std::time::Duration = std::time::Duration::from_secs(5);

/// What the daemon loop needs besides objects.
#[derive(Clone, Debug, Default)]
pub struct DaemonOptions {
    /// This node's name.
    pub node_name: String,
    /// Options of the intent calculation.
    pub calc: CalcOptions,
    /// Where to write the CNI conflist; `None` writes none.
    pub cni_conf_dir: Option<PathBuf>,
    /// MTU for pod interfaces in the conflist (the plugin's default when unset).
    pub cni_mtu: Option<u32>,
}

/// Runs until `shutdown` completes or the snapshot source closes. Returns the last applied
/// intent.
pub async fn run<A: IntentApplier>(
    options: &DaemonOptions,
    mut snapshots: watch::Receiver<Arc<Snapshot>>,
    applier: &mut A,
    shutdown: impl std::future::Future<Output = ()>,
) -> Option<NodeIntent> {
    let node_name = options.node_name.as_str();
    let mut current: Option<NodeIntent> = None;
    let mut last_error: Option<String> = None;
    let mut retry = false;
    tokio::pin!(shutdown);
    loop {
        let snapshot = snapshots.borrow_and_update().clone();
        if let Some(directory) = &options.cni_conf_dir {
            update_cni(directory, &snapshot, options);
        }
        match calculate_with(&snapshot, node_name, &options.calc) {
            Ok(intent) => {
                last_error = None;
                if current.as_ref() != Some(&intent) {
                    report_problems(current.as_ref(), &intent);
                    let diff = diff_intents(current.as_ref(), &intent);
                    if !diff.is_empty() {
                        tracing::info!("applying intent change: {}", diff.summary());
                    }
                    match applier.apply(&intent, &diff).await {
                        Ok(()) => {
                            current = Some(intent);
                            retry = false;
                        }
                        Err(error) => {
                            tracing::error!(
                                "applying intent failed: {error}; retrying in {}s",
                                APPLY_RETRY.as_secs()
                            );
                            retry = true;
                        }
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
            _ = tokio::time::sleep(APPLY_RETRY), if retry => {}
        }
    }
}

/// Keeps the CNI conflist in line with the node's pod CIDRs.
fn update_cni(directory: &std::path::Path, snapshot: &Snapshot, options: &DaemonOptions) {
    let cidrs = cni::pod_cidrs(snapshot, &options.node_name);
    let Some(contents) = cni::render_conflist(&cidrs, options.cni_mtu) else {
        return; // keep any previous file: pods keep working until CIDRs reappear
    };
    match cni::write_conflist(directory, &contents) {
        Ok(true) => tracing::info!(
            "wrote {} for pod CIDRs {cidrs:?}",
            directory.join(cni::CONFLIST_NAME).display()
        ),
        Ok(false) => {}
        Err(error) => tracing::error!(
            "cannot write the CNI conflist in {}: {error}",
            directory.display()
        ),
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
