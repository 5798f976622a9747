//! tern's BGP-4 speaker (RFC 4271).
//!
//! Layers, bottom up:
//! - [`packet`]: the wire codec. Decoding uses nom internally, behind [`packet::Decode`] and
//!   [`packet::DecodeError`]; encoding writes into `bytes::BytesMut`. Nothing here does I/O.
//! - [`fsm`]: the session state machine of RFC 4271 §8 as a pure function of inputs and time.
//! - [`rib`]: Loc-RIB, best path, export rules and UPDATE packing (pure).
//! - [`driver`]: the tokio tasks, sockets (TCP-MD5, GTSM) and timers around them.
//! - [`speaker`]: the [`Speaker`] API on top.

pub mod driver;
pub mod fsm;
pub mod mrt;
pub mod packet;
pub mod rib;
pub mod speaker;

pub use fsm::State;
pub use rib::{Path, PeerType, Route, RouteSource};
pub use speaker::{
    Families, MessageCounters, MessageCounts, PeerConfig, PeerStatus, RouteChange, Speaker,
    SpeakerConfig, SpeakerError,
};
