//! tern's speaker against GoBgp: eBGP and iBGP, IPv4 and IPv6 both ways, withdrawal latency.

mod tern_common;

use interop_tests::peers::PeerKind;

#[test]
fn tern_and_gobgp_ebgp_exchange_and_withdraw() {
    tern_common::exchange(PeerKind::GoBgp, false);
}

#[test]
fn tern_and_gobgp_ibgp_exchange_and_withdraw() {
    tern_common::exchange(PeerKind::GoBgp, true);
}

/// A `shutdown` control request: tern sends Cease to every peer and exits 0; GoBGP sees the
/// session go down at once.
#[test]
fn tern_stops_cleanly_on_shutdown_request() {
    tern_common::clean_stop(PeerKind::GoBgp, tern_common::StopBy::Request);
}

/// IPv6 unicast over the IPv4 session (MP-BGP, RFC 4760): tern announces its configured
/// IPv6 next hop; the router's next hop must be its own global IPv6 address.
#[test]
fn tern_and_gobgp_ipv6_over_ipv4_session() {
    tern_common::exchange_with(PeerKind::GoBgp, false, tern_common::Ipv6::OverIpv4);
}
