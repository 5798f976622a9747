//! MP_REACH_NLRI (type 14) and MP_UNREACH_NLRI (type 15). RFC 4760 §3–4, next hops per
//! RFC 2545 §3 (IPv6 global + link-local) and RFC 8950 §3 (IPv4 NLRI over an IPv6 next hop).
//!
//! ```text
//! MP_REACH_NLRI:   AFI (2) | SAFI (1) | NH len (1) | next hop (NH len) | reserved (1) | NLRI…
//! MP_UNREACH_NLRI: AFI (2) | SAFI (1) | withdrawn NLRI…
//! ```
//!
//! tern decodes the unicast and multicast SAFIs of IPv4 and IPv6; MP attributes for other
//! families are kept raw in `PathAttributes::unknown` so they survive a round trip.

use std::net::{Ipv4Addr, Ipv6Addr};

use ipnetwork::IpNetwork;

use crate::packet::capability::{Afi, Safi};

/// The next hop of an MP_REACH_NLRI attribute.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum NextHop {
    /// 4 bytes: an IPv4 next hop (IPv4 NLRI).
    Ipv4(Ipv4Addr),
    /// 16 bytes (global only) or 32 bytes (global then link-local). RFC 2545 §3; also the
    /// next hop of IPv4 NLRI under RFC 8950.
    Ipv6 {
        global: Ipv6Addr,
        link_local: Option<Ipv6Addr>,
    },
}

impl NextHop {
    /// Length of the next hop on the wire.
    pub fn wire_len(&self) -> usize {
        match self {
            Self::Ipv4(_) => 4,
            Self::Ipv6 {
                link_local: None, ..
            } => 16,
            Self::Ipv6 {
                link_local: Some(_),
                ..
            } => 32,
        }
    }
}

/// MP_REACH_NLRI: reachable prefixes of one family and their next hop. RFC 4760 §3.
///
/// `nlri` holds prefixes of `afi` (IPv4 prefixes for [`Afi::Ipv4`] even when the next hop is
/// IPv6, RFC 8950).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MpReach {
    pub afi: Afi,
    pub safi: Safi,
    pub next_hop: NextHop,
    pub nlri: Vec<IpNetwork>,
}

/// MP_UNREACH_NLRI: withdrawn prefixes of one family. RFC 4760 §4. An empty `withdrawn` is
/// the End-of-RIB marker for that family (RFC 4724 §2).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MpUnreach {
    pub afi: Afi,
    pub safi: Safi,
    pub withdrawn: Vec<IpNetwork>,
}
