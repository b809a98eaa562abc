//! A whole session read per request (cookie → decode → `jwt` → `session` → re-encode →
//! `Set-Cookie`) against a bare decode of the same token, for the JWS and the Auth.js v5 JWE
//! codecs.
//!
//! `cargo bench -p authcore-benches --bench session` (see BENCHMARKS.md).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    missing_docs,
    reason = "benchmark harness"
)]

use std::hint::black_box;
use std::time::Duration;

use authcore::cookie::Flavor;
use authcore::session::{AuthJsCodec, Config, Engine, JwsCodec, TokenCodec};
use authcore_benches::{
    authcore_key, authjs_key, cookie_header, session_cookie_token, session_read, workloads,
    BenchRng, SessionBuffers, SessionToken, NOW,
};
use criterion::{criterion_group, criterion_main, Criterion};

fn bench_codec<K: TokenCodec>(c: &mut Criterion, name: &str, engine: &Engine<K>) {
    let w = &workloads()[1];
    let token = session_cookie_token(engine.codec(), &w.session_token());
    let header = cookie_header(&token);
    let mut g = c.benchmark_group(format!("session_read/{name}"));
    let mut rng = BenchRng::new();
    let mut bufs = SessionBuffers::new();
    g.bench_function("whole_read", |b| {
        b.iter(|| {
            black_box(session_read(
                engine,
                black_box(&header),
                &mut rng,
                &mut bufs,
            ))
        });
    });
    let mut scratch = vec![0u8; engine.codec().decode_scratch_len(token.len())];
    g.bench_function("bare_decode", |b| {
        b.iter(|| {
            let d = engine
                .codec()
                .decode::<SessionToken>(black_box(token.as_bytes()), NOW, &mut scratch)
                .expect("decodes");
            black_box(d.claims.expires_at)
        });
    });
    g.finish();
}

fn session(c: &mut Criterion) {
    let key = authcore_key();
    let jws = Engine::new(Config::new(Flavor::AuthJs, false), JwsCodec::new(&key));
    bench_codec(c, "jws_hs256", &jws);
    let keys = [authjs_key()];
    let jwe = Engine::new(
        Config::new(Flavor::AuthJs, false),
        AuthJsCodec::new(&keys).expect("one key"),
    );
    bench_codec(c, "authjs_jwe", &jwe);
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
    targets = session
}
criterion_main!(benches);
