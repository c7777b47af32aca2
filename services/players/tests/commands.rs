//! ValidateCommand lets a command through only from a valid session, for the sender's own ship,
//! with inputs in bounds, and at no more than the per-player rate.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Instant;

use common::{Harness, expect_code, with_players};
use galaxy_players::PlayersConfig;
use galaxy_proto::v1;
use tonic::Code;

fn steady() -> v1::ShipControl {
    v1::ShipControl { throttle: 0.5, pitch: 0.0, yaw: 0.0, roll: 0.0 }
}

async fn command(
    players: &mut Harness,
    session: &v1::Session,
    ship_id: &str,
    control: v1::ShipControl,
) -> Result<v1::ValidateCommandResponse, tonic::Status> {
    players
        .client
        .validate_command(v1::ValidateCommandRequest {
            token: session.token.clone(),
            ship_id: ship_id.into(),
            control: Some(control),
            attitude_mode: v1::AttitudeMode::Prograde as i32,
            target: None,
        })
        .await
        .map(tonic::Response::into_inner)
}

fn ship_of(session: &v1::Session) -> String {
    session.player.as_ref().unwrap().ship_id.clone()
}

#[tokio::test]
async fn a_players_command_for_their_own_ship_is_accepted_with_their_identity() {
    with_players(PlayersConfig::default(), |mut players| async move {
        let alice = players.register("alice").await;
        let response = command(&mut players, &alice, &ship_of(&alice), steady()).await.unwrap();
        assert_eq!(response.player, alice.player);
    })
    .await;
}

#[tokio::test]
async fn another_players_ship_is_permission_denied() {
    with_players(PlayersConfig::default(), |mut players| async move {
        let alice = players.register("alice").await;
        let bob = players.register("bob").await;
        let status = expect_code(command(&mut players, &alice, &ship_of(&bob), steady()).await, Code::PermissionDenied);
        assert!(status.message().contains("not yours"), "{}", status.message());
        // A ship that does not exist gets the same answer, so ids cannot be probed.
        expect_code(command(&mut players, &alice, "ship-999999", steady()).await, Code::PermissionDenied);
        expect_code(command(&mut players, &alice, "not-an-id", steady()).await, Code::InvalidArgument);
    })
    .await;
}

#[tokio::test]
async fn nan_or_out_of_range_inputs_are_invalid_argument_naming_the_field() {
    with_players(PlayersConfig::default(), |mut players| async move {
        let alice = players.register("alice").await;
        let ship = ship_of(&alice);
        for (control, field) in [
            (v1::ShipControl { throttle: f64::NAN, ..steady() }, "throttle"),
            (v1::ShipControl { throttle: 1.5, ..steady() }, "throttle"),
            (v1::ShipControl { pitch: f64::INFINITY, ..steady() }, "pitch"),
            (v1::ShipControl { roll: -2.0, ..steady() }, "roll"),
        ] {
            let status = expect_code(command(&mut players, &alice, &ship, control).await, Code::InvalidArgument);
            assert!(status.message().contains(field), "{}", status.message());
        }
        let unknown_mode = players
            .client
            .validate_command(v1::ValidateCommandRequest {
                token: alice.token.clone(),
                ship_id: ship.clone(),
                control: Some(steady()),
                attitude_mode: 99,
                target: None,
            })
            .await;
        expect_code(unknown_mode, Code::InvalidArgument);
        let target_without_target = players
            .client
            .validate_command(v1::ValidateCommandRequest {
                token: alice.token.clone(),
                ship_id: ship,
                control: Some(steady()),
                attitude_mode: v1::AttitudeMode::Target as i32,
                target: None,
            })
            .await;
        expect_code(target_without_target, Code::InvalidArgument);
    })
    .await;
}

#[tokio::test]
async fn commands_without_a_valid_session_are_unauthenticated() {
    with_players(PlayersConfig::default(), |mut players| async move {
        let alice = players.register("alice").await;
        let ship = ship_of(&alice);
        players.client.logout(v1::LogoutRequest { token: alice.token.clone() }).await.unwrap();
        expect_code(command(&mut players, &alice, &ship, steady()).await, Code::Unauthenticated);
    })
    .await;
}

#[tokio::test]
async fn a_flood_of_commands_is_cut_to_the_per_player_rate_without_affecting_others() {
    let config = PlayersConfig::default();
    let (rate, burst) = (config.commands_per_second, config.command_burst);
    with_players(config, move |mut players| async move {
        let alice = players.register("alice").await;
        let bob = players.register("bob").await;
        let ship = ship_of(&alice);
        let started = Instant::now();
        let (mut accepted, mut limited) = (0_u32, 0_u32);
        for _ in 0..100 {
            match command(&mut players, &alice, &ship, steady()).await {
                Ok(_) => accepted += 1,
                Err(status) if status.code() == Code::ResourceExhausted => {
                    assert!(status.message().contains("too many commands"), "{}", status.message());
                    limited += 1;
                }
                Err(status) => panic!("unexpected {status:?}"),
            }
        }
        let allowed = burst + rate * started.elapsed().as_secs_f64();
        assert!(f64::from(accepted) <= allowed.ceil(), "{accepted} accepted, at most {allowed:.1} allowed");
        assert!(accepted >= 20, "the burst goes through: {accepted}");
        assert!(limited > 0);
        // Bob has a bucket of his own.
        assert!(command(&mut players, &bob, &ship_of(&bob), steady()).await.is_ok());
    })
    .await;
}
