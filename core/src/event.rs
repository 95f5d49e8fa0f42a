//! The event catalogue, the envelope, and typed views of the documented `data` fields.
//!
//! The catalogue is declared once, in [`event_types!`]; bindings expose [`EventType::ALL_NAMES`].
//! Typed views are lenient: a field that is absent or of another shape reads as `None`, and the raw JSON
//! (`Event::data`, `Event::body`) always keeps every field, known or not.

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;
use std::sync::OnceLock;

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
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
    /// `task.completed`: read `data` with [`Event::task`] (artifacts, recording, output).
    TaskCompleted => "task.completed",
    /// `task.failed`: the task fields ([`Event::task`]) and `error.type` ([`TaskData::error_type`]).
    TaskFailed => "task.failed",
    /// `task.cancelled`: the task fields ([`Event::task`]).
    TaskCancelled => "task.cancelled",
    /// `task.healed`: carries `healed_task_version_id` ([`TaskData::healed_task_version_id`]).
    TaskHealed => "task.healed",
    /// `session.completed`: the duration and resource usage ([`Event::session`]).
    SessionCompleted => "session.completed",
    /// `session.failed`: read `data` with [`Event::session`].
    SessionFailed => "session.failed",
    /// `session.recording.ready`: read `data` with [`Event::session`].
    SessionRecordingReady => "session.recording.ready",
    /// `session.ready`: listed in the provider's OpenAPI file, not in its prose docs.
    SessionReady => "session.ready",
    /// `batch.completed`: the provider documents no `data` fields for it; read [`Event::data`].
    BatchCompleted => "batch.completed",
    /// `batch.failed`: no documented `data` fields; read [`Event::data`].
    BatchFailed => "batch.failed",
    /// `intervention.requested`: no documented `data` fields; read [`Event::data`].
    InterventionRequested => "intervention.requested",
    /// `intervention.resolved`: no documented `data` fields; read [`Event::data`].
    InterventionResolved => "intervention.resolved",
    /// `identity.authenticated`: no documented `data` fields; read [`Event::data`].
    IdentityAuthenticated => "identity.authenticated",
    /// `identity.authentication_failed`: no documented `data` fields; read [`Event::data`].
    IdentityAuthenticationFailed => "identity.authentication_failed",
    /// `extraction.completed`: AnyFormat (Standard Webhooks scheme); `data` has `extraction_id`, `status`
    /// (`"processed"` or `"error"`), `workflow_id` and `processed_at`.
    ExtractionCompleted => "extraction.completed",
    /// `extraction.failed`: AnyFormat (Standard Webhooks scheme); the same `data` fields as
    /// `extraction.completed`.
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

/// A verified event: the envelope fields, and the verified body.
///
/// Verification validates the whole body as JSON but does not build a tree: [`Event::data`] and
/// [`Event::body`] parse it on first use, and [`Event::raw_data`] hands the exact bytes of `data` to hosts
/// that have a faster JSON parser of their own (V8's `JSON.parse`, Go's `encoding/json`).
#[derive(Clone)]
pub struct Event {
    id: String,
    event_type: EventType,
    created: Option<OffsetDateTime>,
    project_id: Option<String>,
    text: Option<String>,
    /// The verified body; validated as UTF-8 JSON, so kept as text.
    raw: Box<str>,
    /// Where `data` sits in `raw`; `None` when a Standard Webhooks body has no `data`.
    data_span: Option<Range<usize>>,
    body: OnceLock<Value>,
}

static NULL: Value = Value::Null;

impl Event {
    /// Parses an Anchor envelope; any departure from the rules ("Anchor envelope" in
    /// [`decisions`](crate::decisions)) is `invalid_payload`.
    pub fn from_anchor_body(body: &[u8]) -> Result<Event, Error> {
        let text = json_text(body)?;
        if !starts_with_object(text) {
            validate_whole(text)?;
            return Err(Error::invalid_payload("the body is not a JSON object"));
        }
        let fields = TopLevel::parse(text)?;
        let id = required_string(fields.field("id"), "id")?.to_owned();
        let event_type = EventType::parse(required_string(fields.field("type"), "type")?);
        let created = required_string(fields.field("created"), "created")?;
        let created = crate::rfc3339::parse(created)
            .ok_or_else(|| Error::invalid_payload("`created` is not an RFC 3339 date-time"))?;
        let data = match fields.field("data") {
            Some(data) if data.text.starts_with('{') => data.text,
            _ => return Err(Error::invalid_payload("`data` is missing or not an object")),
        };
        let project_id = optional_string(fields.field("project_id"), "project_id")?;
        let text_field = optional_string(fields.field("text"), "text")?;
        Ok(Event {
            id,
            event_type,
            created: Some(created),
            project_id,
            text: text_field,
            data_span: Some(span_in(text, data)),
            raw: text.into(),
            body: OnceLock::new(),
        })
    }

    /// Builds a Standard Webhooks event: any JSON body; the id comes from the `webhook-id` header.
    pub fn from_standard_body(id: &str, body: &[u8]) -> Result<Event, Error> {
        let text = json_text(body)?;
        let fields = if starts_with_object(text) {
            TopLevel::parse(text)?
        } else {
            validate_whole(text)?;
            TopLevel::default()
        };
        let event_type = fields.string("type").or_else(|| fields.string("event")).unwrap_or_default();
        let created = fields.string("timestamp").and_then(crate::rfc3339::parse);
        Ok(Event {
            id: id.to_owned(),
            event_type: EventType::parse(event_type),
            created,
            project_id: None,
            text: None,
            data_span: fields.field("data").map(|data| span_in(text, data.text)),
            raw: text.into(),
            body: OnceLock::new(),
        })
    }

    /// The event id: the envelope's `id` (Anchor) or the `webhook-id` header (Standard Webhooks). The
    /// same logical event keeps it across retries, so it is the dedupe key.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The envelope's `type` (Anchor), or the Standard Webhooks body's `type` or else `event` field (the
    /// empty string, as [`EventType::Unknown`], when it has neither).
    pub fn event_type(&self) -> &EventType {
        &self.event_type
    }

    /// When the provider created the event (`created`, or a Standard Webhooks body's `timestamp`).
    pub fn created(&self) -> Option<OffsetDateTime> {
        self.created
    }

    /// [`Event::created`] in whole unix milliseconds, rounded down (what a JavaScript `Date` holds, and the
    /// vectors' `created_ms`). No 128-bit division: the seconds are rounded down already and the
    /// milliseconds past them are never negative.
    pub fn created_unix_ms(&self) -> Option<i64> {
        self.created.map(|at| at.unix_timestamp() * 1000 + i64::from(at.millisecond()))
    }

    /// The envelope's `project_id`; `None` when it is absent or `null`, and always for Standard Webhooks.
    pub fn project_id(&self) -> Option<&str> {
        self.project_id.as_deref()
    }

    /// The one-line human-readable summary. Presentation only: integrations read [`Event::data`].
    pub fn text(&self) -> Option<&str> {
        self.text.as_deref()
    }

    /// The `data` object (`null` when a Standard Webhooks body has none). Parsed on first use.
    pub fn data(&self) -> &Value {
        self.body().get("data").unwrap_or(&NULL)
    }

    /// The whole parsed body, every field kept. Parsed on first use.
    pub fn body(&self) -> &Value {
        self.body.get_or_init(|| parse_validated(&self.raw))
    }

    /// The whole parsed body, by value: no clone when [`Event::body`] already parsed it.
    pub fn into_body(self) -> Value {
        let Event { raw, body, .. } = self;
        body.into_inner().unwrap_or_else(|| parse_validated(&raw))
    }

    /// The verified body, byte for byte.
    pub fn raw_body(&self) -> &[u8] {
        self.raw.as_bytes()
    }

    /// [`Event::raw_body`] as text: verification checked that it is UTF-8, so a JSON parser reading it
    /// (`serde_json::from_str`) need not check again.
    pub fn raw_body_str(&self) -> &str {
        &self.raw
    }

    /// The JSON text of `data` exactly as signed (`null` when a Standard Webhooks body has none). Already
    /// validated: any JSON parser accepts it.
    pub fn raw_data(&self) -> &[u8] {
        self.raw_data_str().as_bytes()
    }

    /// [`Event::raw_data`] as text (see [`Event::raw_body_str`]).
    pub fn raw_data_str(&self) -> &str {
        match &self.data_span {
            Some(span) => &self.raw[span.clone()],
            None => "null",
        }
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
        static EMPTY: OnceLock<Map<String, Value>> = OnceLock::new();
        self.data().as_object().unwrap_or_else(|| EMPTY.get_or_init(Map::new))
    }
}

impl PartialEq for Event {
    fn eq(&self, other: &Event) -> bool {
        // Everything else is derived from these two.
        self.id == other.id && self.raw == other.raw
    }
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The body is the user's data: its size is shown, not its content.
        f.debug_struct("Event")
            .field("id", &self.id)
            .field("event_type", &self.event_type)
            .field("created", &self.created)
            .field("project_id", &self.project_id)
            .field("text", &self.text)
            .field("body_bytes", &self.raw.len())
            .finish()
    }
}

/// Nesting `serde_json` accepts when it builds a `Value`: 127 containers, the body's own included.
const MAX_NESTING: usize = 127;

fn json_text(body: &[u8]) -> Result<&str, Error> {
    if body.is_empty() {
        return Err(Error::invalid_payload("the body is empty"));
    }
    std::str::from_utf8(body).map_err(|_| {
        Error::invalid_payload(if is_gzip(body) {
            "the body is gzip-compressed (signed so: a `Content-Encoding: gzip` body), not JSON text"
        } else {
            "the body is not valid UTF-8"
        })
    })
}

/// Whether `body` starts as gzip data does: a `Content-Encoding: gzip` body nothing decompressed.
pub(crate) fn is_gzip(body: &[u8]) -> bool {
    body.starts_with(&[0x1f, 0x8b])
}

fn starts_with_object(text: &str) -> bool {
    text.trim_start_matches([' ', '\t', '\n', '\r']).starts_with('{')
}

/// serde_json's messages can quote the input; only the position is reported. `text` is the whole body and
/// `before` the part of it that precedes what `serde_json` read, so the position is the body's.
fn json_error(e: serde_json::Error, text: &str, before: &str) -> Error {
    let (line, column) = if e.line() == 1 {
        line_column(before, 1, e.column())
    } else {
        (line_column(before, 1, 1).0 + e.line() - 1, e.column())
    };
    if e.is_data() {
        return Error::invalid_payload(format!(
            "the body nests JSON deeper than {MAX_NESTING} levels (line {line}, column {column})"
        ));
    }
    // A guess (a paired escape elsewhere is valid), so it follows the position rather than replacing it.
    let cause = if text.starts_with('\u{feff}') {
        "; it starts with a byte order mark (U+FEFF), which JSON does not allow"
    } else if has_surrogate_escape(text) {
        "; a lone UTF-16 surrogate `\\u` escape is no character"
    } else {
        ""
    };
    Error::invalid_payload(format!("the body is not valid JSON (line {line}, column {column}){cause}"))
}

/// Whether `text` holds a `\u` escape of a UTF-16 surrogate: serde_json refuses one without its pair.
/// Read from the text, not from serde_json's message, whose `Display` would add its every message to the
/// WebAssembly build (4 KB).
fn has_surrogate_escape(text: &str) -> bool {
    text.as_bytes().windows(4).any(|escape| {
        escape[..2] == *b"\\u"
            && escape[2] | 0x20 == b'd'
            && matches!(escape[3] | 0x20, b'8' | b'9' | b'a'..=b'f')
    })
}

fn validate_whole(text: &str) -> Result<(), Error> {
    let mut de = serde_json::Deserializer::from_str(text);
    let validated = Validate { nesting_left: MAX_NESTING }.deserialize(&mut de);
    validated.and_then(|()| de.end()).map_err(|e| json_error(e, text, ""))
}

/// The byte range of `part`, a slice borrowed from `whole`.
fn span_in(whole: &str, part: &str) -> Range<usize> {
    let start = part.as_ptr() as usize - whole.as_ptr() as usize;
    start..start + part.len()
}

/// Builds the `Value` of a body that [`Validate`] accepted, which `serde_json` then accepts too (same
/// grammar, number ranges and nesting limit; `core/tests` and the `envelope` fuzz target hold it to that).
fn parse_validated(raw: &str) -> Value {
    serde_json::from_str(raw).unwrap_or(Value::Null)
}

/// The top-level fields the core reads, kept as borrowed JSON text. Every other field is validated and
/// skipped; a repeated field keeps its last value, as every JSON parser a receiver uses does.
///
/// One pass over the body: the outer object's punctuation is read here, and each key and value is handed
/// to `serde_json` (which reports where it ended), so `data` is validated once and its span known without
/// scanning it a second time.
#[derive(Default)]
pub(crate) struct TopLevel<'a> {
    fields: [Option<Field<'a>>; FIELDS.len()],
}

const FIELDS: [&str; 8] = ["id", "type", "created", "project_id", "text", "data", "event", "timestamp"];

/// A top-level value: its exact text, and its decoded content when it is a string.
struct Field<'a> {
    text: &'a str,
    string: Option<Cow<'a, str>>,
}

/// Any JSON value one level below the body, walked like `Value` parsing would walk it; a string is kept.
///
/// Read with `deserialize_any` only: the typed entry points (`deserialize_str`, …) carry serde's
/// "invalid type" messages, whose float formatting alone is a fifth of the WebAssembly build.
struct Captured<'a>(Option<Cow<'a, str>>);

impl<'de> serde::Deserialize<'de> for Captured<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Captured<'de>, D::Error> {
        deserializer.deserialize_any(Capture(Validate { nesting_left: MAX_NESTING - 1 })).map(Captured)
    }
}

/// Keeps a string; hands anything else to [`Validate`], so strings nested deeper are never copied.
struct Capture(Validate);

impl<'de> Visitor<'de> for Capture {
    type Value = Option<Cow<'de, str>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.expecting(f)
    }

    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_borrowed_str<E>(self, text: &'de str) -> Result<Self::Value, E> {
        Ok(Some(Cow::Borrowed(text)))
    }

    fn visit_str<E>(self, text: &str) -> Result<Self::Value, E> {
        Ok(Some(Cow::Owned(text.to_owned())))
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        self.0.visit_seq(seq).map(|()| None)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        self.0.visit_map(map).map(|()| None)
    }
}

impl<'a> TopLevel<'a> {
    /// `text` starts with `{` once leading whitespace is skipped.
    fn parse(text: &'a str) -> Result<TopLevel<'a>, Error> {
        let mut fields = TopLevel::default();
        let mut cursor = Cursor { text, at: 0 };
        cursor.punctuation(b'{')?;
        if cursor.peek() == Some(b'}') {
            cursor.at += 1;
        } else {
            loop {
                if cursor.peek() != Some(b'"') {
                    return Err(cursor.invalid());
                }
                let key = cursor.key()?;
                cursor.punctuation(b':')?;
                let (Captured(string), text) = cursor.next()?;
                if let Some(index) = FIELDS.iter().position(|field| *field == key) {
                    fields.fields[index] = Some(Field { text, string });
                }
                match cursor.peek() {
                    Some(b',') => cursor.at += 1,
                    Some(b'}') => {
                        cursor.at += 1;
                        break;
                    }
                    _ => return Err(cursor.invalid()),
                }
            }
        }
        match cursor.peek() {
            None => Ok(fields),
            Some(_) => Err(cursor.invalid()),
        }
    }

    fn field(&self, name: &str) -> Option<&Field<'a>> {
        self.fields[FIELDS.iter().position(|field| *field == name).expect("a name from FIELDS")].as_ref()
    }

    /// The text of field `name` when it is a JSON string.
    pub(crate) fn string(&self, name: &str) -> Option<&str> {
        self.field(name)?.string.as_deref()
    }

    /// The top-level fields of `body` when it is a JSON object the verifier accepts.
    pub(crate) fn of_object(body: &'a [u8]) -> Option<TopLevel<'a>> {
        let text = json_text(body).ok()?;
        starts_with_object(text).then(|| TopLevel::parse(text).ok()).flatten()
    }
}

/// A position in the body's text, for reading the outer object.
struct Cursor<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Cursor<'a> {
    /// The next byte that is not JSON whitespace, which `at` is moved to.
    fn peek(&mut self) -> Option<u8> {
        let rest = &self.text.as_bytes()[self.at..];
        self.at += rest.iter().take_while(|byte| matches!(byte, b' ' | b'\t' | b'\n' | b'\r')).count();
        self.text.as_bytes().get(self.at).copied()
    }

    fn punctuation(&mut self, expected: u8) -> Result<(), Error> {
        if self.peek() != Some(expected) {
            return Err(self.invalid());
        }
        self.at += 1;
        Ok(())
    }

    /// Reads an object key (the cursor is on its opening quote). Keys are short and rarely escaped: one
    /// without escapes or control characters is its own text; any other goes through `serde_json`.
    fn key(&mut self) -> Result<Cow<'a, str>, Error> {
        let rest = &self.text[self.at + 1..];
        if let Some(end) = rest.find(|c: char| c == '"' || c == '\\' || c < ' ') {
            if rest.as_bytes()[end] == b'"' {
                self.at += end + 2;
                return Ok(Cow::Borrowed(&rest[..end]));
            }
        }
        Ok(self.next::<Captured>()?.0 .0.unwrap_or_default())
    }

    /// Reads one JSON value with `serde_json`; returns it and its exact text.
    fn next<T: serde::Deserialize<'a>>(&mut self) -> Result<(T, &'a str), Error> {
        self.peek();
        let rest = &self.text[self.at..];
        let mut values = serde_json::Deserializer::from_str(rest).into_iter::<T>();
        match values.next() {
            Some(Ok(value)) => {
                let text = &rest[..values.byte_offset()];
                self.at += text.len();
                Ok((value, text))
            }
            Some(Err(e)) => Err(json_error(e, self.text, &self.text[..self.at])),
            None => Err(self.invalid()),
        }
    }

    fn invalid(&self) -> Error {
        let (line, column) = line_column(&self.text[..self.at], 1, 1);
        Error::invalid_payload(format!("the body is not valid JSON (line {line}, column {column})"))
    }
}

/// The line and column (both from 1) just after `before`, given those of its start.
fn line_column(before: &str, line: usize, column: usize) -> (usize, usize) {
    match before.rfind('\n') {
        Some(newline) => (line + before.matches('\n').count(), before.len() - newline - 1 + column),
        None => (line, column + before.len()),
    }
}

/// Walks any JSON value the way building a `serde_json::Value` would (same grammar, number range checks
/// and nesting limit) without building it.
#[derive(Clone, Copy)]
struct Validate {
    nesting_left: usize,
}

impl Validate {
    fn enter<E: serde::de::Error>(self) -> Result<Validate, E> {
        match self.nesting_left.checked_sub(1) {
            Some(nesting_left) => Ok(Validate { nesting_left }),
            None => Err(E::custom("nested too deeply")),
        }
    }
}

impl<'de> DeserializeSeed<'de> for Validate {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Validate {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }

    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }

    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let inner = self.enter()?;
        while seq.next_element_seed(inner)?.is_some() {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let inner = self.enter()?;
        while map.next_key_seed(Key)?.is_some() {
            map.next_value_seed(inner)?;
        }
        Ok(())
    }
}

/// An object key: decoded and checked like any string, then dropped.
struct Key;

impl<'de> DeserializeSeed<'de> for Key {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(Validate { nesting_left: 0 })
    }
}

fn required_string<'f>(field: Option<&'f Field<'_>>, name: &'static str) -> Result<&'f str, Error> {
    match field.and_then(|field| field.string.as_deref()) {
        Some(value) if !value.is_empty() => Ok(value),
        _ => Err(Error::invalid_payload(format!("`{name}` is missing or not a non-empty string"))),
    }
}

fn optional_string(field: Option<&Field<'_>>, name: &'static str) -> Result<Option<String>, Error> {
    match field {
        None => Ok(None),
        Some(Field { string: Some(value), .. }) => Ok(Some(value.clone().into_owned())),
        Some(Field { text: "null", .. }) => Ok(None),
        Some(_) => Err(Error::invalid_payload(format!("`{name}` is not a string"))),
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
    /// The view over a `data` object a host already holds (the event's own `task()` is usually simpler).
    pub fn new(data: &'a Map<String, Value>) -> TaskData<'a> {
        TaskData(data)
    }

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

    /// `recording_url`; `None` when absent or not a string.
    pub fn recording_url(&self) -> Option<&'a str> {
        str_field(self.0, "recording_url")
    }

    /// `session_dashboard_url`; `None` when absent or not a string.
    pub fn session_dashboard_url(&self) -> Option<&'a str> {
        str_field(self.0, "session_dashboard_url")
    }

    /// `task_id`; `None` when absent or not a string.
    pub fn task_id(&self) -> Option<&'a str> {
        str_field(self.0, "task_id")
    }

    /// `execution_id`; `None` when absent or not a string.
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

    /// The whole `error` object (type plus any message fields); `None` when absent or not an object (the
    /// value as sent stays in `data`), so every binding can type it as an object.
    pub fn error(&self) -> Option<&'a Value> {
        self.0.get("error").filter(|error| error.is_object())
    }

    /// `healed_task_version_id` of `task.healed`.
    pub fn healed_task_version_id(&self) -> Option<&'a str> {
        str_field(self.0, "healed_task_version_id")
    }
}

/// One captured artifact of a task.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Artifact<'a> {
    /// `name`, as sent.
    pub name: &'a str,
    /// `url`, where the artifact is stored.
    pub url: &'a str,
    /// `size`, in bytes; `None` when absent or not a non-negative integer.
    pub size: Option<u64>,
    /// `content_type`, a MIME type; `None` when absent or not a string.
    pub content_type: Option<&'a str>,
}

/// `error.type` of a failed task.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TaskErrorType {
    /// `automation_failure`.
    AutomationFailure,
    /// `invalid_credentials`.
    InvalidCredentials,
    /// `timeout`.
    Timeout,
    /// `agent_error`.
    AgentError,
    /// `system_error`.
    SystemError,
    /// A type this version does not know, as sent.
    Unknown(String),
}

impl TaskErrorType {
    /// Every documented name, in declaration order.
    pub const ALL_NAMES: &'static [&'static str] =
        &["automation_failure", "invalid_credentials", "timeout", "agent_error", "system_error"];

    /// Parses a wire name; anything else is `Unknown`.
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

    /// The wire name, e.g. `"timeout"`.
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
    /// The view over a `data` object a host already holds (the event's own `session()` is usually simpler).
    pub fn new(data: &'a Map<String, Value>) -> SessionData<'a> {
        SessionData(data)
    }

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

    /// `recording_url`; `None` when absent or not a string.
    pub fn recording_url(&self) -> Option<&'a str> {
        str_field(self.0, "recording_url")
    }

    /// `session_id`; `None` when absent or not a string.
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
        // An `error` that is not an object is not the typed view's (it stays in `data`).
        let body = br#"{"id":"evt_2","type":"task.failed","created":"2026-05-24T12:18:05.123Z","data":{"error":"boom"}}"#;
        let event = Event::from_anchor_body(body).unwrap();
        assert_eq!(event.task().unwrap().error(), None);
        assert_eq!(event.task().unwrap().error_type(), None);
        assert!(event.raw_data_str().contains(r#""error":"boom""#));
    }

    #[test]
    fn json_errors_never_quote_the_body() {
        let err = Event::from_anchor_body(br#"{"id": "SECRET-LOOKING-TEXT" oops}"#).unwrap_err();
        assert!(!err.to_string().contains("SECRET-LOOKING-TEXT"), "{err}");
    }

    #[test]
    fn a_lone_surrogate_escape_is_named() {
        // What JavaScript's JSON.stringify writes for a string cut inside an emoji: valid JSON grammar, but no
        // character, so no Rust string can hold it. Both halves, alone, and at the end of the data.
        for data in [r#""\ud83d""#, r#""\ude00 after""#, r#""\ud83d\n""#] {
            let body = format!(
                r#"{{"id":"evt_1","type":"task.completed","created":"2026-05-24T12:18:05Z","data":{data}}}"#
            );
            let message = Event::from_anchor_body(body.as_bytes()).unwrap_err().to_string();
            assert!(
                message.starts_with(
                    "invalid payload (the signature is valid): the body is not valid JSON (line 1, column "
                ) && message.ends_with("); a lone UTF-16 surrogate `\\u` escape is no character"),
                "{message}"
            );
        }
        // Without such an escape, only the position.
        let message = Event::from_anchor_body(br#"{"id":"evt_1",}"#).unwrap_err().to_string();
        assert!(message.ends_with("the body is not valid JSON (line 1, column 15)"), "{message}");
    }

    #[test]
    fn a_body_as_proxies_and_editors_leave_it_is_named() {
        let envelope = r#"{"id":"evt_1","type":"task.completed","created":"2026-05-24T12:18:05Z","data":{}}"#;
        let message = |body: &[u8]| Event::from_anchor_body(body).unwrap_err().to_string();
        let with_bom = format!("\u{feff}{envelope}");
        assert_eq!(
            message(with_bom.as_bytes()),
            "invalid payload (the signature is valid): the body is not valid JSON (line 1, column 1); it starts \
             with a byte order mark (U+FEFF), which JSON does not allow"
        );
        // gzip's header (magic, deflate, flags, mtime), then compressed bytes: never UTF-8 (0x8b is a
        // continuation byte with no lead).
        let gzipped = [0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xab, 0x56, 0xca, 0x4c];
        assert_eq!(
            message(&gzipped),
            "invalid payload (the signature is valid): the body is gzip-compressed (signed so: a \
             `Content-Encoding: gzip` body), not JSON text"
        );
        assert_eq!(
            message(&[0xff, b'{']),
            "invalid payload (the signature is valid): the body is not valid UTF-8"
        );
    }
}
