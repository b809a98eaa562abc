//! The CSRF double-submit cookie (AUTHJS.md §5.5).
//!
//! The cookie value is `<token>|<hash>`: `token` is 32 random bytes as 64 lowercase hex
//! digits, `hash = sha256_hex(token + secret)`. A request is verified when the cookie's hash
//! matches its token, the request is a POST, and the body's `csrfToken` equals the token.
//! The cookie value passed here is the decoded one (the `Set-Cookie` header carries the `|`
//! as `%7C`, since values are `encodeURIComponent`-ed).

use sha2::{Digest, Sha256};

use super::ascii_str;

/// Random bytes in a CSRF token.
pub const CSRF_RANDOM_LEN: usize = 32;
/// Length of a CSRF token: 64 lowercase hex digits.
pub const CSRF_TOKEN_LEN: usize = 2 * CSRF_RANDOM_LEN;
/// Length of a CSRF hash: 64 lowercase hex digits of SHA-256.
pub const CSRF_HASH_LEN: usize = 64;
/// Length of the decoded CSRF cookie value `<token>|<hash>`.
pub const CSRF_COOKIE_VALUE_LEN: usize = CSRF_TOKEN_LEN + 1 + CSRF_HASH_LEN;

const HEX: &[u8; 16] = b"0123456789abcdef";

/// `sha256_hex(token + secret)` in lowercase ASCII hex, as Auth.js's `createHash`. Both
/// parts are streamed into the hash; nothing is concatenated.
///
/// For v5 with several secrets, pass them joined by `,` (JavaScript's string interpolation
/// of an array), which is what Auth.js hashes.
#[must_use]
pub fn csrf_hash(token: &str, secret: &str) -> [u8; CSRF_HASH_LEN] {
    let mut hasher = Sha256::new();
    hasher.update(token.as_bytes());
    hasher.update(secret.as_bytes());
    let digest = hasher.finalize();
    let mut out = [0; CSRF_HASH_LEN];
    for (pair, byte) in out.chunks_exact_mut(2).zip(digest.iter()) {
        if let [hi, lo] = pair {
            *hi = HEX[usize::from(byte >> 4)];
            *lo = HEX[usize::from(byte & 0x0f)];
        }
    }
    out
}

/// Writes a fresh CSRF cookie value `<token>|<hash>` from 32 random bytes supplied by the
/// caller (from a CSPRNG; see `crate::rand`). The token is the first 64 characters.
///
/// The value is written decoded; serialize it with [`super::write_set_cookie`], which
/// encodes the `|` as `%7C` as Auth.js does.
pub fn csrf_cookie_value<'o>(
    random: &[u8; CSRF_RANDOM_LEN],
    secret: &str,
    out: &'o mut [u8; CSRF_COOKIE_VALUE_LEN],
) -> &'o str {
    let (token, rest) = out.split_at_mut(CSRF_TOKEN_LEN);
    for (pair, byte) in token.chunks_exact_mut(2).zip(random) {
        if let [hi, lo] = pair {
            *hi = HEX[usize::from(byte >> 4)];
            *lo = HEX[usize::from(byte & 0x0f)];
        }
    }
    let hash = csrf_hash(ascii_str(token), secret);
    if let Some((bar, hash_out)) = rest.split_first_mut() {
        *bar = b'|';
        hash_out.copy_from_slice(&hash);
    }
    ascii_str(out)
}

/// The token of a CSRF cookie value whose hash is valid for `secret`, or `None` (then
/// Auth.js issues a new cookie).
///
/// As Auth.js's `cookieValue.split("|")`: the token is the text before the first `|`, the
/// hash the text between it and the next `|` (or the end). An empty value is `None`. The
/// hash is compared in constant time.
#[must_use]
pub fn csrf_token_from_cookie<'c>(cookie_value: &'c str, secret: &str) -> Option<&'c str> {
    if cookie_value.is_empty() {
        return None;
    }
    let mut parts = cookie_value.split('|');
    let token = parts.next()?;
    let hash = parts.next()?;
    let expected = csrf_hash(token, secret);
    crate::ct::eq(&expected, hash.as_bytes()).then_some(token)
}

/// Auth.js's CSRF verification: the cookie's hash is valid for `secret`, the request is a
/// POST, and `body_token` (the body's `csrfToken`) equals the cookie's token. Both
/// comparisons run in constant time for equal lengths.
#[must_use]
pub fn verify_csrf(cookie_value: &str, body_token: &str, secret: &str, is_post: bool) -> bool {
    let Some(token) = csrf_token_from_cookie(cookie_value, secret) else {
        return false;
    };
    let same = crate::ct::eq(token.as_bytes(), body_token.as_bytes());
    is_post && same
}
