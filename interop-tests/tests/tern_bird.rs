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
