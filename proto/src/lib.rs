//! tern's gRPC API (tonic/prost).
//!
//! Not built yet: see issue 7.
