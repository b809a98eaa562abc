//! The serde deserializer: strict, zero-copy for unescaped strings, escaped strings unescaped
//! into the caller's arena.

use serde::de::{self, DeserializeSeed, IntoDeserializer, Visitor};

use super::members::{Key, Value};
use super::scan::{self, UnescapeError};
use super::{Error, MAX_DEPTH};

/// Escaped member names up to this many bytes are unescaped on the stack, not in the arena.
const NAME_BUFFER: usize = 64;

/// Watches the members of the top-level object while a value is deserialized, so that a
/// caller can check some members (the registered JWT claims) without a second pass.
pub(crate) trait Observer<'de> {
    /// Whether the member with this raw (still escaped) name is to be shown to
    /// [`Observer::member`]; `escaped` tells whether the name has an escape.
    fn wants(&self, raw_name: &[u8], escaped: bool) -> bool;
    /// Whether [`Observer::member`] reads the wanted member's value, or only its kind. When
    /// not, the value is not read ahead: [`Observer::member`] gets it with the right kind and
    /// empty text (the target type reads and checks the value itself).
    #[inline(always)]
    fn reads_value(&self, _raw_name: &[u8], _escaped: bool) -> bool {
        true
    }
    /// Sees a wanted member of the top-level object before the target type reads its value;
    /// `false` aborts the deserialization (with an unspecified error).
    fn member(&mut self, key: Key<'de>, value: Value<'de>) -> bool;
    /// Sees a wanted member whose value it does not read ([`Observer::reads_value`]) by its
    /// name alone, which has no escape; `false` aborts as in [`Observer::member`].
    fn name_only(&mut self, raw_name: &[u8]) -> bool;
    /// Sees a wanted member (its name without escapes) whose value is a plain integer, as
    /// [`Observer::member`] would with that value; `None` to be shown it by
    /// [`Observer::member`] instead.
    #[inline(always)]
    fn plain_integer(&mut self, _raw_name: &[u8], _value: u64) -> Option<bool> {
        None
    }
    /// The target type read the top-level object to its closing brace, so every member was
    /// offered to [`Observer::wants`].
    fn end(&mut self);
    /// Called at the start of each member of the top-level object: a hook to interleave
    /// independent work (a MAC computation) with the parse.
    #[inline(always)]
    fn tick(&mut self) {}
}

/// `inner`, with `tick` run at the start of each top-level member.
pub(crate) struct Ticking<O, F> {
    pub(crate) inner: O,
    pub(crate) tick: F,
}

impl<'de, O: Observer<'de>, F: FnMut()> Observer<'de> for Ticking<O, F> {
    #[inline(always)]
    fn wants(&self, raw_name: &[u8], escaped: bool) -> bool {
        self.inner.wants(raw_name, escaped)
    }
    #[inline(always)]
    fn reads_value(&self, raw_name: &[u8], escaped: bool) -> bool {
        self.inner.reads_value(raw_name, escaped)
    }
    #[inline(always)]
    fn member(&mut self, key: Key<'de>, value: Value<'de>) -> bool {
        self.inner.member(key, value)
    }
    #[inline(always)]
    fn name_only(&mut self, raw_name: &[u8]) -> bool {
        self.inner.name_only(raw_name)
    }
    #[inline(always)]
    fn plain_integer(&mut self, raw_name: &[u8], value: u64) -> Option<bool> {
        self.inner.plain_integer(raw_name, value)
    }
    #[inline(always)]
    fn end(&mut self) {
        self.inner.end();
    }
    #[inline(always)]
    fn tick(&mut self) {
        (self.tick)();
    }
}

/// Observes nothing.
impl Observer<'_> for () {
    #[inline(always)]
    fn wants(&self, _raw_name: &[u8], _escaped: bool) -> bool {
        false
    }
    #[inline(always)]
    fn member(&mut self, _key: Key<'_>, _value: Value<'_>) -> bool {
        true
    }
    #[inline(always)]
    fn name_only(&mut self, _raw_name: &[u8]) -> bool {
        true
    }
    #[inline(always)]
    fn end(&mut self) {}
}

/// Deserializer over one input and one unescape arena.
pub(crate) struct Deserializer<'de, O = ()> {
    input: &'de [u8],
    /// `input` as text when it is all UTF-8 (checked once, so strings are not checked again).
    text: Option<&'de str>,
    pos: usize,
    /// The unused part of the arena.
    arena: &'de mut [u8],
    arena_used: usize,
    /// Number of arrays/objects open at `pos`.
    depth: usize,
    /// Sees the top-level object's members.
    observer: O,
    /// Whether the last string scanned had an escape.
    last_escaped: bool,
}

/// A number token.
enum Number<'de> {
    /// A non-negative integer that fits `u64`.
    Unsigned(u64),
    /// A negative integer that fits `i64` (including `-0`).
    Signed(i64),
    /// Anything else: its text (fraction, exponent or out of 64-bit range).
    Float(&'de str),
}

/// Parses ASCII digits as `u64`, `None` on overflow.
fn parse_u64(digits: &[u8]) -> Option<u64> {
    let mut value: u64 = 0;
    if digits.len() <= 19 {
        // 19 digits always fit.
        for &d in digits {
            value = value * 10 + u64::from(d.wrapping_sub(b'0'));
        }
        return Some(value);
    }
    for &d in digits {
        value = value
            .checked_mul(10)?
            .checked_add(u64::from(d.wrapping_sub(b'0')))?;
    }
    Some(value)
}

/// Parses ASCII digits as `u128`, `None` on overflow.
fn parse_u128(digits: &[u8]) -> Option<u128> {
    let mut value: u128 = 0;
    for &d in digits {
        value = value
            .checked_mul(10)?
            .checked_add(u128::from(d.wrapping_sub(b'0')))?;
    }
    Some(value)
}

/// Classifies the text of a validated number token.
fn classify(text: &str, integer: bool) -> Number<'_> {
    if integer {
        let bytes = text.as_bytes();
        match bytes.split_first() {
            Some((b'-', digits)) => {
                if let Some(value) = parse_u64(digits).and_then(|m| 0i64.checked_sub_unsigned(m)) {
                    return Number::Signed(value);
                }
            }
            _ => {
                if let Some(value) = parse_u64(bytes) {
                    return Number::Unsigned(value);
                }
            }
        }
    }
    Number::Float(text)
}

/// Parses validated number text as a finite float.
fn parse_float<F: core::str::FromStr + Finite>(text: &str) -> Result<F, Error> {
    match text.parse::<F>() {
        Ok(value) if value.finite() => Ok(value),
        _ => Err(Error::mismatch(None)),
    }
}

/// Float types that can tell whether they are finite.
trait Finite {
    fn finite(&self) -> bool;
}

impl Finite for f32 {
    fn finite(&self) -> bool {
        self.is_finite()
    }
}

impl Finite for f64 {
    fn finite(&self) -> bool {
        self.is_finite()
    }
}

impl<'de, O: Observer<'de>> Deserializer<'de, O> {
    pub(crate) fn new(input: &'de [u8], arena: &'de mut [u8], observer: O) -> Self {
        Self {
            input,
            text: core::str::from_utf8(input).ok(),
            pos: 0,
            arena,
            arena_used: 0,
            depth: 0,
            observer,
            last_escaped: true,
        }
    }

    pub(crate) fn into_observer(self) -> O {
        self.observer
    }

    pub(crate) fn position(&self) -> usize {
        self.pos
    }

    pub(crate) fn arena_used(&self) -> usize {
        self.arena_used
    }

    /// Skips whitespace and returns the next byte (not consumed).
    #[inline]
    fn peek(&mut self) -> Result<u8, Error> {
        self.pos = scan::skip_ws(self.input, self.pos);
        scan::byte_at(self.input, self.pos)
    }

    /// Scans the string at `self.pos` (the opening quote).
    ///
    /// This, [`Self::parse_str`] and the string and option entry points are inlined, so that
    /// a string value's position and text stay in registers on their way to the visitor,
    /// instead of passing through a `Result` in memory at each of three calls (the position
    /// is the parse's critical path; measured faster, BENCHMARKS.md, eleventh round).
    #[inline(always)]
    fn scan_str(&mut self) -> Result<scan::Str<'de>, Error> {
        let s = scan::scan_string_in(self.input, self.text, self.pos)?;
        self.pos = s.end;
        self.last_escaped = s.escaped;
        Ok(s)
    }

    /// Parses the string at `self.pos`, unescaping into the arena if needed.
    #[inline(always)]
    fn parse_str(&mut self) -> Result<&'de str, Error> {
        let start = self.pos;
        let s = self.scan_str()?;
        if s.escaped {
            self.unescape_to_arena(s.raw, start)
        } else {
            Ok(s.raw)
        }
    }

    /// Unescapes the raw text of the string whose quote is at `start` into the arena.
    fn unescape_to_arena(&mut self, raw: &'de str, start: usize) -> Result<&'de str, Error> {
        let arena = core::mem::take(&mut self.arena);
        // Unescaped text is never longer than the rest of the input, so this bounds the total.
        let too_small = Error::ArenaTooSmall {
            needed: self
                .arena_used
                .saturating_add(self.input.len().saturating_sub(start)),
        };
        let len = match scan::unescape_into(raw.as_bytes(), arena) {
            Ok(len) => len,
            Err(UnescapeError::TooSmall) => return Err(too_small),
            Err(UnescapeError::Invalid(at)) => {
                return Err(Error::InvalidEscape {
                    offset: start + 1 + at,
                })
            }
        };
        let (head, tail) = arena.split_at_mut_checked(len).ok_or(too_small)?;
        self.arena = tail;
        self.arena_used += len;
        let head: &'de [u8] = head;
        core::str::from_utf8(head).map_err(|_| Error::InvalidUtf8 { offset: start + 1 })
    }

    /// Scans the number at `self.pos`; returns its text and whether it is an integer.
    fn scan_number(&mut self) -> Result<(&'de str, bool), Error> {
        let start = self.pos;
        let (end, integer) = scan::scan_number(self.input, start)?;
        self.pos = end;
        let text = match self.text.and_then(|t| t.get(start..end)) {
            Some(text) => text,
            None => {
                let bytes = self.input.get(start..end).unwrap_or_default();
                core::str::from_utf8(bytes).map_err(|_| Error::Syntax { offset: start })?
            }
        };
        Ok((text, integer))
    }

    /// Consumes the literal at `self.pos`.
    fn literal(&mut self, literal: &[u8]) -> Result<(), Error> {
        self.pos = scan::scan_literal(self.input, self.pos, literal)?;
        Ok(())
    }

    /// Consumes an opening bracket, checking the depth limit.
    fn open(&mut self) -> Result<(), Error> {
        if self.depth >= MAX_DEPTH {
            return Err(Error::TooDeep { offset: self.pos });
        }
        self.depth += 1;
        self.pos += 1;
        Ok(())
    }

    /// Consumes the closing bracket `close` after the visitor finished a container.
    fn close(&mut self, close: u8) -> Result<(), Error> {
        let b = self.peek()?;
        if b != close {
            // More elements than the target type takes (syntax errors are reported by the
            // full validation that follows any error).
            return Err(Error::Mismatch {
                field: None,
                offset: self.pos,
            });
        }
        self.pos += 1;
        self.depth -= 1;
        Ok(())
    }

    /// The error for a value of the wrong shape at `self.pos`.
    fn mismatch_here(&self) -> Error {
        Error::Mismatch {
            field: None,
            offset: self.pos,
        }
    }

    /// What a string target asks for: a string goes straight to the visitor, anything else
    /// (and its error) through `deserialize_any`. Same result as `deserialize_any`, without its
    /// dispatch on every kind of value (measured faster, see BENCHMARKS.md).
    #[inline]
    fn string_or_any<V: Visitor<'de>>(&mut self, visitor: V) -> Result<V::Value, Error> {
        if self.peek()? != b'"' {
            return de::Deserializer::deserialize_any(self, visitor);
        }
        let start = self.pos;
        let s = self.parse_str()?;
        visitor
            .visit_borrowed_str(s)
            .map_err(|e: Error| e.at(start))
    }

    /// [`Self::string_or_any`] for integer targets: a number goes straight to
    /// [`Self::visit_number`].
    #[inline]
    fn number_or_any<V: Visitor<'de>>(&mut self, visitor: V) -> Result<V::Value, Error> {
        let b = self.peek()?;
        if b != b'-' && !b.is_ascii_digit() {
            return de::Deserializer::deserialize_any(self, visitor);
        }
        let start = self.pos;
        self.visit_number(visitor).map_err(|e: Error| e.at(start))
    }

    /// Visits the number at `self.pos` with the integer/float rules.
    #[inline]
    fn visit_number<V: Visitor<'de>>(&mut self, visitor: V) -> Result<V::Value, Error> {
        if let Some((value, end)) = scan::plain_u64(self.input, self.pos) {
            self.pos = end;
            return visitor.visit_u64(value);
        }
        self.visit_number_slow(visitor)
    }

    /// [`Deserializer::visit_number`] for anything but a plain non-negative integer.
    fn visit_number_slow<V: Visitor<'de>>(&mut self, visitor: V) -> Result<V::Value, Error> {
        let (text, integer) = self.scan_number()?;
        match classify(text, integer) {
            Number::Unsigned(v) => visitor.visit_u64(v),
            Number::Signed(v) => visitor.visit_i64(v),
            Number::Float(text) => visitor.visit_f64(parse_float(text)?),
        }
    }

    /// Deserializes a 128-bit integer exactly, or falls back to the 64-bit rules.
    fn deserialize_128<V: Visitor<'de>>(
        &mut self,
        visitor: V,
        signed: bool,
    ) -> Result<V::Value, Error> {
        let start = self.peek()?;
        if !matches!(start, b'-' | b'0'..=b'9') {
            return de::Deserializer::deserialize_any(self, visitor);
        }
        let offset = self.pos;
        let (text, integer) = self.scan_number()?;
        let result: Result<V::Value, Error> = match (integer, text.as_bytes().split_first()) {
            (true, Some((b'-', digits))) => {
                match parse_u128(digits).and_then(|m| 0i128.checked_sub_unsigned(m)) {
                    Some(v) => visitor.visit_i128(v),
                    None => visitor.visit_f64(parse_float(text)?),
                }
            }
            (true, _) => match parse_u128(text.as_bytes()) {
                Some(v) if signed => match i128::try_from(v) {
                    Ok(v) => visitor.visit_i128(v),
                    Err(_) => visitor.visit_u128(v),
                },
                Some(v) => visitor.visit_u128(v),
                None => visitor.visit_f64(parse_float(text)?),
            },
            (false, _) => visitor.visit_f64(parse_float(text)?),
        };
        result.map_err(|e: Error| e.at(offset))
    }

    /// Deserializes a float target from the token text directly.
    fn deserialize_float<V: Visitor<'de>>(
        &mut self,
        visitor: V,
        single: bool,
    ) -> Result<V::Value, Error> {
        let start = self.peek()?;
        if !matches!(start, b'-' | b'0'..=b'9') {
            return de::Deserializer::deserialize_any(self, visitor);
        }
        let offset = self.pos;
        let (text, _) = self.scan_number()?;
        let result: Result<V::Value, Error> = if single {
            parse_float::<f32>(text).and_then(|v| visitor.visit_f32(v))
        } else {
            parse_float::<f64>(text).and_then(|v| visitor.visit_f64(v))
        };
        result.map_err(|e: Error| e.at(offset))
    }
}

impl<'de, O: Observer<'de>> de::Deserializer<'de> for &mut Deserializer<'de, O> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let b = self.peek()?;
        let start = self.pos;
        let result: Result<V::Value, Error> = match b {
            b'n' => {
                self.literal(b"null")?;
                visitor.visit_unit()
            }
            b't' => {
                self.literal(b"true")?;
                visitor.visit_bool(true)
            }
            b'f' => {
                self.literal(b"false")?;
                visitor.visit_bool(false)
            }
            b'"' => {
                let s = self.parse_str()?;
                visitor.visit_borrowed_str(s)
            }
            b'-' | b'0'..=b'9' => self.visit_number(visitor),
            b'[' => return self.deserialize_seq(visitor),
            b'{' => return self.deserialize_map(visitor),
            _ => return Err(scan::value_start_error(b, start)),
        };
        result.map_err(|e: Error| e.at(start))
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_any(visitor)
    }

    fn deserialize_i8<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.number_or_any(visitor)
    }

    fn deserialize_i16<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.number_or_any(visitor)
    }

    fn deserialize_i32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.number_or_any(visitor)
    }

    fn deserialize_i64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.number_or_any(visitor)
    }

    fn deserialize_i128<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_128(visitor, true)
    }

    fn deserialize_u8<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.number_or_any(visitor)
    }

    fn deserialize_u16<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.number_or_any(visitor)
    }

    fn deserialize_u32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.number_or_any(visitor)
    }

    fn deserialize_u64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.number_or_any(visitor)
    }

    fn deserialize_u128<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_128(visitor, false)
    }

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_float(visitor, true)
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_float(visitor, false)
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_any(visitor)
    }

    #[inline]
    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.string_or_any(visitor)
    }

    #[inline]
    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.string_or_any(visitor)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        if self.peek()? == b'"' {
            let start = self.pos;
            let s = self.parse_str()?;
            return visitor
                .visit_borrowed_bytes(s.as_bytes())
                .map_err(|e: Error| e.at(start));
        }
        self.deserialize_any(visitor)
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_bytes(visitor)
    }

    #[inline]
    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let start = self.pos;
        if self.peek()? == b'n' {
            self.literal(b"null")?;
            return visitor.visit_none().map_err(|e: Error| e.at(start));
        }
        visitor.visit_some(self)
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_any(visitor)
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        if self.peek()? != b'[' {
            return self.deserialize_any(visitor);
        }
        let start = self.pos;
        self.open()?;
        let value = visitor
            .visit_seq(SeqAccess {
                de: self,
                first: true,
            })
            .map_err(|e: Error| e.at(start))?;
        self.close(b']')?;
        Ok(value)
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        if self.peek()? != b'{' {
            return self.deserialize_any(visitor);
        }
        self.visit_object(visitor, &[])
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        if self.peek()? != b'{' {
            // Structs are read from objects only.
            return Err(self.mismatch_here());
        }
        self.visit_object(visitor, fields)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        let start = self.pos;
        match self.peek()? {
            b'"' => {
                let s = self.parse_str()?;
                visitor
                    .visit_enum(IntoDeserializer::<Error>::into_deserializer(s))
                    .map_err(|e: Error| e.at(start))
            }
            b'{' => {
                self.open()?;
                match self.peek()? {
                    b'"' => {}
                    b'}' => return Err(Error::mismatch(None).at(start)),
                    _ => return Err(Error::Syntax { offset: self.pos }),
                }
                let value = visitor
                    .visit_enum(VariantAccess { de: self })
                    .map_err(|e: Error| e.at(start))?;
                self.close(b'}')?;
                Ok(value)
            }
            _ => Err(self.mismatch_here()),
        }
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        if self.peek()? != b'"' {
            return self.deserialize_any(visitor);
        }
        let start = self.pos;
        let s = self.scan_str()?;
        let result: Result<V::Value, Error> = if !s.escaped {
            visitor.visit_borrowed_str(s.raw)
        } else {
            // Escaped names (rare) are unescaped on the stack when short, to spare the arena.
            let mut buf = [0u8; NAME_BUFFER];
            match scan::unescape_into(s.raw.as_bytes(), &mut buf) {
                Ok(len) => {
                    let name = buf.get(..len).unwrap_or_default();
                    let name = core::str::from_utf8(name)
                        .map_err(|_| Error::InvalidUtf8 { offset: start + 1 })?;
                    visitor.visit_str(name)
                }
                Err(_) => {
                    let name = self.unescape_to_arena(s.raw, start)?;
                    visitor.visit_borrowed_str(name)
                }
            }
        };
        result.map_err(|e: Error| e.at(start))
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let budget = MAX_DEPTH.saturating_sub(self.depth);
        self.pos = scan::skip_value_in(self.input, self.text, self.pos, budget)?;
        visitor.visit_unit()
    }
}

impl<'de, O: Observer<'de>> Deserializer<'de, O> {
    /// Visits the object at `self.pos` (`{`); `fields` names the struct's fields, if any, so
    /// that a mismatch inside a member can name it.
    fn visit_object<V: Visitor<'de>>(
        &mut self,
        visitor: V,
        fields: &'static [&'static str],
    ) -> Result<V::Value, Error> {
        let start = self.pos;
        self.open()?;
        let value = visitor
            .visit_map(MapAccess {
                de: self,
                first: true,
                fields,
                key_start: start,
            })
            .map_err(|e: Error| e.at(start))?;
        self.close(b'}')?;
        Ok(value)
    }

    /// Shows the observer the top-level member whose name starts at `key_start`; `self.pos`
    /// is just after its colon. Reads ahead without moving `self.pos`.
    ///
    /// The two common cases are inline and take no more than they need: a member the observer
    /// only counts (`jti`, usually `sub`) by its name, and a plain integer (`iat`, `exp`) by its
    /// value, without the `Key` and `Value` that [`Self::observe_member`] builds. Every
    /// instruction here runs beside the MAC's compressions, which fill the processor's
    /// reorder buffer, so fewer instructions is less time (BENCHMARKS.md, eleventh round).
    #[inline(always)]
    fn observe(&mut self, raw: &'de [u8], escaped: bool, key_start: usize) -> Result<(), Error> {
        if !escaped {
            let handled = if !self.observer.reads_value(raw, false) {
                Some(self.observer.name_only(raw))
            } else {
                let value_start = scan::skip_ws(self.input, self.pos);
                scan::plain_u64(self.input, value_start)
                    .and_then(|(value, _)| self.observer.plain_integer(raw, value))
            };
            match handled {
                Some(true) => return Ok(()),
                Some(false) => return Err(Error::mismatch(None)),
                None => {}
            }
        }
        self.observe_member(raw, escaped, key_start)
    }

    /// [`Self::observe`] for any member.
    fn observe_member(
        &mut self,
        raw: &'de [u8],
        escaped: bool,
        key_start: usize,
    ) -> Result<(), Error> {
        // The target type's identifier deserialization validated the name already.
        let name = match self
            .text
            .and_then(|t| t.get(key_start + 1..key_start + 1 + raw.len()))
        {
            Some(name) => name,
            None => core::str::from_utf8(raw).map_err(|_| Error::InvalidUtf8 {
                offset: key_start + 1,
            })?,
        };
        let value_start = scan::skip_ws(self.input, self.pos);
        // Strings and numbers (what registered claims hold) directly; anything else as a whole.
        // A value the observer does not read is left to the target type, which reads (and
        // checks) every value anyway.
        let mut plain = None;
        let value_end = if !self.observer.reads_value(raw, escaped) {
            value_start
        } else {
            match self.input.get(value_start) {
                Some(b'"') => scan::scan_string_in(self.input, self.text, value_start)?.end,
                Some(b'0'..=b'9') => match scan::plain_u64(self.input, value_start) {
                    Some((v, end)) => {
                        plain = Some(v);
                        end
                    }
                    None => scan::scan_number(self.input, value_start)?.0,
                },
                Some(b'-') => scan::scan_number(self.input, value_start)?.0,
                _ => scan::skip_value_in(self.input, self.text, value_start, MAX_DEPTH - 1)?,
            }
        };
        let key = Key::new(name, escaped, key_start);
        let value = Value::new(self.input, value_start, value_end, 1).with_plain(plain);
        if self.observer.member(key, value) {
            Ok(())
        } else {
            Err(Error::mismatch(None))
        }
    }

    /// Before the next element or member: `Ok(false)` at the closing bracket (not consumed),
    /// `Ok(true)` when an element follows (separator consumed).
    fn has_next(&mut self, first: &mut bool, close: u8) -> Result<bool, Error> {
        let b = self.peek()?;
        if b == close {
            return Ok(false);
        }
        if !core::mem::replace(first, false) {
            if b != b',' {
                return Err(Error::Syntax { offset: self.pos });
            }
            self.pos += 1;
        }
        Ok(true)
    }
}

/// Elements of an array.
struct SeqAccess<'a, 'de, O> {
    de: &'a mut Deserializer<'de, O>,
    first: bool,
}

impl<'de, O: Observer<'de>> de::SeqAccess<'de> for SeqAccess<'_, 'de, O> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        if !self.de.has_next(&mut self.first, b']')? {
            return Ok(None);
        }
        seed.deserialize(&mut *self.de).map(Some)
    }
}

/// Members of an object.
struct MapAccess<'a, 'de, O> {
    de: &'a mut Deserializer<'de, O>,
    first: bool,
    /// The struct's field names (empty for maps).
    fields: &'static [&'static str],
    /// Offset of the current member name's opening quote.
    key_start: usize,
}

impl<O> MapAccess<'_, '_, O> {
    /// Names the struct field of the current member in a mismatch that has no field yet.
    #[cold]
    fn annotate(&self, err: Error) -> Error {
        let Error::Mismatch {
            field: None,
            offset,
        } = err
        else {
            return err;
        };
        let field = scan::scan_string(self.de.input, self.key_start)
            .ok()
            .and_then(|key| {
                self.fields
                    .iter()
                    .find(|f| scan::unescaped_eq(key.raw.as_bytes(), f.as_bytes()))
                    .copied()
            });
        Error::Mismatch { field, offset }
    }
}

impl<'de, O: Observer<'de>> de::MapAccess<'de> for MapAccess<'_, 'de, O> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        if self.de.depth == 1 {
            self.de.observer.tick();
        }
        if !self.de.has_next(&mut self.first, b'}')? {
            if self.de.depth == 1 {
                self.de.observer.end();
            }
            return Ok(None);
        }
        if self.de.peek()? != b'"' {
            return Err(Error::Syntax {
                offset: self.de.pos,
            });
        }
        self.key_start = self.de.pos;
        // Every way of reading a name scans it; if one did not, "escaped" is the safe guess.
        self.de.last_escaped = true;
        let key = seed.deserialize(MapKey { de: &mut *self.de })?;
        let escaped = self.de.last_escaped;
        let key_end = self.de.pos;
        if self.de.peek()? != b':' {
            return Err(Error::Syntax {
                offset: self.de.pos,
            });
        }
        self.de.pos += 1;
        if self.de.depth == 1 {
            // The name was a string ending just before `key_end`.
            let raw = self
                .de
                .input
                .get(self.key_start + 1..key_end.saturating_sub(1))
                .unwrap_or_default();
            if self.de.observer.wants(raw, escaped) {
                self.de.observe(raw, escaped, self.key_start)?;
            }
        }
        Ok(Some(key))
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        seed.deserialize(&mut *self.de)
            .map_err(|e| self.annotate(e))
    }
}

/// `{"Variant": value}` enums.
struct VariantAccess<'a, 'de, O> {
    de: &'a mut Deserializer<'de, O>,
}

impl<'de, O: Observer<'de>> de::EnumAccess<'de> for VariantAccess<'_, 'de, O> {
    type Error = Error;
    type Variant = Self;

    fn variant_seed<V: DeserializeSeed<'de>>(self, seed: V) -> Result<(V::Value, Self), Error> {
        let variant = seed.deserialize(MapKey { de: &mut *self.de })?;
        if self.de.peek()? != b':' {
            return Err(Error::Syntax {
                offset: self.de.pos,
            });
        }
        self.de.pos += 1;
        Ok((variant, self))
    }
}

impl<'de, O: Observer<'de>> de::VariantAccess<'de> for VariantAccess<'_, 'de, O> {
    type Error = Error;

    fn unit_variant(self) -> Result<(), Error> {
        de::Deserialize::deserialize(self.de)
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, Error> {
        seed.deserialize(self.de)
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value, Error> {
        de::Deserializer::deserialize_seq(self.de, visitor)
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        de::Deserializer::deserialize_struct(self.de, "", fields, visitor)
    }
}

/// Deserializer for a member name: a string, also readable as an integer (`{"1": ..}` into a
/// map with integer keys, as `serde_json` writes them).
struct MapKey<'a, 'de, O> {
    de: &'a mut Deserializer<'de, O>,
}

impl<'de, O: Observer<'de>> MapKey<'_, 'de, O> {
    /// Reads the name as an integer.
    fn integer<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let start = self.de.pos;
        let text = self.de.parse_str()?;
        let result: Result<V::Value, Error> = match scan::scan_number(text.as_bytes(), 0) {
            Ok((end, true)) if end == text.len() => match classify(text, true) {
                Number::Unsigned(v) => visitor.visit_u64(v),
                Number::Signed(v) => visitor.visit_i64(v),
                Number::Float(_) => Err(Error::mismatch(None)),
            },
            _ => Err(Error::mismatch(None)),
        };
        result.map_err(|e: Error| e.at(start))
    }

    /// [`Self::integer`] for 128-bit keys (written by the serializer as any other integer).
    fn integer128<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let start = self.de.pos;
        let text = self.de.parse_str()?;
        let result: Result<V::Value, Error> = match scan::scan_number(text.as_bytes(), 0) {
            Ok((end, true)) if end == text.len() => match text.as_bytes().split_first() {
                Some((b'-', digits)) => {
                    match parse_u128(digits).and_then(|m| 0i128.checked_sub_unsigned(m)) {
                        Some(v) => visitor.visit_i128(v),
                        None => Err(Error::mismatch(None)),
                    }
                }
                _ => match parse_u128(text.as_bytes()) {
                    Some(v) => visitor.visit_u128(v),
                    None => Err(Error::mismatch(None)),
                },
            },
            _ => Err(Error::mismatch(None)),
        };
        result.map_err(|e: Error| e.at(start))
    }
}

impl<'de, O: Observer<'de>> de::Deserializer<'de> for MapKey<'_, 'de, O> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let start = self.de.pos;
        let s = self.de.parse_str()?;
        visitor
            .visit_borrowed_str(s)
            .map_err(|e: Error| e.at(start))
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        de::Deserializer::deserialize_identifier(self.de, visitor)
    }

    fn deserialize_i8<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.integer(visitor)
    }

    fn deserialize_i16<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.integer(visitor)
    }

    fn deserialize_i32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.integer(visitor)
    }

    fn deserialize_i64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.integer(visitor)
    }

    fn deserialize_u8<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.integer(visitor)
    }

    fn deserialize_u16<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.integer(visitor)
    }

    fn deserialize_u32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.integer(visitor)
    }

    fn deserialize_u64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.integer(visitor)
    }

    fn deserialize_i128<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.integer128(visitor)
    }

    fn deserialize_u128<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.integer128(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        // Only unit variants can be names; the main deserializer handles the string form.
        de::Deserializer::deserialize_enum(self.de, name, variants, visitor)
    }

    serde::forward_to_deserialize_any! {
        bool f32 f64 char str string bytes byte_buf unit unit_struct seq tuple
        tuple_struct map struct ignored_any
    }
}
