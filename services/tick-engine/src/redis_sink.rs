//! The sink in microservice mode: each completed tick is appended to the capped Redis stream
//! `tick.completed` (which gateways follow) and, when PostgreSQL is configured, to the tick log
//! whose primary key makes a duplicate tick number impossible.

use galaxy_storage::{PostgresStore, RedisStore, StreamName};

use crate::tick_loop::{TickRecord, TickSink, TickSinkError};

/// Appends completed ticks to Redis (and PostgreSQL).
#[derive(Debug, Clone)]
pub struct StoreTickSink {
    redis: RedisStore,
    postgres: Option<PostgresStore>,
}

impl StoreTickSink {
    /// A sink over the given stores.
    #[must_use]
    pub fn new(redis: RedisStore, postgres: Option<PostgresStore>) -> Self {
        Self { redis, postgres }
    }
}

impl TickSink for StoreTickSink {
    async fn completed(&mut self, record: TickRecord) -> Result<(), TickSinkError> {
        let failed = |reason: String| TickSinkError { tick: record.tick, reason };
        // The tick log first: if the number was already recorded, nothing is streamed twice.
        if let Some(postgres) = &self.postgres {
            postgres.record_tick(record.tick, record.game_time).await.map_err(|error| failed(error.to_string()))?;
        }
        let tick = record.tick.to_string();
        let game_time = record.game_time.to_string();
        let physics = record.physics_seconds.to_string();
        let lag = record.start_lag_seconds.to_string();
        let catch_up = if record.catch_up { "1" } else { "0" };
        let fields: [(&str, &[u8]); 6] = [
            ("tick", tick.as_bytes()),
            ("game_time", game_time.as_bytes()),
            ("physics_seconds", physics.as_bytes()),
            ("start_lag_seconds", lag.as_bytes()),
            ("catch_up", catch_up.as_bytes()),
            ("state_hash", record.state_hash.as_bytes()),
        ];
        self.redis.append(StreamName::TickCompleted, &fields).await.map_err(|error| failed(error.to_string()))?;
        Ok(())
    }
}
