//! Clocks: wall time for token expiry and JWT claims, monotonic time for latencies and waits.
//!
//! The core never reads a clock; the adapter reads one [`Clock`] and hands `now` to the core.
//! Two readings are needed:
//!
//! - **Wall time** (Unix seconds) because `expires_at` and JWT `exp` are wall-clock values.
//!   It may jump (NTP, a user changing the date).
//! - **Monotonic time** to measure how long a request took and to sleep between retries: it
//!   never jumps, so a clock change cannot stretch or cut short a sleep between retries.
//!   The refresh machine's own "not before" times (after a failure, `Retry-After`, the
//!   minimum interval) are wall-clock values; when the wall clock is stepped back, the machine
//!   moves them back by the step it sees, so a back-off does not last as long as the step.
//!
//! `expires_in` is measured from the moment the request was *sent*: the adapter reads the wall
//! clock just before sending and gives that instant to the machine with the response, so a slow
//! token endpoint makes the recorded expiry earlier, never later, than the server's.
//!
//! [`SystemClock`] is the real clock. [`ManualClock`] is a fixed clock for tests: it only moves
//! when told to, and `sleep` advances it instantly instead of waiting.

use std::fmt;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A source of wall and monotonic time, and a way to wait.
pub trait Clock: Send + Sync + fmt::Debug {
    /// The current Unix time in whole seconds. Not required to be monotonic.
    fn unix_now(&self) -> i64;
    /// Time elapsed since an arbitrary fixed origin; never goes backwards.
    fn monotonic(&self) -> Duration;
    /// Blocks the calling thread for `duration` (a test clock may just advance itself).
    fn sleep(&self, duration: Duration);
}

/// The current Unix time in whole seconds from the system clock, rounded down (negative before
/// 1970; see [`unix_seconds`]).
#[must_use]
pub fn unix_now() -> i64 {
    unix_seconds(SystemTime::now())
}

/// `time` in whole Unix seconds, rounded down (towards the past, as [`ManualClock`] does): half
/// a second before 1970 is second -1, not 0. Saturates at `i64::MIN` / `i64::MAX`.
#[must_use]
pub fn unix_seconds(time: SystemTime) -> i64 {
    match time.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => {
            // `d` before the epoch: -ceil(d) whole seconds.
            let d = e.duration();
            let whole = i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
            let partial = i64::from(d.subsec_nanos() > 0);
            whole
                .checked_neg()
                .and_then(|s| s.checked_sub(partial))
                .unwrap_or(i64::MIN)
        }
    }
}

/// The system clocks: [`SystemTime`] for wall time, [`Instant`] for monotonic time.
#[derive(Debug, Clone, Copy)]
pub struct SystemClock {
    origin: Instant,
}

impl SystemClock {
    /// A system clock whose monotonic origin is now.
    #[must_use]
    pub fn new() -> Self {
        Self {
            origin: Instant::now(),
        }
    }
}

impl Default for SystemClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for SystemClock {
    fn unix_now(&self) -> i64 {
        unix_now()
    }

    fn monotonic(&self) -> Duration {
        self.origin.elapsed()
    }

    fn sleep(&self, duration: Duration) {
        std::thread::sleep(duration);
    }
}

/// A clock for tests: it starts at a given Unix time and moves only through
/// [`advance`](Self::advance), [`set`](Self::set) or [`Clock::sleep`], which returns at once
/// after advancing both readings. Shareable between threads.
#[derive(Default)]
pub struct ManualClock {
    /// Unix time in milliseconds.
    unix_millis: AtomicI64,
    /// Monotonic time in nanoseconds.
    mono_nanos: AtomicU64,
    /// Total time spent in `sleep`, in milliseconds.
    slept_millis: AtomicU64,
}

impl ManualClock {
    /// A clock reading `unix_secs`.
    #[must_use]
    pub fn new(unix_secs: i64) -> Self {
        Self {
            unix_millis: AtomicI64::new(unix_secs.saturating_mul(1000)),
            mono_nanos: AtomicU64::new(0),
            slept_millis: AtomicU64::new(0),
        }
    }

    /// Moves both readings forward by `duration`.
    pub fn advance(&self, duration: Duration) {
        let millis = i64::try_from(duration.as_millis()).unwrap_or(i64::MAX);
        let nanos = u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX);
        // Saturating: a clock that wrapped around would go backwards.
        let _ = self
            .unix_millis
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |m| {
                Some(m.saturating_add(millis))
            });
        let _ = self
            .mono_nanos
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                Some(n.saturating_add(nanos))
            });
    }

    /// Sets the wall reading (a clock jump); the monotonic reading is unchanged.
    pub fn set(&self, unix_secs: i64) {
        self.unix_millis
            .store(unix_secs.saturating_mul(1000), Ordering::SeqCst);
    }

    /// Total time passed to [`Clock::sleep`] so far.
    #[must_use]
    pub fn slept(&self) -> Duration {
        Duration::from_millis(self.slept_millis.load(Ordering::SeqCst))
    }
}

impl fmt::Debug for ManualClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ManualClock")
            .field("unix_secs", &self.unix_now())
            .finish_non_exhaustive()
    }
}

impl Clock for ManualClock {
    fn unix_now(&self) -> i64 {
        self.unix_millis.load(Ordering::SeqCst).div_euclid(1000)
    }

    fn monotonic(&self) -> Duration {
        Duration::from_nanos(self.mono_nanos.load(Ordering::SeqCst))
    }

    fn sleep(&self, duration: Duration) {
        let millis = u64::try_from(duration.as_millis()).unwrap_or(u64::MAX);
        let _ = self
            .slept_millis
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |m| {
                Some(m.saturating_add(millis))
            });
        self.advance(duration);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_saturates_instead_of_going_backwards() {
        let c = ManualClock::new(1_700_000_000);
        c.advance(Duration::from_nanos(u64::MAX));
        let mono = c.monotonic();
        c.advance(Duration::from_nanos(2));
        assert!(c.monotonic() >= mono, "{mono:?} -> {:?}", c.monotonic());
        let c = ManualClock::new(1_700_000_000);
        c.sleep(Duration::MAX);
        c.sleep(Duration::from_secs(1));
        assert!(c.unix_now() >= 1_700_000_000, "{}", c.unix_now());
        assert!(c.slept() >= Duration::from_millis(u64::MAX - 1));
    }

    #[test]
    fn manual_clock_moves_only_when_told() {
        let c = ManualClock::new(1_000);
        assert_eq!(c.unix_now(), 1_000);
        assert_eq!(c.monotonic(), Duration::ZERO);
        c.sleep(Duration::from_millis(2_500));
        assert_eq!(c.unix_now(), 1_002);
        assert_eq!(c.monotonic(), Duration::from_millis(2_500));
        assert_eq!(c.slept(), Duration::from_millis(2_500));
        c.set(5);
        assert_eq!(c.unix_now(), 5);
        assert_eq!(c.monotonic(), Duration::from_millis(2_500));
    }

    #[test]
    fn unix_seconds_round_down_like_the_manual_clock() {
        let at = |millis: i64| {
            let d = Duration::from_millis(millis.unsigned_abs());
            let t = if millis < 0 {
                UNIX_EPOCH.checked_sub(d)
            } else {
                UNIX_EPOCH.checked_add(d)
            };
            unix_seconds(t.unwrap())
        };
        for millis in [
            -2_500, -2_000, -1_500, -1_001, -1_000, -999, -500, -1, 0, 1, 500, 999, 1_000, 1_500,
        ] {
            let manual = ManualClock::default();
            manual.unix_millis.store(millis, Ordering::SeqCst);
            assert_eq!(at(millis), manual.unix_now(), "{millis} ms");
            assert_eq!(at(millis), millis.div_euclid(1000), "{millis} ms");
        }
        // Sub-nanosecond rounding: 1 ns before the epoch is second -1.
        let just_before = UNIX_EPOCH.checked_sub(Duration::from_nanos(1)).unwrap();
        assert_eq!(unix_seconds(just_before), -1);
    }

    #[test]
    fn system_clock_is_sane() {
        let c = SystemClock::new();
        assert!(c.unix_now() > 1_600_000_000);
        let a = c.monotonic();
        assert!(c.monotonic() >= a);
    }
}
