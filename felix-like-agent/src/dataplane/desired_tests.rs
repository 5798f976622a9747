use std::sync::Arc;

use bgp::packet::PathAttributes;
use bgp::{Path, PeerType};

use super::*;
use crate::dataplane::route::{Device, RouteKind};

fn net(text: &str) -> IpNetwork {
    text.parse().unwrap()
}

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

fn learned(prefix: &str, next_hop: &str, best: bool, multipath: bool) -> Route {
    let peer = ip(next_hop);
    Route {
        prefix: net(prefix),
        path: Path::new(
            RouteSource::peer(peer, "198.18.0.1".parse().unwrap(), PeerType::Internal),
            Some(peer),
            Arc::new(PathAttributes::default()),
        ),
        best,
        multipath,
        decided_by: None,
    }
}

fn local_route(prefix: &str) -> Route {
    Route {
        prefix: net(prefix),
        path: Path::new(
            RouteSource::Local,
            None,
            Arc::new(PathAttributes::default()),
        ),
        best: true,
        multipath: false,
        decided_by: None,
    }
}

fn local() -> LocalRoutes {
    LocalRoutes {
        originated: [net("198.19.1.0/24"), net("198.19.240.0/20")].into(),
        pod_cidrs: [net("198.19.1.0/24")].into(),
        own_addresses: [ip("198.18.0.11")].into(),
    }
}

#[test]
fn learned_prefix_becomes_a_plain_unicast_route() {
    let mut inputs = DesiredInputs::default();
    inputs.set_local(local());
    inputs.set_learned(net("198.19.2.0/24"), vec![ip("198.18.0.12")]);
    assert_eq!(
        inputs.route_for(net("198.19.2.0/24"), &PlainNextHop),
        DesiredRoute::unicast(net("198.19.2.0/24"), vec![NextHop::via(ip("198.18.0.12"))])
    );
}

#[test]
fn multipath_gives_an_ecmp_route() {
    let rib = [
        learned("198.51.100.0/24", "198.18.0.13", false, true),
        learned("198.51.100.0/24", "198.18.0.12", true, true),
        learned("198.51.100.0/24", "198.18.0.14", false, false),
    ];
    let mut inputs = DesiredInputs::default();
    inputs.replace_learned(loc_rib_next_hops(&rib));
    let route = inputs
        .route_for(net("198.51.100.0/24"), &PlainNextHop)
        .unwrap();
    assert_eq!(
        route.next_hops(),
        [
            NextHop::via(ip("198.18.0.12")),
            NextHop::via(ip("198.18.0.13"))
        ],
        "the unselected path (.14) is not installed"
    );
}

#[test]
fn local_pod_cidr_is_a_blackhole_even_when_a_peer_announces_it() {
    let mut inputs = DesiredInputs::default();
    inputs.set_local(local());
    inputs.set_learned(net("198.19.1.0/24"), vec![ip("198.18.0.12")]);
    assert_eq!(
        inputs.route_for(net("198.19.1.0/24"), &PlainNextHop),
        Some(DesiredRoute::blackhole(net("198.19.1.0/24")))
    );
}

#[test]
fn originated_prefixes_are_never_unicast() {
    let mut inputs = DesiredInputs::default();
    inputs.set_local(local());
    // Every node announces the service range; ours is as good as theirs.
    inputs.set_learned(net("198.19.240.0/20"), vec![ip("198.18.0.12")]);
    assert_eq!(
        inputs.route_for(net("198.19.240.0/20"), &PlainNextHop),
        None
    );
    let all = inputs.all(&PlainNextHop);
    assert_eq!(all.len(), 1, "only the blackhole: {all:?}");
}

#[test]
fn own_address_as_next_hop_is_dropped() {
    let mut inputs = DesiredInputs::default();
    inputs.set_local(local());
    inputs.set_learned(net("198.19.3.0/24"), vec![ip("198.18.0.11")]);
    assert_eq!(inputs.route_for(net("198.19.3.0/24"), &PlainNextHop), None);
    inputs.set_learned(
        net("198.19.3.0/24"),
        vec![ip("198.18.0.11"), ip("198.18.0.13")],
    );
    assert_eq!(
        inputs
            .route_for(net("198.19.3.0/24"), &PlainNextHop)
            .unwrap()
            .next_hops(),
        [NextHop::via(ip("198.18.0.13"))]
    );
}

#[test]
fn a_local_best_path_means_nothing_learned() {
    let change = RouteChange {
        prefix: net("198.19.1.0/24"),
        best: Some(local_route("198.19.1.0/24")),
        multipath: vec![],
    };
    assert!(change_next_hops(&change).is_empty());
    let gone = RouteChange {
        prefix: net("198.19.2.0/24"),
        best: None,
        multipath: vec![],
    };
    assert!(change_next_hops(&gone).is_empty());
}

#[test]
fn withdrawn_prefix_leaves_desired_state() {
    let mut inputs = DesiredInputs::default();
    inputs.set_learned(net("198.19.2.0/24"), vec![ip("198.18.0.12")]);
    inputs.set_learned(net("198.19.2.0/24"), vec![]);
    assert!(inputs.all(&PlainNextHop).is_empty());
    assert_eq!(inputs.learned_len(), 0);
}

#[test]
fn route_via_hook_decides_device_and_onlink() {
    let tunnel = |_destination: IpNetwork, hop: IpAddr| {
        vec![NextHop::via(hop).onlink_through(Device::Name("tunl0".into()))]
    };
    let mut inputs = DesiredInputs::default();
    inputs.set_learned(net("198.19.2.0/24"), vec![ip("198.18.1.12")]);
    let route = inputs.route_for(net("198.19.2.0/24"), &tunnel).unwrap();
    assert_eq!(
        route.to_string(),
        "198.19.2.0/24 via 198.18.1.12 dev tunl0 onlink"
    );
    assert!(matches!(route.kind, RouteKind::Unicast(_)));
}

#[test]
fn next_hops_of_the_other_family_are_dropped() {
    let mut inputs = DesiredInputs::default();
    inputs.set_learned(net("2001:db8:2::/64"), vec![ip("198.18.0.12")]);
    assert_eq!(
        inputs.route_for(net("2001:db8:2::/64"), &PlainNextHop),
        None
    );
}
