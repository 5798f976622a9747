//! IR → nftables script. The table, as `nft list table inet tern` shows it:
//!
//! ```text
//! table inet tern {
//!     set node/v4 …                      this node's addresses
//!     set ing/shop/web/r0/pods/v4 …      pod addresses a rule's selectors pick (hash set)
//!     set ing/shop/web/r0/blocks/v4 …    a rule's ipBlocks, excepts carved (interval set)
//!     set egr/shop/api/r1/named/v4 …     egress named ports: peer address . proto . port
//!     set ports/tcp-80_tcp-8080 …        a rule's port list (shared by every rule with it)
//!     chain ing/shop/deny/web/1a2b…  {   one chain per rule group, lines commented with
//!         ct state invalid drop          "<ns>/<policy> <direction> rule <n>"
//!         ip saddr @ing/shop/web/r0/pods/v4 tcp dport 8080 accept
//!         …
//!         drop                           isolated: nothing above allowed it
//!     }
//!     map ingress/v4 { type ipv4_addr : verdict; … }   local pod → jump its group chain
//!     map egress/v4  …
//!     chain forward { hook forward … }   pod↔pod (same node and across nodes), pod↔outside
//!     chain input   { hook input … }     pod → this host: the pod's egress rules
//!     chain output  { hook output … }    this host → pod: node addresses pass, others judged
//! }
//! ```
//!
//! Per packet: conntrack check, then at most one egress and one ingress verdict-map lookup and
//! the lines of the one group chain each leads to, so the cost depends on the policies that
//! select the two pods, not on how many policies or pods exist.
//!
//! Egress group chains end allowed packets with `return` (the packet goes on to the destination
//! pod's ingress check); ingress group chains `accept`. Both end with `drop`.
//!
//! Service traffic is judged after DNAT: kube-proxy (iptables or nftables mode) DNATs in
//! prerouting (priority -100) and output, before these filter-priority hooks, so the chains see
//! the backend pod's address and target port; replies are un-NATed by conntrack and pass as
//! `established`. (IPVS mode DNATs after input, so pod → Service egress would be judged on the
//! ClusterIP in the input chain: not supported.)
//!
//! The full script starts with `table inet tern {}` and `delete table inet tern`, so `nft -f`
//! replaces the table in one transaction whether or not it existed.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;
use std::net::IpAddr;

use crate::ir::{
    Direction, Family, MapEntry, NamedSet, PeerMatch, PolicyIr, RuleGroup, RuleLine, RuleMatch,
    SetElement, SetKind, set_name,
};
use crate::ports::{PortMatch, PortRange};

/// The table: family `inet`, name `tern`.
pub const TABLE_NAME: &str = "inet tern";

/// Maps and node sets (fixed names).
pub(crate) fn map_name(direction: Direction, family: Family) -> String {
    format!("{}/{}", direction.word(), family.suffix())
}

pub(crate) fn node_set_name(family: Family) -> String {
    format!("node/{}", family.suffix())
}

fn address_type(family: Family) -> &'static str {
    match family {
        Family::V4 => "ipv4_addr",
        Family::V6 => "ipv6_addr",
    }
}

fn address_keyword(family: Family) -> &'static str {
    match family {
        Family::V4 => "ip",
        Family::V6 => "ip6",
    }
}

/// nft limits comments to 128 bytes.
fn comment(text: &str) -> String {
    let mut cut = text.len().min(120);
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("comment \"{}\"", text[..cut].replace('"', "'"))
}

/// `type …; flags …; comment …;` of a named set.
pub(crate) fn set_header(set: &NamedSet) -> String {
    match set.kind {
        SetKind::Addresses(family) => {
            format!("type {}; {};", address_type(family), comment(&set.comment))
        }
        SetKind::Ranges(family) => format!(
            "type {}; flags interval; {};",
            address_type(family),
            comment(&set.comment)
        ),
        SetKind::AddressPortTuples(family) => format!(
            "type {} . inet_proto . inet_service; {};",
            address_type(family),
            comment(&set.comment)
        ),
    }
}

/// One set element in nft syntax.
pub(crate) fn element(element: &SetElement) -> String {
    match element {
        SetElement::Address(address) => address.to_string(),
        SetElement::Range(range) => range.to_string(),
        SetElement::Tuple(address, protocol, port) => format!("{address} . {protocol} . {port}"),
    }
}

/// `a, b, c` with a line break every few elements, for readable listings.
pub(crate) fn element_list<I: IntoIterator<Item = String>>(elements: I) -> String {
    let mut text = String::new();
    for (index, element) in elements.into_iter().enumerate() {
        if index > 0 {
            text.push_str(if index % 8 == 0 { ",\n\t\t\t" } else { ", " });
        }
        text.push_str(&element);
    }
    text
}

/// One protocol/port range as an nft match.
fn single_range_match(range: &PortRange) -> String {
    if range.is_all() {
        format!(" meta l4proto {}", range.protocol)
    } else {
        format!(" {} dport {}", range.protocol, range.ports())
    }
}

/// The ranges of a port match that needs a named port set (more than one range).
fn port_set_ranges(ports: &PortMatch) -> Option<&BTreeSet<PortRange>> {
    match ports {
        PortMatch::Ranges(ranges) if ranges.len() > 1 => Some(ranges),
        _ => None,
    }
}

/// Name of the shared set holding `ranges`: their content, e.g. `ports/tcp-80_tcp-9000-9010`
/// (long lists end in a hash), so equal lists share one set and a set never changes in place.
pub(crate) fn port_set_name(ranges: &BTreeSet<PortRange>) -> String {
    let parts: Vec<String> = ranges
        .iter()
        .map(|range| match range.is_all() {
            true => format!("{}-all", range.protocol),
            false => format!("{}-{}", range.protocol, range.ports()),
        })
        .collect();
    crate::names::fit(format!("ports/{}", parts.join("_")))
}

/// Every port set the group chains of `ir` refer to, by name.
///
/// Port lists go to named sets rather than anonymous ones (`{ tcp . 80, … }` in the rule):
/// the kernel binds each anonymous set by walking the whole transaction and names it by
/// scanning every set of the table, which made a 2,000-policy table take over a second.
pub(crate) fn port_sets(ir: &PolicyIr) -> BTreeMap<String, &BTreeSet<PortRange>> {
    ir.chains
        .values()
        .flat_map(|group| &group.lines)
        .filter_map(|line| match &line.matcher {
            RuleMatch::PeersAndPorts { ports, .. } => port_set_ranges(ports),
            RuleMatch::PeerPortTuples(_) => None,
        })
        .map(|ranges| (port_set_name(ranges), ranges))
        .collect()
}

/// `type …; [flags interval;] comment …; elements = { … }` of a port set.
pub(crate) fn port_set_body(ranges: &BTreeSet<PortRange>) -> String {
    let interval = ranges.iter().any(|range| range.first != range.last);
    let listed: Vec<String> = ranges.iter().map(ToString::to_string).collect();
    let elements = element_list(
        ranges
            .iter()
            .map(|range| format!("{} . {}", range.protocol, range.ports())),
    );
    format!(
        "type inet_proto . inet_service;{} {}; elements = {{ {elements} }}",
        if interval { " flags interval;" } else { "" },
        comment(&format!("ports {}", listed.join(", ")))
    )
}

fn ports_match(ports: &PortMatch) -> String {
    match ports {
        PortMatch::Any => String::new(),
        PortMatch::Ranges(ranges) => match port_set_ranges(ports) {
            Some(ranges) => format!(" meta l4proto . th dport @{}", port_set_name(ranges)),
            None => ranges.iter().map(single_range_match).collect(),
        },
    }
}

/// A verdict-map element: `address comment "ns/pod" : jump chain`.
pub(crate) fn map_element(address: &IpAddr, entry: &MapEntry) -> String {
    format!(
        "{address} {} : jump {}",
        comment(&entry.pod.to_string()),
        entry.chain
    )
}

/// The nft rules (one per family where addresses are involved) of one line.
pub(crate) fn line_rules(direction: Direction, line: &RuleLine) -> Vec<String> {
    let (address_field, verdict) = match direction {
        Direction::Ingress => ("saddr", "accept"),
        Direction::Egress => ("daddr", "return"),
    };
    let note = comment(&line.origin.to_string());
    match &line.matcher {
        RuleMatch::PeersAndPorts {
            peers: PeerMatch::Any,
            ports,
        } => {
            let ports = ports_match(ports);
            let ports = ports.trim_start();
            if ports.is_empty() {
                vec![format!("{verdict} {note}")]
            } else {
                vec![format!("{ports} {verdict} {note}")]
            }
        }
        RuleMatch::PeersAndPorts {
            peers: peers @ PeerMatch::Sets { .. },
            ports,
        } => peers
            .set_bases()
            .flat_map(|base| Family::BOTH.iter().map(move |family| (base, *family)))
            .map(|(base, family)| {
                format!(
                    "{} {address_field} @{}{} {verdict} {note}",
                    address_keyword(family),
                    set_name(base, family),
                    ports_match(ports)
                )
            })
            .collect(),
        RuleMatch::PeerPortTuples(base) => Family::BOTH
            .iter()
            .map(|family| {
                format!(
                    "{} {address_field} . meta l4proto . th dport @{} {verdict} {note}",
                    address_keyword(*family),
                    set_name(base, *family)
                )
            })
            .collect(),
    }
}

/// Chain comment of a group.
pub(crate) fn chain_comment(group: &RuleGroup) -> String {
    let policies: Vec<String> = group.policies.iter().map(ToString::to_string).collect();
    comment(&format!(
        "{} of {}",
        group.direction.word(),
        policies.join(", ")
    ))
}

/// All rules of a group chain, in order.
pub(crate) fn chain_rules(group: &RuleGroup) -> Vec<String> {
    let mut rules = vec!["ct state invalid drop".to_string()];
    for line in &group.lines {
        rules.extend(line_rules(group.direction, line));
    }
    rules.push(format!("drop {}", comment("isolated: no rule allows it")));
    rules
}

const NEIGHBOR_DISCOVERY: &str = "icmpv6 type { nd-router-solicit, nd-router-advert, \
nd-neighbor-solicit, nd-neighbor-advert, nd-redirect } accept";

fn base_chain(out: &mut String, hook: &str, rules: &[String]) {
    let _ = writeln!(out, "\tchain {hook} {{");
    let _ = writeln!(
        out,
        "\t\ttype filter hook {hook} priority filter; policy accept;"
    );
    let _ = writeln!(out, "\t\tct state established,related accept");
    let _ = writeln!(out, "\t\t{NEIGHBOR_DISCOVERY}");
    for rule in rules {
        let _ = writeln!(out, "\t\t{rule}");
    }
    let _ = writeln!(out, "\t}}");
}

fn vmap_rules(direction: Direction) -> Vec<String> {
    let field = match direction {
        Direction::Ingress => "daddr",
        Direction::Egress => "saddr",
    };
    Family::BOTH
        .iter()
        .map(|family| {
            format!(
                "{} {field} vmap @{}",
                address_keyword(*family),
                map_name(direction, *family)
            )
        })
        .collect()
}

fn named_set_block(out: &mut String, keyword: &str, name: &str, header: &str, elements: String) {
    let _ = write!(out, "\t{keyword} {name} {{ {header}");
    if !elements.is_empty() {
        let _ = write!(out, " elements = {{ {elements} }}");
    }
    let _ = writeln!(out, " }}");
}

/// One group chain as it stands in the table block (indented one level).
fn chain_block(out: &mut String, name: &str, group: &RuleGroup) {
    let _ = writeln!(out, "\tchain {name} {{\n\t\t{};", chain_comment(group));
    for rule in chain_rules(group) {
        let _ = writeln!(out, "\t\t{rule}");
    }
    let _ = writeln!(out, "\t}}");
}

/// The group chains `names` of `ir` inside `table inet tern { … }`, as the full script
/// renders them (what `nft list chain inet tern NAME` shows, up to nft's own spelling of
/// the matches); names that are not chains of `ir` are skipped. `None` when none is.
pub fn chains_text<'a>(ir: &PolicyIr, names: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let mut out = String::new();
    for name in names {
        if let Some(group) = ir.chains.get(name) {
            chain_block(&mut out, name, group);
        }
    }
    (!out.is_empty()).then(|| format!("table inet tern {{\n{out}}}\n"))
}

/// The `table inet tern { … }` block.
pub(crate) fn table_block(ir: &PolicyIr) -> String {
    let mut out = String::from("table inet tern {\n");
    for family in Family::BOTH {
        let addresses = ir.node_addresses.iter().filter(|a| Family::of(a) == family);
        named_set_block(
            &mut out,
            "set",
            &node_set_name(family),
            &format!(
                "type {}; {};",
                address_type(family),
                comment("this node's addresses")
            ),
            element_list(addresses.map(ToString::to_string)),
        );
    }
    for (name, ranges) in port_sets(ir) {
        let _ = writeln!(out, "\tset {name} {{ {} }}", port_set_body(ranges));
    }
    for (name, set) in &ir.sets {
        let elements = element_list(set.elements.iter().map(element));
        named_set_block(&mut out, "set", name, &set_header(set), elements);
    }
    for (name, group) in &ir.chains {
        chain_block(&mut out, name, group);
    }
    for direction in [Direction::Ingress, Direction::Egress] {
        for family in Family::BOTH {
            let entries = ir
                .map(direction)
                .iter()
                .filter(|(address, _)| Family::of(address) == family)
                .map(|(address, entry)| map_element(address, entry));
            named_set_block(
                &mut out,
                "map",
                &map_name(direction, family),
                &format!("type {} : verdict;", address_type(family)),
                element_list(entries),
            );
        }
    }
    let mut forward = vmap_rules(Direction::Egress);
    forward.extend(vmap_rules(Direction::Ingress));
    base_chain(&mut out, "forward", &forward);
    base_chain(&mut out, "input", &vmap_rules(Direction::Egress));
    let mut output: Vec<String> = Family::BOTH
        .iter()
        .map(|family| {
            format!(
                "{} saddr @{} accept {}",
                address_keyword(*family),
                node_set_name(*family),
                comment("from this node (kubelet probes)")
            )
        })
        .collect();
    output.extend(vmap_rules(Direction::Ingress));
    base_chain(&mut out, "output", &output);
    out.push_str("}\n");
    out
}

/// The full script for `nft -f`: replaces `table inet tern` in one transaction.
pub fn render_full(ir: &PolicyIr) -> String {
    format!(
        "# tern: NetworkPolicy for this node; generated, do not edit.\n\
         table inet tern {{}}\n\
         delete table inet tern\n{}",
        table_block(ir)
    )
}
