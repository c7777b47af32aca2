//! The REST API's request bodies, and the prediction's query, through the functions the gateway's
//! handlers call to read and check them (`rest::parse_json`, `rest::prediction_request`, the
//! login limit's key), before any service is asked.
//!
//! Never panics, and:
//! - a refusal is an `ApiError` with a 4xx status (400 `malformed_request`, or 422
//!   `invalid_argument` for a prediction out of range), never 5xx, whose body is the documented
//!   `{"error": {"code", "message"}}`;
//! - accepted credentials and respawn bodies carry exactly the strings sent, and written back as
//!   JSON read back the same. The gateway checks no username or password rules itself (the
//!   players service does, in functions behind its database-backed handlers); what it derives
//!   from a username, the login limit's key, is at most 32 characters lowercased and the same
//!   whatever the ASCII case, so changing case cannot dodge the limit;
//! - a prediction query is read by axum's `Query` without a (plain-text) rejection; an accepted
//!   one has a horizon within 1..=1e7 s, a step within 1..=600 s, 2..=2000 samples, the values
//!   sent (or the defaults 5400 s and 180), and is a request physics' conversion accepts.
//!
//! Input: a kind byte, modulo 3, then the rest: 0 the JSON body of `POST /api/auth/register` and
//! `/login` (`CredentialsJson`), 1 the JSON body of `POST /api/ships/{id}/respawn`, 2 the query
//! of `GET /api/ships/{id}/prediction` (what follows the `?`). Bodies larger than 16 KiB are
//! refused (413) before any handler runs, so they are skipped.
#![no_main]

use std::collections::HashMap;

use galaxy_gateway::ApiError;
use galaxy_gateway::fuzzing::{self, MAX_BODY_BYTES};
use galaxy_proto::convert;
use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};

/// What docs/protocol.md promises about predictions.
const HORIZON_RANGE: (f64, f64) = (1.0, 1.0e7);
const STEP_RANGE: (f64, f64) = (1.0, 600.0);
const SAMPLES_RANGE: (u32, u32) = (2, 2_000);
const DEFAULT_HORIZON: f64 = 5_400.0;
const DEFAULT_SAMPLES: u32 = 180;
/// Characters of a username the login limit keys on.
const USERNAME_KEY_CHARS: usize = 32;
const SHIP: &str = "ship-1";

fuzz_target!(|data: &[u8]| {
    let Some((&kind, body)) = data.split_first() else { return };
    if body.len() > MAX_BODY_BYTES {
        return;
    }
    match kind % 3 {
        0 => credentials(body),
        1 => respawn(body),
        _ => {
            if let Ok(query) = std::str::from_utf8(body) {
                prediction(query);
            }
        }
    }
});

fn credentials(body: &[u8]) {
    let credentials = match fuzzing::credentials(body) {
        Ok(credentials) => credentials,
        Err(error) => return check_malformed(&error),
    };
    let (username, password) = (credentials.username, credentials.password);
    if let Some(sent) = sent_json(body) {
        // serde reads a struct from an object or from an array of its fields in order.
        let fields = match &sent {
            Value::Object(object) => (object.get("username"), object.get("password")),
            Value::Array(array) if array.len() == 2 => (array.first(), array.get(1)),
            other => panic!("credentials read from {other}"),
        };
        let read = (Some(&json!(username)), Some(&json!(password)));
        assert_eq!(fields, read, "the credentials read are not those sent");
    }
    let again = fuzzing::credentials(json!({"username": username, "password": password}).to_string().as_bytes())
        .expect("credentials written back are refused");
    assert_eq!((again.username.as_str(), again.password.as_str()), (username.as_str(), password.as_str()));

    let key = fuzzing::login_limit_key(&username);
    let head: String = username.chars().take(USERNAME_KEY_CHARS).collect();
    assert_eq!(key, fuzzing::login_limit_key(&head), "the key depends on more than the first characters");
    // `char::to_lowercase` yields at most three characters for one.
    assert!(key.chars().count() <= 3 * USERNAME_KEY_CHARS, "key {key:?} for {username:?}");
    for variant in [username.to_ascii_uppercase(), username.to_ascii_lowercase()] {
        assert_eq!(fuzzing::login_limit_key(&variant), key, "{variant:?} and {username:?} are limited apart");
    }
}

fn respawn(body: &[u8]) {
    let request = match fuzzing::respawn(body) {
        Ok(request) => request,
        Err(error) => return check_malformed(&error),
    };
    if let Some(sent) = sent_json(body) {
        let class = match &sent {
            Value::Object(object) => object.get("class"),
            Value::Array(array) if array.len() == 1 => array.first(),
            other => panic!("a respawn read from {other}"),
        };
        assert_eq!(class, Some(&json!(request.class)), "the class read is not the one sent");
    }
    let again = fuzzing::respawn(json!({"class": request.class}).to_string().as_bytes())
        .expect("a respawn body written back is refused");
    assert_eq!(again.class, request.class);
}

fn prediction(query: &str) {
    let Some(read) = fuzzing::prediction_query(query) else { return };
    let map = read.unwrap_or_else(|rejection| panic!("axum refuses the query {query:?} as such: {rejection}"));
    let request = match fuzzing::prediction_request(SHIP, &map) {
        Ok(request) => request,
        Err(error) => {
            check_error(&error);
            assert!(
                matches!((error.status.as_u16(), error.code), (400, "malformed_request") | (422, "invalid_argument")),
                "{error}"
            );
            return;
        }
    };
    assert_eq!(request.ship_id, SHIP);
    let horizon = request.horizon;
    assert!(
        horizon.is_finite() && (HORIZON_RANGE.0..=HORIZON_RANGE.1).contains(&horizon),
        "horizon {horizon} accepted"
    );
    assert!(
        request.step.is_finite() && (STEP_RANGE.0..=STEP_RANGE.1).contains(&request.step),
        "step {} for horizon {horizon}",
        request.step
    );
    assert!((SAMPLES_RANGE.0..=SAMPLES_RANGE.1).contains(&request.samples), "{} samples accepted", request.samples);
    assert_eq!(sent_number(&map, "horizon").unwrap_or(DEFAULT_HORIZON).to_bits(), horizon.to_bits());
    assert_eq!(sent_number(&map, "samples").unwrap_or(f64::from(DEFAULT_SAMPLES)), f64::from(request.samples));
    if let Err(error) = convert::prediction_params(&request) {
        panic!("the gateway passes a prediction physics refuses: {request:?}: {error}");
    }
}

/// An accepted body read as any JSON, to compare with what the handler read. `None` when it is
/// not valid JSON: serde_json skips the value of a field the struct ignores without checking its
/// UTF-8 or escapes, so such a body is accepted (harmlessly: nothing of it is used).
fn sent_json(body: &[u8]) -> Option<Value> {
    serde_json::from_slice(body).ok()
}

/// The number a query parameter names, if it is there.
fn sent_number(map: &HashMap<String, String>, name: &str) -> Option<f64> {
    map.get(name).map(|text| text.trim().parse().expect("an accepted parameter is a number"))
}

/// A body that is not the JSON the handler wants: 400 `malformed_request`.
fn check_malformed(error: &ApiError) {
    check_error(error);
    assert_eq!((error.status.as_u16(), error.code), (400, "malformed_request"), "{error}");
}

/// Any refusal: 4xx, no `Retry-After`, and the documented error body.
fn check_error(error: &ApiError) {
    assert!(error.status.is_client_error(), "a request body earned a {}: {error}", error.status);
    assert_eq!(error.retry_after, None, "{error}");
    let body = serde_json::to_value(error.body()).expect("an error body is JSON");
    assert_eq!(body, json!({"error": {"code": error.code, "message": error.message}}));
}
