//! HS256 JWS: authcore vs jsonwebtoken vs jwt-simple vs the HMAC floor, in one run.
//!
//! `cargo bench -p authcore-benches --bench jws` (see BENCHMARKS.md).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    missing_docs,
    reason = "benchmark harness"
)]

use std::hint::black_box;
use std::time::Duration;

use authcore::jws::{self, DecodeOptions};
use authcore_benches::{
    authcore_decode, authcore_encode, authcore_key, floor_hs256, floor_hs256_hmac_crate, floor_key,
    floor_key_hmac_crate, jwt_simple_decode, jwt_simple_encode, jwt_simple_key, workloads,
    JsonWebToken,
};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};

fn decode(c: &mut Criterion) {
    let key = authcore_key();
    let options = DecodeOptions::new();
    let jwt = JsonWebToken::new();
    let simple = jwt_simple_key();
    let fk = floor_key();
    for w in workloads() {
        let mut g = c.benchmark_group(format!("hs256_decode/{}", w.name));
        g.throughput(Throughput::Bytes(w.token.len() as u64));
        let mut scratch = vec![0u8; jws::scratch_len(w.token.len())];
        g.bench_function("authcore", |b| {
            b.iter(|| {
                let s = authcore_decode(black_box(&w.token), &key, &options, &mut scratch);
                black_box(s.exp);
            });
        });
        g.bench_function("jsonwebtoken", |b| {
            b.iter(|| black_box(jwt.decode(black_box(&w.token))));
        });
        g.bench_function("jwt-simple", |b| {
            b.iter(|| black_box(jwt_simple_decode(&simple, black_box(&w.token))));
        });
        let input = w.signing_input();
        g.bench_function("floor_hmac", |b| {
            b.iter(|| black_box(floor_hs256(&fk, black_box(input))));
        });
        let crate_key = floor_key_hmac_crate();
        g.bench_function("floor_hmac_crate", |b| {
            b.iter(|| black_box(floor_hs256_hmac_crate(&crate_key, black_box(input))));
        });
        g.finish();
    }
}

fn encode(c: &mut Criterion) {
    let key = authcore_key();
    let jwt = JsonWebToken::new();
    let simple = jwt_simple_key();
    let fk = floor_key();
    for w in workloads() {
        let mut g = c.benchmark_group(format!("hs256_encode/{}", w.name));
        g.throughput(Throughput::Bytes(w.token.len() as u64));
        let claims = w.claims();
        let mut out = vec![0u8; w.token.len()];
        g.bench_function("authcore", |b| {
            b.iter(|| black_box(authcore_encode(&key, black_box(&claims), &mut out).len()));
        });
        g.bench_function("jsonwebtoken", |b| {
            b.iter(|| black_box(jwt.encode(black_box(&claims))));
        });
        let simple_claims = w.jwt_simple_claims();
        g.bench_function("jwt-simple", |b| {
            b.iter_batched(
                || simple_claims.clone(),
                |c| jwt_simple_encode(&simple, c),
                BatchSize::SmallInput,
            );
        });
        let input = w.signing_input();
        g.bench_function("floor_hmac", |b| {
            b.iter(|| black_box(floor_hs256(&fk, black_box(input))));
        });
        g.finish();
    }
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(700))
        .measurement_time(Duration::from_secs(2))
        .sample_size(60)
}

criterion_group! {
    name = benches;
    config = config();
    targets = decode, encode
}
criterion_main!(benches);
