//! rtnetlink route messages for tern's routes, both ways, without sockets: a
//! [`DesiredRoute`] as `RTM_NEWROUTE`/`RTM_DELROUTE`, and a dumped or notified
//! `RTM_NEWROUTE` as a [`KernelRoute`]. Uses the `rtnetlink` crate's packet types
//! (`netlink-packet-route`).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnetwork::IpNetwork;
use rtnetlink::packet_route::AddressFamily;
use rtnetlink::packet_route::route::{
    RouteAddress, RouteAttribute, RouteFlags, RouteHeader, RouteMessage, RouteNextHop,
    RouteNextHopFlags, RouteProtocol, RouteScope, RouteType,
};

use super::RTPROT_TERN;
use super::route::{DesiredRoute, Device, KernelRoute, NextHop, RouteKind};

/// The main routing table (`RT_TABLE_MAIN`).
pub const MAIN_TABLE: u32 = 254;

/// The metric the kernel gives a route added without one: 0 for IPv4, 1024 for IPv6
/// (`IP6_RT_PRIO_USER`).
pub fn default_metric(destination: &IpNetwork) -> u32 {
    if destination.is_ipv4() { 0 } else { 1024 }
}

fn family(destination: &IpNetwork) -> AddressFamily {
    if destination.is_ipv4() {
        AddressFamily::Inet
    } else {
        AddressFamily::Inet6
    }
}

fn header(destination: &IpNetwork) -> RouteMessage {
    let mut message = RouteMessage::default();
    message.header.address_family = family(destination);
    message.header.destination_prefix_length = destination.prefix();
    message.header.table = RouteHeader::RT_TABLE_MAIN;
    message.header.protocol = RouteProtocol::from(RTPROT_TERN);
    message
        .attributes
        .push(RouteAttribute::Destination(destination.ip().into()));
    message
}

/// Why a route cannot be encoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    /// A next hop names its device instead of giving its index.
    #[error("device {0} is not resolved to an interface index")]
    UnresolvedDevice(String),
}

fn device_index(hop: &NextHop) -> Result<Option<u32>, EncodeError> {
    match &hop.device {
        None => Ok(None),
        Some(Device::Index(index)) => Ok(Some(*index)),
        Some(Device::Name(name)) => Err(EncodeError::UnresolvedDevice(name.clone())),
    }
}

/// `RTM_NEWROUTE` for `ip route replace ROUTE proto tern` (send with
/// `NLM_F_CREATE | NLM_F_REPLACE`). Devices must be indexes.
pub fn new_route(route: &DesiredRoute) -> Result<RouteMessage, EncodeError> {
    let mut message = header(&route.destination);
    message.header.scope = RouteScope::Universe;
    match &route.kind {
        RouteKind::Blackhole => message.header.kind = RouteType::BlackHole,
        RouteKind::Unicast(hops) => {
            message.header.kind = RouteType::Unicast;
            if let [hop] = hops.as_slice() {
                message
                    .attributes
                    .push(RouteAttribute::Gateway(hop.gateway.into()));
                if let Some(index) = device_index(hop)? {
                    message.attributes.push(RouteAttribute::Oif(index));
                }
                if hop.onlink {
                    message.header.flags |= RouteFlags::Onlink;
                }
            } else {
                let mut encoded = Vec::with_capacity(hops.len());
                for hop in hops {
                    let mut next_hop = RouteNextHop::default();
                    next_hop.interface_index = device_index(hop)?.unwrap_or(0);
                    next_hop.hops = u8::try_from(hop.weight.clamp(1, 256) - 1).unwrap_or(0);
                    if hop.onlink {
                        next_hop.flags |= RouteNextHopFlags::Onlink;
                    }
                    next_hop
                        .attributes
                        .push(RouteAttribute::Gateway(hop.gateway.into()));
                    encoded.push(next_hop);
                }
                message.attributes.push(RouteAttribute::MultiPath(encoded));
            }
        }
    }
    Ok(message)
}

/// `RTM_DELROUTE` for `ip route del DESTINATION proto tern` in the main table: only a route
/// with tern's protocol matches (any scope, any type).
pub fn delete_route(destination: &IpNetwork) -> RouteMessage {
    let mut message = header(destination);
    message.header.scope = RouteScope::NoWhere;
    message.header.kind = RouteType::Unspec;
    message
}

fn address(address: &RouteAddress) -> Option<IpAddr> {
    match address {
        RouteAddress::Inet(a) => Some(IpAddr::V4(*a)),
        RouteAddress::Inet6(a) => Some(IpAddr::V6(*a)),
        _ => None,
    }
}

fn gateway_of(attributes: &[RouteAttribute]) -> Option<IpAddr> {
    attributes.iter().find_map(|attribute| match attribute {
        RouteAttribute::Gateway(gateway) => address(gateway),
        _ => None,
    })
}

/// A main-table unicast or blackhole route as the model sees it; `None` for anything else
/// (other tables, source-specific or TOS routes, cached clones, local/broadcast/… types).
/// Device routes (no gateway) come back as unicast with no next hops.
pub fn parse_route(message: &RouteMessage) -> Option<KernelRoute> {
    let header = &message.header;
    let mut table = u32::from(header.table);
    let mut destination = None;
    let mut metric = 0;
    let mut oif = None;
    let mut multipath = None;
    for attribute in &message.attributes {
        match attribute {
            RouteAttribute::Table(t) => table = *t,
            RouteAttribute::Destination(d) => destination = address(d),
            RouteAttribute::Priority(p) => metric = *p,
            RouteAttribute::Oif(index) => oif = Some(*index),
            RouteAttribute::MultiPath(hops) => multipath = Some(hops),
            _ => {}
        }
    }
    if table != MAIN_TABLE
        || header.source_prefix_length != 0
        || header.tos != 0
        || header.flags.contains(RouteFlags::Cloned)
    {
        return None;
    }
    let destination = match (header.address_family, destination) {
        (_, Some(address)) => address,
        (AddressFamily::Inet, None) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        (AddressFamily::Inet6, None) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        _ => return None,
    };
    let destination = IpNetwork::new(destination, header.destination_prefix_length).ok()?;
    let kind = match header.kind {
        RouteType::BlackHole => RouteKind::Blackhole,
        RouteType::Unicast => {
            let mut hops: Vec<NextHop> = match multipath {
                Some(hops) => hops
                    .iter()
                    .filter_map(|hop| {
                        Some(NextHop {
                            gateway: gateway_of(&hop.attributes)?,
                            device: (hop.interface_index != 0)
                                .then_some(Device::Index(hop.interface_index)),
                            onlink: hop.flags.contains(RouteNextHopFlags::Onlink),
                            weight: u16::from(hop.hops) + 1,
                        })
                    })
                    .collect(),
                None => gateway_of(&message.attributes)
                    .map(|gateway| NextHop {
                        gateway,
                        device: oif.map(Device::Index),
                        onlink: header.flags.contains(RouteFlags::Onlink),
                        weight: 1,
                    })
                    .into_iter()
                    .collect(),
            };
            hops.sort();
            RouteKind::Unicast(hops)
        }
        _ => return None,
    };
    Some(KernelRoute {
        route: DesiredRoute { destination, kind },
        protocol: u8::from(header.protocol),
        metric,
    })
}

#[cfg(test)]
mod tests {
    use rtnetlink::packet_core::{Emitable, Parseable};

    use super::*;

    fn round_trip(message: &RouteMessage) -> RouteMessage {
        let mut bytes = vec![0; message.buffer_len()];
        message.emit(&mut bytes);
        RouteMessage::parse(bytes.as_slice()).unwrap()
    }

    fn net(text: &str) -> IpNetwork {
        text.parse().unwrap()
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn parsed(route: &DesiredRoute) -> KernelRoute {
        parse_route(&round_trip(&new_route(route).unwrap())).unwrap()
    }

    #[test]
    fn single_hop_route_survives_the_wire() {
        let route = DesiredRoute::unicast(
            net("198.19.2.0/24"),
            vec![NextHop::via(ip("198.18.1.12")).onlink_through(Device::Index(5))],
        )
        .unwrap();
        let message = new_route(&route).unwrap();
        assert_eq!(message.header.table, RouteHeader::RT_TABLE_MAIN);
        assert_eq!(u8::from(message.header.protocol), RTPROT_TERN);
        let kernel = parsed(&route);
        assert_eq!(kernel.route, route);
        assert!(kernel.is_tern());
    }

    #[test]
    fn ecmp_route_survives_the_wire_with_weights() {
        let mut second = NextHop::via(ip("2001:db8::13"));
        second.weight = 3;
        let route = DesiredRoute::unicast(
            net("2001:db8:2::/64"),
            vec![NextHop::via(ip("2001:db8::12")), second],
        )
        .unwrap();
        assert_eq!(parsed(&route).route, route);
    }

    #[test]
    fn blackhole_survives_the_wire() {
        let route = DesiredRoute::blackhole(net("198.19.1.0/24"));
        let message = new_route(&route).unwrap();
        assert_eq!(message.header.kind, RouteType::BlackHole);
        assert_eq!(parsed(&route).route, route);
    }

    #[test]
    fn named_devices_must_be_resolved_first() {
        let route = DesiredRoute::unicast(
            net("198.19.2.0/24"),
            vec![NextHop::via(ip("198.18.1.12")).onlink_through(Device::Name("tunl0".into()))],
        )
        .unwrap();
        assert_eq!(
            new_route(&route),
            Err(EncodeError::UnresolvedDevice("tunl0".into()))
        );
    }

    #[test]
    fn delete_matches_only_tern_routes() {
        let message = delete_route(&net("198.19.2.0/24"));
        assert_eq!(u8::from(message.header.protocol), RTPROT_TERN);
        assert_eq!(message.header.scope, RouteScope::NoWhere);
    }

    #[test]
    fn other_tables_and_types_are_ignored() {
        let route = DesiredRoute::blackhole(net("198.19.1.0/24"));
        let mut message = new_route(&route).unwrap();
        message.header.table = 255;
        assert_eq!(parse_route(&message), None);
        let mut message = new_route(&route).unwrap();
        message.header.kind = RouteType::Local;
        assert_eq!(parse_route(&message), None);
        let mut message = new_route(&route).unwrap();
        message.header.protocol = RouteProtocol::Static;
        message.attributes.push(RouteAttribute::Priority(100));
        let kernel = parse_route(&message).unwrap();
        assert_eq!((kernel.protocol, kernel.metric), (4, 100));
        assert!(!kernel.is_tern());
    }
}
