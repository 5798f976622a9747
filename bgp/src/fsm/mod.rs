//! The BGP session state machine (RFC 4271 §8), free of I/O.
//!
//! A [`Session`] is a pure state machine: the driver passes in the time and an [`Input`]
//! (start/stop, TCP events, decoded messages, timer expiries) and carries out the [`Output`]s
//! (connect, send, close, arm/stop timers) in order. Time only enters through `now`, so tests
//! run two sessions back to back in memory with a simulated clock.
//!
//! - [`state`]: the six RFC states and their names.
//! - [`config`]: what we offer (OPEN) and expect (peer AS), with timer defaults.
//! - [`open_check`]: the checks of the peer's OPEN and capability negotiation into [`Negotiated`].
//! - `connection`: one TCP connection from OpenSent to Established, hold and keepalive timers.
//! - [`session`]: start/stop, connect retry, automatic restart with backoff, collisions (§6.8).
//!
//! Deliberate choices:
//! - after an error the session waits (IdleHold: 1 s doubling to 32 s, jitter 75–100 %) before
//!   it restarts by itself; the peer connecting to us meanwhile ends the wait (the RFC's Idle
//!   would refuse it and leave the session down for the peer's whole connect-retry time);
//! - ConnectRetry defaults to 5 s (RFC 4271 suggests 120 s), with the same jitter;
//! - KEEPALIVEs go every hold/3 regardless of UPDATEs sent; the hold timer is re-armed lazily
//!   (receiving a message moves a deadline, no timer output).
//!
//! Not implemented: DelayOpen, DampPeerOscillations beyond the idle-hold backoff, and the
//! optional collision check in OpenSent.

mod backoff;
pub mod config;
mod connection;
pub mod event;
pub mod negotiated;
pub mod open_check;
pub mod session;
pub mod state;

pub use config::SessionConfig;
pub use connection::fsm_error;
pub use event::{ConnectionId, Direction, DownReason, Input, Output, Timer};
pub use negotiated::Negotiated;
pub use open_check::check_open;
pub use session::{Session, cease};
pub use state::State;

#[cfg(test)]
mod tests;
