//! Shared pieces of the end-to-end tests: a scriptable receiver (a real axum server on 127.0.0.1:0 that
//! verifies with the core `Verifier`), an emulator builder, an API client and `wait_until`.
//!
//! Each test binary uses a subset of these helpers.
#![allow(dead_code)]

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anchor_webhooks::Verifier;
use anchor_webhooks_sender::{Clock, DispatchConfig, Emulator, OffsetClock, SenderConfig, UrlPolicy};
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use serde_json::{json, Value};
use tokio::task::JoinHandle;

pub const KEY: &str = "ak_e2e_test";

// ---------------------------------------------------------------------------------------------------------
// Waiting

/// Polls `check` every 10 ms until it yields `Some`, or panics after `timeout` saying what was awaited.
pub async fn wait_until<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out after {timeout:?} waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// A port with nothing listening on it: connecting is refused (RST), as for a receiver that is down.
///
/// The socket stays bound (not listening) while this value lives, so no other test's `bind(0)` can be
/// given the port in the meantime (a port bound then released could be, and would then answer or make a
/// later bind fail). `ReceiverBuilder::start_on` turns the same socket into the receiver's listener.
pub struct ClosedPort {
    socket: tokio::net::TcpSocket,
    pub addr: SocketAddr,
}

impl ClosedPort {
    pub fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }
}

pub fn closed_port() -> ClosedPort {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let addr = socket.local_addr().unwrap();
    ClosedPort { socket, addr }
}

// ---------------------------------------------------------------------------------------------------------
// Receiver

/// What the receiver's verifier said about one arrival.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Check {
    Ok {
        matched_secret: usize,
        event_id: String,
        delivery_id: Option<String>,
        timestamp: u64,
    },
    /// The core error code, e.g. `signature_mismatch`.
    Rejected(String),
}

/// One request the receiver saw.
#[derive(Clone, Debug)]
pub struct Arrival {
    /// When the handler started (monotonic).
    pub at: Instant,
    /// The receiver's clock at arrival, unix ms (the injected clock when there is one).
    pub now_ms: i64,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// Present when the receiver was given a verifier.
    pub check: Option<Check>,
    /// The status the receiver answered.
    pub answered: u16,
    /// When the answer was sent (after any scripted delay).
    pub answered_at: Option<Instant>,
}

impl Arrival {
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default()
    }

    pub fn envelope(&self) -> Value {
        serde_json::from_slice(&self.body).expect("the body is JSON")
    }

    pub fn event_id(&self) -> String {
        self.envelope()["id"].as_str().expect("envelope id").to_owned()
    }

    /// The `v1` values of `Anchor-Signature`.
    pub fn v1_items(&self) -> Vec<String> {
        self.header("anchor-signature")
            .split(',')
            .filter_map(|item| item.trim().strip_prefix("v1="))
            .map(str::to_owned)
            .collect()
    }

    /// Verifies this arrival with `secrets` at the receiver's clock of the arrival.
    pub fn verify_with(&self, secrets: &[&str]) -> Check {
        check(&Verifier::anchor(secrets).unwrap(), &self.headers, &self.body, self.now_ms)
    }
}

fn check(verifier: &Verifier, headers: &HeaderMap, body: &[u8], now_ms: i64) -> Check {
    match verifier.verify(headers, body, (now_ms / 1000) as u64) {
        Ok(verified) => Check::Ok {
            matched_secret: verified.matched_secret,
            event_id: verified.event.id().to_owned(),
            delivery_id: verified.delivery_id,
            timestamp: verified.timestamp,
        },
        Err(error) => Check::Rejected(error.code().as_str().to_owned()),
    }
}

/// How the receiver answers: status, after a delay.
#[derive(Clone, Copy, Debug)]
pub struct Reply {
    pub status: u16,
    pub delay: Duration,
}

impl Reply {
    pub fn status(status: u16) -> Reply {
        Reply { status, delay: Duration::ZERO }
    }

    pub fn after(status: u16, delay: Duration) -> Reply {
        Reply { status, delay }
    }
}

/// Decides the answer to the `n`-th arrival (0-based, counted over the whole receiver).
pub type Script = Arc<dyn Fn(usize, &HeaderMap, &Bytes) -> Reply + Send + Sync>;

pub struct ReceiverBuilder {
    script: Script,
    verifier: Option<Arc<Verifier>>,
    clock: Arc<dyn Clock>,
}

impl Default for ReceiverBuilder {
    fn default() -> ReceiverBuilder {
        ReceiverBuilder {
            script: Arc::new(|_, _, _| Reply::status(200)),
            verifier: None,
            clock: Arc::new(anchor_webhooks_sender::SystemClock),
        }
    }
}

impl ReceiverBuilder {
    pub fn new() -> ReceiverBuilder {
        ReceiverBuilder::default()
    }

    /// Answers every request with `status`.
    pub fn always(self, status: u16) -> ReceiverBuilder {
        self.script(move |_, _, _| Reply::status(status))
    }

    /// Answers the n-th request with `statuses[n]`, and `then` once they are used up.
    pub fn sequence(self, statuses: &[u16], then: u16) -> ReceiverBuilder {
        let statuses = statuses.to_vec();
        self.script(move |n, _, _| Reply::status(statuses.get(n).copied().unwrap_or(then)))
    }

    pub fn script(
        mut self,
        script: impl Fn(usize, &HeaderMap, &Bytes) -> Reply + Send + Sync + 'static,
    ) -> ReceiverBuilder {
        self.script = Arc::new(script);
        self
    }

    /// Verifies every arrival with the core verifier; a failed verification is answered 401 (whatever the
    /// script says) and recorded.
    pub fn verify(mut self, secrets: &[&str]) -> ReceiverBuilder {
        self.verifier = Some(Arc::new(Verifier::anchor(secrets).unwrap()));
        self
    }

    /// The receiver's clock (for `now` in verification and `Arrival::now_ms`).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> ReceiverBuilder {
        self.clock = clock;
        self
    }

    pub async fn start(self) -> TestReceiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        self.serve(listener)
    }

    /// Starts listening on a port that was refusing connections until now (the receiver comes up).
    pub async fn start_on(self, port: ClosedPort) -> TestReceiver {
        self.serve(port.socket.listen(1024).unwrap())
    }

    fn serve(self, listener: tokio::net::TcpListener) -> TestReceiver {
        let arrivals: Arc<Mutex<Vec<Arrival>>> = Arc::default();
        let log = Arc::clone(&arrivals);
        let ReceiverBuilder { script, verifier, clock } = self;
        let handler = move |headers: HeaderMap, body: Bytes| {
            let log = Arc::clone(&log);
            let script = Arc::clone(&script);
            let verifier = verifier.clone();
            let clock = Arc::clone(&clock);
            async move {
                let at = Instant::now();
                let now_ms = clock.now_ms();
                let check = verifier.as_ref().map(|verifier| check(verifier, &headers, &body, now_ms));
                let index = {
                    let mut log = log.lock().unwrap();
                    log.push(Arrival {
                        at,
                        now_ms,
                        headers: headers.clone(),
                        body: body.clone(),
                        check: check.clone(),
                        answered: 0,
                        answered_at: None,
                    });
                    log.len() - 1
                };
                let mut reply = script(index, &headers, &body);
                if matches!(check, Some(Check::Rejected(_))) {
                    reply = Reply::status(401);
                }
                if !reply.delay.is_zero() {
                    tokio::time::sleep(reply.delay).await;
                }
                {
                    let mut log = log.lock().unwrap();
                    log[index].answered = reply.status;
                    log[index].answered_at = Some(Instant::now());
                }
                (StatusCode::from_u16(reply.status).unwrap(), "answer")
            }
        };
        let app = axum::Router::new().route("/hook", axum::routing::post(handler));
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        TestReceiver { addr, arrivals, task }
    }
}

/// A running receiver.
pub struct TestReceiver {
    pub addr: SocketAddr,
    arrivals: Arc<Mutex<Vec<Arrival>>>,
    task: JoinHandle<()>,
}

impl TestReceiver {
    pub fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }

    pub fn arrivals(&self) -> Vec<Arrival> {
        self.arrivals.lock().unwrap().clone()
    }

    pub fn count(&self) -> usize {
        self.arrivals.lock().unwrap().len()
    }

    /// Waits until at least `n` requests arrived, and returns them all.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Arrival> {
        wait_until(&format!("{n} arrivals at {}", self.url()), timeout, || async {
            let arrivals = self.arrivals();
            (arrivals.len() >= n).then_some(arrivals)
        })
        .await
    }
}

impl Drop for TestReceiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

// ---------------------------------------------------------------------------------------------------------
// Emulator

pub struct EmulatorBuilder {
    keys: Vec<String>,
    dispatch: DispatchConfig,
    db_path: Option<PathBuf>,
    clock: Arc<OffsetClock>,
}

impl Default for EmulatorBuilder {
    fn default() -> EmulatorBuilder {
        EmulatorBuilder {
            keys: vec![KEY.to_owned()],
            dispatch: DispatchConfig {
                time_scale: 0.01,
                attempt_timeout: Duration::from_secs(5),
                url_policy: UrlPolicy { allow_insecure_localhost: true },
                ..DispatchConfig::default()
            },
            db_path: None,
            clock: Arc::new(OffsetClock::new()),
        }
    }
}

impl EmulatorBuilder {
    pub fn new() -> EmulatorBuilder {
        EmulatorBuilder::default()
    }

    pub fn keys(mut self, keys: &[&str]) -> EmulatorBuilder {
        self.keys = keys.iter().map(|key| (*key).to_owned()).collect();
        self
    }

    pub fn time_scale(mut self, scale: f64) -> EmulatorBuilder {
        self.dispatch.time_scale = scale;
        self
    }

    /// The URL rules (the default here is the local-testing policy, so receivers on loopback work).
    pub fn url_policy(mut self, policy: UrlPolicy) -> EmulatorBuilder {
        self.dispatch.url_policy = policy;
        self
    }

    pub fn attempt_timeout(mut self, timeout: Duration) -> EmulatorBuilder {
        self.dispatch.attempt_timeout = timeout;
        self
    }

    pub fn db_path(mut self, path: PathBuf) -> EmulatorBuilder {
        self.db_path = Some(path);
        self
    }

    pub fn clock(mut self, clock: Arc<OffsetClock>) -> EmulatorBuilder {
        self.clock = clock;
        self
    }

    pub async fn start(self) -> TestEmulator {
        let config = SenderConfig { dispatch: self.dispatch, db_path: self.db_path };
        let clock: Arc<dyn Clock> = self.clock.clone();
        let emulator = Emulator::start_with_clock("127.0.0.1:0".parse().unwrap(), &self.keys, config, clock)
            .await
            .unwrap();
        TestEmulator { base: emulator.base_url(), emulator, clock: self.clock }
    }
}

pub struct TestEmulator {
    pub emulator: Emulator,
    pub base: String,
    pub clock: Arc<OffsetClock>,
}

impl TestEmulator {
    /// A client with the default key.
    pub fn api(&self) -> Api {
        self.api_with(KEY)
    }

    pub fn api_with(&self, key: &str) -> Api {
        Api { client: reqwest::Client::new(), base: self.base.clone(), key: Some(key.to_owned()) }
    }

    pub async fn shutdown(self) {
        self.emulator.shutdown().await;
    }
}

// ---------------------------------------------------------------------------------------------------------
// API client

#[derive(Clone, Debug)]
pub struct Api {
    client: reqwest::Client,
    pub base: String,
    /// The `anchor-api-key` header; none when `None`.
    pub key: Option<String>,
}

/// A JSON answer: status and body (`Value::Null` when the body is not JSON).
pub type Answer = (u16, Value);

impl Api {
    pub fn with_key(&self, key: Option<&str>) -> Api {
        Api { key: key.map(str::to_owned), ..self.clone() }
    }

    /// Any request; `body` is sent verbatim as `application/json`.
    pub async fn raw(&self, method: reqwest::Method, path: &str, body: Option<Vec<u8>>) -> Answer {
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if let Some(key) = &self.key {
            request = request.header("anchor-api-key", key);
        }
        if let Some(body) = body {
            request = request.header("content-type", "application/json").body(body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let bytes = response.bytes().await.unwrap();
        (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.raw(reqwest::Method::GET, path, None).await
    }

    pub async fn delete(&self, path: &str) -> Answer {
        self.raw(reqwest::Method::DELETE, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Answer {
        self.raw(reqwest::Method::POST, path, Some(serde_json::to_vec(&body).unwrap())).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> Answer {
        self.raw(reqwest::Method::PATCH, path, Some(serde_json::to_vec(&body).unwrap())).await
    }

    /// Creates a webhook (asserting 201) and returns the created JSON (with `secret`).
    pub async fn create_webhook(&self, url: &str, events: &[&str]) -> Value {
        let (status, body) =
            self.post("/v1/webhooks", json!({"url": url, "subscribed_events": events})).await;
        assert_eq!(status, 201, "create webhook: {body}");
        body
    }

    /// Creates a webhook and returns `(id, secret)`.
    pub async fn create(&self, url: &str, events: &[&str]) -> (String, String) {
        let created = self.create_webhook(url, events).await;
        (created["id"].as_str().unwrap().to_owned(), created["secret"].as_str().unwrap().to_owned())
    }

    /// `POST /v1/events` (asserting 202); returns the answer.
    pub async fn publish(&self, event_type: &str, data: Value) -> Value {
        let (status, body) = self.post("/v1/events", json!({"type": event_type, "data": data})).await;
        assert_eq!(status, 202, "publish: {body}");
        body
    }

    /// `POST /v1/webhooks/{id}/test` (asserting 202); returns `external_event_id`.
    pub async fn send_test(&self, id: &str, event_type: &str) -> String {
        let (status, body) =
            self.post(&format!("/v1/webhooks/{id}/test"), json!({"event_type": event_type})).await;
        assert_eq!(status, 202, "test event: {body}");
        body["external_event_id"].as_str().unwrap().to_owned()
    }

    /// `GET /v1/webhooks/{id}/events?{query}` (asserting 200); returns the whole answer.
    pub async fn history(&self, id: &str, query: &str) -> Value {
        let (status, body) = self.get(&format!("/v1/webhooks/{id}/events?{query}")).await;
        assert_eq!(status, 200, "history {query}: {body}");
        body
    }

    /// The history rows of a webhook (up to 100).
    pub async fn rows(&self, id: &str) -> Vec<Value> {
        self.history(id, "limit=100").await["events"].as_array().unwrap().clone()
    }

    /// Polls the history until `done(rows)` holds; returns the rows.
    pub async fn wait_rows(
        &self,
        id: &str,
        what: &str,
        timeout: Duration,
        done: impl Fn(&[Value]) -> bool,
    ) -> Vec<Value> {
        wait_until(what, timeout, || async {
            let rows = self.rows(id).await;
            done(&rows).then_some(rows)
        })
        .await
    }

    /// Waits until `n` rows exist and all are final (succeeded, failed or dead).
    pub async fn wait_final(&self, id: &str, n: usize, timeout: Duration) -> Vec<Value> {
        self.wait_rows(id, &format!("{n} final deliveries of {id}"), timeout, |rows| {
            rows.len() == n && rows.iter().all(is_final)
        })
        .await
    }

    /// The history row of one event.
    pub async fn row_of(&self, id: &str, event_id: &str) -> Value {
        self.rows(id)
            .await
            .into_iter()
            .find(|row| row["external_event_id"] == event_id)
            .unwrap_or_else(|| panic!("no history row for {event_id}"))
    }
}

pub fn is_final(row: &Value) -> bool {
    matches!(row["status"].as_str(), Some("succeeded" | "failed" | "dead"))
}

/// Asserts the `{"error": <non-empty string>, "code": status}` shape.
pub fn assert_error(answer: &Answer, status: u16, context: &str) {
    assert_eq!(answer.0, status, "{context}: {}", answer.1);
    let object = answer.1.as_object().unwrap_or_else(|| panic!("{context}: not a JSON object: {}", answer.1));
    assert_eq!(object.len(), 2, "{context}: exactly `error` and `code`: {}", answer.1);
    assert_eq!(answer.1["code"], json!(status), "{context}");
    assert!(answer.1["error"].as_str().is_some_and(|e| !e.is_empty()), "{context}: {}", answer.1);
}
