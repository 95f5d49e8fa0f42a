//! Every API error is `{"error": "<message>", "code": <status>}` (SPEC §7) with the right status,
//! including the ones axum would answer on its own (a wrong method, a body over the limit), and an event
//! over the provider's 64 KB cap is refused instead of delivered.

mod common;

use std::time::Duration;

use anchor_webhooks_sender::api::MAX_REQUEST_BODY_BYTES;
use anchor_webhooks_sender::envelope::{Envelope, MAX_PAYLOAD_BYTES};
use anchor_webhooks_sender::Sender;
use common::{EmulatorBuilder, ReceiverBuilder, KEY};
use reqwest::Method;
use serde_json::{json, Value};

const EVENT: &str = "task.completed";

fn error(message: &str, code: u16) -> Value {
    json!({ "error": message, "code": code })
}

/// The size of the body the emulator would deliver for this event (the envelope's id and `created` have
/// a fixed length, so any envelope of the same type, project and data has the same size).
fn envelope_size(data: &Value) -> usize {
    Envelope::new(EVENT, Sender::project_for_key(KEY), data.clone()).to_body().0.len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_method_on_a_known_route_is_405_in_the_error_shape() {
    let emulator = EmulatorBuilder::new().start().await;
    let api = emulator.api();
    let (id, _) = api.create("http://127.0.0.1:9/hook", &[EVENT]).await;
    let cases = [
        (Method::PUT, "/v1/webhooks".to_owned(), "GET,HEAD,POST"),
        (Method::DELETE, "/v1/webhooks".to_owned(), "GET,HEAD,POST"),
        (Method::POST, format!("/v1/webhooks/{id}"), "GET,HEAD,PATCH,DELETE"),
        (Method::PUT, format!("/v1/webhooks/{id}"), "GET,HEAD,PATCH,DELETE"),
        (Method::GET, format!("/v1/webhooks/{id}/rotate-secret"), "POST"),
        (Method::GET, format!("/v1/webhooks/{id}/test"), "POST"),
        (Method::POST, format!("/v1/webhooks/{id}/events"), "GET,HEAD"),
        (Method::GET, "/v1/events".to_owned(), "POST"),
    ];
    let client = reqwest::Client::new();
    for (method, path, allow) in cases {
        // With and without a key: the method is refused before anything else.
        for key in [Some(KEY), None] {
            let answer = api.with_key(key).raw(method.clone(), &path, Some(b"{}".to_vec())).await;
            let expected = error(&format!("method {method} is not allowed on {path}"), 405);
            assert_eq!(answer, (405, expected), "{method} {path} key={key:?}");
        }
        let response =
            client.request(method.clone(), format!("{}{path}", emulator.base)).send().await.unwrap();
        assert_eq!(response.status(), 405);
        assert_eq!(response.headers()["content-type"], "application/json", "{method} {path}");
        let allowed: Vec<&str> =
            response.headers()["allow"].to_str().unwrap().split(',').map(str::trim).collect();
        let mut allowed = allowed.into_iter().map(str::to_owned).collect::<Vec<_>>();
        allowed.sort();
        let mut expected: Vec<String> = allow.split(',').map(str::to_owned).collect();
        expected.sort();
        assert_eq!(allowed, expected, "{method} {path}: Allow");
    }
    // Unknown routes stay 404 in the same shape.
    assert_eq!(api.raw(Method::PUT, "/v2/nothing", None).await, (404, error("route not found", 404)));
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_over_the_limit_is_413_in_the_error_shape() {
    let emulator = EmulatorBuilder::new().start().await;
    let api = emulator.api();
    let (id, _) = api.create("http://127.0.0.1:9/hook", &[EVENT]).await;
    let expected = error("the request body is over the API's limit of 2 MiB (2097152 bytes)", 413);
    assert_eq!(MAX_REQUEST_BODY_BYTES, 2_097_152);
    let too_big = vec![b' '; MAX_REQUEST_BODY_BYTES + 1];
    for (method, path) in [
        (Method::POST, "/v1/events".to_owned()),
        (Method::POST, "/v1/webhooks".to_owned()),
        (Method::PATCH, format!("/v1/webhooks/{id}")),
        (Method::POST, format!("/v1/webhooks/{id}/test")),
    ] {
        let answer = api.raw(method.clone(), &path, Some(too_big.clone())).await;
        assert_eq!(answer, (413, expected.clone()), "{method} {path}");
    }
    // Exactly at the limit, the body is read (and then judged: here, not JSON).
    let at_limit = vec![b' '; MAX_REQUEST_BODY_BYTES];
    let answer = api.raw(Method::POST, "/v1/events", Some(at_limit)).await;
    assert_eq!(
        answer,
        (400, error("invalid JSON body: EOF while parsing a value at line 1 column 2097152", 400))
    );
    // Nothing changed.
    assert_eq!(api.get(&format!("/v1/webhooks/{id}")).await.1["enabled"], true);
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_id_that_is_not_utf8_is_400_in_the_error_shape() {
    let emulator = EmulatorBuilder::new().start().await;
    let api = emulator.api();
    let expected = error("invalid webhook id: the path segment is not UTF-8 once percent-decoded", 400);
    for (method, path) in [
        (Method::GET, "/v1/webhooks/%FF"),
        (Method::PATCH, "/v1/webhooks/%FF"),
        (Method::DELETE, "/v1/webhooks/wh_%C3%28"),
        (Method::POST, "/v1/webhooks/%FF/rotate-secret"),
        (Method::POST, "/v1/webhooks/%FF/test"),
        (Method::GET, "/v1/webhooks/%FF/events"),
    ] {
        let answer = api.raw(method.clone(), path, Some(b"{}".to_vec())).await;
        assert_eq!(answer, (400, expected.clone()), "{method} {path}");
    }
    emulator.shutdown().await;
}

/// SPEC §2/§3.7: the cap is 64 KB (65 536 bytes of envelope), and only `output.value` is ever truncated.
/// An envelope still over the cap after that is refused with 413 and nothing is stored or delivered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_over_the_64_kb_cap_after_truncation_is_413() {
    let emulator = EmulatorBuilder::new().start().await;
    let api = emulator.api();
    let receiver = ReceiverBuilder::new().always(200).start().await;
    let (id, _) = api.create(&receiver.url(), &[EVENT]).await;
    assert_eq!(MAX_PAYLOAD_BYTES, 65_536);

    // `data` whose envelope is exactly `size` bytes.
    let base = envelope_size(&json!({"notes": ""}));
    let notes = |size: usize| json!({"notes": "n".repeat(size - base)});
    assert_eq!(envelope_size(&notes(MAX_PAYLOAD_BYTES)), MAX_PAYLOAD_BYTES);

    let too_large = |size: usize| {
        error(
            &format!(
                "the event's envelope is {size} bytes, over the provider's 64 KB cap (65536 bytes) even with \
                 `data.output.value` replaced by \"__truncated__\": send less `data`"
            ),
            413,
        )
    };
    // One byte over, no `output.value` to truncate.
    let answer = api.post("/v1/events", json!({"type": EVENT, "data": notes(MAX_PAYLOAD_BYTES + 1)})).await;
    assert_eq!(answer, (413, too_large(MAX_PAYLOAD_BYTES + 1)));

    // The review's case: `output.value` is truncated, and the rest is still 70 000 bytes.
    let both = json!({"output": {"value": "v".repeat(70_000)}, "notes": "n".repeat(70_000)});
    let truncated = json!({"output": {"value": "__truncated__"}, "notes": "n".repeat(70_000)});
    let size = envelope_size(&truncated);
    assert!(size > MAX_PAYLOAD_BYTES);
    assert_eq!(envelope_size(&both), size, "to_body truncates output.value");
    let answer = api.post("/v1/events", json!({"type": EVENT, "data": both})).await;
    assert_eq!(answer, (413, too_large(size)));

    // About 1.5 MB of `data` (under the request limit, far over the cap).
    let huge = json!({"blob": "x".repeat(1_500_000)});
    let answer = api.post("/v1/events", json!({"type": EVENT, "data": huge.clone()})).await;
    assert_eq!(answer, (413, too_large(envelope_size(&huge))));

    // Refused events are not stored: the history is still empty (the insert happens before the answer).
    assert_eq!(api.history(&id, "").await["pagination"]["total"], 0);

    // At the cap exactly: accepted, and delivered byte for byte.
    let answer = api.publish(EVENT, notes(MAX_PAYLOAD_BYTES)).await;
    assert_eq!(answer["deliveries"], 1);
    // Over the cap only because of `output.value`: truncated to fit, accepted.
    let fits = json!({"output": {"value": "v".repeat(200_000)}, "notes": "short"});
    let answer = api.publish(EVENT, fits).await;
    assert_eq!(answer["deliveries"], 1);

    let arrivals = receiver.wait_for(2, Duration::from_secs(30)).await;
    let mut sizes: Vec<usize> = arrivals.iter().map(|arrival| arrival.body.len()).collect();
    sizes.sort_unstable();
    let truncated_size = envelope_size(&json!({"output": {"value": "__truncated__"}, "notes": "short"}));
    assert_eq!(sizes, [truncated_size, MAX_PAYLOAD_BYTES]);
    let rows = api.wait_final(&id, 2, Duration::from_secs(30)).await;
    assert!(rows.iter().all(|row| row["status"] == "succeeded"), "{rows:?}");
    emulator.shutdown().await;
}
