//! Datastores: where objects come from. Each one produces [`crate::snapshot::Snapshot`]s.
//! The file datastore reads a directory of YAML manifests and watches it; the Kubernetes
//! datastore watches the API server.

pub mod file;
pub mod kubernetes;
pub mod manifest;
pub mod watch;

pub use file::{DatastoreError, FileDatastore, ScanReport};
pub use kubernetes::{KubeOptions, watch_kubernetes};
pub use manifest::{ManifestError, ParsedManifest, parse_manifest};
pub use watch::{WatchOptions, watch_directory};
