//! The message header and whole-message framing. RFC 4271 §4.1 and §6.1.
//!
//! ```text
//! +-------------------------------+----------------+-----------+
//! | marker (16 octets, all ones)  | length (2)     | type (1)  |
//! +-------------------------------+----------------+-----------+
//! ```
//!
//! [`frame_len`] is what a stream reader calls on its buffer to learn how many bytes the next
//! message takes; [`Message::decode`] and [`Message::encode`] handle one whole message.

use bytes::{BufMut, BytesMut};

use super::error::{
    DecodeError, EncodeError, ErrorAction, ErrorReason, NotificationCode, header_subcode,
};
use super::message::{Message, MessageType, Notification, Open, RouteRefresh};
use super::update::Update;
use super::{CodecContext, Decode, Encode, HEADER_LEN, MAX_MESSAGE_LEN};

/// The 16-byte all-ones marker. RFC 4271 §4.1.
pub const MARKER: [u8; 16] = [0xFF; 16];

const LENGTH_OFFSET: usize = 16;
const TYPE_OFFSET: usize = 18;

impl MessageType {
    /// The type for a wire value, if known.
    pub fn from_value(value: u8) -> Option<Self> {
        match value {
            1 => Some(Self::Open),
            2 => Some(Self::Update),
            3 => Some(Self::Notification),
            4 => Some(Self::Keepalive),
            5 => Some(Self::RouteRefresh),
            _ => None,
        }
    }

    /// The smallest valid total length for this type (RFC 4271 §6.1); ROUTE-REFRESH lengths are
    /// checked by its decoder instead (RFC 7313 §5).
    fn min_len(self) -> usize {
        match self {
            Self::Open => 29,
            Self::Update => 23,
            Self::Notification => 21,
            Self::Keepalive => 19,
            Self::RouteRefresh => 19,
        }
    }
}

fn header_error(
    field: &'static str,
    offset: usize,
    reason: ErrorReason,
    subcode: u8,
    data: Vec<u8>,
) -> DecodeError {
    DecodeError::new(
        field,
        offset,
        reason,
        ErrorAction::reset(NotificationCode::MessageHeader, subcode, data),
    )
}

/// Read the header at the start of `buf` and return the total length of that message, or
/// `None` while fewer than [`HEADER_LEN`] bytes are buffered. The message itself may not be
/// complete yet: wait until `buf.len() >= len`.
///
/// Errors are Message Header Errors (RFC 4271 §6.1): Connection Not Synchronized (bad
/// marker), Bad Message Length (data: the length field), Bad Message Type (data: the type).
pub fn frame_len(buf: &[u8]) -> Result<Option<usize>, DecodeError> {
    let Some(header) = buf.get(..HEADER_LEN) else {
        return Ok(None);
    };
    let (marker, rest) = header.split_at(LENGTH_OFFSET);
    if marker != MARKER {
        return Err(header_error(
            "header marker",
            0,
            ErrorReason::BadMarker,
            header_subcode::CONNECTION_NOT_SYNCHRONIZED,
            Vec::new(),
        ));
    }
    let (length_bytes, type_byte) = rest.split_at(2);
    let length = u16::from_be_bytes([
        length_bytes.first().copied().unwrap_or(0),
        length_bytes.get(1).copied().unwrap_or(0),
    ]);
    let kind = type_byte.first().copied().unwrap_or(0);
    let len = usize::from(length);
    let bad_length = || {
        header_error(
            "header length",
            LENGTH_OFFSET,
            ErrorReason::BadLength(len),
            header_subcode::BAD_MESSAGE_LENGTH,
            length.to_be_bytes().to_vec(),
        )
    };
    if !(HEADER_LEN..=MAX_MESSAGE_LEN).contains(&len) {
        return Err(bad_length());
    }
    let Some(message_type) = MessageType::from_value(kind) else {
        return Err(header_error(
            "header type",
            TYPE_OFFSET,
            ErrorReason::BadType(kind),
            header_subcode::BAD_MESSAGE_TYPE,
            vec![kind],
        ));
    };
    if len < message_type.min_len() || (message_type == MessageType::Keepalive && len != HEADER_LEN)
    {
        return Err(bad_length());
    }
    Ok(Some(len))
}

impl Message {
    /// Decode one whole message, header included; `frame` must be exactly one message (as cut
    /// by [`frame_len`]).
    pub fn decode(frame: &[u8], ctx: &CodecContext) -> Result<Self, DecodeError> {
        let Some(len) = frame_len(frame)? else {
            return Err(header_error(
                "header",
                0,
                ErrorReason::Truncated {
                    needed: HEADER_LEN,
                    available: frame.len(),
                },
                header_subcode::BAD_MESSAGE_LENGTH,
                Vec::new(),
            ));
        };
        if len != frame.len() {
            return Err(header_error(
                "header length",
                LENGTH_OFFSET,
                ErrorReason::BadLength(len),
                header_subcode::BAD_MESSAGE_LENGTH,
                (len as u16).to_be_bytes().to_vec(),
            ));
        }
        let kind = frame
            .get(TYPE_OFFSET)
            .copied()
            .and_then(MessageType::from_value);
        let body = frame.get(HEADER_LEN..).unwrap_or_default();
        match kind {
            Some(MessageType::Open) => Open::decode(body, ctx).map(Self::Open),
            Some(MessageType::Update) => Update::decode(body, ctx).map(Self::Update),
            Some(MessageType::Notification) => {
                Notification::decode(body, ctx).map(Self::Notification)
            }
            Some(MessageType::Keepalive) => Ok(Self::Keepalive),
            Some(MessageType::RouteRefresh) => {
                RouteRefresh::decode(body, ctx).map(Self::RouteRefresh)
            }
            // frame_len has rejected unknown types already.
            None => Err(header_error(
                "header type",
                TYPE_OFFSET,
                ErrorReason::BadType(0),
                header_subcode::BAD_MESSAGE_TYPE,
                Vec::new(),
            )),
        }
    }

    /// The message type.
    pub fn message_type(&self) -> MessageType {
        match self {
            Self::Open(_) => MessageType::Open,
            Self::Update(_) => MessageType::Update,
            Self::Notification(_) => MessageType::Notification,
            Self::Keepalive => MessageType::Keepalive,
            Self::RouteRefresh(_) => MessageType::RouteRefresh,
        }
    }

    /// Total length on the wire, header included.
    pub fn encoded_len(&self, ctx: &CodecContext) -> usize {
        HEADER_LEN
            + match self {
                Self::Open(open) => open.encoded_len(ctx),
                Self::Update(update) => update.encoded_len(ctx),
                Self::Notification(notification) => notification.encoded_len(ctx),
                Self::Keepalive => 0,
                Self::RouteRefresh(refresh) => refresh.encoded_len(ctx),
            }
    }

    /// Append the whole message, header included, and return its length. Nothing is written
    /// when the message exceeds [`MAX_MESSAGE_LEN`] (RFC 4271 §4.1).
    pub fn encode(&self, ctx: &CodecContext, buf: &mut BytesMut) -> Result<usize, EncodeError> {
        let len = self.encoded_len(ctx);
        if len > MAX_MESSAGE_LEN {
            return Err(EncodeError::MessageTooLong(len));
        }
        buf.reserve(len);
        buf.put_slice(&MARKER);
        buf.put_u16(len as u16);
        buf.put_u8(self.message_type() as u8);
        match self {
            Self::Open(open) => open.encode(ctx, buf),
            Self::Update(update) => update.encode(ctx, buf),
            Self::Notification(notification) => notification.encode(ctx, buf),
            Self::Keepalive => {}
            Self::RouteRefresh(refresh) => refresh.encode(ctx, buf),
        }
        Ok(len)
    }

    /// The message as a new buffer. See [`Message::encode`].
    pub fn to_bytes(&self, ctx: &CodecContext) -> Result<bytes::Bytes, EncodeError> {
        let mut buf = BytesMut::new();
        self.encode(ctx, &mut buf)?;
        Ok(buf.freeze())
    }
}
