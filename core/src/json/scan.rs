//! Byte-level scanning shared by the validator, the member iterator and the deserializer:
//! whitespace, strings, escapes, numbers, literals and whole values.
//!
//! Every function takes the whole input and an offset, and reports errors with absolute
//! offsets. Nothing here indexes out of range or recurses.

use super::{Error, MAX_DEPTH};
use crate::swar;

// The open-container stack of `skip_value` is a bit mask.
const _: () = assert!(MAX_DEPTH <= 64);

/// Whether `b` is one of the four JSON whitespace bytes.
#[inline]
const fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

/// Returns the offset of the first non-whitespace byte at or after `pos`.
#[inline]
pub(crate) fn skip_ws(input: &[u8], mut pos: usize) -> usize {
    while let Some(&b) = input.get(pos) {
        if !is_ws(b) {
            break;
        }
        pos += 1;
    }
    pos
}

/// Checks that only whitespace follows `pos`.
pub(crate) fn expect_end(input: &[u8], pos: usize) -> Result<(), Error> {
    let pos = skip_ws(input, pos);
    if pos < input.len() {
        return Err(Error::TrailingCharacters { offset: pos });
    }
    Ok(())
}

/// The error for byte `b` at `offset` where a value should start.
#[cold]
pub(crate) fn value_start_error(b: u8, offset: usize) -> Error {
    match b {
        b'+' | b'.' | b'N' | b'I' => Error::InvalidNumber { offset },
        _ => Error::Syntax { offset },
    }
}

/// Byte at `pos`, or [`Error::UnexpectedEnd`].
#[inline]
pub(crate) fn byte_at(input: &[u8], pos: usize) -> Result<u8, Error> {
    input.get(pos).copied().ok_or(Error::UnexpectedEnd)
}

// ---------------------------------------------------------------------------------------------
// Strings

/// A scanned, validated string token.
#[derive(Clone, Copy)]
pub(crate) struct Str<'a> {
    /// The text between the quotes, escapes still in place (valid UTF-8).
    pub(crate) raw: &'a str,
    /// Offset just past the closing quote.
    pub(crate) end: usize,
    /// Whether `raw` contains at least one escape.
    pub(crate) escaped: bool,
}

/// Whether a string byte needs attention: quote, backslash or control character.
///
/// Two of the three tests are one compare: `b ^ 2` keeps the control characters below 0x20,
/// moves the quote (0x22) to 0x20, and leaves every other byte above 0x20. Branch-free (`|`),
/// so that the vector loop of [`find_special`] gets one compare fewer per step and no
/// byte-pair shuffles (which the compiler used for the two equality tests).
#[inline(always)]
const fn is_special(b: u8) -> bool {
    ((b ^ 2) <= 0x20) | (b == b'\\')
}

/// Flags the bytes of `word` that [`is_special`] (see [`swar`] for the flags' rules), with
/// the same `^ 2` as [`is_special`].
#[inline(always)]
const fn special_mask(word: u64) -> u64 {
    swar::below_mask(word ^ (swar::ONES * 2), 0x21) | swar::eq_mask(word, b'\\')
}

/// Offset of the first special byte at or after `i` (or `input.len()`).
#[inline]
pub(super) fn find_special(input: &[u8], mut i: usize) -> usize {
    // On processors with 16-byte vectors in the baseline, sixteen bytes at a time first: is
    // any of them special? The lanes are ORed into one flag without branches (`|`, not `||`),
    // which the compiler does with vector compares and a mask move (SSE2: `pmovmskb`). Only
    // then is the byte found, eight bytes at a time. (Building a 16-byte flag array and reading
    // it back as a `u128` went through the stack: a stalled store-to-load forward per step.)
    #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
    while let Some(Ok(c)) = input.get(i..i + 16).map(<&[u8; 16]>::try_from) {
        let mut any = false;
        for &b in c {
            any |= is_special(b);
        }
        if any {
            // Which one: the two halves' masks, eight bytes at a time.
            let (lo, hi) = c.split_at(8);
            let word =
                |h: &[u8]| special_mask(u64::from_le_bytes(h.try_into().unwrap_or_default()));
            let lo = word(lo);
            return i + if lo != 0 {
                swar::first(lo)
            } else {
                8 + swar::first(word(hi))
            };
        }
        i += 16;
    }
    // Then eight bytes at a time.
    while let Some(Ok(chunk)) = input.get(i..i + 8).map(<[u8; 8]>::try_from) {
        let hits = special_mask(u64::from_le_bytes(chunk));
        if hits != 0 {
            return i + swar::first(hits);
        }
        i += 8;
    }
    while let Some(&b) = input.get(i) {
        if is_special(b) {
            break;
        }
        i += 1;
    }
    i
}

/// The value of eight ASCII digits (the first in the lowest byte), or `None` if a byte is not
/// a digit: the digits are paired, then the pairs, then the quads, by multiply and shift.
#[inline]
const fn eight_digits(v: u64) -> Option<u64> {
    const ZEROS: u64 = 0x3030_3030_3030_3030;
    const HIGH_NIBBLES: u64 = 0xf0f0_f0f0_f0f0_f0f0;
    // Every byte is 0x30..=0x39: its high nibble is 3, and adding 6 does not carry out of it.
    if v & HIGH_NIBBLES != ZEROS || v.wrapping_add(0x0606_0606_0606_0606) & HIGH_NIBBLES != ZEROS {
        return None;
    }
    let d = v - ZEROS;
    // Each 16-bit lane: first * 10 + second (in its low byte).
    let pairs = d.wrapping_mul(10).wrapping_add(d >> 8);
    // Each 32-bit lane's two pairs, combined into the top half: p0 * 100 + p1, then the two
    // quads as q0 * 10^4 + q1.
    let lo = (pairs & 0x0000_00ff_0000_00ff).wrapping_mul(100 + (1_000_000 << 32));
    let hi = ((pairs >> 16) & 0x0000_00ff_0000_00ff).wrapping_mul(1 + (10_000 << 32));
    Some(lo.wrapping_add(hi) >> 32)
}

/// The common number in one pass: a non-negative integer of 1 to 19 digits (so it fits
/// `u64`) without a leading zero, fraction or exponent, starting at `start`; its value and the
/// offset after it. `None` for anything else, which [`scan_number`] then reads (and rejects
/// where invalid): this accepts nothing it would not, with the same end.
#[inline]
pub(crate) fn plain_u64(input: &[u8], start: usize) -> Option<(u64, usize)> {
    let mut i = start;
    let mut value: u64 = 0;
    // Eight digits at once when there are (a NumericDate has ten), then one at a time.
    if let Some(Ok(chunk)) = input.get(i..i + 8).map(<[u8; 8]>::try_from) {
        if let Some(v) = eight_digits(u64::from_le_bytes(chunk)) {
            value = v;
            i += 8;
        }
    }
    while let Some(&b) = input.get(i) {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            break;
        }
        // Wrapping: more than 19 digits are refused below, before the value is used.
        value = value.wrapping_mul(10).wrapping_add(u64::from(d));
        i += 1;
    }
    let digits = i - start;
    let leading_zero = digits > 1 && input.get(start) == Some(&b'0');
    let more = matches!(input.get(i), Some(b'.' | b'e' | b'E'));
    (digits > 0 && digits <= 19 && !leading_zero && !more).then_some((value, i))
}

/// Whether `bytes` is ASCII from 0x20 up without `"` and `\` (DEL is allowed, as in JSON
/// strings): the raw text of a JSON string that is exactly its value (no escapes, no UTF-8 to
/// check). Eight bytes at a time.
#[cfg_attr(
    not(feature = "jwe"),
    allow(dead_code, reason = "used by the jwe module")
)]
pub(crate) fn is_plain_text(bytes: &[u8]) -> bool {
    let (words, tail) = bytes.as_chunks::<8>();
    let mut flags = 0;
    for chunk in words {
        let v = u64::from_le_bytes(*chunk);
        // "Any flag" is exact; non-ASCII bytes are flagged by their own top bit.
        flags |= special_mask(v) | (v & swar::HIGHS);
    }
    flags == 0 && tail.iter().all(|&b| b.is_ascii() && !is_special(b))
}

/// The value of `bytes` when all of it is a plain integer as [`plain_u64`] reads one.
pub(crate) fn plain_integer(bytes: &[u8]) -> Option<u64> {
    match plain_u64(bytes, 0) {
        Some((value, end)) if end == bytes.len() => Some(value),
        _ => None,
    }
}

/// Scans the string whose opening quote is at `start`.
pub(crate) fn scan_string(input: &[u8], start: usize) -> Result<Str<'_>, Error> {
    scan_string_in(input, None, start)
}

/// [`scan_string`] where `text`, when given, is all of `input` already checked to be UTF-8:
/// the string's text is then sliced from it instead of being validated again (the quotes are
/// ASCII, so they are character boundaries).
///
/// The common case (no escape, `text` given) is inline; anything else is left to an
/// out-of-line scan from the start, which keeps the escape and error handling (and the
/// registers they need) out of every call. The search for the closing quote is out of line
/// too and hands back only its position, in a register: inlined whole, or returning a `Str`
/// through memory from a call, the parse measured slower (BENCHMARKS.md, eleventh round).
#[inline(always)]
pub(crate) fn scan_string_in<'a>(
    input: &'a [u8],
    text: Option<&'a str>,
    start: usize,
) -> Result<Str<'a>, Error> {
    let content = start + 1;
    if let Some(t) = text {
        // The closing quote is looked at in `t` itself, so that the compiler sees that the
        // slice ends at an ASCII byte (a character boundary) and does not test it again.
        let bytes = t.as_bytes();
        let i = find_special_outlined(bytes, content);
        if bytes.get(i) == Some(&b'"') {
            if let Some(raw) = t.get(content..i) {
                return Ok(Str {
                    raw,
                    end: i + 1,
                    escaped: false,
                });
            }
        }
    }
    scan_string_full(input, text, start)
}

/// [`find_special`] out of line, for [`scan_string_in`].
#[inline(never)]
fn find_special_outlined(input: &[u8], i: usize) -> usize {
    find_special(input, i)
}

/// [`scan_string_in`] for any string: escapes, errors, and inputs without `text`.
#[inline(never)]
fn scan_string_full<'a>(
    input: &'a [u8],
    text: Option<&'a str>,
    start: usize,
) -> Result<Str<'a>, Error> {
    let content = start + 1;
    // Errors are reported first in document order: bytes that are not UTF-8 before the
    // problem found (a control character, a bad escape, the end) come first. Known-UTF-8 input
    // (`text`) has none.
    let first = |at: usize, e: Error| -> Error {
        if text.is_some() {
            return e;
        }
        match core::str::from_utf8(input.get(content..at).unwrap_or_default()) {
            // A sequence cut short by the end of the input may not be wrong yet; one cut
            // short by the ASCII byte at `at` is.
            Err(u) if u.error_len().is_some() || at < input.len() => Error::InvalidUtf8 {
                offset: content + u.valid_up_to(),
            },
            _ => e,
        }
    };
    let mut i = content;
    let mut escaped = false;
    loop {
        i = find_special(input, i);
        match input.get(i) {
            None => return Err(first(i, Error::UnexpectedEnd)),
            Some(b'"') => break,
            Some(b'\\') => {
                escaped = true;
                i = scan_escape(input, i).map_err(|e| first(i, e))?;
            }
            Some(_) => return Err(first(i, Error::ControlCharacter { offset: i })),
        }
    }
    if let Some(raw) = text.and_then(|t| t.get(content..i)) {
        return Ok(Str {
            raw,
            end: i + 1,
            escaped,
        });
    }
    let bytes = input.get(content..i).unwrap_or_default();
    match core::str::from_utf8(bytes) {
        Ok(raw) => Ok(Str {
            raw,
            end: i + 1,
            escaped,
        }),
        Err(e) => Err(Error::InvalidUtf8 {
            offset: content + e.valid_up_to(),
        }),
    }
}

/// Value of an ASCII hex digit.
#[inline]
const fn hex_value(b: u8) -> Option<u16> {
    match b {
        b'0'..=b'9' => Some((b - b'0') as u16),
        b'a'..=b'f' => Some((b - b'a' + 10) as u16),
        b'A'..=b'F' => Some((b - b'A' + 10) as u16),
        _ => None,
    }
}

/// Why an escape could not be read.
enum EscapeError {
    /// The input ended inside it.
    End,
    /// It is malformed.
    Invalid,
}

/// Reads the four hex digits at `at`.
fn hex4(input: &[u8], at: usize) -> Result<u16, EscapeError> {
    let mut value = 0u16;
    for k in 0..4 {
        let b = input.get(at + k).ok_or(EscapeError::End)?;
        value = (value << 4) | hex_value(*b).ok_or(EscapeError::Invalid)?;
    }
    Ok(value)
}

/// Decodes the escape whose backslash is at `i`; returns the character and the offset after it.
fn decode_escape(input: &[u8], i: usize) -> Result<(char, usize), EscapeError> {
    let c = match input.get(i + 1).ok_or(EscapeError::End)? {
        b'"' => '"',
        b'\\' => '\\',
        b'/' => '/',
        b'b' => '\u{8}',
        b'f' => '\u{c}',
        b'n' => '\n',
        b'r' => '\r',
        b't' => '\t',
        b'u' => {
            let unit = hex4(input, i + 2)?;
            return match unit {
                0xD800..=0xDBFF => {
                    match (input.get(i + 6), input.get(i + 7)) {
                        (Some(b'\\'), Some(b'u')) => {}
                        (None, _) | (Some(b'\\'), None) => return Err(EscapeError::End),
                        _ => return Err(EscapeError::Invalid),
                    }
                    let low = hex4(input, i + 8)?;
                    if !(0xDC00..=0xDFFF).contains(&low) {
                        return Err(EscapeError::Invalid);
                    }
                    let code =
                        0x1_0000 + ((u32::from(unit) - 0xD800) << 10) + (u32::from(low) - 0xDC00);
                    let c = char::from_u32(code).ok_or(EscapeError::Invalid)?;
                    Ok((c, i + 12))
                }
                0xDC00..=0xDFFF => Err(EscapeError::Invalid),
                _ => {
                    let c = char::from_u32(u32::from(unit)).ok_or(EscapeError::Invalid)?;
                    Ok((c, i + 6))
                }
            };
        }
        _ => return Err(EscapeError::Invalid),
    };
    Ok((c, i + 2))
}

/// Validates the escape whose backslash is at `i`; returns the offset after it.
#[inline]
fn scan_escape(input: &[u8], i: usize) -> Result<usize, Error> {
    match decode_escape(input, i) {
        Ok((_, next)) => Ok(next),
        Err(EscapeError::End) => Err(Error::UnexpectedEnd),
        Err(EscapeError::Invalid) => Err(Error::InvalidEscape { offset: i }),
    }
}

/// One piece of unescaped text.
pub(crate) enum Piece<'a> {
    /// A run of bytes without escapes.
    Raw(&'a [u8]),
    /// The UTF-8 encoding of one escaped character (`len` bytes of `bytes`).
    Char { bytes: [u8; 4], len: usize },
}

impl Piece<'_> {
    /// The unescaped bytes.
    pub(crate) fn bytes(&self) -> &[u8] {
        match self {
            Self::Raw(raw) => raw,
            Self::Char { bytes, len } => bytes.get(..*len).unwrap_or_default(),
        }
    }
}

/// Unescapes raw string text (between the quotes) piece by piece. Yields `Err(offset in raw)`
/// at a bad escape (impossible for text that went through [`scan_string`]).
#[derive(Clone)]
pub(crate) struct Pieces<'a> {
    raw: &'a [u8],
    pos: usize,
}

impl<'a> Pieces<'a> {
    pub(crate) fn new(raw: &'a [u8]) -> Self {
        Self { raw, pos: 0 }
    }
}

impl<'a> Iterator for Pieces<'a> {
    type Item = Result<Piece<'a>, usize>;

    fn next(&mut self) -> Option<Self::Item> {
        let rest = self.raw.get(self.pos..)?;
        if rest.is_empty() {
            return None;
        }
        if rest.first() != Some(&b'\\') {
            let len = rest.iter().position(|&b| b == b'\\').unwrap_or(rest.len());
            self.pos += len;
            return Some(Ok(Piece::Raw(rest.get(..len).unwrap_or_default())));
        }
        match decode_escape(self.raw, self.pos) {
            Ok((c, next)) => {
                let mut bytes = [0u8; 4];
                let len = c.encode_utf8(&mut bytes).len();
                self.pos = next;
                Some(Ok(Piece::Char { bytes, len }))
            }
            Err(_) => {
                let at = self.pos;
                self.pos = self.raw.len();
                Some(Err(at))
            }
        }
    }
}

/// Whether raw string text unescapes to exactly `expected`.
pub(crate) fn unescaped_eq(raw: &[u8], expected: &[u8]) -> bool {
    let mut rest = expected;
    for piece in Pieces::new(raw) {
        let Ok(piece) = piece else { return false };
        let bytes = piece.bytes();
        match rest.strip_prefix(bytes) {
            Some(tail) => rest = tail,
            None => return false,
        }
    }
    rest.is_empty()
}

/// Length of raw string text once unescaped.
pub(crate) fn unescaped_len(raw: &[u8]) -> usize {
    Pieces::new(raw)
        .map(|piece| piece.map_or(0, |p| p.bytes().len()))
        .sum()
}

/// Why [`unescape_into`] failed.
pub(crate) enum UnescapeError {
    /// `out` is too small.
    TooSmall,
    /// Bad escape at this offset of the raw text.
    Invalid(usize),
}

/// Unescapes raw string text into `out`; returns the length written.
pub(crate) fn unescape_into(raw: &[u8], out: &mut [u8]) -> Result<usize, UnescapeError> {
    let mut len = 0;
    for piece in Pieces::new(raw) {
        let piece = piece.map_err(UnescapeError::Invalid)?;
        let bytes = piece.bytes();
        let end = len + bytes.len();
        out.get_mut(len..end)
            .ok_or(UnescapeError::TooSmall)?
            .copy_from_slice(bytes);
        len = end;
    }
    Ok(len)
}

// ---------------------------------------------------------------------------------------------
// Numbers and literals

/// Offset of the first non-digit at or after `i`.
#[inline]
fn skip_digits(input: &[u8], mut i: usize) -> usize {
    while let Some(b'0'..=b'9') = input.get(i) {
        i += 1;
    }
    i
}

/// Scans the number starting at `start`; returns the offset after it and whether it is an
/// integer (no fraction, no exponent).
pub(crate) fn scan_number(input: &[u8], start: usize) -> Result<(usize, bool), Error> {
    let mut i = start;
    if input.get(i) == Some(&b'-') {
        i += 1;
    }
    match input.get(i) {
        Some(b'0') => {
            i += 1;
            if let Some(b'0'..=b'9') = input.get(i) {
                return Err(Error::InvalidNumber { offset: i });
            }
        }
        Some(b'1'..=b'9') => i = skip_digits(input, i + 1),
        _ => return Err(Error::InvalidNumber { offset: i }),
    }
    let mut integer = true;
    if input.get(i) == Some(&b'.') {
        integer = false;
        i += 1;
        let Some(b'0'..=b'9') = input.get(i) else {
            return Err(Error::InvalidNumber { offset: i });
        };
        i = skip_digits(input, i + 1);
    }
    if let Some(b'e' | b'E') = input.get(i) {
        integer = false;
        i += 1;
        if let Some(b'+' | b'-') = input.get(i) {
            i += 1;
        }
        let Some(b'0'..=b'9') = input.get(i) else {
            return Err(Error::InvalidNumber { offset: i });
        };
        i = skip_digits(input, i + 1);
    }
    Ok((i, integer))
}

/// Checks that `literal` (`true`, `false`, `null`) starts at `start`; returns the offset after.
#[inline]
pub(crate) fn scan_literal(input: &[u8], start: usize, literal: &[u8]) -> Result<usize, Error> {
    let end = start + literal.len();
    if input.get(start..end) == Some(literal) {
        return Ok(end);
    }
    for (k, expected) in literal.iter().enumerate() {
        match input.get(start + k) {
            None => return Err(Error::UnexpectedEnd),
            Some(b) if b != expected => return Err(Error::Syntax { offset: start + k }),
            Some(_) => {}
        }
    }
    Err(Error::Syntax { offset: start })
}

// ---------------------------------------------------------------------------------------------
// Whole values

/// Scans `"name"`, whitespace and `:` starting at `pos` (where the quote must be); returns
/// the offset after the colon.
fn scan_member_name(input: &[u8], text: Option<&str>, pos: usize) -> Result<usize, Error> {
    match byte_at(input, pos)? {
        b'"' => {}
        _ => return Err(Error::Syntax { offset: pos }),
    }
    let pos = skip_ws(input, scan_string_in(input, text, pos)?.end);
    match byte_at(input, pos)? {
        b':' => Ok(pos + 1),
        _ => Err(Error::Syntax { offset: pos }),
    }
}

/// Validates and skips one value (after optional whitespace) starting at `pos`; returns the
/// offset just after it. At most `budget` arrays/objects may be open at once inside it.
/// Iterative: the open containers are a bit stack.
pub(crate) fn skip_value(input: &[u8], pos: usize, budget: usize) -> Result<usize, Error> {
    skip_value_in(input, None, pos, budget)
}

/// [`skip_value`] with `text` as in [`scan_string_in`].
pub(crate) fn skip_value_in(
    input: &[u8],
    text: Option<&str>,
    pos: usize,
    budget: usize,
) -> Result<usize, Error> {
    // Bit k set: the container opened k levels below the innermost one is an object.
    let mut objects: u64 = 0;
    let mut depth = 0usize;
    let mut i = pos;
    loop {
        // A value starts here.
        i = skip_ws(input, i);
        let b = byte_at(input, i)?;
        match b {
            b'{' | b'[' => {
                if depth >= budget {
                    return Err(Error::TooDeep { offset: i });
                }
                let is_object = b == b'{';
                objects = (objects << 1) | u64::from(is_object);
                depth += 1;
                i = skip_ws(input, i + 1);
                let close = if is_object { b'}' } else { b']' };
                if input.get(i) == Some(&close) {
                    i += 1;
                    depth -= 1;
                    objects >>= 1;
                } else {
                    if is_object {
                        i = scan_member_name(input, text, i)?;
                    }
                    continue;
                }
            }
            b'"' => i = scan_string_in(input, text, i)?.end,
            b'-' | b'0'..=b'9' => i = scan_number(input, i)?.0,
            b't' => i = scan_literal(input, i, b"true")?,
            b'f' => i = scan_literal(input, i, b"false")?,
            b'n' => i = scan_literal(input, i, b"null")?,
            _ => return Err(value_start_error(b, i)),
        }
        // A value ended: close containers until one continues with a comma.
        loop {
            if depth == 0 {
                return Ok(i);
            }
            i = skip_ws(input, i);
            let in_object = objects & 1 == 1;
            match byte_at(input, i)? {
                b',' => {
                    i += 1;
                    if in_object {
                        i = scan_member_name(input, text, skip_ws(input, i))?;
                    }
                    break;
                }
                b']' if !in_object => {}
                b'}' if in_object => {}
                _ => return Err(Error::Syntax { offset: i }),
            }
            i += 1;
            depth -= 1;
            objects >>= 1;
        }
    }
}
