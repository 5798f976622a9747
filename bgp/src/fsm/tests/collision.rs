//! Connection collisions (RFC 4271 §6.8): both speakers connect at once; the connection opened
//! by the speaker with the higher BGP identifier survives, the other is closed with Cease /
//! Connection Collision Resolution (RFC 4486 subcode 7).

use std::time::Duration;

use super::harness::{A, B, World, config};
use crate::fsm::{State, cease};
use crate::packet::NotificationCode;

/// Both active, both connect before either sees the other's connection.
fn colliding_pair(a_id: [u8; 4], b_id: [u8; 4]) -> World {
    let a = config(65001, a_id, 65002);
    let b = config(65002, b_id, 65001);
    let mut world = World::new(a, b);
    world.defer_connects = true;
    world.start_both();
    world.advance(Duration::from_secs(1));
    world
}

fn assert_collision_resolved_for(world: &World, winner: usize) {
    assert_eq!(world.state(A), State::Established);
    assert_eq!(world.state(B), State::Established);
    let (a_conn, _) = world.nodes[A].session.established().unwrap();
    let (b_conn, _) = world.nodes[B].session.established().unwrap();
    assert_eq!(world.opened_by[&a_conn], winner);
    assert_eq!(world.opened_by[&b_conn], winner);
    let collisions: usize = [A, B]
        .iter()
        .flat_map(|&node| world.notifications_sent(node))
        .filter(|n| {
            n.code == NotificationCode::Cease && n.subcode == cease::CONNECTION_COLLISION_RESOLUTION
        })
        .count();
    assert!(collisions >= 1, "a collision happened and was resolved");
    // The session did not flap: one Established each.
    for node in [A, B] {
        let count = world
            .outputs(node, |o| {
                matches!(o, crate::fsm::Output::Established { .. })
            })
            .len();
        assert_eq!(count, 1);
    }
}

#[test]
fn collision_keeps_connection_from_higher_identifier_when_it_is_ours() {
    let world = colliding_pair([198, 18, 0, 9], [198, 18, 0, 1]);
    assert_collision_resolved_for(&world, A);
}

#[test]
fn collision_keeps_connection_from_higher_identifier_when_it_is_theirs() {
    let world = colliding_pair([198, 18, 0, 1], [198, 18, 0, 9]);
    assert_collision_resolved_for(&world, B);
}

#[test]
fn collision_compares_identifiers_as_numbers() {
    // 9.255.255.255 < 198.18.0.0 as 32-bit numbers.
    let world = colliding_pair([192, 0, 2, 9], [192, 0, 2, 10]);
    assert_collision_resolved_for(&world, B);
}
