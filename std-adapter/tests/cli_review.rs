//! The `authcore` command line: fixes from a review (each test failed on the code before it).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

use authcore_std::cli::{self, Cli, CliError, Environment};
use clap::Parser as _;
use serde_json::Value;

const NOW: i64 = 1_700_000_000;
const OLD: &str = "old-secret-old-secret-old-secret-0123456789";
const NEW: &str = "new-secret-new-secret-new-secret-0123456789";

/// Secrets in `OLD` and `NEW`, no files, the clock at [`NOW`].
struct Env(HashMap<&'static str, &'static str>);

impl Environment for Env {
    fn var(&self, name: &OsStr) -> Option<OsString> {
        self.0.get(name.to_str()?).map(OsString::from)
    }
    fn read_file(&self, _: &Path) -> std::io::Result<Vec<u8>> {
        Err(std::io::ErrorKind::NotFound.into())
    }
    fn now(&self) -> i64 {
        NOW
    }
}

/// Runs `authcore ARGS` in-process with `stdin`.
/// A token of `format` for `{"sub":"42","name":"Ada"}`, made with the previous secret `OLD`.
fn encode_with_old(format: &str) -> String {
    run(
        &[
            "encode",
            "--format",
            format,
            "--secret-env",
            "OLD",
            "--now",
            "1700000000",
        ],
        r#"{"sub":"42","name":"Ada"}"#,
    )
    .unwrap()
}

fn run(args: &[&str], stdin: &str) -> Result<String, CliError> {
    let mut argv = vec!["authcore"];
    argv.extend_from_slice(args);
    let cli = Cli::try_parse_from(argv).unwrap();
    cli::run(
        &cli.command,
        stdin,
        &Env(HashMap::from([("OLD", OLD), ("NEW", NEW)])),
    )
}

/// The usage message of `run(args, stdin)`, which must be a usage error.
fn usage(args: &[&str], stdin: &str) -> String {
    match run(args, stdin) {
        Err(CliError::Usage(message)) => message,
        other => panic!("{args:?}: not a usage error: {other:?}"),
    }
}

/// The claims `decode` prints for `token` (format auto-detected, secret `NEW`).
fn claims(token: &str) -> Value {
    let out = run(
        &[
            "decode",
            "--secret-env",
            "NEW",
            "--now",
            "1700000000",
            token,
        ],
        "",
    )
    .unwrap();
    serde_json::from_str::<Value>(&out).unwrap()["claims"].clone()
}

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

/// `encode` refuses, naming it, a flag the format does not use (they were silently ignored:
/// `--format authjs --kid my-kid` wrote a token whose `kid` was the key's thumbprint). A flag
/// given with its default value (`--alg HS256`) is refused too.
#[test]
fn encode_refuses_flags_the_format_does_not_use() {
    fn encode<'a>(format: &'a str, flag: &[&'a str]) -> Vec<&'a str> {
        let mut args = vec!["encode", "--format", format, "--secret-env", "NEW"];
        args.extend_from_slice(flag);
        args
    }
    for format in ["authjs", "nextauth-v4"] {
        for flag in [
            &["--kid", "my-kid"][..],
            &["--alg", "HS512"],
            &["--alg", "HS256"],
            &["--expires-in", "5"],
        ] {
            let message = usage(&encode(format, flag), r#"{"sub":"42"}"#);
            assert!(
                message.starts_with(&format!("{} applies to --format jws only", flag[0])),
                "{format} {flag:?}: {message}"
            );
        }
    }
    // --expires-in points to the JWE flag that sets `exp`.
    assert!(usage(&encode("authjs", &["--expires-in", "5"]), "{}").contains("--max-age"));
    for (format, flag) in [
        ("jws", &["--max-age", "60"][..]),
        ("jws", &["--salt", "authjs.session-token"]),
        ("nextauth-v4", &["--salt", "authjs.session-token"]),
    ] {
        let message = usage(&encode(format, flag), "{}");
        assert!(
            message.starts_with(&format!("{} applies to --format ", flag[0])),
            "{format} {flag:?}: {message}"
        );
    }
    // The reviewer's case: every JWS-only flag at once.
    let all = [
        "--kid",
        "my-kid",
        "--alg",
        "HS512",
        "--expires-in",
        "5",
        "--now",
        "1700000000",
    ];
    let message = usage(&encode("authjs", &all), "{}");
    assert!(
        ["--kid", "--alg", "--expires-in"]
            .iter()
            .any(|flag| message.starts_with(&format!("{flag} applies to --format jws only"))),
        "{message}"
    );
}

/// The flags each format uses still work, and the defaults still apply when they are absent.
#[test]
fn encode_honours_the_flags_of_its_format() {
    let jws = run(
        &[
            "encode",
            "--secret-env",
            "NEW",
            "--alg",
            "HS256",
            "--kid",
            "k1",
            "--expires-in",
            "60",
            "--now",
            "1700000000",
        ],
        r#"{"sub":"42"}"#,
    )
    .unwrap();
    let out: Value = serde_json::from_str(
        &run(
            &["decode", "--secret-env", "NEW", "--now", "1700000000", &jws],
            "",
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(out["header"]["kid"], "k1");
    assert_eq!(out["claims"]["exp"], NOW + 60);
    let jws_default = run(&["encode", "--secret-env", "NEW"], "{}").unwrap();
    assert!(run(&["decode", "--secret-env", "NEW", &jws_default], "").is_ok());

    for format in ["authjs", "nextauth-v4"] {
        let token = run(
            &[
                "encode",
                "--format",
                format,
                "--secret-env",
                "NEW",
                "--max-age",
                "60",
                "--now",
                "1700000000",
            ],
            r#"{"sub":"42"}"#,
        )
        .unwrap();
        assert_eq!(claims(&token)["exp"], NOW + 60, "{format}");
        let default = run(
            &[
                "encode",
                "--format",
                format,
                "--secret-env",
                "NEW",
                "--now",
                "1700000000",
            ],
            "{}",
        )
        .unwrap();
        assert_eq!(claims(&default)["exp"], NOW + 2_592_000, "{format}");
    }
    // --salt with authjs: the token decodes with that salt only.
    let salted = run(
        &[
            "encode",
            "--format",
            "authjs",
            "--secret-env",
            "NEW",
            "--salt",
            "__Secure-authjs.session-token",
            "--now",
            "1700000000",
        ],
        "{}",
    )
    .unwrap();
    let decode = |salt: &str| {
        run(
            &[
                "decode",
                "--format",
                "authjs",
                "--secret-env",
                "NEW",
                "--salt",
                salt,
                "--now",
                "1700000000",
                &salted,
            ],
            "",
        )
    };
    assert!(decode("__Secure-authjs.session-token").is_ok());
    assert!(decode("authjs.session-token").is_err());
}

/// The `set_cookie` list and `session` of a `session` / `sign-in` answer.
fn answer(out: &str) -> (Value, Vec<String>) {
    let v: Value = serde_json::from_str(out).unwrap();
    let cookies = v["set_cookie"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    (v["session"].clone(), cookies)
}

/// next-auth v4 has no secret rotation (one `secret` string, no `kid` in its tokens), so
/// several secrets with a v4 token are a usage error everywhere. Before, `decode` tried each
/// secret while `session` used only the first and cleared a cookie `decode` accepted, and
/// `encode` and `sign-in` silently used the first.
#[test]
fn nextauth_v4_takes_exactly_one_secret() {
    let token = encode_with_old("nextauth-v4");
    let cookie = format!("next-auth.session-token={token}");
    fn with_two<'a>(head: &[&'a str], tail: &[&'a str]) -> Vec<&'a str> {
        let mut args = head.to_vec();
        args.extend_from_slice(&[
            "--secret-env",
            "NEW",
            "--secret-env",
            "OLD",
            "--now",
            "1700000000",
        ]);
        args.extend_from_slice(tail);
        args
    }
    for (args, stdin) in [
        (
            with_two(&["decode", "--format", "nextauth-v4"], &[&token]),
            "",
        ),
        // Auto-detected as next-auth v4.
        (with_two(&["decode"], &[&token]), ""),
        (
            with_two(&["session", "--format", "nextauth-v4"], &[]),
            cookie.as_str(),
        ),
        (
            with_two(&["sign-in", "--format", "nextauth-v4"], &[]),
            r#"{"id":"42"}"#,
        ),
        (
            with_two(&["encode", "--format", "nextauth-v4"], &[]),
            r#"{"sub":"42"}"#,
        ),
    ] {
        let message = usage(&args, stdin);
        assert!(
            message.starts_with("a next-auth v4 token takes exactly one secret"),
            "{args:?}: {message}"
        );
    }

    // With its one secret the cookie is read and re-issued; with another one it is cleared,
    // as next-auth v4 does after its secret changed.
    let session = |var: &str| {
        run(
            &[
                "session",
                "--format",
                "nextauth-v4",
                "--secret-env",
                var,
                "--now",
                "1700000000",
            ],
            &cookie,
        )
        .unwrap()
    };
    let (user, cookies) = answer(&session("OLD"));
    assert_eq!(user["user"]["name"], "Ada");
    assert!(
        cookies[0].starts_with("next-auth.session-token=ey"),
        "{cookies:?}"
    );
    let (user, cookies) = answer(&session("NEW"));
    // next-auth v4's body without a session.
    assert_eq!(user, serde_json::json!({}));
    assert!(
        cookies[0].starts_with("next-auth.session-token=; Max-Age=0"),
        "{cookies:?}"
    );
    let decoded = run(
        &[
            "decode",
            "--format",
            "nextauth-v4",
            "--secret-env",
            "OLD",
            "--now",
            "1700000000",
            &token,
        ],
        "",
    );
    assert!(decoded.is_ok(), "{decoded:?}");
}

/// Rotation still works where Auth.js has it: `session --format authjs` reads a cookie made
/// with the previous secret and re-issues it with the current one.
#[test]
fn authjs_session_reads_a_rotated_secret_and_reissues_with_the_current_one() {
    let token = encode_with_old("authjs");
    let out = run(
        &[
            "session",
            "--format",
            "authjs",
            "--secret-env",
            "NEW",
            "--secret-env",
            "OLD",
            "--now",
            "1700000000",
        ],
        &format!("authjs.session-token={token}"),
    )
    .unwrap();
    let (user, cookies) = answer(&out);
    assert_eq!(user["user"]["name"], "Ada");
    let reissued = cookies[0]
        .strip_prefix("authjs.session-token=")
        .and_then(|c| c.split(';').next())
        .unwrap();
    assert_eq!(claims(reissued)["name"], "Ada", "re-issued with NEW");
}

/// `Debug` of `authcore refresh`'s arguments shows the token endpoint without user
/// information or query (the URL is refused when the command runs, but may be logged before).
#[test]
fn refresh_args_debug_hides_credentials_in_the_url() {
    for (url, secret) in [
        ("https://user:pa55word@auth.example.com/token", "pa55word"),
        ("https://auth.example.com/token?key=pa55word", "pa55word"),
    ] {
        let cli = Cli::try_parse_from([
            "authcore",
            "refresh",
            "--token-endpoint",
            url,
            "--client-id",
            "app",
            "--refresh-token-stdin",
        ])
        .unwrap();
        let dbg = format!("{cli:?}");
        assert!(!dbg.contains(secret), "{dbg}");
        assert!(dbg.contains("client_id"), "{dbg}");
    }
}

/// `session` and `sign-in` refuse `--alg` with the JWE formats (it was ignored), and keep
/// taking it with `jws`.
#[test]
fn session_and_sign_in_refuse_alg_with_jwe_formats() {
    for command in ["session", "sign-in"] {
        for format in ["authjs", "nextauth-v4"] {
            let got = run(
                &[
                    command,
                    "--format",
                    format,
                    "--secret-env",
                    "NEW",
                    "--alg",
                    "HS512",
                ],
                "{}",
            );
            assert!(
                matches!(&got, Err(CliError::Usage(m)) if m.contains("--alg")),
                "{command} {format}: {got:?}"
            );
        }
        let got = run(
            &[
                command,
                "--format",
                "jws",
                "--secret-env",
                "NEW",
                "--alg",
                "HS256",
            ],
            r#"{"id":"1"}"#,
        );
        assert!(got.is_ok(), "{command} jws: {got:?}");
    }
}
