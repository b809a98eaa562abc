//! Randomness from the operating system (`/dev/urandom`), for session `jti`s, the demo's
//! `AUTH_SECRET` and the token server's tokens.
//!
//! authcore-std's OS random source will replace this once it lands; until then the demo reads
//! the device itself (Linux, macOS and the BSDs have it).

use std::fs::File;
use std::io::{self, Read};

use authcore::rand::{RandomError, RandomSource};

/// The OS random device.
#[derive(Debug)]
pub struct OsRandom {
    file: File,
}

impl OsRandom {
    /// Opens `/dev/urandom`.
    ///
    /// # Errors
    ///
    /// The open error (no such device on this OS).
    pub fn new() -> io::Result<Self> {
        File::open("/dev/urandom")
            .map(|file| Self { file })
            .map_err(|e| io::Error::new(e.kind(), format!("cannot open /dev/urandom: {e}")))
    }

    /// `n` random bytes as `2n` lowercase hex digits.
    ///
    /// # Errors
    ///
    /// The read error.
    pub fn hex(&mut self, n: usize) -> io::Result<String> {
        let mut bytes = vec![0u8; n];
        self.file.read_exact(&mut bytes)?;
        Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
    }
}

impl RandomSource for OsRandom {
    fn fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), RandomError> {
        self.file.read_exact(dst).map_err(|_| RandomError)
    }
}
