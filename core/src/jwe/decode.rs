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
                .find(|k| kid.string_eq(k.kid(enc)))
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

/// Whether the (already validated) header has a `zip` member.
fn has_zip(header: &[u8]) -> Result<bool, DecodeError> {
    let bad_json = |error| DecodeError::BadJson {
        part: Part::Header,
        error,
    };
    for member in json::object_members(header).map_err(bad_json)? {
        let (key, _) = member.map_err(bad_json)?;
        if key.matches("zip") {
            return Ok(true);
        }
    }
    Ok(false)
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
    select: impl FnOnce(Enc, Option<&json::Value<'_>>) -> Result<ContentKey<'k>, DecodeError>,
) -> Result<Decoded<'s, T>, DecodeError> {
    let seg = split(token, options.max_token_len)?;

    // Base64url, in token order. The header and the ciphertext go to the scratch buffer.
    let header_len = decoded_len(Part::Header, seg.header)?;
    let ct_len = base64url::decoded_len(seg.ciphertext.len()).unwrap_or(0);
    let too_small = DecodeError::BufferTooSmall {
        needed: header_len.saturating_add(ct_len).saturating_add(ct_len),
    };
    let (header, rest) = scratch.split_at_mut_checked(header_len).ok_or(too_small)?;
    let header: &'s [u8] = decode_into(Part::Header, seg.header, header)?;
    let mut iv_buf = [0u8; MAX_SHORT_SEGMENT];
    let iv = decode_short(Part::Iv, seg.iv, &mut iv_buf)?;
    let ct_len = decoded_len(Part::Ciphertext, seg.ciphertext)?;
    let (ciphertext, arena) = rest.split_at_mut_checked(ct_len).ok_or(too_small)?;
    decode_into(Part::Ciphertext, seg.ciphertext, ciphertext)?;
    let mut tag_buf = [0u8; MAX_SHORT_SEGMENT];
    let tag = decode_short(Part::Tag, seg.tag, &mut tag_buf)?;

    // The protected header.
    let fields = jws::parse_header(header)?;
    if !fields.alg.is_some_and(|alg| alg.string_eq("dir")) {
        return Err(DecodeError::UnsupportedAlg);
    }
    let enc = parse_enc(fields.enc.as_ref())?;
    if fields.crit {
        return Err(DecodeError::UnsupportedCrit);
    }
    if has_zip(header)? {
        return Err(DecodeError::UnsupportedZip);
    }
    let key = select(enc, fields.kid.as_ref())?;

    // Lengths, then the tag (constant time), then decryption in place.
    let bad_length = DecodeError::Malformed(Malformed::BadLength);
    let iv = iv.filter(|iv| iv.len() == enc.iv_len()).ok_or(bad_length)?;
    let tag = tag.filter(|t| t.len() == enc.tag_len()).ok_or(bad_length)?;
    let aad = seg.header;
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
