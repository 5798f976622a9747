//! The encapsulation dataplane of one node: keeps the IPIP and VXLAN devices, the VXLAN
//! neighbour/FDB entries, the routes to the other nodes' pod CIDRs and the `natOutgoing`
//! table in line with the objects.
//!
//! Routes: [`EncapDataplane::route_for`] is the next-hop hook for a route programmer (one
//! destination and its BGP next hop → gateway, device, onlink). Until the BGP-driven route
//! programmer takes over, [`EncapDataplane::update`] installs the routes to every other
//! node's pod CIDRs itself (what a full mesh would learn), with protocol
//! [`ENCAP_ROUTE_PROTOCOL`], replacing its own routes and removing those no longer wanted.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::sync::Arc;

use ipip::{Mode, Tunnel};
use ipnetwork::Ipv4Network;
use rtnetlink::packet_route::route::{RouteFlags, RouteProtocol};
use rtnetlink::{Handle, RouteMessageBuilder};
use tokio::sync::watch;

use super::error::{EncapError, Result};
use super::topology::EncapTopology;
use super::vxlan::{self, VxlanConfig, VxlanDevice};
use super::{Encap, nat, needs_ipip, needs_vxlan};
use crate::snapshot::Snapshot;

/// rtnetlink protocol of the routes this module installs (`ip route show proto 80`).
pub const ENCAP_ROUTE_PROTOCOL: u8 = 80;

/// How the dataplane runs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DataplaneOptions {
    /// IPIP implementation: `None` probes (kernel, else userspace).
    pub ipip_mode: Option<Mode>,
    /// Install routes to the other nodes' pod CIDRs from the objects.
    pub program_routes: bool,
}

/// A kernel route to one destination.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RouteSpec {
    /// Destination.
    pub destination: Ipv4Network,
    /// Gateway.
    pub gateway: Ipv4Addr,
    /// Output device (tunnel devices), with `onlink`.
    pub device: Option<u32>,
}

/// The node's encapsulation state.
#[derive(Debug)]
pub struct EncapDataplane {
    options: DataplaneOptions,
    handle: Handle,
    ipip: Option<Tunnel>,
    vxlan: Option<VxlanDevice>,
    routes: BTreeMap<Ipv4Network, RouteSpec>,
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
            routes: BTreeMap::new(),
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

    /// The next-hop hook: the kernel route for a decision, or `None` when nothing should be
    /// installed (VXLAN without a VTEP, or the tunnel device is not up yet).
    pub fn route_for(&self, destination: Ipv4Network, encap: &Encap) -> Option<RouteSpec> {
        match encap {
            Encap::None { remote } => Some(RouteSpec {
                destination,
                gateway: *remote,
                device: None,
            }),
            Encap::Ipip { remote } => self.ipip.as_ref().map(|tunnel| RouteSpec {
                destination,
                gateway: *remote,
                device: Some(tunnel.index()),
            }),
            Encap::Vxlan { vtep } => self.vxlan.as_ref().map(|device| RouteSpec {
                destination,
                gateway: vtep.address,
                device: Some(device.index),
            }),
            Encap::VxlanPending { .. } => None,
        }
    }

    /// Brings devices, VXLAN entries, NAT and (when enabled) routes in line with `topology`.
    pub async fn update(&mut self, topology: &EncapTopology) -> Result<()> {
        let tunnels = self.update_tunnels(topology).await;
        let nat = self.update_nat(topology);
        tunnels.and(nat)
    }

    async fn update_tunnels(&mut self, topology: &EncapTopology) -> Result<()> {
        let Some(local) = topology.local_address else {
            return Err(EncapError::Node(
                "this node has no IPv4 underlay address (tern.dev/bgp-ipv4-address or InternalIP)"
                    .into(),
            ));
        };
        if needs_ipip(&topology.pools) && self.ipip.is_none() {
            self.ipip = Some(
                super::ipip::open(local, topology.local_pod_cidr, self.options.ipip_mode).await?,
            );
        }
        if needs_vxlan(&topology.pools) {
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
        let routes = topology.pod_routes();
        if let Some(tunnel) = &self.ipip {
            tunnel.set_peers(super::ipip::peers(&routes));
        }
        if self.options.program_routes {
            let desired: BTreeMap<Ipv4Network, RouteSpec> = routes
                .iter()
                .filter_map(|(destination, encap)| self.route_for(*destination, encap))
                .map(|route| (route.destination, route))
                .collect();
            self.program(desired).await?;
        }
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

    /// Installs what changed and removes what is no longer desired. A route the kernel
    /// refuses (a gateway not on any link, say) is logged and retried on the next update;
    /// the others go in regardless.
    async fn program(&mut self, desired: BTreeMap<Ipv4Network, RouteSpec>) -> Result<()> {
        let mut first_error = None;
        let mut installed = BTreeMap::new();
        for route in desired.values() {
            if self.routes.get(&route.destination) == Some(route) {
                installed.insert(route.destination, *route);
                continue;
            }
            match replace_route(&self.handle, route).await {
                Ok(()) => {
                    tracing::info!(?route, "route installed");
                    installed.insert(route.destination, *route);
                }
                Err(error) => {
                    tracing::warn!("{error}");
                    if let Some(old) = self.routes.get(&route.destination) {
                        installed.insert(route.destination, *old);
                    }
                    first_error.get_or_insert(error);
                }
            }
        }
        for route in self.routes.values() {
            if desired.contains_key(&route.destination) {
                continue;
            }
            match delete_route(&self.handle, route).await {
                Ok(()) => tracing::info!(?route, "route removed"),
                Err(error) => {
                    tracing::warn!("{error}");
                    installed.insert(route.destination, *route);
                    first_error.get_or_insert(error);
                }
            }
        }
        self.routes = installed;
        first_error.map_or(Ok(()), Err)
    }

    /// Stops the userspace tunnel; devices and routes stay.
    pub async fn shutdown(self) {
        if let Some(tunnel) = self.ipip {
            tunnel.shutdown().await;
        }
    }
}

fn message(route: &RouteSpec) -> rtnetlink::packet_route::route::RouteMessage {
    let mut builder = RouteMessageBuilder::<Ipv4Addr>::new()
        .destination_prefix(route.destination.network(), route.destination.prefix())
        .gateway(route.gateway)
        .protocol(RouteProtocol::from(ENCAP_ROUTE_PROTOCOL));
    if let Some(index) = route.device {
        builder = builder.output_interface(index);
    }
    let mut message = builder.build();
    if route.device.is_some() {
        message.header.flags |= RouteFlags::Onlink;
    }
    message
}

/// `ip route replace DEST via GW [dev DEV onlink] proto 80`.
pub async fn replace_route(handle: &Handle, route: &RouteSpec) -> Result<()> {
    handle
        .route()
        .add(message(route))
        .replace()
        .execute()
        .await
        .map_err(|e| EncapError::netlink(format!("ip route replace {route:?}"), e))
}

/// `ip route del DEST proto 80`; a route already gone is fine.
pub async fn delete_route(handle: &Handle, route: &RouteSpec) -> Result<()> {
    match handle.route().del(message(route)).execute().await {
        Ok(()) => Ok(()),
        Err(e) if ipip::netlink::errno(&e) == Some(libc::ESRCH) => Ok(()),
        Err(e) => Err(EncapError::netlink(format!("ip route del {route:?}"), e)),
    }
}

/// Runs the dataplane for `node_name` until `stop` turns true: one update per snapshot, and
/// a retry every 5 s after a failure.
pub async fn run(
    node_name: String,
    options: DataplaneOptions,
    mut snapshots: watch::Receiver<Arc<Snapshot>>,
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
                Ok(()) => {
                    retry = false;
                    last = Some(topology);
                }
                Err(error) => {
                    tracing::error!("encapsulation dataplane: {error}; retrying in 5s");
                    retry = true;
                }
            }
        }
        tokio::select! {
            _ = stop.changed() => break,
            changed = snapshots.changed() => if changed.is_err() { break },
            _ = tokio::time::sleep(std::time::Duration::from_secs(5)), if retry => {}
        }
    }
    dataplane.shutdown().await;
}
