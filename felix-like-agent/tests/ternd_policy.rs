//! `ternd --dataplane` enforces NetworkPolicy: run in its own network namespace over a file
//! datastore, it creates `table inet tern` for its node's pods, follows a pod added to the
//! manifests, and leaves the table in place when it stops. `ternctl policy show` (a real
//! process, [`ternctl_support`]) shows what the table does for a pod, as JSON and as a table.

mod ternctl_support;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use interop_tests::netns::Host;
use serde_json::{Value, json};

const MANIFESTS: &str = "
apiVersion: v1
kind: Node
metadata: {name: node-1}
spec: {podCIDRs: [198.19.1.0/24]}
status: {addresses: [{type: InternalIP, address: 198.18.0.11}]}
---
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {namespace: shop, name: web}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress: [{from: [{podSelector: {matchLabels: {app: client}}}], ports: [{port: 80}]}]
---
apiVersion: v1
kind: Pod
metadata: {namespace: shop, name: web-1, labels: {app: web}}
spec: {nodeName: node-1, containers: [{name: c, image: web}]}
status: {phase: Running, podIPs: [{ip: 198.19.1.10}]}
---
apiVersion: v1
kind: Pod
metadata: {namespace: shop, name: client-1, labels: {app: client}}
spec: {nodeName: node-2, containers: [{name: c, image: client}]}
status: {phase: Running, podIPs: [{ip: 198.19.2.10}]}
";

const MORE: &str = "
apiVersion: v1
kind: Pod
metadata: {namespace: shop, name: web-2, labels: {app: web}}
spec: {nodeName: node-1, containers: [{name: c, image: web}]}
status: {phase: Running, podIPs: [{ip: 198.19.1.11}]}
";

fn table(host: &Host) -> String {
    let output = Command::new("ip")
        .args([
            "netns",
            "exec",
            host.name(),
            "nft",
            "list",
            "table",
            "inet",
            "tern",
        ])
        .output()
        .unwrap();
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Waits (bounded) until the table contains every one of `texts`.
fn wait_for_table(host: &Host, texts: &[&str]) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let listing = table(host);
        if texts.iter().all(|text| listing.contains(text)) {
            return listing;
        }
        assert!(
            Instant::now() < deadline,
            "{texts:?} not in the table within 20 s:\n{listing}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn start(host: &Host, datastore: &Path, dataplane: bool) -> Child {
    let log = std::fs::File::create(host.dir().join("ternd.log")).unwrap();
    let mut command = Command::new("ip");
    command
        .args(["netns", "exec", host.name(), env!("CARGO_BIN_EXE_ternd")])
        .args(["--node-name", "node-1", "--datastore"])
        .arg(datastore)
        .arg("--api-socket")
        .arg(host.dir().join("ternd.sock"))
        .env_remove("TERN_DATAPLANE")
        .env_remove("TERN_NODE_NAME")
        .env_remove("TERN_DATASTORE")
        .env_remove("TERN_API_SOCKET");
    if dataplane {
        command.arg("--dataplane");
    }
    command.stdout(Stdio::null()).stderr(log).spawn().unwrap()
}

fn stop(mut child: Child) {
    let pid = i32::try_from(child.id()).unwrap();
    // SAFETY: signalling our own child (ip netns exec execs ternd in place).
    unsafe { libc::kill(pid, libc::SIGTERM) };
    let deadline = Instant::now() + Duration::from_secs(10);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("ternd did not stop within 10 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn main() {
    ternctl_support::main(vec![libtest_mimic::Trial::test(
        "dataplane_flag_programs_network_policy",
        || {
            dataplane_flag_programs_network_policy();
            Ok(())
        },
    )]);
}

/// `ternctl policy show POD -n shop ARGS`: its stdout, or a panic with its error and ternd's log.
fn policy_show(host: &Host, pod: &str, args: &[&str]) -> Result<String, String> {
    let mut all = vec!["policy", "show", pod, "-n", "shop"];
    all.extend(args);
    let output = ternctl_support::ternctl(&host.dir().join("ternd.sock"), &all);
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    match output.status.success() {
        true => Ok(stdout),
        false => Err(format!("{}: {stdout}{stderr}", output.status)),
    }
}

/// Polls (bounded) `policy show POD -o json` until it answers with `policies`.
fn wait_for_policy(host: &Host, pod: &str, policies: Value) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let answer = policy_show(host, pod, &["-o", "json"]);
        let last = match answer.as_deref().map(serde_json::from_str::<Value>) {
            Ok(Ok(shown)) if shown["policies"] == policies => return shown,
            Ok(Ok(shown)) => shown.to_string(),
            Ok(Err(error)) => error.to_string(),
            Err(error) => error.clone(),
        };
        if Instant::now() > deadline {
            let log = std::fs::read_to_string(host.dir().join("ternd.log")).unwrap_or_default();
            panic!(
                "{pod}: no {policies} within 10 s; last: {last}
--- ternd ---
{log}"
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn dataplane_flag_programs_network_policy() {
    let host = Host::new("ternd-policy").unwrap();
    let datastore = host.dir().join("manifests");
    std::fs::create_dir(&datastore).unwrap();
    std::fs::write(datastore.join("cluster.yaml"), MANIFESTS).unwrap();

    let ternd = start(&host, &datastore, true);
    let listing = wait_for_table(
        &host,
        &[
            "198.19.1.10 comment \"shop/web-1\" : jump ing/shop/web/",
            "198.19.2.10",
            "198.18.0.11",
        ],
    );
    assert!(
        !listing.contains("198.19.1.11"),
        "web-2 not there yet:\n{listing}"
    );

    // ternctl policy show: the policy, isolation, its rules and the pod's chain.
    let shown = wait_for_policy(&host, "web-1", json!(["shop/web"]));
    let mut keys: Vec<&String> = shown.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "addresses",
            "egressIsolated",
            "ingressIsolated",
            "namespace",
            "nftables",
            "pod",
            "policies",
            "rules"
        ]
    );
    assert_eq!(
        (&shown["pod"], &shown["namespace"]),
        (&json!("web-1"), &json!("shop"))
    );
    assert_eq!(shown["addresses"], json!(["198.19.1.10"]));
    assert_eq!(shown["ingressIsolated"], true);
    assert_eq!(shown["egressIsolated"], false);
    assert_eq!(
        shown["rules"],
        json!([
            {"policy": "shop/web", "direction": "ingress", "action": "allow",
             "description": "from pods in set ing/shop/web/r0/pods (1 address) on tcp 80"},
            {"policy": "shop/web", "direction": "ingress", "action": "deny",
             "description": "anything else: no rule allows it"},
        ])
    );
    let nftables = shown["nftables"].as_str().unwrap();
    let chain = listing
        .lines()
        .find_map(|line| line.trim().strip_prefix("chain ing/shop/web/"))
        .unwrap_or_else(|| panic!("no web chain in the table:\n{listing}"));
    assert!(
        nftables.contains(&format!("chain ing/shop/web/{chain}"))
            && nftables.contains("comment \"shop/web ingress rule 0\""),
        "{nftables}"
    );
    let printed = policy_show(&host, "web-1", &[]).unwrap();
    for text in [
        "Pod shop/web-1 (198.19.1.10)",
        "Ingress: isolated, egress: open",
        "Policies: shop/web",
        "from pods in set ing/shop/web/r0/pods (1 address) on tcp 80",
    ] {
        assert!(printed.contains(text), "{text}:\n{printed}");
    }
    // The client runs on node-2: not this node's to show.
    let remote = policy_show(&host, "client-1", &[]).unwrap_err();
    assert!(remote.contains("not a local pod of this node"), "{remote}");

    std::fs::write(datastore.join("more.yaml"), MORE).unwrap();
    wait_for_table(
        &host,
        &["198.19.1.11 comment \"shop/web-2\" : jump ing/shop/web/"],
    );
    let shown = wait_for_policy(&host, "web-2", json!(["shop/web"]));
    assert_eq!(shown["addresses"], json!(["198.19.1.11"]));

    stop(ternd);
    assert!(
        table(&host).contains("shop/web-2"),
        "the table stays after ternd stops"
    );
}
