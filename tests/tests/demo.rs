//! The end-to-end demo (`cargo run -p authcore-examples --bin demo`) run as a test: every step
//! behaves as it says, against the in-process token endpoint, and finishes (well under a
//! minute; its schedule waits about 8 seconds).

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test helpers outside #[test] functions"
)]

use std::time::{Duration, Instant};

use authcore::refresh::{request, Client};
use authcore_examples::demo::{Concurrency, Remote};
use authcore_examples::token_server::{Seen, ServerConfig, TokenServer};
use authcore_examples::transport::{self, Endpoint};
use authcore_examples::{run, ClientAuthMethod, DemoError, Options, Provider, Summary};

fn run_demo(opts: &Options) -> (Summary, String) {
    let mut out = Vec::new();
    let result = run(opts, &mut out);
    let text = String::from_utf8(out).unwrap();
    match result {
        Ok(s) => (s, text),
        Err(e) => panic!("demo failed: {e}\n--- output ---\n{text}"),
    }
}

#[test]
fn timeline_against_the_in_process_provider() {
    let start = Instant::now();
    let (s, text) = run_demo(&Options::default());
    let took = start.elapsed();
    // Not a speed check: the demo's own schedule waits about 8 s of wall clock (token
    // lifetimes of seconds). A bound far above that catches a step that sleeps through an
    // extra lifetime or a retry loop, without failing on a slow, busy machine.
    assert!(took < Duration::from_secs(60), "took {took:?}");
    assert!(s.elapsed <= took);

    // Token requests per step, as sent by the demo and as counted by the server.
    let per_step: Vec<_> = s
        .steps
        .iter()
        .map(|st| (st.name, st.requests_sent, st.server_requests))
        .collect();
    assert_eq!(
        per_step,
        [
            ("sign-in", 0, Some(0)),
            ("session read (sliding expiry)", 0, Some(0)),
            ("the access token nears expiry", 0, Some(0)),
            ("silent refresh with rotation", 1, Some(1)),
            ("concurrent reads while a refresh is due", 1, Some(1)),
            ("the provider revokes the grant", 0, Some(0)),
            (
                "refresh fails: RefreshTokenError in the session",
                1,
                Some(1)
            ),
            ("sign-out", 0, Some(0)),
        ]
    );
    assert!(s.steps.iter().all(|st| st.skipped.is_none()));
    assert!(s.codec.starts_with("JWE"), "{}", s.codec);
    assert_eq!(s.requests_sent, 3);

    // The rotation chain: each refresh token used once, the revoked one refused.
    assert_eq!(s.refresh_chain, ["rt_1_1", "rt_1_2", "rt_1_3"]);
    let log: Vec<_> = s
        .server_log
        .iter()
        .map(|seen| {
            let rt = seen.refresh_token.as_deref().unwrap();
            (
                rt.split('_').take(3).collect::<Vec<_>>().join("_"),
                seen.status,
                seen.error,
            )
        })
        .collect();
    assert_eq!(
        log,
        [
            ("rt_1_1".to_owned(), 200, None),
            ("rt_1_2".to_owned(), 200, None),
            ("rt_1_3".to_owned(), 400, Some("invalid_grant")),
        ]
    );

    assert_eq!(
        s.concurrency,
        Some(Concurrency {
            readers: 8,
            leaders: 1,
            followers: 7,
            requests: 1,
            refreshed: 8
        })
    );
    assert_eq!(s.session_error.as_deref(), Some("RefreshTokenError"));
    assert!(s.failure_not_retried);

    let out = s.sign_out.as_ref().unwrap();
    assert!(!out.chunks_before.is_empty());
    let mut deleted = out.deleted.clone();
    deleted.sort();
    assert_eq!(deleted, out.chunks_before);
    assert_eq!(out.body_after, "null");
    assert_eq!(s.steps.last().unwrap().chunks, 0);
    // The session cookie is there, with a size, until sign-out.
    assert!(s.steps[..7]
        .iter()
        .all(|st| st.chunks >= 1 && st.cookie_bytes > 1000));

    // Readable, and no token is ever printed (only labels such as rt_1_2).
    for needle in [
        "1. sign-in",
        "8. sign-out",
        "session JSON: {",
        "RefreshTokenError",
    ] {
        assert!(text.contains(needle), "{needle:?} missing from:\n{text}");
    }
    assert!(text.matches("\n     ok  ").count() >= 25, "{text}");
    // Nor through `Debug` of the summary (its server log shows labels only).
    let debug = format!("{s:?}");
    for seen in &s.server_log {
        let rt = seen.refresh_token.as_deref().unwrap();
        assert!(!text.contains(rt));
        assert!(!debug.contains(rt), "{debug}");
    }
    assert!(
        debug.contains(r#"refresh_token: Some("rt_1_3")"#),
        "{debug}"
    );
    assert!(!text.contains("demo-client-secret"));
    assert!(!debug.contains("demo-client-secret"));
}

fn send(endpoint: &str, client: &Client<'_>, refresh_token: &str) -> (u16, String) {
    let endpoint = Endpoint::parse(endpoint).unwrap();
    let mut buf = [0u8; 512];
    let req = request::encode(client, refresh_token, &mut buf).unwrap();
    let reply = transport::post(&endpoint, &req, Duration::from_secs(5)).unwrap();
    (reply.status, String::from_utf8(reply.body).unwrap())
}

#[test]
fn token_server_rotates_refuses_reuse_and_revokes() {
    let server = TokenServer::start(ServerConfig {
        latency: Duration::ZERO,
        ..ServerConfig::default()
    })
    .unwrap();
    let url = server.endpoint();
    let cfg = server.config().clone();
    let post = Client::secret_post(&cfg.client_id, &cfg.client_secret);
    let basic = Client::secret_basic(&cfg.client_id, &cfg.client_secret);
    let g = server.issue_grant().unwrap();
    assert_eq!(g.access_token.len(), cfg.access_token_len);

    let (status, body) = send(&url, &post, &g.refresh_token);
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let rt2 = v["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(rt2, g.refresh_token);
    assert_eq!(v["expires_in"], 4);
    // Reusing the rotated-away token is refused.
    assert_eq!(
        send(&url, &basic, &g.refresh_token),
        (400, r#"{"error":"invalid_grant"}"#.to_owned())
    );
    // Wrong secret, either method.
    for bad in [
        Client::secret_post(&cfg.client_id, "nope"),
        Client::secret_basic(&cfg.client_id, "nope"),
        Client::public(&cfg.client_id),
    ] {
        assert_eq!(send(&url, &bad, &rt2).0, 401);
    }
    // client_secret_basic works; then revocation ends the grant.
    let (status, body) = send(&url, &basic, &rt2);
    assert_eq!(status, 200);
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let rt3 = v["refresh_token"].as_str().unwrap().to_owned();
    assert!(server.revoke(g.grant));
    assert!(!server.revoke(99));
    assert_eq!(send(&url, &basic, &rt3).0, 400);
    assert_eq!(server.requests(), 7);
    assert_eq!(
        server.log().last(),
        Some(&Seen {
            refresh_token: Some(rt3),
            status: 400,
            error: Some("invalid_grant")
        })
    );
}

fn remote(url: &str) -> Options {
    Options {
        provider: Provider::Remote(Remote {
            token_endpoint: url.into(),
            client_id: "id".into(),
            client_secret: "secret".into(),
            auth: ClientAuthMethod::Basic,
            refresh_token: "rt".into(),
        }),
        request_timeout: Duration::from_secs(2),
        ..Options::default()
    }
}

#[test]
fn remote_endpoints_go_through_the_std_https_client() {
    // Plain HTTP to a non-loopback host would send the client secret in the clear: refused
    // before anything is sent.
    let err = run(&remote("http://idp.example/token"), &mut Vec::new()).unwrap_err();
    assert_eq!(err.kind(), "setup");
    assert!(err.to_string().contains("https://"), "{err}");
    // https:// is accepted; nothing listens on port 9, so the first refresh fails and the step
    // that expects it says so (the session carries RefreshTokenError).
    let mut out = Vec::new();
    let err = run(&remote("https://127.0.0.1:9/token"), &mut out).unwrap_err();
    let text = String::from_utf8(out).unwrap();
    assert!(
        matches!(err, DemoError::Step { number: 2, .. }),
        "{err}\n{text}"
    );
    assert!(
        text.contains("token endpoint answered: no response (NotSent): request not sent (connect)"),
        "{text}"
    );
    assert!(text.contains(r#""error":"RefreshTokenError""#));
}

#[test]
fn remote_mode_against_a_provider_on_http() {
    // The in-process server stands in for a real provider reached through --token-endpoint.
    let server = TokenServer::start(ServerConfig {
        expires_in: 3600,
        latency: Duration::from_millis(100),
        ..ServerConfig::default()
    })
    .unwrap();
    let g = server.issue_grant().unwrap();
    let cfg = server.config().clone();
    let opts = Options {
        provider: Provider::Remote(Remote {
            token_endpoint: server.endpoint(),
            client_id: cfg.client_id.clone(),
            client_secret: cfg.client_secret.clone(),
            auth: ClientAuthMethod::Basic,
            refresh_token: g.refresh_token.clone(),
        }),
        readers: 4,
        ..Options::default()
    };
    let (s, text) = run_demo(&opts);
    let per_step: Vec<_> = s
        .steps
        .iter()
        .map(|st| (st.requests_sent, st.server_requests, st.skipped.is_some()))
        .collect();
    assert_eq!(
        per_step,
        [
            (0, None, false),
            (1, None, false),
            (0, None, false),
            (1, None, false),
            (0, None, true),
            (0, None, true),
            (0, None, false),
        ]
    );
    assert_eq!(server.requests(), 2);
    assert!(server.log().iter().all(|seen| seen.status == 200));
    assert_eq!(s.concurrency.unwrap().leaders, 1);
    assert_eq!(s.concurrency.unwrap().refreshed, 4);
    assert_eq!(s.refresh_chain.len(), 3);
    assert!(s.refresh_chain.iter().all(|l| l.starts_with('#')));
    assert!(!text.contains(&g.refresh_token));
}

/// A token endpoint that does not rotate refresh tokens (as Google, the provider of the Auth.js
/// refresh guide): every grant answers a new access token and no `refresh_token`. Returns its
/// URL and the number of requests it received.
fn start_non_rotating_provider() -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::io::{BufRead as _, BufReader, Read as _, Write as _};
    use std::sync::atomic::{AtomicUsize, Ordering};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let count = std::sync::Arc::new(AtomicUsize::new(0));
    let counter = count.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
            std::thread::spawn(move || {
                let mut reader = BufReader::new(s.try_clone().unwrap());
                let mut len = 0usize;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let l = line.trim_end().to_ascii_lowercase();
                    if l.is_empty() {
                        break;
                    }
                    if let Some(v) = l.strip_prefix("content-length:") {
                        len = v.trim().parse().unwrap();
                    }
                }
                let mut body = vec![0u8; len];
                reader.read_exact(&mut body).unwrap();
                std::thread::sleep(Duration::from_millis(100));
                let answer = format!(
                    r#"{{"access_token":"at-{n}-0123456789abcdef","token_type":"Bearer","expires_in":3600,"scope":"openid"}}"#
                );
                let _ = write!(
                    s,
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nCache-Control: no-store\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
                    answer.len()
                );
            });
        }
    });
    (format!("http://{addr}/token"), count)
}

/// Remote mode supports such a provider (step 2 says "the provider kept the refresh token"),
/// so the whole remote timeline passes against it.
#[test]
fn remote_mode_against_a_provider_that_does_not_rotate() {
    let (url, count) = start_non_rotating_provider();
    let opts = Options {
        provider: Provider::Remote(Remote {
            token_endpoint: url,
            client_id: "id".into(),
            client_secret: "secret".into(),
            auth: ClientAuthMethod::Basic,
            refresh_token: "rt-google-style-never-rotated".into(),
        }),
        readers: 4,
        ..Options::default()
    };
    let mut out = Vec::new();
    let result = run(&opts, &mut out);
    let text = String::from_utf8(out).unwrap();
    let requests = count.load(std::sync::atomic::Ordering::SeqCst);
    assert!(
        result.is_ok(),
        "{:?}; requests received: {requests}\n--- output ---\n{text}",
        result.err()
    );
    // Step 2 and step 4 each made one request (step 4's is the same request as step 2's).
    assert_eq!(requests, 2, "{text}");
    assert!(
        text.contains("the provider kept the refresh token"),
        "{text}"
    );
}
