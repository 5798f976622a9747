//! Peer drivers.
