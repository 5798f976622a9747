//! Peer semantics: selectors (AND within a peer, OR across peers, nil vs {}), match
//! expressions, ipBlock with except, hostNetwork pods, live label changes.

mod common;

use common::*;
use serde_json::json;

const TO_X_A: &str = "metadata: {name: p, namespace: x}\nspec:\n  podSelector: {matchLabels: {pod: a}}\n  ingress:\n";

fn into_x_a(from: &str) -> World {
    World::xyz().with(&format!("{TO_X_A}  - from: {from}"))
}

#[test]
fn namespace_and_pod_selector_in_one_peer_are_anded() {
    let compiled = into_x_a(
        "[{namespaceSelector: {matchLabels: {ns: y}}, podSelector: {matchLabels: {pod: b}}}]",
    )
    .compile();
    assert!(tcp(&compiled, "y/b", "x/a", 80));
    assert!(
        !tcp(&compiled, "y/c", "x/a", 80),
        "right namespace, wrong pod"
    );
    assert!(
        !tcp(&compiled, "z/b", "x/a", 80),
        "right pod, wrong namespace"
    );
    assert!(
        !tcp(&compiled, "x/b", "x/a", 80),
        "own namespace not implied"
    );
}

#[test]
fn separate_peers_are_ored() {
    let compiled = into_x_a(
        "[{namespaceSelector: {matchLabels: {ns: y}}}, {podSelector: {matchLabels: {pod: b}}}]",
    )
    .compile();
    assert!(tcp(&compiled, "y/c", "x/a", 80), "any pod of y");
    assert!(
        tcp(&compiled, "x/b", "x/a", 80),
        "pod b of the policy's namespace"
    );
    assert!(!tcp(&compiled, "z/b", "x/a", 80), "pod b elsewhere is not");
}

#[test]
fn nil_and_empty_selectors_differ() {
    // podSelector alone: the policy's namespace only.
    let own = into_x_a("[{podSelector: {}}]").compile();
    assert!(tcp(&own, "x/c", "x/a", 80));
    assert!(!tcp(&own, "y/a", "x/a", 80));
    // namespaceSelector {} alone: every pod of every namespace, but not outside addresses.
    let all = into_x_a("[{namespaceSelector: {}}]").compile();
    for pod in PODS.iter().filter(|p| **p != "x/a") {
        assert!(tcp(&all, pod, "x/a", 80), "{pod}");
    }
    assert!(!tcp(&all, EXTERNAL, "x/a", 80));
    // Both empty: same as namespaceSelector {}.
    let both = into_x_a("[{namespaceSelector: {}, podSelector: {}}]").compile();
    assert!(tcp(&both, "z/c", "x/a", 80));
}

#[test]
fn match_expressions_select_targets_and_peers() {
    let compiled = World::xyz()
        .with(
            "metadata: {name: p, namespace: x}
spec:
  podSelector: {matchExpressions: [{key: pod, operator: NotIn, values: [a]}]}
  ingress:
    - from:
        - namespaceSelector: {matchExpressions: [{key: ns, operator: In, values: [y, z]}]}
          podSelector: {matchExpressions: [{key: pod, operator: Exists}, {key: team, operator: DoesNotExist}]}",
        )
        .compile();
    assert!(
        tcp(&compiled, "y/a", "x/a", 80),
        "x/a is not selected (NotIn)"
    );
    assert!(
        !tcp(&compiled, "x/a", "x/b", 80),
        "x/b is selected; x is not In [y, z]"
    );
    assert!(tcp(&compiled, "z/c", "x/b", 80));
}

#[test]
fn ip_block_matches_pod_addresses_too() {
    let compiled = into_x_a("[{ipBlock: {cidr: 198.19.2.0/24}}]").compile();
    assert!(
        tcp(&compiled, "y/b", "x/a", 80),
        "y/b lives in 198.19.2.0/24"
    );
    assert!(!tcp(&compiled, "x/b", "x/a", 80), "x/b is in 198.19.1.0/24");
}

#[test]
fn except_carves_a_hole_only_for_its_own_peer() {
    let y_b = address_of("y/b").to_string();
    // The same rule's other peer still allows y/b.
    let same_rule = into_x_a(&format!(
        "[{{ipBlock: {{cidr: 198.19.2.0/24, except: [{y_b}/32]}}}}, {{namespaceSelector: {{matchLabels: {{ns: y}}}}, podSelector: {{matchLabels: {{pod: b}}}}}}]"
    ))
    .compile();
    assert!(tcp(&same_rule, "y/b", "x/a", 80));
    assert!(tcp(&same_rule, "y/c", "x/a", 80));

    // Alone, the hole denies y/b and nothing else.
    let alone = into_x_a(&format!(
        "[{{ipBlock: {{cidr: 198.19.2.0/24, except: [{y_b}/32]}}}}]"
    ))
    .compile();
    assert!(!tcp(&alone, "y/b", "x/a", 80));
    assert!(tcp(&alone, "y/c", "x/a", 80));

    // Another policy may allow the hole.
    let other_policy = into_x_a(&format!(
        "[{{ipBlock: {{cidr: 198.19.2.0/24, except: [{y_b}/32]}}}}]"
    ))
    .with(
        "metadata: {name: q, namespace: x}
spec: {podSelector: {}, ingress: [{from: [{ipBlock: {cidr: 198.19.2.16/28}}]}]}",
    )
    .compile();
    assert!(tcp(&other_policy, "y/b", "x/a", 80));
}

#[test]
fn ip_block_except_for_external_clients() {
    let compiled =
        into_x_a("[{ipBlock: {cidr: 192.0.2.0/24, except: [192.0.2.128/25]}}]").compile();
    assert!(tcp(&compiled, "192.0.2.1", "x/a", 80));
    assert!(tcp(&compiled, "192.0.2.127", "x/a", 80));
    assert!(!tcp(&compiled, "192.0.2.128", "x/a", 80));
    assert!(!tcp(&compiled, "192.0.2.255", "x/a", 80));
}

#[test]
fn host_network_pods_are_never_selected() {
    let mut world = World::xyz().with(
        "metadata: {name: p, namespace: x}\nspec: {podSelector: {}, ingress: [{from: [{namespaceSelector: {}}]}]}",
    );
    let mut host = pod(
        "y",
        "host",
        "node-2",
        &["198.18.0.12"],
        json!({"pod": "a"}),
        &[],
    );
    host.spec.as_mut().unwrap().host_network = Some(true);
    world.input.pods.push(host);
    let mut local_host = pod(
        "x",
        "host",
        NODE,
        &["198.18.0.11"],
        json!({"pod": "a"}),
        &[],
    );
    local_host.spec.as_mut().unwrap().host_network = Some(true);
    world.input.pods.push(local_host);
    let compiled = world.compile();
    assert!(
        !tcp(&compiled, "198.18.0.12", "x/a", 80),
        "not a peer via selector"
    );
    assert!(
        !compiled.ir.ingress_map.contains_key(&ip(NODE_ADDRESS)),
        "not a target"
    );
    assert_eq!(compiled.ir.pods.len(), 4, "x/a, x/b, x/c, y/a");
}

#[test]
fn pod_label_changes_re_resolve_selectors() {
    let mut world = into_x_a("[{podSelector: {matchLabels: {role: client}}}]");
    assert!(!tcp(&world.compile(), "x/b", "x/a", 80));
    world
        .pod_mut("x/b")
        .metadata
        .labels
        .as_mut()
        .unwrap()
        .insert("role".into(), "client".into());
    assert!(
        tcp(&world.compile(), "x/b", "x/a", 80),
        "x/b gained the label"
    );
    // The target side: x/a loses the label the policy selects it by.
    world
        .pod_mut("x/a")
        .metadata
        .labels
        .as_mut()
        .unwrap()
        .insert("pod".into(), "renamed".into());
    assert!(
        tcp(&world.compile(), "z/c", "x/a", 80),
        "x/a no longer selected"
    );
}

#[test]
fn namespace_label_changes_re_resolve_selectors() {
    let mut world = into_x_a("[{namespaceSelector: {matchLabels: {trusted: \"yes\"}}}]");
    assert!(!tcp(&world.compile(), "z/b", "x/a", 80));
    let z = world
        .input
        .namespaces
        .iter_mut()
        .find(|n| n.metadata.name.as_deref() == Some("z"));
    z.unwrap()
        .metadata
        .labels
        .as_mut()
        .unwrap()
        .insert("trusted".into(), "yes".into());
    let compiled = world.compile();
    assert!(tcp(&compiled, "z/b", "x/a", 80));
    assert!(!tcp(&compiled, "y/b", "x/a", 80));
}

#[test]
fn namespace_name_label_is_implied() {
    let compiled =
        into_x_a("[{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: z}}}]")
            .compile();
    assert!(tcp(&compiled, "z/a", "x/a", 80));
    assert!(!tcp(&compiled, "y/a", "x/a", 80));
}

#[test]
fn dual_stack_pods_match_in_both_families() {
    let mut world = into_x_a("[{podSelector: {matchLabels: {pod: b}}}]");
    let mut status_ips = vec![
        json!({"ip": address_of("x/b").to_string()}),
        json!({"ip": "2001:db8:1::b"}),
    ];
    let pod_b = world.pod_mut("x/b");
    pod_b.status.as_mut().unwrap().pod_ips =
        Some(serde_json::from_value(json!(status_ips.split_off(0))).unwrap());
    let pod_a = world.pod_mut("x/a");
    pod_a.status.as_mut().unwrap().pod_ips = Some(
        serde_json::from_value(
            json!([{"ip": address_of("x/a").to_string()}, {"ip": "2001:db8:1::a"}]),
        )
        .unwrap(),
    );
    let compiled = world.compile();
    assert!(tcp(&compiled, "2001:db8:1::b", "2001:db8:1::a", 80));
    assert!(!tcp(&compiled, "2001:db8:1::c", "2001:db8:1::a", 80));
    assert!(tcp(&compiled, "x/b", "x/a", 80));
}

#[test]
fn invalid_peers_match_nothing_and_are_reported() {
    let compiled = into_x_a(
        "[{}, {ipBlock: {cidr: not-a-cidr}}, {ipBlock: {cidr: 198.19.2.0/24}, podSelector: {}},
          {podSelector: {matchExpressions: [{key: pod, operator: Like, values: [b]}]}}]",
    )
    .compile();
    for pod in PODS.iter().filter(|p| **p != "x/a") {
        assert!(!tcp(&compiled, pod, "x/a", 80), "{pod}");
    }
    assert_eq!(compiled.diagnostics.len(), 4, "{:?}", compiled.diagnostics);
}
