//! Proves that the core's public API never touches the heap: a counting global allocator
//! observes every operation. Buffers are prepared before counting starts.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use authcore::jws::{self, DecodeOptions, Header};
use authcore::{Algorithm, HmacKey};
use authcore_tests::alloc::{count, Counting};
use serde::{Deserialize, Serialize};

#[global_allocator]
static ALLOC: Counting = Counting;

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct Session<'a> {
    name: &'a str,
    email: heapless::String<64>,
    picture: Option<&'a str>,
    sub: &'a str,
    iat: i64,
    exp: i64,
    access_token: &'a str,
}

#[test]
fn counting_allocator_counts() {
    let (v, n) = count(|| vec![1u8; 10]);
    assert_eq!(v.len(), 10);
    assert!(n >= 1, "the counter must see a Vec allocation");
}

#[test]
fn jws_encode_and_decode_do_not_allocate() {
    let key = HmacKey::new(Algorithm::Hs256, &[0x5a; 32]).unwrap();
    let claims = Session {
        name: "Ada \"the\" Countess \u{e9}",
        email: heapless::String::try_from("ada@example.com").unwrap(),
        picture: None,
        sub: "user-1",
        iat: 1_700_000_000,
        exp: 1_700_003_600,
        access_token: "ya29.a0AfH6SMC",
    };
    let mut out = [0u8; 1024];
    let mut scratch = [0u8; 2048];
    let ((), allocs) = count(|| {
        let token = jws::encode(&key, &Header { kid: Some("k1") }, &claims, &mut out).unwrap();
        let len = token.len();
        let d: jws::Decoded<'_, Session<'_>> = jws::decode(
            &out[..len],
            &key,
            &DecodeOptions::new(),
            1_700_000_100,
            &mut scratch,
        )
        .unwrap();
        assert_eq!(d.claims, claims);
        // Errors do not allocate either.
        let mut bad = [0u8; 1024];
        bad[..len].copy_from_slice(&out[..len]);
        bad[len - 1] ^= 1;
        let mut scratch2 = [0u8; 2048];
        assert!(jws::decode::<Session<'_>>(
            &bad[..len],
            &key,
            &DecodeOptions::new(),
            0,
            &mut scratch2
        )
        .is_err());
    });
    assert_eq!(allocs, 0);
}
