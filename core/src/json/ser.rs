//! The serde serializer: compact JSON into a caller slice, or just counting.

use core::fmt::{self, Write as _};

use serde::ser::{self, Serialize};

use super::Error;

/// Output that never fails: bytes past the end of the buffer are counted, not written, so
/// one pass gives both the output and the exact length needed.
pub(crate) struct Writer<'a> {
    buf: &'a mut [u8],
    len: usize,
    /// Arrays/objects open now.
    depth: usize,
    /// Most arrays/objects open at once so far.
    max_depth: usize,
}

impl<'a> Writer<'a> {
    pub(crate) fn new(buf: &'a mut [u8]) -> Self {
        Self {
            buf,
            len: 0,
            depth: 0,
            max_depth: 0,
        }
    }

    /// Total bytes of output so far (written or not).
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Most arrays/objects that were open at once (the nesting depth of the output).
    pub(crate) fn max_depth(&self) -> usize {
        self.max_depth
    }

    #[inline]
    fn open(&mut self, levels: usize) {
        self.depth = self.depth.saturating_add(levels);
        self.max_depth = self.max_depth.max(self.depth);
    }

    #[inline]
    fn close(&mut self, levels: usize) {
        self.depth = self.depth.saturating_sub(levels);
    }

    #[inline]
    fn put(&mut self, bytes: &[u8]) {
        let end = self.len.saturating_add(bytes.len());
        if let Some(dst) = self.buf.get_mut(self.len..end) {
            dst.copy_from_slice(bytes);
        } else if let Some(rest) = self.buf.get_mut(self.len..) {
            // Partly fits: keep the output a true prefix.
            let n = rest.len();
            rest.copy_from_slice(bytes.get(..n).unwrap_or_default());
        }
        self.len = end;
    }

    #[inline]
    fn byte(&mut self, b: u8) {
        if let Some(dst) = self.buf.get_mut(self.len) {
            *dst = b;
        }
        self.len = self.len.saturating_add(1);
    }

    /// Writes string content (no quotes), escaped.
    fn escaped(&mut self, s: &str) {
        let bytes = s.as_bytes();
        let mut run = 0;
        let mut i = 0;
        // Jump from one byte that needs escaping (quote, backslash, control) to the next.
        loop {
            i = super::scan::find_special(bytes, i);
            let Some(&b) = bytes.get(i) else {
                break;
            };
            i += 1;
            let escape: &[u8] = match b {
                b'"' => b"\\\"",
                b'\\' => b"\\\\",
                b'\n' => b"\\n",
                b'\r' => b"\\r",
                b'\t' => b"\\t",
                0x08 => b"\\b",
                0x0C => b"\\f",
                0x00..=0x1F => {
                    const HEX: &[u8; 16] = b"0123456789abcdef";
                    self.put(bytes.get(run..i - 1).unwrap_or_default());
                    self.put(b"\\u00");
                    self.byte(HEX[usize::from(b >> 4)]);
                    self.byte(HEX[usize::from(b & 0xF)]);
                    run = i;
                    continue;
                }
                _ => continue,
            };
            self.put(bytes.get(run..i - 1).unwrap_or_default());
            self.put(escape);
            run = i;
        }
        self.put(bytes.get(run..).unwrap_or_default());
    }

    /// Writes a quoted, escaped string.
    fn string(&mut self, s: &str) {
        self.byte(b'"');
        self.escaped(s);
        self.byte(b'"');
    }

    /// Writes `v` in decimal straight into the output, two digits a step: no staging buffer
    /// and no copy of a variable length (a `memcpy` call) when the digits fit.
    fn unsigned(&mut self, v: u64) {
        let n = decimal_len(v);
        let end = self.len.saturating_add(n);
        if let Some(dst) = self.buf.get_mut(self.len..end) {
            write_decimal(v, dst);
            self.len = end;
        } else if self.len < self.buf.len() {
            // Partly fits: keep the output a true prefix.
            let mut buf = [0u8; 20];
            let digits = buf.get_mut(20 - n..).unwrap_or_default();
            write_decimal(v, digits);
            self.put(digits);
        } else {
            // Only counted (nothing more fits, or a length-only pass).
            self.len = end;
        }
    }

    fn signed(&mut self, v: i64) {
        if v < 0 {
            self.byte(b'-');
        }
        self.unsigned(v.unsigned_abs());
    }

    fn unsigned128(&mut self, mut v: u128) {
        if let Ok(small) = u64::try_from(v) {
            return self.unsigned(small);
        }
        let mut buf = [0u8; 39];
        let mut i = buf.len();
        loop {
            i -= 1;
            if let Some(slot) = buf.get_mut(i) {
                *slot = b'0' + u8::try_from(v % 10).unwrap_or(0);
            }
            v /= 10;
            if v == 0 || i == 0 {
                break;
            }
        }
        self.put(buf.get(i..).unwrap_or_default());
    }

    fn signed128(&mut self, v: i128) {
        if v < 0 {
            self.byte(b'-');
        }
        self.unsigned128(v.unsigned_abs());
    }

    /// Writes a finite float with Rust's shortest round-trip `Debug` form, which is valid
    /// JSON (`1.0`, `0.1`, `1e300`, `1e-7`, `-0.0`).
    fn float(&mut self, v: impl fmt::Debug, finite: bool) -> Result<(), Error> {
        if !finite {
            return Err(Error::Unsupported);
        }
        let mut buf = StackBuf {
            buf: [0; 48],
            len: 0,
        };
        write!(buf, "{v:?}").map_err(|_| Error::Unsupported)?;
        self.put(buf.buf.get(..buf.len).unwrap_or_default());
        Ok(())
    }
}

/// The number of decimal digits of `v` (1 for 0; at most 20).
fn decimal_len(v: u64) -> usize {
    v.checked_ilog10().map_or(1, |d| d as usize + 1)
}

/// Writes the last `dst.len()` decimal digits of `v` into `dst`, two at a time from the end.
fn write_decimal(mut v: u64, dst: &mut [u8]) {
    const PAIRS: &[u8; 200] = b"0001020304050607080910111213141516171819\
        2021222324252627282930313233343536373839\
        4041424344454647484950515253545556575859\
        6061626364656667686970717273747576777879\
        8081828384858687888990919293949596979899";
    let mut i = dst.len();
    while i >= 2 {
        let pair = usize::try_from(v % 100).unwrap_or(0) * 2;
        v /= 100;
        i -= 2;
        if let (Some(d), Some(p)) = (dst.get_mut(i..i + 2), PAIRS.get(pair..pair + 2)) {
            d.copy_from_slice(p);
        }
    }
    if let Some(d) = dst.first_mut().filter(|_| i == 1) {
        // `v < 10` here: a single digit.
        *d = b'0' + u8::try_from(v).unwrap_or(0);
    }
}

/// A small stack buffer for float formatting.
struct StackBuf {
    buf: [u8; 48],
    len: usize,
}

impl fmt::Write for StackBuf {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len + s.len();
        self.buf
            .get_mut(self.len..end)
            .ok_or(fmt::Error)?
            .copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// Escapes `Display` output straight into the writer (for `collect_str`).
struct EscapingWriter<'w, 'a>(&'w mut Writer<'a>);

impl fmt::Write for EscapingWriter<'_, '_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0.escaped(s);
        Ok(())
    }
}

/// The serializer.
pub(crate) struct Serializer<'w, 'a> {
    out: &'w mut Writer<'a>,
}

impl<'w, 'a> Serializer<'w, 'a> {
    pub(crate) fn new(out: &'w mut Writer<'a>) -> Self {
        Self { out }
    }
}

impl<'w, 'a> ser::Serializer for Serializer<'w, 'a> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Compound<'w, 'a>;
    type SerializeTuple = Compound<'w, 'a>;
    type SerializeTupleStruct = Compound<'w, 'a>;
    type SerializeTupleVariant = Compound<'w, 'a>;
    type SerializeMap = Compound<'w, 'a>;
    type SerializeStruct = Compound<'w, 'a>;
    type SerializeStructVariant = Compound<'w, 'a>;

    fn serialize_bool(self, v: bool) -> Result<(), Error> {
        self.out.put(if v { b"true" } else { b"false" });
        Ok(())
    }

    fn serialize_i8(self, v: i8) -> Result<(), Error> {
        self.serialize_i64(i64::from(v))
    }

    fn serialize_i16(self, v: i16) -> Result<(), Error> {
        self.serialize_i64(i64::from(v))
    }

    fn serialize_i32(self, v: i32) -> Result<(), Error> {
        self.serialize_i64(i64::from(v))
    }

    fn serialize_i64(self, v: i64) -> Result<(), Error> {
        self.out.signed(v);
        Ok(())
    }

    fn serialize_i128(self, v: i128) -> Result<(), Error> {
        self.out.signed128(v);
        Ok(())
    }

    fn serialize_u8(self, v: u8) -> Result<(), Error> {
        self.serialize_u64(u64::from(v))
    }

    fn serialize_u16(self, v: u16) -> Result<(), Error> {
        self.serialize_u64(u64::from(v))
    }

    fn serialize_u32(self, v: u32) -> Result<(), Error> {
        self.serialize_u64(u64::from(v))
    }

    fn serialize_u64(self, v: u64) -> Result<(), Error> {
        self.out.unsigned(v);
        Ok(())
    }

    fn serialize_u128(self, v: u128) -> Result<(), Error> {
        self.out.unsigned128(v);
        Ok(())
    }

    fn serialize_f32(self, v: f32) -> Result<(), Error> {
        self.out.float(v, v.is_finite())
    }

    fn serialize_f64(self, v: f64) -> Result<(), Error> {
        self.out.float(v, v.is_finite())
    }

    fn serialize_char(self, v: char) -> Result<(), Error> {
        let mut buf = [0u8; 4];
        self.out.string(v.encode_utf8(&mut buf));
        Ok(())
    }

    fn serialize_str(self, v: &str) -> Result<(), Error> {
        self.out.string(v);
        Ok(())
    }

    fn serialize_bytes(self, v: &[u8]) -> Result<(), Error> {
        // An array: one level of nesting, counted like any other.
        self.out.byte(b'[');
        self.out.open(1);
        for (i, &b) in v.iter().enumerate() {
            if i > 0 {
                self.out.byte(b',');
            }
            self.out.unsigned(u64::from(b));
        }
        self.out.byte(b']');
        self.out.close(1);
        Ok(())
    }

    fn serialize_none(self) -> Result<(), Error> {
        self.serialize_unit()
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Error> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<(), Error> {
        self.out.put(b"null");
        Ok(())
    }

    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), Error> {
        self.serialize_unit()
    }

    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<(), Error> {
        self.serialize_str(variant)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        self.out.byte(b'{');
        self.out.open(1);
        self.out.string(variant);
        self.out.byte(b':');
        value.serialize(Serializer::new(&mut *self.out))?;
        self.out.byte(b'}');
        self.out.close(1);
        Ok(())
    }

    fn serialize_seq(self, _len: Option<usize>) -> Result<Compound<'w, 'a>, Error> {
        self.out.byte(b'[');
        Ok(Compound::new(self.out, b"]"))
    }

    fn serialize_tuple(self, len: usize) -> Result<Compound<'w, 'a>, Error> {
        self.serialize_seq(Some(len))
    }

    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        len: usize,
    ) -> Result<Compound<'w, 'a>, Error> {
        self.serialize_seq(Some(len))
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Compound<'w, 'a>, Error> {
        self.out.byte(b'{');
        self.out.string(variant);
        self.out.put(b":[");
        Ok(Compound::new(self.out, b"]}"))
    }

    fn serialize_map(self, _len: Option<usize>) -> Result<Compound<'w, 'a>, Error> {
        self.out.byte(b'{');
        Ok(Compound::new(self.out, b"}"))
    }

    fn serialize_struct(self, _name: &'static str, len: usize) -> Result<Compound<'w, 'a>, Error> {
        self.serialize_map(Some(len))
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Compound<'w, 'a>, Error> {
        self.out.byte(b'{');
        self.out.string(variant);
        self.out.put(b":{");
        Ok(Compound::new(self.out, b"}}"))
    }

    fn collect_str<T: fmt::Display + ?Sized>(self, value: &T) -> Result<(), Error> {
        self.out.byte(b'"');
        write!(EscapingWriter(&mut *self.out), "{value}").map_err(|_| Error::Unsupported)?;
        self.out.byte(b'"');
        Ok(())
    }
}

/// An array or object being written.
pub(crate) struct Compound<'w, 'a> {
    out: &'w mut Writer<'a>,
    first: bool,
    close: &'static [u8],
}

impl<'w, 'a> Compound<'w, 'a> {
    /// `close` closes every level this opens (one byte per array/object).
    fn new(out: &'w mut Writer<'a>, close: &'static [u8]) -> Self {
        out.open(close.len());
        Self {
            out,
            first: true,
            close,
        }
    }

    fn separator(&mut self) {
        if !core::mem::replace(&mut self.first, false) {
            self.out.byte(b',');
        }
    }

    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.separator();
        value.serialize(Serializer::new(&mut *self.out))
    }

    fn field<T: Serialize + ?Sized>(&mut self, key: &str, value: &T) -> Result<(), Error> {
        self.separator();
        self.out.string(key);
        self.out.byte(b':');
        value.serialize(Serializer::new(&mut *self.out))
    }

    fn finish(self) -> Result<(), Error> {
        self.out.put(self.close);
        self.out.close(self.close.len());
        Ok(())
    }
}

impl ser::SerializeSeq for Compound<'_, '_> {
    type Ok = ();
    type Error = Error;

    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.element(value)
    }

    fn end(self) -> Result<(), Error> {
        self.finish()
    }
}

impl ser::SerializeTuple for Compound<'_, '_> {
    type Ok = ();
    type Error = Error;

    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.element(value)
    }

    fn end(self) -> Result<(), Error> {
        self.finish()
    }
}

impl ser::SerializeTupleStruct for Compound<'_, '_> {
    type Ok = ();
    type Error = Error;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.element(value)
    }

    fn end(self) -> Result<(), Error> {
        self.finish()
    }
}

impl ser::SerializeTupleVariant for Compound<'_, '_> {
    type Ok = ();
    type Error = Error;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.element(value)
    }

    fn end(self) -> Result<(), Error> {
        self.finish()
    }
}

impl ser::SerializeMap for Compound<'_, '_> {
    type Ok = ();
    type Error = Error;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Error> {
        self.separator();
        key.serialize(MapKeySerializer {
            out: &mut *self.out,
        })?;
        self.out.byte(b':');
        Ok(())
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        value.serialize(Serializer::new(&mut *self.out))
    }

    fn end(self) -> Result<(), Error> {
        self.finish()
    }
}

impl ser::SerializeStruct for Compound<'_, '_> {
    type Ok = ();
    type Error = Error;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        self.field(key, value)
    }

    fn end(self) -> Result<(), Error> {
        self.finish()
    }
}

impl ser::SerializeStructVariant for Compound<'_, '_> {
    type Ok = ();
    type Error = Error;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        self.field(key, value)
    }

    fn end(self) -> Result<(), Error> {
        self.finish()
    }
}

/// Serializer for map keys: strings, chars, unit variants and integers (quoted).
struct MapKeySerializer<'w, 'a> {
    out: &'w mut Writer<'a>,
}

impl MapKeySerializer<'_, '_> {
    fn quoted(self, write: impl FnOnce(&mut Writer<'_>)) -> Result<(), Error> {
        self.out.byte(b'"');
        write(self.out);
        self.out.byte(b'"');
        Ok(())
    }
}

impl ser::Serializer for MapKeySerializer<'_, '_> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = ser::Impossible<(), Error>;
    type SerializeTuple = ser::Impossible<(), Error>;
    type SerializeTupleStruct = ser::Impossible<(), Error>;
    type SerializeTupleVariant = ser::Impossible<(), Error>;
    type SerializeMap = ser::Impossible<(), Error>;
    type SerializeStruct = ser::Impossible<(), Error>;
    type SerializeStructVariant = ser::Impossible<(), Error>;

    fn serialize_bool(self, _v: bool) -> Result<(), Error> {
        Err(Error::Unsupported)
    }

    fn serialize_i8(self, v: i8) -> Result<(), Error> {
        self.quoted(|w| w.signed(i64::from(v)))
    }

    fn serialize_i16(self, v: i16) -> Result<(), Error> {
        self.quoted(|w| w.signed(i64::from(v)))
    }

    fn serialize_i32(self, v: i32) -> Result<(), Error> {
        self.quoted(|w| w.signed(i64::from(v)))
    }

    fn serialize_i64(self, v: i64) -> Result<(), Error> {
        self.quoted(|w| w.signed(v))
    }

    fn serialize_i128(self, v: i128) -> Result<(), Error> {
        self.quoted(|w| w.signed128(v))
    }

    fn serialize_u8(self, v: u8) -> Result<(), Error> {
        self.quoted(|w| w.unsigned(u64::from(v)))
    }

    fn serialize_u16(self, v: u16) -> Result<(), Error> {
        self.quoted(|w| w.unsigned(u64::from(v)))
    }

    fn serialize_u32(self, v: u32) -> Result<(), Error> {
        self.quoted(|w| w.unsigned(u64::from(v)))
    }

    fn serialize_u64(self, v: u64) -> Result<(), Error> {
        self.quoted(|w| w.unsigned(v))
    }

    fn serialize_u128(self, v: u128) -> Result<(), Error> {
        self.quoted(|w| w.unsigned128(v))
    }

    fn serialize_f32(self, _v: f32) -> Result<(), Error> {
        Err(Error::Unsupported)
    }

    fn serialize_f64(self, _v: f64) -> Result<(), Error> {
        Err(Error::Unsupported)
    }

    fn serialize_char(self, v: char) -> Result<(), Error> {
        let mut buf = [0u8; 4];
        self.out.string(v.encode_utf8(&mut buf));
        Ok(())
    }

    fn serialize_str(self, v: &str) -> Result<(), Error> {
        self.out.string(v);
        Ok(())
    }

    fn serialize_bytes(self, _v: &[u8]) -> Result<(), Error> {
        Err(Error::Unsupported)
    }

    fn serialize_none(self) -> Result<(), Error> {
        Err(Error::Unsupported)
    }

    fn serialize_some<T: Serialize + ?Sized>(self, _value: &T) -> Result<(), Error> {
        Err(Error::Unsupported)
    }

    fn serialize_unit(self) -> Result<(), Error> {
        Err(Error::Unsupported)
    }

    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), Error> {
        Err(Error::Unsupported)
    }

    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<(), Error> {
        self.serialize_str(variant)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _value: &T,
    ) -> Result<(), Error> {
        Err(Error::Unsupported)
    }

    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq, Error> {
        Err(Error::Unsupported)
    }

    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple, Error> {
        Err(Error::Unsupported)
    }

    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleStruct, Error> {
        Err(Error::Unsupported)
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant, Error> {
        Err(Error::Unsupported)
    }

    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap, Error> {
        Err(Error::Unsupported)
    }

    fn serialize_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStruct, Error> {
        Err(Error::Unsupported)
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, Error> {
        Err(Error::Unsupported)
    }

    fn collect_str<T: fmt::Display + ?Sized>(self, value: &T) -> Result<(), Error> {
        Serializer::new(self.out).collect_str(value)
    }
}
