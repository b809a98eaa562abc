#![doc = include_str!("../README.md")]
#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(clippy::std_instead_of_core, clippy::alloc_instead_of_core)]

#[cfg(test)]
extern crate std;

pub mod base64url;
pub mod claims;
pub mod cookie;
mod ct;
pub mod error;
mod hmac_sha2;
pub mod json;
pub mod jws;
pub mod rand;
pub mod refresh;
pub mod session;
mod swar;
pub mod time;

#[cfg(feature = "jwe")]
pub mod jwe;

#[cfg(feature = "embedded-io")]
pub mod http;

pub use claims::Validation;
pub use error::{DecodeError, EncodeError, KeyError};
pub use jws::{Algorithm, HmacKey};

/// Whether a `Debug` output shows `secret`, as text or as the decimal bytes a `[u8]` field
/// prints (`82, 84, ...`). For the tests that check that secrets are redacted.
#[cfg(test)]
pub(crate) fn debug_shows(shown: &str, secret: &str) -> bool {
    let bytes = secret
        .bytes()
        .map(|b| std::format!("{b}"))
        .collect::<std::vec::Vec<_>>()
        .join(", ");
    shown.contains(secret) || shown.contains(&bytes)
}

/// A small deterministic generator for the randomized unit tests: `rnd(n)` is in `0..n`
/// (xorshift64, so every run sees the same inputs).
#[cfg(test)]
pub(crate) fn test_rng(seed: u64) -> impl FnMut(usize) -> usize {
    let mut x = seed | 1;
    move |n: usize| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        usize::try_from(x % (n.max(1) as u64)).unwrap_or(0)
    }
}
