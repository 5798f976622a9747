//! Helpers shared by the calc tests: snapshots from inline YAML.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use tern_agent::datastore::{FileDatastore, parse_manifest};
use tern_agent::snapshot::Snapshot;

/// The contract examples, as shipped in deploy/examples.
pub fn examples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/examples")
}

/// The snapshot of the contract examples.
pub fn contract_snapshot() -> Snapshot {
    let (datastore, report) = FileDatastore::open(examples_dir()).unwrap();
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    datastore.snapshot().clone()
}

/// A snapshot of the given YAML documents (joined with `---`).
pub fn snapshot(documents: &[String]) -> Snapshot {
    let text = documents.join("\n---\n");
    let parsed =
        parse_manifest(Path::new("inline.yaml"), &text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
    Snapshot::from_objects(parsed.objects)
}

/// A node with an IPv4 address annotation and optional extra labels/annotations as YAML
/// `key: value` lines.
pub fn node(
    name: &str,
    ipv4: &str,
    labels: &[(&str, &str)],
    annotations: &[(&str, &str)],
) -> String {
    let mut text = format!(
        "apiVersion: v1\nkind: Node\nmetadata:\n  name: {name}\n  labels:\n    kubernetes.io/hostname: {name}\n"
    );
    for (key, value) in labels {
        text.push_str(&format!("    {key}: \"{value}\"\n"));
    }
    text.push_str(&format!(
        "  annotations:\n    tern.dev/bgp-ipv4-address: {ipv4}/24\n"
    ));
    for (key, value) in annotations {
        text.push_str(&format!("    {key}: \"{value}\"\n"));
    }
    text
}

/// Adds `spec.podCIDRs` to a node document.
pub fn with_pod_cidrs(node: String, cidrs: &[&str]) -> String {
    let mut text = node;
    text.push_str("spec:\n  podCIDRs:\n");
    for cidr in cidrs {
        text.push_str(&format!("    - {cidr}\n"));
    }
    text
}

/// The global BGPConfiguration with the given spec lines (already indented by two spaces).
pub fn config(spec: &str) -> String {
    format!(
        "apiVersion: tern.dev/v1alpha1\nkind: BGPConfiguration\nmetadata:\n  name: default\nspec:\n{spec}"
    )
}

/// A BGPPeer with the given spec lines (already indented by two spaces).
pub fn bgp_peer(name: &str, spec: &str) -> String {
    format!(
        "apiVersion: tern.dev/v1alpha1\nkind: BGPPeer\nmetadata:\n  name: {name}\nspec:\n{spec}"
    )
}

/// A Secret in kube-system with string data.
pub fn secret(name: &str, key: &str, value: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: {name}\n  namespace: kube-system\nstringData:\n  {key}: {value}\n"
    )
}

/// Options for the lab (interop_tests::lab) running this build's ternd on the contract
/// examples plus the lab-only manifests.
pub fn lab_options(pods: bool) -> interop_tests::lab::LabOptions {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut options = interop_tests::lab::LabOptions::new(
        env!("CARGO_BIN_EXE_ternd"),
        vec![examples_dir(), repo.join("interop-tests/lab/manifests")],
    );
    options.pods = pods;
    options
}
