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
    let mut chunks = input.chunks_exact(4);
    let mut dst = out.chunks_exact_mut(3);
    for (src, d) in (&mut chunks).zip(&mut dst) {
        let a = DECODE[usize::from(src[0])];
        let b = DECODE[usize::from(src[1])];
        let c = DECODE[usize::from(src[2])];
        let e = DECODE[usize::from(src[3])];
        if (a | b | c | e) & 0xc0 != 0 {
            return Err(first_invalid(input));
        }
        let v = (u32::from(a) << 18) | (u32::from(b) << 12) | (u32::from(c) << 6) | u32::from(e);
        let [_, x, y, z] = v.to_be_bytes();
        d[0] = x;
        d[1] = y;
        d[2] = z;
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
    let mut chunks = input.chunks_exact(3);
    let mut dst = out.chunks_exact_mut(4);
    for (s, d) in (&mut chunks).zip(&mut dst) {
        let v = (u32::from(s[0]) << 16) | (u32::from(s[1]) << 8) | u32::from(s[2]);
        d[0] = ENCODE[(v >> 18) as usize & 63];
        d[1] = ENCODE[(v >> 12) as usize & 63];
        d[2] = ENCODE[(v >> 6) as usize & 63];
        d[3] = ENCODE[v as usize & 63];
    }
    match (chunks.remainder(), dst.into_remainder()) {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(s: &str) -> Result<std::vec::Vec<u8>, Base64Error> {
        let mut buf = [0u8; 64];
        decode(s.as_bytes(), &mut buf).map(|v| v.to_vec())
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
    fn every_length_round_trips() {
        let data: std::vec::Vec<u8> = (0..=255u8).collect();
        let mut enc = [0u8; 400];
        let mut back = [0u8; 300];
        for n in 0..data.len() {
            let e = encode(&data[..n], &mut enc).unwrap().as_bytes().to_vec();
            assert_eq!(decode(&e, &mut back).unwrap(), &data[..n]);
        }
    }
}
