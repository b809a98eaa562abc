//! A256GCM (RFC 7518 §5.3): AES-256-GCM with a 96-bit IV and a 128-bit tag.

use aes::cipher::array::Array;
use aes_gcm::aead::AeadInOut;
use aes_gcm::{Aes256Gcm, KeyInit};

use super::{DecryptError, EncryptError};

/// Longest GCM plaintext/ciphertext in bytes (NIST SP 800-38D: 2^39 - 256 bits).
const P_MAX: u64 = (1 << 36) - 32;
/// Longest GCM additional authenticated data in bytes (2^64 - 1 bits).
const A_MAX: u64 = (1 << 61) - 1;

/// An A256GCM content-encryption key: the AES-256 key schedule and the GHASH key, built once.
/// Zeroized on drop.
#[derive(Clone)]
pub struct GcmKey {
    cipher: Aes256Gcm,
}

impl GcmKey {
    /// Key length in bytes.
    pub const KEY_LEN: usize = 32;
    /// Initialization vector length in bytes.
    pub const IV_LEN: usize = 12;
    /// Authentication tag length in bytes.
    pub const TAG_LEN: usize = 16;

    /// Builds the key from its 32 raw bytes.
    #[must_use]
    pub fn new(key: &[u8; Self::KEY_LEN]) -> Self {
        Self {
            cipher: Aes256Gcm::new(&Array::from(*key)),
        }
    }

    /// Encrypts `buf` in place (the ciphertext has the plaintext's length) and returns the tag.
    ///
    /// `iv` must never repeat for the same key (12 random bytes per message); `aad` is the
    /// additional authenticated data (for JWE the ASCII base64url protected header).
    ///
    /// # Errors
    ///
    /// [`EncryptError::TooLong`] if `buf` is longer than 2^36 - 32 bytes or `aad` longer than
    /// 2^61 - 1 bytes.
    pub fn encrypt_in_place(
        &self,
        iv: &[u8; Self::IV_LEN],
        aad: &[u8],
        buf: &mut [u8],
    ) -> Result<[u8; Self::TAG_LEN], EncryptError> {
        if !lengths_ok(buf, aad) {
            return Err(EncryptError::TooLong);
        }
        let tag = self
            .cipher
            .encrypt_inout_detached(&Array::from(*iv), aad, buf.into())
            .map_err(|_| EncryptError::TooLong)?;
        Ok(tag.into())
    }

    /// Verifies `tag` in constant time and, only if it matches, decrypts `ciphertext` in place.
    /// Returns the plaintext (all of `ciphertext`).
    ///
    /// # Errors
    ///
    /// [`DecryptError::InvalidIvLength`], [`DecryptError::InvalidTagLength`] and
    /// [`DecryptError::TooLong`] for wrong lengths, checked first; then
    /// [`DecryptError::BadTag`] (the buffer is left unchanged).
    pub fn decrypt_in_place<'a>(
        &self,
        iv: &[u8],
        aad: &[u8],
        ciphertext: &'a mut [u8],
        tag: &[u8],
    ) -> Result<&'a mut [u8], DecryptError> {
        let iv = Array::slice_as_array(iv).ok_or(DecryptError::InvalidIvLength)?;
        let tag = Array::slice_as_array(tag).ok_or(DecryptError::InvalidTagLength)?;
        if !lengths_ok(ciphertext, aad) {
            return Err(DecryptError::TooLong);
        }
        // With the lengths checked, the only remaining failure is a tag mismatch.
        self.cipher
            .decrypt_inout_detached(iv, aad, (&mut *ciphertext).into(), tag)
            .map_err(|_| DecryptError::BadTag)?;
        Ok(ciphertext)
    }
}

impl core::fmt::Debug for GcmKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("GcmKey").finish_non_exhaustive()
    }
}

// `Aes256Gcm` clears its key schedule and GHASH key on drop (the `aes-gcm/zeroize` feature).
impl zeroize::ZeroizeOnDrop for GcmKey {}

fn lengths_ok(text: &[u8], aad: &[u8]) -> bool {
    let fits = |len: usize, max: u64| u64::try_from(len).is_ok_and(|len| len <= max);
    fits(text.len(), P_MAX) && fits(aad.len(), A_MAX)
}
