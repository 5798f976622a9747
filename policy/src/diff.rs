//! Incremental update: previous IR × new IR → one `nft -f` script of the differences, applied as
//! one transaction. Pod churn becomes `add element` / `delete element` on the verdict maps and
//! peer sets; a new or vanished rule group becomes `add chain` / `delete chain`. Base chains
//! never change.
//!
//! Order inside the script keeps every reference valid at each step: new sets (peer and port
//! sets), new chains and their rules, element deletions then additions, map entries, and only
//! then the removal of chains (no map entry jumps there any more) and of sets (no rule refers to
//! them any more).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;
use std::net::IpAddr;

use crate::ir::{Direction, Family, MapEntry, NamedSet, PolicyIr, SetKind};
use crate::netlink::{Element, ElementOp, address_key, element_key};
use crate::render::{
    chain_comment, chain_rules, element, element_list, map_element, map_name, node_set_name,
    port_set_body, port_sets, set_header,
};

fn elements_command(out: &mut String, verb: &str, set: &str, elements: Vec<String>) {
    if !elements.is_empty() {
        let _ = writeln!(
            out,
            "{verb} element inet tern {set} {{ {} }}",
            element_list(elements)
        );
    }
}

fn set_elements(out: &mut String, name: &str, old: Option<&NamedSet>, new: &NamedSet) {
    let empty = BTreeSet::new();
    let old_elements = old.map(|set| &set.elements).unwrap_or(&empty);
    let removed = old_elements
        .difference(&new.elements)
        .map(element)
        .collect();
    elements_command(out, "delete", name, removed);
    let added = new.elements.difference(old_elements).map(element).collect();
    elements_command(out, "add", name, added);
}

fn node_elements(ir: &PolicyIr, family: Family) -> BTreeSet<IpAddr> {
    ir.node_addresses
        .iter()
        .copied()
        .filter(|a| Family::of(a) == family)
        .collect()
}

fn map_entries(
    out: &mut String,
    direction: Direction,
    old: &BTreeMap<IpAddr, MapEntry>,
    new: &BTreeMap<IpAddr, MapEntry>,
) {
    for family in Family::BOTH {
        let in_family = |address: &&IpAddr| Family::of(address) == family;
        let removed: Vec<String> = old
            .iter()
            .filter(|(address, entry)| new.get(*address) != Some(*entry))
            .map(|(address, _)| address)
            .filter(in_family)
            .map(ToString::to_string)
            .collect();
        let added: Vec<String> = new
            .iter()
            .filter(|(address, entry)| old.get(*address) != Some(*entry))
            .filter(|(address, _)| in_family(address))
            .map(|(address, entry)| map_element(address, entry))
            .collect();
        let map = map_name(direction, family);
        elements_command(out, "delete", &map, removed);
        elements_command(out, "add", &map, added);
    }
}

/// The script that turns the table rendered from `old` into the one rendered from `new`, or
/// `None` when the change cannot be expressed incrementally (a set changed its type). An empty
/// script means nothing changed.
pub fn render_update(old: &PolicyIr, new: &PolicyIr) -> Option<String> {
    let mut out = String::new();
    for (name, set) in &new.sets {
        match old.sets.get(name) {
            Some(previous) if previous.kind != set.kind => return None,
            Some(_) => {}
            None => {
                let _ = writeln!(out, "add set inet tern {name} {{ {} }}", set_header(set));
            }
        }
    }
    let (old_ports, new_ports) = (port_sets(old), port_sets(new));
    for (name, ranges) in &new_ports {
        if !old_ports.contains_key(name) {
            let _ = writeln!(
                out,
                "add set inet tern {name} {{ {} }}",
                port_set_body(ranges)
            );
        }
    }
    for (name, group) in &new.chains {
        match old.chains.get(name) {
            Some(previous) if previous != group => return None,
            Some(_) => {}
            None => {
                let _ = writeln!(
                    out,
                    "add chain inet tern {name} {{ {}; }}",
                    chain_comment(group)
                );
                for rule in chain_rules(group) {
                    let _ = writeln!(out, "add rule inet tern {name} {rule}");
                }
            }
        }
    }
    for family in Family::BOTH {
        let (old_nodes, new_nodes) = (node_elements(old, family), node_elements(new, family));
        let name = node_set_name(family);
        let removed = old_nodes
            .difference(&new_nodes)
            .map(ToString::to_string)
            .collect();
        elements_command(&mut out, "delete", &name, removed);
        let added = new_nodes
            .difference(&old_nodes)
            .map(ToString::to_string)
            .collect();
        elements_command(&mut out, "add", &name, added);
    }
    for (name, set) in &new.sets {
        set_elements(&mut out, name, old.sets.get(name), set);
    }
    for direction in [Direction::Ingress, Direction::Egress] {
        map_entries(&mut out, direction, old.map(direction), new.map(direction));
    }
    for name in old
        .chains
        .keys()
        .filter(|name| !new.chains.contains_key(*name))
    {
        let _ = writeln!(out, "delete chain inet tern {name}");
    }
    let gone = old.sets.keys().filter(|name| !new.sets.contains_key(*name));
    let gone_ports = old_ports
        .keys()
        .filter(|name| !new_ports.contains_key(*name));
    for name in gone.chain(gone_ports) {
        let _ = writeln!(out, "delete set inet tern {name}");
    }
    Some(out)
}

fn element_op(delete: bool, set: String, elements: Vec<Element>) -> Option<ElementOp> {
    (!elements.is_empty()).then_some(ElementOp {
        delete,
        set,
        elements,
    })
}

fn plain(key: Vec<u8>) -> Element {
    Element {
        key,
        jump: None,
        comment: None,
    }
}

/// The difference as element operations only (deletions first), for [`crate::netlink`]; `None`
/// when more than elements of hash sets and maps changed (a chain or set came or went, or an
/// interval set's ranges changed): then [`render_update`] is needed.
pub fn element_ops(old: &PolicyIr, new: &PolicyIr) -> Option<Vec<ElementOp>> {
    if old.chains != new.chains || !old.sets.keys().eq(new.sets.keys()) {
        return None;
    }
    let (mut deletions, mut additions) = (Vec::new(), Vec::new());
    for family in Family::BOTH {
        let (old_nodes, new_nodes) = (node_elements(old, family), node_elements(new, family));
        let name = node_set_name(family);
        let removed = old_nodes.difference(&new_nodes).map(address_key).map(plain);
        deletions.extend(element_op(true, name.clone(), removed.collect()));
        let added = new_nodes.difference(&old_nodes).map(address_key).map(plain);
        additions.extend(element_op(false, name, added.collect()));
    }
    for (name, set) in &new.sets {
        let previous = old.sets.get(name)?;
        if previous.kind != set.kind {
            return None;
        }
        if previous.elements == set.elements {
            continue;
        }
        if matches!(set.kind, SetKind::Ranges(_)) {
            return None;
        }
        let keys = |elements: Vec<&crate::ir::SetElement>| -> Option<Vec<Element>> {
            elements
                .into_iter()
                .map(|e| element_key(e).map(plain))
                .collect()
        };
        let removed = keys(previous.elements.difference(&set.elements).collect())?;
        deletions.extend(element_op(true, name.clone(), removed));
        let added = keys(set.elements.difference(&previous.elements).collect())?;
        additions.extend(element_op(false, name.clone(), added));
    }
    for direction in [Direction::Ingress, Direction::Egress] {
        let (old_map, new_map) = (old.map(direction), new.map(direction));
        for family in Family::BOTH {
            let in_family = |address: &IpAddr| Family::of(address) == family;
            let map = map_name(direction, family);
            let removed = old_map
                .iter()
                .filter(|(address, entry)| {
                    in_family(address) && new_map.get(*address) != Some(*entry)
                })
                .map(|(address, _)| plain(address_key(address)));
            deletions.extend(element_op(true, map.clone(), removed.collect()));
            let added = new_map
                .iter()
                .filter(|(address, entry)| {
                    in_family(address) && old_map.get(*address) != Some(*entry)
                })
                .map(|(address, entry)| Element {
                    key: address_key(address),
                    jump: Some(entry.chain.clone()),
                    comment: Some(entry.pod.to_string()),
                });
            additions.extend(element_op(false, map, added.collect()));
        }
    }
    deletions.append(&mut additions);
    Some(deletions)
}
