//! Black-box tests of the `authcore` binary: output, exit codes and error lines.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use std::io::Write as _;
use std::process::{Command, Output, Stdio};

const SECRET: &str = "cli-test-secret-cli-test-secret-0123456789";

fn authcore(args: &[&str], stdin: &str, envs: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_authcore"));
    cmd.args(args)
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

fn text(b: &[u8]) -> String {
    String::from_utf8(b.to_vec()).unwrap()
}

fn encode(claims: &str, extra: &[&str]) -> String {
    let mut args = vec!["encode", "--secret-env", "S", "--now", "1700000000"];
    args.extend_from_slice(extra);
    let out = authcore(&args, claims, &[("S", SECRET)]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stdout).trim_end().to_owned()
}

#[test]
fn encode_then_decode_round_trips() {
    let token = encode(
        r#"{"sub":"42","name":"Ada \"the\" Countess","big":18446744073709551615}"#,
        &["--expires-in", "3600", "--kid", "k1"],
    );
    assert_eq!(token.split('.').count(), 3);
    let out = authcore(
        &["decode", "--secret-env", "S", "--now", "1700000100", &token],
        "",
        &[("S", SECRET)],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["header"]["alg"], "HS256");
    assert_eq!(v["header"]["kid"], "k1");
    assert_eq!(v["claims"]["name"], "Ada \"the\" Countess");
    assert_eq!(v["claims"]["exp"], 1_700_003_600);
    assert_eq!(v["claims"]["iat"], 1_700_000_000);
    // Numbers beyond 2^53 survive exactly.
    assert_eq!(v["claims"]["big"].to_string(), "18446744073709551615");
    // The token may come on stdin, with the newline echo adds.
    let out = authcore(
        &["decode", "--secret-env", "S", "--now", "1700000100"],
        &format!("{token}\n"),
        &[("S", SECRET)],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
}

#[test]
fn invalid_tokens_exit_1_with_one_error_line() {
    let token = encode(r#"{"sub":"42"}"#, &["--expires-in", "60"]);
    let expired = authcore(
        &[
            "decode",
            "--secret-env",
            "S",
            "--now",
            "1700000100",
            "--leeway",
            "0",
            &token,
        ],
        "",
        &[("S", SECRET)],
    );
    assert_eq!(expired.status.code(), Some(1));
    let err = text(&expired.stderr);
    assert!(err.starts_with("error: expired: "), "{err}");
    assert_eq!(err.lines().count(), 1);
    assert!(expired.stdout.is_empty());

    let other = "another-secret-another-secret-0123456789";
    let wrong = authcore(
        &["decode", "--secret-env", "S", "--now", "1700000000", &token],
        "",
        &[("S", other)],
    );
    assert_eq!(wrong.status.code(), Some(1));
    assert!(text(&wrong.stderr).starts_with("error: bad_signature: "));
    assert!(!text(&wrong.stderr).contains(other), "secret printed");

    let mismatch = authcore(
        &[
            "decode",
            "--secret-env",
            "S",
            "--alg",
            "HS512",
            "--now",
            "1700000000",
            &token,
        ],
        "",
        &[("S", &SECRET.repeat(2))],
    );
    assert!(text(&mismatch.stderr).starts_with("error: alg_mismatch: "));

    let garbage = authcore(
        &["decode", "--secret-env", "S", "a.b"],
        "",
        &[("S", SECRET)],
    );
    assert_eq!(garbage.status.code(), Some(1));
    assert!(text(&garbage.stderr).starts_with("error: malformed: "));
}

#[test]
fn usage_errors_exit_2() {
    let no_secret = authcore(&["decode", "x.y.z"], "", &[]);
    assert_eq!(no_secret.status.code(), Some(2));
    let unset = authcore(
        &["decode", "--secret-env", "NOPE_NOT_SET", "x.y.z"],
        "",
        &[],
    );
    assert_eq!(unset.status.code(), Some(2));
    let bad_flag = authcore(&["decode", "--secret", SECRET], "", &[]);
    assert_eq!(
        bad_flag.status.code(),
        Some(2),
        "secrets are never plain arguments"
    );
    let not_json = authcore(&["encode", "--secret-env", "S"], "[1]", &[("S", SECRET)]);
    assert_eq!(not_json.status.code(), Some(2));
}

#[test]
fn weak_secret_is_refused() {
    let out = authcore(&["encode", "--secret-env", "S"], "{}", &[("S", "short")]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).starts_with("error: weak_key: "));
}

#[test]
fn secret_files_and_encodings_are_exact() {
    let dir = std::env::temp_dir().join(format!("authcore-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // A trailing newline is part of the secret: no trimming.
    let with_newline = dir.join("secret-nl");
    std::fs::write(&with_newline, format!("{SECRET}\n")).unwrap();
    let hex = dir.join("secret-hex");
    let hex_text: String = format!("{SECRET}\n")
        .bytes()
        .map(|b| format!("{b:02x}"))
        .collect();
    std::fs::write(&hex, hex_text).unwrap();
    let p1 = with_newline.to_str().unwrap();
    let p2 = hex.to_str().unwrap();

    let out = authcore(&["encode", "--secret-file", p1], r#"{"a":1}"#, &[]);
    assert!(out.status.success());
    let token = text(&out.stdout).trim_end().to_owned();
    let ok = authcore(
        &[
            "decode",
            "--secret-file",
            p2,
            "--secret-encoding",
            "hex",
            &token,
        ],
        "",
        &[],
    );
    assert!(ok.status.success(), "{}", text(&ok.stderr));
    let trimmed = authcore(
        &["decode", "--secret-env", "S", &token],
        "",
        &[("S", SECRET)],
    );
    assert_eq!(trimmed.status.code(), Some(1), "the newline must matter");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn dangerous_skip_verify_only_inspects() {
    let token = encode(r#"{"sub":"42"}"#, &[]);
    let out = authcore(&["decode", "--dangerous-skip-verify", &token], "", &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["claims"]["sub"], "42");
}

fn vectors(file: &str) -> Vec<serde_json::Value> {
    let path = format!(
        "{}/../tests/tests/vectors/{file}",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn first_secret(v: &serde_json::Value) -> String {
    match &v["secret"] {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Array(a) => a[0].as_str().unwrap().to_owned(),
        other => panic!("secret {other}"),
    }
}

#[test]
fn decode_reads_every_valid_authjs_and_nextauth_vector() {
    for (file, format) in [
        ("authjs-v5.json", "authjs"),
        ("nextauth-v4.json", "nextauth-v4"),
    ] {
        for v in vectors(file).iter().filter(|v| v["valid"] == true) {
            let name = v["name"].as_str().unwrap();
            let mut args: Vec<String> = vec!["decode".into(), "--format".into(), format.into()];
            let secrets: Vec<String> = match &v["secret"] {
                serde_json::Value::Array(a) => {
                    a.iter().map(|s| s.as_str().unwrap().to_owned()).collect()
                }
                s => vec![s.as_str().unwrap().to_owned()],
            };
            let mut envs = Vec::new();
            for (i, s) in secrets.iter().enumerate() {
                let var = format!("S{i}");
                args.push("--secret-env".into());
                args.push(var.clone());
                envs.push((var, s.clone()));
            }
            if let Some(salt) = v["salt"].as_str().filter(|s| !s.is_empty()) {
                args.push("--salt".into());
                args.push(salt.into());
            }
            args.push("--now".into());
            args.push(v["now"].to_string());
            args.push(v["token"].as_str().unwrap().into());
            let env_refs: Vec<(&str, &str)> =
                envs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            let arg_refs: Vec<&str> = args.iter().map(String::as_str).collect();
            let out = authcore(&arg_refs, "", &env_refs);
            assert!(out.status.success(), "{name}: {}", text(&out.stderr));
            let got: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            assert_eq!(got["claims"], v["claims"], "{name}");
        }
    }
}

#[test]
fn session_prints_what_the_endpoint_answers() {
    let v = vectors("authjs-v5.json")
        .into_iter()
        .find(|v| {
            v["valid"] == true && v["salt"] == "authjs.session-token" && v["secret"].is_string()
        })
        .unwrap();
    let secret = first_secret(&v);
    let now = v["now"].as_i64().unwrap();
    let cookie = format!(
        "theme=dark; authjs.session-token={}",
        v["token"].as_str().unwrap()
    );
    let out = authcore(
        &[
            "session",
            "--format",
            "authjs",
            "--secret-env",
            "S",
            "--now",
            &now.to_string(),
        ],
        &cookie,
        &[("S", &secret)],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let got: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(got["session"]["user"]["email"], v["claims"]["email"]);
    assert_eq!(got["session"]["user"]["image"], v["claims"]["picture"]);
    let set = got["set_cookie"].as_array().unwrap();
    assert_eq!(set.len(), 1);
    assert!(set[0]
        .as_str()
        .unwrap()
        .starts_with("authjs.session-token=eyJhbGciOiJkaXIi"));
    // Expired: no session, the cookie is deleted.
    let later = (now + 31 * 24 * 3600).to_string();
    let out = authcore(
        &[
            "session",
            "--format",
            "authjs",
            "--secret-env",
            "S",
            "--now",
            &later,
        ],
        &cookie,
        &[("S", &secret)],
    );
    let got: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(got["session"], serde_json::Value::Null);
    assert_eq!(
        got["set_cookie"][0],
        "authjs.session-token=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax"
    );
}
