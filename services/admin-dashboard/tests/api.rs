//! The dashboard's API against the whole game running in this process (every service on its
//! own loopback gRPC port): an admin logs in and steers the game, and sees the effect through
//! the API; a player's session gets 403 from every admin endpoint and no session gets 401; the
//! page and its vendored chart library are served from here; production refuses a default
//! first-admin password.
#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use galaxy::{GameAddresses, GameOptions};
use galaxy_admin_dashboard::{ConfigError, DashboardConfig, DashboardError};
use galaxy_proto::v1;
use galaxy_storage::Stores;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::sync::oneshot;

const ADMIN: &str = "dash_admin";
const ADMIN_PASSWORD: &str = "a long admin secret";

struct Running {
    game: GameAddresses,
    dashboard: SocketAddr,
    stop: Vec<oneshot::Sender<()>>,
    http: reqwest::Client,
}

fn config(game: &GameAddresses, password: &str, production: bool) -> DashboardConfig {
    DashboardConfig {
        listen_addr: "127.0.0.1:0".parse().unwrap(),
        tick_engine_url: format!("http://{}", game.tick_engine),
        physics_url: format!("http://{}", game.physics),
        players_url: format!("http://{}", game.players),
        galaxy_url: format!("http://{}", game.galaxy),
        admin_username: ADMIN.into(),
        admin_password: password.into(),
        production,
    }
}

async fn start() -> Running {
    let stores = Stores::in_memory();
    let options = GameOptions {
        http_addr: "127.0.0.1:0".parse().unwrap(),
        grpc_host: std::net::Ipv4Addr::LOCALHOST.into(),
        grpc_base_port: 0,
        web_root: None,
        admin_addr: None,
        tick_engine: galaxy_tick_engine::TickEngineOptions::default(),
    };
    let (ready, addresses) = oneshot::channel();
    let (stop_game, game_stopped) = oneshot::channel::<()>();
    tokio::spawn(galaxy::run(options, stores.clone(), ready, async move {
        let _ = game_stopped.await;
    }));
    let game = addresses.await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let dashboard = listener.local_addr().unwrap();
    let (stop_dashboard, dashboard_stopped) = oneshot::channel::<()>();
    tokio::spawn(galaxy_admin_dashboard::serve(listener, config(&game, ADMIN_PASSWORD, true), stores, async move {
        let _ = dashboard_stopped.await;
    }));
    let http = reqwest::Client::builder().timeout(Duration::from_secs(20)).build().unwrap();
    let running = Running { game, dashboard, stop: vec![stop_dashboard, stop_game], http };
    // Up once the page answers.
    let deadline = Instant::now() + Duration::from_secs(20);
    while running.http.get(running.url("/admin/")).send().await.is_err() {
        assert!(Instant::now() < deadline, "the dashboard did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    running
}

impl Running {
    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.dashboard)
    }

    /// `method path` with `body` as JSON (for anything but GET) and the session cookie.
    async fn call(&self, cookie: Option<&str>, method: Method, path: &str, body: Value) -> (StatusCode, Value) {
        let mut request = self.http.request(method.clone(), self.url(path));
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        if method != Method::GET {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn ok(&self, cookie: &str, method: Method, path: &str, body: Value) -> Value {
        let (status, body) = self.call(Some(cookie), method, path, body).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        body
    }

    /// Logs in and returns the `name=value` part of the session cookie.
    async fn login(&self, username: &str, password: &str) -> Result<String, StatusCode> {
        let response = self
            .http
            .post(self.url("/admin/api/login"))
            .json(&json!({"username": username, "password": password}))
            .send()
            .await
            .unwrap();
        if response.status() != StatusCode::OK {
            return Err(response.status());
        }
        let cookie = response.headers()["set-cookie"].to_str().unwrap().to_owned();
        assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"), "{cookie}");
        Ok(cookie.split(';').next().unwrap().to_owned())
    }

    async fn register_player(&self, username: &str) -> String {
        let mut players =
            v1::players_client::PlayersClient::connect(format!("http://{}", self.game.players)).await.unwrap();
        let request = v1::RegisterRequest { username: username.into(), password: "pilot password".into() };
        players.register(request).await.unwrap().into_inner().token
    }

    async fn wait_for_tick_after(&self, cookie: &str, tick: u64) -> u64 {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let now = self.ok(cookie, Method::GET, "/admin/api/status", Value::Null).await["tick"].as_u64().unwrap();
            if now > tick {
                return now;
            }
            assert!(Instant::now() < deadline, "the tick stayed at {now}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn stop(self) {
        for stop in self.stop {
            let _ = stop.send(());
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_logs_in_and_steers_the_game_and_every_change_is_audited() {
    let running = start().await;
    let admin = running.login(ADMIN, ADMIN_PASSWORD).await.unwrap();
    assert_eq!(running.ok(&admin, Method::GET, "/admin/api/me", Value::Null).await["username"], ADMIN);

    let status = running.ok(&admin, Method::GET, "/admin/api/status", Value::Null).await;
    assert_eq!(status["registrations_open"], true);
    for level in ["energy_drift_level", "momentum_drift_level"] {
        assert!(["green", "yellow", "red"].contains(&status[level].as_str().unwrap()), "{status}");
    }

    let rate = running.ok(&admin, Method::POST, "/admin/api/tick-rate", json!({"value": 20.0})).await;
    assert_eq!(rate["tick_rate_hz"], 20.0);
    let (refused, body) =
        running.call(Some(&admin), Method::POST, "/admin/api/tick-rate", json!({"value": 1000.0})).await;
    assert_eq!(refused, StatusCode::BAD_REQUEST, "{body}");
    let scale = running.ok(&admin, Method::POST, "/admin/api/time-scale", json!({"value": 3.0})).await;
    assert_eq!(scale["time_scale"], 3.0);

    // Pause stops the tick; resume starts it again.
    let before = running.wait_for_tick_after(&admin, 0).await;
    assert_eq!(running.ok(&admin, Method::POST, "/admin/api/pause", json!({})).await["paused"], true);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let paused_at = running.ok(&admin, Method::GET, "/admin/api/status", Value::Null).await["tick"].as_u64().unwrap();
    assert!(paused_at >= before);
    tokio::time::sleep(Duration::from_millis(400)).await;
    let still = running.ok(&admin, Method::GET, "/admin/api/status", Value::Null).await;
    assert_eq!((still["tick"].as_u64().unwrap(), &still["paused"]), (paused_at, &json!(true)));
    assert_eq!(running.ok(&admin, Method::POST, "/admin/api/resume", json!({})).await["paused"], false);
    running.wait_for_tick_after(&admin, paused_at).await;

    let closed = running.ok(&admin, Method::POST, "/admin/api/registrations", json!({"open": false})).await;
    assert_eq!(closed["registrations_open"], false);
    running.ok(&admin, Method::POST, "/admin/api/registrations", json!({"open": true})).await;

    // Snapshot now, listed, restored only with confirmation.
    let snapshot = running.ok(&admin, Method::POST, "/admin/api/snapshots", json!({})).await;
    let id = snapshot["snapshot_id"].as_u64().unwrap();
    let listed = running.ok(&admin, Method::GET, "/admin/api/snapshots", Value::Null).await;
    assert!(listed["snapshots"].as_array().unwrap().iter().any(|listed| listed["snapshot_id"] == id));
    let restore = format!("/admin/api/snapshots/{id}/restore");
    let (unconfirmed, _) = running.call(Some(&admin), Method::POST, &restore, json!({"confirm": false})).await;
    assert_eq!(unconfirmed, StatusCode::BAD_REQUEST);
    let restored = running.ok(&admin, Method::POST, &restore, json!({"confirm": true})).await;
    assert_eq!(restored["tick"], snapshot["tick"]);

    // Players: kick, ban, unban.
    running.register_player("dash_pilot").await;
    let players = running.ok(&admin, Method::GET, "/admin/api/players", Value::Null).await;
    let pilot = players["players"].as_array().unwrap().iter().find(|player| player["username"] == "dash_pilot");
    // Just registered: seen now, so online.
    assert_eq!(pilot.unwrap()["online"], true, "{players}");
    assert!(pilot.unwrap()["last_seen_unix"].as_i64().unwrap() > 0);
    let kicked = running.ok(&admin, Method::POST, "/admin/api/players/dash_pilot/kick", json!({})).await;
    assert_eq!(kicked["sessions_revoked"], 1);
    let banned = running.ok(&admin, Method::POST, "/admin/api/players/dash_pilot/ban", json!({})).await;
    assert_eq!(banned["player"]["banned"], true);
    let unbanned = running.ok(&admin, Method::POST, "/admin/api/players/dash_pilot/unban", json!({})).await;
    assert_eq!(unbanned["player"]["banned"], false);
    let (unknown, _) =
        running.call(Some(&admin), Method::POST, "/admin/api/players/nobody_at_all/ban", json!({})).await;
    assert_eq!(unknown, StatusCode::NOT_FOUND);

    let audit = running.ok(&admin, Method::GET, "/admin/api/audit", Value::Null).await;
    let actions: Vec<&str> =
        audit["entries"].as_array().unwrap().iter().map(|entry| entry["action"].as_str().unwrap()).collect();
    assert_eq!(
        actions,
        [
            "player.unban",
            "player.ban",
            "player.kick",
            "snapshot.restore",
            "snapshot.create",
            "config.registrations",
            "config.registrations",
            "tick.resume",
            "tick.pause",
            "tick.time_scale",
            "tick.rate",
        ]
    );
    assert!(audit["entries"].as_array().unwrap().iter().all(|entry| entry["admin"] == ADMIN));
    assert_eq!(audit["entries"][3]["details"]["via"], "admin-dashboard");

    // The chart's samples: ticks with their phases.
    let deadline = Instant::now() + Duration::from_secs(20);
    let samples = loop {
        let timings = running.ok(&admin, Method::GET, "/admin/api/timings", Value::Null).await;
        let samples = timings["samples"].as_array().unwrap().clone();
        if samples.len() >= 2 {
            break samples;
        }
        assert!(Instant::now() < deadline, "no timing samples: {timings}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    assert!(samples.windows(2).all(|pair| pair[0]["tick"] != pair[1]["tick"]));
    assert!(samples.iter().all(|sample| sample["total_seconds"].as_f64().unwrap() > 0.0), "{samples:?}");

    // Logged out, the cookie is worthless.
    running.ok(&admin, Method::POST, "/admin/api/logout", json!({})).await;
    let (after, _) = running.call(Some(&admin), Method::GET, "/admin/api/me", Value::Null).await;
    assert_eq!(after, StatusCode::UNAUTHORIZED);
    running.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn players_get_403_and_strangers_401_from_every_admin_endpoint() {
    let running = start().await;
    let player_token = running.register_player("plain_pilot").await;
    assert_eq!(running.login("plain_pilot", "pilot password").await, Err(StatusCode::FORBIDDEN));

    let endpoints: [(Method, &str, Value); 17] = [
        (Method::GET, "/admin/api/me", Value::Null),
        (Method::GET, "/admin/api/status", Value::Null),
        (Method::GET, "/admin/api/timings", Value::Null),
        (Method::POST, "/admin/api/pause", json!({})),
        (Method::POST, "/admin/api/resume", json!({})),
        (Method::POST, "/admin/api/tick-rate", json!({"value": 5.0})),
        (Method::POST, "/admin/api/time-scale", json!({"value": 5.0})),
        (Method::POST, "/admin/api/registrations", json!({"open": false})),
        (Method::GET, "/admin/api/snapshots", Value::Null),
        (Method::POST, "/admin/api/snapshots", json!({})),
        (Method::POST, "/admin/api/snapshots/1/restore", json!({"confirm": true})),
        (Method::GET, "/admin/api/players", Value::Null),
        (Method::POST, "/admin/api/players/plain_pilot/kick", json!({})),
        (Method::POST, "/admin/api/players/plain_pilot/ban", json!({})),
        (Method::POST, "/admin/api/players/plain_pilot/unban", json!({})),
        (Method::GET, "/admin/api/audit", Value::Null),
        (Method::GET, "/admin/api/audit?limit=5", Value::Null),
    ];
    let bearer = |request: reqwest::RequestBuilder| request.bearer_auth(&player_token);
    for (method, path, body) in &endpoints {
        for (who, expected) in [("player", StatusCode::FORBIDDEN), ("nobody", StatusCode::UNAUTHORIZED)] {
            let mut request = running.http.request(method.clone(), running.url(path));
            if who == "player" {
                request = bearer(request);
            }
            if *method != Method::GET {
                request = request.json(body);
            }
            let status = request.send().await.unwrap().status();
            assert_eq!(status, expected, "{who}: {method} {path}");
        }
        // The player's cookie is refused the same way.
        let cookie = format!("galaxy_admin={player_token}");
        assert_eq!(running.call(Some(&cookie), method.clone(), path, body.clone()).await.0, StatusCode::FORBIDDEN);
    }

    // Nothing changed, and nothing was audited.
    let admin = running.login(ADMIN, ADMIN_PASSWORD).await.unwrap();
    let status = running.ok(&admin, Method::GET, "/admin/api/status", Value::Null).await;
    assert_eq!((&status["paused"], &status["registrations_open"]), (&json!(false), &json!(true)));
    let audit = running.ok(&admin, Method::GET, "/admin/api/audit", Value::Null).await;
    assert_eq!(audit["entries"], json!([]));
    let players = running.ok(&admin, Method::GET, "/admin/api/players", Value::Null).await;
    let pilot = players["players"].as_array().unwrap().iter().find(|player| player["username"] == "plain_pilot");
    assert_eq!(pilot.unwrap()["banned"], false);

    // A form post (what a cross-site page can send without asking) is refused even for an admin.
    let form = running
        .http
        .post(running.url("/admin/api/pause"))
        .header("cookie", &admin)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("x=1")
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    running.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_and_its_chart_library_are_served_from_here() {
    let running = start().await;
    let page = running.http.get(running.url("/admin/")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let policy = page.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(policy.contains("script-src 'self'") && policy.contains("frame-ancestors 'none'"), "{policy}");
    let html = page.text().await.unwrap();
    assert!(html.contains(r#"src="/admin/assets/uPlot.iife.min.js""#) && !html.contains("https://"), "{html}");
    for (asset, content_type, marker) in [
        ("uPlot.iife.min.js", "text/javascript", "uPlot"),
        ("uPlot.min.css", "text/css", ".uplot"),
        ("app.js", "text/javascript", "/admin/api/"),
        ("app.css", "text/css", ".green"),
    ] {
        let response = running.http.get(running.url(&format!("/admin/assets/{asset}"))).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{asset}");
        assert!(response.headers()["content-type"].to_str().unwrap().starts_with(content_type), "{asset}");
        assert!(response.text().await.unwrap().contains(marker), "{asset}");
    }
    let missing = running.http.get(running.url("/admin/assets/../Cargo.toml")).send().await.unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let metrics = running.http.get(running.url("/metrics")).send().await.unwrap();
    assert_eq!(metrics.status(), StatusCode::OK);
    running.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn production_refuses_a_default_password_and_a_player_is_never_promoted() {
    let game = GameAddresses {
        http: "127.0.0.1:1".parse().unwrap(),
        tick_engine: "127.0.0.1:1".parse().unwrap(),
        physics: "127.0.0.1:1".parse().unwrap(),
        players: "127.0.0.1:1".parse().unwrap(),
        galaxy: "127.0.0.1:1".parse().unwrap(),
        admin: None,
    };
    for password in ["", galaxy_admin_dashboard::DEFAULT_ADMIN_PASSWORD, "admin"] {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let outcome =
            galaxy_admin_dashboard::serve(listener, config(&game, password, true), Stores::in_memory(), async {}).await;
        assert!(
            matches!(outcome, Err(DashboardError::Config(ConfigError::DefaultPasswordInProduction))),
            "{password:?}: {outcome:?}"
        );
    }
    // Outside production the default is accepted (and the first admin created).
    let stores = Stores::in_memory();
    let development = config(&game, galaxy_admin_dashboard::DEFAULT_ADMIN_PASSWORD, false);
    galaxy_admin_dashboard::ensure_first_admin(&development, &stores).await.unwrap();
    let admin = stores.database.find_player_by_username(ADMIN).await.unwrap().unwrap();
    assert_eq!(admin.role, galaxy_storage::Role::Admin);

    // A player who registered the admin's name first is not made an admin.
    let stores = Stores::in_memory();
    stores
        .database
        .create_player(
            ADMIN,
            "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
            galaxy_storage::Role::Player,
        )
        .await
        .unwrap();
    let outcome = galaxy_admin_dashboard::ensure_first_admin(&config(&game, ADMIN_PASSWORD, true), &stores).await;
    assert!(matches!(outcome, Err(DashboardError::FirstAdmin { .. })), "{outcome:?}");
    let player = stores.database.find_player_by_username(ADMIN).await.unwrap().unwrap();
    assert_eq!(player.role, galaxy_storage::Role::Player);
}
