//! The encapsulation's next-hop hook for the route programmer
//! ([`crate::dataplane::RouteVia`]): per destination and BGP next hop, the kernel next hop
//! the decision ([`super::encapsulation`]) asks for.
//!
//! | decision | kernel next hop |
//! |---|---|
//! | [`Encap::None`] | `via NEXT_HOP` |
//! | [`Encap::Ipip`] | `via NEXT_HOP dev tunl0 onlink` |
//! | [`Encap::Vxlan`] | `via REMOTE_VTEP dev vxlan.tern onlink` |
//! | [`Encap::VxlanPending`] | none: the route is skipped until the VTEP is known |
//!
//! The topology is published by the encapsulation task only after the devices it needs are
//! up, so a route never names a device that does not exist yet.

use std::net::IpAddr;
use std::sync::{Arc, RwLock};

use ipnetwork::IpNetwork;

use super::{Encap, EncapTopology};
use crate::dataplane::{Device, NextHop, RouteVia};

/// Shared, swappable topology behind the hook.
#[derive(Clone, Debug, Default)]
pub struct EncapRouteVia {
    topology: Arc<RwLock<Arc<EncapTopology>>>,
    ipip_device: Arc<RwLock<String>>,
}

impl EncapRouteVia {
    /// A hook that routes plainly until the first [`EncapRouteVia::publish`].
    pub fn new() -> EncapRouteVia {
        EncapRouteVia {
            topology: Arc::default(),
            ipip_device: Arc::new(RwLock::new(ipip::DEFAULT_DEVICE.to_string())),
        }
    }

    /// Makes `topology` the one decisions are taken from.
    pub fn publish(&self, topology: EncapTopology) {
        *self.topology.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(topology);
    }

    /// The IPIP device name routes use (`tunl0`).
    pub fn set_ipip_device(&self, device: &str) {
        *self.ipip_device.write().unwrap_or_else(|p| p.into_inner()) = device.to_string();
    }

    /// The current topology.
    pub fn topology(&self) -> Arc<EncapTopology> {
        self.topology
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The kernel next hop for a decision (see the module table).
    pub fn next_hop(&self, encap: &Encap) -> Option<NextHop> {
        match encap {
            Encap::None { remote } => Some(NextHop::via(IpAddr::V4(*remote))),
            Encap::Ipip { remote } => {
                let device = self
                    .ipip_device
                    .read()
                    .unwrap_or_else(|p| p.into_inner())
                    .clone();
                Some(NextHop::via(IpAddr::V4(*remote)).onlink_through(Device::Name(device)))
            }
            Encap::Vxlan { vtep } => Some(
                NextHop::via(IpAddr::V4(vtep.address))
                    .onlink_through(Device::Name(super::VXLAN_DEVICE.to_string())),
            ),
            Encap::VxlanPending { .. } => None,
        }
    }
}

impl RouteVia for EncapRouteVia {
    fn route_via(&self, destination: IpNetwork, bgp_next_hop: IpAddr) -> Vec<NextHop> {
        match (destination, bgp_next_hop) {
            (IpNetwork::V4(destination), IpAddr::V4(next_hop)) => {
                let encap = self.topology().decide(destination, next_hop);
                self.next_hop(&encap).into_iter().collect()
            }
            _ => vec![NextHop::via(bgp_next_hop)],
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;
    use crate::encap::{EncapsulationMode, PoolEncap, Vtep};

    fn topology(ipip: EncapsulationMode, vxlan: EncapsulationMode) -> EncapTopology {
        let remote = Ipv4Addr::new(198, 18, 1, 13);
        EncapTopology {
            pools: vec![PoolEncap {
                cidr: "198.19.0.0/17".parse().unwrap(),
                ipip,
                vxlan,
                nat_outgoing: false,
            }],
            local_subnet: Some("198.18.0.0/24".parse().unwrap()),
            vteps: [(remote, Vtep::new(remote, Ipv4Addr::new(198, 19, 3, 1)))]
                .into_iter()
                .collect(),
            ..EncapTopology::default()
        }
    }

    fn via(hook: &EncapRouteVia, destination: &str, next_hop: &str) -> Vec<String> {
        hook.route_via(destination.parse().unwrap(), next_hop.parse().unwrap())
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn hook_follows_the_published_topology() {
        let hook = EncapRouteVia::new();
        assert_eq!(
            via(&hook, "198.19.3.0/24", "198.18.1.13"),
            ["via 198.18.1.13"]
        );
        hook.publish(topology(
            EncapsulationMode::Always,
            EncapsulationMode::Never,
        ));
        assert_eq!(
            via(&hook, "198.19.3.0/24", "198.18.1.13"),
            [NextHop::via("198.18.1.13".parse().unwrap())
                .onlink_through(Device::Name("tunl0".into()))
                .to_string()]
        );
        hook.publish(topology(
            EncapsulationMode::Never,
            EncapsulationMode::CrossSubnet,
        ));
        let vxlan = via(&hook, "198.19.3.0/24", "198.18.1.13");
        assert_eq!(
            vxlan,
            [NextHop::via("198.19.3.1".parse().unwrap())
                .onlink_through(Device::Name("vxlan.tern".into()))
                .to_string()]
        );
        assert!(vxlan[0].contains("vxlan.tern"), "{vxlan:?}");
        // Same subnet, CrossSubnet: plain.
        assert_eq!(
            via(&hook, "198.19.2.0/24", "198.18.0.12"),
            ["via 198.18.0.12"]
        );
        // VXLAN wanted, no VTEP: skipped.
        hook.publish(topology(
            EncapsulationMode::Never,
            EncapsulationMode::Always,
        ));
        assert!(via(&hook, "198.19.2.0/24", "198.18.0.12").is_empty());
        // IPv6 and destinations outside the pools: plain.
        assert_eq!(
            via(&hook, "2001:db8:1::/64", "2001:db8::1"),
            ["via 2001:db8::1"]
        );
        assert_eq!(
            via(&hook, "203.0.113.0/24", "198.18.1.13"),
            ["via 198.18.1.13"]
        );
    }
}
