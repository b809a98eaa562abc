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

/// HMAC-SHA-256 keyed once: the inner and outer states after the key blocks, as bare SHA-256
/// chaining values.
#[derive(Debug, Clone)]
pub struct FloorKey {
    inner: [u32; 8],
    outer: [u32; 8],
}

/// The keyed states for [`SECRET`] (taken from a SHA-256 of `key ^ pad` with the `sha2` crate,
/// whose first compression is exactly the chaining value after the pad block).
#[must_use]
pub fn floor_key() -> FloorKey {
    let state = |pad: u8| {
        let mut block = [pad; 64];
        for (b, k) in block.iter_mut().zip(SECRET) {
            *b ^= k;
        }
        let mut st = SHA256_IV;
        sha2::block_api::compress256(&mut st, &[block]);
        st
    };
    FloorKey {
        inner: state(0x36),
        outer: state(0x5c),
    }
}

const SHA256_IV: [u32; 8] = [
    0x6a09_e667,
    0xbb67_ae85,
    0x3c6e_f372,
    0xa54f_f53a,
    0x510e_527f,
    0x9b05_688c,
    0x1f83_d9ab,
    0x5be0_cd19,
];

/// Compresses `data` (any length) into `state` with SHA-256 padding for a message of
/// `total` bytes.
fn sha256_finish(state: &mut [u32; 8], data: &[u8], total: usize) {
    let (blocks, tail) = data.as_chunks::<64>();
    sha2::block_api::compress256(state, blocks);
    let mut last = [[0u8; 64]; 2];
    let flat = last.as_flattened_mut();
    flat[..tail.len()].copy_from_slice(tail);
    flat[tail.len()] = 0x80;
    let n = if tail.len() + 9 > 64 { 2 } else { 1 };
    flat[n * 64 - 8..n * 64].copy_from_slice(&(total as u64 * 8).to_be_bytes());
    sha2::block_api::compress256(state, &last[..n]);
}

/// The floor of any HS256 verifier or signer: one HMAC-SHA-256 over the signing input from the
/// precomputed key states, as nothing but the SHA-256 compressions it needs (the `sha2` crate's
/// `compress256`, SHA-NI when the CPU has it; no buffering layer). It is about 8% faster than
/// the `hmac` crate's `Hmac<Sha256>` over the same input.
#[must_use]
pub fn floor_hs256(key: &FloorKey, signing_input: &[u8]) -> [u8; 32] {
    let mut st = key.inner;
    sha256_finish(&mut st, signing_input, 64 + signing_input.len());
    let mut inner = [0u8; 32];
    for (d, w) in inner.chunks_exact_mut(4).zip(st) {
        d.copy_from_slice(&w.to_be_bytes());
    }
    let mut st = key.outer;
    sha256_finish(&mut st, &inner, 96);
    let mut out = [0u8; 32];
    for (d, w) in out.chunks_exact_mut(4).zip(st) {
        d.copy_from_slice(&w.to_be_bytes());
    }
    out
}

/// The `hmac` crate's HMAC-SHA-256 keyed once (the floor before authcore computed its HMAC on
/// the compressions itself; kept to show the difference).
#[must_use]
pub fn floor_key_hmac_crate() -> Hmac<Sha256> {
    <Hmac<Sha256> as KeyInit>::new_from_slice(SECRET).expect("any key length")
}

/// [`floor_hs256`] with the `hmac` crate.
#[must_use]
pub fn floor_hs256_hmac_crate(key: &Hmac<Sha256>, signing_input: &[u8]) -> [u8; 32] {
    let mut m = key.clone();
    m.update(signing_input);
    m.finalize().into_bytes().into()
}

// ---------------------------------------------------------------------------------------------
// Auth.js v5 JWE (A256CBC-HS512)

/// The secret `tests/node/bench.mjs` uses, so that both sides encrypt the same bytes.
pub const AUTHJS_SECRET: &str = "z3LJQKLJ7I9meY48IgEtCTjBkSoh1f3xEMaz7P8xWoI=";

/// The session cookie name, also the key-derivation salt.
pub const AUTHJS_SALT: &str = "authjs.session-token";

/// `maxAge` of encoded JWE tokens: Auth.js's default 30 days.
pub const AUTHJS_MAX_AGE: u32 = 30 * 24 * 60 * 60;

/// `filler()` of `tests/node/bench.mjs`.
fn filler(prefix: &str, len: usize) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut s = String::from(prefix);
    let mut i = 0;
    while s.len() < len {
        s.push(char::from(ALPHABET[(i * 37 + 11) % ALPHABET.len()]));
        i += 1;
    }
    s
}

/// The Auth.js session claims (what Auth.js keeps in its cookie), owned by a workload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthJsClaims<S> {
    /// Display name.
    pub name: S,
    /// E-mail address.
    pub email: S,
    /// Avatar URL.
    pub picture: S,
    /// User id.
    pub sub: S,
    /// OAuth access token (~180 characters).
    pub access_token: S,
    /// OAuth refresh token (~60 characters).
    pub refresh_token: S,
    /// Access-token expiry.
    pub expires_at: i64,
}

/// [`AuthJsClaims`] borrowing its strings, with the stamped claims.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct AuthJsBorrowed<'a> {
    /// Display name.
    pub name: &'a str,
    /// E-mail address.
    pub email: &'a str,
    /// Avatar URL.
    pub picture: &'a str,
    /// User id.
    pub sub: &'a str,
    /// OAuth access token.
    pub access_token: &'a str,
    /// OAuth refresh token.
    pub refresh_token: &'a str,
    /// Access-token expiry.
    pub expires_at: i64,
    /// Issued at (stamped on encode).
    pub iat: i64,
    /// Expiry (stamped on encode).
    pub exp: i64,
    /// Token id (stamped on encode).
    pub jti: &'a str,
}

/// The `session` payload of `tests/node/bench.mjs`, byte for byte.
#[must_use]
pub fn authjs_claims() -> AuthJsClaims<String> {
    AuthJsClaims {
        name: "Ada Lovelace".into(),
        email: "ada@example.com".into(),
        picture: "https://avatars.example.com/u/1?v=4".into(),
        sub: "0b6f4c5e-3d2a-4e1f-9c8b-7a6d5e4f3a21".into(),
        access_token: filler("ya29.", 180),
        refresh_token: filler("1//", 60),
        expires_at: 1_795_334_267,
    }
}

/// A fast deterministic random source (xorshift64*): the IV and `jti` need random bytes, and
/// the benchmark should time authcore, not the operating system's RNG.
#[derive(Debug, Clone)]
pub struct BenchRng(u64);

impl BenchRng {
    /// A generator with a fixed seed.
    #[must_use]
    pub const fn new() -> Self {
        Self(0x9e37_79b9_7f4a_7c15)
    }
}

impl Default for BenchRng {
    fn default() -> Self {
        Self::new()
    }
}

impl authcore::rand::RandomSource for BenchRng {
    fn fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), authcore::rand::RandomError> {
        for chunk in dst.chunks_mut(8) {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            let v = self.0.wrapping_mul(0x2545_f491_4f6c_dd1d).to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
        Ok(())
    }
}

/// The Auth.js v5 key for [`AUTHJS_SECRET`] and [`AUTHJS_SALT`] (HKDF done once).
#[must_use]
pub fn authjs_key() -> authcore::jwe::AuthJsKey {
    authcore::jwe::AuthJsKey::derive(AUTHJS_SECRET.as_bytes(), AUTHJS_SALT).expect("derivable")
}

/// authcore: Auth.js v5 encode (fresh `iat`, `exp`, `jti`, random IV) into `out`.
#[must_use]
pub fn authjs_encode<'o>(
    key: &authcore::jwe::AuthJsKey,
    claims: &AuthJsClaims<String>,
    rng: &mut BenchRng,
    out: &'o mut [u8],
) -> &'o str {
    authcore::jwe::encode_authjs(key, claims, NOW, AUTHJS_MAX_AGE, rng, out)
        .expect("authcore encodes the Auth.js workload")
}

/// authcore: Auth.js v5 decode + verify + decrypt + validate + deserialize (borrowed).
#[must_use]
pub fn authjs_decode<'s>(
    token: &str,
    keys: &[authcore::jwe::AuthJsKey],
    options: &DecodeOptions<'_>,
    scratch: &'s mut [u8],
) -> AuthJsBorrowed<'s> {
    authcore::jwe::decode_authjs::<AuthJsBorrowed<'s>>(
        token.as_bytes(),
        keys,
        options,
        NOW,
        scratch,
    )
    .expect("authcore decodes the Auth.js workload")
    .claims
}

/// The crypto of an A256CBC-HS512 token, keyed once: what no JWE implementation can avoid.
#[derive(Clone)]
pub struct CbcHs512Floor {
    mac: Hmac<sha2::Sha512>,
    aes: aes::Aes256,
    /// The ASCII base64url protected header (the AAD).
    pub aad: Vec<u8>,
    /// The IV.
    pub iv: [u8; 16],
    /// The ciphertext.
    pub ciphertext: Vec<u8>,
    /// The tag.
    pub tag: [u8; 32],
    /// The padded plaintext (for the encrypt floor).
    pub padded_plaintext: Vec<u8>,
}

impl std::fmt::Debug for CbcHs512Floor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CbcHs512Floor { .. }")
    }
}

impl CbcHs512Floor {
    /// Derives the key as Auth.js does (HKDF-SHA-256) and takes `token` apart.
    #[must_use]
    pub fn new(token: &str) -> Self {
        use aes::cipher::{array::Array, BlockModeDecrypt, InnerIvInit};
        let info = format!("Auth.js Generated Encryption Key ({AUTHJS_SALT})");
        let mut okm = [0u8; 64];
        hkdf::Hkdf::<Sha256>::new(Some(AUTHJS_SALT.as_bytes()), AUTHJS_SECRET.as_bytes())
            .expand(info.as_bytes(), &mut okm)
            .expect("64 bytes");
        let mut padded = [0u8; 128];
        padded[..32].copy_from_slice(&okm[..32]);
        let mac = <Hmac<sha2::Sha512> as KeyInit>::new(&Array::from(padded));
        let aes = <aes::Aes256 as KeyInit>::new(&Array::from(
            <[u8; 32]>::try_from(&okm[32..]).expect("32 bytes"),
        ));
        let parts: Vec<&str> = token.split('.').collect();
        let b64 = |s: &str| {
            let mut out = vec![0u8; s.len()];
            let n = authcore::base64url::decode(s.as_bytes(), &mut out)
                .expect("base64url")
                .len();
            out.truncate(n);
            out
        };
        let iv: [u8; 16] = b64(parts[2]).try_into().expect("16-byte IV");
        let tag: [u8; 32] = b64(parts[4]).try_into().expect("32-byte tag");
        let ciphertext = b64(parts[3]);
        let mut padded_plaintext = ciphertext.clone();
        let (blocks, _) =
            Array::<u8, aes::cipher::consts::U16>::slice_as_chunks_mut(&mut padded_plaintext);
        cbc::Decryptor::<&aes::Aes256>::inner_iv_init(&aes, &Array::from(iv))
            .decrypt_blocks(blocks);
        let floor = Self {
            mac,
            aes,
            aad: parts[0].as_bytes().to_vec(),
            iv,
            ciphertext,
            tag,
            padded_plaintext,
        };
        assert!(floor.tag_matches(&floor.mac_over(&floor.ciphertext)));
        floor
    }

    fn mac_over(&self, ciphertext: &[u8]) -> [u8; 64] {
        let mut m = self.mac.clone();
        m.update(&self.aad);
        m.update(&self.iv);
        m.update(ciphertext);
        m.update(&(self.aad.len() as u64 * 8).to_be_bytes());
        m.finalize().into_bytes().into()
    }

    /// Constant-time tag comparison the cheapest way known (as authcore's: the word XORs ORed
    /// together, one `black_box`, one comparison).
    fn tag_matches(&self, full: &[u8; 64]) -> bool {
        let mut diff = 0u64;
        for (x, y) in full[..32].chunks_exact(8).zip(self.tag.chunks_exact(8)) {
            let word = |b: &[u8]| u64::from_ne_bytes(b.try_into().expect("8 bytes"));
            diff |= word(x) ^ word(y);
        }
        std::hint::black_box(diff) == 0
    }

    /// Decrypt floor: HMAC-SHA-512 over AAD || IV || ciphertext || AL, the constant-time tag
    /// comparison, AES-256-CBC decryption into `out` (same length as the ciphertext).
    pub fn decrypt(&self, out: &mut [u8]) -> bool {
        use aes::cipher::{array::Array, consts::U16, BlockModeDecrypt, InnerIvInit};
        let ok = self.tag_matches(&self.mac_over(&self.ciphertext));
        let (input, _) = Array::<u8, U16>::slice_as_chunks(&self.ciphertext);
        let (output, _) = Array::<u8, U16>::slice_as_chunks_mut(out);
        cbc::Decryptor::<&aes::Aes256>::inner_iv_init(&self.aes, &Array::from(self.iv))
            .decrypt_blocks_b2b(input, output)
            .expect("same lengths");
        ok
    }

    /// Encrypt floor: AES-256-CBC encryption of the padded plaintext into `out`, then
    /// HMAC-SHA-512 over AAD || IV || ciphertext || AL; returns the full MAC.
    pub fn encrypt(&self, out: &mut [u8]) -> [u8; 64] {
        use aes::cipher::{array::Array, consts::U16, BlockModeEncrypt, InnerIvInit};
        let (input, _) = Array::<u8, U16>::slice_as_chunks(&self.padded_plaintext);
        let (output, _) = Array::<u8, U16>::slice_as_chunks_mut(out);
        cbc::Encryptor::<&aes::Aes256>::inner_iv_init(&self.aes, &Array::from(self.iv))
            .encrypt_blocks_b2b(input, output)
            .expect("same lengths");
        self.mac_over(out)
    }
}

// ---------------------------------------------------------------------------------------------
// The session pipeline

/// The token the session benchmark keeps: Auth.js's default token plus the OAuth fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionToken {
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<heapless::String<64>>,
    /// E-mail address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<heapless::String<64>>,
    /// Avatar URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub picture: Option<heapless::String<128>>,
    /// User id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub: Option<heapless::String<64>>,
    /// OAuth access token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_token: Option<heapless::String<256>>,
    /// OAuth refresh token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<heapless::String<128>>,
    /// Access-token expiry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
}

/// A fixed-capacity copy of `v` (panics when it does not fit: a workload bug).
fn fixed<const N: usize>(v: Option<&str>) -> Option<heapless::String<N>> {
    v.map(|v| v.try_into().expect("fits its capacity"))
}

/// Callbacks with Auth.js's defaults over [`SessionToken`]: `jwt` returns the token,
/// `session` exposes name, e-mail and image.
#[derive(Debug, Clone, Copy, Default)]
pub struct BenchCallbacks;

impl authcore::session::Callbacks for BenchCallbacks {
    type Token = SessionToken;
    type Session<'a> = authcore::session::DefaultSession<'a>;

    fn initial_token(
        &mut self,
        user: &authcore::session::User<'_>,
    ) -> Result<SessionToken, authcore::session::CallbackError> {
        Ok(SessionToken {
            name: fixed(user.name),
            email: fixed(user.email),
            picture: fixed(user.image),
            sub: fixed(user.id),
            access_token: None,
            refresh_token: None,
            expires_at: None,
        })
    }

    fn session<'a>(
        &'a mut self,
        token: &'a SessionToken,
        expires: &'a str,
    ) -> Result<authcore::session::DefaultSession<'a>, authcore::session::CallbackError> {
        Ok(authcore::session::DefaultSession {
            user: authcore::session::SessionUser {
                name: token.name.as_deref(),
                email: token.email.as_deref(),
                image: token.picture.as_deref(),
            },
            expires,
            error: None,
        })
    }
}

impl Workload {
    /// The workload's claims as the session token.
    #[must_use]
    pub fn session_token(&self) -> SessionToken {
        let f = &self.fields;
        SessionToken {
            name: fixed(f.name.as_deref()),
            email: fixed(f.email.as_deref()),
            picture: fixed(f.picture.as_deref()),
            sub: fixed(Some(&f.sub)),
            access_token: fixed(f.access_token.as_deref()),
            refresh_token: fixed(f.refresh_token.as_deref()),
            expires_at: f.expires_at,
        }
    }
}

/// Buffers for one session request, reused across requests.
#[derive(Debug)]
pub struct SessionBuffers {
    /// Token buffer.
    pub token: Vec<u8>,
    /// Scratch.
    pub scratch: Vec<u8>,
    /// Body.
    pub body: Vec<u8>,
    /// `Set-Cookie` values.
    pub cookies: Vec<u8>,
}

impl SessionBuffers {
    /// Buffers for tokens up to one chunk.
    #[must_use]
    pub fn new() -> Self {
        Self {
            token: vec![0; 4096],
            scratch: vec![0; 8192],
            body: vec![0; 1024],
            cookies: vec![0; 8192],
        }
    }

    /// The buffers as the engine takes them.
    pub fn get(&mut self) -> authcore::session::Buffers<'_> {
        authcore::session::Buffers {
            token: &mut self.token,
            scratch: &mut self.scratch,
            body: &mut self.body,
            cookies: &mut self.cookies,
        }
    }
}

impl Default for SessionBuffers {
    fn default() -> Self {
        Self::new()
    }
}

/// `now` of the session benchmark, in milliseconds.
pub const NOW_MS: i64 = NOW * 1000;

/// The `Cookie` header of a request carrying the session `token` (Auth.js v5, not secure).
#[must_use]
pub fn cookie_header(token: &str) -> String {
    format!("theme=dark; {AUTHJS_SALT}={token}; other=1")
}

/// A session token for `engine`'s codec, as its sign-in would write it.
#[must_use]
pub fn session_cookie_token<K: authcore::session::TokenCodec>(
    codec: &K,
    token: &SessionToken,
) -> String {
    let mut rng = BenchRng::new();
    let stamp =
        authcore::session::Stamp::new(NOW, i64::from(AUTHJS_MAX_AGE), &mut rng).expect("stamp");
    let mut scratch = vec![0u8; 8192];
    let mut out = vec![0u8; 8192];
    codec
        .encode(token, &stamp, &mut rng, &mut scratch, &mut out)
        .expect("encodes")
        .to_owned()
}

/// One whole session read: cookie parsing, decode, `jwt`, `session`, re-encode, `Set-Cookie`.
/// Returns the response size (body + cookies) so that nothing is optimized away.
pub fn session_read<K: authcore::session::TokenCodec>(
    engine: &authcore::session::Engine<K>,
    cookie_header: &str,
    rng: &mut BenchRng,
    bufs: &mut SessionBuffers,
) -> usize {
    let mut callbacks = BenchCallbacks;
    let r = engine
        .session(
            &mut callbacks,
            cookie_header.as_bytes(),
            NOW_MS,
            rng,
            bufs.get(),
        )
        .expect("session read");
    assert!(r.dropped.is_none() && r.set_cookie_count() == 1, "{r:?}");
    r.body.len() + r.set_cookies().map(str::len).sum::<usize>()
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
            assert_eq!(
                mac,
                floor_hs256_hmac_crate(&floor_key_hmac_crate(), w.signing_input())
            );
            let mut enc = [0u8; 64];
            let sig = authcore::base64url::encode(&mac, &mut enc).unwrap();
            assert!(w.token.ends_with(sig));
        }
    }

    #[test]
    fn authjs_workload_and_floor() {
        let key = authjs_key();
        let claims = authjs_claims();
        let mut out = vec![0u8; 2048];
        let token = authjs_encode(&key, &claims, &mut BenchRng::new(), &mut out).to_owned();
        // The same size as @auth/core's token for this payload (tests/node/README.md).
        assert_eq!(token.len(), 947);
        let mut scratch = vec![0u8; authcore::jwe::scratch_len(token.len())];
        let keys = [key];
        let d = authjs_decode(&token, &keys, &DecodeOptions::new(), &mut scratch);
        assert_eq!(d.access_token, claims.access_token);
        assert_eq!(d.exp, NOW + i64::from(AUTHJS_MAX_AGE));
        let floor = CbcHs512Floor::new(&token);
        let mut plain = vec![0u8; floor.ciphertext.len()];
        assert!(floor.decrypt(&mut plain));
        assert!(plain.starts_with(b"{\"name\":\"Ada Lovelace\""));
        let mut ct = vec![0u8; floor.ciphertext.len()];
        let mac = floor.encrypt(&mut ct);
        assert_eq!(ct, floor.ciphertext);
        assert_eq!(mac[..32], floor.tag);
    }

    #[test]
    fn session_read_round_trips() {
        use authcore::cookie::Flavor;
        use authcore::session::{Config, Engine, JwsCodec};
        let key = authcore_key();
        let engine = Engine::new(Config::new(Flavor::AuthJs, false), JwsCodec::new(&key));
        let w = &workloads()[1];
        let token = session_cookie_token(engine.codec(), &w.session_token());
        let header = cookie_header(&token);
        let mut bufs = SessionBuffers::new();
        let n = session_read(&engine, &header, &mut BenchRng::new(), &mut bufs);
        assert!(n > token.len());
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
