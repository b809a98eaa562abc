//! Silent refresh inside a session read: when the upstream OAuth access token in the session
//! token is due, the read pauses with a refresh request for the caller to send, and resumes with
//! the answer.
//!
//! ```text
//! let mut step =
//!     engine.session_with_refresh(&mut cb, cookie_header, now_ms, &config, &client, rng, bufs)?;
//! loop {
//!     match step {
//!         ReadStep::Done(response) => break response,
//!         ReadStep::Refresh(pending) => {
//!             let request = pending.request(&client, &mut request_buf)?; // POST it
//!             let outcome = /* RefreshOutcome::Response(..) or ::Transport(..) */;
//!             step = match engine.resume(&mut cb, pending, outcome, now_ms, &client, rng) {
//!                 Ok(step) => step,
//!                 // Keep what the token endpoint answered: write it with other buffers.
//!                 Err(ResumeError { unfinished: Some(u), .. }) => {
//!                     break engine.finish(&mut cb, u, now_ms, rng, larger_bufs)?
//!                 }
//!                 Err(e) => return Err(e),
//!             };
//!         }
//!     }
//! }
//! ```
//!
//! Nothing the token endpoint answered is lost: a token endpoint that rotates refresh tokens
//! has already invalidated the old one when its answer arrives, so if the response cannot be
//! written then (a buffer too small for a longer token, the random source failing), the
//! [`ResumeError`] hands back the refreshed session as an [`Unfinished`], which
//! [`Engine::finish`] writes with other buffers. Dropping it (for example with `?`) loses the
//! rotated refresh token.
//!
//! What Auth.js's guide does in the `jwt` callback (AUTHJS.md §7), with its known failures fixed:
//! the refresh starts ahead of expiry (the refresh machine's advisory window), a new refresh
//! token replaces the old one and an absent one keeps it, a failure sets
//! `error = "RefreshTokenError"` on the token (and so `session.error`) and a later success
//! clears it (Auth.js issue #7025), a transient failure is retried only after its back-off
//! instead of on every read, with the back-off growing from one failure to the next, a terminal
//! one is not retried at all, and an access token past its expiry is never handed out
//! ([`OAuthToken::access_token`]). A credential without a refresh token takes the guide's
//! error path once its access token has expired: `error = "RefreshTokenError"`, recorded as
//! a terminal failure, nothing sent.
//!
//! Concurrent reads of one session are the caller's to coordinate: each read that finds the
//! token due pauses with a request carrying the same refresh token, and a token endpoint that
//! rotates refresh tokens answers only the first (the others get `invalid_grant`, a terminal
//! failure: Auth.js issues #2071, #11240). Send one request per refresh token and resume every
//! paused read with the same answer (`Engine::resume` with a copy of the same
//! [`RefreshOutcome`]); each then writes the same rotated credential. `examples/src/demo.rs`
//! does this with a single flight keyed by the refresh token (its step "concurrent reads").
//!
//! A session token is read from scratch on every request, so the refresh machine's schedule is
//! kept in the token ([`RefreshState`]): after sign-in and after a success, when the next
//! refresh is due (the advisory window capped at half the token's lifetime; after a success
//! also at least the minimum interval later); after a failure, the back-off, its streak, and
//! whether it was terminal. A token
//! that carries Auth.js's `error` without that state (as the guide writes after any failure)
//! is refreshed again when due.

use heapless::String;
use serde::{Deserialize, Serialize};

use super::{
    Account, BufferKind, Buffers, CallbackError, Callbacks, DefaultSession, Engine, JwtParams,
    OpenSession, Opened, Response, SessionError, TokenCodec, User, ERROR_CAPACITY,
};
use crate::cookie::{self, ChunkName};
use crate::rand::RandomSource;
use crate::refresh::{
    self, Client, Event, HttpResponse, RefreshMachine, Request, RequestError, TransportFailure,
    REFRESH_TOKEN_ERROR,
};

/// Capacity of the machine's access token in a session refresh.
pub const ACCESS_TOKEN_CAPACITY: usize = 2048;
/// Capacity of the machine's refresh token in a session refresh.
pub const REFRESH_TOKEN_CAPACITY: usize = 512;

type Machine = RefreshMachine<ACCESS_TOKEN_CAPACITY, REFRESH_TOKEN_CAPACITY>;

/// Sign-in fails with this when the account has an access token and a refresh token but no
/// `expires_at`: the refresh guide requires it and throws otherwise (AUTHJS.md §7 step 1), and
/// a refreshable credential without an expiry cannot be refreshed in time. Signing in without
/// it would silently drop the provider's tokens, refresh token included. (An access token
/// with neither, as GitHub OAuth apps issue, is kept as a token that does not expire:
/// [`non_expiring_access_token`].)
pub const MISSING_EXPIRES_AT: CallbackError = CallbackError {
    reason: "sign-in account has a refresh token but no expires_at",
};

/// Sign-in fails with this when the account has a refresh token but no access token (the
/// guide's `TypeError`, AUTHJS.md §7 step 1), rather than signing in without the refresh
/// token.
pub const MISSING_ACCESS_TOKEN: CallbackError = CallbackError {
    reason: "sign-in account has a refresh token but no access token",
};

/// The refreshable credential of a sign-in account: an access token with its `expires_at`
/// and any refresh token. `Ok(None)` when it has neither an access nor a refresh token
/// (credentials or e-mail sign-in; an `expires_at` alone is ignored), or an access token
/// with neither an expiry nor a refresh token ([`non_expiring_access_token`]).
///
/// # Errors
///
/// [`MISSING_EXPIRES_AT`] for an access and a refresh token without `expires_at`,
/// [`MISSING_ACCESS_TOKEN`] for a refresh token without an access token.
pub fn account_credential<'a>(
    account: &Account<'a>,
) -> Result<Option<OAuthFields<'a>>, CallbackError> {
    match (
        account.access_token,
        account.refresh_token,
        account.expires_at,
    ) {
        (Some(access_token), refresh_token, Some(expires_at)) => Ok(Some(OAuthFields {
            access_token,
            refresh_token,
            expires_at,
        })),
        (Some(_), Some(_), None) => Err(MISSING_EXPIRES_AT),
        (None, Some(_), _) => Err(MISSING_ACCESS_TOKEN),
        (Some(_), None, None) | (None, None, _) => Ok(None),
    }
}

/// The access token of a sign-in account that has neither `expires_at` nor a refresh token
/// (RFC 6749 §5.1 makes `expires_in` optional; GitHub OAuth apps issue such tokens, which do
/// not expire): [`OAuthCallbacks`] keeps it as a token without expiry, never refreshed, which
/// [`OAuthToken::access_token`] hands out at any time. The refresh guide throws here instead
/// (sign-in fails; docs/DIFFERENCES.md).
#[must_use]
pub fn non_expiring_access_token<'a>(account: &Account<'a>) -> Option<&'a str> {
    match (
        account.access_token,
        account.refresh_token,
        account.expires_at,
    ) {
        (Some(access_token), None, None) => Some(access_token),
        _ => None,
    }
}

/// The upstream OAuth credential a session token carries.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct OAuthFields<'a> {
    /// The access token.
    pub access_token: &'a str,
    /// The refresh token, if the provider issued one.
    pub refresh_token: Option<&'a str>,
    /// Absolute expiry of the access token, Unix seconds.
    pub expires_at: i64,
}

impl core::fmt::Debug for OAuthFields<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("OAuthFields")
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// What a session token remembers about refreshing from one read to the next: a session read
/// starts from scratch every time, so the refresh schedule lives in the token.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RefreshState {
    /// No refresh before this time (Unix seconds): after a transient failure, the end of its
    /// back-off (and any `Retry-After`); after a success, when the next refresh is due by the
    /// refresh machine's schedule (the advisory window capped at half the new token's lifetime,
    /// the minimum interval, the stale back-off); after sign-in, half the access token's
    /// lifetime ([`sign_in_state`]). A refresh also waits for the advisory margin of
    /// `expires_at` ([`refresh_due`]); `None` (a token Auth.js wrote): that margin alone.
    pub not_before: Option<i64>,
    /// Consecutive transient failures so far (the back-off doubles with each).
    pub failures: u32,
    /// Consecutive successes that did not extend the expiry (the stale back-off doubles with
    /// each).
    pub stale: u32,
    /// The last refresh failed for good (sign in again): no refresh is started.
    pub terminal: bool,
}

/// A session token that carries an upstream OAuth credential.
pub trait RefreshableToken {
    /// The credential, if the token has one.
    fn credential(&self) -> Option<OAuthFields<'_>>;

    /// The refresh schedule the token carries ([`RefreshState::default`] if none).
    fn refresh_state(&self) -> RefreshState;

    /// Stores a refreshed credential and clears any recorded failure and refresh state
    /// (the pipeline sets the new state after it with [`Self::set_refresh_state`]).
    ///
    /// # Errors
    ///
    /// [`CallbackError`] when a value does not fit the token's capacity; the token must then be
    /// left unchanged (the pipeline keeps the old credential).
    fn set_credential(&mut self, fields: OAuthFields<'_>) -> Result<(), CallbackError>;

    /// Records a failed refresh: `error` is the client-visible error
    /// ([`REFRESH_TOKEN_ERROR`]), `state` the schedule after it. The credential stays as it
    /// was.
    fn set_failure(&mut self, error: &'static str, state: RefreshState);

    /// Stores the refresh schedule after a success.
    fn set_refresh_state(&mut self, state: RefreshState);

    /// Replaces only the refresh token, keeping the access token and its expiry: for a
    /// refresh token the endpoint rotated in an answer whose access token cannot be stored
    /// (the old refresh token may be spent). A failure is recorded after it.
    ///
    /// The default goes through [`Self::set_credential`] with a copy of the current access
    /// token (up to [`ACCESS_TOKEN_CAPACITY`] bytes, on the stack only while it runs).
    ///
    /// # Errors
    ///
    /// [`CallbackError`] when there is no credential, or a value does not fit; the token must
    /// then be left unchanged.
    fn set_refresh_token(&mut self, refresh_token: &str) -> Result<(), CallbackError> {
        let Some(old) = self.credential() else {
            return Err(CallbackError {
                reason: "no credential to keep the refresh token with",
            });
        };
        let access_token =
            String::<ACCESS_TOKEN_CAPACITY>::try_from(old.access_token).map_err(|_| {
                CallbackError {
                    reason: "access token longer than the copy's capacity",
                }
            })?;
        let expires_at = old.expires_at;
        self.set_credential(OAuthFields {
            access_token: &access_token,
            refresh_token: Some(refresh_token),
            expires_at,
        })
    }
}

/// A ready-made token: Auth.js's default fields plus the refresh guide's `access_token`,
/// `refresh_token`, `expires_at` and `error`, and the refresh schedule ([`RefreshState`]):
/// `refresh_retry_at`, `refresh_failures`, `refresh_stale` and `refresh_terminal`, each
/// written only when set.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OAuthToken<
    const N: usize = 256,
    const AT: usize = ACCESS_TOKEN_CAPACITY,
    const RT: usize = REFRESH_TOKEN_CAPACITY,
> {
    /// The user's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String<N>>,
    /// The user's e-mail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String<N>>,
    /// The user's avatar URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub picture: Option<String<N>>,
    /// The user's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub: Option<String<N>>,
    /// Upstream access token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_token: Option<String<AT>>,
    /// Upstream refresh token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String<RT>>,
    /// Access-token expiry, Unix seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
    /// `"RefreshTokenError"` after a failed refresh.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String<ERROR_CAPACITY>>,
    /// No refresh before this time, Unix seconds ([`RefreshState::not_before`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_retry_at: Option<i64>,
    /// Consecutive transient refresh failures ([`RefreshState::failures`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_failures: Option<u32>,
    /// Consecutive stale refreshes ([`RefreshState::stale`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_stale: Option<u32>,
    /// `true` after a terminal refresh failure ([`RefreshState::terminal`]). A token with
    /// `error` but without this (as Auth.js's refresh guide writes after any failure) is
    /// refreshed again when due.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_terminal: Option<bool>,
}

impl<const N: usize, const AT: usize, const RT: usize> core::fmt::Debug for OAuthToken<N, AT, RT> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("OAuthToken")
            .field("sub", &self.sub)
            .field("expires_at", &self.expires_at)
            .field("error", &self.error)
            .finish_non_exhaustive()
    }
}

impl<const N: usize, const AT: usize, const RT: usize> OAuthToken<N, AT, RT> {
    /// The guide's sign-in token: the default fields from `user`, the credential from `account`
    /// ([`account_credential`]). An account without tokens (or no account) gives a token
    /// without a credential.
    ///
    /// # Errors
    ///
    /// [`CallbackError`] when a value does not fit its capacity; [`MISSING_EXPIRES_AT`] or
    /// [`MISSING_ACCESS_TOKEN`] when the account's credential is incomplete (the guide throws,
    /// AUTHJS.md §7 step 1), rather than a token that silently lacks the provider's tokens.
    pub fn from_sign_in(
        user: &User<'_>,
        account: Option<&Account<'_>>,
    ) -> Result<Self, CallbackError> {
        let credential = account.map(account_credential).transpose()?.flatten();
        let base = super::DefaultToken::<N>::from_user(user)?;
        let mut token = Self {
            name: base.name,
            email: base.email,
            picture: base.picture,
            sub: base.sub,
            ..Self::default()
        };
        if let Some(fields) = credential {
            token.set_credential(fields)?;
        } else if let Some(access_token) = account.and_then(non_expiring_access_token) {
            token.set_non_expiring(access_token)?;
        }
        Ok(token)
    }

    /// Stores an access token that does not expire and cannot be refreshed
    /// ([`non_expiring_access_token`]).
    fn set_non_expiring(&mut self, access_token: &str) -> Result<(), CallbackError> {
        self.access_token = Some(String::try_from(access_token).map_err(|_| CallbackError {
            reason: "access token longer than the token's capacity",
        })?);
        self.refresh_token = None;
        self.expires_at = None;
        Ok(())
    }

    /// The access token: while it has not expired (`now < expires_at`), or at any time for a
    /// token signed in without expiry or refresh token ([`non_expiring_access_token`]).
    #[must_use]
    pub fn access_token(&self, now: i64) -> Option<&str> {
        match (
            self.access_token.as_deref(),
            self.expires_at,
            self.refresh_token.is_some(),
        ) {
            (Some(at), Some(exp), _) if now < exp => Some(at),
            (Some(at), None, false) => Some(at),
            _ => None,
        }
    }
}

super::callbacks::session_fields_from_members!(
    [const N: usize, const AT: usize, const RT: usize] OAuthToken<N, AT, RT>
);

impl<const N: usize, const AT: usize, const RT: usize> RefreshableToken for OAuthToken<N, AT, RT> {
    fn credential(&self) -> Option<OAuthFields<'_>> {
        Some(OAuthFields {
            access_token: self.access_token.as_deref()?,
            refresh_token: self.refresh_token.as_deref(),
            expires_at: self.expires_at?,
        })
    }

    fn refresh_state(&self) -> RefreshState {
        RefreshState {
            not_before: self.refresh_retry_at,
            failures: self.refresh_failures.unwrap_or(0),
            stale: self.refresh_stale.unwrap_or(0),
            terminal: self.refresh_terminal == Some(true),
        }
    }

    fn set_credential(&mut self, fields: OAuthFields<'_>) -> Result<(), CallbackError> {
        let too_long = CallbackError {
            reason: "refreshed token longer than the token's capacity",
        };
        let at = String::try_from(fields.access_token).map_err(|_| too_long)?;
        let rt = match fields.refresh_token {
            Some(rt) => Some(String::try_from(rt).map_err(|_| too_long)?),
            None => self.refresh_token.clone(),
        };
        self.access_token = Some(at);
        self.refresh_token = rt;
        self.expires_at = Some(fields.expires_at);
        self.error = None;
        self.set_refresh_state(RefreshState::default());
        Ok(())
    }

    fn set_failure(&mut self, error: &'static str, state: RefreshState) {
        self.error = String::try_from(error).ok();
        self.set_refresh_state(state);
    }

    fn set_refresh_state(&mut self, state: RefreshState) {
        self.refresh_retry_at = state.not_before;
        self.refresh_failures = (state.failures > 0).then_some(state.failures);
        self.refresh_stale = (state.stale > 0).then_some(state.stale);
        self.refresh_terminal = state.terminal.then_some(true);
    }

    fn set_refresh_token(&mut self, refresh_token: &str) -> Result<(), CallbackError> {
        if self.access_token.is_none() || self.expires_at.is_none() {
            return Err(CallbackError {
                reason: "no credential to keep the refresh token with",
            });
        }
        let rt = String::try_from(refresh_token).map_err(|_| CallbackError {
            reason: "refreshed token longer than the token's capacity",
        })?;
        self.refresh_token = Some(rt);
        Ok(())
    }
}

/// Callbacks for [`OAuthToken`]: the default session plus `error`.
///
/// On sign-in, `jwt` stores the account's credential ([`account_credential`]): an access
/// token with its `expires_at` and any refresh token. An access token with neither an expiry
/// nor a refresh token is kept as one that does not expire ([`non_expiring_access_token`]).
/// An account with a refresh token but no `expires_at` or no access token fails the sign-in
/// ([`SessionError::Callback`](super::SessionError::Callback) with [`MISSING_EXPIRES_AT`] or
/// [`MISSING_ACCESS_TOKEN`]), as the refresh guide's `TypeError` does (AUTHJS.md §7 step 1);
/// an account without tokens (credentials, e-mail) signs in without a credential.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OAuthCallbacks<const N: usize = 256>;

impl<const N: usize> Callbacks for OAuthCallbacks<N> {
    type Token = OAuthToken<N>;
    type Session<'a> = DefaultSession<'a>;

    fn initial_token(&mut self, user: &User<'_>) -> Result<Self::Token, CallbackError> {
        OAuthToken::from_sign_in(user, None)
    }

    fn jwt(
        &mut self,
        mut token: Self::Token,
        params: &JwtParams<'_>,
    ) -> Result<Option<Self::Token>, CallbackError> {
        // Sign-in: keep the account's credential (the refresh guide's first branch); an
        // incomplete one fails the sign-in, as the guide's TypeError does.
        if let Some(a) = params.account {
            if let Some(fields) = account_credential(a)? {
                token.set_credential(fields)?;
                token.set_refresh_state(sign_in_state(params.now, fields.expires_at));
            } else if let Some(access_token) = non_expiring_access_token(a) {
                token.set_non_expiring(access_token)?;
            }
        }
        Ok(Some(token))
    }

    fn session<'a>(
        &'a mut self,
        token: &'a Self::Token,
        expires: &'a str,
    ) -> Result<Self::Session<'a>, CallbackError> {
        Ok(DefaultSession::from_token(token, expires))
    }
}

/// The answer to a refresh request.
#[derive(Debug, Clone, Copy)]
pub enum RefreshOutcome<'a> {
    /// The token endpoint answered.
    Response(HttpResponse<'a>),
    /// No usable answer (see [`TransportFailure`]).
    Transport(TransportFailure),
}

/// A session read paused for a refresh request.
#[derive(Debug)]
pub struct PendingRefresh<'b, T> {
    open: OpenSession<'b, T>,
    machine: Machine,
}

impl<T> PendingRefresh<'_, T> {
    /// Writes the refresh request (form body and, for `client_secret_basic`, the
    /// `Authorization` value) into `out`. The same bytes every call.
    ///
    /// # Errors
    ///
    /// [`RequestError::BufferTooSmall`].
    pub fn request<'o>(
        &self,
        client: &Client<'_>,
        out: &'o mut [u8],
    ) -> Result<Request<'o>, RequestError> {
        let rt = self.machine.refresh_token().unwrap_or("");
        refresh::request::encode(client, rt, out)
    }

    /// Bytes [`Self::request`] needs.
    #[must_use]
    pub fn request_len(&self, client: &Client<'_>) -> usize {
        self.machine.request_len(client)
    }
}

/// A session read whose response could not be written after `jwt` kept the session: the token
/// (with any refreshed credential in it) and the names of the session cookie chunks the request
/// carried. [`Engine::finish`] writes it.
pub struct Unfinished<T> {
    pub(super) token: T,
    pub(super) present: heapless::Vec<ChunkName, { cookie::MAX_CHUNKS }>,
}

impl<T> Unfinished<T> {
    /// The token the response was to carry.
    #[must_use]
    pub const fn token(&self) -> &T {
        &self.token
    }
}

impl<T> core::fmt::Debug for Unfinished<T> {
    /// The token is not shown: it holds the credentials.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Unfinished")
            .field("present", &self.present)
            .finish_non_exhaustive()
    }
}

/// Why [`Engine::resume`] or [`Engine::finish`] returned no response.
pub struct ResumeError<T> {
    /// What failed.
    pub error: SessionError,
    /// The session, when there was one to write: pass it to [`Engine::finish`] (with larger
    /// buffers, for [`SessionError::BufferTooSmall`]) rather than drop it, or a refresh token
    /// the token endpoint just rotated is lost.
    pub unfinished: Option<Unfinished<T>>,
}

impl<T> core::fmt::Debug for ResumeError<T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ResumeError")
            .field("error", &self.error)
            .field("unfinished", &self.unfinished)
            .finish()
    }
}

impl<T> core::fmt::Display for ResumeError<T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        core::fmt::Display::fmt(&self.error, f)?;
        if self.unfinished.is_some() {
            f.write_str(" (the session is kept: finish it with Engine::finish)")?;
        }
        Ok(())
    }
}

impl<T> core::error::Error for ResumeError<T> {}

impl<T> From<SessionError> for ResumeError<T> {
    fn from(error: SessionError) -> Self {
        Self {
            error,
            unfinished: None,
        }
    }
}

/// One step of a session read with refresh.
#[allow(
    clippy::large_enum_variant,
    reason = "no heap to box into; the paused state moves once per refresh"
)]
#[derive(Debug)]
pub enum ReadStep<'b, T> {
    /// The read is complete.
    Done(Response<'b>),
    /// Send [`PendingRefresh::request`], then call [`Engine::resume`].
    Refresh(PendingRefresh<'b, T>),
}

impl<K: TokenCodec> Engine<K> {
    /// A session read that refreshes the upstream access token when it is due (see the module
    /// docs for the call loop). Without a credential, or when nothing is due, it is a plain
    /// [`Engine::session`].
    ///
    /// A credential without a refresh token cannot be refreshed: once its access token has
    /// expired (`now >= expires_at`; inside the advisory margin it is still usable and nothing
    /// is recorded), the read records the refresh guide's error path (AUTHJS.md §7 steps 3-4)
    /// as a terminal failure, [`RefreshableToken::set_failure`] with [`REFRESH_TOKEN_ERROR`]:
    /// the session stays, with `error = "RefreshTokenError"` for the client to sign in again,
    /// and nothing is sent.
    ///
    /// # Errors
    ///
    /// As [`Engine::session`].
    #[allow(
        clippy::too_many_arguments,
        reason = "each input is independent; a struct would only rename them"
    )]
    pub fn session_with_refresh<'b, C>(
        &self,
        callbacks: &mut C,
        cookie_header: &[u8],
        now_ms: i64,
        refresh_config: &refresh::Config,
        client: &Client<'_>,
        rng: &mut dyn RandomSource,
        bufs: Buffers<'b>,
    ) -> Result<ReadStep<'b, C::Token>, SessionError>
    where
        C: Callbacks,
        C::Token: RefreshableToken,
    {
        let now = now_ms.div_euclid(1000);
        let mut open = match self.open::<C::Token>(cookie_header, now_ms, bufs)? {
            Opened::Done(r) => return Ok(ReadStep::Done(r)),
            Opened::Token(open) => open,
        };
        if expired_without_refresh_token(&open.token, now) {
            // The guide throws for a missing refresh token once the access token has expired
            // and records `error` (AUTHJS.md §7 steps 3-4); the refresh machine's terminal
            // `NoRefreshToken`. Nothing is sent, and later reads do not record it again.
            open.token
                .set_failure(REFRESH_TOKEN_ERROR, terminal_state());
            return self
                .complete(callbacks, open, now_ms, None, rng)
                .map(ReadStep::Done);
        }
        if !refresh_due(&open.token, now, refresh_config) {
            return self
                .complete(callbacks, open, now_ms, None, rng)
                .map(ReadStep::Done);
        }
        let mut seed = [0u8; 4];
        rng.fill_bytes(&mut seed)
            .map_err(|e| SessionError::Encode(e.into()))?;
        let mut machine = Machine::new(*refresh_config, u32::from_le_bytes(seed));
        let Some(c) = open.token.credential() else {
            return self
                .complete(callbacks, open, now_ms, None, rng)
                .map(ReadStep::Done);
        };
        if machine
            .set_credential(now, c.access_token, c.refresh_token, c.expires_at)
            .is_err()
        {
            // The stored credential does not fit the machine (over-long token): keep it and
            // carry on without refreshing rather than lose it.
            return self
                .complete(callbacks, open, now_ms, None, rng)
                .map(ReadStep::Done);
        }
        // Back-offs keep growing from read to read.
        let state = open.token.refresh_state();
        machine.continue_streaks(state.failures, state.stale);
        // The session token is the only state between requests, so the due rule is applied here
        // (see `refresh_due`) and the machine is told to refresh now.
        machine.handle_token_rejected(now);
        match start_request(open, machine, now, client)? {
            Started::Pending(p) => Ok(ReadStep::Refresh(p)),
            Started::NotDue(open) => self
                .complete(callbacks, open, now_ms, None, rng)
                .map(ReadStep::Done),
        }
    }

    /// Continues a read paused by [`ReadStep::Refresh`] with the token endpoint's answer. May
    /// ask for one more request (a resend after a request that got no response at all).
    ///
    /// # Errors
    ///
    /// As [`Engine::session`], with the session kept in [`ResumeError::unfinished`] when it
    /// could not be written.
    pub fn resume<'b, C>(
        &self,
        callbacks: &mut C,
        pending: PendingRefresh<'b, C::Token>,
        outcome: RefreshOutcome<'_>,
        now_ms: i64,
        client: &Client<'_>,
        rng: &mut dyn RandomSource,
    ) -> Result<ReadStep<'b, C::Token>, ResumeError<C::Token>>
    where
        C: Callbacks,
        C::Token: RefreshableToken,
    {
        let now = now_ms.div_euclid(1000);
        let PendingRefresh {
            mut open,
            mut machine,
        } = pending;
        // A HandleError means the input did not fit the machine's state (nothing in flight);
        // the events below then say nothing and the read finishes with the old credential.
        let _ = match outcome {
            RefreshOutcome::Response(r) => machine.handle_response(now, r),
            RefreshOutcome::Transport(t) => machine.handle_transport_error(now, t),
        };
        while let Some(event) = machine.poll_event() {
            match event {
                Event::Refreshed { .. } => {
                    // The committed token, whether or not it may be handed out now: a new one
                    // can arrive already expired (`expires_in: 0`), and the rotated refresh
                    // token must be stored with it either way.
                    let fields = match (machine.committed_access_token(), machine.expires_at()) {
                        (Some(at), Some(exp)) => Some(OAuthFields {
                            access_token: at,
                            refresh_token: machine.refresh_token(),
                            expires_at: exp,
                        }),
                        _ => None,
                    };
                    if fields.is_none_or(|f| open.token.set_credential(f).is_err()) {
                        // The new access token does not fit the token, but the rotated
                        // refresh token must not be lost with it.
                        keep_rotated_refresh_token(&mut open.token, &machine);
                        open.token
                            .set_failure(REFRESH_TOKEN_ERROR, terminal_state());
                    } else {
                        // The schedule for the new token, kept for the next reads: the
                        // minimum interval and half its lifetime hold across requests.
                        let (_, stale) = machine.streaks();
                        open.token.set_refresh_state(RefreshState {
                            not_before: machine.next_refresh_at(),
                            failures: 0,
                            stale,
                            terminal: false,
                        });
                    }
                }
                Event::RefreshFailed {
                    terminal, retry_at, ..
                } => {
                    // A refresh token the machine kept from a 2xx answer it could not commit
                    // (an access token too large for it, a body refused for another member)
                    // replaces the one the endpoint may have spent, beside the old access token.
                    keep_rotated_refresh_token(&mut open.token, &machine);
                    let state = if terminal {
                        terminal_state()
                    } else {
                        let (failures, stale) = machine.streaks();
                        RefreshState {
                            not_before: retry_at,
                            failures,
                            stale,
                            terminal: false,
                        }
                    };
                    open.token.set_failure(REFRESH_TOKEN_ERROR, state);
                }
                Event::Expired { .. } => {}
            }
        }
        // A request that got no response at all is resent once, right away. Nothing was
        // answered, so a failure to write the resend (the same request as the first, into the
        // same buffer) loses no new credential: the browser keeps its cookie.
        if machine.last_error() == Some(refresh::RefreshError::NoResponse) && !machine.is_terminal()
        {
            match start_request(open, machine, now, client)? {
                Started::Pending(p) => return Ok(ReadStep::Refresh(p)),
                Started::NotDue(o) => open = o,
            }
        }
        self.complete_keeping(callbacks, open, now_ms, None, rng)
            .map(ReadStep::Done)
    }

    /// Writes the response of a read that [`Engine::resume`] (or an earlier `finish`) could not
    /// write, into `bufs`: `jwt` and `session` run again on the kept token, which is re-encoded
    /// with a fresh `iat`/`exp`/`jti` as of `now_ms`.
    ///
    /// # Errors
    ///
    /// As [`Engine::resume`]; the session is handed back again if it still cannot be written.
    pub fn finish<'b, C: Callbacks>(
        &self,
        callbacks: &mut C,
        unfinished: Unfinished<C::Token>,
        now_ms: i64,
        rng: &mut dyn RandomSource,
        bufs: Buffers<'b>,
    ) -> Result<Response<'b>, ResumeError<C::Token>> {
        let Unfinished { token, present } = unfinished;
        let open = OpenSession {
            token,
            present,
            bufs,
        };
        self.complete_keeping(callbacks, open, now_ms, None, rng)
    }
}

#[allow(
    clippy::large_enum_variant,
    reason = "no heap to box into; lives for one call"
)]
enum Started<'b, T> {
    Pending(PendingRefresh<'b, T>),
    NotDue(OpenSession<'b, T>),
}

/// The schedule of a credential issued at `now` (sign-in): not refreshed before half its
/// lifetime, the cap a refresh machine puts on the advisory margin.
///
/// For custom callbacks whose tokens implement [`RefreshableToken`]: store this with
/// [`RefreshableToken::set_refresh_state`] after the sign-in credential, as
/// [`OAuthCallbacks`] does. Without it, an access token that lives less than twice the
/// advisory margin is refreshed on the first read after sign-in.
#[must_use]
pub fn sign_in_state(now: i64, expires_at: i64) -> RefreshState {
    let half = expires_at.saturating_sub(now).max(0) / 2;
    RefreshState {
        not_before: Some(now.saturating_add(half)),
        ..RefreshState::default()
    }
}

/// The state after a terminal failure: nothing is retried.
fn terminal_state() -> RefreshState {
    RefreshState {
        terminal: true,
        ..RefreshState::default()
    }
}

/// Stores the machine's refresh token in `token` when it differs from the token's own: a
/// rotated one the endpoint issued in an answer whose access token could not be stored. Out
/// of line: the default [`RefreshableToken::set_refresh_token`] copies the access token onto
/// the stack, which only this rare path should pay for.
#[inline(never)]
fn keep_rotated_refresh_token<T: RefreshableToken>(token: &mut T, machine: &Machine) {
    let Some(rt) = machine.refresh_token() else {
        return;
    };
    if token.credential().and_then(|c| c.refresh_token) != Some(rt) {
        // Nothing better can be done when it does not fit: the failure is recorded next.
        let _ = token.set_refresh_token(rt);
    }
}

/// Asks the machine for the request, which marks it in flight; the bytes are produced again by
/// [`PendingRefresh::request`].
fn start_request<'b, T>(
    open: OpenSession<'b, T>,
    mut machine: Machine,
    now: i64,
    client: &Client<'_>,
) -> Result<Started<'b, T>, SessionError> {
    match machine.poll_request(now, client, open.bufs.scratch) {
        Ok(Some(_)) => Ok(Started::Pending(PendingRefresh { open, machine })),
        Ok(None) => Ok(Started::NotDue(open)),
        Err(RequestError::BufferTooSmall { needed }) => Err(SessionError::BufferTooSmall {
            buffer: BufferKind::Scratch,
            needed,
        }),
    }
}

/// Whether `token`'s credential has expired with no refresh token to renew it, and that has
/// not been recorded yet (as a terminal failure).
fn expired_without_refresh_token<T: RefreshableToken>(token: &T, now: i64) -> bool {
    token.credential().is_some_and(|c| {
        c.refresh_token.is_none() && now >= c.expires_at && !token.refresh_state().terminal
    })
}

/// Whether a session read should refresh `token` now: it has a refresh token, the last refresh
/// did not fail terminally, the access token is within the advisory margin of its expiry (or
/// past it), and the schedule the token carries allows it ([`RefreshState::not_before`]: the
/// back-off after a failure; after a success the refresh machine's schedule, which caps the
/// margin at half the new token's lifetime and keeps the minimum interval; after sign-in
/// through [`OAuthCallbacks`], half the lifetime, [`sign_in_state`]). No jitter applies here.
/// A credential without a refresh token is never due: once expired,
/// [`Engine::session_with_refresh`] records it as a terminal failure instead.
#[must_use]
pub fn refresh_due<T: RefreshableToken>(token: &T, now: i64, config: &refresh::Config) -> bool {
    let Some(c) = token.credential() else {
        return false;
    };
    if c.refresh_token.is_none() {
        return false;
    }
    let state = token.refresh_state();
    if state.terminal {
        return false;
    }
    let window = c
        .expires_at
        .saturating_sub(i64::from(config.advisory_margin_secs()));
    now >= window.max(state.not_before.unwrap_or(i64::MIN))
}
