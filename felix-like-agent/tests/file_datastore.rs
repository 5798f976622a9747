//! The file datastore against real files: the contract examples load unchanged, bad files are
//! reported with file, document and field and leave the last good objects in force, and
//! edits take effect live.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tern_agent::datastore::{FileDatastore, WatchOptions, parse_manifest, watch_directory};
use tern_agent::model::{AsNumber, Kind, ObjectKey};
use tern_agent::snapshot::Snapshot;

fn examples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/examples")
}

const PEER: &str = "apiVersion: tern.dev/v1alpha1
kind: BGPPeer
metadata:
  name: tor
spec:
  peerIP: 198.18.0.254
  asNumber: 65000
";

const CONFIG: &str = "apiVersion: tern.dev/v1alpha1
kind: BGPConfiguration
metadata:
  name: default
spec:
  asNumber: 64512
";

#[test]
fn every_contract_example_loads_unchanged() {
    let (datastore, report) = FileDatastore::open(examples_dir()).unwrap();
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    let snapshot = datastore.snapshot();
    let expected = [
        (Kind::Node, 3),
        (Kind::Service, 2),
        (Kind::Namespace, 1),
        (Kind::Pod, 1),
        (Kind::Secret, 1),
        (Kind::EndpointSlice, 1),
        (Kind::NetworkPolicy, 2),
        (Kind::BgpConfiguration, 1),
        (Kind::BgpPeer, 3),
        (Kind::IpPool, 2),
        (Kind::BgpFilter, 1),
    ];
    for (kind, count) in expected {
        assert_eq!(snapshot.count(kind), count, "{kind}");
    }
    let global = snapshot.global_bgp_configuration().unwrap();
    assert_eq!(global.spec.as_number, Some(AsNumber(64512)));
    assert_eq!(
        global
            .spec
            .node_mesh_max_restart_time
            .unwrap()
            .as_duration(),
        Duration::from_secs(120)
    );
    assert!(snapshot.secret("kube-system", "bgp-secrets").is_some());
    let tor = &snapshot.bgp_peers[&ObjectKey::cluster("tor-r1")];
    assert_eq!(tor.spec.ttl_security, Some(1));
    assert_eq!(tor.spec.filters, ["no-default-route"]);
}

#[test]
fn contract_examples_are_byte_identical_to_the_shared_contract() {
    let shared = Path::new("/work/shared/contract");
    if !shared.is_dir() {
        return; // only checkable on the development machines
    }
    for entry in std::fs::read_dir(shared).unwrap() {
        let path = entry.unwrap().path();
        let copy = examples_dir().join(path.file_name().unwrap());
        assert_eq!(
            std::fs::read(&path).unwrap(),
            std::fs::read(&copy).unwrap(),
            "{copy:?}"
        );
    }
}

fn parse_error(text: &str) -> String {
    parse_manifest(Path::new("/m/peers.yaml"), text)
        .unwrap_err()
        .to_string()
}

#[test]
fn malformed_yaml_names_file_document_and_line() {
    let text = format!("{PEER}---\nkind: [unclosed\n");
    let message = parse_error(&text);
    assert!(
        message.starts_with("/m/peers.yaml: document 2 (index 1), line "),
        "{message}"
    );
    assert!(message.contains("invalid YAML"), "{message}");
}

#[test]
fn wrong_field_type_names_the_field_and_line() {
    let text = format!(
        "{CONFIG}---\n{}",
        PEER.replace("asNumber: 65000", "asNumber: [1]")
    );
    let error = parse_manifest(Path::new("/m/peers.yaml"), &text).unwrap_err();
    assert_eq!(error.document, Some(1));
    assert_eq!(error.field.as_deref(), Some("spec.asNumber"));
    assert_eq!(error.line, Some(14), "{error}");
    assert!(error.to_string().contains("field spec.asNumber"), "{error}");
}

#[test]
fn bad_duration_and_cidr_are_clear() {
    let text = PEER.replace(
        "asNumber: 65000",
        "asNumber: 65000\n  maxRestartTime: 2 minutes",
    );
    let error = parse_manifest(Path::new("p.yaml"), &text).unwrap_err();
    assert_eq!(error.field.as_deref(), Some("spec.maxRestartTime"));
    assert!(
        error.message.contains("invalid duration \"2 minutes\""),
        "{error}"
    );

    let pool = "apiVersion: tern.dev/v1alpha1\nkind: IPPool\nmetadata: {name: p}\nspec:\n  cidr: 198.19.0.0/33\n";
    let error = parse_manifest(Path::new("p.yaml"), pool).unwrap_err();
    assert_eq!(error.field.as_deref(), Some("spec.cidr"), "{error}");
}

#[test]
fn missing_required_field_is_named() {
    let pool = "apiVersion: tern.dev/v1alpha1\nkind: IPPool\nmetadata: {name: p}\nspec:\n  natOutgoing: true\n";
    let error = parse_manifest(Path::new("p.yaml"), pool).unwrap_err();
    assert_eq!(error.document, Some(0));
    assert!(error.message.contains("missing field `cidr`"), "{error}");
    assert_eq!(error.field.as_deref(), Some("spec"));

    let nameless = "apiVersion: v1\nkind: Namespace\nmetadata: {}\n";
    let error = parse_manifest(Path::new("p.yaml"), nameless).unwrap_err();
    assert_eq!(error.field.as_deref(), Some("metadata.name"));

    let kindless = "apiVersion: v1\nmetadata: {name: x}\n";
    let error = parse_manifest(Path::new("p.yaml"), kindless).unwrap_err();
    assert_eq!(error.field.as_deref(), Some("kind"));
}

#[test]
fn unknown_kinds_are_skipped_with_a_warning() {
    let text =
        format!("apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: d}}\n---\n{PEER}---\n");
    let parsed = parse_manifest(Path::new("p.yaml"), &text).unwrap();
    assert_eq!(parsed.objects.len(), 1);
    assert_eq!(parsed.warnings.len(), 1);
    assert!(parsed.warnings[0].message.contains("apps/v1/Deployment"));
}

#[test]
fn unknown_fields_are_reported_as_warnings() {
    let text = PEER.replace("asNumber: 65000", "asNumber: 65000\n  ttlSecurty: 1");
    let parsed = parse_manifest(Path::new("p.yaml"), &text).unwrap();
    assert_eq!(parsed.objects.len(), 1);
    assert_eq!(parsed.warnings.len(), 1, "{:?}", parsed.warnings);
    let warning = parsed.warnings[0].to_string();
    assert_eq!(
        warning,
        "p.yaml: document 1 (index 0), field spec.ttlSecurty: unknown field of BGPPeer; ignored"
    );
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

#[test]
fn bad_file_keeps_its_last_good_objects() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a.yaml", PEER);
    write(dir.path(), "b.yml", CONFIG);
    write(dir.path(), "notes.txt", "not a manifest");
    let (mut datastore, report) = FileDatastore::open(dir.path()).unwrap();
    assert!(report.errors.is_empty());
    assert_eq!(datastore.snapshot().len(), 2);
    let good = datastore.snapshot().clone();

    // Break a.yaml: its peer stays; the error is reported once.
    write(dir.path(), "a.yaml", &PEER.replace("65000", "not-a-number"));
    let report = datastore.rescan().unwrap();
    assert_eq!(report.errors.len(), 1);
    assert!(report.errors[0].to_string().contains("a.yaml"));
    assert!(!report.changed);
    assert_eq!(datastore.snapshot(), &good);
    assert_eq!(
        datastore.rescan().unwrap().errors.len(),
        0,
        "reported once per change"
    );
    assert_eq!(datastore.errors().count(), 1);

    // Fix it with a new AS: the new version takes effect.
    write(dir.path(), "a.yaml", &PEER.replace("65000", "65010"));
    let report = datastore.rescan().unwrap();
    assert!(report.changed && report.errors.is_empty());
    let peer = &datastore.snapshot().bgp_peers[&ObjectKey::cluster("tor")];
    assert_eq!(peer.spec.as_number, Some(AsNumber(65010)));
    assert_eq!(datastore.errors().count(), 0);

    // A new file that is bad from the start contributes nothing.
    write(
        dir.path(),
        "c.yaml",
        "apiVersion: v1\nkind: Node\nmetadata: {name: n}\nspec: 7\n",
    );
    let report = datastore.rescan().unwrap();
    assert_eq!(report.errors.len(), 1);
    assert_eq!(datastore.snapshot().count(Kind::Node), 0);

    // Removing a file removes its objects.
    std::fs::remove_file(dir.path().join("b.yml")).unwrap();
    assert!(datastore.rescan().unwrap().changed);
    assert!(datastore.snapshot().global_bgp_configuration().is_none());
}

#[test]
fn duplicate_definitions_are_reported_and_the_later_file_wins() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a.yaml", PEER);
    write(dir.path(), "b.yaml", &PEER.replace("65000", "65099"));
    let (datastore, report) = FileDatastore::open(dir.path()).unwrap();
    assert_eq!(report.warnings.len(), 1, "{:?}", report.warnings);
    let warning = report.warnings[0].to_string();
    assert!(
        warning.contains("b.yaml: BGPPeer tor is also defined in"),
        "{warning}"
    );
    let peer = &datastore.snapshot().bgp_peers[&ObjectKey::cluster("tor")];
    assert_eq!(peer.spec.as_number, Some(AsNumber(65099)));
}

#[test]
fn unusable_directory_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing");
    let error = FileDatastore::open(&missing).unwrap_err();
    assert!(error.to_string().contains("does not exist"), "{error}");
    write(dir.path(), "file.yaml", PEER);
    let error = FileDatastore::open(dir.path().join("file.yaml")).unwrap_err();
    assert!(error.to_string().contains("not a directory"), "{error}");
}

async fn wait_for(
    receiver: &mut tokio::sync::watch::Receiver<Arc<Snapshot>>,
    condition: impl Fn(&Snapshot) -> bool,
) -> Arc<Snapshot> {
    let result = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            if condition(&receiver.borrow_and_update()) {
                return receiver.borrow().clone();
            }
            receiver.changed().await.unwrap();
        }
    })
    .await;
    result.expect("condition not reached within 20 s")
}

#[tokio::test]
async fn live_add_edit_and_delete_take_effect() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "00-config.yaml", CONFIG);
    let (datastore, _) = FileDatastore::open(dir.path()).unwrap();
    let options = WatchOptions {
        debounce: Duration::from_millis(50),
        rescan_interval: Duration::from_secs(3600),
    };
    let (mut receiver, task) = watch_directory(datastore, options).unwrap();
    assert_eq!(receiver.borrow().len(), 1);

    write(dir.path(), "10-peer.yaml", PEER);
    wait_for(&mut receiver, |s| s.bgp_peers.len() == 1).await;

    write(dir.path(), "10-peer.yaml", &PEER.replace("65000", "65020"));
    wait_for(&mut receiver, |s| {
        s.bgp_peers
            .values()
            .any(|p| p.spec.as_number == Some(AsNumber(65020)))
    })
    .await;

    write(dir.path(), "10-peer.yaml", "kind: [broken");
    // A bad edit changes nothing; a later good edit elsewhere still applies.
    write(
        dir.path(),
        "20-more.yaml",
        &PEER.replace("name: tor", "name: tor-2"),
    );
    let snapshot = wait_for(&mut receiver, |s| s.bgp_peers.len() == 2).await;
    assert!(
        snapshot
            .bgp_peers
            .values()
            .any(|p| p.spec.as_number == Some(AsNumber(65020)))
    );

    std::fs::remove_file(dir.path().join("10-peer.yaml")).unwrap();
    wait_for(&mut receiver, |s| s.bgp_peers.len() == 1).await;

    drop(receiver);
    tokio::time::timeout(Duration::from_secs(10), task)
        .await
        .expect("watcher stops when receivers are gone")
        .unwrap();
}

#[tokio::test]
async fn periodic_rescan_catches_changes_without_events() {
    let dir = tempfile::tempdir().unwrap();
    let (datastore, _) = FileDatastore::open(dir.path()).unwrap();
    let options = WatchOptions {
        debounce: Duration::from_secs(3600),
        rescan_interval: Duration::from_millis(100),
    };
    let (mut receiver, _task) = watch_directory(datastore, options).unwrap();
    write(dir.path(), "peer.yaml", PEER);
    wait_for(&mut receiver, |s| s.bgp_peers.len() == 1).await;
}
