//! [`NodeApi`]: what a node answers. `ternd` implements it (delegating the BGP parts to
//! [`crate::speaker_backend::SpeakerBackend`]); [`crate::server`] turns it into the four
//! `tern.v1` gRPC services.
//!
//! Every method has a default answering `UNIMPLEMENTED` except the BGP status and routes, so a
//! node can grow into the API one part at a time. Errors are gRPC [`Status`]es: use
//! `INVALID_ARGUMENT` for a bad request, `NOT_FOUND` for an unknown peer or object,
//! `UNAVAILABLE` when a part (the speaker, the datastore) is not running.

use std::net::IpAddr;
use std::pin::Pin;

use futures::Stream;
use tonic::Status;

use crate::pb;

/// The stream [`NodeApi::watch`] returns.
pub type WatchStream = Pin<Box<dyn Stream<Item = Result<pb::WatchEvent, Status>> + Send>>;

/// `UNIMPLEMENTED` naming the part that is missing.
pub fn unimplemented(what: &str) -> Status {
    Status::unimplemented(format!("{what} is not available on this node yet"))
}

/// Everything the tern API serves. See `proto/tern/v1/*.proto` for the meaning of each field.
#[tonic::async_trait]
pub trait NodeApi: Send + Sync + 'static {
    /// Node name, AS, router ID and every peer (`Node.GetStatus`).
    async fn status(&self) -> Result<pb::NodeStatus, Status>;

    /// Peers, optionally only `request.address` (`Node.ListPeers`). Default: from
    /// [`NodeApi::status`].
    async fn peers(&self, request: pb::ListPeersRequest) -> Result<Vec<pb::PeerStatus>, Status> {
        let peers = self.status().await?.peers;
        if request.address.is_empty() {
            return Ok(peers);
        }
        let wanted: IpAddr = parse_address(&request.address)?;
        Ok(peers
            .into_iter()
            .filter(|peer| peer.address.parse::<IpAddr>().ok() == Some(wanted))
            .collect())
    }

    /// Loc-RIB or Adj-RIB-In/Out, filtered (`Node.ListRoutes`).
    async fn routes(&self, request: pb::ListRoutesRequest) -> Result<Vec<pb::Destination>, Status>;

    /// Hard reset of one session (`Node.ResetPeer`).
    async fn reset_peer(&self, address: IpAddr) -> Result<(), Status> {
        let _ = address;
        Err(unimplemented("peer reset"))
    }

    /// Soft reset (route refresh) of one session (`Node.RefreshPeer`).
    async fn refresh_peer(
        &self,
        address: IpAddr,
        direction: pb::RefreshDirection,
    ) -> Result<(), Status> {
        let _ = (address, direction);
        Err(unimplemented("peer refresh (soft reset)"))
    }

    /// Peer state and best-route changes from now on (`Node.Watch`).
    async fn watch(&self, request: pb::WatchRequest) -> Result<WatchStream, Status> {
        let _ = request;
        Err(unimplemented("watch"))
    }

    /// Kernel routes tern programmed (`Dataplane.ListRoutes`).
    async fn dataplane_routes(&self) -> Result<Vec<pb::DataplaneRoute>, Status> {
        Err(unimplemented("the dataplane view"))
    }

    /// The policies selecting a pod (`Policy.ShowPod`).
    async fn pod_policy(&self, pod: String, namespace: String) -> Result<pb::PodPolicy, Status> {
        let _ = (pod, namespace);
        Err(unimplemented("the policy view"))
    }

    /// Objects of a kind (`Resources.Get`).
    async fn get_resources(
        &self,
        request: pb::GetResourcesRequest,
    ) -> Result<Vec<pb::Resource>, Status> {
        let _ = request;
        Err(unimplemented("resource access"))
    }

    /// Create or replace objects (`Resources.Apply`).
    async fn apply_resources(
        &self,
        request: pb::ApplyRequest,
    ) -> Result<Vec<pb::ResourceRef>, Status> {
        let _ = request;
        Err(unimplemented("resource apply"))
    }

    /// Delete objects (`Resources.Delete`).
    async fn delete_resources(
        &self,
        request: pb::DeleteRequest,
    ) -> Result<Vec<pb::ResourceRef>, Status> {
        let _ = request;
        Err(unimplemented("resource delete"))
    }
}

/// An IP address from a request field, or `INVALID_ARGUMENT`.
pub fn parse_address(text: &str) -> Result<IpAddr, Status> {
    text.parse()
        .map_err(|_| Status::invalid_argument(format!("{text:?} is not an IP address")))
}
