//! The five BGP message types. RFC 4271 §4.2–4.5, RFC 2918 (ROUTE-REFRESH).

use std::net::Ipv4Addr;

use bytes::Bytes;

use super::capability::{Afi, Capability, Safi};
use super::error::NotificationCode;
pub use super::update::Update;

/// Message type codes. RFC 4271 §4.1, RFC 2918 §3.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageType {
    Open = 1,
    Update = 2,
    Notification = 3,
    Keepalive = 4,
    RouteRefresh = 5,
}

/// Any BGP message.
// UPDATE is by far the most frequent message; boxing it would cost an allocation per UPDATE
// to save a move of a few hundred bytes for the rare others.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    Open(Open),
    Update(Update),
    Notification(Notification),
    Keepalive,
    RouteRefresh(RouteRefresh),
}

/// OPEN. RFC 4271 §4.2; capabilities in optional parameter 2 (RFC 5492).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Open {
    /// Always 4.
    pub version: u8,
    /// The 2-octet "My Autonomous System" field: [`super::AS_TRANS`] when the real AS needs 4
    /// octets (then [`Capability::FourOctetAs`] carries it).
    pub my_as: u16,
    /// Proposed hold time in seconds: 0 or at least 3.
    pub hold_time: u16,
    pub bgp_identifier: Ipv4Addr,
    pub capabilities: Vec<Capability>,
}

impl Open {
    /// The speaker's real AS: the 4-octet capability when present, else `my_as`.
    pub fn asn(&self) -> u32 {
        self.capabilities
            .iter()
            .find_map(|c| match c {
                Capability::FourOctetAs(asn) => Some(*asn),
                _ => None,
            })
            .unwrap_or(u32::from(self.my_as))
    }

    /// True when the 4-octet AS capability is advertised. RFC 6793 §3.
    pub fn supports_four_octet_as(&self) -> bool {
        self.capabilities
            .iter()
            .any(|c| matches!(c, Capability::FourOctetAs(_)))
    }

    /// The (AFI, SAFI) pairs of the Multiprotocol capabilities. RFC 4760 §8.
    pub fn multiprotocol_families(&self) -> impl Iterator<Item = (Afi, Safi)> + '_ {
        self.capabilities.iter().filter_map(|c| match c {
            Capability::MultiProtocol { afi, safi } => Some((*afi, *safi)),
            _ => None,
        })
    }

    /// The Graceful Restart capability, if advertised. RFC 4724 §3.
    pub fn graceful_restart(&self) -> Option<&super::capability::GracefulRestart> {
        self.capabilities.iter().find_map(|c| match c {
            Capability::GracefulRestart(gr) => Some(gr),
            _ => None,
        })
    }

    /// True when this capability code is advertised (e.g. route refresh, 2).
    pub fn has_capability(&self, code: u8) -> bool {
        self.capabilities.iter().any(|c| c.code() == code)
    }
}

/// NOTIFICATION. RFC 4271 §4.5.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    pub code: NotificationCode,
    pub subcode: u8,
    pub data: Bytes,
}

/// ROUTE-REFRESH. RFC 2918 §3; the subtype byte is RFC 7313's (0 request, 1 BoRR, 2 EoRR).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouteRefresh {
    pub afi: Afi,
    pub subtype: u8,
    pub safi: Safi,
}
