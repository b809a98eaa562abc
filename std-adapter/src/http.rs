//! HTTPS to the token endpoint: endpoint validation, timeouts, and a blocking transport.
//!
//! The [`Transport`] trait is the one place the refresh code does network IO: one `POST` of a
//! form body, one response. [`HttpsTransport`] implements it with `std::net`, rustls (ring
//! provider, Mozilla roots from `webpki-roots`) and the core's own HTTP/1.1 exchange
//! ([`authcore::http::exchange`], the code firmware uses), so servers and devices frame and
//! parse token responses identically. It is blocking; async callers never run it on their
//! runtime (the refresh runs on its own thread, see [`crate::refresh`]).
//!
//! Why not an HTTP client crate: `ureq` 3 logs every byte it sends and receives (the
//! `Authorization` header, the refresh token in the body, the tokens in the answer) at `TRACE`
//! level through `log`, which the canary test caught; `reqwest` 0.13's rustls feature builds
//! aws-lc-rs (cmake and a large C build). A token request is one `POST` and one small
//! response, which the core already knows how to write and read.
//!
//! Each token request uses a fresh connection (one request an hour needs no pool, and a
//! stale pooled socket would blur "not sent" and "no response"), redirects are not followed (a
//! redirected `POST` would carry the client secret elsewhere), and every status is returned as
//! a response (the machine classifies it).

use std::fmt;
use std::io;
use std::net::{IpAddr, Ipv6Addr, SocketAddr, TcpStream, ToSocketAddrs as _};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use authcore::http::{embedded_io, ExchangeError, Target};
use authcore::refresh::{Request, TransportFailure};
use embedded_io_adapters::std::FromStd;
use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};

/// A token endpoint URL that passed [`Endpoint::parse`]: `https://`, or `http://` to a
/// loopback address.
#[derive(Clone, PartialEq, Eq)]
pub struct Endpoint {
    https: bool,
    /// `host[:port]` as written (for the `Host` header).
    authority: String,
    /// Host without brackets (for DNS and TLS).
    host: String,
    port: u16,
    /// Path and query, starting with `/`.
    path: String,
}

impl Endpoint {
    /// Checks and stores a token endpoint URL.
    ///
    /// `https://` is required, except for loopback hosts (`127.0.0.0/8`, `[::1]`,
    /// `localhost`), which may use `http://` for tests and local development. A URL with
    /// user information (`https://user:pass@host/`) or a fragment is refused, and so is a host
    /// in brackets that is not an IPv6 address (`[auth.example.com]`, `[127.0.0.1]`, a zone
    /// such as `[fe80::1%25eth0]`), a host without brackets that is neither an IP address nor
    /// a valid DNS name as rustls reads them (`auth..example.com`, `-auth.example.com`,
    /// `*.example.com`, `auth%2eexample.com`, `127.1`: no request could ever be sent to it),
    /// and port 0: [`EndpointError::InvalidUrl`]. A trailing dot (`localhost.`) and any case
    /// are accepted.
    ///
    /// # Errors
    ///
    /// [`EndpointError`] naming the problem.
    pub fn parse(url: &str) -> Result<Self, EndpointError> {
        if url.bytes().any(|b| !(0x21..=0x7E).contains(&b)) || url.contains('#') {
            return Err(EndpointError::InvalidUrl);
        }
        let (scheme, rest) = url.split_once("://").ok_or(EndpointError::InvalidUrl)?;
        let (authority, path) = match rest.find(['/', '?']) {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let path = if path.starts_with('?') {
            format!("/{path}")
        } else {
            path.to_owned()
        };
        if authority.contains('@') {
            return Err(EndpointError::UserInfo);
        }
        let (host, port) = split_host_port(authority).ok_or(EndpointError::InvalidUrl)?;
        let https = if scheme.eq_ignore_ascii_case("https") {
            true
        } else if scheme.eq_ignore_ascii_case("http") {
            if !is_loopback(host) {
                return Err(EndpointError::InsecureScheme);
            }
            false
        } else {
            return Err(EndpointError::UnsupportedScheme);
        };
        let port = match port {
            Some(p) => p,
            None if https => 443,
            None => 80,
        };
        let bare = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        Ok(Self {
            https,
            authority: authority.to_owned(),
            host: bare.to_owned(),
            port,
            path,
        })
    }

    /// The URL.
    #[must_use]
    pub fn as_str(&self) -> String {
        let scheme = if self.https { "https" } else { "http" };
        format!("{scheme}://{}{}", self.authority, self.path)
    }

    /// The host (without port or brackets).
    #[must_use]
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port.
    #[must_use]
    pub const fn port(&self) -> u16 {
        self.port
    }

    /// Whether the endpoint uses TLS.
    #[must_use]
    pub const fn is_https(&self) -> bool {
        self.https
    }
}

impl fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A query string could carry anything; print scheme, authority and path only.
        let scheme = if self.https { "https" } else { "http" };
        let path = self.path.split('?').next().unwrap_or_default();
        write!(f, "Endpoint({scheme}://{}{path})", self.authority)
    }
}

/// Splits `host[:port]`; `None` when the host is empty, the port is not a number or is 0, or
/// brackets hold anything but an IPv6 address (`[::1]`; no zone, no `[v1.…]`) or appear in a
/// host without them, or a host without brackets is neither an IP address nor a DNS name
/// rustls accepts ([`ServerName`]: labels of 1 to 63 letters, digits, `-` and `_`, no `-` at
/// either end, the last not all digits; the transport uses the same check before TLS).
fn split_host_port(authority: &str) -> Option<(&str, Option<u16>)> {
    let (host, port) = if authority.starts_with('[') {
        let end = authority.find(']')?;
        let (host, rest) = authority.split_at(end + 1);
        host.get(1..end)?.parse::<Ipv6Addr>().ok()?;
        match rest {
            "" => (host, None),
            _ => (host, Some(rest.strip_prefix(':')?)),
        }
    } else {
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        };
        if host.is_empty() || host.contains([':', '[', ']']) {
            return None;
        }
        // The transport names the host to rustls with the same check: a host it refuses
        // would make every request fail `NotSent`, which the machine retries forever.
        ServerName::try_from(host).ok()?;
        (host, port)
    };
    let port = match port {
        Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => {
            Some(p.parse().ok().filter(|&p: &u16| p != 0)?)
        }
        Some(_) => return None,
        None => None,
    };
    Some((host, port))
}

/// Whether `host` (as in a URL authority, IPv6 in brackets) is a loopback address.
fn is_loopback(host: &str) -> bool {
    // `localhost.` is the same name, fully qualified (RFC 6761 §6.3).
    let name = host.strip_suffix('.').unwrap_or(host);
    if name.eq_ignore_ascii_case("localhost") {
        return true;
    }
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Why a token endpoint URL was refused.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndpointError {
    /// Not an absolute URL with a host (and, if any, a numeric port); brackets around
    /// anything but an IPv6 address count as no host.
    InvalidUrl,
    /// `http://` to a host that is not a loopback address.
    InsecureScheme,
    /// A scheme other than `https` or `http`.
    UnsupportedScheme,
    /// The URL has user information (`user:pass@`).
    UserInfo,
}

impl EndpointError {
    /// Stable snake_case name of the error.
    #[must_use]
    pub const fn kind(&self) -> &'static str {
        match self {
            Self::InvalidUrl => "invalid_url",
            Self::InsecureScheme => "insecure_endpoint",
            Self::UnsupportedScheme => "unsupported_scheme",
            Self::UserInfo => "url_has_credentials",
        }
    }
}

impl fmt::Display for EndpointError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::InvalidUrl => "token endpoint is not an absolute URL with a host",
            Self::InsecureScheme => {
                "token endpoint must use https:// (http:// is allowed only for loopback addresses)"
            }
            Self::UnsupportedScheme => "token endpoint must use https://",
            Self::UserInfo => "token endpoint URL must not contain user information",
        })
    }
}

impl std::error::Error for EndpointError {}

/// Timeouts for one token request.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// Connection setup, DNS and TLS handshake included (each address tried gets what is
    /// left of it; every handshake read and write is cut short when it runs out, however
    /// slowly the server keeps sending). Never more than `total`. Default **5 s**.
    pub connect: Duration,
    /// Longest wait of any single socket read or write (handshake, request, headers or
    /// body); zero is taken as 1 ms. Default **10 s**.
    pub read: Duration,
    /// The whole request, from connecting to the last body byte: every socket read and
    /// write is cut short when it runs out, however slowly the server keeps sending.
    /// Default **30 s**.
    pub total: Duration,
}

impl Timeouts {
    /// The defaults.
    pub const DEFAULT: Self = Self {
        connect: Duration::from_secs(5),
        read: Duration::from_secs(10),
        total: Duration::from_secs(30),
    };

    /// Sets all three timeouts.
    #[must_use]
    pub const fn new(connect: Duration, read: Duration, total: Duration) -> Self {
        Self {
            connect,
            read,
            total,
        }
    }
}

impl Default for Timeouts {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// The form `POST` to send. `Debug` redacts the body and `Authorization`.
#[derive(Clone, Copy)]
pub struct FormPost<'a> {
    /// `application/x-www-form-urlencoded` body (carries the refresh token: secret).
    pub body: &'a str,
    /// `Authorization` header value, if any (secret).
    pub authorization: Option<&'a str>,
}

impl fmt::Debug for FormPost<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FormPost")
            .field("body_len", &self.body.len())
            .field("authorization", &self.authorization.map(|_| "<redacted>"))
            .finish()
    }
}

/// A complete HTTP response from the token endpoint.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenHttpResponse {
    /// Status code.
    pub status: u16,
    /// `Retry-After` as delta-seconds, when present in that form.
    pub retry_after: Option<u32>,
    /// The body (may hold tokens: `Debug` prints only its length).
    pub body: Vec<u8>,
}

impl fmt::Debug for TokenHttpResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenHttpResponse")
            .field("status", &self.status)
            .field("retry_after", &self.retry_after)
            .field("body_len", &self.body.len())
            .finish()
    }
}

/// What went wrong on the wire, in coarse classes (no messages from below: they could quote
/// data).
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportErrorKind {
    /// Name resolution failed.
    Dns,
    /// The connection could not be set up (refused, unreachable, connect timeout).
    Connect,
    /// TLS handshake or certificate failure.
    Tls,
    /// A timeout after the TCP connection was set up: a socket read or write waited
    /// [`Timeouts::read`], the TLS handshake ran past [`Timeouts::connect`] (then the request
    /// was not sent), or the request past [`Timeouts::total`].
    Timeout,
    /// The connection was reset or closed early.
    Io,
    /// The response was not valid HTTP/1.1.
    Protocol,
    /// The response was larger than [`MAX_RESPONSE`].
    TooLarge,
    /// A success status came, but its body could not be read whole (too large, cut off,
    /// timed out, broken framing): [`TransportFailure::UnreadableSuccess`].
    SuccessUnreadable,
    /// The request could not be built.
    Request,
}

impl TransportErrorKind {
    /// Stable snake_case name.
    #[must_use]
    pub const fn as_str(&self) -> &'static str {
        match self {
            Self::Dns => "dns",
            Self::Connect => "connect",
            Self::Tls => "tls",
            Self::Timeout => "timeout",
            Self::Io => "io",
            Self::Protocol => "protocol",
            Self::TooLarge => "too_large",
            Self::SuccessUnreadable => "success_unreadable",
            Self::Request => "request",
        }
    }
}

/// A token request that got no usable response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransportError {
    /// Whether the request may have reached the server (what the machine needs to know).
    pub failure: TransportFailure,
    /// What happened.
    pub kind: TransportErrorKind,
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sent = match self.failure {
            TransportFailure::NotSent => "request not sent",
            TransportFailure::UnreadableSuccess => "success status, body lost",
            _ => "no response",
        };
        write!(f, "{sent} ({})", self.kind.as_str())
    }
}

impl std::error::Error for TransportError {}

/// Sends one token request. Implementations must be safe to call from several threads.
pub trait Transport: Send + Sync + fmt::Debug {
    /// `POST`s `form` to `endpoint` and returns the complete response, whatever its status.
    ///
    /// # Errors
    ///
    /// [`TransportError`] when no complete response came back.
    fn post_form(
        &self,
        endpoint: &Endpoint,
        form: &FormPost<'_>,
    ) -> Result<TokenHttpResponse, TransportError>;
}

/// Most bytes of a token response (headers and body) [`HttpsTransport`] accepts: 1 MiB, far
/// above any token response seen (an `id_token` carrying many group claims runs to tens of
/// kilobytes). A success whose body is larger is
/// [`TransportFailure::UnreadableSuccess`]: the refresh ends for good rather than sending
/// the spent refresh token again.
pub const MAX_RESPONSE: usize = 1024 * 1024;

/// The blocking transport: `std::net` + rustls + the core's HTTP/1.1 exchange.
///
/// Timeouts: [`Timeouts::connect`] bounds the connection setup as a whole (name resolution,
/// which runs on a helper thread so that it can be abandoned, with at most
/// [`MAX_PENDING_LOOKUPS`] of them left running, every TCP connect attempt, the
/// TLS handshake), [`Timeouts::read`] each socket read and write (at least 1 ms), and
/// [`Timeouts::total`] the whole request. The connect and total deadlines are checked before
/// every socket read and write, each of which may wait only for what is left of them, so a
/// server trickling bytes cannot stretch a request: it never takes much longer than `total`.
///
/// Running out of time during setup is [`TransportFailure::NotSent`], of kind
/// [`TransportErrorKind::Dns`], [`Connect`](TransportErrorKind::Connect) or, in the TLS
/// handshake, [`Timeout`](TransportErrorKind::Timeout). After it, a socket timeout or the total
/// deadline is kind [`Timeout`](TransportErrorKind::Timeout) (or
/// [`SuccessUnreadable`](TransportErrorKind::SuccessUnreadable) once a 2xx status line has
/// come), with the failure [`ExchangeError::transport_failure`] gives: usually
/// [`TransportFailure::NoResponse`].
pub struct HttpsTransport {
    tls: Arc<ClientConfig>,
    timeouts: Timeouts,
}

impl HttpsTransport {
    /// A transport trusting the Mozilla root certificates (`webpki-roots`).
    #[must_use]
    pub fn new(timeouts: Timeouts) -> Self {
        let mut roots = RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        Self::with_roots(timeouts, roots)
    }

    /// A transport trusting only `roots` (a private CA, tests).
    #[must_use]
    pub fn with_roots(timeouts: Timeouts, roots: RootCertStore) -> Self {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map(|b| b.with_root_certificates(roots).with_no_client_auth());
        // The ring provider supports the default versions; fall back to a config without
        // roots (every handshake then fails, reported as a TLS error) rather than panic.
        let tls = tls.unwrap_or_else(|_| {
            ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                .with_protocol_versions(&[&rustls::version::TLS13])
                .map(|b| {
                    b.with_root_certificates(RootCertStore::empty())
                        .with_no_client_auth()
                })
                .unwrap_or_else(|_| unreachable_config())
        });
        Self {
            tls: Arc::new(tls),
            timeouts,
        }
    }

    /// The timeouts.
    #[must_use]
    pub const fn timeouts(&self) -> Timeouts {
        self.timeouts
    }

    fn connect(&self, endpoint: &Endpoint, setup: Instant) -> Result<TcpStream, TransportError> {
        let addrs = resolve(endpoint, setup)?;
        // Plain http is allowed for loopback only: `localhost` must resolve there too.
        let addrs: Vec<SocketAddr> = addrs
            .into_iter()
            .filter(|a| endpoint.is_https() || a.ip().is_loopback())
            .collect();
        if addrs.is_empty() {
            return Err(not_sent(TransportErrorKind::Dns));
        }
        let mut last = not_sent(TransportErrorKind::Connect);
        for addr in addrs {
            let left = setup.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(not_sent(TransportErrorKind::Connect));
            }
            match TcpStream::connect_timeout(&addr, left) {
                Ok(stream) => {
                    // Socket timeouts are set before each read and write (`DeadlineStream`).
                    let _ = stream.set_nodelay(true);
                    return Ok(stream);
                }
                Err(_) => last = not_sent(TransportErrorKind::Connect),
            }
        }
        Err(last)
    }
}

/// Most name lookups of [`HttpsTransport`] left running at once, in the whole process.
///
/// A lookup the system resolver never answers keeps its helper thread (see `resolve`). Once
/// this many are still running, a request fails at once with a [`TransportErrorKind::Dns`]
/// error (nothing was sent, so the refresh machine backs off and tries again) instead of
/// starting one more thread: a hung resolver cannot pile up threads without bound.
pub const MAX_PENDING_LOOKUPS: usize = 16;

/// Lookups started and not yet finished (abandoned ones included).
static PENDING_LOOKUPS: AtomicUsize = AtomicUsize::new(0);

/// A name lookup: the addresses of `host` at `port`.
type Lookup = fn(&str, u16) -> io::Result<Vec<SocketAddr>>;

/// The endpoint's addresses, given up on at `setup`: the system resolver cannot be
/// interrupted, so it runs on a helper thread that is left to finish on its own when it is
/// late (at most [`MAX_PENDING_LOOKUPS`] at once). IP literals need no lookup.
fn resolve(endpoint: &Endpoint, setup: Instant) -> Result<Vec<SocketAddr>, TransportError> {
    resolve_with(endpoint, setup, &PENDING_LOOKUPS, |host, port| {
        (host, port)
            .to_socket_addrs()
            .map(Iterator::collect::<Vec<_>>)
    })
}

/// A lookup's place among the pending ones, given back when the lookup ends (its thread
/// finishes, or is never started).
struct LookupSlot(&'static AtomicUsize);

impl LookupSlot {
    fn take(pending: &'static AtomicUsize) -> Option<Self> {
        pending
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < MAX_PENDING_LOOKUPS).then_some(n + 1)
            })
            .ok()
            .map(|_| Self(pending))
    }
}

impl Drop for LookupSlot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// [`resolve`] with the lookup and the pending count given (tests).
fn resolve_with(
    endpoint: &Endpoint,
    setup: Instant,
    pending: &'static AtomicUsize,
    lookup: Lookup,
) -> Result<Vec<SocketAddr>, TransportError> {
    let port = endpoint.port();
    if let Ok(ip) = endpoint.host().parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    let slot = LookupSlot::take(pending).ok_or_else(|| not_sent(TransportErrorKind::Dns))?;
    let host = endpoint.host().to_owned();
    let (tx, rx) = mpsc::channel();
    // If the thread cannot be started, the closure and its slot are dropped here.
    std::thread::Builder::new()
        .name("authcore-dns".into())
        .spawn(move || {
            let _slot = slot;
            let _ = tx.send(lookup(&host, port));
        })
        .map_err(|_| not_sent(TransportErrorKind::Dns))?;
    let left = setup.saturating_duration_since(Instant::now());
    match rx.recv_timeout(left) {
        Ok(Ok(addrs)) => Ok(addrs),
        Ok(Err(_)) | Err(_) => Err(not_sent(TransportErrorKind::Dns)),
    }
}

/// Only reached if ring cannot do TLS 1.3, which it can.
fn unreachable_config() -> ClientConfig {
    #[allow(clippy::panic, reason = "ring always supports TLS 1.3")]
    {
        panic!("the ring provider supports no TLS version")
    }
}

impl Default for HttpsTransport {
    fn default() -> Self {
        Self::new(Timeouts::DEFAULT)
    }
}

impl fmt::Debug for HttpsTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpsTransport")
            .field("timeouts", &self.timeouts)
            .finish_non_exhaustive()
    }
}

impl Transport for HttpsTransport {
    fn post_form(
        &self,
        endpoint: &Endpoint,
        form: &FormPost<'_>,
    ) -> Result<TokenHttpResponse, TransportError> {
        let now = Instant::now();
        // Absurd timeouts (the CLI takes any number of seconds) mean no deadline, not a panic.
        let far = || {
            now.checked_add(Duration::from_secs(100 * 365 * 86_400))
                .unwrap_or(now)
        };
        let deadline = now.checked_add(self.timeouts.total).unwrap_or_else(far);
        let setup = now
            .checked_add(self.timeouts.connect)
            .unwrap_or_else(far)
            .min(deadline);
        let tcp = self.connect(endpoint, setup)?;
        // The TLS handshake may only take what is left of the setup time; the exchange what
        // is left of the total.
        let mut tcp = DeadlineStream::new(tcp, setup, self.timeouts.read);
        let target = Target {
            host: &endpoint.authority,
            path: &endpoint.path,
        };
        let request = Request {
            body: form.body,
            authorization: form.authorization,
        };
        let mut buf = vec![0u8; MAX_RESPONSE];
        let result = if endpoint.is_https() {
            let name = ServerName::try_from(endpoint.host().to_owned())
                .map_err(|_| not_sent(TransportErrorKind::Request))?;
            let mut conn = ClientConnection::new(Arc::clone(&self.tls), name)
                .map_err(|_| not_sent(TransportErrorKind::Tls))?;
            // Nothing of the request has been sent yet: a handshake that runs out of time is
            // `NotSent`, as a connect that does.
            while conn.is_handshaking() {
                if Instant::now() >= setup {
                    return Err(not_sent(TransportErrorKind::Timeout));
                }
                conn.complete_io(&mut tcp).map_err(|e| {
                    not_sent(if is_timeout(&e) {
                        TransportErrorKind::Timeout
                    } else {
                        TransportErrorKind::Tls
                    })
                })?;
            }
            tcp.deadline = deadline;
            let mut stream = FromStd::new(CloseIsEnd(StreamOwned::new(conn, tcp)));
            exchange(&mut stream, &target, &request, &mut buf, deadline)
        } else {
            tcp.deadline = deadline;
            let mut stream = FromStd::new(tcp);
            exchange(&mut stream, &target, &request, &mut buf, deadline)
        };
        buf.fill(0);
        result
    }
}

/// Shortest socket timeout set: `set_read_timeout` refuses zero (to the OS it would mean no
/// timeout at all).
const MIN_WAIT: Duration = Duration::from_millis(1);

/// The TCP stream with a deadline, as rustls and the exchange see it.
///
/// rustls keeps reading inside one call for as long as bytes arrive (`complete_io` until a
/// handshake message or record is whole, `StreamOwned::read` until a record is), so a server
/// that sends a byte now and then never lets a socket timeout fire and a deadline checked
/// between rustls calls is never reached. So the deadline is checked here, before every
/// socket read and write: once it has passed the call fails with
/// [`io::ErrorKind::TimedOut`]; otherwise the socket's timeout for the call is set to what is
/// left of the deadline, capped at [`Timeouts::read`], and never below [`MIN_WAIT`]. A socket
/// timeout firing is reported as `TimedOut` too (Unix says `WouldBlock`, which rustls takes as
/// "try again later" on a non-blocking socket).
struct DeadlineStream {
    tcp: TcpStream,
    /// When every read and write stops: the setup deadline during the TLS handshake, then
    /// the total one.
    deadline: Instant,
    /// Longest wait of one read or write: [`Timeouts::read`], at least [`MIN_WAIT`].
    step: Duration,
    /// The read and write timeouts last set on the socket (a system call saved when
    /// unchanged).
    read_set: Option<Duration>,
    write_set: Option<Duration>,
}

impl DeadlineStream {
    fn new(tcp: TcpStream, deadline: Instant, read: Duration) -> Self {
        Self {
            tcp,
            deadline,
            step: read.max(MIN_WAIT),
            read_set: None,
            write_set: None,
        }
    }

    /// How long the next socket call may wait; `TimedOut` once the deadline has passed.
    fn wait(&self) -> io::Result<Duration> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::ErrorKind::TimedOut.into());
        }
        Ok(left.min(self.step).max(MIN_WAIT))
    }
}

/// A blocking socket's timeout firing (`WouldBlock` on Unix) as `TimedOut`.
fn timed_out_as_such(e: io::Error) -> io::Error {
    if e.kind() == io::ErrorKind::WouldBlock {
        io::ErrorKind::TimedOut.into()
    } else {
        e
    }
}

impl io::Read for DeadlineStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let wait = Some(self.wait()?);
        if self.read_set != wait {
            self.tcp.set_read_timeout(wait)?;
            self.read_set = wait;
        }
        self.tcp.read(buf).map_err(timed_out_as_such)
    }
}

impl io::Write for DeadlineStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let wait = Some(self.wait()?);
        if self.write_set != wait {
            self.tcp.set_write_timeout(wait)?;
            self.write_set = wait;
        }
        self.tcp.write(buf).map_err(timed_out_as_such)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.tcp.flush()
    }
}

/// A TLS stream whose peer closing the connection without TLS's `close_notify` reads as the
/// end of the stream rather than an error (rustls reports `UnexpectedEof`). Servers that end a
/// body by closing (no `Content-Length`, no chunking) often skip `close_notify`. The
/// truncation this could hide cannot make a token response usable: the body is one JSON
/// object, and a cut-off object does not parse. Framed bodies that end early are still
/// [`ExchangeError::Truncated`].
struct CloseIsEnd<S>(S);

impl<S: io::Read> io::Read for CloseIsEnd<S> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.0.read(buf) {
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(0),
            other => other,
        }
    }
}

impl<S: io::Write> io::Write for CloseIsEnd<S> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

fn exchange<T>(
    stream: &mut T,
    target: &Target<'_>,
    request: &Request<'_>,
    buf: &mut [u8],
    deadline: Instant,
) -> Result<TokenHttpResponse, TransportError>
where
    T: embedded_io::Read + embedded_io::Write + embedded_io::ErrorType<Error = io::Error>,
{
    let response = authcore::http::exchange(stream, target, request, buf, &mut || {
        Instant::now() >= deadline
    })
    .map_err(|e| classify(&e))?;
    Ok(TokenHttpResponse {
        status: response.status,
        retry_after: response.retry_after,
        body: response.body.to_vec(),
    })
}

fn not_sent(kind: TransportErrorKind) -> TransportError {
    TransportError {
        failure: TransportFailure::NotSent,
        kind,
    }
}

/// Whether a socket call ran out of time (its own timeout or the deadline).
fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
    )
}

/// Sorts an exchange error into the machine's two classes and a coarse kind.
fn classify(e: &ExchangeError<io::Error>) -> TransportError {
    let kind = match e {
        ExchangeError::InvalidTarget => TransportErrorKind::Request,
        ExchangeError::Timeout => TransportErrorKind::Timeout,
        ExchangeError::Write(io) | ExchangeError::Flush(io) | ExchangeError::Read(io)
            if is_timeout(io) =>
        {
            TransportErrorKind::Timeout
        }
        ExchangeError::ResponseTooLarge { .. } => TransportErrorKind::TooLarge,
        ExchangeError::SuccessUnreadable { .. } => TransportErrorKind::SuccessUnreadable,
        ExchangeError::TooManyHeaders
        | ExchangeError::Malformed
        | ExchangeError::UnsupportedTransferEncoding => TransportErrorKind::Protocol,
        _ => TransportErrorKind::Io,
    };
    TransportError {
        failure: e.transport_failure(),
        kind,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `localhost.` is `localhost`, fully qualified (RFC 6761 §6.3): loopback, so `http://`
    /// is allowed, as the docs of `Endpoint::parse` say.
    #[test]
    fn localhost_with_a_trailing_dot_may_use_http() {
        for url in ["http://localhost.:9/token", "http://LOCALHOST.:9/token"] {
            assert!(
                Endpoint::parse(url).is_ok(),
                "{url}: {:?}",
                Endpoint::parse(url)
            );
        }
        assert_eq!(
            Endpoint::parse("http://localhost..:9/token"),
            Err(EndpointError::InvalidUrl)
        );
    }
    use std::sync::{Condvar, Mutex};

    /// Whether the test's lookups may answer yet.
    static OPEN: (Mutex<bool>, Condvar) = (Mutex::new(false), Condvar::new());
    static PENDING: AtomicUsize = AtomicUsize::new(0);

    /// A lookup that hangs until [`OPEN`] is set, then answers with a loopback address.
    fn hanging_lookup(_host: &str, port: u16) -> io::Result<Vec<SocketAddr>> {
        let (open, cv) = &OPEN;
        let mut guard = open
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        while !*guard {
            guard = cv
                .wait(guard)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
        }
        Ok(vec![SocketAddr::from(([127, 0, 0, 1], port))])
    }

    #[test]
    fn a_hung_resolver_holds_at_most_max_pending_lookups_threads() {
        let endpoint = Endpoint::parse("https://auth.example/token").unwrap();
        // A lookup of `endpoint`, given up on after `within`.
        let lookup = |endpoint: &Endpoint, within: Duration| {
            resolve_with(endpoint, Instant::now() + within, &PENDING, hanging_lookup)
        };
        let soon = Duration::from_millis(20);
        // Each lookup hangs and is given up on: its thread stays.
        for _ in 0..MAX_PENDING_LOOKUPS {
            let err = lookup(&endpoint, soon).unwrap_err();
            assert_eq!(err.kind, TransportErrorKind::Dns);
        }
        assert_eq!(PENDING.load(Ordering::Acquire), MAX_PENDING_LOOKUPS);
        // The next one fails at once, without a thread.
        let started = Instant::now();
        let err = lookup(&endpoint, Duration::from_secs(2)).unwrap_err();
        assert_eq!(
            (err.failure, err.kind),
            (TransportFailure::NotSent, TransportErrorKind::Dns)
        );
        // It did not wait for a lookup (one would take the whole 2 s).
        assert!(started.elapsed() < Duration::from_secs(1));
        assert_eq!(PENDING.load(Ordering::Acquire), MAX_PENDING_LOOKUPS);
        // IP literals need no lookup and are not held up.
        let literal = Endpoint::parse("https://127.0.0.1:9/token").unwrap();
        assert!(lookup(&literal, soon).is_ok());
        // When the resolver answers, the threads end and give their places back.
        {
            let (open, cv) = &OPEN;
            *open.lock().unwrap() = true;
            cv.notify_all();
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while PENDING.load(Ordering::Acquire) != 0 {
            assert!(Instant::now() < deadline, "lookup threads did not end");
            std::thread::sleep(Duration::from_millis(1));
        }
        let addrs = lookup(&endpoint, Duration::from_secs(10)).unwrap();
        assert_eq!(addrs, [SocketAddr::from(([127, 0, 0, 1], 443))]);
    }

    #[test]
    fn hosts_the_transport_can_never_use_are_refused() {
        // Each of these used to parse, then every request failed `NotSent` (rustls refuses the
        // name, or nothing listens on port 0), which the machine takes as transient: the
        // refresh backed off and retried forever instead of the URL being refused up front.
        for url in [
            "https://auth..example.com/token",
            "https://.auth.example.com/token",
            "https://-auth-.example.com/token",
            "https://auth-.example.com/token",
            "https://*.example.com/token",
            "https://auth%2eexample.com/token",
            "https://auth.example.123/token",
            "https://127.1/token",
            "https://127.0.0.01/token",
            "https://0x7f.0.0.1/token",
            "https://auth.example.com:0/token",
            "https://auth.example.com:00/token",
            "http://127.0.0.1:0/token",
            "http://[::1]:0/token",
            "http://127.1/token",
            "http://localhost:0/token",
        ] {
            assert_eq!(
                Endpoint::parse(url),
                Err(EndpointError::InvalidUrl),
                "{url}"
            );
        }
        let long_label = format!("https://{}.example.com/token", "a".repeat(64));
        assert_eq!(Endpoint::parse(&long_label), Err(EndpointError::InvalidUrl));
        // What rustls can name still parses, as before.
        for (url, host, port) in [
            ("https://localhost/token", "localhost", 443),
            ("http://localhost:9/token", "localhost", 9),
            ("http://LOCALHOST:9/token", "LOCALHOST", 9),
            ("https://localhost./token", "localhost.", 443),
            ("https://auth.example.com./token", "auth.example.com.", 443),
            ("https://127.0.0.1/token", "127.0.0.1", 443),
            ("http://127.0.0.1:65535/token", "127.0.0.1", 65535),
            ("https://[::1]:8443/token", "::1", 8443),
            ("https://[2001:db8::1]/token", "2001:db8::1", 443),
            (
                "https://Auth-1.Example.COM/token",
                "Auth-1.Example.COM",
                443,
            ),
            ("https://my_host.internal/token", "my_host.internal", 443),
            ("https://123.example.com/token", "123.example.com", 443),
            (
                "https://xn--bcher-kva.example/token",
                "xn--bcher-kva.example",
                443,
            ),
            (
                "https://auth.example.com:00443/token",
                "auth.example.com",
                443,
            ),
        ] {
            let e = Endpoint::parse(url).unwrap_or_else(|e| panic!("{url}: {e}"));
            assert_eq!((e.host(), e.port()), (host, port), "{url}");
        }
    }

    /// `Endpoint::parse` refuses a fragment, and anything that is not printable ASCII
    /// (spaces, control characters: a CR LF would end the request line), as `InvalidUrl`: no
    /// request could be sent to such a URL, and one that fails is retried for ever (README,
    /// *Endpoints*).
    #[test]
    fn fragments_and_unprintable_bytes_are_invalid_urls() {
        for url in [
            "https://auth.example.com/token#frag",
            "https://auth.example.com/token#",
            "https://auth.example.com/to ken",
            "https://auth.example.com/token\r\nX-Injected: 1",
            "https://auth.example.com/token\t",
            "https://auth.example.com/t\u{e9}",
        ] {
            assert_eq!(
                Endpoint::parse(url),
                Err(EndpointError::InvalidUrl),
                "{url:?}"
            );
        }
        assert!(Endpoint::parse("https://auth.example.com/token?a=b").is_ok());
    }

    /// README, *Defaults*: connect 5 s, read 10 s, total 30 s.
    #[test]
    fn default_timeouts_are_5_10_and_30_seconds() {
        let expected = Timeouts::new(
            Duration::from_secs(5),
            Duration::from_secs(10),
            Duration::from_secs(30),
        );
        assert_eq!(Timeouts::default(), expected);
        assert_eq!(HttpsTransport::default().timeouts(), expected);
    }

    /// A URL whose path is empty and that has a query (`https://host?x=1`) gets the path `/`
    /// in front of the query: the request target must start with `/` (RFC 9112 §3.2.1).
    #[test]
    fn a_query_without_a_path_gets_the_root_path() {
        let e = Endpoint::parse("https://auth.example.com?client=a").unwrap();
        assert_eq!(e.as_str(), "https://auth.example.com/?client=a");
        let e = Endpoint::parse("http://127.0.0.1:9?x=1").unwrap();
        assert_eq!(e.as_str(), "http://127.0.0.1:9/?x=1");
    }

    #[test]
    fn endpoints() {
        assert!(Endpoint::parse("https://auth.example.com/oauth/token").is_ok());
        assert!(Endpoint::parse("http://127.0.0.1:8080/token").is_ok());
        assert!(Endpoint::parse("http://127.5.0.1/token").is_ok());
        assert!(Endpoint::parse("http://[::1]:9/token").is_ok());
        assert!(Endpoint::parse("http://localhost:9/token").is_ok());
        assert_eq!(
            Endpoint::parse("http://auth.example.com/token"),
            Err(EndpointError::InsecureScheme)
        );
        assert_eq!(
            Endpoint::parse("http://10.0.0.1/token"),
            Err(EndpointError::InsecureScheme)
        );
        assert_eq!(
            Endpoint::parse("http://127.0.0.1.evil.com/token"),
            Err(EndpointError::InsecureScheme)
        );
        assert_eq!(
            Endpoint::parse("ftp://127.0.0.1/token"),
            Err(EndpointError::UnsupportedScheme)
        );
        assert_eq!(
            Endpoint::parse("https://u:p@auth.example.com/t"),
            Err(EndpointError::UserInfo)
        );
        assert_eq!(Endpoint::parse("/token"), Err(EndpointError::InvalidUrl));
        assert_eq!(Endpoint::parse("not a url"), Err(EndpointError::InvalidUrl));
    }
}
