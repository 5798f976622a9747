//! Operator requests on one peer: soft reset in and out (RFC 2918) and the per-peer views
//! Adj-RIB-In and Adj-RIB-Out.
//!
//! - soft reset in: a ROUTE-REFRESH for every negotiated unicast family; the peer answers by
//!   announcing its routes again, which replace the stored ones through the usual import;
//! - soft reset out: our routes of every negotiated family again, as on receipt of a
//!   ROUTE-REFRESH ([`Core::refresh`]);
//! - Adj-RIB-Out is derived (export of every best path the peer has been sent), as the
//!   advertisement code derives it.

use std::net::{IpAddr, Ipv4Addr};

use tokio::sync::oneshot;

use crate::driver::peer::PeerCommand;
use crate::packet::{Afi, RouteRefresh, Safi};
use crate::rib::ExportCache;
use crate::speaker::SpeakerError;
use crate::speaker::views::{AdvertisedRoute, ReceivedRoute};

use super::{Core, Established};

type Reply<T> = oneshot::Sender<Result<T, SpeakerError>>;

/// A request about one peer from the [`crate::Speaker`] handle.
#[derive(Debug)]
pub enum PeerOperation {
    /// Ask the peer for its routes again (ROUTE-REFRESH).
    RefreshIn(IpAddr, Reply<()>),
    /// Send the peer our routes again.
    RefreshOut(IpAddr, Reply<()>),
    AdjRibIn(IpAddr, Reply<Vec<ReceivedRoute>>),
    AdjRibOut(IpAddr, Reply<Vec<AdvertisedRoute>>),
}

impl Core {
    pub(super) fn peer_operation(&mut self, operation: PeerOperation) {
        match operation {
            PeerOperation::RefreshIn(address, reply) => {
                let _ = reply.send(self.refresh_in(address));
            }
            PeerOperation::RefreshOut(address, reply) => {
                let _ = reply.send(self.refresh_out(address));
            }
            PeerOperation::AdjRibIn(address, reply) => {
                let _ = reply.send(self.adj_rib_in(address));
            }
            PeerOperation::AdjRibOut(address, reply) => {
                let _ = reply.send(self.adj_rib_out(address));
            }
        }
    }

    fn established(&self, address: IpAddr) -> Result<&Established, SpeakerError> {
        let peer = self
            .peers
            .get(&address)
            .ok_or(SpeakerError::UnknownPeer(address))?;
        peer.established
            .as_ref()
            .ok_or(SpeakerError::NotEstablished(address))
    }

    fn refresh_in(&mut self, address: IpAddr) -> Result<(), SpeakerError> {
        let established = self.established(address)?;
        if !established.negotiated.route_refresh {
            return Err(SpeakerError::NoRouteRefresh(address));
        }
        let epoch = established.epoch;
        let commands: Vec<PeerCommand> = unicast_families(established)
            .map(|(afi, safi)| PeerCommand::RouteRefresh {
                epoch,
                refresh: RouteRefresh {
                    afi,
                    subtype: crate::packet::route_refresh::SUBTYPE_REQUEST,
                    safi,
                },
            })
            .collect();
        if let Some(peer) = self.peers.get(&address) {
            for command in commands {
                let _ = peer.commands.send(command);
            }
        }
        Ok(())
    }

    fn refresh_out(&mut self, address: IpAddr) -> Result<(), SpeakerError> {
        let families: Vec<(Afi, Safi)> = unicast_families(self.established(address)?).collect();
        for (afi, safi) in families {
            let subtype = crate::packet::route_refresh::SUBTYPE_REQUEST;
            self.refresh(address, RouteRefresh { afi, subtype, safi });
        }
        Ok(())
    }

    fn adj_rib_in(&self, address: IpAddr) -> Result<Vec<ReceivedRoute>, SpeakerError> {
        let peer = self
            .peers
            .get(&address)
            .ok_or(SpeakerError::UnknownPeer(address))?;
        // Paths are matched by peer address only (`RouteSource::same_as`).
        let source = peer.source(peer.router_id.unwrap_or(Ipv4Addr::UNSPECIFIED));
        Ok(peer
            .adj_rib_in
            .prefixes(&self.rib, &source)
            .into_iter()
            .filter_map(|prefix| {
                let received = peer.adj_rib_in.get(&self.rib, &source, &prefix)?;
                Some(ReceivedRoute {
                    prefix,
                    next_hop: received.next_hop,
                    attributes: received.attributes,
                    accepted: received.accepted,
                    stale: received.stale,
                })
            })
            .collect())
    }

    fn adj_rib_out(&self, address: IpAddr) -> Result<Vec<AdvertisedRoute>, SpeakerError> {
        let Some(established) = self
            .peers
            .get(&address)
            .ok_or(SpeakerError::UnknownPeer(address))?
            .established
            .as_ref()
        else {
            return Ok(Vec::new());
        };
        let mut cache = ExportCache::new(&established.export);
        Ok(self
            .rib
            .best_paths()
            .filter(|(prefix, _)| established.table.covers(prefix))
            .filter_map(|(prefix, path)| {
                let exported = cache.export(&prefix, &path)?;
                Some(AdvertisedRoute {
                    prefix,
                    next_hop: exported.next_hop,
                    attributes: exported.attributes,
                    source: path.source,
                })
            })
            .collect())
    }
}

/// The negotiated families tern carries routes of.
fn unicast_families(established: &Established) -> impl Iterator<Item = (Afi, Safi)> + '_ {
    established
        .negotiated
        .families
        .iter()
        .copied()
        .filter(|family| matches!(family, (Afi::Ipv4 | Afi::Ipv6, Safi::Unicast)))
}
