//! [`SpeakerBackend`]: the BGP half of [`NodeApi`] answered from a [`bgp::Speaker`].
//!
//! `ternd` either serves it directly or delegates its BGP methods to it:
//!
//! ```no_run
//! # async fn example(speaker: bgp::Speaker) -> Result<(), tern_proto::ServeError> {
//! use std::sync::Arc;
//! use tern_proto::speaker_backend::SpeakerBackend;
//!
//! let backend = SpeakerBackend::new("node-1", speaker);
//! tern_proto::serve_unix("/run/tern/ternd.sock", Arc::new(backend)).await
//! # }
//! ```
//!
//! Adj-RIB-In is what the peer announced, as received (rejected routes flagged); Adj-RIB-Out
//! is what the peer gets now. Soft reset in sends ROUTE-REFRESH (`FAILED_PRECONDITION` when
//! the peer lacks the capability or the session is not Established); soft reset out sends our
//! routes again. A hard reset needs the peer's configuration: give it with
//! [`SpeakerBackend::with_peer_configs`].

pub mod convert;
pub mod watch;

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use bgp::{PeerConfig, RouteSource, Speaker, SpeakerError};
use tonic::Status;

use crate::api::{NodeApi, WatchStream, parse_address, unimplemented};
use crate::pb;
use crate::route_filter::RouteFilter;

/// Looks up the configuration a peer was added with (for a hard reset).
pub type PeerConfigLookup = Arc<dyn Fn(IpAddr) -> Option<PeerConfig> + Send + Sync>;

/// The BGP part of the node API over a running speaker.
#[derive(Clone)]
pub struct SpeakerBackend {
    node: String,
    speaker: Speaker,
    peer_configs: Option<PeerConfigLookup>,
}

impl std::fmt::Debug for SpeakerBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SpeakerBackend")
            .field("node", &self.node)
            .field("speaker", &self.speaker)
            .finish_non_exhaustive()
    }
}

impl SpeakerBackend {
    /// `node` is the name `ternctl node status` shows.
    pub fn new(node: impl Into<String>, speaker: Speaker) -> Self {
        SpeakerBackend {
            node: node.into(),
            speaker,
            peer_configs: None,
        }
    }

    /// Where [`NodeApi::reset_peer`] finds a peer's configuration to re-add it.
    pub fn with_peer_configs(mut self, lookup: PeerConfigLookup) -> Self {
        self.peer_configs = Some(lookup);
        self
    }

    pub fn speaker(&self) -> &Speaker {
        &self.speaker
    }
}

/// A speaker error as a gRPC status.
pub fn speaker_status(error: SpeakerError) -> Status {
    match error {
        SpeakerError::UnknownPeer(address) => Status::not_found(format!("no peer {address}")),
        SpeakerError::ShutDown => Status::unavailable("the BGP speaker has shut down"),
        SpeakerError::NotEstablished(_) | SpeakerError::NoRouteRefresh(_) => {
            Status::failed_precondition(error.to_string())
        }
        other => Status::internal(other.to_string()),
    }
}

#[tonic::async_trait]
impl NodeApi for SpeakerBackend {
    async fn status(&self) -> Result<pb::NodeStatus, Status> {
        let peers = self.speaker.peers().await.map_err(speaker_status)?;
        Ok(pb::NodeStatus {
            node: self.node.clone(),
            as_number: self.speaker.asn(),
            router_id: self.speaker.router_id().to_string(),
            peers: peers.iter().map(convert::peer_status).collect(),
        })
    }

    async fn routes(&self, request: pb::ListRoutesRequest) -> Result<Vec<pb::Destination>, Status> {
        let filter = RouteFilter::from_request(&request)?;
        match request.table() {
            pb::Table::LocRib => {
                let routes = self.speaker.loc_rib().await.map_err(speaker_status)?;
                let routes = filter.apply(routes, |r| r.prefix);
                Ok(convert::destinations(&routes))
            }
            pb::Table::AdjRibIn => {
                let peer = parse_address(&request.peer)?;
                let status = self
                    .speaker
                    .peer(peer)
                    .await
                    .map_err(speaker_status)?
                    .ok_or_else(|| Status::not_found(format!("no peer {peer}")))?;
                let source = RouteSource::peer(
                    status.address,
                    status.router_id.unwrap_or(Ipv4Addr::UNSPECIFIED),
                    status.peer_type,
                );
                let routes = self
                    .speaker
                    .adj_rib_in(peer)
                    .await
                    .map_err(speaker_status)?;
                let routes = filter.apply(routes, |r| r.prefix);
                Ok(routes
                    .iter()
                    .map(|route| convert::received_destination(route, &source))
                    .collect())
            }
            pb::Table::AdjRibOut => {
                let peer = parse_address(&request.peer)?;
                let routes = self
                    .speaker
                    .adj_rib_out(peer)
                    .await
                    .map_err(speaker_status)?;
                let routes = filter.apply(routes, |r| r.prefix);
                Ok(routes.iter().map(convert::advertised_destination).collect())
            }
        }
    }

    async fn reset_peer(&self, address: IpAddr) -> Result<(), Status> {
        let Some(lookup) = &self.peer_configs else {
            return Err(unimplemented("peer reset (no peer configurations given)"));
        };
        let config =
            lookup(address).ok_or_else(|| Status::not_found(format!("no peer {address}")))?;
        self.speaker
            .remove_peer(address)
            .await
            .map_err(speaker_status)?;
        self.speaker.add_peer(config).await.map_err(speaker_status)
    }

    async fn refresh_peer(
        &self,
        address: IpAddr,
        direction: pb::RefreshDirection,
    ) -> Result<(), Status> {
        if matches!(
            direction,
            pb::RefreshDirection::In | pb::RefreshDirection::Both
        ) {
            self.speaker
                .refresh_in(address)
                .await
                .map_err(speaker_status)?;
        }
        if matches!(
            direction,
            pb::RefreshDirection::Out | pb::RefreshDirection::Both
        ) {
            self.speaker
                .refresh_out(address)
                .await
                .map_err(speaker_status)?;
        }
        Ok(())
    }

    async fn watch(&self, request: pb::WatchRequest) -> Result<WatchStream, Status> {
        Ok(watch::watch(self.speaker.clone(), request))
    }
}
