//! What this node should do in BGP: its identity, its sessions and the prefixes it originates.
//! Produced by [`super::calculate`]; consumed by the speaker wiring through
//! [`crate::apply::diff_intents`].

use std::collections::BTreeSet;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use ipnetwork::IpNetwork;
use serde::{Serialize, Serializer};

use crate::model::{AsNumber, BgpFilterSpec, GoDuration};

use super::community::Community;

/// This node's BGP intent. Serializes (camelCase) for `ternd intent`; passwords show as
/// `<redacted>`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeIntent {
    /// The node's name.
    pub node: String,
    /// Local AS (RFC 4271 §4.2 "My Autonomous System"; RFC 6793 four-octet).
    pub asn: AsNumber,
    /// BGP Identifier (RFC 4271 §4.2): the node's IPv4 address.
    pub router_id: Ipv4Addr,
    /// TCP port to listen on.
    pub listen_port: u16,
    /// The node's IPv4 BGP address.
    pub ipv4_address: Option<Ipv4Addr>,
    /// The node's IPv6 BGP address.
    pub ipv6_address: Option<Ipv6Addr>,
    /// Set when this node is a route reflector (RFC 4456 §7 CLUSTER_ID).
    pub route_reflector_cluster_id: Option<Ipv4Addr>,
    /// Sessions, sorted by address and port; at most one per address and port.
    pub peers: Vec<PeerIntent>,
    /// Originated prefixes, sorted; at most one per prefix.
    pub advertisements: Vec<Advertisement>,
    /// Objects that could not be used (bad selector, missing Secret, …), in words.
    pub problems: Vec<String>,
}

impl NodeIntent {
    /// The peer at this address and port.
    pub fn peer(&self, address: IpAddr) -> Option<&PeerIntent> {
        self.peers.iter().find(|peer| peer.address == address)
    }

    /// The advertisement of exactly this prefix.
    pub fn advertisement(&self, prefix: IpNetwork) -> Option<&Advertisement> {
        self.advertisements.iter().find(|a| a.prefix == prefix)
    }
}

/// Why a session exists; `ternctl` shows it as the peer type. Serializes as
/// `{type: "node specific", bgpPeer: NAME}`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PeerSource {
    /// The node-to-node mesh.
    NodeMesh,
    /// A BGPPeer that applies to every node.
    Global {
        /// The BGPPeer's name.
        bgp_peer: String,
    },
    /// A BGPPeer that applies to selected nodes (or the reverse side of one).
    NodeSpecific {
        /// The BGPPeer's name.
        bgp_peer: String,
    },
}

impl Serialize for PeerSource {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("type", self.type_name())?;
        match self {
            PeerSource::NodeMesh => {}
            PeerSource::Global { bgp_peer } | PeerSource::NodeSpecific { bgp_peer } => {
                map.serialize_entry("bgpPeer", bgp_peer)?;
            }
        }
        map.end()
    }
}

impl PeerSource {
    /// Calico's words for the peer type: `node-to-node mesh`, `global`, `node specific`.
    pub fn type_name(&self) -> &'static str {
        match self {
            PeerSource::NodeMesh => "node-to-node mesh",
            PeerSource::Global { .. } => "global",
            PeerSource::NodeSpecific { .. } => "node specific",
        }
    }
}

/// A TCP MD5 password (RFC 2385). Its `Debug` output never shows the value.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Password(pub String);

impl Serialize for Password {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str("<redacted>")
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// A resolved BGPFilter attached to a session.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FilterIntent {
    /// The BGPFilter's name.
    pub name: String,
    /// Its rules.
    pub spec: BgpFilterSpec,
}

/// One BGP session.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PeerIntent {
    /// Remote address.
    pub address: IpAddr,
    /// Remote TCP port.
    pub port: u16,
    /// Remote AS.
    pub asn: AsNumber,
    /// Why the session exists.
    pub source: PeerSource,
    /// The remote node's name, when the peer is a node of this cluster.
    pub peer_node: Option<String>,
    /// TCP MD5 password.
    pub password: Option<Password>,
    /// GTSM hop count (RFC 5082).
    pub ttl_security: Option<u8>,
    /// Keep the original next hop on export (only ever set for eBGP peers).
    pub keep_original_next_hop: bool,
    /// Graceful-restart time to advertise (RFC 4724 §4.2).
    #[serde(serialize_with = "serialize_duration")]
    pub max_restart_time: Option<Duration>,
    /// Keepalive time (RFC 4271 §4.4).
    #[serde(serialize_with = "serialize_duration")]
    pub keepalive_time: Option<Duration>,
    /// Local address to bind the session to.
    pub source_address: Option<IpAddr>,
    /// The peer is a route-reflector client of this node (RFC 4456).
    pub route_reflector_client: bool,
    /// Wait for the peer to connect (the node with the lower address waits, so two nodes
    /// never race to open the same session).
    pub passive: bool,
    /// Import/export filters, in order.
    pub filters: Vec<FilterIntent>,
}

impl PeerIntent {
    /// Whether the session is iBGP from the point of view of a speaker in `local_asn`.
    pub fn is_internal(&self, local_asn: AsNumber) -> bool {
        self.asn == local_asn
    }

    /// Whether changing from `self` to `other` needs the session to be torn down and
    /// re-established (as opposed to re-evaluating routes only).
    pub fn session_differs(&self, other: &PeerIntent) -> bool {
        self.address != other.address
            || self.port != other.port
            || self.asn != other.asn
            || self.password != other.password
            || self.ttl_security != other.ttl_security
            || self.max_restart_time != other.max_restart_time
            || self.keepalive_time != other.keepalive_time
            || self.source_address != other.source_address
            || self.route_reflector_client != other.route_reflector_client
            || self.passive != other.passive
    }
}

/// Why a prefix is originated.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum AdvertisementOrigin {
    /// The node's `spec.podCIDRs`.
    PodCidr,
    /// A `serviceClusterIPs` range.
    ServiceClusterIpRange,
    /// A `serviceExternalIPs` range.
    ServiceExternalIpRange,
    /// A `serviceLoadBalancerIPs` range.
    ServiceLoadBalancerIpRange,
    /// A single address of a Service with `externalTrafficPolicy: Local` and a ready
    /// endpoint on this node (`namespace/name`).
    LocalService(String),
}

/// One originated prefix.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Advertisement {
    /// The prefix (network address, host bits zero).
    pub prefix: IpNetwork,
    /// Communities to attach (RFC 1997 / RFC 8092).
    pub communities: BTreeSet<Community>,
    /// Every reason this prefix is originated.
    pub origins: BTreeSet<AdvertisementOrigin>,
}

/// Durations as Go-style strings (`120s`), like the manifests.
fn serialize_duration<S: Serializer>(
    duration: &Option<Duration>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match duration {
        Some(duration) => serializer.collect_str(&GoDuration(*duration)),
        None => serializer.serialize_none(),
    }
}
