//! The session task's timers: deadlines on tokio's clock, armed and stopped by the FSM.

use std::collections::HashMap;
use std::time::Duration;

use tokio::time::Instant;

use crate::fsm::Timer;

/// Armed timers and their deadlines.
#[derive(Debug, Default)]
pub struct Timers {
    deadlines: HashMap<Timer, Instant>,
}

impl Timers {
    pub fn arm(&mut self, timer: Timer, after: Duration) {
        self.deadlines.insert(timer, Instant::now() + after);
    }

    pub fn stop(&mut self, timer: Timer) {
        self.deadlines.remove(&timer);
    }

    /// The earliest deadline.
    pub fn next(&self) -> Option<Instant> {
        self.deadlines.values().min().copied()
    }

    /// Remove and return every timer due at `now`, earliest first.
    pub fn take_expired(&mut self, now: Instant) -> Vec<Timer> {
        let mut due: Vec<(Instant, Timer)> = self
            .deadlines
            .iter()
            .filter(|(_, at)| **at <= now)
            .map(|(timer, at)| (*at, *timer))
            .collect();
        due.sort();
        for (_, timer) in &due {
            self.deadlines.remove(timer);
        }
        due.into_iter().map(|(_, timer)| timer).collect()
    }
}
