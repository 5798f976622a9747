//! Per-peer views for operators: what a peer sent us (Adj-RIB-In, RFC 4271 §3.2) and what we
//! send it (Adj-RIB-Out).

use std::net::IpAddr;
use std::sync::Arc;

use ipnetwork::IpNetwork;

use crate::packet::PathAttributes;
use crate::rib::RouteSource;

/// One route as a peer announced it ([`crate::Speaker::adj_rib_in`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedRoute {
    pub prefix: IpNetwork,
    /// The next hop as received.
    pub next_hop: Option<IpAddr>,
    /// The attributes as received (after loop checks, before import filters).
    pub attributes: Arc<PathAttributes>,
    /// The import filters accepted it (a path of it is in the Loc-RIB).
    pub accepted: bool,
    /// Kept across the peer's restart and not announced again yet (RFC 4724 §4.2).
    pub stale: bool,
}

/// One route as we advertise it to a peer ([`crate::Speaker::adj_rib_out`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdvertisedRoute {
    pub prefix: IpNetwork,
    /// The NEXT_HOP the peer gets.
    pub next_hop: IpAddr,
    /// The attributes the peer gets (after export rules and filters; NEXT_HOP aside).
    pub attributes: Arc<PathAttributes>,
    /// Where the best path it was exported from came from.
    pub source: RouteSource,
}
