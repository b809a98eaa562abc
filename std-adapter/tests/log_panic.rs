//! A log layer that panics while the refresher reports an outcome must not keep that outcome
//! from the callers waiting on the refresh. Its own test binary: it installs a global
//! subscriber.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use std::sync::Arc;
use std::time::Duration;

use authcore_std::clock::ManualClock;
use authcore_std::http::Endpoint;
use authcore_std::refresh::{ClientCredentials, Refresher, RetryPolicy};
use authcore_std::secret::Secret;
use authcore_std::store::TokenSet;

/// Panics on the refresher's warning (a failed refresh); ignores everything else.
struct PanicsOnRefreshWarning;

impl tracing::Subscriber for PanicsOnRefreshWarning {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, e: &tracing::Event<'_>) {
        let m = e.metadata();
        if m.target() == "authcore_std::refresh" && *m.level() == tracing::Level::WARN {
            panic!("a log layer that panics");
        }
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

#[test]
fn a_panicking_log_layer_does_not_block_the_waiters() {
    tracing::subscriber::set_global_default(PanicsOnRefreshWarning).unwrap();
    const NOW: i64 = 1_800_000_000;
    // A loopback port that was just bound and released refuses the connection: the refresh
    // fails at once (not sent).
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let refresher = Refresher::builder(
        Endpoint::parse(&format!("http://127.0.0.1:{port}/token")).unwrap(),
        ClientCredentials::basic("app", "s3cret"),
    )
    .clock(Arc::new(ManualClock::new(NOW)))
    .retry_policy(RetryPolicy::DEFAULT.max_retries(0))
    .build();
    refresher
        .set_tokens(TokenSet::new("at", Some(Secret::new("rt")), NOW - 5))
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let r = refresher.clone();
    std::thread::spawn(move || {
        let _ = tx.send(r.access_token());
    });
    let got = rx
        .recv_timeout(Duration::from_secs(20))
        .expect("the caller got an answer");
    assert!(got.is_err(), "the refresh failed: {got:?}");
    // And the refresher still answers later calls.
    let again = std::thread::spawn(move || refresher.access_token());
    assert!(again.join().unwrap().is_err());
}
