//! A circuit breaker for the token endpoint.

use std::fmt;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

/// Stops refresh attempts for a while after consecutive transient failures.
///
/// Closed, it lets every attempt through and counts consecutive transient failures (5xx,
/// 429, timeouts, resets). At `threshold` failures it opens for `open_for`: attempts fail fast
/// without touching the network. Once that time has passed the breaker is half-open: exactly
/// one caller of [`allow`](Self::allow) gets `Ok` (the probe); every other caller gets `Err`
/// until the probe's result is recorded. Success closes the breaker, another failure opens
/// it again for `open_for`. Terminal answers (`invalid_grant`...) show the endpoint works and
/// count as successes.
///
/// A probe whose result is never recorded (its caller gave up, died or panicked) does not
/// keep the breaker half-open forever: its slot expires `open_for` after it was handed out,
/// and the next caller gets a new probe. A result recorded by any attempt, probe or not,
/// counts: a success closes the breaker.
///
/// [`allow`](Self::allow) hands out the probe, so call it once per request actually about to
/// be sent; a pre-check that does not send should use [`peek`](Self::peek), which takes
/// nothing.
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
    /// Set while open or half-open: attempts are refused until then.
    open_until: Option<Duration>,
    /// Half-open with the probe handed out: other attempts are refused until its result is
    /// recorded or until this time, when the slot expires.
    probe_until: Option<Duration>,
}

/// What [`State::check`] found at a given time.
enum Gate {
    /// Closed: go.
    Closed,
    /// Half-open and the probe slot is free: the caller may take it.
    Probe,
    /// Open, or half-open with the probe out: wait this long.
    Wait(Duration),
}

impl State {
    fn check(&self, now: Duration) -> Gate {
        match self.open_until {
            None => Gate::Closed,
            Some(until) if now < until => Gate::Wait(until.saturating_sub(now)),
            Some(_) => match self.probe_until {
                Some(probe) if now < probe => Gate::Wait(probe.saturating_sub(now)),
                _ => Gate::Probe,
            },
        }
    }
}

impl CircuitBreaker {
    /// Default consecutive failures before opening.
    pub const DEFAULT_THRESHOLD: u32 = 5;
    /// Default pause once open.
    pub const DEFAULT_OPEN_FOR: Duration = Duration::from_secs(30);

    /// A closed breaker. A `threshold` of 0 is treated as 1. An `open_for` of zero makes the
    /// pause, and the probe slot, expire at once (every attempt goes through).
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
    /// Closed: always `Ok`. Half-open: `Ok` for one caller, which then holds the probe (report
    /// its result with [`record_success`](Self::record_success) or
    /// [`record_failure`](Self::record_failure)); `Err` for everyone else until the result is
    /// recorded or the probe slot expires.
    ///
    /// # Errors
    ///
    /// The remaining pause while the breaker is open, or the time until the probe slot
    /// expires while another caller holds the probe.
    pub fn allow(&self, now: Duration) -> Result<(), Duration> {
        let mut state = self.lock();
        match state.check(now) {
            Gate::Closed => Ok(()),
            Gate::Probe => {
                state.probe_until = Some(now.saturating_add(self.open_for));
                Ok(())
            }
            Gate::Wait(wait) => Err(wait),
        }
    }

    /// What [`allow`](Self::allow) would answer at `now`, without taking the half-open probe:
    /// for pre-checks before deciding to start an attempt that will call `allow` itself.
    ///
    /// # Errors
    ///
    /// As [`allow`](Self::allow).
    pub fn peek(&self, now: Duration) -> Result<(), Duration> {
        match self.lock().check(now) {
            Gate::Closed | Gate::Probe => Ok(()),
            Gate::Wait(wait) => Err(wait),
        }
    }

    /// Gives back the half-open probe taken by [`allow`](Self::allow) for an attempt that sent
    /// nothing (or whose answer no longer counts): the next caller may probe at once instead
    /// of waiting for the slot to expire. Nothing changes when no probe is out.
    pub fn release_probe(&self) {
        self.lock().probe_until = None;
    }

    /// Records a successful (or terminal, but answered) attempt: closes the breaker.
    pub fn record_success(&self) {
        *self.lock() = State::default();
    }

    /// Records a transient failure at `now`; returns `true` if the breaker is now open (it
    /// then refuses attempts for `open_for`, and any half-open probe is over).
    pub fn record_failure(&self, now: Duration) -> bool {
        let mut state = self.lock();
        state.failures = state.failures.saturating_add(1);
        if state.failures >= self.threshold {
            state.open_until = Some(now.saturating_add(self.open_for));
            state.probe_until = None;
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
            .field("probe_until", &state.probe_until)
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

    /// A breaker with threshold 3 and a 10 s pause, opened at t = 2 (half-open from t = 12).
    fn opened() -> CircuitBreaker {
        let b = CircuitBreaker::new(3, Duration::from_secs(10));
        for s in 0..3 {
            b.record_failure(Duration::from_secs(s));
        }
        b
    }

    #[test]
    fn half_open_lets_exactly_one_probe_through() {
        let b = opened();
        let t = Duration::from_secs;
        assert_eq!(b.allow(t(11)), Err(t(1)));
        // Two callers after the pause: the first gets the probe, the second waits.
        assert_eq!(b.allow(t(12)), Ok(()));
        assert_eq!(b.allow(t(12)), Err(t(10)));
        assert_eq!(b.allow(t(20)), Err(t(2)));
        assert_eq!(b.peek(t(20)), Err(t(2)));
    }

    #[test]
    fn half_open_probe_is_unique_across_threads() {
        let b = opened();
        let barrier = std::sync::Barrier::new(8);
        let granted = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|_| {
                    s.spawn(|| {
                        barrier.wait();
                        b.allow(Duration::from_secs(12)).is_ok()
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or(false))
                .filter(|ok| *ok)
                .count()
        });
        assert_eq!(granted, 1);
    }

    #[test]
    fn probe_success_closes() {
        let b = opened();
        let t = Duration::from_secs;
        assert!(b.allow(t(12)).is_ok());
        assert!(b.allow(t(13)).is_err());
        b.record_success();
        assert_eq!(b.failures(), 0);
        for _ in 0..3 {
            assert_eq!(b.allow(t(13)), Ok(()));
        }
        // Closed again: it takes `threshold` new failures to open.
        assert!(!b.record_failure(t(14)));
        assert!(b.allow(t(14)).is_ok());
    }

    #[test]
    fn probe_failure_reopens_for_open_for() {
        let b = opened();
        let t = Duration::from_secs;
        assert!(b.allow(t(12)).is_ok());
        assert!(b.record_failure(t(15)));
        assert_eq!(b.allow(t(16)), Err(t(9)));
        assert_eq!(b.peek(t(24)), Err(t(1)));
        // Half-open again after the new pause: one new probe.
        assert_eq!(b.allow(t(25)), Ok(()));
        assert_eq!(b.allow(t(25)), Err(t(10)));
    }

    #[test]
    fn unrecorded_probe_expires() {
        let b = opened();
        let t = Duration::from_secs;
        // The probe's caller never reports back.
        assert!(b.allow(t(12)).is_ok());
        assert_eq!(b.allow(t(21)), Err(t(1)));
        // `open_for` after it was handed out, the slot is free for one new probe.
        assert_eq!(b.allow(t(22)), Ok(()));
        assert_eq!(b.allow(t(22)), Err(t(10)));
        assert_eq!(b.allow(t(31)), Err(t(1)));
        // A late result from the first probe still counts.
        b.record_success();
        assert!(b.allow(t(31)).is_ok());
        assert!(b.allow(t(31)).is_ok());
    }

    #[test]
    fn peek_does_not_take_the_probe() {
        let b = opened();
        let t = Duration::from_secs;
        assert_eq!(b.peek(t(5)), Err(t(7)));
        assert_eq!(b.peek(t(12)), Ok(()));
        assert_eq!(b.peek(t(12)), Ok(()));
        // A pre-check with `peek`, then the attempt itself with `allow`, gets through.
        assert_eq!(b.allow(t(12)), Ok(()));
        assert_eq!(b.peek(t(12)), Err(t(10)));
        assert!(CircuitBreaker::default().peek(t(0)).is_ok());
    }

    /// README, *Defaults*: the default breaker opens after 5 consecutive transient failures,
    /// for 30 s.
    #[test]
    fn the_default_opens_after_five_failures_for_thirty_seconds() {
        let b = CircuitBreaker::default();
        let t = Duration::from_secs;
        for _ in 0..4 {
            assert!(!b.record_failure(t(100)));
        }
        assert!(b.allow(t(100)).is_ok());
        assert!(b.record_failure(t(100)));
        assert_eq!(b.allow(t(100)), Err(t(30)));
        assert!(b.peek(t(129)).is_err());
        assert_eq!(b.allow(t(130)), Ok(()));
    }

    #[test]
    fn debug_shows_the_probe() {
        let b = opened();
        assert!(b.allow(Duration::from_secs(12)).is_ok());
        let s = format!("{b:?}");
        assert!(s.contains("probe_until: Some(22s)"), "{s}");
    }
}
