//! Wall-clock time: Unix-time newtypes, civil-date conversion and the two date
//! formats Auth.js emits.
//!
//! - [`format_iso8601_millis`] prints what JavaScript's `Date.prototype.toISOString()`
//!   prints (`2025-01-31T12:00:00.123Z`); Auth.js uses it for the session `expires` field.
//! - [`format_http_date`] prints an IMF-fixdate (RFC 7231 §7.1.1.1,
//!   `Sun, 06 Nov 1994 08:49:37 GMT`), which is what `Date.prototype.toUTCString()` prints
//!   and what Auth.js puts in a cookie's `Expires` attribute.
//! - [`parse_http_date`] reads an IMF-fixdate strictly (for `Retry-After` and `Expires`).
//!
//! JWT `iat`/`exp`/`nbf` are plain `i64` Unix seconds in this crate; [`UnixTime`] and
//! [`UnixMillis`] are thin wrappers over such numbers with checked and saturating arithmetic,
//! convertible to and from `i64` for free.
//!
//! # Guarantees
//!
//! Nothing in this module reads a clock, allocates, uses floating point or can panic: every
//! function accepts any `i64` or any byte slice and reports what it cannot handle as a
//! [`TimeError`]. Dates use the proleptic Gregorian calendar, UTC, no leap seconds (as
//! JavaScript and Unix time do), and are correct before 1970 as well as after.
//!
//! # Range
//!
//! Both formatters accept the years `0000..=9999` only. JavaScript prints years outside that
//! range as `±YYYYYY` (ISO) or as a signed, longer year (UTC string); authcore returns
//! [`TimeError::OutOfRange`] instead, so the outputs always have their fixed lengths
//! [`ISO8601_MILLIS_LEN`] and [`HTTP_DATE_LEN`].

use core::fmt;

/// Length of the text written by [`format_iso8601_millis`]: `YYYY-MM-DDTHH:MM:SS.mmmZ`.
pub const ISO8601_MILLIS_LEN: usize = 24;
/// Longest ISO 8601 text this module writes (all of them have this length).
pub const MAX_ISO8601_LEN: usize = ISO8601_MILLIS_LEN;
/// Length of an IMF-fixdate: `Www, DD Mon YYYY HH:MM:SS GMT`.
pub const HTTP_DATE_LEN: usize = 29;

/// Seconds in a day.
pub const SECS_PER_DAY: i64 = 86_400;

/// First instant [`format_http_date`] accepts, in Unix seconds: `0000-01-01T00:00:00Z`.
pub const MIN_FORMAT_SECS: i64 = -62_167_219_200;
/// Last instant [`format_http_date`] accepts, in Unix seconds: `9999-12-31T23:59:59Z`.
pub const MAX_FORMAT_SECS: i64 = 253_402_300_799;
/// First instant [`format_iso8601_millis`] accepts, in Unix milliseconds:
/// `0000-01-01T00:00:00.000Z`.
pub const MIN_FORMAT_MILLIS: i64 = MIN_FORMAT_SECS * 1000;
/// Last instant [`format_iso8601_millis`] accepts, in Unix milliseconds:
/// `9999-12-31T23:59:59.999Z`.
pub const MAX_FORMAT_MILLIS: i64 = MAX_FORMAT_SECS * 1000 + 999;

/// Largest absolute day number (days since 1970-01-01) [`CivilDate::from_days`] accepts.
///
/// About ±1.9 billion years; it keeps every intermediate value well inside `i64` and every
/// resulting year inside `i32`.
pub const MAX_ABS_DAYS: i64 = 700_000_000_000;

const DAY_NAMES: [&[u8; 3]; 7] = [b"Sun", b"Mon", b"Tue", b"Wed", b"Thu", b"Fri", b"Sat"];
const MONTH_NAMES: [&[u8; 3]; 12] = [
    b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec",
];

/// Why a date could not be formatted, parsed or computed.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeError {
    /// The instant lies outside the years `0000..=9999` that the fixed-width formats cover.
    OutOfRange,
    /// The text does not have the exact IMF-fixdate shape (length, separators, digits, names).
    Malformed,
    /// The month or day of month does not exist (for example `30 Feb`).
    InvalidDate,
    /// Hour, minute or second is out of range (`24:00:00` and leap second `60` are rejected).
    InvalidTime,
    /// The day name does not match the date (`Mon, 06 Nov 1994` was a Sunday).
    WeekdayMismatch,
    /// Checked arithmetic on Unix times overflowed `i64`.
    Overflow,
}

impl TimeError {
    /// A stable snake_case name for this error, for logs, the CLI and tests.
    #[must_use]
    pub const fn kind(&self) -> &'static str {
        match self {
            Self::OutOfRange => "out_of_range",
            Self::Malformed => "malformed",
            Self::InvalidDate => "invalid_date",
            Self::InvalidTime => "invalid_time",
            Self::WeekdayMismatch => "weekday_mismatch",
            Self::Overflow => "overflow",
        }
    }
}

impl fmt::Display for TimeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::OutOfRange => "time outside the years 0000..=9999",
            Self::Malformed => "date is not an IMF-fixdate",
            Self::InvalidDate => "date does not exist",
            Self::InvalidTime => "time of day out of range",
            Self::WeekdayMismatch => "day name does not match the date",
            Self::Overflow => "time arithmetic overflowed",
        })
    }
}

impl core::error::Error for TimeError {}

/// A wall-clock instant in whole seconds since 1970-01-01T00:00:00Z (JWT `NumericDate`).
///
/// Free conversions to and from `i64` keep it interchangeable with the plain `i64` seconds
/// used by the claims code. Arithmetic is checked or saturating, never wrapping or panicking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct UnixTime(i64);

impl UnixTime {
    /// 1970-01-01T00:00:00Z.
    pub const EPOCH: Self = Self(0);

    /// Wraps a number of seconds since the epoch (negative before 1970).
    #[must_use]
    pub const fn from_secs(secs: i64) -> Self {
        Self(secs)
    }

    /// The number of seconds since the epoch.
    #[must_use]
    pub const fn as_secs(self) -> i64 {
        self.0
    }

    /// `self + secs`, or `None` on overflow.
    #[must_use]
    pub const fn checked_add_secs(self, secs: i64) -> Option<Self> {
        match self.0.checked_add(secs) {
            Some(v) => Some(Self(v)),
            None => None,
        }
    }

    /// `self - secs`, or `None` on overflow.
    #[must_use]
    pub const fn checked_sub_secs(self, secs: i64) -> Option<Self> {
        match self.0.checked_sub(secs) {
            Some(v) => Some(Self(v)),
            None => None,
        }
    }

    /// `self + secs`, clamped to the `i64` range.
    #[must_use]
    pub const fn saturating_add_secs(self, secs: i64) -> Self {
        Self(self.0.saturating_add(secs))
    }

    /// `self - secs`, clamped to the `i64` range.
    #[must_use]
    pub const fn saturating_sub_secs(self, secs: i64) -> Self {
        Self(self.0.saturating_sub(secs))
    }

    /// Signed seconds from `earlier` to `self` (negative if `earlier` is later), or `None` on
    /// overflow.
    #[must_use]
    pub const fn checked_secs_since(self, earlier: Self) -> Option<i64> {
        self.0.checked_sub(earlier.0)
    }

    /// The same instant in milliseconds, or `None` if that overflows `i64`.
    #[must_use]
    pub const fn to_millis(self) -> Option<UnixMillis> {
        match self.0.checked_mul(1000) {
            Some(v) => Some(UnixMillis(v)),
            None => None,
        }
    }

    /// Writes this instant as an IMF-fixdate; see [`format_http_date`].
    ///
    /// # Errors
    ///
    /// [`TimeError::OutOfRange`] outside the years `0000..=9999`.
    pub fn format_http_date(self, out: &mut [u8; HTTP_DATE_LEN]) -> Result<&str, TimeError> {
        format_http_date(self.0, out)
    }
}

impl From<i64> for UnixTime {
    fn from(secs: i64) -> Self {
        Self(secs)
    }
}

impl From<UnixTime> for i64 {
    fn from(t: UnixTime) -> Self {
        t.0
    }
}

/// A wall-clock instant in milliseconds since 1970-01-01T00:00:00.000Z (JavaScript `Date`
/// value).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct UnixMillis(i64);

impl UnixMillis {
    /// 1970-01-01T00:00:00.000Z.
    pub const EPOCH: Self = Self(0);

    /// Wraps a number of milliseconds since the epoch (negative before 1970).
    #[must_use]
    pub const fn from_millis(millis: i64) -> Self {
        Self(millis)
    }

    /// The number of milliseconds since the epoch.
    #[must_use]
    pub const fn as_millis(self) -> i64 {
        self.0
    }

    /// `self + millis`, or `None` on overflow.
    #[must_use]
    pub const fn checked_add_millis(self, millis: i64) -> Option<Self> {
        match self.0.checked_add(millis) {
            Some(v) => Some(Self(v)),
            None => None,
        }
    }

    /// `self + millis`, clamped to the `i64` range.
    #[must_use]
    pub const fn saturating_add_millis(self, millis: i64) -> Self {
        Self(self.0.saturating_add(millis))
    }

    /// The whole second containing this instant (rounds toward negative infinity, so
    /// -1 ms is second -1, as JavaScript's `Math.floor(ms / 1000)`).
    #[must_use]
    pub const fn to_secs_floor(self) -> UnixTime {
        UnixTime(self.0.div_euclid(1000))
    }

    /// Milliseconds past [`Self::to_secs_floor`], in `0..=999`.
    #[must_use]
    pub const fn subsec_millis(self) -> u16 {
        // rem_euclid(1000) is in 0..=999, which fits u16.
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "0..=999"
        )]
        let ms = self.0.rem_euclid(1000) as u16;
        ms
    }

    /// Writes this instant as JavaScript's `toISOString()` does; see
    /// [`format_iso8601_millis`].
    ///
    /// # Errors
    ///
    /// [`TimeError::OutOfRange`] outside the years `0000..=9999`.
    pub fn format_iso8601(self, out: &mut [u8; ISO8601_MILLIS_LEN]) -> Result<&str, TimeError> {
        format_iso8601_millis(self.0, out)
    }
}

impl From<i64> for UnixMillis {
    fn from(millis: i64) -> Self {
        Self(millis)
    }
}

impl From<UnixMillis> for i64 {
    fn from(t: UnixMillis) -> Self {
        t.0
    }
}

/// A proleptic Gregorian calendar date (no time zone).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CivilDate {
    year: i32,
    month: u8,
    day: u8,
}

impl CivilDate {
    /// Checks and builds a date. Year 0 is 1 BC, as in ISO 8601 and JavaScript.
    ///
    /// # Errors
    ///
    /// [`TimeError::InvalidDate`] if `month` is not `1..=12` or `day` is not a day of that
    /// month (leap years follow the Gregorian rule).
    pub const fn new(year: i32, month: u8, day: u8) -> Result<Self, TimeError> {
        if month < 1 || month > 12 || day < 1 || day > days_in_month(year, month) {
            return Err(TimeError::InvalidDate);
        }
        Ok(Self { year, month, day })
    }

    /// The date `days` days after 1970-01-01 (before it when negative), or `None` when
    /// `|days| > MAX_ABS_DAYS`.
    #[must_use]
    pub const fn from_days(days: i64) -> Option<Self> {
        if days < -MAX_ABS_DAYS || days > MAX_ABS_DAYS {
            return None;
        }
        // Shift the epoch to 0000-03-01 so that the leap day ends each 4/100/400-year cycle.
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097); // day of era, 0..=146_096
        let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365; // 0..=399
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // day of March-based year, 0..=365
        let mp = (5 * doy + 2) / 153; // March-based month, 0..=11
        let day = doy - (153 * mp + 2) / 5 + 1; // 1..=31
        let month = if mp < 10 { mp + 3 } else { mp - 9 }; // 1..=12
        let year = yoe + era * 400 + if month <= 2 { 1 } else { 0 };
        // |year| <= MAX_ABS_DAYS / 365 + 1 < i32::MAX, month <= 12, day <= 31.
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "bounded"
        )]
        let date = Self {
            year: year as i32,
            month: month as u8,
            day: day as u8,
        };
        Some(date)
    }

    /// Days from 1970-01-01 to this date (negative before it).
    #[must_use]
    pub const fn to_days(self) -> i64 {
        let month = self.month as i64;
        let day = self.day as i64;
        let year = self.year as i64 - if month <= 2 { 1 } else { 0 };
        let era = year.div_euclid(400);
        let yoe = year.rem_euclid(400); // 0..=399
        let mp = if month > 2 { month - 3 } else { month + 9 }; // March-based month
        let doy = (153 * mp + 2) / 5 + day - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    /// The year (0 = 1 BC, negative further back).
    #[must_use]
    pub const fn year(self) -> i32 {
        self.year
    }

    /// The month, `1..=12`.
    #[must_use]
    pub const fn month(self) -> u8 {
        self.month
    }

    /// The day of the month, `1..=31`.
    #[must_use]
    pub const fn day(self) -> u8 {
        self.day
    }

    /// Day of the week, 0 = Sunday .. 6 = Saturday.
    #[must_use]
    pub const fn weekday(self) -> u8 {
        weekday_from_days(self.to_days())
    }
}

/// Whether `year` is a Gregorian leap year.
#[must_use]
pub const fn is_leap_year(year: i32) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

/// Number of days in `month` (`1..=12`) of `year`; 0 for a month outside `1..=12`.
#[must_use]
pub const fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap_year(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// Day of the week of the day `days` after 1970-01-01 (a Thursday): 0 = Sunday .. 6 = Saturday.
#[must_use]
pub const fn weekday_from_days(days: i64) -> u8 {
    // rem_euclid first so that adding 4 cannot overflow.
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "0..=6"
    )]
    let wd = ((days.rem_euclid(7) + 4) % 7) as u8;
    wd
}

/// Formats `unix_millis` exactly as JavaScript's `new Date(unix_millis).toISOString()`:
/// `YYYY-MM-DDTHH:MM:SS.mmmZ`, UTC, always 24 bytes, e.g. `2025-01-31T12:00:00.123Z`.
///
/// Instants before 1970 work (`-1` is `1969-12-31T23:59:59.999Z`).
///
/// # Errors
///
/// [`TimeError::OutOfRange`] outside `0000-01-01T00:00:00.000Z..=9999-12-31T23:59:59.999Z`
/// ([`MIN_FORMAT_MILLIS`]..=[`MAX_FORMAT_MILLIS`]). This is a deliberate difference:
/// JavaScript would print an expanded year such as `+010000-01-01T00:00:00.000Z` or
/// `-000001-12-31T00:00:00.000Z` there.
pub fn format_iso8601_millis(
    unix_millis: i64,
    out: &mut [u8; ISO8601_MILLIS_LEN],
) -> Result<&str, TimeError> {
    write_iso8601_millis(unix_millis, out)?;
    ascii(out)
}

/// [`format_iso8601_millis`] without the text view: the bytes are written into `out` (only on
/// success), for callers that copy them on or keep them.
pub(crate) fn write_iso8601_millis(
    unix_millis: i64,
    out: &mut [u8; ISO8601_MILLIS_LEN],
) -> Result<(), TimeError> {
    // Milliseconds since 0000-01-01T00:00:00.000Z, 0..=315_569_519_999_999 in range.
    let since = unix_millis
        .checked_sub(MIN_FORMAT_MILLIS)
        .filter(|_| unix_millis <= MAX_FORMAT_MILLIS)
        .and_then(|ms| u64::try_from(ms).ok())
        .ok_or(TimeError::OutOfRange)?;
    let parts = Parts::from_secs_since_year_0(since / 1000);
    let millis = since % 1000; // MIN_FORMAT_MILLIS is a whole second
    let [y0, y1, y2, y3] = parts.year;
    // millis < 1000: both parts fit u8.
    #[allow(clippy::cast_possible_truncation, reason = "0..=9 and 0..=99")]
    let (m0, [m1, m2]) = (
        b'0' + (millis / 100) as u8,
        two_digits((millis % 100) as u8),
    );
    let [mo0, mo1] = two_digits(parts.month);
    let [d0, d1] = two_digits(parts.day);
    let [h0, h1] = two_digits(parts.hour);
    let [mi0, mi1] = two_digits(parts.minute);
    let [s0, s1] = two_digits(parts.second);
    *out = [
        y0, y1, y2, y3, b'-', mo0, mo1, b'-', d0, d1, b'T', h0, h1, b':', mi0, mi1, b':', s0, s1,
        b'.', m0, m1, m2, b'Z',
    ];
    Ok(())
}

/// Formats `unix_secs` as an IMF-fixdate (RFC 7231 §7.1.1.1), exactly as JavaScript's
/// `new Date(unix_secs * 1000).toUTCString()`: `Sun, 06 Nov 1994 08:49:37 GMT`, always 29
/// bytes. Auth.js writes this in the `Expires` cookie attribute.
///
/// # Errors
///
/// [`TimeError::OutOfRange`] outside the years `0000..=9999`
/// ([`MIN_FORMAT_SECS`]..=[`MAX_FORMAT_SECS`]); JavaScript would print a longer or signed
/// year there, which is not an IMF-fixdate.
pub fn format_http_date(unix_secs: i64, out: &mut [u8; HTTP_DATE_LEN]) -> Result<&str, TimeError> {
    write_http_date(unix_secs, out)?;
    ascii(out)
}

/// [`format_http_date`] without the text view: the bytes are written into `out` (only on
/// success), for callers that copy them on.
pub(crate) fn write_http_date(
    unix_secs: i64,
    out: &mut [u8; HTTP_DATE_LEN],
) -> Result<(), TimeError> {
    // Seconds since 0000-01-01T00:00:00Z, 0..=315_569_519_999 in range.
    let since = unix_secs
        .checked_sub(MIN_FORMAT_SECS)
        .filter(|_| unix_secs <= MAX_FORMAT_SECS)
        .and_then(|s| u64::try_from(s).ok())
        .ok_or(TimeError::OutOfRange)?;
    let parts = Parts::from_secs_since_year_0(since);
    let [w0, w1, w2] = **DAY_NAMES
        .get(usize::from(parts.weekday))
        .ok_or(TimeError::OutOfRange)?;
    let [mn0, mn1, mn2] = **MONTH_NAMES
        .get(usize::from(parts.month).wrapping_sub(1))
        .ok_or(TimeError::OutOfRange)?;
    let [y0, y1, y2, y3] = parts.year;
    let [d0, d1] = two_digits(parts.day);
    let [h0, h1] = two_digits(parts.hour);
    let [mi0, mi1] = two_digits(parts.minute);
    let [s0, s1] = two_digits(parts.second);
    *out = [
        w0, w1, w2, b',', b' ', d0, d1, b' ', mn0, mn1, mn2, b' ', y0, y1, y2, y3, b' ', h0, h1,
        b':', mi0, mi1, b':', s0, s1, b' ', b'G', b'M', b'T',
    ];
    Ok(())
}

/// Parses an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`) into Unix seconds.
///
/// Strict: exactly 29 bytes, case-sensitive day and month names (RFC 7231 says so), two-digit
/// day, four-digit year, `GMT`, no surrounding whitespace. The obsolete RFC 850 and asctime
/// forms are rejected. Every value [`format_http_date`] produces parses back to the same
/// second.
///
/// # Errors
///
/// - [`TimeError::Malformed`]: wrong length, separator, digit or name.
/// - [`TimeError::InvalidDate`]: a day that does not exist in that month.
/// - [`TimeError::InvalidTime`]: hour > 23, minute > 59 or second > 59 (the leap second `60`
///   is rejected, since Unix time cannot represent it).
/// - [`TimeError::WeekdayMismatch`]: the day name is not the weekday of that date.
pub fn parse_http_date(input: &[u8]) -> Result<i64, TimeError> {
    let Ok(bytes) = <&[u8; HTTP_DATE_LEN]>::try_from(input) else {
        return Err(TimeError::Malformed);
    };
    let [w0, w1, w2, b',', b' ', d0, d1, b' ', mn0, mn1, mn2, b' ', y0, y1, y2, y3, b' ', h0, h1, b':', mi0, mi1, b':', s0, s1, b' ', b'G', b'M', b'T'] =
        *bytes
    else {
        return Err(TimeError::Malformed);
    };
    let weekday = DAY_NAMES
        .iter()
        .position(|n| **n == [w0, w1, w2])
        .ok_or(TimeError::Malformed)?;
    let month = MONTH_NAMES
        .iter()
        .position(|n| **n == [mn0, mn1, mn2])
        .ok_or(TimeError::Malformed)?;
    let day = parse_digits(&[d0, d1])?;
    let year = parse_digits(&[y0, y1, y2, y3])?;
    let hour = parse_digits(&[h0, h1])?;
    let minute = parse_digits(&[mi0, mi1])?;
    let second = parse_digits(&[s0, s1])?;

    // month index is 0..=11, day 0..=99, year 0..=9999: all fit their target types.
    #[allow(clippy::cast_possible_truncation, reason = "bounded above")]
    let date = CivilDate::new(year as i32, month as u8 + 1, day as u8)?;
    if hour > 23 || minute > 59 || second > 59 {
        return Err(TimeError::InvalidTime);
    }
    let days = date.to_days();
    if usize::from(weekday_from_days(days)) != weekday {
        return Err(TimeError::WeekdayMismatch);
    }
    // |days| <= 3e6 here, so none of this can overflow; stay checked anyway.
    days.checked_mul(SECS_PER_DAY)
        .and_then(|s| s.checked_add(i64::from(hour) * 3600 + i64::from(minute) * 60))
        .and_then(|s| s.checked_add(i64::from(second)))
        .ok_or(TimeError::Overflow)
}

/// Broken-down UTC time of one second of the years `0000..=9999`, as the formatters print it.
struct Parts {
    /// The year as four ASCII digits.
    year: [u8; 4],
    month: u8,
    day: u8,
    /// 0 = Sunday .. 6 = Saturday.
    weekday: u8,
    hour: u8,
    minute: u8,
    second: u8,
}

/// Days from 0000-03-01 back to -0400-03-01: one 400-year era, so that the day counts of
/// [`Parts::from_secs_since_year_0`] stay unsigned.
const ERA_DAYS: u64 = 146_097;
/// Days from 0000-01-01 to 0000-03-01 (year 0 is a leap year).
const JAN_TO_MAR: u64 = 60;

impl Parts {
    /// `since` seconds after 0000-01-01T00:00:00Z, which the callers keep within
    /// `0..=MAX_FORMAT_SECS - MIN_FORMAT_SECS` (dates outside print wrong years).
    ///
    /// [`CivilDate::from_days`] in unsigned arithmetic on a non-negative day count, which
    /// the compiler turns into multiplications; tests check it against that function for
    /// every day of the range.
    #[allow(
        clippy::cast_possible_truncation,
        reason = "every value is reduced below 10_000 (year) or 100 (the others) first"
    )]
    fn from_secs_since_year_0(since: u64) -> Self {
        let days = since / 86_400;
        let sod = since % 86_400;
        // 0000-01-01 was a Saturday.
        let weekday = ((days + 6) % 7) as u8;
        // Days since -0400-03-01, so the era number is never negative.
        let z = days + ERA_DAYS - JAN_TO_MAR;
        let era = z / ERA_DAYS; // 0..=25
        let doe = z % ERA_DAYS; // day of era, 0..=146_096
        let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365; // 0..=399
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // day of March-based year, 0..=365
        let mp = (5 * doy + 2) / 153; // March-based month, 0..=11
        let day = doy - (153 * mp + 2) / 5 + 1; // 1..=31
        let month = if mp < 10 { mp + 3 } else { mp - 9 }; // 1..=12
                                                           // era >= 1 for every year >= 0; the saturation only guards out-of-contract input.
        let year = (yoe + era * 400 + u64::from(month <= 2)).saturating_sub(400) % 10_000;
        let [y0, y1] = two_digits((year / 100) as u8);
        let [y2, y3] = two_digits((year % 100) as u8);
        Self {
            year: [y0, y1, y2, y3],
            month: month as u8,
            day: day as u8,
            weekday,
            hour: (sod / 3600) as u8,
            minute: (sod / 60 % 60) as u8,
            second: (sod % 60) as u8,
        }
    }
}

/// `"00" ..= "99"`, two ASCII digits per number.
const TWO_DIGITS: [[u8; 2]; 100] = {
    let mut t = [[0; 2]; 100];
    let mut i = 0;
    while i < 100 {
        // i < 100: both digits fit u8.
        #[allow(clippy::cast_possible_truncation, reason = "0..=9")]
        let pair = [b'0' + (i / 10) as u8, b'0' + (i % 10) as u8];
        t[i] = pair;
        i += 1;
    }
    t
};

/// Two ASCII digits of `v`, which the callers keep in `0..=99` (larger values print their
/// last two digits).
fn two_digits(v: u8) -> [u8; 2] {
    TWO_DIGITS[usize::from(v % 100)]
}

/// Decimal value of a run of ASCII digits (at most 4 here).
fn parse_digits(digits: &[u8]) -> Result<u16, TimeError> {
    digits.iter().try_fold(0_u16, |acc, &b| {
        if b.is_ascii_digit() {
            acc.checked_mul(10)
                .and_then(|a| a.checked_add(u16::from(b - b'0')))
                .ok_or(TimeError::Malformed)
        } else {
            Err(TimeError::Malformed)
        }
    })
}

/// Views bytes that this module wrote (ASCII only) as text.
fn ascii(bytes: &[u8]) -> Result<&str, TimeError> {
    // Only ASCII digits, names and punctuation are ever written, so this cannot fail; the
    // error arm exists to avoid an `unwrap`.
    core::str::from_utf8(bytes).map_err(|_| TimeError::Malformed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn iso(ms: i64) -> std::string::String {
        let mut buf = [0; ISO8601_MILLIS_LEN];
        format_iso8601_millis(ms, &mut buf).unwrap().into()
    }

    fn http(secs: i64) -> std::string::String {
        let mut buf = [0; HTTP_DATE_LEN];
        format_http_date(secs, &mut buf).unwrap().into()
    }

    /// Deterministic xorshift64* generator for sampling.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }
        fn range(&mut self, lo: i64, hi: i64) -> i64 {
            let span = u64::try_from(hi - lo).unwrap() + 1;
            lo + i64::try_from(self.next() % span).unwrap()
        }
    }

    #[test]
    fn iso_known_instants() {
        assert_eq!(iso(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso(1_700_000_000_000), "2023-11-14T22:13:20.000Z");
        assert_eq!(iso(1_738_324_800_123), "2025-01-31T12:00:00.123Z");
        assert_eq!(iso(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(iso(1_709_164_800_000), "2024-02-29T00:00:00.000Z");
        assert_eq!(iso(-2_203_891_200_000), "1900-03-01T00:00:00.000Z");
        assert_eq!(iso(-2_203_891_200_001), "1900-02-28T23:59:59.999Z");
        assert_eq!(iso(-1), "1969-12-31T23:59:59.999Z");
        assert_eq!(iso(-1000), "1969-12-31T23:59:59.000Z");
        assert_eq!(iso(-1001), "1969-12-31T23:59:58.999Z");
        assert_eq!(iso(MAX_FORMAT_MILLIS), "9999-12-31T23:59:59.999Z");
        assert_eq!(iso(MIN_FORMAT_MILLIS), "0000-01-01T00:00:00.000Z");
        assert_eq!(iso(-62_135_596_800_000), "0001-01-01T00:00:00.000Z");
        assert_eq!(iso(253_402_214_400_000), "9999-12-31T00:00:00.000Z");
    }

    /// Outputs of Node.js `toISOString()` / `toUTCString()` for pseudo-random instants
    /// (20 000 such instants were checked once while writing this module).
    #[test]
    fn matches_node() {
        let cases: &[(i64, &str, &str)] = &[
            (
                -48877613564391,
                "0421-02-16T21:07:15.609Z",
                "Tue, 16 Feb 0421 21:07:15 GMT",
            ),
            (
                62647908676197,
                "3955-03-27T12:51:16.197Z",
                "Sun, 27 Mar 3955 12:51:16 GMT",
            ),
            (
                -55608876506959,
                "0207-10-29T17:51:33.041Z",
                "Thu, 29 Oct 0207 17:51:33 GMT",
            ),
            (
                214437748928280,
                "8765-04-06T09:22:08.280Z",
                "Tue, 06 Apr 8765 09:22:08 GMT",
            ),
            (
                -35284170443026,
                "0851-11-21T09:32:36.974Z",
                "Tue, 21 Nov 0851 09:32:36 GMT",
            ),
            (
                208259679097539,
                "8569-06-26T22:51:37.539Z",
                "Mon, 26 Jun 8569 22:51:37 GMT",
            ),
        ];
        for &(ms, expected_iso, expected_http) in cases {
            assert_eq!(iso(ms), expected_iso);
            assert_eq!(http(ms.div_euclid(1000)), expected_http);
        }
    }

    #[test]
    fn iso_out_of_range() {
        let mut buf = [0; ISO8601_MILLIS_LEN];
        for ms in [
            MAX_FORMAT_MILLIS + 1,
            MIN_FORMAT_MILLIS - 1,
            i64::MAX,
            i64::MIN,
        ] {
            assert_eq!(
                format_iso8601_millis(ms, &mut buf),
                Err(TimeError::OutOfRange)
            );
        }
    }

    #[test]
    fn http_known_instants() {
        assert_eq!(http(784_111_777), "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(http(0), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(http(1_700_000_000), "Tue, 14 Nov 2023 22:13:20 GMT");
        assert_eq!(http(951_782_400), "Tue, 29 Feb 2000 00:00:00 GMT");
        assert_eq!(http(1_709_164_800), "Thu, 29 Feb 2024 00:00:00 GMT");
        assert_eq!(http(-2_203_891_200), "Thu, 01 Mar 1900 00:00:00 GMT");
        assert_eq!(http(-1), "Wed, 31 Dec 1969 23:59:59 GMT");
        assert_eq!(http(MAX_FORMAT_SECS), "Fri, 31 Dec 9999 23:59:59 GMT");
        assert_eq!(http(MIN_FORMAT_SECS), "Sat, 01 Jan 0000 00:00:00 GMT");
        let mut buf = [0; HTTP_DATE_LEN];
        for s in [MAX_FORMAT_SECS + 1, MIN_FORMAT_SECS - 1, i64::MAX, i64::MIN] {
            assert_eq!(format_http_date(s, &mut buf), Err(TimeError::OutOfRange));
        }
    }

    #[test]
    fn http_parse_known() {
        assert_eq!(
            parse_http_date(b"Sun, 06 Nov 1994 08:49:37 GMT"),
            Ok(784_111_777)
        );
        assert_eq!(parse_http_date(b"Wed, 31 Dec 1969 23:59:59 GMT"), Ok(-1));
        assert_eq!(
            parse_http_date(b"Tue, 29 Feb 2000 00:00:00 GMT"),
            Ok(951_782_400)
        );
    }

    #[test]
    fn http_parse_errors() {
        use TimeError::*;
        let cases: &[(&[u8], TimeError)] = &[
            (b"", Malformed),
            (b"Sun, 06 Nov 1994 08:49:37 GMT ", Malformed),
            (b" Sun, 06 Nov 1994 08:49:37 GMT", Malformed),
            (b"Sun, 6 Nov 1994 08:49:37 GMT", Malformed),
            (b"sun, 06 Nov 1994 08:49:37 GMT", Malformed),
            (b"Sun, 06 nov 1994 08:49:37 GMT", Malformed),
            (b"Sun, 06 Nov 1994 08:49:37 UTC", Malformed),
            (b"Sun, 06-Nov-1994 08:49:37 GMT", Malformed),
            (b"Sun, 06 Nov 1994 08.49.37 GMT", Malformed),
            (b"Sun, 06 Nov 19a4 08:49:37 GMT", Malformed),
            (b"Sun, 06 Nov +994 08:49:37 GMT", Malformed),
            (b"Sunday, 06-Nov-94 08:49:37 GMT", Malformed),
            (b"Sun Nov  6 08:49:37 1994      ", Malformed),
            (b"Sun, 00 Nov 1994 08:49:37 GMT", InvalidDate),
            (b"Sun, 31 Nov 1994 08:49:37 GMT", InvalidDate),
            (b"Thu, 29 Feb 1900 00:00:00 GMT", InvalidDate),
            (b"Sun, 06 Nov 1994 24:00:00 GMT", InvalidTime),
            (b"Sun, 06 Nov 1994 23:60:00 GMT", InvalidTime),
            (b"Sun, 06 Nov 1994 23:59:60 GMT", InvalidTime),
            (b"Mon, 06 Nov 1994 08:49:37 GMT", WeekdayMismatch),
        ];
        for (input, err) in cases {
            assert_eq!(
                parse_http_date(input),
                Err(*err),
                "{}",
                std::string::String::from_utf8_lossy(input)
            );
        }
    }

    #[test]
    fn http_round_trip_wide_sample() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let mut buf = [0; HTTP_DATE_LEN];
        let fixed = [
            MIN_FORMAT_SECS,
            MAX_FORMAT_SECS,
            -1,
            0,
            1,
            951_782_399,
            951_782_400,
        ];
        for i in 0..200_000 {
            let t = fixed
                .get(i)
                .copied()
                .unwrap_or_else(|| rng.range(MIN_FORMAT_SECS, MAX_FORMAT_SECS));
            let s = format_http_date(t, &mut buf).unwrap();
            assert_eq!(s.len(), HTTP_DATE_LEN);
            assert_eq!(parse_http_date(s.as_bytes()), Ok(t), "{s}");
        }
    }

    #[test]
    fn iso_agrees_with_http_and_millis() {
        let mut rng = Rng(42);
        for _ in 0..50_000 {
            let ms = rng.range(MIN_FORMAT_MILLIS, MAX_FORMAT_MILLIS);
            let i = iso(ms);
            let h = http(ms.div_euclid(1000));
            // Same date and time of day in both formats.
            let months = "JanFebMarAprMayJunJulAugSepOctNovDec";
            let mon = months.find(&h[8..11]).unwrap() / 3 + 1;
            assert_eq!(&i[0..4], &h[12..16]);
            assert_eq!(i[5..7].parse::<usize>().unwrap(), mon);
            assert_eq!(&i[8..10], &h[5..7]);
            assert_eq!(&i[11..19], &h[17..25]);
            assert_eq!(i[20..23].parse::<i64>().unwrap(), ms.rem_euclid(1000));
        }
    }

    #[test]
    fn civil_round_trip_every_day_in_range() {
        let first = MIN_FORMAT_SECS / SECS_PER_DAY;
        let last = MAX_FORMAT_SECS / SECS_PER_DAY;
        let mut expected = CivilDate::new(0, 1, 1).unwrap();
        for days in first..=last {
            let date = CivilDate::from_days(days).unwrap();
            assert_eq!(date, expected);
            assert_eq!(date.to_days(), days);
            // advance `expected` by one day by hand
            let (y, m, d) = (expected.year(), expected.month(), expected.day());
            expected = if d < days_in_month(y, m) {
                CivilDate::new(y, m, d + 1)
            } else if m < 12 {
                CivilDate::new(y, m + 1, 1)
            } else {
                CivilDate::new(y + 1, 1, 1)
            }
            .unwrap();
        }
    }

    #[test]
    fn civil_extremes_and_weekday() {
        assert_eq!(CivilDate::from_days(MAX_ABS_DAYS + 1), None);
        assert_eq!(CivilDate::from_days(-MAX_ABS_DAYS - 1), None);
        assert_eq!(CivilDate::from_days(i64::MAX), None);
        assert_eq!(CivilDate::from_days(i64::MIN), None);
        for days in [MAX_ABS_DAYS, -MAX_ABS_DAYS, -719_468, -719_469] {
            let d = CivilDate::from_days(days).unwrap();
            assert_eq!(d.to_days(), days);
        }
        assert_eq!(CivilDate::new(-1, 12, 31).unwrap().to_days(), -719_529);
        assert_eq!(weekday_from_days(0), 4);
        assert_eq!(weekday_from_days(i64::MIN), weekday_from_days(i64::MIN + 7));
        assert_eq!(weekday_from_days(i64::MAX), 4); // i64::MAX is a multiple of 7
        assert_eq!(CivilDate::new(2024, 2, 30), Err(TimeError::InvalidDate));
        assert_eq!(CivilDate::new(2024, 13, 1), Err(TimeError::InvalidDate));
        assert_eq!(CivilDate::new(2024, 0, 1), Err(TimeError::InvalidDate));
        assert!(is_leap_year(2000) && is_leap_year(2024) && is_leap_year(0));
        assert!(!is_leap_year(1900) && !is_leap_year(2023));
        assert!(is_leap_year(-4) && !is_leap_year(-100) && is_leap_year(-400));
    }

    #[test]
    fn newtypes() {
        let t = UnixTime::from_secs(1_700_000_000);
        assert_eq!(i64::from(t), 1_700_000_000);
        assert_eq!(UnixTime::from(5), UnixTime::from_secs(5));
        assert_eq!(t.checked_add_secs(10).unwrap().as_secs(), 1_700_000_010);
        assert_eq!(UnixTime::from_secs(i64::MAX).checked_add_secs(1), None);
        assert_eq!(UnixTime::from_secs(i64::MIN).checked_sub_secs(1), None);
        assert_eq!(
            UnixTime::from_secs(i64::MAX)
                .saturating_add_secs(1)
                .as_secs(),
            i64::MAX
        );
        assert_eq!(
            UnixTime::from_secs(i64::MIN)
                .saturating_sub_secs(1)
                .as_secs(),
            i64::MIN
        );
        assert_eq!(
            UnixTime::from_secs(10).checked_secs_since(UnixTime::from_secs(15)),
            Some(-5)
        );
        assert_eq!(
            UnixTime::from_secs(i64::MIN).checked_secs_since(UnixTime::from_secs(1)),
            None
        );
        assert_eq!(t.to_millis().unwrap().as_millis(), 1_700_000_000_000);
        assert_eq!(UnixTime::from_secs(i64::MAX).to_millis(), None);
        let m = UnixMillis::from_millis(-1);
        assert_eq!(m.to_secs_floor().as_secs(), -1);
        assert_eq!(m.subsec_millis(), 999);
        assert_eq!(UnixMillis::from_millis(i64::MIN).subsec_millis(), 192);
        assert_eq!(UnixMillis::from(7).checked_add_millis(i64::MAX), None);
        assert_eq!(
            UnixMillis::from(7)
                .saturating_add_millis(i64::MAX)
                .as_millis(),
            i64::MAX
        );
        let mut buf = [0; ISO8601_MILLIS_LEN];
        assert_eq!(
            m.format_iso8601(&mut buf).unwrap(),
            "1969-12-31T23:59:59.999Z"
        );
        let mut hb = [0; HTTP_DATE_LEN];
        assert_eq!(
            UnixTime::from_secs(784_111_777)
                .format_http_date(&mut hb)
                .unwrap(),
            "Sun, 06 Nov 1994 08:49:37 GMT"
        );
    }

    #[test]
    fn error_kinds_and_display() {
        use std::string::ToString;
        let all = [
            TimeError::OutOfRange,
            TimeError::Malformed,
            TimeError::InvalidDate,
            TimeError::InvalidTime,
            TimeError::WeekdayMismatch,
            TimeError::Overflow,
        ];
        let mut kinds: std::vec::Vec<_> = all.iter().map(TimeError::kind).collect();
        kinds.sort_unstable();
        kinds.dedup();
        assert_eq!(kinds.len(), all.len());
        for e in all {
            assert!(!e.to_string().is_empty());
            assert!(e
                .kind()
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b == b'_'));
        }
    }

    #[test]
    fn parse_never_panics_on_random_bytes() {
        let mut rng = Rng(7);
        let template = *b"Sun, 06 Nov 1994 08:49:37 GMT";
        for _ in 0..100_000 {
            let mut input = template;
            let flips = rng.next() % 4;
            for _ in 0..=flips {
                let pos = usize::try_from(rng.next() % 29).unwrap();
                input[pos] = u8::try_from(rng.next() % 256).unwrap();
            }
            let len = usize::try_from(rng.next() % 31).unwrap().min(29);
            let _ = parse_http_date(&input[..len]);
            let _ = parse_http_date(&input);
        }
    }

    /// The formatters' arithmetic against `CivilDate::from_days` and `weekday_from_days`:
    /// every day of the range, at its first and last second.
    #[test]
    fn parts_match_civil_date_every_day_in_range() {
        let first = MIN_FORMAT_SECS.div_euclid(SECS_PER_DAY);
        let last = MAX_FORMAT_SECS.div_euclid(SECS_PER_DAY);
        for days in first..=last {
            let date = CivilDate::from_days(days).unwrap();
            let year = std::format!("{:04}", date.year());
            for sod in [0, SECS_PER_DAY - 1] {
                let since = u64::try_from(days * SECS_PER_DAY + sod - MIN_FORMAT_SECS).unwrap();
                let p = Parts::from_secs_since_year_0(since);
                assert_eq!(p.year, year.as_bytes(), "{days}");
                assert_eq!((p.month, p.day), (date.month(), date.day()), "{days}");
                assert_eq!(p.weekday, weekday_from_days(days), "{days}");
                let hms = if sod == 0 { (0, 0, 0) } else { (23, 59, 59) };
                assert_eq!((p.hour, p.minute, p.second), hms);
            }
        }
    }

    /// The formatted text against a plain `format!` of `CivilDate` fields, at random
    /// instants and at the ends of the range.
    #[test]
    fn formatters_match_a_plain_reference() {
        let reference = |ms: i64| {
            let secs = ms.div_euclid(1000);
            let days = secs.div_euclid(SECS_PER_DAY);
            let sod = secs.rem_euclid(SECS_PER_DAY);
            let d = CivilDate::from_days(days).unwrap();
            let (h, mi, s) = (sod / 3600, sod / 60 % 60, sod % 60);
            let iso = std::format!(
                "{:04}-{:02}-{:02}T{h:02}:{mi:02}:{s:02}.{:03}Z",
                d.year(),
                d.month(),
                d.day(),
                ms.rem_euclid(1000)
            );
            let http = std::format!(
                "{}, {:02} {} {:04} {h:02}:{mi:02}:{s:02} GMT",
                core::str::from_utf8(DAY_NAMES[usize::from(weekday_from_days(days))]).unwrap(),
                d.day(),
                core::str::from_utf8(MONTH_NAMES[usize::from(d.month() - 1)]).unwrap(),
                d.year()
            );
            (iso, http)
        };
        let mut rng = Rng(0x7157_DA7E);
        let fixed = [
            MIN_FORMAT_MILLIS,
            MIN_FORMAT_MILLIS + 999,
            MAX_FORMAT_MILLIS,
            MAX_FORMAT_MILLIS - 999,
            -1,
            0,
            999,
            -1000,
        ];
        for i in 0..300_000 {
            let ms = fixed
                .get(i)
                .copied()
                .unwrap_or_else(|| rng.range(MIN_FORMAT_MILLIS, MAX_FORMAT_MILLIS));
            let (expected_iso, expected_http) = reference(ms);
            assert_eq!(iso(ms), expected_iso);
            assert_eq!(http(ms.div_euclid(1000)), expected_http);
        }
    }
}
