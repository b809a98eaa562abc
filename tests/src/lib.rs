//! Shared helpers for the workspace-level tests: vector loading, the reason → error-kind map of
//! `tests/vectors/README.md`, and JSON comparison.
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    clippy::missing_panics_doc,
    reason = "test support: a broken vector file should fail the test loudly"
)]

pub mod alloc;

use std::path::PathBuf;

use serde_json::Value;

/// Path of a file in `tests/tests/vectors/`.
#[must_use]
pub fn vector_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("vectors")
        .join(name)
}

/// Loads a vector file as a JSON array.
///
/// # Panics
///
/// If the file is missing or not a JSON array (a broken checkout).
#[must_use]
pub fn load_vectors(name: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(vector_path(name)).expect("vector file");
    match serde_json::from_str(&text).expect("vector JSON") {
        Value::Array(a) => a,
        _ => panic!("{name} is not a JSON array"),
    }
}

/// Decodes lowercase or uppercase hex.
///
/// # Panics
///
/// On invalid hex (a broken vector file).
#[must_use]
pub fn hex(s: &str) -> Vec<u8> {
    assert!(s.len().is_multiple_of(2), "odd hex length");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

/// The authcore error kinds a vector `reason` maps to (vectors README, last table).
#[must_use]
pub fn kinds_for_reason(reason: &str) -> &'static [&'static str] {
    match reason {
        "bad_signature" | "wrong_key" => &["bad_signature"],
        "expired" => &["expired"],
        "not_yet_valid" => &["not_yet_valid"],
        "alg_none" => &["unsupported_alg"],
        "alg_mismatch" => &["alg_mismatch", "unsupported_alg", "bad_json"],
        "malformed_segments" | "malformed" => &["malformed", "bad_base64"],
        "bad_base64" => &["bad_base64"],
        "bad_json" => &["bad_json"],
        "bad_claim_type" => &["invalid_claim"],
        "oversized" => &["too_large"],
        "crit_header" => &["unsupported_crit"],
        "trailing_garbage" | "whitespace" => &["malformed", "bad_base64", "bad_json"],
        "wrong_secret" | "wrong_salt" => &["bad_tag", "unknown_kid"],
        "tampered" => &["bad_tag", "unknown_kid", "bad_json", "bad_base64"],
        "kid_mismatch" => &["unknown_kid"],
        "enc_mismatch" => &["unsupported_enc"],
        other => panic!("unknown vector reason {other}"),
    }
}

/// Every kind accepted for a vector: from `reason` and each of `alt_reasons`.
#[must_use]
pub fn accepted_kinds(vector: &Value) -> Vec<&'static str> {
    let mut kinds = Vec::new();
    if let Some(r) = vector["reason"].as_str() {
        kinds.extend_from_slice(kinds_for_reason(r));
    }
    if let Some(alts) = vector["alt_reasons"].as_array() {
        for a in alts.iter().filter_map(Value::as_str) {
            kinds.extend_from_slice(kinds_for_reason(a));
        }
    }
    kinds
}

/// Compares JSON values, numbers by value (so `1.0 == 1`, `-0 == 0`, `1.5E+10 == 15000000000`,
/// while integers beyond 2^53 must match exactly).
#[must_use]
pub fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => numbers_eq(x, y),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| json_eq(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
    }
}

fn numbers_eq(x: &serde_json::Number, y: &serde_json::Number) -> bool {
    if let (Some(p), Some(q)) = (x.as_i64(), y.as_i64()) {
        return p == q;
    }
    if let (Some(p), Some(q)) = (x.as_u64(), y.as_u64()) {
        return p == q;
    }
    match (x.as_f64(), y.as_f64()) {
        (Some(p), Some(q)) => p == q,
        _ => x.to_string() == y.to_string(),
    }
}
