//! The tokio driver: sockets, timers and tasks around the sans-IO pieces.
//!
//! - `core`: one task that owns the Loc-RIB and the peer table, handles [`crate::Speaker`]
//!   commands, imports UPDATEs and sends advertisements (no locks: everything goes through it);
//! - `peer`: one task per peer, owning its FSM, sockets and timers;
//! - `connection`: reader/writer tasks of one TCP connection (framing with the codec);
//! - `listener`: accept loops; [`socket`]: listeners and outgoing connections;
//! - [`md5`] (RFC 2385) and [`ttl`] (GTSM, RFC 5082): socket options.

pub(crate) mod connection;
pub(crate) mod core;
pub(crate) mod listener;
pub mod md5;
pub(crate) mod peer;
pub mod socket;
pub(crate) mod timers;
pub mod ttl;
