//! The peer's OPEN is checked field by field and refused with the right NOTIFICATION.

use std::time::Instant;

use super::establish::{message, passive_session_with_connection, sent_notification};
use super::harness::{A, B, World, config};
use crate::fsm::open_check::open_error;
use crate::fsm::{DownReason, Output, State};
use crate::packet::{AS_TRANS, Capability, Message, Notification, NotificationCode, Open};

/// A fine OPEN from AS 65001, identifier 198.18.0.1.
fn open() -> Open {
    Open {
        version: 4,
        my_as: 65001,
        hold_time: 90,
        bgp_identifier: [198, 18, 0, 1].into(),
        capabilities: vec![Capability::FourOctetAs(65001)],
    }
}

/// Offer `open` to a passive session expecting AS 65001; the NOTIFICATION it answers with.
fn refusal(open: Open) -> Option<Notification> {
    let mut session = passive_session_with_connection();
    let out = session.handle(Instant::now(), message(Message::Open(open)));
    let notification = sent_notification(&out);
    if notification.is_some() {
        assert_ne!(session.state(), State::OpenConfirm);
    } else {
        assert_eq!(session.state(), State::OpenConfirm);
    }
    notification
}

fn open_error(subcode: u8, data: &[u8]) -> Option<Notification> {
    Some(Notification {
        code: NotificationCode::OpenMessage,
        subcode,
        data: bytes::Bytes::copy_from_slice(data),
    })
}

#[test]
fn good_open_is_accepted() {
    assert_eq!(refusal(open()), None);
}

#[test]
fn unsupported_version_is_refused_with_version_data() {
    let mut open = open();
    open.version = 3;
    assert_eq!(
        refusal(open),
        open_error(open_error::UNSUPPORTED_VERSION, &[0, 4])
    );
}

#[test]
fn wrong_peer_as_is_refused_with_bad_peer_as() {
    let mut open = open();
    open.my_as = 65009;
    open.capabilities = vec![Capability::FourOctetAs(65009)];
    assert_eq!(refusal(open), open_error(open_error::BAD_PEER_AS, &[]));
}

#[test]
fn four_octet_capability_as_is_the_one_checked() {
    // Right 2-octet field, wrong capability: the capability wins (RFC 6793 §4.1).
    let mut open = open();
    open.capabilities = vec![Capability::FourOctetAs(4_200_000_001)];
    assert_eq!(refusal(open), open_error(open_error::BAD_PEER_AS, &[]));
}

#[test]
fn as_trans_without_capability_is_a_bad_peer_as() {
    let mut open = open();
    open.my_as = AS_TRANS;
    open.capabilities = Vec::new();
    assert_eq!(refusal(open), open_error(open_error::BAD_PEER_AS, &[]));
}

#[test]
fn four_octet_peer_reaches_established() {
    let a = config(4_200_000_001, [198, 18, 0, 1], 65002);
    let mut b = config(65002, [198, 18, 0, 2], 4_200_000_001);
    b.passive = true;
    let mut world = World::new(a, b);
    world.establish();
    let (_, negotiated) = world.nodes[B].session.established().unwrap();
    assert_eq!(negotiated.peer_asn, 4_200_000_001);
    let open_from_a = world.nodes[A].sent.iter().find_map(|(_, _, m)| match m {
        Message::Open(o) => Some(o.clone()),
        _ => None,
    });
    assert_eq!(open_from_a.unwrap().my_as, AS_TRANS);
}

#[test]
fn hold_time_of_two_is_refused() {
    let mut open = open();
    open.hold_time = 2;
    assert_eq!(
        refusal(open),
        open_error(open_error::UNACCEPTABLE_HOLD_TIME, &[])
    );
}

#[test]
fn hold_time_of_one_is_refused() {
    let mut open = open();
    open.hold_time = 1;
    assert_eq!(
        refusal(open),
        open_error(open_error::UNACCEPTABLE_HOLD_TIME, &[])
    );
}

#[test]
fn hold_times_of_zero_and_three_are_accepted() {
    for hold_time in [0, 3] {
        let mut open = open();
        open.hold_time = hold_time;
        assert_eq!(refusal(open), None, "hold time {hold_time}");
    }
}

#[test]
fn zero_bgp_identifier_is_refused() {
    let mut open = open();
    open.bgp_identifier = [0, 0, 0, 0].into();
    assert_eq!(
        refusal(open),
        open_error(open_error::BAD_BGP_IDENTIFIER, &[])
    );
}

#[test]
fn own_identifier_is_refused_on_an_internal_session() {
    let a = config(65001, [198, 18, 0, 9], 65001);
    let mut b = config(65001, [198, 18, 0, 9], 65001);
    b.passive = true;
    let mut world = World::new(a, b);
    world.start_both();
    assert_eq!(
        world
            .notifications_sent(B)
            .first()
            .map(|n| (n.code, n.subcode)),
        Some((
            NotificationCode::OpenMessage,
            open_error::BAD_BGP_IDENTIFIER
        ))
    );
    assert_ne!(world.state(A), State::Established);
}

#[test]
fn same_identifier_is_allowed_on_an_external_session() {
    let a = config(65001, [198, 18, 0, 9], 65002);
    let mut b = config(65002, [198, 18, 0, 9], 65001);
    b.passive = true;
    let mut world = World::new(a, b);
    world.establish();
}

#[test]
fn refused_open_reaches_the_peer_as_its_last_error() {
    let a = config(65001, [198, 18, 0, 1], 65002);
    let mut b = config(65002, [198, 18, 0, 2], 65099);
    b.passive = true;
    let mut world = World::new(a, b);
    world.start_both();
    let downs = world.outputs(A, |o| matches!(o, Output::Down { .. }));
    let Some(Output::Down {
        reason: reason @ DownReason::NotificationReceived(_),
        was_established: false,
    }) = downs.first()
    else {
        panic!("{downs:?}");
    };
    assert_eq!(
        reason.to_string(),
        "received NOTIFICATION OPEN Message Error/Bad Peer AS (2/2)"
    );
}
