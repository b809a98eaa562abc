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
pub use response::{OAuthError, ResponseError};
