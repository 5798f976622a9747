//! BGP-4 wire codec (RFC 4271 §4) with the extensions tern speaks.
//!
//! Every message is a typed value ([`Message`]); decoding never panics on any input and reports
//! failures as [`DecodeError`], which names the field and byte offset and says what the session
//! must do about it (a NOTIFICATION, or an RFC 7606 action).
//!
//! - [`frame_len`] cuts a byte stream into messages (header checks of RFC 4271 §6.1);
//! - [`Message::decode`] / [`Message::encode`] handle one whole message with its header;
//! - [`Decode`] / [`Encode`] handle the body of one message type (used by tests and fuzzers).
//!
//! nom is used inside the decoders only; no nom type appears in a public signature.
//!
//! Decisions a caller relies on:
//! - UPDATE errors follow RFC 7606: only session-reset errors are `Err`; treat-as-withdraw and
//!   attribute-discard errors come back in [`Update::errors`] (see [`Update::treat_as_withdraw`]).
//!   Checks that need session knowledge (eBGP vs iBGP: LOCAL_PREF, confederation segments, first
//!   AS, NEXT_HOP semantics) are the session's, not the codec's.
//! - Prefix host bits are cleared on decode and never sent (RFC 4271 §4.3: "irrelevant").
//! - MP_REACH_NLRI / MP_UNREACH_NLRI are decoded for IPv4/IPv6 unicast and multicast; other
//!   families are kept raw in [`PathAttributes::unknown`].
//! - Messages are at most [`MAX_MESSAGE_LEN`] bytes (no RFC 8654 Extended Message yet).
//!
//! ```
//! use bgp::packet::{CodecContext, Message, frame_len};
//!
//! let ctx = CodecContext::default();
//! let mut stream = bytes::BytesMut::new();
//! Message::Keepalive.encode(&ctx, &mut stream).unwrap();
//! Message::Keepalive.encode(&ctx, &mut stream).unwrap();
//! let mut messages = Vec::new();
//! while let Some(len) = frame_len(&stream).unwrap() {
//!     if stream.len() < len {
//!         break; // wait for more bytes
//!     }
//!     let frame = stream.split_to(len);
//!     messages.push(Message::decode(&frame, &ctx).unwrap());
//! }
//! assert_eq!(messages, [Message::Keepalive, Message::Keepalive]);
//! ```

pub mod attribute;
pub mod capability;
pub mod error;
pub mod header;
pub mod message;
pub mod nlri;
pub mod notification;
pub mod open;
pub(crate) mod reader;
pub mod route_refresh;
pub mod update;

pub use attribute::{
    Aggregator, AsPath, AsSegment, AsSegmentType, Community, ExtendedCommunity, LargeCommunity,
    MpReach, MpUnreach, NextHop, Origin, PathAttributes, RawAttribute,
};
pub use capability::{Afi, Capability, GracefulRestart, GracefulRestartFamily, Safi};
pub use error::{DecodeError, EncodeError, ErrorAction, ErrorReason, NotificationCode};
pub use header::frame_len;
pub use message::{Message, MessageType, Notification, Open, RouteRefresh};
pub use open::decode_optional_parameters;
pub use update::Update;

use bytes::BytesMut;

/// Length of the fixed header: marker (16), length (2), type (1). RFC 4271 §4.1.
pub const HEADER_LEN: usize = 19;
/// Largest message without the Extended Message capability. RFC 4271 §4.1.
pub const MAX_MESSAGE_LEN: usize = 4096;
/// AS_TRANS, the 2-octet stand-in for a 4-octet AS number. RFC 6793 §9.
pub const AS_TRANS: u16 = 23456;

/// What the session has negotiated that changes how messages are read and written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodecContext {
    /// Both sides advertised the 4-octet AS capability (RFC 6793): AS_PATH carries 4-octet ASNs.
    pub four_octet_as: bool,
}

impl CodecContext {
    /// A session where both sides speak 4-octet AS numbers (RFC 6793).
    pub const FOUR_OCTET_AS: Self = Self {
        four_octet_as: true,
    };
    /// A session with a 2-octet ("OLD") speaker.
    pub const TWO_OCTET_AS: Self = Self {
        four_octet_as: false,
    };

    /// The context of a session after the OPEN exchange: 4-octet AS numbers only when both
    /// sides advertised the capability (RFC 6793 §3).
    pub fn negotiate(local: &Open, remote: &Open) -> Self {
        Self {
            four_octet_as: local.supports_four_octet_as() && remote.supports_four_octet_as(),
        }
    }
}

impl Default for CodecContext {
    fn default() -> Self {
        Self::FOUR_OCTET_AS
    }
}

/// Decoding of one message body (the bytes after the 19-byte header).
///
/// Offsets in errors count from the start of the whole message, i.e. the body starts at
/// [`HEADER_LEN`].
pub trait Decode: Sized {
    /// Decode `body`, which must be exactly the message body.
    fn decode(body: &[u8], ctx: &CodecContext) -> Result<Self, DecodeError>;
}

/// Encoding of one message body (without the header) into a buffer.
pub trait Encode {
    /// The number of bytes [`Encode::encode`] writes.
    fn encoded_len(&self, ctx: &CodecContext) -> usize;
    /// Append the body to `buf`.
    fn encode(&self, ctx: &CodecContext, buf: &mut BytesMut);
}
