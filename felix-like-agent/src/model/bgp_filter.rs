//! `BGPFilter` (tern.dev/v1alpha1): ordered import/export rules per address family, referenced
//! by name from BGPPeer `filters`. Field names and meanings are Calico's.

use ipnetwork::IpNetwork;
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Import and export rules; the first matching rule decides.
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[kube(
    group = "tern.dev",
    version = "v1alpha1",
    kind = "BGPFilter",
    root = "BgpFilter",
    plural = "bgpfilters",
    doc = "Ordered BGP import/export rules, referenced from BGPPeer filters.",
    derive = "PartialEq",
    derive = "Default"
)]
#[serde(rename_all = "camelCase")]
pub struct BgpFilterSpec {
    /// IPv4 routes sent to the peer.
    #[serde(default, rename = "exportV4", skip_serializing_if = "Vec::is_empty")]
    pub export_v4: Vec<BgpFilterRule>,
    /// IPv4 routes received from the peer.
    #[serde(default, rename = "importV4", skip_serializing_if = "Vec::is_empty")]
    pub import_v4: Vec<BgpFilterRule>,
    /// IPv6 routes sent to the peer.
    #[serde(default, rename = "exportV6", skip_serializing_if = "Vec::is_empty")]
    pub export_v6: Vec<BgpFilterRule>,
    /// IPv6 routes received from the peer.
    #[serde(default, rename = "importV6", skip_serializing_if = "Vec::is_empty")]
    pub import_v6: Vec<BgpFilterRule>,
}

/// One rule: when every given match holds, `action` decides the route.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BgpFilterRule {
    /// What to do with a matching route.
    pub action: FilterAction,
    /// How `cidr` is compared with the route's prefix (required with `cidr`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub match_operator: Option<MatchOperator>,
    /// The CIDR the route's prefix is compared with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<String>")]
    pub cidr: Option<IpNetwork>,
    /// Bounds on the prefix length (with `In`/`NotIn`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix_length: Option<PrefixLength>,
    /// Only routes from this source: `RemotePeers` (learned from BGP peers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<RouteSource>,
    /// Only routes via an interface whose name matches this pattern (`*` wildcard).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interface: Option<String>,
}

/// The verdict of a rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize, Serialize, JsonSchema)]
pub enum FilterAction {
    /// Take the route.
    Accept,
    /// Drop the route.
    Reject,
}

/// How a rule's `cidr` is compared with a route's prefix.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize, Serialize, JsonSchema)]
pub enum MatchOperator {
    /// The prefix equals `cidr`.
    Equal,
    /// The prefix differs from `cidr`.
    NotEqual,
    /// The prefix lies inside `cidr` (or equals it).
    In,
    /// The prefix lies outside `cidr`.
    NotIn,
}

/// Prefix-length bounds, inclusive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize, Serialize, JsonSchema)]
pub struct PrefixLength {
    /// Shortest prefix length that matches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<u8>,
    /// Longest prefix length that matches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<u8>,
}

/// Where a route came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize, Serialize, JsonSchema)]
pub enum RouteSource {
    /// Learned from a BGP peer.
    RemotePeers,
}

impl BgpFilterSpec {
    /// Checks what the schema cannot: `cidr` and `matchOperator` come together, a CIDR is of
    /// its list's family, and `prefixLength` bounds are ordered and within the family's
    /// length. The error names the offending rule (`spec.importV4[0]`).
    pub fn validate(&self) -> Result<(), String> {
        let lists = [
            ("exportV4", &self.export_v4, true),
            ("importV4", &self.import_v4, true),
            ("exportV6", &self.export_v6, false),
            ("importV6", &self.import_v6, false),
        ];
        for (field, rules, ipv4) in lists {
            let family = if ipv4 { "IPv4" } else { "IPv6" };
            let longest = if ipv4 { 32 } else { 128 };
            for (index, rule) in rules.iter().enumerate() {
                let at = format!("spec.{field}[{index}]");
                match (&rule.cidr, rule.match_operator) {
                    (Some(_), None) => return Err(format!("{at}: cidr needs matchOperator")),
                    (None, Some(_)) => return Err(format!("{at}: matchOperator needs cidr")),
                    _ => {}
                }
                if let Some(cidr) = rule.cidr
                    && cidr.is_ipv4() != ipv4
                {
                    return Err(format!("{at}.cidr: {cidr} is not an {family} CIDR"));
                }
                if let Some(length) = rule.prefix_length {
                    let min = length.min.unwrap_or(0);
                    let max = length.max.unwrap_or(longest);
                    if min > max || max > longest {
                        return Err(format!(
                            "{at}.prefixLength: need min <= max <= {longest}, got {min}..{max}"
                        ));
                    }
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(cidr: Option<&str>, operator: Option<MatchOperator>) -> BgpFilterRule {
        BgpFilterRule {
            action: FilterAction::Reject,
            match_operator: operator,
            cidr: cidr.map(|c| c.parse().unwrap()),
            prefix_length: None,
            source: None,
            interface: None,
        }
    }

    #[test]
    fn validation_table() {
        let good = BgpFilterSpec {
            import_v4: vec![
                rule(Some("0.0.0.0/0"), Some(MatchOperator::Equal)),
                rule(None, None),
            ],
            export_v6: vec![rule(Some("2001:db8::/32"), Some(MatchOperator::In))],
            ..Default::default()
        };
        assert_eq!(good.validate(), Ok(()));

        let cases = [
            (
                vec![rule(Some("0.0.0.0/0"), None)],
                "spec.importV4[0]: cidr needs matchOperator",
            ),
            (
                vec![rule(None, Some(MatchOperator::In))],
                "spec.importV4[0]: matchOperator needs cidr",
            ),
            (
                vec![
                    rule(None, None),
                    rule(Some("2001:db8::/32"), Some(MatchOperator::In)),
                ],
                "spec.importV4[1].cidr: 2001:db8::/32 is not an IPv4 CIDR",
            ),
        ];
        for (rules, expected) in cases {
            let spec = BgpFilterSpec {
                import_v4: rules,
                ..Default::default()
            };
            assert_eq!(spec.validate(), Err(expected.to_string()));
        }

        let mut long = rule(Some("198.19.0.0/16"), Some(MatchOperator::In));
        long.prefix_length = Some(PrefixLength {
            min: Some(24),
            max: Some(33),
        });
        let spec = BgpFilterSpec {
            export_v4: vec![long],
            ..Default::default()
        };
        assert!(
            spec.validate()
                .unwrap_err()
                .starts_with("spec.exportV4[0].prefixLength")
        );
    }
}
