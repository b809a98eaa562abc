//! HKDF-SHA-256 key derivation as done by Auth.js v5 and next-auth v4.
//!
//! The info string `<label> (<salt>)` is fed to HKDF-Expand in pieces, so no buffer is built.

use hkdf::Hkdf;
use sha2::Sha256;

use super::DeriveKeyError;

/// Longest HKDF info string `@panva/hkdf` accepts, in bytes.
pub const MAX_INFO_LEN: usize = 1024;

/// Longest salt (cookie name) accepted by [`AuthJsKey::derive`](super::AuthJsKey::derive):
/// [`MAX_INFO_LEN`] minus the length of `Auth.js Generated Encryption Key ()`.
pub const MAX_SALT_LEN_V5: usize = MAX_INFO_LEN - V5_LABEL.len() - SUFFIX_OVERHEAD;

/// Longest salt accepted by [`NextAuthV4Key::derive_salted`](super::NextAuthV4Key::derive_salted):
/// [`MAX_INFO_LEN`] minus the length of `NextAuth.js Generated Encryption Key ()`.
pub const MAX_SALT_LEN_V4: usize = MAX_INFO_LEN - V4_LABEL.len() - SUFFIX_OVERHEAD;

const V5_LABEL: &[u8] = b"Auth.js Generated Encryption Key";
const V4_LABEL: &[u8] = b"NextAuth.js Generated Encryption Key";
/// `" ("` before the salt and `")"` after it.
const SUFFIX_OVERHEAD: usize = 3;
/// HKDF-Expand can produce at most 255 blocks of the hash output (32 bytes for SHA-256).
const MAX_OKM_LEN: usize = 255 * 32;

/// Auth.js v5: HKDF-SHA-256(ikm = secret, salt, info = `Auth.js Generated Encryption Key
/// (<salt>)`, 64 bytes). The A256GCM key is the first 32 bytes (HKDF-Expand prefix property).
pub(super) fn derive_v5(
    secret: &[u8],
    salt: &str,
    okm: &mut [u8; 64],
) -> Result<(), DeriveKeyError> {
    hkdf_sha256(
        secret,
        salt.as_bytes(),
        V5_LABEL,
        true,
        MAX_SALT_LEN_V5,
        okm,
    )
}

/// next-auth v4: HKDF-SHA-256(ikm = secret, salt, 32 bytes) with info
/// `NextAuth.js Generated Encryption Key`, or `... (<salt>)` when `salt` is not empty
/// (next-auth >= 4.24.5 writes `salt ? "<label> (<salt>)" : "<label>"`).
pub(super) fn derive_v4(
    secret: &[u8],
    salt: &str,
    okm: &mut [u8; 32],
) -> Result<(), DeriveKeyError> {
    let suffixed = !salt.is_empty();
    hkdf_sha256(
        secret,
        salt.as_bytes(),
        V4_LABEL,
        suffixed,
        MAX_SALT_LEN_V4,
        okm,
    )
}

fn hkdf_sha256<const N: usize>(
    secret: &[u8],
    salt: &[u8],
    label: &[u8],
    suffixed: bool,
    max_salt_len: usize,
    okm: &mut [u8; N],
) -> Result<(), DeriveKeyError> {
    const { assert!(N <= MAX_OKM_LEN) };
    if secret.is_empty() {
        return Err(DeriveKeyError::EmptySecret);
    }
    if salt.len() > max_salt_len {
        return Err(DeriveKeyError::SaltTooLong {
            len: salt.len(),
            max: max_salt_len,
        });
    }
    // An empty salt is the same as HashLen zero bytes (RFC 5869 §2.2: HMAC pads the key).
    let hkdf = Hkdf::<Sha256>::new(Some(salt), secret);
    let info: [&[u8]; 4] = if suffixed {
        [label, b" (", salt, b")"]
    } else {
        [label, b"", b"", b""]
    };
    // HKDF-Expand fails only for outputs longer than 255 * HashLen, which the const assertion
    // above rules out for every N this function is instantiated with.
    let _ = hkdf.expand_multi_info(&info, okm);
    Ok(())
}
