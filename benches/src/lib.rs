//! Shared workloads and per-library operations for the authcore benchmarks.
//!
//! Every benchmark (timing in `benches/jws.rs`, allocation counts in `benches/allocs.rs`) calls
//! the same functions here, so the figures in `BENCHMARKS.md` describe exactly one piece of code
//! per library and operation.
//!
//! The tokens are HS256 JWS compact tokens produced by authcore (header
//! `{"alg":"HS256","typ":"JWT"}`) and decoded by every library from the same bytes.
#![allow(
    clippy::missing_panics_doc,
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    reason = "benchmark support: a library that fails on the workload must stop the run loudly"
)]

use authcore::jws::{self, DecodeOptions, Header};
use authcore::{Algorithm, HmacKey};
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// The HS256 secret every library uses (32 bytes, the minimum RFC 7518 allows).
pub const SECRET: &[u8; 32] = b"0123456789abcdef0123456789ABCDEF";

/// The `now` passed to authcore (Unix seconds). The other libraries read the clock; the tokens
/// expire in 2100 so that every library accepts them whatever the real date.
pub const NOW: i64 = 1_700_000_100;

/// `iat` of every token.
pub const IAT: i64 = 1_700_000_000;

/// `exp` of every token: 2100-01-01.
pub const EXP: i64 = 4_102_444_800;

/// Session claims as an Auth.js app keeps them, borrowing its strings from the decoded token
/// (authcore decodes into this; authcore and jsonwebtoken encode from it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session<'a> {
    /// Display name.
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub name: Option<&'a str>,
    /// E-mail address.
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub email: Option<&'a str>,
    /// Avatar URL.
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub picture: Option<&'a str>,
    /// User id.
    pub sub: &'a str,
    /// OAuth access token.
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub access_token: Option<&'a str>,
    /// OAuth refresh token.
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<&'a str>,
    /// When the access token expires (Unix seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
    /// OpenID Connect ID token (large workload only).
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub id_token: Option<&'a str>,
    /// Issued at.
    pub iat: i64,
    /// Expiry.
    pub exp: i64,
    /// Token id.
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub jti: Option<&'a str>,
}

/// [`Session`] with owned strings, for `jsonwebtoken::decode` (which needs `DeserializeOwned`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct SessionOwned {
    /// Display name.
    #[serde(default)]
    pub name: Option<String>,
    /// E-mail address.
    #[serde(default)]
    pub email: Option<String>,
    /// Avatar URL.
    #[serde(default)]
    pub picture: Option<String>,
    /// User id.
    pub sub: String,
    /// OAuth access token.
    #[serde(default)]
    pub access_token: Option<String>,
    /// OAuth refresh token.
    #[serde(default)]
    pub refresh_token: Option<String>,
    /// When the access token expires.
    #[serde(default)]
    pub expires_at: Option<i64>,
    /// OpenID Connect ID token.
    #[serde(default)]
    pub id_token: Option<String>,
    /// Issued at.
    pub iat: i64,
    /// Expiry.
    pub exp: i64,
    /// Token id.
    #[serde(default)]
    pub jti: Option<String>,
}

/// The non-registered claims, for jwt-simple's `JWTClaims<Custom>` (which owns `sub`, `iat`,
/// `exp`, `jti` itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Custom {
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// E-mail address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Avatar URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub picture: Option<String>,
    /// OAuth access token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_token: Option<String>,
    /// OAuth refresh token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// When the access token expires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
    /// OpenID Connect ID token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
}

/// Deterministic base64url-alphabet text of `n` characters (stands in for opaque tokens).
fn opaque(seed: u32, n: usize) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut x = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            char::from(ALPHABET[(x >> 26) as usize])
        })
        .collect()
}

/// Owned strings of one workload's claims.
#[derive(Debug, Clone)]
struct Fields {
    name: Option<String>,
    email: Option<String>,
    picture: Option<String>,
    sub: String,
    access_token: Option<String>,
    refresh_token: Option<String>,
    expires_at: Option<i64>,
    id_token: Option<String>,
    jti: Option<String>,
}

/// One benchmark workload: its claims and the HS256 token authcore makes of them.
#[derive(Debug, Clone)]
pub struct Workload {
    /// `small`, `session` or `large`.
    pub name: &'static str,
    fields: Fields,
    /// The HS256 token.
    pub token: String,
}

impl Workload {
    /// The claims, borrowing this workload's strings.
    #[must_use]
    pub fn claims(&self) -> Session<'_> {
        let f = &self.fields;
        Session {
            name: f.name.as_deref(),
            email: f.email.as_deref(),
            picture: f.picture.as_deref(),
            sub: &f.sub,
            access_token: f.access_token.as_deref(),
            refresh_token: f.refresh_token.as_deref(),
            expires_at: f.expires_at,
            id_token: f.id_token.as_deref(),
            iat: IAT,
            exp: EXP,
            jti: f.jti.as_deref(),
        }
    }

    /// The claims in jwt-simple's form.
    #[must_use]
    pub fn jwt_simple_claims(&self) -> jwt_simple::claims::JWTClaims<Custom> {
        use jwt_simple::prelude::*;
        let f = &self.fields;
        let custom = Custom {
            name: f.name.clone(),
            email: f.email.clone(),
            picture: f.picture.clone(),
            access_token: f.access_token.clone(),
            refresh_token: f.refresh_token.clone(),
            expires_at: f.expires_at,
            id_token: f.id_token.clone(),
        };
        let mut c = Claims::with_custom_claims(custom, Duration::from_secs(1));
        c.issued_at = Some(Duration::from_secs(IAT.unsigned_abs()));
        c.expires_at = Some(Duration::from_secs(EXP.unsigned_abs()));
        c.invalid_before = None;
        c.subject = Some(f.sub.clone());
        c.jwt_id = f.jti.clone();
        c
    }

    /// The signing input (`header.payload`) of [`Self::token`].
    #[must_use]
    pub fn signing_input(&self) -> &[u8] {
        let end = self.token.rfind('.').expect("three segments");
        &self.token.as_bytes()[..end]
    }

    /// Length of the payload JSON.
    #[must_use]
    pub fn payload_len(&self) -> usize {
        authcore::json::serialized_len(&self.claims()).expect("serializable")
    }
}

fn session_fields(id_token: Option<String>) -> Fields {
    Fields {
        name: Some("Ada Lovelace".into()),
        email: Some("ada@example.com".into()),
        picture: Some("https://avatars.githubusercontent.com/u/1234567".into()),
        sub: "1234567".into(),
        access_token: Some(format!("ya29.{}", opaque(1, 173))),
        refresh_token: Some(format!("1//{}", opaque(2, 55))),
        expires_at: Some(1_700_003_600),
        id_token,
        jti: Some("5b8c3f0e-2d1a-4c6b-9e7f-0a1b2c3d4e5f".into()),
    }
}

/// The three workloads: `small` (~160 B token), `session` (~740 B, payload ~500 B), `large`
/// (~3.5 KB, a session plus an ID token).
#[must_use]
pub fn workloads() -> Vec<Workload> {
    let small = Fields {
        name: Some("Ada".into()),
        email: None,
        picture: None,
        sub: "1234567".into(),
        access_token: None,
        refresh_token: None,
        expires_at: None,
        id_token: None,
        jti: None,
    };
    let id_token = format!(
        "eyJhbGciOiJSUzI1NiIsImtpZCI6IjEifQ.{}.{}",
        opaque(3, 1670),
        opaque(4, 342)
    );
    let list = [
        ("small", small),
        ("session", session_fields(None)),
        ("large", session_fields(Some(id_token))),
    ];
    let key = authcore_key();
    list.into_iter()
        .map(|(name, fields)| {
            let mut w = Workload {
                name,
                fields,
                token: String::new(),
            };
            w.token = authcore_encode(&key, &w.claims(), &mut vec![0u8; 8192]).to_owned();
            w
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// authcore

/// authcore's HS256 key (precomputed HMAC states).
#[must_use]
pub fn authcore_key() -> HmacKey {
    HmacKey::new(Algorithm::Hs256, SECRET).expect("32-byte key")
}

/// authcore: decode + verify + validate + deserialize into borrowed [`Session`].
#[must_use]
pub fn authcore_decode<'s>(
    token: &str,
    key: &HmacKey,
    options: &DecodeOptions<'_>,
    scratch: &'s mut [u8],
) -> Session<'s> {
    jws::decode::<Session<'s>>(token.as_bytes(), key, options, NOW, scratch)
        .expect("authcore decodes the workload")
        .claims
}

/// authcore: encode into `out`.
#[must_use]
pub fn authcore_encode<'o>(key: &HmacKey, claims: &Session<'_>, out: &'o mut [u8]) -> &'o str {
    jws::encode(key, &Header::default(), claims, out).expect("authcore encodes the workload")
}

// ---------------------------------------------------------------------------------------------
// jsonwebtoken

/// jsonwebtoken's keys and validation for HS256.
#[derive(Clone)]
pub struct JsonWebToken {
    /// Decoding key.
    pub decoding: jsonwebtoken::DecodingKey,
    /// Encoding key.
    pub encoding: jsonwebtoken::EncodingKey,
    /// HS256 validation (exp checked, the library's defaults otherwise).
    pub validation: jsonwebtoken::Validation,
    /// `{"typ":"JWT","alg":"HS256"}`.
    pub header: jsonwebtoken::Header,
}

impl std::fmt::Debug for JsonWebToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JsonWebToken { .. }")
    }
}

impl JsonWebToken {
    /// Keys from [`SECRET`].
    #[must_use]
    pub fn new() -> Self {
        Self {
            decoding: jsonwebtoken::DecodingKey::from_secret(SECRET),
            encoding: jsonwebtoken::EncodingKey::from_secret(SECRET),
            validation: jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256),
            header: jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        }
    }

    /// Decode + verify + validate + deserialize into [`SessionOwned`].
    #[must_use]
    pub fn decode(&self, token: &str) -> SessionOwned {
        jsonwebtoken::decode::<SessionOwned>(token, &self.decoding, &self.validation)
            .expect("jsonwebtoken decodes the workload")
            .claims
    }

    /// Encode (serializing the same borrowed [`Session`] authcore serializes).
    #[must_use]
    pub fn encode(&self, claims: &Session<'_>) -> String {
        jsonwebtoken::encode(&self.header, claims, &self.encoding)
            .expect("jsonwebtoken encodes the workload")
    }
}

impl Default for JsonWebToken {
    fn default() -> Self {
        Self::new()
    }
}

// ---------------------------------------------------------------------------------------------
// jwt-simple

/// jwt-simple's HS256 key.
#[must_use]
pub fn jwt_simple_key() -> jwt_simple::prelude::HS256Key {
    jwt_simple::prelude::HS256Key::from_bytes(SECRET)
}

/// jwt-simple: verify + validate + deserialize into `JWTClaims<Custom>`.
#[must_use]
pub fn jwt_simple_decode(
    key: &jwt_simple::prelude::HS256Key,
    token: &str,
) -> jwt_simple::claims::JWTClaims<Custom> {
    use jwt_simple::prelude::MACLike;
    key.verify_token::<Custom>(token, None)
        .expect("jwt-simple decodes the workload")
}

/// jwt-simple: encode (takes the claims by value).
#[must_use]
pub fn jwt_simple_encode(
    key: &jwt_simple::prelude::HS256Key,
    claims: jwt_simple::claims::JWTClaims<Custom>,
) -> String {
    use jwt_simple::prelude::MACLike;
    key.authenticate(claims)
        .expect("jwt-simple encodes the workload")
}

// ---------------------------------------------------------------------------------------------
// The floor

/// HMAC-SHA-256 keyed once: the precomputed inner/outer states.
#[must_use]
pub fn floor_key() -> Hmac<Sha256> {
    <Hmac<Sha256> as KeyInit>::new_from_slice(SECRET).expect("any key length")
}

/// The floor of any HS256 verifier or signer: one HMAC-SHA-256 over the signing input from the
/// precomputed key state (same `hmac`/`sha2` crates as authcore, SHA-NI when the CPU has it).
#[must_use]
pub fn floor_hs256(key: &Hmac<Sha256>, signing_input: &[u8]) -> [u8; 32] {
    let mut m = key.clone();
    m.update(signing_input);
    m.finalize().into_bytes().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_libraries_agree_on_every_workload() {
        let key = authcore_key();
        let jwt = JsonWebToken::new();
        let simple = jwt_simple_key();
        let fk = floor_key();
        for w in workloads() {
            let mut scratch = vec![0u8; jws::scratch_len(w.token.len())];
            let a = authcore_decode(&w.token, &key, &DecodeOptions::new(), &mut scratch);
            assert_eq!(a, w.claims());
            let j = jwt.decode(&w.token);
            assert_eq!(j.sub, a.sub);
            assert_eq!(j.access_token.as_deref(), a.access_token);
            assert_eq!(j.id_token.as_deref(), a.id_token);
            let s = jwt_simple_decode(&simple, &w.token);
            assert_eq!(s.subject.as_deref(), Some(a.sub));
            assert_eq!(s.custom.access_token.as_deref(), a.access_token);
            // Peers' encodings verify with authcore.
            for t in [
                jwt.encode(&w.claims()),
                jwt_simple_encode(&simple, w.jwt_simple_claims()),
            ] {
                let mut scratch = vec![0u8; jws::scratch_len(t.len())];
                let d = authcore_decode(&t, &key, &DecodeOptions::new(), &mut scratch);
                assert_eq!(d.sub, w.claims().sub);
            }
            // The floor is the MAC the token carries.
            let mac = floor_hs256(&fk, w.signing_input());
            let mut enc = [0u8; 64];
            let sig = authcore::base64url::encode(&mac, &mut enc).unwrap();
            assert!(w.token.ends_with(sig));
        }
    }

    #[test]
    fn workload_sizes() {
        let sizes: Vec<(usize, usize)> = workloads()
            .iter()
            .map(|w| (w.token.len(), w.payload_len()))
            .collect();
        eprintln!("(token, payload) bytes: {sizes:?}");
        let (small, session, large) = (sizes[0], sizes[1], sizes[2]);
        assert!((130..=190).contains(&small.0), "{small:?}");
        assert!((700..=780).contains(&session.0), "{session:?}");
        assert!((460..=540).contains(&session.1), "{session:?}");
        assert!((3300..=3700).contains(&large.0), "{large:?}");
    }
}
