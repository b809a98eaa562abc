//! The refresher against a real token server on 127.0.0.1 and a real `FileStore`: sign-in and
//! sign-out racing a refresh's save, a panicking transport, two refreshers sharing one store,
//! and a new set that arrives inside its mandatory window.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

mod common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Barrier};
use std::time::Duration;

use authcore_std::clock::ManualClock;
use authcore_std::http::{
    Endpoint, FormPost, HttpsTransport, Timeouts, TokenHttpResponse, Transport, TransportError,
};
use authcore_std::refresh::{ClientCredentials, Error, Refresher, RefresherBuilder};
use authcore_std::secret::Secret;
use authcore_std::store::{FileStore, StoreError, TokenSet, TokenStore};
use common::{Fault, TokenServer};

const NOW: i64 = 1_800_000_000;

/// A `FileStore` that stops inside one call until the test lets it go: the next `save` once
/// `armed`, and `load` number `load_at` (counting from 1; 0 for none).
#[derive(Debug)]
struct GatedStore {
    inner: FileStore,
    armed: AtomicBool,
    load_at: usize,
    loads: AtomicUsize,
    entered: Barrier,
    release: Barrier,
}

impl GatedStore {
    fn new(dir: &std::path::Path, load_at: usize) -> Self {
        Self {
            inner: FileStore::new(dir).unwrap(),
            armed: AtomicBool::new(false),
            load_at,
            loads: AtomicUsize::new(0),
            entered: Barrier::new(2),
            release: Barrier::new(2),
        }
    }

    fn stop(&self) {
        self.entered.wait();
        self.release.wait();
    }
}

impl TokenStore for GatedStore {
    fn load(&self, key: &str) -> Result<Option<TokenSet>, StoreError> {
        let set = self.inner.load(key);
        if self.loads.fetch_add(1, Ordering::SeqCst) + 1 == self.load_at {
            self.stop();
        }
        set
    }

    fn save(&self, key: &str, set: &TokenSet) -> Result<(), StoreError> {
        if self.armed.swap(false, Ordering::SeqCst) {
            self.stop();
        }
        self.inner.save(key, set)
    }

    fn remove(&self, key: &str) -> Result<(), StoreError> {
        self.inner.remove(key)
    }
}

/// The real transport, but the first request panics before anything is sent.
#[derive(Debug)]
struct PanicsOnce {
    inner: HttpsTransport,
    panicked: AtomicBool,
}

impl Transport for PanicsOnce {
    fn post_form(
        &self,
        endpoint: &Endpoint,
        form: &FormPost<'_>,
    ) -> Result<TokenHttpResponse, TransportError> {
        assert!(
            self.panicked.swap(true, Ordering::SeqCst),
            "a transport bug (deliberate, first request only)"
        );
        self.inner.post_form(endpoint, form)
    }
}

fn transport() -> HttpsTransport {
    HttpsTransport::new(Timeouts::new(
        Duration::from_secs(2),
        Duration::from_millis(800),
        Duration::from_secs(3),
    ))
}

fn builder(server: &TokenServer, store: Arc<dyn TokenStore>) -> RefresherBuilder {
    Refresher::builder(
        Endpoint::parse(&server.token_url()).unwrap(),
        ClientCredentials::basic("app", "s3cret"),
    )
    .key("user")
    .store(store)
    .clock(Arc::new(ManualClock::new(NOW)))
    .transport(Arc::new(transport()))
}

/// A server, a signed-in set that has expired (so the next call refreshes) saved under
/// "user" in a fresh directory, and a store on that directory gated as above.
fn gated(name: &str) -> (TokenServer, common::TempDir, Arc<GatedStore>, TokenSet) {
    let server = TokenServer::start();
    let (at, rt) = server.sign_in();
    let dir = common::temp_dir(name);
    let store = Arc::new(GatedStore::new(dir.path(), 0));
    let old = TokenSet::new(at, Some(Secret::new(rt)), NOW - 5);
    store.inner.save("user", &old).unwrap();
    (server, dir, store, old)
}

fn access(set: Option<&TokenSet>) -> Option<String> {
    set.map(|s| s.access_token.expose().to_owned())
}

#[test]
fn sign_out_while_a_refresh_saves_leaves_the_store_empty() {
    let (server, _dir, store, _old) = gated("race-signout");
    let r = builder(&server, store.clone()).build();
    store.armed.store(true, Ordering::SeqCst);
    let reader = r.clone();
    let waiting = std::thread::spawn(move || reader.access_token());
    // The refresh thread is inside `save` with the new set.
    store.entered.wait();
    let (done_tx, done_rx) = mpsc::channel();
    let signing_out = {
        let r = r.clone();
        std::thread::spawn(move || {
            let result = r.sign_out();
            done_tx.send(()).unwrap();
            result
        })
    };
    // The sign-out waits for the save it would otherwise race...
    assert!(done_rx.recv_timeout(Duration::from_millis(300)).is_err());
    store.release.wait();
    // ...then removes what it wrote.
    signing_out.join().unwrap().unwrap();
    let _ = waiting.join().unwrap();
    assert_eq!(store.load("user").unwrap(), None);
    assert_eq!(r.current(), None);
    assert!(matches!(r.access_token(), Err(Error::NoCredential)));
    assert_eq!(server.requests(), 1);
}

#[test]
fn sign_in_while_a_refresh_saves_keeps_the_new_sign_in_everywhere() {
    let (server, _dir, store, _old) = gated("race-signin");
    let r = builder(&server, store.clone()).build();
    store.armed.store(true, Ordering::SeqCst);
    let reader = r.clone();
    let waiting = std::thread::spawn(move || reader.access_token());
    store.entered.wait();
    let (at, rt) = server.sign_in();
    let fresh = TokenSet::new(at.clone(), Some(Secret::new(rt)), NOW + 3600);
    let (done_tx, done_rx) = mpsc::channel();
    let signing_in = {
        let r = r.clone();
        let fresh = fresh.clone();
        std::thread::spawn(move || {
            let result = r.set_tokens(fresh);
            done_tx.send(()).unwrap();
            result
        })
    };
    // The sign-in waits for the save it would otherwise race (so the race is exercised, not
    // skipped when the thread starts late)...
    assert!(done_rx.recv_timeout(Duration::from_millis(300)).is_err());
    store.release.wait();
    signing_in.join().unwrap().unwrap();
    let _ = waiting.join().unwrap();
    // The sign-in came last: it is what the store and the refresher hold.
    assert_eq!(store.load("user").unwrap(), Some(fresh.clone()));
    assert_eq!(access(r.current().as_ref()), Some(at.clone()));
    assert_eq!(r.access_token().unwrap().secret(), at);
}

#[test]
fn a_sign_in_before_the_save_starts_is_not_overwritten_by_the_refresh() {
    // The refresh's answer arrives, then a sign-in completes before its save begins: the
    // refresh must not save over the sign-in.
    let server = TokenServer::start();
    let (at, rt) = server.sign_in();
    let dir = common::temp_dir("race-signin-first");
    let store = Arc::new(FileStore::new(dir.path()).unwrap());
    store
        .save("user", &TokenSet::new(at, Some(Secret::new(rt)), NOW - 5))
        .unwrap();
    let (at2, rt2) = server.sign_in();
    let fresh = TokenSet::new(at2.clone(), Some(Secret::new(rt2)), NOW + 7200);
    let (tx, rx) = mpsc::channel::<()>();
    let tx = std::sync::Mutex::new(tx);
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let go_rx = std::sync::Mutex::new(go_rx);
    let r = builder(&server, store.clone())
        .step_hook(Arc::new(move |step| {
            if step == authcore_std::refresh::Step::AfterResponse {
                tx.lock().unwrap().send(()).unwrap();
                go_rx.lock().unwrap().recv().unwrap();
            }
        }))
        .build();
    let reader = r.clone();
    let waiting = std::thread::spawn(move || reader.access_token());
    rx.recv().unwrap();
    // Signed in while the refresh thread holds the answer (the state lock is free).
    let signing_in = {
        let r = r.clone();
        let fresh = fresh.clone();
        std::thread::spawn(move || r.set_tokens(fresh))
    };
    signing_in.join().unwrap().unwrap();
    go_tx.send(()).unwrap();
    let _ = waiting.join().unwrap();
    assert_eq!(store.load("user").unwrap(), Some(fresh));
    assert_eq!(r.access_token().unwrap().secret(), at2);
}

#[test]
fn a_panicking_transport_fails_its_waiters_and_the_next_call_refreshes() {
    let server = TokenServer::start();
    let (at, rt) = server.sign_in();
    let dir = common::temp_dir("panic");
    let store = Arc::new(FileStore::new(dir.path()).unwrap());
    store
        .save("user", &TokenSet::new(at, Some(Secret::new(rt)), NOW - 5))
        .unwrap();
    let r = builder(&server, store.clone())
        .transport(Arc::new(PanicsOnce {
            inner: transport(),
            panicked: AtomicBool::new(false),
        }))
        .build();
    let (tx, rx) = mpsc::channel();
    let caller = r.clone();
    std::thread::spawn(move || tx.send(caller.access_token()).unwrap());
    let first = rx
        .recv_timeout(Duration::from_secs(5))
        .expect("the caller is not left waiting");
    assert_eq!(first.unwrap_err(), Error::Panicked);
    assert_eq!(Error::Panicked.kind(), "panicked");
    // No flight is left behind: the next call refreshes, with the token that never left.
    let token = r.access_token().unwrap();
    assert_eq!(server.requests(), 1);
    assert_eq!(
        store.load("user").unwrap().as_ref(),
        Some(token.token_set())
    );
}

#[test]
fn two_refreshers_sharing_a_store_do_not_burn_the_rotated_token() {
    // Two processes on one directory (two refreshers and two FileStores here): A refreshes
    // and saves; B, which loaded the set before, takes A's over instead of sending the spent
    // refresh token.
    let server = TokenServer::start();
    let (at, rt) = server.sign_in();
    let dir = common::temp_dir("shared");
    let store_a = Arc::new(FileStore::new(dir.path()).unwrap());
    let store_b = Arc::new(FileStore::new(dir.path()).unwrap());
    store_a
        .save(
            "user",
            &TokenSet::new(at, Some(Secret::new(rt)), NOW + 3600),
        )
        .unwrap();
    let clock = Arc::new(ManualClock::new(NOW));
    let b = builder(&server, store_b).clock(clock.clone()).build();
    // A's hook lets B refresh once just before A's request leaves, when asked to.
    let race = Arc::new(AtomicBool::new(false));
    let a = {
        let (b, race) = (b.clone(), race.clone());
        builder(&server, store_a.clone())
            .clock(clock.clone())
            .step_hook(Arc::new(move |step| {
                if step == authcore_std::refresh::Step::BeforeSend
                    && race.swap(false, Ordering::SeqCst)
                {
                    b.refresh().unwrap();
                }
            }))
            .build()
    };
    b.access_token().unwrap(); // B has loaded the first set.
    clock.advance(Duration::from_secs(60));
    let by_a = a.refresh().unwrap();
    assert_eq!(server.requests(), 1);
    // B is asked to refresh (a 401, a forced refresh): A saved a set since B last looked, so
    // B takes it.
    let by_b = b.refresh().unwrap();
    assert_eq!(by_b.secret(), by_a.secret());
    assert_eq!(server.requests(), 1);
    // Once B's copy is current, a refresh by B goes out with the live token.
    clock.advance(Duration::from_secs(60));
    let again = b.refresh().unwrap();
    assert_ne!(again.secret(), by_a.secret());
    assert_eq!(server.requests(), 2);
    // A takes B's set before sending, whatever its expiry: here a sign-in on B that expires
    // sooner than A's own set.
    let (at, rt) = server.sign_in();
    let shorter = by_a.token_set().expires_at - 600;
    b.set_tokens(TokenSet::new(at.clone(), Some(Secret::new(rt)), shorter))
        .unwrap();
    let a_again = a.refresh().unwrap();
    assert_eq!(a_again.secret(), at);
    assert_eq!(server.requests(), 2);
    assert_eq!(server.reuse_attempts(), 0);
    // B refreshes in the moment between A's look at the store and A's request: A's token is
    // refused as spent, A looks again and takes B's new set.
    clock.advance(Duration::from_secs(60));
    race.store(true, Ordering::SeqCst);
    let a_last = a.refresh().unwrap();
    assert_eq!(server.requests(), 4);
    assert_eq!(
        server.reuse_attempts(),
        1,
        "A's spent token was refused once"
    );
    let b_now = b.current().unwrap();
    assert_eq!(a_last.token_set(), &b_now);
    assert_eq!(store_a.load("user").unwrap().as_ref(), Some(&b_now));
}

#[test]
fn a_refresh_token_given_by_hand_is_used_not_the_older_stored_set() {
    // The store holds an older sign-in that has not expired; the caller installs a refresh
    // token by hand. That token is what gets sent, and a refusal of it is final: the older
    // stored set is not someone else's newer work.
    let server = TokenServer::start();
    let (old_at, old_rt) = server.sign_in();
    let dir = common::temp_dir("by-hand");
    let store = Arc::new(FileStore::new(dir.path()).unwrap());
    store
        .save(
            "user",
            &TokenSet::new(old_at, Some(Secret::new(old_rt.clone())), NOW + 7200),
        )
        .unwrap();
    let r = builder(&server, store.clone()).build();
    let (_, given) = server.sign_in();
    r.set_refresh_token(&Secret::new(given.clone())).unwrap();
    let token = r.access_token().unwrap();
    assert_eq!(server.requests(), 1);
    assert!(!server.is_live_refresh(&given), "the given token was used");
    assert!(
        server.is_live_refresh(&old_rt),
        "the stored set was not used"
    );
    assert_eq!(
        store.load("user").unwrap().as_ref(),
        Some(token.token_set())
    );
    // A refused token given by hand: the error stands.
    let (old_at, old_rt2) = server.sign_in();
    store
        .save(
            "user",
            &TokenSet::new(old_at, Some(Secret::new(old_rt2.clone())), NOW + 7200),
        )
        .unwrap();
    let r = builder(&server, store.clone()).build();
    r.set_refresh_token(&Secret::new("revoked-or-mistyped"))
        .unwrap();
    let err = r.access_token().unwrap_err();
    assert!(err.is_terminal(), "{err:?}");
    assert_eq!(server.requests(), 2);
    assert!(
        server.is_live_refresh(&old_rt2),
        "the stored set was not used"
    );
    assert!(server.is_live_refresh(&old_rt) || !server.is_live_refresh(&old_rt));
}

#[test]
fn a_sign_in_while_the_store_is_read_again_is_not_undone() {
    // A forced refresh reads the store (a possible takeover) and gets S1; meanwhile a sign-in
    // installs S2. What was read before the sign-in must not replace it.
    let server = TokenServer::start();
    let (at1, rt1) = server.sign_in();
    let dir = common::temp_dir("read-race");
    let store = Arc::new(GatedStore::new(dir.path(), 2));
    let s1 = TokenSet::new(at1, Some(Secret::new(rt1.clone())), NOW + 7200);
    store.inner.save("user", &s1).unwrap();
    let r = builder(&server, store.clone()).build();
    r.access_token().unwrap(); // load 1: S1 is current.
    let forcing = {
        let r = r.clone();
        std::thread::spawn(move || r.refresh())
    };
    store.entered.wait(); // load 2 has read S1.
    let (at2, rt2) = server.sign_in();
    let s2 = TokenSet::new(at2.clone(), Some(Secret::new(rt2)), NOW + 3600);
    r.set_tokens(s2.clone()).unwrap();
    store.release.wait();
    let forced = forcing.join().unwrap().unwrap();
    assert_eq!(forced.secret(), at2);
    assert_eq!(r.access_token().unwrap().secret(), at2);
    assert_eq!(store.inner.load("user").unwrap(), Some(s2));
    assert_eq!(server.requests(), 0);
    assert!(server.is_live_refresh(&rt1));
}

#[test]
fn a_new_set_inside_its_mandatory_window_is_still_saved() {
    // With a zero minimum lifetime, a server answering `expires_in: 0` hands a set that may
    // not be used: its rotated refresh token must be saved all the same.
    let server = TokenServer::start();
    let (at, rt) = server.sign_in();
    let dir = common::temp_dir("mandatory");
    let store = Arc::new(FileStore::new(dir.path()).unwrap());
    store
        .save(
            "user",
            &TokenSet::new(at, Some(Secret::new(rt.clone())), NOW - 5),
        )
        .unwrap();
    server.push_fault(Fault::SpendAndAnswer(
        r#"{"access_token":"at-new","refresh_token":"rt-new","expires_in":0,"token_type":"Bearer"}"#,
    ));
    let r = builder(&server, store.clone())
        .config(authcore_std::refresh::DEFAULT_CONFIG.min_expires_in(0))
        .build();
    let err = r.access_token().unwrap_err();
    assert!(matches!(err, Error::Unavailable { .. }), "{err:?}");
    let stored = store.load("user").unwrap().unwrap();
    assert_eq!(stored.access_token.expose(), "at-new");
    assert_eq!(
        stored.refresh_token.as_ref().map(Secret::expose),
        Some("rt-new")
    );
    assert!(!server.is_live_refresh(&rt));
}

#[test]
fn a_credential_that_failed_for_good_takes_over_a_later_sign_in_elsewhere() {
    // B's refresh is refused for good while the store still holds what B loaded; later
    // another process (A) signs in and saves. B takes that set over instead of saying "sign
    // in again" until it restarts.
    let server = TokenServer::start();
    let (at, rt) = server.sign_in();
    let dir = common::temp_dir("terminal");
    let store_a = Arc::new(FileStore::new(dir.path()).unwrap());
    let store_b = Arc::new(FileStore::new(dir.path()).unwrap());
    store_a
        .save("user", &TokenSet::new(at, Some(Secret::new(rt)), NOW - 5))
        .unwrap();
    let a = builder(&server, store_a).build();
    let b = builder(&server, store_b).build();
    server.push_fault(Fault::Status(400, r#"{"error":"invalid_grant"}"#, None));
    assert!(b.access_token().unwrap_err().is_terminal());
    assert!(matches!(
        b.access_token(),
        Err(Error::SignInRequired { .. })
    ));
    assert_eq!(server.requests(), 1);
    let (at2, rt2) = server.sign_in();
    a.set_tokens(TokenSet::new(
        at2.clone(),
        Some(Secret::new(rt2)),
        NOW + 3600,
    ))
    .unwrap();
    assert_eq!(b.access_token().unwrap().secret(), at2);
    assert_eq!(server.requests(), 1);
}

/// Another process signs in (or refreshes) in the moment between this refresher's look at the
/// store and its request, and stores a set whose access token is already past use: the token
/// this refresher sent is refused as spent (`invalid_grant`), it takes the stored set over, and
/// the refresh goes on with that set's live refresh token. The caller gets the new token, not
/// the `invalid_grant` ("sign in again") of a credential that was replaced, not lost.
#[test]
fn a_set_taken_over_after_invalid_grant_that_needs_a_refresh_is_refreshed() {
    let server = TokenServer::start();
    let (at, rt) = server.sign_in();
    let (other_at, other_rt) = server.sign_in();
    let dir = common::temp_dir("adopt-then-refresh");
    let store = Arc::new(FileStore::new(dir.path()).unwrap());
    store
        .save(
            "user",
            &TokenSet::new(at, Some(Secret::new(rt.clone())), NOW - 5),
        )
        .unwrap();
    let other = FileStore::new(dir.path()).unwrap();
    let state = Arc::clone(&server.state);
    let other_set = TokenSet::new(other_at, Some(Secret::new(other_rt.clone())), NOW - 5);
    let race = Arc::new(AtomicBool::new(true));
    let r = {
        let race = race.clone();
        builder(&server, store.clone())
            .step_hook(Arc::new(move |step| {
                if step == authcore_std::refresh::Step::BeforeSend
                    && race.swap(false, Ordering::SeqCst)
                {
                    // The other process spent our refresh token and stored its own set.
                    let mut s = state.lock().unwrap();
                    s.live_refresh.remove(&rt);
                    s.spent_refresh.insert(rt.clone());
                    drop(s);
                    other.save("user", &other_set).unwrap();
                }
            }))
            .build()
    };
    let got = r.access_token();
    let token = got.unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(server.requests(), 2);
    assert_eq!(
        server.reuse_attempts(),
        1,
        "our spent token was refused once"
    );
    assert!(
        !server.is_live_refresh(&other_rt),
        "the taken-over token was used"
    );
    assert_eq!(
        store.load("user").unwrap().as_ref(),
        Some(token.token_set())
    );
}

/// As above, for a refresher that had already read the store: another process stored a set
/// after that read, and then a refresh token is installed by hand. The stored set is older
/// than the token given (module docs, *Shared stores*: nothing is taken over after
/// `set_refresh_token` until its first save); the given token is what gets sent.
#[test]
fn a_refresh_token_given_by_hand_after_a_load_is_used_not_a_set_stored_meanwhile() {
    let server = TokenServer::start();
    let (first_at, first_rt) = server.sign_in();
    let dir = common::temp_dir("by-hand-after-load");
    let store = Arc::new(FileStore::new(dir.path()).unwrap());
    store
        .save(
            "user",
            &TokenSet::new(first_at.clone(), Some(Secret::new(first_rt)), NOW + 7200),
        )
        .unwrap();
    let r = builder(&server, store.clone()).build();
    assert_eq!(r.access_token().unwrap().secret(), first_at); // loaded
    let (other_at, other_rt) = server.sign_in();
    FileStore::new(dir.path())
        .unwrap()
        .save(
            "user",
            &TokenSet::new(
                other_at.clone(),
                Some(Secret::new(other_rt.clone())),
                NOW + 7200,
            ),
        )
        .unwrap();
    let (_, given) = server.sign_in();
    r.set_refresh_token(&Secret::new(given.clone())).unwrap();
    let token = r.access_token().unwrap();
    assert_ne!(
        token.secret(),
        other_at,
        "the set stored before was taken over"
    );
    assert_eq!(server.requests(), 1);
    assert!(!server.is_live_refresh(&given), "the given token was used");
    assert!(server.is_live_refresh(&other_rt));
}

/// A sign-out that lands after a refresh saved its set but before the refresh hands it out
/// (the refresh's `Step::AfterWrite`): the sign-out removed that set, so the refresh must not
/// hand it out or bring it back into the refresher (module docs, *Sign-in and sign-out against
/// a refresh*: the store, and the refresher, end with what the last of them wrote).
#[test]
fn a_sign_out_right_after_the_save_is_not_undone_by_the_refresh() {
    let (server, _dir, store, _old) = gated("race-signout-after-write");
    let slot: Arc<std::sync::Mutex<Option<Refresher>>> = Arc::new(std::sync::Mutex::new(None));
    let r = {
        let slot = slot.clone();
        builder(&server, store.clone())
            .step_hook(Arc::new(move |step| {
                if step == authcore_std::refresh::Step::AfterWrite {
                    if let Some(r) = slot.lock().unwrap().take() {
                        r.sign_out().unwrap();
                    }
                }
            }))
            .build()
    };
    *slot.lock().unwrap() = Some(r.clone());
    let got = r.access_token();
    assert!(matches!(got, Err(Error::NoCredential)), "{got:?}");
    assert_eq!(server.requests(), 1);
    assert_eq!(store.load("user").unwrap(), None);
    assert_eq!(r.current(), None);
    assert!(matches!(r.access_token(), Err(Error::NoCredential)));
}
