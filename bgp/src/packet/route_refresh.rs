//! ROUTE-REFRESH codec. RFC 2918 §3; the reserved byte carries the RFC 7313 §3 subtype.
//!
//! ```text
//! +-----------+-------------+----------+
//! | AFI (2)   | subtype (1) | SAFI (1) |
//! +-----------+-------------+----------+
//! ```

use bytes::{BufMut, BytesMut};

use super::capability::{Afi, Safi};
use super::error::{
    DecodeError, ErrorAction, ErrorReason, NotificationCode, route_refresh_subcode,
};
use super::message::{MessageType, RouteRefresh};
use super::reader::Reader;
use super::{CodecContext, Decode, Encode, HEADER_LEN};

/// Subtype 0: a normal route refresh request. RFC 7313 §3.
pub const SUBTYPE_REQUEST: u8 = 0;
/// Subtype 1: Beginning of Route Refresh. RFC 7313 §3.
pub const SUBTYPE_BEGIN: u8 = 1;
/// Subtype 2: End of Route Refresh. RFC 7313 §3.
pub const SUBTYPE_END: u8 = 2;

/// Body length of ROUTE-REFRESH.
pub const ROUTE_REFRESH_BODY_LEN: usize = 4;

impl Decode for RouteRefresh {
    fn decode(body: &[u8], _ctx: &CodecContext) -> Result<Self, DecodeError> {
        if body.len() != ROUTE_REFRESH_BODY_LEN {
            // RFC 7313 §5: Invalid Message Length, data = the complete message.
            let len = (body.len() + HEADER_LEN).min(usize::from(u16::MAX));
            let mut data = vec![0xFF; 16];
            data.extend_from_slice(&(len as u16).to_be_bytes());
            data.push(MessageType::RouteRefresh as u8);
            data.extend_from_slice(body);
            return Err(DecodeError::new(
                "ROUTE-REFRESH length",
                16,
                ErrorReason::BadLength(len),
                ErrorAction::reset(
                    NotificationCode::RouteRefreshMessage,
                    route_refresh_subcode::INVALID_MESSAGE_LENGTH,
                    data,
                ),
            ));
        }
        let mut r = Reader::new(body, HEADER_LEN, ErrorAction::AttributeDiscard);
        let afi = Afi::from(r.u16("ROUTE-REFRESH AFI")?);
        let subtype = r.u8("ROUTE-REFRESH subtype")?;
        let safi = Safi::from(r.u8("ROUTE-REFRESH SAFI")?);
        Ok(RouteRefresh { afi, subtype, safi })
    }
}

impl Encode for RouteRefresh {
    fn encoded_len(&self, _ctx: &CodecContext) -> usize {
        ROUTE_REFRESH_BODY_LEN
    }

    fn encode(&self, _ctx: &CodecContext, buf: &mut BytesMut) {
        buf.put_u16(self.afi.value());
        buf.put_u8(self.subtype);
        buf.put_u8(self.safi.value());
    }
}

impl RouteRefresh {
    /// A plain request for the Adj-RIB-Out of one family. RFC 2918 §3.
    pub fn request(afi: Afi, safi: Safi) -> Self {
        Self {
            afi,
            subtype: SUBTYPE_REQUEST,
            safi,
        }
    }

    /// Beginning of Route Refresh. RFC 7313 §4.
    pub fn begin(afi: Afi, safi: Safi) -> Self {
        Self {
            afi,
            subtype: SUBTYPE_BEGIN,
            safi,
        }
    }

    /// End of Route Refresh. RFC 7313 §4.
    pub fn end(afi: Afi, safi: Safi) -> Self {
        Self {
            afi,
            subtype: SUBTYPE_END,
            safi,
        }
    }
}
