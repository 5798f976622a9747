//! The Adj-RIB-In stores only what the Loc-RIB does not hold as received, and keeps its
//! counts right through stores, withdrawals and stale marking.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use crate::packet::{Origin, PathAttributes};
use crate::rib::{AdjRibIn, LocRib, PeerType, Received, RouteSource};

use super::prefix;

fn received(med: u32) -> Received {
    Received {
        next_hop: Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1))),
        attributes: Arc::new(PathAttributes {
            origin: Some(Origin::Igp),
            med: Some(med),
            ..PathAttributes::default()
        }),
        accepted: false,
        stale: false,
    }
}

fn source() -> RouteSource {
    RouteSource::peer(
        IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)),
        Ipv4Addr::new(10, 0, 0, 1),
        PeerType::External,
    )
}

#[test]
fn accepted_unchanged_rejected_and_changed_routes_read_back_as_received() {
    let mut rib = LocRib::with(65000, 1);
    let mut adj = AdjRibIn::new();
    let source = source();
    let (unchanged, rejected, changed) = (
        prefix("198.51.100.0/24"),
        prefix("198.51.101.0/24"),
        prefix("2001:db8:1::/48"),
    );
    let plain = received(1);
    adj.store(
        &mut rib,
        source,
        unchanged,
        plain.clone(),
        Some(plain.attributes.clone()),
    );
    adj.store(&mut rib, source, rejected, received(2), None);
    let original = received(3);
    let mut modified = (*original.attributes).clone();
    modified.local_pref = Some(300);
    adj.store(
        &mut rib,
        source,
        changed,
        original.clone(),
        Some(Arc::new(modified)),
    );

    assert_eq!(
        (
            adj.accepted(),
            adj.accepted_in(true),
            adj.accepted_in(false)
        ),
        (2, 1, 1)
    );
    assert_eq!(rib.len(), 2);
    let read = |adj: &AdjRibIn, rib: &LocRib, p| adj.get(rib, &source, &p).unwrap();
    assert_eq!(read(&adj, &rib, unchanged).attributes, plain.attributes);
    assert!(!read(&adj, &rib, rejected).accepted);
    assert_eq!(
        read(&adj, &rib, changed).attributes,
        original.attributes,
        "pre-policy"
    );
    assert_eq!(
        rib.path_from(&changed, &source)
            .unwrap()
            .attributes
            .local_pref,
        Some(300)
    );
    assert_eq!(
        adj.prefixes(&rib, &source),
        vec![unchanged, rejected, changed]
    );

    // Replacing a route does not count it twice; withdrawing forgets it.
    adj.store(
        &mut rib,
        source,
        unchanged,
        plain.clone(),
        Some(plain.attributes.clone()),
    );
    assert_eq!(adj.accepted(), 2);
    adj.withdraw(&mut rib, &source, changed);
    adj.withdraw(&mut rib, &source, rejected);
    assert_eq!(adj.accepted(), 1);
    assert_eq!(adj.prefixes(&rib, &source), vec![unchanged]);
}

#[test]
fn stale_marking_is_counted_and_cleared_by_a_fresh_announcement() {
    let mut rib = LocRib::with(65000, 1);
    let mut adj = AdjRibIn::new();
    let source = source();
    let (accepted, rejected) = (prefix("198.51.100.0/24"), prefix("198.51.101.0/24"));
    let route = received(1);
    adj.store(
        &mut rib,
        source,
        accepted,
        route.clone(),
        Some(route.attributes.clone()),
    );
    adj.store(&mut rib, source, rejected, received(2), None);
    for p in [accepted, rejected] {
        adj.set_stale(&mut rib, &source, p, true);
        adj.set_stale(&mut rib, &source, p, true);
    }
    assert_eq!(adj.stale(), 2);
    assert!(rib.path_from(&accepted, &source).unwrap().stale);
    adj.store(
        &mut rib,
        source,
        accepted,
        route.clone(),
        Some(route.attributes.clone()),
    );
    assert_eq!(adj.stale(), 1);
    assert!(!rib.path_from(&accepted, &source).unwrap().stale);
    let changes = adj.clear(&mut rib, &source);
    assert_eq!(changes.len(), 1);
    assert!(rib.is_empty());
    assert_eq!((adj.accepted(), adj.stale()), (0, 0));
}
