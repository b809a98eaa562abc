//! Unit tests: golden requests, response parsing, machine basics.

use super::request::{encode, encoded_len, form_encode, form_encoded_len};
use super::response::{parse, ErrorResponse, TokenResponse, MAX_DEPTH};
use super::*;

const ID: &str = "my:client %+ é";
const SECRET: &str = "s3:cr+t %é~!";
const RT: &str = "r t+%:/é";

// Expected values computed with Node's URLSearchParams and Buffer.toString("base64").
#[test]
fn golden_client_secret_post() {
    let client = Client::secret_post(ID, SECRET).with_scope("openid email");
    let mut buf = [0u8; 512];
    let request = encode(&client, RT, &mut buf).unwrap();
    assert_eq!(
        request.body,
        "grant_type=refresh_token&refresh_token=r+t%2B%25%3A%2F%C3%A9&scope=openid+email\
         &client_id=my%3Aclient+%25%2B+%C3%A9&client_secret=s3%3Acr%2Bt+%25%C3%A9%7E%21"
    );
    assert_eq!(request.authorization, None);
    assert_eq!(encoded_len(&client, RT), request.body.len());
}

#[test]
fn golden_client_secret_basic() {
    let client = Client::secret_basic(ID, SECRET).with_scope("openid email");
    let mut buf = [0u8; 512];
    let request = encode(&client, RT, &mut buf).unwrap();
    assert_eq!(
        request.body,
        "grant_type=refresh_token&refresh_token=r+t%2B%25%3A%2F%C3%A9&scope=openid+email"
    );
    assert_eq!(
        request.authorization,
        Some("Basic bXklM0FjbGllbnQrJTI1JTJCKyVDMyVBOTpzMyUzQWNyJTJCdCslMjUlQzMlQTklN0UlMjE=")
    );
    assert_eq!(
        encoded_len(&client, RT),
        request.body.len() + request.authorization.unwrap().len()
    );
}

#[test]
fn public_client_and_padding() {
    let client = Client::public("abc");
    let mut buf = [0u8; 128];
    let request = encode(&client, "r", &mut buf).unwrap();
    assert_eq!(
        request.body,
        "grant_type=refresh_token&refresh_token=r&client_id=abc"
    );
    // "a:b" -> no padding, "ab:c" -> "==" padding, "a:" -> one "=".
    for (id, secret, expected) in [
        ("a", "b", "Basic YTpi"),
        ("ab", "c", "Basic YWI6Yw=="),
        ("a", "bc", "Basic YTpiYw=="),
        ("ab", "cd", "Basic YWI6Y2Q="),
    ] {
        let client = Client::secret_basic(id, secret);
        let request = encode(&client, "r", &mut buf).unwrap();
        assert_eq!(request.authorization, Some(expected));
    }
}

#[test]
fn every_buffer_size_below_needed_is_rejected() {
    for client in [
        Client::secret_basic(ID, SECRET),
        Client::secret_post(ID, SECRET).with_scope("x y"),
        Client::public(ID),
    ] {
        let needed = encoded_len(&client, RT);
        let mut buf = [0u8; 256];
        for len in 0..needed {
            assert_eq!(
                encode(&client, RT, &mut buf[..len]),
                Err(RequestError::BufferTooSmall { needed })
            );
        }
        assert!(encode(&client, RT, &mut buf[..needed]).is_ok());
    }
}

#[test]
fn form_encoding_matches_url_search_params() {
    let mut buf = [0u8; 64];
    let input = "*-._~!'()😀 ";
    assert_eq!(
        form_encode(input, &mut buf).unwrap(),
        "*-._%7E%21%27%28%29%F0%9F%98%80+"
    );
    assert_eq!(form_encoded_len(input), 32);
    assert_eq!(
        form_encode(input, &mut buf[..31]),
        Err(RequestError::BufferTooSmall { needed: 32 })
    );
}

#[test]
fn debug_redacts_secrets() {
    extern crate std;
    use std::format;
    let client = Client::secret_basic("id", "hunter2");
    assert!(!format!("{client:?}").contains("hunter2"));
    let mut buf = [0u8; 128];
    let request = encode(&client, "rt-secret", &mut buf).unwrap();
    let shown = format!("{request:?}");
    assert!(!shown.contains("rt-secret") && !shown.contains("Basic"));
    let mut m: RefreshMachine<64, 64> = RefreshMachine::new(Config::default(), 1);
    m.set_credential(0, "at-secret", Some("rt-secret"), 100)
        .unwrap();
    let shown = format!("{m:?}");
    assert!(!shown.contains("at-secret") && !shown.contains("rt-secret"));
    // The token endpoint's answer, and the characters of a token read from it.
    let body = br#"{"access_token":"at-secret","refresh_token":"rt-secret"}"#;
    let response = HttpResponse {
        status: 200,
        retry_after: None,
        body,
    };
    let shown = format!("{response:?}");
    assert!(!shown.contains("at-secret") && !shown.contains("rt-secret"));
    assert!(!shown.contains("97, 116, 45") && shown.contains("body_len"));
    let t = tokens(core::str::from_utf8(body).unwrap());
    let shown = format!("{:?}", t.access_token.chars());
    assert!(!shown.contains("97, 116") && !shown.contains("at-secret"));
    assert_eq!(shown, "Unescape { len: 9, pos: 0 }");
}

fn tokens(body: &str) -> response::Tokens<'_> {
    match parse(body.as_bytes()) {
        Ok(TokenResponse::Tokens(t)) => t,
        other => panic!("{body}: {other:?}"),
    }
}

#[test]
fn success_responses() {
    let t = tokens(
        r#"{"access_token":"a\/b\u0041","token_type":"bEaReR","expires_in":3600,
            "refresh_token":"r2","scope":"openid","id_token":"x","extra":{"a":[1,{"b":null}]}}"#,
    );
    let mut s: heapless::String<16> = heapless::String::new();
    t.access_token.write_to(&mut s).unwrap();
    assert_eq!(s, "a/bA");
    assert_eq!(t.expires_in, Some(3600));
    assert!(t.refresh_token.is_some());
    assert_eq!(
        tokens(r#"{"access_token":"a","expires_in":"60"}"#).expires_in,
        Some(60)
    );
    assert_eq!(tokens(r#"{"access_token":"a"}"#).expires_in, None);
    assert_eq!(
        tokens(r#"{"access_token":"a","expires_in":99999999999999999999999}"#).expires_in,
        Some(u64::MAX)
    );
    assert_eq!(
        tokens(r#" {"access_token":"a","expires_in":0} "#).expires_in,
        Some(0)
    );
}

/// A 2xx body that is refused ends the session and loses a rotated refresh token, so values
/// Auth.js would store are taken: any JSON number of seconds, rounded down as
/// `Math.floor(now + expires_in)` does (negative: already expired); `null` for an absent
/// member (`??`); a scope that is not a string, flagged.
#[test]
fn lenient_success_members() {
    extern crate std;
    use std::format;
    for (expires_in, expected) in [
        ("3599.98", Some(3599)),
        ("3600.0", Some(3600)),
        ("3.6e3", Some(3600)),
        ("36E+2", Some(3600)),
        ("360000e-2", Some(3600)),
        ("0.5", Some(0)),
        ("1e-400", Some(0)),
        ("-1", Some(0)),
        ("-0.0", Some(0)),
        ("1e400", Some(u64::MAX)),
        ("18446744073709551616", Some(u64::MAX)),
        ("1.8446744073709551615e19", Some(u64::MAX)),
        ("1.2345678901234567890123e3", Some(1234)),
        ("null", None),
    ] {
        let body = format!(r#"{{"access_token":"a","expires_in":{expires_in}}}"#);
        assert_eq!(tokens(&body).expires_in, expected, "{expires_in}");
    }
    let t = tokens(r#"{"access_token":"a","refresh_token":null,"scope":null,"error":null}"#);
    assert!(t.refresh_token.is_none() && t.scope.is_none() && !t.scope_unreadable);
    for scope in ["[]", r#"["read","write"]"#, "1", "{}", "true"] {
        let body = format!(r#"{{"access_token":"a","scope":{scope}}}"#);
        let t = tokens(&body);
        assert!(t.scope.is_none() && t.scope_unreadable, "{scope}");
    }
    assert!(!tokens(r#"{"access_token":"a","scope":"x"}"#).scope_unreadable);
}

/// The rotated refresh token of a 2xx body with such members is kept (before, each body
/// below ended the session and dropped `r2`); `"refresh_token":null` keeps the old one.
#[test]
fn rotated_token_survives_lenient_members() {
    extern crate std;
    use std::format;
    let client = Client::public("c");
    let run = |body: &str| {
        let mut m: RefreshMachine<256, 64, 16> =
            RefreshMachine::new(Config::default().jitter_max(0), 7);
        m.set_credential(0, "a1", Some("r1"), 3600).unwrap();
        let mut buf = [0u8; 256];
        m.poll_request(3540, &client, &mut buf).unwrap().unwrap();
        m.handle_response(
            3540,
            HttpResponse {
                status: 200,
                retry_after: None,
                body: body.as_bytes(),
            },
        )
        .unwrap();
        m
    };
    for member in [
        r#""scope":["read","write"]"#,
        r#""scope":null"#,
        r#""expires_in":3599.98"#,
        r#""expires_in":3600.0"#,
        r#""expires_in":null"#,
        r#""error":null"#,
        r#""token_type":null"#,
    ] {
        let body = format!(r#"{{"access_token":"a2","refresh_token":"r2",{member}}}"#);
        let m = run(&body);
        assert!(!m.is_terminal(), "{body}: {:?}", m.last_error());
        assert_eq!(m.refresh_token(), Some("r2"), "{body}");
        assert_eq!(m.access_token(3540), Ok("a2"), "{body}");
    }
    let m = run(r#"{"access_token":"a2","refresh_token":"r2","scope":["read"]}"#);
    assert!(m.scope_dropped() && m.scope().is_none());
    let m = run(r#"{"access_token":"a2","refresh_token":null,"expires_in":3600}"#);
    assert_eq!(
        (m.refresh_token(), m.access_token(3540)),
        (Some("r1"), Ok("a2"))
    );
}

#[test]
fn error_responses() {
    for (body, code) in [
        (r#"{"error":"invalid_grant"}"#, OAuthError::InvalidGrant),
        (
            r#"{"error":"invalid_client","error_description":"x"}"#,
            OAuthError::InvalidClient,
        ),
        (
            r#"{"error":"unauthorized_client"}"#,
            OAuthError::UnauthorizedClient,
        ),
        (
            r#"{"error":"unsupported_grant_type"}"#,
            OAuthError::UnsupportedGrantType,
        ),
        (r#"{"error":"invalid_scope"}"#, OAuthError::InvalidScope),
        (r#"{"error":"invalid_request"}"#, OAuthError::InvalidRequest),
        (r#"{"error":"server_error"}"#, OAuthError::ServerError),
        (
            r#"{"error":"temporarily_unavailable"}"#,
            OAuthError::TemporarilyUnavailable,
        ),
        (r#"{"error":"slow_down"}"#, OAuthError::Other),
        // A 200 carrying both is an error.
        (
            r#"{"access_token":"a","error":"invalid_grant"}"#,
            OAuthError::InvalidGrant,
        ),
    ] {
        match parse(body.as_bytes()) {
            Ok(TokenResponse::Error(ErrorResponse { code: got, .. })) => {
                assert_eq!(got, code, "{body}");
            }
            other => panic!("{body}: {other:?}"),
        }
    }
}

#[test]
fn rejected_responses() {
    let deep = {
        let mut s = heapless::String::<256>::new();
        s.push_str(r#"{"x":"#).unwrap();
        for _ in 0..=MAX_DEPTH {
            s.push('[').unwrap();
        }
        for _ in 0..=MAX_DEPTH {
            s.push(']').unwrap();
        }
        s.push('}').unwrap();
        s
    };
    let cases: &[(&[u8], ResponseError)] = &[
        (b"\xff", ResponseError::NotUtf8),
        (b"", ResponseError::Malformed),
        (b"{", ResponseError::Malformed),
        (b"{}x", ResponseError::Malformed),
        (b"[1]", ResponseError::NotAnObject),
        (b"\"a\"", ResponseError::NotAnObject),
        (b"{}", ResponseError::MissingAccessToken),
        (b"{\"a\":1,}", ResponseError::Malformed),
        (b"{\"a\":01}", ResponseError::Malformed),
        (b"{\"a\":1.}", ResponseError::Malformed),
        (b"{\"a\":tru}", ResponseError::Malformed),
        (b"{\"a\":\"\\x\"}", ResponseError::Malformed),
        (b"{\"a\":\"\\ud800\"}", ResponseError::Malformed),
        (b"{\"a\":\"\\udc00\"}", ResponseError::Malformed),
        (b"{\"a\":\"\x01\"}", ResponseError::Malformed),
        (b"{\"a\":[1,2}", ResponseError::Malformed),
        (b"{\"a\":{\"b\"}}", ResponseError::Malformed),
        (deep.as_bytes(), ResponseError::TooDeep),
        (
            br#"{"access_token":"a","access_token":"b"}"#,
            ResponseError::DuplicateMember,
        ),
        (
            br#"{"access_token":"a","access\u005ftoken":"b"}"#,
            ResponseError::DuplicateMember,
        ),
        (br#"{"access_token":""}"#, ResponseError::InvalidAccessToken),
        (br#"{"access_token":1}"#, ResponseError::InvalidAccessToken),
        (
            br#"{"access_token":"a\nb"}"#,
            ResponseError::InvalidAccessToken,
        ),
        (
            br#"{"access_token":"\u00e9"}"#,
            ResponseError::InvalidAccessToken,
        ),
        (
            br#"{"access_token":"a","refresh_token":"a\r\nX: y"}"#,
            ResponseError::InvalidRefreshToken,
        ),
        (
            br#"{"access_token":"a","expires_in":"1 "}"#,
            ResponseError::InvalidExpiresIn,
        ),
        (
            br#"{"access_token":"a","expires_in":""}"#,
            ResponseError::InvalidExpiresIn,
        ),
        (
            br#"{"access_token":"a","expires_in":true}"#,
            ResponseError::InvalidExpiresIn,
        ),
        (
            br#"{"access_token":"a","token_type":"mac"}"#,
            ResponseError::UnsupportedTokenType,
        ),
        (
            br#"{"access_token":"a","token_type":1}"#,
            ResponseError::InvalidTokenType,
        ),
        (br#"{"error":1}"#, ResponseError::InvalidErrorCode),
    ];
    for (body, expected) in cases {
        assert_eq!(
            parse(body).err(),
            Some(*expected),
            "{}",
            core::str::from_utf8(body).unwrap_or("?")
        );
    }
}

#[test]
fn surrogate_pairs_and_lengths() {
    let body = r#"{"access_token":"x","scope":"\ud83d\ude00é\u00e9"}"#;
    let t = tokens(body);
    let scope = t.scope.unwrap();
    assert_eq!(scope.unescaped_len(), "😀éé".len());
    assert!(scope.chars().eq("😀éé".chars()));
}

#[test]
fn classification() {
    assert!(OAuthError::InvalidGrant.is_terminal(403));
    assert!(!OAuthError::ServerError.is_terminal(400));
    assert!(!OAuthError::Other.is_terminal(503));
    assert!(OAuthError::Other.is_terminal(400));
    assert!(RefreshError::Status { status: 401 }.is_terminal());
    assert!(!RefreshError::Status { status: 502 }.is_terminal());
    assert!(!RefreshError::Status { status: 429 }.is_terminal());
    assert_eq!(
        RefreshError::NoResponseAfterRetry.kind(),
        "no_response_after_retry"
    );
}

#[test]
fn machine_smoke() {
    let mut m: RefreshMachine<32, 16> = RefreshMachine::new(Config::default().jitter_max(0), 1);
    assert_eq!(m.status(0), Status::Empty);
    assert_eq!(m.access_token(0), Err(NotUsable::Empty));
    assert_eq!(
        m.set_credential(0, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", None, 10),
        Err(CredentialError::AccessTokenTooLarge {
            len: 33,
            capacity: 32
        })
    );
    m.set_credential(0, "a1", Some("r1"), 3600).unwrap();
    assert_eq!(m.poll_timeout(), Some(3540));
    let mut buf = [0u8; 128];
    let client = Client::public("c");
    assert_eq!(m.poll_request(3539, &client, &mut buf), Ok(None));
    assert!(m.poll_request(3540, &client, &mut buf).unwrap().is_some());
    assert_eq!(
        m.poll_request(3540, &client, &mut buf),
        Ok(None),
        "single flight"
    );
    // A response whose refresh token does not fit keeps everything.
    let body = br#"{"access_token":"a2","refresh_token":"0123456789abcdefX"}"#;
    m.handle_response(
        3541,
        HttpResponse {
            status: 200,
            retry_after: None,
            body,
        },
    )
    .unwrap();
    assert_eq!(
        m.poll_event(),
        Some(Event::RefreshFailed {
            error: RefreshError::RefreshTokenTooLarge {
                len: 17,
                capacity: 16
            },
            terminal: true,
            retry_at: None
        })
    );
    assert_eq!(m.access_token(3541), Ok("a1"));
    assert_eq!(m.refresh_token(), Some("r1"));
    assert_eq!(m.session_error(), Some(REFRESH_TOKEN_ERROR));
    assert_eq!(m.access_token(3590), Err(NotUsable::SignInRequired));
    assert_eq!(
        m.handle_response(
            3541,
            HttpResponse {
                status: 200,
                retry_after: None,
                body
            }
        ),
        Err(HandleError::NoRequestInFlight)
    );
}

// ----- API for adapters: scope, token_type, error codes, is_due, refresh-token-only, 401 -----

type Small = RefreshMachine<32, 16, 8>;

fn small() -> Small {
    RefreshMachine::new(Config::default().jitter_max(0), 1)
}

/// Sends the due request at `now` and answers it with `status` and `body`; the events are
/// dropped.
fn answer<const AT: usize, const RT: usize, const SC: usize>(
    m: &mut RefreshMachine<AT, RT, SC>,
    now: i64,
    status: u16,
    body: &str,
) {
    send_and_answer(m, now, status, body);
    while m.poll_event().is_some() {}
}

/// [`answer`], leaving the events to the caller.
fn send_and_answer<const AT: usize, const RT: usize, const SC: usize>(
    m: &mut RefreshMachine<AT, RT, SC>,
    now: i64,
    status: u16,
    body: &str,
) {
    let mut buf = [0u8; 256];
    assert!(
        m.poll_request(now, &Client::public("c"), &mut buf)
            .unwrap()
            .is_some(),
        "no request due at {now}"
    );
    m.handle_response(
        now,
        HttpResponse {
            status,
            retry_after: None,
            body: body.as_bytes(),
        },
    )
    .unwrap();
}

#[test]
fn scope_and_token_type_of_the_last_response_are_kept() {
    let mut m = small();
    m.set_credential(0, "a1", Some("r1"), 3600).unwrap();
    assert_eq!((m.scope(), m.token_type()), (None, None));
    answer(
        &mut m,
        3540,
        200,
        r#"{"access_token":"a2","token_type":"bearer","scope":"a b\u0063"}"#,
    );
    assert_eq!(m.access_token(3540), Ok("a2"));
    assert_eq!(m.scope(), Some("a bc"));
    assert_eq!(m.token_type(), Some("bearer"));
    assert!(!m.scope_dropped());
    // No scope: unchanged (RFC 6749 5.1); no token_type: none.
    answer(&mut m, 7140, 200, r#"{"access_token":"a3"}"#);
    assert_eq!(m.access_token(7140), Ok("a3"));
    assert_eq!((m.scope(), m.token_type()), (Some("a bc"), None));
    // Exactly the capacity fits.
    answer(
        &mut m,
        10_740,
        200,
        r#"{"access_token":"a4","scope":"12345678"}"#,
    );
    assert_eq!(m.scope(), Some("12345678"));
    // One byte more: the tokens are committed, the scope is dropped and flagged.
    answer(
        &mut m,
        14_340,
        200,
        r#"{"access_token":"a5","refresh_token":"r5","scope":"123456789"}"#,
    );
    assert_eq!(m.access_token(14_340), Ok("a5"));
    assert_eq!(m.refresh_token(), Some("r5"));
    assert_eq!(m.last_error(), None);
    assert_eq!(m.scope(), None);
    assert!(m.scope_dropped());
    // A later scope that fits is known again; a new credential forgets everything.
    answer(&mut m, 17_940, 200, r#"{"access_token":"a6","scope":"s"}"#);
    assert_eq!((m.scope(), m.scope_dropped()), (Some("s"), false));
    m.set_credential(20_000, "b1", Some("r1"), 23_600).unwrap();
    assert_eq!((m.scope(), m.token_type()), (None, None));
    m.clear();
    assert_eq!(m.scope(), None);
}

#[test]
fn error_code_keeps_printable_codes_only() {
    assert_eq!(ErrorCode::new("slow_down").as_str(), Some("slow_down"));
    assert_eq!(ErrorCode::new("A-z.0_9").as_str(), Some("A-z.0_9"));
    let forty = "x".repeat(40);
    assert_eq!(ErrorCode::new(&forty).as_str(), Some(forty.as_str()));
    for bad in ["", "a b", "é", "a\"b", "a\nb", &"x".repeat(41)] {
        let code = ErrorCode::new(bad);
        assert!(!code.is_printable(), "{bad:?}");
        assert_eq!(code, ErrorCode::UNPRINTABLE);
        assert_eq!(code.as_str(), None);
    }
    extern crate std;
    use std::string::ToString;
    assert_eq!(ErrorCode::new("x").to_string(), "x");
    assert_eq!(ErrorCode::UNPRINTABLE.to_string(), "<unprintable>");

    let raw = |body: &str| match parse(body.as_bytes()) {
        Ok(TokenResponse::Error(e)) => (e.code, e.raw_code.as_str().map(ToString::to_string)),
        other => panic!("{body}: {other:?}"),
    };
    assert_eq!(
        raw(r#"{"error":"invalid_grant"}"#),
        (OAuthError::InvalidGrant, Some("invalid_grant".into()))
    );
    assert_eq!(
        raw(r#"{"error":"vendor.Err-1"}"#),
        (OAuthError::Other, Some("vendor.Err-1".into()))
    );
    // Escaped codes are not kept (no registered code needs escapes).
    assert_eq!(
        raw(r#"{"error":"vendor\u005fx"}"#),
        (OAuthError::Other, None)
    );
    assert_eq!(raw(r#"{"error":"has space"}"#), (OAuthError::Other, None));
}

#[test]
fn machine_reports_the_raw_error_code() {
    let mut m = small();
    m.set_credential(0, "a1", Some("r1"), 3600).unwrap();
    answer(&mut m, 3540, 503, r#"{"error":"vendor_busy"}"#);
    assert_eq!(
        m.last_error(),
        Some(RefreshError::OAuth {
            code: OAuthError::Other,
            status: 503
        })
    );
    assert_eq!(
        m.last_error_code().and_then(|c| c.as_str().map(|_| c)),
        Some(ErrorCode::new("vendor_busy"))
    );
    // A non-OAuth failure clears it.
    let retry = m.poll_timeout().unwrap();
    answer(&mut m, retry, 502, "<html>");
    assert_eq!(m.last_error(), Some(RefreshError::Status { status: 502 }));
    assert_eq!(m.last_error_code(), None);
    // A code that echoes a token is not kept.
    let retry = m.poll_timeout().unwrap();
    answer(&mut m, retry, 503, r#"{"error":"bad_r1"}"#);
    assert_eq!(m.last_error_code(), Some(ErrorCode::UNPRINTABLE));
    // Success clears it.
    let retry = m.poll_timeout().unwrap();
    answer(&mut m, retry, 200, r#"{"access_token":"a2"}"#);
    assert_eq!((m.last_error(), m.last_error_code()), (None, None));
}

#[test]
fn is_due_agrees_with_poll_request() {
    let mut m = small();
    let client = Client::public("c");
    let mut buf = [0u8; 128];
    assert!(!m.is_due(0), "empty");
    m.set_credential(0, "a1", None, 3600).unwrap();
    assert!(!m.is_due(3600), "no refresh token");
    m.set_credential(0, "a1", Some("r1"), 3600).unwrap();
    assert!(!m.is_due(3539));
    assert!(m.is_due(3540));
    assert!(m.poll_request(3540, &client, &mut buf).unwrap().is_some());
    assert!(!m.is_due(3540), "in flight");
    m.handle_transport_error(3541, TransportFailure::NotSent)
        .unwrap();
    let retry = m.poll_timeout().unwrap();
    assert!(retry > 3541);
    assert!(!m.is_due(retry - 1), "backing off");
    assert!(m.is_due(retry));
    answer(&mut m, retry, 400, r#"{"error":"invalid_grant"}"#);
    assert!(!m.is_due(i64::MAX), "terminal");
    // At every second of a fresh credential's life, is_due says what poll_request does.
    let mut m = small();
    m.set_credential(0, "a1", Some("r1"), 100).unwrap();
    for now in 0..200 {
        let due = m.is_due(now);
        let sent = m.poll_request(now, &client, &mut buf).unwrap().is_some();
        assert_eq!(due, sent, "{now}");
        if sent {
            m.handle_response(
                now,
                HttpResponse {
                    status: 200,
                    retry_after: None,
                    body: br#"{"access_token":"a","expires_in":100}"#,
                },
            )
            .unwrap();
        }
    }
}

#[test]
fn refresh_token_only_credential() {
    let mut m = small();
    assert_eq!(
        m.set_refresh_token_only(5, ""),
        Err(CredentialError::InvalidToken)
    );
    assert_eq!(
        m.set_refresh_token_only(5, "a\nb"),
        Err(CredentialError::InvalidToken)
    );
    assert_eq!(
        m.set_refresh_token_only(5, "0123456789abcdefX"),
        Err(CredentialError::RefreshTokenTooLarge {
            len: 17,
            capacity: 16
        })
    );
    assert_eq!(m.status(5), Status::Empty, "unchanged after an error");
    m.set_refresh_token_only(5, "r1").unwrap();
    assert_eq!(m.status(5), Status::Mandatory);
    assert_eq!(
        m.access_token(5),
        Err(NotUsable::RefreshRequired { expires_at: 5 })
    );
    assert_eq!(
        m.access_token(1_000),
        Err(NotUsable::RefreshRequired { expires_at: 5 })
    );
    assert_eq!(m.refresh_token(), Some("r1"));
    assert_eq!(m.poll_timeout(), Some(5));
    assert!(m.is_due(5));
    // No access token, so nothing "expires".
    m.handle_timeout(1_000);
    assert_eq!(m.poll_event(), None);
    let mut buf = [0u8; 128];
    let request = m
        .poll_request(10, &Client::public("c"), &mut buf)
        .unwrap()
        .unwrap();
    assert_eq!(
        request.body,
        "grant_type=refresh_token&refresh_token=r1&client_id=c"
    );
    // A transient failure keeps waiting for the refresh.
    m.handle_transport_error(10, TransportFailure::NotSent)
        .unwrap();
    while m.poll_event().is_some() {}
    assert_eq!(m.status(11), Status::Mandatory);
    assert!(matches!(
        m.access_token(11),
        Err(NotUsable::RefreshRequired { .. })
    ));
    let retry = m.poll_timeout().unwrap();
    answer(
        &mut m,
        retry,
        200,
        r#"{"access_token":"a2","expires_in":3600}"#,
    );
    assert_eq!(m.access_token(retry), Ok("a2"));
    assert_eq!(m.status(retry), Status::Fresh);
    assert_eq!(m.refresh_token(), Some("r1"));
    // A terminal failure: sign in again.
    m.set_refresh_token_only(0, "r1").unwrap();
    answer(&mut m, 0, 400, r#"{"error":"invalid_grant"}"#);
    assert_eq!(m.access_token(0), Err(NotUsable::SignInRequired));
    assert_eq!(m.poll_timeout(), None);
}

#[test]
fn rejection_lifts_the_minimum_interval_once_per_generation() {
    // min_refresh_interval 10 s (default); backoff 5 s; stale backoff 30 s.
    let mut m = small();
    m.set_credential(0, "a1", Some("r1"), 3600).unwrap();
    answer(
        &mut m,
        3540,
        200,
        r#"{"access_token":"a2","expires_in":3600}"#,
    );
    let g2 = m.generation();
    // A refresh on demand waits for the interval...
    m.handle_refresh_requested(3541);
    assert!(!m.is_due(3541));
    assert!(m.is_due(3550));
    // ...a rejection does not.
    m.handle_token_rejected(3541);
    assert!(m.is_due(3541));
    assert_eq!(m.poll_timeout(), Some(3541));
    // Single flight: rejections while the request is out change nothing.
    let mut buf = [0u8; 128];
    assert!(m
        .poll_request(3541, &Client::public("c"), &mut buf)
        .unwrap()
        .is_some());
    m.handle_token_rejected(3541);
    assert!(!m.is_due(3541));
    assert_eq!(
        m.poll_request(3541, &Client::public("c"), &mut buf),
        Ok(None)
    );
    m.handle_response(
        3541,
        HttpResponse {
            status: 200,
            retry_after: None,
            body: br#"{"access_token":"a3","expires_in":3600}"#,
        },
    )
    .unwrap();
    assert_eq!(m.generation(), g2 + 1);
    // That generation came from an early refresh: its rejection waits for the interval, so a
    // resource server that rejects every token cannot make a tight loop.
    m.handle_token_rejected(3542);
    assert!(!m.is_due(3550));
    assert!(m.is_due(3551));
    answer(
        &mut m,
        3551,
        200,
        r#"{"access_token":"a4","expires_in":3600}"#,
    );
    // A normally refreshed generation may lift it again.
    m.handle_token_rejected(3552);
    assert!(m.is_due(3552));
    // Failure backoff still applies.
    answer(&mut m, 3552, 503, "");
    assert!(!m.is_due(3553));
    let retry = m.poll_timeout().unwrap();
    assert!(retry > 3553);
    assert!(m.is_due(retry));
    answer(
        &mut m,
        retry,
        200,
        r#"{"access_token":"a5","expires_in":3600}"#,
    );
    // A rejection right after a stale answer keeps the stale backoff.
    let mut m = small();
    m.set_credential(0, "a1", Some("r1"), 3600).unwrap();
    answer(&mut m, 3540, 200, r#"{"access_token":"a2","expires_in":1}"#);
    m.handle_token_rejected(3541);
    assert!(!m.is_due(3541));
    assert!(m.is_due(3570));
}

#[test]
fn a_success_whose_body_was_lost_is_terminal_and_the_token_is_not_sent_again() {
    let client = Client::public("c");
    let mut buf = [0u8; 128];
    // After a first send that got no answer too: the lost success still ends it.
    for unanswered_first in [false, true] {
        let mut m = small();
        m.set_credential(0, "a1", Some("r1"), 3600).unwrap();
        let mut now = 3540;
        if unanswered_first {
            assert!(m.poll_request(now, &client, &mut buf).unwrap().is_some());
            m.handle_transport_error(now, TransportFailure::NoResponse)
                .unwrap();
            while m.poll_event().is_some() {}
            now = m.poll_timeout().unwrap();
        }
        assert!(m.poll_request(now, &client, &mut buf).unwrap().is_some());
        m.handle_transport_error(now, TransportFailure::UnreadableSuccess)
            .unwrap();
        let lost = RefreshError::BadResponse(ResponseError::Unreadable);
        let mut events = core::iter::from_fn(|| m.poll_event());
        assert!(events.any(|e| e
            == Event::RefreshFailed {
                error: lost,
                terminal: true,
                retry_at: None,
            }));
        assert!(lost.is_terminal());
        assert_eq!(m.last_error(), Some(lost));
        assert!(m.is_terminal());
        // The old access token stays usable until its own end; then sign in again.
        assert_eq!(m.access_token(now), Ok("a1"));
        assert_eq!(m.access_token(3600), Err(NotUsable::SignInRequired));
        for later in [now, now + 1, now + 3600, i64::MAX] {
            assert!(!m.is_due(later), "{later}");
            assert!(m.poll_request(later, &client, &mut buf).unwrap().is_none());
        }
    }
}

#[test]
fn an_access_token_too_large_keeps_the_rotated_refresh_token() {
    let mut m: RefreshMachine<8, 16> = RefreshMachine::new(Config::default().jitter_max(0), 7);
    m.set_credential(0, "a1", Some("r1"), 3600).unwrap();
    let body = r#"{"access_token":"a-new-access-token","refresh_token":"r2"}"#;
    send_and_answer(&mut m, 3540, 200, body);
    assert_eq!(
        m.poll_event(),
        Some(Event::RefreshFailed {
            error: RefreshError::AccessTokenTooLarge {
                len: 18,
                capacity: 8
            },
            terminal: true,
            retry_at: None
        })
    );
    // r1 may be spent: r2 is kept (the old access token too, while it lasts).
    assert_eq!(m.refresh_token(), Some("r2"));
    assert_eq!(m.access_token(3540), Ok("a1"));
    assert!(m.is_terminal());
    // A rotated token that does not fit either leaves r1 (nothing better to keep).
    let mut m: RefreshMachine<8, 4> = RefreshMachine::new(Config::default().jitter_max(0), 7);
    m.set_credential(0, "a1", Some("r1"), 3600).unwrap();
    let body = r#"{"access_token":"a-new-access-token","refresh_token":"r2-too-long"}"#;
    answer(&mut m, 3540, 200, body);
    assert_eq!(m.refresh_token(), Some("r1"));
    assert!(m.is_terminal());
}

/// A wall clock stepped back does not stretch a back-off by the step: the wait set before it
/// lasts what it was meant to (it lasted an hour longer after a step back of an hour).
#[test]
fn a_wall_clock_stepped_back_does_not_stretch_the_backoff() {
    let client = Client::public("c");
    let config = Config::default().jitter_max(0).backoff_initial(10);
    let mut m: RefreshMachine<64, 64> = RefreshMachine::new(config, 7);
    m.set_credential(0, "a1", Some("r1"), 3600).unwrap();
    send_and_answer(&mut m, 3540, 503, "");
    let mut buf = [0u8; 256];
    let retry_at = match m.poll_event() {
        Some(Event::RefreshFailed {
            retry_at: Some(t), ..
        }) => t,
        other => panic!("{other:?}"),
    };
    let wait = retry_at - 3540;
    assert!(wait > 0 && wait < 60, "{wait}");
    // The clock is stepped back an hour, 5 s after the failure. The access token's expiry is
    // absolute (an hour away again), so the caller asks for the refresh it still wants.
    let back = 3540 + 5 - 3600;
    m.handle_timeout(back);
    m.handle_refresh_requested(back);
    assert_eq!(
        m.poll_request(back, &client, &mut buf),
        Ok(None),
        "still waiting"
    );
    // The machine cannot tell when the step came after its last input (3540): the whole wait
    // is counted from the first time it sees (`back`), never more.
    let due = back + wait;
    assert_eq!(m.poll_timeout(), Some(due));
    assert_eq!(m.poll_request(due - 1, &client, &mut buf), Ok(None));
    assert!(m.poll_request(due, &client, &mut buf).unwrap().is_some());
}

/// "A rotated refresh token is never dropped": a 2xx body refused for a member other than
/// `refresh_token` (an `expires_in` that is not bare digits, an `access_token` that is not
/// VSCHAR, a repeated `scope`, a `token_type` other than `Bearer`, no `access_token`) still
/// ends the session, but a valid
/// `refresh_token` in it that fits is kept, as for an access token too large: the server may
/// have spent `r1`.
#[test]
fn a_refused_2xx_body_keeps_its_rotated_refresh_token() {
    for body in [
        r#"{"access_token":"a2","refresh_token":"r2","expires_in":"3600.0"}"#,
        r#"{"access_token":"a2","refresh_token":"r2","expires_in":" 3600"}"#,
        r#"{"access_token":"a\u00e92","refresh_token":"r2","expires_in":3600}"#,
        r#"{"access_token":"a2","refresh_token":"r2","scope":"a","scope":"a"}"#,
        r#"{"access_token":"a2","scope":"a","scope":"a","refresh_token":"r2"}"#,
        r#"{"access_token":"a2","token_type":"DPoP","refresh_token":"r2"}"#,
        r#"{"refresh_token":"r\u0032","token_type":"mac"}"#,
        r#"{"refresh_token":"r2"}"#,
    ] {
        let mut m: RefreshMachine<64, 16> = RefreshMachine::new(Config::default().jitter_max(0), 7);
        m.set_credential(0, "a1", Some("r1"), 3600).unwrap();
        send_and_answer(&mut m, 3540, 200, body);
        let Some(Event::RefreshFailed {
            error: RefreshError::BadResponse(_),
            terminal: true,
            retry_at: None,
        }) = m.poll_event()
        else {
            panic!("{body}: not a terminal bad response: {:?}", m.last_error());
        };
        assert_eq!(m.refresh_token(), Some("r2"), "{body}");
        assert_eq!(m.access_token(3540), Ok("a1"), "{body}");
        assert!(m.is_terminal());
    }
}

/// Only a refresh token the body really carries is kept: not when it is itself the problem
/// (not VSCHAR, repeated, too large), when the body is not a whole valid JSON object, or when
/// it is an error response (the server issued nothing).
#[test]
fn a_refused_2xx_body_keeps_no_doubtful_refresh_token() {
    for body in [
        r#"{"access_token":"a2","refresh_token":"r\u00e92","expires_in":"x"}"#,
        r#"{"access_token":"a2","refresh_token":"","expires_in":"x"}"#,
        r#"{"access_token":"a2","refresh_token":7,"expires_in":"x"}"#,
        r#"{"access_token":"a2","refresh_token":"r2","refresh_token":"r2"}"#,
        r#"{"access_token":"a2","refresh_token":"r2","refresh_\u0074oken":"r3"}"#,
        r#"{"access_token":"a2","refresh_token":"r2-is-far-too-long","expires_in":"x"}"#,
        r#"{"access_token":"a2","refresh_token":"r2","scope":"a","scope":"a",}"#,
        r#"{"access_token":"a2","refresh_token":"r2","scope":"a","scope":"a"} x"#,
        r#"{"access_token":"a2","refresh_token":"r2","expires_in":"x""#,
        r#"{"error":7,"refresh_token":"r2"}"#,
        r#"{"access_token":"a2","refresh_token":null,"expires_in":"x"}"#,
    ] {
        let mut m: RefreshMachine<64, 16> = RefreshMachine::new(Config::default().jitter_max(0), 7);
        m.set_credential(0, "a1", Some("r1"), 3600).unwrap();
        send_and_answer(&mut m, 3540, 200, body);
        assert!(
            matches!(m.last_error(), Some(RefreshError::BadResponse(_))),
            "{body}: {:?}",
            m.last_error()
        );
        assert_eq!(m.refresh_token(), Some("r1"), "{body}");
        assert!(m.is_terminal());
    }
    // Not UTF-8.
    let mut m: RefreshMachine<64, 16> = RefreshMachine::new(Config::default().jitter_max(0), 7);
    m.set_credential(0, "a1", Some("r1"), 3600).unwrap();
    let mut buf = [0u8; 256];
    m.poll_request(3540, &Client::public("c"), &mut buf)
        .unwrap()
        .unwrap();
    m.handle_response(
        3540,
        HttpResponse {
            status: 200,
            retry_after: None,
            body: b"{\"refresh_token\":\"r2\",\"x\":\"\xff\"}",
        },
    )
    .unwrap();
    assert_eq!(
        m.last_error(),
        Some(RefreshError::BadResponse(ResponseError::NotUtf8))
    );
    assert_eq!(m.refresh_token(), Some("r1"));
}

#[test]
fn tokens_shorter_than_twice_the_minimum_interval_are_refreshed_every_interval() {
    // A provider that issues 15 s access tokens helps: each answer moves the expiry. The
    // minimum interval (10 s, default) bounds the rate, so the next refresh is due 10 s after
    // the last one, while the token still lives, and not after the 30 s stale back-off (which
    // left the session with an expired token for most of each cycle).
    let mut m = small();
    m.set_credential(0, "a0", Some("r0"), 15).unwrap();
    let mut now = m.poll_timeout().unwrap();
    assert!(now < 15);
    for _ in 0..6 {
        answer(&mut m, now, 200, r#"{"access_token":"a","expires_in":15}"#);
        assert!(!m.is_due(now + 9));
        assert!(m.is_due(now + 10), "not due 10 s after the last refresh");
        assert_eq!(m.poll_timeout(), Some(now + 10));
        assert_eq!(m.streaks(), (0, 0));
        now += 10;
    }
    // A token that dies no later than the interval's end cannot be kept fresh at that rate:
    // that is still the stale back-off (10 s: it would be refreshed the second it expires).
    answer(&mut m, now, 200, r#"{"access_token":"a","expires_in":10}"#);
    assert!(!m.is_due(now + 10));
    assert_eq!(m.streaks(), (0, 1));
}

// ----- Boundaries and resets the mutation review (eleventh session) found untested -----

/// Tokens exactly as long as the machine's capacities fit (`AT` = 32, `RT` = 16 for `Small`):
/// they are committed, and a rotated refresh token of exactly `RT` bytes is kept beside an
/// access token too large (the old one may be spent).
#[test]
fn tokens_exactly_at_capacity_are_committed_and_kept() {
    let at32 = "a".repeat(32);
    let rt16 = "r".repeat(16);
    // Both exactly at capacity: committed.
    let mut m = small();
    m.set_credential(0, "a1", Some("r1"), 3600).unwrap();
    let body =
        std::format!(r#"{{"access_token":"{at32}","refresh_token":"{rt16}","expires_in":3600}}"#);
    send_and_answer(&mut m, 3540, 200, &body);
    assert!(
        matches!(m.poll_event(), Some(Event::Refreshed { rotated: true, .. })),
        "{:?}",
        m.last_error()
    );
    assert_eq!(m.access_token(3540), Ok(at32.as_str()));
    assert_eq!(m.refresh_token(), Some(rt16.as_str()));
    // Access token one byte too large: terminal, but the rotated refresh token of exactly
    // `RT` bytes replaces the old one.
    let mut m = small();
    m.set_credential(0, "a1", Some("r1"), 3600).unwrap();
    let at33 = "a".repeat(33);
    let body = std::format!(r#"{{"access_token":"{at33}","refresh_token":"{rt16}"}}"#);
    answer(&mut m, 3540, 200, &body);
    assert_eq!(
        m.last_error(),
        Some(RefreshError::AccessTokenTooLarge {
            len: 33,
            capacity: 32
        })
    );
    assert_eq!(m.refresh_token(), Some(rt16.as_str()), "rotated token lost");
}

/// Each credential's expiry is reported once (`Event::Expired`): a refreshed credential that
/// expires in turn is reported too.
#[test]
fn the_expiry_of_a_refreshed_credential_is_reported_too() {
    let mut m = small();
    m.set_credential(0, "a1", Some("r1"), 100).unwrap();
    m.handle_timeout(100);
    assert_eq!(m.poll_event(), Some(Event::Expired { expires_at: 100 }));
    answer(
        &mut m,
        100,
        200,
        r#"{"access_token":"a2","expires_in":3600}"#,
    );
    assert_eq!(m.expires_at(), Some(3700));
    // Nothing due until the new one's advisory window; its expiry is a deadline again.
    assert_eq!(m.poll_timeout(), Some(3640));
    m.handle_timeout(3700);
    let mut expired = 0;
    while let Some(e) = m.poll_event() {
        if e == (Event::Expired { expires_at: 3700 }) {
            expired += 1;
        }
    }
    assert_eq!(expired, 1, "the new credential's expiry was not reported");
}

/// A success ends the failure streak: the next failure backs off from `backoff_initial`
/// again, not from where the earlier streak left off.
#[test]
fn a_success_resets_the_failure_back_off() {
    let config = Config::default().jitter_max(0).backoff_initial(5);
    let mut m: RefreshMachine<32, 16, 8> = RefreshMachine::new(config, 1);
    m.set_credential(0, "a1", Some("r1"), 3600).unwrap();
    answer(&mut m, 3540, 503, ""); // retry at 3545
    answer(&mut m, 3545, 503, ""); // retry at 3555
    answer(
        &mut m,
        3555,
        200,
        r#"{"access_token":"a2","expires_in":3600}"#,
    );
    assert_eq!(m.last_error(), None);
    // Next window: 3555 + 3600 - 60.
    send_and_answer(&mut m, 7095, 503, "");
    assert_eq!(
        m.poll_event(),
        Some(Event::RefreshFailed {
            error: RefreshError::Status { status: 503 },
            terminal: false,
            retry_at: Some(7100),
        })
    );
}

/// A success that extends the expiry ends the stale streak: the next stale answer waits
/// `stale_backoff`, not twice that.
#[test]
fn a_fresh_success_resets_the_stale_back_off() {
    let mut m = small();
    m.set_credential(0, "a1", Some("r1"), 3600).unwrap();
    // Stale: expires before the old expiry. Stale back-off 30 s.
    answer(&mut m, 3540, 200, r#"{"access_token":"a2","expires_in":1}"#);
    assert_eq!(m.next_refresh_at(), Some(3570));
    // Fresh: extends the expiry.
    answer(
        &mut m,
        3570,
        200,
        r#"{"access_token":"a3","expires_in":3600}"#,
    );
    assert_eq!(m.next_refresh_at(), Some(3570 + 3600 - 60));
    // Stale again: the streak starts over at 30 s.
    answer(&mut m, 7110, 200, r#"{"access_token":"a4","expires_in":1}"#);
    assert_eq!(m.next_refresh_at(), Some(7140));
}

/// A new credential starts with no unanswered send: a request that got no response is resent
/// once, whatever happened to the previous credential's requests.
#[test]
fn a_new_credential_gets_its_own_resend() {
    let mut m = small();
    let mut buf = [0u8; 256];
    let client = Client::public("c");
    m.set_credential(0, "a1", Some("r1"), 3600).unwrap();
    assert!(m.poll_request(3540, &client, &mut buf).unwrap().is_some());
    m.handle_transport_error(3540, TransportFailure::NoResponse)
        .unwrap();
    // The user signs in again before the resend.
    m.set_credential(3541, "b1", Some("s1"), 3541 + 3600)
        .unwrap();
    assert!(m.poll_request(7081, &client, &mut buf).unwrap().is_some());
    m.handle_transport_error(7081, TransportFailure::NoResponse)
        .unwrap();
    assert_eq!(m.last_error(), Some(RefreshError::NoResponse));
    assert!(!m.is_terminal(), "the first send of s1 is resent once");
}

/// "Never larger than the advisory margin" (`Config::mandatory_margin`): a mandatory margin
/// configured larger is lowered to the advisory one, so the token is never withheld before a
/// refresh may start.
#[test]
fn the_mandatory_margin_never_exceeds_the_advisory_margin() {
    let config = Config::default().jitter_max(0).mandatory_margin(120);
    let mut m: RefreshMachine<32, 16, 8> = RefreshMachine::new(config, 1);
    m.set_credential(0, "a1", Some("r1"), 3600).unwrap();
    assert_eq!(m.access_token(3539), Ok("a1"));
    assert_eq!(m.status(3539), Status::Fresh);
    assert!(!m.is_due(3539));
    assert_eq!(m.status(3540), Status::Mandatory);
    assert!(m.is_due(3540));
}

/// A forced refresh (`handle_refresh_requested`, `handle_token_rejected`) is a wait like the
/// others when the wall clock steps back: what was left of it (nothing) is left from `now`.
#[test]
fn a_forced_refresh_survives_a_wall_clock_stepped_back() {
    let client = Client::public("c");
    let mut m = small();
    m.set_credential(0, "a1", Some("r1"), 100_000).unwrap();
    m.handle_refresh_requested(5000);
    assert!(m.is_due(5000));
    // The clock is stepped back an hour before the adapter gets to send.
    let back = 5000 - 3600;
    let mut buf = [0u8; 256];
    assert!(
        m.poll_request(back, &client, &mut buf).unwrap().is_some(),
        "the forced refresh was pushed an hour away"
    );
}

/// A refresh the caller asked for makes the status `Advisory` (usable, a refresh should
/// start), not `Fresh`.
#[test]
fn a_requested_refresh_makes_the_status_advisory() {
    let mut m = small();
    m.set_credential(0, "a1", Some("r1"), 3600).unwrap();
    assert_eq!(m.status(100), Status::Fresh);
    m.handle_refresh_requested(100);
    assert_eq!(m.status(100), Status::Advisory);
    assert_eq!(m.access_token(100), Ok("a1"));
}

/// `poll_timeout` is the next time `poll_request` or `handle_timeout` has something to do:
/// while a request is in flight only the expiry, not the (past) refresh time, or an adapter
/// that sleeps until it wakes up in a loop.
#[test]
fn poll_timeout_while_in_flight_is_the_expiry_only() {
    let mut m = small();
    m.set_credential(0, "a1", Some("r1"), 3600).unwrap();
    let mut buf = [0u8; 256];
    assert!(m
        .poll_request(3540, &Client::public("c"), &mut buf)
        .unwrap()
        .is_some());
    assert_eq!(m.poll_timeout(), Some(3600));
}

/// `last_error_code` goes with an OAuth `last_error` only: a later transport failure does not
/// leave the earlier code behind.
#[test]
fn no_response_clears_the_last_error_code() {
    let mut m = small();
    let client = Client::public("c");
    m.set_credential(0, "a1", Some("r1"), 3600).unwrap();
    answer(&mut m, 3540, 503, r#"{"error":"temporarily_unavailable"}"#);
    assert_eq!(
        m.last_error_code().and_then(|c| c.as_str().map(str::len)),
        Some("temporarily_unavailable".len())
    );
    let retry = m.next_refresh_at().unwrap();
    let mut buf = [0u8; 256];
    assert!(m.poll_request(retry, &client, &mut buf).unwrap().is_some());
    m.handle_transport_error(retry, TransportFailure::NoResponse)
        .unwrap();
    assert_eq!(m.last_error(), Some(RefreshError::NoResponse));
    assert_eq!(m.last_error_code(), None);
}

/// A refresh-token-only credential has no access token: its empty string is not a token the
/// server could echo, so the error code stays readable.
#[test]
fn error_code_of_a_refresh_token_only_credential_is_kept() {
    let mut m = small();
    m.set_refresh_token_only(0, "r1").unwrap();
    answer(&mut m, 0, 400, r#"{"error":"invalid_grant"}"#);
    assert_eq!(
        m.last_error(),
        Some(RefreshError::OAuth {
            code: OAuthError::InvalidGrant,
            status: 400
        })
    );
    assert_eq!(
        m.last_error_code()
            .and_then(|c| c.as_str().map(|s| s == "invalid_grant")),
        Some(true)
    );
}

/// RFC 6749 §5.1: tokens come with a 2xx (200). A 300 is not a success, whatever its body.
#[test]
fn tokens_in_a_300_are_not_committed() {
    let mut m = small();
    m.set_credential(0, "a1", Some("r1"), 3600).unwrap();
    answer(
        &mut m,
        3540,
        300,
        r#"{"access_token":"a2","expires_in":3600}"#,
    );
    assert_eq!(m.last_error(), Some(RefreshError::Status { status: 300 }));
    assert_eq!(m.access_token(3540), Ok("a1"));
}
