//! tern's speaker against Frr: eBGP and iBGP, IPv4 and IPv6 both ways, withdrawal latency.

mod tern_common;

use interop_tests::peers::PeerKind;

#[test]
fn tern_and_frr_ebgp_exchange_and_withdraw() {
    tern_common::exchange(PeerKind::Frr, false);
}

#[test]
fn tern_and_frr_ibgp_exchange_and_withdraw() {
    tern_common::exchange(PeerKind::Frr, true);
}

/// IPv6 unicast over the IPv4 session (MP-BGP, RFC 4760): tern announces its configured
/// IPv6 next hop; the router's next hop must be its own global IPv6 address.
#[test]
fn tern_and_frr_ipv6_over_ipv4_session() {
    tern_common::exchange_with(PeerKind::Frr, false, tern_common::Ipv6::OverIpv4);
}
