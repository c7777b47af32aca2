//! The PostgreSQL repository keeps exactly what it is given and enforces the schema's rules as
//! typed errors: taken names and repeated ticks are `Conflict`, values breaking a rule are
//! `Invalid`, missing records are `NotFound` — and a rejected write changes nothing.
//!
//! Runs against the machine's PostgreSQL at 127.0.0.1:5432, one fresh database per test, and then
//! against the in-memory database of the one-process mode, which must follow the same rules.

mod common;

use std::time::{Duration, SystemTime};

use common::{with_each_database, with_empty_database, with_test_database};
use galaxy_storage::{Database, GameConfig, NewSnapshot, PlayerId, PostgresStore, Role, SnapshotId, StorageError};

const HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$aGFzaGhhc2hoYXNoaGFzaGhhc2g";

fn token_hash(seed: u8) -> Vec<u8> {
    (0..32).map(|index| seed.wrapping_mul(31).wrapping_add(index)).collect()
}

async fn new_player(store: &Database, username: &str) -> PlayerId {
    store.create_player(username, HASH, Role::Player).await.expect("create player").id
}

#[tokio::test]
async fn migrations_apply_once_and_reapplying_is_a_no_op() {
    with_empty_database(|config| async move {
        let store = PostgresStore::connect(&config).await.expect("first start migrates");
        assert_eq!(store.migrate().await.expect("re-run"), Vec::<String>::new());
        let restarted = PostgresStore::connect(&config).await.expect("a restart finds the schema current");
        assert_eq!(restarted.migrate().await.expect("re-run"), Vec::<String>::new());
        // The schema is usable, with the configuration row the first migration inserts.
        let stored = restarted.load_config().await.expect("load config");
        assert_eq!(stored.config, GameConfig { tick_rate_hz: 1.0, time_scale: 1.0, registrations_open: true });
        store.close();
        restarted.close();
    })
    .await;
}

#[tokio::test]
async fn services_starting_together_migrate_exactly_once() {
    with_empty_database(|config| async move {
        let (first, second) = tokio::join!(PostgresStore::connect(&config), PostgresStore::connect(&config));
        let (first, second) = (first.expect("first start"), second.expect("second start"));
        // Both started on the schema; neither re-applies anything.
        assert!(first.migrate().await.expect("re-run").is_empty());
        assert!(second.migrate().await.expect("re-run").is_empty());
        first.close();
        second.close();
    })
    .await;
}

#[tokio::test]
async fn usernames_outside_the_allowed_pattern_are_invalid() {
    with_each_database(|store| async move {
        let too_long = "a".repeat(21);
        for bad in ["ab", too_long.as_str(), "has space", "dash-ed", "émile", "trailing\n", "nul\0byte", ""] {
            let result = store.create_player(bad, HASH, Role::Player).await;
            assert!(matches!(result, Err(StorageError::Invalid(_))), "{bad:?} gave {result:?}");
        }
        for good in ["abc", "A_1", &"z".repeat(20)] {
            store.create_player(good, HASH, Role::Player).await.unwrap_or_else(|error| panic!("{good:?}: {error}"));
        }
    })
    .await;
}

#[tokio::test]
async fn taken_usernames_conflict_even_in_another_case() {
    with_each_database(|store| async move {
        new_player(&store, "alice").await;
        for taken in ["alice", "Alice", "ALICE"] {
            let result = store.create_player(taken, HASH, Role::Player).await;
            assert!(matches!(result, Err(StorageError::Conflict(_))), "{taken:?} gave {result:?}");
        }
    })
    .await;
}

#[tokio::test]
async fn password_hashes_must_be_argon2id_phc_strings() {
    with_each_database(|store| async move {
        for bad in ["hunter2", "$argon2i$v=19$m=16,t=2,p=1$c2FsdA$aGFzaA", "$2b$12$bcryptbcryptbcrypt"] {
            let result = store.create_player("bob", bad, Role::Player).await;
            assert!(matches!(result, Err(StorageError::Invalid(_))), "{bad:?} gave {result:?}");
        }
        assert_eq!(
            store.find_player_by_username("bob").await.expect("lookup"),
            None,
            "a rejected write changes nothing"
        );
    })
    .await;
}

#[tokio::test]
async fn players_are_found_by_username_ignoring_case_and_by_id() {
    with_each_database(|store| async move {
        let created = store.create_player("Carol_7", HASH, Role::Admin).await.expect("create");
        assert_eq!(created.username, "Carol_7");
        assert_eq!(created.role, Role::Admin);
        assert!(!created.banned);
        assert_eq!(created.password_hash, HASH);
        let found = store.find_player_by_username("carol_7").await.expect("lookup").expect("found");
        assert_eq!(found, created);
        assert_eq!(store.find_player(created.id).await.expect("lookup"), Some(created.clone()));
        assert_eq!(store.find_player_by_username("nobody").await.expect("lookup"), None);
        assert!(!format!("{created:?}").contains("argon2id"), "Debug must not print the hash");
    })
    .await;
}

#[tokio::test]
async fn sessions_are_found_until_revoked_or_expired() {
    with_each_database(|store| async move {
        let player = new_player(&store, "dave").await;
        let now = SystemTime::now();
        let expires_at = now + Duration::from_secs(24 * 3600);
        let created = store.create_session(&token_hash(1), player, expires_at).await.expect("create session");
        assert_eq!(created.player_id, player);
        assert!(created.is_active_at(now));

        let found = store.find_active_session(&token_hash(1), now).await.expect("find").expect("active");
        assert_eq!(found.token_hash, token_hash(1));
        // Microsecond precision in the database: within a millisecond of what was asked.
        let stored_expiry = found.expires_at.duration_since(now).expect("in the future");
        assert!(stored_expiry.abs_diff(Duration::from_secs(24 * 3600)) < Duration::from_millis(1));

        let after_expiry = expires_at + Duration::from_secs(1);
        assert_eq!(store.find_active_session(&token_hash(1), after_expiry).await.expect("find"), None);
        assert_eq!(store.find_active_session(&token_hash(2), now).await.expect("find"), None, "unknown token");

        store.revoke_session(&token_hash(1)).await.expect("revoke");
        store.revoke_session(&token_hash(1)).await.expect("revoking twice is fine");
        assert_eq!(store.find_active_session(&token_hash(1), now).await.expect("find"), None);
        assert!(matches!(store.revoke_session(&token_hash(9)).await, Err(StorageError::NotFound(_))));

        let duplicate = store.create_session(&token_hash(1), player, expires_at).await;
        assert!(matches!(duplicate, Err(StorageError::Conflict(_))), "{duplicate:?}");
        let short = store.create_session(&[1, 2, 3], player, expires_at).await;
        assert!(matches!(short, Err(StorageError::Invalid(_))), "{short:?}");
        let orphan = store.create_session(&token_hash(3), PlayerId(i64::MAX), expires_at).await;
        assert!(matches!(orphan, Err(StorageError::NotFound(_))), "{orphan:?}");

        assert_eq!(store.delete_ended_sessions(now).await.expect("housekeeping"), 1, "the revoked one");
    })
    .await;
}

#[tokio::test]
async fn banning_revokes_every_session_of_the_player_only() {
    with_each_database(|store| async move {
        let (eve, frank) = (new_player(&store, "eve").await, new_player(&store, "frank").await);
        let now = SystemTime::now();
        let later = now + Duration::from_secs(3600);
        for (seed, player) in [(1, eve), (2, eve), (3, frank)] {
            store.create_session(&token_hash(seed), player, later).await.expect("create session");
        }
        store.set_banned(eve, true).await.expect("ban");
        assert!(store.find_player(eve).await.expect("lookup").expect("exists").banned);
        for seed in [1, 2] {
            assert_eq!(store.find_active_session(&token_hash(seed), now).await.expect("find"), None);
        }
        assert!(store.find_active_session(&token_hash(3), now).await.expect("find").is_some(), "frank stays");

        store.set_banned(eve, false).await.expect("unban");
        assert!(!store.find_player(eve).await.expect("lookup").expect("exists").banned);
        assert_eq!(store.find_active_session(&token_hash(1), now).await.expect("find"), None, "stays logged out");
        assert!(matches!(store.set_banned(PlayerId(i64::MAX), true).await, Err(StorageError::NotFound(_))));
    })
    .await;
}

#[tokio::test]
async fn a_sighting_is_recorded_to_ten_seconds_and_only_for_that_player() {
    with_each_database(|store| async move {
        let (ivan, judy) = (new_player(&store, "ivan").await, new_player(&store, "judy").await);
        let seen = |player| {
            let store = store.clone();
            async move { store.find_player(player).await.expect("lookup").expect("exists").last_seen }
        };
        assert_eq!(seen(ivan).await, None, "never seen yet");
        // PostgreSQL keeps microseconds: compare at that resolution.
        let at = |seconds: u64| SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000 + seconds);
        store.touch_player(ivan, at(0)).await.expect("touch");
        assert_eq!(seen(ivan).await, Some(at(0)));
        store.touch_player(ivan, at(5)).await.expect("touch within the resolution");
        assert_eq!(seen(ivan).await, Some(at(0)), "no write within 10 s of the last");
        store.touch_player(ivan, at(11)).await.expect("touch after it");
        assert_eq!(seen(ivan).await, Some(at(11)));
        assert_eq!(seen(judy).await, None, "judy untouched");
        store.touch_player(PlayerId(i64::MAX), at(20)).await.expect("an unknown id changes nothing");
        let listed = store.list_players(10).await.expect("list");
        assert_eq!(listed.iter().find(|player| player.id == ivan).expect("ivan listed").last_seen, Some(at(11)));
    })
    .await;
}

#[tokio::test]
async fn ships_are_listed_per_owner_oldest_first() {
    with_each_database(|store| async move {
        let (grace, heidi) = (new_player(&store, "grace").await, new_player(&store, "heidi").await);
        let first = store.create_ship(grace, "fast_frigate", "Rocinante").await.expect("ship");
        let second = store.create_ship(grace, "hauler", "Canterbury ✦").await.expect("ship");
        store.create_ship(heidi, "fast_frigate", "Tachi").await.expect("ship");

        let ships = store.ships_of_player(grace).await.expect("list");
        assert_eq!(ships, vec![first, second]);
        assert_eq!(ships[1].name, "Canterbury ✦");
        assert!(store.ships_of_player(PlayerId(i64::MAX)).await.expect("list").is_empty());

        let orphan = store.create_ship(PlayerId(i64::MAX), "fast_frigate", "Ghost").await;
        assert!(matches!(orphan, Err(StorageError::NotFound(_))), "{orphan:?}");
        for (class_name, name) in [("Fast Frigate", "ok"), ("fast_frigate", ""), ("fast_frigate", &"n".repeat(65))] {
            let result = store.create_ship(grace, class_name, name).await;
            assert!(matches!(result, Err(StorageError::Invalid(_))), "{class_name:?}/{name:?} gave {result:?}");
        }
    })
    .await;
}

#[tokio::test]
async fn snapshots_round_trip_bytes_exactly() {
    with_each_database(|store| async move {
        assert_eq!(store.latest_snapshot().await.expect("latest"), None);
        // Every byte value, zeros included, in a megabyte that does not compress away.
        let engine_snapshot: Vec<u8> =
            (0..1_048_576u32).map(|index| (index.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
        let saved = store
            .save_snapshot(&NewSnapshot {
                tick: 42,
                game_time: 4_200.5,
                engine_snapshot: &engine_snapshot,
                checksum: "crc32:deadbeef",
            })
            .await
            .expect("save");
        assert_eq!((saved.tick, saved.game_time, saved.size_bytes), (42, 4_200.5, 1_048_576));
        let newer = store
            .save_snapshot(&NewSnapshot { tick: 43, game_time: 4_300.5, engine_snapshot: &[0], checksum: "c" })
            .await
            .expect("save");

        let by_id = store.snapshot_by_id(saved.id).await.expect("by id");
        assert_eq!(by_id.engine_snapshot, engine_snapshot);
        assert_eq!(by_id.summary, saved);
        let latest = store.latest_snapshot().await.expect("latest").expect("some");
        assert_eq!(latest.summary, newer);
        assert_eq!(latest.engine_snapshot, vec![0]);
        assert_eq!(store.list_snapshots(10).await.expect("list"), vec![newer.clone(), saved]);
        assert_eq!(store.list_snapshots(1).await.expect("list"), vec![newer]);
        assert!(matches!(store.snapshot_by_id(SnapshotId(i64::MAX)).await, Err(StorageError::NotFound(_))));
    })
    .await;
}

#[tokio::test]
async fn snapshots_with_non_finite_time_or_no_bytes_are_invalid() {
    with_each_database(|store| async move {
        for game_time in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            let result =
                store.save_snapshot(&NewSnapshot { tick: 1, game_time, engine_snapshot: &[1, 2], checksum: "c" }).await;
            assert!(matches!(result, Err(StorageError::Invalid(_))), "{game_time} gave {result:?}");
        }
        let empty =
            store.save_snapshot(&NewSnapshot { tick: 1, game_time: 0.0, engine_snapshot: &[], checksum: "c" }).await;
        assert!(matches!(empty, Err(StorageError::Invalid(_))), "{empty:?}");
        let huge_tick = store
            .save_snapshot(&NewSnapshot { tick: u64::MAX, game_time: 0.0, engine_snapshot: &[1], checksum: "c" })
            .await;
        assert!(matches!(huge_tick, Err(StorageError::Invalid(_))), "{huge_tick:?}");
        assert_eq!(store.list_snapshots(10).await.expect("list"), Vec::new());
    })
    .await;
}

#[tokio::test]
async fn game_config_outside_its_ranges_is_invalid_and_changes_nothing() {
    with_each_database(|store| async move {
        let before = store.load_config().await.expect("load");
        let edges = GameConfig { tick_rate_hz: 0.1, time_scale: 100.0, registrations_open: false };
        let saved = store.save_config(&edges).await.expect("the range ends are allowed");
        assert_eq!(saved.config, edges);
        assert!(saved.updated_at >= before.updated_at);

        let ok = GameConfig { tick_rate_hz: 10.0, time_scale: 2.0, registrations_open: true };
        for bad in [
            GameConfig { tick_rate_hz: 0.09, ..ok },
            GameConfig { tick_rate_hz: 100.01, ..ok },
            GameConfig { tick_rate_hz: f64::NAN, ..ok },
            GameConfig { time_scale: 0.0, ..ok },
            GameConfig { time_scale: 1e9, ..ok },
            GameConfig { time_scale: f64::INFINITY, ..ok },
        ] {
            let result = store.save_config(&bad).await;
            assert!(matches!(result, Err(StorageError::Invalid(_))), "{bad:?} gave {result:?}");
        }
        assert_eq!(store.load_config().await.expect("load"), saved, "rejected saves change nothing");
    })
    .await;
}

#[tokio::test]
async fn a_tick_number_is_recorded_at_most_once() {
    with_each_database(|store| async move {
        assert_eq!(store.latest_tick().await.expect("latest"), None);
        for tick in 1..=3 {
            store.record_tick(tick, tick as f64 * 0.5).await.expect("record");
        }
        let duplicate = store.record_tick(2, 99.0).await;
        assert!(matches!(duplicate, Err(StorageError::Conflict(_))), "{duplicate:?}");
        let latest = store.latest_tick().await.expect("latest").expect("some");
        assert_eq!((latest.tick, latest.game_time), (3, 1.5));
        assert!(matches!(store.record_tick(4, f64::NAN).await, Err(StorageError::Invalid(_))));
    })
    .await;
}

#[tokio::test]
async fn audit_log_lists_newest_first_with_details_intact() {
    with_each_database(|store| async move {
        let admin = store.create_player("root_admin", HASH, Role::Admin).await.expect("admin").id;
        let actions = ["sim.pause", "config.save", "player.ban"];
        for (index, action) in actions.iter().enumerate() {
            let details = serde_json::json!({ "step": index, "note": "ünïcödé", "nested": { "ok": true } });
            store.append_audit(admin, action, &details).await.expect("append");
        }
        let entries = store.list_audit(10).await.expect("list");
        let listed: Vec<&str> = entries.iter().map(|entry| entry.action.as_str()).collect();
        assert_eq!(listed, ["player.ban", "config.save", "sim.pause"]);
        assert!(entries.windows(2).all(|pair| pair[0].id > pair[1].id && pair[0].created_at >= pair[1].created_at));
        assert_eq!(entries[2].details, serde_json::json!({ "step": 0, "note": "ünïcödé", "nested": { "ok": true } }));
        assert_eq!(store.list_audit(2).await.expect("list").len(), 2);

        let bad_action = store.append_audit(admin, "Drop Table", &serde_json::json!({})).await;
        assert!(matches!(bad_action, Err(StorageError::Invalid(_))), "{bad_action:?}");
        let unknown_admin = store.append_audit(PlayerId(i64::MAX), "sim.pause", &serde_json::json!({})).await;
        assert!(matches!(unknown_admin, Err(StorageError::NotFound(_))), "{unknown_admin:?}");
    })
    .await;
}

#[tokio::test]
async fn of_concurrent_refreshes_of_one_token_exactly_one_revokes_it() {
    with_each_database(|store| async move {
        let player = new_player(&store, "erin").await;
        let now = SystemTime::now();
        store.create_session(&token_hash(9), player, now + Duration::from_secs(3600)).await.expect("create session");
        let attempts = futures_join_all(&store, &token_hash(9), now).await;
        assert_eq!(attempts.iter().filter(|attempt| attempt.is_some()).count(), 1, "{attempts:?}");
        assert_eq!(store.revoke_active_session(&token_hash(9), now).await.expect("again"), None);
        assert_eq!(store.find_active_session(&token_hash(9), now).await.expect("lookup"), None);
    })
    .await;
}

async fn futures_join_all(store: &Database, hash: &[u8], now: SystemTime) -> Vec<Option<galaxy_storage::Session>> {
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (store, hash) = (store.clone(), hash.to_vec());
            tokio::spawn(async move { store.revoke_active_session(&hash, now).await.expect("revoke") })
        })
        .collect();
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.push(task.await.expect("task"));
    }
    outcomes
}

#[tokio::test]
async fn kicking_revokes_the_players_sessions_and_roles_change() {
    with_each_database(|store| async move {
        let (frank, gina) = (new_player(&store, "frank").await, new_player(&store, "gina").await);
        let later = SystemTime::now() + Duration::from_secs(3600);
        store.create_session(&token_hash(1), frank, later).await.expect("session");
        store.create_session(&token_hash(2), frank, later).await.expect("session");
        store.create_session(&token_hash(3), gina, later).await.expect("session");
        assert_eq!(store.revoke_sessions_of_player(frank).await.expect("kick"), 2);
        let now = SystemTime::now();
        assert_eq!(store.find_active_session(&token_hash(1), now).await.expect("lookup"), None);
        assert!(store.find_active_session(&token_hash(3), now).await.expect("lookup").is_some());
        store.set_role(gina, Role::Admin).await.expect("promote");
        let listed = store.list_players(10).await.expect("list");
        assert_eq!(
            listed.iter().map(|player| (player.username.as_str(), player.role)).collect::<Vec<_>>(),
            [("frank", Role::Player), ("gina", Role::Admin)]
        );
        assert!(matches!(store.set_role(PlayerId(999_999), Role::Admin).await, Err(StorageError::NotFound(_))));
    })
    .await;
}

#[tokio::test]
async fn a_singleton_lock_has_one_holder_and_passes_on_when_dropped() {
    with_test_database(|store| async move {
        const KEY: i64 = 0x7465_7374_0001;
        let poll = Duration::from_millis(20);
        let first = store.acquire_singleton_lock(KEY, poll).await.expect("first holder");
        let waiting = tokio::spawn({
            let store = store.clone();
            async move { store.acquire_singleton_lock(KEY, poll).await.expect("second holder") }
        });
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(!waiting.is_finished(), "a second process must wait while the first holds the lock");
        assert!(!first.is_lost());
        drop(first);
        let second = tokio::time::timeout(Duration::from_secs(10), waiting)
            .await
            .expect("the waiter takes over soon after the holder lets go")
            .expect("task");
        assert!(!second.is_lost());
    })
    .await;
}
