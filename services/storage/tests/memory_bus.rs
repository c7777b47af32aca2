//! The in-memory event bus of the one-process mode behaves like the Redis streams it stands in
//! for: growing ids, reads after an id, capped length, and blocking reads woken by an append.

use std::time::Duration;

use galaxy_storage::{EventBus, MemoryBus, StreamEntryId, StreamName};

#[tokio::test]
async fn entries_are_read_in_order_after_an_id_and_the_stream_is_capped() {
    let bus = EventBus::Memory(MemoryBus::new(5));
    let mut ids = Vec::new();
    for tick in 0..8u8 {
        ids.push(bus.append(StreamName::TickCompleted, &[("tick", &[tick])]).await.expect("append"));
    }
    assert!(ids.windows(2).all(|pair| pair[0] < pair[1]), "ids grow: {ids:?}");
    assert_eq!(bus.stream_len(StreamName::TickCompleted).await.expect("len"), 5);
    let after = bus.read_stream(StreamName::TickCompleted, &ids[4], 100).await.expect("read");
    assert_eq!(after.iter().map(|entry| entry.fields["tick"][0]).collect::<Vec<_>>(), [5, 6, 7]);
    let first_two = bus.read_stream(StreamName::TickCompleted, &StreamEntryId::beginning(), 2).await.expect("read");
    assert_eq!(first_two.iter().map(|entry| entry.fields["tick"][0]).collect::<Vec<_>>(), [3, 4]);
    assert_eq!(bus.last_entry_id(StreamName::TickCompleted).await.expect("last"), Some(ids[7]));
    assert!(bus.read_stream(StreamName::Commands, &StreamEntryId::beginning(), 10).await.expect("read").is_empty());
    assert!(bus.append(StreamName::Commands, &[]).await.is_err(), "an entry needs a field");
}

#[tokio::test]
async fn a_blocking_read_wakes_on_append_and_times_out_without_one() {
    let bus = EventBus::Memory(MemoryBus::new(100));
    let start = StreamEntryId::beginning();
    let waited = tokio::time::Instant::now();
    let nothing = bus.read_stream_blocking(StreamName::Commands, &start, 10, Duration::from_millis(100)).await;
    assert!(nothing.expect("read").is_empty());
    assert!(waited.elapsed() >= Duration::from_millis(100));

    let reader = tokio::spawn({
        let bus = bus.clone();
        async move { bus.read_stream_blocking(StreamName::Commands, &start, 10, Duration::from_secs(30)).await }
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    bus.append(StreamName::Commands, &[("command", b"throttle")]).await.expect("append");
    let woken = tokio::time::timeout(Duration::from_secs(5), reader).await.expect("woken by the append");
    let entries = woken.expect("task").expect("read");
    assert_eq!(&entries[0].fields["command"][..], b"throttle");
}

#[tokio::test]
async fn the_state_is_kept_byte_for_byte() {
    let bus = EventBus::Memory(MemoryBus::new(10));
    assert_eq!(bus.read_state().await.expect("read"), None);
    bus.write_state(b"{\"tick\":1}".to_vec()).await.expect("write");
    assert_eq!(bus.read_state().await.expect("read").as_deref(), Some(&b"{\"tick\":1}"[..]));
}
