//! BGP-4 wire codec (RFC 4271 §4) with the extensions tern speaks.
//!
//! Every message is a typed value ([`Message`]); decoding never panics on any input and reports
//! failures as [`DecodeError`], which names the field and byte offset and says what the session
//! must do about it (a NOTIFICATION, or an RFC 7606 action).

pub mod capability;
pub mod error;
pub mod message;

pub use capability::{Afi, Capability, GracefulRestart, GracefulRestartFamily, Safi};
pub use error::{DecodeError, ErrorAction, NotificationCode};
pub use message::{Message, MessageType, Notification, Open, RouteRefresh, Update};

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

impl Default for CodecContext {
    fn default() -> Self {
        Self {
            four_octet_as: true,
        }
    }
}
