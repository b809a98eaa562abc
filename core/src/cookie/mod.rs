//! Auth.js cookies without a heap: `Cookie` header parsing, session-cookie chunking,
//! `Set-Cookie` serialization, cookie names and the CSRF double-submit cookie.
//!
//! # Layers
//!
//! - **Request side:** [`parse`] iterates the `name=value` pairs of a `Cookie` header the way
//!   the `cookie` npm package does; [`get`] finds the first cookie of a name;
//!   [`decode_value`] undoes `encodeURIComponent` into a caller buffer (zero copy when the
//!   value has no `%`). [`reassemble`] joins the session cookie chunks
//!   (`<base>`, `<base>.0`, `<base>.1`, ...) into one value and reports which chunks were
//!   present.
//! - **Response side:** [`SessionCookieWriter`] plans the `Set-Cookie` headers of a
//!   (re-)issued or cleared session cookie in Auth.js's exact order (deletions of stale chunks
//!   included) and writes them one at a time into a caller buffer; [`write_set_cookie`] and
//!   [`write_deletion`] serialize single cookies with [`CookieOptions`].
//! - **Names and CSRF:** [`cookie_name`] / [`session_cookie_name`] give the Auth.js v5 and
//!   next-auth v4 names with the secure-mode prefixes; [`csrf_cookie_value`] and
//!   [`verify_csrf`] implement the double-submit check.
//!
//! # Guarantees
//!
//! No function here allocates or panics, whatever the input bytes: every slice access is
//! checked and every length computation is checked or saturating. Output that does not fit
//! the caller's buffer is reported as [`CookieError::BufferTooSmall`] with the exact size
//! needed, and nothing is consumed, so the call can be repeated with a larger buffer. The
//! `Debug` output of parsed cookies and reassembled values never shows cookie values (they
//! carry session tokens).
//!
//! # Deliberate differences from Auth.js
//!
//! Everything matches Auth.js (`@auth/core` `lib/utils/cookie.ts` and the `cookie`
//! package it uses) except:
//!
//! 1. **Exact chunk names.** Auth.js treats every request cookie whose name *starts with*
//!    the session cookie name as a chunk, so an unrelated `authjs.session-token-foo` is
//!    glued into the token (and then deleted). authcore accepts only the base name itself
//!    and `<base>.<n>` where `<n>` is a canonical decimal (`0`, or no leading zero) of at
//!    most 65535. `<base>.01`, `<base>.1x` or `<base>.-1` are not chunks: they are neither
//!    read nor deleted. (Auth.js's `parseInt` would read `.01` as chunk 1 and collide with
//!    `.1`; Auth.js itself never writes such names.)
//! 2. **Order of the unsuffixed cookie.** Auth.js sorts chunks with `parseInt` of the text
//!    after the last `.`; for the base name that is `NaN`, which compares "equal" to
//!    everything, so its position depends on the sort algorithm. authcore always places
//!    the base cookie first, then `.0`, `.1`, ... numerically. Both end up concatenating a
//!    leftover base cookie with chunks, which fails to decrypt and clears the session, as
//!    in Auth.js.
//! 3. **Bounded chunk count.** At most `N` chunks ([`MAX_CHUNKS`] by default) are read or
//!    written; more is [`CookieError::TooManyChunks`] (Auth.js has no limit, but browsers
//!    and servers cap the `Cookie` header at a few chunks anyway).
//! 4. **Chunking counts bytes and never splits a UTF-8 character.** Auth.js counts UTF-16
//!    code units of the value before `encodeURIComponent`. For ASCII values (every JWE, JWS
//!    and database session token) the two are identical. For other text a chunk ends at the
//!    last character boundary within [`CHUNK_SIZE_V5`] bytes, so every chunk decodes on its
//!    own (Auth.js could split a surrogate pair and throw).
//! 5. **Empty chunks** are skipped when reading (as v5 does; v4 would keep and delete them).
//! 6. **`Expires` outside the years 0000..=9999** is [`CookieError::InvalidExpires`]
//!    (JavaScript would print an expanded year).
//!
//! The parser unquotes a value wrapped in double quotes as `cookie` 0.7 (next-auth v4)
//! does; note that the copy of `cookie` 1.x vendored in current `@auth/core` no longer
//! unquotes. Neither case occurs with values Auth.js writes, which are always
//! `encodeURIComponent`-encoded and so never contain `"`.

use core::fmt;

mod chunk;
mod csrf;
mod names;
mod parse;
mod set_cookie;
#[cfg(test)]
mod tests;

pub use chunk::{
    chunk_count, reassemble, reassemble_with, ChunkName, CookieAction, PlannedCookie, Reassembled,
    SessionCookiePlan, SessionCookieWriter, CHUNK_SIZE_V4, CHUNK_SIZE_V5, MAX_CHUNKS,
};
pub use csrf::{
    csrf_cookie_value, csrf_hash, csrf_token_from_cookie, verify_csrf, CSRF_COOKIE_VALUE_LEN,
    CSRF_HASH_LEN, CSRF_RANDOM_LEN, CSRF_TOKEN_LEN,
};
pub use names::{
    callback_url_cookie_name, cookie_name, csrf_cookie_name, default_options, session_cookie_name,
    CookieKind, Flavor,
};
pub use parse::{decode_value, decoded_len, get, parse, Cookies, RequestCookie};
pub use set_cookie::{
    encoded_len, set_cookie_len, write_deletion, write_set_cookie, CookieOptions, Priority,
    SameSite,
};

/// Why a cookie operation failed.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CookieError {
    /// The output buffer is too small; `needed` bytes would fit the whole output.
    BufferTooSmall {
        /// Exact number of bytes the output needs.
        needed: usize,
    },
    /// More session cookie chunks than the capacity `max` (in the request, or needed for the
    /// new value).
    TooManyChunks {
        /// The capacity that was exceeded.
        max: usize,
    },
    /// The cookie name is empty or not an RFC 6265 token.
    InvalidName,
    /// The `Domain` attribute is not a valid domain (RFC 1034 labels, optional leading dot).
    InvalidDomain,
    /// The `Path` attribute contains a control character, `;` or `<`.
    InvalidPath,
    /// The `Expires` time lies outside the years 0000..=9999.
    InvalidExpires,
    /// The chunk size is below 4 bytes (one UTF-8 character must fit a chunk).
    InvalidChunkSize,
}

impl CookieError {
    /// A stable snake_case name for this error, for logs, the CLI and tests.
    #[must_use]
    pub const fn kind(&self) -> &'static str {
        match self {
            Self::BufferTooSmall { .. } => "buffer_too_small",
            Self::TooManyChunks { .. } => "too_many_chunks",
            Self::InvalidName => "invalid_name",
            Self::InvalidDomain => "invalid_domain",
            Self::InvalidPath => "invalid_path",
            Self::InvalidExpires => "invalid_expires",
            Self::InvalidChunkSize => "invalid_chunk_size",
        }
    }
}

impl fmt::Display for CookieError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BufferTooSmall { needed } => {
                write!(f, "output buffer too small: {needed} bytes needed")
            }
            Self::TooManyChunks { max } => {
                write!(f, "more than {max} session cookie chunks")
            }
            Self::InvalidName => f.write_str("cookie name is not a token"),
            Self::InvalidDomain => f.write_str("cookie domain is invalid"),
            Self::InvalidPath => f.write_str("cookie path is invalid"),
            Self::InvalidExpires => f.write_str("cookie expiry outside the years 0000..=9999"),
            Self::InvalidChunkSize => f.write_str("cookie chunk size below 4 bytes"),
        }
    }
}

impl core::error::Error for CookieError {}

/// Views bytes that this module wrote, all ASCII by construction, as text.
fn ascii_str(bytes: &[u8]) -> &str {
    // Callers only pass bytes written from ASCII tables, validated ASCII names, domains and
    // paths, and percent-encoded values, so the fallback is unreachable; it exists to avoid
    // an `unwrap`.
    core::str::from_utf8(bytes).unwrap_or_default()
}
