//! One token-endpoint request per refresh token, however many session reads need it at once.
//!
//! authcore's session read is single-request: each read that finds the access token due asks
//! for one refresh request. A server handling several requests of the same browser at the same
//! moment must not send the same refresh token several times (with rotation, all but the first
//! would fail and end the session). The first read to arrive sends the request (the *leader*);
//! the others wait for its answer and each finish their own read with it.
//!
//! Successful answers are kept for [`KEEP_SUCCESS`], so a read that arrives a little later
//! with the same, now retired refresh token (its cookie was sent before the new one reached
//! the browser) still gets the refreshed credential instead of `invalid_grant`. Failures are
//! not kept: the next read may try again.
//!
//! Each in-flight request is an authcore-std [`Flight`] (a one-shot result that any number of
//! threads wait on); this module adds the map from key to flight and the reuse window.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use authcore_std::single_flight::Flight;

/// How long a successful answer is reused for late readers.
pub const KEEP_SUCCESS: Duration = Duration::from_secs(60);

/// Whether a caller sent the request or waited for another's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Sent the request.
    Leader,
    /// Waited for the leader's answer (or reused a recent one).
    Follower,
}

#[derive(Debug)]
struct Entry<T: Clone> {
    flight: Arc<Flight<T>>,
    started: Instant,
}

/// Single-flight by key (the refresh request, which names the refresh token).
#[derive(Debug)]
pub struct SingleFlight<T: Clone> {
    flights: Mutex<HashMap<String, Entry<T>>>,
}

impl<T: Clone> Default for SingleFlight<T> {
    fn default() -> Self {
        Self {
            flights: Mutex::new(HashMap::new()),
        }
    }
}

impl<T: Clone> SingleFlight<T> {
    /// Runs `send` unless a call with the same `key` is in flight or recently succeeded, in
    /// which case its result is returned. `keep` says whether a result may be reused.
    pub fn run(&self, key: &str, send: impl FnOnce() -> T, keep: impl Fn(&T) -> bool) -> (T, Role) {
        let (flight, leader) = {
            let mut flights = self.flights.lock().unwrap_or_else(PoisonError::into_inner);
            flights
                .retain(|_, e| e.flight.result().is_none() || e.started.elapsed() < KEEP_SUCCESS);
            match flights.get(key) {
                Some(e) => (e.flight.clone(), false),
                None => {
                    let flight = Arc::new(Flight::new());
                    flights.insert(
                        key.to_owned(),
                        Entry {
                            flight: flight.clone(),
                            started: Instant::now(),
                        },
                    );
                    (flight, true)
                }
            }
        };
        if !leader {
            return (flight.wait(), Role::Follower);
        }
        let value = send();
        if !keep(&value) {
            let mut flights = self.flights.lock().unwrap_or_else(PoisonError::into_inner);
            flights.remove(key);
        }
        // Waiters already holding this flight get the value even when it is not kept.
        flight.finish(value.clone());
        (value, Role::Leader)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Barrier;

    #[test]
    fn one_call_per_key() {
        let flight = SingleFlight::<u32>::default();
        let calls = AtomicUsize::new(0);
        let barrier = Barrier::new(8);
        let roles: Vec<_> = std::thread::scope(|s| {
            let hs: Vec<_> = (0..8)
                .map(|_| {
                    s.spawn(|| {
                        barrier.wait();
                        flight.run(
                            "k",
                            || {
                                calls.fetch_add(1, Ordering::SeqCst);
                                std::thread::sleep(Duration::from_millis(100));
                                7
                            },
                            |_| true,
                        )
                    })
                })
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert!(roles.iter().all(|(v, _)| *v == 7));
        assert_eq!(roles.iter().filter(|(_, r)| *r == Role::Leader).count(), 1);
        // Kept: a late caller reuses it; a failure is not kept.
        assert_eq!(flight.run("k", || 8, |_| true), (7, Role::Follower));
        assert_eq!(flight.run("f", || 1, |_| false), (1, Role::Leader));
        assert_eq!(flight.run("f", || 2, |_| false), (2, Role::Leader));
    }
}
