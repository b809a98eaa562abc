//! Heap allocations per operation for each library (a counting global allocator).
//!
//! `cargo bench -p authcore-benches --bench allocs` prints one line per library, operation and
//! workload: `allocs <op>/<workload>/<library> <count>`. Kept out of the timing benches so the
//! counting does not slow the peers down there.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    missing_docs,
    reason = "benchmark harness"
)]

use std::hint::black_box;

use authcore::jws::{self, DecodeOptions};
use authcore_benches::{
    authcore_decode, authcore_encode, authcore_key, floor_hs256, floor_key, jwt_simple_decode,
    jwt_simple_encode, jwt_simple_key, workloads, JsonWebToken,
};
use authcore_tests::alloc::{count, Counting};

#[global_allocator]
static ALLOC: Counting = Counting;

/// Runs `f` twice (the first call may initialise lazy statics) and returns the second count.
fn allocs<R>(mut f: impl FnMut() -> R) -> u64 {
    black_box(f());
    let (r, n) = count(&mut f);
    drop(black_box(r));
    n
}

fn main() {
    // `cargo bench` passes `--bench`; ignore every argument.
    let key = authcore_key();
    let options = DecodeOptions::new();
    let jwt = JsonWebToken::new();
    let simple = jwt_simple_key();
    let fk = floor_key();
    for w in workloads() {
        let name = w.name;
        let mut scratch = vec![0u8; jws::scratch_len(w.token.len())];
        let rows = [
            (
                "hs256_decode",
                "authcore",
                allocs(|| authcore_decode(&w.token, &key, &options, &mut scratch).exp),
            ),
            (
                "hs256_decode",
                "jsonwebtoken",
                allocs(|| jwt.decode(&w.token)),
            ),
            (
                "hs256_decode",
                "jwt-simple",
                allocs(|| jwt_simple_decode(&simple, &w.token)),
            ),
            (
                "hs256_decode",
                "floor_hmac",
                allocs(|| floor_hs256(&fk, w.signing_input())),
            ),
        ];
        let claims = w.claims();
        let mut out = vec![0u8; w.token.len()];
        let simple_claims = w.jwt_simple_claims();
        let encode_rows = [
            (
                "hs256_encode",
                "authcore",
                allocs(|| authcore_encode(&key, &claims, &mut out).len()),
            ),
            (
                "hs256_encode",
                "jsonwebtoken",
                allocs(|| jwt.encode(&claims)),
            ),
            ("hs256_encode", "jwt-simple", {
                // The clone of the claims is made outside the count, as in the timing bench.
                black_box(jwt_simple_encode(&simple, simple_claims.clone()));
                let c = simple_claims.clone();
                let (s, n) = count(|| jwt_simple_encode(&simple, c));
                drop(s);
                n
            }),
        ];
        for (op, lib, n) in rows.into_iter().chain(encode_rows) {
            println!("allocs {op}/{name}/{lib} {n}");
        }
    }
}
