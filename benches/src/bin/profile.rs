//! Runs one benchmark operation in a loop, for `valgrind --tool=callgrind` or `perf`.
//!
//! `profile <op> <workload> <library> [iterations]`, e.g. `profile decode session authcore 1000`.
//! Ops: `decode`, `encode`; libraries: `authcore`, `jsonwebtoken`, `jwt-simple`, `floor_hmac`.
//! Auth.js v5 JWE: `profile authjs_decode session authcore|floor`, `authjs_encode` likewise.
//! Whole session read: `profile session_read session jws|jwe`.
//! Instruction counts per operation are the total divided by the iterations (the setup costs
//! are measured separately by running with 0 iterations and subtracted).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "profiling harness"
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

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [op, workload, lib, rest @ ..] = args.as_slice() else {
        panic!("usage: profile <decode|encode> <small|session|large> <library> [iterations]");
    };
    let n: u64 = rest
        .first()
        .map_or(1000, |s| s.parse().expect("iterations"));
    let w = workloads()
        .into_iter()
        .find(|w| w.name == workload)
        .expect("workload");
    let key = authcore_key();
    let options = DecodeOptions::new();
    let jwt = JsonWebToken::new();
    let simple = jwt_simple_key();
    let fk = floor_key();
    let mut scratch = vec![0u8; jws::scratch_len(w.token.len())];
    let mut out = vec![0u8; w.token.len()];
    let claims = w.claims();
    let simple_claims = w.jwt_simple_claims();
    let keys = [authjs_key()];
    let authjs = authjs_claims();
    let mut rng = BenchRng::new();
    let mut jwe_out = vec![0u8; 2048];
    let jwe_token = authjs_encode(&keys[0], &authjs, &mut rng, &mut jwe_out).to_owned();
    let floor = CbcHs512Floor::new(&jwe_token);
    let mut jwe_scratch = vec![0u8; authcore::jwe::scratch_len(jwe_token.len())];
    let mut plain = vec![0u8; floor.ciphertext.len()];
    let jws_engine = Engine::new(Config::new(Flavor::AuthJs, false), JwsCodec::new(&key));
    let jwe_engine = Engine::new(
        Config::new(Flavor::AuthJs, false),
        AuthJsCodec::new(&keys).expect("one key"),
    );
    let jws_header = cookie_header(&session_cookie_token(
        jws_engine.codec(),
        &w.session_token(),
    ));
    let jwe_header = cookie_header(&session_cookie_token(
        jwe_engine.codec(),
        &w.session_token(),
    ));
    let mut bufs = SessionBuffers::new();
    for _ in 0..n {
        match (op.as_str(), lib.as_str()) {
            ("decode", "authcore") => {
                black_box(authcore_decode(black_box(&w.token), &key, &options, &mut scratch).exp);
            }
            ("decode", "jsonwebtoken") => drop(black_box(jwt.decode(black_box(&w.token)))),
            ("decode", "jwt-simple") => {
                drop(black_box(jwt_simple_decode(&simple, black_box(&w.token))));
            }
            ("encode", "authcore") => {
                black_box(authcore_encode(&key, black_box(&claims), &mut out).len());
            }
            ("encode", "jsonwebtoken") => drop(black_box(jwt.encode(black_box(&claims)))),
            ("encode", "jwt-simple") => {
                drop(black_box(jwt_simple_encode(&simple, simple_claims.clone())));
            }
            ("authjs_decode", "authcore") => {
                black_box(authjs_decode(&jwe_token, &keys, &options, &mut jwe_scratch).exp);
            }
            ("authjs_decode", "floor") => {
                black_box(floor.decrypt(&mut plain));
            }
            ("authjs_encode", "authcore") => {
                black_box(authjs_encode(&keys[0], &authjs, &mut rng, &mut jwe_out).len());
            }
            ("authjs_encode", "floor") => {
                black_box(floor.encrypt(&mut plain));
            }
            ("session_read", "jws") => {
                black_box(session_read(&jws_engine, &jws_header, &mut rng, &mut bufs));
            }
            ("session_read", "jwe") => {
                black_box(session_read(&jwe_engine, &jwe_header, &mut rng, &mut bufs));
            }
            (_, "floor_hmac") => {
                black_box(floor_hs256(&fk, black_box(w.signing_input())));
            }
            _ => panic!("unknown op/library {op}/{lib}"),
        }
    }
}
