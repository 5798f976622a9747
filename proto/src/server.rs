//! The gRPC server: the four `tern.v1` services around one [`NodeApi`], on a unix socket.
//!
//! [`UnixServer::bind`] creates the socket with mode 0600 (owner only; ternd runs as root):
//! it creates the parent directory, refuses to replace a socket a live server answers on,
//! removes a stale one, and binds under a temporary name that is renamed into place after
//! `chmod`, so the socket is never reachable with looser permissions.

use std::io;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::net::UnixListener;
use tokio_stream::wrappers::UnixListenerStream;
use tonic::transport::server::Router;
use tonic::{Request, Response, Status};

use crate::api::{NodeApi, WatchStream, parse_address};
use crate::pb;

/// Default API socket of `ternd`.
pub const DEFAULT_SOCKET: &str = "/run/tern/ternd.sock";

/// Why the server could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// Another server answers on the socket.
    #[error("{0} is in use: another ternd is running")]
    InUse(PathBuf),
    /// Creating the directory, binding, or setting the mode failed.
    #[error("cannot create the API socket {path}: {source}")]
    Socket {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// The gRPC transport failed.
    #[error("API server failed: {0}")]
    Transport(#[from] tonic::transport::Error),
}

/// A bound, not yet serving, unix-socket API server.
#[derive(Debug)]
pub struct UnixServer {
    path: PathBuf,
    listener: UnixListener,
}

impl UnixServer {
    /// Create the socket at `path` (mode 0600). Must run inside a tokio runtime.
    pub fn bind(path: impl AsRef<Path>) -> Result<UnixServer, ServeError> {
        let path = path.as_ref().to_path_buf();
        let fail = |source| ServeError::Socket {
            path: path.clone(),
            source,
        };
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(fail)?;
        }
        remove_stale(&path)?;
        let temporary = temporary_name(&path);
        let _ = std::fs::remove_file(&temporary);
        let listener = UnixListener::bind(&temporary).map_err(fail)?;
        let placed = std::fs::set_permissions(&temporary, std::fs::Permissions::from_mode(0o600))
            .and_then(|()| std::fs::rename(&temporary, &path));
        if let Err(source) = placed {
            let _ = std::fs::remove_file(&temporary);
            return Err(fail(source));
        }
        Ok(UnixServer { path, listener })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Serve `api` until `shutdown` completes, then remove the socket.
    pub async fn serve<A: NodeApi>(
        self,
        api: Arc<A>,
        shutdown: impl Future<Output = ()> + Send,
    ) -> Result<(), ServeError> {
        let incoming = UnixListenerStream::new(self.listener);
        let result = router(api)
            .serve_with_incoming_shutdown(incoming, shutdown)
            .await;
        let _ = std::fs::remove_file(&self.path);
        Ok(result?)
    }
}

/// Bind `path` and serve `api` on it forever (see [`UnixServer`] for shutdown).
pub async fn serve_unix<A: NodeApi>(path: impl AsRef<Path>, api: Arc<A>) -> Result<(), ServeError> {
    UnixServer::bind(path)?
        .serve(api, std::future::pending())
        .await
}

/// The four services on one router, for other transports.
pub fn router<A: NodeApi>(api: Arc<A>) -> Router {
    router_on(tonic::transport::Server::builder(), api)
}

/// The four services on a configured server builder (e.g. with TLS).
pub fn router_on<A: NodeApi>(mut builder: tonic::transport::Server, api: Arc<A>) -> Router {
    let services = Services(api);
    builder
        .add_service(pb::node_server::NodeServer::new(services.clone()))
        .add_service(pb::resources_server::ResourcesServer::new(services.clone()))
        .add_service(pb::dataplane_server::DataplaneServer::new(services.clone()))
        .add_service(pb::policy_server::PolicyServer::new(services))
}

fn temporary_name(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".{}.tmp", std::process::id()));
    PathBuf::from(name)
}

/// Remove a socket nobody answers on; refuse if someone does; leave other files to `bind`.
fn remove_stale(path: &Path) -> Result<(), ServeError> {
    let Ok(metadata) = std::fs::symlink_metadata(path) else {
        return Ok(());
    };
    if !metadata.file_type().is_socket() {
        return Err(ServeError::Socket {
            path: path.to_path_buf(),
            source: io::Error::new(io::ErrorKind::AlreadyExists, "exists and is not a socket"),
        });
    }
    if std::os::unix::net::UnixStream::connect(path).is_ok() {
        return Err(ServeError::InUse(path.to_path_buf()));
    }
    std::fs::remove_file(path).map_err(|source| ServeError::Socket {
        path: path.to_path_buf(),
        source,
    })
}

/// The generated service traits over one [`NodeApi`].
struct Services<A>(Arc<A>);

impl<A> Clone for Services<A> {
    fn clone(&self) -> Self {
        Services(self.0.clone())
    }
}

#[tonic::async_trait]
impl<A: NodeApi> pb::node_server::Node for Services<A> {
    async fn get_status(
        &self,
        _: Request<pb::GetStatusRequest>,
    ) -> Result<Response<pb::NodeStatus>, Status> {
        Ok(Response::new(self.0.status().await?))
    }

    async fn list_peers(
        &self,
        request: Request<pb::ListPeersRequest>,
    ) -> Result<Response<pb::ListPeersResponse>, Status> {
        let peers = self.0.peers(request.into_inner()).await?;
        Ok(Response::new(pb::ListPeersResponse { peers }))
    }

    async fn list_routes(
        &self,
        request: Request<pb::ListRoutesRequest>,
    ) -> Result<Response<pb::ListRoutesResponse>, Status> {
        let destinations = self.0.routes(request.into_inner()).await?;
        Ok(Response::new(pb::ListRoutesResponse { destinations }))
    }

    async fn reset_peer(
        &self,
        request: Request<pb::ResetPeerRequest>,
    ) -> Result<Response<pb::ResetPeerResponse>, Status> {
        let address = parse_address(&request.get_ref().address)?;
        self.0.reset_peer(address).await?;
        Ok(Response::new(pb::ResetPeerResponse {}))
    }

    async fn refresh_peer(
        &self,
        request: Request<pb::RefreshPeerRequest>,
    ) -> Result<Response<pb::RefreshPeerResponse>, Status> {
        let address = parse_address(&request.get_ref().address)?;
        let direction = request.get_ref().direction();
        self.0.refresh_peer(address, direction).await?;
        Ok(Response::new(pb::RefreshPeerResponse {}))
    }

    type WatchStream = WatchStream;

    async fn watch(
        &self,
        request: Request<pb::WatchRequest>,
    ) -> Result<Response<WatchStream>, Status> {
        Ok(Response::new(self.0.watch(request.into_inner()).await?))
    }
}

#[tonic::async_trait]
impl<A: NodeApi> pb::resources_server::Resources for Services<A> {
    async fn get(
        &self,
        request: Request<pb::GetResourcesRequest>,
    ) -> Result<Response<pb::GetResourcesResponse>, Status> {
        let resources = self.0.get_resources(request.into_inner()).await?;
        Ok(Response::new(pb::GetResourcesResponse { resources }))
    }

    async fn apply(
        &self,
        request: Request<pb::ApplyRequest>,
    ) -> Result<Response<pb::ApplyResponse>, Status> {
        let resources = self.0.apply_resources(request.into_inner()).await?;
        Ok(Response::new(pb::ApplyResponse { resources }))
    }

    async fn delete(
        &self,
        request: Request<pb::DeleteRequest>,
    ) -> Result<Response<pb::DeleteResponse>, Status> {
        let resources = self.0.delete_resources(request.into_inner()).await?;
        Ok(Response::new(pb::DeleteResponse { resources }))
    }
}

#[tonic::async_trait]
impl<A: NodeApi> pb::dataplane_server::Dataplane for Services<A> {
    async fn list_routes(
        &self,
        _: Request<pb::ListDataplaneRoutesRequest>,
    ) -> Result<Response<pb::ListDataplaneRoutesResponse>, Status> {
        let routes = self.0.dataplane_routes().await?;
        Ok(Response::new(pb::ListDataplaneRoutesResponse { routes }))
    }
}

#[tonic::async_trait]
impl<A: NodeApi> pb::policy_server::Policy for Services<A> {
    async fn show_pod(
        &self,
        request: Request<pb::ShowPodRequest>,
    ) -> Result<Response<pb::PodPolicy>, Status> {
        let request = request.into_inner();
        Ok(Response::new(
            self.0.pod_policy(request.pod, request.namespace).await?,
        ))
    }
}
