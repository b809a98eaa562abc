//! `Cookie` request header parsing and `decodeURIComponent`.

use core::fmt;

use super::CookieError;
use crate::swar::{self, eq_mask};

/// One `name=value` pair of a `Cookie` request header, borrowed from the header.
///
/// The name and value have surrounding spaces and tabs removed, and a value wrapped in
/// double quotes has the quotes removed; the value is otherwise raw (not percent-decoded):
/// use [`RequestCookie::decode_into`] for the value Auth.js sees.
///
/// `Debug` prints the name and only the length of the value.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct RequestCookie<'h> {
    name: &'h [u8],
    raw_value: &'h [u8],
    /// Whether `raw_value` contains `%`, found while the parser scanned it.
    escapes: bool,
}

impl<'h> RequestCookie<'h> {
    /// The cookie name, trimmed of spaces and tabs. It may be empty (`=x`), as in the
    /// `cookie` package.
    #[must_use]
    pub const fn name(&self) -> &'h [u8] {
        self.name
    }

    /// The value as sent, trimmed and unquoted but not percent-decoded.
    #[must_use]
    pub const fn raw_value(&self) -> &'h [u8] {
        self.raw_value
    }

    /// Whether the value contains `%` (and so may need [`Self::decode_into`]).
    #[must_use]
    pub fn has_escapes(&self) -> bool {
        self.escapes
    }

    /// Length of the value [`Self::decode_into`] returns.
    #[must_use]
    pub fn decoded_len(&self) -> usize {
        self.decoding().unwrap_or(self.raw_value.len())
    }

    /// How [`decode_value`] treats the value: `Some(len)` when it decodes the escapes into
    /// `len` bytes, `None` when it returns the value unchanged (no `%`, or
    /// `decodeURIComponent` would throw).
    pub(super) fn decoding(&self) -> Option<usize> {
        if self.escapes {
            percent_decoded_len(self.raw_value)
        } else {
            None
        }
    }

    /// The value as Auth.js sees it; see [`decode_value`].
    ///
    /// # Errors
    ///
    /// [`CookieError::BufferTooSmall`] when the value has valid escapes and the decoded
    /// value does not fit `out` (`out.len() >= self.raw_value().len()` always suffices).
    pub fn decode_into<'a>(&self, out: &'a mut [u8]) -> Result<&'a [u8], CookieError>
    where
        'h: 'a,
    {
        if !self.escapes {
            return Ok(self.raw_value); // what decode_value returns without a `%`
        }
        decode_value(self.raw_value, out)
    }
}

impl fmt::Debug for RequestCookie<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestCookie")
            .field("name", &Lossy(self.name))
            .field("value_len", &self.raw_value.len())
            .finish()
    }
}

/// Prints bytes as text, escaping what is not printable ASCII.
struct Lossy<'a>(&'a [u8]);

impl fmt::Debug for Lossy<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"")?;
        for chunk in self.0.utf8_chunks() {
            for c in chunk.valid().chars() {
                fmt::Display::fmt(&c.escape_debug(), f)?;
            }
            for b in chunk.invalid() {
                write!(f, "\\x{b:02x}")?;
            }
        }
        f.write_str("\"")
    }
}

/// Iterator over the pairs of a `Cookie` header, in header order, duplicates included.
///
/// Created by [`parse`].
#[derive(Clone)]
pub struct Cookies<'h> {
    rest: &'h [u8],
}

impl fmt::Debug for Cookies<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cookies")
            .field("remaining_len", &self.rest.len())
            .finish()
    }
}

impl<'h> Iterator for Cookies<'h> {
    type Item = RequestCookie<'h>;

    fn next(&mut self) -> Option<RequestCookie<'h>> {
        // Same pairs as splitting at every `;` and then at the first `=` of each piece (the
        // `cookie` package's way), in one pass: the first `=` or `;` decides whether the
        // piece is a pair, and only a pair's value is then scanned for its `;`.
        loop {
            let Some(i) = find_eq_or_semi(self.rest) else {
                self.rest = &[];
                return None; // a last piece without `=`: skipped
            };
            let (head, tail) = self.rest.split_at(i);
            let Some((&sep, after)) = tail.split_first() else {
                self.rest = &[];
                return None;
            };
            if sep == b';' {
                self.rest = after;
                continue; // not a `name=value` pair: skipped, as by the `cookie` package
            }
            let (end, escapes) = scan_value(after);
            let (value, rest) = match end {
                Some(j) => {
                    let (value, semi_rest) = after.split_at(j);
                    (value, semi_rest.get(1..).unwrap_or_default())
                }
                None => (after, &[][..]),
            };
            self.rest = rest;
            // Trimming and unquoting remove only spaces, tabs and quotes, so `escapes` holds
            // for the raw value too.
            return Some(RequestCookie {
                name: trim(head),
                raw_value: unquote(trim(value)),
                escapes,
            });
        }
    }
}

impl core::iter::FusedIterator for Cookies<'_> {}

/// Iterates the `name=value` pairs of a `Cookie` request header as the `cookie` npm
/// package's `parse` (0.7) does.
///
/// - Pairs are separated by `;`; a piece without `=` is skipped; the name is the text before
///   the first `=`, the value everything after it (it may contain `=`).
/// - Spaces and tabs (only those) around names and values are removed.
/// - A value that starts and ends with `"` loses both quotes (a lone `"` becomes empty).
/// - A header shorter than 2 bytes yields nothing.
/// - Duplicates are all yielded, in order; the `cookie` package (and [`get`]) keeps the
///   first one.
///
/// Values are not percent-decoded; see [`decode_value`].
#[must_use]
pub fn parse(header: &[u8]) -> Cookies<'_> {
    Cookies {
        rest: if header.len() < 2 { &[] } else { header },
    }
}

/// The first cookie named `name` in `header`, as the object returned by the `cookie`
/// package's `parse` holds it (the first occurrence of a duplicate name wins, even when its
/// value is empty).
#[must_use]
pub fn get<'h>(header: &'h [u8], name: &str) -> Option<RequestCookie<'h>> {
    parse(header).find(|c| c.name == name.as_bytes())
}

/// Decodes a cookie value as the `cookie` package does: unchanged when it has no `%`,
/// otherwise `decodeURIComponent(value)`, and unchanged again when that would throw.
///
/// `decodeURIComponent` throws for a `%` not followed by two hex digits, and for escapes
/// that do not form a valid UTF-8 character (lone continuation bytes, a multi-byte
/// character not entirely escaped, overlong forms, surrogates, code points above
/// U+10FFFF). Raw bytes that are not `%` are passed through. The result borrows `raw`
/// (zero copy) when nothing is decoded and `out` otherwise.
///
/// # Errors
///
/// [`CookieError::BufferTooSmall`] when the value decodes and does not fit `out`; a buffer
/// of `raw.len()` bytes always suffices, [`decoded_len`] gives the exact size.
pub fn decode_value<'a>(raw: &'a [u8], out: &'a mut [u8]) -> Result<&'a [u8], CookieError> {
    if !raw.contains(&b'%') {
        return Ok(raw);
    }
    let Some(needed) = percent_decoded_len(raw) else {
        return Ok(raw);
    };
    let dst = out
        .get_mut(..needed)
        .ok_or(CookieError::BufferTooSmall { needed })?;
    write_unescaped(raw, dst);
    Ok(dst)
}

/// Exact length of the value [`decode_value`] returns for `raw`.
#[must_use]
pub fn decoded_len(raw: &[u8]) -> usize {
    if raw.contains(&b'%') {
        percent_decoded_len(raw).unwrap_or(raw.len())
    } else {
        raw.len()
    }
}

/// Length of `decodeURIComponent(raw)`, or `None` if it would throw.
pub(super) fn percent_decoded_len(raw: &[u8]) -> Option<usize> {
    let mut len = 0_usize;
    walk(raw, |bytes| len += bytes.len()).then_some(len)
}

/// Feeds the decoded bytes of `raw` to `emit`, one byte or one escaped character at a time;
/// returns `false` (possibly after emitting a prefix) where `decodeURIComponent` throws.
fn walk(raw: &[u8], mut emit: impl FnMut(&[u8])) -> bool {
    let mut rest = raw;
    while let Some((&b, tail)) = rest.split_first() {
        if b != b'%' {
            emit(core::slice::from_ref(&b));
            rest = tail;
            continue;
        }
        let Some((lead, mut tail)) = escape(rest) else {
            return false;
        };
        let width = match lead {
            0x00..=0x7f => 1,
            0xc0..=0xdf => 2,
            0xe0..=0xef => 3,
            0xf0..=0xf7 => 4,
            _ => return false,
        };
        let mut buf = [lead, 0, 0, 0];
        for slot in buf.iter_mut().take(width).skip(1) {
            let Some((cont, t)) = escape(tail) else {
                return false; // each byte of the character must be escaped
            };
            *slot = cont;
            tail = t;
        }
        let Some(char_bytes) = buf.get(..width) else {
            return false;
        };
        if core::str::from_utf8(char_bytes).is_err() {
            return false; // bad continuation, overlong, surrogate or > U+10FFFF
        }
        emit(char_bytes);
        rest = tail;
    }
    true
}

/// The byte of a leading `%XY` escape and the text after it.
fn escape(s: &[u8]) -> Option<(u8, &[u8])> {
    match s {
        [b'%', hi, lo, rest @ ..] => Some(((hex(*hi)? << 4) | hex(*lo)?, rest)),
        _ => None,
    }
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Index of the first byte for which `mask_of(word)` is non-zero, eight bytes at a time, then
/// byte by byte through `is_match` for the tail. `mask_of` must follow [`eq_mask`]'s
/// rule (its lowest set bit marks the first matching byte) and agree with `is_match`.
#[inline(always)]
fn find_by(s: &[u8], mask_of: impl Fn(u64) -> u64, is_match: impl Fn(u8) -> bool) -> Option<usize> {
    let (words, tail) = s.as_chunks::<8>();
    for (i, word) in words.iter().enumerate() {
        let m = mask_of(u64::from_le_bytes(*word));
        if m != 0 {
            let byte = swar::first(m);
            return Some(i * 8 + byte);
        }
    }
    tail.iter()
        .position(|&b| is_match(b))
        .map(|p| words.len() * 8 + p)
}

/// Scans the text after a pair's `=`: the index of the first `;` (`None`: the value runs to
/// the end) and whether a `%` comes before it.
///
/// Sixteen bytes per step: one test tells whether any of them is a `;` or lies below `-`
/// (where `%` is); only such blocks, rare in tokens (base64url and `.`), are looked at byte
/// by byte.
pub(super) fn scan_value(s: &[u8]) -> (Option<usize>, bool) {
    let mut escapes = false;
    let (blocks, tail) = s.as_chunks::<16>();
    let mut start = 0;
    while let Some(rest) = blocks.get(start..) {
        let Some(k) = rest.iter().position(|block| {
            // The lanes' flags ORed with `|` (not `||`): vector compares and one mask move,
            // as in the JSON string scanner (measured faster than two SWAR words).
            let mut any = false;
            for &b in block {
                any |= (b == b';') | (b < b'-');
            }
            any
        }) else {
            break;
        };
        let at = start + k;
        if let Some(j) = blocks.get(at).and_then(|b| scan_bytes(b, &mut escapes)) {
            return (Some(at * 16 + j), escapes);
        }
        start = at + 1;
    }
    let end = scan_bytes(tail, &mut escapes).map(|j| blocks.len() * 16 + j);
    (end, escapes)
}

/// Index of the first `;` of `bytes`, noting any `%` before it in `escapes`; byte by byte,
/// kept out of [`scan_value`]'s loop.
#[inline(never)]
fn scan_bytes(bytes: &[u8], escapes: &mut bool) -> Option<usize> {
    for (j, &b) in bytes.iter().enumerate() {
        match b {
            b';' => return Some(j),
            b'%' => *escapes = true,
            _ => {}
        }
    }
    None
}

/// Index of the first `=` or `;` in `s`.
pub(super) fn find_eq_or_semi(s: &[u8]) -> Option<usize> {
    find_by(
        s,
        |w| eq_mask(w, b'=') | eq_mask(w, b';'),
        |c| c == b'=' || c == b';',
    )
}

/// Removes spaces and tabs at both ends.
fn trim(s: &[u8]) -> &[u8] {
    let ws = |b: &u8| *b == b' ' || *b == b'\t';
    let start = s.iter().position(|b| !ws(b)).unwrap_or(s.len());
    let end = s.iter().rposition(|b| !ws(b)).map_or(start, |i| i + 1);
    s.get(start..end).unwrap_or_default()
}

/// `cookie` 0.7: a value whose first and last bytes are `"` loses them; a lone `"` becomes
/// empty (JavaScript's `slice(start, end)` with `start > end`).
fn unquote(v: &[u8]) -> &[u8] {
    match v {
        [b'"'] => &[],
        [b'"', inner @ .., b'"'] => inner,
        _ => v,
    }
}

/// Writes `decodeURIComponent(raw)` into `dst`, for a `raw` with escapes that decodes into
/// `dst.len()` bytes ([`percent_decoded_len`]; bytes that do not fit are dropped).
pub(super) fn write_unescaped(raw: &[u8], dst: &mut [u8]) {
    let mut written = 0_usize;
    walk(raw, |bytes: &[u8]| {
        let end = written.saturating_add(bytes.len());
        if let Some(slot) = dst.get_mut(written..end) {
            slot.copy_from_slice(bytes);
        }
        written = end;
    });
}
