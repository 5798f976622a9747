//! Encapsulation end to end: nodes in network namespaces run `ternd --dataplane` over one
//! file datastore; pods come from the real `ptp` + `host-local` CNI plugins with the conflist
//! ternd writes. Each mode is proven by a capture on the underlay link, dissected by tshark.
//!
//! Cluster: node1 (198.18.0.11) and node2 (198.18.0.12) on switch A, node3 (198.18.1.13) on
//! switch B, a router between (and towards the outside client 192.0.2.10).

mod encap_support;

use std::net::Ipv4Addr;
use std::time::Duration;

use encap_support::{Capture, Cluster, Pod, pool_manifest, tshark};
use interop_tests::wait_until;

const ANY_ENCAP: &str = "icmp or ip proto 4 or udp port 4789";

fn plain(from: &Pod, to: Ipv4Addr) -> String {
    format!(
        "icmp.type == 8 && ip.src == {} && ip.dst == {to} && !(ip.proto == 4) && !vxlan",
        from.address
    )
}

fn ipip(from: &Pod, to: Ipv4Addr) -> String {
    format!(
        "ip.proto == 4 && icmp.type == 8 && ip.src == {} && ip.dst == {to}",
        from.address
    )
}

fn vxlan(from: &Pod, to: Ipv4Addr) -> String {
    format!(
        "vxlan && udp.dstport == 4789 && icmp.type == 8 && ip.src == {} && ip.dst == {to}",
        from.address
    )
}

/// Pings `to` from `from` (3 echoes) and asserts every echo came back.
fn assert_ping(cluster: &Cluster, from: &Pod, to: &Pod, phase: &str) {
    let received = cluster.ping(from, to.address);
    if received != 3 {
        let logs: Vec<String> = cluster.nodes.iter().map(|node| node.ternd_log()).collect();
        panic!(
            "{phase}: ping {} -> {} got {received}/3\n{}",
            from.address,
            to.address,
            logs.join("\n")
        );
    }
}

/// Every node's route to every other node's pod CIDR satisfies `check(node, cidr, route)`.
fn wait_all_routes(cluster: &Cluster, what: &str, check: impl Fn(usize, usize, &str) -> bool) {
    for local in 0..cluster.nodes.len() {
        for remote in 0..cluster.nodes.len() {
            if local == remote {
                continue;
            }
            let cidr = cluster.nodes[remote].pod_cidr();
            cluster.wait_route(
                local,
                &cidr,
                &format!("{what} ({local}->{remote})"),
                |route| check(local, remote, route),
            );
        }
    }
}

fn same_subnet(cluster: &Cluster, a: usize, b: usize) -> bool {
    cluster.nodes[a].address.octets()[2] == cluster.nodes[b].address.octets()[2]
}

#[test]
fn pods_reach_each_other_in_every_encapsulation_mode() {
    let mut cluster = Cluster::new("enc", &[0, 0, 1], &pool_manifest("Never", "Never", false));
    // A device left by an earlier run while no pool uses VXLAN: ternd removes it.
    plant_stale_vxlan(&cluster, 99);
    cluster.start_ternd();
    let pods = [
        cluster.add_pod(0, "encp1"),
        cluster.add_pod(1, "encp2"),
        cluster.add_pod(2, "encp3"),
    ];
    let [p1, p2, p3] = &pods;
    let node1 = &cluster.nodes[0];

    // Never: plain routes between the nodes of one subnet (node3 is behind the router and
    // needs the router to know pod routes, which is BGP's job, not this test's).
    cluster.wait_route(0, &cluster.nodes[1].pod_cidr(), "plain route", |route| {
        route.contains("via 198.18.0.12") && !route.contains("tunl0")
    });
    cluster.wait_route(1, &node1.pod_cidr(), "plain route back", |route| {
        route.contains("via 198.18.0.11")
    });
    let capture = Capture::start(&node1.host, &node1.interface, "never", ANY_ENCAP);
    assert_ping(&cluster, p1, p2, "Never");
    let pcap = capture.stop();
    assert!(
        tshark(&pcap, &plain(p1, p2.address), &["ip.src"]).len() >= 3,
        "Never: plain ICMP on the wire"
    );
    assert!(
        tshark(&pcap, "ip.proto == 4 || vxlan", &["ip.src"]).is_empty(),
        "Never: nothing encapsulated"
    );
    wait_vxlan_removed(&cluster, "the leftover vxlan.tern removed");
    // One of another configuration (VNI, port, learning) appears: ternd must not adopt it
    // when VXLAN comes into use.
    plant_stale_vxlan(&cluster, 98);

    // IPIP Always (the userspace tunnel on kernels without ipip.ko).
    cluster.write("pool.yaml", &pool_manifest("Always", "Never", false));
    wait_all_routes(&cluster, "IPIP routes", |_, _, route| {
        route.contains("dev tunl0") && route.contains("onlink")
    });
    let capture = Capture::start(&node1.host, &node1.interface, "ipip", ANY_ENCAP);
    assert_ping(&cluster, p1, p2, "IPIP Always");
    assert_ping(&cluster, p1, p3, "IPIP Always");
    let pcap = capture.stop();
    for to in [p2, p3] {
        let outer = tshark(&pcap, &ipip(p1, to.address), &["ip.src", "ip.dst"]);
        assert!(outer.len() >= 3, "IPIP to {}: {outer:?}", to.address);
    }
    assert!(
        tshark(&pcap, &plain(p1, p2.address), &["ip.src"]).is_empty(),
        "IPIP: no plain ICMP"
    );
    let userspace_ipip = check_tunl0(&cluster);

    // VXLAN Always.
    cluster.write("pool.yaml", &pool_manifest("Never", "Always", false));
    wait_all_routes(&cluster, "VXLAN routes", |_, _, route| {
        route.contains("dev vxlan.tern")
    });
    let capture = Capture::start(&node1.host, &node1.interface, "vxlan", ANY_ENCAP);
    assert_ping(&cluster, p1, p2, "VXLAN Always");
    assert_ping(&cluster, p1, p3, "VXLAN Always");
    let pcap = capture.stop();
    for to in [p2, p3] {
        let frames = tshark(&pcap, &vxlan(p1, to.address), &["vxlan.vni"]);
        assert!(frames.len() >= 3, "VXLAN to {}: {frames:?}", to.address);
        assert!(
            frames.iter().all(|vni| vni.trim() == "4096"),
            "VNI 4096: {frames:?}"
        );
    }
    assert!(
        tshark(&pcap, "ip.proto == 4", &["ip.src"]).is_empty(),
        "VXLAN: no IPIP"
    );
    check_devices(&cluster, userspace_ipip);

    // CrossSubnet, IPIP then VXLAN: plain inside subnet A, encapsulated across the router.
    for (ipip_mode, vxlan_mode, device, encapsulated) in [
        (
            "CrossSubnet",
            "Never",
            "dev tunl0",
            ipip as fn(&Pod, Ipv4Addr) -> String,
        ),
        ("Never", "CrossSubnet", "dev vxlan.tern", vxlan),
    ] {
        cluster.write("pool.yaml", &pool_manifest(ipip_mode, vxlan_mode, false));
        wait_all_routes(
            &cluster,
            "CrossSubnet routes",
            |local, remote, route| match same_subnet(&cluster, local, remote) {
                true => {
                    !route.contains("tunl0")
                        && !route.contains("vxlan")
                        && route.contains("via 198.18.0.")
                }
                false => route.contains(device),
            },
        );
        let name = format!("cross-{device}").replace(['.', ' '], "-");
        let capture = Capture::start(&node1.host, &node1.interface, &name, ANY_ENCAP);
        assert_ping(&cluster, p1, p2, "CrossSubnet same subnet");
        assert_ping(&cluster, p1, p3, "CrossSubnet other subnet");
        let pcap = capture.stop();
        assert!(
            tshark(&pcap, &plain(p1, p2.address), &["ip.src"]).len() >= 3,
            "{name}: same subnet plain"
        );
        assert!(
            tshark(&pcap, &encapsulated(p1, p2.address), &["ip.src"]).is_empty(),
            "{name}: same subnet not encapsulated"
        );
        assert!(
            tshark(&pcap, &encapsulated(p1, p3.address), &["ip.src"]).len() >= 3,
            "{name}: cross subnet encapsulated"
        );
        assert!(
            tshark(&pcap, &plain(p1, p3.address), &["ip.src"]).is_empty(),
            "{name}: cross subnet never plain"
        );
    }

    // A node leaves: its route, neighbour and FDB entries go.
    let mut objects = String::new();
    for node in &cluster.nodes[..2] {
        objects.push_str(&encap_support::node_manifest(node));
    }
    cluster.write(
        "cluster.yaml",
        &(encap_support::BGP_CONFIGURATION.to_string() + &objects),
    );
    cluster.wait_route(
        0,
        &cluster.nodes[2].pod_cidr(),
        "node3's route removed",
        str::is_empty,
    );
    let node1 = &cluster.nodes[0];
    let fdb = node1
        .host
        .run("bridge fdb show dev vxlan.tern")
        .expect("fdb");
    assert!(
        !fdb.contains("02:74:c6:13:03:01"),
        "node3's FDB entry removed: {fdb}"
    );
    let neighbours = node1
        .host
        .run("ip neigh show dev vxlan.tern")
        .expect("neighbours");
    assert!(
        !neighbours.contains("198.19.3.1"),
        "node3's neighbour removed: {neighbours}"
    );

    // Back to Never: no pool uses VXLAN, so the device goes and the pods talk plainly.
    cluster.write("pool.yaml", &pool_manifest("Never", "Never", false));
    cluster.wait_route(
        0,
        &cluster.nodes[1].pod_cidr(),
        "node2's route plain again",
        |route| !route.is_empty() && !route.contains("vxlan") && !route.contains("tunl0"),
    );
    wait_vxlan_removed(&cluster, "vxlan.tern removed");
    assert_ping(&cluster, p1, p2, "Never again");
    assert!(
        neighbours.contains("198.19.2.1"),
        "node2's neighbour stays: {neighbours}"
    );
    drop(pods);
}

/// A `vxlan.tern` on node1 with VNI `vni`, port 8472 and learning on: not tern's settings.
fn plant_stale_vxlan(cluster: &Cluster, vni: u32) {
    let node1 = &cluster.nodes[0];
    node1
        .host
        .run(&format!(
            "ip link add vxlan.tern type vxlan id {vni} dstport 8472 dev {}",
            node1.interface
        ))
        .unwrap();
}

/// Wait (10 s at most) until node1 has no `vxlan.tern`.
fn wait_vxlan_removed(cluster: &Cluster, what: &str) {
    let node1 = &cluster.nodes[0];
    wait_until(what, Duration::from_secs(10), || {
        let gone = node1.host.run("ip -o link show vxlan.tern").is_err();
        Ok::<_, String>(gone.then_some(()))
    })
    .unwrap_or_else(|e| panic!("{e}\n{}", node1.ternd_log()));
}

/// tunl0 on node1 in the IPIP phase: MTU underlay − 20, the tunnel address. Whether it is
/// the userspace (TUN) device.
fn check_tunl0(cluster: &Cluster) -> bool {
    let node1 = &cluster.nodes[0];
    let tunl0 = node1
        .host
        .run("ip -d -o link show tunl0; ip -o -4 addr show dev tunl0")
        .expect("tunl0");
    assert!(
        tunl0.contains("mtu 1480"),
        "tunl0 MTU underlay - 20: {tunl0}"
    );
    assert!(
        tunl0.contains("inet 198.19.1.1/32"),
        "tunl0 tunnel address: {tunl0}"
    );
    tunl0.contains(" tun type tun ")
}

/// The devices on node1 after the VXLAN phase: vxlan.tern (VNI 4096, port 4789, no learning, MTU underlay − 50, VTEP address
/// and MAC, replacing the leftover device with VNI 98 the test planted) with one neighbour and
/// one FDB entry per remote node.
fn check_devices(cluster: &Cluster, userspace_ipip: bool) {
    let node1 = &cluster.nodes[0];
    let show = |command: &str| {
        node1
            .host
            .run(command)
            .unwrap_or_else(|e| panic!("{command}: {e}"))
    };
    // No pool uses IPIP any more: the userspace device is gone (kernel tunl0 would stay).
    if userspace_ipip {
        assert!(
            node1.host.run("ip -o link show tunl0").is_err(),
            "userspace tunl0 closed with the last IPIP pool"
        );
    }
    let vxlan = show("ip -d -o link show vxlan.tern; ip -o -4 addr show dev vxlan.tern");
    for expected in [
        "mtu 1450",
        "link/ether 02:74:c6:13:01:01",
        "vxlan id 4096",
        "local 198.18.0.11",
        "dstport 4789",
        "nolearning",
        "inet 198.19.1.1/32",
    ] {
        assert!(
            vxlan.contains(expected),
            "vxlan.tern: {expected:?} in {vxlan}"
        );
    }
    let recreated = node1
        .ternd_log()
        .matches("VXLAN device exists with other settings")
        .count();
    assert_eq!(
        recreated, 1,
        "the leftover vxlan.tern is recreated once, the right one kept"
    );
    let fdb = show("bridge fdb show dev vxlan.tern");
    let neighbours = show("ip neigh show dev vxlan.tern");
    for (vtep, mac, underlay) in [
        ("198.19.2.1", "02:74:c6:13:02:01", "198.18.0.12"),
        ("198.19.3.1", "02:74:c6:13:03:01", "198.18.1.13"),
    ] {
        assert!(
            fdb.contains(&format!("{mac} dst {underlay} self permanent")),
            "FDB {mac} -> {underlay}: {fdb}"
        );
        assert!(
            neighbours.contains(&format!("{vtep} lladdr {mac} PERMANENT")),
            "neighbour {vtep} -> {mac}: {neighbours}"
        );
    }
}

#[test]
fn nat_outgoing_masquerades_only_traffic_leaving_the_pools() {
    let mut cluster = Cluster::new("nat", &[0, 0], &pool_manifest("Never", "Never", true));
    cluster.start_ternd();
    let p1 = cluster.add_pod(0, "natp1");
    let p2 = cluster.add_pod(1, "natp2");
    let client: Ipv4Addr = "192.0.2.10".parse().expect("address");
    let node1 = &cluster.nodes[0];
    let node2 = &cluster.nodes[1];
    cluster.wait_route(0, &node2.pod_cidr(), "route to node2's pods", |route| {
        route.contains("via 198.18.0.12")
    });
    cluster.wait_route(1, &node1.pod_cidr(), "route to node1's pods", |route| {
        route.contains("via 198.18.0.11")
    });
    interop_tests::wait_until(
        "natOutgoing table",
        std::time::Duration::from_secs(20),
        || {
            let table = node1
                .host
                .run("nft list table ip tern-nat 2>/dev/null || true")
                .map_err(|e| e.to_string())?;
            Ok::<_, String>(table.contains("masquerade").then_some(()))
        },
    )
    .unwrap_or_else(|e| panic!("{e}\n{}", node1.ternd_log()));

    // Pod -> outside client: the client sees node1's underlay address.
    let client_interface = cluster
        .client
        .run("ip -o -4 addr show | awk '/192.0.2.10/ {print $2}'")
        .expect("client interface");
    let capture = Capture::start(&cluster.client, client_interface.trim(), "client", "icmp");
    assert_ping(
        &cluster,
        &p1,
        &Pod {
            host: cluster.client.clone(),
            address: client,
        },
        "natOutgoing",
    );
    let pcap = capture.stop();
    let sources = tshark(&pcap, "icmp.type == 8", &["ip.src"]);
    assert!(sources.len() >= 3, "echoes at the client: {sources:?}");
    assert!(
        sources.iter().all(|source| source.trim() == "198.18.0.11"),
        "masqueraded to node1: {sources:?}"
    );

    // Pod -> pod: not masqueraded (node2's link shows the pod's own address).
    let capture = Capture::start(&node2.host, &node2.interface, "podtopod", "icmp");
    assert_ping(&cluster, &p1, &p2, "pod to pod");
    let pcap = capture.stop();
    let sources = tshark(&pcap, "icmp.type == 8", &["ip.src"]);
    assert!(sources.len() >= 3, "echoes at node2: {sources:?}");
    assert!(
        sources
            .iter()
            .all(|source| source.trim() == p1.address.to_string()),
        "pod to pod keeps the pod's source: {sources:?}"
    );

    // Control: without natOutgoing the table goes and the client cannot answer the pod.
    cluster.write("pool.yaml", &pool_manifest("Never", "Never", false));
    interop_tests::wait_until(
        "natOutgoing table removed",
        std::time::Duration::from_secs(20),
        || {
            let status = node1
                .host
                .run("nft list table ip tern-nat >/dev/null 2>&1 && echo present || echo gone")
                .map_err(|e| e.to_string())?;
            Ok::<_, String>((status.trim() == "gone").then_some(()))
        },
    )
    .unwrap_or_else(|e| panic!("{e}\n{}", node1.ternd_log()));
    assert_eq!(
        cluster.ping(&p1, client),
        0,
        "without natOutgoing the pod's address is not routable outside"
    );
}
