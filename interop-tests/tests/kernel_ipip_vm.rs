//! Kernel IPIP for real: `tern-ipip --mode kernel` in two namespaces inside a qemu VM booted
//! from Debian's `linux-image-amd64` (which has `ipip.ko`), pinging pod to pod across `tunl0`.
//!
//! `vm/run.sh` does the work (see `vm/prepare.sh`, `vm/init`, `vm/guest-test.sh`): it installs
//! qemu/busybox/cpio/kmod when missing, fetches and caches the kernel package and a tiny
//! initramfs under `target/vm-cache/`, boots the VM under TCG with the host's root shared
//! read-only over 9p, and leaves the serial console in a log. Nothing touches the host's
//! network: the namespaces, veth and tunnels exist only inside the VM.
//!
//! This test checks the console's verdict (`TERN-VM-PASS`: both tunnels said `READY
//! mode=Kernel`, `tunl0` is ipip with `pmtudisc` and MTU 1480, three pings all answered) and
//! compares the two outer packets the guest captured on the underlay (an echo request sent
//! with TTL 17 and inner ECN CE, and its reply) byte for byte with what
//! [`ipip::wire::encapsulate`] builds for the same inner packet with tern's parameters; only
//! the IP identification is taken from the capture (the kernel's is random).
//!
//! It also compares the kernel tunnel's "fragmentation needed" (a forwarded 1480-byte DF
//! packet from a pod namespace behind node A, with A's underlay lowered to 1400) with
//! [`ipip::wire::FragNeededRepr::about`] for the same original: MTU 1380, 548 bytes quoted,
//! checksum, and the IP header's TOS 0xc0 the userspace tunnel also uses.

use std::net::Ipv4Addr;
use std::path::Path;

use ipip::TunnelParams;
use ipip::wire::FragNeededRepr;

const BIN: &str = env!("CARGO_BIN_EXE_tern-ipip");
const A_NODE: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 1);
const B_NODE: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 2);
const A_POD: Ipv4Addr = Ipv4Addr::new(198, 19, 1, 1);
/// The pod namespace behind node A that sends the too-big packet.
const P_POD: Ipv4Addr = Ipv4Addr::new(198, 19, 1, 2);
/// A's underlay MTU during the too-big check, minus the outer header.
const LOWERED_TUNNEL_MTU: u16 = 1380;

fn decode_hex(text: &str) -> Vec<u8> {
    assert!(text.len().is_multiple_of(2), "odd hex length: {text}");
    (0..text.len())
        .step_by(2)
        .map(|i| {
            text.get(i..i + 2)
                .and_then(|pair| u8::from_str_radix(pair, 16).ok())
                .unwrap_or_else(|| panic!("bad hex at {i}: {text}"))
        })
        .collect()
}

/// The hex after `marker` on each console line that starts with it.
fn captured(console: &str, marker: &str) -> Vec<Vec<u8>> {
    console
        .lines()
        .filter_map(|line| line.strip_prefix(marker))
        .map(|hex| decode_hex(hex.trim()))
        .collect()
}

fn address(bytes: &[u8]) -> Ipv4Addr {
    Ipv4Addr::new(bytes[0], bytes[1], bytes[2], bytes[3])
}

/// Runs the VM; returns the console text.
fn run_vm() -> String {
    let run = interop_tests::vm::run(Some(Path::new(BIN)), None);
    assert!(
        run.passed,
        "kernel IPIP VM test failed ({}):\n{}\n--- console ---\n{}",
        run.status, run.stderr, run.console
    );
    eprintln!("{}", run.stderr);
    run.console
}

#[test]
fn kernel_ipip_in_a_vm_pings_and_matches_the_userspace_encapsulation() {
    let console = run_vm();
    for line in console.lines().filter(|line| line.starts_with("TERN-VM")) {
        eprintln!("{line}");
    }
    assert!(console.lines().any(|line| line == "TERN-VM-PASS"));
    for ns in ["A", "B"] {
        assert!(
            console.contains(&format!("TERN-VM: {ns}: READY mode=Kernel device=tunl0")),
            "{ns} did not run in kernel mode"
        );
    }
    assert!(console.contains("3 packets transmitted, 3 received, 0% packet loss"));

    let packets = captured(&console, "TERN-VM-PACKET ");
    assert_eq!(packets.len(), 2, "expected the echo request and its reply");

    for (n, captured) in packets.iter().enumerate() {
        assert!(captured.len() > 40, "packet {n} too short: {captured:02x?}");
        let inner = &captured[20..];
        let (local, remote) = if address(&inner[12..16]) == A_POD {
            (A_NODE, B_NODE)
        } else {
            (B_NODE, A_NODE)
        };
        let ident = u16::from_be_bytes([captured[4], captured[5]]);
        let mut built = Vec::new();
        ipip::wire::encapsulate(&TunnelParams::TERN, inner, local, remote, ident, &mut built)
            .expect("encapsulate the captured inner packet");
        assert_eq!(
            &built, captured,
            "packet {n}: tern's encapsulation differs from the kernel's\n built {built:02x?}\n \
             kernel {captured:02x?}"
        );
        eprintln!(
            "packet {n}: kernel outer header {:02x?} == ipip::wire::encapsulate (ident {ident:#06x} \
             from the capture)",
            &captured[..20]
        );
    }

    let request = &packets[0];
    assert_eq!(
        address(&request[12..16]),
        A_NODE,
        "request from A's underlay"
    );
    assert_eq!(request[9], 4, "outer protocol IPIP");
    assert_eq!(request[8], 17, "ttl inherit: outer TTL = inner TTL 17");
    assert_eq!(request[21] & 0x03, 0x03, "inner ECN is CE");
    assert_eq!(
        request[1], 0x02,
        "tos 0: outer DSCP 0, ECN CE -> ECT(0) (RFC 6040)"
    );
    assert_eq!(request[6] & 0x40, 0x40, "pmtudisc: outer DF");
    let reply = &packets[1];
    assert_eq!(reply[26] & 0x40, 0, "the reply's inner packet has no DF");
    assert_eq!(
        reply[6] & 0x40,
        0x40,
        "pmtudisc: outer DF even without inner DF"
    );

    let errors = captured(&console, "TERN-VM-ICMP ");
    assert_eq!(errors.len(), 1, "expected one ICMP fragmentation-needed");
    check_frag_needed(&errors[0]);
}

/// The kernel's ICMP error (IP header included) against tern's rules for the same original.
fn check_frag_needed(packet: &[u8]) {
    assert!(packet.len() > 48, "ICMP error too short: {packet:02x?}");
    assert_eq!(packet[0], 0x45);
    assert_eq!(
        packet[1], 0xc0,
        "TOS: precedence internetwork control (0xc0)"
    );
    assert_eq!(packet[9], 1, "protocol ICMP");
    assert_eq!(address(&packet[16..20]), P_POD, "sent back to the pod");
    let message = &packet[20..];
    let parsed = FragNeededRepr::parse(message).expect("type 3 code 4 with a good checksum");
    assert_eq!(parsed.next_hop_mtu, LOWERED_TUNNEL_MTU);
    // Rebuild the original at its full length (the bytes past the quote do not matter: at
    // most 548 are quoted) and let tern's rules quote it.
    let original_len = usize::from(u16::from_be_bytes([parsed.original[2], parsed.original[3]]));
    assert_eq!(original_len, 1480, "the pod sent 1452 bytes of ICMP data");
    let mut original = parsed.original.to_vec();
    original.resize(original_len, 0);
    let built = FragNeededRepr::about(&original, LOWERED_TUNNEL_MTU)
        .expect("an error may be sent about this packet")
        .to_bytes();
    assert_eq!(
        built,
        message,
        "tern's fragmentation-needed differs from the kernel's ({} vs {} bytes)",
        built.len(),
        message.len()
    );
    eprintln!(
        "ICMP frag needed: kernel == FragNeededRepr::about (MTU {LOWERED_TUNNEL_MTU}, {} bytes \
         quoted, quoted TTL {}, IP TOS {:#04x}, TTL {}, from {})",
        parsed.original.len(),
        parsed.original[8],
        packet[1],
        packet[8],
        address(&packet[12..16])
    );
}
