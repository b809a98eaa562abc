//! The HTTPS transport against a TLS front (rustls server, test CA) for the token server.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

mod common;

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use authcore::refresh::{RefreshError, TransportFailure};
use authcore_std::clock::ManualClock;
use authcore_std::http::{Endpoint, HttpsTransport, Timeouts, TransportErrorKind};
use authcore_std::refresh::{ClientCredentials, Error, Refresher, RetryPolicy};
use authcore_std::secret::Secret;
use authcore_std::store::TokenSet;
use common::tls::{server_config, test_roots};
use common::TokenServer;

const NOW: i64 = 1_800_000_000;

/// Terminates TLS and forwards each request to `backend`.
fn tls_front(backend: SocketAddr) -> SocketAddr {
    tls_front_with(backend, false)
}

/// [`tls_front`]; with `abrupt`, the answer loses its `Content-Length` (its body then ends
/// when the connection does) and the connection is closed without TLS's `close_notify`, as
/// some servers do.
fn tls_front_with(backend: SocketAddr, abrupt: bool) -> SocketAddr {
    let config = server_config();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for tcp in listener.incoming().flatten() {
            let config = Arc::clone(&config);
            std::thread::spawn(move || {
                let conn = rustls::ServerConnection::new(config).unwrap();
                let mut tls = rustls::StreamOwned::new(conn, tcp);
                let mut reader = BufReader::new(&mut tls);
                let mut head = String::new();
                let mut length = 0;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return; // handshake refused by the client
                    }
                    if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        length = v.trim().parse().unwrap();
                    }
                    head.push_str(&line);
                    if line == "\r\n" {
                        break;
                    }
                }
                let mut body = vec![0; length];
                reader.read_exact(&mut body).unwrap();
                let mut up = TcpStream::connect(backend).unwrap();
                up.write_all(head.as_bytes()).unwrap();
                up.write_all(&body).unwrap();
                let mut answer = Vec::new();
                up.read_to_end(&mut answer).unwrap();
                if abrupt {
                    let text = String::from_utf8(answer).unwrap();
                    let (head, body) = text.split_once("\r\n\r\n").unwrap();
                    let head: Vec<&str> = head
                        .split("\r\n")
                        .filter(|l| !l.to_ascii_lowercase().starts_with("content-length:"))
                        .collect();
                    answer = format!("{}\r\n\r\n{body}", head.join("\r\n")).into_bytes();
                }
                tls.write_all(&answer).unwrap();
                if !abrupt {
                    tls.conn.send_close_notify();
                }
                let _ = tls.flush();
            });
        }
    });
    addr
}

fn refresher(url: &str, transport: HttpsTransport, server: &TokenServer) -> (Refresher, String) {
    let (at, rt) = server.sign_in();
    let r = Refresher::builder(
        Endpoint::parse(url).unwrap(),
        ClientCredentials::basic("app", "s3cret"),
    )
    .clock(Arc::new(ManualClock::new(NOW)))
    .transport(Arc::new(transport))
    .retry_policy(RetryPolicy::DEFAULT.max_retries(1))
    .build();
    r.set_tokens(TokenSet::new(at, Some(Secret::new(rt.clone())), NOW - 1))
        .unwrap();
    (r, rt)
}

fn timeouts() -> Timeouts {
    Timeouts::new(
        Duration::from_secs(2),
        Duration::from_secs(2),
        Duration::from_secs(5),
    )
}

#[test]
fn refresh_over_https_with_a_private_ca() {
    let server = TokenServer::start();
    let front = tls_front(server.addr);
    for host in ["localhost", "127.0.0.1"] {
        let url = format!("https://{host}:{}/token", front.port());
        let (r, rt) = refresher(
            &url,
            HttpsTransport::with_roots(timeouts(), test_roots()),
            &server,
        );
        let token = r.access_token().unwrap();
        assert!(token.secret().starts_with("at-"));
        assert!(!server.is_live_refresh(&rt));
        let new_rt = token.token_set().refresh_token.as_ref().unwrap().expose();
        assert!(server.is_live_refresh(new_rt));
    }
    assert_eq!(server.requests(), 2);
}

#[test]
fn a_body_ended_by_a_close_without_close_notify_is_read() {
    // Read to the end of the connection, and the TCP close without `close_notify` taken as
    // that end: before, rustls's `UnexpectedEof` made it "no response", and the spent refresh
    // token was sent again (and refused).
    let server = TokenServer::start();
    let front = tls_front_with(server.addr, true);
    let url = format!("https://localhost:{}/token", front.port());
    let (r, rt) = refresher(
        &url,
        HttpsTransport::with_roots(timeouts(), test_roots()),
        &server,
    );
    let token = r.access_token().unwrap();
    assert!(!server.is_live_refresh(&rt));
    let new_rt = token.token_set().refresh_token.as_ref().unwrap().expose();
    assert!(server.is_live_refresh(new_rt));
    assert_eq!(server.requests(), 1);
    assert_eq!(server.reuse_attempts(), 0);
}

#[test]
fn a_silent_tls_server_is_given_up_on_within_the_connect_timeout() {
    // Accepts, then never answers the handshake. The connect timeout covers the handshake,
    // so a long read timeout does not stretch it.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let held: Vec<TcpStream> = listener.incoming().flatten().take(1).collect();
        std::thread::sleep(Duration::from_secs(10));
        drop(held);
    });
    let transport = HttpsTransport::with_roots(
        Timeouts::new(
            Duration::from_millis(300),
            Duration::from_secs(5),
            Duration::from_secs(8),
        ),
        test_roots(),
    );
    let endpoint = Endpoint::parse(&format!("https://localhost:{port}/token")).unwrap();
    let started = std::time::Instant::now();
    let err = authcore_std::http::Transport::post_form(
        &transport,
        &endpoint,
        &authcore_std::http::FormPost {
            body: "grant_type=refresh_token",
            authorization: None,
        },
    )
    .unwrap_err();
    let took = started.elapsed();
    assert_eq!(err.failure, TransportFailure::NotSent);
    assert_eq!(err.kind, TransportErrorKind::Timeout);
    assert!(took < Duration::from_secs(2), "{took:?}");
}

#[test]
fn untrusted_certificate_fails_before_anything_is_sent() {
    let server = TokenServer::start();
    let front = tls_front(server.addr);
    let url = format!("https://localhost:{}/token", front.port());
    // The default roots do not include the test CA.
    let (r, rt) = refresher(&url, HttpsTransport::new(timeouts()), &server);
    let err = r.access_token().unwrap_err();
    match err {
        Error::Unavailable {
            last: Some(RefreshError::NotSent),
            transport: Some(t),
            ..
        } => {
            assert_eq!(t.failure, TransportFailure::NotSent);
            assert_eq!(t.kind, TransportErrorKind::Tls);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(server.requests(), 0);
    assert!(server.is_live_refresh(&rt));
}

#[test]
fn wrong_host_name_is_refused() {
    let server = TokenServer::start();
    let front = tls_front(server.addr);
    // The certificate is for localhost and 127.0.0.1, not 127.0.0.2.
    let url = format!("https://127.0.0.2:{}/token", front.port());
    let (r, _) = refresher(
        &url,
        HttpsTransport::with_roots(timeouts(), test_roots()),
        &server,
    );
    let err = r.access_token().unwrap_err();
    assert!(
        matches!(&err, Error::Unavailable { transport: Some(t), .. } if t.kind == TransportErrorKind::Tls)
            // 127.0.0.2 may not be routable on every machine.
            || matches!(&err, Error::Unavailable { transport: Some(t), .. } if t.kind == TransportErrorKind::Connect),
        "{err:?}"
    );
    assert_eq!(server.requests(), 0);
}
