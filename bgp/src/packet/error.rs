//! Decode errors: what went wrong, where, and what the session must do about it.

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

/// What the receiver of a malformed message does. RFC 7606 §2.
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

/// A message that could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed {field} at byte {offset}: {reason}")]
pub struct DecodeError {
    /// The field that was bad, e.g. "OPEN hold time", "AS_PATH segment length".
    pub field: &'static str,
    /// Offset from the start of the message.
    pub offset: usize,
    pub reason: String,
    pub action: ErrorAction,
}
