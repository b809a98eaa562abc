//! How much independent integer work hides behind SHA-256 compressions (SHA-NI), depending on
//! how finely the compressions are cut: the stand-alone measurement behind "Where the time goes"
//! in `BENCHMARKS.md`. Nothing here is used by authcore.
//!
//! `overlap [bytes-per-block ...]` (default `256 512 768`). Thirteen blocks (the session token's
//! HMAC) are compressed while some integer work runs: `bytes-per-block` bytes of it per block
//! (rounded up to a multiple of 128), cut into as many pieces as the compressions are. The work is four independent accumulators
//! (high throughput, like a parse) or one dependent chain (low throughput). The compressions:
//! - `sha2` (RustCrypto, SHA-NI) over all blocks in one call (the floor), or one call per
//!   block (what authcore's HS256 decode does between the parse's members);
//! - a SHA-NI compression written here that can stop after any group of four rounds, in
//!   whole blocks, half blocks or quarter blocks: what a sub-block interleave would need. It
//!   uses `core::arch` intrinsics, so it cannot live in the core (`forbid(unsafe_code)`; the
//!   safe `#[target_feature]` functions still need an `unsafe` call where the CPU feature is
//!   checked at run time).
//!
//! Each variant is timed in turn in every round (40 rounds of 20,000 runs); the minimum over
//! the rounds is printed, in nanoseconds per thirteen blocks.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::cast_possible_truncation,
    clippy::cast_precision_loss,
    reason = "measurement harness"
)]

#[cfg(target_arch = "x86_64")]
fn main() {
    x86::main();
}

#[cfg(not(target_arch = "x86_64"))]
fn main() {
    eprintln!("overlap: x86-64 (SHA-NI) only");
}

#[cfg(target_arch = "x86_64")]
#[allow(
    unsafe_code,
    reason = "SHA-NI intrinsics, dispatched after a run-time CPU check"
)]
mod x86 {
    use core::arch::x86_64::{
        __m128i, _mm_add_epi32, _mm_alignr_epi8, _mm_blend_epi16, _mm_set_epi32,
        _mm_sha256msg1_epu32, _mm_sha256msg2_epu32, _mm_sha256rnds2_epu32, _mm_shuffle_epi32,
        _mm_storeu_si128,
    };
    use std::hint::black_box;
    use std::time::Instant;

    use sha2::block_api::compress256;

    const BLOCKS: usize = 13;
    const RUNS: u32 = 20_000;
    const ROUNDS: usize = 40;

    /// SHA-256 round constants (FIPS 180-4, 4.2.2).
    #[rustfmt::skip]
    const K: [u32; 64] = [
        0x428a_2f98, 0x7137_4491, 0xb5c0_fbcf, 0xe9b5_dba5, 0x3956_c25b, 0x59f1_11f1, 0x923f_82a4, 0xab1c_5ed5,
        0xd807_aa98, 0x1283_5b01, 0x2431_85be, 0x550c_7dc3, 0x72be_5d74, 0x80de_b1fe, 0x9bdc_06a7, 0xc19b_f174,
        0xe49b_69c1, 0xefbe_4786, 0x0fc1_9dc6, 0x240c_a1cc, 0x2de9_2c6f, 0x4a74_84aa, 0x5cb0_a9dc, 0x76f9_88da,
        0x983e_5152, 0xa831_c66d, 0xb003_27c8, 0xbf59_7fc7, 0xc6e0_0bf3, 0xd5a7_9147, 0x06ca_6351, 0x1429_2967,
        0x27b7_0a85, 0x2e1b_2138, 0x4d2c_6dfc, 0x5338_0d13, 0x650a_7354, 0x766a_0abb, 0x81c2_c92e, 0x9272_2c85,
        0xa2bf_e8a1, 0xa81a_664b, 0xc24b_8b70, 0xc76c_51a3, 0xd192_e819, 0xd699_0624, 0xf40e_3585, 0x106a_a070,
        0x19a4_c116, 0x1e37_6c08, 0x2748_774c, 0x34b0_bcb5, 0x391c_0cb3, 0x4ed8_aa4a, 0x5b9c_ca4f, 0x682e_6ff3,
        0x748f_82ee, 0x78a5_636f, 0x84c8_7814, 0x8cc7_0208, 0x90be_fffa, 0xa450_6ceb, 0xbef9_a3f7, 0xc671_78f2,
    ];

    /// Four consecutive words as one vector, the first in the lowest lane.
    #[target_feature(enable = "sse2")]
    fn words(w: [u32; 4]) -> __m128i {
        _mm_set_epi32(
            w[3].cast_signed(),
            w[2].cast_signed(),
            w[1].cast_signed(),
            w[0].cast_signed(),
        )
    }

    /// A compression in progress: the state in SHA-NI's order (ABEF, CDGH), the state at the
    /// block's start, the last four message-schedule vectors.
    #[derive(Clone, Copy)]
    struct Run {
        abef: __m128i,
        cdgh: __m128i,
        abef_start: __m128i,
        cdgh_start: __m128i,
        w: [__m128i; 4],
    }

    impl Run {
        #[target_feature(enable = "sha,sse4.1,ssse3")]
        fn new(state: &[u32; 8]) -> Self {
            let dcba = words([state[0], state[1], state[2], state[3]]);
            let hgfe = words([state[4], state[5], state[6], state[7]]);
            let cdab = _mm_shuffle_epi32(dcba, 0xb1);
            let efgh = _mm_shuffle_epi32(hgfe, 0x1b);
            let abef = _mm_alignr_epi8(cdab, efgh, 8);
            let cdgh = _mm_blend_epi16(efgh, cdab, 0xf0);
            Self {
                abef,
                cdgh,
                abef_start: abef,
                cdgh_start: cdgh,
                // Written by rounds 0-15 before any is read.
                w: [abef; 4],
            }
        }

        #[target_feature(enable = "sha,sse4.1,ssse3")]
        fn store(&self, state: &mut [u32; 8]) {
            let feba = _mm_shuffle_epi32(self.abef, 0x1b);
            let dchg = _mm_shuffle_epi32(self.cdgh, 0xb1);
            let dcba = _mm_blend_epi16(feba, dchg, 0xf0);
            let hgfe = _mm_alignr_epi8(dchg, feba, 8);
            let (lo, hi) = state.split_at_mut(4);
            // SAFETY: each half of `state` is 16 bytes; unaligned stores.
            unsafe {
                _mm_storeu_si128(lo.as_mut_ptr().cast(), dcba);
                _mm_storeu_si128(hi.as_mut_ptr().cast(), hgfe);
            }
        }

        /// Rounds `4 * FIRST .. 4 * (FIRST + COUNT)` of `block`.
        #[target_feature(enable = "sha,sse4.1,ssse3")]
        #[inline(never)]
        fn groups<const FIRST: usize, const COUNT: usize>(&mut self, block: &[u8; 64]) {
            for g in FIRST..FIRST + COUNT {
                if g == 0 {
                    self.abef_start = self.abef;
                    self.cdgh_start = self.cdgh;
                }
                let w = if g < 4 {
                    let be = |i: usize| {
                        u32::from_be_bytes([
                            block[16 * g + 4 * i],
                            block[16 * g + 4 * i + 1],
                            block[16 * g + 4 * i + 2],
                            block[16 * g + 4 * i + 3],
                        ])
                    };
                    words([be(0), be(1), be(2), be(3)])
                } else {
                    // W[t-16] + s0(W[t-15]), + W[t-7], then + s1(W[t-2]) lane by lane.
                    let x = _mm_sha256msg1_epu32(self.w[g % 4], self.w[(g + 1) % 4]);
                    let x = _mm_add_epi32(
                        x,
                        _mm_alignr_epi8(self.w[(g + 3) % 4], self.w[(g + 2) % 4], 4),
                    );
                    _mm_sha256msg2_epu32(x, self.w[(g + 3) % 4])
                };
                self.w[g % 4] = w;
                let k = words([K[4 * g], K[4 * g + 1], K[4 * g + 2], K[4 * g + 3]]);
                let msg = _mm_add_epi32(w, k);
                self.cdgh = _mm_sha256rnds2_epu32(self.cdgh, self.abef, msg);
                self.abef =
                    _mm_sha256rnds2_epu32(self.abef, self.cdgh, _mm_shuffle_epi32(msg, 0x0e));
                if g == 15 {
                    self.abef = _mm_add_epi32(self.abef, self.abef_start);
                    self.cdgh = _mm_add_epi32(self.cdgh, self.cdgh_start);
                }
            }
        }

        /// One piece of `block`: piece `piece` of `pieces` (1, 2 or 4).
        #[target_feature(enable = "sha,sse4.1,ssse3")]
        fn piece(&mut self, block: &[u8; 64], piece: usize, pieces: usize) {
            match (pieces, piece) {
                (1, _) => self.groups::<0, 16>(block),
                (2, 0) => self.groups::<0, 8>(block),
                (2, _) => self.groups::<8, 8>(block),
                (4, 0) => self.groups::<0, 4>(block),
                (4, 1) => self.groups::<4, 4>(block),
                (4, 2) => self.groups::<8, 4>(block),
                _ => self.groups::<12, 4>(block),
            }
        }
    }

    /// Whether this CPU runs [`Run`].
    fn supported() -> bool {
        is_x86_feature_detected!("sha")
            && is_x86_feature_detected!("sse4.1")
            && is_x86_feature_detected!("ssse3")
    }

    /// Compresses `blocks` into `state`, each cut into `pieces`, with `between` after each.
    fn compress_in_pieces(
        state: &mut [u32; 8],
        blocks: &[[u8; 64]],
        pieces: usize,
        mut between: impl FnMut(),
    ) {
        assert!(supported());
        // SAFETY: the CPU has the features these functions enable (checked just above).
        unsafe {
            let mut run = Run::new(state);
            for block in blocks {
                for p in 0..pieces {
                    run.piece(block, p, pieces);
                    between();
                }
            }
            run.store(state);
        }
    }

    /// High-throughput integer work over `bytes`: four independent accumulators.
    #[inline(never)]
    fn wide_work(bytes: &[u8], seed: u64) -> u64 {
        let mut acc = [seed, 1, 2, 3];
        for chunk in bytes.chunks_exact(32) {
            for (k, a) in acc.iter_mut().enumerate() {
                let w = u64::from_le_bytes(chunk[8 * k..8 * k + 8].try_into().unwrap());
                *a = (*a ^ w)
                    .rotate_left(5 + 2 * k as u32)
                    .wrapping_add(w >> (k + 1));
            }
        }
        acc[0] ^ acc[1] ^ acc[2] ^ acc[3]
    }

    /// Low-throughput integer work over `bytes`: one dependent chain.
    #[inline(never)]
    fn chain_work(bytes: &[u8], seed: u64) -> u64 {
        let mut a = seed;
        for chunk in bytes.chunks_exact(8) {
            let w = u64::from_le_bytes(chunk.try_into().unwrap());
            a = (a ^ w).rotate_left(5).wrapping_add(w >> 3);
        }
        a
    }

    type Variant<'a> = (&'static str, Box<dyn Fn() + 'a>);

    pub(super) fn main() {
        if !supported() {
            eprintln!("overlap: this CPU has no SHA-NI");
            return;
        }
        let sizes: Vec<usize> = std::env::args()
            .skip(1)
            .map(|a| a.parse().expect("bytes per block"))
            .collect();
        let sizes = if sizes.is_empty() {
            vec![256, 512, 768]
        } else {
            sizes
        };
        let mut blocks = [[0u8; 64]; BLOCKS];
        for (i, b) in blocks.iter_mut().enumerate() {
            for (j, x) in b.iter_mut().enumerate() {
                *x = (i * 64 + j) as u8;
            }
        }
        // The pieces give sha2's result.
        let start = [1, 2, 3, 4, 5, 6, 7, 8];
        let mut expected = start;
        compress256(&mut expected, &blocks);
        for pieces in [1, 2, 4] {
            let mut got = start;
            compress_in_pieces(&mut got, &blocks, pieces, || {});
            assert_eq!(got, expected, "{pieces} pieces");
        }
        for size in sizes {
            // Whole 32-byte steps in each quarter of a block's share.
            let size = size.div_ceil(128).max(1) * 128;
            measure(&blocks, size);
        }
    }

    fn measure(blocks: &[[u8; 64]; BLOCKS], size: usize) {
        let data = vec![3u8; size * BLOCKS];
        let data = &data[..];
        let work_pieces = |pieces: usize, work: fn(&[u8], u64) -> u64| {
            move || {
                let piece = size / pieces;
                let mut h = 0;
                let mut at = 0;
                let mut state = [1u32; 8];
                compress_in_pieces(&mut state, black_box(blocks), pieces, || {
                    h = work(black_box(&data[at..at + piece]), h);
                    at += piece;
                });
                black_box((state, h));
            }
        };
        let sha2_steps = |work: fn(&[u8], u64) -> u64| {
            move || {
                let mut h = 0;
                let mut state = [1u32; 8];
                for (k, block) in blocks.iter().enumerate() {
                    compress256(&mut state, black_box(core::slice::from_ref(block)));
                    h = work(black_box(&data[k * size..(k + 1) * size]), h);
                }
                black_box((state, h));
            }
        };
        let work_alone = |work: fn(&[u8], u64) -> u64| {
            move || {
                let mut h = 0;
                for k in 0..BLOCKS {
                    h = work(black_box(&data[k * size..(k + 1) * size]), h);
                }
                black_box(h);
            }
        };
        let variants: Vec<Variant<'_>> = vec![
            (
                "sha2, 13 blocks in one call (floor)",
                Box::new(|| {
                    let mut state = [1u32; 8];
                    compress256(&mut state, black_box(blocks));
                    black_box(state);
                }),
            ),
            (
                "sha2, 13 one-block calls",
                Box::new(|| {
                    let mut state = [1u32; 8];
                    for block in blocks {
                        compress256(&mut state, black_box(core::slice::from_ref(block)));
                    }
                    black_box(state);
                }),
            ),
            ("wide work alone", Box::new(work_alone(wide_work))),
            (
                "sha2 one-block calls + wide work",
                Box::new(sha2_steps(wide_work)),
            ),
            ("chain work alone", Box::new(work_alone(chain_work))),
            (
                "sha2 one-block calls + chain work",
                Box::new(sha2_steps(chain_work)),
            ),
            (
                "own, whole blocks, no work",
                Box::new(|| {
                    let mut state = [1u32; 8];
                    compress_in_pieces(&mut state, black_box(blocks), 1, || {});
                    black_box(state);
                }),
            ),
            (
                "own, whole blocks + wide work",
                Box::new(work_pieces(1, wide_work)),
            ),
            (
                "own, half blocks + wide work",
                Box::new(work_pieces(2, wide_work)),
            ),
            (
                "own, quarter blocks + wide work",
                Box::new(work_pieces(4, wide_work)),
            ),
        ];
        let mut best = vec![f64::MAX; variants.len()];
        for _ in 0..ROUNDS {
            for ((_, run), best) in variants.iter().zip(&mut best) {
                let t = Instant::now();
                for _ in 0..RUNS {
                    run();
                }
                *best = best.min(t.elapsed().as_nanos() as f64 / f64::from(RUNS));
            }
        }
        println!("work: {size} bytes per block");
        for ((name, _), best) in variants.iter().zip(&best) {
            println!("  {name:36} {best:6.0} ns");
        }
    }
}
