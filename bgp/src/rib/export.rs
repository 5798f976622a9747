//! What we tell one peer about a best path: whether to advertise it at all, and with which
//! attributes. RFC 4271 §5.1 and §9.1.3, the iBGP rules of §9.2, route reflection (RFC 4456).
//!
//! - never back to the peer it came from;
//! - NO_ADVERTISE never, NO_EXPORT and NO_EXPORT_SUBCONFED not to external peers (RFC 1997);
//! - to internal peers, iBGP-learned paths only by reflection (see [`super::reflection`]);
//! - not to an external peer whose AS is already in the path (it would drop it, §9.1.2);
//! - only in families negotiated with the peer;
//! - then the peer's export filters ([`crate::filter`]) on the path as in the Loc-RIB;
//! - external peers: our AS prepended, NEXT_HOP self (unless `keep_original_next_hop` and the
//!   path was learned), no LOCAL_PREF, MED only for our own routes, no ORIGINATOR_ID /
//!   CLUSTER_LIST;
//! - internal peers: AS path unchanged, LOCAL_PREF (100 when absent), NEXT_HOP self for our
//!   own routes and with `next_hop_self`, else unchanged (reflected paths keep theirs);
//!   reflected paths get ORIGINATOR_ID and our cluster ID in CLUSTER_LIST.
//!
//! The result depends only on the context and the path, so the speaker derives what it
//! advertised before from the previous best path instead of keeping an Adj-RIB-Out.

use foldhash::{HashMap, HashMapExt};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use ipnetwork::IpNetwork;

use crate::filter::{self, Candidate, Direction, Filter, Operation, Verdict};
use crate::packet::{Afi, Community, Origin, PathAttributes, Safi};

use super::decision::DEFAULT_LOCAL_PREF;
use super::reflection::{is_reflection, may_advertise_internal, reflect};
use super::route::{Path, PeerType, RouteSource};

/// What the exporter needs to know about us, the peer and the session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportContext {
    pub local_asn: u32,
    /// Our router ID.
    pub router_id: Ipv4Addr,
    /// Our cluster ID (RFC 4456 §7), put in CLUSTER_LIST when reflecting.
    pub cluster_id: Ipv4Addr,
    pub peer_asn: u32,
    pub peer_address: IpAddr,
    /// The peer's BGP identifier (a reflected path is not sent back to its originator).
    pub peer_router_id: Option<Ipv4Addr>,
    pub peer_type: PeerType,
    /// The peer is our route reflector client (RFC 4456).
    pub route_reflector_client: bool,
    /// Our IPv4 next hop on this session (the local address, or a configured one).
    pub next_hop_v4: Option<Ipv4Addr>,
    /// Our IPv6 next hop on this session.
    pub next_hop_v6: Option<Ipv6Addr>,
    /// Families negotiated on the session.
    pub families: Vec<(Afi, Safi)>,
    /// Keep the received next hop of learned paths towards external peers (Calico
    /// `keepOriginalNextHop`).
    pub keep_original_next_hop: bool,
    /// Next hop self towards internal peers, for learned and reflected paths too.
    pub next_hop_self: bool,
    /// The peer's filters; only their export rules are used here.
    pub filters: Vec<Arc<Filter>>,
}

impl ExportContext {
    /// A context with no filters, no reflection and no next hops: fill in what matters.
    pub fn new(local_asn: u32, router_id: Ipv4Addr, peer_asn: u32, peer_address: IpAddr) -> Self {
        Self {
            local_asn,
            router_id,
            cluster_id: router_id,
            peer_asn,
            peer_address,
            peer_router_id: None,
            peer_type: PeerType::between(local_asn, peer_asn),
            route_reflector_client: false,
            next_hop_v4: None,
            next_hop_v6: None,
            families: vec![(Afi::Ipv4, Safi::Unicast), (Afi::Ipv6, Safi::Unicast)],
            keep_original_next_hop: false,
            next_hop_self: false,
            filters: Vec::new(),
        }
    }
}

/// A path as advertised to one peer: the attributes (without NEXT_HOP; the UPDATE builder
/// places it) and the next hop.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Exported {
    pub attributes: Arc<PathAttributes>,
    pub next_hop: IpAddr,
}

/// The advertisement of `path` for `prefix` to the peer, or `None` when it must not get it.
pub fn export(context: &ExportContext, prefix: &IpNetwork, path: &Path) -> Option<Exported> {
    match export_verdict(context, prefix, path) {
        Verdict::Reject => None,
        Verdict::Accept(operations) => export_filtered(context, prefix, path, operations),
    }
}

/// The export filters' verdict on the path.
fn export_verdict<'a>(context: &'a ExportContext, prefix: &IpNetwork, path: &Path) -> Verdict<'a> {
    if context.filters.is_empty() {
        return Verdict::Accept(&[]);
    }
    filter::evaluate(
        &context.filters,
        Direction::Export,
        &Candidate {
            prefix: *prefix,
            attributes: &path.attributes,
            peer_type: context.peer_type,
            learned: path.source != RouteSource::Local,
        },
    )
}

/// [`export`] after the filters accepted the path with `operations`.
fn export_filtered(
    context: &ExportContext,
    prefix: &IpNetwork,
    path: &Path,
    operations: &[Operation],
) -> Option<Exported> {
    let family = match prefix {
        IpNetwork::V4(_) => (Afi::Ipv4, Safi::Unicast),
        IpNetwork::V6(_) => (Afi::Ipv6, Safi::Unicast),
    };
    if !context.families.contains(&family) {
        return None;
    }
    let learned_from = match path.source {
        RouteSource::Local => None,
        RouteSource::Peer {
            address, router_id, ..
        } => Some((address, router_id)),
    };
    if learned_from.is_some_and(|(address, _)| address == context.peer_address) {
        return None;
    }
    let communities = &path.attributes.communities;
    if communities.contains(&Community::NO_ADVERTISE) {
        return None;
    }
    let reflecting = context.peer_type == PeerType::Internal && is_reflection(&path.source);
    if context.peer_type == PeerType::Internal {
        if !may_advertise_internal(&path.source, context.route_reflector_client) {
            return None;
        }
        if reflecting
            && path.attributes.originator_id.is_some()
            && path.attributes.originator_id == context.peer_router_id
        {
            return None;
        }
    } else if communities.contains(&Community::NO_EXPORT)
        || communities.contains(&Community::NO_EXPORT_SUBCONFED)
    {
        return None;
    }
    let filtered;
    let source: &PathAttributes = if operations.is_empty() {
        &path.attributes
    } else {
        filtered = filter::apply(operations, &path.attributes);
        &filtered
    };
    let mut attributes = source.for_readvertisement();
    attributes.next_hop = None;
    attributes.origin = Some(source.origin.unwrap_or(Origin::Igp));
    let own_next_hop = || -> Option<IpAddr> {
        match prefix {
            IpNetwork::V4(_) => context.next_hop_v4.map(IpAddr::V4),
            IpNetwork::V6(_) => context.next_hop_v6.map(IpAddr::V6),
        }
    };
    let original = path.next_hop.filter(|hop| same_family(prefix, *hop));
    let next_hop = match context.peer_type {
        PeerType::External => {
            let as_path = source.as_path.clone().unwrap_or_default();
            if as_path.contains(context.peer_asn) {
                return None;
            }
            attributes.as_path = Some(as_path.prepend(context.local_asn));
            attributes.local_pref = None;
            attributes.originator_id = None;
            attributes.cluster_list.clear();
            if learned_from.is_some() {
                attributes.med = None;
            }
            match (context.keep_original_next_hop, learned_from, original) {
                (true, Some(_), Some(original)) => original,
                _ => own_next_hop()?,
            }
        }
        PeerType::Internal => {
            attributes.as_path = Some(source.as_path.clone().unwrap_or_default());
            attributes.local_pref = Some(source.local_pref.unwrap_or(DEFAULT_LOCAL_PREF));
            match learned_from {
                Some((_, router_id)) if reflecting => {
                    reflect(&mut attributes, router_id, context.cluster_id);
                }
                _ => {
                    attributes.originator_id = None;
                    attributes.cluster_list.clear();
                }
            }
            match (context.next_hop_self, learned_from, original) {
                (false, Some(_), Some(original)) => original,
                _ => own_next_hop()?,
            }
        }
    };
    Some(Exported {
        attributes: Arc::new(attributes),
        next_hop,
    })
}

fn same_family(prefix: &IpNetwork, address: IpAddr) -> bool {
    matches!(
        (prefix, address),
        (IpNetwork::V4(_), IpAddr::V4(_)) | (IpNetwork::V6(_), IpAddr::V6(_))
    )
}

/// [`export`] with memory: paths that share their attributes (every prefix of one UPDATE, or
/// every local route with default attributes) are exported once, and the results share one
/// `Arc`, which also makes UPDATE packing cheaper. Lives for one batch of work.
#[derive(Debug)]
pub struct ExportCache<'a> {
    context: &'a ExportContext,
    memory: HashMap<CacheKey, Option<Exported>>,
}

/// Attributes (by address: the `Arc`s outlive the cache), source, next hop, IPv4 or not,
/// the filter operations applied (by address, 0 for none).
type CacheKey = (usize, Option<IpAddr>, Option<IpAddr>, bool, usize);

impl<'a> ExportCache<'a> {
    pub fn new(context: &'a ExportContext) -> Self {
        Self {
            context,
            memory: HashMap::new(),
        }
    }

    /// Same as [`export`].
    pub fn export(&mut self, prefix: &IpNetwork, path: &Path) -> Option<Exported> {
        let verdict = export_verdict(self.context, prefix, path);
        let Verdict::Accept(operations) = verdict else {
            return None;
        };
        let key = (
            Arc::as_ptr(&path.attributes) as usize,
            path.source.peer_address(),
            path.next_hop,
            prefix.is_ipv4(),
            verdict.operations_key(),
        );
        self.memory
            .entry(key)
            .or_insert_with(|| export_filtered(self.context, prefix, path, operations))
            .clone()
    }
}
