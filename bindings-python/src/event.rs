//! The verified event as a Python object: envelope fields read from the core on access, `data` converted to
//! Python objects on first access and cached, typed `task` / `session` views over the core's `TaskData` /
//! `SessionData`.

use anchor_webhooks::{Artifact, Event, SessionData, TaskData, Verified, MAX_TIMESTAMP};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyInt, PyString, PyType};
use pyo3::{PyTraverseError, PyVisit};
use std::sync::OnceLock;

use crate::{json, repr};

/// `datetime.datetime` and `datetime.timezone`, imported once.
struct DateTimeTypes {
    datetime: Py<PyType>,
    timezone: Py<PyType>,
    timedelta: Py<PyType>,
    utc: Py<PyAny>,
}

static DATETIME: PyOnceLock<DateTimeTypes> = PyOnceLock::new();

fn datetime_types(py: Python<'_>) -> PyResult<&'static DateTimeTypes> {
    DATETIME.get_or_try_init(py, || {
        let module = py.import("datetime")?;
        Ok(DateTimeTypes {
            datetime: module.getattr("datetime")?.cast_into::<PyType>()?.unbind(),
            timezone: module.getattr("timezone")?.cast_into::<PyType>()?.unbind(),
            timedelta: module.getattr("timedelta")?.cast_into::<PyType>()?.unbind(),
            utc: module.getattr("timezone")?.getattr("utc")?.unbind(),
        })
    })
}

/// An aware `datetime.datetime` (microsecond precision, the offset as given).
fn to_datetime<'py>(
    py: Python<'py>,
    at: anchor_webhooks::time::OffsetDateTime,
) -> PyResult<Bound<'py, PyAny>> {
    let types = datetime_types(py)?;
    let offset = at.offset().whole_seconds();
    let tzinfo = if offset == 0 {
        types.utc.bind(py).clone()
    } else {
        let delta = types.timedelta.bind(py).call1((0, offset))?;
        types.timezone.bind(py).call1((delta,))?
    };
    types.datetime.bind(py).call1((
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second(),
        at.microsecond(),
        tzinfo,
    ))
}

/// A verified event. Cheap to create: Python objects are built only for the fields you read.
#[pyclass(frozen, module = "anchor_webhooks", name = "Event")]
pub struct PyEvent {
    verified: Verified,
    // std's OnceLock, not PyOnceLock: `__traverse__` reads them and has no Python token to give.
    data: OnceLock<Py<PyAny>>,
    body: OnceLock<Py<PyAny>>,
}

/// `lock`'s value, built by `init` on first use. Under the GIL; should `init` let another thread in (the
/// `json.loads` fallback), the first value stored is kept and the other dropped.
fn cached(
    py: Python<'_>,
    lock: &OnceLock<Py<PyAny>>,
    init: impl FnOnce() -> PyResult<Py<PyAny>>,
) -> PyResult<Py<PyAny>> {
    if let Some(value) = lock.get() {
        return Ok(value.clone_ref(py));
    }
    let value = init()?;
    Ok(lock.get_or_init(|| value).clone_ref(py))
}

impl PyEvent {
    pub fn new(verified: Verified) -> PyEvent {
        PyEvent { verified, data: OnceLock::new(), body: OnceLock::new() }
    }

    fn event(&self) -> &Event {
        &self.verified.event
    }
}

fn optional_str<'py>(py: Python<'py>, text: Option<&str>) -> Option<Bound<'py, PyString>> {
    text.map(|text| PyString::new(py, text))
}

#[pymethods]
impl PyEvent {
    /// The event id: the envelope `id` (Anchor) or the `webhook-id` header (Standard Webhooks). The dedupe key.
    #[getter]
    fn id<'py>(&self, py: Python<'py>) -> Bound<'py, PyString> {
        PyString::new(py, self.event().id())
    }

    /// The event type, e.g. `"task.completed"`; types outside the catalogue are passed through.
    #[getter(r#type)]
    fn event_type<'py>(&self, py: Python<'py>) -> Bound<'py, PyString> {
        PyString::new(py, self.event().event_type().as_str())
    }

    /// When the provider created the event, as an aware `datetime` (None when a Standard Webhooks body
    /// carries no RFC 3339 `timestamp`).
    #[getter]
    fn created<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.event().created().map(|at| to_datetime(py, at)).transpose()
    }

    /// The envelope's `project_id` (Anchor), None when absent.
    #[getter]
    fn project_id<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyString>> {
        optional_str(py, self.event().project_id())
    }

    /// The one-line summary (presentation only).
    #[getter]
    fn text<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyString>> {
        optional_str(py, self.event().text())
    }

    /// The `data` object as Python values (dict), built on first access and cached.
    #[getter]
    fn data(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        cached(py, &self.data, || json::from_validated(py, self.event().raw_data_str()).map(Bound::unbind))
    }

    /// The whole body as Python values, built on first access and cached.
    #[getter]
    fn body(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        cached(py, &self.body, || json::from_validated(py, self.event().raw_body_str()).map(Bound::unbind))
    }

    /// Shows the cached `data` and `body` to the cycle collector: an event filed in its own data (or an
    /// exception whose traceback holds it) is then collected like any Python object.
    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        for cache in [&self.data, &self.body] {
            if let Some(value) = cache.get() {
                visit.call(value)?;
            }
        }
        Ok(())
    }

    /// Index of the first configured secret that matched (watch it to see when an old secret stops being used).
    #[getter]
    fn matched_secret(&self) -> usize {
        self.verified.matched_secret
    }

    /// The signed timestamp, unix seconds.
    #[getter]
    fn timestamp(&self) -> u64 {
        self.verified.timestamp
    }

    /// `Anchor-Delivery-Id` (None when absent) or `webhook-id`.
    #[getter]
    fn delivery_id<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyString>> {
        optional_str(py, self.verified.delivery_id.as_deref())
    }

    /// The documented task fields, for `task.*` events; None otherwise.
    #[getter]
    fn task(slf: &Bound<'_, Self>) -> Option<TaskView> {
        slf.get().event().task().map(|_| TaskView { event: slf.clone().unbind() })
    }

    /// The documented session fields, for `session.*` events; None otherwise.
    #[getter]
    fn session(slf: &Bound<'_, Self>) -> Option<SessionView> {
        slf.get().event().session().map(|_| SessionView { event: slf.clone().unbind() })
    }

    /// Never pickled (nor copied, which goes through the same protocol): it is this process's view of the
    /// verified bytes. A queue gets plain data instead.
    fn __reduce__(&self) -> PyResult<()> {
        Err(PyTypeError::new_err(
            "an Event cannot be pickled or copied: it is a view of the verified delivery in this process; \
             enqueue plain data instead: event.body (the whole envelope as a dict), or event.id, event.type \
             and event.data",
        ))
    }

    fn __repr__(&self) -> String {
        format!(
            "Event(id={}, type={}, matched_secret={}, timestamp={})",
            repr::string(self.event().id()),
            repr::string(self.event().event_type().as_str()),
            self.verified.matched_secret,
            self.verified.timestamp
        )
    }
}

/// One captured artifact of a task.
#[pyclass(frozen, module = "anchor_webhooks", name = "Artifact", eq)]
#[derive(PartialEq)]
pub struct PyArtifact {
    #[pyo3(get)]
    name: String,
    #[pyo3(get)]
    url: String,
    #[pyo3(get)]
    size: Option<u64>,
    #[pyo3(get)]
    content_type: Option<String>,
}

impl From<Artifact<'_>> for PyArtifact {
    fn from(artifact: Artifact<'_>) -> PyArtifact {
        PyArtifact {
            name: artifact.name.to_owned(),
            url: artifact.url.to_owned(),
            size: artifact.size,
            content_type: artifact.content_type.map(str::to_owned),
        }
    }
}

#[pymethods]
impl PyArtifact {
    fn __repr__(&self) -> String {
        format!(
            "Artifact(name={}, url={}, size={}, content_type={})",
            repr::string(&self.name),
            repr::string(&self.url),
            repr::optional(self.size),
            repr::optional_string(self.content_type.as_deref())
        )
    }
}

/// The documented fields of `task.*` events (`event.data` keeps every field).
#[pyclass(frozen, module = "anchor_webhooks", name = "TaskData")]
pub struct TaskView {
    event: Py<PyEvent>,
}

impl TaskView {
    fn with<R>(&self, py: Python<'_>, read: impl FnOnce(TaskData<'_>) -> R) -> R {
        read(self.event.bind(py).get().event().task().expect("a TaskData view is only made for task events"))
    }
}

#[pymethods]
impl TaskView {
    /// Shows its event to the cycle collector (a view filed in the event's own data).
    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        visit.call(&self.event)
    }

    /// Captured artifacts (entries without a string `name` and `url` are skipped); empty when none.
    #[getter]
    fn artifacts(&self, py: Python<'_>) -> Vec<PyArtifact> {
        self.with(py, |task| task.artifacts().into_iter().map(PyArtifact::from).collect())
    }

    #[getter]
    fn recording_url(&self, py: Python<'_>) -> Option<String> {
        self.with(py, |task| task.recording_url().map(str::to_owned))
    }

    #[getter]
    fn session_dashboard_url(&self, py: Python<'_>) -> Option<String> {
        self.with(py, |task| task.session_dashboard_url().map(str::to_owned))
    }

    #[getter]
    fn task_id(&self, py: Python<'_>) -> Option<String> {
        self.with(py, |task| task.task_id().map(str::to_owned))
    }

    #[getter]
    fn execution_id(&self, py: Python<'_>) -> Option<String> {
        self.with(py, |task| task.execution_id().map(str::to_owned))
    }

    /// `output.value` as Python values (None when absent).
    #[getter]
    fn output_value(&self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        self.with(py, |task| task.output_value().map(|value| json::to_python(py, value).map(Bound::unbind)))
            .transpose()
    }

    /// Whether the provider replaced `output.value` with `"__truncated__"` (payload over 64 KB).
    #[getter]
    fn output_truncated(&self, py: Python<'_>) -> bool {
        self.with(py, |task| task.output_truncated())
    }

    /// `error.type` of `task.failed`: one of `task_error_types()`, or another string the provider added.
    #[getter]
    fn error_type(&self, py: Python<'_>) -> Option<String> {
        self.with(py, |task| task.error_type().map(|kind| kind.as_str().to_owned()))
    }

    /// The whole `error` object (type plus any message fields) as Python values.
    #[getter]
    fn error(&self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        self.with(py, |task| task.error().map(|value| json::to_python(py, value).map(Bound::unbind)))
            .transpose()
    }

    /// `healed_task_version_id` of `task.healed`.
    #[getter]
    fn healed_task_version_id(&self, py: Python<'_>) -> Option<String> {
        self.with(py, |task| task.healed_task_version_id().map(str::to_owned))
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        self.with(py, |task| {
            format!(
                "TaskData(task_id={}, artifacts={}, error_type={})",
                repr::optional_string(task.task_id()),
                task.artifacts().len(),
                repr::optional_string(task.error_type().as_ref().map(|kind| kind.as_str()))
            )
        })
    }
}

/// The documented fields of `session.*` events (`event.data` keeps every field).
#[pyclass(frozen, module = "anchor_webhooks", name = "SessionData")]
pub struct SessionView {
    event: Py<PyEvent>,
}

impl SessionView {
    fn with<R>(&self, py: Python<'_>, read: impl FnOnce(SessionData<'_>) -> R) -> R {
        read(
            self.event
                .bind(py)
                .get()
                .event()
                .session()
                .expect("a SessionData view is only made for session events"),
        )
    }
}

#[pymethods]
impl SessionView {
    /// Shows its event to the cycle collector (a view filed in the event's own data).
    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        visit.call(&self.event)
    }

    /// `duration` as a number (seconds in the provider's examples).
    #[getter]
    fn duration(&self, py: Python<'_>) -> Option<f64> {
        self.with(py, |session| session.duration())
    }

    /// `proxy_bytes` of the resource usage (top level of `data` or under `usage`).
    #[getter]
    fn proxy_bytes(&self, py: Python<'_>) -> Option<u64> {
        self.with(py, |session| session.proxy_bytes())
    }

    #[getter]
    fn recording_url(&self, py: Python<'_>) -> Option<String> {
        self.with(py, |session| session.recording_url().map(str::to_owned))
    }

    #[getter]
    fn session_id(&self, py: Python<'_>) -> Option<String> {
        self.with(py, |session| session.session_id().map(str::to_owned))
    }

    /// A resource-usage field by name (top level of `data` or under `usage`), as Python values.
    fn usage_field(&self, py: Python<'_>, name: &str) -> PyResult<Option<Py<PyAny>>> {
        self.with(py, |session| {
            session.usage_field(name).map(|value| json::to_python(py, value).map(Bound::unbind))
        })
        .transpose()
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        self.with(py, |session| {
            format!(
                "SessionData(session_id={}, duration={}, proxy_bytes={})",
                repr::optional_string(session.session_id()),
                repr::optional(session.duration()),
                repr::optional(session.proxy_bytes())
            )
        })
    }
}

/// The largest `now=` the core can compare with a signed timestamp (the largest one it accepts):
/// 999999999999 s, far beyond any `datetime`.
const MAX_NOW_SECONDS: u64 = MAX_TIMESTAMP;

/// `now=` as unix seconds: None (the host clock), an int or float of seconds, or an aware `datetime`.
pub fn now_seconds(now: Option<&Bound<'_, PyAny>>) -> PyResult<u64> {
    let Some(now) = now.filter(|now| !now.is_none()) else {
        return Ok(host_now().as_secs());
    };
    Ok(match now_from(now)? {
        Now::Whole(seconds) => seconds,
        Now::Fractional(seconds) => seconds.floor() as u64,
    })
}

/// `now=` as unix milliseconds, for the dedupe store.
pub fn now_millis(now: Option<&Bound<'_, PyAny>>) -> PyResult<u64> {
    let Some(now) = now.filter(|now| !now.is_none()) else {
        return Ok(u64::try_from(host_now().as_millis()).unwrap_or(u64::MAX));
    };
    Ok(match now_from(now)? {
        Now::Whole(seconds) => seconds * 1000,
        Now::Fractional(seconds) => (seconds * 1000.0).floor() as u64,
    })
}

/// A `now=` within `0..=MAX_NOW_SECONDS`.
enum Now {
    Whole(u64),
    Fractional(f64),
}

fn now_out_of_range(now: &Bound<'_, PyAny>) -> PyErr {
    PyValueError::new_err(format!(
        "now must be a non-negative number of unix seconds, at most {MAX_NOW_SECONDS} (the largest \
         timestamp a signature carries), or an aware datetime; got {}",
        now.repr().map(|r| r.to_string()).unwrap_or_default()
    ))
}

fn now_from(now: &Bound<'_, PyAny>) -> PyResult<Now> {
    let py = now.py();
    if now.is_instance_of::<PyBool>() {
        return Err(PyTypeError::new_err(
            "now must be unix seconds (int or float), an aware datetime or None, not bool",
        ));
    }
    if now.is_instance_of::<PyInt>() {
        return match now.extract::<u64>() {
            Ok(seconds) if seconds <= MAX_NOW_SECONDS => Ok(Now::Whole(seconds)),
            _ => Err(now_out_of_range(now)),
        };
    }
    let seconds: f64 = if now.is_instance(datetime_types(py)?.datetime.bind(py))? {
        if now.call_method0(intern!(py, "utcoffset"))?.is_none() {
            return Err(PyTypeError::new_err(
                "now must be an aware datetime (tzinfo set) or unix seconds; a naive datetime would be read \
                 as local time",
            ));
        }
        now.call_method0(intern!(py, "timestamp"))?.extract()?
    } else {
        now.extract().map_err(|_| {
            PyTypeError::new_err(format!(
                "now must be unix seconds (int or float), an aware datetime or None, not {}",
                now.get_type().name().map(|name| name.to_string()).unwrap_or_default()
            ))
        })?
    };
    if !(seconds.is_finite() && (0.0..=MAX_NOW_SECONDS as f64).contains(&seconds)) {
        return Err(now_out_of_range(now));
    }
    Ok(Now::Fractional(seconds))
}

fn host_now() -> std::time::Duration {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default()
}
