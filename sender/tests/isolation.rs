//! A slow endpoint delays only its own deliveries.

mod common;

use std::time::Duration;

use common::{EmulatorBuilder, ReceiverBuilder, Reply};
use serde_json::json;

const EVENT: &str = "task.completed";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_endpoint_does_not_delay_the_others() {
    // A answers after 6 s: that delay is the whole window for the five publishes, B's deliveries and the
    // `in_flight` read of A's rows (2 s was too short on a loaded machine). The attempt timeout is well
    // above it so A's answers are not timeouts.
    let emulator = EmulatorBuilder::new().attempt_timeout(Duration::from_secs(15)).start().await;
    let api = emulator.api();
    let slow =
        ReceiverBuilder::new().script(|_, _, _| Reply::after(200, Duration::from_secs(6))).start().await;
    let fast = ReceiverBuilder::new().always(200).start().await;
    let (a, _) = api.create(&slow.url(), &[EVENT]).await;
    let (b, _) = api.create(&fast.url(), &[EVENT]).await;

    for n in 0..5 {
        let published = api.publish(EVENT, json!({"n": n})).await;
        assert_eq!(published["deliveries"], 2);
    }

    // B is done long before A's first answer (6 s); 5 s still fails if B waits for A.
    let b_rows = api.wait_final(&b, 5, Duration::from_secs(5)).await;
    assert!(b_rows.iter().all(|row| row["status"] == "succeeded" && row["attempt"] == 1), "{b_rows:?}");
    let a_rows = api.rows(&a).await;
    assert_eq!(a_rows.len(), 5);
    assert!(a_rows.iter().all(|row| row["status"] == "in_flight"), "A is still waiting: {a_rows:?}");

    let a_rows = api.wait_final(&a, 5, Duration::from_secs(15)).await;
    assert!(a_rows.iter().all(|row| row["status"] == "succeeded" && row["attempt"] == 1), "{a_rows:?}");

    let slow_arrivals = slow.arrivals();
    let fast_arrivals = fast.arrivals();
    assert_eq!((slow_arrivals.len(), fast_arrivals.len()), (5, 5));
    let first_slow_answer = slow_arrivals.iter().filter_map(|a| a.answered_at).min().unwrap();
    let last_fast_answer = fast_arrivals.iter().filter_map(|a| a.answered_at).max().unwrap();
    assert!(last_fast_answer < first_slow_answer, "every B delivery succeeded before any A delivery");
    // A's five deliveries ran side by side, not one after another (that would take 30 s).
    assert!(slow_arrivals.iter().all(|arrival| arrival.at < first_slow_answer), "A's requests overlapped");
    emulator.shutdown().await;
}
