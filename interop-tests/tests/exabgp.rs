//! ExaBGP against GoBGP and BIRD.

mod common;

use common::{CONVERGE, Options, assert_exchange, fail, net, two_routers};
use interop_tests::peers::{PeerKind, Route};

#[test]
fn gobgp_and_exabgp_exchange_routes() {
    let (a, b) = two_routers(PeerKind::GoBgp, PeerKind::ExaBgp, &Options::default());
    assert_exchange(&a, &b);
}

#[test]
fn exabgp_passive_with_md5_against_bird_and_runtime_announce() {
    let options = Options {
        md5: Some("tern-secret".into()),
        a_passive: true,
        ..Options::default()
    };
    let (mut a, b) = two_routers(PeerKind::ExaBgp, PeerKind::Bird, &options);
    assert_exchange(&a, &b);
    let extra = Route::new(net("198.51.100.128/25"))
        .community(65001, 99)
        .med(7);
    a.peer.announce(extra.clone()).expect("announce");
    let received = b
        .peer
        .wait_route(extra.prefix, CONVERGE)
        .unwrap_or_else(|e| fail(&a, &b, e));
    assert_eq!(received.communities, vec![(65001, 99)]);
    assert_eq!(received.med, Some(7));
    a.peer.withdraw(extra.prefix).expect("withdraw");
    b.peer
        .wait_no_route(extra.prefix, CONVERGE)
        .unwrap_or_else(|e| fail(&a, &b, e));
}
