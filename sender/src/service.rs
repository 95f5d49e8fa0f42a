//! The provider's webhook management rules (SPEC §7), independent of HTTP: the API maps these calls and
//! their [`ApiError`]s onto routes and JSON.

use std::path::PathBuf;
use std::sync::Arc;

use sha2::{Digest, Sha256};

use crate::clock::{Clock, SystemClock};
use crate::dispatch::{DispatchConfig, Dispatcher, ROTATION_OVERLAP};
use crate::envelope::{self, Envelope, MAX_PAYLOAD_BYTES};
use crate::store::{
    DeliveryFilter, DeliveryRow, DeliveryStatus, Store, StoreError, WebhookChanges, WebhookRow,
};
use crate::url_rules;

/// At most this many (not deleted) webhooks per project; the next create is 409.
pub const MAX_WEBHOOKS_PER_PROJECT: usize = 5;
pub const MAX_DESCRIPTION_CHARS: usize = 256;
/// Delivery history is kept this long.
pub const HISTORY_RETENTION: std::time::Duration = std::time::Duration::from_secs(7 * 24 * 60 * 60);

/// An error with the HTTP status the API answers (`{"error": message, "code": status}`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiError {
    pub status: u16,
    pub message: String,
}

impl ApiError {
    pub fn new(status: u16, message: impl Into<String>) -> ApiError {
        ApiError { status, message: message.into() }
    }

    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(400, message)
    }

    pub fn not_found(what: &str) -> ApiError {
        ApiError::new(404, format!("{what} not found"))
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.message, self.status)
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> ApiError {
        tracing::error!(%error, "storage failure");
        ApiError::new(500, "internal storage error")
    }
}

/// Everything the emulator needs to start.
#[derive(Clone, Debug, Default)]
pub struct SenderConfig {
    pub dispatch: DispatchConfig,
    /// SQLite file; in memory when `None`.
    pub db_path: Option<PathBuf>,
}

/// A new webhook's fields (`POST /v1/webhooks`).
#[derive(Clone, Debug, Default, serde::Deserialize)]
pub struct NewWebhook {
    pub url: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub subscribed_events: Vec<String>,
}

/// A partial update (`PATCH /v1/webhooks/{id}`): absent fields are left as they are.
#[derive(Clone, Debug, Default, serde::Deserialize)]
pub struct WebhookPatch {
    pub url: Option<String>,
    pub description: Option<String>,
    pub subscribed_events: Option<Vec<String>>,
    pub enabled: Option<bool>,
}

/// An event accepted for delivery.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Published {
    pub event_id: String,
    pub event_type: String,
    pub deliveries: Vec<DeliveryRow>,
}

/// The emulator: storage, dispatcher and clock.
#[derive(Debug)]
pub struct Sender {
    store: Arc<Store>,
    dispatcher: Arc<Dispatcher>,
    clock: Arc<dyn Clock>,
}

impl Sender {
    /// Opens the storage and resumes unfinished deliveries. Call inside a tokio runtime.
    pub fn start(config: SenderConfig) -> Result<Arc<Sender>, StoreError> {
        Sender::start_with_clock(config, Arc::new(SystemClock))
    }

    pub fn start_with_clock(config: SenderConfig, clock: Arc<dyn Clock>) -> Result<Arc<Sender>, StoreError> {
        let store = Arc::new(match &config.db_path {
            Some(path) => Store::open(path)?,
            None => Store::open_in_memory()?,
        });
        let dispatcher = Dispatcher::new(Arc::clone(&store), Arc::clone(&clock), config.dispatch);
        let sender = Arc::new(Sender { store, dispatcher, clock });
        sender.purge_history()?;
        let resumed = sender.dispatcher.resume_unfinished()?;
        if resumed > 0 {
            tracing::info!(resumed, "resumed unfinished deliveries");
        }
        Ok(sender)
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// Stops every delivery task: attempts in flight are abandoned and stay `in_flight` in the log, so a
    /// restart on the same database makes them again.
    pub fn stop_deliveries(&self) {
        self.dispatcher.stop();
    }

    /// Deletes finished history older than seven days.
    pub fn purge_history(&self) -> Result<usize, StoreError> {
        let cutoff = self.clock.now_ms() - HISTORY_RETENTION.as_millis() as i64;
        self.store.purge_before(cutoff)
    }

    /// The project an API key belongs to: a stable UUID derived from the key, so a restart with `--db`
    /// finds the same webhooks.
    pub fn project_for_key(api_key: &str) -> String {
        let digest = Sha256::digest(api_key.as_bytes());
        let mut bytes: [u8; 16] = digest[..16].try_into().expect("16 bytes");
        bytes[6] = (bytes[6] & 0x0f) | 0x80;
        bytes[8] = (bytes[8] & 0x3f) | 0x80;
        uuid::Uuid::from_bytes(bytes).to_string()
    }

    pub fn create_webhook(
        &self,
        project_id: &str,
        new: NewWebhook,
    ) -> Result<(WebhookRow, String), ApiError> {
        let url = self.check_url(&new.url)?;
        let description = check_description(new.description.unwrap_or_default())?;
        let subscribed_events = check_events(new.subscribed_events)?;
        let now = self.clock.now_ms();
        let webhook = WebhookRow {
            id: format!("wh_{}", &uuid::Uuid::new_v4().simple().to_string()[..24]),
            project_id: project_id.to_owned(),
            url,
            description,
            subscribed_events,
            enabled: true,
            created_at_ms: now,
            updated_at_ms: now,
            deleted_at_ms: None,
        };
        let secret = new_secret();
        if !self.store.insert_webhook_within_limit(&webhook, &secret, MAX_WEBHOOKS_PER_PROJECT)? {
            return Err(ApiError::new(
                409,
                format!("this project already has {MAX_WEBHOOKS_PER_PROJECT} webhooks, the limit; delete one first"),
            ));
        }
        Ok((webhook, secret))
    }

    pub fn list_webhooks(&self, project_id: &str) -> Result<Vec<WebhookRow>, ApiError> {
        Ok(self.store.list_webhooks(project_id)?)
    }

    /// A live (not deleted) webhook of the project, else 404.
    pub fn webhook(&self, project_id: &str, id: &str) -> Result<WebhookRow, ApiError> {
        match self.store.get_webhook(project_id, id)? {
            Some(webhook) if webhook.deleted_at_ms.is_none() => Ok(webhook),
            _ => Err(ApiError::not_found("webhook")),
        }
    }

    /// Applies a partial update: only the fields the patch names are written (in one statement), so a
    /// concurrent change to another field, a rotation or a delete is never undone.
    pub fn update_webhook(
        &self,
        project_id: &str,
        id: &str,
        patch: WebhookPatch,
    ) -> Result<WebhookRow, ApiError> {
        // An unknown webhook is 404 whatever the body says (checked again, atomically, by the update).
        self.webhook(project_id, id)?;
        let changes = WebhookChanges {
            url: patch.url.map(|url| self.check_url(&url)).transpose()?,
            description: patch.description.map(check_description).transpose()?,
            subscribed_events: patch.subscribed_events.map(check_events).transpose()?,
            enabled: patch.enabled,
        };
        self.store
            .patch_webhook(project_id, id, &changes, self.clock.now_ms())?
            .ok_or_else(|| ApiError::not_found("webhook"))
    }

    /// Soft delete: the webhook stops receiving and disappears from listings; its history stays readable.
    pub fn delete_webhook(&self, project_id: &str, id: &str) -> Result<(), ApiError> {
        if self.store.delete_webhook(project_id, id, self.clock.now_ms())? {
            Ok(())
        } else {
            Err(ApiError::not_found("webhook"))
        }
    }

    /// A new secret, shown once; the previous one keeps signing (a second `v1`) for 24 hours. Only the
    /// secrets and `updated_at` change, atomically, so a concurrent PATCH or delete is never undone.
    pub fn rotate_secret(&self, project_id: &str, id: &str) -> Result<(WebhookRow, String), ApiError> {
        let now = self.clock.now_ms();
        let secret = new_secret();
        let overlap = i64::try_from(ROTATION_OVERLAP.as_millis()).unwrap_or(i64::MAX);
        let webhook = self
            .store
            .rotate_secret(project_id, id, &secret, now, now.saturating_add(overlap))?
            .ok_or_else(|| ApiError::not_found("webhook"))?;
        Ok((webhook, secret))
    }

    /// `POST /v1/webhooks/{id}/test`: one event of `event_type` with sample data, to this webhook only.
    pub fn send_test(&self, project_id: &str, id: &str, event_type: &str) -> Result<Published, ApiError> {
        let webhook = self.webhook(project_id, id)?;
        check_event_type(event_type)?;
        if !webhook.enabled {
            return Err(ApiError::bad_request("the webhook is disabled; enable it to send a test event"));
        }
        self.dispatch(project_id, event_type, envelope::sample_data(event_type), vec![webhook])
    }

    /// An event of the project's activity: delivered to every enabled webhook subscribed to its type, with
    /// the same event id everywhere (SPEC §2).
    pub fn publish(
        &self,
        project_id: &str,
        event_type: &str,
        data: serde_json::Value,
    ) -> Result<Published, ApiError> {
        check_event_type(event_type)?;
        if !data.is_object() {
            return Err(ApiError::bad_request("`data` must be a JSON object"));
        }
        let targets = self
            .store
            .list_webhooks(project_id)?
            .into_iter()
            .filter(|webhook| webhook.enabled && webhook.subscribed_events.iter().any(|e| e == event_type))
            .collect();
        self.dispatch(project_id, event_type, data, targets)
    }

    fn dispatch(
        &self,
        project_id: &str,
        event_type: &str,
        data: serde_json::Value,
        targets: Vec<WebhookRow>,
    ) -> Result<Published, ApiError> {
        let now = self.clock.now_ms();
        let envelope = Envelope {
            id: envelope::new_event_id(),
            event_type: event_type.to_owned(),
            created: crate::clock::datetime(now),
            project_id: project_id.to_owned(),
            data,
        };
        let (body, _truncated) = envelope.to_body();
        if body.len() > MAX_PAYLOAD_BYTES {
            return Err(payload_too_large(body.len()));
        }
        let deliveries: Vec<DeliveryRow> = targets
            .iter()
            .map(|webhook| DeliveryRow {
                id: uuid::Uuid::new_v4().to_string(),
                webhook_id: webhook.id.clone(),
                event_id: envelope.id.clone(),
                event_type: event_type.to_owned(),
                status: DeliveryStatus::Pending,
                attempts_made: 0,
                response_status: None,
                error_message: None,
                first_attempt_at_ms: now,
                scheduled_at_ms: now,
                completed_at_ms: None,
            })
            .collect();
        self.store.insert_event(&envelope.id, project_id, event_type, now, &body, &deliveries)?;
        for delivery in &deliveries {
            self.dispatcher.start(delivery.clone());
        }
        Ok(Published { event_id: envelope.id, event_type: event_type.to_owned(), deliveries })
    }

    /// The delivery history of a webhook (deleted ones included), newest first, with the total.
    pub fn deliveries(
        &self,
        project_id: &str,
        id: &str,
        filter: &DeliveryFilter,
    ) -> Result<(Vec<DeliveryRow>, u64), ApiError> {
        if self.store.get_webhook(project_id, id)?.is_none() {
            return Err(ApiError::not_found("webhook"));
        }
        Ok(self.store.list_deliveries(id, filter)?)
    }

    fn check_url(&self, url: &str) -> Result<String, ApiError> {
        url_rules::validate_webhook_url(url, self.dispatcher.config().url_policy)
            .map(String::from)
            .map_err(|rejection| ApiError::bad_request(format!("invalid url: {rejection}")))
    }
}

/// The answer to an event whose envelope is still over the provider's 64 KB cap once `data.output.value`
/// is truncated (SPEC §2, §3.7): 413. The provider never sends such a payload, so the emulator does not
/// either (SPEC names no status for this; the choice is documented in the README).
fn payload_too_large(size: usize) -> ApiError {
    ApiError::new(
        413,
        format!(
            "the event's envelope is {size} bytes, over the provider's 64 KB cap ({MAX_PAYLOAD_BYTES} bytes) even \
             with `data.output.value` replaced by \"{marker}\": send less `data`",
            marker = anchor_webhooks::TRUNCATED_MARKER,
        ),
    )
}

/// 64 hex characters from 32 random bytes, as the provider issues them.
fn new_secret() -> String {
    let (a, b) = (uuid::Uuid::new_v4(), uuid::Uuid::new_v4());
    let mut bytes = [0u8; 32];
    bytes[..16].copy_from_slice(a.as_bytes());
    bytes[16..].copy_from_slice(b.as_bytes());
    // A v4 UUID fixes 6 bits; hashing the two spreads the 244 random bits over all 256.
    hex::encode(Sha256::digest(bytes))
}

fn check_description(description: String) -> Result<String, ApiError> {
    if description.chars().count() > MAX_DESCRIPTION_CHARS {
        return Err(ApiError::bad_request(format!(
            "description is longer than {MAX_DESCRIPTION_CHARS} characters"
        )));
    }
    Ok(description)
}

fn check_event_type(event_type: &str) -> Result<(), ApiError> {
    if envelope::is_anchor_event_type(event_type) {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!(
            "unknown event type `{}`; expected one of: {}",
            event_type.escape_debug(),
            envelope::ANCHOR_EVENT_TYPES.join(", ")
        )))
    }
}

fn check_events(mut events: Vec<String>) -> Result<Vec<String>, ApiError> {
    if events.is_empty() {
        return Err(ApiError::bad_request("subscribed_events must name at least one event type"));
    }
    for event in &events {
        check_event_type(event)?;
    }
    let mut seen = std::collections::HashSet::new();
    events.retain(|event| seen.insert(event.clone()));
    Ok(events)
}
