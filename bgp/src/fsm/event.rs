//! What goes into the session state machine and what comes out of it.
//!
//! The driver turns socket and timer events into [`Input`]s and carries out every [`Output`]
//! in order. Nothing here does I/O.

use std::fmt;
use std::time::Duration;

use crate::packet::{DecodeError, Message, Notification, NotificationCode, RouteRefresh, Update};

use super::negotiated::Negotiated;
use super::state::State;

/// Names one TCP connection. The driver picks the numbers; they must not be reused while the
/// session lives (a counter is enough).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnectionId(pub u64);

impl fmt::Display for ConnectionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "connection {}", self.0)
    }
}

/// Who opened a connection. Collision resolution (RFC 4271 §6.8) keeps the connection opened
/// by the speaker with the higher BGP identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// We connected to the peer.
    Outgoing,
    /// The peer connected to us.
    Incoming,
}

/// The session's timers. RFC 4271 §8 and §10. Hold and Keepalive run per connection, because
/// two connections may be open at once until a collision is resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Timer {
    /// Spaces outgoing connection attempts (RFC 4271 §10 ConnectRetryTime).
    ConnectRetry,
    /// Delays the automatic restart after an error (RFC 4271 §8.1.1 IdleHoldTimer), with backoff.
    IdleHold,
    /// Expires when the peer has been silent for the hold time.
    Hold(ConnectionId),
    /// Sends the next KEEPALIVE.
    Keepalive(ConnectionId),
}

/// An event for the state machine. RFC 4271 §8.1 names the ones in brackets.
#[derive(Debug, Clone)]
pub enum Input {
    /// Start the session (ManualStart; `ManualStart_with_PassiveTcpEstablishment` for a passive peer).
    ManualStart,
    /// Stop it: NOTIFICATION Cease with this subcode (RFC 4486: 2 Administrative Shutdown,
    /// 3 Peer De-configured, 6 Other Configuration Change), close, stay Idle (ManualStop).
    ManualStop { cease_subcode: u8 },
    /// Stop for a local reason with this NOTIFICATION (e.g. Cease / Maximum Number of
    /// Prefixes Reached, RFC 4486), close, stay Idle until the next ManualStart (AutomaticStop,
    /// RFC 4271 §8.1.2 event 8).
    AutomaticStop { notification: Notification },
    /// A TCP connection to or from the peer is up (Tcp_CR_Acked / TcpConnectionConfirmed).
    TcpConnected {
        connection: ConnectionId,
        direction: Direction,
    },
    /// Our outgoing connection attempt failed or timed out (TcpConnectionFails before connect).
    ConnectFailed,
    /// The connection was closed or broke (TcpConnectionFails).
    TcpClosed { connection: ConnectionId },
    /// A message arrived on a connection (boxed: an UPDATE is large).
    Message {
        connection: ConnectionId,
        message: Box<Message>,
    },
    /// A message arrived that could not be decoded (BGPHeaderErr, BGPOpenMsgErr, UpdateMsgErr).
    DecodeError {
        connection: ConnectionId,
        error: DecodeError,
    },
    /// A timer armed by [`Output::ArmTimer`] ran out.
    TimerExpired(Timer),
    /// More is queued for writing on `connection` than the driver allows: the peer does not
    /// read. NOTIFICATION Cease / Out of Resources (RFC 4486 §4, subcode 8), close, and
    /// restart automatically as after any error (a local resource error, RFC 4271 §6.7).
    SendQueueOverflow { connection: ConnectionId },
}

impl Input {
    /// ManualStop with Cease / Administrative Shutdown (RFC 4486 subcode 2).
    pub fn manual_stop() -> Self {
        Input::ManualStop {
            cease_subcode: super::session::cease::ADMINISTRATIVE_SHUTDOWN,
        }
    }
}

/// Work for the driver, to be done in order.
#[derive(Debug, Clone)]
pub enum Output {
    /// Open an outgoing TCP connection; report [`Input::TcpConnected`] with
    /// [`Direction::Outgoing`] or [`Input::ConnectFailed`]. Give up after the connect-retry time.
    Connect,
    /// The outgoing connection attempt got no answer before the connect-retry timer expired
    /// (peer down, SYNs filtered, or a TCP-MD5 / GTSM mismatch drops them); a new attempt
    /// follows. For the operator: nothing else would say why the session never comes up.
    ConnectUnanswered,
    /// Abandon the outgoing connection attempt in progress, if any.
    CancelConnect,
    /// Write a message to a connection.
    Send(ConnectionId, Message),
    /// Flush what was sent, then close the connection. No further input is expected for it.
    Close(ConnectionId),
    /// (Re)arm a timer to fire once after the duration.
    ArmTimer(Timer, Duration),
    /// Disarm a timer; a no-op if it is not armed.
    StopTimer(Timer),
    /// The session state (as reported to users) changed.
    StateChanged { from: State, to: State },
    /// The session reached Established on `connection`; UPDATEs may flow. Use
    /// [`Negotiated::codec_context`] to read and write them from now on.
    Established {
        connection: ConnectionId,
        negotiated: Negotiated,
    },
    /// The session went back to Idle. If it was Established, everything learned from the peer
    /// must be withdrawn.
    Down {
        reason: DownReason,
        was_established: bool,
    },
    /// An UPDATE arrived on the established connection (for the RIB).
    Update(Update),
    /// The peer asked for our routes again (RFC 2918; RFC 7313 subtypes pass through).
    RouteRefresh(RouteRefresh),
}

/// Why a session went down; the text is what users see as "last error".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DownReason {
    /// We stopped it.
    ManualStop,
    /// We sent this NOTIFICATION (a protocol error on the peer's side, or our hold timer).
    NotificationSent(Notification),
    /// The peer sent this NOTIFICATION.
    NotificationReceived(Notification),
    /// The TCP connection closed without a NOTIFICATION.
    ConnectionClosed,
}

impl DownReason {
    /// Whether this is the Cease/Connection Collision Resolution (RFC 4271 §6.8, RFC 4486)
    /// that closes the losing one of two connections: the session itself goes on over the
    /// other, so this is not an error worth showing a user.
    pub fn is_collision_resolution(&self) -> bool {
        match self {
            DownReason::NotificationSent(n) | DownReason::NotificationReceived(n) => {
                n.code == NotificationCode::Cease
                    && n.subcode
                        == crate::packet::error::cease_subcode::CONNECTION_COLLISION_RESOLUTION
            }
            DownReason::ManualStop | DownReason::ConnectionClosed => false,
        }
    }
}

impl fmt::Display for DownReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DownReason::ManualStop => f.write_str("stopped by administrator"),
            DownReason::NotificationSent(n) => {
                write!(f, "sent NOTIFICATION {}", describe(n))
            }
            DownReason::NotificationReceived(n) => {
                write!(f, "received NOTIFICATION {}", describe(n))
            }
            DownReason::ConnectionClosed => f.write_str("connection closed"),
        }
    }
}

/// "Cease/Connection Collision Resolution (6/7)"-style text for a NOTIFICATION.
pub fn describe(notification: &Notification) -> String {
    let (code_name, code) = match notification.code {
        NotificationCode::MessageHeader => ("Message Header Error", 1),
        NotificationCode::OpenMessage => ("OPEN Message Error", 2),
        NotificationCode::UpdateMessage => ("UPDATE Message Error", 3),
        NotificationCode::HoldTimerExpired => ("Hold Timer Expired", 4),
        NotificationCode::FiniteStateMachine => ("Finite State Machine Error", 5),
        NotificationCode::Cease => ("Cease", 6),
        NotificationCode::RouteRefreshMessage => ("ROUTE-REFRESH Message Error", 7),
        NotificationCode::Other(c) => ("Unknown", c),
    };
    let sub = subcode_name(notification.code, notification.subcode);
    match sub {
        Some(sub) => format!("{code_name}/{sub} ({code}/{})", notification.subcode),
        None => format!("{code_name} ({code}/{})", notification.subcode),
    }
}

fn subcode_name(code: NotificationCode, subcode: u8) -> Option<&'static str> {
    use NotificationCode::*;
    Some(match (code, subcode) {
        (OpenMessage, 1) => "Unsupported Version Number",
        (OpenMessage, 2) => "Bad Peer AS",
        (OpenMessage, 3) => "Bad BGP Identifier",
        (OpenMessage, 4) => "Unsupported Optional Parameter",
        (OpenMessage, 6) => "Unacceptable Hold Time",
        (OpenMessage, 7) => "Unsupported Capability",
        (FiniteStateMachine, 1) => "Unexpected Message in OpenSent",
        (FiniteStateMachine, 2) => "Unexpected Message in OpenConfirm",
        (FiniteStateMachine, 3) => "Unexpected Message in Established",
        (Cease, 1) => "Maximum Number of Prefixes Reached",
        (Cease, 2) => "Administrative Shutdown",
        (Cease, 3) => "Peer De-configured",
        (Cease, 4) => "Administrative Reset",
        (Cease, 5) => "Connection Rejected",
        (Cease, 6) => "Other Configuration Change",
        (Cease, 7) => "Connection Collision Resolution",
        (Cease, 8) => "Out of Resources",
        (Cease, 9) => "Hard Reset",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::error::cease_subcode;

    #[test]
    fn only_the_collision_cease_counts_as_collision_resolution() {
        let collision = Notification::new(
            NotificationCode::Cease,
            cease_subcode::CONNECTION_COLLISION_RESOLUTION,
            Vec::new(),
        );
        let admin_reset = Notification::new(NotificationCode::Cease, 4, Vec::new());
        assert!(DownReason::NotificationReceived(collision.clone()).is_collision_resolution());
        assert!(DownReason::NotificationSent(collision).is_collision_resolution());
        assert!(!DownReason::NotificationReceived(admin_reset).is_collision_resolution());
        assert!(!DownReason::ConnectionClosed.is_collision_resolution());
    }
}
