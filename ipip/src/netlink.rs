//! The few rtnetlink requests both tunnel modes need. Each names the `ip` command it equals.
//! Requests run in the network namespace where the connection was opened.

use std::net::{IpAddr, Ipv4Addr};

use futures::TryStreamExt;
use ipnetwork::Ipv4Network;
use rtnetlink::packet_route::address::AddressAttribute;
use rtnetlink::packet_route::link::{InfoKind, LinkAttribute, LinkInfo, LinkMessage};
use rtnetlink::packet_route::route::{RouteAddress, RouteAttribute};
use rtnetlink::{Handle, LinkUnspec, RouteMessageBuilder};
use tokio::task::JoinHandle;

use crate::error::{Error, Result};
use crate::peers::Peer;

/// An interface: index, name, MTU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interface {
    /// Interface index.
    pub index: u32,
    /// Interface name.
    pub name: String,
    /// Current MTU.
    pub mtu: u32,
    /// `IFLA_INFO_KIND` when the link has one (`ipip`, `tun`, `veth`, …).
    pub kind: Option<String>,
}

/// Opens an rtnetlink connection in the current namespace; the returned task drives it.
pub fn connect() -> Result<(Handle, JoinHandle<()>)> {
    let (connection, handle, _) =
        rtnetlink::new_connection().map_err(|e| Error::io("open rtnetlink socket", e))?;
    Ok((handle, tokio::spawn(connection)))
}

/// The errno of a netlink error (positive), if it is one.
pub fn errno(error: &rtnetlink::Error) -> Option<i32> {
    match error {
        rtnetlink::Error::NetlinkError(message) => Some(-message.raw_code()),
        _ => None,
    }
}

fn interface_from(message: &LinkMessage) -> Interface {
    let mut interface = Interface {
        index: message.header.index,
        name: String::new(),
        mtu: 0,
        kind: None,
    };
    for attribute in &message.attributes {
        match attribute {
            LinkAttribute::IfName(name) => interface.name = name.clone(),
            LinkAttribute::Mtu(mtu) => interface.mtu = *mtu,
            LinkAttribute::LinkInfo(infos) => {
                for info in infos {
                    if let LinkInfo::Kind(kind) = info {
                        interface.kind = Some(kind_name(kind));
                    }
                }
            }
            _ => {}
        }
    }
    interface
}

fn kind_name(kind: &InfoKind) -> String {
    match kind {
        InfoKind::IpIp => "ipip".to_string(),
        InfoKind::Tun => "tun".to_string(),
        InfoKind::Dummy => "dummy".to_string(),
        InfoKind::Veth => "veth".to_string(),
        other => format!("{other:?}").to_lowercase(),
    }
}

/// The interface called `name`, if any (`ip -d link show NAME`).
pub async fn link_by_name(handle: &Handle, name: &str) -> Result<Option<Interface>> {
    let mut links = handle.link().get().match_name(name.to_string()).execute();
    match links.try_next().await {
        Ok(Some(message)) => Ok(Some(interface_from(&message))),
        Ok(None) => Ok(None),
        Err(e) if errno(&e) == Some(libc::ENODEV) => Ok(None),
        Err(e) => Err(Error::netlink(format!("ip link show {name}"), e)),
    }
}

/// The interface with index `index` (`ip link show` by index).
pub async fn link_by_index(handle: &Handle, index: u32) -> Result<Interface> {
    let mut links = handle.link().get().match_index(index).execute();
    match links.try_next().await {
        Ok(Some(message)) => Ok(interface_from(&message)),
        Ok(None) => Err(Error::Interface {
            name: format!("#{index}"),
            problem: "not found".into(),
        }),
        Err(e) => Err(Error::netlink(format!("ip link show index {index}"), e)),
    }
}

/// The interface holding `address` and the address's prefix (`ip -4 addr show to ADDR`).
pub async fn interface_with_address(
    handle: &Handle,
    address: Ipv4Addr,
) -> Result<(Interface, Ipv4Network)> {
    let mut addresses = handle.address().get().execute();
    while let Some(message) = addresses
        .try_next()
        .await
        .map_err(|e| Error::netlink("ip -4 addr show", e))?
    {
        let holds = message.attributes.iter().any(|attribute| {
            matches!(attribute, AddressAttribute::Address(IpAddr::V4(a))
                | AddressAttribute::Local(IpAddr::V4(a)) if *a == address)
        });
        if holds {
            let subnet = Ipv4Network::new(address, message.header.prefix_len)
                .map_err(|e| Error::Config(format!("prefix of {address}: {e}")))?;
            let interface = link_by_index(handle, message.header.index).await?;
            return Ok((interface, subnet));
        }
    }
    Err(Error::AddressNotFound { address })
}

/// `ip link set dev INDEX mtu MTU up`.
pub async fn set_mtu_and_up(handle: &Handle, index: u32, mtu: u32) -> Result<()> {
    handle
        .link()
        .set(LinkUnspec::new_with_index(index).mtu(mtu).up().build())
        .execute()
        .await
        .map_err(|e| Error::netlink(format!("ip link set #{index} mtu {mtu} up"), e))
}

/// `ip addr add ADDRESS/32 dev INDEX`; an address already there is fine.
pub async fn add_host_address(handle: &Handle, index: u32, address: Ipv4Addr) -> Result<()> {
    match handle
        .address()
        .add(index, IpAddr::V4(address), 32)
        .execute()
        .await
    {
        Ok(()) => Ok(()),
        Err(e) if errno(&e) == Some(libc::EEXIST) => Ok(()),
        Err(e) => Err(Error::netlink(
            format!("ip addr add {address}/32 dev #{index}"),
            e,
        )),
    }
}

/// Peers read from the main table: every IPv4 route out of `index` with a gateway
/// (`ip route show dev DEVICE`, keeping `via` routes).
pub async fn peers_from_routes(handle: &Handle, index: u32) -> Result<Vec<Peer>> {
    let mut routes = handle
        .route()
        .get(RouteMessageBuilder::<Ipv4Addr>::new().build())
        .execute();
    let mut peers = Vec::new();
    while let Some(route) = routes
        .try_next()
        .await
        .map_err(|e| Error::netlink("ip -4 route show", e))?
    {
        let mut destination = Ipv4Addr::UNSPECIFIED;
        let mut gateway = None;
        let mut out_of_device = false;
        for attribute in &route.attributes {
            match attribute {
                RouteAttribute::Destination(RouteAddress::Inet(address)) => destination = *address,
                RouteAttribute::Gateway(RouteAddress::Inet(address)) => gateway = Some(*address),
                RouteAttribute::Oif(oif) => out_of_device = *oif == index,
                _ => {}
            }
        }
        if let (true, Some(gateway)) = (out_of_device, gateway)
            && let Ok(prefix) =
                Ipv4Network::new(destination, route.header.destination_prefix_length)
        {
            peers.push(Peer::new(prefix, gateway));
        }
    }
    Ok(peers)
}
