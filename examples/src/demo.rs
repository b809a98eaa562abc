//! The timeline: an Auth.js v5 session whose upstream OAuth access token lives a few seconds,
//! driven through authcore's session pipeline on the real clock.
//!
//! 1. sign-in: the provider's tokens go into the session cookie;
//! 2. session read: the session slides forward, nothing is refreshed;
//! 3. the access token nears expiry (enters the refresh margin);
//! 4. silent refresh: one token request, the refresh token rotates;
//! 5. concurrent reads while a refresh is due: one token request for all of them;
//! 6. the provider revokes the grant;
//! 7. the next refresh fails: `session.error == "RefreshTokenError"`, and it is not retried;
//! 8. sign-out deletes every session cookie chunk.
//!
//! Every step checks what it claims and fails with a [`DemoError`] naming the step otherwise.
//! Against a real provider ([`Provider::Remote`]) the steps that need control over the provider
//! (short lifetimes, revocation, request counts on the server) are adapted or skipped, as the
//! output says.

use std::fmt;
use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Barrier;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use authcore::cookie::{self, Flavor};
use authcore::jwe::AuthJsKey;
use authcore::refresh::{self, Client};
use authcore::session::{
    Account, AuthJsCodec, Buffers, Config, Engine, OAuthCallbacks, OAuthToken, ReadStep, SignIn,
    TokenCodec, User,
};

use crate::random::{self, OsRandom};
use crate::single_flight::{Role, SingleFlight};
use crate::token_server::{Seen, ServerConfig, TokenServer};
use crate::transport::{Answer, Sender};

/// Where the tokens come from.
#[derive(Clone)]
pub enum Provider {
    /// The in-process token server (the default).
    InProcess(ServerConfig),
    /// A real OAuth provider.
    Remote(Remote),
}

impl fmt::Debug for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InProcess(c) => f.debug_tuple("InProcess").field(c).finish(),
            Self::Remote(r) => f.debug_tuple("Remote").field(r).finish(),
        }
    }
}

/// A real provider's token endpoint and the credentials to use it.
#[derive(Clone)]
pub struct Remote {
    /// The token endpoint URL: `https://`, or `http://` to a loopback host (authcore-std's
    /// HTTPS client refuses plain HTTP elsewhere: the request carries the client secret).
    pub token_endpoint: String,
    /// The OAuth client id.
    pub client_id: String,
    /// The client secret.
    pub client_secret: String,
    /// How the client authenticates.
    pub auth: ClientAuthMethod,
    /// A refresh token from a sign-in at that provider.
    pub refresh_token: String,
}

impl fmt::Debug for Remote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Remote")
            .field("token_endpoint", &self.token_endpoint)
            .field("client_id", &self.client_id)
            .field("auth", &self.auth)
            .finish_non_exhaustive()
    }
}

/// Client authentication at the token endpoint (RFC 6749 §2.3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ClientAuthMethod {
    /// `client_secret_basic` (HTTP Basic).
    Basic,
    /// `client_secret_post` (in the form body; what the Auth.js guide sends).
    #[default]
    Post,
}

/// How to run the demo.
#[derive(Debug, Clone)]
pub struct Options {
    /// The token provider.
    pub provider: Provider,
    /// Readers in the concurrent step.
    pub readers: usize,
    /// Refresh this many seconds before the access token expires.
    pub refresh_margin_secs: u32,
    /// Give up on a token request after this long.
    pub request_timeout: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            provider: Provider::InProcess(ServerConfig::default()),
            readers: 8,
            refresh_margin_secs: 1,
            request_timeout: Duration::from_secs(10),
        }
    }
}

/// What one step did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepReport {
    /// 1-based step number.
    pub number: usize,
    /// Short name.
    pub name: &'static str,
    /// Token requests the demo sent during the step.
    pub requests_sent: usize,
    /// Token requests the in-process server received during the step (`None` for a real
    /// provider).
    pub server_requests: Option<usize>,
    /// Session cookie bytes (all chunks) after the step.
    pub cookie_bytes: usize,
    /// Session cookie chunks after the step.
    pub chunks: usize,
    /// Why the step was skipped, if it was.
    pub skipped: Option<&'static str>,
}

/// The concurrent step in numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Concurrency {
    /// Readers started at the same moment.
    pub readers: usize,
    /// Readers that sent the request.
    pub leaders: usize,
    /// Readers that waited for it.
    pub followers: usize,
    /// Token requests made.
    pub requests: usize,
    /// Readers whose new session carries the refreshed credential.
    pub refreshed: usize,
}

/// What sign-out did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignOut {
    /// Session cookie chunks the browser held before.
    pub chunks_before: Vec<String>,
    /// Session cookie chunks the response deleted (`Max-Age=0`).
    pub deleted: Vec<String>,
    /// The session endpoint's body afterwards (`null`).
    pub body_after: String,
}

/// Everything the demo observed, for the tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// Wall time taken.
    pub elapsed: Duration,
    /// Each step.
    pub steps: Vec<StepReport>,
    /// Token requests the demo sent in total.
    pub requests_sent: usize,
    /// What the in-process server received, in order (empty for a real provider).
    pub server_log: Vec<Seen>,
    /// The refresh tokens the session carried, oldest first (labels such as `rt_1_2` for the
    /// in-process server; short hashes for a real provider).
    pub refresh_chain: Vec<String>,
    /// The concurrent step.
    pub concurrency: Option<Concurrency>,
    /// `session.error` at the end (`"RefreshTokenError"` after the revocation).
    pub session_error: Option<String>,
    /// Whether a read after the failed refresh sent nothing (terminal failures are not
    /// retried).
    pub failure_not_retried: bool,
    /// Sign-out.
    pub sign_out: Option<SignOut>,
    /// The session token format.
    pub codec: &'static str,
}

/// A step did not behave as stated, or the demo could not run.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DemoError {
    /// Bad options, or the environment is missing something (OS randomness, a socket).
    Setup(String),
    /// A step's check failed.
    Step {
        /// The step number.
        number: usize,
        /// The step name.
        name: &'static str,
        /// What went wrong.
        reason: String,
    },
    /// Writing the timeline failed.
    Output(String),
}

impl DemoError {
    /// The stable snake_case name of this error's kind.
    #[must_use]
    pub const fn kind(&self) -> &'static str {
        match self {
            Self::Setup(_) => "setup",
            Self::Step { .. } => "step_failed",
            Self::Output(_) => "output",
        }
    }
}

impl fmt::Display for DemoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Setup(why) => write!(f, "cannot run the demo: {why}"),
            Self::Step {
                number,
                name,
                reason,
            } => write!(f, "step {number} ({name}): {reason}"),
            Self::Output(why) => write!(f, "cannot write the timeline: {why}"),
        }
    }
}

impl std::error::Error for DemoError {}

/// Runs the timeline, writing it to `out`.
///
/// # Errors
///
/// [`DemoError`]: the first step that did not behave as stated, or a setup failure.
pub fn run(opts: &Options, out: &mut dyn Write) -> Result<Summary, DemoError> {
    let started = Instant::now();
    if opts.readers == 0 {
        return Err(DemoError::Setup("--readers must be at least 1".into()));
    }
    // AUTH_SECRET: random per run, as `openssl rand -hex 32` makes one. The session cookie is
    // Auth.js v5's JWE; its key is derived from the secret with the cookie name as salt.
    let secret = random::hex(32).map_err(|e| DemoError::Setup(e.to_string()))?;
    let config = Config::new(Flavor::AuthJs, false);
    let keys = [
        AuthJsKey::derive(secret.as_bytes(), config.session_cookie_name())
            .map_err(|e| DemoError::Setup(format!("session key: {e}")))?,
    ];
    let codec = AuthJsCodec::new(&keys).ok_or_else(|| DemoError::Setup("no session key".into()))?;
    let engine = Engine::new(config, codec);
    let codec = "JWE (dir, A256CBC-HS512; key derived from AUTH_SECRET)";

    let mut summary = match &opts.provider {
        Provider::InProcess(config) => {
            let server = TokenServer::start(config.clone())
                .map_err(|e| DemoError::Setup(format!("token server: {e}")))?;
            let sender = Sender::plain(&server.endpoint(), opts.request_timeout)
                .map_err(|e| DemoError::Setup(e.to_string()))?;
            let client = Client::secret_post(&config.client_id, &config.client_secret);
            let mut ctx = Ctx::new(engine, client, sender, opts, codec);
            // The in-process provider's access tokens live seconds, not an hour. The defaults
            // are for real providers: a 10 s minimum interval between refreshes would (rightly)
            // treat 4-second tokens as a misbehaving server and back off, and up to 30 s of
            // jitter would move the refresh margin. Here: exactly the stated margin.
            ctx.refresh = ctx.refresh.min_refresh_interval(1).jitter_max(0);
            Timeline::new(ctx, Some(&server), out, started).in_process()?
        }
        Provider::Remote(remote) => {
            let sender = Sender::remote(&remote.token_endpoint, opts.request_timeout)
                .map_err(|e| DemoError::Setup(e.to_string()))?;
            let client = match remote.auth {
                ClientAuthMethod::Basic => {
                    Client::secret_basic(&remote.client_id, &remote.client_secret)
                }
                ClientAuthMethod::Post => {
                    Client::secret_post(&remote.client_id, &remote.client_secret)
                }
            };
            let ctx = Ctx::new(engine, client, sender, opts, codec);
            Timeline::new(ctx, None, out, started).remote(remote)?
        }
    };
    summary.elapsed = started.elapsed();
    Ok(summary)
}

/// The current wall-clock time in Unix milliseconds.
fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Sleeps until the wall clock reads `at_ms`.
fn sleep_until(at_ms: i64) {
    let wait = at_ms.saturating_sub(now_ms());
    if let Ok(ms) = u64::try_from(wait) {
        std::thread::sleep(Duration::from_millis(ms));
    }
}

/// What the pipeline needs, shared by concurrent readers.
struct Ctx<'a, K> {
    engine: Engine<K>,
    client: Client<'a>,
    sender: Sender,
    flight: SingleFlight<Answer>,
    sent: AtomicUsize,
    refresh: refresh::Config,
    readers: usize,
    margin: u32,
    codec: &'static str,
}

impl<'a, K: TokenCodec> Ctx<'a, K> {
    fn new(
        engine: Engine<K>,
        client: Client<'a>,
        sender: Sender,
        opts: &Options,
        codec: &'static str,
    ) -> Self {
        Self {
            engine,
            client,
            sender,
            flight: SingleFlight::default(),
            sent: AtomicUsize::new(0),
            refresh: refresh::Config::default().advisory_margin(opts.refresh_margin_secs),
            readers: opts.readers,
            margin: opts.refresh_margin_secs,
            codec,
        }
    }
}

/// The caller's buffers for one pipeline call (a real server would keep them per worker).
struct Bufs {
    token: Vec<u8>,
    scratch: Vec<u8>,
    body: Vec<u8>,
    cookies: Vec<u8>,
}

impl Bufs {
    fn new() -> Self {
        Self::scaled(1)
    }

    /// `n` times the usual sizes.
    fn scaled(n: usize) -> Self {
        Self {
            token: vec![0; n * 8 * 4096],
            scratch: vec![0; n * 64 * 1024],
            body: vec![0; n * 4096],
            cookies: vec![0; n * 48 * 1024],
        }
    }

    fn get(&mut self) -> Buffers<'_> {
        Buffers {
            token: &mut self.token,
            scratch: &mut self.scratch,
            body: &mut self.body,
            cookies: &mut self.cookies,
        }
    }
}

/// The browser's cookie jar (session cookies only).
#[derive(Debug, Clone, Default)]
struct Jar {
    cookies: Vec<(String, String)>,
}

impl Jar {
    /// Applies `Set-Cookie` values as a browser does: `Max-Age=0` deletes.
    fn apply<'s>(&mut self, set_cookies: impl IntoIterator<Item = &'s str>) {
        for sc in set_cookies {
            let mut parts = sc.split(';');
            let Some((name, value)) = parts.next().and_then(|p| p.split_once('=')) else {
                continue;
            };
            let delete = parts.any(|a| a.trim().eq_ignore_ascii_case("Max-Age=0"));
            self.cookies.retain(|(n, _)| n != name);
            if !delete {
                self.cookies.push((name.to_owned(), value.to_owned()));
            }
        }
        self.cookies.sort();
    }

    /// The `Cookie` header the browser sends.
    fn header(&self) -> String {
        self.cookies
            .iter()
            .map(|(n, v)| format!("{n}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn names(&self) -> Vec<String> {
        self.cookies.iter().map(|(n, _)| n.clone()).collect()
    }

    fn bytes(&self) -> usize {
        self.cookies.iter().map(|(_, v)| v.len()).sum()
    }

    fn describe(&self) -> String {
        match self.cookies.as_slice() {
            [] => "no session cookie".into(),
            [(n, v)] => format!(
                "{n}, {} B (one cookie; Auth.js splits values over 3936 B into chunks)",
                v.len()
            ),
            all => {
                let parts: Vec<String> = all
                    .iter()
                    .map(|(n, v)| format!("{n} ({} B)", v.len()))
                    .collect();
                format!(
                    "{} = {} chunks, {} B",
                    parts.join(" + "),
                    all.len(),
                    self.bytes()
                )
            }
        }
    }
}

/// A finished session read, owned.
#[derive(Debug, Clone)]
struct Read {
    set_cookies: Vec<String>,
    body: String,
    authenticated: bool,
    role: Option<Role>,
    /// What each token request got, for the log (status and OAuth error code, or the
    /// transport failure); never token values.
    exchanges: Vec<String>,
}

/// One session read with silent refresh through the single-flight.
fn read_session<K: TokenCodec>(
    ctx: &Ctx<'_, K>,
    header: &str,
    config: &refresh::Config,
) -> Result<Read, String> {
    let mut bufs = Bufs::new();
    // Only for a session that `resume` hands back (see below).
    let mut more: Option<Bufs> = None;
    let mut rng = OsRandom;
    let mut cb = OAuthCallbacks::<256>;
    let mut role = None;
    let mut exchanges = Vec::new();
    let mut step = ctx
        .engine
        .session_with_refresh(
            &mut cb,
            header.as_bytes(),
            now_ms(),
            config,
            &ctx.client,
            &mut rng,
            bufs.get(),
        )
        .map_err(|e| format!("session read: {e}"))?;
    let r = loop {
        match step {
            ReadStep::Done(r) => break r,
            ReadStep::Refresh(pending) => {
                let mut buf = vec![0u8; pending.request_len(&ctx.client)];
                let request = pending
                    .request(&ctx.client, &mut buf)
                    .map_err(|e| format!("refresh request: {e}"))?;
                // The form body names the refresh token: equal bodies, same refresh token. A
                // leader that panicked left no answer to resume with: this read fails.
                let (answer, r) = ctx
                    .flight
                    .run(
                        request.body,
                        || {
                            ctx.sent.fetch_add(1, Ordering::SeqCst);
                            ctx.sender.post(&request, now_ms())
                        },
                        Answer::is_success,
                    )
                    .map_err(|e| format!("refresh: {e}"))?;
                role = Some(r);
                exchanges.push(describe_answer(&answer));
                step = match ctx.engine.resume(
                    &mut cb,
                    pending,
                    answer.outcome(),
                    answer.sent_at_ms,
                    &ctx.client,
                    &mut rng,
                ) {
                    Ok(step) => step,
                    // The response did not fit (or the random source failed) after the token
                    // endpoint answered: write the kept session with twice the room rather than
                    // lose a rotated refresh token.
                    Err(e) => {
                        let unfinished = e
                            .unfinished
                            .ok_or_else(|| format!("session read (resume): {}", e.error))?;
                        let more = more.insert(Bufs::scaled(2));
                        break ctx
                            .engine
                            .finish(&mut cb, unfinished, now_ms(), &mut rng, more.get())
                            .map_err(|e| format!("session read (finish): {e}"))?;
                    }
                };
            }
        }
    };
    Ok(Read {
        set_cookies: r.set_cookies().map(str::to_owned).collect(),
        body: r.body.to_owned(),
        authenticated: r.authenticated,
        role,
        exchanges,
    })
}

/// `200`, `400 invalid_grant`, or why no response came.
fn describe_answer(answer: &Answer) -> String {
    match &answer.result {
        Ok(r) => {
            let code = serde_json::from_slice::<serde_json::Value>(&r.body)
                .ok()
                .and_then(|v| v.get("error")?.as_str().map(str::to_owned));
            match code {
                Some(code) => format!("{} {code}", r.status),
                None => r.status.to_string(),
            }
        }
        Err(f) => format!("no response ({:?}): {}", f.kind, f.reason),
    }
}

/// Decodes the session token in `jar` (the demo holds the secret, so it can look inside).
fn peek<K: TokenCodec>(engine: &Engine<K>, jar: &Jar) -> Result<OAuthToken, String> {
    let header = jar.header();
    let mut value = vec![0u8; 64 * 1024];
    let r = cookie::reassemble(
        header.as_bytes(),
        engine.config().session_cookie_name(),
        &mut value,
    )
    .map_err(|e| format!("cookie: {e:?}"))?;
    let v = r.value();
    if v.is_empty() {
        return Err("no session cookie".into());
    }
    let mut scratch = vec![0u8; engine.codec().decode_scratch_len(v.len())];
    engine
        .codec()
        .decode::<OAuthToken>(v, now_ms() / 1000, &mut scratch)
        .map(|d| d.claims)
        .map_err(|e| format!("session token: {e}"))
}

/// The `expires` member of a session body.
fn session_field(body: &str, field: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(body).ok()?;
    v.get(field)?.as_str().map(str::to_owned)
}

/// How a token is shown: the in-process server's tokens by their readable prefix
/// (`rt_1_2`), a real provider's by a short hash (never the token itself).
fn label(token: &str, reveal: bool) -> String {
    if reveal {
        token.splitn(4, '_').take(3).collect::<Vec<_>>().join("_")
    } else {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        token.hash(&mut h);
        format!("#{:06x}", h.finish() & 0xff_ffff)
    }
}

fn secs(ms: i64) -> String {
    // Display only; the precision loss of the cast is irrelevant here.
    #[allow(clippy::cast_precision_loss)]
    let s = ms as f64 / 1000.0;
    format!("{s:.2} s")
}

/// The timeline's state.
struct Timeline<'a, 's, K> {
    ctx: Ctx<'a, K>,
    server: Option<&'s TokenServer>,
    out: &'a mut dyn Write,
    started: Instant,
    jar: Jar,
    step: usize,
    step_name: &'static str,
    step_sent: usize,
    step_server: usize,
    reveal: bool,
    summary: Summary,
}

impl<'a, 's, K: TokenCodec + Sync> Timeline<'a, 's, K> {
    fn new(
        ctx: Ctx<'a, K>,
        server: Option<&'s TokenServer>,
        out: &'a mut dyn Write,
        started: Instant,
    ) -> Self {
        let codec = ctx.codec;
        Self {
            ctx,
            server,
            out,
            started,
            jar: Jar::default(),
            step: 0,
            step_name: "",
            step_sent: 0,
            step_server: 0,
            reveal: server.is_some(),
            summary: Summary {
                elapsed: Duration::ZERO,
                steps: Vec::new(),
                requests_sent: 0,
                server_log: Vec::new(),
                refresh_chain: Vec::new(),
                concurrency: None,
                session_error: None,
                failure_not_retried: false,
                sign_out: None,
                codec,
            },
        }
    }

    // ----- output and checks -----

    fn say(&mut self, text: &str) -> Result<(), DemoError> {
        writeln!(self.out, "{text}").map_err(|e| DemoError::Output(e.to_string()))
    }

    fn begin(&mut self, name: &'static str) -> Result<(), DemoError> {
        self.step += 1;
        self.step_name = name;
        self.step_sent = self.sent();
        self.step_server = self.server_requests();
        let t = self.started.elapsed().as_secs_f64();
        let header = format!("\n[{t:5.2}s] {}. {name}", self.step);
        self.say(&header)
    }

    fn info(&mut self, text: &str) -> Result<(), DemoError> {
        self.say(&format!("         {text}"))
    }

    fn fail(&self, reason: impl Into<String>) -> DemoError {
        DemoError::Step {
            number: self.step,
            name: self.step_name,
            reason: reason.into(),
        }
    }

    fn check(&mut self, ok: bool, what: &str) -> Result<(), DemoError> {
        if ok {
            self.say(&format!("     ok  {what}"))
        } else {
            Err(self.fail(format!("expected: {what}")))
        }
    }

    fn end(&mut self, skipped: Option<&'static str>) {
        let server = self
            .server
            .map(|_| self.server_requests().saturating_sub(self.step_server));
        self.summary.steps.push(StepReport {
            number: self.step,
            name: self.step_name,
            requests_sent: self.sent().saturating_sub(self.step_sent),
            server_requests: server,
            cookie_bytes: self.jar.bytes(),
            chunks: self.jar.cookies.len(),
            skipped,
        });
    }

    fn sent(&self) -> usize {
        self.ctx.sent.load(Ordering::SeqCst)
    }

    fn server_requests(&self) -> usize {
        self.server.map_or(0, TokenServer::requests)
    }

    /// Requests sent in this step so far (and received, with the in-process server).
    fn step_requests(&self) -> (usize, Option<usize>) {
        (
            self.sent().saturating_sub(self.step_sent),
            self.server
                .map(|_| self.server_requests().saturating_sub(self.step_server)),
        )
    }

    fn check_requests(&mut self, n: usize, what: &str) -> Result<(), DemoError> {
        let (sent, received) = self.step_requests();
        let ok = sent == n && received.is_none_or(|r| r == n);
        let seen = match received {
            Some(r) => format!("sent {sent}, the token endpoint received {r}"),
            None => format!("sent {sent}"),
        };
        self.check(ok, &format!("{what} ({seen})"))
    }

    /// Prints what the in-process token endpoint received during this step.
    fn show_server_log(&mut self) -> Result<(), DemoError> {
        let Some(server) = self.server else {
            return Ok(());
        };
        let log = server.log();
        for seen in log.iter().skip(self.step_server) {
            let rt = seen
                .refresh_token
                .as_deref()
                .map_or("none".into(), |r| label(r, true));
            let text = format!(
                "token endpoint: POST refresh_token={rt} -> {}{}",
                seen.status,
                seen.error.map(|e| format!(" {e}")).unwrap_or_default()
            );
            self.info(&text)?;
        }
        Ok(())
    }

    fn read(&mut self, config: &refresh::Config) -> Result<Read, DemoError> {
        let header = self.jar.header();
        let r = read_session(&self.ctx, &header, config).map_err(|e| self.fail(e))?;
        self.jar.apply(r.set_cookies.iter().map(String::as_str));
        if self.server.is_none() {
            for e in &r.exchanges {
                let text = format!("token endpoint answered: {e}");
                self.info(&text)?;
            }
        }
        Ok(r)
    }

    fn peek(&self) -> Result<OAuthToken, DemoError> {
        peek(&self.ctx.engine, &self.jar).map_err(|e| self.fail(e))
    }

    /// Prints the protected header of the session token (public: algorithms and key id).
    fn show_format(&mut self) -> Result<(), DemoError> {
        let Some((_, value)) = self.jar.cookies.first() else {
            return Ok(());
        };
        let parts = value.split('.').count();
        let first = value.split('.').next().unwrap_or("");
        let mut buf = vec![0u8; first.len()];
        let header = authcore::base64url::decode(first.as_bytes(), &mut buf)
            .ok()
            .and_then(|h| std::str::from_utf8(h).ok())
            .unwrap_or("?")
            .to_owned();
        // The kid is an 86-character thumbprint; shorten it for the screen.
        let header = match header.split_once(r#""kid":""#) {
            Some((head, kid)) if kid.len() > 12 => format!("{head}\"kid\":\"{}…\"}}", &kid[..12]),
            _ => header,
        };
        self.info(&format!(
            "the cookie value is a {parts}-part compact token, header {header}"
        ))
    }

    fn show_session(&mut self, body: &str) -> Result<(), DemoError> {
        let cookies = self.jar.describe();
        self.info(&format!("Set-Cookie: {cookies}"))?;
        self.info(&format!("session JSON: {body}"))
    }

    fn show_token(&mut self, t: &OAuthToken) -> Result<(), DemoError> {
        let now = now_ms();
        let at = t.access_token.as_deref().unwrap_or("");
        let left = t
            .expires_at
            .map_or(0, |e| e.saturating_mul(1000).saturating_sub(now));
        let rt = t
            .refresh_token
            .as_deref()
            .map_or("none".into(), |r| label(r, self.reveal));
        let margin = self.ctx.margin;
        let text = format!(
            "in the cookie: access token {} ({} B), {} left (refresh margin {margin} s); refresh token {rt}",
            label(at, self.reveal),
            at.len(),
            secs(left)
        );
        self.info(&text)
    }

    fn push_chain(&mut self, t: &OAuthToken) {
        if let Some(rt) = t.refresh_token.as_deref() {
            let l = label(rt, self.reveal);
            if self.summary.refresh_chain.last() != Some(&l) {
                self.summary.refresh_chain.push(l);
            }
        }
    }

    /// Sleeps until the access token in the cookie is inside the refresh margin.
    fn wait_until_due(&mut self, t: &OAuthToken) -> Result<(), DemoError> {
        let exp = t.expires_at.ok_or_else(|| self.fail("no expiry"))?;
        let due_ms = exp
            .saturating_sub(i64::from(self.ctx.margin))
            .saturating_mul(1000)
            .saturating_add(20);
        let waited = due_ms.saturating_sub(now_ms()).max(0);
        sleep_until(due_ms);
        let left = exp.saturating_mul(1000).saturating_sub(now_ms());
        let margin = self.ctx.margin;
        self.info(&format!(
            "waited {}: the access token now has {} left, inside the {margin} s refresh margin",
            secs(waited),
            secs(left)
        ))
    }

    fn intro(&mut self, endpoint: &str, note: &str) -> Result<(), DemoError> {
        let name = self.ctx.engine.config().session_cookie_name();
        let codec = self.ctx.codec;
        let margin = self.ctx.margin;
        self.say("authcore demo: an Auth.js v5 session (JWT strategy) with silent refresh-token rotation")?;
        self.say(&format!("  token endpoint  {endpoint} ({note})"))?;
        self.say(&format!(
            "  session cookie  {name}, {codec}, maxAge 30 days, sliding"
        ))?;
        self.say(&format!(
            "  refresh         starts {margin} s before the access token expires; one request per refresh token"
        ))
    }

    // ----- steps -----

    fn sign_in(
        &mut self,
        access: &str,
        refresh_token: &str,
        expires_at: i64,
    ) -> Result<Read, DemoError> {
        let account = Account {
            provider: "demo",
            kind: "oauth",
            provider_account_id: "1815",
            access_token: Some(access),
            refresh_token: Some(refresh_token),
            expires_at: Some(expires_at),
            token_type: Some("Bearer"),
            ..Account::default()
        };
        let sign_in = SignIn {
            user: User {
                id: Some("user-1815"),
                name: Some("Ada Lovelace"),
                email: Some("ada@example.com"),
                image: Some("https://example.com/ada.png"),
            },
            account: Some(account),
            profile: None,
            is_new_user: None,
        };
        let mut bufs = Bufs::new();
        let mut rng = OsRandom;
        let r = self
            .ctx
            .engine
            .sign_in(
                &mut OAuthCallbacks::<256>,
                &sign_in,
                self.jar.header().as_bytes(),
                now_ms(),
                &mut rng,
                bufs.get(),
            )
            .map_err(|e| self.fail(format!("sign-in: {e}")))?;
        let read = Read {
            set_cookies: r.set_cookies().map(str::to_owned).collect(),
            body: r.body.to_owned(),
            authenticated: r.authenticated,
            role: None,
            exchanges: Vec::new(),
        };
        self.jar.apply(read.set_cookies.iter().map(String::as_str));
        Ok(read)
    }

    fn in_process(mut self) -> Result<Summary, DemoError> {
        let server = self
            .server
            .ok_or_else(|| DemoError::Setup("no server".into()))?;
        let cfg = server.config();
        let note = format!(
            "in-process: access tokens live {} s, refresh tokens rotate",
            cfg.expires_in
        );
        self.intro(&server.endpoint(), &note)?;

        // 1. Sign-in.
        self.begin("sign-in")?;
        let issued = server
            .issue_grant()
            .map_err(|e| self.fail(format!("token server: {e}")))?;
        let expires_at = now_ms() / 1000 + i64::from(issued.expires_in);
        self.info(&format!(
            "the provider issued access token {} and refresh token {} (the authorization-code step is outside authcore)",
            label(&issued.access_token, true),
            label(&issued.refresh_token, true)
        ))?;
        let r = self.sign_in(&issued.access_token, &issued.refresh_token, expires_at)?;
        self.show_format()?;
        self.show_session(&r.body)?;
        let t = self.peek()?;
        self.show_token(&t)?;
        self.push_chain(&t);
        self.check(r.authenticated, "a session is returned")?;
        self.check(
            t.access_token.as_deref() == Some(issued.access_token.as_str())
                && t.refresh_token.as_deref() == Some(issued.refresh_token.as_str()),
            "the provider's tokens are inside the session cookie",
        )?;
        self.check_requests(0, "no token request")?;
        let mut last_expires = session_field(&r.body, "expires").unwrap_or_default();
        self.end(None);

        // 2. Session read: sliding expiry.
        std::thread::sleep(Duration::from_millis(300));
        self.begin("session read (sliding expiry)")?;
        let config = self.ctx.refresh;
        let r = self.read(&config)?;
        self.show_session(&r.body)?;
        let t2 = self.peek()?;
        self.show_token(&t2)?;
        let expires = session_field(&r.body, "expires").unwrap_or_default();
        self.info(&format!("session expires {last_expires} -> {expires}"))?;
        self.check(r.authenticated, "the session is still there")?;
        self.check(
            expires > last_expires,
            "session.expires slid forward (now + maxAge)",
        )?;
        self.check(
            !r.set_cookies.is_empty(),
            "the cookie was re-issued with a new expiry",
        )?;
        self.check(
            t2.access_token == t.access_token,
            "the access token is unchanged",
        )?;
        self.check_requests(0, "no token request: the access token is not due yet")?;
        last_expires = expires;
        self.end(None);

        // 3. The access token nears expiry.
        self.begin("the access token nears expiry")?;
        self.wait_until_due(&t2)?;
        let now = now_ms() / 1000;
        self.check(
            t2.access_token(now).is_some(),
            "the access token is still valid (refresh happens before expiry, not after)",
        )?;
        self.end(None);

        // 4. Silent refresh with rotation.
        self.begin("silent refresh with rotation")?;
        let r = self.read(&config)?;
        self.show_server_log()?;
        self.show_session(&r.body)?;
        let t4 = self.peek()?;
        self.show_token(&t4)?;
        self.push_chain(&t4);
        let chain = self.summary.refresh_chain.join(" -> ");
        self.info(&format!("refresh tokens so far: {chain}"))?;
        self.check(
            r.authenticated,
            "the session continues without the user noticing",
        )?;
        self.check_requests(1, "exactly one token request")?;
        self.check(
            t4.refresh_token.is_some() && t4.refresh_token != t2.refresh_token,
            "the refresh token rotated (the old one is now invalid at the provider)",
        )?;
        self.check(
            t4.access_token != t2.access_token && t4.expires_at > t2.expires_at,
            "a new access token with a later expiry is in the cookie",
        )?;
        self.check(
            session_field(&r.body, "error").is_none(),
            "no error in the session",
        )?;
        let expires = session_field(&r.body, "expires").unwrap_or_default();
        self.check(expires > last_expires, "session.expires slid forward again")?;
        self.end(None);

        // 5. Concurrent reads during a refresh.
        self.begin("concurrent reads while a refresh is due")?;
        self.wait_until_due(&t4)?;
        let c = self.concurrent(&config, &t4)?;
        self.end(None);
        self.summary.concurrency = Some(c);

        // 6. The provider revokes the grant.
        self.begin("the provider revokes the grant")?;
        let revoked = server.revoke(issued.grant);
        self.info("the user removed the app's access at the provider; the session cookie does not know yet")?;
        self.check(revoked, "the grant is revoked")?;
        let t6 = self.peek()?;
        self.wait_until_due(&t6)?;
        self.end(None);

        // 7. The refresh fails: RefreshTokenError.
        self.begin("refresh fails: RefreshTokenError in the session")?;
        let r = self.read(&config)?;
        self.show_server_log()?;
        self.show_session(&r.body)?;
        let t7 = self.peek()?;
        self.show_token(&t7)?;
        let last = server.log().last().cloned();
        self.check_requests(1, "exactly one token request")?;
        self.check(
            last.is_some_and(|s| s.status == 400 && s.error == Some("invalid_grant")),
            "the provider refused it: 400 invalid_grant",
        )?;
        let error = session_field(&r.body, "error");
        self.check(
            r.authenticated && error.as_deref() == Some("RefreshTokenError"),
            "session.error == \"RefreshTokenError\" (the app should ask the user to sign in again)",
        )?;
        self.check(
            t7.refresh_token == t6.refresh_token && t7.refresh_terminal == Some(true),
            "the credential is kept as it was and the failure is terminal",
        )?;
        self.summary.session_error = error;
        let before = self.sent();
        let r2 = self.read(&config)?;
        self.summary.failure_not_retried = self.sent() == before;
        self.check(
            self.summary.failure_not_retried
                && session_field(&r2.body, "error").as_deref() == Some("RefreshTokenError"),
            "a further read sends nothing: a dead refresh token is not retried on every request",
        )?;
        self.end(None);

        // 8. Sign-out.
        self.sign_out()?;

        self.summary.requests_sent = self.sent();
        self.summary.server_log = server.log();
        let total = self.summary.server_log.len();
        self.say(&format!(
            "\nall steps behaved as stated: {} token requests in {:.1} s",
            total,
            self.started.elapsed().as_secs_f64()
        ))?;
        Ok(self.summary)
    }

    /// `readers` threads read the same cookie at the same moment.
    fn concurrent(
        &mut self,
        config: &refresh::Config,
        before: &OAuthToken,
    ) -> Result<Concurrency, DemoError> {
        let n = self.ctx.readers;
        let header = self.jar.header();
        let barrier = Barrier::new(n);
        let ctx = &self.ctx;
        let results: Vec<Result<Read, String>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..n)
                .map(|_| {
                    s.spawn(|| {
                        barrier.wait();
                        read_session(ctx, &header, config)
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or_else(|_| Err("reader thread panicked".into()))
                })
                .collect()
        });
        let mut reads = Vec::new();
        for r in results {
            reads.push(r.map_err(|e| self.fail(e))?);
        }
        let leaders = reads
            .iter()
            .filter(|r| r.role == Some(Role::Leader))
            .count();
        let followers = reads
            .iter()
            .filter(|r| r.role == Some(Role::Follower))
            .count();
        let mut tokens = Vec::new();
        for r in &reads {
            let mut jar = Jar::default();
            jar.apply(r.set_cookies.iter().map(String::as_str));
            tokens.push(peek(&self.ctx.engine, &jar).map_err(|e| self.fail(e))?);
        }
        let first = tokens.first().cloned().unwrap_or_default();
        // Refreshed: a new access token (and a new refresh token, where the provider
        // rotates), the same in every reader's session.
        let refreshed = tokens
            .iter()
            .filter(|t| {
                t.refresh_token.is_some()
                    && t.access_token != before.access_token
                    && t.refresh_token == first.refresh_token
                    && t.access_token == first.access_token
                    && t.expires_at == first.expires_at
            })
            .count();
        let (requests, _) = self.step_requests();
        self.info(&format!(
            "{n} readers sent the same cookie at the same moment: {leaders} sent the token request, {followers} waited for its answer"
        ))?;
        self.show_server_log()?;
        // The browser keeps the last Set-Cookie it gets; all of them carry the same credential.
        if let Some(last) = reads.last() {
            self.jar.apply(last.set_cookies.iter().map(String::as_str));
            let body = last.body.clone();
            self.show_session(&body)?;
        }
        let t = self.peek()?;
        self.show_token(&t)?;
        self.push_chain(&t);
        let chain = self.summary.refresh_chain.join(" -> ");
        self.info(&format!("refresh tokens so far: {chain}"))?;
        self.check_requests(1, &format!("exactly one token request for {n} reads"))?;
        self.check(
            leaders == 1 && followers == n - 1,
            "one reader led, every other one joined it",
        )?;
        self.check(
            reads.iter().all(|r| r.authenticated) && refreshed == n,
            &format!(
                "all {n} readers got the refreshed session (same new access and refresh token)"
            ),
        )?;
        Ok(Concurrency {
            readers: n,
            leaders,
            followers,
            requests,
            refreshed,
        })
    }

    fn sign_out(&mut self) -> Result<(), DemoError> {
        self.begin("sign-out")?;
        let chunks_before = self.jar.names();
        let mut bufs = Bufs::new();
        let header = self.jar.header();
        let r = self
            .ctx
            .engine
            .sign_out(header.as_bytes(), bufs.get())
            .map_err(|e| self.fail(format!("sign-out: {e}")))?;
        let set: Vec<String> = r.set_cookies().map(str::to_owned).collect();
        for sc in &set {
            self.info(&format!("Set-Cookie: {sc}"))?;
        }
        let deleted: Vec<String> = set
            .iter()
            .filter(|c| c.contains("Max-Age=0"))
            .filter_map(|c| c.split_once('=').map(|(n, _)| n.to_owned()))
            .collect();
        self.jar.apply(set.iter().map(String::as_str));
        let config = self.ctx.refresh;
        let after = self.read(&config)?;
        self.info(&format!("then a session read answers: {}", after.body))?;
        let mut sorted = deleted.clone();
        sorted.sort();
        self.check(
            !chunks_before.is_empty() && sorted == chunks_before,
            &format!(
                "every session chunk is deleted ({})",
                chunks_before.join(", ")
            ),
        )?;
        self.check(
            self.jar.cookies.is_empty() && after.body == "null" && !after.authenticated,
            "no session cookie is left and the session is null",
        )?;
        self.check_requests(0, "no token request")?;
        self.summary.sign_out = Some(SignOut {
            chunks_before,
            deleted,
            body_after: after.body,
        });
        self.end(None);
        Ok(())
    }

    /// Against a real provider: its own lifetimes, no control over revocation.
    fn remote(mut self, remote: &Remote) -> Result<Summary, DemoError> {
        self.intro(&remote.token_endpoint, "a real provider")?;

        // 1. Sign-in with the given refresh token. The access token is not known: it is
        //    recorded as already expired, so the first read refreshes.
        self.begin("sign-in")?;
        self.info("the refresh token comes from the environment; the access token is unknown and recorded as expired")?;
        let now = now_ms() / 1000;
        let r = self.sign_in("unknown", &remote.refresh_token, now)?;
        self.show_session(&r.body)?;
        let t = self.peek()?;
        self.push_chain(&t);
        self.check(r.authenticated, "a session is returned")?;
        self.check_requests(0, "no token request")?;
        self.end(None);

        // 2. First read: silent refresh.
        self.begin("session read with silent refresh")?;
        let config = self.ctx.refresh;
        let r = self.read(&config)?;
        self.show_session(&r.body)?;
        let t2 = self.peek()?;
        self.show_token(&t2)?;
        self.push_chain(&t2);
        if t2.error.is_none() {
            let rotated = t2.refresh_token != t.refresh_token;
            self.info(&format!(
                "the provider {} the refresh token",
                if rotated { "rotated" } else { "kept" }
            ))?;
        }
        self.check_requests(1, "exactly one token request")?;
        self.check(
            session_field(&r.body, "error").is_none() && t2.access_token != t.access_token,
            "the provider issued a new access token",
        )?;
        self.end(None);

        // 3. A read that needs nothing.
        self.begin("session read (sliding expiry)")?;
        let due = authcore::session::refresh_due(&t2, now_ms() / 1000, &config);
        let r = self.read(&config)?;
        self.show_session(&r.body)?;
        self.check(r.authenticated, "the session is still there")?;
        if due {
            self.info("the provider's access tokens are shorter-lived than the refresh margin: it refreshed again")?;
        } else {
            self.check_requests(0, "no token request: the access token is not due")?;
        }
        let t3 = self.peek()?;
        self.push_chain(&t3);
        self.end(None);

        // 4. Concurrent reads with a forced refresh. The session token carries the refresh
        //    schedule, so the refresh is made due by re-issuing the session with the same
        //    credential marked as expired (no token request).
        self.begin("concurrent reads while a refresh is due")?;
        self.info("a real provider's token lives long; this step re-issues the session with its access token marked expired, so a refresh is due now")?;
        let (Some(access), Some(refresh_token)) =
            (t3.access_token.as_deref(), t3.refresh_token.as_deref())
        else {
            return Err(self.fail("the session has no credential to refresh".to_owned()));
        };
        self.sign_in(access, refresh_token, now_ms() / 1000)?;
        let t3 = self.peek()?;
        // A provider that does not rotate gets the same request as in step 2, whose answer
        // the single flight still keeps for late readers: ask afresh.
        self.ctx.flight.forget_answers();
        let c = self.concurrent(&config, &t3)?;
        self.summary.concurrency = Some(c);
        self.end(None);

        // 5–7 need control over the provider.
        for name in [
            "the provider revokes the grant",
            "refresh fails: RefreshTokenError in the session",
        ] {
            self.begin(name)?;
            self.info(
                "skipped against a real provider (revoke the grant there and read again to see it)",
            )?;
            self.end(Some("needs control over the provider"));
        }

        self.sign_out()?;
        self.summary.requests_sent = self.sent();
        self.say(&format!(
            "\nall steps behaved as stated: {} token requests in {:.1} s",
            self.summary.requests_sent,
            self.started.elapsed().as_secs_f64()
        ))?;
        Ok(self.summary)
    }
}
