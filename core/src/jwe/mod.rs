//! Auth.js / next-auth encrypted session tokens (compact JWE, `alg: dir`).
//!
//! Auth.js v5 (`@auth/core`) and next-auth v4 store the session as a compact JWE whose
//! content-encryption key is derived from the configured secret with HKDF-SHA-256.
//!
//! # Tokens
//!
//! - [`decode_authjs`] reads Auth.js v5 tokens (`A256CBC-HS512`, and the `A256GCM` tokens of
//!   `@auth/core` 0.18.1 to 0.22.x) with a list of keys for secret rotation, choosing the key
//!   exactly as Auth.js does (no `kid`: the first key only; a `kid`: the key whose thumbprint
//!   matches). [`decode_nextauth_v4`] reads next-auth v4 tokens (`A256GCM` only).
//! - Both check, in order: size, five segments with an empty encrypted-key segment, strict
//!   base64url, the header (`alg` must be `dir`; `enc`; no `crit`, no `zip`), the key, IV and
//!   tag lengths, the tag in constant time, and only then decrypt in place in the caller's
//!   scratch buffer and validate the claims as [`jws::decode`](crate::jws::decode) does (15 s
//!   leeway by default, as Auth.js). They return the same [`Decoded`] view. [`scratch_len`]
//!   sizes the scratch buffer.
//! - [`encode_authjs`] and [`encode_nextauth_v4`] write tokens byte-compatible with Auth.js and
//!   next-auth: the exact headers, a random IV, and the claims with fresh `iat`, `exp` and a
//!   random `jti` replacing any given ones, appended after the other members. The `_json`
//!   variants take the claims as JSON text; the `encoded_len_*` functions give exact lengths.
//!   [`seal_authjs`] and [`seal_nextauth_v4`] encrypt an already stamped plaintext as is.
//!
//! # Keys and ciphers
//!
//! - [`AuthJsKey`]: the v5 key. HKDF-SHA-256(secret, salt = session cookie name,
//!   info = `Auth.js Generated Encryption Key (<salt>)`), 64 bytes for A256CBC-HS512; its
//!   first 32 bytes are the A256GCM key (the same derivation with length 32). Both views and
//!   both RFC 7638 thumbprints (`kid`) are computed once, at derivation.
//! - [`NextAuthV4Key`]: the v4 key, HKDF-SHA-256(secret, empty salt,
//!   `NextAuth.js Generated Encryption Key`), 32 bytes for A256GCM; or the salted variant used
//!   for the OAuth check cookies.
//! - [`CbcHs512Key`] (A256CBC-HS512, RFC 7518 §5.2.5) and [`GcmKey`] (A256GCM), which encrypt
//!   and decrypt in place in caller buffers.
//!
//! # Guarantees
//!
//! - No heap, no panics on any input: lengths are checked and reported as errors.
//! - Keys are derived once; the AES key schedules and the keyed HMAC-SHA-512 state live in
//!   the key types, so no operation re-keys.
//! - Authentication tags are compared in constant time, and the tag is verified before any
//!   ciphertext is decrypted.
//! - `Debug` never prints key material (only the public `kid` thumbprints). Key types zeroize
//!   their key schedules and keyed HMAC states on drop (through the cipher and hash crates'
//!   `zeroize` features; copies left behind by moves are not tracked), and intermediate key
//!   bytes are zeroized as soon as they are used.
//! - After a decode error that follows decryption (a claim check, a claims type mismatch) the
//!   scratch buffer holds the authentic plaintext; a padding error wipes it.
//!
//! # Differences from Auth.js
//!
//! - `exp` is computed in 64 bits (Auth.js truncates the time to 32 bits, wrapping in 2038), and
//!   encoding refuses times outside `0..=`[`MAX_NUMERIC_DATE`](crate::claims::MAX_NUMERIC_DATE).
//! - `zip` is refused ([`DecodeError::UnsupportedZip`](crate::DecodeError::UnsupportedZip)):
//!   neither line ever compresses (jose 4 on Node would inflate a `zip: "DEF"` token).
//! - next-auth v4 hands jose a bare key, so jose accepts any `dir` content encryption usable
//!   with 32 bytes (e.g. `A128CBC-HS256`); [`decode_nextauth_v4`] accepts only `A256GCM`, the
//!   only one next-auth writes.
//! - An empty ciphertext segment is refused as malformed before any key is tried.

mod cbc_hs512;
mod decode;
mod encode;
mod error;
mod gcm;
mod kdf;
mod key;
mod kid;
mod plaintext;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod token_tests;

pub use cbc_hs512::CbcHs512Key;
pub use decode::{decode_authjs, decode_nextauth_v4, scratch_len};
pub use encode::{
    encode_authjs, encode_authjs_json, encode_nextauth_v4, encode_nextauth_v4_json,
    encoded_len_authjs, encoded_len_authjs_json, encoded_len_nextauth_v4,
    encoded_len_nextauth_v4_json, seal_authjs, seal_nextauth_v4, sealed_len_authjs,
    sealed_len_nextauth_v4, DEFAULT_MAX_AGE,
};
pub use error::{DecryptError, DeriveKeyError, EncryptError};
pub use gcm::GcmKey;
pub use kdf::{MAX_INFO_LEN, MAX_SALT_LEN_V4, MAX_SALT_LEN_V5};
pub use key::{AuthJsKey, NextAuthV4Key};
pub use kid::{KID_LEN_A256CBC_HS512, KID_LEN_A256GCM};

pub use crate::jws::{DecodeOptions, Decoded, DEFAULT_MAX_TOKEN_LEN};

pub(crate) use encode::{seal_authjs_stamped, seal_nextauth_v4_stamped};
pub(crate) use plaintext::{Times, Track, WithTimes};

/// A JWE content-encryption algorithm (`enc` header) supported by this module.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Enc {
    /// `A256CBC-HS512`: AES-256-CBC with HMAC-SHA-512/256 (RFC 7518 §5.2.5). Auth.js v5.
    A256CbcHs512,
    /// `A256GCM`: AES-256-GCM with a 96-bit IV (RFC 7518 §5.3). next-auth v4 and
    /// `@auth/core` 0.18.1 to 0.22.x.
    A256Gcm,
}

impl Enc {
    /// The `enc` header value: `"A256CBC-HS512"` or `"A256GCM"`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::A256CbcHs512 => "A256CBC-HS512",
            Self::A256Gcm => "A256GCM",
        }
    }

    /// Parses an `enc` header value (exact, case-sensitive match).
    #[must_use]
    pub fn from_name(name: &[u8]) -> Option<Self> {
        match name {
            b"A256CBC-HS512" => Some(Self::A256CbcHs512),
            b"A256GCM" => Some(Self::A256Gcm),
            _ => None,
        }
    }

    /// Length of the initialization vector in bytes (16 for CBC-HS512, 12 for GCM).
    #[must_use]
    pub const fn iv_len(self) -> usize {
        match self {
            Self::A256CbcHs512 => CbcHs512Key::IV_LEN,
            Self::A256Gcm => GcmKey::IV_LEN,
        }
    }

    /// Length of the authentication tag in bytes (32 for CBC-HS512, 16 for GCM).
    #[must_use]
    pub const fn tag_len(self) -> usize {
        match self {
            Self::A256CbcHs512 => CbcHs512Key::TAG_LEN,
            Self::A256Gcm => GcmKey::TAG_LEN,
        }
    }

    /// Ciphertext length for a plaintext of `plaintext_len` bytes: padded to the next multiple
    /// of 16 (always at least one byte of padding) for CBC-HS512, unchanged for GCM.
    /// `None` on overflow.
    #[must_use]
    pub const fn ciphertext_len(self, plaintext_len: usize) -> Option<usize> {
        match self {
            Self::A256CbcHs512 => CbcHs512Key::ciphertext_len(plaintext_len),
            Self::A256Gcm => Some(plaintext_len),
        }
    }
}

impl core::fmt::Display for Enc {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A content-encryption key chosen for a token.
#[derive(Clone, Copy)]
enum ContentKey<'k> {
    CbcHs512(&'k CbcHs512Key),
    Gcm(&'k GcmKey),
}

/// Overwrites `buf` with zeros in a way the optimizer does not remove as a dead store.
fn wipe(buf: &mut [u8]) {
    zeroize::Zeroize::zeroize(buf);
}
