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
    authcore_with(args, stdin, envs, Stdio::piped(), Stdio::piped())
}

/// [`authcore`] with stdout and stderr going to the given places.
fn authcore_with(
    args: &[&str],
    stdin: &str,
    envs: &[(&str, &str)],
    stdout: Stdio,
    stderr: Stdio,
) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_authcore"));
    cmd.args(args)
        .stdin(Stdio::piped())
        .stdout(stdout)
        .stderr(stderr);
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    // The tool stops reading stdin after 1 MiB: the rest of a larger input meets a closed pipe.
    match child.stdin.take().unwrap().write_all(stdin.as_bytes()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        written => written.unwrap(),
    }
    child.wait_with_output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8(b.to_vec()).unwrap()
}

/// Asserts that `out` is a failed operation of `kind` (exit 1, one line
/// `error: <kind>: ...` on stderr, nothing on stdout); `context` labels the assertion.
fn assert_failed(out: &Output, kind: &str, context: &str) {
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{context}: {err}");
    assert!(
        err.starts_with(&format!("error: {kind}: ")),
        "{context}: {err}"
    );
    assert_eq!(err.lines().count(), 1, "{context}: {err}");
    assert!(out.stdout.is_empty(), "{context}: {}", text(&out.stdout));
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

/// The claims of the session token in `sign-in`'s first `Set-Cookie` (JWS format).
fn sign_in_claims(user: &str) -> Result<serde_json::Value, (Option<i32>, String)> {
    let out = authcore(
        &[
            "sign-in",
            "--format",
            "jws",
            "--secret-env",
            "S",
            "--now",
            "1700000000",
        ],
        user,
        &[("S", SECRET)],
    );
    if !out.status.success() {
        return Err((out.status.code(), text(&out.stderr)));
    }
    let got: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let cookie = got["set_cookie"][0].as_str().unwrap();
    let token = cookie
        .strip_prefix("authjs.session-token=")
        .unwrap()
        .split(';')
        .next()
        .unwrap();
    let out = authcore(
        &["decode", "--secret-env", "S", "--now", "1700000000", token],
        "",
        &[("S", SECRET)],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    Ok(v["claims"].clone())
}

#[test]
fn sign_in_stringifies_the_user_id_as_auth_js_does() {
    // `sub: user.id?.toString()` (AUTHJS.md §2.1), JavaScript numbers being doubles.
    for (id, sub) in [
        (r#""abc""#, "abc"),
        ("42", "42"),
        ("-7", "-7"),
        ("0", "0"),
        ("-0", "0"),
        ("4.2e1", "42"),
        ("42.0", "42"),
        ("9007199254740991", "9007199254740991"),
        ("-9007199254740991", "-9007199254740991"),
    ] {
        let claims = sign_in_claims(&format!(r#"{{"id":{id},"name":"Ada"}}"#)).unwrap();
        assert_eq!(claims["sub"], sub, "id {id}");
        assert_eq!(claims["name"], "Ada");
    }
    // `null?.toString()` is undefined: no `sub`, as without an id.
    for user in [r#"{"id":null,"name":"Ada"}"#, r#"{"name":"Ada"}"#] {
        let claims = sign_in_claims(user).unwrap();
        assert!(claims.get("sub").is_none(), "{user}: {claims}");
        assert_eq!(claims["name"], "Ada");
    }
}

#[test]
fn sign_in_refuses_ids_javascript_would_mangle() {
    // Beyond 2^53 - 1 JavaScript rounds (2^64 - 1 -> "18446744073709552000"); fractions,
    // booleans, objects and arrays are not ids.
    for id in [
        "9007199254740992",
        "18446744073709551615",
        "-9007199254740993",
        "1.5",
        "1e400",
        "true",
        "{}",
        r#"{"n":1}"#,
        "[1]",
    ] {
        let (code, err) = sign_in_claims(&format!(r#"{{"id":{id},"name":"Ada"}}"#)).unwrap_err();
        assert_eq!(code, Some(2), "id {id}: {err}");
        assert!(
            err.starts_with("error: usage: user \"id\" must be a string or a safe integer"),
            "id {id}: {err}"
        );
        assert_eq!(err.lines().count(), 1, "{err}");
    }
}

#[test]
fn sign_in_takes_a_user_object_with_string_fields() {
    // Strings and null (read as absent) are taken.
    let claims =
        sign_in_claims(r#"{"id":"u1","name":"Ada","email":null,"image":"https://x/a.png"}"#)
            .unwrap();
    assert_eq!(claims["name"], "Ada");
    assert!(claims.get("email").is_none(), "{claims}");
    assert_eq!(claims["picture"], "https://x/a.png");
    // Anything else is a usage error, not a field silently left out of the token.
    for (field, value, kind) in [
        ("name", "42", "a number"),
        ("email", "true", "a boolean"),
        ("image", r#"["a"]"#, "an array"),
        ("name", r#"{"first":"Ada"}"#, "an object"),
    ] {
        let user = format!(r#"{{"id":"u1","{field}":{value}}}"#);
        let (code, err) = sign_in_claims(&user).unwrap_err();
        assert_eq!(code, Some(2), "{user}: {err}");
        assert_eq!(
            err.trim_end(),
            format!("error: usage: user \"{field}\" must be a string or null, not {kind}"),
            "{user}"
        );
    }
    // The input must be an object: before, an array or a string signed in an empty user.
    for (input, kind) in [
        (r#"["Ada"]"#, "an array"),
        (r#""Ada""#, "a string"),
        ("42", "a number"),
        ("null", "null"),
    ] {
        let (code, err) = sign_in_claims(input).unwrap_err();
        assert_eq!(code, Some(2), "{input}: {err}");
        assert_eq!(
            err.trim_end(),
            format!("error: usage: stdin is not a user JSON object: it is {kind}"),
            "{input}"
        );
    }
}

#[test]
fn hex_secrets_take_only_hex_digits() {
    let encode_with = |hex: &str| {
        authcore(
            &["encode", "--secret-env", "S", "--secret-encoding", "hex"],
            r#"{"a":1}"#,
            &[("S", hex)],
        )
    };
    let good = encode_with(&"0a".repeat(32));
    assert!(good.status.success(), "{}", text(&good.stderr));
    let upper = encode_with(&"0A".repeat(32));
    assert!(upper.status.success(), "{}", text(&upper.stderr));
    // Each pair is two digits: no sign (`u8::from_str_radix` takes `+a` as 0x0a), no blank.
    for bad in [
        "+a".repeat(32),
        "-a".repeat(32),
        " a".repeat(32),
        "a ".repeat(32),
        format!("{}+a", "0a".repeat(31)),
        "zz".repeat(32),
    ] {
        let out = encode_with(&bad);
        assert_eq!(out.status.code(), Some(2), "{bad:?}");
        assert_eq!(
            text(&out.stderr),
            "error: usage: secret is not valid hex\n",
            "{bad:?}"
        );
        assert!(out.stdout.is_empty());
    }
}

/// Runs `authcore` with the secret in `S` and stdout (and optionally stderr) going to the
/// given places.
fn authcore_to(args: &[&str], stdin: &str, stdout: Stdio, stderr: Option<Stdio>) -> Output {
    authcore_with(
        args,
        stdin,
        &[("S", SECRET)],
        stdout,
        stderr.unwrap_or_else(Stdio::piped),
    )
}

#[cfg(target_os = "linux")]
fn dev_full() -> Stdio {
    Stdio::from(
        std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap(),
    )
}

#[cfg(target_os = "linux")]
#[test]
fn output_errors_are_reported_not_panics() {
    let encode = ["encode", "--secret-env", "S", "--now", "1700000000"];
    let token = self::encode(r#"{"sub":"42"}"#, &[]);
    let decode = ["decode", "--secret-env", "S", "--now", "1700000000", &token];
    for (args, stdin) in [
        (&encode[..], r#"{"sub":"42"}"#),
        (&decode[..], ""),
        (&["--help"][..], ""),
        (&["--version"][..], ""),
    ] {
        let out = authcore_to(args, stdin, dev_full(), None);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {out:?}");
        assert_eq!(
            text(&out.stderr),
            "error: io: cannot write to stdout: No space left on device (os error 28)\n",
            "{args:?}"
        );
    }
    // With stderr unwritable too the tool still exits with its code, not a panic's 101.
    let out = authcore_to(&encode, r#"{"sub":"42"}"#, dev_full(), Some(dev_full()));
    assert_eq!(out.status.code(), Some(1));
    let out = authcore_to(
        &["decode", "--secret-env", "S", "a.b"],
        "",
        Stdio::piped(),
        Some(dev_full()),
    );
    assert_eq!(out.status.code(), Some(1));
    let out = authcore_to(&["decode", "x.y.z"], "", Stdio::piped(), Some(dev_full()));
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn stdout_to_a_closed_pipe_is_an_io_error() {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_authcore"));
    cmd.args(["encode", "--secret-env", "S"])
        .env("S", SECRET)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    // The tool writes only after reading all of stdin, so its stdout is closed by then.
    drop(child.stdout.take());
    child
        .stdin
        .take()
        .unwrap()
        .write_all(br#"{"sub":"42"}"#)
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let err = text(&out.stderr);
    assert!(
        err.starts_with("error: io: cannot write to stdout: "),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
}

/// `--help` describes the tool, not the code: without `long_about = None` clap printed the
/// rustdoc of the `Cli` struct (about its `Debug` output) as the long help.
#[test]
fn help_describes_the_tool() {
    for flag in ["-h", "--help"] {
        let out = authcore(&[flag], "", &[]);
        assert!(out.status.success());
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(
            text.starts_with("Encode, decode and inspect Auth.js session tokens"),
            "{flag}: {text}"
        );
        assert!(!text.contains("Debug"), "{flag}: {text}");
    }
}

/// The body without a session is the flavor's: `{}` for next-auth v4, `null` for Auth.js v5
/// (AUTHJS.md §4.1, GET session step 1; `Config::empty_body`). v4 printed `null`.
#[test]
fn session_without_a_session_prints_the_flavors_empty_body() {
    for (format, empty) in [
        ("nextauth-v4", serde_json::json!({})),
        ("authjs", serde_json::Value::Null),
        ("jws", serde_json::Value::Null),
    ] {
        for cookie in [
            "theme=dark",
            "theme=dark; authjs.session-token=x.y.z; next-auth.session-token=x.y.z",
        ] {
            let out = authcore(
                &["session", "--format", format, "--secret-env", "S"],
                cookie,
                &[("S", SECRET)],
            );
            assert!(out.status.success(), "{}", text(&out.stderr));
            let got: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            assert_eq!(got["session"], empty, "{format} {cookie}: {got}");
        }
    }
}

/// `session` prints what the session endpoint answers for any `Cookie` header. A session cookie
/// longer than 8 × 3936 bytes (chunks longer than Auth.js writes, hand-made or from another
/// app) is no valid token: the endpoint answers "no session" and clears the chunks
/// (AUTHJS.md §4.1). It was the tool's own `buffer_too_small`, its token buffer being exactly
/// 8 × 3936 bytes.
#[test]
fn session_with_a_cookie_longer_than_eight_full_chunks_answers_no_session() {
    let chunk = "A".repeat(4000);
    let cookie: Vec<String> = (0..8)
        .map(|i| format!("authjs.session-token.{i}={chunk}"))
        .collect();
    let out = authcore(
        &["session", "--format", "authjs", "--secret-env", "S"],
        &cookie.join("; "),
        &[("S", SECRET)],
    );
    assert!(
        out.status.success(),
        "exit {:?}: {}",
        out.status.code(),
        text(&out.stderr)
    );
    let got: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(got["session"], serde_json::Value::Null);
    assert_eq!(got["set_cookie"].as_array().unwrap().len(), 8);
}

/// The tool reads at most `MAX_INPUT` (1 MiB) of `Cookie` header or sign-in user: more is its
/// own documented `input_too_large`, exit 1, not a buffer error.
#[test]
fn session_and_sign_in_input_over_the_limit_is_input_too_large() {
    let cookie = format!("authjs.session-token={}", "A".repeat(1 << 20));
    let user = format!(r#"{{"id":"1","name":"{}"}}"#, "x".repeat(1 << 20));
    for (command, input) in [("session", cookie), ("sign-in", user)] {
        let out = authcore(
            &[command, "--format", "authjs", "--secret-env", "S"],
            &input,
            &[("S", SECRET)],
        );
        assert_failed(&out, "input_too_large", command);
    }
}

/// A sign-in whose token needs more chunks than a read reassembles is the engine's documented
/// `SessionError::Cookie(TooManyChunks)` ("too_many_chunks"), for every format. Buffers of
/// exactly eight chunks made it the tool's `buffer_too_small`, a buffer the user cannot
/// enlarge.
#[test]
fn sign_in_too_large_for_a_cookie_is_too_many_chunks() {
    let user = format!(r#"{{"id":"1","name":"{}"}}"#, "x".repeat(24_000));
    for format in ["authjs", "nextauth-v4", "jws"] {
        let out = authcore(
            &["sign-in", "--format", format, "--secret-env", "S"],
            &user,
            &[("S", SECRET)],
        );
        assert_failed(&out, "too_many_chunks", format);
    }
}

/// A valid session token whose claims grow when written again (`1e15` is re-issued as
/// `1000000000000000.0`) needs more buffer than its size suggests: the tool grows the buffer the
/// engine names and prints the engine's answer (here: the re-issued token needs more than eight
/// chunks), not `buffer_too_small`.
#[test]
fn session_whose_claims_grow_when_reissued_gets_the_engines_answer() {
    let key = authcore::HmacKey::new(authcore::Algorithm::Hs256, SECRET.as_bytes()).unwrap();
    let numbers = vec!["1e15"; 3800].join(",");
    let payload = format!(r#"{{"name":"a","exp":1800000000,"blob":[{numbers}]}}"#);
    let mut buf = vec![0u8; 64 * 1024];
    let token = authcore::jws::encode_json(
        &key,
        &authcore::jws::Header { kid: None },
        payload.as_bytes(),
        &mut buf,
    )
    .unwrap();
    assert!(token.len() <= authcore::session::MAX_SESSION_TOKEN_LEN);
    let chunks: Vec<String> = token
        .as_bytes()
        .chunks(authcore::cookie::CHUNK_SIZE_V5)
        .enumerate()
        .map(|(i, c)| {
            format!(
                "authjs.session-token.{i}={}",
                std::str::from_utf8(c).unwrap()
            )
        })
        .collect();
    let out = authcore(
        &[
            "session",
            "--format",
            "jws",
            "--secret-env",
            "S",
            "--now",
            "1700000000",
        ],
        &chunks.join("; "),
        &[("S", SECRET)],
    );
    assert_failed(&out, "too_many_chunks", "session");
}

/// A JSON object naming a member twice has two meanings (which user signs in?). `sign-in` and
/// `encode` refuse it as a usage error, at any depth, names compared unescaped; they signed in
/// (or encoded) the last value.
#[test]
fn sign_in_and_encode_refuse_a_duplicated_member() {
    for input in [
        r#"{"id":"alice","id":"bob"}"#,
        r#"{"id":"alice","\u0069d":"bob"}"#,
        r#"{"id":"alice","x":[{"a":1,"a":2}]}"#,
    ] {
        for args in [
            &["sign-in", "--format", "jws", "--secret-env", "S"][..],
            &["encode", "--format", "jws", "--secret-env", "S"][..],
            &["encode", "--format", "authjs", "--secret-env", "S"][..],
            &["encode", "--format", "nextauth-v4", "--secret-env", "S"][..],
        ] {
            let out = authcore(args, input, &[("S", SECRET)]);
            assert_eq!(
                out.status.code(),
                Some(2),
                "{args:?} {input}: stdout: {} stderr: {}",
                text(&out.stdout),
                text(&out.stderr)
            );
            let err = text(&out.stderr);
            assert!(
                err.starts_with("error: usage: ") && err.contains("duplicate member"),
                "{err}"
            );
        }
    }
    // Equal values in different objects are no duplicate.
    let out = authcore(
        &["encode", "--format", "jws", "--secret-env", "S"],
        r#"{"a":{"x":1},"b":{"x":1}}"#,
        &[("S", SECRET)],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
}

/// A session token whose payload names a member twice has two meanings. docs/DIFFERENCES.md
/// ("Duplicate members that are not registered claims"): authcore refuses it and the session
/// ends, as the library's `DefaultCallbacks` do. The tool's free-form JSON token kept the last
/// value: it answered a session for "mallory" and re-issued a cookie without the duplicate.
#[test]
fn session_token_with_a_duplicated_member_ends_the_session() {
    use authcore::session::{Buffers, Config, DefaultCallbacks, Engine, JwsCodec};
    let key = authcore::HmacKey::new(authcore::Algorithm::Hs256, SECRET.as_bytes()).unwrap();
    let jws = |payload: &[u8]| {
        let mut buf = vec![0u8; 1024];
        authcore::jws::encode_json(
            &key,
            &authcore::jws::Header { kid: None },
            payload,
            &mut buf,
        )
        .unwrap()
        .to_owned()
    };
    let session = |token: &str| {
        let out = authcore(
            &[
                "session",
                "--format",
                "jws",
                "--secret-env",
                "S",
                "--now",
                "1700000000",
            ],
            &format!("authjs.session-token={token}"),
            &[("S", SECRET)],
        );
        assert!(out.status.success(), "{}", text(&out.stderr));
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let token = jws(br#"{"name":"alice","name":"mallory","exp":1800000000}"#);
    // The library's own default callbacks end this session.
    let engine = Engine::new(
        Config::new(authcore::cookie::Flavor::AuthJs, false),
        JwsCodec::new(&key),
    );
    let (mut t, mut s, mut b, mut c) = (
        vec![0u8; 8192],
        vec![0u8; 8192],
        vec![0u8; 8192],
        vec![0u8; 8192],
    );
    let r = engine
        .session(
            &mut DefaultCallbacks::<256>,
            format!("authjs.session-token={token}").as_bytes(),
            1_700_000_000_000,
            &mut authcore_std::random::OsRandom,
            Buffers {
                token: &mut t,
                scratch: &mut s,
                body: &mut b,
                cookies: &mut c,
            },
        )
        .unwrap();
    assert!(!r.authenticated, "library: {}", r.body);
    // So does the tool, for a duplicate at any depth.
    for token in [
        token,
        jws(br#"{"name":"alice","x":{"a":1,"a":2},"exp":1800000000}"#),
    ] {
        let got = session(&token);
        assert_eq!(got["session"], serde_json::Value::Null, "{got}");
        assert_eq!(
            got["set_cookie"][0],
            "authjs.session-token=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax"
        );
    }
    // The same claims without the duplicate are a session.
    let got = session(&jws(br#"{"name":"alice","x":{"a":1},"exp":1800000000}"#));
    assert_eq!(got["session"]["user"]["name"], "alice", "{got}");
}

/// `decode` strips the newline `echo` adds (`\n`, or `\r\n`), once; nothing else is trimmed. A
/// token ending in a lone `\r`, or in `\r\r\n`, is refused like any other trailing byte (a
/// trailing space is); both verified.
#[test]
fn decode_strips_one_newline_and_not_a_lone_carriage_return() {
    let token = encode(r#"{"sub":"42"}"#, &[]);
    let decode = |input: &str| {
        authcore(
            &["decode", "--secret-env", "S", "--now", "1700000000"],
            input,
            &[("S", SECRET)],
        )
    };
    for input in [format!("{token}\n"), format!("{token}\r\n")] {
        let out = decode(&input);
        assert!(out.status.success(), "{input:?}: {}", text(&out.stderr));
    }
    for input in [
        format!("{token} "),
        format!("{token}\r"),
        format!("{token}\r\r\n"),
        format!("{token}\n\n"),
    ] {
        let out = decode(&input);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{input:?} accepted: {}",
            text(&out.stdout)
        );
    }
}

/// `decode` refuses `--alg` for an encrypted token and `--salt` for any token but an Auth.js v5
/// one, whether the format was given or detected: they were silently ignored. Exit 2.
#[test]
fn decode_refuses_alg_and_salt_the_token_does_not_use() {
    let jws = encode(r#"{"sub":"42"}"#, &[]);
    let jwe = |format: &str| encode(r#"{"sub":"42"}"#, &["--format", format]);
    let (authjs, v4) = (jwe("authjs"), jwe("nextauth-v4"));
    let decode = |token: &str, extra: &[&str]| {
        let mut args = vec!["decode", "--secret-env", "S", "--now", "1700000000"];
        args.extend_from_slice(extra);
        args.push(token);
        authcore(&args, "", &[("S", SECRET)])
    };
    let salt = ["--salt", "authjs.session-token"];
    for (token, extra, flag) in [
        (&authjs, &["--alg", "HS256"][..], "--alg"),
        (&authjs, &["--alg", "HS512"][..], "--alg"),
        (
            &authjs,
            &["--format", "authjs", "--alg", "HS256"][..],
            "--alg",
        ),
        (&v4, &["--alg", "HS512"][..], "--alg"),
        (&v4, &salt[..], "--salt"),
        (
            &v4,
            &["--format", "nextauth-v4", "--salt", "x"][..],
            "--salt",
        ),
        (&jws, &salt[..], "--salt"),
        (&jws, &["--format", "jws", "--salt", "x"][..], "--salt"),
    ] {
        let out = decode(token, extra);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{extra:?}: {}",
            text(&out.stdout)
        );
        let err = text(&out.stderr);
        assert!(
            err.starts_with("error: usage: ") && err.contains(flag),
            "{extra:?}: {err}"
        );
    }
    // Where they apply they are taken.
    for (token, extra) in [
        (&authjs, &salt[..]),
        (&jws, &["--alg", "HS256"][..]),
        (&jws, &[][..]),
        (&authjs, &[][..]),
        (&v4, &[][..]),
    ] {
        let out = decode(token, extra);
        assert!(out.status.success(), "{extra:?}: {}", text(&out.stderr));
    }
}

/// `decode` prints the verified claims through `serde_json`, which would keep only the last of
/// two members with one name: such a token (at any depth) is `duplicate_member`, exit 1, as
/// the library's typed tokens refuse it.
#[test]
fn decode_refuses_a_token_that_names_a_member_twice() {
    let key = authcore::HmacKey::new(authcore::Algorithm::Hs256, SECRET.as_bytes()).unwrap();
    for payload in [
        &br#"{"name":"alice","name":"mallory"}"#[..],
        br#"{"sub":"42","role":{"admin":false,"\u0061dmin":true}}"#,
    ] {
        let mut buf = vec![0u8; 1024];
        let token = authcore::jws::encode_json(
            &key,
            &authcore::jws::Header { kid: None },
            payload,
            &mut buf,
        )
        .unwrap()
        .to_owned();
        let out = authcore(
            &["decode", "--secret-env", "S", "--now", "1700000000"],
            &token,
            &[("S", SECRET)],
        );
        assert_failed(&out, "duplicate_member", "decode");
    }
    // One name per object is fine, the same name in two objects too.
    let token = encode(r#"{"sub":"42","a":{"x":1},"b":{"x":2}}"#, &[]);
    let out = authcore(
        &["decode", "--secret-env", "S", "--now", "1700000000"],
        &token,
        &[("S", SECRET)],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
}

/// Every command stops reading stdin after 1 MiB (README, `cli::MAX_INPUT`): 64 MiB offered on
/// stdin are not all consumed, the answer is `input_too_large`, and an endless input (here,
/// the writer stops only when the pipe closes) ends too. Before, the binary read all of stdin
/// into memory first and checked the length afterwards.
#[test]
fn every_command_stops_reading_stdin_after_one_mib() {
    for args in [
        &["session", "--format", "jws", "--secret-env", "S"][..],
        &["sign-in", "--format", "jws", "--secret-env", "S"],
        &["decode", "--secret-env", "S"],
        &["encode", "--format", "jws", "--secret-env", "S"],
    ] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_authcore"))
            .args(args)
            .env("S", SECRET)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let writer = std::thread::spawn(move || {
            let block = vec![b'a'; 1 << 20];
            let mut written = 0usize;
            for _ in 0..64 {
                if stdin.write_all(&block).is_err() {
                    break;
                }
                written += block.len();
            }
            written
        });
        let out = child.wait_with_output().unwrap();
        let written = writer.join().unwrap();
        assert_failed(&out, "input_too_large", &format!("{args:?}"));
        assert!(
            written < 64 << 20,
            "{args:?}: all {written} bytes were read"
        );
    }
}

/// `encode --help` offers only the formats `encode` takes: `auto` (decoding only) was listed
/// with its "Detect: ..." text, and then refused.
#[test]
fn encode_help_offers_only_formats_encode_takes() {
    let help = authcore(&["encode", "--help"], "", &[]);
    assert!(help.status.success());
    let help = text(&help.stdout);
    assert!(
        help.contains("[possible values: jws, authjs, nextauth-v4]"),
        "{help}"
    );
    assert!(
        !help.contains("auto:") && !help.contains("Detect"),
        "{help}"
    );
    let out = authcore(
        &["encode", "--format", "auto", "--secret-env", "S"],
        r#"{"sub":"42"}"#,
        &[("S", SECRET)],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    // `decode` still detects.
    let decode = text(&authcore(&["decode", "--help"], "", &[]).stdout);
    assert!(decode.contains("auto"), "{decode}");
}
