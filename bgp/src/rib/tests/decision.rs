//! The decision process, one case per step: the winner and the step that decided.

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use crate::packet::{AsPath, AsSegment, AsSegmentType, Origin, PathAttributes};
use crate::rib::decision::{DecidingStep, DecisionContext, decide};
use crate::rib::route::{Path, PeerType, RouteSource};
use crate::rib::{LocRib, Route};

use super::{peer, prefix};

const LOCAL_ASN: u32 = 65000;

fn with(source: RouteSource, as_path: &[u32], change: impl FnOnce(&mut PathAttributes)) -> Path {
    let mut attributes = PathAttributes {
        origin: Some(Origin::Igp),
        as_path: Some(AsPath::from_sequence(as_path.to_vec())),
        ..PathAttributes::default()
    };
    change(&mut attributes);
    Path::new(source, source.peer_address(), Arc::new(attributes))
}

fn plain(source: RouteSource, as_path: &[u32]) -> Path {
    with(source, as_path, |_| {})
}

fn ebgp(last: u8) -> RouteSource {
    peer(last, PeerType::External)
}

fn ibgp(last: u8) -> RouteSource {
    peer(last, PeerType::Internal)
}

fn decide_with(
    paths: &[Path],
    max_paths: usize,
    unreachable: &HashSet<IpAddr>,
) -> (Vec<usize>, Option<DecidingStep>) {
    let context = DecisionContext {
        local_asn: LOCAL_ASN,
        max_paths,
        unreachable,
    };
    let decision = decide(paths, &context);
    (decision.selected, decision.step)
}

/// (name, candidates, index of the expected best, expected step)
fn cases() -> Vec<(&'static str, Vec<Path>, usize, DecidingStep)> {
    let set_path = |path: &mut PathAttributes, segments: Vec<AsSegment>| {
        path.as_path = Some(AsPath { segments });
    };
    vec![
        (
            "only path",
            vec![plain(ebgp(1), &[65001])],
            0,
            DecidingStep::OnlyPath,
        ),
        (
            "higher local preference beats a shorter path",
            vec![
                with(ibgp(1), &[65001, 65002, 65003], |a| {
                    a.local_pref = Some(200)
                }),
                plain(ebgp(2), &[65001]),
            ],
            0,
            DecidingStep::LocalPref,
        ),
        (
            "locally originated beats learned of equal local preference",
            vec![plain(ebgp(1), &[]), with(RouteSource::Local, &[], |_| {})],
            1,
            DecidingStep::LocallyOriginated,
        ),
        (
            "shorter AS path",
            vec![plain(ebgp(1), &[65001, 65009]), plain(ebgp(2), &[65002])],
            1,
            DecidingStep::AsPathLength,
        ),
        (
            "an AS_SET counts one",
            vec![
                plain(ebgp(1), &[65001, 65002, 65003]),
                with(ebgp(2), &[], |a| {
                    set_path(
                        a,
                        vec![
                            AsSegment::sequence(vec![65002]),
                            AsSegment::set(vec![65004, 65005, 65006]),
                        ],
                    )
                }),
            ],
            1,
            DecidingStep::AsPathLength,
        ),
        (
            "confederation segments count zero",
            vec![
                plain(ebgp(1), &[65001, 65002]),
                with(ebgp(2), &[], |a| {
                    set_path(
                        a,
                        vec![
                            AsSegment {
                                kind: AsSegmentType::ConfedSequence,
                                asns: vec![64512, 64513, 64514],
                            },
                            AsSegment::sequence(vec![65002]),
                        ],
                    )
                }),
            ],
            1,
            DecidingStep::AsPathLength,
        ),
        (
            "lower origin",
            vec![
                with(ebgp(1), &[65001], |a| a.origin = Some(Origin::Incomplete)),
                with(ebgp(2), &[65002], |a| a.origin = Some(Origin::Egp)),
            ],
            1,
            DecidingStep::Origin,
        ),
        (
            "lower MED from the same neighbour AS (absent counts 0)",
            vec![
                with(ebgp(1), &[65001], |a| a.med = Some(5)),
                plain(ebgp(2), &[65001]),
            ],
            1,
            DecidingStep::Med,
        ),
        (
            "MED is not compared across neighbour ASes",
            vec![
                with(ebgp(1), &[65001], |a| a.med = Some(50)),
                with(ebgp(2), &[65002], |a| a.med = Some(10)),
            ],
            0,
            DecidingStep::RouterId,
        ),
        (
            "eBGP over iBGP",
            vec![plain(ibgp(1), &[65001]), plain(ebgp(2), &[65001])],
            1,
            DecidingStep::ExternalOverInternal,
        ),
        (
            "lower router ID",
            vec![plain(ibgp(3), &[65001]), plain(ibgp(2), &[65001])],
            1,
            DecidingStep::RouterId,
        ),
        (
            "ORIGINATOR_ID stands in for the router ID",
            vec![
                with(ibgp(1), &[65001], |a| {
                    a.originator_id = Some(Ipv4Addr::new(10, 0, 0, 9))
                }),
                plain(ibgp(5), &[65001]),
            ],
            1,
            DecidingStep::RouterId,
        ),
        (
            "shorter cluster list",
            vec![
                with(ibgp(1), &[65001], |a| {
                    a.originator_id = Some(Ipv4Addr::new(10, 9, 9, 9));
                    a.cluster_list = vec![Ipv4Addr::new(1, 1, 1, 1), Ipv4Addr::new(2, 2, 2, 2)];
                }),
                with(ibgp(2), &[65001], |a| {
                    a.originator_id = Some(Ipv4Addr::new(10, 9, 9, 9));
                    a.cluster_list = vec![Ipv4Addr::new(3, 3, 3, 3)];
                }),
            ],
            1,
            DecidingStep::ClusterListLength,
        ),
        (
            "lower peer address",
            vec![
                with(ibgp(7), &[65001], |a| {
                    a.originator_id = Some(Ipv4Addr::new(10, 9, 9, 9))
                }),
                with(ibgp(6), &[65001], |a| {
                    a.originator_id = Some(Ipv4Addr::new(10, 9, 9, 9))
                }),
            ],
            1,
            DecidingStep::PeerAddress,
        ),
    ]
}

#[test]
fn each_step_of_the_decision_process_decides_its_case_in_any_order() {
    let none = HashSet::new();
    for (name, paths, winner, step) in cases() {
        for reversed in [false, true] {
            let mut order: Vec<usize> = (0..paths.len()).collect();
            if reversed {
                order.reverse();
            }
            let candidates: Vec<Path> = order.iter().map(|&i| paths[i].clone()).collect();
            let (selected, decided) = decide_with(&candidates, 1, &none);
            assert_eq!(
                selected.first().map(|&i| order[i]),
                Some(winner),
                "{name} (reversed: {reversed})"
            );
            assert_eq!(decided, Some(step), "{name} (reversed: {reversed})");
        }
    }
}

#[test]
fn paths_through_unusable_next_hops_are_not_eligible() {
    let preferred = with(ibgp(1), &[65001], |a| a.local_pref = Some(500));
    let other = plain(ebgp(2), &[65002]);
    let paths = [preferred.clone(), other];
    let unreachable: HashSet<IpAddr> = [preferred.next_hop.unwrap()].into();
    assert_eq!(
        decide_with(&paths, 1, &unreachable),
        (vec![1], Some(DecidingStep::OnlyPath))
    );
    let all: HashSet<IpAddr> = paths.iter().filter_map(|p| p.next_hop).collect();
    assert_eq!(decide_with(&paths, 1, &all), (vec![], None));
}

#[test]
fn equal_paths_up_to_the_ebgp_ibgp_step_are_multipath_in_tie_break_order() {
    let none = HashSet::new();
    // Different neighbour ASes, same length: multipath (relaxed), best by router ID first.
    let paths = [
        plain(ebgp(3), &[65003, 65100]),
        plain(ebgp(1), &[65001, 65100]),
        plain(ebgp(2), &[65002, 65200]),
    ];
    assert_eq!(
        decide_with(&paths, 8, &none),
        (vec![1, 2, 0], Some(DecidingStep::RouterId))
    );
    assert_eq!(decide_with(&paths, 2, &none).0, vec![1, 2]);
    assert_eq!(decide_with(&paths, 1, &none).0, vec![1]);
    // A longer path, another ORIGIN, or iBGP among eBGP is not equal.
    let unequal = [
        plain(ebgp(1), &[65001]),
        plain(ebgp(2), &[65002, 65002]),
        with(ebgp(3), &[65003], |a| a.origin = Some(Origin::Incomplete)),
        plain(ibgp(4), &[65004]),
    ];
    assert_eq!(decide_with(&unequal, 8, &none).0, vec![0]);
}

#[test]
fn loc_rib_reports_multipath_changes_and_why_each_path_lost() {
    let mut rib = LocRib::with(LOCAL_ASN, 8);
    let p = prefix("198.51.100.0/24");
    let first = plain(ebgp(1), &[65001]);
    let second = plain(ebgp(2), &[65002]);
    let worse = plain(ebgp(3), &[65003, 65003]);
    rib.insert(p, first.clone());
    rib.insert(p, worse.clone());
    let change = rib
        .insert(p, second.clone())
        .expect("multipath set changed");
    assert_eq!(change.previous, Some(first.clone()));
    assert_eq!(change.best, Some(first.clone()));
    assert_eq!(change.multipath, vec![second.clone()]);
    let routes: Vec<Route> = rib.routes();
    let summary: Vec<(bool, bool, Option<DecidingStep>)> = routes
        .iter()
        .map(|r| (r.best, r.multipath, r.decided_by))
        .collect();
    assert_eq!(
        summary,
        vec![
            (true, true, Some(DecidingStep::RouterId)),
            (false, true, Some(DecidingStep::RouterId)),
            (false, false, Some(DecidingStep::AsPathLength)),
        ]
    );
    // Marking the second path's next hop unusable leaves a single best.
    let change = rib
        .set_unreachable([second.next_hop.unwrap()].into())
        .pop()
        .expect("selection changed");
    assert!(change.multipath.is_empty());
    assert_eq!(rib.selected(&p), vec![first.clone()]);
}
