//! OPEN message capabilities (RFC 5492) and the address families they name.
//!
//! ```text
//! +------------------------------+
//! | Capability Code (1 octet)    |
//! +------------------------------+
//! | Capability Length (1 octet)  |
//! +------------------------------+
//! | Capability Value (variable)  |
//! +------------------------------+
//! ```
//!
//! A known capability whose value has the wrong size is kept as [`Capability::Unknown`] rather
//! than failing the OPEN: the FSM then simply does not see it as negotiated.

use bytes::{BufMut, Bytes, BytesMut};

use super::error::DecodeError;
use super::reader::Reader;

/// Address Family Identifier (IANA).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Afi {
    Ipv4,
    Ipv6,
    /// Any other value, kept so an unknown family survives a round trip.
    Other(u16),
}

impl Afi {
    /// The wire value.
    pub fn value(self) -> u16 {
        match self {
            Self::Ipv4 => 1,
            Self::Ipv6 => 2,
            Self::Other(v) => v,
        }
    }
}

impl From<u16> for Afi {
    fn from(v: u16) -> Self {
        match v {
            1 => Self::Ipv4,
            2 => Self::Ipv6,
            other => Self::Other(other),
        }
    }
}

/// Subsequent Address Family Identifier (IANA).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Safi {
    Unicast,
    Multicast,
    Other(u8),
}

impl Safi {
    /// The wire value.
    pub fn value(self) -> u8 {
        match self {
            Self::Unicast => 1,
            Self::Multicast => 2,
            Self::Other(v) => v,
        }
    }
}

impl From<u8> for Safi {
    fn from(v: u8) -> Self {
        match v {
            1 => Self::Unicast,
            2 => Self::Multicast,
            other => Self::Other(other),
        }
    }
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

/// Capability codes (IANA "Capability Codes").
pub mod code {
    pub const MULTIPROTOCOL: u8 = 1;
    pub const ROUTE_REFRESH: u8 = 2;
    pub const EXTENDED_NEXT_HOP: u8 = 5;
    pub const GRACEFUL_RESTART: u8 = 64;
    pub const FOUR_OCTET_AS: u8 = 65;
    pub const ENHANCED_ROUTE_REFRESH: u8 = 70;
}

const RESTART_FLAG: u16 = 0x8000;
const NOTIFICATION_FLAG: u16 = 0x4000;
const RESTART_TIME_MASK: u16 = 0x0FFF;
const FORWARDING_FLAG: u8 = 0x80;

impl Capability {
    /// The capability code.
    pub fn code(&self) -> u8 {
        match self {
            Self::MultiProtocol { .. } => code::MULTIPROTOCOL,
            Self::RouteRefresh => code::ROUTE_REFRESH,
            Self::ExtendedNextHop(_) => code::EXTENDED_NEXT_HOP,
            Self::GracefulRestart(_) => code::GRACEFUL_RESTART,
            Self::FourOctetAs(_) => code::FOUR_OCTET_AS,
            Self::EnhancedRouteRefresh => code::ENHANCED_ROUTE_REFRESH,
            Self::Unknown { code, .. } => *code,
        }
    }

    /// Length of the value on the wire.
    pub fn value_len(&self) -> usize {
        match self {
            Self::MultiProtocol { .. } => 4,
            Self::RouteRefresh | Self::EnhancedRouteRefresh => 0,
            Self::ExtendedNextHop(entries) => 6 * entries.len(),
            Self::GracefulRestart(gr) => 2 + 4 * gr.families.len(),
            Self::FourOctetAs(_) => 4,
            Self::Unknown { value, .. } => value.len(),
        }
    }

    /// Decode one capability value. Sizes that do not fit the code keep it as `Unknown`.
    pub(crate) fn from_value(code: u8, value: &[u8]) -> Self {
        let reader = Reader::new(value, 0, super::ErrorAction::AttributeDiscard);
        Self::parse_value(code, reader).unwrap_or_else(|_| Self::Unknown {
            code,
            value: Bytes::copy_from_slice(value),
        })
    }

    fn parse_value(code: u8, mut r: Reader<'_>) -> Result<Self, DecodeError> {
        let capability = match code {
            code::MULTIPROTOCOL if r.remaining() == 4 => {
                let afi = Afi::from(r.u16("multiprotocol AFI")?);
                let _reserved = r.u8("multiprotocol reserved")?;
                let safi = Safi::from(r.u8("multiprotocol SAFI")?);
                Self::MultiProtocol { afi, safi }
            }
            code::ROUTE_REFRESH if r.is_empty() => Self::RouteRefresh,
            code::ENHANCED_ROUTE_REFRESH if r.is_empty() => Self::EnhancedRouteRefresh,
            code::FOUR_OCTET_AS if r.remaining() == 4 => Self::FourOctetAs(r.u32("4-octet AS")?),
            code::EXTENDED_NEXT_HOP if r.remaining().is_multiple_of(6) => {
                let mut entries = Vec::with_capacity(r.remaining() / 6);
                while !r.is_empty() {
                    let afi = Afi::from(r.u16("extended next hop NLRI AFI")?);
                    let safi = r.u16("extended next hop NLRI SAFI")?;
                    let next_hop_afi = Afi::from(r.u16("extended next hop AFI")?);
                    let Ok(safi) = u8::try_from(safi) else {
                        return Err(r.error(
                            "extended next hop NLRI SAFI",
                            super::ErrorReason::InvalidValue(u32::from(safi)),
                        ));
                    };
                    entries.push((afi, Safi::from(safi), next_hop_afi));
                }
                Self::ExtendedNextHop(entries)
            }
            code::GRACEFUL_RESTART
                if r.remaining() >= 2 && (r.remaining() - 2).is_multiple_of(4) =>
            {
                let word = r.u16("graceful restart flags")?;
                let mut families = Vec::with_capacity(r.remaining() / 4);
                while !r.is_empty() {
                    let afi = Afi::from(r.u16("graceful restart AFI")?);
                    let safi = Safi::from(r.u8("graceful restart SAFI")?);
                    let flags = r.u8("graceful restart family flags")?;
                    families.push(GracefulRestartFamily {
                        afi,
                        safi,
                        forwarding_preserved: flags & FORWARDING_FLAG != 0,
                    });
                }
                Self::GracefulRestart(GracefulRestart {
                    restarting: word & RESTART_FLAG != 0,
                    notification: word & NOTIFICATION_FLAG != 0,
                    restart_time: word & RESTART_TIME_MASK,
                    families,
                })
            }
            _ => Self::Unknown {
                code,
                value: Bytes::copy_from_slice(r.take_rest()),
            },
        };
        r.expect_end("capability value")?;
        Ok(capability)
    }

    /// Append code, length and value. Values longer than 255 bytes cannot be encoded and are
    /// truncated to 255 (no capability tern sends comes close).
    pub fn encode(&self, buf: &mut BytesMut) {
        buf.put_u8(self.code());
        buf.put_u8(u8::try_from(self.value_len()).unwrap_or(u8::MAX));
        let start = buf.len();
        match self {
            Self::MultiProtocol { afi, safi } => {
                buf.put_u16(afi.value());
                buf.put_u8(0);
                buf.put_u8(safi.value());
            }
            Self::RouteRefresh | Self::EnhancedRouteRefresh => {}
            Self::ExtendedNextHop(entries) => {
                for (afi, safi, next_hop_afi) in entries {
                    buf.put_u16(afi.value());
                    buf.put_u16(u16::from(safi.value()));
                    buf.put_u16(next_hop_afi.value());
                }
            }
            Self::GracefulRestart(gr) => {
                let mut word = gr.restart_time & RESTART_TIME_MASK;
                if gr.restarting {
                    word |= RESTART_FLAG;
                }
                if gr.notification {
                    word |= NOTIFICATION_FLAG;
                }
                buf.put_u16(word);
                for family in &gr.families {
                    buf.put_u16(family.afi.value());
                    buf.put_u8(family.safi.value());
                    buf.put_u8(if family.forwarding_preserved {
                        FORWARDING_FLAG
                    } else {
                        0
                    });
                }
            }
            Self::FourOctetAs(asn) => buf.put_u32(*asn),
            Self::Unknown { value, .. } => buf.put_slice(value),
        }
        buf.truncate(start + self.value_len().min(255));
    }

    /// Encoded length: code, length and value.
    pub fn encoded_len(&self) -> usize {
        2 + self.value_len().min(255)
    }
}
