//! Type-free traversal: the members of an object and the elements of an array, as raw
//! [`Key`]s and [`Value`]s borrowed from the input.

use core::fmt;

use super::scan::{self, Pieces};
use super::{Error, MAX_DEPTH};

/// The kind of a JSON value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool,
    /// A number.
    Number,
    /// A string.
    String,
    /// An array.
    Array,
    /// An object.
    Object,
}

/// A member name: the raw text between the quotes, escapes still in place.
#[derive(Debug, Clone, Copy)]
pub struct Key<'a> {
    raw: &'a str,
    escaped: bool,
    offset: usize,
}

impl<'a> Key<'a> {
    pub(super) fn new(raw: &'a str, escaped: bool, offset: usize) -> Self {
        Self {
            raw,
            escaped,
            offset,
        }
    }

    /// The raw name between the quotes (still escaped, valid UTF-8).
    #[must_use]
    pub fn raw(&self) -> &'a [u8] {
        self.raw.as_bytes()
    }

    /// The name as `&str` when it contains no escapes (zero copy).
    #[must_use]
    pub fn as_str(&self) -> Option<&'a str> {
        (!self.escaped).then_some(self.raw)
    }

    /// Whether the *unescaped* name equals `name` (`"\u0073ub"` matches `"sub"`), without
    /// allocating.
    #[must_use]
    pub fn matches(&self, name: &str) -> bool {
        if self.escaped {
            scan::unescaped_eq(self.raw.as_bytes(), name.as_bytes())
        } else {
            self.raw == name
        }
    }

    /// Unescapes the name into `out`.
    ///
    /// # Errors
    ///
    /// [`Error::BufferTooSmall`] with the exact length needed.
    pub fn unescape_into<'b>(&self, out: &'b mut [u8]) -> Result<&'b str, Error> {
        unescape_raw(self.raw, self.offset + 1, out)
    }

    /// Byte offset of the name's opening quote in the input.
    #[must_use]
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// Whether two names are equal once unescaped.
    pub(crate) fn same_name(&self, other: &Key<'_>) -> bool {
        match (self.escaped, other.escaped) {
            (false, false) => self.raw == other.raw,
            (false, true) => other.matches(self.raw),
            (true, false) => self.matches(other.raw),
            (true, true) => {
                unescaped_bytes(self.raw.as_bytes()).eq(unescaped_bytes(other.raw.as_bytes()))
            }
        }
    }
}

/// The bytes of raw string text once unescaped (validated text has no bad escapes).
fn unescaped_bytes(raw: &[u8]) -> impl Iterator<Item = u8> + '_ {
    Pieces::new(raw).flat_map(|piece| {
        let (run, bytes, len): (&[u8], [u8; 4], usize) = match piece {
            Ok(scan::Piece::Raw(run)) => (run, [0; 4], 0),
            Ok(scan::Piece::Char { bytes, len }) => (&[], bytes, len),
            Err(_) => (&[], [0; 4], 0),
        };
        run.iter().copied().chain(bytes.into_iter().take(len))
    })
}

/// Unescapes raw string text into `out`.
fn unescape_raw<'b>(raw: &str, content_offset: usize, out: &'b mut [u8]) -> Result<&'b str, Error> {
    match scan::unescape_into(raw.as_bytes(), out) {
        Ok(len) => {
            let (head, _) = out
                .split_at_mut_checked(len)
                .ok_or(Error::BufferTooSmall { needed: len })?;
            let head: &'b [u8] = head;
            core::str::from_utf8(head).map_err(|e| Error::InvalidUtf8 {
                offset: content_offset + e.valid_up_to(),
            })
        }
        Err(scan::UnescapeError::TooSmall) => Err(Error::BufferTooSmall {
            needed: scan::unescaped_len(raw.as_bytes()),
        }),
        Err(scan::UnescapeError::Invalid(at)) => Err(Error::InvalidEscape {
            offset: content_offset + at,
        }),
    }
}

/// A validated JSON value borrowed from the input. `Debug` shows its kind and place, not its
/// text (a value may be a token).
#[derive(Clone, Copy)]
pub struct Value<'a> {
    input: &'a [u8],
    start: usize,
    end: usize,
    depth: usize,
    kind: ValueKind,
    /// The value of a plain integer, when the reader that found it already computed it.
    plain: Option<u64>,
}

impl<'a> Value<'a> {
    pub(super) fn new(input: &'a [u8], start: usize, end: usize, depth: usize) -> Self {
        let kind = match input.get(start) {
            Some(b'n') => ValueKind::Null,
            Some(b't' | b'f') => ValueKind::Bool,
            Some(b'"') => ValueKind::String,
            Some(b'[') => ValueKind::Array,
            Some(b'{') => ValueKind::Object,
            _ => ValueKind::Number,
        };
        Self {
            input,
            start,
            end,
            depth,
            kind,
            plain: None,
        }
    }

    /// This value, a plain integer (see [`Value::as_plain_u64`]) whose value the reader
    /// already computed.
    pub(super) fn with_plain(self, plain: Option<u64>) -> Self {
        Self { plain, ..self }
    }

    /// The kind of value.
    #[must_use]
    pub fn kind(&self) -> ValueKind {
        self.kind
    }

    /// The exact value text (strings include their quotes).
    #[must_use]
    pub fn raw(&self) -> &'a [u8] {
        self.input.get(self.start..self.end).unwrap_or_default()
    }

    /// Byte offset of the value in the input.
    #[must_use]
    pub fn offset(&self) -> usize {
        self.start
    }

    /// The number's text when this is a number.
    #[must_use]
    pub fn as_number(&self) -> Option<&'a str> {
        if self.kind != ValueKind::Number {
            return None;
        }
        core::str::from_utf8(self.raw()).ok()
    }

    /// The number when it is a plain non-negative integer of at most 19 digits (the common
    /// case, read in one pass); `None` for any other value.
    pub(crate) fn as_plain_u64(&self) -> Option<u64> {
        if self.kind != ValueKind::Number {
            return None;
        }
        self.plain.or_else(|| scan::plain_integer(self.raw()))
    }

    /// The number as `i64` when it is an integer token (no fraction or exponent) that fits.
    #[must_use]
    pub fn as_i64(&self) -> Option<i64> {
        let text = self.as_number()?;
        if text.contains(['.', 'e', 'E']) {
            return None;
        }
        text.parse().ok()
    }

    /// The number as `u64` when it is a non-negative integer token that fits.
    #[must_use]
    pub fn as_u64(&self) -> Option<u64> {
        let text = self.as_number()?;
        if text.contains(['.', 'e', 'E', '-']) {
            return None;
        }
        text.parse().ok()
    }

    /// The number as a finite `f64` (nearest value; any number token).
    #[must_use]
    pub fn as_f64(&self) -> Option<f64> {
        let value: f64 = self.as_number()?.parse().ok()?;
        value.is_finite().then_some(value)
    }

    /// The boolean when this is `true` or `false`.
    #[must_use]
    pub fn as_bool(&self) -> Option<bool> {
        match self.raw() {
            b"true" => Some(true),
            b"false" => Some(false),
            _ => None,
        }
    }

    /// Whether this is `null`.
    #[must_use]
    pub fn is_null(&self) -> bool {
        self.kind == ValueKind::Null
    }

    /// The raw string text between the quotes (still escaped).
    fn string_raw(&self) -> Option<&'a str> {
        if self.kind != ValueKind::String {
            return None;
        }
        let raw = self.input.get(self.start + 1..self.end.checked_sub(1)?)?;
        core::str::from_utf8(raw).ok()
    }

    /// The string as `&str` when this is a string without escapes (zero copy).
    #[must_use]
    pub fn as_str(&self) -> Option<&'a str> {
        self.string_raw().filter(|raw| !raw.contains('\\'))
    }

    /// Whether this is a string whose *unescaped* text equals `s`.
    #[must_use]
    pub fn string_eq(&self, s: &str) -> bool {
        match self.string_raw() {
            Some(raw) if raw.contains('\\') => scan::unescaped_eq(raw.as_bytes(), s.as_bytes()),
            Some(raw) => raw == s,
            None => false,
        }
    }

    /// Unescapes this string into `out`.
    ///
    /// # Errors
    ///
    /// [`Error::Mismatch`] if this is not a string, [`Error::BufferTooSmall`] with the exact
    /// length needed.
    pub fn unescape_into<'b>(&self, out: &'b mut [u8]) -> Result<&'b str, Error> {
        let raw = self.string_raw().ok_or(Error::Mismatch {
            field: None,
            offset: self.start,
        })?;
        unescape_raw(raw, self.start + 1, out)
    }

    /// The elements when this is an array.
    #[must_use]
    pub fn array_elements(&self) -> Option<Elements<'a>> {
        (self.kind == ValueKind::Array).then(|| Elements {
            input: self.input,
            pos: self.start + 1,
            depth: self.depth + 1,
            state: State::First,
        })
    }

    /// The members when this is an object.
    #[must_use]
    pub fn members(&self) -> Option<Members<'a>> {
        (self.kind == ValueKind::Object).then(|| Members {
            input: self.input,
            text: None,
            pos: self.start + 1,
            depth: self.depth + 1,
            top_level: false,
            state: State::First,
        })
    }
}

impl fmt::Debug for Value<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Value")
            .field("kind", &self.kind)
            .field("start", &self.start)
            .field("end", &self.end)
            .finish_non_exhaustive()
    }
}

/// Iteration state shared by [`Members`] and [`Elements`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Just after the opening bracket.
    First,
    /// After an element.
    Next,
    /// Finished or failed.
    Done,
}

/// Iterator over the members of an object, from [`super::object_members`] or
/// [`Value::members`]. `Debug` shows the position, not the text.
#[derive(Clone)]
pub struct Members<'a> {
    input: &'a [u8],
    /// `input` as text when it is known to be all UTF-8 (strings are then not checked again).
    text: Option<&'a str>,
    pos: usize,
    /// Number of containers open at `pos` (1 inside the top-level object).
    depth: usize,
    top_level: bool,
    state: State,
}

impl<'a> Members<'a> {
    /// Members of the top-level object whose `{` is at `open`.
    pub(crate) fn top_level(input: &'a [u8], open: usize) -> Self {
        Self {
            input,
            // One check of the whole input instead of one per string.
            text: core::str::from_utf8(input).ok(),
            pos: open + 1,
            depth: 1,
            top_level: true,
            state: State::First,
        }
    }

    /// Handles the closing brace at `self.pos`.
    fn close(&mut self) -> Option<Result<(Key<'a>, Value<'a>), Error>> {
        self.state = State::Done;
        if self.top_level {
            if let Err(e) = scan::expect_end(self.input, self.pos + 1) {
                return Some(Err(e));
            }
        }
        None
    }

    fn member(&mut self) -> Result<(Key<'a>, Value<'a>), Error> {
        let key_start = self.pos;
        match scan::byte_at(self.input, key_start)? {
            b'"' => {}
            _ => return Err(Error::Syntax { offset: key_start }),
        }
        let name = scan::scan_string_in(self.input, self.text, key_start)?;
        let colon = scan::skip_ws(self.input, name.end);
        match scan::byte_at(self.input, colon)? {
            b':' => {}
            _ => return Err(Error::Syntax { offset: colon }),
        }
        let value_start = scan::skip_ws(self.input, colon + 1);
        let budget = MAX_DEPTH.saturating_sub(self.depth);
        let value_end = scan::skip_value_in(self.input, self.text, value_start, budget)?;
        self.pos = value_end;
        self.state = State::Next;
        let key = Key {
            raw: name.raw,
            escaped: name.escaped,
            offset: key_start,
        };
        Ok((
            key,
            Value::new(self.input, value_start, value_end, self.depth),
        ))
    }
}

impl<'a> Iterator for Members<'a> {
    type Item = Result<(Key<'a>, Value<'a>), Error>;

    fn next(&mut self) -> Option<Self::Item> {
        let input = self.input;
        self.pos = scan::skip_ws(input, self.pos);
        let result = match (self.state, input.get(self.pos)) {
            (State::Done, _) => return None,
            (_, None) => Err(Error::UnexpectedEnd),
            (_, Some(b'}')) => return self.close(),
            (State::First, Some(_)) => self.member(),
            (State::Next, Some(b',')) => {
                self.pos = scan::skip_ws(input, self.pos + 1);
                self.member()
            }
            (State::Next, Some(_)) => Err(Error::Syntax { offset: self.pos }),
        };
        if result.is_err() {
            self.state = State::Done;
        }
        Some(result)
    }
}

impl core::iter::FusedIterator for Members<'_> {}

impl fmt::Debug for Members<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Members")
            .field("input_len", &self.input.len())
            .field("pos", &self.pos)
            .field("depth", &self.depth)
            .finish_non_exhaustive()
    }
}

/// Iterator over the elements of an array, from [`Value::array_elements`]. `Debug` shows the
/// position, not the text.
#[derive(Clone)]
pub struct Elements<'a> {
    input: &'a [u8],
    pos: usize,
    /// Number of containers open at `pos`.
    depth: usize,
    state: State,
}

impl<'a> Elements<'a> {
    fn element(&mut self) -> Result<Value<'a>, Error> {
        let start = self.pos;
        let budget = MAX_DEPTH.saturating_sub(self.depth);
        let end = scan::skip_value(self.input, start, budget)?;
        self.pos = end;
        self.state = State::Next;
        Ok(Value::new(self.input, start, end, self.depth))
    }
}

impl<'a> Iterator for Elements<'a> {
    type Item = Result<Value<'a>, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        let input = self.input;
        self.pos = scan::skip_ws(input, self.pos);
        let result = match (self.state, input.get(self.pos)) {
            (State::Done, _) => return None,
            (_, None) => Err(Error::UnexpectedEnd),
            (_, Some(b']')) => {
                self.state = State::Done;
                return None;
            }
            (State::First, Some(_)) => self.element(),
            (State::Next, Some(b',')) => {
                self.pos = scan::skip_ws(input, self.pos + 1);
                self.element()
            }
            (State::Next, Some(_)) => Err(Error::Syntax { offset: self.pos }),
        };
        if result.is_err() {
            self.state = State::Done;
        }
        Some(result)
    }
}

impl core::iter::FusedIterator for Elements<'_> {}

impl fmt::Debug for Elements<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Elements")
            .field("input_len", &self.input.len())
            .field("pos", &self.pos)
            .field("depth", &self.depth)
            .finish_non_exhaustive()
    }
}
