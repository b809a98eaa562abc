//! The refresher's edges, against the loopback token server on a manual clock: a sign-out
//! during a back-off, the circuit breaker's half-open probe when an attempt sends nothing,
//! a breaker that opens during a refresh, `Retry-After` after a slow answer, `max_wait` with
//! jitter, and a rotated refresh token kept from an answer whose access token is too large (or,
//! for a credential known only by its refresh token, from a refused answer).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Barrier, Mutex};
use std::time::Duration;

use authcore::refresh::RefreshError;
use authcore_std::breaker::CircuitBreaker;
use authcore_std::clock::{Clock, ManualClock};
use authcore_std::http::{
    Endpoint, FormPost, HttpsTransport, Timeouts, TokenHttpResponse, Transport, TransportError,
};
use authcore_std::refresh::{ClientCredentials, Error, Refresher, RefresherBuilder, RetryPolicy};
use authcore_std::secret::Secret;
use authcore_std::store::{FileStore, TokenSet, TokenStore};
use common::{Fault, TokenServer};

const NOW: i64 = 1_800_000_000;

/// A `ManualClock` whose next `sleep` (once armed) stops until the test lets it go.
#[derive(Debug)]
struct GatedClock {
    inner: ManualClock,
    armed: AtomicBool,
    entered: Barrier,
    release: Barrier,
}

impl GatedClock {
    fn new() -> Self {
        Self {
            inner: ManualClock::new(NOW),
            armed: AtomicBool::new(false),
            entered: Barrier::new(2),
            release: Barrier::new(2),
        }
    }
}

impl Clock for GatedClock {
    fn unix_now(&self) -> i64 {
        self.inner.unix_now()
    }
    fn monotonic(&self) -> Duration {
        self.inner.monotonic()
    }
    fn sleep(&self, d: Duration) {
        if self.armed.swap(false, Ordering::SeqCst) {
            self.entered.wait();
            self.release.wait();
        }
        self.inner.sleep(d);
    }
}

fn transport() -> HttpsTransport {
    HttpsTransport::new(Timeouts::new(
        Duration::from_secs(2),
        Duration::from_millis(800),
        Duration::from_secs(3),
    ))
}

/// A server, a file store holding an expired signed-in set under "user", and a builder.
fn setup(
    name: &str,
    clock: Arc<dyn Clock>,
) -> (
    TokenServer,
    common::TempDir,
    Arc<FileStore>,
    RefresherBuilder,
) {
    let server = TokenServer::start();
    let (at, rt) = server.sign_in();
    let dir = common::temp_dir(name);
    let store = Arc::new(FileStore::new(dir.path()).unwrap());
    store
        .save("user", &TokenSet::new(at, Some(Secret::new(rt)), NOW - 5))
        .unwrap();
    let b = Refresher::builder(
        Endpoint::parse(&server.token_url()).unwrap(),
        ClientCredentials::basic("app", "s3cret"),
    )
    .key("user")
    .store(store.clone())
    .clock(clock)
    .transport(Arc::new(transport()));
    (server, dir, store, b)
}

// ---------------------------------------------------------------- a sign-out during a back-off

#[test]
fn sign_out_during_backoff_gives_waiters_no_credential() {
    let clock = Arc::new(GatedClock::new());
    let (server, _dir, _store, b) = setup("rv-signout-backoff", clock.clone());
    let r = b.build();
    server.push_fault(Fault::Status(503, "{}", None));
    clock.armed.store(true, Ordering::SeqCst);
    let waiter = {
        let r = r.clone();
        std::thread::spawn(move || r.access_token())
    };
    clock.entered.wait(); // the refresh thread sleeps before its retry
    r.sign_out().unwrap();
    clock.release.wait();
    let got = waiter.join().unwrap();
    assert_eq!(server.requests(), 1);
    // Signed out: the waiter must be told "no credential" (terminal), as a sign-out while the
    // request is out or while the result is saved does; not "try again later".
    assert!(matches!(got, Err(Error::NoCredential)), "{got:?}");
}

// ---------------------------------------------------------------- the half-open probe

#[test]
fn a_probe_that_sends_nothing_does_not_block_the_half_open_breaker() {
    // Threshold 2: a 503, then (while the refresh thread backs off) a second failure recorded
    // by another user of the breaker opens it (30 s). The pause runs out (half-open) and the
    // user signs out. The retry takes the probe, finds nothing to send, and must give the
    // probe back, or every attempt is refused for another 30 s.
    let clock = Arc::new(GatedClock::new());
    let (server, _dir, _store, b) = setup("rv-probe-leak", clock.clone());
    let breaker = Arc::new(CircuitBreaker::new(2, Duration::from_secs(30)));
    let r = b
        .circuit_breaker(breaker.clone())
        .retry_policy(RetryPolicy::DEFAULT.max_retries(1))
        .build();
    server.push_fault(Fault::Status(503, "{}", None));
    clock.armed.store(true, Ordering::SeqCst);
    let waiter = {
        let r = r.clone();
        std::thread::spawn(move || r.access_token())
    };
    clock.entered.wait();
    assert!(breaker.record_failure(clock.monotonic()), "now open");
    clock.inner.advance(Duration::from_secs(31)); // half-open
    r.sign_out().unwrap();
    clock.release.wait();
    let got = waiter.join().unwrap();
    assert!(matches!(got, Err(Error::NoCredential)), "{got:?}");
    assert_eq!(server.requests(), 1);
    // Sign in again with a set that needs a refresh: nothing is in flight, the breaker is
    // half-open, so this attempt is the probe.
    let (at, rt) = server.sign_in();
    r.set_tokens(TokenSet::new(
        at,
        Some(Secret::new(rt)),
        clock.unix_now() - 5,
    ))
    .unwrap();
    let got = r.access_token();
    assert!(got.is_ok(), "{got:?}; breaker: {breaker:?}");
}

#[test]
fn a_sign_in_while_the_probe_is_out_does_not_block_the_half_open_breaker() {
    // The half-open probe gets a 200, but a sign-in lands while the answer is held: the
    // refresh returns the signed-in token without recording the probe's result.
    let clock = Arc::new(ManualClock::new(NOW));
    let (server, _dir, _store, b) = setup("rv-probe-signin", clock.clone());
    let (tx, rx) = mpsc::channel::<()>();
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let (tx, go_rx) = (Mutex::new(tx), Mutex::new(go_rx));
    let hold = Arc::new(AtomicBool::new(false));
    let r = {
        let hold = hold.clone();
        b.circuit_breaker(Arc::new(CircuitBreaker::new(1, Duration::from_secs(30))))
            .retry_policy(RetryPolicy::DEFAULT.max_retries(0))
            .step_hook(Arc::new(move |step| {
                if step == authcore_std::refresh::Step::AfterResponse
                    && hold.swap(false, Ordering::SeqCst)
                {
                    tx.lock().unwrap().send(()).unwrap();
                    go_rx.lock().unwrap().recv().unwrap();
                }
            }))
            .build()
    };
    server.push_fault(Fault::Status(503, "{}", None));
    assert_eq!(r.access_token().unwrap_err().kind(), "unavailable");
    clock.advance(Duration::from_secs(31)); // past the breaker's pause and the backoff
    hold.store(true, Ordering::SeqCst);
    let waiter = {
        let r = r.clone();
        std::thread::spawn(move || r.access_token())
    };
    rx.recv().unwrap(); // the probe got its 200
    let (at, rt) = server.sign_in();
    r.set_tokens(TokenSet::new(at, Some(Secret::new(rt)), NOW + 3600))
        .unwrap();
    go_tx.send(()).unwrap();
    waiter.join().unwrap().unwrap();
    assert_eq!(server.requests(), 2);
    // Nothing is in flight and the endpoint just answered 200: a forced refresh may go.
    let got = r.refresh();
    assert!(got.is_ok(), "{got:?}; breaker: {:?}", r.circuit_breaker());
}

// ---------------------------------------------------------------- back-off, breaker, kept tokens

#[test]
fn a_failure_that_opens_the_breaker_is_returned_at_once() {
    let clock = Arc::new(ManualClock::new(NOW));
    let (server, _dir, _store, b) = setup("rv-breaker-sleep", clock.clone());
    let r = b
        .circuit_breaker(Arc::new(CircuitBreaker::new(1, Duration::from_secs(120))))
        .build();
    for _ in 0..5 {
        server.push_fault(Fault::Status(503, "{}", None));
    }
    let got = r.access_token();
    assert_eq!(server.requests(), 1);
    // The 503 opened the breaker for 120 s: nothing can be sent before then, so there is
    // nothing to wait for (the back-off is 1 s), and the 503 is what callers should learn.
    assert_eq!(
        clock.slept(),
        Duration::ZERO,
        "callers held for {:?}; got {got:?}",
        clock.slept()
    );
    assert!(
        matches!(
            got,
            Err(Error::Unavailable {
                last: Some(RefreshError::Status { status: 503 }),
                ..
            })
        ),
        "{got:?}"
    );
}

#[test]
fn a_rotated_refresh_token_with_a_too_large_access_token_is_not_lost() {
    let clock = Arc::new(ManualClock::new(NOW));
    let (server, _dir, store, b) = setup("rv-at-too-large", clock);
    let r = b.build();
    let body: &'static str = Box::leak(
        format!(
            r#"{{"access_token":"{}","refresh_token":"rt-rotated","expires_in":3600,"token_type":"Bearer"}}"#,
            "a".repeat(20 * 1024)
        )
        .into_boxed_str(),
    );
    server.push_fault(Fault::SpendAndAnswer(body));
    let err = r.access_token().unwrap_err();
    assert!(
        matches!(
            err,
            Error::Refresh {
                error: RefreshError::AccessTokenTooLarge { .. },
                ..
            }
        ),
        "{err:?}"
    );
    let stored = store.load("user").unwrap().unwrap();
    // The old refresh token is spent at the server; the rotated one must be kept.
    assert_eq!(
        stored.refresh_token.as_ref().map(Secret::expose),
        Some("rt-rotated"),
        "store still holds the spent token"
    );
}

/// The real transport; each request takes `delay` of (manual) time before it is answered.
#[derive(Debug)]
struct Slow {
    inner: HttpsTransport,
    clock: Arc<ManualClock>,
    delay: Duration,
    /// (sent, answered) wall-clock milliseconds of each request.
    log: Mutex<Vec<(i64, i64)>>,
}

impl Transport for Slow {
    fn post_form(
        &self,
        endpoint: &Endpoint,
        form: &FormPost<'_>,
    ) -> Result<TokenHttpResponse, TransportError> {
        let sent = self.clock.monotonic();
        self.clock.advance(self.delay);
        let r = self.inner.post_form(endpoint, form);
        let answered = self.clock.monotonic();
        self.log.lock().unwrap().push((
            i64::try_from(sent.as_millis()).unwrap(),
            i64::try_from(answered.as_millis()).unwrap(),
        ));
        r
    }
}

#[test]
fn retry_after_counts_from_the_answer_not_from_the_send() {
    let clock = Arc::new(ManualClock::new(NOW));
    let slow = Arc::new(Slow {
        inner: transport(),
        clock: clock.clone(),
        delay: Duration::from_secs(5),
        log: Mutex::new(Vec::new()),
    });
    let (server, _dir, _store, b) = setup("rv-retry-after", clock.clone());
    let r = b.transport(slow.clone()).build();
    server.push_fault(Fault::Status(429, r#"{"error":"slow_down"}"#, Some(7)));
    r.access_token().unwrap();
    let log = slow.log.lock().unwrap().clone();
    assert_eq!(log.len(), 2);
    let gap = log[1].0 - log[0].1;
    assert!(
        gap >= 7_000,
        "retried {gap} ms after a `Retry-After: 7` answer"
    );
}

#[test]
fn max_wait_is_the_longest_wait_before_a_retry() {
    let clock = Arc::new(ManualClock::new(NOW));
    let (server, _dir, _store, b) = setup("rv-max-wait", clock.clone());
    let r = b
        .retry_policy(RetryPolicy::DEFAULT.max_wait(Duration::from_secs(10)))
        .build();
    server.push_fault(Fault::Status(429, "{}", Some(10)));
    r.access_token().unwrap();
    assert!(
        clock.slept() <= Duration::from_secs(10),
        "max_wait 10 s, slept {:?}",
        clock.slept()
    );
}

#[test]
fn with_the_default_breaker_callers_are_not_held_once_it_opens() {
    // Default breaker (5 failures, 30 s) and policy: the call that trips the breaker.
    let clock = Arc::new(ManualClock::new(NOW));
    let (server, _dir, _store, b) = setup("rv-breaker-default", clock.clone());
    let r = b.build();
    for _ in 0..20 {
        server.push_fault(Fault::Status(503, "{}", None));
    }
    assert_eq!(r.access_token().unwrap_err().kind(), "unavailable");
    clock.advance(Duration::from_secs(60));
    let before = clock.slept();
    let got = r.access_token();
    assert_eq!(server.requests(), 5);
    let held = clock.slept() - before;
    assert_eq!(
        held,
        Duration::ZERO,
        "callers held for {held:?}; got {got:?}"
    );
}

#[test]
fn a_wall_clock_stepped_back_does_not_make_a_backoff_last_for_hours() {
    let clock = Arc::new(ManualClock::new(NOW));
    let (server, _dir, _store, b) = setup("rv-clock-back", clock.clone());
    let r = b.retry_policy(RetryPolicy::DEFAULT.max_retries(0)).build();
    server.push_fault(Fault::Status(503, "{}", None));
    assert_eq!(r.access_token().unwrap_err().kind(), "unavailable");
    clock.set(NOW - 3600); // NTP steps the wall clock back an hour
    clock.advance(Duration::from_secs(60));
    // The machine cannot tell how long ago the step came: what was left of the 1 s back-off
    // at its last input is left now, never the hour the wall clock lost.
    match r.refresh() {
        Ok(_) => {}
        Err(Error::Unavailable {
            retry_at: Some(t), ..
        }) => {
            let wait = t - clock.unix_now();
            assert!((0..=2).contains(&wait), "waits {wait} s");
            clock.advance(Duration::from_secs(3));
            let got = r.refresh();
            assert!(got.is_ok(), "{got:?} at unix {}", clock.unix_now());
        }
        Err(e) => panic!("{e:?}"),
    }
    assert_eq!(server.requests(), 2);
}

#[test]
fn a_rotated_refresh_token_is_kept_after_set_refresh_token() {
    // As `a_rotated_refresh_token_with_a_too_large_access_token_is_not_lost`, but the
    // credential was installed with `set_refresh_token` (the CLI's way): no current set, so
    // nothing to store the kept token with. `Refresher::refresh_token` is then its only copy.
    let clock = Arc::new(ManualClock::new(NOW));
    let (server, _dir, store, b) = setup("rt-only-kept", clock);
    let r = b.build();
    let (_, rt) = server.sign_in();
    r.set_refresh_token(&Secret::new(rt.clone())).unwrap();
    assert_eq!(r.refresh_token().as_ref().map(Secret::expose), Some(&*rt));
    let stored_before = store.load("user").unwrap();
    server.push_fault(Fault::SpendAndAnswer(
        r#"{"access_token":"at-x","refresh_token":"rt-rotated","expires_in":3600,"token_type":"DPoP"}"#,
    ));
    let err = r.refresh().unwrap_err();
    assert!(
        matches!(
            err,
            Error::Refresh {
                error: RefreshError::BadResponse(_),
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        !server.is_live_refresh(&rt),
        "the server spent the old token"
    );
    assert_eq!(
        r.refresh_token().as_ref().map(Secret::expose),
        Some("rt-rotated"),
        "the rotated refresh token was dropped"
    );
    // Still no set to hand out, and the store is as it was (no set without an access token).
    assert_eq!(r.current(), None);
    assert_eq!(store.load("user").unwrap(), stored_before);
    // A later call does not send the spent token again, and the kept one stays.
    assert!(matches!(
        r.access_token(),
        Err(Error::SignInRequired { .. })
    ));
    assert_eq!(
        r.refresh_token().as_ref().map(Secret::expose),
        Some("rt-rotated")
    );
    assert_eq!(server.requests(), 1);
}

// ---------------------------------------------------------------- error codes, saves (from the mutation review)

/// An OAuth `error` code is echoed only when it contains no known secret (README, *Secrets
/// never print*): a server that puts the client secret, the refresh token or the access token
/// into `error` must not get it into the error's message or `oauth_code` (nor the logs, which
/// print the message). The tokens here are plain (`[a-z0-9_]`), as the secret is, so only the
/// secret check stands between them and the message.
#[test]
fn an_error_code_that_carries_a_known_secret_is_not_echoed() {
    for (case, code) in [
        ("client secret", "leak_s3cret_x"),
        ("refresh token", "leak_plainrefresh1_x"),
        ("access token", "leak_plainaccess1_x"),
    ] {
        let clock = Arc::new(ManualClock::new(NOW));
        let (server, _dir, _store, b) = setup("rv-code-secret", clock);
        let r = b.build();
        r.set_tokens(TokenSet::new(
            "plainaccess1",
            Some(Secret::new("plainrefresh1")),
            NOW - 5,
        ))
        .unwrap();
        let body: &'static str = Box::leak(format!(r#"{{"error":"{code}"}}"#).into_boxed_str());
        server.push_fault(Fault::Status(400, body, None));
        let err = r.access_token().unwrap_err();
        assert_eq!(err.kind(), "refresh_failed", "{case}");
        let shown = format!("{err} {err:?} {:?}", err.oauth_code());
        assert!(!shown.contains("leak_"), "{case} echoed: {shown}");
    }
    // A plain code without a secret is still echoed (the check above is not vacuous).
    let clock = Arc::new(ManualClock::new(NOW));
    let (server, _dir, _store, b) = setup("rv-code-plain", clock);
    let r = b.build();
    server.push_fault(Fault::Status(400, r#"{"error":"plain_code_9"}"#, None));
    let err = r.access_token().unwrap_err();
    assert_eq!(err.oauth_code(), Some("plain_code_9"), "{err:?}");
}

/// Only `Bearer` sets are handed out (`TokenSet::is_bearer`: the refresher sends the access
/// token in a `Bearer` header). A store that is not a `FileStore` may hold another type,
/// written by other code: loading it is `Error::UnsupportedTokenType`, not a `DPoP` token
/// sent as a bearer one.
#[test]
fn a_stored_set_that_is_not_bearer_is_not_handed_out() {
    let clock = Arc::new(ManualClock::new(NOW));
    let (server, _dir, _store, b) = setup("rv-load-dpop", clock);
    let store = Arc::new(authcore_std::store::MemoryStore::new());
    let mut dpop = TokenSet::new("at-dpop", Some(Secret::new("rt-dpop")), NOW + 3600);
    dpop.token_type = "DPoP".to_owned();
    store.save("user", &dpop).unwrap();
    let r = b.store(store).build();
    let got = r.access_token();
    assert!(
        matches!(got, Err(Error::UnsupportedTokenType)),
        "{:?}",
        got.map(|t| t.token_set().clone())
    );
    assert_eq!(server.requests(), 0);
}

/// The same for a set another writer stored meanwhile: it is not taken over (the refresh goes
/// on with the credential's own refresh token).
#[test]
fn a_set_another_writer_stored_that_is_not_bearer_is_not_taken_over() {
    let clock = Arc::new(ManualClock::new(NOW));
    let (server, _dir, _store, b) = setup("rv-adopt-dpop", clock.clone());
    let store = Arc::new(authcore_std::store::MemoryStore::new());
    let (at, rt) = server.sign_in();
    store
        .save("user", &TokenSet::new(at, Some(Secret::new(rt)), NOW - 5))
        .unwrap();
    let r = b
        .store(store.clone())
        .retry_policy(RetryPolicy::DEFAULT.max_retries(0))
        .build();
    server.push_fault(Fault::Status(503, "{}", None));
    assert_eq!(r.access_token().unwrap_err().kind(), "unavailable");
    let mut dpop = TokenSet::new("at-dpop", Some(Secret::new("rt-dpop")), NOW + 3600);
    dpop.token_type = "DPoP".to_owned();
    store.save("user", &dpop).unwrap();
    clock.advance(Duration::from_secs(60));
    let token = r.access_token().unwrap();
    assert_ne!(token.secret(), "at-dpop");
    assert!(token.token_set().is_bearer(), "{:?}", token.token_set());
    assert_eq!(server.requests(), 2);
}

/// README, *Defaults*: the first back-off is 1 s (`backoff_initial`), `Retry-After` is a floor,
/// and each wait gets "up to 20 % random jitter" on top (`jitter_per_mille` 200), never past
/// `max_wait` (30 s, jitter included). On a manual clock the waits are exactly what was slept.
#[test]
fn waits_are_the_machine_delay_plus_up_to_20_percent_jitter() {
    let clock = Arc::new(ManualClock::new(NOW));
    let (server, _dir, _store, b) = setup("rv-jitter", clock.clone());
    let r = b.build();
    // A 503: the machine's first back-off, 1 s (a quarter of 1 s, in whole seconds, is 0).
    server.push_fault(Fault::Status(503, "{}", None));
    r.access_token().unwrap();
    let first = clock.slept();
    assert!(
        first >= Duration::from_secs(1) && first <= Duration::from_millis(1200),
        "first back-off {first:?}"
    );
    // `Retry-After: 7`, ten times: 7 s plus 0 to 1.4 s each, and not always exactly 7 s.
    let mut waits = Vec::new();
    for _ in 0..10 {
        clock.advance(Duration::from_secs(11)); // past the minimum interval
        server.push_fault(Fault::Status(429, "{}", Some(7)));
        let before = clock.slept();
        r.refresh().unwrap();
        waits.push(clock.slept() - before);
    }
    assert!(
        waits
            .iter()
            .all(|w| *w >= Duration::from_secs(7) && *w <= Duration::from_millis(8400)),
        "{waits:?}"
    );
    assert!(
        waits.iter().any(|w| *w > Duration::from_secs(7)),
        "no jitter: {waits:?}"
    );
    // `Retry-After` over the cap: 30 s, and jitter does not take it past `max_wait` (30 s).
    clock.advance(Duration::from_secs(11));
    server.push_fault(Fault::Status(429, "{}", Some(100_000)));
    let before = clock.slept();
    r.refresh().unwrap();
    assert_eq!(clock.slept() - before, Duration::from_secs(30));
    assert_eq!(server.requests(), 2 + 2 * 10 + 2);
}

/// An endpoint that never answers is a transient failure for the circuit breaker (its docs:
/// "timeouts" count), also when the second unanswered send ends the refresh for good
/// (`NoResponseAfterRetry`): only an answer shows the endpoint works. Two timeouts are two
/// consecutive failures; they must not read as a success that closes the breaker.
#[test]
fn two_unanswered_sends_count_as_two_breaker_failures() {
    let clock = Arc::new(ManualClock::new(NOW));
    let (server, _dir, _store, b) = setup("rv-hang-breaker", clock);
    let breaker = Arc::new(CircuitBreaker::new(2, Duration::from_secs(30)));
    let r = b.circuit_breaker(breaker.clone()).build();
    server.push_fault(Fault::Hang(Duration::from_secs(2)));
    server.push_fault(Fault::Hang(Duration::from_secs(2)));
    let err = r.access_token().unwrap_err();
    assert_eq!(
        err,
        Error::Refresh {
            error: RefreshError::NoResponseAfterRetry,
            code: None
        }
    );
    assert_eq!(server.requests(), 2);
    assert_eq!(breaker.failures(), 2, "{breaker:?}");
    assert!(breaker.peek(Duration::ZERO).is_err(), "open: {breaker:?}");
}

/// A `FileStore` whose saves fail while `failing` is set.
#[derive(Debug)]
struct FailingSaves {
    inner: FileStore,
    failing: AtomicBool,
}

impl TokenStore for FailingSaves {
    fn load(&self, key: &str) -> Result<Option<TokenSet>, authcore_std::store::StoreError> {
        self.inner.load(key)
    }
    fn save(&self, key: &str, set: &TokenSet) -> Result<(), authcore_std::store::StoreError> {
        if self.failing.load(Ordering::SeqCst) {
            return Err(authcore_std::store::StoreError::Unavailable);
        }
        self.inner.save(key, set)
    }
    fn remove(&self, key: &str) -> Result<(), authcore_std::store::StoreError> {
        self.inner.remove(key)
    }
}

/// A refused 2xx answer rotated the refresh token; saving the kept token fails, so the store
/// still holds the set this refresher loaded, with the spent token. That stored set is what
/// this refresher last saw there, not another writer's newer work: it must not be taken over
/// on the next call (the credential has failed for good, and the store is read again then),
/// or the rotated token, the only live one, is dropped from memory too.
#[test]
fn a_kept_refresh_token_that_could_not_be_saved_is_not_replaced_by_the_stored_spent_one() {
    let clock = Arc::new(ManualClock::new(NOW));
    let (server, dir, _store, b) = setup("rv-kept-unsaved", clock.clone());
    let store = Arc::new(FailingSaves {
        inner: FileStore::new(dir.path()).unwrap(),
        failing: AtomicBool::new(true),
    });
    let r = b
        .store(store.clone())
        .retry_policy(RetryPolicy::DEFAULT.persist(2, Duration::from_millis(1)))
        .build();
    let old = store.load("user").unwrap().unwrap();
    server.push_fault(Fault::SpendAndAnswer(
        r#"{"access_token":"at-x","refresh_token":"rt-kept","expires_in":3600,"token_type":"DPoP"}"#,
    ));
    assert!(matches!(r.access_token(), Err(Error::Refresh { .. })));
    assert_eq!(store.load("user").unwrap(), Some(old), "the save failed");
    assert_eq!(
        r.refresh_token().as_ref().map(Secret::expose),
        Some("rt-kept")
    );
    // The next calls: still failed for good, and the kept token is still held.
    clock.advance(Duration::from_secs(60));
    for _ in 0..2 {
        let got = r.access_token();
        assert!(matches!(got, Err(Error::SignInRequired { .. })), "{got:?}");
        assert_eq!(
            r.refresh_token().as_ref().map(Secret::expose),
            Some("rt-kept"),
            "the rotated refresh token was dropped for the spent stored one"
        );
    }
    assert_eq!(server.requests(), 1);
    assert_eq!(server.reuse_attempts(), 0);
}

/// `RetryPolicy::max_wait`: "a longer backoff or `Retry-After` ends the refresh with
/// `Error::Unavailable` instead of blocking callers". `Retry-After: 20` with `max_wait` 10 s:
/// the call returns at once, holding nobody for a retry the machine would not allow anyway.
#[test]
fn a_wait_longer_than_max_wait_is_not_waited_at_all() {
    let clock = Arc::new(ManualClock::new(NOW));
    let (server, _dir, _store, b) = setup("rv-max-wait-over", clock.clone());
    let r = b
        .retry_policy(RetryPolicy::DEFAULT.max_wait(Duration::from_secs(10)))
        .build();
    server.push_fault(Fault::Status(429, "{}", Some(20)));
    let got = r.access_token();
    assert!(
        matches!(
            got,
            Err(Error::Unavailable {
                last: Some(RefreshError::Status { status: 429 }),
                ..
            })
        ),
        "{got:?}"
    );
    assert_eq!(clock.slept(), Duration::ZERO);
    assert_eq!(server.requests(), 1);
}
