//! Errors of the [`crate::Speaker`] API.

use std::io;
use std::net::{IpAddr, SocketAddr};

use crate::driver::md5::Md5Error;

/// What can go wrong when starting or configuring the speaker.
#[derive(Debug, thiserror::Error)]
pub enum SpeakerError {
    /// A listening socket could not be opened.
    #[error("cannot listen on {address}: {source}")]
    Listen {
        address: SocketAddr,
        #[source]
        source: io::Error,
    },
    /// A peer with this address is configured already.
    #[error("peer {0} is configured already")]
    PeerExists(IpAddr),
    /// No peer with this address is configured.
    #[error("no peer {0}")]
    UnknownPeer(IpAddr),
    /// The operation needs an Established session with the peer.
    #[error("the session with {0} is not Established")]
    NotEstablished(IpAddr),
    /// The peer did not advertise the ROUTE-REFRESH capability (RFC 2918 §2), so it cannot
    /// be asked for its routes again.
    #[error("peer {0} does not support route refresh (no ROUTE-REFRESH capability)")]
    NoRouteRefresh(IpAddr),
    /// The hold time is 1 or 2 seconds (RFC 4271 §4.2 allows 0 or at least 3).
    #[error("hold time {0} s is invalid: use 0 or at least 3")]
    InvalidHoldTime(u16),
    /// The kernel refused the TCP-MD5 key.
    #[error(transparent)]
    Md5(#[from] Md5Error),
    /// The speaker has shut down.
    #[error("the speaker has shut down")]
    ShutDown,
}
