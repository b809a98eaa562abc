//! A256CBC-HS512 (RFC 7518 §5.2.5): AES-256-CBC with PKCS#7 padding, authenticated with
//! HMAC-SHA-512 truncated to 256 bits.
//!
//! The 64-byte key is MAC_KEY (first 32 bytes) || ENC_KEY (last 32 bytes). The tag is the first
//! 32 bytes of HMAC-SHA-512(MAC_KEY, AAD || IV || ciphertext || AL), AL = the AAD length in
//! bits as a 64-bit big-endian integer.

use aes::cipher::array::Array;
use aes::cipher::consts::U16;
use aes::cipher::{BlockModeDecrypt, BlockModeEncrypt, InnerIvInit, KeyInit};
use aes::Aes256;
use hmac::{Hmac, Mac};
use sha2::Sha512;

use super::{wipe, DecryptError, EncryptError};

/// An A256CBC-HS512 content-encryption key, keyed once: the HMAC-SHA-512 state for MAC_KEY and
/// the AES-256 key schedule for ENC_KEY. Operations clone the keyed HMAC state and borrow the
/// key schedule; nothing is re-keyed per call. Zeroized on drop.
#[derive(Clone)]
pub struct CbcHs512Key {
    mac: Hmac<Sha512>,
    aes: Aes256,
}

impl CbcHs512Key {
    /// Key length in bytes (MAC_KEY || ENC_KEY).
    pub const KEY_LEN: usize = 64;
    /// Initialization vector length in bytes.
    pub const IV_LEN: usize = 16;
    /// Authentication tag length in bytes.
    pub const TAG_LEN: usize = 32;
    /// AES block length in bytes.
    const BLOCK_LEN: usize = 16;
    /// HMAC-SHA-512 block length: shorter HMAC keys are zero-padded to it.
    const HMAC_BLOCK_LEN: usize = 128;

    /// Builds the key from its 64 raw bytes (MAC_KEY || ENC_KEY).
    #[must_use]
    pub fn new(key: &[u8; Self::KEY_LEN]) -> Self {
        let (mac_key, enc_key) = key.split_at(32);
        // HMAC zero-pads keys shorter than the hash block, so MAC_KEY || zeros (128 bytes) is
        // the same HMAC key; the fixed-size constructor is infallible.
        let mut padded = [0u8; Self::HMAC_BLOCK_LEN];
        padded[..32].copy_from_slice(mac_key);
        let mac = <Hmac<Sha512> as KeyInit>::new(&Array::from(padded));
        wipe(&mut padded);
        let mut enc = [0u8; 32];
        enc.copy_from_slice(enc_key);
        let aes = Aes256::new(&Array::from(enc));
        wipe(&mut enc);
        Self { mac, aes }
    }

    /// Ciphertext length for `plaintext_len` bytes of plaintext: rounded up to the next multiple
    /// of 16 with at least one byte of padding. `None` on overflow.
    #[must_use]
    pub const fn ciphertext_len(plaintext_len: usize) -> Option<usize> {
        match (plaintext_len / Self::BLOCK_LEN).checked_add(1) {
            Some(blocks) => blocks.checked_mul(Self::BLOCK_LEN),
            None => None,
        }
    }

    /// Encrypts the first `plaintext_len` bytes of `buf` in place and returns the ciphertext
    /// (a prefix of `buf`, [`ciphertext_len`](Self::ciphertext_len) bytes long) and the tag.
    ///
    /// `iv` must be unpredictable (16 random bytes per message); `aad` is the additional
    /// authenticated data (for JWE the ASCII base64url protected header).
    ///
    /// # Errors
    ///
    /// [`EncryptError::BufferTooSmall`] if `buf` is shorter than the padded ciphertext,
    /// [`EncryptError::TooLong`] if a length overflows.
    pub fn encrypt_in_place<'a>(
        &self,
        iv: &[u8; Self::IV_LEN],
        aad: &[u8],
        buf: &'a mut [u8],
        plaintext_len: usize,
    ) -> Result<(&'a [u8], [u8; Self::TAG_LEN]), EncryptError> {
        let ct_len = Self::ciphertext_len(plaintext_len).ok_or(EncryptError::TooLong)?;
        let al = aad_bits(aad).ok_or(EncryptError::TooLong)?;
        let ct = buf
            .get_mut(..ct_len)
            .ok_or(EncryptError::BufferTooSmall { needed: ct_len })?;
        // PKCS#7: 1..=16 bytes, each holding the pad length. ct_len - plaintext_len is in 1..=16.
        let pad = ct_len - plaintext_len;
        #[allow(
            clippy::cast_possible_truncation,
            reason = "pad is at most 16 (see ciphertext_len)"
        )]
        ct[plaintext_len..].fill(pad as u8);

        let (blocks, _) = Array::<u8, U16>::slice_as_chunks_mut(ct);
        cbc::Encryptor::<&Aes256>::inner_iv_init(&self.aes, &Array::from(*iv))
            .encrypt_blocks(blocks);

        let full = self.mac_over(aad, iv, ct, al);
        let mut tag = [0u8; Self::TAG_LEN];
        tag.copy_from_slice(&full[..Self::TAG_LEN]);
        Ok((ct, tag))
    }

    /// Verifies `tag` over `aad || iv || ciphertext || AL` in constant time and, only if it
    /// matches, decrypts `ciphertext` in place. Returns the plaintext (a prefix of
    /// `ciphertext`, padding removed).
    ///
    /// # Errors
    ///
    /// [`DecryptError::InvalidIvLength`], [`DecryptError::InvalidTagLength`],
    /// [`DecryptError::InvalidCiphertextLength`] (empty or not a multiple of 16) and
    /// [`DecryptError::TooLong`] for wrong lengths, checked first; then
    /// [`DecryptError::BadTag`] (nothing is decrypted); then [`DecryptError::BadPadding`] if the
    /// authentic plaintext has invalid PKCS#7 padding (the buffer then holds that plaintext).
    pub fn decrypt_in_place<'a>(
        &self,
        iv: &[u8],
        aad: &[u8],
        ciphertext: &'a mut [u8],
        tag: &[u8],
    ) -> Result<&'a mut [u8], DecryptError> {
        let iv: &[u8; Self::IV_LEN] = iv.try_into().map_err(|_| DecryptError::InvalidIvLength)?;
        if tag.len() != Self::TAG_LEN {
            return Err(DecryptError::InvalidTagLength);
        }
        if ciphertext.is_empty() || !ciphertext.len().is_multiple_of(Self::BLOCK_LEN) {
            return Err(DecryptError::InvalidCiphertextLength);
        }
        let al = aad_bits(aad).ok_or(DecryptError::TooLong)?;

        let full = self.mac_over(aad, iv, ciphertext, al);
        if !crate::ct::eq(&full[..Self::TAG_LEN], tag) {
            return Err(DecryptError::BadTag);
        }

        let (blocks, _) = Array::<u8, U16>::slice_as_chunks_mut(ciphertext);
        cbc::Decryptor::<&Aes256>::inner_iv_init(&self.aes, &Array::from(*iv))
            .decrypt_blocks(blocks);

        let pad = pkcs7_pad_len(ciphertext).ok_or(DecryptError::BadPadding)?;
        let len = ciphertext.len() - pad;
        Ok(&mut ciphertext[..len])
    }

    /// Full HMAC-SHA-512 output over `aad || iv || ciphertext || al`.
    fn mac_over(
        &self,
        aad: &[u8],
        iv: &[u8; Self::IV_LEN],
        ciphertext: &[u8],
        al: u64,
    ) -> hmac::digest::Output<Hmac<Sha512>> {
        let mut mac = self.mac.clone();
        mac.update(aad);
        mac.update(iv);
        mac.update(ciphertext);
        mac.update(&al.to_be_bytes());
        mac.finalize().into_bytes()
    }
}

impl core::fmt::Debug for CbcHs512Key {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("CbcHs512Key").finish_non_exhaustive()
    }
}

// Every field clears itself on drop: `Aes256` through the `aes/zeroize` feature, the keyed
// HMAC-SHA-512 state through `sha2/zeroize` (its two SHA-512 cores zeroize their state).
impl zeroize::ZeroizeOnDrop for CbcHs512Key {}

/// AL of RFC 7518 §5.2.2.1: the AAD length in bits. `None` if it does not fit 64 bits.
fn aad_bits(aad: &[u8]) -> Option<u64> {
    u64::try_from(aad.len()).ok()?.checked_mul(8)
}

/// Length of valid PKCS#7 padding at the end of `plaintext` (a non-empty multiple of 16), or
/// `None`. Runs over the whole last block without early exit. The plaintext is authentic here
/// (its tag was checked first), so there is no padding oracle to guard against; plain
/// arithmetic with no branch on the data in the source suffices (the compiler's output is not
/// guaranteed branch-free; at most the pad length could show, which the JSON parse that
/// follows shows anyway).
fn pkcs7_pad_len(plaintext: &[u8]) -> Option<usize> {
    let start = plaintext.len().checked_sub(16)?;
    let last_block: &[u8; 16] = plaintext.get(start..)?.try_into().ok()?;
    let pad = last_block[15];
    // valid iff 1 <= pad <= 16 and the last `pad` bytes all equal `pad`.
    let mut bad = u8::from(pad == 0) | u8::from(pad > 16);
    for (from_end, &byte) in (0u8..16).zip(last_block.iter().rev()) {
        bad |= u8::from(from_end < pad) & u8::from(byte != pad);
    }
    (bad == 0).then_some(usize::from(pad))
}

#[cfg(test)]
mod tests {
    use super::pkcs7_pad_len;

    /// The obvious early-exit reading of PKCS#7.
    fn reference(block: &[u8; 16]) -> Option<usize> {
        let pad = usize::from(block[15]);
        if pad == 0 || pad > 16 {
            return None;
        }
        block[16 - pad..]
            .iter()
            .all(|&b| usize::from(b) == pad)
            .then_some(pad)
    }

    #[test]
    fn padding_matches_the_reference_for_every_last_byte_and_every_wrong_position() {
        for last in 0..=255u8 {
            for fill in [0u8, 1, 15, 16, 17, last, last.wrapping_add(1)] {
                let mut block = [fill; 16];
                block[15] = last;
                // Every position wrong in turn, and none.
                for wrong in 0..=16 {
                    let mut b = block;
                    if let Some(x) = b.get_mut(wrong) {
                        if wrong != 15 {
                            *x ^= 0x01;
                        }
                    }
                    let mut text = [0xaau8; 32];
                    text[16..].copy_from_slice(&b);
                    assert_eq!(pkcs7_pad_len(&text), reference(&b), "{b:?}");
                }
            }
        }
        assert_eq!(pkcs7_pad_len(&[16; 15]), None);
    }
}
