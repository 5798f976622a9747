//! The pure reconciliation step: desired routes against the main table as dumped, giving the
//! operations that make the table match. No sockets.
//!
//! - A desired route missing from tern's routes, or different, is replaced
//!   (`ip route replace … proto tern`). A route of another protocol at the same destination
//!   and metric is overwritten — except a `proto kernel` route (a connected subnet), which
//!   tern never takes over: that destination is reported as a conflict instead.
//! - A tern route no longer desired is deleted — only when pruning (not during the
//!   graceful-restart window, when routes from before the restart are kept).
//! - Routes of any other protocol at other destinations are never looked at.

use std::collections::HashMap;

use ipnetwork::IpNetwork;

use super::route::{DesiredRoute, KernelRoute, matches};

/// `RTPROT_KERNEL`: routes the kernel made itself (connected subnets).
pub const RTPROT_KERNEL: u8 = 2;

/// The main table as far as reconciliation cares.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ActualTable {
    /// tern's routes, by destination.
    pub tern: HashMap<IpNetwork, KernelRoute>,
    /// Other protocols' routes at the metric tern's routes get (0 for IPv4, 1024 for IPv6):
    /// destination → protocol.
    pub foreign: HashMap<IpNetwork, u8>,
}

/// One change to the main table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RouteOp {
    /// `ip route replace ROUTE proto tern`.
    Replace(DesiredRoute),
    /// `ip route del DESTINATION proto tern`.
    Delete(IpNetwork),
}

impl RouteOp {
    /// The destination the operation is about.
    pub fn destination(&self) -> IpNetwork {
        match self {
            RouteOp::Replace(route) => route.destination,
            RouteOp::Delete(destination) => *destination,
        }
    }
}

/// What to do, and what cannot be done.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// Operations, replacements first (sorted by destination within each kind, so batches
    /// are deterministic).
    pub operations: Vec<RouteOp>,
    /// Desired destinations held by a `proto kernel` route.
    pub conflicts: Vec<IpNetwork>,
    /// tern routes not desired but kept (graceful-restart window).
    pub kept: usize,
}

/// The operations that turn `actual` into `desired`; with `prune` false, tern routes that
/// are not desired stay.
pub fn plan(desired: &HashMap<IpNetwork, DesiredRoute>, actual: &ActualTable, prune: bool) -> Plan {
    let mut plan = Plan::default();
    let mut replace: Vec<&DesiredRoute> = Vec::new();
    for route in desired.values() {
        match actual.tern.get(&route.destination) {
            Some(found) if matches(route, &found.route) => {}
            Some(_) => replace.push(route),
            None => match actual.foreign.get(&route.destination) {
                Some(&RTPROT_KERNEL) => plan.conflicts.push(route.destination),
                _ => replace.push(route),
            },
        }
    }
    replace.sort_unstable_by_key(|route| route.destination);
    plan.operations
        .extend(replace.into_iter().cloned().map(RouteOp::Replace));
    let mut delete: Vec<IpNetwork> = actual
        .tern
        .keys()
        .filter(|destination| !desired.contains_key(destination))
        .copied()
        .collect();
    if prune {
        delete.sort_unstable();
        plan.operations
            .extend(delete.into_iter().map(RouteOp::Delete));
    } else {
        plan.kept = delete.len();
    }
    plan.conflicts.sort_unstable();
    plan
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataplane::RTPROT_TERN;
    use crate::dataplane::route::{Device, NextHop};

    fn net(text: &str) -> IpNetwork {
        text.parse().unwrap()
    }

    fn route(destination: &str, gateway: &str) -> DesiredRoute {
        DesiredRoute::unicast(
            net(destination),
            vec![NextHop::via(gateway.parse().unwrap())],
        )
        .unwrap()
    }

    fn desired(routes: &[DesiredRoute]) -> HashMap<IpNetwork, DesiredRoute> {
        routes.iter().map(|r| (r.destination, r.clone())).collect()
    }

    fn tern(routes: &[DesiredRoute]) -> ActualTable {
        ActualTable {
            tern: routes
                .iter()
                .map(|r| {
                    (
                        r.destination,
                        KernelRoute {
                            route: r.clone(),
                            protocol: RTPROT_TERN,
                            metric: 0,
                        },
                    )
                })
                .collect(),
            foreign: HashMap::new(),
        }
    }

    #[test]
    fn nothing_to_do_when_the_table_matches() {
        let routes = [route("198.19.2.0/24", "198.18.0.12")];
        let plan = plan(&desired(&routes), &tern(&routes), true);
        assert_eq!(plan, Plan::default());
    }

    #[test]
    fn missing_routes_are_added_and_stale_ones_deleted() {
        let want = [
            route("198.19.2.0/24", "198.18.0.12"),
            DesiredRoute::blackhole(net("198.19.1.0/24")),
        ];
        let have = [route("198.19.9.0/24", "198.18.0.19")];
        let plan = plan(&desired(&want), &tern(&have), true);
        assert_eq!(
            plan.operations,
            [
                RouteOp::Replace(want[1].clone()),
                RouteOp::Replace(want[0].clone()),
                RouteOp::Delete(net("198.19.9.0/24")),
            ]
        );
    }

    #[test]
    fn an_altered_route_is_replaced() {
        let want = [route("198.19.2.0/24", "198.18.0.12")];
        let have = [route("198.19.2.0/24", "198.18.0.99")];
        let plan = plan(&desired(&want), &tern(&have), true);
        assert_eq!(plan.operations, [RouteOp::Replace(want[0].clone())]);
    }

    #[test]
    fn kernel_filled_device_is_not_drift() {
        let want = [route("198.19.2.0/24", "198.18.0.12")];
        let mut found = want[0].clone();
        if let crate::dataplane::route::RouteKind::Unicast(hops) = &mut found.kind {
            hops[0].device = Some(Device::Index(2));
        }
        let plan = plan(&desired(&want), &tern(&[found]), true);
        assert!(plan.operations.is_empty(), "{plan:?}");
    }

    #[test]
    fn without_pruning_undesired_routes_are_kept() {
        let have = [route("198.19.9.0/24", "198.18.0.19")];
        let want = [route("198.19.2.0/24", "198.18.0.12")];
        let plan = plan(&desired(&want), &tern(&have), false);
        assert_eq!(plan.operations, [RouteOp::Replace(want[0].clone())]);
        assert_eq!(plan.kept, 1);
    }

    #[test]
    fn other_protocols_are_overwritten_only_at_desired_destinations_and_never_connected() {
        let want = [
            route("198.19.2.0/24", "198.18.0.12"),
            route("198.18.0.0/24", "198.18.0.12"),
        ];
        let mut actual = tern(&[]);
        actual.foreign.insert(net("198.19.2.0/24"), 3); // boot: typed by hand
        actual.foreign.insert(net("198.18.0.0/24"), RTPROT_KERNEL);
        actual.foreign.insert(net("198.19.99.0/24"), 4); // static, not ours
        let plan = plan(&desired(&want), &actual, true);
        assert_eq!(plan.operations, [RouteOp::Replace(want[0].clone())]);
        assert_eq!(plan.conflicts, [net("198.18.0.0/24")]);
    }
}
