//! ternctl against a real API server: two `bgp::Speaker`s on loopback, the API of one served
//! on a temporary unix socket by `tern_proto::speaker_backend`, and the `ternctl` binary.

mod support;

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bgp::packet::PathAttributes;
use bgp::{PeerConfig, Speaker};
use support::*;
use tern_proto::UnixServer;
use tern_proto::speaker_backend::SpeakerBackend;
use tokio::io::{AsyncBufReadExt, BufReader};

const A: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 71);
const B: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 72);

struct Fixture {
    a: Speaker,
    b: Speaker,
    socket: PathBuf,
    _directory: tempfile::TempDir,
    _server: tokio::task::JoinHandle<()>,
}

/// A and B peered; B's API on `socket`; A announces one IPv4 and one IPv6 prefix.
async fn fixture() -> Fixture {
    let a = speaker(65001, A).await;
    let b = speaker(65002, B).await;
    let a_config = peer_of(&a, B);
    a.add_peer(peer_of(&b, A)).await.unwrap();
    b.add_peer(a_config.clone()).await.unwrap();
    wait_established(&b, A).await;
    a.originate("198.19.7.0/24".parse().unwrap(), PathAttributes::default())
        .await
        .unwrap();
    a.originate(
        "2001:db8:7::/48".parse().unwrap(),
        PathAttributes::default(),
    )
    .await
    .unwrap();
    wait_for("B learns A's routes", Duration::from_secs(10), || async {
        b.loc_rib().await.unwrap().len() == 2
    })
    .await;

    let directory = tempfile::tempdir().unwrap();
    // Let other users reach the socket itself, so only its own mode protects it.
    std::fs::set_permissions(directory.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let socket = directory.path().join("run/ternd.sock");
    let configs: HashMap<IpAddr, PeerConfig> = [(IpAddr::V4(A), a_config)].into();
    let backend = SpeakerBackend::new("node-b", b.clone())
        .with_peer_configs(Arc::new(move |address| configs.get(&address).cloned()));
    let server = UnixServer::bind(&socket).unwrap();
    let server = tokio::spawn(async move {
        server
            .serve(Arc::new(backend), std::future::pending())
            .await
            .unwrap();
    });
    Fixture {
        a,
        b,
        socket,
        _directory: directory,
        _server: server,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_status_json_is_the_contract_and_shows_the_established_peer() {
    let f = fixture().await;
    let status = json(&ternctl(&f.socket, &["node", "status", "-o", "json"]).await);
    let mut keys: Vec<&String> = status.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(keys, ["asNumber", "node", "peers", "routerId"]);
    assert_eq!(status["node"], "node-b");
    assert_eq!(status["asNumber"], 65002);
    assert_eq!(status["routerId"], "127.0.0.72");
    let peers = status["peers"].as_array().unwrap();
    assert_eq!(peers.len(), 1);
    let peer = &peers[0];
    let mut keys: Vec<&String> = peer.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "address",
            "asNumber",
            "lastError",
            "prefixesAdvertised",
            "prefixesReceived",
            "since",
            "state",
            "type"
        ]
    );
    assert_eq!(peer["address"], "127.0.0.71");
    assert_eq!(peer["asNumber"], 65001);
    assert_eq!(peer["type"], "eBGP");
    assert_eq!(peer["state"], "Established");
    assert_eq!(peer["prefixesReceived"], 2);
    assert_eq!(peer["lastError"], serde_json::Value::Null);
    let since = peer["since"].as_str().unwrap();
    humantime::parse_rfc3339(since).expect("since is RFC 3339");

    let yaml = ternctl(&f.socket, &["node", "status", "-o", "yaml"]).await;
    let from_yaml: serde_json::Value = serde_yaml::from_slice(&yaml.stdout).unwrap();
    assert_eq!(from_yaml["peers"][0]["state"], "Established");

    let table = stdout(&ternctl(&f.socket, &["node", "status"]).await);
    let row = table.lines().find(|l| l.contains("127.0.0.71")).unwrap();
    assert!(
        row.contains("eBGP") && row.contains("Established"),
        "{table}"
    );
    f.a.shutdown().await.unwrap();
    f.b.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_routes_shows_the_peers_routes_and_filters_them() {
    let f = fixture().await;
    let routes = json(&ternctl(&f.socket, &["get", "routes", "-o", "json"]).await);
    let routes = routes["routes"].as_array().unwrap();
    let route = routes
        .iter()
        .find(|r| r["prefix"] == "198.19.7.0/24")
        .expect("A's IPv4 route");
    assert_eq!(route["nextHops"], serde_json::json!(["127.0.0.71"]));
    assert_eq!(route["sourcePeer"], "127.0.0.71");
    assert_eq!(route["bestPath"]["asPath"], serde_json::json!([65001]));
    assert_eq!(route["bestPath"]["reason"], "only path");
    assert!(routes.iter().any(|r| r["prefix"] == "2001:db8:7::/48"));

    let longest = json(&ternctl(&f.socket, &["get", "routes", "198.19.7.9", "-o", "json"]).await);
    assert_eq!(longest["routes"].as_array().unwrap().len(), 1);
    let v6 = json(
        &ternctl(
            &f.socket,
            &["get", "routes", "--family", "ipv6", "-o", "json"],
        )
        .await,
    );
    assert_eq!(v6["routes"][0]["prefix"], "2001:db8:7::/48");
    assert_eq!(v6["routes"].as_array().unwrap().len(), 1);
    let none = json(
        &ternctl(
            &f.socket,
            &["get", "routes", "198.19.7.0/25", "--exact", "-o", "json"],
        )
        .await,
    );
    assert!(none["routes"].as_array().unwrap().is_empty());
    let received = json(
        &ternctl(
            &f.socket,
            &[
                "get",
                "routes",
                "--received-from",
                "127.0.0.71",
                "-o",
                "json",
            ],
        )
        .await,
    );
    assert_eq!(received["routes"].as_array().unwrap().len(), 2);

    let table = stdout(&ternctl(&f.socket, &["get", "routes"]).await);
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("*>") && l.contains("198.19.7.0/24")),
        "{table}"
    );
    let peers = json(&ternctl(&f.socket, &["get", "peers", "-o", "json"]).await);
    assert_eq!(peers["peers"][0]["peerRouterId"], "127.0.0.71");
    assert_eq!(
        peers["peers"][0]["sendQueueBytes"], 0,
        "nothing waits for a peer that reads"
    );
    assert!(
        peers["peers"][0]["messagesReceived"]["update"]
            .as_u64()
            .unwrap()
            >= 1
    );
    f.a.shutdown().await.unwrap();
    f.b.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn peer_reset_restarts_the_session_and_refresh_keeps_it() {
    let f = fixture().await;
    let mut changes = f.b.subscribe();
    let reset = ternctl(&f.socket, &["peer", "reset", "127.0.0.71"]).await;
    assert!(reset.status.success(), "{}", stderr(&reset));
    assert_eq!(stdout(&reset), "peer 127.0.0.71 reset\n");
    // The reset drops A's routes (a withdrawal is seen), then the session comes back.
    let change = tokio::time::timeout(Duration::from_secs(10), changes.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(change.best, None);
    wait_established(&f.b, A).await;

    let refresh = ternctl(&f.socket, &["peer", "refresh", "127.0.0.71", "--in"]).await;
    assert!(refresh.status.success(), "{}", stderr(&refresh));
    assert_eq!(stdout(&refresh), "peer 127.0.0.71 refreshed\n");
    wait_for(
        "A gets B's ROUTE-REFRESH",
        Duration::from_secs(10),
        || async {
            let a_view = f.a.peer(IpAddr::V4(B)).await.unwrap().unwrap();
            // One per negotiated family: IPv4 and IPv6 unicast.
            a_view.messages.received.route_refresh == 2
        },
    )
    .await;
    let b_view = f.b.peer(IpAddr::V4(A)).await.unwrap().unwrap();
    assert_eq!(
        b_view.state,
        bgp::State::Established,
        "soft: the session stays"
    );
    let unknown = ternctl(&f.socket, &["peer", "reset", "127.0.0.99"]).await;
    assert_eq!(unknown.status.code(), Some(1));
    assert!(
        stderr(&unknown).contains("no peer 127.0.0.99"),
        "{}",
        stderr(&unknown)
    );
    let pools = ternctl(&f.socket, &["get", "ippools"]).await;
    assert_eq!(pools.status.code(), Some(1));
    assert!(stderr(&pools).contains("get ippools: this ternd does not support it"));
    f.a.shutdown().await.unwrap();
    f.b.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_streams_peer_state_and_best_route_changes() {
    let f = fixture().await;
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_ternctl"))
        .arg("--socket")
        .arg(&f.socket)
        .args(["watch", "-o", "json"])
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut next = async || -> serde_json::Value {
        let line = tokio::time::timeout(Duration::from_secs(10), lines.next_line())
            .await
            .expect("an event")
            .unwrap()
            .expect("a line");
        serde_json::from_str(&line).unwrap()
    };
    let first = next().await;
    assert_eq!(first["peer"]["state"], "Established");
    assert_eq!(first["peer"]["address"], "127.0.0.71");
    f.a.withdraw("198.19.7.0/24".parse().unwrap())
        .await
        .unwrap();
    let withdrawn = next().await;
    assert_eq!(withdrawn["route"]["prefix"], "198.19.7.0/24");
    assert_eq!(withdrawn["route"]["bestPath"], serde_json::Value::Null);
    child.kill().await.unwrap();
    f.a.shutdown().await.unwrap();
    f.b.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_socket_is_owner_only_and_other_users_get_a_clear_message() {
    let f = fixture().await;
    let mode = std::fs::metadata(&f.socket).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    if !is_root() {
        eprintln!("skipping the other-user check: not root");
        return;
    }
    let parent = f.socket.parent().unwrap();
    std::fs::set_permissions(parent, std::fs::Permissions::from_mode(0o755)).unwrap();
    let nobody = [
        "setpriv",
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
    ];
    let output = ternctl_as(&nobody, &f.socket, &["node", "status"]).await;
    assert_eq!(output.status.code(), Some(1));
    let expected = format!(
        "ternctl: permission denied on {}: run as root",
        f.socket.display()
    );
    assert!(
        stderr(&output).starts_with(&expected),
        "{}",
        stderr(&output)
    );
    f.a.shutdown().await.unwrap();
    f.b.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_server_refuses_a_live_socket_and_replaces_a_stale_one() {
    let f = fixture().await;
    let error = UnixServer::bind(&f.socket).unwrap_err();
    assert!(matches!(error, tern_proto::ServeError::InUse(_)), "{error}");
    let stale_path = f.socket.with_file_name("stale.sock");
    drop(std::os::unix::net::UnixListener::bind(&stale_path).unwrap());
    let server = UnixServer::bind(&stale_path).expect("a stale socket is replaced");
    assert_eq!(server.path(), stale_path);
    f.a.shutdown().await.unwrap();
    f.b.shutdown().await.unwrap();
}
