//! NOTIFICATION codec and the constructors the FSM uses. RFC 4271 §4.5 and §6.
//!
//! ```text
//! +-----------------+-----------------+--------------------+
//! | error code (1)  | subcode (1)     | data (variable)    |
//! +-----------------+-----------------+--------------------+
//! ```

use bytes::{BufMut, Bytes, BytesMut};

use super::error::{
    DecodeError, ErrorAction, NotificationCode, cease_subcode, header_subcode, open_subcode,
};
use super::message::Notification;
use super::reader::Reader;
use super::{CodecContext, Decode, Encode, HEADER_LEN};

impl Decode for Notification {
    fn decode(body: &[u8], _ctx: &CodecContext) -> Result<Self, DecodeError> {
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
        let code = NotificationCode::from(r.u8("NOTIFICATION error code")?);
        let subcode = r.u8("NOTIFICATION error subcode")?;
        let data = Bytes::copy_from_slice(r.take_rest());
        Ok(Notification {
            code,
            subcode,
            data,
        })
    }
}

impl Encode for Notification {
    fn encoded_len(&self, _ctx: &CodecContext) -> usize {
        2 + self.data.len()
    }

    fn encode(&self, _ctx: &CodecContext, buf: &mut BytesMut) {
        buf.put_u8(self.code.value());
        buf.put_u8(self.subcode);
        buf.put_slice(&self.data);
    }
}

impl Notification {
    /// A NOTIFICATION with this code, subcode and data.
    pub fn new(code: NotificationCode, subcode: u8, data: impl Into<Bytes>) -> Self {
        Self {
            code,
            subcode,
            data: data.into(),
        }
    }

    /// The NOTIFICATION a session-reset decode error asks for; `None` for RFC 7606
    /// treat-as-withdraw and attribute-discard errors.
    pub fn from_error(error: &DecodeError) -> Option<Self> {
        match &error.action {
            ErrorAction::SessionReset {
                code,
                subcode,
                data,
            } => Some(Self::new(*code, *subcode, Bytes::copy_from_slice(data))),
            _ => None,
        }
    }

    /// OPEN error, Unsupported Version Number; data is the largest version we support.
    /// RFC 4271 §6.2.
    pub fn unsupported_version(supported: u8) -> Self {
        Self::new(
            NotificationCode::OpenMessage,
            open_subcode::UNSUPPORTED_VERSION_NUMBER,
            vec![0, supported],
        )
    }

    /// OPEN error, Bad Peer AS. RFC 4271 §6.2.
    pub fn bad_peer_as() -> Self {
        Self::new(
            NotificationCode::OpenMessage,
            open_subcode::BAD_PEER_AS,
            Bytes::new(),
        )
    }

    /// OPEN error, Bad BGP Identifier. RFC 4271 §6.2.
    pub fn bad_bgp_identifier() -> Self {
        Self::new(
            NotificationCode::OpenMessage,
            open_subcode::BAD_BGP_IDENTIFIER,
            Bytes::new(),
        )
    }

    /// OPEN error, Unacceptable Hold Time (a hold time of 1 or 2 seconds). RFC 4271 §6.2.
    pub fn unacceptable_hold_time() -> Self {
        Self::new(
            NotificationCode::OpenMessage,
            open_subcode::UNACCEPTABLE_HOLD_TIME,
            Bytes::new(),
        )
    }

    /// OPEN error, Unsupported Capability; `capabilities` are the encoded capabilities the
    /// peer requires that we lack. RFC 5492 §5.
    pub fn unsupported_capability(capabilities: &[super::Capability]) -> Self {
        let mut data = BytesMut::new();
        for capability in capabilities {
            capability.encode(&mut data);
        }
        Self::new(
            NotificationCode::OpenMessage,
            open_subcode::UNSUPPORTED_CAPABILITY,
            data.freeze(),
        )
    }

    /// Hold Timer Expired. RFC 4271 §6.5.
    pub fn hold_timer_expired() -> Self {
        Self::new(NotificationCode::HoldTimerExpired, 0, Bytes::new())
    }

    /// Finite State Machine Error; `subcode` per RFC 6608 (0 unspecified, 1 OpenSent, 2
    /// OpenConfirm, 3 Established). RFC 4271 §6.6.
    pub fn fsm_error(subcode: u8) -> Self {
        Self::new(NotificationCode::FiniteStateMachine, subcode, Bytes::new())
    }

    /// Cease with a subcode from [`super::error::cease_subcode`]. RFC 4486.
    pub fn cease(subcode: u8) -> Self {
        Self::new(NotificationCode::Cease, subcode, Bytes::new())
    }

    /// Cease, Administrative Shutdown with a shutdown communication (UTF-8, at most 255
    /// bytes; longer text is cut at a character boundary). RFC 9003 §2.
    pub fn administrative_shutdown(message: &str) -> Self {
        let mut end = message.len().min(255);
        while !message.is_char_boundary(end) {
            end -= 1;
        }
        let text = message.get(..end).unwrap_or_default();
        let mut data = Vec::with_capacity(1 + text.len());
        data.push(text.len() as u8);
        data.extend_from_slice(text.as_bytes());
        Self::new(
            NotificationCode::Cease,
            cease_subcode::ADMINISTRATIVE_SHUTDOWN,
            data,
        )
    }
}
