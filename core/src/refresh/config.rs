//! Timing configuration of the refresh machine.

/// When to refresh, how long to wait after a failure, and how to read `expires_in`.
///
/// All durations are whole seconds. Every default is chosen for a confidential client talking to
/// a well-behaved authorization server; the reason is given on each setter. The margins are
/// capped at half of the current token's lifetime, so short-lived tokens are still used for half
/// of their life before the machine asks for a new one.
///
/// ```
/// use authcore::refresh::Config;
/// let config = Config::default().advisory_margin(120).mandatory_margin(15);
/// assert_eq!(config.advisory_margin_secs(), 120);
/// ```
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    pub(crate) advisory_margin: u32,
    pub(crate) mandatory_margin: u32,
    pub(crate) jitter_max: u32,
    pub(crate) default_expires_in: u32,
    pub(crate) min_expires_in: u32,
    pub(crate) max_expires_in: u32,
    pub(crate) backoff_initial: u32,
    pub(crate) backoff_max: u32,
    pub(crate) retry_after_max: u32,
    pub(crate) stale_backoff: u32,
    pub(crate) min_refresh_interval: u32,
}

impl Config {
    /// The defaults, usable in `const` contexts (same values as [`Config::default`]).
    pub const DEFAULT: Self = Self {
        advisory_margin: 60,
        mandatory_margin: 10,
        jitter_max: 30,
        default_expires_in: 3600,
        min_expires_in: 1,
        max_expires_in: 365 * 24 * 3600,
        backoff_initial: 5,
        backoff_max: 300,
        retry_after_max: 600,
        stale_backoff: 30,
        min_refresh_interval: 10,
    };

    /// Start refreshing this many seconds before expiry, while the current access token is still
    /// handed out (the *advisory* window). Default **60 s**: trusted clients use margins between
    /// 10 s and 5 min; one minute covers a slow token endpoint plus a retry or two without
    /// refreshing much more often than needed. Capped at half the token lifetime.
    #[must_use]
    pub const fn advisory_margin(mut self, secs: u32) -> Self {
        self.advisory_margin = secs;
        self
    }

    /// Stop handing out the access token this many seconds before expiry; callers must wait for
    /// the refresh (the *mandatory* window). Default **10 s**: enough for a request carrying the
    /// token to reach a resource server whose clock is a few seconds ahead. Capped at half the
    /// token lifetime and never larger than the advisory margin.
    #[must_use]
    pub const fn mandatory_margin(mut self, secs: u32) -> Self {
        self.mandatory_margin = secs;
        self
    }

    /// Start the advisory window up to this many seconds earlier, chosen at random per
    /// credential (and shorten each backoff delay by up to a quarter, at most this much). Default **30 s**: a
    /// fleet of devices that signed in together (after an outage, say) spreads its refreshes over
    /// half a minute instead of hitting the token endpoint in the same second.
    #[must_use]
    pub const fn jitter_max(mut self, secs: u32) -> Self {
        self.jitter_max = secs;
        self
    }

    /// Lifetime assumed when a successful response has no `expires_in`. Default **3600 s**: RFC
    /// 6749 §5.1 only recommends the field, and one hour is the lifetime most providers issue;
    /// assuming longer would hand out tokens the server already rejects.
    #[must_use]
    pub const fn default_expires_in(mut self, secs: u32) -> Self {
        self.default_expires_in = secs;
        self
    }

    /// Smallest `expires_in` accepted; smaller values (including `0`) are raised to it. Default
    /// **1 s**: a token is never recorded as already expired, and nothing longer than the server
    /// said is assumed.
    #[must_use]
    pub const fn min_expires_in(mut self, secs: u32) -> Self {
        self.min_expires_in = secs;
        self
    }

    /// Largest `expires_in` accepted; larger values are lowered to it. Default **1 year**: keeps
    /// `now + expires_in` far from overflow and makes a buggy huge value refresh at least yearly.
    #[must_use]
    pub const fn max_expires_in(mut self, secs: u32) -> Self {
        self.max_expires_in = secs;
        self
    }

    /// First delay after a transient failure; it doubles with each consecutive failure. Default
    /// **5 s**: long enough not to hammer a server that just failed, short enough to recover
    /// inside the default advisory window.
    #[must_use]
    pub const fn backoff_initial(mut self, secs: u32) -> Self {
        self.backoff_initial = secs;
        self
    }

    /// Largest delay between retries after transient failures. Default **300 s**: a device that
    /// lost its network for hours still retries every five minutes.
    #[must_use]
    pub const fn backoff_max(mut self, secs: u32) -> Self {
        self.backoff_max = secs;
        self
    }

    /// Largest `Retry-After` honoured; larger values are lowered to it. `Retry-After` is a lower
    /// bound on the wait: it lengthens the backoff, never shortens it. Default **600 s**: a
    /// wrong header cannot silence refresh for hours.
    #[must_use]
    pub const fn retry_after_max(mut self, secs: u32) -> Self {
        self.retry_after_max = secs;
        self
    }

    /// Delay before trying again when the server answered with a token that does not extend
    /// the expiry, or that expires no later than the end of
    /// [`min_refresh_interval`](Self::min_refresh_interval); it doubles with each consecutive
    /// such answer, up to
    /// [`backoff_max`](Self::backoff_max). Default **30 s**: such a server would otherwise be
    /// asked again at once, forever.
    #[must_use]
    pub const fn stale_backoff(mut self, secs: u32) -> Self {
        self.stale_backoff = secs;
        self
    }

    /// Never start a refresh sooner than this after a successful one. Default **10 s**: bounds the
    /// request rate against servers that issue very short-lived tokens; it equals the smallest
    /// margin trusted clients use.
    ///
    /// A token that lives longer than this but less than twice as long (e.g. 15 s) is
    /// refreshed when the interval ends; between half its lifetime (its mandatory window) and
    /// then it is not handed out. Lower this for providers with such tokens.
    #[must_use]
    pub const fn min_refresh_interval(mut self, secs: u32) -> Self {
        self.min_refresh_interval = secs;
        self
    }

    /// The advisory margin in seconds.
    pub const fn advisory_margin_secs(&self) -> u32 {
        self.advisory_margin
    }

    /// The mandatory margin in seconds.
    pub const fn mandatory_margin_secs(&self) -> u32 {
        self.mandatory_margin
    }

    /// Clamps a wire `expires_in` (whole seconds, see [`super::response::Tokens::expires_in`]) to the bounds.
    pub(crate) fn clamp_expires_in(&self, value: u64) -> u32 {
        let max = self.max_expires_in.max(self.min_expires_in);
        let value = u32::try_from(value).unwrap_or(u32::MAX);
        value.clamp(self.min_expires_in, max)
    }

    /// Exponential delay for the `attempt`-th consecutive failure (1-based), capped.
    pub(crate) fn backoff(&self, base: u32, attempt: u32) -> u32 {
        let shift = attempt.saturating_sub(1).min(31);
        let factor = 1u32 << shift;
        base.saturating_mul(factor).min(self.backoff_max.max(base))
    }
}

impl Default for Config {
    fn default() -> Self {
        Self::DEFAULT
    }
}
