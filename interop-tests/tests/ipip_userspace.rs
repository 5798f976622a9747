//! The userspace IPIP tunnel between two namespaces, checked on the wire.
//!
//! Topology: node A (198.18.0.1/24) and node B (198.18.0.2/24) on a veth; a dummy "pod"
//! address on each (198.19.1.1/32 on A, 198.19.2.1/32 on B); `tern-ipip` on each with the other
//! node as peer and tunnel addresses 198.19.1.254 / 198.19.2.254; routes `198.19.2.0/24 via 198.18.0.2 dev tunl0 onlink` on A and back on B,
//! as tern's route programmer writes them for `ipipMode: Always`.

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use interop_tests::{Host, Process, Veth, wait_until};

const BIN: &str = env!("CARGO_BIN_EXE_tern-ipip");
const A_NODE: &str = "198.18.0.1";
const B_NODE: &str = "198.18.0.2";
const A_POD: &str = "198.19.1.1";
const B_POD: &str = "198.19.2.1";
/// Tunnel addresses (Calico puts one address of the node's block on tunl0).
const A_TUNNEL: &str = "198.19.1.254";
const B_TUNNEL: &str = "198.19.2.254";

struct Nodes {
    a: Host,
    b: Host,
    veth: Veth,
    _tunnels: (Process, Process),
}

/// The "pod" address lives on `lo` (this kernel has no dummy interfaces).
fn node(host: &Host, pod: &str) {
    host.add_address("lo", format!("{pod}/32").parse().expect("address"))
        .expect("pod address");
}

fn start_tunnel(host: &Host, local: &str, tunnel_address: &str, peer: &str) -> Process {
    let process = host
        .spawn(
            "tern-ipip",
            BIN,
            &[
                "--local",
                local,
                "--tunnel-address",
                tunnel_address,
                "--peer",
                peer,
            ],
        )
        .expect("start tern-ipip");
    let stdout = process.stdout_path().to_path_buf();
    wait_until("tern-ipip READY", Duration::from_secs(10), || {
        process.check_running().map_err(|e| e.to_string())?;
        let text = std::fs::read_to_string(&stdout).map_err(|e| e.to_string())?;
        Ok::<_, String>(
            text.contains("READY mode=Userspace device=tunl0")
                .then_some(()),
        )
    })
    .unwrap_or_else(|e| panic!("{e}\n{}", process.log_tail(30)));
    process
}

fn two_nodes() -> Nodes {
    let a = Host::new("ipipa").expect("host A");
    let b = Host::new("ipipb").expect("host B");
    let veth = Veth::with_addresses(
        &a,
        &[format!("{A_NODE}/24").parse().expect("net")],
        &b,
        &[format!("{B_NODE}/24").parse().expect("net")],
    )
    .expect("veth");
    node(&a, A_POD);
    node(&b, B_POD);
    let tunnel_a = start_tunnel(&a, A_NODE, A_TUNNEL, &format!("198.19.2.0/24={B_NODE}"));
    let tunnel_b = start_tunnel(&b, B_NODE, B_TUNNEL, &format!("198.19.1.0/24={A_NODE}"));
    a.ip(&[
        "route",
        "add",
        "198.19.2.0/24",
        "via",
        B_NODE,
        "dev",
        "tunl0",
        "onlink",
    ])
    .expect("route on A");
    b.ip(&[
        "route",
        "add",
        "198.19.1.0/24",
        "via",
        A_NODE,
        "dev",
        "tunl0",
        "onlink",
    ])
    .expect("route on B");
    Nodes {
        a,
        b,
        veth,
        _tunnels: (tunnel_a, tunnel_b),
    }
}

/// Starts tcpdump with `filter` on `interface` and waits until it listens.
fn capture(host: &Host, interface: &str, filter: &str) -> (Process, PathBuf) {
    let path = host.dir().join(format!("{interface}.pcap"));
    let path_text = path.display().to_string();
    let tcpdump = host
        .spawn(
            "tcpdump",
            "tcpdump",
            &["-n", "-U", "-i", interface, "-w", &path_text, filter],
        )
        .expect("start tcpdump");
    let stderr = tcpdump.stderr_path().to_path_buf();
    wait_until("tcpdump listening", Duration::from_secs(10), || {
        let text = std::fs::read_to_string(&stderr).map_err(|e| e.to_string())?;
        Ok::<_, String>(text.contains("listening on").then_some(()))
    })
    .expect("tcpdump starts");
    (tcpdump, path)
}

/// IPv4 packets (Ethernet frames stripped) from a classic pcap file.
fn pcap_ipv4_packets(path: &Path) -> Vec<Vec<u8>> {
    let bytes = std::fs::read(path).expect("read pcap");
    assert!(bytes.len() >= 24, "pcap too short");
    let mut packets = Vec::new();
    let mut offset = 24;
    while offset + 16 <= bytes.len() {
        let captured =
            u32::from_le_bytes(bytes[offset + 8..offset + 12].try_into().expect("4 bytes"))
                as usize;
        let Some(frame) = bytes.get(offset + 16..offset + 16 + captured) else {
            break; // a record still being written
        };
        if frame.len() > 14 && frame[12..14] == [0x08, 0x00] {
            packets.push(frame[14..].to_vec());
        }
        offset += 16 + captured;
    }
    packets
}

/// The header Linux's ipip module builds for `inner` on an NBMA device with `ttl inherit`,
/// `tos 0`, `pmtudisc` (ip_tunnel_xmit + iptunnel_xmit), given the ident it chose. Written out
/// independently of `ipip::wire`.
fn kernel_outer_header(inner: &[u8], src: Ipv4Addr, dst: Ipv4Addr, ident: u16) -> [u8; 20] {
    let inner_ecn = inner[1] & 0x03;
    let tos = if inner_ecn == 0x03 { 0x02 } else { inner_ecn };
    let total = (inner.len() + 20) as u16;
    let mut header = [0u8; 20];
    header[0] = 0x45;
    header[1] = tos;
    header[2..4].copy_from_slice(&total.to_be_bytes());
    header[4..6].copy_from_slice(&ident.to_be_bytes());
    header[6..8].copy_from_slice(&0x4000u16.to_be_bytes());
    header[8] = inner[8];
    header[9] = 4;
    header[12..16].copy_from_slice(&src.octets());
    header[16..20].copy_from_slice(&dst.octets());
    let mut sum: u32 = header
        .chunks(2)
        .map(|word| u32::from(u16::from_be_bytes([word[0], word[1]])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    header[10..12].copy_from_slice(&(!(sum as u16)).to_be_bytes());
    header
}

#[test]
fn ping_between_pods_crosses_the_userspace_tunnel_as_ipip() {
    let nodes = two_nodes();
    let (tcpdump, pcap) = capture(&nodes.b, &nodes.veth.b_interface, "ip proto 4");

    let ping = nodes
        .a
        .exec(
            "ping",
            &["-n", "-c", "3", "-W", "1", "-t", "17", "-I", A_POD, B_POD],
        )
        .unwrap_or_else(|e| panic!("ping failed: {e}\n{}", nodes.a.logs_tail(30)));
    assert!(
        ping.stdout.contains("3 received"),
        "ping output: {}",
        ping.stdout
    );
    wait_until(
        "6 IPIP packets in the capture",
        Duration::from_secs(10),
        || {
            let count = if pcap.exists() {
                pcap_ipv4_packets(&pcap).len()
            } else {
                0
            };
            Ok::<_, String>((count >= 6).then_some(()))
        },
    )
    .expect("capture complete");
    tcpdump
        .terminate(Duration::from_secs(5))
        .expect("stop tcpdump");

    let fields = nodes
        .b
        .exec(
            "tshark",
            &[
                "-r",
                &pcap.display().to_string(),
                "-o",
                "ip.check_checksum:TRUE",
                "-T",
                "fields",
                "-e",
                "ip.proto",
                "-e",
                "ip.flags.df",
                "-e",
                "ip.ttl",
                "-e",
                "ip.src",
                "-e",
                "ip.checksum.status",
            ],
        )
        .expect("tshark");
    let lines: Vec<&str> = fields.stdout.lines().collect();
    assert_eq!(lines.len(), 6, "3 requests + 3 replies:\n{}", fields.stdout);
    for line in &lines {
        let columns: Vec<&str> = line.split('\t').collect();
        // Two IP layers per packet: outer,inner.
        assert_eq!(columns[0], "4,1", "outer IPIP, inner ICMP: {line}");
        assert!(
            columns[1].starts_with("1,") || columns[1].starts_with("True,"),
            "outer DF: {line}"
        );
        let ttls: Vec<&str> = columns[2].split(',').collect();
        assert_eq!(ttls[0], ttls[1], "ttl inherit: {line}");
        // Requests leave with TTL 17 (ping -t 17), replies with B's default 64.
        let expected_ttl = if columns[3].starts_with(A_NODE) {
            "17"
        } else {
            "64"
        };
        assert_eq!(ttls[0], expected_ttl, "{line}");
        assert!(
            columns[3] == format!("{A_NODE},{A_POD}") || columns[3] == format!("{B_NODE},{B_POD}"),
            "outer source is the node, inner the pod: {line}"
        );
        assert!(
            columns[4].starts_with("1,") || columns[4].starts_with("Good"),
            "outer checksum good: {line}"
        );
    }

    // Byte for byte: every outer header equals what the kernel's ipip module builds.
    let packets = pcap_ipv4_packets(&pcap);
    assert_eq!(packets.len(), 6);
    for packet in &packets {
        let (outer, inner) = packet.split_at(20);
        let src = Ipv4Addr::new(outer[12], outer[13], outer[14], outer[15]);
        let dst = Ipv4Addr::new(outer[16], outer[17], outer[18], outer[19]);
        let ident = u16::from_be_bytes([outer[4], outer[5]]);
        assert_eq!(outer, kernel_outer_header(inner, src, dst, ident));
    }
}

#[test]
fn too_big_with_df_gets_frag_needed_from_the_tunnel() {
    let nodes = two_nodes();
    nodes
        .a
        .ping(B_POD.parse().expect("address"))
        .expect("tunnel works before the MTU test");

    // The device MTU is underlay − 20: the kernel refuses 1528-byte DF packets locally.
    let local = nodes
        .a
        .run(&format!(
            "ping -n -c 1 -W 1 -M do -s 1500 -I {A_POD} {B_POD} 2>&1; true"
        ))
        .expect("ping runs");
    eprintln!("ping -M do -s 1500 (device MTU 1480):\n{local}");
    assert!(local.contains("mtu=1480"), "ping output: {local}");

    // Shrink the underlay under the running tunnel: the tunnel learns the MTU from EMSGSIZE
    // and answers ICMP "fragmentation needed" with underlay − 20, as tnl_update_pmtu() does.
    nodes
        .a
        .ip(&["link", "set", &nodes.veth.a_interface, "mtu", "1400"])
        .expect("lower MTU");
    let (tcpdump, pcap) = capture(&nodes.a, "lo", "icmp[0] == 3");
    let answer = nodes
        .a
        .run(&format!(
            "ping -n -c 2 -i 0.3 -W 1 -M do -s 1452 -I {A_POD} {B_POD} 2>&1; true"
        ))
        .expect("ping runs");
    eprintln!("ping -M do -s 1452 (underlay MTU now 1400):\n{answer}");
    assert!(
        answer.contains("Frag needed and DF set (mtu = 1380)"),
        "ping output: {answer}\n{}",
        nodes.a.logs_tail(20)
    );
    // On the wire (lo: the error goes to a local sender): type 3 code 4, next-hop MTU 1380,
    // TOS 0xc0 (precedence "internetwork control", as icmp_send() sets), good checksum.
    wait_until("ICMP error captured", Duration::from_secs(10), || {
        let count = if pcap.exists() {
            pcap_ipv4_packets(&pcap).len()
        } else {
            0
        };
        Ok::<_, String>((count >= 1).then_some(()))
    })
    .expect("ICMP error on lo");
    tcpdump
        .terminate(Duration::from_secs(5))
        .expect("stop tcpdump");
    let fields = nodes
        .a
        .exec(
            "tshark",
            &[
                "-r",
                &pcap.display().to_string(),
                "-T",
                "fields",
                "-e",
                "ip.dsfield",
                "-e",
                "icmp.type",
                "-e",
                "icmp.code",
                "-e",
                "icmp.mtu",
                "-e",
                "icmp.checksum.status",
            ],
        )
        .expect("tshark");
    eprintln!("tshark on the ICMP error:\n{}", fields.stdout);
    let first = fields.stdout.lines().next().expect("one ICMP error");
    let columns: Vec<&str> = first.split('\t').collect();
    assert!(columns[0].starts_with("0xc0"), "TOS 0xc0: {first}");
    assert!(columns[1].starts_with('3'), "type 3: {first}");
    assert!(columns[2].starts_with('4'), "code 4: {first}");
    assert_eq!(columns[3], "1380", "next-hop MTU: {first}");
    assert!(columns[4].starts_with('1'), "checksum good: {first}");

    // After the error the sender uses 1380: smaller pings still cross.
    let small = nodes
        .a
        .exec(
            "ping",
            &[
                "-n", "-c", "1", "-W", "1", "-M", "do", "-s", "1352", "-I", A_POD, B_POD,
            ],
        )
        .expect("a 1380-byte packet fits");
    assert!(small.stdout.contains("1 received"), "{}", small.stdout);
}
