//! In-memory limits: failed logins per account, and commands per player per second.
//!
//! Both live in the service process, not the database: they must keep working (and keep costing
//! nothing) when PostgreSQL is slow or down, and losing them on restart only resets the counters.
//! Both take the current [`Instant`] as an argument, so their arithmetic is tested without sleeping.

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::time::{Duration, Instant};

/// Above this many tracked keys, entries with nothing left to remember are dropped on the next write.
const PRUNE_ABOVE_ENTRIES: usize = 10_000;

/// Counts failed logins per account key (the lowercase username) over a sliding window.
///
/// `failure_limit` failures within `window` lock the key until the oldest of them leaves the
/// window. Unknown usernames are counted like real ones, so the lock reveals nothing about
/// which accounts exist.
#[derive(Debug)]
pub struct LoginThrottle {
    failure_limit: usize,
    window: Duration,
    failures: HashMap<String, VecDeque<Instant>>,
}

impl LoginThrottle {
    /// A throttle that locks a key after `failure_limit` (at least 1) failures within `window`.
    #[must_use]
    pub fn new(failure_limit: u32, window: Duration) -> LoginThrottle {
        let failure_limit = usize::try_from(failure_limit).unwrap_or(usize::MAX).max(1);
        LoginThrottle { failure_limit, window, failures: HashMap::new() }
    }

    /// `Some(how long until the lock lifts)` when `key` is locked at `now`, else `None`.
    pub fn locked_for(&mut self, key: &str, now: Instant) -> Option<Duration> {
        let recent = self.failures.get_mut(key)?;
        forget_older_than(recent, now, self.window);
        if recent.len() < self.failure_limit {
            return None;
        }
        // The lock lifts when enough failures have aged out to drop below the limit.
        let index_that_must_expire = recent.len() - self.failure_limit;
        let expires = recent.get(index_that_must_expire).map(|failed_at| *failed_at + self.window)?;
        Some(expires.saturating_duration_since(now))
    }

    /// Records a failed attempt on `key` at `now`.
    pub fn record_failure(&mut self, key: &str, now: Instant) {
        if self.failures.len() > PRUNE_ABOVE_ENTRIES {
            let window = self.window;
            self.failures.retain(|_, recent| {
                forget_older_than(recent, now, window);
                !recent.is_empty()
            });
        }
        let recent = self.failures.entry(key.to_owned()).or_default();
        forget_older_than(recent, now, self.window);
        recent.push_back(now);
        // Only the last `failure_limit` failures matter for the lock; keep memory per key bounded.
        while recent.len() > self.failure_limit {
            recent.pop_front();
        }
    }

    /// Forgets `key`'s failures (after a successful login).
    pub fn record_success(&mut self, key: &str) {
        self.failures.remove(key);
    }
}

fn forget_older_than(recent: &mut VecDeque<Instant>, now: Instant, window: Duration) {
    while recent.front().is_some_and(|failed_at| now.saturating_duration_since(*failed_at) >= window) {
        recent.pop_front();
    }
}

/// A token bucket per key: `rate_per_second` commands per second on average, bursts of up to `burst`.
#[derive(Debug)]
pub struct RateLimiter<Key> {
    rate_per_second: f64,
    burst: f64,
    buckets: HashMap<Key, Bucket>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    refilled_at: Instant,
}

impl<Key: Eq + Hash + Clone> RateLimiter<Key> {
    /// A limiter refilling `rate_per_second` tokens per second up to `burst` tokens (a new key starts full).
    #[must_use]
    pub fn new(rate_per_second: f64, burst: f64) -> RateLimiter<Key> {
        RateLimiter { rate_per_second: rate_per_second.max(0.0), burst: burst.max(1.0), buckets: HashMap::new() }
    }

    /// Takes one token for `key` at `now`; `false` when the bucket is empty (the command is refused).
    pub fn try_acquire(&mut self, key: &Key, now: Instant) -> bool {
        if self.buckets.len() > PRUNE_ABOVE_ENTRIES {
            // A bucket that has refilled completely says nothing a fresh one would not.
            let (rate, burst) = (self.rate_per_second, self.burst);
            self.buckets.retain(|_, bucket| refilled(*bucket, now, rate, burst) < burst);
        }
        let fresh = Bucket { tokens: self.burst, refilled_at: now };
        let bucket = self.buckets.entry(key.clone()).or_insert(fresh);
        bucket.tokens = refilled(*bucket, now, self.rate_per_second, self.burst);
        bucket.refilled_at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

fn refilled(bucket: Bucket, now: Instant, rate_per_second: f64, burst: f64) -> f64 {
    let elapsed = now.saturating_duration_since(bucket.refilled_at).as_secs_f64();
    (bucket.tokens + elapsed * rate_per_second).min(burst)
}

#[cfg(test)]
mod tests {
    use super::*;

    const WINDOW: Duration = Duration::from_secs(15 * 60);

    #[test]
    fn five_failures_within_the_window_lock_the_account_until_the_oldest_ages_out() {
        let mut throttle = LoginThrottle::new(5, WINDOW);
        let start = Instant::now();
        for minute in 0..4 {
            throttle.record_failure("alice", start + Duration::from_secs(60 * minute));
        }
        assert_eq!(throttle.locked_for("alice", start + Duration::from_secs(240)), None, "4 failures do not lock");
        throttle.record_failure("alice", start + Duration::from_secs(240));
        let locked = throttle.locked_for("alice", start + Duration::from_secs(300));
        assert_eq!(locked, Some(WINDOW - Duration::from_secs(300)), "locked until the first failure is 15 min old");
        assert_eq!(throttle.locked_for("alice", start + WINDOW), None, "the first failure has aged out");
        assert_eq!(throttle.locked_for("bob", start), None, "other accounts are unaffected");
    }

    #[test]
    fn failures_spread_wider_than_the_window_never_lock() {
        let mut throttle = LoginThrottle::new(5, WINDOW);
        let start = Instant::now();
        for attempt in 0..20 {
            let at = start + Duration::from_secs(4 * 60) * attempt;
            throttle.record_failure("alice", at);
            assert_eq!(throttle.locked_for("alice", at), None, "attempt {attempt}");
        }
    }

    #[test]
    fn a_successful_login_clears_the_failures() {
        let mut throttle = LoginThrottle::new(2, WINDOW);
        let now = Instant::now();
        throttle.record_failure("alice", now);
        throttle.record_success("alice");
        throttle.record_failure("alice", now);
        assert_eq!(throttle.locked_for("alice", now), None);
    }

    #[test]
    fn the_bucket_allows_a_burst_then_the_refill_rate() {
        let mut limiter = RateLimiter::new(20.0, 20.0);
        let start = Instant::now();
        let allowed = (0..100).filter(|_| limiter.try_acquire(&1, start)).count();
        assert_eq!(allowed, 20, "a full bucket allows one burst");
        assert!(!limiter.try_acquire(&1, start + Duration::from_millis(10)), "0.2 tokens refilled is not enough");
        assert!(limiter.try_acquire(&1, start + Duration::from_millis(60)), "after 50 ms one token is back");
        assert!(limiter.try_acquire(&2, start), "other keys have their own bucket");
        let after_a_second = start + Duration::from_secs(2);
        let allowed = (0..100).filter(|_| limiter.try_acquire(&1, after_a_second)).count();
        assert_eq!(allowed, 20, "the bucket never holds more than the burst");
    }
}
