//! A receiver in a few lines: verify, dedupe, run the handler, answer with the suggested status.
//!
//! Run with `cargo run -p anchor-webhooks --example quickstart`. In a real service the headers and raw
//! body come from your framework (`http::HeaderMap` and the body bytes, *before* any JSON parsing).

use std::time::{SystemTime, UNIX_EPOCH};

use anchor_webhooks::{sign, MemoryStore, Receiver, Scheme, Verifier};

fn main() -> Result<(), anchor_webhooks::Error> {
    let secret = "36da51b166a69268a59a8d5ee0b32c9f5e5aaee7d301c7a5a36844318e116fc6";
    let now_ms = SystemTime::now().duration_since(UNIX_EPOCH).expect("clock after 1970").as_millis() as u64;

    // Built once at start-up and shared (it is `Send + Sync`).
    let receiver = Receiver::new(Verifier::anchor([secret])?, MemoryStore::default());

    // A delivery as the provider would send it (signed here so the example is self-contained).
    let body = br#"{"id":"evt_1","type":"task.failed","created":"2026-05-24T12:18:05.123Z","data":{"error":{"type":"timeout"}}}"#;
    let mut headers = http::HeaderMap::new();
    for (name, value) in sign(Scheme::Anchor, [secret], body, now_ms / 1000)?.iter() {
        headers.insert(name, value.parse().expect("signed header values are ASCII"));
    }

    for attempt in 1..=2 {
        let outcome = receiver.handle(&headers, body, now_ms, |verified| {
            let event = &verified.event;
            if let Some(task) = event.task() {
                println!("{} {}: error type {:?}", event.event_type(), event.id(), task.error_type());
            }
            Ok::<(), std::io::Error>(())
        });
        // 200 processed, then 200 duplicate (handler not run again).
        println!("attempt {attempt}: {} -> HTTP {}", outcome.kind(), outcome.http_status());
    }
    Ok(())
}
