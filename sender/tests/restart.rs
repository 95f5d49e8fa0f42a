//! Durability with `db_path`: webhooks and unfinished deliveries survive a restart; a shut-down emulator
//! delivers nothing more.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use anchor_webhooks_sender::OffsetClock;
use common::{closed_port, Check, EmulatorBuilder, ReceiverBuilder};
use serde_json::json;

const EVENT: &str = "task.completed";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pending_deliveries_resume_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sender.db");
    // The receiver is DOWN: nothing listens on this port yet.
    let down = closed_port();
    let url = down.url();

    // time_scale 1.0: the first attempt at 0 s fails, the second is due at +5 s.
    let first = EmulatorBuilder::new().time_scale(1.0).db_path(db.clone()).start().await;
    let api = first.api();
    let (id, secret) = api.create(&url, &[EVENT]).await;
    let mut events = Vec::new();
    for n in 0..3 {
        let published = api.publish(EVENT, json!({"task_id": format!("t{n}")})).await;
        assert_eq!(published["deliveries"], 1);
        events.push(published["external_event_id"].as_str().unwrap().to_owned());
    }
    let rows = api
        .wait_rows(&id, "three first attempts failed", Duration::from_secs(4), |rows| {
            rows.len() == 3
                && rows.iter().all(|row| {
                    row["status"] == "pending" && row["attempt"] == 1 && row["error_message"].is_string()
                })
        })
        .await;
    for row in &rows {
        assert!(row["error_message"].as_str().unwrap().starts_with("network error"), "{row}");
    }
    first.shutdown().await;
    let shut_down_at = Instant::now();

    // The receiver comes up, then a new emulator on the same file. Its clock runs 5 s ahead so the
    // resumed attempts (stored as due at first + 5 s) are due at once.
    let receiver = ReceiverBuilder::new().verify(&[&secret]).always(200).start_on(down).await;
    let clock = Arc::new(OffsetClock::new());
    clock.advance(Duration::from_secs(5));
    let second = EmulatorBuilder::new().time_scale(0.01).db_path(db.clone()).clock(clock).start().await;
    let api = second.api();

    let (status, list) = api.get("/v1/webhooks").await;
    assert_eq!(status, 200);
    let webhooks = list["webhooks"].as_array().unwrap();
    assert_eq!(webhooks.len(), 1, "{list}");
    assert_eq!(webhooks[0]["id"], json!(id));
    assert_eq!(webhooks[0]["url"], json!(url));
    assert_eq!(webhooks[0]["subscribed_events"], json!([EVENT]));

    let rows = api.wait_final(&id, 3, Duration::from_secs(4)).await;
    // Well before the first emulator's own +5 s schedule: these came from the new emulator.
    assert!(shut_down_at.elapsed() < Duration::from_secs(4), "resumed deliveries came late");
    for event_id in &events {
        let row = rows.iter().find(|row| row["external_event_id"] == json!(event_id)).unwrap();
        assert_eq!(row["status"], "succeeded", "{row}");
        assert_eq!(row["attempt"], 2, "{row}");
        assert_eq!(row["response_status"], 200, "{row}");
        // Each event arrived (duplicates of one event id would be allowed: at-least-once).
        let arrivals: Vec<_> =
            receiver.arrivals().into_iter().filter(|arrival| arrival.event_id() == *event_id).collect();
        assert!(!arrivals.is_empty(), "{event_id} never arrived");
        for arrival in arrivals {
            assert!(
                matches!(arrival.check, Some(Check::Ok { matched_secret: 0, .. })),
                "{:?}",
                arrival.check
            );
            assert_eq!(arrival.header("anchor-delivery-id"), row["id"].as_str().unwrap());
        }
    }

    // The restarted emulator works as usual.
    let tested = api.send_test(&id, EVENT).await;
    let arrivals = receiver.wait_for(4, Duration::from_secs(4)).await;
    assert!(arrivals.iter().any(|arrival| arrival.event_id() == tested));
    second.shutdown().await;
}

/// `Emulator::shutdown` abandons deliveries in flight (they resume on the next start, from the file): the
/// shut-down instance must not keep retrying them, or a restarted emulator on the same file and the old
/// one would both deliver (and both write the same history rows).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shut_down_emulator_delivers_nothing_more() {
    let dir = tempfile::tempdir().unwrap();
    let down = closed_port();
    // time_scale 0.1: retries due at +0.5 s, +1.5 s, +3 s after the first attempt.
    let emulator = EmulatorBuilder::new().time_scale(0.1).db_path(dir.path().join("sender.db")).start().await;
    let api = emulator.api();
    let (id, _) = api.create(&down.url(), &[EVENT]).await;
    api.publish(EVENT, json!({})).await;
    api.wait_rows(&id, "the first attempt failed", Duration::from_secs(4), |rows| {
        rows.len() == 1 && rows[0]["status"] == "pending" && rows[0]["error_message"].is_string()
    })
    .await;
    emulator.shutdown().await;

    let receiver = ReceiverBuilder::new().always(200).start_on(down).await;
    // A negative check needs a window: 1.2 s covers the retry due at +0.5 s (and would catch the one at
    // +1.5 s too on most runs).
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(receiver.count(), 0, "the shut-down emulator kept delivering");
}
