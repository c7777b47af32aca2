//! With PostgreSQL gone, the players service answers UNAVAILABLE within a couple of seconds —
//! logins fail fast rather than hang — and never mistakes the outage for bad credentials.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::{Duration, Instant};

use common::{PASSWORD, expect_code, postgres_admin_execute, with_players};
use galaxy_players::PlayersConfig;
use galaxy_proto::v1;
use tonic::Code;

#[tokio::test]
async fn login_register_and_validation_are_unavailable_quickly_when_the_database_is_gone() {
    with_players(PlayersConfig::default(), |mut players| async move {
        let session = players.register("alice").await;
        postgres_admin_execute(&format!("DROP DATABASE {} WITH (FORCE)", players.database)).await;

        let started = Instant::now();
        let status = expect_code(players.login("alice", PASSWORD).await, Code::Unavailable);
        assert!(started.elapsed() < Duration::from_secs(5), "took {:?}", started.elapsed());
        assert_eq!(status.message(), "player store unavailable; try again later");

        expect_code(players.validate(&session.token).await, Code::Unavailable);
        let register =
            players.client.register(v1::RegisterRequest { username: "bob".into(), password: PASSWORD.into() }).await;
        expect_code(register, Code::Unavailable);
        // Outages are not counted as failed logins: the account is not locked afterwards.
        for _ in 0..6 {
            expect_code(players.login("alice", PASSWORD).await, Code::Unavailable);
        }
    })
    .await;
}
