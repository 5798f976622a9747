//! The VXLAN device (RFC 7348) over rtnetlink, set up as Calico's `vxlan.calico`:
//!
//! ```text
//! ip link add vxlan.tern type vxlan id 4096 local LOCAL dev UNDERLAY dstport 4789 nolearning
//! ip link set vxlan.tern address VTEP_MAC mtu UNDERLAY-50 up
//! ip addr add VTEP_ADDRESS/32 dev vxlan.tern
//! # per remote node:
//! ip neigh replace REMOTE_VTEP lladdr REMOTE_MAC dev vxlan.tern nud permanent
//! bridge fdb replace REMOTE_MAC dev vxlan.tern dst REMOTE_UNDERLAY self permanent
//! ```
//!
//! A VTEP's MAC is derived from its address ([`vtep_mac`]), so no node has to publish it.
//! Learning is off: only the entries tern writes are used; stale ones are removed.

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr};

use futures::TryStreamExt;
use rtnetlink::packet_route::AddressFamily;
use rtnetlink::packet_route::link::{InfoData, InfoVxlan, LinkAttribute, LinkInfo};
use rtnetlink::packet_route::neighbour::{
    NeighbourAddress, NeighbourAttribute, NeighbourFlags, NeighbourMessage, NeighbourState,
};
use rtnetlink::{Handle, LinkUnspec, LinkVxlan};

use super::error::{EncapError, Result};

/// The device name.
pub const VXLAN_DEVICE: &str = "vxlan.tern";
/// The VNI (Calico's default).
pub const VXLAN_VNI: u32 = 4096;
/// The IANA VXLAN port (RFC 7348 §5).
pub const VXLAN_PORT: u16 = 4789;
/// Outer IPv4 (20) + UDP (8) + VXLAN (8) + inner Ethernet (14) headers.
pub const VXLAN_OVERHEAD: u32 = 50;

/// One node's VXLAN tunnel end point.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Vtep {
    /// The node's underlay address: the outer destination.
    pub underlay: Ipv4Addr,
    /// The VTEP address on the node's VXLAN device (from its pod CIDR).
    pub address: Ipv4Addr,
    /// The VXLAN device's MAC ([`vtep_mac`] of `address`).
    pub mac: [u8; 6],
}

impl Vtep {
    /// The VTEP of a node with this underlay and VTEP address.
    pub fn new(underlay: Ipv4Addr, address: Ipv4Addr) -> Vtep {
        Vtep {
            underlay,
            address,
            mac: vtep_mac(address),
        }
    }
}

/// `02:74:` + the VTEP address: locally administered, unicast, unique per VTEP address.
pub fn vtep_mac(address: Ipv4Addr) -> [u8; 6] {
    let [a, b, c, d] = address.octets();
    [0x02, 0x74, a, b, c, d]
}

/// The VXLAN device MTU for an underlay MTU.
pub fn vxlan_mtu(underlay_mtu: u32) -> Result<u32> {
    match underlay_mtu.checked_sub(VXLAN_OVERHEAD) {
        Some(mtu) if mtu >= 68 => Ok(mtu),
        _ => Err(EncapError::Node(format!(
            "underlay MTU {underlay_mtu} leaves less than 68 bytes inside VXLAN"
        ))),
    }
}

/// How to set the device up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VxlanConfig {
    /// Device name ([`VXLAN_DEVICE`]).
    pub device: String,
    /// VNI ([`VXLAN_VNI`]).
    pub vni: u32,
    /// UDP port ([`VXLAN_PORT`]).
    pub port: u16,
    /// This node's VTEP (underlay address, VTEP address, MAC).
    pub local: Vtep,
}

impl VxlanConfig {
    /// tern's defaults for this node's VTEP.
    pub fn new(local: Vtep) -> VxlanConfig {
        VxlanConfig {
            device: VXLAN_DEVICE.to_string(),
            vni: VXLAN_VNI,
            port: VXLAN_PORT,
            local,
        }
    }
}

/// A configured VXLAN device.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VxlanDevice {
    /// Device name.
    pub device: String,
    /// Interface index.
    pub index: u32,
    /// Device MTU.
    pub mtu: u32,
}

/// Creates (or adopts) and configures the device in the handle's namespace.
pub async fn ensure(handle: &Handle, config: &VxlanConfig) -> Result<VxlanDevice> {
    let (underlay, _) =
        ipip::netlink::interface_with_address(handle, config.local.underlay).await?;
    let mtu = vxlan_mtu(underlay.mtu)?;
    let device = &config.device;
    let existing = ipip::netlink::link_by_name(handle, device).await?;
    if let Some(interface) = &existing
        && interface.kind.as_deref() != Some("vxlan")
    {
        return Err(EncapError::Device {
            device: device.clone(),
            problem: format!("exists with kind {:?}, not vxlan", interface.kind),
        });
    }
    let stale = match &existing {
        Some(interface) => {
            let found = settings(handle, interface.index).await?;
            let wanted = VxlanSettings::wanted(config, underlay.index);
            let stale = found != wanted;
            if stale {
                tracing::warn!(
                    device = %device, ?found, ?wanted,
                    "VXLAN device exists with other settings; recreating it"
                );
                delete_link(handle, interface.index, device).await?;
            }
            stale
        }
        None => false,
    };
    if existing.is_none() || stale {
        let message = LinkVxlan::new(device, config.vni)
            .dev(underlay.index)
            .local(config.local.underlay)
            .port(config.port)
            .learning(false)
            .build();
        handle.link().add(message).execute().await.map_err(|e| {
            EncapError::netlink(
                format!("ip link add {device} type vxlan id {}", config.vni),
                e,
            )
        })?;
    }
    let interface = ipip::netlink::link_by_name(handle, device)
        .await?
        .ok_or_else(|| EncapError::Device {
            device: device.clone(),
            problem: "created but not found".into(),
        })?;
    disable_ipv6(device);
    handle
        .link()
        .set(
            LinkUnspec::new_with_index(interface.index)
                .address(config.local.mac.to_vec())
                .mtu(mtu)
                .up()
                .build(),
        )
        .execute()
        .await
        .map_err(|e| {
            EncapError::netlink(format!("ip link set {device} address mtu {mtu} up"), e)
        })?;
    ipip::netlink::add_host_address(handle, interface.index, config.local.address).await?;
    tracing::info!(device = %device, vni = config.vni, mtu, vtep = %config.local.address, "VXLAN device configured");
    Ok(VxlanDevice {
        device: device.clone(),
        index: interface.index,
        mtu,
    })
}

/// Deletes VXLAN device `device` if it exists (no pool uses VXLAN any more); a device of
/// another kind under that name is not ours and stays.
pub async fn remove(handle: &Handle, device: &str) -> Result<()> {
    let Some(interface) = ipip::netlink::link_by_name(handle, device).await? else {
        return Ok(());
    };
    if interface.kind.as_deref() != Some("vxlan") {
        return Ok(());
    }
    tracing::info!(device = %device, "no pool uses VXLAN: removing the device");
    delete_link(handle, interface.index, device).await
}

async fn delete_link(handle: &Handle, index: u32, device: &str) -> Result<()> {
    handle
        .link()
        .del(index)
        .execute()
        .await
        .map_err(|e| EncapError::netlink(format!("ip link del {device}"), e))
}

/// What tern sets on its VXLAN device at creation, as the kernel reports it; an existing
/// device with other values (another VNI, port, underlay; learning on) is recreated, since
/// the kernel does not change most of them in place.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct VxlanSettings {
    vni: Option<u32>,
    port: Option<u16>,
    local: Option<Ipv4Addr>,
    underlay: Option<u32>,
    learning: Option<bool>,
}

impl VxlanSettings {
    fn wanted(config: &VxlanConfig, underlay: u32) -> VxlanSettings {
        VxlanSettings {
            vni: Some(config.vni),
            port: Some(config.port),
            local: Some(config.local.underlay),
            underlay: Some(underlay),
            learning: Some(false),
        }
    }

    fn from_info(info: &[InfoVxlan]) -> VxlanSettings {
        let mut settings = VxlanSettings::default();
        for item in info {
            match item {
                InfoVxlan::Id(vni) => settings.vni = Some(*vni),
                InfoVxlan::Port(port) => settings.port = Some(*port),
                InfoVxlan::Local(local) => settings.local = Some(*local),
                InfoVxlan::Link(index) => settings.underlay = Some(*index),
                InfoVxlan::Learning(learning) => settings.learning = Some(*learning),
                _ => {}
            }
        }
        settings
    }
}

/// The VXLAN settings of interface `index` (`ip -d link show`).
async fn settings(handle: &Handle, index: u32) -> Result<VxlanSettings> {
    let mut links = handle.link().get().match_index(index).execute();
    let message = links
        .try_next()
        .await
        .map_err(|e| EncapError::netlink(format!("ip -d link show index {index}"), e))?;
    let info = message
        .iter()
        .flat_map(|m| &m.attributes)
        .find_map(|attribute| match attribute {
            LinkAttribute::LinkInfo(infos) => infos.iter().find_map(|info| match info {
                LinkInfo::Data(InfoData::Vxlan(vxlan)) => Some(VxlanSettings::from_info(vxlan)),
                _ => None,
            }),
            _ => None,
        });
    Ok(info.unwrap_or_default())
}

/// Makes the neighbour and FDB entries of the device exactly `remotes`: replaces each
/// desired entry and deletes permanent entries of other VTEPs.
pub async fn set_remotes(handle: &Handle, device: &VxlanDevice, remotes: &[Vtep]) -> Result<()> {
    for vtep in remotes {
        handle
            .neighbours()
            .add(device.index, IpAddr::V4(vtep.address))
            .link_layer_address(&vtep.mac)
            .state(NeighbourState::Permanent)
            .replace()
            .execute()
            .await
            .map_err(|e| {
                EncapError::netlink(
                    format!("ip neigh replace {} dev {}", vtep.address, device.device),
                    e,
                )
            })?;
        handle
            .neighbours()
            .add_bridge(device.index, &vtep.mac)
            .destination(IpAddr::V4(vtep.underlay))
            .flags(NeighbourFlags::Own)
            .state(NeighbourState::Permanent)
            .replace()
            .execute()
            .await
            .map_err(|e| {
                EncapError::netlink(
                    format!(
                        "bridge fdb replace .. dev {} dst {}",
                        device.device, vtep.underlay
                    ),
                    e,
                )
            })?;
    }
    let wanted_addresses: BTreeSet<Ipv4Addr> = remotes.iter().map(|vtep| vtep.address).collect();
    let wanted_macs: BTreeSet<[u8; 6]> = remotes.iter().map(|vtep| vtep.mac).collect();
    for message in entries(handle, device.index, AddressFamily::Inet).await? {
        let stale =
            destination_of(&message).is_some_and(|address| !wanted_addresses.contains(&address));
        if stale && message.header.state == NeighbourState::Permanent {
            delete(handle, message, device).await?;
        }
    }
    for message in entries(handle, device.index, AddressFamily::Bridge).await? {
        let mac = mac_of(&message);
        let ours = mac.is_some_and(|mac| mac[..2] == [0x02, 0x74]);
        if ours && !mac.is_some_and(|mac| wanted_macs.contains(&mac)) {
            delete(handle, message, device).await?;
        }
    }
    Ok(())
}

/// `ip neigh show dev DEVICE` / `bridge fdb show dev DEVICE`.
pub async fn entries(
    handle: &Handle,
    index: u32,
    family: AddressFamily,
) -> Result<Vec<NeighbourMessage>> {
    let mut request = handle.neighbours().get();
    request.message_mut().header.family = family;
    let mut stream = request.execute();
    let mut found = Vec::new();
    while let Some(message) = stream
        .try_next()
        .await
        .map_err(|e| EncapError::netlink(format!("neighbour dump ({family:?})"), e))?
    {
        if message.header.ifindex == index {
            found.push(message);
        }
    }
    Ok(found)
}

async fn delete(handle: &Handle, message: NeighbourMessage, device: &VxlanDevice) -> Result<()> {
    let what = format!(
        "delete stale entry {:?} on {}",
        destination_of(&message),
        device.device
    );
    match handle.neighbours().del(message).execute().await {
        Ok(()) => Ok(()),
        Err(e) if ipip::netlink::errno(&e) == Some(libc::ENOENT) => Ok(()),
        Err(e) => Err(EncapError::netlink(what, e)),
    }
}

/// The IPv4 destination of a neighbour or FDB entry.
pub fn destination_of(message: &NeighbourMessage) -> Option<Ipv4Addr> {
    message
        .attributes
        .iter()
        .find_map(|attribute| match attribute {
            NeighbourAttribute::Destination(NeighbourAddress::Inet(address)) => Some(*address),
            _ => None,
        })
}

/// The link-layer address of a neighbour or FDB entry.
pub fn mac_of(message: &NeighbourMessage) -> Option<[u8; 6]> {
    message
        .attributes
        .iter()
        .find_map(|attribute| match attribute {
            NeighbourAttribute::LinkLayerAddress(bytes) => bytes.as_slice().try_into().ok(),
            _ => None,
        })
}

/// Like the IPIP device, the VXLAN device carries IPv4 only here: no link-local address, no
/// router solicitations. Best effort.
fn disable_ipv6(device: &str) {
    let path = format!("/proc/sys/net/ipv6/conf/{device}/disable_ipv6");
    if let Err(e) = std::fs::write(&path, "1") {
        tracing::debug!(error = %e, %path, "could not disable IPv6 on the VXLAN device");
    }
}
