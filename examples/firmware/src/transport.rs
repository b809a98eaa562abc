//! A loopback transport: records what is written, answers with canned bytes.

use authcore::http::embedded_io::{ErrorKind, ErrorType, Read, Write};

/// An `embedded_io` transport that stores everything written into `sent` and serves `reply`
/// to reads, then end-of-stream.
///
/// It stands in for the device's TCP/TLS socket: the firmware example writes its refresh
/// request into a static buffer and parses a canned response through exactly the code path a
/// socket would take. `Debug` shows lengths only: the request carries the client secret and the
/// refresh token, the reply the new tokens.
pub struct Loopback<'a> {
    sent: &'a mut [u8],
    sent_len: usize,
    reply: &'a [u8],
    read_pos: usize,
    max_read: usize,
}

impl core::fmt::Debug for Loopback<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Loopback")
            .field("sent_len", &self.sent_len)
            .field("sent_capacity", &self.sent.len())
            .field("reply_len", &self.reply.len())
            .field("read_pos", &self.read_pos)
            .field("max_read", &self.max_read)
            .finish()
    }
}

impl<'a> Loopback<'a> {
    /// A transport writing into `sent` and answering with `reply`.
    pub fn new(sent: &'a mut [u8], reply: &'a [u8]) -> Self {
        Self {
            sent,
            sent_len: 0,
            reply,
            read_pos: 0,
            max_read: usize::MAX,
        }
    }

    /// Limits every read to `n` bytes (at least 1), to exercise partial reads as a socket gives.
    #[must_use]
    pub fn with_max_read(mut self, n: usize) -> Self {
        self.max_read = n.max(1);
        self
    }

    /// The bytes written so far.
    #[must_use]
    pub fn sent(&self) -> &[u8] {
        self.sent.get(..self.sent_len).unwrap_or_default()
    }
}

impl ErrorType for Loopback<'_> {
    type Error = ErrorKind;
}

impl Write for Loopback<'_> {
    fn write(&mut self, buf: &[u8]) -> Result<usize, ErrorKind> {
        if buf.is_empty() {
            return Ok(0);
        }
        let free = self.sent.get_mut(self.sent_len..).unwrap_or_default();
        let n = buf.len().min(free.len());
        if n == 0 {
            // Full: an error, never `Ok(0)` (which `write_all` treats as a bug).
            return Err(ErrorKind::OutOfMemory);
        }
        free[..n].copy_from_slice(&buf[..n]);
        self.sent_len += n;
        Ok(n)
    }

    fn flush(&mut self) -> Result<(), ErrorKind> {
        Ok(())
    }
}

impl Read for Loopback<'_> {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, ErrorKind> {
        let rest = self.reply.get(self.read_pos..).unwrap_or_default();
        let n = rest.len().min(buf.len()).min(self.max_read);
        buf[..n].copy_from_slice(&rest[..n]);
        self.read_pos += n;
        Ok(n)
    }
}
