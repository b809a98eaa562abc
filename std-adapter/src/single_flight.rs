//! A one-shot result shared by every caller waiting for the same refresh.
//!
//! The leader (the refresh thread) calls [`Flight::finish`] once; any number of waiters get a
//! clone of the result, either blocking ([`Flight::wait`]) or as a future ([`Flight::wait_async`])
//! that needs no particular async runtime.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};

/// One in-flight operation whose result many callers share.
pub struct Flight<T: Clone> {
    inner: Mutex<Slot<T>>,
    done: Condvar,
}

struct Slot<T> {
    result: Option<T>,
    wakers: Vec<Waker>,
}

impl<T: Clone> Flight<T> {
    /// A flight with no result yet.
    #[must_use]
    pub fn new() -> Self {
        Self {
            inner: Mutex::new(Slot {
                result: None,
                wakers: Vec::new(),
            }),
            done: Condvar::new(),
        }
    }

    /// Publishes the result and wakes every waiter. Later calls are ignored.
    pub fn finish(&self, result: T) {
        let wakers = {
            let mut slot = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
            if slot.result.is_some() {
                return;
            }
            slot.result = Some(result);
            std::mem::take(&mut slot.wakers)
        };
        self.done.notify_all();
        for w in wakers {
            w.wake();
        }
    }

    /// The result, if published.
    #[must_use]
    pub fn result(&self) -> Option<T> {
        let slot = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        slot.result.clone()
    }

    /// Blocks until the result is published.
    #[must_use]
    pub fn wait(&self) -> T {
        let mut slot = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            if let Some(r) = &slot.result {
                return r.clone();
            }
            slot = self.done.wait(slot).unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// A future resolving to the result; it never blocks the thread that polls it.
    #[must_use]
    pub fn wait_async(self: &Arc<Self>) -> FlightFuture<T> {
        FlightFuture {
            flight: Arc::clone(self),
        }
    }
}

impl<T: Clone> Default for Flight<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Clone> fmt::Debug for Flight<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let slot = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        f.debug_struct("Flight")
            .field("finished", &slot.result.is_some())
            .field("async_waiters", &slot.wakers.len())
            .finish()
    }
}

/// Future returned by [`Flight::wait_async`].
pub struct FlightFuture<T: Clone> {
    flight: Arc<Flight<T>>,
}

impl<T: Clone> fmt::Debug for FlightFuture<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FlightFuture")
            .field("flight", &self.flight)
            .finish()
    }
}

impl<T: Clone> Future for FlightFuture<T> {
    type Output = T;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let mut slot = self
            .flight
            .inner
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(r) = &slot.result {
            return Poll::Ready(r.clone());
        }
        if !slot.wakers.iter().any(|w| w.will_wake(cx.waker())) {
            slot.wakers.push(cx.waker().clone());
        }
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_waiters_get_the_one_result() {
        let f = Arc::new(Flight::<u32>::new());
        let handles: Vec<_> = (0..16)
            .map(|_| {
                let f = Arc::clone(&f);
                std::thread::spawn(move || f.wait())
            })
            .collect();
        f.finish(7);
        f.finish(8);
        for h in handles {
            assert_eq!(h.join().unwrap(), 7);
        }
        assert_eq!(f.result(), Some(7));
    }
}
