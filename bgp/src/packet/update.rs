//! UPDATE. RFC 4271 §4.3, with MP-BGP (RFC 4760), End-of-RIB (RFC 4724 §2) and the revised
//! error handling of RFC 7606.
//!
//! ```text
//! +-----------------------------------------------------+
//! |   Withdrawn Routes Length (2 octets)                |
//! +-----------------------------------------------------+
//! |   Withdrawn Routes (variable)                       |
//! +-----------------------------------------------------+
//! |   Total Path Attribute Length (2 octets)            |
//! +-----------------------------------------------------+
//! |   Path Attributes (variable)                        |
//! +-----------------------------------------------------+
//! |   Network Layer Reachability Information (variable) |
//! +-----------------------------------------------------+
//! ```
//!
//! Decoding follows RFC 7606: errors whose action is treat-as-withdraw or attribute-discard do
//! not fail the decode; they are listed in [`Update::errors`] and the session acts on
//! [`Update::treat_as_withdraw`]. Only session-reset errors return `Err`.

use ipnetwork::{IpNetwork, Ipv4Network};

use super::attribute::{MpReach, MpUnreach, PathAttributes};
use super::capability::{Afi, Safi};
use super::error::{DecodeError, ErrorAction};

/// UPDATE. RFC 4271 §4.3.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Update {
    /// IPv4 prefixes withdrawn in the body.
    pub withdrawn: Vec<Ipv4Network>,
    /// The attributes shared by every announced prefix (body and MP_REACH_NLRI).
    pub attributes: PathAttributes,
    /// IPv4 prefixes announced in the body (next hop: `attributes.next_hop`).
    pub nlri: Vec<Ipv4Network>,
    /// MP_REACH_NLRI (type 14). RFC 4760 §3.
    pub mp_reach: Option<MpReach>,
    /// MP_UNREACH_NLRI (type 15). RFC 4760 §4.
    pub mp_unreach: Option<MpUnreach>,
    /// Non-fatal errors found while decoding (RFC 7606 treat-as-withdraw and attribute-discard),
    /// each with its field and offset. Empty for a well-formed UPDATE; ignored on encode.
    pub errors: Vec<DecodeError>,
}

impl Update {
    /// True when an error requires treating every announced prefix (body NLRI and
    /// MP_REACH_NLRI) as withdrawn. RFC 7606 §2.
    pub fn treat_as_withdraw(&self) -> bool {
        self.errors
            .iter()
            .any(|error| error.action == ErrorAction::TreatAsWithdraw)
    }

    /// All announced prefixes: body NLRI then MP_REACH_NLRI.
    pub fn announced(&self) -> impl Iterator<Item = IpNetwork> + '_ {
        self.nlri
            .iter()
            .map(|prefix| IpNetwork::V4(*prefix))
            .chain(self.mp_reach.iter().flat_map(|mp| mp.nlri.iter().copied()))
    }

    /// All withdrawn prefixes: body withdrawn routes then MP_UNREACH_NLRI.
    pub fn withdrawn_prefixes(&self) -> impl Iterator<Item = IpNetwork> + '_ {
        self.withdrawn
            .iter()
            .map(|prefix| IpNetwork::V4(*prefix))
            .chain(
                self.mp_unreach
                    .iter()
                    .flat_map(|mp| mp.withdrawn.iter().copied()),
            )
    }

    /// The End-of-RIB marker for a family: for IPv4 unicast an empty UPDATE, otherwise an UPDATE
    /// holding only an empty MP_UNREACH_NLRI. RFC 4724 §2.
    pub fn end_of_rib(afi: Afi, safi: Safi) -> Self {
        if (afi, safi) == (Afi::Ipv4, Safi::Unicast) {
            return Self::default();
        }
        Self {
            mp_unreach: Some(MpUnreach {
                afi,
                safi,
                withdrawn: Vec::new(),
            }),
            ..Self::default()
        }
    }

    /// The family this UPDATE marks End-of-RIB for, if it is an End-of-RIB marker.
    /// RFC 4724 §2.
    pub fn end_of_rib_family(&self) -> Option<(Afi, Safi)> {
        if !self.withdrawn.is_empty() || !self.nlri.is_empty() || self.mp_reach.is_some() {
            return None;
        }
        let no_attributes = self.attributes == PathAttributes::default();
        match &self.mp_unreach {
            None if no_attributes => Some((Afi::Ipv4, Safi::Unicast)),
            Some(unreach) if unreach.withdrawn.is_empty() && no_attributes => {
                Some((unreach.afi, unreach.safi))
            }
            _ => None,
        }
    }

    /// True when this UPDATE is an End-of-RIB marker for any family.
    pub fn is_end_of_rib(&self) -> bool {
        self.end_of_rib_family().is_some()
    }
}
