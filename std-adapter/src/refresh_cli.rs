//! `authcore refresh`: one refresh-token grant, printed as JSON.
//!
//! ```text
//! authcore refresh --token-endpoint URL --client-id ID
//!     (--client-secret-env VAR | --client-secret-file PATH)   (unless --auth none)
//!     (--refresh-token-env VAR | --refresh-token-file PATH | --refresh-token-stdin)
//!     [--auth basic|post|none] [--scope S] [--max-retries N] [--timeout SECS] [--out FILE]
//! ```
//!
//! Prints `{"access_token","refresh_token","expires_at","token_type","scope"}` (the refresh
//! token is the new one, or the old one when none was issued; `expires_at` in Unix seconds).
//!
//! Most servers spend the old refresh token on use, so the printed set is the only copy of the
//! new one. With `--out FILE` the set goes to `FILE` instead of standard output (nothing is
//! printed): a temporary file is created next to `FILE` (mode `0600` on Unix) *before* the
//! server is asked, so an unwritable place (or a `FILE` ending in a path separator, which can
//! only name a directory) fails early with a usage error; after the grant the set is written
//! to it, `fsync`ed and renamed over `FILE` (then the directory is `fsync`ed), so `FILE` holds
//! either its old content or the whole new set. If the set cannot be written (to `FILE` or to
//! standard output) the tool exits 1 with `error: io: ...` saying the old refresh token may no
//! longer work (if only the rename failed, the line names the complete temporary file
//! instead, which is then kept); the tokens are never written to standard error. A run killed
//! mid-way may leave a `.FILE.tmp-<random>` file behind; it never blocks a later run.
//!
//! Failures exit 1 with `error: <kind>: <message>`: `kind` is the OAuth error code for errors
//! the server reported with a code RFC 6749 §5.2 registers (`invalid_request`,
//! `invalid_client`, `invalid_grant`, `unauthorized_client`, `unsupported_grant_type`,
//! `invalid_scope`), [`OAUTH_ERROR`] for any other code (the code is in the message, so a
//! server cannot make its answer pass for one of the tool's own kinds), `unavailable` once
//! transient failures have used up the retries (or the server never answered), and the
//! adapter's kind otherwise (`bad_response` for an unusable success response). Usage errors
//! exit 2.
//!
//! A refused 2xx answer (a `token_type` other than `Bearer`, an unusable `expires_in`, an
//! access token too large...) may still carry a rotated refresh token while the server has
//! spent the old one. The refresher keeps it ([`Refresher::refresh_token`]) but has no set to
//! store it with, so the tool writes
//! `{"access_token":null,"refresh_token":"<new>","expires_at":null,"token_type":null,"scope":null}`
//! where a set would go (standard output, or `FILE` through the same temporary file and
//! rename) and still exits 1; the error line adds that the server rotated the refresh token
//! and where the new one was written (a failure to write it is `error: io: ...` as above).

use std::ffi::OsString;
use std::fs::File;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use authcore::refresh::{OAuthError, RefreshError};
use clap::{Args, ValueEnum};

use crate::cli::{CliError, Environment};
use crate::http::{Endpoint, HttpsTransport, Timeouts};
use crate::refresh::{ClientCredentials, Error, Refresher, RetryPolicy};
use crate::secret::Secret;
use crate::store::{create_private_temp, sync_dir_io, MemoryStore};

/// The kind of a failure the server reported with an OAuth `error` code that RFC 6749 §5.2 does
/// not register (an extension such as `invalid_target`, or anything else): the code itself is
/// in the message (`token endpoint returned error <code> (status <status>)`) when it is plain
/// (`[a-z0-9_]`, at most 40 bytes, no known secret), `other` otherwise.
pub const OAUTH_ERROR: &str = "oauth_error";

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

/// `authcore refresh`. `Debug` shows the token endpoint as [`Endpoint`] does (no user
/// information, no query).
#[derive(Args)]
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
    /// Write the new token set to this file (atomically, mode 0600 on Unix) instead of
    /// standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

impl std::fmt::Debug for RefreshArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // A URL that does not parse is not shown at all: it may carry `user:pass@`.
        let endpoint = Endpoint::parse(&self.token_endpoint)
            .map_or_else(|_| "<invalid URL>".to_owned(), |e| format!("{e:?}"));
        f.debug_struct("RefreshArgs")
            .field("token_endpoint", &endpoint)
            .field("client_id", &self.client_id)
            .field("client_secret_env", &self.client_secret_env)
            .field("client_secret_file", &self.client_secret_file)
            .field("refresh_token_env", &self.refresh_token_env)
            .field("refresh_token_file", &self.refresh_token_file)
            .field("refresh_token_stdin", &self.refresh_token_stdin)
            .field("auth", &self.auth)
            .field("scope", &self.scope)
            .field("max_retries", &self.max_retries)
            .field("timeout", &self.timeout)
            .field("out", &self.out)
            .finish()
    }
}

impl RefreshArgs {
    /// Whether the command reads standard input.
    #[must_use]
    pub const fn needs_stdin(&self) -> bool {
        self.refresh_token_stdin
    }
}

/// Runs `authcore refresh`, returning the JSON to print, or an empty string with `--out`
/// (the JSON is then in the file).
///
/// # Errors
///
/// [`CliError::Usage`] for bad arguments (and an `--out` file that cannot be created),
/// [`CliError::Failed`] when the refresh failed or its result could not be written to `--out`
/// (kind `io`), [`CliError::FailedWithOutput`] when the refresh failed after the server
/// rotated the refresh token and the new one is to be printed (no `--out`).
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
    // Dropped (removing its temporary file) on every early return below.
    let pending = args.out.as_deref().map(PendingOut::create).transpose()?;
    let token = match refresher.refresh() {
        Ok(token) => token,
        Err(e) => return Err(failed_refresh(e, &refresher, &refresh_token, pending)),
    };
    let set = token.token_set();
    let out = serde_json::json!({
        "access_token": set.access_token.expose(),
        "refresh_token": set.refresh_token.as_ref().map(Secret::expose),
        "expires_at": set.expires_at,
        "token_type": set.token_type,
        "scope": set.scope,
    });
    match pending {
        Some(pending) => {
            pending.commit(format!("{out}\n").as_bytes(), "the new token set")?;
            Ok(String::new())
        }
        None => Ok(out.to_string()),
    }
}

/// The error for a failed refresh. When the refresher kept a rotated refresh token from a
/// refused answer (the server may have spent `given`), that token is also written where a set
/// would have gone, as `{"access_token":null,"refresh_token":"...",...}`: to the `--out` file
/// now, or to standard output by the caller ([`CliError::FailedWithOutput`]); the message says
/// where (never the token itself).
fn failed_refresh(
    e: Error,
    refresher: &Refresher,
    given: &Secret,
    pending: Option<PendingOut>,
) -> CliError {
    let failure = failed(e);
    let kept = refresher.refresh_token().filter(|rt| rt != given);
    let (Some(kept), CliError::Failed { kind, message }) = (kept, &failure) else {
        // Nothing to write: `pending` is dropped, removing its temporary file.
        return failure;
    };
    let kind = *kind;
    let out = serde_json::json!({
        "access_token": null,
        "refresh_token": kept.expose(),
        "expires_at": null,
        "token_type": null,
        "scope": null,
    });
    let rotated = "the server rotated the refresh token in that answer";
    let spent = "the old one may no longer work";
    let Some(pending) = pending else {
        return CliError::FailedWithOutput {
            kind,
            message: format!("{message}; {rotated}: the new one is on standard output ({spent})"),
            output: Secret::new(out.to_string()),
        };
    };
    let target = pending.target.display().to_string();
    match pending.commit(format!("{out}\n").as_bytes(), "the rotated refresh token") {
        Ok(()) => CliError::Failed {
            kind,
            message: format!("{message}; {rotated}: the new one was written to {target} ({spent})"),
        },
        Err(CliError::Failed {
            kind: io,
            message: why,
        }) => CliError::Failed {
            kind: io,
            message: format!("{why} (the refresh failed: {kind}: {message})"),
        },
        Err(other) => other,
    }
}

/// The `--out` file being written: a temporary file next to the target, removed on drop unless
/// it was completely written (and then renamed over the target, or left for the user to
/// rescue when the rename failed).
struct PendingOut {
    target: PathBuf,
    dir: PathBuf,
    temp: PathBuf,
    file: Option<File>,
}

impl PendingOut {
    /// Creates the temporary file (new, mode `0600` on Unix) next to `target`.
    fn create(target: &Path) -> Result<Self, CliError> {
        let usage = |why: String| CliError::Usage(format!("--out {}: {why}", target.display()));
        let name = target
            .file_name()
            .ok_or_else(|| usage("not a file name".into()))?;
        // `file_name` (and `parent`) ignore a trailing separator or `.`: `dir/tokens.json/`
        // can only name a directory, and `dir/a-file/` fails at the rename after the grant.
        if !target
            .as_os_str()
            .as_encoded_bytes()
            .ends_with(name.as_encoded_bytes())
        {
            return Err(usage(
                "names a directory (ends with a path separator or `.`)".into(),
            ));
        }
        if target.is_dir() {
            return Err(usage("is a directory".into()));
        }
        let dir = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        // `.FILE.tmp-<random>`, as the file store names its own: a file left by a killed run
        // (or another run) never blocks this one, and is left alone.
        let mut prefix = OsString::from(".");
        prefix.push(name);
        prefix.push(".tmp-");
        let (temp, file) = create_private_temp(&dir, &prefix).map_err(|e| {
            usage(format!(
                "cannot create a temporary file in {}: {e}",
                dir.display()
            ))
        })?;
        Ok(Self {
            target: target.to_path_buf(),
            dir,
            temp,
            file: Some(file),
        })
    }

    /// Writes `bytes` (`what`, for messages), `fsync`s, renames over the target and `fsync`s
    /// the directory.
    fn commit(mut self, bytes: &[u8], what: &str) -> Result<(), CliError> {
        let lost = |step: &str, e: std::io::Error| CliError::Failed {
            kind: "io",
            message: format!(
                "cannot write {what} to {} ({step}: {e}); the old refresh token may no longer \
                 work",
                self.target.display()
            ),
        };
        let mut file = self.file.take().ok_or_else(|| {
            lost(
                "write",
                std::io::Error::other("the temporary file is already closed"),
            )
        })?;
        file.write_all(bytes).map_err(|e| lost("write", e))?;
        file.sync_all().map_err(|e| lost("fsync", e))?;
        drop(file);
        let renamed = std::fs::rename(&self.temp, &self.target);
        // Renamed, or complete but not renamed: either way the file is kept.
        let temp = std::mem::take(&mut self.temp);
        renamed.map_err(|e| CliError::Failed {
            kind: "io",
            message: format!(
                "cannot rename {what} over {} ({e}); it is in {} (mode 0600)",
                self.target.display(),
                temp.display()
            ),
        })?;
        sync_dir_io(&self.dir).map_err(|e| CliError::Failed {
            kind: "io",
            message: format!(
                "{what} is in {} but its directory could not be synced: {e}",
                self.target.display()
            ),
        })
    }
}

impl Drop for PendingOut {
    fn drop(&mut self) {
        if !self.temp.as_os_str().is_empty() {
            drop(self.file.take());
            let _ = std::fs::remove_file(&self.temp);
        }
    }
}

/// Maps a refresh error to the tool's `error: <kind>: <message>` line.
///
/// A server's OAuth `error` code is the kind only when RFC 6749 §5.2 registers it
/// ([`OAuthError`] other than `Other`); any other code is [`OAUTH_ERROR`], the code in the
/// message, so that a server answering `{"error":"unavailable"}` or `{"error":"io"}` cannot
/// pass for the tool's own kinds.
#[must_use]
pub fn failed(e: Error) -> CliError {
    let kind: &'static str = match &e {
        Error::Refresh {
            error: RefreshError::OAuth { code, .. },
            ..
        } => match code {
            OAuthError::Other => OAUTH_ERROR,
            registered => registered.as_str(),
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
