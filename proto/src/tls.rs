//! The API over TCP with mutual TLS (rustls via tonic): the server presents its certificate
//! and requires a client certificate signed by the configured CA; connections without one, or
//! with one from another CA (self-signed included), fail in the TLS handshake.
//!
//! Off by default: `ternd` serves the unix socket only unless it is given a TCP address and
//! the three PEM files.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::transport::{Certificate, Identity, ServerTlsConfig};

use crate::api::NodeApi;
use crate::server::{ServeError, router_on};

/// PEM files of the TCP server.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    /// The server's certificate (chain).
    pub certificate: PathBuf,
    /// The server's private key.
    pub key: PathBuf,
    /// The CA that client certificates must chain to.
    pub client_ca: PathBuf,
}

/// The same, loaded.
#[derive(Debug, Clone)]
pub struct TlsPem {
    pub certificate: Vec<u8>,
    pub key: Vec<u8>,
    pub client_ca: Vec<u8>,
}

/// Why TLS could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid TLS configuration: {0}")]
    Config(#[source] tonic::transport::Error),
    #[error("cannot listen on {address}: {source}")]
    Listen {
        address: SocketAddr,
        #[source]
        source: std::io::Error,
    },
}

impl TlsFiles {
    pub fn load(&self) -> Result<TlsPem, TlsError> {
        let read = |path: &Path| {
            std::fs::read(path).map_err(|source| TlsError::Read {
                path: path.to_path_buf(),
                source,
            })
        };
        Ok(TlsPem {
            certificate: read(&self.certificate)?,
            key: read(&self.key)?,
            client_ca: read(&self.client_ca)?,
        })
    }
}

impl TlsPem {
    /// Server identity plus a required client certificate from `client_ca`.
    pub fn server_config(&self) -> ServerTlsConfig {
        ServerTlsConfig::new()
            .identity(Identity::from_pem(&self.certificate, &self.key))
            .client_ca_root(Certificate::from_pem(&self.client_ca))
            .client_auth_optional(false)
    }
}

/// A bound, not yet serving, TCP + mutual-TLS API server.
#[derive(Debug)]
pub struct TcpTlsServer {
    listener: TcpListener,
    tls: ServerTlsConfig,
}

impl TcpTlsServer {
    /// Listen on `address` (port 0: any free port; see [`TcpTlsServer::local_address`]).
    pub async fn bind(address: SocketAddr, pem: &TlsPem) -> Result<Self, TlsError> {
        let listener = TcpListener::bind(address)
            .await
            .map_err(|source| TlsError::Listen { address, source })?;
        Ok(TcpTlsServer {
            listener,
            tls: pem.server_config(),
        })
    }

    pub fn local_address(&self) -> Option<SocketAddr> {
        self.listener.local_addr().ok()
    }

    /// Serve `api` until `shutdown` completes.
    pub async fn serve<A: NodeApi>(
        self,
        api: Arc<A>,
        shutdown: impl Future<Output = ()> + Send,
    ) -> Result<(), ServeError> {
        let builder = tonic::transport::Server::builder().tls_config(self.tls)?;
        router_on(builder, api)
            .serve_with_incoming_shutdown(TcpListenerStream::new(self.listener), shutdown)
            .await?;
        Ok(())
    }
}
