//! Sending a refresh request.
//!
//! - The in-process endpoint ([`Sender::Core`]): authcore's sans-IO HTTP/1.1 exchange
//!   (`authcore::http::exchange`) over a std `TcpStream` wrapped as an `embedded_io` transport,
//!   exactly what firmware does over its own TCP stack.
//! - A real provider ([`Sender::Std`]): authcore-std's [`HttpsTransport`] (rustls, the same core
//!   exchange inside), which requires `https://` except for loopback hosts.

use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use authcore::http::{self, Target};
use authcore::refresh::{HttpResponse, Request, TransportFailure};
use authcore::session::RefreshOutcome;
use authcore_std::http::{self as std_http, FormPost, HttpsTransport, Timeouts, Transport as _};
use embedded_io_adapters::std::FromStd;

/// Largest token response read (a JWT access token plus an id token fit easily).
pub const RESPONSE_CAPACITY: usize = 16 * 1024;

/// A parsed `http://host[:port]/path` token endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// `host[:port]` as written, for the `Host` header.
    pub host: String,
    /// `host:port` to connect to.
    pub connect: String,
    /// The request target, starting with `/`.
    pub path: String,
}

/// Why an endpoint URL was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EndpointError {
    /// `https://`: this plain transport has no TLS (use [`Sender::remote`]).
    Https,
    /// Not an `http://host[:port][/path]` URL.
    Invalid(String),
}

impl std::fmt::Display for EndpointError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Https => f.write_str("the plain transport does not speak https://"),
            Self::Invalid(why) => write!(f, "invalid token endpoint URL: {why}"),
        }
    }
}

impl std::error::Error for EndpointError {}

impl Endpoint {
    /// Parses `url`.
    ///
    /// # Errors
    ///
    /// [`EndpointError`].
    pub fn parse(url: &str) -> Result<Self, EndpointError> {
        // Bytes, not `str` slicing: the 8th byte may fall inside a multi-byte character.
        if url
            .as_bytes()
            .get(..8)
            .is_some_and(|scheme| scheme.eq_ignore_ascii_case(b"https://"))
        {
            return Err(EndpointError::Https);
        }
        let rest = url
            .strip_prefix("http://")
            .ok_or_else(|| EndpointError::Invalid("must start with http://".into()))?;
        let (host, tail) = rest.split_at(rest.find(['/', '?', '#']).unwrap_or(rest.len()));
        let tail = tail.split('#').next().unwrap_or("");
        let path = if tail.starts_with('/') {
            tail.to_owned()
        } else {
            format!("/{tail}")
        };
        if host.is_empty() || host.contains('@') {
            return Err(EndpointError::Invalid(
                "missing host (user info is not supported)".into(),
            ));
        }
        let has_port = host.rsplit_once(':').is_some_and(|(h, p)| {
            !h.is_empty() && !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())
        });
        let connect = if has_port {
            host.to_owned()
        } else if host.starts_with('[') || !host.contains(':') {
            format!("{host}:80")
        } else {
            return Err(EndpointError::Invalid(format!("bad host {host:?}")));
        };
        Ok(Self {
            host: host.to_owned(),
            connect,
            path,
        })
    }
}

/// The token endpoint's answer, owned so that every reader waiting on one request can use it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// Wall-clock time the request was sent (Unix ms): `expires_in` counts from here, so a
    /// slow answer makes the recorded expiry earlier, never later.
    pub sent_at_ms: i64,
    /// What came back.
    pub result: Result<Reply, Failure>,
}

/// A complete HTTP response.
#[derive(Clone, PartialEq, Eq)]
pub struct Reply {
    /// Status code.
    pub status: u16,
    /// `Retry-After` seconds.
    pub retry_after: Option<u32>,
    /// The body.
    pub body: Vec<u8>,
}

impl std::fmt::Debug for Reply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The body carries tokens.
        f.debug_struct("Reply")
            .field("status", &self.status)
            .field("retry_after", &self.retry_after)
            .field("body_len", &self.body.len())
            .finish()
    }
}

/// No usable response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// What to tell the refresh machine.
    pub kind: TransportFailure,
    /// Why, for the log.
    pub reason: String,
}

impl Answer {
    /// What to hand to `Engine::resume`.
    #[must_use]
    pub fn outcome(&self) -> RefreshOutcome<'_> {
        match &self.result {
            Ok(r) => RefreshOutcome::Response(HttpResponse {
                status: r.status,
                retry_after: r.retry_after,
                body: &r.body,
            }),
            Err(f) => RefreshOutcome::Transport(f.kind),
        }
    }

    /// Whether the answer is a success (2xx): worth sharing with readers that arrive later
    /// with the same, now retired, refresh token.
    #[must_use]
    pub fn is_success(&self) -> bool {
        matches!(&self.result, Ok(r) if (200..300).contains(&r.status))
    }
}

/// How token requests are sent.
#[derive(Debug)]
pub enum Sender {
    /// authcore's HTTP exchange over a plain `TcpStream` (the in-process endpoint).
    Core {
        /// Where.
        endpoint: Endpoint,
        /// Per-request timeout.
        timeout: Duration,
    },
    /// authcore-std's HTTPS client (a real provider).
    Std {
        /// Where.
        endpoint: std_http::Endpoint,
        /// The client.
        transport: HttpsTransport,
    },
}

impl Sender {
    /// The plain sender for an `http://` endpoint.
    ///
    /// # Errors
    ///
    /// [`EndpointError`].
    pub fn plain(url: &str, timeout: Duration) -> Result<Self, EndpointError> {
        Ok(Self::Core {
            endpoint: Endpoint::parse(url)?,
            timeout,
        })
    }

    /// authcore-std's HTTPS client for `url` (`https://`, or `http://` to a loopback host).
    ///
    /// # Errors
    ///
    /// authcore-std's [`std_http::EndpointError`].
    pub fn remote(url: &str, timeout: Duration) -> Result<Self, std_http::EndpointError> {
        let timeouts = Timeouts::new(timeout, timeout, timeout);
        Ok(Self::Std {
            endpoint: std_http::Endpoint::parse(url)?,
            transport: HttpsTransport::new(timeouts),
        })
    }

    /// POSTs `request` and waits for the answer. `now_ms` is the send time.
    #[must_use]
    pub fn post(&self, request: &Request<'_>, now_ms: i64) -> Answer {
        let result = match self {
            Self::Core { endpoint, timeout } => post(endpoint, request, *timeout),
            Self::Std {
                endpoint,
                transport,
            } => {
                let form = FormPost {
                    body: request.body,
                    authorization: request.authorization,
                };
                match transport.post_form(endpoint, &form) {
                    Ok(r) => Ok(Reply {
                        status: r.status,
                        retry_after: r.retry_after,
                        body: r.body,
                    }),
                    Err(e) => Err(Failure {
                        kind: e.failure,
                        reason: e.to_string(),
                    }),
                }
            }
        };
        Answer {
            sent_at_ms: now_ms,
            result,
        }
    }
}

/// POSTs `request` to `endpoint` over a new TCP connection with authcore's HTTP exchange,
/// giving up after `timeout`.
///
/// # Errors
///
/// [`Failure`] when no complete response came back.
pub fn post(
    endpoint: &Endpoint,
    request: &Request<'_>,
    timeout: Duration,
) -> Result<Reply, Failure> {
    post_inner(endpoint, request, timeout)
}

fn post_inner(
    endpoint: &Endpoint,
    request: &Request<'_>,
    timeout: Duration,
) -> Result<Reply, Failure> {
    let not_sent = |reason: String| Failure {
        kind: TransportFailure::NotSent,
        reason,
    };
    let start = Instant::now();
    let addr = endpoint
        .connect
        .to_socket_addrs()
        .map_err(|e| not_sent(format!("cannot resolve {}: {e}", endpoint.connect)))?
        .next()
        .ok_or_else(|| not_sent(format!("{} has no address", endpoint.connect)))?;
    let stream = TcpStream::connect_timeout(&addr, timeout)
        .map_err(|e| not_sent(format!("cannot connect to {addr}: {e}")))?;
    let socket_setup = stream
        .set_read_timeout(Some(timeout))
        .and_then(|()| stream.set_write_timeout(Some(timeout)))
        .and_then(|()| stream.set_nodelay(true));
    socket_setup.map_err(|e| not_sent(format!("socket options: {e}")))?;
    let mut transport = FromStd::new(stream);
    let target = Target {
        host: &endpoint.host,
        path: &endpoint.path,
    };
    let mut buf = vec![0u8; RESPONSE_CAPACITY];
    match http::exchange(&mut transport, &target, request, &mut buf, &mut || {
        start.elapsed() > timeout
    }) {
        Ok(r) => Ok(Reply {
            status: r.status,
            retry_after: r.retry_after,
            body: r.body.to_vec(),
        }),
        Err(e) => Err(Failure {
            kind: e.transport_failure(),
            reason: e.to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// No panic on any input: URLs whose 8th byte is inside a multi-byte character, and
    /// non-ASCII hosts, paths and schemes, are parsed or refused.
    #[test]
    fn parse_does_not_panic_on_non_ascii() {
        for url in [
            "http://\u{e9}x/token",
            "https:/\u{e9}",
            "\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}",
            "http://h/\u{e9}?\u{e9}#\u{e9}",
            "http://[\u{e9}]:\u{e9}",
            "http://\u{e9}:80",
            "\u{e9}ttps://x",
        ] {
            let r = std::panic::catch_unwind(|| Endpoint::parse(url));
            assert!(r.is_ok(), "Endpoint::parse({url:?}) panicked");
        }
        assert_eq!(
            Endpoint::parse("http://\u{e9}x/token").unwrap().connect,
            "\u{e9}x:80"
        );
        assert_eq!(
            Endpoint::parse("HTTPS://x/\u{e9}"),
            Err(EndpointError::Https)
        );
        assert!(matches!(
            Endpoint::parse("https:/\u{e9}"),
            Err(EndpointError::Invalid(_))
        ));
    }

    #[test]
    fn endpoints() {
        let e = Endpoint::parse("http://127.0.0.1:8080/oauth/token").unwrap();
        assert_eq!(e.host, "127.0.0.1:8080");
        assert_eq!(e.connect, "127.0.0.1:8080");
        assert_eq!(e.path, "/oauth/token");
        let e = Endpoint::parse("http://localhost").unwrap();
        assert_eq!((e.connect.as_str(), e.path.as_str()), ("localhost:80", "/"));
        let e = Endpoint::parse("http://idp.test?x=1").unwrap();
        assert_eq!(e.path, "/?x=1");
        assert_eq!(
            Endpoint::parse("HTTPS://idp.test/token"),
            Err(EndpointError::Https)
        );
        assert!(Endpoint::parse("ftp://x").is_err());
        assert!(Endpoint::parse("http:///x").is_err());
        assert!(Endpoint::parse("http://u@x/").is_err());
    }
}
