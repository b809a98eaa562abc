//! Auth.js v5 JWE (dir + A256CBC-HS512): authcore vs the bare crypto, in one run.
//!
//! `cargo bench -p authcore-benches --bench jwe` (see BENCHMARKS.md; the `@auth/core` figures
//! come from `bash tests/node/run.sh bench` in the same session).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    missing_docs,
    reason = "benchmark harness"
)]

use std::hint::black_box;
use std::time::Duration;

use authcore::jws::DecodeOptions;
use authcore_benches::{
    authjs_claims, authjs_decode, authjs_encode, authjs_key, BenchRng, CbcHs512Floor,
};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

fn jwe(c: &mut Criterion) {
    let key = authjs_key();
    let claims = authjs_claims();
    let mut rng = BenchRng::new();
    let mut out = vec![0u8; 2048];
    let token = authjs_encode(&key, &claims, &mut rng, &mut out).to_owned();
    let floor = CbcHs512Floor::new(&token);
    let keys = [key];
    let options = DecodeOptions::new();

    let mut g = c.benchmark_group("authjs_decode/session");
    g.throughput(Throughput::Bytes(token.len() as u64));
    let mut scratch = vec![0u8; authcore::jwe::scratch_len(token.len())];
    g.bench_function("authcore", |b| {
        b.iter(|| black_box(authjs_decode(black_box(&token), &keys, &options, &mut scratch).exp));
    });
    let mut plain = vec![0u8; floor.ciphertext.len()];
    g.bench_function("floor_cbc_hs512", |b| {
        b.iter(|| black_box(floor.decrypt(black_box(&mut plain))));
    });
    g.finish();

    let mut g = c.benchmark_group("authjs_encode/session");
    g.throughput(Throughput::Bytes(token.len() as u64));
    g.bench_function("authcore", |b| {
        b.iter(|| black_box(authjs_encode(&keys[0], black_box(&claims), &mut rng, &mut out).len()));
    });
    let mut ct = vec![0u8; floor.ciphertext.len()];
    g.bench_function("floor_cbc_hs512", |b| {
        b.iter(|| black_box(floor.encrypt(black_box(&mut ct))));
    });
    g.finish();
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
    targets = jwe
}
criterion_main!(benches);
