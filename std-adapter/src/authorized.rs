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
    bearer_error(header).is_none_or(|code| code == "invalid_token")
}

/// The `error` parameter of the first `Bearer` challenge that has one (RFC 7235 §4.1: a list of
/// challenges, each a scheme followed by `name=value` parameters whose values are tokens or
/// quoted strings). Quoted strings are skipped whole and unescaped, so an `error=` inside
/// another parameter's quoted value is not taken for the parameter.
fn bearer_error(header: &str) -> Option<String> {
    let bytes = header.as_bytes();
    let is_tchar = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~/".contains(&b);
    let skip = |mut i: usize, set: &[u8]| {
        while bytes.get(i).is_some_and(|b| set.contains(b)) {
            i += 1;
        }
        i
    };
    let mut in_bearer = false;
    let mut i = 0;
    while i < bytes.len() {
        i = skip(i, b" \t,");
        let name_start = i;
        while bytes.get(i).copied().is_some_and(is_tchar) {
            i += 1;
        }
        if i == name_start {
            // Not a token (a stray quote or `=`, or a token68's padding): step over it.
            i += 1;
            continue;
        }
        let name = &header[name_start..i];
        let after = skip(i, b" \t");
        if bytes.get(after) != Some(&b'=') {
            // A token not followed by `=` starts a new challenge.
            in_bearer = name.eq_ignore_ascii_case("bearer");
            continue;
        }
        i = skip(after + 1, b" \t");
        let mut value = String::new();
        if bytes.get(i) == Some(&b'"') {
            i += 1;
            while let Some(&b) = bytes.get(i) {
                i += 1;
                match b {
                    b'"' => break,
                    b'\\' => {
                        if let Some(&escaped) = bytes.get(i) {
                            value.push(char::from(escaped));
                            i += 1;
                        }
                    }
                    _ => value.push(char::from(b)),
                }
            }
        } else {
            let value_start = i;
            while bytes.get(i).copied().is_some_and(is_tchar) {
                i += 1;
            }
            value.push_str(&header[value_start..i]);
        }
        if in_bearer && name.eq_ignore_ascii_case("error") {
            return Some(value);
        }
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
            bearer_error(r#"Bearer realm="x", error_description="a", error="invalid_token""#)
                .as_deref(),
            Some("invalid_token")
        );
    }

    #[test]
    fn the_error_parameter_is_found_by_its_name_not_inside_quoted_values() {
        for (header, error) in [
            (
                r#"Bearer realm="api, error=insufficient_scope", error="invalid_token""#,
                Some("invalid_token"),
            ),
            (
                r#"Bearer error_description="bad error=x", error="invalid_token""#,
                Some("invalid_token"),
            ),
            (
                r#"Bearer realm="a \"quoted\" error=x", error=invalid_request"#,
                Some("invalid_request"),
            ),
            // Another scheme's `error` is not the Bearer challenge's.
            (
                r#"Basic realm="x", error="invalid_request", Bearer realm="y""#,
                None,
            ),
            (
                r#"Basic realm="x", Bearer realm="y", error="invalid_token""#,
                Some("invalid_token"),
            ),
            (
                r#"Negotiate abc==, Bearer ERROR = "invalid_token""#,
                Some("invalid_token"),
            ),
            (r#"Bearer error="invalid_tok"#, Some("invalid_tok")),
            (r#"Bearer realm="unterminated error=x"#, None),
            ("Bearer", None),
            ("", None),
            ("=,\"", None),
        ] {
            assert_eq!(bearer_error(header).as_deref(), error, "{header}");
        }
        assert!(token_rejected(
            401,
            Some(r#"Bearer realm="api, error=insufficient_scope", error="invalid_token""#)
        ));
        assert!(!token_rejected(
            401,
            Some(r#"Bearer realm="error=invalid_token", error="insufficient_scope""#)
        ));
    }
}
