//! Loop checks on receipt and the reflection rules on export (RFC 4456).

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use crate::packet::{AsPath, Community, Origin, PathAttributes};
use crate::rib::export;
use crate::rib::reflection::{LoopCheck, LoopReason, check_loops};
use crate::rib::route::{Path, PeerType, RouteSource};

use super::{context, prefix};

const ROUTER_ID: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 254);
const CLUSTER_ID: Ipv4Addr = Ipv4Addr::new(10, 255, 0, 1);

fn check(allow_as_in: u8) -> LoopCheck {
    LoopCheck {
        local_asn: 65000,
        router_id: ROUTER_ID,
        cluster_id: CLUSTER_ID,
        allow_as_in,
    }
}

fn attributes(as_path: &[u32]) -> PathAttributes {
    PathAttributes {
        origin: Some(Origin::Igp),
        as_path: Some(AsPath::from_sequence(as_path.to_vec())),
        ..PathAttributes::default()
    }
}

#[test]
fn own_as_in_the_path_is_a_loop_unless_allowed_that_many_times() {
    let once = attributes(&[65001, 65000, 65002]);
    let twice = attributes(&[65000, 65001, 65000]);
    assert_eq!(check_loops(&attributes(&[65001]), &check(0)), Ok(()));
    assert_eq!(check_loops(&once, &check(0)), Err(LoopReason::OwnAs));
    assert_eq!(check_loops(&once, &check(1)), Ok(()));
    assert_eq!(check_loops(&twice, &check(1)), Err(LoopReason::OwnAs));
    assert_eq!(check_loops(&twice, &check(2)), Ok(()));
}

#[test]
fn our_originator_id_or_cluster_id_is_a_reflection_loop() {
    let mut ours = attributes(&[]);
    ours.originator_id = Some(ROUTER_ID);
    assert_eq!(
        check_loops(&ours, &check(0)),
        Err(LoopReason::OriginatorIsUs)
    );
    let mut through_us = attributes(&[]);
    through_us.originator_id = Some(Ipv4Addr::new(10, 0, 0, 7));
    through_us.cluster_list = vec![Ipv4Addr::new(10, 255, 0, 9), CLUSTER_ID];
    assert_eq!(
        check_loops(&through_us, &check(0)),
        Err(LoopReason::ClusterLoop)
    );
    through_us.cluster_list = vec![Ipv4Addr::new(10, 255, 0, 9)];
    assert_eq!(check_loops(&through_us, &check(0)), Ok(()));
}

fn internal_path(last: u8, client: bool) -> Path {
    let source = RouteSource::Peer {
        address: IpAddr::V4(Ipv4Addr::new(192, 0, 2, last)),
        router_id: Ipv4Addr::new(10, 0, 0, last),
        peer_type: PeerType::Internal,
        reflector_client: client,
    };
    Path::new(
        source,
        Some(IpAddr::V4(Ipv4Addr::new(198, 18, 0, last))),
        Arc::new(attributes(&[])),
    )
}

#[test]
fn client_routes_go_to_everyone_non_client_routes_to_clients_only() {
    let p = prefix("198.19.1.0/24");
    let mut to_client = context(PeerType::Internal);
    to_client.route_reflector_client = true;
    to_client.cluster_id = CLUSTER_ID;
    let mut to_non_client = to_client.clone();
    to_non_client.route_reflector_client = false;
    let from_client = internal_path(1, true);
    let from_non_client = internal_path(2, false);

    assert!(export(&to_client, &p, &from_client).is_some());
    assert!(export(&to_non_client, &p, &from_client).is_some());
    assert!(export(&to_client, &p, &from_non_client).is_some());
    assert_eq!(export(&to_non_client, &p, &from_non_client), None);

    let reflected = export(&to_non_client, &p, &from_client).unwrap();
    assert_eq!(
        reflected.attributes.originator_id,
        Some(Ipv4Addr::new(10, 0, 0, 1))
    );
    assert_eq!(reflected.attributes.cluster_list, vec![CLUSTER_ID]);
    assert_eq!(
        reflected.next_hop,
        IpAddr::V4(Ipv4Addr::new(198, 18, 0, 1)),
        "next hop kept"
    );

    // next-hop-self is honoured for reflected routes when asked for.
    let mut self_next_hop = to_client.clone();
    self_next_hop.next_hop_self = true;
    let exported = export(&self_next_hop, &p, &from_client).unwrap();
    assert_eq!(exported.next_hop, IpAddr::V4(Ipv4Addr::new(192, 0, 2, 254)));

    // Not back to the originator (the peer whose router ID is the ORIGINATOR_ID).
    let mut to_originator = to_client.clone();
    to_originator.peer_router_id = Some(Ipv4Addr::new(10, 0, 0, 9));
    let mut originated_there = internal_path(3, true);
    Arc::make_mut(&mut originated_there.attributes).originator_id =
        Some(Ipv4Addr::new(10, 0, 0, 9));
    assert_eq!(export(&to_originator, &p, &originated_there), None);
}

#[test]
fn well_known_communities_limit_where_a_route_goes() {
    let p = prefix("198.19.1.0/24");
    let mut no_export = internal_path(1, false);
    Arc::make_mut(&mut no_export.attributes).communities = vec![Community::NO_EXPORT];
    assert_eq!(export(&context(PeerType::External), &p, &no_export), None);
    let mut to_client = context(PeerType::Internal);
    to_client.route_reflector_client = true;
    assert!(export(&to_client, &p, &no_export).is_some());
    let mut no_advertise = internal_path(1, true);
    Arc::make_mut(&mut no_advertise.attributes).communities = vec![Community::NO_ADVERTISE];
    assert_eq!(export(&to_client, &p, &no_advertise), None);
}
