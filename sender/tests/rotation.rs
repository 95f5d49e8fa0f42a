//! Secret rotation: the old secret keeps signing (a second `v1`) for 24 hours, then stops.

mod common;

use std::sync::Arc;
use std::time::Duration;

use anchor_webhooks_sender::{Clock, OffsetClock};
use common::{Check, EmulatorBuilder, ReceiverBuilder};
use serde_json::json;

const EVENT: &str = "task.completed";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_old_secret_signs_for_24_hours_after_a_rotation() {
    // One clock for the emulator and the receiver, so both jump a day ahead together.
    let clock = Arc::new(OffsetClock::new());
    let emulator = EmulatorBuilder::new().clock(Arc::clone(&clock)).start().await;
    let api = emulator.api();
    let receiver_clock: Arc<dyn Clock> = clock.clone();
    let receiver = ReceiverBuilder::new().clock(receiver_clock).always(200).start().await;
    let (id, old) = api.create(&receiver.url(), &[EVENT]).await;

    // Before the rotation: one v1, the old secret.
    let before = api.send_test(&id, EVENT).await;
    let arrivals = receiver.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(arrivals[0].event_id(), before);
    assert_eq!(arrivals[0].v1_items().len(), 1);
    assert!(matches!(arrivals[0].verify_with(&[&old]), Check::Ok { matched_secret: 0, .. }));

    let (status, rotated) = api.post(&format!("/v1/webhooks/{id}/rotate-secret"), json!({})).await;
    assert_eq!(status, 200, "{rotated}");
    let new = rotated["secret"].as_str().unwrap().to_owned();
    assert_ne!(new, old);

    // During the overlap: two v1 items; either secret alone verifies (each is the only, so index 0).
    let during = api.send_test(&id, EVENT).await;
    let arrivals = receiver.wait_for(2, Duration::from_secs(10)).await;
    let arrival = &arrivals[1];
    assert_eq!(arrival.event_id(), during);
    assert_eq!(arrival.v1_items().len(), 2, "{}", arrival.header("anchor-signature"));
    assert!(
        matches!(arrival.verify_with(&[&old]), Check::Ok { matched_secret: 0, .. }),
        "a receiver with only the OLD secret: {:?}",
        arrival.verify_with(&[&old])
    );
    assert!(
        matches!(arrival.verify_with(&[&new]), Check::Ok { matched_secret: 0, .. }),
        "a receiver with only the NEW secret: {:?}",
        arrival.verify_with(&[&new])
    );
    // A receiver that lists the new secret first, then the old one, reports the new one matched.
    assert!(matches!(arrival.verify_with(&[&new, &old]), Check::Ok { matched_secret: 0, .. }));
    // One listing only an unrelated secret fails.
    let unrelated = "f".repeat(64);
    assert_eq!(arrival.verify_with(&[&unrelated]), Check::Rejected("signature_mismatch".into()));

    // 24 h + 1 s later: one v1, the new secret; the old secret alone no longer verifies.
    clock.advance(Duration::from_secs(24 * 60 * 60 + 1));
    let after = api.send_test(&id, EVENT).await;
    let arrivals = receiver.wait_for(3, Duration::from_secs(10)).await;
    let arrival = &arrivals[2];
    assert_eq!(arrival.event_id(), after);
    let timestamp: i64 = arrival.header("anchor-timestamp").parse().unwrap();
    assert!((timestamp - clock.now_ms() / 1000).abs() <= 2, "signed with the advanced clock");
    assert_eq!(arrival.v1_items().len(), 1, "{}", arrival.header("anchor-signature"));
    assert_eq!(arrival.verify_with(&[&old]), Check::Rejected("signature_mismatch".into()));
    assert!(matches!(arrival.verify_with(&[&new]), Check::Ok { matched_secret: 0, .. }));
    assert!(
        matches!(arrival.verify_with(&[&old, &new]), Check::Ok { matched_secret: 1, .. }),
        "a receiver still listing the old secret first sees the new one (index 1) match"
    );

    let rows = api.wait_final(&id, 3, Duration::from_secs(10)).await;
    assert!(rows.iter().all(|row| row["status"] == "succeeded"), "{rows:?}");
    emulator.shutdown().await;
}
