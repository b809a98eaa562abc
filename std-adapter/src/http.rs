//! HTTPS to the token endpoint: endpoint validation, timeouts, and a blocking transport.
//!
//! The [`Transport`] trait is the one place the refresh code does network IO: one `POST` of a
//! form body, one response. [`UreqTransport`] implements it with `ureq` 3 over rustls (ring
//! provider, webpki roots). It is blocking; async callers never run it on their runtime (the
//! refresh runs on its own thread, see [`crate::refresh`]).
//!
//! Token requests are sent on a fresh connection each time (no pool: one request an hour does
//! not need one, and a stale pooled socket would blur "not sent" and "no response"), redirects
//! are not followed (a redirected `POST` would carry the client secret elsewhere), and every
//! status is returned as a response (the machine classifies it).

use std::fmt;
use std::io;
use std::net::IpAddr;
use std::time::Duration;

use authcore::refresh::TransportFailure;
use ureq::http::Uri;

/// Most bytes read from a token endpoint response body.
pub const MAX_BODY: u64 = 256 * 1024;

/// A token endpoint URL that passed [`Endpoint::parse`]: `https://`, or `http://` to a
/// loopback address.
#[derive(Clone, PartialEq, Eq)]
pub struct Endpoint {
    uri: Uri,
}

impl Endpoint {
    /// Checks and stores a token endpoint URL.
    ///
    /// `https://` is required, except for loopback hosts (`127.0.0.0/8`, `[::1]`,
    /// `localhost`), which may use `http://` for tests and local development. A URL with
    /// user information (`https://user:pass@host/`) is refused: credentials go in the request.
    ///
    /// # Errors
    ///
    /// [`EndpointError`] naming the problem.
    pub fn parse(url: &str) -> Result<Self, EndpointError> {
        let uri: Uri = url.parse().map_err(|_| EndpointError::InvalidUrl)?;
        let authority = uri.authority().ok_or(EndpointError::InvalidUrl)?;
        if authority.as_str().contains('@') {
            return Err(EndpointError::UserInfo);
        }
        let host = authority.host();
        if host.is_empty() {
            return Err(EndpointError::InvalidUrl);
        }
        match uri.scheme_str() {
            Some("https") => {}
            Some("http") if is_loopback(host) => {}
            Some("http") => return Err(EndpointError::InsecureScheme),
            _ => return Err(EndpointError::UnsupportedScheme),
        }
        Ok(Self { uri })
    }

    /// The URL.
    #[must_use]
    pub fn as_str(&self) -> String {
        self.uri.to_string()
    }

    /// The host (without port).
    #[must_use]
    pub fn host(&self) -> &str {
        self.uri.host().unwrap_or_default()
    }

    /// The parsed URI.
    #[must_use]
    pub fn uri(&self) -> &Uri {
        &self.uri
    }
}

impl fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Query strings could carry anything; print scheme, authority and path only.
        write!(
            f,
            "Endpoint({}://{}{})",
            self.uri.scheme_str().unwrap_or_default(),
            self.uri.authority().map_or("", |a| a.as_str()),
            self.uri.path()
        )
    }
}

/// Whether `host` (as in a URL authority, IPv6 in brackets) is a loopback address.
fn is_loopback(host: &str) -> bool {
    if host.eq_ignore_ascii_case("localhost") {
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
    /// Not an absolute URL with a host.
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
    /// Connection setup, DNS and TLS handshake included. Default **5 s**.
    pub connect: Duration,
    /// Longest wait for any single read (headers or body). Default **10 s**.
    pub read: Duration,
    /// The whole request, from connecting to the last body byte. Default **30 s**.
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
    /// A timeout after the connection was set up.
    Timeout,
    /// The connection was reset or closed early.
    Io,
    /// The response was not valid HTTP/1.1.
    Protocol,
    /// The response was larger than [`MAX_BODY`].
    TooLarge,
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

/// The blocking `ureq` transport over rustls.
pub struct UreqTransport {
    agent: ureq::Agent,
    timeouts: Timeouts,
}

impl UreqTransport {
    /// A transport with these timeouts.
    #[must_use]
    pub fn new(timeouts: Timeouts) -> Self {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .max_idle_connections(0)
            .max_idle_connections_per_host(0)
            .user_agent(concat!("authcore-std/", env!("CARGO_PKG_VERSION")))
            .timeout_connect(Some(timeouts.connect))
            .timeout_per_read(Some(timeouts.read))
            .timeout_global(Some(timeouts.total))
            .build();
        Self {
            agent: config.new_agent(),
            timeouts,
        }
    }

    /// The timeouts.
    #[must_use]
    pub const fn timeouts(&self) -> Timeouts {
        self.timeouts
    }
}

impl Default for UreqTransport {
    fn default() -> Self {
        Self::new(Timeouts::DEFAULT)
    }
}

impl fmt::Debug for UreqTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UreqTransport")
            .field("timeouts", &self.timeouts)
            .finish_non_exhaustive()
    }
}

impl Transport for UreqTransport {
    fn post_form(
        &self,
        endpoint: &Endpoint,
        form: &FormPost<'_>,
    ) -> Result<TokenHttpResponse, TransportError> {
        let mut request = self
            .agent
            .post(endpoint.uri().clone())
            .header("content-type", authcore::refresh::request::CONTENT_TYPE)
            .header("accept", authcore::refresh::request::ACCEPT);
        if let Some(auth) = form.authorization {
            request = request.header("authorization", auth);
        }
        let mut response = request.send(form.body).map_err(classify)?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after);
        let body = response
            .body_mut()
            .with_config()
            .limit(MAX_BODY)
            .read_to_vec()
            .map_err(|e| match e {
                ureq::Error::BodyExceedsLimit(_) => TransportError {
                    failure: TransportFailure::NoResponse,
                    kind: TransportErrorKind::TooLarge,
                },
                other => no_response(&other),
            })?;
        Ok(TokenHttpResponse {
            status,
            retry_after,
            body,
        })
    }
}

/// `Retry-After` as delta-seconds (RFC 9110 §10.2.3). HTTP-dates are ignored (the machine's
/// own backoff applies).
#[must_use]
pub fn parse_retry_after(value: &str) -> Option<u32> {
    let v = value.trim();
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(
        v.parse::<u64>()
            .map_or(u32::MAX, |n| u32::try_from(n).unwrap_or(u32::MAX)),
    )
}

/// Sorts a send error into "never left" and "may have arrived".
fn classify(e: ureq::Error) -> TransportError {
    use ureq::Error as E;
    let not_sent = |kind| TransportError {
        failure: TransportFailure::NotSent,
        kind,
    };
    match &e {
        E::HostNotFound | E::Timeout(ureq::Timeout::Resolve) => not_sent(TransportErrorKind::Dns),
        E::ConnectionFailed | E::Timeout(ureq::Timeout::Connect) => {
            not_sent(TransportErrorKind::Connect)
        }
        E::Tls(_) | E::Rustls(_) | E::Pem(_) => not_sent(TransportErrorKind::Tls),
        E::BadUri(_) | E::Http(_) | E::RequireHttpsOnly(_) | E::InvalidProxyUrl => {
            not_sent(TransportErrorKind::Request)
        }
        E::Io(io) if connect_refused(io) => not_sent(TransportErrorKind::Connect),
        _ => no_response(&e),
    }
}

fn connect_refused(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::AddrNotAvailable
            | io::ErrorKind::NetworkUnreachable
            | io::ErrorKind::HostUnreachable
    )
}

fn no_response(e: &ureq::Error) -> TransportError {
    let kind = match e {
        ureq::Error::Timeout(_) => TransportErrorKind::Timeout,
        ureq::Error::Protocol(_) | ureq::Error::LargeResponseHeader(..) => {
            TransportErrorKind::Protocol
        }
        ureq::Error::Io(io) if io.kind() == io::ErrorKind::TimedOut => TransportErrorKind::Timeout,
        _ => TransportErrorKind::Io,
    };
    TransportError {
        failure: TransportFailure::NoResponse,
        kind,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn retry_after() {
        assert_eq!(parse_retry_after("7"), Some(7));
        assert_eq!(parse_retry_after(" 0 "), Some(0));
        assert_eq!(parse_retry_after("99999999999"), Some(u32::MAX));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
        assert_eq!(parse_retry_after("-1"), None);
        assert_eq!(parse_retry_after(""), None);
    }
}
