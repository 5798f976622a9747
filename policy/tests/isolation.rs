//! Isolation and rule-shape semantics: policyTypes, empty rule lists, `{}` rules, missing
//! fields, unions of policies.

mod common;

use common::*;

#[test]
fn no_policy_allows_everything_and_programs_nothing() {
    let compiled = World::xyz().compile();
    assert!(compiled.ir.chains.is_empty());
    assert!(compiled.ir.ingress_map.is_empty() && compiled.ir.egress_map.is_empty());
    assert!(tcp(&compiled, "y/b", "x/a", 80));
    assert!(compiled.diagnostics.is_empty());
}

#[test]
fn ingress_policy_isolates_only_ingress() {
    let compiled = World::xyz()
        .with(
            "metadata: {name: deny, namespace: x}\nspec: {podSelector: {}, policyTypes: [Ingress]}",
        )
        .compile();
    assert!(!tcp(&compiled, "y/b", "x/a", 80), "ingress isolated");
    assert!(tcp(&compiled, "x/a", "y/b", 80), "egress untouched");
    assert!(compiled.ir.egress_map.is_empty());
}

#[test]
fn egress_policy_isolates_only_egress() {
    let compiled = World::xyz()
        .with(
            "metadata: {name: deny, namespace: x}\nspec: {podSelector: {}, policyTypes: [Egress]}",
        )
        .compile();
    assert!(tcp(&compiled, "y/b", "x/a", 80), "ingress untouched");
    assert!(!tcp(&compiled, "x/a", "y/b", 80), "egress isolated");
    assert!(compiled.ir.ingress_map.is_empty());
}

#[test]
fn missing_policy_types_mean_ingress_plus_egress_only_with_egress_rules() {
    // No policyTypes, no egress: Ingress only.
    let ingress_only = World::xyz()
        .with("metadata: {name: p, namespace: x}\nspec: {podSelector: {}}")
        .compile();
    assert!(!tcp(&ingress_only, "y/b", "x/a", 80));
    assert!(tcp(&ingress_only, "x/a", "y/b", 80));

    // `egress: []` is not an egress rule: still Ingress only.
    let empty_egress = World::xyz()
        .with("metadata: {name: p, namespace: x}\nspec: {podSelector: {}, egress: []}")
        .compile();
    assert!(tcp(&empty_egress, "x/a", "y/b", 80));
    assert!(!tcp(&empty_egress, "y/b", "x/a", 80));

    // An egress rule makes it Ingress + Egress.
    let both = World::xyz()
        .with(
            "metadata: {name: p, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  egress: [{to: [{podSelector: {matchLabels: {pod: b}}}]}]",
        )
        .compile();
    assert!(
        !tcp(&both, "y/b", "x/a", 80),
        "ingress isolated with no ingress rule"
    );
    assert!(tcp(&both, "x/a", "x/b", 80), "egress rule allows x/b");
    assert!(!tcp(&both, "x/a", "z/c", 80), "egress isolated");
}

#[test]
fn empty_ingress_list_allows_nothing() {
    for spec in [
        "{podSelector: {}, ingress: []}",
        "{podSelector: {}, policyTypes: [Ingress]}",
        "{podSelector: {}, policyTypes: [Ingress], ingress: []}",
    ] {
        let compiled = World::xyz()
            .with(&format!(
                "metadata: {{name: p, namespace: x}}\nspec: {spec}"
            ))
            .compile();
        for from in ["x/b", "y/a", "z/c", EXTERNAL] {
            assert!(!tcp(&compiled, from, "x/a", 80), "{spec}: {from}");
            assert!(!ping(&compiled, from, "x/a"), "{spec}: {from}");
        }
    }
}

#[test]
fn empty_rule_allows_everything() {
    let compiled = World::xyz()
        .with(
            "metadata: {name: p, namespace: x}
spec: {podSelector: {}, policyTypes: [Ingress, Egress], ingress: [{}], egress: [{}]}",
        )
        .compile();
    for other in ["y/b", "z/c", EXTERNAL] {
        assert!(tcp(&compiled, other, "x/a", 1234));
        assert!(udp(&compiled, other, "x/a", 53));
        assert!(ping(&compiled, other, "x/a"));
        assert!(tcp(&compiled, "x/a", other, 1234));
    }
    // They are still isolated: the pods are in the maps.
    assert!(compiled.ir.ingress_map.contains_key(&address_of("x/a")));
}

#[test]
fn missing_from_means_every_source_missing_ports_every_port() {
    let compiled = World::xyz()
        .with(
            "metadata: {name: p, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  ingress:
    - ports: [{port: 80}]
    - from: [{podSelector: {matchLabels: {pod: b}}}]",
        )
        .compile();
    assert!(
        tcp(&compiled, EXTERNAL, "x/a", 80),
        "rule 0: any source, port 80"
    );
    assert!(tcp(&compiled, "z/c", "x/a", 80));
    assert!(!tcp(&compiled, "z/c", "x/a", 81));
    assert!(tcp(&compiled, "x/b", "x/a", 4444), "rule 1: x/b, any port");
    assert!(udp(&compiled, "x/b", "x/a", 81));
    assert!(ping(&compiled, "x/b", "x/a"), "no ports: ICMP too");
    assert!(!ping(&compiled, "z/c", "x/a"), "ports given: no ICMP");
    assert!(tcp(&compiled, "z/c", "x/b", 9999), "x/b is not selected");
}

#[test]
fn policies_are_a_union() {
    let compiled = World::xyz()
        .with(
            "metadata: {name: allow-b, namespace: x}
spec: {podSelector: {matchLabels: {pod: a}}, ingress: [{from: [{podSelector: {matchLabels: {pod: b}}}]}]}",
        )
        .with(
            "metadata: {name: allow-c, namespace: x}
spec: {podSelector: {matchLabels: {pod: a}}, ingress: [{from: [{podSelector: {matchLabels: {pod: c}}}]}]}",
        )
        .with("metadata: {name: deny-all, namespace: x}\nspec: {podSelector: {}}")
        .compile();
    assert!(tcp(&compiled, "x/b", "x/a", 80));
    assert!(tcp(&compiled, "x/c", "x/a", 80));
    assert!(!tcp(&compiled, "y/a", "x/a", 80));
    assert!(!tcp(&compiled, "x/a", "x/b", 80), "x/b only has deny-all");
    let chain = &compiled.ir.ingress_map[&address_of("x/a")].chain;
    let group = &compiled.ir.chains[chain];
    let names: Vec<String> = group.policies.iter().map(ToString::to_string).collect();
    assert_eq!(names, ["x/allow-b", "x/allow-c", "x/deny-all"]);
    assert!(
        chain.starts_with("ing/x/allow-b/allow-c/deny-all/"),
        "{chain}"
    );
}

#[test]
fn same_node_traffic_needs_source_egress_and_destination_ingress() {
    let compiled = World::xyz()
        .with(
            "metadata: {name: a-out, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  policyTypes: [Egress]
  egress: [{to: [{podSelector: {matchLabels: {pod: b}}}]}]",
        )
        .with(
            "metadata: {name: b-in, namespace: x}
spec:
  podSelector: {matchLabels: {pod: b}}
  ingress: [{from: [{podSelector: {matchLabels: {pod: c}}}]}]",
        )
        .compile();
    assert!(
        !tcp(&compiled, "x/a", "x/b", 80),
        "egress allows, ingress of x/b does not"
    );
    assert!(tcp(&compiled, "x/c", "x/b", 80));
    assert!(
        !tcp(&compiled, "x/a", "x/c", 80),
        "egress of x/a does not allow x/c"
    );
}

#[test]
fn pods_with_identical_rules_share_one_chain() {
    let compiled = World::xyz()
        .with("metadata: {name: deny, namespace: x}\nspec: {podSelector: {}}")
        .compile();
    let chains: std::collections::BTreeSet<&String> = compiled
        .ir
        .ingress_map
        .values()
        .map(|entry| &entry.chain)
        .collect();
    assert_eq!(compiled.ir.ingress_map.len(), 3, "x/a, x/b, x/c");
    assert_eq!(chains.len(), 1);
}

#[test]
fn only_this_nodes_pods_get_chains() {
    let compiled = World::xyz()
        .with("metadata: {name: deny, namespace: z}\nspec: {podSelector: {}}")
        .with("metadata: {name: deny, namespace: y}\nspec: {podSelector: {}}")
        .compile();
    assert_eq!(compiled.ir.ingress_map.len(), 1, "only y/a is local");
    assert!(compiled.ir.ingress_map.contains_key(&address_of("y/a")));
    assert!(
        !compiled.ir.sets.keys().any(|name| name.contains("/z/")),
        "no sets for z"
    );
}

#[test]
fn rules_of_a_type_the_policy_lacks_are_ignored() {
    // Egress only: the ingress section neither isolates nor allows.
    let compiled = World::xyz()
        .with(
            "metadata: {name: p, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  policyTypes: [Egress]
  ingress: [{from: [{podSelector: {matchLabels: {pod: b}}}]}]
  egress: [{to: [{podSelector: {matchLabels: {pod: b}}}]}]",
        )
        .compile();
    assert!(tcp(&compiled, "z/c", "x/a", 80), "not isolated for ingress");
    assert!(!compiled.ir.ingress_map.contains_key(&address_of("x/a")));
    assert!(tcp(&compiled, "x/a", "x/b", 80));
    assert!(!tcp(&compiled, "x/a", "x/c", 80));
}
