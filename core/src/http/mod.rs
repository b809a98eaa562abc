//! The refresh request over HTTP/1.1 on any `embedded_io::Read + Write` transport.
//!
//! [`exchange`] writes one `POST` and reads one response. TLS, DNS and connecting are the
//! transport's business; the connection is single-use (`Connection: close`).
//!
//! - The request is assembled in the response buffer (unused until the response arrives) when
//!   it fits, and written with one `write_all` plus `flush`, so a TLS transport sends few
//!   records.
//! - The status line and headers are parsed with `httparse` (at most [`MAX_HEADERS`] headers);
//!   `1xx` interim responses are skipped. A folded header line (obs-fold) is read as
//!   whitespace (RFC 9112 §5.2).
//! - The body is framed by `Transfer-Encoding: chunked` (decoded in place), `Content-Length`,
//!   or the end of the stream. A response that does not fit the buffer is an error, never
//!   truncated silently.
//! - `embedded-io` has no timeouts: `deadline_passed` is called before every read and the
//!   exchange stops with [`ExchangeError::Timeout`] once it returns `true`. A read that blocks
//!   forever cannot be interrupted from here, so give the transport a socket-level timeout too.
//!
//! [`refresh`] ties it to a [`RefreshMachine`]: poll, send, hand back, in one call.

use core::fmt;

use embedded_io::{Read, Write};

use crate::refresh::request::{ACCEPT, CONTENT_TYPE};
use crate::refresh::{
    Client, HttpResponse, RefreshMachine, Request, RequestError, TransportFailure,
};

pub use embedded_io;

#[cfg(test)]
mod tests;

/// Most response headers accepted.
pub const MAX_HEADERS: usize = 32;

/// Where to send the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target<'a> {
    /// `Host` header value (`host` or `host:port`).
    pub host: &'a str,
    /// Request target, starting with `/` (e.g. `/oauth/token`).
    pub path: &'a str,
}

/// Why an exchange failed. `E` is the transport's error type.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExchangeError<E> {
    /// `host` or `path` cannot go into a request line (empty, space, control or non-ASCII).
    InvalidTarget,
    /// Writing the request failed before all of it was handed to the transport.
    Write(E),
    /// Flushing the fully written request failed.
    Flush(E),
    /// Reading the response failed.
    Read(E),
    /// The deadline passed before the response was complete.
    Timeout,
    /// The response does not fit the buffer.
    ResponseTooLarge {
        /// The buffer's size.
        capacity: usize,
    },
    /// More than [`MAX_HEADERS`] response headers.
    TooManyHeaders,
    /// The status line, a header or the chunked framing is invalid.
    Malformed,
    /// A `Transfer-Encoding` other than `chunked`, together with `Content-Length`, or in an
    /// HTTP/1.0 response (RFC 9112 §6.1).
    UnsupportedTransferEncoding,
    /// The stream ended before the response was complete.
    Truncated,
    /// A 2xx status line came, but the rest of the response (headers or body) could not be
    /// read whole. `cause` is the [`kind`](Self::kind) of the error that stopped it
    /// (`response_too_large`, `truncated`, `timeout`, `read`, `malformed`,
    /// `too_many_headers`, `unsupported_transfer_encoding`). The server has acted on the request and may have
    /// rotated the refresh token into the lost body, so this is
    /// [`TransportFailure::UnreadableSuccess`]: the machine does not send the old token again.
    SuccessUnreadable {
        /// The 2xx status.
        status: u16,
        /// What stopped the body.
        cause: &'static str,
    },
}

impl<E> ExchangeError<E> {
    /// Stable snake_case name of the error.
    pub const fn kind(&self) -> &'static str {
        match self {
            Self::InvalidTarget => "invalid_target",
            Self::Write(_) => "write",
            Self::Flush(_) => "flush",
            Self::Read(_) => "read",
            Self::Timeout => "timeout",
            Self::ResponseTooLarge { .. } => "response_too_large",
            Self::TooManyHeaders => "too_many_headers",
            Self::Malformed => "malformed",
            Self::UnsupportedTransferEncoding => "unsupported_transfer_encoding",
            Self::Truncated => "truncated",
            Self::SuccessUnreadable { .. } => "success_unreadable",
        }
    }

    /// What to tell [`RefreshMachine::handle_transport_error`]: the request did not fully
    /// leave ([`TransportFailure::NotSent`]: invalid target, write errors), a success status
    /// came but its body was lost ([`TransportFailure::UnreadableSuccess`]), or it may have
    /// been processed and no usable response came back ([`TransportFailure::NoResponse`]).
    pub const fn transport_failure(&self) -> TransportFailure {
        match self {
            Self::InvalidTarget | Self::Write(_) => TransportFailure::NotSent,
            Self::SuccessUnreadable { .. } => TransportFailure::UnreadableSuccess,
            _ => TransportFailure::NoResponse,
        }
    }
}

impl<E: fmt::Display> fmt::Display for ExchangeError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidTarget => f.write_str("host or path cannot be used in a request"),
            Self::Write(e) => write!(f, "writing the request failed: {e}"),
            Self::Flush(e) => write!(f, "flushing the request failed: {e}"),
            Self::Read(e) => write!(f, "reading the response failed: {e}"),
            Self::Timeout => f.write_str("deadline passed before the response was complete"),
            Self::ResponseTooLarge { capacity } => {
                write!(f, "response does not fit the {capacity}-byte buffer")
            }
            Self::TooManyHeaders => f.write_str("response has too many headers"),
            Self::Malformed => f.write_str("malformed HTTP response"),
            Self::UnsupportedTransferEncoding => {
                f.write_str("unsupported Transfer-Encoding in the response")
            }
            Self::Truncated => f.write_str("connection closed before the response was complete"),
            Self::SuccessUnreadable { status, cause } => write!(
                f,
                "status {status} came but its body could not be read whole ({cause})"
            ),
        }
    }
}

impl<E: fmt::Debug + fmt::Display> core::error::Error for ExchangeError<E> {}

/// Why [`refresh`] failed. The machine has already been told about transport failures.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshIoError<E> {
    /// The request buffer is too small; nothing was sent.
    Request(RequestError),
    /// The exchange failed; reported to the machine as
    /// [`ExchangeError::transport_failure`].
    Exchange(ExchangeError<E>),
}

impl<E> RefreshIoError<E> {
    /// Stable snake_case name of the error.
    pub const fn kind(&self) -> &'static str {
        match self {
            Self::Request(e) => e.kind(),
            Self::Exchange(e) => e.kind(),
        }
    }
}

impl<E: fmt::Display> fmt::Display for RefreshIoError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Request(e) => e.fmt(f),
            Self::Exchange(e) => e.fmt(f),
        }
    }
}

impl<E: fmt::Debug + fmt::Display> core::error::Error for RefreshIoError<E> {}

/// Bytes the request for `request` at `target` takes on the wire.
pub fn request_len(target: &Target<'_>, request: &Request<'_>) -> usize {
    let mut digits = [0u8; 20];
    let length = decimal(request.body.len(), &mut digits).len();
    let mut n = 0usize;
    for part in head_parts(target, request, "") {
        n = n.saturating_add(part.len());
    }
    n.saturating_add(length)
}

/// Sends `request` to `target` over `transport` and reads the response into `buf`.
///
/// `buf` must hold the whole response (headers and decoded body). When it can also hold the
/// request ([`request_len`]), the request is assembled there and written at once; otherwise it
/// is written piece by piece. `deadline_passed` is called before each read.
///
/// A response whose status is not 2xx and whose body cannot be read whole (larger than
/// `buf`, cut off, timed out, badly framed) is returned with an empty body: its head came
/// whole, so the server has answered and issued no token, and the status and `Retry-After`
/// are what the refresh machine needs (a 503 backs off, a 400 ends the refresh). Only a
/// response that never got that far is [`TransportFailure::NoResponse`].
///
/// # Errors
///
/// [`ExchangeError`]; use [`ExchangeError::transport_failure`] to tell the machine.
pub fn exchange<'b, T: Read + Write>(
    transport: &mut T,
    target: &Target<'_>,
    request: &Request<'_>,
    buf: &'b mut [u8],
    deadline_passed: &mut impl FnMut() -> bool,
) -> Result<HttpResponse<'b>, ExchangeError<T::Error>> {
    if !valid_target(target) {
        return Err(ExchangeError::InvalidTarget);
    }
    let mut digits = [0u8; 20];
    let length = decimal(request.body.len(), &mut digits);
    let parts = head_parts(target, request, length);
    if let Some(len) = assemble(&parts, buf) {
        let wire = buf.get(..len).unwrap_or_default();
        transport.write_all(wire).map_err(ExchangeError::Write)?;
    } else {
        for part in parts {
            transport
                .write_all(part.as_bytes())
                .map_err(ExchangeError::Write)?;
        }
    }
    transport.flush().map_err(ExchangeError::Flush)?;
    read_response(transport, buf, deadline_passed)
}

/// One refresh step for firmware: if the machine has a request due, send it with
/// [`exchange`] and hand the outcome back to the machine. Returns whether a request was sent.
///
/// Call it when [`RefreshMachine::poll_timeout`] has passed, then drain
/// [`RefreshMachine::poll_event`]. `now` is read once, before sending; the caller's
/// `deadline_passed` bounds the exchange.
///
/// # Errors
///
/// [`RefreshIoError`]; the machine has already recorded transport failures (so the error is
/// for logging), except for [`RefreshIoError::Request`], where nothing was sent.
#[allow(clippy::too_many_arguments, reason = "one call drives the whole step")]
pub fn refresh<T: Read + Write, const AT: usize, const RT: usize>(
    machine: &mut RefreshMachine<AT, RT>,
    now: i64,
    client: &Client<'_>,
    target: &Target<'_>,
    transport: &mut T,
    request_buf: &mut [u8],
    response_buf: &mut [u8],
    deadline_passed: &mut impl FnMut() -> bool,
) -> Result<bool, RefreshIoError<T::Error>> {
    machine.handle_timeout(now);
    let Some(request) = machine
        .poll_request(now, client, request_buf)
        .map_err(RefreshIoError::Request)?
    else {
        return Ok(false);
    };
    match exchange(transport, target, &request, response_buf, deadline_passed) {
        Ok(response) => {
            // The request is in flight: this cannot fail.
            let _ = machine.handle_response(now, response);
            Ok(true)
        }
        Err(e) => {
            let _ = machine.handle_transport_error(now, e.transport_failure());
            Err(RefreshIoError::Exchange(e))
        }
    }
}

fn valid_target(target: &Target<'_>) -> bool {
    let visible = |s: &str| !s.is_empty() && s.bytes().all(|b| (0x21..=0x7E).contains(&b));
    visible(target.host) && visible(target.path) && target.path.starts_with('/')
}

/// The request head around the Content-Length digits (inserted after the first 9 parts).
fn head_parts<'a>(target: &Target<'a>, request: &Request<'a>, length: &'a str) -> [&'a str; 16] {
    let (auth_name, auth_value, auth_end) = match request.authorization {
        Some(value) => ("Authorization: ", value, "\r\n"),
        None => ("", "", ""),
    };
    [
        "POST ",
        target.path,
        " HTTP/1.1\r\nHost: ",
        target.host,
        "\r\nContent-Type: ",
        CONTENT_TYPE,
        "\r\nAccept: ",
        ACCEPT,
        "\r\nContent-Length: ",
        length,
        "\r\n",
        auth_name,
        auth_value,
        auth_end,
        "Connection: close\r\n\r\n",
        request.body,
    ]
}

/// Copies the request into `buf` when it fits, returning its length.
fn assemble(parts: &[&str], buf: &mut [u8]) -> Option<usize> {
    let mut pos = 0usize;
    for part in parts {
        let end = pos.checked_add(part.len())?;
        buf.get_mut(pos..end)?.copy_from_slice(part.as_bytes());
        pos = end;
    }
    Some(pos)
}

/// `n` in decimal, written at the end of `out`.
fn decimal(mut n: usize, out: &mut [u8; 20]) -> &str {
    let mut i = out.len();
    loop {
        i -= 1;
        out[i] = b'0' + u8::try_from(n % 10).unwrap_or(0);
        n /= 10;
        if n == 0 || i == 0 {
            break;
        }
    }
    core::str::from_utf8(&out[i..]).unwrap_or("0")
}

/// How the body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    Length(usize),
    Chunked,
    UntilClose,
    /// The framing headers are refused: the body cannot be read.
    Refused(Refused),
}

/// Why the framing headers are refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refused {
    /// [`ExchangeError::Malformed`]: a `Content-Length` that is not one length.
    Malformed,
    /// [`ExchangeError::UnsupportedTransferEncoding`].
    Unsupported,
}

impl Refused {
    const fn error<E>(self) -> ExchangeError<E> {
        match self {
            Self::Malformed => ExchangeError::Malformed,
            Self::Unsupported => ExchangeError::UnsupportedTransferEncoding,
        }
    }
}

/// What the head said.
#[derive(Debug, Clone, Copy)]
struct Head {
    len: usize,
    status: u16,
    retry_after: Option<u32>,
    framing: Framing,
}

/// Reads one response into `buf` (from its start).
///
/// Once a 2xx status line has arrived, any failure to read the rest (head or body) is
/// [`ExchangeError::SuccessUnreadable`]: the server has acted on the request. Once the whole
/// head of any other status has arrived, a body that cannot be read (refused framing
/// included) is left out (empty).
fn read_response<'b, T: Read>(
    transport: &mut T,
    buf: &'b mut [u8],
    deadline_passed: &mut impl FnMut() -> bool,
) -> Result<HttpResponse<'b>, ExchangeError<T::Error>> {
    let mut filled = 0usize;
    let head = match read_head(transport, buf, &mut filled, deadline_passed) {
        Ok(head) => head,
        Err(e) => {
            return Err(
                match success_status(buf.get(..filled).unwrap_or_default()) {
                    Some(status) => ExchangeError::SuccessUnreadable {
                        status,
                        cause: e.kind(),
                    },
                    None => e,
                },
            )
        }
    };
    let start = head.len;
    // A 1xx, 204 or 304 ends at its head whatever its framing headers say (RFC 9112 §6.3
    // item 1), refused ones included.
    let framing = match head.framing {
        _ if matches!(head.status, 101 | 204 | 304) => Framing::Length(0),
        framing => framing,
    };
    let end = match read_body(transport, buf, start, filled, framing, deadline_passed) {
        Ok(end) => end,
        Err(e) if (200..300).contains(&head.status) => {
            return Err(ExchangeError::SuccessUnreadable {
                status: head.status,
                cause: e.kind(),
            })
        }
        // An error status came whole: that is the answer, without its body.
        Err(_) => start,
    };
    let body = buf.get(start..end).unwrap_or_default();
    Ok(HttpResponse {
        status: head.status,
        retry_after: head.retry_after,
        body,
    })
}

/// Reads until a final head is complete (interim 1xx responses are dropped, so the head being
/// read always starts at `buf[0]`); `filled` is what `buf` holds.
fn read_head<T: Read>(
    transport: &mut T,
    buf: &mut [u8],
    filled: &mut usize,
    deadline_passed: &mut impl FnMut() -> bool,
) -> Result<Head, ExchangeError<T::Error>> {
    loop {
        if let Some(head) = parse_head(buf.get(..*filled).unwrap_or_default())? {
            if (100..200).contains(&head.status) && head.status != 101 {
                buf.copy_within(head.len..*filled, 0);
                *filled -= head.len;
                continue;
            }
            return Ok(head);
        }
        if fill(transport, buf, filled, deadline_passed)? == 0 {
            return Err(ExchangeError::Truncated);
        }
    }
}

/// The status of a head that starts with a complete `HTTP/1.x 2xx` status code, whatever
/// follows (a bad header, the end of the stream). As the head parser (httparse) does, empty
/// lines before the status line are skipped and a bare LF may end it.
fn success_status(head: &[u8]) -> Option<u16> {
    let start = head
        .iter()
        .take_while(|&&b| b == b'\r' || b == b'\n')
        .count();
    let head = head.get(start..)?;
    let rest = head
        .strip_prefix(b"HTTP/1.1 ")
        .or_else(|| head.strip_prefix(b"HTTP/1.0 "))?;
    let [a @ b'2', b @ b'0'..=b'9', c @ b'0'..=b'9', b' ' | b'\r' | b'\n', ..] = *rest else {
        return None;
    };
    Some(u16::from(a - b'0') * 100 + u16::from(b - b'0') * 10 + u16::from(c - b'0'))
}

/// Reads the body that starts at `start` (`filled` bytes buffered so far); returns its end.
fn read_body<T: Read>(
    transport: &mut T,
    buf: &mut [u8],
    start: usize,
    mut filled: usize,
    framing: Framing,
    deadline_passed: &mut impl FnMut() -> bool,
) -> Result<usize, ExchangeError<T::Error>> {
    Ok(match framing {
        Framing::Length(n) => {
            let end = start.checked_add(n).filter(|&end| end <= buf.len()).ok_or(
                ExchangeError::ResponseTooLarge {
                    capacity: buf.len(),
                },
            )?;
            while filled < end {
                if fill(transport, buf, &mut filled, deadline_passed)? == 0 {
                    return Err(ExchangeError::Truncated);
                }
            }
            end
        }
        Framing::UntilClose => {
            while filled < buf.len() {
                if fill(transport, buf, &mut filled, deadline_passed)? == 0 {
                    return Ok(filled);
                }
            }
            // The buffer is full: the response fits only if the stream ends right here, which
            // one more read (into a byte outside the buffer) tells.
            if deadline_passed() {
                return Err(ExchangeError::Timeout);
            }
            let mut probe = [0u8; 1];
            if transport.read(&mut probe).map_err(ExchangeError::Read)? != 0 {
                return Err(ExchangeError::ResponseTooLarge {
                    capacity: buf.len(),
                });
            }
            filled
        }
        Framing::Chunked => dechunk(transport, buf, start, filled, deadline_passed)?,
        Framing::Refused(refused) => return Err(refused.error()),
    })
}

/// One read into `buf[filled..]`; returns the byte count (0 at end of stream).
fn fill<T: Read>(
    transport: &mut T,
    buf: &mut [u8],
    filled: &mut usize,
    deadline_passed: &mut impl FnMut() -> bool,
) -> Result<usize, ExchangeError<T::Error>> {
    let capacity = buf.len();
    let free = buf
        .get_mut(*filled..)
        .filter(|free| !free.is_empty())
        .ok_or(ExchangeError::ResponseTooLarge { capacity })?;
    if deadline_passed() {
        return Err(ExchangeError::Timeout);
    }
    let room = free.len();
    let n = transport.read(free).map_err(ExchangeError::Read)?;
    // A transport claiming more than it was given room for is not trusted past the buffer.
    let n = n.min(room);
    *filled = filled.saturating_add(n);
    Ok(n)
}

/// Parses the head when it is complete.
fn parse_head<E>(data: &[u8]) -> Result<Option<Head>, ExchangeError<E>> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut response = httparse::Response::new(&mut headers);
    // A user agent MUST read obs-fold as SP (RFC 9112 §5.2): httparse then leaves the CRLF and
    // the folding whitespace in the value, which the values read below take as whitespace.
    let len = match httparse::ParserConfig::default()
        .allow_obsolete_multiline_headers_in_responses(true)
        .parse_response(&mut response, data)
    {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(httparse::Error::TooManyHeaders) => return Err(ExchangeError::TooManyHeaders),
        Err(_) => return Err(ExchangeError::Malformed),
    };
    let status = response.code.ok_or(ExchangeError::Malformed)?;
    // A framing header that is refused does not stop the head: its status and Retry-After
    // are still the server's answer when the status is not 2xx. The first refusal is kept.
    let mut refused = None;
    let mut content_length: Option<usize> = None;
    let mut transfer_encoding = false;
    let mut chunked = false;
    let mut retry_after = None;
    for header in response.headers.iter() {
        if header.name.eq_ignore_ascii_case("content-length") {
            match parse_digits(header.value) {
                Some(n) if content_length.is_none_or(|old| old == n) => content_length = Some(n),
                // Not a length, or two different ones.
                _ => {
                    refused.get_or_insert(Refused::Malformed);
                }
            }
        } else if header.name.eq_ignore_ascii_case("transfer-encoding") {
            // Only `chunked` (once, any case) is supported: we send no TE header. Empty list
            // elements are ignored (RFC 9110 §5.6.1.2).
            transfer_encoding = true;
            let codings = header.value.split(|&b| b == b',').map(trim);
            for coding in codings.filter(|coding| !coding.is_empty()) {
                if !coding.eq_ignore_ascii_case(b"chunked") || chunked {
                    refused.get_or_insert(Refused::Unsupported);
                }
                chunked = true;
            }
        } else if header.name.eq_ignore_ascii_case("retry-after") {
            // delta-seconds only; an HTTP-date is ignored (the machine then uses its backoff).
            retry_after = parse_digits(header.value).map(|n| u32::try_from(n).unwrap_or(u32::MAX));
        }
    }
    // An HTTP/1.0 message with Transfer-Encoding MUST be treated as faulty framing
    // (RFC 9112 §6.1): 1.0 has no transfer codings.
    let http10 = response.version == Some(0);
    let framing = match (refused, transfer_encoding, content_length) {
        (Some(refused), _, _) => Framing::Refused(refused),
        (None, true, _) if http10 => Framing::Refused(Refused::Unsupported),
        (None, true, Some(_)) => Framing::Refused(Refused::Unsupported),
        // A field with no coding at all (only empty elements) gives no framing either.
        (None, true, None) if !chunked => Framing::Refused(Refused::Unsupported),
        (None, true, None) => Framing::Chunked,
        (None, false, Some(n)) => Framing::Length(n),
        (None, false, None) => Framing::UntilClose,
    };
    Ok(Some(Head {
        len,
        status,
        retry_after,
        framing,
    }))
}

/// `s` without surrounding whitespace: SP, HTAB, and the CR and LF an obs-fold leaves in a
/// value (they only come in a fold, followed by SP or HTAB).
fn trim(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t' | b'\r' | b'\n', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' ' | b'\t' | b'\r' | b'\n'] = s {
        s = rest;
    }
    s
}

/// ASCII digits (surrounding whitespace allowed) as a `usize`; `None` when empty, not digits
/// or too large.
fn parse_digits(value: &[u8]) -> Option<usize> {
    let value = trim(value);
    if value.is_empty() {
        return None;
    }
    value.iter().try_fold(0usize, |acc, &b| {
        let d = char::from(b).to_digit(10)?;
        acc.checked_mul(10)?.checked_add(usize::try_from(d).ok()?)
    })
}

/// Decoder state for a chunked body.
#[derive(Clone, Copy)]
enum Chunk {
    /// Expecting a chunk-size line.
    Size,
    /// Inside chunk data, this many bytes left.
    Data(u64),
    /// Expecting the CRLF after chunk data.
    DataEnd,
    /// Reading trailer lines until an empty one.
    Trailers,
}

/// Decodes a chunked body in place: decoded bytes are moved down to `buf[start..]` as raw bytes
/// arrive after them. Returns the end of the decoded body.
fn dechunk<T: Read>(
    transport: &mut T,
    buf: &mut [u8],
    start: usize,
    mut filled: usize,
    deadline_passed: &mut impl FnMut() -> bool,
) -> Result<usize, ExchangeError<T::Error>> {
    let mut out = start; // end of decoded data
    let mut raw = start; // start of unprocessed raw data
    let mut state = Chunk::Size;
    loop {
        // Process what is buffered.
        loop {
            let pending = buf.get(raw..filled).unwrap_or_default();
            match state {
                // `chunk-size = 1*HEXDIG` (RFC 9112 §7.1): httparse reads a line without a
                // digit (`\r\n`, `;ext\r\n`) as size 0, which would end the body there.
                Chunk::Size if !pending.first().is_none_or(u8::is_ascii_hexdigit) => {
                    return Err(ExchangeError::Malformed)
                }
                Chunk::Size => match httparse::parse_chunk_size(pending) {
                    Ok(httparse::Status::Complete((used, 0))) => {
                        raw += used;
                        state = Chunk::Trailers;
                    }
                    Ok(httparse::Status::Complete((used, size))) => {
                        raw += used;
                        state = Chunk::Data(size);
                    }
                    Ok(httparse::Status::Partial) => break,
                    Err(_) => return Err(ExchangeError::Malformed),
                },
                Chunk::Data(left) => {
                    let take = usize::try_from(left)
                        .unwrap_or(usize::MAX)
                        .min(pending.len());
                    if take == 0 {
                        break;
                    }
                    buf.copy_within(raw..raw + take, out);
                    out += take;
                    raw += take;
                    let left = left.saturating_sub(take as u64);
                    state = if left == 0 {
                        Chunk::DataEnd
                    } else {
                        Chunk::Data(left)
                    };
                }
                Chunk::DataEnd => match pending {
                    [b'\r', b'\n', ..] => {
                        raw += 2;
                        state = Chunk::Size;
                    }
                    [] | [b'\r'] => break,
                    _ => return Err(ExchangeError::Malformed),
                },
                Chunk::Trailers => match pending.windows(2).position(|w| w == b"\r\n") {
                    Some(0) => return Ok(out),
                    Some(line) => raw += line + 2,
                    None => break,
                },
            }
        }
        // Compact: move the unprocessed raw bytes down to the end of the decoded data.
        if raw > out {
            buf.copy_within(raw..filled, out);
            filled -= raw - out;
            raw = out;
        }
        if fill(transport, buf, &mut filled, deadline_passed)? == 0 {
            return Err(ExchangeError::Truncated);
        }
    }
}
