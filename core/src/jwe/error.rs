//! Errors of key derivation, encryption and decryption.

use core::fmt;

/// Why a JWE key could not be derived from a secret.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeriveKeyError {
    /// The secret is empty. HKDF needs at least one byte of input key material
    /// (`@panva/hkdf`: "ikm must be at least one byte in length").
    EmptySecret,
    /// The salt (cookie name) makes the HKDF info string longer than
    /// [`MAX_INFO_LEN`](super::MAX_INFO_LEN) bytes, which `@panva/hkdf` refuses.
    SaltTooLong {
        /// Length of the given salt in bytes.
        len: usize,
        /// Longest salt accepted for this key type.
        max: usize,
    },
}

impl DeriveKeyError {
    /// Stable snake_case name of the error kind: `empty_secret` or `salt_too_long`.
    #[must_use]
    pub const fn kind(&self) -> &'static str {
        match self {
            Self::EmptySecret => "empty_secret",
            Self::SaltTooLong { .. } => "salt_too_long",
        }
    }
}

impl fmt::Display for DeriveKeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::EmptySecret => f.write_str("the secret is empty"),
            Self::SaltTooLong { len, max } => {
                write!(f, "salt of {len} bytes is longer than the maximum of {max}")
            }
        }
    }
}

impl core::error::Error for DeriveKeyError {}

/// Why a plaintext could not be encrypted.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EncryptError {
    /// The buffer cannot hold the ciphertext (or does not even hold the stated plaintext).
    BufferTooSmall {
        /// Buffer length needed, in bytes.
        needed: usize,
    },
    /// The plaintext or the additional authenticated data is longer than the algorithm allows
    /// (GCM: 2^36 - 32 bytes of plaintext) or its length overflows.
    TooLong,
}

impl EncryptError {
    /// Stable snake_case name of the error kind: `buffer_too_small` or `too_long`.
    #[must_use]
    pub const fn kind(&self) -> &'static str {
        match self {
            Self::BufferTooSmall { .. } => "buffer_too_small",
            Self::TooLong => "too_long",
        }
    }
}

impl fmt::Display for EncryptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BufferTooSmall { needed } => {
                write!(f, "buffer too small: {needed} bytes needed")
            }
            Self::TooLong => f.write_str("input too long for the algorithm"),
        }
    }
}

impl core::error::Error for EncryptError {}

/// Why a ciphertext could not be decrypted.
///
/// Length errors are reported before the tag is checked (lengths are public). Everything
/// about the content, including which key was wrong, collapses into [`BadTag`](Self::BadTag).
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecryptError {
    /// The IV does not have the algorithm's length (16 bytes CBC-HS512, 12 bytes GCM).
    InvalidIvLength,
    /// The tag does not have the algorithm's length (32 bytes CBC-HS512, 16 bytes GCM).
    InvalidTagLength,
    /// CBC-HS512 only: the ciphertext is empty or not a multiple of the 16-byte block.
    InvalidCiphertextLength,
    /// The ciphertext or the additional authenticated data is longer than the algorithm
    /// allows, or its length overflows.
    TooLong,
    /// The authentication tag does not match: wrong key, or IV, ciphertext, tag or AAD altered.
    BadTag,
    /// CBC-HS512 only: the tag is valid but the decrypted PKCS#7 padding is not. The token was
    /// made by someone holding the key, with broken padding; nothing was decrypted for an
    /// attacker to probe, since the tag is checked first.
    BadPadding,
}

impl DecryptError {
    /// Stable snake_case name of the error kind: `invalid_iv_length`, `invalid_tag_length`,
    /// `invalid_ciphertext_length`, `too_long`, `bad_tag` or `bad_padding`.
    #[must_use]
    pub const fn kind(&self) -> &'static str {
        match self {
            Self::InvalidIvLength => "invalid_iv_length",
            Self::InvalidTagLength => "invalid_tag_length",
            Self::InvalidCiphertextLength => "invalid_ciphertext_length",
            Self::TooLong => "too_long",
            Self::BadTag => "bad_tag",
            Self::BadPadding => "bad_padding",
        }
    }
}

impl fmt::Display for DecryptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::InvalidIvLength => "initialization vector has the wrong length",
            Self::InvalidTagLength => "authentication tag has the wrong length",
            Self::InvalidCiphertextLength => "ciphertext length is not a positive multiple of 16",
            Self::TooLong => "input too long for the algorithm",
            Self::BadTag => "authentication tag mismatch",
            Self::BadPadding => "invalid PKCS#7 padding",
        })
    }
}

impl core::error::Error for DecryptError {}
