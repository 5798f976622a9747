//! Bounded polling: the only way tests wait. A timeout error says what was awaited and the last
//! thing the probe saw.

use std::fmt::Display;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// How often [`wait_until`] polls.
pub const POLL_INTERVAL: Duration = Duration::from_millis(50);

/// Calls `probe` every [`POLL_INTERVAL`] until it returns `Ok(Some(value))`, or until `timeout`.
///
/// `Ok(None)` means "not yet". `Err(e)` also means "not yet" and `e` becomes the reported last
/// observation, so a probe can explain what it saw: `Err(anyhow!("state is {state}"))`.
/// The probe always runs at least once.
pub fn wait_until<T, E: Display>(
    what: &str,
    timeout: Duration,
    mut probe: impl FnMut() -> std::result::Result<Option<T>, E>,
) -> Result<T> {
    let deadline = Instant::now() + timeout;
    loop {
        let last = match probe() {
            Ok(Some(value)) => return Ok(value),
            Ok(None) => String::from("condition not met"),
            Err(e) => e.to_string(),
        };
        let now = Instant::now();
        if now >= deadline {
            return Err(Error::Timeout {
                what: what.to_string(),
                timeout,
                last,
            });
        }
        std::thread::sleep(POLL_INTERVAL.min(deadline - now));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn returns_the_value_once_ready() {
        let mut calls = 0;
        let value = wait_until("third call", Duration::from_secs(5), || {
            calls += 1;
            Ok::<_, String>((calls >= 3).then_some(calls))
        });
        assert_eq!(value.ok(), Some(3));
    }

    #[test]
    fn timeout_names_what_and_last_observation() {
        let error = wait_until("the moon", Duration::from_millis(120), || {
            Err::<Option<()>, _>("moon is at 10 degrees")
        })
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
        assert!(error.contains("waiting for the moon"), "{error}");
        assert!(error.contains("moon is at 10 degrees"), "{error}");
    }
}
