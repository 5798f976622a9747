//! Hold time negotiation, keepalives, hold timer expiry, automatic restart.

use std::time::{Duration, Instant};

use super::establish::{CONNECTION, passive_session_with_connection, sent_notification};
use super::harness::{A, B, World, config};
use crate::fsm::{DownReason, Input, Output, State, Timer};
use crate::packet::NotificationCode;

fn pair_with_hold_times(a_hold: u16, b_hold: u16) -> World {
    let mut a = config(65001, [198, 18, 0, 1], 65002);
    a.hold_time = a_hold;
    let mut b = config(65002, [198, 18, 0, 2], 65001);
    b.hold_time = b_hold;
    b.passive = true;
    World::new(a, b)
}

#[test]
fn holdtime_negotiation_uses_minimum() {
    let mut world = pair_with_hold_times(90, 30);
    world.establish();
    for node in [A, B] {
        let (_, negotiated) = world.nodes[node].session.established().unwrap();
        assert_eq!(negotiated.hold_time, 30);
        assert_eq!(negotiated.keepalive(), Some(Duration::from_secs(10)));
    }
}

#[test]
fn keepalives_flow_at_one_third_of_hold_time() {
    let mut world = pair_with_hold_times(30, 30);
    world.establish();
    let established_at = world.keepalive_times(A)[0];
    world.advance(Duration::from_secs(45));
    let times = world.keepalive_times(A);
    let after: Vec<Duration> = times[1..].iter().map(|t| *t - established_at).collect();
    assert_eq!(
        after,
        [10, 20, 30, 40].map(Duration::from_secs).to_vec(),
        "KEEPALIVE every 10 s for a 30 s hold time"
    );
    assert_eq!(world.state(A), State::Established);
    assert_eq!(world.state(B), State::Established);
}

#[test]
fn hold_time_zero_means_no_keepalives_and_no_hold_timer() {
    let mut world = pair_with_hold_times(90, 0);
    world.establish();
    let before = world.keepalive_times(A).len();
    world.nodes[B].silenced = true;
    world.advance(Duration::from_secs(3600));
    assert_eq!(world.keepalive_times(A).len(), before);
    assert_eq!(world.state(A), State::Established);
}

#[test]
fn hold_timer_expiry_sends_notification_and_goes_idle() {
    let mut world = pair_with_hold_times(9, 9);
    world.establish();
    world.nodes[B].silenced = true;
    // B's last KEEPALIVE reached A when the session came up, at the start of the clock.
    let elapsed = world.now - world.start;
    world.advance(Duration::from_millis(8_900) - elapsed);
    assert_eq!(world.state(A), State::Established, "not yet");
    world.advance(Duration::from_millis(200));
    assert_eq!(world.state(A), State::Idle);
    let sent = world.notifications_sent(A);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].code, NotificationCode::HoldTimerExpired);
    let downs = world.outputs(A, |o| matches!(o, Output::Down { .. }));
    assert!(matches!(
        &downs[..],
        [Output::Down {
            reason: DownReason::NotificationSent(n),
            was_established: true
        }] if n.code == NotificationCode::HoldTimerExpired
    ));
}

#[test]
fn hold_timer_is_restarted_by_every_message() {
    let mut world = pair_with_hold_times(9, 9);
    world.establish();
    world.advance(Duration::from_secs(300));
    assert!(world.notifications_sent(A).is_empty());
    assert!(world.notifications_sent(B).is_empty());
    assert_eq!(world.state(A), State::Established);
}

#[test]
fn hold_timer_in_open_sent_is_four_minutes() {
    let mut session = passive_session_with_connection();
    let start = Instant::now();
    let hold = Timer::Hold(CONNECTION);
    let out = session.handle(start + Duration::from_secs(239), Input::TimerExpired(hold));
    assert!(sent_notification(&out).is_none(), "not yet: {out:?}");
    assert_eq!(session.state(), State::OpenSent);
    let out = session.handle(start + Duration::from_secs(241), Input::TimerExpired(hold));
    let notification = sent_notification(&out).expect("a NOTIFICATION");
    assert_eq!(notification.code, NotificationCode::HoldTimerExpired);
    assert_eq!(session.state(), State::Idle);
}

#[test]
fn session_comes_back_after_hold_timer_expiry() {
    let mut world = pair_with_hold_times(9, 9);
    world.establish();
    world.nodes[B].silenced = true;
    world.advance(Duration::from_secs(10));
    assert_eq!(world.notifications_sent(A).len(), 1);
    world.nodes[B].silenced = false;
    world.advance(Duration::from_secs(30));
    assert_eq!(world.state(A), State::Established);
    assert_eq!(world.state(B), State::Established);
    assert_eq!(
        world
            .outputs(A, |o| matches!(o, Output::Established { .. }))
            .len(),
        2
    );
}

#[test]
fn automatic_restart_backs_off() {
    // B expects another AS and refuses every OPEN; A goes Idle after each refusal.
    let a = config(65001, [198, 18, 0, 1], 65002);
    let mut b = config(65002, [198, 18, 0, 2], 65099);
    b.passive = true;
    let mut world = World::new(a, b);
    world.start_both();
    world.advance(Duration::from_secs(60));
    let idle_holds: Vec<Duration> = world
        .outputs(A, |o| matches!(o, Output::ArmTimer(Timer::IdleHold, _)))
        .into_iter()
        .filter_map(|o| match o {
            Output::ArmTimer(_, after) => Some(after),
            _ => None,
        })
        .collect();
    assert!(idle_holds.len() >= 4, "{idle_holds:?}");
    assert!(
        idle_holds
            .windows(2)
            .all(|w| w[1] > w[0] || w[1] >= Duration::from_secs(24)),
        "{idle_holds:?}"
    );
    assert!(idle_holds.iter().all(|d| *d <= Duration::from_secs(32)));
}
