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

fn in_set(ir: &PolicyIr, name: &str, wanted: impl Fn(&SetElement) -> bool) -> bool {
    ir.sets
        .get(name)
        .is_some_and(|set| set.elements.iter().any(wanted))
}

fn line_matches(ir: &PolicyIr, matcher: &RuleMatch, peer: IpAddr, packet: &Packet) -> bool {
    let family = Family::of(&peer);
    match matcher {
        RuleMatch::PeersAndPorts { peers, ports } => {
            let peer_ok = match peers {
                PeerMatch::Any => true,
                PeerMatch::Sets { .. } => peers.set_bases().any(|base| {
                    in_set(ir, &set_name(base, family), |element| element.covers(&peer))
                }),
            };
            peer_ok && ports.matches(packet.transport(), packet.port)
        }
        RuleMatch::PeerPortTuples(base) => match (packet.transport(), packet.port) {
            (Some(protocol), Some(port)) => in_set(ir, &set_name(base, family), |element| {
                *element == SetElement::Tuple(peer, protocol, port)
            }),
            _ => false,
        },
    }
}

/// Run one group chain: the allowing rule, or `None` (dropped).
fn run_chain(ir: &PolicyIr, group: &RuleGroup, packet: &Packet) -> Option<RuleOrigin> {
    let peer = match group.direction {
        Direction::Ingress => packet.source,
        Direction::Egress => packet.destination,
    };
    group
        .lines
        .iter()
        .find(|line| line_matches(ir, &line.matcher, peer, packet))
        .map(|line| line.origin.clone())
}

fn judge(
    ir: &PolicyIr,
    direction: Direction,
    packet: &Packet,
    allowed_by: &mut Vec<RuleOrigin>,
) -> Result<(), Verdict> {
    let key = match direction {
        Direction::Ingress => packet.destination,
        Direction::Egress => packet.source,
    };
    let Some(chain) = ir.map(direction).get(&key) else {
        return Ok(());
    };
    let Some(group) = ir.chains.get(chain) else {
        return Ok(());
    };
    match run_chain(ir, group, packet) {
        Some(origin) => {
            allowed_by.push(origin);
            Ok(())
        }
        None => Err(Verdict::Drop {
            chain: chain.clone(),
        }),
    }
}

/// The verdict of the table for the first packet of a connection at `hook`.
pub fn explain(ir: &PolicyIr, hook: Hook, packet: &Packet) -> Verdict {
    if packet.is_neighbor_discovery() {
        return Verdict::Accept {
            allowed_by: Vec::new(),
        };
    }
    let mut allowed_by = Vec::new();
    let steps: &[Direction] = match hook {
        Hook::Forward => &[Direction::Egress, Direction::Ingress],
        Hook::Input => &[Direction::Egress],
        Hook::Output if ir.node_addresses.contains(&packet.source) => &[],
        Hook::Output => &[Direction::Ingress],
    };
    for direction in steps {
        if let Err(verdict) = judge(ir, *direction, packet, &mut allowed_by) {
            return verdict;
        }
    }
    Verdict::Accept { allowed_by }
}
