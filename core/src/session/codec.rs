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
    /// [`EncodeError::TimeOutOfRange`] when `now` or `now + max_age` is not a NumericDate a
    /// decode accepts (`0..=`[`MAX_NUMERIC_DATE`](crate::claims::MAX_NUMERIC_DATE)): the token
    /// could not be read back. [`EncodeError::Random`] when `rng` fails.
    pub fn new(
        now: i64,
        max_age: i64,
        rng: &mut (impl RandomSource + ?Sized),
    ) -> Result<Self, EncodeError> {
        let range = 0..=crate::claims::MAX_NUMERIC_DATE;
        let exp = now
            .checked_add(max_age)
            .filter(|exp| range.contains(exp) && range.contains(&now))
            .ok_or(EncodeError::TimeOutOfRange)?;
        Ok(Self {
            iat: now,
            exp,
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
    /// Encodes `claims` stamped with `stamp` into `out`. `scratch` (about twice the claims' JSON
    /// size) holds intermediate JSON.
    ///
    /// # Errors
    ///
    /// [`EncodeError`]: [`EncodeError::BufferTooSmall`] when `out` is too small and
    /// [`EncodeError::ScratchTooSmall`] when `scratch` is, each with a size that suffices (the
    /// engine reports them as [`BufferKind::Token`](super::BufferKind::Token) and
    /// [`BufferKind::Scratch`](super::BufferKind::Scratch)).
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

/// The longest token a session cookie carries: [`MAX_CHUNKS`](crate::cookie::MAX_CHUNKS)
/// chunks of the larger chunk size (v5's 3,936 bytes). A codec reads every token the engine
/// can write and reassemble, not only the 16 KiB a bare decode takes by default.
pub const MAX_SESSION_TOKEN_LEN: usize = crate::cookie::MAX_CHUNKS * crate::cookie::CHUNK_SIZE_V5;

/// The codecs' decode options: Auth.js's 15 s clock tolerance, tokens up to
/// [`MAX_SESSION_TOKEN_LEN`].
const fn session_decode_options<'k>() -> DecodeOptions<'k> {
    DecodeOptions::new().with_max_token_len(MAX_SESSION_TOKEN_LEN)
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
            options: session_decode_options(),
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
        #[cfg(feature = "jwe")]
        if let Some(len) = jws_one_pass(self.key, claims, stamp, scratch.len(), out) {
            let out: &'o [u8] = out;
            return core::str::from_utf8(out.get(..len).unwrap_or_default())
                .map_err(|_| EncodeError::Claims(json::Error::Unsupported));
        }
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

/// The stamp as the `jti` filter's times, when the one-pass encoders write exactly what
/// [`stamped_plaintext`] writes: a `jti` of printable ASCII other than `"` and `\` (a
/// [`Stamp::new`] UUID), which the serializer copies unescaped as [`stamp_claims`] does.
#[cfg(feature = "jwe")]
fn one_pass_times(stamp: &Stamp) -> Option<jwe::Times<'_>> {
    // Every byte tested and the answers ANDed with `&` (no early exit), which the compiler
    // turns into a few vector compares over the 36 bytes instead of a byte loop.
    let plain = stamp.jti.iter().fold(true, |plain, &b| {
        plain & (0x20..0x7f).contains(&b) & (b != b'"') & (b != b'\\')
    });
    Some(jwe::Times {
        iat: stamp.iat,
        exp: stamp.exp,
        jti: core::str::from_utf8(&stamp.jti).ok().filter(|_| plain)?,
    })
}

/// Whether [`stamped_plaintext`] with a `scratch_len`-byte buffer, and the `json::validate`
/// of its result that sealing does, succeed for claims whose one-pass serialization through
/// the filter (tracked by `track`) is `len` bytes `depth` deep: the unfiltered serialization
/// must have succeeded, be nested at most `json::MAX_DEPTH` deep (for `stamp_claims`'s and
/// `validate`'s walks), and fit in `scratch` together with the stamped copy.
#[cfg(feature = "jwe")]
fn serialize_then_stamp_fits(
    track: &jwe::Track,
    times: jwe::Times<'_>,
    len: usize,
    depth: usize,
    scratch_len: usize,
) -> bool {
    /// An object with no members.
    struct Empty;
    impl Serialize for Empty {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            serde::ser::SerializeMap::end(s.serialize_map(Some(0))?)
        }
    }
    let times_only = jwe::WithTimes {
        claims: &Empty,
        times,
        track: None,
    };
    let Ok(times_only_len) = json::serialized_len(&times_only) else {
        return false;
    };
    let Some((plain_len, plain_depth)) = track.unfiltered(len, depth, times_only_len) else {
        return false;
    };
    plain_depth <= json::MAX_DEPTH
        && plain_len
            .checked_add(len)
            .is_some_and(|needed| needed <= scratch_len)
}

/// The JWS codec's encode in one pass: the claims are serialized through the `iat`/`exp`/`jti`
/// filter straight into the token, instead of serialized into `scratch`, restamped member by
/// member, validated and copied. `Some(token length)` only when that is the token the
/// serialize-then-stamp path writes and that path would succeed; otherwise (`out` or
/// `scratch` too small, claims that are not an object, ...) `None`, and the caller takes that
/// path for its exact error.
#[cfg(feature = "jwe")]
fn jws_one_pass<T: Serialize>(
    key: &HmacKey,
    claims: &T,
    stamp: &Stamp,
    scratch_len: usize,
    out: &mut [u8],
) -> Option<usize> {
    let times = one_pass_times(stamp)?;
    let track = jwe::Track::default();
    let mut measured = (0, 0);
    let total = jws::encode_len_with(key, &Header::default(), out, |dst| {
        let value = jwe::WithTimes {
            claims,
            times,
            track: Some(&track),
        };
        json::to_slice_measured(&value, dst).map(|(len, depth)| {
            measured = (len, depth);
            len
        })
    })
    .ok()?;
    serialize_then_stamp_fits(&track, times, measured.0, measured.1, scratch_len).then_some(total)
}

/// The JWE codecs' encode in one pass: measures the claims serialized through the filter and
/// gives `(times, length)` for `seal_*_stamped` when sealing them gives what sealing the
/// [`stamped_plaintext`] gives (see [`jws_one_pass`]); `None` otherwise.
#[cfg(feature = "jwe")]
fn jwe_one_pass<'s, T: Serialize>(
    claims: &T,
    stamp: &'s Stamp,
    scratch_len: usize,
) -> Option<(jwe::Times<'s>, usize)> {
    let times = one_pass_times(stamp)?;
    let track = jwe::Track::default();
    let value = jwe::WithTimes {
        claims,
        times,
        track: Some(&track),
    };
    let (len, depth) = json::serialized_len_measured(&value).ok()?;
    serialize_then_stamp_fits(&track, times, len, depth, scratch_len).then_some((times, len))
}

/// Serializes `claims` into `scratch`, then writes the stamped plaintext after it; returns the
/// plaintext.
///
/// An [`EncodeError::ScratchTooSmall`] names a `scratch` size that suffices: the serialized
/// claims plus the most their stamped copy can take (not the claims' length alone, which a
/// caller growing its buffer to `needed` would find too small again).
fn stamped_plaintext<'s, T: Serialize>(
    claims: &T,
    stamp: &Stamp,
    scratch: &'s mut [u8],
) -> Result<&'s [u8], EncodeError> {
    let both = |claims_len: usize| {
        claims_len
            .saturating_mul(2)
            .saturating_add(Stamp::MAX_EXTRA)
    };
    let n = json::to_slice(claims, scratch).map_err(|e| match e {
        json::Error::BufferTooSmall { needed } => EncodeError::ScratchTooSmall {
            needed: both(needed),
        },
        e => EncodeError::Claims(e),
    })?;
    let (raw, rest) = scratch.split_at_mut(n);
    let m = stamp_claims(raw, stamp, rest).map_err(|e| match e {
        EncodeError::BufferTooSmall { .. } => EncodeError::ScratchTooSmall { needed: both(n) },
        e => e,
    })?;
    Ok(&rest[..m])
}

/// Auth.js v5 session cookies (JWE `dir` + `A256CBC-HS512`, `kid`), with secret rotation:
/// encode with the first key, decode by `kid`.
#[cfg(feature = "jwe")]
#[derive(Debug, Clone, Copy)]
pub struct AuthJsCodec<'k> {
    /// The key new tokens are encoded with: `keys[0]`.
    current: &'k AuthJsKey,
    keys: &'k [AuthJsKey],
    options: DecodeOptions<'k>,
}

#[cfg(feature = "jwe")]
impl<'k> AuthJsCodec<'k> {
    /// A codec over `keys` (the current secret's key first); `None` when `keys` is empty.
    /// Each key must have been derived with the session cookie name as salt.
    #[must_use]
    pub const fn new(keys: &'k [AuthJsKey]) -> Option<Self> {
        let Some(current) = keys.first() else {
            return None;
        };
        Some(Self {
            current,
            keys,
            options: session_decode_options(),
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
        if let Some((times, len)) = jwe_one_pass(claims, stamp, scratch.len()) {
            return jwe::seal_authjs_stamped(self.current, claims, times, len, rng, out);
        }
        let plaintext = stamped_plaintext(claims, stamp, scratch)?;
        jwe::seal_authjs(self.current, plaintext, rng, out)
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
            options: session_decode_options(),
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
        if let Some((times, len)) = jwe_one_pass(claims, stamp, scratch.len()) {
            return jwe::seal_nextauth_v4_stamped(self.key, claims, times, len, rng, out);
        }
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

    /// A stamp whose times a decode would refuse is refused, as `jwe::encode_authjs` does.
    #[test]
    fn stamp_times_are_in_range() {
        let mut rng = |dst: &mut [u8]| dst.fill(1);
        struct F<'a>(&'a mut dyn FnMut(&mut [u8]));
        impl RandomSource for F<'_> {
            fn fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), rand::RandomError> {
                (self.0)(dst);
                Ok(())
            }
        }
        let max = crate::claims::MAX_NUMERIC_DATE;
        for (now, max_age, ok) in [
            (0, 0, true),
            (1_700_000_000, 3600, true),
            (max - 10, 10, true),
            (max - 10, 11, false),
            (-1, 3600, false),
            (1_700_000_000, i64::MAX, false),
            (1_700_000_000, -1_700_000_001, false),
        ] {
            let got = Stamp::new(now, max_age, &mut F(&mut rng));
            assert_eq!(got.is_ok(), ok, "{now} + {max_age}: {got:?}");
            if !ok {
                assert_eq!(got.unwrap_err(), EncodeError::TimeOutOfRange);
            }
        }
    }

    /// A random source that counts up by 7 from `0.0` (any fixed bytes do for these tests).
    #[cfg(feature = "jwe")]
    struct CountingRng(u8);

    #[cfg(feature = "jwe")]
    impl RandomSource for CountingRng {
        fn fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), rand::RandomError> {
            for b in dst {
                self.0 = self.0.wrapping_add(7);
                *b = self.0;
            }
            Ok(())
        }
    }

    /// Encodes `claims` with codec `codec` (0: JWS, 1: Auth.js v5, 2: next-auth v4; fixed
    /// keys) at 1,700,000,000 with a one-hour lifetime.
    #[cfg(feature = "jwe")]
    fn encode_with<T: Serialize>(
        codec: usize,
        claims: &T,
        scratch: &mut [u8],
    ) -> Result<std::string::String, EncodeError> {
        let hmac = HmacKey::new(jws::Algorithm::Hs256, &[5; 32]).unwrap();
        let authjs = [AuthJsKey::derive(b"secret", "authjs.session-token").unwrap()];
        let v4 = NextAuthV4Key::derive(b"secret").unwrap();
        let stamp = Stamp::new(1_700_000_000, 3600, &mut CountingRng(1)).unwrap();
        let (rng, out) = (&mut CountingRng(2), &mut std::vec![0u8; 8192]);
        match codec {
            0 => JwsCodec::new(&hmac).encode(claims, &stamp, rng, scratch, out),
            1 => AuthJsCodec::new(&authjs)
                .unwrap()
                .encode(claims, &stamp, rng, scratch, out),
            _ => NextAuthV4Codec::new(&v4).encode(claims, &stamp, rng, scratch, out),
        }
        .map(std::borrow::ToOwned::to_owned)
    }

    /// Decodes a token [`encode_with`] made with codec `codec`, just after it was made.
    #[cfg(feature = "jwe")]
    fn decode_with(codec: usize, token: &str) -> Result<(), DecodeError> {
        let hmac = HmacKey::new(jws::Algorithm::Hs256, &[5; 32]).unwrap();
        let authjs = [AuthJsKey::derive(b"secret", "authjs.session-token").unwrap()];
        let v4 = NextAuthV4Key::derive(b"secret").unwrap();
        let (t, now, s) = (token.as_bytes(), 1_700_000_001, &mut std::vec![0u8; 8192]);
        match codec {
            0 => JwsCodec::new(&hmac).decode::<serde::de::IgnoredAny>(t, now, s),
            1 => AuthJsCodec::new(&authjs)
                .unwrap()
                .decode::<serde::de::IgnoredAny>(t, now, s),
            _ => NextAuthV4Codec::new(&v4).decode::<serde::de::IgnoredAny>(t, now, s),
        }
        .map(|_| ())
    }

    /// A caller that grows its scratch buffer to the `needed` of a `ScratchTooSmall` succeeds
    /// next time, for every codec and every size that failed. Before, the codecs reported the
    /// claims' length alone (or the stamped copy's alone), and the retry failed again.
    #[cfg(feature = "jwe")]
    #[test]
    fn scratch_needed_is_enough() {
        let mut claims = std::collections::BTreeMap::new();
        claims.insert("name", "x".repeat(500));
        claims.insert("sub", "u1".into());
        for codec in 0..3 {
            let mut failed = 0;
            for len in (0..1300).step_by(10) {
                match encode_with(codec, &claims, &mut std::vec![0u8; len]) {
                    Ok(_) => {}
                    Err(EncodeError::ScratchTooSmall { needed }) => {
                        failed += 1;
                        assert!(needed > len, "codec {codec}, {len}: {needed}");
                        let again = encode_with(codec, &claims, &mut std::vec![0u8; needed]);
                        assert!(again.is_ok(), "codec {codec}, {len} -> {needed}: {again:?}");
                    }
                    Err(e) => panic!("codec {codec}, {len}: {e:?}"),
                }
            }
            assert!(failed > 50, "codec {codec}: {failed}");
        }
    }

    /// Claims nested one level deeper than a decode takes, the innermost level a byte array:
    /// every codec refuses to encode them (before, the one-pass encoders counted one level
    /// less and wrote a token their own decode refused as too deep).
    #[cfg(feature = "jwe")]
    #[test]
    fn claims_too_deep_with_byte_arrays_are_not_encoded() {
        use crate::json::tests::NestBytes;
        // The object is one level; `depth` arrays around the byte array make the rest.
        for (depth, fits) in [(json::MAX_DEPTH - 2, true), (json::MAX_DEPTH - 1, false)] {
            let mut claims = std::collections::BTreeMap::new();
            claims.insert("x", NestBytes(depth));
            for codec in 0..3 {
                let encoded = encode_with(codec, &claims, &mut std::vec![0u8; 8192]);
                if fits {
                    let token = encoded.unwrap();
                    assert_eq!(decode_with(codec, &token), Ok(()), "codec {codec}");
                } else {
                    assert!(
                        matches!(encoded, Err(EncodeError::Claims(_))),
                        "codec {codec}: {encoded:?}"
                    );
                }
            }
        }
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

    /// The one-pass encoders against the serialize-then-stamp path they replace.
    #[cfg(feature = "jwe")]
    mod one_pass {
        use std::collections::BTreeMap;
        use std::string::{String, ToString};

        use std::vec::Vec;

        use serde::Serialize;

        use super::*;
        use crate::rand::RandomError;

        struct Seq(u8, usize);

        impl RandomSource for Seq {
            fn fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), RandomError> {
                for b in dst {
                    self.0 = self.0.wrapping_add(7);
                    self.1 += 1;
                    *b = self.0;
                }
                Ok(())
            }
        }

        /// Arrays nested `0` deep around a number.
        struct Deep(usize);

        impl Serialize for Deep {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                if self.0 == 0 {
                    return s.serialize_u8(7);
                }
                let mut seq = s.serialize_seq(Some(1))?;
                serde::ser::SerializeSeq::serialize_element(&mut seq, &Deep(self.0 - 1))?;
                serde::ser::SerializeSeq::end(seq)
            }
        }

        #[derive(Serialize)]
        struct Token<'a> {
            name: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            iat: Option<f64>,
            exp: i64,
            jti: Option<&'a str>,
            deep: Deep,
        }

        /// A map written entry by entry and key-then-value, as `#[serde(flatten)]` does.
        struct Flat(usize);

        impl Serialize for Flat {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                use serde::ser::SerializeMap;
                let mut m = s.serialize_map(None)?;
                m.serialize_entry("sub", "s")?;
                m.serialize_key("exp")?;
                m.serialize_value(&Deep(self.0))?;
                m.serialize_key("x")?;
                m.serialize_value(&Deep(1))?;
                m.serialize_entry("jti", &Deep(self.0))?;
                m.end()
            }
        }

        #[derive(Serialize)]
        struct OnlyStamped {
            iat: i64,
            exp: Deep,
            jti: (),
        }

        #[derive(Serialize)]
        enum Variant {
            V { a: u8 },
        }

        #[derive(Serialize)]
        struct Empty {}

        fn stamps() -> Vec<Stamp> {
            let mut v = std::vec![stamp()];
            for (i, b) in [b'"', b'\\', 0x1f, 0x7f, 0xff, b'/']
                .into_iter()
                .enumerate()
            {
                let mut s = stamp();
                s.jti[i * 5] = b;
                s.iat = -i64::try_from(i).unwrap();
                v.push(s);
            }
            v
        }

        fn check<T: Serialize>(claims: &T) {
            let hmac = HmacKey::new(jws::Algorithm::Hs256, &[7u8; 32]).unwrap();
            let jws_codec = JwsCodec::new(&hmac);
            let v5 = [AuthJsKey::derive(b"secret", "authjs.session-token").unwrap()];
            let v5_codec = AuthJsCodec::new(&v5).unwrap();
            let v4 = NextAuthV4Key::derive(b"secret").unwrap();
            let v4_codec = NextAuthV4Codec::new(&v4);
            for stamp in stamps() {
                // The sizes the old path needs, to try every size around them.
                let mut big = std::vec![0u8; 8192];
                let plain = stamped_plaintext(claims, &stamp, &mut big).map(<[u8]>::to_vec);
                let scratch_need =
                    json::serialized_len(claims).unwrap_or(0) + plain.as_ref().map_or(0, Vec::len);
                let mut sizes: Vec<(usize, usize)> =
                    (0..scratch_need + 3).map(|n| (n, 4096)).collect();
                sizes.extend((0..1400).step_by(7).map(|n| (4096, n)));
                sizes.extend([(4096, 4096), (0, 0), (scratch_need, 4096)]);
                for (scratch_len, out_len) in sizes {
                    let run = |which: usize, new: bool| -> (Result<String, EncodeError>, usize) {
                        let mut scratch = std::vec![0u8; scratch_len];
                        let mut out = std::vec![0u8; out_len];
                        let mut rng = Seq(3, 0);
                        let r = if new {
                            match which {
                                0 => jws_codec.encode(
                                    claims,
                                    &stamp,
                                    &mut rng,
                                    &mut scratch,
                                    &mut out,
                                ),
                                1 => v5_codec.encode(
                                    claims,
                                    &stamp,
                                    &mut rng,
                                    &mut scratch,
                                    &mut out,
                                ),
                                _ => v4_codec.encode(
                                    claims,
                                    &stamp,
                                    &mut rng,
                                    &mut scratch,
                                    &mut out,
                                ),
                            }
                        } else {
                            let plaintext = stamped_plaintext(claims, &stamp, &mut scratch);
                            match which {
                                0 => plaintext.and_then(|p| {
                                    jws::encode_json(&hmac, &Header::default(), p, &mut out)
                                }),
                                1 => plaintext
                                    .and_then(|p| jwe::seal_authjs(&v5[0], p, &mut rng, &mut out)),
                                _ => plaintext.and_then(|p| {
                                    jwe::seal_nextauth_v4(&v4, p, &mut rng, &mut out)
                                }),
                            }
                        };
                        (r.map(ToString::to_string), rng.1)
                    };
                    for which in 0..3 {
                        assert_eq!(
                            run(which, true),
                            run(which, false),
                            "codec {which}, scratch {scratch_len}, out {out_len}, {stamp:?}"
                        );
                    }
                }
            }
        }

        #[test]
        fn one_pass_encode_matches_serialize_then_stamp() {
            for depth in [0, 1, 62, 63, 64, 65] {
                check(&Token {
                    name: "A \"q\" \u{e9}",
                    iat: Some(1.5),
                    exp: 9,
                    jti: Some("old"),
                    deep: Deep(depth),
                });
                check(&Flat(depth));
                check(&OnlyStamped {
                    iat: 1,
                    exp: Deep(depth),
                    jti: (),
                });
            }
            check(&Token {
                name: "",
                iat: None,
                exp: -1,
                jti: None,
                deep: Deep(2),
            });
            // A dropped member that cannot be serialized; non-objects.
            check(&Token {
                name: "n",
                iat: Some(f64::NAN),
                exp: 0,
                jti: None,
                deep: Deep(0),
            });
            check(&Empty {});
            check(&Some(Empty {}));
            check(&Option::<Empty>::None);
            check(&std::vec![1, 2]);
            check(&Variant::V { a: 1 });
            check(&"text");
            let mut map: BTreeMap<&str, f64> = BTreeMap::new();
            map.insert("iat", f64::INFINITY);
            map.insert("a", 1.0);
            check(&map);
            let mut map: BTreeMap<u8, &str> = BTreeMap::new();
            map.insert(1, "a");
            check(&map);
            let json: serde_json::Value = serde_json::from_str(
                r#"{"jti":[1,{"a":null}],"n\u0061me":"x","iat":2,"exp":"e","k":[true,1.5e300]}"#,
            )
            .unwrap();
            check(&json);
        }
    }
}
