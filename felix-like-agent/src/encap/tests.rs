//! Decision tables for [`super::encapsulation`], the topology reader and the NAT script.

use std::net::Ipv4Addr;

use ipnetwork::Ipv4Network;

use super::*;
use crate::model::EncapsulationMode as M;
use crate::snapshot::Snapshot;

const LOCAL_SUBNET: &str = "198.18.0.0/24";
const SAME: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 12);
const OTHER: Ipv4Addr = Ipv4Addr::new(198, 18, 1, 13);
const OTHER_VTEP: Ipv4Addr = Ipv4Addr::new(198, 19, 3, 1);

fn net(text: &str) -> Ipv4Network {
    text.parse().expect("network")
}

fn pool(cidr: &str, ipip: M, vxlan: M) -> PoolEncap {
    PoolEncap {
        cidr: net(cidr),
        ipip,
        vxlan,
        nat_outgoing: false,
    }
}

fn vteps() -> VtepTable {
    [(OTHER, Vtep::new(OTHER, OTHER_VTEP))]
        .into_iter()
        .collect()
}

fn decide(pools: &[PoolEncap], destination: &str, next_hop: Ipv4Addr) -> Encap {
    encapsulation(
        pools,
        Some(net(LOCAL_SUBNET)),
        &vteps(),
        net(destination),
        next_hop,
    )
}

#[test]
fn decision_table() {
    let vxlan_other = Encap::Vxlan {
        vtep: Vtep::new(OTHER, OTHER_VTEP),
    };
    // (ipipMode, vxlanMode, next hop, expected)
    let table = [
        (M::Never, M::Never, SAME, Encap::None { remote: SAME }),
        (M::Never, M::Never, OTHER, Encap::None { remote: OTHER }),
        (M::Always, M::Never, SAME, Encap::Ipip { remote: SAME }),
        (M::Always, M::Never, OTHER, Encap::Ipip { remote: OTHER }),
        (M::CrossSubnet, M::Never, SAME, Encap::None { remote: SAME }),
        (
            M::CrossSubnet,
            M::Never,
            OTHER,
            Encap::Ipip { remote: OTHER },
        ),
        (M::Never, M::Always, OTHER, vxlan_other),
        (
            M::Never,
            M::Always,
            SAME,
            Encap::VxlanPending { remote: SAME },
        ),
        (M::Never, M::CrossSubnet, SAME, Encap::None { remote: SAME }),
        (M::Never, M::CrossSubnet, OTHER, vxlan_other),
        // Both set (Calico rejects it): IPIP wins.
        (M::Always, M::Always, OTHER, Encap::Ipip { remote: OTHER }),
        (
            M::CrossSubnet,
            M::Always,
            SAME,
            Encap::VxlanPending { remote: SAME },
        ),
    ];
    for (ipip, vxlan, next_hop, expected) in table {
        let pools = [pool("198.19.0.0/16", ipip, vxlan)];
        assert_eq!(
            decide(&pools, "198.19.3.0/24", next_hop),
            expected,
            "ipip {ipip:?} vxlan {vxlan:?} via {next_hop}"
        );
    }
}

#[test]
fn destination_outside_every_pool_is_plain() {
    let pools = [pool("198.19.0.0/16", M::Always, M::Never)];
    assert_eq!(
        decide(&pools, "203.0.113.0/24", OTHER),
        Encap::None { remote: OTHER }
    );
    // A prefix wider than the pool is not in the pool.
    assert_eq!(
        decide(&pools, "198.0.0.0/8", OTHER),
        Encap::None { remote: OTHER }
    );
}

#[test]
fn most_specific_pool_decides() {
    let pools = [
        pool("198.19.0.0/16", M::Always, M::Never),
        pool("198.19.3.0/24", M::Never, M::Never),
    ];
    assert_eq!(
        decide(&pools, "198.19.3.0/26", OTHER),
        Encap::None { remote: OTHER }
    );
    assert_eq!(
        decide(&pools, "198.19.4.0/24", OTHER),
        Encap::Ipip { remote: OTHER }
    );
}

#[test]
fn unknown_local_subnet_makes_cross_subnet_encapsulate() {
    let pools = [pool("198.19.0.0/16", M::CrossSubnet, M::Never)];
    assert_eq!(
        encapsulation(&pools, None, &vteps(), net("198.19.3.0/24"), SAME),
        Encap::Ipip { remote: SAME }
    );
}

#[test]
fn devices_needed() {
    assert!(!needs_ipip(&[pool("198.19.0.0/16", M::Never, M::Always)]));
    assert!(needs_vxlan(&[pool("198.19.0.0/16", M::Never, M::Always)]));
    assert!(needs_ipip(&[pool(
        "198.19.0.0/16",
        M::CrossSubnet,
        M::Never
    )]));
    assert!(!needs_vxlan(&[pool("198.19.0.0/16", M::Always, M::Always)]));
}

#[test]
fn tunnel_address_is_the_first_host() {
    assert_eq!(
        tunnel_address(net("198.19.3.0/24")),
        Some(Ipv4Addr::new(198, 19, 3, 1))
    );
    assert_eq!(tunnel_address(net("198.19.3.7/32")), None);
    assert_eq!(vxlan::vtep_mac(OTHER_VTEP), [0x02, 0x74, 198, 19, 3, 1]);
}

fn objects(yaml: &str) -> Snapshot {
    let parsed = crate::datastore::parse_manifest(std::path::Path::new("test.yaml"), yaml)
        .expect("manifest");
    Snapshot::from_objects(parsed.objects)
}

const CLUSTER: &str = r#"
apiVersion: v1
kind: Node
metadata:
  name: node1
  annotations: {tern.dev/bgp-ipv4-address: 198.18.0.11/24}
spec: {podCIDRs: [198.19.1.0/24]}
---
apiVersion: v1
kind: Node
metadata:
  name: node2
  annotations: {tern.dev/bgp-ipv4-address: 198.18.0.12/24}
spec: {podCIDRs: [198.19.2.0/24, "2001:db8:2::/64"]}
---
apiVersion: v1
kind: Node
metadata:
  name: node3
  annotations: {tern.dev/bgp-ipv4-address: 198.18.1.13/24}
spec: {podCIDRs: [198.19.3.0/24]}
---
apiVersion: tern.dev/v1alpha1
kind: IPPool
metadata: {name: pods}
spec: {cidr: 198.19.0.0/17, ipipMode: CrossSubnet, natOutgoing: true}
---
apiVersion: tern.dev/v1alpha1
kind: IPPool
metadata: {name: v6}
spec: {cidr: "2001:db8::/48", vxlanMode: Always}
"#;

#[test]
fn topology_from_objects() {
    let topology = EncapTopology::from_snapshot(&objects(CLUSTER), "node1");
    assert_eq!(topology.local_address, Some(Ipv4Addr::new(198, 18, 0, 11)));
    assert_eq!(topology.local_subnet, Some(net(LOCAL_SUBNET)));
    assert_eq!(topology.local_pod_cidr, Some(net("198.19.1.0/24")));
    assert_eq!(
        topology.pools.len(),
        1,
        "IPv6 pools are not IPv4 encapsulation"
    );
    assert_eq!(
        topology.pod_routes(),
        vec![
            (
                net("198.19.2.0/24"),
                Encap::None {
                    remote: Ipv4Addr::new(198, 18, 0, 12)
                }
            ),
            (
                net("198.19.3.0/24"),
                Encap::Ipip {
                    remote: Ipv4Addr::new(198, 18, 1, 13)
                }
            ),
        ]
    );
    assert_eq!(
        topology.vteps.get(&Ipv4Addr::new(198, 18, 1, 13)),
        Some(&Vtep::new(
            Ipv4Addr::new(198, 18, 1, 13),
            Ipv4Addr::new(198, 19, 3, 1)
        ))
    );
    assert_eq!(
        topology.local_vtep().map(|vtep| vtep.address),
        Some(Ipv4Addr::new(198, 19, 1, 1))
    );
}

#[test]
fn nat_script() {
    let topology = EncapTopology::from_snapshot(&objects(CLUSTER), "node1");
    let script = nat::render(&topology.pools);
    assert!(script.starts_with("table ip tern-nat\ndelete table ip tern-nat\n"));
    assert!(script.contains("elements = { 198.19.0.0/17 }"), "{script}");
    assert!(script.contains("ip saddr @nat_pools ip daddr != @pools masquerade"));
    let mut pools = topology.pools.clone();
    pools[0].nat_outgoing = false;
    assert_eq!(
        nat::render(&pools),
        "table ip tern-nat\ndelete table ip tern-nat\n",
        "no natOutgoing pool: the table goes"
    );
}
