//! UPDATEs from a peer into its Adj-RIB-In and the Loc-RIB: RFC 7606 treat-as-withdraw,
//! loop checks (RFC 4271 §9.1.2, RFC 4456 §8), import filters ([`crate::filter`]); and soft
//! reconfiguration when the peer's filters change.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

use ipnetwork::IpNetwork;
use tracing::debug;

use crate::filter::{self, Candidate, Direction, Filter, Verdict};
use crate::packet::{Afi, NextHop, PathAttributes, Safi, Update};
use crate::rib::{
    AdjRibIn, AttributeInterner, BestChange, LocRib, LoopCheck, PeerType, Received, RouteSource,
    check_loops,
};

use super::Core;

/// Attributes changed by an import rule, shared by every prefix the rule changed the same
/// attributes of: keyed by (received attributes, operations) addresses.
type Changed = HashMap<(usize, usize), Arc<PathAttributes>>;

impl Core {
    /// An UPDATE from an established peer. Returns the Loc-RIB changes.
    pub(super) fn import(&mut self, address: IpAddr, update: Update) -> Vec<BestChange> {
        let check = LoopCheck {
            local_asn: self.config.asn,
            router_id: self.config.router_id,
            cluster_id: self.config.cluster_id(),
            allow_as_in: 0,
        };
        let Some(peer) = self.peers.get_mut(&address) else {
            return Vec::new();
        };
        let Some(established) = &peer.established else {
            return Vec::new();
        };
        if peer.halted {
            return Vec::new();
        }
        let source = peer.source(established.negotiated.peer_id);
        let check = LoopCheck {
            allow_as_in: peer.config.allow_as_in,
            ..check
        };
        let looped = check_loops(&update.attributes, &check).err();
        let withdraw_all = update.treat_as_withdraw() || looped.is_some();
        let mut changes = Vec::new();
        let mut withdrawn: Vec<IpNetwork> = update.withdrawn_prefixes().collect();
        if withdraw_all {
            withdrawn.extend(update.announced());
        }
        for prefix in withdrawn {
            changes.extend(peer.adj_rib_in.withdraw(&mut self.rib, &source, prefix));
        }
        if withdraw_all {
            if let Some(reason) = looped {
                debug!(peer = %address, %reason, "UPDATE ignored");
            }
            return changes;
        }
        let mut attributes = update.attributes.clone();
        // The next hop lives in each path; without it, sets from different peers can be
        // shared (equal-cost paths, reflected tables).
        attributes.next_hop = None;
        if peer.peer_type == PeerType::External {
            // RFC 4271 §5.1.5: LOCAL_PREF from an external peer is ignored; so are the route
            // reflection attributes, which never cross an AS border (RFC 4456 §8).
            attributes.local_pref = None;
            attributes.originator_id = None;
            attributes.cluster_list.clear();
        }
        let received = self.interner.intern(attributes);
        let v4_next_hop = update.attributes.next_hop.map(IpAddr::V4);
        let mut announced: Vec<(IpNetwork, Option<IpAddr>)> = update
            .nlri
            .iter()
            .map(|prefix| (IpNetwork::V4(*prefix), v4_next_hop))
            .collect();
        if let Some(reach) = &update.mp_reach
            && reach.safi == Safi::Unicast
            && matches!(reach.afi, Afi::Ipv4 | Afi::Ipv6)
        {
            let next_hop = match reach.next_hop {
                NextHop::Ipv4(v4) => IpAddr::V4(v4),
                NextHop::Ipv6 { global, .. } => IpAddr::V6(global),
            };
            announced.extend(reach.nlri.iter().map(|prefix| (*prefix, Some(next_hop))));
        }
        let mut pass = ImportPass::new(&peer.config.filters, peer.peer_type);
        for (prefix, next_hop) in announced {
            let path = Received {
                next_hop,
                attributes: received.clone(),
                accepted: false,
                stale: false,
            };
            changes.extend(pass.store(
                &mut peer.adj_rib_in,
                &mut self.rib,
                &mut self.interner,
                source,
                prefix,
                path,
            ));
        }
        changes
    }

    /// Run the import filters again over the peer's Adj-RIB-In (soft reconfiguration
    /// inbound) and re-derive its advertisements with the new export filters.
    pub(super) fn change_filters(&mut self, address: IpAddr, filters: Vec<Arc<Filter>>) {
        let Some(peer) = self.peers.get_mut(&address) else {
            return;
        };
        peer.config.filters = filters.clone();
        let mut changes = Vec::new();
        if let Some(established) = &peer.established {
            let source = peer.source(established.negotiated.peer_id);
            let mut pass = ImportPass::new(&filters, peer.peer_type);
            for prefix in peer.adj_rib_in.prefixes(&self.rib, &source) {
                let Some(received) = peer.adj_rib_in.get(&self.rib, &source, &prefix) else {
                    continue;
                };
                changes.extend(pass.store(
                    &mut peer.adj_rib_in,
                    &mut self.rib,
                    &mut self.interner,
                    source,
                    prefix,
                    received,
                ));
            }
        }
        self.reexport(address, filters);
        self.propagate(changes);
    }
}

/// The import filters' decision on one received route: `None` when rejected, else the
/// attributes for the Loc-RIB (the received ones themselves when unchanged).
/// One run of a peer's import filters over received paths: each path is judged and stored,
/// with the verdict, in the peer's Adj-RIB-In; attribute sets a rule changed the same way are
/// shared across prefixes.
struct ImportPass<'a> {
    filters: &'a [Arc<Filter>],
    peer_type: PeerType,
    changed: Changed,
}

impl<'a> ImportPass<'a> {
    fn new(filters: &'a [Arc<Filter>], peer_type: PeerType) -> Self {
        ImportPass {
            filters,
            peer_type,
            changed: Changed::new(),
        }
    }

    /// Judge `received` for `prefix` and store it; the Loc-RIB change, if any.
    fn store(
        &mut self,
        adj_rib_in: &mut AdjRibIn,
        rib: &mut LocRib,
        interner: &mut AttributeInterner,
        source: RouteSource,
        prefix: IpNetwork,
        received: Received,
    ) -> Option<BestChange> {
        let accepted = filter_import(
            self.filters,
            self.peer_type,
            prefix,
            &received,
            &mut self.changed,
            interner,
        );
        adj_rib_in.store(rib, source, prefix, received, accepted)
    }
}

fn filter_import(
    filters: &[Arc<Filter>],
    peer_type: PeerType,
    prefix: IpNetwork,
    received: &Received,
    changed: &mut Changed,
    interner: &mut AttributeInterner,
) -> Option<Arc<PathAttributes>> {
    let verdict = if filters.is_empty() {
        Verdict::Accept(&[])
    } else {
        filter::evaluate(
            filters,
            Direction::Import,
            &Candidate {
                prefix,
                attributes: &received.attributes,
                peer_type,
                learned: true,
            },
        )
    };
    let key = verdict.operations_key();
    match verdict {
        Verdict::Reject => None,
        Verdict::Accept([]) => Some(received.attributes.clone()),
        Verdict::Accept(operations) => Some(
            changed
                .entry((Arc::as_ptr(&received.attributes) as usize, key))
                .or_insert_with(|| interner.intern(filter::apply(operations, &received.attributes)))
                .clone(),
        ),
    }
}
