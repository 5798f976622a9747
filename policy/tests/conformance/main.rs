//! NetworkPolicy conformance on real traffic, modelled on the Kubernetes e2e netpol suite:
//! namespaces x, y, z with pods a, b, c over two dual-stack nodes (see [`cluster`]), tern's
//! table in each node namespace, and for every case a probe of all
//! {IPv4, IPv6} × 9 × 9 × {80, 81} × {TCP, UDP} = 648 flows (IPv4 → IPv4 and IPv6 → IPv6
//! between the pods' addresses) compared with the truth table of the independent oracle
//! (`tests/oracle`, written from the spec text). Counts are reported per family. A pod
//! probing itself never leaves its namespace, so those probes are expected to
//! pass (upstream's `AllowLoopback`). The topology is built once; cases change the objects and
//! each node's programmer reconciles (incrementally after the first).
//!
//! Probes run concurrently with a short timeout; a probe that failed although the oracle allows
//! it is retried once with a long timeout, so a busy machine cannot fail the suite, while a probe
//! that passed although the oracle denies it is a mismatch at once.

mod cluster;
#[path = "../common/mod.rs"]
mod common;
#[path = "../netns/mod.rs"]
mod netns;
#[path = "../oracle/mod.rs"]
mod oracle;
mod probe;

use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{Namespace, Pod};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use oracle::{Flow, Oracle};
use policy::{ApplyKind, NftCommand, PolicyInput, PolicyProgrammer, compile};
use serde_json::json;

use cluster::{Cluster, Family, PODS};
use probe::Probe;

const FIRST_TIMEOUT: Duration = Duration::from_millis(300);
const RETRY_TIMEOUT: Duration = Duration::from_secs(2);

/// Container ports of pod `name`: the same name maps to different numbers on different pods,
/// and pod c serves no `serve-web` at all.
fn ports_of(name: &str) -> Vec<(&'static str, &'static str, u16)> {
    match name {
        "a" => vec![("serve-web", "TCP", 80), ("serve-dns", "UDP", 81)],
        "b" => vec![("serve-web", "TCP", 81), ("serve-dns", "UDP", 80)],
        _ => vec![("serve-dns", "UDP", 80), ("other", "TCP", 81)],
    }
}

/// Probes and mismatches of one case, per family.
#[derive(Clone, Copy, Default)]
struct Counts {
    probes: [usize; 2],
    mismatches: [usize; 2],
}

impl Counts {
    fn mismatches(&self) -> usize {
        self.mismatches.iter().sum()
    }
}

/// What one case observed.
struct Outcome {
    expected: Vec<bool>,
    observed: Vec<bool>,
}

struct Suite {
    cluster: Cluster,
    pods: Vec<Pod>,
    namespaces: Vec<Namespace>,
    policies: Vec<NetworkPolicy>,
    programmers: Vec<PolicyProgrammer<NftCommand>>,
    probes: Vec<Probe>,
    report: Vec<(String, Counts)>,
}

impl Suite {
    fn new() -> Suite {
        let cluster = Cluster::new();
        let mut pods = Vec::new();
        for host in &cluster.pods {
            let (namespace, name) = host.id.split_once('/').unwrap();
            pods.push(common::pod(
                namespace,
                name,
                &cluster.nodes[host.node].name,
                &[&host.v4.to_string(), &host.v6.to_string()],
                json!({"pod": name}),
                &ports_of(name),
            ));
        }
        let namespaces = ["x", "y", "z"]
            .iter()
            .map(|name| common::namespace(name, json!({"ns": name})))
            .collect();
        let programmers = cluster
            .nodes
            .iter()
            .map(|node| PolicyProgrammer::new(NftCommand::in_netns(&node.netns.name)))
            .collect();
        Suite {
            probes: probe::matrix(cluster.pods.len()),
            cluster,
            pods,
            namespaces,
            policies: Vec::new(),
            programmers,
            report: Vec::new(),
        }
    }

    fn address(&self, id: &str, family: Family) -> String {
        self.cluster.pod(id).address(family).to_string()
    }

    fn set_policies(&mut self, yaml: &[&str]) {
        self.policies = yaml.iter().map(|text| common::policy(text)).collect();
    }

    fn pod_labels(&mut self, id: &str, labels: serde_json::Value) {
        let (namespace, name) = id.split_once('/').unwrap();
        let pod = self
            .pods
            .iter_mut()
            .find(|p| {
                p.metadata.namespace.as_deref() == Some(namespace)
                    && p.metadata.name.as_deref() == Some(name)
            })
            .unwrap();
        pod.metadata.labels = serde_json::from_value(labels).unwrap();
    }

    fn namespace_labels(&mut self, name: &str, labels: serde_json::Value) {
        let namespace = self
            .namespaces
            .iter_mut()
            .find(|n| n.metadata.name.as_deref() == Some(name))
            .unwrap();
        namespace.metadata.labels = serde_json::from_value(labels).unwrap();
    }

    /// Program both nodes, probe everything, compare with the oracle.
    fn check(&mut self, case: &str) -> Outcome {
        let started = Instant::now();
        let mut applied = Vec::new();
        for (node, programmer) in self.cluster.nodes.iter().zip(&mut self.programmers) {
            let input = PolicyInput {
                node_name: node.name.clone(),
                node_addresses: node.addresses(),
                pods: self.pods.clone(),
                namespaces: self.namespaces.clone(),
                policies: self.policies.clone(),
            };
            let compiled = compile(&input);
            assert!(
                compiled.diagnostics.is_empty(),
                "{case}: {:?}",
                compiled.diagnostics
            );
            let kind = programmer
                .reconcile(compiled.ir)
                .unwrap_or_else(|e| panic!("{case}: applying on {}: {e}", node.name));
            applied.push(match kind {
                ApplyKind::Unchanged => "=".to_string(),
                ApplyKind::Incremental { commands } => format!("+{commands}"),
                ApplyKind::Full => "full".to_string(),
            });
        }
        let oracle = Oracle {
            pods: &self.pods,
            namespaces: &self.namespaces,
            policies: &self.policies,
        };
        let expected: Vec<bool> = self
            .probes
            .iter()
            .map(|probe| {
                let flow = Flow {
                    source: self.cluster.pods[probe.from].address(probe.family),
                    destination: self.cluster.pods[probe.to].address(probe.family),
                    protocol: probe.protocol,
                    port: probe.port,
                };
                probe.from == probe.to
                    || (oracle.egress_allows(&flow) && oracle.ingress_allows(&flow))
            })
            .collect();
        let mut observed = probe::run(&self.cluster, &self.probes, FIRST_TIMEOUT);
        let retry: Vec<usize> = (0..self.probes.len())
            .filter(|i| expected[*i] && !observed[*i])
            .collect();
        if !retry.is_empty() {
            let again: Vec<Probe> = retry.iter().map(|i| self.probes[*i]).collect();
            for (index, passed) in
                retry
                    .iter()
                    .zip(probe::run(&self.cluster, &again, RETRY_TIMEOUT))
            {
                observed[*index] = passed;
            }
        }
        let mut counts = Counts::default();
        let mut mismatches = Vec::new();
        for (index, probe) in self.probes.iter().enumerate() {
            let family = probe.family as usize;
            counts.probes[family] += 1;
            if expected[index] != observed[index] {
                counts.mismatches[family] += 1;
                mismatches.push(format!(
                    "    {} {} -> {} {}/{}: expected {}, observed {}",
                    probe.family.name(),
                    PODS[probe.from],
                    PODS[probe.to],
                    probe.protocol,
                    probe.port,
                    verdict(expected[index]),
                    verdict(observed[index])
                ));
            }
        }
        let allowed = expected.iter().filter(|e| **e).count();
        println!(
            "case {case:<44} probes {:>3}  mismatches v4 {:>2} v6 {:>2}  (expected allowed {allowed:>3}, re-probed {:>2}, nft {}, {:>4} ms)",
            self.probes.len(),
            counts.mismatches[0],
            counts.mismatches[1],
            retry.len(),
            applied.join("/"),
            started.elapsed().as_millis()
        );
        for line in mismatches.iter().take(24) {
            println!("{line}");
        }
        self.report.push((case.to_string(), counts));
        Outcome { expected, observed }
    }
}

fn verdict(passed: bool) -> &'static str {
    if passed { "allowed" } else { "denied" }
}

const DENY_IN_X: &str = "metadata: {name: deny-in, namespace: x}
spec: {podSelector: {}, policyTypes: [Ingress]}";
const DENY_OUT_Y: &str = "metadata: {name: deny-out, namespace: y}
spec: {podSelector: {}, policyTypes: [Egress]}";

#[test]
fn conformance_on_real_traffic() {
    let started = Instant::now();
    let mut suite = Suite::new();
    println!(
        "topology ready in {} ms: {} pods on {} nodes",
        started.elapsed().as_millis(),
        suite.cluster.pods.len(),
        suite.cluster.nodes.len()
    );
    cases::selectors(&mut suite);
    cases::blocks_and_ports(&mut suite);
    cases::stacking_and_changes(&mut suite);

    let total = suite
        .report
        .iter()
        .fold(Counts::default(), |mut total, (_, counts)| {
            for family in 0..2 {
                total.probes[family] += counts.probes[family];
                total.mismatches[family] += counts.mismatches[family];
            }
            total
        });
    let cases = suite.report.len();
    let per_case = suite.probes.len();
    println!(
        "conformance: {cases} cases × {per_case} probes (v4 {}, v6 {}) = {} probes, {} mismatches (v4 {}, v6 {}), {} s",
        total.probes[0],
        total.probes[1],
        total.probes.iter().sum::<usize>(),
        total.mismatches(),
        total.mismatches[0],
        total.mismatches[1],
        started.elapsed().as_secs()
    );
    let failed: Vec<&str> = suite
        .report
        .iter()
        .filter(|(_, counts)| counts.mismatches() > 0)
        .map(|(case, _)| case.as_str())
        .collect();
    assert!(failed.is_empty(), "cases with mismatches: {failed:?}");
}

mod cases;
