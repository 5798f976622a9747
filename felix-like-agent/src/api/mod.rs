//! The node API ternd serves (`ternctl` talks to it):
//! - BGP status, routes, peer reset and refresh, watch: [`SpeakerBackend`] over whichever
//!   speaker is running now (the speaker is replaced when the node's BGP identity changes);
//!   `UNAVAILABLE` until the first intent started one;
//! - resources: get / apply / delete on the file datastore ([`FileResources`]); with the
//!   Kubernetes datastore `FAILED_PRECONDITION` (use kubectl: the API server is the source of
//!   truth);
//! - dataplane and policy: the [`views`] given with [`AgentApi::with_dataplane`] and
//!   [`AgentApi::with_policy`] (ternd's: [`dataplane`] and [`policy_view`]); without one,
//!   `FAILED_PRECONDITION` saying that part is disabled (not `UNAVAILABLE`, which ternctl
//!   reports as "ternd is not running").

pub mod dataplane;
pub mod policy_view;
pub mod views;

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;

use bgp::Speaker;
use tern_proto::file_resources::FileResources;
use tern_proto::speaker_backend::SpeakerBackend;
use tern_proto::{NodeApi, WatchStream, pb};
use tokio::sync::watch;
use tonic::Status;

use crate::apply::PeerConfigs;
use views::{DataplaneView, PolicyView};

/// Where resources live, for `Resources.Get/Apply/Delete`.
#[derive(Debug, Default)]
enum ResourceStore {
    /// Not configured (tests that serve only BGP).
    #[default]
    None,
    /// The manifest directory ternd watches.
    File(FileResources),
    /// The Kubernetes API server.
    Kubernetes,
}

/// [`NodeApi`] over the current speaker, the datastore and the optional views.
pub struct AgentApi {
    node: String,
    speaker: watch::Receiver<Option<Speaker>>,
    peer_configs: PeerConfigs,
    resources: ResourceStore,
    dataplane: Option<Arc<dyn DataplaneView>>,
    policy: Option<Arc<dyn PolicyView>>,
}

impl std::fmt::Debug for AgentApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AgentApi")
            .field("node", &self.node)
            .field("resources", &self.resources)
            .field("dataplane", &self.dataplane.is_some())
            .field("policy", &self.policy.is_some())
            .finish_non_exhaustive()
    }
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
            resources: ResourceStore::None,
            dataplane: None,
            policy: None,
        }
    }

    /// Serve resources from the manifest directory ternd watches (writes are atomic, so the
    /// watcher picks them up like any other edit).
    pub fn with_file_datastore(mut self, directory: impl Into<PathBuf>) -> Self {
        self.resources = ResourceStore::File(FileResources::new(directory));
        self
    }

    /// The datastore is Kubernetes: resource calls say to use kubectl.
    pub fn with_kubernetes_datastore(mut self) -> Self {
        self.resources = ResourceStore::Kubernetes;
        self
    }

    /// Answer `ternctl dataplane routes` from the kernel route programmer.
    pub fn with_dataplane(mut self, dataplane: Arc<dyn DataplaneView>) -> Self {
        self.dataplane = Some(dataplane);
        self
    }

    /// Answer `ternctl policy show` from the policy programmer.
    pub fn with_policy(mut self, policy: Arc<dyn PolicyView>) -> Self {
        self.policy = Some(policy);
        self
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

    fn file_resources(&self) -> Result<&FileResources, Status> {
        match &self.resources {
            ResourceStore::File(files) => Ok(files),
            ResourceStore::Kubernetes => Err(Status::failed_precondition(
                "ternd uses the Kubernetes datastore: change resources with kubectl",
            )),
            ResourceStore::None => Err(Status::failed_precondition(
                "this ternd serves no datastore for resources",
            )),
        }
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

    async fn dataplane_routes(&self) -> Result<Vec<pb::DataplaneRoute>, Status> {
        let dataplane = self.dataplane.as_ref().ok_or_else(|| {
            Status::failed_precondition("dataplane programming is disabled on this node")
        })?;
        let routes = dataplane.installed_routes().await?;
        Ok(routes.iter().map(views::InstalledRoute::to_proto).collect())
    }

    async fn pod_policy(&self, pod: String, namespace: String) -> Result<pb::PodPolicy, Status> {
        let policy = self.policy.as_ref().ok_or_else(|| {
            Status::failed_precondition("policy programming is disabled on this node")
        })?;
        let view = policy.pod_policy(&namespace, &pod).await?;
        Ok(view.to_proto(pod, namespace))
    }

    async fn get_resources(
        &self,
        request: pb::GetResourcesRequest,
    ) -> Result<Vec<pb::Resource>, Status> {
        self.file_resources()?.get(request).await
    }

    async fn apply_resources(
        &self,
        request: pb::ApplyRequest,
    ) -> Result<Vec<pb::ResourceRef>, Status> {
        self.file_resources()?.apply(request).await
    }

    async fn delete_resources(
        &self,
        request: pb::DeleteRequest,
    ) -> Result<Vec<pb::ResourceRef>, Status> {
        self.file_resources()?.delete(request).await
    }
}
