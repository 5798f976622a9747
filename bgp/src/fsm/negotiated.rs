//! What both ends agreed on in their OPENs. RFC 4271 §4.2, RFC 5492 capability negotiation.

use std::net::Ipv4Addr;
use std::time::Duration;

use crate::packet::{Afi, Capability, CodecContext, GracefulRestart, Safi};

/// The outcome of the OPEN exchange: the peer's identity and the features both sides support.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Negotiated {
    /// The peer's AS (from the 4-octet AS capability when present, RFC 6793).
    pub peer_asn: u32,
    /// The peer's BGP identifier.
    pub peer_id: Ipv4Addr,
    /// The hold time in use: the smaller of both proposals, in seconds; 0 means no hold timer
    /// and no keepalives (RFC 4271 §4.2).
    pub hold_time: u16,
    /// Families both sides announced (RFC 4760 §8). A peer without any Multiprotocol
    /// capability is taken to speak IPv4 unicast only.
    pub families: Vec<(Afi, Safi)>,
    /// Both sides sent the 4-octet AS capability (RFC 6793): AS_PATH uses 4-octet ASNs.
    pub four_octet_as: bool,
    /// Both sides support ROUTE-REFRESH (RFC 2918).
    pub route_refresh: bool,
    /// Both sides support Enhanced Route Refresh (RFC 7313).
    pub enhanced_route_refresh: bool,
    /// The peer's Graceful Restart capability, if we offered Graceful Restart too (RFC 4724).
    pub graceful_restart: Option<GracefulRestart>,
    /// (AFI, SAFI, next-hop AFI) tuples both sides announced (RFC 8950).
    pub extended_next_hop: Vec<(Afi, Safi, Afi)>,
    /// Everything the peer announced, as received (unknown capabilities included).
    pub peer_capabilities: Vec<Capability>,
}

impl Negotiated {
    /// The hold time as a duration; `None` when it is 0.
    pub fn hold(&self) -> Option<Duration> {
        (self.hold_time > 0).then(|| Duration::from_secs(u64::from(self.hold_time)))
    }

    /// The KEEPALIVE interval: one third of the hold time (RFC 4271 §10); `None` when the hold
    /// time is 0. Never shorter than one second.
    pub fn keepalive(&self) -> Option<Duration> {
        self.hold()
            .map(|hold| (hold / 3).max(Duration::from_secs(1)))
    }

    /// Whether UPDATEs of this family may be exchanged.
    pub fn supports(&self, afi: Afi, safi: Safi) -> bool {
        self.families.contains(&(afi, safi))
    }

    /// What was negotiated, in words, for operators: "multiprotocol ipv4-unicast",
    /// "4-octet-as", "route-refresh", "enhanced-route-refresh", "graceful-restart",
    /// "extended-next-hop ipv4-unicast/ipv6" (RFC 5492 and the RFCs of each capability).
    pub fn capability_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .families
            .iter()
            .map(|&(afi, safi)| format!("multiprotocol {}", family_name(afi, safi)))
            .collect();
        let flags = [
            (self.four_octet_as, "4-octet-as"),
            (self.route_refresh, "route-refresh"),
            (self.enhanced_route_refresh, "enhanced-route-refresh"),
            (self.graceful_restart.is_some(), "graceful-restart"),
        ];
        names.extend(flags.iter().filter(|f| f.0).map(|f| f.1.to_string()));
        names.extend(self.extended_next_hop.iter().map(|&(afi, safi, next_hop)| {
            format!(
                "extended-next-hop {}/{}",
                family_name(afi, safi),
                afi_name(next_hop)
            )
        }));
        names
    }

    /// How to read and write messages on this session from now on.
    pub fn codec_context(&self) -> CodecContext {
        CodecContext {
            four_octet_as: self.four_octet_as,
        }
    }
}

fn afi_name(afi: Afi) -> String {
    match afi {
        Afi::Ipv4 => "ipv4".to_string(),
        Afi::Ipv6 => "ipv6".to_string(),
        Afi::Other(value) => format!("afi-{value}"),
    }
}

/// "ipv4-unicast", "ipv6-multicast", "afi-25-safi-70".
fn family_name(afi: Afi, safi: Safi) -> String {
    let safi = match safi {
        Safi::Unicast => "unicast".to_string(),
        Safi::Multicast => "multicast".to_string(),
        Safi::Other(value) => format!("safi-{value}"),
    };
    format!("{}-{safi}", afi_name(afi))
}
