//! A 4-octet AS (4200000001) towards a router without the 4-octet AS capability (RFC 6793
//! §4.2.2): tern's OPEN carries My AS = AS_TRANS (23456) and the real AS in the capability;
//! its UPDATEs carry AS_PATH [23456] (2-octet encoding) and AS4_PATH [4200000001].
//!
//! The router is ExaBGP (`capability { asn4 disable; }`), told tern's AS is 23456. Its own view of the route is checked, and a capture on tern's host
//! decoded by tshark (forced to 2-octet AS_PATH decoding) shows the attributes as sent on the
//! wire.

mod tern_common;

use std::time::Duration;

use interop_tests::Host;
use interop_tests::peers::PeerKind;
use interop_tests::process::Process;
use interop_tests::wait_until;
use tern_common::{Ipv6, PEER_AS, PEER_V4, Setup, TERN_V4, addr, peer_v4_prefix, tern_v4_prefix};

const TERN_AS4: u32 = 4_200_000_001;
const AS_TRANS: u32 = 23_456;

fn start_capture(host: &Host) -> Process {
    let pcap = host.dir().join("bgp.pcap");
    let process = host
        .spawn(
            "tcpdump",
            "tcpdump",
            &[
                "-i",
                "any",
                "-U",
                "--immediate-mode",
                "-n",
                "-w",
                &pcap.to_string_lossy(),
                "tcp port 179",
            ],
        )
        .expect("start tcpdump");
    wait_until("tcpdump to listen", Duration::from_secs(10), || {
        process.check_running()?;
        let stderr = std::fs::read_to_string(process.stderr_path()).unwrap_or_default();
        Ok::<_, interop_tests::Error>(stderr.contains("listening on").then_some(()))
    })
    .unwrap_or_else(|e| panic!("{e}\n{}", process.log_tail(20)));
    process
}

/// Rows of `tshark -r PCAP -Y FILTER -T fields -e F…` (tab-separated), decoded with 2-octet
/// AS_PATH (the session's negotiated size).
fn tshark(host: &Host, filter: &str, fields: &[&str]) -> Vec<Vec<String>> {
    let pcap = host.dir().join("bgp.pcap");
    let pcap = pcap.to_string_lossy();
    let mut args = vec![
        "-r",
        &pcap,
        "-o",
        "bgp.asn_len:2",
        "-Y",
        filter,
        "-T",
        "fields",
    ];
    for field in fields {
        args.extend(["-e", field]);
    }
    let output = host
        .exec("tshark", &args)
        .unwrap_or_else(|e| panic!("tshark: {e}"));
    output
        .stdout
        .lines()
        .map(|line| line.split('\t').map(str::to_string).collect())
        .collect()
}

fn four_octet_as(kind: PeerKind) {
    let mut setup = Setup::new(kind, TERN_AS4, PEER_AS);
    setup.ipv6 = Ipv6::None;
    // An OLD speaker knows tern as AS_TRANS.
    setup.tern_as_seen_by_peer = Some(AS_TRANS);
    setup.peer_neighbor = |neighbor| neighbor.disable_four_octet_as();
    let mut capture = None;
    let pair = tern_common::pair_with(&setup, |host| capture = Some(start_capture(host)));
    let capture = capture.expect("capture started");
    pair.wait_sessions(false);

    // ExaBGP 4.2 merges AS4_PATH into the AS path on receipt (RFC 6793 §4.2.3), so
    // its view shows the real AS; the wire encoding is checked on the capture below.
    let route = pair.peer_route(tern_v4_prefix());
    println!("{kind:?}'s view of {}: {route:?}", tern_v4_prefix());
    assert_eq!(
        route.as_path,
        vec![TERN_AS4],
        "{kind:?}'s AS path: {route:?}"
    );
    assert_eq!(route.next_hop, addr(TERN_V4));
    // tern learned the router's route with the 2-octet path read right.
    pair.assert_tern_has_peer_route(peer_v4_prefix(), addr(PEER_V4));

    let update_filter = format!("bgp.type == 2 && ip.src == {TERN_V4} && bgp.nlri_prefix");
    let captured = wait_until(
        "the capture to hold tern's UPDATE",
        Duration::from_secs(10),
        || {
            Ok::<_, String>(
                (!tshark(&pair.tern_host, &update_filter, &["bgp.type"]).is_empty()).then_some(()),
            )
        },
    );
    pair.check(captured);
    pair.check(capture.terminate(Duration::from_secs(5)));
    let opens = tshark(
        &pair.tern_host,
        &format!("bgp.type == 1 && ip.src == {TERN_V4}"),
        &["bgp.open.myas", "bgp.cap.4as"],
    );
    println!("tern's OPENs (My AS, 4-octet AS capability): {opens:?}");
    assert!(!opens.is_empty(), "no OPEN from tern captured");
    for open in &opens {
        assert_eq!(
            open.first().map(String::as_str),
            Some("23456"),
            "My AS in {open:?}"
        );
        assert_eq!(
            open.get(1).map(String::as_str),
            Some("4200000001"),
            "4-octet AS capability in {open:?}"
        );
    }
    // Path attribute type codes, AS_PATH members (2-octet) and AS4_PATH members (4-octet) of
    // tern's UPDATEs that carry NLRI.
    let updates = tshark(
        &pair.tern_host,
        &update_filter,
        &[
            "bgp.update.path_attribute.type_code",
            "bgp.update.path_attribute.as_path_segment.as2",
            "bgp.update.path_attribute.as_path_segment.as4",
        ],
    );
    println!("tern's UPDATEs (attribute types, AS_PATH as2, AS4_PATH as4): {updates:?}");
    assert!(
        !updates.is_empty(),
        "no UPDATE with NLRI from tern captured"
    );
    for update in &updates {
        let types: Vec<&str> = update[0].split(',').collect();
        assert!(types.contains(&"2"), "AS_PATH missing: {update:?}");
        assert!(types.contains(&"17"), "AS4_PATH missing: {update:?}");
        assert_eq!(
            update.get(1).map(String::as_str),
            Some("23456"),
            "AS_PATH in {update:?}"
        );
        assert_eq!(
            update.get(2).map(String::as_str),
            Some("4200000001"),
            "AS4_PATH in {update:?}"
        );
    }
}

#[test]
fn tern_four_octet_as_towards_two_octet_exabgp() {
    four_octet_as(PeerKind::ExaBgp);
}

// Not BIRD: with `enable as4 off` BIRD 2 still checks the neighbor AS against the AS in the
// received 4-octet AS capability (OPEN from tern refused with Bad Peer AS when configured as
// 23456), yet refuses a 4-octet neighbor AS in its configuration ("Neighbor AS number out of
// range (AS4 not available)"), so it cannot be a 2-octet peer of a 4-octet speaker at all.
