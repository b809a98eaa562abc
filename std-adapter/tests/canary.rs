//! Canary: a recognisable client secret and tokens go through successful and failed refreshes
//! with every log (tracing and `log`, trace level) captured; the canaries must never appear
//! in the logs, in `Debug` output or in error messages.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

mod common;

use std::io;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use authcore_std::authorized::Authorized;
use authcore_std::clock::ManualClock;
use authcore_std::http::{Endpoint, FormPost, HttpsTransport, Timeouts};
use authcore_std::refresh::{ClientCredentials, Refresher};
use authcore_std::secret::Secret;
use authcore_std::store::{FileStore, TokenSet};
use common::{Fault, TokenServer};

const SECRET: &str = "CANARY-secret-9f8e7d6c";
const TOKEN_PREFIX: &str = "CANARY-tok-5a4b3c-";
const NOW: i64 = 1_800_000_000;

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, record: &log::Record<'_>) {
        let line = format!("{} {} {}\n", record.level(), record.target(), record.args());
        self.0.lock().unwrap().extend_from_slice(line.as_bytes());
    }
    fn flush(&self) {}
}

fn base64(input: &[u8]) -> String {
    const ALPHA: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHA[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}

#[test]
fn canaries_never_appear_in_logs_debug_or_errors() {
    let capture = Capture::default();
    let writer = capture.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .init();
    log::set_boxed_logger(Box::new(capture.clone())).unwrap();
    log::set_max_level(log::LevelFilter::Trace);

    let server = TokenServer::with_secret("app", SECRET, TOKEN_PREFIX);
    let dir = common::temp_dir("canary");
    let clock = Arc::new(ManualClock::new(NOW));
    let mut printed: Vec<String> = Vec::new();

    let build = |client: ClientCredentials| {
        Refresher::builder(Endpoint::parse(&server.token_url()).unwrap(), client)
            .key("canary-user")
            .store(Arc::new(FileStore::new(dir.path()).unwrap()))
            .clock(clock.clone())
            .transport(Arc::new(HttpsTransport::new(Timeouts::new(
                Duration::from_secs(2),
                Duration::from_millis(300),
                Duration::from_secs(3),
            ))))
            .build()
    };
    let sign_in = |r: &Refresher| {
        let (at, rt) = server.sign_in();
        r.set_tokens(TokenSet::new(at, Some(Secret::new(rt)), NOW - 1))
            .unwrap();
    };

    for client in [
        ClientCredentials::basic("app", SECRET),
        ClientCredentials::post("app", SECRET),
    ] {
        printed.push(format!("{client:?}"));
        // Success with rotation, after a 503 and a reset.
        let r = build(client.clone());
        sign_in(&r);
        server.push_fault(Fault::Status(503, "{}", Some(1)));
        server.push_fault(Fault::Reset);
        let token = r.access_token().unwrap();
        assert!(token.secret().starts_with(TOKEN_PREFIX));
        printed.push(format!("{token:?} {:?} {r:?}", token.token_set()));
        printed.push(format!("{:?}", token.authorization()));

        // Terminal failures whose bodies carry the canary.
        for fault in [
            Fault::Status(
                400,
                r#"{"error":"invalid_grant","error_description":"CANARY-tok-5a4b3c-echo"}"#,
                None,
            ),
            Fault::Status(200, r#"{"access_token":"CANARY-tok-5a4b3c-broken"#, None),
            Fault::Status(200, r#"{"refresh_token":"CANARY-tok-5a4b3c-x"}"#, None),
            Fault::Status(
                400,
                r#"{"error":"CANARY-tok-5a4b3c-code","error_description":"x"}"#,
                None,
            ),
            Fault::Hang(Duration::from_secs(2)),
        ] {
            let r = build(client.clone());
            sign_in(&r);
            let hang = matches!(fault, Fault::Hang(_));
            server.push_fault(fault.clone());
            if hang {
                server.push_fault(fault);
            }
            let err = r.access_token().unwrap_err();
            printed.push(format!("{err} {err:?} {r:?}"));
            let cli = authcore_std::refresh_cli::failed(err);
            printed.push(format!("{cli:?}"));
        }

        // Transient failures exhausted.
        let r = build(client.clone());
        sign_in(&r);
        for _ in 0..4 {
            server.push_fault(Fault::Status(
                500,
                r#"{"error":"server_error","error_description":"CANARY-tok-5a4b3c-500"}"#,
                None,
            ));
        }
        let err = r.access_token().unwrap_err();
        printed.push(format!("{err} {err:?}"));

        // A 401 from the API, then a refresh.
        let r = build(client.clone());
        sign_in(&r);
        r.access_token().unwrap();
        // Past the machine's minimum interval between refreshes.
        clock.advance(Duration::from_secs(11));
        let api = Authorized::new(r.clone());
        let at = r.current().unwrap().access_token.expose().to_owned();
        server.revoke_access(&at);
        assert_eq!(common::api_get(&api, &server.api_url()), 200);
        printed.push(format!("{api:?}"));
    }
    printed.push(format!(
        "{:?}",
        FormPost {
            body: "refresh_token=CANARY-tok-5a4b3c-1",
            authorization: Some("Basic CANARY"),
        }
    ));

    let logs = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("token refresh"), "logs were captured");
    assert!(logs.contains("outcome=\"refreshed\"") || logs.contains("outcome=refreshed"));
    assert!(
        logs.contains("rustls") || logs.contains("DEBUG") || logs.contains("TRACE"),
        "trace logs were captured"
    );
    let basic = base64(format!("app:{SECRET}").as_bytes());
    for canary in [SECRET, "CANARY", TOKEN_PREFIX, basic.as_str()] {
        let leaks: Vec<&str> = logs.lines().filter(|l| l.contains(canary)).collect();
        assert!(leaks.is_empty(), "canary {canary:?} in logs: {leaks:#?}");
        for p in &printed {
            assert!(!p.contains(canary), "canary {canary:?} in {p}");
        }
    }
}
