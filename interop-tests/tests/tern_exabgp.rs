//! tern's speaker against ExaBgp: eBGP and iBGP, IPv4 and IPv6 both ways, withdrawal latency.

mod tern_common;

use interop_tests::peers::PeerKind;

#[test]
fn tern_and_exabgp_ebgp_exchange_and_withdraw() {
    tern_common::exchange(PeerKind::ExaBgp, false);
}

#[test]
fn tern_and_exabgp_ibgp_exchange_and_withdraw() {
    tern_common::exchange(PeerKind::ExaBgp, true);
}
