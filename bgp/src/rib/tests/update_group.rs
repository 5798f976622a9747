//! Update groups: membership, and that the shared export equals each member's own.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use ipnetwork::IpNetwork;

use super::*;
use crate::packet::{AsPath, CodecContext, Origin, PathAttributes};
use crate::rib::export::{ExportContext, export};
use crate::rib::route::{Path, PeerType, RouteSource};

const LOCAL_AS: u32 = 64512;

fn address(last: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(192, 0, 2, last))
}

fn router_id(last: u8) -> Ipv4Addr {
    Ipv4Addr::new(198, 18, 0, last)
}

/// The export context of a session with peer `last` in `asn`, as the core builds it.
fn context(last: u8, asn: u32, client: bool) -> ExportContext {
    let mut context = ExportContext::new(LOCAL_AS, router_id(254), asn, address(last));
    context.peer_router_id = Some(router_id(last));
    context.route_reflector_client = client;
    context.next_hop_v4 = Some(Ipv4Addr::new(192, 0, 2, 254));
    context
}

fn member(last: u8, asn: u32) -> Member {
    Member {
        address: address(last),
        router_id: Some(router_id(last)),
        asn,
    }
}

fn path(from: u8, peer_type: PeerType, as_path: &[u32], originator: Option<u8>) -> Path {
    let source = RouteSource::Peer {
        address: address(from),
        router_id: router_id(from),
        peer_type,
        reflector_client: true,
    };
    Path::new(
        source,
        Some(address(from)),
        Arc::new(PathAttributes {
            origin: Some(Origin::Igp),
            as_path: Some(AsPath::from_sequence(as_path.to_vec())),
            local_pref: (peer_type == PeerType::Internal).then_some(100),
            originator_id: originator.map(router_id),
            ..PathAttributes::default()
        }),
    )
}

fn net(i: u8) -> IpNetwork {
    format!("198.51.100.{}/32", i).parse().unwrap()
}

/// Every member's own export of the changes, as announce/withdraw lists.
fn own(
    context: &ExportContext,
    changes: &[NetChange<'_>],
) -> (Vec<(IpNetwork, Exported)>, Vec<IpNetwork>) {
    let mut announce = Vec::new();
    let mut withdraw = Vec::new();
    for (prefix, previous, best) in changes {
        let before = previous.and_then(|p| export(context, prefix, p));
        let after = best.and_then(|p| export(context, prefix, p));
        diff(prefix, before, after, &mut announce, &mut withdraw);
    }
    (announce, withdraw)
}

/// What `share` tells member `i`: the shares it is not set apart from.
fn shared_for(
    shares: &[Share<'_>],
    i: usize,
) -> (Vec<(IpNetwork, Exported)>, Vec<IpNetwork>, Vec<IpNetwork>) {
    let mut announce = Vec::new();
    let mut withdraw = Vec::new();
    let mut own_prefixes = Vec::new();
    for share in shares {
        if share.except.contains(&i) {
            own_prefixes.extend(share.changes.iter().map(|c| c.0));
        } else {
            announce.extend(share.announce.iter().cloned());
            withdraw.extend(share.withdraw.iter().copied());
        }
    }
    (announce, withdraw, own_prefixes)
}

#[test]
fn sessions_differing_only_in_who_the_peer_is_share_a_group() {
    let codec = CodecContext::FOUR_OCTET_AS;
    let a = GroupKey::of(&context(1, LOCAL_AS, true), codec);
    let b = GroupKey::of(&context(2, LOCAL_AS, true), codec);
    assert_eq!(a, b);
    // Not a reflector client: other export rules, other group.
    assert_ne!(a, GroupKey::of(&context(3, LOCAL_AS, false), codec));
    // Another encoding, other group.
    assert_ne!(
        a,
        GroupKey::of(&context(2, LOCAL_AS, true), CodecContext::TWO_OCTET_AS)
    );
    // External peers without filters share across AS numbers; with filters they do not.
    let e1 = GroupKey::of(&context(4, 64601, false), codec);
    let e2 = GroupKey::of(&context(5, 64602, false), codec);
    assert_eq!(e1, e2);
    let mut filtered = context(6, 64603, false);
    filtered.filters = vec![Arc::new(crate::filter::Filter::default())];
    assert_ne!(GroupKey::of(&filtered, codec), e1);
}

/// Three route reflector clients in our AS, and their group.
fn three_clients() -> ([Member; 3], GroupKey) {
    let members = [1, 2, 3].map(|i| member(i, LOCAL_AS));
    let key = GroupKey::of(&context(1, LOCAL_AS, true), CodecContext::FOUR_OCTET_AS);
    (members, key)
}

#[test]
fn a_path_from_a_member_sets_only_that_member_apart() {
    let (members, key) = three_clients();
    let from_first = path(1, PeerType::Internal, &[64700], None);
    let changes = vec![
        (net(1), None, Some(&from_first)),
        (net(2), None, Some(&from_first)),
    ];
    let shares = share(&key, &members, &changes);
    assert_eq!(shares.len(), 1);
    assert_eq!(shares[0].except, vec![0]);
    assert_eq!(shares[0].announce.len(), 2);
    assert_eq!(shares[0].delta, 2);
    // The member the paths came from hears nothing of them.
    let (announce, withdraw) = own(&context(1, LOCAL_AS, true), &shares[0].changes);
    assert!(announce.is_empty() && withdraw.is_empty());
}

#[test]
fn originator_and_as_path_set_members_apart() {
    let (members, key) = three_clients();
    // Learned from a non-member, originated by member 3 (index 2).
    let reflected = path(9, PeerType::Internal, &[], Some(3));
    let shares = share(&key, &members, &[(net(1), None, Some(&reflected))]);
    assert_eq!(shares[0].except, vec![2]);

    let external = [member(1, 64601), member(2, 64602)];
    let key = GroupKey::of(&context(1, 64601, false), CodecContext::FOUR_OCTET_AS);
    let through_second = path(9, PeerType::External, &[64700, 64602], None);
    let shares = share(&key, &external, &[(net(1), None, Some(&through_second))]);
    assert_eq!(shares[0].except, vec![1]);
    // The member whose AS is in the path would drop it: it gets nothing.
    let (announce, _) = own(&context(2, 64602, false), &shares[0].changes);
    assert!(announce.is_empty());
}

/// For every member, the group's shares plus its own export of the changes it is set apart
/// for equal what it would be sent on its own.
#[test]
fn shared_export_equals_every_members_own_export() {
    let internal: Vec<(u8, u32)> = (1..=4).map(|i| (i, LOCAL_AS)).collect();
    let external: Vec<(u8, u32)> = (1..=4).map(|i| (i, 64600 + u32::from(i))).collect();
    for (peers, peer_type) in [
        (internal, PeerType::Internal),
        (external, PeerType::External),
    ] {
        let members: Vec<Member> = peers.iter().map(|&(i, asn)| member(i, asn)).collect();
        let contexts: Vec<ExportContext> = peers
            .iter()
            .map(|&(i, asn)| context(i, asn, true))
            .collect();
        let key = GroupKey::of(&contexts[0], CodecContext::FOUR_OCTET_AS);
        let mut paths = Vec::new();
        for from in [1u8, 2, 3, 4, 9] {
            for originator in [None, Some(2u8), Some(4)] {
                for as_path in [vec![], vec![64700], vec![64602, 64700], vec![64603]] {
                    paths.push(path(from, peer_type, &as_path, originator));
                }
            }
        }
        let mut changes: Vec<NetChange<'_>> = Vec::new();
        for (i, pair) in paths.windows(2).enumerate() {
            let prefix = net(u8::try_from(i % 250).unwrap());
            let previous = (i % 3 != 0).then_some(&pair[0]);
            let best = (i % 5 != 0).then_some(&pair[1]);
            changes.push((prefix, previous, best));
        }
        let shares = share(&key, &members, &changes);
        for (i, context) in contexts.iter().enumerate() {
            let (mut announce, mut withdraw, own_prefixes) = shared_for(&shares, i);
            let own_changes: Vec<NetChange<'_>> = changes
                .iter()
                .filter(|c| own_prefixes.contains(&c.0))
                .copied()
                .collect();
            let (a, w) = own(context, &own_changes);
            announce.extend(a);
            withdraw.extend(w);
            let (expected_announce, expected_withdraw) = own(context, &changes);
            let sorted = |mut v: Vec<(IpNetwork, Exported)>| {
                v.sort_by_key(|(p, e)| (*p, e.next_hop));
                v
            };
            assert_eq!(
                sorted(announce),
                sorted(expected_announce),
                "{peer_type} member {i}"
            );
            withdraw.sort();
            let mut expected_withdraw = expected_withdraw;
            expected_withdraw.sort();
            assert_eq!(withdraw, expected_withdraw, "{peer_type} member {i}");
        }
    }
}
