//! calc against the contract examples (deploy/examples): the intent of each node.

mod common;

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use ipnetwork::IpNetwork;
use tern_agent::calc::{Community, PeerSource, calculate};
use tern_agent::model::AsNumber;

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

fn prefix(text: &str) -> IpNetwork {
    text.parse().unwrap()
}

fn prefixes(intent: &tern_agent::calc::NodeIntent) -> Vec<String> {
    intent
        .advertisements
        .iter()
        .map(|a| a.prefix.to_string())
        .collect()
}

#[test]
fn node_1_identity_and_peers() {
    let intent = calculate(&common::contract_snapshot(), "node-1").unwrap();
    assert!(intent.problems.is_empty(), "{:?}", intent.problems);
    assert_eq!(intent.asn, AsNumber(64512));
    assert_eq!(intent.router_id, Ipv4Addr::new(198, 18, 0, 11));
    assert_eq!(intent.listen_port, 179);
    assert_eq!(
        intent.ipv6_address,
        Some("2001:db8:18::11".parse().unwrap())
    );
    assert_eq!(intent.route_reflector_cluster_id, None);

    let addresses: Vec<IpAddr> = intent.peers.iter().map(|p| p.address).collect();
    assert_eq!(
        addresses,
        [ip("198.18.0.21"), ip("198.18.0.254")],
        "no mesh: node-1 is a reflector client"
    );

    let tor = intent.peer(ip("198.18.0.254")).unwrap();
    assert_eq!(tor.asn, AsNumber(65000));
    assert_eq!(tor.port, 179);
    assert_eq!(
        tor.source,
        PeerSource::NodeSpecific {
            bgp_peer: "tor-r1".into()
        }
    );
    assert_eq!(tor.password.as_ref().unwrap().0, "s3cret-md5-key");
    assert_eq!(tor.ttl_security, Some(1));
    assert_eq!(tor.max_restart_time, Some(Duration::from_secs(120)));
    assert_eq!(tor.filters.len(), 1);
    assert_eq!(tor.filters[0].name, "no-default-route");
    assert_eq!(tor.filters[0].spec.export_v4.len(), 2);
    assert_eq!(tor.source_address, Some(ip("198.18.0.11")));
    assert!(!tor.passive && !tor.route_reflector_client && tor.peer_node.is_none());

    let reflector = intent.peer(ip("198.18.0.21")).unwrap();
    assert_eq!(reflector.asn, AsNumber(64512));
    assert_eq!(reflector.peer_node.as_deref(), Some("rr-1"));
    assert_eq!(
        reflector.source,
        PeerSource::NodeSpecific {
            bgp_peer: "rr-clients-to-reflectors".into()
        }
    );
    assert!(reflector.passive, "the higher address waits");
    assert!(!reflector.route_reflector_client);
    assert!(reflector.password.is_none());
}

#[test]
fn node_2_peers_use_its_own_as() {
    let intent = calculate(&common::contract_snapshot(), "node-2").unwrap();
    assert!(intent.problems.is_empty(), "{:?}", intent.problems);
    assert_eq!(intent.asn, AsNumber(64513));
    assert_eq!(intent.router_id, Ipv4Addr::new(198, 18, 1, 12));
    let addresses: Vec<IpAddr> = intent.peers.iter().map(|p| p.address).collect();
    assert_eq!(addresses, [ip("198.18.0.21"), ip("198.18.1.253")]);
    let lab = intent.peer(ip("198.18.1.253")).unwrap();
    assert_eq!(lab.asn, AsNumber(65001));
    assert!(!lab.keep_original_next_hop);
    assert_eq!(
        lab.source,
        PeerSource::NodeSpecific {
            bgp_peer: "node-2-lab-router".into()
        }
    );
    let reflector = intent.peer(ip("198.18.0.21")).unwrap();
    assert_eq!(reflector.asn, AsNumber(64512));
    assert!(!reflector.passive, "198.18.0.21 < 198.18.1.12");
}

#[test]
fn reflector_serves_both_clients() {
    let intent = calculate(&common::contract_snapshot(), "rr-1").unwrap();
    assert!(intent.problems.is_empty(), "{:?}", intent.problems);
    assert_eq!(
        intent.router_id,
        Ipv4Addr::new(198, 18, 0, 21),
        "InternalIP without annotation"
    );
    assert_eq!(
        intent.route_reflector_cluster_id,
        Some(Ipv4Addr::new(244, 0, 0, 1))
    );
    let addresses: Vec<IpAddr> = intent.peers.iter().map(|p| p.address).collect();
    assert_eq!(addresses, [ip("198.18.0.11"), ip("198.18.1.12")]);
    let node_1 = intent.peer(ip("198.18.0.11")).unwrap();
    assert!(node_1.route_reflector_client, "iBGP client");
    assert!(!node_1.passive);
    let node_2 = intent.peer(ip("198.18.1.12")).unwrap();
    assert_eq!(node_2.asn, AsNumber(64513));
    assert!(
        !node_2.route_reflector_client,
        "eBGP peers are never reflector clients"
    );
    assert!(node_2.passive);
}

#[test]
fn node_2_advertises_the_local_service_and_node_1_does_not() {
    let snapshot = common::contract_snapshot();
    let node_1 = calculate(&snapshot, "node-1").unwrap();
    assert_eq!(
        prefixes(&node_1),
        [
            "198.19.1.0/24",
            "198.19.240.0/20",
            "198.51.100.0/24",
            "203.0.113.0/24",
            "2001:db8:42:1::/64"
        ]
    );
    let node_2 = calculate(&snapshot, "node-2").unwrap();
    assert_eq!(
        prefixes(&node_2),
        [
            "198.19.2.0/24",
            "198.19.240.0/20",
            "198.19.240.20/32",
            "198.51.100.0/24",
            "198.51.100.20/32",
            "203.0.113.0/24"
        ]
    );
    let rr = calculate(&snapshot, "rr-1").unwrap();
    assert!(rr.advertisement(prefix("198.51.100.20/32")).is_none());
}

#[test]
fn prefix_advertisement_communities_apply_inside_their_cidr() {
    let intent = calculate(&common::contract_snapshot(), "node-2").unwrap();
    let expected = [
        Community::Standard(64512, 100),
        Community::Large(64512, 300, 1),
    ];
    for inside in ["198.19.240.0/20", "198.19.240.20/32"] {
        let communities: Vec<Community> = intent
            .advertisement(prefix(inside))
            .unwrap()
            .communities
            .iter()
            .copied()
            .collect();
        assert_eq!(communities, expected, "{inside}");
    }
    for outside in ["198.19.2.0/24", "198.51.100.20/32"] {
        assert!(
            intent
                .advertisement(prefix(outside))
                .unwrap()
                .communities
                .is_empty()
        );
    }
}

#[test]
fn unknown_node_is_an_error() {
    let error = calculate(&common::contract_snapshot(), "node-9").unwrap_err();
    assert_eq!(error.to_string(), "node node-9 is not in the datastore");
}

#[test]
fn password_never_shows_in_debug_output() {
    let intent = calculate(&common::contract_snapshot(), "node-1").unwrap();
    let debug = format!("{intent:?}");
    assert!(!debug.contains("s3cret"));
    assert!(debug.contains("<redacted>"));
}
