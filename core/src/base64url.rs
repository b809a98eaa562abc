//! Strict, unpadded base64url (RFC 4648 §5) as JWS and JWE require it (RFC 7515 §2).
//!
//! Decoding accepts only the canonical form: the alphabet `A-Z a-z 0-9 - _`, no `=` padding, no
//! whitespace, a length that is not `1 (mod 4)`, and zero unused bits in the last character. So each
//! byte string has exactly one accepted encoding, and a token cannot be altered without changing
//! the bytes the MAC covers.
//!
//! These routines are table driven and not constant time: JWS and JWE segments (headers, payloads,
//! IVs, ciphertext, tags) are public data. Key material is never passed through them.

use core::fmt;

use crate::swar;

/// Error from [`decode`] or [`encode`].
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Base64Error {
    /// A byte outside the base64url alphabet (including `=`, `+`, `/` and whitespace).
    InvalidByte {
        /// Offset of the byte in the input.
        offset: usize,
    },
    /// The input length is `1 (mod 4)`, which no byte string encodes to.
    InvalidLength,
    /// The unused low bits of the last character are not zero (a non-canonical encoding).
    NonCanonical,
    /// The output buffer is too small.
    BufferTooSmall {
        /// Bytes the output needs.
        needed: usize,
    },
}

impl fmt::Display for Base64Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidByte { offset } => {
                write!(
                    f,
                    "byte at offset {offset} is not in the base64url alphabet"
                )
            }
            Self::InvalidLength => f.write_str("base64url length is 1 mod 4"),
            Self::NonCanonical => f.write_str("base64url has non-zero trailing bits"),
            Self::BufferTooSmall { needed } => {
                write!(f, "output buffer too small: {needed} bytes needed")
            }
        }
    }
}

impl core::error::Error for Base64Error {}

const INVALID: u8 = 0xff;

#[allow(
    clippy::cast_possible_truncation,
    reason = "i < 64 fits in u8; const context has no TryFrom"
)]
const DECODE: [u8; 256] = {
    let mut table = [INVALID; 256];
    let mut i = 0;
    while i < 64 {
        table[ENCODE[i] as usize] = i as u8;
        i += 1;
    }
    table
};

/// [`DECODE`] widened: invalid bytes map to all ones, so that any of them in a group sets bits
/// above the group's 24.
const DECODE_WIDE: [u32; 256] = {
    let mut table = [u32::MAX; 256];
    let mut i = 0;
    while i < 256 {
        if DECODE[i] != INVALID {
            table[i] = DECODE[i] as u32;
        }
        i += 1;
    }
    table
};

const ENCODE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Length of the unpadded base64url encoding of `n` bytes, or `None` on overflow.
#[must_use]
pub const fn encoded_len(n: usize) -> Option<usize> {
    let full = n / 3;
    let rest = n % 3;
    let tail = match rest {
        0 => 0,
        1 => 2,
        _ => 3,
    };
    match full.checked_mul(4) {
        Some(v) => v.checked_add(tail),
        None => None,
    }
}

/// Length of the bytes that `n` characters of unpadded base64url decode to, or `None` when no
/// input of that length is valid (`n % 4 == 1`).
#[must_use]
pub const fn decoded_len(n: usize) -> Option<usize> {
    let full = n / 4;
    match n % 4 {
        0 => Some(full * 3),
        1 => None,
        2 => Some(full * 3 + 1),
        _ => Some(full * 3 + 2),
    }
}

/// Decodes strict unpadded base64url `input` into the front of `out`.
///
/// Returns the decoded bytes (a prefix of `out`).
///
/// # Errors
///
/// [`Base64Error::InvalidLength`], [`Base64Error::InvalidByte`], [`Base64Error::NonCanonical`] for
/// input that is not canonical base64url, and [`Base64Error::BufferTooSmall`] when `out` is
/// shorter than [`decoded_len`].
pub fn decode<'o>(input: &[u8], out: &'o mut [u8]) -> Result<&'o mut [u8], Base64Error> {
    let len = decoded_len(input.len()).ok_or(Base64Error::InvalidLength)?;
    let out = match out.get_mut(..len) {
        Some(o) => o,
        None => return Err(Base64Error::BufferTooSmall { needed: len }),
    };
    if simd::decode_exact(input, out) {
        return Ok(out);
    }
    let groups = decode_groups(input, out);
    let (done_in, done_out) = (groups * 4, groups * 3);
    let (Some(tail_in), Some(tail_out)) = (input.get(done_in..), out.get_mut(done_out..)) else {
        return Err(Base64Error::InvalidLength);
    };
    let mut chunks = tail_in.chunks_exact(4);
    let mut dst = tail_out.chunks_exact_mut(3);
    if (&mut chunks).zip(&mut dst).next().is_some() {
        // `decode_groups` stopped at a full group: it holds a byte outside the alphabet.
        return Err(first_invalid(input));
    }
    let rest = chunks.remainder();
    let tail = dst.into_remainder();
    match (rest, tail) {
        ([], []) => {}
        ([s0, s1], [d0]) => {
            let a = DECODE[usize::from(*s0)];
            let b = DECODE[usize::from(*s1)];
            if (a | b) & 0xc0 != 0 {
                return Err(first_invalid(input));
            }
            if b & 0x0f != 0 {
                return Err(Base64Error::NonCanonical);
            }
            *d0 = (a << 2) | (b >> 4);
        }
        ([s0, s1, s2], [d0, d1]) => {
            let a = DECODE[usize::from(*s0)];
            let b = DECODE[usize::from(*s1)];
            let c = DECODE[usize::from(*s2)];
            if (a | b | c) & 0xc0 != 0 {
                return Err(first_invalid(input));
            }
            if c & 0x03 != 0 {
                return Err(Base64Error::NonCanonical);
            }
            *d0 = (a << 2) | (b >> 4);
            *d1 = (b << 4) | (c >> 2);
        }
        // decoded_len fixed the output length from the input length, so the remainders pair up.
        _ => return Err(Base64Error::InvalidLength),
    }
    Ok(out)
}

/// Decodes whole 4-character groups from the front of `input` into the front of `out` (3 bytes
/// each) until a group holds a byte outside the alphabet, `input` has no whole group left, or
/// `out` has no room for one; returns the number of groups decoded.
#[inline]
fn decode_groups(input: &[u8], out: &mut [u8]) -> usize {
    decode_groups_with(input, out, |_| {})
}

/// A group of four characters as 24 bits; bits above them are set when one is invalid.
#[inline(always)]
fn group(c: [u8; 4]) -> u32 {
    let [a, b, c, d] = c.map(|b| DECODE_WIDE[usize::from(b)]);
    (a << 18) | (b << 12) | (c << 6) | d
}

/// Decodes the last characters of an encoding after its whole groups (none, two or three)
/// into the front of `out`; returns the bytes written. `None` for an invalid or
/// non-canonical character, any other count (one is length `1 (mod 4)`; four is a group), or
/// no room in `out`.
#[inline]
fn decode_tail(chars: &[u8], out: &mut [u8]) -> Option<usize> {
    let value = |c: &u8| Some(DECODE[usize::from(*c)]).filter(|&v| v != INVALID);
    match (chars, out) {
        ([], _) => Some(0),
        ([s0, s1], [d0, ..]) => {
            let (a, b) = (value(s0)?, value(s1)?);
            if b & 0x0f != 0 {
                return None;
            }
            *d0 = (a << 2) | (b >> 4);
            Some(1)
        }
        ([s0, s1, s2], [d0, d1, ..]) => {
            let (a, b, c) = (value(s0)?, value(s1)?, value(s2)?);
            if c & 0x03 != 0 {
                return None;
            }
            *d0 = (a << 2) | (b >> 4);
            *d1 = (b << 4) | (c >> 2);
            Some(2)
        }
        _ => None,
    }
}

/// [`decode_groups`], calling `every` with the characters decoded so far after each 64.
#[inline(always)]
fn decode_groups_with(input: &[u8], out: &mut [u8], mut every: impl FnMut(usize)) -> usize {
    let mut i = 0;
    let mut o = 0;
    // Sixteen characters make twelve bytes, stored as two 8-byte writes (the last two bytes
    // are overwritten by the next step); the translation has no table, so the compiler can do
    // the sixteen at once with vector instructions.
    while let (Some(src), Some(dst)) = (input.get(i..i + 16), out.get_mut(o..o + 14)) {
        let Ok(src) = <&[u8; 16]>::try_from(src) else {
            break;
        };
        let mut vals = [0u8; 16];
        for (v, &c) in vals.iter_mut().zip(src) {
            *v = translate(c);
        }
        let [lo, hi] = [0, 8].map(|k| {
            let mut w = [0u8; 8];
            w.copy_from_slice(&vals[k..k + 8]);
            u64::from_le_bytes(w)
        });
        if (lo | hi) & 0xc0c0_c0c0_c0c0_c0c0 != 0 {
            break;
        }
        let (a, b) = (pack8(lo), pack8(hi));
        if let Some(d0) = dst.get_mut(..8) {
            d0.copy_from_slice(&a.to_be_bytes());
        }
        if let Some(d1) = dst.get_mut(6..14) {
            d1.copy_from_slice(&b.to_be_bytes());
        }
        i += 16;
        o += 12;
        if i % 64 == 0 {
            every(i);
        }
    }
    // Eight characters make six bytes, stored as one 8-byte write whose last two bytes the next
    // step overwrites; so this loop runs while 8 bytes of `out` are left.
    while let (Some(src), Some(dst)) = (input.get(i..i + 8), out.get_mut(o..o + 8)) {
        let Ok(&[c0, c1, c2, c3, c4, c5, c6, c7]) = <&[u8; 8]>::try_from(src) else {
            break;
        };
        let hi = group([c0, c1, c2, c3]);
        let lo = group([c4, c5, c6, c7]);
        if (hi | lo) >> 24 != 0 {
            break;
        }
        let v = (u64::from(hi) << 40) | (u64::from(lo) << 16);
        dst.copy_from_slice(&v.to_be_bytes());
        i += 8;
        o += 6;
    }
    while let (Some(src), Some(dst)) = (input.get(i..i + 4), out.get_mut(o..o + 3)) {
        let (Ok(&[c0, c1, c2, c3]), Ok(dst)) =
            (<&[u8; 4]>::try_from(src), <&mut [u8; 3]>::try_from(dst))
        else {
            break;
        };
        let v = group([c0, c1, c2, c3]);
        if v >> 24 != 0 {
            break;
        }
        let [_, x, y, z] = v.to_be_bytes();
        *dst = [x, y, z];
        i += 4;
        o += 3;
    }
    i / 4
}

/// The 6-bit value of a base64url character, or a byte with one of the top two bits set for a
/// byte outside the alphabet. Branch-free (no table), so loops of it vectorize.
#[inline(always)]
const fn translate(c: u8) -> u8 {
    let upper = c.wrapping_sub(b'A') < 26;
    let lower = c.wrapping_sub(b'a') < 26;
    let digit = c.wrapping_sub(b'0') < 10;
    let minus = c == b'-';
    let under = c == b'_';
    // Offsets from the character to its value, modulo 256.
    let offset = (upper as u8).wrapping_mul(0u8.wrapping_sub(b'A'))
        | (lower as u8).wrapping_mul(26u8.wrapping_sub(b'a'))
        | (digit as u8).wrapping_mul(52u8.wrapping_sub(b'0'))
        | (minus as u8).wrapping_mul(62u8.wrapping_sub(b'-'))
        | (under as u8).wrapping_mul(63u8.wrapping_sub(b'_'));
    let valid = upper | lower | digit | minus | under;
    c.wrapping_add(offset) | (!valid as u8).wrapping_mul(0xff)
}

/// Eight 6-bit values (little endian, first character lowest) as six bytes in the top of a
/// big-endian `u64`.
#[inline(always)]
const fn pack8(x: u64) -> u64 {
    // Pairs: first << 6 | second, in each 16-bit lane.
    let t = ((x & 0x003f_003f_003f_003f) << 6) | ((x >> 8) & 0x003f_003f_003f_003f);
    // Quads: 24 bits in each 32-bit lane.
    let u = ((t & 0x0000_0fff_0000_0fff) << 12) | ((t >> 16) & 0x0000_0fff_0000_0fff);
    ((u & 0x00ff_ffff) << 40) | ((u >> 32) << 16)
}

/// Decodes the longest prefix of `input` made of base64url characters into the front of `out`,
/// as [`decode`] would decode exactly that prefix; returns the characters read and the bytes
/// written.
///
/// `None` when [`decode`] would refuse that prefix (length `1 (mod 4)`, non-canonical last
/// character) or `out` is too small: callers then take their exact, slower path. This is the
/// one pass over a JWS or JWE segment that both finds its end (the `.`, which is outside the
/// alphabet) and decodes it.
#[must_use]
pub fn decode_prefix(input: &[u8], out: &mut [u8]) -> Option<(usize, usize)> {
    decode_prefix_with(input, out, |_| {})
}

/// [`decode_prefix`], calling `every` with the characters decoded so far at least once per
/// 64 of them (for interleaving independent work).
#[inline]
pub(crate) fn decode_prefix_with(
    input: &[u8],
    out: &mut [u8],
    every: impl FnMut(usize),
) -> Option<(usize, usize)> {
    let groups = decode_groups_with(input, out, every);
    let (mut read, written) = (groups * 4, groups * 3);
    let rest = input.get(read..)?;
    let run = rest
        .iter()
        .take(4)
        .take_while(|&&b| DECODE[usize::from(b)] != INVALID)
        .count();
    // One character (length 1 mod 4), a whole group `decode_groups` had no room for, or no
    // room for the tail: `None`.
    let tail_len = decode_tail(rest.get(..run)?, out.get_mut(written..)?)?;
    read += run;
    Some((read, written + tail_len))
}

/// The SIMD decoder (feature `simd`): used for long inputs only when it accepts them, so that
/// every result is the scalar decoder's and every error comes from the scalar decoder.
mod simd {
    /// Inputs shorter than this go to the scalar decoder.
    const MIN_LEN: usize = 64;

    /// Decodes all of `input` into `out` (exactly [`super::decoded_len`] long) if it is
    /// canonical base64url; `false` (with `out` unspecified) if it is not, it is short, or the
    /// feature is off.
    #[inline]
    pub(super) fn decode_exact(input: &[u8], out: &mut [u8]) -> bool {
        decode_exact_from(input, out, MIN_LEN)
    }

    /// [`decode_exact`] for inputs of at least `min` characters.
    #[inline]
    pub(super) fn decode_exact_from(input: &[u8], out: &mut [u8], min: usize) -> bool {
        #[cfg(feature = "simd")]
        if input.len() >= min && super::decoded_len(input.len()) == Some(out.len()) {
            return base64_simd::URL_SAFE_NO_PAD
                .decode(input, base64_simd::Out::from_slice(out))
                .is_ok();
        }
        let _ = (input, out, min);
        false
    }

    /// Encodes all of `input` into `out` (exactly [`super::encoded_len`] long); `false` (nothing
    /// written) when the input is short or the feature is off.
    #[inline]
    pub(super) fn encode_exact(input: &[u8], out: &mut [u8]) -> bool {
        #[cfg(feature = "simd")]
        if input.len() >= MIN_LEN / 4 * 3 && super::encoded_len(input.len()) == Some(out.len()) {
            // The encoding written is `out` itself.
            let _ = base64_simd::URL_SAFE_NO_PAD.encode(input, base64_simd::Out::from_slice(out));
            return true;
        }
        let _ = (input, out);
        false
    }
}

/// Decodes all of `input` (a short segment: a signature, tag or IV) into the front of `out`
/// if it is canonical base64url, four characters at a time; returns the bytes written, or
/// `None` when it is not canonical or `out` is too small (the callers' exact paths then find
/// the error). Without the long-input machinery of [`decode_prefix`], which costs more than
/// it saves below a hundred characters. With the `simd` feature, segments of 32 characters
/// and more (an HS256 signature, a JWE tag) go to the SIMD decoder when it accepts them
/// (measured 1–2% faster per HS256 decode, see BENCHMARKS.md).
pub(crate) fn decode_short(input: &[u8], out: &mut [u8]) -> Option<usize> {
    let len = decoded_len(input.len())?;
    if simd::decode_exact_from(input, out.get_mut(..len)?, 32) {
        return Some(len);
    }
    let (groups, rest) = input.as_chunks::<4>();
    let (dst, tail) = out.get_mut(..len)?.split_at_mut_checked(groups.len() * 3)?;
    // Invalid characters set bits above a group's 24; checked once at the end.
    let mut acc = 0u32;
    for (c, d) in groups.iter().zip(dst.as_chunks_mut::<3>().0) {
        let v = group(*c);
        acc |= v;
        let [_, x, y, z] = v.to_be_bytes();
        *d = [x, y, z];
    }
    (acc >> 24 == 0 && decode_tail(rest, tail)? == tail.len()).then_some(len)
}

/// Offset of the first `.` in `input` (the end of a JWS/JWE segment), eight bytes at a time.
#[cfg_attr(
    not(feature = "jwe"),
    allow(dead_code, reason = "used by the jwe module")
)]
pub(crate) fn find_dot(input: &[u8]) -> Option<usize> {
    let mut i = 0;
    while let Some(Ok(chunk)) = input.get(i..i + 8).map(<[u8; 8]>::try_from) {
        let hits = swar::eq_mask(u64::from_le_bytes(chunk), b'.');
        if hits != 0 {
            return Some(i + swar::first(hits));
        }
        i += 8;
    }
    input
        .get(i..)?
        .iter()
        .position(|&b| b == b'.')
        .map(|k| i + k)
}

/// Offset of the last `.` in `input` (the start of a JWS signature or JWE tag), eight bytes
/// at a time from the end.
pub(crate) fn find_last_dot(input: &[u8]) -> Option<usize> {
    use swar::{HIGHS, ONES};
    let mut end = input.len();
    while end >= 8 {
        let Some(Ok(bytes)) = input.get(end - 8..end).map(<[u8; 8]>::try_from) else {
            break;
        };
        let x = u64::from_le_bytes(bytes) ^ (ONES * u64::from(b'.'));
        // `swar::eq_mask` is exact only for the lowest matching byte; the highest
        // needs the carry-free form: ((x & 0x7f..) + 0x7f..) | x sets the top bit of each
        // non-zero byte and of no zero byte.
        let nonzero = ((x & !HIGHS).wrapping_add(!HIGHS) | x) & HIGHS;
        let hits = !nonzero & HIGHS;
        if hits != 0 {
            return Some(end - 8 + (7 - (hits.leading_zeros() / 8) as usize));
        }
        end -= 8;
    }
    input.get(..end)?.iter().rposition(|&b| b == b'.')
}

/// Decodes all of `input` (one JWS/JWE segment) into the front of `out` if it is canonical
/// base64url, returning the bytes written; `None` otherwise (the caller's exact path then finds
/// the error). Calls `every` as [`decode_prefix_with`] does when the scalar decoder runs.
#[inline]
pub(crate) fn decode_all_with(
    input: &[u8],
    out: &mut [u8],
    every: impl FnMut(usize),
) -> Option<usize> {
    let len = decoded_len(input.len())?;
    if simd::decode_exact(input, out.get_mut(..len)?) {
        return Some(len);
    }
    let (read, written) = decode_prefix_with(input, out, every)?;
    (read == input.len()).then_some(written)
}

/// [`decode_all_with`] without a callback, kept out of line: inlined into the JWE decoder it
/// cost firmware images a kilobyte of stack.
#[inline(never)]
#[cfg_attr(
    not(feature = "jwe"),
    allow(dead_code, reason = "used by the jwe module")
)]
pub(crate) fn decode_segment(input: &[u8], out: &mut [u8]) -> Option<usize> {
    decode_all_with(input, out, |_| {})
}

/// Checks that `input` is canonical unpadded base64url without decoding it, returning the
/// decoded length.
///
/// # Errors
///
/// As [`decode`], except `BufferTooSmall`.
pub fn validate(input: &[u8]) -> Result<usize, Base64Error> {
    let len = decoded_len(input.len()).ok_or(Base64Error::InvalidLength)?;
    if input.iter().any(|&b| DECODE[usize::from(b)] == INVALID) {
        return Err(first_invalid(input));
    }
    let last = input.last().map_or(0, |&b| DECODE[usize::from(b)]);
    let unused = match input.len() % 4 {
        2 => last & 0x0f,
        3 => last & 0x03,
        _ => 0,
    };
    if unused != 0 {
        return Err(Base64Error::NonCanonical);
    }
    Ok(len)
}

fn first_invalid(input: &[u8]) -> Base64Error {
    let offset = input
        .iter()
        .position(|&b| DECODE[usize::from(b)] == INVALID)
        .unwrap_or(0);
    Base64Error::InvalidByte { offset }
}

/// Encodes `input` as unpadded base64url into the front of `out`.
///
/// # Errors
///
/// [`Base64Error::BufferTooSmall`] when `out` is shorter than [`encoded_len`].
pub fn encode<'o>(input: &[u8], out: &'o mut [u8]) -> Result<&'o str, Base64Error> {
    let len = encoded_len(input.len()).ok_or(Base64Error::BufferTooSmall { needed: usize::MAX })?;
    let out = match out.get_mut(..len) {
        Some(o) => o,
        None => return Err(Base64Error::BufferTooSmall { needed: len }),
    };
    encode_exact(input, out);
    // Every byte written comes from the ASCII alphabet.
    core::str::from_utf8(out).map_err(|_| Base64Error::InvalidLength)
}

/// Encodes `input` into `out`, which must be exactly [`encoded_len`] bytes long; extra or
/// missing room is left untouched or not written (never a panic).
pub(crate) fn encode_exact(input: &[u8], out: &mut [u8]) {
    let mut chunks = input.chunks_exact(6);
    let mut dst = out.chunks_exact_mut(8);
    for (s, d) in (&mut chunks).zip(&mut dst) {
        if let (Ok(s), Ok(d)) = (<&[u8; 6]>::try_from(s), <&mut [u8; 8]>::try_from(d)) {
            *d = encode6(s);
        }
    }
    let (input, out) = (chunks.remainder(), dst.into_remainder());
    let mut chunks = input.chunks_exact(3);
    let mut dst = out.chunks_exact_mut(4);
    for (s, d) in (&mut chunks).zip(&mut dst) {
        if let (Ok(s), Ok(d)) = (<&[u8; 3]>::try_from(s), <&mut [u8; 4]>::try_from(d)) {
            *d = encode3(s);
        }
    }
    encode_tail(chunks.remainder(), dst.into_remainder());
}

/// Encodes `buf[src..src + n]` into `buf[dst..dst + encoded_len(n)]`, front to back, for
/// `dst <= src`: the input sits after (and may overlap) where its encoding goes, as when a JWS
/// payload serialized at the end of the token's room is encoded into place. Works in chunks
/// whose output ends before their input starts, so each chunk is a plain (SIMD when the
/// feature is on) encode of disjoint slices. `false` (nothing written) if the regions do not
/// allow it (the encoding would overtake its input, or `buf` is too short).
pub(crate) fn encode_within(buf: &mut [u8], dst: usize, src: usize, n: usize) -> bool {
    let (Some(enc), Some(src_end)) = (encoded_len(n), src.checked_add(n)) else {
        return false;
    };
    // The gap between the write and the read position shrinks by one for every 3 bytes; at
    // the end it must still hold the last chunk's output.
    let gap0 = match src.checked_sub(dst) {
        Some(g) => g,
        None => return false,
    };
    if src_end > buf.len() || dst + enc > buf.len() || gap0 < (n / 3) + 4 {
        return false;
    }
    let mut i = 0;
    while i < n {
        let rest = n - i;
        let out_at = dst + i / 3 * 4;
        let gap = src + i - out_at;
        let len = match encoded_len(rest) {
            Some(e) if e <= gap => rest,
            _ => (gap / 4 * 3).min(rest - rest % 3),
        };
        if len == 0 {
            return false;
        }
        let (left, right) = buf.split_at_mut(src + i);
        let (Some(input), Some(out)) = (
            right.get(..len),
            encoded_len(len).and_then(|e| left.get_mut(out_at..out_at + e)),
        ) else {
            return false;
        };
        if !simd::encode_exact(input, out) {
            encode_exact(input, out);
        }
        i += len;
    }
    true
}

/// Six bytes as eight characters.
#[inline(always)]
fn encode6(s: &[u8; 6]) -> [u8; 8] {
    let [a, b, c, d, e, f] = *s;
    let v = u64::from_be_bytes([a, b, c, d, e, f, 0, 0]);
    #[allow(
        clippy::cast_possible_truncation,
        reason = "masked to 6 bits before the cast"
    )]
    let at = |shift: u32| ENCODE[((v >> shift) & 63) as usize];
    [
        at(58),
        at(52),
        at(46),
        at(40),
        at(34),
        at(28),
        at(22),
        at(16),
    ]
}

/// Three bytes as four characters.
#[inline(always)]
fn encode3(s: &[u8; 3]) -> [u8; 4] {
    let v = (u32::from(s[0]) << 16) | (u32::from(s[1]) << 8) | u32::from(s[2]);
    let at = |shift: u32| ENCODE[(v >> shift) as usize & 63];
    [at(18), at(12), at(6), at(0)]
}

/// The last one or two bytes as two or three characters.
#[inline(always)]
fn encode_tail(input: &[u8], out: &mut [u8]) {
    match (input, out) {
        ([a], [d0, d1, ..]) => {
            *d0 = ENCODE[usize::from(a >> 2)];
            *d1 = ENCODE[usize::from((a & 0x03) << 4)];
        }
        ([a, b], [d0, d1, d2, ..]) => {
            *d0 = ENCODE[usize::from(a >> 2)];
            *d1 = ENCODE[usize::from(((a & 0x03) << 4) | (b >> 4))];
            *d2 = ENCODE[usize::from((b & 0x0f) << 2)];
        }
        _ => {}
    }
}

/// Encodes `buf[..n]` over itself into `buf[..encoded_len(n)]`, from the end backwards.
///
/// Going backwards, each step reads its bytes before writing its characters, and writes only
/// over bytes of steps already done (the characters of bytes `3k..` start at `4k >= 3k`). Room
/// missing at the end of `buf` leaves it unwritten (never a panic).
pub(crate) fn encode_in_place(buf: &mut [u8], n: usize) {
    let full = n / 3;
    if let (Some(tail), Some(tail_out)) = (buf.get(full * 3..n), full.checked_mul(4)) {
        let mut t = [0u8; 2];
        let len = tail.len().min(2);
        t[..len].copy_from_slice(&tail[..len]);
        if let Some(out) = buf.get_mut(tail_out..) {
            encode_tail(&t[..len], out);
        }
    }
    let mut g = full;
    while g >= 2 {
        g -= 2;
        let Some(Ok(s)) = buf.get(3 * g..3 * g + 6).map(<[u8; 6]>::try_from) else {
            return;
        };
        if let Some(Ok(d)) = buf.get_mut(4 * g..4 * g + 8).map(<&mut [u8; 8]>::try_from) {
            *d = encode6(&s);
        }
    }
    if g == 1 {
        let Some(Ok(s)) = buf.get(0..3).map(<[u8; 3]>::try_from) else {
            return;
        };
        if let Some(Ok(d)) = buf.get_mut(0..4).map(<&mut [u8; 4]>::try_from) {
            *d = encode3(&s);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The short-segment decoder agrees with the full decoder on every input: same bytes when
    /// both accept, `None` whenever `decode` refuses or the output does not fit.
    #[test]
    fn decode_short_agrees_with_decode() {
        let mut next = crate::test_rng(11);
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        for len in 0..100 {
            for _ in 0..300 {
                let input: std::vec::Vec<u8> = (0..len)
                    .map(|_| match next(40) {
                        0 => [b'.', b'=', b'+', b'/', 0x80, b' '][next(6)],
                        _ => alphabet[next(64)],
                    })
                    .collect();
                let mut full = [0u8; 80];
                let expected = decode(&input, &mut full).ok().map(|d| d.to_vec());
                for room in [80, expected.as_ref().map_or(0, std::vec::Vec::len), 3] {
                    let mut out = [0u8; 80];
                    let got = decode_short(&input, &mut out[..room]).map(|n| out[..n].to_vec());
                    let want = expected.clone().filter(|d| d.len() <= room);
                    assert_eq!(got, want, "{input:?} room {room}");
                }
            }
        }
    }

    #[test]
    fn find_dots_find_the_first_and_last_dot_at_every_offset() {
        let mut next = crate::test_rng(7);
        for len in 0..40 {
            for _ in 0..200 {
                // Bytes around `.` (0x2e) and its SWAR neighbours, with few dots.
                let input: std::vec::Vec<u8> = (0..len)
                    .map(|_| match next(8) {
                        0 => b'.',
                        1 => b'/',
                        2 => b'-',
                        3 => 0xae,
                        _ => b"abcdefghijklmnopqrstuvwxyz"[next(26)],
                    })
                    .collect();
                assert_eq!(
                    find_dot(&input),
                    input.iter().position(|&b| b == b'.'),
                    "{input:?}"
                );
                assert_eq!(
                    find_last_dot(&input),
                    input.iter().rposition(|&b| b == b'.'),
                    "{input:?}"
                );
            }
        }
    }

    fn dec(s: &str) -> Result<std::vec::Vec<u8>, Base64Error> {
        let mut buf = [0u8; 64];
        decode(s.as_bytes(), &mut buf).map(|v| v.to_vec())
    }

    /// The SIMD decoder accepts exactly what the scalar one accepts (at the lengths it is
    /// used for) and writes the same bytes; `decode_all_with` is `decode` of a whole segment.
    #[test]
    fn simd_and_scalar_decoders_agree() {
        let mut rnd = crate::test_rng(0x9e37_79b9_7f4a_7c15);
        let extra = b".=+/ \n\0\xff\x80";
        let mut simd_taken = 0;
        for round in 0..20_000 {
            let len = rnd(300);
            let mut input: std::vec::Vec<u8> = (0..len).map(|_| ENCODE[rnd(64)]).collect();
            match round % 4 {
                // A foreign byte somewhere.
                0 if len > 0 => input[rnd(len)] = extra[rnd(extra.len())],
                // Any byte at all somewhere.
                1 if len > 0 => input[rnd(len)] = u8::try_from(rnd(256)).unwrap(),
                // Valid characters only (the last one may be non-canonical).
                _ => {}
            }
            let mut want = [0u8; 300];
            let scalar = match decode(&input, &mut want) {
                Ok(v) => Ok(v.to_vec()),
                Err(e) => Err(e),
            };
            let mut out = [0u8; 300];
            let all = decode_all_with(&input, &mut out, |_| {});
            assert_eq!(
                all.map(|n| out[..n].to_vec()),
                scalar.clone().ok(),
                "{:?}",
                core::str::from_utf8(&input)
            );
            if let Some(n) = decoded_len(input.len()) {
                let mut simd_out = [0u8; 300];
                if simd::decode_exact(&input, &mut simd_out[..n]) {
                    simd_taken += 1;
                    assert_eq!(Ok(simd_out[..n].to_vec()), scalar);
                } else if cfg!(feature = "simd") && input.len() >= 64 {
                    assert!(scalar.is_err(), "{:?}", core::str::from_utf8(&input));
                }
            }
        }
        // With the feature, the SIMD decoder took a good share of the inputs.
        assert_eq!(simd_taken > 2_000, cfg!(feature = "simd"), "{simd_taken}");
    }

    #[test]
    fn encoding_within_one_buffer_matches_encode() {
        for n in 0..400usize {
            let input: std::vec::Vec<u8> = (0..n)
                .map(|i| u8::try_from(i * 89 % 256).unwrap())
                .collect();
            let mut want = [0u8; 600];
            let want = encode(&input, &mut want).unwrap().as_bytes().to_vec();
            // The smallest gap the JWS encoder leaves (a 43-character signature and a dot after
            // the payload), a few more, and gaps that are too small.
            let enc = want.len();
            for extra in [0usize, 1, 2, 3, 10, 44, 45, 100] {
                let dst = 5;
                let src = dst + enc.saturating_sub(n) + extra;
                let mut buf = std::vec![0xAAu8; src + n + 3];
                buf[src..src + n].copy_from_slice(&input);
                let ok = encode_within(&mut buf, dst, src, n);
                if ok {
                    assert_eq!(&buf[dst..dst + enc], &want[..], "{n} {extra}");
                    assert!(buf[..dst].iter().all(|&b| b == 0xAA));
                } else {
                    // Refused only when the gap is below the documented need.
                    assert!(src - dst < n / 3 + 4, "{n} {extra}");
                }
            }
        }
    }

    #[test]
    fn rfc4648_vectors_round_trip() {
        let cases: &[(&[u8], &str)] = &[
            (b"", ""),
            (b"f", "Zg"),
            (b"fo", "Zm8"),
            (b"foo", "Zm9v"),
            (b"foob", "Zm9vYg"),
            (b"fooba", "Zm9vYmE"),
            (b"foobar", "Zm9vYmFy"),
            (&[0xfb, 0xff, 0xfe], "-__-"),
        ];
        for (raw, enc) in cases {
            let mut out = [0u8; 16];
            assert_eq!(encode(raw, &mut out).unwrap(), *enc);
            assert_eq!(dec(enc).unwrap(), *raw);
            assert_eq!(encoded_len(raw.len()), Some(enc.len()));
            assert_eq!(decoded_len(enc.len()), Some(raw.len()));
        }
    }

    #[test]
    fn rejects_non_canonical_and_foreign_bytes() {
        assert_eq!(dec("Zh"), Err(Base64Error::NonCanonical));
        assert_eq!(dec("Zm9"), Err(Base64Error::NonCanonical));
        assert_eq!(dec("Z"), Err(Base64Error::InvalidLength));
        assert_eq!(dec("Zg=="), Err(Base64Error::InvalidByte { offset: 2 }));
        assert_eq!(dec("Zm+v"), Err(Base64Error::InvalidByte { offset: 2 }));
        assert_eq!(dec("Zm/v"), Err(Base64Error::InvalidByte { offset: 2 }));
        assert_eq!(dec("Zm v"), Err(Base64Error::InvalidByte { offset: 2 }));
        assert_eq!(dec("Zm9v\n"), Err(Base64Error::InvalidLength));
        assert_eq!(dec("Zm9vY*"), Err(Base64Error::InvalidByte { offset: 5 }));
        assert_eq!(dec("Z\u{e9}v"), Err(Base64Error::InvalidByte { offset: 1 }));
    }

    #[test]
    fn buffer_too_small_reports_need() {
        let mut out = [0u8; 2];
        assert_eq!(
            decode(b"Zm9v", &mut out),
            Err(Base64Error::BufferTooSmall { needed: 3 })
        );
        assert_eq!(
            encode(b"foo", &mut out),
            Err(Base64Error::BufferTooSmall { needed: 4 })
        );
    }

    #[test]
    fn decode_prefix_is_decode_of_the_alphabet_run() {
        let data: std::vec::Vec<u8> = (0..=255u8).rev().collect();
        let mut enc = [0u8; 400];
        for n in 0..60 {
            let e = encode(&data[..n], &mut enc).unwrap().as_bytes().to_vec();
            for suffix in [&b""[..], b".", b".abc", b"=", b" x"] {
                let mut input = e.clone();
                input.extend_from_slice(suffix);
                for room in [0, n / 2, n, n + 1, n + 8] {
                    let mut a = std::vec![0u8; room];
                    let mut b = std::vec![0u8; room];
                    let want = decode(&e, &mut b).ok().map(|d| (e.len(), d.to_vec()));
                    let got = decode_prefix(&input, &mut a).map(|(r, w)| (r, a[..w].to_vec()));
                    assert_eq!(got, want, "n={n} room={room} suffix={suffix:?}");
                }
            }
        }
        // Non-canonical and 1 (mod 4) runs are refused.
        let mut out = [0u8; 8];
        assert_eq!(decode_prefix(b"Zh.x", &mut out), None);
        assert_eq!(decode_prefix(b"Zm9vY.x", &mut out), None);
        assert_eq!(decode_prefix(b"Zm9v.", &mut out), Some((4, 3)));
    }

    #[test]
    fn in_place_encoding_matches_encode() {
        let data: std::vec::Vec<u8> = (0..=255u8).map(|b| b.wrapping_mul(37)).collect();
        for n in 0..100 {
            let mut want = [0u8; 200];
            let want = encode(&data[..n], &mut want).unwrap().as_bytes().to_vec();
            let mut buf = [0u8; 200];
            buf[..n].copy_from_slice(&data[..n]);
            encode_in_place(&mut buf, n);
            assert_eq!(&buf[..want.len()], &want[..], "n={n}");
            let mut exact = std::vec![0u8; want.len()];
            encode_exact(&data[..n], &mut exact);
            assert_eq!(exact, want);
        }
    }

    #[test]
    fn translate_matches_the_table() {
        for b in 0..=255u8 {
            let t = translate(b);
            if DECODE[usize::from(b)] == INVALID {
                assert_ne!(t & 0xc0, 0, "{b}");
            } else {
                assert_eq!(t, DECODE[usize::from(b)], "{b}");
            }
        }
    }

    #[test]
    fn every_foreign_byte_at_every_offset_of_a_long_input() {
        let valid = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let mut out = [0u8; 64];
        for at in 0..valid.len() {
            for b in 0..=255u8 {
                if DECODE[usize::from(b)] != INVALID {
                    continue;
                }
                let mut input = *valid;
                input[at] = b;
                assert_eq!(
                    decode(&input, &mut out),
                    Err(Base64Error::InvalidByte { offset: at })
                );
                // The run stops at the foreign byte.
                let mut short = [0u8; 64];
                let got = decode_prefix(&input, &mut short).map(|(r, w)| (r, short[..w].to_vec()));
                let want = decode(&valid[..at], &mut out)
                    .ok()
                    .map(|d| (at, d.to_vec()));
                assert_eq!(got, want, "at={at} b={b}");
            }
        }
    }

    #[test]
    fn every_length_round_trips() {
        let data: std::vec::Vec<u8> = (0..=255u8).collect();
        let mut enc = [0u8; 400];
        let mut back = [0u8; 300];
        for n in 0..data.len() {
            let e = encode(&data[..n], &mut enc).unwrap().as_bytes().to_vec();
            assert_eq!(decode(&e, &mut back).unwrap(), &data[..n]);
        }
    }

    /// `validate` refuses exactly what `decode` refuses, with the same error, for every input
    /// of two and three characters: the unused low bits of the last character are four
    /// (`AI`: value 8 sets only the highest of them) and two (`AAC`: value 2).
    #[test]
    fn validate_agrees_with_decode_on_every_short_tail() {
        assert_eq!(validate(b"AI"), Err(Base64Error::NonCanonical));
        assert_eq!(validate(b"AAC"), Err(Base64Error::NonCanonical));
        assert_eq!(validate(b"AAAAAI"), Err(Base64Error::NonCanonical));
        assert_eq!(validate(b"AAAAAAC"), Err(Base64Error::NonCanonical));
        let mut out = [0u8; 8];
        for &a in ENCODE {
            for &b in ENCODE {
                let two = [a, b];
                assert_eq!(
                    validate(&two),
                    decode(&two, &mut out).map(|d| d.len()),
                    "{:?}",
                    core::str::from_utf8(&two)
                );
                let three = [b'A', a, b];
                assert_eq!(
                    validate(&three),
                    decode(&three, &mut out).map(|d| d.len()),
                    "{:?}",
                    core::str::from_utf8(&three)
                );
            }
        }
    }
}
