//! Tests of the cookie module: AUTHJS.md §10 items 5, 10, 11, 12 and 19 literally, the
//! `cookie` package's parsing rules, and property loops with a deterministic PRNG.

use std::format;
use std::string::{String, ToString};
use std::vec;
use std::vec::Vec;

use super::*;

const V5: &str = "authjs.session-token";
const V5_SECURE: &str = "__Secure-authjs.session-token";
const EXPIRES: i64 = 784_111_777; // Sun, 06 Nov 1994 08:49:37 GMT

/// Deterministic xorshift64* generator.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % u64::try_from(n).unwrap()).unwrap()
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }
}

/// All headers of a writer, using `write_next` with an exactly sized buffer each time.
fn write_all<const N: usize>(mut writer: SessionCookieWriter<'_, N>) -> Vec<String> {
    let mut headers = Vec::new();
    let expected = writer.remaining();
    let max = writer.max_len().unwrap();
    while let Some(len) = writer.next_len().unwrap() {
        assert!(len <= max);
        let mut buf = vec![0; len];
        let text = writer.write_next(&mut buf).unwrap().unwrap();
        headers.push(text.to_string());
    }
    assert_eq!(writer.write_next(&mut [0; 8]), Ok(None));
    assert_eq!(headers.len(), expected);
    headers
}

fn ascii_value(len: usize, seed: u64) -> String {
    // JWE alphabet (base64url and '.').
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.";
    let mut rng = Rng(seed | 1);
    (0..len).map(|_| char::from(*rng.pick(alphabet))).collect()
}

/// The `name=value` part of a Set-Cookie header, as a browser would send it back.
fn cookie_pair(set_cookie: &str) -> &str {
    set_cookie.split("; ").next().unwrap()
}

fn names_of(plan: impl Iterator<Item = PlannedCookie<'static>>) -> Vec<String> {
    plan.map(|p| {
        let name = match p.chunk {
            ChunkName::Base => "base".to_string(),
            ChunkName::Index(i) => format!(".{i}"),
        };
        match p.action {
            CookieAction::Set(_) => format!("set {name}"),
            CookieAction::Delete => format!("delete {name}"),
        }
    })
    .collect()
}

// ---------------------------------------------------------------------------------------
// AUTHJS.md §10 item 10: chunk thresholds.

#[test]
fn item_10_chunk_thresholds_v5() {
    let value = ascii_value(3936, 1);
    let options = CookieOptions::new(false);
    let headers = write_all(
        SessionCookieWriter::<MAX_CHUNKS>::new(V5, &value, CHUNK_SIZE_V5, &[], &options, None)
            .unwrap(),
    );
    assert_eq!(headers.len(), 1);
    assert_eq!(cookie_pair(&headers[0]), format!("{V5}={value}"));

    let value = ascii_value(3937, 2);
    let headers = write_all(
        SessionCookieWriter::<MAX_CHUNKS>::new(V5, &value, CHUNK_SIZE_V5, &[], &options, None)
            .unwrap(),
    );
    assert_eq!(headers.len(), 2);
    assert_eq!(
        cookie_pair(&headers[0]),
        format!("{V5}.0={}", &value[..3936])
    );
    assert_eq!(
        cookie_pair(&headers[1]),
        format!("{V5}.1={}", &value[3936..])
    );
    assert_eq!(value[3936..].len(), 1);
}

#[test]
fn item_10_chunk_thresholds_v4() {
    let base = session_cookie_name(Flavor::NextAuthV4, false);
    assert_eq!(Flavor::NextAuthV4.chunk_size(), 3933);
    assert_eq!(Flavor::AuthJs.chunk_size(), 3936);
    let options = CookieOptions::new(false);
    let value = ascii_value(3933, 3);
    let plan = SessionCookiePlan::<MAX_CHUNKS>::new(&value, CHUNK_SIZE_V4, &[]).unwrap();
    assert_eq!(plan.chunk_count(), 1);
    let headers = write_all(
        SessionCookieWriter::<MAX_CHUNKS>::new(base, &value, CHUNK_SIZE_V4, &[], &options, None)
            .unwrap(),
    );
    assert_eq!(
        headers,
        [format!(
            "next-auth.session-token={value}; Path=/; HttpOnly; SameSite=Lax"
        )]
    );

    let value = ascii_value(3934, 4);
    let headers = write_all(
        SessionCookieWriter::<MAX_CHUNKS>::new(base, &value, CHUNK_SIZE_V4, &[], &options, None)
            .unwrap(),
    );
    assert_eq!(headers.len(), 2);
    assert_eq!(
        cookie_pair(&headers[0]),
        format!("{base}.0={}", &value[..3933])
    );
    assert_eq!(
        cookie_pair(&headers[1]),
        format!("{base}.1={}", &value[3933..])
    );
}

#[test]
fn chunk_count_is_ceil_for_ascii() {
    for (len, n) in [
        (0, 0),
        (1, 1),
        (3936, 1),
        (3937, 2),
        (7872, 2),
        (7873, 3),
        (15744, 4),
    ] {
        assert_eq!(
            chunk_count(&ascii_value(len, 5), CHUNK_SIZE_V5),
            Ok(n),
            "{len}"
        );
    }
    assert_eq!(chunk_count("abc", 3), Err(CookieError::InvalidChunkSize));
    assert_eq!(chunk_count("abc", 0), Err(CookieError::InvalidChunkSize));
    // A chunk never ends inside a character: 'é' is 2 bytes.
    let value = "aaé"; // bytes: a a 0xC3 0xA9
    assert_eq!(chunk_count(value, 4), Ok(1));
    let value = "aaaé"; // 5 bytes: chunk 1 = "aaa", chunk 2 = "é"
    assert_eq!(chunk_count(value, 4), Ok(2));
    let plan = SessionCookiePlan::<4>::new(value, 4, &[]).unwrap();
    let texts: Vec<_> = plan
        .map(|p| match p.action {
            CookieAction::Set(t) => t,
            CookieAction::Delete => unreachable!(),
        })
        .collect();
    assert_eq!(texts, ["aaa", "é"]);
}

#[test]
fn empty_value_writes_no_cookie_only_deletions() {
    let plan = SessionCookiePlan::<MAX_CHUNKS>::new("", CHUNK_SIZE_V5, &[ChunkName::Base]).unwrap();
    assert_eq!(names_of(plan), ["delete base"]);
    let plan = SessionCookiePlan::<MAX_CHUNKS>::new("", CHUNK_SIZE_V5, &[]).unwrap();
    assert_eq!(plan.count(), 0);
}

#[test]
fn too_many_chunks_to_write() {
    let value = ascii_value(3 * CHUNK_SIZE_V5 + 1, 6);
    assert_eq!(
        SessionCookiePlan::<3>::new(&value, CHUNK_SIZE_V5, &[]).unwrap_err(),
        CookieError::TooManyChunks { max: 3 }
    );
    assert!(SessionCookiePlan::<4>::new(&value, CHUNK_SIZE_V5, &[]).is_ok());
    let present = [
        ChunkName::Index(0),
        ChunkName::Index(1),
        ChunkName::Index(0),
    ];
    assert!(SessionCookiePlan::<2>::new("x", CHUNK_SIZE_V5, &present).is_ok());
    let present = [
        ChunkName::Index(0),
        ChunkName::Index(1),
        ChunkName::Index(2),
    ];
    assert_eq!(
        SessionCookiePlan::<2>::new("x", CHUNK_SIZE_V5, &present).unwrap_err(),
        CookieError::TooManyChunks { max: 2 }
    );
}

// ---------------------------------------------------------------------------------------
// AUTHJS.md §10 item 11: reassembly order.

#[test]
fn item_11_reassembly_order() {
    let header = format!("{V5}.1=B; {V5}.10=K; {V5}.0=A; {V5}.2=C");
    let mut out = [0; 64];
    let r = reassemble(header.as_bytes(), V5, &mut out).unwrap();
    assert_eq!(r.value(), b"ABCK");
    assert_eq!(
        r.present(),
        [
            ChunkName::Index(1),
            ChunkName::Index(10),
            ChunkName::Index(0),
            ChunkName::Index(2)
        ]
    );
}

#[test]
fn reassemble_base_first_gaps_and_no_cookie() {
    let mut out = [0; 64];
    let header = format!("{V5}.1=y; {V5}=base; {V5}.0=x");
    let r = reassemble(header.as_bytes(), V5, &mut out).unwrap();
    assert_eq!(r.value(), b"basexy");
    assert_eq!(
        r.present(),
        [ChunkName::Index(1), ChunkName::Base, ChunkName::Index(0)]
    );

    let header = format!("{V5}.2=c; {V5}.0=a");
    let r = reassemble(header.as_bytes(), V5, &mut out).unwrap();
    assert_eq!(r.value(), b"ac");

    let r = reassemble(b"other=1", V5, &mut out).unwrap();
    assert!(r.is_empty());
    assert!(r.present().is_empty());
    let r = reassemble(b"", V5, &mut []).unwrap();
    assert!(r.is_empty());
}

#[test]
fn reassemble_secure_name_does_not_match_plain_and_vice_versa() {
    let mut out = [0; 64];
    let header = format!("{V5}=plain; {V5_SECURE}=secure");
    assert_eq!(
        reassemble(header.as_bytes(), V5, &mut out).unwrap().value(),
        b"plain"
    );
    assert_eq!(
        reassemble(header.as_bytes(), V5_SECURE, &mut out)
            .unwrap()
            .value(),
        b"secure"
    );
}

#[test]
fn prefix_lookalikes_and_non_canonical_indexes_are_ignored() {
    let header = format!(
        "{V5}-foo=X; {V5}.01=X; {V5}.1x=X; {V5}.=X; {V5}.-1=X; {V5}.+1=X; {V5}.65536=X; \
         {V5}.000=X; {V5}.0.1=X; {V5}0=X; {V5}.65535=Z; {V5}.0=A"
    );
    let mut out = [0; 64];
    let r = reassemble(header.as_bytes(), V5, &mut out).unwrap();
    assert_eq!(r.value(), b"AZ");
    assert_eq!(r.present(), [ChunkName::Index(65535), ChunkName::Index(0)]);
    assert_eq!(
        ChunkName::parse(b"authjs.session-token", V5),
        Some(ChunkName::Base)
    );
    assert_eq!(
        ChunkName::parse(b"authjs.session-token.0", V5),
        Some(ChunkName::Index(0))
    );
    assert_eq!(
        ChunkName::parse(b"authjs.session-token.10", V5),
        Some(ChunkName::Index(10))
    );
    assert_eq!(ChunkName::parse(b"authjs.session-token.99999", V5), None);
    assert_eq!(ChunkName::parse(b"authjs.session", V5), None);
    assert_eq!(ChunkName::parse(b"", V5), None);
}

#[test]
fn empty_chunks_are_skipped_and_mask_later_duplicates() {
    let mut out = [0; 64];
    let header = format!("{V5}.0=; {V5}.1=b; {V5}.0=a; {V5}=\"\"");
    let r = reassemble(header.as_bytes(), V5, &mut out).unwrap();
    // `.0` first occurs empty: skipped, and its later non-empty duplicate is ignored (as
    // the `cookie` package keeps the first); the quoted empty base is empty too.
    assert_eq!(r.value(), b"b");
    assert_eq!(r.present(), [ChunkName::Index(1)]);
}

#[test]
fn reassemble_first_duplicate_wins() {
    let mut out = [0; 64];
    let header = format!("{V5}=first; {V5}=second");
    let r = reassemble(header.as_bytes(), V5, &mut out).unwrap();
    assert_eq!(r.value(), b"first");
    assert_eq!(r.present(), [ChunkName::Base]);
}

#[test]
fn reassemble_decodes_each_chunk() {
    let mut out = [0; 64];
    let header = format!("{V5}.0=a%20b; {V5}.1=%E2%82%AC; {V5}.2=bad%zz");
    let r = reassemble(header.as_bytes(), V5, &mut out).unwrap();
    assert_eq!(r.value(), "a b€bad%zz".as_bytes());
}

#[test]
fn reassemble_errors() {
    let header = format!("{V5}.0=aaaa; {V5}.1=bbbb; {V5}.2=%41");
    let mut small = [0; 8];
    assert_eq!(
        reassemble(header.as_bytes(), V5, &mut small).unwrap_err(),
        CookieError::BufferTooSmall { needed: 9 }
    );
    let mut exact = [0; 9];
    assert_eq!(
        reassemble(header.as_bytes(), V5, &mut exact)
            .unwrap()
            .value(),
        b"aaaabbbbA"
    );
    assert_eq!(
        reassemble_with::<2>(header.as_bytes(), V5, &mut [0; 64]).unwrap_err(),
        CookieError::TooManyChunks { max: 2 }
    );
    // Duplicates and empty chunks do not count towards the limit.
    let header = format!("{V5}.0=a; {V5}.0=b; {V5}.1=; {V5}.2=c");
    let mut out = [0; 64];
    let r = reassemble_with::<2>(header.as_bytes(), V5, &mut out).unwrap();
    assert_eq!(r.value(), b"ac");
}

// ---------------------------------------------------------------------------------------
// AUTHJS.md §10 item 12 and the plan order.

#[test]
fn item_12_rechunk_cleanup_exact_headers() {
    let present = [
        ChunkName::Index(0),
        ChunkName::Index(1),
        ChunkName::Index(2),
    ];
    let options = CookieOptions::new(false);
    let headers = write_all(
        SessionCookieWriter::<MAX_CHUNKS>::new(
            V5,
            "eyJ.new",
            CHUNK_SIZE_V5,
            &present,
            &options,
            Some(EXPIRES),
        )
        .unwrap(),
    );
    assert_eq!(
        headers,
        [
            "authjs.session-token.0=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax",
            "authjs.session-token.1=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax",
            "authjs.session-token.2=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax",
            "authjs.session-token=eyJ.new; Path=/; Expires=Sun, 06 Nov 1994 08:49:37 GMT; HttpOnly; SameSite=Lax",
        ]
    );

    let options = CookieOptions::new(true);
    let headers = write_all(
        SessionCookieWriter::<MAX_CHUNKS>::new(
            V5_SECURE,
            "eyJ.new",
            CHUNK_SIZE_V5,
            &present,
            &options,
            Some(EXPIRES),
        )
        .unwrap(),
    );
    assert_eq!(
        headers,
        [
            "__Secure-authjs.session-token.0=; Max-Age=0; Path=/; HttpOnly; Secure; SameSite=Lax",
            "__Secure-authjs.session-token.1=; Max-Age=0; Path=/; HttpOnly; Secure; SameSite=Lax",
            "__Secure-authjs.session-token.2=; Max-Age=0; Path=/; HttpOnly; Secure; SameSite=Lax",
            "__Secure-authjs.session-token=eyJ.new; Path=/; Expires=Sun, 06 Nov 1994 08:49:37 GMT; HttpOnly; Secure; SameSite=Lax",
        ]
    );
}

#[test]
fn plan_orders_match_authjs_object_order() {
    use ChunkName::{Base, Index};
    let one = ascii_value(10, 7);
    let two = ascii_value(CHUNK_SIZE_V5 + 5, 8);
    let three = ascii_value(2 * CHUNK_SIZE_V5 + 5, 9);
    let plan = |value: &'static str, present: &[ChunkName]| {
        names_of(SessionCookiePlan::<MAX_CHUNKS>::new(value, CHUNK_SIZE_V5, present).unwrap())
    };
    let one: &'static str = std::boxed::Box::leak(one.into_boxed_str());
    let two: &'static str = std::boxed::Box::leak(two.into_boxed_str());
    let three: &'static str = std::boxed::Box::leak(three.into_boxed_str());

    let p012 = [Index(0), Index(1), Index(2)];
    assert_eq!(
        plan(one, &p012),
        ["delete .0", "delete .1", "delete .2", "set base"]
    );
    assert_eq!(plan(two, &p012), ["set .0", "set .1", "delete .2"]);
    assert_eq!(plan(two, &[Base]), ["delete base", "set .0", "set .1"]);
    assert_eq!(plan(one, &[Base]), ["set base"]);
    assert_eq!(plan(one, &[]), ["set base"]);
    assert_eq!(plan(three, &[]), ["set .0", "set .1", "set .2"]);
    // Request order is kept, new chunks that were absent are appended in order.
    assert_eq!(
        plan(three, &[Index(2), Base, Index(0)]),
        ["set .2", "delete base", "set .0", "set .1"]
    );
    assert_eq!(
        plan(two, &[Index(5), Index(1)]),
        ["delete .5", "set .1", "set .0"]
    );
    // Clear: deletions only, request order.
    assert_eq!(
        names_of(SessionCookiePlan::<MAX_CHUNKS>::clear(&[Index(1), Base]).unwrap()),
        ["delete .1", "delete base"]
    );
    // Set chunks carry the right text.
    let texts: Vec<&str> = SessionCookiePlan::<MAX_CHUNKS>::new(three, CHUNK_SIZE_V5, &[Index(1)])
        .unwrap()
        .map(|p| match p.action {
            CookieAction::Set(t) => t,
            CookieAction::Delete => "",
        })
        .collect();
    assert_eq!(
        texts,
        [
            &three[CHUNK_SIZE_V5..2 * CHUNK_SIZE_V5],
            &three[..CHUNK_SIZE_V5],
            &three[2 * CHUNK_SIZE_V5..]
        ]
    );
}

#[test]
fn clear_writer_headers() {
    let options = CookieOptions::new(true);
    let headers = write_all(
        SessionCookieWriter::<MAX_CHUNKS>::clear(
            V5_SECURE,
            &[ChunkName::Base, ChunkName::Index(3)],
            &options,
        )
        .unwrap(),
    );
    assert_eq!(
        headers,
        [
            "__Secure-authjs.session-token=; Max-Age=0; Path=/; HttpOnly; Secure; SameSite=Lax",
            "__Secure-authjs.session-token.3=; Max-Age=0; Path=/; HttpOnly; Secure; SameSite=Lax",
        ]
    );
}

#[test]
fn writer_small_buffer_does_not_advance() {
    let options = CookieOptions::new(false);
    let mut writer = SessionCookieWriter::<MAX_CHUNKS>::new(
        V5,
        "tok",
        CHUNK_SIZE_V5,
        &[ChunkName::Index(0)],
        &options,
        None,
    )
    .unwrap();
    assert_eq!(writer.remaining(), 2);
    let first = "authjs.session-token.0=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax";
    assert_eq!(writer.next_len(), Ok(Some(first.len())));
    let mut small = vec![0; first.len() - 1];
    assert_eq!(
        writer.write_next(&mut small),
        Err(CookieError::BufferTooSmall {
            needed: first.len()
        })
    );
    assert_eq!(writer.remaining(), 2);
    let mut buf = [0; 128];
    assert_eq!(writer.write_next(&mut buf), Ok(Some(first)));
    assert_eq!(
        writer.write_next(&mut buf),
        Ok(Some(
            "authjs.session-token=tok; Path=/; HttpOnly; SameSite=Lax"
        ))
    );
    assert_eq!(writer.write_next(&mut buf), Ok(None));
    assert_eq!(writer.next_len(), Ok(None));
}

#[test]
fn writer_validates_up_front() {
    let ok = CookieOptions::new(false);
    let w = |base, options: &CookieOptions<'static>| {
        SessionCookieWriter::<MAX_CHUNKS>::new(base, "v", CHUNK_SIZE_V5, &[], options, None)
            .unwrap_err()
    };
    assert_eq!(w("bad name", &ok), CookieError::InvalidName);
    assert_eq!(w("", &ok), CookieError::InvalidName);
    assert_eq!(
        w(V5, &ok.with_domain(Some("-bad.com"))),
        CookieError::InvalidDomain
    );
    assert_eq!(w(V5, &ok.with_path("/a;b")), CookieError::InvalidPath);
    assert_eq!(
        w(V5, &ok.with_expires(Some(i64::MAX))),
        CookieError::InvalidExpires
    );
    assert_eq!(
        SessionCookieWriter::<MAX_CHUNKS>::new(V5, "v", CHUNK_SIZE_V5, &[], &ok, Some(i64::MIN))
            .unwrap_err(),
        CookieError::InvalidExpires
    );
    assert_eq!(
        SessionCookieWriter::<MAX_CHUNKS>::new(V5, "v", 2, &[], &ok, None).unwrap_err(),
        CookieError::InvalidChunkSize
    );
}

#[test]
fn deletion_keeps_configured_expires_but_not_the_session_one() {
    // Auth.js: set = {...options, expires}, delete = {...options, maxAge: 0}.
    let options = CookieOptions::new(false).with_domain(Some("example.com"));
    let headers = write_all(
        SessionCookieWriter::<MAX_CHUNKS>::new(
            V5,
            "v",
            CHUNK_SIZE_V5,
            &[ChunkName::Index(0)],
            &options,
            Some(EXPIRES),
        )
        .unwrap(),
    );
    assert_eq!(
        headers,
        [
            "authjs.session-token.0=; Max-Age=0; Domain=example.com; Path=/; HttpOnly; SameSite=Lax",
            "authjs.session-token=v; Domain=example.com; Path=/; Expires=Sun, 06 Nov 1994 08:49:37 GMT; HttpOnly; SameSite=Lax",
        ]
    );
}

// ---------------------------------------------------------------------------------------
// AUTHJS.md §10 item 19: names and exact header strings.

#[test]
fn item_19_names_and_headers() {
    assert_eq!(
        session_cookie_name(Flavor::AuthJs, true),
        "__Secure-authjs.session-token"
    );
    assert_eq!(
        csrf_cookie_name(Flavor::AuthJs, true),
        "__Host-authjs.csrf-token"
    );
    assert_eq!(
        session_cookie_name(Flavor::AuthJs, false),
        "authjs.session-token"
    );
    assert_eq!(csrf_cookie_name(Flavor::AuthJs, false), "authjs.csrf-token");
    assert_eq!(
        callback_url_cookie_name(Flavor::AuthJs, true),
        "__Secure-authjs.callback-url"
    );
    assert_eq!(
        callback_url_cookie_name(Flavor::AuthJs, false),
        "authjs.callback-url"
    );
    assert_eq!(
        session_cookie_name(Flavor::NextAuthV4, true),
        "__Secure-next-auth.session-token"
    );
    assert_eq!(
        csrf_cookie_name(Flavor::NextAuthV4, true),
        "__Host-next-auth.csrf-token"
    );
    assert_eq!(
        callback_url_cookie_name(Flavor::NextAuthV4, false),
        "next-auth.callback-url"
    );

    let mut buf = [0; 256];
    let https = write_set_cookie(
        session_cookie_name(Flavor::AuthJs, true),
        "eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2Q0JDLUhTNTEyIn0..iv.ct.tag",
        &CookieOptions::new(true).with_expires(Some(EXPIRES)),
        &mut buf,
    )
    .unwrap();
    assert_eq!(
        https,
        "__Secure-authjs.session-token=eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2Q0JDLUhTNTEyIn0..iv.ct.tag; \
         Path=/; Expires=Sun, 06 Nov 1994 08:49:37 GMT; HttpOnly; Secure; SameSite=Lax"
    );
    let http = write_set_cookie(
        session_cookie_name(Flavor::AuthJs, false),
        "v",
        &CookieOptions::new(false).with_expires(Some(EXPIRES)),
        &mut buf,
    )
    .unwrap();
    assert_eq!(
        http,
        "authjs.session-token=v; Path=/; Expires=Sun, 06 Nov 1994 08:49:37 GMT; HttpOnly; SameSite=Lax"
    );
    assert!(!http.contains("Secure"));
}

#[test]
fn all_cookie_names() {
    use CookieKind::*;
    let kinds = [
        SessionToken,
        CallbackUrl,
        CsrfToken,
        PkceCodeVerifier,
        State,
        Nonce,
        WebAuthnChallenge,
    ];
    let expected_v5 = [
        "session-token",
        "callback-url",
        "csrf-token",
        "pkce.code_verifier",
        "state",
        "nonce",
        "challenge",
    ];
    for (kind, suffix) in kinds.iter().zip(expected_v5) {
        assert_eq!(
            cookie_name(Flavor::AuthJs, *kind, false),
            Some(format!("authjs.{suffix}").as_str())
        );
        let prefix = if *kind == CsrfToken {
            "__Host-"
        } else {
            "__Secure-"
        };
        assert_eq!(
            cookie_name(Flavor::AuthJs, *kind, true),
            Some(format!("{prefix}authjs.{suffix}").as_str())
        );
        if *kind == WebAuthnChallenge {
            assert_eq!(cookie_name(Flavor::NextAuthV4, *kind, false), None);
            assert_eq!(cookie_name(Flavor::NextAuthV4, *kind, true), None);
        } else {
            assert_eq!(
                cookie_name(Flavor::NextAuthV4, *kind, false),
                Some(format!("next-auth.{suffix}").as_str())
            );
            assert_eq!(
                cookie_name(Flavor::NextAuthV4, *kind, true),
                Some(format!("{prefix}next-auth.{suffix}").as_str())
            );
        }
    }
    for flavor in [Flavor::AuthJs, Flavor::NextAuthV4] {
        for secure in [false, true] {
            assert_eq!(
                Some(session_cookie_name(flavor, secure)),
                cookie_name(flavor, SessionToken, secure)
            );
            assert_eq!(
                Some(csrf_cookie_name(flavor, secure)),
                cookie_name(flavor, CsrfToken, secure)
            );
            assert_eq!(
                Some(callback_url_cookie_name(flavor, secure)),
                cookie_name(flavor, CallbackUrl, secure)
            );
        }
    }
    assert_eq!(default_options(State, true).max_age, Some(900));
    assert_eq!(default_options(PkceCodeVerifier, false).max_age, Some(900));
    assert_eq!(default_options(WebAuthnChallenge, false).max_age, Some(900));
    assert_eq!(default_options(Nonce, false).max_age, None);
    assert_eq!(
        default_options(SessionToken, true),
        CookieOptions::new(true)
    );
    let mut buf = [0; 128];
    assert_eq!(
        write_set_cookie("authjs.state", "x", &default_options(State, true), &mut buf).unwrap(),
        "authjs.state=x; Max-Age=900; Path=/; HttpOnly; Secure; SameSite=Lax"
    );
}

// ---------------------------------------------------------------------------------------
// Set-Cookie serialization.

#[test]
fn serializer_attribute_order_and_values() {
    let mut buf = [0; 512];
    let all = CookieOptions::new(true)
        .with_max_age(Some(-5))
        .with_domain(Some(".Example.com"))
        .with_path("/api/auth")
        .with_expires(Some(-1))
        .with_partitioned(true)
        .with_priority(Some(Priority::High))
        .with_same_site(Some(SameSite::None));
    assert_eq!(
        write_set_cookie("n", "v", &all, &mut buf).unwrap(),
        "n=v; Max-Age=-5; Domain=.Example.com; Path=/api/auth; \
         Expires=Wed, 31 Dec 1969 23:59:59 GMT; HttpOnly; Secure; Partitioned; Priority=High; \
         SameSite=None"
    );
    let none = CookieOptions::new(false)
        .with_path("")
        .with_domain(Some(""))
        .with_http_only(false)
        .with_same_site(None);
    assert_eq!(write_set_cookie("n", "v", &none, &mut buf).unwrap(), "n=v");
    let misc = CookieOptions::default()
        .with_same_site(Some(SameSite::Strict))
        .with_priority(Some(Priority::Low))
        .with_max_age(Some(i64::MIN))
        .with_secure(true);
    assert_eq!(
        write_set_cookie("n", "", &misc, &mut buf).unwrap(),
        "n=; Max-Age=-9223372036854775808; Path=/; HttpOnly; Secure; Priority=Low; SameSite=Strict"
    );
    let medium = CookieOptions::default()
        .with_priority(Some(Priority::Medium))
        .with_max_age(Some(i64::MAX));
    assert_eq!(
        write_set_cookie("n", "", &medium, &mut buf).unwrap(),
        "n=; Max-Age=9223372036854775807; Path=/; HttpOnly; Priority=Medium; SameSite=Lax"
    );
    assert_eq!(
        write_deletion("authjs.csrf-token", &CookieOptions::new(false), &mut buf).unwrap(),
        "authjs.csrf-token=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax"
    );
}

#[test]
fn serializer_encodes_like_encode_uri_component() {
    let mut buf = [0; 256];
    let none = CookieOptions::new(false)
        .with_path("")
        .with_http_only(false)
        .with_same_site(None);
    let cases = [
        ("AZaz09-_.!~*'()", "AZaz09-_.!~*'()"),
        ("a b;c\"d,e\\f", "a%20b%3Bc%22d%2Ce%5Cf"),
        ("tok|hash", "tok%7Chash"),
        ("%=+/?#&", "%25%3D%2B%2F%3F%23%26"),
        ("é€😀", "%C3%A9%E2%82%AC%F0%9F%98%80"),
        ("\u{0}\u{7f}", "%00%7F"),
    ];
    for (value, encoded) in cases {
        let text = write_set_cookie("n", value, &none, &mut buf).unwrap();
        assert_eq!(text, format!("n={encoded}"));
        assert_eq!(encoded_len(value), encoded.len());
        // And back.
        let mut out = [0; 64];
        let cookie = get(text.as_bytes(), "n").unwrap();
        assert_eq!(cookie.decode_into(&mut out).unwrap(), value.as_bytes());
    }
}

#[test]
fn serializer_validation() {
    let mut buf = [0; 256];
    let ok = CookieOptions::new(false);
    for name in [
        "", "a b", "a;b", "a=b", "a,b", "é", "a\"", "a(b)", "a/b", "a@b",
    ] {
        assert_eq!(
            write_set_cookie(name, "v", &ok, &mut buf),
            Err(CookieError::InvalidName),
            "{name}"
        );
    }
    for name in ["!#$%&'*+-.^_`|~", "__Host-x", "a.0"] {
        assert!(write_set_cookie(name, "v", &ok, &mut buf).is_ok(), "{name}");
    }
    for domain in [
        "example.com",
        ".example.com",
        "a",
        "A-1.b2",
        "xn--bcher-kva.example",
        &"a".repeat(63),
    ] {
        assert!(
            write_set_cookie("n", "v", &ok.with_domain(Some(domain)), &mut buf).is_ok(),
            "{domain}"
        );
    }
    for domain in [
        ".",
        "..a",
        "a.",
        "a..b",
        "-a",
        "a-",
        "a_b",
        "a b",
        "é.com",
        "example.com:80",
        &"a".repeat(64),
    ] {
        assert_eq!(
            write_set_cookie("n", "v", &ok.with_domain(Some(domain)), &mut buf),
            Err(CookieError::InvalidDomain),
            "{domain}"
        );
    }
    for path in ["/", "/a b", "/a=b?c", "~"] {
        assert!(write_set_cookie("n", "v", &ok.with_path(path), &mut buf).is_ok());
    }
    for path in ["/a;b", "/a<b", "/\t", "/\u{7f}", "/é"] {
        assert_eq!(
            write_set_cookie("n", "v", &ok.with_path(path), &mut buf),
            Err(CookieError::InvalidPath),
            "{path}"
        );
    }
    for expires in [
        crate::time::MAX_FORMAT_SECS + 1,
        crate::time::MIN_FORMAT_SECS - 1,
    ] {
        assert_eq!(
            write_set_cookie("n", "v", &ok.with_expires(Some(expires)), &mut buf),
            Err(CookieError::InvalidExpires)
        );
    }
}

#[test]
fn serializer_sizes() {
    let options = CookieOptions::new(true).with_expires(Some(EXPIRES));
    let value = "a|b c";
    let len = set_cookie_len("n", value, &options).unwrap();
    let mut buf = vec![0; len];
    assert_eq!(
        write_set_cookie("n", value, &options, &mut buf)
            .unwrap()
            .len(),
        len
    );
    for short in 0..len {
        let mut buf = vec![0; short];
        assert_eq!(
            write_set_cookie("n", value, &options, &mut buf),
            Err(CookieError::BufferTooSmall { needed: len })
        );
    }
    assert_eq!(
        set_cookie_len("", value, &options),
        Err(CookieError::InvalidName)
    );
    assert_eq!(ChunkName::Index(12).name_len(V5), V5.len() + 3);
    assert_eq!(ChunkName::Base.name_len(V5), V5.len());
    let mut name = [0; 32];
    assert_eq!(
        ChunkName::Index(65535).write_name("s", &mut name),
        Ok("s.65535")
    );
    assert_eq!(
        ChunkName::Index(0).write_name(V5, &mut name[..5]),
        Err(CookieError::BufferTooSmall {
            needed: V5.len() + 2
        })
    );
}

// ---------------------------------------------------------------------------------------
// Cookie header parsing.

fn pairs(header: &str) -> Vec<(String, String)> {
    parse(header.as_bytes())
        .map(|c| {
            (
                String::from_utf8(c.name().to_vec()).unwrap(),
                String::from_utf8(c.raw_value().to_vec()).unwrap(),
            )
        })
        .collect()
}

#[test]
fn parse_like_the_cookie_package() {
    let p = |h: &str| pairs(h);
    let s = |a: &str, b: &str| (a.to_string(), b.to_string());
    assert_eq!(p("a=1; b=2"), [s("a", "1"), s("b", "2")]);
    assert_eq!(p("a=1;b=2"), [s("a", "1"), s("b", "2")]);
    assert_eq!(p(" \ta \t= \t1 \t;  b=2  "), [s("a", "1"), s("b", "2")]);
    assert_eq!(p("a=b=c"), [s("a", "b=c")]);
    assert_eq!(p("junk; a=1; more junk ;b=2;"), [s("a", "1"), s("b", "2")]);
    assert_eq!(p("a=\"quoted\""), [s("a", "quoted")]);
    assert_eq!(p("a= \"q\" "), [s("a", "q")]);
    assert_eq!(p("a=\""), [s("a", "")]);
    assert_eq!(p("a=\"\""), [s("a", "")]);
    assert_eq!(p("a=\"x"), [s("a", "\"x")]);
    assert_eq!(p("a=x\""), [s("a", "x\"")]);
    assert_eq!(p("=x"), [s("", "x")]);
    assert_eq!(p("a="), [s("a", "")]);
    assert_eq!(p("a=1, b=2"), [s("a", "1, b=2")]);
    assert_eq!(p("a\n=1"), [s("a\n", "1")]); // only spaces and tabs are trimmed
    assert_eq!(p("a=1; a=2"), [s("a", "1"), s("a", "2")]);
    assert_eq!(p(""), []);
    assert_eq!(p("="), []); // shorter than 2 bytes
    assert_eq!(p(";"), []);
    assert_eq!(p(";;;"), []);
    assert_eq!(p("novalue"), []);
    assert_eq!(p("  "), []);
}

#[test]
fn get_first_duplicate_wins() {
    let header = b"a=; a=second; b=1; b=2";
    assert_eq!(get(header, "a").unwrap().raw_value(), b"");
    assert_eq!(get(header, "b").unwrap().raw_value(), b"1");
    assert!(get(header, "c").is_none());
    assert!(get(b"ab=1", "a").is_none());
}

#[test]
fn percent_decoding() {
    let mut out = [0; 32];
    let ok: [(&str, &str); 9] = [
        ("plain", "plain"),
        ("a%20b", "a b"),
        ("%7c%7C", "||"),
        ("%3B%3D%2C", ";=,"),
        ("%C3%A9", "é"),
        ("%E2%82%AC", "€"),
        ("%F0%9F%98%80", "😀"),
        ("%00", "\u{0}"),
        ("%25%32%30", "%20"), // decoded once only
    ];
    for (raw, decoded) in ok {
        assert_eq!(
            decode_value(raw.as_bytes(), &mut out),
            Ok(decoded.as_bytes()),
            "{raw}"
        );
        assert_eq!(decoded_len(raw.as_bytes()), decoded.len());
    }
    // decodeURIComponent throws: the raw value is kept.
    let bad = [
        "%",
        "%2",
        "%zz",
        "a%2",
        "%%20",
        "%C3",          // truncated
        "%C3a",         // continuation not escaped
        "%C3%41",       // not a continuation byte
        "%80",          // lone continuation
        "%C0%80",       // overlong
        "%ED%A0%80",    // surrogate
        "%F4%90%80%80", // above U+10FFFF
        "%F8%80%80%80%80",
        "%FF",
        "ok%20then%",
    ];
    for raw in bad {
        assert_eq!(
            decode_value(raw.as_bytes(), &mut out),
            Ok(raw.as_bytes()),
            "{raw}"
        );
        assert_eq!(decoded_len(raw.as_bytes()), raw.len());
    }
    // Raw bytes other than '%' pass through, even non-UTF-8 ones.
    assert_eq!(decode_value(b"\xff%41", &mut out), Ok(&b"\xffA"[..]));
    // Zero copy without '%': works with an empty buffer.
    let raw = b"no escapes";
    let decoded = decode_value(raw, &mut []).unwrap();
    assert!(core::ptr::eq(decoded, &raw[..]));
    assert_eq!(
        decode_value(b"%41%42", &mut [0; 1]),
        Err(CookieError::BufferTooSmall { needed: 2 })
    );
    // Invalid escapes need no buffer either.
    assert_eq!(decode_value(b"%zz", &mut []), Ok(&b"%zz"[..]));
    let cookie = get(b"x=%41; y=z", "x").unwrap();
    assert!(cookie.has_escapes());
    assert_eq!(cookie.decoded_len(), 1);
    assert_eq!(cookie.decode_into(&mut out), Ok(&b"A"[..]));
}

// ---------------------------------------------------------------------------------------
// CSRF (AUTHJS.md §5.5, §10 item 5).

#[test]
fn item_5_csrf_hash() {
    assert_eq!(
        &csrf_hash("abc", "secret"),
        b"a42178b773273f5c9f24387fbea546af537d08b8c06b23631e44878b9ce47f49"
    );
}

#[test]
fn csrf_cookie_round_trip() {
    let random = [0xab; CSRF_RANDOM_LEN];
    let mut value = [0; CSRF_COOKIE_VALUE_LEN];
    let value = csrf_cookie_value(&random, "secret", &mut value);
    let token = "ab".repeat(32);
    let hash = csrf_hash(&token, "secret");
    assert_eq!(
        value,
        format!("{token}|{}", core::str::from_utf8(&hash).unwrap())
    );
    assert_eq!(
        csrf_token_from_cookie(value, "secret"),
        Some(token.as_str())
    );
    assert_eq!(csrf_token_from_cookie(value, "other"), None);

    assert!(verify_csrf(value, &token, "secret", true));
    assert!(!verify_csrf(value, &token, "secret", false));
    assert!(!verify_csrf(value, &token, "other", true));
    assert!(!verify_csrf(value, &token[1..], "secret", true));
    assert!(!verify_csrf(value, "", "secret", true));

    // Through a real Set-Cookie / Cookie exchange: `|` travels as %7C.
    let mut buf = [0; 256];
    let header = write_set_cookie(
        csrf_cookie_name(Flavor::AuthJs, true),
        value,
        &CookieOptions::new(true),
        &mut buf,
    )
    .unwrap();
    assert!(header.starts_with(&format!("__Host-authjs.csrf-token={token}%7C")));
    let cookie_header = cookie_pair(header).to_string();
    let mut out = [0; 256];
    let decoded = get(cookie_header.as_bytes(), "__Host-authjs.csrf-token")
        .unwrap()
        .decode_into(&mut out)
        .unwrap();
    assert!(verify_csrf(
        core::str::from_utf8(decoded).unwrap(),
        &token,
        "secret",
        true
    ));
}

#[test]
fn csrf_split_semantics() {
    let hash = |t: &str| String::from_utf8(csrf_hash(t, "s").to_vec()).unwrap();
    // JavaScript split("|"): the hash is the second part, extra parts are ignored.
    let value = format!("tok|{}|extra", hash("tok"));
    assert_eq!(csrf_token_from_cookie(&value, "s"), Some("tok"));
    assert!(verify_csrf(&value, "tok", "s", true));
    // No '|', empty value, empty hash, uppercase hash: invalid.
    assert_eq!(csrf_token_from_cookie("tok", "s"), None);
    assert_eq!(csrf_token_from_cookie("", "s"), None);
    assert_eq!(csrf_token_from_cookie("tok|", "s"), None);
    let upper = format!("tok|{}", hash("tok").to_uppercase());
    assert_eq!(csrf_token_from_cookie(&upper, "s"), None);
    // An empty token with a valid hash verifies against an empty body token, as in JS.
    let empty = format!("|{}", hash(""));
    assert_eq!(csrf_token_from_cookie(&empty, "s"), Some(""));
    assert!(verify_csrf(&empty, "", "s", true));
}

// ---------------------------------------------------------------------------------------
// Errors and Debug.

#[test]
fn error_kinds_and_display() {
    let all = [
        CookieError::BufferTooSmall { needed: 3 },
        CookieError::TooManyChunks { max: 8 },
        CookieError::InvalidName,
        CookieError::InvalidDomain,
        CookieError::InvalidPath,
        CookieError::InvalidExpires,
        CookieError::InvalidChunkSize,
    ];
    let mut kinds: Vec<_> = all.iter().map(CookieError::kind).collect();
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
    assert_eq!(
        CookieError::BufferTooSmall { needed: 3 }.to_string(),
        "output buffer too small: 3 bytes needed"
    );
}

#[test]
fn debug_never_shows_values() {
    let secret = "SECRETVALUE";
    // Neither as text nor as the decimal bytes a `[u8]` field's `Debug` prints.
    let hidden = |shown: String| !crate::debug_shows(&shown, secret);
    let header = format!("{V5}={secret}");
    let cookie = get(header.as_bytes(), V5).unwrap();
    assert!(hidden(format!("{cookie:?}")));
    assert!(format!("{cookie:?}").contains(V5));
    let mut out = [0; 64];
    let r = reassemble(header.as_bytes(), V5, &mut out).unwrap();
    assert!(hidden(format!("{r:?}")));
    let plan = SessionCookiePlan::<MAX_CHUNKS>::new(secret, CHUNK_SIZE_V5, &[]).unwrap();
    assert!(hidden(format!("{plan:?}")));
    let items: Vec<_> = plan.clone().collect();
    assert!(hidden(format!("{items:?}")));
    assert!(hidden(format!("{:?}", parse(header.as_bytes()))));
}

// ---------------------------------------------------------------------------------------
// Properties.

/// Chunk -> Set-Cookie -> browser Cookie header (random order, noise, duplicates after the
/// real ones) -> reassemble is the identity, and the present list names every chunk.
#[test]
fn property_write_then_read_is_identity() {
    let mut rng = Rng(0x0123_4567_89AB_CDEF);
    let alphabets: [&[char]; 3] = [
        &['A', 'z', '0', '9', '-', '_', '.'],
        &['a', ' ', ';', '%', '"', '=', ',', '|', '\\', '+'],
        &['x', 'é', '€', '😀', '\t', '\u{0}'],
    ];
    let options = CookieOptions::new(true).with_expires(Some(EXPIRES));
    let mut read_buf = vec![0; 4 * CHUNK_SIZE_V5 + 16];
    let (mut checked, mut multi) = (0, 0);
    for round in 0..300 {
        let alphabet = alphabets[round % 3];
        let len = match round % 5 {
            0 => rng.below(4 * CHUNK_SIZE_V5 + 1),
            1 => CHUNK_SIZE_V5 * (1 + rng.below(4)),
            2 => CHUNK_SIZE_V5 * (1 + rng.below(3)) + 1,
            _ => rng.below(200),
        };
        // Build a value of about `len` bytes.
        let mut value = String::new();
        while value.len() < len {
            value.push(*rng.pick(alphabet));
        }
        if value.len() > 4 * CHUNK_SIZE_V5 {
            let mut cut = 4 * CHUNK_SIZE_V5;
            while !value.is_char_boundary(cut) {
                cut -= 1;
            }
            value.truncate(cut);
        }
        let Ok(writer) = SessionCookieWriter::<4>::new(
            V5_SECURE,
            &value,
            CHUNK_SIZE_V5,
            &[],
            &options,
            Some(EXPIRES),
        ) else {
            // Non-ASCII values may need one more chunk than ceil(len / size).
            assert!(!value.is_ascii());
            continue;
        };
        let headers = write_all(writer);
        assert_eq!(headers.len(), chunk_count(&value, CHUNK_SIZE_V5).unwrap());
        let mut pairs: Vec<String> = headers.iter().map(|h| cookie_pair(h).to_string()).collect();
        let real = pairs.len();
        // Noise: lookalikes, other cookies, empty chunk names beyond the real ones,
        // and later duplicates of real names.
        pairs.push(format!("{V5_SECURE}-x=junk"));
        pairs.push("other=1".to_string());
        pairs.push(format!("{V5}=plain"));
        pairs.push(format!("{V5_SECURE}.7="));
        rng.shuffle(&mut pairs);
        let dup_from = pairs.clone();
        for p in dup_from.iter().take(real) {
            if let Some((name, _)) = p.split_once('=') {
                if name.starts_with(V5_SECURE) && !name.ends_with("-x") && !name.ends_with(".7") {
                    pairs.push(format!("{name}=DUP"));
                }
            }
        }
        let sep = *rng.pick(&["; ", ";", " ; ", ";\t"]);
        let header = pairs.join(sep);
        let r = reassemble_with::<4>(header.as_bytes(), V5_SECURE, &mut read_buf).unwrap();
        assert_eq!(r.value(), value.as_bytes(), "round {round}");
        assert_eq!(r.present().len(), real);
        checked += 1;
        if real > 1 {
            multi += 1;
        }

        // Writing the same value again over what was read: same sets, no deletions.
        let again = SessionCookieWriter::<4>::new(
            V5_SECURE,
            &value,
            CHUNK_SIZE_V5,
            r.present(),
            &options,
            Some(EXPIRES),
        )
        .unwrap();
        let mut sorted_again = write_all(again);
        let mut sorted_headers = headers.clone();
        sorted_again.sort();
        sorted_headers.sort();
        assert_eq!(sorted_again, sorted_headers);
    }
    assert!(checked > 250 && multi > 100, "{checked} {multi}");
}

/// Random plans: every present chunk is emitted exactly once (set or deleted), every new
/// chunk is set exactly once, request order first.
#[test]
fn property_plan_covers_old_and_new() {
    let mut rng = Rng(99);
    for _ in 0..2000 {
        let count = rng.below(6);
        let value = ascii_value(
            if count == 0 {
                0
            } else {
                (count - 1) * 10 + 1 + rng.below(10)
            },
            rng.next(),
        );
        let mut present = Vec::new();
        for _ in 0..rng.below(7) {
            let c = if rng.below(4) == 0 {
                ChunkName::Base
            } else {
                ChunkName::Index(u16::try_from(rng.below(7)).unwrap())
            };
            if !present.contains(&c) {
                present.push(c);
            }
        }
        let plan = SessionCookiePlan::<8>::new(&value, 10, &present).unwrap();
        let n = plan.chunk_count();
        let items: Vec<_> = plan.collect();
        let new_names: Vec<ChunkName> = match n {
            0 => vec![],
            1 => vec![ChunkName::Base],
            _ => (0..n)
                .map(|i| ChunkName::Index(u16::try_from(i).unwrap()))
                .collect(),
        };
        // Prefix = present, in order.
        for (item, p) in items.iter().zip(&present) {
            assert_eq!(item.chunk, *p);
            let is_new = new_names.contains(p);
            assert_eq!(matches!(item.action, CookieAction::Set(_)), is_new);
        }
        // Then the missing new ones in order.
        let tail: Vec<ChunkName> = items[present.len()..].iter().map(|i| i.chunk).collect();
        let expected_tail: Vec<ChunkName> = new_names
            .iter()
            .copied()
            .filter(|c| !present.contains(c))
            .collect();
        assert_eq!(tail, expected_tail);
        // Set texts concatenate, in chunk order, to the value.
        let mut sets: Vec<(ChunkName, &str)> = items
            .iter()
            .filter_map(|i| match i.action {
                CookieAction::Set(t) => Some((i.chunk, t)),
                CookieAction::Delete => None,
            })
            .collect();
        sets.sort();
        let joined: String = sets.iter().map(|(_, t)| *t).collect();
        assert_eq!(joined, value);
    }
}

/// Random bytes never panic anywhere on the request side, and results stay consistent.
#[test]
fn property_random_headers_never_panic() {
    let mut rng = Rng(0xDEAD_BEEF);
    let pieces: [&[u8]; 16] = [
        b";",
        b"=",
        b" ",
        b"\t",
        b"\"",
        b"%",
        b"%4",
        b"%C3",
        b"%A9",
        b"%zz",
        b".",
        b"0",
        b"1",
        b"authjs.session-token",
        b"\xff",
        b"x",
    ];
    let mut out = vec![0; 4096];
    for _ in 0..20_000 {
        let mut header = Vec::new();
        for _ in 0..rng.below(40) {
            if rng.below(5) == 0 {
                header.push(u8::try_from(rng.below(256)).unwrap());
            } else {
                let piece: &[u8] = pieces[rng.below(pieces.len())];
                header.extend_from_slice(piece);
            }
        }
        let count = parse(&header).count();
        assert!(count <= header.len());
        for cookie in parse(&header) {
            let needed = cookie.decoded_len();
            assert!(needed <= cookie.raw_value().len());
            let decoded = cookie.decode_into(&mut out).unwrap();
            assert_eq!(decoded.len(), needed);
            let _ = ChunkName::parse(cookie.name(), V5);
        }
        let _ = get(&header, V5);
        match reassemble_with::<4>(&header, V5, &mut out) {
            Ok(r) => {
                assert!(r.value().len() <= header.len());
                let value = r.value().to_vec();
                let present: Vec<_> = r.present().to_vec();
                // Exact-size buffer works, one byte less does not.
                let mut exact = vec![0; value.len()];
                let again = reassemble_with::<4>(&header, V5, &mut exact).unwrap();
                assert_eq!(again.value(), &value[..]);
                if !value.is_empty() {
                    let mut short = vec![0; value.len() - 1];
                    assert_eq!(
                        reassemble_with::<4>(&header, V5, &mut short).unwrap_err(),
                        CookieError::BufferTooSmall {
                            needed: value.len()
                        }
                    );
                }
                let _ = SessionCookiePlan::<4>::clear(&present).unwrap().count();
            }
            Err(CookieError::TooManyChunks { max: 4 }) => {}
            Err(e) => panic!("unexpected {e:?}"),
        }
        let _ = reassemble_with::<0>(&header, V5, &mut []);
        let _ = decode_value(&header, &mut out[..rng.below(64)]);
        if let Ok(text) = core::str::from_utf8(&header) {
            let _ = csrf_token_from_cookie(text, "s");
            let _ = verify_csrf(text, text, "s", true);
            let mut buf = [0; 512];
            let _ = write_set_cookie(text, text, &CookieOptions::new(true), &mut buf);
            let _ = write_set_cookie(
                "n",
                "v",
                &CookieOptions::new(true)
                    .with_domain(Some(text))
                    .with_path(text),
                &mut buf,
            );
        }
    }
}

// ---------------------------------------------------------------------------------------
// Fast paths against their plain definitions.

/// The parser as it was written first: split at every `;`, then at the first `=`.
fn reference_pairs(header: &[u8]) -> Vec<(&[u8], &[u8])> {
    fn trim(s: &[u8]) -> &[u8] {
        let ws = |b: &u8| *b == b' ' || *b == b'\t';
        let start = s.iter().position(|b| !ws(b)).unwrap_or(s.len());
        let end = s.iter().rposition(|b| !ws(b)).map_or(start, |i| i + 1);
        &s[start..end]
    }
    fn unquote(v: &[u8]) -> &[u8] {
        match v {
            [b'"'] => &[],
            [b'"', inner @ .., b'"'] => inner,
            _ => v,
        }
    }
    if header.len() < 2 {
        return Vec::new();
    }
    header
        .split(|&b| b == b';')
        .filter_map(|pair| {
            let eq = pair.iter().position(|&b| b == b'=')?;
            Some((trim(&pair[..eq]), unquote(trim(&pair[eq + 1..]))))
        })
        .collect()
}

fn fast_pairs(header: &[u8]) -> Vec<(&[u8], &[u8])> {
    parse(header)
        .map(|c| {
            assert_eq!(c.has_escapes(), c.raw_value().contains(&b'%'));
            (c.name(), c.raw_value())
        })
        .collect()
}

/// `scan_value` from its definition: the first `;`, and whether a `%` precedes it.
fn reference_scan(s: &[u8]) -> (Option<usize>, bool) {
    let end = s.iter().position(|&b| b == b';');
    (end, s[..end.unwrap_or(s.len())].contains(&b'%'))
}

#[test]
fn word_at_a_time_search_equals_position() {
    // Every byte value at every offset of buffers around one and two blocks, alone, after a
    // '%', before a '%', and next to a ';'.
    for len in 0..=40 {
        for b in 0..=255_u8 {
            for at in 0..len {
                for extra in [
                    None,
                    Some((b'%', 0)),
                    Some((b'%', len - 1)),
                    Some((b';', len - 1)),
                ] {
                    let mut s = vec![b'x'; len];
                    if let Some((c, i)) = extra {
                        s[i] = c;
                    }
                    s[at] = b;
                    assert_eq!(parse::scan_value(&s), reference_scan(&s), "{s:?}");
                    assert_eq!(
                        parse::find_eq_or_semi(&s),
                        s.iter().position(|&c| c == b'=' || c == b';'),
                        "{s:?}"
                    );
                }
            }
        }
    }
    // Random mixes of the separators and of bytes one bit away from them.
    let mut rng = Rng(0x5EED);
    for _ in 0..200_000 {
        let len = rng.below(40);
        let s: Vec<u8> = (0..len)
            .map(|_| match rng.below(5) {
                0 => b'=',
                1 => b';',
                2 => b'%',
                3 => u8::try_from(rng.below(256)).unwrap(),
                _ => *rng.pick(&[
                    b'<',
                    b':',
                    b'>',
                    b'$',
                    b'&',
                    b'<' ^ 0x80,
                    b';' ^ 0x80,
                    b'%' ^ 0x80,
                    0x01,
                    0,
                ]),
            })
            .collect();
        assert_eq!(
            parse::find_eq_or_semi(&s),
            s.iter().position(|&b| b == b'=' || b == b';'),
            "{s:?}"
        );
        assert_eq!(parse::scan_value(&s), reference_scan(&s), "{s:?}");
    }
}

#[test]
fn parser_equals_split_then_first_equals() {
    let mut rng = Rng(0xC0FF_EE00);
    let pieces: [&[u8]; 12] = [
        b";",
        b"=",
        b" ",
        b"\t",
        b"\"",
        b"%",
        b"a",
        b"authjs.session-token",
        b"=x;",
        b"; ",
        b"abcdefghij",
        b"\xff",
    ];
    for _ in 0..50_000 {
        let mut header = Vec::new();
        for _ in 0..rng.below(30) {
            if rng.below(4) == 0 {
                header.push(u8::try_from(rng.below(256)).unwrap());
            } else {
                header.extend_from_slice(pieces[rng.below(pieces.len())]);
            }
        }
        assert_eq!(fast_pairs(&header), reference_pairs(&header), "{header:?}");
    }
    // Long values, as session tokens are, with the separators at every offset.
    for len in 0..40 {
        for at in 0..len {
            for sep in [b';', b'='] {
                let mut header = b"n=".to_vec();
                let mut value = vec![b'x'; len];
                value[at] = sep;
                header.extend_from_slice(&value);
                header.extend_from_slice(b"; m=1");
                assert_eq!(fast_pairs(&header), reference_pairs(&header), "{header:?}");
            }
        }
    }
}

/// Reassembly from its definition: the first cookie of each chunk name, non-empty, sorted,
/// each value through `decode_value`.
fn reference_reassemble(header: &[u8]) -> (Vec<u8>, Vec<ChunkName>) {
    let mut seen: Vec<&[u8]> = Vec::new();
    let mut chunks = Vec::new();
    for (name, raw) in reference_pairs(header) {
        if seen.contains(&name) {
            continue;
        }
        seen.push(name);
        if let Some(chunk) = ChunkName::parse(name, V5) {
            if !raw.is_empty() {
                chunks.push((chunk, raw));
            }
        }
    }
    let present = chunks.iter().map(|(c, _)| *c).collect();
    chunks.sort_by_key(|(c, _)| *c);
    let mut value = Vec::new();
    for (_, raw) in chunks {
        let mut out = vec![0; raw.len()];
        value.extend_from_slice(decode_value(raw, &mut out).unwrap());
    }
    (value, present)
}

#[test]
fn reassembly_equals_its_definition() {
    let mut rng = Rng(0xFACE_B00C);
    let names = [
        "authjs.session-token",
        "authjs.session-token.0",
        "authjs.session-token.1",
        "authjs.session-token.10",
        "x",
    ];
    let values: [&[u8]; 10] = [
        b"",
        b"abc",
        b"%41",
        b"%C3%A9",
        b"%C3",
        b"%zz",
        b"a%20b",
        b"\"q%41\"",
        b"eyJ.x-y_z",
        b"%",
    ];
    let mut out = vec![0; 4096];
    for _ in 0..50_000 {
        let mut header = Vec::new();
        for _ in 0..rng.below(6) {
            header.extend_from_slice(rng.pick(&names).as_bytes());
            header.push(b'=');
            for _ in 0..rng.below(4) {
                header.extend_from_slice(values[rng.below(values.len())]);
            }
            header.extend_from_slice(b"; ");
        }
        let (value, present) = reference_reassemble(&header);
        let r = reassemble(&header, V5, &mut out).unwrap();
        assert_eq!(r.value(), &value[..], "{header:?}");
        assert_eq!(r.present(), &present[..], "{header:?}");
    }
}

#[test]
fn unreserved_run_equals_position() {
    let unreserved = |b: u8| b.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&b);
    // Every byte value ending a run of every length around the block size.
    for len in 0..=33 {
        for stop in 0..=255_u8 {
            let mut s = vec![b'a'; len];
            s.push(stop);
            s.extend_from_slice(b"%x");
            let expected = s.iter().position(|&b| !unreserved(b)).unwrap_or(s.len());
            assert_eq!(set_cookie::unreserved_run(&s), expected, "{s:?}");
        }
    }
    let mut rng = Rng(0x00AB_5E17);
    for _ in 0..100_000 {
        let len = rng.below(40);
        let s: Vec<u8> = (0..len)
            .map(|_| match rng.below(8) {
                0 => u8::try_from(rng.below(256)).unwrap(),
                _ => *rng.pick(b"aZ09-_.!~*'()"),
            })
            .collect();
        let expected = s.iter().position(|&b| !unreserved(b)).unwrap_or(s.len());
        assert_eq!(set_cookie::unreserved_run(&s), expected, "{s:?}");
    }
}

#[test]
fn token_table_equals_the_rfc_7230_definition() {
    for b in 0..=255_u8 {
        let expected = b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
        let name = [b'a', b];
        let valid = core::str::from_utf8(&name).is_ok_and(|n| {
            write_set_cookie(n, "v", &CookieOptions::new(false), &mut [0; 64])
                != Err(CookieError::InvalidName)
        });
        // Bytes above 0x7f cannot appear alone in a &str; they are never token bytes.
        assert_eq!(valid, expected && b < 0x80, "{b:#x}");
        assert_eq!(set_cookie::is_token_byte(b), expected, "{b:#x}");
    }
}
