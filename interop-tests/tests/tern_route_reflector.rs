//! Route reflection (RFC 4456) and multipath with real routers (issue 3, acceptance point 2):
//! tern reflects between a BIRD and an FRR client (ORIGINATOR_ID and CLUSTER_LIST set, next
//! hop unchanged) and keeps both of their equal paths to one prefix in its Loc-RIB; and tern as
//! a client of an FRR route reflector, with BIRD as the other client.

mod tern_lab;

use std::net::{IpAddr, Ipv4Addr};

use interop_tests::peers::{Neighbor, PeerConfig, PeerKind, PeerRoute, Route};
use interop_tests::tern::{PeerSpec, RouteSpec, SpeakerSpec};
use tern_lab::{CONVERGE, Lab, net};

const AS: u32 = 65100;

/// Checks a reflected path: next hop and ORIGINATOR_ID are the originating client's address
/// (its router ID), CLUSTER_LIST is the reflector's cluster, no AS path, LOCAL_PREF 100.
fn assert_reflected(who: &str, route: &PeerRoute, origin: Ipv4Addr, cluster: Ipv4Addr) {
    assert_eq!(route.next_hop, IpAddr::V4(origin), "{who}: {route:?}");
    assert_eq!(route.originator_id, Some(origin), "{who}: {route:?}");
    assert_eq!(route.cluster_list, vec![cluster], "{who}: {route:?}");
    assert!(route.as_path.is_empty(), "{who}: {route:?}");
    assert_eq!(route.local_pref, Some(100), "{who}: {route:?}");
}

/// tern (.1) reflects for BIRD (.11) and FRR (.12); both also announce 198.51.100.0/24 with
/// the same attributes, and tern's Loc-RIB keeps both paths as multipath.
#[test]
fn tern_reflects_between_bird_and_frr_and_keeps_equal_paths() {
    let mut lab = Lab::new("rr", [198, 18, 30]);
    let tern_host = lab.host("tern", 1);
    let bird_host = lab.host("bird", 11);
    let frr_host = lab.host("frr", 12);
    let (tern_address, bird_address, frr_address) =
        (lab.address(1), lab.address(11), lab.address(12));
    let cluster = Ipv4Addr::new(198, 18, 30, 250);
    let shared = net("198.51.100.0/24");
    let client = |address: Ipv4Addr, own_octet: u8| {
        PeerConfig::new(address, AS)
            .neighbor(
                Neighbor::new(IpAddr::V4(tern_address), AS).local_address(IpAddr::V4(address)),
            )
            .route(
                Route::new(net(&format!("203.0.113.{own_octet}/32")))
                    .community(65100, own_octet.into()),
            )
            .route(Route::new(shared))
    };
    let bird = lab.router(PeerKind::Bird, &bird_host, client(bird_address, 11));
    let frr = lab.router(PeerKind::Frr, &frr_host, client(frr_address, 12));
    let reflector_client = |address: Ipv4Addr| {
        PeerSpec::new(IpAddr::V4(address), AS)
            .local_address(IpAddr::V4(tern_address))
            .families(true, false)
            .route_reflector_client()
    };
    let tern = lab.tern(
        &tern_host,
        SpeakerSpec::new(AS, tern_address)
            .cluster_id(cluster)
            .peer(reflector_client(bird_address))
            .peer(reflector_client(frr_address))
            .route(RouteSpec::new(net("198.19.30.0/24"))),
    );
    lab.established(bird.as_ref(), tern_address);
    lab.established(frr.as_ref(), tern_address);

    for (receiver, sender_octet) in [(&bird, 12u8), (&frr, 11u8)] {
        let prefix = net(&format!("203.0.113.{sender_octet}/32"));
        let route = lab.check(receiver.wait_route(prefix, CONVERGE));
        let who = format!("{:?} receiving {prefix} reflected by tern", receiver.kind());
        assert_reflected(&who, &route, lab.address(sender_octet), cluster);
        assert_eq!(
            route.from,
            Some(IpAddr::V4(tern_address)),
            "{who}: {route:?}"
        );
        assert!(
            route
                .communities
                .contains(&(65100, u16::from(sender_octet))),
            "{who}: {route:?}"
        );
        // tern's own route is not reflected: no ORIGINATOR_ID, no CLUSTER_LIST.
        let own = lab.check(receiver.wait_route(net("198.19.30.0/24"), CONVERGE));
        assert_eq!(own.next_hop, IpAddr::V4(tern_address), "{own:?}");
        assert_eq!(
            (own.originator_id, own.cluster_list.len()),
            (None, 0),
            "{own:?}"
        );
    }

    let paths = lab.wait(
        "tern to hold both paths to the shared prefix",
        CONVERGE,
        || {
            let rib = tern.loc_rib().map_err(|e| e.to_string())?;
            let paths: Vec<_> = rib.into_iter().filter(|e| e.prefix == shared).collect();
            Ok((paths.len() == 2).then_some(paths))
        },
    );
    let mut next_hops: Vec<_> = paths.iter().filter_map(|p| p.next_hop).collect();
    next_hops.sort();
    assert_eq!(
        next_hops,
        vec![IpAddr::V4(bird_address), IpAddr::V4(frr_address)],
        "{paths:#?}"
    );
    assert!(
        paths.iter().all(|p| p.multipath),
        "both paths are multipath: {paths:#?}"
    );
    assert_eq!(paths.iter().filter(|p| p.best).count(), 1, "{paths:#?}");
    // Steps 8-10 order equal paths: the lower router ID (BIRD's .11) is best.
    let best = paths.iter().find(|p| p.best).expect("a best path");
    assert_eq!(best.from, Some(IpAddr::V4(bird_address)), "{paths:#?}");
    for path in &paths {
        println!(
            "tern's Loc-RIB {shared}: from {:?} next hop {:?} med {:?} best {} multipath {}",
            path.from, path.next_hop, path.med, path.best, path.multipath
        );
    }
}

/// FRR (.1) reflects between its clients tern (.2) and BIRD (.3).
#[test]
fn tern_as_client_of_an_frr_route_reflector() {
    let mut lab = Lab::new("rrc", [198, 18, 31]);
    let frr_host = lab.host("frr-rr", 1);
    let tern_host = lab.host("tern", 2);
    let bird_host = lab.host("bird", 3);
    let (frr_address, tern_address, bird_address) =
        (lab.address(1), lab.address(2), lab.address(3));
    let cluster = Ipv4Addr::new(198, 18, 31, 250);
    let tern_prefix = net("198.19.31.0/24");
    let bird_prefix = net("203.0.113.3/32");
    let mut reflector = PeerConfig::new(frr_address, AS).cluster_id(cluster);
    for address in [tern_address, bird_address] {
        reflector = reflector.neighbor(
            Neighbor::new(IpAddr::V4(address), AS)
                .local_address(IpAddr::V4(frr_address))
                .route_reflector_client(),
        );
    }
    let frr = lab.router(PeerKind::Frr, &frr_host, reflector);
    let bird = lab.router(
        PeerKind::Bird,
        &bird_host,
        PeerConfig::new(bird_address, AS)
            .neighbor(
                Neighbor::new(IpAddr::V4(frr_address), AS).local_address(IpAddr::V4(bird_address)),
            )
            .route(Route::new(bird_prefix).community(65100, 3)),
    );
    let tern = lab.tern(
        &tern_host,
        SpeakerSpec::new(AS, tern_address)
            .peer(
                PeerSpec::new(IpAddr::V4(frr_address), AS)
                    .local_address(IpAddr::V4(tern_address))
                    .families(true, false),
            )
            .route(RouteSpec::new(tern_prefix).community(65100, 2)),
    );
    lab.established(frr.as_ref(), tern_address);
    lab.established(frr.as_ref(), bird_address);

    let at_bird = lab.check(bird.wait_route(tern_prefix, CONVERGE));
    assert_reflected(
        "BIRD receiving tern's route via FRR",
        &at_bird,
        tern_address,
        cluster,
    );
    assert!(at_bird.communities.contains(&(65100, 2)), "{at_bird:?}");

    let at_tern = lab.check(tern.wait_route(bird_prefix, CONVERGE));
    assert_reflected(
        "tern receiving BIRD's route via FRR",
        &at_tern,
        bird_address,
        cluster,
    );
    assert_eq!(at_tern.from, Some(IpAddr::V4(frr_address)), "{at_tern:?}");
    assert!(at_tern.communities.contains(&(65100, 3)), "{at_tern:?}");
    // FRR does not send tern's own route back; tern holds only BIRD's.
    let learned = lab.check(tern.rib());
    assert_eq!(learned.len(), 1, "tern's learned paths: {learned:#?}");
}
