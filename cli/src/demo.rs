//! `anchor-webhooks demo`: the whole loop in one process, on loopback.
//!
//! The provider emulator and a receiver built on the core `Receiver` run side by side. The demo creates a
//! webhook through the management API, delivers one event of every catalogue type, shows a forged delivery
//! refused with its code, an endpoint answering 503 then 200 (the retry is in the delivery log), a replayed
//! delivery suppressed as a duplicate, and a secret rotation (both signatures accepted, the matched secret
//! shown), then prints a summary table. Exit 0 only when every step behaved as expected.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

use anchor_webhooks::{sign, MemoryStore, Outcome, Receiver, Scheme, Verifier};
use anchor_webhooks_sender::envelope::ANCHOR_EVENT_TYPES;
use anchor_webhooks_sender::{DispatchConfig, Emulator, SenderConfig, UrlPolicy};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use clap::Args;
use serde_json::{json, Value};

use crate::output::{self, Failure};

/// The demo's schedule runs 100 times faster than the provider's: the 5 s retry comes after 50 ms.
const TIME_SCALE: f64 = 0.01;
const API_KEY: &str = "ak_demo";

#[derive(Args)]
pub(crate) struct DemoArgs {
    /// Also print every receiver log line (one per delivery).
    #[arg(long)]
    verbose: bool,
}

/// What the receiver saw, per event id.
#[derive(Clone, Debug, Default)]
struct Seen {
    event_type: String,
    verdicts: Vec<String>,
    matched_secret: Option<usize>,
}

/// The receiver: a core `Receiver` (swappable, for the rotation) over one shared dedupe store.
struct ReceiverApp {
    receiver: RwLock<Arc<Receiver<Arc<MemoryStore>>>>,
    store: Arc<MemoryStore>,
    /// How many more requests the `/flaky` path answers with 503 before it processes them.
    flaky_failures_left: AtomicUsize,
    seen: Mutex<BTreeMap<String, Seen>>,
    last_delivery: Mutex<Option<(HeaderMap, Bytes)>>,
    verbose: bool,
}

impl ReceiverApp {
    fn use_secrets(&self, secrets: &[&str]) -> Result<(), Failure> {
        let verifier = Verifier::anchor(secrets)?;
        let receiver = Arc::new(Receiver::new(verifier, Arc::clone(&self.store)));
        *self.receiver.write().unwrap_or_else(PoisonError::into_inner) = receiver;
        Ok(())
    }

    fn record(&self, outcome: &Outcome<String>) {
        let line = match outcome {
            Outcome::Rejected(error) => {
                format!("rejected - - error={} status={}", error.code(), outcome.http_status())
            }
            Outcome::Processed { verified: v, .. }
            | Outcome::Duplicate(v)
            | Outcome::InProgress(v)
            | Outcome::HandlerFailed { verified: v, .. } => {
                let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
                let entry = seen.entry(v.event.id().to_owned()).or_default();
                entry.event_type = v.event.event_type().to_string();
                entry.verdicts.push(outcome.kind().to_owned());
                entry.matched_secret = Some(v.matched_secret);
                format!(
                    "{} {} {} secret={} status={}",
                    outcome.kind(),
                    v.event.event_type(),
                    v.event.id(),
                    v.matched_secret,
                    outcome.http_status()
                )
            }
        };
        if self.verbose {
            output::print_line(&format!("    receiver: {line}"));
        }
    }
}

async fn receive(
    State(app): State<Arc<ReceiverApp>>,
    Path(path): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, String) {
    if path == "flaky"
        && app
            .flaky_failures_left
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
    {
        if app.verbose {
            output::print_line("    receiver: /flaky answers 503 (simulated outage)");
        }
        return (StatusCode::SERVICE_UNAVAILABLE, "try again".into());
    }
    *app.last_delivery.lock().unwrap_or_else(PoisonError::into_inner) = Some((headers.clone(), body.clone()));
    let receiver = Arc::clone(&app.receiver.read().unwrap_or_else(PoisonError::into_inner));
    let outcome = receiver.handle(&headers, &body, crate::unix_now_ms(), |_verified| Ok::<(), String>(()));
    app.record(&outcome);
    let status = StatusCode::from_u16(outcome.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, outcome.kind().to_owned())
}

/// A small client of the emulator's management API.
struct Api {
    base: String,
    client: reqwest::Client,
}

impl Api {
    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Result<Value, Failure> {
        let mut request =
            self.client.request(method, format!("{}{path}", self.base)).header("anchor-api-key", API_KEY);
        if let Some(body) = body {
            request = request.header("content-type", "application/json").body(body.to_string());
        }
        let response = request.send().await.map_err(|e| Failure::runtime(format!("emulator API: {e}")))?;
        let status = response.status();
        let value: Value = response
            .bytes()
            .await
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or(Value::Null);
        if !status.is_success() {
            return Err(Failure::runtime(format!("emulator API {path}: {status}: {value}")));
        }
        Ok(value)
    }

    /// Waits until every delivery of the webhook is final; returns the history rows.
    async fn settled(&self, webhook: &str, expected: usize) -> Result<Vec<Value>, Failure> {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let page = self
                .call(reqwest::Method::GET, &format!("/v1/webhooks/{webhook}/events?limit=100"), None)
                .await?;
            let events = page["events"].as_array().cloned().unwrap_or_default();
            let finished = events
                .iter()
                .filter(|e| matches!(e["status"].as_str(), Some("succeeded" | "failed" | "dead")))
                .count();
            if events.len() >= expected && finished == events.len() {
                return Ok(events);
            }
            if Instant::now() > deadline {
                return Err(Failure::runtime(format!("deliveries to {webhook} did not settle in 15 s")));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

fn step(number: u32, title: &str) {
    output::print_line(&format!("\n{number}. {title}"));
}

fn check(ok: bool, what: &str, failures: &mut Vec<String>) {
    output::print_line(&format!("   {} {what}", if ok { "✓" } else { "✗" }));
    if !ok {
        failures.push(what.to_owned());
    }
}

fn redact(secret: &str) -> String {
    format!("{}…{} (shown once)", &secret[..6], &secret[secret.len() - 4..])
}

pub(crate) fn run(args: DemoArgs) -> Result<(), Failure> {
    // The emulator's warning about loopback targets is expected here: the demo says so itself.
    crate::init_logging_at("error");
    crate::runtime()?.block_on(demo(args.verbose))
}

async fn demo(verbose: bool) -> Result<(), Failure> {
    let mut failures = Vec::new();
    output::print_line("anchor-webhooks demo: the provider emulator and a verifying receiver, on loopback.");
    output::print_line(&format!(
        "(the retry schedule runs {}× faster than the provider's)",
        (1.0 / TIME_SCALE) as u32
    ));

    // The receiver, on a free port.
    let store = Arc::new(MemoryStore::default());
    let app = Arc::new(ReceiverApp {
        receiver: RwLock::new(Arc::new(Receiver::new(
            Verifier::anchor(["placeholder"])?,
            Arc::clone(&store),
        ))),
        store,
        flaky_failures_left: AtomicUsize::new(0),
        seen: Mutex::default(),
        last_delivery: Mutex::default(),
        verbose,
    });
    let listener =
        tokio::net::TcpListener::bind("127.0.0.1:0").await.map_err(|e| Failure::runtime(e.to_string()))?;
    let receiver_addr: SocketAddr = listener.local_addr().map_err(|e| Failure::runtime(e.to_string()))?;
    let router =
        axum::Router::new().route("/{path}", axum::routing::post(receive)).with_state(Arc::clone(&app));
    tokio::spawn(async move { axum::serve(listener, router).await });

    // The emulator: plain HTTP to loopback is allowed here, and only here.
    let config = SenderConfig {
        dispatch: DispatchConfig::scaled(TIME_SCALE, UrlPolicy { allow_insecure_localhost: true }),
        db_path: None,
    };
    let emulator =
        Emulator::start("127.0.0.1:0".parse().expect("literal address"), &[API_KEY.to_owned()], config)
            .await
            .map_err(|e| Failure::runtime(format!("cannot start the emulator: {e}")))?;
    let api = Api { base: emulator.base_url(), client: reqwest::Client::new() };

    step(1, "Start the emulator and the receiver");
    output::print_line(&format!("   emulator API  {}", emulator.base_url()));
    output::print_line(&format!(
        "   receiver      http://{receiver_addr}/hooks (core Receiver + MemoryStore)"
    ));

    step(2, "Create a webhook subscribed to every event type");
    let created = api
        .call(
            reqwest::Method::POST,
            "/v1/webhooks",
            Some(json!({"url": format!("http://{receiver_addr}/hooks"), "description": "demo",
                        "subscribed_events": ANCHOR_EVENT_TYPES})),
        )
        .await?;
    let webhook = created["id"].as_str().unwrap_or_default().to_owned();
    let secret = created["secret"].as_str().unwrap_or_default().to_owned();
    output::print_line(&format!("   {webhook}, secret {}", redact(&secret)));
    app.use_secrets(&[&secret])?;

    step(3, &format!("Deliver one event of each of the {} types", ANCHOR_EVENT_TYPES.len()));
    let mut published = Vec::new();
    for event_type in ANCHOR_EVENT_TYPES {
        let data = anchor_webhooks_sender::envelope::sample_data(event_type);
        let answer = api
            .call(reqwest::Method::POST, "/v1/events", Some(json!({"type": event_type, "data": data})))
            .await?;
        published.push(answer["external_event_id"].as_str().unwrap_or_default().to_owned());
    }
    let history = api.settled(&webhook, published.len()).await?;
    let processed = {
        let seen = app.seen.lock().unwrap_or_else(PoisonError::into_inner);
        published.iter().filter(|id| seen.get(*id).is_some_and(|s| s.verdicts == ["processed"])).count()
    };
    check(
        processed == published.len(),
        &format!("{processed} of {} events verified and processed once", published.len()),
        &mut failures,
    );
    let succeeded = history.iter().filter(|row| row["status"] == "succeeded").count();
    check(
        succeeded == published.len(),
        &format!("delivery log: {succeeded} succeeded at attempt 1"),
        &mut failures,
    );

    step(4, "A forged delivery (signed with a secret the receiver does not know)");
    let body =
        br#"{"id":"evt_forged","type":"task.completed","created":"2026-05-24T12:18:05.123Z","data":{}}"#;
    let forged = sign(Scheme::Anchor, ["not-the-webhook-secret"], body, crate::unix_now())?;
    let client = reqwest::Client::new();
    let mut request = client.post(format!("http://{receiver_addr}/hooks")).body(body.to_vec());
    for (name, value) in forged.iter() {
        request = request.header(name, value);
    }
    let status = request.send().await.map_err(|e| Failure::runtime(e.to_string()))?.status();
    let verifier = Verifier::anchor([&secret])?;
    let error = verifier.verify(&forged, body, crate::unix_now()).err();
    let code = error.as_ref().map_or("none", |e| e.code().as_str());
    output::print_line(&format!("   receiver answered {status}: {code}"));
    check(
        status == StatusCode::UNAUTHORIZED && code == "signature_mismatch",
        "forgery refused with signature_mismatch (401)",
        &mut failures,
    );

    step(5, "An endpoint that answers 503, then 200");
    let flaky = api
        .call(
            reqwest::Method::POST,
            "/v1/webhooks",
            Some(
                json!({"url": format!("http://{receiver_addr}/flaky"), "subscribed_events": ["task.failed"]}),
            ),
        )
        .await?;
    let flaky_id = flaky["id"].as_str().unwrap_or_default().to_owned();
    app.use_secrets(&[&secret, flaky["secret"].as_str().unwrap_or_default()])?;
    app.flaky_failures_left.store(1, Ordering::SeqCst);
    let retried = api
        .call(
            reqwest::Method::POST,
            &format!("/v1/webhooks/{flaky_id}/test"),
            Some(json!({"event_type": "task.failed"})),
        )
        .await?;
    let rows = api.settled(&flaky_id, 1).await?;
    let row = rows.first().cloned().unwrap_or_default();
    output::print_line(&format!(
        "   delivery log: {} status={} attempt={} response_status={}",
        row["external_event_id"].as_str().unwrap_or("?"),
        row["status"],
        row["attempt"],
        row["response_status"]
    ));
    check(
        row["status"] == "succeeded"
            && row["attempt"] == 2
            && row["external_event_id"] == retried["external_event_id"],
        "first attempt got 503, the retry (attempt 2) succeeded",
        &mut failures,
    );

    step(6, "The same delivery again (a retry after a lost 200, or a replay)");
    let last = app.last_delivery.lock().unwrap_or_else(PoisonError::into_inner).clone();
    if let Some((headers, body)) = last {
        let mut request = client.post(format!("http://{receiver_addr}/hooks")).body(body.to_vec());
        for (name, value) in &headers {
            if name != "host" && name != "content-length" {
                request = request.header(name, value);
            }
        }
        let answer = request.send().await.map_err(|e| Failure::runtime(e.to_string()))?;
        let (status, text) = (answer.status(), answer.text().await.unwrap_or_default());
        output::print_line(&format!("   receiver answered {status}: {text}"));
        check(
            status == StatusCode::OK && text == "duplicate",
            "duplicate answered 200 without running the handler again",
            &mut failures,
        );
    }

    step(7, "Rotate the secret (the old one keeps signing for 24 h)");
    let rotated =
        api.call(reqwest::Method::POST, &format!("/v1/webhooks/{webhook}/rotate-secret"), None).await?;
    let new_secret = rotated["secret"].as_str().unwrap_or_default().to_owned();
    output::print_line(&format!("   new secret {}", redact(&new_secret)));
    let mut rotation_ids = Vec::new();
    let steps = [
        ("receiver still on the old secret", vec![secret.as_str()], "the old one"),
        ("receiver updated to [new, old]", vec![new_secret.as_str(), secret.as_str()], "the new one"),
    ];
    for (label, secrets, which) in steps {
        app.use_secrets(&secrets)?;
        let answer = api
            .call(
                reqwest::Method::POST,
                &format!("/v1/webhooks/{webhook}/test"),
                Some(json!({"event_type": "session.completed"})),
            )
            .await?;
        let id = answer["external_event_id"].as_str().unwrap_or_default().to_owned();
        api.settled(&webhook, published.len() + rotation_ids.len() + 1).await?;
        let seen =
            app.seen.lock().unwrap_or_else(PoisonError::into_inner).get(&id).cloned().unwrap_or_default();
        let signatures = app
            .last_delivery
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .and_then(|(headers, _)| {
                headers
                    .get("anchor-signature")
                    .and_then(|v| v.to_str().ok())
                    .map(|v| v.matches("v1=").count())
            })
            .unwrap_or(0);
        output::print_line(&format!(
            "   {label}: {signatures} signatures in the header, verdict {}, matched secret #{} ({which})",
            seen.verdicts.join(","),
            seen.matched_secret.map_or("-".into(), |i| i.to_string())
        ));
        check(
            signatures == 2 && seen.verdicts == ["processed"] && seen.matched_secret == Some(0),
            &format!("{label}: accepted"),
            &mut failures,
        );
        rotation_ids.push(id);
    }

    step(8, "Summary");
    let seen = app.seen.lock().unwrap_or_else(PoisonError::into_inner).clone();
    let mut rows = Vec::new();
    for webhook_id in [&webhook, &flaky_id] {
        let page = api
            .call(reqwest::Method::GET, &format!("/v1/webhooks/{webhook_id}/events?limit=100"), None)
            .await?;
        rows.extend(page["events"].as_array().cloned().unwrap_or_default());
    }
    rows.sort_by_key(|row| row["scheduled_at"].as_str().unwrap_or_default().to_owned());
    output::print_line(&format!(
        "   {:<32} {:<36} {:>7}  {:<9}  {:<20}  {}",
        "event type", "event id", "attempt", "log", "receiver", "secret"
    ));
    for row in &rows {
        let id = row["external_event_id"].as_str().unwrap_or_default();
        let receiver = seen.get(id).cloned().unwrap_or_default();
        output::print_line(&format!(
            "   {:<32} {:<36} {:>7}  {:<9}  {:<20}  {}",
            row["event_type"].as_str().unwrap_or_default(),
            id,
            row["attempt"].as_u64().unwrap_or_default(),
            row["status"].as_str().unwrap_or_default(),
            receiver.verdicts.join(","),
            receiver.matched_secret.map_or("-".into(), |i| format!("#{i}")),
        ));
    }
    output::print_line("   + 1 forgery refused (signature_mismatch, 401), 1 duplicate suppressed (200)");
    emulator.shutdown().await;

    if failures.is_empty() {
        output::print_line("\ndemo: every step behaved as expected");
        Ok(())
    } else {
        Err(Failure::runtime(format!("demo: {} step(s) misbehaved: {}", failures.len(), failures.join("; "))))
    }
}
