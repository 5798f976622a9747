//! TCP MD5 signatures (RFC 2385) through Linux's `TCP_MD5SIG` socket option.
//!
//! A key is bound to a peer address on a socket: set it on the listening socket for every peer
//! with a password (the kernel then signs and checks the handshake of connections from that
//! address) and on an outgoing socket before `connect`. On an IPv6 socket an IPv4 peer is
//! named by its IPv4-mapped address. An empty key removes the binding.
//!
//! Equivalent to what `bird`'s `password "…"` or FRR's `neighbor X password …` do.

use std::io;
use std::mem;
use std::net::IpAddr;
use std::os::fd::{AsRawFd, RawFd};

use socket2::{SockAddr, SockRef};

/// Longest key the kernel accepts (`TCP_MD5SIG_MAXKEYLEN`).
pub const MAX_KEY_LEN: usize = 80;

/// `struct tcp_md5sig` from `<linux/tcp.h>`.
#[repr(C)]
struct TcpMd5Sig {
    tcpm_addr: libc::sockaddr_storage,
    tcpm_flags: u8,
    tcpm_prefixlen: u8,
    tcpm_keylen: u16,
    tcpm_ifindex: libc::c_int,
    tcpm_key: [u8; MAX_KEY_LEN],
}

/// Why a key could not be installed.
#[derive(Debug, thiserror::Error)]
pub enum Md5Error {
    /// The password is longer than the kernel allows.
    #[error("TCP-MD5 password of {0} bytes is longer than {MAX_KEY_LEN}")]
    KeyTooLong(usize),
    /// The kernel refused the option (no `CONFIG_TCP_MD5SIG`, or no permission).
    #[error("setsockopt(TCP_MD5SIG) for {peer} failed: {source}")]
    Refused {
        peer: IpAddr,
        #[source]
        source: io::Error,
    },
}

/// Bind `key` to `peer` on `socket` (`key` empty: remove the binding). The socket's family
/// decides how `peer` is written (IPv4-mapped on IPv6 sockets).
pub fn set_md5_key(socket: &impl AsRawFd, peer: IpAddr, key: &[u8]) -> Result<(), Md5Error> {
    if key.len() > MAX_KEY_LEN {
        return Err(Md5Error::KeyTooLong(key.len()));
    }
    let fd = socket.as_raw_fd();
    let socket_is_v6 =
        socket_family(fd).map_err(|source| Md5Error::Refused { peer, source })? == libc::AF_INET6;
    let peer_on_socket = match peer {
        IpAddr::V4(v4) if socket_is_v6 => IpAddr::V6(v4.to_ipv6_mapped()),
        IpAddr::V6(v6) if !socket_is_v6 => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(v6),
        },
        other => other,
    };
    let address = SockAddr::from(std::net::SocketAddr::new(peer_on_socket, 0));
    // SAFETY: all-zero is a valid value of this plain C struct.
    let mut sig: TcpMd5Sig = unsafe { mem::zeroed() };
    let len = (address.len() as usize).min(mem::size_of::<libc::sockaddr_storage>());
    // SAFETY: both regions are valid for `len` bytes and do not overlap.
    unsafe {
        std::ptr::copy_nonoverlapping(
            address.as_ptr().cast::<u8>(),
            (&raw mut sig.tcpm_addr).cast::<u8>(),
            len,
        );
    }
    sig.tcpm_keylen = key.len() as u16;
    sig.tcpm_key[..key.len()].copy_from_slice(key);
    // SAFETY: `sig` is a properly initialised `struct tcp_md5sig` and the length matches.
    let rc = unsafe {
        libc::setsockopt(
            fd,
            libc::IPPROTO_TCP,
            libc::TCP_MD5SIG,
            (&raw const sig).cast::<libc::c_void>(),
            mem::size_of::<TcpMd5Sig>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        let source = io::Error::last_os_error();
        // Removing a key that was never set is not an error worth reporting.
        if key.is_empty() && source.raw_os_error() == Some(libc::ENOENT) {
            return Ok(());
        }
        Err(Md5Error::Refused { peer, source })
    }
}

fn socket_family(fd: RawFd) -> io::Result<libc::c_int> {
    // SAFETY: the fd is borrowed for the duration of the call only.
    let socket = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) };
    let local = SockRef::from(&socket).local_addr()?;
    Ok(local.family() as libc::c_int)
}
