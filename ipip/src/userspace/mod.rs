//! The userspace IPIP tunnel, for kernels without `ipip.ko`: a TUN device stands where
//! `tunl0` would, and two tokio tasks move packets.
//!
//! - **encap**: read an inner packet from the TUN device → look the outer destination up in
//!   the [`PeerTable`] (the route's `via NODE`) → check DF/MTU (ICMP "fragmentation needed"
//!   with MTU = underlay − 20 back to the sender, as `tnl_update_pmtu()` does) → prepend the
//!   outer header ([`crate::wire::encapsulate`], kernel rules) → send on the raw IPIP socket.
//! - **decap**: receive an outer packet on the raw IPIP socket → validate → accept it only from
//!   a known remote node → apply RFC 6040 ECN → write the inner packet into the TUN device.
//!
//! The TUN device gets MTU = underlay − 20 and the tunnel address (`/32`), like `tunl0`.
//! Everything lives in the network namespace of the thread that calls
//! [`UserspaceTunnel::start`]. Dropping the tunnel stops the tasks; the TUN device disappears
//! with its file descriptor.

mod device;
mod sockets;
mod tasks;

use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use ipnetwork::Ipv4Network;
use tokio::io::unix::AsyncFd;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use device::TunDevice;

use crate::error::{Error, Result};
use crate::netlink;
use crate::peers::{Peer, PeerTable};
use crate::wire::TunnelParams;
use crate::wire::ipv4::HEADER_LEN;

/// How to start a userspace tunnel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserspaceConfig {
    /// TUN device name (tern uses `tunl0` in both modes so routes look the same).
    pub device: String,
    /// This node's underlay address: the outer source, where the raw socket is bound.
    pub local: Ipv4Addr,
    /// Underlay MTU; `None` reads the MTU of the interface holding `local`.
    pub underlay_mtu: Option<u32>,
    /// Address put on the device as `/32` (from the node's pod CIDR), so host-originated
    /// traffic into the tunnel has a source.
    pub tunnel_address: Option<Ipv4Addr>,
    /// Outer header rules.
    pub params: TunnelParams,
    /// Initial peers.
    pub peers: Vec<Peer>,
}

/// Packet counters.
#[derive(Debug, Default)]
pub struct Stats {
    encapsulated: AtomicU64,
    decapsulated: AtomicU64,
    frag_needed_sent: AtomicU64,
    dropped_no_peer: AtomicU64,
    dropped_unknown_source: AtomicU64,
    dropped_malformed: AtomicU64,
    dropped_too_big: AtomicU64,
    dropped_send_error: AtomicU64,
}

/// A copy of the counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StatsSnapshot {
    /// Inner packets sent into the tunnel.
    pub encapsulated: u64,
    /// Inner packets received from the tunnel and delivered.
    pub decapsulated: u64,
    /// ICMP "fragmentation needed" errors sent.
    pub frag_needed_sent: u64,
    /// Inner packets with no peer for their destination.
    pub dropped_no_peer: u64,
    /// Outer packets from an address that is not a known remote node.
    pub dropped_unknown_source: u64,
    /// Packets that failed validation (or ECN drop).
    pub dropped_malformed: u64,
    /// Too big for the underlay without DF.
    pub dropped_too_big: u64,
    /// Send or write errors.
    pub dropped_send_error: u64,
}

impl Stats {
    fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    fn snapshot(&self) -> StatsSnapshot {
        let load = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        StatsSnapshot {
            encapsulated: load(&self.encapsulated),
            decapsulated: load(&self.decapsulated),
            frag_needed_sent: load(&self.frag_needed_sent),
            dropped_no_peer: load(&self.dropped_no_peer),
            dropped_unknown_source: load(&self.dropped_unknown_source),
            dropped_malformed: load(&self.dropped_malformed),
            dropped_too_big: load(&self.dropped_too_big),
            dropped_send_error: load(&self.dropped_send_error),
        }
    }
}

/// State shared by the tasks and the handle.
#[derive(Debug)]
struct Shared {
    local: Ipv4Addr,
    params: TunnelParams,
    peers: RwLock<PeerTable>,
    underlay_mtu: AtomicU32,
    underlay_index: Option<u32>,
    stats: Stats,
}

impl Shared {
    fn peers(&self) -> std::sync::RwLockReadGuard<'_, PeerTable> {
        self.peers
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A running userspace tunnel.
#[derive(Debug)]
pub struct UserspaceTunnel {
    device: String,
    index: u32,
    subnet: Option<Ipv4Network>,
    shared: Arc<Shared>,
    handle: rtnetlink::Handle,
    shutdown: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl UserspaceTunnel {
    /// Creates the TUN device and sockets in the current network namespace, configures the
    /// device (`ip link set DEV mtu UNDERLAY-20 up`, `ip addr add ADDR/32 dev DEV`) and starts
    /// the encap and decap tasks. Needs a tokio runtime and CAP_NET_ADMIN + CAP_NET_RAW.
    pub async fn start(config: &UserspaceConfig) -> Result<UserspaceTunnel> {
        let (handle, connection) = netlink::connect()?;
        let underlay = netlink::interface_with_address(&handle, config.local).await;
        let (underlay_mtu, underlay_index, subnet) = match (config.underlay_mtu, underlay) {
            (Some(mtu), Ok((interface, subnet))) => (mtu, Some(interface.index), Some(subnet)),
            (Some(mtu), Err(_)) => (mtu, None, None),
            (None, Ok((interface, subnet))) => (interface.mtu, Some(interface.index), Some(subnet)),
            (None, Err(e)) => return Err(e),
        };
        let tunnel_mtu = tunnel_mtu(underlay_mtu)?;

        let tun = TunDevice::create(&config.device)?;
        let ipip = sockets::ipip_socket(config.local)?;
        let icmp = sockets::icmp_socket()?;
        let interface = netlink::link_by_name(&handle, &config.device)
            .await?
            .ok_or_else(|| Error::Interface {
                name: config.device.clone(),
                problem: "TUN device vanished after creation".into(),
            })?;
        disable_ipv6(&config.device);
        netlink::set_mtu_and_up(&handle, interface.index, tunnel_mtu).await?;
        if let Some(address) = config.tunnel_address {
            netlink::add_host_address(&handle, interface.index, address).await?;
        }

        let shared = Arc::new(Shared {
            local: config.local,
            params: config.params,
            peers: RwLock::new(PeerTable::new(config.peers.iter().copied())),
            underlay_mtu: AtomicU32::new(underlay_mtu),
            underlay_index,
            stats: Stats::default(),
        });
        let tun = Arc::new(register(tun, "TUN device")?);
        let ipip = Arc::new(register(ipip, "IPIP raw socket")?);
        let icmp = register(icmp, "ICMP raw socket")?;
        let (shutdown, stop) = watch::channel(false);
        let io = tasks::Io {
            tun,
            ipip,
            icmp: Arc::new(icmp),
            shared: shared.clone(),
            handle: handle.clone(),
        };
        let tasks = vec![
            connection,
            tokio::spawn(tasks::encap_loop(io.clone(), stop.clone())),
            tokio::spawn(tasks::decap_loop(io, stop)),
        ];
        tracing::info!(
            device = %config.device,
            local = %config.local,
            underlay_mtu,
            tunnel_mtu,
            "userspace IPIP tunnel running"
        );
        Ok(UserspaceTunnel {
            device: config.device.clone(),
            index: interface.index,
            subnet,
            shared,
            handle,
            shutdown,
            tasks,
        })
    }

    /// The TUN device name.
    pub fn device(&self) -> &str {
        &self.device
    }

    /// The TUN device's interface index.
    pub fn index(&self) -> u32 {
        self.index
    }

    /// The underlay subnet of the local address, when it was found on an interface.
    pub fn underlay_subnet(&self) -> Option<Ipv4Network> {
        self.subnet
    }

    /// The underlay MTU in use (lowered when a send reports `EMSGSIZE`).
    pub fn underlay_mtu(&self) -> u32 {
        self.shared.underlay_mtu.load(Ordering::Relaxed)
    }

    /// Replaces the peer table (level-triggered: the whole desired set).
    pub fn set_peers(&self, peers: impl IntoIterator<Item = Peer>) {
        self.set_peer_table(PeerTable::new(peers));
    }

    /// Replaces the peer table with `table` (which may accept more senders than it has
    /// routes to: [`PeerTable::with_known_remotes`]).
    pub fn set_peer_table(&self, table: PeerTable) {
        tracing::debug!(peers = table.len(), "userspace IPIP peers replaced");
        match self.shared.peers.write() {
            Ok(mut current) => *current = table,
            Err(poisoned) => *poisoned.into_inner() = table,
        }
    }

    /// The current peer table.
    pub fn peers(&self) -> PeerTable {
        self.shared.peers().clone()
    }

    /// Replaces the peer table with the `via` routes out of the device, as the kernel would
    /// find the outer destination (`ip route show dev DEV`). Returns the number of peers.
    pub async fn load_peers_from_routes(&self) -> Result<usize> {
        let peers = netlink::peers_from_routes(&self.handle, self.index).await?;
        let count = peers.len();
        self.set_peers(peers);
        Ok(count)
    }

    /// Packet counters.
    pub fn stats(&self) -> StatsSnapshot {
        self.shared.stats.snapshot()
    }

    /// Stops the tasks and waits for them; the TUN device goes away.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown.send(true);
        for task in self.tasks.drain(..) {
            task.abort();
            let _ = task.await;
        }
    }
}

impl Drop for UserspaceTunnel {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// `sysctl net.ipv6.conf.DEV.disable_ipv6=1`, before the device goes up: like `tunl0`, the
/// tunnel carries IPv4 only, so no link-local address and no router solicitations. The
/// `net` sysctls resolve in the calling thread's namespace. Kernels without IPv6 lack the
/// file, which is fine.
fn disable_ipv6(device: &str) {
    let path = format!("/proc/sys/net/ipv6/conf/{device}/disable_ipv6");
    if let Err(e) = std::fs::write(&path, "1") {
        tracing::debug!(error = %e, %path, "could not disable IPv6 on the tunnel device");
    }
}

/// Registers an owned descriptor with the tokio reactor.
fn register<T: std::os::fd::AsRawFd>(inner: T, what: &str) -> Result<AsyncFd<T>> {
    // SAFETY: `inner` owns its descriptor (a File or a Socket) and nothing closes or replaces
    // it while the AsyncFd owns `inner`.
    unsafe { AsyncFd::register(inner) }
        .map_err(|e| Error::io(format!("register {what} with tokio"), e.into()))
}

/// The tunnel device MTU for an underlay MTU: underlay − 20 (RFC 2003 §4), at least 68.
pub fn tunnel_mtu(underlay_mtu: u32) -> Result<u32> {
    let header = HEADER_LEN as u32;
    match underlay_mtu.checked_sub(header) {
        Some(mtu) if mtu >= 68 => Ok(mtu),
        _ => Err(Error::Config(format!(
            "underlay MTU {underlay_mtu} leaves less than 68 bytes for the inner packet"
        ))),
    }
}
