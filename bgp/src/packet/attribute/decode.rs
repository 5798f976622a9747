//! Decoding of the path attribute list with the error handling of RFC 7606.
//!
//! | problem | action |
//! |---|---|
//! | attribute header or length overruns the list (§4) | treat-as-withdraw, stop parsing |
//! | O/T flags conflict with the type (§3 c) | treat-as-withdraw (MP attributes still parsed) |
//! | repeated MP_REACH_NLRI / MP_UNREACH_NLRI (§3 g) | session reset, Malformed Attribute List |
//! | other repeated attribute (§3 g) | later copies discarded |
//! | ORIGIN, AS_PATH, NEXT_HOP, MED, LOCAL_PREF, COMMUNITIES, ORIGINATOR_ID, CLUSTER_LIST, EXTENDED COMMUNITIES, LARGE_COMMUNITY malformed (§7, RFC 8092 §6) | treat-as-withdraw |
//! | ATOMIC_AGGREGATE, AGGREGATOR, AS4_PATH, AS4_AGGREGATOR malformed (§7.6, §7.7, RFC 6793 §6) | attribute discard |
//! | MP_REACH_NLRI / MP_UNREACH_NLRI malformed (§7.11, §5.3) | session reset, Optional Attribute Error |
//! | unrecognized well-known attribute (RFC 4271 §6.3) | session reset, data = the attribute |
//!
//! AS4_PATH / AS4_AGGREGATOR from a 4-octet peer are discarded (RFC 6793 §6); from a 2-octet
//! peer they are merged into AS_PATH / AGGREGATOR (RFC 6793 §4.2.3).

use std::net::Ipv4Addr;

use bytes::Bytes;

use super::as_path::{self, AsPath};
use super::community::{Community, ExtendedCommunity, LargeCommunity};
use super::mp::{self, MpReach, MpUnreach, NextHop};
use super::{Aggregator, Origin, PathAttributes, RawAttribute, flags, type_code};
use crate::packet::capability::{Afi, Safi};
use crate::packet::error::{
    DecodeError, ErrorAction, ErrorReason, NotificationCode, update_subcode,
};
use crate::packet::reader::Reader;
use crate::packet::{AS_TRANS, CodecContext};

/// The attributes of one UPDATE, split into the shared set and the per-family MP attributes.
#[derive(Debug, Default)]
pub(crate) struct DecodedAttributes {
    pub attributes: PathAttributes,
    pub mp_reach: Option<MpReach>,
    pub mp_unreach: Option<MpUnreach>,
    pub errors: Vec<DecodeError>,
}

/// The O and T flags a known attribute must carry, or `None` for unknown types.
fn expected_flags(code: u8) -> Option<u8> {
    const WELL_KNOWN: u8 = flags::TRANSITIVE;
    const OPTIONAL_TRANSITIVE: u8 = flags::OPTIONAL | flags::TRANSITIVE;
    const OPTIONAL_NON_TRANSITIVE: u8 = flags::OPTIONAL;
    match code {
        type_code::ORIGIN
        | type_code::AS_PATH
        | type_code::NEXT_HOP
        | type_code::LOCAL_PREF
        | type_code::ATOMIC_AGGREGATE => Some(WELL_KNOWN),
        type_code::MULTI_EXIT_DISC
        | type_code::ORIGINATOR_ID
        | type_code::CLUSTER_LIST
        | type_code::MP_REACH_NLRI
        | type_code::MP_UNREACH_NLRI => Some(OPTIONAL_NON_TRANSITIVE),
        type_code::AGGREGATOR
        | type_code::COMMUNITIES
        | type_code::EXTENDED_COMMUNITIES
        | type_code::AS4_PATH
        | type_code::AS4_AGGREGATOR
        | type_code::LARGE_COMMUNITY => Some(OPTIONAL_TRANSITIVE),
        _ => None,
    }
}

fn attribute_name(code: u8) -> &'static str {
    match code {
        type_code::ORIGIN => "ORIGIN",
        type_code::AS_PATH => "AS_PATH",
        type_code::NEXT_HOP => "NEXT_HOP",
        type_code::MULTI_EXIT_DISC => "MULTI_EXIT_DISC",
        type_code::LOCAL_PREF => "LOCAL_PREF",
        type_code::ATOMIC_AGGREGATE => "ATOMIC_AGGREGATE",
        type_code::AGGREGATOR => "AGGREGATOR",
        type_code::COMMUNITIES => "COMMUNITIES",
        type_code::ORIGINATOR_ID => "ORIGINATOR_ID",
        type_code::CLUSTER_LIST => "CLUSTER_LIST",
        type_code::MP_REACH_NLRI => "MP_REACH_NLRI",
        type_code::MP_UNREACH_NLRI => "MP_UNREACH_NLRI",
        type_code::EXTENDED_COMMUNITIES => "EXTENDED COMMUNITIES",
        type_code::AS4_PATH => "AS4_PATH",
        type_code::AS4_AGGREGATOR => "AS4_AGGREGATOR",
        type_code::LARGE_COMMUNITY => "LARGE_COMMUNITY",
        _ => "path attribute",
    }
}

/// The RFC 7606 action for a malformed value of this attribute type.
fn value_error_action(code: u8) -> ErrorAction {
    match code {
        type_code::ATOMIC_AGGREGATE
        | type_code::AGGREGATOR
        | type_code::AS4_PATH
        | type_code::AS4_AGGREGATOR => ErrorAction::AttributeDiscard,
        _ => ErrorAction::TreatAsWithdraw,
    }
}

/// One attribute as framed on the wire.
struct Framed<'a> {
    flags: u8,
    code: u8,
    /// Offset of the flags byte.
    offset: usize,
    /// The whole attribute (header and value), for NOTIFICATION data.
    raw: &'a [u8],
    value: Reader<'a>,
}

/// Read the next attribute header and value; `None` with a treat-as-withdraw error when the
/// list is framed wrong (RFC 7606 §4).
fn next_attribute<'a>(r: &mut Reader<'a>) -> Result<Framed<'a>, DecodeError> {
    let all = r.peek_rest();
    let offset = r.offset();
    let flags = r.u8("path attribute flags")?;
    let code = r.u8("path attribute type")?;
    let len = if flags & flags::EXTENDED_LENGTH != 0 {
        usize::from(r.u16("path attribute length")?)
    } else {
        usize::from(r.u8("path attribute length")?)
    };
    let header_len = r.offset() - offset;
    let value = r.sub(len, "path attribute length")?;
    let raw = all.get(..header_len + len).unwrap_or(all);
    Ok(Framed {
        flags,
        code,
        offset,
        raw,
        value,
    })
}

/// Where an attribute list comes from: an UPDATE, or an MRT TABLE_DUMP_V2 RIB entry whose
/// MP_REACH_NLRI holds only the next hop length and next hop (RFC 6396 §4.3.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AttributeSource {
    Update,
    MrtRibEntry,
}

/// Decode the path attribute list (`data`, starting at `offset` in the message).
pub(crate) fn decode_attributes(
    data: &[u8],
    offset: usize,
    ctx: &CodecContext,
    source: AttributeSource,
) -> Result<DecodedAttributes, DecodeError> {
    let mut out = DecodedAttributes::default();
    let mut seen = [false; 256];
    let mut as4_path: Option<AsPath> = None;
    let mut as4_aggregator: Option<Aggregator> = None;
    let mut list = Reader::new(data, offset, ErrorAction::TreatAsWithdraw);
    while !list.is_empty() {
        let attribute = match next_attribute(&mut list) {
            Ok(attribute) => attribute,
            Err(error) => {
                // RFC 7606 §4: the Total Attribute Length still locates the NLRI.
                out.errors.push(error);
                break;
            }
        };
        let code = attribute.code;
        let name = attribute_name(code);
        let seen_before = seen.get(usize::from(code)).copied().unwrap_or(false);
        if let Some(slot) = seen.get_mut(usize::from(code)) {
            *slot = true;
        }
        let is_mp = code == type_code::MP_REACH_NLRI || code == type_code::MP_UNREACH_NLRI;
        if seen_before {
            if is_mp {
                return Err(DecodeError::new(
                    name,
                    attribute.offset,
                    ErrorReason::Duplicate,
                    ErrorAction::reset(
                        NotificationCode::UpdateMessage,
                        update_subcode::MALFORMED_ATTRIBUTE_LIST,
                        Vec::new(),
                    ),
                ));
            }
            out.errors.push(DecodeError::new(
                name,
                attribute.offset,
                ErrorReason::Duplicate,
                ErrorAction::AttributeDiscard,
            ));
            continue;
        }
        let Some(expected) = expected_flags(code) else {
            decode_unknown(&attribute, &mut out)?;
            continue;
        };
        if attribute.flags & (flags::OPTIONAL | flags::TRANSITIVE) != expected {
            out.errors.push(DecodeError::new(
                name,
                attribute.offset,
                ErrorReason::BadFlags(attribute.flags),
                ErrorAction::TreatAsWithdraw,
            ));
            // The NLRI of MP attributes must still be known to withdraw them.
            if !is_mp {
                continue;
            }
        }
        let rib_next_hop =
            source == AttributeSource::MrtRibEntry && code == type_code::MP_REACH_NLRI;
        let result = if rib_next_hop {
            decode_rib_next_hop(&attribute, &mut out)
        } else {
            decode_known(
                &attribute,
                ctx,
                &mut out,
                &mut as4_path,
                &mut as4_aggregator,
            )
        };
        if let Err(error) = result {
            if error.is_session_reset() {
                return Err(error);
            }
            out.errors.push(error);
        }
    }
    if !ctx.four_octet_as {
        merge_as4(&mut out.attributes, as4_path, as4_aggregator);
    }
    Ok(out)
}

/// Keep an unknown optional attribute; reject an unknown well-known one.
fn decode_unknown(attribute: &Framed<'_>, out: &mut DecodedAttributes) -> Result<(), DecodeError> {
    if attribute.flags & flags::OPTIONAL == 0 {
        return Err(DecodeError::new(
            "path attribute type",
            attribute.offset + 1,
            ErrorReason::UnrecognizedWellKnown(attribute.code),
            ErrorAction::reset(
                NotificationCode::UpdateMessage,
                update_subcode::UNRECOGNIZED_WELL_KNOWN_ATTRIBUTE,
                attribute.raw,
            ),
        ));
    }
    out.attributes.unknown.push(RawAttribute {
        flags: attribute.flags & !flags::EXTENDED_LENGTH,
        type_code: attribute.code,
        value: Bytes::copy_from_slice(attribute.value.peek_rest()),
    });
    Ok(())
}

/// A reader over the value whose errors carry the attribute's RFC 7606 action.
fn value_reader<'a>(attribute: &Framed<'a>, action: ErrorAction) -> Reader<'a> {
    Reader::new(
        attribute.value.peek_rest(),
        attribute.value.offset(),
        action,
    )
}

/// Fail unless the value is exactly `len` bytes.
fn expect_len(r: &Reader<'_>, name: &'static str, len: usize) -> Result<(), DecodeError> {
    if r.remaining() == len {
        Ok(())
    } else {
        Err(r.error(name, ErrorReason::BadLength(r.remaining())))
    }
}

/// Fail unless the value is a non-zero multiple of `unit` bytes.
fn expect_multiple(r: &Reader<'_>, name: &'static str, unit: usize) -> Result<(), DecodeError> {
    if r.remaining() != 0 && r.remaining().is_multiple_of(unit) {
        Ok(())
    } else {
        Err(r.error(name, ErrorReason::BadLength(r.remaining())))
    }
}

fn decode_known(
    attribute: &Framed<'_>,
    ctx: &CodecContext,
    out: &mut DecodedAttributes,
    as4_path: &mut Option<AsPath>,
    as4_aggregator: &mut Option<Aggregator>,
) -> Result<(), DecodeError> {
    let code = attribute.code;
    let name = attribute_name(code);
    let mut r = value_reader(attribute, value_error_action(code));
    let attributes = &mut out.attributes;
    match code {
        type_code::ORIGIN => {
            expect_len(&r, name, 1)?;
            let value = r.u8(name)?;
            let Some(origin) = Origin::from_value(value) else {
                return Err(attribute
                    .value
                    .error(name, ErrorReason::InvalidValue(u32::from(value))));
            };
            attributes.origin = Some(origin);
        }
        type_code::AS_PATH => {
            attributes.as_path = Some(as_path::decode_as_path(r, ctx.four_octet_as, name)?);
        }
        type_code::NEXT_HOP => {
            expect_len(&r, name, 4)?;
            attributes.next_hop = Some(r.ipv4(name)?);
        }
        type_code::MULTI_EXIT_DISC => {
            expect_len(&r, name, 4)?;
            attributes.med = Some(r.u32(name)?);
        }
        type_code::LOCAL_PREF => {
            expect_len(&r, name, 4)?;
            attributes.local_pref = Some(r.u32(name)?);
        }
        type_code::ATOMIC_AGGREGATE => {
            expect_len(&r, name, 0)?;
            attributes.atomic_aggregate = true;
        }
        type_code::AGGREGATOR => {
            expect_len(&r, name, if ctx.four_octet_as { 8 } else { 6 })?;
            let asn = if ctx.four_octet_as {
                r.u32(name)?
            } else {
                u32::from(r.u16(name)?)
            };
            attributes.aggregator = Some(Aggregator {
                asn,
                address: r.ipv4(name)?,
            });
        }
        type_code::COMMUNITIES => {
            expect_multiple(&r, name, 4)?;
            let mut list = Vec::with_capacity(r.remaining() / 4);
            while !r.is_empty() {
                list.push(Community(r.u32(name)?));
            }
            attributes.communities = list;
        }
        type_code::ORIGINATOR_ID => {
            expect_len(&r, name, 4)?;
            attributes.originator_id = Some(r.ipv4(name)?);
        }
        type_code::CLUSTER_LIST => {
            expect_multiple(&r, name, 4)?;
            let mut list: Vec<Ipv4Addr> = Vec::with_capacity(r.remaining() / 4);
            while !r.is_empty() {
                list.push(r.ipv4(name)?);
            }
            attributes.cluster_list = list;
        }
        type_code::EXTENDED_COMMUNITIES => {
            expect_multiple(&r, name, 8)?;
            let mut list = Vec::with_capacity(r.remaining() / 8);
            while !r.is_empty() {
                let mut bytes = [0u8; 8];
                bytes.copy_from_slice(r.bytes(8, name)?);
                list.push(ExtendedCommunity(bytes));
            }
            attributes.extended_communities = list;
        }
        type_code::LARGE_COMMUNITY => {
            expect_multiple(&r, name, 12)?;
            let mut list = Vec::with_capacity(r.remaining() / 12);
            while !r.is_empty() {
                list.push(LargeCommunity::new(
                    r.u32(name)?,
                    r.u32(name)?,
                    r.u32(name)?,
                ));
            }
            attributes.large_communities = list;
        }
        type_code::AS4_PATH | type_code::AS4_AGGREGATOR if ctx.four_octet_as => {
            // RFC 6793 §6: a NEW speaker discards these when received from a NEW speaker.
            return Err(r.error(name, ErrorReason::NotExpected));
        }
        type_code::AS4_PATH => {
            let mut path = as_path::decode_as_path(r, true, name)?;
            // RFC 6793 §6: confederation segments in AS4_PATH are discarded.
            path.segments
                .retain(|segment| !segment.kind.is_confederation());
            *as4_path = Some(path);
        }
        type_code::AS4_AGGREGATOR => {
            expect_len(&r, name, 8)?;
            *as4_aggregator = Some(Aggregator {
                asn: r.u32(name)?,
                address: r.ipv4(name)?,
            });
        }
        type_code::MP_REACH_NLRI | type_code::MP_UNREACH_NLRI => {
            return decode_mp(attribute, out);
        }
        _ => return decode_unknown(attribute, out),
    }
    Ok(())
}

/// MP_REACH_NLRI / MP_UNREACH_NLRI: decoded for supported families, kept raw otherwise.
fn decode_mp(attribute: &Framed<'_>, out: &mut DecodedAttributes) -> Result<(), DecodeError> {
    let action = ErrorAction::reset(
        NotificationCode::UpdateMessage,
        update_subcode::OPTIONAL_ATTRIBUTE_ERROR,
        attribute.raw,
    );
    let r = value_reader(attribute, action);
    let Some((afi, safi)) = mp::peek_family(r.peek_rest()) else {
        return Err(r.error(
            attribute_name(attribute.code),
            ErrorReason::Truncated {
                needed: 3,
                available: r.remaining(),
            },
        ));
    };
    if !mp::is_supported(afi, safi) {
        out.attributes.unknown.push(RawAttribute {
            flags: attribute.flags & !flags::EXTENDED_LENGTH,
            type_code: attribute.code,
            value: Bytes::copy_from_slice(r.peek_rest()),
        });
        return Ok(());
    }
    if attribute.code == type_code::MP_REACH_NLRI {
        out.mp_reach = Some(mp::decode_mp_reach(r)?);
    } else {
        out.mp_unreach = Some(mp::decode_mp_unreach(r)?);
    }
    Ok(())
}

/// MP_REACH_NLRI in a TABLE_DUMP_V2 RIB entry: next hop length and next hop only (RFC 6396
/// §4.3.4). Some writers store the full form; that is accepted too.
fn decode_rib_next_hop(
    attribute: &Framed<'_>,
    out: &mut DecodedAttributes,
) -> Result<(), DecodeError> {
    let value = attribute.value.peek_rest();
    let abbreviated = value
        .first()
        .is_some_and(|len| usize::from(*len) + 1 == value.len());
    if !abbreviated {
        return decode_mp(attribute, out);
    }
    let mut r = value_reader(attribute, ErrorAction::TreatAsWithdraw);
    let name = "MP_REACH_NLRI next hop";
    let len = r.u8(name)?;
    let (afi, next_hop) = match len {
        4 => (Afi::Ipv4, NextHop::Ipv4(r.ipv4(name)?)),
        16 => (
            Afi::Ipv6,
            NextHop::Ipv6 {
                global: r.ipv6(name)?,
                link_local: None,
            },
        ),
        32 => (
            Afi::Ipv6,
            NextHop::Ipv6 {
                global: r.ipv6(name)?,
                link_local: Some(r.ipv6(name)?),
            },
        ),
        other => return Err(r.error(name, ErrorReason::BadLength(usize::from(other)))),
    };
    out.mp_reach = Some(MpReach {
        afi,
        safi: Safi::Unicast,
        next_hop,
        nlri: Vec::new(),
    });
    Ok(())
}

/// RFC 6793 §4.2.3: rebuild AGGREGATOR and AS_PATH from a 2-octet peer's AS4 attributes.
fn merge_as4(
    attributes: &mut PathAttributes,
    as4_path: Option<AsPath>,
    as4_aggregator: Option<Aggregator>,
) {
    if let Some(aggregator) = attributes.aggregator {
        if aggregator.asn != u32::from(AS_TRANS) {
            // The aggregating speaker was OLD: AS4_AGGREGATOR and AS4_PATH are ignored.
            return;
        }
        if let Some(as4_aggregator) = as4_aggregator {
            attributes.aggregator = Some(as4_aggregator);
        }
    }
    if let (Some(path), Some(as4)) = (attributes.as_path.as_ref(), as4_path) {
        attributes.as_path = Some(as_path::merge_as4_path(path, &as4));
    }
}
