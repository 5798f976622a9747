//! Reaching Established, what is negotiated there, and going down again.

use std::time::{Duration, Instant};

use super::harness::{A, B, World, config};
use crate::fsm::{
    ConnectionId, Direction, DownReason, Input, Output, Session, State, cease, fsm_error,
};
use crate::packet::{
    Afi, Capability, DecodeError, ErrorAction, GracefulRestart, Message, NotificationCode, Open,
    RouteRefresh, Safi, Update,
};

fn negotiated_of(world: &World, node: usize) -> crate::fsm::Negotiated {
    world
        .outputs(node, |o| matches!(o, Output::Established { .. }))
        .into_iter()
        .find_map(|o| match o {
            Output::Established { negotiated, .. } => Some(negotiated),
            _ => None,
        })
        .expect("an Established output")
}

#[test]
fn two_speakers_reach_established() {
    let mut world = World::ebgp_pair();
    world.establish();
    let negotiated = negotiated_of(&world, A);
    assert_eq!(negotiated.peer_asn, 65002);
    assert_eq!(negotiated.peer_id.octets(), [198, 18, 0, 2]);
    assert!(negotiated.four_octet_as);
    assert!(negotiated.route_refresh);
    assert!(negotiated.supports(Afi::Ipv4, Safi::Unicast));
    assert!(negotiated.supports(Afi::Ipv6, Safi::Unicast));
    assert_eq!(negotiated_of(&world, B).peer_asn, 65001);
}

#[test]
fn states_pass_through_the_rfc_sequence() {
    let mut world = World::ebgp_pair();
    world.establish();
    let states: Vec<(State, State)> = world
        .outputs(A, |o| matches!(o, Output::StateChanged { .. }))
        .into_iter()
        .filter_map(|o| match o {
            Output::StateChanged { from, to } => Some((from, to)),
            _ => None,
        })
        .collect();
    assert_eq!(
        states,
        vec![
            (State::Idle, State::Connect),
            (State::Connect, State::OpenSent),
            (State::OpenSent, State::OpenConfirm),
            (State::OpenConfirm, State::Established),
        ]
    );
    assert!(
        world
            .outputs(B, |o| matches!(
                o,
                Output::StateChanged {
                    from: State::Idle,
                    to: State::Active
                }
            ))
            .len()
            == 1
    );
}

#[test]
fn state_names_are_the_rfc_names() {
    let names: Vec<String> = [
        State::Idle,
        State::Connect,
        State::Active,
        State::OpenSent,
        State::OpenConfirm,
        State::Established,
    ]
    .iter()
    .map(ToString::to_string)
    .collect();
    assert_eq!(
        names,
        [
            "Idle",
            "Connect",
            "Active",
            "OpenSent",
            "OpenConfirm",
            "Established"
        ]
    );
}

#[test]
fn both_active_speakers_reach_established_on_one_connection() {
    let a = config(65001, [198, 18, 0, 1], 65002);
    let b = config(65002, [198, 18, 0, 2], 65001);
    let mut world = World::new(a, b);
    world.establish();
    let (a_conn, _) = world.nodes[A].session.established().unwrap();
    let (b_conn, _) = world.nodes[B].session.established().unwrap();
    assert_eq!(world.opened_by[&a_conn], world.opened_by[&b_conn]);
}

#[test]
fn passive_session_never_connects() {
    let mut world = World::ebgp_pair();
    world.input(B, Input::ManualStart);
    world.advance(Duration::from_secs(600));
    assert_eq!(world.state(B), State::Active);
    assert!(
        world
            .outputs(B, |o| matches!(o, Output::Connect))
            .is_empty()
    );
}

#[test]
fn families_are_the_intersection_of_both_offers() {
    let mut a = config(65001, [198, 18, 0, 1], 65002);
    a.families = vec![(Afi::Ipv4, Safi::Unicast)];
    let mut b = config(65002, [198, 18, 0, 2], 65001);
    b.passive = true;
    let mut world = World::new(a, b);
    world.establish();
    for node in [A, B] {
        assert_eq!(
            negotiated_of(&world, node).families,
            vec![(Afi::Ipv4, Safi::Unicast)]
        );
    }
}

#[test]
fn optional_capabilities_count_only_when_both_sides_offer_them() {
    let gr = GracefulRestart {
        restarting: false,
        notification: true,
        restart_time: 120,
        families: Vec::new(),
    };
    let mut a = config(65001, [198, 18, 0, 1], 65002);
    a.enhanced_route_refresh = true;
    a.graceful_restart = Some(gr.clone());
    a.extended_next_hop = vec![(Afi::Ipv4, Safi::Unicast, Afi::Ipv6)];
    let mut b = config(65002, [198, 18, 0, 2], 65001);
    b.passive = true;
    b.route_refresh = false;
    b.extended_next_hop = vec![(Afi::Ipv4, Safi::Unicast, Afi::Ipv6)];
    let mut world = World::new(a, b);
    world.establish();
    let at_a = negotiated_of(&world, A);
    assert!(!at_a.route_refresh && !at_a.enhanced_route_refresh);
    assert_eq!(
        at_a.graceful_restart, None,
        "B did not offer graceful restart"
    );
    assert_eq!(
        at_a.extended_next_hop,
        vec![(Afi::Ipv4, Safi::Unicast, Afi::Ipv6)]
    );
    let at_b = negotiated_of(&world, B);
    assert_eq!(at_b.graceful_restart, None, "B itself did not offer it");
    assert!(
        at_b.peer_capabilities
            .contains(&Capability::GracefulRestart(gr))
    );
}

#[test]
fn peer_without_multiprotocol_capability_speaks_ipv4_unicast() {
    let mut session = passive_session_with_connection();
    let open = Open {
        version: 4,
        my_as: 65001,
        hold_time: 90,
        bgp_identifier: [198, 18, 0, 1].into(),
        capabilities: Vec::new(),
    };
    let now = Instant::now();
    session.handle(now, message(Message::Open(open)));
    let negotiated = session.negotiated(CONNECTION).unwrap();
    assert_eq!(negotiated.families, vec![(Afi::Ipv4, Safi::Unicast)]);
    assert!(!negotiated.four_octet_as);
    assert!(!negotiated.codec_context().four_octet_as);
}

#[test]
fn notification_received_goes_idle() {
    let mut world = World::ebgp_pair();
    world.establish();
    world.input(B, Input::manual_stop());
    assert_eq!(world.state(A), State::Idle);
    assert_eq!(world.state(B), State::Idle);
    let downs = world.outputs(A, |o| matches!(o, Output::Down { .. }));
    match &downs[..] {
        [
            Output::Down {
                reason: DownReason::NotificationReceived(n),
                was_established: true,
            },
        ] => {
            assert_eq!(
                (n.code, n.subcode),
                (NotificationCode::Cease, cease::ADMINISTRATIVE_SHUTDOWN)
            );
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn manual_stop_sends_administrative_shutdown_and_stays_idle() {
    let mut world = World::ebgp_pair();
    world.establish();
    world.input(A, Input::manual_stop());
    let sent = world.notifications_sent(A);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].code, NotificationCode::Cease);
    assert_eq!(sent[0].subcode, cease::ADMINISTRATIVE_SHUTDOWN);
    world.advance(Duration::from_secs(600));
    assert_eq!(world.state(A), State::Idle);
    assert!(world.nodes[A].timers.is_empty());
}

#[test]
fn session_restarts_automatically_after_the_peer_stops_and_starts() {
    let mut world = World::ebgp_pair();
    world.establish();
    world.input(B, Input::manual_stop());
    world.advance(Duration::from_secs(30));
    assert_eq!(
        world.state(A),
        State::Active,
        "A retries but B refuses while stopped"
    );
    world.input(B, Input::ManualStart);
    world.advance(Duration::from_secs(30));
    assert_eq!(world.state(A), State::Established);
    assert_eq!(world.state(B), State::Established);
}

#[test]
fn idle_session_refuses_connections() {
    let now = Instant::now();
    let mut session = Session::new(config(65002, [198, 18, 0, 2], 65001), now);
    let out = session.handle(
        now,
        Input::TcpConnected {
            connection: CONNECTION,
            direction: Direction::Incoming,
        },
    );
    assert!(matches!(out[..], [Output::Close(CONNECTION)]));
    assert_eq!(session.state(), State::Idle);
}

#[test]
fn incoming_connection_while_established_is_rejected() {
    let mut world = World::ebgp_pair();
    world.establish();
    let (established, _) = world.nodes[A].session.established().unwrap();
    let intruder = ConnectionId(999);
    world.input(
        A,
        Input::TcpConnected {
            connection: intruder,
            direction: Direction::Incoming,
        },
    );
    let sent = &world.nodes[A].sent.last().unwrap();
    assert_eq!(sent.1, intruder);
    assert!(matches!(&sent.2, Message::Notification(n)
        if n.code == NotificationCode::Cease && n.subcode == cease::CONNECTION_REJECTED));
    assert!(matches!(world.nodes[A].outputs.last().unwrap().1, Output::Close(c) if c == intruder));
    assert_eq!(world.nodes[A].session.established().unwrap().0, established);
}

#[test]
fn connect_failure_goes_active_and_retries_after_connect_retry() {
    let mut world = World::ebgp_pair();
    world.nodes[B].unreachable = true;
    world.input(A, Input::ManualStart);
    assert_eq!(world.state(A), State::Active);
    assert_eq!(world.outputs(A, |o| matches!(o, Output::Connect)).len(), 1);
    // ConnectRetry is 5 s with jitter of 75–100 %.
    world.advance(Duration::from_millis(3_700));
    assert_eq!(world.outputs(A, |o| matches!(o, Output::Connect)).len(), 1);
    world.advance(Duration::from_millis(1_300));
    assert_eq!(world.outputs(A, |o| matches!(o, Output::Connect)).len(), 2);
}

#[test]
fn updates_and_route_refresh_pass_through_when_established() {
    let mut world = World::ebgp_pair();
    world.establish();
    let (connection, _) = world.nodes[B].session.established().unwrap();
    let refresh = RouteRefresh {
        afi: Afi::Ipv4,
        subtype: 0,
        safi: Safi::Unicast,
    };
    let now = world.now;
    let out = world.nodes[B].session.handle(
        now,
        Input::Message {
            connection,
            message: Box::new(Message::Update(Update::default())),
        },
    );
    assert!(matches!(out[..], [Output::Update(_)]));
    let out = world.nodes[B].session.handle(
        now,
        Input::Message {
            connection,
            message: Box::new(Message::RouteRefresh(refresh)),
        },
    );
    assert!(matches!(out[..], [Output::RouteRefresh(r)] if r == refresh));
}

#[test]
fn keepalive_in_open_sent_is_a_finite_state_machine_error() {
    let mut session = passive_session_with_connection();
    let out = session.handle(Instant::now(), message(Message::Keepalive));
    let notification = sent_notification(&out).expect("a NOTIFICATION");
    assert_eq!(notification.code, NotificationCode::FiniteStateMachine);
    assert_eq!(notification.subcode, fsm_error::UNEXPECTED_IN_OPEN_SENT);
    assert_eq!(session.state(), State::Idle);
}

#[test]
fn decode_error_sends_the_notification_it_names() {
    let mut session = passive_session_with_connection();
    let error = DecodeError {
        field: "message length",
        offset: 16,
        reason: crate::packet::ErrorReason::BadLength(5),
        action: ErrorAction::SessionReset {
            code: NotificationCode::MessageHeader,
            subcode: 2,
            data: vec![0, 5],
        },
    };
    let out = session.handle(
        Instant::now(),
        Input::DecodeError {
            connection: CONNECTION,
            error,
        },
    );
    let notification = sent_notification(&out).expect("a NOTIFICATION");
    assert_eq!(notification.code, NotificationCode::MessageHeader);
    assert_eq!(notification.subcode, 2);
    assert_eq!(&notification.data[..], &[0, 5]);
    assert!(out.iter().any(|o| matches!(o, Output::Close(CONNECTION))));
}

pub const CONNECTION: ConnectionId = ConnectionId(7);

/// A passive session (AS 65002, expecting 65001) with one incoming connection in OpenSent.
pub fn passive_session_with_connection() -> Session {
    let now = Instant::now();
    let mut config = config(65002, [198, 18, 0, 2], 65001);
    config.passive = true;
    let mut session = Session::new(config, now);
    session.handle(now, Input::ManualStart);
    session.handle(
        now,
        Input::TcpConnected {
            connection: CONNECTION,
            direction: Direction::Incoming,
        },
    );
    assert_eq!(session.state(), State::OpenSent);
    session
}

pub fn message(message: Message) -> Input {
    Input::Message {
        connection: CONNECTION,
        message: Box::new(message),
    }
}

pub fn sent_notification(out: &[Output]) -> Option<crate::packet::Notification> {
    out.iter().find_map(|o| match o {
        Output::Send(_, Message::Notification(n)) => Some(n.clone()),
        _ => None,
    })
}

#[test]
fn peer_connecting_during_the_restart_delay_is_accepted() {
    let now = Instant::now();
    let mut session = passive_session_with_connection();
    let cease = crate::packet::Notification {
        code: NotificationCode::Cease,
        subcode: cease::ADMINISTRATIVE_SHUTDOWN,
        data: bytes::Bytes::new(),
    };
    let out = session.handle(now, message(Message::Notification(cease)));
    assert_eq!(session.state(), State::Idle);
    assert!(
        out.iter()
            .any(|o| matches!(o, Output::ArmTimer(crate::fsm::Timer::IdleHold, _)))
    );
    let again = ConnectionId(8);
    let out = session.handle(
        now,
        Input::TcpConnected {
            connection: again,
            direction: Direction::Incoming,
        },
    );
    assert_eq!(session.state(), State::OpenSent);
    assert!(
        out.iter()
            .any(|o| matches!(o, Output::Send(c, Message::Open(_)) if *c == again))
    );
}

#[test]
fn stopped_session_refuses_the_peer() {
    let now = Instant::now();
    let mut session = passive_session_with_connection();
    session.handle(now, Input::manual_stop());
    let out = session.handle(
        now,
        Input::TcpConnected {
            connection: ConnectionId(8),
            direction: Direction::Incoming,
        },
    );
    assert!(matches!(out[..], [Output::Close(ConnectionId(8))]));
    assert_eq!(session.state(), State::Idle);
}
