//! Rate limits the gateway applies itself (GCRA through `governor`), before a request costs a
//! password hash or a gRPC call: logins and registrations per client address and username,
//! registrations per address, WebSocket commands per player and messages per connection.

use std::hash::Hash;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota, RateLimiter};

/// Above this many keys, keys whose bucket is full again are dropped on the next check.
const SWEEP_ABOVE_KEYS: usize = 10_000;

/// A rate limit per key.
#[derive(Debug)]
pub struct KeyedLimit<Key: Hash + Eq + Clone> {
    limiter: DefaultKeyedRateLimiter<Key>,
    clock: DefaultClock,
}

impl<Key: Hash + Eq + Clone> KeyedLimit<Key> {
    /// `quota` per key.
    #[must_use]
    pub fn new(quota: Quota) -> KeyedLimit<Key> {
        KeyedLimit { limiter: RateLimiter::keyed(quota), clock: DefaultClock::default() }
    }

    /// Takes one cell for `key`; `Err(wait)` when the key is over its limit.
    pub fn check(&self, key: &Key) -> Result<(), Duration> {
        if self.limiter.len() > SWEEP_ABOVE_KEYS {
            self.limiter.retain_recent();
        }
        self.limiter.check_key(key).map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }
}

/// A per-minute quota with a burst of the same size.
#[must_use]
pub fn per_minute(count: NonZeroU32) -> Quota {
    Quota::per_minute(count)
}

/// A per-hour quota with a burst of the same size.
#[must_use]
pub fn per_hour(count: NonZeroU32) -> Quota {
    Quota::per_hour(count)
}

/// A per-second quota with a burst of the same size.
#[must_use]
pub fn per_second(count: NonZeroU32) -> Quota {
    Quota::per_second(count)
}

/// Messages one WebSocket connection may send: 50 per second, bursts of 100. Far above any
/// client (commands are sent when controls change); a connection over it is closed.
#[must_use]
pub fn connection_messages() -> DefaultDirectRateLimiter {
    let rate = NonZeroU32::new(50).unwrap_or(NonZeroU32::MIN);
    let burst = NonZeroU32::new(100).unwrap_or(NonZeroU32::MIN);
    RateLimiter::direct(Quota::per_second(rate).allow_burst(burst))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_over_its_quota_is_told_how_long_to_wait_and_others_are_not() {
        let limit = KeyedLimit::new(per_minute(NonZeroU32::new(3).unwrap_or(NonZeroU32::MIN)));
        for _ in 0..3 {
            assert!(limit.check(&"alice").is_ok());
        }
        let wait = limit.check(&"alice").expect_err("the fourth attempt is over the limit");
        assert!(wait > Duration::from_secs(1) && wait <= Duration::from_secs(20), "{wait:?}");
        assert!(limit.check(&"bob").is_ok());
    }
}
