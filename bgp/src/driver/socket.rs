//! Opening sockets: listeners, and outgoing connections bound to a chosen source address
//! with TCP-MD5 and TTL settings applied before `connect`.

use std::io;
use std::net::{IpAddr, SocketAddr};

use socket2::{Domain, Protocol, Socket, Type};
use tokio::net::{TcpListener, TcpSocket, TcpStream};

use super::md5::{Md5Error, set_md5_key};
use super::ttl::TtlPolicy;

/// Why an outgoing connection failed.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error(transparent)]
    Md5(#[from] Md5Error),
    #[error("socket option: {0}")]
    Option(#[source] io::Error),
    #[error("cannot bind source address {address}: {source}")]
    Bind {
        address: IpAddr,
        #[source]
        source: io::Error,
    },
    #[error("connect to {address}: {source}")]
    Connect {
        address: SocketAddr,
        #[source]
        source: io::Error,
    },
}

/// A listening socket on `address`: address reuse, IPv6-only for IPv6 addresses,
/// non-blocking, and TTL 255 so that the SYN-ACK already passes a GTSM peer's check
/// (RFC 5082 §3; accepted connections get their peer's TTL policy right after accept).
pub fn listen(address: SocketAddr) -> io::Result<TcpListener> {
    let socket = Socket::new(
        Domain::for_address(address),
        Type::STREAM,
        Some(Protocol::TCP),
    )?;
    socket.set_reuse_address(true)?;
    if address.is_ipv6() {
        socket.set_only_v6(true)?;
        socket.set_unicast_hops_v6(255)?;
    } else {
        socket.set_ttl(255)?;
    }
    socket.set_nonblocking(true)?;
    // Keep each SYN so GTSM can check the TTL a connection was opened with (see
    // `ttl::saved_syn_ttl`); without it (old kernels) only packets after accept are checked.
    let _ = super::ttl::save_syn(&socket);
    socket.bind(&address.into())?;
    socket.listen(128)?;
    TcpListener::from_std(socket.into())
}

/// What an outgoing connection needs.
#[derive(Debug, Clone)]
pub struct ConnectSpec {
    pub remote: SocketAddr,
    pub local: Option<IpAddr>,
    pub password: Option<String>,
    pub ttl: TtlPolicy,
}

/// Connect to the peer: socket, MD5 key and TTL first, then bind the source address, then
/// connect (RFC 2385 needs the key before the SYN).
pub async fn connect(spec: &ConnectSpec) -> Result<TcpStream, ConnectError> {
    let remote = spec.remote;
    let socket = if remote.is_ipv4() {
        TcpSocket::new_v4()
    } else {
        TcpSocket::new_v6()
    }
    .map_err(ConnectError::Option)?;
    if let Some(password) = &spec.password {
        set_md5_key(&socket, remote.ip(), password.as_bytes())?;
    }
    spec.ttl
        .apply(&socket, &remote)
        .map_err(ConnectError::Option)?;
    socket.set_nodelay(true).map_err(ConnectError::Option)?;
    if let Some(local) = spec.local {
        socket
            .bind(SocketAddr::new(local, 0))
            .map_err(|source| ConnectError::Bind {
                address: local,
                source,
            })?;
    }
    socket
        .connect(remote)
        .await
        .map_err(|source| ConnectError::Connect {
            address: remote,
            source,
        })
}
