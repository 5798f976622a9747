//! ternctl's errors without a daemon: where it looked, what to do, exit code 1.

mod support;

use std::path::Path;

use support::*;

#[tokio::test]
async fn no_socket_means_ternd_is_not_running_and_says_where_it_looked() {
    let directory = tempfile::tempdir().unwrap();
    let socket = directory.path().join("ternd.sock");
    let output = ternctl(&socket, &["node", "status"]).await;
    assert_eq!(output.status.code(), Some(1));
    let expected = format!(
        "ternctl: cannot reach ternd at {}: is ternd running?",
        socket.display()
    );
    assert!(
        stderr(&output).starts_with(&expected),
        "{}",
        stderr(&output)
    );
    assert!(stderr(&output).contains("TERN_API_SOCKET"));
    assert!(output.stdout.is_empty());
}

#[tokio::test]
async fn a_socket_nobody_listens_on_is_also_not_running() {
    let directory = tempfile::tempdir().unwrap();
    let socket = directory.path().join("ternd.sock");
    drop(std::os::unix::net::UnixListener::bind(&socket).unwrap());
    let output = ternctl(&socket, &["get", "routes"]).await;
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("is ternd running?"),
        "{}",
        stderr(&output)
    );
}

#[tokio::test]
async fn the_socket_comes_from_tern_api_socket_when_not_given() {
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_ternctl"))
        .args(["node", "status"])
        .env("TERN_API_SOCKET", "/nonexistent/tern/api.sock")
        .output()
        .await
        .unwrap();
    assert!(
        stderr(&output).contains("cannot reach ternd at /nonexistent/tern/api.sock"),
        "{}",
        stderr(&output)
    );
}

#[tokio::test]
async fn unknown_kinds_are_named_with_the_known_ones() {
    let output = ternctl(Path::new("/nonexistent.sock"), &["get", "widgets"]).await;
    assert_eq!(output.status.code(), Some(1));
    let message = stderr(&output);
    assert!(
        message.contains("unknown resource kind \"widgets\""),
        "{message}"
    );
    assert!(
        message.contains("bgppeers") && message.contains("ippools"),
        "{message}"
    );
}

#[tokio::test]
async fn an_invalid_manifest_is_reported_with_file_and_line_before_connecting() {
    let directory = tempfile::tempdir().unwrap();
    let file = directory.path().join("peer.yaml");
    std::fs::write(
        &file,
        "apiVersion: tern.dev/v1alpha1\nkind: BGPPeer\nmetadata:\n  name: tor\n---\napiVersion: tern.dev/v1alpha1\nkind: BGPPeer\nspec:\n  peerIP: [oops\n",
    )
    .unwrap();
    let file = file.to_str().unwrap();
    let output = ternctl(Path::new("/nonexistent.sock"), &["apply", "-f", file]).await;
    assert_eq!(output.status.code(), Some(1));
    let message = stderr(&output);
    assert!(
        message.starts_with(&format!("ternctl: invalid manifest {file}:")),
        "{message}"
    );
    let line: usize = message
        .trim_start_matches(&format!("ternctl: invalid manifest {file}:"))
        .split(':')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!((6..=10).contains(&line), "line {line} in {message}");
}

#[tokio::test]
async fn completions_are_generated() {
    let output = ternctl(Path::new("/unused"), &["completion", "bash"]).await;
    assert!(output.status.success());
    assert!(stdout(&output).contains("ternctl"));
}

#[tokio::test]
async fn usage_errors_exit_2() {
    let output = ternctl(Path::new("/unused"), &["node", "frobnicate"]).await;
    assert_eq!(output.status.code(), Some(2));
}
