//! Rule lines of the IR in words, for operators (`ternctl policy show`): which peers and which
//! ports one allow line of a group chain lets through, e.g.
//! `from pods in set ing/x/web/r0/pods (3 addresses) on tcp 80, udp 81` or
//! `from anywhere on any port`. Set contents are summarised (pod sets can be large); ipBlock
//! ranges are listed when there are few.

use crate::ir::{
    Direction, Family, PeerMatch, PolicyIr, RuleLine, RuleMatch, SetElement, set_name,
};
use crate::ports::PortMatch;

/// Up to this many ipBlock ranges are listed; more are counted.
const LISTED_RANGES: usize = 4;

/// `line` of a `direction` group chain of `ir` in words.
pub fn describe_line(ir: &PolicyIr, direction: Direction, line: &RuleLine) -> String {
    let (peer_word, tuples_word) = match direction {
        Direction::Ingress => ("from", "on"),
        Direction::Egress => ("to", "to"),
    };
    match &line.matcher {
        RuleMatch::PeersAndPorts { peers, ports } => format!(
            "{peer_word} {} on {}",
            describe_peers(ir, peers),
            describe_ports(ports)
        ),
        RuleMatch::PeerPortTuples(base) => format!(
            "{tuples_word} named ports of pods in set {base} ({})",
            count(
                elements(ir, base).count(),
                "address . port pair",
                "address . port pairs"
            )
        ),
    }
}

/// `anywhere`, or the pod set and the ipBlock ranges a line matches.
fn describe_peers(ir: &PolicyIr, peers: &PeerMatch) -> String {
    let PeerMatch::Sets { pods, blocks } = peers else {
        return "anywhere".to_string();
    };
    let mut parts = Vec::new();
    if let Some(base) = pods {
        let addresses = elements(ir, base).count();
        parts.push(format!(
            "pods in set {base} ({})",
            count(addresses, "address", "addresses")
        ));
    }
    if let Some(base) = blocks {
        let ranges: Vec<String> = elements(ir, base)
            .filter_map(|element| match element {
                SetElement::Range(range) => Some(range.to_string()),
                _ => None,
            })
            .collect();
        parts.push(if (1..=LISTED_RANGES).contains(&ranges.len()) {
            format!("addresses in {}", ranges.join(", "))
        } else {
            format!(
                "addresses in set {base} ({})",
                count(ranges.len(), "range", "ranges")
            )
        });
    }
    parts.join(" or ")
}

/// `any port`, or the protocol/port list (`tcp 80, tcp 9000-9010, udp (all ports)`).
fn describe_ports(ports: &PortMatch) -> String {
    match ports {
        PortMatch::Any => "any port".to_string(),
        PortMatch::Ranges(ranges) => ranges
            .iter()
            .map(|range| {
                if range.is_all() {
                    format!("{} (all ports)", range.protocol)
                } else {
                    range.to_string()
                }
            })
            .collect::<Vec<_>>()
            .join(", "),
    }
}

/// Elements of both halves of the set pair `base`.
fn elements<'a>(ir: &'a PolicyIr, base: &str) -> impl Iterator<Item = &'a SetElement> {
    Family::BOTH
        .iter()
        .filter_map(|family| ir.sets.get(&set_name(base, *family)))
        .flat_map(|set| &set.elements)
}

fn count(number: usize, one: &str, many: &str) -> String {
    format!("{number} {}", if number == 1 { one } else { many })
}
