//! Randomness from the operating system: authcore-std's [`OsRandom`] (`getrandom`), plus a hex
//! helper for the demo's `AUTH_SECRET` and the token server's tokens.

use authcore::rand::{RandomError, RandomSource};
pub use authcore_std::random::OsRandom;

/// `n` random bytes from the OS as `2n` lowercase hex digits.
///
/// # Errors
///
/// [`RandomError`] when the OS source fails.
pub fn hex(n: usize) -> Result<String, RandomError> {
    let mut bytes = vec![0u8; n];
    OsRandom.fill_bytes(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}
