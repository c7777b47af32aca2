//! Accounts and sessions over real gRPC and a real PostgreSQL: a registered player can log in,
//! a session validates until it is logged out, refreshed away, expired or its player banned, and
//! registration refuses bad, taken or untimely requests before storing anything.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::{PASSWORD, expect_code, with_players};
use galaxy_players::PlayersConfig;
use galaxy_proto::v1;
use galaxy_storage::PlayerId;
use tonic::Code;

#[tokio::test]
async fn register_login_validate_logout_and_the_token_is_dead() {
    with_players(PlayersConfig::default(), |mut players| async move {
        let registered = players.register("Alice_1").await;
        let identity = registered.player.clone().unwrap();
        assert_eq!(identity.username, "Alice_1");
        assert_eq!(identity.role, v1::Role::Player as i32);
        assert!(!identity.ship_id.is_empty(), "a new player gets a ship");
        assert_eq!(registered.token.len(), 64);
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64;
        assert!((registered.expires_at_unix - (now + 24 * 3600)).abs() < 60, "expires in 24 h");

        // The ship record is the starting frigate, and the password is stored as argon2id.
        let player_id = PlayerId(identity.player_id.parse().unwrap());
        let ships = players.store.ships_of_player(player_id).await.unwrap();
        assert_eq!(ships.len(), 1);
        assert_eq!(ships[0].class_name, "fast_frigate");
        assert_eq!(ships[0].name, "Alice_1's frigate");
        assert_eq!(format!("ship-{}", ships[0].id.0), identity.ship_id);
        let stored = players.store.find_player(player_id).await.unwrap().unwrap();
        assert!(stored.password_hash.starts_with("$argon2id$"));

        // Login ignores the username's case and gives a different token for the same identity.
        let session = players.login("alice_1", PASSWORD).await.unwrap();
        assert_ne!(session.token, registered.token);
        assert_eq!(session.player, Some(identity.clone()));
        assert_eq!(players.validate(&session.token).await.unwrap(), identity);

        players.client.logout(v1::LogoutRequest { token: session.token.clone() }).await.unwrap();
        expect_code(players.validate(&session.token).await, Code::Unauthenticated);
        // Other sessions of the same player live on; logging out twice is harmless.
        assert_eq!(players.validate(&registered.token).await.unwrap(), identity);
        players.client.logout(v1::LogoutRequest { token: session.token.clone() }).await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn tokens_never_issued_or_malformed_do_not_validate() {
    with_players(PlayersConfig::default(), |mut players| async move {
        players.register("bob").await;
        for bogus in ["", "not-a-token", &"0".repeat(64), &"A".repeat(64), &"0".repeat(10_000)] {
            let status = expect_code(players.validate(bogus).await, Code::Unauthenticated);
            assert_eq!(status.message(), "session is invalid or expired");
        }
        let logout = players.client.logout(v1::LogoutRequest { token: "f".repeat(64) }).await;
        expect_code(logout, Code::Unauthenticated);
    })
    .await;
}

#[tokio::test]
async fn refresh_rotates_the_token_and_revokes_the_old_one() {
    with_players(PlayersConfig::default(), |mut players| async move {
        let first = players.register("carol").await;
        let second =
            players.client.refresh(v1::RefreshRequest { token: first.token.clone() }).await.unwrap().into_inner();
        assert_ne!(second.token, first.token);
        assert_eq!(second.player, first.player);
        assert!(second.expires_at_unix >= first.expires_at_unix);
        expect_code(players.validate(&first.token).await, Code::Unauthenticated);
        assert_eq!(players.validate(&second.token).await.unwrap(), first.player.unwrap());
        // The old token cannot be refreshed again.
        let again = players.client.refresh(v1::RefreshRequest { token: first.token }).await;
        expect_code(again, Code::Unauthenticated);
    })
    .await;
}

#[tokio::test]
async fn a_banned_players_sessions_stop_validating_and_login_is_refused() {
    with_players(PlayersConfig::default(), |mut players| async move {
        let session = players.register("dave").await;
        let player_id = PlayerId(session.player.as_ref().unwrap().player_id.parse().unwrap());
        players.store.set_banned(player_id, true).await.unwrap();
        expect_code(players.validate(&session.token).await, Code::Unauthenticated);
        let refresh = players.client.refresh(v1::RefreshRequest { token: session.token.clone() }).await;
        expect_code(refresh, Code::Unauthenticated);
        let status = expect_code(players.login("dave", PASSWORD).await, Code::PermissionDenied);
        assert_eq!(status.message(), "account is banned");

        players.store.set_banned(player_id, false).await.unwrap();
        let after_unban = players.login("dave", PASSWORD).await.unwrap();
        assert!(players.validate(&after_unban.token).await.is_ok());
        expect_code(players.validate(&session.token).await, Code::Unauthenticated);
    })
    .await;
}

#[tokio::test]
async fn sessions_expire_after_their_lifetime() {
    let config = PlayersConfig { session_lifetime: Duration::from_secs(1), ..PlayersConfig::default() };
    with_players(config, |mut players| async move {
        let session = players.register("erin").await;
        assert!(players.validate(&session.token).await.is_ok());
        tokio::time::sleep(Duration::from_millis(1_200)).await;
        expect_code(players.validate(&session.token).await, Code::Unauthenticated);
    })
    .await;
}

#[tokio::test]
async fn usernames_taken_in_any_letter_case_are_already_exists() {
    with_players(PlayersConfig::default(), |mut players| async move {
        players.register("Frank").await;
        for taken in ["Frank", "frank", "FRANK"] {
            let result = players
                .client
                .register(v1::RegisterRequest { username: taken.into(), password: "another password".into() })
                .await;
            let status = expect_code(result, Code::AlreadyExists);
            assert_eq!(status.message(), "username is taken");
        }
        // The original password still works: nothing was overwritten.
        assert!(players.login("frank", PASSWORD).await.is_ok());
    })
    .await;
}

#[tokio::test]
async fn bad_usernames_and_passwords_are_invalid_argument_and_store_nothing() {
    with_players(PlayersConfig::default(), |mut players| async move {
        let too_long_name = "a".repeat(21);
        let too_long_password = "p".repeat(129);
        let cases = [
            ("ab", PASSWORD, "username"),
            (too_long_name.as_str(), PASSWORD, "username"),
            ("has space", PASSWORD, "username"),
            ("drop;table", PASSWORD, "username"),
            ("émile", PASSWORD, "username"),
            ("", PASSWORD, "username"),
            ("grace", "short", "password"),
            ("grace", "", "password"),
            ("grace", too_long_password.as_str(), "password"),
        ];
        for (username, password, field) in cases {
            let result = players
                .client
                .register(v1::RegisterRequest { username: username.into(), password: password.into() })
                .await;
            let status = expect_code(result, Code::InvalidArgument);
            assert!(status.message().starts_with(field), "{username:?}: {}", status.message());
        }
        assert_eq!(players.store.find_player_by_username("grace").await.unwrap(), None);
        // Exactly at the limits is fine.
        let longest = "p".repeat(128);
        players
            .client
            .register(v1::RegisterRequest { username: "z".repeat(20), password: longest.clone() })
            .await
            .unwrap();
        players
            .client
            .register(v1::RegisterRequest { username: "abc".into(), password: "8 chars!".into() })
            .await
            .unwrap();
        assert!(players.login(&"Z".repeat(20), &longest).await.is_ok());
    })
    .await;
}

#[tokio::test]
async fn registrations_closed_is_failed_precondition_until_reopened() {
    with_players(PlayersConfig::default(), |mut players| async move {
        players.register("heidi").await;
        players.set_registrations_open(false).await;
        let closed =
            players.client.register(v1::RegisterRequest { username: "ivan".into(), password: PASSWORD.into() }).await;
        let status = expect_code(closed, Code::FailedPrecondition);
        assert_eq!(status.message(), "registrations are closed");
        assert_eq!(players.store.find_player_by_username("ivan").await.unwrap(), None);
        // Existing players still log in while registrations are closed.
        assert!(players.login("heidi", PASSWORD).await.is_ok());
        players.set_registrations_open(true).await;
        players.register("ivan").await;
    })
    .await;
}

#[tokio::test]
async fn a_player_whose_ship_record_is_missing_gets_a_new_one_at_login() {
    with_players(PlayersConfig::default(), |mut players| async move {
        let registered = players.register("judy").await;
        let player_id = PlayerId(registered.player.unwrap().player_id.parse().unwrap());
        let (client, connection) = tokio_postgres::connect(
            &format!("postgres://postgres@127.0.0.1:5432/{}", players.database),
            tokio_postgres::NoTls,
        )
        .await
        .unwrap();
        tokio::spawn(connection);
        client.execute("DELETE FROM ships WHERE owner_id = $1", &[&player_id.0]).await.unwrap();

        let session = players.login("judy", PASSWORD).await.unwrap();
        let ships = players.store.ships_of_player(player_id).await.unwrap();
        assert_eq!(ships.len(), 1);
        assert_eq!(session.player.unwrap().ship_id, format!("ship-{}", ships[0].id.0));
    })
    .await;
}
