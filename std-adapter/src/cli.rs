//! The logic behind the `authcore` command-line tool, kept in the library so that it is tested
//! in-process as well as through the binary.

use std::ffi::OsString;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use authcore::cookie::Flavor;
use authcore::jwe::{self, AuthJsKey, NextAuthV4Key};
use authcore::jws::{self, DecodeOptions, Header};
use authcore::session::{
    AuthJsCodec, BufferKind, Buffers, CallbackError, Callbacks, Config, DefaultSession, Engine,
    JwsCodec, NextAuthV4Codec, SessionError, SessionUser, SignIn, TokenCodec, User,
};
use authcore::{Algorithm, DecodeError, EncodeError, HmacKey, Validation};
use clap::{Args, Parser, Subcommand, ValueEnum};
use serde_json::Value;

/// Command-line arguments.
///
/// `Debug` prints no secret and no token: secrets are only named (`--secret-env VAR`,
/// `--secret-file PATH`), and [`DecodeArgs`] redacts its token.
#[derive(Debug, Parser)]
#[command(
    name = "authcore",
    version,
    about = "Encode, decode and inspect Auth.js session tokens, and refresh OAuth tokens",
    long_about = None
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
    ///
    /// An object naming a member twice, at any depth, is a usage error (it has two meanings).
    Encode(EncodeArgs),
    /// Verify and decode a token (argument or stdin); print `{"header":…,"claims":…}`.
    Decode(DecodeArgs),
    /// Read a `Cookie` request header on stdin and print what the session endpoint answers
    /// with the default callbacks: `{"session":…,"set_cookie":[…]}` (`session` is the body:
    /// without a session, `null` for authjs and jws, `{}` for nextauth-v4). A session cookie
    /// the endpoint cannot read, however long, is no session; stdin over 1 MiB is
    /// `input_too_large`. A token whose payload names a member twice (at any depth) ends the
    /// session, as the library's typed tokens do.
    Session(SessionArgs),
    /// Sign a user in: read `{"id","name","email","image"}` on stdin and print the session and
    /// the `Set-Cookie` headers Auth.js would send: `{"session":…,"set_cookie":[…]}`.
    ///
    /// `sub` is `id` stringified as Auth.js does (`42` -> `"42"`); an `id` that is not a string
    /// or an integer within ±(2^53 - 1) is a usage error, as is a member named twice (at any
    /// depth). A user too large for eight cookie chunks is `too_many_chunks`; stdin over 1 MiB
    /// is `input_too_large`.
    SignIn(SessionArgs),
    /// Exchange a refresh token at a token endpoint; print the new token set as JSON.
    Refresh(crate::refresh_cli::RefreshArgs),
}

impl Command {
    /// Whether the command reads standard input.
    #[must_use]
    pub fn needs_stdin(&self) -> bool {
        match self {
            Self::Encode(_) | Self::Session(_) | Self::SignIn(_) => true,
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
///
/// Several secrets (the flags repeated) are for Auth.js v5 secret rotation, the current one
/// first: `authjs` encodes with the first and decodes by `kid`. `jws` and `nextauth-v4` take
/// exactly one: next-auth v4 has no rotation (its `secret` is one string, and its tokens carry
/// no `kid`), so several are a usage error rather than a rotation next-auth would not do.
#[derive(Debug, Args)]
pub struct SecretArgs {
    /// Read the secret from this environment variable (its bytes exactly). Repeat for authjs
    /// secret rotation, the current secret first; jws and nextauth-v4 take one secret.
    #[arg(long = "secret-env", value_name = "VAR")]
    pub secret_env: Vec<OsString>,
    /// Read the secret from this file (its bytes exactly; no trimming). Repeatable, after the
    /// --secret-env secrets.
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

/// Token formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Detect: three segments is a JWS; five is a JWE, Auth.js v5 when it has a `kid` or uses
    /// A256CBC-HS512, next-auth v4 otherwise.
    Auto,
    /// Signed JWT (HS256/384/512).
    Jws,
    /// Auth.js v5 session cookie (JWE dir + A256CBC-HS512, key salted with the cookie name).
    Authjs,
    /// next-auth v4 session cookie (JWE dir + A256GCM; one secret, no rotation).
    #[value(name = "nextauth-v4")]
    NextauthV4,
}

/// `encode`'s `--format`: every [`Format`] but [`Format::Auto`], which only a decoder can use.
fn encode_format() -> impl clap::builder::TypedValueParser<Value = Format> {
    use clap::builder::TypedValueParser as _;
    clap::builder::PossibleValuesParser::new(["jws", "authjs", "nextauth-v4"])
        .map(|name| Format::from_str(&name, false).unwrap_or(Format::Auto))
}

/// The Auth.js v5 salt when none is given: the non-secure session cookie name.
pub const DEFAULT_SALT: &str = "authjs.session-token";

/// The most standard input any command reads: 1 MiB (the `authcore` binary stops reading
/// there, so an endless input costs no more memory). More is the error kind
/// [`INPUT_TOO_LARGE`]. The buffers of `session` (a `Cookie` header) and `sign-in` (a user)
/// are sized from the input up to this bound, so below it the engine's own answer is printed
/// (a cookie it cannot read is no session; a sign-in too large for a cookie is
/// `too_many_chunks`).
pub const MAX_INPUT: usize = 1 << 20;

/// The error kind of a standard input over [`MAX_INPUT`] (exit 1).
pub const INPUT_TOO_LARGE: &str = "input_too_large";

/// The error kind of `decode` for a verified token whose JSON names a member twice.
pub const DUPLICATE_MEMBER: &str = "duplicate_member";

/// `authcore encode`.
///
/// A flag the chosen format does not use is a usage error, not ignored: `--alg`, `--kid` and
/// `--expires-in` are for `jws` only; `--max-age` for `authjs` and `nextauth-v4`; `--salt` for
/// `authjs`. Hence the `Option`s: `None` is "not given", and the default applies.
#[derive(Debug, Args)]
pub struct EncodeArgs {
    /// Token format (`auto` is for decoding only: it is not offered here).
    #[arg(long, default_value = "jws", value_parser = encode_format())]
    pub format: Format,
    /// authjs: key-derivation salt, the session cookie name [default: authjs.session-token].
    #[arg(long)]
    pub salt: Option<String>,
    /// authjs, nextauth-v4: token lifetime in seconds (`exp = now + max-age`, `iat = now`)
    /// [default: 2592000, Auth.js's 30 days].
    #[arg(long = "max-age", value_name = "SECS")]
    pub max_age: Option<u32>,
    /// jws: signing algorithm [default: HS256].
    #[arg(long, value_enum)]
    pub alg: Option<AlgArg>,
    /// The secret.
    #[command(flatten)]
    pub secret: SecretArgs,
    /// jws: key id to put in the header.
    #[arg(long)]
    pub kid: Option<String>,
    /// The current time (Unix seconds); default: the system clock.
    #[arg(long)]
    pub now: Option<i64>,
    /// jws: set `exp = now + SECS` (and `iat = now` unless the claims have one).
    #[arg(long = "expires-in", value_name = "SECS")]
    pub expires_in: Option<i64>,
}

/// `authcore decode`. `Debug` redacts the token (a live session token is a credential).
///
/// A flag the token's format (given, or detected with `--format auto`) does not use is a usage
/// error, not ignored: `--alg` is for JWS tokens, `--salt` for Auth.js v5 (`authjs`) ones.
/// Hence the `Option`s: `None` is "not given", and the default applies.
#[derive(Args)]
pub struct DecodeArgs {
    /// The secret(s); repeat for rotation (authjs only), the current one first.
    #[command(flatten)]
    pub secret: SecretArgs,
    /// Token format.
    #[arg(long, value_enum, default_value = "auto")]
    pub format: Format,
    /// authjs: key-derivation salt, the session cookie name [default: authjs.session-token].
    #[arg(long)]
    pub salt: Option<String>,
    /// jws: the algorithm the key is for (the header must say the same) [default: HS256].
    #[arg(long, value_enum)]
    pub alg: Option<AlgArg>,
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

impl std::fmt::Debug for DecodeArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DecodeArgs")
            .field("secret", &self.secret)
            .field("format", &self.format)
            .field("salt", &self.salt)
            .field("alg", &self.alg)
            .field("now", &self.now)
            .field("leeway", &self.leeway)
            .field("aud", &self.aud)
            .field("iss", &self.iss)
            .field("dangerous_skip_verify", &self.dangerous_skip_verify)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
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
    /// The operation failed (exit code 1) but left a result that must not be lost, printed on
    /// standard output before the `error: <kind>: <message>` line: `authcore refresh` when
    /// the server rotated the refresh token in an answer that was refused (the old one may be
    /// spent). `Debug` redacts `output`.
    FailedWithOutput {
        /// Stable snake_case kind.
        kind: &'static str,
        /// Human-readable message.
        message: String,
        /// What to print on standard output (a secret).
        output: crate::secret::Secret,
    },
}

/// `authcore session`.
#[derive(Debug, Args)]
pub struct SessionArgs {
    /// Session token format.
    #[arg(long, value_enum)]
    pub format: SessionFormat,
    /// The secret(s); repeat for rotation (authjs only), the current one first.
    #[command(flatten)]
    pub secret: SecretArgs,
    /// jws: signing algorithm [default: HS256] (refused with the other formats, which are
    /// JWE).
    #[arg(long, value_enum)]
    pub alg: Option<AlgArg>,
    /// Secure mode (HTTPS): `__Secure-` cookie names and the `Secure` attribute.
    #[arg(long)]
    pub secure: bool,
    /// `session.maxAge` in seconds.
    #[arg(long = "max-age", default_value_t = authcore::session::DEFAULT_MAX_AGE)]
    pub max_age: u32,
    /// The current time (Unix seconds); default: the system clock.
    #[arg(long)]
    pub now: Option<i64>,
}

/// Session token formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SessionFormat {
    /// Auth.js v5.
    Authjs,
    /// next-auth v4 (one secret, no rotation).
    #[value(name = "nextauth-v4")]
    NextauthV4,
    /// Signed JWT (Auth.js custom encode/decode).
    Jws,
}

impl From<EncodeError> for CliError {
    fn from(e: EncodeError) -> Self {
        Self::Failed {
            kind: e.kind(),
            message: e.to_string(),
        }
    }
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
        Command::Session(a) => session(a, stdin, env, false),
        Command::SignIn(a) => session(a, stdin, env, true),
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
            if !raw.len().is_multiple_of(2) {
                return Err(CliError::Usage("hex secret has an odd length".into()));
            }
            // Both characters of each pair must be hex digits: `u8::from_str_radix` alone
            // would also take a sign (`+a` is 0x0a).
            raw.chunks(2)
                .map(|p| match p {
                    &[hi, lo] => Some((hex_digit(hi)? << 4) | hex_digit(lo)?),
                    _ => None,
                })
                .map(|b| b.ok_or_else(|| CliError::Usage("secret is not valid hex".into())))
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

/// The value of one ASCII hex digit (either case); `None` for anything else, signs included.
const fn hex_digit(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
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
            "JWS takes exactly one secret (rotation applies to --format authjs only)".into(),
        ));
    }
    let secret = secrets.first().map_or(&[][..], Vec::as_slice);
    HmacKey::new(alg, secret).map_err(|e| CliError::Failed {
        kind: e.kind(),
        message: e.to_string(),
    })
}

/// The one secret of a next-auth v4 token; several are a usage error.
///
/// next-auth v4 has no secret rotation: its `secret` is a single string (`NEXTAUTH_SECRET`;
/// `secret: string | Buffer` in next-auth 4.24's `jwt/types.d.ts`) and its tokens carry no
/// `kid`. A v4 server given a new secret clears the cookies made with the old one, and Auth.js
/// v5 does not fall back to older secrets for a token without a `kid` either (AUTHJS.md §1.2).
/// Trying each secret would show answers no next-auth server gives.
fn v4_secret(secrets: &[Vec<u8>]) -> Result<&[u8], CliError> {
    match secrets {
        [secret] => Ok(secret),
        _ => Err(CliError::Usage(
            "a next-auth v4 token takes exactly one secret: next-auth v4 has no secret rotation \
             (repeat --secret-env/--secret-file for --format authjs only)"
                .into(),
        )),
    }
}

fn encode(a: &EncodeArgs, stdin: &str, env: &dyn Environment) -> Result<String, CliError> {
    if a.format == Format::Auto {
        return Err(CliError::Usage(
            "encode needs an explicit --format (jws, authjs or nextauth-v4)".into(),
        ));
    }
    check_encode_flags(a)?;
    if a.format == Format::Jws {
        encode_jws(a, stdin, env)
    } else {
        encode_jwe(a, stdin, env)
    }
}

/// Refuses a flag that `a.format` does not use, naming it (it would otherwise be ignored).
fn check_encode_flags(a: &EncodeArgs) -> Result<(), CliError> {
    let jws = a.format == Format::Jws;
    let refused = [
        (
            a.alg.is_some() && !jws,
            "--alg applies to --format jws only (authjs and nextauth-v4 tokens are JWE: dir with \
             A256CBC-HS512 or A256GCM)",
        ),
        (
            a.kid.is_some() && !jws,
            "--kid applies to --format jws only (an authjs token's kid is its key's thumbprint; \
             a nextauth-v4 token has none)",
        ),
        (
            a.expires_in.is_some() && !jws,
            "--expires-in applies to --format jws only; authjs and nextauth-v4 take --max-age",
        ),
        (
            a.max_age.is_some() && jws,
            "--max-age applies to --format authjs or nextauth-v4 only; jws takes --expires-in",
        ),
        (
            a.salt.is_some() && a.format != Format::Authjs,
            "--salt applies to --format authjs only",
        ),
    ];
    match refused.into_iter().find(|&(given, _)| given) {
        Some((_, message)) => Err(CliError::Usage(message.into())),
        None => Ok(()),
    }
}

fn encode_jwe(a: &EncodeArgs, stdin: &str, env: &dyn Environment) -> Result<String, CliError> {
    let secrets = load_secrets(&a.secret, env)?;
    // authjs encodes with the current (first) secret, as Auth.js does.
    let secret = if a.format == Format::NextauthV4 {
        v4_secret(&secrets)?
    } else {
        secrets.first().map_or(&[][..], Vec::as_slice)
    };
    let claims = claims_object(stdin)?;
    let payload = serde_json::to_vec(&claims).map_err(|e| CliError::Usage(e.to_string()))?;
    let now = a.now.unwrap_or_else(|| env.now());
    let max_age = a.max_age.unwrap_or(authcore::session::DEFAULT_MAX_AGE);
    let mut rng = crate::random::OsRandom;
    let token = if a.format == Format::Authjs {
        let salt = a.salt.as_deref().unwrap_or(DEFAULT_SALT);
        let key = AuthJsKey::derive(secret, salt).map_err(derive_error)?;
        let mut out = vec![0u8; jwe::encoded_len_authjs_json(&payload, now, max_age)?];
        jwe::encode_authjs_json(&key, &payload, now, max_age, &mut rng, &mut out)?.to_owned()
    } else {
        let key = NextAuthV4Key::derive(secret).map_err(derive_error)?;
        let mut out = vec![0u8; jwe::encoded_len_nextauth_v4_json(&payload, now, max_age)?];
        jwe::encode_nextauth_v4_json(&key, &payload, now, max_age, &mut rng, &mut out)?.to_owned()
    };
    Ok(token)
}

/// The claims `encode` reads on stdin: a JSON object in which no object names a member twice.
fn claims_object(stdin: &str) -> Result<serde_json::Map<String, Value>, CliError> {
    let claims: serde_json::Map<String, Value> = serde_json::from_str(stdin)
        .map_err(|e| CliError::Usage(format!("stdin is not a JSON object: {e}")))?;
    check_unique_members(stdin)?;
    Ok(claims)
}

/// Refuses JSON (already known to be valid) in which an object, at any depth, names a member
/// twice: `{"id":"alice","id":"bob"}` has two meanings, where `JSON.parse` and `serde_json`
/// silently keep the last. A usage error (`stdin has a duplicate member "id" …`).
fn check_unique_members(json: &str) -> Result<(), CliError> {
    serde_json::from_str::<UniqueValue>(json)
        .map(|_| ())
        .map_err(|e| CliError::Usage(format!("stdin has a {e}")))
}

/// `duplicate member "name"`, the name escaped as JSON and cut to 64 characters.
fn duplicate_member(name: &str) -> String {
    let shown: String = name.chars().take(64).collect();
    let more = if shown.len() < name.len() { "…" } else { "" };
    format!("duplicate member {}{more}", Value::from(shown))
}

fn derive_error(e: jwe::DeriveKeyError) -> CliError {
    CliError::Failed {
        kind: e.kind(),
        message: e.to_string(),
    }
}

fn encode_jws(a: &EncodeArgs, stdin: &str, env: &dyn Environment) -> Result<String, CliError> {
    let key = first_key(&a.secret, a.alg.unwrap_or(AlgArg::Hs256).into(), env)?;
    let mut claims = claims_object(stdin)?;
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
    // A token read from stdin may end with the newline `echo` adds (`\n`, or `\r\n`), removed
    // once; nothing else is trimmed (a lone `\r` is no newline).
    let token = token
        .strip_suffix("\r\n")
        .or_else(|| token.strip_suffix('\n'))
        .unwrap_or(token);
    let format = match a.format {
        Format::Auto => detect(token)?,
        f => f,
    };
    check_decode_flags(a, format)?;
    if format != Format::Jws {
        if a.dangerous_skip_verify {
            return Err(CliError::Usage(
                "an encrypted token cannot be inspected without its secret".into(),
            ));
        }
        return decode_jwe(a, format, token, env);
    }
    let mut scratch = vec![0u8; jws::scratch_len(token.len())];
    let (header, payload) = if a.dangerous_skip_verify {
        jws::dangerous_inspect_unverified(token.as_bytes(), &mut scratch)?
    } else {
        let key = first_key(&a.secret, a.alg.unwrap_or(AlgArg::Hs256).into(), env)?;
        let options = DecodeOptions::new().with_validation(validation(a));
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

/// Refuses a flag that the token's `format` (given, or detected) does not use, naming it and the
/// format: it would otherwise be ignored.
fn check_decode_flags(a: &DecodeArgs, format: Format) -> Result<(), CliError> {
    let token = match (format, a.format) {
        (Format::Jws, Format::Auto) => "the token is a JWS (detected)",
        (Format::Authjs, Format::Auto) => "the token is an Auth.js v5 JWE (detected)",
        (Format::NextauthV4, Format::Auto) => "the token is a next-auth v4 JWE (detected)",
        (Format::Jws, _) => "the token is a JWS (--format jws)",
        (Format::Authjs, _) => "the token is an Auth.js v5 JWE (--format authjs)",
        (Format::NextauthV4 | Format::Auto, _) => {
            "the token is a next-auth v4 JWE (--format nextauth-v4)"
        }
    };
    if a.alg.is_some() && format != Format::Jws {
        return Err(CliError::Usage(format!(
            "--alg applies to JWS tokens only (a JWE's algorithms are fixed), and {token}"
        )));
    }
    if a.salt.is_some() && format != Format::Authjs {
        return Err(CliError::Usage(format!(
            "--salt applies to Auth.js v5 tokens (authjs) only, and {token}"
        )));
    }
    Ok(())
}

/// Picks the format of `token` from its shape (see [`Format::Auto`]).
fn detect(token: &str) -> Result<Format, CliError> {
    match token.bytes().filter(|&b| b == b'.').count() {
        2 => Ok(Format::Jws),
        4 => {
            let header = token.split('.').next().unwrap_or("");
            let mut buf = vec![0u8; header.len()];
            let json = authcore::base64url::decode(header.as_bytes(), &mut buf)
                .map(|b| b.to_vec())
                .unwrap_or_default();
            let v: Value = serde_json::from_slice(&json).unwrap_or(Value::Null);
            if v.get("kid").is_some() || v["enc"] == "A256CBC-HS512" {
                Ok(Format::Authjs)
            } else {
                Ok(Format::NextauthV4)
            }
        }
        _ => Err(DecodeError::Malformed(authcore::error::Malformed::JwsSegments).into()),
    }
}

fn validation(a: &DecodeArgs) -> Validation<'_> {
    let mut validation = Validation::new().with_leeway(a.leeway);
    if let Some(aud) = &a.aud {
        validation = validation.with_audience(aud);
    }
    if let Some(iss) = &a.iss {
        validation = validation.with_issuer(iss);
    }
    validation
}

fn decode_jwe(
    a: &DecodeArgs,
    format: Format,
    token: &str,
    env: &dyn Environment,
) -> Result<String, CliError> {
    let secrets = load_secrets(&a.secret, env)?;
    let options = DecodeOptions::new().with_validation(validation(a));
    let now = a.now.unwrap_or_else(|| env.now());
    let mut scratch = vec![0u8; jwe::scratch_len(token.len())];
    if format == Format::Authjs {
        let keys = secrets
            .iter()
            .map(|s| AuthJsKey::derive(s, a.salt.as_deref().unwrap_or(DEFAULT_SALT)))
            .collect::<Result<Vec<_>, _>>()
            .map_err(derive_error)?;
        let d = jwe::decode_authjs::<serde::de::IgnoredAny>(
            token.as_bytes(),
            &keys,
            &options,
            now,
            &mut scratch,
        )?;
        return render(d.header_json(), d.payload_json());
    }
    let key = NextAuthV4Key::derive(v4_secret(&secrets)?).map_err(derive_error)?;
    let d = jwe::decode_nextauth_v4::<serde::de::IgnoredAny>(
        token.as_bytes(),
        &key,
        &options,
        now,
        &mut scratch,
    )?;
    render(d.header_json(), d.payload_json())
}

fn session(
    a: &SessionArgs,
    stdin: &str,
    env: &dyn Environment,
    sign_in: bool,
) -> Result<String, CliError> {
    if a.alg.is_some() && a.format != SessionFormat::Jws {
        return Err(CliError::Usage(
            "--alg applies to --format jws only (authjs and nextauth-v4 tokens are JWE)".into(),
        ));
    }
    let secrets = load_secrets(&a.secret, env)?;
    if stdin.len() > MAX_INPUT {
        return Err(CliError::Failed {
            kind: INPUT_TOO_LARGE,
            message: format!(
                "the {} on stdin is {} bytes; at most {MAX_INPUT} are read",
                if sign_in { "user" } else { "Cookie header" },
                stdin.len()
            ),
        });
    }
    let user: Option<Value> = if sign_in {
        let user: Value = serde_json::from_str(stdin)
            .map_err(|e| CliError::Usage(format!("stdin is not a user JSON object: {e}")))?;
        if !user.is_object() {
            return Err(CliError::Usage(format!(
                "stdin is not a user JSON object: it is {}",
                json_kind(&user)
            )));
        }
        // `{"id":"alice","id":"bob"}`: which user signs in?
        check_unique_members(stdin)?;
        check_sign_in_strings(&user)?;
        Some(user)
    } else {
        None
    };
    let user_id = user.as_ref().map(sign_in_user_id).transpose()?.flatten();
    let input = Input {
        cookie_header: if sign_in {
            ""
        } else {
            stdin.trim_end_matches(['\r', '\n'])
        },
        user: user.as_ref(),
        user_id: user_id.as_deref(),
    };
    let now_ms = a.now.unwrap_or_else(|| env.now()).saturating_mul(1000);
    let flavor = match a.format {
        SessionFormat::NextauthV4 => Flavor::NextAuthV4,
        SessionFormat::Authjs | SessionFormat::Jws => Flavor::AuthJs,
    };
    let config = Config::new(flavor, a.secure).with_max_age(a.max_age);
    match a.format {
        SessionFormat::Jws => {
            let alg = a.alg.unwrap_or(AlgArg::Hs256);
            let key = first_key(&a.secret, alg.into(), env)?;
            run_session(
                Engine::new(config, JwsCodec::new(&key)),
                &input,
                stdin.len(),
                now_ms,
            )
        }
        SessionFormat::Authjs => {
            let salt = config.session_cookie_name();
            let keys = secrets
                .iter()
                .map(|s| AuthJsKey::derive(s, salt))
                .collect::<Result<Vec<_>, _>>()
                .map_err(derive_error)?;
            let codec =
                AuthJsCodec::new(&keys).ok_or_else(|| CliError::Usage("no secret".into()))?;
            run_session(Engine::new(config, codec), &input, stdin.len(), now_ms)
        }
        SessionFormat::NextauthV4 => {
            let key = NextAuthV4Key::derive(v4_secret(&secrets)?).map_err(derive_error)?;
            run_session(
                Engine::new(config, NextAuthV4Codec::new(&key)),
                &input,
                stdin.len(),
                now_ms,
            )
        }
    }
}

/// What `session` / `sign-in` work on.
struct Input<'a> {
    cookie_header: &'a str,
    user: Option<&'a Value>,
    /// The user's `id` as Auth.js stringifies it (see [`sign_in_user_id`]).
    user_id: Option<&'a str>,
}

/// The largest integer a JavaScript number holds exactly (`Number.MAX_SAFE_INTEGER`).
const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_991.0;

/// The sign-in user's `id` as Auth.js puts it in `sub`: `user.id?.toString()` (AUTHJS.md §2.1).
///
/// - absent or `null`: no `sub`;
/// - a string: itself;
/// - a number whose JavaScript value is an integer within ±(2^53 - 1): its decimal digits,
///   as JavaScript prints them (`42`, `-7`, `4.2e1` -> `"42"`, `-0` -> `"0"`).
///
/// Anything else is a usage error (`user "id" must be a string or a safe integer…`) rather
/// than JavaScript's rendering: booleans (`"true"`), objects (`"[object Object]"`), arrays,
/// fractions, and integers beyond 2^53 - 1, which JavaScript rounds (`2^64 - 1` becomes
/// `"18446744073709552000"`), so two users could share a `sub`.
fn sign_in_user_id(user: &Value) -> Result<Option<String>, CliError> {
    let refuse = |what: &str| {
        CliError::Usage(format!(
            "user \"id\" must be a string or a safe integer (-(2^53-1) to 2^53-1), not {what}"
        ))
    };
    match user.get("id") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Number(n)) => {
            // JavaScript reads every JSON number as the nearest double.
            match n.as_f64() {
                Some(x) if x.fract() == 0.0 && x.abs() <= MAX_SAFE_INTEGER => {
                    // Rust prints an integral double below 2^53 as plain digits, like
                    // JavaScript, except for the sign of zero.
                    Ok(Some(if x == 0.0 {
                        "0".to_owned()
                    } else {
                        format!("{x}")
                    }))
                }
                _ => Err(refuse(&format!("the number {n}"))),
            }
        }
        Some(Value::Bool(_)) => Err(refuse("a boolean")),
        Some(Value::Array(_)) => Err(refuse("an array")),
        Some(Value::Object(_)) => Err(refuse("an object")),
    }
}

/// The sign-in user's `name`, `email` and `image` must each be a string, `null` or absent.
///
/// Auth.js copies any value into the token (AUTHJS.md §2.1); authcore's token keeps these
/// as strings, so another kind is a usage error rather than a field silently left out.
/// `null` is read as absent (docs/DIFFERENCES.md: a typed token has no `null`).
fn check_sign_in_strings(user: &Value) -> Result<(), CliError> {
    for field in ["name", "email", "image"] {
        match user.get(field) {
            None | Some(Value::Null | Value::String(_)) => {}
            Some(other) => {
                return Err(CliError::Usage(format!(
                    "user \"{field}\" must be a string or null, not {}",
                    json_kind(other)
                )))
            }
        }
    }
    Ok(())
}

/// "a number", "an array"…: what a JSON value is, for usage errors.
fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Buffer room for a session read or a sign-in whose standard input is `input_len` bytes
/// (at most [`MAX_INPUT`]): the token buffer's size (the others follow from it).
///
/// The engine's limits must decide, never the tool's buffers: the token buffer holds any
/// session cookie the header carries (longer than a read accepts, [`MAX_SESSION_TOKEN_LEN`],
/// is no session, not a buffer error), and any token the engine usually writes, with
/// headroom: a re-issued token is about 4/3 of the claims it decoded (at most
/// `MAX_SESSION_TOKEN_LEN`), a sign-in's about 4/3 of the user JSON, so that one of more
/// chunks than a read reassembles is the engine's `too_many_chunks`. (Claims that grow when
/// written again, e.g. `1e15` as `1000000000000000.0`, may need more: see [`run_session`].)
///
/// [`MAX_SESSION_TOKEN_LEN`]: authcore::session::MAX_SESSION_TOKEN_LEN
fn token_room(input_len: usize) -> usize {
    2 * input_len.max(authcore::session::MAX_SESSION_TOKEN_LEN) + 8192
}

/// The largest buffer [`run_session`] grows one to when the engine asks for more: 64 MiB.
const MAX_BUFFER: usize = 64 << 20;

/// Runs the session read or sign-in and renders the engine's answer.
///
/// The buffers are sized from the input ([`token_room`]); if the engine still reports one too
/// small (claims that grow when re-serialized), it is grown to the size the engine names, up
/// to [`MAX_BUFFER`], and the request is run again (a few times at most): nothing is kept
/// from a run whose buffers were too small.
fn run_session<K: TokenCodec>(
    engine: Engine<K>,
    input: &Input<'_>,
    input_len: usize,
    now_ms: i64,
) -> Result<String, CliError> {
    let token = token_room(input_len);
    let mut sizes = [
        token,
        // Decoding and encoding scratch: about twice the token.
        2 * token + 1024,
        // The session JSON: at most the token's claims, plus `expires`.
        token + 64 * 1024,
        // The token's chunks, and up to 24 headers of about 150 bytes.
        2 * token + 8192,
    ];
    let mut grown = 0;
    loop {
        let [mut t, mut s, mut b, mut c] = sizes.map(|n| vec![0u8; n]);
        let bufs = Buffers {
            token: &mut t,
            scratch: &mut s,
            body: &mut b,
            cookies: &mut c,
        };
        match answer(&engine, input, now_ms, bufs) {
            Ok(out) => return out,
            Err(SessionError::BufferTooSmall { buffer, needed })
                if grown < 4 && needed <= MAX_BUFFER =>
            {
                let i = match buffer {
                    BufferKind::Token => 0,
                    BufferKind::Scratch => 1,
                    BufferKind::Body => 2,
                    BufferKind::Cookies => 3,
                };
                sizes[i] = needed.max(sizes[i] + 1);
                grown += 1;
            }
            Err(e) => {
                return Err(CliError::Failed {
                    kind: e.kind(),
                    message: e.to_string(),
                })
            }
        }
    }
}

/// One run of the session read or sign-in in `bufs`: the rendered answer, or the engine's
/// error.
fn answer<K: TokenCodec>(
    engine: &Engine<K>,
    input: &Input<'_>,
    now_ms: i64,
    bufs: Buffers<'_>,
) -> Result<Result<String, CliError>, SessionError> {
    let mut rng = crate::random::OsRandom;
    let r = if let Some(user) = input.user {
        let field = |k: &str| user.get(k).and_then(Value::as_str);
        let sign_in = SignIn {
            user: User {
                id: input.user_id,
                name: field("name"),
                email: field("email"),
                image: field("image"),
            },
            account: None,
            profile: None,
            is_new_user: None,
        };
        engine.sign_in(&mut JsonCallbacks, &sign_in, b"", now_ms, &mut rng, bufs)
    } else {
        engine.session(
            &mut JsonCallbacks,
            input.cookie_header.as_bytes(),
            now_ms,
            &mut rng,
            bufs,
        )
    }?;
    // The engine's body as it is: the session, or the flavor's empty body when there is none
    // (`null` for Auth.js v5, `{}` for next-auth v4).
    let session: Value = match serde_json::from_str(r.body) {
        Ok(v) => v,
        Err(e) => {
            return Ok(Err(CliError::Failed {
                kind: "bad_json",
                message: e.to_string(),
            }))
        }
    };
    let out = serde_json::json!({
        "session": session,
        "set_cookie": r.set_cookies().collect::<Vec<_>>(),
    });
    Ok(Ok(out.to_string()))
}

/// Auth.js's default callbacks over a free-form JSON token, so the CLI re-issues every claim the
/// cookie carried (as Auth.js's default `jwt` callback returns the token object unchanged).
struct JsonCallbacks;

/// A JSON token; serialized with plain serde numbers (the workspace's `serde_json` keeps
/// arbitrary-precision numbers as a private struct that only `serde_json` itself understands).
///
/// A payload in which an object (at any depth) names a member twice does not deserialize, so
/// the session ends, as with the library's typed tokens (docs/DIFFERENCES.md, "Duplicate
/// members"): one meaning per token, where `JSON.parse` keeps the last value.
struct JsonToken(Value);

impl<'de> serde::Deserialize<'de> for JsonToken {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(UniqueValueVisitor).map(JsonToken)
    }
}

/// Builds a [`Value`] from any JSON deserializer (the core's for session tokens,
/// `serde_json`'s for stdin and `decode`'s check), refusing an object that names a member
/// twice, at any depth (names compared unescaped, so `"id"` and `"\u0069d"` are the same).
struct UniqueValueVisitor;

impl<'de> serde::Deserialize<'de> for UniqueValue {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(UniqueValueVisitor).map(UniqueValue)
    }
}

/// One value of a [`JsonToken`].
struct UniqueValue(Value);

impl<'de> serde::de::Visitor<'de> for UniqueValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        // JSON has no non-finite number; `Value::from` would make one `null`.
        Ok(Value::from(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(UniqueValue(v)) = seq.next_element()? {
            items.push(v);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut members = serde_json::Map::new();
        while let Some(name) = map.next_key::<String>()? {
            if members.contains_key(&name) {
                return Err(serde::de::Error::custom(duplicate_member(&name)));
            }
            let UniqueValue(v) = map.next_value()?;
            members.insert(name, v);
        }
        Ok(Value::Object(members))
    }
}

impl serde::Serialize for JsonToken {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        PlainValue(&self.0).serialize(s)
    }
}

struct PlainValue<'a>(&'a Value);

impl serde::Serialize for PlainValue<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap as _, SerializeSeq as _};
        match self.0 {
            Value::Null => s.serialize_unit(),
            Value::Bool(b) => s.serialize_bool(*b),
            Value::Number(n) => {
                if let Some(u) = n.as_u64() {
                    s.serialize_u64(u)
                } else if let Some(i) = n.as_i64() {
                    s.serialize_i64(i)
                } else {
                    s.serialize_f64(n.as_f64().unwrap_or(f64::NAN))
                }
            }
            Value::String(t) => s.serialize_str(t),
            Value::Array(a) => {
                let mut seq = s.serialize_seq(Some(a.len()))?;
                for v in a {
                    seq.serialize_element(&PlainValue(v))?;
                }
                seq.end()
            }
            Value::Object(o) => {
                let mut map = s.serialize_map(Some(o.len()))?;
                for (k, v) in o {
                    map.serialize_entry(k, &PlainValue(v))?;
                }
                map.end()
            }
        }
    }
}

impl Callbacks for JsonCallbacks {
    type Token = JsonToken;
    type Session<'a> = DefaultSession<'a>;

    fn initial_token(&mut self, user: &User<'_>) -> Result<JsonToken, CallbackError> {
        // Auth.js drops undefined fields.
        let mut token = serde_json::Map::new();
        for (k, v) in [
            ("name", user.name),
            ("email", user.email),
            ("picture", user.image),
            ("sub", user.id),
        ] {
            if let Some(v) = v {
                token.insert(k.into(), Value::from(v));
            }
        }
        Ok(JsonToken(Value::Object(token)))
    }

    fn session<'a>(
        &'a mut self,
        token: &'a JsonToken,
        expires: &'a str,
    ) -> Result<DefaultSession<'a>, CallbackError> {
        let field = |k: &str| token.0.get(k).and_then(Value::as_str);
        Ok(DefaultSession {
            user: SessionUser {
                name: field("name"),
                email: field("email"),
                image: field("picture"),
            },
            expires,
            error: field("error"),
        })
    }
}

/// Renders `{"header":…,"claims":…}` from verified JSON bytes.
///
/// # Errors
///
/// [`CliError::Failed`] if the bytes are not JSON (cannot happen after a successful decode),
/// or, with the kind `duplicate_member`, if an object in them (at any depth) names a member
/// twice: printed through `serde_json`, only the last value would show, while the library's
/// typed tokens refuse such a payload (docs/DIFFERENCES.md, "Duplicate members").
pub fn render(header: &[u8], payload: &[u8]) -> Result<String, CliError> {
    let parse = |b: &[u8]| {
        let value = serde_json::from_slice::<Value>(b).map_err(|e| CliError::Failed {
            kind: "bad_json",
            message: e.to_string(),
        })?;
        serde_json::from_slice::<UniqueValue>(b).map_err(|e| CliError::Failed {
            kind: DUPLICATE_MEMBER,
            message: format!("the token has a {e}"),
        })?;
        Ok::<_, CliError>(value)
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
