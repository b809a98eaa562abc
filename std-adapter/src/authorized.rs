//! Calling APIs with the current access token: refresh after a 401, then retry once.
//!
//! [`Authorized`] wraps a [`Refresher`]. Each call gets a usable access token, lets the caller
//! send the request with it (any HTTP client, blocking or async), and looks at the answer. When
//! the API rejects the token (`401` with `WWW-Authenticate: Bearer error="invalid_token"`, or a
//! plain `401`), it reports the rejection for that token's *generation*: however many requests
//! got a 401 with the same token, one refresh happens (single flight), and each request is sent
//! once more with the new token. A second 401 is returned to the caller as it is.

use std::fmt;
use std::future::Future;

use crate::refresh::{AccessToken, Error, Refresher};

/// What [`Authorized`] needs to know about an API response.
pub trait ApiResponse {
    /// The status code.
    fn status(&self) -> u16;
    /// The `WWW-Authenticate` header, if present and text.
    fn www_authenticate(&self) -> Option<&str>;
}

/// The two facts [`ApiResponse`] asks for, for clients whose response type is foreign.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiStatus<T> {
    /// The status code.
    pub status: u16,
    /// The `WWW-Authenticate` header.
    pub www_authenticate: Option<String>,
    /// The response itself.
    pub response: T,
}

impl<T> ApiResponse for ApiStatus<T> {
    fn status(&self) -> u16 {
        self.status
    }

    fn www_authenticate(&self) -> Option<&str> {
        self.www_authenticate.as_deref()
    }
}

/// Whether a response says the access token was rejected: `401` without a Bearer `error`, or
/// with `error="invalid_token"` (RFC 6750 §3.1). A 401 with another error code
/// (`invalid_request`) is not fixed by a new token and is not retried.
#[must_use]
pub fn token_rejected(status: u16, www_authenticate: Option<&str>) -> bool {
    if status != 401 {
        return false;
    }
    let Some(header) = www_authenticate else {
        return true;
    };
    match bearer_error(header) {
        None => true,
        Some(code) => code == "invalid_token",
    }
}

/// The `error` parameter of a `Bearer` challenge, if any.
fn bearer_error(header: &str) -> Option<&str> {
    let lower = header.to_ascii_lowercase();
    let start = lower.find("bearer")?;
    let params = &header[start + "bearer".len()..];
    let lower_params = &lower[start + "bearer".len()..];
    let mut search = 0;
    while let Some(pos) = lower_params[search..].find("error") {
        let at = search + pos;
        let before = lower_params[..at].chars().next_back();
        let rest = params[at + "error".len()..].trim_start();
        if matches!(before, None | Some(' ' | ',' | '\t')) {
            if let Some(value) = rest.strip_prefix('=') {
                let value = value.trim_start();
                let value = match value.strip_prefix('"') {
                    Some(v) => v.split('"').next().unwrap_or(""),
                    None => value.split([',', ' ']).next().unwrap_or(""),
                };
                return Some(value);
            }
        }
        search = at + "error".len();
    }
    None
}

/// Why an authorized call failed.
#[derive(Debug)]
pub enum AuthorizedError<E> {
    /// No usable access token (see [`Error`]).
    Token(Error),
    /// The caller's send function failed.
    Send(E),
}

impl<E: fmt::Display> fmt::Display for AuthorizedError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Token(e) => write!(f, "no access token: {e}"),
            Self::Send(e) => write!(f, "API request failed: {e}"),
        }
    }
}

impl<E: fmt::Debug + fmt::Display> std::error::Error for AuthorizedError<E> {}

/// An API client that attaches the current access token and recovers from one 401.
#[derive(Clone)]
pub struct Authorized {
    refresher: Refresher,
}

impl Authorized {
    /// Wraps `refresher`.
    #[must_use]
    pub const fn new(refresher: Refresher) -> Self {
        Self { refresher }
    }

    /// The refresher.
    #[must_use]
    pub fn refresher(&self) -> &Refresher {
        &self.refresher
    }

    /// Sends a request with `send`, which must attach the token it is given (for instance as
    /// `Authorization: Bearer …`, see [`AccessToken::authorization`]). If the API rejects the
    /// token, refreshes (once per token generation, shared with concurrent callers) and calls
    /// `send` once more with the new token; that second response is returned whatever it is.
    ///
    /// # Errors
    ///
    /// [`AuthorizedError::Token`] when no token can be had; [`AuthorizedError::Send`] when
    /// `send` fails.
    pub fn send<R, E>(
        &self,
        mut send: impl FnMut(&AccessToken) -> Result<R, E>,
    ) -> Result<R, AuthorizedError<E>>
    where
        R: ApiResponse,
    {
        let token = self
            .refresher
            .access_token()
            .map_err(AuthorizedError::Token)?;
        let response = send(&token).map_err(AuthorizedError::Send)?;
        if !token_rejected(response.status(), response.www_authenticate()) {
            return Ok(response);
        }
        match self.refresher.token_rejected(token.generation()) {
            Ok(Some(new)) => send(&new).map_err(AuthorizedError::Send),
            Ok(None) => Ok(response),
            Err(e) => Err(AuthorizedError::Token(e)),
        }
    }

    /// [`send`](Self::send) for async code: `send` returns a future. The runtime is never
    /// blocked (refreshes run on their own thread).
    ///
    /// # Errors
    ///
    /// As [`send`](Self::send).
    pub async fn send_async<R, E, F, Fut>(&self, mut send: F) -> Result<R, AuthorizedError<E>>
    where
        R: ApiResponse,
        F: FnMut(AccessToken) -> Fut,
        Fut: Future<Output = Result<R, E>>,
    {
        let token = self
            .refresher
            .access_token_async()
            .await
            .map_err(AuthorizedError::Token)?;
        let generation = token.generation();
        let response = send(token).await.map_err(AuthorizedError::Send)?;
        if !token_rejected(response.status(), response.www_authenticate()) {
            return Ok(response);
        }
        match self.refresher.token_rejected_async(generation).await {
            Ok(Some(new)) => send(new).await.map_err(AuthorizedError::Send),
            Ok(None) => Ok(response),
            Err(e) => Err(AuthorizedError::Token(e)),
        }
    }
}

impl fmt::Debug for Authorized {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authorized")
            .field("refresher", &self.refresher)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejection_rules() {
        assert!(token_rejected(401, None));
        assert!(token_rejected(401, Some(r#"Bearer error="invalid_token""#)));
        assert!(token_rejected(
            401,
            Some(r#"Bearer realm="api", error="invalid_token", error_description="expired""#)
        ));
        assert!(token_rejected(401, Some(r#"Bearer realm="api""#)));
        assert!(token_rejected(401, Some("Bearer error=invalid_token")));
        assert!(!token_rejected(
            401,
            Some(r#"Bearer error="invalid_request""#)
        ));
        assert!(!token_rejected(
            403,
            Some(r#"Bearer error="insufficient_scope""#)
        ));
        assert!(!token_rejected(200, None));
        assert_eq!(
            bearer_error(r#"Bearer realm="x", error_description="a", error="invalid_token""#),
            Some("invalid_token")
        );
    }
}
