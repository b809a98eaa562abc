//! Strict, zero-heap JSON ([RFC 8259]) for JWT headers and payloads.
//!
//! JWT headers and payloads are attacker-controlled, so this module is deliberately strict and
//! never allocates:
//!
//! - [`validate`] accepts exactly one JSON value, optionally surrounded by the four JSON
//!   whitespace bytes (space, `\t`, `\n`, `\r`). Everything else is rejected with a distinct
//!   [`Error`] carrying the byte offset where the problem was detected: leading zeros, `NaN`,
//!   trailing commas, single quotes, unescaped control characters, bad or lone-surrogate
//!   escapes, invalid UTF-8, a byte order mark, trailing bytes (even NUL), nesting deeper than
//!   [`MAX_DEPTH`].
//! - [`from_slice`] is a serde deserializer with the same strictness. Strings without escapes
//!   are borrowed from the input (`&str` fields are zero-copy); strings with escapes are
//!   unescaped into a caller-provided arena and borrowed from there. An arena as long as the
//!   input always suffices (unescaping never makes a string longer).
//! - [`object_members`] walks the members of a top-level object without a target type (used
//!   for registered-claim checks); [`check_unique_keys`] rejects duplicate member names.
//! - [`to_slice`] / [`serialized_len`] write compact JSON into a caller slice.
//!
//! # Guarantees
//!
//! No function in this module panics on any input, recurses deeper than [`MAX_DEPTH`] nested
//! arrays/objects, or allocates. Skipping unknown members and [`validate`] are iterative.
//!
//! # Design decisions
//!
//! - **Numbers.** An integer token (no fraction, no exponent) is visited as `u64` when it is
//!   non-negative and fits, else as `i64` when it fits, else as `f64`. Tokens with a fraction
//!   or exponent are visited as `f64`. When the target asks for `f32`/`f64` the token text is
//!   parsed directly as that float type (correctly rounded), and `u128`/`i128` targets get the
//!   exact 128-bit integer. A number whose float value overflows to infinity (`1e400`) is valid
//!   JSON but fits no float: [`Error::Mismatch`].
//! - **`-0`** is visited as the integer `0` (`visit_i64(0)`), except for float targets, which
//!   get `-0.0`.
//! - **Duplicate member names** are valid JSON (RFC 8259 says names *should* be unique), so
//!   [`validate`] accepts them. Serde-derived structs reject a duplicated *known* field
//!   ([`Error::Mismatch`] naming the field), [`object_members`] yields every member in order,
//!   and [`check_unique_keys`] returns [`Error::DuplicateKey`] for any repeated name at the top
//!   level (comparing unescaped names), for callers that must follow RFC 7515 §5.2.
//! - **Depth.** At most [`MAX_DEPTH`] arrays/objects may be open at once; one more gives
//!   [`Error::TooDeep`].
//! - **Errors.** When the input is not valid JSON, [`from_slice`] reports the same syntax error
//!   as [`validate`] would, even if the target type rejected the input earlier: a syntax error
//!   always wins over [`Error::Mismatch`] and [`Error::ArenaTooSmall`].
//! - **Structs** are read from JSON objects only (not from arrays, unlike `serde_json`).
//! - **Serializer.** Floats are written with Rust's shortest round-trip representation:
//!   integer-valued floats keep a fraction (`1.0`), very large or small magnitudes use an
//!   exponent (`1e300`, `1e-7`). Non-finite floats are [`Error::Unsupported`]. Map keys must be
//!   strings, chars, unit variants or integers (written as quoted decimal, like `serde_json`).
//!   Byte slices are written as arrays of numbers.
//!
//! [RFC 8259]: https://www.rfc-editor.org/rfc/rfc8259

use core::fmt;

mod de;
mod members;
mod scan;
mod ser;
#[cfg(test)]
pub(crate) mod tests;

pub(crate) use de::{Observer, Ticking};
pub use members::{Elements, Key, Members, Value, ValueKind};
#[cfg(feature = "jwe")]
pub(crate) use scan::is_plain_text;
pub(crate) use scan::plain_integer;
pub(crate) use scan::skip_ws;

/// Maximum number of arrays/objects that may be open at the same time.
pub const MAX_DEPTH: usize = 64;

/// Placeholder offset of a [`Error::Mismatch`] raised by serde before the deserializer fills in
/// the real position.
const UNKNOWN_OFFSET: usize = usize::MAX;

/// Error from parsing, deserializing or serializing JSON.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error {
    /// The input ended inside a value (or was empty / only whitespace).
    UnexpectedEnd,
    /// A byte that cannot appear here (includes a byte order mark and non-ASCII bytes outside
    /// strings).
    Syntax {
        /// Byte offset of the unexpected byte.
        offset: usize,
    },
    /// A string contains bytes that are not UTF-8.
    InvalidUtf8 {
        /// Byte offset of the first invalid byte.
        offset: usize,
    },
    /// A string contains an unescaped control character (U+0000..U+001F).
    ControlCharacter {
        /// Byte offset of the control character.
        offset: usize,
    },
    /// A bad escape sequence: unknown `\x`, malformed `\uXXXX`, or a lone or mismatched
    /// UTF-16 surrogate.
    InvalidEscape {
        /// Byte offset of the backslash that starts the escape.
        offset: usize,
    },
    /// A malformed number: leading zero, missing digits (`-`, `1.`, `1e`, `.5`), a `+` sign,
    /// `NaN`, `Infinity`.
    InvalidNumber {
        /// Byte offset where the number grammar failed.
        offset: usize,
    },
    /// Something other than whitespace follows the top-level value.
    TrailingCharacters {
        /// Byte offset of the first trailing byte.
        offset: usize,
    },
    /// More than [`MAX_DEPTH`] arrays/objects are nested.
    TooDeep {
        /// Byte offset of the bracket that opened one level too many.
        offset: usize,
    },
    /// The same member name appears twice in an object (only from [`check_unique_keys`]).
    DuplicateKey {
        /// Byte offset of the second occurrence's opening quote.
        offset: usize,
    },
    /// The unescape arena given to [`from_slice`] is too small.
    ArenaTooSmall {
        /// A safe bound on the total arena size needed (never more than the input length).
        needed: usize,
    },
    /// Valid JSON that does not fit the target type: wrong type, missing or duplicated field,
    /// unknown variant, wrong length, capacity exceeded, or an error raised by a
    /// `Deserialize` implementation.
    Mismatch {
        /// The struct field concerned, when known.
        field: Option<&'static str>,
        /// Byte offset of the value (or object) that did not fit.
        offset: usize,
    },
    /// The serializer's output buffer is too small.
    BufferTooSmall {
        /// Exact number of bytes the whole output needs.
        needed: usize,
    },
    /// The value cannot be represented in JSON (non-finite float, unsupported map key, or an
    /// error raised by a `Serialize` implementation).
    Unsupported,
}

impl Error {
    /// Whether the input is not valid JSON (as opposed to JSON that does not fit, a buffer
    /// that is too small, or a value that cannot be serialized).
    #[must_use]
    pub fn is_syntax(&self) -> bool {
        matches!(
            self,
            Self::UnexpectedEnd
                | Self::Syntax { .. }
                | Self::InvalidUtf8 { .. }
                | Self::ControlCharacter { .. }
                | Self::InvalidEscape { .. }
                | Self::InvalidNumber { .. }
                | Self::TrailingCharacters { .. }
                | Self::TooDeep { .. }
        )
    }

    /// A stable snake_case name for the error class.
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            Self::UnexpectedEnd => "unexpected_end",
            Self::Syntax { .. } => "syntax",
            Self::InvalidUtf8 { .. } => "invalid_utf8",
            Self::ControlCharacter { .. } => "control_character",
            Self::InvalidEscape { .. } => "invalid_escape",
            Self::InvalidNumber { .. } => "invalid_number",
            Self::TrailingCharacters { .. } => "trailing_characters",
            Self::TooDeep { .. } => "too_deep",
            Self::DuplicateKey { .. } => "duplicate_key",
            Self::ArenaTooSmall { .. } => "arena_too_small",
            Self::Mismatch { .. } => "mismatch",
            Self::BufferTooSmall { .. } => "buffer_too_small",
            Self::Unsupported => "unsupported",
        }
    }

    /// Fills in the offset of a [`Error::Mismatch`] raised without one.
    fn at(self, offset: usize) -> Self {
        match self {
            Self::Mismatch {
                field,
                offset: UNKNOWN_OFFSET,
            } => Self::Mismatch { field, offset },
            other => other,
        }
    }

    /// A mismatch whose position is filled in later by the deserializer.
    const fn mismatch(field: Option<&'static str>) -> Self {
        Self::Mismatch {
            field,
            offset: UNKNOWN_OFFSET,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::UnexpectedEnd => f.write_str("JSON input ended inside a value"),
            Self::Syntax { offset } => write!(f, "unexpected byte in JSON at offset {offset}"),
            Self::InvalidUtf8 { offset } => {
                write!(f, "invalid UTF-8 in JSON string at offset {offset}")
            }
            Self::ControlCharacter { offset } => write!(
                f,
                "unescaped control character in JSON string at offset {offset}"
            ),
            Self::InvalidEscape { offset } => {
                write!(f, "invalid escape in JSON string at offset {offset}")
            }
            Self::InvalidNumber { offset } => {
                write!(f, "invalid JSON number at offset {offset}")
            }
            Self::TrailingCharacters { offset } => {
                write!(f, "trailing characters after JSON value at offset {offset}")
            }
            Self::TooDeep { offset } => write!(
                f,
                "JSON nested deeper than {MAX_DEPTH} levels at offset {offset}"
            ),
            Self::DuplicateKey { offset } => {
                write!(f, "duplicate JSON member name at offset {offset}")
            }
            Self::ArenaTooSmall { needed } => {
                write!(f, "unescape arena too small: {needed} bytes needed")
            }
            Self::Mismatch { field, offset } => {
                f.write_str("JSON value does not fit the target type")?;
                if let Some(field) = field {
                    write!(f, " (field `{field}`)")?;
                }
                if offset != UNKNOWN_OFFSET {
                    write!(f, " at offset {offset}")?;
                }
                Ok(())
            }
            Self::BufferTooSmall { needed } => {
                write!(f, "JSON output buffer too small: {needed} bytes needed")
            }
            Self::Unsupported => f.write_str("value cannot be represented in JSON"),
        }
    }
}

impl core::error::Error for Error {}

impl serde::de::Error for Error {
    fn custom<T: fmt::Display>(_msg: T) -> Self {
        Self::mismatch(None)
    }

    fn invalid_type(_unexp: serde::de::Unexpected<'_>, _exp: &dyn serde::de::Expected) -> Self {
        Self::mismatch(None)
    }

    fn invalid_value(_unexp: serde::de::Unexpected<'_>, _exp: &dyn serde::de::Expected) -> Self {
        Self::mismatch(None)
    }

    fn invalid_length(_len: usize, _exp: &dyn serde::de::Expected) -> Self {
        Self::mismatch(None)
    }

    fn unknown_variant(_variant: &str, _expected: &'static [&'static str]) -> Self {
        Self::mismatch(None)
    }

    fn unknown_field(_field: &str, _expected: &'static [&'static str]) -> Self {
        // The field name is not `'static` here; the deserializer cannot name it either.
        Self::mismatch(None)
    }

    fn missing_field(field: &'static str) -> Self {
        Self::mismatch(Some(field))
    }

    fn duplicate_field(field: &'static str) -> Self {
        Self::mismatch(Some(field))
    }
}

impl serde::ser::Error for Error {
    fn custom<T: fmt::Display>(_msg: T) -> Self {
        Self::Unsupported
    }
}

/// Strictly validates that `input` is exactly one JSON value (RFC 8259), with optional
/// surrounding whitespace (space, `\t`, `\n`, `\r` only).
///
/// # Errors
///
/// Any syntax error ([`Error::is_syntax`]), with the offset of the first problem in document
/// order.
pub fn validate(input: &[u8]) -> Result<(), Error> {
    // One UTF-8 check of the whole input instead of one per string; when it fails, the strings
    // are checked one by one for the exact error offset.
    let end = scan::skip_value_in(input, core::str::from_utf8(input).ok(), 0, MAX_DEPTH)?;
    scan::expect_end(input, end)
}

/// Deserializes `T` from `input`, which must be exactly one strictly valid JSON value.
///
/// Strings without escapes are borrowed from `input` (zero copy); strings with escapes are
/// unescaped into `arena` and borrowed from there, so `&'de str` fields work for any string.
/// Owned fields (`heapless::String<N>`, integers, ...) work too. Unknown object members are
/// skipped (iteratively, validated). Returns the value and the number of arena bytes used.
///
/// An arena of `input.len()` bytes always suffices; inputs without escaped strings need none.
///
/// # Errors
///
/// - A syntax error if `input` is not valid JSON (the same error [`validate`] returns).
/// - [`Error::Mismatch`] if it is valid JSON that does not fit `T`.
/// - [`Error::ArenaTooSmall`] if `arena` cannot hold the unescaped strings.
pub fn from_slice<'de, T: serde::Deserialize<'de>>(
    input: &'de [u8],
    arena: &'de mut [u8],
) -> Result<(T, usize), Error> {
    let (result, ()) = from_slice_observed(input, arena, ());
    result
}

/// [`from_slice`] that also shows the members of the top-level object to `observer` as the
/// target type reads them (see [`de::Observer`]), and gives the observer back.
///
/// Unless the observer aborts, the result is exactly [`from_slice`]'s: the observer only reads
/// ahead. When it aborts, the error is unspecified (the observer knows why).
pub(crate) fn from_slice_observed<'de, T: serde::Deserialize<'de>, O: Observer<'de>>(
    input: &'de [u8],
    arena: &'de mut [u8],
    observer: O,
) -> (Result<(T, usize), Error>, O) {
    let mut de = de::Deserializer::new(input, arena, observer);
    let result = T::deserialize(&mut de).and_then(|value| {
        scan::expect_end(input, de.position())?;
        Ok(value)
    });
    let result = match result {
        Ok(value) => Ok((value, de.arena_used())),
        Err(err) => match validate(input) {
            Err(syntax) => Err(syntax),
            Ok(()) => Err(err.at(de.position())),
        },
    };
    (result, de.into_observer())
}

/// Iterates over the members of the top-level JSON object `input`.
///
/// Each step validates what it traverses (the member's name and whole value); after the
/// closing `}` the iterator checks that only whitespace follows. The first error ends the
/// iteration.
///
/// # Errors
///
/// A syntax error if `input` does not start with an object (after whitespace) and is not valid
/// JSON, [`Error::Mismatch`] if it is valid JSON but not an object.
pub fn object_members(input: &[u8]) -> Result<Members<'_>, Error> {
    let start = skip_ws(input, 0);
    match input.get(start) {
        Some(b'{') => Ok(Members::top_level(input, start)),
        _ => {
            validate(input)?;
            Err(Error::Mismatch {
                field: None,
                offset: start,
            })
        }
    }
}

/// Checks that no member name appears twice in the top-level object `input` (names are
/// compared after unescaping, so `"sub"` and `"\u0073ub"` are the same name).
///
/// No allocation: the first 16 names are remembered on the stack, so objects with up to 16
/// members take one pass; each further member costs one rescan of the members after the 16th.
/// Bound the input size first.
///
/// # Errors
///
/// [`Error::DuplicateKey`] at the second occurrence, or any error of [`object_members`].
pub fn check_unique_keys(input: &[u8]) -> Result<(), Error> {
    const REMEMBERED: usize = 16;
    let mut seen: [Option<Key<'_>>; REMEMBERED] = [None; REMEMBERED];
    let mut count = 0;
    let mut after_seen: Option<Members<'_>> = None;
    let mut members = object_members(input)?;
    while let Some(member) = members.next() {
        let (key, _) = member?;
        let duplicate = Error::DuplicateKey {
            offset: key.offset(),
        };
        if seen.iter().flatten().any(|k| k.same_name(&key)) {
            return Err(duplicate);
        }
        if let Some(rest) = &after_seen {
            // Members between the remembered ones and this one, already validated.
            let mut rest = rest.clone();
            while let Some(Ok((other, _))) = rest.next() {
                if other.offset() >= key.offset() {
                    break;
                }
                if other.same_name(&key) {
                    return Err(duplicate);
                }
            }
        }
        if let Some(slot) = seen.get_mut(count) {
            *slot = Some(key);
            count += 1;
            if count == REMEMBERED {
                after_seen = Some(members.clone());
            }
        }
    }
    Ok(())
}

/// Serializes `value` as compact JSON into `out` and returns the number of bytes written.
///
/// Strings are escaped per RFC 8259: `"`, `\` and U+0000..U+001F (as `\n`, `\r`, `\t`, `\b`,
/// `\f` or `\u00XX`); other characters, including non-ASCII and `/`, are written as is.
///
/// # Errors
///
/// [`Error::BufferTooSmall`] with the exact size needed, or [`Error::Unsupported`].
pub fn to_slice<T: serde::Serialize + ?Sized>(value: &T, out: &mut [u8]) -> Result<usize, Error> {
    to_slice_measured(value, out).map(|(len, _)| len)
}

/// [`to_slice`], also returning the nesting depth of the output (the most arrays/objects open
/// at once), for callers that must know whether [`validate`] would accept it.
pub(crate) fn to_slice_measured<T: serde::Serialize + ?Sized>(
    value: &T,
    out: &mut [u8],
) -> Result<(usize, usize), Error> {
    let capacity = out.len();
    let mut writer = ser::Writer::new(out);
    value.serialize(ser::Serializer::new(&mut writer))?;
    let len = writer.len();
    if len > capacity {
        return Err(Error::BufferTooSmall { needed: len });
    }
    Ok((len, writer.max_depth()))
}

/// The error [`validate`] gives for serialized JSON nested deeper than
/// [`MAX_DEPTH`] (a [`Error::TooDeep`] at the bracket that opens one level too
/// many).
#[cold]
pub(crate) fn too_deep(written: &[u8]) -> Error {
    // The serializer writes valid JSON, so the only error `validate` finds is the depth; the
    // fallback is never taken.
    validate(written)
        .err()
        .unwrap_or(Error::TooDeep { offset: 0 })
}

/// [`serialized_len`], also returning the nesting depth of the output.
pub(crate) fn serialized_len_measured<T: serde::Serialize + ?Sized>(
    value: &T,
) -> Result<(usize, usize), Error> {
    let mut writer = ser::Writer::new(&mut []);
    value.serialize(ser::Serializer::new(&mut writer))?;
    Ok((writer.len(), writer.max_depth()))
}

/// The exact number of bytes [`to_slice`] writes for `value`.
///
/// # Errors
///
/// [`Error::Unsupported`] if `value` cannot be represented in JSON.
pub fn serialized_len<T: serde::Serialize + ?Sized>(value: &T) -> Result<usize, Error> {
    serialized_len_measured(value).map(|(len, _)| len)
}
