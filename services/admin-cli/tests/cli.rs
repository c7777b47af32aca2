//! The `galaxy-admin` binary against the whole game running in this process (every service on
//! its own loopback gRPC port, as `./scripts/play` runs it): every command, its JSON and exit
//! code, what it changed as seen through the services themselves, the audit trail it left
//! (in memory, and in a PostgreSQL database of the test's own), and the error when a service
//! cannot be reached.
#![allow(clippy::unwrap_used)]

use std::hash::{BuildHasher, RandomState};
use std::time::{Duration, Instant};

use galaxy::{GameAddresses, GameOptions};
use galaxy_players::{PlayerAccounts, PlayersConfig};
use galaxy_proto::v1;
use galaxy_proto::v1::players_client::PlayersClient;
use galaxy_storage::{Database, EventBus, MemoryBus, PostgresConfig, PostgresStore, Stores};
use serde_json::Value;
use tokio::sync::oneshot;

const ADMIN: &str = "chief_admin";
const ADMIN_PASSWORD: &str = "correct horse battery";
const POSTGRES_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

struct Game {
    addresses: GameAddresses,
    stop: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Game {
    /// Starts every service on free ports with `stores` and creates the first admin.
    async fn start(stores: Stores) -> Game {
        let accounts = PlayerAccounts::new(stores.database.clone(), stores.bus.clone(), PlayersConfig::default());
        accounts.ensure_admin(ADMIN, ADMIN_PASSWORD).await.unwrap();
        let options = GameOptions {
            http_addr: "127.0.0.1:0".parse().unwrap(),
            grpc_host: std::net::Ipv4Addr::LOCALHOST.into(),
            grpc_base_port: 0,
            web_root: None,
            admin_addr: None,
            tick_engine: galaxy_tick_engine::TickEngineOptions::default(),
        };
        let (ready, addresses) = oneshot::channel();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(galaxy::run(options, stores, ready, async move {
            let _ = stopped.await;
        }));
        let game = Game { addresses: addresses.await.unwrap(), stop, task };
        // The first admin can log in (the players service sees the same store).
        login(&game, ADMIN, ADMIN_PASSWORD).await.unwrap();
        game.wait_until_ticking().await;
        game
    }

    /// Waits (up to 30 s) until the tick-engine runs its loop: its control service answers as
    /// soon as it listens, but refuses controls as standby until the loop is installed (on a
    /// slow machine, after the first commands of a test).
    async fn wait_until_ticking(&self) {
        let address = format!("http://{}", self.addresses.tick_engine);
        let mut client = v1::tick_engine_client::TickEngineClient::connect(address).await.unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        while client.get_status(v1::GetStatusRequest {}).await.unwrap().into_inner().standby {
            assert!(Instant::now() < deadline, "the tick-engine stayed in standby");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn urls(&self) -> Vec<String> {
        let url = |address| format!("http://{address}");
        vec![
            "--tick-engine-url".into(),
            url(self.addresses.tick_engine),
            "--physics-url".into(),
            url(self.addresses.physics),
            "--players-url".into(),
            url(self.addresses.players),
            "--galaxy-url".into(),
            url(self.addresses.galaxy),
        ]
    }

    async fn players(&self) -> PlayersClient<tonic::transport::Channel> {
        PlayersClient::connect(format!("http://{}", self.addresses.players)).await.unwrap()
    }

    async fn stop(self) {
        let _ = self.stop.send(());
        tokio::time::timeout(Duration::from_secs(20), self.task).await.unwrap().unwrap().unwrap();
    }
}

#[derive(Debug)]
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn json(&self) -> Value {
        assert_eq!(self.code, 0, "{self:?}");
        serde_json::from_str(&self.stdout).unwrap_or_else(|error| panic!("{error}: {self:?}"))
    }
}

/// Runs the binary with `args`, as `user` (username, password) when given.
async fn galaxy_admin(game: &Game, user: Option<(&str, &str)>, args: &[&str]) -> Run {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_galaxy-admin"));
    command.args(game.urls()).args(args).args(["--timeout", "10"]);
    for variable in
        ["GALAXY_ADMIN_TOKEN", "GALAXY_ADMIN_USERNAME", "GALAXY_ADMIN_PASSWORD", "GALAXY_NEW_ADMIN_PASSWORD"]
    {
        command.env_remove(variable);
    }
    if let Some((username, password)) = user {
        command.env("GALAXY_ADMIN_USERNAME", username).env("GALAXY_ADMIN_PASSWORD", password);
    }
    let output = tokio::time::timeout(Duration::from_secs(60), command.output()).await.unwrap().unwrap();
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

async fn as_admin(game: &Game, args: &[&str]) -> Value {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    galaxy_admin(game, Some((ADMIN, ADMIN_PASSWORD)), &all).await.json()
}

async fn tick_of(game: &Game) -> u64 {
    galaxy_admin(game, None, &["--json", "status"]).await.json()["tick"].as_u64().unwrap()
}

/// Waits (up to 30 s, however busy the machine) until the tick passes `tick`.
async fn wait_for_tick_after(game: &Game, tick: u64) -> u64 {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let now = tick_of(game).await;
        if now > tick {
            return now;
        }
        assert!(Instant::now() < deadline, "the tick stayed at {now}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn register(game: &Game, username: &str) -> Result<v1::Session, tonic::Status> {
    let request = v1::RegisterRequest { username: username.into(), password: "pilot password".into() };
    game.players().await.register(request).await.map(tonic::Response::into_inner)
}

async fn login(game: &Game, username: &str, password: &str) -> Result<v1::Session, tonic::Status> {
    let request = v1::LoginRequest { username: username.into(), password: password.into() };
    game.players().await.login(request).await.map(tonic::Response::into_inner)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_simulation_controls_change_the_running_game_and_are_audited() {
    let game = Game::start(Stores::in_memory()).await;

    // Reading needs no credentials; the text form is a table of labelled lines.
    let text = galaxy_admin(&game, None, &["status"]).await;
    assert_eq!(text.code, 0, "{text:?}");
    let line = |label: &str| text.stdout.lines().find(|line| line.starts_with(label)).map(str::to_owned);
    assert!(line("registrations").unwrap().ends_with(" open"), "{text:?}");
    assert!(line("tick rate").unwrap().contains(" Hz (actual "), "{text:?}");
    let status = galaxy_admin(&game, None, &["--json", "status"]).await.json();
    assert_eq!(status["registrations_open"], true);

    assert_eq!(as_admin(&game, &["tick-rate", "set", "20"]).await["tick_rate_hz"], 20.0);
    assert_eq!(galaxy_admin(&game, None, &["--json", "tick-rate", "get"]).await.json()["tick_rate_hz"], 20.0);
    assert_eq!(as_admin(&game, &["time-scale", "set", "2.5"]).await["time_scale"], 2.5);
    assert_eq!(galaxy_admin(&game, None, &["--json", "time-scale", "get"]).await.json()["time_scale"], 2.5);
    let get = galaxy_admin(&game, None, &["tick-rate", "get"]).await;
    assert!(get.stdout.starts_with("tick rate 20 Hz"), "{get:?}");

    // Paused, the tick stands still; resumed, it moves on.
    let before = wait_for_tick_after(&game, 0).await;
    let paused = as_admin(&game, &["pause"]).await;
    assert_eq!(paused["paused"], true);
    // A tick already under way when the pause came may still finish.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let paused_at = tick_of(&game).await;
    assert!(paused_at >= before);
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(tick_of(&game).await, paused_at, "ticks went on while paused");
    assert_eq!(as_admin(&game, &["resume"]).await["paused"], false);
    wait_for_tick_after(&game, paused_at).await;

    // Registrations: closed means the players service refuses new accounts.
    assert_eq!(as_admin(&game, &["registrations", "close"]).await["registrations_open"], false);
    assert_eq!(register(&game, "late_pilot").await.unwrap_err().code(), tonic::Code::FailedPrecondition);
    assert_eq!(as_admin(&game, &["registrations", "open"]).await["registrations_open"], true);
    register(&game, "late_pilot").await.unwrap();

    // Snapshots: created, listed, restored.
    let created = as_admin(&game, &["snapshot", "create"]).await;
    let snapshot_id = created["snapshot_id"].as_u64().unwrap();
    let listed = galaxy_admin(&game, None, &["--json", "snapshot", "list"]).await.json();
    let listed_snapshot =
        listed.as_array().unwrap().iter().find(|snapshot| snapshot["snapshot_id"] == snapshot_id).unwrap();
    assert_eq!(listed_snapshot["tick"], created["tick"]);
    let table = galaxy_admin(&game, None, &["snapshot", "list"]).await;
    assert!(table.stdout.starts_with("id  "), "{table:?}");
    let restored = as_admin(&game, &["snapshot", "restore", &snapshot_id.to_string()]).await;
    assert_eq!(restored["tick"], created["tick"]);
    assert_eq!(restored["snapshot_id"], snapshot_id);

    // Every change above is in the audit log, by the admin who made it, newest first.
    let audit = as_admin(&game, &["audit", "list", "--limit", "100"]).await;
    let actions: Vec<&str> = audit.as_array().unwrap().iter().map(|entry| entry["action"].as_str().unwrap()).collect();
    assert_eq!(
        actions,
        [
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
    assert!(audit.as_array().unwrap().iter().all(|entry| entry["admin"] == ADMIN));
    assert_eq!(audit[0]["details"]["snapshot_id"], snapshot_id);
    assert_eq!(audit[0]["details"]["via"], "galaxy-admin");
    assert_eq!(audit[7]["details"]["tick_rate_hz"], 20.0);

    game.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn players_and_admins_are_managed_and_only_admins_may() {
    let game = Game::start(Stores::in_memory()).await;
    let pilot = register(&game, "pilot_one").await.unwrap();

    let players = as_admin(&game, &["players", "list"]).await;
    let names: Vec<(&str, &str)> = players
        .as_array()
        .unwrap()
        .iter()
        .map(|player| (player["username"].as_str().unwrap(), player["role"].as_str().unwrap()))
        .collect();
    assert_eq!(names, [(ADMIN, "admin"), ("pilot_one", "player")]);
    let table = galaxy_admin(&game, Some((ADMIN, ADMIN_PASSWORD)), &["players", "list"]).await;
    assert!(table.stdout.lines().any(|line| line.contains("pilot_one") && line.contains("player")), "{table:?}");
    assert!(table.stdout.lines().next().unwrap().contains("online"), "{table:?}");
    let pilot_listed = players.as_array().unwrap().iter().find(|player| player["username"] == "pilot_one").unwrap();
    assert_eq!(pilot_listed["online"], true, "registered just now: {pilot_listed}");

    // A player's credentials change nothing (exit 4), and neither do none or wrong ones.
    let refused = galaxy_admin(&game, Some(("pilot_one", "pilot password")), &["pause"]).await;
    assert_eq!(refused.code, 4, "{refused:?}");
    assert!(refused.stderr.contains("not an admin"), "{refused:?}");
    assert_eq!(galaxy_admin(&game, None, &["pause"]).await.code, 4);
    assert_eq!(galaxy_admin(&game, Some((ADMIN, "wrong password")), &["pause"]).await.code, 4);
    assert_eq!(galaxy_admin(&game, None, &["--json", "status"]).await.json()["paused"], false);
    // A player's token is refused too.
    let token_run = {
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_galaxy-admin"));
        command.args(game.urls()).args(["players", "list", "--token", &pilot.token]);
        command.env_remove("GALAXY_ADMIN_USERNAME").env_remove("GALAXY_ADMIN_PASSWORD");
        command.output().await.unwrap()
    };
    assert_eq!(token_run.status.code(), Some(4));

    // Kick: the pilot's session ends.
    let kicked = as_admin(&game, &["players", "kick", "pilot_one"]).await;
    assert_eq!(kicked["sessions_revoked"], 1);
    let validate = v1::ValidateSessionRequest { token: pilot.token.clone() };
    assert_eq!(game.players().await.validate_session(validate).await.unwrap_err().code(), tonic::Code::Unauthenticated);

    // Ban: no more logins; unban: logins again.
    assert_eq!(as_admin(&game, &["players", "ban", "pilot_one"]).await["player"]["banned"], true);
    assert_eq!(login(&game, "pilot_one", "pilot password").await.unwrap_err().code(), tonic::Code::PermissionDenied);
    assert_eq!(as_admin(&game, &["players", "unban", "pilot_one"]).await["player"]["banned"], false);
    login(&game, "pilot_one", "pilot password").await.unwrap();

    // Refusals by the service: exit 5 with its reason.
    let ban_admin = galaxy_admin(&game, Some((ADMIN, ADMIN_PASSWORD)), &["players", "ban", ADMIN]).await;
    assert_eq!(ban_admin.code, 5, "{ban_admin:?}");
    assert!(ban_admin.stderr.contains("admins cannot be banned"), "{ban_admin:?}");
    let unknown = galaxy_admin(&game, Some((ADMIN, ADMIN_PASSWORD)), &["players", "kick", "nobody_here"]).await;
    assert_eq!(unknown.code, 5, "{unknown:?}");
    // Bad values never leave the machine: exit 2.
    let usage = galaxy_admin(&game, Some((ADMIN, ADMIN_PASSWORD)), &["tick-rate", "set", "500"]).await;
    assert_eq!(usage.code, 2, "{usage:?}");

    // A new admin can act at once, under their own name.
    let created = as_admin(&game, &["admins", "create", "second_admin", "--new-password", "another long secret"]).await;
    assert_eq!(created["role"], "admin");
    let second = galaxy_admin(&game, Some(("second_admin", "another long secret")), &["--json", "pause"]).await;
    assert_eq!(second.json()["paused"], true);

    let audit = as_admin(&game, &["audit", "list"]).await;
    let entries: Vec<(&str, &str)> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| (entry["admin"].as_str().unwrap(), entry["action"].as_str().unwrap()))
        .collect();
    assert_eq!(
        entries,
        [
            ("second_admin", "tick.pause"),
            (ADMIN, "admin.create"),
            (ADMIN, "player.unban"),
            (ADMIN, "player.ban"),
            (ADMIN, "player.kick"),
        ]
    );
    assert_eq!(audit[4]["details"]["username"], "pilot_one");
    let text = galaxy_admin(&game, Some((ADMIN, ADMIN_PASSWORD)), &["audit", "list"]).await;
    assert!(text.stdout.lines().nth(1).unwrap().contains("second_admin  tick.pause"), "{text:?}");

    game.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_service_is_a_clear_error_with_exit_code_3() {
    // A port nobody listens on: bound, then released.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);

    for args in [
        vec!["status"],
        vec!["tick-rate", "get"],
        vec!["snapshot", "list"],
        vec!["pause", "--username", ADMIN, "--password", ADMIN_PASSWORD],
    ] {
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_galaxy-admin"));
        command.args([
            "--tick-engine-url",
            &dead,
            "--physics-url",
            &dead,
            "--players-url",
            &dead,
            "--galaxy-url",
            &dead,
        ]);
        command.args(["--timeout", "3"]).args(&args);
        let output = command.output().await.unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(3), "{args:?}: {stderr}");
        assert!(stderr.contains("unreachable") && stderr.contains(&dead), "{args:?}: {stderr}");
        assert!(output.stdout.is_empty());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_actions_are_recorded_in_postgresql_with_who_what_and_when() {
    let name = format!("galaxy_admin_cli_{:016x}", RandomState::new().hash_one(std::process::id()));
    let (client, connection) = tokio_postgres::connect(POSTGRES_ADMIN_URL, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    client.batch_execute(&format!("CREATE DATABASE {name}")).await.unwrap();
    let url = format!("postgres://postgres@127.0.0.1:5432/{name}");
    let store = PostgresStore::connect(&PostgresConfig::new(url.clone())).await.unwrap();
    let stores = Stores { database: Database::Postgres(store.clone()), bus: EventBus::Memory(MemoryBus::new(10_000)) };
    let game = Game::start(stores).await;
    let started = std::time::SystemTime::now();

    as_admin(&game, &["pause"]).await;
    as_admin(&game, &["tick-rate", "set", "5"]).await;
    register(&game, "pg_pilot").await.unwrap();
    as_admin(&game, &["players", "ban", "pg_pilot"]).await;

    let (database, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    let rows = database
        .query(
            "SELECT p.username, a.action, a.details, a.created_at FROM admin_audit a JOIN players p ON p.id = a.admin_id ORDER BY a.id",
            &[],
        )
        .await
        .unwrap();
    let recorded: Vec<(String, String)> = rows.iter().map(|row| (row.get(0), row.get(1))).collect();
    let expected = [("tick.pause"), ("tick.rate"), ("player.ban")].map(|action| (ADMIN.to_owned(), action.to_owned()));
    assert_eq!(recorded, expected);
    let details: Value = rows[2].get(2);
    assert_eq!(details["username"], "pg_pilot");
    let rate: Value = rows[1].get(2);
    assert_eq!(rate["tick_rate_hz"], 5.0);
    for row in &rows {
        let at: std::time::SystemTime = row.get(3);
        assert!(at + Duration::from_secs(5) >= started && at <= std::time::SystemTime::now() + Duration::from_secs(5));
    }
    // The banned pilot is banned in the database.
    let banned: bool =
        database.query_one("SELECT banned FROM players WHERE username = 'pg_pilot'", &[]).await.unwrap().get(0);
    assert!(banned);

    game.stop().await;
    store.close();
    drop(database);
    client.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await.unwrap();
}
