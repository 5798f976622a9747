//! Routing information: the Loc-RIB with a first-cut decision process, the export rules
//! towards each peer, and the packing of advertisements into UPDATEs. All pure: the
//! speaker's core task owns the tables and feeds them.

pub mod best;
pub mod export;
pub mod loc_rib;
pub mod route;
pub mod update_builder;

pub use export::{ExportCache, ExportContext, Exported, export};
pub use loc_rib::{BestChange, LocRib};
pub use route::{Path, PeerType, Route, RouteSource};
pub use update_builder::{build_updates, end_of_rib};

#[cfg(test)]
mod tests;
