//! tern's BGP-4 speaker (RFC 4271).
//!
//! Layers, bottom up:
//! - [`packet`]: the wire codec. Decoding uses nom internally, behind [`packet::Decode`] and
//!   [`packet::DecodeError`]; encoding writes into `bytes::BytesMut`. Nothing here does I/O.
//! - [`fsm`]: the session state machine of RFC 4271 §8 as a pure function of inputs and time.
//! - [`rib`]: Adj-RIB-In, Loc-RIB, the decision process, route reflection, export rules and
//!   UPDATE packing (pure).
//! - [`filter`]: import/export filters with Calico's BGPFilter meaning (pure).
//! - [`driver`]: the tokio tasks, sockets (TCP-MD5, GTSM) and timers around them.
//! - [`speaker`]: the [`Speaker`] API on top.
//!
//! `driver` and `speaker` are behind the default `speaker` feature; without it the crate has
//! no tokio or socket code (the fuzz targets build it that way).

#[cfg(feature = "speaker")]
pub mod driver;
pub mod filter;
pub mod fsm;
pub mod mrt;
pub mod packet;
pub mod rib;
#[cfg(feature = "speaker")]
pub mod speaker;
#[cfg(feature = "testing")]
pub mod testing;

pub use fsm::State;
pub use rib::{DecidingStep, Path, PeerType, Route, RouteSource};
#[cfg(feature = "speaker")]
pub use speaker::{
    AdvertisedRoute, DEFAULT_MAX_SEND_QUEUE, Families, GracefulRestartConfig, MaxPrefix,
    MessageCounters, MessageCounts, PeerConfig, PeerStatus, ReceivedRoute, RouteChange, Speaker,
    SpeakerConfig, SpeakerError,
};
