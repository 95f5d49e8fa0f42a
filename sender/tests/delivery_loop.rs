//! The full loop for every event type of the catalog: the test endpoint, a real receiver verifying with the
//! core `Verifier`, and the history row.

mod common;

use std::collections::HashSet;
use std::time::Duration;

use anchor_webhooks_sender::envelope::ANCHOR_EVENT_TYPES;
use common::{Check, EmulatorBuilder, ReceiverBuilder};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_event_type_is_delivered_verified_and_logged() {
    let emulator = EmulatorBuilder::new().start().await;
    let api = emulator.api();
    // The receiver needs the secret before it starts: create the webhook first with a placeholder URL,
    // then point it at the receiver.
    let (id, secret) = api.create("http://127.0.0.1:9/hook", ANCHOR_EVENT_TYPES).await;
    let receiver = ReceiverBuilder::new().verify(&[&secret]).always(200).start().await;
    let (status, patched) = api.patch(&format!("/v1/webhooks/{id}"), json!({"url": receiver.url()})).await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(patched["url"], json!(receiver.url()));

    let mut sent = Vec::new();
    for &event_type in ANCHOR_EVENT_TYPES {
        let (status, answer) =
            api.post(&format!("/v1/webhooks/{id}/test"), json!({"event_type": event_type})).await;
        assert_eq!(status, 202, "{event_type}: {answer}");
        let object = answer.as_object().unwrap();
        assert_eq!(object.len(), 2, "exactly external_event_id and event_type: {answer}");
        assert_eq!(answer["event_type"], json!(event_type));
        let event_id = answer["external_event_id"].as_str().unwrap().to_owned();
        assert!(event_id.starts_with("evt_"), "{event_id}");
        sent.push((event_type, event_id));
    }
    let ids: HashSet<&str> = sent.iter().map(|(_, id)| id.as_str()).collect();
    assert_eq!(ids.len(), ANCHOR_EVENT_TYPES.len(), "every test event has its own id");

    let n = ANCHOR_EVENT_TYPES.len();
    let arrivals = receiver.wait_for(n, Duration::from_secs(10)).await;
    let rows = api.wait_final(&id, n, Duration::from_secs(10)).await;
    assert_eq!(arrivals.len(), n, "one arrival per event, no retries");

    for (event_type, event_id) in &sent {
        let arrival = arrivals
            .iter()
            .find(|arrival| arrival.event_id() == *event_id)
            .unwrap_or_else(|| panic!("{event_type} ({event_id}) never arrived"));
        let Some(Check::Ok { matched_secret, event_id: verified_id, delivery_id, .. }) = &arrival.check
        else {
            panic!("{event_type} did not verify: {:?}", arrival.check);
        };
        assert_eq!(*matched_secret, 0, "{event_type}");
        assert_eq!(verified_id, event_id, "{event_type}: envelope id = external_event_id");
        assert_eq!(arrival.header("anchor-event"), *event_type);
        assert_eq!(arrival.header("user-agent"), "Anchor-Webhooks/1.0");
        assert!(arrival.header("content-type").starts_with("application/json"));
        let envelope = arrival.envelope();
        assert_eq!(envelope["type"], json!(event_type));
        assert!(envelope["data"].is_object(), "{event_type}: data is an object");
        assert!(envelope["text"].as_str().is_some_and(|t| !t.is_empty()), "{event_type}: text");
        assert_eq!(arrival.v1_items().len(), 1, "{event_type}: one secret, one v1");

        let row = rows.iter().find(|row| row["external_event_id"] == json!(event_id)).unwrap();
        assert_eq!(row["event_type"], json!(event_type));
        assert_eq!(row["status"], "succeeded", "{row}");
        assert_eq!(row["attempt"], 1, "{row}");
        assert_eq!(row["response_status"], 200, "{row}");
        assert_eq!(row["error_message"], json!(null), "{row}");
        assert!(row["completed_at"].is_string(), "{row}");
        assert_eq!(row["id"].as_str(), delivery_id.as_deref(), "history id = Anchor-Delivery-Id");
    }
    emulator.shutdown().await;
}
