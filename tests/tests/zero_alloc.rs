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

struct Fixed(u8);

impl authcore::rand::RandomSource for Fixed {
    fn fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), authcore::rand::RandomError> {
        for b in dst {
            self.0 = self.0.wrapping_mul(31).wrapping_add(7);
            *b = self.0;
        }
        Ok(())
    }
}

#[test]
fn whole_session_cycle_does_not_allocate() {
    use authcore::cookie::Flavor;
    use authcore::session::{
        Account, Buffers, Config, DefaultCallbacks, Engine, JwsCodec, OAuthCallbacks, ReadStep,
        RefreshOutcome, SignIn, User,
    };
    let key = HmacKey::new(Algorithm::Hs256, &[0x42; 32]).unwrap();
    let engine = Engine::new(Config::new(Flavor::AuthJs, true), JwsCodec::new(&key));
    let (mut t, mut s, mut b, mut c) = ([0u8; 8192], [0u8; 16384], [0u8; 1024], [0u8; 8192]);
    let mut header = [0u8; 8192];
    let now_ms = 1_700_000_000_000;
    let ((), allocs) = count(|| {
        let user = User {
            id: Some("1"),
            name: Some("Ada"),
            email: Some("ada@example.com"),
            image: None,
        };
        let sign_in = SignIn {
            user,
            account: Some(Account {
                provider: "p",
                kind: "oauth",
                provider_account_id: "1",
                access_token: Some("a1"),
                refresh_token: Some("r1"),
                expires_at: Some(now_ms / 1000 + 3600),
                ..Account::default()
            }),
            profile: None,
            is_new_user: None,
        };
        let bufs = Buffers {
            token: &mut t,
            scratch: &mut s,
            body: &mut b,
            cookies: &mut c,
        };
        let r = engine
            .sign_in(
                &mut OAuthCallbacks::<64>,
                &sign_in,
                b"",
                now_ms,
                &mut Fixed(1),
                bufs,
            )
            .unwrap();
        // Browser: the name=value part of the first Set-Cookie.
        let set = r.set_cookies().next().unwrap();
        let pair = set.split(';').next().unwrap();
        header[..pair.len()].copy_from_slice(pair.as_bytes());
        let len = pair.len();

        // A plain read with the default callbacks.
        let bufs = Buffers {
            token: &mut t,
            scratch: &mut s,
            body: &mut b,
            cookies: &mut c,
        };
        let r = engine
            .session(
                &mut DefaultCallbacks::<64>,
                &header[..len],
                now_ms + 1000,
                &mut Fixed(2),
                bufs,
            )
            .unwrap();
        assert!(r.authenticated);

        // A read that refreshes: past expiry, the token endpoint answers with rotation.
        let later = now_ms + 3_601_000;
        let client = authcore::refresh::Client::secret_basic("app", "s3cret");
        let config = authcore::refresh::Config::default();
        let bufs = Buffers {
            token: &mut t,
            scratch: &mut s,
            body: &mut b,
            cookies: &mut c,
        };
        let mut cb = OAuthCallbacks::<64>;
        let step = engine
            .session_with_refresh(
                &mut cb,
                &header[..len],
                later,
                &config,
                &client,
                &mut Fixed(3),
                bufs,
            )
            .unwrap();
        let ReadStep::Refresh(pending) = step else {
            panic!("refresh expected")
        };
        let mut req = [0u8; 256];
        let request = pending.request(&client, &mut req).unwrap();
        assert!(request.authorization.is_some());
        let body = br#"{"access_token":"a2","refresh_token":"r2","expires_in":3600}"#;
        let outcome = RefreshOutcome::Response(authcore::refresh::HttpResponse {
            status: 200,
            retry_after: None,
            body,
        });
        let step = engine
            .resume(&mut cb, pending, outcome, later, &client, &mut Fixed(4))
            .unwrap();
        let ReadStep::Done(r) = step else {
            panic!("done expected")
        };
        assert!(r.authenticated);
        assert_eq!(r.set_cookie_count(), 1);

        // The same refresh with a cookie buffer too small for the answer: the session is handed
        // back and written with the full buffers.
        let bufs = Buffers {
            token: &mut t,
            scratch: &mut s,
            body: &mut b,
            cookies: &mut c[..64],
        };
        let step = engine
            .session_with_refresh(
                &mut cb,
                &header[..len],
                later,
                &config,
                &client,
                &mut Fixed(5),
                bufs,
            )
            .unwrap();
        let ReadStep::Refresh(pending) = step else {
            panic!("refresh expected")
        };
        let outcome = RefreshOutcome::Response(authcore::refresh::HttpResponse {
            status: 200,
            retry_after: None,
            body,
        });
        let err = engine
            .resume(&mut cb, pending, outcome, later, &client, &mut Fixed(6))
            .unwrap_err();
        let unfinished = err.unfinished.expect("the session is handed back");
        let bufs = Buffers {
            token: &mut t,
            scratch: &mut s,
            body: &mut b,
            cookies: &mut c,
        };
        let r = engine
            .finish(&mut cb, unfinished, later, &mut Fixed(7), bufs)
            .unwrap();
        assert!(r.authenticated);
        assert_eq!(r.set_cookie_count(), 1);
    });
    assert_eq!(allocs, 0);
}
