//! next-hop-self on an iBGP session: an eBGP-learned route is passed to an iBGP neighbor with
//! its original next hop, or with the middle router's address when next-hop-self is set.

mod common;

use std::net::{IpAddr, Ipv4Addr};

use common::{CONVERGE, net};
use interop_tests::peers::{self, Neighbor, PeerConfig, PeerKind, Route};
use interop_tests::{Host, Switch, logs};

fn next_hop_seen_by_inner(middle_kind: PeerKind, next_hop_self: bool) -> IpAddr {
    let inner_kind = match middle_kind {
        PeerKind::Bird => PeerKind::Frr,
        _ => PeerKind::Bird,
    };
    let switch = Switch::new("nh-sw").expect("switch");
    let address = |octet: u8| Ipv4Addr::new(198, 18, 40, octet);
    let hosts: Vec<Host> = ["origin", "middle", "inner"]
        .iter()
        .enumerate()
        .map(|(index, label)| {
            let host = Host::new(label).expect("host");
            let octet = u8::try_from(index + 1).expect("small");
            switch
                .connect_with_addresses(&host, &[net(&format!("{}/24", address(octet)))])
                .expect("connect");
            host
        })
        .collect();
    let [origin_host, middle_host, inner_host] = [&hosts[0], &hosts[1], &hosts[2]];
    let v4 = |octet: u8| IpAddr::V4(address(octet));
    let prefix = net("192.0.2.0/24");
    let _origin = peers::start(
        PeerKind::ExaBgp,
        origin_host,
        PeerConfig::new(address(1), 65001)
            .neighbor(Neighbor::new(v4(2), 65002).local_address(v4(1)))
            .route(Route::new(prefix)),
    )
    .expect("origin");
    let mut toward_inner = Neighbor::new(v4(3), 65002).local_address(v4(2));
    if next_hop_self {
        toward_inner = toward_inner.next_hop_self();
    }
    let _middle = peers::start(
        middle_kind,
        middle_host,
        PeerConfig::new(address(2), 65002)
            .neighbor(Neighbor::new(v4(1), 65001).local_address(v4(2)))
            .neighbor(toward_inner),
    )
    .expect("middle");
    let inner = peers::start(
        inner_kind,
        inner_host,
        PeerConfig::new(address(3), 65002)
            .neighbor(Neighbor::new(v4(2), 65002).local_address(v4(3))),
    )
    .expect("inner");
    let route = inner.wait_route(prefix, CONVERGE).unwrap_or_else(|e| {
        panic!(
            "{e}\n{}",
            logs::dump(&[origin_host, middle_host, inner_host])
        )
    });
    assert_eq!(route.as_path, vec![65001], "{route:?}");
    route.next_hop
}

fn check(kind: PeerKind) {
    let origin: IpAddr = "198.18.40.1".parse().expect("address");
    let middle: IpAddr = "198.18.40.2".parse().expect("address");
    assert_eq!(
        next_hop_seen_by_inner(kind, false),
        origin,
        "{kind:?} without nhs"
    );
    assert_eq!(
        next_hop_seen_by_inner(kind, true),
        middle,
        "{kind:?} with nhs"
    );
}

#[test]
fn bird_next_hop_self_rewrites_and_its_absence_keeps_the_next_hop() {
    check(PeerKind::Bird);
}

#[test]
fn frr_next_hop_self_rewrites_and_its_absence_keeps_the_next_hop() {
    check(PeerKind::Frr);
}

#[test]
fn gobgp_next_hop_self_rewrites_and_its_absence_keeps_the_next_hop() {
    check(PeerKind::GoBgp);
}
