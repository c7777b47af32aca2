//! Each command: the calls it makes, the audit entry it leaves, and its [`Report`].

use std::future::Future;

use galaxy_proto::v1;
use serde_json::json;

use crate::cli::{AdminsCommand, AuditCommand, Cli, Command, GetSet, PlayersCommand, Registrations, SnapshotCommand};
use crate::connect::{AdminSession, GALAXY, PHYSICS, PLAYERS, Services, TICK_ENGINE};
use crate::error::AdminError;
use crate::table;

/// What a command prints: text for people, JSON for scripts.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// Human-readable (a table or a line).
    pub text: String,
    /// The same facts as one JSON document.
    pub json: serde_json::Value,
}

impl Report {
    /// The JSON document, pretty-printed.
    #[must_use]
    pub fn json_text(&self) -> String {
        serde_json::to_string_pretty(&self.json).unwrap_or_else(|_| self.json.to_string())
    }
}

/// Runs the command `cli` names. Commands that change something or read accounts first check
/// that the credentials are an admin's.
pub async fn run(cli: Cli) -> Result<Report, AdminError> {
    let services = Services::new(cli.services.clone(), cli.timeout)?;
    if !needs_admin(&cli.command) {
        return execute(&services, None, cli.command).await;
    }
    let session = AdminSession::open(&services, &cli.credentials).await?;
    let outcome = execute(&services, Some(&session), cli.command).await;
    session.close(&services).await;
    outcome
}

/// Reading the tick status and the snapshot list is open to anyone who can reach the ports
/// (as the services themselves allow); everything else is an admin's business.
fn needs_admin(command: &Command) -> bool {
    !matches!(
        command,
        Command::Status
            | Command::TickRate(GetSet::Get)
            | Command::TimeScale(GetSet::Get)
            | Command::Snapshot(SnapshotCommand::List { .. })
    )
}

fn admin(session: Option<&AdminSession>) -> Result<&AdminSession, AdminError> {
    session.ok_or_else(|| AdminError::Unauthorised("this command needs an admin session".to_owned()))
}

async fn execute(services: &Services, session: Option<&AdminSession>, command: Command) -> Result<Report, AdminError> {
    match command {
        Command::Status => status(services).await,
        Command::TickRate(GetSet::Get) => {
            let status = tick_status(services).await?;
            Ok(Report {
                text: format!("tick rate {} Hz (actual {:.3} Hz)", status.tick_rate_hz, status.actual_tick_rate_hz),
                json: json!({"tick_rate_hz": status.tick_rate_hz, "actual_tick_rate_hz": status.actual_tick_rate_hz}),
            })
        }
        Command::TimeScale(GetSet::Get) => {
            let status = tick_status(services).await?;
            Ok(Report {
                text: format!("time scale {}x", status.time_scale),
                json: json!({"time_scale": status.time_scale}),
            })
        }
        Command::Snapshot(SnapshotCommand::List { limit }) => list_snapshots(services, limit).await,
        Command::Pause | Command::Resume => {
            let session = admin(session)?;
            let pause = matches!(command, Command::Pause);
            let mut client = services.tick_engine()?;
            let status = call(services, TICK_ENGINE, async {
                if pause { client.pause(v1::PauseRequest {}).await } else { client.resume(v1::ResumeRequest {}).await }
            })
            .await?;
            let action = if pause { "tick.pause" } else { "tick.resume" };
            session.audit(services, action, json!({"tick": status.tick})).await?;
            let word = if pause { "paused" } else { "running" };
            Ok(Report { text: format!("{word} at tick {}", status.tick), json: status_json(&status) })
        }
        Command::TickRate(GetSet::Set { value }) => {
            let session = admin(session)?;
            check_range("tick rate", value, "Hz")?;
            let mut client = services.tick_engine()?;
            let status =
                call(services, TICK_ENGINE, client.set_tick_rate(v1::SetTickRateRequest { tick_rate_hz: value }))
                    .await?;
            session.audit(services, "tick.rate", json!({"tick_rate_hz": value})).await?;
            Ok(Report { text: format!("tick rate set to {} Hz", status.tick_rate_hz), json: status_json(&status) })
        }
        Command::TimeScale(GetSet::Set { value }) => {
            let session = admin(session)?;
            check_range("time scale", value, "x")?;
            let mut client = services.tick_engine()?;
            let status =
                call(services, TICK_ENGINE, client.set_time_scale(v1::SetTimeScaleRequest { time_scale: value }))
                    .await?;
            session.audit(services, "tick.time_scale", json!({"time_scale": value})).await?;
            Ok(Report { text: format!("time scale set to {}x", status.time_scale), json: status_json(&status) })
        }
        Command::Registrations(which) => {
            let session = admin(session)?;
            let open = matches!(which, Registrations::Open);
            let mut client = services.galaxy()?;
            let request = v1::UpdateConfigRequest { registrations_open: Some(open), ..Default::default() };
            let config = call(services, GALAXY, client.update_config(request)).await?;
            session.audit(services, "config.registrations", json!({"registrations_open": open})).await?;
            let word = if config.registrations_open { "open" } else { "closed" };
            Ok(Report {
                text: format!("registrations {word}"),
                json: json!({"registrations_open": config.registrations_open}),
            })
        }
        Command::Snapshot(SnapshotCommand::Create) => {
            let session = admin(session)?;
            let mut client = services.physics()?;
            let snapshot = call(services, PHYSICS, client.snapshot(v1::SnapshotRequest {})).await?;
            session
                .audit(services, "snapshot.create", json!({"snapshot_id": snapshot.snapshot_id, "tick": snapshot.tick}))
                .await?;
            Ok(Report {
                text: format!("snapshot {} saved at tick {}", snapshot.snapshot_id, snapshot.tick),
                json: json!({
                    "snapshot_id": snapshot.snapshot_id,
                    "tick": snapshot.tick,
                    "game_time": snapshot.game_time,
                    "checksum": snapshot.checksum,
                }),
            })
        }
        Command::Snapshot(SnapshotCommand::Restore { id }) => {
            let session = admin(session)?;
            let snapshot_id = parse_snapshot_id(&id)?;
            let mut client = services.physics()?;
            let restored = call(services, PHYSICS, client.restore(v1::RestoreRequest { snapshot_id })).await?;
            session
                .audit(services, "snapshot.restore", json!({"snapshot_id": snapshot_id, "tick": restored.tick}))
                .await?;
            Ok(Report {
                text: format!("restored tick {} (state {})", restored.tick, restored.state_hash),
                json: json!({
                    "snapshot_id": snapshot_id,
                    "tick": restored.tick,
                    "game_time": restored.game_time,
                    "state_hash": restored.state_hash,
                }),
            })
        }
        Command::Players(PlayersCommand::List { limit }) => {
            let session = admin(session)?;
            let mut client = services.players_admin()?;
            let request = v1::ListPlayersRequest { token: session.token.clone(), limit };
            let players = call(services, PLAYERS, client.list_players(request)).await?.players;
            let rows = players
                .iter()
                .map(|player| {
                    vec![
                        player.player_id.clone(),
                        player.username.clone(),
                        role_name(player.role).to_owned(),
                        if player.banned { "yes" } else { "no" }.to_owned(),
                        if player.online { "yes" } else { "no" }.to_owned(),
                        player.created_at_unix.to_string(),
                    ]
                })
                .collect::<Vec<_>>();
            Ok(Report {
                text: table::render(&["id", "username", "role", "banned", "online", "created_at_unix"], &rows),
                json: json!(players.iter().map(player_json).collect::<Vec<_>>()),
            })
        }
        Command::Players(PlayersCommand::Kick { player }) => {
            player_action(services, admin(session)?, PlayerAction::Kick, player).await
        }
        Command::Players(PlayersCommand::Ban { player }) => {
            player_action(services, admin(session)?, PlayerAction::Ban, player).await
        }
        Command::Players(PlayersCommand::Unban { player }) => {
            player_action(services, admin(session)?, PlayerAction::Unban, player).await
        }
        Command::Admins(AdminsCommand::Create { name, new_password }) => {
            let session = admin(session)?;
            let mut client = services.players_admin()?;
            let request =
                v1::CreateAdminRequest { token: session.token.clone(), username: name, password: new_password };
            let admin = call(services, PLAYERS, client.create_admin(request)).await?;
            Ok(Report {
                text: format!("admin {} created (id {})", admin.username, admin.player_id),
                json: player_json(&admin),
            })
        }
        Command::Audit(AuditCommand::List { limit }) => {
            let session = admin(session)?;
            let mut client = services.players_admin()?;
            let request = v1::ListAuditRequest { token: session.token.clone(), limit };
            let entries = call(services, PLAYERS, client.list_audit(request)).await?.entries;
            let rows = entries
                .iter()
                .map(|entry| {
                    vec![
                        entry.id.clone(),
                        entry.created_at_unix.to_string(),
                        entry.admin_username.clone(),
                        entry.action.clone(),
                        entry.details_json.clone(),
                    ]
                })
                .collect::<Vec<_>>();
            let json_entries: Vec<serde_json::Value> = entries
                .iter()
                .map(|entry| {
                    json!({
                        "id": entry.id,
                        "admin": entry.admin_username,
                        "admin_id": entry.admin_id,
                        "action": entry.action,
                        "details": serde_json::from_str::<serde_json::Value>(&entry.details_json).unwrap_or_default(),
                        "created_at_unix": entry.created_at_unix,
                    })
                })
                .collect();
            Ok(Report {
                text: table::render(&["id", "at_unix", "admin", "action", "details"], &rows),
                json: json!(json_entries),
            })
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum PlayerAction {
    Kick,
    Ban,
    Unban,
}

async fn player_action(
    services: &Services,
    session: &AdminSession,
    action: PlayerAction,
    username: String,
) -> Result<Report, AdminError> {
    let mut client = services.players_admin()?;
    let request = v1::PlayerActionRequest { token: session.token.clone(), username };
    let response = match action {
        PlayerAction::Kick => call(services, PLAYERS, client.kick_player(request)).await?,
        PlayerAction::Ban => call(services, PLAYERS, client.ban_player(request)).await?,
        PlayerAction::Unban => call(services, PLAYERS, client.unban_player(request)).await?,
    };
    let player = response.player.unwrap_or_default();
    let word = match action {
        PlayerAction::Kick => "kicked",
        PlayerAction::Ban => "banned",
        PlayerAction::Unban => "unbanned",
    };
    Ok(Report {
        text: format!("{} {word} ({} session(s) ended)", player.username, response.sessions_revoked),
        json: json!({"player": player_json(&player), "sessions_revoked": response.sessions_revoked}),
    })
}

async fn call<T>(
    services: &Services,
    service: &'static str,
    request: impl Future<Output = Result<tonic::Response<T>, tonic::Status>>,
) -> Result<T, AdminError> {
    request.await.map(tonic::Response::into_inner).map_err(|status| services.failure(service, &status))
}

async fn tick_status(services: &Services) -> Result<v1::TickStatus, AdminError> {
    let mut client = services.tick_engine()?;
    call(services, TICK_ENGINE, client.get_status(v1::GetStatusRequest {})).await
}

async fn status(services: &Services) -> Result<Report, AdminError> {
    let status = tick_status(services).await?;
    let mut galaxy = services.galaxy()?;
    let config = call(services, GALAXY, galaxy.get_config(v1::GetConfigRequest {})).await?;
    let mut json = status_json(&status);
    json["registrations_open"] = json!(config.registrations_open);
    let text = table::pairs(&[
        ("tick", status.tick.to_string()),
        (
            "state",
            if status.standby {
                "standby"
            } else if status.paused {
                "paused"
            } else {
                "running"
            }
            .to_owned(),
        ),
        ("game time", format!("{:.3} s", status.game_time)),
        ("tick rate", format!("{} Hz (actual {:.3} Hz)", status.tick_rate_hz, status.actual_tick_rate_hz)),
        ("time scale", format!("{}x", status.time_scale)),
        ("ticks behind", status.ticks_behind.to_string()),
        ("catch-up ticks", status.catch_up_ticks.to_string()),
        ("slipped game time", format!("{:.3} s", status.slipped_game_seconds)),
        ("last tick", format!("{:.3} ms", status.last_tick_seconds * 1e3)),
        ("energy drift", format!("{:.3e}", status.energy_drift)),
        ("momentum drift", format!("{:.3e}", status.momentum_drift)),
        ("failed ticks", status.failed_ticks.to_string()),
        ("last snapshot tick", status.last_snapshot_tick.to_string()),
        ("registrations", if config.registrations_open { "open" } else { "closed" }.to_owned()),
    ]);
    Ok(Report { text, json })
}

async fn list_snapshots(services: &Services, limit: u32) -> Result<Report, AdminError> {
    let mut client = services.physics()?;
    let snapshots = call(services, PHYSICS, client.list_snapshots(v1::ListSnapshotsRequest { limit })).await?.snapshots;
    let rows = snapshots
        .iter()
        .map(|snapshot| {
            vec![
                snapshot.snapshot_id.to_string(),
                snapshot.tick.to_string(),
                format!("{:.3}", snapshot.game_time),
                snapshot.size_bytes.to_string(),
                snapshot.created_at_unix.to_string(),
            ]
        })
        .collect::<Vec<_>>();
    let json = snapshots
        .iter()
        .map(|snapshot| {
            json!({
                "snapshot_id": snapshot.snapshot_id,
                "tick": snapshot.tick,
                "game_time": snapshot.game_time,
                "checksum": snapshot.checksum,
                "size_bytes": snapshot.size_bytes,
                "created_at_unix": snapshot.created_at_unix,
            })
        })
        .collect::<Vec<_>>();
    Ok(Report {
        text: table::render(&["id", "tick", "game_time_s", "bytes", "created_at_unix"], &rows),
        json: json!(json),
    })
}

fn status_json(status: &v1::TickStatus) -> serde_json::Value {
    json!({
        "tick": status.tick,
        "game_time": status.game_time,
        "paused": status.paused,
        "standby": status.standby,
        "tick_rate_hz": status.tick_rate_hz,
        "actual_tick_rate_hz": status.actual_tick_rate_hz,
        "time_scale": status.time_scale,
        "ticks_behind": status.ticks_behind,
        "catch_up_ticks": status.catch_up_ticks,
        "slipped_game_seconds": status.slipped_game_seconds,
        "last_tick_seconds": status.last_tick_seconds,
        "energy_drift": status.energy_drift,
        "momentum_drift": status.momentum_drift,
        "failed_ticks": status.failed_ticks,
        "unrecorded_ticks": status.unrecorded_ticks,
        "last_snapshot_tick": status.last_snapshot_tick,
    })
}

fn player_json(player: &v1::PlayerSummary) -> serde_json::Value {
    json!({
        "id": player.player_id,
        "username": player.username,
        "role": role_name(player.role),
        "banned": player.banned,
        "online": player.online,
        "last_seen_unix": player.last_seen_unix,
        "created_at_unix": player.created_at_unix,
    })
}

fn role_name(role: i32) -> &'static str {
    match v1::Role::try_from(role) {
        Ok(v1::Role::Admin) => "admin",
        Ok(v1::Role::Player) => "player",
        _ => "unknown",
    }
}

/// Checked here too so a typo is a usage error (exit 2) before anything is sent.
fn check_range(what: &str, value: f64, unit: &str) -> Result<(), AdminError> {
    if (0.1..=100.0).contains(&value) {
        Ok(())
    } else {
        Err(AdminError::Usage(format!("{what} must be between 0.1 and 100 {unit}, got {value}")))
    }
}

fn parse_snapshot_id(text: &str) -> Result<u64, AdminError> {
    if text == "latest" {
        return Ok(0);
    }
    text.parse().map_err(|_| AdminError::Usage(format!("snapshot id must be a number or \"latest\", got {text:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_of_range_rates_are_usage_errors() {
        assert!(check_range("tick rate", 0.1, "Hz").is_ok());
        assert!(check_range("tick rate", 100.0, "Hz").is_ok());
        for bad in [0.0, 0.09, 100.5, f64::NAN, f64::INFINITY] {
            assert_eq!(check_range("tick rate", bad, "Hz").map_err(|error| error.exit_code()), Err(2));
        }
    }

    #[test]
    fn snapshot_ids_are_numbers_or_latest() {
        assert_eq!(parse_snapshot_id("latest").ok(), Some(0));
        assert_eq!(parse_snapshot_id("17").ok(), Some(17));
        assert!(parse_snapshot_id("-1").is_err());
    }

    #[test]
    fn only_reads_of_the_tick_status_and_snapshots_go_without_an_admin() {
        assert!(!needs_admin(&Command::Status));
        assert!(needs_admin(&Command::Pause));
        assert!(needs_admin(&Command::Players(PlayersCommand::List { limit: 1 })));
        assert!(needs_admin(&Command::Snapshot(SnapshotCommand::Create)));
    }

    #[test]
    fn a_player_argument_never_replaces_the_acting_admin() {
        use clap::Parser;
        let cli = Cli::try_parse_from(["galaxy-admin", "--username", "boss", "players", "ban", "pilot"])
            .expect("valid arguments");
        assert_eq!(cli.credentials.username.as_deref(), Some("boss"));
        assert!(matches!(cli.command, Command::Players(PlayersCommand::Ban { player }) if player == "pilot"));
        let cli = Cli::try_parse_from(["galaxy-admin", "admins", "create", "new_boss", "--new-password", "x"])
            .expect("valid arguments");
        assert!(matches!(cli.command, Command::Admins(AdminsCommand::Create { name, .. }) if name == "new_boss"));
    }
}
