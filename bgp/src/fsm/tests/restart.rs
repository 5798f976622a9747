//! Stopping for a local reason (AutomaticStop) and the graceful restart R bit.

use std::time::Duration;

use super::harness::{A, B, World, config};
use crate::fsm::{DownReason, Input, Output, State, cease};
use crate::packet::{
    Afi, Capability, GracefulRestart, GracefulRestartFamily, Message, Notification,
    NotificationCode, Safi,
};

#[test]
fn automatic_stop_sends_its_notification_and_stays_idle_until_started_again() {
    let mut world = World::ebgp_pair();
    world.establish();
    let notification = Notification::new(
        NotificationCode::Cease,
        cease::MAXIMUM_PREFIXES_REACHED,
        vec![0, 1, 1, 0, 0, 0, 2],
    );
    world.input(
        A,
        Input::AutomaticStop {
            notification: notification.clone(),
        },
    );
    assert_eq!(world.notifications_sent(A), vec![notification.clone()]);
    let down = world.outputs(A, |o| matches!(o, Output::Down { .. }));
    assert!(matches!(
        down.last(),
        Some(Output::Down { reason: DownReason::NotificationSent(n), was_established: true }) if *n == notification
    ));
    world.advance(Duration::from_secs(600));
    assert_eq!(world.state(A), State::Idle, "no automatic restart");
    world.input(A, Input::ManualStart);
    world.advance(Duration::from_secs(30));
    assert_eq!(world.state(A), State::Established);
    assert_eq!(world.state(B), State::Established);
}

fn restarting_capability() -> GracefulRestart {
    GracefulRestart {
        restarting: true,
        notification: false,
        restart_time: 120,
        families: vec![GracefulRestartFamily {
            afi: Afi::Ipv4,
            safi: Safi::Unicast,
            forwarding_preserved: true,
        }],
    }
}

fn sent_restart_bits(world: &World, node: usize) -> Vec<bool> {
    world.nodes[node]
        .sent
        .iter()
        .filter_map(|(_, _, message)| match message {
            Message::Open(open) => open.capabilities.iter().find_map(|c| match c {
                Capability::GracefulRestart(gr) => Some(gr.restarting),
                _ => None,
            }),
            _ => None,
        })
        .collect()
}

#[test]
fn the_restart_bit_is_sent_only_until_the_first_session_is_established() {
    let mut a = config(65001, [198, 18, 0, 1], 65002);
    a.graceful_restart = Some(restarting_capability());
    let mut b = config(65002, [198, 18, 0, 2], 65001);
    b.passive = true;
    b.graceful_restart = Some(GracefulRestart {
        restarting: false,
        ..restarting_capability()
    });
    let mut world = World::new(a, b);
    world.establish();
    world.input(B, Input::manual_stop());
    world.input(B, Input::ManualStart);
    world.advance(Duration::from_secs(60));
    assert_eq!(world.state(A), State::Established);
    assert_eq!(sent_restart_bits(&world, A), vec![true, false]);
}
