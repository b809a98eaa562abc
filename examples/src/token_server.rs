//! A small OAuth 2.0 token endpoint (RFC 6749 §6, refresh grant only) that runs inside the
//! process on `127.0.0.1`, for the demo and its tests.
//!
//! - Access tokens are short-lived ([`ServerConfig::expires_in`], a few seconds) and about as
//!   large as a real provider's JWT access token ([`ServerConfig::access_token_len`]).
//! - Refresh tokens rotate: each grant has exactly one valid refresh token; using it returns a
//!   new one and retires the old. A retired, unknown or revoked refresh token gets
//!   `400 {"error":"invalid_grant"}`.
//! - Clients authenticate with `client_secret_basic` or `client_secret_post`; anything else is
//!   `401 {"error":"invalid_client"}` with `WWW-Authenticate: Basic realm="authcore-demo"`
//!   (RFC 6749 §5.2, RFC 7235 §3.1). The Basic scheme is matched in any case (RFC 7235 §2.1),
//!   its credentials are Base64-decoded, split at the first `:` and form-decoded (RFC 6749
//!   §2.3.1). A request that uses both methods is `400 invalid_request` (RFC 6749 §2.3).
//! - Strict requests (RFC 6749 §3.2, §5.2): a missing `grant_type` or `refresh_token`, or a
//!   parameter given more than once, is `400 invalid_request` and rotates nothing; a
//!   `grant_type` other than `refresh_token` is `400 unsupported_grant_type`. A parameter with
//!   an empty value counts as omitted (§3.1); unknown parameters are ignored.
//! - Every response carries `Cache-Control: no-store` and `Pragma: no-cache` (§5.1).
//! - The request head (request line and headers) is limited to 16 KiB while it is read, the
//!   body to 16 KiB: a longer request is dropped unanswered.
//! - Every request is counted and logged ([`TokenServer::log`]), so a test can assert how many
//!   requests a step caused.
//! - `Debug` never prints a token: refresh tokens show as their label, `rt_<grant>_<generation>`
//!   (see [`Seen`]), access tokens and the client secret not at all.
//!
//! The sign-in itself (the authorization-code exchange) is outside authcore; the demo stands in
//! for it with [`TokenServer::issue_grant`], which creates a grant and returns its first tokens.

use std::collections::HashMap;
use std::fmt;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use crate::random;

/// Where the server answers.
pub const TOKEN_PATH: &str = "/oauth/token";

/// Largest request head or body accepted.
const MAX_REQUEST: usize = 16 * 1024;

/// The realm of the `WWW-Authenticate` challenge sent with every `401`.
const REALM: &str = "authcore-demo";

/// The request parameters the server reads (RFC 6749 §6 and §2.3.1); none may be repeated.
const PARAMETERS: [&str; 5] = [
    "grant_type",
    "refresh_token",
    "scope",
    "client_id",
    "client_secret",
];

/// How the server behaves.
#[derive(Clone)]
pub struct ServerConfig {
    /// The only client id accepted.
    pub client_id: String,
    /// Its secret.
    pub client_secret: String,
    /// `expires_in` of every access token, in seconds.
    pub expires_in: u32,
    /// Length of every access token in bytes (real JWT access tokens are often 1–2 KB).
    pub access_token_len: usize,
    /// Simulated processing time before a successful answer, so that concurrent readers
    /// overlap with the request in flight.
    pub latency: Duration,
}

impl fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerConfig")
            .field("client_id", &self.client_id)
            .field("expires_in", &self.expires_in)
            .field("access_token_len", &self.access_token_len)
            .field("latency", &self.latency)
            .finish_non_exhaustive()
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            client_id: "authcore-demo".into(),
            client_secret: "demo-client-secret".into(),
            expires_in: 4,
            access_token_len: 1800,
            latency: Duration::from_millis(250),
        }
    }
}

/// Tokens the server issued.
#[derive(Clone, PartialEq, Eq)]
pub struct Issued {
    /// The grant they belong to.
    pub grant: u32,
    /// The access token.
    pub access_token: String,
    /// The (new) refresh token.
    pub refresh_token: String,
    /// Lifetime of the access token, seconds.
    pub expires_in: u32,
}

impl fmt::Debug for Issued {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Issued")
            .field("grant", &self.grant)
            .field("expires_in", &self.expires_in)
            .finish_non_exhaustive()
    }
}

/// One request the server received, and how it answered. `Debug` shows the refresh token's
/// label only ([`token_label`]).
#[derive(Clone, PartialEq, Eq)]
pub struct Seen {
    /// The refresh token sent, if any.
    pub refresh_token: Option<String>,
    /// The status answered.
    pub status: u16,
    /// The OAuth error code answered, if any.
    pub error: Option<&'static str>,
}

impl fmt::Debug for Seen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Seen")
            .field(
                "refresh_token",
                &self.refresh_token.as_deref().map(token_label),
            )
            .field("status", &self.status)
            .field("error", &self.error)
            .finish()
    }
}

/// What `Debug` shows of a refresh token: `rt_<grant>_<generation>` for one shaped like this
/// server's (`rt_<grant>_<generation>_<random>`), without the random part; `<redacted>` for
/// anything else a client sent.
#[must_use]
pub fn token_label(token: &str) -> String {
    let mut parts = token.splitn(4, '_');
    let digits = |p: Option<&str>| {
        p.filter(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
            .map(str::to_owned)
    };
    match (parts.next(), digits(parts.next()), digits(parts.next())) {
        (Some("rt"), Some(grant), Some(generation)) => format!("rt_{grant}_{generation}"),
        _ => "<redacted>".to_owned(),
    }
}

struct Grant {
    /// The only refresh token currently valid for this grant.
    refresh_token: String,
    /// How many token pairs this grant has issued.
    generation: u32,
    revoked: bool,
}

impl fmt::Debug for Grant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Grant")
            .field("refresh_token", &token_label(&self.refresh_token))
            .field("generation", &self.generation)
            .field("revoked", &self.revoked)
            .finish()
    }
}

#[derive(Debug, Default)]
struct State {
    grants: HashMap<u32, Grant>,
    log: Vec<Seen>,
}

/// The running server. Dropping it stops the listener.
#[derive(Debug)]
pub struct TokenServer {
    addr: SocketAddr,
    config: Arc<ServerConfig>,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
    acceptor: Option<JoinHandle<()>>,
}

impl TokenServer {
    /// Binds `127.0.0.1:0` and starts serving on a thread (one more thread per connection).
    ///
    /// # Errors
    ///
    /// The bind error.
    pub fn start(config: ServerConfig) -> io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let config = Arc::new(config);
        let state = Arc::new(Mutex::new(State::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let acceptor = {
            let (config, state, stop) = (config.clone(), state.clone(), stop.clone());
            thread::Builder::new()
                .name("token-server".into())
                .spawn(move || accept_loop(&listener, &config, &state, &stop))?
        };
        Ok(Self {
            addr,
            config,
            state,
            stop,
            acceptor: Some(acceptor),
        })
    }

    /// The token endpoint URL, `http://127.0.0.1:<port>/oauth/token`.
    #[must_use]
    pub fn endpoint(&self) -> String {
        format!("http://{}{TOKEN_PATH}", self.addr)
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &ServerConfig {
        &self.config
    }

    /// Stands in for the authorization-code exchange of a sign-in: creates a grant and returns
    /// its first access and refresh token.
    ///
    /// # Errors
    ///
    /// The OS random source failed.
    pub fn issue_grant(&self) -> io::Result<Issued> {
        let mut state = lock(&self.state);
        let grant = u32::try_from(state.grants.len()).unwrap_or(u32::MAX - 1) + 1;
        let issued = issue(&self.config, grant, 1)?;
        state.grants.insert(
            grant,
            Grant {
                refresh_token: issued.refresh_token.clone(),
                generation: 1,
                revoked: false,
            },
        );
        Ok(issued)
    }

    /// Revokes `grant` (the user withdrew consent, an admin ended it): its refresh token is
    /// refused from now on. Returns whether the grant existed.
    pub fn revoke(&self, grant: u32) -> bool {
        match lock(&self.state).grants.get_mut(&grant) {
            Some(g) => {
                g.revoked = true;
                true
            }
            None => false,
        }
    }

    /// Number of requests received so far.
    #[must_use]
    pub fn requests(&self) -> usize {
        lock(&self.state).log.len()
    }

    /// Every request received so far, in order.
    #[must_use]
    pub fn log(&self) -> Vec<Seen> {
        lock(&self.state).log.clone()
    }
}

impl Drop for TokenServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the blocking accept().
        let _ = TcpStream::connect(self.addr);
        if let Some(h) = self.acceptor.take() {
            let _ = h.join();
        }
    }
}

fn lock(state: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

fn accept_loop(
    listener: &TcpListener,
    config: &Arc<ServerConfig>,
    state: &Arc<Mutex<State>>,
    stop: &AtomicBool,
) {
    for stream in listener.incoming() {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let Ok(stream) = stream else { continue };
        let (config, state) = (config.clone(), state.clone());
        let _ = thread::Builder::new()
            .name("token-server-conn".into())
            .spawn(move || {
                let _ = handle(stream, &config, &state);
            });
    }
}

/// A parsed request.
struct HttpRequest {
    method: String,
    path: String,
    authorization: Option<String>,
    content_type: Option<String>,
    body: Vec<u8>,
}

fn bad(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_owned())
}

/// Reads one line of the request head into `line` (replacing it), counting its bytes into
/// `head`; never more than [`MAX_REQUEST`] for the whole head, newline or not. Returns `false`
/// at the end of the stream before any byte.
fn read_head_line(
    reader: &mut impl BufRead,
    line: &mut String,
    head: &mut usize,
) -> io::Result<bool> {
    let room = MAX_REQUEST.saturating_sub(*head);
    let mut bytes = Vec::new();
    let n = reader
        .by_ref()
        .take(u64::try_from(room).unwrap_or(u64::MAX))
        .read_until(b'\n', &mut bytes)?;
    *head += n;
    if n == 0 && room > 0 {
        return Ok(false);
    }
    if !bytes.ends_with(b"\n") {
        return Err(bad(if n == room {
            "head too large"
        } else {
            "truncated head"
        }));
    }
    *line = String::from_utf8(bytes).map_err(|_| bad("head is not UTF-8"))?;
    Ok(true)
}

fn read_request(stream: &TcpStream) -> io::Result<HttpRequest> {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    let mut head = 0;
    if !read_head_line(&mut reader, &mut line, &mut head)? {
        return Err(bad("no request"));
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().ok_or_else(|| bad("no method"))?.to_owned();
    let path = parts.next().ok_or_else(|| bad("no path"))?.to_owned();
    let mut length = 0usize;
    let mut authorization = None;
    let mut content_type = None;
    loop {
        if !read_head_line(&mut reader, &mut line, &mut head)? {
            return Err(bad("truncated head"));
        }
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        let Some((name, value)) = l.split_once(':') else {
            return Err(bad("bad header"));
        };
        let value = value.trim();
        match name.to_ascii_lowercase().as_str() {
            "content-length" => length = value.parse().map_err(|_| bad("bad length"))?,
            "authorization" => authorization = Some(value.to_owned()),
            "content-type" => content_type = Some(value.to_owned()),
            "transfer-encoding" => return Err(bad("chunked requests are not supported")),
            _ => {}
        }
    }
    if length > MAX_REQUEST {
        return Err(bad("body too large"));
    }
    let mut body = vec![0u8; length];
    reader.read_exact(&mut body)?;
    Ok(HttpRequest {
        method,
        path,
        authorization,
        content_type,
        body,
    })
}

fn handle(mut stream: TcpStream, config: &ServerConfig, state: &Mutex<State>) -> io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    stream.set_nodelay(true)?;
    let req = read_request(&stream)?;
    let (status, body) = answer(&req, config, state);
    if status == 200 && !config.latency.is_zero() {
        thread::sleep(config.latency);
    }
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        500 => "Internal Server Error",
        401 => "Unauthorized",
        404 => "Not Found",
        _ => "Method Not Allowed",
    };
    // RFC 6749 §5.2 and RFC 7235 §3.1: a 401 carries the challenge of the scheme supported.
    // RFC 9110 §15.5.6: a 405 lists the methods the resource allows.
    let challenge = match status {
        401 => format!("WWW-Authenticate: Basic realm=\"{REALM}\"\r\n"),
        405 => "Allow: POST\r\n".to_owned(),
        _ => String::new(),
    };
    // RFC 6749 §5.1: no-store and no-cache on every response (they carry tokens or say
    // something about them).
    let response = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nCache-Control: no-store\r\nPragma: no-cache\r\n{challenge}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(response.as_bytes())?;
    stream.flush()?;
    let _ = stream.shutdown(std::net::Shutdown::Both);
    Ok(())
}

fn error_body(code: &str) -> String {
    format!(r#"{{"error":"{code}"}}"#)
}

/// Decides the answer and records the request.
fn answer(req: &HttpRequest, config: &ServerConfig, state: &Mutex<State>) -> (u16, String) {
    if req.path != TOKEN_PATH {
        return (404, error_body("not_found"));
    }
    if req.method != "POST" {
        return (405, error_body("method_not_allowed"));
    }
    let form = parse_form(&req.body);
    let mut state = lock(state);
    let (status, error, body) = decide(req, &form, config, &mut state);
    let refresh_token = field(&form, "refresh_token").map(str::to_owned);
    state.log.push(Seen {
        refresh_token,
        status,
        error,
    });
    (
        status,
        body.unwrap_or_else(|| error_body(error.unwrap_or("server_error"))),
    )
}

/// The first non-empty value of parameter `name` (RFC 6749 §3.1: a parameter without a value
/// counts as omitted).
fn field<'f>(form: &'f [(String, String)], name: &str) -> Option<&'f str> {
    form.iter()
        .find(|(k, v)| k == name && !v.is_empty())
        .map(|(_, v)| v.as_str())
}

/// Whether one of [`PARAMETERS`] has a value more than once (RFC 6749 §3.2).
fn repeated(form: &[(String, String)]) -> bool {
    PARAMETERS.iter().any(|&name| {
        form.iter()
            .filter(|(k, v)| k == name && !v.is_empty())
            .nth(1)
            .is_some()
    })
}

/// (status, OAuth error, success body).
fn decide(
    req: &HttpRequest,
    form: &[(String, String)],
    config: &ServerConfig,
    state: &mut State,
) -> (u16, Option<&'static str>, Option<String>) {
    let form_ok = req
        .content_type
        .as_deref()
        .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"));
    if !form_ok {
        return (400, Some("invalid_request"), None);
    }
    // RFC 6749 §3.2 / §5.2: "includes a parameter more than once".
    if repeated(form) {
        return (400, Some("invalid_request"), None);
    }
    // RFC 6749 §2.3 / §5.2: "utilizes more than one mechanism for authenticating the client".
    if req.authorization.is_some() && field(form, "client_secret").is_some() {
        return (400, Some("invalid_request"), None);
    }
    if !client_ok(req.authorization.as_deref(), form, config) {
        return (401, Some("invalid_client"), None);
    }
    match field(form, "grant_type") {
        Some("refresh_token") => {}
        // RFC 6749 §5.2: "missing a required parameter".
        None => return (400, Some("invalid_request"), None),
        Some(_) => return (400, Some("unsupported_grant_type"), None),
    }
    let Some(rt) = field(form, "refresh_token") else {
        return (400, Some("invalid_request"), None);
    };
    let found = state
        .grants
        .iter()
        .find(|(_, g)| g.refresh_token == rt && !g.revoked)
        .map(|(&id, g)| (id, g.generation));
    let Some((grant, generation)) = found else {
        // Unknown, already rotated away, or revoked.
        return (400, Some("invalid_grant"), None);
    };
    let Ok(issued) = issue(config, grant, generation + 1) else {
        return (500, Some("server_error"), None);
    };
    if let Some(g) = state.grants.get_mut(&grant) {
        g.refresh_token = issued.refresh_token.clone();
        g.generation = generation + 1;
    }
    let body = format!(
        r#"{{"access_token":"{}","token_type":"Bearer","expires_in":{},"refresh_token":"{}","scope":"openid profile email"}}"#,
        issued.access_token, issued.expires_in, issued.refresh_token
    );
    (200, None, Some(body))
}

fn client_ok(
    authorization: Option<&str>,
    form: &[(String, String)],
    config: &ServerConfig,
) -> bool {
    match authorization {
        // client_secret_basic (a client_secret in the body as well was refused before).
        Some(value) => basic_credentials(value)
            .is_some_and(|(id, secret)| id == config.client_id && secret == config.client_secret),
        // client_secret_post.
        None => {
            field(form, "client_id") == Some(config.client_id.as_str())
                && field(form, "client_secret") == Some(config.client_secret.as_str())
        }
    }
}

/// The client id and secret of a `Basic` `Authorization` value: the scheme in any case (RFC
/// 7235 §2.1), one or more spaces, the Base64 (RFC 4648 §4, padded) of `id:secret` split at
/// the first `:` (RFC 7617 §2), each form-decoded (RFC 6749 §2.3.1). `None` for anything else.
fn basic_credentials(value: &str) -> Option<(String, String)> {
    let (scheme, credentials) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64_std_decode(credentials.trim_start_matches(' '))?;
    let colon = decoded.iter().position(|&b| b == b':')?;
    let (id, secret) = decoded.split_at(colon);
    Some((form_decode(id), form_decode(secret.get(1..)?)))
}

/// Mints the tokens of `generation` for `grant`. Tokens are readable (`at_<grant>_<gen>_…`,
/// `rt_<grant>_<gen>_…`) with random tails, so each is unique.
fn issue(config: &ServerConfig, grant: u32, generation: u32) -> io::Result<Issued> {
    let hex = |n| random::hex(n).map_err(|e| io::Error::other(e.to_string()));
    let refresh_token = format!("rt_{grant}_{generation}_{}", hex(12)?);
    let mut access_token = format!("at_{grant}_{generation}_");
    let rest = config.access_token_len.saturating_sub(access_token.len());
    access_token.push_str(&hex(rest.div_ceil(2))?[..rest]);
    Ok(Issued {
        grant,
        access_token,
        refresh_token,
        expires_in: config.expires_in,
    })
}

/// `application/x-www-form-urlencoded` parsing: `+` is a space, `%XX` a byte.
fn parse_form(body: &[u8]) -> Vec<(String, String)> {
    body.split(|&b| b == b'&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let mut it = pair.splitn(2, |&b| b == b'=');
            let k = form_decode(it.next().unwrap_or_default());
            let v = form_decode(it.next().unwrap_or_default());
            (k, v)
        })
        .collect()
}

fn form_decode(s: &[u8]) -> String {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while let Some(&b) = s.get(i) {
        match b {
            b'+' => out.push(b' '),
            b'%' => {
                // Two hex digits, or the `%` stands for itself (WHATWG urlencoded parsing;
                // `from_str_radix` alone would take `%+4` as an escape).
                let hex = s
                    .get(i + 1..i + 3)
                    .filter(|h| h.iter().all(u8::is_ascii_hexdigit))
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                if let Some(v) = hex {
                    out.push(v);
                    i += 2;
                } else {
                    out.push(b'%');
                }
            }
            _ => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// WHATWG `URLSearchParams` encoding (what authcore sends); the tests build Basic
/// credentials with it.
#[cfg(test)]
fn form_encode(s: &str) -> String {
    let mut out = String::new();
    for &b in s.as_bytes() {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => {
                out.push(char::from(b));
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Standard Base64 with padding (RFC 4648 §4): the tests build Basic headers with it.
#[cfg(test)]
fn base64_std(input: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in input.chunks(3) {
        let b = [
            chunk.first().copied().unwrap_or(0),
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                let idx = usize::try_from((n >> (18 - 6 * i)) & 63).unwrap_or(0);
                out.push(char::from(ALPHABET[idx]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Strict standard Base64 decoding (RFC 4648 §4): padded to a multiple of 4, `=` only at the
/// end, unused bits zero. `None` for anything else.
fn base64_std_decode(input: &str) -> Option<Vec<u8>> {
    fn value(c: u8) -> Option<u32> {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        Some(u32::from(v))
    }
    let bytes = input.as_bytes();
    if !bytes.len().is_multiple_of(4) {
        return None;
    }
    let mut out = Vec::with_capacity(bytes.len() / 4 * 3);
    let quads = bytes.len() / 4;
    for (i, quad) in bytes.chunks(4).enumerate() {
        let pad = quad.iter().rev().take_while(|&&c| c == b'=').count();
        if pad > 2 || (pad > 0 && i + 1 != quads) {
            return None;
        }
        let mut n = 0u32;
        for &c in quad.iter().take(4 - pad) {
            n = (n << 6) | value(c)?;
        }
        n <<= 6 * pad;
        let [_, a, b, c] = n.to_be_bytes();
        let decoded = [a, b, c];
        let (data, unused) = decoded.split_at(3 - pad);
        if unused.iter().any(|&x| x != 0) {
            return None;
        }
        out.extend_from_slice(data);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6749 §2.3.1 / Appendix B form decoding (the WHATWG urlencoded parser): `%` is an
    /// escape only before two hex digits; `%+41` is `%`, a space and `41` (a bare
    /// `from_str_radix` took `+4` as a number).
    #[test]
    fn a_percent_before_a_plus_is_not_an_escape() {
        assert_eq!(form_decode(b"a%+41"), "a% 41");
        assert_eq!(form_decode(b"a%4"), "a%4");
        assert_eq!(form_decode(b"a%41%2b+"), "aA+ ");
        let b64 = |s: &str| format!("Basic {}", base64_std(s.as_bytes()));
        assert_eq!(
            basic_credentials(&b64("id:s%+41")),
            Some(("id".to_owned(), "s% 41".to_owned()))
        );
        assert_eq!(
            parse_form(b"refresh_token=rt%+41"),
            vec![("refresh_token".to_owned(), "rt% 41".to_owned())]
        );
    }

    /// RFC 9110 §15.5.6: a 405 carries `Allow`.
    #[test]
    fn method_not_allowed_names_post() {
        let server = server();
        let resp = raw(
            &server,
            &format!("GET {TOKEN_PATH} HTTP/1.1\r\nHost: x\r\n\r\n"),
        );
        assert_answer(&resp, "405", None);
        assert!(head(&resp).contains("\r\nallow: post\r\n"), "{resp}");
    }

    /// Sends `request` as is to `server` and returns the whole response.
    fn raw(server: &TokenServer, request: &str) -> String {
        let mut s = TcpStream::connect(server.addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        s.write_all(request.as_bytes()).unwrap();
        let mut out = String::new();
        let _ = s.read_to_string(&mut out);
        out
    }

    /// A server without latency.
    fn server() -> TokenServer {
        TokenServer::start(ServerConfig {
            latency: Duration::ZERO,
            ..ServerConfig::default()
        })
        .unwrap()
    }

    fn form_post(body: &str, authorization: Option<&str>) -> String {
        let auth = authorization.map_or(String::new(), |a| format!("Authorization: {a}\r\n"));
        format!(
            "POST {TOKEN_PATH} HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n{auth}Content-Length: {}\r\n\r\n{body}",
            body.len()
        )
    }

    /// `grant_type=refresh_token&refresh_token=<rt>` and the demo client's credentials
    /// (`client_secret_post`).
    fn refresh_post(rt: &str) -> String {
        form_post(
            &format!(
                "grant_type=refresh_token&refresh_token={rt}&client_id=authcore-demo&client_secret=demo-client-secret"
            ),
            None,
        )
    }

    fn basic(id_and_secret: &str) -> String {
        format!("Basic {}", base64_std(id_and_secret.as_bytes()))
    }

    /// The status line, or the whole response when it is not `status` with `error`.
    #[track_caller]
    fn assert_answer(resp: &str, status: &str, error: Option<&str>) {
        assert!(resp.starts_with(&format!("HTTP/1.1 {status} ")), "{resp}");
        if let Some(error) = error {
            assert!(
                resp.ends_with(&format!(r#"{{"error":"{error}"}}"#)),
                "{resp}"
            );
        }
    }

    /// The response head, lower-cased.
    fn head(resp: &str) -> String {
        resp[..resp.find("\r\n\r\n").unwrap_or(resp.len())].to_ascii_lowercase()
    }

    /// RFC 6749 §5.2: a client that failed to authenticate with the Authorization header
    /// MUST get 401 with a `WWW-Authenticate` of its scheme; RFC 7235 §3.1: every 401 has
    /// one (also for `client_secret_post`).
    #[test]
    fn invalid_client_gets_a_basic_challenge() {
        let server = server();
        let g = server.issue_grant().unwrap();
        let body = format!("grant_type=refresh_token&refresh_token={}", g.refresh_token);
        let by_basic = form_post(&body, Some(&basic("authcore-demo:wrong")));
        let by_post = form_post(
            &format!("{body}&client_id=authcore-demo&client_secret=x"),
            None,
        );
        for request in [by_basic, by_post] {
            let resp = raw(&server, &request);
            assert_answer(&resp, "401", Some("invalid_client"));
            assert!(
                head(&resp).contains("\r\nwww-authenticate: basic realm=\"authcore-demo\"\r\n"),
                "401 without WWW-Authenticate: {resp}"
            );
        }
        // Other statuses carry no challenge.
        let resp = raw(&server, &refresh_post(&g.refresh_token));
        assert_answer(&resp, "200", None);
        assert!(!head(&resp).contains("www-authenticate"), "{resp}");
    }

    /// RFC 6749 §5.1: a response with tokens carries `Cache-Control: no-store` and
    /// `Pragma: no-cache`; the server sends both on every response.
    #[test]
    fn every_response_has_no_store_and_no_cache() {
        let server = server();
        let g = server.issue_grant().unwrap();
        let ok = raw(&server, &refresh_post(&g.refresh_token));
        let spent = raw(&server, &refresh_post(&g.refresh_token));
        assert_answer(&ok, "200", None);
        assert_answer(&spent, "400", Some("invalid_grant"));
        for resp in [ok, spent] {
            let head = head(&resp);
            assert!(head.contains("\r\ncache-control: no-store\r\n"), "{head}");
            assert!(
                head.contains("\r\npragma: no-cache\r\n"),
                "no Pragma: {head}"
            );
        }
    }

    /// Whether `rt` is still the grant's live refresh token (it refreshes; it rotates then).
    fn still_live(server: &TokenServer, rt: &str) -> bool {
        raw(server, &refresh_post(rt)).starts_with("HTTP/1.1 200 ")
    }

    /// RFC 6749 §5.2: a missing required parameter (grant_type; an empty one counts as
    /// missing, §3.1) is `invalid_request`; `unsupported_grant_type` is for a grant type the
    /// server does not support. Neither rotates the grant.
    #[test]
    fn missing_grant_type_is_invalid_request() {
        let server = server();
        let g = server.issue_grant().unwrap();
        let creds = "client_id=authcore-demo&client_secret=demo-client-secret";
        let rt = &g.refresh_token;
        for (body, error) in [
            (format!("refresh_token={rt}&{creds}"), "invalid_request"),
            (
                format!("grant_type=&refresh_token={rt}&{creds}"),
                "invalid_request",
            ),
            (
                format!("grant_type=password&refresh_token={rt}&{creds}"),
                "unsupported_grant_type",
            ),
            // The same for a missing refresh token.
            (
                format!("grant_type=refresh_token&{creds}"),
                "invalid_request",
            ),
            (
                format!("grant_type=refresh_token&refresh_token=&{creds}"),
                "invalid_request",
            ),
        ] {
            assert_answer(&raw(&server, &form_post(&body, None)), "400", Some(error));
        }
        assert!(still_live(&server, rt));
    }

    /// RFC 6749 §3.2 (parameters MUST NOT be included more than once) and §5.2
    /// (`invalid_request`: "includes a parameter more than once"): a repeated parameter is
    /// refused and the grant is not rotated, even when the first value is the live token.
    #[test]
    fn repeated_parameter_is_invalid_request_and_does_not_rotate() {
        let server = server();
        let g = server.issue_grant().unwrap();
        let rt = &g.refresh_token;
        let creds = "client_id=authcore-demo&client_secret=demo-client-secret";
        for body in [
            format!("grant_type=refresh_token&refresh_token={rt}&refresh_token=other&{creds}"),
            format!("grant_type=refresh_token&refresh_token={rt}&refresh_token={rt}&{creds}"),
            format!("grant_type=refresh_token&grant_type=refresh_token&refresh_token={rt}&{creds}"),
            format!("grant_type=refresh_token&refresh_token={rt}&{creds}&client_id=authcore-demo"),
            format!("grant_type=refresh_token&refresh_token={rt}&{creds}&scope=a&scope=a"),
        ] {
            assert_answer(
                &raw(&server, &form_post(&body, None)),
                "400",
                Some("invalid_request"),
            );
        }
        // An empty repeat counts as omitted (§3.1), an unknown parameter is ignored (§3.2).
        let body =
            format!("grant_type=refresh_token&refresh_token={rt}&refresh_token=&x=1&x=2&{creds}");
        let resp = raw(&server, &form_post(&body, None));
        assert_answer(&resp, "200", None);
        assert!(
            !still_live(&server, rt),
            "rotated by the request that was answered"
        );
    }

    /// RFC 6749 §2.3 ("The client MUST NOT use more than one authentication method in each
    /// request") and §5.2 (`invalid_request`: "utilizes more than one mechanism for
    /// authenticating the client"): Basic plus client_secret in the body is `invalid_request`
    /// (not `invalid_client`, not a success), and nothing rotates.
    #[test]
    fn two_client_auth_methods_is_invalid_request() {
        let server = server();
        let g = server.issue_grant().unwrap();
        let body = format!(
            "grant_type=refresh_token&refresh_token={}&client_id=authcore-demo&client_secret=demo-client-secret",
            g.refresh_token
        );
        let good = basic("authcore-demo:demo-client-secret");
        assert_answer(
            &raw(&server, &form_post(&body, Some(&good))),
            "400",
            Some("invalid_request"),
        );
        assert!(still_live(&server, &g.refresh_token));
    }

    /// RFC 7235 §2.1 / RFC 7617 §2: the auth-scheme is case-insensitive and may be followed
    /// by several spaces; RFC 6749 §2.3.1: the id and secret are form-encoded before
    /// Base64, so they are compared decoded, not as header text.
    #[test]
    fn basic_credentials_are_decoded_and_the_scheme_has_any_case() {
        let server = server();
        let g = server.issue_grant().unwrap();
        let mut rt = g.refresh_token;
        let b64 = |s: &str| base64_std(s.as_bytes());
        for authorization in [
            format!("basic {}", b64("authcore-demo:demo-client-secret")),
            format!("BASIC  {}", b64("authcore-demo:demo-client-secret")),
            // `-` percent-encoded, still the same id.
            format!("Basic {}", b64("authcore%2Ddemo:demo%2Dclient%2Dsecret")),
        ] {
            let body = format!("grant_type=refresh_token&refresh_token={rt}");
            let resp = raw(&server, &form_post(&body, Some(&authorization)));
            assert_answer(&resp, "200", None);
            let json: serde_json::Value =
                serde_json::from_str(&resp[resp.find("\r\n\r\n").unwrap() + 4..]).unwrap();
            rt = json["refresh_token"].as_str().unwrap().to_owned();
        }
        for authorization in [
            "Bearer x".to_owned(),
            "Basic".to_owned(),
            format!("Basic {}", b64("authcore-demo")),
            format!("Basic {}", b64("authcore-demo:demo-client-secret:x")),
            format!(
                "Basic {}",
                b64("authcore-demo:demo-client-secret").trim_end_matches('=')
            ),
            format!("Basic {}!", b64("authcore-demo:demo-client-secret")),
        ] {
            let body = format!("grant_type=refresh_token&refresh_token={rt}");
            let resp = raw(&server, &form_post(&body, Some(&authorization)));
            assert_answer(&resp, "401", Some("invalid_client"));
        }
    }

    #[test]
    fn basic_credentials_split_at_the_first_colon() {
        let b64 = |s: &str| format!("basic {}", base64_std(s.as_bytes()));
        assert_eq!(
            basic_credentials(&b64("a%3Ab:c:d+e%2B")),
            Some(("a:b".to_owned(), "c:d e+".to_owned()))
        );
        assert_eq!(
            basic_credentials(&b64(":")),
            Some((String::new(), String::new()))
        );
        assert_eq!(basic_credentials(&b64("no colon")), None);
        assert_eq!(basic_credentials("Basic"), None);
        assert_eq!(basic_credentials("Basicx YTpi"), None);
    }

    #[test]
    fn base64_decoding_is_strict() {
        for s in [
            "",
            "YQ==",
            "YWI=",
            "YWJj",
            "YXBwK2lkOnMzJTNBY3IlMkJ0",
            "+/+/",
        ] {
            let decoded = base64_std_decode(s).unwrap();
            assert_eq!(base64_std(&decoded), s);
        }
        for s in [
            "Y", "YQ", "YQ=", "YQ===", "Y===", "YQ==YQ==", "YR==", "YWJ=", "YW J", "YW-_",
        ] {
            assert_eq!(base64_std_decode(s), None, "{s}");
        }
    }

    /// The request head is limited to 16 KiB while it is read: a request line or a header
    /// line without a newline is not buffered without end (the connection is dropped).
    #[test]
    fn head_limit_applies_within_a_line() {
        let server = server();
        for start in ["", "POST /oauth/token HTTP/1.1\r\nX-Long: "] {
            let mut s = TcpStream::connect(server.addr).unwrap();
            s.set_write_timeout(Some(Duration::from_secs(10))).unwrap();
            s.write_all(start.as_bytes()).unwrap();
            let chunk = vec![b'A'; 1024 * 1024];
            let mut sent = 0usize;
            let refused = (0..64).any(|_| match s.write_all(&chunk) {
                Ok(()) => {
                    sent += chunk.len();
                    false
                }
                Err(_) => true,
            });
            assert!(refused, "the server kept reading: {sent} bytes of one line");
        }
        // A head of exactly the limit is still read (and answered).
        let filler = "X-Filler: ".to_owned();
        let request = form_post("", None);
        let pad = MAX_REQUEST - request.len() - filler.len() - 2;
        let request = request.replacen(
            "Host: x\r\n",
            &format!("Host: x\r\n{filler}{}\r\n", "a".repeat(pad)),
            1,
        );
        assert_eq!(request.len(), MAX_REQUEST);
        assert_answer(&raw(&server, &request), "401", Some("invalid_client"));
        let over = request.replacen("X-Filler: ", "X-Filler: a", 1);
        assert_eq!(
            raw(&server, &over),
            "",
            "one byte over the limit is dropped"
        );
    }

    /// Secrets never print: `Debug` of a grant, of the server and of its log (also inside
    /// the demo's `Summary`) shows refresh tokens as `rt_<grant>_<generation>` only, as
    /// `Issued` and `ServerConfig` already did.
    #[test]
    fn debug_redacts_refresh_tokens() {
        let server = server();
        let g = server.issue_grant().unwrap();
        assert!(!format!("{g:?}").contains(&g.refresh_token));
        let before = format!("{server:?}");
        let resp = raw(&server, &refresh_post(&g.refresh_token));
        assert_answer(&resp, "200", None);
        let after = format!("{server:?}");
        let log = format!("{:?}", server.log());
        for text in [&before, &after, &log] {
            assert!(!text.contains(&g.refresh_token), "{text}");
            assert!(!text.contains("demo-client-secret"), "{text}");
        }
        let rotated = lock(&server.state).grants[&g.grant].refresh_token.clone();
        assert!(!after.contains(&rotated), "{after}");
        // The labels are still there.
        assert!(before.contains(r#"refresh_token: "rt_1_1""#), "{before}");
        assert!(after.contains(r#"refresh_token: "rt_1_2""#), "{after}");
        assert!(log.contains(r#"refresh_token: Some("rt_1_1")"#), "{log}");
        // What a client sent that does not look like ours is not shown at all.
        assert_eq!(token_label("my-secret"), "<redacted>");
        assert_eq!(token_label("rt_1_x_secret"), "<redacted>");
        assert_eq!(token_label("rt__1_secret"), "<redacted>");
        assert_eq!(token_label("rt_12_3"), "rt_12_3");
        assert_eq!(token_label("rt_12_3_abc"), "rt_12_3");
    }

    #[test]
    fn base64_and_form() {
        assert_eq!(
            base64_std(b"app+id:s3%3Acr%2Bt"),
            "YXBwK2lkOnMzJTNBY3IlMkJ0"
        );
        assert_eq!(base64_std(b"a"), "YQ==");
        assert_eq!(base64_std(b"ab"), "YWI=");
        assert_eq!(form_encode("s3:cr+t x"), "s3%3Acr%2Bt+x");
        assert_eq!(
            parse_form(b"a=b+c&d=%41%zz&e"),
            vec![
                ("a".into(), "b c".into()),
                ("d".into(), "A%zz".into()),
                ("e".into(), String::new())
            ]
        );
    }
}
