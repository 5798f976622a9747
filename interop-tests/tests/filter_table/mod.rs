//! The rule table of `tern_filters.rs`: for each BGPFilter rule kind, the rules and the
//! routes they must change, on export (tern originates; what the eBGP and iBGP BIRD see) and
//! import (the eBGP BIRD announces; what tern keeps), for IPv4 and IPv6.

use interop_tests::peers::Route;
use interop_tests::tern::{MatchOperatorSpec, OperationSpec, PeerTypeSpec, RuleSpec};
use ipnetwork::IpNetwork;

use crate::tern_lab::net;

use MatchOperatorSpec::{Equal, In, NotEqual, NotIn};

pub const TERN_AS: u32 = 65001;
pub const EXTERNAL_AS: u32 = 65002;

/// What a receiver must see for one route.
#[derive(Debug, Clone, PartialEq)]
pub enum Seen {
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
pub struct Case {
    pub kind: &'static str,
    pub rules: Vec<RuleSpec>,
    /// (route, at the eBGP side, at the iBGP side).
    pub routes: Vec<(Route, Seen, Seen)>,
}

pub fn case(kind: &'static str, rules: Vec<RuleSpec>, routes: Vec<(Route, Seen, Seen)>) -> Case {
    Case {
        kind,
        rules,
        routes,
    }
}

pub fn route(prefix: &str) -> Route {
    Route::new(net(prefix))
}

/// Same outcome on both sides.
pub fn both(route: Route, seen: Seen) -> (Route, Seen, Seen) {
    (route, seen.clone(), seen)
}

pub fn export_cases() -> Vec<Case> {
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
pub type ImportCase = (&'static str, Vec<RuleSpec>, Vec<(Route, Seen)>);

pub fn import_cases() -> Vec<ImportCase> {
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

/// IPv6 export rules (`exportV6`), on the eBGP BIRD's IPv6 session.
pub fn export_v6_cases() -> Vec<ImportCase> {
    use Seen::*;
    vec![
        (
            "v6 cidr Equal",
            vec![RuleSpec::reject().cidr(net("2001:db8:21::/48"), Equal)],
            vec![
                (route("2001:db8:21::/48"), Absent),
                (route("2001:db8:21::/56"), Plain),
            ],
        ),
        (
            "v6 cidr In with prefixLength up to 56 + addCommunity",
            vec![
                RuleSpec::accept()
                    .cidr(net("2001:db8:22::/48"), In)
                    .prefix_length(None, Some(56))
                    .then(OperationSpec::AddCommunity {
                        value: "65001:622".into(),
                    }),
            ],
            vec![
                (route("2001:db8:22::/56"), Community(65001, 622)),
                (route("2001:db8:22::/64"), Plain),
            ],
        ),
        (
            // The IPv4 list's community rule (65001:30) does not apply to IPv6 routes.
            "v4 rules leave v6 routes alone",
            vec![],
            vec![(route("2001:db8:23::/48").community(65001, 30), Plain)],
        ),
    ]
}

/// IPv6 import rules (`importV6`), on the eBGP BIRD's IPv6 session.
pub fn import_v6_cases() -> Vec<ImportCase> {
    use Seen::*;
    vec![
        (
            "v6 cidr In with prefixLength from 56",
            vec![
                RuleSpec::reject()
                    .cidr(net("2001:db8:41::/48"), In)
                    .prefix_length(Some(56), None),
            ],
            vec![
                (route("2001:db8:41::/56"), Absent),
                (route("2001:db8:41::/48"), Plain),
            ],
        ),
        (
            "v6 community + setLocalPreference",
            vec![
                RuleSpec::accept()
                    .community("65002:642")
                    .then(OperationSpec::SetLocalPreference { value: 320 }),
            ],
            vec![(
                route("2001:db8:42::/48").community(65002, 642),
                LocalPref(320),
            )],
        ),
        (
            // The IPv4 list's community rule (65002:52) does not apply to IPv6 routes.
            "v4 rules leave v6 routes alone",
            vec![],
            vec![(route("2001:db8:43::/48").community(65002, 52), Plain)],
        ),
    ]
}

/// (prefix, expectation, rule kind) for every route of `cases`.
pub fn flatten(cases: &[ImportCase]) -> Vec<(IpNetwork, Seen, &'static str)> {
    cases
        .iter()
        .flat_map(|(kind, _, routes)| {
            routes
                .iter()
                .map(move |(route, seen)| (route.prefix, seen.clone(), *kind))
        })
        .collect()
}
