//! The logic behind the `authcore` command-line tool, kept in the library so that it is tested
//! in-process as well as through the binary.

use std::ffi::OsString;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use authcore::jws::{self, DecodeOptions, Header};
use authcore::{Algorithm, DecodeError, HmacKey, Validation};
use clap::{Args, Parser, Subcommand, ValueEnum};
use serde_json::Value;

/// Command-line arguments.
#[derive(Debug, Parser)]
#[command(
    name = "authcore",
    version,
    about = "Encode, decode and inspect Auth.js session tokens"
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// A subcommand.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Read claims JSON on stdin and print a signed token.
    Encode(EncodeArgs),
    /// Verify and decode a token (argument or stdin); print `{"header":…,"claims":…}`.
    Decode(DecodeArgs),
    /// Exchange a refresh token at a token endpoint; print the new token set as JSON.
    Refresh(crate::refresh_cli::RefreshArgs),
}

impl Command {
    /// Whether the command reads standard input.
    #[must_use]
    pub fn needs_stdin(&self) -> bool {
        match self {
            Self::Encode(_) => true,
            Self::Decode(d) => d.token.is_none(),
            Self::Refresh(r) => r.needs_stdin(),
        }
    }
}

/// How secret bytes are written in the env var or file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum SecretEncoding {
    /// The bytes as they are.
    #[default]
    Utf8,
    /// Hexadecimal (upper or lower case).
    Hex,
    /// Unpadded base64url (RFC 4648 §5).
    Base64url,
}

/// Where the secrets come from. Secrets are never taken as plain arguments.
#[derive(Debug, Args)]
pub struct SecretArgs {
    /// Read the secret from this environment variable (its bytes exactly).
    #[arg(long = "secret-env", value_name = "VAR")]
    pub secret_env: Vec<OsString>,
    /// Read the secret from this file (its bytes exactly; no trimming).
    #[arg(long = "secret-file", value_name = "PATH")]
    pub secret_file: Vec<PathBuf>,
    /// How the secret is written.
    #[arg(long = "secret-encoding", value_enum, default_value_t = SecretEncoding::Utf8)]
    pub secret_encoding: SecretEncoding,
}

/// JWS algorithm names accepted on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AlgArg {
    /// HMAC-SHA-256.
    #[value(name = "HS256")]
    Hs256,
    /// HMAC-SHA-384.
    #[value(name = "HS384")]
    Hs384,
    /// HMAC-SHA-512.
    #[value(name = "HS512")]
    Hs512,
}

impl From<AlgArg> for Algorithm {
    fn from(a: AlgArg) -> Self {
        match a {
            AlgArg::Hs256 => Self::Hs256,
            AlgArg::Hs384 => Self::Hs384,
            AlgArg::Hs512 => Self::Hs512,
        }
    }
}

/// `authcore encode`.
#[derive(Debug, Args)]
pub struct EncodeArgs {
    /// Signing algorithm.
    #[arg(long, value_enum, default_value = "HS256")]
    pub alg: AlgArg,
    /// The secret.
    #[command(flatten)]
    pub secret: SecretArgs,
    /// Key id to put in the header.
    #[arg(long)]
    pub kid: Option<String>,
    /// The current time (Unix seconds); default: the system clock.
    #[arg(long)]
    pub now: Option<i64>,
    /// Set `exp = now + SECS` (and `iat = now` unless the claims have one).
    #[arg(long = "expires-in", value_name = "SECS")]
    pub expires_in: Option<i64>,
}

/// `authcore decode`.
#[derive(Debug, Args)]
pub struct DecodeArgs {
    /// The secret.
    #[command(flatten)]
    pub secret: SecretArgs,
    /// The algorithm the key is for (the header must say the same).
    #[arg(long, value_enum, default_value = "HS256")]
    pub alg: AlgArg,
    /// The current time (Unix seconds); default: the system clock.
    #[arg(long)]
    pub now: Option<i64>,
    /// Clock skew tolerated on `exp`/`nbf`, in seconds.
    #[arg(long, default_value_t = authcore::claims::DEFAULT_LEEWAY)]
    pub leeway: u32,
    /// Required audience.
    #[arg(long)]
    pub aud: Option<String>,
    /// Required issuer.
    #[arg(long)]
    pub iss: Option<String>,
    /// Only inspect: print header and claims WITHOUT verifying anything.
    #[arg(long = "dangerous-skip-verify")]
    pub dangerous_skip_verify: bool,
    /// The token; read from stdin when absent.
    pub token: Option<String>,
}

/// Why the tool failed.
#[derive(Debug, PartialEq, Eq)]
pub enum CliError {
    /// Bad usage (exit code 2).
    Usage(String),
    /// The operation failed (exit code 1): `error: <kind>: <message>`.
    Failed {
        /// Stable snake_case kind.
        kind: &'static str,
        /// Human-readable message.
        message: String,
    },
}

impl From<DecodeError> for CliError {
    fn from(e: DecodeError) -> Self {
        Self::Failed {
            kind: e.kind(),
            message: e.to_string(),
        }
    }
}

/// What the tool reads from its surroundings: environment variables, files and the clock.
pub trait Environment {
    /// An environment variable's raw value.
    fn var(&self, name: &std::ffi::OsStr) -> Option<OsString>;
    /// A file's bytes.
    ///
    /// # Errors
    ///
    /// The I/O error.
    fn read_file(&self, path: &Path) -> std::io::Result<Vec<u8>>;
    /// The current Unix time in seconds.
    fn now(&self) -> i64;
}

/// The process environment and the system clock.
#[derive(Debug, Clone, Copy)]
pub struct SystemEnv;

impl Environment for SystemEnv {
    fn var(&self, name: &std::ffi::OsStr) -> Option<OsString> {
        std::env::var_os(name)
    }
    fn read_file(&self, path: &Path) -> std::io::Result<Vec<u8>> {
        std::fs::read(path)
    }
    fn now(&self) -> i64 {
        crate::clock::unix_now()
    }
}

/// Runs one command, returning what to print on stdout.
///
/// # Errors
///
/// [`CliError`] with the exit code and message to report.
pub fn run(command: &Command, stdin: &str, env: &dyn Environment) -> Result<String, CliError> {
    match command {
        Command::Encode(a) => encode(a, stdin, env),
        Command::Decode(a) => decode(a, stdin, env),
        Command::Refresh(a) => crate::refresh_cli::run(a, stdin, env),
    }
}

/// Loads every secret named by `args`, env vars first then files, in the order given.
///
/// # Errors
///
/// [`CliError::Usage`] when a variable is unset, a file unreadable or the encoding wrong.
pub fn load_secrets(args: &SecretArgs, env: &dyn Environment) -> Result<Vec<Vec<u8>>, CliError> {
    let mut raw = Vec::new();
    for name in &args.secret_env {
        let v = env.var(name).ok_or_else(|| {
            CliError::Usage(format!(
                "environment variable {} is not set",
                name.to_string_lossy()
            ))
        })?;
        raw.push(os_bytes(v)?);
    }
    for path in &args.secret_file {
        raw.push(env.read_file(path).map_err(|e| {
            CliError::Usage(format!("cannot read secret file {}: {e}", path.display()))
        })?);
    }
    if raw.is_empty() {
        return Err(CliError::Usage(
            "a secret is required: --secret-env VAR or --secret-file PATH".into(),
        ));
    }
    raw.into_iter()
        .map(|r| decode_secret(&r, args.secret_encoding))
        .collect()
}

#[cfg(unix)]
fn os_bytes(v: OsString) -> Result<Vec<u8>, CliError> {
    use std::os::unix::ffi::OsStringExt as _;
    Ok(v.into_vec())
}

#[cfg(not(unix))]
fn os_bytes(v: OsString) -> Result<Vec<u8>, CliError> {
    v.into_string()
        .map(String::into_bytes)
        .map_err(|_| CliError::Usage("secret variable is not valid Unicode".into()))
}

fn decode_secret(raw: &[u8], encoding: SecretEncoding) -> Result<Vec<u8>, CliError> {
    match encoding {
        SecretEncoding::Utf8 => Ok(raw.to_vec()),
        SecretEncoding::Hex => {
            if raw.len() % 2 != 0 {
                return Err(CliError::Usage("hex secret has an odd length".into()));
            }
            raw.chunks(2)
                .map(|p| {
                    std::str::from_utf8(p)
                        .ok()
                        .and_then(|s| u8::from_str_radix(s, 16).ok())
                        .ok_or_else(|| CliError::Usage("secret is not valid hex".into()))
                })
                .collect()
        }
        SecretEncoding::Base64url => {
            let mut out = vec![0u8; raw.len()];
            let n = authcore::base64url::decode(raw, &mut out)
                .map_err(|e| CliError::Usage(format!("secret is not base64url: {e}")))?
                .len();
            out.truncate(n);
            Ok(out)
        }
    }
}

fn first_key(
    args: &SecretArgs,
    alg: Algorithm,
    env: &dyn Environment,
) -> Result<HmacKey, CliError> {
    let secrets = load_secrets(args, env)?;
    if secrets.len() > 1 {
        return Err(CliError::Usage(
            "JWS takes exactly one secret (rotation applies to JWE formats)".into(),
        ));
    }
    let secret = secrets.first().map_or(&[][..], Vec::as_slice);
    HmacKey::new(alg, secret).map_err(|e| CliError::Failed {
        kind: e.kind(),
        message: e.to_string(),
    })
}

fn encode(a: &EncodeArgs, stdin: &str, env: &dyn Environment) -> Result<String, CliError> {
    let key = first_key(&a.secret, a.alg.into(), env)?;
    let mut claims: serde_json::Map<String, Value> = serde_json::from_str(stdin)
        .map_err(|e| CliError::Usage(format!("stdin is not a JSON object: {e}")))?;
    if let Some(secs) = a.expires_in {
        let now = a.now.unwrap_or_else(|| env.now());
        let exp = now
            .checked_add(secs)
            .ok_or_else(|| CliError::Usage("--expires-in overflows".into()))?;
        claims.insert("exp".into(), Value::from(exp));
        claims.entry("iat").or_insert_with(|| Value::from(now));
    }
    let payload = serde_json::to_vec(&claims).map_err(|e| CliError::Usage(e.to_string()))?;
    let header = Header {
        kid: a.kid.as_deref(),
    };
    let mut out = vec![0u8; jws::encoded_len_json(&key, &header, &payload)];
    let token =
        jws::encode_json(&key, &header, &payload, &mut out).map_err(|e| CliError::Failed {
            kind: e.kind(),
            message: e.to_string(),
        })?;
    Ok(token.to_owned())
}

fn decode(a: &DecodeArgs, stdin: &str, env: &dyn Environment) -> Result<String, CliError> {
    let token = a.token.as_deref().unwrap_or(stdin);
    // A token read from stdin may end with the newline `echo` adds; nothing else is trimmed.
    let token = token.strip_suffix('\n').unwrap_or(token);
    let token = token.strip_suffix('\r').unwrap_or(token);
    let mut scratch = vec![0u8; jws::scratch_len(token.len())];
    let (header, payload) = if a.dangerous_skip_verify {
        jws::dangerous_inspect_unverified(token.as_bytes(), &mut scratch)?
    } else {
        let key = first_key(&a.secret, a.alg.into(), env)?;
        let mut validation = Validation::new().with_leeway(a.leeway);
        if let Some(aud) = &a.aud {
            validation = validation.with_audience(aud);
        }
        if let Some(iss) = &a.iss {
            validation = validation.with_issuer(iss);
        }
        let options = DecodeOptions::new().with_validation(validation);
        let now = a.now.unwrap_or_else(|| env.now());
        let d = jws::decode::<serde::de::IgnoredAny>(
            token.as_bytes(),
            &key,
            &options,
            now,
            &mut scratch,
        )?;
        (d.header_json(), d.payload_json())
    };
    render(header, payload)
}

/// Renders `{"header":…,"claims":…}` from verified JSON bytes.
///
/// # Errors
///
/// [`CliError::Failed`] if the bytes are not JSON (cannot happen after a successful decode).
pub fn render(header: &[u8], payload: &[u8]) -> Result<String, CliError> {
    let parse = |b: &[u8]| {
        serde_json::from_slice::<Value>(b).map_err(|e| CliError::Failed {
            kind: "bad_json",
            message: e.to_string(),
        })
    };
    let mut out = String::new();
    let _ = write!(
        out,
        r#"{{"header":{},"claims":{}}}"#,
        parse(header)?,
        parse(payload)?
    );
    Ok(out)
}
