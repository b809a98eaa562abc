//! The refresher against a real token server on 127.0.0.1: single flight, faults, retries,
//! circuit breaker, persistence.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

mod common;

use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use authcore::refresh::response::ResponseError;
use authcore::refresh::{OAuthError, RefreshError};
use authcore_std::breaker::CircuitBreaker;
use authcore_std::clock::{Clock as _, ManualClock};
use authcore_std::http::{Endpoint, EndpointError, HttpsTransport, Timeouts};
use authcore_std::refresh::{ClientCredentials, Error, Refresher, RetryPolicy};
use authcore_std::secret::Secret;
use authcore_std::store::{FileStore, StoreError, TokenSet, TokenStore};
use common::{Fault, TokenServer};

const NOW: i64 = 1_800_000_000;

struct Setup {
    server: TokenServer,
    store: Arc<FileStore>,
    /// The store's directory, removed when the setup is dropped.
    _dir: common::TempDir,
    clock: Arc<ManualClock>,
    refresher: Refresher,
    old: TokenSet,
}

fn timeouts() -> Timeouts {
    Timeouts::new(
        Duration::from_secs(2),
        Duration::from_millis(400),
        Duration::from_secs(3),
    )
}

/// A server, a file store holding an expired signed-in set, and a refresher on a manual clock.
fn setup(name: &str) -> Setup {
    setup_with(name, |b| b)
}

fn setup_with(
    name: &str,
    tweak: impl FnOnce(
        authcore_std::refresh::RefresherBuilder,
    ) -> authcore_std::refresh::RefresherBuilder,
) -> Setup {
    let server = TokenServer::start();
    let (at, rt) = server.sign_in();
    let dir = common::temp_dir(name);
    let store = Arc::new(FileStore::new(dir.path()).unwrap());
    let old = TokenSet::new(at, Some(Secret::new(rt)), NOW - 5);
    store.save("user", &old).unwrap();
    let clock = Arc::new(ManualClock::new(NOW));
    let builder = Refresher::builder(
        Endpoint::parse(&server.token_url()).unwrap(),
        ClientCredentials::basic("app", "s3cret"),
    )
    .key("user")
    .store(store.clone())
    .clock(clock.clone())
    .transport(Arc::new(HttpsTransport::new(timeouts())));
    let refresher = tweak(builder).build();
    Setup {
        server,
        store,
        _dir: dir,
        clock,
        refresher,
        old,
    }
}

fn old_rt(s: &Setup) -> &str {
    s.old.refresh_token.as_ref().unwrap().expose()
}

/// The store still holds the old set and its refresh token is unspent at the server.
fn assert_old_kept(s: &Setup) {
    assert_eq!(s.store.load("user").unwrap().as_ref(), Some(&s.old));
    assert!(s.server.is_live_refresh(old_rt(s)));
}

fn assert_new_stored(s: &Setup, token: &authcore_std::refresh::AccessToken) {
    let stored = s.store.load("user").unwrap().unwrap();
    assert_eq!(&stored, token.token_set());
    assert_ne!(stored.access_token, s.old.access_token);
    let rt = stored.refresh_token.as_ref().unwrap().expose();
    assert!(
        s.server.is_live_refresh(rt),
        "stored refresh token is the live one"
    );
    assert!(!s.server.is_live_refresh(old_rt(s)));
    assert!(stored.expires_at >= NOW + 3600);
    assert_eq!(stored.scope.as_deref(), Some("openid offline_access"));
}

#[test]
fn thousand_concurrent_callers_cause_one_request() {
    let s = setup("thousand");
    // Hold the answer so that every caller arrives while the request is out.
    s.server
        .push_fault(Fault::Delay(Duration::from_millis(300)));
    let n = 1000;
    let barrier = Arc::new(Barrier::new(n));
    let started = Instant::now();
    let handles: Vec<_> = (0..n)
        .map(|_| {
            let r = s.refresher.clone();
            let b = Arc::clone(&barrier);
            std::thread::Builder::new()
                .stack_size(128 * 1024)
                .spawn(move || {
                    b.wait();
                    r.access_token().map(|t| t.secret().to_owned())
                })
                .unwrap()
        })
        .collect();
    let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let first = results[0].clone().unwrap();
    assert!(results.iter().all(|r| r.as_deref() == Ok(first.as_str())));
    assert_eq!(s.server.requests(), 1);
    assert_eq!(s.server.reuse_attempts(), 0);
    let token = s.refresher.access_token().unwrap();
    assert_eq!(token.secret(), first);
    assert_new_stored(&s, &token);
    assert_eq!(s.server.requests(), 1);
    assert!(started.elapsed() < Duration::from_secs(20));
}

#[test]
fn async_callers_share_one_refresh_without_blocking_the_runtime() {
    let s = setup("async");
    // The token endpoint holds its answer for 300 ms (the set-up's read timeout is 400 ms).
    s.server
        .push_fault(Fault::Delay(Duration::from_millis(300)));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let refresher = s.refresher.clone();
    let ticks = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let (results, ticked) = rt.block_on(async move {
        // A ticker on the same (single) thread: it only runs while nobody blocks the thread.
        let counter = Arc::clone(&ticks);
        let ticker = tokio::spawn(async move {
            for _ in 0..10 {
                tokio::time::sleep(Duration::from_millis(10)).await;
                counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
        });
        let tasks: Vec<_> = (0..200)
            .map(|_| {
                let r = refresher.clone();
                let ticks = Arc::clone(&ticks);
                tokio::spawn(async move {
                    let token = r.access_token_async().await.map(|t| t.secret().to_owned());
                    // How far the ticker got while this caller waited for the answer: a
                    // caller that blocked the thread for the refresh sees none of its ticks.
                    (token, ticks.load(std::sync::atomic::Ordering::SeqCst))
                })
            })
            .collect();
        let mut results = Vec::new();
        for t in tasks {
            results.push(t.await.unwrap());
        }
        ticker.await.unwrap();
        (results, ticks.load(std::sync::atomic::Ordering::SeqCst))
    });
    assert_eq!(ticked, 10);
    // Every caller got its token after the ticker ran on: 10 ticks take 100 ms of the 300.
    let seen: Vec<usize> = results.iter().map(|(_, seen)| *seen).collect();
    assert!(
        seen.iter().all(|&n| n >= 5),
        "ticks seen by the callers: {seen:?}"
    );
    let tokens: Vec<String> = results.into_iter().map(|(t, _)| t.unwrap()).collect();
    assert!(tokens.iter().all(|t| *t == tokens[0]));
    assert_eq!(s.server.requests(), 1);
}

#[test]
fn fresh_token_needs_no_request_and_advisory_refreshes_in_background() {
    let s = setup("fresh");
    let (at, rt) = s.server.sign_in();
    let set = TokenSet::new(at.clone(), Some(Secret::new(rt)), NOW + 3600);
    s.refresher.set_tokens(set).unwrap();
    assert_eq!(s.refresher.access_token().unwrap().secret(), at);
    assert_eq!(s.server.requests(), 0);
    // Inside the advisory window (60 s + up to 30 s jitter): the old token is handed out and a
    // refresh starts on the side.
    s.clock.advance(Duration::from_secs(3600 - 30));
    assert_eq!(s.refresher.access_token().unwrap().secret(), at);
    let deadline = Instant::now() + Duration::from_secs(5);
    while s.refresher.access_token().unwrap().secret() == at {
        assert!(Instant::now() < deadline, "background refresh did not land");
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(s.server.requests(), 1);
}

#[test]
fn server_errors_are_retried_with_backoff() {
    let s = setup("503");
    s.server.push_fault(Fault::Status(503, "{}", None));
    s.server
        .push_fault(Fault::Status(500, r#"{"error":"server_error"}"#, None));
    let token = s.refresher.access_token().unwrap();
    assert_eq!(s.server.requests(), 3);
    // Backoff 1 s then 2 s (jitter only adds).
    assert!(
        s.clock.slept() >= Duration::from_secs(3),
        "{:?}",
        s.clock.slept()
    );
    assert_new_stored(&s, &token);
}

#[test]
fn retries_are_bounded_and_the_store_is_untouched() {
    let s = setup("500");
    for _ in 0..10 {
        s.server.push_fault(Fault::Status(500, "{}", None));
    }
    let err = s.refresher.access_token().unwrap_err();
    assert!(
        matches!(
            err,
            Error::Unavailable {
                last: Some(RefreshError::Status { status: 500 }),
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(s.server.requests(), 4, "first attempt + 3 retries");
    assert_old_kept(&s);
    // While backing off, callers fail fast without a request.
    let err = s.refresher.access_token().unwrap_err();
    assert_eq!(err.kind(), "unavailable");
    assert_eq!(s.server.requests(), 4);
}

#[test]
fn retry_after_is_honoured() {
    let s = setup("429");
    s.server
        .push_fault(Fault::Status(429, r#"{"error":"slow_down"}"#, Some(7)));
    let token = s.refresher.access_token().unwrap();
    assert_eq!(s.server.requests(), 2);
    assert!(
        s.clock.slept() >= Duration::from_secs(7),
        "{:?}",
        s.clock.slept()
    );
    assert_new_stored(&s, &token);
}

#[test]
fn retry_after_is_capped() {
    let s = setup("429cap");
    s.server.push_fault(Fault::Status(429, "{}", Some(100_000)));
    // Capped at 30 s by the adapter's default config, then retried.
    let token = s.refresher.access_token().unwrap();
    let slept = s.clock.slept();
    assert!(
        slept >= Duration::from_secs(30) && slept <= Duration::from_secs(37),
        "{slept:?}"
    );
    assert_new_stored(&s, &token);
}

#[test]
fn connection_reset_is_resent_once() {
    let s = setup("reset");
    s.server.push_fault(Fault::Reset);
    let token = s.refresher.access_token().unwrap();
    assert_eq!(s.server.requests(), 2);
    assert_new_stored(&s, &token);
}

#[test]
fn response_that_never_comes_times_out_and_is_resent_once() {
    let s = setup("hang1");
    s.server.push_fault(Fault::Hang(Duration::from_secs(3)));
    let started = Instant::now();
    let token = s.refresher.access_token().unwrap();
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(s.server.requests(), 2);
    assert_new_stored(&s, &token);
}

#[test]
fn two_timeouts_stop_without_a_third_send() {
    let s = setup("hang2");
    s.server.push_fault(Fault::Hang(Duration::from_secs(3)));
    s.server.push_fault(Fault::Hang(Duration::from_secs(3)));
    let err = s.refresher.access_token().unwrap_err();
    assert_eq!(
        err,
        Error::Refresh {
            error: RefreshError::NoResponseAfterRetry,
            code: None
        }
    );
    assert_eq!(s.server.requests(), 2);
    // The stored set is kept (the server never processed the requests here).
    assert_old_kept(&s);
}

#[test]
fn malformed_json_is_terminal_and_keeps_the_stored_set() {
    let s = setup("malformed");
    s.server
        .push_fault(Fault::Status(200, "{\"access_token\":", None));
    let err = s.refresher.access_token().unwrap_err();
    assert_eq!(
        err,
        Error::Refresh {
            error: RefreshError::BadResponse(ResponseError::Malformed),
            code: None
        }
    );
    assert_eq!(s.server.requests(), 1);
    assert_old_kept(&s);
    // Never sent again in this process.
    assert!(matches!(
        s.refresher.access_token(),
        Err(Error::SignInRequired { .. })
    ));
    assert_eq!(s.server.requests(), 1);
}

#[test]
fn a_success_too_large_to_read_is_terminal_and_the_spent_token_is_not_resent() {
    // The server rotates and answers 200 with a body over the transport's limit: the new
    // refresh token is in a body that cannot be read. Sending the old one again would only be
    // refused (or trip reuse detection), so the refresh ends for good after one request.
    let s = setup("toolarge");
    s.server
        .push_fault(Fault::SpendAndPad(authcore_std::http::MAX_RESPONSE));
    let err = s.refresher.access_token().unwrap_err();
    assert_eq!(
        err,
        Error::Refresh {
            error: RefreshError::BadResponse(ResponseError::Unreadable),
            code: None
        }
    );
    assert!(err.is_terminal());
    assert_eq!(s.server.requests(), 1);
    assert_eq!(s.server.reuse_attempts(), 0);
    assert!(matches!(
        s.refresher.access_token(),
        Err(Error::SignInRequired { .. })
    ));
    assert_eq!(s.server.requests(), 1);
    // A large answer within the limit is read (an id_token of 200 kB).
    let s = setup("large");
    s.server.push_fault(Fault::SpendAndPad(200_000));
    let token = s.refresher.access_token().unwrap();
    assert_new_stored(&s, &token);
    assert_eq!(s.server.requests(), 1);
}

#[test]
fn absurd_timeouts_do_not_panic() {
    // `Instant + Duration::MAX` overflows; the transport treats it as no deadline.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let t = HttpsTransport::new(Timeouts::new(Duration::MAX, Duration::MAX, Duration::MAX));
    let endpoint = Endpoint::parse(&format!("http://127.0.0.1:{port}/token")).unwrap();
    let result = authcore_std::http::Transport::post_form(
        &t,
        &endpoint,
        &authcore_std::http::FormPost {
            body: "grant_type=refresh_token",
            authorization: None,
        },
    );
    let err = result.unwrap_err();
    assert_eq!(err.failure, authcore::refresh::TransportFailure::NotSent);
}

#[test]
fn success_without_access_token_is_terminal() {
    let s = setup("noat");
    s.server.push_fault(Fault::Status(
        200,
        r#"{"token_type":"Bearer","expires_in":3600}"#,
        None,
    ));
    let err = s.refresher.access_token().unwrap_err();
    assert_eq!(
        err,
        Error::Refresh {
            error: RefreshError::BadResponse(ResponseError::MissingAccessToken),
            code: None
        }
    );
    assert_eq!(s.server.requests(), 1);
    assert_old_kept(&s);
}

#[test]
fn invalid_grant_is_terminal_and_never_retried() {
    let s = setup("invalid_grant");
    s.server.push_fault(Fault::Status(
        400,
        r#"{"error":"invalid_grant","error_description":"revoked"}"#,
        None,
    ));
    let err = s.refresher.access_token().unwrap_err();
    assert!(matches!(
        err,
        Error::Refresh {
            error: RefreshError::OAuth {
                code: OAuthError::InvalidGrant,
                status: 400
            },
            ..
        }
    ));
    assert_eq!(err.oauth_code(), Some("invalid_grant"));
    assert!(err.is_terminal());
    assert_eq!(s.server.requests(), 1);
    assert_eq!(s.store.load("user").unwrap().as_ref(), Some(&s.old));
    assert!(matches!(
        s.refresher.access_token(),
        Err(Error::SignInRequired { .. })
    ));
    assert_eq!(s.server.requests(), 1);
}

#[test]
fn reused_refresh_token_gets_invalid_grant() {
    let s = setup("reuse");
    let token = s.refresher.access_token().unwrap();
    assert_new_stored(&s, &token);
    // A second refresher that still has the old set (a stale copy) is refused.
    let stale = Refresher::builder(
        Endpoint::parse(&s.server.token_url()).unwrap(),
        ClientCredentials::basic("app", "s3cret"),
    )
    .clock(s.clock.clone())
    .build();
    stale.set_tokens(s.old.clone()).unwrap();
    let err = stale.access_token().unwrap_err();
    assert_eq!(err.oauth_code(), Some("invalid_grant"));
    assert_eq!(s.server.reuse_attempts(), 1);
}

#[test]
fn wrong_client_secret_is_invalid_client() {
    let server = TokenServer::start();
    let (at, rt) = server.sign_in();
    let r = Refresher::builder(
        Endpoint::parse(&server.token_url()).unwrap(),
        ClientCredentials::post("app", "wrong"),
    )
    .build();
    r.set_tokens(TokenSet::new(at, Some(Secret::new(rt.clone())), 0))
        .unwrap();
    let err = r.access_token().unwrap_err();
    assert_eq!(err.oauth_code(), Some("invalid_client"));
    assert!(server.is_live_refresh(&rt));
}

#[test]
fn connection_refused_is_retried_and_never_spends_the_token() {
    let s = setup("refused");
    // Nothing listens on this port any more.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/token", dead.local_addr().unwrap());
    drop(dead);
    let r = Refresher::builder(
        Endpoint::parse(&url).unwrap(),
        ClientCredentials::basic("app", "s3cret"),
    )
    .key("user")
    .store(s.store.clone())
    .clock(s.clock.clone())
    .transport(Arc::new(HttpsTransport::new(timeouts())))
    .build();
    let err = r.access_token().unwrap_err();
    assert!(
        matches!(
            &err,
            Error::Unavailable {
                last: Some(RefreshError::NotSent),
                transport: Some(_),
                ..
            }
        ),
        "{err:?}"
    );
    assert_old_kept(&s);
}

#[test]
fn circuit_breaker_opens_after_consecutive_failures() {
    let s = setup_with("breaker", |b| {
        b.circuit_breaker(Arc::new(CircuitBreaker::new(5, Duration::from_secs(120))))
    });
    for _ in 0..20 {
        s.server.push_fault(Fault::Status(503, "{}", None));
    }
    assert_eq!(
        s.refresher.access_token().unwrap_err().kind(),
        "unavailable"
    );
    assert_eq!(s.server.requests(), 4);
    // Past the machine's backoff: one more attempt trips the breaker (5 failures). Its
    // failure comes back at once, with its detail (no back-off for a retry the open breaker
    // would refuse).
    s.clock.advance(Duration::from_secs(60));
    let slept = s.clock.slept();
    assert!(matches!(
        s.refresher.access_token(),
        Err(Error::Unavailable {
            last: Some(RefreshError::Status { status: 503 }),
            ..
        })
    ));
    assert_eq!(s.clock.slept(), slept);
    assert_eq!(s.server.requests(), 5);
    s.clock.advance(Duration::from_secs(60));
    assert!(matches!(
        s.refresher.access_token(),
        Err(Error::CircuitOpen { .. })
    ));
    assert_eq!(s.server.requests(), 5, "no request while open");
    // After the pause, a half-open attempt succeeds and closes the breaker.
    s.server.state.lock().unwrap().faults.clear();
    s.clock.advance(Duration::from_secs(61));
    let token = s.refresher.access_token().unwrap();
    assert_eq!(s.server.requests(), 6);
    assert_eq!(s.refresher.circuit_breaker().failures(), 0);
    assert_new_stored(&s, &token);
}

/// A store whose saves fail while `failing` is set.
#[derive(Debug)]
struct FlakyStore {
    inner: FileStore,
    failing: std::sync::atomic::AtomicBool,
    failures: std::sync::atomic::AtomicUsize,
}

impl TokenStore for FlakyStore {
    fn load(&self, key: &str) -> Result<Option<TokenSet>, StoreError> {
        self.inner.load(key)
    }
    fn save(&self, key: &str, set: &TokenSet) -> Result<(), StoreError> {
        if self.failing.load(std::sync::atomic::Ordering::SeqCst) {
            self.failures
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            return Err(StoreError::Unavailable);
        }
        self.inner.save(key, set)
    }
    fn remove(&self, key: &str) -> Result<(), StoreError> {
        self.inner.remove(key)
    }
}

/// A signed-in user's set (expired, so the next call refreshes) saved in a [`FlakyStore`]
/// under `name`, whose saves fail from now on.
fn failing_store(server: &TokenServer, name: &str) -> (Arc<FlakyStore>, TokenSet, common::TempDir) {
    let (at, rt) = server.sign_in();
    let dir = common::temp_dir(name);
    let store = Arc::new(FlakyStore {
        inner: FileStore::new(dir.path()).unwrap(),
        failing: false.into(),
        failures: 0.into(),
    });
    let old = TokenSet::new(at, Some(Secret::new(rt)), NOW - 5);
    store.save("user", &old).unwrap();
    store
        .failing
        .store(true, std::sync::atomic::Ordering::SeqCst);
    (store, old, dir)
}

#[test]
fn failed_persist_keeps_the_new_set_in_memory_and_retries() {
    let server = TokenServer::start();
    let (store, old, _dir) = failing_store(&server, "flaky");
    let clock = Arc::new(ManualClock::new(NOW));
    let r = Refresher::builder(
        Endpoint::parse(&server.token_url()).unwrap(),
        ClientCredentials::basic("app", "s3cret"),
    )
    .key("user")
    .store(store.clone())
    .clock(clock.clone())
    .retry_policy(RetryPolicy::DEFAULT.persist(3, Duration::from_millis(10)))
    .build();
    let err = r.access_token().unwrap_err();
    assert_eq!(err, Error::Persist(StoreError::Unavailable));
    assert_eq!(err.kind(), "persist_failed");
    assert_eq!(store.failures.load(std::sync::atomic::Ordering::SeqCst), 3);
    assert_eq!(server.requests(), 1);
    // The old set is still on disk; the new one is in memory only and not handed out.
    assert_eq!(store.load("user").unwrap(), Some(old.clone()));
    assert_eq!(
        r.access_token().unwrap_err(),
        Error::Persist(StoreError::Unavailable)
    );
    assert_eq!(server.requests(), 1, "the spent token is not sent again");
    // The store recovers: the next call saves the pending set, then hands it out.
    store
        .failing
        .store(false, std::sync::atomic::Ordering::SeqCst);
    let token = r.access_token().unwrap();
    assert_eq!(server.requests(), 1);
    let stored = store.load("user").unwrap().unwrap();
    assert_eq!(&stored, token.token_set());
    assert!(server.is_live_refresh(stored.refresh_token.as_ref().unwrap().expose()));
}

#[test]
fn refresh_token_is_kept_when_the_server_does_not_rotate() {
    let s = setup("norotate");
    s.server.state.lock().unwrap().rotate = false;
    let token = s.refresher.access_token().unwrap();
    let stored = s.store.load("user").unwrap().unwrap();
    assert_eq!(&stored, token.token_set());
    assert_eq!(stored.refresh_token, s.old.refresh_token);
    assert!(s.server.is_live_refresh(old_rt(&s)));
}

#[test]
fn plain_http_to_other_hosts_is_refused() {
    assert_eq!(
        Endpoint::parse("http://auth.example.com/token").unwrap_err(),
        EndpointError::InsecureScheme
    );
    assert!(EndpointError::InsecureScheme
        .to_string()
        .contains("https://"));
    assert!(Endpoint::parse("https://auth.example.com/token").is_ok());
}

#[test]
fn manual_clock_time_is_used_for_expiry() {
    let s = setup("expiry");
    s.clock.advance(Duration::from_secs(100));
    let token = s.refresher.access_token().unwrap();
    assert_eq!(token.token_set().expires_at, s.clock.unix_now() + 3600);
}

/// A set whose `token_type` is not `Bearer` is refused: the refresher sends its access token in
/// a `Bearer` header. A `DPoP` set saved to the file store by hand reads as corrupt.
#[test]
fn only_bearer_sets_are_taken() {
    let s = setup("bearer-only");
    let mut dpop = TokenSet::new("at-dpop", Some(Secret::new("rt-dpop")), NOW + 3600);
    dpop.token_type = "DPoP".to_owned();
    assert_eq!(
        s.refresher.set_tokens(dpop.clone()).unwrap_err(),
        Error::UnsupportedTokenType
    );
    assert_eq!(Error::UnsupportedTokenType.kind(), "unsupported_token_type");
    assert_old_kept(&s);
    // Any case of Bearer is Bearer (RFC 6750).
    let mut lower = TokenSet::new("at-lower", Some(Secret::new("rt-lower")), NOW + 3600);
    lower.token_type = "bearer".to_owned();
    let token = s.refresher.set_tokens(lower).unwrap();
    assert_eq!(token.token_set().access_token.expose(), "at-lower");
    // The file store does not save a non-Bearer set (it would not read it back), and reads
    // one written by other means as corrupt.
    assert_eq!(s.store.save("dpop", &dpop), Err(StoreError::NotBearer));
    assert_eq!(s.store.load("dpop"), Ok(None));
    std::fs::write(
        s.store.path_for("dpop"),
        r#"{"v":1,"access_token":"at","refresh_token":"rt","expires_at":1,"token_type":"DPoP","scope":null}"#,
    )
    .unwrap();
    assert_eq!(s.store.load("dpop"), Err(StoreError::Corrupt));
}

/// `Refresher::refresh_token` is the refresh token held now: none before the credential is
/// loaded or installed, the rotated one after a refresh, one kept from a refused answer, the
/// signed-in one, none after sign-out.
#[test]
fn refresh_token_is_the_one_held_now() {
    let s = setup("rt-accessor");
    let r = &s.refresher;
    let held = || r.refresh_token().map(|t| t.expose().to_owned());
    assert_eq!(held(), None, "nothing loaded yet");
    // A refused 2xx answer that rotated the token: the kept one replaces the stored one.
    s.server.push_fault(Fault::SpendAndAnswer(
        r#"{"access_token":"at-x","refresh_token":"rt-kept","expires_in":3600,"token_type":"DPoP"}"#,
    ));
    assert!(matches!(r.access_token(), Err(Error::Refresh { .. })));
    assert_eq!(held().as_deref(), Some("rt-kept"));
    let stored = s.store.load("user").unwrap().unwrap();
    assert_eq!(stored.refresh_token, Some(Secret::new("rt-kept")));
    assert_eq!(r.current().unwrap().refresh_token, stored.refresh_token);
    // A sign-in installs its own.
    let (at, rt) = s.server.sign_in();
    r.set_tokens(TokenSet::new(at, Some(Secret::new(rt.clone())), NOW - 5))
        .unwrap();
    assert_eq!(held(), Some(rt.clone()));
    // A refresh rotates it: the new one, as stored and handed out.
    let token = r.access_token().unwrap();
    let new = token.token_set().refresh_token.clone();
    assert!(new.is_some() && new != Some(Secret::new(rt.clone())));
    assert_eq!(r.refresh_token(), new);
    assert_eq!(s.store.load("user").unwrap().unwrap().refresh_token, new);
    // A refresh-token-only credential holds that token before any request.
    r.set_refresh_token(&Secret::new("rt-only")).unwrap();
    assert_eq!(held().as_deref(), Some("rt-only"));
    r.sign_out().unwrap();
    assert_eq!(held(), None);
}

/// Saving a new set: by default 3 tries, 50 ms then 100 ms apart (README, *Defaults*;
/// `RetryPolicy::persist_backoff` doubles each time). The clock is manual, so the pauses are
/// exactly what was slept (the answer itself needs no retry).
#[test]
fn failed_saves_are_tried_three_times_50_then_100_ms_apart_by_default() {
    let server = TokenServer::start();
    let (store, _old, _dir) = failing_store(&server, "flaky-default");
    let clock = Arc::new(ManualClock::new(NOW));
    let r = Refresher::builder(
        Endpoint::parse(&server.token_url()).unwrap(),
        ClientCredentials::basic("app", "s3cret"),
    )
    .key("user")
    .store(store.clone())
    .clock(clock.clone())
    .transport(Arc::new(HttpsTransport::new(timeouts())))
    .build();
    let err = r.access_token().unwrap_err();
    assert_eq!(err, Error::Persist(StoreError::Unavailable));
    assert_eq!(server.requests(), 1);
    assert_eq!(store.failures.load(std::sync::atomic::Ordering::SeqCst), 3);
    assert_eq!(clock.slept(), Duration::from_millis(50 + 100));
}

/// RFC 6749 §5.1: `scope` in a token response is optional when it is the one requested; an
/// answer without it keeps the granted scope. The set the refresher saves and hands out keeps
/// the scope stored with the set it was given (the machine only knows scopes from answers).
#[test]
fn an_answer_without_scope_keeps_the_stored_scope() {
    let s = setup("scope-kept");
    let (at, rt) = s.server.sign_in();
    let mut set = TokenSet::new(at, Some(Secret::new(rt)), NOW - 5);
    set.scope = Some("openid offline_access".to_owned());
    s.refresher.set_tokens(set).unwrap();
    s.server.push_fault(Fault::SpendAndAnswer(
        r#"{"access_token":"at-noscope","refresh_token":"rt-noscope","expires_in":3600,"token_type":"Bearer"}"#,
    ));
    let token = s.refresher.access_token().unwrap();
    assert_eq!(token.secret(), "at-noscope");
    assert_eq!(
        token.token_set().scope.as_deref(),
        Some("openid offline_access")
    );
    let stored = s.store.load("user").unwrap().unwrap();
    assert_eq!(stored.scope.as_deref(), Some("openid offline_access"));
    assert_eq!(stored.refresh_token, Some(Secret::new("rt-noscope")));
}

/// `MAX_SCOPE`: a longer scope in a response is not stored (the tokens still are). The set
/// saved then has no scope: not the one stored before, which the server just replaced.
#[test]
fn a_scope_too_long_to_keep_is_dropped_not_replaced_by_the_old_one() {
    let s = setup("scope-dropped");
    let (at, rt) = s.server.sign_in();
    let mut set = TokenSet::new(at, Some(Secret::new(rt)), NOW - 5);
    set.scope = Some("openid".to_owned());
    s.refresher.set_tokens(set).unwrap();
    let body: &'static str = Box::leak(
        format!(
            r#"{{"access_token":"at-bigscope","refresh_token":"rt-bigscope","expires_in":3600,"token_type":"Bearer","scope":"{}"}}"#,
            "s".repeat(authcore_std::refresh::MAX_SCOPE + 1)
        )
        .into_boxed_str(),
    );
    s.server.push_fault(Fault::SpendAndAnswer(body));
    let token = s.refresher.access_token().unwrap();
    assert_eq!(token.secret(), "at-bigscope");
    assert_eq!(token.token_set().scope, None);
    let stored = s.store.load("user").unwrap().unwrap();
    assert_eq!(stored.scope, None);
    assert_eq!(stored.refresh_token, Some(Secret::new("rt-bigscope")));
}

/// `Refresher::set_tokens` validates before saving: a set whose access token does not fit
/// (`MAX_ACCESS_TOKEN`) is `Error::Credential` and changes nothing, in the refresher or in
/// the store (which would otherwise hold a set no refresher can load).
#[test]
fn a_sign_in_with_tokens_that_do_not_fit_changes_nothing() {
    let s = setup("set-tokens-too-large");
    let (at, rt) = s.server.sign_in();
    let good = TokenSet::new(at.clone(), Some(Secret::new(rt)), NOW + 3600);
    s.refresher.set_tokens(good.clone()).unwrap();
    let huge = TokenSet::new(
        "a".repeat(authcore_std::refresh::MAX_ACCESS_TOKEN + 1),
        Some(Secret::new("rt-huge")),
        NOW + 3600,
    );
    let err = s.refresher.set_tokens(huge).unwrap_err();
    assert!(matches!(err, Error::Credential(_)), "{err:?}");
    assert_eq!(s.store.load("user").unwrap(), Some(good));
    assert_eq!(s.refresher.access_token().unwrap().secret(), at);
    assert_eq!(s.server.requests(), 0);
}

/// README, *Defaults*: the largest token response is 1 MiB. An answer just under it (an
/// `id_token` with many claims) is read and its tokens kept, not refused as unreadable (which
/// would end the credential with its refresh token spent).
#[test]
fn a_token_response_just_under_one_mib_is_read() {
    let s = setup("almost-1mib");
    s.server.push_fault(Fault::SpendAndPad(1024 * 1024 - 2048));
    let token = s.refresher.access_token().unwrap();
    assert_new_stored(&s, &token);
    assert_eq!(s.server.requests(), 1);
}

/// The transport's error kinds (`TransportErrorKind`): a 2xx whose body is over
/// `MAX_RESPONSE` is `SuccessUnreadable` (with `TransportFailure::UnreadableSuccess`); an error
/// status whose head is over it is `TooLarge`. Each is its own kind, not a generic I/O or
/// protocol error.
#[test]
fn oversized_responses_have_their_own_transport_error_kinds() {
    use authcore_std::http::{FormPost, TransportErrorKind};
    let server = TokenServer::start();
    let endpoint = Endpoint::parse(&server.token_url()).unwrap();
    let transport = HttpsTransport::new(timeouts());
    let (_, rt) = server.sign_in();
    let body =
        format!("grant_type=refresh_token&refresh_token={rt}&client_id=app&client_secret=s3cret");
    let form = FormPost {
        body: &body,
        authorization: None,
    };
    server.push_fault(Fault::SpendAndPad(2 * 1024 * 1024));
    let err = authcore_std::http::Transport::post_form(&transport, &endpoint, &form).unwrap_err();
    assert_eq!(
        (err.failure, err.kind),
        (
            authcore::refresh::TransportFailure::UnreadableSuccess,
            TransportErrorKind::SuccessUnreadable
        )
    );
    // An error status whose head alone is over the limit (an error status whose body is too
    // large is returned without its body, as the core's exchange documents).
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        use std::io::{Read as _, Write as _};
        let (mut conn, _) = listener.accept().unwrap();
        let mut request = [0u8; 4096];
        let _ = conn.read(&mut request);
        let _ = conn.write_all(b"HTTP/1.1 500 Internal Server Error\r\nX-Pad: ");
        let _ = conn.write_all(&vec![b'a'; 2 * 1024 * 1024]);
        let _ = conn.write_all(b"\r\nContent-Length: 0\r\n\r\n");
    });
    let endpoint = Endpoint::parse(&format!("http://{addr}/token")).unwrap();
    let err = authcore_std::http::Transport::post_form(&transport, &endpoint, &form).unwrap_err();
    assert_eq!(err.kind, TransportErrorKind::TooLarge, "{err:?}");
}

/// Persist first (README, *Guarantees*): a new set is not handed out before it is saved, and
/// `Refresher::current` ("the set currently handed out") is one way to hand it out. While its
/// save fails, the refresher still shows the old, stored set.
#[test]
fn a_set_that_could_not_be_saved_is_not_the_current_one() {
    let server = TokenServer::start();
    let (store, old, _dir) = failing_store(&server, "flaky-current");
    let r = Refresher::builder(
        Endpoint::parse(&server.token_url()).unwrap(),
        ClientCredentials::basic("app", "s3cret"),
    )
    .key("user")
    .store(store.clone())
    .clock(Arc::new(ManualClock::new(NOW)))
    .transport(Arc::new(HttpsTransport::new(timeouts())))
    .retry_policy(RetryPolicy::DEFAULT.persist(1, Duration::from_millis(1)))
    .build();
    assert_eq!(
        r.access_token().unwrap_err(),
        Error::Persist(StoreError::Unavailable)
    );
    assert_eq!(server.requests(), 1);
    assert_eq!(r.current(), Some(old.clone()), "an unsaved set is shown");
    assert_eq!(store.load("user").unwrap(), Some(old));
}
