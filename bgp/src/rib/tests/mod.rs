//! Loc-RIB, best path, export and UPDATE packing.

mod adj_rib_in;
mod decision;
mod reflection;

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use bytes::BytesMut;
use ipnetwork::IpNetwork;

use super::*;
use crate::packet::{Afi, AsPath, CodecContext, Message, Origin, PathAttributes, Safi};
use crate::rib::route::Path;

pub(super) fn prefix(s: &str) -> IpNetwork {
    s.parse().unwrap()
}

pub(super) fn peer(last: u8, peer_type: PeerType) -> RouteSource {
    RouteSource::peer(
        IpAddr::V4(Ipv4Addr::new(192, 0, 2, last)),
        Ipv4Addr::new(10, 0, 0, last),
        peer_type,
    )
}

pub(super) fn path(source: RouteSource, as_path: &[u32], local_pref: Option<u32>) -> Path {
    Path::new(
        source,
        source.peer_address(),
        Arc::new(PathAttributes {
            origin: Some(Origin::Igp),
            as_path: Some(AsPath::from_sequence(as_path.to_vec())),
            local_pref,
            ..PathAttributes::default()
        }),
    )
}

#[test]
fn local_route_beats_learned_routes_of_equal_local_pref_but_not_higher() {
    let mut rib = LocRib::new();
    let p = prefix("198.51.100.0/24");
    rib.insert(p, path(peer(1, PeerType::External), &[], Some(100)));
    let change = rib.insert(p, path(RouteSource::Local, &[], None));
    assert_eq!(change.unwrap().best.unwrap().source, RouteSource::Local);
    // LOCAL_PREF comes first (RFC 4271 §9.1.1): a learned path preferred by policy wins.
    let change = rib.insert(p, path(peer(2, PeerType::Internal), &[], Some(500)));
    assert_eq!(
        change.unwrap().best.unwrap().source,
        peer(2, PeerType::Internal)
    );
}

#[test]
fn higher_local_pref_then_shorter_as_path_then_external_then_lower_router_id() {
    let p = prefix("198.51.100.0/24");
    let cases = [
        (
            path(peer(1, PeerType::Internal), &[65001, 65002], Some(200)),
            path(peer(2, PeerType::External), &[65001], None),
        ),
        (
            path(peer(3, PeerType::External), &[65001], None),
            path(peer(2, PeerType::External), &[65001, 65002], None),
        ),
        (
            path(peer(3, PeerType::External), &[65001], Some(100)),
            path(peer(2, PeerType::Internal), &[65001], Some(100)),
        ),
        (
            path(peer(2, PeerType::External), &[65001], None),
            path(peer(3, PeerType::External), &[65009], None),
        ),
    ];
    for (better, worse) in cases {
        for order in [[&better, &worse], [&worse, &better]] {
            let mut rib = LocRib::new();
            for p_ in order {
                rib.insert(p, p_.clone());
            }
            assert_eq!(rib.best(&p), Some(better.clone()));
        }
    }
}

#[test]
fn removing_the_best_path_promotes_the_next_and_removing_the_last_reports_unreachable() {
    let mut rib = LocRib::new();
    let p = prefix("198.51.100.0/24");
    let a = path(peer(1, PeerType::External), &[65001], None);
    let b = path(peer(2, PeerType::External), &[65001, 65002], None);
    rib.insert(p, a.clone());
    assert_eq!(rib.insert(p, b.clone()), None, "best did not change");
    let change = rib.remove(p, &a.source).unwrap();
    assert_eq!(change.previous, Some(a.clone()));
    assert_eq!(change.best, Some(b.clone()));
    let change = rib.remove(p, &b.source).unwrap();
    assert_eq!(change.best, None);
    assert!(rib.is_empty());
}

pub(super) fn context(peer_type: PeerType) -> ExportContext {
    let peer_asn = if peer_type == PeerType::Internal {
        65000
    } else {
        65100
    };
    let mut context = ExportContext::new(
        65000,
        Ipv4Addr::new(10, 0, 0, 254),
        peer_asn,
        "192.0.2.100".parse().unwrap(),
    );
    context.peer_router_id = Some(Ipv4Addr::new(10, 0, 0, 100));
    context.next_hop_v4 = Some(Ipv4Addr::new(192, 0, 2, 254));
    context.next_hop_v6 = Some("2001:db8::fe".parse().unwrap());
    context.families = vec![(Afi::Ipv4, Safi::Unicast), (Afi::Ipv6, Safi::Unicast)];
    context
}

#[test]
fn external_peer_gets_our_as_prepended_next_hop_self_and_no_local_pref() {
    let learned = path(peer(1, PeerType::Internal), &[65001], Some(300));
    let exported = export(
        &context(PeerType::External),
        &prefix("198.51.100.0/24"),
        &learned,
    )
    .unwrap();
    assert_eq!(
        exported.attributes.as_path,
        Some(AsPath::from_sequence(vec![65000, 65001]))
    );
    assert_eq!(exported.attributes.local_pref, None);
    assert_eq!(exported.next_hop, "192.0.2.254".parse::<IpAddr>().unwrap());
}

#[test]
fn internal_peer_gets_local_pref_and_unchanged_path_and_self_for_local_routes() {
    let local = path(RouteSource::Local, &[], None);
    let exported = export(
        &context(PeerType::Internal),
        &prefix("2001:db8:1::/48"),
        &local,
    )
    .unwrap();
    assert_eq!(exported.attributes.as_path, Some(AsPath::default()));
    assert_eq!(exported.attributes.local_pref, Some(100));
    assert_eq!(exported.next_hop, "2001:db8::fe".parse::<IpAddr>().unwrap());
}

#[test]
fn routes_are_not_sent_back_nor_between_internal_peers_nor_into_a_loop() {
    let p = prefix("198.51.100.0/24");
    let mut from_that_peer = path(peer(100, PeerType::External), &[65100], None);
    from_that_peer.source = RouteSource::peer(
        "192.0.2.100".parse().unwrap(),
        Ipv4Addr::new(10, 0, 0, 100),
        PeerType::External,
    );
    assert_eq!(
        export(&context(PeerType::External), &p, &from_that_peer),
        None
    );
    let internal = path(peer(1, PeerType::Internal), &[], Some(100));
    assert_eq!(export(&context(PeerType::Internal), &p, &internal), None);
    let through_peer_as = path(peer(1, PeerType::External), &[65001, 65100], None);
    assert_eq!(
        export(&context(PeerType::External), &p, &through_peer_as),
        None
    );
}

#[test]
fn families_not_negotiated_are_not_exported() {
    let mut context = context(PeerType::External);
    context.families = vec![(Afi::Ipv4, Safi::Unicast)];
    let local = path(RouteSource::Local, &[], None);
    assert_eq!(export(&context, &prefix("2001:db8:1::/48"), &local), None);
}

#[test]
fn many_prefixes_with_the_same_attributes_pack_into_few_updates_under_4096_bytes() {
    let context = context(PeerType::External);
    let local = path(RouteSource::Local, &[], None);
    let mut announce = Vec::new();
    for i in 0..3000u32 {
        let v4 = IpNetwork::V4(
            ipnetwork::Ipv4Network::new(Ipv4Addr::from(0xc612_0000 + (i << 8)), 24).unwrap(),
        );
        announce.push((v4, export(&context, &v4, &local).unwrap()));
        let v6: IpNetwork = format!("2001:db8:{i:x}::/48").parse().unwrap();
        announce.push((v6, export(&context, &v6, &local).unwrap()));
    }
    let withdraw: Vec<IpNetwork> = (0..1000)
        .map(|i| format!("2001:db8:{:x}::/48", 0x8000 + i).parse().unwrap())
        .collect();
    let updates = build_updates(announce, withdraw, &CodecContext::FOUR_OCTET_AS);
    let mut v4 = 0;
    let mut v6 = 0;
    let mut withdrawn = 0;
    for update in &updates {
        let mut buf = BytesMut::new();
        let len = Message::Update(update.clone())
            .encode(&CodecContext::FOUR_OCTET_AS, &mut buf)
            .expect("fits in 4096 bytes");
        assert!(len <= 4096);
        v4 += update.nlri.len();
        v6 += update.mp_reach.as_ref().map_or(0, |r| r.nlri.len());
        withdrawn += update.withdrawn_prefixes().count();
    }
    assert_eq!((v4, v6, withdrawn), (3000, 3000, 1000));
    // 3000 /24s take 4 bytes each: 3 UPDATEs; 3000 /48s take 7 bytes: 6; 1000 withdrawals: 2.
    assert!(updates.len() <= 12, "{} updates", updates.len());
}

#[test]
fn export_cache_gives_the_same_answer_and_shares_attributes() {
    let context = context(PeerType::External);
    let shared = path(peer(1, PeerType::External), &[65001], None);
    let mut cache = ExportCache::new(&context);
    let first = cache.export(&prefix("198.51.100.0/24"), &shared).unwrap();
    let second = cache.export(&prefix("203.0.113.0/24"), &shared).unwrap();
    assert!(Arc::ptr_eq(&first.attributes, &second.attributes));
    assert_eq!(
        Some(first),
        export(&context, &prefix("198.51.100.0/24"), &shared)
    );
    // Another family of the same path is exported on its own (another next hop).
    let v6 = cache.export(&prefix("2001:db8:1::/48"), &shared).unwrap();
    assert_eq!(v6.next_hop, "2001:db8::fe".parse::<IpAddr>().unwrap());
}
