//! The kernel IPIP device (`tunl0`), configured over rtnetlink as Calico does, plus
//! `pmtudisc`:
//!
//! ```text
//! ip link add tunl0 type ipip ttl inherit tos 0 pmtudisc   # or the fallback tunl0 of ipip.ko
//! ip tunnel change tunl0 mode ipip pmtudisc                # fallback tunl0 only (ioctl)
//! ip link set tunl0 mtu UNDERLAY-20 up
//! ip addr add TUNNEL_ADDRESS/32 dev tunl0
//! ```
//!
//! Loading `ipip.ko` creates `tunl0` in every namespace from zeroed parameters (`ttl inherit`,
//! `tos 0`, `nopmtudisc`, any local, any remote). It is the only "any/any" ipip device a
//! namespace can have, and the kernel refuses netlink changes to it (`ip_tunnel_changelink`
//! returns EINVAL for the fallback device), so `pmtudisc` is set with the `SIOCCHGTUNNEL` ioctl
//! that `ip tunnel change` uses. Without `ipip.ko` the link creation fails with EOPNOTSUPP:
//! [`Error::KernelUnavailable`], and the caller falls back to [`crate::userspace`].

use std::net::Ipv4Addr;
use std::os::fd::AsRawFd;

use rtnetlink::packet_route::link::LinkMessage;
use rtnetlink::{Handle, LinkIpIp};

use crate::error::{Error, Result};
use crate::netlink;
use crate::userspace::tunnel_mtu;
use crate::wire::TunnelParams;

/// How to set up the kernel device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KernelConfig {
    /// Device name (`tunl0`).
    pub device: String,
    /// Underlay MTU; the device gets this − 20.
    pub underlay_mtu: u32,
    /// `/32` address for host-originated traffic.
    pub tunnel_address: Option<Ipv4Addr>,
    /// Outer header parameters.
    pub params: TunnelParams,
}

/// A configured kernel ipip device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KernelTunnel {
    /// Device name.
    pub device: String,
    /// Interface index.
    pub index: u32,
    /// Device MTU.
    pub mtu: u32,
}

/// The `RTM_NEWLINK` message for the device (`ip link add NAME type ipip ttl T tos S
/// [no]pmtudisc`).
pub fn new_link_message(device: &str, params: &TunnelParams) -> LinkMessage {
    LinkIpIp::new(device)
        .ttl(params.ttl)
        .tos(params.tos)
        .pmtudisc(params.pmtudisc)
        .build()
}

/// Creates or adopts the ipip device and configures it. EOPNOTSUPP on creation (no
/// `ipip.ko`) is [`Error::KernelUnavailable`].
pub async fn open(handle: &Handle, config: &KernelConfig) -> Result<KernelTunnel> {
    let mtu = tunnel_mtu(config.underlay_mtu)?;
    let device = &config.device;
    let existing = match netlink::link_by_name(handle, device).await? {
        Some(interface) => Some(interface),
        None => create(handle, device, &config.params).await?,
    };
    let interface = match existing {
        Some(interface) => interface,
        None => netlink::link_by_name(handle, device)
            .await?
            .ok_or_else(|| Error::Interface {
                name: device.clone(),
                problem: "created but not found".into(),
            })?,
    };
    if interface.kind.as_deref() != Some("ipip") {
        return Err(Error::Interface {
            name: device.clone(),
            problem: format!(
                "exists with kind {:?}, not ipip",
                interface.kind.as_deref().unwrap_or("none")
            ),
        });
    }
    apply_params(handle, device, &config.params).await?;
    netlink::set_mtu_and_up(handle, interface.index, mtu).await?;
    if let Some(address) = config.tunnel_address {
        netlink::add_host_address(handle, interface.index, address).await?;
    }
    tracing::info!(device = %device, mtu, "kernel IPIP device configured");
    Ok(KernelTunnel {
        device: device.clone(),
        index: interface.index,
        mtu,
    })
}

/// `ip link add`; `Ok(None)` when created, `Ok(Some(_))` when module loading created it first.
async fn create(
    handle: &Handle,
    device: &str,
    params: &TunnelParams,
) -> Result<Option<netlink::Interface>> {
    match handle
        .link()
        .add(new_link_message(device, params))
        .execute()
        .await
    {
        Ok(()) => Ok(None),
        Err(e) => match netlink::errno(&e) {
            Some(libc::EOPNOTSUPP) => Err(Error::KernelUnavailable {
                reason: format!("ip link add {device} type ipip: {e} (no ipip.ko)"),
            }),
            // Autoloading ipip.ko made the fallback tunl0 (our name) or an any/any twin.
            Some(libc::EEXIST) => match netlink::link_by_name(handle, device).await? {
                Some(interface) => Ok(Some(interface)),
                None => Err(Error::Interface {
                    name: device.to_string(),
                    problem: "another any/any ipip device exists (use tunl0)".into(),
                }),
            },
            _ => Err(Error::netlink(format!("ip link add {device} type ipip"), e)),
        },
    }
}

/// Sets ttl/tos/pmtudisc: netlink first, the `SIOCCHGTUNNEL` ioctl for the fallback device.
async fn apply_params(handle: &Handle, device: &str, params: &TunnelParams) -> Result<()> {
    match handle
        .link()
        .change(new_link_message(device, params))
        .execute()
        .await
    {
        Ok(()) => Ok(()),
        Err(e) if netlink::errno(&e) == Some(libc::EINVAL) => change_by_ioctl(device, params),
        Err(e) => Err(Error::netlink(
            format!("ip link change {device} type ipip"),
            e,
        )),
    }
}

/// `struct ip_tunnel_parm` (include/uapi/linux/if_tunnel.h), 52 bytes.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpTunnelParm {
    /// Device name.
    pub name: [libc::c_char; libc::IFNAMSIZ],
    /// Underlay link index.
    pub link: libc::c_int,
    /// Input GRE flags (unused for ipip).
    pub i_flags: u16,
    /// Output GRE flags (unused for ipip).
    pub o_flags: u16,
    /// Input key.
    pub i_key: u32,
    /// Output key.
    pub o_key: u32,
    /// The outer header template (`struct iphdr`): TOS at 1, frag_off at 6..8, TTL at 8.
    pub iph: [u8; 20],
}

const SIOCGETTUNNEL: libc::c_ulong = 0x89f0;
const SIOCCHGTUNNEL: libc::c_ulong = 0x89f3;
const IP_DF: u16 = 0x4000;

impl IpTunnelParm {
    /// Applies `params` to the header template as `ip tunnel change` does.
    pub fn apply(&mut self, params: &TunnelParams) {
        self.iph[1] = params.tos;
        self.iph[8] = params.ttl;
        let frag_off: u16 = if params.pmtudisc || params.ttl != 0 {
            IP_DF
        } else {
            0
        };
        self.iph[6..8].copy_from_slice(&frag_off.to_be_bytes());
    }
}

/// `ip tunnel change DEVICE mode ipip ttl T tos S [no]pmtudisc` (SIOCGETTUNNEL, then
/// SIOCCHGTUNNEL with the template changed).
fn change_by_ioctl(device: &str, params: &TunnelParams) -> Result<()> {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::DGRAM, None)
        .map_err(|e| Error::io("socket for SIOCCHGTUNNEL", e))?;
    // SAFETY: both structs are plain old data; zero is a valid value.
    let mut parm: IpTunnelParm = unsafe { std::mem::zeroed() };
    let mut request: libc::ifreq = unsafe { std::mem::zeroed() };
    for (slot, byte) in request.ifr_name.iter_mut().zip(device.bytes().take(15)) {
        *slot = byte as libc::c_char;
    }
    parm.name = request.ifr_name;
    request.ifr_ifru.ifru_data = (&mut parm as *mut IpTunnelParm).cast();
    // SAFETY: the ioctls read/write the ip_tunnel_parm that ifr_data points to, which lives
    // until both calls return.
    let rc = unsafe { libc::ioctl(socket.as_raw_fd(), SIOCGETTUNNEL as _, &mut request) };
    if rc != 0 {
        return Err(Error::io(
            format!("ip tunnel show {device} (SIOCGETTUNNEL)"),
            std::io::Error::last_os_error(),
        ));
    }
    parm.apply(params);
    let rc = unsafe { libc::ioctl(socket.as_raw_fd(), SIOCCHGTUNNEL as _, &mut request) };
    if rc != 0 {
        return Err(Error::io(
            format!("ip tunnel change {device} mode ipip pmtudisc (SIOCCHGTUNNEL)"),
            std::io::Error::last_os_error(),
        ));
    }
    Ok(())
}

#[cfg(test)]
#[path = "kernel_tests.rs"]
mod tests;
