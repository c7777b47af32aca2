//! The gateway over the machine's real Redis (its own key space): it follows `tick.completed`
//! there, fans the published state out, and commands go through the Redis command stream.
#![allow(clippy::unwrap_used)]

mod common;

use common::{next_of_type, send_json, test_config, unique_suffix, with_game_on};
use galaxy_storage::{EventBus, RedisConfig, RedisStore};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn states_and_commands_flow_through_redis() {
    let redis =
        RedisStore::connect(&RedisConfig::new("redis://127.0.0.1:6379", format!("gateway-{}", unique_suffix())))
            .await
            .unwrap();
    with_game_on(EventBus::Redis(redis.clone()), test_config(), |game| async move {
        let session = game.register("redis_pilot").await;
        let ship_id = session["ship_id"].as_str().unwrap().to_owned();
        let (mut socket, _) = game.connect_authenticated(session["token"].as_str().unwrap()).await;
        let mut ticks = Vec::new();
        while ticks.len() < 5 {
            ticks.push(next_of_type(&mut socket, "state").await["tick"].as_u64().unwrap());
        }
        assert!(ticks.windows(2).all(|pair| pair[1] > pair[0]), "{ticks:?}");
        send_json(&mut socket, json!({"type": "control", "id": 1, "throttle": 0.75})).await;
        assert_eq!(next_of_type(&mut socket, "ack").await["id"], 1);
        loop {
            let state = next_of_type(&mut socket, "state").await;
            if state["own_ship"]["id"] == ship_id.as_str() && state["own_ship"]["throttle"] == 0.75 {
                break;
            }
        }
    })
    .await;
    redis.delete_all_keys().await.unwrap();
}
