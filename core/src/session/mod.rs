//! The Auth.js session pipeline (JWT strategy): sign-in, session read, update and sign-out,
//! sans-IO and without heap.
//!
//! The caller hands in what the HTTP request carried (the `Cookie` header, the time, the CSRF
//! token and update data) and gets back what the session endpoint answers: the status, the
//! session JSON (or `null`), and the exact `Set-Cookie` header values, written into caller
//! buffers. The flow is Auth.js's (AUTHJS.md §4.1):
//!
//! 1. reassemble the session cookie from its chunks;
//! 2. decode it; on any failure (expired, garbled, wrong secret) the session is dropped, every
//!    chunk is deleted and **the `jwt` callback is not called**;
//! 3. run `jwt` (trigger: session read or update); `None` ends the session (v5 `null`);
//! 4. run `session` with `expires = now + session.maxAge`;
//! 5. re-encode the token with a fresh `iat`/`exp`/`jti` (sliding expiry) and emit the new
//!    chunks plus deletions of stale ones, each with `Expires = now + session.maxAge`.
//!
//! Deliberate differences from Auth.js are listed in `docs/DIFFERENCES.md`; the main one here is
//! that chunk names are matched exactly (`name` or `name.<digits>`), not by prefix.

mod callbacks;
mod codec;
mod refresh;
#[cfg(test)]
mod tests;

use core::fmt;

use heapless::Vec;

pub use callbacks::{
    Account, CallbackError, Callbacks, DefaultCallbacks, DefaultSession, DefaultToken, JwtParams,
    SessionFields, SessionUser, Trigger, User, ERROR_CAPACITY,
};
pub use codec::{stamp_claims, JwsCodec, Stamp, TokenCodec, MAX_SESSION_TOKEN_LEN};
#[cfg(feature = "jwe")]
pub use codec::{AuthJsCodec, NextAuthV4Codec};
pub use refresh::{
    account_credential, non_expiring_access_token, refresh_due, sign_in_state, OAuthCallbacks,
    OAuthFields, OAuthToken, PendingRefresh, ReadStep, RefreshOutcome, RefreshState,
    RefreshableToken, ResumeError, Unfinished, ACCESS_TOKEN_CAPACITY, MISSING_ACCESS_TOKEN,
    MISSING_EXPIRES_AT, REFRESH_TOKEN_CAPACITY,
};

use crate::cookie::{self, ChunkName, CookieError, CookieOptions, Flavor, SessionCookieWriter};
use crate::error::{DecodeError, EncodeError};
use crate::json;
use crate::rand::RandomSource;
use crate::time;

/// Auth.js's default `session.maxAge`: 30 days.
pub const DEFAULT_MAX_AGE: u32 = 30 * 24 * 60 * 60;
/// Auth.js's default `session.updateAge`: 1 day.
pub const DEFAULT_UPDATE_AGE: u32 = 24 * 60 * 60;
/// Most session cookie chunks of a request one response deletes: twice as many as can be read
/// back ([`cookie::MAX_CHUNKS`]), so that a request with too many chunks (unreadable, e.g. old
/// chunks a broken client kept) has them deleted too. Beyond this, the first ones in request
/// order are deleted and the next response deletes more.
pub const MAX_DELETED_CHUNKS: usize = 2 * cookie::MAX_CHUNKS;

/// Most `Set-Cookie` headers one response carries: deletions of up to
/// [`MAX_DELETED_CHUNKS`] chunks plus up to [`cookie::MAX_CHUNKS`] new ones.
pub const MAX_SET_COOKIES: usize = MAX_DELETED_CHUNKS + cookie::MAX_CHUNKS;

/// Session configuration, with Auth.js's defaults.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    /// Cookie names and chunk size: Auth.js v5 or next-auth v4.
    pub flavor: Flavor,
    /// Secure mode (HTTPS): `__Secure-`/`__Host-` prefixes and the `Secure` attribute. For v5 the
    /// session cookie name is also the JWE key-derivation salt, so toggling this changes keys.
    pub secure: bool,
    /// `session.maxAge` in seconds: the idle timeout and the cookie lifetime. Default 30 days.
    pub max_age: u32,
    /// `session.updateAge` in seconds (database strategy only). Default 1 day.
    pub update_age: u32,
    /// `jwt.maxAge` in seconds. `None`: v5 uses `max_age`; v4 uses 30 days on sign-in and
    /// `max_age` on reads (v4's own quirk, kept).
    pub jwt_max_age: Option<u32>,
}

impl Config {
    /// Auth.js's defaults for `flavor` and secure mode.
    #[must_use]
    pub const fn new(flavor: Flavor, secure: bool) -> Self {
        Self {
            flavor,
            secure,
            max_age: DEFAULT_MAX_AGE,
            update_age: DEFAULT_UPDATE_AGE,
            jwt_max_age: None,
        }
    }

    /// Sets `session.maxAge`.
    #[must_use]
    pub const fn with_max_age(mut self, seconds: u32) -> Self {
        self.max_age = seconds;
        self
    }

    /// Sets `session.updateAge`.
    #[must_use]
    pub const fn with_update_age(mut self, seconds: u32) -> Self {
        self.update_age = seconds;
        self
    }

    /// Sets `jwt.maxAge`.
    #[must_use]
    pub const fn with_jwt_max_age(mut self, seconds: u32) -> Self {
        self.jwt_max_age = Some(seconds);
        self
    }

    /// The session cookie's name (also the v5 key-derivation salt).
    #[must_use]
    pub const fn session_cookie_name(&self) -> &'static str {
        cookie::session_cookie_name(self.flavor, self.secure)
    }

    /// The CSRF cookie's name.
    #[must_use]
    pub const fn csrf_cookie_name(&self) -> &'static str {
        cookie::csrf_cookie_name(self.flavor, self.secure)
    }

    /// The token lifetime used when encoding on sign-in.
    #[must_use]
    pub const fn sign_in_jwt_max_age(&self) -> u32 {
        match (self.jwt_max_age, self.flavor) {
            (Some(s), _) => s,
            (None, Flavor::AuthJs) => self.max_age,
            (None, Flavor::NextAuthV4) => DEFAULT_MAX_AGE,
        }
    }

    /// The token lifetime used when re-encoding on a session read.
    #[must_use]
    pub const fn read_jwt_max_age(&self) -> u32 {
        match (self.jwt_max_age, self.flavor) {
            (Some(s), Flavor::AuthJs) => s,
            _ => self.max_age,
        }
    }

    /// The body Auth.js sends when there is no session: `null` (v5) or `{}` (v4).
    #[must_use]
    pub const fn empty_body(&self) -> &'static str {
        match self.flavor {
            Flavor::AuthJs => "null",
            Flavor::NextAuthV4 => "{}",
        }
    }

    fn cookie_options(&self) -> CookieOptions<'static> {
        CookieOptions::new(self.secure)
    }
}

/// The caller's buffers. Sizes are the caller's choice; too small is a
/// [`SessionError::BufferTooSmall`] naming the buffer and the size needed. `Debug` prints only
/// their sizes: they hold tokens and credentials.
pub struct Buffers<'b> {
    /// Holds the reassembled cookie value, then the new token. A token of `n` chunks needs
    /// `n * 3936` bytes.
    pub token: &'b mut [u8],
    /// Decoding scratch and intermediate JSON: about twice the token size. A read that pauses
    /// for a refresh also writes the refresh request here first
    /// ([`refresh::request::encoded_len`](crate::refresh::request::encoded_len) bytes), and an
    /// update decodes the CSRF cookie here (up to the raw value's length: 129 bytes for a
    /// cookie Auth.js or [`Engine::csrf`] wrote).
    pub scratch: &'b mut [u8],
    /// The session JSON.
    pub body: &'b mut [u8],
    /// The `Set-Cookie` header values, back to back: about the token size plus 150 bytes per
    /// header.
    pub cookies: &'b mut [u8],
}

impl fmt::Debug for Buffers<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Buffers")
            .field("token_len", &self.token.len())
            .field("scratch_len", &self.scratch.len())
            .field("body_len", &self.body.len())
            .field("cookies_len", &self.cookies.len())
            .finish()
    }
}

/// Which buffer was too small.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BufferKind {
    /// [`Buffers::token`].
    Token,
    /// [`Buffers::scratch`].
    Scratch,
    /// [`Buffers::body`].
    Body,
    /// [`Buffers::cookies`].
    Cookies,
}

/// A failure that is the caller's to fix (configuration, buffers, randomness), as opposed to a
/// bad or expired token, which ends the session and is reported in [`Response::dropped`].
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionError {
    /// A buffer is too small.
    BufferTooSmall {
        /// Which one.
        buffer: BufferKind,
        /// Bytes it needs (a safe bound).
        needed: usize,
    },
    /// The token could not be encoded (claims not serializable, random source failed).
    Encode(EncodeError),
    /// The session could not be serialized.
    Session(json::Error),
    /// A cookie could not be written (invalid name or attribute, too many chunks).
    Cookie(CookieError),
    /// A callback failed during sign-in.
    Callback(CallbackError),
    /// A time is outside what can be formatted (years 0000–9999).
    Time,
}

impl SessionError {
    /// The stable snake_case name of this error's kind.
    #[must_use]
    pub const fn kind(&self) -> &'static str {
        match self {
            Self::BufferTooSmall { .. } => "buffer_too_small",
            Self::Encode(e) => e.kind(),
            Self::Session(_) => "bad_session",
            Self::Cookie(e) => e.kind(),
            Self::Callback(_) => "callback_failed",
            Self::Time => "time_out_of_range",
        }
    }
}

impl fmt::Display for SessionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BufferTooSmall { buffer, needed } => {
                write!(f, "{buffer:?} buffer too small: {needed} bytes needed")
            }
            Self::Encode(e) => write!(f, "cannot encode the token: {e}"),
            Self::Session(e) => write!(f, "cannot serialize the session: {e}"),
            Self::Cookie(e) => write!(f, "cannot write a cookie: {e:?}"),
            Self::Callback(e) => write!(f, "{e}"),
            Self::Time => f.write_str("time out of range"),
        }
    }
}

impl core::error::Error for SessionError {}

/// Why a session that was present ended in this response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dropped {
    /// The token did not decode (expired, garbled, wrong secret...): Auth.js's
    /// `JWTSessionError`. The `jwt` callback was not called.
    Invalid(DecodeError),
    /// The cookie could not be read (more chunks than authcore reassembles).
    Unreadable(CookieError),
    /// The `jwt` callback returned `None` (v5 `null`): a deliberate end, not an error.
    Ended,
    /// A callback failed (Auth.js: it threw).
    Callback(CallbackError),
}

/// What the session endpoint answers. `Debug` prints sizes, not the body or the cookies (the
/// session token is a credential).
pub struct Response<'b> {
    /// HTTP status: 200, or 400 for an update that failed the CSRF check.
    pub status: u16,
    /// The JSON body: the session, or [`Config::empty_body`].
    pub body: &'b str,
    /// Whether `body` is a session.
    pub authenticated: bool,
    /// When a session cookie was present but no session resulted: why.
    pub dropped: Option<Dropped>,
    cookies: &'b str,
    ends: Vec<u32, MAX_SET_COOKIES>,
}

impl fmt::Debug for Response<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Response")
            .field("status", &self.status)
            .field("body_len", &self.body.len())
            .field("authenticated", &self.authenticated)
            .field("dropped", &self.dropped)
            .field("set_cookie_count", &self.ends.len())
            .finish()
    }
}

impl<'b> Response<'b> {
    /// The `Set-Cookie` header values, in order.
    pub fn set_cookies(&self) -> impl Iterator<Item = &'b str> + '_ {
        let cookies = self.cookies;
        let mut start = 0usize;
        self.ends.iter().map(move |&end| {
            let end = end as usize;
            let s = cookies.get(start..end).unwrap_or("");
            start = end;
            s
        })
    }

    /// Number of `Set-Cookie` headers.
    #[must_use]
    pub fn set_cookie_count(&self) -> usize {
        self.ends.len()
    }

    /// Extra response headers Auth.js sends: no-cache headers on GET, only `Content-Type` on
    /// POST.
    #[must_use]
    pub const fn headers(method_is_post: bool) -> &'static [(&'static str, &'static str)] {
        if method_is_post {
            &[("Content-Type", "application/json")]
        } else {
            &[
                ("Content-Type", "application/json"),
                ("Cache-Control", "private, no-cache, no-store"),
                ("Expires", "0"),
                ("Pragma", "no-cache"),
            ]
        }
    }
}

/// The CSRF token and, when a new one was made, its `Set-Cookie` value. `Debug` shows neither.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Csrf<'o> {
    /// The token (64 lowercase hex characters) for the client's `csrfToken`.
    pub token: [u8; cookie::CSRF_TOKEN_LEN],
    /// The `Set-Cookie` header value when the request had no valid CSRF cookie.
    pub set_cookie: Option<&'o str>,
}

impl fmt::Debug for Csrf<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Csrf")
            .field("token_len", &self.token.len())
            .field("set_cookie_len", &self.set_cookie.map(str::len))
            .finish()
    }
}

impl Csrf<'_> {
    /// The token as text.
    #[must_use]
    pub fn token(&self) -> &str {
        core::str::from_utf8(&self.token).unwrap_or("")
    }
}

/// A sign-in: what the provider returned.
#[derive(Debug, Clone, Copy)]
pub struct SignIn<'a> {
    /// The user.
    pub user: User<'a>,
    /// The account.
    pub account: Option<Account<'a>>,
    /// The raw provider profile JSON (OAuth).
    pub profile: Option<&'a [u8]>,
    /// Whether an adapter just created the user (trigger `SignUp`).
    pub is_new_user: Option<bool>,
}

/// An update request (`POST` to the session endpoint). `Debug` shows neither the CSRF token
/// nor the secret.
#[derive(Clone, Copy)]
pub struct Update<'a> {
    /// Whether the request method is `POST`.
    pub is_post: bool,
    /// The `csrfToken` from the request body.
    pub csrf_token: &'a str,
    /// The `data` JSON from the request body, if any.
    pub data: Option<&'a [u8]>,
    /// The secret the CSRF hash uses (`AUTH_SECRET`; several secrets comma-joined, as Auth.js
    /// interpolates an array).
    pub csrf_secret: &'a str,
}

impl fmt::Debug for Update<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Update")
            .field("is_post", &self.is_post)
            .field("data_len", &self.data.map(<[u8]>::len))
            .finish_non_exhaustive()
    }
}

/// The session pipeline over a token codec.
#[derive(Debug, Clone)]
pub struct Engine<K> {
    config: Config,
    codec: K,
}

/// A decoded session waiting for the rest of the pipeline.
#[derive(Debug)]
struct OpenSession<'b, T> {
    token: T,
    present: Vec<ChunkName, { cookie::MAX_CHUNKS }>,
    bufs: Buffers<'b>,
}

#[derive(Debug)]
enum Opened<'b, T> {
    Done(Response<'b>),
    Token(OpenSession<'b, T>),
}

/// What a read (or, with `update`, an update) passes to `jwt` besides the token.
fn read_params<'a>(now_ms: i64, update: Option<&Update<'a>>) -> JwtParams<'a> {
    JwtParams {
        trigger: if update.is_some() {
            Trigger::Update
        } else {
            Trigger::Session
        },
        now: seconds(now_ms),
        user: None,
        account: None,
        profile: None,
        is_new_user: None,
        session: update.and_then(|u| u.data),
    }
}

/// Splits `now_ms` into whole seconds (floor) for token claims.
const fn seconds(now_ms: i64) -> i64 {
    now_ms.div_euclid(1000)
}

impl<K: TokenCodec> Engine<K> {
    /// A pipeline with `config` and `codec`.
    pub const fn new(config: Config, codec: K) -> Self {
        Self { config, codec }
    }

    /// The configuration.
    pub const fn config(&self) -> &Config {
        &self.config
    }

    /// The codec.
    pub const fn codec(&self) -> &K {
        &self.codec
    }

    /// Sign-in: runs `jwt` with the sign-in (or sign-up) trigger on the initial token, encodes
    /// it and emits the session cookies. `cookie_header` is the request's `Cookie` header, so
    /// that chunks of an older session are replaced or deleted.
    ///
    /// # Errors
    ///
    /// [`SessionError`]; a failing callback is [`SessionError::Callback`] (Auth.js redirects to
    /// its error page).
    pub fn sign_in<'b, C: Callbacks>(
        &self,
        callbacks: &mut C,
        sign_in: &SignIn<'_>,
        cookie_header: &[u8],
        now_ms: i64,
        rng: &mut dyn RandomSource,
        bufs: Buffers<'b>,
    ) -> Result<Response<'b>, SessionError> {
        let now = seconds(now_ms);
        let present = self.present_chunks(cookie_header);
        let token = callbacks
            .initial_token(&sign_in.user)
            .map_err(SessionError::Callback)?;
        let trigger = if sign_in.is_new_user == Some(true) {
            Trigger::SignUp
        } else {
            Trigger::SignIn
        };
        let params = JwtParams {
            trigger,
            now,
            user: Some(&sign_in.user),
            account: sign_in.account.as_ref(),
            profile: sign_in.profile,
            is_new_user: sign_in.is_new_user,
            session: None,
        };
        let token = callbacks
            .jwt(token, &params)
            .map_err(SessionError::Callback)?;
        let Buffers {
            token: token_buf,
            scratch,
            body,
            cookies,
        } = bufs;
        let Some(token) = token else {
            return self.clear(&present, Some(Dropped::Ended), cookies);
        };
        let max_age = i64::from(self.config.sign_in_jwt_max_age());
        let stamp = Stamp::new(now, max_age, rng).map_err(SessionError::Encode)?;
        let value = self.encode(&token, &stamp, rng, scratch, token_buf)?;
        let expires = now_ms.saturating_add(i64::from(self.config.max_age) * 1000);
        let expires_iso = iso(expires)?;
        let session = callbacks
            .session(&token, expires_iso.as_str())
            .map_err(SessionError::Callback)?;
        let body = write_body(&session, body)?;
        self.respond(value, &present, seconds(expires), body, cookies)
    }

    /// Session read (`GET {basePath}/session`, `auth()`, middleware).
    ///
    /// # Errors
    ///
    /// [`SessionError`] for buffer, encoding or cookie-writing failures only: a bad token is a
    /// response with no session (see [`Response::dropped`]).
    pub fn session<'b, C: Callbacks>(
        &self,
        callbacks: &mut C,
        cookie_header: &[u8],
        now_ms: i64,
        rng: &mut dyn RandomSource,
        bufs: Buffers<'b>,
    ) -> Result<Response<'b>, SessionError> {
        self.read(callbacks, cookie_header, now_ms, None, rng, bufs)
    }

    /// Update (`POST {basePath}/session` with `{csrfToken, data}`): the CSRF double-submit check
    /// (AUTHJS.md §5.5), then a session read with the `Update` trigger and `data` passed to `jwt`.
    /// A failed CSRF check answers 400 with the empty body and no cookies.
    ///
    /// # Errors
    ///
    /// As [`Self::session`], and [`SessionError::BufferTooSmall`] for `bufs.scratch` when it
    /// cannot hold the decoded CSRF cookie, whatever its length (any `token|hash` whose hash
    /// matches is accepted, as in Auth.js, so the check's answer does not depend on the buffer
    /// size).
    pub fn update<'b, C: Callbacks>(
        &self,
        callbacks: &mut C,
        cookie_header: &[u8],
        update: &Update<'_>,
        now_ms: i64,
        rng: &mut dyn RandomSource,
        bufs: Buffers<'b>,
    ) -> Result<Response<'b>, SessionError> {
        if !self.csrf_ok(cookie_header, update, bufs.scratch)? {
            return Ok(Response {
                status: 400,
                body: self.config.empty_body(),
                authenticated: false,
                dropped: None,
                cookies: "",
                ends: Vec::new(),
            });
        }
        self.read(callbacks, cookie_header, now_ms, Some(update), rng, bufs)
    }

    /// Sign-out: deletes every session cookie chunk present.
    ///
    /// No CSRF check is made here. Auth.js's `POST {basePath}/signout` acts only with a
    /// verified CSRF token (else it redirects to `/signout?csrf=true`); a caller serving that
    /// endpoint to browsers checks it first with [`Self::verify_csrf`], as [`Self::update`]
    /// does.
    ///
    /// # Errors
    ///
    /// [`SessionError::BufferTooSmall`] or [`SessionError::Cookie`].
    pub fn sign_out<'b>(
        &self,
        cookie_header: &[u8],
        bufs: Buffers<'b>,
    ) -> Result<Response<'b>, SessionError> {
        let present = self.present_chunks(cookie_header);
        self.clear(&present, None, bufs.cookies)
    }

    /// The CSRF token for this client (`GET {basePath}/csrf` answers `{"csrfToken": token}`),
    /// setting the CSRF cookie when the request has none or an invalid one, as Auth.js's `init`
    /// does on every request. The token is 32 random bytes in hex; the cookie value is
    /// `token|sha256(token + secret)` (percent-encoded), with `__Host-` in secure mode.
    ///
    /// # Errors
    ///
    /// [`SessionError::Encode`] when `rng` fails, [`SessionError::BufferTooSmall`] for `out`
    /// (the cookie needs about 220 bytes) or for `scratch` when it cannot hold the request's
    /// decoded CSRF cookie (129 bytes for one this method wrote; the raw value's length always
    /// suffices), whatever that cookie's length: a cookie is kept or replaced by what it
    /// holds, never by the buffer size.
    pub fn csrf<'o>(
        &self,
        cookie_header: &[u8],
        csrf_secret: &str,
        rng: &mut dyn RandomSource,
        scratch: &mut [u8],
        out: &'o mut [u8],
    ) -> Result<Csrf<'o>, SessionError> {
        let name = self.config.csrf_cookie_name();
        // An existing valid cookie is kept.
        if let Some(c) = cookie::get(cookie_header, name) {
            if let Ok(value) = core::str::from_utf8(csrf_value(&c, scratch)?) {
                if let Some(token) = cookie::csrf_token_from_cookie(value, csrf_secret) {
                    let mut t = [0u8; cookie::CSRF_TOKEN_LEN];
                    if token.len() == t.len() {
                        t.copy_from_slice(token.as_bytes());
                        return Ok(Csrf {
                            token: t,
                            set_cookie: None,
                        });
                    }
                }
            }
        }
        let mut random = [0u8; cookie::CSRF_RANDOM_LEN];
        rng.fill_bytes(&mut random)
            .map_err(|e| SessionError::Encode(e.into()))?;
        let mut value = [0u8; cookie::CSRF_COOKIE_VALUE_LEN];
        let value = cookie::csrf_cookie_value(&random, csrf_secret, &mut value);
        let mut token = [0u8; cookie::CSRF_TOKEN_LEN];
        token.copy_from_slice(
            value
                .as_bytes()
                .get(..cookie::CSRF_TOKEN_LEN)
                .unwrap_or(&[0; 64]),
        );
        let set = cookie::write_set_cookie(name, value, &self.config.cookie_options(), out)
            .map_err(|e| match e {
                CookieError::BufferTooSmall { needed } => SessionError::BufferTooSmall {
                    buffer: BufferKind::Cookies,
                    needed,
                },
                e => SessionError::Cookie(e),
            })?;
        Ok(Csrf {
            token,
            set_cookie: Some(set),
        })
    }

    /// Whether the request's CSRF cookie and token check out; an error only when `scratch`
    /// is too small for a cookie that could be valid.
    fn csrf_ok(
        &self,
        cookie_header: &[u8],
        update: &Update<'_>,
        scratch: &mut [u8],
    ) -> Result<bool, SessionError> {
        self.verify_csrf(
            cookie_header,
            update.csrf_token,
            update.csrf_secret,
            update.is_post,
            scratch,
        )
    }

    /// Auth.js's double-submit CSRF check for a state-changing request (`POST
    /// {basePath}/signout`, `/signin`, `/callback/credentials`, and the session update, which
    /// [`Self::update`] checks itself): the request's CSRF cookie
    /// ([`Config::csrf_cookie_name`], percent-decoded into `scratch`) must be
    /// `token|sha256(token + secret)` with `token` equal to the body's `csrfToken`, and the
    /// method must be `POST`. `Ok(false)` for a missing, malformed or mismatching cookie or
    /// token; the caller answers as Auth.js does (sign-out: a redirect to
    /// `/signout?csrf=true`).
    ///
    /// # Errors
    ///
    /// [`SessionError::BufferTooSmall`] (`Scratch`) when `scratch` is shorter than the decoded
    /// cookie value (the raw value's length is always enough): the answer never depends on
    /// the buffer size.
    pub fn verify_csrf(
        &self,
        cookie_header: &[u8],
        csrf_token: &str,
        csrf_secret: &str,
        is_post: bool,
        scratch: &mut [u8],
    ) -> Result<bool, SessionError> {
        let Some(c) = cookie::get(cookie_header, self.config.csrf_cookie_name()) else {
            return Ok(false);
        };
        let Ok(value) = core::str::from_utf8(csrf_value(&c, scratch)?) else {
            return Ok(false);
        };
        Ok(cookie::verify_csrf(value, csrf_token, csrf_secret, is_post))
    }

    /// The session cookie chunks of the request to delete or overwrite: the first
    /// [`MAX_DELETED_CHUNKS`] distinct ones with a value (Auth.js only tracks those). More
    /// than can be read back is no error here: they are what a clear must delete.
    fn present_chunks(&self, cookie_header: &[u8]) -> Vec<ChunkName, MAX_DELETED_CHUNKS> {
        let base = self.config.session_cookie_name();
        let mut present = Vec::new();
        for c in cookie::parse(cookie_header) {
            let Some(chunk) = ChunkName::parse(c.name(), base) else {
                continue;
            };
            if c.raw_value().is_empty() || present.contains(&chunk) {
                continue;
            }
            if present.push(chunk).is_err() {
                break;
            }
        }
        present
    }

    fn read<'b, C: Callbacks>(
        &self,
        callbacks: &mut C,
        cookie_header: &[u8],
        now_ms: i64,
        update: Option<&Update<'_>>,
        rng: &mut dyn RandomSource,
        bufs: Buffers<'b>,
    ) -> Result<Response<'b>, SessionError> {
        self.open_with(
            cookie_header,
            now_ms,
            bufs,
            |response| response,
            |token, present, bufs| {
                // `jwt` runs here, on the token where it was decoded.
                let kept = callbacks.jwt(token, &read_params(now_ms, update));
                self.write_kept(callbacks, &kept, &present, now_ms, rng, bufs)
            },
        )
    }

    /// Steps 1–2: reassemble and decode. A missing or bad token is already the answer.
    fn open<'b, T: serde::de::DeserializeOwned>(
        &self,
        cookie_header: &[u8],
        now_ms: i64,
        bufs: Buffers<'b>,
    ) -> Result<Opened<'b, T>, SessionError> {
        self.open_with(
            cookie_header,
            now_ms,
            bufs,
            Opened::Done,
            |token, present, bufs| {
                Ok(Opened::Token(OpenSession {
                    token,
                    present,
                    bufs,
                }))
            },
        )
    }

    /// [`Self::open`], handing the decoded token, the chunks present and the buffers to `then`
    /// right where the token was decoded, so that a read can run `jwt` on it there: the token
    /// (hundreds of bytes with fixed-capacity strings) is not moved through an
    /// [`OpenSession`], an [`Opened`] and a `Result` first. `done` wraps a response that is
    /// already the answer.
    #[inline(always)]
    fn open_with<'b, T: serde::de::DeserializeOwned, R>(
        &self,
        cookie_header: &[u8],
        now_ms: i64,
        bufs: Buffers<'b>,
        done: impl FnOnce(Response<'b>) -> R,
        then: impl FnOnce(
            T,
            Vec<ChunkName, { cookie::MAX_CHUNKS }>,
            Buffers<'b>,
        ) -> Result<R, SessionError>,
    ) -> Result<R, SessionError> {
        let Buffers {
            token: token_buf,
            scratch,
            body,
            cookies,
        } = bufs;
        let base = self.config.session_cookie_name();
        match cookie::reassemble(cookie_header, base, token_buf) {
            // No session cookie (Auth.js ignores empty chunks): empty body, no cookies.
            Ok(r) if r.is_empty() => self.clear(&[], None, cookies).map(done),
            Ok(r) => {
                let present: Vec<ChunkName, { cookie::MAX_CHUNKS }> =
                    Vec::from_slice(r.present()).unwrap_or_default();
                match self.codec.decode::<T>(r.value(), seconds(now_ms), scratch) {
                    Ok(d) => then(
                        d.claims,
                        present,
                        Buffers {
                            token: token_buf,
                            scratch,
                            body,
                            cookies,
                        },
                    ),
                    // The caller's scratch is too small: that is not the token's fault, so the
                    // session (and the user's cookie) must survive it.
                    Err(DecodeError::BufferTooSmall { needed }) => {
                        Err(SessionError::BufferTooSmall {
                            buffer: BufferKind::Scratch,
                            needed,
                        })
                    }
                    Err(e) => self
                        .clear(&present, Some(Dropped::Invalid(e)), cookies)
                        .map(done),
                }
            }
            // Likewise a token buffer too small for the cookie.
            Err(CookieError::BufferTooSmall { needed }) => Err(SessionError::BufferTooSmall {
                buffer: BufferKind::Token,
                needed,
            }),
            Err(e) => {
                let present = self.present_chunks(cookie_header);
                self.clear(&present, Some(Dropped::Unreadable(e)), cookies)
                    .map(done)
            }
        }
    }

    /// Steps 3–5: `jwt`, `session`, re-encode with a sliding expiry, cookies.
    fn complete<'b, C: Callbacks>(
        &self,
        callbacks: &mut C,
        open: OpenSession<'b, C::Token>,
        now_ms: i64,
        update: Option<&Update<'_>>,
        rng: &mut dyn RandomSource,
    ) -> Result<Response<'b>, SessionError> {
        let OpenSession {
            token,
            present,
            bufs,
        } = open;
        let kept = callbacks.jwt(token, &read_params(now_ms, update));
        self.write_kept(callbacks, &kept, &present, now_ms, rng, bufs)
    }

    /// Steps 4–5 after `jwt` answered `kept`: the session and its cookies, or, when `jwt` ended
    /// the session or failed, the cookies cleared. Takes the answer by reference, so that the
    /// token stays where `jwt` returned it.
    fn write_kept<'b, C: Callbacks>(
        &self,
        callbacks: &mut C,
        kept: &Result<Option<C::Token>, CallbackError>,
        present: &[ChunkName],
        now_ms: i64,
        rng: &mut dyn RandomSource,
        bufs: Buffers<'b>,
    ) -> Result<Response<'b>, SessionError> {
        let ended = match kept {
            Ok(Some(token)) => {
                return self.write_session(callbacks, token, present, now_ms, rng, bufs)
            }
            Ok(None) => Dropped::Ended,
            Err(e) => Dropped::Callback(*e),
        };
        self.clear(present, Some(ended), bufs.cookies)
    }

    /// [`Self::complete`], handing the token back with the error when `jwt` kept the session
    /// but the response could not be written (a buffer too small, the random source failed...),
    /// so that a refreshed credential is not lost with it.
    fn complete_keeping<'b, C: Callbacks>(
        &self,
        callbacks: &mut C,
        open: OpenSession<'b, C::Token>,
        now_ms: i64,
        update: Option<&Update<'_>>,
        rng: &mut dyn RandomSource,
    ) -> Result<Response<'b>, ResumeError<C::Token>> {
        let OpenSession {
            token,
            present,
            bufs,
        } = open;
        let ended = match callbacks.jwt(token, &read_params(now_ms, update)) {
            Ok(Some(token)) => {
                return match self.write_session(callbacks, &token, &present, now_ms, rng, bufs) {
                    Ok(response) => Ok(response),
                    Err(error) => Err(ResumeError {
                        error,
                        unfinished: Some(Unfinished { token, present }),
                    }),
                }
            }
            Ok(None) => Dropped::Ended,
            Err(e) => Dropped::Callback(e),
        };
        self.clear(&present, Some(ended), bufs.cookies)
            .map_err(|error| ResumeError {
                error,
                unfinished: None,
            })
    }

    /// Steps 4–5 for the token `jwt` returned: `session`, re-encode, cookies.
    fn write_session<'b, C: Callbacks>(
        &self,
        callbacks: &mut C,
        token: &C::Token,
        present: &[ChunkName],
        now_ms: i64,
        rng: &mut dyn RandomSource,
        bufs: Buffers<'b>,
    ) -> Result<Response<'b>, SessionError> {
        let Buffers {
            token: token_buf,
            scratch,
            body,
            cookies,
        } = bufs;
        let expires = now_ms.saturating_add(i64::from(self.config.max_age) * 1000);
        let expires_iso = iso(expires)?;
        let body = match callbacks.session(token, expires_iso.as_str()) {
            Ok(session) => write_body(&session, body)?,
            Err(e) => return self.clear(present, Some(Dropped::Callback(e)), cookies),
        };
        let stamp = Stamp::new(
            seconds(now_ms),
            i64::from(self.config.read_jwt_max_age()),
            rng,
        )
        .map_err(SessionError::Encode)?;
        let value = self.encode(token, &stamp, rng, scratch, token_buf)?;
        self.respond(value, present, seconds(expires), body, cookies)
    }

    fn encode<'t, T: serde::Serialize>(
        &self,
        token: &T,
        stamp: &Stamp,
        rng: &mut dyn RandomSource,
        scratch: &mut [u8],
        out: &'t mut [u8],
    ) -> Result<&'t str, SessionError> {
        let out_len = out.len();
        self.codec
            .encode(token, stamp, rng, scratch, out)
            .map_err(|e| match e {
                EncodeError::ScratchTooSmall { needed } => SessionError::BufferTooSmall {
                    buffer: BufferKind::Scratch,
                    needed,
                },
                // The token goes to out. (A codec of the caller's that reports a scratch it
                // found too small this way is told apart by size: when out was big enough, it
                // was scratch that was not.)
                EncodeError::BufferTooSmall { needed } => SessionError::BufferTooSmall {
                    buffer: if needed > out_len {
                        BufferKind::Token
                    } else {
                        BufferKind::Scratch
                    },
                    needed,
                },
                e => SessionError::Encode(e),
            })
    }

    fn respond<'b>(
        &self,
        value: &str,
        present: &[ChunkName],
        expires: i64,
        body: &'b str,
        cookies: &'b mut [u8],
    ) -> Result<Response<'b>, SessionError> {
        // A value of more chunks than a read reassembles could not be read back.
        let chunk_size = self.config.flavor.chunk_size();
        if cookie::chunk_count(value, chunk_size).map_err(SessionError::Cookie)?
            > cookie::MAX_CHUNKS
        {
            return Err(SessionError::Cookie(CookieError::TooManyChunks {
                max: cookie::MAX_CHUNKS,
            }));
        }
        let writer = SessionCookieWriter::<MAX_DELETED_CHUNKS>::new(
            self.config.session_cookie_name(),
            value,
            chunk_size,
            present,
            &self.config.cookie_options(),
            Some(expires),
        )
        .map_err(SessionError::Cookie)?;
        let (cookies, ends) = write_cookies(writer, cookies)?;
        Ok(Response {
            status: 200,
            body,
            authenticated: true,
            dropped: None,
            cookies,
            ends,
        })
    }

    fn clear<'b>(
        &self,
        present: &[ChunkName],
        dropped: Option<Dropped>,
        cookies: &'b mut [u8],
    ) -> Result<Response<'b>, SessionError> {
        let writer = SessionCookieWriter::<MAX_DELETED_CHUNKS>::clear(
            self.config.session_cookie_name(),
            present,
            &self.config.cookie_options(),
        )
        .map_err(SessionError::Cookie)?;
        let (cookies, ends) = write_cookies(writer, cookies)?;
        Ok(Response {
            status: 200,
            body: self.config.empty_body(),
            authenticated: false,
            dropped,
            cookies,
            ends,
        })
    }
}

/// The CSRF cookie's decoded value (in `scratch` when it has escapes).
///
/// Any length can be valid: Auth.js accepts every `token|hash` whose hash matches (AUTHJS.md
/// §5.5), so a `scratch` too small for the decoded value is the caller's error, whatever the
/// value's length, and the check's answer never depends on the buffer size. Before, a value
/// longer than [`cookie::CSRF_COOKIE_VALUE_LEN`] was taken for a bad cookie when it did not
/// fit (an update answered 400 that a larger scratch let through).
fn csrf_value<'a>(
    c: &cookie::RequestCookie<'a>,
    scratch: &'a mut [u8],
) -> Result<&'a [u8], SessionError> {
    c.decode_into(scratch).map_err(|e| match e {
        CookieError::BufferTooSmall { needed } => SessionError::BufferTooSmall {
            buffer: BufferKind::Scratch,
            needed,
        },
        // `decode_into` reports no other error.
        e => SessionError::Cookie(e),
    })
}

fn write_cookies<'b, const N: usize>(
    mut writer: SessionCookieWriter<'_, N>,
    out: &'b mut [u8],
) -> Result<(&'b str, Vec<u32, MAX_SET_COOKIES>), SessionError> {
    let mut ends = Vec::new();
    let mut at = 0usize;
    loop {
        let rest = out.get_mut(at..).unwrap_or_default();
        // Lengths only: the headers are viewed as text once, all together, below.
        match writer.write_next_len(rest) {
            Ok(Some(len)) => {
                at += len;
                let end = u32::try_from(at).map_err(|_| SessionError::BufferTooSmall {
                    buffer: BufferKind::Cookies,
                    needed: at,
                })?;
                ends.push(end).map_err(|_| {
                    SessionError::Cookie(CookieError::TooManyChunks {
                        max: MAX_SET_COOKIES,
                    })
                })?;
            }
            Ok(None) => break,
            Err(CookieError::BufferTooSmall { needed }) => {
                // What is written plus a bound on everything still to write.
                let rest = writer
                    .max_len()
                    .unwrap_or(needed)
                    .saturating_mul(writer.remaining());
                return Err(SessionError::BufferTooSmall {
                    buffer: BufferKind::Cookies,
                    needed: at.saturating_add(rest.max(needed)),
                });
            }
            Err(e) => return Err(SessionError::Cookie(e)),
        }
    }
    let out: &'b [u8] = out;
    let text = core::str::from_utf8(out.get(..at).unwrap_or_default()).unwrap_or("");
    Ok((text, ends))
}

fn write_body<'b, S: serde::Serialize>(
    session: &S,
    body: &'b mut [u8],
) -> Result<&'b str, SessionError> {
    let n = json::to_slice(session, body).map_err(|e| match e {
        json::Error::BufferTooSmall { needed } => SessionError::BufferTooSmall {
            buffer: BufferKind::Body,
            needed,
        },
        e => SessionError::Session(e),
    })?;
    let body: &'b [u8] = body;
    core::str::from_utf8(body.get(..n).unwrap_or_default())
        .map_err(|_| SessionError::Session(json::Error::Unsupported))
}

/// An ISO 8601 timestamp with milliseconds, held inline.
struct Iso {
    buf: [u8; time::ISO8601_MILLIS_LEN],
}

impl Iso {
    fn as_str(&self) -> &str {
        core::str::from_utf8(&self.buf).unwrap_or("")
    }
}

fn iso(unix_millis: i64) -> Result<Iso, SessionError> {
    let mut buf = [0u8; time::ISO8601_MILLIS_LEN];
    time::write_iso8601_millis(unix_millis, &mut buf).map_err(|_| SessionError::Time)?;
    Ok(Iso { buf })
}

/// What the database strategy does with a stored session (AUTHJS.md §3.3, §4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatabaseDecision {
    /// `expires < now`: delete the session row and clear the cookie.
    Delete,
    /// Due for the throttled write: `updateSession({expires})` with this new expiry (Unix ms).
    Extend {
        /// The new expiry, `now + maxAge`, in Unix milliseconds.
        expires_ms: i64,
    },
    /// Leave the row alone (the cookie is still re-set with `Expires = now + maxAge`).
    Keep,
}

/// The database strategy's expiry rule as a pure function: with the row's stored `expires`
/// (Unix ms), delete it when `expires < now`; otherwise extend it when
/// `expires - maxAge + updateAge <= now`; otherwise leave it. `update_age == 0` extends on every
/// read.
#[must_use]
pub const fn database_expiry(
    stored_expires_ms: i64,
    now_ms: i64,
    max_age: u32,
    update_age: u32,
) -> DatabaseDecision {
    if stored_expires_ms < now_ms {
        return DatabaseDecision::Delete;
    }
    let max_age_ms = max_age as i64 * 1000;
    let due = stored_expires_ms
        .saturating_sub(max_age_ms)
        .saturating_add(update_age as i64 * 1000);
    if due <= now_ms {
        DatabaseDecision::Extend {
            expires_ms: now_ms.saturating_add(max_age_ms),
        }
    } else {
        DatabaseDecision::Keep
    }
}
