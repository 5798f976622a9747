//! ternd on the contract manifests against a BIRD top-of-rack router, in the lab topology
//! (`interop_tests::lab`: node-1, node-2, rr-1 sharing one file datastore). Needs root.
//!
//! - The router learns each node's pod CIDR (via that node) and the Service ranges.
//! - The `checkout` Service (`externalTrafficPolicy: Local`): the router holds its /32s via
//!   exactly the nodes with a ready endpoint; editing the EndpointSlice file moves them. The
//!   time from the file's rename to the change at the router is printed (median and worst of
//!   20 edits) — a figure, not a pass/fail bound.
//! - A malformed manifest leaves every session and route as it was and makes each ternd log
//!   one clear error (file, document, field); a good edit afterwards still takes effect.

mod common;

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use interop_tests::lab::{Lab, plan};
use ipnetwork::{IpNetwork, Ipv4Network};

const WAIT: Duration = Duration::from_secs(60);
const SERVICES: &str = "30-services.yaml";
const EDITS: usize = 20;

fn node_address(name: &str) -> IpAddr {
    IpAddr::V4(plan::node(name).unwrap().address.ip())
}

fn start_lab() -> Lab {
    let lab = Lab::start(&common::lab_options(false)).unwrap();
    if let Err(error) = lab.wait_converged(WAIT) {
        panic!("{error}\n{}", logs(&lab));
    }
    lab
}

fn logs(lab: &Lab) -> String {
    let mut text = String::new();
    for node in &lab.nodes {
        text.push_str(&format!(
            "--- {} ---\n{}\n",
            node.plan.name,
            node.ternd.log_tail(40)
        ));
    }
    text + &lab.router.host().logs_tail(40)
}

/// The contract's services file with the checkout endpoints' readiness set per node.
fn services_with_ready(contract: &str, node_1: bool, node_2: bool) -> String {
    let block = |node: &str, ready: bool| {
        format!("nodeName: {node}\n    conditions:\n      ready: {ready}")
    };
    let text = contract
        .replace(&block("node-2", true), &block("node-2", node_2))
        .replace(&block("node-1", false), &block("node-1", node_1));
    assert!(
        text.contains(&block("node-1", node_1)) && text.contains(&block("node-2", node_2)),
        "the contract's EndpointSlice changed shape"
    );
    text
}

/// Replaces a datastore file atomically (write aside, rename), as editors and ConfigMap
/// volumes do; returns the moment of the rename.
fn replace_file(directory: &Path, name: &str, text: &str) -> Instant {
    let aside = directory.join(format!(".{name}.tmp"));
    std::fs::write(&aside, text).unwrap();
    let at = Instant::now();
    std::fs::rename(&aside, directory.join(name)).unwrap();
    at
}

fn expected(nodes: &[&str]) -> Vec<IpAddr> {
    let mut hops: Vec<IpAddr> = nodes.iter().map(|n| node_address(n)).collect();
    hops.sort();
    hops
}

/// Waits until the router's paths for `prefix` have exactly these next hops.
fn wait_next_hops(lab: &Lab, prefix: Ipv4Network, nodes: &[&str]) -> Instant {
    let want = expected(nodes);
    let mut last = Vec::new();
    let deadline = Instant::now() + WAIT;
    loop {
        match lab.router_next_hops(prefix) {
            Ok(hops) if hops == want => return Instant::now(),
            Ok(hops) => last = hops,
            Err(error) => eprintln!("router query: {error}"),
        }
        if Instant::now() > deadline {
            panic!(
                "router: {prefix} via {last:?}, wanted {want:?} ({nodes:?})\n{}",
                logs(lab)
            );
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn cluster_ip_of_checkout() -> Ipv4Network {
    "198.19.240.20/32".parse().unwrap()
}

#[test]
fn router_learns_pod_cidrs_and_services_and_follows_checkout_endpoints() {
    let lab = start_lab();
    let rib = lab.router.rib().unwrap();
    for node in &plan::NODES {
        let best = rib
            .iter()
            .find(|r| r.prefix == IpNetwork::V4(node.pod_cidr) && r.best)
            .unwrap_or_else(|| panic!("no route for {}: {rib:#?}", node.pod_cidr));
        assert_eq!(best.next_hop, IpAddr::V4(node.address.ip()), "{best:?}");
    }
    for range in [
        plan::SERVICE_CLUSTER_RANGE,
        plan::SERVICE_EXTERNAL_RANGE,
        "198.51.100.0/24".parse().unwrap(),
    ] {
        assert!(
            rib.iter()
                .any(|r| r.prefix == IpNetwork::V4(range) && r.best),
            "no route for {range}: {rib:#?}"
        );
    }
    // The contract: checkout's endpoint on node-2 is ready, the one on node-1 is not.
    assert_eq!(
        lab.router_next_hops(plan::CHECKOUT_IP).unwrap(),
        expected(&["node-2"])
    );
    assert_eq!(
        lab.router_next_hops(cluster_ip_of_checkout()).unwrap(),
        expected(&["node-2"])
    );

    let contract = std::fs::read_to_string(lab.datastore().join(SERVICES)).unwrap();
    let mut latencies = Vec::new();
    for edit in 0..EDITS {
        let (text, owners): (String, &[&str]) = match edit % 2 {
            0 => (services_with_ready(&contract, true, false), &["node-1"]),
            _ => (services_with_ready(&contract, false, true), &["node-2"]),
        };
        let written = replace_file(lab.datastore(), SERVICES, &text);
        let changed = wait_next_hops(&lab, plan::CHECKOUT_IP, owners);
        latencies.push(changed - written);
        wait_next_hops(&lab, cluster_ip_of_checkout(), owners);
    }
    // Both ready: both nodes.
    replace_file(
        lab.datastore(),
        SERVICES,
        &services_with_ready(&contract, true, true),
    );
    wait_next_hops(&lab, plan::CHECKOUT_IP, &["node-1", "node-2"]);

    latencies.sort();
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    eprintln!(
        "EndpointSlice edit -> router /32 change over {EDITS} edits: median {:.0} ms, worst {:.0} ms, best {:.0} ms (file watch debounce 200 ms; load {})",
        latencies[EDITS / 2].as_secs_f64() * 1e3,
        latencies[EDITS - 1].as_secs_f64() * 1e3,
        latencies[0].as_secs_f64() * 1e3,
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
}

/// What must not move: the router's paths and session start times, and every ternd's peers.
fn observable_state(lab: &Lab) -> (BTreeSet<String>, Vec<String>, Vec<String>) {
    let routes = lab
        .router
        .rib()
        .unwrap()
        .into_iter()
        .map(|r| {
            format!(
                "{} via {} from {:?} {:?}",
                r.prefix, r.next_hop, r.from, r.as_path
            )
        })
        .collect();
    let sessions = lab
        .router
        .show_protocols()
        .unwrap()
        .lines()
        .filter(|line| line.contains(" BGP "))
        .map(str::to_string)
        .collect();
    let peers = lab
        .nodes
        .iter()
        .flat_map(|node| {
            let status = interop_tests::lab::api::node_status(&node.api_socket).unwrap();
            status.peers.into_iter().map(move |p| {
                format!(
                    "{} {} {:?} {:?}",
                    status.node,
                    p.address,
                    p.state(),
                    p.since
                )
            })
        })
        .collect();
    (routes, sessions, peers)
}

fn error_lines(log: &Path, from: usize) -> Vec<String> {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    text.get(from..)
        .unwrap_or_default()
        .lines()
        .filter(|line| line.contains("ERROR"))
        .map(str::to_string)
        .collect()
}

#[test]
fn malformed_manifest_changes_nothing_and_logs_one_error() {
    let lab = start_lab();
    let before = observable_state(&lab);
    let offsets: Vec<usize> = lab
        .nodes
        .iter()
        .map(|node| {
            std::fs::metadata(node.ternd.stderr_path())
                .map(|m| m.len() as usize)
                .unwrap_or(0)
        })
        .collect();

    // Checkout (document 3) with a port that is not a number, and its endpoints moved to
    // node-1: none of it may take effect.
    let contract = std::fs::read_to_string(lab.datastore().join(SERVICES)).unwrap();
    let bad = services_with_ready(&contract, true, false).replacen(
        "      port: 80\n      targetPort: 8080\n      nodePort: 30080",
        "      port: eighty\n      targetPort: 8080\n      nodePort: 30080",
        1,
    );
    assert_ne!(bad, services_with_ready(&contract, true, false));
    replace_file(lab.datastore(), SERVICES, &bad);

    for (node, offset) in lab.nodes.iter().zip(&offsets) {
        lab.wait(
            &format!("{} to report the bad file", node.plan.name),
            WAIT,
            || Ok((!error_lines(node.ternd.stderr_path(), *offset).is_empty()).then_some(())),
        )
        .unwrap();
    }
    // Anything the bad file could trigger would follow its error within the debounce.
    std::thread::sleep(Duration::from_millis(1500));
    let after = observable_state(&lab);
    assert_eq!(after.0, before.0, "router paths changed");
    assert_eq!(after.1, before.1, "router sessions changed");
    assert_eq!(after.2, before.2, "ternd peers changed");
    assert_eq!(
        lab.router_next_hops(plan::CHECKOUT_IP).unwrap(),
        expected(&["node-2"])
    );
    for (node, offset) in lab.nodes.iter().zip(&offsets) {
        let errors = error_lines(node.ternd.stderr_path(), *offset);
        assert_eq!(errors.len(), 1, "{}: {errors:#?}", node.plan.name);
        let error = &errors[0];
        for needle in [
            SERVICES,
            "document 3",
            "field spec.ports",
            "last good version",
        ] {
            assert!(error.contains(needle), "{needle:?} not in {error}");
        }
    }

    // Fixed: the edit now takes effect.
    replace_file(
        lab.datastore(),
        SERVICES,
        &services_with_ready(&contract, true, false),
    );
    wait_next_hops(&lab, plan::CHECKOUT_IP, &["node-1"]);
}
