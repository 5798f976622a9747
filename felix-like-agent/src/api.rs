//! The node API ternd serves (`ternctl` talks to it): the BGP part answered by
//! [`SpeakerBackend`] over whichever speaker is running now (the speaker is replaced when the
//! node's BGP identity changes). `UNAVAILABLE` until the first intent started one. The
//! dataplane view comes from the route programmer when ternd runs with `--dataplane`.

use std::net::IpAddr;
use std::sync::Arc;

use bgp::Speaker;
use tern_proto::speaker_backend::SpeakerBackend;
use tern_proto::{NodeApi, WatchStream, pb};
use tokio::sync::watch;
use tonic::Status;

use crate::apply::PeerConfigs;
use crate::dataplane::codec::MAIN_TABLE;
use crate::dataplane::{DesiredRoute, ProgrammerHandle, RouteKind};

/// One row per next hop (a blackhole is one row without gateway). The encapsulation is read
/// off the device name: `tunl*` is IPIP, `vxlan*` VXLAN.
pub fn dataplane_rows(routes: &[DesiredRoute]) -> Vec<pb::DataplaneRoute> {
    let mut rows = Vec::new();
    for route in routes {
        let row = |kind: &str, gateway: String, device: String| pb::DataplaneRoute {
            destination: route.destination.to_string(),
            encapsulation: if device.starts_with("tunl") {
                "ipip"
            } else if device.starts_with("vxlan") {
                "vxlan"
            } else {
                "none"
            }
            .to_string(),
            gateway,
            device,
            table: MAIN_TABLE,
            kind: kind.to_string(),
        };
        match &route.kind {
            RouteKind::Blackhole => rows.push(row("blackhole", String::new(), String::new())),
            RouteKind::Unicast(hops) => {
                for hop in hops {
                    let device = hop
                        .device
                        .as_ref()
                        .map(ToString::to_string)
                        .unwrap_or_default();
                    rows.push(row("unicast", hop.gateway.to_string(), device));
                }
            }
        }
    }
    rows
}

/// [`NodeApi`] over the current speaker.
#[derive(Debug)]
pub struct AgentApi {
    node: String,
    speaker: watch::Receiver<Option<Speaker>>,
    peer_configs: PeerConfigs,
    dataplane: Option<ProgrammerHandle>,
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
            dataplane: None,
        }
    }

    /// Answer `Dataplane.ListRoutes` from the route programmer (ternd `--dataplane`).
    pub fn with_dataplane(mut self, dataplane: Option<ProgrammerHandle>) -> Self {
        self.dataplane = dataplane;
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
            Status::failed_precondition("ternd runs without --dataplane: no kernel routes")
        })?;
        Ok(dataplane_rows(&dataplane.installed_routes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataplane::{Device, NextHop};

    #[test]
    fn dataplane_rows_are_one_per_next_hop() {
        let tunnel = NextHop::via("198.18.1.12".parse().unwrap())
            .onlink_through(Device::Name("tunl0".into()));
        let plain = NextHop::via("198.18.0.13".parse().unwrap());
        let routes = [
            DesiredRoute::blackhole("198.19.1.0/24".parse().unwrap()),
            DesiredRoute::unicast("198.19.2.0/24".parse().unwrap(), vec![tunnel, plain]).unwrap(),
        ];
        let rows = dataplane_rows(&routes);
        let summary: Vec<(&str, &str, &str, &str, &str)> = rows
            .iter()
            .map(|r| {
                (
                    r.destination.as_str(),
                    r.kind.as_str(),
                    r.gateway.as_str(),
                    r.device.as_str(),
                    r.encapsulation.as_str(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                ("198.19.1.0/24", "blackhole", "", "", "none"),
                ("198.19.2.0/24", "unicast", "198.18.0.13", "", "none"),
                ("198.19.2.0/24", "unicast", "198.18.1.12", "tunl0", "ipip"),
            ]
        );
        assert!(rows.iter().all(|r| r.table == 254));
    }
}
