//! The event catalogue, the envelope, and typed views of the documented `data` fields.
//!
//! The catalogue is declared once, in [`event_types!`]; bindings expose [`EventType::ALL_NAMES`].
//! Typed views are lenient: a field that is absent or of another shape reads as `None`, and the raw JSON
//! (`Event::data`, `Event::body`) always keeps every field, known or not.

use std::fmt;

use serde_json::{Map, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::error::Error;

macro_rules! event_types {
    ($( $(#[$doc:meta])* $variant:ident => $name:literal, )+) => {
        /// The type of an event. Types not in the catalogue verify fine and read as `Unknown`.
        #[derive(Clone, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum EventType {
            $( $(#[$doc])* $variant, )+
            /// A type this version does not know (or, for Standard Webhooks, the empty string when the
            /// body names no type).
            Unknown(String),
        }

        impl EventType {
            /// Every catalogue name, in declaration order.
            pub const ALL_NAMES: &'static [&'static str] = &[$($name),+];

            /// The wire name, e.g. `"task.completed"`.
            pub fn as_str(&self) -> &str {
                match self {
                    $(EventType::$variant => $name,)+
                    EventType::Unknown(name) => name,
                }
            }

            /// Parses a wire name; anything outside the catalogue is `Unknown`.
            pub fn parse(name: &str) -> EventType {
                match name {
                    $($name => EventType::$variant,)+
                    other => EventType::Unknown(other.to_owned()),
                }
            }
        }
    };
}

event_types! {
    TaskCompleted => "task.completed",
    TaskFailed => "task.failed",
    TaskCancelled => "task.cancelled",
    TaskHealed => "task.healed",
    SessionCompleted => "session.completed",
    SessionFailed => "session.failed",
    SessionRecordingReady => "session.recording.ready",
    /// Listed in the provider's OpenAPI file, not in its prose docs.
    SessionReady => "session.ready",
    BatchCompleted => "batch.completed",
    BatchFailed => "batch.failed",
    InterventionRequested => "intervention.requested",
    InterventionResolved => "intervention.resolved",
    IdentityAuthenticated => "identity.authenticated",
    IdentityAuthenticationFailed => "identity.authentication_failed",
    /// AnyFormat (Standard Webhooks scheme).
    ExtractionCompleted => "extraction.completed",
    /// AnyFormat (Standard Webhooks scheme).
    ExtractionFailed => "extraction.failed",
}

impl EventType {
    /// Whether the type is in the catalogue.
    pub fn is_known(&self) -> bool {
        !matches!(self, EventType::Unknown(_))
    }

    /// The entity part of the name: `task` for `task.completed`.
    pub fn entity(&self) -> &str {
        let name = self.as_str();
        name.split_once('.').map_or(name, |(entity, _)| entity)
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A verified event: the envelope fields, and the whole body as JSON.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    id: String,
    event_type: EventType,
    created: Option<OffsetDateTime>,
    project_id: Option<String>,
    text: Option<String>,
    body: Value,
}

static NULL: Value = Value::Null;

impl Event {
    /// Parses an Anchor envelope (see the README for the exact rules).
    pub fn from_anchor_body(body: &[u8]) -> Result<Event, Error> {
        let body = parse_json(body)?;
        let envelope =
            body.as_object().ok_or_else(|| Error::invalid_payload("the body is not a JSON object"))?;
        let id = required_string(envelope, "id")?.to_owned();
        let event_type = EventType::parse(required_string(envelope, "type")?);
        let created = required_string(envelope, "created")?;
        let created = OffsetDateTime::parse(created, &Rfc3339)
            .map_err(|_| Error::invalid_payload("`created` is not an RFC 3339 date-time"))?;
        if !envelope.get("data").is_some_and(Value::is_object) {
            return Err(Error::invalid_payload("`data` is missing or not an object"));
        }
        let project_id = optional_string(envelope, "project_id")?;
        let text = optional_string(envelope, "text")?;
        Ok(Event { id, event_type, created: Some(created), project_id, text, body })
    }

    /// Builds a Standard Webhooks event: any JSON body; the id comes from the `webhook-id` header.
    pub fn from_standard_body(id: &str, body: &[u8]) -> Result<Event, Error> {
        let body = parse_json(body)?;
        let field = |name| body.get(name).and_then(Value::as_str);
        let event_type = EventType::parse(field("type").or_else(|| field("event")).unwrap_or(""));
        let created = field("timestamp").and_then(|at| OffsetDateTime::parse(at, &Rfc3339).ok());
        Ok(Event { id: id.to_owned(), event_type, created, project_id: None, text: None, body })
    }

    /// The event id: the envelope's `id` (Anchor) or the `webhook-id` header (Standard Webhooks). The
    /// same logical event keeps it across retries, so it is the dedupe key.
    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn event_type(&self) -> &EventType {
        &self.event_type
    }

    /// When the provider created the event (`created`, or a Standard Webhooks body's `timestamp`).
    pub fn created(&self) -> Option<OffsetDateTime> {
        self.created
    }

    pub fn project_id(&self) -> Option<&str> {
        self.project_id.as_deref()
    }

    /// The one-line human-readable summary. Presentation only: integrations read [`Event::data`].
    pub fn text(&self) -> Option<&str> {
        self.text.as_deref()
    }

    /// The `data` object (`null` when a Standard Webhooks body has none).
    pub fn data(&self) -> &Value {
        self.body.get("data").unwrap_or(&NULL)
    }

    /// The whole parsed body, every field kept.
    pub fn body(&self) -> &Value {
        &self.body
    }

    pub fn into_body(self) -> Value {
        self.body
    }

    /// The task fields, for `task.*` events.
    pub fn task(&self) -> Option<TaskData<'_>> {
        (self.event_type.entity() == "task").then(|| TaskData(self.data_object()))
    }

    /// The session fields, for `session.*` events.
    pub fn session(&self) -> Option<SessionData<'_>> {
        (self.event_type.entity() == "session").then(|| SessionData(self.data_object()))
    }

    fn data_object(&self) -> &Map<String, Value> {
        static EMPTY: std::sync::OnceLock<Map<String, Value>> = std::sync::OnceLock::new();
        self.data().as_object().unwrap_or_else(|| EMPTY.get_or_init(Map::new))
    }
}

fn parse_json(body: &[u8]) -> Result<Value, Error> {
    if body.is_empty() {
        return Err(Error::invalid_payload("the body is empty"));
    }
    if std::str::from_utf8(body).is_err() {
        return Err(Error::invalid_payload("the body is not valid UTF-8"));
    }
    // serde_json's messages can quote the input; only the position is reported.
    serde_json::from_slice(body).map_err(|e| {
        Error::invalid_payload(format!(
            "the body is not valid JSON (line {}, column {})",
            e.line(),
            e.column()
        ))
    })
}

fn required_string<'a>(envelope: &'a Map<String, Value>, field: &'static str) -> Result<&'a str, Error> {
    match envelope.get(field).and_then(Value::as_str) {
        Some(value) if !value.is_empty() => Ok(value),
        _ => Err(Error::invalid_payload(format!("`{field}` is missing or not a non-empty string"))),
    }
}

fn optional_string(envelope: &Map<String, Value>, field: &'static str) -> Result<Option<String>, Error> {
    match envelope.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(value)) => Ok(Some(value.clone())),
        Some(_) => Err(Error::invalid_payload(format!("`{field}` is not a string"))),
    }
}

fn str_field<'a>(map: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    map.get(name).and_then(Value::as_str)
}

/// The documented fields of `task.*` events.
#[derive(Clone, Copy, Debug)]
pub struct TaskData<'a>(&'a Map<String, Value>);

/// Marker the provider puts in `output.value` when the payload exceeded 64 KB.
pub const TRUNCATED_MARKER: &str = "__truncated__";

impl<'a> TaskData<'a> {
    /// Captured artifacts; entries without a string `name` and `url` are skipped.
    pub fn artifacts(&self) -> Vec<Artifact<'a>> {
        let Some(items) = self.0.get("artifacts").and_then(Value::as_array) else {
            return Vec::new();
        };
        items
            .iter()
            .filter_map(Value::as_object)
            .filter_map(|item| {
                Some(Artifact {
                    name: str_field(item, "name")?,
                    url: str_field(item, "url")?,
                    size: item.get("size").and_then(Value::as_u64),
                    content_type: str_field(item, "content_type"),
                })
            })
            .collect()
    }

    pub fn recording_url(&self) -> Option<&'a str> {
        str_field(self.0, "recording_url")
    }

    pub fn session_dashboard_url(&self) -> Option<&'a str> {
        str_field(self.0, "session_dashboard_url")
    }

    pub fn task_id(&self) -> Option<&'a str> {
        str_field(self.0, "task_id")
    }

    pub fn execution_id(&self) -> Option<&'a str> {
        str_field(self.0, "execution_id")
    }

    /// `output.value`, as JSON.
    pub fn output_value(&self) -> Option<&'a Value> {
        self.0.get("output")?.get("value")
    }

    /// Whether the provider replaced `output.value` because the payload was over 64 KB.
    pub fn output_truncated(&self) -> bool {
        self.output_value().and_then(Value::as_str) == Some(TRUNCATED_MARKER)
    }

    /// `error.type` of `task.failed`.
    pub fn error_type(&self) -> Option<TaskErrorType> {
        self.0.get("error")?.get("type")?.as_str().map(TaskErrorType::parse)
    }

    /// The whole `error` object (type plus any message fields).
    pub fn error(&self) -> Option<&'a Value> {
        self.0.get("error")
    }

    /// `healed_task_version_id` of `task.healed`.
    pub fn healed_task_version_id(&self) -> Option<&'a str> {
        str_field(self.0, "healed_task_version_id")
    }
}

/// One captured artifact of a task.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Artifact<'a> {
    pub name: &'a str,
    pub url: &'a str,
    pub size: Option<u64>,
    pub content_type: Option<&'a str>,
}

/// `error.type` of a failed task.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TaskErrorType {
    AutomationFailure,
    InvalidCredentials,
    Timeout,
    AgentError,
    SystemError,
    Unknown(String),
}

impl TaskErrorType {
    pub const ALL_NAMES: &'static [&'static str] =
        &["automation_failure", "invalid_credentials", "timeout", "agent_error", "system_error"];

    pub fn parse(name: &str) -> TaskErrorType {
        match name {
            "automation_failure" => TaskErrorType::AutomationFailure,
            "invalid_credentials" => TaskErrorType::InvalidCredentials,
            "timeout" => TaskErrorType::Timeout,
            "agent_error" => TaskErrorType::AgentError,
            "system_error" => TaskErrorType::SystemError,
            other => TaskErrorType::Unknown(other.to_owned()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            TaskErrorType::AutomationFailure => "automation_failure",
            TaskErrorType::InvalidCredentials => "invalid_credentials",
            TaskErrorType::Timeout => "timeout",
            TaskErrorType::AgentError => "agent_error",
            TaskErrorType::SystemError => "system_error",
            TaskErrorType::Unknown(other) => other,
        }
    }
}

/// The documented fields of `session.*` events.
#[derive(Clone, Copy, Debug)]
pub struct SessionData<'a>(&'a Map<String, Value>);

impl<'a> SessionData<'a> {
    /// `duration`, as a number (the provider does not document its unit; seconds in its examples).
    pub fn duration(&self) -> Option<f64> {
        self.0.get("duration").and_then(Value::as_f64)
    }

    /// `proxy_bytes` of the resource usage, looked up at the top of `data` or under `usage`.
    pub fn proxy_bytes(&self) -> Option<u64> {
        self.usage_field("proxy_bytes").and_then(Value::as_u64)
    }

    /// A resource-usage field by name, at the top of `data` or under `usage`.
    pub fn usage_field(&self, name: &str) -> Option<&'a Value> {
        self.0.get(name).or_else(|| self.0.get("usage")?.get(name))
    }

    pub fn recording_url(&self) -> Option<&'a str> {
        str_field(self.0, "recording_url")
    }

    pub fn session_id(&self) -> Option<&'a str> {
        str_field(self.0, "session_id")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_round_trips() {
        for name in EventType::ALL_NAMES {
            let parsed = EventType::parse(name);
            assert!(parsed.is_known());
            assert_eq!(parsed.as_str(), *name);
        }
        assert_eq!(EventType::parse("widget.exploded"), EventType::Unknown("widget.exploded".into()));
        assert_eq!(EventType::SessionRecordingReady.entity(), "session");
    }

    #[test]
    fn task_fields() {
        let body = br#"{"id":"evt_1","type":"task.failed","created":"2026-05-24T12:18:05.123Z","data":{
            "artifacts":[{"name":"a.png","url":"https://x/a.png","size":12},{"name":1}],
            "error":{"type":"timeout","message":"slow"},"output":{"value":"__truncated__"}}}"#;
        let event = Event::from_anchor_body(body).unwrap();
        let task = event.task().unwrap();
        assert_eq!(task.artifacts().len(), 1);
        assert_eq!(task.artifacts()[0].size, Some(12));
        assert_eq!(task.error_type(), Some(TaskErrorType::Timeout));
        assert!(task.output_truncated());
        assert!(event.session().is_none());
    }

    #[test]
    fn json_errors_never_quote_the_body() {
        let err = Event::from_anchor_body(br#"{"id": "SECRET-LOOKING-TEXT" oops}"#).unwrap_err();
        assert!(!err.to_string().contains("SECRET-LOOKING-TEXT"), "{err}");
    }
}
