//! RFC 7638 JWK thumbprints of symmetric keys, as Auth.js computes its `kid` header.
//!
//! The thumbprint of an `oct` key is the digest of exactly `{"k":"<base64url(key)>","kty":"oct"}`
//! (members in lexicographic order, no whitespace); jose uses `SHA-<key bits>`, i.e. SHA-512 for
//! the 64-byte A256CBC-HS512 key and SHA-256 for the 32-byte A256GCM key.

use base64ct::{Base64UrlUnpadded, Encoding};
use sha2::{Digest, Sha256, Sha512};

use super::wipe;

/// Length of the `kid` of an A256CBC-HS512 key: base64url of a SHA-512 digest (86 characters).
pub const KID_LEN_A256CBC_HS512: usize = 86;
/// Length of the `kid` of an A256GCM key: base64url of a SHA-256 digest (43 characters).
pub const KID_LEN_A256GCM: usize = 43;

/// base64url length of a 64-byte key.
const K_LEN_64: usize = 86;
/// base64url length of a 32-byte key.
const K_LEN_32: usize = 43;

/// A key thumbprint: `N` base64url characters in a fixed array.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) struct Kid<const N: usize>([u8; N]);

impl<const N: usize> Kid<N> {
    /// The thumbprint as text.
    pub(super) fn as_str(&self) -> &str {
        // Only base64url output (ASCII) is ever stored, so this never falls back.
        core::str::from_utf8(&self.0).unwrap_or("")
    }
}

impl<const N: usize> core::fmt::Debug for Kid<N> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        core::fmt::Debug::fmt(self.as_str(), f)
    }
}

/// The kid of a 64-byte A256CBC-HS512 key (SHA-512 thumbprint).
pub(super) fn thumbprint_sha512(key: &[u8; 64]) -> Kid<KID_LEN_A256CBC_HS512> {
    let mut k = [0u8; K_LEN_64];
    let digest = thumbprint::<Sha512>(key, &mut k);
    wipe(&mut k);
    let mut kid = [0u8; KID_LEN_A256CBC_HS512];
    encode_exact(&digest, &mut kid);
    Kid(kid)
}

/// The kid of a 32-byte A256GCM key (SHA-256 thumbprint).
pub(super) fn thumbprint_sha256(key: &[u8; 32]) -> Kid<KID_LEN_A256GCM> {
    let mut k = [0u8; K_LEN_32];
    let digest = thumbprint::<Sha256>(key, &mut k);
    wipe(&mut k);
    let mut kid = [0u8; KID_LEN_A256GCM];
    encode_exact(&digest, &mut kid);
    Kid(kid)
}

/// Digest of `{"k":"<base64url(key)>","kty":"oct"}`, using `k_buf` (exactly the base64url
/// length of `key`) for the encoded key.
fn thumbprint<D: Digest>(key: &[u8], k_buf: &mut [u8]) -> sha2::digest::Output<D> {
    encode_exact(key, k_buf);
    D::new()
        .chain_update(b"{\"k\":\"")
        .chain_update(&*k_buf)
        .chain_update(b"\",\"kty\":\"oct\"}")
        .finalize()
}

/// Constant-time base64url (no padding) of `src` into `dst`, whose length is exactly the
/// encoded length; every caller passes fixed sizes that the unit tests pin down.
fn encode_exact(src: &[u8], dst: &mut [u8]) {
    debug_assert_eq!(Base64UrlUnpadded::encoded_len(src), dst.len());
    // Fails only if `dst` is too short; the lengths are constants (see the callers).
    let _ = Base64UrlUnpadded::encode(src, dst);
}
