//! The refresh state machine.

use core::fmt;

use heapless::{Deque, String};

use super::config::Config;
use super::request::{self, Client, Request, RequestError};
use super::response::{self, ErrorCode, JsonStr, OAuthError, ResponseError, TokenResponse, Tokens};

/// The value Auth.js puts in `token.error` / `session.error` after a failed refresh.
pub const REFRESH_TOKEN_ERROR: &str = "RefreshTokenError";

/// Events kept between two [`RefreshMachine::poll_event`] calls; older ones are dropped first.
pub const EVENT_QUEUE_LEN: usize = 4;

/// Capacity of [`RefreshMachine::token_type`]; the only accepted type, `Bearer`, always fits.
pub const TOKEN_TYPE_CAPACITY: usize = 32;

/// An HTTP response from the token endpoint, as the machine needs it (the body may hold
/// tokens: `Debug` prints only its length).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct HttpResponse<'a> {
    /// The status code.
    pub status: u16,
    /// `Retry-After` in seconds, when the header was present as delta-seconds.
    pub retry_after: Option<u32>,
    /// The body (dechunked).
    pub body: &'a [u8],
}

impl fmt::Debug for HttpResponse<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpResponse")
            .field("status", &self.status)
            .field("retry_after", &self.retry_after)
            .field("body_len", &self.body.len())
            .finish()
    }
}

/// A request that got no usable response.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportFailure {
    /// The request never fully left: connection refused, DNS or TLS handshake failure, a write
    /// that failed before the whole body was written. The refresh token was not used.
    NotSent,
    /// The request was sent but no complete response came back (timeout, reset, garbled
    /// response). The server may or may not have used the refresh token.
    NoResponse,
    /// A 2xx status came back but the rest of the response was lost (larger than the buffer,
    /// cut off, timed out, unreadable framing). The server has used the refresh token and may have rotated it into that body:
    /// handled as a 2xx response with an unusable body
    /// ([`RefreshError::BadResponse`]`(`[`ResponseError::Unreadable`]`)`, terminal), so the old
    /// token is not sent again.
    UnreadableSuccess,
}

/// Where the current credential stands.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// No credential: sign in first.
    Empty,
    /// Usable; no refresh needed yet.
    Fresh,
    /// Usable; a refresh should start (callers are not blocked).
    Advisory,
    /// Not handed out any more: callers wait for the refresh (or sign in again after a terminal
    /// failure).
    Mandatory,
    /// Past `expires_at`.
    Expired,
    /// A request is in flight; [`RefreshMachine::access_token`] says whether the current token
    /// may still be used meanwhile.
    Refreshing,
}

/// Why [`RefreshMachine::access_token`] returned no token.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotUsable {
    /// There is no credential.
    Empty,
    /// The token is in its mandatory window: wait for the refresh.
    RefreshRequired {
        /// When the token expires.
        expires_at: i64,
    },
    /// The token has expired; a refresh may still recover.
    Expired {
        /// When the token expired.
        expires_at: i64,
        /// The time given.
        now: i64,
    },
    /// The token is unusable and refresh has failed for good: sign in again.
    SignInRequired,
}

impl NotUsable {
    /// Stable snake_case name of the reason.
    pub const fn kind(&self) -> &'static str {
        match self {
            Self::Empty => "empty",
            Self::RefreshRequired { .. } => "refresh_required",
            Self::Expired { .. } => "expired",
            Self::SignInRequired => "sign_in_required",
        }
    }
}

impl fmt::Display for NotUsable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("no access token"),
            Self::RefreshRequired { expires_at } => {
                write!(
                    f,
                    "access token expires at {expires_at}: wait for the refresh"
                )
            }
            Self::Expired { expires_at, now } => {
                write!(f, "access token expired at {expires_at} (now {now})")
            }
            Self::SignInRequired => f.write_str("refresh failed for good: sign in again"),
        }
    }
}

impl core::error::Error for NotUsable {}

/// Why a refresh attempt failed.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshError {
    /// The server answered with an OAuth error code (whatever the status, 200 included).
    OAuth {
        /// The code.
        code: OAuthError,
        /// The HTTP status it came with.
        status: u16,
    },
    /// A non-2xx status without a usable OAuth error body.
    Status {
        /// The HTTP status.
        status: u16,
    },
    /// A 2xx response whose body is unusable. Terminal: the server may have rotated the
    /// refresh token, so it is not sent again. A valid rotated refresh token that fits, in a
    /// body that is still a whole JSON object without `error` (refused for another member:
    /// `expires_in`, `access_token`, a repeated member...), is kept:
    /// [`RefreshMachine::refresh_token`] is then the new one.
    BadResponse(ResponseError),
    /// The new access token is longer than the machine's capacity. Terminal; the old access
    /// token is kept, and so is a rotated refresh token that fits (the old one may be spent):
    /// [`RefreshMachine::refresh_token`] is then the new one.
    AccessTokenTooLarge {
        /// Unescaped length.
        len: usize,
        /// Capacity (`AT`).
        capacity: usize,
    },
    /// The new refresh token is longer than the machine's capacity. Terminal; old state kept.
    RefreshTokenTooLarge {
        /// Unescaped length.
        len: usize,
        /// Capacity (`RT`).
        capacity: usize,
    },
    /// The request never left. Transient.
    NotSent,
    /// No response to the first send of this refresh token; it is sent once more at once.
    NoResponse,
    /// No response to the resend either. Terminal: the refresh token is not sent a third time.
    NoResponseAfterRetry,
    /// A refresh is due but there is no refresh token (the Auth.js guide's error path).
    NoRefreshToken,
}

impl RefreshError {
    /// Whether the user must sign in again (no further refresh is attempted).
    pub const fn is_terminal(&self) -> bool {
        match self {
            Self::OAuth { code, status } => code.is_terminal(*status),
            Self::Status { status } => matches!(status, 400 | 401 | 403),
            Self::NotSent | Self::NoResponse => false,
            Self::BadResponse(_)
            | Self::AccessTokenTooLarge { .. }
            | Self::RefreshTokenTooLarge { .. }
            | Self::NoResponseAfterRetry
            | Self::NoRefreshToken => true,
        }
    }

    /// Stable snake_case name of the error.
    pub const fn kind(&self) -> &'static str {
        match self {
            Self::OAuth { .. } => "oauth_error",
            Self::Status { .. } => "bad_status",
            Self::BadResponse(_) => "bad_response",
            Self::AccessTokenTooLarge { .. } => "access_token_too_large",
            Self::RefreshTokenTooLarge { .. } => "refresh_token_too_large",
            Self::NotSent => "not_sent",
            Self::NoResponse => "no_response",
            Self::NoResponseAfterRetry => "no_response_after_retry",
            Self::NoRefreshToken => "no_refresh_token",
        }
    }
}

impl fmt::Display for RefreshError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::OAuth { code, status } => {
                write!(f, "token endpoint returned error {code} (status {status})")
            }
            Self::Status { status } => write!(f, "token endpoint returned status {status}"),
            Self::BadResponse(e) => write!(f, "unusable token response: {e}"),
            Self::AccessTokenTooLarge { len, capacity } => {
                write!(f, "access token of {len} bytes exceeds capacity {capacity}")
            }
            Self::RefreshTokenTooLarge { len, capacity } => {
                write!(
                    f,
                    "refresh token of {len} bytes exceeds capacity {capacity}"
                )
            }
            Self::NotSent => f.write_str("refresh request was not sent"),
            Self::NoResponse => f.write_str("no response to the refresh request"),
            Self::NoResponseAfterRetry => f.write_str("no response to the refresh request twice"),
            Self::NoRefreshToken => f.write_str("refresh due but no refresh token"),
        }
    }
}

impl core::error::Error for RefreshError {}

/// Caller misuse of the machine (as opposed to bad input from the network).
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HandleError {
    /// `handle_response`/`handle_transport_error` without a request in flight.
    NoRequestInFlight,
}

impl HandleError {
    /// Stable snake_case name of the error.
    pub const fn kind(&self) -> &'static str {
        match self {
            Self::NoRequestInFlight => "no_request_in_flight",
        }
    }
}

impl fmt::Display for HandleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoRequestInFlight => f.write_str("no refresh request is in flight"),
        }
    }
}

impl core::error::Error for HandleError {}

/// Why [`RefreshMachine::set_credential`] refused a credential.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialError {
    /// The access token is longer than `AT`.
    AccessTokenTooLarge {
        /// Its length.
        len: usize,
        /// Capacity (`AT`).
        capacity: usize,
    },
    /// The refresh token is longer than `RT`.
    RefreshTokenTooLarge {
        /// Its length.
        len: usize,
        /// Capacity (`RT`).
        capacity: usize,
    },
    /// A token is empty or has a character outside `%x20-7E`.
    InvalidToken,
}

impl CredentialError {
    /// Stable snake_case name of the error.
    pub const fn kind(&self) -> &'static str {
        match self {
            Self::AccessTokenTooLarge { .. } => "access_token_too_large",
            Self::RefreshTokenTooLarge { .. } => "refresh_token_too_large",
            Self::InvalidToken => "invalid_token",
        }
    }
}

impl fmt::Display for CredentialError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::AccessTokenTooLarge { len, capacity } => {
                write!(f, "access token of {len} bytes exceeds capacity {capacity}")
            }
            Self::RefreshTokenTooLarge { len, capacity } => {
                write!(
                    f,
                    "refresh token of {len} bytes exceeds capacity {capacity}"
                )
            }
            Self::InvalidToken => f.write_str("token is empty or has invalid characters"),
        }
    }
}

impl core::error::Error for CredentialError {}

/// What happened, reported by [`RefreshMachine::poll_event`].
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// A new credential was committed. Persist it (see [`RefreshMachine::refresh_token`]).
    Refreshed {
        /// The new generation.
        generation: u32,
        /// The new expiry.
        expires_at: i64,
        /// Whether the server sent a new refresh token.
        rotated: bool,
        /// Whether the new expiry failed to move past the refresh window; the next attempt is
        /// backed off.
        stale: bool,
    },
    /// A refresh attempt failed; the old credential is unchanged.
    RefreshFailed {
        /// Why.
        error: RefreshError,
        /// No further attempt will be made: sign the user in again.
        terminal: bool,
        /// When the next attempt may start (`None` when terminal).
        retry_at: Option<i64>,
    },
    /// The access token expired before a refresh succeeded (reported once per credential).
    Expired {
        /// The expiry.
        expires_at: i64,
    },
}

/// Sans-IO refresh-token rotation for one credential.
///
/// The machine never reads a clock or does IO: every method that depends on time takes `now`
/// (Unix seconds), requests are written into caller buffers and responses are handed in as
/// bytes. `AT` and `RT` are the capacities of the access and refresh token in bytes, `SC` the
/// capacity of the granted [`scope`](Self::scope); nothing is allocated.
///
/// # Call order
///
/// 1. [`set_credential`](Self::set_credential) after sign-in (or after loading a stored one), or
///    [`set_refresh_token_only`](Self::set_refresh_token_only) when only a refresh token is known.
/// 2. Getters at any time: [`access_token`](Self::access_token) (never an expired token),
///    [`status`](Self::status), [`is_due`](Self::is_due), [`last_error`](Self::last_error),
///    [`last_error_code`](Self::last_error_code), [`session_error`](Self::session_error),
///    [`scope`](Self::scope), [`token_type`](Self::token_type).
/// 3. Drive it: sleep until [`poll_timeout`](Self::poll_timeout), then
///    [`handle_timeout`](Self::handle_timeout)`(now)`, then
///    [`poll_request`](Self::poll_request)`(now, client, buf)`. When it returns a request, send
///    it and hand back exactly one of [`handle_response`](Self::handle_response) or
///    [`handle_transport_error`](Self::handle_transport_error).
/// 4. Drain [`poll_event`](Self::poll_event) after every `handle_*` call.
/// 5. When a resource server answers 401 to the current token, call
///    [`handle_token_rejected`](Self::handle_token_rejected); to refresh on demand, call
///    [`handle_refresh_requested`](Self::handle_refresh_requested).
///
/// # Guarantees
///
/// - Single flight: `poll_request` returns nothing while a request is in flight.
/// - Never lose a token: a response is committed only once it is fully parsed and fits; the old
///   refresh token is kept when the server sends none. A 2xx answer that is not committed
///   still leaves its rotated refresh token in place of the old one, when that token is valid
///   and fits (see [`RefreshError::BadResponse`] and [`RefreshError::AccessTokenTooLarge`]).
/// - A refresh token is sent again only after a transient *error response* (the server refused
///   it without rotating) or, once, after a request that got no response at all.
/// - After a 2xx response the old refresh token is never sent again, even if the body was
///   unusable (the server may have rotated it): that failure is terminal. The one exception
///   is a 2xx whose body is an OAuth error response (`{"error": ...}`, RFC 6749 §5.2): the
///   server issued no token, so it is handled as that error (a transient code is retried).
/// - Requests are at least [`Config::min_refresh_interval`] apart after a success, except once
///   per generation after [`handle_token_rejected`](Self::handle_token_rejected), and never
///   twice in a row that way.
pub struct RefreshMachine<const AT: usize = 2048, const RT: usize = 512, const SC: usize = 256> {
    config: Config,
    /// Empty for a refresh-token-only credential.
    access_token: String<AT>,
    refresh_token: String<RT>,
    /// The granted scope (meaningful when `scope_state` is `Known`).
    scope: String<SC>,
    scope_state: ScopeState,
    token_type: Option<String<TOKEN_TYPE_CAPACITY>>,
    has_credential: bool,
    expires_at: i64,
    /// Lifetime of the current credential when it was committed (caps the margins).
    lifetime: i64,
    /// Seconds added to the advisory margin for this credential.
    jitter: u32,
    generation: u32,
    last_error: Option<RefreshError>,
    terminal: bool,
    in_flight: bool,
    /// Sends of the current refresh token that got no response.
    unanswered: u8,
    /// Consecutive transient failures.
    failures: u32,
    /// Consecutive stale (non-extending) successes.
    stale: u32,
    /// No attempt before this time (failure backoff, Retry-After, stale backoff).
    not_before: i64,
    /// No attempt before this time either ([`Config::min_refresh_interval`]), unless a
    /// rejection of the current generation lifts it.
    interval_until: i64,
    /// The generation whose rejection (HTTP 401) lifts `interval_until`.
    bypass_generation: Option<u32>,
    /// The request in flight was sent before `interval_until`, thanks to the bypass.
    sent_with_bypass: bool,
    /// The current generation came from such a request: its rejection does not lift the
    /// interval again.
    committed_with_bypass: bool,
    /// Raw code of the last OAuth error response (with `last_error`).
    last_error_code: Option<ErrorCode>,
    /// Refresh from this time on, whatever the windows say (token rejected upstream).
    forced_at: Option<i64>,
    /// The latest `now` an input gave ([`Self::observe_now`]).
    last_now: i64,
    expired_reported: bool,
    rng: u32,
    events: Deque<Event, EVENT_QUEUE_LEN>,
}

/// What is known of the granted scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ScopeState {
    /// No response has carried a scope since the credential was installed.
    Unknown,
    /// `scope` holds it.
    Known,
    /// The last scope received was longer than the capacity and was dropped.
    Dropped,
}

impl<const AT: usize, const RT: usize, const SC: usize> RefreshMachine<AT, RT, SC> {
    /// Like [`Self::new`], drawing the jitter seed from `random`.
    ///
    /// # Errors
    ///
    /// [`RandomError`](crate::rand::RandomError) when the source fails.
    pub fn with_random(
        config: Config,
        random: &mut impl crate::rand::RandomSource,
    ) -> Result<Self, crate::rand::RandomError> {
        let mut seed = [0u8; 4];
        random.fill_bytes(&mut seed)?;
        Ok(Self::new(config, u32::from_le_bytes(seed)))
    }

    /// An empty machine. `seed` feeds the jitter generator (xorshift32; jitter needs spread, not
    /// secrecy): pass 4 bytes from the platform's random source so devices spread their
    /// refreshes. Any value is safe.
    pub const fn new(config: Config, seed: u32) -> Self {
        Self {
            config,
            access_token: String::new(),
            refresh_token: String::new(),
            scope: String::new(),
            scope_state: ScopeState::Unknown,
            token_type: None,
            has_credential: false,
            expires_at: 0,
            lifetime: 0,
            jitter: 0,
            generation: 0,
            last_error: None,
            terminal: false,
            in_flight: false,
            unanswered: 0,
            failures: 0,
            stale: 0,
            not_before: i64::MIN,
            interval_until: i64::MIN,
            bypass_generation: None,
            sent_with_bypass: false,
            committed_with_bypass: false,
            last_error_code: None,
            forced_at: None,
            last_now: i64::MIN,
            expired_reported: false,
            // xorshift must not start at zero.
            rng: if seed == 0 { 0x9E37_79B9 } else { seed },
            events: Deque::new(),
        }
    }

    // ----- getters -----

    /// The configuration.
    pub const fn config(&self) -> &Config {
        &self.config
    }

    /// The access token, unless it is expired, in its mandatory window, or there is none.
    ///
    /// For a refresh-token-only credential ([`set_refresh_token_only`](Self::set_refresh_token_only))
    /// this is [`NotUsable::RefreshRequired`] (with `expires_at` the time it was installed)
    /// until a refresh succeeds, [`NotUsable::SignInRequired`] after a terminal failure.
    ///
    /// # Errors
    ///
    /// [`NotUsable`] says why and what to do.
    pub fn access_token(&self, now: i64) -> Result<&str, NotUsable> {
        if !self.has_credential {
            return Err(NotUsable::Empty);
        }
        let has_access_token = !self.access_token.is_empty();
        if has_access_token && now < self.mandatory_at() {
            return Ok(&self.access_token);
        }
        if self.terminal {
            Err(NotUsable::SignInRequired)
        } else if has_access_token && now >= self.expires_at {
            Err(NotUsable::Expired {
                expires_at: self.expires_at,
                now,
            })
        } else {
            Err(NotUsable::RefreshRequired {
                expires_at: self.expires_at,
            })
        }
    }

    /// The access token of the current credential whether or not it may be used now: what to
    /// persist after [`Event::Refreshed`] (a new token can arrive already inside its mandatory
    /// window, e.g. with `expires_in: 0`). Hand out only what
    /// [`access_token`](Self::access_token) returns. Secret: do not log it.
    pub fn committed_access_token(&self) -> Option<&str> {
        (self.has_credential && !self.access_token.is_empty()).then_some(&*self.access_token)
    }

    /// The refresh token, to persist after [`Event::Refreshed`], and after an
    /// [`Event::RefreshFailed`] when it changed (a rotated token kept from a 2xx answer that was
    /// not committed: [`RefreshError::AccessTokenTooLarge`], [`RefreshError::BadResponse`]).
    /// Secret: do not log it.
    pub fn refresh_token(&self) -> Option<&str> {
        (self.has_credential && !self.refresh_token.is_empty()).then_some(&*self.refresh_token)
    }

    /// The absolute expiry of the access token (Unix seconds).
    pub const fn expires_at(&self) -> Option<i64> {
        if self.has_credential {
            Some(self.expires_at)
        } else {
            None
        }
    }

    /// Incremented every time a credential is committed.
    pub const fn generation(&self) -> u32 {
        self.generation
    }

    /// The error of the last attempt, cleared by the next successful refresh or sign-in.
    pub const fn last_error(&self) -> Option<RefreshError> {
        self.last_error
    }

    /// The `error` code as the server sent it, when [`last_error`](Self::last_error) is an
    /// [`RefreshError::OAuth`]: lets callers report codes the machine files under
    /// [`OAuthError::Other`]. Unprintable (see [`ErrorCode`]) also when it contains the
    /// current access or refresh token.
    pub const fn last_error_code(&self) -> Option<ErrorCode> {
        self.last_error_code
    }

    /// The scope granted by the last successful response that carried one (RFC 6749 §5.1: a
    /// response without `scope` keeps it). `None` before any response carried one (a stored
    /// credential's scope is the caller's to keep), and when the last one received was longer
    /// than `SC` bytes or not a string: the tokens are still committed (a token is never lost
    /// over a scope) and [`scope_dropped`](Self::scope_dropped) says so.
    pub fn scope(&self) -> Option<&str> {
        (self.has_credential && self.scope_state == ScopeState::Known).then_some(&*self.scope)
    }

    /// Whether the last scope received was longer than `SC` bytes, or not a string (an array,
    /// a number…), and was dropped.
    pub fn scope_dropped(&self) -> bool {
        self.has_credential && self.scope_state == ScopeState::Dropped
    }

    /// The `token_type` of the last successful response as the server wrote it (`Bearer` in
    /// any case); `None` when that response had none, and for a credential installed with
    /// [`set_credential`](Self::set_credential) or
    /// [`set_refresh_token_only`](Self::set_refresh_token_only).
    pub fn token_type(&self) -> Option<&str> {
        self.token_type.as_deref().filter(|_| self.has_credential)
    }

    /// [`REFRESH_TOKEN_ERROR`] while the last refresh attempt has failed, for `token.error` and
    /// `session.error`; `None` again after a successful refresh (unlike the Auth.js guide,
    /// issue #7025).
    pub const fn session_error(&self) -> Option<&'static str> {
        if self.last_error.is_some() {
            Some(REFRESH_TOKEN_ERROR)
        } else {
            None
        }
    }

    /// Whether a request is in flight.
    pub const fn is_refreshing(&self) -> bool {
        self.in_flight
    }

    /// Whether refresh has failed for good.
    pub const fn is_terminal(&self) -> bool {
        self.terminal
    }

    /// The back-off streaks: consecutive transient failures, and consecutive successes that
    /// did not extend the expiry (stale answers). Each back-off doubles with its streak.
    ///
    /// For a caller that keeps the schedule outside the machine between uses (a session token
    /// read from scratch on every request, `session::refresh`): store these, and hand them back
    /// with [`continue_streaks`](Self::continue_streaks) after the next
    /// [`set_credential`](Self::set_credential), so that back-offs keep growing.
    pub const fn streaks(&self) -> (u32, u32) {
        (self.failures, self.stale)
    }

    /// Continues the back-off streaks of an earlier machine (see [`streaks`](Self::streaks)):
    /// `failures` transient failures and `stale` stale answers in a row have already happened,
    /// so the next ones wait longer. Call it after installing the credential, which resets them.
    pub fn continue_streaks(&mut self, failures: u32, stale: u32) {
        self.failures = failures;
        self.stale = stale;
    }

    /// When the next refresh may start as things stand (the advisory window with its jitter
    /// and the half-lifetime cap, any back-off, `Retry-After`, the minimum interval after a
    /// success); may be in the past. `None` when none will start without an input: no
    /// credential or refresh token, a request in flight, or a terminal failure.
    ///
    /// For a caller that keeps the schedule outside the machine between uses: after a
    /// success, this is the earliest time the next refresh should start.
    #[must_use]
    pub fn next_refresh_at(&self) -> Option<i64> {
        (self.has_credential && !self.terminal && !self.in_flight && !self.refresh_token.is_empty())
            .then(|| self.refresh_at())
    }

    /// Where the credential stands at `now`.
    pub fn status(&self, now: i64) -> Status {
        if !self.has_credential {
            Status::Empty
        } else if self.in_flight {
            Status::Refreshing
        } else if self.access_token.is_empty() {
            // Refresh-token-only: nothing to hand out until a refresh succeeds.
            Status::Mandatory
        } else if now >= self.expires_at {
            Status::Expired
        } else if now >= self.mandatory_at() {
            Status::Mandatory
        } else if now >= self.advisory_at() || self.forced_at.is_some_and(|t| now >= t) {
            Status::Advisory
        } else {
            Status::Fresh
        }
    }

    /// Whether [`poll_request`](Self::poll_request) would write a request at `now`: there is a
    /// refresh token, no request is in flight, refresh has not failed for good, the refresh
    /// window (or a rejection or request) has been reached, and no backoff or minimum interval
    /// holds it back.
    pub fn is_due(&self, now: i64) -> bool {
        self.has_credential
            && !self.terminal
            && !self.in_flight
            && !self.refresh_token.is_empty()
            && now >= self.refresh_at()
    }

    /// Bytes [`poll_request`](Self::poll_request) needs for `client` with the current refresh
    /// token.
    pub fn request_len(&self, client: &Client<'_>) -> usize {
        request::encoded_len(client, &self.refresh_token)
    }

    // ----- inputs -----

    /// Installs a credential (after sign-in, or loaded from storage), replacing everything.
    ///
    /// # Errors
    ///
    /// [`CredentialError`] when a token does not fit or has characters that cannot go into an
    /// HTTP header; the machine is unchanged then.
    pub fn set_credential(
        &mut self,
        now: i64,
        access_token: &str,
        refresh_token: Option<&str>,
        expires_at: i64,
    ) -> Result<(), CredentialError> {
        let valid = |t: &str| !t.is_empty() && t.bytes().all(|b| (0x20..=0x7E).contains(&b));
        if !valid(access_token) || !refresh_token.is_none_or(valid) {
            return Err(CredentialError::InvalidToken);
        }
        if access_token.len() > AT {
            return Err(CredentialError::AccessTokenTooLarge {
                len: access_token.len(),
                capacity: AT,
            });
        }
        let refresh_len = refresh_token.map_or(0, str::len);
        if refresh_len > RT {
            return Err(CredentialError::RefreshTokenTooLarge {
                len: refresh_len,
                capacity: RT,
            });
        }
        self.install(now, access_token, refresh_token.unwrap_or(""), expires_at);
        Ok(())
    }

    /// Installs a credential known only by its refresh token (a stored refresh token, a CLI),
    /// replacing everything: no access token is handed out, [`status`](Self::status) is
    /// [`Status::Mandatory`] and a refresh is due at once.
    ///
    /// # Errors
    ///
    /// [`CredentialError`] when the token does not fit or has characters that cannot go into
    /// an HTTP header; the machine is unchanged then.
    pub fn set_refresh_token_only(
        &mut self,
        now: i64,
        refresh_token: &str,
    ) -> Result<(), CredentialError> {
        if refresh_token.is_empty() || !refresh_token.bytes().all(|b| (0x20..=0x7E).contains(&b)) {
            return Err(CredentialError::InvalidToken);
        }
        if refresh_token.len() > RT {
            return Err(CredentialError::RefreshTokenTooLarge {
                len: refresh_token.len(),
                capacity: RT,
            });
        }
        self.install(now, "", refresh_token, now);
        // There is no access token to report as expired.
        self.expired_reported = true;
        Ok(())
    }

    /// Replaces the credential with checked tokens (`access_token` empty for a
    /// refresh-token-only credential).
    fn install(&mut self, now: i64, access_token: &str, refresh_token: &str, expires_at: i64) {
        self.access_token.clear();
        self.refresh_token.clear();
        // Lengths checked by the callers.
        let _ = self.access_token.push_str(access_token);
        let _ = self.refresh_token.push_str(refresh_token);
        self.scope.clear();
        self.scope_state = ScopeState::Unknown;
        self.token_type = None;
        self.has_credential = true;
        self.expires_at = expires_at;
        self.lifetime = expires_at.saturating_sub(now).max(0);
        self.jitter = self.draw(self.config.jitter_max);
        self.generation = self.generation.wrapping_add(1);
        self.last_error = None;
        self.last_error_code = None;
        self.terminal = false;
        self.in_flight = false;
        self.unanswered = 0;
        self.failures = 0;
        self.stale = 0;
        self.not_before = i64::MIN;
        self.interval_until = i64::MIN;
        self.bypass_generation = None;
        self.sent_with_bypass = false;
        self.committed_with_bypass = false;
        self.forced_at = None;
        self.expired_reported = false;
    }

    /// Forgets the credential (sign-out). Pending events are kept.
    pub fn clear(&mut self) {
        self.access_token.clear();
        self.refresh_token.clear();
        self.scope.clear();
        self.scope_state = ScopeState::Unknown;
        self.token_type = None;
        self.has_credential = false;
        self.in_flight = false;
        self.terminal = false;
        self.last_error = None;
        self.last_error_code = None;
        self.forced_at = None;
        self.bypass_generation = None;
    }

    /// Advances time: reports [`Event::Expired`] and [`RefreshError::NoRefreshToken`] when due.
    pub fn handle_timeout(&mut self, now: i64) {
        self.observe_now(now);
        if !self.has_credential {
            return;
        }
        if !self.expired_reported && now >= self.expires_at {
            self.expired_reported = true;
            self.push(Event::Expired {
                expires_at: self.expires_at,
            });
        }
        if self.refresh_token.is_empty()
            && !self.terminal
            && !self.in_flight
            && now >= self.refresh_at()
        {
            self.fail(now, RefreshError::NoRefreshToken, None);
        }
    }

    /// The resource server rejected the current access token (HTTP 401) at `now`: refresh as
    /// soon as backoff allows, whatever the expiry says.
    ///
    /// The 401 proves the token dead, so this also lifts [`Config::min_refresh_interval`] for
    /// the current [`generation`](Self::generation) (once: further calls change nothing).
    /// Failure backoff, `Retry-After` and the stale backoff still apply, a request in flight is
    /// never doubled, and a generation that itself came from such an early refresh does not
    /// lift the interval again: a resource server that rejects every token costs at most two
    /// token requests per interval. Report only rejections of the current generation (a 401 to
    /// a request sent with an older token says nothing about the new one).
    pub fn handle_token_rejected(&mut self, now: i64) {
        if !self.has_credential {
            return;
        }
        self.handle_refresh_requested(now);
        if !self.committed_with_bypass {
            self.bypass_generation = Some(self.generation);
        }
    }

    /// The caller wants a refresh now (`now`), whatever the expiry says: it starts as soon as
    /// backoff and [`Config::min_refresh_interval`] allow.
    pub fn handle_refresh_requested(&mut self, now: i64) {
        self.observe_now(now);
        if self.has_credential && self.forced_at.is_none() {
            self.forced_at = Some(now);
        }
    }

    /// Hands in the token endpoint's answer to the request from [`poll_request`](Self::poll_request).
    ///
    /// The result is reported through [`poll_event`](Self::poll_event).
    ///
    /// # Errors
    ///
    /// [`HandleError::NoRequestInFlight`] when no request was outstanding; nothing changes.
    pub fn handle_response(
        &mut self,
        now: i64,
        response: HttpResponse<'_>,
    ) -> Result<(), HandleError> {
        if !self.in_flight {
            return Err(HandleError::NoRequestInFlight);
        }
        self.observe_now(now);
        self.in_flight = false;
        // The server answered, so the last send was not lost.
        self.unanswered = 0;
        let parsed = response::parse(response.body);
        let success = (200..300).contains(&response.status);
        match parsed {
            Ok(TokenResponse::Error(e)) => {
                self.fail(
                    now,
                    RefreshError::OAuth {
                        code: e.code,
                        status: response.status,
                    },
                    response.retry_after,
                );
                self.last_error_code = Some(self.redact(e.raw_code));
            }
            Ok(TokenResponse::Tokens(tokens)) if success => self.commit(now, &tokens),
            Err(e) if success => {
                // The server may have spent the old refresh token: a rotated one the refused
                // body still carries is kept, as with an access token too large.
                if let Some(rt) = response::rotated_refresh_token(response.body) {
                    self.keep_refresh_token(rt);
                }
                self.fail(now, RefreshError::BadResponse(e), None);
            }
            _ => self.fail(
                now,
                RefreshError::Status {
                    status: response.status,
                },
                response.retry_after,
            ),
        }
        Ok(())
    }

    /// The request from [`poll_request`](Self::poll_request) got no response.
    ///
    /// # Errors
    ///
    /// [`HandleError::NoRequestInFlight`] when no request was outstanding; nothing changes.
    pub fn handle_transport_error(
        &mut self,
        now: i64,
        failure: TransportFailure,
    ) -> Result<(), HandleError> {
        if !self.in_flight {
            return Err(HandleError::NoRequestInFlight);
        }
        self.observe_now(now);
        self.in_flight = false;
        match failure {
            TransportFailure::NotSent => self.fail(now, RefreshError::NotSent, None),
            TransportFailure::UnreadableSuccess => {
                // The server answered, so the last send was not lost.
                self.unanswered = 0;
                self.fail(
                    now,
                    RefreshError::BadResponse(ResponseError::Unreadable),
                    None,
                );
            }
            TransportFailure::NoResponse => {
                self.unanswered = self.unanswered.saturating_add(1);
                if self.unanswered >= 2 {
                    self.fail(now, RefreshError::NoResponseAfterRetry, None);
                } else {
                    // Resend once, at once.
                    self.last_error = Some(RefreshError::NoResponse);
                    self.last_error_code = None;
                    self.not_before = now;
                    self.push(Event::RefreshFailed {
                        error: RefreshError::NoResponse,
                        terminal: false,
                        retry_at: Some(now),
                    });
                }
            }
        }
        Ok(())
    }

    // ----- outputs -----

    /// The next time [`handle_timeout`](Self::handle_timeout) and
    /// [`poll_request`](Self::poll_request) have something to do; may be in the past. `None`
    /// when nothing will happen without an input.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<i64> {
        if !self.has_credential {
            return None;
        }
        let expiry = (!self.expired_reported).then_some(self.expires_at);
        let refresh = (!self.terminal && !self.in_flight).then(|| self.refresh_at());
        match (expiry, refresh) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Writes the refresh request into `buf` when one is due, and marks it in flight.
    ///
    /// Returns `Ok(None)` when no request is due: fresh credential, request already in
    /// flight, backing off, terminal failure, no refresh token, or no credential.
    ///
    /// # Errors
    ///
    /// [`RequestError::BufferTooSmall`] (see [`request_len`](Self::request_len)); the request
    /// is then not marked in flight.
    pub fn poll_request<'b>(
        &mut self,
        now: i64,
        client: &Client<'_>,
        buf: &'b mut [u8],
    ) -> Result<Option<Request<'b>>, RequestError> {
        self.observe_now(now);
        if !self.is_due(now) {
            return Ok(None);
        }
        let request = request::encode(client, &self.refresh_token, buf)?;
        self.in_flight = true;
        self.sent_with_bypass = now < self.interval_until;
        Ok(Some(request))
    }

    /// The next event, oldest first.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    // ----- internals -----

    /// Keeps the waits already set (failure back-off, `Retry-After`, the stale back-off, the
    /// minimum interval, a forced refresh) as long as they were meant to be when the wall
    /// clock is stepped back: they are wall-clock times, and would otherwise last as long as
    /// the step (an hour back, an hour more). They move back by how far `now` is behind the
    /// last input's, so what was left of a wait at the last input is left from `now`. A step
    /// forward shortens them, as it shortens everything measured on the wall clock.
    fn observe_now(&mut self, now: i64) {
        if now < self.last_now {
            let back = self.last_now.saturating_sub(now);
            self.not_before = self.not_before.saturating_sub(back);
            self.interval_until = self.interval_until.saturating_sub(back);
            if let Some(forced) = &mut self.forced_at {
                *forced = forced.saturating_sub(back);
            }
        }
        self.last_now = now;
    }

    /// Margins for the current credential: (advisory, mandatory), capped at half the lifetime.
    fn margins(&self) -> (i64, i64) {
        let cap = self.lifetime / 2;
        let advisory = i64::from(self.config.advisory_margin)
            .saturating_add(i64::from(self.jitter))
            .min(cap);
        let mandatory = i64::from(self.config.mandatory_margin)
            .min(cap)
            .min(advisory);
        (advisory, mandatory)
    }

    fn advisory_at(&self) -> i64 {
        self.expires_at.saturating_sub(self.margins().0)
    }

    fn mandatory_at(&self) -> i64 {
        self.expires_at.saturating_sub(self.margins().1)
    }

    /// When the next attempt may start.
    fn refresh_at(&self) -> i64 {
        let due = self.advisory_at();
        let due = self.forced_at.map_or(due, |forced| due.min(forced));
        let floor = if self.bypass_generation == Some(self.generation) {
            self.not_before
        } else {
            self.not_before.max(self.interval_until)
        };
        due.max(floor)
    }

    /// `code`, unless it contains the current access or refresh token (a server echoing a
    /// token in `error`).
    fn redact(&self, code: ErrorCode) -> ErrorCode {
        let leaks = code.as_str().is_some_and(|c| {
            [self.access_token.as_str(), self.refresh_token.as_str()]
                .iter()
                .any(|t| !t.is_empty() && c.contains(t))
        });
        if leaks {
            ErrorCode::UNPRINTABLE
        } else {
            code
        }
    }

    fn commit(&mut self, now: i64, tokens: &Tokens<'_>) {
        let at = tokens.access_token;
        if at.unescaped_len() > AT {
            // The old refresh token may be spent: a rotated one that fits is kept, so that it
            // is not lost with the access token that cannot be (the old access token stays).
            if let Some(rt) = tokens.refresh_token {
                self.keep_refresh_token(rt);
            }
            let error = RefreshError::AccessTokenTooLarge {
                len: at.unescaped_len(),
                capacity: AT,
            };
            return self.fail(now, error, None);
        }
        if let Some(rt) = tokens.refresh_token {
            if rt.unescaped_len() > RT {
                let error = RefreshError::RefreshTokenTooLarge {
                    len: rt.unescaped_len(),
                    capacity: RT,
                };
                return self.fail(now, error, None);
            }
        }
        let expires_in = tokens
            .expires_in
            .map_or(self.config.default_expires_in, |v| {
                self.config.clamp_expires_in(v)
            });
        // Everything fits: commit. The writes below cannot fail after the checks above.
        self.access_token.clear();
        let _ = at.write_to(&mut self.access_token);
        if let Some(rt) = tokens.refresh_token {
            self.refresh_token.clear();
            let _ = rt.write_to(&mut self.refresh_token);
        }
        // The scope is informational: one that does not fit is dropped (and flagged), never a
        // reason to lose the tokens. No scope in the response means it is unchanged.
        if let Some(scope) = tokens.scope {
            self.scope.clear();
            self.scope_state = match scope.write_to(&mut self.scope) {
                Ok(()) => ScopeState::Known,
                Err(_) => ScopeState::Dropped,
            };
        } else if tokens.scope_unreadable {
            self.scope.clear();
            self.scope_state = ScopeState::Dropped;
        }
        self.token_type = tokens.token_type.and_then(|t| {
            let mut s = String::new();
            t.write_to(&mut s).ok().map(|()| s)
        });
        let old_expires_at = self.expires_at;
        self.expires_at = now.saturating_add(i64::from(expires_in));
        self.lifetime = i64::from(expires_in);
        self.jitter = self.draw(self.config.jitter_max);
        self.generation = self.generation.wrapping_add(1);
        self.last_error = None;
        self.last_error_code = None;
        self.terminal = false;
        self.failures = 0;
        self.forced_at = None;
        self.committed_with_bypass = self.sent_with_bypass;
        self.expired_reported = false;
        // A token that does not move the expiry means the server is not helping, and one that
        // expires before the minimum interval ends cannot be kept fresh at that rate: back off
        // instead of looping. A short-lived token that outlives the interval (due again
        // before it ends, e.g. 15 s tokens) is refreshed when the interval ends.
        let min_next = now.saturating_add(i64::from(self.config.min_refresh_interval));
        let stale = self.expires_at <= old_expires_at || self.expires_at <= min_next;
        if stale {
            // The stale backoff replaces the minimum interval; a rejection does not lift it.
            self.stale = self.stale.saturating_add(1);
            let wait = self.config.backoff(self.config.stale_backoff, self.stale);
            self.not_before = now.saturating_add(i64::from(wait));
            self.interval_until = i64::MIN;
        } else {
            self.stale = 0;
            self.not_before = i64::MIN;
            self.interval_until = now.saturating_add(i64::from(self.config.min_refresh_interval));
        }
        self.push(Event::Refreshed {
            generation: self.generation,
            expires_at: self.expires_at,
            rotated: tokens.refresh_token.is_some(),
            stale,
        });
    }

    /// Replaces the refresh token with `rt`, a rotated one from an answer that is otherwise not
    /// committed, when it fits (otherwise the old one stays: nothing better to keep).
    fn keep_refresh_token(&mut self, rt: JsonStr<'_>) {
        if rt.unescaped_len() <= RT {
            self.refresh_token.clear();
            // Room was checked above.
            let _ = rt.write_to(&mut self.refresh_token);
        }
    }

    fn fail(&mut self, now: i64, error: RefreshError, retry_after: Option<u32>) {
        let terminal = error.is_terminal();
        self.last_error = Some(error);
        self.last_error_code = None;
        let retry_at = if terminal {
            self.terminal = true;
            None
        } else {
            self.failures = self.failures.saturating_add(1);
            let base = self
                .config
                .backoff(self.config.backoff_initial, self.failures);
            // Take up to a quarter off (bounded by `jitter_max`), so a fleet does not retry in
            // lockstep.
            let spread = self.draw((base / 4).min(self.config.jitter_max));
            let backoff = base.saturating_sub(spread);
            // Retry-After is a lower bound (RFC 9110 §10.2.3), capped; it never shortens the
            // backoff, so `Retry-After: 0` on every answer cannot make a tight loop.
            let delay = retry_after.map_or(backoff, |secs| {
                secs.min(self.config.retry_after_max).max(backoff)
            });
            let at = now.saturating_add(i64::from(delay));
            self.not_before = at;
            Some(at)
        };
        self.push(Event::RefreshFailed {
            error,
            terminal,
            retry_at,
        });
    }

    fn push(&mut self, event: Event) {
        if self.events.is_full() {
            let _ = self.events.pop_front();
        }
        let _ = self.events.push_back(event);
    }

    /// A value in `0..=max` from the xorshift32 jitter generator.
    fn draw(&mut self, max: u32) -> u32 {
        let mut x = self.rng;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.rng = x;
        match max.checked_add(1) {
            Some(range) => x % range,
            None => x,
        }
    }
}

impl<const AT: usize, const RT: usize, const SC: usize> fmt::Debug for RefreshMachine<AT, RT, SC> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RefreshMachine")
            .field("has_credential", &self.has_credential)
            .field("has_access_token", &!self.access_token.is_empty())
            .field("access_token", &"<redacted>")
            .field("has_refresh_token", &!self.refresh_token.is_empty())
            .field("expires_at", &self.expires_at)
            .field("generation", &self.generation)
            .field("last_error", &self.last_error)
            .field("terminal", &self.terminal)
            .field("in_flight", &self.in_flight)
            .field("not_before", &self.not_before)
            .field("interval_until", &self.interval_until)
            .field("scope", &self.scope())
            .field("last_error_code", &self.last_error_code)
            .finish_non_exhaustive()
    }
}
