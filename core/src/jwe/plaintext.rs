//! The JWE plaintext Auth.js writes: the token's members, minus any top-level `iat`, `exp` and
//! `jti`, followed by fresh `"iat"`, `"exp"` and `"jti"` members (jose's `EncryptJWT` with
//! `setIssuedAt`, `setExpirationTime` and `setJti` overwrites these three and keeps the others in
//! their order).
//!
//! Two sources, both without heap and with the exact length known before anything is written:
//! a `Serialize` value goes through [`WithTimes`], a serializer filter that drops the three
//! members at the top level and appends the fresh ones; raw JSON text goes through
//! [`filter_json`], which copies the kept members' exact text.

use core::cell::Cell;
use core::fmt;

use serde::ser::{self, Impossible, Serialize, SerializeMap, SerializeStruct, Serializer};

use crate::error::EncodeError;
use crate::json;

/// The top-level members Auth.js replaces.
const REPLACED: [&str; 3] = ["iat", "exp", "jti"];

/// The fresh registered claims appended to the plaintext.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Times<'a> {
    /// `iat`: the issue time, Unix seconds.
    pub(crate) iat: i64,
    /// `exp`: `iat + maxAge`.
    pub(crate) exp: i64,
    /// `jti`: a lowercase v4 UUID.
    pub(crate) jti: &'a str,
}

/// `claims` serialized as a JSON object with `iat`, `exp` and `jti` replaced by `times`.
pub(crate) struct WithTimes<'a, T: ?Sized> {
    pub(crate) claims: &'a T,
    pub(crate) times: Times<'a>,
    /// When set, records what the filter leaves out (see [`Track`]).
    pub(crate) track: Option<&'a Track>,
}

impl<T: Serialize + ?Sized> Serialize for WithTimes<'_, T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.claims.serialize(TopLevel {
            inner: serializer,
            times: self.times,
            track: self.track,
        })
    }
}

/// What a [`WithTimes`] serialization through `crate::json` left out, so that the length and
/// nesting depth of `claims` serialized without the filter can be computed without serializing
/// it again: the members kept, and the length and depth of each member dropped (measured
/// alone; a member that fails to serialize marks the track failed).
#[derive(Debug, Default)]
pub(crate) struct Track {
    kept: Cell<usize>,
    dropped: Cell<usize>,
    dropped_len: Cell<usize>,
    dropped_depth: Cell<usize>,
    failed: Cell<bool>,
}

impl Track {
    fn keep(&self) {
        self.kept.set(self.kept.get().saturating_add(1));
    }

    /// Adds `len` bytes at depth `depth` to the dropped members (`member`: this starts one).
    fn drop_part(&self, member: bool, len: usize, depth: usize) {
        if member {
            self.dropped.set(self.dropped.get().saturating_add(1));
        }
        self.dropped_len
            .set(self.dropped_len.get().saturating_add(len));
        self.dropped_depth.set(self.dropped_depth.get().max(depth));
    }

    /// Measures `value` with `crate::json` (length, depth); `None`, marking the track failed,
    /// if it does not serialize.
    fn measure<V: Serialize + ?Sized>(&self, value: &V) -> Option<(usize, usize)> {
        let measured = json::serialized_len_measured(value).ok();
        if measured.is_none() {
            self.failed.set(true);
        }
        measured
    }

    /// Records a dropped member measured as a one-member object `{"name":value}`.
    fn drop_member<V: Serialize + ?Sized>(&self, one_member_object: &V) {
        if let Some((len, depth)) = self.measure(one_member_object) {
            self.drop_part(true, len.saturating_sub(2), depth);
        }
    }

    /// Length and nesting depth of the claims serialized by `crate::json` without the filter,
    /// given the filtered output's length and depth and the length of the filter's output for
    /// an object with no members (`{` + the three fresh members + `}`). `None` if a dropped
    /// member failed to serialize (the unfiltered serialization fails too).
    pub(crate) fn unfiltered(
        &self,
        filtered_len: usize,
        filtered_depth: usize,
        times_only_len: usize,
    ) -> Option<(usize, usize)> {
        if self.failed.get() {
            return None;
        }
        let (kept, dropped) = (self.kept.get(), self.dropped.get());
        // filtered = `{` + kept members + `,` after each + the fresh members + `}`.
        let kept_len = filtered_len
            .checked_sub(times_only_len)?
            .checked_sub(kept)?;
        let members = kept.checked_add(dropped)?;
        let len = match members {
            0 => 2,
            _ => kept_len
                .checked_add(self.dropped_len.get())?
                .checked_add(members - 1)?
                .checked_add(2)?,
        };
        Some((len, filtered_depth.max(self.dropped_depth.get())))
    }
}

/// A one-member object `{"key":value}` (a struct field), to measure a dropped member.
struct OneField<'v, V: ?Sized> {
    key: &'static str,
    value: &'v V,
}

impl<V: Serialize + ?Sized> Serialize for OneField<'_, V> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("", 1)?;
        s.serialize_field(self.key, self.value)?;
        s.end()
    }
}

/// A one-entry map `{key:value}`, to measure a dropped map entry.
struct OneEntry<'v, K: ?Sized, V: ?Sized> {
    key: &'v K,
    value: &'v V,
}

impl<K: Serialize + ?Sized, V: Serialize + ?Sized> Serialize for OneEntry<'_, K, V> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut m = serializer.serialize_map(Some(1))?;
        m.serialize_entry(self.key, self.value)?;
        m.end()
    }
}

fn not_an_object<E: ser::Error>() -> E {
    E::custom("claims must serialize to a JSON object")
}

/// Serializes the top-level value: only structs and maps (and newtypes or `Some` around them)
/// are accepted; their members are filtered by [`StructFilter`] and [`MapFilter`].
struct TopLevel<'a, S> {
    inner: S,
    times: Times<'a>,
    track: Option<&'a Track>,
}

macro_rules! refuse {
    ($($name:ident($($ty:ty),*);)*) => {
        $(
            fn $name(self, $(_: $ty),*) -> Result<Self::Ok, Self::Error> {
                Err(not_an_object())
            }
        )*
    };
}

impl<'a, S: Serializer> Serializer for TopLevel<'a, S> {
    type Ok = S::Ok;
    type Error = S::Error;
    type SerializeSeq = Impossible<S::Ok, S::Error>;
    type SerializeTuple = Impossible<S::Ok, S::Error>;
    type SerializeTupleStruct = Impossible<S::Ok, S::Error>;
    type SerializeTupleVariant = Impossible<S::Ok, S::Error>;
    type SerializeMap = MapFilter<'a, S::SerializeMap>;
    type SerializeStruct = StructFilter<'a, S::SerializeStruct>;
    type SerializeStructVariant = Impossible<S::Ok, S::Error>;

    refuse! {
        serialize_bool(bool);
        serialize_i8(i8);
        serialize_i16(i16);
        serialize_i32(i32);
        serialize_i64(i64);
        serialize_u8(u8);
        serialize_u16(u16);
        serialize_u32(u32);
        serialize_u64(u64);
        serialize_f32(f32);
        serialize_f64(f64);
        serialize_char(char);
        serialize_str(&str);
        serialize_bytes(&[u8]);
        serialize_none();
        serialize_unit();
        serialize_unit_struct(&'static str);
        serialize_unit_variant(&'static str, u32, &'static str);
    }

    fn serialize_some<V: Serialize + ?Sized>(self, value: &V) -> Result<S::Ok, S::Error> {
        value.serialize(self)
    }

    fn serialize_newtype_struct<V: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &V,
    ) -> Result<S::Ok, S::Error> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<V: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _value: &V,
    ) -> Result<S::Ok, S::Error> {
        Err(not_an_object())
    }

    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq, S::Error> {
        Err(not_an_object())
    }

    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple, S::Error> {
        Err(not_an_object())
    }

    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleStruct, S::Error> {
        Err(not_an_object())
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant, S::Error> {
        Err(not_an_object())
    }

    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap, S::Error> {
        Ok(MapFilter {
            inner: self.inner.serialize_map(None)?,
            times: self.times,
            track: self.track,
            skip_value: false,
        })
    }

    fn serialize_struct(
        self,
        name: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStruct, S::Error> {
        Ok(StructFilter {
            inner: self
                .inner
                .serialize_struct(name, len.saturating_add(REPLACED.len()))?,
            times: self.times,
            track: self.track,
        })
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, S::Error> {
        Err(not_an_object())
    }

    fn collect_str<V: fmt::Display + ?Sized>(self, _value: &V) -> Result<S::Ok, S::Error> {
        Err(not_an_object())
    }

    fn is_human_readable(&self) -> bool {
        self.inner.is_human_readable()
    }
}

/// The members of a top-level struct, minus `iat`/`exp`/`jti`, then the fresh ones.
struct StructFilter<'a, S> {
    inner: S,
    times: Times<'a>,
    track: Option<&'a Track>,
}

impl<S: SerializeStruct> SerializeStruct for StructFilter<'_, S> {
    type Ok = S::Ok;
    type Error = S::Error;

    fn serialize_field<V: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &V,
    ) -> Result<(), S::Error> {
        if REPLACED.contains(&key) {
            if let Some(track) = self.track {
                track.drop_member(&OneField { key, value });
            }
            return Ok(());
        }
        if let Some(track) = self.track {
            track.keep();
        }
        self.inner.serialize_field(key, value)
    }

    fn skip_field(&mut self, key: &'static str) -> Result<(), S::Error> {
        self.inner.skip_field(key)
    }

    fn end(mut self) -> Result<S::Ok, S::Error> {
        self.inner.serialize_field("iat", &self.times.iat)?;
        self.inner.serialize_field("exp", &self.times.exp)?;
        self.inner.serialize_field("jti", self.times.jti)?;
        self.inner.end()
    }
}

/// The entries of a top-level map, minus `iat`/`exp`/`jti` keys, then the fresh ones.
struct MapFilter<'a, M> {
    inner: M,
    times: Times<'a>,
    track: Option<&'a Track>,
    /// The last key given to `serialize_key` was dropped, so its value is dropped too.
    skip_value: bool,
}

impl<M: SerializeMap> SerializeMap for MapFilter<'_, M> {
    type Ok = M::Ok;
    type Error = M::Error;

    fn serialize_key<K: Serialize + ?Sized>(&mut self, key: &K) -> Result<(), M::Error> {
        self.skip_value = is_replaced::<K, M::Error>(key);
        if self.skip_value {
            if let Some(track) = self.track {
                // `{key:null}`: the key, its `:` and 4 bytes of `null` inside the braces.
                if let Some((len, depth)) = track.measure(&OneEntry { key, value: &() }) {
                    track.drop_part(true, len.saturating_sub(6), depth);
                }
            }
            return Ok(());
        }
        if let Some(track) = self.track {
            track.keep();
        }
        self.inner.serialize_key(key)
    }

    fn serialize_value<V: Serialize + ?Sized>(&mut self, value: &V) -> Result<(), M::Error> {
        if core::mem::take(&mut self.skip_value) {
            if let Some(track) = self.track {
                // The value sits inside the top-level object: one level deeper.
                if let Some((len, depth)) = track.measure(value) {
                    track.drop_part(false, len, depth.saturating_add(1));
                }
            }
            return Ok(());
        }
        self.inner.serialize_value(value)
    }

    fn serialize_entry<K: Serialize + ?Sized, V: Serialize + ?Sized>(
        &mut self,
        key: &K,
        value: &V,
    ) -> Result<(), M::Error> {
        if is_replaced::<K, M::Error>(key) {
            if let Some(track) = self.track {
                track.drop_member(&OneEntry { key, value });
            }
            return Ok(());
        }
        if let Some(track) = self.track {
            track.keep();
        }
        self.inner.serialize_entry(key, value)
    }

    fn end(mut self) -> Result<M::Ok, M::Error> {
        self.inner.serialize_entry("iat", &self.times.iat)?;
        self.inner.serialize_entry("exp", &self.times.exp)?;
        self.inner.serialize_entry("jti", self.times.jti)?;
        self.inner.end()
    }
}

/// Whether a map key serializes to the string `iat`, `exp` or `jti`. Keys that are not strings
/// (or fail) are kept and left to the real serializer.
fn is_replaced<K: Serialize + ?Sized, E: ser::Error>(key: &K) -> bool {
    key.serialize(KeyProbe::<E>(core::marker::PhantomData))
        .unwrap_or(false)
}

/// A serializer that only answers "is this the string `iat`, `exp` or `jti`?".
struct KeyProbe<E>(core::marker::PhantomData<E>);

macro_rules! not_replaced {
    ($($name:ident($($ty:ty),*);)*) => {
        $(
            fn $name(self, $(_: $ty),*) -> Result<bool, E> {
                Ok(false)
            }
        )*
    };
}

impl<E: ser::Error> Serializer for KeyProbe<E> {
    type Ok = bool;
    type Error = E;
    type SerializeSeq = Impossible<bool, E>;
    type SerializeTuple = Impossible<bool, E>;
    type SerializeTupleStruct = Impossible<bool, E>;
    type SerializeTupleVariant = Impossible<bool, E>;
    type SerializeMap = Impossible<bool, E>;
    type SerializeStruct = Impossible<bool, E>;
    type SerializeStructVariant = Impossible<bool, E>;

    not_replaced! {
        serialize_bool(bool);
        serialize_i8(i8);
        serialize_i16(i16);
        serialize_i32(i32);
        serialize_i64(i64);
        serialize_u8(u8);
        serialize_u16(u16);
        serialize_u32(u32);
        serialize_u64(u64);
        serialize_f32(f32);
        serialize_f64(f64);
        serialize_char(char);
        serialize_bytes(&[u8]);
        serialize_none();
        serialize_unit();
        serialize_unit_struct(&'static str);
    }

    fn serialize_str(self, v: &str) -> Result<bool, E> {
        Ok(REPLACED.contains(&v))
    }

    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<bool, E> {
        // A unit variant used as a map key serializes as its name.
        self.serialize_str(variant)
    }

    fn serialize_some<V: Serialize + ?Sized>(self, _value: &V) -> Result<bool, E> {
        // An `Option` key is no JSON member name (`json`'s key serializer refuses it): not
        // replaced, so the member goes on to that serializer, which refuses it.
        Ok(false)
    }

    fn serialize_newtype_struct<V: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &V,
    ) -> Result<bool, E> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<V: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _value: &V,
    ) -> Result<bool, E> {
        Ok(false)
    }

    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq, E> {
        Err(E::custom("not a string"))
    }

    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple, E> {
        Err(E::custom("not a string"))
    }

    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleStruct, E> {
        Err(E::custom("not a string"))
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant, E> {
        Err(E::custom("not a string"))
    }

    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap, E> {
        Err(E::custom("not a string"))
    }

    fn serialize_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStruct, E> {
        Err(E::custom("not a string"))
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, E> {
        Err(E::custom("not a string"))
    }

    fn collect_str<V: fmt::Display + ?Sized>(self, value: &V) -> Result<bool, E> {
        let mut probe = ShortText::default();
        // A write error only means the text is longer than any replaced name.
        let fits = fmt::write(&mut probe, format_args!("{value}")).is_ok();
        Ok(fits && REPLACED.iter().any(|r| r.as_bytes() == probe.text()))
    }
}

/// Collects up to 3 bytes of formatted text; longer text is an error.
#[derive(Default)]
struct ShortText {
    buf: [u8; 3],
    len: usize,
}

impl ShortText {
    fn text(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or_default()
    }
}

impl fmt::Write for ShortText {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len.checked_add(s.len()).ok_or(fmt::Error)?;
        self.buf
            .get_mut(self.len..end)
            .ok_or(fmt::Error)?
            .copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// Output that counts everything and writes what fits (a `None` buffer only counts).
pub(super) struct Sink<'b> {
    buf: Option<&'b mut [u8]>,
    len: usize,
}

impl<'b> Sink<'b> {
    /// A sink that only counts.
    pub(super) const fn counter() -> Self {
        Self { buf: None, len: 0 }
    }

    /// A sink writing into `buf`.
    pub(super) fn new(buf: &'b mut [u8]) -> Self {
        Self {
            buf: Some(buf),
            len: 0,
        }
    }

    /// Bytes output so far (written or counted).
    pub(super) const fn len(&self) -> usize {
        self.len
    }

    /// Whether everything output so far was written (always true for a counter).
    pub(super) fn fits(&self) -> bool {
        self.buf.as_ref().is_none_or(|b| self.len <= b.len())
    }

    pub(super) fn put(&mut self, bytes: &[u8]) {
        let end = self.len.saturating_add(bytes.len());
        if let Some(dst) = self.buf.as_mut().and_then(|b| b.get_mut(self.len..end)) {
            dst.copy_from_slice(bytes);
        }
        self.len = end;
    }

    fn put_u64(&mut self, mut v: u64) {
        let mut digits = [0u8; 20];
        let mut start = digits.len();
        loop {
            start -= 1;
            #[allow(clippy::cast_possible_truncation, reason = "a decimal digit")]
            let digit = (v % 10) as u8;
            if let Some(d) = digits.get_mut(start) {
                *d = b'0' + digit;
            }
            v /= 10;
            if v == 0 || start == 0 {
                break;
            }
        }
        self.put(digits.get(start..).unwrap_or_default());
    }
}

/// Copies the JSON object `payload` to `sink`, minus its top-level `iat`, `exp` and `jti`
/// members (names compared after unescaping), then appends `times`. Kept members are copied
/// byte for byte (from the name's opening quote to the end of the value) and joined with `,`.
///
/// # Errors
///
/// [`EncodeError::Claims`] when `payload` is not a strictly valid JSON object.
pub(super) fn filter_json(
    payload: &[u8],
    times: &Times<'_>,
    sink: &mut Sink<'_>,
) -> Result<(), EncodeError> {
    json::validate(payload).map_err(EncodeError::Claims)?;
    sink.put(b"{");
    let mut first = true;
    for member in json::object_members(payload).map_err(EncodeError::Claims)? {
        let (key, value) = member.map_err(EncodeError::Claims)?;
        if REPLACED.iter().any(|name| key.matches(name)) {
            continue;
        }
        let end = value.offset().saturating_add(value.raw().len());
        let text = payload
            .get(key.offset()..end)
            .ok_or(EncodeError::Claims(json::Error::Unsupported))?;
        if !first {
            sink.put(b",");
        }
        sink.put(text);
        first = false;
    }
    if !first {
        sink.put(b",");
    }
    put_times(times, sink);
    sink.put(b"}");
    Ok(())
}

/// `"iat":<iat>,"exp":<exp>,"jti":"<jti>"` (times are checked to be non-negative by the
/// caller; the UUID needs no escaping).
fn put_times(times: &Times<'_>, sink: &mut Sink<'_>) {
    sink.put(b"\"iat\":");
    sink.put_u64(times.iat.unsigned_abs());
    sink.put(b",\"exp\":");
    sink.put_u64(times.exp.unsigned_abs());
    sink.put(b",\"jti\":\"");
    sink.put(times.jti.as_bytes());
    sink.put(b"\"");
}

#[cfg(test)]
mod tests {
    use std::string::String;

    use serde::Serialize;

    use super::*;

    const UUID: &str = "12345678-9abc-4ef0-9234-56789abcdef0";
    const TIMES: Times<'static> = Times {
        iat: 1_700_000_000,
        exp: 1_702_592_000,
        jti: UUID,
    };

    fn with_times<T: Serialize + ?Sized>(claims: &T) -> Result<String, json::Error> {
        let value = WithTimes {
            claims,
            times: TIMES,
            track: None,
        };
        let len = json::serialized_len(&value)?;
        let mut buf = std::vec![0u8; len];
        let n = json::to_slice(&value, &mut buf)?;
        assert_eq!(n, len);
        Ok(String::from_utf8(buf).unwrap())
    }

    fn filtered(payload: &str) -> Result<String, EncodeError> {
        let mut counter = Sink::counter();
        filter_json(payload.as_bytes(), &TIMES, &mut counter)?;
        let mut buf = std::vec![0u8; counter.len()];
        let mut sink = Sink::new(&mut buf);
        filter_json(payload.as_bytes(), &TIMES, &mut sink)?;
        assert_eq!(sink.len(), counter.len());
        assert!(sink.fits());
        Ok(String::from_utf8(buf).unwrap())
    }

    const TAIL: &str =
        r#""iat":1700000000,"exp":1702592000,"jti":"12345678-9abc-4ef0-9234-56789abcdef0""#;

    #[derive(Serialize)]
    struct Session<'a> {
        name: &'a str,
        iat: i64,
        #[serde(rename = "exp")]
        expires: i64,
        #[serde(skip_serializing_if = "Option::is_none")]
        picture: Option<&'a str>,
        jti: &'a str,
        nested: Nested,
    }

    #[derive(Serialize)]
    struct Nested {
        iat: u8,
    }

    #[test]
    fn struct_members_are_filtered_and_times_appended() {
        let s = Session {
            name: "Ada",
            iat: 1,
            expires: 2,
            picture: None,
            jti: "old",
            nested: Nested { iat: 3 },
        };
        assert_eq!(
            with_times(&s).unwrap(),
            std::format!(r#"{{"name":"Ada","nested":{{"iat":3}},{TAIL}}}"#)
        );
    }

    /// A map serialized entry by entry (`split = false`) or key then value (`split = true`).
    struct Pairs<'a, K> {
        pairs: &'a [(K, &'a str)],
        split: bool,
    }

    impl<K: Serialize> Serialize for Pairs<'_, K> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let mut map = s.serialize_map(Some(self.pairs.len()))?;
            for (k, v) in self.pairs {
                if self.split {
                    map.serialize_key(k)?;
                    map.serialize_value(v)?;
                } else {
                    map.serialize_entry(k, v)?;
                }
            }
            map.end()
        }
    }

    #[derive(Serialize)]
    enum Name {
        #[serde(rename = "exp")]
        Exp,
        Other,
    }

    #[test]
    fn map_members_are_filtered() {
        let pairs = [("sub", "u1"), ("jti", "x"), ("exp", "y"), ("zzz", "z")];
        for split in [false, true] {
            assert_eq!(
                with_times(&Pairs {
                    pairs: &pairs,
                    split
                })
                .unwrap(),
                std::format!(r#"{{"sub":"u1","zzz":"z",{TAIL}}}"#)
            );
        }
        let empty: [(&str, &str); 0] = [];
        let empty = Pairs {
            pairs: &empty,
            split: false,
        };
        assert_eq!(with_times(&empty).unwrap(), std::format!("{{{TAIL}}}"));
        let ints = [(1u8, "a")];
        let ints = Pairs {
            pairs: &ints,
            split: true,
        };
        assert_eq!(
            with_times(&ints).unwrap(),
            std::format!(r#"{{"1":"a",{TAIL}}}"#)
        );
        let variants = [(Name::Exp, "a"), (Name::Other, "b")];
        let variants = Pairs {
            pairs: &variants,
            split: false,
        };
        assert_eq!(
            with_times(&variants).unwrap(),
            std::format!(r#"{{"Other":"b",{TAIL}}}"#)
        );
    }

    #[test]
    fn non_objects_are_refused() {
        assert_eq!(with_times(&1u8), Err(json::Error::Unsupported));
        assert_eq!(with_times(&[1u8, 2]), Err(json::Error::Unsupported));
        assert_eq!(with_times("iat"), Err(json::Error::Unsupported));
        assert_eq!(with_times(&()), Err(json::Error::Unsupported));
        let none: Option<Nested> = None;
        assert_eq!(with_times(&none), Err(json::Error::Unsupported));
        let some = Some(Nested { iat: 1 });
        assert_eq!(with_times(&some).unwrap(), std::format!("{{{TAIL}}}"));
    }

    #[test]
    fn raw_json_is_filtered_by_unescaped_name() {
        assert_eq!(filtered("{}").unwrap(), std::format!("{{{TAIL}}}"));
        assert_eq!(
            filtered(r#" { "a" : [1, {"iat":2}] , "\u0069at":5, "exp":"x","b":null, "jti":{} } "#)
                .unwrap(),
            std::format!(r#"{{"a" : [1, {{"iat":2}}],"b":null,{TAIL}}}"#)
        );
        assert_eq!(
            filtered(r#"{"iat":1}"#).unwrap(),
            std::format!("{{{TAIL}}}")
        );
        for bad in ["[]", "1", "", "{", r#"{"a":1,}"#, r#"{"a":1} x"#] {
            assert!(
                matches!(filtered(bad), Err(EncodeError::Claims(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn sink_writes_and_counts() {
        let mut buf = [0u8; 4];
        let mut sink = Sink::new(&mut buf);
        sink.put_u64(0);
        sink.put_u64(123);
        assert!(sink.fits());
        sink.put_u64(u64::MAX);
        assert!(!sink.fits());
        assert_eq!(sink.len(), 4 + 20);
        assert_eq!(&buf, b"0123");
        let mut c = Sink::counter();
        c.put(b"abc");
        assert_eq!(c.len(), 3);
        assert!(c.fits());
    }
}
