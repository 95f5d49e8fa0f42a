//! Delivery: sign, POST, classify, retry on the provider's schedule, log every attempt.
//!
//! Each logical delivery runs as its own task, so a slow endpoint only ever delays its own deliveries;
//! a per-webhook semaphore bounds how many attempts run against one endpoint at once.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use anchor_webhooks::{Scheme, SignOptions, Signer};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use tokio::sync::{watch, Semaphore};

use crate::clock::Clock;
use crate::store::{AttemptRow, DeliveryRow, DeliveryStatus, Store, WebhookRow};
use crate::url_rules::{self, UrlPolicy};

/// Seconds after the first attempt at which attempts 1 to 6 are due (SPEC §2).
pub const RETRY_SCHEDULE_SECS: [u64; 6] = [0, 5, 15, 30, 50, 80];
/// The provider's answer deadline.
pub const DEFAULT_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);
/// The shortest attempt deadline a scaled schedule uses: long enough that a receiver on a loaded test
/// machine is never mistaken for a slow one (a faster schedule is for fast tests, not for timeouts).
pub const MIN_SCALED_TIMEOUT: Duration = Duration::from_secs(5);
/// The fastest schedule `serve --time-scale` accepts: 80 s become 80 ms.
pub const MIN_TIME_SCALE: f64 = 0.001;
/// The slowest schedule `serve --time-scale` accepts: 80 s become about 22 hours, and the answer
/// deadline 10 000 s. The conversions below saturate for any scale, so a library caller passing more
/// gets a delivery that waits (practically) forever, never a panic.
pub const MAX_TIME_SCALE: f64 = 1000.0;
/// How long an old secret keeps signing after a rotation.
pub const ROTATION_OVERLAP: Duration = Duration::from_secs(24 * 60 * 60);

/// How the dispatcher behaves.
#[derive(Clone, Debug)]
pub struct DispatchConfig {
    /// Multiplies the retry schedule: 1.0 is the provider's; 0.001 turns 80 s into 80 ms for tests.
    pub time_scale: f64,
    /// The deadline of one attempt.
    pub attempt_timeout: Duration,
    pub url_policy: UrlPolicy,
    /// Attempts in flight against one webhook at most.
    pub per_endpoint_concurrency: usize,
}

impl Default for DispatchConfig {
    fn default() -> DispatchConfig {
        DispatchConfig {
            time_scale: 1.0,
            attempt_timeout: DEFAULT_ATTEMPT_TIMEOUT,
            url_policy: UrlPolicy::default(),
            per_endpoint_concurrency: 64,
        }
    }
}

impl DispatchConfig {
    /// The provider's behaviour with the schedule scaled by `time_scale`; the attempt deadline scales
    /// with it, up or down (10 s × scale), but never drops below [`MIN_SCALED_TIMEOUT`], so a loaded test
    /// machine does not turn slow answers into timeouts. `serve` accepts scales from [`MIN_TIME_SCALE`]
    /// to [`MAX_TIME_SCALE`]; any other value saturates instead of panicking.
    pub fn scaled(time_scale: f64, url_policy: UrlPolicy) -> DispatchConfig {
        let attempt_timeout = scale_duration(DEFAULT_ATTEMPT_TIMEOUT, time_scale).max(MIN_SCALED_TIMEOUT);
        DispatchConfig { time_scale, attempt_timeout, url_policy, ..DispatchConfig::default() }
    }

    /// The delay of attempt `attempt` (1-based) after the first one, scaled (saturating at
    /// `Duration::MAX`).
    pub fn offset_of(&self, attempt: u32) -> Duration {
        let index = (attempt.max(1) as usize - 1).min(RETRY_SCHEDULE_SECS.len() - 1);
        scale_duration(Duration::from_secs(RETRY_SCHEDULE_SECS[index]), self.time_scale)
    }

    /// When attempt `attempt` (1-based) of a delivery first tried at `first_attempt_at_ms` is due, in
    /// unix milliseconds, saturating at `i64::MAX` (a schedule too far out to express never runs).
    pub fn due_at_ms(&self, first_attempt_at_ms: i64, attempt: u32) -> i64 {
        let offset = i64::try_from(self.offset_of(attempt).as_millis()).unwrap_or(i64::MAX);
        first_attempt_at_ms.saturating_add(offset)
    }
}

/// `duration × scale`, saturating: a negative or NaN scale gives zero, an overflow `Duration::MAX`.
fn scale_duration(duration: Duration, scale: f64) -> Duration {
    if duration.is_zero() || scale.is_nan() || scale <= 0.0 {
        return Duration::ZERO;
    }
    Duration::try_from_secs_f64(duration.as_secs_f64() * scale).unwrap_or(Duration::MAX)
}

/// How one attempt ended, and what that means for the delivery.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AttemptOutcome {
    /// 2xx.
    Delivered { status: u16 },
    /// Network error, timeout, 5xx, 408, 429 (and 3xx: redirects are not followed, since a redirect could
    /// lead past the URL rules): try again on the schedule.
    Retry { status: Option<u16>, error: String },
    /// Any other 4xx, or a target the URL rules refuse: final.
    Fail { status: Option<u16>, error: String },
}

/// The retry rule of SPEC §2 for an HTTP status.
pub fn classify_status(status: u16) -> AttemptOutcome {
    match status {
        // One rule with the receivers', which release a claim for exactly what is retried here.
        200..=299 => AttemptOutcome::Delivered { status },
        _ if anchor_webhooks::sender_retries(status) => {
            AttemptOutcome::Retry { status: Some(status), error: format!("HTTP {status}") }
        }
        _ => AttemptOutcome::Fail { status: Some(status), error: format!("HTTP {status}") },
    }
}

/// Resolves names like the system does, then refuses addresses the URL rules block, so a name that
/// re-resolves to a private address (DNS rebinding) is never connected to.
#[derive(Debug)]
struct GuardedResolver {
    policy: UrlPolicy,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy;
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let resolved: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> = resolved
                .iter()
                .copied()
                .filter(|addr| url_rules::check_resolved_addr(addr.ip(), policy).is_ok())
                .collect();
            if allowed.is_empty() {
                let error: Box<dyn std::error::Error + Send + Sync> =
                    format!("blocked address: every address of `{host}` is refused by the URL rules").into();
                return Err(error);
            }
            let addrs: Addrs = Box::new(allowed.into_iter());
            Ok(addrs)
        })
    }
}

/// Schedules and performs deliveries.
#[derive(Debug)]
pub struct Dispatcher {
    store: Arc<Store>,
    clock: Arc<dyn Clock>,
    config: DispatchConfig,
    client: reqwest::Client,
    endpoints: Mutex<HashMap<String, Arc<Semaphore>>>,
    /// Flips to `true` once, on shutdown; every delivery task watches it.
    stopped: watch::Sender<bool>,
}

impl Dispatcher {
    pub fn new(store: Arc<Store>, clock: Arc<dyn Clock>, config: DispatchConfig) -> Arc<Dispatcher> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .dns_resolver(Arc::new(GuardedResolver { policy: config.url_policy }))
            .pool_max_idle_per_host(config.per_endpoint_concurrency)
            .tcp_nodelay(true)
            .build()
            .expect("the HTTP client builds with static settings");
        let (stopped, _) = watch::channel(false);
        Arc::new(Dispatcher { store, clock, config, client, endpoints: Mutex::default(), stopped })
    }

    pub fn config(&self) -> &DispatchConfig {
        &self.config
    }

    /// Starts a delivery's task (new, or resumed after a restart).
    pub fn start(self: &Arc<Self>, delivery: DeliveryRow) {
        let mut stopped = self.stopped.subscribe();
        if *stopped.borrow() {
            return;
        }
        let dispatcher = Arc::clone(self);
        tokio::spawn(async move {
            tokio::select! {
                () = dispatcher.run(delivery) => {}
                _ = stopped.wait_for(|stopped| *stopped) => {}
            }
        });
    }

    /// Stops every delivery task at its next await point, and refuses to start new ones.
    pub fn stop(&self) {
        self.stopped.send_replace(true);
    }

    /// Resumes every delivery that was pending or in flight when the process stopped. An attempt that was
    /// in flight is made again (at-least-once: receivers dedupe by event id).
    pub fn resume_unfinished(self: &Arc<Self>) -> Result<usize, crate::store::StoreError> {
        let unfinished = self.store.unfinished_deliveries()?;
        let count = unfinished.len();
        for mut delivery in unfinished {
            if delivery.status == DeliveryStatus::InFlight {
                delivery.attempts_made = delivery.attempts_made.saturating_sub(1);
                delivery.status = DeliveryStatus::Pending;
            }
            self.start(delivery);
        }
        Ok(count)
    }

    fn endpoint(&self, webhook_id: &str) -> Arc<Semaphore> {
        let mut endpoints = self.endpoints.lock().unwrap_or_else(PoisonError::into_inner);
        Arc::clone(
            endpoints
                .entry(webhook_id.to_owned())
                .or_insert_with(|| Arc::new(Semaphore::new(self.config.per_endpoint_concurrency.max(1)))),
        )
    }

    async fn run(self: Arc<Self>, mut delivery: DeliveryRow) {
        let Ok(Some(body)) = self.store.event_body(&delivery.event_id) else {
            tracing::error!(delivery = %delivery.id, "the event of this delivery is gone; dropping it");
            return;
        };
        loop {
            let wait = delivery.scheduled_at_ms.saturating_sub(self.clock.now_ms());
            if wait > 0 {
                tokio::time::sleep(Duration::from_millis(wait.unsigned_abs())).await;
            }
            let webhook = match self.store.webhook(&delivery.webhook_id) {
                Ok(Some(webhook)) if webhook.enabled && webhook.deleted_at_ms.is_none() => webhook,
                Ok(found) => {
                    let why =
                        if found.is_some_and(|w| w.deleted_at_ms.is_none()) { "disabled" } else { "deleted" };
                    // The row now describes an attempt that was never sent: the previous attempt's answer
                    // must not read as this one's (it stays in the attempts table). `attempt` keeps
                    // counting attempts made, so the message names the one that was not sent.
                    delivery.status = DeliveryStatus::Failed;
                    delivery.response_status = None;
                    delivery.error_message = Some(format!(
                        "attempt {} was not sent: the webhook was {why}",
                        delivery.attempts_made + 1
                    ));
                    delivery.completed_at_ms = Some(self.clock.now_ms());
                    self.save(&delivery);
                    return;
                }
                Err(error) => {
                    tracing::error!(%error, "cannot read the webhook; retrying in a second");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            };
            let permit =
                self.endpoint(&webhook.id).acquire_owned().await.expect("semaphores are never closed");
            let attempt = delivery.attempts_made + 1;
            delivery.attempts_made = attempt;
            delivery.status = DeliveryStatus::InFlight;
            self.save(&delivery);

            let started_at_ms = self.clock.now_ms();
            let outcome = self.attempt(&webhook, &delivery, &body).await;
            drop(permit);
            let finished_at_ms = self.clock.now_ms();
            let (status, error) = match &outcome {
                AttemptOutcome::Delivered { status } => (Some(*status), None),
                AttemptOutcome::Retry { status, error } | AttemptOutcome::Fail { status, error } => {
                    (*status, Some(error.clone()))
                }
            };
            delivery.response_status = status;
            delivery.error_message = error.clone();
            delivery.status = match outcome {
                AttemptOutcome::Delivered { .. } => DeliveryStatus::Succeeded,
                AttemptOutcome::Fail { .. } => DeliveryStatus::Failed,
                AttemptOutcome::Retry { .. } if attempt as usize >= RETRY_SCHEDULE_SECS.len() => {
                    DeliveryStatus::Dead
                }
                AttemptOutcome::Retry { .. } => {
                    delivery.scheduled_at_ms =
                        self.config.due_at_ms(delivery.first_attempt_at_ms, attempt + 1);
                    DeliveryStatus::Pending
                }
            };
            if delivery.status.is_final() {
                delivery.completed_at_ms = Some(finished_at_ms);
            }
            let attempt_row = AttemptRow {
                delivery_id: delivery.id.clone(),
                attempt,
                started_at_ms,
                finished_at_ms,
                response_status: status,
                error_message: error,
            };
            if let Err(error) = self.store.record_attempt(&attempt_row, &delivery) {
                tracing::error!(%error, delivery = %delivery.id, "cannot record the attempt");
            }
            if delivery.status.is_final() {
                return;
            }
        }
    }

    fn save(&self, delivery: &DeliveryRow) {
        if let Err(error) = self.store.update_delivery(delivery) {
            tracing::error!(%error, delivery = %delivery.id, "cannot update the delivery");
        }
    }

    /// One signed POST.
    async fn attempt(&self, webhook: &WebhookRow, delivery: &DeliveryRow, body: &[u8]) -> AttemptOutcome {
        let fail = |error: String| AttemptOutcome::Fail { status: None, error };
        // Checked again on every attempt: the stored URL may come from a run with another policy (a
        // database written with --allow-insecure-localhost and reopened without it).
        let url = match url_rules::validate_webhook_url(&webhook.url, self.config.url_policy) {
            Ok(url) => url,
            Err(rejection) => return fail(format!("refused target: {rejection}")),
        };
        // IP literals never pass through the resolver, so they are checked here.
        if let Some(ip) = url.host_str().and_then(|host| host.trim_matches(['[', ']']).parse::<IpAddr>().ok())
        {
            if let Err(rejection) = url_rules::check_resolved_addr(ip, self.config.url_policy) {
                return fail(format!("refused target: {rejection}"));
            }
        }
        let now_ms = self.clock.now_ms();
        let secrets = match self.store.signing_secrets(&webhook.id, now_ms) {
            Ok(secrets) => secrets,
            Err(error) => return AttemptOutcome::Retry { status: None, error: error.to_string() },
        };
        let options = SignOptions { id: Some(&delivery.id), event_type: Some(&delivery.event_type) };
        let headers = match Signer::new(Scheme::Anchor, &secrets)
            .and_then(|signer| signer.sign(body, (now_ms / 1000).max(0) as u64, options))
        {
            Ok(headers) => headers,
            Err(error) => return fail(format!("cannot sign: {error}")),
        };
        let mut request = self.client.post(url).timeout(self.config.attempt_timeout).body(body.to_vec());
        for (name, value) in headers.iter() {
            request = request.header(name, value);
        }
        let started = Instant::now();
        match request.send().await {
            Ok(mut response) => {
                let status = response.status().as_u16();
                // Drain (a bounded amount of) the answer so the connection can be reused.
                let mut drained = 0;
                while let Ok(Some(chunk)) = response.chunk().await {
                    drained += chunk.len();
                    if drained > 64 * 1024 {
                        break;
                    }
                }
                classify_status(status)
            }
            Err(error) if error.is_timeout() => AttemptOutcome::Retry {
                status: None,
                error: format!("timeout: no answer within {} ms", started.elapsed().as_millis()),
            },
            Err(error) => {
                let detail = error_chain(&error);
                if detail.contains("blocked address") {
                    return fail(format!("refused target: {detail}"));
                }
                AttemptOutcome::Retry { status: None, error: format!("network error: {detail}") }
            }
        }
    }
}

/// An error and its causes, `outer: inner: root`, each said once (reqwest's messages repeat their source).
fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = Some(error);
    while let Some(current) = next {
        let text = current.to_string();
        if !parts.iter().any(|part| part.contains(&text)) {
            parts.push(text);
        }
        next = current.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_rule() {
        assert_eq!(classify_status(200), AttemptOutcome::Delivered { status: 200 });
        assert_eq!(classify_status(204), AttemptOutcome::Delivered { status: 204 });
        for retried in [408, 429, 500, 502, 503, 504, 301] {
            assert!(matches!(classify_status(retried), AttemptOutcome::Retry { .. }), "{retried}");
        }
        for failed in [400, 401, 403, 404, 410, 413, 422] {
            assert!(matches!(classify_status(failed), AttemptOutcome::Fail { .. }), "{failed}");
        }
    }

    #[test]
    fn schedule_scales() {
        let config = DispatchConfig { time_scale: 0.01, ..DispatchConfig::default() };
        let offsets: Vec<u128> = (1..=6).map(|attempt| config.offset_of(attempt).as_millis()).collect();
        assert_eq!(offsets, [0, 50, 150, 300, 500, 800]);
        let config = DispatchConfig { time_scale: MAX_TIME_SCALE, ..DispatchConfig::default() };
        let offsets: Vec<u64> = (1..=6).map(|attempt| config.offset_of(attempt).as_secs()).collect();
        assert_eq!(offsets, [0, 5_000, 15_000, 30_000, 50_000, 80_000]);
        assert_eq!(config.due_at_ms(1_000, 6), 1_000 + 80_000_000);
    }

    /// README and `serve --help`: `--time-scale X` multiplies the 10 s answer deadline too, up or down,
    /// never below 5 s.
    #[test]
    fn the_deadline_scales_both_ways_and_never_drops_below_5_s() {
        let policy = UrlPolicy::default();
        let deadline = |scale: f64| DispatchConfig::scaled(scale, policy).attempt_timeout;
        assert_eq!(deadline(1.0), Duration::from_secs(10));
        assert_eq!(deadline(2.0), Duration::from_secs(20));
        assert_eq!(deadline(0.8), Duration::from_secs(8));
        assert_eq!(deadline(0.5), Duration::from_secs(5));
        assert_eq!(deadline(0.01), MIN_SCALED_TIMEOUT);
        assert_eq!(deadline(MIN_TIME_SCALE), MIN_SCALED_TIMEOUT);
        assert_eq!(deadline(MAX_TIME_SCALE), Duration::from_secs(10_000));
        assert_eq!(DispatchConfig::scaled(2.0, policy).time_scale, 2.0);
    }

    /// Scales past what `serve` accepts (a library caller can pass any f64) saturate: no panic, and a
    /// retry too far out to express is due at `i64::MAX`, never in the past.
    #[test]
    fn huge_or_odd_scales_saturate_instead_of_panicking() {
        for scale in [1e20, f64::MAX, f64::INFINITY] {
            let config = DispatchConfig::scaled(scale, UrlPolicy::default());
            assert_eq!(config.attempt_timeout, Duration::MAX, "{scale}");
            assert_eq!(config.offset_of(1), Duration::ZERO, "{scale}: the first attempt is immediate");
            assert!(config.offset_of(2) >= Duration::from_secs(u64::MAX / 2), "{scale}");
            for attempt in 2..=6 {
                assert_eq!(
                    config.due_at_ms(1_716_544_084_000, attempt),
                    i64::MAX,
                    "{scale} attempt {attempt}"
                );
            }
        }
        // 1e17 × 5 s fits a Duration but not i64 milliseconds (the old `as i64` wrapped to the past).
        let config = DispatchConfig::scaled(1e17, UrlPolicy::default());
        assert_eq!(config.attempt_timeout, Duration::from_secs(1_000_000_000_000_000_000));
        assert_eq!(config.offset_of(2), Duration::from_secs(500_000_000_000_000_000));
        assert_eq!(config.due_at_ms(0, 2), i64::MAX);
        for scale in [0.0, -1.0, f64::NAN, f64::NEG_INFINITY] {
            let config = DispatchConfig::scaled(scale, UrlPolicy::default());
            assert_eq!(config.attempt_timeout, MIN_SCALED_TIMEOUT, "{scale}");
            assert_eq!(config.offset_of(6), Duration::ZERO, "{scale}");
        }
    }
}
