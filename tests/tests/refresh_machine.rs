//! Refresh machine scenarios with a simulated clock (AUTHJS.md §10 item 21 and issue 5).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers outside #[test] functions"
)]

use authcore::refresh::{
    Client, Config, Event, HttpResponse, NotUsable, OAuthError, RefreshError, RefreshMachine,
    Status, TransportFailure, REFRESH_TOKEN_ERROR,
};

const T0: i64 = 1_700_000_000;
const CLIENT: Client<'static> = Client::secret_post("app", "secret");

type Machine = RefreshMachine<256, 64>;

/// What the simulated token endpoint does with one request.
#[derive(Clone, Debug)]
enum Reply {
    Http {
        status: u16,
        retry_after: Option<u32>,
        body: String,
    },
    Transport(TransportFailure),
}

fn ok(body: &str) -> Reply {
    http(200, None, body)
}

fn http(status: u16, retry_after: Option<u32>, body: &str) -> Reply {
    Reply::Http {
        status,
        retry_after,
        body: body.to_owned(),
    }
}

/// A machine, a clock and a scripted server; records every request body and event.
struct Sim {
    m: Machine,
    now: i64,
    sent: Vec<(i64, String)>,
    events: Vec<(i64, Event)>,
}

impl Sim {
    fn new(config: Config, expires_in: i64, refresh_token: Option<&str>) -> Self {
        let mut m = Machine::new(config, 12345);
        m.set_credential(T0, "a1", refresh_token, T0 + expires_in)
            .unwrap();
        Self {
            m,
            now: T0,
            sent: Vec::new(),
            events: Vec::new(),
        }
    }

    /// Default config without jitter so deadlines are exact.
    fn exact(expires_in: i64) -> Self {
        Self::new(Config::default().jitter_max(0), expires_in, Some("r1"))
    }

    /// Drives the machine as an adapter would until `end`, answering with `server`.
    fn run_until(&mut self, end: i64, mut server: impl FnMut(&str, i64) -> Reply) {
        for _ in 0..10_000 {
            let Some(deadline) = self.m.poll_timeout() else {
                break;
            };
            if deadline > end {
                break;
            }
            self.now = self.now.max(deadline);
            self.step(&mut server);
        }
        self.now = self.now.max(end);
    }

    /// One adapter wake-up at `self.now`.
    fn step(&mut self, server: &mut impl FnMut(&str, i64) -> Reply) {
        self.m.handle_timeout(self.now);
        let mut buf = [0u8; 512];
        if let Some(request) = self.m.poll_request(self.now, &CLIENT, &mut buf).unwrap() {
            let body = request.body.to_owned();
            self.sent.push((self.now, body.clone()));
            // Parallel callers asking meanwhile get nothing: single flight.
            let mut other = [0u8; 512];
            assert_eq!(self.m.poll_request(self.now, &CLIENT, &mut other), Ok(None));
            assert_eq!(self.m.status(self.now), Status::Refreshing);
            match server(&body, self.now) {
                Reply::Http {
                    status,
                    retry_after,
                    body,
                } => self
                    .m
                    .handle_response(
                        self.now,
                        HttpResponse {
                            status,
                            retry_after,
                            body: body.as_bytes(),
                        },
                    )
                    .unwrap(),
                Reply::Transport(failure) => {
                    self.m.handle_transport_error(self.now, failure).unwrap();
                }
            }
        }
        while let Some(event) = self.m.poll_event() {
            self.events.push((self.now, event));
        }
    }

    fn failures(&self) -> Vec<(RefreshError, bool)> {
        self.events
            .iter()
            .filter_map(|(_, e)| match e {
                Event::RefreshFailed {
                    error, terminal, ..
                } => Some((*error, *terminal)),
                _ => None,
            })
            .collect()
    }

    fn refreshed(&self) -> usize {
        self.events
            .iter()
            .filter(|(_, e)| matches!(e, Event::Refreshed { .. }))
            .count()
    }
}

fn sent_token(body: &str) -> &str {
    body.split('&')
        .find_map(|kv| kv.strip_prefix("refresh_token="))
        .unwrap()
}

// ---------------------------------------------------------------- windows

#[test]
fn windows_table() {
    // (offset from expiry, status, access token result, request due)
    let cases: &[(i64, Status, Result<&str, NotUsable>, bool)] = &[
        (-3600, Status::Fresh, Ok("a1"), false),
        (-61, Status::Fresh, Ok("a1"), false),
        (-60, Status::Advisory, Ok("a1"), true),
        (-11, Status::Advisory, Ok("a1"), true),
        (
            -10,
            Status::Mandatory,
            Err(NotUsable::RefreshRequired {
                expires_at: T0 + 3600,
            }),
            true,
        ),
        (
            -1,
            Status::Mandatory,
            Err(NotUsable::RefreshRequired {
                expires_at: T0 + 3600,
            }),
            true,
        ),
        (
            0,
            Status::Expired,
            Err(NotUsable::Expired {
                expires_at: T0 + 3600,
                now: T0 + 3600,
            }),
            true,
        ),
        (
            86_400,
            Status::Expired,
            Err(NotUsable::Expired {
                expires_at: T0 + 3600,
                now: T0 + 3600 + 86_400,
            }),
            true,
        ),
    ];
    for &(offset, status, token, due) in cases {
        let mut sim = Sim::exact(3600);
        let now = T0 + 3600 + offset;
        assert_eq!(sim.m.status(now), status, "offset {offset}");
        assert_eq!(sim.m.access_token(now), token, "offset {offset}");
        let mut buf = [0u8; 256];
        let request = sim.m.poll_request(now, &CLIENT, &mut buf).unwrap();
        assert_eq!(request.is_some(), due, "offset {offset}");
    }
}

#[test]
fn fresh_token_sends_nothing_and_deadline_is_advisory_start() {
    let mut sim = Sim::exact(3600);
    assert_eq!(sim.m.poll_timeout(), Some(T0 + 3540));
    sim.run_until(T0 + 3539, |_, _| unreachable!("no request while fresh"));
    assert!(sim.sent.is_empty());
    assert!(sim.events.is_empty());
}

#[test]
fn short_lifetime_caps_margins_at_half() {
    // 30 s token: advisory margin capped at 15 s, mandatory stays 10 s.
    let sim = Sim::exact(30);
    assert_eq!(sim.m.status(T0 + 14), Status::Fresh);
    assert_eq!(sim.m.status(T0 + 15), Status::Advisory);
    assert_eq!(sim.m.status(T0 + 20), Status::Mandatory);
    // 16 s token: both capped at 8 s.
    let sim = Sim::exact(16);
    assert_eq!(sim.m.status(T0 + 7), Status::Fresh);
    assert_eq!(sim.m.status(T0 + 8), Status::Mandatory);
    // 100 s token: advisory capped at 50, mandatory stays 10.
    let sim = Sim::exact(100);
    assert_eq!(sim.m.status(T0 + 49), Status::Fresh);
    assert_eq!(sim.m.status(T0 + 50), Status::Advisory);
    assert_eq!(sim.m.status(T0 + 90), Status::Mandatory);
}

#[test]
fn jitter_moves_the_advisory_start_within_bounds() {
    let mut starts = std::collections::BTreeSet::new();
    for seed in 1..50u32 {
        let mut m = Machine::new(Config::default(), seed);
        m.set_credential(T0, "a", Some("r"), T0 + 3600).unwrap();
        let start = m.poll_timeout().unwrap();
        assert!(
            (T0 + 3600 - 90..=T0 + 3600 - 60).contains(&start),
            "{start}"
        );
        starts.insert(start);
    }
    assert!(starts.len() > 5, "jitter spreads refreshes: {starts:?}");
}

// ---------------------------------------------------------------- success

#[test]
fn success_without_new_refresh_token_keeps_the_old_one() {
    // AUTHJS.md §10 item 21, first half.
    let mut sim = Sim::exact(3600);
    sim.run_until(T0 + 3600, |_, _| {
        ok(r#"{"access_token":"a2","expires_in":3600}"#)
    });
    assert_eq!(sim.sent.len(), 1);
    let (at, body) = &sim.sent[0];
    assert_eq!(*at, T0 + 3540);
    assert_eq!(
        body,
        "grant_type=refresh_token&refresh_token=r1&client_id=app&client_secret=secret"
    );
    assert_eq!(sim.m.access_token(T0 + 3600), Ok("a2"));
    assert_eq!(sim.m.expires_at(), Some(T0 + 3540 + 3600));
    assert_eq!(sim.m.refresh_token(), Some("r1"));
    assert_eq!(sim.m.session_error(), None);
    assert!(matches!(
        sim.events[..],
        [(
            _,
            Event::Refreshed {
                generation: 2,
                rotated: false,
                stale: false,
                ..
            }
        )]
    ));
}

#[test]
fn rotation_uses_each_refresh_token_once() {
    let mut sim = Sim::exact(3600);
    let mut n = 1;
    sim.run_until(T0 + 5 * 3600, |body, _| {
        let expected = format!("r{n}");
        assert_eq!(sent_token(body), expected);
        n += 1;
        ok(&format!(
            r#"{{"access_token":"a{n}","refresh_token":"r{n}","expires_in":3600,"token_type":"Bearer"}}"#
        ))
    });
    // One refresh per hour, each with the newest token.
    assert_eq!(sim.sent.len(), 5);
    assert_eq!(sim.refreshed(), 5);
    assert_eq!(sim.m.refresh_token(), Some("r6"));
    assert_eq!(sim.m.generation(), 6);
}

#[test]
fn expires_in_forms_and_clamps() {
    for (body, lifetime) in [
        (r#"{"access_token":"a2"}"#, 3600),
        (r#"{"access_token":"a2","expires_in":"7200"}"#, 7200),
        (r#"{"access_token":"a2","expires_in":0}"#, 1),
        (
            r#"{"access_token":"a2","expires_in":99999999999}"#,
            365 * 24 * 3600,
        ),
    ] {
        let mut sim = Sim::exact(3600);
        sim.now = T0 + 3550;
        sim.step(&mut |_, _| ok(body));
        assert_eq!(sim.m.expires_at(), Some(T0 + 3550 + lifetime), "{body}");
    }
}

// ---------------------------------------------------------------- errors

#[test]
fn error_table() {
    // (status, retry_after, body, error, terminal)
    let cases: Vec<(u16, Option<u32>, &str, RefreshError, bool)> = vec![
        (
            400,
            None,
            r#"{"error":"invalid_grant"}"#,
            oauth(OAuthError::InvalidGrant, 400),
            true,
        ),
        (
            403,
            None,
            r#"{"error":"invalid_grant"}"#,
            oauth(OAuthError::InvalidGrant, 403),
            true,
        ),
        (
            401,
            None,
            r#"{"error":"invalid_client"}"#,
            oauth(OAuthError::InvalidClient, 401),
            true,
        ),
        (
            400,
            None,
            r#"{"error":"unauthorized_client"}"#,
            oauth(OAuthError::UnauthorizedClient, 400),
            true,
        ),
        (
            400,
            None,
            r#"{"error":"unsupported_grant_type"}"#,
            oauth(OAuthError::UnsupportedGrantType, 400),
            true,
        ),
        (
            400,
            None,
            r#"{"error":"invalid_scope"}"#,
            oauth(OAuthError::InvalidScope, 400),
            true,
        ),
        (
            400,
            None,
            r#"{"error":"invalid_request"}"#,
            oauth(OAuthError::InvalidRequest, 400),
            true,
        ),
        (
            200,
            None,
            r#"{"access_token":"x","error":"invalid_grant"}"#,
            oauth(OAuthError::InvalidGrant, 200),
            true,
        ),
        (
            400,
            None,
            r#"{"error":"vendor_specific"}"#,
            oauth(OAuthError::Other, 400),
            true,
        ),
        (
            400,
            None,
            "<html>",
            RefreshError::Status { status: 400 },
            true,
        ),
        (401, None, "", RefreshError::Status { status: 401 }, true),
        (
            200,
            None,
            "<html>",
            RefreshError::BadResponse(authcore::refresh::ResponseError::Malformed),
            true,
        ),
        (
            200,
            None,
            r#"{"token":"x"}"#,
            RefreshError::BadResponse(authcore::refresh::ResponseError::MissingAccessToken),
            true,
        ),
        (
            500,
            None,
            r#"{"error":"server_error"}"#,
            oauth(OAuthError::ServerError, 500),
            false,
        ),
        (
            400,
            None,
            r#"{"error":"server_error"}"#,
            oauth(OAuthError::ServerError, 400),
            false,
        ),
        (
            503,
            None,
            r#"{"error":"temporarily_unavailable"}"#,
            oauth(OAuthError::TemporarilyUnavailable, 503),
            false,
        ),
        (
            503,
            None,
            r#"{"error":"vendor_specific"}"#,
            oauth(OAuthError::Other, 503),
            false,
        ),
        (
            502,
            None,
            "<html>bad gateway</html>",
            RefreshError::Status { status: 502 },
            false,
        ),
        (500, None, "", RefreshError::Status { status: 500 }, false),
        (408, None, "", RefreshError::Status { status: 408 }, false),
        (
            429,
            Some(120),
            "",
            RefreshError::Status { status: 429 },
            false,
        ),
        (404, None, "", RefreshError::Status { status: 404 }, false),
    ];
    for (status, retry_after, body, error, terminal) in cases {
        let mut sim = Sim::exact(3600);
        sim.now = T0 + 3550;
        sim.step(&mut |_, _| http(status, retry_after, body));
        assert_eq!(sim.failures(), vec![(error, terminal)], "{status} {body}");
        assert_eq!(sim.m.last_error(), Some(error));
        assert_eq!(error.is_terminal(), terminal);
        // The failed attempt changed nothing but the error.
        assert_eq!(sim.m.access_token(T0 + 3550), Ok("a1"));
        assert_eq!(sim.m.refresh_token(), Some("r1"));
        assert_eq!(sim.m.expires_at(), Some(T0 + 3600));
        assert_eq!(sim.m.session_error(), Some(REFRESH_TOKEN_ERROR));
        assert_eq!(sim.m.is_terminal(), terminal);
        // Over the next day: terminal means no further request; transient keeps retrying.
        sim.run_until(T0 + 3600 + 86_400, |_, _| http(status, retry_after, body));
        if terminal {
            assert_eq!(sim.sent.len(), 1, "{status} {body}");
            assert_eq!(sim.m.poll_timeout(), None);
            assert_eq!(sim.m.access_token(sim.now), Err(NotUsable::SignInRequired));
        } else {
            let gaps: Vec<i64> = sim.sent.windows(2).map(|w| w[1].0 - w[0].0).collect();
            if let Some(wait) = retry_after {
                // Retry-After is a floor; exponential backoff takes over once it is longer.
                assert!(gaps[..5].iter().all(|&g| g == i64::from(wait)), "{gaps:?}");
                assert!(
                    gaps.iter().all(|&g| (i64::from(wait)..=300).contains(&g)),
                    "{gaps:?}"
                );
            } else {
                // Backoff: 5, 10, 20, ... capped at 300 s, less up to a quarter of jitter:
                // never faster than one request per 3 s and never silent for 5 min.
                assert!(gaps.iter().all(|&g| (3..=300).contains(&g)), "{gaps:?}");
                assert!(sim.sent.len() > 86_400 / 300, "{}", sim.sent.len());
                assert!(sim.sent.len() < 86_400 / 200, "{}", sim.sent.len());
            }
        }
    }
}

fn oauth(code: OAuthError, status: u16) -> RefreshError {
    RefreshError::OAuth { code, status }
}

#[test]
fn retry_after_is_honoured_and_capped() {
    for (retry_after, wait) in [(120, 120), (0, 5), (3, 5), (99_999, 600)] {
        let mut sim = Sim::exact(3600);
        sim.now = T0 + 3545;
        sim.step(&mut |_, _| http(429, Some(retry_after), ""));
        assert!(matches!(
            sim.events[..],
            [(_, Event::RefreshFailed { terminal: false, retry_at: Some(t), .. })] if t == T0 + 3545 + wait
        ));
        assert_eq!(
            sim.m.poll_timeout(),
            Some((T0 + 3545 + wait).min(T0 + 3600))
        );
        let mut buf = [0u8; 256];
        if wait > 0 {
            let before = T0 + 3545 + wait - 1;
            assert_eq!(sim.m.poll_request(before, &CLIENT, &mut buf), Ok(None));
        }
        assert!(sim
            .m
            .poll_request(T0 + 3545 + wait, &CLIENT, &mut buf)
            .unwrap()
            .is_some());
    }
}

#[test]
fn failure_then_success_clears_the_error() {
    // Auth.js issue #7025: the guide keeps `error` forever; here a success clears it.
    let mut sim = Sim::exact(3600);
    let mut calls = 0;
    sim.run_until(T0 + 3600 + 60, |_, _| {
        calls += 1;
        if calls < 3 {
            http(503, None, "")
        } else {
            ok(r#"{"access_token":"a2","expires_in":3600}"#)
        }
    });
    assert_eq!(sim.sent.len(), 3);
    assert_eq!(sim.refreshed(), 1);
    assert_eq!(sim.m.last_error(), None);
    assert_eq!(sim.m.session_error(), None);
    assert_eq!(sim.m.access_token(sim.now), Ok("a2"));
}

#[test]
fn expired_token_is_never_handed_out_and_expiry_is_reported_once() {
    let mut sim = Sim::exact(3600);
    sim.run_until(T0 + 7200, |_, _| http(503, None, ""));
    let expired: Vec<_> = sim
        .events
        .iter()
        .filter(|(_, e)| matches!(e, Event::Expired { .. }))
        .collect();
    assert_eq!(expired.len(), 1);
    assert_eq!(expired[0].0, T0 + 3600);
    for t in [T0 + 3590, T0 + 3600, T0 + 7200] {
        assert!(sim.m.access_token(t).is_err());
    }
}

#[test]
fn missing_refresh_token_is_terminal() {
    // AUTHJS.md §10 item 21: no refresh_token -> error path.
    let mut sim = Sim::new(Config::default().jitter_max(0), 3600, None);
    sim.run_until(T0 + 7200, |_, _| unreachable!("nothing to send"));
    assert_eq!(sim.failures(), vec![(RefreshError::NoRefreshToken, true)]);
    assert_eq!(sim.events[0].0, T0 + 3540);
    assert_eq!(sim.m.session_error(), Some(REFRESH_TOKEN_ERROR));
}

// ---------------------------------------------------------------- transport

#[test]
fn no_response_resends_the_same_token_once() {
    let mut sim = Sim::exact(3600);
    let mut calls = 0;
    sim.run_until(T0 + 3600, |_, _| {
        calls += 1;
        if calls == 1 {
            Reply::Transport(TransportFailure::NoResponse)
        } else {
            ok(r#"{"access_token":"a2","refresh_token":"r2"}"#)
        }
    });
    assert_eq!(sim.sent.len(), 2);
    assert_eq!(sim.sent[0], sim.sent[1], "same token, same second");
    assert_eq!(sim.m.refresh_token(), Some("r2"));
}

#[test]
fn no_response_twice_is_terminal() {
    let mut sim = Sim::exact(3600);
    sim.run_until(T0 + 86_400, |_, _| {
        Reply::Transport(TransportFailure::NoResponse)
    });
    assert_eq!(
        sim.sent.len(),
        2,
        "a refresh token is never sent a third time"
    );
    assert_eq!(
        sim.failures(),
        vec![
            (RefreshError::NoResponse, false),
            (RefreshError::NoResponseAfterRetry, true)
        ]
    );
}

#[test]
fn not_sent_is_transient_and_does_not_count_as_a_send() {
    let mut sim = Sim::exact(3600);
    let mut calls = 0;
    sim.run_until(T0 + 3600 + 600, |_, _| {
        calls += 1;
        match calls {
            1..=3 => Reply::Transport(TransportFailure::NotSent),
            4 => Reply::Transport(TransportFailure::NoResponse),
            5 => Reply::Transport(TransportFailure::NotSent),
            _ => ok(r#"{"access_token":"a2"}"#),
        }
    });
    assert_eq!(sim.refreshed(), 1);
    assert!(!sim.m.is_terminal());
    assert_eq!(sim.m.access_token(sim.now), Ok("a2"));
}

#[test]
fn transient_error_after_no_response_resets_the_count() {
    let mut sim = Sim::exact(3600);
    let mut calls = 0;
    sim.run_until(T0 + 3600 + 600, |_, _| {
        calls += 1;
        match calls {
            1 | 3 => Reply::Transport(TransportFailure::NoResponse),
            2 => http(503, None, ""),
            4 => Reply::Transport(TransportFailure::NoResponse),
            _ => unreachable!(),
        }
    });
    // 1: no response -> resend; 2: answered (503) -> count reset; 3: no response -> resend;
    // 4: no response again -> terminal.
    assert_eq!(sim.sent.len(), 4);
    assert!(sim.m.is_terminal());
}

// ---------------------------------------------------------------- loops

#[test]
fn server_returning_the_same_expiry_does_not_loop() {
    // The server hands out new access tokens that all expire at T0 + 3600.
    let mut sim = Sim::exact(3600);
    sim.run_until(T0 + 3600, |_, now| {
        ok(&format!(
            r#"{{"access_token":"a","expires_in":{}}}"#,
            T0 + 3600 - now
        ))
    });
    // Advisory window is 60 s: attempts at +0, +30 (stale backoff 30 s), then +60 would be
    // past expiry. Without the backoff this would be one request per wake-up, forever.
    assert_eq!(sim.sent.len(), 2, "{:?}", sim.sent);
    assert!(sim
        .events
        .iter()
        .all(|(_, e)| !matches!(e, Event::Refreshed { stale: false, .. })));
    // And over a whole day of the same behaviour (expiry stuck in the past), requests are
    // spaced by the capped backoff.
    let mut sim = Sim::exact(3600);
    sim.run_until(T0 + 86_400, |_, _| {
        ok(r#"{"access_token":"a","expires_in":1}"#)
    });
    assert!(sim.sent.len() < 86_400 / 250, "{}", sim.sent.len());
}

#[test]
fn token_rejected_by_resource_server_forces_a_refresh() {
    let mut sim = Sim::exact(3600);
    sim.m.handle_token_rejected(T0);
    assert_eq!(sim.m.poll_timeout(), Some(T0));
    sim.run_until(T0 + 1, |_, _| {
        ok(r#"{"access_token":"a2","expires_in":3600}"#)
    });
    assert_eq!(sim.sent.len(), 1);
    assert_eq!(sim.m.access_token(T0 + 1), Ok("a2"));
}

/// An access token that does not fit ends refreshing; the old access token stays, and the
/// rotated refresh token replaces the one the endpoint may have spent.
#[test]
fn an_access_token_that_does_not_fit_keeps_the_old_one_and_the_rotated_refresh_token() {
    let long = "x".repeat(257);
    let mut sim = Sim::exact(3600);
    sim.now = T0 + 3550;
    let body = format!(r#"{{"access_token":"{long}","refresh_token":"r2"}}"#);
    sim.step(&mut |_, _| ok(&body));
    assert_eq!(
        sim.failures(),
        vec![(
            RefreshError::AccessTokenTooLarge {
                len: 257,
                capacity: 256
            },
            true
        )]
    );
    assert_eq!(sim.m.access_token(T0 + 3550), Ok("a1"));
    assert_eq!(sim.m.refresh_token(), Some("r2"));
}

// ---------------------------------------------------------------- heap

mod zero_heap {
    use authcore::http::embedded_io::{ErrorKind, ErrorType, Read, Write};
    use authcore::http::{self, Target};
    use std::alloc::{GlobalAlloc, Layout, System};
    use std::cell::Cell;

    use super::*;

    thread_local! {
        static COUNT: Cell<u64> = const { Cell::new(0) };
    }

    /// Counts this thread's allocations (other test threads do not disturb a measurement).
    /// Stand-in for the shared `authcore_tests::alloc` once both branches are merged.
    struct Counting;

    #[allow(
        unsafe_code,
        reason = "a GlobalAlloc impl is unsafe by definition; it only forwards"
    )]
    // SAFETY: every method forwards to `System` with the caller's arguments unchanged.
    unsafe impl GlobalAlloc for Counting {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            let _ = COUNT.try_with(|c| c.set(c.get() + 1));
            // SAFETY: same contract as ours.
            unsafe { System.alloc(layout) }
        }
        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            // SAFETY: same contract as ours.
            unsafe { System.dealloc(ptr, layout) }
        }
        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            let _ = COUNT.try_with(|c| c.set(c.get() + 1));
            // SAFETY: same contract as ours.
            unsafe { System.realloc(ptr, layout, new_size) }
        }
    }

    #[global_allocator]
    static ALLOC: Counting = Counting;

    fn count<R>(f: impl FnOnce() -> R) -> (R, u64) {
        let before = COUNT.with(Cell::get);
        let r = f();
        (r, COUNT.with(Cell::get) - before)
    }

    /// An in-memory transport: replays a canned response one byte per read, discards writes.
    struct Canned<'a> {
        input: &'a [u8],
        written: usize,
    }

    impl ErrorType for Canned<'_> {
        type Error = ErrorKind;
    }

    impl Read for Canned<'_> {
        fn read(&mut self, buf: &mut [u8]) -> Result<usize, ErrorKind> {
            let n = buf.len().min(self.input.len()).min(1);
            buf[..n].copy_from_slice(&self.input[..n]);
            self.input = &self.input[n..];
            Ok(n)
        }
    }

    impl Write for Canned<'_> {
        fn write(&mut self, buf: &[u8]) -> Result<usize, ErrorKind> {
            self.written += buf.len();
            Ok(buf.len())
        }

        fn flush(&mut self) -> Result<(), ErrorKind> {
            Ok(())
        }
    }

    #[test]
    fn whole_refresh_cycle_does_not_allocate() {
        let responses: [&[u8]; 3] = [
            b"HTTP/1.1 503 Busy\r\nRetry-After: 10\r\nContent-Length: 35\r\n\r\n{\"error\":\"temporarily_unavailable\"}",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n19\r\n{\"access_token\":\"a\\/2\",\"e\r\n27\r\nxpires_in\":\"3600\",\"refresh_token\":\"r2\"}\r\n0\r\n\r\n",
            b"HTTP/1.1 400 Bad\r\nContent-Length: 25\r\n\r\n{\"error\":\"invalid_grant\"}",
        ];
        let client = Client::secret_basic("app", "secret").with_scope("openid");
        let target = Target {
            host: "auth.example",
            path: "/token",
        };
        let mut machine = Machine::new(Config::default(), 5);
        let mut request_buf = [0u8; 256];
        let mut response_buf = [0u8; 512];
        let ((), allocs) = count(|| {
            machine
                .set_credential(T0, "a1", Some("r1"), T0 + 3600)
                .unwrap();
            let mut now = machine.poll_timeout().unwrap();
            let mut seen = [0usize; 3];
            for response in responses {
                machine.handle_timeout(now);
                let request = machine
                    .poll_request(now, &client, &mut request_buf)
                    .unwrap()
                    .unwrap();
                let mut transport = Canned {
                    input: response,
                    written: 0,
                };
                let reply = http::exchange(
                    &mut transport,
                    &target,
                    &request,
                    &mut response_buf,
                    &mut || false,
                )
                .unwrap();
                machine.handle_response(now, reply).unwrap();
                while let Some(event) = machine.poll_event() {
                    match event {
                        Event::RefreshFailed {
                            terminal: false, ..
                        } => seen[0] += 1,
                        Event::Refreshed { .. } => seen[1] += 1,
                        Event::RefreshFailed { terminal: true, .. } => seen[2] += 1,
                        _ => {}
                    }
                }
                let _ = machine.access_token(now);
                let _ = machine.status(now);
                now = machine.poll_timeout().unwrap_or(now).max(now);
                if seen[1] == 1 {
                    machine.handle_token_rejected(now);
                }
            }
            assert_eq!(seen, [1, 1, 1]);
            assert_eq!(machine.refresh_token(), Some("r2"));
            assert_eq!(machine.session_error(), Some(REFRESH_TOKEN_ERROR));
        });
        assert_eq!(allocs, 0);
    }
}
