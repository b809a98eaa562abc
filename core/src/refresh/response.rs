//! Token endpoint responses (RFC 6749 §5.1 and §5.2).
//!
//! The body must be one strict RFC 8259 JSON object (UTF-8, no trailing data, nesting at most
//! [`MAX_DEPTH`] deep), read with the crate's JSON parser ([`crate::json::object_members`]).
//! Members are validated as they are read; unknown members (`id_token`, vendor fields) are
//! syntax-checked and skipped without being stored. A member of interest (`access_token`,
//! `refresh_token`, `expires_in`, `token_type`, `scope`, `error`, `error_description`) seen
//! twice is an error, also when one spelling is escaped: the two values could disagree.
//! Repeated *unknown* members are accepted: a 2xx body that is rejected ends the session (the
//! server may have rotated the refresh token), so nothing is rejected that is not needed.
//!
//! Parsing borrows the body: strings are returned as [`JsonStr`] views on the escaped text,
//! with their unescaped length computed up front, so a caller can check that a token fits its
//! storage *before* writing anything (never lose a token). Nothing here allocates or panics.

use core::fmt;

use crate::json::{self, Key, Value, ValueKind};

/// Deepest nesting of arrays and objects accepted (the top-level object counts as one level);
/// the limit of [`crate::json`].
pub const MAX_DEPTH: usize = json::MAX_DEPTH;

/// A parsed token endpoint body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenResponse<'a> {
    /// A successful response (RFC 6749 §5.1).
    Tokens(Tokens<'a>),
    /// An error response (RFC 6749 §5.2), also when it came with status 200.
    Error(ErrorResponse<'a>),
}

/// The members of a successful response that the refresh machine uses.
///
/// `Debug` redacts the tokens.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Tokens<'a> {
    /// `access_token`: non-empty, every character in `%x20-7E` once unescaped.
    pub access_token: JsonStr<'a>,
    /// `refresh_token`, when the server rotated it (same character rules); `null` is read as
    /// absent, as Auth.js's `new ?? old` does.
    pub refresh_token: Option<JsonStr<'a>>,
    /// `expires_in` in whole seconds, not yet clamped: a string of digits, or any JSON number
    /// rounded down (`3599.98` is 3599, `3.6e3` is 3600, a negative number is 0), saturating.
    /// `null` is read as absent.
    pub expires_in: Option<u64>,
    /// `scope`, when it is a string (`null` is read as absent).
    pub scope: Option<JsonStr<'a>>,
    /// Whether `scope` was there but not a string (an array, a number…): the machine keeps
    /// the tokens and flags the scope as dropped, as for one too long to keep.
    pub scope_unreadable: bool,
    /// `token_type`, when present: `Bearer` in any case (anything else is rejected).
    pub token_type: Option<JsonStr<'a>>,
}

impl fmt::Debug for Tokens<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tokens")
            .field("access_token", &"<redacted>")
            .field("refresh_token", &self.refresh_token.map(|_| "<redacted>"))
            .field("expires_in", &self.expires_in)
            .field("scope", &self.scope)
            .field("scope_unreadable", &self.scope_unreadable)
            .field("token_type", &self.token_type)
            .finish()
    }
}

/// An OAuth error response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorResponse<'a> {
    /// The `error` code.
    pub code: OAuthError,
    /// The `error` code as the server sent it, for reporting (mostly useful with
    /// [`OAuthError::Other`]).
    pub raw_code: ErrorCode,
    /// `error_description`, when present and a string.
    pub description: Option<JsonStr<'a>>,
}

/// Longest `error` code an [`ErrorCode`] keeps.
pub const ERROR_CODE_CAPACITY: usize = 40;

/// An OAuth `error` code as received, bounded so it can be kept (`Copy`, no allocation) and
/// reported.
///
/// The code is kept when it is 1 to [`ERROR_CODE_CAPACITY`] bytes of `[A-Za-z0-9_.-]` with no
/// JSON escapes (every registered code is); anything else is only flagged as unprintable, so a
/// server that puts arbitrary text (or an echoed secret) in `error` cannot get it into logs.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct ErrorCode {
    bytes: [u8; ERROR_CODE_CAPACITY],
    /// 0 for an unprintable code.
    len: u8,
}

impl ErrorCode {
    /// A code that was not kept.
    pub const UNPRINTABLE: Self = Self {
        bytes: [0; ERROR_CODE_CAPACITY],
        len: 0,
    };

    /// Keeps `code` when it is printable (see the type's documentation).
    pub fn new(code: &str) -> Self {
        let printable = code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
        let mut out = Self::UNPRINTABLE;
        if let (true, Ok(len), Some(dst)) = (
            printable,
            u8::try_from(code.len()),
            out.bytes.get_mut(..code.len()),
        ) {
            dst.copy_from_slice(code.as_bytes());
            out.len = len;
        }
        out
    }

    /// The code, or `None` when it was unprintable.
    pub fn as_str(&self) -> Option<&str> {
        let bytes = self.bytes.get(..usize::from(self.len))?;
        if bytes.is_empty() {
            return None;
        }
        core::str::from_utf8(bytes).ok()
    }

    /// Whether the code was kept.
    pub const fn is_printable(&self) -> bool {
        self.len > 0
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str().unwrap_or("<unprintable>"))
    }
}

impl fmt::Debug for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.as_str() {
            Some(code) => f.debug_tuple("ErrorCode").field(&code).finish(),
            None => f.write_str("ErrorCode(<unprintable>)"),
        }
    }
}

/// An OAuth 2.0 error code (RFC 6749 §5.2), sorted into what the refresh machine does with it.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OAuthError {
    /// `invalid_request`: the request is malformed. Terminal.
    InvalidRequest,
    /// `invalid_client`: client authentication failed. Terminal.
    InvalidClient,
    /// `invalid_grant`: the refresh token is invalid, expired, revoked or reused. Terminal.
    InvalidGrant,
    /// `unauthorized_client`: the client may not use this grant. Terminal.
    UnauthorizedClient,
    /// `unsupported_grant_type`: the server does not do refresh. Terminal.
    UnsupportedGrantType,
    /// `invalid_scope`: the requested scope exceeds the grant. Terminal.
    InvalidScope,
    /// `server_error`: the server failed. Transient.
    ServerError,
    /// `temporarily_unavailable`: overloaded or in maintenance. Transient.
    TemporarilyUnavailable,
    /// Any other code: classified by the HTTP status (408, 429 and 5xx transient). The code
    /// itself is in [`ErrorResponse::raw_code`] and
    /// [`RefreshMachine::last_error_code`](super::RefreshMachine::last_error_code).
    Other,
}

impl OAuthError {
    /// Maps an `error` code to its variant.
    pub fn from_code(code: &[u8]) -> Self {
        match code {
            b"invalid_request" => Self::InvalidRequest,
            b"invalid_client" => Self::InvalidClient,
            b"invalid_grant" => Self::InvalidGrant,
            b"unauthorized_client" => Self::UnauthorizedClient,
            b"unsupported_grant_type" => Self::UnsupportedGrantType,
            b"invalid_scope" => Self::InvalidScope,
            b"server_error" => Self::ServerError,
            b"temporarily_unavailable" => Self::TemporarilyUnavailable,
            _ => Self::Other,
        }
    }

    /// The wire code, or `"other"` for [`OAuthError::Other`].
    pub const fn as_str(&self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidClient => "invalid_client",
            Self::InvalidGrant => "invalid_grant",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::InvalidScope => "invalid_scope",
            Self::ServerError => "server_error",
            Self::TemporarilyUnavailable => "temporarily_unavailable",
            Self::Other => "other",
        }
    }

    /// Whether the user must sign in again, given the HTTP status the code came with.
    ///
    /// The code decides, not the status (some providers answer `invalid_grant` with 403, others
    /// `temporarily_unavailable` with 400); only [`OAuthError::Other`] falls back to
    /// [`status_is_transient`].
    pub const fn is_terminal(&self, status: u16) -> bool {
        match self {
            Self::ServerError | Self::TemporarilyUnavailable => false,
            Self::Other => !status_is_transient(status),
            _ => true,
        }
    }
}

impl fmt::Display for OAuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// 408, 429 and 5xx: the server did not process the request and asks to come back later.
pub const fn status_is_transient(status: u16) -> bool {
    matches!(status, 408 | 429 | 500..=599)
}

/// Why a token endpoint body was rejected.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseError {
    /// The body is not UTF-8.
    NotUtf8,
    /// The body is not valid JSON (syntax error, trailing data, bad escape...).
    Malformed,
    /// The body is JSON but not an object.
    NotAnObject,
    /// Arrays or objects nested deeper than [`MAX_DEPTH`].
    TooDeep,
    /// A member name appears twice.
    DuplicateMember,
    /// A success response without `access_token`.
    MissingAccessToken,
    /// `access_token` is not a non-empty string of visible ASCII characters and spaces.
    InvalidAccessToken,
    /// `refresh_token` is not a non-empty string of visible ASCII characters and spaces.
    InvalidRefreshToken,
    /// `expires_in` is not a JSON number or a string of digits.
    InvalidExpiresIn,
    /// `token_type` is not a string.
    InvalidTokenType,
    /// `token_type` is not `Bearer` (any case).
    UnsupportedTokenType,
    /// `error` is present but not a string.
    InvalidErrorCode,
    /// The body could not be read whole (larger than the response buffer, cut off, timed
    /// out): reported by the transport, see
    /// [`TransportFailure::UnreadableSuccess`](super::TransportFailure::UnreadableSuccess).
    Unreadable,
}

impl ResponseError {
    /// Stable snake_case name of the error.
    pub const fn kind(&self) -> &'static str {
        match self {
            Self::NotUtf8 => "not_utf8",
            Self::Malformed => "malformed",
            Self::NotAnObject => "not_an_object",
            Self::TooDeep => "too_deep",
            Self::DuplicateMember => "duplicate_member",
            Self::MissingAccessToken => "missing_access_token",
            Self::InvalidAccessToken => "invalid_access_token",
            Self::InvalidRefreshToken => "invalid_refresh_token",
            Self::InvalidExpiresIn => "invalid_expires_in",
            Self::InvalidTokenType => "invalid_token_type",
            Self::UnsupportedTokenType => "unsupported_token_type",
            Self::InvalidErrorCode => "invalid_error_code",
            Self::Unreadable => "unreadable",
        }
    }
}

impl fmt::Display for ResponseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::NotUtf8 => "token response is not UTF-8",
            Self::Malformed => "token response is not valid JSON",
            Self::NotAnObject => "token response is not a JSON object",
            Self::TooDeep => "token response nests too deeply",
            Self::DuplicateMember => "token response repeats a member",
            Self::MissingAccessToken => "token response has no access_token",
            Self::InvalidAccessToken => "token response has an invalid access_token",
            Self::InvalidRefreshToken => "token response has an invalid refresh_token",
            Self::InvalidExpiresIn => "token response has an invalid expires_in",
            Self::InvalidTokenType => "token response has a non-string token_type",
            Self::UnsupportedTokenType => "token response has a token_type other than Bearer",
            Self::InvalidErrorCode => "token response has a non-string error",
            Self::Unreadable => "token response body could not be read whole",
        })
    }
}

impl core::error::Error for ResponseError {}

/// A JSON string as it appears in the body (between the quotes, escapes not yet decoded).
///
/// Only produced by [`parse`], whose JSON parser has validated every escape, so decoding cannot
/// fail.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct JsonStr<'a> {
    raw: &'a str,
    len: usize,
}

impl<'a> JsonStr<'a> {
    /// The string `value` (validated by [`crate::json`]) as a view into `text`, the body it was
    /// read from; `None` when `value` is not a string.
    fn from_value(text: &'a str, value: &Value<'a>) -> Option<Self> {
        if value.kind() != ValueKind::String {
            return None;
        }
        // The text between the quotes.
        let start = value.offset().checked_add(1)?;
        let end = value
            .offset()
            .checked_add(value.raw().len())?
            .checked_sub(1)?;
        let raw = text.get(start..end)?;
        let mut s = Self {
            raw,
            len: raw.len(),
        };
        if value.as_str().is_none() {
            // Escapes shrink the text: count the decoded bytes.
            s.len = s.chars().map(char::len_utf8).sum();
        }
        Some(s)
    }

    /// The escaped text between the quotes.
    pub const fn raw(&self) -> &'a str {
        self.raw
    }

    /// Length in bytes once unescaped.
    pub const fn unescaped_len(&self) -> usize {
        self.len
    }

    /// The unescaped characters.
    pub fn chars(&self) -> Unescape<'a> {
        Unescape {
            bytes: self.raw.as_bytes(),
            pos: 0,
        }
    }

    /// Appends the unescaped text to `out`.
    ///
    /// # Errors
    ///
    /// Returns the number of bytes needed when `out` has less room than
    /// [`unescaped_len`](Self::unescaped_len); `out` is left unchanged then.
    pub fn write_to<const N: usize>(&self, out: &mut heapless::String<N>) -> Result<(), usize> {
        if out.capacity().saturating_sub(out.len()) < self.len {
            return Err(self.len);
        }
        for c in self.chars() {
            // Room was checked above.
            out.push(c).map_err(|_| self.len)?;
        }
        Ok(())
    }

    /// Whether the unescaped text equals `other`, ignoring ASCII case.
    pub fn eq_ignore_ascii_case(&self, other: &str) -> bool {
        self.len == other.len()
            && self
                .chars()
                .zip(other.chars())
                .all(|(a, b)| a.eq_ignore_ascii_case(&b))
    }

    /// Whether the unescaped text is non-empty and every character is in `%x20-7E`
    /// (RFC 6749 Appendix A: `VSCHAR`), so it can go into an HTTP header unchanged.
    pub fn is_vschar(&self) -> bool {
        self.len > 0 && self.chars().all(|c| (' '..='~').contains(&c))
    }
}

impl fmt::Debug for JsonStr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JsonStr")
            .field("len", &self.len)
            .finish_non_exhaustive()
    }
}

/// Iterator over the unescaped characters of a [`JsonStr`].
#[derive(Clone)]
pub struct Unescape<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl fmt::Debug for Unescape<'_> {
    /// Lengths only: the characters may be a token.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Unescape")
            .field("len", &self.bytes.len())
            .field("pos", &self.pos)
            .finish()
    }
}

impl Iterator for Unescape<'_> {
    type Item = char;

    fn next(&mut self) -> Option<char> {
        let rest = self.bytes.get(self.pos..)?;
        let first = *rest.first()?;
        if first != b'\\' {
            // Decode one UTF-8 character (the raw text is a `str`).
            let width = utf8_width(first);
            let c = core::str::from_utf8(rest.get(..width)?)
                .ok()?
                .chars()
                .next()?;
            self.pos = self.pos.saturating_add(width);
            return Some(c);
        }
        let escape = *rest.get(1)?;
        self.pos = self.pos.saturating_add(2);
        let simple = match escape {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            _ => {
                let high = hex4(rest.get(2..6)?)?;
                self.pos = self.pos.saturating_add(4);
                if (0xD800..0xDC00).contains(&high) {
                    let low = hex4(rest.get(8..12)?)?;
                    self.pos = self.pos.saturating_add(6);
                    let code =
                        0x10000 + (high.checked_sub(0xD800)? << 10) + low.checked_sub(0xDC00)?;
                    return char::from_u32(code);
                }
                return char::from_u32(high);
            }
        };
        Some(simple)
    }
}

const fn utf8_width(first: u8) -> usize {
    match first {
        0x00..=0x7F => 1,
        0xC0..=0xDF => 2,
        0xE0..=0xEF => 3,
        _ => 4,
    }
}

fn hex4(digits: &[u8]) -> Option<u32> {
    let mut value = 0u32;
    for &d in digits.get(..4)? {
        value = value * 16 + char::from(d).to_digit(16)?;
    }
    Some(value)
}

/// Parses a token endpoint body.
///
/// A body with an `error` member is an [`TokenResponse::Error`], whatever the status; any other
/// object must carry a valid `access_token`.
///
/// # Errors
///
/// A [`ResponseError`] naming the first problem found: JSON problems (in document order, and a
/// repeated member of interest as soon as it is read) before problems with the members' values.
pub fn parse(body: &[u8]) -> Result<TokenResponse<'_>, ResponseError> {
    let text = core::str::from_utf8(body).map_err(|_| ResponseError::NotUtf8)?;
    let mut fields = Fields::default();
    for member in json::object_members(body).map_err(json_error)? {
        let (key, value) = member.map_err(json_error)?;
        if let Some(slot) = fields.slot(&key) {
            if slot.replace(value).is_some() {
                return Err(ResponseError::DuplicateMember);
            }
        }
    }
    fields.finish(text)
}

/// The `refresh_token` that a body [`parse`] refused still reliably carries, for the machine to
/// keep: the server may have spent the old refresh token on that answer.
///
/// `Some` only when the body is a whole valid JSON object (UTF-8, nothing after it), without
/// an `error` member (the server then issued no token), whose `refresh_token` appears once and
/// passes the checks of a successful answer ([`Tokens::refresh_token`]: a non-empty string of
/// `%x20-7E` once unescaped). Whatever else in the body was refused does not matter.
pub(crate) fn rotated_refresh_token(body: &[u8]) -> Option<JsonStr<'_>> {
    let text = core::str::from_utf8(body).ok()?;
    let mut refresh_token = None;
    let mut repeated = false;
    for member in json::object_members(body).ok()? {
        let (key, value) = member.ok()?;
        if key.matches("error") && value.kind() != ValueKind::Null {
            return None;
        }
        if key.matches("refresh_token") {
            repeated |= refresh_token.replace(value).is_some();
        }
    }
    if repeated {
        return None;
    }
    JsonStr::from_value(text, &refresh_token?).filter(JsonStr::is_vschar)
}

/// Sorts a [`json::Error`] from [`json::object_members`] into a [`ResponseError`].
fn json_error(e: json::Error) -> ResponseError {
    match e {
        json::Error::TooDeep { .. } => ResponseError::TooDeep,
        // Valid JSON that is not an object (the only mismatch `object_members` reports).
        json::Error::Mismatch { .. } => ResponseError::NotAnObject,
        // Not reachable once the body is known to be UTF-8; kept for completeness.
        json::Error::InvalidUtf8 { .. } => ResponseError::NotUtf8,
        _ => ResponseError::Malformed,
    }
}

/// Members of interest, collected before their combination is checked.
#[derive(Default)]
struct Fields<'a> {
    access_token: Option<Value<'a>>,
    refresh_token: Option<Value<'a>>,
    expires_in: Option<Value<'a>>,
    token_type: Option<Value<'a>>,
    scope: Option<Value<'a>>,
    error: Option<Value<'a>>,
    error_description: Option<Value<'a>>,
}

impl<'a> Fields<'a> {
    /// Where the member named `key` goes (compared unescaped, so `"access\u005ftoken"` cannot
    /// slip past duplicate detection); `None` for members that are skipped.
    fn slot(&mut self, key: &Key<'_>) -> Option<&mut Option<Value<'a>>> {
        let slot = if key.matches("access_token") {
            &mut self.access_token
        } else if key.matches("refresh_token") {
            &mut self.refresh_token
        } else if key.matches("expires_in") {
            &mut self.expires_in
        } else if key.matches("token_type") {
            &mut self.token_type
        } else if key.matches("scope") {
            &mut self.scope
        } else if key.matches("error") {
            &mut self.error
        } else if key.matches("error_description") {
            &mut self.error_description
        } else {
            return None;
        };
        Some(slot)
    }

    fn finish(self, text: &'a str) -> Result<TokenResponse<'a>, ResponseError> {
        let string = |value: &Value<'a>| JsonStr::from_value(text, value);
        // A member whose value is `null` counts as absent (JavaScript's `??`, and what a
        // server means by it); a rejected 2xx body would end the session.
        let present = |v: Option<Value<'a>>| v.filter(|v| v.kind() != ValueKind::Null);
        if let Some(error) = present(self.error) {
            if error.kind() != ValueKind::String {
                return Err(ResponseError::InvalidErrorCode);
            }
            // Registered codes never need escapes.
            let (code, raw_code) = error
                .as_str()
                .map_or((OAuthError::Other, ErrorCode::UNPRINTABLE), |code| {
                    (OAuthError::from_code(code.as_bytes()), ErrorCode::new(code))
                });
            let description = self.error_description.as_ref().and_then(string);
            return Ok(TokenResponse::Error(ErrorResponse {
                code,
                raw_code,
                description,
            }));
        }
        let access_token = match self.access_token {
            None => return Err(ResponseError::MissingAccessToken),
            Some(v) => string(&v)
                .filter(JsonStr::is_vschar)
                .ok_or(ResponseError::InvalidAccessToken)?,
        };
        let refresh_token = match present(self.refresh_token) {
            None => None,
            Some(v) => Some(
                string(&v)
                    .filter(JsonStr::is_vschar)
                    .ok_or(ResponseError::InvalidRefreshToken)?,
            ),
        };
        let expires_in = match present(self.expires_in) {
            None => None,
            Some(v) => {
                // Any JSON number (rounded down), or a string of digits without escapes.
                let seconds = match v.kind() {
                    ValueKind::Number => v.as_number().and_then(seconds_rounded_down),
                    ValueKind::String => v.as_str().and_then(digits),
                    _ => None,
                };
                Some(seconds.ok_or(ResponseError::InvalidExpiresIn)?)
            }
        };
        let token_type = match present(self.token_type) {
            None => None,
            Some(v) => {
                let token_type = string(&v).ok_or(ResponseError::InvalidTokenType)?;
                if !token_type.eq_ignore_ascii_case("bearer") {
                    return Err(ResponseError::UnsupportedTokenType);
                }
                Some(token_type)
            }
        };
        // The scope is informational: one that is not a string is flagged, never a reason to
        // lose the tokens.
        let scope_value = present(self.scope);
        let scope = scope_value.as_ref().and_then(string);
        Ok(TokenResponse::Tokens(Tokens {
            access_token,
            refresh_token,
            expires_in,
            scope,
            scope_unreadable: scope_value.is_some() && scope.is_none(),
            token_type,
        }))
    }
}

/// A JSON number (`text` is one: the parser checked its grammar) rounded down to a whole
/// number, saturating at `u64::MAX` (clamped later); a negative number is 0 (already expired;
/// JavaScript's `Math.floor(now + expires_in)` is in the past). Exact for any number of digits
/// and any exponent: the digits are read as a decimal point moved by the exponent.
fn seconds_rounded_down(text: &str) -> Option<u64> {
    let b = text.as_bytes();
    if b.first() == Some(&b'-') {
        return Some(0);
    }
    let int_len = b.iter().take_while(|c| c.is_ascii_digit()).count();
    let (int, rest) = b.split_at(int_len);
    let (frac, rest) = match rest.split_first() {
        Some((b'.', after)) => {
            after.split_at(after.iter().take_while(|c| c.is_ascii_digit()).count())
        }
        _ => (&[][..], rest),
    };
    let exponent = match rest.split_first() {
        Some((b'e' | b'E', after)) => {
            let (negative, digits) = match after.split_first() {
                Some((b'-', d)) => (true, d),
                Some((b'+', d)) => (false, d),
                _ => (false, after),
            };
            let e = digits.iter().try_fold(0i64, |acc, &c| {
                c.is_ascii_digit()
                    .then(|| acc.saturating_mul(10).saturating_add(i64::from(c - b'0')))
            })?;
            if negative {
                -e
            } else {
                e
            }
        }
        None => 0,
        Some(_) => return None,
    };
    // The number of digits before the decimal point once the exponent is applied.
    let whole = i64::try_from(int.len()).ok()?.saturating_add(exponent);
    let mut value = 0u64;
    let mut taken = 0i64;
    for &c in int.iter().chain(frac) {
        if taken >= whole {
            break;
        }
        value = value.saturating_mul(10).saturating_add(u64::from(c - b'0'));
        taken += 1;
    }
    // Zeros the exponent adds after the last digit (a saturated value stays saturated).
    while taken < whole && value != 0 && value != u64::MAX {
        value = value.saturating_mul(10);
        taken += 1;
    }
    Some(value)
}

/// A run of ASCII digits as a `u64`, saturating (clamped later); `None` for anything else,
/// including the empty string, signs, fractions and exponents.
fn digits(text: &str) -> Option<u64> {
    if text.is_empty() {
        return None;
    }
    text.bytes().try_fold(0u64, |acc, b| {
        let d = char::from(b).to_digit(10)?;
        Some(acc.saturating_mul(10).saturating_add(u64::from(d)))
    })
}
