//! A circuit breaker for the token endpoint.

use std::fmt;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

/// Stops refresh attempts for a while after consecutive transient failures.
///
/// Closed, it lets every attempt through and counts consecutive transient failures (5xx,
/// 429, timeouts, resets). At `threshold` failures it opens for `open_for`: attempts fail fast
/// without touching the network. Once that time has passed the next attempt goes through
/// (half-open); success closes the breaker, another failure opens it again. Terminal answers
/// (`invalid_grant`...) show the endpoint works and count as successes.
///
/// Times are readings of [`Clock::monotonic`](crate::clock::Clock::monotonic). One breaker
/// may be shared (in an `Arc`) by every credential of the same token endpoint.
pub struct CircuitBreaker {
    threshold: u32,
    open_for: Duration,
    state: Mutex<State>,
}

#[derive(Debug, Default, Clone, Copy)]
struct State {
    failures: u32,
    open_until: Option<Duration>,
}

impl CircuitBreaker {
    /// Default consecutive failures before opening.
    pub const DEFAULT_THRESHOLD: u32 = 5;
    /// Default pause once open.
    pub const DEFAULT_OPEN_FOR: Duration = Duration::from_secs(30);

    /// A closed breaker. A `threshold` of 0 is treated as 1.
    #[must_use]
    pub fn new(threshold: u32, open_for: Duration) -> Self {
        Self {
            threshold: threshold.max(1),
            open_for,
            state: Mutex::new(State::default()),
        }
    }

    /// Whether an attempt may start at `now`; `Err` holds how long until it may.
    ///
    /// # Errors
    ///
    /// The remaining pause while the breaker is open.
    pub fn allow(&self, now: Duration) -> Result<(), Duration> {
        let state = self.lock();
        match state.open_until {
            Some(until) if now < until => Err(until.saturating_sub(now)),
            _ => Ok(()),
        }
    }

    /// Records a successful (or terminal, but answered) attempt: closes the breaker.
    pub fn record_success(&self) {
        *self.lock() = State::default();
    }

    /// Records a transient failure at `now`; returns `true` if the breaker is now open.
    pub fn record_failure(&self, now: Duration) -> bool {
        let mut state = self.lock();
        state.failures = state.failures.saturating_add(1);
        if state.failures >= self.threshold {
            state.open_until = Some(now.saturating_add(self.open_for));
            true
        } else {
            false
        }
    }

    /// Consecutive transient failures so far.
    #[must_use]
    pub fn failures(&self) -> u32 {
        self.lock().failures
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Default for CircuitBreaker {
    fn default() -> Self {
        Self::new(Self::DEFAULT_THRESHOLD, Self::DEFAULT_OPEN_FOR)
    }
}

impl fmt::Debug for CircuitBreaker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = *self.lock();
        f.debug_struct("CircuitBreaker")
            .field("threshold", &self.threshold)
            .field("open_for", &self.open_for)
            .field("failures", &state.failures)
            .field("open_until", &state.open_until)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_after_threshold_and_half_opens() {
        let b = CircuitBreaker::new(3, Duration::from_secs(10));
        let t = Duration::from_secs;
        assert!(b.allow(t(0)).is_ok());
        assert!(!b.record_failure(t(0)));
        assert!(!b.record_failure(t(1)));
        assert!(b.record_failure(t(2)));
        assert_eq!(b.allow(t(5)), Err(t(7)));
        assert!(b.allow(t(12)).is_ok());
        // Half-open: one more failure reopens at once.
        assert!(b.record_failure(t(12)));
        assert!(b.allow(t(13)).is_err());
        b.record_success();
        assert!(b.allow(t(13)).is_ok());
        assert_eq!(b.failures(), 0);
    }
}
