//! The normalized policy IR: what the compiler produces and the renderer, the differ and the
//! explainer consume.
//!
//! The IR is already shaped like the nftables table (see [`crate::render`]): one chain per
//! *rule group* (pods of this node whose effective rules for a direction are identical), named
//! sets of peer addresses and of `address . protocol . port` tuples, and per-direction verdict
//! maps from a local pod address to its group chain. A pod absent from a direction's map is not
//! isolated in that direction. All collections are ordered, so equal inputs give equal IR and
//! byte-identical scripts.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::net::IpAddr;

use crate::address::AddressRange;
use crate::ports::{PortMatch, Protocol};

/// A NetworkPolicy's identity, `namespace/name`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PolicyId {
    /// `metadata.namespace`.
    pub namespace: String,
    /// `metadata.name`.
    pub name: String,
}

impl fmt::Display for PolicyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)
    }
}

/// A pod's identity, `namespace/name`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PodId {
    /// `metadata.namespace`.
    pub namespace: String,
    /// `metadata.name`.
    pub name: String,
}

impl fmt::Display for PodId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)
    }
}

/// The direction a policy rule governs, as seen from the selected pod.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Direction {
    /// Traffic to the selected pod (`spec.ingress`, `from`).
    Ingress,
    /// Traffic from the selected pod (`spec.egress`, `to`).
    Egress,
}

impl Direction {
    /// Short prefix used in nft object names: `ing` or `egr`.
    pub fn prefix(self) -> &'static str {
        match self {
            Direction::Ingress => "ing",
            Direction::Egress => "egr",
        }
    }

    /// `ingress` or `egress`, as in comments.
    pub fn word(self) -> &'static str {
        match self {
            Direction::Ingress => "ingress",
            Direction::Egress => "egress",
        }
    }
}

/// IP family of a set, map or address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Family {
    /// IPv4 (`ip`).
    V4,
    /// IPv6 (`ip6`).
    V6,
}

impl Family {
    /// The family of an address.
    pub fn of(address: &IpAddr) -> Family {
        match address {
            IpAddr::V4(_) => Family::V4,
            IpAddr::V6(_) => Family::V6,
        }
    }

    /// Name suffix `v4` / `v6`.
    pub fn suffix(self) -> &'static str {
        match self {
            Family::V4 => "v4",
            Family::V6 => "v6",
        }
    }

    /// Both families, IPv4 first.
    pub const BOTH: [Family; 2] = [Family::V4, Family::V6];
}

/// Where a rule line came from: `policy`'s `direction` rule number `index` (0-based, as in the
/// object's list).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RuleOrigin {
    /// The policy.
    pub policy: PolicyId,
    /// Ingress or egress list.
    pub direction: Direction,
    /// Index in that list.
    pub index: usize,
}

impl fmt::Display for RuleOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} rule {}",
            self.policy,
            self.direction.word(),
            self.index
        )
    }
}

/// The peer side of a rule line.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PeerMatch {
    /// `from`/`to` missing or empty: every address.
    Any,
    /// Addresses in any of these set pairs (`<base>/v4`, `<base>/v6`; see [`set_name`]). Both
    /// `None` (every peer invalid) matches nothing and yields no line.
    Sets {
        /// Addresses of pods the rule's selector peers pick (a hash set: pod churn is cheap).
        pods: Option<String>,
        /// `ipBlock` ranges, except holes carved (an interval set, changed only by policy edits).
        blocks: Option<String>,
    },
}

impl PeerMatch {
    /// The set pair bases this match refers to.
    pub fn set_bases(&self) -> impl Iterator<Item = &str> {
        let (pods, blocks) = match self {
            PeerMatch::Any => (None, None),
            PeerMatch::Sets { pods, blocks } => (pods.as_deref(), blocks.as_deref()),
        };
        pods.into_iter().chain(blocks)
    }
}

/// One allow line in a group chain.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RuleMatch {
    /// Peer address (source for ingress, destination for egress) in `peers` and protocol/port in
    /// `ports`.
    PeersAndPorts {
        /// Peer addresses.
        peers: PeerMatch,
        /// Protocols and destination ports.
        ports: PortMatch,
    },
    /// Egress named ports: `daddr . l4proto . dport` in the named tuple set pair, which holds the
    /// port each peer pod serves under that name.
    PeerPortTuples(String),
}

/// One allow line and its origin.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RuleLine {
    /// Which policy rule produced the line.
    pub origin: RuleOrigin,
    /// What the line matches.
    pub matcher: RuleMatch,
}

/// The effective rules of a set of pods for one direction: one chain in the table. A packet that
/// matches no line is dropped (the pods are isolated).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RuleGroup {
    /// Direction.
    pub direction: Direction,
    /// Every policy that selects these pods for this direction, sorted. All share the pods'
    /// namespace.
    pub policies: Vec<PolicyId>,
    /// Allow lines in evaluation order (policies sorted, then rule index).
    pub lines: Vec<RuleLine>,
}

/// What a named set holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SetKind {
    /// `type ipv4_addr|ipv6_addr`: single addresses (hash set).
    Addresses(Family),
    /// `type ipv4_addr|ipv6_addr; flags interval`: address ranges. nft fetches every interval
    /// set's elements before any element update, so these stay small (ipBlocks only).
    Ranges(Family),
    /// `type ipvX_addr . inet_proto . inet_service`: exact tuples (hash set).
    AddressPortTuples(Family),
}

impl SetKind {
    /// The family of the set's addresses.
    pub fn family(self) -> Family {
        match self {
            SetKind::Addresses(family)
            | SetKind::Ranges(family)
            | SetKind::AddressPortTuples(family) => family,
        }
    }
}

/// One element of a named set.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SetElement {
    /// One address.
    Address(IpAddr),
    /// An inclusive address range.
    Range(AddressRange),
    /// `address . protocol . port`.
    Tuple(IpAddr, Protocol, u16),
}

impl SetElement {
    /// Whether the element covers `address` (tuples never do).
    pub fn covers(&self, address: &IpAddr) -> bool {
        match self {
            SetElement::Address(own) => own == address,
            SetElement::Range(range) => range.contains(address),
            SetElement::Tuple(..) => false,
        }
    }
}

/// A named set and its elements.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NamedSet {
    /// Type of the set.
    pub kind: SetKind,
    /// Human-readable origin (becomes the set's `comment`).
    pub comment: String,
    /// Elements; in a [`SetKind::Ranges`] set they never overlap.
    pub elements: BTreeSet<SetElement>,
}

/// A local pod the compiler placed in the IR.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocalPod {
    /// Namespace and name.
    pub id: PodId,
    /// The pod's addresses (`status.podIPs`).
    pub addresses: Vec<IpAddr>,
    /// Chain name of the ingress group, when isolated for ingress.
    pub ingress_chain: Option<String>,
    /// Chain name of the egress group, when isolated for egress.
    pub egress_chain: Option<String>,
}

/// One verdict-map entry: a local pod address and the group chain it jumps to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MapEntry {
    /// The group chain.
    pub chain: String,
    /// The pod owning the address (the element's comment).
    pub pod: PodId,
}

/// The whole compiled policy for one node.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PolicyIr {
    /// The node's own addresses: their traffic to local pods is always allowed.
    pub node_addresses: BTreeSet<IpAddr>,
    /// Local pods (on this node, not hostNetwork, with addresses), by id.
    pub pods: BTreeMap<PodId, LocalPod>,
    /// Group chains by chain name.
    pub chains: BTreeMap<String, RuleGroup>,
    /// Named sets by set name.
    pub sets: BTreeMap<String, NamedSet>,
    /// `ingress/v4|v6` verdict maps: local pod address → group chain.
    pub ingress_map: BTreeMap<IpAddr, MapEntry>,
    /// `egress/v4|v6` verdict maps: local pod address → group chain.
    pub egress_map: BTreeMap<IpAddr, MapEntry>,
}

impl PolicyIr {
    /// The verdict map of a direction.
    pub fn map(&self, direction: Direction) -> &BTreeMap<IpAddr, MapEntry> {
        match direction {
            Direction::Ingress => &self.ingress_map,
            Direction::Egress => &self.egress_map,
        }
    }
}

/// The name of one family's half of a set pair: `<base>/v4` or `<base>/v6`.
pub fn set_name(base: &str, family: Family) -> String {
    format!("{base}/{}", family.suffix())
}
