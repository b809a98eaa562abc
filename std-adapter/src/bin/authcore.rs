//! The `authcore` command-line tool: encode, decode and inspect session tokens.
//!
//! Exit codes: 0 success, 1 an invalid token or a failed operation (one line on stderr:
//! `error: <kind>: <message>`), 2 a usage error.
//!
//! Every command reads at most [`cli::MAX_INPUT`] bytes (1 MiB) of stdin; more is
//! `error: input_too_large: ...`, exit 1, and reading stops there.
//!
//! A failure to read stdin (an I/O error, or bytes that are not UTF-8) or to write the result on
//! stdout (a full disk, a closed pipe) is a failed operation: `error: io: ...`, exit 1; for
//! `refresh` a failed write says that the new token set (or the rotated refresh token a failed
//! refresh writes) was lost and the old refresh token may no longer work. Nothing here panics
//! on an input or output error, and a failure to write on stderr is ignored (there is nowhere
//! left to report it).

use std::io::{self, Read as _, Write as _};
use std::process::ExitCode;

use authcore_std::cli::{self, CliError};
use clap::Parser as _;

fn main() -> ExitCode {
    let args = match cli::Cli::try_parse() {
        Ok(args) => args,
        Err(e) => return clap_exit(&e),
    };
    let mut stdin = String::new();
    if args.command.needs_stdin() {
        match read_stdin() {
            Ok(text) => stdin = text,
            Err(StdinError::TooLarge) => {
                report(format_args!(
                    "error: {}: stdin is over {} bytes; at most that much is read",
                    cli::INPUT_TOO_LARGE,
                    cli::MAX_INPUT
                ));
                return ExitCode::from(1);
            }
            Err(StdinError::Io(e)) => {
                report(format_args!("error: io: cannot read stdin: {e}"));
                return ExitCode::from(1);
            }
        }
    }
    match cli::run(&args.command, &stdin, &cli::SystemEnv) {
        // `refresh --out` wrote its result to a file and prints nothing.
        Ok(out) if out.is_empty() => ExitCode::SUCCESS,
        Ok(out) => match print_line(&out) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                if matches!(args.command, cli::Command::Refresh(_)) {
                    report(format_args!(
                        "error: io: cannot write the new token set to stdout: {e}; the old \
                         refresh token may no longer work (sign in again; --out FILE writes \
                         the set to a file)"
                    ));
                } else {
                    report(format_args!("error: io: cannot write to stdout: {e}"));
                }
                ExitCode::from(1)
            }
        },
        Err(CliError::Usage(msg)) => {
            report(format_args!("error: usage: {msg}"));
            ExitCode::from(2)
        }
        Err(CliError::Failed { kind, message }) => {
            report(format_args!("error: {kind}: {message}"));
            ExitCode::from(1)
        }
        // `refresh`: a rotated refresh token kept from a refused answer, printed where the
        // set would have been.
        Err(CliError::FailedWithOutput {
            kind,
            message,
            output,
        }) => {
            match print_line(output.expose()) {
                Ok(()) => report(format_args!("error: {kind}: {message}")),
                Err(e) => report(format_args!(
                    "error: io: cannot write the rotated refresh token to stdout: {e}; the old \
                     refresh token may no longer work (the refresh failed: {kind}; --out FILE \
                     writes the token to a file)"
                )),
            }
            ExitCode::from(1)
        }
    }
}

/// Why stdin could not be taken.
enum StdinError {
    /// More than [`cli::MAX_INPUT`] bytes: reading stops there, so an endless or huge input
    /// costs at most that much memory.
    TooLarge,
    /// A read error, or bytes that are not UTF-8.
    Io(io::Error),
}

/// Reads stdin, at most [`cli::MAX_INPUT`] bytes.
fn read_stdin() -> Result<String, StdinError> {
    let limit = u64::try_from(cli::MAX_INPUT)
        .unwrap_or(u64::MAX)
        .saturating_add(1);
    let mut bytes = Vec::new();
    io::stdin()
        .lock()
        .take(limit)
        .read_to_end(&mut bytes)
        .map_err(StdinError::Io)?;
    if bytes.len() > cli::MAX_INPUT {
        return Err(StdinError::TooLarge);
    }
    String::from_utf8(bytes)
        .map_err(|e| StdinError::Io(io::Error::new(io::ErrorKind::InvalidData, e.utf8_error())))
}

/// Writes `text` and a newline on stdout and flushes, returning any error.
fn print_line(text: &str) -> io::Result<()> {
    let mut stdout = io::stdout().lock();
    stdout.write_all(text.as_bytes())?;
    stdout.write_all(b"\n")?;
    stdout.flush()
}

/// Writes one line on stderr, ignoring errors (unlike `eprintln!`, which panics).
fn report(line: std::fmt::Arguments<'_>) {
    let _ = writeln!(io::stderr().lock(), "{line}");
}

/// Prints clap's message (help and version on stdout, usage errors on stderr) and picks the
/// exit code: clap's (0 or 2), or 1 when help or version could not be written.
fn clap_exit(e: &clap::Error) -> ExitCode {
    let code = e.exit_code();
    let printed = e.print().and_then(|()| io::stdout().flush());
    if code == 0 {
        if let Err(err) = printed {
            report(format_args!("error: io: cannot write to stdout: {err}"));
            return ExitCode::from(1);
        }
    }
    ExitCode::from(u8::try_from(code).unwrap_or(2))
}
