//! `bgp` speaker types → `tern.v1` messages.

use std::net::IpAddr;
use std::time::SystemTime;

use bgp::packet::{Origin, PathAttributes};
use bgp::{AdvertisedRoute, MessageCounts, PeerStatus, ReceivedRoute, Route, RouteSource, State};

use crate::pb;

/// The protobuf state of an RFC 4271 state.
pub fn peer_state(state: State) -> pb::PeerState {
    match state {
        State::Idle => pb::PeerState::Idle,
        State::Connect => pb::PeerState::Connect,
        State::Active => pb::PeerState::Active,
        State::OpenSent => pb::PeerState::OpenSent,
        State::OpenConfirm => pb::PeerState::OpenConfirm,
        State::Established => pb::PeerState::Established,
    }
}

pub fn timestamp(time: SystemTime) -> prost_types::Timestamp {
    prost_types::Timestamp::from(time)
}

fn counts(counts: &MessageCounts) -> pb::MessageCounts {
    pb::MessageCounts {
        open: counts.open,
        update: counts.update,
        notification: counts.notification,
        keepalive: counts.keepalive,
        route_refresh: counts.route_refresh,
    }
}

/// One peer. The speaker counts prefixes after import filters only, so received = accepted.
pub fn peer_status(peer: &PeerStatus) -> pb::PeerStatus {
    let text = |value: Option<String>| value.unwrap_or_default();
    pb::PeerStatus {
        address: peer.address.to_string(),
        as_number: peer.asn,
        r#type: peer.peer_type.to_string(),
        state: peer_state(peer.state) as i32,
        since: Some(timestamp(peer.since)),
        prefixes_received: peer.prefixes_received as u64,
        prefixes_accepted: peer.prefixes_received as u64,
        prefixes_advertised: peer.prefixes_advertised as u64,
        last_error: text(peer.last_error.clone()),
        peer_router_id: text(peer.router_id.map(|id| id.to_string())),
        hold_time: peer.hold_time.map_or(0, u32::from),
        local_address: text(peer.local_address.map(|a| a.to_string())),
        remote_address: text(peer.remote_address.map(|a| a.to_string())),
        capabilities: peer.capabilities.clone(),
        messages_sent: Some(counts(&peer.messages.sent)),
        messages_received: Some(counts(&peer.messages.received)),
        send_queue_bytes: peer.send_queue_bytes as u64,
    }
}

/// One path. `best_reason` says, for the best path, which step of the decision process chose
/// it (from the RIB itself, [`bgp::rib::DecidingStep`]); it is empty for the other paths.
pub fn route_path(route: &Route) -> pb::RoutePath {
    let mut path = path_message(
        route.path.next_hop,
        &route.path.source,
        &route.path.attributes,
    );
    path.best = route.best;
    path.best_reason = match (route.best, route.decided_by) {
        (true, Some(step)) => step.describe().to_string(),
        _ => String::new(),
    };
    path
}

/// One received route of a peer's Adj-RIB-In (one path per prefix, never "best").
pub fn received_destination(route: &ReceivedRoute, source: &RouteSource) -> pb::Destination {
    let mut path = path_message(route.next_hop, source, &route.attributes);
    path.rejected = !route.accepted;
    pb::Destination {
        prefix: route.prefix.to_string(),
        paths: vec![path],
    }
}

/// One route of a peer's Adj-RIB-Out: as the peer gets it, with the source of the best path
/// it was exported from.
pub fn advertised_destination(route: &AdvertisedRoute) -> pb::Destination {
    pb::Destination {
        prefix: route.prefix.to_string(),
        paths: vec![path_message(
            Some(route.next_hop),
            &route.source,
            &route.attributes,
        )],
    }
}

/// A path's next hop, source and attributes; not best.
fn path_message(
    next_hop: Option<IpAddr>,
    source: &RouteSource,
    attributes: &PathAttributes,
) -> pb::RoutePath {
    let (source_peer, source_type, source_router_id) = match *source {
        RouteSource::Local => (String::new(), "local".to_string(), String::new()),
        RouteSource::Peer {
            address,
            router_id,
            peer_type,
            ..
        } => (
            address.to_string(),
            peer_type.to_string(),
            router_id.to_string(),
        ),
    };
    let mut communities: Vec<String> = attributes
        .communities
        .iter()
        .map(|c| c.to_string())
        .collect();
    communities.extend(attributes.large_communities.iter().map(|c| c.to_string()));
    pb::RoutePath {
        next_hop: next_hop.map(|n| n.to_string()).unwrap_or_default(),
        source_peer,
        source_type,
        source_router_id,
        best: false,
        best_reason: String::new(),
        as_path: attributes
            .as_path
            .as_ref()
            .map(|path| path.asns().collect())
            .unwrap_or_default(),
        origin: match attributes.origin {
            Some(Origin::Igp) => "igp",
            Some(Origin::Egp) => "egp",
            Some(Origin::Incomplete) => "incomplete",
            None => "",
        }
        .to_string(),
        med: attributes.med,
        local_pref: attributes.local_pref,
        communities,
        rejected: false,
    }
}

/// Group the Loc-RIB (prefix order, as [`bgp::Speaker::loc_rib`] gives it) by prefix, best
/// path first.
pub fn destinations(routes: &[Route]) -> Vec<pb::Destination> {
    let mut out: Vec<pb::Destination> = Vec::new();
    let mut index = 0;
    while let Some(first) = routes.get(index) {
        let same: Vec<&Route> = routes[index..]
            .iter()
            .take_while(|r| r.prefix == first.prefix)
            .collect();
        index += same.len();
        let mut ordered: Vec<&Route> = same.iter().copied().filter(|r| r.best).collect();
        ordered.extend(same.iter().copied().filter(|r| !r.best));
        out.push(pb::Destination {
            prefix: first.prefix.to_string(),
            paths: ordered.iter().map(|r| route_path(r)).collect(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;
    use std::sync::Arc;

    use bgp::packet::{AsPath, PathAttributes};
    use bgp::rib::DecidingStep;
    use bgp::{Path, PeerType};

    use super::*;

    fn route(peer: u8, best: bool, attributes: PathAttributes) -> Route {
        let address: IpAddr = format!("198.18.0.{peer}").parse().unwrap();
        let router_id = format!("198.18.1.{peer}").parse().unwrap();
        Route {
            prefix: "198.19.0.0/24".parse().unwrap(),
            path: Path::new(
                RouteSource::peer(address, router_id, PeerType::External),
                Some(address),
                Arc::new(attributes),
            ),
            best,
            multipath: false,
            decided_by: Some(DecidingStep::AsPathLength),
        }
    }

    fn with_as_path(asns: &[u32]) -> PathAttributes {
        PathAttributes {
            as_path: Some(AsPath::from_sequence(asns.to_vec())),
            origin: Some(Origin::Igp),
            ..Default::default()
        }
    }

    #[test]
    fn destinations_put_the_best_path_first_with_the_ribs_reason() {
        let routes = vec![
            route(1, false, with_as_path(&[65002, 65003])),
            route(2, true, with_as_path(&[65001])),
        ];
        let destinations = destinations(&routes);
        assert_eq!(destinations.len(), 1);
        let paths = &destinations[0].paths;
        assert_eq!(paths[0].source_peer, "198.18.0.2");
        assert!(paths[0].best);
        assert_eq!(paths[0].best_reason, DecidingStep::AsPathLength.describe());
        assert_eq!(paths[1].best_reason, "");
        assert_eq!(paths[0].as_path, [65001]);
        assert_eq!(paths[0].origin, "igp");
    }
}
