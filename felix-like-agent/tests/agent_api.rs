//! ternd's [`AgentApi`] without a speaker: the parts that do not need BGP answer or say
//! clearly why not (never `UNAVAILABLE`, which ternctl reports as "ternd is not running").

use std::sync::Arc;

use tern_agent::api::AgentApi;
use tern_agent::api::views::{
    DataplaneView, Encapsulation, InstalledRoute, PodPolicy, PolicyView, ViewError,
};
use tern_proto::{NodeApi, pb};
use tonic::Code;

fn api() -> AgentApi {
    let (_, speaker) = tokio::sync::watch::channel(None);
    AgentApi::new("n1", speaker, Default::default())
}

struct OneRoute;

#[tonic::async_trait]
impl DataplaneView for OneRoute {
    async fn installed_routes(&self) -> Result<Vec<InstalledRoute>, ViewError> {
        Ok(vec![InstalledRoute {
            destination: "198.19.2.0/24".parse().unwrap(),
            gateway: Some("198.18.0.12".parse().unwrap()),
            device: "tunl0".into(),
            encapsulation: Encapsulation::Ipip,
            table: 254,
            kind: "unicast".into(),
        }])
    }
}

struct OnePod;

#[tonic::async_trait]
impl PolicyView for OnePod {
    async fn pod_policy(&self, namespace: &str, pod: &str) -> Result<PodPolicy, ViewError> {
        if (namespace, pod) != ("shop", "web") {
            return Err(ViewError::NotFound(format!("no pod {namespace}/{pod}")));
        }
        Ok(PodPolicy {
            policies: vec!["shop/deny-all".into()],
            ingress_isolated: true,
            ..PodPolicy::default()
        })
    }
}

#[tokio::test]
async fn without_views_dataplane_and_policy_say_they_are_disabled() {
    let api = api();
    let error = api.dataplane_routes().await.unwrap_err();
    assert_eq!(error.code(), Code::FailedPrecondition);
    assert_eq!(
        error.message(),
        "dataplane programming is disabled on this node"
    );
    let error = api
        .pod_policy("web".into(), "shop".into())
        .await
        .unwrap_err();
    assert_eq!(error.code(), Code::FailedPrecondition);
    assert!(error.message().contains("policy"), "{}", error.message());
    let error = api
        .get_resources(pb::GetResourcesRequest::default())
        .await
        .unwrap_err();
    assert_eq!(error.code(), Code::FailedPrecondition);
    let error = api.status().await.unwrap_err();
    assert!(
        error.message().contains("not running"),
        "{}",
        error.message()
    );
}

#[tokio::test]
async fn views_answer_dataplane_and_policy() {
    let api = api()
        .with_dataplane(Arc::new(OneRoute))
        .with_policy(Arc::new(OnePod));
    let routes = api.dataplane_routes().await.unwrap();
    assert_eq!(routes.len(), 1);
    assert_eq!(routes[0].destination, "198.19.2.0/24");
    assert_eq!(routes[0].gateway, "198.18.0.12");
    assert_eq!(routes[0].encapsulation, "ipip");
    let policy = api.pod_policy("web".into(), "shop".into()).await.unwrap();
    assert_eq!(policy.pod, "web");
    assert_eq!(policy.namespace, "shop");
    assert_eq!(policy.policies, ["shop/deny-all"]);
    assert!(policy.ingress_isolated && !policy.egress_isolated);
    let missing = api
        .pod_policy("db".into(), "shop".into())
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Code::NotFound);
}

#[tokio::test]
async fn resources_go_to_the_file_datastore_or_to_kubectl() {
    let directory = tempfile::tempdir().unwrap();
    let api = api().with_file_datastore(directory.path());
    let peer = "apiVersion: tern.dev/v1alpha1\nkind: BGPPeer\nmetadata:\n  name: tor\nspec:\n  peerIP: 198.18.0.254\n  asNumber: 65000\n";
    let applied = api
        .apply_resources(pb::ApplyRequest {
            yaml: peer.into(),
            source: "peer.yaml".into(),
        })
        .await
        .unwrap();
    assert_eq!(applied[0].result, "created");
    let found = api
        .get_resources(pb::GetResourcesRequest {
            kind: "bgppeer".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert!(std::fs::read_dir(directory.path()).unwrap().count() == 1);
    api.delete_resources(pb::DeleteRequest {
        yaml: peer.into(),
        source: "peer.yaml".into(),
    })
    .await
    .unwrap();
    assert_eq!(std::fs::read_dir(directory.path()).unwrap().count(), 0);

    let kube = self::api().with_kubernetes_datastore();
    let error = kube
        .apply_resources(pb::ApplyRequest {
            yaml: peer.into(),
            source: "peer.yaml".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(error.code(), Code::FailedPrecondition);
    assert!(error.message().contains("kubectl"), "{}", error.message());
}
