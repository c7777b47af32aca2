//! `/ws` end to end over real sockets against the real services: auth, welcome, the ships'
//! `roster` (again whenever the ships change), a `state` every tick, commands that change the
//! ship on the server, reconnects, and every close code (4001, 4003, 1009, 1001), with malformed
//! messages answered and the connection kept.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::{Duration, Instant};

use common::{Game, close_code, next_json, next_of_type, next_state, send_json, test_config, with_game, with_game_on};
use futures_util::SinkExt;
use galaxy_gateway::{GatewayConfig, OriginPolicy};
use galaxy_storage::{EventBus, MemoryBus};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

fn token_and_ship(session: &Value) -> (String, String) {
    (session["token"].as_str().unwrap().to_owned(), session["ship_id"].as_str().unwrap().to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_authenticated_client_gets_welcome_the_roster_then_a_state_every_tick() {
    with_game(|game| async move {
        let session = game.register("watcher").await;
        let (token, ship_id) = token_and_ship(&session);
        let (mut socket, welcome) = game.connect_authenticated(&token).await;
        assert_eq!(welcome["player"]["username"], "watcher");
        assert_eq!(welcome["ship_id"], ship_id.as_str());
        assert_eq!(welcome["config"]["spawn_body"], "Earth");
        let bodies = welcome["bodies"].as_array().unwrap();
        assert_eq!(bodies.len(), 29);
        assert!(bodies.iter().all(|body| body["gm"].as_f64().unwrap() > 0.0));
        let first = next_json(&mut socket).await;
        assert_eq!(first["type"], "roster", "{first}");
        let mut roster = Some(first);
        // The ship spawns at registration; the roster of a tick already in flight may not list
        // it yet, the next one does.
        let lists_the_ship = |roster: &Option<Value>| {
            roster.as_ref().unwrap()["ships"].as_array().unwrap().iter().any(|ship| {
                ship["id"] == ship_id.as_str()
                    && ship["name"] == "watcher"
                    && ship["class"] == "fast_frigate"
                    && ship["owner"] == welcome["player"]["id"]
            })
        };
        let mut states_without_it = 0;
        while !lists_the_ship(&roster) {
            next_state(&mut socket, &mut roster).await;
            states_without_it += 1;
            assert!(states_without_it < 5, "no roster lists the ship: {:?}", roster);
        }

        let mut ticks = Vec::new();
        let mut own_ship_listed = 0;
        while ticks.len() < 20 {
            let (state, ships) = next_state(&mut socket, &mut roster).await;
            assert_eq!(state["bodies"].as_array().unwrap().len(), 29);
            assert_eq!(state["bodies"][0]["name"], "Sun");
            assert!(state["game_time"].as_f64().unwrap() > 0.0);
            if state["own_ship"]["id"] == ship_id.as_str() {
                assert!(state["own_ship"]["fuel_capacity"].as_f64().unwrap() > 0.0, "{}", state["own_ship"]);
                // Everyone's row for this ship is the same tick's numbers, rounded.
                let listed = ships.iter().find(|ship| ship["id"] == ship_id.as_str()).expect("own ship listed");
                let own = &state["own_ship"];
                for (field, step) in [("position", 0.1), ("velocity", 0.01), ("attitude", 1e-4)] {
                    for (row, exact) in listed[field].as_array().unwrap().iter().zip(own[field].as_array().unwrap()) {
                        let (row, exact) = (row.as_f64().unwrap(), exact.as_f64().unwrap());
                        assert!((row - exact).abs() <= step / 2.0 + 1e-9 * exact.abs(), "{field}: {row} vs {exact}");
                    }
                }
                assert!((listed["fuel"].as_f64().unwrap() - own["fuel"].as_f64().unwrap()).abs() <= 0.5);
                assert_eq!((&listed["attitude_mode"], &listed["status"]), (&own["attitude_mode"], &own["status"]));
                own_ship_listed += 1;
            }
            ticks.push(state["tick"].as_u64().unwrap());
        }
        assert!(own_ship_listed > 0, "the own ship was never in a state");
        assert!(ticks.windows(2).all(|pair| pair[1] > pair[0]), "ticks only go forward: {ticks:?}");
        // Every tick is sent while the loop keeps time; a loaded machine may make the loop catch
        // up (then at most 10 per second are sent), so allow a few skipped.
        let span = ticks[ticks.len() - 1] - ticks[0];
        assert!(span <= 25, "20 states span {span} ticks: {ticks:?}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_ship_brings_a_new_roster_before_the_states_that_list_it() {
    with_game(|game| async move {
        let (token, first_ship) = token_and_ship(&game.register("early").await);
        let (mut socket, _) = game.connect_authenticated(&token).await;
        let mut roster = None;
        // The ship spawns at registration; the tick in flight then may not list it yet.
        let mut states_without_it = 0;
        loop {
            let (_, ships) = next_state(&mut socket, &mut roster).await;
            if ships.iter().any(|ship| ship["id"] == first_ship.as_str()) {
                break;
            }
            states_without_it += 1;
            assert!(states_without_it < 5, "the first ship is missing from {states_without_it} states");
        }
        let first_version = roster.as_ref().unwrap()["version"].as_u64().unwrap();

        let (_, newcomer) = token_and_ship(&game.register("newcomer").await);
        let (state, listed) = loop {
            let (state, ships) = next_state(&mut socket, &mut roster).await;
            if let Some(ship) = ships.into_iter().find(|ship| ship["id"] == newcomer.as_str()) {
                break (state, ship);
            }
        };
        assert!(state["roster"].as_u64().unwrap() > first_version, "{state}");
        assert_eq!(
            (&listed["name"], &listed["class"], &listed["status"]),
            (&json!("newcomer"), &json!("fast_frigate"), &json!("flying"))
        );
        // Its row puts it in the spawn orbit: 400 km above the Earth of the same state.
        let earth = state["bodies"].as_array().unwrap().iter().find(|body| body["name"] == "Earth").unwrap();
        let altitude_km = (0..3)
            .map(|axis| listed["position"][axis].as_f64().unwrap() - earth["position"][axis].as_f64().unwrap())
            .map(|offset| offset * offset)
            .sum::<f64>()
            .sqrt()
            / 1e3
            - 6_371.0;
        assert!((altitude_km - 400.0).abs() < 5.0, "altitude {altitude_km} km");

        // A client connecting now gets the current roster before its first state.
        let (late_token, _) = token_and_ship(&game.register("late").await);
        let (mut late, _) = game.connect_authenticated(&late_token).await;
        let late_roster = next_json(&mut late).await;
        assert_eq!(late_roster["type"], "roster", "{late_roster}");
        let mut late_roster = Some(late_roster);
        let (_, ships) = next_state(&mut late, &mut late_roster).await;
        for id in [&first_ship, &newcomer] {
            assert!(ships.iter().any(|ship| ship["id"] == id.as_str()), "{id} missing");
        }
    })
    .await;
}

/// Pauses the ticks and returns the ship as physics has it then.
async fn paused_ship(game: &Game, ship_id: &str) -> galaxy_proto::v1::ShipState {
    game.ticks.pause();
    tokio::time::sleep(Duration::from_millis(200)).await;
    game.ship(ship_id).await
}

fn velocity_change(before: &galaxy_proto::v1::ShipState, after: &galaxy_proto::v1::ShipState) -> f64 {
    let (a, b) = (before.velocity.unwrap(), after.velocity.unwrap());
    ((b.x - a.x).powi(2) + (b.y - a.y).powi(2) + (b.z - a.z).powi(2)).sqrt()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_control_command_is_acked_and_changes_the_ships_trajectory() {
    with_game(|game| async move {
        let (token, ship_id) = token_and_ship(&game.register("pilot").await);
        let (_, drifter) = token_and_ship(&game.register("drifter").await);
        let (mut socket, _) = game.connect_authenticated(&token).await;

        let (pilot_before, drifter_before) = (paused_ship(&game, &ship_id).await, game.ship(&drifter).await);
        send_json(
            &mut socket,
            json!({"type": "control", "id": 1, "throttle": 1.0, "pitch": 0.0, "yaw": 0.0, "roll": 0.0}),
        )
        .await;
        let ack = next_of_type(&mut socket, "ack").await;
        assert_eq!(ack, json!({"type": "ack", "id": 1, "command": "control"}));
        game.ticks.resume();
        // Ten ticks of 1 game second each with the engine at full throttle.
        let start_tick = next_of_type(&mut socket, "state").await["tick"].as_u64().unwrap();
        loop {
            let state = next_of_type(&mut socket, "state").await;
            if state["tick"].as_u64().unwrap() >= start_tick + 10 {
                assert_eq!(state["own_ship"]["control"]["throttle"], 1.0, "{}", state["own_ship"]);
                break;
            }
        }
        let (pilot_after, drifter_after) = (paused_ship(&game, &ship_id).await, game.ship(&drifter).await);
        game.ticks.resume();

        assert_eq!(pilot_after.control.unwrap().throttle, 1.0);
        assert!(pilot_after.fuel_mass < pilot_before.fuel_mass, "burning uses fuel");
        assert_eq!(drifter_after.fuel_mass, drifter_before.fuel_mass);
        // Same altitude, same gravity: only the thrust can make the pilot's velocity change more.
        let (pilot_change, drifter_change) =
            (velocity_change(&pilot_before, &pilot_after), velocity_change(&drifter_before, &drifter_after));
        assert!(pilot_change > drifter_change * 1.5 + 50.0, "pilot Δv {pilot_change} vs drifter Δv {drifter_change}");

        // Bad values are rejected with a reason, and change nothing.
        send_json(&mut socket, json!({"type": "control", "id": 2, "throttle": 1.5})).await;
        let rejected = next_of_type(&mut socket, "rejected").await;
        assert_eq!(
            (rejected["id"].clone(), rejected["code"].clone()),
            (json!(2), json!("invalid_argument")),
            "{rejected}"
        );
        assert!(rejected["reason"].as_str().unwrap().contains("throttle"), "{rejected}");

        send_json(&mut socket, json!({"type": "attitude_mode", "id": 3, "mode": "target", "target": {"body": "Moon"}}))
            .await;
        assert_eq!(next_of_type(&mut socket, "ack").await["id"], 3);
        send_json(&mut socket, json!({"type": "attitude_mode", "id": 4, "mode": "sideways"})).await;
        assert_eq!(next_of_type(&mut socket, "rejected").await["code"], "invalid_argument");
        loop {
            let state = next_of_type(&mut socket, "state").await;
            if state["own_ship"]["attitude_mode"] == "target" {
                assert_eq!(state["own_ship"]["target"], json!({"body": "Moon"}));
                assert_eq!(state["own_ship"]["control"]["throttle"], 1.0, "the mode change kept the throttle");
                break;
            }
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_respawn_answers_with_the_new_ship_and_states_follow_it() {
    with_game(|game| async move {
        let (token, ship_id) = token_and_ship(&game.register("phoenix").await);
        let (mut socket, _) = game.connect_authenticated(&token).await;
        send_json(&mut socket, json!({"type": "respawn", "id": 7, "class": "cargo_hauler"})).await;
        let respawned = next_of_type(&mut socket, "respawned").await;
        assert_eq!(respawned["id"], 7);
        let new_ship = respawned["ship_id"].as_str().unwrap().to_owned();
        assert_ne!(new_ship, ship_id);
        loop {
            let state = next_of_type(&mut socket, "state").await;
            if state["own_ship"]["id"] == new_ship.as_str() {
                assert_eq!(state["own_ship"]["class"], "cargo_hauler");
                break;
            }
        }
        send_json(&mut socket, json!({"type": "control", "id": 8, "throttle": 0.5})).await;
        assert_eq!(next_of_type(&mut socket, "ack").await["id"], 8);
        send_json(&mut socket, json!({"type": "respawn", "id": 9, "class": "dreadnought"})).await;
        assert_eq!(next_of_type(&mut socket, "rejected").await["code"], "invalid_argument");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reconnecting_client_gets_the_state_at_once() {
    with_game(|game| async move {
        let (token, _) = token_and_ship(&game.register("roamer").await);
        let (mut socket, _) = game.connect_authenticated(&token).await;
        assert_eq!(next_json(&mut socket).await["type"], "roster");
        assert_eq!(next_json(&mut socket).await["type"], "state");
        socket.close(None).await.unwrap();
        // No tick happens meanwhile: the roster and state come from the gateway's latest frame.
        game.ticks.pause();
        tokio::time::sleep(Duration::from_millis(200)).await;
        let started = Instant::now();
        let (mut socket, _) = game.connect_authenticated(&token).await;
        let mut roster = Some(next_json(&mut socket).await);
        assert_eq!(roster.as_ref().unwrap()["type"], "roster");
        let (state, _) = next_state(&mut socket, &mut roster).await;
        assert_eq!(state["type"], "state");
        assert!(started.elapsed() < Duration::from_secs(1), "{:?}", started.elapsed());
        game.ticks.resume();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_foreign_origin_is_closed_with_4003_and_same_or_listed_origins_are_served() {
    let config =
        GatewayConfig { allowed_origins: OriginPolicy::parse("https://galaxy.example.com").unwrap(), ..test_config() };
    with_game_on(EventBus::Memory(MemoryBus::new(10_000)), config, |game| async move {
        let mut socket = game.connect(Some("https://evil.example")).await;
        assert_eq!(close_code(&mut socket, Duration::from_secs(5)).await, Some(4003));

        let (token, _) = token_and_ship(&game.register("origin_ok").await);
        let same_origin = format!("http://{}", game.address);
        for origin in [Some("https://galaxy.example.com"), Some(same_origin.as_str()), None] {
            let mut socket = game.connect(origin).await;
            send_json(&mut socket, json!({"type": "auth", "token": token})).await;
            assert_eq!(next_json(&mut socket).await["type"], "welcome", "{origin:?}");
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_auth_in_time_or_a_bad_token_closes_with_4001() {
    with_game(|game| async move {
        let started = Instant::now();
        let mut silent = game.connect(None).await;
        assert_eq!(close_code(&mut silent, Duration::from_secs(5)).await, Some(4001));
        let waited = started.elapsed();
        assert!(waited >= Duration::from_millis(600) && waited < Duration::from_secs(3), "{waited:?}");

        let mut forged = game.connect(None).await;
        send_json(&mut forged, json!({"type": "auth", "token": "A".repeat(43)})).await;
        assert_eq!(close_code(&mut forged, Duration::from_secs(5)).await, Some(4001));

        let mut eager = game.connect(None).await;
        send_json(&mut eager, json!({"type": "control", "throttle": 1.0})).await;
        assert_eq!(close_code(&mut eager, Duration::from_secs(5)).await, Some(4001));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversize_message_closes_with_1009() {
    with_game(|game| async move {
        let (token, _) = token_and_ship(&game.register("verbose").await);
        let (mut socket, _) = game.connect_authenticated(&token).await;
        let huge = json!({"type": "control", "throttle": 0.5, "padding": "x".repeat(70 * 1024)});
        send_json(&mut socket, huge).await;
        assert_eq!(close_code(&mut socket, Duration::from_secs(5)).await, Some(1009));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_messages_get_an_error_and_the_connection_stays() {
    with_game(|game| async move {
        let (token, _) = token_and_ship(&game.register("sloppy").await);
        let mut socket = game.connect(None).await;
        // Before auth too: the error is answered and the client may still authenticate.
        socket.send(Message::text("{{{")).await.unwrap();
        assert_eq!(next_json(&mut socket).await["code"], "malformed_message");
        send_json(&mut socket, json!({"type": "auth", "token": token})).await;
        assert_eq!(next_of_type(&mut socket, "welcome").await["type"], "welcome");

        for (text, code) in [
            ("not json", "malformed_message"),
            ("[1, 2, 3]", "malformed_message"),
            (r#"{"no_type": true}"#, "malformed_message"),
            (r#"{"type": "teleport"}"#, "unknown_type"),
        ] {
            socket.send(Message::text(text)).await.unwrap();
            let error = next_of_type(&mut socket, "error").await;
            assert_eq!(error["code"], code, "{text}: {error}");
        }
        socket.send(Message::binary(vec![1_u8, 2, 3])).await.unwrap();
        assert_eq!(next_of_type(&mut socket, "error").await["code"], "malformed_message");
        send_json(&mut socket, json!({"type": "control", "id": 5, "throttle": "full"})).await;
        let rejected = next_of_type(&mut socket, "rejected").await;
        assert_eq!((rejected["id"].clone(), rejected["code"].clone()), (json!(5), json!("malformed_message")));

        send_json(&mut socket, json!({"type": "control", "id": 6, "throttle": 0.25})).await;
        assert_eq!(next_of_type(&mut socket, "ack").await["id"], 6, "still connected and serving");
        assert_eq!(next_of_type(&mut socket, "state").await["type"], "state");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logging_out_closes_that_tokens_websockets_with_4001() {
    with_game(|game| async move {
        let (token, _) = token_and_ship(&game.register("leaver").await);
        let (mut socket, _) = game.connect_authenticated(&token).await;
        assert_eq!(game.post("/api/auth/logout", Some(&token), None).await.status(), 204);
        assert_eq!(close_code(&mut socket, Duration::from_secs(5)).await, Some(4001));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upgrade_request_that_never_finishes_its_headers_is_dropped_after_the_header_read_timeout() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let config = GatewayConfig { header_read_timeout: Duration::from_millis(800), ..test_config() };
    with_game_on(EventBus::Memory(MemoryBus::new(10_000)), config, |game| async move {
        // A slowloris client: the request line and one header, then a byte every 100 ms.
        let mut slow = tokio::net::TcpStream::connect(game.address).await.unwrap();
        slow.write_all(b"GET /ws HTTP/1.1\r\nHost: galaxy\r\n").await.unwrap();
        let started = Instant::now();
        let mut reply = Vec::new();
        let closed_after = loop {
            let mut buffer = [0_u8; 256];
            match tokio::time::timeout(Duration::from_millis(100), slow.read(&mut buffer)).await {
                Ok(Ok(0) | Err(_)) => break started.elapsed(),
                Ok(Ok(read)) => reply.extend_from_slice(&buffer[..read]),
                Err(_) => {
                    assert!(started.elapsed() < Duration::from_secs(10), "the slow client was never dropped");
                    if slow.write_all(b"X").await.is_err() {
                        break started.elapsed();
                    }
                }
            }
        };
        assert!(closed_after >= Duration::from_millis(600), "dropped too early: {closed_after:?}");
        // Nothing was served to it, and the gateway still serves a prompt client.
        assert!(!String::from_utf8_lossy(&reply).contains("101"), "{}", String::from_utf8_lossy(&reply));
        let (token, _) = token_and_ship(&game.register("prompt").await);
        let (_socket, welcome) = game.connect_authenticated(&token).await;
        assert_eq!(welcome["type"], "welcome");
    })
    .await;
}
