//! The REST API over a real socket against the real services: accounts and sessions, ships,
//! predictions and respawn, and every documented error status (400, 401, 403, 404, 409, 413,
//! 422, 429) as JSON with a stable code.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::{PASSWORD, test_config, with_game, with_game_on};
use galaxy_storage::{EventBus, MemoryBus};
use serde_json::{Value, json};

async fn error_code(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap();
    (status, body["error"]["code"].as_str().unwrap_or_default().to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_login_me_refresh_and_logout() {
    with_game(|game| async move {
        let session = game.register("ada_1").await;
        let token = session["token"].as_str().unwrap().to_owned();
        assert_eq!(session["player"]["username"], "ada_1");
        assert_eq!(session["player"]["role"], "player");
        let ship_id = session["ship_id"].as_str().unwrap().to_owned();
        assert!(ship_id.starts_with("ship-"), "{session}");
        assert!(session["expires_at"].as_i64().unwrap() > 1_700_000_000);

        let login = game.post("/api/auth/login", None, Some(json!({"username": "ada_1", "password": PASSWORD}))).await;
        assert_eq!(login.status(), 200);
        let login: Value = login.json().await.unwrap();
        assert_ne!(login["token"], session["token"]);

        let me: Value = game.get("/api/me", Some(&token)).await.json().await.unwrap();
        assert_eq!(me["player"]["username"], "ada_1");
        assert_eq!(me["ship"]["id"], ship_id.as_str());
        assert_eq!(me["ship"]["class"], "fast_frigate");
        assert!(me["ship"]["delta_v"].as_f64().unwrap() > 0.0);
        assert!(me["ship"]["max_thrust"].as_f64().unwrap() > 0.0);

        let refreshed = game.post("/api/auth/refresh", Some(&token), None).await;
        assert_eq!(refreshed.status(), 200);
        let refreshed: Value = refreshed.json().await.unwrap();
        let new_token = refreshed["token"].as_str().unwrap().to_owned();
        assert_eq!(error_code(game.get("/api/me", Some(&token)).await).await, (401, "unauthenticated".into()));

        let logout = game.post("/api/auth/logout", Some(&new_token), None).await;
        assert_eq!(logout.status(), 204);
        assert_eq!(error_code(game.get("/api/me", Some(&new_token)).await).await, (401, "unauthenticated".into()));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_malformed_and_unknown_tokens_are_401() {
    with_game(|game| async move {
        assert_eq!(error_code(game.get("/api/me", None).await).await, (401, "unauthenticated".into()));
        assert_eq!(error_code(game.get("/api/ships", Some("nonsense")).await).await, (401, "unauthenticated".into()));
        let forged = "A".repeat(43);
        assert_eq!(error_code(game.get("/api/me", Some(&forged)).await).await, (401, "unauthenticated".into()));
        let wrong_password =
            game.post("/api/auth/login", None, Some(json!({"username": "nobody", "password": "wrong password"}))).await;
        assert_eq!(error_code(wrong_password).await, (401, "invalid_credentials".into()));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_players_ship_is_403_and_an_unknown_one_404() {
    with_game(|game| async move {
        let alice = game.register("alice").await;
        let bob = game.register("bob").await;
        let token = alice["token"].as_str().unwrap();
        let bobs_ship = bob["ship_id"].as_str().unwrap();

        let prediction = game.get(&format!("/api/ships/{bobs_ship}/prediction"), Some(token)).await;
        assert_eq!(error_code(prediction).await, (403, "forbidden".into()));
        let path = format!("/api/ships/{bobs_ship}/respawn");
        let respawn = game.post(&path, Some(token), Some(json!({"class": "cargo_hauler"}))).await;
        assert_eq!(error_code(respawn).await, (403, "forbidden".into()));
        let unknown = game.get("/api/ships/ship-999999/prediction", Some(token)).await;
        assert_eq!(error_code(unknown).await, (404, "not_found".into()));
        assert_eq!(error_code(game.get("/api/ships/ship-999999", Some(token)).await).await, (404, "not_found".into()));

        // Anyone may look at anyone's ship, but only the owner sees it in full.
        let theirs: Value = game.get(&format!("/api/ships/{bobs_ship}"), Some(token)).await.json().await.unwrap();
        assert_eq!(theirs["id"], bobs_ship);
        assert!(theirs.get("dry_mass").is_none(), "{theirs}");
        let mine = alice["ship_id"].as_str().unwrap();
        let mine: Value = game.get(&format!("/api/ships/{mine}"), Some(token)).await.json().await.unwrap();
        assert!(mine["dry_mass"].as_f64().unwrap() > 0.0, "{mine}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_get_400_409_413_422_and_unknown_routes_404() {
    with_game(|game| async move {
        game.register("taken_name").await;
        let again =
            game.post("/api/auth/register", None, Some(json!({"username": "Taken_Name", "password": PASSWORD}))).await;
        assert_eq!(error_code(again).await, (409, "username_taken".into()));
        let short = game.post("/api/auth/register", None, Some(json!({"username": "shorty", "password": "short"})));
        assert_eq!(error_code(short.await).await, (422, "invalid_argument".into()));
        let bad_name =
            game.post("/api/auth/register", None, Some(json!({"username": "no spaces!", "password": PASSWORD})));
        assert_eq!(error_code(bad_name.await).await, (422, "invalid_argument".into()));

        let not_json = game
            .http
            .post(format!("{}/api/auth/login", game.base))
            .header("content-type", "application/json")
            .body("{not json")
            .send()
            .await
            .unwrap();
        assert_eq!(error_code(not_json).await, (400, "malformed_request".into()));
        let wrong_types = game.post("/api/auth/login", None, Some(json!({"username": 7, "password": []}))).await;
        assert_eq!(error_code(wrong_types).await, (400, "malformed_request".into()));
        let form =
            game.http.post(format!("{}/api/auth/login", game.base)).body("username=a&password=b").send().await.unwrap();
        assert_eq!(error_code(form).await, (400, "malformed_request".into()));

        let huge = json!({"username": "ada_2", "password": "x".repeat(20 * 1024)});
        let too_large = game.post("/api/auth/register", None, Some(huge)).await;
        assert_eq!(error_code(too_large).await, (413, "payload_too_large".into()));

        assert_eq!(error_code(game.get("/api/nothing/here", None).await).await, (404, "not_found".into()));
        assert_eq!(error_code(game.get("/nothing", None).await).await, (404, "not_found".into()));
        let wrong_method = game.get("/api/auth/login", None).await;
        assert_eq!(error_code(wrong_method).await, (405, "method_not_allowed".into()));

        let session = game.register("predictor").await;
        let (token, ship) = (session["token"].as_str().unwrap(), session["ship_id"].as_str().unwrap());
        for query in ["horizon=0", "horizon=1e9", "samples=1", "samples=2.5"] {
            let response = game.get(&format!("/api/ships/{ship}/prediction?{query}"), Some(token)).await;
            assert_eq!(error_code(response).await, (422, "invalid_argument".into()), "{query}");
        }
        let response = game.get(&format!("/api/ships/{ship}/prediction?horizon=soon"), Some(token)).await;
        assert_eq!(error_code(response).await, (400, "malformed_request".into()));
        let path = format!("/api/ships/{ship}/respawn");
        let unknown_class = game.post(&path, Some(token), Some(json!({"class": "dreadnought"}))).await;
        assert_eq!(error_code(unknown_class).await, (422, "invalid_argument".into()));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_flood_gets_429_with_retry_after() {
    let config =
        galaxy_gateway::GatewayConfig { logins_per_minute: std::num::NonZeroU32::new(3).unwrap(), ..test_config() };
    with_game_on(EventBus::Memory(MemoryBus::new(10_000)), config, |game| async move {
        game.register("flooded").await;
        let mut statuses = Vec::new();
        let mut retry_after = None;
        for _ in 0..6 {
            let response = game.post(
                "/api/auth/login",
                None,
                Some(json!({"username": "flooded", "password": "not the password"})),
            );
            let response = response.await;
            if response.status() == 429 {
                retry_after = response.headers().get("retry-after").map(|value| value.to_str().unwrap().to_owned());
            }
            statuses.push(error_code(response).await);
        }
        // One attempt went to registering; the limit is per address and username.
        assert_eq!(statuses.iter().filter(|(status, _)| *status == 401).count(), 2, "{statuses:?}");
        assert!(statuses[2..].iter().all(|(status, code)| *status == 429 && code == "rate_limited"), "{statuses:?}");
        let seconds: u64 = retry_after.expect("Retry-After on 429").parse().unwrap();
        assert!((1..=60).contains(&seconds), "{seconds}");
        // Another username from the same address is not affected.
        let other =
            game.post("/api/auth/login", None, Some(json!({"username": "someone", "password": "not the password"})));
        assert_eq!(error_code(other.await).await, (401, "invalid_credentials".into()));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_bodies_ships_prediction_respawn_and_openapi() {
    with_game(|game| async move {
        let config: Value = game.get("/api/config", None).await.json().await.unwrap();
        assert_eq!(config["spawn_body"], "Earth");
        assert_eq!(config["ship_classes"], json!(["fast_frigate", "cargo_hauler"]));
        assert_eq!(config["registrations_open"], true);

        tokio::time::sleep(Duration::from_millis(300)).await;
        let bodies: Value = game.get("/api/bodies", None).await.json().await.unwrap();
        assert_eq!(bodies["bodies"].as_array().unwrap().len(), 29);
        assert!(bodies["tick"].as_u64().unwrap() >= 1, "{}", bodies["tick"]);
        let earth = bodies["bodies"].as_array().unwrap().iter().find(|body| body["name"] == "Earth").unwrap();
        assert_eq!(earth["kind"], "planet");
        assert_eq!(earth["parent"], "Sun");
        let sun = bodies["bodies"].as_array().unwrap().iter().find(|body| body["name"] == "Sun").unwrap();
        assert_eq!(sun["parent"], Value::Null);

        let session = game.register("navigator").await;
        let (token, ship) =
            (session["token"].as_str().unwrap().to_owned(), session["ship_id"].as_str().unwrap().to_owned());
        tokio::time::sleep(Duration::from_millis(300)).await;
        let ships: Value = game.get("/api/ships", Some(&token)).await.json().await.unwrap();
        assert!(ships["ships"].as_array().unwrap().iter().any(|listed| listed["id"] == ship.as_str()), "{ships}");

        let prediction =
            game.get(&format!("/api/ships/{ship}/prediction?horizon=5400&samples=180"), Some(&token)).await;
        assert_eq!(prediction.status(), 200);
        let prediction: Value = prediction.json().await.unwrap();
        assert_eq!(prediction["reference_body"], "Earth");
        assert_eq!(prediction["points"].as_array().unwrap().len(), 180);
        let periapsis = prediction["elements"]["periapsis"].as_f64().unwrap();
        assert!((6.6e6..7.0e6).contains(&periapsis), "{periapsis}");

        let path = format!("/api/ships/{ship}/respawn");
        let respawned = game.post(&path, Some(&token), Some(json!({"class": "cargo_hauler"}))).await;
        assert_eq!(respawned.status(), 200);
        let respawned: Value = respawned.json().await.unwrap();
        assert_eq!(respawned["class"], "cargo_hauler");
        assert_ne!(respawned["id"], ship.as_str());
        let me: Value = game.get("/api/me", Some(&token)).await.json().await.unwrap();
        assert_eq!(me["ship"]["id"], respawned["id"]);
        let old = game.get(&format!("/api/ships/{ship}/prediction"), Some(&token)).await;
        assert_eq!(old.status(), 404, "the old ship is gone");

        let openapi: Value = game.get("/api/openapi.json", None).await.json().await.unwrap();
        assert!(openapi["openapi"].as_str().unwrap().starts_with("3.1"), "{}", openapi["openapi"]);
        assert!(openapi["paths"]["/api/ships/{id}/prediction"]["get"].is_object());
        assert!(openapi["components"]["schemas"]["ShipJson"].is_object());

        let live = game.get("/livez", None).await;
        assert_eq!(live.status(), 200);
        let ready = game.get("/readyz", None).await;
        assert_eq!(ready.status(), 200, "{}", ready.text().await.unwrap());
    })
    .await;
}
