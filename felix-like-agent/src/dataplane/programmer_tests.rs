use super::*;
use crate::dataplane::route::NextHop;

fn kernel(destination: &str, protocol: u8) -> KernelRoute {
    let destination: IpNetwork = destination.parse().unwrap();
    KernelRoute {
        route: DesiredRoute::unicast(
            destination,
            vec![NextHop::via("198.18.0.12".parse().unwrap())],
        )
        .unwrap(),
        protocol,
        metric: 0,
    }
}

#[test]
fn a_deleted_tern_route_is_forgotten_so_the_next_pass_restores_it() {
    let mut actual = ActualTable::default();
    let route = kernel("198.19.2.0/24", RTPROT_TERN);
    actual.tern.insert(route.route.destination, route.clone());
    note_foreign_change(&mut actual, route, true);
    assert!(actual.tern.is_empty());
}

#[test]
fn a_route_of_another_protocol_at_our_metric_replaced_ours() {
    let mut actual = ActualTable::default();
    let ours = kernel("198.19.2.0/24", RTPROT_TERN);
    actual.tern.insert(ours.route.destination, ours.clone());
    note_foreign_change(&mut actual, kernel("198.19.2.0/24", 3), false);
    assert!(actual.tern.is_empty());
    assert_eq!(actual.foreign.get(&ours.route.destination), Some(&3));
}

#[test]
fn a_route_of_another_protocol_at_another_metric_leaves_ours() {
    let mut actual = ActualTable::default();
    let ours = kernel("198.19.2.0/24", RTPROT_TERN);
    actual.tern.insert(ours.route.destination, ours.clone());
    let mut other = kernel("198.19.2.0/24", 4);
    other.metric = 100;
    note_foreign_change(&mut actual, other, false);
    assert_eq!(actual.tern.len(), 1);
    assert!(actual.foreign.is_empty());
}
