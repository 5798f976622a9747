//! calc: objects → this node's BGP intent. A pure function of the snapshot and the node's
//! name: the same objects always give the same intent, so it is tested without sockets.
//!
//! Global settings come from the BGPConfiguration named `default` (AS 64512, mesh enabled and
//! port 179 when unset); node identity from annotations (see [`nodes`]); sessions from the
//! mesh, route-reflector roles and BGPPeers (see [`peers`]); originated prefixes from pod
//! CIDRs and Services (see [`advertisements`]). An object that cannot be used is skipped and
//! described in [`NodeIntent::problems`]; only problems with this node itself are errors.

mod advertisements;
mod community;
mod intent;
mod nodes;
mod peers;

use std::collections::BTreeMap;

use crate::model::{BgpConfigurationSpec, DEFAULT_AS_NUMBER};
use crate::snapshot::Snapshot;

pub use advertisements::EXCLUDE_FROM_LOAD_BALANCERS_LABEL;
pub use community::{Community, CommunityError};
pub use intent::{
    Advertisement, AdvertisementOrigin, FilterIntent, NodeIntent, Password, PeerIntent, PeerSource,
};
pub use nodes::{
    AS_NUMBER_ANNOTATION, CLUSTER_ID_ANNOTATION, IPV4_ADDRESS_ANNOTATION, IPV6_ADDRESS_ANNOTATION,
    NodeBgp,
};

/// The default BGP port (RFC 4271 §8.2.1).
pub const DEFAULT_LISTEN_PORT: u16 = 179;

/// The namespace tern runs in, where BGP password Secrets live.
pub const DEFAULT_SECRET_NAMESPACE: &str = "kube-system";

/// Settings of the calculation that are not objects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CalcOptions {
    /// Namespace of the Secrets that BGPPeer passwords reference.
    pub secret_namespace: String,
}

impl Default for CalcOptions {
    fn default() -> Self {
        CalcOptions {
            secret_namespace: DEFAULT_SECRET_NAMESPACE.to_string(),
        }
    }
}

/// This node cannot run BGP with the current objects.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalcError {
    /// No Node object has this node's name.
    #[error("node {0} is not in the datastore")]
    NodeNotFound(String),
    /// An annotation of this node cannot be read.
    #[error("{0}")]
    BadNodeIdentity(String),
    /// The node has no IPv4 address to use as router ID.
    #[error(
        "node {0} has no IPv4 address for its router ID (set annotation tern.dev/bgp-ipv4-address or an InternalIP)"
    )]
    NoRouterId(String),
}

/// Everything the sub-calculations share.
pub(crate) struct Context<'a> {
    snapshot: &'a Snapshot,
    options: &'a CalcOptions,
    global: BgpConfigurationSpec,
    nodes: BTreeMap<String, NodeBgp>,
    local: NodeBgp,
    listen_port: u16,
    mesh_enabled: bool,
}

/// This node's BGP intent, with default options.
pub fn calculate(snapshot: &Snapshot, node_name: &str) -> Result<NodeIntent, CalcError> {
    calculate_with(snapshot, node_name, &CalcOptions::default())
}

/// This node's BGP intent.
pub fn calculate_with(
    snapshot: &Snapshot,
    node_name: &str,
    options: &CalcOptions,
) -> Result<NodeIntent, CalcError> {
    let global = snapshot
        .global_bgp_configuration()
        .map(|config| config.spec.clone())
        .unwrap_or_default();
    let global_asn = global.as_number.unwrap_or(DEFAULT_AS_NUMBER);
    let mut problems = Vec::new();

    let own = snapshot
        .node(node_name)
        .ok_or_else(|| CalcError::NodeNotFound(node_name.to_string()))?;
    let local = NodeBgp::from_node(own, global_asn).map_err(CalcError::BadNodeIdentity)?;
    let router_id = local
        .ipv4
        .ok_or_else(|| CalcError::NoRouterId(node_name.to_string()))?;

    let mut nodes = BTreeMap::new();
    for node in snapshot.nodes.values() {
        match NodeBgp::from_node(node, global_asn) {
            Ok(node) => {
                nodes.insert(node.name.clone(), node);
            }
            Err(problem) => problems.push(format!("{problem}; node ignored for peering")),
        }
    }

    let context = Context {
        snapshot,
        options,
        listen_port: global.listen_port.unwrap_or(DEFAULT_LISTEN_PORT),
        mesh_enabled: global.node_to_node_mesh_enabled.unwrap_or(true),
        global,
        nodes,
        local,
    };
    let peers = peers::peers(&context, &mut problems);
    let advertisements = advertisements::advertisements(&context, &mut problems);
    problems.sort();
    problems.dedup();
    Ok(NodeIntent {
        node: node_name.to_string(),
        asn: context.local.asn,
        router_id,
        listen_port: context.listen_port,
        ipv4_address: context.local.ipv4,
        ipv6_address: context.local.ipv6,
        route_reflector_cluster_id: context.local.cluster_id,
        peers,
        advertisements,
        problems,
    })
}
