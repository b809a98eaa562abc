//! The end-to-end demo: what authcore does, step by step.
//!
//! For now: sign a session token, verify and read it back without heap, and watch a tampered
//! copy and an expired one get refused. Exits non-zero if any step does not behave as stated.

use std::process::ExitCode;

use authcore::jws::{self, DecodeOptions, Header};
use authcore::{Algorithm, HmacKey};
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct Session<'a> {
    name: &'a str,
    email: &'a str,
    picture: &'a str,
    sub: &'a str,
    iat: i64,
    exp: i64,
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => {
            println!("\nall steps behaved as expected");
            ExitCode::SUCCESS
        }
        Err(step) => {
            eprintln!("\nFAILED: {step}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let now = 1_700_000_000;
    let key = HmacKey::new(Algorithm::Hs256, b"demo secret: 32 bytes or longer!!")
        .map_err(|e| format!("key: {e}"))?;
    println!(
        "1. key built once: {key:?} (the HMAC state is precomputed; the secret is never printed)"
    );

    let claims = Session {
        name: "Ada Lovelace",
        email: "ada@example.com",
        picture: "https://example.com/ada.png",
        sub: "user-1815",
        iat: now,
        exp: now + 30 * 24 * 3600,
    };
    let mut out = [0u8; 1024];
    let token = jws::encode(
        &key,
        &Header {
            kid: Some("2026-11"),
        },
        &claims,
        &mut out,
    )
    .map_err(|e| format!("encode: {e}"))?;
    println!(
        "2. signed a session token of {} bytes into a stack buffer:\n   {token}",
        token.len()
    );

    let mut scratch = [0u8; 2048];
    let decoded: jws::Decoded<'_, Session<'_>> = jws::decode(
        token.as_bytes(),
        &key,
        &DecodeOptions::new(),
        now + 60,
        &mut scratch,
    )
    .map_err(|e| format!("decode: {e}"))?;
    if decoded.claims != claims {
        return Err("decoded claims differ from the encoded ones".into());
    }
    println!(
        "3. verified and decoded (zero copy): name={:?} sub={:?}, expires in {} s",
        decoded.claims.name,
        decoded.claims.sub,
        decoded.claims.exp - (now + 60)
    );

    let mut tampered = token.as_bytes().to_vec();
    let at = tampered.iter().position(|&b| b == b'.').unwrap_or(0) + 5;
    tampered[at] = if tampered[at] == b'A' { b'B' } else { b'A' };
    let mut scratch = [0u8; 2048];
    match jws::decode::<Session<'_>>(
        &tampered,
        &key,
        &DecodeOptions::new(),
        now + 60,
        &mut scratch,
    ) {
        Err(e) if e.kind() == "bad_signature" => {
            println!(
                "4. a token with one payload character changed is refused: {}: {e}",
                e.kind()
            );
        }
        other => {
            return Err(format!(
                "tampered token: expected bad_signature, got {other:?}"
            ))
        }
    }

    let later = claims.exp + 15;
    match jws::decode::<Session<'_>>(
        token.as_bytes(),
        &key,
        &DecodeOptions::new(),
        later,
        &mut scratch,
    ) {
        Err(e) if e.kind() == "expired" => {
            println!(
                "5. the same token 30 days later (past the 15 s leeway) is refused: {}: {e}",
                e.kind()
            );
        }
        other => return Err(format!("expired token: expected expired, got {other:?}")),
    }
    Ok(())
}
