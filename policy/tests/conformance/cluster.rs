//! The conformance topology: two node namespaces joined by an underlay veth (198.18.0.0/24)
//! with static routes for each other's pod CIDR (198.19.1.0/24, 198.19.2.0/24), and nine pod
//! namespaces (x, y, z × a, b, c, alternating between the nodes) wired by the real `ptp` CNI
//! plugin with `host-local` IPAM, run from the node namespace with `CNI_COMMAND=ADD` and the
//! plugin entry of a conflist shaped like the one ternd writes. Every pod serves TCP and UDP
//! on ports 80 and 81 (threads holding sockets bound inside the pod namespace) until drop.

use std::io::Write;
use std::net::{IpAddr, TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;

use serde_json::{Value, json};

use crate::netns::{Netns, tcp_server, udp_server};

const CNI_DIR: &str = "/usr/lib/cni";

/// The pods, in probe order: `<namespace>/<name>`.
pub const PODS: [&str; 9] = [
    "x/a", "x/b", "x/c", "y/a", "y/b", "y/c", "z/a", "z/b", "z/c",
];

/// One node: its namespace, name, underlay address and pod CIDR.
pub struct Node {
    pub netns: Netns,
    pub name: String,
    pub underlay: IpAddr,
    pub pod_cidr: String,
    /// The ptp plugin puts the IPAM gateway on every host-side veth: the source of this
    /// node's own traffic to its pods.
    pub gateway: IpAddr,
}

/// One pod: its id, namespace, address (from the CNI result) and node index.
pub struct PodHost {
    pub id: String,
    pub netns: Netns,
    pub address: IpAddr,
    pub node: usize,
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

/// The conflist ternd would write for `pod_cidr`, with host-local's state kept in `data_dir`.
fn conflist(pod_cidr: &str, data_dir: &Path) -> Value {
    json!({
        "cniVersion": "1.0.0",
        "name": "tern",
        "plugins": [{
            "type": "ptp",
            "ipam": {
                "type": "host-local",
                "ranges": [[{"subnet": pod_cidr}]],
                "routes": [{"dst": "0.0.0.0/0"}],
                "dataDir": data_dir,
            },
        }],
    })
}

/// `CNI_COMMAND=ADD` of every plugin of `list` (as libcni does: each plugin's entry plus the
/// list's name and cniVersion, and the previous result), run inside the node namespace.
/// Returns the pod's IPv4 address from the final result.
fn cni_add(list: &Value, node: &Netns, pod: &Netns, container_id: &str) -> IpAddr {
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
    let address = result["ips"][0]["address"].as_str().expect("an address");
    let address = address.split('/').next().unwrap_or(address);
    address.parse().expect("an IP address")
}

impl Cluster {
    pub fn new() -> Cluster {
        let ipam_dir =
            std::env::temp_dir().join(format!("tern-conformance-ipam-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&ipam_dir);
        let mut nodes: Vec<Node> = (1..=2u8)
            .map(|n| {
                let netns = Netns::new();
                netns.run(&["sysctl", "-qw", "net.ipv4.ip_forward=1"]);
                Node {
                    netns,
                    name: format!("node-{n}"),
                    underlay: format!("198.18.0.{n}").parse().unwrap(),
                    pod_cidr: format!("198.19.{n}.0/24"),
                    gateway: format!("198.19.{n}.1").parse().unwrap(),
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
        for (index, node) in nodes.iter().enumerate() {
            let other = &nodes[1 - index];
            node.netns.run(&[
                "ip",
                "addr",
                "add",
                &format!("{}/24", node.underlay),
                "dev",
                "underlay",
            ]);
            node.netns.run(&["ip", "link", "set", "underlay", "up"]);
            node.netns.run(&[
                "ip",
                "route",
                "add",
                &other.pod_cidr,
                "via",
                &other.underlay.to_string(),
            ]);
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
            let list = conflist(&node.pod_cidr, &cluster.ipam_dir.join(&node.name));
            let container_id = format!("conformance-{}-{index}", std::process::id());
            let address = cni_add(&list, &node.netns, &netns, &container_id);
            for port in [80u16, 81] {
                let listener = netns.enter(move || TcpListener::bind(("0.0.0.0", port)).unwrap());
                cluster
                    .servers
                    .push(tcp_server(listener, cluster.stop.clone()));
                let socket = netns.enter(move || UdpSocket::bind(("0.0.0.0", port)).unwrap());
                cluster
                    .servers
                    .push(udp_server(socket, cluster.stop.clone()));
            }
            cluster.pods.push(PodHost {
                id: id.to_string(),
                netns,
                address,
                node: node_index,
            });
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
