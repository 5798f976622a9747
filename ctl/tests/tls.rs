//! ternctl over TCP with mutual TLS (`--server`, `--ca`, `--cert`, `--key`).

mod support;

use std::path::Path;

use support::*;
use tern_proto::testing::{TestAuthority, serve_fixed_node};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ternctl_reaches_the_tcp_api_with_a_client_certificate_and_not_without() {
    let ca = TestAuthority::new("tern test CA");
    let other = TestAuthority::new("some other CA");
    let url = format!(
        "https://127.0.0.1:{}",
        serve_fixed_node(&ca, "127.0.0.1").await.port()
    );

    let directory = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let path = directory.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_string()
    };
    let ca_file = write("ca.pem", &ca.pem());
    let client = ca.client("ternctl");
    let (certificate, key) = (
        write("client.pem", &client.certificate),
        write("client.key", &client.key),
    );
    let stranger = other.client("ternctl");
    let (stranger, stranger_key) = (
        write("other.pem", &stranger.certificate),
        write("other.key", &stranger.key),
    );
    let unused = Path::new("/nonexistent.sock");

    let base = ["--server", &url, "--ca", &ca_file];
    let with = |cert: &str, key: &str| -> Vec<String> {
        let mut args: Vec<String> = base.iter().map(|s| s.to_string()).collect();
        args.extend(
            ["--cert", cert, "--key", key, "node", "status", "-o", "json"].map(String::from),
        );
        args
    };
    let args = with(&certificate, &key);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let status = json(&ternctl(unused, &args).await);
    assert_eq!(status["node"], "tls-node");

    let args = with(&stranger, &stranger_key);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let refused = ternctl(unused, &args).await;
    assert_eq!(refused.status.code(), Some(1));
    // The alert (UnknownCA) or just the closed connection, whichever the client sees first.
    let message = stderr(&refused);
    assert!(
        message.contains("ternd may have refused the TLS session"),
        "{message}"
    );

    let mut args: Vec<&str> = base.to_vec();
    args.extend(["node", "status"]);
    let missing = ternctl(unused, &args).await;
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        stderr(&missing).contains("--server needs --cert"),
        "{}",
        stderr(&missing)
    );
}
