//! Timers of the driver's tasks: deadlines on tokio's clock, keyed by what they are for (the
//! FSM's [`Timer`]s in a session task, the core's own timers in the core).

use std::collections::HashMap;
use std::hash::Hash;
use std::time::Duration;

use tokio::time::Instant;

use crate::fsm::Timer;

/// Armed timers and their deadlines.
#[derive(Debug)]
pub struct Timers<T = Timer> {
    deadlines: HashMap<T, Instant>,
}

impl<T> Default for Timers<T> {
    fn default() -> Self {
        Self {
            deadlines: HashMap::new(),
        }
    }
}

impl<T: Copy + Eq + Hash + Ord> Timers<T> {
    pub fn arm(&mut self, timer: T, after: Duration) {
        self.deadlines.insert(timer, Instant::now() + after);
    }

    pub fn stop(&mut self, timer: T) {
        self.deadlines.remove(&timer);
    }

    /// The earliest deadline.
    pub fn next(&self) -> Option<Instant> {
        self.deadlines.values().min().copied()
    }

    /// Remove and return every timer due at `now`, earliest first.
    pub fn take_expired(&mut self, now: Instant) -> Vec<T> {
        let mut due: Vec<(Instant, T)> = self
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
