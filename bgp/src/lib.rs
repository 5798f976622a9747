//! tern's BGP-4 speaker (RFC 4271).
//!
//! Layers, bottom up:
//! - [`packet`]: the wire codec. Decoding uses nom internally, behind [`packet::Decode`] and
//!   [`packet::DecodeError`]; encoding writes into `bytes::BytesMut`. Nothing here does I/O.
//! - [`fsm`]: the session state machine of RFC 4271 §8 as a pure function of inputs and time.
//! - the tokio driver and [`Speaker`] API on top (sockets, timers, TCP-MD5, GTSM).

pub mod fsm;
pub mod packet;
pub mod rib;
