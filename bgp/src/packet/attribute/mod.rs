//! Path attributes. RFC 4271 §4.3 and §5, with the error handling of RFC 7606.
//!
//! ```text
//! +---------------+---------------+---------------------------+--------------+
//! | flags (1)     | type code (1) | length (1, or 2 if E bit) | value …      |
//! +---------------+---------------+---------------------------+--------------+
//! flags: O(0x80) optional, T(0x40) transitive, P(0x20) partial, E(0x10) extended length
//! ```
//!
//! [`PathAttributes`] is the attribute set shared by every prefix of an UPDATE; it is
//! `Clone + Eq + Hash` so the RIB can intern it. MP_REACH_NLRI / MP_UNREACH_NLRI are per-family
//! and live on [`crate::packet::Update`] instead. AS4_PATH / AS4_AGGREGATOR never appear here:
//! from a 2-octet peer they are merged into `as_path` / `aggregator` on decode (RFC 6793
//! §4.2.3) and regenerated on encode.

pub mod as_path;
pub mod community;
pub(crate) mod decode;
pub(crate) mod encode;
pub mod mp;

use std::net::Ipv4Addr;

use bytes::Bytes;

pub use as_path::{AsPath, AsSegment, AsSegmentType};
pub use community::{Community, ExtendedCommunity, LargeCommunity};
pub use mp::{MpReach, MpUnreach, NextHop};

/// Attribute flag bits. RFC 4271 §4.3.
pub mod flags {
    pub const OPTIONAL: u8 = 0x80;
    pub const TRANSITIVE: u8 = 0x40;
    pub const PARTIAL: u8 = 0x20;
    pub const EXTENDED_LENGTH: u8 = 0x10;
}

/// Attribute type codes (IANA "BGP Path Attributes").
pub mod type_code {
    pub const ORIGIN: u8 = 1;
    pub const AS_PATH: u8 = 2;
    pub const NEXT_HOP: u8 = 3;
    pub const MULTI_EXIT_DISC: u8 = 4;
    pub const LOCAL_PREF: u8 = 5;
    pub const ATOMIC_AGGREGATE: u8 = 6;
    pub const AGGREGATOR: u8 = 7;
    pub const COMMUNITIES: u8 = 8;
    pub const ORIGINATOR_ID: u8 = 9;
    pub const CLUSTER_LIST: u8 = 10;
    pub const MP_REACH_NLRI: u8 = 14;
    pub const MP_UNREACH_NLRI: u8 = 15;
    pub const EXTENDED_COMMUNITIES: u8 = 16;
    pub const AS4_PATH: u8 = 17;
    pub const AS4_AGGREGATOR: u8 = 18;
    pub const LARGE_COMMUNITY: u8 = 32;
}

/// ORIGIN (type 1). RFC 4271 §4.3 and §5.1.1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Origin {
    /// 0: learned from an interior protocol.
    Igp,
    /// 1: learned via EGP.
    Egp,
    /// 2: learned some other way.
    Incomplete,
}

impl Origin {
    /// The wire value.
    pub fn value(self) -> u8 {
        match self {
            Self::Igp => 0,
            Self::Egp => 1,
            Self::Incomplete => 2,
        }
    }

    /// The origin for a wire value, if defined.
    pub fn from_value(value: u8) -> Option<Self> {
        match value {
            0 => Some(Self::Igp),
            1 => Some(Self::Egp),
            2 => Some(Self::Incomplete),
            _ => None,
        }
    }
}

/// AGGREGATOR (type 7): the AS and BGP identifier of the speaker that aggregated the route.
/// RFC 4271 §5.1.7; 4-octet AS per RFC 6793.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Aggregator {
    pub asn: u32,
    pub address: Ipv4Addr,
}

/// An attribute tern does not interpret, kept as received. RFC 4271 §5 and §9.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RawAttribute {
    /// Flags as received (the Extended Length bit is recomputed on encode).
    pub flags: u8,
    pub type_code: u8,
    pub value: Bytes,
}

impl RawAttribute {
    /// Optional (the O bit).
    pub fn is_optional(&self) -> bool {
        self.flags & flags::OPTIONAL != 0
    }

    /// Transitive (the T bit).
    pub fn is_transitive(&self) -> bool {
        self.flags & flags::TRANSITIVE != 0
    }
}

/// The path attributes of an UPDATE, typed. RFC 4271 §5.1, RFC 1997, RFC 4360, RFC 4456,
/// RFC 8092. Absent attributes are `None` (or empty lists, or `false`).
///
/// Empty COMMUNITIES, EXTENDED COMMUNITIES, LARGE_COMMUNITY and CLUSTER_LIST attributes are
/// malformed (RFC 7606 §7.8, §7.10, §7.14, RFC 8092 §6), so "absent" and "empty" are the same
/// here and an empty list is not encoded.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct PathAttributes {
    /// ORIGIN (1), well-known mandatory.
    pub origin: Option<Origin>,
    /// AS_PATH (2), well-known mandatory; 4-octet ASNs after AS4_PATH merging.
    pub as_path: Option<AsPath>,
    /// NEXT_HOP (3), well-known mandatory when the UPDATE has IPv4 NLRI in its body.
    pub next_hop: Option<Ipv4Addr>,
    /// MULTI_EXIT_DISC (4), optional non-transitive.
    pub med: Option<u32>,
    /// LOCAL_PREF (5), well-known (iBGP only).
    pub local_pref: Option<u32>,
    /// ATOMIC_AGGREGATE (6), well-known discretionary, no value.
    pub atomic_aggregate: bool,
    /// AGGREGATOR (7), optional transitive (merged with AS4_AGGREGATOR from 2-octet peers).
    pub aggregator: Option<Aggregator>,
    /// COMMUNITIES (8), optional transitive. RFC 1997.
    pub communities: Vec<Community>,
    /// ORIGINATOR_ID (9), optional non-transitive. RFC 4456 §8.
    pub originator_id: Option<Ipv4Addr>,
    /// CLUSTER_LIST (10), optional non-transitive. RFC 4456 §8.
    pub cluster_list: Vec<Ipv4Addr>,
    /// EXTENDED COMMUNITIES (16), optional transitive. RFC 4360.
    pub extended_communities: Vec<ExtendedCommunity>,
    /// LARGE_COMMUNITY (32), optional transitive. RFC 8092.
    pub large_communities: Vec<LargeCommunity>,
    /// Attributes tern does not interpret, in wire order. Use
    /// [`PathAttributes::unknown_to_pass_on`] when re-advertising.
    pub unknown: Vec<RawAttribute>,
}

impl PathAttributes {
    /// The unknown attributes to include when this route is advertised to another peer:
    /// optional transitive ones, with the Partial bit set; optional non-transitive ones are
    /// dropped. RFC 4271 §5 and §9.1.4 (last paragraph of §5).
    pub fn unknown_to_pass_on(&self) -> impl Iterator<Item = RawAttribute> + '_ {
        self.unknown
            .iter()
            .filter(|attribute| attribute.is_optional() && attribute.is_transitive())
            .map(|attribute| RawAttribute {
                flags: attribute.flags | flags::PARTIAL,
                type_code: attribute.type_code,
                value: attribute.value.clone(),
            })
    }

    /// A copy prepared for advertisement to another peer: unknown attributes filtered and
    /// marked per [`PathAttributes::unknown_to_pass_on`].
    pub fn for_readvertisement(&self) -> Self {
        let mut copy = self.clone();
        copy.unknown = self.unknown_to_pass_on().collect();
        copy
    }
}
