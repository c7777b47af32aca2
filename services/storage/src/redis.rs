//! [`RedisStore`]: the real-time state and the event streams (`tick.completed`, `commands`) in
//! Redis, over two fred clients — one for commands, one only for blocking stream reads.

use std::collections::HashMap;
use std::time::Duration;

use bytes::Bytes;
use fred::clients::Client;
use fred::interfaces::{ClientLike, KeysInterface, StreamsInterface};
use fred::types::config::{Config, Options, ReconnectPolicy, TcpConfig, UnresponsiveConfig};
use fred::types::streams::{XCap, XReadResponse};
use fred::types::{Builder, Value};

use crate::config::RedisConfig;
use crate::error::{self, StorageError};

/// First pause before reconnecting; pauses then double up to the configured maximum.
const RECONNECT_MIN_DELAY_MS: u32 = 100;

/// The streams Galaxy keeps in Redis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StreamName {
    /// One entry per finished tick, appended by the tick-engine, read by the api-gateway.
    TickCompleted,
    /// Player commands, appended by the players service, applied by physics at the next tick.
    Commands,
}

impl StreamName {
    /// The stream's name inside the key space (`tick.completed`, `commands`).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            StreamName::TickCompleted => "tick.completed",
            StreamName::Commands => "commands",
        }
    }
}

/// The keys of one deployment's key space: `galaxy:{prefix}:state`, `galaxy:{prefix}:stream:<name>`.
///
/// The braces are a Redis Cluster hash tag: every key of a deployment lands in the same slot, so
/// multi-key commands keep working if Redis is ever clustered. Each test or deployment picks its
/// own prefix and never sees another's keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisKeys {
    state: String,
    world: String,
    tick_completed: String,
    commands: String,
}

impl RedisKeys {
    /// The keys for `prefix` (validated by [`RedisConfig::validate`]).
    #[must_use]
    pub fn new(prefix: &str) -> RedisKeys {
        let stream = |name: StreamName| format!("galaxy:{{{prefix}}}:stream:{}", name.as_str());
        RedisKeys {
            state: format!("galaxy:{{{prefix}}}:state"),
            world: format!("galaxy:{{{prefix}}}:world"),
            tick_completed: stream(StreamName::TickCompleted),
            commands: stream(StreamName::Commands),
        }
    }

    /// The real-time state's key.
    #[must_use]
    pub fn state(&self) -> &str {
        &self.state
    }

    /// The key of the latest whole-world snapshot (what a restarted physics process resumes from).
    #[must_use]
    pub fn world(&self) -> &str {
        &self.world
    }

    /// A stream's key.
    #[must_use]
    pub fn stream(&self, stream: StreamName) -> &str {
        match stream {
            StreamName::TickCompleted => &self.tick_completed,
            StreamName::Commands => &self.commands,
        }
    }

    fn all(&self) -> [&str; 4] {
        [&self.state, &self.world, &self.tick_completed, &self.commands]
    }
}

/// A stream entry id (`<milliseconds>-<sequence>`), as Redis assigns them; ordered as Redis orders them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StreamEntryId {
    milliseconds: u64,
    sequence: u64,
}

impl StreamEntryId {
    /// The id before every entry: reading after it reads a stream from its beginning.
    #[must_use]
    pub fn beginning() -> StreamEntryId {
        StreamEntryId { milliseconds: 0, sequence: 0 }
    }

    /// Checks an id that came from outside (for example a client resuming a stream).
    pub fn parse(text: &str) -> Result<StreamEntryId, StorageError> {
        text.split_once('-')
            .and_then(|(milliseconds, sequence)| {
                // `u64::from_str` accepts a leading '+', Redis does not.
                let digits = |part: &str| !part.is_empty() && part.bytes().all(|byte| byte.is_ascii_digit());
                if !(digits(milliseconds) && digits(sequence)) {
                    return None;
                }
                Some(StreamEntryId { milliseconds: milliseconds.parse().ok()?, sequence: sequence.parse().ok()? })
            })
            .ok_or_else(|| StorageError::Invalid(format!("not a stream entry id: {text:?}")))
    }

    pub(crate) fn new(milliseconds: u64, sequence: u64) -> StreamEntryId {
        StreamEntryId { milliseconds, sequence }
    }

    /// Milliseconds part: the Redis server's clock when the entry was added.
    #[must_use]
    pub fn milliseconds(self) -> u64 {
        self.milliseconds
    }

    /// Sequence number among entries added in the same millisecond.
    #[must_use]
    pub fn sequence(self) -> u64 {
        self.sequence
    }

    fn from_redis(text: &str) -> Result<StreamEntryId, StorageError> {
        StreamEntryId::parse(text)
            .map_err(|_| StorageError::Internal(format!("redis returned a malformed entry id {text:?}")))
    }
}

impl std::fmt::Display for StreamEntryId {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "{}-{}", self.milliseconds, self.sequence)
    }
}

/// One stream entry: its id and its fields (values are opaque bytes to this crate).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamEntry {
    /// Where it sits in the stream.
    pub id: StreamEntryId,
    /// Its fields, by name.
    pub fields: HashMap<String, Bytes>,
}

/// The Redis repository. Cheap to clone (clones share the two connections).
///
/// Commands go through one client; blocking reads (`XREAD BLOCK`, `XREADGROUP BLOCK`) through a
/// second one, because a blocked connection answers nothing else until the block ends: a reader
/// waiting for the next tick must never delay the state write of the current one. Blocking reads
/// on one store are served one at a time; a service with several blocking readers connects one
/// store per reader.
///
/// Both clients reconnect on their own with exponential backoff; while disconnected, commands wait
/// at most the command timeout and then fail with [`StorageError::Unavailable`].
#[derive(Clone)]
pub struct RedisStore {
    commands: Client,
    blocking_reads: Client,
    keys: RedisKeys,
    command_timeout: Duration,
    stream_max_len: u64,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("RedisStore")
            .field("keys", &self.keys)
            .field("command_timeout", &self.command_timeout)
            .field("stream_max_len", &self.stream_max_len)
            .finish()
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum ClientPurpose {
    Commands,
    BlockingReads,
}

impl RedisStore {
    /// Connects both clients. Fails fast with [`StorageError::Unavailable`] if Redis cannot be
    /// reached within the connect timeout; from then on the clients reconnect by themselves.
    pub async fn connect(config: &RedisConfig) -> Result<RedisStore, StorageError> {
        config.validate().map_err(|error| StorageError::Invalid(error.to_string()))?;
        let commands = build_client(config, ClientPurpose::Commands)?;
        let blocking_reads = build_client(config, ClientPurpose::BlockingReads)?;
        // `init` fails on the first refused or timed-out connection (fred's fail_fast), and then
        // leaves no reconnect loop running behind.
        commands.init().await.map_err(|error| error::from_redis(&error))?;
        if let Err(error) = blocking_reads.init().await {
            // Best effort: the connection is being dropped either way.
            let _ = commands.quit().await;
            return Err(error::from_redis(&error));
        }
        Ok(RedisStore {
            commands,
            blocking_reads,
            keys: RedisKeys::new(&config.key_prefix),
            command_timeout: config.command_timeout,
            stream_max_len: config.stream_max_len,
        })
    }

    /// This store's keys.
    #[must_use]
    pub fn keys(&self) -> &RedisKeys {
        &self.keys
    }

    /// Checks Redis answers (for readiness probes).
    pub async fn ping(&self) -> Result<(), StorageError> {
        self.commands.ping::<String>(None).await.map(|_| ()).map_err(redis)
    }

    /// Closes both connections; later calls fail.
    pub async fn quit(&self) -> Result<(), StorageError> {
        let commands = self.commands.quit().await;
        let blocking_reads = self.blocking_reads.quit().await;
        commands.and(blocking_reads).map_err(redis)
    }

    /// Replaces the real-time state (an opaque blob, typically the encoded bodies and ships).
    pub async fn write_state(&self, state: impl Into<Bytes>) -> Result<(), StorageError> {
        self.commands.set::<(), _, _>(self.keys.state(), state.into(), None, None, false).await.map_err(redis)
    }

    /// The real-time state, byte for byte as written; `None` before the first write.
    pub async fn read_state(&self) -> Result<Option<Bytes>, StorageError> {
        self.commands.get::<Option<Bytes>, _>(self.keys.state()).await.map_err(redis)
    }

    /// Replaces the latest whole-world snapshot (opaque bytes).
    pub async fn write_world(&self, snapshot: impl Into<Bytes>) -> Result<(), StorageError> {
        self.commands.set::<(), _, _>(self.keys.world(), snapshot.into(), None, None, false).await.map_err(redis)
    }

    /// The latest whole-world snapshot, byte for byte; `None` before the first write.
    pub async fn read_world(&self) -> Result<Option<Bytes>, StorageError> {
        self.commands.get::<Option<Bytes>, _>(self.keys.world()).await.map_err(redis)
    }

    /// Appends an entry to a stream, trimming the stream to about the configured length
    /// (`XADD key MAXLEN ~ N * field value ...`). Returns the id Redis gave the entry.
    ///
    /// NOTE: an append is sent once and never retried after a lost connection, so a stream never
    /// gets the same entry twice; the caller sees [`StorageError::Unavailable`] and decides.
    pub async fn append(&self, stream: StreamName, fields: &[(&str, &[u8])]) -> Result<StreamEntryId, StorageError> {
        if fields.is_empty() {
            return Err(StorageError::Invalid("a stream entry needs at least one field".to_owned()));
        }
        let pairs: Vec<(&str, Bytes)> =
            fields.iter().map(|(name, value)| (*name, Bytes::copy_from_slice(value))).collect();
        let cap = self.cap(self.stream_max_len)?;
        let id: String = self.commands.xadd(self.keys.stream(stream), false, cap, "*", pairs).await.map_err(redis)?;
        StreamEntryId::from_redis(&id)
    }

    /// Up to `max_count` entries after `after`, oldest first, without waiting (empty if none).
    pub async fn read_stream(
        &self,
        stream: StreamName,
        after: &StreamEntryId,
        max_count: u64,
    ) -> Result<Vec<StreamEntry>, StorageError> {
        let key = self.keys.stream(stream);
        let response: Value =
            self.commands.xread(Some(max_count.max(1)), None, key, after.to_string()).await.map_err(redis)?;
        entries_of(response, key)
    }

    /// Up to `max_count` entries after `after`, waiting up to `block` for the first one to arrive
    /// (`XREAD BLOCK`). Returns an empty list when none came in time.
    pub async fn read_stream_blocking(
        &self,
        stream: StreamName,
        after: &StreamEntryId,
        max_count: u64,
        block: Duration,
    ) -> Result<Vec<StreamEntry>, StorageError> {
        let key = self.keys.stream(stream);
        let (block_ms, options) = self.blocking_options(block);
        let response: Value = self
            .blocking_reads
            .with_options(&options)
            .xread(Some(max_count.max(1)), Some(block_ms), key, after.to_string())
            .await
            .map_err(redis)?;
        entries_of(response, key)
    }

    /// How many entries a stream holds now (0 if it does not exist).
    pub async fn stream_len(&self, stream: StreamName) -> Result<u64, StorageError> {
        self.commands.xlen(self.keys.stream(stream)).await.map_err(redis)
    }

    /// The id of a stream's newest entry, if any: a reader that wants only what comes next starts after it.
    pub async fn last_entry_id(&self, stream: StreamName) -> Result<Option<StreamEntryId>, StorageError> {
        let newest: Vec<(String, HashMap<String, Bytes>)> =
            self.commands.xrevrange_values(self.keys.stream(stream), "+", "-", Some(1)).await.map_err(redis)?;
        newest.into_iter().next().map(|(id, _fields)| StreamEntryId::from_redis(&id)).transpose()
    }

    /// Deletes the entries older than `oldest_kept` (`XTRIM MINID`), for a consumer that has applied
    /// everything before it. Returns how many were deleted.
    pub async fn trim_before(&self, stream: StreamName, oldest_kept: &StreamEntryId) -> Result<u64, StorageError> {
        let cap = XCap::try_from(("MINID", "=", oldest_kept.to_string())).map_err(redis)?;
        self.commands.xtrim(self.keys.stream(stream), cap).await.map_err(redis)
    }

    /// Creates a consumer group reading the stream after `start` (creating the stream if needed).
    /// Creating a group that exists already is not an error.
    pub async fn create_consumer_group(
        &self,
        stream: StreamName,
        group: &str,
        start: &StreamEntryId,
    ) -> Result<(), StorageError> {
        let created =
            self.commands.xgroup_create::<(), _, _, _>(self.keys.stream(stream), group, start.to_string(), true).await;
        match created {
            Err(error) if error.details().starts_with("BUSYGROUP") => Ok(()),
            other => other.map_err(redis),
        }
    }

    /// Up to `max_count` entries never delivered to `group`, delivered to `consumer`, waiting up to
    /// `block` for the first (`XREADGROUP ... BLOCK ... >`). They stay pending until acknowledged.
    pub async fn read_group_blocking(
        &self,
        stream: StreamName,
        group: &str,
        consumer: &str,
        max_count: u64,
        block: Duration,
    ) -> Result<Vec<StreamEntry>, StorageError> {
        let key = self.keys.stream(stream);
        let (block_ms, options) = self.blocking_options(block);
        let response: Value = self
            .blocking_reads
            .with_options(&options)
            .xreadgroup(group, consumer, Some(max_count.max(1)), Some(block_ms), false, key, ">")
            .await
            .map_err(redis)?;
        entries_of(response, key)
    }

    /// Marks entries as processed by `group` (`XACK`); returns how many were still pending.
    pub async fn acknowledge(
        &self,
        stream: StreamName,
        group: &str,
        ids: &[StreamEntryId],
    ) -> Result<u64, StorageError> {
        if ids.is_empty() {
            return Ok(0);
        }
        let ids: Vec<String> = ids.iter().map(StreamEntryId::to_string).collect();
        self.commands.xack(self.keys.stream(stream), group, ids).await.map_err(redis)
    }

    /// Deletes every key of this store's key space (state and streams), e.g. when a test ends.
    pub async fn delete_all_keys(&self) -> Result<(), StorageError> {
        let keys: Vec<&str> = self.keys.all().to_vec();
        self.commands.del::<(), _>(keys).await.map_err(redis)
    }

    fn cap(&self, max_len: u64) -> Result<XCap, StorageError> {
        let max_len = i64::try_from(max_len)
            .map_err(|_| StorageError::Invalid(format!("stream length {max_len} does not fit Redis")))?;
        XCap::try_from(("MAXLEN", "~", max_len)).map_err(redis)
    }

    /// The block time in whole milliseconds (at least 1: `BLOCK 0` would wait forever) and a
    /// command timeout that outlasts it, so the server's empty answer arrives before the client gives up.
    fn blocking_options(&self, block: Duration) -> (u64, Options) {
        let block_ms = u64::try_from(block.as_millis()).unwrap_or(u64::MAX).max(1);
        let options =
            Options { timeout: Some(Duration::from_millis(block_ms) + self.command_timeout), ..Options::default() };
        (block_ms, options)
    }
}

fn build_client(config: &RedisConfig, purpose: ClientPurpose) -> Result<Client, StorageError> {
    let redis_config =
        Config::from_url(&config.url).map_err(|error| StorageError::Invalid(error.details().to_owned()))?;
    let mut builder = Builder::from_config(redis_config);
    builder.with_connection_config(|connection| {
        connection.connection_timeout = config.connect_timeout;
        connection.internal_command_timeout = config.command_timeout;
        // Sent once: a command lost with its connection is reported, never silently repeated
        // (a repeated XADD would duplicate a tick or a player command).
        connection.max_command_attempts = 1;
        connection.tcp = TcpConfig { nodelay: Some(true), ..TcpConfig::default() };
        if purpose == ClientPurpose::Commands {
            // A connection that stops answering (a vanished host, a half-open socket) is dropped
            // and reconnected instead of waited on. Not for blocking reads, which are silent on purpose.
            let max_silence = config.command_timeout * 2;
            connection.unresponsive = UnresponsiveConfig {
                max_timeout: Some(max_silence),
                interval: (max_silence / 4).max(Duration::from_millis(50)),
            };
        }
    });
    builder.with_performance_config(|performance| performance.default_command_timeout = config.command_timeout);
    let max_delay_ms = u32::try_from(config.reconnect_max_delay.as_millis()).unwrap_or(u32::MAX);
    // max_attempts 0: keep trying for as long as the service runs.
    builder.set_policy(ReconnectPolicy::new_exponential(
        0,
        RECONNECT_MIN_DELAY_MS,
        max_delay_ms.max(RECONNECT_MIN_DELAY_MS),
        2,
    ));
    builder.build().map_err(redis)
}

/// The entries of `key` in an `XREAD`/`XREADGROUP` reply; a nil reply (nothing new) is no entries.
fn entries_of(response: Value, key: &str) -> Result<Vec<StreamEntry>, StorageError> {
    if response.is_null() {
        return Ok(Vec::new());
    }
    let mut by_stream: XReadResponse<String, String, String, Bytes> = response.into_xread_response().map_err(redis)?;
    by_stream
        .remove(key)
        .unwrap_or_default()
        .into_iter()
        .map(|(id, fields)| Ok(StreamEntry { id: StreamEntryId::from_redis(&id)?, fields }))
        .collect()
}

fn redis(error: fred::error::Error) -> StorageError {
    error::from_redis(&error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_ids_order_numerically_not_as_text() {
        let ninth = StreamEntryId::parse("5-9").expect("valid");
        let tenth = StreamEntryId::parse("5-10").expect("valid");
        assert!(ninth < tenth);
        assert!(StreamEntryId::parse("10-0").expect("valid") > tenth);
    }

    #[test]
    fn keys_share_one_cluster_hash_tag_per_prefix() {
        let keys = RedisKeys::new("test_1");
        assert_eq!(keys.state(), "galaxy:{test_1}:state");
        assert_eq!(keys.stream(StreamName::TickCompleted), "galaxy:{test_1}:stream:tick.completed");
        assert_eq!(keys.stream(StreamName::Commands), "galaxy:{test_1}:stream:commands");
    }

    #[test]
    fn stream_entry_ids_from_outside_are_checked() {
        let parsed = StreamEntryId::parse("1700000000000-3").expect("valid id");
        assert_eq!(
            (parsed.milliseconds(), parsed.sequence(), parsed.to_string().as_str()),
            (1_700_000_000_000, 3, "1700000000000-3")
        );
        for bad in ["", "12", "-1", "1-", "a-b", "1-2-3", "$", ">", "+1-2", "1-+2", "99999999999999999999-0"] {
            assert!(matches!(StreamEntryId::parse(bad), Err(StorageError::Invalid(_))), "{bad:?} accepted");
        }
    }
}
