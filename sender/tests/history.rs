//! `GET /v1/webhooks/{id}/events`: filters, pagination, totals and order.

mod common;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use anchor_webhooks_sender::clock::rfc3339;
use anchor_webhooks_sender::{Clock, OffsetClock};
use common::{assert_error, Api, EmulatorBuilder, ReceiverBuilder, Reply};
use serde_json::{json, Value};

/// The receiver's answer per event type: succeeded, failed (final 4xx), dead (500 six times).
const TYPES: [(&str, u16); 3] = [("task.completed", 200), ("task.failed", 400), ("session.completed", 500)];

fn ids(rows: &[Value]) -> Vec<String> {
    rows.iter().map(|row| row["external_event_id"].as_str().unwrap().to_owned()).collect()
}

async fn page(api: &Api, id: &str, query: &str) -> (Vec<Value>, Value) {
    let answer = api.history(id, query).await;
    let object = answer.as_object().unwrap();
    assert_eq!(object.len(), 2, "exactly events and pagination: {answer}");
    (answer["events"].as_array().unwrap().clone(), answer["pagination"].clone())
}

fn scripted_receiver() -> ReceiverBuilder {
    ReceiverBuilder::new().script(|_, headers, _| {
        let event = headers.get("anchor-event").and_then(|v| v.to_str().ok()).unwrap_or_default();
        let status = TYPES.iter().find(|(name, _)| *name == event).map_or(200, |(_, status)| *status);
        Reply::status(status)
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_filter_and_paginate_exactly() {
    // time_scale 0.001: the dead ones take 80 ms. The clock jumps an hour between the three batches of
    // ten, so `since`/`until` have exact boundaries.
    let clock = Arc::new(OffsetClock::new());
    let emulator = EmulatorBuilder::new().time_scale(0.001).clock(Arc::clone(&clock)).start().await;
    let api = emulator.api();
    let receiver = scripted_receiver().start().await;
    let (id, _) = api.create(&receiver.url(), &TYPES.map(|(name, _)| name)).await;

    let mut batches: Vec<Vec<String>> = Vec::new();
    let mut bounds = Vec::new();
    let mut by_type: Vec<(String, &str)> = Vec::new();
    for batch in 0..3 {
        if batch > 0 {
            clock.advance(Duration::from_secs(3600));
        }
        let start = clock.now_ms();
        let mut events = Vec::new();
        for n in 0..10 {
            let (event_type, _) = TYPES[(batch * 10 + n) % 3];
            let published = api.publish(event_type, json!({"n": batch * 10 + n})).await;
            assert_eq!(published["deliveries"], 1);
            let event_id = published["external_event_id"].as_str().unwrap().to_owned();
            by_type.push((event_id.clone(), event_type));
            events.push(event_id);
        }
        api.wait_final(&id, (batch + 1) * 10, Duration::from_secs(10)).await;
        let end = clock.now_ms();
        batches.push(events);
        bounds.push((start, end));
    }

    // Everything, newest batch first (the order inside a batch is checked by the test below).
    let (all, pagination) = page(&api, &id, "limit=100").await;
    assert_eq!(pagination, json!({"limit": 100, "offset": 0, "total": 30}));
    assert_eq!(all.len(), 30);
    let all_ids = ids(&all);
    for (position, batch) in [2, 1, 0].into_iter().enumerate() {
        let got: HashSet<&String> = all_ids[position * 10..position * 10 + 10].iter().collect();
        let want: HashSet<&String> = batches[batch].iter().collect();
        assert_eq!(got, want, "rows {}..{} are batch {batch}", position * 10, position * 10 + 10);
    }
    for row in &all {
        let mut keys: Vec<&str> = row.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "attempt",
                "completed_at",
                "error_message",
                "event_type",
                "external_event_id",
                "id",
                "response_status",
                "scheduled_at",
                "status"
            ],
            "{row}"
        );
        let event_id = row["external_event_id"].as_str().unwrap();
        let (_, event_type) = by_type.iter().find(|(id, _)| id == event_id).unwrap();
        assert_eq!(row["event_type"], json!(event_type));
        let (expected_status, expected_attempt, expected_code) = match *event_type {
            "task.completed" => ("succeeded", 1, 200),
            "task.failed" => ("failed", 1, 400),
            _ => ("dead", 6, 500),
        };
        assert_eq!(row["status"], expected_status, "{row}");
        assert_eq!(row["attempt"], expected_attempt, "{row}");
        assert_eq!(row["response_status"], expected_code, "{row}");
    }

    // limit: default 25, 1..=100.
    let (rows, pagination) = page(&api, &id, "").await;
    assert_eq!(pagination, json!({"limit": 25, "offset": 0, "total": 30}));
    assert_eq!(ids(&rows), all_ids[..25]);
    let (rows, pagination) = page(&api, &id, "limit=1").await;
    assert_eq!(pagination, json!({"limit": 1, "offset": 0, "total": 30}));
    assert_eq!(ids(&rows), all_ids[..1]);
    let (rows, _) = page(&api, &id, "limit=100").await;
    assert_eq!(rows.len(), 30);
    for bad in ["limit=0", "limit=101", "limit=-1", "limit=ten", "limit=", "offset=-1", "offset=x"] {
        assert_error(&api.get(&format!("/v1/webhooks/{id}/events?{bad}")).await, 400, bad);
    }

    // offset.
    let (rows, pagination) = page(&api, &id, "offset=25").await;
    assert_eq!(pagination, json!({"limit": 25, "offset": 25, "total": 30}));
    assert_eq!(ids(&rows), all_ids[25..]);
    let (rows, pagination) = page(&api, &id, "limit=7&offset=10").await;
    assert_eq!(pagination, json!({"limit": 7, "offset": 10, "total": 30}));
    assert_eq!(ids(&rows), all_ids[10..17]);
    let (rows, pagination) = page(&api, &id, "offset=30").await;
    assert!(rows.is_empty());
    assert_eq!(pagination["total"], 30);
    let (rows, _) = page(&api, &id, "offset=1000").await;
    assert!(rows.is_empty());
    // Walking the pages of 4 visits every row once, in order.
    let mut walked = Vec::new();
    for offset in (0..30).step_by(4) {
        let (rows, _) = page(&api, &id, &format!("limit=4&offset={offset}")).await;
        walked.extend(ids(&rows));
    }
    assert_eq!(walked, all_ids);

    // status.
    for (status, count) in [("succeeded", 10), ("failed", 10), ("dead", 10), ("pending", 0), ("in_flight", 0)]
    {
        let (rows, pagination) = page(&api, &id, &format!("status={status}&limit=100")).await;
        assert_eq!(pagination["total"], count, "status={status}");
        assert_eq!(rows.len(), count, "status={status}");
        assert!(rows.iter().all(|row| row["status"] == status), "status={status}");
        let expected: Vec<&String> = all_ids.iter().filter(|id| ids(&rows).contains(id)).collect();
        assert_eq!(
            ids(&rows).iter().collect::<Vec<_>>(),
            expected,
            "status={status}: same order as unfiltered"
        );
    }
    let (rows, pagination) = page(&api, &id, "status=dead&limit=3&offset=2").await;
    assert_eq!(pagination, json!({"limit": 3, "offset": 2, "total": 10}));
    assert_eq!(rows.len(), 3);
    assert_error(&api.get(&format!("/v1/webhooks/{id}/events?status=lost")).await, 400, "status=lost");

    // event_type, alone and with status.
    for (event_type, _) in TYPES {
        let (rows, pagination) = page(&api, &id, &format!("event_type={event_type}")).await;
        assert_eq!(pagination["total"], 10, "{event_type}");
        assert!(rows.iter().all(|row| row["event_type"] == event_type));
    }
    let (rows, pagination) = page(&api, &id, "event_type=task.completed&status=succeeded").await;
    assert_eq!((rows.len(), pagination["total"].clone()), (10, json!(10)));
    let (rows, pagination) = page(&api, &id, "event_type=task.completed&status=failed").await;
    assert_eq!((rows.len(), pagination["total"].clone()), (0, json!(0)));
    let (rows, _) = page(&api, &id, "event_type=batch.completed").await;
    assert!(rows.is_empty());

    // since / until (RFC 3339, inclusive), alone, together, with other filters.
    let set = |rows: &[Value]| ids(rows).into_iter().collect::<HashSet<String>>();
    let of =
        |batches_: &[usize]| batches_.iter().flat_map(|b| batches[*b].clone()).collect::<HashSet<String>>();
    let q = |name: &str, ms: i64| format!("{name}={}", rfc3339(ms));
    let (rows, pagination) = page(&api, &id, &format!("{}&limit=100", q("since", bounds[1].0))).await;
    assert_eq!(pagination["total"], 20);
    assert_eq!(set(&rows), of(&[1, 2]));
    let (rows, pagination) = page(&api, &id, &format!("{}&limit=100", q("until", bounds[0].1))).await;
    assert_eq!(pagination["total"], 10);
    assert_eq!(set(&rows), of(&[0]));
    let (rows, pagination) =
        page(&api, &id, &format!("{}&{}", q("since", bounds[1].0), q("until", bounds[1].1))).await;
    assert_eq!(pagination["total"], 10);
    assert_eq!(set(&rows), of(&[1]));
    let (rows, pagination) =
        page(&api, &id, &format!("{}&status=dead&event_type=session.completed", q("since", bounds[2].0)))
            .await;
    assert_eq!(pagination["total"], rows.len());
    assert!(rows
        .iter()
        .all(|row| row["status"] == "dead" && of(&[2]).contains(row["external_event_id"].as_str().unwrap())));
    // A since after everything, an until before everything.
    let (rows, _) = page(&api, &id, &q("since", clock.now_ms() + 60_000)).await;
    assert!(rows.is_empty());
    let (rows, _) = page(&api, &id, &q("until", bounds[0].0 - 60_000)).await;
    assert!(rows.is_empty());
    // Any offset spelling of the same instant.
    let at = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(bounds[1].0) * 1_000_000)
        .unwrap()
        .to_offset(time::macros::offset!(+02:00));
    let spelled = at.format(&time::format_description::well_known::Rfc3339).unwrap();
    let (rows, _) = page(&api, &id, &format!("since={}&limit=100", spelled.replace('+', "%2B"))).await;
    assert_eq!(set(&rows), of(&[1, 2]), "since={spelled}");
    for bad in ["since=yesterday", "until=2026-13-01T00:00:00Z", "since=2026-05-24"] {
        assert_error(&api.get(&format!("/v1/webhooks/{id}/events?{bad}")).await, 400, bad);
    }
    emulator.shutdown().await;
}

/// "Newest first" and `since`/`until` are about when the event happened: a delivery that keeps retrying
/// must not jump ahead of newer events (nor move between pages while a client walks them).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_order_and_since_follow_the_event_not_its_latest_retry() {
    // time_scale 0.01: the retried delivery's last attempt is due 800 ms after its first.
    let emulator = EmulatorBuilder::new().time_scale(0.01).start().await;
    let api = emulator.api();
    let receiver = scripted_receiver().start().await;
    let (id, _) = api.create(&receiver.url(), &["session.completed", "task.completed"]).await;

    let older = api.publish("session.completed", json!({})).await; // 500 six times: dead at +800 ms

    // Millisecond timestamps: keep `between` strictly after the older event and before the newer one.
    tokio::time::sleep(Duration::from_millis(5)).await;
    let between = emulator.clock.now_ms();
    tokio::time::sleep(Duration::from_millis(5)).await;
    let newer = api.publish("task.completed", json!({})).await; // 200 at once
    let rows = api.wait_final(&id, 2, Duration::from_secs(10)).await;
    assert_eq!(
        rows.iter().find(|r| r["external_event_id"] == older["external_event_id"]).unwrap()["status"],
        "dead"
    );

    assert_eq!(
        ids(&rows),
        [newer["external_event_id"].as_str().unwrap(), older["external_event_id"].as_str().unwrap()],
        "newest event first"
    );
    let (rows, _) = page(&api, &id, &format!("since={}", rfc3339(between))).await;
    assert_eq!(ids(&rows), [newer["external_event_id"].as_str().unwrap()], "only the event after `since`");
    emulator.shutdown().await;
}

/// Finished history is kept seven days: older rows are purged; unfinished deliveries never are.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finished_history_older_than_seven_days_is_purged() {
    let emulator = EmulatorBuilder::new().time_scale(1.0).start().await;
    let api = emulator.api();
    let done = ReceiverBuilder::new().always(200).start().await;
    let failing = ReceiverBuilder::new().always(503).start().await;
    let (done_id, _) = api.create(&done.url(), &["task.completed"]).await;
    let (pending_id, _) = api.create(&failing.url(), &["task.completed"]).await;
    api.publish("task.completed", json!({})).await;
    api.wait_final(&done_id, 1, Duration::from_secs(10)).await;
    // The failing endpoint's delivery now waits 5 s of real time for its retry: pending, not finished.
    // Wait for the 503 to be recorded: jumping the clock before that would make the retry due at once.
    let unfinished = api
        .wait_rows(&pending_id, "the 503 recorded and the retry scheduled", Duration::from_secs(10), |rows| {
            rows.len() == 1 && rows[0]["status"] == "pending"
        })
        .await;

    emulator.clock.advance(Duration::from_secs(7 * 24 * 60 * 60 - 60));
    assert_eq!(emulator.emulator.sender.purge_history().unwrap(), 0, "kept while younger than 7 days");
    assert_eq!(api.rows(&done_id).await.len(), 1);

    emulator.clock.advance(Duration::from_secs(120));
    assert_eq!(emulator.emulator.sender.purge_history().unwrap(), 1, "only the finished delivery");
    assert!(api.rows(&done_id).await.is_empty());
    // Its retry may run by now (the jump made later attempts due), so only its presence is asserted.
    let pending = api.rows(&pending_id).await;
    assert_eq!(pending.len(), 1, "an unfinished delivery is never purged");
    assert_eq!(pending[0]["external_event_id"], unfinished[0]["external_event_id"]);
    emulator.shutdown().await;
}
