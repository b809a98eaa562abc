//! Compact JWE decoding for Auth.js v5 and next-auth v4 session tokens.

use serde::Deserialize;

use super::{AuthJsKey, ContentKey, DecryptError, Enc, NextAuthV4Key};
use crate::base64url::{self, Base64Error};
use crate::error::{DecodeError, Malformed, Part};
use crate::json;
use crate::jws::{self, DecodeOptions, Decoded};

/// The longest IV or tag of the supported content encryptions (the A256CBC-HS512 tag).
const MAX_SHORT_SEGMENT: usize = 32;

/// A scratch-buffer size that always suffices for [`decode_authjs`] and
/// [`decode_nextauth_v4`] of a token of `token_len` bytes: room for the decoded header, the
/// ciphertext (decrypted in place) and an unescaping arena as large as the plaintext.
///
/// That is at most 1.5 × `token_len` (base64url decodes 4 characters to 3 bytes).
#[must_use]
pub const fn scratch_len(token_len: usize) -> usize {
    token_len.saturating_add(token_len / 2).saturating_add(2)
}

/// Decrypts and validates an Auth.js v5 (`@auth/core`) session token, deserializing its claims
/// into `T`.
///
/// `keys` are the keys for the configured secrets, newest first (Auth.js's
/// `secret: string[]`), all derived with the same salt (the session cookie name). The key is
/// chosen exactly as Auth.js does: a token without `kid` is tried with the first key only; a
/// token with a `kid` uses the key whose thumbprint for the token's `enc` equals it.
/// `A256CBC-HS512` (what Auth.js writes) and `A256GCM` (`@auth/core` 0.18.1 to 0.22.x) are
/// accepted.
///
/// `scratch` receives the decoded header, the plaintext and unescaped strings; `T`'s borrowed
/// fields point into it. [`scratch_len`] gives a size that always suffices. After a failure
/// that follows decryption (a claim check, a claims type mismatch) `scratch` still holds the
/// authentic plaintext: wipe it if that matters.
///
/// # Errors
///
/// The first failing check, in this order:
/// [`DecodeError::TooLarge`] (longer than `options.max_token_len`);
/// [`DecodeError::Malformed`] with [`Malformed::JweSegments`] (not five segments),
/// [`Malformed::EncryptedKeyPresent`], [`Malformed::EmptySegment`];
/// [`DecodeError::BadBase64`] (header, IV, ciphertext, tag in that order) or
/// [`DecodeError::BufferTooSmall`] when `scratch` cannot hold the header and ciphertext;
/// [`DecodeError::BadJson`] or [`DecodeError::Malformed`] for the header
/// ([`Malformed::DuplicateHeader`], [`Malformed::HeaderType`]);
/// [`DecodeError::UnsupportedAlg`] (`alg` missing or not `dir`);
/// [`DecodeError::UnsupportedEnc`]; [`DecodeError::UnsupportedCrit`];
/// [`DecodeError::UnsupportedZip`]; [`DecodeError::NoKey`] (empty `keys`);
/// [`DecodeError::UnknownKid`]; [`Malformed::BadLength`] (IV, tag or CBC ciphertext length);
/// [`DecodeError::BadTag`] (wrong secret or salt, altered token); [`Malformed::Padding`];
/// then the claim errors of [`jws::decode`] ([`DecodeError::BadJson`] for a plaintext that is
/// not a JSON object, [`DecodeError::Expired`], ..., [`DecodeError::ClaimsMismatch`]).
pub fn decode_authjs<'s, T: Deserialize<'s>>(
    token: &[u8],
    keys: &[AuthJsKey],
    options: &DecodeOptions<'_>,
    now: i64,
    scratch: &'s mut [u8],
) -> Result<Decoded<'s, T>, DecodeError> {
    decode_with(token, options, now, scratch, |enc, kid| {
        let first = keys.first().ok_or(DecodeError::NoKey)?;
        let key = match kid {
            None => first,
            Some(kid) => keys
                .iter()
                .find(|k| kid.is(k.kid(enc)))
                .ok_or(DecodeError::UnknownKid)?,
        };
        Ok(match enc {
            Enc::A256CbcHs512 => ContentKey::CbcHs512(key.cbc_hs512()),
            Enc::A256Gcm => ContentKey::Gcm(key.a256gcm()),
        })
    })
}

/// Decrypts and validates a next-auth v4 session token, deserializing its claims into `T`.
///
/// Only `A256GCM` is accepted (next-auth v4 writes nothing else; an Auth.js v5 token gives
/// [`DecodeError::UnsupportedEnc`]). next-auth has a single secret and ignores `kid`, and so
/// does this function. Scratch and claims work as in [`decode_authjs`].
///
/// # Errors
///
/// As [`decode_authjs`], without [`DecodeError::NoKey`] and [`DecodeError::UnknownKid`].
pub fn decode_nextauth_v4<'s, T: Deserialize<'s>>(
    token: &[u8],
    key: &NextAuthV4Key,
    options: &DecodeOptions<'_>,
    now: i64,
    scratch: &'s mut [u8],
) -> Result<Decoded<'s, T>, DecodeError> {
    decode_with(token, options, now, scratch, |enc, _kid| match enc {
        Enc::A256Gcm => Ok(ContentKey::Gcm(key.a256gcm())),
        Enc::A256CbcHs512 => Err(DecodeError::UnsupportedEnc),
    })
}

/// The five segments of a compact JWE, split and checked for emptiness.
struct Segments<'t> {
    header: &'t [u8],
    iv: &'t [u8],
    ciphertext: &'t [u8],
    tag: &'t [u8],
}

fn split(token: &[u8], max: usize) -> Result<Segments<'_>, DecodeError> {
    if token.len() > max {
        return Err(DecodeError::TooLarge {
            len: token.len(),
            max,
        });
    }
    let mut parts = token.split(|&b| b == b'.');
    let (Some(header), Some(encrypted_key), Some(iv), Some(ciphertext), Some(tag), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return Err(DecodeError::Malformed(Malformed::JweSegments));
    };
    if !encrypted_key.is_empty() {
        return Err(DecodeError::Malformed(Malformed::EncryptedKeyPresent));
    }
    if [header, iv, ciphertext, tag].iter().any(|s| s.is_empty()) {
        return Err(DecodeError::Malformed(Malformed::EmptySegment));
    }
    Ok(Segments {
        header,
        iv,
        ciphertext,
        tag,
    })
}

fn decoded_len(part: Part, segment: &[u8]) -> Result<usize, DecodeError> {
    base64url::decoded_len(segment.len()).ok_or(DecodeError::BadBase64 {
        part,
        error: Base64Error::InvalidLength,
    })
}

/// Decodes `segment` into the front of `dst` (which the caller sized with [`decoded_len`]).
fn decode_into<'b>(
    part: Part,
    segment: &[u8],
    dst: &'b mut [u8],
) -> Result<&'b mut [u8], DecodeError> {
    base64url::decode(segment, dst).map_err(|error| DecodeError::BadBase64 { part, error })
}

/// Decodes an IV or tag segment into `buf`. A segment too long for any IV or tag is still
/// checked to be canonical base64url (so base64 errors come before length errors), in
/// 4-character-aligned pieces, and gives `None`.
fn decode_short<'b>(
    part: Part,
    segment: &[u8],
    buf: &'b mut [u8; MAX_SHORT_SEGMENT],
) -> Result<Option<&'b [u8]>, DecodeError> {
    /// Characters per piece: a multiple of 4 that decodes to at most `MAX_SHORT_SEGMENT` bytes.
    const PIECE: usize = MAX_SHORT_SEGMENT / 3 * 4;
    let len = decoded_len(part, segment)?;
    if len <= MAX_SHORT_SEGMENT {
        return Ok(Some(&*decode_into(part, segment, buf)?));
    }
    for (i, piece) in segment.chunks(PIECE).enumerate() {
        base64url::decode(piece, buf).map_err(|error| DecodeError::BadBase64 {
            part,
            error: match error {
                Base64Error::InvalidByte { offset } => Base64Error::InvalidByte {
                    offset: offset.saturating_add(i.saturating_mul(PIECE)),
                },
                other => other,
            },
        })?;
    }
    Ok(None)
}

/// `enc` from the header: a string naming a supported content encryption.
fn parse_enc(enc: Option<&json::Value<'_>>) -> Result<Enc, DecodeError> {
    let enc = enc.ok_or(DecodeError::UnsupportedEnc)?;
    [Enc::A256CbcHs512, Enc::A256Gcm]
        .into_iter()
        .find(|e| enc.string_eq(e.as_str()))
        .ok_or(DecodeError::UnsupportedEnc)
}

/// The `kid` a header names: a parsed JSON string, or the escape-free text of a header taken
/// by [`plain_header`].
#[derive(Clone, Copy)]
enum Kid<'h> {
    Json(json::Value<'h>),
    Plain(&'h [u8]),
}

impl Kid<'_> {
    /// Whether the `kid` is the string `s` (after unescaping).
    fn is(&self, s: &str) -> bool {
        match self {
            Self::Json(v) => v.string_eq(s),
            Self::Plain(raw) => *raw == s.as_bytes(),
        }
    }
}

/// The start of the Auth.js v5 header, before the `kid` value.
const HEADER_V5_HEAD: &[u8] = br#"{"alg":"dir","enc":"A256CBC-HS512","kid":""#;
/// The next-auth v4 (and `@auth/core` 0.18.1 to 0.22.x) header.
const HEADER_V4: &[u8] = br#"{"alg":"dir","enc":"A256GCM"}"#;

/// The two headers authcore, Auth.js and next-auth write, byte for byte, with a `kid` of ASCII
/// bytes from 0x20 up (DEL included, as JSON allows) other than `"` and `\` (Auth.js writes
/// base64url): such a `kid` is its own JSON value. [`jws::parse_header`] accepts each with
/// `alg` `dir`, that `enc` and `kid`, no `crit` and no `zip`, so skipping it changes no result.
fn plain_header(header: &[u8]) -> Option<(Enc, Option<Kid<'_>>)> {
    if header == HEADER_V4 {
        return Some((Enc::A256Gcm, None));
    }
    let kid = header.strip_prefix(HEADER_V5_HEAD)?.strip_suffix(b"\"}")?;
    json::is_plain_text(kid).then_some((Enc::A256CbcHs512, Some(Kid::Plain(kid))))
}

/// Lengths found by [`split_decode`].
struct FastSplit {
    /// Decoded header bytes, at the front of the scratch buffer.
    header: usize,
    /// Decoded IV bytes, in the IV buffer.
    iv: usize,
    /// Decoded ciphertext bytes, right after the header.
    ciphertext: usize,
    /// Decoded tag bytes, in the tag buffer.
    tag: usize,
    /// Length of the header segment in the token (the AAD).
    header_chars: usize,
}

/// The one-pass form of [`split`] and the four segment decodes for a well-formed token: the
/// header ends at the first `.` (then the empty encrypted key's `.`), the IV at the next, the
/// tag starts after the last, and each segment must decode whole. `None` for anything else (a
/// token too large, an empty or non-canonical segment, a scratch buffer or IV/tag buffer too
/// small): the caller then runs the checks one by one for the exact error, so this changes no
/// result.
fn split_decode(
    token: &[u8],
    max: usize,
    scratch: &mut [u8],
    iv: &mut [u8; MAX_SHORT_SEGMENT],
    tag: &mut [u8; MAX_SHORT_SEGMENT],
) -> Option<FastSplit> {
    if token.len() > max {
        return None;
    }
    // The header is everything before the first `.` (found eight bytes at a time, then decoded
    // as a whole segment, with SIMD when on); then comes the empty encrypted key's `.`.
    let h_chars = base64url::find_dot(token)?;
    let header = base64url::decode_segment(token.get(..h_chars)?, scratch)?;
    if h_chars == 0 || token.get(h_chars..h_chars + 2) != Some(b"..") {
        return None;
    }
    let i_start = h_chars + 2;
    let i_chars = base64url::find_dot(token.get(i_start..)?)?;
    if i_chars == 0 {
        return None;
    }
    let iv_len = base64url::decode_short(token.get(i_start..i_start + i_chars)?, iv)?;
    let c_start = i_start + i_chars + 1;
    // The tag is the part after the last `.` (a short scan from the end); the ciphertext must
    // fill what lies between, so it has no `.`: the same segments as a forward split.
    let t_dot = base64url::find_last_dot(token)?;
    let ciphertext =
        base64url::decode_segment(token.get(c_start..t_dot)?, scratch.get_mut(header..)?)?;
    let t_start = t_dot + 1;
    if ciphertext == 0 {
        return None;
    }
    let tag_len = base64url::decode_short(token.get(t_start..)?, tag)?;
    if tag_len == 0 {
        return None;
    }
    Some(FastSplit {
        header,
        iv: iv_len,
        ciphertext,
        tag: tag_len,
        header_chars: h_chars,
    })
}

/// The decoded parts of a token: header, ciphertext, the rest of the scratch buffer, IV and
/// tag (`None` when too long for any), and the AAD (the header segment).
type Parts<'s, 'b, 't> = (
    &'s [u8],
    &'s mut [u8],
    &'s mut [u8],
    Option<&'b [u8]>,
    Option<&'b [u8]>,
    &'t [u8],
);

/// Splitting and base64 decoding one check after the other, for the exact error of a token
/// the one-pass [`split_decode`] did not take.
fn decode_step_by_step<'s, 'b, 't>(
    token: &'t [u8],
    options: &DecodeOptions<'_>,
    scratch: &'s mut [u8],
    iv_buf: &'b mut [u8; MAX_SHORT_SEGMENT],
    tag_buf: &'b mut [u8; MAX_SHORT_SEGMENT],
) -> Result<Parts<'s, 'b, 't>, DecodeError> {
    let seg = split(token, options.max_token_len)?;

    // Base64url, in token order. The header and the ciphertext go to the scratch buffer.
    let header_len = decoded_len(Part::Header, seg.header)?;
    let ct_len = base64url::decoded_len(seg.ciphertext.len()).unwrap_or(0);
    let too_small = DecodeError::BufferTooSmall {
        needed: header_len.saturating_add(ct_len).saturating_add(ct_len),
    };
    let (header, rest) = scratch.split_at_mut_checked(header_len).ok_or(too_small)?;
    let header: &'s [u8] = decode_into(Part::Header, seg.header, header)?;
    let iv = decode_short(Part::Iv, seg.iv, iv_buf)?;
    let ct_len = decoded_len(Part::Ciphertext, seg.ciphertext)?;
    let (ciphertext, arena) = rest.split_at_mut_checked(ct_len).ok_or(too_small)?;
    decode_into(Part::Ciphertext, seg.ciphertext, ciphertext)?;
    let tag = decode_short(Part::Tag, seg.tag, tag_buf)?;
    Ok((header, ciphertext, arena, iv, tag, seg.header))
}

fn map_decrypt(error: DecryptError) -> DecodeError {
    match error {
        DecryptError::BadTag => DecodeError::BadTag,
        DecryptError::BadPadding => DecodeError::Malformed(Malformed::Padding),
        // Wrong IV, tag or ciphertext length, or lengths beyond the algorithm's limits.
        _ => DecodeError::Malformed(Malformed::BadLength),
    }
}

/// The shared decoder: `select` picks the content key for the header's `enc` and `kid`.
fn decode_with<'s, 'k, T: Deserialize<'s>>(
    token: &[u8],
    options: &DecodeOptions<'_>,
    now: i64,
    scratch: &'s mut [u8],
    select: impl FnOnce(Enc, Option<Kid<'_>>) -> Result<ContentKey<'k>, DecodeError>,
) -> Result<Decoded<'s, T>, DecodeError> {
    let mut iv_buf = [0u8; MAX_SHORT_SEGMENT];
    let mut tag_buf = [0u8; MAX_SHORT_SEGMENT];
    let (header, ciphertext, arena, iv, tag, aad) = match split_decode(
        token,
        options.max_token_len,
        scratch,
        &mut iv_buf,
        &mut tag_buf,
    ) {
        Some(fast) => {
            // `split_decode` checked that the lengths fit, so the `min`s change nothing.
            let (header, rest) = scratch.split_at_mut(fast.header.min(scratch.len()));
            let (ciphertext, arena) = rest.split_at_mut(fast.ciphertext.min(rest.len()));
            let header: &'s [u8] = header;
            (
                header,
                ciphertext,
                arena,
                iv_buf.get(..fast.iv),
                tag_buf.get(..fast.tag),
                token.get(..fast.header_chars).unwrap_or_default(),
            )
        }
        None => decode_step_by_step(token, options, scratch, &mut iv_buf, &mut tag_buf)?,
    };
    let ct_len = ciphertext.len();

    // The protected header.
    let (enc, kid) = match plain_header(header) {
        Some(plain) => plain,
        None => {
            let fields = jws::parse_header(header)?;
            if !fields.alg.is_some_and(|alg| alg.string_eq("dir")) {
                return Err(DecodeError::UnsupportedAlg);
            }
            let enc = parse_enc(fields.enc.as_ref())?;
            if fields.crit {
                return Err(DecodeError::UnsupportedCrit);
            }
            if fields.zip {
                return Err(DecodeError::UnsupportedZip);
            }
            (enc, fields.kid.map(Kid::Json))
        }
    };
    let key = select(enc, kid)?;

    // Lengths, then the tag (constant time), then decryption in place.
    let bad_length = DecodeError::Malformed(Malformed::BadLength);
    let iv = iv.filter(|iv| iv.len() == enc.iv_len()).ok_or(bad_length)?;
    let tag = tag.filter(|t| t.len() == enc.tag_len()).ok_or(bad_length)?;
    let decrypted = match key {
        ContentKey::CbcHs512(k) => k.decrypt_in_place(iv, aad, &mut *ciphertext, tag),
        ContentKey::Gcm(k) => k.decrypt_in_place(iv, aad, &mut *ciphertext, tag),
    };
    let plaintext_len = match decrypted {
        Ok(plaintext) => plaintext.len(),
        Err(error) => {
            // After a padding error the buffer holds authentic plaintext: do not leave it.
            if error == DecryptError::BadPadding {
                super::wipe(ciphertext);
            }
            return Err(map_decrypt(error));
        }
    };
    let padding = ct_len.saturating_sub(plaintext_len);
    let ciphertext: &'s [u8] = ciphertext;
    let plaintext = ciphertext.get(..plaintext_len).unwrap_or_default();

    jws::finish(header, plaintext, arena, &options.validation, now).map_err(|e| match e {
        // `finish` counts the header and plaintext; the padding sits between them and the arena.
        DecodeError::BufferTooSmall { needed } => DecodeError::BufferTooSmall {
            needed: needed.saturating_add(padding),
        },
        e => e,
    })
}

#[cfg(test)]
mod tests {
    use std::string::String;
    use std::vec::Vec;

    use super::*;

    fn b64(bytes: &[u8]) -> Vec<u8> {
        let mut out = std::vec![0u8; base64url::encoded_len(bytes.len()).unwrap()];
        let n = base64url::encode(bytes, &mut out).unwrap().len();
        out.truncate(n);
        out
    }

    fn token(header: &[u8], iv: usize, ct: usize, tag: usize) -> Vec<u8> {
        let bytes = |n: usize| {
            (0..n)
                .map(|i| u8::try_from((i * 37 + 11) % 251).unwrap())
                .collect::<Vec<u8>>()
        };
        let mut t = b64(header);
        t.extend_from_slice(b"..");
        t.extend(b64(&bytes(iv)));
        t.push(b'.');
        t.extend(b64(&bytes(ct)));
        t.push(b'.');
        t.extend(b64(&bytes(tag)));
        t
    }

    type Owned = (Vec<u8>, Vec<u8>, Option<Vec<u8>>, Option<Vec<u8>>, Vec<u8>);

    fn slow(token: &[u8], max: usize, scratch_len: usize) -> Result<Owned, DecodeError> {
        let options = DecodeOptions::new().with_max_token_len(max);
        let mut scratch = std::vec![0u8; scratch_len];
        let (mut iv, mut tag) = ([0u8; MAX_SHORT_SEGMENT], [0u8; MAX_SHORT_SEGMENT]);
        let (h, c, _, i, t, aad) =
            decode_step_by_step(token, &options, &mut scratch, &mut iv, &mut tag)?;
        Ok((
            h.to_vec(),
            c.to_vec(),
            i.map(<[u8]>::to_vec),
            t.map(<[u8]>::to_vec),
            aad.to_vec(),
        ))
    }

    fn fast(token: &[u8], max: usize, scratch_len: usize) -> Option<Owned> {
        let mut scratch = std::vec![0u8; scratch_len];
        let (mut iv, mut tag) = ([0u8; MAX_SHORT_SEGMENT], [0u8; MAX_SHORT_SEGMENT]);
        let f = split_decode(token, max, &mut scratch, &mut iv, &mut tag)?;
        Some((
            scratch[..f.header].to_vec(),
            scratch[f.header..f.header + f.ciphertext].to_vec(),
            Some(iv[..f.iv].to_vec()),
            Some(tag[..f.tag].to_vec()),
            token[..f.header_chars].to_vec(),
        ))
    }

    /// Whenever the one-pass split takes a token, the step-by-step path gives the same parts.
    #[test]
    fn one_pass_split_matches_step_by_step() {
        let header = br#"{"alg":"dir","enc":"A256GCM"}"#;
        let mut tokens = Vec::new();
        for (iv, ct, tag) in [
            (16, 48, 32),
            (12, 5, 16),
            (1, 1, 1),
            (2, 3, 40),
            (33, 7, 31),
        ] {
            tokens.push(token(header, iv, ct, tag));
        }
        let mut mutated = Vec::new();
        for t in &tokens {
            for at in 0..t.len() {
                for b in [b'.', b'A', b'_', b'=', b'+', 0, 0xff] {
                    let mut m = t.clone();
                    m[at] = b;
                    mutated.push(m.clone());
                    m.insert(at, b);
                    mutated.push(m);
                }
                mutated.push(t[..at].to_vec());
                let mut m = t.clone();
                m.remove(at);
                mutated.push(m);
            }
        }
        tokens.extend(mutated);
        let mut taken = 0;
        for t in &tokens {
            for (max, scratch) in [(usize::MAX, 4096), (t.len(), 4096), (50, 4096), (4096, 40)] {
                if let Some(f) = fast(t, max, scratch) {
                    taken += 1;
                    assert_eq!(slow(t, max, scratch), Ok(f), "{t:?}");
                }
            }
        }
        assert!(taken > 100);
    }

    /// The headers the fast path skips parse to the same `enc` and `kid`, with `alg` `dir` and
    /// no `crit` or `zip`; near misses are left to the parser.
    #[test]
    fn plain_headers_parse_the_same() {
        let kids = [
            "ab-_Z09".repeat(12),
            "a b".into(),
            " !#$%&'()*+,-./:;<=>?@[]^`{|}~\u{7f}".into(),
            "".into(),
        ];
        let v4 = r#"{"alg":"dir","enc":"A256GCM"}"#;
        let mut headers: Vec<(String, &str)> = kids
            .iter()
            .map(|kid| {
                let h = std::format!(r#"{{"alg":"dir","enc":"A256CBC-HS512","kid":"{kid}"}}"#);
                (h, kid.as_str())
            })
            .collect();
        headers.push((v4.into(), ""));
        for (h, kid) in &headers {
            let (enc, k) = plain_header(h.as_bytes()).unwrap();
            let f = jws::parse_header(h.as_bytes()).unwrap();
            assert!(f.alg.unwrap().string_eq("dir") && !f.crit && !f.zip);
            assert_eq!(parse_enc(f.enc.as_ref()), Ok(enc));
            match (k, f.kid) {
                (None, None) => {}
                (Some(k), Some(v)) => {
                    assert!(k.is(kid) && Kid::Json(v).is(kid) && !k.is("x"), "{h}");
                }
                _ => panic!("{h}"),
            }
        }
        for h in [
            r#"{"alg":"dir","enc":"A256CBC-HS512","kid":"a\u0062"}"#,
            r#"{"alg":"dir","enc":"A256CBC-HS512","kid":"a\"b"}"#,
            "{\"alg\":\"dir\",\"enc\":\"A256CBC-HS512\",\"kid\":\"a\tb\"}",
            "{\"alg\":\"dir\",\"enc\":\"A256CBC-HS512\",\"kid\":\"caf\u{e9}\"}",
            r#"{"alg":"dir","enc":"A256CBC-HS512","kid":"a","x":"b"}"#,
            r#"{"alg":"dir","enc":"A256CBC-HS512","kid":"a"} "#,
            r#"{"alg":"dir","enc":"A256GCM","zip":"DEF"}"#,
            r#"{"alg":"dir","enc":"A256GCM" }"#,
            r#"{"alg":"dir","enc":"A256CBC-HS512","kid":"a","crit":[]}"#,
        ] {
            assert!(plain_header(h.as_bytes()).is_none(), "{h}");
        }
    }
}
