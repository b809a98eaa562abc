//! API calls with a rejected access token: one refresh per token generation, each request
//! retried once.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

mod common;

use std::sync::atomic::Ordering;
use std::sync::{Arc, Barrier};
use std::time::Duration;

use authcore_std::authorized::Authorized;
use authcore_std::clock::ManualClock;
use authcore_std::http::Endpoint;
use authcore_std::refresh::{ClientCredentials, Refresher};
use authcore_std::secret::Secret;
use authcore_std::store::TokenSet;
use common::{Fault, TokenServer};

const NOW: i64 = 1_800_000_000;

fn signed_in(server: &TokenServer) -> (Authorized, String) {
    let (at, rt) = server.sign_in();
    let refresher = Refresher::builder(
        Endpoint::parse(&server.token_url()).unwrap(),
        ClientCredentials::basic("app", "s3cret"),
    )
    .clock(Arc::new(ManualClock::new(NOW)))
    .build();
    refresher
        .set_tokens(TokenSet::new(at.clone(), Some(Secret::new(rt)), NOW + 3600))
        .unwrap();
    (Authorized::new(refresher), at)
}

#[test]
fn fifty_calls_with_a_revoked_token_cause_one_refresh_and_fifty_retries() {
    let server = TokenServer::start();
    let (api, at) = signed_in(&server);
    server.revoke_access(&at);
    server.push_fault(Fault::Delay(Duration::from_millis(200)));
    let n = 50;
    let barrier = Arc::new(Barrier::new(n));
    let url = server.api_url();
    let handles: Vec<_> = (0..n)
        .map(|_| {
            let api = api.clone();
            let b = Arc::clone(&barrier);
            let url = url.clone();
            std::thread::spawn(move || {
                b.wait();
                common::api_get(&api, &url)
            })
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().unwrap(), 200);
    }
    assert_eq!(server.requests(), 1, "one refresh");
    assert_eq!(server.api_requests.load(Ordering::SeqCst), 2 * n);
    let state = server.state.lock().unwrap();
    assert_eq!(
        state.api_calls.get(&at),
        Some(&n),
        "each call sent once with the old token"
    );
    let new = api.refresher().current().unwrap();
    assert_eq!(
        state.api_calls.get(new.access_token.expose()),
        Some(&n),
        "and retried once with the new one"
    );
    assert_eq!(state.api_calls.len(), 2);
}

#[test]
fn a_second_401_after_the_refresh_is_returned_to_the_caller() {
    let server = TokenServer::start();
    let (api, _) = signed_in(&server);
    server.state.lock().unwrap().reject_all_access = true;
    assert_eq!(common::api_get(&api, &server.api_url()), 401);
    assert_eq!(server.requests(), 1);
    assert_eq!(server.api_requests.load(Ordering::SeqCst), 2);
    // The new generation is rejected too, right after a refresh: the machine's minimum
    // interval holds, so the 401 is returned without another refresh.
    assert_eq!(common::api_get(&api, &server.api_url()), 401);
    assert_eq!(server.requests(), 1);
    assert_eq!(server.api_requests.load(Ordering::SeqCst), 3);
}

/// The 401 rule as the std README states it: after an ordinary refresh, a 401 on the new
/// token lifts the minimum interval once and refreshes at once; the token that refresh gave
/// keeps the interval, so its 401 is returned; once the interval has passed, a 401 refreshes
/// again (at most two token requests per interval, never a tight loop). The clock moves a
/// second between refreshes, so each answer moves the expiry (an answer that does not is
/// stale and backs off longer).
#[test]
fn a_401_lifts_the_minimum_interval_once_per_generation() {
    let server = TokenServer::start();
    let (at, rt) = server.sign_in();
    let clock = Arc::new(ManualClock::new(NOW));
    let refresher = Refresher::builder(
        Endpoint::parse(&server.token_url()).unwrap(),
        ClientCredentials::basic("app", "s3cret"),
    )
    .clock(clock.clone())
    .build();
    refresher
        .set_tokens(TokenSet::new(at, Some(Secret::new(rt)), NOW + 3600))
        .unwrap();
    let api = Authorized::new(refresher);
    // An ordinary refresh; the 401 below comes 1 s after it, within the 10 s interval.
    clock.advance(Duration::from_secs(60));
    api.refresher().refresh().unwrap();
    assert_eq!(server.requests(), 1);
    clock.advance(Duration::from_secs(1));
    server.state.lock().unwrap().reject_all_access = true;
    assert_eq!(common::api_get(&api, &server.api_url()), 401);
    assert_eq!(server.requests(), 2, "the 401 lifted the interval once");
    // The generation that 401's refresh gave keeps the interval.
    clock.advance(Duration::from_secs(1));
    assert_eq!(common::api_get(&api, &server.api_url()), 401);
    assert_eq!(server.requests(), 2);
    // Once the interval has passed, its 401 refreshes.
    clock.advance(Duration::from_secs(10));
    assert_eq!(common::api_get(&api, &server.api_url()), 401);
    assert_eq!(server.requests(), 3);
}

#[test]
fn accepted_token_is_not_refreshed() {
    let server = TokenServer::start();
    let (api, at) = signed_in(&server);
    for _ in 0..5 {
        assert_eq!(common::api_get(&api, &server.api_url()), 200);
    }
    assert_eq!(server.requests(), 0);
    assert_eq!(server.state.lock().unwrap().api_calls.get(&at), Some(&5));
}

#[test]
fn async_calls_share_the_refresh_too() {
    let server = TokenServer::start();
    let (api, at) = signed_in(&server);
    server.revoke_access(&at);
    let url = server.api_url();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let statuses = rt.block_on(async {
        let tasks: Vec<_> = (0..20)
            .map(|_| {
                let api = api.clone();
                let url = url.clone();
                tokio::spawn(async move {
                    api.send_async(|token| {
                        let url = url.clone();
                        async move {
                            // The API call itself is blocking ureq: keep it off the workers.
                            tokio::task::spawn_blocking(move || {
                                common::raw_get(&url, token.authorization().expose())
                            })
                            .await
                            .unwrap()
                        }
                    })
                    .await
                    .unwrap()
                    .status
                })
            })
            .collect();
        let mut out = Vec::new();
        for t in tasks {
            out.push(t.await.unwrap());
        }
        out
    });
    assert!(statuses.iter().all(|&s| s == 200), "{statuses:?}");
    assert_eq!(server.requests(), 1);
}
