//! Routing information: the Adj-RIB-In of each peer (as received), the Loc-RIB with the
//! decision process, route reflection, the export rules towards each peer, and the packing of
//! advertisements into UPDATEs. All pure: the speaker's core task owns the tables and feeds
//! them. There is no stored Adj-RIB-Out: what a peer was sent is derived from the previous
//! best path (see [`mod@export`]).

pub mod adj_rib_in;
pub mod decision;
pub mod export;
pub mod intern;
pub mod loc_rib;
pub mod reflection;
pub mod route;
pub mod update_builder;
pub mod update_group;

pub use adj_rib_in::{AdjRibIn, Received};
pub use decision::{DecidingStep, DecisionContext, decide};
pub use export::{ExportCache, ExportContext, Exported, export};
pub use intern::AttributeInterner;
pub use loc_rib::{BestChange, DEFAULT_MAX_PATHS, LocRib};
pub use reflection::{LoopCheck, LoopReason, check_loops};
pub use route::{Path, PeerType, Route, RouteSource};
pub use update_builder::{build_updates, end_of_rib};
pub use update_group::{GroupKey, Member, NetChange, Share, diff, share};

#[cfg(test)]
mod tests;
