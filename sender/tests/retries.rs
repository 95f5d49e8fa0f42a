//! The retry rules of SPEC §2: the schedule, what is retried, what is final, and `dead`.

mod common;

use std::time::Duration;

use common::{closed_port, EmulatorBuilder, ReceiverBuilder, Reply};
use serde_json::json;

const EVENT: &str = "task.completed";

/// time_scale 0.01: attempts due 0, 50, 150, 300, 500, 800 ms after the first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_follow_the_scaled_schedule_with_one_delivery_id_and_fresh_timestamps() {
    let emulator = EmulatorBuilder::new().time_scale(0.01).start().await;
    let api = emulator.api();
    let (id, secret) = api.create("http://127.0.0.1:9/hook", &[EVENT]).await;
    // The receiver verifies with a 1 s tolerance: every attempt must be signed with a fresh timestamp.
    let receiver = ReceiverBuilder::new().sequence(&[503; 5], 200).start().await;
    api.patch(&format!("/v1/webhooks/{id}"), json!({"url": receiver.url()})).await;

    let published_at = std::time::Instant::now();
    let published = api.publish(EVENT, json!({"task_id": "t-retry"})).await;
    assert_eq!(published["deliveries"], 1);
    let event_id = published["external_event_id"].as_str().unwrap();

    let rows = api.wait_final(&id, 1, Duration::from_secs(10)).await;
    let row = &rows[0];
    assert_eq!(row["external_event_id"], json!(event_id));
    assert_eq!(row["status"], "succeeded", "{row}");
    assert_eq!(row["attempt"], 6, "{row}");
    assert_eq!(row["response_status"], 200, "{row}");
    assert_eq!(row["error_message"], json!(null), "{row}");

    let arrivals = receiver.arrivals();
    assert_eq!(arrivals.len(), 6, "five 503s then a 200");
    assert_eq!(arrivals.iter().map(|a| a.answered).collect::<Vec<_>>(), [503, 503, 503, 503, 503, 200]);
    // Every attempt is kept internally, not only the latest one the history row shows.
    let attempts = emulator.emulator.sender.store().attempts(row["id"].as_str().unwrap()).unwrap();
    assert_eq!(attempts.iter().map(|a| a.attempt).collect::<Vec<_>>(), [1, 2, 3, 4, 5, 6]);
    let statuses: Vec<Option<u16>> = attempts.iter().map(|a| a.response_status).collect();
    assert_eq!(statuses, [Some(503), Some(503), Some(503), Some(503), Some(503), Some(200)]);
    assert!(attempts.iter().all(|a| a.finished_at_ms >= a.started_at_ms));

    // Arrival offsets. The schedule counts from when the first attempt was DUE (the publish), so offsets
    // are measured from an instant taken just before the publish request: then no attempt can arrive
    // early. Measured from the first ARRIVAL instead, the first attempt's own latency (connect, task
    // start: 20 ms and more on a loaded machine) would make every later attempt look that much early.
    // Tolerance: -5 ms (millisecond rounding, wall vs monotonic clock): never early is the property.
    // +400 ms: a loaded 2-core machine running the other tests may stall a wake-up, the publish request
    // and the connect; 400 ms still catches a schedule counted from the previous attempt instead of the
    // first one (attempt 5 due at +1000 instead of +500, attempt 6 at +1800 instead of +800).
    let expected_ms = [0i64, 50, 150, 300, 500, 800];
    let offsets: Vec<i64> =
        arrivals.iter().map(|arrival| arrival.at.duration_since(published_at).as_millis() as i64).collect();
    let from_first: Vec<i64> = offsets.iter().map(|offset| offset - offsets[0]).collect();
    for (offset, expected) in offsets.iter().zip(expected_ms) {
        assert!(
            *offset >= expected - 5 && *offset <= expected + 400,
            "attempt due at +{expected} ms arrived at +{offset} ms (tolerance -5/+400 ms); offsets from the \
             publish: {offsets:?}, from the first arrival: {from_first:?}"
        );
    }

    // One delivery id on every attempt, equal to the history row's id.
    for arrival in &arrivals {
        assert_eq!(arrival.header("anchor-delivery-id"), row["id"].as_str().unwrap());
        assert_eq!(arrival.event_id(), event_id, "same envelope id on every attempt");
    }
    // A fresh timestamp per attempt: each attempt verifies with a 1 s tolerance at its arrival time, and the
    // timestamps never go backwards.
    let verifier = anchor_webhooks::Verifier::anchor([&secret]).unwrap().with_tolerance(1);
    let mut previous = 0;
    for (n, arrival) in arrivals.iter().enumerate() {
        let verified = verifier
            .verify(&arrival.headers, &arrival.body, (arrival.now_ms / 1000) as u64)
            .unwrap_or_else(|error| panic!("attempt {} is not fresh: {error}", n + 1));
        assert_eq!(verified.timestamp.to_string(), arrival.header("anchor-timestamp"));
        assert!(verified.timestamp >= previous, "timestamps never go backwards");
        previous = verified.timestamp;
    }
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_errors_other_than_408_and_429_are_final() {
    let emulator = EmulatorBuilder::new().time_scale(0.01).start().await;
    let api = emulator.api();
    for code in [400u16, 401, 404, 410] {
        let receiver = ReceiverBuilder::new().always(code).start().await;
        let (id, _) = api.create(&receiver.url(), &[EVENT]).await;
        let published = api.publish(EVENT, json!({})).await;
        let rows = api.wait_final(&id, 1, Duration::from_secs(10)).await;
        let row = &rows[0];
        assert_eq!(row["external_event_id"], published["external_event_id"]);
        assert_eq!(row["status"], "failed", "{code}: {row}");
        assert_eq!(row["attempt"], 1, "{code}: {row}");
        assert_eq!(row["response_status"], code, "{row}");
        assert!(row["error_message"].as_str().is_some_and(|m| m.contains(&code.to_string())), "{row}");
        assert!(row["completed_at"].is_string(), "{row}");
        // The row is final, so the delivery's task has ended: no later attempt can come.
        assert_eq!(receiver.count(), 1, "{code} is not retried");
        let (status, _) = api.delete(&format!("/v1/webhooks/{id}")).await;
        assert_eq!(status, 200);
    }
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn six_failures_make_a_delivery_dead() {
    let emulator = EmulatorBuilder::new().time_scale(0.01).start().await;
    let api = emulator.api();
    let receiver = ReceiverBuilder::new().always(500).start().await;
    let (id, _) = api.create(&receiver.url(), &[EVENT]).await;
    api.publish(EVENT, json!({})).await;
    let rows = api.wait_final(&id, 1, Duration::from_secs(10)).await;
    let row = &rows[0];
    assert_eq!(row["status"], "dead", "{row}");
    assert_eq!(row["attempt"], 6, "{row}");
    assert_eq!(row["response_status"], 500, "{row}");
    assert!(row["error_message"].as_str().is_some_and(|m| m.contains("500")), "{row}");
    assert!(row["completed_at"].is_string(), "{row}");
    assert_eq!(receiver.count(), 6, "exactly six attempts");
    emulator.shutdown().await;
}

/// 408, 429, 500, 503, a timeout and a refused connection are all retried (here until `dead`: six attempts).
/// Six webhooks exceed one project's limit, so the refused one belongs to a second API key's project.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retryable_failures_are_retried_until_dead() {
    let emulator = EmulatorBuilder::new()
        .keys(&[common::KEY, "ak_second_project"])
        .time_scale(0.01)
        // 1 s: the immediate answers (408/429/500/503) must come back within it even on a loaded machine,
        // or the row would record a timeout (no response_status) instead of the status.
        .attempt_timeout(Duration::from_secs(1))
        .start()
        .await;
    let api = emulator.api();
    let other = emulator.api_with("ak_second_project");

    let mut cases = Vec::new();
    let mut receivers = Vec::new();
    for code in [408u16, 429, 500, 503] {
        let receiver = ReceiverBuilder::new().always(code).start().await;
        let (id, _) = api.create(&receiver.url(), &[EVENT]).await;
        cases.push((format!("HTTP {code}"), api.clone(), id, Some(code)));
        receivers.push(Some(receiver));
    }
    // Sleeps well past the 1 s attempt timeout (5x), so every one of its attempts is a timeout.
    let slow =
        ReceiverBuilder::new().script(|_, _, _| Reply::after(200, Duration::from_secs(5))).start().await;
    let (slow_id, _) = api.create(&slow.url(), &[EVENT]).await;
    cases.push(("timeout".to_owned(), api.clone(), slow_id, None));
    receivers.push(Some(slow));
    // Nothing listens there (held until the end of the test).
    let refused = closed_port();
    let (refused_id, _) = other.create(&refused.url(), &[EVENT]).await;
    cases.push(("connection refused".to_owned(), other.clone(), refused_id, None));
    receivers.push(None);

    assert_eq!(api.publish(EVENT, json!({})).await["deliveries"], 5);
    assert_eq!(other.publish(EVENT, json!({})).await["deliveries"], 1);

    for ((name, api, id, code), receiver) in cases.iter().zip(&receivers) {
        // The timeout case needs six 1 s timeouts plus 0.8 s of backoff (about 7 s): 20 s leaves room.
        let rows = api.wait_final(id, 1, Duration::from_secs(20)).await;
        let row = &rows[0];
        assert_eq!(row["status"], "dead", "{name}: {row}");
        assert_eq!(row["attempt"], 6, "{name}: {row}");
        assert!(row["completed_at"].is_string(), "{name}: {row}");
        let message = row["error_message"].as_str().unwrap_or_else(|| panic!("{name}: no error: {row}"));
        match code {
            Some(code) => {
                assert_eq!(row["response_status"], *code, "{name}: {row}");
                assert!(message.contains(&code.to_string()), "{name}: {message}");
            }
            None => assert_eq!(row["response_status"], json!(null), "{name}: {row}"),
        }
        if name == "timeout" {
            assert!(message.contains("timeout"), "{name}: {message}");
        }
        if name == "connection refused" {
            assert!(message.starts_with("network error"), "{name}: {message}");
        }
        if let Some(receiver) = receiver {
            assert_eq!(receiver.count(), 6, "{name}: six attempts reached the receiver");
        }
    }
    emulator.shutdown().await;
}

/// The error message of a refused connection names the cause, not only "client error (Connect)".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_connection_is_reported_as_such() {
    let emulator = EmulatorBuilder::new().time_scale(0.001).start().await;
    let api = emulator.api();
    let refused = closed_port();
    let (id, _) = api.create(&refused.url(), &[EVENT]).await;
    api.publish(EVENT, json!({})).await;
    let rows = api.wait_final(&id, 1, Duration::from_secs(10)).await;
    let message = rows[0]["error_message"].as_str().unwrap().to_lowercase();
    assert!(message.starts_with("network error"), "{message}");
    assert!(message.contains("refused"), "the message should say the connection was refused: {message}");
}
