//! Encrypted session tokens: every case of `vectors/authjs-v5.json` and `vectors/nextauth-v4.json`,
//! then the conformance checks of AUTHJS.md §10 items 6–9 (encode shape, decode tolerance,
//! secret rotation, cross-version isolation) and the decoder's check order.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers outside #[test] functions"
)]

use authcore::base64url;
use authcore::jwe::{self, AuthJsKey, DecodeOptions, Enc, NextAuthV4Key};
use authcore::rand::{RandomError, RandomSource};
use authcore::{DecodeError, EncodeError, Validation};
use authcore_tests::{accepted_kinds, json_eq, load_vectors};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// A deterministic random source (SplitMix64), for reproducible tokens.
struct TestRng(u64);

impl RandomSource for TestRng {
    fn fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), RandomError> {
        for chunk in dst.chunks_mut(8) {
            self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^= z >> 31;
            chunk.copy_from_slice(&z.to_le_bytes()[..chunk.len()]);
        }
        Ok(())
    }
}

/// A source that always fails.
struct BrokenRng;

impl RandomSource for BrokenRng {
    fn fill_bytes(&mut self, _dst: &mut [u8]) -> Result<(), RandomError> {
        Err(RandomError)
    }
}

const SALT: &str = "authjs.session-token";
const NOW: i64 = 1_700_000_000;

fn secrets(v: &Value) -> Vec<String> {
    match &v["secret"] {
        Value::String(s) => vec![s.clone()],
        Value::Array(list) => list
            .iter()
            .map(|s| s.as_str().unwrap().to_owned())
            .collect(),
        other => panic!("bad secret {other}"),
    }
}

fn v5_keys(v: &Value) -> Vec<AuthJsKey> {
    let salt = v["salt"].as_str().unwrap();
    secrets(v)
        .iter()
        .map(|s| AuthJsKey::derive(s.as_bytes(), salt).unwrap())
        .collect()
}

fn v4_key(v: &Value) -> NextAuthV4Key {
    let s = secrets(v);
    assert_eq!(s.len(), 1, "next-auth v4 has one secret");
    NextAuthV4Key::derive_salted(s[0].as_bytes(), v["salt"].as_str().unwrap()).unwrap()
}

/// Decodes a vector's token with the decoder its file is for.
fn decode_vector<'s, T: Deserialize<'s>>(
    file: &str,
    v: &Value,
    scratch: &'s mut [u8],
) -> Result<jwe::Decoded<'s, T>, DecodeError> {
    let token = v["token"].as_str().unwrap().as_bytes();
    let now = v["now"].as_i64().unwrap();
    let options = DecodeOptions::new();
    if file.starts_with("authjs") {
        jwe::decode_authjs(token, &v5_keys(v), &options, now, scratch)
    } else {
        jwe::decode_nextauth_v4(token, &v4_key(v), &options, now, scratch)
    }
}

#[test]
fn valid_vectors_decode_to_their_claims() {
    for file in ["authjs-v5.json", "nextauth-v4.json"] {
        let vectors = load_vectors(file);
        let valid: Vec<_> = vectors.iter().filter(|v| v["valid"] == true).collect();
        assert!(valid.len() >= 10, "{file}");
        for v in valid {
            let name = v["name"].as_str().unwrap();
            let token = v["token"].as_str().unwrap();
            let mut scratch = vec![0u8; jwe::scratch_len(token.len())];
            let d = decode_vector::<Value>(file, v, &mut scratch)
                .unwrap_or_else(|e| panic!("{file} {name}: {} ({e})", e.kind()));
            assert!(
                json_eq(&d.claims, &v["claims"]),
                "{file} {name}: claims {} != {}",
                d.claims,
                v["claims"]
            );
            let raw: Value = serde_json::from_slice(d.payload_json()).unwrap();
            assert!(json_eq(&raw, &v["claims"]), "{file} {name}: payload_json");
            let header: Value = serde_json::from_slice(d.header_json()).unwrap();
            assert_eq!(header, v["header"], "{file} {name}: header");
            assert_eq!(d.times.exp, v["claims"]["exp"].as_i64(), "{file} {name}");
        }
    }
}

#[test]
fn invalid_vectors_are_refused_with_the_mapped_kind() {
    for file in ["authjs-v5.json", "nextauth-v4.json"] {
        let vectors = load_vectors(file);
        let invalid: Vec<_> = vectors.iter().filter(|v| v["valid"] == false).collect();
        assert!(invalid.len() >= 8, "{file}");
        for v in invalid {
            let name = v["name"].as_str().unwrap();
            let token = v["token"].as_str().unwrap();
            let mut scratch = vec![0u8; jwe::scratch_len(token.len())];
            let err = decode_vector::<serde::de::IgnoredAny>(file, v, &mut scratch)
                .err()
                .unwrap_or_else(|| panic!("{file} {name}: accepted"));
            let kinds = accepted_kinds(v);
            assert!(
                kinds.contains(&err.kind()),
                "{file} {name}: got {} ({err}), want one of {kinds:?}",
                err.kind()
            );
        }
    }
}

#[test]
fn valid_vectors_decode_with_the_scratch_they_ask_for() {
    // `BufferTooSmall` names a size that works, and never more than `scratch_len`, the size
    // documented to be always enough.
    for file in ["authjs-v5.json", "nextauth-v4.json"] {
        for v in load_vectors(file).iter().filter(|v| v["valid"] == true) {
            let name = v["name"].as_str().unwrap();
            let mut tiny = [0u8; 8];
            let err = decode_vector::<Value>(file, v, &mut tiny).unwrap_err();
            let DecodeError::BufferTooSmall { needed } = err else {
                panic!("{file} {name}: {err:?}");
            };
            let token_len = v["token"].as_str().unwrap().len();
            assert!(
                needed <= jwe::scratch_len(token_len),
                "{file} {name}: asks for {needed}"
            );
            let mut exact = vec![0u8; needed];
            decode_vector::<Value>(file, v, &mut exact)
                .unwrap_or_else(|e| panic!("{file} {name}: with {needed} bytes: {e}"));
        }
    }
}

#[test]
fn buffer_too_small_always_names_a_size_that_works() {
    // Escaped strings need the unescape arena, so every scratch size from nothing to
    // `scratch_len` is tried: each refusal must name a size that then succeeds.
    let k = key("secret");
    let keys = std::slice::from_ref(&k);
    let payload = br#"{"name":"Ad\u00e9 \"q\" \ud83d\ude00","sub":"s","list":["\n","\/"]}"#;
    let mut out = vec![0u8; 1024];
    let token = jwe::encode_authjs_json(&k, payload, NOW, 60, &mut TestRng(3), &mut out)
        .unwrap()
        .to_owned();
    #[derive(Deserialize)]
    #[allow(dead_code)]
    struct Borrowing<'a> {
        name: &'a str,
        list: Vec<&'a str>,
    }
    for size in 0..=jwe::scratch_len(token.len()) {
        let mut scratch = vec![0u8; size];
        let r = jwe::decode_authjs::<Borrowing<'_>>(
            token.as_bytes(),
            keys,
            &DecodeOptions::new(),
            NOW,
            &mut scratch,
        );
        match r {
            Ok(d) => assert_eq!(d.claims.name, "Adé \"q\" 😀"),
            Err(DecodeError::BufferTooSmall { needed }) => {
                assert!(needed > size, "{size}: {needed}");
                let mut enough = vec![0u8; needed];
                jwe::decode_authjs::<Borrowing<'_>>(
                    token.as_bytes(),
                    keys,
                    &DecodeOptions::new(),
                    NOW,
                    &mut enough,
                )
                .unwrap_or_else(|e| panic!("{size}: needed {needed}: {e}"));
            }
            Err(e) => panic!("{size}: {e}"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Helpers to build tokens the encoder would never write.

/// Base64url of `bytes`.
fn b64(bytes: &[u8]) -> String {
    let mut out = vec![0u8; base64url::encoded_len(bytes.len()).unwrap()];
    base64url::encode(bytes, &mut out).unwrap().to_owned()
}

fn unb64(text: &str) -> Vec<u8> {
    let mut out = vec![0u8; base64url::decoded_len(text.len()).unwrap()];
    let n = base64url::decode(text.as_bytes(), &mut out).unwrap().len();
    out.truncate(n);
    out
}

/// A compact JWE with any protected header and plaintext, encrypted with `enc` under `key`'s
/// matching view (the raw way, not through `encode_authjs`).
fn seal_v5(key: &AuthJsKey, enc: Enc, header: &str, plaintext: &[u8]) -> String {
    let aad = b64(header.as_bytes());
    let mut buf = plaintext.to_vec();
    let (iv, tag) = match enc {
        Enc::A256CbcHs512 => {
            let iv = [7u8; 16];
            buf.resize(enc.ciphertext_len(plaintext.len()).unwrap(), 0);
            let (_, tag) = key
                .cbc_hs512()
                .encrypt_in_place(&iv, aad.as_bytes(), &mut buf, plaintext.len())
                .unwrap();
            (iv.to_vec(), tag.to_vec())
        }
        _ => {
            let iv = [9u8; 12];
            let tag = key
                .a256gcm()
                .encrypt_in_place(&iv, aad.as_bytes(), &mut buf)
                .unwrap();
            (iv.to_vec(), tag.to_vec())
        }
    };
    format!("{aad}..{}.{}.{}", b64(&iv), b64(&buf), b64(&tag))
}

fn seal_v4(key: &NextAuthV4Key, header: &str, plaintext: &[u8]) -> String {
    let aad = b64(header.as_bytes());
    let mut buf = plaintext.to_vec();
    let iv = [3u8; 12];
    let tag = key
        .a256gcm()
        .encrypt_in_place(&iv, aad.as_bytes(), &mut buf)
        .unwrap();
    format!("{aad}..{}.{}.{}", b64(&iv), b64(&buf), b64(&tag))
}

fn v5_header(key: &AuthJsKey) -> String {
    format!(
        r#"{{"alg":"dir","enc":"A256CBC-HS512","kid":"{}"}}"#,
        key.kid(Enc::A256CbcHs512)
    )
}

fn key(secret: &str) -> AuthJsKey {
    AuthJsKey::derive(secret.as_bytes(), SALT).unwrap()
}

fn decode_v5(token: &str, keys: &[AuthJsKey], now: i64) -> Result<Value, DecodeError> {
    let mut scratch = vec![0u8; jwe::scratch_len(token.len())];
    jwe::decode_authjs::<Value>(
        token.as_bytes(),
        keys,
        &DecodeOptions::new(),
        now,
        &mut scratch,
    )
    .map(|d| d.claims)
}

fn decode_v4(token: &str, key: &NextAuthV4Key, now: i64) -> Result<Value, DecodeError> {
    let mut scratch = vec![0u8; jwe::scratch_len(token.len())];
    jwe::decode_nextauth_v4::<Value>(
        token.as_bytes(),
        key,
        &DecodeOptions::new(),
        now,
        &mut scratch,
    )
    .map(|d| d.claims)
}

fn encode_v5<T: Serialize + ?Sized>(key: &AuthJsKey, claims: &T, now: i64, max_age: u32) -> String {
    let len = jwe::encoded_len_authjs(claims, now, max_age).unwrap();
    let mut out = vec![0u8; len];
    let token = jwe::encode_authjs(key, claims, now, max_age, &mut TestRng(1), &mut out).unwrap();
    assert_eq!(token.len(), len);
    token.to_owned()
}

fn encode_v4<T: Serialize + ?Sized>(
    key: &NextAuthV4Key,
    claims: &T,
    now: i64,
    max_age: u32,
) -> String {
    let len = jwe::encoded_len_nextauth_v4(claims, now, max_age).unwrap();
    let mut out = vec![0u8; len];
    let token =
        jwe::encode_nextauth_v4(key, claims, now, max_age, &mut TestRng(2), &mut out).unwrap();
    assert_eq!(token.len(), len);
    token.to_owned()
}

fn is_uuid_v4(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, &c)| match i {
            8 | 13 | 18 | 23 => c == b'-',
            _ => c.is_ascii_digit() || (b'a'..=b'f').contains(&c),
        })
        && b[14] == b'4'
        && matches!(b[19], b'8' | b'9' | b'a' | b'b')
}

#[derive(Serialize)]
struct Session<'a> {
    name: &'a str,
    email: &'a str,
    iat: i64,
    exp: i64,
    jti: &'a str,
    sub: &'a str,
}

const SESSION: Session<'static> = Session {
    name: "Ada \"the\" Countess é",
    email: "ada@example.com",
    iat: 1,
    exp: 2,
    jti: "caller-chosen",
    sub: "user-1",
};

// ---------------------------------------------------------------------------------------------
// §10.6: encode shape.

fn check_shape(token: &str, header: &str, iv_chars: usize, tag_chars: usize) {
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 5, "{token}");
    assert_eq!(parts[1], "");
    assert_eq!(unb64(parts[0]), header.as_bytes());
    assert_eq!(parts[2].len(), iv_chars);
    assert_eq!(parts[4].len(), tag_chars);
    assert!(!parts[3].is_empty());
}

fn check_payload(payload_json: &[u8], max_age: u32, compact: bool) {
    let text = std::str::from_utf8(payload_json).unwrap();
    let v: Value = serde_json::from_str(text).unwrap();
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    // Token fields first, in their order, then iat, exp, jti.
    assert_eq!(
        keys,
        ["name", "email", "sub", "iat", "exp", "jti"],
        "{text}"
    );
    assert_eq!(v["iat"], NOW);
    assert_eq!(v["exp"], NOW + i64::from(max_age));
    assert!(is_uuid_v4(v["jti"].as_str().unwrap()), "{text}");
    assert_eq!(v["name"], SESSION.name);
    // Compact JSON, as JSON.stringify writes it.
    if compact {
        assert!(!text.contains(": ") && !text.contains(", "), "{text}");
    }
}

#[test]
fn encode_shape_authjs() {
    let k = key("secret");
    let token = encode_v5(&k, &SESSION, NOW, jwe::DEFAULT_MAX_AGE);
    check_shape(&token, &v5_header(&k), 22, 43);
    assert_eq!(
        k.kid(Enc::A256CbcHs512),
        "7x9DUMVaEU6giab0l0OWDt4e4SsRH_cbwMof2EzEyy6onK5o8xSPPB799RVoqm2v6z674kQCv9jom2T8S-a1dQ"
    );
    let mut scratch = vec![0u8; jwe::scratch_len(token.len())];
    let d = jwe::decode_authjs::<Value>(
        token.as_bytes(),
        std::slice::from_ref(&k),
        &DecodeOptions::new(),
        NOW,
        &mut scratch,
    )
    .unwrap();
    check_payload(d.payload_json(), jwe::DEFAULT_MAX_AGE, true);
    assert_eq!(d.header_json(), v5_header(&k).as_bytes());
}

#[test]
fn encode_shape_nextauth_v4() {
    let k = NextAuthV4Key::derive(b"secret").unwrap();
    let token = encode_v4(&k, &SESSION, NOW, 3600);
    check_shape(&token, r#"{"alg":"dir","enc":"A256GCM"}"#, 16, 22);
    let mut scratch = vec![0u8; jwe::scratch_len(token.len())];
    let d = jwe::decode_nextauth_v4::<Value>(
        token.as_bytes(),
        &k,
        &DecodeOptions::new(),
        NOW,
        &mut scratch,
    )
    .unwrap();
    check_payload(d.payload_json(), 3600, true);
}

#[test]
fn encode_json_variants_filter_raw_json() {
    let k5 = key("secret");
    let k4 = NextAuthV4Key::derive(b"secret").unwrap();
    let payload =
        br#" { "name" : "Ada \"the\" Countess \u00e9", "\u0069at": 5, "email":"ada@example.com","exp":"x", "sub":"user-1","jti":[1] } "#;
    let len = jwe::encoded_len_authjs_json(payload, NOW, 60).unwrap();
    let mut out = vec![0u8; len];
    let t5 = jwe::encode_authjs_json(&k5, payload, NOW, 60, &mut TestRng(5), &mut out)
        .unwrap()
        .to_owned();
    assert_eq!(t5.len(), len);
    let len = jwe::encoded_len_nextauth_v4_json(payload, NOW, 60).unwrap();
    let mut out = vec![0u8; len];
    let t4 = jwe::encode_nextauth_v4_json(&k4, payload, NOW, 60, &mut TestRng(5), &mut out)
        .unwrap()
        .to_owned();
    assert_eq!(t4.len(), len);
    let mut scratch = vec![0u8; 4096];
    let d = jwe::decode_authjs::<Value>(
        t5.as_bytes(),
        std::slice::from_ref(&k5),
        &DecodeOptions::new(),
        NOW,
        &mut scratch,
    )
    .unwrap();
    let text = std::str::from_utf8(d.payload_json()).unwrap();
    assert!(
        text.starts_with(
            r#"{"name" : "Ada \"the\" Countess \u00e9","email":"ada@example.com","sub":"user-1","iat":1700000000,"exp":1700000060,"jti":""#
        ),
        "{text}"
    );
    check_payload(d.payload_json(), 60, false);
    let mut scratch = vec![0u8; 4096];
    let d = jwe::decode_nextauth_v4::<Value>(
        t4.as_bytes(),
        &k4,
        &DecodeOptions::new(),
        NOW,
        &mut scratch,
    )
    .unwrap();
    check_payload(d.payload_json(), 60, false);

    // Not an object, or not JSON.
    for bad in [&b"[]"[..], b"1", b"", b"{\"a\":1,}", b"{} {}"] {
        let e = jwe::encode_authjs_json(&k5, bad, NOW, 60, &mut TestRng(5), &mut out).unwrap_err();
        assert_eq!(e.kind(), "bad_claims", "{:?}", std::str::from_utf8(bad));
        assert!(jwe::encoded_len_authjs_json(bad, NOW, 60).is_err());
    }
}

#[test]
fn encode_errors() {
    let k5 = key("secret");
    let k4 = NextAuthV4Key::derive(b"secret").unwrap();
    let need = jwe::encoded_len_authjs(&SESSION, NOW, 60).unwrap();
    let mut out = vec![0u8; need - 1];
    assert_eq!(
        jwe::encode_authjs(&k5, &SESSION, NOW, 60, &mut TestRng(1), &mut out),
        Err(EncodeError::BufferTooSmall { needed: need })
    );
    let need4 = jwe::encoded_len_nextauth_v4(&SESSION, NOW, 60).unwrap();
    let mut out = vec![0u8; need4 - 1];
    assert_eq!(
        jwe::encode_nextauth_v4(&k4, &SESSION, NOW, 60, &mut TestRng(1), &mut out),
        Err(EncodeError::BufferTooSmall { needed: need4 })
    );
    let mut out = vec![0u8; 4096];
    // A bigger buffer is fine: the token is a prefix.
    let t = jwe::encode_authjs(&k5, &SESSION, NOW, 60, &mut TestRng(1), &mut out).unwrap();
    assert_eq!(t.len(), need);
    assert_eq!(
        jwe::encode_authjs(&k5, &SESSION, -1, 60, &mut TestRng(1), &mut out),
        Err(EncodeError::TimeOutOfRange)
    );
    assert_eq!(
        jwe::encode_nextauth_v4(&k4, &SESSION, 253_402_300_799, 1, &mut TestRng(1), &mut out),
        Err(EncodeError::TimeOutOfRange)
    );
    assert_eq!(
        jwe::encode_authjs(&k5, &SESSION, NOW, 60, &mut BrokenRng, &mut out),
        Err(EncodeError::Random(RandomError))
    );
    for e in [
        jwe::encode_authjs(&k5, &[1, 2], NOW, 60, &mut TestRng(1), &mut out).unwrap_err(),
        jwe::encode_authjs(&k5, "text", NOW, 60, &mut TestRng(1), &mut out).unwrap_err(),
        jwe::encode_nextauth_v4(&k4, &None::<u8>, NOW, 60, &mut TestRng(1), &mut out).unwrap_err(),
    ] {
        assert_eq!(e.kind(), "bad_claims");
    }
    assert_eq!(EncodeError::TimeOutOfRange.kind(), "time_out_of_range");
    assert_eq!(EncodeError::TooLong.kind(), "too_long");
}

#[test]
fn seal_encrypts_a_stamped_plaintext_as_is() {
    let k5 = key("secret");
    let k4 = NextAuthV4Key::derive(b"secret").unwrap();
    let plaintext = br#"{"sub":"u","iat":1700000000,"exp":1700000060,"jti":"given"}"#;
    let mut rng = TestRng(4);
    // Through a trait object, as the session pipeline holds its random source.
    let dyn_rng: &mut dyn RandomSource = &mut rng;
    let mut out = vec![0u8; jwe::sealed_len_authjs(plaintext.len()).unwrap()];
    let t5 = jwe::seal_authjs(&k5, plaintext, dyn_rng, &mut out)
        .unwrap()
        .to_owned();
    let mut out4 = vec![0u8; jwe::sealed_len_nextauth_v4(plaintext.len()).unwrap()];
    let t4 = jwe::seal_nextauth_v4(&k4, plaintext, &mut TestRng(4), &mut out4)
        .unwrap()
        .to_owned();
    check_shape(&t5, &v5_header(&k5), 22, 43);
    check_shape(&t4, r#"{"alg":"dir","enc":"A256GCM"}"#, 16, 22);
    let mut scratch = vec![0u8; 1024];
    let d = jwe::decode_authjs::<Value>(
        t5.as_bytes(),
        std::slice::from_ref(&k5),
        &DecodeOptions::new(),
        NOW,
        &mut scratch,
    )
    .unwrap();
    assert_eq!(d.payload_json(), plaintext);
    let d = jwe::decode_nextauth_v4::<Value>(
        t4.as_bytes(),
        &k4,
        &DecodeOptions::new(),
        NOW,
        &mut scratch,
    )
    .unwrap();
    assert_eq!(d.payload_json(), plaintext);
    let mut small = vec![0u8; out.len() - 1];
    assert_eq!(
        jwe::seal_authjs(&k5, plaintext, &mut TestRng(4), &mut small),
        Err(EncodeError::BufferTooSmall { needed: out.len() })
    );
    for bad in [&b"[]"[..], b"", b"{", b"{}x"] {
        assert_eq!(
            jwe::seal_authjs(&k5, bad, &mut TestRng(4), &mut out)
                .unwrap_err()
                .kind(),
            "bad_claims"
        );
    }
    assert_eq!(jwe::sealed_len_authjs(usize::MAX), None);
}

#[test]
fn tokens_differ_by_iv_and_jti() {
    let k = key("secret");
    let mut a = vec![0u8; 1024];
    let mut b = vec![0u8; 1024];
    let ta = jwe::encode_authjs(&k, &SESSION, NOW, 60, &mut TestRng(10), &mut a).unwrap();
    let tb = jwe::encode_authjs(&k, &SESSION, NOW, 60, &mut TestRng(11), &mut b).unwrap();
    assert_ne!(ta, tb);
    let ia: Vec<&str> = ta.split('.').collect();
    let ib: Vec<&str> = tb.split('.').collect();
    assert_ne!(ia[2], ib[2]);
    let ja = decode_v5(ta, std::slice::from_ref(&k), NOW).unwrap();
    let jb = decode_v5(tb, std::slice::from_ref(&k), NOW).unwrap();
    assert_ne!(ja["jti"], jb["jti"]);
}

// ---------------------------------------------------------------------------------------------
// §10.7: decode tolerance.

#[test]
fn exp_tolerance_is_15_seconds() {
    let k = key("secret");
    let keys = std::slice::from_ref(&k);
    // Issued `max_age` seconds before `exp`.
    let exp_at = |exp: i64| encode_v5(&k, &json!({"sub": "u"}), exp - 60, 60);
    assert!(decode_v5(&exp_at(NOW - 14), keys, NOW).is_ok());
    assert_eq!(
        decode_v5(&exp_at(NOW - 15), keys, NOW).unwrap_err(),
        DecodeError::Expired {
            exp: NOW - 15,
            now: NOW
        }
    );
    // Zero leeway, the strict RFC reading.
    let token = exp_at(NOW + 1);
    let strict = DecodeOptions::new().with_validation(Validation::new().with_leeway(0));
    let mut scratch = vec![0u8; jwe::scratch_len(token.len())];
    assert!(
        jwe::decode_authjs::<Value>(token.as_bytes(), keys, &strict, NOW, &mut scratch).is_ok()
    );
    let e = jwe::decode_authjs::<Value>(token.as_bytes(), keys, &strict, NOW + 1, &mut scratch)
        .unwrap_err();
    assert_eq!(e.kind(), "expired");

    let k4 = NextAuthV4Key::derive(b"secret").unwrap();
    let v4_exp_at = |exp: i64| encode_v4(&k4, &json!({"sub": "u"}), exp - 60, 60);
    assert!(decode_v4(&v4_exp_at(NOW - 14), &k4, NOW).is_ok());
    assert_eq!(
        decode_v4(&v4_exp_at(NOW - 15), &k4, NOW)
            .unwrap_err()
            .kind(),
        "expired"
    );
}

#[test]
fn nbf_tolerance_is_15_seconds() {
    let k = key("secret");
    let keys = std::slice::from_ref(&k);
    #[derive(Serialize)]
    struct Nbf {
        nbf: i64,
    }
    let nbf_at = |nbf: i64| encode_v5(&k, &Nbf { nbf }, NOW, 60);
    assert!(decode_v5(&nbf_at(NOW + 15), keys, NOW).is_ok());
    assert_eq!(
        decode_v5(&nbf_at(NOW + 16), keys, NOW).unwrap_err(),
        DecodeError::NotYetValid {
            nbf: NOW + 16,
            now: NOW
        }
    );
}

#[test]
fn claim_types_and_payload_shape() {
    let k = key("secret");
    let keys = std::slice::from_ref(&k);
    let h = v5_header(&k);
    let cases: [(&[u8], &str); 8] = [
        (br#"{"exp":"1"}"#, "invalid_claim"),
        (br#"{"nbf":true}"#, "invalid_claim"),
        (br#"{"iat":null}"#, "invalid_claim"),
        (br#"{"exp":-1}"#, "invalid_claim"),
        (b"[]", "bad_json"),
        (b"\"x\"", "bad_json"),
        (b"{\"a\":1} x", "bad_json"),
        (b"{\"a\":\xff}", "bad_json"),
    ];
    for (plaintext, kind) in cases {
        let token = seal_v5(&k, Enc::A256CbcHs512, &h, plaintext);
        let e = decode_v5(&token, keys, NOW).unwrap_err();
        assert_eq!(
            e.kind(),
            kind,
            "{:?}: {e}",
            String::from_utf8_lossy(plaintext)
        );
    }
    // No registered claims at all is fine (jose requires none).
    assert_eq!(
        decode_v5(&seal_v5(&k, Enc::A256CbcHs512, &h, b"{}"), keys, NOW).unwrap(),
        json!({})
    );
    // A type that does not fit the claims is a mismatch, after the claim checks.
    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Needs {
        email: String,
    }
    let token = seal_v5(&k, Enc::A256CbcHs512, &h, br#"{"sub":"u"}"#);
    let mut scratch = vec![0u8; 1024];
    let e = jwe::decode_authjs::<Needs>(
        token.as_bytes(),
        keys,
        &DecodeOptions::new(),
        NOW,
        &mut scratch,
    )
    .unwrap_err();
    assert_eq!(e.kind(), "claims_mismatch");
}

#[test]
fn encrypted_key_must_be_empty() {
    let k = key("secret");
    let token = encode_v5(&k, &SESSION, NOW, 60);
    let first_dot = token.find('.').unwrap();
    for key_segment in ["AAAA", "A", "-_"] {
        let bad = format!(
            "{}{}{}",
            &token[..=first_dot],
            key_segment,
            &token[first_dot + 1..]
        );
        assert_eq!(
            decode_v5(&bad, std::slice::from_ref(&k), NOW).unwrap_err(),
            DecodeError::Malformed(authcore::error::Malformed::EncryptedKeyPresent)
        );
    }
}

// ---------------------------------------------------------------------------------------------
// §10.8: secret rotation.

#[test]
fn rotation() {
    let s1 = key("first-secret");
    let s2 = key("second-secret");
    // Auth.js encodes with secrets[0].
    let keys = [s2.clone(), s1.clone()];
    let token = encode_v5(&keys[0], &SESSION, NOW, 60);
    let parts: Vec<&str> = token.split('.').collect();
    let header: Value = serde_json::from_slice(&unb64(parts[0])).unwrap();
    assert_eq!(header["kid"], s2.kid(Enc::A256CbcHs512));

    // A token minted with S1 decodes with [S2, S1], and with [S1] alone; not with [S2].
    let old = encode_v5(&s1, &SESSION, NOW, 60);
    assert!(decode_v5(&old, &keys, NOW).is_ok());
    assert!(decode_v5(&old, std::slice::from_ref(&s1), NOW).is_ok());
    assert_eq!(
        decode_v5(&old, std::slice::from_ref(&s2), NOW).unwrap_err(),
        DecodeError::UnknownKid
    );

    // Without a kid only the first secret is tried.
    let kidless = seal_v5(
        &s1,
        Enc::A256CbcHs512,
        r#"{"alg":"dir","enc":"A256CBC-HS512"}"#,
        br#"{"sub":"u"}"#,
    );
    assert_eq!(
        decode_v5(&kidless, &keys, NOW).unwrap_err(),
        DecodeError::BadTag
    );
    assert!(decode_v5(&kidless, &[s1.clone(), s2.clone()], NOW).is_ok());

    // A GCM token without kid (@auth/core 0.18.1 to 0.22.x) decodes with the first key.
    let gcm = seal_v5(
        &s1,
        Enc::A256Gcm,
        r#"{"alg":"dir","enc":"A256GCM"}"#,
        br#"{"sub":"g"}"#,
    );
    assert_eq!(
        decode_v5(&gcm, std::slice::from_ref(&s1), NOW).unwrap(),
        json!({"sub": "g"})
    );
    assert_eq!(
        decode_v5(&gcm, &keys, NOW).unwrap_err(),
        DecodeError::BadTag
    );
    // With a kid, the GCM thumbprint selects the key; the CBC thumbprint does not.
    let with_kid = |kid: &str| {
        seal_v5(
            &s1,
            Enc::A256Gcm,
            &format!(r#"{{"alg":"dir","enc":"A256GCM","kid":"{kid}"}}"#),
            br#"{"sub":"g"}"#,
        )
    };
    assert!(decode_v5(&with_kid(s1.kid(Enc::A256Gcm)), &keys, NOW).is_ok());
    assert_eq!(
        decode_v5(&with_kid(s1.kid(Enc::A256CbcHs512)), &keys, NOW).unwrap_err(),
        DecodeError::UnknownKid
    );
    // The kid is compared after JSON unescaping.
    let kid = s1.kid(Enc::A256CbcHs512);
    let escaped = format!("\\u{:04x}{}", kid.as_bytes()[0], &kid[1..]);
    let token = seal_v5(
        &s1,
        Enc::A256CbcHs512,
        &format!(r#"{{"alg":"dir","enc":"A256CBC-HS512","kid":"{escaped}"}}"#),
        br#"{"sub":"e"}"#,
    );
    assert!(decode_v5(&token, &keys, NOW).is_ok());

    // No keys at all is a configuration error.
    assert_eq!(decode_v5(&old, &[], NOW).unwrap_err(), DecodeError::NoKey);
    assert_eq!(DecodeError::NoKey.kind(), "no_key");
}

#[test]
fn the_salt_separates_keys() {
    let plain = key("secret");
    let secure = AuthJsKey::derive(b"secret", "__Secure-authjs.session-token").unwrap();
    let token = encode_v5(&secure, &SESSION, NOW, 60);
    assert!(decode_v5(&token, std::slice::from_ref(&secure), NOW).is_ok());
    assert_eq!(
        decode_v5(&token, std::slice::from_ref(&plain), NOW).unwrap_err(),
        DecodeError::UnknownKid
    );
}

// ---------------------------------------------------------------------------------------------
// §10.9: cross-version isolation.

#[test]
fn v4_and_v5_tokens_never_cross() {
    for secret in ["secret", "a much longer secret with spaces", "é"] {
        let k5 = key(secret);
        let k4 = NextAuthV4Key::derive(secret.as_bytes()).unwrap();
        let t5 = encode_v5(&k5, &SESSION, NOW, 60);
        let t4 = encode_v4(&k4, &SESSION, NOW, 60);
        assert!(decode_v5(&t5, std::slice::from_ref(&k5), NOW).is_ok());
        assert!(decode_v4(&t4, &k4, NOW).is_ok());
        assert_eq!(
            decode_v4(&t5, &k4, NOW).unwrap_err(),
            DecodeError::UnsupportedEnc
        );
        // v4 token under v5 rules: no kid, so the first key's GCM view, which is not v4's key.
        assert_eq!(
            decode_v5(&t4, std::slice::from_ref(&k5), NOW).unwrap_err(),
            DecodeError::BadTag
        );
        // A v5-derived GCM token is not a v4 token either.
        let g5 = seal_v5(&k5, Enc::A256Gcm, r#"{"alg":"dir","enc":"A256GCM"}"#, b"{}");
        assert_eq!(decode_v4(&g5, &k4, NOW).unwrap_err(), DecodeError::BadTag);
    }
}

// ---------------------------------------------------------------------------------------------
// Header and structure checks, in the documented order.

#[test]
fn header_checks() {
    let k = key("secret");
    let keys = std::slice::from_ref(&k);
    let k4 = NextAuthV4Key::derive(b"secret").unwrap();
    let kid = k.kid(Enc::A256CbcHs512);
    let cases: Vec<(String, &str)> = vec![
        (r#"{"enc":"A256CBC-HS512"}"#.into(), "unsupported_alg"),
        (
            r#"{"alg":"none","enc":"A256CBC-HS512"}"#.into(),
            "unsupported_alg",
        ),
        (
            r#"{"alg":"DIR","enc":"A256CBC-HS512"}"#.into(),
            "unsupported_alg",
        ),
        (
            r#"{"alg":"A256KW","enc":"A256CBC-HS512"}"#.into(),
            "unsupported_alg",
        ),
        (r#"{"alg":"dir"}"#.into(), "unsupported_enc"),
        (
            r#"{"alg":"dir","enc":"A128CBC-HS256"}"#.into(),
            "unsupported_enc",
        ),
        (r#"{"alg":"dir","enc":"a256gcm"}"#.into(), "unsupported_enc"),
        (
            format!(r#"{{"alg":"dir","enc":"A256CBC-HS512","kid":"{kid}","crit":["exp"]}}"#),
            "unsupported_crit",
        ),
        (
            format!(r#"{{"alg":"dir","enc":"A256CBC-HS512","kid":"{kid}","zip":"DEF"}}"#),
            "unsupported_zip",
        ),
        (
            r#"{"alg":"dir","enc":"A256CBC-HS512","kid":7}"#.into(),
            "malformed",
        ),
        (
            r#"{"alg":"dir","alg":"dir","enc":"A256CBC-HS512"}"#.into(),
            "malformed",
        ),
        (
            r#"{"alg":"dir","enc":"A256CBC-HS512","kid":"nope"}"#.into(),
            "unknown_kid",
        ),
        (r#"["alg","dir"]"#.into(), "bad_json"),
        (r#"{"alg":"dir","enc":"A256CBC-HS512",}"#.into(), "bad_json"),
    ];
    for (header, kind) in &cases {
        let token = seal_v5(&k, Enc::A256CbcHs512, header, b"{}");
        let e = decode_v5(&token, keys, NOW).unwrap_err();
        assert_eq!(e.kind(), *kind, "{header}: {e}");
    }
    // Unknown members are ignored (as jose does); whitespace and order are free.
    let header =
        format!(r#" {{ "kid" : "{kid}", "typ":"JWT", "enc":"A256CBC-HS512","alg":"dir" }} "#);
    assert!(decode_v5(&seal_v5(&k, Enc::A256CbcHs512, &header, b"{}"), keys, NOW).is_ok());
    // v4 ignores kid, refuses the v5 enc.
    let t = seal_v4(
        &k4,
        r#"{"alg":"dir","enc":"A256GCM","kid":"anything"}"#,
        b"{}",
    );
    assert!(decode_v4(&t, &k4, NOW).is_ok());
    let t = seal_v4(&k4, r#"{"alg":"dir","enc":"A256GCM","crit":[]}"#, b"{}");
    assert_eq!(
        decode_v4(&t, &k4, NOW).unwrap_err(),
        DecodeError::UnsupportedCrit
    );
    let t = seal_v4(&k4, r#"{"alg":"dir","enc":"A256CBC-HS512"}"#, b"{}");
    assert_eq!(
        decode_v4(&t, &k4, NOW).unwrap_err(),
        DecodeError::UnsupportedEnc
    );
    assert_eq!(DecodeError::UnsupportedZip.kind(), "unsupported_zip");
}

#[test]
fn structure_checks() {
    use authcore::error::{Malformed, Part};
    let k = key("secret");
    let keys = std::slice::from_ref(&k);
    let token = encode_v5(&k, &SESSION, NOW, 60);
    let p: Vec<&str> = token.split('.').collect();
    let join = |parts: &[&str]| parts.join(".");
    let m = DecodeError::Malformed;
    let ct = unb64(p[3]);
    let short_ct = b64(&ct[..ct.len() - 1]);
    let short_tag = b64(&unb64(p[4])[..16]);
    let cases: Vec<(String, DecodeError)> = vec![
        (String::new(), m(Malformed::JweSegments)),
        (join(&p[..4]), m(Malformed::JweSegments)),
        (format!("{token}."), m(Malformed::JweSegments)),
        (
            join(&[p[0], "", p[2], p[3], p[4], ""]),
            m(Malformed::JweSegments),
        ),
        (
            join(&["", "", p[2], p[3], p[4]]),
            m(Malformed::EmptySegment),
        ),
        (
            join(&[p[0], "", "", p[3], p[4]]),
            m(Malformed::EmptySegment),
        ),
        (
            join(&[p[0], "", p[2], "", p[4]]),
            m(Malformed::EmptySegment),
        ),
        (
            join(&[p[0], "", p[2], p[3], ""]),
            m(Malformed::EmptySegment),
        ),
        // IV and tag lengths, once the header is understood.
        (
            join(&[p[0], "", "AAAAAAAAAAAAAAAA", p[3], p[4]]),
            m(Malformed::BadLength),
        ),
        (
            join(&[p[0], "", p[2], p[3], &short_tag]),
            m(Malformed::BadLength),
        ),
        (
            join(&[p[0], "", &"A".repeat(400), p[3], p[4]]),
            m(Malformed::BadLength),
        ),
        // A CBC ciphertext that is not whole blocks.
        (
            join(&[p[0], "", p[2], &short_ct, p[4]]),
            m(Malformed::BadLength),
        ),
    ];
    for (t, want) in &cases {
        assert_eq!(decode_v5(t, keys, NOW).unwrap_err(), *want, "{t}");
    }
    // Base64 errors name the segment, and come before header and length checks.
    for (i, part) in [
        (0, Part::Header),
        (2, Part::Iv),
        (3, Part::Ciphertext),
        (4, Part::Tag),
    ] {
        for bad in ["A", "AB=", "A*BC", "AB C", "AF"] {
            let mut q = p.clone();
            q[i] = bad;
            let e = decode_v5(&join(&q), keys, NOW).unwrap_err();
            assert!(
                matches!(e, DecodeError::BadBase64 { part: got, .. } if got == part),
                "{i} {bad}: {e:?}"
            );
        }
    }
    // A long IV with a bad character deep inside is still a base64 error, with its offset.
    let mut long_iv = "A".repeat(400);
    long_iv.replace_range(123..124, "*");
    let e = decode_v5(&join(&[p[0], "", &long_iv, p[3], p[4]]), keys, NOW).unwrap_err();
    assert_eq!(
        e,
        DecodeError::BadBase64 {
            part: Part::Iv,
            error: base64url::Base64Error::InvalidByte { offset: 123 }
        }
    );
    // Size first.
    let options = DecodeOptions::new().with_max_token_len(token.len() - 1);
    let mut scratch = vec![0u8; 4096];
    assert_eq!(
        jwe::decode_authjs::<Value>(token.as_bytes(), keys, &options, NOW, &mut scratch)
            .unwrap_err(),
        DecodeError::TooLarge {
            len: token.len(),
            max: token.len() - 1
        }
    );
    let huge = "A".repeat(jwe::DEFAULT_MAX_TOKEN_LEN + 1);
    assert_eq!(decode_v5(&huge, keys, NOW).unwrap_err().kind(), "too_large");
}

#[test]
fn every_bit_of_iv_ciphertext_and_tag_matters() {
    let k = key("secret");
    let keys = std::slice::from_ref(&k);
    let k4 = NextAuthV4Key::derive(b"secret").unwrap();
    for (token, v5) in [
        (encode_v5(&k, &SESSION, NOW, 60), true),
        (encode_v4(&k4, &SESSION, NOW, 60), false),
    ] {
        let p: Vec<&str> = token.split('.').collect();
        // Flip each bit of IV, ciphertext and tag (re-encoded, so base64 stays valid).
        for seg in [2, 3, 4] {
            let raw = unb64(p[seg]);
            for bit in 0..raw.len() * 8 {
                let mut flipped = raw.clone();
                flipped[bit / 8] ^= 1 << (bit % 8);
                let mut q: Vec<String> = p.iter().map(|s| (*s).to_owned()).collect();
                q[seg] = b64(&flipped);
                let t = q.join(".");
                let e = if v5 {
                    decode_v5(&t, keys, NOW)
                } else {
                    decode_v4(&t, &k4, NOW)
                }
                .unwrap_err();
                assert_eq!(e, DecodeError::BadTag, "segment {seg} bit {bit}");
            }
        }
    }
}
