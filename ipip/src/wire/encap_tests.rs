use std::net::Ipv4Addr;

use super::*;
use crate::wire::fixtures::{INNER_ECHO, OUTER_ECHO};

const LOCAL: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 1);
const REMOTE: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 2);

#[test]
fn test_emit() {
    let mut out = Vec::new();
    let repr = encapsulate(
        &TunnelParams::TERN,
        &INNER_ECHO,
        LOCAL,
        REMOTE,
        0x4d2c,
        &mut out,
    )
    .expect("valid inner packet");
    assert_eq!(out, OUTER_ECHO);
    assert_eq!(repr.total_len(), OUTER_ECHO.len());
}

#[test]
fn test_parse() {
    let decapsulated = decapsulate(&OUTER_ECHO).expect("valid IPIP packet");
    assert_eq!(decapsulated.inner, &INNER_ECHO[..]);
    assert_eq!(decapsulated.outer.src_addr, LOCAL);
    assert_eq!(decapsulated.outer.dst_addr, REMOTE);
    assert_eq!(decapsulated.outer.protocol, 4);
    assert_eq!(decapsulated.ecn, EcnAction::Keep);
}

#[test]
fn ttl_inherit_copies_inner_ttl_and_fixed_ttl_overrides() {
    assert_eq!(TunnelParams::TERN.outer_ttl(17), 17);
    let fixed = TunnelParams {
        ttl: 255,
        ..TunnelParams::TERN
    };
    assert_eq!(fixed.outer_ttl(17), 255);
}

#[test]
fn df_follows_pmtudisc_or_inner_df() {
    assert!(TunnelParams::TERN.outer_dont_fragment(false));
    assert!(TunnelParams::KERNEL_FALLBACK.outer_dont_fragment(true));
    assert!(!TunnelParams::KERNEL_FALLBACK.outer_dont_fragment(false));
}

#[test]
fn tos_zero_keeps_only_inner_ecn_and_ce_becomes_ect0() {
    let params = TunnelParams::TERN;
    assert_eq!(params.outer_tos(0xb8), 0x00); // EF DSCP, not-ECT: DSCP not copied
    assert_eq!(params.outer_tos(0xb9), 0x01); // ECT(1) copied
    assert_eq!(params.outer_tos(0xba), 0x02); // ECT(0) copied
    assert_eq!(params.outer_tos(0xbb), 0x02); // CE → ECT(0)
    let inherit = TunnelParams { tos: 1, ..params };
    assert_eq!(inherit.outer_tos(0xb8), 0xb8);
    assert_eq!(inherit.outer_tos(0xbb), 0xba);
}

#[test]
fn ecn_decapsulation_follows_rfc6040() {
    assert_eq!(ecn_decapsulate(0x03, 0x00), EcnAction::Drop);
    assert_eq!(ecn_decapsulate(0x03, 0x02), EcnAction::SetCe);
    assert_eq!(ecn_decapsulate(0x03, 0x01), EcnAction::SetCe);
    assert_eq!(ecn_decapsulate(0x03, 0x03), EcnAction::Keep);
    assert_eq!(ecn_decapsulate(0x02, 0x00), EcnAction::Keep);
    assert_eq!(ecn_decapsulate(0x00, 0x02), EcnAction::Keep);
}

#[test]
fn set_ce_updates_checksum_incrementally() {
    let mut inner = INNER_ECHO;
    inner[1] = 0x02; // ECT(0)
    let mut packet = Ipv4Packet::new_unchecked(&mut inner[..]);
    packet.fill_checksum();
    set_ce(&mut inner);
    let packet = Ipv4Packet::new_checked(&inner[..]).expect("valid");
    assert_eq!(packet.ecn(), 0x03);
    assert!(packet.verify_checksum());
}

#[test]
fn mtu_verdict_matches_tnl_update_pmtu() {
    let mut big = vec![0u8; 1480];
    big[..20].copy_from_slice(&INNER_ECHO[..20]);
    big[2..4].copy_from_slice(&1480u16.to_be_bytes());
    let packet = Ipv4Packet::new_checked(&big[..]).expect("valid lengths");
    let params = TunnelParams::TERN;
    assert_eq!(params.mtu_verdict(&packet, 1500), MtuVerdict::Fits);
    assert_eq!(
        params.mtu_verdict(&packet, 1400),
        MtuVerdict::FragmentationNeeded { mtu: 1380 }
    );
    big[6] = 0x00; // clear DF
    let packet = Ipv4Packet::new_checked(&big[..]).expect("valid lengths");
    assert_eq!(params.mtu_verdict(&packet, 1400), MtuVerdict::TooBig);
}

#[test]
fn decapsulate_rejects_other_protocols_and_bad_inner() {
    let mut not_ipip = OUTER_ECHO;
    not_ipip[9] = 17;
    Ipv4Packet::new_unchecked(&mut not_ipip[..]).fill_checksum();
    assert_eq!(
        decapsulate(&not_ipip),
        Err(WireError::NotIpip { protocol: 17 })
    );
    let mut bad_inner = OUTER_ECHO;
    bad_inner[20] = 0x60;
    assert_eq!(
        decapsulate(&bad_inner),
        Err(WireError::BadVersion { version: 6 })
    );
}

#[test]
fn encapsulate_drops_inner_padding() {
    let mut padded = INNER_ECHO.to_vec();
    padded.extend_from_slice(&[0xee; 6]);
    let mut out = Vec::new();
    encapsulate(
        &TunnelParams::TERN,
        &padded,
        LOCAL,
        REMOTE,
        0x4d2c,
        &mut out,
    )
    .expect("valid");
    assert_eq!(out, OUTER_ECHO);
}
