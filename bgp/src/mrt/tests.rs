//! MRT reader tests on hand-built records.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnetwork::{IpNetwork, Ipv6Network};

use super::*;
use crate::packet::{AsPath, Origin};

fn record(mrt_type: u16, subtype: u16, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&1_546_300_800u32.to_be_bytes());
    out.extend_from_slice(&mrt_type.to_be_bytes());
    out.extend_from_slice(&subtype.to_be_bytes());
    out.extend_from_slice(&(body.len() as u32).to_be_bytes());
    out.extend_from_slice(body);
    out
}

const KEEPALIVE: [u8; 19] = [
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0x00, 0x13, 0x04,
];

fn message_as4_body() -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&4_200_000_000u32.to_be_bytes()); // peer AS
    body.extend_from_slice(&65001u32.to_be_bytes()); // local AS
    body.extend_from_slice(&[0, 0, 0, 1]); // interface 0, AFI IPv4
    body.extend_from_slice(&[198, 18, 0, 2, 198, 18, 0, 1]);
    body.extend_from_slice(&KEEPALIVE);
    body
}

fn read_all(bytes: &[u8]) -> Vec<Result<MrtRecord, MrtError>> {
    MrtReader::new(bytes).collect()
}

#[test]
fn bgp4mp_message_as4_yields_the_bgp_message() {
    let bytes = record(TYPE_BGP4MP, SUBTYPE_MESSAGE_AS4, &message_as4_body());
    let records = read_all(&bytes);
    assert_eq!(records.len(), 1);
    let Ok(MrtRecord::Message(message)) = &records[0] else {
        panic!("{records:?}")
    };
    assert_eq!(message.peer_as, 4_200_000_000);
    assert_eq!(message.local_as, 65001);
    assert_eq!(
        message.peer_address,
        IpAddr::V4(Ipv4Addr::new(198, 18, 0, 2))
    );
    assert!(message.four_octet_as);
    assert_eq!(message.header.microseconds, None);
    assert_eq!(message.decode(), Ok(Message::Keepalive));
}

#[test]
fn bgp4mp_et_message_with_two_octet_as_and_ipv6_peer() {
    let mut body = vec![0, 0, 0x0c, 0x35]; // microseconds 3125
    body.extend_from_slice(&[0xfd, 0xe9, 0xfd, 0xea, 0, 3, 0, 2]); // ASes, ifindex 3, AFI 2
    let peer: Ipv6Addr = "2001:db8::2".parse().unwrap();
    let local: Ipv6Addr = "2001:db8::1".parse().unwrap();
    body.extend_from_slice(&peer.octets());
    body.extend_from_slice(&local.octets());
    body.extend_from_slice(&KEEPALIVE);
    let records = read_all(&record(TYPE_BGP4MP_ET, SUBTYPE_MESSAGE, &body));
    let Ok(MrtRecord::Message(message)) = &records[0] else {
        panic!("{records:?}")
    };
    assert_eq!(message.header.microseconds, Some(3125));
    assert_eq!(
        (message.peer_as, message.local_as, message.interface_index),
        (65001, 65002, 3)
    );
    assert_eq!(message.peer_address, IpAddr::V6(peer));
    assert!(!message.four_octet_as);
    assert_eq!(message.context(), CodecContext::TWO_OCTET_AS);
}

#[test]
fn state_changes_and_unknown_types_are_skipped() {
    let mut bytes = record(TYPE_BGP4MP, 0, &[0; 16]); // STATE_CHANGE
    bytes.extend(record(TYPE_BGP4MP, 5, &[0; 20])); // STATE_CHANGE_AS4
    bytes.extend(record(12, 1, &[0; 8])); // TABLE_DUMP (v1)
    bytes.extend(record(
        TYPE_BGP4MP,
        SUBTYPE_MESSAGE_AS4,
        &message_as4_body(),
    ));
    let records = read_all(&bytes);
    assert_eq!(records.len(), 1);
    assert!(matches!(records[0], Ok(MrtRecord::Message(_))));
}

fn peer_index_body() -> Vec<u8> {
    let mut body = vec![198, 18, 0, 100, 0, 4];
    body.extend_from_slice(b"test");
    body.extend_from_slice(&[0, 2]);
    // Peer 0: IPv4 address, 2-octet AS.
    body.extend_from_slice(&[0x00, 198, 18, 0, 2, 198, 18, 0, 2, 0xfd, 0xe9]);
    // Peer 1: IPv6 address, 4-octet AS.
    body.push(0x03);
    body.extend_from_slice(&[198, 18, 0, 3]);
    body.extend_from_slice(&"2001:db8::3".parse::<Ipv6Addr>().unwrap().octets());
    body.extend_from_slice(&4_200_000_000u32.to_be_bytes());
    body
}

fn rib_ipv6_body() -> Vec<u8> {
    let mut body = vec![0, 0, 0, 7, 32, 0x20, 0x01, 0x0d, 0xb8, 0, 1]; // seq 7, 2001:db8::/32, 1 entry
    let mut attributes = vec![0x40, 1, 1, 0, 0x40, 2, 6, 2, 1];
    attributes.extend_from_slice(&4_200_000_000u32.to_be_bytes());
    // Abbreviated MP_REACH_NLRI: next hop length 16 and the next hop only.
    attributes.extend_from_slice(&[0x80, 14, 17, 16]);
    attributes.extend_from_slice(&"2001:db8::3".parse::<Ipv6Addr>().unwrap().octets());
    body.extend_from_slice(&[0, 1, 0x5c, 0x2a, 0xad, 0x80]); // peer 1, originated time
    body.extend_from_slice(&(attributes.len() as u16).to_be_bytes());
    body.extend_from_slice(&attributes);
    body
}

#[test]
fn table_dump_v2_rib_entries_name_their_peer() {
    let mut bytes = record(
        TYPE_TABLE_DUMP_V2,
        SUBTYPE_PEER_INDEX_TABLE,
        &peer_index_body(),
    );
    bytes.extend(record(
        TYPE_TABLE_DUMP_V2,
        SUBTYPE_RIB_IPV6_UNICAST,
        &rib_ipv6_body(),
    ));
    let records = read_all(&bytes);
    let Ok(MrtRecord::PeerIndexTable(table)) = &records[0] else {
        panic!("{records:?}")
    };
    assert_eq!(table.view_name, "test");
    assert_eq!(table.peers.len(), 2);
    assert_eq!(table.peers[0].asn, 65001);
    let Ok(MrtRecord::Rib(rib)) = &records[1] else {
        panic!("{records:?}")
    };
    assert_eq!(rib.sequence, 7);
    let prefix = IpNetwork::V6(Ipv6Network::new("2001:db8::".parse().unwrap(), 32).unwrap());
    let routes: Vec<_> = rib.routes().collect();
    assert_eq!(routes.len(), 1);
    let (peer, route_prefix, attributes) = routes[0];
    assert_eq!(peer.asn, 4_200_000_000);
    assert_eq!(route_prefix, prefix);
    assert_eq!(attributes.origin, Some(Origin::Igp));
    assert_eq!(
        attributes.as_path,
        Some(AsPath::from_sequence(vec![4_200_000_000]))
    );
    assert_eq!(
        rib.entries[0].mp_next_hop,
        Some(NextHop::Ipv6 {
            global: "2001:db8::3".parse().unwrap(),
            link_local: None
        })
    );
    assert!(rib.entries[0].errors.is_empty());
}

#[test]
fn rib_entry_without_peer_table_is_an_error() {
    let bytes = record(
        TYPE_TABLE_DUMP_V2,
        SUBTYPE_RIB_IPV6_UNICAST,
        &rib_ipv6_body(),
    );
    let records = read_all(&bytes);
    assert!(matches!(
        records[..],
        [Err(MrtError::UnknownPeer { peer_index: 1, .. })]
    ));
}

#[test]
fn truncated_last_record_is_a_clean_error() {
    let mut bytes = record(TYPE_BGP4MP, SUBTYPE_MESSAGE_AS4, &message_as4_body());
    let second = record(TYPE_BGP4MP, SUBTYPE_MESSAGE_AS4, &message_as4_body());
    let whole = bytes.len();
    bytes.extend_from_slice(&second[..second.len() - 5]);
    let records = read_all(&bytes);
    assert_eq!(records.len(), 2);
    assert!(records[0].is_ok());
    match &records[1] {
        Err(MrtError::Truncated {
            offset,
            needed,
            available,
        }) => {
            assert_eq!(*offset, whole as u64);
            assert_eq!(*needed, message_as4_body().len());
            assert_eq!(*available, message_as4_body().len() - 5);
        }
        other => panic!("{other:?}"),
    }
    // A header cut short.
    let records = read_all(&second[..7]);
    assert!(matches!(
        records[..],
        [Err(MrtError::Truncated {
            needed: 12,
            available: 7,
            ..
        })]
    ));
}

#[test]
fn malformed_body_is_reported_with_its_record_offset() {
    let mut bytes = record(TYPE_BGP4MP, SUBTYPE_MESSAGE_AS4, &message_as4_body());
    let mut bad = message_as4_body();
    bad[11] = 9; // AFI 9
    bytes.extend(record(TYPE_BGP4MP, SUBTYPE_MESSAGE_AS4, &bad));
    let records = read_all(&bytes);
    match &records[1] {
        Err(MrtError::Malformed {
            record_offset,
            error,
        }) => {
            assert_eq!(*record_offset, 12 + message_as4_body().len() as u64);
            assert_eq!(error.field, "BGP4MP address family");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn huge_length_does_not_allocate_up_front() {
    let mut bytes = record(TYPE_BGP4MP, SUBTYPE_MESSAGE_AS4, &[]);
    bytes[8..12].copy_from_slice(&u32::MAX.to_be_bytes());
    let records = read_all(&bytes);
    assert!(matches!(
        records[..],
        [Err(MrtError::Truncated { available: 0, .. })]
    ));
}
