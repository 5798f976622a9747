//! The lab's addresses and names. They mirror the contract manifests (`deploy/examples`):
//! node names, node addresses, pod CIDRs, the top-of-rack router's addresses, AS numbers and
//! the MD5 password of `tor-r1`. Nothing here is read from the manifests, so a change there
//! must be repeated here (the lab's checks then say what disagrees).

use std::net::Ipv4Addr;

use ipnetwork::Ipv4Network;

/// One cluster node of the lab.
#[derive(Debug, Clone, Copy)]
pub struct NodePlan {
    /// Node name, as in `20-nodes.yaml` (and `--node-name`).
    pub name: &'static str,
    /// Underlay address with its prefix length.
    pub address: Ipv4Network,
    /// Default gateway: the router's address in the node's subnet.
    pub gateway: Ipv4Addr,
    /// `spec.podCIDRs[0]`.
    pub pod_cidr: Ipv4Network,
    /// The node's AS (`tern.dev/as-number`, else the global one).
    pub asn: u32,
}

const fn net(a: u8, b: u8, c: u8, d: u8, prefix: u8) -> Ipv4Network {
    match Ipv4Network::new_checked(Ipv4Addr::new(a, b, c, d), prefix) {
        Some(network) => network,
        None => panic!("bad lab network"),
    }
}

/// The three nodes of `20-nodes.yaml`. node-1 and rr-1 sit in 198.18.0.0/24 (rack r1),
/// node-2 in 198.18.1.0/24 (rack r2); all share one L2 segment with the router, so the
/// eBGP session between node-2 and rr-1 is one hop (as eBGP expects without multihop).
pub const NODES: [NodePlan; 3] = [
    NodePlan {
        name: "node-1",
        address: net(198, 18, 0, 11, 24),
        gateway: Ipv4Addr::new(198, 18, 0, 254),
        pod_cidr: net(198, 19, 1, 0, 24),
        asn: 64512,
    },
    NodePlan {
        name: "node-2",
        address: net(198, 18, 1, 12, 24),
        gateway: Ipv4Addr::new(198, 18, 1, 253),
        pod_cidr: net(198, 19, 2, 0, 24),
        asn: 64513,
    },
    NodePlan {
        name: "rr-1",
        address: net(198, 18, 0, 21, 24),
        gateway: Ipv4Addr::new(198, 18, 0, 254),
        pod_cidr: net(198, 19, 3, 0, 24),
        asn: 64512,
    },
];

/// The router's addresses on the rack segment: `tor-r1`'s peer IP and `node-2-lab-router`'s.
pub const ROUTER_RACK_ADDRESSES: [Ipv4Network; 2] =
    [net(198, 18, 0, 254, 24), net(198, 18, 1, 253, 24)];

/// The router's address towards the outside client.
pub const ROUTER_CLIENT_SIDE: Ipv4Network = net(192, 0, 2, 1, 24);

/// The outside client.
pub const CLIENT: Ipv4Network = net(192, 0, 2, 10, 24);

/// `serviceClusterIPs` of the global BGPConfiguration.
pub const SERVICE_CLUSTER_RANGE: Ipv4Network = net(198, 19, 240, 0, 20);

/// `serviceExternalIPs` of the global BGPConfiguration (the `web` Service has an external IP).
pub const SERVICE_EXTERNAL_RANGE: Ipv4Network = net(203, 0, 113, 0, 24);

/// The `checkout` Service's LoadBalancer IP (`externalTrafficPolicy: Local`).
pub const CHECKOUT_IP: Ipv4Network = net(198, 51, 100, 20, 32);

/// The MD5 password of `tor-r1` (Secret `bgp-secrets`, key `tor-r1`).
pub const TOR_R1_PASSWORD: &str = "s3cret-md5-key";

/// The node with this name.
pub fn node(name: &str) -> Option<&'static NodePlan> {
    NODES.iter().find(|node| node.name == name)
}
