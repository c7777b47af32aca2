//! `galaxy_storage::StorageConfig::from_lookup` fed arbitrary environments: never panics; an
//! accepted configuration passes `validate()`, and the URL its `Debug` output (what start-up logs
//! print) shows never holds a password.
//!
//! Input: text, one `NAME=VALUE` a line (the dictionary `storage_config.dict` holds the names).
//! A name given twice takes its last value, as a shell would.
#![no_main]

use galaxy_storage::StorageConfig;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let variables: Vec<(&str, &str)> = text.lines().filter_map(|line| line.split_once('=')).collect();
    let lookup =
        |wanted: &str| variables.iter().rev().find(|(name, _)| *name == wanted).map(|(_, value)| (*value).to_owned());
    let Ok(config) = StorageConfig::from_lookup(lookup) else { return };
    config.validate().unwrap_or_else(|error| panic!("from_lookup accepted what validate refuses: {error}"));
    if let Some(postgres) = &config.postgres {
        let parsed: tokio_postgres::Config = postgres.url.parse().expect("an accepted URL parses");
        let password = parsed.get_password().map(|password| String::from_utf8_lossy(password).into_owned());
        assert_shows_redacted(&format!("{postgres:?}"), &postgres.redacted_url());
        assert_hidden(&postgres.redacted_url(), &postgres.url, password);
    }
    if let Some(redis) = &config.redis {
        let parsed = fred::types::config::Config::from_url(&redis.url).expect("an accepted URL parses");
        let password = parsed.password.map(|password| password.to_string());
        assert_shows_redacted(&format!("{redis:?}"), &redis.redacted_url());
        assert_hidden(&redis.redacted_url(), &redis.url, password);
    }
});

/// Panics unless the `Debug` output shows the URL as `redacted_url` gives it (Debug-escaped).
fn assert_shows_redacted(printed: &str, redacted: &str) {
    assert!(printed.contains(&format!("url: {redacted:?}")), "the Debug output {printed:?} shows another URL");
}

/// Panics when the redacted URL shows `password`. It is checked there, not in the `Debug` text,
/// because Debug's escapes can spell a password by chance (`\0` before `//postgres` reads
/// `0//postgres`; found by this target). Short passwords and ones that also appear elsewhere in
/// the URL (a password equal to the host name) cannot be told apart from the rest, so only
/// passwords of 4+ characters found exactly once in the URL are checked.
fn assert_hidden(redacted: &str, url: &str, password: Option<String>) {
    let Some(password) = password else { return };
    let password = password.as_str();
    if password.chars().count() < 4 || url.matches(password).count() != 1 {
        return;
    }
    assert!(!redacted.contains(password), "the redacted URL {redacted:?} shows the password {password:?}");
}
