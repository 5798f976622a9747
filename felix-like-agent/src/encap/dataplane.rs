//! The encapsulation dataplane of one node: keeps the IPIP and VXLAN devices, the VXLAN
//! neighbour/FDB entries and the `natOutgoing` table in line with the objects, and tells the
//! route programmer how to reach each destination ([`EncapRouteVia`]).
//!
//! Order per change: devices first, then the new topology is published to the hook and the
//! programmer asked to recompute, so no route names a device before it exists. In userspace
//! IPIP mode the tunnel's peer table (inner prefix → remote node) is the IPIP routes out of
//! the device plus the other nodes' pod CIDRs that the decision sends through IPIP; it is
//! refreshed on every change and every [`PEER_REFRESH`].

use std::sync::Arc;
use std::time::Duration;

use ipip::{Mode, Peer, Tunnel};
use rtnetlink::Handle;
use tokio::sync::watch;

use super::error::{EncapError, Result};
use super::route_via::EncapRouteVia;
use super::topology::EncapTopology;
use super::vxlan::{self, VXLAN_DEVICE, VxlanConfig, VxlanDevice};
use super::{nat, needs_ipip, needs_vxlan};
use crate::dataplane::ProgrammerHandle;
use crate::snapshot::Snapshot;

/// How often the userspace tunnel re-reads its peers from the routes.
pub const PEER_REFRESH: Duration = Duration::from_secs(1);

/// How long to wait before retrying after a failed update.
pub const RETRY: Duration = Duration::from_secs(5);

/// How the dataplane runs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DataplaneOptions {
    /// IPIP implementation: `None` probes (kernel, else userspace).
    pub ipip_mode: Option<Mode>,
}

/// The node's encapsulation state.
#[derive(Debug)]
pub struct EncapDataplane {
    options: DataplaneOptions,
    handle: Handle,
    ipip: Option<Tunnel>,
    vxlan: Option<VxlanDevice>,
    /// No VXLAN device exists (checked since no pool wanted VXLAN).
    vxlan_removed: bool,
    nat_script: Option<String>,
}

impl EncapDataplane {
    /// A dataplane in the current network namespace (needs a tokio runtime).
    pub fn new(options: DataplaneOptions) -> Result<EncapDataplane> {
        let (connection, handle, _) = rtnetlink::new_connection()
            .map_err(|e| EncapError::Node(format!("cannot open rtnetlink: {e}")))?;
        tokio::spawn(connection);
        Ok(EncapDataplane {
            options,
            handle,
            ipip: None,
            vxlan: None,
            vxlan_removed: false,
            nat_script: None,
        })
    }

    /// The IPIP device, once opened.
    pub fn ipip(&self) -> Option<&Tunnel> {
        self.ipip.as_ref()
    }

    /// The VXLAN device, once configured.
    pub fn vxlan(&self) -> Option<&VxlanDevice> {
        self.vxlan.as_ref()
    }

    /// Brings devices, VXLAN entries and NAT in line with `topology`. A NAT failure does not
    /// hold the tunnels back (and the other way round); the first error is returned.
    pub async fn update(&mut self, topology: &EncapTopology) -> Result<()> {
        let tunnels = self.update_tunnels(topology).await;
        let nat = self.update_nat(topology);
        tunnels.and(nat)
    }

    async fn update_tunnels(&mut self, topology: &EncapTopology) -> Result<()> {
        let wants_ipip = needs_ipip(&topology.pools);
        let wants_vxlan = needs_vxlan(&topology.pools);
        if !wants_ipip && let Some(tunnel) = self.ipip.take() {
            // A userspace device goes with its tasks; kernel tunl0 (the module's fallback
            // device) stays, as Calico leaves it.
            tracing::info!("no pool uses IPIP any more: closing the tunnel");
            tunnel.shutdown().await;
        }
        if !wants_vxlan && !self.vxlan_removed {
            // Also a device left by an earlier run: routes through it would blackhole.
            vxlan::remove(&self.handle, VXLAN_DEVICE).await?;
            self.vxlan = None;
            self.vxlan_removed = true;
        }
        if !wants_ipip && !wants_vxlan {
            return Ok(());
        }
        let Some(local) = topology.local_address else {
            return Err(EncapError::Node(
                "this node has no IPv4 underlay address (tern.dev/bgp-ipv4-address or InternalIP)"
                    .into(),
            ));
        };
        if wants_ipip && self.ipip.is_none() {
            self.ipip = Some(
                super::ipip::open(local, topology.local_pod_cidr, self.options.ipip_mode).await?,
            );
        }
        if wants_vxlan {
            self.vxlan_removed = false;
            if self.vxlan.is_none() {
                let vtep = topology.local_vtep().ok_or_else(|| {
                    EncapError::Node("VXLAN needs this node's pod CIDR for its VTEP".into())
                })?;
                self.vxlan = Some(vxlan::ensure(&self.handle, &VxlanConfig::new(vtep)).await?);
            }
            if let Some(device) = &self.vxlan {
                let remotes: Vec<_> = topology.vteps.values().copied().collect();
                vxlan::set_remotes(&self.handle, device, &remotes).await?;
            }
        }
        self.refresh_peers(topology).await
    }

    /// Userspace IPIP only: peers = IPIP routes out of the device ∪ the other nodes' pod
    /// CIDRs the decision tunnels.
    pub async fn refresh_peers(&self, topology: &EncapTopology) -> Result<()> {
        let Some(tunnel) = &self.ipip else {
            return Ok(());
        };
        if tunnel.mode() != Mode::Userspace {
            return Ok(());
        }
        let mut peers: Vec<Peer> = super::ipip::peers(&topology.pod_routes());
        peers.extend(ipip::netlink::peers_from_routes(&self.handle, tunnel.index()).await?);
        // Every other node may tunnel to us (each sender decides CrossSubnet for itself).
        let senders = topology
            .remotes
            .iter()
            .flat_map(|remote| remote.addresses.iter().copied());
        tunnel.set_peer_table(ipip::PeerTable::new(peers).with_known_remotes(senders));
        Ok(())
    }

    fn update_nat(&mut self, topology: &EncapTopology) -> Result<()> {
        let script = nat::render(&topology.pools);
        if self.nat_script.as_ref() == Some(&script) {
            return Ok(());
        }
        let wanted = topology.pools.iter().any(|pool| pool.nat_outgoing);
        match nat::apply(&script) {
            Ok(()) => {}
            // Nothing to masquerade: a kernel without nf_tables has no stale table either.
            Err(error) if !wanted => {
                tracing::debug!("no natOutgoing pool; removing the NAT table: {error}");
                self.nat_script = Some(script);
                return Ok(());
            }
            Err(error) => return Err(error),
        }
        tracing::info!(
            nat_pools = topology
                .pools
                .iter()
                .filter(|pool| pool.nat_outgoing)
                .count(),
            "natOutgoing table {} updated",
            nat::NAT_TABLE
        );
        self.nat_script = Some(script);
        Ok(())
    }

    /// Stops the userspace tunnel; devices and routes stay.
    pub async fn shutdown(self) {
        if let Some(tunnel) = self.ipip {
            tunnel.shutdown().await;
        }
    }
}

/// Runs the dataplane for `node_name` until `stop` turns true: one update per snapshot
/// change, publishing each applied topology to `via` and asking `programmer` to recompute.
pub async fn run(
    node_name: String,
    options: DataplaneOptions,
    mut snapshots: watch::Receiver<Arc<Snapshot>>,
    via: EncapRouteVia,
    programmer: Option<ProgrammerHandle>,
    mut stop: watch::Receiver<bool>,
) {
    let mut dataplane = match EncapDataplane::new(options) {
        Ok(dataplane) => dataplane,
        Err(error) => {
            tracing::error!("encapsulation dataplane not started: {error}");
            return;
        }
    };
    let mut last: Option<EncapTopology> = None;
    let mut retry = false;
    loop {
        let snapshot = snapshots.borrow_and_update().clone();
        let topology = EncapTopology::from_snapshot(&snapshot, &node_name);
        if retry || last.as_ref() != Some(&topology) {
            match dataplane.update(&topology).await {
                Ok(()) => retry = false,
                Err(error) => {
                    tracing::error!(
                        "encapsulation dataplane: {error}; retrying in {}s",
                        RETRY.as_secs()
                    );
                    retry = true;
                }
            }
            if let Some(tunnel) = dataplane.ipip() {
                via.set_ipip_device(tunnel.device());
            }
            // Publish even after a partial failure: decisions for devices that are up hold.
            via.publish(topology.clone());
            if let Some(programmer) = &programmer {
                programmer.refresh();
            }
            last = Some(topology);
        }
        let userspace = dataplane
            .ipip()
            .is_some_and(|tunnel| tunnel.mode() == Mode::Userspace);
        tokio::select! {
            _ = stop.changed() => break,
            changed = snapshots.changed() => if changed.is_err() { break },
            _ = tokio::time::sleep(RETRY), if retry => {}
            _ = tokio::time::sleep(PEER_REFRESH), if userspace && !retry => {
                if let Some(current) = &last
                    && let Err(error) = dataplane.refresh_peers(current).await
                {
                    tracing::warn!("userspace IPIP peers: {error}");
                }
            }
        }
    }
    dataplane.shutdown().await;
}
