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

#[test]
fn jwe_key_derivation_encode_and_decode_do_not_allocate() {
    use authcore::jwe::{self, AuthJsKey, NextAuthV4Key};
    use authcore::rand::{RandomError, RandomSource};

    struct CounterRng(u8);
    impl RandomSource for CounterRng {
        fn fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), RandomError> {
            for b in dst {
                self.0 = self.0.wrapping_mul(31).wrapping_add(7);
                *b = self.0;
            }
            Ok(())
        }
    }

    let claims = Session {
        name: "Ada \"the\" Countess \u{e9}",
        email: heapless::String::try_from("ada@example.com").unwrap(),
        picture: None,
        sub: "user-1",
        iat: 1,
        exp: 2,
        access_token: "ya29.a0AfH6SMC",
    };
    let now = 1_700_000_000;
    let mut out5 = [0u8; 1024];
    let mut out4 = [0u8; 1024];
    let mut scratch = [0u8; 2048];
    let mut bad = [0u8; 1024];
    let ((), allocs) = count(|| {
        let k5 = AuthJsKey::derive(b"secret", "authjs.session-token").unwrap();
        let k4 = NextAuthV4Key::derive(b"secret").unwrap();
        let mut rng = CounterRng(1);
        let len5 = jwe::encode_authjs(&k5, &claims, now, 3600, &mut rng, &mut out5)
            .unwrap()
            .len();
        let len4 = jwe::encode_nextauth_v4(&k4, &claims, now, 3600, &mut rng, &mut out4)
            .unwrap()
            .len();
        assert_eq!(len5, jwe::encoded_len_authjs(&claims, now, 3600).unwrap());
        let keys = [k5];
        let d: jwe::Decoded<'_, Session<'_>> = jwe::decode_authjs(
            &out5[..len5],
            &keys,
            &DecodeOptions::new(),
            now,
            &mut scratch,
        )
        .unwrap();
        assert_eq!(d.claims.name, claims.name);
        assert_eq!(d.claims.exp, now + 3600);
        let d: jwe::Decoded<'_, Session<'_>> =
            jwe::decode_nextauth_v4(&out4[..len4], &k4, &DecodeOptions::new(), now, &mut scratch)
                .unwrap();
        assert_eq!(d.claims.email, claims.email);
        // Errors (a bad tag, an expired token) do not allocate either.
        bad[..len5].copy_from_slice(&out5[..len5]);
        bad[len5 - 1] = if bad[len5 - 1] == b'A' { b'B' } else { b'A' };
        let options = DecodeOptions::new();
        assert!(jwe::decode_authjs::<Session<'_>>(
            &bad[..len5],
            &keys,
            &options,
            now,
            &mut scratch
        )
        .is_err());
        assert!(jwe::decode_nextauth_v4::<Session<'_>>(
            &out4[..len4],
            &k4,
            &options,
            now + 7200,
            &mut scratch
        )
        .is_err());
        let raw = br#"{"sub":"user-1","iat":5}"#;
        assert!(jwe::encode_authjs_json(&keys[0], raw, now, 60, &mut rng, &mut out4).is_ok());
    });
    assert_eq!(allocs, 0);
}
