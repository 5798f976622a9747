//! OPEN message capabilities (RFC 5492) and the address families they name.

use bytes::Bytes;

/// Address Family Identifier (IANA).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Afi {
    Ipv4,
    Ipv6,
    /// Any other value, kept so an unknown family survives a round trip.
    Other(u16),
}

/// Subsequent Address Family Identifier (IANA).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Safi {
    Unicast,
    Multicast,
    Other(u8),
}

/// One family in the Graceful Restart capability. RFC 4724 §3.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GracefulRestartFamily {
    pub afi: Afi,
    pub safi: Safi,
    /// The F bit: forwarding state for this family was preserved across the restart.
    pub forwarding_preserved: bool,
}

/// The Graceful Restart capability (code 64). RFC 4724 §3, N bit from RFC 8538.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GracefulRestart {
    /// The R bit: the sender has restarted.
    pub restarting: bool,
    /// The N bit (RFC 8538): the sender supports graceful restart for NOTIFICATIONs.
    pub notification: bool,
    /// Restart time in seconds (12 bits).
    pub restart_time: u16,
    pub families: Vec<GracefulRestartFamily>,
}

/// A capability advertised in OPEN. Unknown ones are kept as they came.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Capability {
    /// Code 1, RFC 4760 §8.
    MultiProtocol { afi: Afi, safi: Safi },
    /// Code 2, RFC 2918.
    RouteRefresh,
    /// Code 5, RFC 8950: NLRI of (afi, safi) may carry a next hop of `next_hop_afi`.
    ExtendedNextHop(Vec<(Afi, Safi, Afi)>),
    /// Code 64, RFC 4724.
    GracefulRestart(GracefulRestart),
    /// Code 65, RFC 6793.
    FourOctetAs(u32),
    /// Code 70, RFC 7313.
    EnhancedRouteRefresh,
    /// Any other capability, kept as received.
    Unknown { code: u8, value: Bytes },
}
