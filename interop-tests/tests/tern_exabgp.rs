//! tern's speaker against ExaBgp: eBGP and iBGP, IPv4 and IPv6 both ways, withdrawal latency.

mod tern_common;

use interop_tests::peers::PeerKind;
use tern_common::{PEER_AS, TERN_AS};

#[test]
fn tern_and_exabgp_ebgp_exchange_and_withdraw() {
    tern_common::exchange(PeerKind::ExaBgp, false);
}

#[test]
fn tern_and_exabgp_ibgp_exchange_and_withdraw() {
    tern_common::exchange(PeerKind::ExaBgp, true);
}

/// IPv6 unicast over the IPv4 session is not an ExaBGP interop case: its `next-hop self` for
/// an IPv6 route on an IPv4 session sends a 4-byte MP_REACH_NLRI next hop (its IPv4 address),
/// which RFC 4760 / RFC 2545 do not allow for AFI 2. tern must treat that as malformed (RFC
/// 7606 §7.11: session reset, NOTIFICATION UPDATE Message Error / Optional Attribute Error)
/// without crashing, and keep nothing from it.
#[test]
fn tern_resets_exabgp_sending_an_ipv4_next_hop_for_ipv6() {
    let mut setup = tern_common::Setup::new(PeerKind::ExaBgp, TERN_AS, PEER_AS);
    setup.ipv6 = tern_common::Ipv6::OverIpv4;
    let pair = tern_common::pair(&setup);
    let peer = tern_common::addr(tern_common::PEER_V4);
    let error = interop_tests::wait_until(
        "tern to reset the session for the malformed next hop",
        tern_common::CONVERGE,
        || {
            pair.tern.process().check_running()?;
            let entry = pair.tern.peer(peer)?;
            Ok::<_, interop_tests::Error>(
                entry
                    .last_error
                    .filter(|error| error.contains("sent NOTIFICATION UPDATE Message Error (3/9)")),
            )
        },
    );
    let error = pair.check(error);
    println!("tern's last error with ExaBGP: {error}");
    let routes = pair.check(pair.tern.routes_for(tern_common::peer_v6_prefix()));
    assert!(routes.is_empty(), "tern kept {routes:?}");
    pair.check(pair.tern.process().check_running());
}
