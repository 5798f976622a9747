//! Evaluate the IR for one packet exactly as the rendered table does, for a new connection
//! (conntrack `established`/`related` packets always pass). This is the ground truth for unit
//! tests of the semantics and the basis of an operator's "why was this dropped?".

use std::net::IpAddr;

use crate::ir::{
    Direction, Family, PeerMatch, PolicyIr, RuleGroup, RuleMatch, RuleOrigin, SetElement, set_name,
};
use crate::ports::Protocol;

/// The netfilter hook a packet traverses on this node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hook {
    /// Routed through the host: pod ↔ pod, pod ↔ remote.
    Forward,
    /// Delivered to the host: pod → host.
    Input,
    /// Sent by the host: host → pod.
    Output,
}

/// The first packet of a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Packet {
    /// Source address.
    pub source: IpAddr,
    /// Destination address (after DNAT).
    pub destination: IpAddr,
    /// IP protocol number (6 TCP, 17 UDP, 132 SCTP, 1 ICMP, 58 ICMPv6).
    pub protocol: u8,
    /// Destination port, for TCP, UDP and SCTP.
    pub port: Option<u16>,
    /// ICMP(v6) type, for ICMP.
    pub icmp_type: Option<u8>,
}

impl Packet {
    /// A TCP SYN.
    pub fn tcp(source: IpAddr, destination: IpAddr, port: u16) -> Packet {
        Packet::ports(source, destination, Protocol::Tcp, port)
    }

    /// A UDP datagram.
    pub fn udp(source: IpAddr, destination: IpAddr, port: u16) -> Packet {
        Packet::ports(source, destination, Protocol::Udp, port)
    }

    /// A packet of `protocol` to `port`.
    pub fn ports(source: IpAddr, destination: IpAddr, protocol: Protocol, port: u16) -> Packet {
        Packet {
            source,
            destination,
            protocol: protocol.number(),
            port: Some(port),
            icmp_type: None,
        }
    }

    /// An ICMP echo request (ICMPv6 for IPv6 addresses).
    pub fn ping(source: IpAddr, destination: IpAddr) -> Packet {
        let (protocol, icmp_type) = match Family::of(&source) {
            Family::V4 => (1, 8),
            Family::V6 => (58, 128),
        };
        Packet {
            source,
            destination,
            protocol,
            port: None,
            icmp_type: Some(icmp_type),
        }
    }

    fn transport(&self) -> Option<Protocol> {
        [Protocol::Tcp, Protocol::Udp, Protocol::Sctp]
            .into_iter()
            .find(|protocol| protocol.number() == self.protocol)
    }

    fn is_neighbor_discovery(&self) -> bool {
        self.protocol == 58
            && self
                .icmp_type
                .is_some_and(|kind| (133..=137).contains(&kind))
    }
}

/// What the table does with a packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Passed; `allowed_by` lists the rules that allowed it (empty: no isolation applied).
    Accept {
        /// Egress rule first (if the source was isolated), then ingress rule.
        allowed_by: Vec<RuleOrigin>,
    },
    /// Dropped at the end of `chain`.
    Drop {
        /// The group chain that found no allowing rule.
        chain: String,
    },
}

impl Verdict {
    /// Whether the packet passes.
    pub fn is_accept(&self) -> bool {
        matches!(self, Verdict::Accept { .. })
    }
}

/// Whether a set of the IR holds an element covering `address` (or equal to a tuple).
fn set_covers(ir: &PolicyIr, name: &str, address: IpAddr) -> bool {
    ir.sets.get(name).is_some_and(|set| {
        set.elements.contains(&SetElement::Address(address))
            || set.elements.iter().any(|element| element.covers(&address))
    })
}

fn set_holds(ir: &PolicyIr, name: &str, element: &SetElement) -> bool {
    ir.sets
        .get(name)
        .is_some_and(|set| set.elements.contains(element))
}

/// The rendered rules of one line, in order, each as "does it match".
fn line_rule_matches(
    ir: &PolicyIr,
    matcher: &RuleMatch,
    peer: IpAddr,
    packet: &Packet,
) -> Vec<bool> {
    let family = Family::of(&peer);
    match matcher {
        RuleMatch::PeersAndPorts {
            peers: PeerMatch::Any,
            ports,
        } => {
            vec![ports.matches(packet.transport(), packet.port)]
        }
        RuleMatch::PeersAndPorts { peers, ports } => {
            let ports_ok = ports.matches(packet.transport(), packet.port);
            peers
                .set_bases()
                .flat_map(|base| Family::BOTH.iter().map(move |f| (base, *f)))
                .map(|(base, set_family)| {
                    set_family == family
                        && ports_ok
                        && set_covers(ir, &set_name(base, family), peer)
                })
                .collect()
        }
        RuleMatch::PeerPortTuples(base) => Family::BOTH
            .iter()
            .map(|set_family| match (packet.transport(), packet.port) {
                (Some(protocol), Some(port)) if *set_family == family => set_holds(
                    ir,
                    &set_name(base, family),
                    &SetElement::Tuple(peer, protocol, port),
                ),
                _ => false,
            })
            .collect(),
    }
}

/// Run one group chain: the allowing rule (or `None`: dropped), counting rules evaluated.
fn run_chain(
    ir: &PolicyIr,
    group: &RuleGroup,
    packet: &Packet,
    rules: &mut usize,
) -> Option<RuleOrigin> {
    let peer = match group.direction {
        Direction::Ingress => packet.source,
        Direction::Egress => packet.destination,
    };
    *rules += 1; // ct state invalid drop
    for line in &group.lines {
        let matches = line_rule_matches(ir, &line.matcher, peer, packet);
        match matches.iter().position(|matched| *matched) {
            Some(position) => {
                *rules += position + 1;
                return Some(line.origin.clone());
            }
            None => *rules += matches.len(),
        }
    }
    *rules += 1; // drop
    None
}

/// The verdict and the number of rules the packet meets on its way (base chain and group
/// chains), the per-packet path length that must not grow with the number of policies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Evaluation {
    /// What happens to the packet.
    pub verdict: Verdict,
    /// Rules evaluated, counting vmap lookups as one rule each.
    pub rules_evaluated: usize,
}

/// The verdict of the table for the first packet of a connection at `hook`.
pub fn explain(ir: &PolicyIr, hook: Hook, packet: &Packet) -> Verdict {
    evaluate(ir, hook, packet).verdict
}

/// Like [`explain`], with the path length.
pub fn evaluate(ir: &PolicyIr, hook: Hook, packet: &Packet) -> Evaluation {
    let mut rules = 2; // ct state established,related; icmpv6 nd
    let accept = |allowed_by, rules_evaluated| Evaluation {
        verdict: Verdict::Accept { allowed_by },
        rules_evaluated,
    };
    if packet.is_neighbor_discovery() {
        return accept(Vec::new(), rules);
    }
    let family = Family::of(&packet.source);
    if hook == Hook::Output {
        rules += if family == Family::V4 { 1 } else { 2 };
        if ir.node_addresses.contains(&packet.source) {
            return accept(Vec::new(), rules);
        }
        rules += if family == Family::V4 { 1 } else { 0 };
    }
    let steps: &[Direction] = match hook {
        Hook::Forward => &[Direction::Egress, Direction::Ingress],
        Hook::Input => &[Direction::Egress],
        Hook::Output => &[Direction::Ingress],
    };
    let mut allowed_by = Vec::new();
    for direction in steps {
        let key = match direction {
            Direction::Ingress => packet.destination,
            Direction::Egress => packet.source,
        };
        // The v4 vmap rule, then the v6 one; the family's own rule does the lookup.
        rules += if family == Family::V4 { 1 } else { 2 };
        let group = ir
            .map(*direction)
            .get(&key)
            .and_then(|entry| Some((&entry.chain, ir.chains.get(&entry.chain)?)));
        if let Some((chain, group)) = group {
            match run_chain(ir, group, packet, &mut rules) {
                Some(origin) if *direction == Direction::Ingress => {
                    allowed_by.push(origin);
                    return accept(allowed_by, rules);
                }
                Some(origin) => allowed_by.push(origin),
                None => {
                    return Evaluation {
                        verdict: Verdict::Drop {
                            chain: chain.clone(),
                        },
                        rules_evaluated: rules,
                    };
                }
            }
        }
        rules += if family == Family::V4 { 1 } else { 0 };
    }
    accept(allowed_by, rules)
}
