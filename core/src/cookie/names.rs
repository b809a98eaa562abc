//! Auth.js v5 and next-auth v4 cookie names and default options.

use super::chunk::{CHUNK_SIZE_V4, CHUNK_SIZE_V5};
use super::CookieOptions;

/// Which Auth.js line's names and chunk size to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Flavor {
    /// Auth.js v5 (`@auth/core`, `next-auth@5`): `authjs.*` names, chunks of 3936.
    AuthJs,
    /// next-auth v4: `next-auth.*` names, chunks of 3933.
    NextAuthV4,
}

impl Flavor {
    /// Characters (bytes, for ASCII values) of value per session cookie chunk.
    #[must_use]
    pub const fn chunk_size(self) -> usize {
        match self {
            Self::AuthJs => CHUNK_SIZE_V5,
            Self::NextAuthV4 => CHUNK_SIZE_V4,
        }
    }
}

/// The cookies Auth.js sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CookieKind {
    /// The session token (JWE, or the database session id); chunked.
    SessionToken,
    /// The callback URL.
    CallbackUrl,
    /// The CSRF double-submit cookie (`__Host-` prefix in secure mode).
    CsrfToken,
    /// The OAuth PKCE code verifier.
    PkceCodeVerifier,
    /// The OAuth `state` check.
    State,
    /// The OIDC `nonce` check.
    Nonce,
    /// The WebAuthn challenge (v5 only).
    WebAuthnChallenge,
}

/// The cookie name Auth.js uses (AUTHJS.md §5.1), or `None` for a cookie the flavor does not
/// have (the WebAuthn challenge in v4).
///
/// Secure mode prefixes `__Host-` to the CSRF cookie and `__Secure-` to all others.
#[must_use]
pub const fn cookie_name(flavor: Flavor, kind: CookieKind, secure: bool) -> Option<&'static str> {
    use CookieKind as K;
    use Flavor::{AuthJs as V5, NextAuthV4 as V4};
    Some(match (flavor, kind, secure) {
        (V5, K::SessionToken, false) => "authjs.session-token",
        (V5, K::SessionToken, true) => "__Secure-authjs.session-token",
        (V5, K::CallbackUrl, false) => "authjs.callback-url",
        (V5, K::CallbackUrl, true) => "__Secure-authjs.callback-url",
        (V5, K::CsrfToken, false) => "authjs.csrf-token",
        (V5, K::CsrfToken, true) => "__Host-authjs.csrf-token",
        (V5, K::PkceCodeVerifier, false) => "authjs.pkce.code_verifier",
        (V5, K::PkceCodeVerifier, true) => "__Secure-authjs.pkce.code_verifier",
        (V5, K::State, false) => "authjs.state",
        (V5, K::State, true) => "__Secure-authjs.state",
        (V5, K::Nonce, false) => "authjs.nonce",
        (V5, K::Nonce, true) => "__Secure-authjs.nonce",
        (V5, K::WebAuthnChallenge, false) => "authjs.challenge",
        (V5, K::WebAuthnChallenge, true) => "__Secure-authjs.challenge",
        (V4, K::SessionToken, false) => "next-auth.session-token",
        (V4, K::SessionToken, true) => "__Secure-next-auth.session-token",
        (V4, K::CallbackUrl, false) => "next-auth.callback-url",
        (V4, K::CallbackUrl, true) => "__Secure-next-auth.callback-url",
        (V4, K::CsrfToken, false) => "next-auth.csrf-token",
        (V4, K::CsrfToken, true) => "__Host-next-auth.csrf-token",
        (V4, K::PkceCodeVerifier, false) => "next-auth.pkce.code_verifier",
        (V4, K::PkceCodeVerifier, true) => "__Secure-next-auth.pkce.code_verifier",
        (V4, K::State, false) => "next-auth.state",
        (V4, K::State, true) => "__Secure-next-auth.state",
        (V4, K::Nonce, false) => "next-auth.nonce",
        (V4, K::Nonce, true) => "__Secure-next-auth.nonce",
        (V4, K::WebAuthnChallenge, _) => return None,
    })
}

/// The session cookie name: `authjs.session-token` / `__Secure-authjs.session-token` (v5),
/// `next-auth.session-token` / `__Secure-next-auth.session-token` (v4). In v5 it is also the
/// JWE key-derivation salt.
#[must_use]
pub const fn session_cookie_name(flavor: Flavor, secure: bool) -> &'static str {
    match (flavor, secure) {
        (Flavor::AuthJs, false) => "authjs.session-token",
        (Flavor::AuthJs, true) => "__Secure-authjs.session-token",
        (Flavor::NextAuthV4, false) => "next-auth.session-token",
        (Flavor::NextAuthV4, true) => "__Secure-next-auth.session-token",
    }
}

/// The CSRF cookie name: `authjs.csrf-token` / `__Host-authjs.csrf-token` (v5),
/// `next-auth.csrf-token` / `__Host-next-auth.csrf-token` (v4).
#[must_use]
pub const fn csrf_cookie_name(flavor: Flavor, secure: bool) -> &'static str {
    match (flavor, secure) {
        (Flavor::AuthJs, false) => "authjs.csrf-token",
        (Flavor::AuthJs, true) => "__Host-authjs.csrf-token",
        (Flavor::NextAuthV4, false) => "next-auth.csrf-token",
        (Flavor::NextAuthV4, true) => "__Host-next-auth.csrf-token",
    }
}

/// The callback-URL cookie name: `authjs.callback-url` / `__Secure-authjs.callback-url`
/// (v5), `next-auth.callback-url` / `__Secure-next-auth.callback-url` (v4).
#[must_use]
pub const fn callback_url_cookie_name(flavor: Flavor, secure: bool) -> &'static str {
    match (flavor, secure) {
        (Flavor::AuthJs, false) => "authjs.callback-url",
        (Flavor::AuthJs, true) => "__Secure-authjs.callback-url",
        (Flavor::NextAuthV4, false) => "next-auth.callback-url",
        (Flavor::NextAuthV4, true) => "__Secure-next-auth.callback-url",
    }
}

/// Auth.js's default options for a cookie (AUTHJS.md §5.2, same in v4 and v5):
/// `Path=/`, `HttpOnly`, `SameSite=Lax`, `Secure` in secure mode, and `Max-Age=900` for the
/// PKCE verifier, the OAuth state and the WebAuthn challenge.
#[must_use]
pub const fn default_options(kind: CookieKind, secure: bool) -> CookieOptions<'static> {
    let options = CookieOptions::new(secure);
    match kind {
        CookieKind::PkceCodeVerifier | CookieKind::State | CookieKind::WebAuthnChallenge => {
            options.with_max_age(Some(15 * 60))
        }
        CookieKind::SessionToken
        | CookieKind::CallbackUrl
        | CookieKind::CsrfToken
        | CookieKind::Nonce => options,
    }
}
