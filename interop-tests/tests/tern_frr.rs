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
