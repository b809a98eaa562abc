//! The `authcore` command line: fixes from a review (each test failed on the code before it).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use std::io::Write as _;
use std::process::{Command, Stdio};

const NEW: &str = "new-secret-new-secret-new-secret-0123456789";

/// Stdin that cannot be read (here: not UTF-8) is a failed operation, `error: io: …`, exit 1;
/// exit 2 is kept for usage errors.
#[test]
fn unreadable_stdin_is_an_io_error_and_exits_1() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_authcore"))
        .args(["decode", "--secret-env", "S"])
        .env("S", NEW)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"\xff\xfe").unwrap();
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(err.starts_with("error: io: cannot read stdin:"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(out.stdout.is_empty());
    assert_eq!(out.status.code(), Some(1), "{err}");
}

/// `Debug` of the parsed command line never prints the token given as an argument.
#[test]
fn cli_debug_redacts_the_token() {
    use authcore_std::cli::Cli;
    use clap::Parser as _;

    let token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJzZWNyZXQtc2Vzc2lvbiJ9.c2lnbmF0dXJl";
    let cli = Cli::try_parse_from(["authcore", "decode", "--secret-env", "S", token]).unwrap();
    for dbg in [format!("{cli:?}"), format!("{cli:#?}")] {
        assert!(!dbg.contains(token), "Debug leaks the token: {dbg}");
        assert!(
            !dbg.contains("c2lnbmF0dXJl"),
            "Debug leaks part of the token: {dbg}"
        );
        assert!(dbg.contains(r#""<redacted>""#), "{dbg}");
        // The other fields are still shown.
        assert!(dbg.contains("secret_env"), "{dbg}");
    }
    assert!(format!("{cli:?}").contains(r#"token: Some("<redacted>")"#));
    let from_stdin = Cli::try_parse_from(["authcore", "decode", "--secret-env", "S"]).unwrap();
    assert!(format!("{from_stdin:?}").contains("token: None"));
}
