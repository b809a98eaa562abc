//! A small OAuth token server and API on 127.0.0.1 for the adapter's tests.
//!
//! - `POST /token`: the refresh-token grant. Refresh tokens rotate on every use and any reuse
//!   of a spent one is answered `invalid_grant` (as Auth0 and Okta do with rotation on).
//!   Client authentication (basic or post) is checked. Faults can be queued: each request
//!   takes the next one.
//! - `GET /api`: `200` for a live access token, `401` with
//!   `WWW-Authenticate: Bearer error="invalid_token"` for a revoked or unknown one.
#![allow(dead_code, reason = "each test file uses part of this module")]
#![allow(unreachable_pub, reason = "a test helper module, not an API")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::cast_possible_truncation,
    reason = "test helper: a failure is a test failure"
)]

pub mod tls;

use std::collections::{HashMap, HashSet, VecDeque};
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the next token request gets instead of normal processing.
#[derive(Debug, Clone)]
pub enum Fault {
    /// This status and JSON body, with an optional `Retry-After`.
    Status(u16, &'static str, Option<u32>),
    /// Read the headers and close the connection with the body unread (a TCP reset).
    Reset,
    /// Read the request and never answer (the connection is held for this long).
    Hang(Duration),
    /// Process normally (the refresh token is spent at once) but answer after a delay.
    Delay(Duration),
    /// Process normally (rotating) but answer `200` with this body instead.
    SpendAndAnswer(&'static str),
    /// Process normally (rotating) and answer with an `id_token` of this many bytes added.
    SpendAndPad(usize),
}

#[derive(Default)]
pub struct State {
    /// Unspent refresh tokens.
    pub live_refresh: HashSet<String>,
    /// Spent refresh tokens.
    pub spent_refresh: HashSet<String>,
    /// Live access tokens.
    pub live_access: HashSet<String>,
    /// API requests per access token.
    pub api_calls: HashMap<String, usize>,
    /// Reuse of a spent refresh token.
    pub reuse_attempts: usize,
    pub faults: VecDeque<Fault>,
    pub counter: u64,
    /// Reject every access token at the API.
    pub reject_all_access: bool,
    /// Issue a new refresh token on each grant.
    pub rotate: bool,
}

pub struct TokenServer {
    pub addr: SocketAddr,
    pub state: Arc<Mutex<State>>,
    pub token_requests: Arc<AtomicUsize>,
    pub api_requests: Arc<AtomicUsize>,
    pub client_id: String,
    pub client_secret: String,
    pub prefix: String,
    pub expires_in: u64,
    stop: Arc<AtomicBool>,
}

impl TokenServer {
    pub fn start() -> Self {
        Self::with_secret("app", "s3cret", "")
    }

    /// A server for client `id`/`secret`, whose tokens all start with `prefix`.
    pub fn with_secret(id: &str, secret: &str, prefix: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let server = Self {
            addr,
            state: Arc::new(Mutex::new(State {
                rotate: true,
                ..State::default()
            })),
            token_requests: Arc::new(AtomicUsize::new(0)),
            api_requests: Arc::new(AtomicUsize::new(0)),
            client_id: id.to_owned(),
            client_secret: secret.to_owned(),
            prefix: prefix.to_owned(),
            expires_in: 3600,
            stop: Arc::new(AtomicBool::new(false)),
        };
        let shared = server.shared();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if shared.stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let shared = shared.clone();
                std::thread::Builder::new()
                    .stack_size(256 * 1024)
                    .spawn(move || shared.serve(conn))
                    .unwrap();
            }
        });
        server
    }

    fn shared(&self) -> Shared {
        Shared {
            state: Arc::clone(&self.state),
            token_requests: Arc::clone(&self.token_requests),
            api_requests: Arc::clone(&self.api_requests),
            client_id: self.client_id.clone(),
            client_secret: self.client_secret.clone(),
            prefix: self.prefix.clone(),
            expires_in: self.expires_in,
            stop: Arc::clone(&self.stop),
        }
    }

    pub fn token_url(&self) -> String {
        format!("http://{}/token", self.addr)
    }

    pub fn api_url(&self) -> String {
        format!("http://{}/api", self.addr)
    }

    /// Issues a fresh (access, refresh) pair, as a sign-in would.
    pub fn sign_in(&self) -> (String, String) {
        let mut s = self.state.lock().unwrap();
        s.counter += 1;
        let at = format!("{}at-{}", self.prefix, s.counter);
        let rt = format!("{}rt-{}", self.prefix, s.counter);
        s.live_access.insert(at.clone());
        s.live_refresh.insert(rt.clone());
        (at, rt)
    }

    pub fn push_fault(&self, fault: Fault) {
        self.state.lock().unwrap().faults.push_back(fault);
    }

    pub fn revoke_access(&self, at: &str) {
        self.state.lock().unwrap().live_access.remove(at);
    }

    pub fn is_live_refresh(&self, rt: &str) -> bool {
        self.state.lock().unwrap().live_refresh.contains(rt)
    }

    pub fn reuse_attempts(&self) -> usize {
        self.state.lock().unwrap().reuse_attempts
    }

    pub fn requests(&self) -> usize {
        self.token_requests.load(Ordering::SeqCst)
    }
}

impl Drop for TokenServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop.
        let _ = TcpStream::connect(self.addr);
    }
}

#[derive(Clone)]
struct Shared {
    state: Arc<Mutex<State>>,
    token_requests: Arc<AtomicUsize>,
    api_requests: Arc<AtomicUsize>,
    client_id: String,
    client_secret: String,
    prefix: String,
    expires_in: u64,
    stop: Arc<AtomicBool>,
}

struct Req {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    content_length: usize,
}

impl Req {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

fn read_head(reader: &mut BufReader<TcpStream>) -> Option<Req> {
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_owned();
    let path = parts.next()?.to_owned();
    let mut headers = Vec::new();
    let mut content_length = 0;
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).ok()?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (n, v) = h.split_once(':')?;
        let (n, v) = (n.trim().to_owned(), v.trim().to_owned());
        if n.eq_ignore_ascii_case("content-length") {
            content_length = v.parse().ok()?;
        }
        headers.push((n, v));
    }
    Some(Req {
        method,
        path,
        headers,
        content_length,
    })
}

fn respond(stream: &mut TcpStream, status: u16, extra: &str, body: &str) {
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    };
    let msg = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n{extra}\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(msg.as_bytes());
    let _ = stream.flush();
}

fn form_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
                out.push(u8::from_str_radix(hex, 16).unwrap());
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).unwrap()
}

fn b64_decode(s: &str) -> Option<String> {
    const ALPHA: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut bits = 0u32;
    let mut n = 0;
    let mut out = Vec::new();
    for c in s.bytes().filter(|&c| c != b'=') {
        let v = ALPHA.iter().position(|&a| a == c)? as u32;
        bits = (bits << 6) | v;
        n += 6;
        if n >= 8 {
            n -= 8;
            out.push((bits >> n) as u8);
        }
    }
    String::from_utf8(out).ok()
}

impl Shared {
    fn serve(&self, stream: TcpStream) {
        if self.stop.load(Ordering::SeqCst) {
            return;
        }
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let Some(req) = read_head(&mut reader) else {
            return;
        };
        let mut stream = stream;
        if req.method == "GET" && req.path == "/api" {
            return self.api(&req, &mut stream);
        }
        if req.method != "POST" || req.path != "/token" {
            return respond(&mut stream, 404, "", "{}");
        }
        self.token_requests.fetch_add(1, Ordering::SeqCst);
        let fault = self.state.lock().unwrap().faults.pop_front();
        if matches!(fault, Some(Fault::Reset)) {
            // Body left unread: closing now makes the kernel send a reset.
            drop(reader);
            drop(stream);
            return;
        }
        let mut body = vec![0u8; req.content_length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let body = String::from_utf8(body).unwrap();
        match fault {
            Some(Fault::Status(status, json, retry_after)) => {
                let extra = retry_after.map_or(String::new(), |s| format!("Retry-After: {s}\r\n"));
                return respond(&mut stream, status, &extra, json);
            }
            Some(Fault::Hang(d)) => {
                std::thread::sleep(d);
                return;
            }
            _ => {}
        }
        let (status, answer) = self.grant(&req, &body);
        match fault {
            Some(Fault::Delay(d)) => {
                std::thread::sleep(d);
                respond(&mut stream, status, "", &answer);
            }
            Some(Fault::SpendAndAnswer(json)) => respond(&mut stream, 200, "", json),
            Some(Fault::SpendAndPad(n)) => {
                let padded = match answer.strip_suffix('}') {
                    Some(head) => format!("{head},\"id_token\":\"{}\"}}", "x".repeat(n)),
                    None => answer,
                };
                respond(&mut stream, status, "", &padded);
            }
            _ => respond(&mut stream, status, "", &answer),
        }
    }

    fn grant(&self, req: &Req, body: &str) -> (u16, String) {
        let params: HashMap<String, String> = body
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (form_decode(k), form_decode(v)))
            .collect();
        let (id, secret) = match req.header("authorization") {
            Some(auth) => {
                let Some(decoded) = auth.strip_prefix("Basic ").and_then(b64_decode) else {
                    return (401, r#"{"error":"invalid_client"}"#.into());
                };
                let Some((id, secret)) = decoded.split_once(':') else {
                    return (401, r#"{"error":"invalid_client"}"#.into());
                };
                (form_decode(id), Some(form_decode(secret)))
            }
            None => (
                params.get("client_id").cloned().unwrap_or_default(),
                params.get("client_secret").cloned(),
            ),
        };
        if id != self.client_id || secret.as_deref() != Some(self.client_secret.as_str()) {
            return (401, r#"{"error":"invalid_client"}"#.into());
        }
        if params.get("grant_type").map(String::as_str) != Some("refresh_token") {
            return (400, r#"{"error":"unsupported_grant_type"}"#.into());
        }
        let rt = params.get("refresh_token").cloned().unwrap_or_default();
        let mut s = self.state.lock().unwrap();
        if !s.live_refresh.remove(&rt) {
            if s.spent_refresh.contains(&rt) {
                s.reuse_attempts += 1;
            }
            return (
                400,
                r#"{"error":"invalid_grant","error_description":"refresh token is invalid or was already used"}"#.into(),
            );
        }
        s.counter += 1;
        let at = format!("{}at-{}", self.prefix, s.counter);
        s.live_access.insert(at.clone());
        let mut answer = format!(
            r#"{{"access_token":"{at}","token_type":"Bearer","expires_in":{},"scope":"openid offline_access""#,
            self.expires_in
        );
        if s.rotate {
            s.spent_refresh.insert(rt);
            let new_rt = format!("{}rt-{}", self.prefix, s.counter);
            s.live_refresh.insert(new_rt.clone());
            answer.push_str(&format!(r#","refresh_token":"{new_rt}""#));
        } else {
            s.live_refresh.insert(rt);
        }
        answer.push('}');
        (200, answer)
    }

    fn api(&self, req: &Req, stream: &mut TcpStream) {
        self.api_requests.fetch_add(1, Ordering::SeqCst);
        let token = req
            .header("authorization")
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default()
            .to_owned();
        let mut s = self.state.lock().unwrap();
        *s.api_calls.entry(token.clone()).or_default() += 1;
        let ok = !s.reject_all_access && s.live_access.contains(&token);
        drop(s);
        if ok {
            respond(stream, 200, "", r#"{"ok":true}"#);
        } else {
            respond(
                stream,
                401,
                "WWW-Authenticate: Bearer error=\"invalid_token\"\r\n",
                r#"{"error":"invalid_token"}"#,
            );
        }
    }
}

/// A fresh directory under the system temp dir, removed with everything in it when dropped
/// (the stores write token sets there; a test run leaves nothing behind).
pub struct TempDir(std::path::PathBuf);

impl TempDir {
    /// The directory.
    pub fn path(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A fresh, empty [`TempDir`] named after `name`, the process and a counter.
pub fn temp_dir(name: &str) -> TempDir {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "authcore-std-{name}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    TempDir(dir)
}

/// A blocking `GET` to the test API with `authorization`; returns status and
/// `WWW-Authenticate`.
pub fn raw_get(
    url: &str,
    authorization: &str,
) -> std::io::Result<authcore_std::authorized::ApiStatus<()>> {
    let rest = url.strip_prefix("http://").unwrap();
    let (authority, path) = rest.split_at(rest.find('/').unwrap());
    let mut stream = TcpStream::connect(authority)?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {authority}\r\nAuthorization: {authorization}\r\nConnection: close\r\n\r\n"
    )?;
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let status = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    let mut www_authenticate = None;
    loop {
        let mut h = String::new();
        reader.read_line(&mut h)?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((n, v)) = h.split_once(':') {
            if n.eq_ignore_ascii_case("www-authenticate") {
                www_authenticate = Some(v.trim().to_owned());
            }
        }
    }
    Ok(authcore_std::authorized::ApiStatus {
        status,
        www_authenticate,
        response: (),
    })
}

/// `GET url` through `api` (refresh and retry on 401).
pub fn api_get(api: &authcore_std::authorized::Authorized, url: &str) -> u16 {
    api.send(|token| raw_get(url, token.authorization().expose()))
        .unwrap()
        .status
}
