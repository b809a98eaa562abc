//! The HTTPS transport's deadlines against servers that send slowly, and the endpoint's
//! bracketed hosts.
//!
//! rustls keeps reading inside one call for as long as bytes arrive, so a server sending a byte
//! now and then never lets a socket read time out: the connect and total deadlines must be
//! enforced at every socket read and write, not between rustls calls.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use authcore::refresh::TransportFailure;
use authcore_std::http::{
    Endpoint, EndpointError, FormPost, HttpsTransport, Timeouts, Transport as _, TransportError,
    TransportErrorKind,
};

mod common;

use common::tls::{server_config, test_roots};

/// How long the slow servers below keep sending: far past every deadline the tests set.
const TRICKLE_FOR: Duration = Duration::from_secs(10);
/// One byte this often: well inside every read timeout the tests set.
const TRICKLE_EVERY: Duration = Duration::from_millis(100);

const FORM: FormPost<'static> = FormPost {
    body: "grant_type=refresh_token",
    authorization: None,
};

/// Posts [`FORM`] to `https://localhost:{port}/token`, which must fail; the error and how long
/// the call took.
fn post_failing(transport: &HttpsTransport, port: u16) -> (TransportError, Duration) {
    let endpoint = Endpoint::parse(&format!("https://localhost:{port}/token")).unwrap();
    let started = Instant::now();
    let result = transport.post_form(&endpoint, &FORM);
    (result.unwrap_err(), started.elapsed())
}

/// Writes `bytes` to `tcp` one at a time, [`TRICKLE_EVERY`] apart, for at most
/// [`TRICKLE_FOR`]; stops when the client has gone.
fn trickle(tcp: &mut TcpStream, bytes: impl IntoIterator<Item = u8>) {
    let until = Instant::now() + TRICKLE_FOR;
    for b in bytes {
        if Instant::now() >= until || tcp.write_all(&[b]).is_err() {
            return;
        }
        std::thread::sleep(TRICKLE_EVERY);
    }
}

#[test]
fn a_trickling_tls_handshake_is_given_up_on_at_the_connect_timeout() {
    // Before: rustls's `complete_io` kept reading the 16 KiB handshake record as long as bytes
    // came, so the connect deadline was never looked at again; the request ended only when
    // the server stopped (here after 10 s).
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let (mut tcp, _) = listener.accept().unwrap();
        let mut hello = [0u8; 4096];
        let _ = tcp.read(&mut hello);
        // A handshake record header announcing 16384 bytes, then those bytes, slowly.
        tcp.write_all(&[0x16, 0x03, 0x03, 0x40, 0x00]).unwrap();
        trickle(&mut tcp, std::iter::repeat(0));
    });
    let connect = Duration::from_millis(500);
    let transport = HttpsTransport::with_roots(
        Timeouts::new(connect, Duration::from_secs(1), Duration::from_secs(8)),
        test_roots(),
    );
    let (err, took) = post_failing(&transport, port);
    assert_eq!(
        (err.failure, err.kind),
        (TransportFailure::NotSent, TransportErrorKind::Timeout),
        "took {took:?}"
    );
    assert!(took >= connect, "{took:?}");
    // Connect 0.5 s (total 8 s, trickle 10 s); slack for a loaded machine.
    assert!(took < Duration::from_secs(4), "{took:?}");
}

#[test]
fn a_trickled_tls_response_is_given_up_on_at_the_total_timeout() {
    // Before: after the handshake, rustls's `StreamOwned::read` kept reading one record as
    // long as bytes came, so the total deadline was looked at only between records; the
    // request ended when the server stopped (here after 10 s), as `Io`.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let config = server_config();
    std::thread::spawn(move || {
        let (tcp, _) = listener.accept().unwrap();
        let conn = rustls::ServerConnection::new(config).unwrap();
        let mut tls = rustls::StreamOwned::new(conn, tcp);
        // Handshake and the whole request (head, then a body of Content-Length bytes).
        let mut request = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            let n = tls.read(&mut chunk).unwrap();
            assert!(n > 0, "the client closed before its request was complete");
            request.extend_from_slice(&chunk[..n]);
            let text = String::from_utf8_lossy(&request);
            if let Some((head, body)) = text.split_once("\r\n\r\n") {
                let length: usize = head
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("content-length:")
                            .map(|v| v.trim().parse().unwrap())
                    })
                    .unwrap();
                if body.len() >= length {
                    break;
                }
            }
        }
        let body = "x".repeat(8000);
        let answer = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        tls.conn.writer().write_all(answer.as_bytes()).unwrap();
        let mut wire = Vec::new();
        while tls.conn.wants_write() {
            tls.conn.write_tls(&mut wire).unwrap();
        }
        trickle(&mut tls.sock, wire);
    });
    let total = Duration::from_secs(2);
    let transport = HttpsTransport::with_roots(
        Timeouts::new(Duration::from_secs(2), Duration::from_secs(1), total),
        test_roots(),
    );
    let (err, took) = post_failing(&transport, port);
    // No byte of the answer's plaintext came (its first record never arrived whole).
    assert_eq!(
        (err.failure, err.kind),
        (TransportFailure::NoResponse, TransportErrorKind::Timeout),
        "took {took:?}"
    );
    assert!(took >= total, "{took:?}");
    // Total 2 s, read 1 s (trickle 10 s); slack for a loaded machine.
    assert!(took < Duration::from_secs(5), "{took:?}");
}

#[test]
fn a_zero_read_timeout_is_one_millisecond_over_https_too() {
    // Before: the handshake set a socket timeout of zero, which the OS refuses, so every
    // https request failed as a `Connect` error. Plain http takes zero as 1 ms; so does https
    // now: a server that does not answer the handshake within it times out the handshake.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        let (mut tcp, _) = listener.accept().unwrap();
        // Silent until the client closes.
        let mut sink = Vec::new();
        let _ = tcp.read_to_end(&mut sink);
        !sink.is_empty()
    });
    let transport = HttpsTransport::with_roots(
        Timeouts::new(
            Duration::from_secs(2),
            Duration::ZERO,
            Duration::from_secs(2),
        ),
        test_roots(),
    );
    let endpoint = Endpoint::parse(&format!("https://127.0.0.1:{port}/token")).unwrap();
    let started = Instant::now();
    let err = transport.post_form(&endpoint, &FORM).unwrap_err();
    let took = started.elapsed();
    assert_eq!(
        (err.failure, err.kind),
        (TransportFailure::NotSent, TransportErrorKind::Timeout),
        "took {took:?}"
    );
    assert!(server.join().unwrap(), "the ClientHello was sent");
    assert!(took < Duration::from_secs(1), "{took:?}");
}

#[test]
fn bracketed_hosts_must_be_ipv6_addresses() {
    for url in [
        "https://[auth.example.com]/token",
        "http://[127.0.0.1]/token",
        "https://[127.0.0.1]:8443/token",
        "http://[localhost]:9/token",
        "https://[v1.fe80::a]/token",
        "https://[::1%25lo]/token",
        "https://[::1/token",
        "https://[::1]x/token",
        "https://auth]example.com/token",
        "https://auth[example.com/token",
    ] {
        assert_eq!(
            Endpoint::parse(url),
            Err(EndpointError::InvalidUrl),
            "{url}"
        );
    }
    for (url, host, port) in [
        ("http://[::1]:9/token", "::1", 9),
        ("https://[::1]/token", "::1", 443),
        ("https://[2001:db8::1]:8443/token", "2001:db8::1", 8443),
        ("https://[::ffff:127.0.0.1]/token", "::ffff:127.0.0.1", 443),
    ] {
        let endpoint = Endpoint::parse(url).unwrap();
        assert_eq!((endpoint.host(), endpoint.port()), (host, port), "{url}");
    }
}

/// `Timeouts::connect` is "never more than `total`": a connect timeout longer than the total
/// one is cut to it. A server that accepts and never answers the TLS handshake is given up on
/// at the total timeout (0.3 s), not at the connect timeout (5 s).
#[test]
fn the_connect_timeout_is_never_longer_than_the_total_one() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let held: Vec<TcpStream> = listener.incoming().flatten().take(1).collect();
        std::thread::sleep(TRICKLE_FOR);
        drop(held);
    });
    let transport = HttpsTransport::with_roots(
        Timeouts::new(
            Duration::from_secs(5),
            Duration::from_secs(5),
            Duration::from_millis(300),
        ),
        test_roots(),
    );
    let (err, took) = post_failing(&transport, port);
    assert_eq!(err.failure, TransportFailure::NotSent);
    assert_eq!(err.kind, TransportErrorKind::Timeout);
    assert!(took < Duration::from_secs(2), "{took:?}");
}

/// Over plain `http://` (loopback) the connect timeout covers the connection setup only: an
/// answer that takes longer than it, within the read and total timeouts, is read.
#[test]
fn a_plain_http_answer_slower_than_the_connect_timeout_is_read() {
    let server = common::TokenServer::start();
    let (_, rt) = server.sign_in();
    server.push_fault(common::Fault::Delay(Duration::from_millis(800)));
    let transport = HttpsTransport::new(Timeouts::new(
        Duration::from_millis(200),
        Duration::from_secs(3),
        Duration::from_secs(5),
    ));
    let endpoint = Endpoint::parse(&server.token_url()).unwrap();
    let body =
        format!("grant_type=refresh_token&refresh_token={rt}&client_id=app&client_secret=s3cret");
    let result = transport.post_form(
        &endpoint,
        &FormPost {
            body: &body,
            authorization: None,
        },
    );
    let response = result.unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(response.status, 200);
}
