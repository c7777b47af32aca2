//! The JSON API under `/admin/api/` and the routes of the page. Handlers call one service
//! each, then write the audit entry (account changes are audited by the players service).

use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::{Path, Query, State};
use axum::http::header::SET_COOKIE;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use galaxy_proto::v1;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::{Admin, presented_token, session_cookie};
use crate::error::ApiError;
use crate::{Backends, Timings, assets};

/// What every handler shares.
#[derive(Debug, Clone)]
pub(crate) struct AppState {
    pub(crate) backends: Backends,
    pub(crate) timings: Timings,
    pub(crate) secure_cookie: bool,
}

pub(crate) fn routes(state: AppState) -> Router {
    Router::new()
        .route("/admin", get(assets::index))
        .route("/admin/", get(assets::index))
        .route("/admin/assets/{file}", get(assets::file))
        .route("/admin/api/login", post(login))
        .route("/admin/api/logout", post(logout))
        .route("/admin/api/me", get(me))
        .route("/admin/api/status", get(status))
        .route("/admin/api/timings", get(timings))
        .route("/admin/api/pause", post(pause))
        .route("/admin/api/resume", post(resume))
        .route("/admin/api/tick-rate", post(set_tick_rate))
        .route("/admin/api/time-scale", post(set_time_scale))
        .route("/admin/api/registrations", post(set_registrations))
        .route("/admin/api/snapshots", get(list_snapshots).post(create_snapshot))
        .route("/admin/api/snapshots/{id}/restore", post(restore_snapshot))
        .route("/admin/api/players", get(list_players))
        .route("/admin/api/players/{username}/{action}", post(player_action))
        .route("/admin/api/audit", get(list_audit))
        .with_state(state)
}

/// The colour a drift is shown in: green below 1e-6, yellow below 1e-3, red otherwise (and for
/// NaN, which means the diagnostics themselves broke).
#[must_use]
pub fn drift_level(drift: f64) -> &'static str {
    let drift = drift.abs();
    if drift < 1e-6 {
        "green"
    } else if drift < 1e-3 {
        "yellow"
    } else {
        "red"
    }
}

/// A change request with no parameters; still JSON, so a cross-site form cannot forge it.
#[derive(Debug, Deserialize)]
struct NoParameters {}

#[derive(Debug, Deserialize)]
struct Credentials {
    username: String,
    password: String,
}

#[derive(Debug, Deserialize)]
struct Value64 {
    value: f64,
}

#[derive(Debug, Deserialize)]
struct Registrations {
    open: bool,
}

#[derive(Debug, Deserialize)]
struct Confirmation {
    confirm: bool,
}

#[derive(Debug, Deserialize)]
struct Limit {
    limit: Option<u32>,
}

async fn login(State(state): State<AppState>, Json(credentials): Json<Credentials>) -> Result<Response, ApiError> {
    let mut players = state.backends.players.clone();
    let session = players
        .login(v1::LoginRequest { username: credentials.username, password: credentials.password })
        .await
        .map_err(ApiError::service("players"))?
        .into_inner();
    let player = session.player.unwrap_or_default();
    if player.role != v1::Role::Admin as i32 {
        // A player's session is no use here; do not leave it behind.
        let _ = players.logout(v1::LogoutRequest { token: session.token }).await;
        return Err(ApiError::Forbidden);
    }
    let now = unix_now();
    let cookie = session_cookie(&session.token, (session.expires_at_unix - now).max(0), state.secure_cookie);
    let body = json!({"username": player.username, "expires_at_unix": session.expires_at_unix});
    Ok(([(SET_COOKIE, cookie)], Json(body)).into_response())
}

async fn logout(State(state): State<AppState>, headers: axum::http::HeaderMap) -> Response {
    if let Some(token) = presented_token(&headers) {
        let _ = state.backends.players.clone().logout(v1::LogoutRequest { token }).await;
    }
    ([(SET_COOKIE, session_cookie("", 0, state.secure_cookie))], Json(json!({"logged_out": true}))).into_response()
}

async fn me(admin: Admin) -> Json<Value> {
    Json(json!({"username": admin.username}))
}

async fn status(_admin: Admin, State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let status = tick_status(&state).await?;
    let config = state
        .backends
        .galaxy
        .clone()
        .get_config(v1::GetConfigRequest {})
        .await
        .map_err(ApiError::service("galaxy"))?
        .into_inner();
    let mut body = status_json(&status);
    body["registrations_open"] = json!(config.registrations_open);
    Ok(Json(body))
}

async fn timings(_admin: Admin, State(state): State<AppState>) -> Json<Value> {
    Json(json!({"samples": state.timings.samples()}))
}

async fn pause(admin: Admin, State(state): State<AppState>, _: Json<NoParameters>) -> Result<Json<Value>, ApiError> {
    let status = state.backends.tick_engine.clone().pause(v1::PauseRequest {}).await;
    let status = status.map_err(ApiError::service("tick-engine"))?.into_inner();
    audit(&state, &admin, "tick.pause", json!({"tick": status.tick})).await?;
    Ok(Json(status_json(&status)))
}

async fn resume(admin: Admin, State(state): State<AppState>, _: Json<NoParameters>) -> Result<Json<Value>, ApiError> {
    let status = state.backends.tick_engine.clone().resume(v1::ResumeRequest {}).await;
    let status = status.map_err(ApiError::service("tick-engine"))?.into_inner();
    audit(&state, &admin, "tick.resume", json!({"tick": status.tick})).await?;
    Ok(Json(status_json(&status)))
}

async fn set_tick_rate(
    admin: Admin,
    State(state): State<AppState>,
    Json(Value64 { value }): Json<Value64>,
) -> Result<Json<Value>, ApiError> {
    let request = v1::SetTickRateRequest { tick_rate_hz: value };
    let status = state.backends.tick_engine.clone().set_tick_rate(request).await;
    let status = status.map_err(ApiError::service("tick-engine"))?.into_inner();
    audit(&state, &admin, "tick.rate", json!({"tick_rate_hz": value})).await?;
    Ok(Json(status_json(&status)))
}

async fn set_time_scale(
    admin: Admin,
    State(state): State<AppState>,
    Json(Value64 { value }): Json<Value64>,
) -> Result<Json<Value>, ApiError> {
    let request = v1::SetTimeScaleRequest { time_scale: value };
    let status = state.backends.tick_engine.clone().set_time_scale(request).await;
    let status = status.map_err(ApiError::service("tick-engine"))?.into_inner();
    audit(&state, &admin, "tick.time_scale", json!({"time_scale": value})).await?;
    Ok(Json(status_json(&status)))
}

async fn set_registrations(
    admin: Admin,
    State(state): State<AppState>,
    Json(Registrations { open }): Json<Registrations>,
) -> Result<Json<Value>, ApiError> {
    let request = v1::UpdateConfigRequest { registrations_open: Some(open), ..Default::default() };
    let config = state.backends.galaxy.clone().update_config(request).await;
    let config = config.map_err(ApiError::service("galaxy"))?.into_inner();
    audit(&state, &admin, "config.registrations", json!({"registrations_open": open})).await?;
    Ok(Json(json!({"registrations_open": config.registrations_open})))
}

async fn list_snapshots(_admin: Admin, State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let request = v1::ListSnapshotsRequest { limit: 50 };
    let snapshots = state.backends.physics.clone().list_snapshots(request).await;
    let snapshots = snapshots.map_err(ApiError::service("physics"))?.into_inner().snapshots;
    let snapshots: Vec<Value> = snapshots
        .iter()
        .map(|snapshot| {
            json!({
                "snapshot_id": snapshot.snapshot_id,
                "tick": snapshot.tick,
                "game_time": snapshot.game_time,
                "size_bytes": snapshot.size_bytes,
                "created_at_unix": snapshot.created_at_unix,
            })
        })
        .collect();
    Ok(Json(json!({"snapshots": snapshots})))
}

async fn create_snapshot(
    admin: Admin,
    State(state): State<AppState>,
    _: Json<NoParameters>,
) -> Result<Json<Value>, ApiError> {
    let snapshot = state.backends.physics.clone().snapshot(v1::SnapshotRequest {}).await;
    let snapshot = snapshot.map_err(ApiError::service("physics"))?.into_inner();
    let details = json!({"snapshot_id": snapshot.snapshot_id, "tick": snapshot.tick});
    audit(&state, &admin, "snapshot.create", details.clone()).await?;
    Ok(Json(details))
}

/// Replacing the running world is the one control that cannot be undone: the request must say
/// `{"confirm": true}` (the page asks the admin first).
async fn restore_snapshot(
    admin: Admin,
    State(state): State<AppState>,
    Path(snapshot_id): Path<u64>,
    Json(Confirmation { confirm }): Json<Confirmation>,
) -> Result<Json<Value>, ApiError> {
    if !confirm {
        return Err(ApiError::BadRequest("restoring replaces the running world; send {\"confirm\": true}".into()));
    }
    let restored = state.backends.physics.clone().restore(v1::RestoreRequest { snapshot_id }).await;
    let restored = restored.map_err(ApiError::service("physics"))?.into_inner();
    audit(&state, &admin, "snapshot.restore", json!({"snapshot_id": snapshot_id, "tick": restored.tick})).await?;
    Ok(Json(json!({"snapshot_id": snapshot_id, "tick": restored.tick, "state_hash": restored.state_hash})))
}

async fn list_players(admin: Admin, State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let request = v1::ListPlayersRequest { token: admin.token, limit: 0 };
    let players = state.backends.players_admin.clone().list_players(request).await;
    let players = players.map_err(ApiError::service("players"))?.into_inner().players;
    Ok(Json(json!({"players": players.iter().map(player_json).collect::<Vec<_>>()})))
}

async fn player_action(
    admin: Admin,
    State(state): State<AppState>,
    Path((username, action)): Path<(String, String)>,
    _: Json<NoParameters>,
) -> Result<Json<Value>, ApiError> {
    let request = v1::PlayerActionRequest { token: admin.token, username };
    let mut client = state.backends.players_admin.clone();
    let response = match action.as_str() {
        "kick" => client.kick_player(request).await,
        "ban" => client.ban_player(request).await,
        "unban" => client.unban_player(request).await,
        _ => return Err(ApiError::BadRequest(format!("unknown action {action:?}; kick, ban or unban"))),
    };
    let response = response.map_err(ApiError::service("players"))?.into_inner();
    let player = response.player.unwrap_or_default();
    Ok(Json(json!({"player": player_json(&player), "sessions_revoked": response.sessions_revoked})))
}

async fn list_audit(
    admin: Admin,
    State(state): State<AppState>,
    Query(Limit { limit }): Query<Limit>,
) -> Result<Json<Value>, ApiError> {
    let request = v1::ListAuditRequest { token: admin.token, limit: limit.unwrap_or(100) };
    let entries = state.backends.players_admin.clone().list_audit(request).await;
    let entries = entries.map_err(ApiError::service("players"))?.into_inner().entries;
    let entries: Vec<Value> = entries
        .iter()
        .map(|entry| {
            json!({
                "id": entry.id,
                "admin": entry.admin_username,
                "action": entry.action,
                "details": serde_json::from_str::<Value>(&entry.details_json).unwrap_or(Value::Null),
                "at_unix_ms": entry.created_at_unix * 1000 + i64::from(entry.created_at_millis),
            })
        })
        .collect();
    Ok(Json(json!({"entries": entries})))
}

async fn tick_status(state: &AppState) -> Result<v1::TickStatus, ApiError> {
    let status = state.backends.tick_engine.clone().get_status(v1::GetStatusRequest {}).await;
    Ok(status.map_err(ApiError::service("tick-engine"))?.into_inner())
}

async fn audit(state: &AppState, admin: &Admin, action: &str, mut details: Value) -> Result<(), ApiError> {
    if let Some(object) = details.as_object_mut() {
        object.insert("via".into(), "admin-dashboard".into());
    }
    let request = v1::RecordAuditRequest {
        token: admin.token.clone(),
        action: action.to_owned(),
        details_json: details.to_string(),
    };
    state
        .backends
        .players_admin
        .clone()
        .record_audit(request)
        .await
        .map_err(|status| ApiError::AuditFailed(status.message().to_owned()))?;
    Ok(())
}

fn status_json(status: &v1::TickStatus) -> Value {
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
        "energy_drift_level": drift_level(status.energy_drift),
        "momentum_drift": status.momentum_drift,
        "momentum_drift_level": drift_level(status.momentum_drift),
        "failed_ticks": status.failed_ticks,
        "last_snapshot_tick": status.last_snapshot_tick,
    })
}

fn player_json(player: &v1::PlayerSummary) -> Value {
    let role = if player.role == v1::Role::Admin as i32 { "admin" } else { "player" };
    json!({
        "id": player.player_id,
        "username": player.username,
        "role": role,
        "banned": player.banned,
        "online": player.online,
        "last_seen_unix": player.last_seen_unix,
        "created_at_unix": player.created_at_unix,
    })
}

fn unix_now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |since| i64::try_from(since.as_secs()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drift_colours_follow_the_thresholds() {
        assert_eq!(drift_level(0.0), "green");
        assert_eq!(drift_level(-9.9e-7), "green");
        assert_eq!(drift_level(1e-6), "yellow");
        assert_eq!(drift_level(9.9e-4), "yellow");
        assert_eq!(drift_level(1e-3), "red");
        assert_eq!(drift_level(-0.5), "red");
        assert_eq!(drift_level(f64::NAN), "red");
    }
}
