//! Redis killed (SIGKILL, nothing persisted) and restarted on the same port mid-run: ticking
//! resumes within seconds, the PostgreSQL tick log holds every tick number once (it never
//! depended on Redis), physics publishes the state again and a WebSocket client of the gateway
//! gets states again. The test runs its own `redis-server` on a spare port.
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use galaxy_fault_tests::{
    Game, OwnRedis, Service, Settings, binaries, duplicates_and_gaps, eventually, fault_test, logged_ticks,
    streamed_ticks,
};
use galaxy_proto::v1;
use galaxy_proto::v1::tick_engine_client::TickEngineClient;
use galaxy_storage::{RedisConfig, RedisStore};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

/// How long Redis stays down: past the services' 2 s Redis command timeout.
const OUTAGE: Duration = Duration::from_secs(6);

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn status(engine: &Service) -> v1::TickStatus {
    TickEngineClient::new(engine.channel()).get_status(v1::GetStatusRequest {}).await.unwrap().into_inner()
}

/// The published state's tick, read straight from Redis (`None` while Redis is down or empty).
async fn published_tick(redis_url: &str, key_prefix: &str) -> Option<u64> {
    let store = RedisStore::connect(&RedisConfig::new(redis_url, key_prefix)).await.ok()?;
    let state = store.read_state().await.ok().flatten();
    let _ = store.quit().await;
    let state: Value = serde_json::from_slice(&state?).ok()?;
    state["tick"].as_u64()
}

async fn connect(gateway: &Service, token: &str) -> Ws {
    let (mut socket, _) =
        tokio_tungstenite::connect_async(format!("ws://127.0.0.1:{}/ws", gateway.port)).await.unwrap();
    socket.send(Message::text(json!({"type": "auth", "token": token}).to_string())).await.unwrap();
    socket
}

/// The next `state` message's tick within `limit`: `Ok(None)` if none came, `Err` if the
/// connection closed (with its close code, if any).
async fn next_state_tick(socket: &mut Ws, limit: Duration) -> Result<Option<u64>, Option<u16>> {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        match tokio::time::timeout_at(deadline, socket.next()).await {
            Err(_) => return Ok(None),
            Ok(Some(Ok(Message::Text(text)))) => {
                let message: Value = serde_json::from_str(&text).unwrap();
                if message["type"] == "state" {
                    return Ok(message["tick"].as_u64());
                }
            }
            Ok(Some(Ok(Message::Close(frame)))) => return Err(frame.map(|frame| u16::from(frame.code))),
            Ok(Some(Ok(_))) => {}
            Ok(Some(Err(_)) | None) => return Err(None),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ticking_and_client_states_resume_after_redis_is_killed_and_restarted() {
    fault_test(binaries!(), Settings::default(), |mut deployment| async move {
        let mut redis = OwnRedis::start(&deployment.logs).await;
        deployment.redis_url = redis.url();
        let Game { physics, tick_engine: engine, players, galaxy, gateway } = deployment.start_game().await;

        let http = reqwest::Client::new();
        let session: Value = http
            .post(format!("http://127.0.0.1:{}/api/auth/register", gateway.port))
            .json(&json!({"username": "survivor", "password": "correct horse battery"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let token = session["token"].as_str().unwrap().to_owned();
        let mut socket = connect(&gateway, &token).await;
        let mut before = 0;
        while before < 10 {
            before = next_state_tick(&mut socket, Duration::from_secs(5)).await.unwrap().expect("states every tick");
        }

        let at_kill = status(&engine).await;
        redis.kill().await;
        let killed = Instant::now();
        // Redis stays down for a while, longer than the 2 s command timeout. What do the services do meanwhile?
        let mut states_during_outage = 0;
        let mut closed_during_outage = None;
        while killed.elapsed() < OUTAGE {
            match next_state_tick(&mut socket, Duration::from_millis(200)).await {
                Ok(Some(_)) => states_during_outage += 1,
                Ok(None) => {}
                Err(code) => {
                    closed_during_outage = Some(code);
                    break;
                }
            }
        }
        let remaining = OUTAGE.saturating_sub(killed.elapsed());
        tokio::time::sleep(remaining).await;
        let during = status(&engine).await;
        println!(
            "FIGURE redis_restart: in {OUTAGE:?} without Redis: ticks {} -> {} ({} unrecorded in the stream, {} failed, {:.1} game seconds slipped), {states_during_outage} WebSocket states, connection closed: {closed_during_outage:?}",
            at_kill.tick,
            during.tick,
            during.unrecorded_ticks - at_kill.unrecorded_ticks,
            during.failed_ticks - at_kill.failed_ticks,
            during.slipped_game_seconds - at_kill.slipped_game_seconds,
        );

        redis.restart().await;
        let restarted = Instant::now();
        let streamed_again = eventually("tick.completed entries again", Duration::from_secs(15), || async {
            let ticks = streamed_ticks(&deployment.redis_url, &deployment.key_prefix).await;
            ticks.last().map(|last| last.tick)
        })
        .await;
        let stream_back = restarted.elapsed();
        let published_again =
            eventually("the state published again", Duration::from_secs(15), || async {
                published_tick(&deployment.redis_url, &deployment.key_prefix).await
            })
            .await;
        let state_back = restarted.elapsed();
        // The client: on the same connection if the gateway kept it, else on a new one (as the
        // web client reconnects).
        if closed_during_outage.is_some() {
            socket = connect(&gateway, &token).await;
        }
        let client_tick = loop {
            match next_state_tick(&mut socket, Duration::from_secs(15)).await {
                Ok(Some(tick)) if tick > during.tick => break tick,
                Ok(Some(_)) => {}
                Ok(None) => panic!("no WebSocket state within 15 s of Redis' restart"),
                Err(code) => {
                    println!("FIGURE redis_restart: the WebSocket closed after the restart ({code:?}); reconnecting");
                    socket = connect(&gateway, &token).await;
                }
            }
        };
        let client_back = restarted.elapsed();
        println!(
            "FIGURE redis_restart: after restart: stream at tick {streamed_again} in {:.2} s, state key at tick {published_again} in {:.2} s, WebSocket state at tick {client_tick} in {:.2} s",
            stream_back.as_secs_f64(),
            state_back.as_secs_f64(),
            client_back.as_secs_f64()
        );
        assert!(stream_back < Duration::from_secs(10), "ticking resumed only after {stream_back:?}");
        assert!(client_back < Duration::from_secs(10), "clients got states only after {client_back:?}");

        // A good run of ticks after the restart, then stop between ticks and read the logs.
        let target = status(&engine).await.tick + 20;
        eventually("ticking goes on", Duration::from_secs(10), || async {
            (status(&engine).await.tick > target).then_some(())
        })
        .await;
        let mut engine = engine;
        engine.terminate(Duration::from_secs(10)).await;
        let logged = logged_ticks(&deployment).await;
        let (duplicates, gaps) = duplicates_and_gaps(&logged);
        assert_eq!(logged.first(), Some(&1));
        assert!(duplicates.is_empty(), "duplicate tick numbers in the tick log: {duplicates:?}");
        assert!(gaps.is_empty(), "tick numbers missing from the tick log: {gaps:?}");
        let streamed: Vec<u64> =
            streamed_ticks(&deployment.redis_url, &deployment.key_prefix).await.iter().map(|tick| tick.tick).collect();
        let (duplicates, stream_gaps) = duplicates_and_gaps(&streamed);
        assert!(duplicates.is_empty(), "duplicate tick numbers in tick.completed: {duplicates:?}");
        println!(
            "FIGURE redis_restart: tick log 1..={} complete; the new stream holds {}..={} ({} gaps); ticks {}..{} were streamed to the Redis that died",
            logged.last().unwrap(),
            streamed.first().unwrap(),
            streamed.last().unwrap(),
            stream_gaps.len(),
            1,
            at_kill.tick
        );
        drop((physics, players, galaxy, gateway));
    })
    .await;
}
