//! The IPIP device for the agent: [`ipip::Tunnel::open`] (kernel `tunl0` when `ipip.ko` is
//! there, else the userspace tunnel, logged loudly) with the tunnel address from this node's
//! pod CIDR and MTU = underlay − 20. In userspace mode the tunnel's peer table is fed from the
//! IPIP routes, as the kernel reads `via NODE` from them.

use std::net::Ipv4Addr;

use ipip::{Mode, Peer, Tunnel, TunnelConfig};
use ipnetwork::Ipv4Network;

use super::error::Result;
use super::{Encap, tunnel_address};

/// Opens the IPIP device for a node at `local` with pod CIDR `pod_cidr`. `force` picks a mode
/// instead of probing.
pub async fn open(
    local: Ipv4Addr,
    pod_cidr: Option<Ipv4Network>,
    force: Option<Mode>,
) -> Result<Tunnel> {
    let mut config = TunnelConfig::new(local);
    config.tunnel_address = pod_cidr.and_then(tunnel_address);
    config.force_mode = force;
    let tunnel = Tunnel::open(&config).await?;
    tracing::info!(
        mode = ?tunnel.mode(),
        device = tunnel.device(),
        tunnel_address = ?config.tunnel_address,
        "IPIP device ready"
    );
    Ok(tunnel)
}

/// The userspace peer table for these routes: every IPIP destination → its remote node.
pub fn peers<'a>(routes: impl IntoIterator<Item = &'a (Ipv4Network, Encap)>) -> Vec<Peer> {
    routes
        .into_iter()
        .filter_map(|(destination, encap)| match encap {
            Encap::Ipip { remote } => Some(Peer::new(*destination, *remote)),
            _ => None,
        })
        .collect()
}

/// Parses `--ipip-mode`: `auto` (probe), `kernel`, `userspace`.
pub fn parse_mode(text: &str) -> std::result::Result<Option<Mode>, String> {
    match text {
        "auto" => Ok(None),
        "kernel" => Ok(Some(Mode::Kernel)),
        "userspace" => Ok(Some(Mode::Userspace)),
        other => Err(format!(
            "unknown IPIP mode {other:?} (auto, kernel, userspace)"
        )),
    }
}
