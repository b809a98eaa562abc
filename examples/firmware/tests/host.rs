//! The firmware's logic, compiled for the host and run: the same functions and constants the
//! Cortex-M image runs, with the outcomes checked value by value.
//!
//! `cargo test --manifest-path examples/firmware/Cargo.toml` (both variants: add
//! `--no-default-features` for the JWS-only image).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers: a failure is a test failure"
)]

use authcore::http::embedded_io::ErrorKind;
use authcore::jws::{self, Algorithm, Header};
use authcore::refresh::{Client, NotUsable, OAuthError, RefreshError, Status};
use authcore::{DecodeError, HmacKey};
use authcore_firmware::demo::{self, Buffers};
use authcore_firmware::{
    build_refresh_request, exchange, next_refresh_deadline, parse_refresh_response, verify_hs256,
    Error, Loopback, Machine, Refreshed, Session, SessionClaims, JWS_SCRATCH_LEN, LEEWAY_SECS,
};
use serde::Serialize;

const NOW: i64 = demo::NOW;
const SESSION_EXP: i64 = NOW + 3595;
const ACCESS_EXPIRES_AT: i64 = NOW + 600;
/// `ACCESS_EXPIRES_AT` minus the advisory margin (60 s) minus this credential's jitter (9 s,
/// drawn from `demo::JITTER_SEED`; the jitter is at most 30 s).
const FIRST_DEADLINE: i64 = ACCESS_EXPIRES_AT - 60 - 9;
/// After the refresh at `FIRST_DEADLINE`: `expires_in` 3600.
const NEW_EXPIRES_AT: i64 = FIRST_DEADLINE + 3600;
/// Advisory margin 60 s plus the new credential's jitter (11 s).
const SECOND_DEADLINE: i64 = NEW_EXPIRES_AT - 60 - 11;

/// The whole HTTP/1.1 request the device sends at `FIRST_DEADLINE`.
const EXPECTED_REQUEST: &str = concat!(
    "POST /oauth/token HTTP/1.1\r\n",
    "Host: auth.example.com\r\n",
    "Content-Type: application/x-www-form-urlencoded\r\n",
    "Accept: application/json\r\n",
    "Content-Length: 51\r\n",
    // base64("hall-thermostat:client-secret-7c1b")
    "Authorization: Basic aGFsbC10aGVybW9zdGF0OmNsaWVudC1zZWNyZXQtN2MxYg==\r\n",
    "Connection: close\r\n",
    "\r\n",
    "grant_type=refresh_token&refresh_token=rt.5b7d0a.v1",
);

fn device_key() -> HmacKey {
    HmacKey::new(Algorithm::Hs256, demo::DEVICE_SECRET).unwrap()
}

fn scratch() -> Vec<u8> {
    vec![0; JWS_SCRATCH_LEN]
}

fn session(scratch: &mut [u8], now: i64) -> Result<Session<'_>, Error> {
    verify_hs256(demo::SESSION_TOKEN.as_bytes(), &device_key(), now, scratch)
}

fn loaded_machine() -> Machine {
    let mut machine = demo::machine();
    let mut s = scratch();
    let session = session(&mut s, NOW).unwrap();
    assert_eq!(
        next_refresh_deadline(&mut machine, &session, NOW),
        Ok(FIRST_DEADLINE)
    );
    machine
}

// ----- the HS256 session -----

/// The embedded token is exactly what authcore's own encoder makes of these claims.
#[test]
fn session_token_is_authcores_encoding_of_the_claims() {
    #[derive(Serialize)]
    struct Claims<'a> {
        sub: &'a str,
        name: &'a str,
        #[serde(rename = "accessToken")]
        access_token: &'a str,
        #[serde(rename = "refreshToken")]
        refresh_token: &'a str,
        #[serde(rename = "expiresAt")]
        expires_at: i64,
        iat: i64,
        exp: i64,
    }
    let claims = Claims {
        sub: "device-7f3a",
        name: "Hall thermostat",
        access_token: "at.2c9f1e.v1",
        refresh_token: "rt.5b7d0a.v1",
        expires_at: ACCESS_EXPIRES_AT,
        iat: NOW - 5,
        exp: SESSION_EXP,
    };
    let mut out = [0u8; 512];
    let token = jws::encode(&device_key(), &Header::default(), &claims, &mut out).unwrap();
    assert_eq!(token, demo::SESSION_TOKEN);
}

#[test]
fn hs256_session_claims() {
    let mut s = scratch();
    let session = session(&mut s, NOW).unwrap();
    assert_eq!(
        session.claims,
        SessionClaims {
            sub: "device-7f3a",
            name: Some("Hall thermostat"),
            access_token: Some("at.2c9f1e.v1"),
            refresh_token: Some("rt.5b7d0a.v1"),
            expires_at: Some(ACCESS_EXPIRES_AT),
        }
    );
    assert_eq!(session.exp, SESSION_EXP);
    // Debug never shows the tokens.
    let debug = format!("{:?}", session.claims);
    assert!(
        !debug.contains("rt.5b7d0a") && !debug.contains("at.2c9f1e"),
        "{debug}"
    );
}

/// The expiry decision with the device clock: valid until `exp + LEEWAY_SECS`, exclusive.
#[test]
fn hs256_expiry_against_device_clock() {
    let last_valid = SESSION_EXP + i64::from(LEEWAY_SECS) - 1;
    let mut s = scratch();
    assert_eq!(session(&mut s, last_valid).map(|v| v.exp), Ok(SESSION_EXP));
    let mut s = scratch();
    let err = session(&mut s, last_valid + 1).unwrap_err();
    assert_eq!(err.kind(), "expired");
    assert!(
        matches!(err, Error::Token(DecodeError::Expired { .. })),
        "{err:?}"
    );
    assert_eq!(err.code(), 1);
    // A clock far in the past (RTC lost power) is not a reason to refuse: no `nbf`.
    let mut s = scratch();
    assert!(session(&mut s, 0).is_ok());
}

#[test]
fn hs256_rejections() {
    let token = demo::SESSION_TOKEN.as_bytes();
    let mut s = scratch();

    let other = HmacKey::new(Algorithm::Hs256, b"another-device-hs256-secret-v001").unwrap();
    let err = verify_hs256(token, &other, NOW, &mut s).unwrap_err();
    assert_eq!(err.kind(), "bad_signature");

    let mut tampered = token.to_vec();
    let last = tampered.len() - 2;
    tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
    let err = verify_hs256(&tampered, &device_key(), NOW, &mut s).unwrap_err();
    assert_eq!(err.kind(), "bad_signature");

    let huge = vec![b'a'; authcore_firmware::MAX_TOKEN_LEN + 1];
    let err = verify_hs256(&huge, &device_key(), NOW, &mut s).unwrap_err();
    assert_eq!(err.kind(), "too_large");

    // A token without `exp` is refused: the firmware requires it.
    #[derive(Serialize)]
    struct NoExp<'a> {
        sub: &'a str,
    }
    let mut out = [0u8; 256];
    let no_exp = jws::encode(
        &device_key(),
        &Header::default(),
        &NoExp { sub: "x" },
        &mut out,
    )
    .unwrap();
    let err = verify_hs256(no_exp.as_bytes(), &device_key(), NOW, &mut s).unwrap_err();
    assert_eq!(err.kind(), "missing_claim");

    let mut small = [0u8; 16];
    let err = verify_hs256(token, &device_key(), NOW, &mut small).unwrap_err();
    assert_eq!(err.kind(), "buffer_too_small");
}

// ----- refresh deadline, request, response -----

#[test]
fn refresh_deadline_from_the_session_credential() {
    let mut machine = loaded_machine();
    // The jitter keeps the deadline inside [expiresAt - 90, expiresAt - 60].
    assert!((ACCESS_EXPIRES_AT - 90..=ACCESS_EXPIRES_AT - 60).contains(&FIRST_DEADLINE));
    assert_eq!(machine.status(NOW), Status::Fresh);
    assert_eq!(machine.access_token(NOW), Ok("at.2c9f1e.v1"));
    assert_eq!(machine.expires_at(), Some(ACCESS_EXPIRES_AT));

    // Nothing to send before the deadline, a request at it.
    let mut buf = [0u8; demo::REQUEST_LEN];
    let before = build_refresh_request(&mut machine, FIRST_DEADLINE - 1, &demo::CLIENT, &mut buf);
    assert_eq!(before, Ok(None));
    let request = build_refresh_request(&mut machine, FIRST_DEADLINE, &demo::CLIENT, &mut buf)
        .unwrap()
        .unwrap();
    assert_eq!(
        request.body,
        "grant_type=refresh_token&refresh_token=rt.5b7d0a.v1"
    );
    assert_eq!(
        request.authorization,
        Some("Basic aGFsbC10aGVybW9zdGF0OmNsaWVudC1zZWNyZXQtN2MxYg==")
    );
    // Single flight: no second request while this one is out.
    let mut buf2 = [0u8; demo::REQUEST_LEN];
    assert_eq!(
        build_refresh_request(&mut machine, FIRST_DEADLINE + 5, &demo::CLIENT, &mut buf2),
        Ok(None)
    );
}

#[test]
fn session_without_credential_has_no_deadline() {
    let claims = SessionClaims {
        sub: "s",
        name: None,
        access_token: None,
        refresh_token: None,
        expires_at: None,
    };
    let mut machine = demo::machine();
    let session = Session { claims, exp: NOW };
    assert_eq!(
        next_refresh_deadline(&mut machine, &session, NOW),
        Err(Error::NoCredential)
    );
    let bad = Session {
        claims: SessionClaims {
            access_token: Some("line\nbreak"),
            expires_at: Some(NOW + 60),
            ..claims
        },
        exp: NOW,
    };
    assert_eq!(
        next_refresh_deadline(&mut machine, &bad, NOW).map_err(|e| e.kind()),
        Err("invalid_token")
    );
}

#[test]
fn request_too_small_for_its_buffer() {
    let mut machine = loaded_machine();
    let mut buf = [0u8; 40];
    let err =
        build_refresh_request(&mut machine, FIRST_DEADLINE, &demo::CLIENT, &mut buf).unwrap_err();
    assert_eq!(err.kind(), "buffer_too_small");
    assert_eq!(err.code(), 4);
    // Nothing went out, so a bigger buffer still gets the request.
    let mut buf = [0u8; demo::REQUEST_LEN];
    assert!(
        build_refresh_request(&mut machine, FIRST_DEADLINE, &demo::CLIENT, &mut buf)
            .unwrap()
            .is_some()
    );
}

/// Request bytes on the wire, response parsed, token set rotated, next deadline.
fn exchange_with(reply: &[u8], max_read: usize) -> (Machine, Vec<u8>, Result<Refreshed, Error>) {
    let mut machine = loaded_machine();
    let mut req = [0u8; demo::REQUEST_LEN];
    let mut tx = [0u8; demo::TX_LEN];
    let mut rx = [0u8; demo::RX_LEN];
    let now = FIRST_DEADLINE;
    let request = build_refresh_request(&mut machine, now, &demo::CLIENT, &mut req)
        .unwrap()
        .unwrap();
    let mut wire = Loopback::new(&mut tx, reply).with_max_read(max_read);
    let result = exchange(
        &mut machine,
        now,
        &mut wire,
        &demo::TARGET,
        &request,
        &mut rx,
    )
    .and_then(|response| parse_refresh_response(&mut machine, now, response));
    let sent = wire.sent().to_vec();
    (machine, sent, result)
}

#[test]
fn refresh_exchange_exact_request_and_rotated_tokens() {
    for max_read in [usize::MAX, 7, 1] {
        let (machine, sent, result) = exchange_with(demo::CANNED_RESPONSE.as_bytes(), max_read);
        assert_eq!(std::str::from_utf8(&sent).unwrap(), EXPECTED_REQUEST);
        assert_eq!(
            result,
            Ok(Refreshed {
                expires_at: NEW_EXPIRES_AT,
                rotated: true,
                generation: 2,
                next_deadline: SECOND_DEADLINE,
            })
        );
        assert_eq!(machine.access_token(FIRST_DEADLINE), Ok("at.9e4d21.v2"));
        assert_eq!(machine.refresh_token(), Some("rt.c0ffee.v2"));
        assert_eq!(machine.expires_at(), Some(NEW_EXPIRES_AT));
        assert_eq!(machine.session_error(), None);
        assert_eq!(machine.status(SECOND_DEADLINE - 1), Status::Fresh);
        assert_eq!(machine.status(SECOND_DEADLINE), Status::Advisory);
    }
}

#[test]
fn refresh_refused_by_the_endpoint() {
    let body = r#"{"error":"invalid_grant","error_description":"refresh token revoked"}"#;
    let reply = format!(
        "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let (machine, _, result) = exchange_with(reply.as_bytes(), usize::MAX);
    let err = result.unwrap_err();
    assert_eq!(
        err,
        Error::Refresh(RefreshError::OAuth {
            code: OAuthError::InvalidGrant,
            status: 400
        })
    );
    assert_eq!(err.kind(), "oauth_error");
    assert!(machine.is_terminal());
    // The old token is kept until it reaches its mandatory window, then sign-in is required.
    assert_eq!(machine.access_token(FIRST_DEADLINE), Ok("at.2c9f1e.v1"));
    assert_eq!(
        machine.access_token(ACCESS_EXPIRES_AT - 5),
        Err(NotUsable::SignInRequired)
    );
    assert_eq!(machine.poll_timeout(), Some(ACCESS_EXPIRES_AT));
}

#[test]
fn refresh_with_a_transient_failure_backs_off() {
    let reply = "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 120\r\nContent-Length: 0\r\n\r\n";
    let (mut machine, _, result) = exchange_with(reply.as_bytes(), usize::MAX);
    assert_eq!(
        result,
        Err(Error::Refresh(RefreshError::Status { status: 503 }))
    );
    assert!(!machine.is_terminal());
    assert_eq!(machine.session_error(), Some("RefreshTokenError"));
    // Not before Retry-After.
    let mut buf = [0u8; demo::REQUEST_LEN];
    assert_eq!(
        build_refresh_request(&mut machine, FIRST_DEADLINE + 119, &demo::CLIENT, &mut buf),
        Ok(None)
    );
    assert!(
        build_refresh_request(&mut machine, FIRST_DEADLINE + 120, &demo::CLIENT, &mut buf)
            .unwrap()
            .is_some()
    );
}

#[test]
fn truncated_response_is_a_transport_failure() {
    // Cut inside the status line: nothing is known, the request may have been processed, so
    // the machine resends once.
    let cut = &demo::CANNED_RESPONSE.as_bytes()[..5];
    let (machine, _, result) = exchange_with(cut, usize::MAX);
    let err = result.unwrap_err();
    assert_eq!(err.kind(), "truncated");
    assert_eq!(err.code(), 5);
    assert_eq!(machine.last_error(), Some(RefreshError::NoResponse));
    assert!(!machine.is_refreshing());
    assert!(!machine.is_terminal());
    // Cut inside the body of the 200: the server used the refresh token and may have rotated
    // it into the lost part, so the old one is not sent again.
    let cut = &demo::CANNED_RESPONSE.as_bytes()[..demo::CANNED_RESPONSE.len() - 10];
    let (machine, _, result) = exchange_with(cut, usize::MAX);
    let err = result.unwrap_err();
    assert_eq!(err.kind(), "success_unreadable");
    assert_eq!(err.code(), 5);
    assert_eq!(
        machine.last_error(),
        Some(RefreshError::BadResponse(
            authcore::refresh::ResponseError::Unreadable
        ))
    );
    assert!(machine.is_terminal());
}

#[test]
fn transmit_buffer_full_is_an_error_not_a_panic() {
    let mut machine = loaded_machine();
    let mut req = [0u8; demo::REQUEST_LEN];
    let mut tx = [0u8; 100];
    let mut rx = [0u8; demo::RX_LEN];
    let request = build_refresh_request(&mut machine, FIRST_DEADLINE, &demo::CLIENT, &mut req)
        .unwrap()
        .unwrap();
    let mut wire = Loopback::new(&mut tx, demo::CANNED_RESPONSE.as_bytes());
    let err = exchange(
        &mut machine,
        FIRST_DEADLINE,
        &mut wire,
        &demo::TARGET,
        &request,
        &mut rx,
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Exchange(authcore::http::ExchangeError::Write(ErrorKind::OutOfMemory))
        ),
        "{err:?}"
    );
    assert_eq!(wire.sent().len(), 100);
}

#[test]
fn public_client_request() {
    let mut machine = loaded_machine();
    let mut buf = [0u8; demo::REQUEST_LEN];
    let client = Client::public("hall thermostat/2").with_scope("openid offline_access");
    let request = build_refresh_request(&mut machine, FIRST_DEADLINE, &client, &mut buf)
        .unwrap()
        .unwrap();
    assert_eq!(
        request.body,
        "grant_type=refresh_token&refresh_token=rt.5b7d0a.v1&scope=openid+offline_access&client_id=hall+thermostat%2F2"
    );
    assert_eq!(request.authorization, None);
}

// ----- the whole pass, as main.rs runs it -----

#[test]
fn firmware_pass() {
    let mut bufs = Box::new(Buffers::new());
    let mut machine = Box::new(demo::machine());
    let mut slept_until = None;
    let report = demo::run(&mut bufs, &mut machine, NOW, &mut |t| {
        slept_until = Some(t);
        t
    })
    .unwrap();
    assert_eq!(slept_until, Some(FIRST_DEADLINE));
    assert_eq!(report.session_exp, SESSION_EXP);
    #[cfg(feature = "jwe")]
    assert_eq!(report.cookie_exp, Some(COOKIE_EXP));
    #[cfg(not(feature = "jwe"))]
    assert_eq!(report.cookie_exp, None);
    assert_eq!(report.deadline, FIRST_DEADLINE);
    assert_eq!(report.request_len, EXPECTED_REQUEST.len());
    assert_eq!(&bufs.tx[..report.request_len], EXPECTED_REQUEST.as_bytes());
    assert_eq!(
        report.refreshed,
        Refreshed {
            expires_at: NEW_EXPIRES_AT,
            rotated: true,
            generation: 2,
            next_deadline: SECOND_DEADLINE,
        }
    );
    assert_eq!(machine.refresh_token(), Some("rt.c0ffee.v2"));
}

/// A clock that sleeps past the deadline (the device woke late): the request goes out then.
#[test]
fn firmware_pass_woken_late() {
    let mut bufs = Box::new(Buffers::new());
    let mut machine = Box::new(demo::machine());
    let late = FIRST_DEADLINE + 40;
    let report = demo::run(&mut bufs, &mut machine, NOW, &mut |_| late).unwrap();
    assert_eq!(report.refreshed.expires_at, late + 3600);
}

/// The session expired before boot: the pass stops at the first step.
#[test]
fn firmware_pass_with_expired_session() {
    let mut bufs = Box::new(Buffers::new());
    let mut machine = Box::new(demo::machine());
    let err = demo::run(&mut bufs, &mut machine, SESSION_EXP + 3600, &mut |t| t).unwrap_err();
    assert_eq!(err.kind(), "expired");
    assert_eq!(machine.status(NOW), Status::Empty);
}

// ----- the Auth.js v5 cookie (feature `jwe`) -----

/// `exp` of the `with-oauth-tokens-secure-cookie` vector.
#[cfg(feature = "jwe")]
const COOKIE_EXP: i64 = 1_795_334_267;

#[cfg(feature = "jwe")]
mod cookie {
    use super::*;
    use authcore::jwe::AuthJsKey;
    use authcore_firmware::{open_authjs_cookie, JWE_SCRATCH_LEN, MAX_TOKEN_LEN};

    fn key(secret: &[u8]) -> AuthJsKey {
        AuthJsKey::derive(secret, demo::COOKIE_NAME).unwrap()
    }

    fn open(header: &str, secret: &[u8], now: i64) -> Result<(i64, String, i64), Error> {
        let mut value = vec![0u8; MAX_TOKEN_LEN];
        let mut scratch = vec![0u8; JWE_SCRATCH_LEN];
        let keys = [key(secret)];
        let s = open_authjs_cookie(
            header.as_bytes(),
            demo::COOKIE_NAME,
            &keys,
            now,
            &mut value,
            &mut scratch,
        )?;
        Ok((s.exp, s.claims.sub.to_owned(), s.claims.expires_at.unwrap()))
    }

    /// The vector's token, unchunked.
    fn token() -> String {
        let header = demo::COOKIE_HEADER;
        let part = |name: &str| {
            let start = header.find(name).unwrap() + name.len();
            let end = header[start..]
                .find(';')
                .map_or(header.len(), |i| start + i);
            header[start..end].to_owned()
        };
        part("__Secure-authjs.session-token.0=") + &part("__Secure-authjs.session-token.1=")
    }

    #[test]
    fn chunked_cookie_claims() {
        let mut value = vec![0u8; MAX_TOKEN_LEN];
        let mut scratch = vec![0u8; JWE_SCRATCH_LEN];
        let keys = [key(demo::AUTH_SECRET)];
        let s = open_authjs_cookie(
            demo::COOKIE_HEADER.as_bytes(),
            demo::COOKIE_NAME,
            &keys,
            NOW,
            &mut value,
            &mut scratch,
        )
        .unwrap();
        assert_eq!(s.exp, COOKIE_EXP);
        assert_eq!(s.claims.sub, "110248495921238986420");
        assert_eq!(s.claims.name, Some("Grace Hopper"));
        assert_eq!(s.claims.expires_at, Some(1_767_225_600));
        assert_eq!(
            s.claims.refresh_token,
            Some("1//ajxgCuTEcue2reR2_P_RIwG-St4qCwg2F3Ot27sLMp_wDFTkHS0iV3rq9")
        );
        assert_eq!(
            s.claims.access_token,
            Some(concat!(
                "ya29.Cf-cQgmWBzrwLXAD_aSczsb3IIAs0FdtJs6efNiatptVoZp0ejJD8CwLpbhZ3IkyhkJQwBjl8Zh",
                "LHaDTSNOgW9EcpXEgDSSFRo7sWWcKr-edZVxocj81_RyOZW97QKs37LjGiYrxCJ8h6Cllj83NPqA-44",
                "BiFwj5rwTDBFF6F9MCTKV"
            ))
        );

        // The cookie's credential expired long ago: refresh at once.
        let mut machine = demo::machine();
        let deadline = next_refresh_deadline(&mut machine, &s, NOW).unwrap();
        assert!(deadline <= NOW, "{deadline}");
        assert_eq!(machine.status(NOW), Status::Expired);
        let mut buf = [0u8; demo::REQUEST_LEN];
        let request = build_refresh_request(&mut machine, NOW, &demo::CLIENT, &mut buf)
            .unwrap()
            .unwrap();
        assert_eq!(
            request.body,
            "grant_type=refresh_token&refresh_token=1%2F%2FajxgCuTEcue2reR2_P_RIwG-St4qCwg2F3Ot27sLMp_wDFTkHS0iV3rq9"
        );
    }

    #[test]
    fn unchunked_cookie_and_expiry() {
        let header = format!("{}={}", demo::COOKIE_NAME, token());
        let expected = (
            COOKIE_EXP,
            "110248495921238986420".to_owned(),
            1_767_225_600,
        );
        assert_eq!(open(&header, demo::AUTH_SECRET, NOW), Ok(expected.clone()));
        let last_valid = COOKIE_EXP + i64::from(LEEWAY_SECS) - 1;
        assert_eq!(open(&header, demo::AUTH_SECRET, last_valid), Ok(expected));
        let err = open(&header, demo::AUTH_SECRET, last_valid + 1).unwrap_err();
        assert_eq!(err.kind(), "expired");
    }

    #[test]
    fn cookie_rejections() {
        let header = format!("{}={}", demo::COOKIE_NAME, token());
        // Another secret derives another key: its kid does not match.
        let err = open(&header, b"another secret entirely", NOW).unwrap_err();
        assert!(
            matches!(err.kind(), "unknown_kid" | "bad_tag"),
            "{}",
            err.kind()
        );

        // The same cookie under the non-secure name is derived with another salt.
        let plain = format!("authjs.session-token={}", token());
        assert_eq!(
            open(&plain, demo::AUTH_SECRET, NOW),
            Err(Error::NoSessionCookie)
        );

        // A flipped ciphertext byte.
        let mut t = token().into_bytes();
        let i = t.len() / 2;
        t[i] = if t[i] == b'A' { b'B' } else { b'A' };
        let tampered = format!("{}={}", demo::COOKIE_NAME, String::from_utf8(t).unwrap());
        let err = open(&tampered, demo::AUTH_SECRET, NOW).unwrap_err();
        assert_eq!(err.kind(), "bad_tag");

        // Only one chunk of two.
        let half = format!("{}.0={}", demo::COOKIE_NAME, &token()[..480]);
        assert!(open(&half, demo::AUTH_SECRET, NOW).is_err());

        // No cookie at all.
        assert_eq!(
            open("theme=dark", demo::AUTH_SECRET, NOW),
            Err(Error::NoSessionCookie)
        );

        // Larger than the value buffer.
        let big = format!("{}={}", demo::COOKIE_NAME, "A".repeat(MAX_TOKEN_LEN + 1));
        let err = open(&big, demo::AUTH_SECRET, NOW).unwrap_err();
        assert_eq!(err.kind(), "buffer_too_small");
        assert_eq!(err.code(), 2);
    }
}

/// `Loopback` holds the whole refresh request (the client secret in `Authorization`, the
/// refresh token in the body) and the token endpoint's answer (the new tokens): its `Debug`
/// shows lengths only, as `Request` and `HttpResponse` do.
#[test]
fn loopback_debug_does_not_print_the_request_or_the_reply() {
    let mut machine = loaded_machine();
    let mut req = [0u8; demo::REQUEST_LEN];
    let mut tx = [0u8; demo::TX_LEN];
    let mut rx = [0u8; demo::RX_LEN];
    let request = build_refresh_request(&mut machine, FIRST_DEADLINE, &demo::CLIENT, &mut req)
        .unwrap()
        .unwrap();
    let mut wire = Loopback::new(&mut tx, demo::CANNED_RESPONSE.as_bytes());
    exchange(
        &mut machine,
        FIRST_DEADLINE,
        &mut wire,
        &demo::TARGET,
        &request,
        &mut rx,
    )
    .unwrap();
    let debug = format!("{wire:?}");
    // `[u8]`'s `Debug` prints decimal bytes: look for the tokens and the credentials that way.
    let as_debug_bytes = |s: &str| {
        s.bytes()
            .map(|b| b.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    for secret in [
        "rt.5b7d0a.v1",
        "rt.c0ffee.v2",
        "aGFsbC10aGVybW9zdGF0OmNsaWVudC1zZWNyZXQtN2MxYg==",
    ] {
        assert!(!debug.contains(secret), "{debug}");
        assert!(!debug.contains(&as_debug_bytes(secret)), "{debug}");
    }
    assert!(debug.contains("sent_len"), "{debug}");
}
