//! Refreshing one credential over HTTPS: the core [`RefreshMachine`] driven with a real clock,
//! a [`Transport`], retries, a circuit breaker, single flight and a [`TokenStore`].
//!
//! The machine makes every decision (when a token is usable, when to refresh, what to send,
//! how to read the answer, how long to back off); [`Refresher`] adds the IO around it:
//!
//! - **Single flight.** Whatever the number of callers, at most one request per credential is
//!   in flight. The first caller that needs a refresh starts it on a dedicated thread; every
//!   caller (blocking or async) waits for that one result. Async callers await a future that
//!   needs no particular runtime; the network never runs on their executor. Store IO can
//!   run on the calling thread: the first call loads the credential, and a call after a
//!   failed save saves again, both under the credential's lock (which other callers of the
//!   same credential then wait for, as they do while [`Refresher::set_tokens`] or
//!   [`Refresher::sign_out`] writes the store on another thread); while the credential has
//!   failed for good, each call reads the store once (see *Shared stores*). With a local
//!   file store that is one small read or write; give a slow store its own thread.
//! - **Shared stores.** Before each send, and after the server refused the refresh token as
//!   spent (`invalid_grant`), the store is read again: a set with a refresh token that is
//!   neither ours nor the one this refresher last read or wrote there was saved by another
//!   process sharing the store since (a refresh, a sign-in), and is taken over instead of
//!   sending a spent token. A credential that has failed for good looks again on each call.
//!   Not after [`Refresher::set_refresh_token`] until its first save (the store then holds
//!   an older credential, not newer work). Two processes that refresh in the very same
//!   moment still race; serialize them (one refresher per credential) where that matters.
//! - **Sign-in and sign-out against a refresh.** [`Refresher::set_tokens`],
//!   [`Refresher::set_refresh_token`] and [`Refresher::sign_out`] wait for a refresh's save
//!   in progress, and a refresh that has not saved yet when they run does not save at all:
//!   the store ends with what the last of them wrote.
//! - **Panics.** If the transport, store or clock panics during a refresh, its waiters get
//!   [`Error::Panicked`] and the next call starts afresh.
//! - **Retries.** A transient failure (5xx, 429, connection reset, timeout) is retried at most
//!   [`RetryPolicy::max_retries`] times, after the machine's exponential backoff (which honours
//!   `Retry-After` up to [`Config::retry_after_max`]) plus a little random jitter. Terminal
//!   failures (`invalid_grant`, an unusable 200...) are never retried.
//! - **Circuit breaker.** [`CircuitBreaker`] pauses all attempts after consecutive transient
//!   failures.
//! - **Persist first.** A new token set is saved to the store before any caller sees the new
//!   access token. If saving fails (after [`RetryPolicy::persist_attempts`] tries), the new set
//!   stays in memory, callers get [`Error::Persist`], and the next call tries to save again.
//!   A terminal failure on a 2xx answer that was refused but carried a valid rotated refresh
//!   token (the old one may be spent) saves that token in place of the stored one; a
//!   credential installed with [`Refresher::set_refresh_token`] has no set to save it with,
//!   and [`Refresher::refresh_token`] is then its only copy.
//! - **Logs.** One `tracing` event per refresh (target `authcore_std::refresh`: credential key,
//!   reason, outcome, attempts, latency). Tokens, secrets and headers are never logged, and
//!   every `Debug` and `Display` here redacts them.

use std::collections::hash_map::RandomState;
use std::fmt;
use std::hash::{BuildHasher as _, Hasher as _};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use authcore::refresh::{
    self as core_refresh, Client, Config, CredentialError, Event, HttpResponse, NotUsable,
    RefreshError, RefreshMachine, RequestError, Status, TransportFailure,
};

use crate::breaker::CircuitBreaker;
use crate::clock::{Clock, SystemClock};
use crate::http::{Endpoint, FormPost, HttpsTransport, Transport, TransportError};
use crate::secret::Secret;
use crate::single_flight::Flight;
use crate::store::{MemoryStore, StoreError, TokenSet, TokenStore};

/// Capacity of the access token, in bytes (large JWTs fit).
pub const MAX_ACCESS_TOKEN: usize = 16 * 1024;
/// Capacity of the refresh token, in bytes.
pub const MAX_REFRESH_TOKEN: usize = 4 * 1024;
/// Capacity of the granted scope, in bytes: a longer scope in a response is not stored (the
/// tokens still are).
pub const MAX_SCOPE: usize = 8 * 1024;

type Machine = RefreshMachine<MAX_ACCESS_TOKEN, MAX_REFRESH_TOKEN, MAX_SCOPE>;

/// Points in a rotation where a crash test may stop the process.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// The request is built; nothing was sent.
    BeforeSend,
    /// A complete response came back; nothing was committed.
    AfterResponse,
    /// Half of the new set is written to the store's temporary file.
    MidWrite,
    /// The new set is durable; callers have not been told.
    AfterWrite,
}

/// Fault-injection callback (crash tests only).
pub type StepHook = Arc<dyn Fn(Step) + Send + Sync>;

/// How the client authenticates to the token endpoint.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    /// `client_secret_basic` (HTTP Basic; RFC 6749's default).
    Basic,
    /// `client_secret_post` (id and secret in the body).
    Post,
    /// A public client: `client_id` only.
    None,
}

/// The OAuth client. `Debug` redacts the secret.
#[derive(Clone)]
pub struct ClientCredentials {
    id: String,
    secret: Secret,
    method: AuthMethod,
    scope: Option<String>,
}

impl ClientCredentials {
    /// A confidential client using `client_secret_basic`.
    #[must_use]
    pub fn basic(id: impl Into<String>, secret: impl Into<Secret>) -> Self {
        Self {
            id: id.into(),
            secret: secret.into(),
            method: AuthMethod::Basic,
            scope: None,
        }
    }

    /// A confidential client using `client_secret_post`.
    #[must_use]
    pub fn post(id: impl Into<String>, secret: impl Into<Secret>) -> Self {
        Self {
            method: AuthMethod::Post,
            ..Self::basic(id, secret)
        }
    }

    /// A public client.
    #[must_use]
    pub fn public(id: impl Into<String>) -> Self {
        Self {
            method: AuthMethod::None,
            ..Self::basic(id, "")
        }
    }

    /// Sends `scope` with every refresh request.
    #[must_use]
    pub fn with_scope(mut self, scope: impl Into<String>) -> Self {
        self.scope = Some(scope.into());
        self
    }

    fn as_core(&self) -> Client<'_> {
        let client = match self.method {
            AuthMethod::Basic => Client::secret_basic(&self.id, self.secret.expose()),
            AuthMethod::Post => Client::secret_post(&self.id, self.secret.expose()),
            AuthMethod::None => Client::public(&self.id),
        };
        match &self.scope {
            Some(s) => client.with_scope(s),
            None => client,
        }
    }
}

impl fmt::Debug for ClientCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientCredentials")
            .field("id", &self.id)
            .field("secret", &"<redacted>")
            .field("method", &self.method)
            .field("scope", &self.scope)
            .finish()
    }
}

/// Retry and persistence policy (the backoff delays themselves come from the core
/// [`Config`]).
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt for transient failures. Default **3**.
    pub max_retries: u32,
    /// Longest wait before one retry; a longer backoff or `Retry-After` ends the refresh with
    /// [`Error::Unavailable`] instead of blocking callers. Default **30 s**.
    pub max_wait: Duration,
    /// Extra random delay added to each backoff, as a fraction in per mille of the delay.
    /// Default **200** (up to 20 % longer).
    pub jitter_per_mille: u32,
    /// Tries to save a new set before reporting [`Error::Persist`]. Default **3**.
    pub persist_attempts: u32,
    /// First pause between save tries (doubles each time). Default **50 ms**.
    pub persist_backoff: Duration,
}

impl RetryPolicy {
    /// The defaults.
    pub const DEFAULT: Self = Self {
        max_retries: 3,
        max_wait: Duration::from_secs(30),
        jitter_per_mille: 200,
        persist_attempts: 3,
        persist_backoff: Duration::from_millis(50),
    };

    /// Sets [`max_retries`](Self::max_retries).
    #[must_use]
    pub const fn max_retries(mut self, n: u32) -> Self {
        self.max_retries = n;
        self
    }

    /// Sets [`max_wait`](Self::max_wait).
    #[must_use]
    pub const fn max_wait(mut self, d: Duration) -> Self {
        self.max_wait = d;
        self
    }

    /// Sets [`persist_attempts`](Self::persist_attempts) and
    /// [`persist_backoff`](Self::persist_backoff).
    #[must_use]
    pub const fn persist(mut self, attempts: u32, backoff: Duration) -> Self {
        self.persist_attempts = attempts;
        self.persist_backoff = backoff;
        self
    }
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// The core configuration the adapter uses by default: the core defaults with a 1 s first
/// backoff (retries after about 1, 2 and 4 s) and `Retry-After` honoured up to 30 s.
pub const DEFAULT_CONFIG: Config = Config::DEFAULT.backoff_initial(1).retry_after_max(30);

/// Why a token could not be had.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// No credential: sign in first.
    NoCredential,
    /// The refresh failed for good (OAuth error such as `invalid_grant`, an unusable success
    /// response, no response twice): sign in again. The stored set is unchanged, except that a
    /// valid rotated refresh token in a 2xx answer that was refused (the old one may be spent)
    /// replaces the stored refresh token; with a refresh-token-only credential
    /// ([`Refresher::set_refresh_token`]) there is no set to store it with, and
    /// [`Refresher::refresh_token`] is its only copy.
    Refresh {
        /// The machine's classification.
        error: RefreshError,
        /// The raw OAuth `error` code when the core does not know it (`RefreshError::OAuth`
        /// with `OAuthError::Other`); only `[a-z0-9_]`, at most 40 bytes, never a known secret.
        code: Option<String>,
    },
    /// An earlier refresh failed for good; no request is made: sign in again.
    SignInRequired {
        /// What failed, if known.
        last: Option<RefreshError>,
    },
    /// Transient failures (retries exhausted, or backing off): try again later.
    Unavailable {
        /// The last failure.
        last: Option<RefreshError>,
        /// The last transport failure, when the last attempt got no response.
        transport: Option<TransportError>,
        /// When the machine allows the next attempt (Unix seconds).
        retry_at: Option<i64>,
    },
    /// The circuit breaker is open: no request was made.
    CircuitOpen {
        /// How long until an attempt may start.
        retry_in: Duration,
    },
    /// A new set was received but could not be saved. It is kept in memory (the old refresh
    /// token may already be spent) and saving is tried again on the next call; the new
    /// access token is not handed out until it is saved.
    Persist(StoreError),
    /// The store could not be read.
    Store(StoreError),
    /// The stored or given tokens are not acceptable (too large, bad characters).
    Credential(CredentialError),
    /// The given set's `token_type` is not `Bearer`: its access token would go out in a
    /// `Bearer` header all the same (a `DPoP` token needs a proof with each request).
    UnsupportedTokenType,
    /// The refresh request could not be built.
    Request(RequestError),
    /// No thread could be started for the refresh.
    Spawn,
    /// The transport, store or clock panicked during the refresh. The refresh is abandoned
    /// (a request that may have left counts as unanswered) and every waiter gets this error;
    /// the next call starts afresh.
    Panicked,
}

impl Error {
    /// Stable snake_case name of the error.
    #[must_use]
    pub const fn kind(&self) -> &'static str {
        match self {
            Self::NoCredential => "no_credential",
            Self::Refresh { .. } => "refresh_failed",
            Self::SignInRequired { .. } => "sign_in_required",
            Self::Unavailable { .. } => "unavailable",
            Self::CircuitOpen { .. } => "circuit_open",
            Self::Persist(_) => "persist_failed",
            Self::Store(_) => "store_failed",
            Self::Credential(_) => "invalid_credential",
            Self::UnsupportedTokenType => "unsupported_token_type",
            Self::Request(_) => "request_error",
            Self::Spawn => "spawn_failed",
            Self::Panicked => "panicked",
        }
    }

    /// The OAuth `error` code, when the token endpoint sent one.
    #[must_use]
    pub fn oauth_code(&self) -> Option<&str> {
        match self {
            Self::Refresh {
                error: RefreshError::OAuth { code, .. },
                code: raw,
            } => Some(raw.as_deref().unwrap_or(code.as_str())),
            _ => None,
        }
    }

    /// Whether the user must sign in again.
    #[must_use]
    pub const fn is_terminal(&self) -> bool {
        matches!(
            self,
            Self::Refresh { .. } | Self::SignInRequired { .. } | Self::NoCredential
        )
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoCredential => f.write_str("no credential: sign in first"),
            Self::Refresh { error, code } => match (error, code) {
                (RefreshError::OAuth { status, .. }, Some(code)) => {
                    write!(f, "token endpoint returned error {code} (status {status})")
                }
                _ => write!(f, "{error}"),
            },
            Self::SignInRequired { last: Some(e) } => {
                write!(f, "refresh failed earlier ({e}): sign in again")
            }
            Self::SignInRequired { last: None } => f.write_str("refresh failed: sign in again"),
            Self::Unavailable {
                last, transport, ..
            } => {
                f.write_str("token endpoint unavailable")?;
                if let Some(t) = transport {
                    write!(f, ": {t}")
                } else if let Some(e) = last {
                    write!(f, ": {e}")
                } else {
                    Ok(())
                }
            }
            Self::CircuitOpen { retry_in } => write!(
                f,
                "token endpoint circuit open: retry in {} ms",
                retry_in.as_millis()
            ),
            Self::Persist(e) => write!(f, "new tokens could not be saved: {e}"),
            Self::Store(e) => write!(f, "tokens could not be loaded: {e}"),
            Self::Credential(e) => write!(f, "unusable credential: {e}"),
            Self::UnsupportedTokenType => f.write_str("token_type is not Bearer"),
            Self::Request(e) => write!(f, "{e}"),
            Self::Spawn => f.write_str("cannot start the refresh thread"),
            Self::Panicked => f.write_str("the refresh thread panicked"),
        }
    }
}

impl std::error::Error for Error {}

/// An access token handed out by a [`Refresher`]. Cheap to clone; `Debug` redacts it.
#[derive(Clone, PartialEq, Eq)]
pub struct AccessToken {
    set: Arc<TokenSet>,
    generation: u32,
}

impl AccessToken {
    /// The token. Do not log it.
    #[must_use]
    pub fn secret(&self) -> &str {
        self.set.access_token.expose()
    }

    /// The `Authorization` header value: `Bearer <token>`. Do not log it.
    #[must_use]
    pub fn authorization(&self) -> Secret {
        Secret::new(format!("Bearer {}", self.secret()))
    }

    /// The credential generation this token belongs to (see [`Refresher::token_rejected`]).
    #[must_use]
    pub const fn generation(&self) -> u32 {
        self.generation
    }

    /// The whole set it came with.
    #[must_use]
    pub fn token_set(&self) -> &TokenSet {
        &self.set
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessToken")
            .field("token", &"<redacted>")
            .field("generation", &self.generation)
            .field("expires_at", &self.set.expires_at)
            .finish()
    }
}

type Outcome = Result<AccessToken, Error>;

/// Builds a [`Refresher`].
pub struct RefresherBuilder {
    endpoint: Endpoint,
    client: ClientCredentials,
    key: String,
    store: Arc<dyn TokenStore>,
    transport: Arc<dyn Transport>,
    clock: Arc<dyn Clock>,
    config: Config,
    policy: RetryPolicy,
    breaker: Arc<CircuitBreaker>,
    hook: Option<StepHook>,
}

impl RefresherBuilder {
    /// The key of this credential in the store (default `"default"`).
    #[must_use]
    pub fn key(mut self, key: impl Into<String>) -> Self {
        self.key = key.into();
        self
    }

    /// Where token sets are kept (default: a [`MemoryStore`]).
    #[must_use]
    pub fn store(mut self, store: Arc<dyn TokenStore>) -> Self {
        self.store = store;
        self
    }

    /// How requests are sent (default: [`HttpsTransport`] with default timeouts).
    #[must_use]
    pub fn transport(mut self, transport: Arc<dyn Transport>) -> Self {
        self.transport = transport;
        self
    }

    /// The clock (default: [`SystemClock`]).
    #[must_use]
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The core machine's configuration (default: [`DEFAULT_CONFIG`]).
    #[must_use]
    pub const fn config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    /// Retry and persistence policy.
    #[must_use]
    pub const fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// A circuit breaker, possibly shared with other credentials of the same endpoint.
    #[must_use]
    pub fn circuit_breaker(mut self, breaker: Arc<CircuitBreaker>) -> Self {
        self.breaker = breaker;
        self
    }

    /// Fault injection for crash tests. Not for production use.
    #[doc(hidden)]
    #[must_use]
    pub fn step_hook(mut self, hook: StepHook) -> Self {
        self.hook = Some(hook);
        self
    }

    /// The refresher. Nothing is loaded or sent yet.
    #[must_use]
    pub fn build(self) -> Refresher {
        let mut seed = RandomState::new().build_hasher();
        seed.write_u8(0);
        let seed = seed.finish();
        let machine = Box::new(Machine::new(self.config, (seed >> 32) as u32 | 1));
        Refresher {
            inner: Arc::new(Inner {
                endpoint: self.endpoint,
                client: self.client,
                key: self.key,
                store: self.store,
                transport: self.transport,
                clock: self.clock,
                policy: self.policy,
                breaker: self.breaker,
                hook: self.hook,
                rng: Mutex::new(seed | 1),
                writes: Mutex::new(()),
                state: Mutex::new(State {
                    machine,
                    current: None,
                    unpersisted: None,
                    flight: None,
                    loaded: false,
                    epoch: 0,
                    store_rt: None,
                }),
            }),
        }
    }
}

impl fmt::Debug for RefresherBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RefresherBuilder")
            .field("endpoint", &self.endpoint)
            .field("client", &self.client)
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

/// Keeps one credential's access token usable. Cheap to clone (shared state).
///
/// ```no_run
/// use std::sync::Arc;
/// use authcore_std::http::Endpoint;
/// use authcore_std::refresh::{ClientCredentials, Refresher};
/// use authcore_std::store::FileStore;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let endpoint = Endpoint::parse("https://auth.example.com/oauth/token")?;
/// let client = ClientCredentials::basic("my-app", std::env::var("CLIENT_SECRET")?);
/// let refresher = Refresher::builder(endpoint, client)
///     .key("user-42")
///     .store(Arc::new(FileStore::new("/var/lib/my-app/tokens")?))
///     .build();
/// let token = refresher.access_token()?; // refreshes first if needed
/// # let _ = token;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Refresher {
    inner: Arc<Inner>,
}

struct Inner {
    endpoint: Endpoint,
    client: ClientCredentials,
    key: String,
    store: Arc<dyn TokenStore>,
    transport: Arc<dyn Transport>,
    clock: Arc<dyn Clock>,
    policy: RetryPolicy,
    breaker: Arc<CircuitBreaker>,
    hook: Option<StepHook>,
    rng: Mutex<u64>,
    /// Held across every store write or removal that must not interleave with another: a
    /// refresh's save against sign-in and sign-out. Taken before `state`, never after. (The
    /// save of a pending set in `begin` runs under `state` alone: no refresh is in flight
    /// then, and sign-in and sign-out take `state` too.)
    writes: Mutex<()>,
    state: Mutex<State>,
}

struct State {
    machine: Box<Machine>,
    /// What is handed out: the durable set and its generation.
    current: Option<(Arc<TokenSet>, u32)>,
    /// A set the machine committed that is not yet saved (with its generation).
    unpersisted: Option<(TokenSet, u32)>,
    flight: Option<Arc<Flight<Outcome>>>,
    loaded: bool,
    /// Bumped when the credential is replaced or removed from outside a refresh (sign-in,
    /// sign-out): a refresh that started before must not save its result then.
    epoch: u64,
    /// The refresh token of what this refresher last read from or wrote to the store
    /// (`Some(None)`: no set, or one without a refresh token); `None` while unknown (after
    /// [`Refresher::set_refresh_token`], until its first save). A stored set with another
    /// refresh token than this and ours was written by someone else since: see
    /// [`Inner::adopt_stored`].
    store_rt: Option<Option<Secret>>,
}

/// What a caller asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// A usable token; refresh only if the machine says so.
    Get,
    /// Refresh now (join a refresh in flight).
    Force,
    /// The API rejected the token of this generation.
    Rejected(u32),
}

enum Begin {
    Ready(AccessToken),
    Wait(Arc<Flight<Outcome>>),
    Fail(Error),
    /// A forced refresh is not allowed yet (backoff or minimum interval).
    NotDue(Option<AccessToken>),
}

impl Refresher {
    /// A builder for a credential at `endpoint`.
    #[must_use]
    pub fn builder(endpoint: Endpoint, client: ClientCredentials) -> RefresherBuilder {
        RefresherBuilder {
            endpoint,
            client,
            key: "default".to_owned(),
            store: Arc::new(MemoryStore::new()),
            transport: Arc::new(HttpsTransport::default()),
            clock: Arc::new(SystemClock::new()),
            config: DEFAULT_CONFIG,
            policy: RetryPolicy::DEFAULT,
            breaker: Arc::new(CircuitBreaker::default()),
            hook: None,
        }
    }

    /// A usable access token, refreshing first when the machine says the current one must not
    /// be used (mandatory window, expired). In the advisory window the current token is
    /// returned and a refresh starts in the background. Blocks while a refresh it needs is in
    /// flight; use [`access_token_async`](Self::access_token_async) on an async runtime.
    ///
    /// # Errors
    ///
    /// [`Error`]: terminal ones mean sign in again; others mean try again later.
    pub fn access_token(&self) -> Result<AccessToken, Error> {
        self.run_blocking(Mode::Get)
    }

    /// [`access_token`](Self::access_token) for async code: the network never runs on the
    /// executor (the refresh runs on its own thread; store IO may, see the module docs), and it
    /// works on any runtime.
    ///
    /// # Errors
    ///
    /// As [`access_token`](Self::access_token).
    pub async fn access_token_async(&self) -> Result<AccessToken, Error> {
        self.run_async(Mode::Get).await
    }

    /// Refreshes now, whatever the expiry says (joins a refresh already in flight). The
    /// machine's backoff still applies.
    ///
    /// # Errors
    ///
    /// As [`access_token`](Self::access_token); [`Error::Unavailable`] while backing off.
    pub fn refresh(&self) -> Result<AccessToken, Error> {
        self.run_blocking(Mode::Force)
    }

    /// [`refresh`](Self::refresh) for async code.
    ///
    /// # Errors
    ///
    /// As [`refresh`](Self::refresh).
    pub async fn refresh_async(&self) -> Result<AccessToken, Error> {
        self.run_async(Mode::Force).await
    }

    /// A resource server rejected the token of `generation` (HTTP 401). Refreshes at most once
    /// per generation: when the token was already replaced the newer one is returned at once,
    /// and concurrent callers share one refresh. The machine's minimum interval is lifted
    /// once per generation (see `RefreshMachine::handle_token_rejected`). `Ok(None)` when no
    /// refresh is allowed yet (backoff, or the interval after a token that itself came from
    /// such an early refresh): the rejection stands.
    ///
    /// # Errors
    ///
    /// As [`refresh`](Self::refresh).
    pub fn token_rejected(&self, generation: u32) -> Result<Option<AccessToken>, Error> {
        match self.begin(Mode::Rejected(generation)) {
            Begin::NotDue(_) => Ok(None),
            other => self.finish_blocking(other).map(Some),
        }
    }

    /// [`token_rejected`](Self::token_rejected) for async code.
    ///
    /// # Errors
    ///
    /// As [`token_rejected`](Self::token_rejected).
    pub async fn token_rejected_async(
        &self,
        generation: u32,
    ) -> Result<Option<AccessToken>, Error> {
        match self.begin(Mode::Rejected(generation)) {
            Begin::NotDue(_) => Ok(None),
            Begin::Ready(t) => Ok(Some(t)),
            Begin::Fail(e) => Err(e),
            Begin::Wait(f) => f.wait_async().await.map(Some),
        }
    }

    /// Installs a new set after sign-in: saved to the store first, then used.
    ///
    /// # Errors
    ///
    /// [`Error::Credential`] when the tokens do not fit; [`Error::UnsupportedTokenType`] when
    /// the set is not `Bearer`; [`Error::Persist`] when saving failed (nothing changes in the
    /// refresher then; after [`StoreError::NotDurable`] the store already holds the new set).
    pub fn set_tokens(&self, set: TokenSet) -> Result<AccessToken, Error> {
        let inner = &self.inner;
        if !set.is_bearer() {
            return Err(Error::UnsupportedTokenType);
        }
        {
            // Validate before saving.
            let mut probe = Machine::new(DEFAULT_CONFIG, 1);
            probe
                .set_credential(
                    inner.clock.unix_now(),
                    set.access_token.expose(),
                    set.refresh_token.as_ref().map(Secret::expose),
                    set.expires_at,
                )
                .map_err(Error::Credential)?;
        }
        // Saved and installed as one step with respect to a refresh's save and a sign-out.
        let _writes = inner.lock_writes();
        let mut state = inner.lock();
        inner.store.save(&inner.key, &set).map_err(Error::Persist)?;
        state.epoch = state.epoch.wrapping_add(1);
        state.store_rt = Some(set.refresh_token.clone());
        let now = inner.clock.unix_now();
        state
            .machine
            .set_credential(
                now,
                set.access_token.expose(),
                set.refresh_token.as_ref().map(Secret::expose),
                set.expires_at,
            )
            .map_err(Error::Credential)?;
        let generation = state.machine.generation();
        let set = Arc::new(set);
        state.current = Some((Arc::clone(&set), generation));
        state.unpersisted = None;
        state.loaded = true;
        Ok(AccessToken { set, generation })
    }

    /// Installs a credential known only by its refresh token (a CLI, a migration): no
    /// access token is handed out until a refresh succeeds, and the next
    /// [`access_token`](Self::access_token) or [`refresh`](Self::refresh) refreshes first.
    /// Nothing is saved before that refresh (the store holds whole sets).
    ///
    /// # Errors
    ///
    /// [`Error::Credential`] when the token does not fit or has characters that cannot go
    /// into an HTTP header; nothing changes then.
    pub fn set_refresh_token(&self, refresh_token: &Secret) -> Result<(), Error> {
        let _writes = self.inner.lock_writes();
        let mut state = self.inner.lock();
        let now = self.inner.clock.unix_now();
        state
            .machine
            .set_refresh_token_only(now, refresh_token.expose())
            .map_err(Error::Credential)?;
        state.epoch = state.epoch.wrapping_add(1);
        // The store still holds whatever it held: not ours to take over.
        state.store_rt = None;
        state.current = None;
        state.unpersisted = None;
        state.loaded = true;
        Ok(())
    }

    /// Forgets the credential here and in the store (sign-out).
    ///
    /// # Errors
    ///
    /// [`Error::Store`] when the store could not delete it.
    pub fn sign_out(&self) -> Result<(), Error> {
        // A refresh saving its result meanwhile finishes first, then this removes it; one that
        // has not saved yet sees the new epoch and does not save.
        let _writes = self.inner.lock_writes();
        let mut state = self.inner.lock();
        state.epoch = state.epoch.wrapping_add(1);
        state.machine.clear();
        state.current = None;
        state.unpersisted = None;
        state.loaded = true;
        self.inner
            .store
            .remove(&self.inner.key)
            .map_err(Error::Store)?;
        state.store_rt = Some(None);
        Ok(())
    }

    /// The set currently handed out, if any (possibly expired).
    #[must_use]
    pub fn current(&self) -> Option<TokenSet> {
        let state = self.inner.lock();
        state.current.as_ref().map(|(s, _)| (**s).clone())
    }

    /// The refresh token this refresher holds now: after a refresh the new one (also while its
    /// set waits to be saved, [`Error::Persist`]); after a terminal failure whose 2xx answer
    /// was refused but carried a valid rotated refresh token, that kept token (the server may
    /// have spent the old one); `None` before the credential is loaded (the first
    /// [`access_token`](Self::access_token) or [`refresh`](Self::refresh)) or installed, and
    /// after [`sign_out`](Self::sign_out). Secret: do not log it.
    ///
    /// A kept token normally replaces the stored set's refresh token. A credential installed
    /// with [`set_refresh_token`](Self::set_refresh_token) has no set yet, and a store only
    /// holds whole sets (with an access token): a token kept before its first successful
    /// refresh cannot be stored, and this is its only copy (the process ending loses it). A
    /// caller with such a credential should read it here after [`Error::Refresh`] and keep it
    /// where the user can find it (`authcore refresh` writes it out).
    #[must_use]
    pub fn refresh_token(&self) -> Option<Secret> {
        let state = self.inner.lock();
        state.machine.refresh_token().map(Secret::new)
    }

    /// Where the credential stands now, as the machine sees it.
    #[must_use]
    pub fn status(&self) -> Status {
        let state = self.inner.lock();
        state.machine.status(self.inner.clock.unix_now())
    }

    /// The circuit breaker in use.
    #[must_use]
    pub fn circuit_breaker(&self) -> &CircuitBreaker {
        &self.inner.breaker
    }

    /// The credential's key in the store.
    #[must_use]
    pub fn key(&self) -> &str {
        &self.inner.key
    }

    fn run_blocking(&self, mode: Mode) -> Outcome {
        let begin = self.begin(mode);
        self.finish_blocking(begin)
    }

    fn finish_blocking(&self, begin: Begin) -> Outcome {
        match begin {
            Begin::Ready(t) => Ok(t),
            Begin::Fail(e) => Err(e),
            Begin::Wait(f) => f.wait(),
            Begin::NotDue(current) => current.ok_or_else(|| self.inner.unavailable()),
        }
    }

    async fn run_async(&self, mode: Mode) -> Outcome {
        match self.begin(mode) {
            Begin::Ready(t) => Ok(t),
            Begin::Fail(e) => Err(e),
            Begin::Wait(f) => f.wait_async().await,
            Begin::NotDue(current) => current.ok_or_else(|| self.inner.unavailable()),
        }
    }

    /// Decides, under the state lock, whether to hand out a token, wait for a flight, or
    /// start one.
    fn begin(&self, mode: Mode) -> Begin {
        let inner = &self.inner;
        // A credential that failed for good may since have been replaced by another process
        // sharing the store (a sign-in there, or its save of the rotation that beat ours):
        // take that over rather than answer "sign in again" for the life of this process.
        let terminal = {
            let state = inner.lock();
            state.loaded && state.machine.is_terminal() && state.flight.is_none()
        };
        if terminal {
            let _ = inner.adopt_stored();
        }
        let mut state = inner.lock();
        if !state.loaded {
            if let Err(e) = inner.load(&mut state) {
                return Begin::Fail(e);
            }
        }
        let now = inner.clock.unix_now();
        state.machine.handle_timeout(now);
        inner.drain_events(&mut state);
        if state.unpersisted.is_some() {
            if let Some(f) = &state.flight {
                return Begin::Wait(Arc::clone(f));
            }
            if let Err(e) = inner.persist_pending(&mut state) {
                return Begin::Fail(e);
            }
        }
        let mode = match mode {
            Mode::Rejected(g) if g != state.machine.generation() => Mode::Get,
            m => m,
        };
        let reason = match mode {
            Mode::Get => match state.machine.access_token(now) {
                Ok(_) => {
                    let Some(token) = state.current_token() else {
                        return Begin::Fail(Error::NoCredential);
                    };
                    if state.machine.status(now) == Status::Advisory
                        && state.flight.is_none()
                        && state.machine.is_due(now)
                        && inner.breaker.peek(inner.clock.monotonic()).is_ok()
                    {
                        // Refresh in the background; this caller does not wait.
                        let _ = self.start_flight(&mut state, "advisory");
                    }
                    return Begin::Ready(token);
                }
                Err(NotUsable::Empty) => return Begin::Fail(Error::NoCredential),
                Err(NotUsable::SignInRequired) => {
                    return Begin::Fail(Error::SignInRequired {
                        last: state.machine.last_error(),
                    })
                }
                Err(NotUsable::Expired { .. }) => "expired",
                Err(_) => "mandatory",
            },
            Mode::Force => "forced",
            Mode::Rejected(_) => "rejected",
        };
        if let Some(f) = &state.flight {
            return Begin::Wait(Arc::clone(f));
        }
        if state.machine.is_terminal() {
            return Begin::Fail(Error::SignInRequired {
                last: state.machine.last_error(),
            });
        }
        if state.machine.expires_at().is_none() {
            return Begin::Fail(Error::NoCredential);
        }
        match mode {
            Mode::Get => {}
            Mode::Force => state.machine.handle_refresh_requested(now),
            // The 401 proves the token dead: the machine lifts its minimum interval once.
            Mode::Rejected(_) => state.machine.handle_token_rejected(now),
        }
        if !state.machine.is_due(now) {
            return match mode {
                Mode::Get => Begin::Fail(inner.unavailable_from(&state)),
                _ => Begin::NotDue(None),
            };
        }
        if let Err(retry_in) = inner.breaker.peek(inner.clock.monotonic()) {
            return Begin::Fail(Error::CircuitOpen { retry_in });
        }
        match self.start_flight(&mut state, reason) {
            Ok(f) => Begin::Wait(f),
            Err(e) => Begin::Fail(e),
        }
    }

    fn start_flight(
        &self,
        state: &mut State,
        reason: &'static str,
    ) -> Result<Arc<Flight<Outcome>>, Error> {
        let flight = Arc::new(Flight::new());
        state.flight = Some(Arc::clone(&flight));
        let inner = Arc::clone(&self.inner);
        let leader = Arc::clone(&flight);
        let spawned = std::thread::Builder::new()
            .name("authcore-refresh".into())
            .spawn(move || inner.lead(&leader, reason));
        if spawned.is_err() {
            state.flight = None;
            return Err(Error::Spawn);
        }
        Ok(flight)
    }
}

impl fmt::Debug for Refresher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Refresher")
            .field("endpoint", &self.inner.endpoint)
            .field("client", &self.inner.client)
            .field("key", &self.inner.key)
            .field("store", &self.inner.store)
            .field("breaker", &self.inner.breaker)
            .finish_non_exhaustive()
    }
}

impl State {
    fn current_token(&self) -> Option<AccessToken> {
        self.current.as_ref().map(|(set, generation)| AccessToken {
            set: Arc::clone(set),
            generation: *generation,
        })
    }
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn lock_writes(&self) -> MutexGuard<'_, ()> {
        self.writes.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn hook(&self, step: Step) {
        if let Some(h) = &self.hook {
            h(step);
        }
    }

    fn load(&self, state: &mut State) -> Result<(), Error> {
        let set = self.store.load(&self.key).map_err(Error::Store)?;
        if set.as_ref().is_some_and(|s| !s.is_bearer()) {
            return Err(Error::UnsupportedTokenType);
        }
        state.store_rt = Some(set.as_ref().and_then(|s| s.refresh_token.clone()));
        if let Some(set) = set {
            state
                .machine
                .set_credential(
                    self.clock.unix_now(),
                    set.access_token.expose(),
                    set.refresh_token.as_ref().map(Secret::expose),
                    set.expires_at,
                )
                .map_err(Error::Credential)?;
            state.current = Some((Arc::new(set), state.machine.generation()));
        }
        state.loaded = true;
        Ok(())
    }

    fn unavailable(&self) -> Error {
        let state = self.lock();
        self.unavailable_from(&state)
    }

    fn unavailable_from(&self, state: &State) -> Error {
        Error::Unavailable {
            last: state.machine.last_error(),
            transport: None,
            retry_at: state.machine.poll_timeout(),
        }
    }

    /// Logs events the caller does not act on.
    fn drain_events(&self, state: &mut State) {
        while let Some(event) = state.machine.poll_event() {
            tracing::trace!(target: "authcore_std::refresh", credential = %self.key, ?event, "machine event");
        }
    }

    fn persist_pending(&self, state: &mut State) -> Result<(), Error> {
        let Some((set, generation)) = state.unpersisted.take() else {
            return Ok(());
        };
        match self.store.save(&self.key, &set) {
            Ok(()) => {
                tracing::info!(target: "authcore_std::refresh", credential = %self.key, "pending token set saved");
                state.store_rt = Some(set.refresh_token.clone());
                state.current = Some((Arc::new(set), generation));
                Ok(())
            }
            Err(e) => {
                state.unpersisted = Some((set, generation));
                Err(Error::Persist(e))
            }
        }
    }

    /// The refresh thread: drives the machine until success or a final failure, then
    /// publishes the result to every waiter.
    fn lead(&self, flight: &Flight<Outcome>, reason: &'static str) {
        let started = self.clock.monotonic();
        // Whatever a transport, store or clock does, the flight ends: a panic here would
        // otherwise leave every waiter (and every later caller, who joins the flight) blocked.
        let (outcome, attempts) = match catch_unwind(AssertUnwindSafe(|| self.drive())) {
            Ok(done) => done,
            Err(_) => {
                let now = catch_unwind(AssertUnwindSafe(|| self.clock.unix_now())).unwrap_or(0);
                let mut state = self.lock();
                // A request that may have left counts as unanswered (sent once more at most).
                let _ = state
                    .machine
                    .handle_transport_error(now, TransportFailure::NoResponse);
                while state.machine.poll_event().is_some() {}
                (Err(Error::Panicked), 0)
            }
        };
        let latency = catch_unwind(AssertUnwindSafe(|| self.clock.monotonic()))
            .unwrap_or(started)
            .saturating_sub(started);
        {
            let mut state = self.lock();
            state.flight = None;
        }
        let latency_ms = u64::try_from(latency.as_millis()).unwrap_or(u64::MAX);
        // A log layer that panics must not keep the outcome from the waiters either.
        let _ = catch_unwind(AssertUnwindSafe(|| match &outcome {
            Ok(token) => tracing::info!(
                target: "authcore_std::refresh",
                credential = %self.key,
                reason,
                outcome = if attempts == 0 { "taken_over" } else { "refreshed" },
                attempts,
                latency_ms,
                generation = token.generation(),
                expires_at = token.token_set().expires_at,
                "token refresh"
            ),
            Err(e) => tracing::warn!(
                target: "authcore_std::refresh",
                credential = %self.key,
                reason,
                outcome = e.kind(),
                error = %e,
                attempts,
                latency_ms,
                "token refresh"
            ),
        }));
        flight.finish(outcome);
    }

    /// Sends and retries; returns the outcome and the number of requests sent.
    fn drive(&self) -> (Outcome, u32) {
        let mut sends = 0u32;
        let mut retries = 0u32;
        loop {
            if let Some(Some(adopted)) = self.adopt_stored() {
                return (Ok(adopted), sends);
            }
            if let Err(retry_in) = self.breaker.allow(self.clock.monotonic()) {
                return (Err(Error::CircuitOpen { retry_in }), sends);
            }
            let (body, authorization, sent_rt) = {
                let mut state = self.lock();
                let now = self.clock.unix_now();
                state.machine.handle_timeout(now);
                self.drain_events(&mut state);
                let client = self.client.as_core();
                let mut buf = vec![0u8; state.machine.request_len(&client)];
                let request = match state.machine.poll_request(now, &client, &mut buf) {
                    Ok(Some(r)) => r,
                    Ok(None) => {
                        // Nothing to send: a credential installed meanwhile (a sign-in) that
                        // is fresh, a sign-out, or a backoff. The breaker's half-open probe,
                        // if this attempt took it, was not used.
                        self.breaker.release_probe();
                        if state.machine.access_token(now).is_ok() {
                            if let Some(token) = state.current_token() {
                                return (Ok(token), sends);
                            }
                        }
                        let e = if state.machine.expires_at().is_none() {
                            Error::NoCredential
                        } else if state.machine.is_terminal() {
                            Error::SignInRequired {
                                last: state.machine.last_error(),
                            }
                        } else {
                            self.unavailable_from(&state)
                        };
                        return (Err(e), sends);
                    }
                    Err(e) => {
                        self.breaker.release_probe();
                        return (Err(Error::Request(e)), sends);
                    }
                };
                let (body, authorization) = (
                    Secret::new(request.body),
                    request.authorization.map(Secret::new),
                );
                buf.fill(0);
                // The refresh token this request spends: a different one after a terminal
                // failure was kept from the answer (see `save_kept_refresh_token`).
                let sent_rt = state.machine.refresh_token().map(Secret::new);
                (body, authorization, sent_rt)
            };
            self.hook(Step::BeforeSend);
            let sent_at = self.clock.unix_now();
            sends = sends.saturating_add(1);
            let result = self.transport.post_form(
                &self.endpoint,
                &FormPost {
                    body: body.expose(),
                    authorization: authorization.as_ref().map(Secret::expose),
                },
            );
            drop((body, authorization));
            if result.is_ok() {
                self.hook(Step::AfterResponse);
            }
            let mut state = self.lock();
            // The time the machine counts its back-off from: the send for an answer (a token's
            // lifetime starts then), now for a request that got none.
            let handled_at = if result.is_ok() {
                sent_at
            } else {
                self.clock.unix_now()
            };
            let handled = match &result {
                Ok(r) => state.machine.handle_response(
                    handled_at,
                    HttpResponse {
                        status: r.status,
                        retry_after: r.retry_after,
                        body: &r.body,
                    },
                ),
                Err(e) => state.machine.handle_transport_error(handled_at, e.failure),
            };
            if handled.is_err() {
                // The credential was replaced (sign-in) while the request was out. Its answer
                // is not this credential's: the probe, if this was one, counts for nothing.
                self.breaker.release_probe();
                return (state.current_token().ok_or(Error::NoCredential), sends);
            }
            let mut refreshed = false;
            let mut failed = None;
            while let Some(event) = state.machine.poll_event() {
                match event {
                    Event::Refreshed { .. } => refreshed = true,
                    Event::RefreshFailed {
                        error,
                        terminal,
                        retry_at,
                    } => failed = Some((error, terminal, retry_at)),
                    other => {
                        tracing::trace!(target: "authcore_std::refresh", credential = %self.key, event = ?other, "machine event");
                    }
                }
            }
            if refreshed {
                // The endpoint answered: that is what the breaker measures, whatever the save
                // does next.
                self.breaker.record_success();
                return (self.commit(state, sent_at), sends);
            }
            let Some((error, terminal, retry_at)) = failed else {
                return (Err(self.unavailable_from(&state)), sends);
            };
            let code = match error {
                RefreshError::OAuth {
                    code: core_refresh::OAuthError::Other,
                    ..
                } => raw_error_code(
                    state.machine.last_error_code(),
                    &[
                        state.machine.refresh_token().unwrap_or_default(),
                        self.client.secret.expose(),
                        state
                            .current
                            .as_ref()
                            .map_or("", |(s, _)| s.access_token.expose()),
                    ],
                ),
                _ => None,
            };
            drop(state);
            let transport = result.as_ref().err().copied();
            if matches!(
                error,
                RefreshError::OAuth {
                    code: core_refresh::OAuthError::InvalidGrant,
                    ..
                }
            ) {
                // An answer (it also returns a half-open breaker's probe before going on).
                self.breaker.record_success();
                // Refused as spent: another process sharing the store may have just rotated it.
                // Taken over, its set is handed out or refreshed in turn (once: ours then
                // equals the stored set).
                match self.adopt_stored() {
                    Some(Some(adopted)) => return (Ok(adopted), sends),
                    Some(None) => continue,
                    None => {}
                }
            }
            if terminal {
                if matches!(error, RefreshError::NoResponseAfterRetry) {
                    self.breaker.record_failure(self.clock.monotonic());
                } else {
                    self.breaker.record_success();
                }
                self.save_kept_refresh_token(sent_rt.as_ref());
                return (Err(Error::Refresh { error, code }), sends);
            }
            let opened = self.breaker.record_failure(self.clock.monotonic());
            let unavailable = Error::Unavailable {
                last: Some(error),
                transport,
                retry_at,
            };
            if retries >= self.policy.max_retries || opened {
                // Out of retries, or this failure opened the breaker: the next attempt would be
                // refused, so nobody is held through a back-off for it.
                return (Err(unavailable), sends);
            }
            retries = retries.saturating_add(1);
            // The delay the machine chose (`Retry-After` or its back-off), counted from now,
            // the answer: not shortened by the time the answer took.
            let wait_secs = retry_at.map_or(0, |t| t.saturating_sub(handled_at));
            let wait = Duration::from_secs(u64::try_from(wait_secs).unwrap_or(0));
            if wait > self.policy.max_wait {
                return (Err(unavailable), sends);
            }
            // Jitter never takes the wait past `max_wait`.
            let wait = wait
                .saturating_add(self.jitter(wait))
                .min(self.policy.max_wait);
            if self
                .breaker
                .peek(self.clock.monotonic().saturating_add(wait))
                .is_err()
            {
                // The breaker (shared, or opened meanwhile) would refuse the retry anyway.
                return (Err(unavailable), sends);
            }
            tracing::debug!(target: "authcore_std::refresh", credential = %self.key, error = error.kind(), wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX), "transient failure, retrying");
            if !wait.is_zero() {
                self.clock.sleep(wait);
            }
        }
    }

    /// Another process (or `Refresher`) sharing the store may have refreshed this credential
    /// since this refresher last read or wrote the store: its set then carries the live
    /// refresh token and ours is spent. A stored set whose refresh token is neither ours nor
    /// the one this refresher last saw there ([`State::store_rt`]) was written by someone else
    /// since, and is taken over: `Some(Some(token))` when its access token may be used now,
    /// `Some(None)` when the refresh must go on with its refresh token. Nothing is taken while
    /// a set of ours waits to be saved, after [`Refresher::set_refresh_token`] (until its first
    /// save), or when a sign-in or sign-out happened while the store was read.
    fn adopt_stored(&self) -> Option<Option<AccessToken>> {
        let epoch = {
            let state = self.lock();
            state.store_rt.as_ref()?;
            state.epoch
        };
        let stored = self.store.load(&self.key).ok()??;
        if !stored.is_bearer() {
            return None;
        }
        let mut state = self.lock();
        let theirs = stored.refresh_token.as_ref().map(Secret::expose);
        let last_seen = state.store_rt.as_ref()?.as_ref().map(Secret::expose);
        if state.epoch != epoch
            || state.unpersisted.is_some()
            || state.machine.expires_at().is_none()
            || theirs.is_none()
            || theirs == state.machine.refresh_token()
            || theirs == last_seen
        {
            return None;
        }
        let now = self.clock.unix_now();
        state
            .machine
            .set_credential(now, stored.access_token.expose(), theirs, stored.expires_at)
            .ok()?;
        self.drain_events(&mut state);
        tracing::info!(target: "authcore_std::refresh", credential = %self.key, "took over a set another writer saved");
        let generation = state.machine.generation();
        state.store_rt = Some(stored.refresh_token.clone());
        state.current = Some((Arc::new(stored), generation));
        Some(
            state
                .machine
                .access_token(now)
                .ok()
                .and_then(|_| state.current_token()),
        )
    }

    /// After a terminal failure: a refresh token the machine kept from the answer (rotated, in
    /// an answer whose access token is larger than [`MAX_ACCESS_TOKEN`], or whose body was
    /// refused for another member) replaces the spent one
    /// in the store and in the set handed out, beside the old access token. Under the same
    /// rules as [`Self::commit`]'s save (the writes lock; not after a sign-in or sign-out).
    /// Without a set (a credential from [`Refresher::set_refresh_token`]) there is nothing to
    /// store it with (a set needs an access token): it stays in the machine only, for
    /// [`Refresher::refresh_token`], and a warning says so.
    fn save_kept_refresh_token(&self, sent: Option<&Secret>) {
        let state = self.lock();
        let Some((current, generation)) = state.current.as_ref() else {
            let kept = state.machine.refresh_token();
            if kept.is_some() && kept != sent.map(Secret::expose) {
                tracing::warn!(target: "authcore_std::refresh", credential = %self.key, "a rotated refresh token was kept from a refused answer but cannot be stored (refresh-token-only credential, no access token): it is only in memory, see Refresher::refresh_token");
            }
            return;
        };
        let kept = state.machine.refresh_token();
        if kept.is_none() || kept == current.refresh_token.as_ref().map(Secret::expose) {
            return;
        }
        let set = TokenSet {
            refresh_token: kept.map(Secret::new),
            ..TokenSet::clone(current)
        };
        let (generation, epoch) = (*generation, state.epoch);
        drop(state);
        let _writes = self.lock_writes();
        if self.lock().epoch != epoch {
            return;
        }
        // A failure was logged; the set stays in memory (handed out as before).
        if self.save_with_retries(&set).is_ok() {
            let mut state = self.lock();
            state.store_rt = Some(set.refresh_token.clone());
            state.current = Some((Arc::new(set), generation));
        }
    }

    /// Saves `set` under the key, trying [`RetryPolicy::persist_attempts`] times with
    /// [`RetryPolicy::persist_backoff`] doubling between; each failure is logged. The caller
    /// holds the writes lock.
    fn save_with_retries(&self, set: &TokenSet) -> Result<(), StoreError> {
        let attempts = self.policy.persist_attempts.max(1);
        let mut attempt = 0u32;
        loop {
            match self.store.save(&self.key, set) {
                Ok(()) => return Ok(()),
                Err(e) => {
                    tracing::warn!(target: "authcore_std::refresh", credential = %self.key, attempt, error = %e, "saving the new token set failed");
                    let factor = 1u32 << attempt.min(16);
                    attempt = attempt.saturating_add(1);
                    if attempt >= attempts {
                        return Err(e);
                    }
                    self.clock
                        .sleep(self.policy.persist_backoff.saturating_mul(factor));
                }
            }
        }
    }

    /// Saves the set the machine just committed, then hands it out.
    fn commit(&self, mut state: MutexGuard<'_, State>, sent_at: i64) -> Outcome {
        let generation = state.machine.generation();
        let epoch = state.epoch;
        // The whole set is saved even when the new access token may not be handed out yet
        // (it came inside its mandatory window): its refresh token is the live one.
        let usable = state.machine.access_token(sent_at).is_ok();
        let Some(access_token) = state.machine.committed_access_token().map(Secret::new) else {
            return Err(self.unavailable_from(&state));
        };
        // The machine keeps a scope across responses without one, but not the one stored with
        // the set it was given: fall back to that.
        let old_scope = state.current.as_ref().and_then(|(s, _)| s.scope.clone());
        let scope = match state.machine.scope() {
            Some(s) => Some(s.to_owned()),
            None if state.machine.scope_dropped() => None,
            None => old_scope,
        };
        let set = TokenSet {
            access_token,
            refresh_token: state.machine.refresh_token().map(Secret::new),
            expires_at: state.machine.expires_at().unwrap_or(sent_at),
            token_type: "Bearer".to_owned(),
            scope,
        };
        // Nobody gets the new access token before it is saved.
        state.unpersisted = Some((set.clone(), generation));
        drop(state);
        let writes = self.lock_writes();
        {
            let state = self.lock();
            if state.epoch != epoch {
                // Signed in or out while the request was out: this result is not theirs.
                return state.current_token().ok_or(Error::NoCredential);
            }
        }
        let last = self.save_with_retries(&set).err();
        if last.is_none() {
            self.lock().store_rt = Some(set.refresh_token.clone());
        }
        // A sign-out waiting for this save removes the set next; the check below then finds
        // the pending set gone.
        drop(writes);
        if let Some(e) = last {
            return Err(Error::Persist(e));
        }
        self.hook(Step::AfterWrite);
        let mut state = self.lock();
        if state
            .unpersisted
            .as_ref()
            .is_some_and(|(_, g)| *g == generation)
        {
            state.unpersisted = None;
            let set = Arc::new(set);
            state.current = Some((Arc::clone(&set), generation));
            if usable {
                Ok(AccessToken { set, generation })
            } else {
                Err(self.unavailable_from(&state))
            }
        } else {
            state.current_token().ok_or(Error::NoCredential)
        }
    }

    /// Up to `jitter_per_mille` of `wait`, at random.
    fn jitter(&self, wait: Duration) -> Duration {
        let max = wait
            .as_millis()
            .saturating_mul(u128::from(self.policy.jitter_per_mille))
            / 1000;
        let max = u64::try_from(max).unwrap_or(u64::MAX);
        if max == 0 {
            return Duration::ZERO;
        }
        let mut x = self.rng.lock().unwrap_or_else(PoisonError::into_inner);
        *x ^= *x << 13;
        *x ^= *x >> 7;
        *x ^= *x << 17;
        Duration::from_millis(*x % max.saturating_add(1))
    }
}

/// The raw `error` code the machine kept, when it looks like a registered code (lower case
/// letters, digits and `_`, at most 40 bytes) and contains none of `secrets`: a server that
/// echoes a token in `error` must not get it into logs or messages.
fn raw_error_code(code: Option<core_refresh::ErrorCode>, secrets: &[&str]) -> Option<String> {
    let code = code?;
    let code = code.as_str()?;
    let plain = !code.is_empty()
        && code.len() <= 40
        && code
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && secrets
            .iter()
            .all(|s| s.is_empty() || (!code.contains(s) && !s.contains(code)));
    plain.then(|| code.to_owned())
}
