//! Exchange tests over an in-memory transport, fed in every read size.

extern crate std;

use std::vec::Vec;

use embedded_io::{ErrorKind, ErrorType, Read, Write};

use super::*;

/// Replays `input` in reads of at most `step` bytes and records what was written.
struct Mock<'a> {
    input: &'a [u8],
    step: usize,
    written: Vec<u8>,
    reads: usize,
}

impl<'a> Mock<'a> {
    fn new(input: &'a [u8], step: usize) -> Self {
        Self {
            input,
            step,
            written: Vec::new(),
            reads: 0,
        }
    }
}

impl ErrorType for Mock<'_> {
    type Error = ErrorKind;
}

impl Read for Mock<'_> {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, ErrorKind> {
        self.reads += 1;
        let n = self.step.min(buf.len()).min(self.input.len());
        buf[..n].copy_from_slice(&self.input[..n]);
        self.input = &self.input[n..];
        Ok(n)
    }
}

impl Write for Mock<'_> {
    fn write(&mut self, buf: &[u8]) -> Result<usize, ErrorKind> {
        self.written.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> Result<(), ErrorKind> {
        Ok(())
    }
}

const TARGET: Target<'static> = Target {
    host: "auth.example:8443",
    path: "/oauth/token",
};

fn request() -> Request<'static> {
    Request {
        body: "grant_type=refresh_token&refresh_token=r1",
        authorization: Some("Basic YTpi"),
    }
}

fn run(
    input: &[u8],
    step: usize,
    buf: &mut [u8],
) -> Result<(u16, Option<u32>, Vec<u8>), ExchangeError<ErrorKind>> {
    let mut mock = Mock::new(input, step);
    let response = exchange(&mut mock, &TARGET, &request(), buf, &mut || false)?;
    Ok((
        response.status,
        response.retry_after,
        response.body.to_vec(),
    ))
}

/// What `exchange` returns for a 200 whose body could not be read whole, for `cause`.
const fn unreadable_200(cause: &'static str) -> ExchangeError<ErrorKind> {
    ExchangeError::SuccessUnreadable { status: 200, cause }
}

#[test]
fn request_bytes() {
    let mut mock = Mock::new(b"HTTP/1.1 204 No Content\r\n\r\n", 64);
    let mut buf = [0u8; 512];
    exchange(&mut mock, &TARGET, &request(), &mut buf, &mut || false).unwrap();
    let expected = "POST /oauth/token HTTP/1.1\r\nHost: auth.example:8443\r\n\
        Content-Type: application/x-www-form-urlencoded\r\nAccept: application/json\r\n\
        Content-Length: 41\r\nAuthorization: Basic YTpi\r\nConnection: close\r\n\r\n\
        grant_type=refresh_token&refresh_token=r1";
    assert_eq!(core::str::from_utf8(&mock.written).unwrap(), expected);
    assert_eq!(request_len(&TARGET, &request()), expected.len());
    // A buffer too small for the request still works: the request goes out in pieces.
    let mut small = [0u8; 40];
    let mut mock = Mock::new(b"HTTP/1.1 204 No Content\r\n\r\n", 64);
    exchange(&mut mock, &TARGET, &request(), &mut small, &mut || false).unwrap();
    assert_eq!(core::str::from_utf8(&mock.written).unwrap(), expected);
    let bad = Target {
        host: "a b",
        path: "/",
    };
    assert_eq!(
        exchange(
            &mut Mock::new(b"", 1),
            &bad,
            &request(),
            &mut buf,
            &mut || false
        ),
        Err(ExchangeError::InvalidTarget)
    );
}

#[test]
fn bodies_in_every_read_size() {
    let json = br#"{"access_token":"a2","expires_in":60}"#;
    let cases: &[&[u8]] = &[
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 37\r\n\r\n{\"access_token\":\"a2\",\"expires_in\":60}",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{\"acc\r\n20;ext=1\r\ness_token\":\"a2\",\"expires_in\":60}\r\n0\r\nX-Trailer: 1\r\n\r\n",
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 200 OK\r\n\r\n{\"access_token\":\"a2\",\"expires_in\":60}",
    ];
    for input in cases {
        for step in 1..=input.len() {
            let mut buf = [0u8; 256];
            let (status, _, body) = run(input, step, &mut buf).unwrap();
            assert_eq!((status, body.as_slice()), (200, &json[..]), "step {step}");
        }
    }
}

#[test]
fn retry_after_and_errors() {
    let mut buf = [0u8; 256];
    let (status, retry, body) = run(
        b"HTTP/1.1 429 Too Many\r\nRetry-After: 120\r\nContent-Length: 2\r\n\r\n{}",
        7,
        &mut buf,
    )
    .unwrap();
    assert_eq!(
        (status, retry, body.as_slice()),
        (429, Some(120), &b"{}"[..])
    );
    let (_, retry, _) = run(
        b"HTTP/1.1 503 x\r\nRetry-After: Fri, 31 Dec 1999 23:59:59 GMT\r\nContent-Length: 0\r\n\r\n",
        7,
        &mut buf,
    )
    .unwrap();
    assert_eq!(retry, None);

    let cases: &[(&[u8], ExchangeError<ErrorKind>)] = &[
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n{}",
            unreadable_200("truncated"),
        ),
        // A success whose head is cut off or broken: the status is enough to know the
        // server acted.
        (b"HTTP/1.1 200 OK\r\n", unreadable_200("truncated")),
        (
            b"HTTP/1.0 204\r\nA",
            ExchangeError::SuccessUnreadable {
                status: 204,
                cause: "truncated",
            },
        ),
        // Not yet a whole status code, or not a success: nothing is known.
        (b"HTTP/1.1 20", ExchangeError::Truncated),
        (b"HTTP/1.1 500 x\r\n", ExchangeError::Truncated),
        (
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 503 x\r\n",
            ExchangeError::Truncated,
        ),
        (
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n",
            unreadable_200("truncated"),
        ),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n",
            unreadable_200("response_too_large"),
        ),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n",
            unreadable_200("malformed"),
        ),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
            unreadable_200("malformed"),
        ),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
            unreadable_200("unsupported_transfer_encoding"),
        ),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 1\r\n\r\n",
            unreadable_200("unsupported_transfer_encoding"),
        ),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            unreadable_200("malformed"),
        ),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabX\r\n",
            unreadable_200("malformed"),
        ),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n",
            unreadable_200("truncated"),
        ),
        (b"garbage\r\n\r\n", ExchangeError::Malformed),
    ];
    for (input, expected) in cases {
        for step in [1, 3, 1000] {
            let mut buf = [0u8; 256];
            assert_eq!(
                run(input, step, &mut buf).err(),
                Some(*expected),
                "{:?}",
                core::str::from_utf8(input)
            );
        }
    }
    // 400 bytes for a 256-byte buffer.
    let too_large = unreadable_200("response_too_large");
    for (start, fill, expected) in [
        // A success body, until-close framing.
        (&b"HTTP/1.1 200 OK\r\n\r\n"[..], b' ', too_large),
        // A success head.
        (b"HTTP/1.1 200 OK\r\nA: ", b'b', too_large),
        // An error status's head: nothing is lost by sending again.
        (
            b"HTTP/1.1 502 Bad Gateway\r\nA: ",
            b'b',
            ExchangeError::ResponseTooLarge { capacity: 256 },
        ),
    ] {
        let mut input = Vec::from(start);
        input.resize(400, fill);
        assert_eq!(run(&input, 50, &mut buf).err(), Some(expected), "{start:?}");
    }
    // Too many headers: after a success status, and after an error status.
    for (status, expected) in [
        (
            &b"HTTP/1.1 200 OK\r\n"[..],
            unreadable_200("too_many_headers"),
        ),
        (&b"HTTP/1.1 503 x\r\n"[..], ExchangeError::TooManyHeaders),
    ] {
        let mut input = Vec::from(status);
        for _ in 0..=MAX_HEADERS {
            input.extend_from_slice(b"A: b\r\n");
        }
        input.extend_from_slice(b"\r\n");
        let mut big = [0u8; 1024];
        assert_eq!(run(&input, 1000, &mut big).err(), Some(expected));
    }
}

#[test]
fn until_close_body_may_fill_the_buffer_exactly() {
    // No length, no chunking: the body ends when the server closes. A response of exactly the
    // buffer's size is whole; one byte more is too large.
    let head = b"HTTP/1.1 200 OK\r\n\r\n";
    for extra in [0, 1, 2] {
        let mut input = Vec::from(&head[..]);
        input.resize(100 + extra, b'x');
        for step in [1, 7, 50, 100, 1000] {
            let mut buf = [0u8; 100];
            let result = run(&input, step, &mut buf);
            if extra == 0 {
                let (status, _, body) = result.unwrap();
                assert_eq!((status, body.len()), (200, 100 - head.len()), "step {step}");
            } else {
                assert_eq!(
                    result.err(),
                    Some(unreadable_200("response_too_large")),
                    "{extra} more, step {step}"
                );
            }
        }
    }
}

/// An error status whose head came whole is the server's answer even when its body is lost
/// (too large, cut off, timed out, badly framed): it comes back with an empty body, so the
/// machine sees the status and `Retry-After` (a 503 backs off, a 400 ends the refresh)
/// instead of "no response" (sent again at once, and the end of the session after two).
#[test]
fn error_status_with_a_lost_body_is_still_the_answer() {
    let mut page = Vec::from(
        &b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 120\r\nContent-Length: 4000\r\n\r\n"[..],
    );
    page.resize(page.len() + 4000, b'x');
    let mut close_delimited = Vec::from(&b"HTTP/1.1 502 Bad Gateway\r\n\r\n"[..]);
    close_delimited.resize(400, b'x');
    let cases: [(&[u8], u16, Option<u32>); 6] = [
        (&page, 503, Some(120)),
        (&close_delimited, 502, None),
        (b"HTTP/1.1 500 x\r\nContent-Length: 10\r\n\r\n{}", 500, None),
        (b"HTTP/1.1 400 x\r\nContent-Length: 1000\r\n\r\n", 400, None),
        (
            b"HTTP/1.1 429 x\r\nRetry-After: 5\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            429,
            Some(5),
        ),
        (
            b"HTTP/1.1 401 x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
            401,
            None,
        ),
    ];
    for (input, status, retry_after) in cases {
        for step in [1, 3, 1000] {
            let mut buf = [0u8; 256];
            let got = run(input, step, &mut buf);
            assert_eq!(
                got,
                Ok((status, retry_after, Vec::new())),
                "{status} step {step}"
            );
        }
    }
    // A head that does not come whole is still no answer.
    let mut buf = [0u8; 256];
    assert_eq!(
        run(b"HTTP/1.1 503 x\r\nRetry-After: 1", 1000, &mut buf).err(),
        Some(ExchangeError::Truncated)
    );
}

/// Empty lines before the status line and a bare LF after the code: the head parser accepts
/// them, so a 2xx head that then breaks is still a success whose body was lost.
#[test]
fn success_is_recognised_as_the_head_parser_reads_it() {
    for input in [
        &b"\r\nHTTP/1.1 200 OK\r\nBad Header\r\n\r\n"[..],
        b"\nHTTP/1.1 200 OK\r\nBad Header\r\n\r\n",
        b"HTTP/1.1 200\nBad Header\n\n",
        b"HTTP/1.1 100 Continue\r\n\r\n\r\nHTTP/1.1 200 OK\r\nBad Header\r\n\r\n",
    ] {
        let mut buf = [0u8; 256];
        let err = run(input, 1000, &mut buf).unwrap_err();
        assert_eq!(
            err.transport_failure(),
            TransportFailure::UnreadableSuccess,
            "{:?}: {err:?}",
            core::str::from_utf8(input)
        );
    }
}

#[test]
fn chunked_body_may_fill_the_buffer_exactly() {
    // Raw framing is larger than the decoded body; in-place decoding frees room as it goes.
    let head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    let mut input = Vec::from(&head[..]);
    for _ in 0..20 {
        input.extend_from_slice(b"1\r\nx\r\n");
    }
    input.extend_from_slice(b"0\r\n\r\n");
    let mut buf = [0u8; 100];
    assert!(input.len() > buf.len());
    for step in 1..8 {
        let (_, _, body) = run(&input, step, &mut buf).unwrap();
        assert_eq!(body, [b'x'; 20]);
    }
}

#[test]
fn deadline_is_checked_between_reads() {
    let input = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}";
    let mut mock = Mock::new(input, 1);
    let mut buf = [0u8; 256];
    let mut budget = 5;
    let result = exchange(&mut mock, &TARGET, &request(), &mut buf, &mut || {
        budget -= 1;
        budget < 0
    });
    assert_eq!(result, Err(ExchangeError::Timeout));
    assert_eq!(mock.reads, 5);
    // Past a success head, the same deadline loses a body the server has committed to.
    let mut mock = Mock::new(input, 1);
    let head_len = input.len() - 2;
    let mut reads = 0;
    let result = exchange(&mut mock, &TARGET, &request(), &mut buf, &mut || {
        reads += 1;
        reads > head_len
    });
    let lost = unreadable_200("timeout");
    assert_eq!(result, Err(lost));
    assert_eq!(
        lost.transport_failure(),
        TransportFailure::UnreadableSuccess
    );
    assert_eq!(
        ExchangeError::<ErrorKind>::Timeout.transport_failure(),
        TransportFailure::NoResponse
    );
    assert_eq!(
        ExchangeError::Write(ErrorKind::Other).transport_failure(),
        TransportFailure::NotSent
    );
}

/// Claims to have read more than it was given room for.
struct Liar;

impl ErrorType for Liar {
    type Error = ErrorKind;
}

impl Read for Liar {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, ErrorKind> {
        buf.fill(b'x');
        Ok(buf.len() + 100)
    }
}

impl Write for Liar {
    fn write(&mut self, buf: &[u8]) -> Result<usize, ErrorKind> {
        Ok(buf.len())
    }

    fn flush(&mut self) -> Result<(), ErrorKind> {
        Ok(())
    }
}

#[test]
fn lying_transport_cannot_cause_a_panic() {
    let mut buf = [0u8; 300];
    let result = exchange(&mut Liar, &TARGET, &request(), &mut buf, &mut || false);
    assert_eq!(result, Err(ExchangeError::Malformed));
}

/// RFC 9112 §7.1: `chunk-size = 1*HEXDIG` and `last-chunk = 1*("0") [ chunk-ext ] CRLF`. A
/// chunk-size line without a digit (which `httparse::parse_chunk_size` reads as size 0) is
/// broken framing, not the last chunk.
#[test]
fn chunk_size_line_without_a_digit_is_malformed() {
    let json = br#"{"access_token":"a2","expires_in":60}"#;
    for size_line in [&b"\r\n"[..], b";ext=1\r\n", b" \r\n", b"\t0\r\n"] {
        let mut input =
            Vec::from(&b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n25\r\n"[..]);
        input.extend_from_slice(json);
        input.extend_from_slice(b"\r\n");
        // The line that should carry the next chunk's size (or the "0" of the last chunk).
        input.extend_from_slice(size_line);
        input.extend_from_slice(b"\r\n");
        for step in [1, 3, 1000] {
            let mut buf = [0u8; 256];
            assert_eq!(
                run(&input, step, &mut buf),
                Err(unreadable_200("malformed")),
                "{:?} step {step}",
                core::str::from_utf8(size_line)
            );
        }
    }
    // The first size line too.
    let mut buf = [0u8; 256];
    assert_eq!(
        run(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n;a\r\n\r\n",
            1000,
            &mut buf
        ),
        Err(unreadable_200("malformed"))
    );
}

/// RFC 9110 §5.6.1.2: "a recipient MUST accept lists that contain empty list elements" and
/// "MUST parse and ignore a reasonable number of empty list elements"; `Transfer-Encoding` is
/// such a list (`#transfer-coding`, RFC 9112 §6.1).
#[test]
fn empty_transfer_encoding_list_elements_are_ignored() {
    let json = br#"{"access_token":"a2","expires_in":60}"#;
    for te in ["chunked,", ", chunked", "chunked, ,", " , ,chunked"] {
        let mut input = Vec::from(&b"HTTP/1.1 200 OK\r\nTransfer-Encoding: "[..]);
        input.extend_from_slice(te.as_bytes());
        input.extend_from_slice(b"\r\n\r\n25\r\n");
        input.extend_from_slice(json);
        input.extend_from_slice(b"\r\n0\r\n\r\n");
        let mut buf = [0u8; 256];
        assert_eq!(
            run(&input, 1000, &mut buf),
            Ok((200, None, Vec::from(&json[..]))),
            "{te:?}"
        );
    }
    // A field with no coding at all says nothing usable about the framing.
    for te in ["", ",", " , "] {
        let mut input = Vec::from(&b"HTTP/1.1 200 OK\r\nTransfer-Encoding: "[..]);
        input.extend_from_slice(te.as_bytes());
        input.extend_from_slice(b"\r\n\r\n");
        let mut buf = [0u8; 256];
        assert_eq!(
            run(&input, 1000, &mut buf),
            Err(unreadable_200("unsupported_transfer_encoding")),
            "{te:?}"
        );
    }
}

/// RFC 9112 §5.2: "A user agent that receives an obs-fold in a response message ... MUST
/// replace each received obs-fold with one or more SP octets prior to interpreting the field
/// value." A folded header is no reason to lose a 2xx (and with it a rotated refresh token);
/// folds in the headers read here count as whitespace.
#[test]
fn obs_fold_in_a_response_head_is_whitespace() {
    let json = br#"{"access_token":"a2","expires_in":60}"#;
    let cases: &[(&[u8], u16, Option<u32>)] = &[
        (
            b"HTTP/1.1 200 OK\r\nX-Long: part one\r\n  part two\r\nContent-Length: 37\r\n\r\n",
            200,
            None,
        ),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length:\r\n 37\r\n\r\n",
            200,
            None,
        ),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 37\r\n\t\r\n\r\n",
            200,
            None,
        ),
        (b"HTTP/1.1 200 OK\nContent-Length: 37\n \n\n", 200, None),
        (
            b"HTTP/1.1 429 x\r\nRetry-After:\r\n 120\r\nContent-Length: 37\r\n\r\n",
            429,
            Some(120),
        ),
    ];
    for (head, status, retry_after) in cases {
        let mut input = Vec::from(*head);
        input.extend_from_slice(json);
        for step in [1, 3, 1000] {
            let mut buf = [0u8; 256];
            assert_eq!(
                run(&input, step, &mut buf),
                Ok((*status, *retry_after, Vec::from(&json[..]))),
                "{:?} step {step}",
                core::str::from_utf8(head)
            );
        }
    }
    let chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding:\r\n chunked\r\n\t,\r\n \r\n\r\n25\r\n{\"access_token\":\"a2\",\"expires_in\":60}\r\n0\r\n\r\n";
    let mut buf = [0u8; 256];
    assert_eq!(
        run(chunked, 1000, &mut buf),
        Ok((200, None, Vec::from(&json[..])))
    );
    // A fold inside a value is a space in it: "3 7" is no length.
    let mut buf = [0u8; 256];
    assert_eq!(
        run(
            b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n 7\r\n\r\n",
            1000,
            &mut buf
        ),
        Err(unreadable_200("malformed"))
    );
}

/// `exchange` documents that an error status whose head came whole is the answer even when
/// its body is badly framed: it comes back with its status, `Retry-After` and an empty body.
/// Refused framing (`Transfer-Encoding` with `Content-Length`, a coding other than `chunked`,
/// two different lengths, a length that is not one) used to be an error mapped to
/// `NoResponse`: the refresh token was sent again at once, `Retry-After` was ignored, and a
/// second such 503 ended the session (`NoResponseAfterRetry`).
#[test]
fn badly_framed_error_status_is_still_the_answer() {
    for (head, status, retry_after) in [
        (&b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 120\r\nTransfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\n{}"[..], 503, Some(120)),
        (b"HTTP/1.1 503 Service Unavailable\r\nTransfer-Encoding: gzip, chunked\r\nRetry-After: 120\r\n\r\n", 503, Some(120)),
        (b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 2\r\nContent-Length: 3\r\nRetry-After: 120\r\n\r\n{}", 503, Some(120)),
        (b"HTTP/1.1 400 x\r\nContent-Length: x\r\n\r\n", 400, None),
    ] {
        for step in [1, 3, 1000] {
            let mut buf = [0u8; 256];
            assert_eq!(
                run(head, step, &mut buf),
                Ok((status, retry_after, Vec::new())),
                "{:?} step {step}",
                core::str::from_utf8(head)
            );
        }
    }
    // Framing means nothing for an interim response: it is skipped as any other.
    let mut buf = [0u8; 256];
    assert_eq!(
        run(
            b"HTTP/1.1 100 Continue\r\nContent-Length: x\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}",
            1000,
            &mut buf
        ),
        Ok((200, None, Vec::from(&b"{}"[..])))
    );
}

/// The same through [`refresh`] and the machine: two badly framed 503s back off as two plain
/// ones do, instead of ending the session.
#[test]
fn two_badly_framed_503s_back_off() {
    use crate::refresh::{Config, RefreshError};
    // Sends two requests, each as soon as the machine allows; returns when they went out.
    let run_twice = |head: &[u8]| {
        let mut m: RefreshMachine<64, 64> = RefreshMachine::new(Config::default().jitter_max(0), 7);
        m.set_credential(0, "a1", Some("r1"), 3600).unwrap();
        let client = Client::public("c");
        let mut now = 3540;
        let mut sent = Vec::new();
        for _ in 0..10 {
            let mut mock = Mock::new(head, 1000);
            let mut req = [0u8; 256];
            let mut resp = [0u8; 256];
            let result = refresh(
                &mut m,
                now,
                &client,
                &TARGET,
                &mut mock,
                &mut req,
                &mut resp,
                &mut || false,
            );
            if result != Ok(false) {
                sent.push((now, result.is_ok()));
            }
            if sent.len() == 2 {
                break;
            }
            now = m.poll_timeout().unwrap_or(now).max(now);
        }
        (m, sent)
    };
    let (plain, plain_sent) = run_twice(
        b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 120\r\nContent-Length: 2\r\n\r\n{}",
    );
    assert_eq!(plain_sent, [(3540, true), (3660, true)]);
    let (m, sent) = run_twice(
        b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 120\r\nTransfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\n{}",
    );
    assert_eq!(sent, plain_sent);
    for m in [&plain, &m] {
        assert!(!m.is_terminal(), "{:?}", m.last_error());
        assert_eq!(m.last_error(), Some(RefreshError::Status { status: 503 }));
    }
}

/// RFC 9112 §6.1: "A recipient that receives an HTTP/1.0 message containing a
/// Transfer-Encoding header field MUST treat the message as if the framing is faulty, even if
/// a Content-Length is present".
#[test]
fn http10_with_transfer_encoding_is_faulty_framing() {
    let chunked_body = b"25\r\n{\"access_token\":\"a2\",\"expires_in\":60}\r\n0\r\n\r\n";
    for head in [
        &b"HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"[..],
        b"HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 47\r\n\r\n",
    ] {
        let mut input = Vec::from(head);
        input.extend_from_slice(chunked_body);
        let mut buf = [0u8; 256];
        assert_eq!(
            run(&input, 1000, &mut buf),
            Err(unreadable_200("unsupported_transfer_encoding"))
        );
    }
    // An error status is still the answer (see the next test).
    let mut input =
        Vec::from(&b"HTTP/1.0 503 x\r\nRetry-After: 9\r\nTransfer-Encoding: chunked\r\n\r\n"[..]);
    input.extend_from_slice(chunked_body);
    let mut buf = [0u8; 256];
    assert_eq!(run(&input, 1000, &mut buf), Ok((503, Some(9), Vec::new())));
}

/// RFC 9112 §6.3 item 1: "any response with a 1xx, 204, or 304 status code is always
/// terminated by the first empty line after the header fields, regardless of the header
/// fields present in the header section". A 204 whose framing headers would be refused is
/// still a complete 204 with no body (as an interim 1xx is, and a 304).
#[test]
fn a_204_ends_at_its_head_whatever_its_framing_headers_say() {
    for head in [
        &b"HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\n"[..],
        b"HTTP/1.1 204 No Content\r\nContent-Length: x\r\n\r\n",
        b"HTTP/1.1 204 No Content\r\nTransfer-Encoding: gzip\r\n\r\n",
        b"HTTP/1.0 204 No Content\r\nTransfer-Encoding: chunked\r\n\r\n",
    ] {
        let mut buf = [0u8; 256];
        assert_eq!(
            run(head, 1000, &mut buf),
            Ok((204, None, Vec::new())),
            "{:?}",
            core::str::from_utf8(head)
        );
    }
    let mut buf = [0u8; 256];
    assert_eq!(
        run(
            b"HTTP/1.1 304 Not Modified\r\nContent-Length: x\r\n\r\n",
            1000,
            &mut buf
        ),
        Ok((304, None, Vec::new()))
    );
}

// ----- Boundaries the mutation review (eleventh session) found untested -----

/// A transport that sends only what was flushed (a TLS stream, a buffered writer): the
/// server answers once the whole request has reached it.
struct Buffered<'a> {
    response: &'a [u8],
    unflushed: Vec<u8>,
    sent: Vec<u8>,
}

impl ErrorType for Buffered<'_> {
    type Error = ErrorKind;
}

impl Read for Buffered<'_> {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, ErrorKind> {
        // Nothing arrives until the request has gone out (here: the stream just ends).
        if self.sent.is_empty() {
            return Ok(0);
        }
        let n = buf.len().min(self.response.len());
        buf[..n].copy_from_slice(&self.response[..n]);
        self.response = &self.response[n..];
        Ok(n)
    }
}

impl Write for Buffered<'_> {
    fn write(&mut self, buf: &[u8]) -> Result<usize, ErrorKind> {
        self.unflushed.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> Result<(), ErrorKind> {
        self.sent.append(&mut self.unflushed);
        Ok(())
    }
}

#[test]
fn the_request_is_flushed_before_the_response_is_read() {
    let mut t = Buffered {
        response: b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}",
        unflushed: Vec::new(),
        sent: Vec::new(),
    };
    let mut buf = [0u8; 512];
    let response = exchange(&mut t, &TARGET, &request(), &mut buf, &mut || false);
    assert_eq!(response.map(|r| (r.status, r.body.len())), Ok((200, 2)));
    assert!(t.sent.starts_with(b"POST /oauth/token HTTP/1.1\r\n"));
}

/// `Flush` comes after the whole request was handed to the transport: it may have reached the
/// server, so it is `NoResponse` (resent once, then terminal), not `NotSent` (retried without
/// limit with a refresh token the server may have spent).
#[test]
fn a_failed_flush_is_no_response() {
    assert_eq!(
        ExchangeError::Flush(ErrorKind::Other).transport_failure(),
        TransportFailure::NoResponse
    );
}

/// RFC 9112 §6.1: a sender MUST NOT apply `chunked` more than once; the module supports
/// `chunked` once only, so a repeated one is refused, in one field or two.
#[test]
fn chunked_twice_is_unsupported() {
    for head in [
        &b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n"[..],
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
    ] {
        let mut input = Vec::from(head);
        input.extend_from_slice(b"2\r\n{}\r\n0\r\n\r\n");
        let mut buf = [0u8; 256];
        assert_eq!(
            run(&input, 1000, &mut buf),
            Err(unreadable_200("unsupported_transfer_encoding")),
            "{:?}",
            core::str::from_utf8(head)
        );
    }
}

/// A `Content-Length` body that ends exactly at the end of the buffer fits (as an until-close
/// or chunked one does); one byte more is too large.
#[test]
fn content_length_body_may_fill_the_buffer_exactly() {
    let head = b"HTTP/1.1 200 OK\r\nContent-Length: 60\r\n\r\n";
    let mut input = Vec::from(&head[..]);
    input.resize(head.len() + 60, b'x');
    for step in [1, 7, 1000] {
        let mut buf = std::vec![0u8; head.len() + 60];
        let (status, _, body) = run(&input, step, &mut buf).unwrap();
        assert_eq!((status, body.len()), (200, 60), "step {step}");
        let mut small = std::vec![0u8; head.len() + 59];
        assert_eq!(
            run(&input, step, &mut small).err(),
            Some(unreadable_200("response_too_large"))
        );
    }
}

/// RFC 9112 §7.1: `chunk = chunk-size [ chunk-ext ] CRLF chunk-data CRLF`; anything else after
/// the chunk data is broken framing.
#[test]
fn chunk_data_must_end_with_crlf() {
    for input in [
        &b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}XY0\r\n\r\n"[..],
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\n\n0\r\n\r\n",
    ] {
        for step in [1, 1000] {
            let mut buf = [0u8; 256];
            assert_eq!(
                run(input, step, &mut buf),
                Err(unreadable_200("malformed")),
                "step {step}"
            );
        }
    }
}

/// A `Retry-After` too large for `u32` saturates (the machine then caps it at
/// `retry_after_max`); it never becomes 0.
#[test]
fn a_huge_retry_after_saturates() {
    let mut buf = [0u8; 256];
    let (status, retry, _) = run(
        b"HTTP/1.1 503 Unavailable\r\nRetry-After: 99999999999\r\nContent-Length: 0\r\n\r\n",
        1000,
        &mut buf,
    )
    .unwrap();
    assert_eq!((status, retry), (503, Some(u32::MAX)));
}

/// RFC 9110 §8.6: `Content-Length = 1*DIGIT`; an empty value is not a length of 0.
#[test]
fn an_empty_content_length_is_malformed() {
    let mut buf = [0u8; 256];
    assert_eq!(
        run(
            b"HTTP/1.1 200 OK\r\nContent-Length: \r\n\r\n",
            1000,
            &mut buf
        ),
        Err(unreadable_200("malformed"))
    );
}

/// `Target::path` starts with `/` (RFC 9112 §3.2.1 origin-form): anything else cannot go into
/// the request line.
#[test]
fn a_path_without_a_leading_slash_is_an_invalid_target() {
    let mut buf = [0u8; 512];
    let mut mock = Mock::new(b"HTTP/1.1 204 No Content\r\n\r\n", 64);
    let bad = Target {
        host: "auth.example",
        path: "oauth/token",
    };
    assert_eq!(
        exchange(&mut mock, &bad, &request(), &mut buf, &mut || false),
        Err(ExchangeError::InvalidTarget)
    );
    assert!(mock.written.is_empty());
}

/// `deadline_passed` is called before every read, the read that checks whether an until-close
/// body that filled the buffer has ended included.
#[test]
fn the_deadline_is_checked_before_the_end_of_stream_probe() {
    let head = b"HTTP/1.1 200 OK\r\n\r\n";
    let mut input = Vec::from(&head[..]);
    input.resize(100, b'x');
    let mut buf = [0u8; 100];
    let mut mock = Mock::new(&input, 1000);
    let mut calls = 0;
    // The first read brings the whole buffer; the deadline passes right after it.
    let result = exchange(&mut mock, &TARGET, &request(), &mut buf, &mut || {
        calls += 1;
        calls > 1
    })
    .map(|r| r.status);
    assert_eq!(result, Err(unreadable_200("timeout")));
}
