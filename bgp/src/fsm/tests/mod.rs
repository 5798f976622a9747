//! In-memory tests of the session state machine: two sessions back to back, simulated time.

mod collision;
mod establish;
mod harness;
mod open_checks;
mod restart;
mod send_queue;
mod timers;
