//! Filters in `tern-speaker`'s JSON configuration, shaped like Calico's `BGPFilter` spec
//! (`exportV4`, `importV4`, ... with `action`, `cidr`, `matchOperator`, `prefixLength`,
//! `communities.values`, `asPathPrefix`, `peerType`, `source`, `operations`), and their
//! conversion to `bgp::filter`.
//!
//! ```json
//! {"name":"f","exportV4":[{"action":"Reject","cidr":"198.19.1.0/24","matchOperator":"Equal"},
//!   {"action":"Accept","communities":{"values":["65001:1"]},
//!    "operations":[{"addCommunity":{"value":"65001:2"}},{"prependASPath":{"prefix":[65001]}}]}]}
//! ```

use std::sync::Arc;

use bgp::PeerType;
use bgp::filter::{Action, CommunityValue, Filter, MatchOperator, Operation, Rule, RuleSource};
use ipnetwork::IpNetwork;
use serde::{Deserialize, Serialize};

/// One `BGPFilter` spec with a name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FilterSpec {
    /// For logs.
    #[serde(default)]
    pub name: String,
    /// IPv4 routes sent to the peer.
    #[serde(default, rename = "exportV4")]
    pub export_v4: Vec<RuleSpec>,
    /// IPv4 routes received from the peer.
    #[serde(default, rename = "importV4")]
    pub import_v4: Vec<RuleSpec>,
    /// IPv6 routes sent to the peer.
    #[serde(default, rename = "exportV6")]
    pub export_v6: Vec<RuleSpec>,
    /// IPv6 routes received from the peer.
    #[serde(default, rename = "importV6")]
    pub import_v6: Vec<RuleSpec>,
}

/// `Accept` or `Reject`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ActionSpec {
    /// Take the route (after the operations).
    Accept,
    /// Drop it.
    Reject,
}

/// `Equal`, `NotEqual`, `In`, `NotIn`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum MatchOperatorSpec {
    /// Exactly the CIDR.
    Equal,
    /// Anything else.
    NotEqual,
    /// Inside the CIDR (within `prefixLength`).
    In,
    /// Not `In`.
    NotIn,
}

/// `iBGP` or `eBGP`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PeerTypeSpec {
    /// Same AS.
    #[serde(rename = "iBGP")]
    Internal,
    /// Another AS.
    #[serde(rename = "eBGP")]
    External,
}

/// `prefixLength`: inclusive bounds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrefixLengthSpec {
    /// Shortest matching length (default: the CIDR's).
    #[serde(default)]
    pub min: Option<u8>,
    /// Longest matching length (default: 32 / 128).
    #[serde(default)]
    pub max: Option<u8>,
}

/// `communities`: the route must carry every value (`aa:nn` or `aa:nn:mm`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommunitiesSpec {
    /// The values.
    pub values: Vec<String>,
}

/// One operation of an accepting rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum OperationSpec {
    /// `{"addCommunity":{"value":"65001:1"}}`.
    AddCommunity {
        /// `aa:nn` or `aa:nn:mm`.
        value: String,
    },
    /// `{"prependASPath":{"prefix":[65001]}}`.
    #[serde(rename = "prependASPath")]
    PrependAsPath {
        /// ASes put in front, in order.
        prefix: Vec<u32>,
    },
    /// `{"setLocalPreference":{"value":200}}` (tern's own).
    SetLocalPreference {
        /// The LOCAL_PREF.
        value: u32,
    },
}

/// One rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RuleSpec {
    /// What a matching route gets.
    pub action: ActionSpec,
    /// The CIDR compared with the route's prefix.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cidr: Option<IpNetwork>,
    /// How (required with `cidr`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub match_operator: Option<MatchOperatorSpec>,
    /// Prefix-length bounds for `In` / `NotIn`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix_length: Option<PrefixLengthSpec>,
    /// `RemotePeers`: only routes learned from peers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// The peer the route comes from (import) or goes to (export).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer_type: Option<PeerTypeSpec>,
    /// Communities the route must carry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub communities: Option<CommunitiesSpec>,
    /// ASes the AS_PATH must start with.
    #[serde(
        default,
        rename = "asPathPrefix",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub as_path_prefix: Vec<u32>,
    /// Changes applied when accepted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub operations: Vec<OperationSpec>,
}

impl RuleSpec {
    /// A rule without criteria (it matches every route).
    pub fn new(action: ActionSpec) -> RuleSpec {
        RuleSpec {
            action,
            cidr: None,
            match_operator: None,
            prefix_length: None,
            source: None,
            peer_type: None,
            communities: None,
            as_path_prefix: Vec::new(),
            operations: Vec::new(),
        }
    }

    /// `Accept` without criteria.
    pub fn accept() -> RuleSpec {
        RuleSpec::new(ActionSpec::Accept)
    }

    /// `Reject` without criteria.
    pub fn reject() -> RuleSpec {
        RuleSpec::new(ActionSpec::Reject)
    }

    /// Matches `cidr` with `operator`.
    pub fn cidr(mut self, cidr: IpNetwork, operator: MatchOperatorSpec) -> RuleSpec {
        self.cidr = Some(cidr);
        self.match_operator = Some(operator);
        self
    }

    /// Bounds the prefix length.
    pub fn prefix_length(mut self, min: Option<u8>, max: Option<u8>) -> RuleSpec {
        self.prefix_length = Some(PrefixLengthSpec { min, max });
        self
    }

    /// Requires a community (`aa:nn`).
    pub fn community(mut self, value: &str) -> RuleSpec {
        self.communities
            .get_or_insert_with(CommunitiesSpec::default)
            .values
            .push(value.to_string());
        self
    }

    /// Requires the AS_PATH to start with `prefix`.
    pub fn as_path_prefix(mut self, prefix: &[u32]) -> RuleSpec {
        self.as_path_prefix = prefix.to_vec();
        self
    }

    /// Requires the peer type.
    pub fn peer_type(mut self, peer_type: PeerTypeSpec) -> RuleSpec {
        self.peer_type = Some(peer_type);
        self
    }

    /// Requires a learned route (`source: RemotePeers`).
    pub fn remote_peers(mut self) -> RuleSpec {
        self.source = Some("RemotePeers".into());
        self
    }

    /// Adds an operation.
    pub fn then(mut self, operation: OperationSpec) -> RuleSpec {
        self.operations.push(operation);
        self
    }

    /// The `bgp` rule.
    pub fn to_rule(&self) -> Result<Rule, String> {
        let mut rule = Rule::new(match self.action {
            ActionSpec::Accept => Action::Accept,
            ActionSpec::Reject => Action::Reject,
        });
        match (self.cidr, self.match_operator) {
            (Some(cidr), Some(operator)) => {
                rule = rule.cidr(
                    cidr,
                    match operator {
                        MatchOperatorSpec::Equal => MatchOperator::Equal,
                        MatchOperatorSpec::NotEqual => MatchOperator::NotEqual,
                        MatchOperatorSpec::In => MatchOperator::In,
                        MatchOperatorSpec::NotIn => MatchOperator::NotIn,
                    },
                );
                if let Some(length) = self.prefix_length {
                    rule = rule.prefix_length(length.min, length.max);
                }
            }
            (None, None) if self.prefix_length.is_none() => {}
            _ => return Err("cidr, matchOperator (and prefixLength) go together".into()),
        }
        rule.source = match self.source.as_deref() {
            None => None,
            Some("RemotePeers") => Some(RuleSource::RemotePeers),
            Some(other) => return Err(format!("unknown source {other:?}")),
        };
        rule.peer_type = self.peer_type.map(|peer_type| match peer_type {
            PeerTypeSpec::Internal => PeerType::Internal,
            PeerTypeSpec::External => PeerType::External,
        });
        if let Some(communities) = &self.communities {
            rule.communities = communities
                .values
                .iter()
                .map(|value| value.parse::<CommunityValue>())
                .collect::<Result<_, _>>()?;
        }
        rule.as_path_prefix = self.as_path_prefix.clone();
        for operation in &self.operations {
            rule = rule.with(match operation {
                OperationSpec::AddCommunity { value } => Operation::AddCommunity(value.parse()?),
                OperationSpec::PrependAsPath { prefix } => Operation::PrependAsPath(prefix.clone()),
                OperationSpec::SetLocalPreference { value } => {
                    Operation::SetLocalPreference(*value)
                }
            });
        }
        Ok(rule)
    }
}

impl FilterSpec {
    /// The `bgp` filter.
    pub fn to_filter(&self) -> Result<Arc<Filter>, String> {
        let rules = |list: &[RuleSpec]| {
            list.iter()
                .enumerate()
                .map(|(index, rule)| {
                    rule.to_rule()
                        .map_err(|e| format!("filter {:?} rule {index}: {e}", self.name))
                })
                .collect::<Result<Vec<_>, String>>()
        };
        Ok(Arc::new(Filter {
            name: self.name.clone(),
            export_v4: rules(&self.export_v4)?,
            import_v4: rules(&self.import_v4)?,
            export_v6: rules(&self.export_v6)?,
            import_v6: rules(&self.import_v6)?,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calico_shaped_json_becomes_bgp_rules() {
        let spec: FilterSpec = serde_json::from_str(
            r#"{"name":"f","exportV4":[
                {"action":"Reject","cidr":"198.19.1.0/24","matchOperator":"In",
                 "prefixLength":{"min":25,"max":26}},
                {"action":"Accept","peerType":"eBGP","communities":{"values":["65001:1"]},
                 "asPathPrefix":[65002],"source":"RemotePeers",
                 "operations":[{"addCommunity":{"value":"65001:2"}},
                               {"prependASPath":{"prefix":[65001,65001]}},
                               {"setLocalPreference":{"value":200}}]}]}"#,
        )
        .expect("decode");
        let filter = spec.to_filter().expect("convert");
        assert_eq!(
            filter.export_v4[0],
            Rule::new(Action::Reject)
                .cidr("198.19.1.0/24".parse().unwrap(), MatchOperator::In)
                .prefix_length(Some(25), Some(26))
        );
        let second = &filter.export_v4[1];
        assert_eq!(second.peer_type, Some(PeerType::External));
        assert_eq!(second.source, Some(RuleSource::RemotePeers));
        assert_eq!(second.as_path_prefix, vec![65002]);
        assert_eq!(second.operations.len(), 3);
        assert_eq!(
            second.operations[2],
            Operation::SetLocalPreference(200),
            "{second:?}"
        );
        let round_trip: FilterSpec =
            serde_json::from_str(&serde_json::to_string(&spec).unwrap()).unwrap();
        assert_eq!(round_trip, spec);
    }

    #[test]
    fn a_cidr_without_operator_is_refused() {
        let mut rule = RuleSpec::reject();
        rule.cidr = Some("198.19.1.0/24".parse().unwrap());
        assert!(rule.to_rule().is_err());
        assert!(RuleSpec::reject().community("65001:x").to_rule().is_err());
    }
}
