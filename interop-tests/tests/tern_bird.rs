//! tern's speaker against Bird: eBGP and iBGP, IPv4 and IPv6 both ways, withdrawal latency.

mod tern_common;

use interop_tests::peers::PeerKind;

#[test]
fn tern_and_bird_ebgp_exchange_and_withdraw() {
    tern_common::exchange(PeerKind::Bird, false);
}

#[test]
fn tern_and_bird_ibgp_exchange_and_withdraw() {
    tern_common::exchange(PeerKind::Bird, true);
}

/// SIGTERM: tern sends Cease to every peer and exits 0; BIRD sees the session go down at once
/// (well before any hold timer) with tern's NOTIFICATION as the reason.
#[test]
fn tern_stops_cleanly_on_sigterm() {
    tern_common::clean_stop(PeerKind::Bird, tern_common::StopBy::Signal);
}

/// IPv6 unicast over the IPv4 session (MP-BGP, RFC 4760): tern announces its configured
/// IPv6 next hop; the router's next hop must be its own global IPv6 address.
#[test]
fn tern_and_bird_ipv6_over_ipv4_session() {
    tern_common::exchange_with(PeerKind::Bird, false, tern_common::Ipv6::OverIpv4);
}
