//! `Verifier`, `sign`, and the catalogue functions.

use anchor_webhooks::{
    CgiHeaders, Error, ErrorCode, EventType, HeaderLookup, Headers, Scheme, SignOptions, Signer,
    TaskErrorType, Verified, VerifiedSignature, Verifier,
};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyDict, PyList, PyString, PyTuple};

use crate::event::{now_seconds, PyEvent};
use crate::input::{self, Body, HeaderObjects, HeaderPair, HeaderSet};
use crate::{errors, repr};

/// Bodies at least this long are hashed with the GIL released, so other Python threads run meanwhile.
/// Below it, releasing and re-taking the GIL costs more than the hashing.
pub const DETACH_BODY_BYTES: usize = 4 * 1024;

/// The headers of one request as the core sees them: plain pairs, or a CGI/WSGI environ read through
/// the core's `CgiHeaders` (`HTTP_ANCHOR_SIGNATURE` is `Anchor-Signature`).
pub enum HostHeaders<'a> {
    Pairs(&'a [HeaderPair<'a>]),
    Environ(CgiHeaders<'a, &'a [u8], &'a [u8]>),
}

impl<'a> HostHeaders<'a> {
    pub fn new(set: &'a HeaderSet<'_>) -> HostHeaders<'a> {
        let pairs: &'a [HeaderPair<'a>] = set.pairs.as_slice();
        if set.environ {
            HostHeaders::Environ(CgiHeaders(pairs))
        } else {
            HostHeaders::Pairs(pairs)
        }
    }
}

impl Headers for HostHeaders<'_> {
    fn header(&self, name: &str) -> HeaderLookup<'_> {
        match self {
            HostHeaders::Pairs(pairs) => pairs.header(name),
            HostHeaders::Environ(environ) => environ.header(name),
        }
    }

    fn headers<const N: usize>(&self, names: [&str; N]) -> [HeaderLookup<'_>; N] {
        match self {
            HostHeaders::Pairs(pairs) => pairs.headers(names),
            HostHeaders::Environ(environ) => environ.headers(names),
        }
    }
}

/// Runs `check` (the core's `verify` or `verify_signature`) on the request's body and headers, with the GIL
/// released when the body is large enough to be worth it.
pub fn with_request<R: Send>(
    py: Python<'_>,
    verifier: &Verifier,
    body: &Bound<'_, PyAny>,
    headers: &Bound<'_, PyAny>,
    check: impl for<'h> FnOnce(&HostHeaders<'h>, &[u8]) -> R + Send,
) -> PyResult<R> {
    let body = Body::extract(body)?;
    let objects = HeaderObjects::extract(headers, verifier.scheme())?;
    let set = objects.bytes()?;
    let headers = HostHeaders::new(&set);
    let body = body.as_slice();
    Ok(if body.len() >= DETACH_BODY_BYTES {
        py.detach(|| check(&headers, body))
    } else {
        check(&headers, body)
    })
}

/// Runs `verify` on the core with the GIL released when the body is large enough to be worth it.
pub fn verify_core(
    py: Python<'_>,
    verifier: &Verifier,
    body: &Bound<'_, PyAny>,
    headers: &Bound<'_, PyAny>,
    now: u64,
) -> PyResult<Result<Verified, Error>> {
    with_request(py, verifier, body, headers, |headers, body| verifier.verify(headers, body, now))
}

pub fn parse_scheme(scheme: &str) -> PyResult<Scheme> {
    Scheme::parse(scheme).ok_or_else(|| {
        PyValueError::new_err(format!("unknown scheme {scheme:?}: expected \"anchor\" or \"standard\""))
    })
}

/// The `scheme=` argument: `"anchor"` or `"standard"`; another type is a `TypeError` naming the argument.
pub struct SchemeArg(pub Scheme);

impl SchemeArg {
    pub const ANCHOR: SchemeArg = SchemeArg(Scheme::Anchor);
}

impl<'a, 'py> FromPyObject<'a, 'py> for SchemeArg {
    type Error = PyErr;

    fn extract(scheme: Borrowed<'a, 'py, PyAny>) -> PyResult<SchemeArg> {
        match scheme.cast::<PyString>() {
            Ok(text) => parse_scheme(&text.to_cow()?).map(SchemeArg),
            Err(_) => Err(PyTypeError::new_err(format!(
                "scheme must be \"anchor\" or \"standard\", not {}",
                input::type_name(&scheme)
            ))),
        }
    }
}

/// The hint a `bytes` secret gets: the secrets are text (hex, or `whsec_` + base64), as the provider shows them.
fn secret_type_error(what: String, secret: &Bound<'_, PyAny>) -> PyErr {
    let type_name = input::type_name(secret);
    let hint = if secret.is_instance_of::<PyBytes>() || secret.is_instance_of::<PyByteArray>() {
        ": decode the bytes of the secret's text first (secret.decode()); raw key bytes, as standardwebhooks' \
         Webhook(b\"...\") takes them, are given as \"whsec_\" + base64.b64encode(key).decode()"
    } else {
        ""
    };
    PyTypeError::new_err(format!("{what}, not {type_name}{hint}"))
}

/// `"secret"` or a list/tuple of secrets (several during a rotation), as the str objects themselves: their
/// text is borrowed, not copied, while the core derives its keys (which it zeroes when dropped).
pub fn extract_secrets<'py>(secrets: &Bound<'py, PyAny>) -> PyResult<Vec<Bound<'py, PyString>>> {
    if let Ok(one) = secrets.cast::<PyString>() {
        return Ok(vec![one.clone()]);
    }
    if secrets.is_instance_of::<PyList>() || secrets.is_instance_of::<PyTuple>() {
        return secrets
            .try_iter()?
            .enumerate()
            .map(|(index, secret)| {
                let secret = secret?;
                match secret.cast_into::<PyString>() {
                    Ok(text) => Ok(text),
                    Err(error) => Err(secret_type_error(
                        format!("secret #{} must be a str", index + 1),
                        &error.into_inner(),
                    )),
                }
            })
            .collect();
    }
    Err(secret_type_error(
        "secrets must be a str or a list of str (several during a rotation)".to_owned(),
        secrets,
    ))
}

/// The secrets' text.
pub fn secret_texts<'a>(secrets: &'a [Bound<'_, PyString>]) -> PyResult<Vec<std::borrow::Cow<'a, str>>> {
    secrets
        .iter()
        .enumerate()
        .map(|(index, secret)| {
            input::str_text(secret).ok_or_else(|| {
                PyValueError::new_err(format!(
                    "secret #{} is not valid Unicode text (lone surrogates)",
                    index + 1
                ))
            })
        })
        .collect()
}

/// Verifies webhook deliveries: signature, timestamp tolerance, envelope.
///
/// `Verifier(secrets, tolerance=None, scheme="anchor", max_body_bytes=None)`: one secret, or several during
/// a rotation (the new one first); `tolerance` in seconds, two-sided (default 120 for `"anchor"`, 300 for
/// `"standard"`); `max_body_bytes` default 1 MiB. An unusable secret raises `InvalidSecretError` naming the
/// problem (never the secret). Build it once and share it: it is thread-safe.
#[pyclass(frozen, weakref, module = "anchor_webhooks", name = "Verifier")]
pub struct PyVerifier {
    pub inner: Verifier,
}

#[pymethods]
impl PyVerifier {
    #[new]
    #[pyo3(
        signature = (secrets, tolerance = None, scheme = SchemeArg::ANCHOR, max_body_bytes = None),
        text_signature = "(secrets, tolerance=None, scheme=\"anchor\", max_body_bytes=None)"
    )]
    fn new(
        py: Python<'_>,
        secrets: &Bound<'_, PyAny>,
        tolerance: Option<&Bound<'_, PyAny>>,
        scheme: SchemeArg,
        max_body_bytes: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<PyVerifier> {
        let SchemeArg(scheme) = scheme;
        let secrets = extract_secrets(secrets)?;
        let mut inner =
            Verifier::new(scheme, secret_texts(&secrets)?).map_err(|error| errors::to_pyerr(py, &error))?;
        if let Some(tolerance) = input::non_negative_int(tolerance, "tolerance")? {
            inner = inner.with_tolerance(tolerance);
        }
        if let Some(max_body_bytes) = input::non_negative_int(max_body_bytes, "max_body_bytes")? {
            inner = inner.with_max_body_bytes(max_body_bytes);
        }
        Ok(PyVerifier { inner })
    }

    /// Verifies a delivery: `body` is the raw request body, `headers` the request headers in any container.
    /// Returns the `Event`, or raises the `WebhookVerificationError` subclass of the failure.
    #[pyo3(signature = (body, headers, now = None))]
    fn verify(
        &self,
        py: Python<'_>,
        body: &Bound<'_, PyAny>,
        headers: &Bound<'_, PyAny>,
        now: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<PyEvent> {
        let now = now_seconds(now)?;
        match verify_core(py, &self.inner, body, headers, now)? {
            Ok(verified) => Ok(PyEvent::new(verified)),
            Err(error) => Err(errors::to_pyerr(py, &error)),
        }
    }

    /// Checks the signature and the timestamp only (no JSON parsing): for receivers that parse the body
    /// themselves. Returns a `VerifiedSignature`, or raises the `WebhookVerificationError` subclass of
    /// the failure.
    #[pyo3(signature = (body, headers, now = None))]
    fn verify_signature(
        &self,
        py: Python<'_>,
        body: &Bound<'_, PyAny>,
        headers: &Bound<'_, PyAny>,
        now: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<PyVerifiedSignature> {
        let now = now_seconds(now)?;
        let checked = with_request(py, &self.inner, body, headers, |headers, body| {
            self.inner.verify_signature(headers, body, now).map(PyVerifiedSignature::from)
        })?;
        checked.map_err(|error| errors::to_pyerr(py, &error))
    }

    /// `"anchor"` or `"standard"`.
    #[getter]
    fn scheme(&self) -> &'static str {
        self.inner.scheme().as_str()
    }

    /// The two-sided timestamp tolerance in seconds.
    #[getter]
    fn tolerance(&self) -> u64 {
        self.inner.tolerance()
    }

    /// The largest body accepted, in bytes (default 1 MiB): a longer one is `body_too_large` (413).
    #[getter]
    fn max_body_bytes(&self) -> usize {
        self.inner.max_body_bytes()
    }

    /// How many secrets are configured (never the secrets themselves).
    #[getter]
    fn secret_count(&self) -> usize {
        self.inner.secret_count()
    }

    /// Immutable: a copy is the verifier itself.
    fn __copy__(slf: Bound<'_, Self>) -> Bound<'_, Self> {
        slf
    }

    fn __deepcopy__<'py>(slf: Bound<'py, Self>, memo: &Bound<'py, PyAny>) -> Bound<'py, Self> {
        let _ = memo;
        slf
    }

    /// Never pickled: the pickle would carry the secrets (to another process, a cache, a file).
    fn __reduce__(&self) -> PyResult<()> {
        Err(PyTypeError::new_err(
            "a Verifier cannot be pickled: it holds the webhook secrets, which a pickle would carry in clear; \
             build it from the secret in each process (Verifier(secret)); copy.copy/deepcopy return it as is",
        ))
    }

    fn __repr__(&self) -> String {
        format!(
            "Verifier(scheme={}, secrets={} (redacted), tolerance={}, max_body_bytes={})",
            repr::string(self.inner.scheme().as_str()),
            self.inner.secret_count(),
            self.inner.tolerance(),
            self.inner.max_body_bytes()
        )
    }
}

/// What `Verifier.verify_signature` checked: which secret matched, the signed timestamp, the delivery id.
#[pyclass(frozen, eq, module = "anchor_webhooks", name = "VerifiedSignature")]
#[derive(PartialEq)]
pub struct PyVerifiedSignature {
    /// Index of the first configured secret that matched.
    #[pyo3(get)]
    matched_secret: usize,
    /// The signed timestamp, unix seconds.
    #[pyo3(get)]
    timestamp: u64,
    /// `Anchor-Delivery-Id` (None when absent) or `webhook-id`.
    #[pyo3(get)]
    delivery_id: Option<String>,
}

impl From<VerifiedSignature<'_>> for PyVerifiedSignature {
    fn from(signature: VerifiedSignature<'_>) -> PyVerifiedSignature {
        PyVerifiedSignature {
            matched_secret: signature.matched_secret,
            timestamp: signature.timestamp,
            delivery_id: signature.delivery_id.map(str::to_owned),
        }
    }
}

#[pymethods]
impl PyVerifiedSignature {
    fn __repr__(&self) -> String {
        format!(
            "VerifiedSignature(matched_secret={}, timestamp={}, delivery_id={})",
            self.matched_secret,
            self.timestamp,
            repr::optional_string(self.delivery_id.as_deref())
        )
    }
}

/// Signs `body` like the provider does and returns the delivery's headers (for tests and local tools).
#[pyfunction]
#[pyo3(
    signature = (secrets, body, timestamp = None, scheme = SchemeArg::ANCHOR, id = None, event_type = None),
    text_signature = "(secrets, body, timestamp=None, scheme=\"anchor\", id=None, event_type=None)"
)]
pub fn sign<'py>(
    py: Python<'py>,
    secrets: &Bound<'py, PyAny>,
    body: &Bound<'py, PyAny>,
    timestamp: Option<&Bound<'py, PyAny>>,
    scheme: SchemeArg,
    id: Option<&str>,
    event_type: Option<&str>,
) -> PyResult<Bound<'py, PyDict>> {
    let SchemeArg(scheme) = scheme;
    let secrets = extract_secrets(secrets)?;
    let body = Body::extract(body)?;
    let timestamp = match input::non_negative_int(timestamp, "timestamp")? {
        Some(timestamp) => timestamp,
        None => now_seconds(None)?,
    };
    let signed = Signer::new(scheme, secret_texts(&secrets)?)
        .and_then(|signer| signer.sign(body.as_slice(), timestamp, SignOptions { id, event_type }))
        .map_err(|error| errors::to_pyerr(py, &error))?;
    let headers = PyDict::new(py);
    for (name, value) in signed.iter() {
        headers.set_item(name, value)?;
    }
    Ok(headers)
}

/// Every event type of the catalogue, in catalogue order.
#[pyfunction]
pub fn event_types() -> Vec<&'static str> {
    EventType::ALL_NAMES.to_vec()
}

/// Every error code, in catalogue order.
#[pyfunction]
pub fn error_codes() -> Vec<&'static str> {
    ErrorCode::ALL.iter().map(|code| code.as_str()).collect()
}

/// Every documented `error.type` of `task.failed`.
#[pyfunction]
pub fn task_error_types() -> Vec<&'static str> {
    TaskErrorType::ALL_NAMES.to_vec()
}

/// Whether the sender retries a delivery answered with `status` (the core's `sender_retries`): the
/// integrations release the claim for such an answer of the view. A status outside 0..=65535 is not
/// HTTP, and the sender retries anything it does not know.
#[pyfunction]
pub fn sender_retries(status: i64) -> bool {
    u16::try_from(status).map_or(true, anchor_webhooks::sender_retries)
}
