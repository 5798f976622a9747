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
