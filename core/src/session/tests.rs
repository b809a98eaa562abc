//! Session pipeline tests: AUTHJS.md §10 items 10–19 at the pipeline level, callback order, and
//! sliding expiry, over the JWS codec (the JWE codecs share the pipeline).

use std::borrow::ToOwned;
use std::string::String as StdString;
use std::vec::Vec as StdVec;
use std::{format, vec};

use super::*;
use crate::jws::{Algorithm, HmacKey};
use crate::rand::RandomError;

struct Counter(u8);

impl RandomSource for Counter {
    fn fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), RandomError> {
        for b in dst {
            self.0 = self.0.wrapping_add(1);
            *b = self.0;
        }
        Ok(())
    }
}

const NOW_MS: i64 = 1_700_000_000_123;

fn key() -> HmacKey {
    HmacKey::new(
        Algorithm::Hs256,
        b"session-tests-secret-session-tests-secret",
    )
    .unwrap()
}

struct Bufs {
    token: StdVec<u8>,
    scratch: StdVec<u8>,
    body: StdVec<u8>,
    cookies: StdVec<u8>,
}

impl Bufs {
    fn new() -> Self {
        Self {
            token: vec![0; 32 * 1024],
            scratch: vec![0; 64 * 1024],
            body: vec![0; 4096],
            cookies: vec![0; 48 * 1024],
        }
    }
    fn get(&mut self) -> Buffers<'_> {
        Buffers {
            token: &mut self.token,
            scratch: &mut self.scratch,
            body: &mut self.body,
            cookies: &mut self.cookies,
        }
    }
}

/// Callbacks that record the order of calls and can end the session or grow the token.
#[derive(Default)]
struct Recording {
    calls: StdVec<StdString>,
    end_on_read: bool,
    padding: usize,
    fail: bool,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct BigToken {
    name: Option<StdString>,
    email: Option<StdString>,
    picture: Option<StdString>,
    sub: Option<StdString>,
    #[serde(default)]
    pad: StdString,
    #[serde(default)]
    updates: u32,
}

impl Callbacks for Recording {
    type Token = BigToken;
    type Session<'a> = DefaultSession<'a>;

    fn initial_token(&mut self, user: &User<'_>) -> Result<BigToken, CallbackError> {
        self.calls.push("initial".into());
        Ok(BigToken {
            name: user.name.map(Into::into),
            email: user.email.map(Into::into),
            picture: user.image.map(Into::into),
            sub: user.id.map(Into::into),
            pad: "x".repeat(self.padding),
            updates: 0,
        })
    }

    fn jwt(
        &mut self,
        mut token: BigToken,
        params: &JwtParams<'_>,
    ) -> Result<Option<BigToken>, CallbackError> {
        self.calls.push(format!("jwt:{:?}", params.trigger));
        if self.fail {
            return Err(CallbackError { reason: "boom" });
        }
        if params.trigger == Trigger::Session && self.end_on_read {
            return Ok(None);
        }
        if let Some(data) = params.session {
            assert_eq!(data, br#"{"theme":"dark"}"#);
            token.updates += 1;
        }
        token.pad = "x".repeat(self.padding);
        Ok(Some(token))
    }

    fn session<'a>(
        &'a mut self,
        token: &'a BigToken,
        expires: &'a str,
    ) -> Result<DefaultSession<'a>, CallbackError> {
        self.calls.push("session".into());
        Ok(DefaultSession {
            user: SessionUser {
                name: token.name.as_deref(),
                email: token.email.as_deref(),
                image: token.picture.as_deref(),
            },
            expires,
            error: None,
        })
    }
}

fn engine(flavor: Flavor, secure: bool) -> Engine<JwsCodec<'static>> {
    let key: &'static HmacKey = std::boxed::Box::leak(std::boxed::Box::new(key()));
    Engine::new(Config::new(flavor, secure), JwsCodec::new(key))
}

fn ada() -> SignIn<'static> {
    SignIn {
        user: User {
            id: Some("user-1"),
            name: Some("Ada"),
            email: Some("ada@example.com"),
            image: Some("https://example.com/ada.png"),
        },
        account: None,
        profile: None,
        is_new_user: None,
    }
}

/// Turns Set-Cookie values into the Cookie header a browser would send next.
fn browser(set_cookies: &[StdString]) -> StdString {
    set_cookies
        .iter()
        .filter(|c| !c.contains("Max-Age=0"))
        .map(|c| c.split(';').next().unwrap().to_owned())
        .collect::<StdVec<_>>()
        .join("; ")
}

fn cookies_of(r: &Response<'_>) -> StdVec<StdString> {
    r.set_cookies().map(StdString::from).collect()
}

fn sign_in(e: &Engine<JwsCodec<'static>>, cb: &mut Recording) -> StdVec<StdString> {
    let mut b = Bufs::new();
    let r = e
        .sign_in(cb, &ada(), b"", NOW_MS, &mut Counter(0), b.get())
        .unwrap();
    assert!(r.authenticated);
    cookies_of(&r)
}

#[test]
fn item14_session_read_default_shape_and_sliding_expiry() {
    let e = engine(Flavor::AuthJs, false);
    let mut cb = Recording::default();
    let set = sign_in(&e, &mut cb);
    assert_eq!(set.len(), 1);
    assert!(set[0].starts_with("authjs.session-token=ey"));
    assert!(
        set[0].ends_with("; Path=/; Expires=Thu, 14 Dec 2023 22:13:20 GMT; HttpOnly; SameSite=Lax")
    );

    // A read one hour later slides everything by one hour.
    let later = NOW_MS + 3_600_000;
    let mut b = Bufs::new();
    let header = browser(&set);
    let r = e
        .session(&mut cb, header.as_bytes(), later, &mut Counter(9), b.get())
        .unwrap();
    assert_eq!(r.status, 200);
    assert!(r.authenticated);
    assert_eq!(
        r.body,
        r#"{"user":{"name":"Ada","email":"ada@example.com","image":"https://example.com/ada.png"},"expires":"2023-12-14T23:13:20.123Z"}"#
    );
    let set2 = cookies_of(&r);
    assert_eq!(set2.len(), 1);
    assert!(set2[0].contains("Expires=Thu, 14 Dec 2023 23:13:20 GMT"));
    // The new token has fresh iat/exp (= now + jwt.maxAge) and jti.
    let token = set2[0]
        .split(';')
        .next()
        .unwrap()
        .split_once('=')
        .unwrap()
        .1;
    let mut scratch = [0u8; 2048];
    let d = crate::jws::decode::<serde::de::IgnoredAny>(
        token.as_bytes(),
        &key(),
        &crate::jws::DecodeOptions::new(),
        later / 1000,
        &mut scratch,
    )
    .unwrap();
    let payload = core::str::from_utf8(d.payload_json()).unwrap();
    assert!(payload.starts_with(r#"{"name":"Ada","email":"ada@example.com","picture":"https://example.com/ada.png","sub":"user-1","pad":"","updates":0,"iat":1700003600,"exp":1702595600,"jti":""#), "{payload}");
    assert_ne!(
        token,
        set[0].split(';').next().unwrap().split_once('=').unwrap().1
    );
    assert_eq!(
        cb.calls,
        ["initial", "jwt:SignIn", "session", "jwt:Session", "session"]
    );
}

#[test]
fn item13_no_cookie_gives_empty_body_per_flavor() {
    for (flavor, body) in [(Flavor::AuthJs, "null"), (Flavor::NextAuthV4, "{}")] {
        let e = engine(flavor, false);
        let mut cb = Recording::default();
        let mut b = Bufs::new();
        let r = e
            .session(&mut cb, b"other=1", NOW_MS, &mut Counter(0), b.get())
            .unwrap();
        assert_eq!((r.status, r.body, r.authenticated), (200, body, false));
        assert_eq!(r.set_cookie_count(), 0);
        assert!(cb.calls.is_empty());
    }
    assert_eq!(
        Response::headers(false),
        &[
            ("Content-Type", "application/json"),
            ("Cache-Control", "private, no-cache, no-store"),
            ("Expires", "0"),
            ("Pragma", "no-cache"),
        ]
    );
    assert_eq!(
        Response::headers(true),
        &[("Content-Type", "application/json")]
    );
}

#[test]
fn item15_expired_garbled_or_foreign_tokens_clear_every_chunk_without_jwt() {
    let e = engine(Flavor::AuthJs, false);
    let mut cb = Recording {
        padding: 5000,
        ..Recording::default()
    };
    let set = sign_in(&e, &mut cb);
    assert_eq!(set.len(), 2, "a 5000-byte pad needs two chunks");
    let header = browser(&set);
    cb.calls.clear();

    // Expired: 30 days + 15 s leeway later.
    let expired_at = NOW_MS + (i64::from(DEFAULT_MAX_AGE) + 15) * 1000;
    let other_key = HmacKey::new(Algorithm::Hs256, &[7; 32]).unwrap();
    let foreign = Engine::new(
        Config::new(Flavor::AuthJs, false),
        JwsCodec::new(&other_key),
    );
    let garbled = header.replacen("ey", "ez", 1);
    for (name, e, header, at) in [
        ("expired", &e, header.as_str(), expired_at),
        ("garbled", &e, garbled.as_str(), NOW_MS),
    ] {
        let mut b = Bufs::new();
        let r = e
            .session(&mut cb, header.as_bytes(), at, &mut Counter(0), b.get())
            .unwrap();
        assert_eq!(r.body, "null", "{name}");
        assert!(matches!(r.dropped, Some(Dropped::Invalid(_))), "{name}");
        assert_eq!(
            cookies_of(&r),
            [
                "authjs.session-token.0=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax",
                "authjs.session-token.1=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax",
            ],
            "{name}"
        );
    }
    let mut b = Bufs::new();
    let r = foreign
        .session(&mut cb, header.as_bytes(), NOW_MS, &mut Counter(0), b.get())
        .unwrap();
    assert!(matches!(
        r.dropped,
        Some(Dropped::Invalid(DecodeError::BadSignature))
    ));
    assert_eq!(r.set_cookie_count(), 2);
    assert!(cb.calls.is_empty(), "jwt must not run: {:?}", cb.calls);
}

#[test]
fn item16_jwt_returning_none_ends_the_session() {
    let e = engine(Flavor::AuthJs, true);
    let mut cb = Recording::default();
    let set = sign_in(&e, &mut cb);
    assert!(set[0].starts_with("__Secure-authjs.session-token="));
    assert!(set[0].ends_with("; HttpOnly; Secure; SameSite=Lax"));
    cb.end_on_read = true;
    cb.calls.clear();
    let mut b = Bufs::new();
    let header = browser(&set);
    let r = e
        .session(&mut cb, header.as_bytes(), NOW_MS, &mut Counter(0), b.get())
        .unwrap();
    assert_eq!((r.body, r.dropped), ("null", Some(Dropped::Ended)));
    assert_eq!(
        cookies_of(&r),
        ["__Secure-authjs.session-token=; Max-Age=0; Path=/; HttpOnly; Secure; SameSite=Lax"]
    );
    assert_eq!(
        cb.calls,
        ["jwt:Session"],
        "session is not called after null"
    );
}

#[test]
fn callback_failure_on_read_clears_and_on_sign_in_errors() {
    let e = engine(Flavor::AuthJs, false);
    let mut cb = Recording::default();
    let set = sign_in(&e, &mut cb);
    cb.fail = true;
    let mut b = Bufs::new();
    let header = browser(&set);
    let r = e
        .session(&mut cb, header.as_bytes(), NOW_MS, &mut Counter(0), b.get())
        .unwrap();
    assert_eq!(
        r.dropped,
        Some(Dropped::Callback(CallbackError { reason: "boom" }))
    );
    assert_eq!(r.set_cookie_count(), 1);
    let mut b = Bufs::new();
    let err = e
        .sign_in(&mut cb, &ada(), b"", NOW_MS, &mut Counter(0), b.get())
        .unwrap_err();
    assert_eq!(
        err,
        SessionError::Callback(CallbackError { reason: "boom" })
    );
}

#[test]
fn item17_update_checks_csrf_then_passes_data_to_jwt() {
    let e = engine(Flavor::AuthJs, false);
    let mut cb = Recording::default();
    let set = sign_in(&e, &mut cb);
    let secret = "csrf-secret";
    let mut csrf = [0u8; 129];
    let csrf_value = cookie::csrf_cookie_value(&[3; 32], secret, &mut csrf).to_owned();
    let token = csrf_value.split('|').next().unwrap().to_owned();
    // The cookie travels percent-encoded (`|` is %7C), as Auth.js writes it.
    let header = format!(
        "{}; authjs.csrf-token={}",
        browser(&set),
        csrf_value.replace('|', "%7C")
    );
    let update = |csrf_token: &'static str, is_post| Update {
        is_post,
        csrf_token,
        data: Some(br#"{"theme":"dark"}"#),
        csrf_secret: "csrf-secret",
    };
    let bad: &'static str = "0".repeat(64).leak();
    let good: &'static str = token.leak();
    for (u, ok) in [
        (update(bad, true), false),
        (update(good, false), false),
        (update(good, true), true),
    ] {
        cb.calls.clear();
        let mut b = Bufs::new();
        let r = e
            .update(
                &mut cb,
                header.as_bytes(),
                &u,
                NOW_MS,
                &mut Counter(0),
                b.get(),
            )
            .unwrap();
        if ok {
            assert_eq!(r.status, 200);
            assert!(r.authenticated);
            assert_eq!(cb.calls, ["jwt:Update", "session"]);
            assert_eq!(r.set_cookie_count(), 1);
        } else {
            assert_eq!((r.status, r.body, r.set_cookie_count()), (400, "null", 0));
            assert!(cb.calls.is_empty());
        }
    }
}

#[test]
fn items10_12_rechunking_through_the_pipeline() {
    let e = engine(Flavor::AuthJs, false);
    let mut cb = Recording {
        padding: 7000,
        ..Recording::default()
    };
    let set = sign_in(&e, &mut cb);
    assert_eq!(set.len(), 3);
    for (i, c) in set.iter().enumerate() {
        assert!(c.starts_with(&format!("authjs.session-token.{i}=")));
    }
    // The value is cut in 3936-byte chunks.
    let value_len = |c: &str| {
        c.split(';')
            .next()
            .unwrap()
            .split_once('=')
            .unwrap()
            .1
            .len()
    };
    assert_eq!(value_len(&set[0]), 3936);
    assert_eq!(value_len(&set[1]), 3936);
    // Reassembly works in any request order, and shrinking deletes stale chunks.
    let sent = browser(&set);
    let mut parts: StdVec<&str> = sent.split("; ").collect();
    parts.reverse();
    let header = parts.join("; ");
    cb.padding = 0;
    let mut b = Bufs::new();
    let r = e
        .session(&mut cb, header.as_bytes(), NOW_MS, &mut Counter(0), b.get())
        .unwrap();
    assert!(r.authenticated);
    let out = cookies_of(&r);
    assert_eq!(out.len(), 4);
    assert_eq!(
        out[0],
        "authjs.session-token.2=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax"
    );
    assert_eq!(
        out[1],
        "authjs.session-token.1=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax"
    );
    assert_eq!(
        out[2],
        "authjs.session-token.0=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax"
    );
    assert!(out[3].starts_with("authjs.session-token=ey"));
    // A look-alike cookie is neither read nor deleted (exact chunk names).
    let header = format!("{}; authjs.session-token-foo=zzz", browser(&out));
    let mut b = Bufs::new();
    let r = e
        .session(&mut cb, header.as_bytes(), NOW_MS, &mut Counter(0), b.get())
        .unwrap();
    assert!(r.authenticated);
    assert!(cookies_of(&r).iter().all(|c| !c.contains("-foo")));
}

/// Every session the engine writes can be read back: a token of seven chunks (about 27 KB,
/// above the 16 KiB default of a bare decode) signs in and reads back, for JWS and JWE. Before,
/// the read refused it as too large and deleted the chunks.
#[cfg(feature = "jwe")]
#[test]
fn a_session_of_many_chunks_reads_back() {
    let keys = [crate::jwe::AuthJsKey::derive(b"secret", "authjs.session-token").unwrap()];
    let jwe = Engine::new(
        Config::new(Flavor::AuthJs, false),
        AuthJsCodec::new(&keys).unwrap(),
    );
    let jws = engine(Flavor::AuthJs, false);
    let mut cb = Recording {
        padding: 20_000,
        ..Recording::default()
    };
    let signed_in = |cb: &mut Recording, jwe_codec: bool| {
        let mut b = Bufs::new();
        let r = if jwe_codec {
            jwe.sign_in(cb, &ada(), b"", NOW_MS, &mut Counter(0), b.get())
        } else {
            jws.sign_in(cb, &ada(), b"", NOW_MS, &mut Counter(0), b.get())
        }
        .unwrap();
        cookies_of(&r)
    };
    for jwe_codec in [false, true] {
        let set = signed_in(&mut cb, jwe_codec);
        assert_eq!(set.len(), 7, "{jwe_codec}");
        let mut b = Bufs::new();
        let header = browser(&set);
        let r = if jwe_codec {
            jwe.session(&mut cb, header.as_bytes(), NOW_MS, &mut Counter(1), b.get())
        } else {
            jws.session(&mut cb, header.as_bytes(), NOW_MS, &mut Counter(1), b.get())
        }
        .unwrap();
        assert!(
            r.authenticated && r.dropped.is_none(),
            "{jwe_codec}: {:?}",
            r.dropped
        );
        assert_eq!(cookies_of(&r).len(), 7);
    }
}

#[test]
fn item13_fresh_client_gets_a_csrf_cookie_and_keeps_a_valid_one() {
    for (secure, name) in [
        (false, "authjs.csrf-token"),
        (true, "__Host-authjs.csrf-token"),
    ] {
        let e = engine(Flavor::AuthJs, secure);
        let (mut scratch, mut out) = ([0u8; 256], [0u8; 512]);
        let c = e
            .csrf(b"", "secret", &mut Counter(0), &mut scratch, &mut out)
            .unwrap();
        let set = c.set_cookie.unwrap().to_owned();
        assert!(
            set.starts_with(&format!("{name}={}%7C", c.token())),
            "{set}"
        );
        assert_eq!(set.ends_with("; Secure; SameSite=Lax"), secure, "{set}");
        let token = c.token().to_owned();
        // The same client comes back: the cookie is valid, nothing is set, the token is the same.
        let header = set.split(';').next().unwrap().to_owned();
        let (mut scratch, mut out) = ([0u8; 256], [0u8; 512]);
        let again = e
            .csrf(
                header.as_bytes(),
                "secret",
                &mut Counter(9),
                &mut scratch,
                &mut out,
            )
            .unwrap();
        assert_eq!((again.token(), again.set_cookie), (token.as_str(), None));
        // A cookie made with another secret is replaced.
        let (mut scratch, mut out) = ([0u8; 256], [0u8; 512]);
        let other = e
            .csrf(
                header.as_bytes(),
                "other",
                &mut Counter(9),
                &mut scratch,
                &mut out,
            )
            .unwrap();
        assert!(other.set_cookie.is_some());
        assert_ne!(other.token(), token);
    }
}

/// A scratch buffer too small for the CSRF cookie is the caller's error, reported as such:
/// the client's token is neither replaced (`csrf`) nor refused as a failed check (`update`,
/// which answered 400 before). A cookie is replaced for what it holds, not for the scratch
/// size: a long one that fits is replaced, one that does not is reported like any other.
#[test]
fn csrf_with_a_small_scratch_is_reported_not_treated_as_a_bad_cookie() {
    let e = engine(Flavor::AuthJs, false);
    let (mut scratch, mut out) = ([0u8; 256], [0u8; 512]);
    let c = e
        .csrf(b"", "secret", &mut Counter(0), &mut scratch, &mut out)
        .unwrap();
    let header = c.set_cookie.unwrap().split(';').next().unwrap().to_owned();
    let token: &'static str = c.token().to_owned().leak();
    let small = |n: usize| StdVec::from_iter(core::iter::repeat_n(0u8, n));
    let mut out = [0u8; 512];
    let err = e
        .csrf(
            header.as_bytes(),
            "secret",
            &mut Counter(9),
            &mut small(100),
            &mut out,
        )
        .unwrap_err();
    assert_eq!(
        err,
        SessionError::BufferTooSmall {
            buffer: BufferKind::Scratch,
            needed: cookie::CSRF_COOKIE_VALUE_LEN,
        }
    );
    let session = sign_in(&e, &mut Recording::default());
    let both = format!("{}; {header}", browser(&session));
    let update = Update {
        is_post: true,
        csrf_token: token,
        data: None,
        csrf_secret: "secret",
    };
    let mut b = Bufs::new();
    b.scratch.truncate(100);
    let err = e
        .update(
            &mut Recording::default(),
            both.as_bytes(),
            &update,
            NOW_MS,
            &mut Counter(0),
            b.get(),
        )
        .unwrap_err();
    assert!(
        matches!(
            err,
            SessionError::BufferTooSmall {
                buffer: BufferKind::Scratch,
                ..
            }
        ),
        "{err:?}"
    );
    // A 200-byte junk cookie is replaced when the scratch holds it, and reported otherwise
    // (before, it was replaced with any scratch of 129 bytes or more).
    let junk = format!("authjs.csrf-token={}", "%41".repeat(200));
    let fresh = e
        .csrf(
            junk.as_bytes(),
            "secret",
            &mut Counter(9),
            &mut small(200),
            &mut out,
        )
        .unwrap();
    assert!(fresh.set_cookie.is_some());
    for n in [100, cookie::CSRF_COOKIE_VALUE_LEN, 199] {
        let err = e
            .csrf(
                junk.as_bytes(),
                "secret",
                &mut Counter(9),
                &mut small(n),
                &mut out,
            )
            .unwrap_err();
        assert_eq!(
            err,
            SessionError::BufferTooSmall {
                buffer: BufferKind::Scratch,
                needed: 200,
            },
            "with a {n}-byte scratch"
        );
    }
}

/// The CSRF check's answer does not depend on the scratch size. Auth.js accepts any
/// `token|hash` whose hash matches (AUTHJS.md §5.5), here a 100-character token (a 165-byte
/// decoded value); a scratch too small for it is reported as such. Before, a scratch of 129 to
/// 164 bytes answered 400, as for a forged cookie, while a larger one let the update through.
/// A caller serving `POST /signout` checks CSRF with `Engine::verify_csrf` before
/// `sign_out`, as `update` does: the token from `csrf()` passes on POST, and a wrong token, a
/// GET, a missing cookie, another secret or a cookie for the other mode do not.
#[test]
fn sign_out_csrf_is_checked_with_verify_csrf() {
    for secure in [false, true] {
        let e = engine(Flavor::AuthJs, secure);
        let mut scratch = [0u8; 256];
        let mut out = [0u8; 512];
        let csrf = e
            .csrf(b"", "secret", &mut Counter(7), &mut scratch, &mut out)
            .unwrap();
        let token = core::str::from_utf8(&csrf.token).unwrap().to_owned();
        let set_cookie = csrf.set_cookie.unwrap().to_owned();
        // The browser sends back `name=value` from the Set-Cookie line.
        let pair = set_cookie.split(';').next().unwrap().to_owned();
        let check = |header: &str, token: &str, secret: &str, is_post: bool| {
            let mut scratch = [0u8; 256];
            e.verify_csrf(header.as_bytes(), token, secret, is_post, &mut scratch)
        };
        assert_eq!(check(&pair, &token, "secret", true), Ok(true), "{pair}");
        assert_eq!(check(&pair, &token, "secret", false), Ok(false));
        assert_eq!(check(&pair, &"0".repeat(64), "secret", true), Ok(false));
        assert_eq!(check(&pair, &token, "other", true), Ok(false));
        assert_eq!(check("theme=dark", &token, "secret", true), Ok(false));
        // The cookie of the other mode (`__Host-` prefix or not) is not this engine's.
        let other = if secure {
            pair.trim_start_matches("__Host-").to_owned()
        } else {
            format!("__Host-{pair}")
        };
        assert_eq!(check(&other, &token, "secret", true), Ok(false));
        // Too small a scratch is reported, not read as a failed check.
        let mut tiny = [0u8; 8];
        assert!(matches!(
            e.verify_csrf(pair.as_bytes(), &token, "secret", true, &mut tiny),
            Err(SessionError::BufferTooSmall {
                buffer: BufferKind::Scratch,
                ..
            })
        ));
        // Checked, the sign-out clears the session.
        let session = sign_in(&e, &mut Recording::default());
        let header = format!("{}; {pair}", browser(&session));
        assert_eq!(check(&header, &token, "secret", true), Ok(true));
        let mut b = Bufs::new();
        let r = e.sign_out(header.as_bytes(), b.get()).unwrap();
        assert!(cookies_of(&r).iter().all(|c| c.contains("Max-Age=0")));
    }
}

#[test]
fn csrf_check_does_not_depend_on_the_scratch_size() {
    let e = engine(Flavor::AuthJs, false);
    let token = "t".repeat(100);
    let hash = core::str::from_utf8(&cookie::csrf_hash(&token, "secret"))
        .unwrap()
        .to_owned();
    assert!(cookie::verify_csrf(
        &format!("{token}|{hash}"),
        &token,
        "secret",
        true
    ));
    let session = sign_in(&e, &mut Recording::default());
    let header = format!("{}; authjs.csrf-token={token}%7C{hash}", browser(&session));
    let token: &'static str = token.leak();
    let update = Update {
        is_post: true,
        csrf_token: token,
        data: None,
        csrf_secret: "secret",
    };
    let run = |scratch: usize| {
        let mut b = Bufs::new();
        b.scratch.truncate(scratch);
        e.update(
            &mut Recording::default(),
            header.as_bytes(),
            &update,
            NOW_MS,
            &mut Counter(0),
            b.get(),
        )
        .map(|r| r.status)
    };
    let needed = 100 + 1 + cookie::CSRF_HASH_LEN;
    assert_eq!(run(64 * 1024), Ok(200));
    for small in [cookie::CSRF_COOKIE_VALUE_LEN, 150, needed - 1] {
        assert_eq!(
            run(small),
            Err(SessionError::BufferTooSmall {
                buffer: BufferKind::Scratch,
                needed
            }),
            "with a {small}-byte scratch"
        );
    }
}

/// `csrf` keeps a valid cookie longer than 129 bytes (Auth.js's `split("|")` ignores what
/// follows the hash) or reports the scratch too small for it; before, a scratch of 129 bytes
/// or more but shorter than the value replaced the client's token.
#[test]
fn csrf_keeps_a_long_valid_cookie_or_reports_the_scratch_whatever_its_size() {
    let e = engine(Flavor::AuthJs, false);
    let (mut scratch, mut out) = ([0u8; 256], [0u8; 512]);
    let c = e
        .csrf(b"", "secret", &mut Counter(0), &mut scratch, &mut out)
        .unwrap();
    let token = c.token().to_owned();
    let header = format!(
        "{}%7C{}",
        c.set_cookie.unwrap().split(';').next().unwrap(),
        "x".repeat(40)
    );
    let needed = cookie::CSRF_COOKIE_VALUE_LEN + 41;
    for n in [needed, 1024] {
        let mut scratch = vec![0u8; n];
        let kept = e
            .csrf(
                header.as_bytes(),
                "secret",
                &mut Counter(9),
                &mut scratch,
                &mut out,
            )
            .unwrap();
        assert_eq!((kept.token(), kept.set_cookie), (token.as_str(), None));
    }
    for n in [cookie::CSRF_COOKIE_VALUE_LEN, needed - 1] {
        let mut scratch = vec![0u8; n];
        let err = e
            .csrf(
                header.as_bytes(),
                "secret",
                &mut Counter(9),
                &mut scratch,
                &mut out,
            )
            .unwrap_err();
        assert_eq!(
            err,
            SessionError::BufferTooSmall {
                buffer: BufferKind::Scratch,
                needed
            },
            "with a {n}-byte scratch"
        );
    }
}

/// A request with more chunks than a read takes (unreadable) has them all deleted by the
/// read, by sign-out and by sign-in. Before, none was deleted, sign-out and sign-in failed,
/// and the browser kept sending them.
#[test]
fn too_many_chunks_are_deleted_not_kept() {
    let e = engine(Flavor::AuthJs, false);
    let deletions = |r: &Response<'_>| {
        let mut names: StdVec<StdString> = cookies_of(r)
            .iter()
            .filter(|c| c.contains("=; Max-Age=0"))
            .map(|c| c.split('=').next().unwrap().to_owned())
            .collect();
        names.sort();
        names
    };
    let chunks = |n: usize| {
        let mut names: StdVec<StdString> = (0..n)
            .map(|i| format!("authjs.session-token.{i}"))
            .collect();
        names.sort();
        names
    };
    let header = |n: usize| {
        (0..n)
            .map(|i| format!("authjs.session-token.{i}=x"))
            .collect::<StdVec<_>>()
            .join("; ")
    };
    let nine = header(9);
    let mut cb = Recording::default();
    let mut b = Bufs::new();
    let r = e
        .session(&mut cb, nine.as_bytes(), NOW_MS, &mut Counter(0), b.get())
        .unwrap();
    assert!(!r.authenticated);
    assert!(matches!(
        r.dropped,
        Some(Dropped::Unreadable(CookieError::TooManyChunks { .. }))
    ));
    assert_eq!(deletions(&r), chunks(9));
    let mut b = Bufs::new();
    let r = e.sign_out(nine.as_bytes(), b.get()).unwrap();
    assert_eq!(deletions(&r), chunks(9));
    // Sign-in writes the new session and deletes every old chunk it does not overwrite.
    let mut b = Bufs::new();
    let r = e
        .sign_in(
            &mut cb,
            &ada(),
            nine.as_bytes(),
            NOW_MS,
            &mut Counter(0),
            b.get(),
        )
        .unwrap();
    assert!(r.authenticated);
    assert_eq!(deletions(&r), chunks(9));
    assert!(cookies_of(&r)
        .iter()
        .any(|c| c.starts_with("authjs.session-token=ey")));
    // Beyond MAX_DELETED_CHUNKS, the first ones go now and the rest with the next response.
    let many = header(MAX_DELETED_CHUNKS + 3);
    let mut b = Bufs::new();
    let r = e.sign_out(many.as_bytes(), b.get()).unwrap();
    assert_eq!(deletions(&r).len(), MAX_DELETED_CHUNKS);
}

#[test]
fn sign_out_deletes_every_chunk() {
    let e = engine(Flavor::NextAuthV4, true);
    let mut b = Bufs::new();
    let r = e
        .sign_out(
            b"__Secure-next-auth.session-token.0=a; __Secure-next-auth.session-token.1=b; x=1",
            b.get(),
        )
        .unwrap();
    assert_eq!(
        cookies_of(&r),
        [
            "__Secure-next-auth.session-token.0=; Max-Age=0; Path=/; HttpOnly; Secure; SameSite=Lax",
            "__Secure-next-auth.session-token.1=; Max-Age=0; Path=/; HttpOnly; Secure; SameSite=Lax",
        ]
    );
    assert_eq!(r.body, "{}");
}

#[test]
fn item19_cookie_names() {
    let v5 = Config::new(Flavor::AuthJs, true);
    assert_eq!(v5.session_cookie_name(), "__Secure-authjs.session-token");
    assert_eq!(v5.csrf_cookie_name(), "__Host-authjs.csrf-token");
    let v5 = Config::new(Flavor::AuthJs, false);
    assert_eq!(v5.session_cookie_name(), "authjs.session-token");
    assert_eq!(v5.csrf_cookie_name(), "authjs.csrf-token");
    let v4 = Config::new(Flavor::NextAuthV4, false);
    assert_eq!(v4.session_cookie_name(), "next-auth.session-token");
}

#[test]
fn jwt_max_age_rules_per_flavor() {
    let v5 = Config::new(Flavor::AuthJs, false).with_max_age(3600);
    assert_eq!(
        (v5.sign_in_jwt_max_age(), v5.read_jwt_max_age()),
        (3600, 3600)
    );
    let v5 = v5.with_jwt_max_age(60);
    assert_eq!((v5.sign_in_jwt_max_age(), v5.read_jwt_max_age()), (60, 60));
    let v4 = Config::new(Flavor::NextAuthV4, false).with_max_age(3600);
    assert_eq!(
        (v4.sign_in_jwt_max_age(), v4.read_jwt_max_age()),
        (DEFAULT_MAX_AGE, 3600)
    );
}

#[test]
fn item18_database_update_age() {
    let max_age = DEFAULT_MAX_AGE;
    let now = 1_700_000_000_000;
    let max_ms = i64::from(max_age) * 1000;
    // Last extended 23 h ago: expires = (now - 23h) + 30d -> keep.
    let stored = now - 23 * 3_600_000 + max_ms;
    assert_eq!(
        database_expiry(stored, now, max_age, DEFAULT_UPDATE_AGE),
        DatabaseDecision::Keep
    );
    // 25 h ago -> extend to now + 30 d.
    let stored = now - 25 * 3_600_000 + max_ms;
    assert_eq!(
        database_expiry(stored, now, max_age, DEFAULT_UPDATE_AGE),
        DatabaseDecision::Extend {
            expires_ms: now + max_ms
        }
    );
    // Expired (strictly before now) -> delete; exactly now is still valid.
    assert_eq!(
        database_expiry(now - 1, now, max_age, DEFAULT_UPDATE_AGE),
        DatabaseDecision::Delete
    );
    assert_ne!(
        database_expiry(now, now, max_age, DEFAULT_UPDATE_AGE),
        DatabaseDecision::Delete
    );
    // updateAge 0 writes on every read.
    assert_eq!(
        database_expiry(now + max_ms, now, max_age, 0),
        DatabaseDecision::Extend {
            expires_ms: now + max_ms
        }
    );
}

#[test]
fn small_buffers_are_reported_and_never_end_the_session() {
    let e = engine(Flavor::AuthJs, false);
    let mut cb = Recording::default();
    let set = sign_in(&e, &mut cb);
    let header = browser(&set);
    // (token, scratch, body, cookies) sizes, and the buffer that must be named.
    for (sizes, which) in [
        ((10, 4096, 4096, 4096), BufferKind::Token),
        ((4096, 10, 4096, 4096), BufferKind::Scratch),
        ((4096, 4096, 10, 4096), BufferKind::Body),
        ((4096, 4096, 4096, 10), BufferKind::Cookies),
    ] {
        let (mut t, mut s, mut bo, mut c) = (
            vec![0u8; sizes.0],
            vec![0u8; sizes.1],
            vec![0u8; sizes.2],
            vec![0u8; sizes.3],
        );
        let bufs = Buffers {
            token: &mut t,
            scratch: &mut s,
            body: &mut bo,
            cookies: &mut c,
        };
        match e.session(&mut cb, header.as_bytes(), NOW_MS, &mut Counter(0), bufs) {
            Err(SessionError::BufferTooSmall { buffer, .. }) => {
                assert_eq!(buffer, which, "{sizes:?}")
            }
            other => panic!("{sizes:?}: {other:?}"),
        }
    }
}

/// A `BufferTooSmall` names the buffer that was too small: with every other buffer made
/// huge, the same buffer is still too small. Sign-in and read, on a grid of token and scratch
/// sizes. Before, a scratch too small to re-encode a token was blamed on the token buffer
/// whenever the scratch's `needed` exceeded the token buffer's size.
#[test]
fn buffer_too_small_blames_the_buffer_that_was_too_small() {
    let e = engine(Flavor::AuthJs, false);
    let long: &'static str = "x".repeat(2000).leak();
    let user = SignIn {
        user: User {
            name: Some(long),
            ..ada().user
        },
        ..ada()
    };
    let mut cb = DefaultCallbacks::<2048>;
    let mut b = Bufs::new();
    let r = e
        .sign_in(&mut cb, &user, b"", NOW_MS, &mut Counter(0), b.get())
        .unwrap();
    let header = browser(&cookies_of(&r));
    let run = |read: bool, token: usize, scratch: usize, body: usize, cookies: usize| {
        let mut cb = DefaultCallbacks::<2048>;
        let (mut t, mut s, mut bo, mut c) = (
            vec![0u8; token],
            vec![0u8; scratch],
            vec![0u8; body],
            vec![0u8; cookies],
        );
        let bufs = Buffers {
            token: &mut t,
            scratch: &mut s,
            body: &mut bo,
            cookies: &mut c,
        };
        let got = if read {
            e.session(&mut cb, header.as_bytes(), NOW_MS, &mut Counter(1), bufs)
        } else {
            e.sign_in(&mut cb, &user, b"", NOW_MS, &mut Counter(0), bufs)
        };
        got.map(|_| ()).err()
    };
    const HUGE: usize = 65536;
    let mut blamed = [0usize; 2];
    for read in [false, true] {
        for token in (2000..5000).step_by(250) {
            for scratch in (0..7000).step_by(250) {
                let Some(err) = run(read, token, scratch, HUGE, HUGE) else {
                    continue;
                };
                let SessionError::BufferTooSmall { buffer, needed } = err else {
                    panic!("{read} {token} {scratch}: {err:?}")
                };
                let alone = match buffer {
                    BufferKind::Token => {
                        blamed[0] += 1;
                        assert!(needed > token);
                        run(read, token, HUGE, HUGE, HUGE)
                    }
                    BufferKind::Scratch => {
                        blamed[1] += 1;
                        assert!(needed > scratch);
                        run(read, HUGE, scratch, HUGE, HUGE)
                    }
                    other => panic!("{other:?}"),
                };
                assert!(
                    matches!(alone, Some(SessionError::BufferTooSmall { buffer: b, .. }) if b == buffer),
                    "read {read}, token {token}, scratch {scratch}: {err:?}, alone {alone:?}"
                );
            }
        }
    }
    assert!(blamed[0] > 0 && blamed[1] > 0, "{blamed:?}");
}

mod refresh {
    //! AUTHJS.md §10 item 21 through the pipeline: the token endpoint's answers are fed in as
    //! bytes (the HTTP exchange itself is tested over TCP in `tests/tests/refresh_http.rs`).

    use super::*;
    use crate::refresh::{self, Client, HttpResponse, TransportFailure};

    type Cb = OAuthCallbacks;

    fn engine() -> Engine<JwsCodec<'static>> {
        super::engine(Flavor::AuthJs, false)
    }

    fn client() -> Client<'static> {
        Client::secret_post("app", "s3cret")
    }

    fn config() -> refresh::Config {
        refresh::Config::default()
    }

    /// Signs in with an account whose access token expires at `expires_at`.
    fn signed_in(expires_at: i64, refresh_token: Option<&'static str>) -> StdString {
        let e = engine();
        let account = Account {
            provider: "demo",
            kind: "oauth",
            provider_account_id: "1",
            access_token: Some("a1"),
            refresh_token,
            expires_at: Some(expires_at),
            ..Account::default()
        };
        let s = SignIn {
            account: Some(account),
            ..ada()
        };
        let mut b = Bufs::new();
        let r = e
            .sign_in(
                &mut Cb::default(),
                &s,
                b"",
                NOW_MS,
                &mut Counter(0),
                b.get(),
            )
            .unwrap();
        browser(&cookies_of(&r))
    }

    /// Reads the session token back out of the Set-Cookie headers.
    fn token_of(r: &Response<'_>, at_ms: i64) -> OAuthToken {
        let header = browser(&cookies_of(r));
        let value = header.split_once('=').unwrap().1;
        let mut scratch = [0u8; 8192];
        crate::jws::decode::<OAuthToken>(
            value.as_bytes(),
            &key(),
            &crate::jws::DecodeOptions::new(),
            at_ms / 1000,
            &mut scratch,
        )
        .unwrap()
        .claims
    }

    /// Runs one read; answers each refresh request with the next of `answers`, recording the
    /// request bodies. Returns the response's new cookie header, body and token.
    fn read(
        header: &str,
        at_ms: i64,
        answers: &mut StdVec<Result<(u16, &'static str), TransportFailure>>,
        sent: &mut StdVec<StdString>,
    ) -> (StdString, StdString, OAuthToken) {
        read_with(&config(), header, at_ms, answers, sent)
    }

    /// [`read`] with the refresh machine's configuration given.
    fn read_with(
        config: &refresh::Config,
        header: &str,
        at_ms: i64,
        answers: &mut StdVec<Result<(u16, &'static str), TransportFailure>>,
        sent: &mut StdVec<StdString>,
    ) -> (StdString, StdString, OAuthToken) {
        read_using::<Cb>(config, header, at_ms, answers, sent)
    }

    /// [`read_with`] through callbacks `C` (the token written is read back as an
    /// [`OAuthToken`]).
    fn read_using<C>(
        config: &refresh::Config,
        header: &str,
        at_ms: i64,
        answers: &mut StdVec<Result<(u16, &'static str), TransportFailure>>,
        sent: &mut StdVec<StdString>,
    ) -> (StdString, StdString, OAuthToken)
    where
        C: Callbacks + Default,
        C::Token: RefreshableToken,
    {
        let e = engine();
        let mut cb = C::default();
        let mut b = Bufs::new();
        let mut rng = Counter(1);
        let mut step = e
            .session_with_refresh(
                &mut cb,
                header.as_bytes(),
                at_ms,
                config,
                &client(),
                &mut rng,
                b.get(),
            )
            .unwrap();
        loop {
            match step {
                ReadStep::Done(r) => {
                    let t = token_of(&r, at_ms);
                    return (browser(&cookies_of(&r)), r.body.to_owned(), t);
                }
                ReadStep::Refresh(p) => {
                    let mut buf = [0u8; 512];
                    let req = p.request(&client(), &mut buf).unwrap();
                    sent.push(req.body.to_owned());
                    let outcome = match answers.remove(0) {
                        Ok((status, body)) => RefreshOutcome::Response(HttpResponse {
                            status,
                            retry_after: None,
                            body: body.as_bytes(),
                        }),
                        Err(t) => RefreshOutcome::Transport(t),
                    };
                    step = e
                        .resume(&mut cb, p, outcome, at_ms, &client(), &mut rng)
                        .unwrap();
                }
            }
        }
    }

    #[test]
    fn a_refresh_request_too_large_for_the_scratch_buffer_names_it() {
        // The request is written into `Buffers::scratch` (64 KiB here) when the read pauses:
        // a client secret longer than that does not fit.
        let header = signed_in(NOW_MS / 1000 + 3600, Some("r1"));
        let secret = "s".repeat(70_000);
        let client = Client::secret_post("app", &secret);
        let mut b = Bufs::new();
        let err = engine()
            .session_with_refresh(
                &mut Cb::default(),
                header.as_bytes(),
                NOW_MS + 3601 * 1000,
                &config(),
                &client,
                &mut Counter(1),
                b.get(),
            )
            .map(|_| ())
            .unwrap_err();
        let needed = refresh::request::encoded_len(&client, "r1");
        assert!(needed > 64 * 1024);
        assert_eq!(
            err,
            SessionError::BufferTooSmall {
                buffer: BufferKind::Scratch,
                needed
            }
        );
    }

    #[test]
    fn expired_access_token_is_refreshed_and_old_refresh_token_kept() {
        let header = signed_in(NOW_MS / 1000 + 3600, Some("r1"));
        let at = NOW_MS + 3601 * 1000; // expires_at = now - 1
        let mut answers = vec![Ok((
            200,
            r#"{"access_token":"a2","token_type":"Bearer","expires_in":3600}"#,
        ))];
        let mut sent = StdVec::new();
        let (_, body, t) = read(&header, at, &mut answers, &mut sent);
        assert_eq!(
            sent,
            ["grant_type=refresh_token&refresh_token=r1&client_id=app&client_secret=s3cret"]
        );
        assert_eq!(t.access_token.as_deref(), Some("a2"));
        assert_eq!(t.refresh_token.as_deref(), Some("r1"));
        assert_eq!(t.expires_at, Some(at / 1000 + 3600));
        assert_eq!(t.error, None);
        assert!(!body.contains("error"));
    }

    /// A rotated refresh token survives a response that cannot be written: the token endpoint
    /// answers a longer access token than the cookie buffer holds, `resume` hands the session
    /// back, and `finish` writes it with a larger buffer.
    #[test]
    fn rotated_refresh_token_survives_a_response_that_does_not_fit() {
        let header = signed_in(NOW_MS / 1000 + 3600, Some("r1"));
        let at = NOW_MS + 3601 * 1000;
        let long_access = "a".repeat(1500);
        let answer =
            format!(r#"{{"access_token":"{long_access}","refresh_token":"r2","expires_in":60}}"#);
        let e = engine();
        let mut cb = Cb::default();
        let (mut t, mut s, mut bo, mut c) = (
            vec![0u8; 8192],
            vec![0u8; 8192],
            vec![0u8; 4096],
            // Too small for the cookie of the session with the new, longer access token.
            vec![0u8; 1024],
        );
        let bufs = Buffers {
            token: &mut t,
            scratch: &mut s,
            body: &mut bo,
            cookies: &mut c,
        };
        let ReadStep::Refresh(p) = e
            .session_with_refresh(
                &mut cb,
                header.as_bytes(),
                at,
                &config(),
                &client(),
                &mut Counter(1),
                bufs,
            )
            .unwrap()
        else {
            panic!("a refresh is due");
        };
        let outcome = RefreshOutcome::Response(HttpResponse {
            status: 200,
            retry_after: None,
            body: answer.as_bytes(),
        });
        let err = e
            .resume(&mut cb, p, outcome, at, &client(), &mut Counter(2))
            .unwrap_err();
        assert!(
            matches!(
                err.error,
                SessionError::BufferTooSmall {
                    buffer: BufferKind::Cookies,
                    ..
                }
            ),
            "{err:?}"
        );
        let shown = format!("{err:?} {err}");
        assert!(!shown.contains("r2") && !shown.contains("aaaa"), "{shown}");
        let unfinished = err.unfinished.expect("the session is handed back");
        assert_eq!(unfinished.token().refresh_token.as_deref(), Some("r2"));

        // Still too small: handed back again.
        let mut small = Bufs::new();
        small.cookies.truncate(1024);
        let err = e
            .finish(&mut cb, unfinished, at, &mut Counter(3), small.get())
            .unwrap_err();
        let unfinished = err.unfinished.expect("handed back again");

        let mut b = Bufs::new();
        let r = e
            .finish(&mut cb, unfinished, at, &mut Counter(4), b.get())
            .unwrap();
        assert!(r.authenticated && r.dropped.is_none());
        let t = token_of(&r, at);
        assert_eq!(t.refresh_token.as_deref(), Some("r2"));
        assert_eq!(t.access_token.as_deref(), Some(long_access.as_str()));
        assert_eq!(t.error, None);
    }

    /// A new access token that arrives already expired (lifetime 0, which the configuration
    /// allows) is still stored with the rotated refresh token: before, the session kept the
    /// spent `r1` and the next refresh failed for good.
    #[test]
    fn rotated_refresh_token_is_stored_when_the_new_access_token_has_no_lifetime() {
        let at = NOW_MS + 3601 * 1000;
        for (config, answer) in [
            (
                config().min_expires_in(0),
                r#"{"access_token":"a2","refresh_token":"r2","expires_in":0}"#,
            ),
            (
                config().default_expires_in(0),
                r#"{"access_token":"a2","refresh_token":"r2"}"#,
            ),
        ] {
            let header = signed_in(NOW_MS / 1000 + 3600, Some("r1"));
            let mut answers = vec![Ok((200, answer))];
            let (_, _, t) = read_with(&config, &header, at, &mut answers, &mut StdVec::new());
            assert_eq!(t.refresh_token.as_deref(), Some("r2"), "{answer}");
            assert_eq!(t.access_token.as_deref(), Some("a2"), "{answer}");
            assert_eq!(t.expires_at, Some(at / 1000), "{answer}");
            assert_eq!(t.error, None, "{answer}");
        }
    }

    #[test]
    fn rotated_refresh_token_is_stored() {
        let header = signed_in(NOW_MS / 1000 + 3600, Some("r1"));
        let at = NOW_MS + 3601 * 1000;
        let mut answers = vec![Ok((
            200,
            r#"{"access_token":"a2","refresh_token":"r2","expires_in":60}"#,
        ))];
        let (header2, _, t) = read(&header, at, &mut answers, &mut StdVec::new());
        assert_eq!(t.refresh_token.as_deref(), Some("r2"));
        // The next refresh sends r2.
        let mut answers = vec![Ok((200, r#"{"access_token":"a3","expires_in":60}"#))];
        let mut sent = StdVec::new();
        let (_, _, t) = read(&header2, at + 61_000, &mut answers, &mut sent);
        assert!(sent[0].contains("refresh_token=r2"));
        assert_eq!(t.access_token.as_deref(), Some("a3"));
    }

    #[test]
    fn fresh_token_sends_nothing_and_missing_refresh_token_is_never_handed_out_expired() {
        let header = signed_in(NOW_MS / 1000 + 3600, Some("r1"));
        let mut sent = StdVec::new();
        let (_, _, t) = read(&header, NOW_MS + 1000, &mut StdVec::new(), &mut sent);
        assert!(sent.is_empty());
        assert_eq!(t.access_token(NOW_MS / 1000 + 1), Some("a1"));
        // Inside the advisory window (60 s) the refresh starts before expiry.
        let mut answers = vec![Ok((200, r#"{"access_token":"a2","expires_in":3600}"#))];
        let (_, _, t) = read(&header, NOW_MS + 3550 * 1000, &mut answers, &mut sent);
        assert_eq!(sent.len(), 1);
        assert_eq!(t.access_token.as_deref(), Some("a2"));

        let header = signed_in(NOW_MS / 1000 + 10, None);
        let at = NOW_MS + 20_000;
        let (_, _, t) = read(&header, at, &mut StdVec::new(), &mut sent);
        assert_eq!(sent.len(), 1, "no refresh token: no request");
        assert_eq!(
            t.access_token(at / 1000),
            None,
            "expired access token not handed out"
        );
    }

    /// AUTHJS.md §7 steps 3-4 / §10 item 21: an expired access token with no refresh token is
    /// the guide's error path, as the standalone refresh machine's terminal `NoRefreshToken`
    /// (tests/tests/refresh_machine.rs `missing_refresh_token_is_terminal`). Before, the read
    /// kept a silently dead session: no `error`, nothing recorded. Now `error` is set and
    /// recorded as terminal, through the `RefreshableToken` trait (so for a custom token
    /// too), and nothing is sent. Inside the advisory margin, before expiry, the access token
    /// is still usable and nothing is recorded: the guide acts only once it has expired.
    #[test]
    fn an_expired_access_token_without_a_refresh_token_takes_the_error_path() {
        let exp = NOW_MS / 1000 + 3600;
        let header = signed_in(exp, None);
        let mut sent = StdVec::new();
        for at in [(exp - 50) * 1000, exp * 1000 - 1] {
            let (_, body, t) = read(&header, at, &mut StdVec::new(), &mut sent);
            assert_eq!(t.access_token(at / 1000), Some("a1"), "at {at}");
            assert_eq!((t.error, t.refresh_terminal), (None, None), "at {at}");
            assert!(!body.contains("error"), "{body}");
        }
        for at in [exp * 1000, exp * 1000 + 3_600_000] {
            let (later, body, t) = read(&header, at, &mut StdVec::new(), &mut sent);
            assert_eq!(t.access_token(at / 1000), None);
            assert_eq!(t.error.as_deref(), Some("RefreshTokenError"), "at {at}");
            assert_eq!(t.refresh_terminal, Some(true));
            assert_eq!(
                t.access_token.as_deref(),
                Some("a1"),
                "the credential is kept"
            );
            assert!(body.contains(r#""error":"RefreshTokenError""#), "{body}");
            // The session stays, with the error, on later reads.
            let (_, body, t) = read(&later, at + 60_000, &mut StdVec::new(), &mut sent);
            assert_eq!(t.error.as_deref(), Some("RefreshTokenError"));
            assert_eq!(t.refresh_terminal, Some(true));
            assert!(body.contains(r#""error":"RefreshTokenError""#), "{body}");
            // A token type of the caller's own, through the trait's methods.
            let (_, _, t) =
                read_using::<Small<Wrapped>>(&config(), &header, at, &mut StdVec::new(), &mut sent);
            assert_eq!(t.error.as_deref(), Some("RefreshTokenError"));
            assert_eq!(t.refresh_terminal, Some(true));
        }
        assert!(
            sent.is_empty(),
            "nothing can be sent without a refresh token"
        );
    }

    /// AUTHJS.md §7 step 1: at sign-in the guide requires `account.access_token` and
    /// `account.expires_at` and throws otherwise (the sign-in fails). `OAuthCallbacks` signed
    /// the user in and silently dropped the whole credential, including the refresh token the
    /// provider issued (RFC 6749 §5.1 makes `expires_in` only RECOMMENDED). Now an incomplete
    /// credential fails the sign-in with an error that names what is missing, and an account
    /// without tokens (credentials, e-mail) still signs in.
    /// A non-expiring access token (no `expires_at`, no refresh token) goes through session
    /// reads a month apart unchanged: nothing is sent, no error is recorded, the token is
    /// still handed out.
    #[test]
    fn a_non_expiring_access_token_is_kept_across_reads() {
        let s = SignIn {
            account: Some(Account {
                provider: "github",
                kind: "oauth",
                provider_account_id: "1",
                access_token: Some("gho_1"),
                ..Account::default()
            }),
            ..ada()
        };
        let mut b = Bufs::new();
        let r = engine()
            .sign_in(
                &mut Cb::default(),
                &s,
                b"",
                NOW_MS,
                &mut Counter(0),
                b.get(),
            )
            .unwrap();
        let mut header = browser(&cookies_of(&r));
        let mut sent = StdVec::new();
        let mut at = NOW_MS;
        for _ in 0..3 {
            at += 20 * 86_400_000;
            let (h, body, t) = read(&header, at, &mut StdVec::new(), &mut sent);
            assert_eq!(t.error, None, "{body}");
            assert_eq!(t.refresh_terminal, None);
            assert_eq!(t.access_token(at / 1000), Some("gho_1"));
            header = h;
        }
        assert!(sent.is_empty());
    }

    #[test]
    fn sign_in_with_tokens_but_no_expires_at_fails() {
        let exp = Some(NOW_MS / 1000 + 3600);
        let account = |access_token, refresh_token, expires_at, kind| Account {
            provider: "demo",
            kind,
            provider_account_id: "1",
            access_token,
            refresh_token,
            expires_at,
            ..Account::default()
        };
        let sign_in_with = |account: Account<'static>| {
            let s = SignIn {
                account: Some(account),
                ..ada()
            };
            let mut b = Bufs::new();
            engine()
                .sign_in(
                    &mut Cb::default(),
                    &s,
                    b"",
                    NOW_MS,
                    &mut Counter(0),
                    b.get(),
                )
                .map(|r| token_of(&r, NOW_MS))
        };
        for (a, error) in [
            (
                account(Some("a1"), Some("r1"), None, "oauth"),
                MISSING_EXPIRES_AT,
            ),
            (
                account(None, Some("r1"), exp, "oauth"),
                MISSING_ACCESS_TOKEN,
            ),
            (
                account(None, Some("r1"), None, "oauth"),
                MISSING_ACCESS_TOKEN,
            ),
        ] {
            assert_eq!(
                sign_in_with(a).map(|_| ()),
                Err(SessionError::Callback(error)),
                "{a:?}"
            );
            assert_eq!(
                OAuthToken::<256>::from_sign_in(&ada().user, Some(&a)).map(|_| ()),
                Err(error),
                "{a:?}"
            );
        }
        assert_ne!(MISSING_EXPIRES_AT.reason, MISSING_ACCESS_TOKEN.reason);
        // No tokens (an `expires_at` alone carries nothing): signed in without a credential.
        for a in [
            account(None, None, None, "credentials"),
            account(None, None, exp, "oauth"),
        ] {
            let t = sign_in_with(a).unwrap();
            assert_eq!(
                (t.access_token, t.refresh_token, t.expires_at),
                (None, None, None)
            );
            assert_eq!(t.sub.as_deref(), ada().user.id);
        }
        // An access token with neither expiry nor refresh token (GitHub OAuth apps) is kept
        // as one that does not expire: handed out at any time, never refreshed.
        let github = account(Some("gho_1"), None, None, "oauth");
        let t = sign_in_with(github).unwrap();
        assert_eq!(
            (
                t.access_token.as_deref(),
                t.refresh_token.as_deref(),
                t.expires_at
            ),
            (Some("gho_1"), None, None)
        );
        assert_eq!(t.access_token(i64::MAX), Some("gho_1"));
        let t = OAuthToken::<256>::from_sign_in(&ada().user, Some(&github)).unwrap();
        assert_eq!(t.access_token(NOW_MS / 1000), Some("gho_1"));
        // A complete credential is kept, with or without a refresh token.
        let t = sign_in_with(account(Some("a1"), Some("r1"), exp, "oauth")).unwrap();
        assert_eq!(
            (
                t.access_token.as_deref(),
                t.refresh_token.as_deref(),
                t.expires_at
            ),
            (Some("a1"), Some("r1"), exp)
        );
        let t = sign_in_with(account(Some("a1"), None, exp, "oauth")).unwrap();
        assert_eq!(
            (t.access_token.as_deref(), t.refresh_token.as_deref()),
            (Some("a1"), None)
        );
    }

    #[test]
    fn terminal_failure_sets_error_keeps_fields_and_stops() {
        let header = signed_in(NOW_MS / 1000 + 3600, Some("r1"));
        let at = NOW_MS + 3601 * 1000;
        let mut answers = vec![Ok((400, r#"{"error":"invalid_grant"}"#))];
        let mut sent = StdVec::new();
        let (header2, body, t) = read(&header, at, &mut answers, &mut sent);
        assert_eq!(t.error.as_deref(), Some("RefreshTokenError"));
        assert_eq!(t.refresh_token.as_deref(), Some("r1"));
        assert_eq!(t.access_token.as_deref(), Some("a1"));
        assert!(body.contains(r#""error":"RefreshTokenError""#), "{body}");
        // Later reads do not hammer the endpoint with a dead refresh token.
        let (_, _, _) = read(&header2, at + 5_000, &mut StdVec::new(), &mut sent);
        let (_, _, _) = read(&header2, at + 3_600_000, &mut StdVec::new(), &mut sent);
        assert_eq!(sent.len(), 1);
    }

    /// An `OAuthToken` whose access tokens hold 64 bytes: less than the refresh machine's.
    type SmallToken = OAuthToken<256, 64, 512>;

    /// [`SmallToken`] without its own `set_refresh_token`: the trait's default runs.
    #[derive(serde::Serialize, serde::Deserialize)]
    #[serde(transparent)]
    struct Wrapped(SmallToken);

    impl RefreshableToken for Wrapped {
        fn credential(&self) -> Option<OAuthFields<'_>> {
            self.0.credential()
        }
        fn refresh_state(&self) -> RefreshState {
            self.0.refresh_state()
        }
        fn set_credential(&mut self, fields: OAuthFields<'_>) -> Result<(), CallbackError> {
            self.0.set_credential(fields)
        }
        fn set_failure(&mut self, error: &'static str, state: RefreshState) {
            self.0.set_failure(error, state);
        }
        fn set_refresh_state(&mut self, state: RefreshState) {
            self.0.set_refresh_state(state);
        }
    }

    /// Callbacks over a token type `T` that wraps or is a [`SmallToken`].
    struct Small<T>(core::marker::PhantomData<T>);

    impl<T> Default for Small<T> {
        fn default() -> Self {
            Self(core::marker::PhantomData)
        }
    }

    impl<T> Callbacks for Small<T>
    where
        T: serde::Serialize + serde::de::DeserializeOwned + RefreshableToken,
    {
        type Token = T;
        type Session<'a>
            = &'a str
        where
            T: 'a;
        fn initial_token(&mut self, _: &User<'_>) -> Result<T, CallbackError> {
            Err(CallbackError { reason: "unused" })
        }
        fn session<'a>(&'a mut self, _: &'a T, expires: &'a str) -> Result<&'a str, CallbackError> {
            Ok(expires)
        }
    }

    /// A read whose refresh answer rotates r1 to r2 with a 100-byte access token: more than
    /// the token holds (64), less than the machine (2048). The stored refresh token.
    fn rotate_into_small<T>() -> Option<StdString>
    where
        T: serde::Serialize + serde::de::DeserializeOwned + RefreshableToken,
    {
        let header = signed_in(NOW_MS / 1000 + 3600, Some("r1"));
        let at = NOW_MS + 3601 * 1000;
        let answer: &'static str = format!(
            r#"{{"access_token":"{}","refresh_token":"r2","expires_in":3600}}"#,
            "A".repeat(100)
        )
        .leak();
        let mut sent = StdVec::new();
        let (_, _, t) = read_using::<Small<T>>(
            &config(),
            &header,
            at,
            &mut vec![Ok((200, answer))],
            &mut sent,
        );
        assert_eq!(sent.len(), 1);
        assert_eq!(t.error.as_deref(), Some("RefreshTokenError"));
        assert_eq!(t.access_token.as_deref(), Some("a1"));
        t.refresh_token.map(|s| s.as_str().to_owned())
    }

    #[test]
    fn a_rotated_refresh_token_is_kept_when_the_new_access_token_does_not_fit_the_token() {
        assert_eq!(rotate_into_small::<SmallToken>().as_deref(), Some("r2"));
        assert_eq!(rotate_into_small::<Wrapped>().as_deref(), Some("r2"));
    }

    #[test]
    fn a_rotated_refresh_token_is_kept_when_the_new_access_token_is_too_large() {
        let header = signed_in(NOW_MS / 1000 + 3600, Some("r1"));
        let at = NOW_MS + 3601 * 1000;
        let huge = "x".repeat(ACCESS_TOKEN_CAPACITY + 1);
        let body: &'static str =
            format!(r#"{{"access_token":"{huge}","refresh_token":"r2","expires_in":3600}}"#).leak();
        let mut sent = StdVec::new();
        let (header2, body, t) = read(&header, at, &mut vec![Ok((200, body))], &mut sent);
        // The session ends in an error (the access token cannot be stored), but the token
        // holds r2, not the r1 the endpoint has spent.
        assert_eq!(t.error.as_deref(), Some("RefreshTokenError"));
        assert_eq!(t.refresh_token.as_deref(), Some("r2"));
        assert_eq!(t.access_token.as_deref(), Some("a1"));
        assert!(body.contains(r#""error":"RefreshTokenError""#), "{body}");
        // Terminal: no further requests.
        read(&header2, at + 3_600_000, &mut StdVec::new(), &mut sent);
        assert_eq!(sent.len(), 1);
    }

    #[test]
    fn transient_failure_backs_off_and_a_later_success_clears_the_error() {
        let header = signed_in(NOW_MS / 1000 + 3600, Some("r1"));
        let at = NOW_MS + 3601 * 1000;
        let mut answers = vec![Ok((503, ""))];
        let mut sent = StdVec::new();
        let (header2, _, t) = read(&header, at, &mut answers, &mut sent);
        assert_eq!(t.error.as_deref(), Some("RefreshTokenError"));
        let retry_at = t.refresh_retry_at.unwrap();
        assert!(retry_at > at / 1000);
        // Before the back-off ends: no request.
        read(&header2, at + 1_000, &mut StdVec::new(), &mut sent);
        assert_eq!(sent.len(), 1);
        // After it: the retry succeeds and the error is gone (Auth.js #7025 keeps it).
        let mut answers = vec![Ok((200, r#"{"access_token":"a2","expires_in":3600}"#))];
        let (_, body, t) = read(&header2, retry_at * 1000, &mut answers, &mut sent);
        assert_eq!(sent.len(), 2);
        assert_eq!(t.error, None);
        assert_eq!(t.refresh_failures, None);
        // What is kept now is the schedule of the new token: due in its advisory window (60 s
        // before expiry, up to 30 s of jitter earlier).
        let next = t.refresh_retry_at.unwrap() - retry_at;
        assert!((3600 - 90..=3600 - 60).contains(&next), "{next}");
        assert!(!body.contains("error"));
    }

    #[test]
    fn a_short_lived_access_token_is_refreshed_at_half_its_lifetime_not_on_every_read() {
        // A provider whose access tokens live 30 s, less than the 60 s advisory margin: the
        // margin is capped at half the lifetime, as in a long-lived refresh machine.
        let header = signed_in(NOW_MS / 1000 + 3600, Some("r1"));
        let at = NOW_MS + 3601 * 1000;
        let answer = r#"{"access_token":"a2","refresh_token":"r2","expires_in":30}"#;
        let mut sent = StdVec::new();
        let (header2, _, t) = read(&header, at, &mut vec![Ok((200, answer))], &mut sent);
        assert_eq!(t.expires_at, Some(at / 1000 + 30));
        assert_eq!(t.refresh_retry_at, Some(at / 1000 + 15));
        assert_eq!(t.error, None);
        // One and fourteen seconds later (29 and 16 s left): nothing is sent.
        for later_ms in [1_000, 14_000] {
            let (_, _, t) = read(&header2, at + later_ms, &mut StdVec::new(), &mut sent);
            assert_eq!(
                sent.len(),
                1,
                "refreshed again {later_ms} ms after a refresh"
            );
            assert_eq!(t.access_token.as_deref(), Some("a2"));
        }
        // At half the lifetime: refreshed with the rotated token.
        let answer = r#"{"access_token":"a3","refresh_token":"r3","expires_in":30}"#;
        let (_, _, t) = read(
            &header2,
            at + 15_000,
            &mut vec![Ok((200, answer))],
            &mut sent,
        );
        assert_eq!(sent.len(), 2);
        assert!(sent[1].contains("refresh_token=r2"), "{}", sent[1]);
        assert_eq!(t.refresh_token.as_deref(), Some("r3"));
    }

    #[test]
    fn a_short_lived_access_token_from_sign_in_is_refreshed_at_half_its_lifetime() {
        // Signed in with an access token that lives 30 s (the account's `expires_at`): not due
        // on the reads of the next 14 s, although all of its life is inside the 60 s margin.
        let header = signed_in(NOW_MS / 1000 + 30, Some("r1"));
        let mut sent = StdVec::new();
        for later_ms in [1_000, 14_000] {
            let (_, _, t) = read(&header, NOW_MS + later_ms, &mut StdVec::new(), &mut sent);
            assert_eq!(sent.len(), 0, "refreshed {later_ms} ms after sign-in");
            assert_eq!(t.access_token.as_deref(), Some("a1"));
        }
        let answer = r#"{"access_token":"a2","refresh_token":"r2","expires_in":30}"#;
        let (_, _, t) = read(
            &header,
            NOW_MS + 15_000,
            &mut vec![Ok((200, answer))],
            &mut sent,
        );
        assert_eq!(sent.len(), 1);
        assert_eq!(t.access_token.as_deref(), Some("a2"));
        // A long-lived one is still refreshed in its advisory window, not at half its life.
        let header = signed_in(NOW_MS / 1000 + 3600, Some("r1"));
        read(&header, NOW_MS + 1_800_000, &mut StdVec::new(), &mut sent);
        assert_eq!(sent.len(), 1);
        let answer = r#"{"access_token":"a2","expires_in":3600}"#;
        read(
            &header,
            NOW_MS + 3_540_000,
            &mut vec![Ok((200, answer))],
            &mut sent,
        );
        assert_eq!(sent.len(), 2);
    }

    #[test]
    fn the_minimum_interval_and_the_stale_back_off_hold_across_reads() {
        // Tokens that live 4 s expire before the 10 s minimum interval ends: each such answer
        // is stale, and the stale back-off (30 s) doubles from one read to the next.
        let header = signed_in(NOW_MS / 1000 + 3600, Some("r1"));
        let mut at = NOW_MS + 3601 * 1000;
        let answer = r#"{"access_token":"a2","expires_in":4}"#;
        let mut header = header;
        let mut sent = StdVec::new();
        let mut waits = StdVec::new();
        for _ in 0..3 {
            let (h, _, t) = read(&header, at, &mut vec![Ok((200, answer))], &mut sent);
            let not_before = t.refresh_retry_at.unwrap();
            // Nothing is sent a second before the wait ends.
            read(&h, (not_before - 1) * 1000, &mut StdVec::new(), &mut sent);
            waits.push(not_before - at.div_euclid(1000));
            header = h;
            at = not_before * 1000;
        }
        assert_eq!(sent.len(), 3);
        assert_eq!(waits, [30, 60, 120]);
    }

    #[test]
    fn tokens_that_outlive_the_minimum_interval_are_refreshed_when_it_ends() {
        // 15 s tokens are due again (half their lifetime) before the 10 s interval ends, but
        // the provider helps: every read after the interval refreshes, with no back-off.
        let mut header = signed_in(NOW_MS / 1000 + 3600, Some("r1"));
        let mut at = NOW_MS + 3601 * 1000;
        let answer = r#"{"access_token":"a2","expires_in":15}"#;
        let mut sent = StdVec::new();
        for _ in 0..3 {
            let (h, _, t) = read(&header, at, &mut vec![Ok((200, answer))], &mut sent);
            assert_eq!(t.refresh_stale, None);
            assert_eq!(t.refresh_retry_at, Some(at.div_euclid(1000) + 10));
            header = h;
            at += 10_000;
        }
        assert_eq!(sent.len(), 3);
    }

    #[test]
    fn the_back_off_grows_across_reads_and_a_success_resets_it() {
        let mut header = signed_in(NOW_MS / 1000 + 3600, Some("r1"));
        let mut at = NOW_MS + 3601 * 1000;
        let mut sent = StdVec::new();
        let mut delays = StdVec::new();
        for failures in 1..=4 {
            let (h, _, t) = read(&header, at, &mut vec![Ok((503, ""))], &mut sent);
            assert_eq!(t.refresh_failures, Some(failures));
            assert_eq!(t.refresh_terminal, None);
            let retry_at = t.refresh_retry_at.unwrap();
            delays.push(retry_at - at / 1000);
            header = h;
            at = retry_at * 1000;
        }
        assert_eq!(sent.len(), 4);
        // 5, 10, 20, 40 s, each less at most a quarter of jitter.
        for (delay, base) in delays.iter().zip([5, 10, 20, 40]) {
            assert!(*delay <= base && *delay >= base - base / 4, "{delays:?}");
        }
        let answer = r#"{"access_token":"a2","expires_in":3600}"#;
        let (h, _, t) = read(&header, at, &mut vec![Ok((200, answer))], &mut sent);
        assert_eq!((t.error, t.refresh_failures), (None, None));
        // The next failure starts from the first delay again (due in the advisory window: the
        // schedule's jitter only brings the stored time earlier).
        assert!(t.refresh_retry_at.unwrap() <= t.expires_at.unwrap() - 60);
        let due = (t.expires_at.unwrap() - 60) * 1000;
        let (_, _, t) = read(&h, due, &mut vec![Ok((503, ""))], &mut sent);
        assert_eq!(t.refresh_failures, Some(1));
        assert!(t.refresh_retry_at.unwrap() - due / 1000 <= 5);
    }

    /// Writes `token` as the session cookie of a request, as of `NOW_MS`.
    fn cookie_with(token: &OAuthToken) -> StdString {
        let stamp = Stamp::new(NOW_MS / 1000, 3600, &mut Counter(3)).unwrap();
        let (mut scratch, mut out) = (vec![0u8; 8192], vec![0u8; 8192]);
        let value = engine()
            .codec()
            .encode(token, &stamp, &mut Counter(4), &mut scratch, &mut out)
            .unwrap();
        format!("authjs.session-token={value}")
    }

    #[test]
    fn a_token_with_the_guides_error_is_refreshed_and_a_terminal_one_is_not() {
        // Auth.js's refresh guide writes `error` after any failure, transient or not, and
        // tries again on the next read: so does authcore when nothing says it was terminal.
        let guide = OAuthToken::<256> {
            sub: Some("user-1".try_into().unwrap()),
            access_token: Some("a1".try_into().unwrap()),
            refresh_token: Some("r1".try_into().unwrap()),
            expires_at: Some(NOW_MS / 1000 - 10),
            error: Some("RefreshTokenError".try_into().unwrap()),
            ..OAuthToken::default()
        };
        let answer = r#"{"access_token":"a2","expires_in":3600}"#;
        let mut sent = StdVec::new();
        let (_, body, t) = read(
            &cookie_with(&guide),
            NOW_MS,
            &mut vec![Ok((200, answer))],
            &mut sent,
        );
        assert_eq!(sent.len(), 1);
        assert_eq!((t.access_token.as_deref(), t.error), (Some("a2"), None));
        assert!(!body.contains("error"), "{body}");
        // One that authcore marked terminal is not.
        let terminal = OAuthToken::<256> {
            refresh_terminal: Some(true),
            ..guide
        };
        let (_, body, t) = read(
            &cookie_with(&terminal),
            NOW_MS,
            &mut StdVec::new(),
            &mut sent,
        );
        assert_eq!(sent.len(), 1);
        assert_eq!(t.error.as_deref(), Some("RefreshTokenError"));
        assert!(body.contains(r#""error":"RefreshTokenError""#), "{body}");
    }

    #[test]
    fn no_response_is_resent_once_with_the_same_refresh_token() {
        let header = signed_in(NOW_MS / 1000 + 3600, Some("r1"));
        let at = NOW_MS + 3601 * 1000;
        let mut answers = vec![
            Err(TransportFailure::NoResponse),
            Ok((
                200,
                r#"{"access_token":"a2","refresh_token":"r2","expires_in":3600}"#,
            )),
        ];
        let mut sent = StdVec::new();
        let (_, _, t) = read(&header, at, &mut answers, &mut sent);
        assert_eq!(sent.len(), 2);
        assert_eq!(sent[0], sent[1]);
        assert_eq!(t.refresh_token.as_deref(), Some("r2"));
        // Twice without a response: terminal, no third send.
        let mut answers = vec![
            Err(TransportFailure::NoResponse),
            Err(TransportFailure::NoResponse),
        ];
        let mut sent = StdVec::new();
        let (_, _, t) = read(&header, at, &mut answers, &mut sent);
        assert_eq!(sent.len(), 2);
        assert_eq!(t.error.as_deref(), Some("RefreshTokenError"));
        assert_eq!(t.refresh_retry_at, None);
        assert_eq!(t.refresh_terminal, Some(true));
    }
}

#[test]
fn debug_never_shows_tokens_cookies_or_the_csrf_secret() {
    let e = engine(Flavor::AuthJs, false);
    let mut cb = Recording::default();
    let set = sign_in(&e, &mut cb);
    let token = set[0]
        .split(';')
        .next()
        .unwrap()
        .split_once('=')
        .unwrap()
        .1
        .to_owned();
    let header = browser(&set);
    let mut b = Bufs::new();
    let r = e
        .session(&mut cb, header.as_bytes(), NOW_MS, &mut Counter(1), b.get())
        .unwrap();
    let new_token = cookies_of(&r)[0].split(';').next().unwrap().to_owned();
    let shown = format!("{r:?}");
    assert!(r.body.contains("Ada") && !shown.contains("Ada"), "{shown}");
    assert!(!shown.contains(&token) && !shown.contains(&new_token[30..60]));
    assert!(shown.contains("set_cookie_count: 1"), "{shown}");
    drop(r);
    // The buffers hold the cookie value, the session JSON and the Set-Cookie headers after
    // the read; their Debug shows sizes only (not as text, not as bytes).
    let shown = format!("{:?}", b.get());
    assert!(shown.contains("token_len"), "{shown}");
    for secret in [&token[..20], "ada@example.com", &new_token[30..50]] {
        assert!(!crate::debug_shows(&shown, secret), "{shown}");
    }

    let update = Update {
        is_post: true,
        csrf_token: "csrf-token-value",
        data: Some(b"{}"),
        csrf_secret: "auth-secret-value",
    };
    let shown = format!("{update:?}");
    assert!(!shown.contains("csrf-token-value") && !shown.contains("auth-secret-value"));

    let (mut scratch, mut out) = ([0u8; 256], [0u8; 256]);
    let csrf = e
        .csrf(b"", "secret", &mut Counter(0), &mut scratch, &mut out)
        .unwrap();
    let shown = format!("{csrf:?}");
    let cookie = csrf.set_cookie.unwrap();
    assert!(
        !shown.contains(csrf.token()) && !shown.contains(cookie),
        "{shown}"
    );
}

/// "A new refresh token replaces the old one and an absent one keeps it" (module
/// docs of `session::refresh`, AUTHJS.md §7 step 3 `refresh_token: new ?? old`): storing a
/// credential without a refresh token keeps the token's own.
#[test]
fn oauth_token_set_credential_without_a_refresh_token_keeps_the_old_one() {
    let mut token = OAuthToken::<64, 64, 64>::default();
    token
        .set_credential(OAuthFields {
            access_token: "a1",
            refresh_token: Some("r1"),
            expires_at: 100,
        })
        .unwrap();
    token
        .set_credential(OAuthFields {
            access_token: "a2",
            refresh_token: None,
            expires_at: 200,
        })
        .unwrap();
    assert_eq!(token.access_token.as_deref(), Some("a2"));
    assert_eq!(
        token.refresh_token.as_deref(),
        Some("r1"),
        "refresh token lost"
    );
}
