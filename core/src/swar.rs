//! Eight bytes at a time in a `u64` (SIMD within a register), for the byte searches of the
//! JSON, base64url and cookie scanners.
//!
//! The masks set the high bit of each flagged byte. A subtraction can borrow from a flagged
//! byte into the next one up, so bits *above* the lowest may be spurious: with a little-endian
//! load, only the lowest set bit (the first flagged byte in memory) is exact, and "any flag" is
//! exact too.

/// `0x01` in every byte.
pub(crate) const ONES: u64 = u64::from_le_bytes([0x01; 8]);
/// `0x80` in every byte.
pub(crate) const HIGHS: u64 = u64::from_le_bytes([0x80; 8]);

/// Flags the bytes of `word` equal to `b` (lowest set bit exact).
#[inline(always)]
pub(crate) const fn eq_mask(word: u64, b: u8) -> u64 {
    let x = word ^ (ONES * b as u64);
    x.wrapping_sub(ONES) & !x & HIGHS
}

/// Flags the bytes of `word` below `n` (`n` at most 0x80; lowest set bit exact). Bytes from
/// 0x80 up are never flagged.
#[inline(always)]
pub(crate) const fn below_mask(word: u64, n: u8) -> u64 {
    word.wrapping_sub(ONES * n as u64) & !word & HIGHS
}

/// Offset of the first byte of a chunk flagged by `mask`, given a non-zero mask of a
/// little-endian load.
#[inline(always)]
pub(crate) const fn first(mask: u64) -> usize {
    (mask.trailing_zeros() / 8) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_find_the_first_flagged_byte() {
        let mut next = crate::test_rng(3);
        for _ in 0..50_000 {
            let bytes: [u8; 8] = core::array::from_fn(|_| {
                [
                    b'"', b'\\', b'=', b';', 0x00, 0x1f, 0x20, 0x7f, 0x80, 0xff, b'a',
                ][next(11)]
            });
            let word = u64::from_le_bytes(bytes);
            for b in [b'"', b'\\', b'=', b';'] {
                let m = eq_mask(word, b);
                assert_eq!(
                    (m != 0).then(|| first(m)),
                    bytes.iter().position(|&x| x == b),
                    "{bytes:?} {b}"
                );
            }
            for n in [0x20, b'-', 0x80] {
                let m = below_mask(word, n);
                assert_eq!(
                    (m != 0).then(|| first(m)),
                    bytes.iter().position(|&x| x < n),
                    "{bytes:?} below {n}"
                );
            }
        }
    }
}
