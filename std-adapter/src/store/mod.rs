//! Where token sets live.
//!
//! A [`TokenStore`] keeps one [`TokenSet`] per credential key. [`save`](TokenStore::save)
//! writes the access token, refresh token and expiry together: after a crash a store holds
//! either the previous set or the new one, never a mix. Two stores ship:
//!
//! - [`MemoryStore`]: a map behind a mutex, for tests and for processes that sign in again
//!   after a restart.
//! - [`FileStore`]: the durable default, one JSON file per key in a directory, replaced
//!   atomically (write a temporary file, `fsync`, `rename` over the old one, `fsync` the
//!   directory).

use std::fmt;
use std::io;

use crate::secret::Secret;

mod file;
mod memory;

pub use file::FileStore;
pub(crate) use file::{create_private_temp, sync_dir_io};
pub use memory::MemoryStore;

/// One credential's tokens, as stored. `Debug` redacts the tokens.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenSet {
    /// The access token.
    pub access_token: Secret,
    /// The refresh token, if the server issued one.
    pub refresh_token: Option<Secret>,
    /// When the access token expires (Unix seconds).
    pub expires_at: i64,
    /// `token_type`: `Bearer` (any case). The core refuses other types in token responses, and
    /// [`Refresher::set_tokens`](crate::refresh::Refresher::set_tokens) and [`FileStore`]
    /// (on save and on load) refuse sets of another type (see [`TokenSet::is_bearer`]).
    pub token_type: String,
    /// The granted `scope`, when the server said.
    pub scope: Option<String>,
}

impl TokenSet {
    /// A `Bearer` set without scope.
    #[must_use]
    pub fn new(
        access_token: impl Into<Secret>,
        refresh_token: Option<Secret>,
        expires_at: i64,
    ) -> Self {
        Self {
            access_token: access_token.into(),
            refresh_token,
            expires_at,
            token_type: "Bearer".to_owned(),
            scope: None,
        }
    }

    /// Whether `token_type` is `Bearer` (compared without case, RFC 6750 §4), the only type
    /// the refresher hands out in an `Authorization` header.
    #[must_use]
    pub fn is_bearer(&self) -> bool {
        self.token_type.eq_ignore_ascii_case("bearer")
    }
}

impl fmt::Debug for TokenSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenSet")
            .field("access_token", &"<redacted>")
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "<redacted>"),
            )
            .field("expires_at", &self.expires_at)
            .field("token_type", &self.token_type)
            .field("scope", &self.scope)
            .finish()
    }
}

/// Why a store operation failed.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreError {
    /// An I/O error (the kind, and what was being done).
    Io {
        /// The I/O error kind.
        kind: io::ErrorKind,
        /// The operation that failed (`"write"`, `"rename"`...).
        operation: &'static str,
    },
    /// The stored data cannot be read back as a token set.
    Corrupt,
    /// The store refused the write (test stores, full quotas...).
    Unavailable,
    /// The set has an empty access token, which a [`FileStore`] cannot give back (it reads
    /// such a file as [`Corrupt`](Self::Corrupt)): refused before anything is written; the
    /// previous set is kept.
    EmptyAccessToken,
    /// The set's `token_type` is not `Bearer` ([`TokenSet::is_bearer`]), which a
    /// [`FileStore`] does not give back (it reads such a file as [`Corrupt`](Self::Corrupt)):
    /// refused before anything is written; the previous set is kept.
    NotBearer,
    /// The new set replaced the previous one (a `load` returns it), but making that durable
    /// failed (`fsync` of a [`FileStore`]'s directory): after a crash or power loss the store
    /// may hold the previous set again. The only error after which the previous set is *not*
    /// kept; save the set again to be sure.
    NotDurable {
        /// The I/O error kind.
        kind: io::ErrorKind,
    },
}

impl StoreError {
    /// Stable snake_case name of the error.
    #[must_use]
    pub const fn kind(&self) -> &'static str {
        match self {
            Self::Io { .. } => "store_io",
            Self::Corrupt => "store_corrupt",
            Self::Unavailable => "store_unavailable",
            Self::EmptyAccessToken => "store_empty_access_token",
            Self::NotBearer => "store_not_bearer",
            Self::NotDurable { .. } => "store_not_durable",
        }
    }

    pub(crate) fn io(operation: &'static str) -> impl Fn(io::Error) -> Self {
        move |e| Self::Io {
            kind: e.kind(),
            operation,
        }
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io { kind, operation } => write!(f, "token store {operation} failed: {kind}"),
            Self::Corrupt => f.write_str("token store holds unreadable data"),
            Self::Unavailable => f.write_str("token store is unavailable"),
            Self::EmptyAccessToken => {
                f.write_str("token store refused a set with an empty access token")
            }
            Self::NotBearer => f.write_str("token store refused a set whose type is not Bearer"),
            Self::NotDurable { kind } => write!(
                f,
                "token store replaced the set but could not make it durable: {kind}"
            ),
        }
    }
}

impl std::error::Error for StoreError {}

/// Where token sets live. Implementations must be safe to share between threads.
pub trait TokenStore: Send + Sync + fmt::Debug {
    /// The set stored under `key`, if any.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the store cannot be read.
    fn load(&self, key: &str) -> Result<Option<TokenSet>, StoreError>;

    /// Replaces the set under `key`. Access token, refresh token and expiry are written
    /// together: when this returns `Ok` the whole new set is durable (as far as the store
    /// promises durability); when it fails (but see [`StoreError::NotDurable`]) or the
    /// process dies, the old set is still there.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the set could not be written; the previous set is kept then.
    /// Except [`StoreError::NotDurable`]: the new set is in place but may not survive a crash.
    fn save(&self, key: &str, set: &TokenSet) -> Result<(), StoreError>;

    /// Deletes the set under `key` (sign-out). Deleting a missing key is not an error.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the store cannot be written.
    fn remove(&self, key: &str) -> Result<(), StoreError>;
}
