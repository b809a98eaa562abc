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

use authcore::cookie::Flavor;
use authcore::jws::{self, DecodeOptions};
use authcore::session::{AuthJsCodec, Config, Engine, JwsCodec};
use authcore_benches::{
    authcore_decode, authcore_encode, authcore_key, authjs_claims, authjs_decode, authjs_encode,
    authjs_key, cookie_header, floor_hs256, floor_key, jwt_simple_decode, jwt_simple_encode,
    jwt_simple_key, session_cookie_token, session_read, workloads, BenchRng, CbcHs512Floor,
    JsonWebToken, SessionBuffers,
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
            (
                "hs256_encode",
                "floor_hmac",
                allocs(|| floor_hs256(&fk, w.signing_input())),
            ),
        ];
        for (op, lib, n) in rows.into_iter().chain(encode_rows) {
            println!("allocs {op}/{name}/{lib} {n}");
        }
    }

    // Auth.js v5 JWE.
    let keys = [authjs_key()];
    let claims = authjs_claims();
    let mut rng = BenchRng::new();
    let mut out = vec![0u8; 2048];
    let token = authjs_encode(&keys[0], &claims, &mut rng, &mut out).to_owned();
    let floor = CbcHs512Floor::new(&token);
    let mut scratch = vec![0u8; authcore::jwe::scratch_len(token.len())];
    let mut plain = vec![0u8; floor.ciphertext.len()];
    let rows = [
        (
            "authjs_decode/session/authcore",
            allocs(|| authjs_decode(&token, &keys, &options, &mut scratch).exp),
        ),
        (
            "authjs_decode/session/floor_cbc_hs512",
            allocs(|| floor.decrypt(&mut plain)),
        ),
        (
            "authjs_encode/session/authcore",
            allocs(|| authjs_encode(&keys[0], &claims, &mut rng, &mut out).len()),
        ),
        (
            "authjs_encode/session/floor_cbc_hs512",
            allocs(|| floor.encrypt(&mut plain)),
        ),
    ];
    for (what, n) in rows {
        println!("allocs {what} {n}");
    }

    // Whole session reads.
    let w = &workloads()[1];
    let jws = Engine::new(Config::new(Flavor::AuthJs, false), JwsCodec::new(&key));
    let jwe = Engine::new(
        Config::new(Flavor::AuthJs, false),
        AuthJsCodec::new(&keys).expect("one key"),
    );
    let mut bufs = SessionBuffers::new();
    let header = cookie_header(&session_cookie_token(jws.codec(), &w.session_token()));
    let n = allocs(|| session_read(&jws, &header, &mut rng, &mut bufs));
    println!("allocs session_read/jws_hs256/whole_read {n}");
    let header = cookie_header(&session_cookie_token(jwe.codec(), &w.session_token()));
    let n = allocs(|| session_read(&jwe, &header, &mut rng, &mut bufs));
    println!("allocs session_read/authjs_jwe/whole_read {n}");
}
