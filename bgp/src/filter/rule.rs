//! One filter rule: what it matches, what it does. Field names follow Calico's
//! `BGPFilterRuleV4` / `BGPFilterRuleV6`.

use ipnetwork::IpNetwork;

use crate::packet::{Community, LargeCommunity};
use crate::rib::PeerType;

/// How a route's prefix is compared with the rule's CIDR (`matchOperator`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MatchOperator {
    /// Exactly the CIDR (same address and length).
    Equal,
    /// Anything but exactly the CIDR.
    NotEqual,
    /// Inside the CIDR (or equal), with a prefix length in the rule's range.
    In,
    /// Not `In`.
    NotIn,
}

/// The allowed prefix lengths for `In` / `NotIn` (`prefixLength`). A missing `min` is the
/// CIDR's own length, a missing `max` the family's full length (32 or 128).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct PrefixLength {
    pub min: Option<u8>,
    pub max: Option<u8>,
}

/// The CIDR part of a rule: `cidr`, `matchOperator` and `prefixLength` together.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CidrMatch {
    pub cidr: IpNetwork,
    pub operator: MatchOperator,
    pub prefix_length: Option<PrefixLength>,
}

/// `source: RemotePeers`: only routes learned from BGP peers, not our own (export rules).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RuleSource {
    RemotePeers,
}

/// A community value: `aa:nn` (RFC 1997) or `aa:nn:mm` (RFC 8092).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CommunityValue {
    Standard(Community),
    Large(LargeCommunity),
}

impl std::str::FromStr for CommunityValue {
    type Err = String;

    /// Parse `aa:nn` (each 0–65535) or `aa:nn:mm` (each 0–4294967295).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let parts: Vec<&str> = text.split(':').collect();
        let bad = || format!("community {text:?} is not aa:nn or aa:nn:mm");
        match parts.as_slice() {
            [asn, value] => {
                let asn = asn.parse::<u16>().map_err(|_| bad())?;
                let value = value.parse::<u16>().map_err(|_| bad())?;
                Ok(Self::Standard(Community::new(asn, value)))
            }
            [global, one, two] => Ok(Self::Large(LargeCommunity::new(
                global.parse().map_err(|_| bad())?,
                one.parse().map_err(|_| bad())?,
                two.parse().map_err(|_| bad())?,
            ))),
            _ => Err(bad()),
        }
    }
}

/// What a matching rule does with the route (`action`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    Accept,
    Reject,
}

/// A change to an accepted route (`operations`). Calico has `addCommunity` and
/// `prependASPath`; `SetLocalPreference` is tern's own.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Operation {
    /// Add the community unless the route carries it already.
    AddCommunity(CommunityValue),
    /// Put these ASes in front of the AS_PATH, in this order.
    PrependAsPath(Vec<u32>),
    /// Set LOCAL_PREF (meaningful on import, and on export to internal peers).
    SetLocalPreference(u32),
}

/// One rule. Every criterion that is set must hold for the rule to match; a rule with no
/// criteria matches every route.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Rule {
    /// `cidr` with `matchOperator` and `prefixLength`.
    pub cidr: Option<CidrMatch>,
    /// `source`.
    pub source: Option<RuleSource>,
    /// `peerType`: the peer the route comes from (import) or goes to (export).
    pub peer_type: Option<PeerType>,
    /// `communities.values`: the route must carry every one of them.
    pub communities: Vec<CommunityValue>,
    /// `asPathPrefix`: the AS_PATH must begin with these ASes.
    pub as_path_prefix: Vec<u32>,
    /// `action`.
    pub action: Action,
    /// `operations`, applied in order when the action is Accept.
    pub operations: Vec<Operation>,
}

impl Rule {
    /// A rule with no criteria and no operations.
    pub fn new(action: Action) -> Self {
        Self {
            cidr: None,
            source: None,
            peer_type: None,
            communities: Vec::new(),
            as_path_prefix: Vec::new(),
            action,
            operations: Vec::new(),
        }
    }

    /// The same rule, matching `cidr` with `operator`.
    pub fn cidr(mut self, cidr: IpNetwork, operator: MatchOperator) -> Self {
        self.cidr = Some(CidrMatch {
            cidr,
            operator,
            prefix_length: None,
        });
        self
    }

    /// The same rule with a prefix-length range (needs [`Rule::cidr`] first).
    pub fn prefix_length(mut self, min: Option<u8>, max: Option<u8>) -> Self {
        if let Some(cidr) = &mut self.cidr {
            cidr.prefix_length = Some(PrefixLength { min, max });
        }
        self
    }

    /// The same rule with an operation added.
    pub fn with(mut self, operation: Operation) -> Self {
        self.operations.push(operation);
        self
    }
}
