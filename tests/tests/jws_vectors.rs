//! Every case of `vectors/jws-valid.json` decodes to exactly its recorded claims, and every case
//! of `vectors/jws-invalid.json` is refused with a kind its `reason` maps to.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use authcore::jws::{self, DecodeOptions};
use authcore::{Algorithm, HmacKey, Validation};
use authcore_tests::{accepted_kinds, hex, json_eq, load_vectors};
use serde_json::Value;

fn key_for(v: &Value) -> HmacKey {
    let alg = Algorithm::from_name(v["alg"].as_str().unwrap().as_bytes()).unwrap();
    HmacKey::new(alg, &hex(v["secret_hex"].as_str().unwrap())).unwrap()
}

/// The vectors' time rules are stated with zero leeway; their size limit is 64 KiB.
fn options() -> DecodeOptions<'static> {
    DecodeOptions::new()
        .with_validation(Validation::new().with_leeway(0))
        .with_max_token_len(65_536)
}

#[test]
fn valid_vectors_decode_to_their_claims() {
    let vectors = load_vectors("jws-valid.json");
    assert!(vectors.len() >= 30);
    for v in &vectors {
        let name = v["name"].as_str().unwrap();
        let token = v["token"].as_str().unwrap();
        let now = v["now"].as_i64().unwrap();
        let key = key_for(v);
        let mut scratch = vec![0u8; jws::scratch_len(token.len())];
        // Typed through authcore's own deserializer into a generic JSON value.
        let d = jws::decode::<Value>(token.as_bytes(), &key, &options(), now, &mut scratch)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(
            json_eq(&d.claims, &v["claims"]),
            "{name}: claims {} != {}",
            d.claims,
            v["claims"]
        );
        // The verified payload bytes are the token's exact payload text.
        let raw: Value = serde_json::from_slice(d.payload_json()).unwrap();
        assert_eq!(raw, v["claims"], "{name}: payload_json");
        let header: Value = serde_json::from_slice(d.header_json()).unwrap();
        assert_eq!(header, v["header"], "{name}: header");
    }
}

#[test]
fn invalid_vectors_are_refused_with_the_mapped_kind() {
    let vectors = load_vectors("jws-invalid.json");
    assert!(vectors.len() >= 60);
    for v in &vectors {
        let name = v["name"].as_str().unwrap();
        let token = v["token"].as_str().unwrap();
        let now = v["now"].as_i64().unwrap();
        let key = key_for(v);
        let mut scratch = vec![0u8; jws::scratch_len(token.len())];
        let err = jws::decode::<serde::de::IgnoredAny>(
            token.as_bytes(),
            &key,
            &options(),
            now,
            &mut scratch,
        )
        .err()
        .unwrap_or_else(|| panic!("{name}: accepted"));
        let kinds = accepted_kinds(v);
        assert!(
            kinds.contains(&err.kind()),
            "{name}: got {} ({err}), want one of {kinds:?}",
            err.kind()
        );
    }
}

#[test]
fn default_limit_is_16k_and_checked_first() {
    let key = HmacKey::new(Algorithm::Hs256, &[1; 32]).unwrap();
    let token = vec![b'!'; 16 * 1024 + 1];
    let mut scratch = [0u8; 16];
    let e =
        jws::decode::<serde::de::IgnoredAny>(&token, &key, &DecodeOptions::new(), 0, &mut scratch)
            .unwrap_err();
    assert_eq!(e.kind(), "too_large");
    // The longest valid vector (8144 bytes) fits the default.
    let big = load_vectors("jws-valid.json")
        .into_iter()
        .map(|v| v["token"].as_str().unwrap().len())
        .max()
        .unwrap();
    assert!(big <= jws::DEFAULT_MAX_TOKEN_LEN);
}

#[test]
fn rfc7520_4_4_hs256_verifies() {
    // RFC 7520 §4.4: HMAC-SHA2 integrity protection; the payload is the Hobbit text, not claims.
    let k = "hJtXIZ2uSN5kbQfbtTNWbpdmhkV8FJG-Onbc6mxCcYg";
    let mut key = [0u8; 32];
    authcore::base64url::decode(k.as_bytes(), &mut key).unwrap();
    let key = HmacKey::new(Algorithm::Hs256, &key).unwrap();
    let token = concat!(
        "eyJhbGciOiJIUzI1NiIsImtpZCI6IjAxOGMwYWU1LTRkOWItNDcxYi1iZmQ2LWVlZjMxNGJjNzAzNyJ9",
        ".",
        "SXTigJlzIGEgZGFuZ2Vyb3VzIGJ1c2luZXNzLCBGcm9kbywgZ29pbmcgb3V0IHlvdXIgZG9vci4gWW91IHN0ZXAgb250byB0aGUgcm9hZCwgYW5kIGlmIHlvdSBkb24ndCBrZWVwIHlvdXIgZmVldCwgdGhlcmXigJlzIG5vIGtub3dpbmcgd2hlcmUgeW91IG1pZ2h0IGJlIHN3ZXB0IG9mZiB0by4",
        ".",
        "s0h6KThzkfBBBkLspW1h84VsJZFTsPPqMDA7g1Md7p0"
    );
    let mut scratch = [0u8; 1024];
    // The signature verifies; the payload is text, not a JSON object, so claim parsing refuses
    // it after the MAC check (proving the MAC passed: otherwise bad_signature).
    let e = jws::decode::<serde::de::IgnoredAny>(
        token.as_bytes(),
        &key,
        &DecodeOptions::new(),
        0,
        &mut scratch,
    )
    .unwrap_err();
    assert_eq!(e.kind(), "bad_json", "{e}");
    let mut bad = token.as_bytes().to_vec();
    // Change a character in the middle of the signature (the last one would break canonical
    // base64url and be refused earlier, as bad_base64).
    let n = bad.len() - 10;
    bad[n] = if bad[n] == b'A' { b'B' } else { b'A' };
    let e =
        jws::decode::<serde::de::IgnoredAny>(&bad, &key, &DecodeOptions::new(), 0, &mut scratch)
            .unwrap_err();
    assert_eq!(e.kind(), "bad_signature");
}
