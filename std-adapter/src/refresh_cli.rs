//! `authcore refresh`: one refresh-token grant, printed as JSON.
//!
//! ```text
//! authcore refresh --token-endpoint URL --client-id ID
//!     (--client-secret-env VAR | --client-secret-file PATH)   (unless --auth none)
//!     (--refresh-token-env VAR | --refresh-token-file PATH | --refresh-token-stdin)
//!     [--auth basic|post|none] [--scope S] [--max-retries N] [--timeout SECS]
//! ```
//!
//! Prints `{"access_token","refresh_token","expires_at","token_type","scope"}` (the refresh
//! token is the new one, or the old one when none was issued; `expires_at` in Unix seconds).
//! Failures exit 1 with `error: <kind>: <message>`: `kind` is the OAuth error code for errors
//! the server reported (`invalid_grant`, `invalid_client`...), `unavailable` once transient
//! failures have used up the retries (or the server never answered), and the adapter's kind
//! otherwise (`bad_response` for an unusable success response). Usage errors exit 2.

use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use authcore::refresh::RefreshError;
use clap::{Args, ValueEnum};

use crate::cli::{CliError, Environment};
use crate::http::{Endpoint, HttpsTransport, Timeouts};
use crate::refresh::{ClientCredentials, Error, Refresher, RetryPolicy};
use crate::secret::Secret;
use crate::store::MemoryStore;

/// Client authentication methods accepted on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum AuthArg {
    /// `client_secret_basic`.
    #[default]
    Basic,
    /// `client_secret_post`.
    Post,
    /// Public client: no secret.
    None,
}

/// `authcore refresh`.
#[derive(Debug, Args)]
pub struct RefreshArgs {
    /// Token endpoint URL (`https://`, or `http://` to a loopback address).
    #[arg(long = "token-endpoint", value_name = "URL")]
    pub token_endpoint: String,
    /// OAuth client id.
    #[arg(long = "client-id", value_name = "ID")]
    pub client_id: String,
    /// Read the client secret from this environment variable.
    #[arg(long = "client-secret-env", value_name = "VAR")]
    pub client_secret_env: Option<OsString>,
    /// Read the client secret from this file (one trailing newline is removed).
    #[arg(long = "client-secret-file", value_name = "PATH")]
    pub client_secret_file: Option<PathBuf>,
    /// Read the refresh token from this environment variable.
    #[arg(long = "refresh-token-env", value_name = "VAR")]
    pub refresh_token_env: Option<OsString>,
    /// Read the refresh token from this file (one trailing newline is removed).
    #[arg(long = "refresh-token-file", value_name = "PATH")]
    pub refresh_token_file: Option<PathBuf>,
    /// Read the refresh token from standard input (one trailing newline is removed).
    #[arg(long = "refresh-token-stdin")]
    pub refresh_token_stdin: bool,
    /// Client authentication method.
    #[arg(long, value_enum, default_value_t = AuthArg::Basic)]
    pub auth: AuthArg,
    /// `scope` to request.
    #[arg(long)]
    pub scope: Option<String>,
    /// Retries after transient failures.
    #[arg(long = "max-retries", default_value_t = 3)]
    pub max_retries: u32,
    /// Total timeout of one request, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    pub timeout: u64,
}

impl RefreshArgs {
    /// Whether the command reads standard input.
    #[must_use]
    pub const fn needs_stdin(&self) -> bool {
        self.refresh_token_stdin
    }
}

/// Runs `authcore refresh`, returning the JSON to print.
///
/// # Errors
///
/// [`CliError::Usage`] for bad arguments, [`CliError::Failed`] when the refresh failed.
pub fn run(args: &RefreshArgs, stdin: &str, env: &dyn Environment) -> Result<String, CliError> {
    let endpoint = Endpoint::parse(&args.token_endpoint)
        .map_err(|e| CliError::Usage(format!("--token-endpoint: {e}")))?;
    let refresh_token = one_source(
        "refresh token",
        "--refresh-token-env, --refresh-token-file or --refresh-token-stdin",
        args.refresh_token_env.as_ref(),
        args.refresh_token_file.as_ref(),
        args.refresh_token_stdin.then_some(stdin),
        env,
    )?;
    let client = match args.auth {
        AuthArg::None => {
            if args.client_secret_env.is_some() || args.client_secret_file.is_some() {
                return Err(CliError::Usage("--auth none takes no client secret".into()));
            }
            ClientCredentials::public(&args.client_id)
        }
        method => {
            let secret = one_source(
                "client secret",
                "--client-secret-env or --client-secret-file",
                args.client_secret_env.as_ref(),
                args.client_secret_file.as_ref(),
                None,
                env,
            )?;
            if method == AuthArg::Post {
                ClientCredentials::post(&args.client_id, secret)
            } else {
                ClientCredentials::basic(&args.client_id, secret)
            }
        }
    };
    let client = match &args.scope {
        Some(s) => client.with_scope(s),
        None => client,
    };
    let total = Duration::from_secs(args.timeout.max(1));
    let timeouts = Timeouts::new(total.min(Timeouts::DEFAULT.connect), total, total);
    let refresher = Refresher::builder(endpoint, client)
        .store(Arc::new(MemoryStore::new()))
        .transport(Arc::new(HttpsTransport::new(timeouts)))
        .retry_policy(RetryPolicy::DEFAULT.max_retries(args.max_retries))
        .build();
    refresher
        .set_refresh_token(&refresh_token)
        .map_err(|e| CliError::Usage(format!("refresh token: {e}")))?;
    let token = refresher.refresh().map_err(failed)?;
    let set = token.token_set();
    let out = serde_json::json!({
        "access_token": set.access_token.expose(),
        "refresh_token": set.refresh_token.as_ref().map(Secret::expose),
        "expires_at": set.expires_at,
        "token_type": set.token_type,
        "scope": set.scope,
    });
    Ok(out.to_string())
}

/// Maps a refresh error to the tool's `error: <kind>: <message>` line.
#[must_use]
pub fn failed(e: Error) -> CliError {
    let kind: &'static str = match &e {
        Error::Refresh {
            error: RefreshError::OAuth { code, .. },
            code: raw,
        } => match raw {
            // An unregistered code: print it as the kind (the tool exits right after).
            Some(raw) => Box::leak(raw.clone().into_boxed_str()),
            None => code.as_str(),
        },
        Error::Refresh {
            error: RefreshError::NoResponseAfterRetry,
            ..
        }
        | Error::Unavailable { .. }
        | Error::CircuitOpen { .. } => "unavailable",
        Error::Refresh { error, .. } => error.kind(),
        other => other.kind(),
    };
    CliError::Failed {
        kind,
        message: e.to_string(),
    }
}

fn one_source(
    what: &str,
    flags: &str,
    var: Option<&OsString>,
    file: Option<&PathBuf>,
    stdin: Option<&str>,
    env: &dyn Environment,
) -> Result<Secret, CliError> {
    let given =
        usize::from(var.is_some()) + usize::from(file.is_some()) + usize::from(stdin.is_some());
    if given != 1 {
        return Err(CliError::Usage(format!(
            "give the {what} with exactly one of {flags}"
        )));
    }
    let raw = if let Some(name) = var {
        let value = env.var(name).ok_or_else(|| {
            CliError::Usage(format!(
                "environment variable {} is not set",
                name.to_string_lossy()
            ))
        })?;
        value
            .into_string()
            .map_err(|_| CliError::Usage(format!("the {what} is not valid UTF-8")))?
    } else if let Some(path) = file {
        let bytes = env.read_file(path).map_err(|e| {
            CliError::Usage(format!("cannot read {what} file {}: {e}", path.display()))
        })?;
        let text = String::from_utf8(bytes)
            .map_err(|_| CliError::Usage(format!("the {what} is not valid UTF-8")))?;
        strip_newline(text)
    } else {
        strip_newline(stdin.unwrap_or_default().to_owned())
    };
    if raw.is_empty() {
        return Err(CliError::Usage(format!("the {what} is empty")));
    }
    Ok(Secret::new(raw))
}

fn strip_newline(mut s: String) -> String {
    if s.ends_with('\n') {
        s.pop();
        if s.ends_with('\r') {
            s.pop();
        }
    }
    s
}
