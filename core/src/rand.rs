//! Randomness supplied by the caller.
//!
//! The core has no entropy of its own. Operations that need random bytes (a JWE IV, a token `jti`,
//! refresh jitter, a CSRF token) take a [`RandomSource`]. Firmware implements it over its hardware
//! RNG; servers pass the std adapter's OS source or any `rand_core` cryptographic RNG wrapped in a
//! one-line impl.

use core::fmt;

/// A source of cryptographically secure random bytes.
pub trait RandomSource {
    /// Fills `dst` entirely with random bytes.
    ///
    /// # Errors
    ///
    /// [`RandomError`] when the source cannot deliver (a hardware RNG fault, say); callers then
    /// fail the operation instead of using predictable bytes.
    fn fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), RandomError>;
}

impl<R: RandomSource + ?Sized> RandomSource for &mut R {
    fn fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), RandomError> {
        (**self).fill_bytes(dst)
    }
}

/// The random source failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RandomError;

impl fmt::Display for RandomError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("random source failed")
    }
}

impl core::error::Error for RandomError {}

/// Length of a hyphenated UUID string.
pub const UUID_LEN: usize = 36;

/// Formats 16 random bytes as a lowercase RFC 9562 version 4 UUID, as JavaScript's
/// `crypto.randomUUID()` does (version nibble 4, variant bits `10`).
#[must_use]
pub fn uuid_v4(mut bytes: [u8; 16]) -> [u8; UUID_LEN] {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let mut out = [b'-'; UUID_LEN];
    let mut pos = 0;
    for (i, b) in bytes.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            pos += 1;
        }
        out[pos] = HEX[usize::from(b >> 4)];
        out[pos + 1] = HEX[usize::from(b & 0x0f)];
        pos += 2;
    }
    out
}

/// Draws a random version 4 UUID from `rng`.
///
/// # Errors
///
/// [`RandomError`] when `rng` fails.
pub fn random_uuid(rng: &mut (impl RandomSource + ?Sized)) -> Result<[u8; UUID_LEN], RandomError> {
    let mut bytes = [0u8; 16];
    rng.fill_bytes(&mut bytes)?;
    Ok(uuid_v4(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_has_version_and_variant() {
        let u = uuid_v4([0xff; 16]);
        assert_eq!(&u, b"ffffffff-ffff-4fff-bfff-ffffffffffff");
        let u = uuid_v4([0; 16]);
        assert_eq!(&u, b"00000000-0000-4000-8000-000000000000");
        let u = uuid_v4([
            0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc,
            0xde, 0xf0,
        ]);
        assert_eq!(&u, b"12345678-9abc-4ef0-9234-56789abcdef0");
    }
}
