//! Where completed ticks go: the tick log in the database (whose primary key makes a duplicate
//! tick number impossible), then the capped `tick.completed` stream that gateways follow. Over
//! PostgreSQL and Redis in microservice mode, over the in-process stand-ins in one-process mode.

use galaxy_storage::{Database, EventBus, StreamName};

use crate::tick_loop::{TickRecord, TickSink, TickSinkError};

/// Appends completed ticks to the tick log and the `tick.completed` stream.
#[derive(Debug, Clone)]
pub struct StoreTickSink {
    bus: EventBus,
    database: Database,
}

impl StoreTickSink {
    /// A sink over the given stores.
    #[must_use]
    pub fn new(bus: EventBus, database: Database) -> Self {
        Self { bus, database }
    }
}

/// The `tick.completed` entry's fields, as text (what the gateway and admin tools parse).
#[must_use]
pub fn tick_completed_fields(record: &TickRecord) -> Vec<(&'static str, String)> {
    vec![
        ("tick", record.tick.to_string()),
        ("game_time", record.game_time.to_string()),
        ("physics_seconds", record.physics_seconds.to_string()),
        ("commands_seconds", record.phases.commands_seconds.to_string()),
        ("step_seconds", record.phases.step_seconds.to_string()),
        ("publish_seconds", record.phases.publish_seconds.to_string()),
        ("start_lag_seconds", record.start_lag_seconds.to_string()),
        ("catch_up", if record.catch_up { "1" } else { "0" }.to_owned()),
        ("energy_drift", record.energy_drift.to_string()),
        ("momentum_drift", record.momentum_drift.to_string()),
        ("state_hash", record.state_hash.clone()),
    ]
}

impl TickSink for StoreTickSink {
    async fn completed(&mut self, record: TickRecord) -> Result<(), TickSinkError> {
        let failed = |reason: String| TickSinkError { tick: record.tick, reason };
        // NOTE: the tick log first: if the number was already recorded (a second tick-engine
        // that lost its lock), nothing is streamed twice. A tick log outage must not stop the
        // stream players see, so only a conflict stops the append.
        let logged = self.database.record_tick(record.tick, record.game_time).await;
        if let Err(error @ galaxy_storage::StorageError::Conflict(_)) = &logged {
            return Err(failed(error.to_string()));
        }
        let fields = tick_completed_fields(&record);
        let borrowed: Vec<(&str, &[u8])> = fields.iter().map(|(name, value)| (*name, value.as_bytes())).collect();
        self.bus.append(StreamName::TickCompleted, &borrowed).await.map_err(|error| failed(error.to_string()))?;
        logged.map(|_| ()).map_err(|error| failed(format!("streamed, but not in the tick log: {error}")))
    }
}
