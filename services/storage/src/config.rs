//! Storage configuration: the names of every environment variable the storage layer reads, read
//! once into a [`StorageConfig`] and validated so a bad deployment fails at start-up with a clear error.
//!
//! Nothing else in this crate reads the environment.

use std::str::FromStr;
use std::time::Duration;

/// PostgreSQL connection URL (`postgres://user:password@host:port/database`). Unset: no PostgreSQL.
pub const DATABASE_URL: &str = "DATABASE_URL";
/// Most PostgreSQL connections the pool keeps open.
pub const DATABASE_POOL_MAX_SIZE: &str = "DATABASE_POOL_MAX_SIZE";
/// Longest wait, in milliseconds, to open one PostgreSQL connection (TCP connect and handshake).
pub const DATABASE_CONNECT_TIMEOUT_MS: &str = "DATABASE_CONNECT_TIMEOUT_MS";
/// Longest wait, in milliseconds, for a free connection when every pooled connection is busy.
pub const DATABASE_POOL_WAIT_TIMEOUT_MS: &str = "DATABASE_POOL_WAIT_TIMEOUT_MS";
/// Longest wait, in milliseconds, to check that a pooled connection still works before reuse.
pub const DATABASE_RECYCLE_TIMEOUT_MS: &str = "DATABASE_RECYCLE_TIMEOUT_MS";
/// Longest time, in milliseconds, one repository call may take (pool wait included); also the server's statement timeout.
pub const DATABASE_QUERY_TIMEOUT_MS: &str = "DATABASE_QUERY_TIMEOUT_MS";
/// Redis connection URL (`redis://host:port/db`). Unset: no Redis.
pub const REDIS_URL: &str = "REDIS_URL";
/// Name of this deployment's Redis key space: keys are `galaxy:{prefix}:...`.
pub const REDIS_KEY_PREFIX: &str = "REDIS_KEY_PREFIX";
/// Longest wait, in milliseconds, to open one Redis connection.
pub const REDIS_CONNECT_TIMEOUT_MS: &str = "REDIS_CONNECT_TIMEOUT_MS";
/// Longest time, in milliseconds, one Redis command may take (a blocking read adds its own block time).
pub const REDIS_COMMAND_TIMEOUT_MS: &str = "REDIS_COMMAND_TIMEOUT_MS";
/// Longest pause, in milliseconds, between attempts to reconnect to Redis.
pub const REDIS_RECONNECT_MAX_DELAY_MS: &str = "REDIS_RECONNECT_MAX_DELAY_MS";
/// Approximate number of entries each Redis stream keeps (`XADD ... MAXLEN ~ N`).
pub const REDIS_STREAM_MAX_LEN: &str = "REDIS_STREAM_MAX_LEN";

/// Every variable above, for start-up logs and documentation.
pub const ALL_VARIABLES: [&str; 12] = [
    DATABASE_URL,
    DATABASE_POOL_MAX_SIZE,
    DATABASE_CONNECT_TIMEOUT_MS,
    DATABASE_POOL_WAIT_TIMEOUT_MS,
    DATABASE_RECYCLE_TIMEOUT_MS,
    DATABASE_QUERY_TIMEOUT_MS,
    REDIS_URL,
    REDIS_KEY_PREFIX,
    REDIS_CONNECT_TIMEOUT_MS,
    REDIS_COMMAND_TIMEOUT_MS,
    REDIS_RECONNECT_MAX_DELAY_MS,
    REDIS_STREAM_MAX_LEN,
];

/// The longest timeout any variable accepts: anything longer is a typo, not a wish.
const LONGEST_TIMEOUT_MS: u64 = 10 * 60 * 1000;
/// The most connections one service may hold; PostgreSQL's default `max_connections` is 100.
const LARGEST_POOL: u64 = 512;
/// The longest stream cap: at 100 ticks per second, about 28 hours of `tick.completed`.
const LONGEST_STREAM: u64 = 10_000_000;

/// Why the storage configuration was rejected. Messages name the variable and never echo a password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// A variable's value is not valid UTF-8.
    #[error("{name} is not valid UTF-8")]
    NotUnicode {
        /// The variable.
        name: &'static str,
    },
    /// A variable that must be a whole number is not one.
    #[error("{name} must be a whole number, got {value:?}")]
    NotANumber {
        /// The variable.
        name: &'static str,
        /// What it was set to.
        value: String,
    },
    /// A number outside its allowed range (timeouts of zero would mean "wait forever").
    #[error("{name} must be between {min} and {max}, got {value}")]
    OutOfRange {
        /// The variable.
        name: &'static str,
        /// What it was set to.
        value: u64,
        /// Smallest allowed value.
        min: u64,
        /// Largest allowed value.
        max: u64,
    },
    /// A connection URL that cannot be used.
    #[error("{name} is not a usable URL: {reason}")]
    InvalidUrl {
        /// The variable.
        name: &'static str,
        /// What is wrong with it (without the URL itself, which may hold a password).
        reason: String,
    },
    /// A Redis key prefix with characters that would break the key layout.
    #[error("{name} must be 1 to 64 letters, digits, '_' or '-', got {value:?}")]
    InvalidKeyPrefix {
        /// The variable.
        name: &'static str,
        /// What it was set to.
        value: String,
    },
}

/// Everything the storage layer needs, read from the environment once at start-up.
///
/// A store whose URL is unset is `None`: the caller then runs without it (the one-process mode's
/// in-memory state), and says so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageConfig {
    /// PostgreSQL settings, if `DATABASE_URL` is set.
    pub postgres: Option<PostgresConfig>,
    /// Redis settings, if `REDIS_URL` is set.
    pub redis: Option<RedisConfig>,
}

impl StorageConfig {
    /// Reads and validates every variable in [`ALL_VARIABLES`] from the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        let mut values = Vec::with_capacity(ALL_VARIABLES.len());
        for name in ALL_VARIABLES {
            match std::env::var(name) {
                Ok(value) => values.push((name, value)),
                Err(std::env::VarError::NotPresent) => {}
                Err(std::env::VarError::NotUnicode(_)) => return Err(ConfigError::NotUnicode { name }),
            }
        }
        Self::from_lookup(|wanted| values.iter().find(|(name, _)| *name == wanted).map(|(_, value)| value.clone()))
    }

    /// Reads and validates the variables through `lookup` (name → value), for tests and embedders.
    /// Variables of an unset store are still validated, so a typo never goes unnoticed.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let read = |name: &'static str| lookup(name).filter(|value| !value.trim().is_empty());
        let number = |name: &'static str, default: u64, min: u64, max: u64| -> Result<u64, ConfigError> {
            match read(name) {
                None => Ok(default),
                Some(text) => {
                    let value = text
                        .trim()
                        .parse::<u64>()
                        .map_err(|_| ConfigError::NotANumber { name, value: text.clone() })?;
                    check_range(name, value, min, max)
                }
            }
        };
        let millis = |name: &'static str, default: Duration| -> Result<Duration, ConfigError> {
            let default_ms = u64::try_from(default.as_millis()).unwrap_or(LONGEST_TIMEOUT_MS);
            number(name, default_ms, 1, LONGEST_TIMEOUT_MS).map(Duration::from_millis)
        };

        let postgres_defaults = PostgresConfig::new(String::new());
        let pool_max_size = number(DATABASE_POOL_MAX_SIZE, postgres_defaults.pool_max_size as u64, 1, LARGEST_POOL)?;
        let postgres_timeouts = (
            millis(DATABASE_CONNECT_TIMEOUT_MS, postgres_defaults.connect_timeout)?,
            millis(DATABASE_POOL_WAIT_TIMEOUT_MS, postgres_defaults.pool_wait_timeout)?,
            millis(DATABASE_RECYCLE_TIMEOUT_MS, postgres_defaults.recycle_timeout)?,
            millis(DATABASE_QUERY_TIMEOUT_MS, postgres_defaults.query_timeout)?,
        );
        let postgres = read(DATABASE_URL).map(|url| {
            let (connect_timeout, pool_wait_timeout, recycle_timeout, query_timeout) = postgres_timeouts;
            PostgresConfig {
                url,
                // The range check above keeps this within usize on every platform.
                pool_max_size: usize::try_from(pool_max_size).unwrap_or(usize::MAX),
                connect_timeout,
                pool_wait_timeout,
                recycle_timeout,
                query_timeout,
            }
        });

        let redis_defaults = RedisConfig::new(String::new(), String::new());
        let key_prefix = read(REDIS_KEY_PREFIX).unwrap_or(redis_defaults.key_prefix);
        let redis_settings = (
            millis(REDIS_CONNECT_TIMEOUT_MS, redis_defaults.connect_timeout)?,
            millis(REDIS_COMMAND_TIMEOUT_MS, redis_defaults.command_timeout)?,
            millis(REDIS_RECONNECT_MAX_DELAY_MS, redis_defaults.reconnect_max_delay)?,
            number(REDIS_STREAM_MAX_LEN, redis_defaults.stream_max_len, 1, LONGEST_STREAM)?,
        );
        let redis = read(REDIS_URL).map(|url| {
            let (connect_timeout, command_timeout, reconnect_max_delay, stream_max_len) = redis_settings;
            RedisConfig {
                url,
                key_prefix: key_prefix.clone(),
                connect_timeout,
                command_timeout,
                reconnect_max_delay,
                stream_max_len,
            }
        });
        if redis.is_none() {
            // Validated even when Redis is off, so the mistake shows before it matters.
            validate_key_prefix(&key_prefix)?;
        }

        let config = StorageConfig { postgres, redis };
        config.validate()?;
        Ok(config)
    }

    /// Checks every present store's settings (URLs parse, timeouts non-zero and sane).
    pub fn validate(&self) -> Result<(), ConfigError> {
        if let Some(postgres) = &self.postgres {
            postgres.validate()?;
        }
        if let Some(redis) = &self.redis {
            redis.validate()?;
        }
        Ok(())
    }
}

/// PostgreSQL settings: where to connect, and how long anything may take.
///
/// The pool's timeouts are all off in deadpool by default (an outage would make every request wait
/// forever), so each one is set here.
#[derive(Clone, PartialEq, Eq)]
pub struct PostgresConfig {
    /// `postgres://` or `postgresql://` URL.
    pub url: String,
    /// Most connections the pool keeps open. Default 16.
    pub pool_max_size: usize,
    /// Longest wait to open one connection (TCP connect and handshake). Default 2 s: a
    /// PostgreSQL on the same network answers in milliseconds.
    pub connect_timeout: Duration,
    /// Longest wait for a free connection when all are busy. Default 2 s.
    pub pool_wait_timeout: Duration,
    /// Longest wait to verify a pooled connection before reuse. Default 1 s.
    pub recycle_timeout: Duration,
    /// Longest time one repository call may take, pool wait included; also set as the server's
    /// `statement_timeout` so abandoned statements stop using the server. Default 5 s.
    pub query_timeout: Duration,
}

impl PostgresConfig {
    /// The URL with its password hidden (`***`), as `Debug` and start-up logs show it.
    #[must_use]
    pub fn redacted_url(&self) -> String {
        redact_password(&self.url, postgres_password(&self.url))
    }

    /// Settings for `url` with every other value at its documented default.
    #[must_use]
    pub fn new(url: impl Into<String>) -> Self {
        PostgresConfig {
            url: url.into(),
            pool_max_size: 16,
            connect_timeout: Duration::from_secs(2),
            pool_wait_timeout: Duration::from_secs(2),
            recycle_timeout: Duration::from_secs(1),
            query_timeout: Duration::from_secs(5),
        }
    }

    /// Checks the URL parses as a PostgreSQL URL and every timeout is non-zero.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let name = DATABASE_URL;
        if !(self.url.starts_with("postgres://") || self.url.starts_with("postgresql://")) {
            return Err(ConfigError::InvalidUrl {
                name,
                reason: "must start with postgres:// or postgresql://".to_owned(),
            });
        }
        let parsed = tokio_postgres::Config::from_str(&self.url)
            .map_err(|error| ConfigError::InvalidUrl { name, reason: error.to_string() })?;
        if parsed.get_hosts().is_empty() {
            return Err(ConfigError::InvalidUrl { name, reason: "names no host".to_owned() });
        }
        check_range(DATABASE_POOL_MAX_SIZE, self.pool_max_size as u64, 1, LARGEST_POOL)?;
        check_timeout(DATABASE_CONNECT_TIMEOUT_MS, self.connect_timeout)?;
        check_timeout(DATABASE_POOL_WAIT_TIMEOUT_MS, self.pool_wait_timeout)?;
        check_timeout(DATABASE_RECYCLE_TIMEOUT_MS, self.recycle_timeout)?;
        check_timeout(DATABASE_QUERY_TIMEOUT_MS, self.query_timeout)?;
        Ok(())
    }
}

// Hand-written so the password never reaches a log line.
impl std::fmt::Debug for PostgresConfig {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("PostgresConfig")
            .field("url", &self.redacted_url())
            .field("pool_max_size", &self.pool_max_size)
            .field("connect_timeout", &self.connect_timeout)
            .field("pool_wait_timeout", &self.pool_wait_timeout)
            .field("recycle_timeout", &self.recycle_timeout)
            .field("query_timeout", &self.query_timeout)
            .finish()
    }
}

/// Redis settings: where to connect, whose keys these are, and how long anything may take.
///
/// fred's command timeout is off by default and its reconnect policy is unset; both are set here.
#[derive(Clone, PartialEq, Eq)]
pub struct RedisConfig {
    /// `redis://` URL.
    pub url: String,
    /// This deployment's key space: every key is `galaxy:{key_prefix}:...`. Default `main`.
    pub key_prefix: String,
    /// Longest wait to open one connection. Default 2 s.
    pub connect_timeout: Duration,
    /// Longest time one command may take (a blocking read adds its block time). Default 2 s,
    /// well under a tick at the fastest rate a player would notice.
    pub command_timeout: Duration,
    /// Longest pause between reconnection attempts (they back off exponentially from 100 ms).
    /// Default 2 s, so ticking resumes within seconds of Redis coming back.
    pub reconnect_max_delay: Duration,
    /// Approximate number of entries each stream keeps. Default 10,000: over an hour and a half of
    /// `tick.completed` at 1 Hz, and enough commands for any reader that is merely slow.
    pub stream_max_len: u64,
}

impl RedisConfig {
    /// The URL with its password hidden (`***`), as `Debug` and start-up logs show it.
    #[must_use]
    pub fn redacted_url(&self) -> String {
        redact_password(&self.url, redis_password(&self.url))
    }

    /// Settings for `url` and `key_prefix` (empty: the default `main`) with every other value at its default.
    #[must_use]
    pub fn new(url: impl Into<String>, key_prefix: impl Into<String>) -> Self {
        let key_prefix = key_prefix.into();
        RedisConfig {
            url: url.into(),
            key_prefix: if key_prefix.is_empty() { "main".to_owned() } else { key_prefix },
            connect_timeout: Duration::from_secs(2),
            command_timeout: Duration::from_secs(2),
            reconnect_max_delay: Duration::from_secs(2),
            stream_max_len: 10_000,
        }
    }

    /// Checks the URL parses as a Redis URL, the key prefix is well-formed and every timeout is non-zero.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let name = REDIS_URL;
        if !(self.url.starts_with("redis://") || self.url.starts_with("rediss://")) {
            return Err(ConfigError::InvalidUrl { name, reason: "must start with redis://".to_owned() });
        }
        fred::types::config::Config::from_url(&self.url)
            .map_err(|error| ConfigError::InvalidUrl { name, reason: error.details().to_owned() })?;
        validate_key_prefix(&self.key_prefix)?;
        check_timeout(REDIS_CONNECT_TIMEOUT_MS, self.connect_timeout)?;
        check_timeout(REDIS_COMMAND_TIMEOUT_MS, self.command_timeout)?;
        check_timeout(REDIS_RECONNECT_MAX_DELAY_MS, self.reconnect_max_delay)?;
        check_range(REDIS_STREAM_MAX_LEN, self.stream_max_len, 1, LONGEST_STREAM)?;
        Ok(())
    }
}

// Hand-written so the password never reaches a log line.
impl std::fmt::Debug for RedisConfig {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("RedisConfig")
            .field("url", &self.redacted_url())
            .field("key_prefix", &self.key_prefix)
            .field("connect_timeout", &self.connect_timeout)
            .field("command_timeout", &self.command_timeout)
            .field("reconnect_max_delay", &self.reconnect_max_delay)
            .field("stream_max_len", &self.stream_max_len)
            .finish()
    }
}

fn check_range(name: &'static str, value: u64, min: u64, max: u64) -> Result<u64, ConfigError> {
    if (min..=max).contains(&value) { Ok(value) } else { Err(ConfigError::OutOfRange { name, value, min, max }) }
}

fn check_timeout(name: &'static str, timeout: Duration) -> Result<(), ConfigError> {
    let millis = u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX);
    check_range(name, millis, 1, LONGEST_TIMEOUT_MS).map(|_| ())
}

fn validate_key_prefix(prefix: &str) -> Result<(), ConfigError> {
    // Braces and colons are the key layout's own punctuation (`galaxy:{prefix}:state`).
    let well_formed = (1..=64).contains(&prefix.len())
        && prefix.bytes().all(|byte| byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'-');
    if well_formed {
        Ok(())
    } else {
        Err(ConfigError::InvalidKeyPrefix { name: REDIS_KEY_PREFIX, value: prefix.to_owned() })
    }
}

/// The password tokio-postgres would read from `url`, if it parses.
fn postgres_password(url: &str) -> Option<String> {
    let config = tokio_postgres::Config::from_str(url).ok()?;
    config.get_password().map(|password| String::from_utf8_lossy(password).into_owned())
}

/// The password fred would read from `url`, if it parses.
fn redis_password(url: &str) -> Option<String> {
    fred::types::config::Config::from_url(url).ok()?.password.map(|password| password.to_string())
}

/// `scheme://user:secret@host/...?password=secret` → `scheme://user:***@host/...?password=***`;
/// anything else unchanged. `driver_password` is what the driver itself reads from the URL:
/// wherever the parse above misses it, it is hidden too.
fn redact_password(url: &str, driver_password: Option<String>) -> String {
    let redacted = redact_password_fields(url);
    match driver_password {
        // Short ones would mask parts of host and database names that merely contain them.
        Some(password) if password.chars().count() >= 4 => redacted.replace(&password, "***"),
        _ => redacted,
    }
}

fn redact_password_fields(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    // NOTE: a URL's credentials end at the last '@' of its authority, but tokio-postgres reads them
    // up to the first '@' anywhere, so a password holding '/', '?' or '#' runs on past the
    // authority; hide it either way (found by fuzz/storage_config).
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let at = rest[..authority_end].rfind('@').or_else(|| rest.find('@')).unwrap_or(0);
    let (user_info, host_onwards) = rest.split_at(at);
    let user_info = match user_info.split_once(':') {
        Some((user, _password)) => format!("{user}:***"),
        None => user_info.to_owned(),
    };
    // tokio-postgres also takes the password from a `password` query parameter, whose key it
    // percent-decodes first: hide that value, and the value of any key with a '%' in it. The
    // query starts after the credentials: a '?' inside the user name is not one (found by
    // fuzz/storage_config).
    let Some((before_query, query)) = host_onwards.split_once('?') else {
        return format!("{scheme}://{user_info}{host_onwards}");
    };
    let before_query = format!("{user_info}{before_query}");
    let parameters: Vec<String> = query
        .split('&')
        .map(|parameter| match parameter.split_once('=') {
            Some((key, _value)) if key == "password" || key.contains('%') => format!("{key}=***"),
            _ => parameter.to_owned(),
        })
        .collect();
    format!("{scheme}://{before_query}?{}", parameters.join("&"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup_from(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let owned: Vec<(String, String)> =
            pairs.iter().map(|(name, value)| (name.to_string(), value.to_string())).collect();
        move |wanted| owned.iter().find(|(name, _)| name == wanted).map(|(_, value)| value.clone())
    }

    #[test]
    fn unset_urls_mean_no_store() {
        let config = StorageConfig::from_lookup(lookup_from(&[])).expect("empty environment is valid");
        assert_eq!(config, StorageConfig { postgres: None, redis: None });
    }

    #[test]
    fn set_urls_get_documented_defaults() {
        let config = StorageConfig::from_lookup(lookup_from(&[
            (DATABASE_URL, "postgres://postgres@127.0.0.1:5432/galaxy"),
            (REDIS_URL, "redis://127.0.0.1:6379"),
        ]))
        .expect("valid");
        assert_eq!(config.postgres, Some(PostgresConfig::new("postgres://postgres@127.0.0.1:5432/galaxy")));
        assert_eq!(config.redis, Some(RedisConfig::new("redis://127.0.0.1:6379", "main")));
    }

    #[test]
    fn timeouts_and_sizes_are_read_from_their_variables() {
        let config = StorageConfig::from_lookup(lookup_from(&[
            (DATABASE_URL, "postgresql://postgres@localhost/galaxy"),
            (DATABASE_POOL_MAX_SIZE, "4"),
            (DATABASE_QUERY_TIMEOUT_MS, "750"),
            (REDIS_URL, "redis://localhost"),
            (REDIS_KEY_PREFIX, "staging-2"),
            (REDIS_COMMAND_TIMEOUT_MS, "300"),
            (REDIS_STREAM_MAX_LEN, "500"),
        ]))
        .expect("valid");
        let postgres = config.postgres.expect("postgres configured");
        assert_eq!(postgres.pool_max_size, 4);
        assert_eq!(postgres.query_timeout, Duration::from_millis(750));
        let redis = config.redis.expect("redis configured");
        assert_eq!(redis.key_prefix, "staging-2");
        assert_eq!(redis.command_timeout, Duration::from_millis(300));
        assert_eq!(redis.stream_max_len, 500);
    }

    #[test]
    fn zero_timeouts_are_rejected_because_they_would_wait_forever() {
        let error =
            StorageConfig::from_lookup(lookup_from(&[(DATABASE_POOL_WAIT_TIMEOUT_MS, "0")])).expect_err("rejected");
        assert!(matches!(error, ConfigError::OutOfRange { name: DATABASE_POOL_WAIT_TIMEOUT_MS, value: 0, .. }));
    }

    #[test]
    fn non_numbers_name_the_variable() {
        let error = StorageConfig::from_lookup(lookup_from(&[(REDIS_COMMAND_TIMEOUT_MS, "2s")])).expect_err("rejected");
        assert_eq!(error.to_string(), "REDIS_COMMAND_TIMEOUT_MS must be a whole number, got \"2s\"");
    }

    #[test]
    fn wrong_url_schemes_are_rejected() {
        let error = StorageConfig::from_lookup(lookup_from(&[(DATABASE_URL, "mysql://root@localhost/galaxy")]))
            .expect_err("rejected");
        assert!(matches!(error, ConfigError::InvalidUrl { name: DATABASE_URL, .. }));
        let error = StorageConfig::from_lookup(lookup_from(&[(REDIS_URL, "localhost:6379")])).expect_err("rejected");
        assert!(matches!(error, ConfigError::InvalidUrl { name: REDIS_URL, .. }));
    }

    #[test]
    fn key_prefixes_cannot_break_the_key_layout() {
        for bad in ["a:b", "{x}", "with space", &"x".repeat(65)] {
            let error = StorageConfig::from_lookup(lookup_from(&[(REDIS_KEY_PREFIX, bad)])).expect_err("rejected");
            assert!(matches!(error, ConfigError::InvalidKeyPrefix { .. }), "{bad:?} accepted");
        }
    }

    #[test]
    fn debug_output_hides_passwords() {
        let config = PostgresConfig::new("postgres://galaxy:hunter2@db:5432/galaxy");
        let printed = format!("{config:?}");
        assert!(printed.contains("postgres://galaxy:***@db:5432/galaxy"), "{printed}");
        assert!(!printed.contains("hunter2"));
        let printed = format!("{:?}", RedisConfig::new("redis://:hunter2@cache:6379/0", "main"));
        assert!(!printed.contains("hunter2"), "{printed}");
    }

    #[test]
    fn debug_output_hides_passwords_wherever_the_driver_reads_them() {
        // Found by fuzz/storage_config: tokio-postgres reads the password up to the first '@',
        // even past a '/', '?' or '#', and also from a `password` query parameter.
        for url in [
            "postgres://galaxy:hun/ter2@db/galaxy",
            "postgres://galaxy:hun?ter2@db/galaxy",
            "postgres://galaxy:hun#ter2@db:5432/galaxy",
            "postgres://db/galaxy?sslmode=require&password=hunter2",
            "postgres://db/galaxy?pass%77ord=hunter2",
        ] {
            let password =
                tokio_postgres::Config::from_str(url).expect("a valid URL").get_password().map(<[u8]>::to_vec);
            assert!(password.is_some_and(|password| password.ends_with(b"ter2")), "{url}");
            let printed = format!("{:?}", PostgresConfig::new(url));
            assert!(!printed.contains("ter2"), "{printed}");
        }
        let printed = format!("{:?}", PostgresConfig::new("postgres://u:p@db/galaxy?sslmode=require&password=x"));
        assert!(printed.contains("postgres://u:***@db/galaxy?sslmode=require&password=***"), "{printed}");
    }

    #[test]
    fn a_question_mark_in_the_user_name_does_not_hide_the_password_parameter() {
        let url = "postgresql://user?connect_timeout=1:secret@localhost/galaxy?password=hunter22";
        let printed = format!("{:?}", PostgresConfig::new(url));
        assert!(!printed.contains("secret") && !printed.contains("hunter22"), "{printed}");
    }
}
