//! calc table tests: identity, mesh, route reflection, each BGPPeer selector kind and the
//! session parameters.

mod common;

use std::net::{IpAddr, Ipv4Addr};

use common::{bgp_peer, config, node, secret, snapshot};
use tern_agent::calc::{CalcError, NodeIntent, PeerSource, calculate};
use tern_agent::model::AsNumber;

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

fn peer_addresses(intent: &NodeIntent) -> Vec<String> {
    intent.peers.iter().map(|p| p.address.to_string()).collect()
}

fn three_nodes() -> Vec<String> {
    vec![
        node("a", "198.18.0.1", &[], &[]),
        node("b", "198.18.0.2", &[], &[]),
        node("c", "198.18.0.3", &[], &[]),
    ]
}

#[test]
fn defaults_without_bgp_configuration() {
    let intent = calculate(&snapshot(&three_nodes()), "b").unwrap();
    assert_eq!(intent.asn, AsNumber(64512));
    assert_eq!(intent.listen_port, 179);
    assert_eq!(peer_addresses(&intent), ["198.18.0.1", "198.18.0.3"]);
    for peer in &intent.peers {
        assert_eq!(peer.source, PeerSource::NodeMesh);
        assert_eq!(peer.asn, AsNumber(64512));
        assert_eq!(peer.source_address, Some(ip("198.18.0.2")));
    }
    assert!(!intent.peer(ip("198.18.0.1")).unwrap().passive);
    assert!(intent.peer(ip("198.18.0.3")).unwrap().passive);
}

#[test]
fn mesh_table() {
    // (mesh setting, extra documents, node, expected peers)
    let reflector = node(
        "r",
        "198.18.0.9",
        &[("role", "rr")],
        &[("tern.dev/route-reflector-cluster-id", "1.0.0.1")],
    );
    let to_reflector = bgp_peer(
        "to-rr",
        "  peerSelector:\n    matchLabels:\n      role: rr\n",
    );
    let cases: Vec<(&str, Vec<String>, &str, Vec<&str>)> = vec![
        (
            "  nodeToNodeMeshEnabled: true\n",
            vec![],
            "a",
            vec!["198.18.0.2", "198.18.0.3"],
        ),
        ("  nodeToNodeMeshEnabled: false\n", vec![], "a", vec![]),
        (
            "  asNumber: 65100\n",
            vec![],
            "c",
            vec!["198.18.0.1", "198.18.0.2"],
        ),
        // A reflector takes no part in the mesh, and nobody meshes with it.
        (
            "  nodeToNodeMeshEnabled: true\n",
            vec![reflector.clone()],
            "r",
            vec![],
        ),
        (
            "  nodeToNodeMeshEnabled: true\n",
            vec![reflector.clone()],
            "a",
            vec!["198.18.0.2", "198.18.0.3"],
        ),
        // Clients of a reflector leave the mesh; the reflector peers with all of them.
        (
            "  nodeToNodeMeshEnabled: true\n",
            vec![reflector.clone(), to_reflector.clone()],
            "a",
            vec!["198.18.0.9"],
        ),
        (
            "  nodeToNodeMeshEnabled: true\n",
            vec![reflector, to_reflector],
            "r",
            vec!["198.18.0.1", "198.18.0.2", "198.18.0.3"],
        ),
    ];
    for (mesh, extra, name, expected) in cases {
        let mut documents = three_nodes();
        documents.push(config(mesh));
        documents.extend(extra.iter().cloned());
        let intent = calculate(&snapshot(&documents), name).unwrap();
        assert_eq!(
            peer_addresses(&intent),
            expected,
            "{mesh} {name} with {} extra",
            extra.len()
        );
    }
}

#[test]
fn node_annotation_overrides_the_as() {
    let documents = vec![
        config("  asNumber: 65100\n"),
        node("a", "198.18.0.1", &[], &[("tern.dev/as-number", "1.10")]),
        node("b", "198.18.0.2", &[], &[]),
    ];
    let snapshot = snapshot(&documents);
    let a = calculate(&snapshot, "a").unwrap();
    assert_eq!(a.asn, AsNumber(65546));
    assert_eq!(a.peers[0].asn, AsNumber(65100));
    let b = calculate(&snapshot, "b").unwrap();
    assert_eq!(b.asn, AsNumber(65100));
    assert_eq!(b.peers[0].asn, AsNumber(65546));
}

#[test]
fn identity_errors() {
    let internal_only = "apiVersion: v1\nkind: Node\nmetadata: {name: i}\nstatus:\n  addresses:\n    - {type: Hostname, address: i}\n    - {type: InternalIP, address: 2001:db8::7}\n    - {type: InternalIP, address: 198.18.0.7}\n".to_string();
    let no_ipv4 = "apiVersion: v1\nkind: Node\nmetadata: {name: v6}\nstatus:\n  addresses:\n    - {type: InternalIP, address: 2001:db8::8}\n".to_string();
    let bad_as = node("bad", "198.18.0.5", &[], &[("tern.dev/as-number", "sixty")]);
    let snapshot = snapshot(&[
        internal_only,
        no_ipv4,
        bad_as,
        node("a", "198.18.0.1", &[], &[]),
    ]);

    let intent = calculate(&snapshot, "i").unwrap();
    assert_eq!(intent.router_id, Ipv4Addr::new(198, 18, 0, 7));
    assert_eq!(intent.ipv6_address, Some("2001:db8::7".parse().unwrap()));
    assert!(matches!(
        calculate(&snapshot, "v6"),
        Err(CalcError::NoRouterId(_))
    ));
    let error = calculate(&snapshot, "bad").unwrap_err();
    assert!(
        error.to_string().contains("tern.dev/as-number=\"sixty\""),
        "{error}"
    );
    // Another node's bad annotation only drops that node.
    let a = calculate(&snapshot, "a").unwrap();
    assert!(!peer_addresses(&a).contains(&"198.18.0.5".to_string()));
    assert!(
        a.problems.iter().any(|p| p.contains("node bad")),
        "{:?}",
        a.problems
    );
}

#[test]
fn bgp_peer_selection_table() {
    let nodes = vec![
        config("  nodeToNodeMeshEnabled: false\n"),
        node("a", "198.18.0.1", &[("rack", "r1")], &[]),
        node("b", "198.18.0.2", &[("rack", "r2")], &[]),
        node("c", "198.18.0.3", &[("rack", "r2")], &[]),
    ];
    // (BGPPeer spec, expected peers of a, b, c)
    let cases: Vec<(&str, [Vec<&str>; 3])> = vec![
        // global
        (
            "  peerIP: 198.18.0.254\n  asNumber: 65000\n",
            [
                vec!["198.18.0.254"],
                vec!["198.18.0.254"],
                vec!["198.18.0.254"],
            ],
        ),
        // node
        (
            "  node: b\n  peerIP: 198.18.0.254\n  asNumber: 65000\n",
            [vec![], vec!["198.18.0.254"], vec![]],
        ),
        // nodeSelector
        (
            "  nodeSelector:\n    matchLabels: {rack: r2}\n  peerIP: 198.18.0.254\n  asNumber: 65000\n",
            [vec![], vec!["198.18.0.254"], vec!["198.18.0.254"]],
        ),
        (
            "  nodeSelector:\n    matchExpressions:\n      - {key: rack, operator: NotIn, values: [r2]}\n  peerIP: 198.18.0.254\n  asNumber: 65000\n",
            [vec!["198.18.0.254"], vec![], vec![]],
        ),
        // peerSelector: forward on a, reverse on b and c
        (
            "  node: a\n  peerSelector:\n    matchLabels: {rack: r2}\n",
            [
                vec!["198.18.0.2", "198.18.0.3"],
                vec!["198.18.0.1"],
                vec!["198.18.0.1"],
            ],
        ),
        // peerIP naming another node: the reverse side is configured too
        (
            "  node: a\n  peerIP: 198.18.0.3\n  asNumber: 64512\n",
            [vec!["198.18.0.3"], vec![], vec!["198.18.0.1"]],
        ),
        // ... but not when the AS does not match that node
        (
            "  node: a\n  peerIP: 198.18.0.3\n  asNumber: 65000\n",
            [vec!["198.18.0.3"], vec![], vec![]],
        ),
        // an explicit port
        (
            "  node: a\n  peerIP: 198.18.0.254:1179\n  asNumber: 65000\n",
            [vec!["198.18.0.254"], vec![], vec![]],
        ),
    ];
    for (spec, expected) in cases {
        let mut documents = nodes.clone();
        documents.push(bgp_peer("p", spec));
        let snapshot = snapshot(&documents);
        for (name, expected) in ["a", "b", "c"].into_iter().zip(expected) {
            let intent = calculate(&snapshot, name).unwrap();
            assert!(intent.problems.is_empty(), "{:?}", intent.problems);
            assert_eq!(
                peer_addresses(&intent),
                expected,
                "node {name} with\n{spec}"
            );
        }
    }
}

#[test]
fn peer_ip_forms() {
    let documents = vec![
        config("  nodeToNodeMeshEnabled: false\n  listenPort: 1790\n"),
        node(
            "a",
            "198.18.0.1",
            &[],
            &[("tern.dev/bgp-ipv6-address", "2001:db8:18::1/64")],
        ),
        bgp_peer(
            "v4-port",
            "  peerIP: 198.18.0.254:1179\n  asNumber: 65000\n",
        ),
        bgp_peer("v6", "  peerIP: 2001:db8:18::fe\n  asNumber: 65000\n"),
        bgp_peer(
            "v6-port",
            "  peerIP: \"[2001:db8:18::fd]:1179\"\n  asNumber: 65000\n",
        ),
    ];
    let intent = calculate(&snapshot(&documents), "a").unwrap();
    assert_eq!(intent.listen_port, 1790);
    let ports: Vec<(String, u16)> = intent
        .peers
        .iter()
        .map(|p| (p.address.to_string(), p.port))
        .collect();
    assert_eq!(
        ports,
        [
            ("198.18.0.254".to_string(), 1179),
            ("2001:db8:18::fd".to_string(), 1179),
            ("2001:db8:18::fe".to_string(), 179)
        ]
    );
    let v6 = intent.peer(ip("2001:db8:18::fe")).unwrap();
    assert_eq!(v6.source_address, Some(ip("2001:db8:18::1")));
}

#[test]
fn dual_stack_nodes_peer_over_both_families() {
    fn v6(address: &str) -> [(&str, &str); 1] {
        [("tern.dev/bgp-ipv6-address", address)]
    }
    let documents = vec![
        node("a", "198.18.0.1", &[], &v6("2001:db8:18::1/64")),
        node("b", "198.18.0.2", &[], &v6("2001:db8:18::2/64")),
        node("c", "198.18.0.3", &[], &[]),
    ];
    let intent = calculate(&snapshot(&documents), "a").unwrap();
    assert_eq!(
        peer_addresses(&intent),
        ["198.18.0.2", "198.18.0.3", "2001:db8:18::2"]
    );
}

#[test]
fn a_node_without_an_ipv6_address_has_no_ipv6_sessions() {
    let documents = vec![
        node(
            "a",
            "198.18.0.1",
            &[],
            &[("tern.dev/bgp-ipv6-address", "2001:db8:18::1/64")],
        ),
        node("c", "198.18.0.3", &[], &[]),
        bgp_peer("tor4", "  peerIP: 198.18.0.254\n  asNumber: 65000\n"),
        bgp_peer("tor6", "  peerIP: 2001:db8:18::fe\n  asNumber: 65000\n"),
    ];
    let snapshot = snapshot(&documents);
    let dual_stack = calculate(&snapshot, "a").unwrap();
    assert_eq!(
        peer_addresses(&dual_stack),
        ["198.18.0.3", "198.18.0.254", "2001:db8:18::fe"]
    );
    assert!(dual_stack.problems.is_empty(), "{:?}", dual_stack.problems);
    let ipv4_only = calculate(&snapshot, "c").unwrap();
    assert_eq!(peer_addresses(&ipv4_only), ["198.18.0.1", "198.18.0.254"]);
    assert_eq!(
        ipv4_only.problems,
        ["BGPPeer tor6: node c has no IPv6 address; session to 2001:db8:18::fe not configured"]
    );
}

#[test]
fn invalid_bgp_peers_are_reported_and_ignored() {
    let cases = [
        (
            "  node: a\n  nodeSelector: {}\n  peerIP: 198.18.0.254\n  asNumber: 1\n",
            "both node and nodeSelector",
        ),
        ("  asNumber: 1\n", "neither peerIP nor peerSelector"),
        (
            "  peerIP: 198.18.0.254\n  peerSelector: {}\n  asNumber: 1\n",
            "both peerIP and peerSelector",
        ),
        ("  peerIP: 198.18.0.254\n", "peerIP needs asNumber"),
        ("  peerIP: router-1\n  asNumber: 1\n", "is not IP"),
        (
            "  peerSelector:\n    matchExpressions:\n      - {key: k, operator: Near}\n",
            "unknown selector operator \"Near\"",
        ),
    ];
    for (spec, expected) in cases {
        let documents = vec![
            config("  nodeToNodeMeshEnabled: false\n"),
            node("a", "198.18.0.1", &[], &[]),
            bgp_peer("broken", spec),
        ];
        let intent = calculate(&snapshot(&documents), "a").unwrap();
        assert!(intent.peers.is_empty(), "{spec}");
        assert_eq!(intent.problems.len(), 1, "{spec}");
        assert!(
            intent.problems[0].contains("BGPPeer broken") && intent.problems[0].contains(expected),
            "{:?}",
            intent.problems
        );
    }
}

#[test]
fn global_peering_wins_over_node_specific_to_the_same_address() {
    let documents = vec![
        config("  nodeToNodeMeshEnabled: false\n"),
        node("a", "198.18.0.1", &[], &[]),
        bgp_peer(
            "a-specific",
            "  node: a\n  peerIP: 198.18.0.254\n  asNumber: 65000\n  ttlSecurity: 2\n",
        ),
        bgp_peer("z-global", "  peerIP: 198.18.0.254\n  asNumber: 65000\n"),
    ];
    let intent = calculate(&snapshot(&documents), "a").unwrap();
    assert_eq!(intent.peers.len(), 1);
    assert_eq!(
        intent.peers[0].source,
        PeerSource::Global {
            bgp_peer: "z-global".into()
        }
    );
    assert_eq!(intent.peers[0].ttl_security, None);
}

#[test]
fn route_reflector_client_table() {
    let reflector = |name: &str, ip: &str, cluster: &str| {
        node(
            name,
            ip,
            &[("role", "rr")],
            &[("tern.dev/route-reflector-cluster-id", cluster)],
        )
    };
    let documents = vec![
        config("  nodeToNodeMeshEnabled: false\n"),
        reflector("r1", "198.18.0.21", "1.0.0.1"),
        reflector("r2", "198.18.0.22", "1.0.0.1"),
        reflector("r3", "198.18.0.23", "1.0.0.3"),
        node("client", "198.18.0.5", &[], &[]),
        node(
            "other-as",
            "198.18.0.6",
            &[],
            &[("tern.dev/as-number", "65009")],
        ),
        bgp_peer("to-rr", "  peerSelector:\n    matchLabels: {role: rr}\n"),
        bgp_peer(
            "external",
            "  node: r1\n  peerIP: 198.18.0.254\n  asNumber: 64512\n",
        ),
    ];
    let intent = calculate(&snapshot(&documents), "r1").unwrap();
    let clients: Vec<(String, bool)> = intent
        .peers
        .iter()
        .map(|p| (p.address.to_string(), p.route_reflector_client))
        .collect();
    assert_eq!(
        clients,
        [
            ("198.18.0.5".to_string(), true),
            ("198.18.0.6".to_string(), false),  // eBGP
            ("198.18.0.22".to_string(), false), // same cluster ID
            ("198.18.0.23".to_string(), true),  // another cluster
            ("198.18.0.254".to_string(), true), // iBGP router outside the cluster
        ]
    );
    assert_eq!(
        intent.route_reflector_cluster_id,
        Some(Ipv4Addr::new(1, 0, 0, 1))
    );
}

#[test]
fn session_parameters_from_the_bgp_peer() {
    let documents = vec![
        config("  nodeToNodeMeshEnabled: false\n"),
        node("a", "198.18.0.1", &[], &[]),
        secret("pw", "k", "hunter2"),
        "apiVersion: v1\nkind: Secret\nmetadata: {name: b64, namespace: kube-system}\ndata:\n  k: aHVudGVyMw==\n".to_string(),
        bgp_peer("ebgp", "  peerIP: 198.18.0.254\n  asNumber: 65000\n  keepOriginalNextHop: true\n  sourceAddress: None\n  keepaliveTime: 10s\n  password:\n    secretKeyRef: {name: pw, key: k}\n"),
        bgp_peer("ibgp", "  peerIP: 198.18.0.253\n  asNumber: 64512\n  keepOriginalNextHop: true\n  password:\n    secretKeyRef: {name: b64, key: k}\n"),
        bgp_peer("no-secret", "  peerIP: 198.18.0.252\n  asNumber: 65000\n  password:\n    secretKeyRef: {name: missing, key: k}\n"),
        bgp_peer("no-filter", "  peerIP: 198.18.0.251\n  asNumber: 65000\n  filters: [absent, invalid]\n"),
        "apiVersion: tern.dev/v1alpha1\nkind: BGPFilter\nmetadata: {name: invalid}\nspec:\n  importV4:\n    - {action: Reject, cidr: 198.19.0.0/16}\n".to_string(),
    ];
    let intent = calculate(&snapshot(&documents), "a").unwrap();
    let ebgp = intent.peer(ip("198.18.0.254")).unwrap();
    assert!(ebgp.keep_original_next_hop);
    assert_eq!(ebgp.source_address, None);
    assert_eq!(
        ebgp.keepalive_time,
        Some(std::time::Duration::from_secs(10))
    );
    assert_eq!(ebgp.password.as_ref().unwrap().0, "hunter2");
    let ibgp = intent.peer(ip("198.18.0.253")).unwrap();
    assert!(!ibgp.keep_original_next_hop, "only for eBGP");
    assert_eq!(ibgp.password.as_ref().unwrap().0, "hunter3");
    assert!(
        intent.peer(ip("198.18.0.252")).is_none(),
        "no session without its password"
    );
    assert!(intent.peer(ip("198.18.0.251")).unwrap().filters.is_empty());
    assert_eq!(intent.problems.len(), 3, "{:?}", intent.problems);
    assert!(
        intent
            .problems
            .iter()
            .any(|p| p.contains("BGPFilter absent does not exist"))
    );
    assert!(
        intent.problems.iter().any(|p| {
            p.contains("BGPFilter invalid: spec.importV4[0]: cidr needs matchOperator")
        })
    );
    assert!(
        intent
            .problems
            .iter()
            .any(|p| p.contains("Secret kube-system/missing does not exist"))
    );
}

#[test]
fn mesh_sessions_use_mesh_password_and_restart_time() {
    let mut documents = three_nodes();
    documents.push(config("  nodeMeshMaxRestartTime: 90s\n  nodeMeshPassword:\n    secretKeyRef: {name: mesh, key: password}\n"));
    documents.push(secret("mesh", "password", "m3sh"));
    let intent = calculate(&snapshot(&documents), "a").unwrap();
    assert_eq!(intent.peers.len(), 2);
    for peer in &intent.peers {
        assert_eq!(peer.password.as_ref().unwrap().0, "m3sh");
        assert_eq!(
            peer.max_restart_time,
            Some(std::time::Duration::from_secs(90))
        );
    }
}
