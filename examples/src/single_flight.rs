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
//! A leader that panics (a transport bug) frees its key on the way out and wakes the readers
//! waiting for it with [`Abandoned`]: nobody blocks forever, nobody gets an answer that never
//! came, and the next read sends again.
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
    /// `None` once published means the leader panicked (see [`Abandoned`]).
    flight: Arc<Flight<Option<T>>>,
    started: Instant,
}

/// Single-flight by key (the refresh request, which names the refresh token). `Debug` shows
/// the number of flights only: the keys hold the refresh token (and the client secret).
pub struct SingleFlight<T: Clone> {
    flights: Mutex<HashMap<String, Entry<T>>>,
}

impl<T: Clone> std::fmt::Debug for SingleFlight<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let flights = self
            .flights
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len();
        f.debug_struct("SingleFlight")
            .field("flights", &flights)
            .finish()
    }
}

/// The leader a caller waited for panicked (in `send`, `keep` or cloning the value) before it
/// had an answer: the request may or may not have reached the server, and there is no answer
/// to share. The key is free again, so the next call sends its own request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Abandoned;

impl std::fmt::Display for Abandoned {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the request this read waited for was abandoned (its sender panicked)")
    }
}

impl std::error::Error for Abandoned {}

impl<T: Clone> Default for SingleFlight<T> {
    fn default() -> Self {
        Self {
            flights: Mutex::new(HashMap::new()),
        }
    }
}

/// Ends a leader's flight if the leader unwinds before publishing: removes its key (only its
/// own entry) and wakes the followers with `None`; the panic then goes on.
struct Unwind<'a, T: Clone> {
    flights: &'a Mutex<HashMap<String, Entry<T>>>,
    key: &'a str,
    flight: Arc<Flight<Option<T>>>,
    armed: bool,
}

impl<T: Clone> Drop for Unwind<'_, T> {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        {
            let mut flights = self.flights.lock().unwrap_or_else(PoisonError::into_inner);
            if flights
                .get(self.key)
                .is_some_and(|e| Arc::ptr_eq(&e.flight, &self.flight))
            {
                flights.remove(self.key);
            }
        }
        self.flight.finish(None);
    }
}

impl<T: Clone> SingleFlight<T> {
    /// Forgets the answers kept for late readers ([`KEEP_SUCCESS`]); flights under way stay.
    /// For a caller that wants a fresh request for a key whose last answer is still kept (a
    /// provider that does not rotate refresh tokens sends the same request every time).
    pub fn forget_answers(&self) {
        self.flights
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|_, e| e.flight.result().is_none());
    }

    /// Runs `send` unless a call with the same `key` is in flight or recently succeeded, in
    /// which case its result is returned. `keep` says whether a result may be reused.
    ///
    /// A panic in `send` or `keep` (or in `T::clone`) reaches the leader's caller; the key is
    /// freed first, so later calls send again, and callers that were waiting for this leader
    /// get [`Abandoned`] instead of blocking forever.
    ///
    /// # Errors
    ///
    /// [`Abandoned`]: this caller waited for a leader that panicked. Only followers get it.
    pub fn run(
        &self,
        key: &str,
        send: impl FnOnce() -> T,
        keep: impl Fn(&T) -> bool,
    ) -> Result<(T, Role), Abandoned> {
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
            return flight.wait().map(|v| (v, Role::Follower)).ok_or(Abandoned);
        }
        let mut unwind = Unwind {
            flights: &self.flights,
            key,
            flight,
            armed: true,
        };
        let value = send();
        if !keep(&value) {
            let mut flights = self.flights.lock().unwrap_or_else(PoisonError::into_inner);
            flights.remove(key);
        }
        // Waiters already holding this flight get the value even when it is not kept.
        unwind.flight.finish(Some(value.clone()));
        unwind.armed = false;
        Ok((value, Role::Leader))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The keys are refresh request bodies (the refresh token, the client secret with
    /// `client_secret_post`), kept for up to [`KEEP_SUCCESS`]: `Debug` does not show them.
    #[test]
    fn debug_does_not_print_the_keys() {
        let flight = SingleFlight::<u32>::default();
        let body = "grant_type=refresh_token&refresh_token=rt-SECRET-1&client_id=app&client_secret=cs-SECRET-2";
        assert_eq!(flight.run(body, || 7, |_| true), Ok((7, Role::Leader)));
        let debug = format!("{flight:?}");
        assert!(!debug.contains("SECRET"), "{debug}");
        assert!(debug.contains("flights: 1"), "{debug}");
    }
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{mpsc, Barrier};

    /// A leader whose `send` panics frees its key: a later caller with the same key sends its
    /// own request instead of waiting forever for the abandoned one.
    #[test]
    fn a_panicking_leader_frees_its_key() {
        let flight = Arc::new(SingleFlight::<u32>::default());
        let f = Arc::clone(&flight);
        let leader =
            std::thread::spawn(move || f.run("k", || panic!("transport panicked"), |_| true));
        assert!(leader.join().is_err(), "the leader's panic goes on");
        let (tx, rx) = mpsc::channel();
        let f = Arc::clone(&flight);
        std::thread::spawn(move || {
            let r = f.run("k", || 9, |_| true);
            let _ = tx.send(format!("{r:?}"));
        });
        let got = rx.recv_timeout(Duration::from_secs(3));
        assert_eq!(
            got.as_deref(),
            Ok("Ok((9, Leader))"),
            "the next caller for the key is still blocked after 3 s, or did not send"
        );
    }

    /// A follower waiting for a leader whose `send` panics is woken with [`Abandoned`]: it
    /// neither blocks forever nor gets a value nobody received.
    #[test]
    fn followers_of_a_panicking_leader_get_abandoned() {
        let flight = Arc::new(SingleFlight::<u32>::default());
        let (release, released) = mpsc::channel::<()>();
        let f = Arc::clone(&flight);
        let leader = std::thread::spawn(move || {
            f.run(
                "k",
                || {
                    let _ = released.recv();
                    panic!("transport panicked")
                },
                |_| true,
            )
        });
        // Holders of the leader's flight: the map, the leader, and then the follower.
        let holders = || {
            let flights = flight
                .flights
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            flights.get("k").map(|e| Arc::strong_count(&e.flight))
        };
        let wait_for = |n: usize| {
            let deadline = Instant::now() + Duration::from_secs(10);
            while holders() != Some(n) {
                assert!(Instant::now() < deadline, "holders: {:?}", holders());
                std::thread::sleep(Duration::from_millis(1));
            }
        };
        wait_for(2);
        let (tx, rx) = mpsc::channel();
        let f = Arc::clone(&flight);
        std::thread::spawn(move || {
            let r = f.run("k", || 9, |_| true);
            let _ = tx.send(format!("{r:?}"));
        });
        wait_for(3);
        release.send(()).unwrap();
        assert!(leader.join().is_err(), "the leader's panic goes on");
        let got = rx.recv_timeout(Duration::from_secs(3));
        assert_eq!(
            got.as_deref(),
            Ok("Err(Abandoned)"),
            "the follower is still blocked after 3 s, or got a value"
        );
        assert_eq!(holders(), None, "the key is free");
    }

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
        assert!(roles.iter().all(|r| matches!(r, Ok((7, _)))));
        assert_eq!(
            roles
                .iter()
                .filter(|r| matches!(r, Ok((_, Role::Leader))))
                .count(),
            1
        );
        // Kept: a late caller reuses it; a failure is not kept.
        assert_eq!(flight.run("k", || 8, |_| true), Ok((7, Role::Follower)));
        assert_eq!(flight.run("f", || 1, |_| false), Ok((1, Role::Leader)));
        assert_eq!(flight.run("f", || 2, |_| false), Ok((2, Role::Leader)));
    }
}
