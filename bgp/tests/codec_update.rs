//! UPDATE fixtures: every path attribute on its own and together, MP-BGP (IPv6, RFC 8950),
//! End-of-RIB, extended length and unknown attributes (2-octet AS peers: `codec_as4.rs`).
//! Every fixture is tested both ways.

mod common;

use std::net::Ipv4Addr;

use bgp::packet::attribute::flags;
use bgp::packet::{
    Afi, Aggregator, AsPath, AsSegment, AsSegmentType, CodecContext, Community, ExtendedCommunity,
    LargeCommunity, Message, MpReach, MpUnreach, NextHop, Origin, PathAttributes, RawAttribute,
    Safi, Update,
};
use bytes::Bytes;
use common::{assert_both_ways, frame, hex, update_body};
use ipnetwork::{IpNetwork, Ipv4Network, Ipv6Network};

const FOUR: CodecContext = CodecContext::FOUR_OCTET_AS;
const TWO: CodecContext = CodecContext::TWO_OCTET_AS;

fn v4(a: u8, b: u8, c: u8, d: u8, len: u8) -> Ipv4Network {
    Ipv4Network::new(Ipv4Addr::new(a, b, c, d), len).unwrap()
}

fn v6(text: &str, len: u8) -> IpNetwork {
    IpNetwork::V6(Ipv6Network::new(text.parse().unwrap(), len).unwrap())
}

fn update_frame(withdrawn: &str, attributes: &str, nlri: &str) -> Vec<u8> {
    frame(
        2,
        &update_body(&hex(withdrawn), &hex(attributes), &hex(nlri)),
    )
}

/// One attribute alone in an UPDATE without NLRI (so no attribute is mandatory).
fn check_attribute(ctx: &CodecContext, attribute: &str, expected: PathAttributes) {
    let bytes = update_frame("", attribute, "");
    let update = Update {
        attributes: expected,
        ..Update::default()
    };
    assert_both_ways(&bytes, &Message::Update(update), ctx);
}

#[test]
fn origin_both_ways() {
    for (value, origin) in [
        ("00", Origin::Igp),
        ("01", Origin::Egp),
        ("02", Origin::Incomplete),
    ] {
        let expected = PathAttributes {
            origin: Some(origin),
            ..Default::default()
        };
        check_attribute(&FOUR, &format!("40 01 01 {value}"), expected);
    }
}

#[test]
fn as_path_four_octet_both_ways() {
    let expected = PathAttributes {
        as_path: Some(AsPath {
            segments: vec![
                AsSegment::sequence(vec![65001, 65002, 4_200_000_000]),
                AsSegment::set(vec![65010, 65011]),
            ],
        }),
        ..Default::default()
    };
    check_attribute(
        &FOUR,
        "40 02 18
         02 03 0000fde9 0000fdea fa56ea00   # AS_SEQUENCE 65001 65002 4200000000
         01 02 0000fdf2 0000fdf3            # AS_SET {65010 65011}",
        expected,
    );
}

#[test]
fn as_path_confederation_segments_both_ways() {
    let expected = PathAttributes {
        as_path: Some(AsPath {
            segments: vec![
                AsSegment {
                    kind: AsSegmentType::ConfedSequence,
                    asns: vec![64512, 64513],
                },
                AsSegment {
                    kind: AsSegmentType::ConfedSet,
                    asns: vec![64514],
                },
                AsSegment::sequence(vec![65001]),
            ],
        }),
        ..Default::default()
    };
    check_attribute(
        &FOUR,
        "40 02 16
         03 02 0000fc00 0000fc01   # AS_CONFED_SEQUENCE
         04 01 0000fc02            # AS_CONFED_SET
         02 01 0000fde9            # AS_SEQUENCE",
        expected,
    );
}

#[test]
fn empty_as_path_both_ways() {
    let expected = PathAttributes {
        as_path: Some(AsPath::default()),
        ..Default::default()
    };
    check_attribute(&FOUR, "40 02 00", expected);
}

#[test]
fn next_hop_med_local_pref_both_ways() {
    check_attribute(
        &FOUR,
        "40 03 04 c6120001",
        PathAttributes {
            next_hop: Some(Ipv4Addr::new(198, 18, 0, 1)),
            ..Default::default()
        },
    );
    check_attribute(
        &FOUR,
        "80 04 04 00000064",
        PathAttributes {
            med: Some(100),
            ..Default::default()
        },
    );
    check_attribute(
        &FOUR,
        "40 05 04 000000c8",
        PathAttributes {
            local_pref: Some(200),
            ..Default::default()
        },
    );
}

#[test]
fn atomic_aggregate_and_aggregator_both_ways() {
    check_attribute(
        &FOUR,
        "40 06 00",
        PathAttributes {
            atomic_aggregate: true,
            ..Default::default()
        },
    );
    let aggregator = Aggregator {
        asn: 4_200_000_000,
        address: Ipv4Addr::new(198, 18, 0, 1),
    };
    check_attribute(
        &FOUR,
        "c0 07 08 fa56ea00 c6120001",
        PathAttributes {
            aggregator: Some(aggregator),
            ..Default::default()
        },
    );
    let aggregator = Aggregator {
        asn: 65001,
        address: Ipv4Addr::new(198, 18, 0, 1),
    };
    check_attribute(
        &TWO,
        "c0 07 06 fde9 c6120001",
        PathAttributes {
            aggregator: Some(aggregator),
            ..Default::default()
        },
    );
}

#[test]
fn communities_both_ways() {
    let expected = PathAttributes {
        communities: vec![Community::new(65001, 100), Community::NO_EXPORT],
        ..Default::default()
    };
    check_attribute(&FOUR, "c0 08 08 fde90064 ffffff01", expected);
}

#[test]
fn route_reflection_attributes_both_ways() {
    check_attribute(
        &FOUR,
        "80 09 04 c6120002",
        PathAttributes {
            originator_id: Some(Ipv4Addr::new(198, 18, 0, 2)),
            ..Default::default()
        },
    );
    check_attribute(
        &FOUR,
        "80 0a 08 c6120003 c6120004",
        PathAttributes {
            cluster_list: vec![Ipv4Addr::new(198, 18, 0, 3), Ipv4Addr::new(198, 18, 0, 4)],
            ..Default::default()
        },
    );
}

#[test]
fn extended_and_large_communities_both_ways() {
    let expected = PathAttributes {
        extended_communities: vec![ExtendedCommunity::route_target(65001, 100)],
        ..Default::default()
    };
    check_attribute(&FOUR, "c0 10 08 0002 fde9 00000064", expected);
    let expected = PathAttributes {
        large_communities: vec![
            LargeCommunity::new(65001, 1, 2),
            LargeCommunity::new(4_200_000_000, 3, 4),
        ],
        ..Default::default()
    };
    check_attribute(
        &FOUR,
        "c0 20 18 0000fde9 00000001 00000002 fa56ea00 00000003 00000004",
        expected,
    );
}

#[test]
fn unknown_optional_attributes_kept_and_passed_on_correctly() {
    let transitive = RawAttribute {
        flags: 0xc0,
        type_code: 99,
        value: Bytes::from_static(&[0xab, 0xcd]),
    };
    let non_transitive = RawAttribute {
        flags: 0x80,
        type_code: 100,
        value: Bytes::from_static(&[1]),
    };
    let expected = PathAttributes {
        unknown: vec![transitive.clone(), non_transitive.clone()],
        ..Default::default()
    };
    check_attribute(&FOUR, "c0 63 02 abcd  80 64 01 01", expected.clone());

    // RFC 4271 §5: transitive ones go on with the Partial bit, non-transitive ones stop here.
    let passed: Vec<RawAttribute> = expected.unknown_to_pass_on().collect();
    assert_eq!(
        passed,
        vec![RawAttribute {
            flags: 0xe0,
            ..transitive
        }]
    );
    let readvertised = expected.for_readvertisement();
    let bytes = update_frame("", "e0 63 02 abcd", "");
    let update = Update {
        attributes: readvertised,
        ..Update::default()
    };
    assert_both_ways(&bytes, &Message::Update(update), &FOUR);
}

#[test]
fn extended_length_used_above_255_bytes() {
    let communities: Vec<Community> = (0..70).map(|i| Community::new(65001, i)).collect();
    let mut attribute = hex("d0 08 0118");
    for community in &communities {
        attribute.extend_from_slice(&community.0.to_be_bytes());
    }
    let bytes = frame(2, &update_body(&[], &attribute, &[]));
    let update = Update {
        attributes: PathAttributes {
            communities,
            ..Default::default()
        },
        ..Update::default()
    };
    assert_both_ways(&bytes, &Message::Update(update), &FOUR);
}

#[test]
fn extended_length_flag_accepted_on_short_values() {
    // A sender may set the E bit on a short value; tern decodes it and sends the 1-byte form.
    let bytes = update_frame("", "50 01 0001 00", "");
    let Message::Update(update) = Message::decode(&bytes, &FOUR).unwrap() else {
        panic!()
    };
    assert_eq!(update.attributes.origin, Some(Origin::Igp));
    assert!(update.errors.is_empty());
}

fn full_attributes() -> PathAttributes {
    PathAttributes {
        origin: Some(Origin::Igp),
        as_path: Some(AsPath::from_sequence(vec![65001, 65002, 65536])),
        next_hop: Some(Ipv4Addr::new(198, 18, 0, 1)),
        med: Some(100),
        local_pref: Some(200),
        atomic_aggregate: true,
        aggregator: Some(Aggregator {
            asn: 65001,
            address: Ipv4Addr::new(198, 18, 0, 1),
        }),
        communities: vec![Community::new(65001, 100), Community::NO_EXPORT],
        originator_id: Some(Ipv4Addr::new(198, 18, 0, 2)),
        cluster_list: vec![Ipv4Addr::new(198, 18, 0, 3)],
        extended_communities: vec![ExtendedCommunity::route_target(65001, 100)],
        large_communities: vec![LargeCommunity::new(65001, 1, 2)],
        unknown: vec![RawAttribute {
            flags: 0xc0,
            type_code: 99,
            value: Bytes::from_static(&[0xab, 0xcd]),
        }],
    }
}

const FULL_ATTRIBUTES: &str = "
    40 01 01 00                                   # ORIGIN IGP
    40 02 0e 02 03 0000fde9 0000fdea 00010000     # AS_PATH 65001 65002 65536
    40 03 04 c6120001                             # NEXT_HOP 198.18.0.1
    80 04 04 00000064                             # MED 100
    40 05 04 000000c8                             # LOCAL_PREF 200
    40 06 00                                      # ATOMIC_AGGREGATE
    c0 07 08 0000fde9 c6120001                    # AGGREGATOR 65001 198.18.0.1
    c0 08 08 fde90064 ffffff01                    # COMMUNITIES 65001:100 NO_EXPORT
    80 09 04 c6120002                             # ORIGINATOR_ID
    80 0a 04 c6120003                             # CLUSTER_LIST
    c0 10 08 0002fde900000064                     # EXTENDED COMMUNITIES rt 65001:100
    c0 20 0c 0000fde9 00000001 00000002           # LARGE_COMMUNITY 65001:1:2
    c0 63 02 abcd                                 # unknown optional transitive 99
";

#[test]
fn ipv4_update_with_every_attribute_both_ways() {
    let bytes = update_frame(
        "10 c612                # withdrawn 198.18.0.0/16",
        FULL_ATTRIBUTES,
        "18 c63364   19 cb007180   # 198.51.100.0/24 203.0.113.128/25",
    );
    let update = Update {
        withdrawn: vec![v4(198, 18, 0, 0, 16)],
        attributes: full_attributes(),
        nlri: vec![v4(198, 51, 100, 0, 24), v4(203, 0, 113, 128, 25)],
        ..Update::default()
    };
    assert_both_ways(&bytes, &Message::Update(update.clone()), &FOUR);
    assert!(!update.treat_as_withdraw());
    assert_eq!(update.announced().count(), 2);
}

#[test]
fn withdraw_only_update_both_ways() {
    let bytes = update_frame("20 c6120001  00", "", "");
    let update = Update {
        withdrawn: vec![v4(198, 18, 0, 1, 32), v4(0, 0, 0, 0, 0)],
        ..Update::default()
    };
    assert_both_ways(&bytes, &Message::Update(update), &FOUR);
}

#[test]
fn host_bits_are_cleared_on_decode() {
    // 198.51.100.77/24 on the wire carries only 3 bytes; /25 with a stray bit in the last byte.
    let bytes = update_frame("19 cb0071ff", "", "");
    let Message::Update(update) = Message::decode(&bytes, &FOUR).unwrap() else {
        panic!()
    };
    assert_eq!(update.withdrawn, vec![v4(203, 0, 113, 128, 25)]);
    // And an address with host bits set is sent masked.
    let update = Update {
        withdrawn: vec![v4(203, 0, 113, 200, 25)],
        ..Update::default()
    };
    let encoded = Message::Update(update).to_bytes(&FOUR).unwrap();
    assert_eq!(
        encoded.as_ref(),
        update_frame("19 cb007180", "", "").as_slice()
    );
}

#[test]
fn ipv6_mp_reach_with_link_local_next_hop_both_ways() {
    let bytes = update_frame(
        "",
        "80 0e 2c 0002 01                           # MP_REACH_NLRI IPv6 unicast
             20 20010db8000000000000000000000001    # next hop 2001:db8::1
                fe800000000000000000000000000001    # link-local fe80::1
             00                                     # reserved
             30 20010db80001                        # 2001:db8:1::/48
         40 01 01 00
         40 02 06 02 01 0000fde9",
        "",
    );
    let update = Update {
        attributes: PathAttributes {
            origin: Some(Origin::Igp),
            as_path: Some(AsPath::from_sequence(vec![65001])),
            ..Default::default()
        },
        mp_reach: Some(MpReach {
            afi: Afi::Ipv6,
            safi: Safi::Unicast,
            next_hop: NextHop::Ipv6 {
                global: "2001:db8::1".parse().unwrap(),
                link_local: Some("fe80::1".parse().unwrap()),
            },
            nlri: vec![v6("2001:db8:1::", 48)],
        }),
        ..Update::default()
    };
    assert_both_ways(&bytes, &Message::Update(update), &FOUR);
}

#[test]
fn ipv6_mp_reach_global_next_hop_only_both_ways() {
    let bytes = update_frame(
        "",
        "80 0e 1e 0002 01 10 20010db8000000000000000000000001 00 40 20010db800020000
         40 01 01 02
         40 02 00",
        "",
    );
    let update = Update {
        attributes: PathAttributes {
            origin: Some(Origin::Incomplete),
            as_path: Some(AsPath::default()),
            ..Default::default()
        },
        mp_reach: Some(MpReach {
            afi: Afi::Ipv6,
            safi: Safi::Unicast,
            next_hop: NextHop::Ipv6 {
                global: "2001:db8::1".parse().unwrap(),
                link_local: None,
            },
            nlri: vec![v6("2001:db8:2::", 64)],
        }),
        ..Update::default()
    };
    assert_both_ways(&bytes, &Message::Update(update), &FOUR);
}

#[test]
fn ipv4_nlri_with_ipv6_next_hop_rfc8950_both_ways() {
    let bytes = update_frame(
        "",
        "80 0e 19 0001 01 10 20010db8000000000000000000000001 00 18 c63364
         40 01 01 00
         40 02 06 02 01 0000fde9",
        "",
    );
    let update = Update {
        attributes: PathAttributes {
            origin: Some(Origin::Igp),
            as_path: Some(AsPath::from_sequence(vec![65001])),
            ..Default::default()
        },
        mp_reach: Some(MpReach {
            afi: Afi::Ipv4,
            safi: Safi::Unicast,
            next_hop: NextHop::Ipv6 {
                global: "2001:db8::1".parse().unwrap(),
                link_local: None,
            },
            nlri: vec![IpNetwork::V4(v4(198, 51, 100, 0, 24))],
        }),
        ..Update::default()
    };
    assert_both_ways(&bytes, &Message::Update(update), &FOUR);
}

#[test]
fn ipv6_mp_unreach_both_ways() {
    let bytes = update_frame("", "80 0f 0a 0002 01 30 20010db80001", "");
    let update = Update {
        mp_unreach: Some(MpUnreach {
            afi: Afi::Ipv6,
            safi: Safi::Unicast,
            withdrawn: vec![v6("2001:db8:1::", 48)],
        }),
        ..Update::default()
    };
    assert_both_ways(&bytes, &Message::Update(update.clone()), &FOUR);
    assert_eq!(
        update.withdrawn_prefixes().collect::<Vec<_>>(),
        vec![v6("2001:db8:1::", 48)]
    );
    assert!(!update.is_end_of_rib());
}

#[test]
fn mp_attributes_of_other_families_are_kept_raw() {
    // AFI 1 / SAFI 128 (VPN): not decoded, kept as an unknown attribute, not passed on.
    let bytes = update_frame("", "80 0f 03 0001 80", "");
    let update = Update {
        attributes: PathAttributes {
            unknown: vec![RawAttribute {
                flags: flags::OPTIONAL,
                type_code: 15,
                value: Bytes::from_static(&[0, 1, 0x80]),
            }],
            ..Default::default()
        },
        ..Update::default()
    };
    assert_both_ways(&bytes, &Message::Update(update.clone()), &FOUR);
    assert_eq!(update.attributes.unknown_to_pass_on().count(), 0);
}

#[test]
fn end_of_rib_markers_both_ways() {
    let ipv4 = Update::end_of_rib(Afi::Ipv4, Safi::Unicast);
    assert_both_ways(
        &update_frame("", "", ""),
        &Message::Update(ipv4.clone()),
        &FOUR,
    );
    assert_eq!(ipv4.end_of_rib_family(), Some((Afi::Ipv4, Safi::Unicast)));

    let ipv6 = Update::end_of_rib(Afi::Ipv6, Safi::Unicast);
    assert_both_ways(
        &update_frame("", "80 0f 03 0002 01", ""),
        &Message::Update(ipv6.clone()),
        &FOUR,
    );
    assert_eq!(ipv6.end_of_rib_family(), Some((Afi::Ipv6, Safi::Unicast)));

    let not_eor = Update {
        withdrawn: vec![v4(198, 18, 0, 0, 15)],
        ..Update::default()
    };
    assert_eq!(not_eor.end_of_rib_family(), None);
    let with_attributes = Update {
        attributes: PathAttributes {
            origin: Some(Origin::Igp),
            ..Default::default()
        },
        ..Update::end_of_rib(Afi::Ipv6, Safi::Unicast)
    };
    assert!(!with_attributes.is_end_of_rib());
}
