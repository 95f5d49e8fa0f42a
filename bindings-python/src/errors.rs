//! The one place where core errors become Python exceptions.
//!
//! The classes are built at import time from the core catalogue (`ErrorCode::ALL`): one subclass of
//! `WebhookVerificationError(ValueError)` per code, named after it (`signature_mismatch` →
//! `SignatureMismatchError`), with class attributes `code` and `http_status`. Nothing here is declared by
//! hand, so a new core code appears in Python without an edit (and the stub drift test asks for its stub).

use std::ffi::CString;

use anchor_webhooks::{Error, ErrorCode};
use pyo3::exceptions::{PyException, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyType};

/// The Python package every class claims as its module (what `repr` and tracebacks show).
pub const MODULE: &str = "anchor_webhooks";

struct Classes {
    base: Py<PyType>,
    /// Indexed like `ErrorCode::ALL`.
    by_code: Vec<Py<PyType>>,
    duplicate: Py<PyType>,
}

static CLASSES: PyOnceLock<Classes> = PyOnceLock::new();

/// `signature_mismatch` → `SignatureMismatchError`.
pub fn class_name(code: ErrorCode) -> String {
    let mut name: String = code
        .as_str()
        .split('_')
        .map(|word| {
            let mut chars = word.chars();
            chars
                .next()
                .map_or_else(String::new, |first| first.to_ascii_uppercase().to_string() + chars.as_str())
        })
        .collect();
    name.push_str("Error");
    name
}

fn new_class(
    py: Python<'_>,
    name: &str,
    doc: &str,
    base: &Bound<'_, PyType>,
    attributes: Bound<'_, PyDict>,
) -> PyResult<Py<PyType>> {
    let qualified = CString::new(format!("{MODULE}.{name}")).expect("class names have no NUL");
    let doc = CString::new(doc).expect("docs have no NUL");
    // `new_type` drops its `Py` before the C call reads the dict: our `attributes` keeps the dict alive.
    let class =
        PyErr::new_type(py, &qualified, Some(&doc), Some(base), Some(attributes.clone().into_any().unbind()));
    drop(attributes);
    class
}

fn build(py: Python<'_>) -> PyResult<Classes> {
    let value_error = py.get_type::<PyValueError>();
    let base_attributes = PyDict::new(py);
    base_attributes.set_item("code", py.None())?;
    base_attributes.set_item("http_status", 400)?;
    base_attributes.set_item("skew_seconds", py.None())?;
    let base = new_class(
        py,
        "WebhookVerificationError",
        "A delivery (or a verifier's configuration) was refused. `.code` is the stable snake_case code, \
         `.http_status` the status to answer with; subclasses exist for every code.",
        &value_error,
        base_attributes,
    )?;
    let base_bound = base.bind(py);
    let by_code = ErrorCode::ALL
        .iter()
        .map(|&code| {
            let attributes = PyDict::new(py);
            attributes.set_item("code", code.as_str())?;
            attributes.set_item("http_status", code.http_status())?;
            let doc = format!("Raised with code `{}` (HTTP {}).", code.as_str(), code.http_status());
            new_class(py, &class_name(code), &doc, base_bound, attributes)
        })
        .collect::<PyResult<Vec<_>>>()?;
    let duplicate_attributes = PyDict::new(py);
    duplicate_attributes.set_item("in_progress", false)?;
    duplicate_attributes.set_item("http_status", 200)?;
    duplicate_attributes.set_item("retry_after", py.None())?;
    let duplicate = new_class(
        py,
        "Duplicate",
        "Raised by `Receiver.receive(...)` when the event needs no processing here: already processed \
         (`in_progress` False, answer 200) or being processed by another worker (`in_progress` True, answer \
         503 with `Retry-After`). `.event` is the verified event.",
        &py.get_type::<PyException>(),
        duplicate_attributes,
    )?;
    Ok(Classes { base, by_code, duplicate })
}

fn classes(py: Python<'_>) -> PyResult<&'static Classes> {
    CLASSES.get_or_try_init(py, || build(py))
}

/// Adds the exception classes to the module.
pub fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = module.py();
    let classes = classes(py)?;
    module.add("WebhookVerificationError", classes.base.bind(py))?;
    for (code, class) in ErrorCode::ALL.iter().zip(&classes.by_code) {
        module.add(class_name(*code).as_str(), class.bind(py))?;
    }
    module.add("Duplicate", classes.duplicate.bind(py))?;
    Ok(())
}

/// A core error as the exception of its code, with `.code`, `.http_status` and `.skew_seconds` set on the
/// instance. The message is the core's (it never contains a secret, a signature or the body).
pub fn to_pyerr(py: Python<'_>, error: &Error) -> PyErr {
    let build = || -> PyResult<PyErr> {
        let classes = classes(py)?;
        let code = error.code();
        let index = ErrorCode::ALL.iter().position(|c| *c == code).expect("every code is in ALL");
        let instance = classes.by_code[index].bind(py).call1((error.to_string(),))?;
        instance.setattr("code", code.as_str())?;
        instance.setattr("http_status", error.http_status())?;
        instance.setattr("skew_seconds", error.skew_seconds())?;
        Ok(PyErr::from_value(instance))
    };
    build().unwrap_or_else(|failure| failure)
}

/// The `Duplicate` signal for an event that needs no processing here.
pub fn duplicate(
    py: Python<'_>,
    event: Py<PyAny>,
    event_id: &str,
    in_progress: bool,
    http_status: u16,
    retry_after: Option<u64>,
) -> PyErr {
    let build = || -> PyResult<PyErr> {
        let message = if in_progress {
            format!(
                "event {event_id:?} is being processed by another worker: answer {http_status} with \
                 Retry-After so the sender retries later"
            )
        } else {
            format!(
                "event {event_id:?} was already processed: answer {http_status} without processing it again"
            )
        };
        let instance = classes(py)?.duplicate.bind(py).call1((message,))?;
        instance.setattr("in_progress", in_progress)?;
        instance.setattr("http_status", http_status)?;
        instance.setattr("retry_after", retry_after)?;
        instance.setattr("event", event)?;
        Ok(PyErr::from_value(instance))
    };
    build().unwrap_or_else(|failure| failure)
}
