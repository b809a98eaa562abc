//! Runs one benchmark operation in a loop, for `valgrind --tool=callgrind` or `perf`.
//!
//! `profile <op> <workload> <library> [iterations]`, e.g. `profile decode session authcore 1000`.
//! Ops: `decode`, `encode`; libraries: `authcore`, `jsonwebtoken`, `jwt-simple`, `floor_hmac`,
//! `floor_hmac_crate`, and for `decode` `authcore_verify_first` (MAC checked before the parse).
//! Auth.js v5 JWE: `profile authjs_decode session authcore|floor`, `authjs_encode` likewise.
//! Whole session read: `profile session_read session jws|jwe`; bare decode of the same token:
//! `profile session_bare session jws|jwe`. The stages of an HS256 decode apart:
//! `profile part session base64|json|base64_json` (the payload's base64url decode, the parse
//! of the decoded payload, both).
//! Interleaved comparison: `profile ratios session decode/authcore,decode/jsonwebtoken,decode/floor_hmac 2000`.
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
use authcore::session::{AuthJsCodec, Config, Engine, JwsCodec, TokenCodec};
use authcore_benches::{
    authcore_decode, authcore_encode, authcore_key, authjs_claims, authjs_decode, authjs_encode,
    authjs_key, cookie_header, floor_hs256, floor_hs256_hmac_crate, floor_key,
    floor_key_hmac_crate, jwt_simple_decode, jwt_simple_encode, jwt_simple_key,
    session_cookie_token, session_read, workloads, BenchRng, CbcHs512Floor, JsonWebToken, Session,
    SessionBuffers, SessionToken, NOW,
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
    let strict = DecodeOptions::new().with_verify_before_parse(true);
    let jwt = JsonWebToken::new();
    let simple = jwt_simple_key();
    let fk = floor_key();
    let fk_crate = floor_key_hmac_crate();
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
    let jws_token = session_cookie_token(jws_engine.codec(), &w.session_token());
    let jwe_token_s = session_cookie_token(jwe_engine.codec(), &w.session_token());
    let jws_header = cookie_header(&jws_token);
    let jwe_header = cookie_header(&jwe_token_s);
    let mut bare_scratch = vec![0u8; 4096];
    let mut bufs = SessionBuffers::new();
    // The stages of a decode, apart: the payload's base64url decode, the parse of the decoded
    // payload, and both together without the MAC.
    let payload_b64 = {
        let t = w.token.as_bytes();
        let a = w.token.find('.').expect("three segments") + 1;
        let b = w.token.rfind('.').expect("three segments");
        t[a..b].to_vec()
    };
    let mut part_out = vec![0u8; payload_b64.len()];
    let payload_json = {
        let mut buf = vec![0u8; payload_b64.len()];
        let n = authcore::base64url::decode(&payload_b64, &mut buf)
            .expect("payload decodes")
            .len();
        buf.truncate(n);
        buf
    };
    let mut once = |op: &str, lib: &str| match (op, lib) {
        ("decode", "authcore") => {
            black_box(authcore_decode(black_box(&w.token), &key, &options, &mut scratch).exp);
        }
        ("decode", "authcore_verify_first") => {
            black_box(authcore_decode(black_box(&w.token), &key, &strict, &mut scratch).exp);
        }
        ("part", "base64") => {
            black_box(
                authcore::base64url::decode(black_box(&payload_b64), &mut part_out)
                    .expect("decodes")
                    .len(),
            );
        }
        ("part", "json") => {
            let mut arena = [0u8; 0];
            let (s, _): (Session<'_>, usize) =
                authcore::json::from_slice(black_box(&payload_json), &mut arena).expect("parses");
            black_box(s.exp);
        }
        ("part", "base64_json") => {
            let n = authcore::base64url::decode(black_box(&payload_b64), &mut part_out)
                .expect("decodes")
                .len();
            let mut arena = [0u8; 0];
            let (s, _): (Session<'_>, usize) =
                authcore::json::from_slice(&part_out[..n], &mut arena).expect("parses");
            black_box(s.exp);
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
        ("session_bare", "jws") => bare_decode(jws_engine.codec(), &jws_token, &mut bare_scratch),
        ("session_bare", "jwe") => bare_decode(jwe_engine.codec(), &jwe_token_s, &mut bare_scratch),
        (_, "floor_authcore_hmac") => {
            let mut mac = [0u8; jws::MAX_MAC_LEN];
            black_box(key.sign(black_box(w.signing_input()), &mut mac));
        }
        (_, "floor_hmac_crate") => {
            black_box(floor_hs256_hmac_crate(
                &fk_crate,
                black_box(w.signing_input()),
            ));
        }
        (_, "floor_hmac") => {
            black_box(floor_hs256(&fk, black_box(w.signing_input())));
        }
        _ => panic!("unknown op/library {op}/{lib}"),
    };
    if op == "ratios" {
        // `profile ratios <workload> <op/lib,op/lib,...> [rounds]`: the contenders in turn,
        // BATCH calls each, round after round (the order rotating), so that the machine's
        // slow swings of load hit every contender alike; prints each one's median and minimum
        // time per call over the rounds, the medians' ratios to the first contender, and the
        // median over the rounds of each round's ratio to the first contender.
        const BATCH: u32 = 100;
        let pairs: Vec<(&str, &str)> = lib
            .split(',')
            .map(|p| p.split_once('/').expect("op/lib"))
            .collect();
        let mut times = vec![Vec::new(); pairs.len()];
        for round in 0..n {
            for k in 0..pairs.len() {
                let i = (k + usize::try_from(round).expect("round")) % pairs.len();
                let (op, lib) = pairs[i];
                let start = std::time::Instant::now();
                for _ in 0..BATCH {
                    once(op, lib);
                }
                times[i].push(start.elapsed().as_secs_f64() * 1e9 / f64::from(BATCH));
            }
        }
        // Each round's contenders ran back to back, so a swing of the machine hits them alike:
        // the median of the per-round ratios is the steadiest figure under noise.
        let round_ratios: Vec<f64> = times
            .iter()
            .map(|t| {
                let mut r: Vec<f64> = t.iter().zip(&times[0]).map(|(a, b)| a / b).collect();
                r.sort_by(f64::total_cmp);
                r[r.len() / 2]
            })
            .collect();
        let medians: Vec<f64> = times
            .iter_mut()
            .map(|t| {
                t.sort_by(f64::total_cmp);
                t[t.len() / 2]
            })
            .collect();
        for (i, (op, lib)) in pairs.iter().enumerate() {
            println!(
                "{workload} {op}/{lib}: median {:.0} ns, min {:.0} ns, median / first's {:.2}, first's / this {:.2}, per-round ratio to first's (median) {:.3}",
                medians[i],
                times[i][0],
                medians[i] / medians[0],
                medians[0] / medians[i],
                round_ratios[i]
            );
        }
        return;
    }
    for _ in 0..n {
        once(op, lib);
    }
}

/// The session codec's bare decode of `token` (what `session_bare` times).
fn bare_decode<C: TokenCodec>(codec: &C, token: &str, scratch: &mut [u8]) {
    let d = codec
        .decode::<SessionToken>(black_box(token.as_bytes()), NOW, scratch)
        .expect("decodes");
    black_box(d.claims.expires_at);
}
