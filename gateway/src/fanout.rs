//! State fan-out: ONE follower of the `tick.completed` stream per gateway reads the state physics
//! published, parses it once, and builds one shared [`StateFrame`] per tick; every WebSocket
//! holds a `watch` receiver on it — a one-slot "latest wins" mailbox, so a slow client only
//! ever skips to the newest frame and never delays the others or grows memory.
//!
//! A frame carries the `state` message as shared bytes: everything up to `"own_ship":` once,
//! and each ship's full view (the rest of the message) once. A connection writes the shared
//! prefix and its own ship's suffix as one text frame with a vectored write, so no per-client
//! copy of the state is ever made.
//!
//! Every client gets every ship every tick, so ships are sent compactly (docs/protocol.md): what
//! never changes while a ship exists (id, owner, name, class) goes out in a [`Roster`] message
//! only when the set of ships changes (and on connect), and each tick's `ships` are rows of
//! rounded numbers in the roster's order — about a third of the bytes of full summaries.

use std::collections::HashMap;
use std::io::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use galaxy_engine::AttitudeMode;
use galaxy_proto::v1;
use galaxy_proto::v1::physics_client::PhysicsClient;
use galaxy_storage::{EventBus, StorageError, StreamEntryId, StreamName};
use serde::Serialize;
use tokio::sync::watch;
use tonic::transport::Channel;

use crate::model::{BodyStateJson, PublishedState, ShipDetails, ShipIdentityJson, ShipJson, ShipSummaryJson};

/// The end of a `state` message for a client without a ship.
const NO_OWN_SHIP: &[u8] = b"null}";
/// How long one blocking read of the stream waits before looking again.
const STREAM_BLOCK: Duration = Duration::from_secs(1);
/// Pause after a store error before trying again.
const RETRY_PAUSE: Duration = Duration::from_secs(1);
/// Longest wait for the ships' details from physics; past it the previous ones are used.
const DETAILS_TIMEOUT: Duration = Duration::from_secs(2);

/// The ships a `state`'s rows describe, in row order, and the `roster` message announcing them.
/// A new version is made only when the ships (or their order) change, so it is sent rarely.
#[derive(Debug)]
pub struct Roster {
    /// Counts this gateway's rosters; each `state` names the version its rows follow.
    pub version: u64,
    /// Every ship, in the order of the rows.
    pub ships: Vec<ShipIdentityJson>,
    /// The `roster` message.
    pub message: Bytes,
}

impl Roster {
    /// The roster for `ships`: `previous` itself when it lists the same ships in the same
    /// order, else the next version.
    pub fn for_ships(
        previous: Option<&Arc<Roster>>,
        ships: &[ShipSummaryJson],
    ) -> Result<Arc<Roster>, serde_json::Error> {
        if let Some(previous) = previous
            && previous.ships.len() == ships.len()
            && previous.ships.iter().zip(ships).all(|(identity, ship)| identity.matches(ship))
        {
            return Ok(Arc::clone(previous));
        }
        #[derive(Serialize)]
        struct Message<'a> {
            r#type: &'static str,
            version: u64,
            ships: &'a [ShipIdentityJson],
        }
        let version = previous.map_or(1, |previous| previous.version + 1);
        let identities: Vec<ShipIdentityJson> = ships.iter().map(ShipIdentityJson::of).collect();
        let message = serde_json::to_vec(&Message { r#type: "roster", version, ships: &identities })?;
        Ok(Arc::new(Roster { version, ships: identities, message: Bytes::from(message) }))
    }
}

/// One tick's state, shared by every connection.
#[derive(Debug)]
pub struct StateFrame {
    /// Counts frames published by this gateway (a connection that skips from 4 to 7 dropped 2).
    pub sequence: u64,
    /// The tick.
    pub tick: u64,
    /// Its game time, s.
    pub game_time: f64,
    /// Bodies' positions and velocities.
    pub bodies: Vec<BodyStateJson>,
    /// Every ship's summary.
    pub ships: Vec<ShipSummaryJson>,
    /// Ships' full-view details by id (from physics; may be a tick newer than the summaries).
    pub details: Arc<HashMap<String, ShipDetails>>,
    /// The ships the `state` message's rows are, in order; a client must have it first.
    pub roster: Arc<Roster>,
    /// The `state` message up to and including `"own_ship":`.
    pub prefix: Bytes,
    /// By ship id: that ship's full view and the message's closing brace.
    own_suffixes: HashMap<String, Bytes>,
}

impl StateFrame {
    /// The end of the `state` message for a client flying `ship_id`: its full ship, or `null`.
    #[must_use]
    pub fn own_suffix(&self, ship_id: Option<&str>) -> Bytes {
        ship_id.and_then(|id| self.own_suffixes.get(id).cloned()).unwrap_or_else(|| Bytes::from_static(NO_OWN_SHIP))
    }

    /// The whole `state` message for a client flying `ship_id` (tests, and small sends).
    #[must_use]
    pub fn message_for(&self, ship_id: Option<&str>) -> Vec<u8> {
        let suffix = self.own_suffix(ship_id);
        let mut message = Vec::with_capacity(self.prefix.len() + suffix.len());
        message.extend_from_slice(&self.prefix);
        message.extend_from_slice(&suffix);
        message
    }

    /// Builds a frame from the published state and the ships' details; its roster is
    /// `previous_roster` when the ships are the same.
    pub fn build(
        sequence: u64,
        state: PublishedState,
        details: Arc<HashMap<String, ShipDetails>>,
        previous_roster: Option<&Arc<Roster>>,
    ) -> Result<StateFrame, serde_json::Error> {
        // `type` and `tick` stay first: gateway-load reads a state's tick from its first bytes.
        #[derive(Serialize)]
        struct Head<'a> {
            r#type: &'static str,
            tick: u64,
            game_time: f64,
            roster: u64,
            bodies: &'a [BodyStateJson],
        }
        let roster = Roster::for_ships(previous_roster, &state.ships)?;
        let head = Head {
            r#type: "state",
            tick: state.tick,
            game_time: state.game_time,
            roster: roster.version,
            bodies: &state.bodies,
        };
        let mut prefix = Vec::with_capacity(4096 + SHIP_ROW_BYTES * state.ships.len());
        serde_json::to_writer(&mut prefix, &head)?;
        // `{...}` → `{...,"ships":[[…],…],"own_ship":`; the suffix closes it.
        prefix.pop();
        prefix.extend_from_slice(br#","ships":["#);
        for (index, ship) in state.ships.iter().enumerate() {
            if index > 0 {
                prefix.push(b',');
            }
            write_ship_row(&mut prefix, ship);
        }
        prefix.extend_from_slice(br#"],"own_ship":"#);
        let mut own_suffixes = HashMap::with_capacity(details.len());
        for summary in &state.ships {
            if let Some(ship_details) = details.get(&summary.id) {
                let mut suffix = serde_json::to_vec(&ShipJson::new(summary.clone(), ship_details))?;
                suffix.push(b'}');
                own_suffixes.insert(summary.id.clone(), Bytes::from(suffix));
            }
        }
        Ok(StateFrame {
            sequence,
            tick: state.tick,
            game_time: state.game_time,
            bodies: state.bodies,
            ships: state.ships,
            details,
            roster,
            prefix: Bytes::from(prefix),
            own_suffixes,
        })
    }
}

/// About what one row takes (heliocentric positions: 90 bytes as measured, more for a turning
/// ship), to size the buffer.
const SHIP_ROW_BYTES: usize = 100;

/// Steps of the rounded numbers in a ship row (docs/protocol.md), as multiples per unit: what
/// drawing another ship needs. 0.1 m is far below a pixel at any distance a ship is visible,
/// 0.01 m/s moves an extrapolated ship 1 cm per second, 1e-4 in a unit quaternion turns it
/// by at most about 0.01°; fuel and throttle only label it.
const POSITION_STEPS_PER_M: f64 = 10.0;
const VELOCITY_STEPS_PER_M_S: f64 = 100.0;
const ATTITUDE_STEPS: f64 = 1e4;
const FUEL_STEPS_PER_KG: f64 = 1.0;
const THROTTLE_STEPS: f64 = 1e3;

/// Writes a ship's row: `[x, y, z, vx, vy, vz, qw, qx, qy, qz, fuel, throttle, mode, status]`,
/// numbers rounded and printed as short as they go (`0`, not `0.0`); the mode and status are
/// codes (`AttitudeMode` and `ShipStatus` numbering, as the protocol lists them).
fn write_ship_row(out: &mut Vec<u8>, ship: &ShipSummaryJson) {
    out.push(b'[');
    for value in ship.position {
        write_rounded(out, value, POSITION_STEPS_PER_M);
        out.push(b',');
    }
    for value in ship.velocity {
        write_rounded(out, value, VELOCITY_STEPS_PER_M_S);
        out.push(b',');
    }
    for value in ship.attitude {
        write_rounded(out, value, ATTITUDE_STEPS);
        out.push(b',');
    }
    write_rounded(out, ship.fuel, FUEL_STEPS_PER_KG);
    out.push(b',');
    write_rounded(out, ship.throttle, THROTTLE_STEPS);
    let mode = AttitudeMode::from_name(&ship.attitude_mode).unwrap_or_default() as u8;
    let _ = write!(out, ",{mode},{}]", status_code(&ship.status));
}

/// A ship status's code in rows: the engine's `ShipStatus` numbering.
fn status_code(status: &str) -> u8 {
    match status {
        "landed" => 1,
        "crashed" => 2,
        _ => 0,
    }
}

/// Writes `value` rounded to a multiple of `1 / steps_per_unit`, in the fewest digits that read
/// back as that multiple (Rust's `Display`: no exponent, no trailing `.0`); `null` if not finite.
fn write_rounded(out: &mut Vec<u8>, value: f64, steps_per_unit: f64) {
    // `+ 0.0` turns -0 into 0.
    let rounded = (value * steps_per_unit).round() / steps_per_unit + 0.0;
    if rounded.is_finite() {
        let _ = write!(out, "{rounded}");
    } else {
        out.extend_from_slice(b"null");
    }
}

/// The latest frame, for every connection and REST handler.
pub type LatestFrame = watch::Sender<Option<Arc<StateFrame>>>;

/// Follows `tick.completed` and publishes a frame per tick (during catch-up, at most one per
/// `min_interval`).
#[derive(Debug)]
pub struct TickFollower {
    bus: EventBus,
    physics: PhysicsClient<Channel>,
    latest: LatestFrame,
    min_interval: Duration,
    details: Arc<HashMap<String, ShipDetails>>,
    roster: Option<Arc<Roster>>,
    sequence: u64,
    last_tick: Option<u64>,
}

impl TickFollower {
    /// A follower publishing into `latest`.
    #[must_use]
    pub fn new(bus: EventBus, physics: PhysicsClient<Channel>, latest: LatestFrame, min_interval: Duration) -> Self {
        TickFollower {
            bus,
            physics,
            latest,
            min_interval,
            details: Arc::new(HashMap::new()),
            roster: None,
            sequence: 0,
            last_tick: None,
        }
    }

    /// Runs until `shutdown` resolves. Store errors are logged and retried; nothing here ends the loop.
    pub async fn run(mut self, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        tokio::select! {
            () = &mut shutdown => {}
            () = self.follow() => {}
        }
    }

    async fn follow(&mut self) {
        // Only ticks from now on; the current state is published right away.
        let mut cursor = loop {
            match self.bus.last_entry_id(StreamName::TickCompleted).await {
                Ok(last) => break last.unwrap_or_else(StreamEntryId::beginning),
                Err(error) => {
                    tracing::warn!(%error, "cannot read the tick stream yet");
                    tokio::time::sleep(RETRY_PAUSE).await;
                }
            }
        };
        let mut last_publish: Option<Instant> = None;
        if self.publish_current().await {
            last_publish = Some(Instant::now());
        }
        loop {
            let entries =
                match self.bus.read_stream_blocking(StreamName::TickCompleted, &cursor, 1_000, STREAM_BLOCK).await {
                    Ok(entries) => entries,
                    Err(error) => {
                        tracing::warn!(%error, "reading the tick stream failed; retrying");
                        tokio::time::sleep(RETRY_PAUSE).await;
                        continue;
                    }
                };
            let Some(newest) = entries.last() else {
                // No tick within the block time (paused, or a fresh state store): a frame is
                // still wanted if none was ever published.
                if self.last_tick.is_none() && self.publish_current().await {
                    last_publish = Some(Instant::now());
                }
                continue;
            };
            cursor = newest.id;
            // NOTE: during catch-up ticks come back to back; the state store only ever holds
            // the newest state, so waiting out the interval and reading then skips the rest.
            // On schedule, every tick is published as it comes.
            let catching_up =
                entries.len() > 1 || newest.fields.get("catch_up").is_some_and(|flag| flag.as_ref() == b"1");
            if catching_up && let Some(last) = last_publish {
                tokio::time::sleep_until((last + self.min_interval).into()).await;
            }
            if self.publish_current().await {
                last_publish = Some(Instant::now());
            }
        }
    }

    /// Reads, parses and publishes the current state; `true` if a new frame went out.
    async fn publish_current(&mut self) -> bool {
        let started = Instant::now();
        let bytes = match self.bus.read_state().await {
            Ok(Some(bytes)) => bytes,
            Ok(None) => return false,
            Err(error) => {
                log_store_error(&error);
                return false;
            }
        };
        let parsed = tokio::task::spawn_blocking(move || serde_json::from_slice::<PublishedState>(&bytes)).await;
        let state = match parsed {
            Ok(Ok(state)) => state,
            Ok(Err(error)) => {
                tracing::error!(%error, "the published state is not what physics publishes");
                return false;
            }
            Err(error) => {
                tracing::error!(%error, "parsing the state panicked");
                return false;
            }
        };
        // The same tick again (read twice during catch-up). An older one is a restored snapshot:
        // published, since it is the world now.
        if self.last_tick == Some(state.tick) {
            return false;
        }
        if let Some(last) = self.last_tick
            && state.tick > last + 1
        {
            metrics::counter!("galaxy_gateway_ticks_coalesced_total").increment(state.tick - last - 1);
        }
        // NOTE: fetched even with nobody connected, so the first client's first state already
        // carries its ship in full (one call per frame; physics answers it in milliseconds).
        self.refresh_details().await;
        self.sequence += 1;
        let (sequence, details, roster) = (self.sequence, Arc::clone(&self.details), self.roster.clone());
        let tick = state.tick;
        let built =
            tokio::task::spawn_blocking(move || StateFrame::build(sequence, state, details, roster.as_ref())).await;
        match built {
            Ok(Ok(frame)) => {
                self.last_tick = Some(tick);
                self.roster = Some(Arc::clone(&frame.roster));
                self.latest.send_replace(Some(Arc::new(frame)));
                metrics::counter!("galaxy_gateway_state_frames_total").increment(1);
                metrics::histogram!("galaxy_gateway_state_frame_seconds").record(started.elapsed().as_secs_f64());
                true
            }
            Ok(Err(error)) => {
                tracing::error!(%error, "could not encode a state frame");
                false
            }
            Err(error) => {
                tracing::error!(%error, "building a state frame panicked");
                false
            }
        }
    }

    async fn refresh_details(&mut self) {
        let call = self.physics.get_all_ships(v1::GetAllShipsRequest {});
        match tokio::time::timeout(DETAILS_TIMEOUT, call).await {
            Ok(Ok(response)) => {
                let details = response
                    .into_inner()
                    .ships
                    .iter()
                    .map(|ship| (ship.ship_id.clone(), ShipDetails::from_proto(ship)))
                    .collect();
                self.details = Arc::new(details);
            }
            Ok(Err(status)) => tracing::warn!(%status, "ships' details unavailable; keeping the previous ones"),
            Err(_) => tracing::warn!("ships' details timed out; keeping the previous ones"),
        }
    }
}

fn log_store_error(error: &StorageError) {
    tracing::warn!(%error, "reading the published state failed");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(id: &str) -> ShipSummaryJson {
        ShipSummaryJson {
            id: id.into(),
            owner: "1".into(),
            name: "n".into(),
            class: "fast_frigate".into(),
            position: [1.0, 2.0, 3.0],
            velocity: [0.0; 3],
            attitude: [1.0, 0.0, 0.0, 0.0],
            fuel: 10.0,
            throttle: 0.0,
            attitude_mode: "hold".into(),
            status: "flying".into(),
        }
    }

    fn state(tick: u64, ships: Vec<ShipSummaryJson>) -> PublishedState {
        PublishedState {
            tick,
            game_time: tick as f64,
            bodies: vec![BodyStateJson { name: "Sun".into(), position: [0.0; 3], velocity: [0.0; 3] }],
            ships,
        }
    }

    fn details_of(ids: &[&str]) -> Arc<HashMap<String, ShipDetails>> {
        let details = ShipDetails::from_proto(&v1::ShipState { dry_mass: 8000.0, ..v1::ShipState::default() });
        Arc::new(ids.iter().map(|id| ((*id).to_owned(), details.clone())).collect())
    }

    #[test]
    fn every_clients_message_is_valid_json_with_its_own_ship() {
        let frame =
            StateFrame::build(1, state(7, vec![summary("ship-1"), summary("ship-2")]), details_of(&["ship-1"]), None)
                .expect("encodes");
        let mine: serde_json::Value = serde_json::from_slice(&frame.message_for(Some("ship-1"))).expect("json");
        assert_eq!(mine["type"], "state");
        assert_eq!(mine["tick"], 7);
        assert_eq!(mine["roster"], frame.roster.version);
        assert_eq!(mine["ships"].as_array().map(Vec::len), Some(2));
        assert_eq!(mine["own_ship"]["id"], "ship-1");
        assert_eq!(mine["own_ship"]["dry_mass"], 8000.0);
        for nobody in [None, Some("ship-2"), Some("ship-404")] {
            let theirs: serde_json::Value = serde_json::from_slice(&frame.message_for(nobody)).expect("json");
            assert_eq!(theirs["own_ship"], serde_json::Value::Null);
            assert_eq!(theirs["ships"], mine["ships"]);
        }
        let text = String::from_utf8(frame.message_for(None)).expect("utf-8");
        assert!(text.starts_with(r#"{"type":"state","tick":7,"#), "{text}");
    }

    #[test]
    fn rows_carry_rounded_numbers_in_roster_order_and_the_own_ship_stays_exact() {
        let mut exact = summary("ship-1");
        exact.position = [149_597_870_700.125, -2.0 / 3.0, -1e-9];
        exact.velocity = [29_784.123_456_789, 0.1 + 0.2, -7.0];
        exact.attitude = [0.123_456_789, 0.0, -0.987_654_321, 1e-9];
        exact.fuel = 14_999.6;
        exact.throttle = 0.333_333;
        exact.attitude_mode = "target".into();
        let mut wreck = summary("ship-2");
        wreck.status = "crashed".into();
        wreck.attitude_mode = "radial_out".into();
        wreck.position[0] = f64::NAN;
        let frame = StateFrame::build(2, state(8, vec![exact, wreck]), details_of(&["ship-1"]), None).expect("encodes");
        let text = String::from_utf8(frame.message_for(Some("ship-1"))).expect("utf-8");
        let rows = &text[text.find(r#""ships":"#).expect("ships")..text.find(r#""own_ship""#).expect("own ship")];
        assert_eq!(
            rows,
            r#""ships":[[149597870700.1,-0.7,0,29784.12,0.3,-7,0.1235,0,-0.9877,0,15000,0.333,7,0],[null,2,3,0,0,0,1,0,0,0,10,0,6,2]],"#
        );
        let roster: Vec<&str> = frame.roster.ships.iter().map(|ship| ship.id.as_str()).collect();
        assert_eq!(roster, ["ship-1", "ship-2"]);
        let mine: serde_json::Value = serde_json::from_str(&text).expect("json");
        assert_eq!(mine["own_ship"]["position"][0], 149_597_870_700.125);
        assert_eq!(mine["own_ship"]["velocity"][1], 0.1 + 0.2);
        assert_eq!(mine["own_ship"]["attitude_mode"], "target");
    }

    #[test]
    fn the_roster_changes_version_only_when_the_ships_do() {
        let message = |roster: &Roster| -> serde_json::Value { serde_json::from_slice(&roster.message).expect("json") };
        let first = Roster::for_ships(None, &[summary("ship-1"), summary("ship-2")]).expect("encodes");
        assert_eq!(first.version, 1);
        assert_eq!(
            message(&first),
            serde_json::json!({"type": "roster", "version": 1, "ships": [
                {"id": "ship-1", "owner": "1", "name": "n", "class": "fast_frigate"},
                {"id": "ship-2", "owner": "1", "name": "n", "class": "fast_frigate"},
            ]})
        );
        // Moving, burning, turning: the same roster.
        let mut moved = summary("ship-2");
        moved.position = [9.0; 3];
        moved.fuel = 1.0;
        let same = Roster::for_ships(Some(&first), &[summary("ship-1"), moved]).expect("encodes");
        assert!(Arc::ptr_eq(&first, &same));
        // A ship more, a ship less, another order, a renamed ship: a new version each time.
        let added = Roster::for_ships(Some(&first), &[summary("ship-1"), summary("ship-2"), summary("ship-3")])
            .expect("encodes");
        assert_eq!((added.version, message(&added)["ships"][2]["id"].clone()), (2, "ship-3".into()));
        let removed = Roster::for_ships(Some(&added), &[summary("ship-3"), summary("ship-2")]).expect("encodes");
        assert_eq!(removed.version, 3);
        let reordered = Roster::for_ships(Some(&removed), &[summary("ship-2"), summary("ship-3")]).expect("encodes");
        assert_eq!(reordered.version, 4);
        let mut renamed = summary("ship-3");
        renamed.name = "other".into();
        let renamed = Roster::for_ships(Some(&reordered), &[summary("ship-2"), renamed]).expect("encodes");
        assert_eq!((renamed.version, message(&renamed)["ships"][1]["name"].clone()), (5, "other".into()));
        // A frame built with the previous roster keeps it while the ships stay the same.
        let frame =
            StateFrame::build(3, state(9, vec![summary("ship-2"), summary("ship-3")]), details_of(&[]), Some(&renamed))
                .expect("encodes");
        assert_eq!(frame.roster.version, 6, "ship-3 got its name back");
        let next = StateFrame::build(
            4,
            state(10, vec![summary("ship-2"), summary("ship-3")]),
            details_of(&[]),
            Some(&frame.roster),
        )
        .expect("encodes");
        assert!(Arc::ptr_eq(&frame.roster, &next.roster));
    }
}
