//! Unit tests of compact JWE decoding that need the raw cipher: a tag-valid token with broken
//! PKCS#7 padding, and what the scratch buffer holds afterwards.

use std::format;
use std::vec::Vec;

use aes::cipher::array::Array;
use aes::cipher::consts::U16;
use aes::cipher::{BlockModeEncrypt, KeyIvInit};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha512;

use super::*;
use crate::base64url;
use crate::error::{DecodeError, EncodeError, Malformed};

/// HKDF output for secret `secret`, salt `authjs.session-token` (AUTHJS.md §10 item 1).
const KEY: &str = "b1ef6cdd915c44c0a71232574a6a70546a5e16d12bb38df4638e3b96bdd32025\
                   131e90695ff072a9d148f1511c7a4981a85b63a628311da1fa7ccfc49c47c2bb";

fn key_bytes() -> [u8; 64] {
    let digits: Vec<u8> = KEY.bytes().collect();
    let bytes: Vec<u8> = digits
        .chunks(2)
        .map(|p| u8::from_str_radix(core::str::from_utf8(p).unwrap(), 16).unwrap())
        .collect();
    bytes.try_into().unwrap()
}

fn b64(bytes: &[u8]) -> std::string::String {
    let mut out = std::vec![0u8; base64url::encoded_len(bytes.len()).unwrap()];
    base64url::encode(bytes, &mut out).unwrap().into()
}

/// A v5 token whose plaintext blocks are `blocks` exactly (no padding added), with a valid tag.
fn raw_token(key: &AuthJsKey, blocks: &[[u8; 16]]) -> std::string::String {
    let raw = key_bytes();
    let header = format!(
        r#"{{"alg":"dir","enc":"A256CBC-HS512","kid":"{}"}}"#,
        key.kid(Enc::A256CbcHs512)
    );
    let aad = b64(header.as_bytes());
    let iv = [0x24u8; 16];
    let mut arrays: Vec<Array<u8, U16>> = blocks.iter().map(|b| Array::from(*b)).collect();
    cbc::Encryptor::<aes::Aes256>::new(
        &Array::from(<[u8; 32]>::try_from(&raw[32..]).unwrap()),
        &Array::from(iv),
    )
    .encrypt_blocks(&mut arrays);
    let ct: Vec<u8> = arrays.iter().flat_map(|b| b.iter().copied()).collect();
    let mut mac = <Hmac<Sha512> as KeyInit>::new_from_slice(&raw[..32]).unwrap();
    mac.update(aad.as_bytes());
    mac.update(&iv);
    mac.update(&ct);
    mac.update(&(aad.len() as u64 * 8).to_be_bytes());
    let tag = &mac.finalize().into_bytes()[..32];
    format!("{aad}..{}.{}.{}", b64(&iv), b64(&ct), b64(tag))
}

/// `token` decoded with `key` alone, at time 0, default options.
fn decode_at_zero<'s>(
    key: &AuthJsKey,
    token: &str,
    scratch: &'s mut [u8],
) -> Result<Decoded<'s, serde::de::IgnoredAny>, DecodeError> {
    decode_authjs(
        token.as_bytes(),
        core::slice::from_ref(key),
        &DecodeOptions::new(),
        0,
        scratch,
    )
}

#[test]
fn the_raw_construction_matches_the_derived_key() {
    let key = AuthJsKey::derive(b"secret", "authjs.session-token").unwrap();
    let mut last = *b"{\"a\":1}\x09\x09\x09\x09\x09\x09\x09\x09\x09";
    last[7..].fill(9);
    let token = raw_token(&key, &[last]);
    let mut scratch = [0u8; 1024];
    let d = decode_at_zero(&key, &token, &mut scratch).unwrap();
    assert_eq!(d.payload_json(), br#"{"a":1}"#);
}

#[test]
fn bad_padding_after_a_valid_tag_is_malformed_and_wiped() {
    let key = AuthJsKey::derive(b"secret", "authjs.session-token").unwrap();
    let mut bad = Vec::new();
    let mut last = *b"{\"secret\":\"abc\"}";
    bad.push(last); // last byte '}' = 0x7d: not a padding length
    last[15] = 0;
    bad.push(last);
    last[15] = 2; // the byte before is '"', not 2
    bad.push(last);
    for block in bad {
        let token = raw_token(&key, &[*b"0123456789abcdef", block]);
        let mut scratch = [0xeeu8; 1024];
        let err = decode_at_zero(&key, &token, &mut scratch).unwrap_err();
        assert_eq!(err, DecodeError::Malformed(Malformed::Padding), "{block:?}");
        // The decrypted (authentic, unpadded) plaintext does not stay in the scratch buffer.
        let header_len = base64url::decoded_len(token.find('.').unwrap()).unwrap();
        assert!(scratch[header_len..header_len + 32].iter().all(|&b| b == 0));
    }
}

#[test]
fn empty_plaintext_with_full_padding_block_is_not_json() {
    let key = AuthJsKey::derive(b"secret", "authjs.session-token").unwrap();
    let token = raw_token(&key, &[[16; 16]]);
    let mut scratch = [0u8; 1024];
    let err = decode_at_zero(&key, &token, &mut scratch).unwrap_err();
    assert_eq!(err.kind(), "bad_json");
}

/// A plaintext that is not JSON is `bad_json` even when a bad claim comes before the syntax
/// error (the decode shares `jws::finish`; it was `invalid_claim`).
#[test]
fn a_plaintext_syntax_error_wins_over_a_claim_error() {
    let key = AuthJsKey::derive(b"secret", "authjs.session-token").unwrap();
    for plaintext in [
        &br#"{"exp":"1"}x"#[..],
        br#"{"exp":"1",}"#,
        br#"{"exp":-1,"#,
    ] {
        // PKCS#7 padding to whole blocks.
        let pad = 16 - plaintext.len() % 16;
        let mut padded = plaintext.to_vec();
        padded.resize(plaintext.len() + pad, u8::try_from(pad).unwrap());
        let blocks: Vec<[u8; 16]> = padded.chunks(16).map(|c| c.try_into().unwrap()).collect();
        let token = raw_token(&key, &blocks);
        let mut scratch = [0u8; 1024];
        let err = decode_at_zero(&key, &token, &mut scratch).unwrap_err();
        assert_eq!(
            err.kind(),
            "bad_json",
            "{:?}: {err:?}",
            core::str::from_utf8(plaintext)
        );
    }
}

#[test]
fn scratch_len_bound() {
    let sizes = [
        0usize,
        1,
        2,
        3,
        4,
        100,
        16 * 1024,
        usize::MAX / 2,
        usize::MAX,
    ];
    for n in sizes {
        let s = scratch_len(n);
        assert!(s >= n.saturating_add(n / 2));
    }
}

#[test]
fn key_types_zeroize_on_drop() {
    fn zeroized_on_drop<T: zeroize::ZeroizeOnDrop>() {}
    // What the markers on our key types rely on. `Hmac<Sha512>` (the MAC key state of
    // `CbcHs512Key`) carries no marker itself: its parts clear themselves, the two SHA-512
    // cores of `HmacCore` (inner and outer keyed states) and its block buffer.
    zeroized_on_drop::<aes::Aes256>();
    zeroized_on_drop::<aes_gcm::Aes256Gcm>();
    zeroized_on_drop::<Sha512>();
    zeroized_on_drop::<<Sha512 as hmac::EagerHash>::Core>();
    zeroized_on_drop::<hmac::digest::block_api::Buffer<hmac::block_api::HmacCore<Sha512>>>();
    zeroized_on_drop::<CbcHs512Key>();
    zeroized_on_drop::<GcmKey>();
    zeroized_on_drop::<AuthJsKey>();
    zeroized_on_drop::<NextAuthV4Key>();
}

/// A fixed random source.
struct Nines;

impl crate::rand::RandomSource for Nines {
    fn fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), crate::rand::RandomError> {
        dest.fill(9);
        Ok(())
    }
}

/// A map key `Some("iat")` is no JSON member name: the claims do not serialize, so the
/// encoders refuse them. The one-pass filter used to read it as `iat` and drop the member,
/// encoding a token from claims `json` itself refuses.
#[test]
fn an_option_map_key_is_refused_not_dropped() {
    let key = AuthJsKey::derive(b"secret", "authjs.session-token").unwrap();
    let v4 = NextAuthV4Key::derive(b"secret").unwrap();
    let mut claims = std::collections::BTreeMap::new();
    claims.insert(Some("iat"), 1u8);
    let mut buf = [0u8; 64];
    assert!(crate::json::to_slice(&claims, &mut buf).is_err());
    let mut out = [0u8; 2048];
    let v5 = encode_authjs(&key, &claims, 1_700_000_000, 60, &mut Nines, &mut out);
    assert!(matches!(v5, Err(EncodeError::Claims(_))), "{v5:?}");
    let mut out = [0u8; 2048];
    let v4 = encode_nextauth_v4(&v4, &claims, 1_700_000_000, 60, &mut Nines, &mut out);
    assert!(matches!(v4, Err(EncodeError::Claims(_))), "{v4:?}");
}

/// As documented: an enum variant at the top level (`{"V":{...}}` in `json`) is refused by
/// the one-pass encoders.
#[test]
fn a_top_level_enum_variant_is_refused() {
    #[derive(serde::Serialize)]
    enum Claims {
        V { a: u8 },
        W(u8),
    }
    let key = AuthJsKey::derive(b"secret", "authjs.session-token").unwrap();
    for claims in [Claims::V { a: 1 }, Claims::W(2)] {
        let mut out = [0u8; 2048];
        let r = encode_authjs(&key, &claims, 1_700_000_000, 60, &mut Nines, &mut out);
        assert!(matches!(r, Err(EncodeError::Claims(_))), "{r:?}");
    }
}

/// The encoders never write a token their decoders refuse as nested too deep: claims deeper
/// than `json::MAX_DEPTH` are `EncodeError::Claims(TooDeep)` (they used to be encrypted, and
/// the decode then failed with `BadJson(TooDeep)`).
#[test]
fn claims_nested_too_deep_are_refused_on_encode() {
    use crate::json::tests::NestArrays as Nest;
    #[derive(serde::Serialize)]
    struct Claims {
        sub: &'static str,
        deep: Nest,
    }
    let key = AuthJsKey::derive(b"secret", "authjs.session-token").unwrap();
    let v4 = NextAuthV4Key::derive(b"secret").unwrap();
    let now = 1_700_000_000;
    // The object is one level, `Nest(n)` is n + 1 arrays.
    for (n, fits) in [
        (crate::json::MAX_DEPTH - 2, true),
        (crate::json::MAX_DEPTH - 1, false),
        (crate::json::MAX_DEPTH, false),
    ] {
        let claims = Claims {
            sub: "42",
            deep: Nest(n),
        };
        let mut out = [0u8; 4096];
        let mut scratch = [0u8; 4096];
        match encode_authjs(&key, &claims, now, 60, &mut Nines, &mut out) {
            Ok(token) => {
                assert!(fits, "{n}: encoded");
                let token = token.as_bytes().to_vec();
                let back = decode_authjs::<serde::de::IgnoredAny>(
                    &token,
                    core::slice::from_ref(&key),
                    &DecodeOptions::new(),
                    now,
                    &mut scratch,
                );
                assert!(back.is_ok(), "{n}: {back:?}");
            }
            Err(e) => assert!(
                !fits && matches!(e, EncodeError::Claims(crate::json::Error::TooDeep { .. })),
                "{n}: {e:?}"
            ),
        }
        let mut out = [0u8; 4096];
        match encode_nextauth_v4(&v4, &claims, now, 60, &mut Nines, &mut out) {
            Ok(token) => {
                assert!(fits, "{n}: encoded (v4)");
                let token = token.as_bytes().to_vec();
                let back = decode_nextauth_v4::<serde::de::IgnoredAny>(
                    &token,
                    &v4,
                    &DecodeOptions::new(),
                    now,
                    &mut scratch,
                );
                assert!(back.is_ok(), "{n}: {back:?}");
            }
            Err(e) => assert!(
                !fits && matches!(e, EncodeError::Claims(crate::json::Error::TooDeep { .. })),
                "{n}: {e:?} (v4)"
            ),
        }
    }
}
