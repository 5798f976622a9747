//! Helpers for the ternctl tests: running the binary with a bound, speakers on loopback.

#![allow(dead_code, unused_imports)]

use std::path::Path;
use std::process::Output;
use std::time::Duration;

pub use bgp::testing::{peer_of, speaker, wait_established, wait_for};

/// How long one ternctl run may take before the test fails.
pub const COMMAND_LIMIT: Duration = Duration::from_secs(30);

/// Run `ternctl --socket SOCKET ARGS…` (optionally through a prefix like `setpriv …`).
pub async fn ternctl_as(prefix: &[&str], socket: &Path, args: &[&str]) -> Output {
    let binary = env!("CARGO_BIN_EXE_ternctl");
    let mut command = match prefix.split_first() {
        Some((program, rest)) => {
            let mut command = tokio::process::Command::new(program);
            command.args(rest).arg(binary);
            command
        }
        None => tokio::process::Command::new(binary),
    };
    command
        .arg("--socket")
        .arg(socket)
        .args(args)
        .env_remove("TERN_API_SOCKET")
        .kill_on_drop(true);
    tokio::time::timeout(COMMAND_LIMIT, command.output())
        .await
        .expect("ternctl finishes")
        .expect("ternctl runs")
}

pub async fn ternctl(socket: &Path, args: &[&str]) -> Output {
    ternctl_as(&[], socket, args).await
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Parse stdout as JSON, failing with both streams shown.
pub fn json(output: &Output) -> serde_json::Value {
    assert!(
        output.status.success(),
        "ternctl failed: {}{}",
        stdout(output),
        stderr(output)
    );
    serde_json::from_slice(&output.stdout).expect("stdout is JSON")
}

pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}
