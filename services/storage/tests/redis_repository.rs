//! The Redis repository returns the state byte for byte, keeps each stream near its cap, and
//! serves blocking reads on their own connection: new entries arrive at once, an empty wait ends
//! cleanly at its timeout, and a blocked reader never delays other commands.
//!
//! Runs against the machine's Redis at 127.0.0.1:6379, one key space per test.

mod common;

use std::time::{Duration, Instant};

use bytes::Bytes;
use common::{test_redis_config, with_test_redis, within};
use galaxy_storage::{RedisConfig, RedisStore, StorageError, StreamEntryId, StreamName};

fn field<'entry>(entry: &'entry galaxy_storage::StreamEntry, name: &str) -> &'entry [u8] {
    entry.fields.get(name).map(Bytes::as_ref).unwrap_or_else(|| panic!("entry without field {name:?}"))
}

#[tokio::test]
async fn state_reads_back_exactly_what_was_written() {
    with_test_redis(test_redis_config(), |store| async move {
        assert_eq!(store.read_state().await.expect("read"), None);
        let state: Vec<u8> = (0..=255u8).cycle().take(100_000).collect();
        store.write_state(state.clone()).await.expect("write");
        assert_eq!(store.read_state().await.expect("read").as_deref(), Some(state.as_slice()));
        store.write_state(Bytes::from_static(b"\0\xff newer")).await.expect("overwrite");
        assert_eq!(store.read_state().await.expect("read").as_deref(), Some(&b"\0\xff newer"[..]));
    })
    .await;
}

#[tokio::test]
async fn each_key_prefix_is_a_separate_key_space() {
    let other_config = test_redis_config();
    let other = RedisStore::connect(&other_config).await.expect("connect");
    with_test_redis(test_redis_config(), |store| async move {
        assert_ne!(store.keys().state(), other.keys().state());
        store.write_state(&b"mine"[..]).await.expect("write");
        store.append(StreamName::Commands, &[("command", b"thrust")]).await.expect("append");
        assert_eq!(other.read_state().await.expect("read"), None);
        assert_eq!(other.stream_len(StreamName::Commands).await.expect("len"), 0);
        other.quit().await.expect("quit");
    })
    .await;
}

#[tokio::test]
async fn streams_return_entries_in_order_with_their_fields() {
    with_test_redis(test_redis_config(), |store| async move {
        let mut ids = Vec::new();
        for tick in 0..5u64 {
            let tick_text = tick.to_string();
            let id = store
                .append(StreamName::TickCompleted, &[("tick", tick_text.as_bytes()), ("hash", &[0, 255, tick as u8])])
                .await
                .expect("append");
            ids.push(id);
        }
        assert!(ids.windows(2).all(|pair| pair[0] < pair[1]), "ids grow: {ids:?}");
        let entries =
            store.read_stream(StreamName::TickCompleted, &StreamEntryId::beginning(), 100).await.expect("read");
        let ticks: Vec<&[u8]> = entries.iter().map(|entry| field(entry, "tick")).collect();
        assert_eq!(ticks, [b"0", b"1", b"2", b"3", b"4"]);
        assert_eq!(field(&entries[4], "hash"), [0, 255, 4]);
        assert_eq!(entries.iter().map(|entry| entry.id).collect::<Vec<_>>(), ids);

        let after_second = store.read_stream(StreamName::TickCompleted, &ids[1], 2).await.expect("read");
        assert_eq!(after_second.iter().map(|entry| field(entry, "tick")).collect::<Vec<_>>(), [b"2", b"3"]);
        assert!(store.read_stream(StreamName::TickCompleted, &ids[4], 10).await.expect("read").is_empty());
        assert_eq!(store.last_entry_id(StreamName::TickCompleted).await.expect("last"), Some(ids[4]));
        assert_eq!(store.last_entry_id(StreamName::Commands).await.expect("last"), None);

        let empty = store.append(StreamName::Commands, &[]).await;
        assert!(matches!(empty, Err(StorageError::Invalid(_))), "{empty:?}");
    })
    .await;
}

#[tokio::test]
async fn appends_keep_a_stream_near_its_cap() {
    let config = RedisConfig { stream_max_len: 100, ..test_redis_config() };
    with_test_redis(config, |store| async move {
        let mut last = None;
        for index in 0..1_000u32 {
            last = Some(store.append(StreamName::Commands, &[("n", &index.to_be_bytes())]).await.expect("append"));
        }
        // `MAXLEN ~` trims whole internal nodes (100 entries each by default), so the length
        // stays between the cap and the cap plus one node.
        let length = store.stream_len(StreamName::Commands).await.expect("len");
        assert!((100..=200).contains(&length), "length {length}");
        assert_eq!(store.last_entry_id(StreamName::Commands).await.expect("last"), last, "the newest entries stay");
    })
    .await;
}

#[tokio::test]
async fn a_blocking_read_returns_an_entry_appended_while_it_waits() {
    with_test_redis(test_redis_config(), |store| async move {
        let start = store
            .last_entry_id(StreamName::TickCompleted)
            .await
            .expect("last")
            .unwrap_or_else(StreamEntryId::beginning);
        let reader = store.clone();
        let waiting = tokio::spawn(async move {
            let started = Instant::now();
            let entries = reader
                .read_stream_blocking(StreamName::TickCompleted, &start, 10, Duration::from_secs(10))
                .await
                .expect("blocking read");
            (entries, started.elapsed())
        });
        tokio::time::sleep(Duration::from_millis(200)).await;
        store.append(StreamName::TickCompleted, &[("tick", b"7")]).await.expect("append");
        let (entries, waited) = within(Duration::from_secs(5), waiting).await.expect("reader task");
        assert_eq!(entries.len(), 1);
        assert_eq!(field(&entries[0], "tick"), b"7");
        assert!(waited < Duration::from_secs(2), "woke after {waited:?}, not at once");
    })
    .await;
}

#[tokio::test]
async fn a_blocking_read_with_nothing_new_ends_empty_at_its_timeout() {
    with_test_redis(test_redis_config(), |store| async move {
        let started = Instant::now();
        let entries = store
            .read_stream_blocking(StreamName::Commands, &StreamEntryId::beginning(), 10, Duration::from_millis(300))
            .await
            .expect("an empty wait is not an error");
        let waited = started.elapsed();
        assert!(entries.is_empty());
        assert!(waited >= Duration::from_millis(290) && waited < Duration::from_secs(2), "waited {waited:?}");
        // The connection is still usable afterwards.
        store.append(StreamName::Commands, &[("c", b"1")]).await.expect("append");
        let entries = store
            .read_stream_blocking(StreamName::Commands, &StreamEntryId::beginning(), 10, Duration::from_millis(300))
            .await
            .expect("read");
        assert_eq!(entries.len(), 1);
    })
    .await;
}

#[tokio::test]
async fn a_blocked_reader_does_not_delay_commands() {
    with_test_redis(test_redis_config(), |store| async move {
        let reader = store.clone();
        let blocked = tokio::spawn(async move {
            let start = StreamEntryId::beginning();
            reader.read_stream_blocking(StreamName::TickCompleted, &start, 10, Duration::from_secs(3)).await
        });
        tokio::time::sleep(Duration::from_millis(100)).await;
        let started = Instant::now();
        for round in 0..20u8 {
            store.write_state(vec![round; 1024]).await.expect("write");
            assert_eq!(store.read_state().await.expect("read").as_deref(), Some(&[round; 1024][..]));
        }
        let took = started.elapsed();
        // NOTE: well under the reader's 3 s block: a margin for a loaded CI machine.
        assert!(took < Duration::from_millis(2_500), "commands waited for the blocked reader: {took:?}");
        assert!(!blocked.is_finished(), "the reader should still be waiting");
        blocked.abort();
    })
    .await;
}

#[tokio::test]
async fn trimming_drops_only_entries_before_the_given_id() {
    with_test_redis(test_redis_config(), |store| async move {
        let mut ids = Vec::new();
        for index in 0..6u8 {
            ids.push(store.append(StreamName::Commands, &[("n", &[index])]).await.expect("append"));
        }
        assert_eq!(store.trim_before(StreamName::Commands, &ids[4]).await.expect("trim"), 4);
        let left = store.read_stream(StreamName::Commands, &StreamEntryId::beginning(), 10).await.expect("read");
        assert_eq!(left.iter().map(|entry| entry.id).collect::<Vec<_>>(), ids[4..]);
    })
    .await;
}

#[tokio::test]
async fn a_consumer_group_delivers_each_entry_once_until_acknowledged() {
    with_test_redis(test_redis_config(), |store| async move {
        let group = "physics";
        store.create_consumer_group(StreamName::Commands, group, &StreamEntryId::beginning()).await.expect("group");
        store
            .create_consumer_group(StreamName::Commands, group, &StreamEntryId::beginning())
            .await
            .expect("again is fine");
        let first = store.append(StreamName::Commands, &[("c", b"a")]).await.expect("append");
        let second = store.append(StreamName::Commands, &[("c", b"b")]).await.expect("append");

        let block = Duration::from_millis(200);
        let delivered = store.read_group_blocking(StreamName::Commands, group, "p1", 10, block).await.expect("read");
        assert_eq!(delivered.iter().map(|entry| entry.id).collect::<Vec<_>>(), [first, second]);
        let again = store.read_group_blocking(StreamName::Commands, group, "p2", 10, block).await.expect("read");
        assert!(again.is_empty(), "delivered twice: {again:?}");

        assert_eq!(store.acknowledge(StreamName::Commands, group, &[first, second]).await.expect("ack"), 2);
        assert_eq!(
            store.acknowledge(StreamName::Commands, group, &[first]).await.expect("ack"),
            0,
            "already acknowledged"
        );
        assert_eq!(store.acknowledge(StreamName::Commands, group, &[]).await.expect("ack"), 0);
    })
    .await;
}
