//! [`SingletonLock`]: a PostgreSQL session-level advisory lock that makes one process of many the
//! only one doing a job (the tick-engine: never two tick loops, never a duplicate tick number).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_postgres::{Client, NoTls};

use crate::error::{self, StorageError};

/// How often the holder checks its lock connection still answers: a silently dead connection
/// (the server restarted, the network dropped) releases the lock on the server, so the holder
/// must notice and stop within about this long.
const HEARTBEAT: Duration = Duration::from_secs(1);

/// A held advisory lock. Dropping it closes its connection, which releases the lock.
#[derive(Debug)]
pub struct SingletonLock {
    key: i64,
    // Kept so the connection lives as long as the lock.
    _client: Arc<Client>,
    lost: watch::Receiver<bool>,
    tasks: [JoinHandle<()>; 2],
}

/// A connection of the lock's own, and what tells of its end.
struct LockConnection {
    client: Client,
    connection_task: JoinHandle<()>,
    lost_sender: watch::Sender<bool>,
    lost: watch::Receiver<bool>,
}

impl LockConnection {
    async fn open(config: &tokio_postgres::Config) -> Result<LockConnection, StorageError> {
        let (client, connection) = config.connect(NoTls).await.map_err(|error| error::from_postgres(&error))?;
        let (lost_sender, lost) = watch::channel(false);
        let connection_lost = lost_sender.clone();
        let connection_task = tokio::spawn(async move {
            // Ends when the socket closes, for whatever reason.
            let _ = connection.await;
            let _ = connection_lost.send(true);
        });
        Ok(LockConnection { client, connection_task, lost_sender, lost })
    }

    /// One `pg_try_advisory_lock`; on an error the connection is closed.
    async fn try_lock(&self, key: i64, query_timeout: Duration) -> Result<bool, StorageError> {
        let params: [&(dyn tokio_postgres::types::ToSql + Sync); 1] = [&key];
        let attempt =
            tokio::time::timeout(query_timeout, self.client.query_one("SELECT pg_try_advisory_lock($1)", &params));
        let acquired = match attempt.await {
            Ok(Ok(row)) => row.try_get::<_, bool>(0).map_err(|error| error::from_postgres(&error)),
            Ok(Err(error)) => Err(error::from_postgres(&error)),
            Err(_elapsed) => Err(StorageError::timed_out("acquiring the singleton lock", query_timeout)),
        };
        if acquired.is_err() {
            self.connection_task.abort();
        }
        acquired
    }

    fn into_lock(self, key: i64, query_timeout: Duration) -> SingletonLock {
        let client = Arc::new(self.client);
        let heartbeat_task = tokio::spawn(heartbeat(Arc::clone(&client), self.lost_sender, query_timeout));
        SingletonLock { key, _client: client, lost: self.lost, tasks: [self.connection_task, heartbeat_task] }
    }
}

impl SingletonLock {
    pub(crate) async fn acquire(
        config: &tokio_postgres::Config,
        key: i64,
        poll_interval: Duration,
        query_timeout: Duration,
    ) -> Result<SingletonLock, StorageError> {
        let connection = LockConnection::open(config).await?;
        while !connection.try_lock(key, query_timeout).await? {
            tokio::time::sleep(poll_interval).await;
        }
        Ok(connection.into_lock(key, query_timeout))
    }

    /// One attempt: `Ok(None)` when another session holds the lock (the attempt's connection is
    /// closed again).
    pub(crate) async fn try_acquire(
        config: &tokio_postgres::Config,
        key: i64,
        query_timeout: Duration,
    ) -> Result<Option<SingletonLock>, StorageError> {
        let connection = LockConnection::open(config).await?;
        if connection.try_lock(key, query_timeout).await? {
            Ok(Some(connection.into_lock(key, query_timeout)))
        } else {
            connection.connection_task.abort();
            Ok(None)
        }
    }

    /// The advisory lock key.
    #[must_use]
    pub fn key(&self) -> i64 {
        self.key
    }

    /// Whether the lock is known to be lost (its connection died).
    #[must_use]
    pub fn is_lost(&self) -> bool {
        *self.lost.borrow()
    }

    /// Resolves when the lock is lost: the holder must stop the guarded work at once.
    pub async fn lost(&self) {
        let mut lost = self.lost.clone();
        // An error means the sender is gone: the tasks ended, so the lock is gone too.
        let _ = lost.wait_for(|lost| *lost).await;
    }
}

impl Drop for SingletonLock {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

async fn heartbeat(client: Arc<Client>, lost: watch::Sender<bool>, query_timeout: Duration) {
    let mut interval = tokio::time::interval(HEARTBEAT);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        let answered = tokio::time::timeout(query_timeout, client.simple_query("SELECT 1")).await;
        if !matches!(answered, Ok(Ok(_))) {
            let _ = lost.send(true);
            return;
        }
    }
}
