//! What encapsulation needs from the objects, read purely from a [`Snapshot`]: the IPv4
//! pools, this node's underlay address, subnet and pod CIDR, and every other node's underlay
//! address, pod CIDRs and VTEP.

use std::net::Ipv4Addr;

use ipnetwork::{IpNetwork, Ipv4Network};
use k8s_openapi::api::core::v1::Node;

use super::vxlan::Vtep;
use super::{Encap, PoolEncap, VtepTable, encapsulation, tunnel_address};
use crate::calc::IPV4_ADDRESS_ANNOTATION;
use crate::snapshot::Snapshot;

/// Another node, as the dataplane sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemoteNode {
    /// Node name.
    pub name: String,
    /// Underlay (BGP) IPv4 address.
    pub underlay: Ipv4Addr,
    /// IPv4 pod CIDRs.
    pub pod_cidrs: Vec<Ipv4Network>,
}

/// Everything the encapsulation decision and the device managers need.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EncapTopology {
    /// IPv4 pools, in name order.
    pub pools: Vec<PoolEncap>,
    /// This node's underlay address.
    pub local_address: Option<Ipv4Addr>,
    /// This node's underlay subnet (from `tern.dev/bgp-ipv4-address` with its prefix).
    pub local_subnet: Option<Ipv4Network>,
    /// This node's first IPv4 pod CIDR.
    pub local_pod_cidr: Option<Ipv4Network>,
    /// The other nodes with an IPv4 underlay address, in name order.
    pub remotes: Vec<RemoteNode>,
    /// The other nodes' VTEPs by underlay address.
    pub vteps: VtepTable,
}

impl EncapTopology {
    /// Reads the topology for `node_name` from the objects.
    pub fn from_snapshot(snapshot: &Snapshot, node_name: &str) -> EncapTopology {
        let pools = snapshot
            .ip_pools
            .values()
            .filter_map(|pool| match pool.spec.cidr {
                IpNetwork::V4(cidr) => Some(PoolEncap {
                    cidr: Ipv4Network::new(cidr.network(), cidr.prefix()).unwrap_or(cidr),
                    ipip: pool.spec.ipip_mode,
                    vxlan: pool.spec.vxlan_mode,
                    nat_outgoing: pool.spec.nat_outgoing,
                }),
                IpNetwork::V6(_) => None,
            })
            .collect();
        let mut topology = EncapTopology {
            pools,
            ..EncapTopology::default()
        };
        for node in snapshot.nodes.values() {
            let name = node.metadata.name.clone().unwrap_or_default();
            let underlay = underlay_of(node);
            let pod_cidrs = pod_cidrs_of(snapshot, &name);
            if name == node_name {
                topology.local_address = underlay.map(|network| network.ip());
                topology.local_subnet = underlay
                    .filter(|network| network.prefix() < 32)
                    .and_then(|network| Ipv4Network::new(network.network(), network.prefix()).ok());
                topology.local_pod_cidr = pod_cidrs.first().copied();
                continue;
            }
            let Some(underlay) = underlay.map(|network| network.ip()) else {
                continue;
            };
            if let Some(address) = pod_cidrs.first().copied().and_then(tunnel_address) {
                topology
                    .vteps
                    .insert(underlay, Vtep::new(underlay, address));
            }
            topology.remotes.push(RemoteNode {
                name,
                underlay,
                pod_cidrs,
            });
        }
        topology
    }

    /// The decision for `destination` behind `next_hop` ([`encapsulation`]).
    pub fn decide(&self, destination: Ipv4Network, next_hop: Ipv4Addr) -> Encap {
        encapsulation(
            &self.pools,
            self.local_subnet,
            &self.vteps,
            destination,
            next_hop,
        )
    }

    /// The routes to the other nodes' pod CIDRs as the objects describe them (what BGP
    /// learns from a full mesh), each with its encapsulation.
    pub fn pod_routes(&self) -> Vec<(Ipv4Network, Encap)> {
        self.remotes
            .iter()
            .flat_map(|remote| {
                remote
                    .pod_cidrs
                    .iter()
                    .map(|cidr| (*cidr, self.decide(*cidr, remote.underlay)))
            })
            .collect()
    }

    /// This node's VTEP, when it has an underlay address and a pod CIDR.
    pub fn local_vtep(&self) -> Option<Vtep> {
        let underlay = self.local_address?;
        let address = tunnel_address(self.local_pod_cidr?)?;
        Some(Vtep::new(underlay, address))
    }
}

/// `tern.dev/bgp-ipv4-address` (`address/prefix`, or a bare address as `/32`), else the
/// first IPv4 InternalIP as `/32` (subnet unknown).
fn underlay_of(node: &Node) -> Option<Ipv4Network> {
    let annotated = node
        .metadata
        .annotations
        .as_ref()
        .and_then(|annotations| annotations.get(IPV4_ADDRESS_ANNOTATION))
        .map(|value| value.trim())
        .filter(|value| !value.is_empty());
    if let Some(value) = annotated {
        return value.parse().ok();
    }
    node.status
        .iter()
        .flat_map(|status| status.addresses.iter().flatten())
        .filter(|address| address.type_ == "InternalIP")
        .find_map(|address| address.address.parse::<Ipv4Addr>().ok())
        .and_then(|address| Ipv4Network::new(address, 32).ok())
}

fn pod_cidrs_of(snapshot: &Snapshot, name: &str) -> Vec<Ipv4Network> {
    crate::cni::pod_cidrs(snapshot, name)
        .into_iter()
        .filter_map(|cidr| match cidr {
            IpNetwork::V4(cidr) => Ipv4Network::new(cidr.network(), cidr.prefix()).ok(),
            IpNetwork::V6(_) => None,
        })
        .collect()
}
