//! Rate limits per target (serve.md §3), so rulec stays inside what Attio and Slack
//! allow instead of learning it from 429s: a call waits for its turn. A 429 that comes
//! anyway still waits for its `Retry-After`.

use std::num::NonZeroU32;

use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota, RateLimiter};

/// At most so many calls a second (0: no limit).
pub struct Rate(Option<DefaultDirectRateLimiter>);

impl Rate {
    /// `n` calls a second, in bursts of up to `n`.
    pub fn per_second(n: u32) -> Rate {
        Rate(NonZeroU32::new(n).map(|n| RateLimiter::direct(Quota::per_second(n))))
    }

    /// Waits until a call may be made.
    pub async fn wait(&self) {
        if let Some(limiter) = &self.0 {
            limiter.until_ready().await;
        }
    }
}

/// At most so many calls a second for each key (a Slack channel).
pub struct RatePerKey(Option<DefaultKeyedRateLimiter<String>>);

impl RatePerKey {
    /// `n` calls a second per key (0: no limit).
    pub fn per_second(n: u32) -> RatePerKey {
        RatePerKey(NonZeroU32::new(n).map(|n| RateLimiter::keyed(Quota::per_second(n))))
    }

    /// Waits until a call for `key` may be made.
    pub async fn wait(&self, key: &str) {
        if let Some(limiter) = &self.0 {
            limiter.until_key_ready(&key.to_string()).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_beyond_the_rate_is_held_back() {
        let writes = Rate::per_second(25);
        let limiter = writes.0.as_ref().unwrap();
        let allowed = (0..40).filter(|_| limiter.check().is_ok()).count();
        // The first second's 25 go at once; the rest wait (a slow machine may
        // have earned one or two more by the time it counts).
        assert!((25..=27).contains(&allowed), "{allowed}");
        assert!(Rate::per_second(0).0.is_none(), "0 is no limit");
        let channels = RatePerKey::per_second(1);
        let limiter = channels.0.as_ref().unwrap();
        assert!(limiter.check_key(&"#wins".to_string()).is_ok());
        assert!(limiter.check_key(&"#wins".to_string()).is_err());
        assert!(
            limiter.check_key(&"#ops".to_string()).is_ok(),
            "per channel"
        );
    }
}
