//! Property tests for encrypted session tokens: encode → decode round-trips arbitrary claims in
//! both formats (typed and raw JSON), and no single-byte change of a valid token is accepted.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers outside #[test] functions"
)]

use authcore::jwe::{self, AuthJsKey, DecodeOptions, NextAuthV4Key};
use authcore::rand::{RandomError, RandomSource};
use proptest::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Random bytes from proptest's seed, so failures reproduce.
struct SeededRng(u64);

impl RandomSource for SeededRng {
    fn fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), RandomError> {
        for b in dst {
            self.0 = self
                .0
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            *b = self.0.to_be_bytes()[0];
        }
        Ok(())
    }
}

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

/// The same shape, with `iat`/`exp`/`jti` that the encoder must replace.
#[derive(Debug, Clone, Serialize)]
struct WithRegistered<'a> {
    #[serde(flatten)]
    claims: &'a Claims,
    iat: i64,
    exp: String,
    jti: u8,
}

#[derive(Debug, PartialEq, Deserialize)]
struct Decoded<'a> {
    sub: &'a str,
    name: Option<&'a str>,
    tags: Vec<&'a str>,
    iat: i64,
    exp: i64,
    jti: &'a str,
}

const NOW: i64 = 1_700_000_000;
const MAX_AGE: u32 = 3600;

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

fn v5_key(i: u8) -> AuthJsKey {
    let salt = if i.is_multiple_of(2) {
        "authjs.session-token"
    } else {
        "__Secure-authjs.session-token"
    };
    AuthJsKey::derive(&[i, 1, 2, 3], salt).unwrap()
}

fn v4_key(i: u8) -> NextAuthV4Key {
    NextAuthV4Key::derive(&[i, 4, 5, 6]).unwrap()
}

/// Encodes with the format chosen by `v5`, checking the exact length helper.
fn encode<T: Serialize>(v5: bool, k: u8, claims: &T, seed: u64) -> Vec<u8> {
    let mut rng = SeededRng(seed);
    let len = if v5 {
        jwe::encoded_len_authjs(claims, NOW, MAX_AGE).unwrap()
    } else {
        jwe::encoded_len_nextauth_v4(claims, NOW, MAX_AGE).unwrap()
    };
    let mut out = vec![0u8; len];
    let token = if v5 {
        jwe::encode_authjs(&v5_key(k), claims, NOW, MAX_AGE, &mut rng, &mut out)
    } else {
        jwe::encode_nextauth_v4(&v4_key(k), claims, NOW, MAX_AGE, &mut rng, &mut out)
    }
    .unwrap();
    assert_eq!(token.len(), len);
    out
}

fn decode<'s, T: Deserialize<'s>>(
    v5: bool,
    k: u8,
    token: &[u8],
    scratch: &'s mut [u8],
) -> Result<jwe::Decoded<'s, T>, authcore::DecodeError> {
    let options = DecodeOptions::new();
    if v5 {
        jwe::decode_authjs(token, &[v5_key(k)], &options, NOW, scratch)
    } else {
        jwe::decode_nextauth_v4(token, &v4_key(k), &options, NOW, scratch)
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn round_trip(c in claims(), k in any::<u8>(), v5 in any::<bool>(), seed in any::<u64>()) {
        let with = WithRegistered { claims: &c, iat: 1, exp: "x".into(), jti: 7 };
        let token = encode(v5, k, &with, seed);
        let mut scratch = vec![0u8; jwe::scratch_len(token.len())];
        let d = decode::<Claims>(v5, k, &token, &mut scratch).unwrap();
        prop_assert_eq!(&d.claims, &c);
        prop_assert_eq!(d.times.iat, Some(NOW));
        prop_assert_eq!(d.times.exp, Some(NOW + i64::from(MAX_AGE)));
        // Borrowed fields see the same (unescaped) text; the registered claims were replaced.
        let b = decode::<Decoded<'_>>(v5, k, &token, &mut scratch).unwrap();
        prop_assert_eq!(b.claims.sub, c.sub.as_str());
        prop_assert_eq!(b.claims.name, c.name.as_deref());
        prop_assert_eq!(b.claims.tags, c.tags.iter().map(String::as_str).collect::<Vec<_>>());
        prop_assert_eq!(b.claims.iat, NOW);
        prop_assert_eq!(b.claims.exp, NOW + i64::from(MAX_AGE));
        prop_assert_eq!(b.claims.jti.len(), 36);
    }

    #[test]
    fn raw_json_round_trip(
        map in proptest::collection::btree_map("[a-z]{1,4}|iat|exp|jti|\\PC{0,6}", any::<String>(), 0..6),
        k in any::<u8>(),
        v5 in any::<bool>(),
        seed in any::<u64>(),
    ) {
        let payload = serde_json::to_vec(&map).unwrap();
        let mut rng = SeededRng(seed);
        let len = if v5 {
            jwe::encoded_len_authjs_json(&payload, NOW, MAX_AGE).unwrap()
        } else {
            jwe::encoded_len_nextauth_v4_json(&payload, NOW, MAX_AGE).unwrap()
        };
        let mut out = vec![0u8; len];
        let token = if v5 {
            jwe::encode_authjs_json(&v5_key(k), &payload, NOW, MAX_AGE, &mut rng, &mut out)
        } else {
            jwe::encode_nextauth_v4_json(&v4_key(k), &payload, NOW, MAX_AGE, &mut rng, &mut out)
        }
        .unwrap()
        .to_owned();
        prop_assert_eq!(token.len(), len);
        let mut scratch = vec![0u8; jwe::scratch_len(token.len())];
        let d = decode::<Value>(v5, k, token.as_bytes(), &mut scratch).unwrap();
        let got = d.claims.as_object().unwrap();
        let kept: Vec<(&String, &String)> =
            map.iter().filter(|(key, _)| !["iat", "exp", "jti"].contains(&key.as_str())).collect();
        prop_assert_eq!(got.len(), kept.len() + 3);
        for (key, value) in kept {
            prop_assert_eq!(&got[key.as_str()], &Value::String(value.clone()));
        }
        // Token fields first, then iat, exp, jti.
        let tail: Vec<&str> = got.keys().rev().take(3).map(String::as_str).collect();
        prop_assert_eq!(tail, ["jti", "exp", "iat"]);
    }

    #[test]
    fn single_byte_changes_are_refused(
        c in claims(),
        k in any::<u8>(),
        v5 in any::<bool>(),
        pos in any::<prop::sample::Index>(),
        byte in any::<u8>(),
    ) {
        let token = encode(v5, k, &c, 0);
        let i = pos.index(token.len());
        prop_assume!(token[i] != byte);
        let mut bad = token.clone();
        bad[i] = byte;
        let mut scratch = vec![0u8; jwe::scratch_len(bad.len())];
        let r = decode::<serde::de::IgnoredAny>(v5, k, &bad, &mut scratch);
        prop_assert!(r.is_err(), "byte {} changed to {} was accepted", i, byte);
    }

    #[test]
    fn garbage_never_panics(token in proptest::collection::vec(any::<u8>(), 0..600), k in any::<u8>()) {
        let mut scratch = vec![0u8; jwe::scratch_len(token.len())];
        prop_assert!(decode::<serde::de::IgnoredAny>(true, k, &token, &mut scratch).is_err());
        prop_assert!(decode::<serde::de::IgnoredAny>(false, k, &token, &mut scratch).is_err());
    }
}
