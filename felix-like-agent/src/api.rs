//! The node API ternd serves (`ternctl` talks to it): the BGP part answered by
//! [`SpeakerBackend`] over whichever speaker is running now (the speaker is replaced when the
//! node's BGP identity changes). `UNAVAILABLE` until the first intent started one.

use std::net::IpAddr;
use std::sync::Arc;

use bgp::Speaker;
use tern_proto::speaker_backend::SpeakerBackend;
use tern_proto::{NodeApi, WatchStream, pb};
use tokio::sync::watch;
use tonic::Status;

use crate::apply::PeerConfigs;

/// [`NodeApi`] over the current speaker.
#[derive(Debug)]
pub struct AgentApi {
    node: String,
    speaker: watch::Receiver<Option<Speaker>>,
    peer_configs: PeerConfigs,
}

impl AgentApi {
    /// `speaker` comes from [`crate::apply::SpeakerApplier::subscribe`].
    pub fn new(
        node: impl Into<String>,
        speaker: watch::Receiver<Option<Speaker>>,
        peer_configs: PeerConfigs,
    ) -> Self {
        AgentApi {
            node: node.into(),
            speaker,
            peer_configs,
        }
    }

    fn backend(&self) -> Result<SpeakerBackend, Status> {
        let speaker = self
            .speaker
            .borrow()
            .clone()
            .ok_or_else(|| Status::unavailable("the BGP speaker is not running (yet)"))?;
        let configs = self.peer_configs.clone();
        Ok(
            SpeakerBackend::new(self.node.clone(), speaker).with_peer_configs(Arc::new(
                move |address| {
                    configs
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .get(&address)
                        .cloned()
                },
            )),
        )
    }
}

#[tonic::async_trait]
impl NodeApi for AgentApi {
    async fn status(&self) -> Result<pb::NodeStatus, Status> {
        self.backend()?.status().await
    }

    async fn peers(&self, request: pb::ListPeersRequest) -> Result<Vec<pb::PeerStatus>, Status> {
        self.backend()?.peers(request).await
    }

    async fn routes(&self, request: pb::ListRoutesRequest) -> Result<Vec<pb::Destination>, Status> {
        self.backend()?.routes(request).await
    }

    async fn reset_peer(&self, address: IpAddr) -> Result<(), Status> {
        self.backend()?.reset_peer(address).await
    }

    async fn refresh_peer(
        &self,
        address: IpAddr,
        direction: pb::RefreshDirection,
    ) -> Result<(), Status> {
        self.backend()?.refresh_peer(address, direction).await
    }

    async fn watch(&self, request: pb::WatchRequest) -> Result<WatchStream, Status> {
        self.backend()?.watch(request).await
    }
}
