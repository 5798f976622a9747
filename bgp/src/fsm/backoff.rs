//! The delay before an automatic restart: doubling per failure in a row, capped, with jitter.
//!
//! RFC 4271 §8.1.1 (IdleHoldTimer, DampPeerOscillations) and §10 (jitter of 75–100% so that
//! peers do not retry in lock-step). The jitter is deterministic: a small xorshift generator
//! seeded by the caller (tern seeds it from both identities, so the two ends of a session
//! draw different delays and a connection collision does not repeat on every retry).

use std::time::Duration;

/// Idle-hold backoff state.
#[derive(Debug, Clone)]
pub(super) struct Backoff {
    first: Duration,
    max: Duration,
    failures: u32,
    rng: u64,
}

impl Backoff {
    pub fn new(first: Duration, max: Duration, seed: u64) -> Self {
        Self {
            first,
            max,
            failures: 0,
            // Spread small seeds over all bits (splitmix64); xorshift must not start at 0.
            rng: splitmix64(seed) | 1,
        }
    }

    /// The delay for the next restart; each call counts one more failure.
    pub fn next_delay(&mut self) -> Duration {
        let doublings = self.failures.min(16);
        self.failures = self.failures.saturating_add(1);
        let base = self
            .first
            .saturating_mul(1u32 << doublings)
            .min(self.max.max(self.first));
        base.mul_f64(self.jitter())
    }

    /// The session reached Established: start over from the first delay.
    pub fn reset(&mut self) {
        self.failures = 0;
    }

    /// A factor in [0.75, 1.0).
    pub fn jitter(&mut self) -> f64 {
        let mut x = self.rng;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.rng = x;
        0.75 + 0.25 * ((x >> 11) as f64 / (1u64 << 53) as f64)
    }
}

fn splitmix64(seed: u64) -> u64 {
    let mut z = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_up_to_the_cap_within_jitter() {
        let mut backoff = Backoff::new(Duration::from_secs(1), Duration::from_secs(8), 42);
        let delays: Vec<f64> = (0..6).map(|_| backoff.next_delay().as_secs_f64()).collect();
        for (delay, base) in delays.iter().zip([1.0, 2.0, 4.0, 8.0, 8.0, 8.0]) {
            assert!(
                *delay >= base * 0.75 && *delay < base,
                "{delay} for base {base}"
            );
        }
        backoff.reset();
        assert!(backoff.next_delay() < Duration::from_secs(1));
    }

    #[test]
    fn different_seeds_draw_different_delays() {
        let mut a = Backoff::new(Duration::from_secs(1), Duration::from_secs(8), 1);
        let mut b = Backoff::new(Duration::from_secs(1), Duration::from_secs(8), 2);
        assert_ne!(a.next_delay(), b.next_delay());
    }
}
