//! ternd end to end: in its own network namespace, with a manifest directory, against BIRD
//! in another. BIRD learns the pod CIDR from ternd's speaker; the API socket reports the
//! session Established; a live manifest edit (a load-balancer range and a Service) reaches
//! BIRD without a restart. Needs root (network namespaces).

mod common;

use std::net::IpAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use interop_tests::peers::{self, Neighbor, PeerConfig, PeerKind};
use tern_proto::pb;

const TERND_ADDRESS: &str = "198.18.0.11";
const BIRD_ADDRESS: &str = "198.18.0.254";
const WAIT: Duration = Duration::from_secs(60);

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

fn manifests(load_balancer_range: bool) -> String {
    let mut spec =
        "  asNumber: 64512\n  listenPort: 179\n  nodeToNodeMeshEnabled: false\n".to_string();
    if load_balancer_range {
        spec.push_str("  serviceLoadBalancerIPs:\n    - cidr: 198.51.100.0/24\n");
    }
    let node = common::with_pod_cidrs(
        common::node("n1", TERND_ADDRESS, &[], &[]),
        &["198.19.1.0/24"],
    );
    let peer = common::bgp_peer(
        "bird",
        &format!("  peerIP: {BIRD_ADDRESS}\n  asNumber: 65000\n"),
    );
    format!("{}---\n{node}---\n{peer}", common::config(&spec))
}

const SERVICE: &str = "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  namespace: shop\nspec:\n  type: LoadBalancer\n  clusterIP: 198.19.240.20\n  externalTrafficPolicy: Cluster\nstatus:\n  loadBalancer:\n    ingress:\n      - ip: 198.51.100.20\n";

/// Node status over the API socket (tern-proto's generated client).
fn node_status(socket: &Path) -> Result<pb::NodeStatus, String> {
    interop_tests::lab::api::node_status(socket).map_err(|e| e.to_string())
}

#[test]
fn ternd_advertises_to_bird_and_reports_over_the_api() {
    let (tern_host, bird_host, _link) = common::ternd_and_peer_hosts(TERND_ADDRESS, BIRD_ADDRESS);
    let (ternd, datastore, socket) = common::spawn_ternd(&tern_host, &manifests(false), &[]);

    let bird = peers::start(
        PeerKind::Bird,
        &bird_host,
        PeerConfig::new(BIRD_ADDRESS.parse().unwrap(), 65000)
            .neighbor(Neighbor::new(ip(TERND_ADDRESS), 64512)),
    )
    .unwrap();
    let fail = |what: &str, error: &dyn std::fmt::Display| -> ! {
        panic!(
            "{what}: {error}\n--- ternd ---\n{}\n--- bird ---\n{}",
            ternd.log_tail(60),
            bird.logs()
        )
    };

    let route = bird
        .wait_route("198.19.1.0/24".parse().unwrap(), WAIT)
        .unwrap_or_else(|e| fail("pod CIDR not learned by BIRD", &e));
    assert_eq!(route.next_hop, ip(TERND_ADDRESS));
    assert_eq!(route.as_path, vec![64512]);

    // The API: node, AS, router ID and the peer Established.
    let deadline = Instant::now() + WAIT;
    let status = loop {
        match node_status(&socket) {
            Ok(status)
                if status
                    .peers
                    .iter()
                    .any(|p| p.state() == pb::PeerState::Established) =>
            {
                break status;
            }
            result if Instant::now() > deadline => fail(
                "API never showed the peer Established",
                &format!("{result:?}"),
            ),
            _ => std::thread::sleep(Duration::from_millis(200)),
        }
    };
    assert_eq!(status.node, "n1");
    assert_eq!(status.as_number, 64512);
    assert_eq!(status.router_id, TERND_ADDRESS);
    assert_eq!(status.peers.len(), 1, "{status:?}");
    let peer = &status.peers[0];
    assert_eq!(peer.address, BIRD_ADDRESS);
    assert_eq!(peer.as_number, 65000);
    assert_eq!(peer.state(), pb::PeerState::Established);
    assert!(peer.since.is_some(), "{peer:?}");
    assert!(peer.prefixes_advertised >= 1, "{peer:?}");

    // Live edit: a load-balancer range and a Service in it.
    let range = "198.51.100.0/24".parse().unwrap();
    assert!(bird.routes_for(range).unwrap().is_empty());
    std::fs::write(datastore.join("bgp.yaml"), manifests(true)).unwrap();
    std::fs::write(datastore.join("service.yaml"), SERVICE).unwrap();
    let route = bird
        .wait_route(range, WAIT)
        .unwrap_or_else(|e| fail("load-balancer range not learned by BIRD", &e));
    assert_eq!(route.next_hop, ip(TERND_ADDRESS));
    assert_eq!(route.as_path, vec![64512]);

    ternd.terminate(Duration::from_secs(10)).unwrap();
    assert!(!socket.exists(), "the API socket is removed on SIGTERM");
}
