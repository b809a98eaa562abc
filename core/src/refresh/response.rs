//! Token endpoint responses (RFC 6749 §5.1 and §5.2).
//!
//! The body must be one strict RFC 8259 JSON object (UTF-8, no trailing data, nesting at most
//! [`MAX_DEPTH`] deep). Members are validated as they are read; unknown members (`id_token`,
//! vendor fields) are syntax-checked and skipped without being stored. A member name seen twice
//! is an error: the two values could disagree.
//!
//! Parsing borrows the body: strings are returned as [`JsonStr`] views on the escaped text,
//! with their unescaped length computed up front, so a caller can check that a token fits its
//! storage *before* writing anything (never lose a token). Nothing here allocates or panics.
//!
//! This file holds all of the JSON handling of the refresh module so it can move to the shared
//! `crate::json` module later.

use core::fmt;

/// Deepest nesting of arrays and objects accepted inside skipped members.
pub const MAX_DEPTH: usize = 32;

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
    /// `refresh_token`, when the server rotated it (same character rules).
    pub refresh_token: Option<JsonStr<'a>>,
    /// `expires_in` in seconds, from a JSON integer or a string of digits, not yet clamped.
    pub expires_in: Option<u64>,
    /// `scope`, when present.
    pub scope: Option<JsonStr<'a>>,
}

impl fmt::Debug for Tokens<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tokens")
            .field("access_token", &"<redacted>")
            .field("refresh_token", &self.refresh_token.map(|_| "<redacted>"))
            .field("expires_in", &self.expires_in)
            .field("scope", &self.scope)
            .finish()
    }
}

/// An OAuth error response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorResponse<'a> {
    /// The `error` code.
    pub code: OAuthError,
    /// `error_description`, when present and a string.
    pub description: Option<JsonStr<'a>>,
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
    /// Any other code: classified by the HTTP status (408, 429 and 5xx transient).
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
    /// `expires_in` is not a non-negative integer or a string of digits.
    InvalidExpiresIn,
    /// `token_type` is not a string.
    InvalidTokenType,
    /// `token_type` is not `Bearer` (any case).
    UnsupportedTokenType,
    /// `scope` is not a string.
    InvalidScope,
    /// `error` is present but not a string.
    InvalidErrorCode,
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
            Self::InvalidScope => "invalid_scope",
            Self::InvalidErrorCode => "invalid_error_code",
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
            Self::InvalidScope => "token response has a non-string scope",
            Self::InvalidErrorCode => "token response has a non-string error",
        })
    }
}

impl core::error::Error for ResponseError {}

/// A JSON string as it appears in the body (between the quotes, escapes not yet decoded).
///
/// Only produced by [`parse`], which has validated every escape, so decoding cannot fail.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct JsonStr<'a> {
    raw: &'a str,
    len: usize,
}

impl<'a> JsonStr<'a> {
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
#[derive(Debug, Clone)]
pub struct Unescape<'a> {
    bytes: &'a [u8],
    pos: usize,
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
/// A [`ResponseError`] naming the first problem found.
pub fn parse(body: &[u8]) -> Result<TokenResponse<'_>, ResponseError> {
    let text = core::str::from_utf8(body).map_err(|_| ResponseError::NotUtf8)?;
    let mut p = Parser { text, pos: 0 };
    p.skip_ws();
    if p.peek() != Some(b'{') {
        // Distinguish "valid JSON, wrong shape" from garbage.
        p.skip_value()?;
        p.skip_ws();
        return Err(if p.peek().is_none() {
            ResponseError::NotAnObject
        } else {
            ResponseError::Malformed
        });
    }
    p.pos += 1;

    let mut fields = Fields::default();
    let mut seen = Seen::default();
    p.skip_ws();
    if p.peek() == Some(b'}') {
        p.pos += 1;
    } else {
        loop {
            p.skip_ws();
            let name = p.string()?;
            p.skip_ws();
            p.expect(b':')?;
            p.skip_ws();
            p.member(name, &mut fields, &mut seen)?;
            p.skip_ws();
            match p.next_byte() {
                Some(b',') => {}
                Some(b'}') => break,
                _ => return Err(ResponseError::Malformed),
            }
        }
    }
    p.skip_ws();
    if p.peek().is_some() {
        return Err(ResponseError::Malformed);
    }
    fields.finish()
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
    fn finish(self) -> Result<TokenResponse<'a>, ResponseError> {
        if let Some(error) = self.error {
            let Value::Str(code) = error else {
                return Err(ResponseError::InvalidErrorCode);
            };
            let code = if code.len == code.raw.len() {
                OAuthError::from_code(code.raw.as_bytes())
            } else {
                // Registered codes never need escapes.
                OAuthError::Other
            };
            let description = match self.error_description {
                Some(Value::Str(s)) => Some(s),
                _ => None,
            };
            return Ok(TokenResponse::Error(ErrorResponse { code, description }));
        }
        let access_token = match self.access_token {
            None => return Err(ResponseError::MissingAccessToken),
            Some(Value::Str(s)) if s.is_vschar() => s,
            Some(_) => return Err(ResponseError::InvalidAccessToken),
        };
        let refresh_token = match self.refresh_token {
            None => None,
            Some(Value::Str(s)) if s.is_vschar() => Some(s),
            Some(_) => return Err(ResponseError::InvalidRefreshToken),
        };
        let expires_in = match self.expires_in {
            None => None,
            Some(Value::Number(n)) => Some(digits(n).ok_or(ResponseError::InvalidExpiresIn)?),
            Some(Value::Str(s)) if s.len == s.raw.len() => {
                Some(digits(s.raw).ok_or(ResponseError::InvalidExpiresIn)?)
            }
            Some(_) => return Err(ResponseError::InvalidExpiresIn),
        };
        match self.token_type {
            None => {}
            Some(Value::Str(s)) if s.eq_ignore_ascii_case("bearer") => {}
            Some(Value::Str(_)) => return Err(ResponseError::UnsupportedTokenType),
            Some(_) => return Err(ResponseError::InvalidTokenType),
        }
        let scope = match self.scope {
            None => None,
            Some(Value::Str(s)) => Some(s),
            Some(_) => return Err(ResponseError::InvalidScope),
        };
        Ok(TokenResponse::Tokens(Tokens {
            access_token,
            refresh_token,
            expires_in,
            scope,
        }))
    }
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

/// A member value, kept only for the members of interest.
#[derive(Clone, Copy)]
enum Value<'a> {
    Str(JsonStr<'a>),
    Number(&'a str),
    Other,
}

#[derive(Default)]
struct Seen {
    bits: u8,
}

impl Seen {
    fn mark(&mut self, bit: u8) -> Result<(), ResponseError> {
        if self.bits & bit != 0 {
            return Err(ResponseError::DuplicateMember);
        }
        self.bits |= bit;
        Ok(())
    }
}

struct Parser<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    fn next_byte(&mut self) -> Option<u8> {
        let b = self.peek()?;
        self.pos += 1;
        Some(b)
    }

    fn expect(&mut self, b: u8) -> Result<(), ResponseError> {
        if self.next_byte() == Some(b) {
            Ok(())
        } else {
            Err(ResponseError::Malformed)
        }
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn member(
        &mut self,
        name: JsonStr<'a>,
        fields: &mut Fields<'a>,
        seen: &mut Seen,
    ) -> Result<(), ResponseError> {
        // Names of interest never need escapes; an escaped name is compared unescaped so
        // `"access\u005ftoken"` cannot slip past duplicate detection.
        let slot = match_name(name);
        let value = self.value()?;
        let Some((bit, field)) = slot.map(|(bit, pick)| (bit, pick(fields))) else {
            return Ok(());
        };
        seen.mark(bit)?;
        *field = Some(value);
        Ok(())
    }

    fn value(&mut self) -> Result<Value<'a>, ResponseError> {
        match self.peek() {
            Some(b'"') => Ok(Value::Str(self.string()?)),
            Some(b'-' | b'0'..=b'9') => Ok(Value::Number(self.number()?)),
            _ => {
                self.skip_value()?;
                Ok(Value::Other)
            }
        }
    }

    /// Reads a string starting at its opening quote.
    fn string(&mut self) -> Result<JsonStr<'a>, ResponseError> {
        self.expect(b'"')?;
        let start = self.pos;
        let bytes = self.text.as_bytes();
        let mut len = 0usize;
        loop {
            let b = *bytes.get(self.pos).ok_or(ResponseError::Malformed)?;
            match b {
                b'"' => break,
                0x00..=0x1F => return Err(ResponseError::Malformed),
                b'\\' => {
                    let e = *bytes.get(self.pos + 1).ok_or(ResponseError::Malformed)?;
                    self.pos += 2;
                    len += match e {
                        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => 1,
                        b'u' => self.unicode_escape()?,
                        _ => return Err(ResponseError::Malformed),
                    };
                }
                _ => {
                    self.pos += 1;
                    len += 1;
                }
            }
        }
        let raw = self
            .text
            .get(start..self.pos)
            .ok_or(ResponseError::Malformed)?;
        self.pos += 1;
        Ok(JsonStr { raw, len })
    }

    /// Validates the `XXXX` after `\u` (and a low surrogate escape after a high one); returns
    /// the UTF-8 length of the character.
    fn unicode_escape(&mut self) -> Result<usize, ResponseError> {
        let bytes = self.text.as_bytes();
        let high = bytes
            .get(self.pos..self.pos + 4)
            .and_then(hex4)
            .ok_or(ResponseError::Malformed)?;
        self.pos += 4;
        let code = match high {
            0xD800..=0xDBFF => {
                if bytes.get(self.pos..self.pos + 2) != Some(b"\\u") {
                    return Err(ResponseError::Malformed);
                }
                let low = bytes
                    .get(self.pos + 2..self.pos + 6)
                    .and_then(hex4)
                    .ok_or(ResponseError::Malformed)?;
                if !(0xDC00..=0xDFFF).contains(&low) {
                    return Err(ResponseError::Malformed);
                }
                self.pos += 6;
                0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
            }
            0xDC00..=0xDFFF => return Err(ResponseError::Malformed),
            _ => high,
        };
        char::from_u32(code)
            .map(char::len_utf8)
            .ok_or(ResponseError::Malformed)
    }

    /// Reads a number (RFC 8259 §6 grammar) and returns its text.
    fn number(&mut self) -> Result<&'a str, ResponseError> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.next_byte() {
            Some(b'0') => {}
            Some(b'1'..=b'9') => self.skip_digits(),
            _ => return Err(ResponseError::Malformed),
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            self.require_digits()?;
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            self.require_digits()?;
        }
        self.text
            .get(start..self.pos)
            .ok_or(ResponseError::Malformed)
    }

    fn skip_digits(&mut self) {
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.pos += 1;
        }
    }

    fn require_digits(&mut self) -> Result<(), ResponseError> {
        if !matches!(self.peek(), Some(b'0'..=b'9')) {
            return Err(ResponseError::Malformed);
        }
        self.skip_digits();
        Ok(())
    }

    fn literal(&mut self, word: &[u8]) -> Result<(), ResponseError> {
        let end = self.pos + word.len();
        if self.text.as_bytes().get(self.pos..end) == Some(word) {
            self.pos = end;
            Ok(())
        } else {
            Err(ResponseError::Malformed)
        }
    }

    /// Validates and skips one value of any type, without recursion: a bit stack records
    /// whether each open container is an object (1) or an array (0).
    fn skip_value(&mut self) -> Result<(), ResponseError> {
        let mut stack: u32 = 0;
        let mut depth = 0usize;
        loop {
            // Expect a value here.
            self.skip_ws();
            match self.peek() {
                Some(b'{' | b'[') => {
                    let is_object = self.peek() == Some(b'{');
                    self.pos += 1;
                    if depth >= MAX_DEPTH {
                        return Err(ResponseError::TooDeep);
                    }
                    stack = (stack << 1) | u32::from(is_object);
                    depth += 1;
                    self.skip_ws();
                    let close = if is_object { b'}' } else { b']' };
                    if self.peek() == Some(close) {
                        self.pos += 1;
                        stack >>= 1;
                        depth -= 1;
                    } else {
                        if is_object {
                            self.object_key()?;
                        }
                        continue;
                    }
                }
                Some(b'"') => {
                    self.string()?;
                }
                Some(b'-' | b'0'..=b'9') => {
                    self.number()?;
                }
                Some(b't') => self.literal(b"true")?,
                Some(b'f') => self.literal(b"false")?,
                Some(b'n') => self.literal(b"null")?,
                _ => return Err(ResponseError::Malformed),
            }
            // After a value: close containers or move to the next element.
            loop {
                if depth == 0 {
                    return Ok(());
                }
                let is_object = stack & 1 == 1;
                self.skip_ws();
                match self.next_byte() {
                    Some(b',') => {
                        if is_object {
                            self.skip_ws();
                            self.object_key()?;
                        }
                        break;
                    }
                    Some(b'}') if is_object => {}
                    Some(b']') if !is_object => {}
                    _ => return Err(ResponseError::Malformed),
                }
                stack >>= 1;
                depth -= 1;
            }
        }
    }

    /// Reads `"name" :` inside a skipped object.
    fn object_key(&mut self) -> Result<(), ResponseError> {
        self.skip_ws();
        self.string()?;
        self.skip_ws();
        self.expect(b':')
    }
}

type Pick = for<'f, 'a> fn(&'f mut Fields<'a>) -> &'f mut Option<Value<'a>>;

fn match_name(name: JsonStr<'_>) -> Option<(u8, Pick)> {
    const NAMES: [(&str, u8, Pick); 7] = [
        ("access_token", 1, |f| &mut f.access_token),
        ("refresh_token", 2, |f| &mut f.refresh_token),
        ("expires_in", 4, |f| &mut f.expires_in),
        ("token_type", 8, |f| &mut f.token_type),
        ("scope", 16, |f| &mut f.scope),
        ("error", 32, |f| &mut f.error),
        ("error_description", 64, |f| &mut f.error_description),
    ];
    NAMES.iter().find_map(|&(known, bit, pick)| {
        (name.len == known.len() && name.chars().eq(known.chars())).then_some((bit, pick))
    })
}
