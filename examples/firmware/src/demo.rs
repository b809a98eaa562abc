//! The firmware's one pass, with its inputs: the same sequence `main.rs` runs on the device
//! and `tests/host.rs` runs on the host.
//!
//! The inputs are demo values: a real device keeps its secrets in protected storage and gets
//! the token, the cookie and the response from the network.

use authcore::http::Target;
use authcore::jws::Algorithm;
use authcore::refresh::{Client, Config};
use authcore::HmacKey;

use crate::{
    build_refresh_request, exchange, next_refresh_deadline, parse_refresh_response, verify_hs256,
    Error, Loopback, Machine, Refreshed, JWS_SCRATCH_LEN,
};

/// The instant the demo inputs are valid at (Unix seconds): the device clock at boot.
pub const NOW: i64 = 1_795_330_672;

/// The HS256 key shared by the device and its backend (32 bytes, the minimum for HS256).
pub const DEVICE_SECRET: &[u8] = b"hall-thermostat-hs256-secret-v01";

/// The device's HS256 session token: `sub`, `name`, the OAuth credential an Auth.js `jwt`
/// callback keeps (`accessToken`, `refreshToken`, `expiresAt` = [`NOW`] + 600), `iat` =
/// [`NOW`] - 5 and `exp` = [`NOW`] + 3595.
pub const SESSION_TOKEN: &str = concat!(
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.",
    "eyJzdWIiOiJkZXZpY2UtN2YzYSIsIm5hbWUiOiJIYWxsIHRoZXJtb3N0YXQiLCJhY2Nlc3NUb2tlbiI6ImF0LjJj",
    "OWYxZS52MSIsInJlZnJlc2hUb2tlbiI6InJ0LjViN2QwYS52MSIsImV4cGlyZXNBdCI6MTc5NTMzMTI3MiwiaWF0",
    "IjoxNzk1MzMwNjY3LCJleHAiOjE3OTUzMzQyNjd9.",
    "Rgzy3P3EHvB0YgWbvH8-iXnK0ZQdF7HIRXeLSgiEI0k",
);

/// The Auth.js `AUTH_SECRET` of the web app whose session cookie the device opens.
#[cfg(feature = "jwe")]
pub const AUTH_SECRET: &[u8] = b"F8irh3N7INIjqvKOMGP18CBMxbMMPZUuDg7shlYKIX4=";

/// The session cookie's name (and key-derivation salt) over HTTPS.
#[cfg(feature = "jwe")]
pub const COOKIE_NAME: &str = "__Secure-authjs.session-token";

/// A `Cookie` header carrying an Auth.js v5 session cookie (vector
/// `with-oauth-tokens-secure-cookie` of `tests/tests/vectors/authjs-v5.json`, valid at [`NOW`]),
/// split into two chunks sent out of order, between unrelated cookies.
#[cfg(feature = "jwe")]
pub const COOKIE_HEADER: &str = concat!(
    "theme=dark; __Secure-authjs.session-token.1=",
    "Dxxt3Jst3c1G3-6rQE-uKhSfe-xIC3yGAd8m_L0hdXQxSqoa6zeWKnMQW3wFWo7ppkSLmgcNak6H5GHf0tgI_NEHTD",
    "lM8Br4lo33wfde95hoQfM-XHvonqaRwCawhjWgzdqh-arTY3RziQKijmGirdVu7fTbfdQfp3u9p5znUcjfA-ZpP-p4",
    "G7oDTM0_GB_6q3HwzRCTMqbh1hD6FroMpc7wZvauVLO-G8kGhK2vLt5jQ6-KQN-youmsn-8falDY_oZl5ompJIQjXc",
    "g__QEckjBHrI9WVaFpaG_F-vOJammuDYf_56JR8gHPQJh1YLJe5Va1YyPUf5Qr-hB4CF8cQMCVPHEGONuS4ueIuS5e",
    "kw0Nr7kAG-GTH2FGGBMdYV2FpJPmMj2s_6_geVjoUg.xWbkq0WJJlUgeyEkWblEe5MWlL0-LMdBVmSDz8hC2CM",
    "; __Secure-authjs.session-token.0=",
    "eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2Q0JDLUhTNTEyIiwia2lkIjoiQ3BiTHdoQ0ZXRG5sN1FUV1pua2hxTVgyM3",
    "I2eEZaeFFVb094OC1PVHhiVWxVNmN4Tnh3SEUzNlRhLVBqbmNyRS1jbk9YWldvZE5MYmt1VHVEMUU1VFEifQ..g9D0",
    "VpUAJbuVD7Y8Bpy_ng.LSWCbqJWPeYjI8dIfRlxotWhvoylbQwy3bCED4XUGycADN5RLOC8cdFzs-YHcZlYej8fsqY",
    "9uJ8I88iQglcFhIwWRKFe9OrQSTFs1rC2ejWMiZ6483-heJeDr7SJfRxVU2NfVUGFdrHu7XZl_fhRd_8ctW7m_hKwz",
    "6AdoIloQ3PmXoX-lj-M3Yv_14tDm21VycKH55WOF_yV0fpitDt81nb8TKAqJKzSoK-hlBrWKLxpdoBaH4P4pYgz4Yq",
    "KqI85kJK86OXKiU6PkMUKWxezX7jg7",
    "; lang=en"
);

/// The OAuth client the device refreshes as (`client_secret_basic`).
pub const CLIENT: Client<'static> = Client::secret_basic("hall-thermostat", "client-secret-7c1b");

/// The token endpoint.
pub const TARGET: Target<'static> = Target {
    host: "auth.example.com",
    path: "/oauth/token",
};

/// The token endpoint's canned answer: a rotated refresh token and a one-hour access token.
pub const CANNED_RESPONSE: &str = concat!(
    "HTTP/1.1 200 OK\r\n",
    "Content-Type: application/json\r\n",
    "Cache-Control: no-store\r\n",
    "Content-Length: 134\r\n",
    "\r\n",
    r#"{"access_token":"at.9e4d21.v2","token_type":"Bearer","expires_in":3600,"#,
    r#""refresh_token":"rt.c0ffee.v2","scope":"openid offline_access"}"#,
);

/// Seed of the refresh jitter (a real device takes it from its RNG or unique id).
pub const JITTER_SEED: u32 = 0x5EED_F00D;

/// The refresh timing: Auth.js-style margins, jitter up to 30 s.
pub const REFRESH_CONFIG: Config = Config::DEFAULT;

/// A fresh, empty refresh machine (const: it lives in a static on the device).
#[must_use]
pub const fn machine() -> Machine {
    Machine::new(REFRESH_CONFIG, JITTER_SEED)
}

const fn max(a: usize, b: usize) -> usize {
    if a > b {
        a
    } else {
        b
    }
}

/// Scratch for both decoders.
#[cfg(feature = "jwe")]
pub const SCRATCH_LEN: usize = max(JWS_SCRATCH_LEN, crate::JWE_SCRATCH_LEN);
/// Scratch for the decoder.
#[cfg(not(feature = "jwe"))]
pub const SCRATCH_LEN: usize = max(JWS_SCRATCH_LEN, 0);

/// Size of the form-body buffer.
pub const REQUEST_LEN: usize = 512;
/// Size of the transmit buffer (the whole HTTP request).
pub const TX_LEN: usize = 1024;
/// Size of the response buffer.
pub const RX_LEN: usize = 1024;

/// Every buffer the firmware uses; one static instance on the device. `Debug` shows sizes
/// only: the buffers hold decrypted claims and tokens.
pub struct Buffers {
    /// Decoded token payload / decrypted cookie and unescaped strings.
    pub scratch: [u8; SCRATCH_LEN],
    /// The reassembled cookie value.
    #[cfg(feature = "jwe")]
    pub cookie: [u8; crate::MAX_TOKEN_LEN],
    /// The refresh request's form body and `Authorization` value.
    pub request: [u8; REQUEST_LEN],
    /// What went out on the "wire".
    pub tx: [u8; TX_LEN],
    /// The HTTP response (headers and decoded body).
    pub rx: [u8; RX_LEN],
}

impl Buffers {
    /// Zeroed buffers (const: `.bss` on the device).
    #[must_use]
    pub const fn new() -> Self {
        Self {
            scratch: [0; SCRATCH_LEN],
            #[cfg(feature = "jwe")]
            cookie: [0; crate::MAX_TOKEN_LEN],
            request: [0; REQUEST_LEN],
            tx: [0; TX_LEN],
            rx: [0; RX_LEN],
        }
    }
}

impl core::fmt::Debug for Buffers {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Buffers")
            .field("scratch", &self.scratch.len())
            .field("request", &self.request.len())
            .field("tx", &self.tx.len())
            .field("rx", &self.rx.len())
            .finish_non_exhaustive()
    }
}

impl Default for Buffers {
    fn default() -> Self {
        Self::new()
    }
}

/// What one pass found, as plain numbers (the device keeps it in a status block).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Report {
    /// `exp` of the HS256 session token.
    pub session_exp: i64,
    /// `exp` of the Auth.js cookie (`None` in a JWS-only build).
    pub cookie_exp: Option<i64>,
    /// When the first refresh was due.
    pub deadline: i64,
    /// Bytes of the HTTP request that went out.
    pub request_len: usize,
    /// The refresh outcome.
    pub refreshed: Refreshed,
}

/// Verifies the HS256 session at `now`; loads its credential into `machine`; returns its `exp`
/// and the refresh deadline.
///
/// # Errors
///
/// As [`verify_hs256`] and [`next_refresh_deadline`].
pub fn session_step(
    bufs: &mut Buffers,
    machine: &mut Machine,
    now: i64,
) -> Result<(i64, i64), Error> {
    let key = HmacKey::new(Algorithm::Hs256, DEVICE_SECRET).map_err(|_| Error::NoCredential)?;
    let session = verify_hs256(SESSION_TOKEN.as_bytes(), &key, now, &mut bufs.scratch)?;
    let deadline = next_refresh_deadline(machine, &session, now)?;
    Ok((session.exp, deadline))
}

/// Opens the Auth.js cookie of [`COOKIE_HEADER`] at `now` and returns its `exp`.
///
/// # Errors
///
/// As [`crate::open_authjs_cookie`]; key derivation cannot fail for these constants
/// ([`Error::NoCredential`] if it did).
#[cfg(feature = "jwe")]
pub fn cookie_step(bufs: &mut Buffers, now: i64) -> Result<i64, Error> {
    let key = authcore::jwe::AuthJsKey::derive(AUTH_SECRET, COOKIE_NAME)
        .map_err(|_| Error::NoCredential)?;
    let session = crate::open_authjs_cookie(
        COOKIE_HEADER.as_bytes(),
        COOKIE_NAME,
        core::slice::from_ref(&key),
        now,
        &mut bufs.cookie,
        &mut bufs.scratch,
    )?;
    Ok(session.exp)
}

/// Builds the refresh request at `now`, "sends" it through a [`Loopback`] into `bufs.tx`,
/// reads [`CANNED_RESPONSE`] and commits the result. Returns the wire length and outcome.
///
/// # Errors
///
/// [`Error::NoOutcome`] when no request is due; otherwise as the steps.
pub fn refresh_step(
    bufs: &mut Buffers,
    machine: &mut Machine,
    now: i64,
) -> Result<(usize, Refreshed), Error> {
    let request =
        build_refresh_request(machine, now, &CLIENT, &mut bufs.request)?.ok_or(Error::NoOutcome)?;
    let mut wire = Loopback::new(&mut bufs.tx, CANNED_RESPONSE.as_bytes());
    let response = exchange(machine, now, &mut wire, &TARGET, &request, &mut bufs.rx)?;
    let sent = wire.sent().len();
    let refreshed = parse_refresh_response(machine, now, response)?;
    Ok((sent, refreshed))
}

/// One pass of the firmware. `boot_now` is the device clock at start; `sleep_until(t)` waits
/// until the clock reaches `t` (or later) and returns the clock then.
///
/// # Errors
///
/// The first failing step's [`Error`].
pub fn run(
    bufs: &mut Buffers,
    machine: &mut Machine,
    boot_now: i64,
    sleep_until: &mut impl FnMut(i64) -> i64,
) -> Result<Report, Error> {
    let (session_exp, deadline) = session_step(bufs, machine, boot_now)?;
    #[cfg(feature = "jwe")]
    let cookie_exp = Some(cookie_step(bufs, boot_now)?);
    #[cfg(not(feature = "jwe"))]
    let cookie_exp = None;
    let now = sleep_until(deadline).max(boot_now);
    let (request_len, refreshed) = refresh_step(bufs, machine, now)?;
    Ok(Report {
        session_exp,
        cookie_exp,
        deadline,
        request_len,
        refreshed,
    })
}
