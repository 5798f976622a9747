//! Accepting connections: one task per listening socket hands every accepted connection to
//! the core, which gives it to the peer with that address or closes it.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tracing::warn;

/// An accepted connection and the address it came from.
pub type Accepted = (TcpStream, SocketAddr);

/// Accept on `listener` until the task is aborted or the core is gone.
pub fn spawn(listener: Arc<TcpListener>, core: mpsc::Sender<Accepted>) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            match listener.accept().await {
                Ok(accepted) => {
                    if core.send(accepted).await.is_err() {
                        return;
                    }
                }
                Err(error) => {
                    // Out of file descriptors and the like: back off a little.
                    warn!(%error, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
            }
        }
    })
}
