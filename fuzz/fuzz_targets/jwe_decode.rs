#![no_main]
//! Decode arbitrary bytes as Auth.js v5 / next-auth v4 JWEs: never panic; only an unaltered
//! token is ever accepted; and plaintexts that pass the tag reach the JSON and claim layers.
//!
//! The first byte picks the mode: 0 raw token, 1 fuzz bytes as an authentic plaintext,
//! 2 fuzz bytes as raw JSON claims through `encode_*_json`, 3 byte edits of a valid token.

use std::sync::OnceLock;

use authcore::jwe::{self, AuthJsKey, DecodeOptions, Enc, NextAuthV4Key};
use authcore::rand::{RandomError, RandomSource};
use authcore::DecodeError;
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

struct Keys {
    v5: [AuthJsKey; 2],
    v4: NextAuthV4Key,
    token5: String,
    token4: String,
}

struct FixedRng(u8);

impl RandomSource for FixedRng {
    fn fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), RandomError> {
        for b in dst {
            self.0 = self.0.wrapping_mul(31).wrapping_add(7);
            *b = self.0;
        }
        Ok(())
    }
}

const NOW: i64 = 1_700_000_000;

fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let v5 = [
            AuthJsKey::derive(b"fuzz-secret-2", "authjs.session-token").unwrap(),
            AuthJsKey::derive(b"fuzz-secret-1", "authjs.session-token").unwrap(),
        ];
        let v4 = NextAuthV4Key::derive(b"fuzz-secret").unwrap();
        let claims = br#"{"sub":"u","name":"Ada","roles":["a","b"]}"#;
        let mut out = [0u8; 1024];
        let token5 = jwe::encode_authjs_json(&v5[1], claims, NOW, 3600, &mut FixedRng(1), &mut out)
            .unwrap()
            .to_owned();
        let token4 =
            jwe::encode_nextauth_v4_json(&v4, claims, NOW, 3600, &mut FixedRng(2), &mut out)
                .unwrap()
                .to_owned();
        Keys {
            v5,
            v4,
            token5,
            token4,
        }
    })
}

fn decode_both(k: &Keys, token: &[u8], scratch: &mut [u8]) -> [Result<(), DecodeError>; 2] {
    let options = DecodeOptions::new();
    let r5 = jwe::decode_authjs::<Claims<'_>>(token, &k.v5, &options, NOW, scratch).map(|_| ());
    let _ = jwe::decode_authjs::<serde::de::IgnoredAny>(token, &k.v5, &options, 0, scratch);
    let r4 =
        jwe::decode_nextauth_v4::<Claims<'_>>(token, &k.v4, &options, NOW, scratch).map(|_| ());
    [r5, r4]
}

/// Errors that mean the token was not authentic or not well formed: impossible for a token
/// the encoder (or the raw cipher with the right key) just made.
fn is_structural(e: &DecodeError) -> bool {
    matches!(
        e,
        DecodeError::BadTag
            | DecodeError::Malformed(_)
            | DecodeError::BadBase64 { .. }
            | DecodeError::UnsupportedAlg
            | DecodeError::UnsupportedEnc
            | DecodeError::UnknownKid
            | DecodeError::TooLarge { .. }
            | DecodeError::BufferTooSmall { .. }
    )
}

fn b64(bytes: &[u8], out: &mut Vec<u8>) {
    let start = out.len();
    out.resize(
        start + authcore::base64url::encoded_len(bytes.len()).unwrap(),
        0,
    );
    authcore::base64url::encode(bytes, &mut out[start..]).unwrap();
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, data)) = data.split_first() else {
        return;
    };
    let k = keys();
    let mut scratch = vec![0u8; jwe::scratch_len(data.len().max(2048)) + 64];
    match mode % 4 {
        0 => {
            let _ = decode_both(k, data, &mut scratch);
        }
        1 => {
            // `data` as the plaintext of an authentic v5 token (CBC) and v4 token (GCM).
            let header5 = format!(
                r#"{{"alg":"dir","enc":"A256CBC-HS512","kid":"{}"}}"#,
                k.v5[0].kid(Enc::A256CbcHs512)
            );
            for (v5, header) in [
                (true, header5.as_str()),
                (false, r#"{"alg":"dir","enc":"A256GCM"}"#),
            ] {
                if !v5 && data.is_empty() {
                    // An empty GCM ciphertext is an empty segment, refused as malformed (an
                    // empty plaintext is not a JSON object anyway).
                    continue;
                }
                let mut aad = Vec::new();
                b64(header.as_bytes(), &mut aad);
                let mut buf = data.to_vec();
                let (iv, tag): (&[u8], Vec<u8>) = if v5 {
                    buf.resize(Enc::A256CbcHs512.ciphertext_len(data.len()).unwrap(), 0);
                    let (_, tag) = k.v5[0]
                        .cbc_hs512()
                        .encrypt_in_place(&[5; 16], &aad, &mut buf, data.len())
                        .unwrap();
                    (&[5; 16], tag.to_vec())
                } else {
                    let tag =
                        k.v4.a256gcm()
                            .encrypt_in_place(&[6; 12], &aad, &mut buf)
                            .unwrap();
                    (&[6; 12], tag.to_vec())
                };
                let mut token = aad.clone();
                token.extend_from_slice(b"..");
                b64(iv, &mut token);
                token.push(b'.');
                b64(&buf, &mut token);
                token.push(b'.');
                b64(&tag, &mut token);
                let options = DecodeOptions::new().with_max_token_len(usize::MAX);
                let mut scratch = vec![0u8; jwe::scratch_len(token.len())];
                let r = if v5 {
                    jwe::decode_authjs::<Claims<'_>>(&token, &k.v5, &options, NOW, &mut scratch)
                        .map(|_| ())
                } else {
                    jwe::decode_nextauth_v4::<Claims<'_>>(
                        &token,
                        &k.v4,
                        &options,
                        NOW,
                        &mut scratch,
                    )
                    .map(|_| ())
                };
                if let Err(e) = r {
                    assert!(!is_structural(&e), "authentic token refused: {e:?}");
                }
            }
        }
        2 => {
            // `data` as raw JSON claims: whatever encodes must decode past the tag.
            let mut out = vec![0u8; data.len() * 2 + 512];
            for v5 in [true, false] {
                let mut rng = FixedRng(9);
                let encoded = if v5 {
                    jwe::encode_authjs_json(&k.v5[0], data, NOW, 60, &mut rng, &mut out)
                } else {
                    jwe::encode_nextauth_v4_json(&k.v4, data, NOW, 60, &mut rng, &mut out)
                };
                let Ok(token) = encoded else { continue };
                let token = token.as_bytes().to_vec();
                let options = DecodeOptions::new().with_max_token_len(usize::MAX);
                let mut scratch = vec![0u8; jwe::scratch_len(token.len())];
                let r = if v5 {
                    jwe::decode_authjs::<serde::de::IgnoredAny>(
                        &token,
                        &k.v5,
                        &options,
                        NOW,
                        &mut scratch,
                    )
                    .map(|_| ())
                } else {
                    jwe::decode_nextauth_v4::<serde::de::IgnoredAny>(
                        &token,
                        &k.v4,
                        &options,
                        NOW,
                        &mut scratch,
                    )
                    .map(|_| ())
                };
                if let Err(e) = r {
                    assert!(!is_structural(&e), "encoded token refused: {e:?}");
                    assert!(
                        !matches!(e, DecodeError::BadJson { .. }),
                        "encoded payload is not JSON: {e:?}"
                    );
                }
            }
        }
        _ => {
            // Edits of a valid token: (position, byte) pairs. Only the unaltered token decodes.
            for (i, original) in [&k.token5, &k.token4].into_iter().enumerate() {
                let mut token = original.as_bytes().to_vec();
                for pair in data.chunks_exact(3) {
                    let pos = usize::from(u16::from_le_bytes([pair[0], pair[1]]));
                    match pos % 3 {
                        0 if !token.is_empty() => {
                            let at = pos / 3 % token.len();
                            token[at] = pair[2];
                        }
                        1 => {
                            let at = pos / 3 % (token.len() + 1);
                            token.insert(at, pair[2]);
                        }
                        _ if !token.is_empty() => {
                            let at = pos / 3 % token.len();
                            token.remove(at);
                        }
                        _ => {}
                    }
                }
                let [r5, r4] = decode_both(k, &token, &mut scratch);
                let r = if i == 0 { r5 } else { r4 };
                assert_eq!(
                    r.is_ok(),
                    token == original.as_bytes(),
                    "edited token accepted"
                );
            }
        }
    }
});
