//! The OpenAPI 3.1 document of the REST API, generated at compile time from the handlers'
//! annotations (`utoipa`); served at `/api/openapi.json`. Nothing is fetched at build time.

use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::error::{ErrorBody, ErrorDetail};
use crate::model::{
    BodiesJson, BodyJson, BodyStateJson, ConfigJson, ControlJson, CredentialsJson, ElementsJson, MeJson, PlayerJson,
    PredictionJson, PredictionPointJson, RespawnJson, SessionJson, ShipJson, ShipSummaryJson, ShipsJson, TargetJson,
};
use crate::rest;

/// The REST API's OpenAPI document.
#[derive(Debug, OpenApi)]
#[openapi(
    info(
        title = "Galaxy player API",
        description = "REST endpoints of the api-gateway. The live connection is the WebSocket at /ws, \
                       described in docs/protocol.md."
    ),
    paths(
        rest::register, rest::login, rest::logout, rest::refresh, rest::me, rest::config, rest::bodies,
        rest::ships, rest::ship, rest::prediction, rest::respawn
    ),
    components(schemas(
        ErrorBody, ErrorDetail, PlayerJson, SessionJson, ConfigJson, BodyJson, BodiesJson, BodyStateJson,
        ShipSummaryJson, ShipJson, ControlJson, TargetJson, ShipsJson, MeJson, PredictionJson,
        PredictionPointJson, ElementsJson, CredentialsJson, RespawnJson
    )),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

/// Declares the `bearer` security scheme the authenticated endpoints name.
#[derive(Debug)]
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        if let Some(components) = openapi.components.as_mut() {
            components.add_security_scheme("bearer", SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)));
        }
    }
}
