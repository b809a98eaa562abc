//! The `jwt` and `session` callbacks, with Auth.js's defaults built in.

use core::fmt;

use heapless::String;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// What caused a `jwt` callback call (Auth.js's `trigger`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// First sign-in of a known user.
    SignIn,
    /// Sign-in that created the user (`isNewUser`).
    SignUp,
    /// `POST` to the session endpoint with new data (`update()`).
    Update,
    /// A plain session read (Auth.js passes no trigger).
    Session,
}

/// The signed-in user, as a provider or `authorize()` returns it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct User<'a> {
    /// `user.id`; becomes the token's `sub`.
    pub id: Option<&'a str>,
    /// Display name.
    pub name: Option<&'a str>,
    /// E-mail address.
    pub email: Option<&'a str>,
    /// Avatar URL; becomes the token's `picture`.
    pub image: Option<&'a str>,
}

/// The account a user signed in with (OAuth tokens when the provider issued them).
///
/// `Debug` never shows the tokens.
#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub struct Account<'a> {
    /// Provider id (`"google"`).
    pub provider: &'a str,
    /// `"oauth"`, `"oidc"`, `"email"`, `"credentials"`, `"webauthn"`.
    pub kind: &'a str,
    /// The user's id at the provider.
    pub provider_account_id: &'a str,
    /// OAuth access token.
    pub access_token: Option<&'a str>,
    /// OAuth refresh token.
    pub refresh_token: Option<&'a str>,
    /// Absolute access-token expiry, Unix seconds (`floor(now) + expires_in`).
    pub expires_at: Option<i64>,
    /// `token_type` of the token response.
    pub token_type: Option<&'a str>,
    /// Granted scope.
    pub scope: Option<&'a str>,
    /// OIDC id token.
    pub id_token: Option<&'a str>,
}

impl fmt::Debug for Account<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Account")
            .field("provider", &self.provider)
            .field("kind", &self.kind)
            .field("provider_account_id", &self.provider_account_id)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// Everything the `jwt` callback receives besides the token.
#[derive(Debug, Clone, Copy)]
pub struct JwtParams<'a> {
    /// Why the callback runs.
    pub trigger: Trigger,
    /// The request time, Unix seconds (callbacks have no clock either).
    pub now: i64,
    /// On sign-in: the user.
    pub user: Option<&'a User<'a>>,
    /// On sign-in: the account.
    pub account: Option<&'a Account<'a>>,
    /// On OAuth sign-in: the raw provider profile JSON.
    pub profile: Option<&'a [u8]>,
    /// On sign-in with an adapter: whether the user was just created.
    pub is_new_user: Option<bool>,
    /// On update: the `data` JSON the client sent.
    pub session: Option<&'a [u8]>,
}

/// A callback failed. On sign-in the sign-in fails; on a session read the session ends and its
/// cookies are cleared, as when an Auth.js callback throws.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallbackError {
    /// A short static reason, for logs.
    pub reason: &'static str,
}

impl fmt::Display for CallbackError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "callback failed: {}", self.reason)
    }
}

impl core::error::Error for CallbackError {}

/// The `jwt` and `session` callbacks.
///
/// Auth.js calls `jwt` on sign-in (with the user, account and profile), on every session read and
/// on update, and then `session` to turn the token into what the client sees. The provided
/// methods are Auth.js's defaults.
pub trait Callbacks {
    /// The token kept in the cookie. Use fixed-capacity fields (`heapless::String<N>`).
    type Token: Serialize + DeserializeOwned;
    /// The client-visible session, built from the token.
    type Session<'a>: Serialize
    where
        Self: 'a;

    /// The token a sign-in starts from. Auth.js: `{ name, email, picture: image, sub: id }`.
    ///
    /// # Errors
    ///
    /// [`CallbackError`] when the token cannot be built (a field too long for its capacity).
    fn initial_token(&mut self, user: &User<'_>) -> Result<Self::Token, CallbackError>;

    /// Shapes the token. Return `Ok(None)` to end the session (Auth.js v5 `return null`).
    /// Default: the token unchanged.
    ///
    /// # Errors
    ///
    /// [`CallbackError`], treated as Auth.js treats a throw.
    fn jwt(
        &mut self,
        token: Self::Token,
        params: &JwtParams<'_>,
    ) -> Result<Option<Self::Token>, CallbackError> {
        let _ = params;
        Ok(Some(token))
    }

    /// Builds the session the client sees. `expires` is the ISO 8601 expiry of the session
    /// (`now + session.maxAge`, with milliseconds and `Z`).
    ///
    /// # Errors
    ///
    /// [`CallbackError`], treated as Auth.js treats a throw.
    fn session<'a>(
        &'a mut self,
        token: &'a Self::Token,
        expires: &'a str,
    ) -> Result<Self::Session<'a>, CallbackError>;
}

/// Capacity of [`DefaultToken`]'s `error` field.
pub const ERROR_CAPACITY: usize = 32;

/// Auth.js's default token: `name`, `email`, `picture`, `sub`, plus `error` (set by the refresh
/// integration, e.g. `"RefreshTokenError"`). Strings hold up to `N` bytes.
///
/// Absent fields are omitted from the JSON (Auth.js drops `undefined`). `iat`, `exp` and `jti`
/// are stamped by the codec on every encode.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DefaultToken<const N: usize = 256> {
    /// The user's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String<N>>,
    /// The user's e-mail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String<N>>,
    /// The user's avatar URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub picture: Option<String<N>>,
    /// The user's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub: Option<String<N>>,
    /// A sticky error for the client (`"RefreshTokenError"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String<ERROR_CAPACITY>>,
}

impl<const N: usize> DefaultToken<N> {
    /// Auth.js's sign-in token for `user`.
    ///
    /// # Errors
    ///
    /// [`CallbackError`] when a field is longer than `N`.
    pub fn from_user(user: &User<'_>) -> Result<Self, CallbackError> {
        let field = |v: Option<&str>| -> Result<Option<String<N>>, CallbackError> {
            v.map(|s| {
                String::try_from(s).map_err(|_| CallbackError {
                    reason: "user field longer than the token's capacity",
                })
            })
            .transpose()
        };
        Ok(Self {
            name: field(user.name)?,
            email: field(user.email)?,
            picture: field(user.image)?,
            sub: field(user.id)?,
            error: None,
        })
    }
}

/// The user part of [`DefaultSession`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SessionUser<'a> {
    /// `token.name`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<&'a str>,
    /// `token.email`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<&'a str>,
    /// `token.picture`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<&'a str>,
}

/// Auth.js's default session: `{"user":{"name","email","image"},"expires"}`, plus `error` when
/// the token carries one (the refresh guide's `session.error`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DefaultSession<'a> {
    /// The user.
    pub user: SessionUser<'a>,
    /// ISO 8601 expiry.
    pub expires: &'a str,
    /// `token.error`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<&'a str>,
}

/// The token fields Auth.js's default session shows.
pub trait SessionFields {
    /// `name`.
    fn name(&self) -> Option<&str>;
    /// `email`.
    fn email(&self) -> Option<&str>;
    /// `picture` (the session's `user.image`).
    fn picture(&self) -> Option<&str>;
    /// `error` (the session's `error`).
    fn error(&self) -> Option<&str>;
}

/// Implements [`SessionFields`] for a token type whose `name`, `email`, `picture` and `error`
/// members are `Option<heapless::String<_>>` (the crate's token types).
macro_rules! session_fields_from_members {
    ([$($generics:tt)*] $token:ty) => {
        impl<$($generics)*> $crate::session::SessionFields for $token {
            fn name(&self) -> Option<&str> {
                self.name.as_deref()
            }
            fn email(&self) -> Option<&str> {
                self.email.as_deref()
            }
            fn picture(&self) -> Option<&str> {
                self.picture.as_deref()
            }
            fn error(&self) -> Option<&str> {
                self.error.as_deref()
            }
        }
    };
}
pub(crate) use session_fields_from_members;

session_fields_from_members!([const N: usize] DefaultToken<N>);

impl<'a> DefaultSession<'a> {
    /// The default session for `token`: `{user: {name, email, image: picture}, expires, error}`.
    #[must_use]
    pub fn from_token<T: SessionFields + ?Sized>(token: &'a T, expires: &'a str) -> Self {
        Self {
            user: SessionUser {
                name: token.name(),
                email: token.email(),
                image: token.picture(),
            },
            expires,
            error: token.error(),
        }
    }
}

/// Auth.js's default callbacks over [`DefaultToken`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DefaultCallbacks<const N: usize = 256>;

impl<const N: usize> Callbacks for DefaultCallbacks<N> {
    type Token = DefaultToken<N>;
    type Session<'a> = DefaultSession<'a>;

    fn initial_token(&mut self, user: &User<'_>) -> Result<Self::Token, CallbackError> {
        DefaultToken::from_user(user)
    }

    fn session<'a>(
        &'a mut self,
        token: &'a Self::Token,
        expires: &'a str,
    ) -> Result<Self::Session<'a>, CallbackError> {
        Ok(DefaultSession::from_token(token, expires))
    }
}
