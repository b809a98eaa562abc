//! Property tests: encode → decode round-trips arbitrary claims, and no single-byte change of a
//! valid token is ever accepted.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use authcore::jws::{self, DecodeOptions, Header};
use authcore::{Algorithm, HmacKey};
use proptest::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Claims {
    sub: String,
    name: Option<String>,
    n: i64,
    u: u64,
    ok: bool,
    tags: Vec<String>,
    score: f64,
}

#[derive(Debug, PartialEq, Deserialize)]
struct Borrowed<'a> {
    sub: &'a str,
    name: Option<&'a str>,
    tags: Vec<&'a str>,
}

fn key_for(i: u8) -> HmacKey {
    let alg = [Algorithm::Hs256, Algorithm::Hs384, Algorithm::Hs512][usize::from(i % 3)];
    HmacKey::new(alg, &[i; 64]).unwrap()
}

fn claims() -> impl Strategy<Value = Claims> {
    (
        any::<String>(),
        proptest::option::of(any::<String>()),
        any::<i64>(),
        any::<u64>(),
        any::<bool>(),
        proptest::collection::vec(any::<String>(), 0..4),
        (-1.0e12f64..1.0e12),
    )
        .prop_map(|(sub, name, n, u, ok, tags, score)| Claims {
            sub,
            name,
            n,
            u,
            ok,
            tags,
            score,
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn round_trip(c in claims(), k in any::<u8>(), kid in proptest::option::of("[ -~]{0,12}")) {
        let key = key_for(k);
        let header = Header { kid: kid.as_deref() };
        let len = jws::encoded_len(&key, &header, &c).unwrap();
        let mut out = vec![0u8; len];
        let token = jws::encode(&key, &header, &c, &mut out).unwrap().to_owned();
        prop_assert_eq!(token.len(), len);
        let mut scratch = vec![0u8; jws::scratch_len(token.len())];
        let d = jws::decode::<Claims>(token.as_bytes(), &key, &DecodeOptions::new(), 0, &mut scratch).unwrap();
        prop_assert_eq!(&d.claims, &c);
        // Borrowed fields see the same (unescaped) text.
        let b = jws::decode::<Borrowed<'_>>(token.as_bytes(), &key, &DecodeOptions::new(), 0, &mut scratch).unwrap();
        prop_assert_eq!(b.claims.sub, c.sub.as_str());
        prop_assert_eq!(b.claims.name, c.name.as_deref());
        prop_assert_eq!(b.claims.tags, c.tags.iter().map(String::as_str).collect::<Vec<_>>());
    }

    #[test]
    fn single_byte_changes_are_refused(c in claims(), k in any::<u8>(), pos in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let key = key_for(k);
        let mut out = vec![0u8; jws::encoded_len(&key, &Header::default(), &c).unwrap()];
        let token = jws::encode(&key, &Header::default(), &c, &mut out).unwrap().as_bytes().to_vec();
        let i = pos.index(token.len());
        prop_assume!(token[i] != byte);
        let mut bad = token.clone();
        bad[i] = byte;
        let mut scratch = vec![0u8; jws::scratch_len(bad.len())];
        let r = jws::decode::<serde::de::IgnoredAny>(&bad, &key, &DecodeOptions::new(), 0, &mut scratch);
        prop_assert!(r.is_err(), "byte {} changed to {} was accepted", i, byte);
    }
}
