//! Whether a rule matches a route, and how operations change a route.

use ipnetwork::IpNetwork;

use crate::packet::{AsPath, PathAttributes};

use super::Candidate;
use super::rule::{CidrMatch, CommunityValue, MatchOperator, Operation, Rule, RuleSource};

impl Rule {
    /// True when every criterion set on the rule holds for `candidate`.
    pub fn matches(&self, candidate: &Candidate<'_>) -> bool {
        let attributes = candidate.attributes;
        self.cidr
            .as_ref()
            .is_none_or(|cidr| cidr.matches(&candidate.prefix))
            && self.source.is_none_or(|source| match source {
                RuleSource::RemotePeers => candidate.learned,
            })
            && self
                .peer_type
                .is_none_or(|peer_type| peer_type == candidate.peer_type)
            && self
                .communities
                .iter()
                .all(|community| carries(attributes, community))
            && starts_with(attributes.as_path.as_ref(), &self.as_path_prefix)
    }
}

impl CidrMatch {
    /// `matchOperator` applied to `prefix` (a prefix of the other family never matches, and
    /// neither does its negation: the rule lists are per family anyway).
    pub fn matches(&self, prefix: &IpNetwork) -> bool {
        if prefix.is_ipv4() != self.cidr.is_ipv4() {
            return false;
        }
        let equal =
            prefix.network() == self.cidr.network() && prefix.prefix() == self.cidr.prefix();
        match self.operator {
            MatchOperator::Equal => equal,
            MatchOperator::NotEqual => !equal,
            MatchOperator::In => self.contains(prefix),
            MatchOperator::NotIn => !self.contains(prefix),
        }
    }

    /// Inside the CIDR with a length in the allowed range.
    fn contains(&self, prefix: &IpNetwork) -> bool {
        let full = if self.cidr.is_ipv4() { 32 } else { 128 };
        let range = self.prefix_length.unwrap_or_default();
        let min = range.min.unwrap_or(self.cidr.prefix());
        let max = range.max.unwrap_or(full);
        prefix.prefix() >= self.cidr.prefix()
            && self.cidr.contains(prefix.network())
            && (min..=max).contains(&prefix.prefix())
    }
}

fn carries(attributes: &PathAttributes, community: &CommunityValue) -> bool {
    match community {
        CommunityValue::Standard(c) => attributes.communities.contains(c),
        CommunityValue::Large(c) => attributes.large_communities.contains(c),
    }
}

fn starts_with(path: Option<&AsPath>, prefix: &[u32]) -> bool {
    if prefix.is_empty() {
        return true;
    }
    let Some(path) = path else {
        return false;
    };
    let mut asns = path.asns();
    prefix.iter().all(|want| asns.next() == Some(*want))
}

impl Operation {
    /// Change `attributes` in place.
    pub fn apply(&self, attributes: &mut PathAttributes) {
        match self {
            Operation::AddCommunity(CommunityValue::Standard(c)) => {
                if !attributes.communities.contains(c) {
                    attributes.communities.push(*c);
                }
            }
            Operation::AddCommunity(CommunityValue::Large(c)) => {
                if !attributes.large_communities.contains(c) {
                    attributes.large_communities.push(*c);
                }
            }
            Operation::PrependAsPath(asns) => {
                let mut path = attributes.as_path.take().unwrap_or_default();
                for asn in asns.iter().rev() {
                    path = path.prepend(*asn);
                }
                attributes.as_path = Some(path);
            }
            Operation::SetLocalPreference(value) => attributes.local_pref = Some(*value),
        }
    }
}
