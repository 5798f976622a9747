//! The tern node agent (`ternd`) as a library: object model, datastores, the pure calculation
//! of this node's BGP intent, and the diff that drives the speaker.

pub mod api;
pub mod apply;
pub mod calc;
pub mod cni;
pub mod crds;
pub mod daemon;
pub mod datastore;
pub mod encap;
pub mod model;
pub mod snapshot;
