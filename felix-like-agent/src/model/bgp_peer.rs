//! `BGPPeer` (tern.dev/v1alpha1): a BGP peering for the nodes it selects. Field names and
//! meanings are Calico's (`projectcalico.org/v3` BGPPeer): `node` / `nodeSelector` choose the
//! local nodes (neither = every node), `peerIP` + `asNumber` name an outside router, and
//! `peerSelector` instead names other nodes of the cluster.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{AsNumber, GoDuration, SecretPassword};

/// A BGP peering.
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[kube(
    group = "tern.dev",
    version = "v1alpha1",
    kind = "BGPPeer",
    root = "BgpPeer",
    plural = "bgppeers",
    doc = "A BGP peering for the nodes it selects (Calico BGPPeer semantics).",
    derive = "PartialEq",
    derive = "Default"
)]
#[serde(rename_all = "camelCase")]
pub struct BgpPeerSpec {
    /// The one node this peering applies to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// The nodes this peering applies to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_selector: Option<LabelSelector>,
    /// Address of the remote router: `IP`, `IP:port` or `[IPv6]:port`.
    #[serde(default, rename = "peerIP", skip_serializing_if = "Option::is_none")]
    pub peer_ip: Option<String>,
    /// AS number of the remote router.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub as_number: Option<AsNumber>,
    /// Other cluster nodes to peer with (instead of `peerIP`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer_selector: Option<LabelSelector>,
    /// TCP MD5 password (RFC 2385).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<SecretPassword>,
    /// `UseNodeIP` (default): bind the session to the node's address; `None`: let the kernel
    /// choose.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_address: Option<SourceAddress>,
    /// Keep the original next hop when exporting to this (eBGP) peer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_original_next_hop: Option<bool>,
    /// Graceful-restart time advertised to this peer (RFC 4724 §4.2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_restart_time: Option<GoDuration>,
    /// Keepalive time for this session (RFC 4271 §4.4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keepalive_time: Option<GoDuration>,
    /// GTSM (RFC 5082): the peer is at most this many hops away.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl_security: Option<u8>,
    /// Names of BGPFilter objects applied to this session, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub filters: Vec<String>,
}

/// Which local address a session uses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub enum SourceAddress {
    /// The node's BGP address of the peer's family.
    #[default]
    UseNodeIP,
    /// No explicit source address.
    None,
}
