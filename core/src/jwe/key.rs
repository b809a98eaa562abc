//! Keys derived from an Auth.js / next-auth secret.

use super::kid::{thumbprint_sha256, thumbprint_sha512, Kid};
use super::{kdf, wipe, CbcHs512Key, DeriveKeyError, Enc, GcmKey};
use super::{KID_LEN_A256CBC_HS512, KID_LEN_A256GCM};

/// An Auth.js v5 (`@auth/core`) session-token key for one secret and one salt.
///
/// Derived once with HKDF-SHA-256(ikm = secret, salt = session cookie name,
/// info = `Auth.js Generated Encryption Key (<salt>)`), 64 bytes. It holds both views Auth.js
/// decrypts with: the A256CBC-HS512 key (all 64 bytes) and the A256GCM key (the first 32
/// bytes, which is what the same derivation with length 32 yields), and the `kid` of each
/// (RFC 7638 thumbprints, SHA-512 and SHA-256).
///
/// For secret rotation keep one `AuthJsKey` per secret, newest first, like Auth.js's
/// `secret: string[]`.
#[derive(Clone)]
pub struct AuthJsKey {
    cbc_hs512: CbcHs512Key,
    a256gcm: GcmKey,
    kid_cbc_hs512: Kid<KID_LEN_A256CBC_HS512>,
    kid_a256gcm: Kid<KID_LEN_A256GCM>,
}

impl AuthJsKey {
    /// Derives the key for `secret` (the UTF-8 bytes of `AUTH_SECRET`) and `salt` (the session
    /// cookie name, e.g. `authjs.session-token` or `__Secure-authjs.session-token`).
    ///
    /// # Errors
    ///
    /// [`DeriveKeyError::EmptySecret`] for an empty secret, [`DeriveKeyError::SaltTooLong`]
    /// for a salt longer than [`MAX_SALT_LEN_V5`](super::MAX_SALT_LEN_V5) bytes.
    pub fn derive(secret: &[u8], salt: &str) -> Result<Self, DeriveKeyError> {
        let mut okm = [0u8; 64];
        kdf::derive_v5(secret, salt, &mut okm)?;
        let key = Self::from_okm(&okm);
        wipe(&mut okm);
        Ok(key)
    }

    fn from_okm(okm: &[u8; 64]) -> Self {
        let mut gcm = [0u8; 32];
        gcm.copy_from_slice(&okm[..32]);
        let key = Self {
            cbc_hs512: CbcHs512Key::new(okm),
            a256gcm: GcmKey::new(&gcm),
            kid_cbc_hs512: thumbprint_sha512(okm),
            kid_a256gcm: thumbprint_sha256(&gcm),
        };
        wipe(&mut gcm);
        key
    }

    /// The `kid` of the key for `enc`: the SHA-512 thumbprint (86 characters) for
    /// A256CBC-HS512, the SHA-256 thumbprint (43 characters) for A256GCM.
    #[must_use]
    pub fn kid(&self, enc: Enc) -> &str {
        match enc {
            Enc::A256CbcHs512 => self.kid_cbc_hs512.as_str(),
            Enc::A256Gcm => self.kid_a256gcm.as_str(),
        }
    }

    /// The A256CBC-HS512 key (what Auth.js v5 encrypts with).
    #[must_use]
    pub fn cbc_hs512(&self) -> &CbcHs512Key {
        &self.cbc_hs512
    }

    /// The A256GCM key (tokens from `@auth/core` 0.18.1 to 0.22.x).
    #[must_use]
    pub fn a256gcm(&self) -> &GcmKey {
        &self.a256gcm
    }
}

impl core::fmt::Debug for AuthJsKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // The kids are public (they travel in token headers); the key material is not printed.
        f.debug_struct("AuthJsKey")
            .field("kid_cbc_hs512", &self.kid_cbc_hs512)
            .field("kid_a256gcm", &self.kid_a256gcm)
            .finish_non_exhaustive()
    }
}

// Both views clear themselves on drop; the kids are public.
impl zeroize::ZeroizeOnDrop for AuthJsKey {}

/// A next-auth v4 key (A256GCM, 32 bytes) for one secret.
///
/// The session token uses HKDF-SHA-256(ikm = secret, empty salt,
/// info = `NextAuth.js Generated Encryption Key`) ([`derive`](Self::derive)); since 4.24.5 the
/// OAuth check cookies (state, PKCE, nonce) use their cookie name as salt and
/// `NextAuth.js Generated Encryption Key (<salt>)` as info ([`derive_salted`](Self::derive_salted)).
/// v4 tokens carry no `kid`.
#[derive(Clone)]
pub struct NextAuthV4Key {
    a256gcm: GcmKey,
}

impl NextAuthV4Key {
    /// Derives the session-token key for `secret` (the UTF-8 bytes of `NEXTAUTH_SECRET`).
    ///
    /// # Errors
    ///
    /// [`DeriveKeyError::EmptySecret`] for an empty secret.
    pub fn derive(secret: &[u8]) -> Result<Self, DeriveKeyError> {
        Self::derive_salted(secret, "")
    }

    /// Derives the key for `secret` with `salt` (a check cookie's name, e.g.
    /// `next-auth.state`). An empty salt gives the session-token key, as in next-auth.
    ///
    /// # Errors
    ///
    /// [`DeriveKeyError::EmptySecret`] for an empty secret, [`DeriveKeyError::SaltTooLong`]
    /// for a salt longer than [`MAX_SALT_LEN_V4`](super::MAX_SALT_LEN_V4) bytes.
    pub fn derive_salted(secret: &[u8], salt: &str) -> Result<Self, DeriveKeyError> {
        let mut okm = [0u8; 32];
        kdf::derive_v4(secret, salt, &mut okm)?;
        let key = Self {
            a256gcm: GcmKey::new(&okm),
        };
        wipe(&mut okm);
        Ok(key)
    }

    /// The A256GCM key.
    #[must_use]
    pub fn a256gcm(&self) -> &GcmKey {
        &self.a256gcm
    }
}

impl zeroize::ZeroizeOnDrop for NextAuthV4Key {}

impl core::fmt::Debug for NextAuthV4Key {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("NextAuthV4Key").finish_non_exhaustive()
    }
}
