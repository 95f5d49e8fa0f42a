//! The event envelope the sender delivers (SPEC §2): the Anchor event types this emulator sends, event
//! ids, the `text` summary, the wire serialization with the 64 KB cap, and realistic sample `data`.
//!
//! ```text
//! {"id":"evt_…","type":"task.completed","created":"2026-05-24T12:18:05.123Z",
//!  "project_id":"5d2c31f6-…","text":"Task `…` completed with 2 artifacts","data":{…}}
//! ```
//!
//! The body is compact JSON with the keys in exactly that order. `created` is always UTC with millisecond
//! precision and a `Z` suffix. When the serialized envelope is over [`MAX_PAYLOAD_BYTES`], `data.output.value`
//! is replaced by [`TRUNCATED_MARKER`] (`"__truncated__"`), as the provider documents.

use std::fmt::Write as _;

use anchor_webhooks::TRUNCATED_MARKER;
use serde::{Serialize, Serializer};
use serde_json::{json, Value};
use time::{Date, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

/// The 14 Anchor event types the emulator can send (SPEC §2 catalogue + `session.ready`), in catalogue
/// order. The core's `EventType::ALL_NAMES` also lists AnyFormat's `extraction.*` types, which use the
/// Standard Webhooks scheme and are not sent by this Anchor emulator.
pub const ANCHOR_EVENT_TYPES: &[&str] = &[
    "task.completed",
    "task.failed",
    "task.cancelled",
    "task.healed",
    "session.completed",
    "session.failed",
    "session.recording.ready",
    "session.ready",
    "batch.completed",
    "batch.failed",
    "intervention.requested",
    "intervention.resolved",
    "identity.authenticated",
    "identity.authentication_failed",
];

/// Whether `name` is one of [`ANCHOR_EVENT_TYPES`] (exact, case-sensitive match).
pub fn is_anchor_event_type(name: &str) -> bool {
    ANCHOR_EVENT_TYPES.contains(&name)
}

/// The payload cap: 64 KB = 65 536 bytes of serialized envelope.
pub const MAX_PAYLOAD_BYTES: usize = 65_536;

/// The longest `text` summary, in characters.
pub const MAX_TEXT_CHARS: usize = 300;

/// A new event id: `evt_` followed by the 32 lowercase hex digits of a random (v4) UUID.
pub fn new_event_id() -> String {
    format!("evt_{}", uuid::Uuid::new_v4().simple())
}

/// Formats a date-time the way the envelope's `created` field carries it: RFC 3339 in UTC with exactly
/// three fractional digits and a `Z`, e.g. `2026-05-24T12:18:05.123Z`. Sub-millisecond digits are dropped
/// (truncated, not rounded). Instants outside years 0000–9999 (which RFC 3339 cannot express) are clamped
/// to the nearest representable one.
pub fn format_created(at: OffsetDateTime) -> String {
    let at = clamp_to_rfc3339_range(at.to_offset(UtcOffset::UTC));
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second(),
        at.millisecond()
    )
}

fn clamp_to_rfc3339_range(at: OffsetDateTime) -> OffsetDateTime {
    let bound = |year, month, day, time| {
        let date = Date::from_calendar_date(year, month, day).expect("valid calendar date");
        PrimitiveDateTime::new(date, time).assume_utc()
    };
    let min = bound(0, time::Month::January, 1, Time::MIDNIGHT);
    let max =
        bound(9999, time::Month::December, 31, Time::from_hms_milli(23, 59, 59, 999).expect("valid time"));
    at.clamp(min, max)
}

/// Drops the sub-millisecond part, so that an envelope's `created` equals what its body carries.
fn truncate_to_millis(at: OffsetDateTime) -> OffsetDateTime {
    let nanos = at.nanosecond();
    at.replace_nanosecond(nanos - nanos % 1_000_000).expect("nanosecond stays in range")
}

/// One event as the provider sends it (SPEC §2). `text` is not stored: it is derived from `event_type`
/// and `data` by [`Envelope::text`] whenever the envelope is serialized.
///
/// `Serialize` produces the wire form (the same JSON as [`Envelope::to_body`] before any truncation).
#[derive(Clone, Debug, PartialEq)]
pub struct Envelope {
    /// `evt_…`; the same logical event keeps it across retries and across webhooks.
    pub id: String,
    /// The wire name, e.g. `task.completed` (serialized as `type`).
    pub event_type: String,
    /// Serialized by [`format_created`]: UTC, milliseconds, `Z`.
    pub created: OffsetDateTime,
    pub project_id: String,
    /// The event's `data` object.
    pub data: Value,
}

/// The serialized form, borrowing from the envelope so that the common (untruncated) case copies nothing.
#[derive(Serialize)]
struct Wire<'a> {
    id: &'a str,
    #[serde(rename = "type")]
    event_type: &'a str,
    created: String,
    project_id: &'a str,
    text: String,
    data: &'a Value,
}

impl Envelope {
    /// A new event: a fresh [`new_event_id`], `created` = now (UTC, truncated to milliseconds so that it
    /// round-trips through the body exactly).
    pub fn new(event_type: impl Into<String>, project_id: impl Into<String>, data: Value) -> Envelope {
        Envelope {
            id: new_event_id(),
            event_type: event_type.into(),
            created: truncate_to_millis(OffsetDateTime::now_utc()),
            project_id: project_id.into(),
            data,
        }
    }

    /// A one-line, Slack-compatible (mrkdwn) human summary, built from the known `data` fields when they
    /// are present, e.g. ``Task `task_123` completed with 2 artifacts``, ``Task `t` failed: timeout``,
    /// ``Session `s` recording is ready``, ``Intervention requested for session `s` ``. Unknown types get
    /// a generic sentence.
    ///
    /// Guarantees: non-empty, a single line (control characters become spaces), at most
    /// [`MAX_TEXT_CHARS`] (300) characters; `&`, `<` and `>` from the data are escaped as Slack requires,
    /// and identifiers shown in code spans have their backticks removed.
    pub fn text(&self) -> String {
        cap_text(summary(&self.event_type, &self.data))
    }

    /// Serializes to the body bytes sent on the wire: compact JSON, keys in the order `id`, `type`,
    /// `created`, `project_id`, `text`, `data`; returns the bytes and whether truncation happened.
    ///
    /// If the body is over [`MAX_PAYLOAD_BYTES`] and `data.output.value` exists, that value is replaced by
    /// `"__truncated__"` and the envelope is serialized again (the flag is then `true`). If the body is
    /// still over the cap (the bulk is elsewhere, or there is no `output.value`), it is returned as is:
    /// the provider documents no other truncation, so none is made. The provider never sends such a
    /// payload, so [`crate::Sender`] refuses to publish the event (413) instead of delivering it.
    pub fn to_body(&self) -> (Vec<u8>, bool) {
        let text = self.text();
        let body = self.wire_bytes(&self.data, text.clone());
        if body.len() <= MAX_PAYLOAD_BYTES {
            return (body, false);
        }
        let marker = Value::String(TRUNCATED_MARKER.to_owned());
        match self.data.get("output").and_then(|output| output.get("value")) {
            Some(value) if *value != marker => {
                let mut data = self.data.clone();
                data["output"]["value"] = marker;
                (self.wire_bytes(&data, text), true)
            }
            _ => (body, false),
        }
    }

    fn wire<'a>(&'a self, data: &'a Value, text: String) -> Wire<'a> {
        Wire {
            id: &self.id,
            event_type: &self.event_type,
            created: format_created(self.created),
            project_id: &self.project_id,
            text,
            data,
        }
    }

    fn wire_bytes(&self, data: &Value, text: String) -> Vec<u8> {
        serde_json::to_vec(&self.wire(data, text)).expect("a JSON value with string keys always serializes")
    }
}

impl Serialize for Envelope {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.wire(&self.data, self.text()).serialize(serializer)
    }
}

// ---------------------------------------------------------------------------------------------------------
// `text`
// ---------------------------------------------------------------------------------------------------------

/// Longest identifier shown in a code span, in characters.
const MAX_ID_CHARS: usize = 64;
/// Longest free-text fragment (error message, reason), in characters.
const MAX_FRAGMENT_CHARS: usize = 160;

fn summary(event_type: &str, data: &Value) -> String {
    let str_at = |path: &[&str]| -> Option<&str> {
        path.iter()
            .try_fold(data, |value, key| value.get(key))
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    let id = |field: &str| str_at(&[field]).map(code);
    let task = || id("task_id").map_or_else(|| "Task".to_owned(), |task| format!("Task {task}"));
    let session = || id("session_id").map_or_else(|| "Session".to_owned(), |s| format!("Session {s}"));
    let batch = || id("batch_id").map_or_else(|| "Batch".to_owned(), |b| format!("Batch {b}"));
    let identity = || id("identity_id").map_or_else(|| "Identity".to_owned(), |i| format!("Identity {i}"));
    // `error.type`, with `error.message` (or a plain `reason`) after it when present.
    let failure = || {
        let kind = str_at(&["error", "type"]).map(plain);
        let message = str_at(&["error", "message"]).or_else(|| str_at(&["reason"])).map(plain);
        match (kind, message) {
            (Some(kind), Some(message)) => Some(format!("{kind} ({message})")),
            (Some(one), None) | (None, Some(one)) => Some(one),
            (None, None) => None,
        }
    };
    let with_failure = |head: String| match failure() {
        Some(why) => format!("{head}: {why}"),
        None => head,
    };

    match event_type {
        "task.completed" => {
            let mut text = format!("{} completed", task());
            match data.get("artifacts").and_then(Value::as_array).map(Vec::len) {
                Some(0) => text.push_str(" with no artifacts"),
                Some(1) => text.push_str(" with 1 artifact"),
                Some(n) => {
                    let _ = write!(text, " with {n} artifacts");
                }
                None => {}
            }
            text
        }
        "task.failed" => with_failure(format!("{} failed", task())),
        "task.cancelled" => format!("{} was cancelled", task()),
        "task.healed" => match id("healed_task_version_id") {
            Some(version) => format!("{} was healed (new version {version})", task()),
            None => format!("{} was healed", task()),
        },
        "session.completed" => {
            let mut text = format!("{} completed", session());
            if let Some(seconds) = data.get("duration").and_then(Value::as_f64) {
                let _ = write!(text, " in {}", human_duration(seconds));
            }
            let proxy_bytes = data
                .get("proxy_bytes")
                .or_else(|| data.get("usage")?.get("proxy_bytes"))
                .and_then(Value::as_u64);
            if let Some(bytes) = proxy_bytes {
                let _ = write!(text, ", {} of proxy traffic", human_bytes(bytes));
            }
            text
        }
        "session.failed" => with_failure(format!("{} failed", session())),
        "session.recording.ready" => format!("{} recording is ready", session()),
        "session.ready" => format!("{} is ready", session()),
        "batch.completed" => {
            let count = |field| data.get(field).and_then(Value::as_u64);
            match (count("total"), count("succeeded"), count("failed")) {
                (Some(total), Some(succeeded), failed) => {
                    let failed = failed.map(|n| format!(", {n} failed")).unwrap_or_default();
                    format!("{} completed: {succeeded} of {total} succeeded{failed}", batch())
                }
                _ => format!("{} completed", batch()),
            }
        }
        "batch.failed" => with_failure(format!("{} failed", batch())),
        "intervention.requested" => {
            let head = match id("session_id") {
                Some(session) => format!("Intervention requested for session {session}"),
                None => "Intervention requested".to_owned(),
            };
            match str_at(&["reason"]) {
                Some(reason) => format!("{head}: {}", plain(reason)),
                None => head,
            }
        }
        "intervention.resolved" => {
            let head = match id("session_id") {
                Some(session) => format!("Intervention resolved for session {session}"),
                None => "Intervention resolved".to_owned(),
            };
            match str_at(&["resolution"]) {
                Some(resolution) => format!("{head} ({})", plain(resolution)),
                None => head,
            }
        }
        "identity.authenticated" => match str_at(&["website"]) {
            Some(site) => format!("{} authenticated on {}", identity(), plain(site)),
            None => format!("{} authenticated", identity()),
        },
        "identity.authentication_failed" => with_failure(format!("{} failed to authenticate", identity())),
        "" => "Anchor event received".to_owned(),
        other => format!("Anchor event {} received", code(other)),
    }
}

/// An identifier in a Slack code span: single line, no backticks, escaped, at most [`MAX_ID_CHARS`].
fn code(value: &str) -> String {
    let cleaned: String = value.chars().filter(|&c| c != '`').collect();
    let cleaned = shorten(&single_line(&cleaned), MAX_ID_CHARS);
    format!("`{}`", escape_mrkdwn(if cleaned.is_empty() { "?" } else { &cleaned }))
}

/// Free text from the data: single line, escaped, at most [`MAX_FRAGMENT_CHARS`] before escaping.
/// Backticks become `'`, so that every backtick of a summary belongs to a [`code`] span.
fn plain(value: &str) -> String {
    let value = value.replace('`', "'");
    escape_mrkdwn(&shorten(&single_line(&value), MAX_FRAGMENT_CHARS))
}

/// Control characters (newlines included) become spaces; runs of whitespace collapse to one; trimmed.
fn single_line(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        let c = if c.is_control() || c.is_whitespace() { ' ' } else { c };
        if c == ' ' && (out.is_empty() || out.ends_with(' ')) {
            continue;
        }
        out.push(c);
    }
    out.truncate(out.trim_end().len());
    out
}

/// At most `max` characters, the last one being `…` when something was cut.
fn shorten(value: &str, max: usize) -> String {
    if value.chars().count() <= max {
        return value.to_owned();
    }
    let mut out: String = value.chars().take(max.saturating_sub(1)).collect();
    out.truncate(out.trim_end().len());
    out.push('…');
    out
}

/// Slack mrkdwn escaping: `&`, `<` and `>` (the only characters Slack asks to escape).
fn escape_mrkdwn(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

/// Enforces [`MAX_TEXT_CHARS`] on the finished summary without leaving half an entity (`&am`) or an
/// unclosed code span behind.
fn cap_text(text: String) -> String {
    let text = single_line(&text);
    if text.chars().count() <= MAX_TEXT_CHARS {
        return text;
    }
    let mut out: String = text.chars().take(MAX_TEXT_CHARS - 1).collect();
    if let Some(amp) = out.rfind('&') {
        if !out[amp..].contains(';') {
            out.truncate(amp);
        }
    }
    if out.matches('`').count() % 2 == 1 {
        let tick = out.rfind('`').expect("an odd count means at least one");
        out.truncate(tick);
    }
    out.truncate(out.trim_end().len());
    out.push('…');
    out
}

/// `42s`, `3m 4s`, `1h 2m`; fractional seconds are rounded.
fn human_duration(seconds: f64) -> String {
    if !seconds.is_finite() || seconds < 0.0 {
        return format!("{seconds} s");
    }
    let total = seconds.round() as u64;
    let (h, m, s) = (total / 3600, total % 3600 / 60, total % 60);
    match (h, m) {
        (0, 0) => format!("{s}s"),
        (0, m) => format!("{m}m {s}s"),
        (h, m) => format!("{h}h {m}m"),
    }
}

/// Decimal units with one decimal: `512 B`, `1.8 MB`.
fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["KB", "MB", "GB", "TB", "PB"];
    if bytes < 1000 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1000.0;
    let mut unit = 0;
    while value >= 999.95 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

// ---------------------------------------------------------------------------------------------------------
// Sample data
// ---------------------------------------------------------------------------------------------------------

const SAMPLE_TASK_ID: &str = "task_7b1e4c2a9f3d4e8b";
const SAMPLE_EXECUTION_ID: &str = "exec_2f9a6c1d8e4b4a07";
const SAMPLE_SESSION_ID: &str = "b3f6c1de-27a4-4c2e-9a51-6d0e8f4a7c19";
const SAMPLE_BATCH_ID: &str = "batch_5c8e2a1f7d3b4960";
const SAMPLE_INTERVENTION_ID: &str = "int_9d4b7e2c1a6f4833";
const SAMPLE_IDENTITY_ID: &str = "idn_3a7f1c9e5b2d4c68";

fn sample_artifact(name: &str, size: u64, content_type: &str) -> Value {
    json!({
        "name": name,
        "url": format!("https://files.anchorbrowser.io/artifacts/{SAMPLE_EXECUTION_ID}/{name}"),
        "size": size,
        "content_type": content_type,
    })
}

/// The fields every `task.*` sample carries, with the given artifacts and output value.
fn sample_task(artifacts: Vec<Value>, output_value: Value) -> serde_json::Map<String, Value> {
    let mut data = serde_json::Map::new();
    data.insert("task_id".into(), SAMPLE_TASK_ID.into());
    data.insert("execution_id".into(), SAMPLE_EXECUTION_ID.into());
    data.insert("artifacts".into(), Value::Array(artifacts));
    data.insert(
        "recording_url".into(),
        format!("https://files.anchorbrowser.io/recordings/{SAMPLE_SESSION_ID}.mp4").into(),
    );
    data.insert(
        "session_dashboard_url".into(),
        format!("https://app.anchorbrowser.io/sessions/{SAMPLE_SESSION_ID}").into(),
    );
    data.insert("output".into(), json!({ "value": output_value }));
    data
}

/// Realistic sample `data` for each Anchor event type (used by the `/test` endpoint and the demo), with
/// every field SPEC §2 documents for that type plus a few plausible identifiers the `text` summary uses
/// (`session_id`, `batch_id`, …). Deterministic: the same input always gives the same value. Unknown
/// types (including AnyFormat's `extraction.*`) give `{}`.
///
/// * `task.*`: `task_id`, `execution_id`, `artifacts[{name, url, size, content_type}]` (empty for
///   `task.cancelled`: nothing was captured), `recording_url`, `session_dashboard_url`, `output.value`
///   (`null` for failed and cancelled tasks); `task.failed` adds `error{type: "timeout", message}`,
///   `task.healed` adds `healed_task_version_id`.
/// * `session.completed`: `session_id`, `duration` (seconds, a number), `usage{proxy_bytes}`,
///   `recording_url`; the other `session.*` types carry `session_id` and what fits them.
pub fn sample_data(event_type: &str) -> Value {
    let session_recording = format!("https://files.anchorbrowser.io/recordings/{SAMPLE_SESSION_ID}.mp4");
    let live_view = format!("https://live.anchorbrowser.io?sessionId={SAMPLE_SESSION_ID}");
    match event_type {
        "task.completed" => Value::Object(sample_task(
            vec![
                sample_artifact("invoice-2026-05.pdf", 48_213, "application/pdf"),
                sample_artifact("final-page.png", 182_540, "image/png"),
            ],
            json!({ "invoice_number": "INV-2026-0042", "total": 1249.5, "currency": "EUR" }),
        )),
        "task.failed" => {
            let mut data = sample_task(
                vec![sample_artifact("failure-screenshot.png", 96_871, "image/png")],
                Value::Null,
            );
            data.insert(
                "error".into(),
                json!({
                    "type": "timeout",
                    "message": "The task did not finish within its 300 s time limit",
                }),
            );
            Value::Object(data)
        }
        "task.cancelled" => Value::Object(sample_task(Vec::new(), Value::Null)),
        "task.healed" => {
            let mut data = sample_task(
                vec![sample_artifact("final-page.png", 175_302, "image/png")],
                json!({ "invoice_number": "INV-2026-0042", "total": 1249.5, "currency": "EUR" }),
            );
            data.insert("healed_task_version_id".into(), "tv_4e8a2c6f1b9d4357".into());
            Value::Object(data)
        }
        "session.completed" => json!({
            "session_id": SAMPLE_SESSION_ID,
            "duration": 184.5,
            "usage": { "proxy_bytes": 1_843_200 },
            "recording_url": session_recording,
        }),
        "session.failed" => json!({
            "session_id": SAMPLE_SESSION_ID,
            "duration": 12.3,
            "error": { "type": "system_error", "message": "The browser process exited unexpectedly" },
        }),
        "session.recording.ready" => json!({
            "session_id": SAMPLE_SESSION_ID,
            "recording_url": session_recording,
        }),
        "session.ready" => json!({
            "session_id": SAMPLE_SESSION_ID,
            "cdp_url": format!("wss://connect.anchorbrowser.io?sessionId={SAMPLE_SESSION_ID}"),
            "live_view_url": live_view,
        }),
        "batch.completed" => json!({
            "batch_id": SAMPLE_BATCH_ID,
            "total": 50,
            "succeeded": 48,
            "failed": 2,
        }),
        "batch.failed" => json!({
            "batch_id": SAMPLE_BATCH_ID,
            "total": 50,
            "succeeded": 3,
            "failed": 47,
            "error": { "type": "system_error", "message": "Too many sessions failed to start" },
        }),
        "intervention.requested" => json!({
            "intervention_id": SAMPLE_INTERVENTION_ID,
            "session_id": SAMPLE_SESSION_ID,
            "task_id": SAMPLE_TASK_ID,
            "reason": "CAPTCHA on the login page",
            "live_view_url": live_view,
        }),
        "intervention.resolved" => json!({
            "intervention_id": SAMPLE_INTERVENTION_ID,
            "session_id": SAMPLE_SESSION_ID,
            "task_id": SAMPLE_TASK_ID,
            "resolution": "completed",
        }),
        "identity.authenticated" => json!({
            "identity_id": SAMPLE_IDENTITY_ID,
            "session_id": SAMPLE_SESSION_ID,
            "website": "https://portal.example.com",
        }),
        "identity.authentication_failed" => json!({
            "identity_id": SAMPLE_IDENTITY_ID,
            "session_id": SAMPLE_SESSION_ID,
            "website": "https://portal.example.com",
            "error": { "type": "invalid_credentials", "message": "The portal rejected the stored password" },
        }),
        _ => json!({}),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use anchor_webhooks::{Event, EventType, TaskErrorType};
    use time::format_description::well_known::Rfc3339;

    const PROJECT: &str = "5d2c31f6-ab7e-481a-b6fd-8b4a96a4e197";

    fn fixed_envelope(event_type: &str, data: Value) -> Envelope {
        Envelope {
            id: "evt_0123456789abcdef0123456789abcdef".into(),
            event_type: event_type.into(),
            created: OffsetDateTime::parse("2026-05-24T12:18:05.123Z", &Rfc3339).unwrap(),
            project_id: PROJECT.into(),
            data,
        }
    }

    fn parse_body(body: &[u8]) -> Value {
        serde_json::from_slice(body).unwrap()
    }

    #[test]
    fn anchor_types_are_the_catalogue_without_anyformat() {
        let expected: Vec<&str> =
            EventType::ALL_NAMES.iter().copied().filter(|name| !name.starts_with("extraction.")).collect();
        assert_eq!(ANCHOR_EVENT_TYPES, expected.as_slice());
        assert_eq!(ANCHOR_EVENT_TYPES.len(), 14);
        assert!(ANCHOR_EVENT_TYPES.iter().all(|name| is_anchor_event_type(name)));
        assert!(is_anchor_event_type("session.ready"));
        for other in ["extraction.completed", "extraction.failed", "Task.Completed", "", "task", "task.*"] {
            assert!(!is_anchor_event_type(other), "{other}");
        }
    }

    #[test]
    fn every_type_produces_a_body_the_core_parses() {
        for &event_type in ANCHOR_EVENT_TYPES {
            let envelope = Envelope::new(event_type, PROJECT, sample_data(event_type));
            let (body, truncated) = envelope.to_body();
            assert!(!truncated, "{event_type}");
            assert!(body.len() <= MAX_PAYLOAD_BYTES);
            let event = Event::from_anchor_body(&body).unwrap_or_else(|e| panic!("{event_type}: {e}"));
            assert_eq!(event.event_type().as_str(), event_type);
            assert!(event.event_type().is_known());
            assert_eq!(event.id(), envelope.id);
            assert_eq!(event.created(), Some(envelope.created), "{event_type}: created round-trips");
            assert_eq!(event.project_id(), Some(PROJECT));
            assert_eq!(event.data(), &envelope.data);

            let text = envelope.text();
            assert_eq!(event.text(), Some(text.as_str()));
            assert!(!text.trim().is_empty(), "{event_type}");
            assert!(!text.contains(['\n', '\r']), "{event_type}: {text}");
            assert!(text.chars().count() <= MAX_TEXT_CHARS, "{event_type}: {text}");
            assert_ne!(text, summary("no.such_type", &envelope.data), "{event_type} has its own summary");
        }
    }

    #[test]
    fn sample_data_has_the_documented_fields() {
        for &event_type in ANCHOR_EVENT_TYPES {
            assert!(sample_data(event_type).is_object(), "{event_type}");
            assert_eq!(sample_data(event_type), sample_data(event_type), "{event_type} is deterministic");
        }
        assert_eq!(sample_data("extraction.completed"), json!({}));
        assert_eq!(sample_data("nope"), json!({}));

        let parse = |event_type: &str| {
            let (body, _) = fixed_envelope(event_type, sample_data(event_type)).to_body();
            Event::from_anchor_body(&body).unwrap()
        };
        for event_type in ["task.completed", "task.failed", "task.cancelled", "task.healed"] {
            let event = parse(event_type);
            let task = event.task().unwrap();
            assert!(task.task_id().is_some() && task.execution_id().is_some(), "{event_type}");
            assert!(task.recording_url().is_some() && task.session_dashboard_url().is_some());
            assert!(task.output_value().is_some(), "{event_type}");
            assert!(event.data()["artifacts"].is_array());
            for artifact in event.data()["artifacts"].as_array().unwrap() {
                for field in ["name", "url", "size", "content_type"] {
                    assert!(artifact.get(field).is_some(), "{event_type}: artifact {field}");
                }
            }
        }
        let completed = parse("task.completed");
        assert_eq!(completed.task().unwrap().artifacts().len(), 2);
        assert!(!completed.task().unwrap().output_truncated());
        assert!(parse("task.cancelled").task().unwrap().artifacts().is_empty());

        let failed = parse("task.failed");
        assert_eq!(failed.task().unwrap().error_type(), Some(TaskErrorType::Timeout));
        assert!(failed.data()["error"]["message"].is_string());

        assert_eq!(
            parse("task.healed").task().unwrap().healed_task_version_id(),
            Some("tv_4e8a2c6f1b9d4357")
        );

        let session = parse("session.completed");
        let session = session.session().unwrap();
        assert_eq!(session.session_id(), Some(SAMPLE_SESSION_ID));
        assert_eq!(session.duration(), Some(184.5));
        assert_eq!(session.proxy_bytes(), Some(1_843_200));
        assert!(parse("session.recording.ready").session().unwrap().recording_url().is_some());
    }

    #[test]
    fn texts_of_the_samples() {
        let text = |event_type: &str| fixed_envelope(event_type, sample_data(event_type)).text();
        assert_eq!(text("task.completed"), "Task `task_7b1e4c2a9f3d4e8b` completed with 2 artifacts");
        assert_eq!(
            text("task.failed"),
            "Task `task_7b1e4c2a9f3d4e8b` failed: timeout (The task did not finish within its 300 s time limit)"
        );
        assert_eq!(text("task.cancelled"), "Task `task_7b1e4c2a9f3d4e8b` was cancelled");
        assert_eq!(
            text("task.healed"),
            "Task `task_7b1e4c2a9f3d4e8b` was healed (new version `tv_4e8a2c6f1b9d4357`)"
        );
        assert_eq!(
            text("session.completed"),
            format!("Session `{SAMPLE_SESSION_ID}` completed in 3m 5s, 1.8 MB of proxy traffic")
        );
        assert_eq!(
            text("session.recording.ready"),
            format!("Session `{SAMPLE_SESSION_ID}` recording is ready")
        );
        assert_eq!(text("session.ready"), format!("Session `{SAMPLE_SESSION_ID}` is ready"));
        assert_eq!(
            text("batch.completed"),
            "Batch `batch_5c8e2a1f7d3b4960` completed: 48 of 50 succeeded, 2 failed"
        );
        assert_eq!(
            text("intervention.requested"),
            format!("Intervention requested for session `{SAMPLE_SESSION_ID}`: CAPTCHA on the login page")
        );
        assert_eq!(
            text("identity.authentication_failed"),
            "Identity `idn_3a7f1c9e5b2d4c68` failed to authenticate: invalid_credentials \
             (The portal rejected the stored password)"
        );
    }

    #[test]
    fn texts_from_minimal_and_hostile_data() {
        let text = |event_type: &str, data: Value| fixed_envelope(event_type, data).text();
        assert_eq!(text("task.completed", json!({})), "Task completed");
        assert_eq!(
            text("task.completed", json!({"task_id": "t", "artifacts": []})),
            "Task `t` completed with no artifacts"
        );
        assert_eq!(
            text("task.completed", json!({"task_id": "task_123", "artifacts": [{}, {}]})),
            "Task `task_123` completed with 2 artifacts"
        );
        assert_eq!(
            text("task.failed", json!({"task_id": "t", "error": {"type": "timeout"}})),
            "Task `t` failed: timeout"
        );
        assert_eq!(
            text("session.recording.ready", json!({"session_id": "s"})),
            "Session `s` recording is ready"
        );
        assert_eq!(
            text("intervention.requested", json!({"session_id": "s"})),
            "Intervention requested for session `s`"
        );
        assert_eq!(text("widget.exploded", json!({})), "Anchor event `widget.exploded` received");
        assert_eq!(text("", json!({})), "Anchor event received");
        // Wrong shapes are ignored, not trusted.
        assert_eq!(text("task.completed", json!({"task_id": 42, "artifacts": "many"})), "Task completed");
        assert_eq!(text("task.completed", Value::Null), "Task completed");

        // Slack escaping, single line, no code-span breakout.
        let hostile = text(
            "task.failed",
            json!({"task_id": "a`b\nc", "error": {"type": "agent_error", "message": "<@here> 1 & `2`\r\nline"}}),
        );
        assert_eq!(hostile, "Task `ab c` failed: agent_error (&lt;@here&gt; 1 &amp; '2' line)");

        // Length cap, whatever the inputs.
        let long = "x&".repeat(5_000);
        for event_type in ANCHOR_EVENT_TYPES.iter().copied().chain(["some.unknown_type"]) {
            let data = json!({
                "task_id": long, "session_id": long, "batch_id": long, "identity_id": long,
                "healed_task_version_id": long, "reason": long, "resolution": long, "website": long,
                "error": {"type": long, "message": long},
            });
            let text = text(event_type, data);
            assert!(text.chars().count() <= MAX_TEXT_CHARS, "{event_type}: {}", text.chars().count());
            assert!(!text.is_empty() && !text.contains('\n'));
            assert_eq!(text.matches('`').count() % 2, 0, "{event_type}: {text}");
        }
        let capped = cap_text(format!("{}&amp; tail", "y".repeat(296)));
        assert!(!capped.contains('&'), "no half entity: {capped}");
        assert!(capped.ends_with('…'));
    }

    #[test]
    fn large_output_is_truncated() {
        let mut data = sample_data("task.completed");
        data["output"]["value"] = Value::String("a".repeat(100 * 1024));
        let envelope = fixed_envelope("task.completed", data.clone());
        let (body, truncated) = envelope.to_body();
        assert!(truncated);
        assert!(body.len() <= MAX_PAYLOAD_BYTES, "{}", body.len());

        let event = Event::from_anchor_body(&body).unwrap();
        assert_eq!(event.data()["output"]["value"], TRUNCATED_MARKER);
        assert!(event.task().unwrap().output_truncated());
        let mut expected = data;
        expected["output"]["value"] = TRUNCATED_MARKER.into();
        assert_eq!(event.data(), &expected, "every other field intact");
        assert_eq!(event.id(), envelope.id);
        assert_eq!(event.text(), Some(envelope.text().as_str()));
        assert_eq!(event.created(), Some(envelope.created));
        // The envelope itself is not modified.
        assert_eq!(envelope.data["output"]["value"].as_str().unwrap().len(), 100 * 1024);
    }

    #[test]
    fn small_payload_is_not_truncated() {
        let envelope = fixed_envelope("task.completed", sample_data("task.completed"));
        let (body, truncated) = envelope.to_body();
        assert!(!truncated);
        assert_eq!(parse_body(&body)["data"], envelope.data);
        assert_eq!(body, serde_json::to_vec(&envelope).unwrap(), "Serialize gives the same bytes");
    }

    #[test]
    fn truncation_boundary_and_oversized_without_output() {
        // Exactly at the cap: sent whole.
        let mut data = json!({"task_id": "t", "output": {"value": ""}});
        let base = fixed_envelope("task.completed", data.clone()).to_body().0.len();
        data["output"]["value"] = "v".repeat(MAX_PAYLOAD_BYTES - base).into();
        let (body, truncated) = fixed_envelope("task.completed", data.clone()).to_body();
        assert_eq!((body.len(), truncated), (MAX_PAYLOAD_BYTES, false));
        // One byte over: truncated.
        data["output"]["value"] = "v".repeat(MAX_PAYLOAD_BYTES - base + 1).into();
        let (body, truncated) = fixed_envelope("task.completed", data).to_body();
        assert!(truncated && body.len() < MAX_PAYLOAD_BYTES);

        // Over the cap with no output.value: sent as is, not flagged.
        let big = json!({"task_id": "t", "notes": "n".repeat(70_000)});
        let (body, truncated) = fixed_envelope("task.completed", big.clone()).to_body();
        assert!(!truncated && body.len() > MAX_PAYLOAD_BYTES);
        assert_eq!(parse_body(&body)["data"], big);
        // Over the cap even after truncation: truncated, still sent.
        let both = json!({"notes": "n".repeat(70_000), "output": {"value": "o".repeat(10_000)}});
        let (body, truncated) = fixed_envelope("task.completed", both).to_body();
        assert!(truncated && body.len() > MAX_PAYLOAD_BYTES);
        assert_eq!(parse_body(&body)["data"]["output"]["value"], TRUNCATED_MARKER);
    }

    #[test]
    fn key_order_is_the_envelope_order() {
        let (body, _) = fixed_envelope("task.completed", sample_data("task.completed")).to_body();
        let value = parse_body(&body);
        let keys: Vec<&str> = value.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, ["id", "type", "created", "project_id", "text", "data"]);
        let text = std::str::from_utf8(&body).unwrap();
        assert!(
            text.starts_with(
                r#"{"id":"evt_0123456789abcdef0123456789abcdef","type":"task.completed","created":"2026-05-24T12:18:05.123Z","project_id":"5d2c31f6-ab7e-481a-b6fd-8b4a96a4e197","text":"Task "#
            ),
            "{text}"
        );
        assert!(!text.contains('\n') && !text.contains(": "), "compact JSON");
        // `data` keeps its own key order too.
        let data_keys: Vec<&str> = value["data"].as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(data_keys[..2], ["task_id", "execution_id"]);
    }

    #[test]
    fn created_format() {
        let at = |s: &str| OffsetDateTime::parse(s, &Rfc3339).unwrap();
        assert_eq!(format_created(at("2026-05-24T12:18:05.123Z")), "2026-05-24T12:18:05.123Z");
        assert_eq!(format_created(at("2026-05-24T12:18:05Z")), "2026-05-24T12:18:05.000Z");
        assert_eq!(format_created(at("2026-05-24T12:18:05.123999999Z")), "2026-05-24T12:18:05.123Z");
        assert_eq!(format_created(at("2026-05-24T14:18:05.5+02:00")), "2026-05-24T12:18:05.500Z");
        assert_eq!(format_created(at("2000-01-01T00:30:00.007-01:00")), "2000-01-01T01:30:00.007Z");
        let far = OffsetDateTime::UNIX_EPOCH.replace_year(-5).unwrap();
        assert_eq!(format_created(far), "0000-01-01T00:00:00.000Z");

        let envelope = Envelope::new("task.completed", PROJECT, json!({}));
        let formatted = format_created(envelope.created);
        assert_eq!(formatted.len(), "2026-05-24T12:18:05.123Z".len(), "{formatted}");
        assert!(formatted.ends_with('Z') && formatted.as_bytes()[19] == b'.', "{formatted}");
        assert_eq!(at(&formatted), envelope.created, "Envelope::new truncates to milliseconds");
        assert_eq!(envelope.created.nanosecond() % 1_000_000, 0);
        let (body, _) = envelope.to_body();
        assert_eq!(parse_body(&body)["created"], formatted);
    }

    #[test]
    fn event_id_format() {
        let id = new_event_id();
        assert_eq!(id.len(), 36, "{id}");
        let hex = id.strip_prefix("evt_").unwrap();
        assert!(hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')), "{id}");
        // Version nibble of a v4 UUID.
        assert_eq!(&hex[12..13], "4");
        assert_ne!(new_event_id(), new_event_id());
        let envelope = Envelope::new("task.completed", PROJECT, json!({}));
        assert!(envelope.id.starts_with("evt_") && envelope.id.len() == 36);
    }

    #[test]
    fn human_units() {
        assert_eq!(human_duration(0.4), "0s");
        assert_eq!(human_duration(42.0), "42s");
        assert_eq!(human_duration(184.5), "3m 5s");
        assert_eq!(human_duration(3_725.0), "1h 2m");
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(1_843_200), "1.8 MB");
        assert_eq!(human_bytes(999_999), "1.0 MB");
        assert_eq!(human_bytes(u64::MAX), "18446.7 PB");
    }
}
