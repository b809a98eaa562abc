#![no_main]
//! Token endpoint responses from arbitrary bytes: the JSON parser, the refresh machine and the
//! HTTP response reader must never panic, and what the parser accepts must be self-consistent;
//! the reader reports a lost body as such only after a success status.

use authcore::http::embedded_io::{ErrorKind, ErrorType, Read, Write};
use authcore::http::{self, Target};
use authcore::refresh::response::{self, TokenResponse};
use authcore::refresh::{
    Client, Config, HttpResponse, RefreshError, RefreshMachine, Request, TransportFailure,
};
use libfuzzer_sys::fuzz_target;

/// Replays the input in reads whose sizes come from the input itself.
struct Replay<'a> {
    data: &'a [u8],
    step: usize,
}

impl ErrorType for Replay<'_> {
    type Error = ErrorKind;
}

impl Read for Replay<'_> {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, ErrorKind> {
        let n = self.step.min(buf.len()).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

impl Write for Replay<'_> {
    fn write(&mut self, buf: &[u8]) -> Result<usize, ErrorKind> {
        Ok(buf.len())
    }

    fn flush(&mut self) -> Result<(), ErrorKind> {
        Ok(())
    }
}

fn check_str(s: response::JsonStr<'_>) {
    let len: usize = s.chars().map(char::len_utf8).sum();
    assert_eq!(len, s.unescaped_len());
    let mut out: heapless::String<4096> = heapless::String::new();
    if s.write_to(&mut out).is_ok() {
        assert_eq!(out.len(), len);
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };

    // 1. The parser alone.
    match response::parse(body) {
        Ok(TokenResponse::Tokens(t)) => {
            assert!(t.access_token.is_vschar());
            check_str(t.access_token);
            if let Some(rt) = t.refresh_token {
                assert!(rt.is_vschar());
                check_str(rt);
            }
            if let Some(scope) = t.scope {
                check_str(scope);
            }
        }
        Ok(TokenResponse::Error(e)) => {
            if let Some(d) = e.description {
                check_str(d);
            }
        }
        Err(e) => {
            let _ = e.kind();
        }
    }

    // 2. The machine: never loses the old state on a bad answer, except that an answer whose
    // access token does not fit leaves the rotated refresh token it carried (the old one may
    // be spent).
    let mut m: RefreshMachine<64, 32> = RefreshMachine::new(Config::default(), u32::from(selector));
    m.set_credential(0, "a1", Some("r1"), 100).unwrap();
    let mut buf = [0u8; 256];
    let client = Client::secret_basic("id", "secret");
    if m.poll_request(95, &client, &mut buf).unwrap().is_some() {
        let status = [200, 400, 401, 403, 429, 500, 503, 302][usize::from(selector & 7)];
        let retry_after = (selector & 8 != 0).then_some(u32::from(selector));
        m.handle_response(
            95,
            HttpResponse {
                status,
                retry_after,
                body,
            },
        )
        .unwrap();
        match m.last_error() {
            Some(RefreshError::AccessTokenTooLarge { .. }) => {
                let rotated = match response::parse(body) {
                    Ok(TokenResponse::Tokens(t)) => t
                        .refresh_token
                        .filter(|rt| rt.unescaped_len() <= 32)
                        .map(|rt| rt.chars().collect::<heapless::String<32>>()),
                    _ => None,
                };
                assert_eq!(m.refresh_token(), Some(rotated.as_deref().unwrap_or("r1")));
                assert_eq!(m.expires_at(), Some(100));
            }
            Some(_) => {
                assert_eq!(m.refresh_token(), Some("r1"));
                assert_eq!(m.expires_at(), Some(100));
            }
            None => assert!(m.access_token(95).is_ok()),
        }
        while m.poll_event().is_some() {}
    }

    // 3. The HTTP reader, with the body taken as a raw response.
    let mut transport = Replay {
        data: body,
        step: usize::from(selector >> 4) + 1,
    };
    let request = Request {
        body: "grant_type=refresh_token&refresh_token=r1",
        authorization: None,
    };
    let target = Target {
        host: "localhost",
        path: "/token",
    };
    let mut response_buf = [0u8; 1024];
    match http::exchange(
        &mut transport,
        &target,
        &request,
        &mut response_buf,
        &mut || false,
    ) {
        Ok(response) => assert!(response.body.len() <= body.len()),
        // The writes all succeed here, so the request left: only a lost success body keeps
        // the machine from sending again.
        Err(e) => {
            let _ = e.to_string();
            let failure = e.transport_failure();
            if let http::ExchangeError::SuccessUnreadable { status, cause } = e {
                assert!((200..300).contains(&status), "{status}");
                assert_eq!(failure, TransportFailure::UnreadableSuccess);
                assert!(!cause.is_empty() && cause != e.kind(), "{cause}");
            } else {
                assert_eq!(failure, TransportFailure::NoResponse);
            }
        }
    }
});
