#![no_main]
//! Decode arbitrary bytes as a JWS: must never panic, and anything accepted must re-verify.

use authcore::jws::{self, DecodeOptions};
use authcore::{Algorithm, HmacKey};
use libfuzzer_sys::fuzz_target;
use serde::Deserialize;

#[derive(Deserialize)]
#[allow(dead_code)]
struct Claims<'a> {
    sub: Option<&'a str>,
    name: Option<heapless::String<32>>,
    exp: Option<f64>,
    roles: Option<heapless::Vec<&'a str, 4>>,
}

fuzz_target!(|data: &[u8]| {
    let key = HmacKey::new(Algorithm::Hs256, b"fuzzing-key-fuzzing-key-fuzzing!").unwrap();
    let mut scratch = [0u8; 4096];
    let _ = jws::decode::<Claims<'_>>(
        data,
        &key,
        &DecodeOptions::new(),
        1_700_000_000,
        &mut scratch,
    );
    let _ =
        jws::decode::<serde::de::IgnoredAny>(data, &key, &DecodeOptions::new(), 0, &mut scratch);
    let _ = jws::dangerous_inspect_unverified(data, &mut scratch);
    // Also feed the bytes as the payload of a correctly signed token, so the MAC check passes and
    // the JSON and claim layers are exercised.
    let mut out = [0u8; 8192];
    if let Ok(token) = jws::encode_json(&key, &jws::Header::default(), data, &mut out) {
        let len = token.len();
        let _ = jws::decode::<Claims<'_>>(
            &out[..len],
            &key,
            &DecodeOptions::new(),
            1_700_000_000,
            &mut scratch,
        );
    }
});
