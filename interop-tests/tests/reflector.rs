//! iBGP route reflection: BIRD, FRR and GoBGP each act as the reflector for clients of the
//! other kinds (ExaBGP is always a client), all on one switch.

mod common;

use std::net::{IpAddr, Ipv4Addr};

use common::{CONVERGE, net};
use interop_tests::peers::{self, BgpPeer, Neighbor, PeerConfig, PeerKind, Route};
use interop_tests::{Host, Switch, logs};

const AS: u32 = 65100;
const CLUSTER_ID: Ipv4Addr = Ipv4Addr::new(198, 18, 20, 250);

fn reflect(reflector_kind: PeerKind) {
    let switch = Switch::new("rr-sw").expect("switch");
    let client_kinds: Vec<PeerKind> = PeerKind::ALL
        .into_iter()
        .filter(|kind| *kind != reflector_kind)
        .collect();
    let reflector_address = Ipv4Addr::new(198, 18, 20, 1);
    let mut hosts = Vec::new();
    let reflector_host = Host::new(&format!("rr-{reflector_kind:?}")).expect("host");
    switch
        .connect_with_addresses(&reflector_host, &[net("198.18.20.1/24")])
        .expect("connect");
    let mut clients = Vec::new();
    for (index, kind) in client_kinds.iter().enumerate() {
        let octet = u8::try_from(index + 10).expect("small");
        let address = Ipv4Addr::new(198, 18, 20, octet);
        let host = Host::new(&format!("client-{kind:?}")).expect("host");
        switch
            .connect_with_addresses(&host, &[net(&format!("{address}/24"))])
            .expect("connect");
        let prefix = net(&format!("203.0.113.{}/32", octet));
        clients.push((*kind, address, prefix, host));
    }
    let mut reflector_config = PeerConfig::new(reflector_address, AS).cluster_id(CLUSTER_ID);
    for (_, address, _, _) in &clients {
        reflector_config = reflector_config.neighbor(
            Neighbor::new(IpAddr::V4(*address), AS)
                .local_address(IpAddr::V4(reflector_address))
                .route_reflector_client(),
        );
    }
    let reflector =
        peers::start(reflector_kind, &reflector_host, reflector_config).expect("start reflector");
    hosts.push(reflector_host.clone());
    let mut client_peers: Vec<(Box<dyn BgpPeer>, Ipv4Addr, ipnetwork::IpNetwork)> = Vec::new();
    for (kind, address, prefix, host) in &clients {
        let config = PeerConfig::new(*address, AS)
            .neighbor(
                Neighbor::new(IpAddr::V4(reflector_address), AS)
                    .local_address(IpAddr::V4(*address)),
            )
            .route(Route::new(*prefix).community(65100, u16::from(address.octets()[3])));
        let peer = peers::start(*kind, host, config).expect("start client");
        hosts.push(host.clone());
        client_peers.push((peer, *address, *prefix));
    }
    let host_refs: Vec<&Host> = hosts.iter().collect();
    let fail = |e: interop_tests::Error| -> ! { panic!("{e}\n{}", logs::dump(&host_refs)) };
    for (_, address, _) in &client_peers {
        reflector
            .wait_established(IpAddr::V4(*address), CONVERGE)
            .unwrap_or_else(|e| fail(e));
    }
    for (receiver, receiver_address, _) in &client_peers {
        for (sender, sender_address, prefix) in &client_peers {
            if sender_address == receiver_address {
                continue;
            }
            let route = receiver
                .wait_route(*prefix, CONVERGE)
                .unwrap_or_else(|e| fail(e));
            let who = format!(
                "{:?} receiving {prefix} from {:?} via {reflector_kind:?}",
                receiver.kind(),
                sender.kind()
            );
            assert_eq!(
                route.next_hop,
                IpAddr::V4(*sender_address),
                "{who}: {route:?}"
            );
            assert!(route.as_path.is_empty(), "{who}: {route:?}");
            assert_eq!(
                route.originator_id,
                Some(*sender_address),
                "{who}: {route:?}"
            );
            assert_eq!(route.cluster_list, vec![CLUSTER_ID], "{who}: {route:?}");
            assert_eq!(route.local_pref, Some(100), "{who}: {route:?}");
            let community = (65100, u16::from(sender_address.octets()[3]));
            assert!(route.communities.contains(&community), "{who}: {route:?}");
        }
    }
}

#[test]
fn frr_reflects_between_bird_gobgp_and_exabgp() {
    reflect(PeerKind::Frr);
}

#[test]
fn bird_reflects_between_frr_gobgp_and_exabgp() {
    reflect(PeerKind::Bird);
}

#[test]
fn gobgp_reflects_between_bird_frr_and_exabgp() {
    reflect(PeerKind::GoBgp);
}
