//! The two raw sockets of the userspace tunnel.
//!
//! - [`ipip_socket`]: `socket(AF_INET, SOCK_RAW, IPPROTO_IPIP)` bound to the underlay address,
//!   with `IP_HDRINCL` so the outer header on the wire is exactly the one tern builds (the
//!   kernel only fills a zero ident or source and recomputes the same checksum). Received
//!   datagrams include the outer header. While a raw socket for protocol 4 is open, the kernel
//!   sends no "protocol unreachable" for IPIP packets.
//! - [`icmp_socket`]: `socket(AF_INET, SOCK_RAW, IPPROTO_ICMP)` for "fragmentation needed"
//!   errors; the kernel routes them and picks their source address like `icmp_send()` does.
//!   Its receive side is shut with an `ICMP_FILTER` that drops every type.

use std::net::{Ipv4Addr, SocketAddrV4};
use std::os::fd::AsRawFd;

use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use crate::error::{Error, Result};
use crate::wire::ipv4::PROTOCOL_IPIP;

const SOL_RAW: libc::c_int = 255;
const ICMP_FILTER: libc::c_int = 1;
/// Precedence "internetwork control", the kernel's TOS for ICMP errors.
pub const TOS_INTERNETWORK_CONTROL: u8 = 0xc0;

/// The IPIP raw socket, bound to `local`, non-blocking, `IP_HDRINCL` on.
pub fn ipip_socket(local: Ipv4Addr) -> Result<Socket> {
    let socket = Socket::new(
        Domain::IPV4,
        Type::RAW,
        Some(Protocol::from(i32::from(PROTOCOL_IPIP))),
    )
    .map_err(|e| Error::io("socket(AF_INET, SOCK_RAW, IPPROTO_IPIP)", e))?;
    socket
        .set_header_included_v4(true)
        .map_err(|e| Error::io("setsockopt IP_HDRINCL", e))?;
    socket
        .bind(&SockAddr::from(SocketAddrV4::new(local, 0)))
        .map_err(|e| Error::io(format!("bind IPIP raw socket to {local}"), e))?;
    socket
        .set_nonblocking(true)
        .map_err(|e| Error::io("set IPIP raw socket non-blocking", e))?;
    Ok(socket)
}

/// The ICMP raw socket used to send errors, non-blocking, receiving nothing.
pub fn icmp_socket() -> Result<Socket> {
    let socket = Socket::new(Domain::IPV4, Type::RAW, Some(Protocol::ICMPV4))
        .map_err(|e| Error::io("socket(AF_INET, SOCK_RAW, IPPROTO_ICMP)", e))?;
    let filter_all: u32 = u32::MAX;
    // SAFETY: ICMP_FILTER takes a u32 bit mask we pass by pointer with its size.
    let rc = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            SOL_RAW,
            ICMP_FILTER,
            (&filter_all as *const u32).cast(),
            std::mem::size_of::<u32>() as libc::socklen_t,
        )
    };
    if rc != 0 {
        return Err(Error::io(
            "setsockopt ICMP_FILTER",
            std::io::Error::last_os_error(),
        ));
    }
    socket
        .set_nonblocking(true)
        .map_err(|e| Error::io("set ICMP raw socket non-blocking", e))?;
    Ok(socket)
}

/// A socket address for a raw send to `address`.
pub fn raw_destination(address: Ipv4Addr) -> SockAddr {
    SockAddr::from(SocketAddrV4::new(address, 0))
}
