//! Crash safety: a child process (this test binary, re-run with an environment variable)
//! performs a rotation against the token server and aborts at a named step. After the crash
//! the file store must hold either the old set or the complete new set, and a restarted
//! refresher must behave accordingly.
//!
//! This file has its own `main` (`harness = false`): the binary is either the child (the
//! environment names a step) or the runner of the five cases below, so no placeholder test
//! passes by doing nothing.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

mod common;

use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use authcore_std::clock::ManualClock;
use authcore_std::http::Endpoint;
use authcore_std::refresh::{ClientCredentials, Error, Refresher, Step};
use authcore_std::secret::Secret;
use authcore_std::store::{FileStore, TokenSet, TokenStore as _};
use common::{Fault, TokenServer};

const NOW: i64 = 1_800_000_000;
const STEP: &str = "AUTHCORE_CRASH_STEP";
const URL: &str = "AUTHCORE_CRASH_URL";
const DIR: &str = "AUTHCORE_CRASH_DIR";

fn refresher(url: &str, store: FileStore) -> Refresher {
    Refresher::builder(
        Endpoint::parse(url).unwrap(),
        ClientCredentials::basic("app", "s3cret"),
    )
    .key("user")
    .store(Arc::new(store))
    .clock(Arc::new(ManualClock::new(NOW)))
    .build()
}

/// The child, started by [`crash_at`]: runs a refresh and aborts at `step`.
fn crash_child(step: &str) -> ! {
    let step = step.to_owned();
    let url = std::env::var(URL).unwrap();
    let dir = std::env::var(DIR).unwrap();
    let abort_at = move |s: Step| {
        let name = match s {
            Step::BeforeSend => "before_send",
            Step::AfterResponse => "after_response",
            Step::MidWrite => "mid_write",
            Step::AfterWrite => "after_write",
            _ => "other",
        };
        if name == step {
            std::process::abort();
        }
        if s == Step::BeforeSend && step == "after_send" {
            // The server holds its answer for seconds after spending the token: die while
            // the request is out.
            std::thread::spawn(|| {
                std::thread::sleep(Duration::from_millis(500));
                std::process::abort();
            });
        }
    };
    let hook: authcore_std::refresh::StepHook = Arc::new(abort_at);
    let store = FileStore::new(&dir).unwrap().with_hook(Arc::clone(&hook));
    let r = Refresher::builder(
        Endpoint::parse(&url).unwrap(),
        ClientCredentials::basic("app", "s3cret"),
    )
    .key("user")
    .store(Arc::new(store))
    .clock(Arc::new(ManualClock::new(NOW)))
    .step_hook(hook)
    .build();
    let _ = r.access_token();
    // The step was not reached.
    std::process::exit(3);
}

struct Crash {
    server: TokenServer,
    dir: common::TempDir,
    old: TokenSet,
}

fn crash_at(step: &str) -> Crash {
    let server = TokenServer::start();
    if step == "after_send" {
        server.push_fault(Fault::Delay(Duration::from_secs(3)));
    }
    let (at, rt) = server.sign_in();
    let dir = common::temp_dir(&format!("crash-{step}"));
    let old = TokenSet::new(at, Some(Secret::new(rt)), NOW - 5);
    FileStore::new(dir.path())
        .unwrap()
        .save("user", &old)
        .unwrap();
    let status = Command::new(std::env::current_exe().unwrap())
        .env(STEP, step)
        .env(URL, server.token_url())
        .env(DIR, dir.path())
        .output()
        .unwrap()
        .status;
    assert!(!status.success(), "{step}: child exited normally");
    assert_ne!(status.code(), Some(3), "{step}: the step was never reached");
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt as _;
        assert_eq!(
            status.signal(),
            Some(6),
            "{step}: child did not abort: {status:?}"
        );
    }
    Crash { server, dir, old }
}

impl Crash {
    fn stored(&self) -> TokenSet {
        FileStore::new(self.dir.path())
            .unwrap()
            .load("user")
            .unwrap()
            .expect("a set is stored")
    }

    fn old_rt(&self) -> &str {
        self.old.refresh_token.as_ref().unwrap().expose()
    }

    fn restart(&self) -> Result<String, Error> {
        let r = refresher(
            &self.server.token_url(),
            FileStore::new(self.dir.path()).unwrap(),
        );
        r.access_token().map(|t| t.secret().to_owned())
    }
}

fn crash_before_send_keeps_the_unspent_old_set() {
    let c = crash_at("before_send");
    assert_eq!(c.server.requests(), 0);
    assert_eq!(c.stored(), c.old);
    assert!(c.server.is_live_refresh(c.old_rt()));
    // After restart the old set refreshes normally.
    c.restart().unwrap();
    assert_eq!(c.server.requests(), 1);
}

fn crash_after_send_keeps_the_old_set_whole() {
    let c = crash_at("after_send");
    assert_eq!(c.server.requests(), 1);
    assert_eq!(c.stored(), c.old);
    // The server spent the token but the answer was lost with the process: no client can
    // recover that without a server-side reuse interval. The store is intact and the outcome
    // is a clean `invalid_grant` (sign in again), never a torn or empty set.
    assert!(!c.server.is_live_refresh(c.old_rt()));
    assert_eq!(c.restart().unwrap_err().oauth_code(), Some("invalid_grant"));
}

fn crash_after_response_keeps_the_old_set_whole() {
    let c = crash_at("after_response");
    assert_eq!(c.server.requests(), 1);
    assert_eq!(c.stored(), c.old);
    assert_eq!(c.restart().unwrap_err().oauth_code(), Some("invalid_grant"));
}

fn crash_mid_write_keeps_the_old_set_whole() {
    let c = crash_at("mid_write");
    assert_eq!(c.server.requests(), 1);
    assert_eq!(c.stored(), c.old);
    // The half-written temporary file is there, and ignored.
    let leftovers = std::fs::read_dir(c.dir.path())
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .contains(".tmp-")
        })
        .count();
    assert_eq!(leftovers, 1);
    assert_eq!(c.restart().unwrap_err().oauth_code(), Some("invalid_grant"));
}

fn crash_after_write_keeps_the_complete_new_set() {
    let c = crash_at("after_write");
    assert_eq!(c.server.requests(), 1);
    let stored = c.stored();
    assert_ne!(stored, c.old);
    let rt = stored.refresh_token.as_ref().unwrap().expose().to_owned();
    assert!(
        c.server.is_live_refresh(&rt),
        "the stored refresh token is the live one"
    );
    assert!(stored.expires_at > NOW);
    // After restart the new access token is used without a request.
    assert_eq!(c.restart().unwrap(), stored.access_token.expose());
    assert_eq!(c.server.requests(), 1);
}

/// The cases, by name.
const CASES: [(&str, fn()); 5] = [
    (
        "crash_before_send_keeps_the_unspent_old_set",
        crash_before_send_keeps_the_unspent_old_set,
    ),
    (
        "crash_after_send_keeps_the_old_set_whole",
        crash_after_send_keeps_the_old_set_whole,
    ),
    (
        "crash_after_response_keeps_the_old_set_whole",
        crash_after_response_keeps_the_old_set_whole,
    ),
    (
        "crash_mid_write_keeps_the_old_set_whole",
        crash_mid_write_keeps_the_old_set_whole,
    ),
    (
        "crash_after_write_keeps_the_complete_new_set",
        crash_after_write_keeps_the_complete_new_set,
    ),
];

/// The child when the environment names a step; otherwise runs the cases (those whose name
/// contains a non-flag argument, or all), in parallel like libtest, and fails if any panics.
fn main() {
    if let Ok(step) = std::env::var(STEP) {
        crash_child(&step);
    }
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let selected: Vec<_> = CASES
        .iter()
        .filter(|(name, _)| filters.is_empty() || filters.iter().any(|f| name.contains(f.as_str())))
        .collect();
    println!("\nrunning {} tests", selected.len());
    let results: Vec<(&str, bool)> = std::thread::scope(|scope| {
        let running: Vec<_> = selected
            .iter()
            .map(|&&(name, case)| (name, scope.spawn(case)))
            .collect();
        running
            .into_iter()
            .map(|(name, handle)| (name, handle.join().is_ok()))
            .collect()
    });
    let failed = results.iter().filter(|(_, ok)| !ok).count();
    for (name, ok) in &results {
        println!("test {name} ... {}", if *ok { "ok" } else { "FAILED" });
    }
    println!(
        "\ntest result: {}. {} passed; {failed} failed\n",
        if failed == 0 { "ok" } else { "FAILED" },
        results.len() - failed
    );
    if failed > 0 {
        std::process::exit(101);
    }
}
