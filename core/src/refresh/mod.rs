//! Refresh-token rotation (RFC 6749 §6) as a sans-IO state machine.
//!
//! Auth.js leaves rotation to user code in the `jwt` callback, where parallel refreshes burn
//! single-use refresh tokens, rotated tokens get lost and a failed refresh is retried on every
//! request (AUTHJS.md §7, §9). Here rotation is one [`RefreshMachine`] per credential, driven the
//! same way by firmware and servers:
//!
//! - [`config`]: when to refresh (advisory and mandatory windows, jitter, backoff).
//! - [`request`]: the form-encoded request and client authentication.
//! - [`response`]: strict parsing of the token endpoint's JSON answer.
//! - [`machine`]: the state machine (`handle_*` inputs, `poll_*` outputs).
//!
//! With the `embedded-io` feature, `crate::http` sends the request and reads the response over
//! any `embedded_io::Read + Write` transport.
//!
//! # Deliberate differences from the Auth.js guide (AUTHJS.md §7)
//!
//! - Refresh starts *before* expiry (advisory window, default 60 s) instead of at
//!   `now >= expires_at`, and a token inside the mandatory window (default 10 s) is not handed
//!   out, so a token never expires in transit.
//! - Single flight: one request per credential at a time (Auth.js issues #2071, #6851, #11240).
//! - A failed refresh sets `error = "RefreshTokenError"` ([`REFRESH_TOKEN_ERROR`]) and a later
//!   success clears it (issue #7025); transient failures back off instead of retrying on every
//!   read, terminal ones stop.
//! - `refresh_token` absent from the response keeps the old one (as the guide does); a response
//!   that cannot be stored keeps the old state and is reported, never half-applied, except
//!   that a valid rotated refresh token in it that fits replaces the old one (which the
//!   server may have spent).
//! - Client authentication defaults to nothing: the caller picks `client_secret_basic`
//!   (RFC 6749's default) or `client_secret_post` (what the guide sends).
//!
//! # Example
//!
//! ```
//! use authcore::refresh::{Client, Config, Event, HttpResponse, RefreshMachine, Status};
//!
//! let mut m: RefreshMachine<256, 64> = RefreshMachine::new(Config::default().jitter_max(0), 7);
//! let now = 1_000_000;
//! m.set_credential(now, "a1", Some("r1"), now + 3600).unwrap();
//! assert_eq!(m.status(now), Status::Fresh);
//!
//! let later = now + 3600 - 30; // inside the advisory window
//! let client = Client::secret_post("app", "s3cret");
//! let mut buf = [0u8; 256];
//! let request = m.poll_request(later, &client, &mut buf).unwrap().unwrap();
//! assert_eq!(
//!     request.body,
//!     "grant_type=refresh_token&refresh_token=r1&client_id=app&client_secret=s3cret"
//! );
//! // ... POST it, then hand back the answer:
//! let body = br#"{"access_token":"a2","token_type":"Bearer","expires_in":3600}"#;
//! let response = HttpResponse { status: 200, retry_after: None, body };
//! m.handle_response(later, response).unwrap();
//! assert!(matches!(m.poll_event(), Some(Event::Refreshed { rotated: false, .. })));
//! assert_eq!(m.access_token(later), Ok("a2"));
//! assert_eq!(m.refresh_token(), Some("r1")); // kept: the server sent none
//! ```

pub mod config;
pub mod machine;
pub mod request;
pub mod response;

#[cfg(test)]
mod tests;

pub use config::Config;
pub use machine::{
    CredentialError, Event, HandleError, HttpResponse, NotUsable, RefreshError, RefreshMachine,
    Status, TransportFailure, REFRESH_TOKEN_ERROR,
};
pub use request::{Client, ClientAuth, Request, RequestError};
pub use response::{ErrorCode, OAuthError, ResponseError};
