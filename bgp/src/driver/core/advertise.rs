//! What peers and subscribers are told: the initial table and End-of-RIB when a session comes
//! up (in chunks of [`TABLE_CHUNK`] prefixes, each sent when the previous one is written),
//! best-path changes as they happen, the table again on ROUTE-REFRESH or when export filters
//! change.
//!
//! There is no stored Adj-RIB-Out. Export ([`crate::rib::export`]) is a function of the
//! session and the path, so what a peer was sent for a prefix is the export of the previous
//! best path; a change is advertised when the export of the new best path differs. Per peer
//! the core keeps only a count.

use foldhash::{HashMap, HashMapExt};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use ipnetwork::IpNetwork;

use crate::driver::peer::PeerCommand;
use crate::filter::Filter;
use crate::fsm::Negotiated;
use crate::packet::{Afi, RouteRefresh, Safi};
use crate::rib::{
    BestChange, ExportCache, ExportContext, Exported, GroupKey, NetChange, Path, Route,
    build_updates, diff, end_of_rib,
};
use crate::speaker::RouteChange;

use super::{Core, Established, Peer, TableState};

/// Prefixes per chunk of an initial table transfer.
pub const TABLE_CHUNK: usize = 2048;

impl Core {
    /// The session came up: remember how to export to it, then (unless our own restart
    /// defers it) send the whole table and End-of-RIB (RFC 4724 §2).
    pub(super) fn session_up(
        &mut self,
        address: IpAddr,
        epoch: u64,
        negotiated: Negotiated,
        local: SocketAddr,
        remote: SocketAddr,
    ) {
        let Some(peer) = self.peers.get_mut(&address) else {
            return;
        };
        let local_ip = super::canonical(local.ip());
        let next_hop_v4 = match local_ip {
            IpAddr::V4(v4) => Some(v4),
            IpAddr::V6(_) => self.config.ipv4_next_hop,
        };
        let next_hop_v6 = match local_ip {
            IpAddr::V6(v6) => Some(v6),
            IpAddr::V4(_) => self.config.ipv6_next_hop,
        };
        let codec = negotiated.codec_context();
        let export = ExportContext {
            local_asn: self.config.asn,
            router_id: self.config.router_id,
            cluster_id: self.config.cluster_id(),
            peer_asn: peer.config.asn,
            peer_address: address,
            peer_router_id: Some(negotiated.peer_id),
            peer_type: peer.peer_type,
            route_reflector_client: peer.config.route_reflector_client,
            next_hop_v4,
            next_hop_v6,
            families: negotiated.families.clone(),
            keep_original_next_hop: peer.config.keep_original_next_hop,
            next_hop_self: peer.config.next_hop_self,
            filters: peer.config.filters.clone(),
        };
        let group = GroupKey::of(&export, codec);
        let group = self.group_of(group);
        let Some(peer) = self.peers.get_mut(&address) else {
            return;
        };
        peer.established = Some(Established {
            group,
            epoch,
            negotiated,
            local,
            remote,
            export,
            end_of_rib: Default::default(),
            table: TableState::NotSent,
        });
        self.peer_came_back(address);
        if self.deferral.is_none()
            && let Some(peer) = self.peers.get_mut(&address)
        {
            send_table(&self.rib, peer);
        }
    }

    /// Publish selection changes and advertise best-path changes to every established peer,
    /// after the changes still pending from the current batch of UPDATEs. Nothing leaves
    /// while our own restart defers selection.
    pub(super) fn propagate(&mut self, changes: Vec<BestChange>) {
        let changes = if self.pending.is_empty() {
            changes
        } else {
            let mut all = std::mem::take(&mut self.pending);
            all.extend(changes);
            all
        };
        if changes.is_empty() || self.deferral.is_some() {
            return;
        }
        let subscribed = self.routes.receiver_count() > 0;
        for change in changes.iter().filter(|_| subscribed) {
            let route = |path: &Path, best: bool| Route {
                prefix: change.prefix,
                path: path.clone(),
                best,
                multipath: !change.multipath.is_empty(),
                decided_by: if best { change.step } else { None },
            };
            // A subscriber that went away meanwhile is fine.
            self.routes.send(RouteChange {
                prefix: change.prefix,
                best: change.best.as_ref().map(|path| route(path, true)),
                multipath: change
                    .multipath
                    .iter()
                    .map(|path| route(path, false))
                    .collect(),
            });
        }
        // Several changes to one prefix: what was advertised before the first, what is best
        // after the last.
        let mut index: HashMap<IpNetwork, usize> = HashMap::with_capacity(changes.len());
        let mut net: Vec<NetChange<'_>> = Vec::with_capacity(changes.len());
        for change in &changes {
            match index.get(&change.prefix) {
                Some(&i) => net[i].2 = change.best.as_ref(),
                None => {
                    index.insert(change.prefix, net.len());
                    net.push((
                        change.prefix,
                        change.previous.as_ref(),
                        change.best.as_ref(),
                    ));
                }
            }
        }
        self.advertise_net(&net);
    }

    /// ROUTE-REFRESH (RFC 2918): send what we advertise in that family again.
    pub(super) fn refresh(&mut self, address: IpAddr, refresh: RouteRefresh) {
        let Some(peer) = self.peers.get_mut(&address) else {
            return;
        };
        let Some(established) = &peer.established else {
            return;
        };
        let mut cache = ExportCache::new(&established.export);
        let announce: Vec<(IpNetwork, Exported)> = self
            .rib
            .best_paths()
            .filter(|(prefix, _)| established.table.covers(prefix))
            .filter(|(prefix, _)| match refresh.afi {
                Afi::Ipv4 => prefix.is_ipv4(),
                Afi::Ipv6 => prefix.is_ipv6(),
                Afi::Other(_) => false,
            })
            .filter_map(|(prefix, path)| cache.export(&prefix, &path).map(|e| (prefix, e)))
            .collect();
        send(peer, announce, Vec::new());
    }

    /// The peer's export filters changed: advertise the difference between the old and the
    /// new export of every best path.
    pub(super) fn reexport(&mut self, address: IpAddr, filters: Vec<Arc<Filter>>) {
        let Some(peer) = self.peers.get_mut(&address) else {
            return;
        };
        let Some(established) = &mut peer.established else {
            return;
        };
        let old = established.export.clone();
        established.export.filters = filters;
        let key = GroupKey::of(&established.export, established.negotiated.codec_context());
        let group = self.group_of(key);
        let Some(peer) = self.peers.get_mut(&address) else {
            return;
        };
        let Some(established) = &mut peer.established else {
            return;
        };
        established.group = group;
        let mut before_cache = ExportCache::new(&old);
        let mut after_cache = ExportCache::new(&established.export);
        let mut announce = Vec::new();
        let mut withdraw = Vec::new();
        for (prefix, path) in self.rib.best_paths() {
            if !established.table.covers(&prefix) {
                break;
            }
            let before = before_cache.export(&prefix, &path);
            let after = after_cache.export(&prefix, &path);
            let delta = diff(&prefix, before, after, &mut announce, &mut withdraw);
            peer.advertised = peer.advertised.saturating_add_signed(delta);
        }
        send(peer, announce, withdraw);
    }

    /// Our restart is over: publish the whole Loc-RIB and send every established peer its
    /// table and End-of-RIB.
    pub(super) fn advertise_everything(&mut self) {
        for (prefix, selected, step) in self.rib.selections() {
            let route = |path: &Path, best: bool| Route {
                prefix,
                path: path.clone(),
                best,
                multipath: selected.len() > 1,
                decided_by: if best { step } else { None },
            };
            self.routes.send(RouteChange {
                prefix,
                best: selected.first().map(|path| route(path, true)),
                multipath: selected.iter().skip(1).map(|p| route(p, false)).collect(),
            });
        }
        for peer in self.peers.values_mut() {
            send_table(&self.rib, peer);
        }
    }

    /// The previous chunk of the peer's initial table is written: send the next.
    pub(super) fn continue_table(&mut self, address: IpAddr, epoch: u64) {
        if let Some(peer) = self.peers.get_mut(&address)
            && peer.established.as_ref().is_some_and(|e| e.epoch == epoch)
        {
            send_chunk(&self.rib, peer);
        }
    }
}

/// Start sending the peer its whole table (once per session).
fn send_table(rib: &crate::rib::LocRib, peer: &mut Peer) {
    let Some(established) = &mut peer.established else {
        return;
    };
    if established.table != TableState::NotSent {
        return;
    }
    established.table = TableState::Walking { after: None };
    peer.advertised = 0;
    send_chunk(rib, peer);
}

/// Send the next [`TABLE_CHUNK`] prefixes of the table walk; after the last, End-of-RIB.
fn send_chunk(rib: &crate::rib::LocRib, peer: &mut Peer) {
    let Some(established) = &mut peer.established else {
        return;
    };
    let TableState::Walking { mut after } = established.table else {
        return;
    };
    let mut cache = ExportCache::new(&established.export);
    let mut announce: Vec<(IpNetwork, Exported)> = Vec::new();
    let mut finished = true;
    for (prefix, path) in rib.best_paths_after(after) {
        if announce.len() == TABLE_CHUNK {
            finished = false;
            break;
        }
        after = Some(prefix);
        if let Some(exported) = cache.export(&prefix, &path) {
            announce.push((prefix, exported));
        }
    }
    peer.advertised += announce.len();
    let context = established.negotiated.codec_context();
    let mut updates = build_updates(announce, Vec::new(), &context);
    if finished {
        established.table = TableState::Sent;
        let families: Vec<(Afi, Safi)> = established
            .negotiated
            .families
            .iter()
            .copied()
            .filter(|f| matches!(f, (Afi::Ipv4 | Afi::Ipv6, Safi::Unicast)))
            .collect();
        updates.extend(end_of_rib(&families));
    } else {
        established.table = TableState::Walking { after };
    }
    let _ = peer.commands.send(PeerCommand::Send {
        epoch: established.epoch,
        updates,
        report_written: !finished,
    });
}

/// Pack and send `announce` and `withdraw` to the peer on its own.
pub(super) fn send(peer: &Peer, announce: Vec<(IpNetwork, Exported)>, withdraw: Vec<IpNetwork>) {
    let Some(established) = &peer.established else {
        return;
    };
    if announce.is_empty() && withdraw.is_empty() {
        return;
    }
    let updates = build_updates(announce, withdraw, &established.negotiated.codec_context());
    let _ = peer.commands.send(PeerCommand::Send {
        epoch: established.epoch,
        updates,
        report_written: false,
    });
}
