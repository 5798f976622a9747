//! Encoding of the path attribute list. RFC 4271 §4.3.
//!
//! Order: MP_REACH_NLRI and MP_UNREACH_NLRI first (RFC 7606 §5.1), then the typed attributes
//! by type code, then unknown attributes as kept. The Extended Length bit is set exactly when a
//! value exceeds 255 bytes. For a 2-octet peer (RFC 6793 §4.2.2) ASNs above 65535 become
//! AS_TRANS in AS_PATH and AGGREGATOR, and AS4_PATH / AS4_AGGREGATOR carry the real values.

use bytes::{BufMut, BytesMut};

use super::as_path::{self, AsPath};
use super::mp::{self, MpReach, MpUnreach};
use super::{Aggregator, PathAttributes, flags, type_code};
use crate::packet::{AS_TRANS, CodecContext};

const WELL_KNOWN: u8 = flags::TRANSITIVE;
const OPTIONAL_TRANSITIVE: u8 = flags::OPTIONAL | flags::TRANSITIVE;
const OPTIONAL_NON_TRANSITIVE: u8 = flags::OPTIONAL;

/// Header length for a value of `len` bytes.
fn header_len(len: usize) -> usize {
    if len > 255 { 4 } else { 3 }
}

fn put_header(buf: &mut BytesMut, attribute_flags: u8, code: u8, len: usize) {
    if len > 255 {
        buf.put_u8(attribute_flags | flags::EXTENDED_LENGTH);
        buf.put_u8(code);
        buf.put_u16(len.min(usize::from(u16::MAX)) as u16);
    } else {
        buf.put_u8(attribute_flags & !flags::EXTENDED_LENGTH);
        buf.put_u8(code);
        buf.put_u8(len as u8);
    }
}

/// What goes on the wire, computed once so length and bytes agree.
struct Plan<'a> {
    attributes: &'a PathAttributes,
    mp_reach: Option<&'a MpReach>,
    mp_unreach: Option<&'a MpUnreach>,
    four_octet: bool,
    as4_path: Option<AsPath>,
    as4_aggregator: Option<Aggregator>,
}

impl<'a> Plan<'a> {
    fn new(
        attributes: &'a PathAttributes,
        mp_reach: Option<&'a MpReach>,
        mp_unreach: Option<&'a MpUnreach>,
        ctx: &CodecContext,
    ) -> Self {
        let four_octet = ctx.four_octet_as;
        let as4_path = match &attributes.as_path {
            Some(path) if !four_octet && as_path::needs_as4_path(path) => {
                Some(as_path::as4_path_of(path))
            }
            _ => None,
        };
        let as4_aggregator = match attributes.aggregator {
            Some(aggregator) if !four_octet && aggregator.asn > u32::from(u16::MAX) => {
                Some(aggregator)
            }
            _ => None,
        };
        Self {
            attributes,
            mp_reach,
            mp_unreach,
            four_octet,
            as4_path,
            as4_aggregator,
        }
    }

    /// Visit every attribute as (flags, type code, value length, value writer).
    fn visit(&self, mut visit: impl FnMut(u8, u8, usize, &dyn Fn(&mut BytesMut))) {
        let a = self.attributes;
        if let Some(reach) = self.mp_reach {
            visit(
                OPTIONAL_NON_TRANSITIVE,
                type_code::MP_REACH_NLRI,
                mp::mp_reach_len(reach),
                &|buf| mp::encode_mp_reach(reach, buf),
            );
        }
        if let Some(unreach) = self.mp_unreach {
            visit(
                OPTIONAL_NON_TRANSITIVE,
                type_code::MP_UNREACH_NLRI,
                mp::mp_unreach_len(unreach),
                &|buf| mp::encode_mp_unreach(unreach, buf),
            );
        }
        if let Some(origin) = a.origin {
            visit(WELL_KNOWN, type_code::ORIGIN, 1, &|buf| {
                buf.put_u8(origin.value())
            });
        }
        if let Some(path) = &a.as_path {
            let four_octet = self.four_octet;
            visit(
                WELL_KNOWN,
                type_code::AS_PATH,
                as_path::as_path_len(path, four_octet),
                &|buf| as_path::encode_as_path(path, four_octet, buf),
            );
        }
        if let Some(next_hop) = a.next_hop {
            visit(WELL_KNOWN, type_code::NEXT_HOP, 4, &|buf| {
                buf.put_slice(&next_hop.octets())
            });
        }
        if let Some(med) = a.med {
            visit(
                OPTIONAL_NON_TRANSITIVE,
                type_code::MULTI_EXIT_DISC,
                4,
                &|buf| buf.put_u32(med),
            );
        }
        if let Some(local_pref) = a.local_pref {
            visit(WELL_KNOWN, type_code::LOCAL_PREF, 4, &|buf| {
                buf.put_u32(local_pref)
            });
        }
        if a.atomic_aggregate {
            visit(WELL_KNOWN, type_code::ATOMIC_AGGREGATE, 0, &|_| {});
        }
        if let Some(aggregator) = a.aggregator {
            let four_octet = self.four_octet;
            visit(
                OPTIONAL_TRANSITIVE,
                type_code::AGGREGATOR,
                if four_octet { 8 } else { 6 },
                &|buf| {
                    if four_octet {
                        buf.put_u32(aggregator.asn);
                    } else {
                        buf.put_u16(u16::try_from(aggregator.asn).unwrap_or(AS_TRANS));
                    }
                    buf.put_slice(&aggregator.address.octets());
                },
            );
        }
        if !a.communities.is_empty() {
            visit(
                OPTIONAL_TRANSITIVE,
                type_code::COMMUNITIES,
                4 * a.communities.len(),
                &|buf| {
                    for community in &a.communities {
                        buf.put_u32(community.0);
                    }
                },
            );
        }
        if let Some(originator) = a.originator_id {
            visit(
                OPTIONAL_NON_TRANSITIVE,
                type_code::ORIGINATOR_ID,
                4,
                &|buf| buf.put_slice(&originator.octets()),
            );
        }
        if !a.cluster_list.is_empty() {
            visit(
                OPTIONAL_NON_TRANSITIVE,
                type_code::CLUSTER_LIST,
                4 * a.cluster_list.len(),
                &|buf| {
                    for id in &a.cluster_list {
                        buf.put_slice(&id.octets());
                    }
                },
            );
        }
        if !a.extended_communities.is_empty() {
            let len = 8 * a.extended_communities.len();
            visit(
                OPTIONAL_TRANSITIVE,
                type_code::EXTENDED_COMMUNITIES,
                len,
                &|buf| {
                    for community in &a.extended_communities {
                        buf.put_slice(&community.0);
                    }
                },
            );
        }
        if let Some(path) = &self.as4_path {
            visit(
                OPTIONAL_TRANSITIVE,
                type_code::AS4_PATH,
                as_path::as_path_len(path, true),
                &|buf| as_path::encode_as_path(path, true, buf),
            );
        }
        if let Some(aggregator) = self.as4_aggregator {
            visit(OPTIONAL_TRANSITIVE, type_code::AS4_AGGREGATOR, 8, &|buf| {
                buf.put_u32(aggregator.asn);
                buf.put_slice(&aggregator.address.octets());
            });
        }
        if !a.large_communities.is_empty() {
            let len = 12 * a.large_communities.len();
            visit(
                OPTIONAL_TRANSITIVE,
                type_code::LARGE_COMMUNITY,
                len,
                &|buf| {
                    for community in &a.large_communities {
                        buf.put_u32(community.global_admin);
                        buf.put_u32(community.local_data1);
                        buf.put_u32(community.local_data2);
                    }
                },
            );
        }
        for raw in &a.unknown {
            visit(raw.flags, raw.type_code, raw.value.len(), &|buf| {
                buf.put_slice(&raw.value)
            });
        }
    }
}

/// Length of the encoded attribute list.
pub(crate) fn attributes_len(
    attributes: &PathAttributes,
    mp_reach: Option<&MpReach>,
    mp_unreach: Option<&MpUnreach>,
    ctx: &CodecContext,
) -> usize {
    let mut total = 0;
    Plan::new(attributes, mp_reach, mp_unreach, ctx).visit(|_, _, len, _| {
        total += header_len(len) + len;
    });
    total
}

/// Append the attribute list.
pub(crate) fn encode_attributes(
    attributes: &PathAttributes,
    mp_reach: Option<&MpReach>,
    mp_unreach: Option<&MpUnreach>,
    ctx: &CodecContext,
    buf: &mut BytesMut,
) {
    Plan::new(attributes, mp_reach, mp_unreach, ctx).visit(|attribute_flags, code, len, write| {
        put_header(buf, attribute_flags, code, len);
        write(buf);
    });
}

impl PathAttributes {
    /// Length of these attributes (without MP attributes) on the wire.
    pub fn encoded_len(&self, ctx: &CodecContext) -> usize {
        attributes_len(self, None, None, ctx)
    }

    /// Append these attributes (without MP attributes) in wire form, e.g. for MRT or tests.
    pub fn encode(&self, ctx: &CodecContext, buf: &mut BytesMut) {
        encode_attributes(self, None, None, ctx, buf);
    }
}
