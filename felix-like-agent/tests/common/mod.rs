//! Helpers shared by the calc tests: snapshots from inline YAML.

#![allow(dead_code)]

pub mod route_node;

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

/// ternd's host and a peer's host, joined by a veth with one /24 address at each end.
pub fn ternd_and_peer_hosts(
    ternd_address: &str,
    peer_address: &str,
) -> (
    interop_tests::Host,
    interop_tests::Host,
    interop_tests::Veth,
) {
    let ternd_host = interop_tests::Host::new("ternd").unwrap();
    let peer_host = interop_tests::Host::new("peer").unwrap();
    let link = interop_tests::Veth::with_addresses(
        &ternd_host,
        &[format!("{ternd_address}/24").parse().unwrap()],
        &peer_host,
        &[format!("{peer_address}/24").parse().unwrap()],
    )
    .unwrap();
    (ternd_host, peer_host, link)
}

/// Starts `ternd --node-name n1` in `host` on a new manifest directory whose `bgp.yaml` is
/// `manifests`, its API socket in the host's directory, plus `extra` flags. Returns the
/// process, the manifest directory and the socket.
pub fn spawn_ternd(
    host: &interop_tests::Host,
    manifests: &str,
    extra: &[&str],
) -> (interop_tests::Process, PathBuf, PathBuf) {
    let datastore = host.dir().join("manifests");
    std::fs::create_dir(&datastore).unwrap();
    std::fs::write(datastore.join("bgp.yaml"), manifests).unwrap();
    let socket = host.dir().join("ternd.sock");
    let mut args: Vec<&std::ffi::OsStr> = vec![
        "--node-name".as_ref(),
        "n1".as_ref(),
        "--datastore".as_ref(),
        datastore.as_os_str(),
        "--api-socket".as_ref(),
        socket.as_os_str(),
    ];
    args.extend(extra.iter().map(std::ffi::OsStr::new));
    let ternd = host
        .spawn("ternd", env!("CARGO_BIN_EXE_ternd"), &args)
        .unwrap();
    (ternd, datastore, socket)
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
