//! State fan-out under pressure: a client that never reads does not delay the others (their
//! states arrive on the tick, measured by tick numbers), only ever gets the newest state when it
//! reads again, and graceful shutdown closes every socket with 1001.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::{Duration, Instant};

use common::{close_code, next_json, next_of_type, send_json, with_game};
use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_never_reads_does_not_delay_the_others() {
    with_game(|game| async move {
        // 1,400 ships make each state about 125 KB (as big as the full summaries of 400 made them):
        // a stalled client fills its socket in a second, and the few megabytes the kernel buffers
        // hold no more than a couple of dozen states.
        game.spawn_crowd(1_400).await;
        let reader = game.register("reader").await;
        let sleeper = game.register("sleeper").await;
        let mut stalled = Vec::new();
        for _ in 0..3 {
            let mut socket = game.connect_with_tiny_receive_buffer().await;
            send_json(&mut socket, json!({"type": "auth", "token": sleeper["token"]})).await;
            stalled.push(socket);
        }
        let (mut socket, _) = game.connect_authenticated(reader["token"].as_str().unwrap()).await;

        let mut lags = Vec::new();
        let mut ticks = Vec::new();
        let first_frame = game.gateway.latest_frame().unwrap().sequence;
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            let state = next_of_type(&mut socket, "state").await;
            let tick = state["tick"].as_u64().unwrap();
            let newest = game.gateway.latest_frame().unwrap().tick;
            lags.push(newest - tick);
            ticks.push(tick);
        }
        // Every frame the gateway published meanwhile reached the reader (on a loaded machine
        // the tick loop may catch up, and the gateway then publishes at most 10 frames a second).
        let published = game.gateway.latest_frame().unwrap().sequence - first_frame;
        assert!(ticks.len() as u64 + 2 >= published, "{} states of {published} frames", ticks.len());
        let late = lags.iter().filter(|lag| **lag > 1).count();
        assert!(late * 20 <= lags.len(), "states a tick or more behind: {late} of {}: {lags:?}", lags.len());

        // The stalled clients are still connected, holding nothing but the newest state: reading
        // now, one of them sees the ticks jump (older states were dropped, never queued).
        assert_eq!(game.gateway.connection_count(), 4);
        let mut stalled_socket = stalled.pop().unwrap();
        let mut seen = Vec::new();
        let newest = game.gateway.latest_frame().unwrap().tick;
        while seen.last().is_none_or(|tick| tick + 2 < newest) {
            match tokio::time::timeout(Duration::from_secs(10), stalled_socket.next()).await.unwrap() {
                Some(Ok(Message::Text(text))) => {
                    let message: Value = serde_json::from_str(&text).unwrap();
                    if message["type"] == "state" {
                        seen.push(message["tick"].as_u64().unwrap());
                    }
                }
                Some(Ok(_)) => {}
                other => panic!("the stalled client was dropped: {other:?}"),
            }
        }
        let jumps = seen.windows(2).filter(|pair| pair[1] > pair[0] + 1).count();
        assert!(jumps >= 1, "a stalled client skips states: {seen:?}");
        assert!(seen.len() < 60, "a stalled client is not sent a backlog: {} states", seen.len());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_closes_websockets_with_1001() {
    with_game(|game| async move {
        let session = game.register("stayer").await;
        let (mut socket, _) = game.connect_authenticated(session["token"].as_str().unwrap()).await;
        assert_eq!(next_json(&mut socket).await["type"], "roster");
        assert_eq!(next_json(&mut socket).await["type"], "state");
        let mut unauthenticated = game.connect(None).await;
        game.shutdown();
        assert_eq!(close_code(&mut socket, Duration::from_secs(5)).await, Some(1001));
        assert_eq!(close_code(&mut unauthenticated, Duration::from_secs(5)).await, Some(1001));
    })
    .await;
}
