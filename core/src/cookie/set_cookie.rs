//! `Set-Cookie` serialization, as the `cookie` package's `serialize` does it.

use super::{ascii_str, CookieError};
use crate::time::{self, HTTP_DATE_LEN};

/// The `SameSite` attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SameSite {
    /// `SameSite=Strict`.
    Strict,
    /// `SameSite=Lax` (Auth.js default).
    Lax,
    /// `SameSite=None` (browsers require `Secure` with it).
    None,
}

impl SameSite {
    const fn attribute(self) -> &'static str {
        match self {
            Self::Strict => "; SameSite=Strict",
            Self::Lax => "; SameSite=Lax",
            Self::None => "; SameSite=None",
        }
    }
}

/// The `Priority` attribute (Chrome extension, written by the `cookie` package).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Priority {
    /// `Priority=Low`.
    Low,
    /// `Priority=Medium`.
    Medium,
    /// `Priority=High`.
    High,
}

impl Priority {
    const fn attribute(self) -> &'static str {
        match self {
            Self::Low => "; Priority=Low",
            Self::Medium => "; Priority=Medium",
            Self::High => "; Priority=High",
        }
    }
}

/// Attributes of a `Set-Cookie` header.
///
/// [`CookieOptions::new`] gives Auth.js's defaults for all its cookies: `Path=/`,
/// `HttpOnly`, `SameSite=Lax`, `Secure` in secure mode, no `Domain`, `Expires` or
/// `Max-Age`. Empty `path` or `domain` strings are omitted, as the `cookie` package omits
/// falsy options.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CookieOptions<'a> {
    /// `Path`; omitted when empty. Default `/`.
    pub path: &'a str,
    /// `Domain`; omitted when `None` or empty. Default `None`.
    pub domain: Option<&'a str>,
    /// `HttpOnly`. Default `true`.
    pub http_only: bool,
    /// `Secure`. Default: the secure mode.
    pub secure: bool,
    /// `Partitioned`. Default `false`.
    pub partitioned: bool,
    /// `Priority`. Default `None`.
    pub priority: Option<Priority>,
    /// `SameSite`. Default `Some(SameSite::Lax)`.
    pub same_site: Option<SameSite>,
    /// `Expires`, in Unix seconds, written as an IMF-fixdate. Default `None`.
    pub expires: Option<i64>,
    /// `Max-Age`, in seconds. Default `None`.
    pub max_age: Option<i64>,
}

impl Default for CookieOptions<'_> {
    /// [`CookieOptions::new(false)`](CookieOptions::new): Auth.js defaults, not secure.
    fn default() -> Self {
        Self::new(false)
    }
}

impl<'a> CookieOptions<'a> {
    /// Auth.js defaults: `Path=/; HttpOnly; SameSite=Lax`, plus `Secure` when `secure`.
    #[must_use]
    pub const fn new(secure: bool) -> Self {
        Self {
            path: "/",
            domain: None,
            http_only: true,
            secure,
            partitioned: false,
            priority: None,
            same_site: Some(SameSite::Lax),
            expires: None,
            max_age: None,
        }
    }

    /// With `Path` set to `path` (empty: no `Path`).
    #[must_use]
    pub const fn with_path(mut self, path: &'a str) -> Self {
        self.path = path;
        self
    }

    /// With `Domain` set.
    #[must_use]
    pub const fn with_domain(mut self, domain: Option<&'a str>) -> Self {
        self.domain = domain;
        self
    }

    /// With `HttpOnly` on or off.
    #[must_use]
    pub const fn with_http_only(mut self, http_only: bool) -> Self {
        self.http_only = http_only;
        self
    }

    /// With `Secure` on or off.
    #[must_use]
    pub const fn with_secure(mut self, secure: bool) -> Self {
        self.secure = secure;
        self
    }

    /// With `Partitioned` on or off.
    #[must_use]
    pub const fn with_partitioned(mut self, partitioned: bool) -> Self {
        self.partitioned = partitioned;
        self
    }

    /// With `Priority` set.
    #[must_use]
    pub const fn with_priority(mut self, priority: Option<Priority>) -> Self {
        self.priority = priority;
        self
    }

    /// With `SameSite` set.
    #[must_use]
    pub const fn with_same_site(mut self, same_site: Option<SameSite>) -> Self {
        self.same_site = same_site;
        self
    }

    /// With `Expires` set (Unix seconds).
    #[must_use]
    pub const fn with_expires(mut self, expires: Option<i64>) -> Self {
        self.expires = expires;
        self
    }

    /// With `Max-Age` set (seconds).
    #[must_use]
    pub const fn with_max_age(mut self, max_age: Option<i64>) -> Self {
        self.max_age = max_age;
        self
    }
}

/// Length of the `Set-Cookie` value [`write_set_cookie`] writes for these arguments.
///
/// # Errors
///
/// As [`write_set_cookie`], except `BufferTooSmall`.
pub fn set_cookie_len(
    name: &str,
    value: &str,
    options: &CookieOptions<'_>,
) -> Result<usize, CookieError> {
    let mut sink = Sink::counting();
    serialize(&mut sink, name, None, value, options)?;
    Ok(sink.len)
}

/// Writes a `Set-Cookie` header value as the `cookie` package's `serialize(name, value,
/// options)` does (what Auth.js sends):
///
/// `<name>=<encodeURIComponent(value)>[; Max-Age=<n>][; Domain=<d>][; Path=<p>]
/// [; Expires=<IMF-fixdate>][; HttpOnly][; Secure][; Partitioned][; Priority=<P>]
/// [; SameSite=<S>]`
///
/// For example `authjs.session-token=<jwe>; Path=/; Expires=Sun, 06 Nov 1994 08:49:37 GMT;
/// HttpOnly; Secure; SameSite=Lax`.
///
/// # Errors
///
/// - [`CookieError::InvalidName`]: `name` is empty or not an RFC 6265 token.
/// - [`CookieError::InvalidDomain`], [`CookieError::InvalidPath`]: the attribute would be
///   rejected by the `cookie` package.
/// - [`CookieError::InvalidExpires`]: `expires` outside the years 0000..=9999.
/// - [`CookieError::BufferTooSmall`]: `out` is shorter than [`set_cookie_len`]; nothing
///   useful is written then.
pub fn write_set_cookie<'o>(
    name: &str,
    value: &str,
    options: &CookieOptions<'_>,
    out: &'o mut [u8],
) -> Result<&'o str, CookieError> {
    let mut sink = Sink::new(out);
    serialize(&mut sink, name, None, value, options)?;
    sink.finish()
}

/// Writes the `Set-Cookie` value that deletes cookie `name`, as Auth.js does: an empty value
/// and `Max-Age=0` added to `options` (pass the cookie's configured options, without the
/// `Expires` of a session write, to get Auth.js's exact string), e.g.
/// `authjs.session-token.0=; Max-Age=0; Path=/; HttpOnly; Secure; SameSite=Lax`.
///
/// # Errors
///
/// As [`write_set_cookie`].
pub fn write_deletion<'o>(
    name: &str,
    options: &CookieOptions<'_>,
    out: &'o mut [u8],
) -> Result<&'o str, CookieError> {
    write_set_cookie(name, "", &options.with_max_age(Some(0)), out)
}

/// Length of `encodeURIComponent(value)`.
#[must_use]
pub fn encoded_len(value: &str) -> usize {
    value
        .bytes()
        .map(|b| if is_uri_unreserved(b) { 1_usize } else { 3 })
        .fold(0, usize::saturating_add)
}

/// Serializes one cookie. `suffix` is a chunk index appended to `name` as `.<n>`.
pub(super) fn serialize(
    sink: &mut Sink<'_>,
    name: &str,
    suffix: Option<u16>,
    value: &str,
    options: &CookieOptions<'_>,
) -> Result<(), CookieError> {
    check(name, options)?;
    write_checked(sink, name, suffix, value, options);
    Ok(())
}

/// The errors [`serialize`] can return for `name` and `options`, in its order (they do not
/// depend on the suffix or the value), without writing anything.
pub(super) fn check(name: &str, options: &CookieOptions<'_>) -> Result<(), CookieError> {
    if !is_token(name) {
        return Err(CookieError::InvalidName);
    }
    if let Some(domain) = options.domain.filter(|d| !d.is_empty()) {
        if !is_domain(domain.as_bytes()) {
            return Err(CookieError::InvalidDomain);
        }
    }
    if !options.path.is_empty()
        && !options
            .path
            .bytes()
            .all(|b| matches!(b, 0x20..=0x3a | 0x3d..=0x7e))
    {
        return Err(CookieError::InvalidPath);
    }
    if let Some(expires) = options.expires {
        if !(time::MIN_FORMAT_SECS..=time::MAX_FORMAT_SECS).contains(&expires) {
            return Err(CookieError::InvalidExpires);
        }
    }
    Ok(())
}

/// The writing half of [`serialize`], for a `name` and `options` that passed [`check`]
/// (others are written as they are, without a panic).
pub(super) fn write_checked(
    sink: &mut Sink<'_>,
    name: &str,
    suffix: Option<u16>,
    value: &str,
    options: &CookieOptions<'_>,
) {
    sink.push(name.as_bytes());
    if let Some(index) = suffix {
        sink.push(b".");
        sink.push_u64(u64::from(index));
    }
    sink.push(b"=");
    push_encoded(sink, value);
    if let Some(max_age) = options.max_age {
        sink.push(b"; Max-Age=");
        sink.push_i64(max_age);
    }
    if let Some(domain) = options.domain.filter(|d| !d.is_empty()) {
        sink.push(b"; Domain=");
        sink.push(domain.as_bytes());
    }
    if !options.path.is_empty() {
        sink.push(b"; Path=");
        sink.push(options.path.as_bytes());
    }
    if let Some(expires) = options.expires {
        sink.push(b"; Expires=");
        sink.push_http_date(expires);
    }
    if options.http_only {
        sink.push(b"; HttpOnly");
    }
    if options.secure {
        sink.push(b"; Secure");
    }
    if options.partitioned {
        sink.push(b"; Partitioned");
    }
    if let Some(priority) = options.priority {
        sink.push(priority.attribute().as_bytes());
    }
    if let Some(same_site) = options.same_site {
        sink.push(same_site.attribute().as_bytes());
    }
}

/// Whether `encodeURIComponent` escapes `b`: all but `A-Z a-z 0-9 - _ . ! ~ * ' ( )`. Range
/// checks combined with `|`, which the compiler turns into vector compares over a block (see
/// [`unreserved_run`]); the one definition of the set.
#[inline(always)]
const fn is_uri_reserved_branchless(b: u8) -> bool {
    let letter = (b | 0x20).wrapping_sub(b'a') < 26;
    let digit = b.wrapping_sub(b'0') < 10;
    // `'()*` are 0x27..=0x2A and `-.` are 0x2D..=0x2E.
    let punct = (b.wrapping_sub(b'\'') < 4)
        | (b.wrapping_sub(b'-') < 2)
        | (b == b'!')
        | (b == b'_')
        | (b == b'~');
    !(letter | digit | punct)
}

/// The bytes `encodeURIComponent` leaves as they are, as a table: one load per byte for the
/// byte-by-byte paths (the bytes after a run's last whole block, the encoded length).
#[allow(
    clippy::cast_possible_truncation,
    reason = "b < 256 fits in u8; const context has no TryFrom"
)]
const URI_UNRESERVED: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        t[b] = !is_uri_reserved_branchless(b as u8);
        b += 1;
    }
    t
};

const fn is_uri_unreserved(b: u8) -> bool {
    URI_UNRESERVED[b as usize]
}

/// Bytes per block of [`unreserved_run`].
const BLOCK: usize = 16;

/// Length of the leading run of `s` that `encodeURIComponent` leaves alone: whole blocks are
/// checked without a branch per byte (a session token is ~1 KB of such bytes), the block
/// that ends the run byte by byte.
pub(super) fn unreserved_run(s: &[u8]) -> usize {
    let (blocks, _) = s.as_chunks::<BLOCK>();
    let whole = blocks
        .iter()
        .position(|block| {
            // OR of per-byte flags (`|`, not `||`): no early exit per byte, and range checks
            // that the compiler turns into vector compares, instead of a table load per byte.
            let mut any = false;
            for &b in block {
                any |= is_uri_reserved_branchless(b);
            }
            any
        })
        .unwrap_or(blocks.len())
        * BLOCK;
    let tail = s.get(whole..).unwrap_or_default();
    whole
        + tail
            .iter()
            .position(|&b| !is_uri_unreserved(b))
            .unwrap_or(tail.len())
}

fn push_encoded(sink: &mut Sink<'_>, value: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut rest = value.as_bytes();
    while !rest.is_empty() {
        let run = unreserved_run(rest);
        let (plain, tail) = rest.split_at(run);
        sink.push(plain);
        let Some((&b, tail)) = tail.split_first() else {
            break;
        };
        sink.push(&[b'%', HEX[usize::from(b >> 4)], HEX[usize::from(b & 0x0f)]]);
        rest = tail;
    }
}

/// RFC 6265 cookie-name (RFC 7230 token): one or more of
/// ``!#$%&'*+-.^_`|~``, digits and letters.
fn is_token(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| TOKEN[usize::from(b)])
}

/// Whether `b` may appear in a cookie name.
#[cfg(test)]
pub(super) fn is_token_byte(b: u8) -> bool {
    TOKEN[usize::from(b)]
}

/// The bytes of an RFC 7230 token, as a table (one load per byte of the name).
#[allow(
    clippy::cast_possible_truncation,
    reason = "b < 256 fits in u8; const context has no TryFrom"
)]
const TOKEN: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = c.is_ascii_alphanumeric()
            || matches!(
                c,
                b'!' | b'#'
                    | b'$'
                    | b'%'
                    | b'&'
                    | b'\''
                    | b'*'
                    | b'+'
                    | b'-'
                    | b'.'
                    | b'^'
                    | b'_'
                    | b'`'
                    | b'|'
                    | b'~'
            );
        b += 1;
    }
    t
};

/// The `cookie` package's domain check: an optional leading `.`, then dot-separated labels
/// of 1..=63 letters, digits and hyphens that start and end with a letter or digit.
fn is_domain(domain: &[u8]) -> bool {
    let domain = domain.strip_prefix(b".").unwrap_or(domain);
    !domain.is_empty()
        && domain.split(|&b| b == b'.').all(|label| {
            let edge_ok = |b: Option<&u8>| b.is_some_and(u8::is_ascii_alphanumeric);
            label.len() <= 63
                && edge_ok(label.first())
                && edge_ok(label.last())
                && label
                    .iter()
                    .all(|&b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// Writes into a buffer while counting, so one code path both sizes and writes output.
pub(super) struct Sink<'o> {
    out: &'o mut [u8],
    /// Bytes produced so far (written or not).
    pub(super) len: usize,
}

impl<'o> Sink<'o> {
    pub(super) fn new(out: &'o mut [u8]) -> Self {
        Self { out, len: 0 }
    }

    pub(super) fn counting() -> Sink<'static> {
        Sink {
            out: &mut [],
            len: 0,
        }
    }

    pub(super) fn push(&mut self, bytes: &[u8]) {
        let end = self.len.saturating_add(bytes.len());
        if let Some(dst) = self.out.get_mut(self.len..end) {
            dst.copy_from_slice(bytes);
        }
        self.len = end;
    }

    pub(super) fn push_u64(&mut self, mut v: u64) {
        let mut digits = [0_u8; 20];
        let mut start = digits.len();
        loop {
            start -= 1;
            if let Some(d) = digits.get_mut(start) {
                // v % 10 < 10 fits u8.
                #[allow(clippy::cast_possible_truncation, reason = "0..=9")]
                let digit = (v % 10) as u8;
                *d = b'0' + digit;
            }
            v /= 10;
            if v == 0 || start == 0 {
                break;
            }
        }
        self.push(digits.get(start..).unwrap_or_default());
    }

    fn push_i64(&mut self, v: i64) {
        if v < 0 {
            self.push(b"-");
        }
        self.push_u64(v.unsigned_abs());
    }

    /// Pushes the IMF-fixdate of `unix_secs`, formatting it straight into the buffer, and
    /// only when it fits there (a counting sink only counts). Outside the years 0000..=9999
    /// (which [`check`] rejects) the slot is left as it was.
    fn push_http_date(&mut self, unix_secs: i64) {
        let end = self.len.saturating_add(HTTP_DATE_LEN);
        if let Some(slot) = self
            .out
            .get_mut(self.len..end)
            .and_then(|slot| <&mut [u8; HTTP_DATE_LEN]>::try_from(slot).ok())
        {
            // Only out of range, excluded by `check`.
            let _ = time::write_http_date(unix_secs, slot);
        }
        self.len = end;
    }

    /// The written text, or `BufferTooSmall` with the total length.
    pub(super) fn finish(self) -> Result<&'o str, CookieError> {
        let needed = self.len;
        match self.out.get(..needed) {
            Some(written) => Ok(ascii_str(written)),
            None => Err(CookieError::BufferTooSmall { needed }),
        }
    }

    /// The number of bytes written, or `BufferTooSmall` with the total length: [`Self::finish`]
    /// without the text view.
    pub(super) fn finish_len(self) -> Result<usize, CookieError> {
        let needed = self.len;
        if needed <= self.out.len() {
            Ok(needed)
        } else {
            Err(CookieError::BufferTooSmall { needed })
        }
    }
}
