//! Import and export filters with the meaning of Calico's `BGPFilter` (projectcalico.org/v3).
//!
//! A [`Filter`] holds four ordered rule lists: import and export, IPv4 and IPv6. A peer has
//! an ordered list of filters ([`crate::PeerConfig::filters`]). For a route, the filters are
//! tried in order and, in each, the rules of the route's direction and family in order: the
//! first rule that matches decides — [`Action::Reject`] drops the route, [`Action::Accept`]
//! takes it after applying the rule's [`Operation`]s. A filter without a matching rule passes
//! the route on to the next filter; when no rule of any filter matches, the route is accepted
//! (Calico: "the default action is Accept"). A peer without filters accepts everything.
//!
//! Import filters see the route as received (after loop checks); export filters see the best
//! path as in the Loc-RIB, before the per-peer changes of [`mod@crate::rib::export`] (our AS is
//! prepended after an export filter's prepend, like BIRD's export filters).
//!
//! Not supported: Calico's `interface` and `priority` criteria and its `setPriority`
//! operation (they concern kernel routes, which the agent handles before originating).
//!
//! Pure: no I/O; [`evaluate`] and [`apply`] are functions of their arguments.

mod matching;
mod rule;

use std::sync::Arc;

use ipnetwork::IpNetwork;

use crate::packet::PathAttributes;
use crate::rib::PeerType;

pub use rule::{
    Action, CidrMatch, CommunityValue, MatchOperator, Operation, PrefixLength, Rule, RuleSource,
};

/// One BGPFilter: ordered rules per direction and family.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// The resource name (for logs).
    pub name: String,
    /// `exportV4`.
    pub export_v4: Vec<Rule>,
    /// `importV4`.
    pub import_v4: Vec<Rule>,
    /// `exportV6`.
    pub export_v6: Vec<Rule>,
    /// `importV6`.
    pub import_v6: Vec<Rule>,
}

impl Filter {
    /// The rules for a direction and the family of `prefix`.
    pub fn rules(&self, direction: Direction, prefix: &IpNetwork) -> &[Rule] {
        match (direction, prefix) {
            (Direction::Import, IpNetwork::V4(_)) => &self.import_v4,
            (Direction::Import, IpNetwork::V6(_)) => &self.import_v6,
            (Direction::Export, IpNetwork::V4(_)) => &self.export_v4,
            (Direction::Export, IpNetwork::V6(_)) => &self.export_v6,
        }
    }
}

/// Routes received from the peer, or routes sent to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    Import,
    Export,
}

/// The route a filter looks at.
#[derive(Debug, Clone, Copy)]
pub struct Candidate<'a> {
    pub prefix: IpNetwork,
    pub attributes: &'a PathAttributes,
    /// The type of the peer the route comes from (import) or goes to (export).
    pub peer_type: PeerType,
    /// Learned from a BGP peer (for `source: RemotePeers`); false for our own routes.
    pub learned: bool,
}

/// What the filters decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict<'a> {
    /// Take the route, changed by these operations (empty: unchanged).
    Accept(&'a [Operation]),
    /// Drop it.
    Reject,
}

impl Verdict<'_> {
    /// An identity for the operations, so callers can share the changed attributes of routes
    /// accepted by the same rule: 0 for unchanged.
    pub fn operations_key(&self) -> usize {
        match self {
            Verdict::Accept(operations) if !operations.is_empty() => operations.as_ptr() as usize,
            _ => 0,
        }
    }
}

/// Run `filters` over `candidate` in `direction`.
pub fn evaluate<'a>(
    filters: &'a [Arc<Filter>],
    direction: Direction,
    candidate: &Candidate<'_>,
) -> Verdict<'a> {
    for filter in filters {
        for rule in filter.rules(direction, &candidate.prefix) {
            if rule.matches(candidate) {
                return match rule.action {
                    Action::Accept => Verdict::Accept(&rule.operations),
                    Action::Reject => Verdict::Reject,
                };
            }
        }
    }
    Verdict::Accept(&[])
}

/// The attributes after `operations`, in order.
pub fn apply(operations: &[Operation], attributes: &PathAttributes) -> PathAttributes {
    let mut changed = attributes.clone();
    for operation in operations {
        operation.apply(&mut changed);
    }
    changed
}

#[cfg(test)]
mod tests;
