//! Decode errors: what went wrong, where, and what the session must do about it.
//!
//! Every [`DecodeError`] names the field and the byte offset from the start of the message and
//! carries the [`ErrorAction`] the receiver takes (RFC 4271 §6, RFC 7606 §2). A session-reset
//! action holds the exact NOTIFICATION code, subcode and data to send.

use std::fmt;

/// NOTIFICATION error codes. RFC 4271 §4.5, RFC 4486 (Cease subcodes), RFC 7313.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NotificationCode {
    MessageHeader,
    OpenMessage,
    UpdateMessage,
    HoldTimerExpired,
    FiniteStateMachine,
    Cease,
    RouteRefreshMessage,
    Other(u8),
}

impl NotificationCode {
    /// The wire value. RFC 4271 §4.5.
    pub fn value(self) -> u8 {
        match self {
            Self::MessageHeader => 1,
            Self::OpenMessage => 2,
            Self::UpdateMessage => 3,
            Self::HoldTimerExpired => 4,
            Self::FiniteStateMachine => 5,
            Self::Cease => 6,
            Self::RouteRefreshMessage => 7,
            Self::Other(v) => v,
        }
    }
}

impl From<u8> for NotificationCode {
    fn from(v: u8) -> Self {
        match v {
            1 => Self::MessageHeader,
            2 => Self::OpenMessage,
            3 => Self::UpdateMessage,
            4 => Self::HoldTimerExpired,
            5 => Self::FiniteStateMachine,
            6 => Self::Cease,
            7 => Self::RouteRefreshMessage,
            other => Self::Other(other),
        }
    }
}

/// Message Header Error subcodes. RFC 4271 §6.1.
pub mod header_subcode {
    pub const CONNECTION_NOT_SYNCHRONIZED: u8 = 1;
    pub const BAD_MESSAGE_LENGTH: u8 = 2;
    pub const BAD_MESSAGE_TYPE: u8 = 3;
}

/// OPEN Message Error subcodes. RFC 4271 §6.2, RFC 5492 §5 (7).
pub mod open_subcode {
    pub const UNSPECIFIC: u8 = 0;
    pub const UNSUPPORTED_VERSION_NUMBER: u8 = 1;
    pub const BAD_PEER_AS: u8 = 2;
    pub const BAD_BGP_IDENTIFIER: u8 = 3;
    pub const UNSUPPORTED_OPTIONAL_PARAMETER: u8 = 4;
    pub const UNACCEPTABLE_HOLD_TIME: u8 = 6;
    pub const UNSUPPORTED_CAPABILITY: u8 = 7;
}

/// UPDATE Message Error subcodes. RFC 4271 §6.3.
pub mod update_subcode {
    pub const MALFORMED_ATTRIBUTE_LIST: u8 = 1;
    pub const UNRECOGNIZED_WELL_KNOWN_ATTRIBUTE: u8 = 2;
    pub const MISSING_WELL_KNOWN_ATTRIBUTE: u8 = 3;
    pub const ATTRIBUTE_FLAGS_ERROR: u8 = 4;
    pub const ATTRIBUTE_LENGTH_ERROR: u8 = 5;
    pub const INVALID_ORIGIN_ATTRIBUTE: u8 = 6;
    pub const INVALID_NEXT_HOP_ATTRIBUTE: u8 = 8;
    pub const OPTIONAL_ATTRIBUTE_ERROR: u8 = 9;
    pub const INVALID_NETWORK_FIELD: u8 = 10;
    pub const MALFORMED_AS_PATH: u8 = 11;
}

/// Cease subcodes. RFC 4486 §4, RFC 8538 §3 (Hard Reset).
pub mod cease_subcode {
    pub const MAXIMUM_PREFIXES_REACHED: u8 = 1;
    pub const ADMINISTRATIVE_SHUTDOWN: u8 = 2;
    pub const PEER_DECONFIGURED: u8 = 3;
    pub const ADMINISTRATIVE_RESET: u8 = 4;
    pub const CONNECTION_REJECTED: u8 = 5;
    pub const OTHER_CONFIGURATION_CHANGE: u8 = 6;
    pub const CONNECTION_COLLISION_RESOLUTION: u8 = 7;
    pub const OUT_OF_RESOURCES: u8 = 8;
    pub const HARD_RESET: u8 = 9;
}

/// ROUTE-REFRESH Message Error subcodes. RFC 7313 §5.
pub mod route_refresh_subcode {
    pub const INVALID_MESSAGE_LENGTH: u8 = 1;
}

/// What the receiver of a malformed message does. RFC 7606 §2.
///
/// Ordered from weakest to strongest: when one UPDATE has several errors, the strongest action
/// wins (RFC 7606 §3 f).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorAction {
    /// Send this NOTIFICATION and close the session.
    SessionReset {
        code: NotificationCode,
        subcode: u8,
        data: Vec<u8>,
    },
    /// Treat every NLRI of the UPDATE as withdrawn. RFC 7606 §2.
    TreatAsWithdraw,
    /// Drop the bad attribute, keep the rest. RFC 7606 §2.
    AttributeDiscard,
}

impl ErrorAction {
    /// A session reset with this code, subcode and data.
    pub fn reset(code: NotificationCode, subcode: u8, data: impl Into<Vec<u8>>) -> Self {
        Self::SessionReset {
            code,
            subcode,
            data: data.into(),
        }
    }

    /// Strength rank: discard < treat-as-withdraw < session reset (RFC 7606 §3 f).
    pub fn severity(&self) -> u8 {
        match self {
            Self::AttributeDiscard => 0,
            Self::TreatAsWithdraw => 1,
            Self::SessionReset { .. } => 2,
        }
    }
}

/// Why a field was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorReason {
    /// The field needs `needed` bytes but only `available` remain.
    Truncated { needed: usize, available: usize },
    /// The 16-byte marker is not all ones.
    BadMarker,
    /// A length field holds a value that is out of range or disagrees with its container.
    BadLength(usize),
    /// An unknown message type.
    BadType(u8),
    /// A value not allowed in this field.
    InvalidValue(u32),
    /// Bytes left over after the last element.
    TrailingBytes(usize),
    /// A prefix length longer than the address family allows.
    BadPrefixLength(u8),
    /// Attribute flags that conflict with the attribute type.
    BadFlags(u8),
    /// The attribute appeared before in this UPDATE.
    Duplicate,
    /// A well-known attribute tern does not know.
    UnrecognizedWellKnown(u8),
    /// A well-known mandatory attribute is missing.
    Missing(u8),
    /// An unknown or unsupported optional parameter in OPEN.
    UnsupportedParameter(u8),
    /// The message does not fit in the encoding limits.
    TooLong(usize),
    /// An element that must not appear here (e.g. AS4_PATH between 4-octet speakers).
    NotExpected,
}

impl fmt::Display for ErrorReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Truncated { needed, available } => {
                write!(f, "needs {needed} bytes, {available} available")
            }
            Self::BadMarker => write!(f, "marker is not all ones"),
            Self::BadLength(len) => write!(f, "bad length {len}"),
            Self::BadType(t) => write!(f, "unknown message type {t}"),
            Self::InvalidValue(v) => write!(f, "invalid value {v}"),
            Self::TrailingBytes(n) => write!(f, "{n} trailing bytes"),
            Self::BadPrefixLength(len) => write!(f, "prefix length {len} too long"),
            Self::BadFlags(flags) => write!(f, "attribute flags {flags:#04x} conflict with type"),
            Self::Duplicate => write!(f, "attribute repeated"),
            Self::UnrecognizedWellKnown(t) => write!(f, "unrecognized well-known attribute {t}"),
            Self::Missing(t) => write!(f, "missing well-known attribute {t}"),
            Self::UnsupportedParameter(t) => write!(f, "unsupported optional parameter {t}"),
            Self::TooLong(len) => write!(f, "{len} bytes is too long"),
            Self::NotExpected => write!(f, "not expected here"),
        }
    }
}

/// A message, or part of one, that could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed {field} at byte {offset}: {reason}")]
pub struct DecodeError {
    /// The field that was bad, e.g. "OPEN hold time", "AS_PATH segment length".
    pub field: &'static str,
    /// Offset from the start of the message (the first marker byte).
    pub offset: usize,
    pub reason: ErrorReason,
    pub action: ErrorAction,
}

impl DecodeError {
    /// A new error.
    pub fn new(
        field: &'static str,
        offset: usize,
        reason: ErrorReason,
        action: ErrorAction,
    ) -> Self {
        Self {
            field,
            offset,
            reason,
            action,
        }
    }

    /// True when the session must be closed with a NOTIFICATION.
    pub fn is_session_reset(&self) -> bool {
        matches!(self.action, ErrorAction::SessionReset { .. })
    }
}

/// Encoding failures: the value cannot be put on the wire as it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// The message would be longer than [`super::MAX_MESSAGE_LEN`]. RFC 4271 §4.1.
    #[error("message of {0} bytes exceeds the 4096-byte limit")]
    MessageTooLong(usize),
}
