//! The refresh request (RFC 6749 §6): form encoding and client authentication.
//!
//! The body is `application/x-www-form-urlencoded` exactly as WHATWG `URLSearchParams`
//! serializes it (what Auth.js sends): alphanumerics and `*-._` are kept, space becomes `+`,
//! every other UTF-8 byte becomes `%XX` with uppercase hex. Members appear in this order:
//! `grant_type=refresh_token`, `refresh_token`, `scope` (if any), then `client_id` and
//! `client_secret` when the client authenticates in the body.
//!
//! With `client_secret_basic` the id and secret are form-encoded first (RFC 6749 §2.3.1), joined
//! with `:` and Base64-encoded with padding (RFC 7617). The body then carries no client
//! credentials: a client uses one method, never both.

use core::fmt;

use base64ct::{Base64, Encoder};

/// `Content-Type` of the request body.
pub const CONTENT_TYPE: &str = "application/x-www-form-urlencoded";

/// `Accept` header to send with the request.
pub const ACCEPT: &str = "application/json";

const GRANT: &str = "grant_type=refresh_token&refresh_token=";
const BASIC: &str = "Basic ";

/// How the client authenticates to the token endpoint (RFC 6749 §2.3.1).
#[non_exhaustive]
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum ClientAuth<'a> {
    /// `client_secret_basic`: HTTP Basic with the form-encoded id and secret.
    SecretBasic {
        /// The client secret.
        secret: &'a str,
    },
    /// `client_secret_post`: `client_id` and `client_secret` in the body.
    SecretPost {
        /// The client secret.
        secret: &'a str,
    },
    /// A public client (RFC 6749 §2.1): only `client_id` in the body.
    None,
}

/// The client identity and options sent with every refresh request.
///
/// `Debug` never prints the secret.
#[non_exhaustive]
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Client<'a> {
    /// The client identifier.
    pub id: &'a str,
    /// The authentication method and secret.
    pub auth: ClientAuth<'a>,
    /// Optional `scope` parameter (RFC 6749 §6: must not exceed the original grant).
    pub scope: Option<&'a str>,
}

impl<'a> Client<'a> {
    /// A confidential client using `client_secret_basic` (the RFC 6749 default).
    pub const fn secret_basic(id: &'a str, secret: &'a str) -> Self {
        Self {
            id,
            auth: ClientAuth::SecretBasic { secret },
            scope: None,
        }
    }

    /// A confidential client using `client_secret_post` (what the Auth.js guide does).
    pub const fn secret_post(id: &'a str, secret: &'a str) -> Self {
        Self {
            id,
            auth: ClientAuth::SecretPost { secret },
            scope: None,
        }
    }

    /// A public client: sends `client_id` only.
    pub const fn public(id: &'a str) -> Self {
        Self {
            id,
            auth: ClientAuth::None,
            scope: None,
        }
    }

    /// Adds a `scope` parameter to every request.
    #[must_use]
    pub const fn with_scope(mut self, scope: &'a str) -> Self {
        self.scope = Some(scope);
        self
    }
}

impl fmt::Debug for Client<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let method = match self.auth {
            ClientAuth::SecretBasic { .. } => "client_secret_basic",
            ClientAuth::SecretPost { .. } => "client_secret_post",
            ClientAuth::None => "none",
        };
        f.debug_struct("Client")
            .field("id", &self.id)
            .field("auth", &method)
            .field("scope", &self.scope)
            .finish()
    }
}

impl fmt::Debug for ClientAuth<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::SecretBasic { .. } => "SecretBasic { secret: <redacted> }",
            Self::SecretPost { .. } => "SecretPost { secret: <redacted> }",
            Self::None => "None",
        })
    }
}

/// A refresh request written into a caller buffer.
///
/// Send it as `POST` with `Content-Type: application/x-www-form-urlencoded`
/// ([`CONTENT_TYPE`]), `Accept: application/json` ([`ACCEPT`]), and, when present, the
/// `Authorization` header value. `Debug` redacts both, as they carry secrets.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Request<'b> {
    /// The form body.
    pub body: &'b str,
    /// The whole `Authorization` header value (`Basic ...`) for `client_secret_basic`.
    pub authorization: Option<&'b str>,
}

impl fmt::Debug for Request<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Request")
            .field("body_len", &self.body.len())
            .field("authorization", &self.authorization.map(|_| "<redacted>"))
            .finish()
    }
}

/// Why a refresh request could not be written.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestError {
    /// The buffer is smaller than the request; `needed` bytes are required.
    BufferTooSmall {
        /// Bytes the request needs.
        needed: usize,
    },
}

impl RequestError {
    /// Stable snake_case name of the error.
    pub const fn kind(&self) -> &'static str {
        match self {
            Self::BufferTooSmall { .. } => "buffer_too_small",
        }
    }
}

impl fmt::Display for RequestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BufferTooSmall { needed } => {
                write!(
                    f,
                    "buffer too small for the refresh request: {needed} bytes needed"
                )
            }
        }
    }
}

impl core::error::Error for RequestError {}

/// Length of `input` once form-encoded.
pub const fn form_encoded_len(input: &str) -> usize {
    let bytes = input.as_bytes();
    let mut len = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        len = len.saturating_add(if is_kept(bytes[i]) || bytes[i] == b' ' {
            1
        } else {
            3
        });
        i += 1;
    }
    len
}

/// Form-encodes `input` into `out`, returning the encoded text.
///
/// # Errors
///
/// [`RequestError::BufferTooSmall`] when `out` is shorter than [`form_encoded_len`].
pub fn form_encode<'o>(input: &str, out: &'o mut [u8]) -> Result<&'o str, RequestError> {
    let needed = form_encoded_len(input);
    let mut cursor = Cursor::new(out);
    if cursor.remaining() < needed {
        return Err(RequestError::BufferTooSmall { needed });
    }
    cursor.form(input);
    let len = cursor.pos;
    Ok(as_str(&cursor.buf[..len]))
}

/// Bytes [`encode`] needs for this client and refresh token (body plus `Authorization` value).
pub fn encoded_len(client: &Client<'_>, refresh_token: &str) -> usize {
    let mut body = GRANT.len().saturating_add(form_encoded_len(refresh_token));
    if let Some(scope) = client.scope {
        body = body
            .saturating_add(7)
            .saturating_add(form_encoded_len(scope));
    }
    match client.auth {
        ClientAuth::SecretBasic { secret } => {
            let raw = form_encoded_len(client.id)
                .saturating_add(1)
                .saturating_add(form_encoded_len(secret));
            body.saturating_add(BASIC.len())
                .saturating_add(base64_len(raw))
        }
        ClientAuth::SecretPost { secret } => body
            .saturating_add(11)
            .saturating_add(form_encoded_len(client.id))
            .saturating_add(15)
            .saturating_add(form_encoded_len(secret)),
        ClientAuth::None => body
            .saturating_add(11)
            .saturating_add(form_encoded_len(client.id)),
    }
}

/// Writes the refresh request for `refresh_token` into `buf`.
///
/// # Errors
///
/// [`RequestError::BufferTooSmall`] when `buf` is shorter than [`encoded_len`]; nothing useful
/// is written then.
pub fn encode<'b>(
    client: &Client<'_>,
    refresh_token: &str,
    buf: &'b mut [u8],
) -> Result<Request<'b>, RequestError> {
    let needed = encoded_len(client, refresh_token);
    if buf.len() < needed {
        return Err(RequestError::BufferTooSmall { needed });
    }
    let mut cursor = Cursor::new(buf);
    cursor.raw(GRANT);
    cursor.form(refresh_token);
    if let Some(scope) = client.scope {
        cursor.raw("&scope=");
        cursor.form(scope);
    }
    let basic_secret = match client.auth {
        ClientAuth::SecretBasic { secret } => Some(secret),
        ClientAuth::SecretPost { secret } => {
            cursor.raw("&client_id=");
            cursor.form(client.id);
            cursor.raw("&client_secret=");
            cursor.form(secret);
            None
        }
        ClientAuth::None => {
            cursor.raw("&client_id=");
            cursor.form(client.id);
            None
        }
    };
    let body_len = cursor.pos;
    let mut header_len = 0;
    if let Some(secret) = basic_secret {
        cursor.raw(BASIC);
        let too_small = RequestError::BufferTooSmall { needed };
        let rest = cursor.buf.get_mut(cursor.pos..).ok_or(too_small)?;
        let mut encoder = Encoder::<Base64>::new(rest).map_err(|_| too_small)?;
        form_stream(client.id, &mut |chunk| encoder.encode(chunk))
            .and_then(|()| encoder.encode(b":"))
            .and_then(|()| form_stream(secret, &mut |chunk| encoder.encode(chunk)))
            .map_err(|_| too_small)?;
        header_len = BASIC
            .len()
            .saturating_add(encoder.finish().map_err(|_| too_small)?.len());
    }
    let buf: &'b [u8] = cursor.buf;
    let (body, rest) = buf.split_at(body_len.min(buf.len()));
    Ok(Request {
        body: as_str(body),
        authorization: basic_secret.map(|_| as_str(rest.get(..header_len).unwrap_or_default())),
    })
}

/// Base64 (padded) length of `n` bytes.
const fn base64_len(n: usize) -> usize {
    n.div_ceil(3).saturating_mul(4)
}

/// Unreserved in the `application/x-www-form-urlencoded` percent-encode set.
const fn is_kept(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'*' | b'-' | b'.' | b'_')
}

const HEX: &[u8; 16] = b"0123456789ABCDEF";

/// Form-encodes `input`, handing out pieces of at most three bytes.
fn form_stream<E>(input: &str, sink: &mut impl FnMut(&[u8]) -> Result<(), E>) -> Result<(), E> {
    for &b in input.as_bytes() {
        if is_kept(b) {
            sink(&[b])?;
        } else if b == b' ' {
            sink(b"+")?;
        } else {
            sink(&[b'%', HEX[usize::from(b >> 4)], HEX[usize::from(b & 0x0f)]])?;
        }
    }
    Ok(())
}

/// Only ever holds ASCII written by [`Cursor`]; a failed conversion yields `""` (unreachable).
fn as_str(bytes: &[u8]) -> &str {
    core::str::from_utf8(bytes).unwrap_or_default()
}

/// A write position in a buffer whose length was checked beforehand; writes past the end are
/// dropped rather than panicking.
struct Cursor<'b> {
    buf: &'b mut [u8],
    pos: usize,
}

impl<'b> Cursor<'b> {
    fn new(buf: &'b mut [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    fn raw(&mut self, text: &str) {
        self.bytes(text.as_bytes());
    }

    fn bytes(&mut self, bytes: &[u8]) {
        let end = self.pos.saturating_add(bytes.len());
        if let Some(dst) = self.buf.get_mut(self.pos..end) {
            dst.copy_from_slice(bytes);
            self.pos = end;
        }
    }

    fn form(&mut self, input: &str) {
        let _ = form_stream::<()>(input, &mut |chunk| {
            self.bytes(chunk);
            Ok(())
        });
    }
}
