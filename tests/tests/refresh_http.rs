//! The embedded-io HTTP exchange over real TCP on 127.0.0.1 against a small token server.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers outside #[test] functions"
)]

use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use authcore::http::{self, ExchangeError, RefreshIoError, Target};
use authcore::refresh::{
    Client, Config, Event, OAuthError, RefreshError, RefreshMachine, TransportFailure,
};
use embedded_io_adapters::std::FromStd;

const T0: i64 = 1_700_000_000;
const CLIENT: Client<'static> = Client::secret_basic("app id", "s3:cr+t");
// base64("app+id:s3%3Acr%2Bt")
const BASIC: &str = "Basic YXBwK2lkOnMzJTNBY3IlMkJ0";

/// How the server writes one response.
#[derive(Clone, Copy, Debug)]
enum Style {
    /// `Content-Length`, one write.
    Plain,
    /// `Transfer-Encoding: chunked` with 3-byte chunks, every byte written and flushed alone.
    ChunkedByteByByte,
    /// No length, close delimits the body.
    UntilClose,
    /// Close the connection without answering.
    Hangup,
    /// One byte every 30 ms.
    Slow,
}

/// A received request: (Authorization header, body).
type Seen = (Option<String>, String);

/// One scripted response: (style, status, extra headers, body).
type Reply = (Style, u16, Vec<(String, String)>, String);

/// Serves one scripted response per connection, recording each request.
fn serve(script: Vec<Reply>) -> (u16, mpsc::Receiver<Seen>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for (style, status, headers, body) in script {
            let (mut stream, _) = listener.accept().unwrap();
            stream.set_nodelay(true).unwrap();
            let seen = read_request(&mut stream);
            let _ = tx.send(seen);
            respond(&mut stream, style, status, &headers, &body);
        }
    });
    (port, rx)
}

fn read_request(stream: &mut TcpStream) -> Seen {
    let mut data = Vec::new();
    let mut byte = [0u8; 1];
    while !data.ends_with(b"\r\n\r\n") {
        stream.read_exact(&mut byte).unwrap();
        data.push(byte[0]);
    }
    let head = String::from_utf8(data).unwrap();
    let mut lines = head.split("\r\n");
    assert_eq!(lines.next().unwrap(), "POST /oauth/token HTTP/1.1");
    let mut length = 0;
    let mut auth = None;
    for line in lines.filter(|l| !l.is_empty()) {
        let (name, value) = line.split_once(": ").unwrap();
        match name {
            "Content-Length" => length = value.parse().unwrap(),
            "Authorization" => auth = Some(value.to_owned()),
            "Content-Type" => assert_eq!(value, "application/x-www-form-urlencoded"),
            "Accept" => assert_eq!(value, "application/json"),
            "Connection" => assert_eq!(value, "close"),
            "Host" => assert!(value.starts_with("127.0.0.1:")),
            other => panic!("unexpected header {other}"),
        }
    }
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).unwrap();
    (auth, String::from_utf8(body).unwrap())
}

fn respond(
    stream: &mut TcpStream,
    style: Style,
    status: u16,
    headers: &[(String, String)],
    body: &str,
) {
    let mut head = format!("HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    match style {
        Style::Hangup => {}
        Style::Plain => {
            head.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
            stream.write_all(head.as_bytes()).unwrap();
        }
        Style::UntilClose => {
            head.push_str(&format!("Connection: close\r\n\r\n{body}"));
            stream.write_all(head.as_bytes()).unwrap();
        }
        Style::ChunkedByteByByte => {
            head.push_str("Transfer-Encoding: chunked\r\n\r\n");
            for piece in body.as_bytes().chunks(3) {
                head.push_str(&format!("{:x}\r\n", piece.len()));
                head.push_str(std::str::from_utf8(piece).unwrap());
                head.push_str("\r\n");
            }
            head.push_str("0\r\n\r\n");
            for b in head.as_bytes() {
                stream.write_all(&[*b]).unwrap();
                stream.flush().unwrap();
            }
        }
        Style::Slow => {
            head.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
            for b in head.as_bytes() {
                if stream.write_all(&[*b]).is_err() {
                    return;
                }
                thread::sleep(Duration::from_millis(30));
            }
        }
    }
    let _ = stream.shutdown(std::net::Shutdown::Both);
}

fn machine() -> RefreshMachine<512, 128> {
    let mut m = RefreshMachine::new(Config::default().jitter_max(0), 99);
    m.set_credential(T0, "a1", Some("r1"), T0 + 3600).unwrap();
    m
}

/// One firmware-style refresh step at `now` over a fresh connection.
fn step(
    m: &mut RefreshMachine<512, 128>,
    now: i64,
    port: u16,
    response_buf: &mut [u8],
    timeout: Duration,
) -> Result<bool, RefreshIoError<std::io::Error>> {
    let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut transport = FromStd::new(stream);
    let host = format!("127.0.0.1:{port}");
    let target = Target {
        host: &host,
        path: "/oauth/token",
    };
    let mut request_buf = [0u8; 256];
    let start = Instant::now();
    http::refresh(
        m,
        now,
        &CLIENT,
        &target,
        &mut transport,
        &mut request_buf,
        response_buf,
        &mut || start.elapsed() > timeout,
    )
}

fn events(m: &mut RefreshMachine<512, 128>) -> Vec<Event> {
    std::iter::from_fn(|| m.poll_event()).collect()
}

fn ok_body(n: u32) -> String {
    format!(
        r#"{{"access_token":"a{n}","token_type":"bearer","expires_in":"3600","refresh_token":"r{n}","id_token":"x.y.z"}}"#
    )
}

const LONG: Duration = Duration::from_secs(5);

#[test]
fn rotation_over_tcp_in_every_framing() {
    let styles = [Style::Plain, Style::ChunkedByteByByte, Style::UntilClose];
    let script = styles
        .iter()
        .enumerate()
        .map(|(i, &style)| (style, 200, vec![], ok_body(u32::try_from(i).unwrap() + 2)))
        .collect();
    let (port, seen) = serve(script);
    let mut m = machine();
    let mut now = T0;
    for i in 0..styles.len() {
        let mut buf = [0u8; 512];
        // Nothing due yet: no connection is used.
        assert_eq!(m.poll_timeout(), Some(now + 3540));
        now += 3540;
        assert!(step(&mut m, now, port, &mut buf, LONG).unwrap());
        let (auth, body) = seen.recv().unwrap();
        assert_eq!(auth.as_deref(), Some(BASIC));
        assert_eq!(
            body,
            format!("grant_type=refresh_token&refresh_token=r{}", i + 1)
        );
        assert!(matches!(
            events(&mut m)[..],
            [Event::Refreshed {
                rotated: true,
                stale: false,
                ..
            }]
        ));
        assert_eq!(m.access_token(now), Ok(format!("a{}", i + 2).as_str()));
        assert_eq!(m.refresh_token(), Some(format!("r{}", i + 2).as_str()));
    }
}

#[test]
fn oauth_errors_over_tcp() {
    let (port, _seen) = serve(vec![
        (
            Style::Plain,
            503,
            vec![("Retry-After".into(), "30".into())],
            r#"{"error":"temporarily_unavailable"}"#.into(),
        ),
        (
            Style::ChunkedByteByByte,
            403,
            vec![],
            r#"{"error":"invalid_grant","error_description":"reused"}"#.into(),
        ),
    ]);
    let mut m = machine();
    let now = T0 + 3550;
    let mut buf = [0u8; 512];
    assert!(step(&mut m, now, port, &mut buf, LONG).unwrap());
    assert_eq!(
        events(&mut m),
        [Event::RefreshFailed {
            error: RefreshError::OAuth {
                code: OAuthError::TemporarilyUnavailable,
                status: 503
            },
            terminal: false,
            retry_at: Some(now + 30),
        }]
    );
    // Not before Retry-After: no connection needed.
    assert_eq!(m.poll_timeout(), Some(now + 30));
    assert!(step(&mut m, now + 30, port, &mut buf, LONG).unwrap());
    assert_eq!(
        events(&mut m),
        [Event::RefreshFailed {
            error: RefreshError::OAuth {
                code: OAuthError::InvalidGrant,
                status: 403
            },
            terminal: true,
            retry_at: None,
        }]
    );
    assert_eq!(
        m.access_token(now + 30),
        Ok("a1"),
        "still valid until the mandatory window"
    );
}

#[test]
fn hangup_then_resend_of_the_same_token() {
    let (port, seen) = serve(vec![
        (Style::Hangup, 200, vec![], String::new()),
        (Style::Plain, 200, vec![], ok_body(2)),
    ]);
    let mut m = machine();
    let now = T0 + 3550;
    let mut buf = [0u8; 512];
    let err = step(&mut m, now, port, &mut buf, LONG).unwrap_err();
    assert!(
        matches!(err, RefreshIoError::Exchange(ExchangeError::Truncated)),
        "{err:?}"
    );
    assert!(matches!(
        events(&mut m)[..],
        [Event::RefreshFailed {
            error: RefreshError::NoResponse,
            terminal: false,
            ..
        }]
    ));
    assert!(step(&mut m, now, port, &mut buf, LONG).unwrap());
    let first = seen.recv().unwrap();
    let second = seen.recv().unwrap();
    assert_eq!(first, second, "the resend carries the same refresh token");
    assert_eq!(m.refresh_token(), Some("r2"));
}

/// One step against a server that answers 200 but whose response cannot be read (`cause`):
/// the error says so, and the machine ends the refresh after that single send.
fn assert_lost_success_ends_it(port: u16, seen: &mpsc::Receiver<Seen>, cause: &str) {
    let mut m = machine();
    let mut buf = [0u8; 512];
    let err = step(&mut m, T0 + 3550, port, &mut buf, LONG).unwrap_err();
    assert!(
        matches!(
            err,
            RefreshIoError::Exchange(ExchangeError::SuccessUnreadable { status: 200, cause: c })
                if c == cause
        ),
        "{err:?}"
    );
    assert_eq!(err.kind(), "success_unreadable");
    assert!(err.to_string().contains(cause), "{err}");
    let ev = events(&mut m);
    assert!(
        matches!(
            ev.last(),
            Some(Event::RefreshFailed {
                error: RefreshError::BadResponse(authcore::refresh::ResponseError::Unreadable),
                terminal: true,
                retry_at: None,
            })
        ),
        "{ev:?}"
    );
    assert!(m.is_terminal());
    assert_eq!(
        m.poll_request(T0 + 3550, &CLIENT, &mut [0u8; 256]),
        Ok(None)
    );
    seen.recv().unwrap();
    assert!(seen.try_recv().is_err(), "sent once");
}

#[test]
fn a_success_with_an_unreadable_head_is_not_sent_again() {
    // `Transfer-Encoding: gzip` on a 200 (and a Content-Length beside it): the status says the
    // server used the refresh token, the framing cannot be read, so the refresh ends.
    let (port, seen) = serve(vec![(
        Style::Plain,
        200,
        vec![("Transfer-Encoding".into(), "gzip".into())],
        ok_body(2),
    )]);
    assert_lost_success_ends_it(port, &seen, "unsupported_transfer_encoding");
}

#[test]
fn response_too_large_is_a_clear_error() {
    let big = format!(r#"{{"access_token":"a2","pad":"{}"}}"#, "x".repeat(600));
    // A success that does not fit: the server has used the refresh token (and may have put
    // a rotated one in the lost body), so it ends the refresh after one send, for good.
    for style in [Style::Plain, Style::ChunkedByteByByte] {
        let (port, seen) = serve(vec![(style, 200, vec![], big.clone())]);
        assert_lost_success_ends_it(port, &seen, "response_too_large");
    }
    // An error status that does not fit is still the server's answer, and it issued no
    // token: the machine sees the 503 and backs off each time; the refresh does not end.
    // (Before, each counted as "no response": sent again at once, then the end after two.)
    let (port, _seen) = serve(vec![
        (Style::Plain, 503, vec![], big.clone()),
        (Style::ChunkedByteByByte, 503, vec![], big),
    ]);
    let mut m = machine();
    let mut now = T0 + 3550;
    for _ in 0..2 {
        let mut buf = [0u8; 512];
        step(&mut m, now, port, &mut buf, LONG).unwrap();
        let ev = events(&mut m);
        assert!(
            matches!(
                ev.last(),
                Some(Event::RefreshFailed {
                    error: RefreshError::Status { status: 503 },
                    terminal: false,
                    retry_at: Some(_),
                })
            ),
            "{ev:?}"
        );
        let next = m.poll_timeout().expect("a retry is planned");
        assert!(next > now, "backs off: {next} after {now}");
        now = next;
    }
    assert!(!m.is_terminal());
}

#[test]
fn read_deadline_surfaces_as_timeout() {
    let (port, _seen) = serve(vec![(Style::Slow, 200, vec![], ok_body(2))]);
    let mut m = machine();
    let mut buf = [0u8; 512];
    let err = step(
        &mut m,
        T0 + 3550,
        port,
        &mut buf,
        Duration::from_millis(150),
    )
    .unwrap_err();
    assert!(
        matches!(err, RefreshIoError::Exchange(ExchangeError::Timeout)),
        "{err:?}"
    );
    assert_eq!(
        ExchangeError::<std::io::Error>::Timeout.transport_failure(),
        TransportFailure::NoResponse
    );
    assert_eq!(m.last_error(), Some(RefreshError::NoResponse));
}

#[test]
fn connection_refused_is_not_sent() {
    // The adapter could not connect: the token never left, so it stays sendable.
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    assert!(TcpStream::connect(("127.0.0.1", port)).is_err());
    let mut m = machine();
    let mut buf = [0u8; 256];
    assert!(m
        .poll_request(T0 + 3550, &CLIENT, &mut buf)
        .unwrap()
        .is_some());
    m.handle_transport_error(T0 + 3550, TransportFailure::NotSent)
        .unwrap();
    assert!(matches!(
        events(&mut m)[..],
        [Event::RefreshFailed {
            error: RefreshError::NotSent,
            terminal: false,
            ..
        }]
    ));
}
