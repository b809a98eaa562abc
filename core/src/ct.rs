//! Constant-time comparison of MACs, tags and CSRF tokens: the core's one way to compare
//! secrets.

/// Whether `a` and `b` are equal, in time that depends only on their lengths (which are public:
/// a MAC's length is fixed by its algorithm; unequal lengths return at once, as with `subtle`).
/// Eight bytes at a time: the XOR of every word pair is ORed into one difference without any
/// branch on the data, and that difference passes through [`core::hint::black_box`] once
/// before the single comparison, so the compiler cannot
/// turn the loop into an early exit. `black_box` is documented as best effort; the argument
/// does not rest on it alone: the exact OR of all differences is needed for the result, so no
/// early exit could pay off for the optimizer (the `subtle` crate relies on the same barrier,
/// once per byte).
#[must_use]
pub(crate) fn eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let (a_words, a_rest) = a.as_chunks::<8>();
    let (b_words, b_rest) = b.as_chunks::<8>();
    let mut diff = 0u64;
    for (x, y) in a_words.iter().zip(b_words) {
        diff |= u64::from_ne_bytes(*x) ^ u64::from_ne_bytes(*y);
    }
    for (x, y) in a_rest.iter().zip(b_rest) {
        diff |= u64::from(x ^ y);
    }
    core::hint::black_box(diff) == 0
}

#[cfg(test)]
mod tests {
    use super::eq;

    #[test]
    fn equal_only_when_every_byte_is() {
        for len in 0..70 {
            let a: std::vec::Vec<u8> = (0u8..).take(len).map(|i| i.wrapping_mul(7) ^ 3).collect();
            assert!(eq(&a, &a.clone()));
            for at in 0..len {
                for bit in 0..8 {
                    let mut b = a.clone();
                    b[at] ^= 1 << bit;
                    assert!(!eq(&a, &b), "len {len} byte {at} bit {bit}");
                }
            }
            assert!(!eq(&a, &a[..len.saturating_sub(1)]) || len == 0);
        }
        assert!(!eq(b"ab", b"abc"));
    }
}
