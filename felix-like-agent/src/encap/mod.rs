//! Encapsulation: how traffic to a destination behind another node leaves this node.
//!
//! The contract (Calico's `IPPool.spec.ipipMode` / `vxlanMode`, per destination pool):
//!
//! | mode of the destination's pool | route for the destination |
//! |---|---|
//! | `ipipMode: Always` | `via NODE dev tunl0 onlink` ([`Encap::Ipip`]) |
//! | `vxlanMode: Always` | `via VTEP dev vxlan.tern onlink`, FDB + neighbour for the VTEP ([`Encap::Vxlan`]) |
//! | `CrossSubnet` | as `Always` when NODE is outside this node's subnet, else plain |
//! | `Never` / no pool | `via NODE` ([`Encap::None`]) |
//!
//! NODE is the BGP next hop of the destination (the remote node's underlay address). This
//! node's subnet comes from its `tern.dev/bgp-ipv4-address` annotation (`address/prefix`);
//! without a prefix the subnet is unknown and `CrossSubnet` encapsulates (the safe choice).
//! When a pool sets both modes (Calico rejects that), IPIP wins.
//!
//! [`encapsulation`] is the pure decision; [`topology`] reads it from the objects;
//! [`ipip`], [`vxlan`] and [`nat`] set the kernel up; [`dataplane`] ties them together and
//! [`route_via`] is the route programmer's next-hop hook.

pub mod dataplane;
pub mod error;
pub mod ipip;
pub mod nat;
pub mod route_via;
pub mod topology;
pub mod vxlan;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use ipnetwork::Ipv4Network;

pub use crate::model::EncapsulationMode;
pub use error::{EncapError, Result};
pub use route_via::EncapRouteVia;
pub use topology::{EncapTopology, RemoteNode};
pub use vxlan::{VXLAN_DEVICE, VXLAN_PORT, VXLAN_VNI, Vtep};

/// What the decision needs to know about one IPv4 pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolEncap {
    /// The pool's range.
    pub cidr: Ipv4Network,
    /// `ipipMode`.
    pub ipip: EncapsulationMode,
    /// `vxlanMode`.
    pub vxlan: EncapsulationMode,
    /// `natOutgoing`.
    pub nat_outgoing: bool,
}

/// How a destination behind `remote` (its BGP next hop) is reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encap {
    /// Plain routing: `via remote`.
    None {
        /// The next hop.
        remote: Ipv4Addr,
    },
    /// IPIP (RFC 2003): `via remote dev tunl0 onlink`; the outer destination is `remote`.
    Ipip {
        /// The remote node's underlay address.
        remote: Ipv4Addr,
    },
    /// VXLAN (RFC 7348): `via vtep.address dev vxlan.tern onlink`, with the neighbour entry
    /// `vtep.address → vtep.mac` and the FDB entry `vtep.mac → vtep.underlay`.
    Vxlan {
        /// The remote node's VTEP.
        vtep: Vtep,
    },
    /// VXLAN is wanted but the remote node's VTEP is not known (no pod CIDR yet): install
    /// nothing rather than send the traffic unencapsulated.
    VxlanPending {
        /// The next hop without a VTEP.
        remote: Ipv4Addr,
    },
}

impl Encap {
    /// The underlay address of the remote end.
    pub fn remote(&self) -> Ipv4Addr {
        match self {
            Encap::None { remote } | Encap::Ipip { remote } | Encap::VxlanPending { remote } => {
                *remote
            }
            Encap::Vxlan { vtep } => vtep.underlay,
        }
    }
}

/// Remote VTEPs by their node's underlay address.
pub type VtepTable = BTreeMap<Ipv4Addr, Vtep>;

/// The pool holding `destination`: the most specific pool containing the whole prefix.
pub fn pool_for(pools: &[PoolEncap], destination: Ipv4Network) -> Option<&PoolEncap> {
    pools
        .iter()
        .filter(|pool| {
            pool.cidr.prefix() <= destination.prefix() && pool.cidr.contains(destination.network())
        })
        .max_by_key(|pool| pool.cidr.prefix())
}

/// Whether a mode asks for encapsulation towards `remote`.
fn wants(mode: EncapsulationMode, local_subnet: Option<Ipv4Network>, remote: Ipv4Addr) -> bool {
    match mode {
        EncapsulationMode::Always => true,
        EncapsulationMode::CrossSubnet => {
            !local_subnet.is_some_and(|subnet| subnet.contains(remote))
        }
        EncapsulationMode::Never => false,
    }
}

/// The decision for one destination (see the module table). `next_hop` is the BGP next hop:
/// the remote node's underlay address.
pub fn encapsulation(
    pools: &[PoolEncap],
    local_subnet: Option<Ipv4Network>,
    vteps: &VtepTable,
    destination: Ipv4Network,
    next_hop: Ipv4Addr,
) -> Encap {
    let Some(pool) = pool_for(pools, destination) else {
        return Encap::None { remote: next_hop };
    };
    if wants(pool.ipip, local_subnet, next_hop) {
        return Encap::Ipip { remote: next_hop };
    }
    if wants(pool.vxlan, local_subnet, next_hop) {
        return match vteps.get(&next_hop) {
            Some(vtep) => Encap::Vxlan { vtep: *vtep },
            None => Encap::VxlanPending { remote: next_hop },
        };
    }
    Encap::None { remote: next_hop }
}

/// Whether any pool uses IPIP (`Always` or `CrossSubnet`): the IPIP device is needed.
pub fn needs_ipip(pools: &[PoolEncap]) -> bool {
    pools
        .iter()
        .any(|pool| pool.ipip != EncapsulationMode::Never)
}

/// Whether any pool uses VXLAN: the VXLAN device is needed.
pub fn needs_vxlan(pools: &[PoolEncap]) -> bool {
    pools
        .iter()
        .any(|pool| pool.ipip == EncapsulationMode::Never && pool.vxlan != EncapsulationMode::Never)
}

/// The tunnel address of a node: the first host address of its pod CIDR (the `ptp` plugin's
/// gateway address), so host-originated traffic into a tunnel has a source the remote routes
/// back.
pub fn tunnel_address(pod_cidr: Ipv4Network) -> Option<Ipv4Addr> {
    if pod_cidr.prefix() >= 31 {
        return None;
    }
    u32::from(pod_cidr.network())
        .checked_add(1)
        .map(Ipv4Addr::from)
}
