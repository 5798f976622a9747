//! The session with one peer: start and stop, connection attempts, automatic restart, and
//! connection collisions (RFC 4271 §8, §6.8).
//!
//! A [`Session`] owns up to two `Connection`s, one we opened and one the peer opened, until
//! one of them wins. The state users see ([`Session::state`]) is the most advanced state of
//! its connections, or Idle / Connect / Active when it has none.

use std::time::Instant;

use crate::packet::{Message, Notification, NotificationCode};

use super::backoff::Backoff;
use super::config::SessionConfig;
use super::connection::{Connection, Step, notification};
use super::event::{ConnectionId, Direction, DownReason, Input, Output, Timer};
use super::negotiated::Negotiated;
use super::state::State;
use crate::packet::ErrorAction;

/// Cease subcodes. RFC 4486 §4.
pub use crate::packet::error::cease_subcode as cease;

/// The BGP state machine for one peer, free of I/O. RFC 4271 §8.
///
/// Feed it [`Input`]s with the current time through [`Session::handle`] and carry out the
/// [`Output`]s it returns, in order.
#[derive(Debug)]
pub struct Session {
    config: SessionConfig,
    /// Started by the administrator and not stopped since.
    started: bool,
    /// An automatic restart is pending (IdleHold timer armed): stay Idle until it fires.
    restart_pending: bool,
    /// Our outgoing connection attempt is in progress.
    connecting: bool,
    connections: Vec<Connection>,
    backoff: Backoff,
    state: State,
    since: Instant,
}

impl Session {
    /// A session in Idle, not started.
    pub fn new(config: SessionConfig, now: Instant) -> Self {
        let seed = (u64::from(u32::from(config.local_id)) << 32)
            ^ u64::from(config.peer_asn)
            ^ u64::from(config.local_asn).rotate_left(17);
        let backoff = Backoff::new(config.idle_hold, config.idle_hold_max, seed);
        Self {
            config,
            started: false,
            restart_pending: false,
            connecting: false,
            connections: Vec::with_capacity(2),
            backoff,
            state: State::Idle,
            since: now,
        }
    }

    /// The state users see. RFC 4271 §8.2.2.
    pub fn state(&self) -> State {
        self.state
    }

    /// When the session entered its current state.
    pub fn since(&self) -> Instant {
        self.since
    }

    pub fn config(&self) -> &SessionConfig {
        &self.config
    }

    /// The established connection and what was negotiated on it.
    pub fn established(&self) -> Option<(ConnectionId, &Negotiated)> {
        self.connections
            .iter()
            .find(|c| c.state == State::Established)
            .and_then(|c| c.negotiated.as_ref().map(|n| (c.id, n)))
    }

    /// What was negotiated on `connection` once its OPEN was accepted; the driver uses it to
    /// switch the connection's codec context.
    pub fn negotiated(&self, connection: ConnectionId) -> Option<&Negotiated> {
        self.connection(connection)
            .and_then(|c| c.negotiated.as_ref())
    }

    /// Replace the configuration. Takes effect on the next connection; a running session is
    /// not reset (the caller stops and starts it when the change needs a new OPEN).
    pub fn set_config(&mut self, config: SessionConfig) {
        self.config = config;
    }

    /// Process one input at time `now`; returns the work for the driver, in order.
    pub fn handle(&mut self, now: Instant, input: Input) -> Vec<Output> {
        let mut out = Vec::new();
        match input {
            Input::ManualStart => self.manual_start(&mut out),
            Input::ManualStop { cease_subcode } => self.manual_stop(
                notification(NotificationCode::Cease, cease_subcode),
                DownReason::ManualStop,
                &mut out,
            ),
            Input::AutomaticStop { notification } => {
                let reason = DownReason::NotificationSent(notification.clone());
                self.manual_stop(notification, reason, &mut out);
            }
            Input::TcpConnected {
                connection,
                direction,
            } => self.tcp_connected(now, connection, direction, &mut out),
            Input::ConnectFailed => self.connect_failed(&mut out),
            Input::TcpClosed { connection } => {
                if self.connection(connection).is_some() {
                    self.fail(connection, DownReason::ConnectionClosed, &mut out);
                }
            }
            Input::Message {
                connection,
                message,
            } => self.receive(now, connection, *message, &mut out),
            Input::DecodeError { connection, error } => {
                // Errors that only touch an UPDATE's contents (RFC 7606 treat-as-withdraw,
                // attribute discard) are the codec's and the RIB's business; only a session
                // reset concerns the state machine.
                if let ErrorAction::SessionReset {
                    code,
                    subcode,
                    data,
                } = error.action
                {
                    let mut notification = notification(code, subcode);
                    notification.data = data.into();
                    if let Some(conn) = self.connection_mut(connection) {
                        let step = conn.fail(notification, &mut out);
                        self.act(now, connection, step, &mut out);
                    }
                }
            }
            Input::TimerExpired(timer) => self.timer_expired(now, timer, &mut out),
            Input::SendQueueOverflow { connection } => {
                if let Some(conn) = self.connection_mut(connection) {
                    let notice = notification(NotificationCode::Cease, cease::OUT_OF_RESOURCES);
                    let step = conn.fail(notice, &mut out);
                    self.act(now, connection, step, &mut out);
                }
            }
        }
        let state = self.derived_state();
        if state != self.state {
            out.push(Output::StateChanged {
                from: self.state,
                to: state,
            });
            self.state = state;
            self.since = now;
        }
        out
    }

    fn derived_state(&self) -> State {
        if let Some(best) = self.connections.iter().map(|c| c.state).max() {
            best
        } else if !self.started || self.restart_pending {
            State::Idle
        } else if self.connecting {
            State::Connect
        } else {
            State::Active
        }
    }

    fn connection(&self, id: ConnectionId) -> Option<&Connection> {
        self.connections.iter().find(|c| c.id == id)
    }

    fn connection_mut(&mut self, id: ConnectionId) -> Option<&mut Connection> {
        self.connections.iter_mut().find(|c| c.id == id)
    }

    fn manual_start(&mut self, out: &mut Vec<Output>) {
        if self.started {
            return;
        }
        self.started = true;
        self.backoff.reset();
        self.begin(out);
    }

    /// Leave Idle: connect (active peer) or wait for the peer (passive).
    fn begin(&mut self, out: &mut Vec<Output>) {
        if !self.config.passive {
            self.connect(out);
        }
    }

    fn connect(&mut self, out: &mut Vec<Output>) {
        if self.connecting {
            out.push(Output::ConnectUnanswered);
            out.push(Output::CancelConnect);
        }
        self.connecting = true;
        out.push(Output::Connect);
        let retry = self.config.connect_retry.mul_f64(self.backoff.jitter());
        out.push(Output::ArmTimer(Timer::ConnectRetry, retry));
    }

    /// Send `notice` on every connection, close them and stay Idle until started again.
    fn manual_stop(&mut self, notice: Notification, reason: DownReason, out: &mut Vec<Output>) {
        if !self.started {
            return;
        }
        let was_established = self.established().is_some();
        for conn in &self.connections {
            out.push(Output::Send(conn.id, Message::Notification(notice.clone())));
        }
        self.started = false;
        self.go_idle(reason, was_established, out);
    }

    fn connect_failed(&mut self, out: &mut Vec<Output>) {
        if !self.connecting {
            return;
        }
        // RFC 4271 §8.2.2 Connect state, TcpConnectionFails: restart ConnectRetry, go Active.
        self.connecting = false;
        if self.connections.is_empty() {
            let retry = self.config.connect_retry.mul_f64(self.backoff.jitter());
            out.push(Output::ArmTimer(Timer::ConnectRetry, retry));
        }
    }

    fn tcp_connected(
        &mut self,
        now: Instant,
        id: ConnectionId,
        direction: Direction,
        out: &mut Vec<Output>,
    ) {
        // A stopped session refuses all connections (RFC 4271 §8.2.2, Idle).
        if !self.started {
            out.push(Output::Close(id));
            return;
        }
        // While waiting to restart automatically, the peer calling us ends the wait: the
        // idle-hold delay damps our own attempts, and refusing the peer would leave the
        // session down for the peer's whole connect-retry time (BIRD: 120 s).
        if self.restart_pending {
            if direction == Direction::Outgoing {
                out.push(Output::Close(id));
                return;
            }
            self.restart_pending = false;
            out.push(Output::StopTimer(Timer::IdleHold));
        }
        if direction == Direction::Outgoing {
            if !self.connecting {
                out.push(Output::Close(id));
                return;
            }
            self.connecting = false;
        }
        // A session that is up keeps its connection; the new one is rejected (RFC 4271 §6.8).
        if self.established().is_some() {
            out.push(Output::Send(
                id,
                Message::Notification(notification(
                    NotificationCode::Cease,
                    cease::CONNECTION_REJECTED,
                )),
            ));
            out.push(Output::Close(id));
            return;
        }
        // The peer gave up on its previous connection and opened a new one: replace it.
        if let Some(index) = self
            .connections
            .iter()
            .position(|c| c.direction == direction)
        {
            let old = self.connections.remove(index);
            old.close(out);
        }
        if !self.connecting {
            out.push(Output::StopTimer(Timer::ConnectRetry));
        }
        self.connections
            .push(Connection::open(now, id, direction, &self.config, out));
    }

    fn receive(&mut self, now: Instant, id: ConnectionId, message: Message, out: &mut Vec<Output>) {
        let config = &self.config;
        let Some(conn) = self.connections.iter_mut().find(|c| c.id == id) else {
            return;
        };
        let step = conn.receive(now, config, message, out);
        self.act(now, id, step, out);
    }

    /// Carry out what a connection's event led to.
    fn act(&mut self, now: Instant, id: ConnectionId, step: Step, out: &mut Vec<Output>) {
        match step {
            Step::Continue => {}
            Step::OpenAccepted => self.open_accepted(now, id, out),
            Step::Established => self.established_on(id, out),
            Step::Failed(reason) => self.fail(id, reason, out),
        }
    }

    /// RFC 4271 §6.8: with the peer's identifier known, of two connections in OpenConfirm (or
    /// one Established) keep the one opened by the speaker with the higher identifier and close
    /// the other with Cease / Connection Collision Resolution (RFC 4486).
    fn open_accepted(&mut self, now: Instant, id: ConnectionId, out: &mut Vec<Output>) {
        let other = self
            .connections
            .iter()
            .find(|c| c.id != id && c.state >= State::OpenConfirm)
            .map(|c| (c.id, c.state));
        let loser = match other {
            None => None,
            Some((other, State::Established)) => Some((id, other)),
            Some((other, _)) => {
                let Some(peer_id) = self.negotiated(id).map(|n| n.peer_id) else {
                    return;
                };
                let keep = if u32::from(self.config.local_id) < u32::from(peer_id) {
                    Direction::Incoming
                } else {
                    Direction::Outgoing
                };
                let this_direction = self.connection(id).map(|c| c.direction);
                if this_direction == Some(keep) {
                    Some((other, id))
                } else {
                    Some((id, other))
                }
            }
        };
        match loser {
            Some((loser, _winner)) => {
                self.close_collision_loser(loser, out);
                if loser != id
                    && let Some(conn) = self.connection_mut(id)
                {
                    conn.confirm(now, out);
                }
            }
            None => {
                if let Some(conn) = self.connection_mut(id) {
                    conn.confirm(now, out);
                }
            }
        }
    }

    fn close_collision_loser(&mut self, loser: ConnectionId, out: &mut Vec<Output>) {
        if let Some(index) = self.connections.iter().position(|c| c.id == loser) {
            let conn = self.connections.remove(index);
            out.push(Output::Send(
                conn.id,
                Message::Notification(notification(
                    NotificationCode::Cease,
                    cease::CONNECTION_COLLISION_RESOLUTION,
                )),
            ));
            conn.close(out);
        }
    }

    fn established_on(&mut self, id: ConnectionId, out: &mut Vec<Output>) {
        // Any other connection loses now (RFC 4271 §6.8: collision with an Established
        // connection closes the newer one).
        let others: Vec<ConnectionId> = self
            .connections
            .iter()
            .filter(|c| c.id != id)
            .map(|c| c.id)
            .collect();
        for other in others {
            self.close_collision_loser(other, out);
        }
        if self.connecting {
            self.connecting = false;
            out.push(Output::CancelConnect);
        }
        out.push(Output::StopTimer(Timer::ConnectRetry));
        self.backoff.reset();
        // The Restart State bit is for the first session after our restart only (RFC 4724 §3).
        if let Some(graceful_restart) = &mut self.config.graceful_restart {
            graceful_restart.restarting = false;
        }
        if let Some(negotiated) = self.negotiated(id).cloned() {
            out.push(Output::Established {
                connection: id,
                negotiated,
            });
        }
    }

    /// A connection failed. The session goes Idle when it was the established one or the last.
    fn fail(&mut self, id: ConnectionId, reason: DownReason, out: &mut Vec<Output>) {
        let Some(index) = self.connections.iter().position(|c| c.id == id) else {
            return;
        };
        let was_established = self.connections[index].state == State::Established;
        if self.connections.len() == 1
            && self.connections[index].state == State::OpenSent
            && reason == DownReason::ConnectionClosed
        {
            // RFC 4271 §8.2.2 OpenSent, TcpConnectionFails: back to Active and retry after
            // ConnectRetry (the peer may simply not be ready yet).
            let conn = self.connections.remove(index);
            conn.close(out);
            out.push(Output::Down {
                reason,
                was_established: false,
            });
            if !self.config.passive && !self.connecting {
                let retry = self.config.connect_retry.mul_f64(self.backoff.jitter());
                out.push(Output::ArmTimer(Timer::ConnectRetry, retry));
            }
        } else if was_established || self.connections.len() == 1 {
            self.go_idle(reason, was_established, out);
        } else {
            let conn = self.connections.remove(index);
            conn.close(out);
        }
    }

    /// Close everything and go Idle; restart automatically later unless stopped.
    fn go_idle(&mut self, reason: DownReason, was_established: bool, out: &mut Vec<Output>) {
        for conn in self.connections.drain(..) {
            conn.close(out);
        }
        if self.connecting {
            self.connecting = false;
            out.push(Output::CancelConnect);
        }
        out.push(Output::StopTimer(Timer::ConnectRetry));
        out.push(Output::Down {
            reason,
            was_established,
        });
        if self.started {
            self.restart_pending = true;
            out.push(Output::ArmTimer(Timer::IdleHold, self.backoff.next_delay()));
        } else {
            self.restart_pending = false;
            out.push(Output::StopTimer(Timer::IdleHold));
        }
    }

    fn timer_expired(&mut self, now: Instant, timer: Timer, out: &mut Vec<Output>) {
        match timer {
            Timer::IdleHold => {
                if self.started && self.restart_pending {
                    self.restart_pending = false;
                    self.begin(out);
                }
            }
            Timer::ConnectRetry => {
                if !self.started || self.restart_pending || self.config.passive {
                    return;
                }
                if self.connections.is_empty() {
                    self.connect(out);
                } else if self.connecting {
                    // A connection from the peer is under way; stop trying ours.
                    self.connecting = false;
                    out.push(Output::CancelConnect);
                }
            }
            Timer::Hold(id) => {
                if let Some(conn) = self.connection_mut(id) {
                    let step = conn.hold_timer_expired(now, out);
                    self.act(now, id, step, out);
                }
            }
            Timer::Keepalive(id) => {
                if let Some(conn) = self.connection_mut(id) {
                    conn.keepalive_timer_expired(out);
                }
            }
        }
    }
}
