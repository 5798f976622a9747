//! What we tell one peer about a best path: whether to advertise it at all, and with which
//! attributes. RFC 4271 §5.1 and §9.1.3, the iBGP rules of §9.2.
//!
//! - never back to the peer it came from;
//! - not from one internal peer to another (route reflection comes later);
//! - not to an external peer whose AS is already in the path (it would drop it, §9.1.2);
//! - only in families negotiated with the peer;
//! - external peers: our AS prepended, NEXT_HOP self (unless `keep_original_next_hop` and the
//!   path was learned), no LOCAL_PREF, MED only for our own routes, no ORIGINATOR_ID /
//!   CLUSTER_LIST;
//! - internal peers: AS path unchanged, LOCAL_PREF (100 when absent), NEXT_HOP self for our
//!   own routes and unchanged for learned ones.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use ipnetwork::IpNetwork;

use crate::packet::{Afi, Origin, PathAttributes, Safi};

use super::best::DEFAULT_LOCAL_PREF;
use super::route::{Path, PeerType, RouteSource};

/// What the exporter needs to know about the peer and the session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportContext {
    pub local_asn: u32,
    pub peer_asn: u32,
    pub peer_address: IpAddr,
    pub peer_type: PeerType,
    /// Our IPv4 next hop on this session (the local address, or a configured one).
    pub next_hop_v4: Option<Ipv4Addr>,
    /// Our IPv6 next hop on this session.
    pub next_hop_v6: Option<Ipv6Addr>,
    /// Families negotiated on the session.
    pub families: Vec<(Afi, Safi)>,
    /// Keep the received next hop of learned paths towards external peers (Calico
    /// `keepOriginalNextHop`).
    pub keep_original_next_hop: bool,
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
            address, peer_type, ..
        } => Some((address, peer_type)),
    };
    if let Some((address, peer_type)) = learned_from {
        if address == context.peer_address {
            return None;
        }
        if peer_type == PeerType::Internal && context.peer_type == PeerType::Internal {
            return None;
        }
    }
    let source = &path.attributes;
    let mut attributes = source.for_readvertisement();
    attributes.next_hop = None;
    attributes.origin = Some(source.origin.unwrap_or(Origin::Igp));
    let own_next_hop = || -> Option<IpAddr> {
        match prefix {
            IpNetwork::V4(_) => context.next_hop_v4.map(IpAddr::V4),
            IpNetwork::V6(_) => context.next_hop_v6.map(IpAddr::V6),
        }
    };
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
            match (context.keep_original_next_hop, learned_from, path.next_hop) {
                (true, Some(_), Some(original)) if same_family(prefix, original) => original,
                _ => own_next_hop()?,
            }
        }
        PeerType::Internal => {
            attributes.as_path = Some(source.as_path.clone().unwrap_or_default());
            attributes.local_pref = Some(source.local_pref.unwrap_or(DEFAULT_LOCAL_PREF));
            match (learned_from, path.next_hop) {
                (Some(_), Some(original)) if same_family(prefix, original) => original,
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

/// Attributes (by address: the `Arc`s outlive the cache), source, next hop, IPv4 or not.
type CacheKey = (usize, Option<IpAddr>, Option<IpAddr>, bool);

impl<'a> ExportCache<'a> {
    pub fn new(context: &'a ExportContext) -> Self {
        Self {
            context,
            memory: HashMap::new(),
        }
    }

    /// Same as [`export`].
    pub fn export(&mut self, prefix: &IpNetwork, path: &Path) -> Option<Exported> {
        let key = (
            Arc::as_ptr(&path.attributes) as usize,
            path.source.peer_address(),
            path.next_hop,
            prefix.is_ipv4(),
        );
        self.memory
            .entry(key)
            .or_insert_with(|| export(self.context, prefix, path))
            .clone()
    }
}
