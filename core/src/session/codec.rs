//! How the session pipeline reads and writes its token: signed (JWS) or encrypted (JWE).
//!
//! Every codec stamps `iat` = now, `exp` = now + maxAge and a fresh random `jti` on encode,
//! replacing any the token had, exactly as Auth.js's `encode()` does for JWE. (Auth.js leaves
//! this to custom JWS encoders; authcore's JWS codec does the same as the JWE one so that a JWS
//! session expires like any other.)

use serde::{Deserialize, Serialize};

use crate::claims::Validation;
use crate::error::{DecodeError, EncodeError};
use crate::json;
#[cfg(feature = "jwe")]
use crate::jwe::{self, AuthJsKey, NextAuthV4Key};
use crate::jws::{self, DecodeOptions, Decoded, Header, HmacKey};
use crate::rand::{self, RandomSource, UUID_LEN};

/// The claims Auth.js stamps on every encode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    /// Issued at, Unix seconds.
    pub iat: i64,
    /// Expiry, Unix seconds.
    pub exp: i64,
    /// A lowercase v4 UUID.
    pub jti: [u8; UUID_LEN],
}

impl Stamp {
    /// A stamp for a token issued at `now` living `max_age` seconds, with a random `jti`.
    ///
    /// # Errors
    ///
    /// [`EncodeError::Random`] when `rng` fails.
    pub fn new(
        now: i64,
        max_age: i64,
        rng: &mut (impl RandomSource + ?Sized),
    ) -> Result<Self, EncodeError> {
        Ok(Self {
            iat: now,
            exp: now.saturating_add(max_age),
            jti: rand::random_uuid(rng)?,
        })
    }

    /// Most bytes [`stamp_claims`] adds to a JSON object.
    pub const MAX_EXTRA: usize = r#","iat":,"exp":,"jti":"""#.len() + 2 * 20 + UUID_LEN;
}

/// Copies the JSON object `claims` into `out` without its top-level `iat`, `exp` and `jti`
/// members and with the stamped ones appended last (Auth.js's key order). Returns the length.
///
/// # Errors
///
/// [`EncodeError::Claims`] when `claims` is not a JSON object, [`EncodeError::BufferTooSmall`]
/// when `out` is shorter than `claims.len() + Stamp::MAX_EXTRA` might require.
pub fn stamp_claims(claims: &[u8], stamp: &Stamp, out: &mut [u8]) -> Result<usize, EncodeError> {
    let bound = claims.len().saturating_add(Stamp::MAX_EXTRA);
    stamp_into(claims, stamp, out).map_err(|e| match e {
        EncodeError::BufferTooSmall { .. } => EncodeError::BufferTooSmall { needed: bound },
        e => e,
    })
}

fn stamp_into(claims: &[u8], stamp: &Stamp, out: &mut [u8]) -> Result<usize, EncodeError> {
    let mut w = Writer { out, at: 0 };
    w.put(b"{")?;
    let mut first = true;
    for member in json::object_members(claims).map_err(EncodeError::Claims)? {
        let (key, value) = member.map_err(EncodeError::Claims)?;
        if key.matches("iat") || key.matches("exp") || key.matches("jti") {
            continue;
        }
        if !first {
            w.put(b",")?;
        }
        first = false;
        w.put(b"\"")?;
        w.put(key.raw())?;
        w.put(b"\":")?;
        w.put(value.raw())?;
    }
    if !first {
        w.put(b",")?;
    }
    w.put(br#""iat":"#)?;
    w.int(stamp.iat)?;
    w.put(br#","exp":"#)?;
    w.int(stamp.exp)?;
    w.put(br#","jti":""#)?;
    w.put(&stamp.jti)?;
    w.put(b"\"}")?;
    Ok(w.at)
}

struct Writer<'o> {
    out: &'o mut [u8],
    at: usize,
}

impl Writer<'_> {
    fn put(&mut self, bytes: &[u8]) -> Result<(), EncodeError> {
        let end = self.at + bytes.len();
        let dst = self
            .out
            .get_mut(self.at..end)
            .ok_or(EncodeError::BufferTooSmall { needed: end })?;
        dst.copy_from_slice(bytes);
        self.at = end;
        Ok(())
    }

    fn int(&mut self, v: i64) -> Result<(), EncodeError> {
        let mut buf = [0u8; 20];
        let mut i = buf.len();
        let neg = v < 0;
        let mut n = v.unsigned_abs();
        loop {
            i -= 1;
            buf[i] = b'0' + u8::try_from(n % 10).unwrap_or(0);
            n /= 10;
            if n == 0 {
                break;
            }
        }
        if neg {
            self.put(b"-")?;
        }
        self.put(&buf[i..])
    }
}

/// A session token format: how a token is encoded into a cookie value and decoded from one.
pub trait TokenCodec {
    /// Encodes `claims` stamped with `stamp` into `out`. `scratch` (at least
    /// [`Self::encode_scratch_len`] bytes) holds intermediate JSON.
    ///
    /// # Errors
    ///
    /// [`EncodeError`].
    fn encode<'o, T: Serialize>(
        &self,
        claims: &T,
        stamp: &Stamp,
        rng: &mut dyn RandomSource,
        scratch: &mut [u8],
        out: &'o mut [u8],
    ) -> Result<&'o str, EncodeError>;

    /// Decodes and validates `token` at `now` (Unix seconds), with the codec's leeway.
    ///
    /// # Errors
    ///
    /// [`DecodeError`].
    fn decode<'s, T: Deserialize<'s>>(
        &self,
        token: &[u8],
        now: i64,
        scratch: &'s mut [u8],
    ) -> Result<Decoded<'s, T>, DecodeError>;

    /// A scratch size that suffices for [`Self::decode`] of a `token_len`-byte token.
    fn decode_scratch_len(&self, token_len: usize) -> usize;
}

/// A JWS session codec (HS256/384/512): Auth.js's "custom encode/decode" escape hatch, built in.
#[derive(Debug, Clone)]
pub struct JwsCodec<'k> {
    key: &'k HmacKey,
    options: DecodeOptions<'k>,
}

impl<'k> JwsCodec<'k> {
    /// A codec over `key` with Auth.js's 15 s clock tolerance.
    #[must_use]
    pub const fn new(key: &'k HmacKey) -> Self {
        Self {
            key,
            options: DecodeOptions::new(),
        }
    }

    /// Sets the claim validation (leeway, issuer, audience...).
    #[must_use]
    pub const fn with_validation(mut self, validation: Validation<'k>) -> Self {
        self.options = self.options.with_validation(validation);
        self
    }
}

impl TokenCodec for JwsCodec<'_> {
    fn encode<'o, T: Serialize>(
        &self,
        claims: &T,
        stamp: &Stamp,
        _rng: &mut dyn RandomSource,
        scratch: &mut [u8],
        out: &'o mut [u8],
    ) -> Result<&'o str, EncodeError> {
        let plaintext = stamped_plaintext(claims, stamp, scratch)?;
        jws::encode_json(self.key, &Header::default(), plaintext, out)
    }

    fn decode<'s, T: Deserialize<'s>>(
        &self,
        token: &[u8],
        now: i64,
        scratch: &'s mut [u8],
    ) -> Result<Decoded<'s, T>, DecodeError> {
        jws::decode(token, self.key, &self.options, now, scratch)
    }

    fn decode_scratch_len(&self, token_len: usize) -> usize {
        jws::scratch_len(token_len)
    }
}

/// Serializes `claims` into `scratch`, then writes the stamped plaintext after it; returns the
/// plaintext.
fn stamped_plaintext<'s, T: Serialize>(
    claims: &T,
    stamp: &Stamp,
    scratch: &'s mut [u8],
) -> Result<&'s [u8], EncodeError> {
    let n = json::to_slice(claims, scratch).map_err(|e| match e {
        json::Error::BufferTooSmall { needed } => EncodeError::BufferTooSmall { needed },
        e => EncodeError::Claims(e),
    })?;
    let (raw, rest) = scratch.split_at_mut(n);
    let m = stamp_claims(raw, stamp, rest)?;
    Ok(&rest[..m])
}

/// Auth.js v5 session cookies (JWE `dir` + `A256CBC-HS512`, `kid`), with secret rotation:
/// encode with the first key, decode by `kid`.
#[cfg(feature = "jwe")]
#[derive(Debug, Clone, Copy)]
pub struct AuthJsCodec<'k> {
    keys: &'k [AuthJsKey],
    options: DecodeOptions<'k>,
}

#[cfg(feature = "jwe")]
impl<'k> AuthJsCodec<'k> {
    /// A codec over `keys` (the current secret's key first); `None` when `keys` is empty.
    /// Each key must have been derived with the session cookie name as salt.
    #[must_use]
    pub const fn new(keys: &'k [AuthJsKey]) -> Option<Self> {
        if keys.is_empty() {
            return None;
        }
        Some(Self {
            keys,
            options: DecodeOptions::new(),
        })
    }
}

#[cfg(feature = "jwe")]
impl TokenCodec for AuthJsCodec<'_> {
    fn encode<'o, T: Serialize>(
        &self,
        claims: &T,
        stamp: &Stamp,
        rng: &mut dyn RandomSource,
        scratch: &mut [u8],
        out: &'o mut [u8],
    ) -> Result<&'o str, EncodeError> {
        let plaintext = stamped_plaintext(claims, stamp, scratch)?;
        let key = self
            .keys
            .first()
            .ok_or(EncodeError::Claims(json::Error::Unsupported))?;
        jwe::seal_authjs(key, plaintext, rng, out)
    }

    fn decode<'s, T: Deserialize<'s>>(
        &self,
        token: &[u8],
        now: i64,
        scratch: &'s mut [u8],
    ) -> Result<Decoded<'s, T>, DecodeError> {
        jwe::decode_authjs(token, self.keys, &self.options, now, scratch)
    }

    fn decode_scratch_len(&self, token_len: usize) -> usize {
        jwe::scratch_len(token_len)
    }
}

/// next-auth v4 session cookies (JWE `dir` + `A256GCM`, no `kid`, one secret).
#[cfg(feature = "jwe")]
#[derive(Debug, Clone, Copy)]
pub struct NextAuthV4Codec<'k> {
    key: &'k NextAuthV4Key,
    options: DecodeOptions<'k>,
}

#[cfg(feature = "jwe")]
impl<'k> NextAuthV4Codec<'k> {
    /// A codec over the session key (derived with next-auth's empty salt).
    #[must_use]
    pub const fn new(key: &'k NextAuthV4Key) -> Self {
        Self {
            key,
            options: DecodeOptions::new(),
        }
    }
}

#[cfg(feature = "jwe")]
impl TokenCodec for NextAuthV4Codec<'_> {
    fn encode<'o, T: Serialize>(
        &self,
        claims: &T,
        stamp: &Stamp,
        rng: &mut dyn RandomSource,
        scratch: &mut [u8],
        out: &'o mut [u8],
    ) -> Result<&'o str, EncodeError> {
        let plaintext = stamped_plaintext(claims, stamp, scratch)?;
        jwe::seal_nextauth_v4(self.key, plaintext, rng, out)
    }

    fn decode<'s, T: Deserialize<'s>>(
        &self,
        token: &[u8],
        now: i64,
        scratch: &'s mut [u8],
    ) -> Result<Decoded<'s, T>, DecodeError> {
        jwe::decode_nextauth_v4(token, self.key, &self.options, now, scratch)
    }

    fn decode_scratch_len(&self, token_len: usize) -> usize {
        jwe::scratch_len(token_len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stamp() -> Stamp {
        Stamp {
            iat: 1_700_000_000,
            exp: 1_702_592_000,
            jti: *b"12345678-9abc-4ef0-9234-56789abcdef0",
        }
    }

    fn stamped(input: &str) -> std::string::String {
        let mut out = [0u8; 512];
        let n = stamp_claims(input.as_bytes(), &stamp(), &mut out).unwrap();
        std::string::String::from_utf8(out[..n].to_vec()).unwrap()
    }

    #[test]
    fn stamp_replaces_and_appends_in_auth_js_order() {
        let tail =
            r#""iat":1700000000,"exp":1702592000,"jti":"12345678-9abc-4ef0-9234-56789abcdef0"}"#;
        assert_eq!(stamped("{}"), std::format!("{{{tail}"));
        assert_eq!(
            stamped(r#"{"name":"A","iat":1,"sub":"x","exp":2,"jti":"old"}"#),
            std::format!(r#"{{"name":"A","sub":"x",{tail}"#)
        );
        assert_eq!(
            stamped(r#"{ "n\u0061me" : [1, {"iat":3}] , "\u0069at":9 }"#),
            std::format!(r#"{{"n\u0061me":[1, {{"iat":3}}],{tail}"#)
        );
        assert!(stamp_claims(b"[]", &stamp(), &mut [0u8; 200]).is_err());
        let need = stamped("{}").len();
        assert_eq!(
            stamp_claims(b"{}", &stamp(), &mut [0u8; 20]),
            Err(EncodeError::BufferTooSmall {
                needed: 2 + Stamp::MAX_EXTRA
            })
        );
        assert!(need <= 2 + Stamp::MAX_EXTRA);
        let mut neg = stamp();
        neg.iat = -5;
        let mut out = [0u8; 200];
        let n = stamp_claims(b"{}", &neg, &mut out).unwrap();
        assert!(core::str::from_utf8(&out[..n])
            .unwrap()
            .starts_with(r#"{"iat":-5,"#));
    }
}
