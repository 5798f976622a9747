//! tern's gRPC API (tonic/prost): the `tern.v1` services, the server around a [`NodeApi`]
//! implementation, and [`speaker_backend`], which answers the BGP parts from a
//! [`bgp::Speaker`].
//!
//! Services (see `proto/tern/v1/*.proto`): `Node` (status, peers, routes, peer reset and
//! refresh, watch), `Resources` (get/apply/delete YAML), `Dataplane` (kernel routes), `Policy`
//! (a pod's policy).

/// Generated code of package `tern.v1`.
pub mod pb {
    #![allow(clippy::all, clippy::pedantic, missing_docs)]
    tonic::include_proto!("tern.v1");
}

pub mod api;
pub mod file_resources;
pub mod manifest;
pub mod metrics;
pub mod route_filter;
pub mod server;
pub mod speaker_backend;
#[cfg(feature = "testing")]
pub mod testing;
pub mod tls;

pub use api::{NodeApi, WatchStream};
pub use server::{DEFAULT_SOCKET, ServeError, UnixServer, router, router_on, serve_unix};
pub use tls::{TcpTlsServer, TlsFiles, TlsPem};
