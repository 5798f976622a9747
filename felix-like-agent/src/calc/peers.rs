//! Which sessions this node has, following Calico's rules:
//!
//! - **BGPPeer objects**, in name order, global ones (neither `node` nor `nodeSelector`) first.
//!   `node` / `nodeSelector` choose the local nodes; `peerIP` + `asNumber` name the remote
//!   router, or `peerSelector` names remote nodes (one session per address family both ends
//!   have). A node has sessions only in the families it has an address of (like Calico, which
//!   runs no IPv6 BGP on a node without an IPv6 address); each session carries only its own
//!   family ([`crate::apply::peer_config`]). Every peering between two nodes is also configured on the remote node (the
//!   "reverse" peering), so both ends agree. The first peering to an address and port wins.
//! - **Route reflection**: a node with a cluster ID reflects for every iBGP peer whose cluster
//!   ID differs from its own (RFC 4456).
//! - **Node-to-node mesh** (when `nodeToNodeMeshEnabled`, default true): between nodes that are
//!   not in a route-reflector topology. A node is in one when it is a reflector, or when a
//!   BGPPeer peers it with a reflector. Explicit BGPPeers win over mesh sessions.
//! - Of two nodes, the one with the lower address waits for the other to connect (Calico's
//!   `passive on` towards a node with a higher address).

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use policy::selector::Selector;

use crate::model::{AsNumber, BgpPeer, BgpPeerSpec, SecretPassword, SourceAddress};

use super::intent::{FilterIntent, Password, PeerIntent, PeerSource};
use super::nodes::NodeBgp;
use super::{Context, DEFAULT_LISTEN_PORT};

/// Computes this node's sessions, sorted by address and port.
pub(super) fn peers(context: &Context, problems: &mut Vec<String>) -> Vec<PeerIntent> {
    let resolved: Vec<Resolved> = context
        .snapshot
        .bgp_peers
        .values()
        .filter_map(|peer| match resolve(context, peer) {
            Ok(resolved) => Some(resolved),
            Err(problem) => {
                problems.push(problem);
                None
            }
        })
        .collect();

    let mut peerings = Peerings::default();
    // Global BGPPeers first, so a node-specific peering never shadows a global one.
    for global_pass in [true, false] {
        for peer in resolved.iter().filter(|p| p.global == global_pass) {
            forward_peerings(context, peer, &mut peerings);
        }
    }
    for peer in &resolved {
        reverse_peerings(context, peer, &mut peerings);
    }
    let in_topology = route_reflector_topology(context, &resolved);
    if context.mesh_enabled && !in_topology.contains(&context.local.name) {
        for node in context.nodes.values() {
            if node.name != context.local.name && !in_topology.contains(&node.name) {
                for address in common_addresses(&context.local, node) {
                    peerings.add(Peering {
                        address,
                        port: context.listen_port,
                        asn: node.asn,
                        peer_node: Some(node),
                        source: PeerSource::NodeMesh,
                        spec: None,
                    });
                }
            }
        }
    }
    peerings
        .by_key
        .into_values()
        .filter(|peering| !context.local.addresses().any(|own| own == peering.address))
        .filter_map(|peering| finish(context, peering, problems))
        .collect()
}

/// A BGPPeer with its selectors evaluated.
struct Resolved<'a> {
    name: String,
    spec: &'a BgpPeerSpec,
    global: bool,
    locals: Vec<&'a NodeBgp>,
    remote: Remote<'a>,
}

enum Remote<'a> {
    /// `peerIP`: an address, an optional port, and the nodes (if any) it belongs to.
    Address {
        address: IpAddr,
        port: Option<u16>,
        asn: AsNumber,
        nodes: Vec<&'a NodeBgp>,
    },
    /// `peerSelector`: other nodes.
    Nodes(Vec<&'a NodeBgp>),
}

impl Remote<'_> {
    fn nodes(&self) -> &[&NodeBgp] {
        match self {
            Remote::Address { nodes, .. } | Remote::Nodes(nodes) => nodes,
        }
    }
}

fn resolve<'a>(context: &'a Context, peer: &'a BgpPeer) -> Result<Resolved<'a>, String> {
    let name = peer.metadata.name.clone().unwrap_or_default();
    let spec = &peer.spec;
    let problem = |what: String| format!("BGPPeer {name}: {what}; ignored");
    let select = |selector, field: &str| -> Result<Vec<&'a NodeBgp>, String> {
        let selector =
            Selector::compile(selector).map_err(|error| problem(format!("{field}: {error}")))?;
        Ok(context
            .nodes
            .values()
            .filter(|node| selector.matches(&node.labels))
            .collect())
    };
    let locals = match (&spec.node, &spec.node_selector) {
        (Some(_), Some(_)) => return Err(problem("both node and nodeSelector are set".into())),
        (Some(node), None) => context.nodes.get(node).into_iter().collect(),
        (None, Some(selector)) => select(selector, "nodeSelector")?,
        (None, None) => context.nodes.values().collect(),
    };
    let remote = match (&spec.peer_ip, &spec.peer_selector) {
        (Some(_), Some(_)) => return Err(problem("both peerIP and peerSelector are set".into())),
        (None, None) => return Err(problem("neither peerIP nor peerSelector is set".into())),
        (None, Some(selector)) => Remote::Nodes(select(selector, "peerSelector")?),
        (Some(text), None) => {
            let (address, port) = parse_peer_ip(text).ok_or_else(|| {
                problem(format!("peerIP {text:?} is not IP, IP:port or [IPv6]:port"))
            })?;
            let asn = spec
                .as_number
                .ok_or_else(|| problem("peerIP needs asNumber".into()))?;
            let nodes = context
                .nodes
                .values()
                .filter(|node| node.addresses().any(|a| a == address) && node.asn == asn)
                .filter(|_| port.is_none_or(|port| port == context.listen_port))
                .collect();
            Remote::Address {
                address,
                port,
                asn,
                nodes,
            }
        }
    };
    Ok(Resolved {
        global: spec.node.is_none() && spec.node_selector.is_none(),
        name,
        spec,
        locals,
        remote,
    })
}

/// `198.18.0.254`, `198.18.0.254:1179`, `2001:db8::1`, `[2001:db8::1]:1179`.
fn parse_peer_ip(text: &str) -> Option<(IpAddr, Option<u16>)> {
    let text = text.trim();
    if let Ok(address) = text.parse::<IpAddr>() {
        return Some((address, None));
    }
    let socket: std::net::SocketAddr = text.parse().ok()?;
    Some((socket.ip(), Some(socket.port())))
}

fn forward_peerings<'a>(context: &Context, peer: &Resolved<'a>, peerings: &mut Peerings<'a>) {
    if !peer
        .locals
        .iter()
        .any(|node| node.name == context.local.name)
    {
        return;
    }
    let source = if peer.global {
        PeerSource::Global {
            bgp_peer: peer.name.clone(),
        }
    } else {
        PeerSource::NodeSpecific {
            bgp_peer: peer.name.clone(),
        }
    };
    match &peer.remote {
        Remote::Nodes(nodes) => {
            for node in nodes {
                for address in common_addresses(&context.local, node) {
                    peerings.add(Peering {
                        address,
                        port: context.listen_port,
                        asn: node.asn,
                        peer_node: Some(node),
                        source: source.clone(),
                        spec: Some(peer.spec),
                    });
                }
            }
        }
        Remote::Address {
            address,
            port,
            asn,
            nodes,
        } => {
            let peer_node = nodes.first().copied();
            let default_port = if peer_node.is_some() {
                context.listen_port
            } else {
                DEFAULT_LISTEN_PORT
            };
            peerings.add(Peering {
                address: *address,
                port: port.unwrap_or(default_port),
                asn: *asn,
                peer_node,
                source,
                spec: Some(peer.spec),
            });
        }
    }
}

/// Peerings configured on other nodes towards this node, mirrored here.
fn reverse_peerings<'a>(context: &Context, peer: &Resolved<'a>, peerings: &mut Peerings<'a>) {
    let local = &context.local;
    if !peer
        .remote
        .nodes()
        .iter()
        .any(|node| node.name == local.name)
    {
        return;
    }
    let only_family = match &peer.remote {
        Remote::Address { address, .. } => Some(address.is_ipv4()),
        Remote::Nodes(_) => None,
    };
    for node in &peer.locals {
        for address in common_addresses(local, node) {
            if only_family.is_some_and(|ipv4| ipv4 != address.is_ipv4()) {
                continue;
            }
            peerings.add(Peering {
                address,
                port: context.listen_port,
                asn: node.asn,
                peer_node: Some(node),
                source: PeerSource::NodeSpecific {
                    bgp_peer: peer.name.clone(),
                },
                spec: Some(peer.spec),
            });
        }
    }
}

/// Nodes that must not join the mesh: reflectors, and nodes a BGPPeer pairs with one.
fn route_reflector_topology(context: &Context, resolved: &[Resolved]) -> BTreeSet<String> {
    let mut members: BTreeSet<String> = context
        .nodes
        .values()
        .filter(|node| node.is_route_reflector())
        .map(|node| node.name.clone())
        .collect();
    for peer in resolved {
        let remotes = peer.remote.nodes();
        if remotes.iter().any(|node| node.is_route_reflector()) {
            members.extend(peer.locals.iter().map(|node| node.name.clone()));
        }
        if peer.locals.iter().any(|node| node.is_route_reflector()) {
            members.extend(remotes.iter().map(|node| node.name.clone()));
        }
    }
    members
}

/// Addresses of `remote` in the families `local` also has.
fn common_addresses(local: &NodeBgp, remote: &NodeBgp) -> Vec<IpAddr> {
    remote
        .addresses()
        .filter(|address| local.address_like(*address).is_some())
        .collect()
}

/// A session before its parameters are resolved.
struct Peering<'a> {
    address: IpAddr,
    port: u16,
    asn: AsNumber,
    peer_node: Option<&'a NodeBgp>,
    source: PeerSource,
    spec: Option<&'a BgpPeerSpec>,
}

/// Peerings by address and port; the first one added wins.
#[derive(Default)]
struct Peerings<'a> {
    by_key: BTreeMap<(IpAddr, u16), Peering<'a>>,
}

impl<'a> Peerings<'a> {
    fn add(&mut self, peering: Peering<'a>) {
        self.by_key
            .entry((peering.address, peering.port))
            .or_insert(peering);
    }
}

/// Fills in passwords, filters and the other session parameters.
fn finish(context: &Context, peering: Peering, problems: &mut Vec<String>) -> Option<PeerIntent> {
    let local = &context.local;
    let owner = match &peering.source {
        PeerSource::NodeMesh => "node-to-node mesh".to_string(),
        PeerSource::Global { bgp_peer } | PeerSource::NodeSpecific { bgp_peer } => {
            format!("BGPPeer {bgp_peer}")
        }
    };
    if local.address_like(peering.address).is_none() {
        let family = if peering.address.is_ipv4() {
            "IPv4"
        } else {
            "IPv6"
        };
        problems.push(format!(
            "{owner}: node {} has no {family} address; session to {} not configured",
            local.name, peering.address
        ));
        return None;
    }
    let spec = peering.spec;
    let password_ref = match spec {
        Some(spec) => spec.password.as_ref(),
        None => context.global.node_mesh_password.as_ref(),
    };
    let password = match password_ref {
        Some(reference) => match lookup_password(context, reference) {
            Ok(password) => password,
            Err(problem) => {
                problems.push(format!(
                    "{owner}: {problem}; session to {} not configured",
                    peering.address
                ));
                return None;
            }
        },
        None => None,
    };
    let mut filters = Vec::new();
    for name in spec.map(|spec| spec.filters.as_slice()).unwrap_or_default() {
        match context.snapshot.bgp_filter(name) {
            Some(filter) => match filter.spec.validate() {
                Ok(()) => filters.push(FilterIntent {
                    name: name.clone(),
                    spec: filter.spec.clone(),
                }),
                Err(reason) => problems.push(format!("BGPFilter {name}: {reason}; not applied")),
            },
            None => problems.push(format!("{owner}: BGPFilter {name} does not exist; skipped")),
        }
    }
    let source_address = match spec
        .and_then(|spec| spec.source_address)
        .unwrap_or_default()
    {
        SourceAddress::UseNodeIP => local.address_like(peering.address),
        SourceAddress::None => None,
    };
    let external = peering.asn != local.asn;
    let route_reflector_client = !external
        && local.cluster_id.is_some()
        && peering.peer_node.and_then(|node| node.cluster_id) != local.cluster_id;
    let passive = peering.peer_node.is_some()
        && local
            .address_like(peering.address)
            .is_some_and(|own| peering.address > own);
    let max_restart_time = match spec {
        Some(spec) => spec.max_restart_time,
        None => context.global.node_mesh_max_restart_time,
    };
    Some(PeerIntent {
        address: peering.address,
        port: peering.port,
        asn: peering.asn,
        source: peering.source,
        peer_node: peering.peer_node.map(|node| node.name.clone()),
        password,
        ttl_security: spec.and_then(|spec| spec.ttl_security),
        keep_original_next_hop: external
            && spec
                .and_then(|spec| spec.keep_original_next_hop)
                .unwrap_or(false),
        max_restart_time: max_restart_time.map(|d| d.as_duration()),
        keepalive_time: spec
            .and_then(|spec| spec.keepalive_time)
            .map(|d| d.as_duration()),
        source_address,
        route_reflector_client,
        passive,
        filters,
    })
}

/// The password a `secretKeyRef` points at, from a Secret in tern's namespace.
fn lookup_password(
    context: &Context,
    reference: &SecretPassword,
) -> Result<Option<Password>, String> {
    let Some(key_ref) = &reference.secret_key_ref else {
        return Ok(None);
    };
    let namespace = &context.options.secret_namespace;
    let secret = context
        .snapshot
        .secret(namespace, &key_ref.name)
        .ok_or_else(|| format!("Secret {namespace}/{} does not exist", key_ref.name))?;
    if let Some(value) = secret
        .string_data
        .as_ref()
        .and_then(|d| d.get(&key_ref.key))
    {
        return Ok(Some(Password(value.clone())));
    }
    if let Some(value) = secret.data.as_ref().and_then(|d| d.get(&key_ref.key)) {
        let text = String::from_utf8(value.0.clone()).map_err(|_| {
            format!(
                "Secret {namespace}/{} key {} is not UTF-8",
                key_ref.name, key_ref.key
            )
        })?;
        return Ok(Some(Password(text)));
    }
    Err(format!(
        "Secret {namespace}/{} has no key {}",
        key_ref.name, key_ref.key
    ))
}
