//! Registered-claim validation (RFC 7519 §4.1) with the time passed in.
//!
//! The core never reads a clock: `now` is Unix seconds from the caller. The rules:
//!
//! - `exp`, `nbf`, `iat`, when present, must be JSON numbers (integer or fractional) between 0
//!   and [`MAX_NUMERIC_DATE`] (the end of year 9999); anything else is
//!   [`DecodeError::InvalidClaim`]. A fractional value counts as the next whole second. Both
//!   are decided on the number's decimal text, exactly (see [`numeric_date`]): a fraction
//!   however small rounds up, a value above the maximum or below zero however slightly is
//!   refused.
//! - Expired iff `now >= exp + leeway` (so `exp == now` is expired at zero leeway, RFC 7519
//!   §4.1.4); not yet valid iff `now < nbf - leeway`; `iat` is only type-checked. With a leeway of
//!   15 s these are exactly jose's rules as Auth.js uses them (`clockTolerance: 15`).
//! - `iss`, `sub` and `aud` are looked at only when the validation names an expected value, as
//!   jose does (AUTHJS.md §1.4: Auth.js sets none): `iss` and `sub` must then be exactly that
//!   string, `aud` that string or an array holding it (its other elements, of any kind, are
//!   ignored); a value of another kind does not match ([`DecodeError::BadIssuer`],
//!   [`DecodeError::BadSubject`], [`DecodeError::BadAudience`]). Otherwise their values are not
//!   checked.
//! - A registered claim given twice is refused, so the claim checked here is the claim the typed
//!   claims see.
//!
//! The default leeway is [`DEFAULT_LEEWAY`] = 15 s, Auth.js's: a token that a Next.js app accepts
//! is accepted here, and a device whose clock drifts a few seconds keeps working. Set it to 0 for
//! the strict RFC reading.

use crate::error::DecodeError;
use crate::json::{self, ValueKind};

/// Default clock leeway in seconds: Auth.js's `clockTolerance`.
pub const DEFAULT_LEEWAY: u32 = 15;

/// Largest NumericDate accepted: 9999-12-31T23:59:59Z. Larger values are treated as corrupt.
pub const MAX_NUMERIC_DATE: i64 = 253_402_300_799;

/// Registered claims that a [`Validation`] can require.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[allow(
    clippy::struct_excessive_bools,
    reason = "one flag per registered claim"
)]
pub struct Required {
    /// Require `exp`.
    pub exp: bool,
    /// Require `nbf`.
    pub nbf: bool,
    /// Require `iat`.
    pub iat: bool,
    /// Require `iss`.
    pub iss: bool,
    /// Require `sub`.
    pub sub: bool,
    /// Require `aud`.
    pub aud: bool,
    /// Require `jti`.
    pub jti: bool,
}

/// How a token's claims are validated.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Validation<'a> {
    /// Seconds of clock skew tolerated on `exp` and `nbf`. Default [`DEFAULT_LEEWAY`].
    pub leeway: u32,
    /// Expected issuer: `iss` must equal it (and is then required).
    pub issuer: Option<&'a str>,
    /// Expected audience: `aud` must be it, or an array containing it (and is then required).
    pub audience: Option<&'a str>,
    /// Expected subject: `sub` must equal it (and is then required).
    pub subject: Option<&'a str>,
    /// Claims that must be present.
    pub required: Required,
    /// Check `exp`/`nbf` against `now`. Default `true`; turning it off is for debugging only.
    pub validate_time: bool,
}

impl Default for Validation<'_> {
    fn default() -> Self {
        Self::new()
    }
}

impl<'a> Validation<'a> {
    /// The defaults: leeway 15 s, no issuer/audience/subject, nothing required, times checked.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            leeway: DEFAULT_LEEWAY,
            issuer: None,
            audience: None,
            subject: None,
            required: Required {
                exp: false,
                nbf: false,
                iat: false,
                iss: false,
                sub: false,
                aud: false,
                jti: false,
            },
            validate_time: true,
        }
    }

    /// Sets the leeway in seconds.
    #[must_use]
    pub const fn with_leeway(mut self, seconds: u32) -> Self {
        self.leeway = seconds;
        self
    }

    /// Requires `iss == issuer`.
    #[must_use]
    pub const fn with_issuer(mut self, issuer: &'a str) -> Self {
        self.issuer = Some(issuer);
        self
    }

    /// Requires `aud` to contain `audience`.
    #[must_use]
    pub const fn with_audience(mut self, audience: &'a str) -> Self {
        self.audience = Some(audience);
        self
    }

    /// Requires `sub == subject`.
    #[must_use]
    pub const fn with_subject(mut self, subject: &'a str) -> Self {
        self.subject = Some(subject);
        self
    }

    /// Sets the claims that must be present.
    #[must_use]
    pub const fn with_required(mut self, required: Required) -> Self {
        self.required = required;
        self
    }
}

/// The registered time claims found in a payload, each rounded up to whole seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TimeClaims {
    /// `exp`, if present.
    pub exp: Option<i64>,
    /// `nbf`, if present.
    pub nbf: Option<i64>,
    /// `iat`, if present.
    pub iat: Option<i64>,
}

/// Validates the registered claims of `payload` (a JSON object) at `now`.
///
/// Returns the time claims found.
///
/// # Errors
///
/// [`DecodeError::BadJson`] if `payload` is not a JSON object, even when a bad claim comes
/// before the syntax error (payload JSON is checked before the claims); the claim errors listed
/// in the module documentation otherwise.
pub fn validate(payload: &[u8], v: &Validation<'_>, now: i64) -> Result<TimeClaims, DecodeError> {
    let bad_json = |error| DecodeError::BadJson {
        part: crate::error::Part::Payload,
        error,
    };
    let mut checker = Checker::new(v);
    let mut members = json::object_members(payload).map_err(bad_json)?;
    while let Some(member) = members.next() {
        let (key, value) = member.map_err(bad_json)?;
        if Checker::wants(key.raw()) {
            if let Err(claim_error) = checker.check_member(&key, &value) {
                // The rest of the payload must still be JSON: its syntax error comes first.
                return Err(members.find_map(Result::err).map_or(claim_error, bad_json));
            }
        }
    }
    checker.finish(now)
}

/// The member-by-member state of [`validate`], shared with the one-pass decode (which shows
/// it the top-level members while the claims type is deserialized, see `jws::finish`).
#[derive(Debug, Clone)]
pub(crate) struct Checker<'v> {
    v: &'v Validation<'v>,
    t: TimeClaims,
    iss: bool,
    sub: bool,
    aud: bool,
    jti: bool,
    /// The first error met through [`json::Observer::member`].
    pub(crate) error: Option<DecodeError>,
    /// Whether every top-level member was offered (see [`json::Observer::end`]).
    pub(crate) complete: bool,
}

impl<'v> Checker<'v> {
    pub(crate) fn new(v: &'v Validation<'v>) -> Self {
        Self {
            v,
            t: TimeClaims::default(),
            iss: false,
            sub: false,
            aud: false,
            jti: false,
            error: None,
            complete: false,
        }
    }

    /// Whether a member with this raw (still escaped) name may be a registered claim: every
    /// registered claim name is 3 bytes unless escaped.
    #[inline]
    pub(crate) fn wants(raw: &[u8]) -> bool {
        raw.len() == 3 || raw.contains(&b'\\')
    }

    /// Checks one member of the payload object.
    pub(crate) fn check_member(
        &mut self,
        key: &json::Key<'_>,
        value: &json::Value<'_>,
    ) -> Result<(), DecodeError> {
        let v = self.v;
        // The unescaped name, when it is 3 bytes long (every registered claim's is).
        let mut buf = [0u8; 3];
        let name = match key.as_str() {
            Some(s) => s.as_bytes(),
            None => key.unescape_into(&mut buf).map_or(&[][..], str::as_bytes),
        };
        match name {
            b"exp" => set_time(&mut self.t.exp, "exp", value)?,
            b"nbf" => set_time(&mut self.t.nbf, "nbf", value)?,
            b"iat" => set_time(&mut self.t.iat, "iat", value)?,
            b"iss" => {
                once(&mut self.iss, "iss")?;
                check_string(value, v.issuer, DecodeError::BadIssuer)?;
            }
            b"sub" => {
                once(&mut self.sub, "sub")?;
                check_string(value, v.subject, DecodeError::BadSubject)?;
            }
            b"aud" => {
                once(&mut self.aud, "aud")?;
                check_audience(value, v.audience)?;
            }
            b"jti" => once(&mut self.jti, "jti")?,
            _ => {}
        }
        Ok(())
    }

    /// What [`Checker::check_member`] does with a member whose value it does not read (see
    /// `reads_value` below): `iss`, `sub`, `aud` and `jti` are counted, so that a second one is
    /// refused; any other name is not a claim read by value only.
    fn count_once(&mut self, name: &[u8]) -> Result<(), DecodeError> {
        match name {
            b"iss" => once(&mut self.iss, "iss"),
            b"sub" => once(&mut self.sub, "sub"),
            b"aud" => once(&mut self.aud, "aud"),
            b"jti" => once(&mut self.jti, "jti"),
            _ => Ok(()),
        }
    }

    /// The checks after the last member: required claims, then the time rules.
    pub(crate) fn finish(&self, now: i64) -> Result<TimeClaims, DecodeError> {
        let (v, t) = (self.v, &self.t);
        let r = &v.required;
        let missing = [
            (r.exp && t.exp.is_none(), "exp"),
            (r.nbf && t.nbf.is_none(), "nbf"),
            (r.iat && t.iat.is_none(), "iat"),
            ((r.iss || v.issuer.is_some()) && !self.iss, "iss"),
            ((r.sub || v.subject.is_some()) && !self.sub, "sub"),
            ((r.aud || v.audience.is_some()) && !self.aud, "aud"),
            (r.jti && !self.jti, "jti"),
        ];
        if let Some((_, claim)) = missing.iter().find(|(m, _)| *m) {
            return Err(DecodeError::MissingClaim { claim });
        }
        if v.validate_time {
            check_time(t, v.leeway, now)?;
        }
        Ok(*t)
    }
}

impl<'de> json::Observer<'de> for &mut Checker<'_> {
    #[inline]
    fn wants(&self, raw_name: &[u8], escaped: bool) -> bool {
        // As `Checker::wants`: an escaped name is one with a backslash.
        raw_name.len() == 3 || escaped
    }

    #[inline]
    fn reads_value(&self, raw_name: &[u8], escaped: bool) -> bool {
        // `check_member` does not read `jti`, nor `sub`/`iss`/`aud` unless a value is
        // expected; an escaped name is not matched here (it is rare). Keep in step with
        // `check_member`: `jws`'s one-pass vs two-pass test fails if this skips a value it reads.
        escaped
            || match raw_name {
                b"jti" => false,
                b"sub" => self.v.subject.is_some(),
                b"iss" => self.v.issuer.is_some(),
                b"aud" => self.v.audience.is_some(),
                _ => true,
            }
    }

    fn member(&mut self, key: json::Key<'de>, value: json::Value<'de>) -> bool {
        match self.check_member(&key, &value) {
            Ok(()) => true,
            Err(e) => {
                self.error = Some(e);
                false
            }
        }
    }

    #[inline]
    fn plain_integer(&mut self, raw_name: &[u8], value: u64) -> Option<bool> {
        // As `check_member` with a plain integer: the time claims take it whole (`set_time`);
        // any other name goes the general way.
        let (slot, claim) = match raw_name {
            b"exp" => (&mut self.t.exp, "exp"),
            b"nbf" => (&mut self.t.nbf, "nbf"),
            b"iat" => (&mut self.t.iat, "iat"),
            _ => return None,
        };
        match set_time_plain(slot, claim, value) {
            Ok(()) => Some(true),
            Err(e) => {
                self.error = Some(e);
                Some(false)
            }
        }
    }

    fn name_only(&mut self, raw_name: &[u8]) -> bool {
        match self.count_once(raw_name) {
            Ok(()) => true,
            Err(e) => {
                self.error = Some(e);
                false
            }
        }
    }

    fn end(&mut self) {
        self.complete = true;
    }
}

/// Applies the `exp`/`nbf` rules to already-extracted time claims.
///
/// # Errors
///
/// [`DecodeError::Expired`] or [`DecodeError::NotYetValid`].
pub fn check_time(t: &TimeClaims, leeway: u32, now: i64) -> Result<(), DecodeError> {
    let leeway = i64::from(leeway);
    if let Some(exp) = t.exp {
        if now >= exp.saturating_add(leeway) {
            return Err(DecodeError::Expired { exp, now });
        }
    }
    if let Some(nbf) = t.nbf {
        if now < nbf.saturating_sub(leeway) {
            return Err(DecodeError::NotYetValid { nbf, now });
        }
    }
    Ok(())
}

fn once(seen: &mut bool, claim: &'static str) -> Result<(), DecodeError> {
    if core::mem::replace(seen, true) {
        return Err(DecodeError::InvalidClaim { claim });
    }
    Ok(())
}

/// [`set_time`] for a plain integer value.
fn set_time_plain(
    slot: &mut Option<i64>,
    claim: &'static str,
    value: u64,
) -> Result<(), DecodeError> {
    if slot.is_some() {
        return Err(DecodeError::InvalidClaim { claim });
    }
    *slot = Some(whole_seconds(value).ok_or(DecodeError::InvalidClaim { claim })?);
    Ok(())
}

fn set_time(
    slot: &mut Option<i64>,
    claim: &'static str,
    value: &json::Value<'_>,
) -> Result<(), DecodeError> {
    if slot.is_some() {
        return Err(DecodeError::InvalidClaim { claim });
    }
    // A plain integer (the usual form) as read in one pass; any other number through its text.
    let date = value
        .as_plain_u64()
        .map_or_else(|| value.as_number().and_then(numeric_date), whole_seconds);
    *slot = Some(date.ok_or(DecodeError::InvalidClaim { claim })?);
    Ok(())
}

/// Parses a JSON number as a NumericDate rounded up to whole seconds; `None` when negative,
/// beyond [`MAX_NUMERIC_DATE`] or not a finite number.
///
/// The decision is made on the decimal text, exactly: any non-zero fractional digit rounds up
/// (`1700003600.0000001` is 1700003601, `1e-400` is 1), and a value above the maximum by any
/// amount is refused (`253402300799.00001`), as is any negative value however small
/// (`-1e-400`). Zero in any form (`-0`, `0.0e5`) is 0. The text may be any decimal number
/// (sign, integer digits, fraction, exponent), leading zeros and a `+` sign included.
#[must_use]
pub fn numeric_date(text: &str) -> Option<i64> {
    // Fast path: a plain non-negative integer (the JSON reader's one-pass form).
    if let Some(v) = json::plain_integer(text.as_bytes()) {
        return whole_seconds(v);
    }
    decimal_numeric_date(text.as_bytes())
}

/// [`numeric_date`] for a number with a sign, fraction or exponent, from its digits.
fn decimal_numeric_date(text: &[u8]) -> Option<i64> {
    /// Exponents beyond this put any non-zero value far outside `0..=MAX_NUMERIC_DATE` (or
    /// below one second), so larger ones are clamped to it.
    const EXPONENT_BOUND: i64 = 1_000_000_000;
    let (negative, rest) = match text {
        [b'-', rest @ ..] => (true, rest),
        [b'+', rest @ ..] => (false, rest),
        _ => (false, text),
    };
    let split = rest
        .iter()
        .position(|&b| b == b'e' || b == b'E')
        .unwrap_or(rest.len());
    let (mantissa, exponent) = rest.split_at(split);
    let exponent = match exponent {
        [] => 0,
        [_, exponent @ ..] => {
            let (sign, digits) = match exponent {
                [b'-', digits @ ..] => (-1, digits),
                [b'+', digits @ ..] => (1, digits),
                _ => (1, exponent),
            };
            if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
                return None;
            }
            let magnitude = digits.iter().fold(0i64, |e, &d| {
                (e * 10 + i64::from(d - b'0')).min(EXPONENT_BOUND)
            });
            sign * magnitude
        }
    };
    let (int, frac) = match mantissa.iter().position(|&b| b == b'.') {
        Some(dot) => (&mantissa[..dot], &mantissa[dot + 1..]),
        None => (mantissa, &[][..]),
    };
    let digits = || int.iter().chain(frac);
    if int.len() + frac.len() == 0 || !digits().all(u8::is_ascii_digit) {
        return None;
    }
    let leading_zeros = digits().take_while(|&&d| d == b'0').count();
    if leading_zeros == int.len() + frac.len() {
        // Zero, `-0` included.
        return Some(0);
    }
    if negative {
        return None;
    }
    // The value is 0.<significant digits> x 10^point.
    let len = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
    let point = len(int.len())
        .saturating_sub(len(leading_zeros))
        .saturating_add(exponent);
    // MAX_NUMERIC_DATE has 12 digits: from 10^12 on, the value is too large.
    if point > 12 {
        return None;
    }
    // Below one (and above zero): the next whole second.
    let Ok(point @ 1..) = usize::try_from(point) else {
        return Some(1);
    };
    let mut significant = digits().skip(leading_zeros);
    let mut whole = 0i64;
    for _ in 0..point {
        let d = significant.next().map_or(0, |&d| d - b'0');
        whole = whole * 10 + i64::from(d);
    }
    let ceil = whole + i64::from(significant.any(|&d| d != b'0'));
    (ceil <= MAX_NUMERIC_DATE).then_some(ceil)
}

/// A whole number of seconds as a NumericDate: `None` beyond [`MAX_NUMERIC_DATE`].
fn whole_seconds(v: u64) -> Option<i64> {
    i64::try_from(v).ok().filter(|&v| v <= MAX_NUMERIC_DATE)
}

/// `iss` or `sub` against the expected value, if one is named: only that exact string matches.
fn check_string(
    value: &json::Value<'_>,
    expected: Option<&str>,
    mismatch: DecodeError,
) -> Result<(), DecodeError> {
    match expected {
        Some(e) if !(value.kind() == ValueKind::String && value.string_eq(e)) => Err(mismatch),
        _ => Ok(()),
    }
}

/// `aud` against the expected value, if one is named: that string, or an array holding it.
fn check_audience(value: &json::Value<'_>, expected: Option<&str>) -> Result<(), DecodeError> {
    let Some(e) = expected else {
        return Ok(());
    };
    let is_e = |v: &json::Value<'_>| v.kind() == ValueKind::String && v.string_eq(e);
    let found = match value.kind() {
        ValueKind::String => is_e(value),
        ValueKind::Array => value
            .array_elements()
            .is_some_and(|mut elements| elements.any(|el| el.is_ok_and(|el| is_e(&el)))),
        _ => false,
    };
    if found {
        Ok(())
    } else {
        Err(DecodeError::BadAudience)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_dates() {
        assert_eq!(numeric_date("0"), Some(0));
        assert_eq!(numeric_date("-0"), Some(0));
        assert_eq!(numeric_date("1700003600"), Some(1_700_003_600));
        assert_eq!(numeric_date("1700003600.5"), Some(1_700_003_601));
        assert_eq!(numeric_date("1.7000036E9"), Some(1_700_003_600));
        assert_eq!(numeric_date("-1"), None);
        assert_eq!(numeric_date("1e300"), None);
        assert_eq!(numeric_date("253402300800"), None);
        assert_eq!(numeric_date("18446744073709551615"), None);
        // Leading zeros (not JSON, but the function takes any text) go the float way.
        assert_eq!(numeric_date("0123"), Some(123));
        assert_eq!(numeric_date("253402300799"), Some(MAX_NUMERIC_DATE));
        assert_eq!(numeric_date("1000000000000"), None);
        assert_eq!(numeric_date(""), None);
    }

    fn check(payload: &str, v: &Validation<'_>, now: i64) -> Result<TimeClaims, DecodeError> {
        validate(payload.as_bytes(), v, now)
    }

    #[test]
    fn time_rules_with_and_without_leeway() {
        let strict = Validation::new().with_leeway(0);
        let p = r#"{"exp":100,"nbf":50}"#;
        assert!(check(p, &strict, 99).is_ok());
        assert_eq!(
            check(p, &strict, 100),
            Err(DecodeError::Expired { exp: 100, now: 100 })
        );
        assert_eq!(
            check(p, &strict, 49),
            Err(DecodeError::NotYetValid { nbf: 50, now: 49 })
        );
        assert!(check(p, &strict, 50).is_ok());
        // jose / Auth.js: accepted while now < exp + 15, nbf rejected iff nbf > now + 15.
        let authjs = Validation::new();
        assert!(check(r#"{"exp":100}"#, &authjs, 114).is_ok());
        assert!(check(r#"{"exp":100}"#, &authjs, 115).is_err());
        assert!(check(r#"{"nbf":115}"#, &authjs, 100).is_ok());
        assert!(check(r#"{"nbf":116}"#, &authjs, 100).is_err());
        // Fractional exp rounds up: 100.5 is still valid at 100, expired at 101.
        assert!(check(r#"{"exp":100.5}"#, &strict, 100).is_ok());
        assert!(check(r#"{"exp":100.5}"#, &strict, 101).is_err());
    }

    #[test]
    fn claim_types_and_duplicates() {
        let v = Validation::new();
        for p in [
            r#"{"exp":"1"}"#,
            r#"{"exp":true}"#,
            r#"{"exp":null}"#,
            r#"{"nbf":[1]}"#,
            r#"{"iat":{}}"#,
            r#"{"exp":-5}"#,
            r#"{"exp":1,"exp":2}"#,
        ] {
            assert!(
                matches!(check(p, &v, 0), Err(DecodeError::InvalidClaim { .. })),
                "{p}"
            );
        }
        assert!(matches!(
            check("[]", &v, 0),
            Err(DecodeError::BadJson { .. })
        ));
    }

    #[test]
    fn issuer_audience_subject() {
        let v = Validation::new()
            .with_issuer("me")
            .with_audience("app")
            .with_subject("42");
        assert!(check(r#"{"iss":"me","aud":"app","sub":"42"}"#, &v, 0).is_ok());
        assert!(check(r#"{"iss":"me","aud":["x","app"],"sub":"42"}"#, &v, 0).is_ok());
        assert!(check(r#"{"iss":"\u006de","aud":"app","sub":"42"}"#, &v, 0).is_ok());
        assert_eq!(
            check(r#"{"iss":"you","aud":"app","sub":"42"}"#, &v, 0),
            Err(DecodeError::BadIssuer)
        );
        assert_eq!(
            check(r#"{"iss":"me","aud":["x"],"sub":"42"}"#, &v, 0),
            Err(DecodeError::BadAudience)
        );
        assert_eq!(
            check(r#"{"iss":"me","aud":"app","sub":"43"}"#, &v, 0),
            Err(DecodeError::BadSubject)
        );
        assert_eq!(
            check(r#"{"aud":"app","sub":"42"}"#, &v, 0),
            Err(DecodeError::MissingClaim { claim: "iss" })
        );
        // With an expected value, as jose: another kind does not match; an audience array's
        // other elements may be anything.
        assert_eq!(
            check(r#"{"iss":"me","aud":[1],"sub":"42"}"#, &v, 0),
            Err(DecodeError::BadAudience)
        );
        assert_eq!(
            check(r#"{"iss":"me","aud":5,"sub":"42"}"#, &v, 0),
            Err(DecodeError::BadAudience)
        );
        assert!(check(r#"{"iss":"me","aud":[1,{},"app"],"sub":"42"}"#, &v, 0).is_ok());
        assert_eq!(
            check(r#"{"iss":1,"aud":"app","sub":"42"}"#, &v, 0),
            Err(DecodeError::BadIssuer)
        );
        assert_eq!(
            check(r#"{"iss":"me","aud":"app","sub":42}"#, &v, 0),
            Err(DecodeError::BadSubject)
        );
        // Without one (Auth.js's case, AUTHJS.md §1.4), their values are not looked at.
        for payload in [
            r#"{"sub":42}"#,
            r#"{"iss":1}"#,
            r#"{"aud":5}"#,
            r#"{"aud":[1]}"#,
            r#"{"iss":null,"sub":{},"aud":[null]}"#,
        ] {
            assert!(check(payload, &Validation::new(), 0).is_ok(), "{payload}");
        }
        let req = Validation::new().with_required(Required {
            exp: true,
            ..Required::default()
        });
        assert_eq!(
            check("{}", &req, 0),
            Err(DecodeError::MissingClaim { claim: "exp" })
        );
    }

    /// A fractional NumericDate counts as the next whole second, decided on the decimal text
    /// (a fraction below a double's resolution still rounds up), and nothing above
    /// `MAX_NUMERIC_DATE` is accepted, however little above (it used to go through `f64`).
    #[test]
    fn fractional_numeric_dates_round_up_exactly() {
        assert_eq!(numeric_date("1700003600.0000001"), Some(1_700_003_601));
        assert_eq!(numeric_date("1e-400"), Some(1));
        assert_eq!(numeric_date("253402300799.00001"), None);
        // Negative however small: refused, as other negatives; zero in any form is 0.
        assert_eq!(numeric_date("-1e-400"), None);
        assert_eq!(numeric_date("-0.0e7"), Some(0));
        // With leeway 0, `exp` = 1700003600.0000001 is not expired at 1700003600 (RFC 7519
        // §4.1.4: expired on or after exp, and 1700003600 is before it).
        let strict = Validation::new().with_leeway(0);
        assert!(check(r#"{"exp":1700003600.0000001}"#, &strict, 1_700_003_600).is_ok());
        assert!(matches!(
            check(r#"{"exp":253402300799.00001}"#, &Validation::new(), 0),
            Err(DecodeError::InvalidClaim { claim: "exp" })
        ));
    }

    /// Where a double holds the value closely enough (at most 15 significant digits), the
    /// exact reading agrees with rounding up the parsed `f64`, in every notation.
    #[test]
    fn exact_numeric_dates_agree_with_f64_where_it_is_exact() {
        fn via_f64(text: &str) -> Option<i64> {
            let f: f64 = text.parse().ok()?;
            if !(0.0..=1e13).contains(&f) {
                return (f == 0.0).then_some(0);
            }
            #[allow(clippy::cast_possible_truncation, reason = "0 <= f <= 1e13")]
            let whole = f as i64;
            #[allow(clippy::cast_precision_loss, reason = "whole <= 1e13, exact")]
            let ceil = if (whole as f64) < f { whole + 1 } else { whole };
            (ceil <= MAX_NUMERIC_DATE).then_some(ceil)
        }
        let mut rnd = crate::test_rng(0x5eed_da7e);
        for _ in 0..20_000 {
            let digits: std::string::String = (0..=rnd(15))
                .map(|_| char::from(b'0' + u8::try_from(rnd(10)).unwrap()))
                .collect();
            let dot = rnd(digits.len() + 1);
            let mut text = std::string::String::new();
            if rnd(4) == 0 {
                text.push('-');
            }
            text.push_str(&digits[..dot]);
            if dot < digits.len() || rnd(2) == 0 {
                text.push('.');
                text.push_str(&digits[dot..]);
            }
            if rnd(2) == 0 {
                text.push_str(["e", "E", "e+", "e-"][rnd(4)]);
                text.push_str(&std::format!("{}", rnd(16)));
            }
            assert_eq!(numeric_date(&text), via_f64(&text), "{text}");
        }
    }

    /// `validate`'s docs: `BadJson` if the payload is not a JSON object, even when a bad claim
    /// comes before the syntax error (it was `InvalidClaim`).
    #[test]
    fn validate_reports_bad_json_before_a_bad_claim() {
        let v = Validation::new();
        for p in [r#"{"exp":"1",}"#, r#"{"exp":"1"}x"#, r#"{"iat":-5"#] {
            assert!(
                matches!(check(p, &v, 0), Err(DecodeError::BadJson { .. })),
                "{p}: {:?}",
                check(p, &v, 0)
            );
        }
    }

    /// `iss`, `sub`, `aud` and `jti` given twice are `InvalidClaim` naming the claim, as the
    /// time claims are ("A registered claim given twice is refused"), whether or not the
    /// validation names an expected value.
    #[test]
    fn repeated_string_claims_are_invalid() {
        for (claim, payload) in [
            ("iss", r#"{"iss":"me","iss":"you"}"#),
            ("sub", r#"{"sub":"1","sub":"2"}"#),
            ("aud", r#"{"aud":"app","aud":"other"}"#),
            ("jti", r#"{"jti":"a","jti":"a"}"#),
            ("sub", r#"{"sub":"1","\u0073ub":"1"}"#),
        ] {
            assert_eq!(
                check(payload, &Validation::new(), 0),
                Err(DecodeError::InvalidClaim { claim }),
                "{payload}"
            );
        }
        let v = Validation::new().with_issuer("me").with_subject("1");
        assert_eq!(
            check(r#"{"iss":"me","iss":"me"}"#, &v, 0),
            Err(DecodeError::InvalidClaim { claim: "iss" })
        );
        assert_eq!(
            check(r#"{"sub":"1","sub":"1"}"#, &v.with_issuer("me"), 0),
            Err(DecodeError::InvalidClaim { claim: "sub" })
        );
    }

    /// The largest NumericDate is accepted in every decimal form, not only as a plain integer.
    #[test]
    fn the_largest_numeric_date_is_accepted_in_any_form() {
        for text in [
            "253402300799",
            "253402300799.0",
            "253402300799.000",
            "2.53402300799e11",
            "2.53402300799E+11",
            "25340230079.9e1",
            "+253402300799",
        ] {
            assert_eq!(numeric_date(text), Some(MAX_NUMERIC_DATE), "{text}");
        }
        for text in ["253402300799.5", "2.534023008e11", "253402300799.0000001"] {
            assert_eq!(numeric_date(text), None, "{text}");
        }
        assert_eq!(
            check(r#"{"exp":2.53402300799e11}"#, &Validation::new(), 0),
            Ok(TimeClaims {
                exp: Some(MAX_NUMERIC_DATE),
                ..TimeClaims::default()
            })
        );
    }

    /// Exponents of any length are decided without overflow (a panic in debug builds, and a
    /// wrapped exponent, hence a wrong date, in release builds): huge positive exponents are
    /// too large, huge negative ones round up to one second.
    #[test]
    fn huge_exponents_neither_overflow_nor_wrap() {
        let digits = "9".repeat(40);
        assert_eq!(numeric_date(&std::format!("1e{digits}")), None);
        assert_eq!(numeric_date(&std::format!("1e+{digits}")), None);
        assert_eq!(numeric_date(&std::format!("1e-{digits}")), Some(1));
        // 10^20 + 1: wrapping i64 arithmetic would make this exponent small.
        assert_eq!(numeric_date("1e100000000000000000001"), None);
        assert_eq!(numeric_date("1e18446744073709551617"), None);
        assert_eq!(
            check(r#"{"exp":1e99999999999999999999}"#, &Validation::new(), 0),
            Err(DecodeError::InvalidClaim { claim: "exp" })
        );
    }
}
