//! `BGPConfiguration` (tern.dev/v1alpha1): cluster-wide BGP settings. The object named
//! `default` is the global configuration. Field names and meanings are Calico's
//! (`projectcalico.org/v3` BGPConfiguration).

use ipnetwork::IpNetwork;
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{AsNumber, GoDuration, SecretPassword};

/// The name of the global BGPConfiguration.
pub const GLOBAL_BGP_CONFIGURATION: &str = "default";

/// Calico's default AS number when none is configured.
pub const DEFAULT_AS_NUMBER: AsNumber = AsNumber(64512);

/// Cluster-wide BGP settings.
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[kube(
    group = "tern.dev",
    version = "v1alpha1",
    kind = "BGPConfiguration",
    root = "BgpConfiguration",
    plural = "bgpconfigurations",
    doc = "Cluster-wide BGP settings; the object named default is global.",
    derive = "PartialEq",
    derive = "Default"
)]
#[serde(rename_all = "camelCase")]
pub struct BgpConfigurationSpec {
    /// Default AS number of every node (64512 when unset); a node's `tern.dev/as-number`
    /// annotation overrides it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub as_number: Option<AsNumber>,
    /// Whether every node peers with every other node (default true). Route reflectors never
    /// take part in the mesh.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_to_node_mesh_enabled: Option<bool>,
    /// TCP port the BGP speaker listens on (default 179).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listen_port: Option<u16>,
    /// Graceful-restart time advertised to mesh peers (RFC 4724 §4.2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_mesh_max_restart_time: Option<GoDuration>,
    /// TCP MD5 password for mesh sessions (RFC 2385).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_mesh_password: Option<SecretPassword>,
    /// Service cluster-IP ranges, advertised from every node.
    #[serde(
        default,
        rename = "serviceClusterIPs",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub service_cluster_ips: Vec<ServiceIpBlock>,
    /// Ranges that Service `externalIPs` may be advertised from.
    #[serde(
        default,
        rename = "serviceExternalIPs",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub service_external_ips: Vec<ServiceIpBlock>,
    /// Ranges that Service LoadBalancer ingress IPs may be advertised from.
    #[serde(
        default,
        rename = "serviceLoadBalancerIPs",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub service_load_balancer_ips: Vec<ServiceIpBlock>,
    /// Named BGP communities, referenced from `prefixAdvertisements`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub communities: Vec<CommunityDefinition>,
    /// Communities attached to advertised prefixes inside a CIDR.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub prefix_advertisements: Vec<PrefixAdvertisement>,
    /// Log level of the BGP speaker (Calico's `logSeverityScreen`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_severity_screen: Option<String>,
}

/// One CIDR in `serviceClusterIPs`, `serviceExternalIPs` or `serviceLoadBalancerIPs`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub struct ServiceIpBlock {
    /// The range.
    #[schemars(with = "String")]
    pub cidr: IpNetwork,
}

/// A named community value: `"AA:NN"` (RFC 1997) or `"AA:NN:MM"` (RFC 8092 large community).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub struct CommunityDefinition {
    /// Name referenced from `prefixAdvertisements`.
    pub name: String,
    /// The community value.
    pub value: String,
}

/// Communities to attach to advertised prefixes within `cidr`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub struct PrefixAdvertisement {
    /// Prefixes inside (or equal to) this CIDR carry the communities.
    #[schemars(with = "String")]
    pub cidr: IpNetwork,
    /// Community names (from `communities`) or literal values.
    #[serde(default)]
    pub communities: Vec<String>,
}
