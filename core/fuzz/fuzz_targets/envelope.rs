//! The envelope parser: `Event::from_anchor_body` and `Event::from_standard_body` never panic on any
//! bytes, fail only with `invalid_payload`, and every accessor of a parsed event (typed views included)
//! is total.
#![no_main]

use anchor_webhooks::serde_json;
use anchor_webhooks::{ErrorCode, Event};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let anchor = Event::from_anchor_body(data);
    match &anchor {
        Ok(event) => {
            // The documented envelope rules held.
            assert!(!event.id().is_empty());
            assert!(!event.event_type().as_str().is_empty());
            assert!(event.created().is_some());
            assert!(event.data().is_object());
            exercise(event);
        }
        Err(error) => check_error(error),
    }

    let standard = Event::from_standard_body("msg", data);
    match &standard {
        Ok(event) => {
            assert_eq!(event.id(), "msg");
            assert!(event.project_id().is_none() && event.text().is_none());
            exercise(event);
        }
        Err(error) => check_error(error),
    }
    // Verification validates without building a `Value` and builds it on first use: both must accept
    // exactly what `serde_json` accepts, and agree on what they built.
    let direct = serde_json::from_slice::<serde_json::Value>(data);
    assert_eq!(direct.is_ok(), standard.is_ok(), "lazy validation disagrees with serde_json");
    if let (Ok(direct), Ok(event)) = (&direct, &standard) {
        assert_eq!(event.body(), direct);
        let raw_data =
            serde_json::from_slice::<serde_json::Value>(event.raw_data()).expect("raw_data is JSON");
        assert_eq!(&raw_data, direct.get("data").unwrap_or(&serde_json::Value::Null));
    }
    // Any JSON is a Standard Webhooks payload, so an Anchor envelope always is one.
    if anchor.is_ok() {
        assert!(standard.is_ok(), "an Anchor envelope is not a valid Standard body");
    }
});

fn check_error(error: &anchor_webhooks::Error) {
    assert_eq!(error.code(), ErrorCode::InvalidPayload);
    assert_eq!(error.http_status(), 400);
    let _ = (error.to_string(), format!("{error:?}"));
}

/// Calls every accessor; none may panic.
fn exercise(event: &Event) {
    let event_type = event.event_type();
    let _ = (
        event.id(),
        event_type.as_str(),
        event_type.entity(),
        event_type.is_known(),
        event_type.to_string(),
        event.created(),
        event.project_id(),
        event.text(),
        event.data(),
        event.body(),
        format!("{event:?}"),
    );
    // A known type round-trips through its wire name.
    if event_type.is_known() {
        assert_eq!(&anchor_webhooks::EventType::parse(event_type.as_str()), event_type);
    }

    match event.task() {
        Some(task) => {
            assert_eq!(event_type.entity(), "task");
            for artifact in task.artifacts() {
                let _ = (artifact.name, artifact.url, artifact.size, artifact.content_type);
            }
            let _ = (
                task.recording_url(),
                task.session_dashboard_url(),
                task.task_id(),
                task.execution_id(),
                task.output_value(),
                task.output_truncated(),
                task.error_type().map(|t| t.as_str().to_owned()),
                task.error(),
                task.healed_task_version_id(),
                format!("{task:?}"),
            );
        }
        None => assert_ne!(event_type.entity(), "task"),
    }
    match event.session() {
        Some(session) => {
            assert_eq!(event_type.entity(), "session");
            let _ = (
                session.duration(),
                session.proxy_bytes(),
                session.usage_field("proxy_bytes"),
                session.usage_field(""),
                session.recording_url(),
                session.session_id(),
                format!("{session:?}"),
            );
        }
        None => assert_ne!(event_type.entity(), "session"),
    }

    let copy = event.clone();
    assert_eq!(&copy, event);
    let _ = copy.into_body();
}
