//! Compact JWE encoding as Auth.js v5 and next-auth v4 write session tokens.

use serde::Serialize;

use super::plaintext::{filter_json, Sink, Times, WithTimes};
use super::{AuthJsKey, ContentKey, Enc, EncryptError, NextAuthV4Key, KID_LEN_A256CBC_HS512};
use crate::base64url;
use crate::claims::MAX_NUMERIC_DATE;
use crate::error::EncodeError;
use crate::json;
use crate::rand::{random_uuid, RandomSource, UUID_LEN};

/// Auth.js's default session lifetime (`maxAge`): 30 days, in seconds.
pub const DEFAULT_MAX_AGE: u32 = 30 * 24 * 60 * 60;

/// The Auth.js v5 protected header up to the `kid` value.
const HEADER_V5_HEAD: &[u8] = br#"{"alg":"dir","enc":"A256CBC-HS512","kid":""#;
/// The end of the Auth.js v5 protected header, after the `kid` value.
const HEADER_V5_TAIL: &[u8] = br#""}"#;
/// Length of the Auth.js v5 protected header JSON (the `kid` is 86 base64url characters).
const HEADER_V5_LEN: usize = HEADER_V5_HEAD.len() + KID_LEN_A256CBC_HS512 + HEADER_V5_TAIL.len();
/// The next-auth v4 protected header, exactly as next-auth writes it.
const HEADER_V4: &[u8] = br#"{"alg":"dir","enc":"A256GCM"}"#;
/// Stands in for the `jti` while lengths are computed (a UUID is always 36 ASCII characters).
const JTI_PLACEHOLDER: &str = "00000000-0000-4000-8000-000000000000";

const _: () = assert!(JTI_PLACEHOLDER.len() == UUID_LEN);

/// Encodes `claims` as an Auth.js v5 session token (`dir` + `A256CBC-HS512`) into `out`,
/// returning the token.
///
/// The header is exactly `{"alg":"dir","enc":"A256CBC-HS512","kid":"<kid>"}` with the key's
/// SHA-512 thumbprint. The plaintext is `claims` (which must serialize to a JSON object) without
/// its top-level `iat`, `exp` and `jti`, followed by `"iat":now`, `"exp":now + max_age` and a
/// random v4 UUID `"jti"`, in that order, as Auth.js writes it. The 16-byte IV and the UUID come
/// from `rng`. [`encoded_len_authjs`] gives the exact length.
///
/// Unlike Auth.js, `exp` is computed in 64 bits (Auth.js truncates `now` to 32 bits, so its
/// `exp` wraps after 2038).
///
/// # Errors
///
/// [`EncodeError::TimeOutOfRange`] if `now` is negative or `now + max_age` is past
/// [`MAX_NUMERIC_DATE`]; [`EncodeError::Claims`] if `claims` does not serialize to a JSON
/// object of its own members (a struct or a map, also inside a newtype or `Some`: an enum
/// variant, which `json` writes as `{"Variant": ...}`, is refused here, while the session
/// codecs take it through their fallback) or a member does not serialize, and, once the
/// plaintext fits in `out`, with [`json::Error::TooDeep`] when the claims nest more than
/// [`json::MAX_DEPTH`] arrays/objects (the decoders would refuse that token);
/// [`EncodeError::BufferTooSmall`] with the exact length needed; [`EncodeError::Random`] if
/// `rng` fails.
pub fn encode_authjs<'o, T: Serialize + ?Sized>(
    key: &AuthJsKey,
    claims: &T,
    now: i64,
    max_age: u32,
    rng: &mut (impl RandomSource + ?Sized),
    out: &'o mut [u8],
) -> Result<&'o str, EncodeError> {
    encode_with(
        authjs(key),
        &Source::Claims(claims),
        Some((now, max_age)),
        rng,
        out,
    )
}

/// Like [`encode_authjs`], for claims that are already JSON text: `payload_json` must be one
/// strictly valid JSON object; its members other than `iat`, `exp` and `jti` are copied byte for
/// byte (names compared after unescaping, so `"\u0069at"` is dropped too).
///
/// # Errors
///
/// As [`encode_authjs`]; [`EncodeError::Claims`] when `payload_json` is not a valid JSON object.
pub fn encode_authjs_json<'o>(
    key: &AuthJsKey,
    payload_json: &[u8],
    now: i64,
    max_age: u32,
    rng: &mut (impl RandomSource + ?Sized),
    out: &'o mut [u8],
) -> Result<&'o str, EncodeError> {
    encode_with(
        authjs(key),
        &Source::<()>::Json(payload_json),
        Some((now, max_age)),
        rng,
        out,
    )
}

/// Encodes `claims` as a next-auth v4 session token (`dir` + `A256GCM`) into `out`, returning
/// the token.
///
/// The header is exactly `{"alg":"dir","enc":"A256GCM"}` (next-auth v4 writes no `kid`); the
/// plaintext is built as in [`encode_authjs`]; the IV is 12 random bytes.
/// [`encoded_len_nextauth_v4`] gives the exact length.
///
/// # Errors
///
/// As [`encode_authjs`]; also [`EncodeError::TooLong`] beyond A256GCM's 2^36 - 32 bytes.
pub fn encode_nextauth_v4<'o, T: Serialize + ?Sized>(
    key: &NextAuthV4Key,
    claims: &T,
    now: i64,
    max_age: u32,
    rng: &mut (impl RandomSource + ?Sized),
    out: &'o mut [u8],
) -> Result<&'o str, EncodeError> {
    encode_with(
        v4(key),
        &Source::Claims(claims),
        Some((now, max_age)),
        rng,
        out,
    )
}

/// Like [`encode_nextauth_v4`], for claims that are already JSON text (see
/// [`encode_authjs_json`]).
///
/// # Errors
///
/// As [`encode_nextauth_v4`]; [`EncodeError::Claims`] when `payload_json` is not a valid JSON
/// object.
pub fn encode_nextauth_v4_json<'o>(
    key: &NextAuthV4Key,
    payload_json: &[u8],
    now: i64,
    max_age: u32,
    rng: &mut (impl RandomSource + ?Sized),
    out: &'o mut [u8],
) -> Result<&'o str, EncodeError> {
    encode_with(
        v4(key),
        &Source::<()>::Json(payload_json),
        Some((now, max_age)),
        rng,
        out,
    )
}

/// Exact length of the token [`encode_authjs`] writes for these arguments.
///
/// # Errors
///
/// [`EncodeError::TimeOutOfRange`], [`EncodeError::Claims`] as for [`encode_authjs`];
/// [`EncodeError::TooLong`] if the length overflows.
pub fn encoded_len_authjs<T: Serialize + ?Sized>(
    claims: &T,
    now: i64,
    max_age: u32,
) -> Result<usize, EncodeError> {
    plan(
        Enc::A256CbcHs512,
        HEADER_V5_LEN,
        &Source::Claims(claims),
        Some((now, max_age)),
    )
    .map(|p| p.total)
}

/// Exact length of the token [`encode_authjs_json`] writes for these arguments.
///
/// # Errors
///
/// As [`encoded_len_authjs`].
pub fn encoded_len_authjs_json(
    payload_json: &[u8],
    now: i64,
    max_age: u32,
) -> Result<usize, EncodeError> {
    let source = Source::<()>::Json(payload_json);
    plan(
        Enc::A256CbcHs512,
        HEADER_V5_LEN,
        &source,
        Some((now, max_age)),
    )
    .map(|p| p.total)
}

/// Exact length of the token [`encode_nextauth_v4`] writes for these arguments.
///
/// # Errors
///
/// As [`encoded_len_authjs`].
pub fn encoded_len_nextauth_v4<T: Serialize + ?Sized>(
    claims: &T,
    now: i64,
    max_age: u32,
) -> Result<usize, EncodeError> {
    plan(
        Enc::A256Gcm,
        HEADER_V4.len(),
        &Source::Claims(claims),
        Some((now, max_age)),
    )
    .map(|p| p.total)
}

/// Exact length of the token [`encode_nextauth_v4_json`] writes for these arguments.
///
/// # Errors
///
/// As [`encoded_len_authjs`].
pub fn encoded_len_nextauth_v4_json(
    payload_json: &[u8],
    now: i64,
    max_age: u32,
) -> Result<usize, EncodeError> {
    let source = Source::<()>::Json(payload_json);
    plan(Enc::A256Gcm, HEADER_V4.len(), &source, Some((now, max_age))).map(|p| p.total)
}

/// Encrypts `plaintext_json` as-is into an Auth.js v5 token (same header and cipher as
/// [`encode_authjs`]), without stamping `iat`, `exp` or `jti`: for callers that stamp the
/// claims themselves (the session pipeline's `stamp_claims`). `plaintext_json` must be a
/// strictly valid JSON object; the 16-byte IV comes from `rng`. [`sealed_len_authjs`] gives the
/// exact length.
///
/// # Errors
///
/// [`EncodeError::Claims`] when `plaintext_json` is not a valid JSON object;
/// [`EncodeError::BufferTooSmall`] with the exact length needed; [`EncodeError::Random`].
pub fn seal_authjs<'o>(
    key: &AuthJsKey,
    plaintext_json: &[u8],
    rng: &mut (impl RandomSource + ?Sized),
    out: &'o mut [u8],
) -> Result<&'o str, EncodeError> {
    encode_with(
        authjs(key),
        &Source::<()>::Exact(plaintext_json),
        None,
        rng,
        out,
    )
}

/// Encrypts `plaintext_json` as-is into a next-auth v4 token (see [`seal_authjs`]).
///
/// # Errors
///
/// As [`seal_authjs`]; also [`EncodeError::TooLong`] beyond A256GCM's 2^36 - 32 bytes.
pub fn seal_nextauth_v4<'o>(
    key: &NextAuthV4Key,
    plaintext_json: &[u8],
    rng: &mut (impl RandomSource + ?Sized),
    out: &'o mut [u8],
) -> Result<&'o str, EncodeError> {
    encode_with(
        v4(key),
        &Source::<()>::Exact(plaintext_json),
        None,
        rng,
        out,
    )
}

/// [`seal_authjs`] of the plaintext `claims` serialized through the `iat`/`exp`/`jti` filter
/// with `times`, which the caller measured to be `len` bytes (`json::serialized_len` of the
/// [`WithTimes`]): the same token, draws from `rng` and errors as sealing that plaintext, without
/// writing it anywhere else first.
pub(crate) fn seal_authjs_stamped<'o, T: Serialize + ?Sized>(
    key: &AuthJsKey,
    claims: &T,
    times: Times<'_>,
    len: usize,
    rng: &mut (impl RandomSource + ?Sized),
    out: &'o mut [u8],
) -> Result<&'o str, EncodeError> {
    encode_with(
        authjs(key),
        &Source::Stamped(claims, times, len),
        None,
        rng,
        out,
    )
}

/// [`seal_nextauth_v4`] as [`seal_authjs_stamped`] is [`seal_authjs`].
pub(crate) fn seal_nextauth_v4_stamped<'o, T: Serialize + ?Sized>(
    key: &NextAuthV4Key,
    claims: &T,
    times: Times<'_>,
    len: usize,
    rng: &mut (impl RandomSource + ?Sized),
    out: &'o mut [u8],
) -> Result<&'o str, EncodeError> {
    encode_with(
        v4(key),
        &Source::Stamped(claims, times, len),
        None,
        rng,
        out,
    )
}

/// Exact length of the token [`seal_authjs`] writes for a plaintext of `plaintext_len` bytes,
/// `None` on overflow.
#[must_use]
pub fn sealed_len_authjs(plaintext_len: usize) -> Option<usize> {
    lengths(Enc::A256CbcHs512, HEADER_V5_LEN, plaintext_len).map(|p| p.total)
}

/// Exact length of the token [`seal_nextauth_v4`] writes for a plaintext of `plaintext_len`
/// bytes, `None` on overflow.
#[must_use]
pub fn sealed_len_nextauth_v4(plaintext_len: usize) -> Option<usize> {
    lengths(Enc::A256Gcm, HEADER_V4.len(), plaintext_len).map(|p| p.total)
}

/// What to encrypt with, and the `kid` to write (Auth.js v5 only).
struct Target<'k> {
    key: ContentKey<'k>,
    kid: Option<&'k str>,
}

impl Target<'_> {
    const fn enc(&self) -> Enc {
        match self.key {
            ContentKey::CbcHs512(_) => Enc::A256CbcHs512,
            ContentKey::Gcm(_) => Enc::A256Gcm,
        }
    }

    /// Writes the protected header JSON into `buf`, returning its length.
    fn header_json(&self, buf: &mut [u8; HEADER_V5_LEN]) -> usize {
        let mut sink = Sink::new(buf);
        match self.kid {
            Some(kid) => {
                sink.put(HEADER_V5_HEAD);
                sink.put(kid.as_bytes());
                sink.put(HEADER_V5_TAIL);
            }
            None => sink.put(HEADER_V4),
        }
        sink.len()
    }
}

fn authjs(key: &AuthJsKey) -> Target<'_> {
    Target {
        key: ContentKey::CbcHs512(key.cbc_hs512()),
        kid: Some(key.kid(Enc::A256CbcHs512)),
    }
}

fn v4(key: &NextAuthV4Key) -> Target<'_> {
    Target {
        key: ContentKey::Gcm(key.a256gcm()),
        kid: None,
    }
}

/// Where the plaintext's members come from.
enum Source<'a, T: ?Sized> {
    /// A value serialized through the `iat`/`exp`/`jti` filter.
    Claims(&'a T),
    /// JSON text, filtered member by member.
    Json(&'a [u8]),
    /// A complete plaintext (a JSON object), used as is: nothing filtered or stamped.
    Exact(&'a [u8]),
    /// A value serialized through the filter with the given times (not the encoder's), whose
    /// length the caller has measured.
    Stamped(&'a T, Times<'a>, usize),
}

impl<T: Serialize + ?Sized> Source<'_, T> {
    /// Exact plaintext length.
    fn len(&self, times: Times<'_>) -> Result<usize, EncodeError> {
        match self {
            Self::Claims(claims) => json::serialized_len(&WithTimes {
                claims,
                times,
                track: None,
            })
            .map_err(EncodeError::Claims),
            Self::Json(payload) => {
                let mut counter = Sink::counter();
                filter_json(payload, &times, &mut counter)?;
                Ok(counter.len())
            }
            Self::Exact(plaintext) => {
                json::validate(plaintext).map_err(EncodeError::Claims)?;
                json::object_members(plaintext).map_err(EncodeError::Claims)?;
                Ok(plaintext.len())
            }
            Self::Stamped(_, _, len) => Ok(*len),
        }
    }

    /// Writes the plaintext, which must be exactly `dst.len()` bytes.
    fn write(&self, times: Times<'_>, dst: &mut [u8]) -> Result<(), EncodeError> {
        // A length that differs from the first pass means a `Serialize` impl that is not
        // deterministic.
        let changed = EncodeError::Claims(json::Error::Unsupported);
        let expected = dst.len();
        let written = match self {
            Self::Claims(claims) => {
                let (len, depth) = json::to_slice_measured(
                    &WithTimes {
                        claims,
                        times,
                        track: None,
                    },
                    dst,
                )
                .map_err(|e| match e {
                    json::Error::BufferTooSmall { .. } => changed,
                    e => EncodeError::Claims(e),
                })?;
                // The decoders refuse a plaintext nested deeper than `json::MAX_DEPTH`: such
                // claims are refused here, not encrypted into a token nothing can read.
                if depth > json::MAX_DEPTH {
                    return Err(EncodeError::Claims(json::too_deep(
                        dst.get(..len).unwrap_or_default(),
                    )));
                }
                len
            }
            Self::Json(payload) => {
                let mut sink = Sink::new(dst);
                filter_json(payload, &times, &mut sink)?;
                if !sink.fits() {
                    return Err(changed);
                }
                sink.len()
            }
            Self::Exact(plaintext) => {
                dst.get_mut(..plaintext.len())
                    .ok_or(changed)?
                    .copy_from_slice(plaintext);
                plaintext.len()
            }
            Self::Stamped(claims, times, _) => json::to_slice(
                &WithTimes {
                    claims,
                    times: *times,
                    track: None,
                },
                dst,
            )
            .map_err(|e| match e {
                json::Error::BufferTooSmall { .. } => changed,
                e => EncodeError::Claims(e),
            })?,
        };
        if written == expected {
            Ok(())
        } else {
            Err(changed)
        }
    }
}

/// `iat` and `exp` for `now` and `max_age`, both within `0..=MAX_NUMERIC_DATE`.
fn issue_times(now: i64, max_age: u32) -> Result<(i64, i64), EncodeError> {
    let exp = now
        .checked_add(i64::from(max_age))
        .ok_or(EncodeError::TimeOutOfRange)?;
    if now < 0 || exp > MAX_NUMERIC_DATE {
        return Err(EncodeError::TimeOutOfRange);
    }
    Ok((now, exp))
}

/// The lengths of a token's parts.
#[derive(Debug, Clone, Copy)]
struct Plan {
    iat: i64,
    exp: i64,
    header_b64: usize,
    iv_b64: usize,
    plaintext: usize,
    ciphertext: usize,
    ciphertext_b64: usize,
    tag_b64: usize,
    total: usize,
}

/// The lengths of a token whose plaintext comes from `source`, stamped at `issue` =
/// `(now, max_age)` (or used as is when `None`).
fn plan<T: Serialize + ?Sized>(
    enc: Enc,
    header_json_len: usize,
    source: &Source<'_, T>,
    issue: Option<(i64, u32)>,
) -> Result<Plan, EncodeError> {
    let (iat, exp) = match issue {
        Some((now, max_age)) => issue_times(now, max_age)?,
        None => (0, 0),
    };
    let plaintext = source.len(Times {
        iat,
        exp,
        jti: JTI_PLACEHOLDER,
    })?;
    let mut plan = lengths(enc, header_json_len, plaintext).ok_or(EncodeError::TooLong)?;
    plan.iat = iat;
    plan.exp = exp;
    Ok(plan)
}

/// The lengths of a token with `plaintext` bytes of plaintext (times left at zero).
fn lengths(enc: Enc, header_json_len: usize, plaintext: usize) -> Option<Plan> {
    let header_b64 = base64url::encoded_len(header_json_len)?;
    let iv_b64 = base64url::encoded_len(enc.iv_len())?;
    let ciphertext = enc.ciphertext_len(plaintext)?;
    let ciphertext_b64 = base64url::encoded_len(ciphertext)?;
    let tag_b64 = base64url::encoded_len(enc.tag_len())?;
    // header . (empty encrypted key) . iv . ciphertext . tag
    let total = header_b64
        .checked_add(iv_b64)?
        .checked_add(ciphertext_b64)?
        .checked_add(tag_b64)?
        .checked_add(4)?;
    Some(Plan {
        iat: 0,
        exp: 0,
        header_b64,
        iv_b64,
        plaintext,
        ciphertext,
        ciphertext_b64,
        tag_b64,
        total,
    })
}

/// Splits the first `n` bytes off `rest` (`None`, leaving `rest` empty, if it is shorter).
fn take<'a>(rest: &mut &'a mut [u8], n: usize) -> Option<&'a mut [u8]> {
    let (head, tail) = core::mem::take(rest).split_at_mut_checked(n)?;
    *rest = tail;
    Some(head)
}

fn encode_with<'o, T: Serialize + ?Sized>(
    target: Target<'_>,
    source: &Source<'_, T>,
    issue: Option<(i64, u32)>,
    rng: &mut (impl RandomSource + ?Sized),
    out: &'o mut [u8],
) -> Result<&'o str, EncodeError> {
    let enc = target.enc();
    let mut header_buf = [0u8; HEADER_V5_LEN];
    let header_len = target.header_json(&mut header_buf);
    let header = header_buf.get(..header_len).unwrap_or_default();
    let p = plan(enc, header_len, source, issue)?;
    let token = out
        .get_mut(..p.total)
        .ok_or(EncodeError::BufferTooSmall { needed: p.total })?;

    let mut iv = [0u8; 16];
    let iv = iv.get_mut(..enc.iv_len()).unwrap_or_default();
    rng.fill_bytes(iv)?;
    let uuid = random_uuid(rng)?;
    // A UUID is ASCII; the fallback is never taken.
    let jti = core::str::from_utf8(&uuid).unwrap_or(JTI_PLACEHOLDER);

    // `token` is exactly `p.total` bytes, the sum of these parts, so no `take` fails.
    let too_small = EncodeError::BufferTooSmall { needed: p.total };
    let mut rest: &mut [u8] = &mut *token;
    let header_b64 = take(&mut rest, p.header_b64).ok_or(too_small)?;
    base64url::encode_exact(header, header_b64);
    take(&mut rest, 2).ok_or(too_small)?.copy_from_slice(b"..");
    base64url::encode_exact(iv, take(&mut rest, p.iv_b64).ok_or(too_small)?);
    take(&mut rest, 1).ok_or(too_small)?.copy_from_slice(b".");
    let ciphertext_b64 = take(&mut rest, p.ciphertext_b64).ok_or(too_small)?;
    take(&mut rest, 1).ok_or(too_small)?.copy_from_slice(b".");
    let tag_b64 = take(&mut rest, p.tag_b64).ok_or(too_small)?;

    // The plaintext goes at the end of the ciphertext's base64url region, is encrypted in place
    // and then encoded front to back over itself.
    let raw_start = p.ciphertext_b64.saturating_sub(p.ciphertext);
    let raw = ciphertext_b64.get_mut(raw_start..).ok_or(too_small)?;
    let times = Times {
        iat: p.iat,
        exp: p.exp,
        jti,
    };
    source.write(times, raw.get_mut(..p.plaintext).unwrap_or_default())?;

    let aad: &[u8] = header_b64;
    let mut tag = [0u8; 32];
    let too_long = |e| match e {
        EncryptError::BufferTooSmall { .. } => too_small,
        _ => EncodeError::TooLong,
    };
    let tag_len = match target.key {
        ContentKey::CbcHs512(key) => {
            let iv: &[u8; 16] = (&*iv).try_into().map_err(|_| EncodeError::TooLong)?;
            let (_, t) = key
                .encrypt_in_place(iv, aad, raw, p.plaintext)
                .map_err(too_long)?;
            tag = t;
            t.len()
        }
        ContentKey::Gcm(key) => {
            let iv: &[u8; 12] = (&*iv).try_into().map_err(|_| EncodeError::TooLong)?;
            let t = key.encrypt_in_place(iv, aad, raw).map_err(too_long)?;
            tag.get_mut(..t.len())
                .ok_or(EncodeError::TooLong)?
                .copy_from_slice(&t);
            t.len()
        }
    };
    encode_in_place(ciphertext_b64, raw_start);
    base64url::encode_exact(tag.get(..tag_len).unwrap_or_default(), tag_b64);
    super::wipe(&mut tag);

    let token: &'o [u8] = token;
    core::str::from_utf8(token).map_err(|_| EncodeError::Claims(json::Error::Unsupported))
}

/// Base64url-encodes `buf[src..]` over `buf`, front to back. `buf.len()` is the encoded length
/// of the `buf.len() - src` bytes, so `src` is at least the number of 3-byte groups: the 4
/// characters of group `k` (positions `4k..4k + 4`) never reach the unread group `k + 1`
/// (from `src + 3k + 3`), and each group is copied out before it is overwritten.
fn encode_in_place(buf: &mut [u8], src: usize) {
    let mut read = src;
    let mut write = 0;
    while read < buf.len() {
        let end = read.saturating_add(3).min(buf.len());
        let mut group = [0u8; 3];
        let n = end - read;
        let (Some(dst), Some(src)) = (group.get_mut(..n), buf.get(read..end)) else {
            return;
        };
        dst.copy_from_slice(src);
        let chars = match n {
            3 => 4,
            2 => 3,
            _ => 2,
        };
        let Some(out) = buf.get_mut(write..write + chars) else {
            return;
        };
        base64url::encode_exact(group.get(..n).unwrap_or_default(), out);
        read = end;
        write += chars;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_lengths() {
        assert_eq!(HEADER_V5_LEN, 130);
        assert_eq!(HEADER_V4.len(), 29);
    }

    #[test]
    fn in_place_encoding_matches_plain_encoding() {
        for n in 0..100usize {
            let data: std::vec::Vec<u8> = (0..n)
                .map(|i| u8::try_from((i * 37 + 11) % 256).unwrap())
                .collect();
            let enc_len = base64url::encoded_len(n).unwrap();
            let mut buf = std::vec![0u8; enc_len];
            let src = enc_len - n;
            buf[src..].copy_from_slice(&data);
            encode_in_place(&mut buf, src);
            let mut expect = std::vec![0u8; enc_len];
            let expect = base64url::encode(&data, &mut expect).unwrap();
            assert_eq!(buf, expect.as_bytes(), "n = {n}");
        }
    }

    #[test]
    fn issue_time_limits() {
        assert_eq!(issue_times(0, 0), Ok((0, 0)));
        assert_eq!(issue_times(-1, 0), Err(EncodeError::TimeOutOfRange));
        assert_eq!(
            issue_times(MAX_NUMERIC_DATE, 0),
            Ok((MAX_NUMERIC_DATE, MAX_NUMERIC_DATE))
        );
        assert_eq!(
            issue_times(MAX_NUMERIC_DATE, 1),
            Err(EncodeError::TimeOutOfRange)
        );
        assert_eq!(issue_times(i64::MAX, 1), Err(EncodeError::TimeOutOfRange));
    }
}
