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

impl SingletonLock {
    pub(crate) async fn acquire(
        config: &tokio_postgres::Config,
        key: i64,
        poll_interval: Duration,
        query_timeout: Duration,
    ) -> Result<SingletonLock, StorageError> {
        let (client, connection) = config.connect(NoTls).await.map_err(|error| error::from_postgres(&error))?;
        let (lost_sender, lost) = watch::channel(false);
        let connection_lost = lost_sender.clone();
        let connection_task = tokio::spawn(async move {
            // Ends when the socket closes, for whatever reason.
            let _ = connection.await;
            let _ = connection_lost.send(true);
        });
        loop {
            let params: [&(dyn tokio_postgres::types::ToSql + Sync); 1] = [&key];
            let attempt =
                tokio::time::timeout(query_timeout, client.query_one("SELECT pg_try_advisory_lock($1)", &params));
            match attempt.await {
                Ok(Ok(row)) => {
                    let acquired: bool = row.try_get(0).map_err(|error| error::from_postgres(&error))?;
                    if acquired {
                        break;
                    }
                }
                Ok(Err(error)) => {
                    connection_task.abort();
                    return Err(error::from_postgres(&error));
                }
                Err(_elapsed) => {
                    connection_task.abort();
                    return Err(StorageError::timed_out("acquiring the singleton lock", query_timeout));
                }
            }
            tokio::time::sleep(poll_interval).await;
        }
        let client = Arc::new(client);
        let heartbeat_task = tokio::spawn(heartbeat(Arc::clone(&client), lost_sender, query_timeout));
        Ok(SingletonLock { key, _client: client, lost, tasks: [connection_task, heartbeat_task] })
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
