//! The whole loop in one test: create a webhook, publish an event, a real receiver verifies it.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use anchor_webhooks::Verifier;
use anchor_webhooks_sender::{DispatchConfig, Emulator, SenderConfig, UrlPolicy};
use axum::body::Bytes;
use axum::http::HeaderMap;
use serde_json::{json, Value};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_publish_deliver_verify() {
    let received: Arc<Mutex<Vec<(HeaderMap, Bytes)>>> = Arc::default();
    let sink = Arc::clone(&received);
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: Bytes| async move {
            sink.lock().unwrap().push((headers, body));
            "ok"
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let receiver_addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let config = SenderConfig {
        dispatch: DispatchConfig {
            time_scale: 0.01,
            url_policy: UrlPolicy { allow_insecure_localhost: true },
            ..DispatchConfig::default()
        },
        db_path: None,
    };
    let emulator = Emulator::start("127.0.0.1:0".parse().unwrap(), &["k".into()], config).await.unwrap();
    let client = reqwest::Client::new();
    let created: Value = client
        .post(format!("{}/v1/webhooks", emulator.base_url()))
        .header("anchor-api-key", "k")
        .json(
            &json!({"url": format!("http://{receiver_addr}/hook"), "subscribed_events": ["task.completed"]}),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let secret = created["secret"].as_str().expect("secret shown at create").to_owned();
    let published: Value = client
        .post(format!("{}/v1/events", emulator.base_url()))
        .header("anchor-api-key", "k")
        .json(&json!({"type": "task.completed", "data": {"task_id": "t1", "artifacts": []}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(published["deliveries"], 1);
    // Up to 10 s: the delivery normally arrives within milliseconds; a loaded machine may take seconds.
    for _ in 0..1000 {
        if !received.lock().unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let (headers, body) = received.lock().unwrap().first().cloned().expect("a delivery arrived");
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let verified = Verifier::anchor([&secret]).unwrap().verify(&headers, &body, now).unwrap();
    assert_eq!(verified.event.id(), published["external_event_id"].as_str().unwrap());
    assert_eq!(verified.event.task().unwrap().task_id(), Some("t1"));
    emulator.shutdown().await;
}
