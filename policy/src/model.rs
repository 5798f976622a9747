//! The compiler's input snapshot and the cluster view built from it.
//!
//! Which pods count (Kubernetes NetworkPolicy v1 and tern's rules):
//! - a pod takes part (as a selected pod or a peer) when it has addresses in `status.podIPs`
//!   (or `status.podIP`), is not `hostNetwork`, and is not finished (phase Succeeded/Failed);
//! - a pod is *local* when `spec.nodeName` equals the node's name; only local pods get chains;
//! - a namespace's labels always include `kubernetes.io/metadata.name=<name>` (the API server
//!   sets it), also for namespaces that only pods mention.

use std::collections::BTreeMap;
use std::net::IpAddr;

use k8s_openapi::api::core::v1::{Namespace, Pod, PodSpec};
use k8s_openapi::api::networking::v1::NetworkPolicy;

use crate::diagnostics::Diagnostic;
use crate::ir::PodId;
use crate::selector::Labels;

/// The label the API server puts on every namespace.
pub const NAMESPACE_NAME_LABEL: &str = "kubernetes.io/metadata.name";

/// Everything the compiler needs: the objects from the datastore and the node's identity.
#[derive(Clone, Debug, Default)]
pub struct PolicyInput {
    /// This node's name (`spec.nodeName` of its pods).
    pub node_name: String,
    /// Every address the host may use as a source towards its pods (node IPs, tunnel address,
    /// the ptp CNI's host-side gateway address). Their traffic to local pods is always allowed.
    pub node_addresses: Vec<IpAddr>,
    /// All pods of the cluster (peers may live on any node).
    pub pods: Vec<Pod>,
    /// All namespaces.
    pub namespaces: Vec<Namespace>,
    /// All NetworkPolicies.
    pub policies: Vec<NetworkPolicy>,
}

/// A pod that takes part in policy, borrowed from the input.
#[derive(Clone, Debug)]
pub(crate) struct PodView<'a> {
    pub namespace: &'a str,
    pub name: &'a str,
    pub labels: &'a Labels,
    pub addresses: Vec<IpAddr>,
    pub local: bool,
    pub spec: &'a PodSpec,
}

impl PodView<'_> {
    /// The owned identity.
    pub fn id(&self) -> PodId {
        PodId {
            namespace: self.namespace.to_string(),
            name: self.name.to_string(),
        }
    }
}

/// Pods and namespaces, indexed for selector evaluation.
#[derive(Debug, Default)]
pub(crate) struct ClusterView<'a> {
    /// Namespace name → labels.
    pub namespaces: BTreeMap<&'a str, Labels>,
    /// Participating pods, sorted by namespace and name.
    pub pods: Vec<PodView<'a>>,
    /// Namespace name → indexes into `pods`.
    pub pods_by_namespace: BTreeMap<&'a str, Vec<usize>>,
}

static NO_LABELS: Labels = Labels::new();

pub(crate) fn pod_view<'a>(
    pod: &'a Pod,
    node_name: &str,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<PodView<'a>> {
    let spec = pod.spec.as_ref()?;
    let status = pod.status.as_ref()?;
    if spec.host_network == Some(true) {
        return None;
    }
    if matches!(status.phase.as_deref(), Some("Succeeded" | "Failed")) {
        return None;
    }
    let namespace = pod.metadata.namespace.as_deref().unwrap_or("default");
    let name = pod.metadata.name.as_deref().unwrap_or("");
    let mut texts: Vec<&str> = status
        .pod_ips
        .iter()
        .flatten()
        .map(|ip| ip.ip.as_str())
        .collect();
    if texts.is_empty() {
        texts.extend(status.pod_ip.as_deref());
    }
    let mut addresses = Vec::with_capacity(texts.len());
    for text in texts {
        match text.parse::<IpAddr>() {
            Ok(address) if !addresses.contains(&address) => addresses.push(address),
            Ok(_) => {}
            Err(_) => diagnostics.push(Diagnostic::InvalidPodAddress {
                pod: PodId {
                    namespace: namespace.into(),
                    name: name.into(),
                },
                value: text.to_string(),
            }),
        }
    }
    if addresses.is_empty() {
        return None;
    }
    Some(PodView {
        namespace,
        name,
        labels: pod.metadata.labels.as_ref().unwrap_or(&NO_LABELS),
        addresses,
        local: spec.node_name.as_deref() == Some(node_name),
        spec,
    })
}

impl<'a> ClusterView<'a> {
    /// Index the input's pods and namespaces.
    pub fn build(input: &'a PolicyInput, diagnostics: &mut Vec<Diagnostic>) -> ClusterView<'a> {
        let mut view = ClusterView::default();
        for namespace in &input.namespaces {
            let Some(name) = namespace.metadata.name.as_deref() else {
                continue;
            };
            let mut labels = namespace.metadata.labels.clone().unwrap_or_default();
            labels.insert(NAMESPACE_NAME_LABEL.into(), name.to_string());
            view.namespaces.insert(name, labels);
        }
        let mut pods: Vec<PodView<'a>> = input
            .pods
            .iter()
            .filter_map(|pod| pod_view(pod, &input.node_name, diagnostics))
            .collect();
        // Sorted, so that which of two pods sharing an address wins does not depend on the
        // order objects arrived in.
        pods.sort_by(|a, b| (a.namespace, a.name).cmp(&(b.namespace, b.name)));
        for pod in pods {
            let namespace = pod.namespace;
            view.namespaces.entry(namespace).or_insert_with(|| {
                Labels::from([(NAMESPACE_NAME_LABEL.to_string(), namespace.to_string())])
            });
            view.pods_by_namespace
                .entry(namespace)
                .or_default()
                .push(view.pods.len());
            view.pods.push(pod);
        }
        view
    }
}
