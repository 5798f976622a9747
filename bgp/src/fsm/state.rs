//! The six session states of RFC 4271 §8.2.2, named exactly as the RFC names them.

use std::fmt;

/// A BGP session state. RFC 4271 §8.2.2.
///
/// `Display` prints the RFC name (`Idle`, `Connect`, `Active`, `OpenSent`, `OpenConfirm`,
/// `Established`); the CLI and its JSON output rely on these exact strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum State {
    /// Refusing connections; waiting for a start (manual or automatic).
    Idle,
    /// Waiting for our outgoing TCP connection to complete.
    Connect,
    /// Listening for the peer to connect (and, for an active peer, waiting to retry).
    Active,
    /// OPEN sent, waiting for the peer's OPEN.
    OpenSent,
    /// OPEN received and accepted, waiting for the first KEEPALIVE.
    OpenConfirm,
    /// The session is up: UPDATEs flow.
    Established,
}

impl State {
    /// The RFC 4271 name of the state.
    pub fn name(self) -> &'static str {
        match self {
            State::Idle => "Idle",
            State::Connect => "Connect",
            State::Active => "Active",
            State::OpenSent => "OpenSent",
            State::OpenConfirm => "OpenConfirm",
            State::Established => "Established",
        }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
