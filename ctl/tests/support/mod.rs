//! Helpers for the ternctl tests: running the binary with a bound, speakers on loopback.

#![allow(dead_code)]

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;
use std::process::Output;
use std::time::Duration;

use bgp::{PeerConfig, Speaker, SpeakerConfig, State};

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

/// A speaker listening on `address:0`.
pub async fn speaker(asn: u32, address: Ipv4Addr) -> Speaker {
    let mut config = SpeakerConfig::new(asn, address);
    config.listen = vec![SocketAddr::new(IpAddr::V4(address), 0)];
    config.ipv6_next_hop = Some(
        format!("2001:db8::{}", address.octets()[3])
            .parse()
            .unwrap(),
    );
    Speaker::start(config).await.expect("speaker starts")
}

/// A peer config pointing at `other`'s listener from `local`, retrying every second.
pub fn peer_of(other: &Speaker, local: Ipv4Addr) -> PeerConfig {
    let listen = other.listen_addresses()[0];
    let mut peer = PeerConfig::new(listen.ip(), other.asn());
    peer.port = listen.port();
    peer.local_address = Some(IpAddr::V4(local));
    peer.connect_retry = Duration::from_secs(1);
    peer
}

/// Poll `condition` every 50 ms; panic after `limit`.
pub async fn wait_for<F, Fut>(what: &str, limit: Duration, mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let polling = async {
        while !condition().await {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    if tokio::time::timeout(limit, polling).await.is_err() {
        panic!("timed out after {limit:?} waiting for {what}");
    }
}

pub async fn wait_established(speaker: &Speaker, address: Ipv4Addr) {
    wait_for("Established", Duration::from_secs(20), || async {
        speaker
            .peer(IpAddr::V4(address))
            .await
            .unwrap()
            .is_some_and(|status| status.state == State::Established)
    })
    .await;
}

pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}
