//! nft accepts what we render: full apply, listing, incremental updates equal to a fresh full
//! apply, fallback when the table was changed behind our back. Runs nft only inside network
//! namespaces the test creates (root needed).

mod common;
mod netns;

use std::collections::BTreeMap;

use common::*;
use netns::Netns;
use policy::{ApplyError, ApplyKind, NftCommand, NftRunner, PolicyIr, PolicyProgrammer};
use serde_json::{Value, json};

/// A world exercising every rule shape: selectors, ipBlock with except, named ports both ways,
/// UDP/SCTP/endPort, deny-all, dual stack.
fn rich_world() -> World {
    let mut world = World::xyz()
        .with("metadata: {name: deny, namespace: x}\nspec: {podSelector: {}, policyTypes: [Ingress, Egress]}")
        .with(
            "metadata: {name: web, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  ingress:
    - from: [{namespaceSelector: {matchLabels: {ns: y}}, podSelector: {matchLabels: {pod: b}}},
             {ipBlock: {cidr: 192.0.2.0/24, except: [192.0.2.128/25]}},
             {ipBlock: {cidr: '2001:db8:ffff::/48', except: ['2001:db8:ffff:1::/64']}}]
      ports: [{port: serve-80-tcp}, {protocol: UDP, port: 81}, {protocol: SCTP, port: 9000, endPort: 9010}]
    - {}
  egress:
    - to: [{namespaceSelector: {}}]
      ports: [{port: serve-80-tcp}, {protocol: UDP, port: serve-81-udp}, {port: 443}]
    - ports: [{protocol: UDP, port: 53}]",
        );
    let pod_a = world.pod_mut("x/a");
    pod_a.status.as_mut().unwrap().pod_ips = Some(
        serde_json::from_value(
            json!([{"ip": address_of("x/a").to_string()}, {"ip": "2001:db8:1::a"}]),
        )
        .unwrap(),
    );
    world
}

/// `nft -j list table inet tern`, made comparable: no handles, elements sorted, rules grouped
/// per chain in order, objects keyed by kind and name.
fn canonical(netns: &Netns) -> BTreeMap<String, Value> {
    fn strip(value: &mut Value) {
        match value {
            Value::Object(map) => {
                map.remove("handle");
                map.values_mut().for_each(strip);
                if let Some(Value::Array(elements)) = map.get_mut("elem") {
                    elements.sort_by_key(|e| e.to_string());
                }
            }
            Value::Array(items) => items.iter_mut().for_each(strip),
            _ => {}
        }
    }
    let text = netns.run(&["nft", "-j", "list", "table", "inet", "tern"]);
    let mut listing: Value = serde_json::from_str(&text).unwrap();
    strip(&mut listing);
    let mut objects = BTreeMap::new();
    for item in listing["nftables"].as_array().unwrap() {
        let Value::Object(map) = item else { continue };
        let Some((kind, body)) = map.iter().next() else {
            continue;
        };
        match kind.as_str() {
            "rule" => {
                let key = format!("rules {}", body["chain"].as_str().unwrap());
                let rules = objects
                    .entry(key)
                    .or_insert_with(|| Value::Array(Vec::new()));
                rules.as_array_mut().unwrap().push(body.clone());
            }
            "metainfo" => {}
            _ => {
                objects.insert(
                    format!("{kind} {}", body["name"].as_str().unwrap_or("")),
                    body.clone(),
                );
            }
        }
    }
    objects
}

fn fresh_listing(ir: &PolicyIr) -> BTreeMap<String, Value> {
    let netns = Netns::new();
    PolicyProgrammer::new(NftCommand::in_netns(&netns.name))
        .apply_full(ir.clone())
        .unwrap();
    canonical(&netns)
}

#[test]
fn full_ruleset_is_accepted_and_listed_back() {
    let netns = Netns::new();
    let compiled = rich_world().compile();
    assert!(
        compiled.diagnostics.is_empty(),
        "{:?}",
        compiled.diagnostics
    );
    let mut programmer = PolicyProgrammer::new(NftCommand::in_netns(&netns.name));
    assert_eq!(
        programmer.reconcile(compiled.ir.clone()).unwrap(),
        ApplyKind::Full
    );
    let listing = programmer.runner().list().unwrap();
    for name in compiled.ir.chains.keys().chain(compiled.ir.sets.keys()) {
        assert!(
            listing.contains(name.as_str()),
            "{name} missing from\n{listing}"
        );
    }
    assert!(listing.contains("comment \"x/web ingress rule 0\""));
    assert!(
        listing.contains("2001:db8:1::a comment \"x/a\" : jump ing/x/deny/web/"),
        "{listing}"
    );
    assert!(
        listing.contains("2001:db8:ffff::/64,"),
        "except carved: {listing}"
    );
    assert!(listing.contains("2001:db8:ffff:2::-2001:db8:ffff:ffff:ffff:ffff:ffff:ffff"));
    // Applying twice is fine (the script creates the table before deleting it).
    programmer.apply_full(compiled.ir).unwrap();
    // Removal leaves no table; removing again is fine.
    programmer.remove().unwrap();
    programmer.remove().unwrap();
    assert!(netns.run(&["nft", "list", "tables"]).trim().is_empty());
}

#[test]
fn incremental_updates_equal_a_fresh_full_apply() {
    let netns = Netns::new();
    let mut programmer = PolicyProgrammer::new(NftCommand::in_netns(&netns.name));
    let mut world = rich_world();
    programmer.reconcile(world.compile().ir).unwrap();

    // Pod churn: a new local pod, a new remote peer, a removed peer.
    world.input.pods.push(pod(
        "x",
        "d",
        NODE,
        &["198.19.1.40"],
        json!({"pod": "d"}),
        &[],
    ));
    world.input.pods.push(pod(
        "y",
        "d",
        "node-2",
        &["198.19.2.40"],
        json!({"pod": "b"}),
        &[],
    ));
    world.input.pods.retain(|p| {
        p.metadata.name.as_deref() != Some("c") || p.metadata.namespace.as_deref() != Some("z")
    });
    let step = world.compile().ir;
    assert!(
        policy::element_ops(programmer.applied().unwrap(), &step).is_some(),
        "pod churn changes elements only: it goes over netlink, not nft"
    );
    assert!(matches!(
        programmer.reconcile(step.clone()).unwrap(),
        ApplyKind::Incremental { .. }
    ));
    assert_eq!(canonical(&netns), fresh_listing(&step));

    // Label change moves a pod to another chain; a new policy adds chains and sets.
    world
        .pod_mut("x/b")
        .metadata
        .labels
        .as_mut()
        .unwrap()
        .insert("pod".into(), "a".into());
    world.input.policies.push(policy(
        "metadata: {name: extra, namespace: x}
spec: {podSelector: {matchLabels: {pod: c}}, ingress: [{from: [{ipBlock: {cidr: 198.19.2.0/24}}], ports: [{port: 8080}, {port: 8443}]}]}",
    ));
    let step = world.compile().ir;
    assert!(matches!(
        programmer.reconcile(step.clone()).unwrap(),
        ApplyKind::Incremental { .. }
    ));
    assert_eq!(canonical(&netns), fresh_listing(&step));

    // A pod address inside an ipBlock range of the same set merges into it and back out.
    world.input.policies.pop();
    world.input.policies.push(policy(
        "metadata: {name: extra, namespace: x}
spec: {podSelector: {matchLabels: {pod: c}}, ingress: [{from: [{ipBlock: {cidr: 198.19.2.0/24}}, {namespaceSelector: {}}], ports: [{port: 8080}, {port: 9090}]}]}",
    ));
    let step = world.compile().ir;
    assert!(matches!(
        programmer.reconcile(step.clone()).unwrap(),
        ApplyKind::Incremental { .. }
    ));
    assert_eq!(canonical(&netns), fresh_listing(&step));
    // The port list changed: a new shared port set, the old one gone.
    let listing = programmer.runner().list().unwrap();
    assert!(listing.contains("set ports/tcp-8080_tcp-9090"), "{listing}");
    assert!(
        !listing.contains("set ports/tcp-8080_tcp-8443"),
        "{listing}"
    );

    // Policies removed: chains and sets go away.
    world.input.policies.clear();
    let step = world.compile().ir;
    assert!(matches!(
        programmer.reconcile(step.clone()).unwrap(),
        ApplyKind::Incremental { .. }
    ));
    assert_eq!(canonical(&netns), fresh_listing(&step));
    let listing = programmer.runner().list().unwrap();
    assert!(!listing.contains("chain ing/"), "{listing}");
    assert!(!listing.contains("set ports/"), "{listing}");
}

#[test]
fn update_refused_after_outside_change_falls_back_to_full() {
    let netns = Netns::new();
    let mut programmer = PolicyProgrammer::new(NftCommand::in_netns(&netns.name));
    let mut world = rich_world();
    programmer.reconcile(world.compile().ir).unwrap();
    netns.run(&["nft", "flush", "map", "inet", "tern", "ingress/v4"]);
    world.input.pods.retain(|p| {
        p.metadata.name.as_deref() != Some("b") || p.metadata.namespace.as_deref() != Some("x")
    });
    let step = world.compile().ir;
    assert_eq!(programmer.reconcile(step.clone()).unwrap(), ApplyKind::Full);
    assert_eq!(canonical(&netns), fresh_listing(&step));
}

#[test]
fn rejected_scripts_carry_nfts_message() {
    let netns = Netns::new();
    let error = NftCommand::in_netns(&netns.name)
        .apply("add rule inet tern nowhere drop\n")
        .unwrap_err();
    match error {
        ApplyError::Rejected { stderr, .. } => assert!(stderr.contains("Error"), "{stderr}"),
        other => panic!("unexpected {other:?}"),
    }
}
