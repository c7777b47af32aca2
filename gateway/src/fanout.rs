//! State fan-out: ONE follower of the `tick.completed` stream per gateway reads the state physics
//! published, parses it once, and builds one shared [`StateFrame`] per tick; every WebSocket
//! holds a `watch` receiver on it — a one-slot "latest wins" mailbox, so a slow client only
//! ever skips to the newest frame and never delays the others or grows memory.
//!
//! A frame carries the `state` message as shared bytes: everything up to `"own_ship":` once,
//! and each ship's full view (the rest of the message) once. A connection writes the shared
//! prefix and its own ship's suffix as one text frame with a vectored write, so no per-client
//! copy of the state is ever made.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use galaxy_proto::v1;
use galaxy_proto::v1::physics_client::PhysicsClient;
use galaxy_storage::{EventBus, StorageError, StreamEntryId, StreamName};
use serde::Serialize;
use tokio::sync::watch;
use tonic::transport::Channel;

use crate::model::{BodyStateJson, PublishedState, ShipDetails, ShipJson, ShipSummaryJson};

/// The end of a `state` message for a client without a ship.
const NO_OWN_SHIP: &[u8] = b"null}";
/// How long one blocking read of the stream waits before looking again.
const STREAM_BLOCK: Duration = Duration::from_secs(1);
/// Pause after a store error before trying again.
const RETRY_PAUSE: Duration = Duration::from_secs(1);
/// Longest wait for the ships' details from physics; past it the previous ones are used.
const DETAILS_TIMEOUT: Duration = Duration::from_secs(2);

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

    /// Builds a frame from the published state and the ships' details.
    pub fn build(
        sequence: u64,
        state: PublishedState,
        details: Arc<HashMap<String, ShipDetails>>,
    ) -> Result<StateFrame, serde_json::Error> {
        #[derive(Serialize)]
        struct Head<'a> {
            r#type: &'static str,
            tick: u64,
            game_time: f64,
            bodies: &'a [BodyStateJson],
            ships: &'a [ShipSummaryJson],
        }
        // Every client gets every ship, so their numbers are rounded (docs/protocol.md) to what
        // drawing another ship needs: about a quarter fewer bytes than 17 significant digits.
        let rounded: Vec<ShipSummaryJson> = state.ships.iter().map(broadcast_summary).collect();
        let head = Head {
            r#type: "state",
            tick: state.tick,
            game_time: state.game_time,
            bodies: &state.bodies,
            ships: &rounded,
        };
        let mut prefix = serde_json::to_vec(&head)?;
        // `{...}` → `{...,"own_ship":`; the suffix closes it.
        prefix.pop();
        prefix.extend_from_slice(br#","own_ship":"#);
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
            prefix: Bytes::from(prefix),
            own_suffixes,
        })
    }
}

/// Rounds `value` to a multiple of `1 / per_unit` (then printed with at most that many decimals).
fn round_to(value: f64, per_unit: f64) -> f64 {
    (value * per_unit).round() / per_unit
}

/// A ship's summary as the `state` message's `ships` carries it: position to 1 cm, velocity
/// to 1 mm/s, attitude to 1e-6, fuel to 10 g, throttle to 1e-3 (the own ship stays exact).
fn broadcast_summary(summary: &ShipSummaryJson) -> ShipSummaryJson {
    ShipSummaryJson {
        position: summary.position.map(|x| round_to(x, 1e2)),
        velocity: summary.velocity.map(|v| round_to(v, 1e3)),
        attitude: summary.attitude.map(|q| round_to(q, 1e6)),
        fuel: round_to(summary.fuel, 1e2),
        throttle: round_to(summary.throttle, 1e3),
        ..summary.clone()
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
        let (sequence, details) = (self.sequence, Arc::clone(&self.details));
        let tick = state.tick;
        let built = tokio::task::spawn_blocking(move || StateFrame::build(sequence, state, details)).await;
        match built {
            Ok(Ok(frame)) => {
                self.last_tick = Some(tick);
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

    #[test]
    fn every_clients_message_is_valid_json_with_its_own_ship() {
        let state = PublishedState {
            tick: 7,
            game_time: 7.5,
            bodies: vec![BodyStateJson { name: "Sun".into(), position: [0.0; 3], velocity: [0.0; 3] }],
            ships: vec![summary("ship-1"), summary("ship-2")],
        };
        let details = ShipDetails::from_proto(&v1::ShipState { dry_mass: 8000.0, ..v1::ShipState::default() });
        let details = Arc::new(HashMap::from([("ship-1".to_owned(), details)]));
        let frame = StateFrame::build(1, state, details).expect("encodes");
        let mine: serde_json::Value = serde_json::from_slice(&frame.message_for(Some("ship-1"))).expect("json");
        assert_eq!(mine["type"], "state");
        assert_eq!(mine["tick"], 7);
        assert_eq!(mine["ships"].as_array().map(Vec::len), Some(2));
        assert_eq!(mine["own_ship"]["id"], "ship-1");
        assert_eq!(mine["own_ship"]["dry_mass"], 8000.0);
        // Others' numbers are rounded; the own ship's are exact.
        let mut exact = summary("ship-1");
        exact.position = [149_597_870_700.125, -2.0 / 3.0, 1e-9];
        exact.velocity = [29_784.123_456_789, 0.1 + 0.2, -7.0];
        exact.attitude = [0.123_456_789, 0.0, -0.987_654_321, 1e-9];
        let state = PublishedState { tick: 8, game_time: 8.0, bodies: Vec::new(), ships: vec![exact] };
        let frame = StateFrame::build(2, state, Arc::clone(&frame.details)).expect("encodes");
        let text = String::from_utf8(frame.message_for(Some("ship-1"))).expect("utf-8");
        let head = &text[..text.find(r#""own_ship""#).expect("own ship")];
        assert!(head.contains(r#""position":[149597870700.13,-0.67,0.0]"#), "{head}");
        assert!(head.contains(r#""velocity":[29784.123,0.3,-7.0]"#), "{head}");
        assert!(head.contains(r#""attitude":[0.123457,0.0,-0.987654,0.0]"#), "{head}");
        let mine: serde_json::Value = serde_json::from_str(&text).expect("json");
        assert_eq!(mine["own_ship"]["position"][0], 149_597_870_700.125);
        assert_eq!(mine["own_ship"]["velocity"][1], 0.1 + 0.2);
        for nobody in [None, Some("ship-2"), Some("ship-404")] {
            let theirs: serde_json::Value = serde_json::from_slice(&frame.message_for(nobody)).expect("json");
            assert_eq!(theirs["own_ship"], serde_json::Value::Null);
        }
    }
}
