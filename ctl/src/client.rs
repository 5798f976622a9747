//! Connecting to ternd — its unix socket by default, or its TCP API with mutual TLS — and
//! turning failures into sentences a person can act on.

use std::io;
use std::path::{Path, PathBuf};

use hyper_util::rt::TokioIo;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity, Uri};
use tonic::{Code, Status};

/// How to reach ternd.
#[derive(Debug, Clone)]
pub struct Connection {
    pub socket: PathBuf,
    /// `https://HOST:PORT`: use the TCP API instead of the socket.
    pub server: Option<String>,
    /// CA of the server certificate (PEM).
    pub ca: Option<PathBuf>,
    /// Our client certificate and key (PEM).
    pub certificate: Option<PathBuf>,
    pub key: Option<PathBuf>,
}

/// Where ternd was looked for, for error messages.
#[derive(Debug, Clone)]
pub struct Target {
    location: String,
    tcp: bool,
}

impl Target {
    pub fn unix(socket: &Path) -> Target {
        Target {
            location: socket.display().to_string(),
            tcp: false,
        }
    }

    /// The sentence for a failed connection attempt.
    pub fn connect_error(&self, error: &io::Error) -> anyhow::Error {
        let location = &self.location;
        let hint = if self.tcp {
            "set --server or TERN_API_SERVER"
        } else {
            "set --socket or TERN_API_SOCKET"
        };
        match error.kind() {
            io::ErrorKind::NotFound => anyhow::anyhow!(
                "cannot reach ternd at {location}: is ternd running? (no socket there; {hint})"
            ),
            io::ErrorKind::ConnectionRefused => anyhow::anyhow!(
                "cannot reach ternd at {location}: is ternd running? (nobody answers there; {hint})"
            ),
            io::ErrorKind::PermissionDenied => anyhow::anyhow!(
                "permission denied on {location}: run as root (the API socket is owner-only, mode 0600)"
            ),
            _ => anyhow::anyhow!("cannot reach ternd at {location}: {error}"),
        }
    }

    /// The sentence for a failed call.
    pub fn call_error(&self, what: &str, status: Status) -> anyhow::Error {
        match status.code() {
            Code::Unavailable if !self.tcp => {
                let io_error = io::Error::from(io::ErrorKind::ConnectionRefused);
                self.connect_error(&io_error)
                    .context(format!("{what}: {}", status.message()))
            }
            Code::Unimplemented => {
                anyhow::anyhow!(
                    "{what}: this ternd does not support it: {}",
                    status.message()
                )
            }
            Code::Unavailable | Code::Cancelled | Code::Unknown if self.tcp => anyhow::anyhow!(
                "{what}: {}{}; ternd may have refused the TLS session: check that --cert is signed by the CA it trusts",
                status.message(),
                causes(&status)
            ),
            Code::NotFound | Code::InvalidArgument | Code::FailedPrecondition => {
                anyhow::anyhow!("{what}: {}", status.message())
            }
            _ => anyhow::anyhow!(
                "{what}: {} ({:?}{})",
                status.message(),
                status.code(),
                causes(&status)
            ),
        }
    }
}

/// ": cause: deeper cause" for an error's sources (tonic's own messages are terse).
fn causes(error: &dyn std::error::Error) -> String {
    let mut text = String::new();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// A gRPC channel to ternd.
pub async fn connect(connection: &Connection) -> anyhow::Result<(Channel, Target)> {
    match &connection.server {
        Some(server) => connect_tls(server, connection).await,
        None => connect_unix(&connection.socket).await,
    }
}

/// Over the unix socket. Connects once first so that a missing daemon or a permission problem
/// is reported clearly instead of as a transport error.
async fn connect_unix(socket: &Path) -> anyhow::Result<(Channel, Target)> {
    let target = Target::unix(socket);
    if let Err(error) = tokio::net::UnixStream::connect(socket).await {
        return Err(target.connect_error(&error));
    }
    let path = socket.to_path_buf();
    // The URI is required by tonic but unused: every connection goes to the socket.
    let channel = Endpoint::from_static("http://ternd.invalid")
        .connect_with_connector(tower::service_fn(move |_: Uri| {
            let path = path.clone();
            async move {
                let stream = tokio::net::UnixStream::connect(path).await?;
                Ok::<_, io::Error>(TokioIo::new(stream))
            }
        }))
        .await
        .map_err(|error| {
            anyhow::anyhow!(
                "cannot talk to ternd at {}: {error}{}",
                socket.display(),
                causes(&error)
            )
        })?;
    Ok((channel, target))
}

/// Over TCP with mutual TLS: --ca, --cert and --key are required.
async fn connect_tls(server: &str, connection: &Connection) -> anyhow::Result<(Channel, Target)> {
    let target = Target {
        location: server.to_string(),
        tcp: true,
    };
    let read = |file: &Option<PathBuf>, flag: &str| -> anyhow::Result<Vec<u8>> {
        let file = file
            .as_ref()
            .ok_or_else(|| anyhow::anyhow!("--server needs {flag} (mutual TLS)"))?;
        std::fs::read(file)
            .map_err(|error| anyhow::anyhow!("cannot read {}: {error}", file.display()))
    };
    let ca = read(&connection.ca, "--ca")?;
    let certificate = read(&connection.certificate, "--cert")?;
    let key = read(&connection.key, "--key")?;
    let tls = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(ca))
        .identity(Identity::from_pem(certificate, key));
    let endpoint = Endpoint::from_shared(server.to_string())
        .map_err(|_| anyhow::anyhow!("--server {server:?} is not a URL like https://HOST:PORT"))?
        .tls_config(tls)
        .map_err(|error| anyhow::anyhow!("invalid TLS settings: {error}{}", causes(&error)))?;
    let channel = endpoint.connect().await.map_err(|error| {
        if let Some(io_error) = find_io_error(&error)
            && io_error.kind() == io::ErrorKind::ConnectionRefused
        {
            return target.connect_error(io_error);
        }
        anyhow::anyhow!("cannot connect to ternd at {server}{}", causes(&error))
    })?;
    Ok((channel, target))
}

fn find_io_error<'a>(error: &'a (dyn std::error::Error + 'static)) -> Option<&'a io::Error> {
    let mut current = Some(error);
    while let Some(error) = current {
        if let Some(io_error) = error.downcast_ref::<io::Error>() {
            return Some(io_error);
        }
        current = error.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target() -> Target {
        Target::unix(Path::new("/run/tern/ternd.sock"))
    }

    #[test]
    fn missing_socket_says_where_it_looked_and_how_to_change_it() {
        let message = target()
            .connect_error(&io::Error::from(io::ErrorKind::NotFound))
            .to_string();
        assert!(
            message.starts_with("cannot reach ternd at /run/tern/ternd.sock: is ternd running?")
        );
        assert!(message.contains("TERN_API_SOCKET"));
    }

    #[test]
    fn permission_denied_says_run_as_root() {
        let message = target()
            .connect_error(&io::Error::from(io::ErrorKind::PermissionDenied))
            .to_string();
        assert!(message.starts_with("permission denied on /run/tern/ternd.sock: run as root"));
    }
}
