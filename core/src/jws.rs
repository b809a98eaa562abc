//! Signed JWTs: JWS compact serialization with HMAC (HS256, HS384, HS512), without heap.
//!
//! Auth.js encrypts its session tokens (see the `jwe` module); a signed JWS is what apps that
//! override `jwt.encode`/`jwt.decode` use, and what most non-JavaScript backends speak.
//!
//! - [`HmacKey`] is built once from the secret and keeps the keyed HMAC state, so signing and
//!   verifying never re-key. Secrets shorter than the hash output are refused (RFC 7518 §3.2).
//! - [`encode`] writes `header.payload.signature` into a caller buffer; [`encoded_len`] says how
//!   big it must be.
//! - [`decode`] checks, in this order: size limit, three segments, strict base64url, header JSON,
//!   `alg` (must be the key's; `none` and everything else refused), `crit` (refused), the MAC in
//!   constant time, and only then the payload JSON and the claims. The claims are deserialized
//!   into any `T: Deserialize<'de>` borrowing from the caller's scratch buffer.
//!
//! # The MAC runs alongside the parse
//!
//! For speed, [`decode`] computes the MAC one hash block at a time *while* it decodes and parses
//! the payload (SHA-2 compression is a chain of long-latency instructions; the processor runs
//! some of that work in its shadow), and compares it before returning anything: every result
//! and error is the one the order above gives, and nothing from a payload whose MAC does not
//! match is returned. Two consequences: `T`'s `Deserialize` runs on payloads that may turn out
//! forged, so it must not act on what it reads (derived impls only build the value); and a
//! token with a wrong MAC costs a parse of its payload too (bounded by the size limit). A JWS
//! payload is public, so parsing it early reveals nothing.
//! [`DecodeOptions::with_verify_before_parse`] restores the strict sequence for claims types
//! that need it. The `jwe` module never parses before the tag is checked.
//!
//! # Strings in claims
//!
//! `&str` fields borrow directly from the decoded payload when the JSON string has no escapes,
//! and from an unescaping arena at the end of the scratch buffer when it has (`\"`, `\u00e9`,
//! `\/`...). So borrowed and owned (`heapless::String<N>`) fields both see the unescaped text.
//! [`scratch_len`] gives a scratch size that always suffices.

use core::fmt;

use serde::{Deserialize, Serialize};

use crate::base64url;
use crate::claims::{self, Validation};
use crate::error::{DecodeError, EncodeError, KeyError, Malformed, Part};
use crate::hmac_sha2;
use crate::json;

/// Default limit on the length of a token accepted by [`decode`]: 16 KiB.
pub const DEFAULT_MAX_TOKEN_LEN: usize = 16 * 1024;

/// Longest MAC of the supported algorithms (HS512), in bytes.
pub const MAX_MAC_LEN: usize = 64;

/// An HMAC JWS algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// HMAC-SHA-256.
    Hs256,
    /// HMAC-SHA-384.
    Hs384,
    /// HMAC-SHA-512.
    Hs512,
}

impl Algorithm {
    /// The JOSE name (`HS256`...).
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Hs256 => "HS256",
            Self::Hs384 => "HS384",
            Self::Hs512 => "HS512",
        }
    }

    /// MAC length in bytes, which is also the minimum secret length.
    #[must_use]
    pub const fn mac_len(self) -> usize {
        match self {
            Self::Hs256 => 32,
            Self::Hs384 => 48,
            Self::Hs512 => 64,
        }
    }

    /// Parses an exact, case-sensitive JOSE name.
    #[must_use]
    pub fn from_name(name: &[u8]) -> Option<Self> {
        match name {
            b"HS256" => Some(Self::Hs256),
            b"HS384" => Some(Self::Hs384),
            b"HS512" => Some(Self::Hs512),
            _ => None,
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[derive(Clone)]
enum KeyState {
    Hs256(hmac_sha2::Key<hmac_sha2::Sha256>),
    Hs384(hmac_sha2::Key<hmac_sha2::Sha512>),
    Hs512(hmac_sha2::Key<hmac_sha2::Sha512>),
}

impl KeyState {
    fn new(alg: Algorithm, secret: &[u8]) -> Self {
        match alg {
            Algorithm::Hs256 => Self::Hs256(hmac_sha2::Key::new(hmac_sha2::IV_256, 32, secret)),
            Algorithm::Hs384 => Self::Hs384(hmac_sha2::Key::new(hmac_sha2::IV_384, 48, secret)),
            Algorithm::Hs512 => Self::Hs512(hmac_sha2::Key::new(hmac_sha2::IV_512, 64, secret)),
        }
    }
}

/// An HMAC key with its precomputed inner and outer hash states.
///
/// `Debug` shows the algorithm only, never key material.
#[derive(Clone)]
pub struct HmacKey {
    state: KeyState,
}

impl fmt::Debug for HmacKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HmacKey")
            .field("alg", &self.algorithm())
            .finish_non_exhaustive()
    }
}

impl HmacKey {
    /// Builds a key for `alg` from `secret`.
    ///
    /// # Errors
    ///
    /// [`KeyError::WeakKey`] when `secret` is shorter than the hash output (32, 48 or 64 bytes).
    pub fn new(alg: Algorithm, secret: &[u8]) -> Result<Self, KeyError> {
        let min = alg.mac_len();
        if secret.len() < min {
            return Err(KeyError::WeakKey {
                len: secret.len(),
                min,
            });
        }
        let state = KeyState::new(alg, secret);
        Ok(Self { state })
    }

    /// Builds a key without the minimum-length check, for RFC test vectors with short keys.
    #[cfg(test)]
    fn new_any_len(alg: Algorithm, secret: &[u8]) -> Self {
        let state = KeyState::new(alg, secret);
        Self { state }
    }

    /// The key's algorithm.
    #[must_use]
    pub const fn algorithm(&self) -> Algorithm {
        match self.state {
            KeyState::Hs256(_) => Algorithm::Hs256,
            KeyState::Hs384(_) => Algorithm::Hs384,
            KeyState::Hs512(_) => Algorithm::Hs512,
        }
    }

    /// Computes the MAC of `data` into `out`, returning the MAC's length.
    pub fn sign(&self, data: &[u8], out: &mut [u8; MAX_MAC_LEN]) -> usize {
        match &self.state {
            KeyState::Hs256(k) => k.mac(data, out),
            KeyState::Hs384(k) | KeyState::Hs512(k) => k.mac(data, out),
        }
    }

    /// Checks in constant time that `tag` is the MAC of `data`.
    #[must_use]
    pub fn verify(&self, data: &[u8], tag: &[u8]) -> bool {
        MacRun::new(self, data).verify(data.len(), tag)
    }
}

/// A MAC computation over a prefix of `data` fed one hash block at a time
/// ([`MacRun::step_to`]), so that a caller can interleave it with independent work: SHA-2
/// compression is a chain of long-latency instructions, and the processor runs other
/// instructions in its shadow.
pub(crate) enum MacRun<'d> {
    Sha256(hmac_sha2::Run<'d, hmac_sha2::Sha256>),
    Sha512(hmac_sha2::Run<'d, hmac_sha2::Sha512>),
}

impl<'d> MacRun<'d> {
    pub(crate) fn new(key: &HmacKey, data: &'d [u8]) -> Self {
        match &key.state {
            KeyState::Hs256(k) => Self::Sha256(k.run(data)),
            KeyState::Hs384(k) | KeyState::Hs512(k) => Self::Sha512(k.run(data)),
        }
    }

    /// Hashes the next block of the data if it ends at or before `limit`.
    #[inline]
    pub(crate) fn step_to(&mut self, limit: usize) {
        match self {
            Self::Sha256(r) => r.step_to(limit),
            Self::Sha512(r) => r.step_to(limit),
        }
    }

    /// One step towards the MAC of `data[..end]` (a block, then the finalization), for
    /// [`MacRun::verify`] with the same `end`.
    #[inline]
    pub(crate) fn step_to_end(&mut self, end: usize) {
        match self {
            Self::Sha256(r) => r.step_to_end(end),
            Self::Sha512(r) => r.step_to_end(end),
        }
    }

    /// Hashes the rest of `data[..end]` and checks in constant time that `tag` is its MAC.
    ///
    /// Out of line: its buffers (the padded last blocks, the MAC) stay out of the frame of a
    /// caller that parses the payload meanwhile.
    #[inline(never)]
    pub(crate) fn verify(&mut self, end: usize, tag: &[u8]) -> bool {
        match self {
            Self::Sha256(r) => r.verify(end, tag),
            Self::Sha512(r) => r.verify(end, tag),
        }
    }
}

/// Options for [`encode`]: the header's optional `kid`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Header<'a> {
    /// Key id written as the header's `kid`.
    pub kid: Option<&'a str>,
}

fn header_json_len(alg: Algorithm, kid: Option<&str>) -> Result<usize, EncodeError> {
    // {"alg":"HS256","typ":"JWT"} and ,"kid":<json string> before the closing brace.
    let base = r#"{"alg":"","typ":"JWT"}"#.len() + alg.name().len();
    match kid {
        None => Ok(base),
        Some(k) => {
            let kid_len = json::serialized_len(k).map_err(EncodeError::Claims)?;
            Ok(base + r#","kid":"#.len() + kid_len)
        }
    }
}

fn write_header_json(alg: Algorithm, kid: Option<&str>, out: &mut [u8]) -> Result<(), EncodeError> {
    let mut w = 0;
    let mut put = |s: &[u8], w: &mut usize| -> Result<(), EncodeError> {
        let end = *w + s.len();
        out.get_mut(*w..end)
            .ok_or(EncodeError::BufferTooSmall { needed: end })?
            .copy_from_slice(s);
        *w = end;
        Ok(())
    };
    put(br#"{"alg":""#, &mut w)?;
    put(alg.name().as_bytes(), &mut w)?;
    put(br#"","typ":"JWT""#, &mut w)?;
    if let Some(k) = kid {
        put(br#","kid":"#, &mut w)?;
        let n =
            json::to_slice(k, out.get_mut(w..).unwrap_or_default()).map_err(EncodeError::Claims)?;
        w += n;
    }
    out.get_mut(w)
        .map(|b| *b = b'}')
        .ok_or(EncodeError::BufferTooSmall { needed: w + 1 })
}

fn total_len(key_alg: Algorithm, header_json: usize, payload_json: usize) -> Option<usize> {
    let h = base64url::encoded_len(header_json)?;
    let p = base64url::encoded_len(payload_json)?;
    let s = base64url::encoded_len(key_alg.mac_len())?;
    h.checked_add(p)?.checked_add(s)?.checked_add(2)
}

/// Exact length of the token [`encode`] writes for these claims.
///
/// The nesting depth is not checked here: [`encode`] refuses claims nested deeper than
/// [`json::MAX_DEPTH`] once they fit in its buffer.
///
/// # Errors
///
/// [`EncodeError::Claims`] if `claims` cannot be serialized.
pub fn encoded_len<T: Serialize + ?Sized>(
    key: &HmacKey,
    header: &Header<'_>,
    claims: &T,
) -> Result<usize, EncodeError> {
    let hj = header_json_len(key.algorithm(), header.kid)?;
    let pj = json::serialized_len(claims).map_err(EncodeError::Claims)?;
    total_len(key.algorithm(), hj, pj).ok_or(EncodeError::BufferTooSmall { needed: usize::MAX })
}

/// Encodes `claims` as a compact JWS signed with `key` into `out`, returning the token.
///
/// The header is `{"alg":"<alg>","typ":"JWT"}` plus `"kid"` when given. `claims` must serialize
/// to a JSON object. No registered claims are added: set `exp` yourself (Auth.js's custom
/// encoders must too).
///
/// # Errors
///
/// - [`EncodeError::BufferTooSmall`] with the exact length needed;
/// - [`EncodeError::Claims`] when `claims` does not serialize to a JSON object, or, once they
///   fit in `out`, with [`json::Error::TooDeep`] (at the offset in the payload JSON) when they
///   nest more than [`json::MAX_DEPTH`] arrays/objects: [`decode`] would refuse that token.
pub fn encode<'o, T: Serialize + ?Sized>(
    key: &HmacKey,
    header: &Header<'_>,
    claims: &T,
    out: &'o mut [u8],
) -> Result<&'o str, EncodeError> {
    encode_with(key, header, out, |dst| {
        let (len, depth) = json::to_slice_measured(claims, dst)?;
        if depth > json::MAX_DEPTH {
            return Err(json::too_deep(dst.get(..len).unwrap_or_default()));
        }
        Ok(len)
    })
}

/// Exact length of the token [`encode_json`] writes for a payload of `payload_json.len()` bytes.
#[must_use]
pub fn encoded_len_json(key: &HmacKey, header: &Header<'_>, payload_json: &[u8]) -> usize {
    header_json_len(key.algorithm(), header.kid)
        .ok()
        .and_then(|hj| total_len(key.algorithm(), hj, payload_json.len()))
        .unwrap_or(usize::MAX)
}

/// Like [`encode`], for a payload that is already JSON text (it must be one JSON object and is
/// used byte for byte). For std callers holding a `serde_json` value or a raw claims string.
///
/// # Errors
///
/// [`EncodeError::Claims`] when `payload_json` is not a strictly valid JSON object,
/// [`EncodeError::BufferTooSmall`] with the exact length needed.
pub fn encode_json<'o>(
    key: &HmacKey,
    header: &Header<'_>,
    payload_json: &[u8],
    out: &'o mut [u8],
) -> Result<&'o str, EncodeError> {
    json::validate(payload_json).map_err(EncodeError::Claims)?;
    encode_with(key, header, out, |dst| {
        let n = payload_json.len();
        dst.get_mut(..n)
            .ok_or(json::Error::BufferTooSmall { needed: n })?
            .copy_from_slice(payload_json);
        Ok(n)
    })
}

/// Writes a JWS whose payload JSON is written by `write_payload` into the slice it is given,
/// returning its length, or [`json::Error::BufferTooSmall`] with the length it needs.
///
/// One pass: the payload JSON is written where its base64url form starts (just after the
/// header's base64url form and the `.`), then each part is encoded over itself from the end
/// backwards (see `base64url::encode_in_place`), then the MAC is appended.
fn encode_with<'o>(
    key: &HmacKey,
    header: &Header<'_>,
    out: &'o mut [u8],
    write_payload: impl FnOnce(&mut [u8]) -> Result<usize, json::Error>,
) -> Result<&'o str, EncodeError> {
    let total = encode_len_with(key, header, out, write_payload)?;
    let out: &'o [u8] = out;
    core::str::from_utf8(out.get(..total).unwrap_or_default())
        .map_err(|_| EncodeError::Claims(json::Error::Unsupported))
}

/// [`encode_with`], returning the token's length instead of the token (the token is ASCII when
/// the payload JSON is UTF-8, so `out[..len]` is then the `&str` [`encode_with`] returns).
pub(crate) fn encode_len_with(
    key: &HmacKey,
    header: &Header<'_>,
    out: &mut [u8],
    write_payload: impl FnOnce(&mut [u8]) -> Result<usize, json::Error>,
) -> Result<usize, EncodeError> {
    let alg = key.algorithm();
    let hj = header_json_len(alg, header.kid)?;
    let too_big = EncodeError::BufferTooSmall { needed: usize::MAX };
    let h_enc = base64url::encoded_len(hj).ok_or(too_big)?;
    let p_start = h_enc + 1;
    let pj = match write_payload(out.get_mut(p_start..).unwrap_or_default()) {
        Ok(n) => n,
        Err(json::Error::BufferTooSmall { needed }) => needed,
        Err(e) => return Err(EncodeError::Claims(e)),
    };
    let total = total_len(alg, hj, pj).ok_or(too_big)?;
    if out.len() < total {
        return Err(EncodeError::BufferTooSmall { needed: total });
    }
    // One JSON object (`encode_json`'s text may start with whitespace, as JSON allows).
    let payload = out.get(p_start..p_start + pj).unwrap_or_default();
    if payload.get(json::skip_ws(payload, 0)) != Some(&b'{') {
        return Err(EncodeError::Claims(json::Error::Unsupported));
    }
    let p_enc = base64url::encoded_len(pj).unwrap_or(0);
    let signing_len = p_start + p_enc;
    // The raw header fits before the payload: hj <= h_enc.
    write_header_json(alg, header.kid, &mut out[..hj])?;
    base64url::encode_in_place(&mut out[..h_enc], hj);
    out[h_enc] = b'.';
    // The payload moves to the end of the token's room and is encoded from there, front to
    // back (in SIMD chunks with the feature): the signature's room after it keeps the encoding
    // from overtaking its input. In place, back to front, if that were ever refused.
    let src = total - pj;
    out.copy_within(p_start..p_start + pj, src);
    if !base64url::encode_within(&mut out[..total], p_start, src, pj) {
        out.copy_within(src..total, p_start);
        base64url::encode_in_place(&mut out[p_start..signing_len], pj);
    }
    let mut mac = [0u8; MAX_MAC_LEN];
    let n = key.sign(&out[..signing_len], &mut mac);
    out[signing_len] = b'.';
    base64url::encode_exact(&mac[..n], &mut out[signing_len + 1..total]);
    Ok(total)
}

/// Options for [`decode`] beyond claim validation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct DecodeOptions<'a> {
    /// Tokens longer than this are refused before any decoding. Default
    /// [`DEFAULT_MAX_TOKEN_LEN`].
    pub max_token_len: usize,
    /// Claim validation.
    pub validation: Validation<'a>,
    /// Verify the whole MAC before the payload is parsed, instead of alongside the parse (see
    /// the module docs). For claims types whose `Deserialize` must never run on a forged
    /// payload (custom impls with side effects or panics); the results are the same, the
    /// decode slower (measured: 5–10% on a session-sized HS256 token, BENCHMARKS.md). Default
    /// `false`.
    pub verify_before_parse: bool,
}

impl Default for DecodeOptions<'_> {
    fn default() -> Self {
        Self::new()
    }
}

impl<'a> DecodeOptions<'a> {
    /// Default options: 16 KiB limit, [`Validation::new`].
    #[must_use]
    pub const fn new() -> Self {
        Self {
            max_token_len: DEFAULT_MAX_TOKEN_LEN,
            validation: Validation::new(),
            verify_before_parse: false,
        }
    }

    /// Sets [`DecodeOptions::verify_before_parse`].
    #[must_use]
    pub const fn with_verify_before_parse(mut self, verify_first: bool) -> Self {
        self.verify_before_parse = verify_first;
        self
    }

    /// Sets the claim validation.
    #[must_use]
    pub const fn with_validation(mut self, validation: Validation<'a>) -> Self {
        self.validation = validation;
        self
    }

    /// Sets the token length limit.
    #[must_use]
    pub const fn with_max_token_len(mut self, max: usize) -> Self {
        self.max_token_len = max;
        self
    }
}

/// A verified, validated token.
///
/// `Debug` shows the claims through `T`'s own `Debug` (which may redact secrets) and only the
/// lengths of the header and payload JSON: the payload holds every claim in clear, tokens
/// included.
#[derive(Clone, Copy)]
pub struct Decoded<'s, T> {
    /// The typed claims.
    pub claims: T,
    /// The registered time claims (rounded up to whole seconds).
    pub times: claims::TimeClaims,
    header: &'s [u8],
    payload: &'s [u8],
}

impl<T: fmt::Debug> fmt::Debug for Decoded<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Decoded")
            .field("claims", &self.claims)
            .field("times", &self.times)
            .field("header_len", &self.header.len())
            .field("payload_len", &self.payload.len())
            .finish()
    }
}

impl<'s, T> Decoded<'s, T> {
    /// The verified header JSON.
    #[must_use]
    pub const fn header_json(&self) -> &'s [u8] {
        self.header
    }

    /// The verified payload JSON, including members the claims type does not name.
    #[must_use]
    pub const fn payload_json(&self) -> &'s [u8] {
        self.payload
    }
}

/// A scratch-buffer size that always suffices for [`decode`] of a token of `token_len` bytes:
/// room for the decoded header and payload and for unescaping every string in the payload.
#[must_use]
pub const fn scratch_len(token_len: usize) -> usize {
    // decoded bytes <= 3/4 of the token; the unescape arena never exceeds the payload.
    (token_len / 4 + 1) * 3 * 2
}

/// The three segments of a compact JWS, split and size-checked.
struct Segments<'t> {
    header: &'t [u8],
    payload: &'t [u8],
    signature: &'t [u8],
    signing_input: &'t [u8],
}

fn split(token: &[u8], max: usize) -> Result<Segments<'_>, DecodeError> {
    if token.len() > max {
        return Err(DecodeError::TooLarge {
            len: token.len(),
            max,
        });
    }
    let mut dots = token
        .iter()
        .enumerate()
        .filter(|(_, &b)| b == b'.')
        .map(|(i, _)| i);
    let (Some(d1), Some(d2), None) = (dots.next(), dots.next(), dots.next()) else {
        return Err(DecodeError::Malformed(Malformed::JwsSegments));
    };
    let header = &token[..d1];
    let payload = &token[d1 + 1..d2];
    if header.is_empty() || payload.is_empty() {
        return Err(DecodeError::Malformed(Malformed::EmptySegment));
    }
    Ok(Segments {
        header,
        payload,
        signature: &token[d2 + 1..],
        signing_input: &token[..d2],
    })
}

/// What the protected header says, for both JWS and JWE.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct HeaderFields<'h> {
    pub(crate) alg: Option<json::Value<'h>>,
    pub(crate) enc: Option<json::Value<'h>>,
    pub(crate) kid: Option<json::Value<'h>>,
    pub(crate) crit: bool,
    /// A `zip` member is present (JWE refuses it; JWS ignores it).
    pub(crate) zip: bool,
}

/// Parses a protected header: a JSON object; `alg`, `enc`, `kid` when present must be strings
/// and appear once; `crit` and `zip` (in any form) are recorded.
///
/// A header that is not JSON is [`DecodeError::BadJson`] even when a member before the syntax
/// error is already wrong (the header JSON is checked before its members): the first
/// [`Malformed`] member is returned only once the whole header has been read.
pub(crate) fn parse_header(header: &[u8]) -> Result<HeaderFields<'_>, DecodeError> {
    let bad_json = |error| DecodeError::BadJson {
        part: Part::Header,
        error,
    };
    let mut f = HeaderFields::default();
    let mut members = json::object_members(header).map_err(bad_json)?;
    while let Some(member) = members.next() {
        let (key, value) = member.map_err(bad_json)?;
        if let Err(malformed) = f.take(&key, value) {
            // The rest of the header must still be JSON: its syntax error comes first.
            return Err(members
                .find_map(Result::err)
                .map_or(DecodeError::Malformed(malformed), bad_json));
        }
    }
    Ok(f)
}

impl<'h> HeaderFields<'h> {
    /// Records one member of the header.
    fn take(&mut self, key: &json::Key<'h>, value: json::Value<'h>) -> Result<(), Malformed> {
        let slot = if key.matches("alg") {
            &mut self.alg
        } else if key.matches("enc") {
            &mut self.enc
        } else if key.matches("kid") {
            &mut self.kid
        } else if key.matches("crit") {
            if core::mem::replace(&mut self.crit, true) {
                return Err(Malformed::DuplicateHeader);
            }
            return Ok(());
        } else {
            if key.matches("zip") {
                self.zip = true;
            }
            return Ok(());
        };
        if slot.is_some() {
            return Err(Malformed::DuplicateHeader);
        }
        if value.kind() != json::ValueKind::String {
            return Err(Malformed::HeaderType);
        }
        *slot = Some(value);
        Ok(())
    }
}

fn check_alg(alg: Option<&json::Value<'_>>, expected: Algorithm) -> Result<(), DecodeError> {
    let Some(alg) = alg else {
        return Err(DecodeError::AlgMismatch {
            expected,
            found: None,
        });
    };
    if alg.string_eq(expected.name()) {
        return Ok(());
    }
    for other in [Algorithm::Hs256, Algorithm::Hs384, Algorithm::Hs512] {
        if alg.string_eq(other.name()) {
            return Err(DecodeError::AlgMismatch {
                expected,
                found: Some(other),
            });
        }
    }
    Err(DecodeError::UnsupportedAlg)
}

/// Decodes `seg` to the front of `scratch`, which starts `room.0` bytes into the caller's
/// buffer; `room.1` more bytes are needed after it. A [`DecodeError::BufferTooSmall`] names the
/// whole buffer's size that suffices: `room.0 + decoded length + room.1`.
fn decode_segment<'s>(
    part: Part,
    seg: &[u8],
    scratch: &'s mut [u8],
    room: (usize, usize),
) -> Result<(&'s mut [u8], &'s mut [u8]), DecodeError> {
    let len = base64url::decoded_len(seg.len()).ok_or(DecodeError::BadBase64 {
        part,
        error: base64url::Base64Error::InvalidLength,
    })?;
    if scratch.len() < len {
        let needed = room.0.saturating_add(len).saturating_add(room.1);
        return Err(DecodeError::BufferTooSmall { needed });
    }
    let (dst, rest) = scratch.split_at_mut(len);
    base64url::decode(seg, dst).map_err(|error| DecodeError::BadBase64 { part, error })?;
    Ok((dst, rest))
}

/// Verifies and decodes a compact JWS, deserializing its claims into `T`.
///
/// `scratch` receives the decoded header and payload and unescaped strings; `T`'s borrowed
/// fields point into it. [`scratch_len`] gives a size that always suffices.
///
/// `T::deserialize` runs while the MAC is computed, so it also runs on payloads that then fail
/// the MAC check (their result is never returned). If `T`'s `Deserialize` has side effects or
/// can panic, set [`DecodeOptions::with_verify_before_parse`].
///
/// # Errors
///
/// A [`DecodeError`] from the first failing check, in the order given in the module docs.
pub fn decode<'s, T: Deserialize<'s>>(
    token: &[u8],
    key: &HmacKey,
    options: &DecodeOptions<'_>,
    now: i64,
    scratch: &'s mut [u8],
) -> Result<Decoded<'s, T>, DecodeError> {
    let mut mac = [0u8; MAX_MAC_LEN];
    let mut run = MacRun::new(key, token);
    let alg = key.algorithm();
    if let Some(fast) = split_decode(
        token,
        alg,
        options.max_token_len,
        scratch,
        &mut mac,
        &mut run,
    ) {
        // `split_decode` checked that the lengths fit, so the `min`s change nothing.
        let (header, rest) = scratch.split_at_mut(fast.header.min(scratch.len()));
        let (payload, arena) = rest.split_at_mut(fast.payload.min(rest.len()));
        let signing_input = token.get(..fast.signing_input).unwrap_or_default();
        let sig = mac.get(..fast.signature).unwrap_or_default();
        return verify_and_finish(
            header,
            payload,
            arena,
            signing_input,
            sig,
            key,
            &mut run,
            options,
            now,
        );
    }
    decode_step_by_step(token, key, options, now, scratch)
}

/// [`decode`] one check after the other, for the exact error of a token the one-pass
/// [`split_decode`] did not take.
fn decode_step_by_step<'s, T: Deserialize<'s>>(
    token: &[u8],
    key: &HmacKey,
    options: &DecodeOptions<'_>,
    now: i64,
    scratch: &'s mut [u8],
) -> Result<Decoded<'s, T>, DecodeError> {
    let mut mac = [0u8; MAX_MAC_LEN];
    let seg = split(token, options.max_token_len)?;
    // After the header: the payload, then room to unescape its strings (never more than it).
    let p_len = base64url::decoded_len(seg.payload.len()).unwrap_or(0);
    let room = (0, p_len.saturating_mul(2));
    let (header, rest) = decode_segment(Part::Header, seg.header, scratch, room)?;
    let room = (header.len(), p_len);
    let (payload, arena) = decode_segment(Part::Payload, seg.payload, rest, room)?;
    let sig = match base64url::decode(seg.signature, &mut mac) {
        Ok(sig) => &*sig,
        // Longer than any MAC: it cannot match, but report bad base64 first if it is that too.
        Err(base64url::Base64Error::BufferTooSmall { .. }) => {
            match base64url::validate(seg.signature) {
                Ok(_) => &[],
                Err(error) => {
                    return Err(DecodeError::BadBase64 {
                        part: Part::Signature,
                        error,
                    })
                }
            }
        }
        Err(error) => {
            return Err(DecodeError::BadBase64 {
                part: Part::Signature,
                error,
            })
        }
    };
    verify_and_finish(
        header,
        payload,
        arena,
        seg.signing_input,
        sig,
        key,
        &mut MacRun::new(key, token),
        options,
        now,
    )
}

/// The headers common JWT libraries write for `alg` (authcore and jose:
/// `{"alg":"HS256","typ":"JWT"}`; jsonwebtoken: `{"typ":"JWT","alg":"HS256"}`; `{"alg":"HS256"}`),
/// byte for byte. [`parse_header`] accepts each of them with `alg` equal to the key's and no
/// `crit`, so a decode can skip parsing them without changing any result.
fn is_plain_header(header: &[u8], alg: Algorithm) -> bool {
    const FORMS: [(&[u8], &[u8]); 3] = [
        (br#"{"alg":""#, br#"","typ":"JWT"}"#),
        (br#"{"typ":"JWT","alg":""#, br#""}"#),
        (br#"{"alg":""#, br#""}"#),
    ];
    let name = alg.name().as_bytes();
    FORMS.iter().any(|(pre, post)| {
        header.len() == pre.len() + name.len() + post.len()
            && header.starts_with(pre)
            && header.ends_with(post)
            && header.get(pre.len()..pre.len() + name.len()) == Some(name)
    })
}

/// The plain headers of [`is_plain_header`] for each algorithm, as JSON and base64url.
const PLAIN_HEADERS: [(Algorithm, &[u8], Encoded); 9] = {
    const fn form(alg: Algorithm, json: &'static [u8]) -> (Algorithm, &'static [u8], Encoded) {
        (alg, json, Encoded::of(json))
    }
    [
        form(Algorithm::Hs256, br#"{"alg":"HS256","typ":"JWT"}"#),
        form(Algorithm::Hs256, br#"{"typ":"JWT","alg":"HS256"}"#),
        form(Algorithm::Hs256, br#"{"alg":"HS256"}"#),
        form(Algorithm::Hs384, br#"{"alg":"HS384","typ":"JWT"}"#),
        form(Algorithm::Hs384, br#"{"typ":"JWT","alg":"HS384"}"#),
        form(Algorithm::Hs384, br#"{"alg":"HS384"}"#),
        form(Algorithm::Hs512, br#"{"alg":"HS512","typ":"JWT"}"#),
        form(Algorithm::Hs512, br#"{"typ":"JWT","alg":"HS512"}"#),
        form(Algorithm::Hs512, br#"{"alg":"HS512"}"#),
    ]
};

/// A short byte string's base64url encoding, computed at compile time.
struct Encoded {
    buf: [u8; 48],
    len: usize,
}

impl Encoded {
    #[allow(
        clippy::indexing_slicing,
        reason = "const context: the forms are at most 36 bytes, checked at compile time"
    )]
    const fn of(input: &[u8]) -> Self {
        const ALPHABET: &[u8; 64] =
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        assert!(input.len() <= 36);
        let mut buf = [0u8; 48];
        let (mut i, mut o) = (0, 0);
        while i < input.len() {
            let b0 = input[i] as usize;
            let b1 = if i + 1 < input.len() {
                input[i + 1] as usize
            } else {
                0
            };
            let b2 = if i + 2 < input.len() {
                input[i + 2] as usize
            } else {
                0
            };
            let n = (b0 << 16) | (b1 << 8) | b2;
            let chars = match input.len() - i {
                1 => 2,
                2 => 3,
                _ => 4,
            };
            let mut k = 0;
            while k < chars {
                buf[o + k] = ALPHABET[(n >> (18 - 6 * k)) & 63];
                k += 1;
            }
            i += 3;
            o += chars;
        }
        Self { buf, len: o }
    }

    fn as_bytes(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or_default()
    }
}

/// If `token` starts with the base64url of one of `alg`'s plain headers followed by `.`, the
/// number of characters and the header's JSON (what decoding them gives).
fn encoded_plain_header(token: &[u8], alg: Algorithm) -> Option<(usize, &'static [u8])> {
    PLAIN_HEADERS.iter().find_map(|(a, json, encoded)| {
        let e = encoded.as_bytes();
        (*a == alg && token.starts_with(e) && token.get(e.len()) == Some(&b'.'))
            .then_some((e.len(), *json))
    })
}

/// Lengths found by [`split_decode`].
struct FastSplit {
    /// Decoded header bytes, at the front of the scratch buffer.
    header: usize,
    /// Decoded payload bytes, right after the header.
    payload: usize,
    /// Decoded signature bytes.
    signature: usize,
    /// Length of `header.payload` in the token.
    signing_input: usize,
}

/// The one-pass form of [`split`] and the three segment decodes for a well-formed token: the
/// header is decoded up to the first byte outside the base64url alphabet, which must be the
/// `.`; the signature starts after the last `.`; the payload between them and the signature
/// must each decode whole. `None` for anything else (including a token that is
/// too large or a scratch buffer that is too small): the caller then runs the checks one by one
/// for the exact error, so this changes no result.
fn split_decode(
    token: &[u8],
    alg: Algorithm,
    max: usize,
    scratch: &mut [u8],
    mac: &mut [u8; MAX_MAC_LEN],
    run: &mut MacRun<'_>,
) -> Option<FastSplit> {
    if token.len() > max {
        return None;
    }
    let (h_chars, header) = match encoded_plain_header(token, alg) {
        Some((chars, json)) => {
            scratch.get_mut(..json.len())?.copy_from_slice(json);
            (chars, json.len())
        }
        None => base64url::decode_prefix(token, scratch)?,
    };
    if h_chars == 0 || token.get(h_chars) != Some(&b'.') {
        return None;
    }
    let p_start = h_chars + 1;
    // The signature is the part after the last `.` (a short scan from the end); the payload
    // must fill what lies between, so it has no `.`: the same three segments as a forward
    // split. The MAC (over the token's own characters) gets its first block before the payload
    // decode and one more after it, so that fewer of its compressions are left for the parse's
    // per-member steps, each of which stalls the parse a little (measured faster on the session
    // token, see BENCHMARKS.md). Without SIMD, the decode also takes a block per 64 payload
    // characters.
    let signing_input = base64url::find_last_dot(token)?;
    run.step_to(signing_input);
    let payload = base64url::decode_all_with(
        token.get(p_start..signing_input)?,
        scratch.get_mut(header..)?,
        |done| run.step_to(p_start + done),
    )?;
    if payload == 0 {
        return None;
    }
    run.step_to(signing_input);
    let s_start = signing_input + 1;
    let signature = base64url::decode_short(token.get(s_start..)?, mac)?;
    Some(FastSplit {
        header,
        payload,
        signature,
        signing_input,
    })
}

/// The checks of a header that is not one of the common ones: JSON, `alg`, `crit`.
///
/// Out of line so that its frame is not part of the decode's while the payload is parsed
/// (firmware images count the peak stack).
#[inline(never)]
fn check_header(header: &[u8], alg: Algorithm) -> Result<(), DecodeError> {
    let fields = parse_header(header)?;
    check_alg(fields.alg.as_ref(), alg)?;
    if fields.crit {
        return Err(DecodeError::UnsupportedCrit);
    }
    Ok(())
}

/// Decoding after the segments are decoded: header, `alg`, `crit`, signature, then [`finish`].
#[allow(
    clippy::too_many_arguments,
    reason = "internal; the decoded parts of one token"
)]
fn verify_and_finish<'s, T: Deserialize<'s>>(
    header: &'s mut [u8],
    payload: &'s mut [u8],
    arena: &'s mut [u8],
    signing_input: &[u8],
    sig: &[u8],
    key: &HmacKey,
    run: &mut MacRun<'_>,
    options: &DecodeOptions<'_>,
    now: i64,
) -> Result<Decoded<'s, T>, DecodeError> {
    let header: &'s [u8] = header;
    if !is_plain_header(header, key.algorithm()) {
        check_header(header, key.algorithm())?;
    }
    // The payload is parsed while the MAC is computed (a block per member), and the result
    // is returned only if the MAC matches: the same result as verifying first.
    let end = signing_input.len();
    let payload: &'s [u8] = payload;
    let sig_len_ok = sig.len() == key.algorithm().mac_len();
    // One call site for the parse either way (firmware images count the stack and bytes).
    // Verifying first finishes the run, so the ticks have nothing left to do. The run is
    // borrowed, not moved: moving its states (up to 168 bytes) in and out of an `Option`
    // measured slower (BENCHMARKS.md, seventh round).
    let first = options.verify_before_parse;
    if first && !(sig_len_ok && run.verify(end, sig)) {
        return Err(DecodeError::BadSignature);
    }
    let mut mac = JwsMac {
        run,
        end,
        sig,
        verified: first,
        sig_len_ok,
    };
    finish_with(header, payload, arena, &options.validation, now, &mut mac)
}

/// The MAC of a JWS decode as [`finish_with`] drives it: a step per top-level member of the
/// payload, then the check, before any result is returned.
trait MacSteps {
    /// One step towards the MAC.
    fn tick(&mut self);
    /// Whether the MAC matches.
    fn verify(&mut self) -> bool;
}

/// No MAC (JWE decoding checked its tag before the parse).
impl MacSteps for () {
    fn tick(&mut self) {}
    fn verify(&mut self) -> bool {
        true
    }
}

/// A JWS MAC run over `data[..end]`, to be compared with `sig`; `verified` when it was already
/// checked (verify before parse), `sig_len_ok` when `sig` has the MAC's length.
struct JwsMac<'r, 'd, 't> {
    run: &'r mut MacRun<'d>,
    end: usize,
    sig: &'t [u8],
    verified: bool,
    sig_len_ok: bool,
}

impl MacSteps for JwsMac<'_, '_, '_> {
    fn tick(&mut self) {
        self.run.step_to_end(self.end);
    }
    fn verify(&mut self) -> bool {
        self.verified || (self.sig_len_ok && self.run.verify(self.end, self.sig))
    }
}

/// The shared tail of JWS and JWE decoding: claim validation, then typed deserialization.
#[cfg_attr(
    not(feature = "jwe"),
    allow(dead_code, reason = "used by the jwe module")
)]
pub(crate) fn finish<'s, T: Deserialize<'s>>(
    header: &'s [u8],
    payload: &'s [u8],
    arena: &'s mut [u8],
    validation: &Validation<'_>,
    now: i64,
) -> Result<Decoded<'s, T>, DecodeError> {
    finish_with(header, payload, arena, validation, now, &mut ())
}

/// [`finish`], running `tick` at the start of each top-level member of the payload.
///
/// `tick` is a trait object so that JWS and JWE decoding share one copy of the deserializer
/// per claims type (it runs once per member; firmware images count the bytes).
fn finish_with<'s, T: Deserialize<'s>>(
    header: &'s [u8],
    payload: &'s [u8],
    arena: &'s mut [u8],
    validation: &Validation<'_>,
    now: i64,
    mac: &mut dyn MacSteps,
) -> Result<Decoded<'s, T>, DecodeError> {
    // One pass: the registered claims are checked as the typed deserialization meets them.
    // The result is exactly that of `claims::validate` followed by `json::from_slice` (the
    // reference order: claim errors before type errors):
    // - the checker sees the same members in the same order as `validate`, so when it fails,
    //   `validate` fails too, and `validate`'s error is returned;
    // - otherwise the deserialization ran exactly as `from_slice` would have;
    // - on success, when the type read the whole top-level object, the checker has seen every
    //   member `validate` would check; otherwise (`T` is not a map or struct) `validate` runs.
    let mut checker = claims::Checker::new(validation);
    let observer = json::Ticking {
        inner: &mut checker,
        tick: || mac.tick(),
    };
    let (result, _) = json::from_slice_observed::<T, _>(payload, arena, observer);
    // The MAC ran alongside the parse: nothing that depends on the payload is returned unless
    // it matches. (Checked here rather than by the caller, so that the result is built where
    // it is returned instead of being copied there after the check.)
    if !mac.verify() {
        return Err(DecodeError::BadSignature);
    }
    match result {
        Ok((claims, _)) => {
            let times = if checker.complete {
                checker.finish(now)?
            } else {
                claims::validate(payload, validation, now)?
            };
            Ok(Decoded {
                claims,
                times,
                header,
                payload,
            })
        }
        Err(e) => {
            // Claim errors come first, as in the two-pass order (`validate` gives a payload
            // that is not JSON as `BadJson`, even after a bad claim).
            claims::validate(payload, validation, now)?;
            if let Some(claim_error) = checker.error {
                // Unreachable: the checker failed where `validate` did not.
                return Err(claim_error);
            }
            Err(match e {
                json::Error::ArenaTooSmall { needed } => DecodeError::BufferTooSmall {
                    needed: header.len() + payload.len() + needed,
                },
                e if e.is_syntax() => DecodeError::BadJson {
                    part: Part::Payload,
                    error: e,
                },
                e => DecodeError::ClaimsMismatch(e),
            })
        }
    }
}

/// Splits, base64-decodes and parses a JWS **without verifying its signature or claims**.
///
/// For debugging only (the CLI's `--dangerous-skip-verify`): anyone can forge what this
/// returns. Returns the header and payload JSON, each checked to be a JSON object.
///
/// # Errors
///
/// Structure, base64 and JSON errors as [`decode`] reports them.
pub fn dangerous_inspect_unverified<'s>(
    token: &[u8],
    scratch: &'s mut [u8],
) -> Result<(&'s [u8], &'s [u8]), DecodeError> {
    let seg = split(token, usize::MAX)?;
    let p_len = base64url::decoded_len(seg.payload.len()).unwrap_or(0);
    let (header, rest) = decode_segment(Part::Header, seg.header, scratch, (0, p_len))?;
    let room = (header.len(), 0);
    let (payload, _) = decode_segment(Part::Payload, seg.payload, rest, room)?;
    parse_header(header)?;
    json::object_members(payload).map_err(|error| DecodeError::BadJson {
        part: Part::Payload,
        error,
    })?;
    json::validate(payload).map_err(|error| DecodeError::BadJson {
        part: Part::Payload,
        error,
    })?;
    Ok((header, payload))
}

#[cfg(test)]
mod tests {
    use super::*;

    const RFC7515_KEY: &str =
        "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow";
    const RFC7515_TOKEN: &str = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

    fn rfc7515_key() -> HmacKey {
        let mut k = [0u8; 64];
        let k = base64url::decode(RFC7515_KEY.as_bytes(), &mut k).unwrap();
        HmacKey::new(Algorithm::Hs256, k).unwrap()
    }

    #[derive(Debug, Deserialize, Serialize, PartialEq)]
    struct Joe<'a> {
        iss: &'a str,
        exp: u64,
        #[serde(rename = "http://example.com/is_root")]
        is_root: bool,
    }

    #[test]
    fn rfc7515_a1_verifies() {
        let mut scratch = [0u8; 512];
        let d: Decoded<'_, Joe<'_>> = decode(
            RFC7515_TOKEN.as_bytes(),
            &rfc7515_key(),
            &DecodeOptions::new(),
            1_300_819_379,
            &mut scratch,
        )
        .unwrap();
        assert_eq!(d.claims.iss, "joe");
        assert_eq!(d.claims.exp, 1_300_819_380);
        assert!(d.claims.is_root);
        assert_eq!(d.times.exp, Some(1_300_819_380));
    }

    #[test]
    fn rfc7515_a1_expired_and_tampered() {
        let key = rfc7515_key();
        let mut scratch = [0u8; 512];
        let strict = DecodeOptions::new().with_validation(Validation::new().with_leeway(0));
        let e = decode::<Joe<'_>>(
            RFC7515_TOKEN.as_bytes(),
            &key,
            &strict,
            1_300_819_380,
            &mut scratch,
        )
        .unwrap_err();
        assert_eq!(
            e,
            DecodeError::Expired {
                exp: 1_300_819_380,
                now: 1_300_819_380
            }
        );
        // Tampered and expired: the signature is checked first.
        let mut t = RFC7515_TOKEN.as_bytes().to_vec();
        let last = t.len() - 2;
        t[last] = if t[last] == b'A' { b'B' } else { b'A' };
        let e = decode::<Joe<'_>>(&t, &key, &strict, 1_300_819_380, &mut scratch).unwrap_err();
        assert_eq!(e, DecodeError::BadSignature);
    }

    fn unhex(s: &str) -> std::vec::Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// RFC 4231 §4.2–4.8 at the HMAC layer (case 5 is truncated to 128 bits).
    #[test]
    fn rfc4231_hmac_sha2() {
        let long_data = b"This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.";
        let key4: std::vec::Vec<u8> = (1..=25).collect();
        let cases: [(&[u8], &[u8], [&str; 3]); 7] = [
            (&[0x0b; 20], b"Hi There", [
                "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
                "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59cfaea9ea9076ede7f4af152e8b2fa9cb6",
                "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cdedaa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854",
            ]),
            (b"Jefe", b"what do ya want for nothing?", [
                "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
                "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e8e2240ca5e69e2c78b3239ecfab21649",
                "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737",
            ]),
            (&[0xaa; 20], &[0xdd; 50], [
                "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe",
                "88062608d3e6ad8a0aa2ace014c8a86f0aa635d947ac9febe83ef4e55966144b2a5ab39dc13814b94e3ab6e101a34f27",
                "fa73b0089d56a284efb0f0756c890be9b1b5dbdd8ee81a3655f83e33b2279d39bf3e848279a722c806b485a47e67c807b946a337bee8942674278859e13292fb",
            ]),
            (&key4, &[0xcd; 50], [
                "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b",
                "3e8a69b7783c25851933ab6290af6ca77a9981480850009cc5577c6e1f573b4e6801dd23c4a7d679ccf8a386c674cffb",
                "b0ba465637458c6990e5a8c5f61d4af7e576d97ff94b872de76f8050361ee3dba91ca5c11aa25eb4d679275cc5788063a5f19741120c4f2de2adebeb10a298dd",
            ]),
            (&[0x0c; 20], b"Test With Truncation", [
                "a3b6167473100ee06e0c796c2955552b",
                "3abf34c3503b2a23a46efc619baef897",
                "415fad6271580a531d4179bc891d87a6",
            ]),
            (&[0xaa; 131], b"Test Using Larger Than Block-Size Key - Hash Key First", [
                "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
                "4ece084485813e9088d2c63a041bc5b44f9ef1012a2b588f3cd11f05033ac4c60c2ef6ab4030fe8296248df163f44952",
                "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f3526b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598",
            ]),
            (&[0xaa; 131], long_data, [
                "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
                "6617178e941f020d351e2f254e8fd32c602420feb0b8fb9adccebb82461e99c5a678cc31e799176d3860e6110c46523e",
                "e37b6a775dc87dbaa4dfa9f96e5e3ffddebd71f8867289865df5a32d20cdc944b6022cac3c4982b10d5eeb55c3e4de15134676fb6de0446065c97440fa8c6a58",
            ]),
        ];
        let algs = [Algorithm::Hs256, Algorithm::Hs384, Algorithm::Hs512];
        for (i, (key, data, expected)) in cases.iter().enumerate() {
            for (alg, want) in algs.iter().zip(expected) {
                let want = unhex(want);
                let k = HmacKey::new_any_len(*alg, key);
                let mut mac = [0u8; MAX_MAC_LEN];
                let n = k.sign(data, &mut mac);
                assert_eq!(n, alg.mac_len());
                assert_eq!(&mac[..want.len()], &want[..], "case {} {alg}", i + 1);
                if want.len() == n {
                    assert!(k.verify(data, &want));
                    let mut bad = want.clone();
                    bad[0] ^= 1;
                    assert!(!k.verify(data, &bad));
                }
            }
        }
    }

    #[test]
    fn weak_keys_refused() {
        assert_eq!(
            HmacKey::new(Algorithm::Hs256, &[1; 31]).unwrap_err(),
            KeyError::WeakKey { len: 31, min: 32 }
        );
        assert!(HmacKey::new(Algorithm::Hs384, &[1; 47]).is_err());
        assert!(HmacKey::new(Algorithm::Hs512, &[1; 63]).is_err());
        assert!(HmacKey::new(Algorithm::Hs512, &[1; 64]).is_ok());
        let dbg = std::format!("{:?}", HmacKey::new(Algorithm::Hs256, &[0x41; 32]).unwrap());
        assert_eq!(dbg, "HmacKey { alg: Hs256, .. }");
    }

    #[test]
    fn encode_round_trip_and_exact_len() {
        let key = HmacKey::new(Algorithm::Hs384, &[7; 48]).unwrap();
        let claims = Joe {
            iss: "j\"oe\u{e9}",
            exp: 2_000_000_000,
            is_root: false,
        };
        for kid in [None, Some("k1"), Some("k\"é")] {
            let header = Header { kid };
            let need = encoded_len(&key, &header, &claims).unwrap();
            let mut small = std::vec![0u8; need - 1];
            assert_eq!(
                encode(&key, &header, &claims, &mut small),
                Err(EncodeError::BufferTooSmall { needed: need })
            );
            let mut out = std::vec![0u8; need];
            let token =
                std::string::String::from(encode(&key, &header, &claims, &mut out).unwrap());
            assert_eq!(token.len(), need);
            let mut scratch = std::vec![0u8; scratch_len(token.len())];
            let d: Decoded<'_, Joe<'_>> = decode(
                token.as_bytes(),
                &key,
                &DecodeOptions::new(),
                0,
                &mut scratch,
            )
            .unwrap();
            assert_eq!(d.claims, claims);
        }
    }

    /// `Debug` of a decoded token shows the claims through the type's own `Debug` and no
    /// byte of the payload (which holds every claim in clear, tokens included).
    #[test]
    fn decoded_debug_does_not_show_the_payload() {
        let key = HmacKey::new(Algorithm::Hs256, &[7; 32]).unwrap();
        let payload = br#"{"sub":"u1","refresh_token":"RT-SECRET"}"#;
        let mut out = [0u8; 256];
        let token = encode_json(&key, &Header::default(), payload, &mut out).unwrap();
        let mut scratch = [0u8; 256];
        let d = decode::<serde::de::IgnoredAny>(
            token.as_bytes(),
            &key,
            &DecodeOptions::new(),
            0,
            &mut scratch,
        )
        .unwrap();
        assert_eq!(d.payload_json(), payload);
        let shown = std::format!("{d:?}");
        assert!(!crate::debug_shows(&shown, "RT-SECRET"), "{shown}");
        assert!(
            shown.contains(&std::format!("payload_len: {}", payload.len())),
            "{shown}"
        );
    }

    /// The two-pass order the one-pass `finish` must reproduce exactly.
    fn reference_finish<'s, T: Deserialize<'s>>(
        header: &'s [u8],
        payload: &'s [u8],
        arena: &'s mut [u8],
        validation: &Validation<'_>,
        now: i64,
    ) -> Result<(T, claims::TimeClaims), DecodeError> {
        let times = claims::validate(payload, validation, now)?;
        let (claims, _) = json::from_slice(payload, arena).map_err(|e| match e {
            json::Error::ArenaTooSmall { needed } => DecodeError::BufferTooSmall {
                needed: header.len() + payload.len() + needed,
            },
            e if e.is_syntax() => DecodeError::BadJson {
                part: Part::Payload,
                error: e,
            },
            e => DecodeError::ClaimsMismatch(e),
        })?;
        Ok((claims, times))
    }

    #[derive(Debug, Deserialize, PartialEq)]
    struct Typed<'a> {
        #[serde(borrow)]
        sub: Option<&'a str>,
        exp: Option<i64>,
        name: Option<heapless::String<8>>,
        aud: Option<serde::de::IgnoredAny>,
        tags: Option<heapless::Vec<&'a str, 2>>,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Strict {
        exp: u32,
        iat: Option<u32>,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    enum Tagged {
        A { exp: i64 },
        B(u8),
    }

    fn same<'a, T: Deserialize<'a> + PartialEq + fmt::Debug>(
        payload: &'a [u8],
        arenas: (&'a mut [u8], &'a mut [u8]),
        validation: &Validation<'_>,
        now: i64,
    ) {
        let h: &[u8] = b"{}";
        let one = finish::<T>(h, payload, arenas.0, validation, now).map(|d| (d.claims, d.times));
        let two = reference_finish::<T>(h, payload, arenas.1, validation, now);
        assert_eq!(
            one,
            two,
            "payload {:?}",
            core::str::from_utf8(payload).unwrap_or("<bytes>")
        );
    }

    fn check_all(payload: &[u8]) {
        let validations = [
            Validation::new(),
            Validation::new()
                .with_leeway(0)
                .with_issuer("me")
                .with_audience("app")
                .with_subject("42"),
            Validation::new().with_required(claims::Required {
                exp: true,
                jti: true,
                ..claims::Required::default()
            }),
        ];
        for v in &validations {
            for now in [0, 150] {
                for arena_len in [0, 3, 64] {
                    let (mut a, mut b) = ([0u8; 64], [0u8; 64]);
                    let arenas = (&mut a[..arena_len], &mut b[..arena_len]);
                    same::<Typed<'_>>(payload, arenas, v, now);
                }
                let (mut a, mut b) = ([0u8; 64], [0u8; 64]);
                same::<Strict>(payload, (&mut a, &mut b), v, now);
                let (mut a, mut b) = ([0u8; 64], [0u8; 64]);
                same::<Tagged>(payload, (&mut a, &mut b), v, now);
                let (mut a, mut b) = ([0u8; 64], [0u8; 64]);
                same::<heapless::LinearMap<&str, serde::de::IgnoredAny, 8>>(
                    payload,
                    (&mut a, &mut b),
                    v,
                    now,
                );
                let (mut a, mut b) = ([0u8; 64], [0u8; 64]);
                same::<()>(payload, (&mut a, &mut b), v, now);
                let (mut a, mut b) = ([0u8; 64], [0u8; 64]);
                same::<Option<u8>>(payload, (&mut a, &mut b), v, now);
            }
        }
    }

    /// The one-pass `finish` returns exactly what claim validation followed by typed
    /// deserialization returns, for valid, invalid and mutated payloads and several targets.
    #[test]
    fn one_pass_finish_matches_two_pass_order() {
        let seeds: &[&str] = &[
            r#"{"sub":"42","exp":100,"name":"Ada","aud":"app","iss":"me","jti":"x","tags":["a"]}"#,
            r#"{"exp":100,"nbf":50,"iat":10,"aud":["x","app"],"sub":"4\u0032"}"#,
            r#"{"exp":"1","sub":42}"#,
            r#"{"exp":1,"exp":2}"#,
            r#"{"\u0065xp":100.5,"iat":1e3,"n":{"exp":"nested"},"l":[1,{"a":[]}]}"#,
            r#"{"A":{"exp":5}}"#,
            r#"{"B":7}"#,
            r#"{"iat":5,"exp":200,"name":"too long a name"}"#,
            r#"{"sub":"a\"b","aud":["app",1],"exp":-1}"#,
            r#"[{"exp":1}]"#,
            r#" { "exp" : 120 , "iat" : 3 } "#,
            // Values the claims checker sees by kind only (`jti`; `sub`, `iss` unless expected).
            r#"{"jti":{"x":[1,2]},"sub":[true],"iss":"me","exp":9}"#,
            r#"{"jti":"a","jti":"b","sub":7,"iss":null}"#,
            r#"{"sub":"4\u00","jti":"\ud800","iss":"m\u0065"}"#,
            // Not JSON after a bad claim: the syntax error wins.
            r#"{"exp":"1","sub":"42"}x"#,
            r#"{"exp":-1,"iss":"me",}"#,
            r#"{"aud":"x","exp":1,"exp":2 }]"#,
            "7",
            "null",
        ];
        let alphabet = b"{}[]\",:0123456789-.eE \\u tnfalsexpiubjdA";
        let mut rnd = crate::test_rng(0x9e37_79b9);
        for seed in seeds {
            check_all(seed.as_bytes());
            for _ in 0..300 {
                let mut p = seed.as_bytes().to_vec();
                for _ in 0..=rnd(3) {
                    let at = rnd(p.len() + 1);
                    let c = alphabet[rnd(alphabet.len())];
                    match rnd(3) {
                        0 if at < p.len() => p[at] = c,
                        1 if at < p.len() => {
                            p.remove(at);
                        }
                        _ => p.insert(at, c),
                    }
                }
                check_all(&p);
            }
        }
    }

    /// The one-pass split and decode gives exactly the step-by-step result, for valid and
    /// mutated tokens, tight scratch buffers and token limits.
    #[test]
    fn one_pass_split_matches_step_by_step() {
        // A short payload, and one long enough for the SIMD decoder and the interleaved MAC.
        let long_iss = "j".repeat(300);
        for iss in ["joe", long_iss.as_str()] {
            one_pass_split_matches_step_by_step_for(iss);
        }
    }

    fn one_pass_split_matches_step_by_step_for(iss: &str) {
        let key = HmacKey::new(Algorithm::Hs256, &[7; 32]).unwrap();
        let claims = Joe {
            iss,
            exp: 2_000_000_000,
            is_root: true,
        };
        let mut out = [0u8; 1024];
        let token = std::vec::Vec::from(
            encode(&key, &Header { kid: Some("k") }, &claims, &mut out)
                .unwrap()
                .as_bytes(),
        );
        let alphabet = b"..AZaz09-_=+/ eyJ";
        let mut rnd = crate::test_rng(0x1234_5678);
        for round in 0..4000 {
            let mut t = token.clone();
            if round > 0 {
                for _ in 0..=rnd(2) {
                    let at = rnd(t.len() + 1);
                    let c = alphabet[rnd(alphabet.len())];
                    match rnd(3) {
                        0 if at < t.len() => t[at] = c,
                        1 if at < t.len() => {
                            t.remove(at);
                        }
                        _ => t.insert(at, c),
                    }
                }
            }
            let (scratch_size, max) = if round == 0 {
                (scratch_len(t.len()), DEFAULT_MAX_TOKEN_LEN)
            } else {
                (
                    [scratch_len(t.len()), 20, 90, 115, 120][rnd(5)],
                    [DEFAULT_MAX_TOKEN_LEN, token.len() - 1][rnd(2)],
                )
            };
            let options = DecodeOptions::new().with_max_token_len(max);
            let mut s1 = std::vec![0u8; scratch_size];
            let mut s2 = std::vec![0u8; scratch_size];
            let one = decode::<Joe<'_>>(&t, &key, &options, 0, &mut s1)
                .map(|d| (d.claims, d.times, d.header, d.payload));
            let two = decode_step_by_step::<Joe<'_>>(&t, &key, &options, 0, &mut s2)
                .map(|d| (d.claims, d.times, d.header, d.payload));
            assert_eq!(one, two, "token {:?}", core::str::from_utf8(&t));
            if round == 0 {
                assert!(one.is_ok());
            }
        }
    }

    #[test]
    fn encode_errors_for_every_short_buffer_and_non_objects() {
        let key = HmacKey::new(Algorithm::Hs256, &[3; 32]).unwrap();
        let claims = Joe {
            iss: "joe",
            exp: 1,
            is_root: false,
        };
        for kid in [None, Some("a-key-id")] {
            let header = Header { kid };
            let need = encoded_len(&key, &header, &claims).unwrap();
            for len in 0..need {
                let mut out = std::vec![0u8; len];
                assert_eq!(
                    encode(&key, &header, &claims, &mut out),
                    Err(EncodeError::BufferTooSmall { needed: need })
                );
            }
            // Not an object: refused once the buffer is large enough, as before.
            let need = encoded_len(&key, &header, "abc").unwrap();
            let mut out = std::vec![0u8; need];
            assert_eq!(
                encode(&key, &header, "abc", &mut out),
                Err(EncodeError::Claims(json::Error::Unsupported))
            );
            assert_eq!(
                encode(&key, &header, "abc", &mut out[..need - 1]),
                Err(EncodeError::BufferTooSmall { needed: need })
            );
            assert_eq!(
                encode(&key, &header, &f64::NAN, &mut out),
                Err(EncodeError::Claims(json::Error::Unsupported))
            );
            assert_eq!(
                encode_json(&key, &header, b"[1]", &mut out),
                Err(EncodeError::Claims(json::Error::Unsupported))
            );
            let need = encoded_len_json(&key, &header, b"{}");
            assert_eq!(
                encode_json(&key, &header, b"{}", &mut out[..need - 1]),
                Err(EncodeError::BufferTooSmall { needed: need })
            );
        }
    }

    /// `is_plain_header` only skips headers that `parse_header` and `check_alg` accept.
    /// Signs `header.payload` (both raw bytes, base64url-encoded here) with `key`.
    fn sign_raw(key: &HmacKey, header: &[u8], payload: &[u8]) -> std::string::String {
        let mut buf = [0u8; 4096];
        let mut t = std::string::String::from(base64url::encode(header, &mut buf).unwrap());
        t.push('.');
        t.push_str(base64url::encode(payload, &mut buf).unwrap());
        let mut mac = [0u8; MAX_MAC_LEN];
        let n = key.sign(t.as_bytes(), &mut mac);
        t.push('.');
        t.push_str(base64url::encode(&mac[..n], &mut buf).unwrap());
        t
    }

    /// A header with `crit` twice is `DuplicateHeader`, as the error's docs say (it was taken
    /// as one `crit` and refused as `UnsupportedCrit`), in JWS and JWE headers alike.
    #[test]
    fn a_duplicate_crit_is_a_duplicate_header() {
        assert_eq!(
            parse_header(br#"{"alg":"HS256","crit":["a"],"crit":["a"]}"#).map(|_| ()),
            Err(DecodeError::Malformed(Malformed::DuplicateHeader))
        );
        let key = rfc7515_key();
        let token = sign_raw(
            &key,
            br#"{"alg":"HS256","crit":["b64"],"crit":["b64"]}"#,
            br#"{"sub":"a"}"#,
        );
        let mut scratch = [0u8; 256];
        let got = decode::<serde::de::IgnoredAny>(
            token.as_bytes(),
            &key,
            &DecodeOptions::new(),
            0,
            &mut scratch,
        );
        assert_eq!(
            got.map(|_| ()),
            Err(DecodeError::Malformed(Malformed::DuplicateHeader))
        );
    }

    /// `encode_json` takes one JSON object with whitespace before it, as after it (it refused
    /// leading whitespace as `Claims(Unsupported)`), and still refuses what is not an object.
    #[test]
    fn encode_json_takes_whitespace_around_the_object() {
        let key = rfc7515_key();
        let header = Header::default();
        let mut out = [0u8; 512];
        for payload in [
            &b"{\"sub\":\"a\"}\n"[..],
            b"\n {\"sub\":\"a\"}",
            b"\t\r\n{\"sub\":\"a\"} ",
        ] {
            let token = encode_json(&key, &header, payload, &mut out)
                .map(std::borrow::ToOwned::to_owned)
                .unwrap();
            assert_eq!(token.len(), encoded_len_json(&key, &header, payload));
            let mut scratch = [0u8; 256];
            let (_, got) = dangerous_inspect_unverified(token.as_bytes(), &mut scratch).unwrap();
            assert_eq!(got, payload);
        }
        for payload in [&b" [1]"[..], b"\n\"a\"", b"  "] {
            assert!(matches!(
                encode_json(&key, &header, payload, &mut out),
                Err(EncodeError::Claims(_))
            ));
        }
    }

    /// A `BufferTooSmall` from decoding names a scratch size that is larger than the one given
    /// and with which the decode gets further (to success here), for every too-small size.
    #[test]
    fn buffer_too_small_names_a_size_that_suffices() {
        #[derive(Deserialize)]
        #[allow(dead_code, reason = "only deserialized")]
        struct Claims<'a> {
            sub: &'a str,
            name: std::borrow::Cow<'a, str>,
            exp: u64,
        }
        let key = rfc7515_key();
        for header in [
            &br#"{"alg":"HS256","typ":"JWT"}"#[..],
            br#"{"typ":"JWT","alg":"HS256","kid":"k1"}"#,
        ] {
            for payload in [
                &br#"{"sub":"42","name":"Ada","exp":4102444800}"#[..],
                br#"{"sub":"4\u0032","name":"A\"da\u00e9","exp":4102444800}"#,
            ] {
                let token = sign_raw(&key, header, payload);
                let decode_with = |n: usize| {
                    let mut scratch = std::vec![0u8; n];
                    let got = decode::<Claims<'_>>(
                        token.as_bytes(),
                        &key,
                        &DecodeOptions::new(),
                        1_700_000_000,
                        &mut scratch,
                    );
                    got.map(|_| ())
                };
                for n in 0..scratch_len(token.len()) {
                    if let Err(DecodeError::BufferTooSmall { needed }) = decode_with(n) {
                        assert!(needed > n, "{token}: {n} bytes, needed {needed}");
                        assert_eq!(decode_with(needed), Ok(()), "{token}: {n} then {needed}");
                    }
                }
                let mut scratch = std::vec![0u8; 0];
                if let Err(DecodeError::BufferTooSmall { needed }) =
                    dangerous_inspect_unverified(token.as_bytes(), &mut scratch)
                {
                    let mut scratch = std::vec![0u8; needed];
                    assert!(dangerous_inspect_unverified(token.as_bytes(), &mut scratch).is_ok());
                }
            }
        }
    }

    #[test]
    fn signature_is_checked_before_the_payload_is_trusted() {
        // The payload is parsed while the MAC is computed; a wrong MAC must still win over
        // every payload error, and a right one must give the payload's own result.
        let key = HmacKey::new(Algorithm::Hs256, &[7; 32]).unwrap();
        let other = HmacKey::new(Algorithm::Hs256, &[8; 32]).unwrap();
        let long = std::format!(r#"{{"sub":"{}","exp":1}}"#, "x".repeat(400));
        let cases: [(&[u8], &str); 8] = [
            (br#"{"exp":1}"#, "expired"),
            (long.as_bytes(), "expired"),
            (br#"{"exp":"soon"}"#, "invalid_claim"),
            (b"not json", "bad_json"),
            (br#"{"exp":2000000000}x"#, "bad_json"),
            (br#"{"exp":2000000000,"nbf":"now"}"#, "invalid_claim"),
            // Not a claim error (no issuer is expected): the type wants a string.
            (br#"{"exp":2000000000,"iss":1}"#, "claims_mismatch"),
            (
                br#"{"exp":2000000000,"iss":"joe","http://example.com/is_root":1}"#,
                "claims_mismatch",
            ),
        ];
        for (payload, kind) in cases {
            for signer in [&key, &other] {
                let t = sign_raw(signer, br#"{"alg":"HS256"}"#, payload);
                let mut scratch = [0u8; 2048];
                let err = decode::<Joe<'_>>(
                    t.as_bytes(),
                    &key,
                    &DecodeOptions::new(),
                    1_000,
                    &mut scratch,
                )
                .unwrap_err();
                let want = if core::ptr::eq(signer, &other) {
                    "bad_signature"
                } else {
                    kind
                };
                assert_eq!(err.kind(), want, "{payload:?}: {err:?}");
            }
        }
    }

    /// Decoding in the plain order, with the `hmac` crate: split, base64, header, `alg`,
    /// `crit`, the MAC, and only then the payload.
    fn verify_first_reference<'s, T: Deserialize<'s>>(
        token: &[u8],
        alg: Algorithm,
        secret: &[u8],
        options: &DecodeOptions<'_>,
        now: i64,
        scratch: &'s mut [u8],
    ) -> Result<Decoded<'s, T>, DecodeError> {
        use hmac::{Hmac, KeyInit, Mac};
        let seg = split(token, options.max_token_len)?;
        let p_len = base64url::decoded_len(seg.payload.len()).unwrap_or(0);
        let room = (0, p_len.saturating_mul(2));
        let (header, rest) = decode_segment(Part::Header, seg.header, scratch, room)?;
        let room = (header.len(), p_len);
        let (payload, arena) = decode_segment(Part::Payload, seg.payload, rest, room)?;
        let mut sig_buf = [0u8; 256];
        let sig = base64url::decode(seg.signature, &mut sig_buf).map_err(|error| {
            DecodeError::BadBase64 {
                part: Part::Signature,
                error,
            }
        })?;
        let header: &'s [u8] = header;
        let fields = parse_header(header)?;
        check_alg(fields.alg.as_ref(), alg)?;
        if fields.crit {
            return Err(DecodeError::UnsupportedCrit);
        }
        let ok = match alg {
            Algorithm::Hs256 => {
                let mut m = <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(secret).unwrap();
                m.update(seg.signing_input);
                m.verify_slice(sig).is_ok()
            }
            Algorithm::Hs384 => {
                let mut m = <Hmac<sha2::Sha384> as KeyInit>::new_from_slice(secret).unwrap();
                m.update(seg.signing_input);
                m.verify_slice(sig).is_ok()
            }
            Algorithm::Hs512 => {
                let mut m = <Hmac<sha2::Sha512> as KeyInit>::new_from_slice(secret).unwrap();
                m.update(seg.signing_input);
                m.verify_slice(sig).is_ok()
            }
        };
        if !ok {
            return Err(DecodeError::BadSignature);
        }
        let payload: &'s [u8] = payload;
        finish(header, payload, arena, &options.validation, now)
    }

    #[test]
    fn decoding_alongside_the_mac_equals_verifying_first() {
        // Random payloads (valid, broken, wrong types, long enough for SIMD and for several
        // MAC blocks), signed by the right key, a wrong key, or altered after signing, for all
        // three algorithms: `decode` (both modes) must equal the plain-order reference.
        let mut rnd = crate::test_rng(0x2545_f491_4f6c_dd1d);
        let pieces: [&[u8]; 12] = [
            br#""iss":"joe""#,
            br#""exp":2000000000"#,
            br#""exp":1"#,
            br#""http://example.com/is_root":true"#,
            br#""http://example.com/is_root":1"#,
            br#""iss":7"#,
            br#""pad":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa""#,
            br#""n":[1,2,{"a":null}]"#,
            br#""esc":"a\"b\u00e9""#,
            b"\"x\":",
            b"}",
            b"\"exp\":\"2\"",
        ];
        let mut accepted = 0;
        for round in 0..6000 {
            let alg = [Algorithm::Hs256, Algorithm::Hs384, Algorithm::Hs512][round % 3];
            let secret: std::vec::Vec<u8> = (0..64 + rnd(100))
                .map(|i| u8::try_from(i % 256).unwrap())
                .collect();
            let key = HmacKey::new(alg, &secret).unwrap();
            // Half the payloads start as a valid `Joe`, then random members follow.
            let mut payload = std::vec::Vec::from(&b"{"[..]);
            let valid = rnd(2) == 0;
            if valid {
                payload.extend_from_slice(
                    br#""iss":"joe","exp":2000000000,"http://example.com/is_root":true"#,
                );
            }
            for k in 0..rnd(if valid { 3 } else { 8 }) {
                if k > 0 || valid {
                    payload.push(b',');
                }
                payload.extend_from_slice(pieces[rnd(pieces.len())]);
            }
            if rnd(10) > 0 {
                payload.push(b'}');
            }
            let own: &[u8] = match alg {
                Algorithm::Hs256 => br#"{"alg":"HS256","typ":"JWT"}"#,
                Algorithm::Hs384 => br#"{"alg":"HS384"}"#,
                Algorithm::Hs512 => br#"{"typ":"JWT","alg":"HS512","kid":"k"}"#,
            };
            let header = [
                own,
                own,
                own,
                br#"{"alg":"HS256"}"#,
                br#"{"alg":"HS256","crit":["x"]}"#,
            ][rnd(5)];
            let signer = if rnd(4) == 0 {
                HmacKey::new(alg, &[9; 64]).unwrap()
            } else {
                key.clone()
            };
            let mut token = sign_raw(&signer, header, &payload).into_bytes();
            if rnd(5) == 0 {
                let at = rnd(token.len());
                token[at] = b"Aa0-_.="[rnd(7)];
            }
            let options = DecodeOptions::new();
            let scratch_size = [scratch_len(token.len()), 40][usize::from(rnd(8) == 0)];
            let (mut s1, mut s2, mut s3) = (
                std::vec![0u8; scratch_size],
                std::vec![0u8; scratch_size],
                std::vec![0u8; scratch_size],
            );
            #[allow(clippy::type_complexity, reason = "test")]
            fn view<'s>(
                d: Decoded<'s, Joe<'s>>,
            ) -> (Joe<'s>, claims::TimeClaims, &'s [u8], &'s [u8]) {
                (d.claims, d.times, d.header, d.payload)
            }
            let want =
                verify_first_reference::<Joe<'_>>(&token, alg, &secret, &options, 1000, &mut s1)
                    .map(view);
            let got = decode::<Joe<'_>>(&token, &key, &options, 1000, &mut s2).map(view);
            let first = options.with_verify_before_parse(true);
            let got_first = decode::<Joe<'_>>(&token, &key, &first, 1000, &mut s3).map(view);
            assert_eq!(got, want, "{:?}", core::str::from_utf8(&token));
            assert_eq!(got_first, want, "{:?}", core::str::from_utf8(&token));
            accepted += usize::from(want.is_ok());
        }
        assert!(accepted > 100, "{accepted}");
    }

    #[test]
    fn verify_before_parse_never_shows_a_forged_payload_to_deserialize() {
        use core::sync::atomic::{AtomicUsize, Ordering};
        static SEEN: AtomicUsize = AtomicUsize::new(0);
        struct Spy;
        impl<'de> Deserialize<'de> for Spy {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                SEEN.fetch_add(1, Ordering::SeqCst);
                serde::de::IgnoredAny::deserialize(d).map(|_| Spy)
            }
        }
        let key = HmacKey::new(Algorithm::Hs256, &[7; 32]).unwrap();
        let other = HmacKey::new(Algorithm::Hs256, &[8; 32]).unwrap();
        let forged = sign_raw(&other, br#"{"alg":"HS256"}"#, br#"{"exp":2000000000}"#);
        let mut scratch = [0u8; 256];
        let strict = DecodeOptions::new().with_verify_before_parse(true);
        let r = decode::<Spy>(forged.as_bytes(), &key, &strict, 0, &mut scratch);
        assert_eq!(r.err(), Some(DecodeError::BadSignature));
        assert_eq!(SEEN.load(Ordering::SeqCst), 0);
        // The default runs it (and still refuses the token).
        let r = decode::<Spy>(
            forged.as_bytes(),
            &key,
            &DecodeOptions::new(),
            0,
            &mut scratch,
        );
        assert_eq!(r.err(), Some(DecodeError::BadSignature));
        assert_eq!(SEEN.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn mac_in_steps_is_the_mac() {
        let data: std::vec::Vec<u8> = (0..700u32).map(|i| (i * 31 % 251) as u8).collect();
        for alg in [Algorithm::Hs256, Algorithm::Hs384, Algorithm::Hs512] {
            let key = HmacKey::new(alg, &[3; 64]).unwrap();
            for end in [0, 1, 63, 64, 65, 127, 128, 129, 255, 256, 257, 700] {
                let mut tag = [0u8; MAX_MAC_LEN];
                let n = key.sign(&data[..end], &mut tag);
                for stride in [1, 17, 64, 100, 128, 1000] {
                    let mut run = MacRun::new(&key, &data);
                    let mut limit = 0;
                    while limit < end {
                        limit = (limit + stride).min(end);
                        // Several calls per limit: each hashes at most one block, never
                        // past the limit.
                        run.step_to(limit);
                        run.step_to(limit);
                    }
                    assert!(run.verify(end, &tag[..n]), "{alg} {end} {stride}");
                    let mut run = MacRun::new(&key, &data);
                    run.step_to(end);
                    let mut bad = tag;
                    bad[0] ^= 1;
                    assert!(!run.verify(end, &bad[..n]));
                }
            }
        }
    }

    #[test]
    fn encoded_plain_headers_are_the_plain_headers() {
        for (alg, json, encoded) in &PLAIN_HEADERS {
            assert!(is_plain_header(json, *alg));
            let mut buf = [0u8; 64];
            assert_eq!(
                base64url::encode(json, &mut buf).unwrap().as_bytes(),
                encoded.as_bytes()
            );
            let mut token = encoded.as_bytes().to_vec();
            token.extend_from_slice(b".e30.x");
            assert_eq!(
                encoded_plain_header(&token, *alg),
                Some((encoded.len, *json))
            );
            // Another algorithm, or no dot right after it: not taken.
            for other in [Algorithm::Hs256, Algorithm::Hs384, Algorithm::Hs512] {
                if other != *alg {
                    assert_eq!(encoded_plain_header(&token, other), None);
                }
            }
            token[encoded.len] = b'A';
            assert_eq!(encoded_plain_header(&token, *alg), None);
        }
    }

    #[test]
    fn plain_headers_parse_as_the_fast_path_assumes() {
        for alg in [Algorithm::Hs256, Algorithm::Hs384, Algorithm::Hs512] {
            let n = alg.name();
            let forms = [
                std::format!(r#"{{"alg":"{n}","typ":"JWT"}}"#),
                std::format!(r#"{{"typ":"JWT","alg":"{n}"}}"#),
                std::format!(r#"{{"alg":"{n}"}}"#),
            ];
            for h in &forms {
                assert!(is_plain_header(h.as_bytes(), alg), "{h}");
                let f = parse_header(h.as_bytes()).unwrap();
                assert_eq!(check_alg(f.alg.as_ref(), alg), Ok(()));
                assert!(!f.crit);
                for other in [Algorithm::Hs256, Algorithm::Hs384, Algorithm::Hs512] {
                    assert_eq!(is_plain_header(h.as_bytes(), other), other == alg);
                }
            }
            for h in [
                std::format!(r#"{{"alg":"{n}","typ":"JWT","crit":[]}}"#),
                std::format!(r#"{{"alg":"{n}" }}"#),
                std::format!(r#"{{"alg":"{n}","typ":"JWS"}}"#),
                std::format!(r#"{{"alg":"{n}","alg":"{n}"}}"#),
            ] {
                assert!(!is_plain_header(h.as_bytes(), alg), "{h}");
            }
        }
    }

    #[test]
    fn in_place_encoding_matches_plain_encoding_for_all_lengths() {
        let key = HmacKey::new(Algorithm::Hs256, &[9; 32]).unwrap();
        for n in 0..200 {
            let s: std::string::String = (0..n)
                .map(|i| char::from(b'a' + u8::try_from(i % 26).unwrap()))
                .collect();
            let claims = [("x", s.as_str())];
            let map: std::collections::BTreeMap<&str, &str> = claims.into_iter().collect();
            let mut out = [0u8; 600];
            let token = encode(&key, &Header::default(), &map, &mut out).unwrap();
            let mut parts = token.split('.');
            let h = parts.next().unwrap();
            let p = parts.next().unwrap();
            let mut buf = [0u8; 600];
            assert_eq!(
                base64url::decode(h.as_bytes(), &mut buf).unwrap(),
                br#"{"alg":"HS256","typ":"JWT"}"#
            );
            let expect = std::format!(r#"{{"x":"{s}"}}"#);
            assert_eq!(
                base64url::decode(p.as_bytes(), &mut buf).unwrap(),
                expect.as_bytes()
            );
        }
    }

    /// Decodes `payload` signed under `header` with the RFC 7515 key, claims ignored.
    fn decode_raw(header: &[u8], payload: &[u8]) -> Result<(), DecodeError> {
        let key = rfc7515_key();
        let token = sign_raw(&key, header, payload);
        let mut scratch = std::vec![0u8; scratch_len(token.len())];
        decode::<serde::de::IgnoredAny>(
            token.as_bytes(),
            &key,
            &DecodeOptions::new(),
            0,
            &mut scratch,
        )
        .map(|_| ())
    }

    /// `DecodeError`'s order is "... payload JSON, claims": a payload that is not JSON is
    /// `bad_json` whatever its members hold (a bad claim before the syntax error made it
    /// `invalid_claim`, since the claim checks stopped there).
    #[test]
    fn payload_syntax_error_wins_over_a_claim_error() {
        let h = br#"{"alg":"HS256"}"#;
        for payload in [
            &br#"{"exp":"1"}x"#[..],
            br#"{"exp":"1",}"#,
            br#"{"exp":-1,"#,
            br#"{"exp":1,"exp":2 garbage"#,
        ] {
            let got = decode_raw(h, payload).unwrap_err();
            assert_eq!(
                got.kind(),
                "bad_json",
                "{:?}: {got:?}",
                core::str::from_utf8(payload)
            );
        }
    }

    /// The same for the header: "header JSON" comes before `alg`, so a header that is not
    /// JSON is `bad_json` even when `alg`/`kid` has the wrong type or is repeated before the
    /// syntax error (that was `malformed`).
    #[test]
    fn header_syntax_error_wins_over_a_header_member_error() {
        for header in [
            &br#"{"alg":1,}"#[..],
            br#"{"alg":"HS256","alg":"HS256",}"#,
            br#"{"kid":7} trailing"#,
        ] {
            let got = decode_raw(header, br#"{}"#).unwrap_err();
            assert_eq!(
                got.kind(),
                "bad_json",
                "{:?}: {got:?}",
                core::str::from_utf8(header)
            );
        }
    }

    /// `encode` never writes a token that `decode` with the same key refuses as nested too
    /// deep: claims deeper than `json::MAX_DEPTH` are `EncodeError::Claims(TooDeep)` (they were
    /// written, and the decode then failed with `BadJson(TooDeep)`).
    #[test]
    fn encode_never_writes_a_token_decode_refuses_as_too_deep() {
        use crate::json::tests::NestArrays as Nest;
        #[derive(Serialize)]
        struct Claims {
            sub: &'static str,
            deep: Nest,
        }
        let key = rfc7515_key();
        // The object is one level, `Nest(n)` is n + 1 arrays.
        for (n, fits) in [
            (json::MAX_DEPTH - 2, true),
            (json::MAX_DEPTH - 1, false),
            (json::MAX_DEPTH, false),
        ] {
            let claims = Claims {
                sub: "42",
                deep: Nest(n),
            };
            let mut out = [0u8; 1024];
            let encoded = encode(&key, &Header::default(), &claims, &mut out);
            if !fits {
                assert!(
                    matches!(
                        encoded,
                        Err(EncodeError::Claims(json::Error::TooDeep { .. }))
                    ),
                    "{n}: {encoded:?}"
                );
                continue;
            }
            let token = std::string::String::from(encoded.unwrap());
            let mut scratch = std::vec![0u8; scratch_len(token.len())];
            let got = decode::<serde::de::IgnoredAny>(
                token.as_bytes(),
                &key,
                &DecodeOptions::new(),
                0,
                &mut scratch,
            )
            .map(|_| ());
            assert_eq!(got, Ok(()), "{n}: encode wrote a token that decode refuses");
        }
    }

    /// An empty payload segment is `Malformed(EmptySegment)` (RFC 7515 §7.1 has three
    /// non-empty parts here: a JWT payload is a JSON object), even with a valid MAC over it,
    /// and not a JSON or signature error.
    #[test]
    fn an_empty_payload_segment_is_an_empty_segment() {
        let key = rfc7515_key();
        let empty = Err(DecodeError::Malformed(Malformed::EmptySegment));
        let mut buf = [0u8; 64];
        let header = base64url::encode(br#"{"alg":"HS256"}"#, &mut buf).unwrap();
        let signing_input = std::format!("{header}.");
        let mut mac = [0u8; MAX_MAC_LEN];
        let n = key.sign(signing_input.as_bytes(), &mut mac);
        let mut sig = [0u8; 128];
        let sig = base64url::encode(&mac[..n], &mut sig).unwrap();
        let mut scratch = [0u8; 256];
        for token in [
            std::format!("{signing_input}.{sig}"),
            std::format!("{signing_input}."),
        ] {
            let got = decode::<serde::de::IgnoredAny>(
                token.as_bytes(),
                &key,
                &DecodeOptions::new(),
                0,
                &mut scratch,
            );
            assert_eq!(got.map(|_| ()), empty, "{token}");
        }
    }

    /// A header naming another HMAC algorithm than the key's is `AlgMismatch` with the one it
    /// names (the error's documented `found`), not `UnsupportedAlg`: only names outside
    /// HS256/384/512 are unsupported.
    #[test]
    fn another_hmac_alg_is_an_alg_mismatch_naming_it() {
        for (header, found) in [
            (&br#"{"alg":"HS384"}"#[..], Algorithm::Hs384),
            (br#"{"alg":"HS512","typ":"JWT"}"#, Algorithm::Hs512),
            (
                br#"{"typ":"JWT","alg":"HS384","kid":"k"}"#,
                Algorithm::Hs384,
            ),
        ] {
            assert_eq!(
                decode_raw(header, br#"{"sub":"a"}"#),
                Err(DecodeError::AlgMismatch {
                    expected: Algorithm::Hs256,
                    found: Some(found),
                })
            );
        }
        assert_eq!(
            decode_raw(br#"{"alg":"HS257"}"#, br#"{"sub":"a"}"#),
            Err(DecodeError::UnsupportedAlg)
        );
    }

    /// `HmacKey::verify` takes only the whole MAC: a prefix of it, and the empty tag above
    /// all, is refused (the decoders check the length first, this public method must too).
    #[test]
    fn hmac_verify_refuses_a_truncated_or_empty_tag() {
        for alg in [Algorithm::Hs256, Algorithm::Hs384, Algorithm::Hs512] {
            let key = HmacKey::new(alg, &[7u8; 64]).unwrap();
            let data = b"header.payload";
            let mut mac = [0u8; MAX_MAC_LEN];
            let n = key.sign(data, &mut mac);
            assert!(key.verify(data, &mac[..n]));
            assert!(!key.verify(data, &[]), "{alg}: empty tag");
            for len in [1, 16, n / 2, n - 1] {
                assert!(!key.verify(data, &mac[..len]), "{alg}: {len}-byte prefix");
            }
        }
    }
}
