//! `IPPool` (tern.dev/v1alpha1): a pod address range and how traffic to it is encapsulated.
//! Field names and meanings are Calico's.

use ipnetwork::IpNetwork;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A pod address pool.
#[derive(CustomResource, Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[kube(
    group = "tern.dev",
    version = "v1alpha1",
    kind = "IPPool",
    root = "IpPool",
    plural = "ippools",
    doc = "A pod address pool and how traffic to it is encapsulated.",
    derive = "PartialEq"
)]
#[serde(rename_all = "camelCase")]
pub struct IpPoolSpec {
    /// The pool's range.
    #[schemars(with = "String")]
    pub cidr: IpNetwork,
    /// When traffic to this pool is IPIP-encapsulated.
    #[serde(default)]
    pub ipip_mode: EncapsulationMode,
    /// When traffic to this pool is VXLAN-encapsulated.
    #[serde(default)]
    pub vxlan_mode: EncapsulationMode,
    /// Masquerade traffic from this pool to destinations outside every pool.
    #[serde(default)]
    pub nat_outgoing: bool,
    /// The pool hands out no new addresses.
    #[serde(default)]
    pub disabled: bool,
    /// Routes for this pool are not exported over BGP.
    #[serde(default, rename = "disableBGPExport")]
    pub disable_bgp_export: bool,
    /// Nodes whose pods may take addresses from this pool (all when unset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_selector: Option<LabelSelector>,
    /// Prefix length of the per-node blocks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub block_size: Option<u8>,
}

/// Calico's encapsulation modes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Deserialize, Serialize, JsonSchema)]
pub enum EncapsulationMode {
    /// Always encapsulate.
    Always,
    /// Encapsulate only towards nodes in another subnet.
    CrossSubnet,
    /// Never encapsulate.
    #[default]
    Never,
}
