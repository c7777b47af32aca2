//! A store that is down, hung or gone fails with `StorageError::Unavailable` within the configured
//! timeouts — never a hang — and the Redis store carries on by itself once the server is back.
//!
//! Outages are staged with closed ports, silent listeners and a proxy in front of the machine's
//! servers, never by stopping the shared servers other tests use.

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::{FlakyProxy, ProxyMode, silent_server, test_redis_config, with_empty_database, within};
use galaxy_storage::{GameConfig, PostgresConfig, PostgresStore, RedisConfig, RedisStore, StorageError, StreamName};

const POSTGRES_ADDRESS: &str = "127.0.0.1:5432";
const REDIS_ADDRESS: &str = "127.0.0.1:6379";
/// Nothing listens on port 1 here.
const CLOSED_PORT: &str = "127.0.0.1:1";

fn short_postgres_timeouts(url: String) -> PostgresConfig {
    PostgresConfig {
        connect_timeout: Duration::from_millis(500),
        pool_wait_timeout: Duration::from_millis(500),
        recycle_timeout: Duration::from_millis(500),
        query_timeout: Duration::from_millis(800),
        ..PostgresConfig::new(url)
    }
}

fn short_redis_timeouts(address: SocketAddr) -> RedisConfig {
    RedisConfig {
        connect_timeout: Duration::from_millis(500),
        command_timeout: Duration::from_millis(500),
        reconnect_max_delay: Duration::from_millis(200),
        ..RedisConfig { url: format!("redis://{address}"), ..test_redis_config() }
    }
}

fn assert_unavailable<T: std::fmt::Debug>(result: Result<T, StorageError>) {
    match result {
        Err(StorageError::Unavailable(_)) => {}
        other => panic!("expected Unavailable, got {other:?}"),
    }
}

#[tokio::test]
async fn postgres_on_a_closed_port_is_unavailable_at_once() {
    let config = short_postgres_timeouts(format!("postgres://postgres@{CLOSED_PORT}/galaxy"));
    let started = Instant::now();
    assert_unavailable(within(Duration::from_secs(5), PostgresStore::connect(&config)).await);
    assert!(started.elapsed() < Duration::from_secs(4), "took {:?}", started.elapsed());
}

#[tokio::test]
async fn postgres_that_never_answers_is_unavailable_within_the_connect_timeout() {
    let (address, _server) = silent_server().await;
    let config = short_postgres_timeouts(format!("postgres://postgres@{address}/galaxy"));
    let started = Instant::now();
    assert_unavailable(within(Duration::from_secs(5), PostgresStore::connect(&config)).await);
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(450) && took < Duration::from_secs(4), "took {took:?}");
}

#[tokio::test]
async fn postgres_hanging_mid_run_fails_calls_within_the_query_timeout() {
    with_empty_database(|direct| async move {
        let upstream: SocketAddr = POSTGRES_ADDRESS.parse().expect("address");
        let proxy = FlakyProxy::start(upstream).await;
        let database = direct.url.rsplit('/').next().expect("database name").to_owned();
        let config = short_postgres_timeouts(format!("postgres://postgres@{}/{database}", proxy.address));
        let store = PostgresStore::connect(&config).await.expect("connect through the proxy");
        store.ping().await.expect("ping");

        proxy.set_mode(ProxyMode::Hang);
        for _ in 0..2 {
            let started = Instant::now();
            assert_unavailable(within(Duration::from_secs(5), store.load_config()).await);
            let took = started.elapsed();
            assert!(took < Duration::from_secs(3), "took {took:?} with an 800 ms query timeout");
        }

        // The server comes back: fresh connections replace the broken ones and calls succeed again.
        proxy.set_mode(ProxyMode::Cut);
        proxy.set_mode(ProxyMode::Forward);
        let recovered = within(Duration::from_secs(10), async {
            loop {
                match store
                    .save_config(&GameConfig { tick_rate_hz: 2.0, time_scale: 1.0, registrations_open: true })
                    .await
                {
                    Ok(saved) => break saved,
                    Err(StorageError::Unavailable(_)) => tokio::time::sleep(Duration::from_millis(100)).await,
                    Err(other) => panic!("unexpected error while recovering: {other}"),
                }
            }
        })
        .await;
        assert_eq!(recovered.config.tick_rate_hz, 2.0);
        store.close();
    })
    .await;
}

#[tokio::test]
async fn a_database_that_disappears_makes_calls_unavailable_not_internal() {
    with_empty_database(|config| async move {
        let store = PostgresStore::connect(&short_postgres_timeouts(config.url.clone())).await.expect("connect");
        let database = config.url.rsplit('/').next().expect("database name").to_owned();
        let (admin, connection) =
            tokio_postgres::connect(common::POSTGRES_ADMIN_URL, tokio_postgres::NoTls).await.expect("admin connection");
        let connection_task = tokio::spawn(connection);
        admin.batch_execute(&format!("DROP DATABASE {database} WITH (FORCE)")).await.expect("drop the database");
        drop(admin);
        let _ = connection_task.await;

        let started = Instant::now();
        assert_unavailable(within(Duration::from_secs(5), store.load_config()).await);
        assert!(started.elapsed() < Duration::from_secs(4), "took {:?}", started.elapsed());
        store.close();
    })
    .await;
}

#[tokio::test]
async fn redis_on_a_closed_port_is_unavailable_at_once() {
    let config = short_redis_timeouts(CLOSED_PORT.parse().expect("address"));
    let started = Instant::now();
    assert_unavailable(within(Duration::from_secs(5), RedisStore::connect(&config)).await);
    assert!(started.elapsed() < Duration::from_secs(4), "took {:?}", started.elapsed());
}

#[tokio::test]
async fn redis_that_never_answers_is_unavailable_within_the_connect_timeout() {
    let (address, _server) = silent_server().await;
    let config = short_redis_timeouts(address);
    let started = Instant::now();
    assert_unavailable(within(Duration::from_secs(5), RedisStore::connect(&config)).await);
    assert!(started.elapsed() < Duration::from_secs(5), "took {:?}", started.elapsed());
}

#[tokio::test]
async fn redis_outages_fail_commands_fast_and_the_store_reconnects_by_itself() {
    let proxy = FlakyProxy::start(REDIS_ADDRESS.parse().expect("address")).await;
    let config = short_redis_timeouts(proxy.address);
    let store = RedisStore::connect(&config).await.expect("connect through the proxy");
    let outcome = within(Duration::from_secs(30), async {
        store.write_state(&b"before"[..]).await.expect("write");

        proxy.set_mode(ProxyMode::Hang);
        let started = Instant::now();
        assert_unavailable(store.write_state(&b"during"[..]).await);
        assert_unavailable(store.append(StreamName::TickCompleted, &[("tick", b"1")]).await);
        let took = started.elapsed();
        assert!(took < Duration::from_secs(5), "two commands took {took:?} with a 500 ms command timeout");

        proxy.set_mode(ProxyMode::Cut);
        tokio::time::sleep(Duration::from_millis(200)).await;
        proxy.set_mode(ProxyMode::Forward);
        // Ticking resumes within seconds: the reconnect policy brings the connection back.
        within(Duration::from_secs(10), async {
            while store.write_state(&b"after"[..]).await.is_err() {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
        .await;
        assert_eq!(store.read_state().await.expect("read").as_deref(), Some(&b"after"[..]));
    })
    .await;
    let _ = store.delete_all_keys().await;
    let _ = store.quit().await;
    outcome
}
