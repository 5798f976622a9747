//! calc table tests: which prefixes a node originates, and with which communities.

mod common;

use common::{config, node, snapshot, with_pod_cidrs};
use ipnetwork::IpNetwork;
use tern_agent::calc::{Community, NodeIntent, calculate};

const RANGES: &str = "  serviceClusterIPs:\n    - cidr: 198.19.240.0/20\n    - cidr: 2001:db8:240::/112\n  serviceExternalIPs:\n    - cidr: 203.0.113.0/24\n  serviceLoadBalancerIPs:\n    - cidr: 198.51.100.0/25\n";

fn prefixes(intent: &NodeIntent) -> Vec<String> {
    intent
        .advertisements
        .iter()
        .map(|a| a.prefix.to_string())
        .collect()
}

/// Prefixes beyond the configured ranges (the ranges themselves always appear).
fn single_addresses(intent: &NodeIntent) -> Vec<String> {
    prefixes(intent)
        .into_iter()
        .filter(|p| p.ends_with("/32") || p.ends_with("/128"))
        .collect()
}

fn service(name: &str, spec: &str, ingress: &[&str]) -> String {
    let mut text = format!(
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: {name}\n  namespace: shop\nspec:\n{spec}"
    );
    if !ingress.is_empty() {
        text.push_str("status:\n  loadBalancer:\n    ingress:\n");
        for ip in ingress {
            text.push_str(&format!("      - ip: {ip}\n"));
        }
    }
    text
}

fn slice(
    name: &str,
    service: &str,
    family: &str,
    endpoints: &[(&str, &str, Option<bool>)],
) -> String {
    let mut text = format!(
        "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata:\n  name: {name}\n  namespace: shop\n  labels:\n    kubernetes.io/service-name: {service}\naddressType: {family}\nendpoints:\n"
    );
    for (address, node, ready) in endpoints {
        text.push_str(&format!(
            "  - addresses: [\"{address}\"]\n    nodeName: {node}\n"
        ));
        if let Some(ready) = ready {
            text.push_str(&format!("    conditions:\n      ready: {ready}\n"));
        }
    }
    text
}

fn nodes() -> Vec<String> {
    vec![
        with_pod_cidrs(
            node("a", "198.18.0.1", &[], &[]),
            &["198.19.1.0/24", "2001:db8:42:1::/64"],
        ),
        with_pod_cidrs(node("b", "198.18.0.2", &[], &[]), &["198.19.2.0/24"]),
    ]
}

const LOCAL_LB: &str = "  type: LoadBalancer\n  clusterIP: 198.19.240.20\n  externalTrafficPolicy: Local\n  externalIPs: [203.0.113.20, 192.0.2.20]\n";

#[test]
fn ranges_and_pod_cidrs_from_every_node() {
    let mut documents = nodes();
    documents.push(config(RANGES));
    let snapshot = snapshot(&documents);
    let a = calculate(&snapshot, "a").unwrap();
    assert_eq!(
        prefixes(&a),
        [
            "198.19.1.0/24",
            "198.19.240.0/20",
            "198.51.100.0/25",
            "203.0.113.0/24",
            "2001:db8:42:1::/64",
            "2001:db8:240::/112"
        ]
    );
    let b = calculate(&snapshot, "b").unwrap();
    assert_eq!(prefixes(&b)[0], "198.19.2.0/24");
    assert_eq!(b.advertisements.len(), 5);
}

/// Service spec, LB ingress IPs, EndpointSlices, expected single addresses on node a.
type LocalServiceCase = (
    &'static str,
    Vec<&'static str>,
    Vec<String>,
    Vec<&'static str>,
);

#[test]
fn local_service_table() {
    // (service spec, LB ingress, endpoint slices, expected single addresses on node a)
    let ready_on_a = slice("s1", "svc", "IPv4", &[("198.19.1.9", "a", Some(true))]);
    let cases: Vec<LocalServiceCase> = vec![
        // Ready local endpoint: cluster IP, the external IP inside the range, the LB IP inside.
        (
            LOCAL_LB,
            vec!["198.51.100.20", "198.51.100.200"],
            vec![ready_on_a.clone()],
            vec!["198.19.240.20/32", "198.51.100.20/32", "203.0.113.20/32"],
        ),
        // An unset `ready` counts as ready.
        (
            LOCAL_LB,
            vec![],
            vec![slice("s1", "svc", "IPv4", &[("198.19.1.9", "a", None)])],
            vec!["198.19.240.20/32", "203.0.113.20/32"],
        ),
        // Not ready, or on another node: nothing.
        (
            LOCAL_LB,
            vec!["198.51.100.20"],
            vec![slice(
                "s1",
                "svc",
                "IPv4",
                &[("198.19.1.9", "a", Some(false))],
            )],
            vec![],
        ),
        (
            LOCAL_LB,
            vec!["198.51.100.20"],
            vec![slice(
                "s1",
                "svc",
                "IPv4",
                &[("198.19.2.9", "b", Some(true))],
            )],
            vec![],
        ),
        // A slice of another Service does not count.
        (
            LOCAL_LB,
            vec![],
            vec![slice(
                "s1",
                "other",
                "IPv4",
                &[("198.19.1.9", "a", Some(true))],
            )],
            vec![],
        ),
        // Cluster policy: the ranges cover it; no single addresses.
        (
            "  type: LoadBalancer\n  clusterIP: 198.19.240.20\n  externalTrafficPolicy: Cluster\n",
            vec!["198.51.100.20"],
            vec![ready_on_a.clone()],
            vec![],
        ),
        // Headless and ExternalName Services are never advertised.
        (
            "  type: ClusterIP\n  clusterIP: None\n  externalTrafficPolicy: Local\n",
            vec![],
            vec![ready_on_a.clone()],
            vec![],
        ),
        (
            "  type: ExternalName\n  externalName: example.com\n  externalTrafficPolicy: Local\n",
            vec![],
            vec![ready_on_a.clone()],
            vec![],
        ),
        // IPv6: a /128, from an IPv6 slice only.
        (
            "  type: NodePort\n  clusterIP: 2001:db8:240::20\n  clusterIPs: [2001:db8:240::20]\n  externalTrafficPolicy: Local\n",
            vec![],
            vec![slice(
                "s6",
                "svc",
                "IPv6",
                &[("2001:db8:42:1::9", "a", Some(true))],
            )],
            vec!["2001:db8:240::20/128"],
        ),
        (
            "  type: NodePort\n  clusterIP: 2001:db8:240::20\n  externalTrafficPolicy: Local\n",
            vec![],
            vec![ready_on_a],
            vec![],
        ),
    ];
    for (spec, ingress, slices, expected) in cases {
        let mut documents = nodes();
        documents.push(config(RANGES));
        documents.push(service("svc", spec, &ingress));
        documents.extend(slices.iter().cloned());
        let intent = calculate(&snapshot(&documents), "a").unwrap();
        assert!(intent.problems.is_empty(), "{:?}", intent.problems);
        assert_eq!(
            single_addresses(&intent),
            expected,
            "{spec} {ingress:?} {slices:?}"
        );
    }
}

#[test]
fn cluster_ip_needs_service_cluster_ips() {
    let mut documents = nodes();
    documents.push(config(
        "  serviceLoadBalancerIPs:\n    - cidr: 198.51.100.0/24\n",
    ));
    documents.push(service("svc", LOCAL_LB, &["198.51.100.20"]));
    documents.push(slice(
        "s1",
        "svc",
        "IPv4",
        &[("198.19.1.9", "a", Some(true))],
    ));
    let intent = calculate(&snapshot(&documents), "a").unwrap();
    assert_eq!(single_addresses(&intent), ["198.51.100.20/32"]);
}

#[test]
fn excluded_node_advertises_no_service_addresses() {
    let mut documents = vec![with_pod_cidrs(
        node(
            "a",
            "198.18.0.1",
            &[(
                "node.kubernetes.io/exclude-from-external-load-balancers",
                "true",
            )],
            &[],
        ),
        &["198.19.1.0/24"],
    )];
    documents.push(config(RANGES));
    documents.push(service("svc", LOCAL_LB, &["198.51.100.20"]));
    documents.push(slice(
        "s1",
        "svc",
        "IPv4",
        &[("198.19.1.9", "a", Some(true))],
    ));
    let intent = calculate(&snapshot(&documents), "a").unwrap();
    assert_eq!(prefixes(&intent), ["198.19.1.0/24"]);
}

#[test]
fn unexported_pool_hides_pod_cidr() {
    let mut documents = nodes();
    documents.push("apiVersion: tern.dev/v1alpha1\nkind: IPPool\nmetadata: {name: hidden}\nspec:\n  cidr: 198.19.0.0/17\n  disableBGPExport: true\n".to_string());
    let intent = calculate(&snapshot(&documents), "a").unwrap();
    assert_eq!(prefixes(&intent), ["2001:db8:42:1::/64"]);
}

#[test]
fn communities_by_name_and_value() {
    let spec = format!(
        "{RANGES}  communities:\n    - {{name: gold, value: \"65000:1\"}}\n    - {{name: broken, value: \"x:y\"}}\n  prefixAdvertisements:\n    - cidr: 198.19.0.0/16\n      communities: [gold, \"65000:2:3\"]\n    - cidr: 198.19.1.0/24\n      communities: [\"65000:9\", unknown, broken]\n"
    );
    let mut documents = nodes();
    documents.push(config(&spec));
    let intent = calculate(&snapshot(&documents), "a").unwrap();
    let communities = |prefix: &str| -> Vec<Community> {
        let prefix: IpNetwork = prefix.parse().unwrap();
        intent
            .advertisement(prefix)
            .unwrap()
            .communities
            .iter()
            .copied()
            .collect()
    };
    assert_eq!(
        communities("198.19.1.0/24"),
        [
            Community::Standard(65000, 1),
            Community::Standard(65000, 9),
            Community::Large(65000, 2, 3)
        ]
    );
    assert_eq!(
        communities("198.19.240.0/20"),
        [Community::Standard(65000, 1), Community::Large(65000, 2, 3)]
    );
    assert!(communities("203.0.113.0/24").is_empty());
    assert!(communities("2001:db8:42:1::/64").is_empty());
    assert_eq!(intent.problems.len(), 2, "{:?}", intent.problems);
}
