//! `ternd --dataplane` enforces NetworkPolicy: run in its own network namespace over a file
//! datastore, it creates `table inet tern` for its node's pods, follows a pod added to the
//! manifests, and leaves the table in place when it stops.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use interop_tests::netns::Host;

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

#[test]
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

    std::fs::write(datastore.join("more.yaml"), MORE).unwrap();
    wait_for_table(
        &host,
        &["198.19.1.11 comment \"shop/web-2\" : jump ing/shop/web/"],
    );

    stop(ternd);
    assert!(
        table(&host).contains("shop/web-2"),
        "the table stays after ternd stops"
    );
}
