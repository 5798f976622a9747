//! The rendered script and the incremental update script.

mod common;

use common::*;
use policy::{ApplyError, ApplyKind, NftRunner, PolicyProgrammer, render_full, render_update};
use serde_json::json;
use std::cell::RefCell;

#[test]
fn full_script_replaces_the_table_atomically() {
    let script = render_full(&demo().compile().ir);
    let lines: Vec<&str> = script
        .lines()
        .filter(|l| !l.starts_with('#'))
        .take(3)
        .collect();
    assert_eq!(
        lines,
        [
            "table inet tern {}",
            "delete table inet tern",
            "table inet tern {"
        ]
    );
}

#[test]
fn rules_name_their_policy_and_use_sets_and_concatenations() {
    let script = render_full(&demo().compile().ir);
    let ports = "meta l4proto . th dport @ports/tcp-80_tcp-9000-9010_udp-81";
    assert!(
        script.contains(
            "set ports/tcp-80_tcp-9000-9010_udp-81 { type inet_proto . inet_service; flags interval; \
             comment \"ports tcp 80, tcp 9000-9010, udp 81\"; elements = { tcp . 80, tcp . 9000-9010, udp . 81 } }"
        ),
        "{script}"
    );
    for set in ["pods/v4", "blocks/v4"] {
        let rule = format!(
            "ip saddr @ing/x/web-from-y/r0/{set} {ports} accept comment \"x/web-from-y ingress rule 0\""
        );
        assert!(script.contains(&rule), "{rule} in {script}");
    }
    let y = [address_of("y/a"), address_of("y/b"), address_of("y/c")];
    let pods = format!(
        "set ing/x/web-from-y/r0/pods/v4 {{ type ipv4_addr; comment \"pods of x/web-from-y ingress rule 0\"; elements = {{ {}, {}, {} }} }}",
        y[0], y[1], y[2]
    );
    assert!(script.contains(&pods), "{script}");
    assert!(script.contains(
        "set ing/x/web-from-y/r0/blocks/v4 { type ipv4_addr; flags interval; comment \"ipBlocks of x/web-from-y ingress rule 0\"; elements = { 192.0.2.0/25 } }"
    ));
    let jump = format!(
        "{} comment \"x/a\" : jump ing/x/deny/web-from-y/",
        address_of("x/a")
    );
    assert!(script.contains(&jump));
    assert!(
        script.contains("chain ing/x/deny/"),
        "x/b and x/c: deny only"
    );
    assert!(script.contains("ip saddr vmap @egress/v4"));
    assert!(script.contains("ip daddr vmap @ingress/v4"));
}

#[test]
fn rules_with_identical_peers_share_sets() {
    let compiled = World::xyz()
        .with("metadata: {name: one, namespace: x}\nspec: {podSelector: {matchLabels: {pod: a}}, ingress: [{from: [{namespaceSelector: {matchLabels: {ns: y}}}]}]}")
        .with("metadata: {name: two, namespace: x}\nspec: {podSelector: {matchLabels: {pod: b}}, ingress: [{from: [{namespaceSelector: {matchLabels: {ns: y}}}], ports: [{port: 81}]}]}")
        .with("metadata: {name: three, namespace: x}\nspec: {podSelector: {matchLabels: {pod: c}}, ingress: [{from: [{podSelector: {matchLabels: {pod: a}}}]}]}")
        .with("metadata: {name: four, namespace: y}\nspec: {podSelector: {matchLabels: {pod: a}}, ingress: [{from: [{podSelector: {matchLabels: {pod: a}}}]}]}")
        .compile();
    let names: Vec<&str> = compiled.ir.sets.keys().map(String::as_str).collect();
    // x/two shares x/one's set; y/four's podSelector-only peer means namespace y, so it cannot
    // share x/three's.
    assert_eq!(
        names,
        [
            "ing/x/one/r0/pods/v4",
            "ing/x/one/r0/pods/v6",
            "ing/x/three/r0/pods/v4",
            "ing/x/three/r0/pods/v6",
            "ing/y/four/r0/pods/v4",
            "ing/y/four/r0/pods/v6",
        ]
    );
    assert!(tcp(&compiled, "y/b", "x/b", 81));
    assert!(!tcp(&compiled, "y/b", "x/b", 80));
    assert!(tcp(&compiled, "y/a", "x/a", 80));
    assert!(
        !tcp(&compiled, "x/a", "y/a", 80),
        "y/four allows y's pod a only"
    );
}

#[test]
fn every_group_chain_ends_in_drop() {
    let compiled = demo().compile();
    let script = render_full(&compiled.ir);
    for name in compiled.ir.chains.keys() {
        let body = script.split(&format!("chain {name} {{")).nth(1).unwrap();
        let body = &body[..body.find("\t}").unwrap()];
        let last = body.trim_end().lines().last().unwrap().trim();
        assert!(last.starts_with("drop comment"), "{name}: {last}");
    }
}

#[test]
fn egress_allow_returns_so_ingress_is_still_judged() {
    let compiled = World::xyz()
        .with("metadata: {name: out, namespace: x}\nspec: {podSelector: {}, policyTypes: [Egress], egress: [{}]}")
        .compile();
    let script = render_full(&compiled.ir);
    assert!(
        script.contains("\t\treturn comment \"x/out egress rule 0\""),
        "{script}"
    );
}

#[test]
fn compilation_is_deterministic() {
    // Two pods claiming one address (a terminating pod and its successor): one wins, always the
    // same one.
    let duplicate = || {
        pod(
            "x",
            "a2",
            NODE,
            &[&address_of("x/a").to_string()],
            json!({}),
            &[],
        )
    };
    let mut world = demo();
    world.input.pods.push(duplicate());
    let first = render_full(&world.compile().ir);
    let mut shuffled = demo();
    shuffled.input.pods.insert(0, duplicate());
    shuffled.input.pods.reverse();
    shuffled.input.policies.reverse();
    shuffled.input.namespaces.reverse();
    assert_eq!(first, render_full(&shuffled.compile().ir));
}

#[test]
fn unchanged_input_gives_an_empty_update() {
    let ir = demo().compile().ir;
    assert_eq!(render_update(&ir, &ir).unwrap(), "");
}

#[test]
fn pod_churn_updates_elements_only() {
    let before = demo().compile().ir;
    let mut world = demo();
    // A new pod in x (selected by deny, same chain as x/b) and a new peer in y.
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
        json!({"pod": "d"}),
        &[],
    ));
    let after = world.compile().ir;
    let update = render_update(&before, &after).unwrap();
    for line in update.lines() {
        assert!(
            line.starts_with("add element ") || line.starts_with("delete element "),
            "{line}"
        );
    }
    assert!(update.contains(
        "add element inet tern ingress/v4 { 198.19.1.40 comment \"x/d\" : jump ing/x/deny/"
    ));
    assert!(update.contains(
        "add element inet tern egress/v4 { 198.19.1.40 comment \"x/d\" : jump egr/x/deny/"
    ));
    assert!(update.contains("add element inet tern ing/x/web-from-y/r0/pods/v4 { 198.19.2.40 }"));
    assert_eq!(update.lines().count(), 3, "{update}");
    // And back.
    let back = render_update(&after, &before).unwrap();
    assert!(
        back.contains("delete element inet tern ingress/v4 { 198.19.1.40 }"),
        "{back}"
    );
    assert_eq!(back.lines().count(), 3, "{back}");
}

#[test]
fn policy_change_adds_and_removes_chains() {
    let before = demo().compile().ir;
    let after = demo()
        .with("metadata: {name: z-in, namespace: x}\nspec: {podSelector: {matchLabels: {pod: c}}, ingress: [{from: [{namespaceSelector: {matchLabels: {ns: z}}}]}]}")
        .compile()
        .ir;
    let update = render_update(&before, &after).unwrap();
    assert!(
        update.contains("add set inet tern ing/x/z-in/r0/pods/v4"),
        "{update}"
    );
    assert!(
        update.contains("add chain inet tern ing/x/deny/z-in/"),
        "{update}"
    );
    assert!(
        update.contains("add rule inet tern ing/x/deny/z-in/"),
        "{update}"
    );
    // x/c moved to the new chain; x/b still uses the old deny-only chain, so nothing is deleted.
    assert!(update.contains(&format!(
        "delete element inet tern ingress/v4 {{ {} }}",
        address_of("x/c")
    )));
    assert!(!update.contains("delete chain"), "{update}");
    // Removing the policy again deletes its chain and sets, after the map no longer jumps there.
    let back = render_update(&after, &before).unwrap();
    let delete_chain = back
        .find("delete chain inet tern ing/x/deny/z-in/")
        .expect(&back);
    let delete_set = back
        .find("delete set inet tern ing/x/z-in/r0/pods/v4")
        .expect(&back);
    let map_update = back.find("add element inet tern ingress/v4").expect(&back);
    assert!(
        map_update < delete_chain && delete_chain < delete_set,
        "{back}"
    );
}

/// Records scripts; refuses incremental ones when told to.
#[derive(Default)]
struct Recorder {
    scripts: RefCell<Vec<String>>,
    refuse_incremental: bool,
}

impl NftRunner for Recorder {
    fn apply(&self, script: &str) -> Result<(), ApplyError> {
        self.scripts.borrow_mut().push(script.to_string());
        if self.refuse_incremental && !script.contains("delete table") {
            return Err(ApplyError::Rejected {
                status: "exit status: 1".into(),
                stderr: "Error: No such file or directory".into(),
            });
        }
        Ok(())
    }

    fn list(&self) -> Result<String, ApplyError> {
        Ok(String::new())
    }
}

#[test]
fn programmer_applies_full_then_incremental_then_nothing() {
    let mut programmer = PolicyProgrammer::new(Recorder::default());
    assert_eq!(
        programmer.reconcile(demo().compile().ir).unwrap(),
        ApplyKind::Full
    );
    let mut world = demo();
    world.input.pods.push(pod(
        "x",
        "d",
        NODE,
        &["198.19.1.40"],
        json!({"pod": "d"}),
        &[],
    ));
    assert_eq!(
        programmer.reconcile(world.compile().ir).unwrap(),
        ApplyKind::Incremental { commands: 2 }
    );
    assert_eq!(
        programmer.reconcile(world.compile().ir).unwrap(),
        ApplyKind::Unchanged
    );
    assert_eq!(programmer.runner().scripts.borrow().len(), 2);
}

#[test]
fn programmer_falls_back_to_full_when_an_update_is_refused() {
    let mut programmer = PolicyProgrammer::new(Recorder {
        refuse_incremental: true,
        ..Recorder::default()
    });
    programmer.reconcile(demo().compile().ir).unwrap();
    let mut world = demo();
    world.input.pods.push(pod(
        "x",
        "d",
        NODE,
        &["198.19.1.40"],
        json!({"pod": "d"}),
        &[],
    ));
    assert_eq!(
        programmer.reconcile(world.compile().ir).unwrap(),
        ApplyKind::Full
    );
    let scripts = programmer.runner().scripts.borrow();
    assert_eq!(scripts.len(), 3, "full, refused update, full");
    assert!(scripts[2].contains("198.19.1.40 comment \"x/d\" : jump"));
}

#[test]
fn port_lists_are_shared_named_sets_created_before_and_deleted_after_their_rules() {
    let two_ports = |name: &str, pod: &str| {
        format!(
            "metadata: {{name: {name}, namespace: x}}\nspec: {{podSelector: {{matchLabels: {{pod: {pod}}}}}, ingress: [{{ports: [{{port: 443}}, {{port: 8443}}]}}]}}"
        )
    };
    let before = demo().compile().ir;
    let after = demo()
        .with(&two_ports("tls-b", "b"))
        .with(&two_ports("tls-c", "c"))
        .compile()
        .ir;
    let full = render_full(&after);
    assert_eq!(
        full.matches("\tset ports/tcp-443_tcp-8443 {").count(),
        1,
        "two policies with one port list share one set: {full}"
    );
    assert!(
        full.contains("meta l4proto . th dport @ports/tcp-443_tcp-8443 accept comment \"x/tls-b ingress rule 0\""),
        "{full}"
    );
    let update = render_update(&before, &after).unwrap();
    let add_set = update
        .find("add set inet tern ports/tcp-443_tcp-8443 { type inet_proto . inet_service; comment")
        .expect(&update);
    let add_rule = update.find("@ports/tcp-443_tcp-8443").expect(&update);
    assert!(add_set < add_rule, "{update}");
    let back = render_update(&after, &before).unwrap();
    let delete_chain = back
        .find("delete chain inet tern ing/x/deny/tls-b/")
        .expect(&back);
    let delete_set = back
        .find("delete set inet tern ports/tcp-443_tcp-8443")
        .expect(&back);
    assert!(delete_chain < delete_set, "{back}");
}

#[test]
fn one_port_or_range_needs_no_set() {
    let script = render_full(
        &World::xyz()
            .with("metadata: {name: one, namespace: x}\nspec: {podSelector: {matchLabels: {pod: a}}, ingress: [{ports: [{protocol: UDP, port: 53}]}, {ports: [{port: 9000, endPort: 9010}]}, {ports: [{protocol: SCTP}]}]}")
            .compile()
            .ir,
    );
    assert!(
        script.contains("\t\tudp dport 53 accept comment \"x/one ingress rule 0\""),
        "{script}"
    );
    assert!(
        script.contains("\t\ttcp dport 9000-9010 accept comment \"x/one ingress rule 1\""),
        "{script}"
    );
    assert!(
        script.contains("\t\tmeta l4proto sctp accept comment \"x/one ingress rule 2\""),
        "{script}"
    );
    assert!(!script.contains("set ports/"), "{script}");
}
