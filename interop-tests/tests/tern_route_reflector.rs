//! Route reflection (RFC 4456) and multipath with real routers (issue 3, acceptance point 2):
//! tern reflects between a BIRD and an FRR client (ORIGINATOR_ID and CLUSTER_LIST set, next
//! hop unchanged) and keeps both of their equal paths to one prefix in its Loc-RIB; and tern as
//! a client of an FRR route reflector, with BIRD as the other client.

mod tern_common;
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

/// tern (.1) reflects for its clients BIRD (.11) and FRR (.12) and its non-clients GoBGP
/// (.13) and ExaBGP (.14), each announcing `203.0.113.<octet>/32` (RFC 4456 §6: routes from a
/// client go to every other peer, routes from a non-client only to clients). BIRD and FRR also
/// announce 198.51.100.0/24 with the same attributes, and tern's Loc-RIB keeps both paths as
/// multipath.
#[test]
fn tern_reflects_between_bird_and_frr_and_keeps_equal_paths() {
    let mut lab = Lab::new("rr", [198, 18, 30]);
    let tern_host = lab.host("tern", 1);
    let cluster = Ipv4Addr::new(198, 18, 30, 250);
    let tern_address = lab.address(1);
    let shared = net("198.51.100.0/24");
    let own = |octet: u8| net(&format!("203.0.113.{octet}/32"));
    let own6 = |octet: u8| net(&format!("2001:db8:30{octet:02}::/48"));
    // (kind, octet, client)
    let members = [
        (PeerKind::Bird, 11u8, true),
        (PeerKind::Frr, 12, true),
        (PeerKind::GoBgp, 13, false),
        (PeerKind::ExaBgp, 14, false),
    ];
    let mut routers = Vec::new();
    for (kind, octet, client) in members {
        let host = lab.host(&format!("{kind:?}").to_lowercase(), octet);
        let address = lab.address(octet);
        let mut config = PeerConfig::new(address, AS)
            .neighbor(
                Neighbor::new(IpAddr::V4(tern_address), AS).local_address(IpAddr::V4(address)),
            )
            .route(Route::new(own(octet)).community(65100, octet.into()));
        if client {
            // Clients also peer over IPv6 (a second session, as Calico does).
            config = config
                .route(Route::new(shared))
                .route(Route::new(own6(octet)))
                .neighbor(
                    Neighbor::new(IpAddr::V6(lab.address6(1)), AS)
                        .local_address(IpAddr::V6(lab.address6(octet))),
                );
        }
        routers.push((lab.router(kind, &host, config), octet, client));
    }
    let mut spec = SpeakerSpec::new(AS, tern_address)
        .cluster_id(cluster)
        .route(RouteSpec::new(net("198.19.30.0/24")));
    for (_, octet, client) in members {
        let mut peer = PeerSpec::new(IpAddr::V4(lab.address(octet)), AS)
            .local_address(IpAddr::V4(tern_address))
            .families(true, false);
        if client {
            peer = peer.route_reflector_client();
            spec = spec.peer(
                PeerSpec::new(IpAddr::V6(lab.address6(octet)), AS)
                    .local_address(IpAddr::V6(lab.address6(1)))
                    .families(false, true)
                    .route_reflector_client(),
            );
        }
        spec = spec.peer(peer);
    }
    let tern = lab.tern(&tern_host, spec);
    for (router, _, _) in &routers {
        lab.established(router.as_ref(), tern_address);
    }

    // Every reflection that must happen, with its attributes; tern's own route everywhere.
    for (receiver, receiver_octet, receiver_is_client) in &routers {
        for (_, sender_octet, sender_is_client) in &routers {
            if sender_octet == receiver_octet || !(*sender_is_client || *receiver_is_client) {
                continue;
            }
            let prefix = own(*sender_octet);
            let route = lab.check(receiver.wait_route(prefix, CONVERGE));
            let who = format!("{:?} receiving {prefix} reflected by tern", receiver.kind());
            assert_reflected(&who, &route, lab.address(*sender_octet), cluster);
            assert_eq!(
                route.from,
                Some(IpAddr::V4(tern_address)),
                "{who}: {route:?}"
            );
            assert!(
                route
                    .communities
                    .contains(&(65100, u16::from(*sender_octet))),
                "{who}: {route:?}"
            );
        }
        // tern's own route is not reflected: no ORIGINATOR_ID, no CLUSTER_LIST.
        let own_route = lab.check(receiver.wait_route(net("198.19.30.0/24"), CONVERGE));
        assert_eq!(
            own_route.next_hop,
            IpAddr::V4(tern_address),
            "{own_route:?}"
        );
        assert_eq!(
            (own_route.originator_id, own_route.cluster_list.len()),
            (None, 0),
            "{own_route:?}"
        );
    }
    // IPv6 between the clients: the next hop stays the sender's global address.
    for (receiver, sender) in [(&routers[0], &routers[1]), (&routers[1], &routers[0])] {
        let (receiver, sender_octet) = (&receiver.0, sender.1);
        let prefix = own6(sender_octet);
        let route = lab.check(receiver.wait_route(prefix, CONVERGE));
        let who = format!("{:?} receiving {prefix} reflected by tern", receiver.kind());
        assert_eq!(
            route.next_hop,
            IpAddr::V6(lab.address6(sender_octet)),
            "{who}: {route:?}"
        );
        assert_eq!(
            route.originator_id,
            Some(lab.address(sender_octet)),
            "{who}: {route:?}"
        );
        assert_eq!(route.cluster_list, vec![cluster], "{who}: {route:?}");
    }
    // Non-client to non-client is not reflected. Every receiver above already got its
    // reflections, so one for this would have been sent by now.
    for (receiver, receiver_octet, receiver_is_client) in &routers {
        for (_, sender_octet, sender_is_client) in &routers {
            if sender_octet != receiver_octet && !*sender_is_client && !*receiver_is_client {
                let prefix = own(*sender_octet);
                let routes = lab.check(receiver.routes_for(prefix));
                assert!(
                    routes.is_empty(),
                    "{:?} (non-client) received {prefix} of a non-client: {routes:?}",
                    receiver.kind()
                );
            }
        }
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
    let (bird_address, frr_address) = (lab.address(11), lab.address(12));
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

/// eBGP multipath: two GoBGP peers in different ASes announce one prefix with AS paths of
/// the same length; tern keeps both (like FRR's `as-path multipath-relax`), and one again
/// after the other withdraws.
#[test]
fn two_ebgp_gobgp_peers_give_tern_two_equal_paths() {
    let mut lab = Lab::new("ecmp", [198, 18, 36]);
    let tern_host = lab.host("tern", 1);
    let tern_address = lab.address(1);
    let prefix = net("198.51.100.64/26");
    let mut spec = SpeakerSpec::new(AS, tern_address);
    let mut routers = Vec::new();
    for (octet, asn) in [(2u8, 65201u32), (3, 65202)] {
        let host = lab.host("gobgp", octet);
        let address = lab.address(octet);
        let config = PeerConfig::new(address, asn)
            .neighbor(
                Neighbor::new(IpAddr::V4(tern_address), AS).local_address(IpAddr::V4(address)),
            )
            .route(Route::new(prefix));
        routers.push(lab.router(PeerKind::GoBgp, &host, config));
        spec = spec.peer(
            PeerSpec::new(IpAddr::V4(address), asn)
                .local_address(IpAddr::V4(tern_address))
                .families(true, false),
        );
    }
    let tern = lab.tern(&tern_host, spec);
    let paths_to = |count: usize| {
        lab.wait(
            &format!("tern to hold {count} path(s) to {prefix}"),
            CONVERGE,
            || {
                let rib = tern.loc_rib().map_err(|e| e.to_string())?;
                let paths: Vec<_> = rib.into_iter().filter(|e| e.prefix == prefix).collect();
                Ok((paths.len() == count).then_some(paths))
            },
        )
    };
    let paths = paths_to(2);
    let mut paths_by_as: Vec<_> = paths
        .iter()
        .map(|p| (p.as_path.clone(), p.multipath))
        .collect();
    paths_by_as.sort();
    assert_eq!(
        paths_by_as,
        vec![(vec![65201], true), (vec![65202], true)],
        "{paths:#?}"
    );
    lab.check(routers[0].withdraw(prefix));
    let paths = paths_to(1);
    assert_eq!(paths[0].as_path, vec![65202], "{paths:#?}");
    assert!(paths[0].best, "{paths:#?}");
}

/// FRR (.1) reflects between its clients tern (.2) and BIRD (.3); tern in turn reflects for
/// its own client, a second BIRD (.4): routes crossing both reflectors carry both cluster
/// IDs, the last reflector's first (RFC 4456 §8).
#[test]
fn tern_as_client_of_an_frr_route_reflector() {
    let mut lab = Lab::new("rrc", [198, 18, 31]);
    let frr_host = lab.host("frr-rr", 1);
    let tern_host = lab.host("tern", 2);
    let bird_host = lab.host("bird", 3);
    let inner_host = lab.host("bird-inner", 4);
    let (frr_address, tern_address, bird_address, inner_address) = (
        lab.address(1),
        lab.address(2),
        lab.address(3),
        lab.address(4),
    );
    let cluster = Ipv4Addr::new(198, 18, 31, 250);
    let tern_cluster = Ipv4Addr::new(198, 18, 31, 251);
    let tern_prefix = net("198.19.31.0/24");
    let bird_prefix = net("203.0.113.3/32");
    let inner_prefix = net("203.0.113.4/32");
    let mut reflector = PeerConfig::new(frr_address, AS).cluster_id(cluster);
    for address in [tern_address, bird_address] {
        reflector = reflector.neighbor(
            Neighbor::new(IpAddr::V4(address), AS)
                .local_address(IpAddr::V4(frr_address))
                .route_reflector_client(),
        );
    }
    let frr = lab.router(PeerKind::Frr, &frr_host, reflector);
    let client_of = |address: Ipv4Addr, reflector: Ipv4Addr, prefix, octet: u16| {
        PeerConfig::new(address, AS)
            .neighbor(Neighbor::new(IpAddr::V4(reflector), AS).local_address(IpAddr::V4(address)))
            .route(Route::new(prefix).community(65100, octet))
    };
    let bird = lab.router(
        PeerKind::Bird,
        &bird_host,
        client_of(bird_address, frr_address, bird_prefix, 3),
    );
    let inner = lab.router(
        PeerKind::Bird,
        &inner_host,
        client_of(inner_address, tern_address, inner_prefix, 4),
    );
    let tern = lab.tern(
        &tern_host,
        SpeakerSpec::new(AS, tern_address)
            .cluster_id(tern_cluster)
            .peer(
                PeerSpec::new(IpAddr::V4(frr_address), AS)
                    .local_address(IpAddr::V4(tern_address))
                    .families(true, false),
            )
            .peer(
                PeerSpec::new(IpAddr::V4(inner_address), AS)
                    .local_address(IpAddr::V4(tern_address))
                    .families(true, false)
                    .route_reflector_client(),
            )
            .route(RouteSpec::new(tern_prefix).community(65100, 2)),
    );
    lab.established(frr.as_ref(), tern_address);
    lab.established(frr.as_ref(), bird_address);
    lab.established(inner.as_ref(), tern_address);

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

    // Across both reflectors.
    let cases = [
        (
            &bird,
            inner_prefix,
            inner_address,
            vec![cluster, tern_cluster],
        ),
        (
            &inner,
            bird_prefix,
            bird_address,
            vec![tern_cluster, cluster],
        ),
    ];
    for (receiver, prefix, origin, clusters) in cases {
        let route = lab.check(receiver.wait_route(prefix, CONVERGE));
        let who = format!("BIRD receiving {prefix} via both reflectors");
        assert_eq!(route.next_hop, IpAddr::V4(origin), "{who}: {route:?}");
        assert_eq!(route.originator_id, Some(origin), "{who}: {route:?}");
        assert_eq!(route.cluster_list, clusters, "{who}: {route:?}");
        assert!(route.as_path.is_empty(), "{who}: {route:?}");
    }
    // FRR does not send tern's own route (or the inner client's) back: tern holds BIRD's
    // path (from FRR) and the inner client's.
    let mut learned: Vec<_> = lab
        .check(tern.rib())
        .into_iter()
        .map(|r| r.prefix)
        .collect();
    learned.sort();
    assert_eq!(
        learned,
        vec![bird_prefix, inner_prefix],
        "tern's learned paths"
    );
}
