//! One pod's rules for an operator: rule lines in words ([`describe_line`]) and its chains as
//! nft text ([`chains_text`]).

mod common;

use common::*;
use policy::ir::{Direction, PodId, PolicyIr};
use policy::{chains_text, describe_line};

/// [`common::demo`] plus x/c open to everything in and to a named port and all of UDP out.
fn demo_ir() -> PolicyIr {
    demo()
        .with(
            "metadata: {name: open, namespace: x}
spec:
  podSelector: {matchLabels: {pod: c}}
  ingress: [{}]
  egress: [{ports: [{port: serve-80-tcp}]}, {ports: [{protocol: UDP}]}]",
        )
        .compile()
        .ir
}

/// The chain of pod `x/<name>` for `direction`.
fn chain(ir: &PolicyIr, name: &str, direction: Direction) -> String {
    let local = &ir.pods[&PodId {
        namespace: "x".into(),
        name: name.into(),
    }];
    match direction {
        Direction::Ingress => local.ingress_chain.clone(),
        Direction::Egress => local.egress_chain.clone(),
    }
    .unwrap()
}

fn descriptions(ir: &PolicyIr, chain: &str) -> Vec<String> {
    let group = &ir.chains[chain];
    group
        .lines
        .iter()
        .map(|line| describe_line(ir, group.direction, line))
        .collect()
}

#[test]
fn selector_and_block_peers_and_ports_in_words() {
    let ir = demo_ir();
    let ingress = chain(&ir, "a", Direction::Ingress);
    assert_eq!(
        descriptions(&ir, &ingress),
        [
            "from pods in set ing/x/web-from-y/r0/pods (3 addresses) or addresses in \
          192.0.2.0/25 on tcp 80, tcp 9000-9010, udp 81"
        ]
    );
}

#[test]
fn open_rules_named_ports_and_whole_protocols_in_words() {
    let ir = demo_ir();
    let ingress = chain(&ir, "c", Direction::Ingress);
    assert_eq!(descriptions(&ir, &ingress), ["from anywhere on any port"]);
    let egress = chain(&ir, "c", Direction::Egress);
    // Every pod of the world declares serve-80-tcp: nine address . port pairs.
    assert_eq!(
        descriptions(&ir, &egress),
        [
            "to named ports of pods in set egr/x/open/r0/named (9 address . port pairs)",
            "to anywhere on udp (all ports)",
        ]
    );
}

#[test]
fn chains_text_shows_the_pods_chains_with_their_comments() {
    let ir = demo_ir();
    let ingress = chain(&ir, "a", Direction::Ingress);
    let egress = chain(&ir, "a", Direction::Egress);
    let text = chains_text(&ir, [ingress.as_str(), egress.as_str()]).unwrap();
    assert!(text.starts_with("table inet tern {\n"), "{text}");
    assert!(text.ends_with("}\n"), "{text}");
    assert!(text.contains(&format!("\tchain {ingress} {{\n")), "{text}");
    assert!(text.contains(&format!("\tchain {egress} {{\n")), "{text}");
    assert!(
        text.contains("comment \"ingress of x/deny, x/web-from-y\";"),
        "{text}"
    );
    assert!(
        text.contains("accept comment \"x/web-from-y ingress rule 0\""),
        "{text}"
    );
    assert!(
        text.contains("drop comment \"isolated: no rule allows it\""),
        "{text}"
    );
    // Only the pod's chains: x/c's are elsewhere in the table.
    let other = chain(&ir, "c", Direction::Ingress);
    assert!(!text.contains(&other), "{text}");
    // The same lines as the full table.
    let full = policy::render_full(&ir);
    for line in text.lines().filter(|line| line.starts_with("\t\t")) {
        assert!(full.contains(line), "{line} not in the table:\n{full}");
    }
}

#[test]
fn chains_text_of_no_chain_is_none() {
    let ir = demo_ir();
    assert_eq!(chains_text(&ir, ["ing/x/none/000000000000"]), None);
    assert_eq!(chains_text(&ir, []), None);
}
