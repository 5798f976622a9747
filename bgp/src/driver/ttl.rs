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

#[cfg(test)]
mod tests {
    use super::*;

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
