//! Byte fixtures for OPEN, KEEPALIVE, NOTIFICATION and ROUTE-REFRESH, each tested both ways,
//! plus the stream framing helper.

mod common;

use std::net::Ipv4Addr;

use bgp::packet::capability::{Afi, Capability, GracefulRestart, GracefulRestartFamily, Safi};
use bgp::packet::{
    AS_TRANS, CodecContext, Decode, Message, Notification, NotificationCode, Open, RouteRefresh,
    frame_len,
};
use bytes::Bytes;
use common::{assert_both_ways, hex};

const CTX: CodecContext = CodecContext::FOUR_OCTET_AS;

#[test]
fn keepalive_both_ways() {
    let bytes = hex("ffffffffffffffffffffffffffffffff 0013 04");
    assert_both_ways(&bytes, &Message::Keepalive, &CTX);
    assert_both_ways(&bytes, &Message::Keepalive, &CodecContext::TWO_OCTET_AS);
}

fn full_open() -> Open {
    Open {
        version: 4,
        my_as: 65001,
        hold_time: 90,
        bgp_identifier: Ipv4Addr::new(192, 0, 2, 1),
        capabilities: vec![
            Capability::MultiProtocol {
                afi: Afi::Ipv4,
                safi: Safi::Unicast,
            },
            Capability::MultiProtocol {
                afi: Afi::Ipv6,
                safi: Safi::Unicast,
            },
            Capability::RouteRefresh,
            Capability::EnhancedRouteRefresh,
            Capability::FourOctetAs(65001),
            Capability::GracefulRestart(GracefulRestart {
                restarting: true,
                notification: false,
                restart_time: 120,
                families: vec![GracefulRestartFamily {
                    afi: Afi::Ipv4,
                    safi: Safi::Unicast,
                    forwarding_preserved: true,
                }],
            }),
            Capability::ExtendedNextHop(vec![(Afi::Ipv4, Safi::Unicast, Afi::Ipv6)]),
            Capability::Unknown {
                code: 73,
                value: Bytes::from_static(b"abc"),
            },
        ],
    }
}

#[test]
fn open_with_every_capability_both_ways() {
    let bytes = hex("ffffffffffffffffffffffffffffffff 004a 01
         04 fde9 005a c0000201
         2d                      # optional parameters length 45
         02 2b                   # parameter 2 (capabilities), 43 bytes
         01 04 0001 00 01        # multiprotocol IPv4 unicast
         01 04 0002 00 01        # multiprotocol IPv6 unicast
         02 00                   # route refresh
         46 00                   # enhanced route refresh
         41 04 0000fde9          # 4-octet AS 65001
         40 06 8078 0001 01 80   # graceful restart R=1 120 s, IPv4 unicast F=1
         05 06 0001 0001 0002    # extended next hop: IPv4 unicast over IPv6
         49 03 616263            # unknown capability 73");
    assert_both_ways(&bytes, &Message::Open(full_open()), &CTX);
}

#[test]
fn open_graceful_restart_notification_bit_and_no_families() {
    let bytes =
        hex("ffffffffffffffffffffffffffffffff 0021 01 04 fde9 00b4 c0000201 04 02 02 40 00");
    let open = Open::decode(bytes.get(19..).unwrap(), &CTX);
    // Capability 64 with an empty value is too short: kept raw, not an error.
    assert_eq!(
        open.unwrap().capabilities,
        vec![Capability::Unknown {
            code: 64,
            value: Bytes::new()
        }]
    );
    let bytes =
        hex("ffffffffffffffffffffffffffffffff 0023 01 04 fde9 00b4 c0000201 06 02 04 40 02 40 5a");
    let expected = Open {
        version: 4,
        my_as: 65001,
        hold_time: 180,
        bgp_identifier: Ipv4Addr::new(192, 0, 2, 1),
        capabilities: vec![Capability::GracefulRestart(GracefulRestart {
            restarting: false,
            notification: true,
            restart_time: 90,
            families: vec![],
        })],
    };
    assert_both_ways(&bytes, &Message::Open(expected), &CTX);
}

#[test]
fn open_without_parameters_both_ways() {
    let bytes = hex("ffffffffffffffffffffffffffffffff 001d 01 04 fde9 0000 c0000201 00");
    let open = Open {
        version: 4,
        my_as: 65001,
        hold_time: 0,
        bgp_identifier: Ipv4Addr::new(192, 0, 2, 1),
        capabilities: vec![],
    };
    assert_both_ways(&bytes, &Message::Open(open), &CTX);
}

#[test]
fn open_from_four_octet_speaker_carries_as_trans() {
    let bytes = hex(
        "ffffffffffffffffffffffffffffffff 0025 01 04 5ba0 00b4 c6120001 08 02 06 41 04 fa56ea00",
    );
    let open = Open {
        version: 4,
        my_as: AS_TRANS,
        hold_time: 180,
        bgp_identifier: Ipv4Addr::new(198, 18, 0, 1),
        capabilities: vec![Capability::FourOctetAs(4_200_000_000)],
    };
    assert_both_ways(&bytes, &Message::Open(open.clone()), &CTX);
    assert_eq!(open.asn(), 4_200_000_000);
}

#[test]
fn open_accepts_one_capability_per_parameter() {
    // Two optional parameters, one capability each (older speakers send this form).
    let bytes = hex(
        "ffffffffffffffffffffffffffffffff 0029 01 04 fde9 005a c0000201 0c
         02 06 01 04 0001 00 01
         02 02 02 00",
    );
    let Message::Open(open) = Message::decode(&bytes, &CTX).unwrap() else {
        panic!("not OPEN")
    };
    assert_eq!(
        open.capabilities,
        vec![
            Capability::MultiProtocol {
                afi: Afi::Ipv4,
                safi: Safi::Unicast
            },
            Capability::RouteRefresh
        ]
    );
    // tern re-encodes them packed into one parameter.
    let packed = hex(
        "ffffffffffffffffffffffffffffffff 0027 01 04 fde9 005a c0000201 0a
         02 08 01 04 0001 00 01 02 00",
    );
    assert_eq!(
        Message::Open(open).to_bytes(&CTX).unwrap().as_ref(),
        packed.as_slice()
    );
}

#[test]
fn open_extended_optional_parameters_length_rfc9072() {
    // 140 unknown capabilities of 2 bytes each → 280 bytes: does not fit a 1-byte length.
    let capabilities: Vec<Capability> = (0..140)
        .map(|_| Capability::Unknown {
            code: 200,
            value: Bytes::new(),
        })
        .collect();
    let open = Open {
        version: 4,
        my_as: 65001,
        hold_time: 90,
        bgp_identifier: Ipv4Addr::new(192, 0, 2, 1),
        capabilities,
    };
    let bytes = Message::Open(open.clone()).to_bytes(&CTX).unwrap();
    // Two parameters (254 + 26 bytes of capabilities), 3-byte parameter headers: 286 bytes.
    assert_eq!(
        bytes.get(28..32),
        Some(&[0xff, 0xff, 0x01, 0x1e][..]),
        "255, 255, length 286"
    );
    assert_eq!(Message::decode(&bytes, &CTX).unwrap(), Message::Open(open));
}

#[test]
fn notification_both_ways() {
    let bytes = hex("ffffffffffffffffffffffffffffffff 0019 03 06 02 03 627965");
    let notification = Notification::administrative_shutdown("bye");
    assert_eq!(notification.code, NotificationCode::Cease);
    assert_both_ways(&bytes, &Message::Notification(notification), &CTX);

    let bytes = hex("ffffffffffffffffffffffffffffffff 0015 03 04 00");
    assert_both_ways(
        &bytes,
        &Message::Notification(Notification::hold_timer_expired()),
        &CTX,
    );

    let bytes = hex("ffffffffffffffffffffffffffffffff 0017 03 02 01 0004");
    assert_both_ways(
        &bytes,
        &Message::Notification(Notification::unsupported_version(4)),
        &CTX,
    );
}

#[test]
fn notification_with_unknown_code_keeps_it() {
    let bytes = hex("ffffffffffffffffffffffffffffffff 0016 03 09 07 aa");
    let expected = Notification::new(NotificationCode::Other(9), 7, vec![0xaa]);
    assert_both_ways(&bytes, &Message::Notification(expected), &CTX);
}

#[test]
fn route_refresh_both_ways() {
    let bytes = hex("ffffffffffffffffffffffffffffffff 0017 05 0001 00 01");
    assert_both_ways(
        &bytes,
        &Message::RouteRefresh(RouteRefresh::request(Afi::Ipv4, Safi::Unicast)),
        &CTX,
    );
    let bytes = hex("ffffffffffffffffffffffffffffffff 0017 05 0002 01 01");
    assert_both_ways(
        &bytes,
        &Message::RouteRefresh(RouteRefresh::begin(Afi::Ipv6, Safi::Unicast)),
        &CTX,
    );
    let bytes = hex("ffffffffffffffffffffffffffffffff 0017 05 0002 02 01");
    assert_both_ways(
        &bytes,
        &Message::RouteRefresh(RouteRefresh::end(Afi::Ipv6, Safi::Unicast)),
        &CTX,
    );
}

#[test]
fn frame_len_waits_for_a_whole_header() {
    let keepalive = hex("ffffffffffffffffffffffffffffffff 0013 04");
    for cut in 0..19 {
        assert_eq!(
            frame_len(keepalive.get(..cut).unwrap()),
            Ok(None),
            "cut at {cut}"
        );
    }
    assert_eq!(frame_len(&keepalive), Ok(Some(19)));
    // Only the header is needed to know the length of a longer message.
    let open_header = hex("ffffffffffffffffffffffffffffffff 004a 01");
    assert_eq!(frame_len(&open_header), Ok(Some(74)));
}

#[test]
fn frame_len_cuts_a_stream_of_messages() {
    let mut stream = Vec::new();
    let messages = [
        Message::Keepalive,
        Message::Open(full_open()),
        Message::RouteRefresh(RouteRefresh::request(Afi::Ipv4, Safi::Unicast)),
        Message::Notification(Notification::cease(2)),
    ];
    for message in &messages {
        stream.extend_from_slice(&message.to_bytes(&CTX).unwrap());
    }
    let mut decoded = Vec::new();
    let mut rest = stream.as_slice();
    while let Some(len) = frame_len(rest).unwrap() {
        let (frame, tail) = rest.split_at(len);
        decoded.push(Message::decode(frame, &CTX).unwrap());
        rest = tail;
    }
    assert!(rest.is_empty());
    assert_eq!(decoded, messages);
}

#[test]
fn negotiated_context_needs_four_octet_as_on_both_sides() {
    let new = full_open();
    let old = Open {
        capabilities: vec![Capability::RouteRefresh],
        ..full_open()
    };
    assert_eq!(
        CodecContext::negotiate(&new, &new),
        CodecContext::FOUR_OCTET_AS
    );
    assert_eq!(
        CodecContext::negotiate(&new, &old),
        CodecContext::TWO_OCTET_AS
    );
    assert_eq!(
        CodecContext::negotiate(&old, &new),
        CodecContext::TWO_OCTET_AS
    );
    assert!(new.has_capability(70));
    assert_eq!(new.multiprotocol_families().count(), 2);
    assert_eq!(new.graceful_restart().map(|gr| gr.restart_time), Some(120));
}
