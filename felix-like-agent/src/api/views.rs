//! What the node API asks of the parts of ternd that are not the BGP speaker: the kernel
//! route programmer ([`DataplaneView`]) and the policy programmer ([`PolicyView`]). Each is
//! optional: without one, the API says that part is disabled instead of answering.

use std::net::IpAddr;

use ipnetwork::IpNetwork;
use tern_proto::pb;
use tonic::Status;

/// Why a view could not answer.
#[derive(Debug, thiserror::Error)]
pub enum ViewError {
    /// The object asked about does not exist (e.g. no such pod).
    #[error("{0}")]
    NotFound(String),
    /// The part cannot answer now (e.g. not synchronised yet).
    #[error("{0}")]
    NotReady(String),
}

impl From<ViewError> for Status {
    fn from(error: ViewError) -> Status {
        match error {
            ViewError::NotFound(text) => Status::not_found(text),
            // Not UNAVAILABLE: clients read that as "ternd is not reachable".
            ViewError::NotReady(text) => Status::failed_precondition(text),
        }
    }
}

/// How an installed route reaches its next hop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encapsulation {
    None,
    Ipip,
    Vxlan,
}

impl Encapsulation {
    /// The name `ternctl dataplane routes` shows.
    pub fn name(self) -> &'static str {
        match self {
            Encapsulation::None => "none",
            Encapsulation::Ipip => "ipip",
            Encapsulation::Vxlan => "vxlan",
        }
    }
}

/// One kernel route tern installed (with its own rtnetlink protocol number).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstalledRoute {
    pub destination: IpNetwork,
    /// `None` for device and blackhole routes.
    pub gateway: Option<IpAddr>,
    /// Empty for blackhole routes.
    pub device: String,
    pub encapsulation: Encapsulation,
    pub table: u32,
    /// The rtnetlink route type: "unicast", "blackhole", ...
    pub kind: String,
}

impl InstalledRoute {
    pub fn to_proto(&self) -> pb::DataplaneRoute {
        pb::DataplaneRoute {
            destination: self.destination.to_string(),
            gateway: self.gateway.map(|g| g.to_string()).unwrap_or_default(),
            device: self.device.clone(),
            encapsulation: self.encapsulation.name().to_string(),
            table: self.table,
            kind: self.kind.clone(),
        }
    }
}

/// The kernel route programmer, as the API sees it.
#[tonic::async_trait]
pub trait DataplaneView: Send + Sync + 'static {
    /// Every route tern has installed, in destination order.
    async fn installed_routes(&self) -> Result<Vec<InstalledRoute>, ViewError>;
}

/// One rule that applies to a pod.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyRule {
    /// "namespace/name" of the NetworkPolicy.
    pub policy: String,
    /// "ingress" or "egress".
    pub direction: String,
    /// "allow" or "deny".
    pub action: String,
    /// Peers and ports in words.
    pub description: String,
}

/// The policy of one pod (`ternctl policy show POD -n NS`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PodPolicy {
    pub addresses: Vec<IpAddr>,
    /// "namespace/name" of every NetworkPolicy selecting the pod.
    pub policies: Vec<String>,
    pub ingress_isolated: bool,
    pub egress_isolated: bool,
    pub rules: Vec<PolicyRule>,
    /// The pod's nftables rules as `nft list` prints them.
    pub nftables: String,
}

impl PodPolicy {
    pub fn to_proto(&self, pod: String, namespace: String) -> pb::PodPolicy {
        pb::PodPolicy {
            pod,
            namespace,
            addresses: self.addresses.iter().map(|a| a.to_string()).collect(),
            policies: self.policies.clone(),
            ingress_isolated: self.ingress_isolated,
            egress_isolated: self.egress_isolated,
            rules: self
                .rules
                .iter()
                .map(|rule| pb::PolicyRule {
                    policy: rule.policy.clone(),
                    direction: rule.direction.clone(),
                    action: rule.action.clone(),
                    description: rule.description.clone(),
                })
                .collect(),
            nftables: self.nftables.clone(),
        }
    }
}

/// The policy programmer, as the API sees it.
#[tonic::async_trait]
pub trait PolicyView: Send + Sync + 'static {
    /// The policy of pod `namespace/pod`; [`ViewError::NotFound`] for an unknown pod.
    async fn pod_policy(&self, namespace: &str, pod: &str) -> Result<PodPolicy, ViewError>;
}
