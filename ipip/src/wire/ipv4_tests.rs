use std::net::Ipv4Addr;

use proptest::prelude::*;

use super::*;
use crate::wire::fixtures::{INNER_ECHO, OUTER_ECHO};

fn outer_repr() -> Ipv4Repr {
    Ipv4Repr {
        src_addr: Ipv4Addr::new(198, 18, 0, 1),
        dst_addr: Ipv4Addr::new(198, 18, 0, 2),
        protocol: PROTOCOL_IPIP,
        tos: 0,
        ident: 0x4d2c,
        dont_fragment: true,
        ttl: 64,
        payload_len: INNER_ECHO.len(),
    }
}

#[test]
fn test_parse() {
    let packet = Ipv4Packet::new_checked(&OUTER_ECHO[..]).expect("fixture is valid");
    assert_eq!(packet.version(), 4);
    assert_eq!(packet.header_len(), 20);
    assert_eq!(packet.total_len(), 56);
    assert_eq!(packet.ident(), 0x4d2c);
    assert!(packet.dont_fragment());
    assert!(!packet.more_fragments());
    assert_eq!(packet.fragment_offset(), 0);
    assert_eq!(packet.ttl(), 64);
    assert_eq!(packet.protocol(), PROTOCOL_IPIP);
    assert_eq!(packet.checksum(), 0x616e);
    assert!(packet.verify_checksum());
    assert_eq!(packet.payload(), &INNER_ECHO[..]);
    assert_eq!(Ipv4Repr::parse(&packet), Ok(outer_repr()));
}

#[test]
fn test_emit() {
    let mut bytes = vec![0xa5; 20];
    outer_repr()
        .emit(&mut Ipv4Packet::new_unchecked(&mut bytes[..]))
        .expect("20 bytes suffice");
    assert_eq!(bytes, OUTER_ECHO[..20]);
    assert_eq!(outer_repr().buffer_len(), 20);
}

#[test]
fn inner_fixture_parses() {
    let packet = Ipv4Packet::new_checked(&INNER_ECHO[..]).expect("fixture is valid");
    assert_eq!(packet.src_addr(), Ipv4Addr::new(198, 19, 1, 1));
    assert_eq!(packet.dst_addr(), Ipv4Addr::new(198, 19, 2, 1));
    assert_eq!(packet.protocol(), PROTOCOL_ICMP);
    assert!(packet.verify_checksum());
}

#[test]
fn bad_checksum_is_rejected() {
    let mut bytes = OUTER_ECHO;
    bytes[11] ^= 0x01;
    let packet = Ipv4Packet::new_checked(&bytes[..]).expect("lengths still fine");
    assert_eq!(
        Ipv4Repr::parse(&packet),
        Err(WireError::BadChecksum {
            what: "IPv4 header",
            found: 0x616f
        })
    );
}

#[test]
fn length_checks_name_the_problem() {
    assert!(matches!(
        Ipv4Packet::new_checked(&OUTER_ECHO[..19]),
        Err(WireError::Truncated { needed: 20, .. })
    ));
    assert!(matches!(
        Ipv4Packet::new_checked(&OUTER_ECHO[..55]),
        Err(WireError::Truncated { needed: 56, .. })
    ));
    let mut v6 = OUTER_ECHO;
    v6[0] = 0x65;
    assert_eq!(
        Ipv4Packet::new_checked(&v6[..]),
        Err(WireError::BadVersion { version: 6 })
    );
    let mut short_ihl = OUTER_ECHO;
    short_ihl[0] = 0x44;
    assert_eq!(
        Ipv4Packet::new_checked(&short_ihl[..]),
        Err(WireError::BadHeaderLength { header_len: 16 })
    );
    let mut short_total = OUTER_ECHO;
    short_total[3] = 10;
    assert_eq!(
        Ipv4Packet::new_checked(&short_total[..]),
        Err(WireError::BadTotalLength {
            total_len: 10,
            header_len: 20
        })
    );
}

#[test]
fn padding_after_total_length_is_ignored() {
    let mut padded = OUTER_ECHO.to_vec();
    padded.extend_from_slice(&[0, 0, 0, 0]);
    let packet = Ipv4Packet::new_checked(&padded[..]).expect("padding allowed");
    assert_eq!(packet.packet(), &OUTER_ECHO[..]);
    assert_eq!(packet.payload(), &INNER_ECHO[..]);
}

#[test]
fn fragments_are_rejected_by_repr() {
    let mut bytes = OUTER_ECHO;
    bytes[6] = 0x20; // MF
    bytes[7] = 0x00;
    let mut packet = Ipv4Packet::new_unchecked(&mut bytes[..]);
    packet.fill_checksum();
    assert_eq!(
        Ipv4Repr::parse(&packet),
        Err(WireError::Fragment { offset: 0 })
    );
}

#[test]
fn emit_refuses_oversized_payload() {
    let mut repr = outer_repr();
    repr.payload_len = 65516;
    let mut bytes = [0u8; 20];
    assert_eq!(
        repr.emit(&mut Ipv4Packet::new_unchecked(&mut bytes[..])),
        Err(WireError::TooLong { length: 65536 })
    );
}

proptest! {
    /// No accessor panics on arbitrary bytes, checked or not.
    #[test]
    fn accessors_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..80)) {
        let packet = Ipv4Packet::new_unchecked(&bytes[..]);
        let _ = (packet.version(), packet.header_len(), packet.tos(), packet.total_len());
        let _ = (packet.ident(), packet.dont_fragment(), packet.fragment_offset(), packet.ttl());
        let _ = (packet.protocol(), packet.src_addr(), packet.dst_addr(), packet.payload());
        let _ = (packet.verify_checksum(), packet.packet(), packet.header());
        let _ = Ipv4Repr::parse(&packet);
        let _ = crate::wire::decapsulate(&bytes);
        let _ = crate::wire::FragNeededRepr::parse(&bytes);
        let _ = crate::wire::FragNeededRepr::about(&bytes, 1280);
        let mut writable = bytes.clone();
        crate::wire::encap::set_ce(&mut writable);
    }

    /// Emit then parse gives the same header back.
    #[test]
    fn emit_parse_round_trip(
        src in any::<u32>(), dst in any::<u32>(), protocol in any::<u8>(), tos in any::<u8>(),
        ident in any::<u16>(), dont_fragment in any::<bool>(), ttl in any::<u8>(),
        payload_len in 0usize..200,
    ) {
        let repr = Ipv4Repr {
            src_addr: Ipv4Addr::from(src), dst_addr: Ipv4Addr::from(dst), protocol, tos,
            ident, dont_fragment, ttl, payload_len,
        };
        let mut bytes = vec![0; repr.total_len()];
        repr.emit(&mut Ipv4Packet::new_unchecked(&mut bytes[..])).expect("fits");
        let packet = Ipv4Packet::new_checked(&bytes[..]).expect("valid");
        prop_assert_eq!(Ipv4Repr::parse(&packet), Ok(repr));
    }
}
