//! Dispatcher throughput: 10 000 events to one local receiver that answers 200 at once.
//!
//! `cargo bench -p anchor-webhooks-sender --bench dispatch` writes `sender/benches/RESULTS.md`.
//! The figure counts from the first publish to the last delivery recorded as `succeeded` in the
//! delivery log (so signing, the HTTP round trip and the SQLite writes are all inside it). The receiver
//! runs in the same process, on the same 2 cores, as the emulator would beside a local service.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anchor_webhooks_sender::service::NewWebhook;
use anchor_webhooks_sender::store::{DeliveryFilter, DeliveryStatus};
use anchor_webhooks_sender::{DispatchConfig, Sender, SenderConfig, UrlPolicy};
use serde_json::json;

const EVENTS: usize = 10_000;
const TARGET_PER_SECOND: f64 = 5_000.0;

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn main() {
    // `cargo bench` passes `--bench`; any other argument is a filter we do not use.
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    runtime.block_on(run());
}

async fn run() {
    let arrived = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&arrived);
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move || {
            counter.fetch_add(1, Ordering::Relaxed);
            async { "ok" }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let receiver = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let config = SenderConfig {
        dispatch: DispatchConfig {
            url_policy: UrlPolicy { allow_insecure_localhost: true },
            ..DispatchConfig::default()
        },
        db_path: None,
    };
    let sender = Sender::start(config).unwrap();
    let project = Sender::project_for_key("bench");
    let new = NewWebhook {
        url: format!("http://{receiver}/hook"),
        description: None,
        subscribed_events: vec!["task.completed".into()],
    };
    let (webhook, _secret) = sender.create_webhook(&project, new).unwrap();
    let rss_before = peak_rss_kib();

    let started = Instant::now();
    for i in 0..EVENTS {
        let data = json!({"task_id": format!("task_{i}"), "artifacts": [], "output": {"value": "done"}});
        sender.publish(&project, "task.completed", data).unwrap();
        if i % 500 == 0 {
            tokio::task::yield_now().await;
        }
    }
    let published = started.elapsed();
    let succeeded =
        DeliveryFilter { status: Some(DeliveryStatus::Succeeded), limit: 1, ..DeliveryFilter::default() };
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let (_, done) = sender.deliveries(&project, &webhook.id, &succeeded).unwrap();
        if done as usize >= EVENTS || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let elapsed = started.elapsed();
    let (_, done) = sender.deliveries(&project, &webhook.id, &succeeded).unwrap();
    let per_second = done as f64 / elapsed.as_secs_f64();
    let peak = peak_rss_kib();
    let verdict = if done as usize == EVENTS && per_second >= TARGET_PER_SECOND { "MET" } else { "MISSED" };

    let report = format!(
        "# Dispatcher benchmark\n\n\
         Written by `sender/benches/dispatch.rs` at the end of its own run; do not edit by hand.\n\
         Reproduce: `cargo bench -p anchor-webhooks-sender --bench dispatch`.\n\n\
         - machine: {cpu}, {cores} cores available\n\
         - events: {EVENTS} `task.completed` events, one webhook, receiver in-process answering 200 at once\n\
         - storage: SQLite in memory; every attempt is written to the delivery log\n\n\
         | measure | value |\n|---|---:|\n\
         | deliveries recorded `succeeded` | {done} of {EVENTS} |\n\
         | requests seen by the receiver | {arrived} |\n\
         | time to publish all events | {published:.2?} |\n\
         | time to the last success | {elapsed:.2?} |\n\
         | **deliveries per second** | **{per_second:.0}** |\n\
         | peak RSS before publishing | {rss_before} KiB |\n\
         | peak RSS of the run | {peak} KiB |\n\n\
         Target: at least {TARGET_PER_SECOND:.0} deliveries per second on this 2-core machine: **{verdict}**.\n",
        cpu = cpu_model(),
        cores = std::thread::available_parallelism().map_or(0, usize::from),
        arrived = arrived.load(Ordering::Relaxed),
        rss_before = rss_before.map_or("?".into(), |kib| kib.to_string()),
        peak = peak.map_or("?".into(), |kib| kib.to_string()),
    );
    print!("{report}");
    std::fs::write(concat!(env!("CARGO_MANIFEST_DIR"), "/benches/RESULTS.md"), report).unwrap();
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|line| line.starts_with("model name"))
                .map(|line| line.split_once(':').map_or(line, |(_, model)| model).trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into())
}
