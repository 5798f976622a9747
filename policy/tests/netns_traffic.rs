//! Real packets through a compiled table. A "node" namespace routes for "pod" namespaces the
//! way the ptp CNI does (a /32 per pod over a veth, the host side of every veth holding the
//! gateway address) and for an outside client; our table is loaded in the node namespace only.
//! Every probe is bounded (one connection, 800 ms); servers stop when the lab drops.

mod common;
mod netns;

use std::io::Read;
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use common::*;
use netns::{Netns, tcp_server, udp_server};
use policy::{ApplyKind, NftCommand, PolicyProgrammer};

const GATEWAY: &str = "198.19.1.1";
const GATEWAY6: &str = "2001:db8:1::1";
const CLIENT: &str = "192.0.2.10";
const CLIENT_GATEWAY: &str = "192.0.2.1";
const PROBE: Duration = Duration::from_millis(800);

struct Lab {
    node: Netns,
    pods: Vec<(String, Netns)>,
    client: Netns,
    stop: Arc<AtomicBool>,
    servers: Vec<JoinHandle<()>>,
}

/// A namespace whose IPv6 addresses are usable at once (no duplicate address detection), so
/// no probe has to wait for link-local addresses to leave the tentative state.
fn host() -> Netns {
    let netns = Netns::new();
    netns.run(&[
        "sysctl",
        "-qw",
        "net.ipv6.conf.all.accept_dad=0",
        "net.ipv6.conf.default.accept_dad=0",
    ]);
    netns
}

impl Lab {
    /// Node, the local pods x/a, x/b, y/a of the standard world, and an outside client.
    fn new() -> Lab {
        let node = host();
        node.run(&["sysctl", "-qw", "net.ipv4.ip_forward=1"]);
        node.run(&["sysctl", "-qw", "net.ipv6.conf.all.forwarding=1"]);
        let mut lab = Lab {
            client: host(),
            node,
            pods: Vec::new(),
            stop: Arc::new(AtomicBool::new(false)),
            servers: Vec::new(),
        };
        for (index, id) in ["x/a", "x/b", "y/a"].into_iter().enumerate() {
            let pod = host();
            let host_side = format!("p{index}");
            let address = address_of(id).to_string();
            let n = &lab.node.name;
            lab.node.run(&[
                "ip", "-n", n, "link", "add", &host_side, "type", "veth", "peer", "name", "eth0",
                "netns", &pod.name,
            ]);
            lab.node.run(&[
                "ip",
                "addr",
                "add",
                &format!("{GATEWAY}/32"),
                "dev",
                &host_side,
            ]);
            lab.node.run(&["ip", "link", "set", &host_side, "up"]);
            lab.node.run(&[
                "ip",
                "route",
                "add",
                &format!("{address}/32"),
                "dev",
                &host_side,
            ]);
            pod.run(&["ip", "addr", "add", &format!("{address}/32"), "dev", "eth0"]);
            pod.run(&["ip", "link", "set", "eth0", "up"]);
            pod.run(&[
                "ip",
                "route",
                "add",
                &format!("{GATEWAY}/32"),
                "dev",
                "eth0",
            ]);
            pod.run(&[
                "ip", "route", "add", "default", "via", GATEWAY, "dev", "eth0",
            ]);
            // IPv6 the same way: a /128 per pod, the gateway on every host-side veth.
            let address6 = address6_of(id).to_string();
            let gateway6 = format!("{GATEWAY6}/128");
            lab.node.run(&[
                "ip", "-6", "addr", "add", &gateway6, "dev", &host_side, "nodad",
            ]);
            lab.node.run(&[
                "ip",
                "-6",
                "route",
                "add",
                &format!("{address6}/128"),
                "dev",
                &host_side,
            ]);
            pod.run(&[
                "ip",
                "-6",
                "addr",
                "add",
                &format!("{address6}/128"),
                "dev",
                "eth0",
                "nodad",
            ]);
            pod.run(&["ip", "-6", "route", "add", &gateway6, "dev", "eth0"]);
            pod.run(&[
                "ip", "-6", "route", "add", "default", "via", GATEWAY6, "dev", "eth0",
            ]);
            for port in [80u16, 81] {
                let listener = pod.enter(move || TcpListener::bind(("::", port)).unwrap());
                lab.servers.push(tcp_server(listener, lab.stop.clone()));
                let socket = pod.enter(move || UdpSocket::bind(("::", port)).unwrap());
                lab.servers.push(udp_server(socket, lab.stop.clone()));
            }
            lab.pods.push((id.to_string(), pod));
        }
        let n = &lab.node.name;
        lab.node.run(&[
            "ip",
            "-n",
            n,
            "link",
            "add",
            "pe",
            "type",
            "veth",
            "peer",
            "name",
            "eth0",
            "netns",
            &lab.client.name,
        ]);
        lab.node.run(&[
            "ip",
            "addr",
            "add",
            &format!("{CLIENT_GATEWAY}/24"),
            "dev",
            "pe",
        ]);
        lab.node.run(&["ip", "link", "set", "pe", "up"]);
        lab.client
            .run(&["ip", "addr", "add", &format!("{CLIENT}/24"), "dev", "eth0"]);
        lab.client.run(&["ip", "link", "set", "eth0", "up"]);
        lab.client
            .run(&["ip", "route", "add", "default", "via", CLIENT_GATEWAY]);
        lab
    }

    fn address(who: &str) -> IpAddr {
        if let Some(id) = who.strip_suffix("/v6") {
            return address6_of(id);
        }
        match who {
            "node" => ip(GATEWAY),
            "client" => ip(CLIENT),
            id => address_of(id),
        }
    }

    fn netns(&self, who: &str) -> &Netns {
        match who {
            "node" => &self.node,
            "client" => &self.client,
            id => {
                let id = id.strip_suffix("/v6").unwrap_or(id);
                &self.pods.iter().find(|(pod, _)| pod == id).unwrap().1
            }
        }
    }

    /// One TCP connection; true when the server's reply arrived (request and reply passed).
    fn tcp(&self, from: &str, to: &str, port: u16) -> bool {
        let target = SocketAddr::new(Lab::address(to), port);
        self.netns(from).enter(move || {
            let Ok(mut stream) = TcpStream::connect_timeout(&target, PROBE) else {
                return false;
            };
            stream.set_read_timeout(Some(PROBE)).unwrap();
            let mut reply = Vec::new();
            let _ = stream.read_to_end(&mut reply);
            reply == b"ok"
        })
    }

    /// One UDP datagram; true when the echo came back.
    fn udp(&self, from: &str, to: &str, port: u16) -> bool {
        let target = SocketAddr::new(Lab::address(to), port);
        self.netns(from).enter(move || {
            let socket = UdpSocket::bind(("::", 0)).unwrap();
            socket.set_read_timeout(Some(PROBE)).unwrap();
            socket.send_to(b"hi", target).unwrap();
            let mut buffer = [0u8; 8];
            matches!(socket.recv_from(&mut buffer), Ok((2, _)))
        })
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        for server in self.servers.drain(..) {
            let _ = server.join();
        }
    }
}

/// `2001:db8:1::<last octet>` for the local pods.
fn address6_of(id: &str) -> IpAddr {
    let IpAddr::V4(v4) = address_of(id) else {
        unreachable!()
    };
    ip(&format!("2001:db8:1::{}", v4.octets()[3]))
}

fn world() -> World {
    let mut world = World::xyz();
    world.input.node_addresses = vec![ip(GATEWAY), ip(CLIENT_GATEWAY), ip(GATEWAY6)];
    for id in ["x/a", "x/b", "y/a"] {
        let addresses = [address_of(id).to_string(), address6_of(id).to_string()];
        let pod_ips = addresses
            .iter()
            .map(|a| serde_json::json!({"ip": a}))
            .collect();
        world.pod_mut(id).status.as_mut().unwrap().pod_ips =
            Some(serde_json::from_value(serde_json::Value::Array(pod_ips)).unwrap());
    }
    world
}

#[test]
fn real_traffic_follows_the_compiled_policy() {
    let lab = Lab::new();
    assert!(lab.tcp("x/a", "x/b", 80), "baseline without a table");
    assert!(lab.tcp("client", "x/b", 80), "baseline from outside");

    let mut world = world().with(
        "metadata: {name: b-from-a, namespace: x}
spec:
  podSelector: {matchLabels: {pod: b}}
  ingress: [{from: [{podSelector: {matchLabels: {pod: a}}}], ports: [{port: 80}]}]",
    );
    let mut programmer = PolicyProgrammer::new(NftCommand::in_netns(&lab.node.name));
    programmer.reconcile(world.compile().ir).unwrap();

    assert!(lab.tcp("x/a", "x/b", 80), "allowed, and the reply passes");
    assert!(!lab.tcp("x/a", "x/b", 81), "port not allowed");
    assert!(!lab.udp("x/a", "x/b", 80), "UDP is not TCP");
    assert!(!lab.tcp("y/a", "x/b", 80), "other namespace");
    assert!(!lab.tcp("client", "x/b", 80), "outside client");
    assert!(
        lab.tcp("node", "x/b", 81),
        "the node reaches its pods (kubelet probes)"
    );
    assert!(
        lab.tcp("x/b", "x/a", 81),
        "x/a is not isolated; replies to x/b pass"
    );
    assert!(lab.udp("y/a", "x/a", 81));

    // Egress: x/a may only talk to namespace y, UDP 81.
    world.input.policies.push(policy(
        "metadata: {name: a-out, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  policyTypes: [Egress]
  egress: [{to: [{namespaceSelector: {matchLabels: {ns: y}}}], ports: [{protocol: UDP, port: 81}]}]",
    ));
    assert!(matches!(
        programmer.reconcile(world.compile().ir).unwrap(),
        ApplyKind::Incremental { .. }
    ));
    assert!(lab.udp("x/a", "y/a", 81));
    assert!(!lab.tcp("x/a", "y/a", 80));
    assert!(!lab.tcp("x/a", "x/b", 80), "egress of x/a now forbids it");
    assert!(!lab.udp("x/a", "client", 81));

    // Live label change: y/a becomes pod=a... in namespace y, still not x; give x/b's policy a
    // namespaceSelector peer instead and watch y/a get in after an incremental update.
    world.input.policies[0] = policy(
        "metadata: {name: b-from-a, namespace: x}
spec:
  podSelector: {matchLabels: {pod: b}}
  ingress: [{from: [{namespaceSelector: {}, podSelector: {matchLabels: {role: client}}}], ports: [{port: 80}]}]",
    );
    programmer.reconcile(world.compile().ir).unwrap();
    assert!(!lab.tcp("y/a", "x/b", 80));
    world
        .pod_mut("y/a")
        .metadata
        .labels
        .as_mut()
        .unwrap()
        .insert("role".into(), "client".into());
    assert!(matches!(
        programmer.reconcile(world.compile().ir).unwrap(),
        ApplyKind::Incremental { commands: 2 }
    ));
    assert!(lab.tcp("y/a", "x/b", 80), "label change took effect");
}

#[test]
fn ipv6_works_under_isolation_thanks_to_neighbour_discovery() {
    let lab = Lab::new();
    // No IPv6 traffic before the table is in place: the node must resolve x/b through ND while
    // x/b is isolated both ways.
    let world = world().with(
        "metadata: {name: b-from-a, namespace: x}
spec:
  podSelector: {matchLabels: {pod: b}}
  policyTypes: [Ingress, Egress]
  ingress: [{from: [{podSelector: {matchLabels: {pod: a}}}], ports: [{port: 80}]}]",
    );
    let mut programmer = PolicyProgrammer::new(NftCommand::in_netns(&lab.node.name));
    programmer.reconcile(world.compile().ir).unwrap();
    assert!(
        lab.tcp("x/a/v6", "x/b/v6", 80),
        "allowed over IPv6, reply passes"
    );
    assert!(!lab.tcp("y/a/v6", "x/b/v6", 80), "other namespace");
    assert!(!lab.udp("x/b/v6", "x/a/v6", 81), "x/b egress isolated");
    assert!(
        lab.tcp("node", "x/b/v6", 81),
        "the node reaches its pods over IPv6"
    );
}
