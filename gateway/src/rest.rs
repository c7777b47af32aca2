//! The REST handlers under `/api`: each reads the request, checks the caller and the limits, calls
//! one or two services, and maps the answer to the protocol's JSON (see docs/protocol.md).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use galaxy_proto::v1;
use serde::de::DeserializeOwned;
use tonic::Code;

use crate::auth::{Caller, bearer_token};
use crate::error::ApiError;
use crate::gateway::{AppState, ClientAddress};
use crate::model::{
    BodiesJson, ConfigJson, CredentialsJson, MeJson, PredictionJson, RespawnJson, SessionJson, ShipJson, ShipsJson,
    body_from_proto, config_from_proto, session_from_proto, summary_from_proto,
};

/// Largest request body accepted (bigger ones are 413).
pub const MAX_BODY_BYTES: usize = 16 * 1024;
/// Longest ship id looked up (longer ones cannot exist).
const MAX_SHIP_ID_CHARS: usize = 64;
/// Longest username used as a rate-limit key (longer ones are refused by the players service anyway).
const MAX_USERNAME_KEY_CHARS: usize = 32;
/// Prediction limits: horizon in game seconds, and points returned.
const HORIZON_RANGE: (f64, f64) = (1.0, 1.0e7);
const SAMPLES_RANGE: (u32, u32) = (2, 2_000);
/// Integration steps a prediction takes over its horizon (the step is clamped to 1–600 s).
const PREDICTION_STEPS: f64 = 2_000.0;

type ApiResult<T> = Result<T, ApiError>;

/// Parses a JSON body: `application/json`, at most [`MAX_BODY_BYTES`], matching `T`.
fn json_body<T: DeserializeOwned>(headers: &HeaderMap, body: Result<Bytes, BytesRejection>) -> ApiResult<T> {
    let body = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", "body larger than 16 KiB")
        } else {
            ApiError::malformed(rejection.body_text())
        }
    })?;
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|value| value.to_str().ok()).unwrap_or("");
    let essence = content_type.split(';').next().unwrap_or("").trim();
    // NOTE: requiring JSON makes a cross-site form post impossible without a CORS preflight.
    if !essence.eq_ignore_ascii_case("application/json") {
        return Err(ApiError::malformed("expected Content-Type: application/json"));
    }
    parse_json(&body)
}

/// A JSON body's bytes as `T` (400 `malformed_request` saying why not).
pub(crate) fn parse_json<T: DeserializeOwned>(body: &[u8]) -> ApiResult<T> {
    serde_json::from_slice(body).map_err(|error| ApiError::malformed(format!("invalid JSON body: {error}")))
}

async fn caller(app: &AppState, headers: &HeaderMap) -> ApiResult<Caller> {
    let token = bearer_token(headers)?;
    app.sessions.validate(&app.backends.players, token).await
}

/// The username part of the login limit's key: its first characters, lowercased.
pub(crate) fn username_key(username: &str) -> String {
    username.chars().take(MAX_USERNAME_KEY_CHARS).collect::<String>().to_lowercase()
}

fn check_login_limit(app: &AppState, address: IpAddr, username: &str) -> ApiResult<()> {
    app.login_limit.check(&(address, username_key(username))).map_err(|wait| {
        metrics::counter!("galaxy_gateway_rate_limited_total", "limit" => "login").increment(1);
        ApiError::rate_limited(wait)
    })
}

/// Register a player (and their first ship); logs them in.
#[utoipa::path(post, path = "/api/auth/register", tag = "auth", request_body = CredentialsJson,
    responses((status = 201, body = SessionJson), (status = 400, body = crate::error::ErrorBody),
        (status = 403, description = "registrations closed", body = crate::error::ErrorBody),
        (status = 409, description = "username taken", body = crate::error::ErrorBody),
        (status = 413, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody),
        (status = 429, body = crate::error::ErrorBody), (status = 503, body = crate::error::ErrorBody)))]
pub(crate) async fn register(
    State(app): State<Arc<AppState>>,
    ClientAddress(address): ClientAddress,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let credentials: CredentialsJson = json_body(&headers, body)?;
    app.register_limit.check(&address).map_err(|wait| {
        metrics::counter!("galaxy_gateway_rate_limited_total", "limit" => "register").increment(1);
        ApiError::rate_limited(wait)
    })?;
    check_login_limit(&app, address, &credentials.username)?;
    let request = v1::RegisterRequest { username: credentials.username, password: credentials.password };
    let session = app.backends.players.clone().register(request).await.map_err(|status| match status.code() {
        Code::AlreadyExists => ApiError::new(StatusCode::CONFLICT, "username_taken", status.message()),
        Code::FailedPrecondition => {
            ApiError::new(StatusCode::FORBIDDEN, "registrations_closed", "registrations are closed")
        }
        _ => ApiError::from_status(&status),
    })?;
    let session = session.into_inner();
    if let Some(identity) = &session.player {
        app.sessions.store(&session.token, identity.clone());
    }
    metrics::counter!("galaxy_gateway_registrations_total").increment(1);
    Ok((StatusCode::CREATED, Json(session_from_proto(&session))).into_response())
}

/// Log in with a username and password.
#[utoipa::path(post, path = "/api/auth/login", tag = "auth", request_body = CredentialsJson,
    responses((status = 200, body = SessionJson), (status = 400, body = crate::error::ErrorBody),
        (status = 401, description = "invalid_credentials", body = crate::error::ErrorBody),
        (status = 403, description = "banned", body = crate::error::ErrorBody),
        (status = 413, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody),
        (status = 429, description = "rate_limited or locked_out, with Retry-After", body = crate::error::ErrorBody),
        (status = 503, body = crate::error::ErrorBody)))]
pub(crate) async fn login(
    State(app): State<Arc<AppState>>,
    ClientAddress(address): ClientAddress,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<SessionJson>> {
    let credentials: CredentialsJson = json_body(&headers, body)?;
    check_login_limit(&app, address, &credentials.username)?;
    let request = v1::LoginRequest { username: credentials.username, password: credentials.password };
    let result = app.backends.players.clone().login(request).await;
    let session = match result {
        Ok(session) => session.into_inner(),
        Err(status) => {
            metrics::counter!("galaxy_gateway_login_failures_total").increment(1);
            return Err(match status.code() {
                Code::Unauthenticated => {
                    ApiError::new(StatusCode::UNAUTHORIZED, "invalid_credentials", "wrong username or password")
                }
                Code::PermissionDenied => ApiError::new(StatusCode::FORBIDDEN, "banned", status.message()),
                Code::ResourceExhausted => {
                    let mut error = ApiError::from_status(&status);
                    error.code = "locked_out";
                    error
                }
                _ => ApiError::from_status(&status),
            });
        }
    };
    if let Some(identity) = &session.player {
        app.sessions.store(&session.token, identity.clone());
    }
    metrics::counter!("galaxy_gateway_logins_total").increment(1);
    Ok(Json(session_from_proto(&session)))
}

/// End the session: the token stops working, here and on every WebSocket that used it.
#[utoipa::path(post, path = "/api/auth/logout", tag = "auth", security(("bearer" = [])),
    responses((status = 204), (status = 401, body = crate::error::ErrorBody)))]
pub(crate) async fn logout(State(app): State<Arc<AppState>>, headers: HeaderMap) -> ApiResult<StatusCode> {
    let token = bearer_token(&headers)?.to_owned();
    let result = app.backends.players.clone().logout(v1::LogoutRequest { token: token.clone() }).await;
    match result {
        Ok(_) => {
            app.sessions.revoke(&token);
            Ok(StatusCode::NO_CONTENT)
        }
        Err(status) if status.code() == Code::Unauthenticated => {
            app.sessions.revoke(&token);
            Err(ApiError::unauthenticated("session is invalid or expired"))
        }
        Err(status) => Err(ApiError::from_status(&status)),
    }
}

/// Swap the token for a new one with a fresh lifetime; the old one stops working.
#[utoipa::path(post, path = "/api/auth/refresh", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = SessionJson), (status = 401, body = crate::error::ErrorBody)))]
pub(crate) async fn refresh(State(app): State<Arc<AppState>>, headers: HeaderMap) -> ApiResult<Json<SessionJson>> {
    let token = bearer_token(&headers)?.to_owned();
    let result = app.backends.players.clone().refresh(v1::RefreshRequest { token: token.clone() }).await;
    let session = result
        .map_err(|status| match status.code() {
            Code::Unauthenticated => ApiError::unauthenticated("session is invalid or expired"),
            _ => ApiError::from_status(&status),
        })?
        .into_inner();
    app.sessions.revoke(&token);
    if let Some(identity) = &session.player {
        app.sessions.store(&session.token, identity.clone());
    }
    Ok(Json(session_from_proto(&session)))
}

/// Who the token belongs to, and their ship in full.
#[utoipa::path(get, path = "/api/me", tag = "players", security(("bearer" = [])),
    responses((status = 200, body = MeJson), (status = 401, body = crate::error::ErrorBody)))]
pub(crate) async fn me(State(app): State<Arc<AppState>>, headers: HeaderMap) -> ApiResult<Json<MeJson>> {
    let caller = caller(&app, &headers).await?;
    let ship = match caller.ship_id() {
        Some(ship_id) => find_ship(&app, ship_id).await?.map(|ship| ShipJson::from_proto(&ship)),
        None => None,
    };
    Ok(Json(MeJson { player: crate::model::player_from_proto(&caller.identity), ship }))
}

/// The game configuration.
#[utoipa::path(get, path = "/api/config", tag = "game", responses((status = 200, body = ConfigJson)))]
pub(crate) async fn config(State(app): State<Arc<AppState>>) -> ApiResult<Json<ConfigJson>> {
    Ok(Json(app.game_config().await?))
}

/// Every body: catalog data and where it is now.
#[utoipa::path(get, path = "/api/bodies", tag = "game", responses((status = 200, body = BodiesJson)))]
pub(crate) async fn bodies(State(app): State<Arc<AppState>>) -> ApiResult<Json<BodiesJson>> {
    Ok(Json(app.bodies_now().await?))
}

/// Every ship, as everyone sees it.
#[utoipa::path(get, path = "/api/ships", tag = "ships", security(("bearer" = [])),
    responses((status = 200, body = ShipsJson), (status = 401, body = crate::error::ErrorBody)))]
pub(crate) async fn ships(State(app): State<Arc<AppState>>, headers: HeaderMap) -> ApiResult<Json<ShipsJson>> {
    caller(&app, &headers).await?;
    if let Some(frame) = app.latest.borrow().clone() {
        return Ok(Json(ShipsJson { tick: frame.tick, game_time: frame.game_time, ships: frame.ships.clone() }));
    }
    let ships = app
        .backends
        .physics
        .clone()
        .get_all_ships(v1::GetAllShipsRequest {})
        .await
        .map_err(|status| ApiError::from_status(&status))?
        .into_inner();
    Ok(Json(ShipsJson { tick: 0, game_time: 0.0, ships: ships.ships.iter().map(summary_from_proto).collect() }))
}

/// One ship: in full if it is the caller's, else as everyone sees it.
#[utoipa::path(get, path = "/api/ships/{id}", tag = "ships", security(("bearer" = [])),
    params(("id" = String, Path, description = "ship id")),
    responses((status = 200, body = ShipJson, description = "the caller's own ship in full; another's ship carries only the ShipSummary fields"),
        (status = 401, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub(crate) async fn ship(
    State(app): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let caller = caller(&app, &headers).await?;
    let ship = find_ship(&app, &id).await?.ok_or_else(|| ApiError::not_found(format!("no ship {id:?}")))?;
    if ship.owner_id == caller.identity.player_id {
        Ok(Json(ShipJson::from_proto(&ship)).into_response())
    } else {
        Ok(Json(summary_from_proto(&ship)).into_response())
    }
}

/// The caller's ship's predicted path and orbit.
#[utoipa::path(get, path = "/api/ships/{id}/prediction", tag = "ships", security(("bearer" = [])),
    params(("id" = String, Path, description = "ship id (the caller's)"),
        ("horizon" = Option<f64>, Query, description = "seconds ahead, 1 to 1e7 (default 5400)"),
        ("samples" = Option<u32>, Query, description = "points returned, 2 to 2000 (default 180)")),
    responses((status = 200, body = PredictionJson), (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody), (status = 429, body = crate::error::ErrorBody)))]
pub(crate) async fn prediction(
    State(app): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> ApiResult<Json<PredictionJson>> {
    let caller = caller(&app, &headers).await?;
    own_ship(&app, &caller, &id).await?;
    let request = prediction_request(id, &query)?;
    app.prediction_limit.check(&caller.identity.player_id).map_err(|wait| {
        metrics::counter!("galaxy_gateway_rate_limited_total", "limit" => "prediction").increment(1);
        ApiError::rate_limited(wait)
    })?;
    let prediction = app
        .backends
        .physics
        .clone()
        .predict_trajectory(request)
        .await
        .map_err(|status| ApiError::from_status(&status))?
        .into_inner();
    Ok(Json(PredictionJson::from_proto(&prediction)))
}

/// The `PredictTrajectory` request for a prediction's query (`horizon`, `samples`; defaults
/// 5400 s and 180), or why the query is refused.
pub(crate) fn prediction_request(
    ship_id: String,
    query: &HashMap<String, String>,
) -> ApiResult<v1::PredictTrajectoryRequest> {
    let number = |name: &str, default: f64| -> ApiResult<f64> {
        match query.get(name) {
            None => Ok(default),
            Some(text) => {
                text.trim().parse::<f64>().map_err(|_| ApiError::malformed(format!("{name} must be a number")))
            }
        }
    };
    let horizon = number("horizon", 5_400.0)?;
    let samples = number("samples", 180.0)?;
    if !(HORIZON_RANGE.0..=HORIZON_RANGE.1).contains(&horizon) {
        return Err(ApiError::invalid_argument("horizon must be within 1..=1e7 seconds"));
    }
    if samples.fract() != 0.0 || !(f64::from(SAMPLES_RANGE.0)..=f64::from(SAMPLES_RANGE.1)).contains(&samples) {
        return Err(ApiError::invalid_argument("samples must be a whole number within 2..=2000"));
    }
    Ok(v1::PredictTrajectoryRequest {
        ship_id,
        horizon,
        step: (horizon / PREDICTION_STEPS).clamp(1.0, 600.0),
        // Checked above to be a whole number within 2..=2000.
        samples: samples as u32,
    })
}

/// Replace the caller's ship with a new one of the given class, in the spawn orbit.
#[utoipa::path(post, path = "/api/ships/{id}/respawn", tag = "ships", security(("bearer" = [])),
    params(("id" = String, Path, description = "the caller's current ship id")), request_body = RespawnJson,
    responses((status = 200, body = ShipJson, description = "the new ship (its id differs)"),
        (status = 401, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub(crate) async fn respawn(
    State(app): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<ShipJson>> {
    let caller = caller(&app, &headers).await?;
    own_ship(&app, &caller, &id).await?;
    let request: RespawnJson = json_body(&headers, body)?;
    let ship = app.respawn(&caller.token, &request.class).await?;
    Ok(Json(ShipJson::from_proto(&ship)))
}

/// A ship from physics; `None` if there is no such ship.
pub(crate) async fn find_ship(app: &AppState, id: &str) -> ApiResult<Option<v1::ShipState>> {
    if id.is_empty() || id.chars().count() > MAX_SHIP_ID_CHARS {
        return Ok(None);
    }
    let request = v1::GetShipStateRequest { ship_id: id.to_owned() };
    match app.backends.physics.clone().get_ship_state(request).await {
        Ok(ship) => Ok(Some(ship.into_inner())),
        Err(status) if status.code() == Code::NotFound => Ok(None),
        Err(status) => Err(ApiError::from_status(&status)),
    }
}

/// Passes if `id` is the caller's current ship: 403 for someone else's, 404 for none at all.
async fn own_ship(app: &AppState, caller: &Caller, id: &str) -> ApiResult<()> {
    if caller.ship_id() == Some(id) {
        return Ok(());
    }
    match find_ship(app, id).await? {
        Some(_) => Err(ApiError::forbidden("that ship is not yours")),
        None => Err(ApiError::not_found(format!("no ship {id:?}"))),
    }
}

/// `/api/*` paths that match no route.
pub(crate) async fn not_found() -> ApiError {
    ApiError::not_found("no such route")
}

/// A known path with the wrong method.
pub(crate) async fn method_not_allowed() -> ApiError {
    ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "method not allowed on this route")
}

/// The OpenAPI document.
pub(crate) async fn openapi() -> Response {
    use utoipa::OpenApi;
    match crate::openapi::ApiDoc::openapi().to_json() {
        Ok(json) => ([(header::CONTENT_TYPE, "application/json")], json).into_response(),
        Err(error) => {
            tracing::error!(%error, "could not render the OpenAPI document");
            ApiError::internal().into_response()
        }
    }
}

/// Builds a body list from the catalog and positions by name.
pub(crate) fn bodies_json(
    catalog: &[v1::BodyState],
    positions: &HashMap<&str, ([f64; 3], [f64; 3])>,
    tick: u64,
    game_time: f64,
) -> BodiesJson {
    let bodies = catalog
        .iter()
        .map(|body| {
            let vector = |value: Option<&v1::Vector3>| value.map_or([0.0; 3], |value| [value.x, value.y, value.z]);
            let (position, velocity) = positions
                .get(body.name.as_str())
                .copied()
                .unwrap_or((vector(body.position.as_ref()), vector(body.velocity.as_ref())));
            body_from_proto(body, position, velocity)
        })
        .collect();
    BodiesJson { tick, game_time, bodies }
}

/// `config_from_proto`, re-exported for the WebSocket welcome.
pub(crate) fn config_json(config: &v1::GameConfig) -> ConfigJson {
    config_from_proto(config)
}
