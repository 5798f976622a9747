//! Property: any message tern can build encodes and decodes back to itself, under both codec
//! contexts (4-octet and 2-octet AS sessions).

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, Ipv6Addr};

use bgp::packet::capability::{Capability, GracefulRestart, GracefulRestartFamily};
use bgp::packet::{
    AS_TRANS, Afi, Aggregator, AsPath, AsSegment, AsSegmentType, CodecContext, Community,
    ExtendedCommunity, LargeCommunity, Message, MpReach, MpUnreach, NextHop, Notification,
    NotificationCode, Open, Origin, PathAttributes, RawAttribute, RouteRefresh, Safi, Update,
};
use bytes::Bytes;
use ipnetwork::{IpNetwork, Ipv4Network, Ipv6Network};
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;

fn asn() -> impl Strategy<Value = u32> {
    prop_oneof![1u32..65535, 65536u32..=u32::MAX, Just(4_200_000_000)]
        .prop_filter("AS_TRANS is only a stand-in", |asn| {
            *asn != u32::from(AS_TRANS)
        })
}

fn ipv4_prefix() -> impl Strategy<Value = Ipv4Network> {
    (any::<u32>(), 0u8..=32).prop_map(|(bits, len)| {
        let network = Ipv4Network::new(Ipv4Addr::from(bits), len).unwrap();
        Ipv4Network::new(network.network(), len).unwrap()
    })
}

fn ipv6_prefix() -> impl Strategy<Value = Ipv6Network> {
    (any::<u128>(), 0u8..=128).prop_map(|(bits, len)| {
        let network = Ipv6Network::new(Ipv6Addr::from(bits), len).unwrap();
        Ipv6Network::new(network.network(), len).unwrap()
    })
}

fn as_path() -> impl Strategy<Value = AsPath> {
    let confed = (
        prop_oneof![
            Just(AsSegmentType::ConfedSequence),
            Just(AsSegmentType::ConfedSet)
        ],
        vec(1u32..65535, 1..4),
    )
        .prop_map(|(kind, asns)| AsSegment { kind, asns });
    let normal = (
        prop_oneof![Just(AsSegmentType::Sequence), Just(AsSegmentType::Set)],
        vec(asn(), 1..12),
    )
        .prop_map(|(kind, asns)| AsSegment { kind, asns });
    // Confederation segments only ever lead the path (RFC 5065 §5.3).
    (vec(confed, 0..2), vec(normal, 0..4)).prop_map(|(mut segments, rest)| {
        segments.extend(rest);
        AsPath { segments }
    })
}

fn unknown_attributes() -> impl Strategy<Value = Vec<RawAttribute>> {
    // Optional (O bit), any T/P, type codes tern does not interpret, one of each.
    let code = prop_oneof![19u8..=31, 33u8..=127, 129u8..=254];
    proptest::collection::btree_map(
        code,
        (any::<bool>(), any::<bool>(), vec(any::<u8>(), 0..300)),
        0..3,
    )
    .prop_map(|map: BTreeMap<u8, (bool, bool, Vec<u8>)>| {
        map.into_iter()
            .map(|(type_code, (transitive, partial, value))| RawAttribute {
                flags: 0x80 | if transitive { 0x40 } else { 0 } | if partial { 0x20 } else { 0 },
                type_code,
                value: Bytes::from(value),
            })
            .collect()
    })
}

fn path_attributes() -> impl Strategy<Value = PathAttributes> {
    (
        (
            option::of(prop_oneof![
                Just(Origin::Igp),
                Just(Origin::Egp),
                Just(Origin::Incomplete)
            ]),
            option::of(as_path()),
            option::of(any::<u32>().prop_map(Ipv4Addr::from)),
            option::of(any::<u32>()),
            option::of(any::<u32>()),
            any::<bool>(),
            option::of((asn(), any::<u32>()).prop_map(|(asn, ip)| Aggregator {
                asn,
                address: Ipv4Addr::from(ip),
            })),
        ),
        (
            vec(any::<u32>().prop_map(Community), 0..5),
            option::of(any::<u32>().prop_map(Ipv4Addr::from)),
            vec(any::<u32>().prop_map(Ipv4Addr::from), 0..3),
            vec(any::<[u8; 8]>().prop_map(ExtendedCommunity), 0..3),
            vec(
                (any::<u32>(), any::<u32>(), any::<u32>())
                    .prop_map(|(a, b, c)| LargeCommunity::new(a, b, c)),
                0..3,
            ),
            unknown_attributes(),
        ),
    )
        .prop_map(
            |(
                (origin, as_path, next_hop, med, local_pref, atomic_aggregate, aggregator),
                (
                    communities,
                    originator_id,
                    cluster_list,
                    extended_communities,
                    large_communities,
                    unknown,
                ),
            )| PathAttributes {
                origin,
                as_path,
                next_hop,
                med,
                local_pref,
                atomic_aggregate,
                aggregator,
                communities,
                originator_id,
                cluster_list,
                extended_communities,
                large_communities,
                unknown,
            },
        )
}

fn safi() -> impl Strategy<Value = Safi> {
    prop_oneof![Just(Safi::Unicast), Just(Safi::Multicast)]
}

fn next_hop_v6() -> impl Strategy<Value = NextHop> {
    (any::<u128>(), option::of(any::<u128>())).prop_map(|(global, link_local)| NextHop::Ipv6 {
        global: Ipv6Addr::from(global),
        link_local: link_local.map(Ipv6Addr::from),
    })
}

fn mp_reach() -> impl Strategy<Value = MpReach> {
    let v4 = (
        safi(),
        prop_oneof![
            any::<u32>().prop_map(|a| NextHop::Ipv4(Ipv4Addr::from(a))),
            next_hop_v6()
        ],
        vec(ipv4_prefix(), 0..6),
    )
        .prop_map(|(safi, next_hop, nlri)| MpReach {
            afi: Afi::Ipv4,
            safi,
            next_hop,
            nlri: nlri.into_iter().map(IpNetwork::V4).collect(),
        });
    let v6 =
        (safi(), next_hop_v6(), vec(ipv6_prefix(), 0..6)).prop_map(|(safi, next_hop, nlri)| {
            MpReach {
                afi: Afi::Ipv6,
                safi,
                next_hop,
                nlri: nlri.into_iter().map(IpNetwork::V6).collect(),
            }
        });
    prop_oneof![v4, v6]
}

fn mp_unreach() -> impl Strategy<Value = MpUnreach> {
    let v4 = (safi(), vec(ipv4_prefix(), 0..6)).prop_map(|(safi, prefixes)| MpUnreach {
        afi: Afi::Ipv4,
        safi,
        withdrawn: prefixes.into_iter().map(IpNetwork::V4).collect(),
    });
    let v6 = (safi(), vec(ipv6_prefix(), 0..6)).prop_map(|(safi, prefixes)| MpUnreach {
        afi: Afi::Ipv6,
        safi,
        withdrawn: prefixes.into_iter().map(IpNetwork::V6).collect(),
    });
    prop_oneof![v4, v6]
}

fn update() -> impl Strategy<Value = Update> {
    (
        vec(ipv4_prefix(), 0..8),
        path_attributes(),
        vec(ipv4_prefix(), 0..8),
        option::of(mp_reach()),
        option::of(mp_unreach()),
    )
        .prop_map(|(withdrawn, mut attributes, nlri, mp_reach, mp_unreach)| {
            // A well-formed UPDATE that announces prefixes carries the mandatory attributes.
            let announces =
                !nlri.is_empty() || mp_reach.as_ref().is_some_and(|r| !r.nlri.is_empty());
            if announces {
                attributes.origin.get_or_insert(Origin::Igp);
                attributes.as_path.get_or_insert_with(AsPath::default);
            }
            if !nlri.is_empty() {
                attributes
                    .next_hop
                    .get_or_insert(Ipv4Addr::new(198, 18, 0, 1));
            }
            Update {
                withdrawn,
                attributes,
                nlri,
                mp_reach,
                mp_unreach,
                errors: Vec::new(),
            }
        })
}

fn afi() -> impl Strategy<Value = Afi> {
    any::<u16>().prop_map(Afi::from)
}

fn capability() -> impl Strategy<Value = Capability> {
    prop_oneof![
        (afi(), any::<u8>().prop_map(Safi::from))
            .prop_map(|(afi, safi)| Capability::MultiProtocol { afi, safi }),
        Just(Capability::RouteRefresh),
        Just(Capability::EnhancedRouteRefresh),
        asn().prop_map(Capability::FourOctetAs),
        vec((afi(), any::<u8>().prop_map(Safi::from), afi()), 0..3)
            .prop_map(Capability::ExtendedNextHop),
        (
            any::<bool>(),
            any::<bool>(),
            0u16..4096,
            vec(
                (afi(), any::<u8>().prop_map(Safi::from), any::<bool>()),
                0..3
            )
        )
            .prop_map(|(restarting, notification, restart_time, families)| {
                Capability::GracefulRestart(GracefulRestart {
                    restarting,
                    notification,
                    restart_time,
                    families: families
                        .into_iter()
                        .map(|(afi, safi, forwarding_preserved)| GracefulRestartFamily {
                            afi,
                            safi,
                            forwarding_preserved,
                        })
                        .collect(),
                })
            }),
        (
            prop_oneof![3u8..5, 6u8..64, 66u8..70, 71u8..=255],
            vec(any::<u8>(), 0..12)
        )
            .prop_map(|(code, value)| Capability::Unknown {
                code,
                value: Bytes::from(value)
            }),
    ]
}

fn message() -> impl Strategy<Value = Message> {
    prop_oneof![
        Just(Message::Keepalive),
        (
            any::<u8>(),
            any::<u16>(),
            any::<u16>(),
            any::<u32>(),
            vec(capability(), 0..40)
        )
            .prop_map(
                |(version, my_as, hold_time, id, capabilities)| Message::Open(Open {
                    version,
                    my_as,
                    hold_time,
                    bgp_identifier: Ipv4Addr::from(id),
                    capabilities,
                })
            ),
        (any::<u8>(), any::<u8>(), vec(any::<u8>(), 0..64)).prop_map(|(code, subcode, data)| {
            Message::Notification(Notification::new(
                NotificationCode::from(code),
                subcode,
                data,
            ))
        }),
        (afi(), any::<u8>(), any::<u8>().prop_map(Safi::from)).prop_map(|(afi, subtype, safi)| {
            Message::RouteRefresh(RouteRefresh { afi, subtype, safi })
        }),
        update().prop_map(Message::Update),
    ]
}

/// For a 2-octet session, a path with 4-octet ASNs whose AGGREGATOR is a real 2-octet AS is,
/// by RFC 6793 §4.2.3, read back without AS4_PATH: that loss is the protocol's, not ours.
fn representable_for_two_octet_peer(message: &Message) -> bool {
    let Message::Update(update) = message else {
        return true;
    };
    let attributes = &update.attributes;
    let large_path = attributes.as_path.as_ref().is_some_and(|path| {
        path.segments
            .iter()
            .any(|s| !s.kind.is_confederation() && s.asns.iter().any(|a| *a > 65535))
    });
    let small_aggregator = attributes.aggregator.is_some_and(|a| a.asn <= 65535);
    !(large_path && small_aggregator)
}

fn round_trip(message: &Message, ctx: &CodecContext) -> Result<(), TestCaseError> {
    let bytes = message
        .to_bytes(ctx)
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(bytes.len(), message.encoded_len(ctx));
    let decoded = Message::decode(&bytes, ctx).map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(&decoded, message);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn messages_round_trip_between_four_octet_speakers(message in message()) {
        round_trip(&message, &CodecContext::FOUR_OCTET_AS)?;
    }

    #[test]
    fn messages_round_trip_with_two_octet_speakers(message in message()) {
        prop_assume!(representable_for_two_octet_peer(&message));
        round_trip(&message, &CodecContext::TWO_OCTET_AS)?;
    }

    #[test]
    fn arbitrary_bytes_never_panic(body in vec(any::<u8>(), 0..200), kind in 1u8..=5) {
        let mut frame = vec![0xff; 16];
        frame.extend_from_slice(&((19 + body.len()) as u16).to_be_bytes());
        frame.push(kind);
        frame.extend_from_slice(&body);
        let _ = Message::decode(&frame, &CodecContext::FOUR_OCTET_AS);
        let _ = Message::decode(&frame, &CodecContext::TWO_OCTET_AS);
    }
}
