//! A peer that does not read: the driver reports its send queue over the limit.

use std::time::Duration;

use super::harness::{A, B, World};
use crate::fsm::{ConnectionId, DownReason, Input, Output, State, Timer, cease};
use crate::packet::{Message, NotificationCode};

#[test]
fn send_queue_overflow_sends_cease_out_of_resources_and_restarts_automatically() {
    let mut world = World::ebgp_pair();
    world.establish();
    let (connection, _) = world.nodes[A].session.established().unwrap();
    world.input(A, Input::SendQueueOverflow { connection });

    assert_eq!(world.state(A), State::Idle);
    let sent = world.nodes[A].sent.last().cloned();
    assert!(
        matches!(
            &sent,
            Some((_, id, Message::Notification(n)))
                if *id == connection
                    && n.code == NotificationCode::Cease
                    && n.subcode == cease::OUT_OF_RESOURCES
        ),
        "last message sent: {sent:?}"
    );
    let downs = world.outputs(A, |o| matches!(o, Output::Down { .. }));
    assert!(
        matches!(
            &downs[..],
            [Output::Down {
                reason: DownReason::NotificationSent(n),
                was_established: true,
            }] if n.code == NotificationCode::Cease && n.subcode == cease::OUT_OF_RESOURCES
        ),
        "{downs:?}"
    );
    assert!(
        world.nodes[A].timers.contains_key(&Timer::IdleHold),
        "an automatic restart is pending"
    );
    assert_eq!(
        world.state(B),
        State::Idle,
        "the peer saw the NOTIFICATION (or the close)"
    );

    // Unlike AutomaticStop, the session comes back by itself after the idle hold time.
    world.advance(Duration::from_secs(30));
    assert_eq!(world.state(A), State::Established);
    assert_eq!(world.state(B), State::Established);
}

#[test]
fn send_queue_overflow_of_an_unknown_connection_changes_nothing() {
    let mut world = World::ebgp_pair();
    world.establish();
    let before = world.nodes[A].outputs.len();
    world.input(
        A,
        Input::SendQueueOverflow {
            connection: ConnectionId(999),
        },
    );
    assert_eq!(world.state(A), State::Established);
    assert_eq!(world.nodes[A].outputs.len(), before, "no output at all");
}
