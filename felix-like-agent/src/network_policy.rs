//! NetworkPolicy enforcement: every datastore snapshot's Pods, Namespaces and NetworkPolicies
//! go to the `policy` crate's compiler for this node, and its [`PolicyProgrammer`] keeps
//! `table inet tern` equal to the result (see the `policy` crate for the semantics).
//!
//! - Pods of every node are peers; pods whose `spec.nodeName` is this node are the ones the
//!   table protects; their addresses are `status.podIPs`.
//! - This node's own addresses (its traffic to local pods always passes, for kubelet probes):
//!   the Node's `status.addresses`, its `tern.dev/bgp-ipv4-address` / `-ipv6-address`
//!   annotations, and the first address of each pod CIDR (the gateway the ptp CNI puts on
//!   every host-side veth, the source of the host's own packets to its pods).
//! - Pod churn is incremental: only changed pods are re-placed ([`PolicyCompiler`]), and the
//!   resulting element changes reach the kernel as one netlink batch. A namespace, policy or
//!   node change compiles everything; nft still gets only the difference.
//! - After each sync that changed the table, the IR now in force is published (one copy per
//!   change, shared behind an `Arc`): [`PolicyHandle`] is how the API reads it.
//! - On failure the last good table stays and the sync retries after [`RETRY`], replacing the
//!   whole table. On shutdown the table stays: pods remain protected while ternd restarts.

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use ipnetwork::IpNetwork;
use policy::{
    ApplyError, ApplyKind, NftRunner, PolicyCompiler, PolicyInput, PolicyIr, PolicyProgrammer,
};
use tokio::sync::watch;

use crate::snapshot::Snapshot;

/// Wait before retrying after nft or the kernel refused a change.
pub const RETRY: Duration = Duration::from_secs(5);

const BGP_IPV4_ANNOTATION: &str = "tern.dev/bgp-ipv4-address";
const BGP_IPV6_ANNOTATION: &str = "tern.dev/bgp-ipv6-address";

/// This node's addresses as the compiler needs them (sorted, deduplicated).
pub fn node_addresses(snapshot: &Snapshot, node_name: &str) -> Vec<IpAddr> {
    let mut addresses = BTreeSet::new();
    let Some(node) = snapshot.node(node_name) else {
        return Vec::new();
    };
    let status = node.status.as_ref();
    for address in status
        .and_then(|s| s.addresses.as_ref())
        .into_iter()
        .flatten()
    {
        if let Ok(ip) = address.address.parse::<IpAddr>() {
            addresses.insert(ip);
        }
    }
    let annotations = node.metadata.annotations.as_ref();
    for key in [BGP_IPV4_ANNOTATION, BGP_IPV6_ANNOTATION] {
        let value = annotations.and_then(|a| a.get(key));
        if let Some(Ok(network)) = value.map(|v| v.parse::<IpNetwork>()) {
            addresses.insert(network.ip());
        }
    }
    for cidr in crate::cni::pod_cidrs(snapshot, node_name) {
        if let Some(gateway) = cidr.iter().nth(1) {
            addresses.insert(gateway);
        }
    }
    addresses.into_iter().collect()
}

/// The compiler's input for this node from one snapshot.
pub fn policy_input(snapshot: &Snapshot, node_name: &str) -> PolicyInput {
    PolicyInput {
        node_name: node_name.to_string(),
        node_addresses: node_addresses(snapshot, node_name),
        pods: snapshot.pods.values().cloned().collect(),
        namespaces: snapshot.namespaces.values().cloned().collect(),
        policies: snapshot.network_policies.values().cloned().collect(),
    }
}

/// The policy in force on this node as of the last successful sync: a cheap, cloneable
/// reader for the API (`ternctl policy show`).
#[derive(Clone, Debug)]
pub struct PolicyHandle {
    applied: watch::Receiver<Option<Arc<PolicyIr>>>,
}

impl PolicyHandle {
    /// The IR last applied to the table; `None` until the first sync succeeded.
    pub fn applied(&self) -> Option<Arc<PolicyIr>> {
        self.applied.borrow().clone()
    }
}

/// The compiler and programmer of one node, fed snapshot after snapshot.
pub struct PolicySync<R: NftRunner> {
    node_name: String,
    compiler: Option<PolicyCompiler>,
    previous: Option<Arc<Snapshot>>,
    programmer: PolicyProgrammer<R>,
    published: watch::Sender<Option<Arc<PolicyIr>>>,
}

impl<R: NftRunner> PolicySync<R> {
    /// Nothing compiled or applied yet.
    pub fn new(node_name: impl Into<String>, runner: R) -> Self {
        PolicySync {
            node_name: node_name.into(),
            compiler: None,
            previous: None,
            programmer: PolicyProgrammer::new(runner),
            published: watch::Sender::new(None),
        }
    }

    /// A reader of the IR in force, updated by every sync that changes the table.
    pub fn view(&self) -> PolicyHandle {
        PolicyHandle {
            applied: self.published.subscribe(),
        }
    }

    /// The programmer (for its runner and the applied IR).
    pub fn programmer(&self) -> &PolicyProgrammer<R> {
        &self.programmer
    }

    /// Compile what changed since the previous snapshot and apply it.
    pub fn sync(&mut self, snapshot: Arc<Snapshot>) -> Result<ApplyKind, ApplyError> {
        let node = self.node_name.clone();
        let only_pods_changed = self.previous.as_ref().is_some_and(|previous| {
            previous.namespaces == snapshot.namespaces
                && previous.network_policies == snapshot.network_policies
                && node_addresses(previous, &node) == node_addresses(&snapshot, &node)
        });
        match (&mut self.compiler, &self.previous) {
            (Some(compiler), Some(previous)) if only_pods_changed => {
                for (key, pod) in &snapshot.pods {
                    if previous.pods.get(key) != Some(pod) {
                        compiler.upsert_pod(pod.clone());
                    }
                }
                for key in previous.pods.keys() {
                    if !snapshot.pods.contains_key(key) {
                        compiler.remove_pod(&key.namespace, &key.name);
                    }
                }
            }
            (Some(compiler), _) => {
                compiler.replace(policy_input(&snapshot, &node));
            }
            (None, _) => {
                self.compiler = Some(PolicyCompiler::new(policy_input(&snapshot, &node)));
            }
        }
        self.previous = Some(snapshot);
        let Some(compiler) = &self.compiler else {
            return Ok(ApplyKind::Unchanged);
        };
        for diagnostic in &compiler.compiled().diagnostics {
            tracing::warn!("network policy: {diagnostic}");
        }
        let kind = self.programmer.reconcile_ref(compiler.ir())?;
        // The one copy per change: readers keep their Arc while the next sync goes on.
        if kind != ApplyKind::Unchanged || self.published.borrow().is_none() {
            self.published
                .send_replace(Some(Arc::new(compiler.ir().clone())));
        }
        Ok(kind)
    }

    /// Replace the whole table on the next sync (after a failure).
    pub fn invalidate(&mut self) {
        self.programmer.invalidate();
    }
}

/// Keeps the table in line with every snapshot until `shutdown` completes or the snapshot
/// source closes, starting from `sync` (see [`PolicySync::view`] for its readers). nft and
/// netlink calls run on the blocking pool.
pub async fn run<R: NftRunner + Send + 'static>(
    sync: PolicySync<R>,
    mut snapshots: watch::Receiver<Arc<Snapshot>>,
    shutdown: impl std::future::Future<Output = ()>,
) {
    let mut sync = Some(sync);
    tokio::pin!(shutdown);
    loop {
        let snapshot = snapshots.borrow_and_update().clone();
        let Some(mut state) = sync.take() else { return };
        let outcome = tokio::task::spawn_blocking(move || {
            let result = state.sync(snapshot);
            (state, result)
        })
        .await;
        let Ok((mut state, result)) = outcome else {
            tracing::error!("network policy task panicked; policy enforcement stops");
            return;
        };
        let retry = match result {
            Ok(ApplyKind::Unchanged) => false,
            Ok(kind) => {
                tracing::debug!(?kind, "network policy applied");
                false
            }
            Err(error) => {
                tracing::error!(
                    "applying network policy failed: {error}; retrying in {}s",
                    RETRY.as_secs()
                );
                state.invalidate();
                true
            }
        };
        sync = Some(state);
        tokio::select! {
            _ = &mut shutdown => return,
            changed = snapshots.changed() => if changed.is_err() { return },
            _ = tokio::time::sleep(RETRY), if retry => {}
        }
    }
}

/// The running enforcement task of ternd (`nft` in ternd's own network namespace).
pub struct PolicyTask {
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
    view: PolicyHandle,
}

impl PolicyTask {
    /// Start enforcing NetworkPolicy for `node_name` from `snapshots`.
    pub fn spawn(node_name: String, snapshots: watch::Receiver<Arc<Snapshot>>) -> PolicyTask {
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let sync = PolicySync::new(node_name, policy::NftCommand::new());
        let view = sync.view();
        let task = tokio::spawn(run(sync, snapshots, async move {
            let _ = stopped.await;
        }));
        PolicyTask { stop, task, view }
    }

    /// The policy in force, for the API ([`crate::api::AgentApi::with_policy`]).
    pub fn view(&self) -> PolicyHandle {
        self.view.clone()
    }

    /// Stop syncing; the table stays in force.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
    }
}
