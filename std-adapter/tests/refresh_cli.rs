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
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_authcore"));
    cmd.arg("refresh")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
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
