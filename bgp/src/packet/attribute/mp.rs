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

// ---- wire codec -------------------------------------------------------------------------

use bytes::{BufMut, BytesMut};

use crate::packet::error::{DecodeError, ErrorReason};
use crate::packet::nlri;
use crate::packet::reader::Reader;

/// True for the families whose MP attributes tern decodes: IPv4/IPv6 unicast and multicast.
pub(crate) fn is_supported(afi: Afi, safi: Safi) -> bool {
    matches!(afi, Afi::Ipv4 | Afi::Ipv6) && matches!(safi, Safi::Unicast | Safi::Multicast)
}

/// The AFI and SAFI at the start of an MP attribute value, without consuming them.
pub(crate) fn peek_family(value: &[u8]) -> Option<(Afi, Safi)> {
    match value {
        [a, b, s, ..] => Some((Afi::from(u16::from_be_bytes([*a, *b])), Safi::from(*s))),
        _ => None,
    }
}

/// Decode an MP_REACH_NLRI value of a supported family. The reader's action applies to every
/// error: a next hop length that does not fit the family or an unparseable NLRI leaves the
/// prefixes unknown, so only a session reset is possible (RFC 7606 §7.11, §5.3).
pub(crate) fn decode_mp_reach(mut r: Reader<'_>) -> Result<MpReach, DecodeError> {
    let afi = Afi::from(r.u16("MP_REACH_NLRI AFI")?);
    let safi = Safi::from(r.u8("MP_REACH_NLRI SAFI")?);
    let length_at = r.clone();
    let next_hop_len = r.u8("MP_REACH_NLRI next hop length")?;
    let next_hop = match (afi, next_hop_len) {
        (Afi::Ipv4, 4) => NextHop::Ipv4(r.ipv4("MP_REACH_NLRI next hop")?),
        // 16 or 32 bytes: IPv6 NLRI (RFC 2545 §3) or IPv4 NLRI over IPv6 (RFC 8950 §3).
        (Afi::Ipv4 | Afi::Ipv6, 16) => NextHop::Ipv6 {
            global: r.ipv6("MP_REACH_NLRI next hop")?,
            link_local: None,
        },
        (Afi::Ipv4 | Afi::Ipv6, 32) => NextHop::Ipv6 {
            global: r.ipv6("MP_REACH_NLRI next hop")?,
            link_local: Some(r.ipv6("MP_REACH_NLRI link-local next hop")?),
        },
        _ => {
            return Err(length_at.error(
                "MP_REACH_NLRI next hop length",
                ErrorReason::BadLength(usize::from(next_hop_len)),
            ));
        }
    };
    // RFC 4760 §3: the reserved octet (formerly the SNPA count) is ignored on receipt.
    let _reserved = r.u8("MP_REACH_NLRI reserved")?;
    let nlri = nlri::decode_prefixes(r, afi == Afi::Ipv6, "MP_REACH_NLRI prefix")?;
    Ok(MpReach {
        afi,
        safi,
        next_hop,
        nlri,
    })
}

/// Decode an MP_UNREACH_NLRI value of a supported family.
pub(crate) fn decode_mp_unreach(mut r: Reader<'_>) -> Result<MpUnreach, DecodeError> {
    let afi = Afi::from(r.u16("MP_UNREACH_NLRI AFI")?);
    let safi = Safi::from(r.u8("MP_UNREACH_NLRI SAFI")?);
    let withdrawn = nlri::decode_prefixes(r, afi == Afi::Ipv6, "MP_UNREACH_NLRI prefix")?;
    Ok(MpUnreach {
        afi,
        safi,
        withdrawn,
    })
}

/// Length of the MP_REACH_NLRI value.
pub(crate) fn mp_reach_len(reach: &MpReach) -> usize {
    5 + reach.next_hop.wire_len() + nlri::prefixes_len(&reach.nlri)
}

/// Append the MP_REACH_NLRI value.
pub(crate) fn encode_mp_reach(reach: &MpReach, buf: &mut BytesMut) {
    buf.put_u16(reach.afi.value());
    buf.put_u8(reach.safi.value());
    buf.put_u8(reach.next_hop.wire_len() as u8);
    match &reach.next_hop {
        NextHop::Ipv4(address) => buf.put_slice(&address.octets()),
        NextHop::Ipv6 { global, link_local } => {
            buf.put_slice(&global.octets());
            if let Some(link_local) = link_local {
                buf.put_slice(&link_local.octets());
            }
        }
    }
    buf.put_u8(0);
    for prefix in &reach.nlri {
        nlri::encode_prefix(prefix, buf);
    }
}

/// Length of the MP_UNREACH_NLRI value.
pub(crate) fn mp_unreach_len(unreach: &MpUnreach) -> usize {
    3 + nlri::prefixes_len(&unreach.withdrawn)
}

/// Append the MP_UNREACH_NLRI value.
pub(crate) fn encode_mp_unreach(unreach: &MpUnreach, buf: &mut BytesMut) {
    buf.put_u16(unreach.afi.value());
    buf.put_u8(unreach.safi.value());
    for prefix in &unreach.withdrawn {
        nlri::encode_prefix(prefix, buf);
    }
}
