//! Unit tests: HKDF outputs and kids (AUTHJS.md §10 items 1-4), RFC 7518 Appendix B.3,
//! GCM specification vectors, round trips, tampering, wrong keys, length errors.

use std::format;
use std::string::String;
use std::vec::Vec;

use aes::cipher::array::Array;
use aes::cipher::consts::U16;
use aes::cipher::{BlockModeEncrypt, KeyInit, KeyIvInit};
use hmac::{Hmac, Mac};
use sha2::Sha512;

use super::kdf::{derive_v4, derive_v5};
use super::kid::{thumbprint_sha256, thumbprint_sha512};
use super::*;

fn hex(s: &str) -> Vec<u8> {
    let digits: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    assert_eq!(digits.len() % 2, 0, "odd hex length");
    digits
        .chunks(2)
        .map(|p| u8::from_str_radix(core::str::from_utf8(p).unwrap(), 16).unwrap())
        .collect()
}

fn to_hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn array<const N: usize>(s: &str) -> [u8; N] {
    hex(s).try_into().unwrap()
}

/// Small deterministic byte source for round-trip inputs (not for keys or IVs in production).
struct XorShift(u64);

impl XorShift {
    fn fill(&mut self, out: &mut [u8]) {
        for b in out {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            *b = self.0.to_be_bytes()[4];
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Key derivation and kids (AUTHJS.md §10 items 1-4)

const V5_KEY_1: &str = "b1ef6cdd915c44c0a71232574a6a70546a5e16d12bb38df4638e3b96bdd32025\
                        131e90695ff072a9d148f1511c7a4981a85b63a628311da1fa7ccfc49c47c2bb";
const V5_KID_1: &str =
    "7x9DUMVaEU6giab0l0OWDt4e4SsRH_cbwMof2EzEyy6onK5o8xSPPB799RVoqm2v6z674kQCv9jom2T8S-a1dQ";
const V5_GCM_KID_1: &str = "tgdt-VLOTRviBTc4vwSS-WjOhg14Bq0M6tGDvSzfdgs";

#[test]
fn v5_hkdf_and_kid_default_cookie_name() {
    let mut okm = [0u8; 64];
    derive_v5(b"secret", "authjs.session-token", &mut okm).unwrap();
    assert_eq!(to_hex(&okm), V5_KEY_1);
    assert_eq!(thumbprint_sha512(&okm).as_str(), V5_KID_1);

    let key = AuthJsKey::derive(b"secret", "authjs.session-token").unwrap();
    assert_eq!(key.kid(Enc::A256CbcHs512), V5_KID_1);
}

#[test]
fn v5_hkdf_and_kid_secure_cookie_name() {
    let mut okm = [0u8; 64];
    derive_v5(b"secret", "__Secure-authjs.session-token", &mut okm).unwrap();
    assert_eq!(
        to_hex(&okm),
        "0d8bf2d720367891eda6b7cc8f1960cf3fac4c0e5972e05c0ea71f835d01d69a\
         60b8d258a71a473d46b0eec5ed3dfe45a7bcfbe54ccfa14f50206f3af0f777f5"
    );
    let key = AuthJsKey::derive(b"secret", "__Secure-authjs.session-token").unwrap();
    assert_eq!(
        key.kid(Enc::A256CbcHs512),
        "7E3YIGAxRtn6djTGy1UjZrFvXELHKzM9vfWl0nQ4b88EsnrmmX0grN0VKis7G3fjgB626TXm_lEtBG1N0E7Xyg"
    );
}

#[test]
fn v5_gcm_view_is_the_32_byte_derivation() {
    // HKDF with length 32 directly (independent of our prefix shortcut).
    let hkdf = hkdf::Hkdf::<sha2::Sha256>::new(Some(b"authjs.session-token"), b"secret");
    let mut okm32 = [0u8; 32];
    hkdf.expand(
        b"Auth.js Generated Encryption Key (authjs.session-token)",
        &mut okm32,
    )
    .unwrap();
    assert_eq!(to_hex(&okm32), V5_KEY_1[..64]);
    assert_eq!(thumbprint_sha256(&okm32).as_str(), V5_GCM_KID_1);

    let key = AuthJsKey::derive(b"secret", "authjs.session-token").unwrap();
    assert_eq!(key.kid(Enc::A256Gcm), V5_GCM_KID_1);

    // The stored GCM view encrypts exactly like a GcmKey built from those 32 bytes.
    let direct = GcmKey::new(&okm32);
    let iv = [7u8; 12];
    let mut a = *b"same plaintext, same key?";
    let mut b = a;
    let tag_a = key.a256gcm().encrypt_in_place(&iv, b"aad", &mut a).unwrap();
    let tag_b = direct.encrypt_in_place(&iv, b"aad", &mut b).unwrap();
    assert_eq!((a, tag_a), (b, tag_b));
}

#[test]
fn v5_cbc_view_is_the_64_byte_key() {
    let key = AuthJsKey::derive(b"secret", "authjs.session-token").unwrap();
    let direct = CbcHs512Key::new(&array(V5_KEY_1));
    let iv = [9u8; 16];
    let mut a = [0u8; 48];
    let mut b = [0u8; 48];
    a[..20].copy_from_slice(b"twenty bytes of text");
    b[..20].copy_from_slice(b"twenty bytes of text");
    let (ct_a, tag_a) = key
        .cbc_hs512()
        .encrypt_in_place(&iv, b"h", &mut a, 20)
        .unwrap();
    let (ct_b, tag_b) = direct.encrypt_in_place(&iv, b"h", &mut b, 20).unwrap();
    assert_eq!((ct_a, tag_a), (ct_b, tag_b));
}

#[test]
fn v4_session_and_state_keys() {
    let mut okm = [0u8; 32];
    derive_v4(b"secret", "", &mut okm).unwrap();
    assert_eq!(
        to_hex(&okm),
        "9ab5058ebf5be88f82f4aee99d22cf8be7a34a4af1836299d0668f4d83020f5a"
    );
    derive_v4(b"secret", "next-auth.state", &mut okm).unwrap();
    assert_eq!(
        to_hex(&okm),
        "c01f89640026c3c617ec6a68dc377509d2c405289c116743082c17c9874371a7"
    );

    // The public constructors hold the same keys.
    let session = NextAuthV4Key::derive(b"secret").unwrap();
    let direct = GcmKey::new(&array(
        "9ab5058ebf5be88f82f4aee99d22cf8be7a34a4af1836299d0668f4d83020f5a",
    ));
    let iv = [1u8; 12];
    let mut a = *b"{\"sub\":\"1\"}";
    let mut b = a;
    let tag_a = session
        .a256gcm()
        .encrypt_in_place(&iv, b"x", &mut a)
        .unwrap();
    let tag_b = direct.encrypt_in_place(&iv, b"x", &mut b).unwrap();
    assert_eq!((a, tag_a), (b, tag_b));
    let salted_empty = NextAuthV4Key::derive_salted(b"secret", "").unwrap();
    let mut c = *b"{\"sub\":\"1\"}";
    let tag_c = salted_empty
        .a256gcm()
        .encrypt_in_place(&iv, b"x", &mut c)
        .unwrap();
    assert_eq!((c, tag_c), (b, tag_b));
}

#[test]
fn empty_secret_is_refused() {
    assert_eq!(
        AuthJsKey::derive(b"", "authjs.session-token").unwrap_err(),
        DeriveKeyError::EmptySecret
    );
    assert_eq!(
        NextAuthV4Key::derive(b"").unwrap_err(),
        DeriveKeyError::EmptySecret
    );
    assert_eq!(
        NextAuthV4Key::derive_salted(b"", "next-auth.state").unwrap_err(),
        DeriveKeyError::EmptySecret
    );
    // One byte is enough (panva/hkdf: ikm >= 1 byte).
    assert!(AuthJsKey::derive(b"x", "authjs.session-token").is_ok());
}

#[test]
fn info_length_limit_is_1024_bytes() {
    assert_eq!(MAX_INFO_LEN, 1024);
    assert_eq!(
        "Auth.js Generated Encryption Key ()".len() + MAX_SALT_LEN_V5,
        1024
    );
    assert_eq!(
        "NextAuth.js Generated Encryption Key ()".len() + MAX_SALT_LEN_V4,
        1024
    );
    let long = "a".repeat(MAX_SALT_LEN_V5 + 1);
    assert!(AuthJsKey::derive(b"s", &long[..MAX_SALT_LEN_V5]).is_ok());
    assert_eq!(
        AuthJsKey::derive(b"s", &long).unwrap_err(),
        DeriveKeyError::SaltTooLong {
            len: MAX_SALT_LEN_V5 + 1,
            max: MAX_SALT_LEN_V5
        }
    );
    assert!(NextAuthV4Key::derive_salted(b"s", &long[..MAX_SALT_LEN_V4]).is_ok());
    assert_eq!(
        NextAuthV4Key::derive_salted(b"s", &long[..=MAX_SALT_LEN_V4])
            .unwrap_err()
            .kind(),
        "salt_too_long"
    );
}

#[test]
fn salts_and_secrets_separate_keys() {
    let a = AuthJsKey::derive(b"secret", "authjs.session-token").unwrap();
    let b = AuthJsKey::derive(b"secret", "next-auth.session-token").unwrap();
    let c = AuthJsKey::derive(b"secret2", "authjs.session-token").unwrap();
    assert_ne!(a.kid(Enc::A256CbcHs512), b.kid(Enc::A256CbcHs512));
    assert_ne!(a.kid(Enc::A256CbcHs512), c.kid(Enc::A256CbcHs512));
    assert_ne!(a.kid(Enc::A256Gcm), c.kid(Enc::A256Gcm));
}

#[test]
fn kid_lengths() {
    let key = AuthJsKey::derive(b"secret", "authjs.session-token").unwrap();
    assert_eq!(key.kid(Enc::A256CbcHs512).len(), KID_LEN_A256CBC_HS512);
    assert_eq!(key.kid(Enc::A256Gcm).len(), KID_LEN_A256GCM);
    assert_eq!(KID_LEN_A256CBC_HS512, 86);
    assert_eq!(KID_LEN_A256GCM, 43);
}

#[test]
fn debug_output_redacts_key_material() {
    let secret = b"do-not-print-this-secret";
    let key = AuthJsKey::derive(secret, "authjs.session-token").unwrap();
    let mut okm = [0u8; 64];
    derive_v5(secret, "authjs.session-token", &mut okm).unwrap();
    let shown = format!("{key:?} {:?} {:?}", key.cbc_hs512(), key.a256gcm());
    assert!(shown.contains(key.kid(Enc::A256CbcHs512)));
    assert!(!shown.contains("do-not-print"));
    for window in okm.windows(4) {
        assert!(!shown.contains(&to_hex(window)));
        assert!(!shown.contains(&format!("{window:?}")[1..10]));
    }
    let v4 = format!("{:?}", NextAuthV4Key::derive(secret).unwrap());
    assert_eq!(v4, "NextAuthV4Key { .. }");
}

// ---------------------------------------------------------------------------------------------
// A256CBC-HS512: RFC 7518 Appendix B.3

struct CbcVector {
    key: [u8; 64],
    iv: [u8; 16],
    aad: Vec<u8>,
    plaintext: Vec<u8>,
    ciphertext: Vec<u8>,
    tag: [u8; 32],
}

fn rfc7518_b3() -> CbcVector {
    let key: Vec<u8> = (0u8..64).collect();
    let plaintext = b"A cipher system must not be required to be secret, and it must be able \
                      to fall into the hands of the enemy without inconvenience";
    CbcVector {
        key: key.try_into().unwrap(),
        iv: array("1af38c2dc2b96ffdd866940923 41bc04"),
        aad: b"The second principle of Auguste Kerckhoffs".to_vec(),
        plaintext: plaintext.to_vec(),
        ciphertext: hex("4a ff aa ad b7 8c 31 c5 da 4b 1b 59 0d 10 ff bd
                         3d d8 d5 d3 02 42 35 26 91 2d a0 37 ec bc c7 bd
                         82 2c 30 1d d6 7c 37 3b cc b5 84 ad 3e 92 79 c2
                         e6 d1 2a 13 74 b7 7f 07 75 53 df 82 94 10 44 6b
                         36 eb d9 70 66 29 6a e6 42 7e a7 5c 2e 08 46 a1
                         1a 09 cc f5 37 0d c8 0b fe cb ad 28 c7 3f 09 b3
                         a3 b7 5e 66 2a 25 94 41 0a e4 96 b2 e2 e6 60 9e
                         31 e6 e0 2c c8 37 f0 53 d2 1f 37 ff 4f 51 95 0b
                         be 26 38 d0 9d d7 a4 93 09 30 80 6d 07 03 b1 f6"),
        tag: array(
            "4d d3 b4 c0 88 a7 f4 5c 21 68 39 64 5b 20 12 bf
             2e 62 69 a8 c5 6a 81 6d bc 1b 26 77 61 95 5b c5",
        ),
    }
}

#[test]
fn rfc7518_b3_encrypt() {
    let v = rfc7518_b3();
    assert_eq!(v.plaintext.len(), 128);
    assert_eq!(v.aad.len(), 42); // AL = 336 bits = 0x150
    let key = CbcHs512Key::new(&v.key);
    let mut buf = [0u8; 144];
    buf[..128].copy_from_slice(&v.plaintext);
    let (ct, tag) = key.encrypt_in_place(&v.iv, &v.aad, &mut buf, 128).unwrap();
    assert_eq!(ct, &v.ciphertext[..]);
    assert_eq!(tag, v.tag);
}

#[test]
fn rfc7518_b3_decrypt() {
    let v = rfc7518_b3();
    let key = CbcHs512Key::new(&v.key);
    let mut buf = v.ciphertext.clone();
    let pt = key
        .decrypt_in_place(&v.iv, &v.aad, &mut buf, &v.tag)
        .unwrap();
    assert_eq!(pt, &v.plaintext[..]);
}

#[test]
fn cbc_every_bit_flip_is_a_bad_tag() {
    let v = rfc7518_b3();
    let key = CbcHs512Key::new(&v.key);
    let check = |iv: &[u8], aad: &[u8], ct: &[u8], tag: &[u8]| {
        let mut buf = ct.to_vec();
        assert_eq!(
            key.decrypt_in_place(iv, aad, &mut buf, tag),
            Err(DecryptError::BadTag)
        );
        // Nothing was decrypted.
        assert_eq!(buf, ct);
    };
    for bit in 0..v.iv.len() * 8 {
        let mut iv = v.iv;
        iv[bit / 8] ^= 1 << (bit % 8);
        check(&iv, &v.aad, &v.ciphertext, &v.tag);
    }
    for bit in 0..v.ciphertext.len() * 8 {
        let mut ct = v.ciphertext.clone();
        ct[bit / 8] ^= 1 << (bit % 8);
        check(&v.iv, &v.aad, &ct, &v.tag);
    }
    for bit in 0..v.tag.len() * 8 {
        let mut tag = v.tag;
        tag[bit / 8] ^= 1 << (bit % 8);
        check(&v.iv, &v.aad, &v.ciphertext, &tag);
    }
    for bit in 0..v.aad.len() * 8 {
        let mut aad = v.aad.clone();
        aad[bit / 8] ^= 1 << (bit % 8);
        check(&v.iv, &aad, &v.ciphertext, &v.tag);
    }
    // AAD extended or shortened (AL changes too).
    let mut longer = v.aad.clone();
    longer.push(0);
    check(&v.iv, &longer, &v.ciphertext, &v.tag);
    check(&v.iv, &v.aad[..41], &v.ciphertext, &v.tag);
    // Ciphertext truncated by a block, or blocks swapped.
    check(&v.iv, &v.aad, &v.ciphertext[..128], &v.tag);
    let mut swapped = v.ciphertext.clone();
    swapped[..32].rotate_left(16);
    check(&v.iv, &v.aad, &swapped, &v.tag);
}

#[test]
fn cbc_wrong_key_is_a_bad_tag() {
    let a = AuthJsKey::derive(b"secret", "authjs.session-token").unwrap();
    let b = AuthJsKey::derive(b"secret", "__Secure-authjs.session-token").unwrap();
    let iv = [3u8; 16];
    let mut buf = [0u8; 32];
    buf[..5].copy_from_slice(b"hello");
    let (ct, tag) = a
        .cbc_hs512()
        .encrypt_in_place(&iv, b"hdr", &mut buf, 5)
        .unwrap();
    let mut ct = ct.to_vec();
    assert_eq!(
        b.cbc_hs512()
            .decrypt_in_place(&iv, b"hdr", &mut ct.clone(), &tag),
        Err(DecryptError::BadTag)
    );
    assert_eq!(
        a.cbc_hs512().decrypt_in_place(&iv, b"hdr", &mut ct, &tag),
        Ok(&mut b"hello".to_vec()[..])
    );
}

#[test]
fn cbc_round_trip_all_padding_lengths() {
    let key = CbcHs512Key::new(&[0x5a; 64]);
    let mut rng = XorShift(0x1234_5678_9abc_def0);
    for len in 0..=80usize {
        let ct_len = CbcHs512Key::ciphertext_len(len).unwrap();
        assert_eq!(ct_len, (len / 16 + 1) * 16);
        assert_eq!(Enc::A256CbcHs512.ciphertext_len(len), Some(ct_len));
        let mut plaintext = vec_of(len);
        rng.fill(&mut plaintext);
        let mut iv = [0u8; 16];
        rng.fill(&mut iv);
        let mut buf = vec_of(ct_len);
        buf[..len].copy_from_slice(&plaintext);
        let (ct, tag) = key.encrypt_in_place(&iv, b"aad", &mut buf, len).unwrap();
        assert_eq!(ct.len(), ct_len);
        let mut ct = ct.to_vec();
        let pt = key.decrypt_in_place(&iv, b"aad", &mut ct, &tag).unwrap();
        assert_eq!(pt, &plaintext[..]);
    }
}

fn vec_of(len: usize) -> Vec<u8> {
    std::vec![0u8; len]
}

#[test]
fn cbc_encrypt_buffer_too_small() {
    let key = CbcHs512Key::new(&[1; 64]);
    let iv = [0u8; 16];
    // 16 bytes of plaintext need 32 bytes (a full padding block).
    let mut buf = [0u8; 31];
    assert_eq!(
        key.encrypt_in_place(&iv, b"", &mut buf, 16),
        Err(EncryptError::BufferTooSmall { needed: 32 })
    );
    // A stated plaintext longer than the buffer.
    let mut buf = [0u8; 8];
    assert_eq!(
        key.encrypt_in_place(&iv, b"", &mut buf, 9),
        Err(EncryptError::BufferTooSmall { needed: 16 })
    );
    assert_eq!(
        key.encrypt_in_place(&iv, b"", &mut buf, usize::MAX),
        Err(EncryptError::TooLong)
    );
    assert_eq!(CbcHs512Key::ciphertext_len(usize::MAX), None);
    // Exactly enough works.
    let mut buf = [0u8; 32];
    assert!(key.encrypt_in_place(&iv, b"", &mut buf, 16).is_ok());
    // Empty plaintext: one block of padding.
    let mut buf = [0u8; 16];
    let (ct, _) = key.encrypt_in_place(&iv, b"", &mut buf, 0).unwrap();
    assert_eq!(ct.len(), 16);
}

#[test]
fn cbc_length_errors_come_first() {
    let v = rfc7518_b3();
    let key = CbcHs512Key::new(&v.key);
    let mut ct = v.ciphertext.clone();
    for iv_len in [0, 12, 15, 17] {
        assert_eq!(
            key.decrypt_in_place(&vec_of(iv_len), &v.aad, &mut ct, &v.tag),
            Err(DecryptError::InvalidIvLength)
        );
    }
    for tag_len in [0, 16, 31, 33, 64] {
        assert_eq!(
            key.decrypt_in_place(&v.iv, &v.aad, &mut ct, &vec_of(tag_len)),
            Err(DecryptError::InvalidTagLength)
        );
    }
    for ct_len in [0, 1, 15, 17, 143] {
        let mut short = v.ciphertext[..ct_len].to_vec();
        assert_eq!(
            key.decrypt_in_place(&v.iv, &v.aad, &mut short, &v.tag),
            Err(DecryptError::InvalidCiphertextLength)
        );
    }
}

/// Builds a ciphertext whose tag is valid but whose last plaintext block is `last_block`
/// (raw, no padding added), with the same construction written out independently.
fn cbc_with_raw_last_block(
    key: &[u8; 64],
    iv: &[u8; 16],
    last_block: [u8; 16],
) -> (Vec<u8>, Vec<u8>) {
    let aad = b"hdr";
    let mut blocks = [
        Array::<u8, U16>::from(*b"first block 16 b"),
        Array::from(last_block),
    ];
    cbc::Encryptor::<aes::Aes256>::new(
        &Array::from(<[u8; 32]>::try_from(&key[32..]).unwrap()),
        &Array::from(*iv),
    )
    .encrypt_blocks(&mut blocks);
    let ct: Vec<u8> = blocks.iter().flat_map(|b| b.iter().copied()).collect();
    let mut mac = <Hmac<Sha512> as KeyInit>::new_from_slice(&key[..32]).unwrap();
    mac.update(aad);
    mac.update(iv);
    mac.update(&ct);
    mac.update(&(aad.len() as u64 * 8).to_be_bytes());
    let tag = mac.finalize().into_bytes()[..32].to_vec();
    (ct, tag)
}

#[test]
fn cbc_bad_padding_after_valid_tag() {
    let key_bytes = [0x42u8; 64];
    let key = CbcHs512Key::new(&key_bytes);
    let iv = [0x24u8; 16];
    let mut bad_blocks: Vec<[u8; 16]> = Vec::new();
    let mut last = [b'x'; 16];
    last[15] = 0; // pad 0
    bad_blocks.push(last);
    last[15] = 17; // pad > 16
    bad_blocks.push(last);
    last[15] = 2; // second pad byte wrong ('x')
    bad_blocks.push(last);
    last = [3; 16];
    last[13] = 4; // third byte from the end differs
    bad_blocks.push(last);
    last = [16; 16];
    last[0] = 15; // full block of padding with one wrong byte
    bad_blocks.push(last);
    for block in bad_blocks {
        let (mut ct, tag) = cbc_with_raw_last_block(&key_bytes, &iv, block);
        assert_eq!(
            key.decrypt_in_place(&iv, b"hdr", &mut ct, &tag),
            Err(DecryptError::BadPadding),
            "{block:?}"
        );
    }
    // Valid paddings through the same path: 1, 3 and 16 bytes.
    for (block, pt_len) in [
        (
            {
                let mut b = [b'y'; 16];
                b[15] = 1;
                b
            },
            31usize,
        ),
        (
            {
                let mut b = [b'y'; 16];
                b[13..].fill(3);
                b
            },
            29,
        ),
        ([16u8; 16], 16),
    ] {
        let (mut ct, tag) = cbc_with_raw_last_block(&key_bytes, &iv, block);
        let pt = key.decrypt_in_place(&iv, b"hdr", &mut ct, &tag).unwrap();
        assert_eq!(pt.len(), pt_len);
        assert_eq!(&pt[..16], b"first block 16 b");
    }
}

// ---------------------------------------------------------------------------------------------
// A256GCM: McGrew-Viega GCM specification test cases 13-16 (AES-256)

struct GcmVector {
    key: [u8; 32],
    iv: [u8; 12],
    aad: Vec<u8>,
    plaintext: Vec<u8>,
    ciphertext: Vec<u8>,
    tag: [u8; 16],
}

fn gcm_vectors() -> Vec<GcmVector> {
    let k = "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308";
    let p64 = "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72\
               1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255";
    let c64 = "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa\
               8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad";
    std::vec![
        // Test case 13: zero key, empty plaintext.
        GcmVector {
            key: [0; 32],
            iv: [0; 12],
            aad: Vec::new(),
            plaintext: Vec::new(),
            ciphertext: Vec::new(),
            tag: array("530f8afbc74536b9a963b4f1c4cb738b"),
        },
        // Test case 14: zero key, one zero block.
        GcmVector {
            key: [0; 32],
            iv: [0; 12],
            aad: Vec::new(),
            plaintext: std::vec![0; 16],
            ciphertext: hex("cea7403d4d606b6e074ec5d3baf39d18"),
            tag: array("d0d1c8a799996bf0265b98b5d48ab919"),
        },
        // Test case 15: 64-byte plaintext, no AAD.
        GcmVector {
            key: array(k),
            iv: array("cafebabefacedbaddecaf888"),
            aad: Vec::new(),
            plaintext: hex(p64),
            ciphertext: hex(c64),
            tag: array("b094dac5d93471bdec1a502270e3cc6c"),
        },
        // Test case 16: 60-byte plaintext, 20-byte AAD.
        GcmVector {
            key: array(k),
            iv: array("cafebabefacedbaddecaf888"),
            aad: hex("feedfacedeadbeeffeedfacedeadbeefabaddad2"),
            plaintext: hex(&p64[..120]),
            ciphertext: hex(&c64[..120]),
            tag: array("76fc6ece0f4e1768cddf8853bb2d551b"),
        },
    ]
}

#[test]
fn gcm_spec_vectors_encrypt_and_decrypt() {
    for (i, v) in gcm_vectors().iter().enumerate() {
        let key = GcmKey::new(&v.key);
        let mut buf = v.plaintext.clone();
        let tag = key.encrypt_in_place(&v.iv, &v.aad, &mut buf).unwrap();
        assert_eq!(buf, v.ciphertext, "case {i}");
        assert_eq!(tag, v.tag, "case {i}");
        let pt = key
            .decrypt_in_place(&v.iv, &v.aad, &mut buf, &v.tag)
            .unwrap();
        assert_eq!(pt, &v.plaintext[..], "case {i}");
    }
}

#[test]
fn gcm_every_bit_flip_is_a_bad_tag() {
    let vectors = gcm_vectors();
    let v = &vectors[3];
    let key = GcmKey::new(&v.key);
    let check = |iv: &[u8], aad: &[u8], ct: &[u8], tag: &[u8]| {
        let mut buf = ct.to_vec();
        assert_eq!(
            key.decrypt_in_place(iv, aad, &mut buf, tag),
            Err(DecryptError::BadTag)
        );
        assert_eq!(buf, ct);
    };
    for bit in 0..v.iv.len() * 8 {
        let mut iv = v.iv;
        iv[bit / 8] ^= 1 << (bit % 8);
        check(&iv, &v.aad, &v.ciphertext, &v.tag);
    }
    for bit in 0..v.ciphertext.len() * 8 {
        let mut ct = v.ciphertext.clone();
        ct[bit / 8] ^= 1 << (bit % 8);
        check(&v.iv, &v.aad, &ct, &v.tag);
    }
    for bit in 0..v.tag.len() * 8 {
        let mut tag = v.tag;
        tag[bit / 8] ^= 1 << (bit % 8);
        check(&v.iv, &v.aad, &v.ciphertext, &tag);
    }
    for bit in 0..v.aad.len() * 8 {
        let mut aad = v.aad.clone();
        aad[bit / 8] ^= 1 << (bit % 8);
        check(&v.iv, &aad, &v.ciphertext, &v.tag);
    }
    check(&v.iv, &v.aad[..19], &v.ciphertext, &v.tag);
    check(&v.iv, &v.aad, &v.ciphertext[..59], &v.tag);
    check(&v.iv, &v.aad, &[], &v.tag);
}

#[test]
fn gcm_round_trip_and_wrong_key() {
    let a = NextAuthV4Key::derive(b"secret").unwrap();
    let b = NextAuthV4Key::derive(b"secret2").unwrap();
    let c = AuthJsKey::derive(b"secret", "authjs.session-token").unwrap();
    let mut rng = XorShift(42);
    for len in [0usize, 1, 15, 16, 17, 100, 1000] {
        let mut plaintext = vec_of(len);
        rng.fill(&mut plaintext);
        let mut iv = [0u8; 12];
        rng.fill(&mut iv);
        let mut buf = plaintext.clone();
        let tag = a
            .a256gcm()
            .encrypt_in_place(&iv, b"header", &mut buf)
            .unwrap();
        for other in [b.a256gcm(), c.a256gcm()] {
            let mut copy = buf.clone();
            assert_eq!(
                other.decrypt_in_place(&iv, b"header", &mut copy, &tag),
                Err(DecryptError::BadTag)
            );
        }
        let pt = a
            .a256gcm()
            .decrypt_in_place(&iv, b"header", &mut buf, &tag)
            .unwrap();
        assert_eq!(pt, &plaintext[..]);
    }
}

#[test]
fn gcm_length_errors() {
    let key = GcmKey::new(&[7; 32]);
    let mut ct = [0u8; 10];
    for iv_len in [0, 11, 13, 16] {
        assert_eq!(
            key.decrypt_in_place(&vec_of(iv_len), b"", &mut ct, &[0; 16]),
            Err(DecryptError::InvalidIvLength)
        );
    }
    for tag_len in [0, 12, 15, 17, 32] {
        assert_eq!(
            key.decrypt_in_place(&[0; 12], b"", &mut ct, &vec_of(tag_len)),
            Err(DecryptError::InvalidTagLength)
        );
    }
}

#[test]
fn enc_names_and_sizes() {
    assert_eq!(Enc::from_name(b"A256CBC-HS512"), Some(Enc::A256CbcHs512));
    assert_eq!(Enc::from_name(b"A256GCM"), Some(Enc::A256Gcm));
    for other in [
        &b"a256gcm"[..],
        b"A128GCM",
        b"A128CBC-HS256",
        b"A256CBC-HS512 ",
        b"",
    ] {
        assert_eq!(Enc::from_name(other), None);
    }
    assert_eq!(Enc::A256CbcHs512.as_str(), "A256CBC-HS512");
    assert_eq!(format!("{}", Enc::A256Gcm), "A256GCM");
    assert_eq!(
        (Enc::A256CbcHs512.iv_len(), Enc::A256CbcHs512.tag_len()),
        (16, 32)
    );
    assert_eq!((Enc::A256Gcm.iv_len(), Enc::A256Gcm.tag_len()), (12, 16));
    assert_eq!(Enc::A256Gcm.ciphertext_len(7), Some(7));
}

#[test]
fn error_kinds_and_display() {
    let all = [
        (DecryptError::InvalidIvLength.kind(), "invalid_iv_length"),
        (DecryptError::InvalidTagLength.kind(), "invalid_tag_length"),
        (
            DecryptError::InvalidCiphertextLength.kind(),
            "invalid_ciphertext_length",
        ),
        (DecryptError::TooLong.kind(), "too_long"),
        (DecryptError::BadTag.kind(), "bad_tag"),
        (DecryptError::BadPadding.kind(), "bad_padding"),
        (EncryptError::TooLong.kind(), "too_long"),
        (
            EncryptError::BufferTooSmall { needed: 1 }.kind(),
            "buffer_too_small",
        ),
        (DeriveKeyError::EmptySecret.kind(), "empty_secret"),
    ];
    for (got, want) in all {
        assert_eq!(got, want);
    }
    assert_eq!(
        format!("{}", EncryptError::BufferTooSmall { needed: 32 }),
        "buffer too small: 32 bytes needed"
    );
    assert!(!format!("{}", DecryptError::BadTag).is_empty());
}
