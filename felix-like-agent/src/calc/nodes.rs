//! A node's BGP identity, read from its annotations and status:
//! `tern.dev/bgp-ipv4-address` / `tern.dev/bgp-ipv6-address` (`address/prefix-length`; without
//! them, the node's first InternalIP of that family), `tern.dev/as-number` (overrides the
//! global AS), `tern.dev/route-reflector-cluster-id` (an IPv4-formatted cluster ID that makes
//! the node a route reflector).

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use k8s_openapi::api::core::v1::Node;

use crate::model::AsNumber;

/// Annotation: the node's IPv4 BGP address with prefix length.
pub const IPV4_ADDRESS_ANNOTATION: &str = "tern.dev/bgp-ipv4-address";
/// Annotation: the node's IPv6 BGP address with prefix length.
pub const IPV6_ADDRESS_ANNOTATION: &str = "tern.dev/bgp-ipv6-address";
/// Annotation: the node's AS number.
pub const AS_NUMBER_ANNOTATION: &str = "tern.dev/as-number";
/// Annotation: the node's route-reflector cluster ID.
pub const CLUSTER_ID_ANNOTATION: &str = "tern.dev/route-reflector-cluster-id";

/// What BGP needs to know about one node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeBgp {
    /// Node name.
    pub name: String,
    /// Node labels.
    pub labels: BTreeMap<String, String>,
    /// IPv4 BGP address.
    pub ipv4: Option<Ipv4Addr>,
    /// IPv6 BGP address.
    pub ipv6: Option<Ipv6Addr>,
    /// The node's AS.
    pub asn: AsNumber,
    /// Route-reflector cluster ID; set on reflectors only.
    pub cluster_id: Option<Ipv4Addr>,
}

impl NodeBgp {
    /// Reads a node. `global_asn` applies when the node has no AS annotation. The error names
    /// the annotation that could not be parsed.
    pub fn from_node(node: &Node, global_asn: AsNumber) -> Result<NodeBgp, String> {
        let name = node.metadata.name.clone().unwrap_or_default();
        let annotations = node.metadata.annotations.clone().unwrap_or_default();
        let annotation = |key: &str| {
            annotations
                .get(key)
                .map(|v| v.trim())
                .filter(|v| !v.is_empty())
        };
        let bad = |key: &str, value: &str, expected: &str| {
            format!("node {name}: annotation {key}={value:?} is not {expected}")
        };

        let ipv4 = match annotation(IPV4_ADDRESS_ANNOTATION) {
            Some(value) => match address_of(value) {
                Some(IpAddr::V4(address)) => Some(address),
                _ => {
                    return Err(bad(
                        IPV4_ADDRESS_ANNOTATION,
                        value,
                        "an IPv4 address/prefix",
                    ));
                }
            },
            None => internal_ips(node).find_map(|ip| match ip {
                IpAddr::V4(address) => Some(address),
                IpAddr::V6(_) => None,
            }),
        };
        let ipv6 = match annotation(IPV6_ADDRESS_ANNOTATION) {
            Some(value) => match address_of(value) {
                Some(IpAddr::V6(address)) => Some(address),
                _ => {
                    return Err(bad(
                        IPV6_ADDRESS_ANNOTATION,
                        value,
                        "an IPv6 address/prefix",
                    ));
                }
            },
            None => internal_ips(node).find_map(|ip| match ip {
                IpAddr::V6(address) => Some(address),
                IpAddr::V4(_) => None,
            }),
        };
        let asn = match annotation(AS_NUMBER_ANNOTATION) {
            Some(value) => value
                .parse()
                .map_err(|_| bad(AS_NUMBER_ANNOTATION, value, "an AS number"))?,
            None => global_asn,
        };
        let cluster_id = match annotation(CLUSTER_ID_ANNOTATION) {
            Some(value) => Some(
                value
                    .parse()
                    .map_err(|_| bad(CLUSTER_ID_ANNOTATION, value, "IPv4-formatted"))?,
            ),
            None => None,
        };
        Ok(NodeBgp {
            name,
            labels: node.metadata.labels.clone().unwrap_or_default(),
            ipv4,
            ipv6,
            asn,
            cluster_id,
        })
    }

    /// The node's address of the same family as `peer`.
    pub fn address_like(&self, peer: IpAddr) -> Option<IpAddr> {
        match peer {
            IpAddr::V4(_) => self.ipv4.map(IpAddr::V4),
            IpAddr::V6(_) => self.ipv6.map(IpAddr::V6),
        }
    }

    /// The node's addresses: IPv4 first.
    pub fn addresses(&self) -> impl Iterator<Item = IpAddr> + '_ {
        self.ipv4
            .map(IpAddr::V4)
            .into_iter()
            .chain(self.ipv6.map(IpAddr::V6))
    }

    /// Whether the node is a route reflector.
    pub fn is_route_reflector(&self) -> bool {
        self.cluster_id.is_some()
    }
}

/// `198.18.0.11/24` or `198.18.0.11` → the address.
fn address_of(value: &str) -> Option<IpAddr> {
    let address = value.split_once('/').map_or(value, |(address, _)| address);
    address.parse().ok()
}

fn internal_ips(node: &Node) -> impl Iterator<Item = IpAddr> + '_ {
    node.status
        .iter()
        .flat_map(|status| status.addresses.iter().flatten())
        .filter(|address| address.type_ == "InternalIP")
        .filter_map(|address| address.address.parse().ok())
}
