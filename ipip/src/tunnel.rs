//! [`Tunnel::open`]: the kernel `ipip` device where the kernel has it, else the userspace
//! tunnel, with a loud warning. Both present the same device name, MTU and tunnel address, so
//! routes (`via NODE dev tunl0 onlink`) are programmed the same way in both modes.

use std::net::Ipv4Addr;

use crate::error::{Error, Result};
use crate::kernel::{self, KernelConfig, KernelTunnel};
use crate::netlink;
use crate::peers::{Peer, PeerTable};
use crate::userspace::{UserspaceConfig, UserspaceTunnel};
use crate::wire::TunnelParams;

/// The default device name, as Calico's.
pub const DEFAULT_DEVICE: &str = "tunl0";

/// Which implementation carries the tunnel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mode {
    /// The kernel's `ipip` module (`tunl0`).
    Kernel,
    /// TUN device + raw socket in this process.
    Userspace,
}

/// Tunnel configuration common to both modes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TunnelConfig {
    /// Device name; [`DEFAULT_DEVICE`] unless told.
    pub device: String,
    /// This node's underlay address.
    pub local: Ipv4Addr,
    /// Underlay MTU; `None` reads it from the interface holding `local`.
    pub underlay_mtu: Option<u32>,
    /// `/32` tunnel address from the node's pod CIDR.
    pub tunnel_address: Option<Ipv4Addr>,
    /// Outer header rules ([`TunnelParams::TERN`]).
    pub params: TunnelParams,
    /// Peers for the userspace mode (the kernel mode reads next hops from routes).
    pub peers: Vec<Peer>,
    /// Force a mode instead of probing (tests, `--ipip-mode`).
    pub force_mode: Option<Mode>,
}

impl TunnelConfig {
    /// A configuration with defaults: `tunl0`, tern's parameters, MTU from the underlay.
    pub fn new(local: Ipv4Addr) -> TunnelConfig {
        TunnelConfig {
            device: DEFAULT_DEVICE.to_string(),
            local,
            underlay_mtu: None,
            tunnel_address: None,
            params: TunnelParams::TERN,
            peers: Vec::new(),
            force_mode: None,
        }
    }
}

/// A running tunnel in either mode.
#[derive(Debug)]
pub enum Tunnel {
    /// The kernel device.
    Kernel(KernelTunnel),
    /// The userspace tunnel.
    Userspace(UserspaceTunnel),
}

impl Tunnel {
    /// Opens the tunnel: kernel mode when `ipip.ko` is there, else userspace (logged at
    /// `warn`). Runs in the caller's network namespace; needs a tokio runtime.
    pub async fn open(config: &TunnelConfig) -> Result<Tunnel> {
        let underlay_mtu = match config.underlay_mtu {
            Some(mtu) => mtu,
            None => {
                let (handle, connection) = netlink::connect()?;
                let found = netlink::interface_with_address(&handle, config.local).await;
                connection.abort();
                found?.0.mtu
            }
        };
        if config.force_mode != Some(Mode::Userspace) {
            match open_kernel(config, underlay_mtu).await {
                Ok(tunnel) => return Ok(Tunnel::Kernel(tunnel)),
                Err(Error::KernelUnavailable { reason })
                    if config.force_mode != Some(Mode::Kernel) =>
                {
                    tracing::warn!(
                        %reason,
                        device = %config.device,
                        "KERNEL IPIP UNAVAILABLE: falling back to the USERSPACE IPIP tunnel \
                         (TUN + raw socket); expect lower throughput and higher CPU use"
                    );
                }
                Err(e) => return Err(e),
            }
        }
        let userspace = UserspaceConfig {
            device: config.device.clone(),
            local: config.local,
            underlay_mtu: Some(underlay_mtu),
            tunnel_address: config.tunnel_address,
            params: config.params,
            peers: config.peers.clone(),
        };
        Ok(Tunnel::Userspace(UserspaceTunnel::start(&userspace).await?))
    }

    /// Which mode runs.
    pub fn mode(&self) -> Mode {
        match self {
            Tunnel::Kernel(_) => Mode::Kernel,
            Tunnel::Userspace(_) => Mode::Userspace,
        }
    }

    /// The device name routes point at.
    pub fn device(&self) -> &str {
        match self {
            Tunnel::Kernel(tunnel) => &tunnel.device,
            Tunnel::Userspace(tunnel) => tunnel.device(),
        }
    }

    /// The device's interface index.
    pub fn index(&self) -> u32 {
        match self {
            Tunnel::Kernel(tunnel) => tunnel.index,
            Tunnel::Userspace(tunnel) => tunnel.index(),
        }
    }

    /// Replaces the userspace peer table; the kernel takes next hops from routes, so this is
    /// a no-op there.
    pub fn set_peers(&self, peers: impl IntoIterator<Item = Peer>) {
        if let Tunnel::Userspace(tunnel) = self {
            tunnel.set_peers(peers);
        }
    }

    /// Replaces the userspace peer table with `table`; a no-op for the kernel device.
    pub fn set_peer_table(&self, table: PeerTable) {
        if let Tunnel::Userspace(tunnel) = self {
            tunnel.set_peer_table(table);
        }
    }

    /// Userspace mode: replaces the peer table with the `via` routes out of the device
    /// (`ip route show dev tunl0`), as the kernel reads next hops. Kernel mode: `Ok(0)`.
    pub async fn load_peers_from_routes(&self) -> Result<usize> {
        match self {
            Tunnel::Kernel(_) => Ok(0),
            Tunnel::Userspace(tunnel) => tunnel.load_peers_from_routes().await,
        }
    }

    /// Userspace packet counters (`None` in kernel mode: see `ip -s link show tunl0`).
    pub fn stats(&self) -> Option<crate::userspace::StatsSnapshot> {
        match self {
            Tunnel::Kernel(_) => None,
            Tunnel::Userspace(tunnel) => Some(tunnel.stats()),
        }
    }

    /// Stops the userspace tasks; the kernel device stays (routes keep working across a
    /// restart).
    pub async fn shutdown(self) {
        if let Tunnel::Userspace(tunnel) = self {
            tunnel.shutdown().await;
        }
    }
}

async fn open_kernel(config: &TunnelConfig, underlay_mtu: u32) -> Result<KernelTunnel> {
    let (handle, connection) = netlink::connect()?;
    let result = kernel::open(
        &handle,
        &KernelConfig {
            device: config.device.clone(),
            underlay_mtu,
            tunnel_address: config.tunnel_address,
            params: config.params,
        },
    )
    .await;
    connection.abort();
    result
}
