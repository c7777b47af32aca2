//! Logins reveal nothing about which accounts exist, and guessing is throttled per account:
//! after 5 failures within the window the account is locked (RESOURCE_EXHAUSTED), even for the
//! right password, until the window passes — without affecting other accounts.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::{Duration, Instant};

use common::{PASSWORD, expect_code, with_players};
use galaxy_players::PlayersConfig;
use tonic::Code;

#[tokio::test]
async fn wrong_password_and_unknown_user_get_the_same_unauthenticated_answer() {
    with_players(PlayersConfig::default(), |mut players| async move {
        players.register("alice").await;
        let wrong_password = expect_code(players.login("alice", "wrong password").await, Code::Unauthenticated);
        let unknown_user = expect_code(players.login("nobody", "wrong password").await, Code::Unauthenticated);
        assert_eq!(wrong_password.message(), "invalid username or password");
        assert_eq!(unknown_user.message(), wrong_password.message());
        assert_eq!(unknown_user.metadata().len(), wrong_password.metadata().len());

        // Both pay for one argon2id verification, so neither answers conspicuously faster. The
        // fastest of three tries each keeps a busy machine's scheduling noise out of the comparison, and
        // the 10x margin only catches a skipped hash (argon2id costs tens of milliseconds).
        let mut wrong_password_fastest = Duration::MAX;
        let mut unknown_user_fastest = Duration::MAX;
        for attempt in 0..3 {
            let started = Instant::now();
            expect_code(players.login("alice", "wrong password").await, Code::Unauthenticated);
            wrong_password_fastest = wrong_password_fastest.min(started.elapsed());
            let started = Instant::now();
            expect_code(players.login(&format!("nobody_{attempt}"), "wrong password").await, Code::Unauthenticated);
            unknown_user_fastest = unknown_user_fastest.min(started.elapsed());
        }
        let (fast, slow) = if unknown_user_fastest < wrong_password_fastest {
            (unknown_user_fastest, wrong_password_fastest)
        } else {
            (wrong_password_fastest, unknown_user_fastest)
        };
        assert!(fast * 10 > slow, "unknown user {unknown_user_fastest:?} vs wrong password {wrong_password_fastest:?}");
    })
    .await;
}

#[tokio::test]
async fn five_failures_lock_the_account_even_for_the_right_password_until_the_window_passes() {
    let window = Duration::from_secs(3);
    let config = PlayersConfig { login_failure_window: window, ..PlayersConfig::default() };
    with_players(config, move |mut players| async move {
        players.register("bob").await;
        players.register("carol").await;
        for _ in 0..5 {
            expect_code(players.login("bob", "guess guess").await, Code::Unauthenticated);
        }
        // Every failure was recorded before this instant (each when its hash finished).
        let last_failure = Instant::now();
        // Counted under the lowercase name: changing the case does not earn more guesses.
        for attempt in [("bob", PASSWORD), ("BOB", "guess guess"), ("Bob", PASSWORD)] {
            let status = expect_code(players.login(attempt.0, attempt.1).await, Code::ResourceExhausted);
            assert!(status.message().contains("too many failed logins"), "{}", status.message());
        }
        assert!(players.login("carol", PASSWORD).await.is_ok(), "other accounts are not locked");

        tokio::time::sleep((last_failure + window).saturating_duration_since(Instant::now())).await;
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(players.login("bob", PASSWORD).await.is_ok(), "the lock lifts when the window has passed");
    })
    .await;
}

#[tokio::test]
async fn unknown_usernames_lock_exactly_like_real_ones() {
    with_players(PlayersConfig::default(), |mut players| async move {
        for _ in 0..5 {
            expect_code(players.login("ghost", "guess guess").await, Code::Unauthenticated);
        }
        expect_code(players.login("ghost", "guess guess").await, Code::ResourceExhausted);
    })
    .await;
}

#[tokio::test]
async fn a_successful_login_resets_the_failure_count() {
    with_players(PlayersConfig::default(), |mut players| async move {
        players.register("dave").await;
        for _ in 0..4 {
            expect_code(players.login("dave", "guess guess").await, Code::Unauthenticated);
        }
        players.login("dave", PASSWORD).await.unwrap();
        for _ in 0..4 {
            expect_code(players.login("dave", "guess guess").await, Code::Unauthenticated);
        }
        assert!(players.login("dave", PASSWORD).await.is_ok());
    })
    .await;
}
