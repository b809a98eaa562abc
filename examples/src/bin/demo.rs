//! The end-to-end demo: `cargo run --release -p authcore-examples --bin demo`.
//!
//! Starts an OAuth token endpoint inside the process and drives an Auth.js session through
//! sign-in, sliding expiry, silent refresh with rotation, concurrent reads, revocation and
//! sign-out, printing each step. Exits 1 if any step does not behave as stated.
//!
//! Against a real provider:
//!
//! ```text
//! AUTHCORE_CLIENT_ID=... AUTHCORE_CLIENT_SECRET=... AUTHCORE_REFRESH_TOKEN=... \
//!   cargo run --release -p authcore-examples --bin demo -- --token-endpoint https://oauth2.googleapis.com/token
//! ```

use std::ffi::OsString;
use std::process::ExitCode;

use authcore_examples::demo::Remote;
use authcore_examples::{run, ClientAuthMethod, Options, Provider};
use clap::{Parser, ValueEnum};

/// authcore end-to-end demo: an Auth.js session with silent refresh-token rotation.
#[derive(Debug, Parser)]
#[command(name = "demo")]
struct Args {
    /// Use this token endpoint instead of the in-process one (https://, or http:// to a
    /// loopback host). The client id, secret and a refresh token come from the environment.
    #[arg(long = "token-endpoint", value_name = "URL")]
    token_endpoint: Option<String>,
    /// Environment variable holding the client id.
    #[arg(long, value_name = "VAR", default_value = "AUTHCORE_CLIENT_ID")]
    client_id_env: OsString,
    /// Environment variable holding the client secret.
    #[arg(long, value_name = "VAR", default_value = "AUTHCORE_CLIENT_SECRET")]
    client_secret_env: OsString,
    /// Environment variable holding a refresh token from a sign-in at the provider.
    #[arg(long, value_name = "VAR", default_value = "AUTHCORE_REFRESH_TOKEN")]
    refresh_token_env: OsString,
    /// Client authentication at the token endpoint.
    #[arg(long, value_enum, default_value_t = Auth::Post)]
    auth: Auth,
    /// Readers in the concurrent step.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=64))]
    readers: u16,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Auth {
    /// client_secret_basic
    Basic,
    /// client_secret_post
    Post,
}

fn env(name: &OsString) -> Result<String, String> {
    std::env::var(name).map_err(|_| {
        format!(
            "environment variable {} is not set (needed with --token-endpoint)",
            name.to_string_lossy()
        )
    })
}

fn options(args: &Args) -> Result<Options, String> {
    let mut opts = Options {
        readers: usize::from(args.readers),
        ..Options::default()
    };
    if let Some(url) = &args.token_endpoint {
        opts.provider = Provider::Remote(Remote {
            token_endpoint: url.clone(),
            client_id: env(&args.client_id_env)?,
            client_secret: env(&args.client_secret_env)?,
            auth: match args.auth {
                Auth::Basic => ClientAuthMethod::Basic,
                Auth::Post => ClientAuthMethod::Post,
            },
            refresh_token: env(&args.refresh_token_env)?,
        });
    }
    Ok(opts)
}

fn main() -> ExitCode {
    let args = Args::parse();
    let opts = match options(&args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("demo: {e}");
            return ExitCode::from(2);
        }
    };
    let mut out = std::io::stdout().lock();
    match run(&opts, &mut out) {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("\nFAILED: {e}");
            ExitCode::FAILURE
        }
    }
}
