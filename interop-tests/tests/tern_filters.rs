//! Filters with Calico's BGPFilter meaning against real peers (issue 3, acceptance point 4):
//! one table of rule kinds (CIDR with Equal / NotEqual / In / NotIn, prefix-length range,
//! community, AS-path prefix, peer type, source; Accept / Reject, add community, prepend AS
//! path, set LOCAL_PREF), each with the routes it must change. One session setup: tern (AS
//! 65001) with an iBGP BIRD and an eBGP BIRD (AS 65002) on one switch. Export: tern
//! originates the routes and both BIRDs must receive exactly what the rules let through, with
//! the attributes they set. Import: the eBGP BIRD (and for the peer-type rule the iBGP one too)
//! announces the routes and tern's Loc-RIB must hold exactly what the rules accept.

mod tern_lab;

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};

use interop_tests::peers::{BgpPeer, Neighbor, PeerConfig, PeerKind, PeerRoute, Route};
use interop_tests::tern::{
    FilterSpec, MatchOperatorSpec, OperationSpec, PeerSpec, PeerTypeSpec, RouteSpec, RuleSpec,
    SpeakerSpec,
};
use ipnetwork::IpNetwork;
use tern_lab::{CONVERGE, Lab, net};

use MatchOperatorSpec::{Equal, In, NotEqual, NotIn};

const TERN_AS: u32 = 65001;
const EXTERNAL_AS: u32 = 65002;

/// What a receiver must see for one route.
#[derive(Debug, Clone, PartialEq)]
enum Seen {
    /// Not received.
    Absent,
    /// Received with the default attributes.
    Plain,
    /// Received carrying this community.
    Community(u16, u16),
    /// Received with exactly this AS_PATH.
    AsPath(Vec<u32>),
    /// Received with this LOCAL_PREF.
    LocalPref(u32),
}

/// One rule kind: the rules (appended to the filter in table order) and, per route, what the
/// eBGP and the iBGP side see.
struct Case {
    kind: &'static str,
    rules: Vec<RuleSpec>,
    /// (route, at the eBGP side, at the iBGP side).
    routes: Vec<(Route, Seen, Seen)>,
}

fn case(kind: &'static str, rules: Vec<RuleSpec>, routes: Vec<(Route, Seen, Seen)>) -> Case {
    Case {
        kind,
        rules,
        routes,
    }
}

fn route(prefix: &str) -> Route {
    Route::new(net(prefix))
}

/// Same outcome on both sides.
fn both(route: Route, seen: Seen) -> (Route, Seen, Seen) {
    (route, seen.clone(), seen)
}

fn export_cases() -> Vec<Case> {
    use Seen::*;
    vec![
        case(
            "cidr Equal",
            vec![RuleSpec::reject().cidr(net("198.19.21.0/24"), Equal)],
            vec![
                both(route("198.19.21.0/24"), Absent),
                both(route("198.19.21.0/25"), Plain),
            ],
        ),
        case(
            "cidr NotEqual (with a community guard)",
            vec![
                RuleSpec::reject()
                    .cidr(net("198.19.22.0/24"), NotEqual)
                    .community("65001:22"),
            ],
            vec![
                both(route("198.19.22.0/24").community(65001, 22), Plain),
                both(route("198.19.22.128/25").community(65001, 22), Absent),
            ],
        ),
        case(
            "cidr In with prefixLength 25-26",
            vec![
                RuleSpec::reject()
                    .cidr(net("198.19.24.0/22"), In)
                    .prefix_length(Some(25), Some(26)),
            ],
            vec![
                both(route("198.19.24.0/25"), Absent),
                both(route("198.19.25.0/26"), Absent),
                both(route("198.19.26.0/24"), Plain),
                both(route("198.19.27.0/27"), Plain),
            ],
        ),
        case(
            "cidr NotIn (with a community guard)",
            vec![
                RuleSpec::reject()
                    .cidr(net("198.19.28.0/24"), NotIn)
                    .community("65001:28"),
            ],
            vec![
                both(route("198.19.28.0/25").community(65001, 28), Plain),
                both(route("203.0.113.28/32").community(65001, 28), Absent),
            ],
        ),
        case(
            "community",
            vec![RuleSpec::reject().community("65001:30")],
            vec![
                both(route("198.19.30.0/24").community(65001, 30), Absent),
                both(route("198.19.31.0/24").community(65001, 31), Plain),
            ],
        ),
        case(
            "asPathPrefix",
            vec![RuleSpec::reject().as_path_prefix(&[64630])],
            vec![
                both(route("198.19.32.0/24").as_path(&[64630, 64631]), Absent),
                (
                    route("198.19.33.0/24").as_path(&[64631, 64630]),
                    AsPath(vec![TERN_AS, 64631, 64630]),
                    AsPath(vec![64631, 64630]),
                ),
            ],
        ),
        case(
            "peerType eBGP",
            vec![
                RuleSpec::reject()
                    .peer_type(PeerTypeSpec::External)
                    .cidr(net("198.19.34.0/24"), Equal),
            ],
            vec![(route("198.19.34.0/24"), Absent, Plain)],
        ),
        case(
            "Accept + addCommunity",
            vec![RuleSpec::accept().cidr(net("198.19.36.0/24"), Equal).then(
                OperationSpec::AddCommunity {
                    value: "65001:360".into(),
                },
            )],
            vec![both(route("198.19.36.0/24"), Community(65001, 360))],
        ),
        case(
            "Accept + prependASPath",
            vec![RuleSpec::accept().cidr(net("198.19.37.0/24"), Equal).then(
                OperationSpec::PrependAsPath {
                    prefix: vec![64999, 64999],
                },
            )],
            vec![(
                route("198.19.37.0/24"),
                AsPath(vec![TERN_AS, 64999, 64999]),
                AsPath(vec![64999, 64999]),
            )],
        ),
        case(
            "Accept + setLocalPreference (iBGP only carries it)",
            vec![
                RuleSpec::accept()
                    .cidr(net("198.19.38.0/24"), Equal)
                    .then(OperationSpec::SetLocalPreference { value: 250 }),
            ],
            vec![(route("198.19.38.0/24"), Plain, LocalPref(250))],
        ),
        case(
            "the first matching rule decides",
            vec![
                RuleSpec::accept().cidr(net("198.19.39.0/24"), Equal),
                RuleSpec::reject().cidr(net("198.19.39.0/24"), In),
            ],
            vec![
                both(route("198.19.39.0/24"), Plain),
                both(route("198.19.39.128/25"), Absent),
            ],
        ),
        case(
            // Only learned routes match: tern's own route in the range passes, the eBGP
            // BIRD's route in it is not passed on to the iBGP BIRD (see `main`).
            "source RemotePeers",
            vec![
                RuleSpec::reject()
                    .remote_peers()
                    .cidr(net("198.19.60.0/24"), In),
            ],
            vec![both(route("198.19.60.0/25"), Plain)],
        ),
    ]
}

/// An import case: rule kind, rules, and the routes the eBGP BIRD announces with what tern's
/// Loc-RIB must hold for each.
type ImportCase = (&'static str, Vec<RuleSpec>, Vec<(Route, Seen)>);

fn import_cases() -> Vec<ImportCase> {
    use Seen::*;
    vec![
        (
            "cidr Equal",
            vec![RuleSpec::reject().cidr(net("198.19.41.0/24"), Equal)],
            vec![
                (route("198.19.41.0/24"), Absent),
                (route("198.19.41.0/25"), Plain),
            ],
        ),
        (
            "cidr NotEqual (with a community guard)",
            vec![
                RuleSpec::reject()
                    .cidr(net("198.19.42.0/24"), NotEqual)
                    .community("65002:42"),
            ],
            vec![
                (route("198.19.42.0/24").community(65002, 42), Plain),
                (route("198.19.42.128/25").community(65002, 42), Absent),
            ],
        ),
        (
            "cidr In with prefixLength 25-26",
            vec![
                RuleSpec::reject()
                    .cidr(net("198.19.44.0/22"), In)
                    .prefix_length(Some(25), Some(26)),
            ],
            vec![
                (route("198.19.44.0/25"), Absent),
                (route("198.19.45.0/26"), Absent),
                (route("198.19.46.0/24"), Plain),
                (route("198.19.47.0/27"), Plain),
            ],
        ),
        (
            "cidr NotIn (with a community guard)",
            vec![
                RuleSpec::reject()
                    .cidr(net("198.19.48.0/24"), NotIn)
                    .community("65002:48"),
            ],
            vec![
                (route("198.19.48.0/25").community(65002, 48), Plain),
                (route("203.0.113.48/32").community(65002, 48), Absent),
            ],
        ),
        (
            "community",
            vec![RuleSpec::reject().community("65002:52")],
            vec![
                (route("198.19.52.0/24").community(65002, 52), Absent),
                (route("198.19.53.0/24").community(65002, 53), Plain),
            ],
        ),
        (
            "asPathPrefix",
            vec![RuleSpec::reject().as_path_prefix(&[EXTERNAL_AS, 64760])],
            vec![
                (route("198.19.54.0/24").as_path(&[64760]), Absent),
                (
                    route("198.19.55.0/24").as_path(&[64761]),
                    AsPath(vec![EXTERNAL_AS, 64761]),
                ),
            ],
        ),
        (
            "Accept + addCommunity",
            vec![RuleSpec::accept().cidr(net("198.19.57.0/24"), Equal).then(
                OperationSpec::AddCommunity {
                    value: "65001:570".into(),
                },
            )],
            vec![(route("198.19.57.0/24"), Community(65001, 570))],
        ),
        (
            "Accept + prependASPath",
            vec![RuleSpec::accept().cidr(net("198.19.58.0/24"), Equal).then(
                OperationSpec::PrependAsPath {
                    prefix: vec![64999],
                },
            )],
            vec![(route("198.19.58.0/24"), AsPath(vec![64999, EXTERNAL_AS]))],
        ),
        (
            "Accept + setLocalPreference",
            vec![
                RuleSpec::accept()
                    .cidr(net("198.19.59.0/24"), Equal)
                    .then(OperationSpec::SetLocalPreference { value: 300 }),
            ],
            vec![(route("198.19.59.0/24"), LocalPref(300))],
        ),
    ]
}

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
    filter.import_v4.push(
        RuleSpec::reject()
            .peer_type(PeerTypeSpec::Internal)
            .cidr(net(PEER_TYPE_PREFIX), Equal),
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
    let external = lab.router(
        PeerKind::Bird,
        &external_host,
        bird(external_address, EXTERNAL_AS, external_routes),
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
    for case in &exports {
        for (route, _, _) in &case.routes {
            let mut originated = RouteSpec::new(route.prefix).as_path(&route.as_path);
            originated.communities = route.communities.clone();
            spec = spec.route(originated);
        }
    }
    let tern = lab.tern(&tern_host, spec);
    lab.established(external.as_ref(), tern_address);
    lab.established(internal.as_ref(), tern_address);

    // Export: what each BIRD received from tern.
    let from_tern = |peer: &dyn BgpPeer| {
        let peer_rib = peer.rib().map_err(|e| e.to_string())?;
        Ok(peer_rib
            .into_iter()
            .filter(|r| r.from == Some(IpAddr::V4(tern_address)))
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
        if !external_side {
            expected.push((
                net(LEARNED_IN_SOURCE_RANGE),
                Seen::Absent,
                "source RemotePeers",
            ));
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
    let mut expected: Vec<(IpNetwork, Seen, &'static str)> = imports
        .iter()
        .flat_map(|(kind, _, routes)| {
            routes
                .iter()
                .map(move |(route, seen)| (route.prefix, seen.clone(), *kind))
        })
        .collect();
    expected.push((
        net(LEARNED_IN_SOURCE_RANGE),
        Seen::Plain,
        "source RemotePeers",
    ));
    check_received(&lab, "tern (import)", &expected, &[EXTERNAL_AS], || {
        let learned = tern.rib().map_err(|e| e.to_string())?;
        Ok(learned
            .into_iter()
            .filter(|r| r.from == Some(IpAddr::V4(external_address)))
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
    let accepted = |address: Ipv4Addr| lab.check(tern.peer(IpAddr::V4(address))).prefixes_received;
    let imported_present = expected
        .iter()
        .filter(|(_, s, _)| *s != Seen::Absent)
        .count();
    assert_eq!(accepted(external_address), imported_present + 1);
    assert_eq!(accepted(internal_address), 0);
}
