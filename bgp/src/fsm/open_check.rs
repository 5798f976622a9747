//! Checking the peer's OPEN (RFC 4271 §6.2) and negotiating capabilities (RFC 5492).
//!
//! A refused OPEN yields the NOTIFICATION to send: OPEN Message Error with subcode 1
//! (version; data = the highest version we support, 2 octets), 2 (bad peer AS), 3 (bad BGP
//! identifier) or 6 (unacceptable hold time).

use bytes::Bytes;

use crate::packet::{Afi, Capability, CodecContext, Notification, NotificationCode, Open, Safi};

use super::config::SessionConfig;
use super::negotiated::Negotiated;

/// The only BGP version there is. RFC 4271 §4.2.
pub const BGP_VERSION: u8 = 4;

/// OPEN Message Error subcodes. RFC 4271 §6.2.
pub mod open_error {
    pub const UNSUPPORTED_VERSION: u8 = 1;
    pub const BAD_PEER_AS: u8 = 2;
    pub const BAD_BGP_IDENTIFIER: u8 = 3;
    pub const UNACCEPTABLE_HOLD_TIME: u8 = 6;
}

/// Check the peer's OPEN against our configuration and negotiate the session's features.
///
/// Checks, in the order of RFC 4271 §6.2: version, peer AS (the 4-octet capability's AS when
/// present, RFC 6793 §4.1), hold time (1 and 2 are refused), BGP identifier (0.0.0.0 is
/// refused; on an internal session so is our own identifier).
pub fn check_open(config: &SessionConfig, open: &Open) -> Result<Negotiated, Notification> {
    if open.version != BGP_VERSION {
        return Err(open_error(
            open_error::UNSUPPORTED_VERSION,
            Bytes::copy_from_slice(&u16::from(BGP_VERSION).to_be_bytes()),
        ));
    }
    let peer_asn = open.asn();
    if peer_asn != config.peer_asn {
        return Err(open_error(open_error::BAD_PEER_AS, Bytes::new()));
    }
    if open.hold_time == 1 || open.hold_time == 2 {
        return Err(open_error(open_error::UNACCEPTABLE_HOLD_TIME, Bytes::new()));
    }
    let peer_id = open.bgp_identifier;
    if peer_id.is_unspecified() || (config.is_internal() && peer_id == config.local_id) {
        return Err(open_error(open_error::BAD_BGP_IDENTIFIER, Bytes::new()));
    }
    Ok(negotiate(config, open))
}

fn negotiate(config: &SessionConfig, open: &Open) -> Negotiated {
    let caps = &open.capabilities;
    let mut peer_families: Vec<(Afi, Safi)> = caps
        .iter()
        .filter_map(|c| match c {
            Capability::MultiProtocol { afi, safi } => Some((*afi, *safi)),
            _ => None,
        })
        .collect();
    if peer_families.is_empty() {
        // RFC 4760 §1: without the capability a speaker carries IPv4 unicast only.
        peer_families.push((Afi::Ipv4, Safi::Unicast));
    }
    let families = config
        .families
        .iter()
        .copied()
        .filter(|f| peer_families.contains(f))
        .collect();
    let has = |wanted: &Capability| caps.iter().any(|c| c == wanted);
    let four_octet_as = CodecContext::negotiate(&config.open(), open).four_octet_as;
    let graceful_restart = config.graceful_restart.as_ref().and_then(|_| {
        caps.iter().find_map(|c| match c {
            Capability::GracefulRestart(gr) => Some(gr.clone()),
            _ => None,
        })
    });
    let extended_next_hop = caps
        .iter()
        .filter_map(|c| match c {
            Capability::ExtendedNextHop(tuples) => Some(tuples.iter()),
            _ => None,
        })
        .flatten()
        .filter(|t| config.extended_next_hop.contains(t))
        .copied()
        .collect();
    Negotiated {
        peer_asn: open.asn(),
        peer_id: open.bgp_identifier,
        hold_time: config.hold_time.min(open.hold_time),
        families,
        four_octet_as,
        route_refresh: config.route_refresh && has(&Capability::RouteRefresh),
        enhanced_route_refresh: config.enhanced_route_refresh
            && has(&Capability::EnhancedRouteRefresh),
        graceful_restart,
        extended_next_hop,
        peer_capabilities: caps.clone(),
    }
}

fn open_error(subcode: u8, data: Bytes) -> Notification {
    Notification {
        code: NotificationCode::OpenMessage,
        subcode,
        data,
    }
}
