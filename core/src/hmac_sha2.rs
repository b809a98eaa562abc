//! HMAC-SHA-256/384/512 (RFC 2104, FIPS 198-1) straight on the SHA-2 compression functions of
//! the `sha2` crate (which picks SHA-NI and the like at run time).
//!
//! The key's inner and outer states (the compressions of `key ^ ipad` and `key ^ opad`) are
//! computed once. A MAC then costs exactly the compressions of the message and its padding plus
//! one outer compression, with no buffering layer in between; and a message can be fed one
//! block at a time ([`Run::step_to`]) so that callers interleave the MAC with other work. The
//! result is checked against the `hmac` crate and RFC 4231 in the tests.

use sha2::block_api::{compress256, compress512};

/// Largest block (SHA-384/512: 128 bytes).
const MAX_BLOCK: usize = 128;
/// Largest output (SHA-512: 64 bytes).
pub(crate) const MAX_OUT: usize = 64;

/// One SHA-2 family: its chaining state, block size and compression.
pub(crate) trait Family {
    /// Chaining state (eight words).
    type State: Copy;
    /// Block size in bytes.
    const BLOCK: usize;
    /// Size of the big-endian bit length at the end of the padding.
    const LEN_FIELD: usize;
    /// Compresses whole blocks of `data` into `state` (a partial block at the end is ignored;
    /// callers pass whole blocks).
    fn compress(state: &mut Self::State, data: &[u8]);
    /// The state as big-endian bytes (the digest before truncation).
    fn bytes(state: &Self::State, out: &mut [u8; MAX_OUT]);
    /// Overwrites the state (key material) with zeros.
    fn wipe(state: &mut Self::State);
}

/// SHA-256.
pub(crate) struct Sha256;
/// SHA-384 and SHA-512 (they differ in initial state and output length only).
pub(crate) struct Sha512;

impl Family for Sha256 {
    type State = [u32; 8];
    const BLOCK: usize = 64;
    const LEN_FIELD: usize = 8;
    #[inline]
    fn compress(state: &mut [u32; 8], data: &[u8]) {
        let (blocks, _) = data.as_chunks::<64>();
        compress256(state, blocks);
    }
    fn bytes(state: &[u32; 8], out: &mut [u8; MAX_OUT]) {
        for (dst, w) in out.chunks_exact_mut(4).zip(state) {
            dst.copy_from_slice(&w.to_be_bytes());
        }
    }
    fn wipe(state: &mut [u32; 8]) {
        wipe_words(state);
    }
}

impl Family for Sha512 {
    type State = [u64; 8];
    const BLOCK: usize = 128;
    const LEN_FIELD: usize = 16;
    #[inline]
    fn compress(state: &mut [u64; 8], data: &[u8]) {
        let (blocks, _) = data.as_chunks::<128>();
        compress512(state, blocks);
    }
    fn bytes(state: &[u64; 8], out: &mut [u8; MAX_OUT]) {
        for (dst, w) in out.chunks_exact_mut(8).zip(state) {
            dst.copy_from_slice(&w.to_be_bytes());
        }
    }
    fn wipe(state: &mut [u64; 8]) {
        wipe_words(state);
    }
}

/// Zeroes key-derived words (a plain write that a `black_box` read keeps from being optimized
/// away).
fn wipe_words<T: Copy + Default>(words: &mut [T; 8]) {
    *words = [T::default(); 8];
    core::hint::black_box(&*words);
}

/// Zeroes key-derived bytes, as [`wipe_words`].
fn wipe_bytes(bytes: &mut [u8; MAX_OUT]) {
    *bytes = [0; MAX_OUT];
    core::hint::black_box(&*bytes);
}

/// Initial states (FIPS 180-4 §5.3.2, §5.3.4, §5.3.5).
pub(crate) const IV_256: [u32; 8] = [
    0x6a09_e667,
    0xbb67_ae85,
    0x3c6e_f372,
    0xa54f_f53a,
    0x510e_527f,
    0x9b05_688c,
    0x1f83_d9ab,
    0x5be0_cd19,
];
/// SHA-384's initial state.
pub(crate) const IV_384: [u64; 8] = [
    0xcbbb_9d5d_c105_9ed8,
    0x629a_292a_367c_d507,
    0x9159_015a_3070_dd17,
    0x152f_ecd8_f70e_5939,
    0x6733_2667_ffc0_0b31,
    0x8eb4_4a87_6858_1511,
    0xdb0c_2e0d_64f9_8fa7,
    0x47b5_481d_befa_4fa4,
];
/// SHA-512's initial state.
pub(crate) const IV_512: [u64; 8] = [
    0x6a09_e667_f3bc_c908,
    0xbb67_ae85_84ca_a73b,
    0x3c6e_f372_fe94_f82b,
    0xa54f_f53a_5f1d_36f1,
    0x510e_527f_ade6_82d1,
    0x9b05_688c_2b3e_6c1f,
    0x1f83_d9ab_fb41_bd6b,
    0x5be0_cd19_137e_2179,
];

/// Ends a hash: compresses the whole blocks of `data`, then its tail with the padding for a
/// message of `total` bytes (everything compressed into `state` before, plus `data`).
fn finish<F: Family>(state: &mut F::State, data: &[u8], total: usize) {
    let whole = data.len() - data.len() % F::BLOCK;
    let (blocks, tail) = data.split_at(whole);
    F::compress(state, blocks);
    let mut last = [0u8; 2 * MAX_BLOCK];
    let n = if tail.len() + 1 + F::LEN_FIELD > F::BLOCK {
        2 * F::BLOCK
    } else {
        F::BLOCK
    };
    if let Some(dst) = last.get_mut(..tail.len()) {
        dst.copy_from_slice(tail);
    }
    if let Some(b) = last.get_mut(tail.len()) {
        *b = 0x80;
    }
    // Bit length, big endian, at the end (the upper half of SHA-512's 128-bit field stays 0:
    // no token comes near 2^64 bits).
    let bits = (total as u64).wrapping_mul(8);
    if let Some(dst) = last.get_mut(n - 8..n) {
        dst.copy_from_slice(&bits.to_be_bytes());
    }
    F::compress(state, last.get(..n).unwrap_or_default());
}

/// An HMAC key: the states after the inner and outer key blocks.
pub(crate) struct Key<F: Family> {
    inner: F::State,
    outer: F::State,
    /// Output length (32, 48 or 64).
    out_len: usize,
}

impl<F: Family> Key<F> {
    /// Keys HMAC with initial state `iv` and output length `out_len` (a key longer than a block
    /// is hashed first, as RFC 2104 says).
    pub(crate) fn new(iv: F::State, out_len: usize, key: &[u8]) -> Self {
        let mut block = [0u8; MAX_BLOCK];
        let mut digest = [0u8; MAX_OUT];
        if key.len() > F::BLOCK {
            let mut h = iv;
            finish::<F>(&mut h, key, key.len());
            F::bytes(&h, &mut digest);
            F::wipe(&mut h);
            block[..out_len].copy_from_slice(&digest[..out_len]);
        } else if let Some(dst) = block.get_mut(..key.len()) {
            dst.copy_from_slice(key);
        }
        let pad = |byte: u8, block: &[u8; MAX_BLOCK]| {
            let mut padded = [0u8; MAX_BLOCK];
            for (p, k) in padded.iter_mut().zip(block) {
                *p = k ^ byte;
            }
            let mut state = iv;
            F::compress(&mut state, &padded[..F::BLOCK]);
            padded.fill(0);
            core::hint::black_box(&padded);
            state
        };
        let inner = pad(0x36, &block);
        let outer = pad(0x5c, &block);
        block.fill(0);
        digest.fill(0);
        core::hint::black_box((&block, &digest));
        Self {
            inner,
            outer,
            out_len,
        }
    }

    /// A MAC computation over (a prefix of) `data`.
    pub(crate) fn run<'d>(&self, data: &'d [u8]) -> Run<'d, F> {
        Run {
            state: self.inner,
            outer: self.outer,
            out_len: self.out_len,
            data,
            hashed: 0,
            phase: 0,
        }
    }

    /// The MAC of `data` into the front of `out`; returns its length.
    pub(crate) fn mac(&self, data: &[u8], out: &mut [u8; MAX_OUT]) -> usize {
        self.run(data).finish(data.len(), out)
    }
}

impl<F: Family> Clone for Key<F> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner,
            outer: self.outer,
            out_len: self.out_len,
        }
    }
}

impl<F: Family> Drop for Key<F> {
    fn drop(&mut self) {
        F::wipe(&mut self.inner);
        F::wipe(&mut self.outer);
    }
}

/// A MAC computation over a prefix of `data`, fed one block at a time.
pub(crate) struct Run<'d, F: Family> {
    /// The inner hash's state; after [`Run::step_to_end`] finished it, the outer's.
    state: F::State,
    outer: F::State,
    out_len: usize,
    data: &'d [u8],
    hashed: usize,
    /// 0: absorbing; 1: inner hash of `data[..hashed]` done; 2: outer hash done.
    phase: u8,
}

impl<F: Family> Run<'_, F> {
    /// Compresses the next block of the data if it ends at or before `limit`.
    #[inline]
    pub(crate) fn step_to(&mut self, limit: usize) {
        let end = self.hashed + F::BLOCK;
        if self.phase == 0 && end <= limit {
            if let Some(block) = self.data.get(self.hashed..end) {
                F::compress(&mut self.state, block);
                self.hashed = end;
            }
        }
    }

    /// One step towards the MAC of `data[..end]`: the next block, or when no whole block is
    /// left, the inner hash's padding, then the outer hash. [`Run::finish`] must then be asked
    /// for the same `end`.
    #[inline]
    pub(crate) fn step_to_end(&mut self, end: usize) {
        match self.phase {
            0 if self.hashed + F::BLOCK <= end => self.step_to(end),
            0 => self.finish_inner(end),
            1 => self.finish_outer(),
            _ => {}
        }
    }

    fn finish_inner(&mut self, end: usize) {
        if let Some(rest) = self.data.get(self.hashed..end) {
            finish::<F>(&mut self.state, rest, F::BLOCK + end);
            self.hashed = end;
            self.phase = 1;
        }
    }

    fn finish_outer(&mut self) {
        let mut inner = [0u8; MAX_OUT];
        F::bytes(&self.state, &mut inner);
        let mut outer = self.outer;
        finish::<F>(
            &mut outer,
            inner.get(..self.out_len).unwrap_or_default(),
            F::BLOCK + self.out_len,
        );
        self.state = outer;
        F::wipe(&mut outer);
        wipe_bytes(&mut inner);
        self.phase = 2;
    }

    /// Finishes the MAC of `data[..end]` into `out`; returns its length, or 0 (no MAC) when
    /// `end` is before what was already hashed, past the data, or not the `end` the steps
    /// finished at (which callers never ask).
    pub(crate) fn finish(&mut self, end: usize, out: &mut [u8; MAX_OUT]) -> usize {
        if self.phase == 0 {
            self.finish_inner(end);
        }
        if self.phase == 0 || self.hashed != end {
            return 0;
        }
        if self.phase == 1 {
            self.finish_outer();
        }
        F::bytes(&self.state, out);
        self.out_len
    }

    /// Finishes the MAC of `data[..end]` and compares it with `tag` in constant time.
    pub(crate) fn verify(&mut self, end: usize, tag: &[u8]) -> bool {
        let mut mac = [0u8; MAX_OUT];
        let n = self.finish(end, &mut mac);
        let ok = n != 0 && crate::ct::eq(mac.get(..n).unwrap_or_default(), tag);
        // The right MAC of data whose tag was wrong is a forgery waiting to happen: not left
        // on the stack.
        wipe_bytes(&mut mac);
        ok
    }
}

impl<F: Family> Drop for Run<'_, F> {
    fn drop(&mut self) {
        F::wipe(&mut self.state);
        F::wipe(&mut self.outer);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hmac::{Hmac, KeyInit, Mac};

    fn reference<M: Mac + KeyInit>(key: &[u8], data: &[u8]) -> std::vec::Vec<u8> {
        let mut m = <M as KeyInit>::new_from_slice(key).unwrap();
        m.update(data);
        m.finalize().into_bytes().to_vec()
    }

    #[test]
    fn matches_the_hmac_crate_for_all_key_and_data_lengths() {
        let bytes: std::vec::Vec<u8> = (0..700u32).map(|i| (i * 131 % 253) as u8).collect();
        let key_lens = [
            0, 1, 31, 32, 33, 63, 64, 65, 111, 112, 127, 128, 129, 200, 300,
        ];
        for &kl in &key_lens {
            let key = &bytes[..kl];
            let k256 = Key::<Sha256>::new(IV_256, 32, key);
            let k384 = Key::<Sha512>::new(IV_384, 48, key);
            let k512 = Key::<Sha512>::new(IV_512, 64, key);
            for dl in 0..=300 {
                let data = &bytes[100..100 + dl];
                let mut out = [0u8; MAX_OUT];
                let n = k256.mac(data, &mut out);
                assert_eq!(out[..n], reference::<Hmac<sha2::Sha256>>(key, data)[..]);
                let n = k384.mac(data, &mut out);
                assert_eq!(out[..n], reference::<Hmac<sha2::Sha384>>(key, data)[..]);
                let n = k512.mac(data, &mut out);
                assert_eq!(out[..n], reference::<Hmac<sha2::Sha512>>(key, data)[..]);
            }
        }
    }

    #[test]
    fn stepping_changes_nothing_and_never_passes_the_limit() {
        stepping_for(Key::<Sha256>::new(
            IV_256,
            32,
            b"0123456789abcdef0123456789abcdef",
        ));
        stepping_for(Key::<Sha512>::new(IV_384, 48, &[5; 48]));
        stepping_for(Key::<Sha512>::new(IV_512, 64, &[6; 64]));
    }

    fn stepping_for<F: Family>(key: Key<F>) {
        let data: std::vec::Vec<u8> = (0..700u32).map(|i| (i * 7 % 251) as u8).collect();
        let n = key.out_len;
        for end in [
            0, 1, 55, 56, 63, 64, 65, 111, 112, 119, 120, 127, 128, 129, 239, 240, 256, 700,
        ] {
            let mut want = [0u8; MAX_OUT];
            key.mac(&data[..end], &mut want);
            for stride in [1, 13, 64, 65, 1000] {
                let mut run = key.run(&data);
                let mut limit = 0;
                while limit < end {
                    limit = (limit + stride).min(end);
                    run.step_to(limit);
                    run.step_to(limit);
                }
                assert!(run.verify(end, &want[..n]), "{end} {stride}");
                // Stepping to the end, any number of times, then finishing.
                for steps in 0..16 {
                    let mut run = key.run(&data);
                    for _ in 0..steps {
                        run.step_to_end(end);
                    }
                    assert!(run.verify(end, &want[..n]), "{end} {steps}");
                    let mut run = key.run(&data);
                    for _ in 0..steps {
                        run.step_to_end(end);
                    }
                    let mut bad = want;
                    bad[n - 1] ^= 0x80;
                    assert!(!run.verify(end, &bad[..n]));
                }
            }
        }
    }
}
