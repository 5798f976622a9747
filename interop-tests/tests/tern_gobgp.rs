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
