//! `authcore refresh` against the test token server: output, exit codes and error lines.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

mod common;

use std::io::Write as _;
use std::process::{Command, Output, Stdio};

use common::{Fault, TokenServer};

fn refresh(args: &[&str], envs: &[(&str, &str)], stdin: &str) -> Output {
    refresh_to(args, envs, stdin, Stdio::piped())
}

/// [`refresh`] with stdout going to `stdout`.
fn refresh_to(args: &[&str], envs: &[(&str, &str)], stdin: &str, stdout: Stdio) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_authcore"));
    cmd.arg("refresh")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(stdout)
        .stderr(Stdio::piped());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn args<'a>(url: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec![
        "--token-endpoint",
        url,
        "--client-id",
        "app",
        "--client-secret-env",
        "CLIENT_SECRET",
    ];
    v.extend_from_slice(extra);
    v
}

fn stderr_line(out: &Output) -> String {
    let err = String::from_utf8(out.stderr.clone()).unwrap();
    assert_eq!(err.lines().count(), 1, "one stderr line: {err:?}");
    err.trim_end().to_owned()
}

#[test]
fn prints_the_rotated_set() {
    let server = TokenServer::start();
    let (_, rt) = server.sign_in();
    let url = server.token_url();
    let before = authcore_std::clock::unix_now();
    let out = refresh(
        &args(&url, &["--refresh-token-env", "RT"]),
        &[("CLIENT_SECRET", "s3cret"), ("RT", &rt)],
        "",
    );
    assert!(out.status.success(), "{out:?}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let obj = v.as_object().unwrap();
    assert_eq!(
        obj.keys().collect::<Vec<_>>(),
        [
            "access_token",
            "refresh_token",
            "expires_at",
            "token_type",
            "scope"
        ]
    );
    assert!(v["access_token"].as_str().unwrap().starts_with("at-"));
    let new_rt = v["refresh_token"].as_str().unwrap();
    assert_ne!(new_rt, rt);
    assert!(server.is_live_refresh(new_rt));
    let exp = v["expires_at"].as_i64().unwrap();
    assert!(exp >= before + 3600 && exp <= authcore_std::clock::unix_now() + 3600);
    assert_eq!(v["token_type"], "Bearer");
    assert_eq!(v["scope"], "openid offline_access");
    assert_eq!(server.requests(), 1);
}

#[test]
fn post_auth_stdin_token_and_no_rotation_keeps_the_old_refresh_token() {
    let server = TokenServer::start();
    server.state.lock().unwrap().rotate = false;
    let (_, rt) = server.sign_in();
    let url = server.token_url();
    let out = refresh(
        &args(&url, &["--auth", "post", "--refresh-token-stdin"]),
        &[("CLIENT_SECRET", "s3cret")],
        &format!("{rt}\n"),
    );
    assert!(out.status.success(), "{out:?}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["refresh_token"], rt.as_str());
}

#[test]
fn invalid_grant_is_the_kind() {
    let server = TokenServer::start();
    let url = server.token_url();
    let out = refresh(
        &args(&url, &["--refresh-token-env", "RT"]),
        &[("CLIENT_SECRET", "s3cret"), ("RT", "not-a-live-token")],
        "",
    );
    assert_eq!(out.status.code(), Some(1));
    let line = stderr_line(&out);
    assert!(line.starts_with("error: invalid_grant: "), "{line}");
    assert!(out.stdout.is_empty());
}

#[test]
fn invalid_client_is_the_kind_and_the_secret_is_not_printed() {
    let server = TokenServer::start();
    let (_, rt) = server.sign_in();
    let url = server.token_url();
    let out = refresh(
        &args(&url, &["--refresh-token-env", "RT"]),
        &[("CLIENT_SECRET", "WRONG-CANARY-SECRET"), ("RT", &rt)],
        "",
    );
    assert_eq!(out.status.code(), Some(1));
    let line = stderr_line(&out);
    assert!(line.starts_with("error: invalid_client: "), "{line}");
    assert!(!line.contains("CANARY") && !line.contains(&rt));
    assert!(server.is_live_refresh(&rt));
}

#[test]
fn exhausted_transient_retries_are_unavailable() {
    let server = TokenServer::start();
    let (_, rt) = server.sign_in();
    for _ in 0..5 {
        server.push_fault(Fault::Status(503, "{}", None));
    }
    let url = server.token_url();
    let out = refresh(
        &args(&url, &["--refresh-token-env", "RT", "--max-retries", "1"]),
        &[("CLIENT_SECRET", "s3cret"), ("RT", &rt)],
        "",
    );
    assert_eq!(out.status.code(), Some(1));
    let line = stderr_line(&out);
    assert!(line.starts_with("error: unavailable: "), "{line}");
    assert_eq!(server.requests(), 2);
    assert!(server.is_live_refresh(&rt));
}

#[test]
fn unusable_success_response_is_bad_response() {
    let server = TokenServer::start();
    let (_, rt) = server.sign_in();
    server.push_fault(Fault::Status(200, r#"{"token_type":"Bearer"}"#, None));
    let url = server.token_url();
    let out = refresh(
        &args(&url, &["--refresh-token-env", "RT"]),
        &[("CLIENT_SECRET", "s3cret"), ("RT", &rt)],
        "",
    );
    assert_eq!(out.status.code(), Some(1));
    let line = stderr_line(&out);
    assert!(line.starts_with("error: bad_response: "), "{line}");
}

#[test]
fn usage_errors_exit_2() {
    type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)]);
    let cases: &[Case<'_>] = &[
        // Plain http to a non-loopback host.
        (
            &[
                "--token-endpoint",
                "http://auth.example.com/token",
                "--client-id",
                "app",
                "--client-secret-env",
                "S",
                "--refresh-token-env",
                "RT",
            ],
            &[("S", "x"), ("RT", "y")],
        ),
        // No client secret.
        (
            &[
                "--token-endpoint",
                "http://127.0.0.1:9/token",
                "--client-id",
                "app",
                "--refresh-token-env",
                "RT",
            ],
            &[("RT", "y")],
        ),
        // Refresh token variable unset.
        (
            &[
                "--token-endpoint",
                "http://127.0.0.1:9/token",
                "--client-id",
                "app",
                "--client-secret-env",
                "S",
                "--refresh-token-env",
                "UNSET_RT_VAR",
            ],
            &[("S", "x")],
        ),
        // Two refresh token sources.
        (
            &[
                "--token-endpoint",
                "http://127.0.0.1:9/token",
                "--client-id",
                "app",
                "--client-secret-env",
                "S",
                "--refresh-token-env",
                "RT",
                "--refresh-token-stdin",
            ],
            &[("S", "x"), ("RT", "y")],
        ),
    ];
    for (a, envs) in cases {
        let out = refresh(a, envs, "");
        assert_eq!(out.status.code(), Some(2), "{a:?}: {out:?}");
        let line = stderr_line(&out);
        assert!(line.starts_with("error: usage: "), "{line}");
    }
    let out = refresh(
        &[
            "--token-endpoint",
            "http://auth.example.com/token",
            "--client-id",
            "app",
            "--client-secret-env",
            "S",
            "--refresh-token-env",
            "RT",
        ],
        &[("S", "x"), ("RT", "y")],
        "",
    );
    assert!(stderr_line(&out).contains("https://"));
}

/// The stderr line of a refresh whose result could not be written: it says so, and never
/// carries a token.
fn assert_lost_set_line(out: &Output, old_rt: &str) {
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let line = stderr_line(out);
    assert!(
        line.starts_with("error: io: cannot write the new token set to stdout: "),
        "{line}"
    );
    assert!(
        line.contains("the old refresh token may no longer work"),
        "{line}"
    );
    assert!(!line.contains("rt-") && !line.contains("at-") && !line.contains(old_rt));
    assert!(!line.contains("panicked"), "{line}");
}

#[cfg(target_os = "linux")]
#[test]
fn stdout_on_a_full_disk_reports_the_lost_set_without_panicking() {
    let server = TokenServer::start();
    let (_, rt) = server.sign_in();
    let url = server.token_url();
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let out = refresh_to(
        &args(&url, &["--refresh-token-env", "RT"]),
        &[("CLIENT_SECRET", "s3cret"), ("RT", &rt)],
        "",
        Stdio::from(full),
    );
    assert_lost_set_line(&out, &rt);
    // The server did rotate: this is the case the message is for.
    assert_eq!(server.requests(), 1);
    assert!(!server.is_live_refresh(&rt));
}

#[test]
fn stdout_to_a_closed_pipe_reports_the_lost_set() {
    let server = TokenServer::start();
    let (_, rt) = server.sign_in();
    let url = server.token_url();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_authcore"));
    cmd.arg("refresh")
        .args(args(&url, &["--refresh-token-stdin"]))
        .env("CLIENT_SECRET", "s3cret")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    // Close the read end before the tool has its refresh token, so its write must fail.
    drop(child.stdout.take());
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{rt}\n").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_lost_set_line(&out, &rt);
    assert!(!server.is_live_refresh(&rt));
}

#[test]
fn out_writes_the_set_to_a_file_atomically() {
    let server = TokenServer::start();
    let (_, rt) = server.sign_in();
    let url = server.token_url();
    let dir = common::temp_dir("refresh-out");
    let target = dir.path().join("tokens.json");
    // An existing file is replaced (not appended to, and its mode is not kept).
    std::fs::write(&target, "old content that is longer than nothing").unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let target_arg = target.to_str().unwrap();
    let out = refresh(
        &args(&url, &["--refresh-token-env", "RT", "--out", target_arg]),
        &[("CLIENT_SECRET", "s3cret"), ("RT", &rt)],
        "",
    );
    assert!(out.status.success(), "{out:?}");
    assert!(out.stdout.is_empty(), "nothing is printed with --out");
    assert!(out.stderr.is_empty());
    let text = std::fs::read_to_string(&target).unwrap();
    assert!(text.ends_with("}\n"), "{text}");
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let new_rt = v["refresh_token"].as_str().unwrap();
    assert_ne!(new_rt, rt);
    assert!(server.is_live_refresh(new_rt));
    assert!(v["access_token"].as_str().unwrap().starts_with("at-"));
    assert_eq!(v["token_type"], "Bearer");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&target).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    }
    // No temporary file is left behind.
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["tokens.json"]);
}

#[cfg(unix)]
#[test]
fn a_temporary_file_left_by_a_killed_run_does_not_block_out() {
    // A killed run leaves its temporary file; the next run may get the same pid (pid 1 in a
    // container, or reuse). `sh` creates the leftover under its own pid, then becomes the tool
    // with `exec`, keeping that pid.
    let server = TokenServer::start();
    let (_, rt) = server.sign_in();
    let url = server.token_url();
    let dir = common::temp_dir("refresh-out-leftover");
    let target = dir.path().join("tokens.json");
    let mut argv = vec!["refresh".to_owned()];
    argv.extend(
        args(&url, &["--refresh-token-env", "RT", "--out"])
            .iter()
            .map(|a| (*a).to_owned()),
    );
    argv.push(target.to_str().unwrap().to_owned());
    let out = Command::new("sh")
        .arg("-c")
        .arg(r#"cd "$1" && shift && : > ".tokens.json.tmp-$$" && : > ".tokens.json.tmp-$$-0" && exec "$@""#)
        .arg("sh")
        .arg(dir.path())
        .arg(env!("CARGO_BIN_EXE_authcore"))
        .args(&argv)
        .env("CLIENT_SECRET", "s3cret")
        .env("RT", &rt)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&target).unwrap()).unwrap();
    assert!(server.is_live_refresh(v["refresh_token"].as_str().unwrap()));
    // The leftovers are someone else's: left alone.
    let mut names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names.len(), 3, "{names:?}");
    assert!(
        names
            .iter()
            .filter(|n| n.starts_with(".tokens.json.tmp-"))
            .count()
            == 2
    );
}

#[test]
fn out_that_cannot_be_created_fails_before_the_grant() {
    let server = TokenServer::start();
    let (_, rt) = server.sign_in();
    let url = server.token_url();
    let dir = common::temp_dir("refresh-out-bad");
    let missing = dir.path().join("no-such-dir").join("tokens.json");
    let a_dir = dir.path().to_str().unwrap().to_owned();
    for target in [missing.to_str().unwrap(), &a_dir] {
        let out = refresh(
            &args(&url, &["--refresh-token-env", "RT", "--out", target]),
            &[("CLIENT_SECRET", "s3cret"), ("RT", &rt)],
            "",
        );
        assert_eq!(out.status.code(), Some(2), "{target}: {out:?}");
        let line = stderr_line(&out);
        assert!(line.starts_with("error: usage: --out "), "{line}");
    }
    // The server was never asked: the refresh token is still good.
    assert_eq!(server.requests(), 0);
    assert!(server.is_live_refresh(&rt));
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn out_after_a_failed_grant_leaves_nothing() {
    let server = TokenServer::start();
    let url = server.token_url();
    let dir = common::temp_dir("refresh-out-fail");
    let target = dir.path().join("tokens.json");
    let out = refresh(
        &args(
            &url,
            &[
                "--refresh-token-env",
                "RT",
                "--out",
                target.to_str().unwrap(),
            ],
        ),
        &[("CLIENT_SECRET", "s3cret"), ("RT", "not-a-live-token")],
        "",
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr_line(&out).starts_with("error: invalid_grant: "));
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

/// The JSON written for a refused answer whose rotated refresh token was kept.
fn kept_token_json(rt: &str) -> serde_json::Value {
    serde_json::json!({
        "access_token": null,
        "refresh_token": rt,
        "expires_at": null,
        "token_type": null,
        "scope": null,
    })
}

#[test]
fn a_rotated_refresh_token_in_a_refused_success_is_written_out() {
    // The server spends the old refresh token and answers 200 with a rotated one, in a body the
    // adapter refuses (a `token_type` other than Bearer; an `expires_in` that is no number).
    // The tool's store is in memory and dies with the process: the rotated token must reach
    // the user where a set would have gone (standard output, or --out), with exit 1.
    for body in [
        r#"{"access_token":"at-x","token_type":"DPoP","expires_in":3600,"refresh_token":"rt-rotated-42"}"#,
        r#"{"access_token":"at-x","token_type":"Bearer","expires_in":"soon","refresh_token":"rt-rotated-42"}"#,
    ] {
        for to_file in [false, true] {
            let server = TokenServer::start();
            let (_, rt) = server.sign_in();
            server.push_fault(Fault::SpendAndAnswer(body));
            let dir = common::temp_dir("refresh-out-kept");
            let target = dir.path().join("tokens.json");
            let mut extra = vec!["--refresh-token-env", "RT"];
            if to_file {
                extra.extend(["--out", target.to_str().unwrap()]);
            }
            let out = refresh(
                &args(&server.token_url(), &extra),
                &[("CLIENT_SECRET", "s3cret"), ("RT", &rt)],
                "",
            );
            // The old token was spent by the server.
            assert!(!server.is_live_refresh(&rt));
            assert_eq!(out.status.code(), Some(1), "{body} {to_file}: {out:?}");
            let written = if to_file {
                assert!(out.stdout.is_empty(), "{out:?}");
                std::fs::read(&target).unwrap()
            } else {
                assert!(!target.exists());
                out.stdout.clone()
            };
            let v: serde_json::Value = serde_json::from_slice(&written)
                .unwrap_or_else(|e| panic!("{body} {to_file}: {e}: {out:?}"));
            assert_eq!(v, kept_token_json("rt-rotated-42"), "{body} {to_file}");
            let line = stderr_line(&out);
            assert!(line.starts_with("error: bad_response: "), "{line}");
            assert!(line.contains("rotated the refresh token"), "{line}");
            let place = if to_file {
                target.display().to_string()
            } else {
                "standard output".to_owned()
            };
            assert!(line.contains(&place), "{line}");
            // Never on standard error.
            assert!(!line.contains("rt-rotated-42"), "{line}");
        }
    }
}

#[test]
fn a_refused_success_without_a_rotated_refresh_token_writes_nothing() {
    // Nothing was kept: no token set to write, as for any failure.
    let server = TokenServer::start();
    let (_, rt) = server.sign_in();
    server.push_fault(Fault::SpendAndAnswer(
        r#"{"access_token":"at-x","token_type":"DPoP","expires_in":3600}"#,
    ));
    let out = refresh(
        &args(&server.token_url(), &["--refresh-token-env", "RT"]),
        &[("CLIENT_SECRET", "s3cret"), ("RT", &rt)],
        "",
    );
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(out.stdout.is_empty(), "{out:?}");
    let line = stderr_line(&out);
    assert!(line.starts_with("error: bad_response: "), "{line}");
    assert!(!line.contains("rotated"), "{line}");
}

#[cfg(unix)]
#[test]
fn out_with_a_trailing_slash_fails_before_the_grant() {
    // "a temporary file is created next to FILE ... before the server is asked, so an
    // unwritable place fails early with a usage error" (the module docs): a path that can
    // only name a directory, or whose parent is a file, is such a place.
    let server = TokenServer::start();
    let (_, rt) = server.sign_in();
    let dir = common::temp_dir("refresh-out-slash");
    let a_file = dir.path().join("a-file");
    std::fs::write(&a_file, "x").unwrap();
    let d = dir.path().display();
    for target in [
        format!("{d}/tokens.json/"),
        format!("{d}/tokens.json/."),
        format!("{d}/a-file/"),
        format!("{d}/a-file/tokens.json"),
    ] {
        let out = refresh(
            &args(
                &server.token_url(),
                &["--refresh-token-env", "RT", "--out", &target],
            ),
            &[("CLIENT_SECRET", "s3cret"), ("RT", &rt)],
            "",
        );
        assert_eq!(
            (out.status.code(), server.requests()),
            (Some(2), 0),
            "{target}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let line = stderr_line(&out);
        assert!(line.starts_with("error: usage: --out "), "{line}");
    }
    assert!(server.is_live_refresh(&rt));
    // Nothing created; the file is untouched.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    assert_eq!(std::fs::read_to_string(&a_file).unwrap(), "x");
}

#[cfg(target_os = "linux")]
#[test]
fn a_rotated_refresh_token_that_cannot_be_printed_is_reported_lost() {
    let server = TokenServer::start();
    let (_, rt) = server.sign_in();
    server.push_fault(Fault::SpendAndAnswer(
        r#"{"access_token":"at-x","token_type":"DPoP","expires_in":3600,"refresh_token":"rt-rotated-42"}"#,
    ));
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let out = refresh_to(
        &args(&server.token_url(), &["--refresh-token-env", "RT"]),
        &[("CLIENT_SECRET", "s3cret"), ("RT", &rt)],
        "",
        Stdio::from(full),
    );
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let line = stderr_line(&out);
    assert!(
        line.starts_with("error: io: cannot write the rotated refresh token to stdout: "),
        "{line}"
    );
    assert!(
        line.contains("the old refresh token may no longer work") && line.contains("bad_response"),
        "{line}"
    );
    assert!(
        !line.contains("rt-") && !line.contains(&rt) && !line.contains("panicked"),
        "{line}"
    );
}

/// The `kind` of the error line is the tool's contract for scripts (`unavailable`: transient
/// retries exhausted; `io`: the result could not be written...). A server's OAuth `error` code
/// is the kind only when RFC 6749 §5.2 registers it; any other code is `oauth_error`, the code
/// in the message, so a terminal 400 `{"error":"unavailable"}` does not read as "try again
/// later", nor `{"error":"io"}` as "the new set was lost".
#[test]
fn a_server_error_code_never_poses_as_a_tool_kind() {
    // The stderr line of a refresh answered with a terminal 400 carrying `code`.
    let refused_with = |code: &str| {
        let server = TokenServer::start();
        let (_, rt) = server.sign_in();
        let body: &'static str = Box::leak(format!(r#"{{"error":"{code}"}}"#).into_boxed_str());
        server.push_fault(Fault::Status(400, body, None));
        let out = refresh(
            &args(&server.token_url(), &["--refresh-token-env", "RT"]),
            &[("CLIENT_SECRET", "s3cret"), ("RT", &rt)],
            "",
        );
        assert_eq!(out.status.code(), Some(1));
        let line = stderr_line(&out);
        assert_eq!(server.requests(), 1, "a 400 is terminal: {line}");
        line
    };
    for code in [
        "unavailable",
        "io",
        "bad_response",
        "usage",
        "invalid_target",
    ] {
        let line = refused_with(code);
        assert!(
            line.starts_with("error: oauth_error: ") && line.contains(&format!("error {code} ")),
            "{code}: {line}"
        );
    }
    // The registered codes are the kind.
    for code in [
        "invalid_request",
        "invalid_client",
        "invalid_grant",
        "unauthorized_client",
        "unsupported_grant_type",
        "invalid_scope",
    ] {
        let line = refused_with(code);
        assert!(line.starts_with(&format!("error: {code}: ")), "{line}");
    }
}
