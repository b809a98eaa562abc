//! The operating system's random source for the core's [`RandomSource`].

use authcore::rand::{RandomError, RandomSource};

/// Random bytes from the operating system (`getrandom`).
#[derive(Debug, Clone, Copy, Default)]
pub struct OsRandom;

impl RandomSource for OsRandom {
    fn fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), RandomError> {
        getrandom::fill(dst).map_err(|_| RandomError)
    }
}
