//! The tern node agent (`ternd`) as a library: object model, datastores, the pure calculation
//! of this node's BGP intent, the diff that drives the speaker, and the route programmer
//! that keeps the kernel's routes true to what BGP selected.

pub mod api;
pub mod apply;
pub mod calc;
pub mod cni;
pub mod crds;
pub mod daemon;
pub mod dataplane;
pub mod datastore;
pub mod encap;
pub mod model;
pub mod network_policy;
pub mod snapshot;
