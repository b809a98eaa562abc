//! The `authcore` command-line tool: encode, decode and inspect session tokens.
//!
//! Exit codes: 0 success, 1 an invalid token or a failed operation (one line on stderr:
//! `error: <kind>: <message>`), 2 a usage error.

use std::io::Read as _;
use std::process::ExitCode;

use authcore_std::cli::{self, CliError};
use clap::Parser as _;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    let mut stdin = String::new();
    let needs_stdin = args.command.needs_stdin();
    if needs_stdin {
        if let Err(e) = std::io::stdin().read_to_string(&mut stdin) {
            eprintln!("error: io: cannot read stdin: {e}");
            return ExitCode::from(2);
        }
    }
    match cli::run(&args.command, &stdin, &cli::SystemEnv) {
        Ok(out) => {
            println!("{out}");
            ExitCode::SUCCESS
        }
        Err(CliError::Usage(msg)) => {
            eprintln!("error: usage: {msg}");
            ExitCode::from(2)
        }
        Err(CliError::Failed { kind, message }) => {
            eprintln!("error: {kind}: {message}");
            ExitCode::from(1)
        }
    }
}
