//! Connecting to ternd's unix socket, and turning failures into sentences a person can act on.

use std::io;
use std::path::{Path, PathBuf};

use hyper_util::rt::TokioIo;
use tonic::transport::{Channel, Endpoint, Uri};
use tonic::{Code, Status};

/// Where the socket was looked for, for error messages.
#[derive(Debug, Clone)]
pub struct Target {
    pub socket: PathBuf,
}

impl Target {
    /// The sentence for a failed connection attempt.
    pub fn connect_error(&self, error: &io::Error) -> anyhow::Error {
        let socket = self.socket.display();
        match error.kind() {
            io::ErrorKind::NotFound => anyhow::anyhow!(
                "cannot reach ternd at {socket}: is ternd running? (no socket there; set --socket or TERN_API_SOCKET)"
            ),
            io::ErrorKind::ConnectionRefused => anyhow::anyhow!(
                "cannot reach ternd at {socket}: is ternd running? (the socket exists but nobody answers; set --socket or TERN_API_SOCKET)"
            ),
            io::ErrorKind::PermissionDenied => anyhow::anyhow!(
                "permission denied on {socket}: run as root (the API socket is owner-only, mode 0600)"
            ),
            _ => anyhow::anyhow!("cannot reach ternd at {socket}: {error}"),
        }
    }

    /// The sentence for a failed call.
    pub fn call_error(&self, what: &str, status: Status) -> anyhow::Error {
        match status.code() {
            Code::Unavailable => {
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
            Code::NotFound | Code::InvalidArgument | Code::FailedPrecondition => {
                anyhow::anyhow!("{what}: {}", status.message())
            }
            code => anyhow::anyhow!("{what}: {} ({code:?})", status.message()),
        }
    }
}

/// A gRPC channel over the unix socket at `socket`. Connects once first so that a missing
/// daemon or a permission problem is reported clearly instead of as a transport error.
pub async fn connect(socket: &Path) -> anyhow::Result<(Channel, Target)> {
    let target = Target {
        socket: socket.to_path_buf(),
    };
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
            anyhow::anyhow!("cannot talk to ternd at {}: {error}", socket.display())
        })?;
    Ok((channel, target))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target() -> Target {
        Target {
            socket: "/run/tern/ternd.sock".into(),
        }
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
