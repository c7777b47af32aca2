//! Microservice mode end to end: `scripts/microservices` starts every service as its own process
//! (on the design's ports, shifted by an offset so this runs beside other tests) against the
//! machine's PostgreSQL and Redis; a player registers through the gateway and flies; an admin
//! pauses and resumes the game with `galaxy-admin`; SIGTERM stops everything.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use galaxy_fault_tests::{Settings, binaries, fault_test, unique_suffix};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

const ADMIN_USERNAME: &str = "ops";
const ADMIN_PASSWORD: &str = "microservices admin password";
/// The design's ports that the script shifts by the offset.
const DESIGN_PORTS: [u16; 11] = [8000, 8001, 8002, 8003, 8004, 8080, 9100, 9101, 9102, 9103, 9104];

/// An offset at which every port the script uses is free right now.
fn free_offset() -> u16 {
    let seed = u16::from_str_radix(&unique_suffix()[..4], 16).unwrap();
    (0..200)
        .map(|attempt| 20_000 + (seed.wrapping_add(attempt * 97)) % 20_000)
        .find(|offset| DESIGN_PORTS.iter().all(|port| TcpListener::bind(("127.0.0.1", port + offset)).is_ok()))
        .expect("no offset with all ports free")
}

/// The script's binaries folder: the services built for the tests, under their usual names.
fn binaries_folder(logs: &Path) -> PathBuf {
    let folder = logs.join("bin");
    std::fs::create_dir_all(&folder).unwrap();
    let services = binaries!();
    for (name, target) in [
        ("galaxy-physics", services.physics),
        ("galaxy-tick-engine", services.tick_engine),
        ("galaxy-players", services.players),
        ("galaxy-galaxy", services.galaxy),
        ("galaxy-api-gateway", services.gateway),
        ("galaxy-admin-dashboard", env!("CARGO_BIN_EXE_fault-admin-dashboard").into()),
        ("galaxy-admin", env!("CARGO_BIN_EXE_fault-galaxy-admin").into()),
    ] {
        std::os::unix::fs::symlink(target, folder.join(name)).unwrap();
    }
    folder
}

/// `scripts/microservices` running in its own process group; the whole group is killed when this
/// is dropped, so a failed test leaves no service behind.
struct Script {
    child: Child,
}

impl Script {
    fn pid(&self) -> i32 {
        i32::try_from(self.child.id()).unwrap()
    }

    /// Sends SIGTERM to the script alone and waits for it to exit, returning its exit code.
    fn terminate(&mut self, limit: Duration) -> Option<i32> {
        Command::new("kill").args(["-TERM", &self.pid().to_string()]).status().unwrap();
        let started = Instant::now();
        while started.elapsed() < limit {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }
}

impl Drop for Script {
    fn drop(&mut self) {
        // Usually the group is gone already (the test stopped it); then kill has nothing to say.
        let _ = Command::new("kill").args(["-KILL", "--", &format!("-{}", self.pid())]).stderr(Stdio::null()).status();
        let _ = self.child.wait();
    }
}

async fn admin(bin: &Path, offset: u16, arguments: &[&str]) -> Value {
    let url = |port: u16| format!("http://127.0.0.1:{}", port + offset);
    let output = tokio::process::Command::new(bin.join("galaxy-admin"))
        .arg("--json")
        .args(arguments)
        .env_clear()
        .env("TICK_ENGINE_URL", url(8001))
        .env("PHYSICS_URL", url(8002))
        .env("PLAYERS_URL", url(8003))
        .env("GALAXY_URL", url(8004))
        .env("GALAXY_ADMIN_USERNAME", ADMIN_USERNAME)
        .env("GALAXY_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "galaxy-admin {arguments:?}: {}\n{stdout}{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_str(&stdout).unwrap_or_else(|error| panic!("galaxy-admin {arguments:?} printed {stdout}: {error}"))
}

async fn next_message(socket: &mut Ws, limit: Duration) -> Option<Value> {
    loop {
        match tokio::time::timeout(limit, socket.next()).await {
            Err(_) => return None,
            Ok(message) => {
                if let Message::Text(text) = message.expect("the socket stays open").unwrap() {
                    return Some(serde_json::from_str(&text).unwrap());
                }
            }
        }
    }
}

/// The next `state` message, if one comes within `limit`.
async fn next_state(socket: &mut Ws, limit: Duration) -> Option<Value> {
    let deadline = Instant::now() + limit;
    loop {
        let message = next_message(socket, deadline.saturating_duration_since(Instant::now())).await?;
        if message["type"] == "state" {
            return Some(message);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_microservice_script_runs_a_game_a_player_flies_and_an_admin_pauses() {
    fault_test(binaries!(), Settings { tick_rate_hz: 5.0, time_scale: 5.0 }, |deployment| async move {
        let offset = free_offset();
        let bin = binaries_folder(&deployment.logs);
        let script_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/microservices");
        let output = std::fs::File::create(deployment.logs.join("script.log")).unwrap();
        let mut script = Script {
            child: Command::new("bash")
                .arg(&script_path)
                .env("GALAXY_BIN_DIR", &bin)
                .env("GALAXY_PORT_OFFSET", offset.to_string())
                .env("GALAXY_LOG_DIR", &deployment.logs)
                .env("GALAXY_WEB_ROOT", deployment.logs.join("no-web-client"))
                .env("DATABASE_URL", &deployment.database_url)
                .env("REDIS_URL", &deployment.redis_url)
                .env("REDIS_KEY_PREFIX", &deployment.key_prefix)
                .env("GALAXY_ADMIN_USERNAME", ADMIN_USERNAME)
                .env("GALAXY_ADMIN_PASSWORD", ADMIN_PASSWORD)
                .stdin(Stdio::null())
                .stdout(output.try_clone().unwrap())
                .stderr(output)
                .process_group(0)
                .spawn()
                .unwrap(),
        };
        let script_log = deployment.logs.join("script.log");
        let started = Instant::now();
        while !std::fs::read_to_string(&script_log).unwrap().contains("microservices: ready") {
            let log = std::fs::read_to_string(&script_log).unwrap();
            assert!(script.child.try_wait().unwrap().is_none(), "the script exited:\n{log}");
            assert!(started.elapsed() < Duration::from_secs(40), "not ready within 40 s:\n{log}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }

        // A player registers through the gateway on its design port (shifted) and flies.
        let gateway = format!("127.0.0.1:{}", 8000 + offset);
        let http = reqwest::Client::new();
        let registered = http
            .post(format!("http://{gateway}/api/auth/register"))
            .json(&json!({"username": "pilot", "password": "pilot password 1"}))
            .send()
            .await
            .unwrap();
        assert_eq!(registered.status(), 201);
        let session: Value = registered.json().await.unwrap();
        let (mut socket, _) = tokio_tungstenite::connect_async(format!("ws://{gateway}/ws")).await.unwrap();
        socket.send(Message::text(json!({"type": "auth", "token": session["token"]}).to_string())).await.unwrap();
        let welcome = next_message(&mut socket, Duration::from_secs(5)).await.unwrap();
        assert_eq!(welcome["type"], "welcome", "{welcome}");
        assert_eq!(welcome["ship_id"], session["ship_id"]);
        // The state sent right after welcome may predate the new ship's first tick.
        let before = loop {
            let state = next_state(&mut socket, Duration::from_secs(5)).await.expect("states after welcome");
            if !state["own_ship"].is_null() {
                break state;
            }
        };
        let full_tanks = before["own_ship"]["fuel"].as_f64().unwrap();

        let burn = json!({"type": "control", "id": 1, "throttle": 1.0, "pitch": 0.0, "yaw": 0.0, "roll": 0.0});
        socket.send(Message::text(burn.to_string())).await.unwrap();
        let burning = loop {
            let state = next_state(&mut socket, Duration::from_secs(5)).await.expect("states while burning");
            if state["own_ship"]["fuel"].as_f64().unwrap() < full_tanks {
                break state;
            }
            assert!(state["tick"].as_u64() < before["tick"].as_u64().map(|tick| tick + 20), "no fuel burned");
        };
        assert_eq!(burning["own_ship"]["throttle"], 1.0, "{}", burning["own_ship"]);

        // The admin pauses with galaxy-admin: the tick number stands still and no state comes.
        admin(&bin, offset, &["pause"]).await;
        let paused = admin(&bin, offset, &["status"]).await;
        assert_eq!(paused["paused"], true, "{paused}");
        let paused_at = paused["tick"].as_u64().unwrap();
        // States sent before the pause may still be unread, and a tick in flight when the pause
        // came may still be delivered; nothing later, and then silence.
        while let Some(state) = next_state(&mut socket, Duration::from_millis(1_500)).await {
            assert!(state["tick"].as_u64().unwrap() <= paused_at + 1, "ticked while paused: {}", state["tick"]);
        }
        let frozen_at = admin(&bin, offset, &["status"]).await["tick"].as_u64().unwrap();
        assert!(next_state(&mut socket, Duration::from_millis(1_500)).await.is_none(), "a state while paused");
        assert_eq!(admin(&bin, offset, &["status"]).await["tick"].as_u64().unwrap(), frozen_at);

        // Resumed, the states come again, numbered on from where they stopped.
        admin(&bin, offset, &["resume"]).await;
        let resumed = next_state(&mut socket, Duration::from_secs(5)).await.expect("a state after resume");
        assert!(resumed["tick"].as_u64().unwrap() > frozen_at);
        let audit = admin(&bin, offset, &["audit", "list"]).await.to_string();
        assert!(audit.contains("pause") && audit.contains("resume"), "{audit}");

        // SIGTERM stops every service and the script exits cleanly.
        assert_eq!(
            script.terminate(Duration::from_secs(20)),
            Some(0),
            "{}",
            std::fs::read_to_string(&script_log).unwrap()
        );
        assert!(std::fs::read_to_string(&script_log).unwrap().contains("microservices: stopped"));
        for port in DESIGN_PORTS {
            assert!(TcpListener::bind(("127.0.0.1", port + offset)).is_ok(), "port {} still taken", port + offset);
        }
    })
    .await;
}
