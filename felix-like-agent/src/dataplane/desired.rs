//! Desired state, as a pure function of its inputs: the speaker's selected routes (best path
//! plus equal-cost multipath, RFC 4271 §9.1.2) and this node's intent.
//!
//! - A prefix learned from peers becomes a unicast route through every selected BGP next hop,
//!   each turned into kernel next hops by a [`RouteVia`] (plain `via` by default; the
//!   encapsulation plugs in `dev tunl0 onlink` and the like).
//! - Each local pod CIDR becomes a blackhole; the CNI's per-pod /32s are more specific and win.
//! - A prefix this node originates is never installed as unicast (it is ours), and next hops
//!   that are this node's own addresses are dropped (a reflected copy of our own route).

use std::collections::{BTreeSet, HashMap};
use std::net::IpAddr;

use bgp::RouteChange;
use bgp::rib::{Route, RouteSource};
use ipnetwork::IpNetwork;

use super::route::{DesiredRoute, NextHop};
use crate::calc::{AdvertisementOrigin, NodeIntent};

/// How a BGP next hop becomes kernel next hops. The encapsulation decides per destination
/// (IPIP `Always` → `via NODE dev tunl0 onlink`; `Never` → `via NODE`). Implemented for
/// closures `Fn(IpNetwork, IpAddr) -> Vec<NextHop>`.
pub trait RouteVia: Send + Sync {
    /// The kernel next hops for `destination` learned with `bgp_next_hop` (empty: skip it).
    fn route_via(&self, destination: IpNetwork, bgp_next_hop: IpAddr) -> Vec<NextHop>;
}

/// The default: `via BGP_NEXT_HOP`, the kernel picks the device.
#[derive(Clone, Copy, Debug, Default)]
pub struct PlainNextHop;

impl RouteVia for PlainNextHop {
    fn route_via(&self, _destination: IpNetwork, bgp_next_hop: IpAddr) -> Vec<NextHop> {
        vec![NextHop::via(bgp_next_hop)]
    }
}

impl<F> RouteVia for F
where
    F: Fn(IpNetwork, IpAddr) -> Vec<NextHop> + Send + Sync,
{
    fn route_via(&self, destination: IpNetwork, bgp_next_hop: IpAddr) -> Vec<NextHop> {
        self(destination, bgp_next_hop)
    }
}

/// What the node's intent contributes: prefixes it originates, its pod CIDRs and its own
/// addresses.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LocalRoutes {
    /// Every prefix this node originates (never installed as unicast).
    pub originated: BTreeSet<IpNetwork>,
    /// This node's pod CIDRs (installed as blackholes).
    pub pod_cidrs: BTreeSet<IpNetwork>,
    /// This node's BGP addresses (never a next hop of ours).
    pub own_addresses: BTreeSet<IpAddr>,
}

impl LocalRoutes {
    /// From the calc intent.
    pub fn from_intent(intent: &NodeIntent) -> Self {
        let mut local = LocalRoutes::default();
        for advertisement in &intent.advertisements {
            local.originated.insert(advertisement.prefix);
            if advertisement
                .origins
                .contains(&AdvertisementOrigin::PodCidr)
            {
                local.pod_cidrs.insert(advertisement.prefix);
            }
        }
        local
            .own_addresses
            .extend(intent.ipv4_address.map(IpAddr::V4));
        local
            .own_addresses
            .extend(intent.ipv6_address.map(IpAddr::V6));
        local.own_addresses.insert(IpAddr::V4(intent.router_id));
        local
    }
}

/// The BGP next hops of the selected paths of one prefix learned from peers; empty when the
/// prefix is gone or its best path is our own.
pub fn learned_next_hops<'a>(selected: impl IntoIterator<Item = &'a Route>) -> Vec<IpAddr> {
    let mut hops = Vec::new();
    for route in selected {
        if matches!(route.path.source, RouteSource::Local) {
            return Vec::new();
        }
        if let Some(hop) = route.path.next_hop
            && !hops.contains(&hop)
        {
            hops.push(hop);
        }
    }
    hops
}

/// [`learned_next_hops`] of a published change.
pub fn change_next_hops(change: &RouteChange) -> Vec<IpAddr> {
    learned_next_hops(change.best.iter().chain(&change.multipath))
}

/// Learned next hops of every prefix in a Loc-RIB dump (best and multipath paths).
pub fn loc_rib_next_hops(routes: &[Route]) -> HashMap<IpNetwork, Vec<IpAddr>> {
    let mut selected: HashMap<IpNetwork, Vec<&Route>> = HashMap::new();
    for route in routes.iter().filter(|r| r.best || r.multipath) {
        // Only the best path and the paths selected with it (multipath is set on the
        // others of a prefix only when it has several).
        selected.entry(route.prefix).or_default().push(route);
    }
    selected
        .into_iter()
        .filter_map(|(prefix, mut routes)| {
            routes.sort_by_key(|r| !r.best);
            let hops = learned_next_hops(routes);
            (!hops.is_empty()).then_some((prefix, hops))
        })
        .collect()
}

/// The inputs of desired state, kept up to date incrementally.
#[derive(Clone, Debug, Default)]
pub struct DesiredInputs {
    learned: HashMap<IpNetwork, Vec<IpAddr>>,
    local: LocalRoutes,
}

impl DesiredInputs {
    /// Sets the learned next hops of `prefix` (empty: no longer learned).
    pub fn set_learned(&mut self, prefix: IpNetwork, hops: Vec<IpAddr>) {
        if hops.is_empty() {
            self.learned.remove(&prefix);
        } else {
            self.learned.insert(prefix, hops);
        }
    }

    /// Replaces every learned prefix (after a Loc-RIB dump).
    pub fn replace_learned(&mut self, learned: HashMap<IpNetwork, Vec<IpAddr>>) {
        self.learned = learned;
    }

    /// Replaces the intent part.
    pub fn set_local(&mut self, local: LocalRoutes) {
        self.local = local;
    }

    /// The intent part.
    pub fn local(&self) -> &LocalRoutes {
        &self.local
    }

    /// How many prefixes are learned.
    pub fn learned_len(&self) -> usize {
        self.learned.len()
    }

    /// The route wanted for `prefix`, if any.
    pub fn route_for(&self, prefix: IpNetwork, via: &dyn RouteVia) -> Option<DesiredRoute> {
        if self.local.pod_cidrs.contains(&prefix) {
            return Some(DesiredRoute::blackhole(prefix));
        }
        if self.local.originated.contains(&prefix) {
            return None;
        }
        let hops = self.learned.get(&prefix)?;
        let next_hops = hops
            .iter()
            .filter(|hop| !self.local.own_addresses.contains(hop))
            .flat_map(|hop| via.route_via(prefix, *hop))
            .filter(|next_hop| next_hop.gateway.is_ipv4() == prefix.is_ipv4())
            .collect();
        DesiredRoute::unicast(prefix, next_hops)
    }

    /// Every wanted route.
    pub fn all(&self, via: &dyn RouteVia) -> HashMap<IpNetwork, DesiredRoute> {
        self.learned
            .keys()
            .chain(&self.local.pod_cidrs)
            .filter_map(|prefix| Some((*prefix, self.route_for(*prefix, via)?)))
            .collect()
    }
}

/// Applies the node intent to a [`crate::apply::IntentApplier`] and then publishes its
/// [`LocalRoutes`] to the route programmer.
#[derive(Debug)]
pub struct WithLocalRoutes<A> {
    /// The applier that drives BGP.
    pub inner: A,
    /// Where the programmer reads the intent part of desired state.
    pub local: tokio::sync::watch::Sender<LocalRoutes>,
}

impl<A: crate::apply::IntentApplier + Send> crate::apply::IntentApplier for WithLocalRoutes<A> {
    type Error = A::Error;

    async fn apply(
        &mut self,
        intent: &NodeIntent,
        diff: &crate::apply::IntentDiff,
    ) -> Result<(), Self::Error> {
        self.inner.apply(intent, diff).await?;
        let local = LocalRoutes::from_intent(intent);
        self.local.send_if_modified(|current| {
            let changed = *current != local;
            *current = local;
            changed
        });
        Ok(())
    }
}

#[cfg(test)]
#[path = "desired_tests.rs"]
mod tests;
