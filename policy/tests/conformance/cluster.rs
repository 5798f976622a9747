//! The conformance topology, dual stack: two node namespaces joined by an underlay veth
//! (198.18.0.0/24 and 2001:db8:ff::/64) with static routes for each other's pod CIDRs
//! (198.19.1.0/24 + 2001:db8:1::/64, 198.19.2.0/24 + 2001:db8:2::/64), and nine pod namespaces
//! (x, y, z × a, b, c, alternating between the nodes) wired by the real `ptp` CNI plugin with
//! `host-local` IPAM (one range per family), run from the node namespace with
//! `CNI_COMMAND=ADD` and the plugin entry of a conflist shaped like the one ternd writes. Every
//! pod gets one IPv4 and one IPv6 address and serves TCP and UDP on ports 80 and 81 (threads
//! holding dual-stack `::` sockets bound inside the pod namespace) until drop.
//!
//! Duplicate address detection is off in every namespace (`accept_dad=0` before any interface
//! exists), so IPv6 addresses are usable at once; the build still waits, bounded, until no
//! address is tentative.

use std::io::Write;
use std::net::{IpAddr, TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::netns::{Netns, tcp_server, udp_server};

const CNI_DIR: &str = "/usr/lib/cni";

/// The pods, in probe order: `<namespace>/<name>`.
pub const PODS: [&str; 9] = [
    "x/a", "x/b", "x/c", "y/a", "y/b", "y/c", "z/a", "z/b", "z/c",
];

/// An address family of the cluster and the probe matrix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    V4,
    V6,
}

impl Family {
    pub const BOTH: [Family; 2] = [Family::V4, Family::V6];

    pub fn name(self) -> &'static str {
        match self {
            Family::V4 => "v4",
            Family::V6 => "v6",
        }
    }

    fn of(address: &IpAddr) -> Family {
        match address {
            IpAddr::V4(_) => Family::V4,
            IpAddr::V6(_) => Family::V6,
        }
    }
}

/// One family's addressing of a node.
pub struct Stack {
    /// The node's address on the underlay veth.
    pub underlay: IpAddr,
    /// Prefix length of the underlay network.
    underlay_prefix: u8,
    pub pod_cidr: String,
    /// The ptp plugin puts the IPAM gateway on every host-side veth: the source of this
    /// node's own traffic to its pods.
    pub gateway: IpAddr,
}

/// One node: its namespace, name and addressing per family.
pub struct Node {
    pub netns: Netns,
    pub name: String,
    pub v4: Stack,
    pub v6: Stack,
}

impl Node {
    pub fn stack(&self, family: Family) -> &Stack {
        match family {
            Family::V4 => &self.v4,
            Family::V6 => &self.v6,
        }
    }

    /// The node's own addresses (underlay and gateway, both families).
    pub fn addresses(&self) -> Vec<IpAddr> {
        Family::BOTH
            .iter()
            .flat_map(|family| {
                let stack = self.stack(*family);
                [stack.underlay, stack.gateway]
            })
            .collect()
    }
}

/// One pod: its id, namespace, addresses (from the CNI result) and node index.
pub struct PodHost {
    pub id: String,
    pub netns: Netns,
    pub v4: IpAddr,
    pub v6: IpAddr,
    pub node: usize,
}

impl PodHost {
    pub fn address(&self, family: Family) -> IpAddr {
        match family {
            Family::V4 => self.v4,
            Family::V6 => self.v6,
        }
    }
}

/// The whole topology. Field order is drop order: servers stop, pods go, then nodes.
pub struct Cluster {
    stop: Arc<AtomicBool>,
    servers: Vec<JoinHandle<()>>,
    pub pods: Vec<PodHost>,
    pub nodes: Vec<Node>,
    ipam_dir: PathBuf,
}

fn run(command: &mut Command, what: &str) -> String {
    let output = command.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        output.status.success(),
        "{what} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The conflist ternd would write for `node`'s pod CIDRs, with host-local's state kept in
/// `data_dir`.
fn conflist(node: &Node, data_dir: &Path) -> Value {
    json!({
        "cniVersion": "1.0.0",
        "name": "tern",
        "plugins": [{
            "type": "ptp",
            "ipam": {
                "type": "host-local",
                "ranges": [[{"subnet": node.v4.pod_cidr}], [{"subnet": node.v6.pod_cidr}]],
                "routes": [{"dst": "0.0.0.0/0"}, {"dst": "::/0"}],
                "dataDir": data_dir,
            },
        }],
    })
}

/// `CNI_COMMAND=ADD` of every plugin of `list` (as libcni does: each plugin's entry plus the
/// list's name and cniVersion, and the previous result), run inside the node namespace.
/// Returns the pod's addresses from the final result.
fn cni_add(list: &Value, node: &Netns, pod: &Netns, container_id: &str) -> Vec<IpAddr> {
    let mut previous: Option<Value> = None;
    for plugin in list["plugins"].as_array().expect("plugins") {
        let mut config = plugin.clone();
        config["name"] = list["name"].clone();
        config["cniVersion"] = list["cniVersion"].clone();
        if let Some(result) = &previous {
            config["prevResult"] = result.clone();
        }
        let kind = plugin["type"].as_str().expect("type");
        let binary = format!("{CNI_DIR}/{kind}");
        assert!(
            Path::new(&binary).exists(),
            "{binary} is missing: install containernetworking-plugins"
        );
        let mut child = Command::new("ip")
            .args(["netns", "exec", &node.name, &binary])
            .env("CNI_COMMAND", "ADD")
            .env("CNI_CONTAINERID", container_id)
            .env("CNI_NETNS", format!("/run/netns/{}", pod.name))
            .env("CNI_IFNAME", "eth0")
            .env("CNI_PATH", CNI_DIR)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn CNI plugin");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(config.to_string().as_bytes())
            .unwrap();
        let output = child.wait_with_output().unwrap();
        assert!(
            output.status.success(),
            "{kind} ADD failed: {} {}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        previous = Some(serde_json::from_slice(&output.stdout).expect("CNI result JSON"));
    }
    let result = previous.expect("a plugin ran");
    result["ips"]
        .as_array()
        .expect("ips in the CNI result")
        .iter()
        .map(|ip| {
            let address = ip["address"].as_str().expect("an address");
            let address = address.split('/').next().unwrap_or(address);
            address.parse().expect("an IP address")
        })
        .collect()
}

/// Turn duplicate address detection off for interfaces created in `netns` from now on, so
/// IPv6 addresses are usable at once; `extra` are more `key=value` settings.
fn without_dad(netns: &Netns, extra: &[&str]) {
    let mut args = vec![
        "sysctl",
        "-qw",
        "net.ipv6.conf.all.accept_dad=0",
        "net.ipv6.conf.default.accept_dad=0",
    ];
    args.extend_from_slice(extra);
    netns.run(&args);
}

/// Wait (bounded) until no IPv6 address in `netns` is tentative.
fn settle(netns: &Netns) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let tentative = netns.run(&["ip", "-6", "-o", "addr", "show", "tentative"]);
        if tentative.trim().is_empty() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "IPv6 addresses still tentative in {} after 5 s:\n{tentative}",
            netns.name
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Ping each node's underlay neighbor once per family (bounded). For up to a second after
/// link up the kernel has not yet handled the carrier (linkwatch) and the peer's IPv6 side is
/// not ready (no solicited-node group joined, no link-local address), so neighbor
/// solicitations are lost and repeated only a second later, which would otherwise fail the
/// first case's cross-node IPv6 probes once; done after the pods are wired, so the wait
/// overlaps their setup.
fn resolve_underlay(nodes: &[Node]) {
    for (index, node) in nodes.iter().enumerate() {
        for family in Family::BOTH {
            let neighbor = nodes[1 - index].stack(family).underlay.to_string();
            node.netns
                .run(&["ping", "-q", "-c", "1", "-i", "0.05", "-w", "5", &neighbor]);
        }
    }
}

/// The only address of `family` in `addresses`.
fn one_of(addresses: &[IpAddr], family: Family, id: &str) -> IpAddr {
    let mine: Vec<&IpAddr> = addresses
        .iter()
        .filter(|a| Family::of(a) == family)
        .collect();
    assert_eq!(
        mine.len(),
        1,
        "{id}: expected one {} address in the CNI result, got {addresses:?}",
        family.name()
    );
    *mine[0]
}

impl Cluster {
    pub fn new() -> Cluster {
        let ipam_dir =
            std::env::temp_dir().join(format!("tern-conformance-ipam-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&ipam_dir);
        let mut nodes: Vec<Node> = (1..=2u8)
            .map(|n| {
                let netns = Netns::new();
                without_dad(
                    &netns,
                    &["net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1"],
                );
                Node {
                    netns,
                    name: format!("node-{n}"),
                    v4: Stack {
                        underlay: format!("198.18.0.{n}").parse().unwrap(),
                        underlay_prefix: 24,
                        pod_cidr: format!("198.19.{n}.0/24"),
                        gateway: format!("198.19.{n}.1").parse().unwrap(),
                    },
                    v6: Stack {
                        underlay: format!("2001:db8:ff::{n}").parse().unwrap(),
                        underlay_prefix: 64,
                        pod_cidr: format!("2001:db8:{n}::/64"),
                        gateway: format!("2001:db8:{n}::1").parse().unwrap(),
                    },
                }
            })
            .collect();
        let (first, second) = (&nodes[0].netns.name, &nodes[1].netns.name);
        run(
            Command::new("ip").args([
                "-n", first, "link", "add", "underlay", "type", "veth", "peer", "name", "underlay",
                "netns", second,
            ]),
            "underlay veth",
        );
        for node in &nodes {
            for family in Family::BOTH {
                let stack = node.stack(family);
                let address = format!("{}/{}", stack.underlay, stack.underlay_prefix);
                node.netns
                    .run(&["ip", "addr", "add", &address, "dev", "underlay", "nodad"]);
            }
            node.netns.run(&["ip", "link", "set", "underlay", "up"]);
        }
        for (index, node) in nodes.iter().enumerate() {
            let other = &nodes[1 - index];
            for family in Family::BOTH {
                let (cidr, via) = (&other.stack(family).pod_cidr, other.stack(family).underlay);
                node.netns
                    .run(&["ip", "route", "add", cidr, "via", &via.to_string()]);
            }
        }
        let mut cluster = Cluster {
            stop: Arc::new(AtomicBool::new(false)),
            servers: Vec::new(),
            pods: Vec::new(),
            nodes: Vec::new(),
            ipam_dir,
        };
        for (index, id) in PODS.iter().enumerate() {
            let node_index = index % 2;
            let node = &nodes[node_index];
            let netns = Netns::new();
            without_dad(&netns, &["net.ipv6.bindv6only=0"]);
            let list = conflist(node, &cluster.ipam_dir.join(&node.name));
            let container_id = format!("conformance-{}-{index}", std::process::id());
            let addresses = cni_add(&list, &node.netns, &netns, &container_id);
            for port in [80u16, 81] {
                // `::` sockets with bindv6only=0 serve both families.
                let listener = netns.enter(move || TcpListener::bind(("::", port)).unwrap());
                cluster
                    .servers
                    .push(tcp_server(listener, cluster.stop.clone()));
                let socket = netns.enter(move || UdpSocket::bind(("::", port)).unwrap());
                cluster
                    .servers
                    .push(udp_server(socket, cluster.stop.clone()));
            }
            cluster.pods.push(PodHost {
                id: id.to_string(),
                v4: one_of(&addresses, Family::V4, id),
                v6: one_of(&addresses, Family::V6, id),
                netns,
                node: node_index,
            });
        }
        resolve_underlay(&nodes);
        for netns in nodes
            .iter()
            .map(|node| &node.netns)
            .chain(cluster.pods.iter().map(|pod| &pod.netns))
        {
            settle(netns);
        }
        cluster.nodes.append(&mut nodes);
        cluster
    }

    /// The pod with this id.
    pub fn pod(&self, id: &str) -> &PodHost {
        self.pods
            .iter()
            .find(|pod| pod.id == id)
            .unwrap_or_else(|| panic!("no pod {id}"))
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        for server in self.servers.drain(..) {
            let _ = server.join();
        }
        let _ = std::fs::remove_dir_all(&self.ipam_dir);
    }
}
