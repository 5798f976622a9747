//! The route model: what tern wants in the kernel's main table ([`DesiredRoute`]) and what
//! it finds there ([`KernelRoute`]). Both print like `ip route` so logs and the API read the
//! same as the kernel.

use std::fmt;
use std::net::IpAddr;

use ipnetwork::IpNetwork;

/// Where a next hop leaves this node.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Device {
    /// By name (`tunl0`, `vxlan.tern`): resolved to an index when programmed.
    Name(String),
    /// By interface index, as the kernel reports it.
    Index(u32),
}

impl fmt::Display for Device {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Device::Name(name) => f.write_str(name),
            Device::Index(index) => write!(f, "#{index}"),
        }
    }
}

/// One next hop of a unicast route (`nexthop via GATEWAY [dev DEVICE] [onlink] weight W`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NextHop {
    /// The gateway (`via`).
    pub gateway: IpAddr,
    /// The device; `None` lets the kernel pick it from the gateway's route.
    pub device: Option<Device>,
    /// `onlink`: the gateway is reachable on `device` even without a matching subnet (tunnel
    /// routes: the remote node's underlay address through `tunl0`).
    pub onlink: bool,
    /// ECMP weight, 1..=256 (the kernel stores weight − 1 in `rtnh_hops`).
    pub weight: u16,
}

impl NextHop {
    /// A plain next hop: `via gateway`, the kernel picks the device, weight 1.
    pub fn via(gateway: IpAddr) -> Self {
        NextHop {
            gateway,
            device: None,
            onlink: false,
            weight: 1,
        }
    }

    /// The same next hop through `device`, `onlink` (what a tunnel route needs).
    pub fn onlink_through(mut self, device: Device) -> Self {
        self.device = Some(device);
        self.onlink = true;
        self
    }
}

impl fmt::Display for NextHop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "via {}", self.gateway)?;
        if let Some(device) = &self.device {
            write!(f, " dev {device}")?;
        }
        if self.onlink {
            f.write_str(" onlink")?;
        }
        if self.weight != 1 {
            write!(f, " weight {}", self.weight)?;
        }
        Ok(())
    }
}

/// What a route does with packets.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum RouteKind {
    /// Forward to one next hop, or spread over several (ECMP, `RTA_MULTIPATH`). Sorted, no
    /// duplicates.
    Unicast(Vec<NextHop>),
    /// Drop (`blackhole`): a local pod CIDR, so traffic to unassigned pod addresses does not
    /// leave the node; the CNI's per-pod /32 routes are more specific and win.
    Blackhole,
}

/// A route tern wants in the main table, with tern's protocol
/// ([`super::RTPROT_TERN`]) and the default metric.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct DesiredRoute {
    /// The destination prefix (host bits zero).
    pub destination: IpNetwork,
    /// Unicast next hops or blackhole.
    pub kind: RouteKind,
}

impl DesiredRoute {
    /// A unicast route; next hops are sorted and deduplicated. `None` for no next hop.
    pub fn unicast(destination: IpNetwork, mut next_hops: Vec<NextHop>) -> Option<Self> {
        next_hops.sort();
        next_hops.dedup_by(|a, b| a.gateway == b.gateway && a.device == b.device);
        if next_hops.is_empty() {
            return None;
        }
        Some(DesiredRoute {
            destination,
            kind: RouteKind::Unicast(next_hops),
        })
    }

    /// `blackhole destination`.
    pub fn blackhole(destination: IpNetwork) -> Self {
        DesiredRoute {
            destination,
            kind: RouteKind::Blackhole,
        }
    }

    /// The next hops (none for a blackhole).
    pub fn next_hops(&self) -> &[NextHop] {
        match &self.kind {
            RouteKind::Unicast(hops) => hops,
            RouteKind::Blackhole => &[],
        }
    }
}

impl fmt::Display for DesiredRoute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            RouteKind::Blackhole => write!(f, "blackhole {}", self.destination),
            RouteKind::Unicast(hops) if hops.len() == 1 => {
                write!(f, "{} {}", self.destination, hops[0])
            }
            RouteKind::Unicast(hops) => {
                write!(f, "{}", self.destination)?;
                for hop in hops {
                    write!(f, " nexthop {hop}")?;
                }
                Ok(())
            }
        }
    }
}

/// A route found in the main table (any protocol): the route itself plus what the kernel
/// adds (protocol, metric).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KernelRoute {
    /// Destination, next hops (devices by index) or blackhole.
    pub route: DesiredRoute,
    /// `rtm_protocol`.
    pub protocol: u8,
    /// `RTA_PRIORITY` (metric); 0 when absent.
    pub metric: u32,
}

impl KernelRoute {
    /// Whether this route was installed with tern's protocol number.
    pub fn is_tern(&self) -> bool {
        self.protocol == super::RTPROT_TERN
    }
}

/// Whether the kernel's `actual` route is what `desired` asks for. A desired next hop
/// without a device matches any device (the kernel fills in the one it resolved); devices
/// by name must have been resolved to indexes first ([`super::netlink::LinkIndex`]).
pub fn matches(desired: &DesiredRoute, actual: &DesiredRoute) -> bool {
    if desired.destination != actual.destination {
        return false;
    }
    match (&desired.kind, &actual.kind) {
        (RouteKind::Blackhole, RouteKind::Blackhole) => true,
        (RouteKind::Unicast(want), RouteKind::Unicast(have)) => {
            want.len() == have.len()
                && want.iter().all(|hop| {
                    have.iter().any(|found| {
                        found.gateway == hop.gateway
                            && found.onlink == hop.onlink
                            && (want.len() == 1 || found.weight == hop.weight)
                            && match &hop.device {
                                None => true,
                                Some(device) => found.device.as_ref() == Some(device),
                            }
                    })
                })
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(text: &str) -> IpNetwork {
        text.parse().unwrap()
    }

    fn hop(gateway: &str) -> NextHop {
        NextHop::via(gateway.parse().unwrap())
    }

    #[test]
    fn unicast_sorts_and_deduplicates_next_hops() {
        let route = DesiredRoute::unicast(
            net("198.19.2.0/24"),
            vec![hop("198.18.0.13"), hop("198.18.0.12"), hop("198.18.0.13")],
        )
        .unwrap();
        assert_eq!(route.next_hops(), [hop("198.18.0.12"), hop("198.18.0.13")]);
        assert_eq!(
            route.to_string(),
            "198.19.2.0/24 nexthop via 198.18.0.12 nexthop via 198.18.0.13"
        );
        assert!(DesiredRoute::unicast(net("198.19.2.0/24"), vec![]).is_none());
    }

    #[test]
    fn a_hop_without_device_matches_whatever_device_the_kernel_chose() {
        let want = DesiredRoute::unicast(net("198.19.2.0/24"), vec![hop("198.18.0.12")]).unwrap();
        let mut kernel_hop = hop("198.18.0.12");
        kernel_hop.device = Some(Device::Index(7));
        let have = DesiredRoute::unicast(net("198.19.2.0/24"), vec![kernel_hop]).unwrap();
        assert!(matches(&want, &have));
    }

    #[test]
    fn different_gateway_device_onlink_or_kind_do_not_match() {
        let base = DesiredRoute::unicast(
            net("198.19.2.0/24"),
            vec![hop("198.18.0.12").onlink_through(Device::Index(3))],
        )
        .unwrap();
        let other_gateway =
            DesiredRoute::unicast(net("198.19.2.0/24"), vec![hop("198.18.0.99")]).unwrap();
        let not_onlink = DesiredRoute::unicast(
            net("198.19.2.0/24"),
            vec![NextHop {
                device: Some(Device::Index(3)),
                ..hop("198.18.0.12")
            }],
        )
        .unwrap();
        let other_device = DesiredRoute::unicast(
            net("198.19.2.0/24"),
            vec![hop("198.18.0.12").onlink_through(Device::Index(4))],
        )
        .unwrap();
        assert!(matches(&base, &base));
        assert!(!matches(&base, &other_gateway));
        assert!(!matches(&base, &not_onlink));
        assert!(!matches(&base, &other_device));
        assert!(!matches(
            &base,
            &DesiredRoute::blackhole(net("198.19.2.0/24"))
        ));
        assert_eq!(
            base.to_string(),
            "198.19.2.0/24 via 198.18.0.12 dev #3 onlink"
        );
    }

    #[test]
    fn ecmp_needs_every_hop() {
        let both = DesiredRoute::unicast(
            net("198.19.2.0/24"),
            vec![hop("198.18.0.12"), hop("198.18.0.13")],
        )
        .unwrap();
        let one = DesiredRoute::unicast(net("198.19.2.0/24"), vec![hop("198.18.0.12")]).unwrap();
        assert!(!matches(&both, &one));
        assert!(!matches(&one, &both));
    }
}
