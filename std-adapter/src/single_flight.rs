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
    /// One waker per pending [`FlightFuture`] (by its id): the one it was last polled with.
    wakers: Vec<(u64, Waker)>,
    /// The id the next future to wait gets.
    next_id: u64,
}

impl<T: Clone> Flight<T> {
    /// A flight with no result yet.
    #[must_use]
    pub fn new() -> Self {
        Self {
            inner: Mutex::new(Slot {
                result: None,
                wakers: Vec::new(),
                next_id: 0,
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
        for (_, w) in wakers {
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
            id: None,
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

/// Future returned by [`Flight::wait_async`]. It keeps one waker in the flight, the one it
/// was last polled with, and takes it out when dropped.
pub struct FlightFuture<T: Clone> {
    flight: Arc<Flight<T>>,
    /// Its entry among the flight's wakers, once it has been polled.
    id: Option<u64>,
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
        let this = self.get_mut();
        let mut slot = this
            .flight
            .inner
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(r) = &slot.result {
            return Poll::Ready(r.clone());
        }
        let entry = this
            .id
            .and_then(|id| slot.wakers.iter_mut().find(|(i, _)| *i == id));
        match entry {
            Some((_, w)) => {
                if !w.will_wake(cx.waker()) {
                    w.clone_from(cx.waker());
                }
            }
            None => {
                let id = slot.next_id;
                slot.next_id = slot.next_id.wrapping_add(1);
                slot.wakers.push((id, cx.waker().clone()));
                this.id = Some(id);
            }
        }
        Poll::Pending
    }
}

impl<T: Clone> Drop for FlightFuture<T> {
    fn drop(&mut self) {
        if let Some(id) = self.id {
            let mut slot = self
                .flight
                .inner
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            slot.wakers.retain(|(i, _)| *i != id);
        }
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

    struct CountWake(std::sync::atomic::AtomicUsize);

    impl std::task::Wake for CountWake {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    }

    fn waker() -> (Arc<CountWake>, Waker) {
        let w = Arc::new(CountWake(std::sync::atomic::AtomicUsize::new(0)));
        (Arc::clone(&w), Waker::from(w))
    }

    /// A future polled with a new waker each time keeps only the last one (they piled up, one
    /// per poll, until the flight ended), and that one is woken; a dropped future leaves none.
    #[test]
    fn a_future_keeps_only_its_last_waker() {
        let flight = Arc::new(Flight::<u32>::new());
        let mut fut = flight.wait_async();
        let mut last = None;
        for _ in 0..1000 {
            let (count, w) = waker();
            let mut cx = Context::from_waker(&w);
            assert!(Pin::new(&mut fut).poll(&mut cx).is_pending());
            last = Some(count);
        }
        let mut other = flight.wait_async();
        let (other_count, w) = waker();
        assert!(Pin::new(&mut other)
            .poll(&mut Context::from_waker(&w))
            .is_pending());
        assert!(
            format!("{flight:?}").contains("async_waiters: 2"),
            "{flight:?}"
        );
        drop(other);
        assert!(
            format!("{flight:?}").contains("async_waiters: 1"),
            "{flight:?}"
        );
        flight.finish(7);
        let last = last.unwrap();
        assert_eq!(last.0.load(std::sync::atomic::Ordering::SeqCst), 1);
        assert_eq!(other_count.0.load(std::sync::atomic::Ordering::SeqCst), 0);
        let (_, w) = waker();
        assert_eq!(
            Pin::new(&mut fut).poll(&mut Context::from_waker(&w)),
            Poll::Ready(7)
        );
    }
}
