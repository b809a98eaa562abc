//! Clocks: wall time for JWT claims.

use std::time::{SystemTime, UNIX_EPOCH};

/// The current Unix time in whole seconds from the system clock (negative before 1970).
#[must_use]
pub fn unix_now() -> i64 {
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => i64::try_from(e.duration().as_secs()).map_or(i64::MIN, |s| -s),
    }
}
