//! ternd nodes in network namespaces for the route-programming tests (`ternd_routes*`): the
//! cluster manifests, a node running `ternd --dataplane`, the kernel's main table read back
//! as `ip -j route` JSON (IPv4 or IPv6 by the destination), and "pods" behind a node.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use interop_tests::peers::{self, BgpPeer, Neighbor, PeerConfig, PeerKind, Route};
use interop_tests::{Host, Process, Switch, SwitchPort, Veth, spawn_in, wait_until};
use ipnetwork::IpNetwork;
use serde_json::Value;

/// How long a route may take to appear or be repaired.
pub const WAIT: Duration = Duration::from_secs(45);
/// tern's rtnetlink protocol as `ip -j route` prints it.
pub const PROTOCOL: &str = "201";

pub fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

/// One node of the cluster manifests: name, BGP addresses with prefix length (IPv4 and
/// optionally IPv6, annotated as `tern.dev/bgp-ipv4-address` / `-ipv6-address`) and pod CIDRs.
pub struct NodeSpec<'a> {
    pub name: &'a str,
    pub addresses: &'a [&'a str],
    pub pod_cidrs: &'a [&'a str],
}

/// The global BGPConfiguration (AS 64512, mesh on, graceful restart 120 s), the nodes, and
/// one global BGPPeer (AS 65000) per router address.
pub fn manifests(nodes: &[NodeSpec], routers: &[&str]) -> String {
    let mut documents = vec![
        "apiVersion: tern.dev/v1alpha1\nkind: BGPConfiguration\nmetadata:\n  name: default\nspec:\n  asNumber: 64512\n  nodeToNodeMeshEnabled: true\n  nodeMeshMaxRestartTime: 120s\n".to_string(),
    ];
    for node in nodes {
        let mut text = format!(
            "apiVersion: v1\nkind: Node\nmetadata:\n  name: {}\n  annotations:\n",
            node.name
        );
        for address in node.addresses {
            let family = if address.contains(':') {
                "ipv6"
            } else {
                "ipv4"
            };
            text.push_str(&format!("    tern.dev/bgp-{family}-address: {address}\n"));
        }
        text.push_str("spec:\n  podCIDRs:\n");
        for cidr in node.pod_cidrs {
            text.push_str(&format!("    - {cidr}\n"));
        }
        documents.push(text);
    }
    for (index, router) in routers.iter().enumerate() {
        documents.push(format!(
            "apiVersion: tern.dev/v1alpha1\nkind: BGPPeer\nmetadata:\n  name: router{index}\nspec:\n  peerIP: {router}\n  asNumber: 65000\n"
        ));
    }
    documents.join("---\n")
}

/// A ternd node: its host, its manifest directory and the running daemon.
pub struct Node {
    pub name: &'static str,
    pub host: Host,
    datastore: PathBuf,
    ternd: Option<Process>,
}

impl Node {
    /// A forwarding host named `name` whose datastore holds `manifests`.
    pub fn new(name: &'static str, manifests: &str) -> Node {
        let host = Host::new(name).unwrap();
        host.enable_forwarding().unwrap();
        let datastore = host.dir().join("manifests");
        std::fs::create_dir(&datastore).unwrap();
        std::fs::write(datastore.join("cluster.yaml"), manifests).unwrap();
        Node {
            name,
            host,
            datastore,
            ternd: None,
        }
    }

    /// Starts `ternd --dataplane` for this node.
    pub fn start(&mut self) {
        let socket = self.host.dir().join("ternd.sock");
        let args = [
            "--node-name".as_ref(),
            self.name.as_ref(),
            "--datastore".as_ref(),
            self.datastore.as_os_str(),
            "--api-socket".as_ref(),
            socket.as_os_str(),
            "--dataplane".as_ref(),
        ];
        let process = spawn_in(
            &self.host,
            "ternd",
            env!("CARGO_BIN_EXE_ternd"),
            &args,
            &[("RUST_LOG", "info,tern_agent=debug")],
        )
        .unwrap();
        self.ternd = Some(process);
    }

    /// Stops ternd (SIGTERM; its routes stay).
    pub fn stop(&mut self) {
        if let Some(ternd) = self.ternd.take() {
            ternd.terminate(Duration::from_secs(10)).unwrap();
        }
    }

    /// ternd's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.host.dir().join("ternd.stderr")).unwrap_or_default()
    }

    /// `ip -4|-6 -j route show table main`, as JSON objects.
    pub fn routes(&self, ipv6: bool) -> Vec<Value> {
        let family = if ipv6 { "-6" } else { "-4" };
        let output = self
            .host
            .ip(&[family, "-j", "route", "show", "table", "main"])
            .unwrap();
        serde_json::from_str::<Vec<Value>>(&output.stdout).unwrap()
    }

    /// The main-table route to `destination` (a prefix as `ip` prints it), of its family.
    pub fn route(&self, destination: &str) -> Option<Value> {
        self.routes(destination.contains(':'))
            .into_iter()
            .find(|route| route["dst"] == destination)
    }

    /// Waits until the route to `destination` passes `check`; panics with ternd's log.
    pub fn wait_route(
        &self,
        what: &str,
        check: impl Fn(&Value) -> bool,
        destination: &str,
    ) -> Value {
        wait_until(what, WAIT, || match self.route(destination) {
            Some(route) if check(&route) => Ok(Some(route)),
            other => Err(format!("{other:?}")),
        })
        .unwrap_or_else(|e| panic!("{}: {e}\n--- ternd ---\n{}", self.name, self.log()))
    }

    /// Waits until each `(destination, gateways)` is a tern route through exactly those
    /// gateways (sorted); panics with ternd's log.
    pub fn wait_routes_via(&self, what: &str, wanted: &[(&str, &[&str])]) {
        wait_until(what, WAIT, || {
            let found: Vec<Option<Value>> = wanted
                .iter()
                .map(|(destination, _)| self.route(destination))
                .collect();
            let all = wanted
                .iter()
                .zip(&found)
                .all(|((_, hops), route)| route.as_ref().is_some_and(via(hops)));
            match all {
                true => Ok(Some(())),
                false => Err(format!("{found:?}")),
            }
        })
        .unwrap_or_else(|e| panic!("{}: {e}\n--- ternd ---\n{}", self.name, self.log()))
    }

    /// Asserts that the route to `destination` is still someone else's: `protocol`, through
    /// `gateway` only.
    pub fn assert_foreign_route(&self, destination: &str, protocol: &str, gateway: &str) {
        let route = self
            .route(destination)
            .unwrap_or_else(|| panic!("{}: the {protocol} route {destination} is gone", self.name));
        assert_eq!(route["protocol"], protocol, "{route}");
        assert_eq!(gateways(&route), [gateway], "{route}");
    }

    /// Stops ternd, plants a stale tern route `stale` via `gateway` (one nothing wants any
    /// more), starts ternd again and waits until the restarted speaker has relearned its
    /// routes (its graceful-restart selection deferral is over); panics with ternd's log.
    pub fn restart_with_stale_route(&mut self, stale: &str, gateway: &str) {
        self.stop();
        let family = if stale.contains(':') { "-6" } else { "-4" };
        self.host
            .ip(&[
                family, "route", "add", stale, "via", gateway, "proto", PROTOCOL,
            ])
            .unwrap();
        self.start();
        wait_until("restarted ternd relearned its routes", WAIT, || match self
            .log()
            .contains("selection deferral is over")
        {
            true => Ok(Some(())),
            false => Err("still deferring"),
        })
        .unwrap_or_else(|e| panic!("{}: {e}\n--- ternd ---\n{}", self.name, self.log()));
    }

    /// A bounded ping from `pod` to `target` (`count` echoes 20 ms apart, each waiting at most
    /// 1 s for its reply) while ternd restarts after a second with a stale route planted
    /// ([`Node::restart_with_stale_route`]). Asserts that no echo was lost; returns ping's
    /// summary line.
    pub fn ping_across_restart(
        &mut self,
        pod: &Host,
        target: &str,
        count: u32,
        stale: (&str, &str),
    ) -> String {
        let ping = spawn_ping(pod, target, count);
        std::thread::sleep(Duration::from_millis(1000));
        self.restart_with_stale_route(stale.0, stale.1);
        let summary = ping_summary(&ping);
        assert!(
            summary.starts_with(&format!("{count} packets transmitted, {count} received")),
            "{summary}\n--- ternd {} ---\n{}",
            self.name,
            self.log()
        );
        summary
    }

    /// Waits until there is no route to `destination`; panics with ternd's log.
    pub fn wait_no_route(&self, what: &str, destination: &str) {
        wait_until(what, WAIT, || match self.route(destination) {
            None => Ok(Some(())),
            Some(route) => Err(format!("{route}")),
        })
        .unwrap_or_else(|e| panic!("{}: {e}\n--- ternd ---\n{}", self.name, self.log()))
    }
}

/// Installed by tern (protocol 201).
pub fn is_tern(route: &Value) -> bool {
    route["protocol"] == PROTOCOL
}

/// A tern blackhole.
pub fn is_tern_blackhole(route: &Value) -> bool {
    is_tern(route) && route["type"] == "blackhole"
}

/// The route's gateways, sorted (one, or each of an ECMP route's next hops).
pub fn gateways(route: &Value) -> Vec<String> {
    let mut found: Vec<String> = match route["nexthops"].as_array() {
        Some(hops) => hops
            .iter()
            .filter_map(|hop| hop["gateway"].as_str().map(String::from))
            .collect(),
        None => route["gateway"]
            .as_str()
            .map(String::from)
            .into_iter()
            .collect(),
    };
    found.sort();
    found
}

/// A tern route through exactly these gateways (sorted).
pub fn via<'a>(gateways_wanted: &'a [&'a str]) -> impl Fn(&Value) -> bool + 'a {
    move |route| is_tern(route) && gateways(route) == gateways_wanted
}

/// BIRD routers (AS 65000) plugged into `switch`, one per `(address/length, router ID)`,
/// each peering with every node address in `neighbors` (AS 64512, sessions in the family of
/// the address) and announcing `prefix`. Keep the ports as long as the routers.
pub fn bird_routers(
    switch: &Switch,
    routers: &[(&str, &str)],
    neighbors: &[&str],
    prefix: &str,
) -> (Vec<Box<dyn BgpPeer>>, Vec<SwitchPort>) {
    let mut started = Vec::new();
    let mut ports = Vec::new();
    for (address, router_id) in routers {
        let host = Host::new("rt-bird").unwrap();
        ports.push(
            switch
                .connect_with_addresses(&host, &networks(&[address]))
                .unwrap(),
        );
        let mut config = PeerConfig::new(router_id.parse().unwrap(), 65000)
            .route(Route::new(prefix.parse().unwrap()));
        for neighbor in neighbors {
            config = config.neighbor(Neighbor::new(ip(neighbor), 64512));
        }
        started.push(peers::start(PeerKind::Bird, &host, config).unwrap());
    }
    (started, ports)
}

/// Starts a bounded ping from `pod` to `target`: `count` echoes 20 ms apart, each waiting at
/// most 1 s for its reply.
pub fn spawn_ping(pod: &Host, target: &str, count: u32) -> Process {
    let count = count.to_string();
    let args = ["-n", "-q", "-c", &count, "-i", "0.02", "-W", "1", target];
    pod.spawn("ping", "ping", &args).unwrap()
}

/// Waits for a ping started by [`spawn_ping`] to finish (at most 30 s) and returns its
/// summary line (`N packets transmitted, M received, …`).
pub fn ping_summary(ping: &Process) -> String {
    wait_until("ping finished", Duration::from_secs(30), || {
        match ping.is_running() {
            false => Ok(Some(())),
            true => Err("running"),
        }
    })
    .unwrap();
    let output = std::fs::read_to_string(ping.stdout_path()).unwrap();
    output
        .lines()
        .find(|line| line.contains("packets transmitted"))
        .unwrap_or_else(|| panic!("no ping summary: {output}"))
        .to_string()
}

/// Parses addresses with prefix length (`198.18.0.11/24`, `2001:db8:ff::11/64`).
pub fn networks(addresses: &[&str]) -> Vec<IpNetwork> {
    addresses.iter().map(|text| text.parse().unwrap()).collect()
}

/// A "pod": a namespace behind `node` on a veth, `address/32` (`/128`), default route via
/// `gateway` (an address of the node on that veth), like the CNI `ptp` plugin.
pub fn attach_pod(node: &Host, address: &str, gateway: &str) -> (Host, Veth) {
    let ipv6 = address.contains(':');
    let host_route = |text: &str| -> IpNetwork {
        let length = if ipv6 { 128 } else { 32 };
        format!("{text}/{length}").parse().unwrap()
    };
    let default = if ipv6 { "::/0" } else { "0.0.0.0/0" };
    let pod = Host::new("rt-pod").unwrap();
    let link = Veth::new(node, &pod).unwrap();
    node.add_address(&link.a_interface, host_route(gateway))
        .unwrap();
    node.add_device_route(host_route(address), &link.a_interface)
        .unwrap();
    pod.add_address(&link.b_interface, host_route(address))
        .unwrap();
    pod.add_device_route(host_route(gateway), &link.b_interface)
        .unwrap();
    pod.add_route(default.parse().unwrap(), ip(gateway))
        .unwrap();
    (pod, link)
}
