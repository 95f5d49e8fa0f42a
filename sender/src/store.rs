//! SQLite storage: webhooks, their secrets, events, deliveries and every attempt.
//!
//! In memory by default, a file with `--db PATH` (WAL mode), so webhooks and pending deliveries survive a
//! restart. Times are unix milliseconds. Secrets are stored as issued: this is a local test emulator.

use std::path::Path;
use std::sync::{Mutex, MutexGuard, PoisonError};

use rusqlite::{params, Connection, OptionalExtension, Row};

/// A storage failure (the API answers 500).
#[derive(Debug)]
pub struct StoreError(rusqlite::Error);

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "storage error: {}", self.0)
    }
}

impl std::error::Error for StoreError {}

impl From<rusqlite::Error> for StoreError {
    fn from(error: rusqlite::Error) -> StoreError {
        StoreError(error)
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// A webhook as stored. `deleted_at` is set by a (soft) delete.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebhookRow {
    pub id: String,
    pub project_id: String,
    pub url: String,
    pub description: String,
    pub subscribed_events: Vec<String>,
    pub enabled: bool,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
    pub deleted_at_ms: Option<i64>,
}

/// The columns a `PATCH` changes: `None` leaves that column as it is. Values are already validated.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WebhookChanges {
    pub url: Option<String>,
    pub description: Option<String>,
    pub subscribed_events: Option<Vec<String>>,
    pub enabled: Option<bool>,
}

/// One logical delivery (one event to one webhook), updated as attempts happen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeliveryRow {
    /// A UUID; also the `Anchor-Delivery-Id` header of every attempt.
    pub id: String,
    pub webhook_id: String,
    pub event_id: String,
    pub event_type: String,
    pub status: DeliveryStatus,
    /// Attempts made so far (0 before the first).
    pub attempts_made: u32,
    pub response_status: Option<u16>,
    pub error_message: Option<String>,
    /// When the first attempt was due: the retry schedule counts from it.
    pub first_attempt_at_ms: i64,
    /// When the latest (or, while pending, the next) attempt is due.
    pub scheduled_at_ms: i64,
    pub completed_at_ms: Option<i64>,
}

/// SPEC §2 delivery statuses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DeliveryStatus {
    Pending,
    InFlight,
    Succeeded,
    Failed,
    Dead,
}

impl DeliveryStatus {
    pub const ALL: [DeliveryStatus; 5] = [
        DeliveryStatus::Pending,
        DeliveryStatus::InFlight,
        DeliveryStatus::Succeeded,
        DeliveryStatus::Failed,
        DeliveryStatus::Dead,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::InFlight => "in_flight",
            DeliveryStatus::Succeeded => "succeeded",
            DeliveryStatus::Failed => "failed",
            DeliveryStatus::Dead => "dead",
        }
    }

    pub fn parse(name: &str) -> Option<DeliveryStatus> {
        DeliveryStatus::ALL.into_iter().find(|status| status.as_str() == name)
    }

    pub fn is_final(self) -> bool {
        matches!(self, DeliveryStatus::Succeeded | DeliveryStatus::Failed | DeliveryStatus::Dead)
    }
}

/// One HTTP attempt, kept for every attempt (the history rows show only the latest).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttemptRow {
    pub delivery_id: String,
    pub attempt: u32,
    pub started_at_ms: i64,
    pub finished_at_ms: i64,
    pub response_status: Option<u16>,
    pub error_message: Option<String>,
}

/// Filters of `GET /v1/webhooks/{id}/events`.
#[derive(Clone, Debug, Default)]
pub struct DeliveryFilter {
    pub status: Option<DeliveryStatus>,
    pub event_type: Option<String>,
    /// Inclusive bounds on the event's time (when its first attempt was due), which retries never move.
    pub since_ms: Option<i64>,
    pub until_ms: Option<i64>,
    pub limit: u32,
    pub offset: u32,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS webhooks (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL,
    url TEXT NOT NULL,
    description TEXT NOT NULL,
    subscribed_events TEXT NOT NULL,
    enabled INTEGER NOT NULL,
    created_at_ms INTEGER NOT NULL,
    updated_at_ms INTEGER NOT NULL,
    deleted_at_ms INTEGER
);
CREATE INDEX IF NOT EXISTS webhooks_by_project ON webhooks (project_id, created_at_ms);
CREATE TABLE IF NOT EXISTS secrets (
    webhook_id TEXT NOT NULL,
    secret TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL,
    expires_at_ms INTEGER
);
CREATE INDEX IF NOT EXISTS secrets_by_webhook ON secrets (webhook_id);
CREATE TABLE IF NOT EXISTS events (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL,
    body BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS deliveries (
    id TEXT PRIMARY KEY,
    webhook_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts_made INTEGER NOT NULL,
    response_status INTEGER,
    error_message TEXT,
    first_attempt_at_ms INTEGER NOT NULL,
    scheduled_at_ms INTEGER NOT NULL,
    completed_at_ms INTEGER
);
CREATE INDEX IF NOT EXISTS deliveries_by_webhook ON deliveries (webhook_id, first_attempt_at_ms);
CREATE INDEX IF NOT EXISTS deliveries_unfinished ON deliveries (status) WHERE status IN ('pending', 'in_flight');
CREATE TABLE IF NOT EXISTS attempts (
    delivery_id TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    started_at_ms INTEGER NOT NULL,
    finished_at_ms INTEGER NOT NULL,
    response_status INTEGER,
    error_message TEXT,
    PRIMARY KEY (delivery_id, attempt)
);
";

/// The storage. All methods are short synchronous statements behind one lock.
#[derive(Debug)]
pub struct Store {
    conn: Mutex<Connection>,
}

impl Store {
    pub fn open_in_memory() -> StoreResult<Store> {
        Store::init(Connection::open_in_memory()?)
    }

    /// Opens (or creates) a database file; WAL mode, so a crash loses at most the last transaction.
    pub fn open(path: &Path) -> StoreResult<Store> {
        let conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        Store::init(conn)
    }

    fn init(conn: Connection) -> StoreResult<Store> {
        conn.execute_batch(SCHEMA)?;
        conn.set_prepared_statement_cache_capacity(64);
        Ok(Store { conn: Mutex::new(conn) })
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(PoisonError::into_inner)
    }

    // ---- webhooks ----

    /// Inserts a webhook with its first secret, unless its project already has `limit` live webhooks
    /// (`Ok(false)`). Counting and inserting happen in one transaction, so concurrent creates cannot both
    /// take the last place.
    pub fn insert_webhook_within_limit(
        &self,
        webhook: &WebhookRow,
        secret: &str,
        limit: usize,
    ) -> StoreResult<bool> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let live: i64 = tx
            .prepare_cached("SELECT COUNT(*) FROM webhooks WHERE project_id = ?1 AND deleted_at_ms IS NULL")?
            .query_row([&webhook.project_id], |row| row.get(0))?;
        if usize::try_from(live).unwrap_or(usize::MAX) >= limit {
            return Ok(false);
        }
        tx.prepare_cached(
            "INSERT INTO webhooks (id, project_id, url, description, subscribed_events, enabled, created_at_ms, \
             updated_at_ms, deleted_at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )?
        .execute(params![
            webhook.id,
            webhook.project_id,
            webhook.url,
            webhook.description,
            events_json(&webhook.subscribed_events),
            webhook.enabled,
            webhook.created_at_ms,
            webhook.updated_at_ms,
            webhook.deleted_at_ms,
        ])?;
        tx.prepare_cached("INSERT INTO secrets (webhook_id, secret, created_at_ms, expires_at_ms) VALUES (?1, ?2, ?3, NULL)")?
            .execute(params![webhook.id, secret, webhook.created_at_ms])?;
        tx.commit()?;
        Ok(true)
    }

    /// Webhooks of a project that are not deleted, oldest first.
    pub fn list_webhooks(&self, project_id: &str) -> StoreResult<Vec<WebhookRow>> {
        let conn = self.conn();
        let mut statement = conn.prepare_cached(
            "SELECT * FROM webhooks WHERE project_id = ?1 AND deleted_at_ms IS NULL ORDER BY created_at_ms, id",
        )?;
        let rows = statement.query_map([project_id], webhook_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// A webhook of a project, deleted or not.
    pub fn get_webhook(&self, project_id: &str, id: &str) -> StoreResult<Option<WebhookRow>> {
        let conn = self.conn();
        let mut statement =
            conn.prepare_cached("SELECT * FROM webhooks WHERE project_id = ?1 AND id = ?2")?;
        Ok(statement.query_row([project_id, id], webhook_from_row).optional()?)
    }

    /// A webhook by id alone (the dispatcher's view).
    pub fn webhook(&self, id: &str) -> StoreResult<Option<WebhookRow>> {
        let conn = self.conn();
        let mut statement = conn.prepare_cached("SELECT * FROM webhooks WHERE id = ?1")?;
        Ok(statement.query_row([id], webhook_from_row).optional()?)
    }

    /// Changes the columns `changes` names (and `updated_at_ms`) of a live webhook of the project, in one
    /// statement under the storage lock, and returns the row as it now is; `None` when there is no such
    /// webhook or it is deleted. Columns it does not name keep whatever a concurrent change wrote, and a
    /// deleted webhook stays deleted.
    pub fn patch_webhook(
        &self,
        project_id: &str,
        id: &str,
        changes: &WebhookChanges,
        now_ms: i64,
    ) -> StoreResult<Option<WebhookRow>> {
        let conn = self.conn();
        let mut statement = conn.prepare_cached(
            "UPDATE webhooks SET url = COALESCE(?3, url), description = COALESCE(?4, description), \
             subscribed_events = COALESCE(?5, subscribed_events), enabled = COALESCE(?6, enabled), \
             updated_at_ms = ?7 WHERE project_id = ?1 AND id = ?2 AND deleted_at_ms IS NULL RETURNING *",
        )?;
        let events = changes.subscribed_events.as_deref().map(events_json);
        let bound =
            params![project_id, id, changes.url, changes.description, events, changes.enabled, now_ms];
        Ok(statement.query_row(bound, webhook_from_row).optional()?)
    }

    /// Soft-deletes a live webhook of the project; `false` when there is no such webhook or it was
    /// already deleted.
    pub fn delete_webhook(&self, project_id: &str, id: &str, now_ms: i64) -> StoreResult<bool> {
        let deleted = self
            .conn()
            .prepare_cached(
                "UPDATE webhooks SET deleted_at_ms = ?3, updated_at_ms = ?3 \
                 WHERE project_id = ?1 AND id = ?2 AND deleted_at_ms IS NULL",
            )?
            .execute(params![project_id, id, now_ms])?;
        Ok(deleted > 0)
    }

    /// Rotates the secret of a live webhook of the project: adds `secret` as the current one, every
    /// secret that was current so far expires at `old_expires_at_ms`, and `updated_at_ms` becomes
    /// `now_ms` (no other column is written). Returns the webhook as it now is, or `None` (and changes
    /// nothing) when there is no such webhook or it is deleted. One transaction under the storage lock.
    pub fn rotate_secret(
        &self,
        project_id: &str,
        webhook_id: &str,
        secret: &str,
        now_ms: i64,
        old_expires_at_ms: i64,
    ) -> StoreResult<Option<WebhookRow>> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let webhook = tx
            .prepare_cached(
                "UPDATE webhooks SET updated_at_ms = ?3 \
                 WHERE project_id = ?1 AND id = ?2 AND deleted_at_ms IS NULL RETURNING *",
            )?
            .query_row(params![project_id, webhook_id, now_ms], webhook_from_row)
            .optional()?;
        let Some(webhook) = webhook else {
            return Ok(None);
        };
        tx.prepare_cached(
            "UPDATE secrets SET expires_at_ms = ?2 WHERE webhook_id = ?1 AND expires_at_ms IS NULL",
        )?
        .execute(params![webhook_id, old_expires_at_ms])?;
        tx.prepare_cached("INSERT INTO secrets (webhook_id, secret, created_at_ms, expires_at_ms) VALUES (?1, ?2, ?3, NULL)")?
            .execute(params![webhook_id, secret, now_ms])?;
        tx.commit()?;
        Ok(Some(webhook))
    }

    /// The secrets that sign a delivery at `now_ms`: the current one first, then any not yet expired.
    pub fn signing_secrets(&self, webhook_id: &str, now_ms: i64) -> StoreResult<Vec<String>> {
        let conn = self.conn();
        let mut statement = conn.prepare_cached(
            "SELECT secret FROM secrets WHERE webhook_id = ?1 AND (expires_at_ms IS NULL OR expires_at_ms > ?2) \
             ORDER BY created_at_ms DESC, rowid DESC",
        )?;
        let rows = statement.query_map(params![webhook_id, now_ms], |row| row.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    // ---- events and deliveries ----

    /// Stores an event and its deliveries in one transaction (so a crash never keeps half of a fan-out).
    pub fn insert_event(
        &self,
        id: &str,
        project_id: &str,
        event_type: &str,
        created_at_ms: i64,
        body: &[u8],
        deliveries: &[DeliveryRow],
    ) -> StoreResult<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.prepare_cached(
            "INSERT INTO events (id, project_id, event_type, created_at_ms, body) VALUES (?1, ?2, ?3, ?4, ?5)",
        )?
        .execute(params![id, project_id, event_type, created_at_ms, body])?;
        for delivery in deliveries {
            insert_delivery(&tx, delivery)?;
        }
        tx.commit()?;
        Ok(())
    }

    pub fn event_body(&self, event_id: &str) -> StoreResult<Option<Vec<u8>>> {
        let conn = self.conn();
        let mut statement = conn.prepare_cached("SELECT body FROM events WHERE id = ?1")?;
        Ok(statement.query_row([event_id], |row| row.get(0)).optional()?)
    }

    pub fn update_delivery(&self, delivery: &DeliveryRow) -> StoreResult<()> {
        update_delivery(&self.conn(), delivery)
    }

    /// Records a finished attempt and the delivery's new state together.
    pub fn record_attempt(&self, attempt: &AttemptRow, delivery: &DeliveryRow) -> StoreResult<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.prepare_cached(
            "INSERT OR REPLACE INTO attempts (delivery_id, attempt, started_at_ms, finished_at_ms, response_status, \
             error_message) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?
        .execute(params![
            attempt.delivery_id,
            attempt.attempt,
            attempt.started_at_ms,
            attempt.finished_at_ms,
            attempt.response_status,
            attempt.error_message,
        ])?;
        update_delivery(&tx, delivery)?;
        tx.commit()?;
        Ok(())
    }

    pub fn attempts(&self, delivery_id: &str) -> StoreResult<Vec<AttemptRow>> {
        let conn = self.conn();
        let mut statement =
            conn.prepare_cached("SELECT * FROM attempts WHERE delivery_id = ?1 ORDER BY attempt")?;
        let rows = statement.query_map([delivery_id], |row| {
            Ok(AttemptRow {
                delivery_id: row.get("delivery_id")?,
                attempt: row.get("attempt")?,
                started_at_ms: row.get("started_at_ms")?,
                finished_at_ms: row.get("finished_at_ms")?,
                response_status: row.get("response_status")?,
                error_message: row.get("error_message")?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Deliveries of a webhook, newest event first, with the total matching the filter (for pagination).
    pub fn list_deliveries(
        &self,
        webhook_id: &str,
        filter: &DeliveryFilter,
    ) -> StoreResult<(Vec<DeliveryRow>, u64)> {
        const WHERE: &str =
            "WHERE webhook_id = ?1 AND (?2 IS NULL OR status = ?2) AND (?3 IS NULL OR event_type = ?3) \
             AND (?4 IS NULL OR first_attempt_at_ms >= ?4) AND (?5 IS NULL OR first_attempt_at_ms <= ?5)";
        let conn = self.conn();
        let status = filter.status.map(DeliveryStatus::as_str);
        let bound = params![webhook_id, status, filter.event_type, filter.since_ms, filter.until_ms];
        let total: i64 = conn
            .prepare_cached(&format!("SELECT COUNT(*) FROM deliveries {WHERE}"))?
            .query_row(bound, |row| row.get(0))?;
        let total = u64::try_from(total).unwrap_or(0);
        let mut statement = conn.prepare_cached(&format!(
            "SELECT * FROM deliveries {WHERE} ORDER BY first_attempt_at_ms DESC, rowid DESC LIMIT ?6 OFFSET ?7"
        ))?;
        let rows = statement.query_map(
            params![
                webhook_id,
                status,
                filter.event_type,
                filter.since_ms,
                filter.until_ms,
                filter.limit,
                filter.offset
            ],
            delivery_from_row,
        )?;
        Ok((rows.collect::<Result<_, _>>()?, total))
    }

    /// Deliveries not yet final, to resume after a restart.
    pub fn unfinished_deliveries(&self) -> StoreResult<Vec<DeliveryRow>> {
        let conn = self.conn();
        let mut statement = conn.prepare_cached(
            "SELECT * FROM deliveries WHERE status IN ('pending', 'in_flight') ORDER BY scheduled_at_ms",
        )?;
        let rows = statement.query_map([], delivery_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Deletes finished history (and events no delivery needs any more) older than `cutoff_ms`.
    pub fn purge_before(&self, cutoff_ms: i64) -> StoreResult<usize> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute(
            "DELETE FROM attempts WHERE delivery_id IN (SELECT id FROM deliveries WHERE completed_at_ms < ?1)",
            [cutoff_ms],
        )?;
        let purged = tx.execute("DELETE FROM deliveries WHERE completed_at_ms < ?1", [cutoff_ms])?;
        tx.execute(
            "DELETE FROM events WHERE created_at_ms < ?1 AND id NOT IN (SELECT event_id FROM deliveries)",
            [cutoff_ms],
        )?;
        tx.commit()?;
        Ok(purged)
    }
}

fn events_json(events: &[String]) -> String {
    serde_json::to_string(events).unwrap_or_else(|_| "[]".to_owned())
}

fn webhook_from_row(row: &Row<'_>) -> rusqlite::Result<WebhookRow> {
    let events: String = row.get("subscribed_events")?;
    Ok(WebhookRow {
        id: row.get("id")?,
        project_id: row.get("project_id")?,
        url: row.get("url")?,
        description: row.get("description")?,
        subscribed_events: serde_json::from_str(&events).unwrap_or_default(),
        enabled: row.get("enabled")?,
        created_at_ms: row.get("created_at_ms")?,
        updated_at_ms: row.get("updated_at_ms")?,
        deleted_at_ms: row.get("deleted_at_ms")?,
    })
}

fn delivery_from_row(row: &Row<'_>) -> rusqlite::Result<DeliveryRow> {
    let status: String = row.get("status")?;
    Ok(DeliveryRow {
        id: row.get("id")?,
        webhook_id: row.get("webhook_id")?,
        event_id: row.get("event_id")?,
        event_type: row.get("event_type")?,
        status: DeliveryStatus::parse(&status).unwrap_or(DeliveryStatus::Pending),
        attempts_made: row.get("attempts_made")?,
        response_status: row.get("response_status")?,
        error_message: row.get("error_message")?,
        first_attempt_at_ms: row.get("first_attempt_at_ms")?,
        scheduled_at_ms: row.get("scheduled_at_ms")?,
        completed_at_ms: row.get("completed_at_ms")?,
    })
}

fn insert_delivery(conn: &Connection, delivery: &DeliveryRow) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO deliveries (id, webhook_id, event_id, event_type, status, attempts_made, response_status, \
         error_message, first_attempt_at_ms, scheduled_at_ms, completed_at_ms) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?
    .execute(params![
        delivery.id,
        delivery.webhook_id,
        delivery.event_id,
        delivery.event_type,
        delivery.status.as_str(),
        delivery.attempts_made,
        delivery.response_status,
        delivery.error_message,
        delivery.first_attempt_at_ms,
        delivery.scheduled_at_ms,
        delivery.completed_at_ms,
    ])?;
    Ok(())
}

fn update_delivery(conn: &Connection, delivery: &DeliveryRow) -> StoreResult<()> {
    conn.prepare_cached(
        "UPDATE deliveries SET status = ?2, attempts_made = ?3, response_status = ?4, error_message = ?5, \
         scheduled_at_ms = ?6, completed_at_ms = ?7 WHERE id = ?1",
    )?
    .execute(params![
        delivery.id,
        delivery.status.as_str(),
        delivery.attempts_made,
        delivery.response_status,
        delivery.error_message,
        delivery.scheduled_at_ms,
        delivery.completed_at_ms,
    ])?;
    Ok(())
}
