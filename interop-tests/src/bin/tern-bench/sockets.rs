//! TCP sockets inside a test host's network namespace, for the bench's in-process ends.
//!
//! A socket belongs to the namespace it was created in, whatever thread uses it later. So a
//! short-lived thread enters the namespace (`setns(2)`, which affects only that thread),
//! creates the socket and hands it back; the tokio runtime then drives it as usual.

use std::fs::File;
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::time::Duration;

use anyhow::{Context, bail};
use interop_tests::command::netns_path;
use tokio::net::{TcpListener, TcpSocket, TcpStream};

/// Runs `make` on a thread inside `netns` and returns its result.
fn in_netns<T: Send>(
    netns: &str,
    make: impl FnOnce() -> std::io::Result<T> + Send,
) -> anyhow::Result<T> {
    let path = netns_path(netns);
    let handle = File::open(&path).with_context(|| format!("open {path}"))?;
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                // SAFETY: setns(2) on this thread only; the fd is valid for the call.
                if unsafe { libc::setns(handle.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                make()
            })
            .join()
            .map_err(|_| std::io::Error::other("netns thread panicked"))?
    })
    .with_context(|| format!("socket in netns {netns}"))
}

/// A TCP socket created in `netns` and bound to `local` (port 0: any).
pub fn bound_socket(netns: &str, local: SocketAddr) -> anyhow::Result<TcpSocket> {
    in_netns(netns, || {
        let socket = TcpSocket::new_v4()?;
        socket.set_reuseaddr(true)?;
        socket.bind(local)?;
        Ok(socket)
    })
}

/// A listener in `netns` on `local` (registered with the current tokio runtime).
pub fn listener(netns: &str, local: SocketAddr) -> anyhow::Result<TcpListener> {
    let socket = bound_socket(netns, local)?;
    Ok(socket.listen(1024)?)
}

/// Connects from `local` in `netns` to `remote`, retrying refused or failed attempts every
/// 200 ms until `timeout` (a daemon may not listen yet).
pub async fn connect(
    netns: &str,
    local: SocketAddr,
    remote: SocketAddr,
    timeout: Duration,
) -> anyhow::Result<TcpStream> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let socket = bound_socket(netns, local)?;
        let attempt = tokio::time::timeout(Duration::from_secs(3), socket.connect(remote)).await;
        match attempt {
            Ok(Ok(stream)) => return Ok(stream),
            Ok(Err(error)) if tokio::time::Instant::now() >= deadline => {
                bail!("connect {local} → {remote}: {error}")
            }
            Err(_) if tokio::time::Instant::now() >= deadline => {
                bail!("connect {local} → {remote}: timed out")
            }
            _ => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}
