//! A small cluster in network namespaces for the encapsulation tests: nodes running `ternd
//! --dataplane` over one file datastore (node-to-node BGP mesh: routes are learned, then
//! installed by the route programmer through the encapsulation hook), pods attached by the real `ptp` + `host-local` CNI
//! plugins with the conflist ternd writes, underlay switches, a router, an outside client, and
//! packet captures read back with tshark.
//!
//! Underlay: switch A 198.18.0.0/24 (router .1), switch B 198.18.1.0/24 (router .1), client
//! 192.0.2.10/24 behind the router (192.0.2.1). Node N has pod CIDR 198.19.N.0/24.

#![allow(dead_code)]

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use interop_tests::{Host, Process, Switch, wait_until};

const CNI_PATH: &str = "/usr/lib/cni";
const TERND: &str = env!("CARGO_BIN_EXE_ternd");

/// One node: its namespace, underlay address, pod CIDR and ternd.
pub struct Node {
    pub host: Host,
    pub name: String,
    pub address: Ipv4Addr,
    pub prefix: u8,
    pub interface: String,
    pub index: u8,
    pub ternd: Option<Process>,
}

impl Node {
    pub fn pod_cidr(&self) -> String {
        format!("198.19.{}.0/24", self.index)
    }

    pub fn cni_dir(&self) -> PathBuf {
        self.host.dir().join("net.d")
    }

    /// `ip -4 route show DESTINATION` in the node.
    pub fn route(&self, destination: &str) -> String {
        self.host
            .ip(&["-4", "route", "show", destination])
            .map(|output| output.stdout.trim().to_string())
            .unwrap_or_else(|e| format!("error: {e}"))
    }

    /// Whether ternd's whole log contains `text`.
    pub fn ternd_logged(&self, text: &str) -> bool {
        self.ternd.as_ref().is_some_and(|process| {
            std::fs::read_to_string(process.stderr_path()).is_ok_and(|log| log.contains(text))
        })
    }

    pub fn ternd_log(&self) -> String {
        self.ternd
            .as_ref()
            .map(|process| process.log_tail(60))
            .unwrap_or_default()
    }
}

/// The Node object of `node`.
pub fn node_manifest(node: &Node) -> String {
    format!(
        "apiVersion: v1\nkind: Node\nmetadata:\n  name: {}\n  annotations:\n    tern.dev/bgp-ipv4-address: {}/{}\nspec:\n  podCIDRs: [{}]\n---\n",
        node.name,
        node.address,
        node.prefix,
        node.pod_cidr()
    )
}

/// A pod made by the CNI plugins.
pub struct Pod {
    pub host: Host,
    pub address: Ipv4Addr,
}

/// The cluster.
pub struct Cluster {
    pub datastore: tempfile::TempDir,
    pub switches: Vec<Switch>,
    pub router: Host,
    pub client: Host,
    pub nodes: Vec<Node>,
}

/// An IPPool manifest.
pub fn pool_manifest(ipip: &str, vxlan: &str, nat_outgoing: bool) -> String {
    format!(
        "apiVersion: tern.dev/v1alpha1\nkind: IPPool\nmetadata:\n  name: pods\nspec:\n  cidr: 198.19.0.0/17\n  ipipMode: {ipip}\n  vxlanMode: {vxlan}\n  natOutgoing: {nat_outgoing}\n"
    )
}

pub const BGP_CONFIGURATION: &str = "apiVersion: tern.dev/v1alpha1\nkind: BGPConfiguration\nmetadata:\n  name: default\nspec:\n  asNumber: 64512\n  nodeToNodeMeshEnabled: true\n---\n";

impl Cluster {
    /// Builds the underlay: `subnets[i]` is the switch (0 = A, 1 = B) of node i+1.
    pub fn new(label: &str, subnets: &[u8], pool: &str) -> Cluster {
        let datastore = tempfile::tempdir().expect("datastore dir");
        let router = Host::new(&format!("{label}r")).expect("router");
        router.enable_forwarding().expect("forwarding");
        let client = Host::new(&format!("{label}c")).expect("client");
        interop_tests::Veth::with_addresses(
            &router,
            &["192.0.2.1/24".parse().expect("net")],
            &client,
            &["192.0.2.10/24".parse().expect("net")],
        )
        .expect("client link");
        client
            .ip(&["route", "add", "default", "via", "192.0.2.1"])
            .expect("client default route");
        let switches: Vec<Switch> = (0..2)
            .map(|n| {
                let switch = Switch::new(&format!("{label}s{n}")).expect("switch");
                switch
                    .connect_with_addresses(
                        &router,
                        &[format!("198.18.{n}.1/24").parse().expect("net")],
                    )
                    .expect("router port");
                switch
            })
            .collect();
        let mut nodes = Vec::new();
        for (position, subnet) in subnets.iter().enumerate() {
            let index = position as u8 + 1;
            let name = format!("node{index}");
            let host = Host::new(&format!("{label}n{index}")).expect("node");
            let address = Ipv4Addr::new(198, 18, *subnet, 10 + index);
            let port = switches[usize::from(*subnet)]
                .connect_with_addresses(&host, &[format!("{address}/24").parse().expect("net")])
                .expect("node port");
            host.ip(&[
                "route",
                "add",
                "default",
                "via",
                &format!("198.18.{subnet}.1"),
            ])
            .expect("node default route");
            host.enable_forwarding().expect("forwarding");
            nodes.push(Node {
                host,
                name,
                address,
                prefix: 24,
                interface: port.host_interface,
                index,
                ternd: None,
            });
        }
        let cluster = Cluster {
            datastore,
            switches,
            router,
            client,
            nodes,
        };
        let mut objects = String::from(BGP_CONFIGURATION);
        for node in &cluster.nodes {
            objects.push_str(&node_manifest(node));
        }
        cluster.write("cluster.yaml", &objects);
        cluster.write("pool.yaml", pool);
        cluster
    }

    /// Writes a manifest atomically (the watcher never sees half a file).
    pub fn write(&self, file: &str, contents: &str) {
        let temporary = self.datastore.path().join(format!(".{file}.tmp"));
        std::fs::write(&temporary, contents).expect("write manifest");
        std::fs::rename(&temporary, self.datastore.path().join(file)).expect("rename manifest");
    }

    /// Starts ternd on every node and waits for its CNI conflist.
    pub fn start_ternd(&mut self) {
        let datastore = self.datastore.path().display().to_string();
        for node in &mut self.nodes {
            let socket = node.host.dir().join("ternd.sock").display().to_string();
            let cni = node.cni_dir().display().to_string();
            let process = interop_tests::spawn_in(
                &node.host,
                "ternd",
                TERND,
                &[
                    "--node-name",
                    &node.name,
                    "--datastore",
                    &datastore,
                    "--api-socket",
                    &socket,
                    "--cni-conf-dir",
                    &cni,
                    "--dataplane",
                ],
                &[("RUST_LOG", "info")],
            )
            .expect("start ternd");
            node.ternd = Some(process);
        }
        for node in &self.nodes {
            let conflist = node.cni_dir().join("10-tern.conflist");
            wait_until(
                "ternd writes the CNI conflist",
                Duration::from_secs(20),
                || {
                    if let Some(process) = &node.ternd {
                        process.check_running().map_err(|e| e.to_string())?;
                    }
                    Ok::<_, String>(conflist.exists().then_some(()))
                },
            )
            .unwrap_or_else(|e| panic!("{}: {e}\n{}", node.name, node.ternd_log()));
        }
    }

    /// Attaches a pod to `node` with `ptp` + `host-local` (CNI ADD), as a runtime would.
    pub fn add_pod(&self, node: usize, label: &str) -> Pod {
        let node = &self.nodes[node];
        let pod = Host::new(label).expect("pod netns");
        let config = plugin_config(&node.cni_dir(), &node.host.dir().join("ipam"));
        let config_path = pod.dir().join("cni.json");
        std::fs::write(&config_path, config).expect("write CNI config");
        let command = format!(
            "CNI_COMMAND=ADD CNI_CONTAINERID={name} CNI_NETNS=/run/netns/{name} CNI_IFNAME=eth0 \
             CNI_PATH={CNI_PATH} {CNI_PATH}/ptp < {config}",
            name = pod.name(),
            config = config_path.display()
        );
        let result = node
            .host
            .run(&command)
            .unwrap_or_else(|e| panic!("CNI ADD on {}: {e}", node.name));
        let value: serde_json::Value =
            serde_json::from_str(&result).unwrap_or_else(|e| panic!("CNI result {result}: {e}"));
        let address = value["ips"][0]["address"]
            .as_str()
            .and_then(|text| text.split('/').next())
            .and_then(|text| text.parse().ok())
            .unwrap_or_else(|| panic!("no IPv4 address in the CNI result {result}"));
        Pod { host: pod, address }
    }

    /// Waits until `node`'s route to `destination` satisfies `check`.
    pub fn wait_route(
        &self,
        node: usize,
        destination: &str,
        what: &str,
        check: impl Fn(&str) -> bool,
    ) {
        let node = &self.nodes[node];
        wait_until(what, Duration::from_secs(20), || {
            let route = node.route(destination);
            Ok::<_, String>(check(&route).then_some(()))
        })
        .unwrap_or_else(|e| {
            panic!(
                "{}: {e}; route now: {:?}\n{}",
                node.name,
                node.route(destination),
                node.ternd_log()
            )
        });
    }

    /// Bounded ping (3 echoes, 1 s deadline each) from a pod; returns received count.
    pub fn ping(&self, from: &Pod, to: Ipv4Addr) -> u32 {
        let output = from.host.exec(
            "ping",
            &["-n", "-c", "3", "-i", "0.2", "-W", "1", &to.to_string()],
        );
        let text = match output {
            Ok(output) => output.stdout,
            Err(e) => e.to_string(),
        };
        text.split(',')
            .find_map(|part| part.trim().strip_suffix(" received"))
            .and_then(|count| count.trim().parse().ok())
            .unwrap_or(0)
    }
}

/// The first plugin of the conflist ternd wrote, as the runtime hands it to the plugin: with
/// the network's name and version, and `host-local` storing its leases in `data_dir`.
fn plugin_config(cni_dir: &Path, data_dir: &Path) -> String {
    let text = std::fs::read_to_string(cni_dir.join("10-tern.conflist")).expect("conflist");
    let conflist: serde_json::Value = serde_json::from_str(&text).expect("conflist JSON");
    let mut plugin = conflist["plugins"][0].clone();
    plugin["name"] = conflist["name"].clone();
    plugin["cniVersion"] = conflist["cniVersion"].clone();
    plugin["ipam"]["dataDir"] = serde_json::json!(data_dir.display().to_string());
    plugin.to_string()
}

/// A running capture on one interface.
pub struct Capture {
    process: Process,
    path: PathBuf,
    host: Host,
}

impl Capture {
    /// `tcpdump -i INTERFACE -w FILE FILTER`, waiting until it listens.
    pub fn start(host: &Host, interface: &str, name: &str, filter: &str) -> Capture {
        let path = host.dir().join(format!("{name}.pcap"));
        let path_text = path.display().to_string();
        let process = host
            .spawn(
                &format!("tcpdump-{name}"),
                "tcpdump",
                &[
                    "-n",
                    "-U",
                    "--immediate-mode",
                    "-i",
                    interface,
                    "-w",
                    &path_text,
                    filter,
                ],
            )
            .expect("start tcpdump");
        let stderr = process.stderr_path().to_path_buf();
        wait_until("tcpdump listening", Duration::from_secs(10), || {
            let text = std::fs::read_to_string(&stderr).map_err(|e| e.to_string())?;
            Ok::<_, String>(text.contains("listening on").then_some(()))
        })
        .expect("tcpdump starts");
        Capture {
            process,
            path,
            host: host.clone(),
        }
    }

    /// Stops the capture; returns the file.
    pub fn stop(self) -> PathBuf {
        self.process
            .terminate(Duration::from_secs(5))
            .expect("stop tcpdump");
        self.path
    }
}

/// Packets in `pcap` matching the tshark display `filter`, one line of `fields` each.
pub fn tshark(pcap: &Path, filter: &str, fields: &[&str]) -> Vec<String> {
    let mut args = vec![
        "-n".to_string(),
        "-r".to_string(),
        pcap.display().to_string(),
        "-Y".to_string(),
        filter.to_string(),
        "-T".to_string(),
        "fields".to_string(),
    ];
    for field in fields {
        args.push("-e".to_string());
        args.push(field.to_string());
    }
    let output = std::process::Command::new("tshark")
        .args(&args)
        .output()
        .expect("run tshark");
    assert!(
        output.status.success(),
        "tshark {filter}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}
