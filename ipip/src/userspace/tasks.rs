//! The encap and decap loops. Each owns its read side; a packet that cannot be sent at once is
//! dropped (as a full device queue would), so a loop never blocks on the other.

use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use socket2::Socket;
use tokio::io::unix::AsyncFd;
use tokio::sync::watch;

use super::sockets::{self, TOS_INTERNETWORK_CONTROL};
use super::{Shared, Stats, TunDevice};
use crate::netlink;
use crate::wire::encap::{self, EcnAction, MtuVerdict};
use crate::wire::icmp::FragNeededRepr;
use crate::wire::ipv4::{Ipv4Packet, MAX_PACKET_LEN, PROTOCOL_IPIP};

/// Handles the loops share.
#[derive(Clone)]
pub(super) struct Io {
    pub(super) tun: Arc<AsyncFd<TunDevice>>,
    pub(super) ipip: Arc<AsyncFd<Socket>>,
    pub(super) icmp: Arc<AsyncFd<Socket>>,
    pub(super) shared: Arc<Shared>,
    pub(super) handle: rtnetlink::Handle,
}

/// TUN → raw socket.
pub(super) async fn encap_loop(io: Io, mut stop: watch::Receiver<bool>) {
    let mut buffer = vec![0u8; MAX_PACKET_LEN];
    let mut outer = Vec::with_capacity(MAX_PACKET_LEN);
    let mut ident = IdentCounter::random();
    let mut limiter = IcmpLimiter::new();
    loop {
        let length = tokio::select! {
            _ = stop.changed() => return,
            read = read_tun(&io.tun, &mut buffer) => match read {
                Ok(length) => length,
                Err(e) => {
                    tracing::error!(error = %e, "userspace IPIP: TUN read failed, encap stops");
                    return;
                }
            },
        };
        let Some(inner) = buffer.get(..length) else {
            continue;
        };
        encap_one(&io, inner, &mut outer, &mut ident, &mut limiter).await;
    }
}

async fn read_tun(tun: &AsyncFd<TunDevice>, buffer: &mut [u8]) -> std::io::Result<usize> {
    loop {
        let mut guard = tun.readable().await?;
        match guard.try_io(|device| device.get_ref().recv(buffer)) {
            Ok(result) => return result,
            Err(_would_block) => continue,
        }
    }
}

async fn encap_one(
    io: &Io,
    inner: &[u8],
    outer: &mut Vec<u8>,
    ident: &mut IdentCounter,
    limiter: &mut IcmpLimiter,
) {
    let shared = &io.shared;
    let Ok(packet) = Ipv4Packet::new_checked(inner) else {
        // IPv6 neighbour discovery and the like: the tunnel carries IPv4 only.
        Stats::bump(&shared.stats.dropped_malformed);
        return;
    };
    if packet.protocol() == PROTOCOL_IPIP && packet.src_addr() == shared.local {
        // Our own outer packet routed back into the device: the kernel's "collisions" check
        // (route to the remote through the tunnel itself). Drop instead of looping.
        Stats::bump(&shared.stats.dropped_no_peer);
        tracing::debug!(destination = %packet.dst_addr(), "userspace IPIP: routing loop, dropped");
        return;
    }
    let Some(remote) = shared.peers().lookup(packet.dst_addr()) else {
        Stats::bump(&shared.stats.dropped_no_peer);
        tracing::debug!(destination = %packet.dst_addr(), "userspace IPIP: no peer, dropped");
        return;
    };
    let underlay_mtu = shared.underlay_mtu.load(Ordering::Relaxed) as usize;
    match shared.params.mtu_verdict(&packet, underlay_mtu) {
        MtuVerdict::Fits => {}
        MtuVerdict::FragmentationNeeded { mtu } => {
            send_frag_needed(io, packet.packet(), mtu, limiter);
            return;
        }
        MtuVerdict::TooBig => {
            Stats::bump(&shared.stats.dropped_too_big);
            return;
        }
    }
    if let Err(e) = encap::encapsulate(
        &shared.params,
        inner,
        shared.local,
        remote,
        ident.next(),
        outer,
    ) {
        Stats::bump(&shared.stats.dropped_malformed);
        tracing::debug!(error = %e, "userspace IPIP: inner packet not encapsulated");
        return;
    }
    let destination = sockets::raw_destination(remote);
    match io.ipip.try_io(tokio::io::Interest::WRITABLE, |socket| {
        socket.send_to(outer, &destination)
    }) {
        Ok(_) => Stats::bump(&shared.stats.encapsulated),
        Err(e) if e.raw_os_error() == Some(libc::EMSGSIZE) => {
            // The underlay MTU shrank under us: learn it, then answer as tnl_update_pmtu().
            let mtu = refresh_underlay_mtu(io).await;
            match packet.dont_fragment() {
                true => send_frag_needed(io, packet.packet(), tunnel_mtu_u16(mtu), limiter),
                false => Stats::bump(&shared.stats.dropped_too_big),
            }
        }
        Err(e) => {
            Stats::bump(&shared.stats.dropped_send_error);
            tracing::debug!(error = %e, %remote, "userspace IPIP: send failed, dropped");
        }
    }
}

fn tunnel_mtu_u16(underlay_mtu: u32) -> u16 {
    u16::try_from(underlay_mtu.saturating_sub(20)).unwrap_or(u16::MAX)
}

async fn refresh_underlay_mtu(io: &Io) -> u32 {
    let current = io.shared.underlay_mtu.load(Ordering::Relaxed);
    let Some(index) = io.shared.underlay_index else {
        return current;
    };
    match netlink::link_by_index(&io.handle, index).await {
        Ok(interface) if interface.mtu > 0 => {
            if interface.mtu != current {
                tracing::info!(
                    from = current,
                    to = interface.mtu,
                    "userspace IPIP: underlay MTU changed"
                );
            }
            io.shared
                .underlay_mtu
                .store(interface.mtu, Ordering::Relaxed);
            interface.mtu
        }
        _ => current,
    }
}

/// Sends ICMP type 3 code 4 about `original` to its source through the host stack, as
/// `icmp_ndo_send()` does for the kernel tunnel (TOS: precedence 0xc0 plus the original's TOS
/// bits).
fn send_frag_needed(io: &Io, original: &[u8], mtu: u16, limiter: &mut IcmpLimiter) {
    let stats = &io.shared.stats;
    let Some(repr) = FragNeededRepr::about(original, mtu) else {
        Stats::bump(&stats.dropped_too_big);
        return;
    };
    if !limiter.allow(Instant::now()) {
        Stats::bump(&stats.dropped_too_big);
        return;
    }
    let source = Ipv4Packet::new_unchecked(original).src_addr();
    let tos = Ipv4Packet::new_unchecked(original).tos() & 0x1e;
    let message = repr.to_bytes();
    let socket = io.icmp.get_ref();
    let _ = socket.set_tos(u32::from(TOS_INTERNETWORK_CONTROL | tos));
    match socket.send_to(&message, &sockets::raw_destination(source)) {
        Ok(_) => {
            Stats::bump(&stats.frag_needed_sent);
            Stats::bump(&stats.dropped_too_big);
            tracing::debug!(%source, mtu, "userspace IPIP: sent fragmentation needed");
        }
        Err(e) => {
            Stats::bump(&stats.dropped_send_error);
            tracing::debug!(error = %e, %source, "userspace IPIP: ICMP send failed");
        }
    }
}

/// Raw socket → TUN.
pub(super) async fn decap_loop(io: Io, mut stop: watch::Receiver<bool>) {
    let mut buffer = vec![0u8; MAX_PACKET_LEN];
    loop {
        let length = tokio::select! {
            _ = stop.changed() => return,
            read = read_raw(&io.ipip, &mut buffer) => match read {
                Ok(length) => length,
                Err(e) => {
                    tracing::error!(error = %e, "userspace IPIP: raw read failed, decap stops");
                    return;
                }
            },
        };
        if let Some(received) = buffer.get_mut(..length) {
            decap_one(&io, received);
        }
    }
}

async fn read_raw(socket: &AsyncFd<Socket>, buffer: &mut [u8]) -> std::io::Result<usize> {
    use std::io::Read;
    loop {
        let mut guard = socket.readable().await?;
        let read = guard.try_io(|socket| {
            let mut reader: &Socket = socket.get_ref();
            reader.read(buffer)
        });
        match read {
            Ok(result) => return result,
            Err(_would_block) => continue,
        }
    }
}

fn decap_one(io: &Io, received: &mut [u8]) {
    let stats = &io.shared.stats;
    let (source, ecn, inner_range) = match encap::decapsulate(received) {
        Ok(decapsulated) => {
            let start = Ipv4Packet::new_unchecked(&*received).header_len();
            (
                decapsulated.outer.src_addr,
                decapsulated.ecn,
                start..start + decapsulated.inner.len(),
            )
        }
        Err(e) => {
            Stats::bump(&stats.dropped_malformed);
            tracing::debug!(error = %e, "userspace IPIP: bad outer packet dropped");
            return;
        }
    };
    if !io.shared.peers().is_known_remote(source) {
        Stats::bump(&stats.dropped_unknown_source);
        tracing::debug!(%source, "userspace IPIP: packet from unknown node dropped");
        return;
    }
    let Some(inner) = received.get_mut(inner_range) else {
        return;
    };
    match ecn {
        EcnAction::Keep => {}
        EcnAction::SetCe => encap::set_ce(inner),
        EcnAction::Drop => {
            Stats::bump(&stats.dropped_malformed);
            return;
        }
    }
    match io.tun.get_ref().send(inner) {
        Ok(_) => Stats::bump(&stats.decapsulated),
        Err(e) => {
            Stats::bump(&stats.dropped_send_error);
            tracing::debug!(error = %e, "userspace IPIP: TUN write failed");
        }
    }
}

/// Outer identification: a per-tunnel counter from a random start (the kernel hashes
/// per destination; neither is predictable by an observer, and both step per packet).
struct IdentCounter(u16);

impl IdentCounter {
    fn random() -> IdentCounter {
        let seed = std::collections::hash_map::RandomState::new()
            .build_hasher()
            .finish();
        IdentCounter(seed as u16)
    }

    fn next(&mut self) -> u16 {
        self.0 = self.0.wrapping_add(1);
        if self.0 == 0 {
            // With DF set the kernel keeps a zero ident from a raw socket; skip it so every
            // packet carries a tern-chosen ident.
            self.0 = 1;
        }
        self.0
    }
}

/// At most [`IcmpLimiter::BURST`] errors at once, refilled at one per 100 ms.
struct IcmpLimiter {
    tokens: u32,
    last: Instant,
}

impl IcmpLimiter {
    const BURST: u32 = 10;
    const REFILL: Duration = Duration::from_millis(100);

    fn new() -> IcmpLimiter {
        IcmpLimiter {
            tokens: Self::BURST,
            last: Instant::now(),
        }
    }

    fn allow(&mut self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.last);
        let refill = (elapsed.as_millis() / Self::REFILL.as_millis()) as u32;
        if refill > 0 {
            self.tokens = (self.tokens + refill).min(Self::BURST);
            self.last = now;
        }
        match self.tokens {
            0 => false,
            _ => {
                self.tokens -= 1;
                true
            }
        }
    }
}
