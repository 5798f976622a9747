//! Routes through the core: local origination, UPDATEs from peers into the Loc-RIB, and best
//! path changes out to subscribers and to every established peer.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use ipnetwork::IpNetwork;
use tracing::debug;

use crate::driver::peer::PeerCommand;
use crate::packet::{Afi, NextHop, Origin, PathAttributes, RouteRefresh, Safi, Update};
use crate::rib::{
    BestChange, ExportCache, ExportContext, Exported, Path, PeerType, Route, RouteSource,
    build_updates, end_of_rib,
};
use crate::speaker::RouteChange;

use super::{Core, Established, Peer};

impl Core {
    pub(super) fn originate(&mut self, prefix: IpNetwork, attributes: PathAttributes) {
        let mut attributes = attributes;
        attributes.origin.get_or_insert(Origin::Igp);
        attributes.next_hop = None;
        let path = Path {
            source: RouteSource::Local,
            next_hop: None,
            attributes: Arc::new(attributes),
        };
        let changes = self.rib.insert(normalize(prefix), path);
        self.propagate(changes.into_iter().collect());
    }

    pub(super) fn withdraw(&mut self, prefix: IpNetwork) {
        let changes = self.rib.remove(normalize(prefix), &RouteSource::Local);
        self.propagate(changes.into_iter().collect());
    }

    /// The session came up: remember how to export to it, then send the whole table and
    /// End-of-RIB (RFC 4724 §2).
    pub(super) fn session_up(
        &mut self,
        address: IpAddr,
        epoch: u64,
        negotiated: crate::fsm::Negotiated,
        local: SocketAddr,
        remote: SocketAddr,
    ) {
        let Some(peer) = self.peers.get_mut(&address) else {
            return;
        };
        let local_ip = super::canonical(local.ip());
        let next_hop_v4 = match (peer.config.local_address, local_ip) {
            (_, IpAddr::V4(v4)) => Some(v4),
            _ => self.config.ipv4_next_hop,
        };
        let next_hop_v6 = match local_ip {
            IpAddr::V6(v6) => Some(v6),
            IpAddr::V4(_) => self.config.ipv6_next_hop,
        };
        let export = ExportContext {
            local_asn: self.config.asn,
            peer_asn: peer.config.asn,
            peer_address: address,
            peer_type: peer.peer_type,
            next_hop_v4,
            next_hop_v6,
            families: negotiated.families.clone(),
            keep_original_next_hop: peer.config.keep_original_next_hop,
        };
        peer.adj_rib_out.clear();
        let mut announce = Vec::new();
        let mut cache = ExportCache::new(&export);
        for (prefix, path) in self.rib.best_paths() {
            if let Some(exported) = cache.export(&prefix, path) {
                peer.adj_rib_out.insert(prefix, exported.clone());
                announce.push((prefix, exported));
            }
        }
        let context = negotiated.codec_context();
        let mut updates = build_updates(announce, Vec::new(), &context);
        let families: Vec<(Afi, Safi)> = negotiated
            .families
            .iter()
            .copied()
            .filter(|f| matches!(f, (Afi::Ipv4 | Afi::Ipv6, Safi::Unicast)))
            .collect();
        updates.extend(end_of_rib(&families));
        let _ = peer.commands.send(PeerCommand::Send { epoch, updates });
        peer.established = Some(Established {
            epoch,
            negotiated,
            local,
            remote,
            export,
        });
    }

    /// The peer's session ended (or the peer is going away): forget what we advertised to it
    /// and withdraw everything learned from it. Returns the best-path changes.
    pub(super) fn forget_routes_of(&mut self, peer: &mut Peer) -> Vec<BestChange> {
        peer.established = None;
        peer.adj_rib_out.clear();
        let address = peer.config.address;
        let source = RouteSource::Peer {
            address,
            router_id: peer.router_id.unwrap_or(std::net::Ipv4Addr::UNSPECIFIED),
            peer_type: peer.peer_type,
        };
        peer.adj_rib_in
            .drain()
            .filter_map(|prefix| self.rib.remove(prefix, &source))
            .collect()
    }

    /// An UPDATE from an established peer into the Loc-RIB. RFC 4271 §9.1, error handling
    /// per RFC 7606 (treat-as-withdraw), loop detection per §9.1.2 (our AS in the path).
    pub(super) fn import(&mut self, address: IpAddr, update: Update) -> Vec<BestChange> {
        let local_asn = self.config.asn;
        let Some(peer) = self.peers.get_mut(&address) else {
            return Vec::new();
        };
        let Some(established) = &peer.established else {
            return Vec::new();
        };
        let source = RouteSource::Peer {
            address,
            router_id: established.negotiated.peer_id,
            peer_type: peer.peer_type,
        };
        let looped = peer.peer_type == PeerType::External
            && update
                .attributes
                .as_path
                .as_ref()
                .is_some_and(|path| path.contains(local_asn));
        let withdraw_all = update.treat_as_withdraw() || looped;
        let mut changes = Vec::new();
        let mut withdrawn: Vec<IpNetwork> = update.withdrawn_prefixes().collect();
        if withdraw_all {
            withdrawn.extend(update.announced());
        }
        for prefix in withdrawn {
            if peer.adj_rib_in.remove(&prefix) {
                changes.extend(self.rib.remove(prefix, &source));
            }
        }
        if withdraw_all {
            if looped {
                debug!(peer = %address, "UPDATE with our AS in the path ignored");
            }
            return changes;
        }
        let attributes = Arc::new(update.attributes.clone());
        let v4_next_hop = update.attributes.next_hop.map(IpAddr::V4);
        let mut accepted: Vec<(IpNetwork, Option<IpAddr>)> = update
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
            accepted.extend(reach.nlri.iter().map(|prefix| (*prefix, Some(next_hop))));
        }
        for (prefix, next_hop) in accepted {
            peer.adj_rib_in.insert(prefix);
            let path = Path {
                source,
                next_hop,
                attributes: attributes.clone(),
            };
            changes.extend(self.rib.insert(prefix, path));
        }
        changes
    }

    /// Publish best-path changes and advertise them to every established peer.
    pub(super) fn propagate(&mut self, changes: Vec<BestChange>) {
        if changes.is_empty() {
            return;
        }
        for change in &changes {
            let best = change.best.as_ref().map(|path| Route {
                prefix: change.prefix,
                path: path.clone(),
                best: true,
            });
            // No subscriber is fine.
            let _ = self.routes.send(RouteChange {
                prefix: change.prefix,
                best,
            });
        }
        for peer in self.peers.values_mut() {
            let Some(established) = &peer.established else {
                continue;
            };
            let mut announce: Vec<(IpNetwork, Exported)> = Vec::new();
            let mut withdraw = Vec::new();
            let mut cache = ExportCache::new(&established.export);
            for change in &changes {
                let prefix = change.prefix;
                let exported = change
                    .best
                    .as_ref()
                    .and_then(|path| cache.export(&prefix, path));
                match exported {
                    Some(exported) => {
                        if peer.adj_rib_out.get(&prefix) != Some(&exported) {
                            peer.adj_rib_out.insert(prefix, exported.clone());
                            announce.push((prefix, exported));
                        }
                    }
                    None => {
                        if peer.adj_rib_out.remove(&prefix).is_some() {
                            withdraw.push(prefix);
                        }
                    }
                }
            }
            if announce.is_empty() && withdraw.is_empty() {
                continue;
            }
            let updates =
                build_updates(announce, withdraw, &established.negotiated.codec_context());
            let _ = peer.commands.send(PeerCommand::Send {
                epoch: established.epoch,
                updates,
            });
        }
    }

    /// ROUTE-REFRESH (RFC 2918): send what we advertise in that family again.
    pub(super) fn refresh(&mut self, address: IpAddr, refresh: RouteRefresh) {
        let Some(peer) = self.peers.get(&address) else {
            return;
        };
        let Some(established) = &peer.established else {
            return;
        };
        let announce: Vec<(IpNetwork, Exported)> = peer
            .adj_rib_out
            .iter()
            .filter(|(prefix, _)| match refresh.afi {
                Afi::Ipv4 => prefix.is_ipv4(),
                Afi::Ipv6 => prefix.is_ipv6(),
                Afi::Other(_) => false,
            })
            .map(|(prefix, exported)| (*prefix, exported.clone()))
            .collect();
        let updates = build_updates(
            announce,
            Vec::new(),
            &established.negotiated.codec_context(),
        );
        let _ = peer.commands.send(PeerCommand::Send {
            epoch: established.epoch,
            updates,
        });
    }
}

/// The prefix with its host bits cleared (198.51.100.7/24 is 198.51.100.0/24).
fn normalize(prefix: IpNetwork) -> IpNetwork {
    IpNetwork::new(prefix.network(), prefix.prefix()).unwrap_or(prefix)
}
