//! The logic of the authcore firmware example, as plain functions over caller buffers.
//!
//! The binary (`src/main.rs`, `thumbv7em-none-eabihf`) hands these functions static buffers;
//! the host tests (`tests/host.rs`) call the very same functions with their own buffers, so the
//! behaviour of the image is tested, not just its build.
//!
//! One pass of the firmware ([`demo::run`]):
//!
//! 1. [`verify_hs256`]: verify the device's HS256 session token and check its expiry against
//!    the device clock.
//! 2. [`open_authjs_cookie`] (feature `jwe`): decrypt an Auth.js v5 session cookie taken from a
//!    `Cookie` header (chunked or not) and check its expiry.
//! 3. [`next_refresh_deadline`]: load the session's OAuth credential into a
//!    [`RefreshMachine`] and ask when it must next be refreshed.
//! 4. [`build_refresh_request`]: when due, write the form-encoded refresh request.
//! 5. [`exchange`] with a [`Loopback`] transport: the HTTP/1.1 request goes into a static
//!    transmit buffer and a canned response is read back (a real device passes its TCP/TLS
//!    socket instead).
//! 6. [`parse_refresh_response`]: hand the response to the machine, which parses it, rotates
//!    the tokens and reports the next deadline.
//!
//! Nothing allocates; nothing panics on any input (all errors are values of [`Error`]).

#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod demo;
mod transport;

use core::fmt;

use authcore::claims::{Required, Validation};
use authcore::http::{ExchangeError, Target};
use authcore::jws::{self, DecodeOptions};
use authcore::refresh::{
    Client, CredentialError, Event, HandleError, HttpResponse, RefreshError, RefreshMachine,
    Request, RequestError,
};
use authcore::{DecodeError, HmacKey};
use serde::Deserialize;

pub use transport::Loopback;

/// Largest session token (or reassembled cookie value) the firmware accepts, in bytes. Auth.js
/// splits cookies at 3936 bytes, so one chunk of a v5 cookie always fits.
pub const MAX_TOKEN_LEN: usize = 4096;

/// Scratch bytes [`verify_hs256`] needs for a token of up to [`MAX_TOKEN_LEN`] bytes.
pub const JWS_SCRATCH_LEN: usize = jws::scratch_len(MAX_TOKEN_LEN);

/// Scratch bytes [`open_authjs_cookie`] needs for a cookie of up to [`MAX_TOKEN_LEN`] bytes.
#[cfg(feature = "jwe")]
pub const JWE_SCRATCH_LEN: usize = authcore::jwe::scratch_len(MAX_TOKEN_LEN);

/// Capacity of the access token in the refresh machine.
pub const ACCESS_TOKEN_CAP: usize = 1024;
/// Capacity of the refresh token in the refresh machine.
pub const REFRESH_TOKEN_CAP: usize = 256;

/// The refresh machine the firmware keeps (in a static).
pub type Machine = RefreshMachine<ACCESS_TOKEN_CAP, REFRESH_TOKEN_CAP>;

/// Clock skew tolerated on `exp`/`nbf`, in seconds: a device RTC drifts.
pub const LEEWAY_SECS: u32 = 30;

/// The claims the firmware reads from a session (HS256 token or Auth.js cookie).
///
/// Strings borrow the decode scratch buffer (escapes already resolved). The OAuth members are
/// what an Auth.js `jwt` callback stores for refresh-token rotation.
#[derive(Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct SessionClaims<'a> {
    /// `sub`: the user or device id.
    pub sub: &'a str,
    /// `name`, when present (`null` reads as absent).
    #[serde(default)]
    pub name: Option<&'a str>,
    /// `accessToken`: the upstream OAuth access token.
    #[serde(default, rename = "accessToken")]
    pub access_token: Option<&'a str>,
    /// `refreshToken`: the upstream OAuth refresh token. Secret.
    #[serde(default, rename = "refreshToken")]
    pub refresh_token: Option<&'a str>,
    /// `expiresAt`: when the access token expires (Unix seconds).
    #[serde(default, rename = "expiresAt")]
    pub expires_at: Option<i64>,
}

impl fmt::Debug for SessionClaims<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionClaims")
            .field("sub", &self.sub)
            .field("name", &self.name)
            .field("access_token", &self.access_token.map(|_| "<redacted>"))
            .field("refresh_token", &self.refresh_token.map(|_| "<redacted>"))
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// A verified session: its claims and the session's own expiry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Session<'a> {
    /// The claims.
    pub claims: SessionClaims<'a>,
    /// The session token's `exp` (Unix seconds, rounded up). Always present: the firmware
    /// requires it.
    pub exp: i64,
}

/// Why a firmware step failed.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error {
    /// The session token or cookie was refused (signature, tag, expiry, claims, ...).
    Token(DecodeError),
    /// The `Cookie` header has no session cookie.
    NoSessionCookie,
    /// The session cookie could not be reassembled (too many chunks, too large).
    Cookie(authcore::cookie::CookieError),
    /// The session carries no `accessToken`/`expiresAt` to refresh.
    NoCredential,
    /// The credential does not fit the refresh machine or is not header-safe.
    Credential(CredentialError),
    /// The refresh request does not fit its buffer.
    Request(RequestError),
    /// The HTTP exchange failed.
    Exchange(ExchangeError<authcore::http::embedded_io::ErrorKind>),
    /// The machine had no request in flight when a response was handed in.
    Handle(HandleError),
    /// The token endpoint refused the refresh, or its answer was unusable.
    Refresh(RefreshError),
    /// The machine reported no outcome (cannot happen after a response was handed in).
    NoOutcome,
}

impl Error {
    /// A stable snake_case name for this error (the firmware stores a code, never text).
    #[must_use]
    pub const fn kind(&self) -> &'static str {
        match self {
            Self::Token(e) => e.kind(),
            Self::NoSessionCookie => "no_session_cookie",
            Self::Cookie(e) => e.kind(),
            Self::NoCredential => "no_credential",
            Self::Credential(e) => e.kind(),
            Self::Request(e) => e.kind(),
            Self::Exchange(e) => e.kind(),
            Self::Handle(e) => e.kind(),
            Self::Refresh(e) => e.kind(),
            Self::NoOutcome => "no_outcome",
        }
    }

    /// A small numeric code per step, for a device without text output (LED blinks, a status
    /// register): 1 token, 2 cookie, 3 credential, 4 request, 5 exchange, 6 refresh.
    #[must_use]
    pub const fn code(&self) -> u8 {
        match self {
            Self::Token(_) => 1,
            Self::NoSessionCookie | Self::Cookie(_) => 2,
            Self::NoCredential | Self::Credential(_) => 3,
            Self::Request(_) => 4,
            Self::Exchange(_) => 5,
            Self::Handle(_) | Self::Refresh(_) | Self::NoOutcome => 6,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.kind())
    }
}

impl core::error::Error for Error {}

/// The validation both session paths use: `exp` and `sub` required, [`LEEWAY_SECS`] of skew.
const fn validation() -> Validation<'static> {
    Validation::new()
        .with_leeway(LEEWAY_SECS)
        .with_required(Required {
            exp: true,
            sub: true,
            nbf: false,
            iat: false,
            iss: false,
            aud: false,
            jti: false,
        })
}

fn session<'s>(decoded: jws::Decoded<'s, SessionClaims<'s>>) -> Result<Session<'s>, Error> {
    // `exp` is required by `validation()`, so it is present here.
    let exp = decoded
        .times
        .exp
        .ok_or(Error::Token(DecodeError::MissingClaim { claim: "exp" }))?;
    Ok(Session {
        claims: decoded.claims,
        exp,
    })
}

/// Verifies the device's HS256 session token at `now` (the device clock, Unix seconds).
///
/// The token must be signed with `key`, carry `sub` and `exp`, and not be expired at `now`
/// (with [`LEEWAY_SECS`] of tolerance). `scratch` holds the decoded payload; the returned
/// strings borrow it. [`JWS_SCRATCH_LEN`] bytes always suffice for a token of up to
/// [`MAX_TOKEN_LEN`] bytes.
///
/// # Errors
///
/// [`Error::Token`] with the first failing check (`too_large`, `bad_signature`, `expired`,
/// `missing_claim`, ...).
pub fn verify_hs256<'s>(
    token: &[u8],
    key: &HmacKey,
    now: i64,
    scratch: &'s mut [u8],
) -> Result<Session<'s>, Error> {
    let options = DecodeOptions::new()
        .with_validation(validation())
        .with_max_token_len(MAX_TOKEN_LEN);
    let decoded = jws::decode(token, key, &options, now, scratch).map_err(Error::Token)?;
    session(decoded)
}

/// Opens the Auth.js v5 session cookie named `cookie_name` (`authjs.session-token`, or
/// `__Secure-authjs.session-token` over HTTPS) from a `Cookie` request header at `now`.
///
/// Chunks (`name.0`, `name.1`, ...) are reassembled into `value` first, as Auth.js does. The
/// keys are the configured secrets' keys, newest first, derived with the cookie name as salt.
/// The returned strings borrow `scratch` ([`JWE_SCRATCH_LEN`] bytes always suffice).
///
/// # Errors
///
/// [`Error::NoSessionCookie`], [`Error::Cookie`] when the chunks do not fit `value`,
/// [`Error::Token`] when decryption or validation fails (`bad_tag` for a wrong secret or a
/// tampered cookie, `expired`, ...).
#[cfg(feature = "jwe")]
pub fn open_authjs_cookie<'s>(
    cookie_header: &[u8],
    cookie_name: &str,
    keys: &[authcore::jwe::AuthJsKey],
    now: i64,
    value: &mut [u8],
    scratch: &'s mut [u8],
) -> Result<Session<'s>, Error> {
    let cookie =
        authcore::cookie::reassemble(cookie_header, cookie_name, value).map_err(Error::Cookie)?;
    if cookie.is_empty() {
        return Err(Error::NoSessionCookie);
    }
    let options = DecodeOptions::new()
        .with_validation(validation())
        .with_max_token_len(MAX_TOKEN_LEN);
    let decoded = authcore::jwe::decode_authjs(cookie.value(), keys, &options, now, scratch)
        .map_err(Error::Token)?;
    session(decoded)
}

/// Loads the session's OAuth credential into `machine` (replacing any previous one) and returns
/// the next refresh deadline: the time at which [`build_refresh_request`] will produce a request
/// (in the past when the access token is already due or expired).
///
/// # Errors
///
/// [`Error::NoCredential`] when the session has no `accessToken` or `expiresAt`,
/// [`Error::Credential`] when a token does not fit the machine or is not header-safe.
pub fn next_refresh_deadline(
    machine: &mut Machine,
    session: &Session<'_>,
    now: i64,
) -> Result<i64, Error> {
    let c = &session.claims;
    let (Some(access_token), Some(expires_at)) = (c.access_token, c.expires_at) else {
        return Err(Error::NoCredential);
    };
    machine
        .set_credential(now, access_token, c.refresh_token, expires_at)
        .map_err(Error::Credential)?;
    machine.poll_timeout().ok_or(Error::NoCredential)
}

/// At `now`, writes the refresh request into `buf` when one is due (`Ok(None)` otherwise: not
/// yet due, already in flight, backing off, or no refresh token).
///
/// # Errors
///
/// [`Error::Request`] when `buf` is too small ([`Machine::request_len`] tells the size).
pub fn build_refresh_request<'b>(
    machine: &mut Machine,
    now: i64,
    client: &Client<'_>,
    buf: &'b mut [u8],
) -> Result<Option<Request<'b>>, Error> {
    machine.handle_timeout(now);
    machine
        .poll_request(now, client, buf)
        .map_err(Error::Request)
}

/// Sends `request` to `target` over `transport` and reads the response into `buf`
/// ([`authcore::http::exchange`]). When it fails, the machine is told (so it backs off,
/// resends, or ends the refresh when a success's body was lost) before the error is returned.
///
/// # Errors
///
/// [`Error::Exchange`].
pub fn exchange<'b>(
    machine: &mut Machine,
    now: i64,
    transport: &mut Loopback<'_>,
    target: &Target<'_>,
    request: &Request<'_>,
    buf: &'b mut [u8],
) -> Result<HttpResponse<'b>, Error> {
    authcore::http::exchange(transport, target, request, buf, &mut || false).map_err(|e| {
        let _ = machine.handle_transport_error(now, e.transport_failure());
        Error::Exchange(e)
    })
}

/// The outcome of a successful refresh.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refreshed {
    /// The new access token's expiry (Unix seconds).
    pub expires_at: i64,
    /// Whether the server rotated the refresh token (persist the new one).
    pub rotated: bool,
    /// The credential generation (1 after the first load, +1 per refresh).
    pub generation: u32,
    /// When the next refresh is due.
    pub next_deadline: i64,
}

/// Hands the token endpoint's response to `machine`, which parses it strictly and commits the
/// new tokens only when all of them fit.
///
/// # Errors
///
/// [`Error::Refresh`] when the endpoint refused the refresh (`invalid_grant`, a 5xx, ...) or
/// the body is unusable; [`Error::Handle`] when no request was in flight.
pub fn parse_refresh_response(
    machine: &mut Machine,
    now: i64,
    response: HttpResponse<'_>,
) -> Result<Refreshed, Error> {
    machine
        .handle_response(now, response)
        .map_err(Error::Handle)?;
    let mut outcome = Err(Error::NoOutcome);
    while let Some(event) = machine.poll_event() {
        match event {
            Event::Refreshed {
                generation,
                expires_at,
                rotated,
                ..
            } => {
                outcome = Ok(Refreshed {
                    expires_at,
                    rotated,
                    generation,
                    next_deadline: machine.poll_timeout().unwrap_or(expires_at),
                });
            }
            Event::RefreshFailed { error, .. } => outcome = Err(Error::Refresh(error)),
            _ => {}
        }
    }
    outcome
}
