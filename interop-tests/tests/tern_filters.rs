//! Filters with Calico's BGPFilter meaning against real peers (issue 3, acceptance point 4):
//! one table of rule kinds (CIDR with Equal / NotEqual / In / NotIn, prefix-length range,
//! community, AS-path prefix, peer type, source; Accept / Reject, add community, prepend AS
//! path, set LOCAL_PREF), each with the routes it must change. One session setup: tern (AS
//! 65001) with an iBGP BIRD and an eBGP BIRD (AS 65002) on one switch. Export: tern
//! originates the routes and both BIRDs must receive exactly what the rules let through, with
//! the attributes they set. Import: the eBGP BIRD (and for the peer-type rule the iBGP one too)
//! announces the routes and tern's Loc-RIB must hold exactly what the rules accept.

mod filter_table;
mod tern_common;
mod tern_lab;

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};

use filter_table::{
    EXTERNAL_AS, Seen, TERN_AS, export_cases, export_v6_cases, flatten, import_cases,
    import_v6_cases, route,
};
use interop_tests::peers::{BgpPeer, Neighbor, PeerConfig, PeerKind, PeerRoute, Route};
use interop_tests::tern::{
    FilterSpec, MatchOperatorSpec, PeerSpec, PeerTypeSpec, RouteSpec, RuleSpec, SpeakerSpec,
};
use ipnetwork::IpNetwork;
use tern_lab::{CONVERGE, Lab, net, path_from};

/// Announced by both BIRDs; the import rule drops the iBGP one's path.
const PEER_TYPE_PREFIX: &str = "198.19.56.0/24";
/// Announced by the eBGP BIRD into the `source RemotePeers` export case's range.
const LEARNED_IN_SOURCE_RANGE: &str = "198.19.60.128/25";

/// Whether `route` matches `seen` (`default_path` is what Plain means for the AS_PATH).
fn matches(route: &PeerRoute, seen: &Seen, default_path: &[u32]) -> bool {
    match seen {
        Seen::Absent => false,
        Seen::Plain => route.as_path == default_path,
        Seen::Community(high, low) => route.communities.contains(&(*high, *low)),
        Seen::AsPath(path) => &route.as_path == path,
        Seen::LocalPref(value) => route.local_pref == Some(*value),
    }
}

/// Waits until `received()` holds a matching route for every expected one, then checks that
/// none of the absent ones came, and that nothing in `scope` came that was not expected.
fn check_received(
    lab: &Lab,
    who: &str,
    expected: &[(IpNetwork, Seen, &'static str)],
    default_path: &[u32],
    received: impl Fn() -> Result<Vec<PeerRoute>, String>,
) {
    let present = expected
        .iter()
        .filter(|(_, s, _)| *s != Seen::Absent)
        .count();
    let routes = lab.wait(
        &format!("{who} to receive {present} routes"),
        CONVERGE,
        || {
            let routes = received()?;
            let by_prefix: BTreeMap<IpNetwork, &PeerRoute> =
                routes.iter().map(|r| (r.prefix, r)).collect();
            let missing: Vec<_> = expected
                .iter()
                .filter(|(p, seen, _)| {
                    *seen != Seen::Absent
                        && !by_prefix
                            .get(p)
                            .is_some_and(|r| matches(r, seen, default_path))
                })
                .map(|(p, seen, kind)| format!("{p} {seen:?} ({kind})"))
                .collect();
            match missing.is_empty() {
                true => Ok(Some(routes)),
                false => Err(format!("missing or wrong: {missing:?}; has {routes:#?}")),
            }
        },
    );
    for (prefix, seen, kind) in expected {
        if *seen == Seen::Absent
            && let Some(route) = routes.iter().find(|r| r.prefix == *prefix)
        {
            lab.fail(format!(
                "{who}: {kind}: {prefix} must be filtered, got {route:?}"
            ));
        }
    }
    println!(
        "{who}: {present} routes as expected, {} filtered",
        expected.len() - present
    );
}

#[test]
fn each_filter_rule_kind_changes_what_real_peers_receive_and_tern_accepts() {
    let mut lab = Lab::new("filt", [198, 18, 32]);
    let tern_host = lab.host("tern", 1);
    let internal_host = lab.host("bird-i", 2);
    let external_host = lab.host("bird-e", 3);
    let (tern_address, internal_address, external_address) =
        (lab.address(1), lab.address(2), lab.address(3));
    let (tern_v6, external_v6) = (IpAddr::V6(lab.address6(1)), IpAddr::V6(lab.address6(3)));
    let exports = export_cases();
    let imports = import_cases();

    let mut filter = FilterSpec {
        name: "table".into(),
        ..FilterSpec::default()
    };
    for case in &exports {
        filter.export_v4.extend(case.rules.iter().cloned());
    }
    for (_, rules, _) in &imports {
        filter.import_v4.extend(rules.iter().cloned());
    }
    let exports_v6 = export_v6_cases();
    let imports_v6 = import_v6_cases();
    for (_, rules, _) in &exports_v6 {
        filter.export_v6.extend(rules.iter().cloned());
    }
    for (_, rules, _) in &imports_v6 {
        filter.import_v6.extend(rules.iter().cloned());
    }
    filter.import_v4.push(
        RuleSpec::reject()
            .peer_type(PeerTypeSpec::Internal)
            .cidr(net(PEER_TYPE_PREFIX), MatchOperatorSpec::Equal),
    );

    let bird = |address: Ipv4Addr, asn: u32, routes: Vec<Route>| {
        let mut config = PeerConfig::new(address, asn).neighbor(
            Neighbor::new(IpAddr::V4(tern_address), TERN_AS).local_address(IpAddr::V4(address)),
        );
        config.routes = routes;
        config
    };
    let mut external_routes: Vec<Route> = imports
        .iter()
        .flat_map(|(_, _, routes)| routes.iter().map(|(route, _)| route.clone()))
        .collect();
    external_routes.push(route(PEER_TYPE_PREFIX));
    external_routes.push(route(LEARNED_IN_SOURCE_RANGE));
    external_routes.extend(
        imports_v6
            .iter()
            .flat_map(|(_, _, routes)| routes.iter().map(|(route, _)| route.clone())),
    );
    let external = lab.router(
        PeerKind::Bird,
        &external_host,
        bird(external_address, EXTERNAL_AS, external_routes)
            .neighbor(Neighbor::new(tern_v6, TERN_AS).local_address(external_v6)),
    );
    let internal = lab.router(
        PeerKind::Bird,
        &internal_host,
        bird(internal_address, TERN_AS, vec![route(PEER_TYPE_PREFIX)]),
    );
    let mut spec = SpeakerSpec::new(TERN_AS, tern_address);
    for (address, asn) in [(internal_address, TERN_AS), (external_address, EXTERNAL_AS)] {
        spec = spec.peer(
            PeerSpec::new(IpAddr::V4(address), asn)
                .local_address(IpAddr::V4(tern_address))
                .families(true, false)
                .filter(filter.clone()),
        );
    }
    spec = spec.peer(
        PeerSpec::new(external_v6, EXTERNAL_AS)
            .local_address(tern_v6)
            .families(false, true)
            .filter(filter.clone()),
    );
    let v6_routes = exports_v6
        .iter()
        .flat_map(|(_, _, routes)| routes.iter().map(|(r, _)| r));
    let v4_routes = exports
        .iter()
        .flat_map(|case| case.routes.iter().map(|(r, _, _)| r));
    for route in v4_routes.chain(v6_routes) {
        let mut originated = RouteSpec::new(route.prefix).as_path(&route.as_path);
        originated.communities = route.communities.clone();
        spec = spec.route(originated);
    }
    let tern = lab.tern(&tern_host, spec);
    lab.established(external.as_ref(), tern_address);
    lab.established(internal.as_ref(), tern_address);

    // Export: what each BIRD received from tern.
    let from_tern = |peer: &dyn BgpPeer| {
        let peer_rib = peer.rib().map_err(|e| e.to_string())?;
        Ok(peer_rib
            .into_iter()
            .filter(|r| r.from == Some(IpAddr::V4(tern_address)) || r.from == Some(tern_v6))
            .collect::<Vec<_>>())
    };
    let expected_at = |external_side: bool| {
        let mut expected: Vec<(IpNetwork, Seen, &'static str)> = exports
            .iter()
            .flat_map(|case| {
                case.routes.iter().map(move |(route, at_e, at_i)| {
                    let seen = if external_side { at_e } else { at_i };
                    (route.prefix, seen.clone(), case.kind)
                })
            })
            .collect();
        if external_side {
            expected.extend(flatten(&exports_v6));
        } else {
            let learned = net(LEARNED_IN_SOURCE_RANGE);
            expected.push((learned, Seen::Absent, "source RemotePeers"));
        }
        expected
    };
    check_received(
        &lab,
        "eBGP BIRD (export)",
        &expected_at(true),
        &[TERN_AS],
        || from_tern(external.as_ref()),
    );
    check_received(&lab, "iBGP BIRD (export)", &expected_at(false), &[], || {
        from_tern(internal.as_ref())
    });

    // Import: what tern kept.
    let mut expected = flatten(&imports);
    let learned = net(LEARNED_IN_SOURCE_RANGE);
    expected.push((learned, Seen::Plain, "source RemotePeers"));
    let expected_v6 = flatten(&imports_v6);
    let all: Vec<_> = expected.iter().chain(&expected_v6).cloned().collect();
    let external_sessions = [IpAddr::V4(external_address), external_v6];
    check_received(&lab, "tern (import)", &all, &[EXTERNAL_AS], || {
        let learned = tern.rib().map_err(|e| e.to_string())?;
        Ok(learned
            .into_iter()
            .filter(|r| r.from.is_some_and(|from| external_sessions.contains(&from)))
            .collect())
    });
    // Peer type: the iBGP BIRD's path to the shared prefix was rejected, the eBGP one's kept.
    let paths = lab.check(tern.routes_for(net(PEER_TYPE_PREFIX)));
    let sources: Vec<_> = paths.iter().map(|p| p.from).collect();
    assert_eq!(
        sources,
        vec![Some(IpAddr::V4(external_address))],
        "peerType iBGP import rule: {paths:#?}"
    );
    let accepted = |address: IpAddr| lab.check(tern.peer(address)).prefixes_received;
    let present = |list: &[(IpNetwork, Seen, &str)]| {
        list.iter().filter(|(_, s, _)| *s != Seen::Absent).count()
    };
    assert_eq!(
        accepted(IpAddr::V4(external_address)),
        present(&expected) + 1
    );
    assert_eq!(accepted(external_v6), present(&expected_v6));
    assert_eq!(accepted(IpAddr::V4(internal_address)), 0);

    // New filters at run time, without a session reset: rules put in front now reject an
    // exported and an imported route, and accept an imported route rejected so far (tern
    // kept it as received).
    let external_peer = IpAddr::V4(external_address);
    let before = lab.check(tern.peer(external_peer));
    let mut changed = filter.clone();
    changed.name = "changed".into();
    let (exported, imported, now_accepted) = (
        net("198.19.21.0/25"),
        net("198.19.41.0/25"),
        net("198.19.41.0/24"),
    );
    changed.export_v4.insert(
        0,
        RuleSpec::reject().cidr(exported, MatchOperatorSpec::Equal),
    );
    changed.import_v4.splice(
        0..0,
        [
            RuleSpec::reject().cidr(imported, MatchOperatorSpec::Equal),
            RuleSpec::accept().cidr(now_accepted, MatchOperatorSpec::Equal),
        ],
    );
    lab.check(
        tern.update_peer(
            PeerSpec::new(external_peer, EXTERNAL_AS)
                .local_address(IpAddr::V4(tern_address))
                .families(true, false)
                .filter(changed),
        ),
    );
    lab.wait("the new filters to take effect", CONVERGE, || {
        let at_bird = path_from(external.as_ref(), exported, None)?;
        let at_tern = |prefix| tern.routes_for(prefix).map_err(|e| e.to_string());
        let (gone, also_gone, came) = (
            at_bird.is_none(),
            at_tern(imported)?.is_empty(),
            !at_tern(now_accepted)?.is_empty(),
        );
        match (gone, also_gone, came) {
            (true, true, true) => Ok(Some(())),
            state => Err(format!(
                "(exported gone, imported gone, rejected one in): {state:?}"
            )),
        }
    });
    let after = lab.check(tern.peer(external_peer));
    assert_eq!(after.state, "Established", "{after:?}");
    assert_eq!(
        after.since_unix_ms, before.since_unix_ms,
        "the session was reset: {before:?} -> {after:?}"
    );
    assert!(lab.check(external.is_established(IpAddr::V4(tern_address))));
}
