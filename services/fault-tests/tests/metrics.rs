//! Every service's Prometheus `/metrics` (on its `METRICS_ADDR`) after a few ticks, a
//! registration, a failed and a good login, a WebSocket client and a configuration change: the
//! series the admin dashboard and alerts read are there, as histograms with buckets (so pods
//! aggregate), with sane values.
#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use galaxy_fault_tests::{Game, Service, Settings, binaries, eventually, fault_test};
use galaxy_proto::v1;
use galaxy_proto::v1::galaxy_client::GalaxyClient;
use galaxy_proto::v1::tick_engine_client::TickEngineClient;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

const PASSWORD: &str = "correct horse battery";

/// One scrape: `name{labels}` (labels as exported, sorted by the exporter) → value.
#[derive(Debug)]
struct Scrape {
    service: String,
    samples: HashMap<String, f64>,
}

impl Scrape {
    async fn of(service: &Service) -> Scrape {
        let text = reqwest::get(format!("http://127.0.0.1:{}/metrics", service.ops_port))
            .await
            .unwrap()
            .error_for_status()
            .unwrap()
            .text()
            .await
            .unwrap();
        let samples = text
            .lines()
            .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
            .map(|line| {
                let (series, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("sample line: {line}"));
                let value = match value {
                    "+Inf" => f64::INFINITY,
                    "-Inf" => f64::NEG_INFINITY,
                    other => other.parse().unwrap_or_else(|_| panic!("sample value: {line}")),
                };
                (series.to_owned(), value)
            })
            .collect();
        Scrape { service: service.name().to_owned(), samples }
    }

    /// The value of `series` (`name` or `name{label="value",...}`), which must be there.
    fn value(&self, series: &str) -> f64 {
        *self.samples.get(series).unwrap_or_else(|| {
            let mut names: Vec<&String> = self.samples.keys().collect();
            names.sort();
            panic!("{} exports no {series}; it exports {names:#?}", self.service)
        })
    }

    /// Asserts `series` is there and within `range`.
    fn assert_within(&self, series: &str, range: std::ops::RangeInclusive<f64>) -> f64 {
        let value = self.value(series);
        assert!(range.contains(&value), "{} {series} = {value}, expected within {range:?}", self.service);
        value
    }

    /// Asserts a histogram with buckets (not a summary) that has seen at least `count` values.
    fn assert_histogram(&self, name: &str, labels: &str, count: f64) {
        let braces = |extra: &str| {
            let all: Vec<&str> = [labels, extra].into_iter().filter(|part| !part.is_empty()).collect();
            if all.is_empty() { String::new() } else { format!("{{{}}}", all.join(",")) }
        };
        let seen = self.assert_within(&format!("{name}_count{}", braces("")), count..=f64::MAX);
        let everything = self.value(&format!("{name}_bucket{}", braces("le=\"+Inf\"")));
        assert_eq!(everything, seen, "{} {name}: the +Inf bucket holds every value", self.service);
        let sum = self.value(&format!("{name}_sum{}", braces("")));
        assert!(sum.is_finite() && sum >= 0.0, "{} {name}_sum = {sum}", self.service);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_service_exports_its_series_with_sane_values_after_a_few_ticks() {
    fault_test(binaries!(), Settings::default(), |mut deployment| async move {
        // Snapshots every 10 ticks (half a second here), so the snapshot age is measured too.
        deployment.set_env("SNAPSHOT_EVERY_TICKS", "10");
        let Game { physics, tick_engine: engine, players, galaxy, gateway } = deployment.start_game().await;

        let http = reqwest::Client::new();
        let api = |path: &str| format!("http://127.0.0.1:{}/api/auth/{path}", gateway.port);
        let credentials = json!({"username": "watched", "password": PASSWORD});
        let registered = http.post(api("register")).json(&credentials).send().await.unwrap();
        assert!(registered.status().is_success(), "register: {}", registered.status());
        let wrong = json!({"username": "watched", "password": "not the password"});
        assert_eq!(http.post(api("login")).json(&wrong).send().await.unwrap().status(), 401);
        let session: Value = http.post(api("login")).json(&credentials).send().await.unwrap().json().await.unwrap();
        let token = session["token"].as_str().unwrap().to_owned();

        let (mut socket, _) =
            tokio_tungstenite::connect_async(format!("ws://127.0.0.1:{}/ws", gateway.port)).await.unwrap();
        socket.send(Message::text(json!({"type": "auth", "token": token}).to_string())).await.unwrap();
        let mut states = 0;
        while states < 3 {
            let message = tokio::time::timeout(Duration::from_secs(5), socket.next()).await.unwrap().unwrap().unwrap();
            if let Message::Text(text) = message
                && serde_json::from_str::<Value>(&text).unwrap()["type"] == "state"
            {
                states += 1;
            }
        }
        GalaxyClient::new(galaxy.channel())
            .update_config(v1::UpdateConfigRequest { registrations_open: Some(true), ..Default::default() })
            .await
            .unwrap();
        let mut engine_client = TickEngineClient::new(engine.channel());
        eventually("20 ticks and a snapshot", Duration::from_secs(20), || {
            let mut engine_client = engine_client.clone();
            async move {
                let status = engine_client.get_status(v1::GetStatusRequest {}).await.ok()?.into_inner();
                (status.tick >= 20 && status.last_snapshot_tick > 0).then_some(())
            }
        })
        .await;
        let ticked = engine_client.get_status(v1::GetStatusRequest {}).await.unwrap().into_inner();

        let tick_engine = Scrape::of(&engine).await;
        let ticks = tick_engine.assert_within("galaxy_ticks_total", 20.0..=f64::MAX);
        assert!(ticks <= ticked.tick as f64 + 1.0, "no more ticks counted than happened: {ticks} vs {}", ticked.tick);
        tick_engine.assert_within("galaxy_tick_number", 20.0..=f64::MAX);
        for phase in ["commands", "step", "publish"] {
            tick_engine.assert_histogram("galaxy_tick_phase_seconds", &format!("phase=\"{phase}\""), 20.0);
        }
        tick_engine.assert_histogram("galaxy_tick_duration_seconds", "", 20.0);
        tick_engine.assert_histogram("galaxy_tick_start_lag_seconds", "", 20.0);
        tick_engine.assert_within("galaxy_tick_configured_rate_hz", 20.0..=20.0);
        tick_engine.assert_within("galaxy_tick_time_scale", 20.0..=20.0);
        // Measured over the last seconds: above zero, never above the configured rate by much.
        tick_engine.assert_within("galaxy_tick_actual_rate_hz", 0.5..=25.0);
        tick_engine.assert_within("galaxy_tick_paused", 0.0..=0.0);
        tick_engine.assert_within("galaxy_tick_ticks_behind", 0.0..=20.0);
        let catch_up = tick_engine.assert_within("galaxy_tick_catch_up_ticks_total", 0.0..=ticks);
        let slipped = tick_engine.assert_within("galaxy_tick_slipped_game_seconds", 0.0..=f64::MAX);
        tick_engine.assert_within("galaxy_tick_failures_total", 0.0..=0.0);
        tick_engine.assert_within("galaxy_tick_unrecorded_total", 0.0..=0.0);
        // Relative drift of the solar system over a few game minutes: tiny, and finite.
        tick_engine.assert_within("galaxy_tick_energy_drift", -1e-6..=1e-6);
        tick_engine.assert_within("galaxy_tick_momentum_drift", -1e-6..=1e-6);
        tick_engine.assert_within("galaxy_snapshots_total", 1.0..=f64::MAX);
        tick_engine.assert_within("galaxy_snapshot_failures_total", 0.0..=0.0);
        tick_engine.assert_within("galaxy_snapshot_age_seconds", 0.0..=5.0);

        let physics_scrape = Scrape::of(&physics).await;
        physics_scrape.assert_within("galaxy_physics_ticks_total", 20.0..=f64::MAX);
        for phase in ["commands", "step", "store"] {
            physics_scrape.assert_histogram("galaxy_physics_phase_seconds", &format!("phase=\"{phase}\""), 20.0);
        }

        let players_scrape = Scrape::of(&players).await;
        players_scrape.assert_within("galaxy_players_registrations_total{outcome=\"ok\"}", 1.0..=1.0);
        players_scrape.assert_within("galaxy_players_logins_total{outcome=\"ok\"}", 1.0..=1.0);
        players_scrape.assert_within("galaxy_players_logins_total{outcome=\"refused\"}", 1.0..=1.0);

        let galaxy_scrape = Scrape::of(&galaxy).await;
        galaxy_scrape.assert_within("galaxy_config_updates_total", 1.0..=1.0);
        galaxy_scrape.assert_within("galaxy_config_tick_rate_hz", 20.0..=20.0);
        galaxy_scrape.assert_within("galaxy_config_registrations_open", 1.0..=1.0);

        let gateway_scrape = Scrape::of(&gateway).await;
        gateway_scrape.assert_within("galaxy_gateway_players_online", 1.0..=1.0);
        gateway_scrape.assert_within("galaxy_gateway_ws_connections", 1.0..=1.0);
        gateway_scrape.assert_within("galaxy_gateway_ws_connections_total", 1.0..=1.0);
        gateway_scrape.assert_within("galaxy_gateway_logins_total", 1.0..=1.0);
        gateway_scrape.assert_within("galaxy_gateway_login_failures_total", 1.0..=1.0);
        gateway_scrape.assert_within("galaxy_gateway_ws_states_sent_total", 3.0..=f64::MAX);
        gateway_scrape.assert_within("galaxy_gateway_ws_states_dropped_total", 0.0..=f64::MAX);
        gateway_scrape.assert_within("galaxy_gateway_ws_stalled_total", 0.0..=0.0);

        // The player leaves: the gauges follow.
        socket.close(None).await.unwrap();
        eventually("the player offline", Duration::from_secs(5), || async {
            let scrape = Scrape::of(&gateway).await;
            (scrape.value("galaxy_gateway_players_online") == 0.0 && scrape.value("galaxy_gateway_ws_connections") == 0.0)
                .then_some(())
        })
        .await;
        println!(
            "FIGURE metrics: {ticks} ticks counted by tick {}, {catch_up} catch-up ticks, {slipped} game seconds slipped",
            ticked.tick
        );
    })
    .await;
}
