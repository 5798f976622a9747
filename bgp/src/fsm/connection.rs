//! One TCP connection of a session, from OPEN sent to Established (RFC 4271 §8.2.2, states
//! OpenSent, OpenConfirm and Established).
//!
//! The session ([`super::Session`]) owns up to two of these and decides about collisions; a
//! connection only reacts to its own messages and timers and says what happened as a [`Step`].

use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::packet::{Message, Notification, NotificationCode};

use super::config::{OPEN_HOLD_TIME, SessionConfig};
use super::event::{ConnectionId, Direction, DownReason, Output, Timer};
use super::negotiated::Negotiated;
use super::open_check::check_open;
use super::state::State;

/// Finite State Machine Error subcodes. RFC 6608 §4.
pub mod fsm_error {
    pub const UNEXPECTED_IN_OPEN_SENT: u8 = 1;
    pub const UNEXPECTED_IN_OPEN_CONFIRM: u8 = 2;
    pub const UNEXPECTED_IN_ESTABLISHED: u8 = 3;
}

/// What a connection's event led to, for the session to act on.
#[derive(Debug)]
pub(super) enum Step {
    /// Nothing the session must act on.
    Continue,
    /// The peer's OPEN was accepted; the connection is now in OpenConfirm and has not yet sent
    /// its KEEPALIVE (the session resolves collisions first, then calls [`Connection::confirm`]).
    OpenAccepted,
    /// The first KEEPALIVE arrived: the connection is Established.
    Established,
    /// The connection must be closed for this reason (any NOTIFICATION is already queued).
    Failed(DownReason),
}

/// One connection in OpenSent, OpenConfirm or Established.
#[derive(Debug)]
pub(super) struct Connection {
    pub id: ConnectionId,
    pub direction: Direction,
    pub state: State,
    pub negotiated: Option<Negotiated>,
    /// The current hold time; `None` when negotiated to 0.
    hold: Option<Duration>,
    /// When the hold timer really runs out; a timer expiry before this re-arms it (so receiving
    /// a message does not need a timer output).
    hold_deadline: Option<Instant>,
}

impl Connection {
    /// A fresh connection: send our OPEN and wait up to 4 minutes for theirs (RFC 4271 §8.2.2,
    /// Connect state, Tcp_CR_Acked).
    pub fn open(
        now: Instant,
        id: ConnectionId,
        direction: Direction,
        config: &SessionConfig,
        out: &mut Vec<Output>,
    ) -> Self {
        out.push(Output::Send(id, Message::Open(config.open())));
        out.push(Output::ArmTimer(Timer::Hold(id), OPEN_HOLD_TIME));
        Self {
            id,
            direction,
            state: State::OpenSent,
            negotiated: None,
            hold: Some(OPEN_HOLD_TIME),
            hold_deadline: Some(now + OPEN_HOLD_TIME),
        }
    }

    /// React to a message from the peer.
    pub fn receive(
        &mut self,
        now: Instant,
        config: &SessionConfig,
        message: Message,
        out: &mut Vec<Output>,
    ) -> Step {
        if let Some(hold) = self.hold {
            self.hold_deadline = Some(now + hold);
        }
        match (self.state, message) {
            (_, Message::Notification(notification)) => {
                Step::Failed(DownReason::NotificationReceived(notification))
            }
            (State::OpenSent, Message::Open(open)) => match check_open(config, &open) {
                Ok(negotiated) => {
                    self.state = State::OpenConfirm;
                    self.negotiated = Some(negotiated);
                    Step::OpenAccepted
                }
                Err(notification) => self.fail(notification, out),
            },
            (State::OpenConfirm, Message::Keepalive) => {
                self.state = State::Established;
                Step::Established
            }
            (State::Established, Message::Keepalive) => Step::Continue,
            (State::Established, Message::Update(update)) => {
                out.push(Output::Update(update));
                Step::Continue
            }
            (State::Established, Message::RouteRefresh(refresh)) => {
                // RFC 2918 §4: a ROUTE-REFRESH for a family that was not negotiated is ignored.
                if self.negotiated.as_ref().is_some_and(|n| n.route_refresh) {
                    out.push(Output::RouteRefresh(refresh));
                }
                Step::Continue
            }
            (state, _) => {
                let subcode = match state {
                    State::OpenSent => fsm_error::UNEXPECTED_IN_OPEN_SENT,
                    State::OpenConfirm => fsm_error::UNEXPECTED_IN_OPEN_CONFIRM,
                    _ => fsm_error::UNEXPECTED_IN_ESTABLISHED,
                };
                self.fail(
                    notification(NotificationCode::FiniteStateMachine, subcode),
                    out,
                )
            }
        }
    }

    /// Finish entering OpenConfirm: send KEEPALIVE and switch to the negotiated hold time.
    /// RFC 4271 §8.2.2, OpenSent state, BGPOpen event.
    pub fn confirm(&mut self, now: Instant, out: &mut Vec<Output>) {
        let Some(negotiated) = &self.negotiated else {
            return;
        };
        out.push(Output::Send(self.id, Message::Keepalive));
        self.hold = negotiated.hold();
        self.hold_deadline = self.hold.map(|hold| now + hold);
        match (self.hold, negotiated.keepalive()) {
            (Some(hold), Some(keepalive)) => {
                out.push(Output::ArmTimer(Timer::Hold(self.id), hold));
                out.push(Output::ArmTimer(Timer::Keepalive(self.id), keepalive));
            }
            _ => {
                out.push(Output::StopTimer(Timer::Hold(self.id)));
                out.push(Output::StopTimer(Timer::Keepalive(self.id)));
            }
        }
    }

    /// The hold timer fired: re-arm it if a message came meanwhile, else fail with NOTIFICATION
    /// Hold Timer Expired (RFC 4271 §6.5).
    pub fn hold_timer_expired(&mut self, now: Instant, out: &mut Vec<Output>) -> Step {
        match self.hold_deadline {
            None => Step::Continue,
            Some(deadline) if now < deadline => {
                out.push(Output::ArmTimer(Timer::Hold(self.id), deadline - now));
                Step::Continue
            }
            Some(_) => self.fail(notification(NotificationCode::HoldTimerExpired, 0), out),
        }
    }

    /// The keepalive timer fired: send a KEEPALIVE and arm the next one (RFC 4271 §4.4).
    pub fn keepalive_timer_expired(&mut self, out: &mut Vec<Output>) {
        if self.state == State::OpenSent {
            return;
        }
        if let Some(keepalive) = self.negotiated.as_ref().and_then(Negotiated::keepalive) {
            out.push(Output::Send(self.id, Message::Keepalive));
            out.push(Output::ArmTimer(Timer::Keepalive(self.id), keepalive));
        }
    }

    /// Queue `notification` and report the failure.
    pub fn fail(&mut self, notification: Notification, out: &mut Vec<Output>) -> Step {
        out.push(Output::Send(
            self.id,
            Message::Notification(notification.clone()),
        ));
        Step::Failed(DownReason::NotificationSent(notification))
    }

    /// Stop this connection's timers and close it.
    pub fn close(&self, out: &mut Vec<Output>) {
        out.push(Output::StopTimer(Timer::Hold(self.id)));
        out.push(Output::StopTimer(Timer::Keepalive(self.id)));
        out.push(Output::Close(self.id));
    }
}

/// A NOTIFICATION without data.
pub(super) fn notification(code: NotificationCode, subcode: u8) -> Notification {
    Notification {
        code,
        subcode,
        data: Bytes::new(),
    }
}
