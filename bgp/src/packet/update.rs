//! UPDATE. RFC 4271 §4.3, with MP-BGP (RFC 4760), End-of-RIB (RFC 4724 §2) and the revised
//! error handling of RFC 7606.
//!
//! ```text
//! +-----------------------------------------------------+
//! |   Withdrawn Routes Length (2 octets)                |
//! +-----------------------------------------------------+
//! |   Withdrawn Routes (variable)                       |
//! +-----------------------------------------------------+
//! |   Total Path Attribute Length (2 octets)            |
//! +-----------------------------------------------------+
//! |   Path Attributes (variable)                        |
//! +-----------------------------------------------------+
//! |   Network Layer Reachability Information (variable) |
//! +-----------------------------------------------------+
//! ```
//!
//! Decoding follows RFC 7606: errors whose action is treat-as-withdraw or attribute-discard do
//! not fail the decode; they are listed in [`Update::errors`] and the session acts on
//! [`Update::treat_as_withdraw`]. Only session-reset errors return `Err`.

use ipnetwork::{IpNetwork, Ipv4Network};

use super::attribute::{MpReach, MpUnreach, PathAttributes};
use super::capability::{Afi, Safi};
use super::error::{DecodeError, ErrorAction};

/// UPDATE. RFC 4271 §4.3.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Update {
    /// IPv4 prefixes withdrawn in the body.
    pub withdrawn: Vec<Ipv4Network>,
    /// The attributes shared by every announced prefix (body and MP_REACH_NLRI).
    pub attributes: PathAttributes,
    /// IPv4 prefixes announced in the body (next hop: `attributes.next_hop`).
    pub nlri: Vec<Ipv4Network>,
    /// MP_REACH_NLRI (type 14). RFC 4760 §3.
    pub mp_reach: Option<MpReach>,
    /// MP_UNREACH_NLRI (type 15). RFC 4760 §4.
    pub mp_unreach: Option<MpUnreach>,
    /// Non-fatal errors found while decoding (RFC 7606 treat-as-withdraw and attribute-discard),
    /// each with its field and offset. Empty for a well-formed UPDATE; ignored on encode.
    pub errors: Vec<DecodeError>,
}

impl Update {
    /// True when an error requires treating every announced prefix (body NLRI and
    /// MP_REACH_NLRI) as withdrawn. RFC 7606 §2.
    pub fn treat_as_withdraw(&self) -> bool {
        self.errors
            .iter()
            .any(|error| error.action == ErrorAction::TreatAsWithdraw)
    }

    /// All announced prefixes: body NLRI then MP_REACH_NLRI.
    pub fn announced(&self) -> impl Iterator<Item = IpNetwork> + '_ {
        self.nlri
            .iter()
            .map(|prefix| IpNetwork::V4(*prefix))
            .chain(self.mp_reach.iter().flat_map(|mp| mp.nlri.iter().copied()))
    }

    /// All withdrawn prefixes: body withdrawn routes then MP_UNREACH_NLRI.
    pub fn withdrawn_prefixes(&self) -> impl Iterator<Item = IpNetwork> + '_ {
        self.withdrawn
            .iter()
            .map(|prefix| IpNetwork::V4(*prefix))
            .chain(
                self.mp_unreach
                    .iter()
                    .flat_map(|mp| mp.withdrawn.iter().copied()),
            )
    }

    /// The End-of-RIB marker for a family: for IPv4 unicast an empty UPDATE, otherwise an UPDATE
    /// holding only an empty MP_UNREACH_NLRI. RFC 4724 §2.
    pub fn end_of_rib(afi: Afi, safi: Safi) -> Self {
        if (afi, safi) == (Afi::Ipv4, Safi::Unicast) {
            return Self::default();
        }
        Self {
            mp_unreach: Some(MpUnreach {
                afi,
                safi,
                withdrawn: Vec::new(),
            }),
            ..Self::default()
        }
    }

    /// The family this UPDATE marks End-of-RIB for, if it is an End-of-RIB marker.
    /// RFC 4724 §2.
    pub fn end_of_rib_family(&self) -> Option<(Afi, Safi)> {
        if !self.withdrawn.is_empty() || !self.nlri.is_empty() || self.mp_reach.is_some() {
            return None;
        }
        let no_attributes = self.attributes == PathAttributes::default();
        match &self.mp_unreach {
            None if no_attributes => Some((Afi::Ipv4, Safi::Unicast)),
            Some(unreach) if unreach.withdrawn.is_empty() && no_attributes => {
                Some((unreach.afi, unreach.safi))
            }
            _ => None,
        }
    }

    /// True when this UPDATE is an End-of-RIB marker for any family.
    pub fn is_end_of_rib(&self) -> bool {
        self.end_of_rib_family().is_some()
    }
}

// ---- wire codec -------------------------------------------------------------------------

use bytes::{BufMut, BytesMut};

use super::attribute::decode::{AttributeSource, decode_attributes};
use super::attribute::{encode, type_code};
use super::error::{ErrorReason, NotificationCode, header_subcode, update_subcode};
use super::reader::Reader;
use super::{CodecContext, Decode, Encode, HEADER_LEN, nlri};

fn update_reset(subcode: u8) -> ErrorAction {
    ErrorAction::reset(NotificationCode::UpdateMessage, subcode, Vec::new())
}

impl Decode for Update {
    fn decode(body: &[u8], ctx: &CodecContext) -> Result<Self, DecodeError> {
        let message_len = (body.len() + HEADER_LEN).min(usize::from(u16::MAX)) as u16;
        let mut r = Reader::new(
            body,
            HEADER_LEN,
            ErrorAction::reset(
                NotificationCode::MessageHeader,
                header_subcode::BAD_MESSAGE_LENGTH,
                message_len.to_be_bytes().to_vec(),
            ),
        );
        let withdrawn_len = usize::from(r.u16("UPDATE withdrawn routes length")?);
        // RFC 4271 §6.3: lengths that overrun the message are a Malformed Attribute List.
        let mut r = Reader::new(
            r.peek_rest(),
            r.offset(),
            update_reset(update_subcode::MALFORMED_ATTRIBUTE_LIST),
        );
        let withdrawn_reader = r.sub(withdrawn_len, "UPDATE withdrawn routes length")?;
        let attributes_len = usize::from(r.u16("UPDATE total path attribute length")?);
        let attributes_offset = r.offset();
        let attributes_data = r.bytes(attributes_len, "UPDATE total path attribute length")?;
        let nlri_reader = Reader::new(
            r.peek_rest(),
            r.offset(),
            update_reset(update_subcode::INVALID_NETWORK_FIELD),
        );

        // RFC 7606 §5.3: NLRI that cannot be parsed leaves no way to treat them as withdrawn.
        let withdrawn_reader = Reader::new(
            withdrawn_reader.peek_rest(),
            withdrawn_reader.offset(),
            update_reset(update_subcode::INVALID_NETWORK_FIELD),
        );
        let withdrawn = nlri::decode_ipv4_prefixes(withdrawn_reader, "UPDATE withdrawn route")?;
        let nlri_offset = nlri_reader.offset();
        let nlri = nlri::decode_ipv4_prefixes(nlri_reader, "UPDATE NLRI")?;
        let decoded = decode_attributes(
            attributes_data,
            attributes_offset,
            ctx,
            AttributeSource::Update,
        )?;

        let mut update = Update {
            withdrawn,
            attributes: decoded.attributes,
            nlri,
            mp_reach: decoded.mp_reach,
            mp_unreach: decoded.mp_unreach,
            errors: decoded.errors,
        };
        update.check_mandatory(attributes_offset, nlri_offset);
        Ok(update)
    }
}

impl Update {
    /// RFC 7606 §3 d: a missing well-known mandatory attribute on an UPDATE that announces
    /// prefixes is treat-as-withdraw. NEXT_HOP is mandatory only with body NLRI (RFC 4760 §3).
    fn check_mandatory(&mut self, attributes_offset: usize, nlri_offset: usize) {
        let announces_mp = self
            .mp_reach
            .as_ref()
            .is_some_and(|reach| !reach.nlri.is_empty());
        if self.nlri.is_empty() && !announces_mp {
            return;
        }
        let attributes = &self.attributes;
        let required = [
            (
                attributes.origin.is_some(),
                type_code::ORIGIN,
                "ORIGIN",
                attributes_offset,
            ),
            (
                attributes.as_path.is_some(),
                type_code::AS_PATH,
                "AS_PATH",
                attributes_offset,
            ),
            (
                attributes.next_hop.is_some() || self.nlri.is_empty(),
                type_code::NEXT_HOP,
                "NEXT_HOP",
                nlri_offset,
            ),
        ];
        for (present, code, field, offset) in required {
            if !present && !self.has_error_for(field) {
                self.errors.push(DecodeError::new(
                    field,
                    offset,
                    ErrorReason::Missing(code),
                    ErrorAction::TreatAsWithdraw,
                ));
            }
        }
    }

    fn has_error_for(&self, field: &'static str) -> bool {
        self.errors.iter().any(|error| error.field == field)
    }
}

impl Encode for Update {
    fn encoded_len(&self, ctx: &CodecContext) -> usize {
        4 + nlri::ipv4_prefixes_len(&self.withdrawn)
            + encode::attributes_len(
                &self.attributes,
                self.mp_reach.as_ref(),
                self.mp_unreach.as_ref(),
                ctx,
            )
            + nlri::ipv4_prefixes_len(&self.nlri)
    }

    fn encode(&self, ctx: &CodecContext, buf: &mut BytesMut) {
        let withdrawn_len = nlri::ipv4_prefixes_len(&self.withdrawn);
        buf.put_u16(withdrawn_len.min(usize::from(u16::MAX)) as u16);
        for prefix in &self.withdrawn {
            nlri::encode_ipv4_prefix(prefix, buf);
        }
        let attributes_len = encode::attributes_len(
            &self.attributes,
            self.mp_reach.as_ref(),
            self.mp_unreach.as_ref(),
            ctx,
        );
        buf.put_u16(attributes_len.min(usize::from(u16::MAX)) as u16);
        encode::encode_attributes(
            &self.attributes,
            self.mp_reach.as_ref(),
            self.mp_unreach.as_ref(),
            ctx,
            buf,
        );
        for prefix in &self.nlri {
            nlri::encode_ipv4_prefix(prefix, buf);
        }
    }
}
