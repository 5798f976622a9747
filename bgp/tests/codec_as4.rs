//! UPDATE fixtures for 2-octet AS peers (RFC 6793): AS_TRANS in AS_PATH and AGGREGATOR,
//! AS4_PATH / AS4_AGGREGATOR on encode, and the merge rules of §4.2.3 on decode.

mod common;

use std::net::Ipv4Addr;

use bgp::packet::{
    Aggregator, AsPath, AsSegment, CodecContext, Message, Origin, PathAttributes, Update,
};
use common::{assert_both_ways, frame, hex, update_body};
use ipnetwork::Ipv4Network;

const FOUR: CodecContext = CodecContext::FOUR_OCTET_AS;
const TWO: CodecContext = CodecContext::TWO_OCTET_AS;

fn v4(a: u8, b: u8, c: u8, d: u8, len: u8) -> Ipv4Network {
    Ipv4Network::new(Ipv4Addr::new(a, b, c, d), len).unwrap()
}

fn update_frame(withdrawn: &str, attributes: &str, nlri: &str) -> Vec<u8> {
    frame(
        2,
        &update_body(&hex(withdrawn), &hex(attributes), &hex(nlri)),
    )
}

// ---- 2-octet AS peers (RFC 6793) ---------------------------------------------------------

#[test]
fn two_octet_peer_gets_as_trans_and_as4_attributes() {
    let bytes = update_frame(
        "",
        "40 01 01 00
         40 02 08 02 03 fde9 5ba0 fdea                       # AS_PATH 65001 AS_TRANS 65002
         40 03 04 c6120001
         c0 07 06 5ba0 c6120001                              # AGGREGATOR AS_TRANS
         c0 11 0e 02 03 0000fde9 fa56ea00 0000fdea           # AS4_PATH 65001 4200000000 65002
         c0 12 08 fa56ea00 c6120001                          # AS4_AGGREGATOR 4200000000",
        "18 c63364",
    );
    let update = Update {
        attributes: PathAttributes {
            origin: Some(Origin::Igp),
            as_path: Some(AsPath::from_sequence(vec![65001, 4_200_000_000, 65002])),
            next_hop: Some(Ipv4Addr::new(198, 18, 0, 1)),
            aggregator: Some(Aggregator {
                asn: 4_200_000_000,
                address: Ipv4Addr::new(198, 18, 0, 1),
            }),
            ..Default::default()
        },
        nlri: vec![v4(198, 51, 100, 0, 24)],
        ..Update::default()
    };
    assert_both_ways(&bytes, &Message::Update(update.clone()), &TWO);
    // The same UPDATE to a 4-octet peer has no AS4 attributes at all.
    let four = Message::Update(update).to_bytes(&FOUR).unwrap();
    assert!(
        !four.windows(2).any(|w| w == [0xc0, 0x11]),
        "no AS4_PATH between NEW speakers"
    );
}

#[test]
fn two_octet_path_without_large_asns_has_no_as4_path() {
    let bytes = update_frame("", "40 02 06 02 02 fde9 fdea", "");
    let expected = PathAttributes {
        as_path: Some(AsPath::from_sequence(vec![65001, 65002])),
        ..Default::default()
    };
    assert_both_ways(
        &bytes,
        &Message::Update(Update {
            attributes: expected,
            ..Update::default()
        }),
        &TWO,
    );
}

#[test]
fn as4_path_merge_keeps_ases_prepended_by_old_speakers() {
    // An OLD speaker (65010) prepended itself after the AS4_PATH was built: AS_PATH has one AS
    // more than AS4_PATH, so that leading AS is kept (RFC 6793 §4.2.3).
    let bytes = update_frame(
        "",
        "40 02 0a 02 04 fdf2 fde9 5ba0 fdea
         c0 11 0e 02 03 0000fde9 fa56ea00 0000fdea",
        "",
    );
    let Message::Update(update) = Message::decode(&bytes, &TWO).unwrap() else {
        panic!()
    };
    assert_eq!(
        update.attributes.as_path,
        Some(AsPath {
            segments: vec![
                AsSegment::sequence(vec![65010]),
                AsSegment::sequence(vec![65001, 4_200_000_000, 65002]),
            ]
        })
    );
    assert_eq!(update.attributes.as_path.unwrap().path_length(), 4);
}

#[test]
fn as4_path_longer_than_as_path_is_ignored() {
    let bytes = update_frame(
        "",
        "40 02 04 02 01 fde9
         c0 11 0a 02 02 0000fde9 fa56ea00",
        "",
    );
    let Message::Update(update) = Message::decode(&bytes, &TWO).unwrap() else {
        panic!()
    };
    assert_eq!(
        update.attributes.as_path,
        Some(AsPath::from_sequence(vec![65001]))
    );
}

#[test]
fn as4_attributes_ignored_when_aggregator_is_not_as_trans() {
    // AGGREGATOR from an OLD speaker that is not AS_TRANS: AS4_AGGREGATOR and AS4_PATH are
    // ignored (RFC 6793 §4.2.3).
    let bytes = update_frame(
        "",
        "40 02 06 02 02 fde9 5ba0
         c0 07 06 fdea c6120001
         c0 11 0a 02 02 0000fde9 fa56ea00
         c0 12 08 fa56ea00 c6120001",
        "",
    );
    let Message::Update(update) = Message::decode(&bytes, &TWO).unwrap() else {
        panic!()
    };
    assert_eq!(
        update.attributes.as_path,
        Some(AsPath::from_sequence(vec![65001, 23456]))
    );
    assert_eq!(update.attributes.aggregator.map(|a| a.asn), Some(65002));
}

#[test]
fn long_as_sequence_is_split_into_255_as_segments() {
    let asns: Vec<u32> = (1..=300).collect();
    let update = Update {
        attributes: PathAttributes {
            as_path: Some(AsPath::from_sequence(asns.clone())),
            ..Default::default()
        },
        ..Update::default()
    };
    let bytes = Message::Update(update).to_bytes(&FOUR).unwrap();
    let Message::Update(decoded) = Message::decode(&bytes, &FOUR).unwrap() else {
        panic!()
    };
    let path = decoded.attributes.as_path.unwrap();
    assert_eq!(path.segments.len(), 2);
    assert_eq!(path.segments[0].asns.len(), 255);
    assert_eq!(path.asns().collect::<Vec<_>>(), asns);
}
