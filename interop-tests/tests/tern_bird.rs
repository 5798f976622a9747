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
