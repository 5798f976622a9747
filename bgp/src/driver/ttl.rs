//! IP TTL / hop limit of BGP sessions, and the Generalized TTL Security Mechanism (GTSM,
//! RFC 5082).
//!
//! Rules (documented in [`crate::speaker::PeerConfig`]):
//! - with `ttl_security: Some(hops)` we send with TTL 255 and drop packets that arrive with a
//!   TTL below `256 - hops` (`IP_MINTTL`, `IPV6_MINHOPCOUNT`), on the connected socket and, when
//!   every peer of the listener uses GTSM, on the listening socket so foreign SYNs are dropped;
//! - otherwise `ttl: Some(n)` if configured (eBGP multihop);
//! - otherwise TTL 1 towards external peers (directly connected, as routers do by default) and
//!   the system default (64) towards internal peers.
//!
//! Same as BIRD's `ttl security` / `multihop`, FRR's `ttl-security hops` / `ebgp-multihop`.

use std::io;
use std::mem;
use std::net::SocketAddr;
use std::os::fd::AsRawFd;

use socket2::SockRef;

use crate::rib::PeerType;

/// The TTL/hop-limit settings of one session's socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TtlPolicy {
    /// TTL to send with; `None` keeps the system default.
    pub send: Option<u8>,
    /// Smallest TTL accepted (GTSM); `None` accepts any.
    pub min_receive: Option<u8>,
}

impl TtlPolicy {
    /// The policy for a peer. `ttl_security` is the number of hops (Calico `ttlSecurity`);
    /// `ttl` an explicit sending TTL.
    pub fn for_peer(peer_type: PeerType, ttl_security: Option<u8>, ttl: Option<u8>) -> Self {
        match (ttl_security, ttl, peer_type) {
            (Some(hops), _, _) => Self {
                send: Some(255),
                min_receive: Some(min_ttl_for_hops(hops)),
            },
            (None, Some(ttl), _) => Self {
                send: Some(ttl),
                min_receive: None,
            },
            (None, None, PeerType::External) => Self {
                send: Some(1),
                min_receive: None,
            },
            (None, None, PeerType::Internal) => Self {
                send: None,
                min_receive: None,
            },
        }
    }

    /// Apply to a socket of the family of `address`.
    pub fn apply(&self, socket: &impl AsRawFd, address: &SocketAddr) -> io::Result<()> {
        if let Some(ttl) = self.send {
            set_send_ttl(socket, address, ttl)?;
        }
        if let Some(min) = self.min_receive {
            set_min_ttl(socket, address, min)?;
        }
        Ok(())
    }

    /// For an accepted connection: [`TtlPolicy::apply`], then, under GTSM, refuse the
    /// connection (`PermissionDenied`) when the SYN that opened it arrived with a TTL below
    /// the minimum (see [`saved_syn_ttl`]). RFC 5082 §3.
    pub fn apply_accepted(&self, socket: &impl AsRawFd, address: &SocketAddr) -> io::Result<()> {
        self.apply(socket, address)?;
        if let Some(min) = self.min_receive
            && let Ok(Some(ttl)) = saved_syn_ttl(socket)
            && ttl < min
        {
            return Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                format!("GTSM: the SYN arrived with TTL {ttl}, below the minimum {min}"),
            ));
        }
        Ok(())
    }
}

/// `256 - hops`, clamped to 1..=255 (RFC 5082 §3: a peer `hops` away arrives with at least
/// 255 - (hops - 1)).
pub fn min_ttl_for_hops(hops: u8) -> u8 {
    (256 - u16::from(hops.max(1))).min(255) as u8
}

/// `IP_TTL` / `IPV6_UNICAST_HOPS`.
pub fn set_send_ttl(socket: &impl AsRawFd, address: &SocketAddr, ttl: u8) -> io::Result<()> {
    // SAFETY: the fd is borrowed for the duration of the call only.
    let fd = unsafe { std::os::fd::BorrowedFd::borrow_raw(socket.as_raw_fd()) };
    let socket = SockRef::from(&fd);
    match address {
        SocketAddr::V4(_) => socket.set_ttl(u32::from(ttl)),
        SocketAddr::V6(_) => socket.set_unicast_hops_v6(u32::from(ttl)),
    }
}

/// `IP_MINTTL` / `IPV6_MINHOPCOUNT` (0 turns the check off).
pub fn set_min_ttl(socket: &impl AsRawFd, address: &SocketAddr, min: u8) -> io::Result<()> {
    let (level, name) = match address {
        SocketAddr::V4(_) => (libc::IPPROTO_IP, libc::IP_MINTTL),
        SocketAddr::V6(_) => (libc::IPPROTO_IPV6, libc::IPV6_MINHOPCOUNT),
    };
    let value: libc::c_int = libc::c_int::from(min);
    // SAFETY: `value` is a valid int for the duration of the call.
    let rc = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            level,
            name,
            (&raw const value).cast::<libc::c_void>(),
            mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Asks the kernel to keep a copy of each incoming SYN on a listener (`TCP_SAVE_SYN`, Linux
/// 4.2+), so [`saved_syn_ttl`] can check the TTL the connection was opened with.
pub fn save_syn(socket: &impl AsRawFd) -> io::Result<()> {
    let value: libc::c_int = 1;
    // SAFETY: setsockopt with a valid fd and a c_int option value.
    let rc = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_SAVE_SYN,
            (&raw const value).cast::<libc::c_void>(),
            mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// The TTL (IPv4) or hop limit (IPv6) of the SYN that opened an accepted connection, from the
/// copy kept by [`save_syn`] (`TCP_SAVED_SYN`; the kernel hands it out once). `None` when no
/// copy was kept.
///
/// GTSM (RFC 5082 §3) must hold for every packet of the session, but `IP_MINTTL` can only be
/// set on an accepted socket after `accept()`: whatever the peer sent right after the
/// handshake (its OPEN, maybe a KEEPALIVE) is already queued unchecked. Checking the SYN
/// closes that gap: an off-path sender cannot add data to a connection it did not open.
pub fn saved_syn_ttl(socket: &impl AsRawFd) -> io::Result<Option<u8>> {
    let mut buffer = [0u8; 512];
    let mut len = buffer.len() as libc::socklen_t;
    // SAFETY: getsockopt writes at most `len` bytes into `buffer` and updates `len`.
    let rc = unsafe {
        libc::getsockopt(
            socket.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_SAVED_SYN,
            buffer.as_mut_ptr().cast::<libc::c_void>(),
            &mut len,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    let saved = buffer.get(..len as usize).unwrap_or_default();
    Ok(ttl_of_ip_header(saved))
}

/// The TTL / hop limit field of an IPv4 or IPv6 header.
fn ttl_of_ip_header(header: &[u8]) -> Option<u8> {
    match header.first().map(|byte| byte >> 4) {
        Some(4) => header.get(8).copied(),
        Some(6) => header.get(7).copied(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttl_is_read_from_ipv4_and_ipv6_headers() {
        // IPv4: version/IHL 0x45, ..., TTL 254 at offset 8, protocol 6 (TCP).
        let ipv4 = [
            0x45, 0, 0, 60, 0, 0, 0x40, 0, 254, 6, 0, 0, 198, 18, 3, 2, 198, 18, 2, 1,
        ];
        assert_eq!(ttl_of_ip_header(&ipv4), Some(254));
        // IPv6: version 6, ..., next header 6 at offset 6, hop limit 255 at offset 7.
        let mut ipv6 = [0u8; 40];
        ipv6[0] = 0x60;
        ipv6[6] = 6;
        ipv6[7] = 255;
        assert_eq!(ttl_of_ip_header(&ipv6), Some(255));
        assert_eq!(ttl_of_ip_header(&[]), None);
        assert_eq!(ttl_of_ip_header(&[0x45, 0, 0]), None);
    }

    #[test]
    fn gtsm_one_hop_accepts_only_ttl_255() {
        assert_eq!(min_ttl_for_hops(1), 255);
        assert_eq!(min_ttl_for_hops(2), 254);
        assert_eq!(min_ttl_for_hops(255), 1);
        assert_eq!(min_ttl_for_hops(0), 255);
    }

    #[test]
    fn external_peers_default_to_ttl_one_and_gtsm_sends_255() {
        let external = TtlPolicy::for_peer(PeerType::External, None, None);
        assert_eq!(external.send, Some(1));
        let gtsm = TtlPolicy::for_peer(PeerType::External, Some(1), None);
        assert_eq!((gtsm.send, gtsm.min_receive), (Some(255), Some(255)));
        let internal = TtlPolicy::for_peer(PeerType::Internal, None, None);
        assert_eq!((internal.send, internal.min_receive), (None, None));
    }
}
