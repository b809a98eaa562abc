//! Session cookie chunks: reading them back (`SessionStore.value`) and planning the
//! `Set-Cookie` headers of a write or a clear (`SessionStore.chunk` / `clean`).

use core::fmt;

use heapless::Vec;

use super::parse::{self, write_unescaped};
use super::set_cookie::{check, write_checked, Sink};
use super::{ascii_str, CookieError, CookieOptions};

/// Auth.js v5 chunk size: characters of value per cookie (4096 - 160).
pub const CHUNK_SIZE_V5: usize = 3936;
/// next-auth v4 chunk size: characters of value per cookie (4096 - 163).
pub const CHUNK_SIZE_V4: usize = 3933;
/// Default capacity for session cookie chunks read or written (`N` of [`reassemble_with`]
/// and [`SessionCookieWriter`]). Eight chunks are about 31 KiB of cookies, well above what
/// browsers and servers accept in one `Cookie` header.
pub const MAX_CHUNKS: usize = 8;

/// Smallest chunk size accepted: one UTF-8 character must fit.
const MIN_CHUNK_SIZE: usize = 4;
/// Chunk indexes are `u16`, so at most this many chunks can be named.
const MAX_INDEXABLE: usize = 1 << 16;

/// Which cookie of a session, relative to its base name.
///
/// Ordered as authcore concatenates: [`ChunkName::Base`] first, then indexes numerically.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ChunkName {
    /// The base name itself (an unchunked session cookie).
    Base,
    /// `<base>.<index>`.
    Index(u16),
}

impl ChunkName {
    /// Recognizes a chunk of `base`: exactly `base`, or `base` + `.` + a canonical decimal
    /// index (`0`, or digits without a leading zero) of at most 65535.
    ///
    /// This is a deliberate fix of Auth.js's prefix match; see the [module
    /// docs](super#deliberate-differences-from-authjs).
    #[must_use]
    pub fn parse(name: &[u8], base: &str) -> Option<Self> {
        let rest = name.strip_prefix(base.as_bytes())?;
        let Some(digits) = rest.strip_prefix(b".") else {
            return rest.is_empty().then_some(Self::Base);
        };
        let canonical = match digits {
            [] => false,
            [b'0'] => true,
            [first, ..] => *first != b'0' && digits.len() <= 5,
        };
        if !canonical {
            return None;
        }
        let index = digits.iter().try_fold(0_u32, |acc, &b| {
            b.is_ascii_digit().then(|| acc * 10 + u32::from(b - b'0'))
        })?;
        u16::try_from(index).ok().map(Self::Index)
    }

    /// The chunk index, `None` for [`ChunkName::Base`].
    #[must_use]
    pub const fn index(self) -> Option<u16> {
        match self {
            Self::Base => None,
            Self::Index(i) => Some(i),
        }
    }

    /// Length of the full cookie name for `base`.
    #[must_use]
    pub fn name_len(self, base: &str) -> usize {
        let mut sink = Sink::counting();
        self.push_name(&mut sink, base);
        sink.len
    }

    /// Writes the full cookie name (`base` or `base.<index>`) into `out`.
    ///
    /// # Errors
    ///
    /// [`CookieError::BufferTooSmall`] if it does not fit.
    pub fn write_name<'o>(self, base: &str, out: &'o mut [u8]) -> Result<&'o str, CookieError> {
        let mut sink = Sink::new(out);
        self.push_name(&mut sink, base);
        sink.finish()
    }

    fn push_name(self, sink: &mut Sink<'_>, base: &str) {
        sink.push(base.as_bytes());
        if let Self::Index(i) = self {
            sink.push(b".");
            sink.push_u64(u64::from(i));
        }
    }
}

/// The session cookie read back from its chunks.
///
/// `Debug` shows the chunk names and only the length of the value.
#[derive(Clone, PartialEq, Eq)]
pub struct Reassembled<'o, const N: usize = MAX_CHUNKS> {
    value: &'o [u8],
    present: Vec<ChunkName, N>,
}

impl<'o, const N: usize> Reassembled<'o, N> {
    /// The concatenated, percent-decoded value; empty when no chunk was present.
    #[must_use]
    pub const fn value(&self) -> &'o [u8] {
        self.value
    }

    /// Whether no (non-empty) chunk was present.
    #[must_use]
    pub const fn is_empty(&self) -> bool {
        self.value.is_empty()
    }

    /// The chunks that were present, in request order; pass them to
    /// [`SessionCookieWriter`] so stale ones get deleted.
    #[must_use]
    pub fn present(&self) -> &[ChunkName] {
        &self.present
    }
}

impl<const N: usize> fmt::Debug for Reassembled<'_, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reassembled")
            .field("value_len", &self.value.len())
            .field("present", &self.present.as_slice())
            .finish()
    }
}

/// [`reassemble_with`] with the default capacity [`MAX_CHUNKS`].
///
/// # Errors
///
/// As [`reassemble_with`].
pub fn reassemble<'o>(
    header: &[u8],
    base: &str,
    out: &'o mut [u8],
) -> Result<Reassembled<'o>, CookieError> {
    reassemble_with::<MAX_CHUNKS>(header, base, out)
}

/// Reads the session cookie `base` (for example `authjs.session-token` or
/// `__Secure-authjs.session-token`) from a `Cookie` header, as Auth.js's
/// `SessionStore.value`:
///
/// 1. the header is parsed as by the `cookie` package ([`super::parse`]), so only the first
///    cookie of each name counts;
/// 2. the cookies named exactly `base` or `base.<n>` ([`ChunkName::parse`]) with a
///    non-empty value are the chunks (Auth.js matches any name *starting with* `base`);
/// 3. they are sorted with the base name first, then by index (`.1, .10, .0, .2` gives
///    `0, 1, 2, 10`);
/// 4. their percent-decoded values ([`super::decode_value`]) are concatenated into `out`.
///
/// Finding the first occurrence of a name rescans the header before it, so the work is
/// O(header length x number of chunk-named cookies); bound the header size (servers
/// usually cap it at 8 to 16 KiB).
///
/// Gaps are not an error (`.0, .2` concatenates both), nor is a leftover base cookie next to
/// indexed ones: as in Auth.js, the result then fails to decrypt. No chunk at all gives an
/// empty value.
///
/// # Errors
///
/// - [`CookieError::TooManyChunks`]: more than `N` distinct chunks.
/// - [`CookieError::BufferTooSmall`]: the value does not fit `out` (the header length
///   always suffices).
pub fn reassemble_with<'o, const N: usize>(
    header: &[u8],
    base: &str,
    out: &'o mut [u8],
) -> Result<Reassembled<'o, N>, CookieError> {
    // Each chunk with its decoded length, when it has escapes to decode.
    let mut found: Vec<(ChunkName, &[u8], Option<usize>), N> = Vec::new();
    let mut present: Vec<ChunkName, N> = Vec::new();
    for (position, cookie) in parse::parse(header).enumerate() {
        let Some(chunk) = ChunkName::parse(cookie.name(), base) else {
            continue;
        };
        if parse::parse(header)
            .take(position)
            .any(|earlier| earlier.name() == cookie.name())
        {
            continue; // a later duplicate: the first one (even if empty) wins
        }
        let raw = cookie.raw_value();
        if raw.is_empty() {
            continue; // v5 skips empty chunks
        }
        let too_many = CookieError::TooManyChunks { max: N };
        found
            .push((chunk, raw, cookie.decoding()))
            .map_err(|_| too_many)?;
        present.push(chunk).map_err(|_| too_many)?;
    }
    found.sort_unstable_by_key(|(chunk, _, _)| *chunk);

    let needed = found
        .iter()
        .map(|(_, raw, decoded)| decoded.unwrap_or(raw.len()))
        .fold(0_usize, usize::saturating_add);
    if out.len() < needed {
        return Err(CookieError::BufferTooSmall { needed });
    }
    let mut at = 0_usize;
    for (_, raw, decoded) in &found {
        let len = decoded.unwrap_or(raw.len());
        let end = at.saturating_add(len);
        if let Some(dst) = out.get_mut(at..end) {
            match decoded {
                Some(_) => write_unescaped(raw, dst),
                None => dst.copy_from_slice(raw),
            }
        }
        at = end;
    }
    let out: &'o [u8] = out;
    Ok(Reassembled {
        value: out.get(..needed).unwrap_or_default(),
        present,
    })
}

/// Number of chunks Auth.js writes for `value`: `ceil(len / chunk_size)` for ASCII values
/// (0 for an empty value, which Auth.js writes as no cookie at all).
///
/// Sizes count bytes and a chunk never ends inside a UTF-8 character (see the [module
/// docs](super#deliberate-differences-from-authjs)).
///
/// # Errors
///
/// [`CookieError::InvalidChunkSize`] when `chunk_size < 4`.
pub fn chunk_count(value: &str, chunk_size: usize) -> Result<usize, CookieError> {
    if chunk_size < MIN_CHUNK_SIZE {
        return Err(CookieError::InvalidChunkSize);
    }
    let mut count = 0_usize;
    let mut start = 0;
    while start < value.len() {
        start = chunk_end(value, start, chunk_size);
        count += 1;
    }
    Ok(count)
}

/// End of the chunk starting at `start`: at most `size` bytes, on a character boundary,
/// and always past `start` while `start < value.len()`.
fn chunk_end(value: &str, start: usize, size: usize) -> usize {
    let len = value.len();
    let mut end = start.saturating_add(size).min(len);
    while end > start && !value.is_char_boundary(end) {
        end -= 1;
    }
    if end == start && start < len {
        // Only reachable with a size below the widest character; move forward instead.
        end = (start + 1..=len)
            .find(|&i| value.is_char_boundary(i))
            .unwrap_or(len);
    }
    end
}

/// What to do with one session cookie.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum CookieAction<'a> {
    /// Set the cookie to this (unencoded) chunk of the value.
    Set(&'a str),
    /// Delete it: empty value, `Max-Age=0`.
    Delete,
}

impl fmt::Debug for CookieAction<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Set(v) => f.debug_struct("Set").field("len", &v.len()).finish(),
            Self::Delete => f.write_str("Delete"),
        }
    }
}

/// One `Set-Cookie` of a [`SessionCookiePlan`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlannedCookie<'a> {
    /// Which cookie.
    pub chunk: ChunkName,
    /// Set or delete.
    pub action: CookieAction<'a>,
}

/// The ordered `Set-Cookie` list of a session write or clear, as an iterator.
///
/// Auth.js builds an object keyed by cookie name: first a deletion for every chunk present
/// in the request (request order), then, for each new chunk in order, `obj[name] = chunk`,
/// which replaces an existing deletion in place or appends; and emits the values in object
/// order. So with a request holding `.0 .1 .2`:
///
/// - a value that fits one cookie gives `[delete .0, delete .1, delete .2, set base]`;
/// - a value that needs two gives `[set .0, set .1, delete .2]`;
///
/// and with only the base cookie present, a value needing two gives
/// `[delete base, set .0, set .1]`.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionCookiePlan<'a, const N: usize = MAX_CHUNKS> {
    value: &'a str,
    chunk_size: usize,
    /// Number of new chunks: 0 (clear or empty value), 1 (base name) or more (indexed).
    count: usize,
    present: Vec<ChunkName, N>,
    cursor: usize,
}

impl<const N: usize> fmt::Debug for SessionCookiePlan<'_, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionCookiePlan")
            .field("value_len", &self.value.len())
            .field("chunk_size", &self.chunk_size)
            .field("count", &self.count)
            .field("present", &self.present.as_slice())
            .field("cursor", &self.cursor)
            .finish()
    }
}

impl<'a, const N: usize> SessionCookiePlan<'a, N> {
    /// Plans writing `value` in chunks of `chunk_size` ([`CHUNK_SIZE_V5`] or
    /// [`CHUNK_SIZE_V4`]) over a request that held the chunks `present` (duplicates in
    /// `present` are ignored).
    ///
    /// An empty value plans no new cookie (Auth.js's `Math.ceil(0 / size)` is 0), only the
    /// deletions.
    ///
    /// # Errors
    ///
    /// - [`CookieError::InvalidChunkSize`]: `chunk_size < 4`.
    /// - [`CookieError::TooManyChunks`]: more than `N` distinct chunks in `present`, or
    ///   `value` needs more than `N` chunks (it could not be read back).
    pub fn new(
        value: &'a str,
        chunk_size: usize,
        present: &[ChunkName],
    ) -> Result<Self, CookieError> {
        let count = chunk_count(value, chunk_size)?;
        if count > N || count > MAX_INDEXABLE {
            return Err(CookieError::TooManyChunks { max: N });
        }
        let mut unique: Vec<ChunkName, N> = Vec::new();
        for chunk in present {
            if !unique.contains(chunk) {
                unique
                    .push(*chunk)
                    .map_err(|_| CookieError::TooManyChunks { max: N })?;
            }
        }
        Ok(Self {
            value,
            chunk_size,
            count,
            present: unique,
            cursor: 0,
        })
    }

    /// Plans deleting every chunk in `present` (Auth.js's `SessionStore.clean()`).
    ///
    /// # Errors
    ///
    /// [`CookieError::TooManyChunks`]: more than `N` distinct chunks in `present`.
    pub fn clear(present: &[ChunkName]) -> Result<Self, CookieError> {
        Self::new("", CHUNK_SIZE_V5, present)
    }

    /// Number of new chunks written (0 for a clear).
    #[must_use]
    pub const fn chunk_count(&self) -> usize {
        self.count
    }

    /// The position of `chunk` among the new chunks, if it is one.
    fn new_position(&self, chunk: ChunkName) -> Option<usize> {
        match chunk {
            ChunkName::Base => (self.count == 1).then_some(0),
            ChunkName::Index(i) => {
                let i = usize::from(i);
                (self.count > 1 && i < self.count).then_some(i)
            }
        }
    }

    /// The name of new chunk `k`.
    fn new_name(&self, k: usize) -> ChunkName {
        if self.count == 1 {
            ChunkName::Base
        } else {
            // k < count <= MAX_INDEXABLE, checked in `new`.
            ChunkName::Index(u16::try_from(k).unwrap_or(u16::MAX))
        }
    }

    /// The text of new chunk `k`.
    fn chunk_text(&self, k: usize) -> &'a str {
        let mut start = 0;
        for _ in 0..k {
            start = chunk_end(self.value, start, self.chunk_size);
        }
        let end = chunk_end(self.value, start, self.chunk_size);
        self.value.get(start..end).unwrap_or_default()
    }
}

impl<'a, const N: usize> Iterator for SessionCookiePlan<'a, N> {
    type Item = PlannedCookie<'a>;

    fn next(&mut self) -> Option<PlannedCookie<'a>> {
        loop {
            if let Some(&chunk) = self.present.get(self.cursor) {
                self.cursor += 1;
                let action = match self.new_position(chunk) {
                    Some(k) => CookieAction::Set(self.chunk_text(k)),
                    None => CookieAction::Delete,
                };
                return Some(PlannedCookie { chunk, action });
            }
            let k = self.cursor - self.present.len();
            if k >= self.count {
                return None;
            }
            self.cursor += 1;
            let chunk = self.new_name(k);
            if self.present.contains(&chunk) {
                continue; // already emitted in place of its deletion
            }
            let action = CookieAction::Set(self.chunk_text(k));
            return Some(PlannedCookie { chunk, action });
        }
    }
}

/// Writes the `Set-Cookie` headers of a session cookie write or clear, one at a time, in
/// Auth.js's order (see [`SessionCookiePlan`]).
///
/// Set cookies use `options` with `Expires` replaced by `expires` when given (Auth.js's
/// `{...option.options, expires}`); deletions use `options` with an empty value and
/// `Max-Age=0` (Auth.js's `{...option.options, maxAge: 0}`). With the default options
/// ([`CookieOptions::new`]) that gives:
///
/// ```text
/// authjs.session-token=<value>; Path=/; Expires=Sun, 06 Nov 1994 08:49:37 GMT; HttpOnly; SameSite=Lax
/// authjs.session-token.2=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax
/// ```
///
/// plus `; Secure` before `; SameSite` in secure mode.
///
/// Call [`Self::write_next`] until it returns `Ok(None)`. A failed call consumes nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionCookieWriter<'a, const N: usize = MAX_CHUNKS> {
    base: &'a str,
    plan: SessionCookiePlan<'a, N>,
    set_options: CookieOptions<'a>,
    delete_options: CookieOptions<'a>,
}

impl<'a, const N: usize> SessionCookieWriter<'a, N> {
    /// Plans writing `value` as session cookie `base` over a request that held the chunks
    /// `present` (from [`Reassembled::present`]). `options` are the cookie's configured
    /// options (typically [`CookieOptions::new`]); `expires` (Unix seconds) goes on the
    /// set cookies only.
    ///
    /// Everything is validated here, so [`Self::write_next`] can only fail for a small
    /// buffer.
    ///
    /// # Errors
    ///
    /// - [`CookieError::InvalidChunkSize`], [`CookieError::TooManyChunks`]: as
    ///   [`SessionCookiePlan::new`].
    /// - [`CookieError::InvalidName`], [`CookieError::InvalidDomain`],
    ///   [`CookieError::InvalidPath`], [`CookieError::InvalidExpires`]: as
    ///   [`super::write_set_cookie`].
    pub fn new(
        base: &'a str,
        value: &'a str,
        chunk_size: usize,
        present: &[ChunkName],
        options: &CookieOptions<'a>,
        expires: Option<i64>,
    ) -> Result<Self, CookieError> {
        let set_options = match expires {
            Some(t) => options.with_expires(Some(t)),
            None => *options,
        };
        let writer = Self {
            base,
            plan: SessionCookiePlan::new(value, chunk_size, present)?,
            set_options,
            delete_options: options.with_max_age(Some(0)),
        };
        // Validate the name and every attribute once (what serializing would report).
        check(base, &writer.set_options)?;
        check(base, &writer.delete_options)?;
        Ok(writer)
    }

    /// Plans deleting every chunk in `present` (Auth.js's `clean()`), with the cookie's
    /// configured `options`.
    ///
    /// # Errors
    ///
    /// As [`Self::new`].
    pub fn clear(
        base: &'a str,
        present: &[ChunkName],
        options: &CookieOptions<'a>,
    ) -> Result<Self, CookieError> {
        Self::new(base, "", CHUNK_SIZE_V5, present, options, None)
    }

    /// The remaining cookies, without consuming them.
    #[must_use]
    pub fn plan(&self) -> SessionCookiePlan<'a, N> {
        self.plan.clone()
    }

    /// Number of `Set-Cookie` headers left to write.
    #[must_use]
    pub fn remaining(&self) -> usize {
        self.plan.clone().count()
    }

    /// Length of the next header, `None` when done.
    ///
    /// # Errors
    ///
    /// None in practice (everything was validated by [`Self::new`]); the `Result` keeps the
    /// serializer's contract.
    pub fn next_len(&self) -> Result<Option<usize>, CookieError> {
        match self.plan.clone().next() {
            Some(planned) => self.len_of(&planned).map(Some),
            None => Ok(None),
        }
    }

    /// Length of the longest remaining header: one buffer of this size writes them all.
    ///
    /// # Errors
    ///
    /// As [`Self::next_len`].
    pub fn max_len(&self) -> Result<usize, CookieError> {
        self.plan
            .clone()
            .try_fold(0, |max, planned| Ok(max.max(self.len_of(&planned)?)))
    }

    /// Writes the next `Set-Cookie` header value into `out` and advances; `Ok(None)` when all
    /// were written.
    ///
    /// # Errors
    ///
    /// [`CookieError::BufferTooSmall`] with the exact size needed; the writer does not
    /// advance, so the call can be repeated with a larger buffer.
    pub fn write_next<'o>(&mut self, out: &'o mut [u8]) -> Result<Option<&'o str>, CookieError> {
        let len = self.write_next_len(out)?;
        let out: &'o [u8] = out;
        Ok(len.map(|len| ascii_str(out.get(..len).unwrap_or_default())))
    }

    /// [`Self::write_next`] returning the length of the header written at the start of `out`
    /// instead of viewing it as text (it is ASCII), for callers that write several headers
    /// back to back and view them all at once.
    ///
    /// # Errors
    ///
    /// As [`Self::write_next`].
    pub(crate) fn write_next_len(&mut self, out: &mut [u8]) -> Result<Option<usize>, CookieError> {
        let mut ahead = self.plan.clone();
        let Some(planned) = ahead.next() else {
            return Ok(None);
        };
        let mut sink = Sink::new(out);
        self.serialize(&mut sink, &planned);
        let len = sink.finish_len()?;
        self.plan = ahead;
        Ok(Some(len))
    }

    fn len_of(&self, planned: &PlannedCookie<'_>) -> Result<usize, CookieError> {
        let mut sink = Sink::counting();
        self.serialize(&mut sink, planned);
        Ok(sink.len)
    }

    fn serialize(&self, sink: &mut Sink<'_>, planned: &PlannedCookie<'_>) {
        let suffix = planned.chunk.index();
        // `new` checked the name and both option sets.
        match planned.action {
            CookieAction::Set(text) => {
                write_checked(sink, self.base, suffix, text, &self.set_options);
            }
            CookieAction::Delete => {
                write_checked(sink, self.base, suffix, "", &self.delete_options);
            }
        }
    }
}
