//! The `ternd` binary: flags and environment per the contract, clear failures, live reload
//! and a clean stop on SIGTERM.

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn ternd() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ternd"));
    command
        .env_remove("TERN_NODE_NAME")
        .env_remove("TERN_DATASTORE")
        .env_remove("TERN_API_SOCKET")
        .env_remove("RUST_LOG");
    command
}

/// Starts ternd with stderr going to `log`, its API socket next to it (`<log>.sock`) and in
/// a new, empty network namespace: its BGP speaker binds port 179 and connects to the
/// example peers there, never on the host.
fn spawn(command: &mut Command, log: &Path) -> Child {
    use std::os::unix::process::CommandExt;
    let file = std::fs::File::create(log).unwrap();
    command.arg("--api-socket").arg(log.with_extension("sock"));
    // SAFETY: unshare(2) is async-signal-safe and touches only the child.
    unsafe {
        command.pre_exec(|| {
            if libc::unshare(libc::CLONE_NEWNET) == 0 {
                Ok(())
            } else {
                Err(std::io::Error::last_os_error())
            }
        });
    }
    command.stdout(Stdio::null()).stderr(file).spawn().unwrap()
}

/// Waits (bounded) until the log contains `text`.
fn wait_for_log(log: &Path, text: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let contents = std::fs::read_to_string(log).unwrap_or_default();
        if contents.contains(text) {
            return contents;
        }
        assert!(
            Instant::now() < deadline,
            "{text:?} not logged within 20 s:\n{contents}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn terminate(child: &mut Child) -> std::process::ExitStatus {
    let pid = i32::try_from(child.id()).unwrap();
    // SAFETY: sending a signal to our own child process.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("ternd did not stop within 10 s of SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn bad_flag_exits_non_zero_with_usage() {
    let output = ternd().arg("--no-such-flag").output().unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--no-such-flag"), "{stderr}");
}

#[test]
fn missing_datastore_exits_non_zero_with_reason() {
    let output = ternd()
        .args(["--node-name", "node-1", "--datastore", "/nonexistent/tern"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("/nonexistent/tern") && stderr.contains("does not exist"),
        "{stderr}"
    );
}

#[test]
fn kubernetes_datastore_without_a_cluster_exits_non_zero() {
    let output = ternd()
        .args(["--node-name", "node-1", "--datastore", "kubernetes"])
        .env("KUBECONFIG", "/nonexistent/kubeconfig")
        .env_remove("KUBERNETES_SERVICE_HOST")
        .env_remove("KUBERNETES_SERVICE_PORT")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("unusable datastore kubernetes"), "{stderr}");
}

#[test]
fn datastore_from_environment_and_clean_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("ternd.log");
    let mut child = spawn(
        ternd()
            .env("TERN_NODE_NAME", "node-1")
            .env("TERN_DATASTORE", common::examples_dir())
            .env("TERN_CNI_CONF_DIR", dir.path().join("net.d")),
        &log,
    );
    let contents = wait_for_log(&log, "add peer");
    wait_for_log(&log, "10-tern.conflist");
    let socket = log.with_extension("sock");
    assert!(socket.exists(), "the API socket is served");
    let conflist = std::fs::read_to_string(dir.path().join("net.d/10-tern.conflist")).unwrap();
    assert!(
        conflist.contains("\"198.19.1.0/24\"") && conflist.contains("\"2001:db8:42:1::/64\""),
        "{conflist}"
    );
    assert!(
        contents.contains("198.18.0.254") && contents.contains("198.18.0.21"),
        "{contents}"
    );
    assert!(
        !contents.contains("\u{1b}["),
        "no colour codes in a log file"
    );
    let status = terminate(&mut child);
    assert!(status.success(), "{status:?}");
    wait_for_log(&log, "SIGTERM received");
    assert!(!socket.exists(), "the API socket is removed on SIGTERM");
}

#[test]
fn edits_take_effect_live_and_bad_files_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let manifests = dir.path().join("manifests");
    std::fs::create_dir(&manifests).unwrap();
    std::fs::write(
        manifests.join("node.yaml"),
        common::node("n1", "198.18.0.1", &[], &[]),
    )
    .unwrap();
    let log = dir.path().join("ternd.log");
    let mut child = spawn(
        ternd()
            .args(["--node-name", "n1", "--datastore"])
            .arg(&manifests),
        &log,
    );
    wait_for_log(&log, "BGP identity");

    let peer = common::bgp_peer("tor", "  peerIP: 198.18.0.250\n  asNumber: 65000\n");
    std::fs::write(manifests.join("peer.yaml"), &peer).unwrap();
    wait_for_log(&log, "198.18.0.250");

    std::fs::write(manifests.join("peer.yaml"), peer.replace("65000", "[oops]")).unwrap();
    let contents = wait_for_log(
        &log,
        "peer.yaml: document 1 (index 0), line 7, field spec.asNumber",
    );
    assert!(
        !contents.contains("remove peer"),
        "the last good version stays: {contents}"
    );

    std::fs::remove_file(manifests.join("peer.yaml")).unwrap();
    wait_for_log(&log, "remove peer");
    assert!(terminate(&mut child).success());
}

#[test]
fn intent_subcommand_prints_the_node_intent() {
    let output = ternd()
        .args([
            "intent",
            "-o",
            "json",
            "--node-name",
            "node-1",
            "--datastore",
        ])
        .arg(common::examples_dir())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let intent: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(intent["routerId"], "198.18.0.11");
    assert_eq!(intent["peers"][1]["address"], "198.18.0.254");
    assert_eq!(intent["peers"][1]["source"]["type"], "node specific");
    assert_eq!(intent["peers"][1]["source"]["bgpPeer"], "tor-r1");
    assert_eq!(intent["peers"][1]["password"], "<redacted>");
    assert_eq!(intent["peers"][1]["maxRestartTime"], "120s");

    let missing = ternd()
        .args(["intent", "--node-name", "node-9", "--datastore"])
        .arg(common::examples_dir())
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&missing.stderr).contains("node node-9 is not in the datastore")
    );
}
