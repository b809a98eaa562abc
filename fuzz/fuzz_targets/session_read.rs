#![no_main]
//! Whole session reads (cookie reassembly, decode, `jwt`, refresh, re-encode, `Set-Cookie`) from
//! arbitrary bytes. Must never panic, and a refresh token the session held is never lost: after
//! a read that keeps the session, the re-issued token carries the old refresh token or the
//! one the token endpoint answered, also when the cookie buffer was too small for it and the
//! read had to be finished with another.
//!
//! Input: a selector byte, then three fields separated by `\n`: the payload JSON (signed with
//! the engine's key, so the MAC passes and the layers behind it run), the token endpoint's
//! answer body, and extra `Cookie` header text. The whole input is also tried as a raw
//! `Cookie` header.

use authcore::cookie::Flavor;
use authcore::jws::{self, DecodeOptions, Header};
use authcore::rand::{RandomError, RandomSource};
use authcore::refresh::response::{self, TokenResponse};
use authcore::refresh::{self, Client, HttpResponse};
use authcore::session::{
    Buffers, Config, DefaultCallbacks, Engine, JwsCodec, OAuthCallbacks, OAuthToken, ReadStep,
    RefreshOutcome, Response,
};
use authcore::{Algorithm, HmacKey};
use libfuzzer_sys::fuzz_target;

const NOW_MS: i64 = 1_700_000_000_123;

struct Counter(u8);

impl RandomSource for Counter {
    fn fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), RandomError> {
        for b in dst {
            self.0 = self.0.wrapping_add(1);
            *b = self.0;
        }
        Ok(())
    }
}

struct Bufs {
    token: Vec<u8>,
    scratch: Vec<u8>,
    body: Vec<u8>,
    cookies: Vec<u8>,
}

impl Bufs {
    fn new() -> Self {
        Self {
            token: vec![0; 16 * 1024],
            scratch: vec![0; 32 * 1024],
            body: vec![0; 4096],
            cookies: vec![0; 24 * 1024],
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

/// The session token a browser would send back after `r`: its live chunks, in order.
fn reissued(r: &Response<'_>, name: &str) -> Option<String> {
    let mut chunks: Vec<(usize, String)> = Vec::new();
    for c in r.set_cookies() {
        let pair = c.split(';').next()?;
        let (n, v) = pair.split_once('=')?;
        if v.is_empty() || c.contains("Max-Age=0") {
            continue;
        }
        let index = if n == name {
            0
        } else if let Some(i) = n.strip_prefix(name).and_then(|s| s.strip_prefix('.')) {
            i.parse().ok()?
        } else {
            continue;
        };
        chunks.push((index, v.to_owned()));
    }
    chunks.sort();
    (!chunks.is_empty()).then(|| chunks.into_iter().map(|(_, v)| v).collect())
}

/// The refresh token in a token endpoint's successful answer, unescaped.
fn answered_refresh_token(answer: &[u8]) -> Option<String> {
    match response::parse(answer) {
        Ok(TokenResponse::Tokens(t)) => Some(t.refresh_token?.chars().collect()),
        _ => None,
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let key = HmacKey::new(Algorithm::Hs256, b"fuzzing-key-fuzzing-key-fuzzing!").unwrap();
    let flavor = if sel & 1 == 0 {
        Flavor::AuthJs
    } else {
        Flavor::NextAuthV4
    };
    let secure = sel & 2 != 0;
    let engine = Engine::new(Config::new(flavor, secure), JwsCodec::new(&key));
    let mut bufs = Bufs::new();
    let mut rng = Counter(sel);

    // 1. The input as a raw Cookie header.
    let _ = engine.session(
        &mut DefaultCallbacks::<256>,
        data,
        NOW_MS,
        &mut rng,
        bufs.get(),
    );

    // 2. A correctly signed token carrying the payload, in one cookie or in chunks.
    let mut fields = rest.splitn(3, |&b| b == b'\n');
    let payload = fields.next().unwrap_or_default();
    let answer = fields.next().unwrap_or_default();
    let extra = fields.next().unwrap_or_default();
    let mut out = vec![0u8; 16 * 1024];
    let Ok(token) = jws::encode_json(&key, &Header::default(), payload, &mut out) else {
        return;
    };
    let token = token.to_owned();
    let name = match (flavor, secure) {
        (Flavor::AuthJs, false) => "authjs.session-token",
        (Flavor::AuthJs, true) => "__Secure-authjs.session-token",
        (_, false) => "next-auth.session-token",
        (_, true) => "__Secure-next-auth.session-token",
    };
    let mut header = String::from_utf8_lossy(extra).into_owned();
    header.push_str("; ");
    let chunk = usize::from(sel >> 4) * 64;
    if chunk == 0 {
        header.push_str(&format!("{name}={token}"));
    } else {
        for (i, piece) in token.as_bytes().chunks(chunk).enumerate() {
            let piece = std::str::from_utf8(piece).unwrap();
            header.push_str(&format!("{name}.{i}={piece}; "));
        }
    }

    let old = {
        let mut scratch = vec![0u8; 32 * 1024];
        jws::decode::<OAuthToken>(
            token.as_bytes(),
            &key,
            &DecodeOptions::new(),
            NOW_MS / 1000,
            &mut scratch,
        )
        .ok()
        .and_then(|d| d.claims.refresh_token)
    };

    let client = Client::secret_post("app", "s3cret");
    let config = refresh::Config::default();
    let mut cb = OAuthCallbacks::<256>;
    // A cookie buffer of 0.5 to 16.5 KB: too small for some of the re-issued sessions.
    bufs.cookies.truncate(512 + usize::from(sel) * 64);
    let mut ample = Bufs::new();
    let Ok(mut step) = engine.session_with_refresh(
        &mut cb,
        header.as_bytes(),
        NOW_MS,
        &config,
        &client,
        &mut rng,
        bufs.get(),
    ) else {
        return;
    };
    let status = [200, 400, 401, 500, 503][usize::from(sel >> 2) % 5];
    let mut rounds = 0;
    let response = loop {
        match step {
            ReadStep::Done(r) => break r,
            ReadStep::Refresh(p) => {
                rounds += 1;
                assert!(rounds <= 3, "a refresh asked for more than three requests");
                let mut req = [0u8; 4096];
                // The stored refresh token always fits a request this large.
                p.request(&client, &mut req).unwrap();
                let outcome = RefreshOutcome::Response(HttpResponse {
                    status,
                    retry_after: None,
                    body: answer,
                });
                match engine.resume(&mut cb, p, outcome, NOW_MS, &client, &mut rng) {
                    Ok(next) => step = next,
                    // A response that cannot be written hands the session back, and with
                    // ample buffers it can.
                    Err(e) => {
                        let unfinished = e.unfinished.expect("the session is handed back");
                        break engine
                            .finish(&mut cb, unfinished, NOW_MS, &mut rng, ample.get())
                            .unwrap();
                    }
                }
            }
        }
    };
    // Nothing is lost: a session that goes on keeps a refresh token.
    if let (Some(old), None) = (old, response.dropped) {
        let Some(new_token) = reissued(&response, name) else {
            return;
        };
        let mut scratch = vec![0u8; 32 * 1024];
        let new = jws::decode::<OAuthToken>(
            new_token.as_bytes(),
            &key,
            &DecodeOptions::new(),
            NOW_MS / 1000,
            &mut scratch,
        )
        .expect("the re-issued token decodes")
        .claims;
        let rt = new.refresh_token.expect("the refresh token was dropped");
        assert!(
            rt == old || rt.as_str() == answered_refresh_token(answer).as_deref().unwrap_or(""),
            "the refresh token {rt:?} is neither the old one nor the answer's"
        );
    }
});
