//! `ternctl` against a running `ternd` (its own network namespace) with BIRD as the peer
//! (another namespace): the operator's view end to end (issue 7, acceptance 1).
//!
//! - `apply -f` of a BGPPeer manifest brings the session up (BIRD Established, and
//!   `node status` says so); `delete -f` brings it down again;
//! - `node status` (table) and `node status -o json` have the contract's shape
//!   (ARCHITECTURE.md, CLI);
//! - `get routes` lists BIRD's routes with the deciding step of the best-path choice;
//! - per-peer views: capabilities and message counts (`get peers -o json`), Adj-RIB-In
//!   (`--received-from`) and Adj-RIB-Out (`--advertised-to`);
//! - soft reset both ways (RFC 2918): `birdc reload in` makes ternd send its routes again,
//!   and `ternctl peer refresh --in` makes BIRD send its routes again.
//!
//! ternctl is compiled into this test binary and each call is a real process
//! ([`ternctl_support`]; this is why the test has its own `main`). Needs root (network
//! namespaces).

mod common;
mod ternctl_support;

use std::net::IpAddr;
use std::path::PathBuf;
use std::process::Output;
use std::time::{Duration, Instant};

use interop_tests::peers::{BgpPeer, Bird, Neighbor, PeerConfig, Route};
use interop_tests::{Host, Process};
use serde_json::Value;

const TERND_ADDRESS: &str = "198.18.0.11";
const BIRD_ADDRESS: &str = "198.18.0.254";
const WAIT: Duration = Duration::from_secs(30);
const METRICS: &str = "198.18.0.11:9091";
const POD_CIDR: &str = "198.19.1.0/24";
const BIRD_ROUTES: [&str; 2] = ["198.51.100.0/24", "203.0.113.0/24"];

fn main() {
    ternctl_support::main(vec![libtest_mimic::Trial::test(
        "ternctl_operates_a_running_ternd_with_a_bird_peer",
        || {
            ternctl_operates_a_running_ternd_with_a_bird_peer();
            Ok(())
        },
    )]);
}

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

/// The node, the global configuration; no peers (they come with `apply -f`).
fn manifests() -> String {
    let spec = "  asNumber: 64512\n  listenPort: 179\n  nodeToNodeMeshEnabled: false\n";
    let node = common::with_pod_cidrs(common::node("n1", TERND_ADDRESS, &[], &[]), &[POD_CIDR]);
    format!("{}---\n{node}", common::config(spec))
}

/// Everything a failing step should show.
struct Lab {
    socket: PathBuf,
    ternd: Process,
    bird: Bird,
}

impl Lab {
    fn fail(&self, what: &str, detail: &dyn std::fmt::Display) -> ! {
        panic!(
            "{what}: {detail}\n--- ternd ---\n{}\n--- bird ---\n{}",
            self.ternd.log_tail(60),
            self.bird.logs()
        )
    }

    /// Runs `ternctl --socket SOCKET ARGS` as a process of its own.
    fn ternctl(&self, args: &[&str]) -> Output {
        ternctl_support::ternctl(&self.socket, args)
    }

    /// `ternctl ARGS`, which must succeed; its stdout.
    fn ok(&self, args: &[&str]) -> String {
        let output = self.ternctl(args);
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        if !output.status.success() {
            self.fail(
                &format!("ternctl {} failed ({})", args.join(" "), output.status),
                &format!("{stdout}{}", String::from_utf8_lossy(&output.stderr)),
            );
        }
        stdout
    }

    fn json(&self, args: &[&str]) -> Value {
        let text = self.ok(args);
        serde_json::from_str(&text)
            .unwrap_or_else(|e| self.fail(&format!("ternctl {} JSON", args.join(" ")), &e))
    }

    /// Polls `ternctl ARGS -o json` until `done` holds for it.
    fn wait_json(&self, what: &str, args: &[&str], done: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + WAIT;
        loop {
            let output = self.ternctl(args);
            let value = serde_json::from_slice::<Value>(&output.stdout).ok();
            match value {
                Some(value) if output.status.success() && done(&value) => return value,
                _ if Instant::now() > deadline => self.fail(
                    &format!("{what} within {WAIT:?}"),
                    &format!(
                        "last: {}{}",
                        String::from_utf8_lossy(&output.stdout),
                        String::from_utf8_lossy(&output.stderr)
                    ),
                ),
                _ => std::thread::sleep(Duration::from_millis(200)),
            }
        }
    }

    /// The one peer's details from `get peers -o json`.
    fn peer_details(&self) -> Value {
        let peers = self.json(&["get", "peers", BIRD_ADDRESS, "-o", "json"]);
        peers["peers"][0].clone()
    }
}

fn sorted_keys(value: &Value) -> Vec<String> {
    let mut keys: Vec<String> = value
        .as_object()
        .map(|object| object.keys().cloned().collect())
        .unwrap_or_default();
    keys.sort_unstable();
    keys
}

fn counter(peer: &Value, direction: &str, kind: &str) -> u64 {
    peer[direction][kind].as_u64().unwrap_or(0)
}

fn ternctl_operates_a_running_ternd_with_a_bird_peer() {
    let started = Instant::now();
    let (tern_host, bird_host, _link) = common::ternd_and_peer_hosts(TERND_ADDRESS, BIRD_ADDRESS);
    let (ternd, _, socket) =
        common::spawn_ternd(&tern_host, &manifests(), &["--metrics-address", METRICS]);
    let mut bird_config = PeerConfig::new(BIRD_ADDRESS.parse().unwrap(), 65000)
        .neighbor(Neighbor::new(ip(TERND_ADDRESS), 64512));
    for prefix in BIRD_ROUTES {
        bird_config = bird_config.route(Route::new(prefix.parse().unwrap()));
    }
    let bird = Bird::start(&bird_host, bird_config).unwrap();
    let lab = Lab {
        socket,
        ternd,
        bird,
    };

    // ternd is up with no peers: the contract JSON, peers empty.
    let status = lab.wait_json(
        "node status answers",
        &["node", "status", "-o", "json"],
        |s| s["node"] == "n1",
    );
    assert_eq!(
        sorted_keys(&status),
        ["asNumber", "node", "peers", "routerId"]
    );
    assert_eq!(status["asNumber"], 64512);
    assert_eq!(status["routerId"], TERND_ADDRESS);
    assert_eq!(status["peers"], serde_json::json!([]));
    // Kernel route programming is off by default: the dataplane view says so.
    let dataplane = lab.ternctl(&["dataplane", "routes"]);
    assert_eq!(dataplane.status.code(), Some(1));
    let message = String::from_utf8_lossy(&dataplane.stderr);
    assert!(
        message.contains("dataplane programming is disabled on this node"),
        "{message}"
    );
    let metrics = scrape(&tern_host);
    assert!(
        metrics.contains("tern_bgp_loc_rib_prefixes{node=\"n1\"}")
            && !metrics.contains(BIRD_ADDRESS),
        "no peer series yet: {metrics}"
    );

    // apply -f: a new BGPPeer brings the session up.
    let manifest = tern_host.dir().join("bird-peer.yaml");
    std::fs::write(
        &manifest,
        common::bgp_peer(
            "bird",
            &format!("  peerIP: {BIRD_ADDRESS}\n  asNumber: 65000\n"),
        ),
    )
    .unwrap();
    let manifest = manifest.to_str().unwrap();
    let applied = lab.ok(&["apply", "-f", manifest]);
    assert!(applied.contains("created"), "{applied}");
    lab.bird
        .wait_established(ip(TERND_ADDRESS), WAIT)
        .unwrap_or_else(|e| lab.fail("BIRD never Established after apply -f", &e));
    let status = lab.wait_json(
        "node status shows the peer Established",
        &["node", "status", "-o", "json"],
        |s| s["peers"][0]["state"] == "Established",
    );
    check_contract_status(&status);

    // The table, calicoctl-like.
    let table = lab.ok(&["node", "status"]);
    assert!(table.contains("ternd is running on node n1."), "{table}");
    assert!(table.contains("AS 64512, router ID 198.18.0.11"), "{table}");
    assert!(table.contains("IPv4 BGP status"), "{table}");
    assert!(table.contains("No IPv6 peers found."), "{table}");
    for header in ["PEER ADDRESS", "PEER TYPE", "STATE", "SINCE", "INFO"] {
        assert!(table.contains(header), "{header} missing:\n{table}");
    }
    let row = table
        .lines()
        .find(|line| line.contains(BIRD_ADDRESS))
        .unwrap_or_else(|| lab.fail("no row for BIRD", &table));
    assert!(row.contains("eBGP") && row.contains("Established"), "{row}");

    check_routes(&lab);
    // /metrics (curl in ternd's namespace): the peer's series, with BIRD's routes counted.
    let metrics = scrape(&tern_host);
    let labels = format!("node=\"n1\",peer=\"{BIRD_ADDRESS}\",peer_as=\"65000\",type=\"eBGP\"");
    for line in [
        format!("tern_bgp_peer_up{{{labels}}} 1\n"),
        format!("tern_bgp_peer_prefixes{{{labels},direction=\"received\"}} 2\n"),
        "tern_bgp_loc_rib_prefixes{node=\"n1\"} 3\n".to_string(),
    ] {
        assert!(metrics.contains(&line), "{line} not in:\n{metrics}");
    }
    check_peer_views(&lab);
    check_soft_reset(&lab);

    // delete -f: the session goes away on both sides.
    let deleted = lab.ok(&["delete", "-f", manifest]);
    assert!(deleted.contains("deleted"), "{deleted}");
    lab.wait_json(
        "the peer is removed",
        &["node", "status", "-o", "json"],
        |s| s["peers"] == serde_json::json!([]),
    );
    let deadline = Instant::now() + WAIT;
    while lab.bird.is_established(ip(TERND_ADDRESS)).unwrap_or(true) {
        if Instant::now() > deadline {
            lab.fail("BIRD still Established after delete -f", &"");
        }
        std::thread::sleep(Duration::from_millis(200));
    }

    lab.ternd.terminate(Duration::from_secs(10)).unwrap();
    eprintln!("ternctl_e2e took {:?}", started.elapsed());
}

/// `curl http://METRICS/metrics` inside ternd's namespace.
fn scrape(host: &Host) -> String {
    let url = format!("http://{METRICS}/metrics");
    host.exec("curl", &["-sS", "--max-time", "5", url.as_str()])
        .unwrap_or_else(|e| panic!("curl {url}: {e}"))
        .stdout
}

/// `node status -o json` is exactly the contract: these keys, RFC 4271 state names.
fn check_contract_status(status: &Value) {
    assert_eq!(
        sorted_keys(status),
        ["asNumber", "node", "peers", "routerId"]
    );
    assert_eq!(status["node"], "n1");
    assert_eq!(status["asNumber"], 64512);
    assert_eq!(status["routerId"], TERND_ADDRESS);
    let peers = status["peers"].as_array().unwrap();
    assert_eq!(peers.len(), 1, "{status}");
    let peer = &peers[0];
    assert_eq!(
        sorted_keys(peer),
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
    assert_eq!(peer["address"], BIRD_ADDRESS);
    assert_eq!(peer["asNumber"], 65000);
    assert_eq!(peer["type"], "eBGP");
    assert_eq!(peer["state"], "Established");
    let since = peer["since"].as_str().unwrap_or_default();
    assert!(
        since.len() == 20 && since.ends_with('Z') && since.as_bytes()[10] == b'T',
        "since is RFC 3339 UTC: {since:?}"
    );
    assert!(peer["lastError"].is_null() || peer["lastError"].is_string());
    assert!(peer["prefixesReceived"].is_u64() && peer["prefixesAdvertised"].is_u64());
}

/// `get routes`: BIRD's routes, the best path and why it won.
fn check_routes(lab: &Lab) {
    let routes = lab.wait_json(
        "BIRD's routes in the Loc-RIB",
        &["get", "routes", "-o", "json"],
        |r| {
            BIRD_ROUTES.iter().all(|prefix| {
                r["routes"]
                    .as_array()
                    .is_some_and(|routes| routes.iter().any(|route| route["prefix"] == *prefix))
            })
        },
    );
    for prefix in BIRD_ROUTES {
        let route = routes["routes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|route| route["prefix"] == prefix)
            .unwrap();
        assert_eq!(
            route["nextHops"],
            serde_json::json!([BIRD_ADDRESS]),
            "{route}"
        );
        assert_eq!(route["sourcePeer"], BIRD_ADDRESS, "{route}");
        assert_eq!(route["bestPath"]["reason"], "only path", "{route}");
        assert_eq!(
            route["bestPath"]["asPath"],
            serde_json::json!([65000]),
            "{route}"
        );
    }
    let table = lab.ok(&["get", "routes"]);
    assert!(table.contains("REASON"), "{table}");
    for prefix in BIRD_ROUTES {
        let row = table
            .lines()
            .find(|line| line.contains(prefix))
            .unwrap_or_else(|| lab.fail(&format!("no row for {prefix}"), &table));
        assert!(row.starts_with("*>"), "{row}");
        assert!(
            row.contains(BIRD_ADDRESS) && row.contains("only path"),
            "{row}"
        );
    }
    let pod = lab.ok(&["get", "routes", POD_CIDR, "-o", "json"]);
    let pod: Value = serde_json::from_str(&pod).unwrap();
    assert_eq!(pod["routes"][0]["bestPath"]["sourceType"], "local", "{pod}");
}

/// Capabilities and counters, Adj-RIB-In and Adj-RIB-Out of the peer.
fn check_peer_views(lab: &Lab) {
    let peer = lab.peer_details();
    let capabilities: Vec<&str> = peer["capabilities"]
        .as_array()
        .map(|c| c.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    for wanted in ["multiprotocol ipv4-unicast", "4-octet-as", "route-refresh"] {
        assert!(capabilities.contains(&wanted), "{wanted} not in {peer}");
    }
    assert!(counter(&peer, "messagesReceived", "open") >= 1, "{peer}");
    assert!(counter(&peer, "messagesReceived", "update") >= 1, "{peer}");
    assert!(counter(&peer, "messagesSent", "update") >= 1, "{peer}");

    let received = lab.json(&[
        "get",
        "routes",
        "--received-from",
        BIRD_ADDRESS,
        "-o",
        "json",
    ]);
    let prefixes: Vec<&str> = received["routes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["prefix"].as_str())
        .collect();
    assert_eq!(prefixes, BIRD_ROUTES, "{received}");

    let advertised = lab.wait_json(
        "the pod CIDR in the Adj-RIB-Out",
        &[
            "get",
            "routes",
            "--advertised-to",
            BIRD_ADDRESS,
            "-o",
            "json",
        ],
        |a| a["routes"][0]["prefix"] == POD_CIDR,
    );
    let path = &advertised["routes"][0]["paths"][0];
    assert_eq!(path["nextHop"], TERND_ADDRESS, "{advertised}");
    assert_eq!(path["asPath"], serde_json::json!([64512]), "{advertised}");
    assert_eq!(
        advertised["routes"].as_array().map(Vec::len),
        Some(1),
        "BIRD's own routes are not sent back: {advertised}"
    );
}

/// RFC 2918 both ways.
fn check_soft_reset(lab: &Lab) {
    // BIRD asks ternd for its routes again: ternd receives ROUTE-REFRESH and sends UPDATEs.
    let before = lab.peer_details();
    let reload = lab
        .bird
        .birdc(&["reload", "in", "n0"])
        .unwrap_or_else(|e| lab.fail("birdc reload in", &e));
    assert!(reload.to_lowercase().contains("reload"), "{reload}");
    let after = lab.wait_json(
        "ternd answers BIRD's ROUTE-REFRESH",
        &["get", "peers", BIRD_ADDRESS, "-o", "json"],
        |p| {
            let peer = &p["peers"][0];
            counter(peer, "messagesReceived", "routeRefresh")
                > counter(&before, "messagesReceived", "routeRefresh")
                && counter(peer, "messagesSent", "update")
                    > counter(&before, "messagesSent", "update")
        },
    );
    let after = &after["peers"][0];

    // ternctl asks BIRD: ternd sends ROUTE-REFRESH, BIRD sends its routes again.
    let refreshed = lab.ok(&["peer", "refresh", BIRD_ADDRESS, "--in"]);
    assert!(refreshed.contains("refreshed"), "{refreshed}");
    lab.wait_json(
        "BIRD answers ternd's ROUTE-REFRESH",
        &["get", "peers", BIRD_ADDRESS, "-o", "json"],
        |p| {
            let peer = &p["peers"][0];
            counter(peer, "messagesSent", "routeRefresh")
                > counter(after, "messagesSent", "routeRefresh")
                && counter(peer, "messagesReceived", "update")
                    > counter(after, "messagesReceived", "update")
        },
    );
    // The session stayed up throughout and the routes are all still there.
    let status = lab.json(&["node", "status", "-o", "json"]);
    assert_eq!(status["peers"][0]["state"], "Established", "{status}");
    assert_eq!(
        status["peers"][0]["prefixesReceived"],
        BIRD_ROUTES.len(),
        "{status}"
    );
}
