//! Errors, one enum per operation: [`DecodeError`] for reading a token (JWS or JWE),
//! [`EncodeError`] for writing one, [`KeyError`] for building a key.
//!
//! Every variant has a stable snake_case [`kind`](DecodeError::kind) name, used by the CLI
//! (`error: <kind>: <message>`) and by tests. Variants carry cheap context (`exp` and `now`, the
//! bytes a buffer needs) but never key material or token contents.

use core::fmt;

use crate::base64url::Base64Error;
use crate::json;
use crate::jws::Algorithm;
use crate::rand::RandomError;

/// Which part of a compact token an error refers to.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// The protected header.
    Header,
    /// The JWS payload or the JWE plaintext.
    Payload,
    /// The JWS signature.
    Signature,
    /// The JWE encrypted-key segment.
    EncryptedKey,
    /// The JWE initialization vector.
    Iv,
    /// The JWE ciphertext.
    Ciphertext,
    /// The JWE authentication tag.
    Tag,
}

impl Part {
    /// Lower-case name of the part.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Header => "header",
            Self::Payload => "payload",
            Self::Signature => "signature",
            Self::EncryptedKey => "encrypted key",
            Self::Iv => "iv",
            Self::Ciphertext => "ciphertext",
            Self::Tag => "tag",
        }
    }
}

/// Why a token's structure was refused (the context of [`DecodeError::Malformed`]).
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Malformed {
    /// Not exactly three `.`-separated segments (JWS).
    JwsSegments,
    /// Not exactly five `.`-separated segments (JWE).
    JweSegments,
    /// A segment that must not be empty is empty (header, payload, IV, ciphertext, tag).
    EmptySegment,
    /// The JWE encrypted-key segment is not empty, which `alg: dir` requires.
    EncryptedKeyPresent,
    /// A JWE IV or tag has the wrong length for the content encryption, or an A256CBC-HS512
    /// ciphertext is not a multiple of the 16-byte block.
    BadLength,
    /// The decrypted JWE plaintext has invalid padding.
    Padding,
    /// The header has the same member twice (`alg`, `enc`, `kid` or `crit`). Only for a header
    /// that is valid JSON: otherwise [`DecodeError::BadJson`].
    DuplicateHeader,
    /// A header member has the wrong type (e.g. a non-string `kid`). Only for a header that is
    /// valid JSON: otherwise [`DecodeError::BadJson`].
    HeaderType,
}

impl Malformed {
    const fn message(self) -> &'static str {
        match self {
            Self::JwsSegments => "a JWS needs exactly three segments",
            Self::JweSegments => "a JWE needs exactly five segments",
            Self::EmptySegment => "empty segment",
            Self::EncryptedKeyPresent => "encrypted key segment must be empty with alg dir",
            Self::BadLength => "IV, tag or ciphertext has the wrong length",
            Self::Padding => "invalid padding in the decrypted plaintext",
            Self::DuplicateHeader => "duplicate header member",
            Self::HeaderType => "header member has the wrong type",
        }
    }
}

/// Error from decoding a token.
///
/// Checks run in a fixed order: size, structure, base64, header JSON, `alg`, `crit`, signature or
/// tag, payload JSON, claims. So an expired token with a bad MAC reports [`Self::BadSignature`].
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecodeError {
    /// The token is longer than the configured limit (checked before anything else).
    TooLarge {
        /// Length of the token.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The token's structure is wrong.
    Malformed(Malformed),
    /// A segment is not canonical unpadded base64url.
    BadBase64 {
        /// The segment.
        part: Part,
        /// What was wrong.
        error: Base64Error,
    },
    /// The header or payload is not a JSON object (or not valid JSON).
    BadJson {
        /// The header or the payload.
        part: Part,
        /// What was wrong.
        error: json::Error,
    },
    /// The header's `alg` is not one authcore implements (including `none`).
    UnsupportedAlg,
    /// The header's `alg` is an HMAC algorithm other than the key's, or is missing.
    AlgMismatch {
        /// The key's algorithm.
        expected: Algorithm,
        /// The header's algorithm, `None` when the header has no `alg`.
        found: Option<Algorithm>,
    },
    /// The header has a `crit` member; authcore understands no extensions.
    UnsupportedCrit,
    /// The JWS signature does not match.
    BadSignature,
    /// JWE authentication failed: wrong key or secret, wrong salt, or altered token.
    BadTag,
    /// The JWE `kid` matches none of the configured keys.
    UnknownKid,
    /// The JWE `enc` is not one this decoder accepts.
    UnsupportedEnc,
    /// The JWE header has a `zip` member; Auth.js never compresses and authcore does not
    /// inflate.
    UnsupportedZip,
    /// No decryption key was given (an empty key list): a configuration error, not a bad token.
    NoKey,
    /// The token has expired: `now >= exp + leeway`.
    Expired {
        /// The token's `exp` (rounded up to a whole second).
        exp: i64,
        /// The time of the check.
        now: i64,
    },
    /// The token is not valid yet: `now < nbf - leeway`.
    NotYetValid {
        /// The token's `nbf` (rounded up to a whole second).
        nbf: i64,
        /// The time of the check.
        now: i64,
    },
    /// A registered time claim has the wrong type or an impossible value (e.g. a string `exp`,
    /// a negative or absurd NumericDate), or a registered claim is given twice.
    InvalidClaim {
        /// The claim's name.
        claim: &'static str,
    },
    /// A claim the validation requires is absent.
    MissingClaim {
        /// The claim's name.
        claim: &'static str,
    },
    /// `aud` does not contain the expected audience.
    BadAudience,
    /// `iss` is not the expected issuer.
    BadIssuer,
    /// `sub` is not the expected subject.
    BadSubject,
    /// The payload is valid JSON but does not fit the claims type (missing field, wrong type, a
    /// string longer than its capacity).
    ClaimsMismatch(json::Error),
    /// The scratch buffer is too small.
    BufferTooSmall {
        /// Bytes the scratch buffer needs (a safe upper bound).
        needed: usize,
    },
}

impl DecodeError {
    /// The stable snake_case name of this error's kind.
    #[must_use]
    pub const fn kind(&self) -> &'static str {
        match self {
            Self::TooLarge { .. } => "too_large",
            Self::Malformed(_) => "malformed",
            Self::BadBase64 { .. } => "bad_base64",
            Self::BadJson { .. } => "bad_json",
            Self::UnsupportedAlg => "unsupported_alg",
            Self::AlgMismatch { .. } => "alg_mismatch",
            Self::UnsupportedCrit => "unsupported_crit",
            Self::BadSignature => "bad_signature",
            Self::BadTag => "bad_tag",
            Self::UnknownKid => "unknown_kid",
            Self::UnsupportedEnc => "unsupported_enc",
            Self::UnsupportedZip => "unsupported_zip",
            Self::NoKey => "no_key",
            Self::Expired { .. } => "expired",
            Self::NotYetValid { .. } => "not_yet_valid",
            Self::InvalidClaim { .. } => "invalid_claim",
            Self::MissingClaim { .. } => "missing_claim",
            Self::BadAudience => "bad_audience",
            Self::BadIssuer => "bad_issuer",
            Self::BadSubject => "bad_subject",
            Self::ClaimsMismatch(_) => "claims_mismatch",
            Self::BufferTooSmall { .. } => "buffer_too_small",
        }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLarge { len, max } => {
                write!(f, "token is {len} bytes, more than the limit of {max}")
            }
            Self::Malformed(m) => f.write_str(m.message()),
            Self::BadBase64 { part, error } => write!(f, "{}: {error}", part.name()),
            Self::BadJson { part, error } => {
                write!(f, "{} is not a JSON object: {error}", part.name())
            }
            Self::UnsupportedAlg => f.write_str("unsupported alg"),
            Self::AlgMismatch {
                expected,
                found: Some(found),
            } => write!(
                f,
                "header alg {} does not match the key's {}",
                found.name(),
                expected.name()
            ),
            Self::AlgMismatch {
                expected,
                found: None,
            } => {
                write!(f, "header has no alg (key is {})", expected.name())
            }
            Self::UnsupportedCrit => f.write_str("header has a crit member"),
            Self::BadSignature => f.write_str("signature does not match"),
            Self::BadTag => f.write_str("authentication tag does not match"),
            Self::UnknownKid => f.write_str("kid matches no configured key"),
            Self::UnsupportedEnc => f.write_str("unsupported enc"),
            Self::UnsupportedZip => f.write_str("compressed (zip) tokens are not supported"),
            Self::NoKey => f.write_str("no decryption key configured"),
            Self::Expired { exp, now } => write!(f, "token expired (exp {exp}, now {now})"),
            Self::NotYetValid { nbf, now } => {
                write!(f, "token not valid yet (nbf {nbf}, now {now})")
            }
            Self::InvalidClaim { claim } => write!(f, "claim {claim} has an invalid value"),
            Self::MissingClaim { claim } => write!(f, "required claim {claim} is missing"),
            Self::BadAudience => f.write_str("aud does not contain the expected audience"),
            Self::BadIssuer => f.write_str("iss is not the expected issuer"),
            Self::BadSubject => f.write_str("sub is not the expected subject"),
            Self::ClaimsMismatch(e) => write!(f, "claims do not fit the claims type: {e}"),
            Self::BufferTooSmall { needed } => {
                write!(f, "scratch buffer too small: {needed} bytes needed")
            }
        }
    }
}

impl core::error::Error for DecodeError {}

/// Error from encoding a token.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EncodeError {
    /// The output buffer is too small.
    BufferTooSmall {
        /// Bytes the output needs.
        needed: usize,
    },
    /// The scratch buffer of a session codec ([`TokenCodec::encode`]) is too small for the
    /// intermediate JSON.
    ///
    /// [`TokenCodec::encode`]: crate::session::TokenCodec::encode
    ScratchTooSmall {
        /// A scratch size that suffices.
        needed: usize,
    },
    /// The claims cannot be serialized as a JSON object.
    Claims(json::Error),
    /// The random source failed.
    Random(RandomError),
    /// The issue time is negative, or the expiry (`now + max_age`) is past
    /// [`MAX_NUMERIC_DATE`](crate::claims::MAX_NUMERIC_DATE): such a token would be refused on
    /// decode.
    TimeOutOfRange,
    /// The plaintext is longer than the content encryption allows (A256GCM: 2^36 - 32 bytes), or
    /// a length overflows.
    TooLong,
}

impl EncodeError {
    /// The stable snake_case name of this error's kind.
    #[must_use]
    pub const fn kind(&self) -> &'static str {
        match self {
            Self::BufferTooSmall { .. } => "buffer_too_small",
            Self::ScratchTooSmall { .. } => "scratch_too_small",
            Self::Claims(_) => "bad_claims",
            Self::Random(_) => "random_failed",
            Self::TimeOutOfRange => "time_out_of_range",
            Self::TooLong => "too_long",
        }
    }
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BufferTooSmall { needed } => {
                write!(f, "output buffer too small: {needed} bytes needed")
            }
            Self::ScratchTooSmall { needed } => {
                write!(f, "scratch buffer too small: {needed} bytes needed")
            }
            Self::Claims(e) => write!(f, "claims cannot be serialized: {e}"),
            Self::Random(e) => write!(f, "{e}"),
            Self::TimeOutOfRange => f.write_str("issue or expiry time out of range"),
            Self::TooLong => f.write_str("plaintext too long for the content encryption"),
        }
    }
}

impl core::error::Error for EncodeError {}

/// Error from building a key.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyError {
    /// The secret is shorter than the hash output (RFC 7518 §3.2).
    WeakKey {
        /// Length of the secret given.
        len: usize,
        /// The minimum length.
        min: usize,
    },
    /// The secret is empty.
    EmptySecret,
    /// A salt or name is too long for key derivation.
    SaltTooLong,
}

impl KeyError {
    /// The stable snake_case name of this error's kind.
    #[must_use]
    pub const fn kind(&self) -> &'static str {
        match self {
            Self::WeakKey { .. } => "weak_key",
            Self::EmptySecret => "empty_secret",
            Self::SaltTooLong => "salt_too_long",
        }
    }
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::WeakKey { len, min } => {
                write!(f, "secret is {len} bytes; at least {min} are required")
            }
            Self::EmptySecret => f.write_str("secret is empty"),
            Self::SaltTooLong => f.write_str("salt is too long"),
        }
    }
}

impl core::error::Error for KeyError {}

impl From<RandomError> for EncodeError {
    fn from(e: RandomError) -> Self {
        Self::Random(e)
    }
}
