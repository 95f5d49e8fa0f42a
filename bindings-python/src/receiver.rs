//! Dedupe stores and the `Receiver` context manager: verify, claim, then complete on success or release on
//! failure (SPEC §6). The claim/complete/release logic is the core's; this file only moves values across.

use std::sync::{Arc, Mutex, PoisonError, TryLockError};
use std::time::Duration;

use anchor_webhooks::{
    Claimed, DedupeStore, MemoryStore, Outcome, Receiver, Reception, RedisCheckErrorKind, RedisOptions,
    RedisStore, Setting, SettingError, Verified, DEFAULT_DONE_TTL, DEFAULT_LEASE, DEFAULT_MAX_ENTRIES,
    IN_PROGRESS_RETRY_AFTER_SECONDS,
};
use pyo3::exceptions::{PyConnectionError, PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyList, PyString, PyTuple};
use pyo3::{PyTraverseError, PyVisit};

use crate::event::{now_millis, PyEvent};
use crate::input::{non_negative_int, seconds_value, type_name, Body, HeaderObjects};
use crate::verifier::{HostHeaders, PyVerifier, DETACH_BODY_BYTES};
use crate::{errors, repr};

// The Python signatures below spell these defaults out (for `inspect.signature` and the stubs): a change in
// the core must be made there too.
const _: () = assert!(DEFAULT_MAX_ENTRIES == 100_000 && DEFAULT_DONE_TTL.as_secs() == 86_400);

/// A duration given in seconds (`int` or `float`, not `bool`), in the core's range for `setting` (`argument`
/// names it in the error); `default` when absent.
fn seconds(
    setting: Setting,
    value: Option<&Bound<'_, PyAny>>,
    default: Duration,
    argument: &'static str,
) -> PyResult<Duration> {
    match value {
        None => Ok(default),
        Some(value) => setting.from_seconds(seconds_value(value, argument)?).map_err(invalid(argument)),
    }
}

// `copy.copy` / `copy.deepcopy` give the object itself (immutable or shared by design); a pickle is refused
// with one of these reasons.
const MEMORY_STORE_NOT_PICKLED: &str = "a MemoryStore cannot be pickled: its claims live in this process's \
     memory, and a copy in another process would not see them; create one per process (or share a RedisStore \
     between processes); copy.copy/deepcopy return it as is";
const REDIS_STORE_NOT_PICKLED: &str = "a RedisStore cannot be pickled: it holds a connection pool and the \
     URL's password; create one per process from the URL (RedisStore(url)); copy.copy/deepcopy return it as is";
const RECEIVER_NOT_PICKLED: &str = "a Receiver cannot be pickled: its Verifier holds the webhook secrets, \
     which a pickle would carry in clear, and its store lives in this process; build it in each process \
     (Receiver(Verifier(secret), store)); copy.copy/deepcopy return it as is";

/// The core's refusal of a duration as a `ValueError` naming the Python argument.
fn invalid(argument: &'static str) -> impl Fn(SettingError) -> PyErr {
    move |error| PyValueError::new_err(format!("{argument} {error}"))
}

/// An in-process dedupe store: thread-safe, bounded, completed ids remembered for `ttl` seconds.
#[pyclass(frozen, weakref, module = "anchor_webhooks", name = "MemoryStore")]
pub struct PyMemoryStore {
    inner: Arc<MemoryStore>,
}

#[pymethods]
impl PyMemoryStore {
    #[new]
    #[pyo3(
        signature = (max_entries = None, ttl = None),
        text_signature = "(max_entries=100000, ttl=86400.0)"
    )]
    fn new(
        max_entries: Option<&Bound<'_, PyAny>>,
        ttl: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<PyMemoryStore> {
        let max_entries = non_negative_int(max_entries, "max_entries")?.unwrap_or(DEFAULT_MAX_ENTRIES);
        let ttl = seconds(Setting::DoneTtl, ttl, DEFAULT_DONE_TTL, "ttl")?;
        let store = MemoryStore::new(max_entries, ttl)
            .map_err(|error| invalid(if error.setting().is_none() { "max_entries" } else { "ttl" })(error))?;
        Ok(PyMemoryStore { inner: Arc::new(store) })
    }

    /// The most ids it holds (default 100 000).
    #[getter]
    fn max_entries(&self) -> usize {
        self.inner.max_entries()
    }

    /// Seconds a completed id is remembered.
    #[getter]
    fn ttl(&self) -> f64 {
        self.inner.ttl().as_secs_f64()
    }

    /// How many ids are held (claimed or completed, expired ones not yet evicted included).
    fn __len__(&self) -> usize {
        self.inner.len()
    }

    fn __copy__(slf: Bound<'_, Self>) -> Bound<'_, Self> {
        slf
    }

    fn __deepcopy__<'py>(slf: Bound<'py, Self>, memo: &Bound<'py, PyAny>) -> Bound<'py, Self> {
        let _ = memo;
        slf
    }

    fn __reduce__(&self) -> PyResult<()> {
        Err(PyTypeError::new_err(MEMORY_STORE_NOT_PICKLED))
    }

    fn __repr__(&self) -> String {
        format!(
            "MemoryStore(max_entries={}, ttl={}, held={})",
            self.inner.max_entries(),
            self.inner.ttl().as_secs_f64(),
            self.inner.len()
        )
    }
}

/// A dedupe store in Redis (7.0 or later), shared by every replica of a receiver.
///
/// `RedisStore(url, key_prefix=None, timeout=1.0, ttl=86400.0, max_idle_connections=16,
/// tls_root_certificates=None)` only parses the URL: the server may be down now and come up later (`check()`
/// tells at start-up). `timeout` (seconds) bounds every connect and command; `ttl` (seconds) is how long a
/// completed id is remembered; `max_idle_connections` are kept open for the next calls (0: one connection
/// per call). Redis must not evict keys (`noeviction`).
#[pyclass(frozen, weakref, module = "anchor_webhooks", name = "RedisStore")]
pub struct PyRedisStore {
    inner: Arc<RedisStore>,
}

#[pymethods]
impl PyRedisStore {
    #[new]
    #[pyo3(signature = (
        url,
        key_prefix = None,
        timeout = None,
        ttl = None,
        max_idle_connections = None,
        tls_root_certificates = None,
    ), text_signature = "(url, key_prefix=None, timeout=1.0, ttl=86400.0, max_idle_connections=16, tls_root_certificates=None)")]
    fn new(
        url: &str,
        key_prefix: Option<String>,
        timeout: Option<&Bound<'_, PyAny>>,
        ttl: Option<&Bound<'_, PyAny>>,
        max_idle_connections: Option<&Bound<'_, PyAny>>,
        tls_root_certificates: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<PyRedisStore> {
        let defaults = RedisOptions::default();
        let tls_root_certificates = tls_root_certificates
            .map(|pem| {
                if let Ok(bytes) = pem.cast::<PyBytes>() {
                    return Ok(bytes.as_bytes().to_vec());
                }
                pem.extract::<String>().map(String::into_bytes).map_err(|_| {
                    PyTypeError::new_err("tls_root_certificates must be PEM text (str or bytes)")
                })
            })
            .transpose()?;
        let options = RedisOptions {
            key_prefix: key_prefix.unwrap_or(defaults.key_prefix),
            done_ttl: seconds(Setting::DoneTtl, ttl, defaults.done_ttl, "ttl")?,
            timeout: seconds(Setting::Timeout, timeout, defaults.timeout, "timeout")?,
            max_idle_connections: non_negative_int(max_idle_connections, "max_idle_connections")?
                .unwrap_or(defaults.max_idle_connections),
            tls_root_certificates,
        };
        // A configuration error at start-up (a ValueError), not `store_unavailable`: no delivery is waiting.
        let inner = RedisStore::with_options(url, options)
            .map_err(|error| PyValueError::new_err(error.to_string()))?;
        Ok(PyRedisStore { inner: Arc::new(inner) })
    }

    /// Asks the server now whether this store can work (the core's `RedisStore::check`): connects,
    /// authenticates, selects the db, runs a claim and both scripts on a probe key. A setup that can never
    /// work (a missing ACL right, a wrong password, a db out of range, Redis older than 7.0, TLS trouble)
    /// raises `ValueError`; a server that is down or hung raises `ConnectionError` (it may come back).
    fn check(&self, py: Python<'_>) -> PyResult<()> {
        py.detach(|| self.inner.check()).map_err(|error| match error.kind() {
            RedisCheckErrorKind::Unavailable => PyConnectionError::new_err(error.to_string()),
            _ => PyValueError::new_err(error.to_string()),
        })
    }

    /// Keys are `{key_prefix}:{hex SHA-256 of the id}`.
    #[getter]
    fn key_prefix(&self) -> &str {
        &self.inner.options().key_prefix
    }

    /// The deadline of every connect and command, in seconds.
    #[getter]
    fn timeout(&self) -> f64 {
        self.inner.options().timeout.as_secs_f64()
    }

    /// Seconds a completed id is remembered.
    #[getter]
    fn ttl(&self) -> f64 {
        self.inner.options().done_ttl.as_secs_f64()
    }

    fn __copy__(slf: Bound<'_, Self>) -> Bound<'_, Self> {
        slf
    }

    fn __deepcopy__<'py>(slf: Bound<'py, Self>, memo: &Bound<'py, PyAny>) -> Bound<'py, Self> {
        let _ = memo;
        slf
    }

    fn __reduce__(&self) -> PyResult<()> {
        Err(PyTypeError::new_err(REDIS_STORE_NOT_PICKLED))
    }

    /// The URL is never shown: it may carry a password.
    fn __repr__(&self) -> String {
        let options = self.inner.options();
        format!(
            "RedisStore(key_prefix={}, timeout={}, ttl={})",
            repr::string(&options.key_prefix),
            options.timeout.as_secs_f64(),
            options.done_ttl.as_secs_f64()
        )
    }
}

type CoreReceiver = Receiver<Arc<dyn DedupeStore>>;

/// A verifier and a dedupe store working together; see `receive`.
///
/// `Receiver(verifier, store=None, lease=None)`: `store` defaults to a new `MemoryStore()` (give each
/// endpoint its own); `lease` (seconds, default 30, at least 1) is how long a claim is held before another
/// worker may take the event over.
#[pyclass(frozen, weakref, module = "anchor_webhooks", name = "Receiver")]
pub struct PyReceiver {
    inner: Arc<CoreReceiver>,
    verifier: Py<PyVerifier>,
    store: Py<PyAny>,
    /// Store calls go over the network: release the GIL while they run.
    remote: bool,
}

#[pymethods]
impl PyReceiver {
    #[new]
    #[pyo3(signature = (verifier, store = None, lease = None))]
    fn new(
        py: Python<'_>,
        verifier: &Bound<'_, PyAny>,
        store: Option<Bound<'_, PyAny>>,
        lease: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<PyReceiver> {
        let verifier = verifier.cast::<PyVerifier>().map_err(|_| {
            let hint = if verifier.is_instance_of::<PyString>() || verifier.is_instance_of::<PyList>() {
                ": build one from the secret, Receiver(Verifier(secret))"
            } else {
                ""
            };
            PyTypeError::new_err(format!("verifier must be a Verifier, not {}{hint}", type_name(verifier)))
        })?;
        let store = match store {
            Some(store) => store,
            None => Bound::new(py, PyMemoryStore::new(None, None)?)?.into_any(),
        };
        let (dyn_store, remote): (Arc<dyn DedupeStore>, bool) =
            if let Ok(memory) = store.cast::<PyMemoryStore>() {
                (memory.get().inner.clone(), false)
            } else if let Ok(redis) = store.cast::<PyRedisStore>() {
                (redis.get().inner.clone(), true)
            } else {
                return Err(PyTypeError::new_err("store must be a MemoryStore or a RedisStore"));
            };
        let lease = seconds(Setting::Lease, lease, DEFAULT_LEASE, "lease")?;
        let inner = Receiver::new(verifier.get().inner.clone(), dyn_store)
            .with_lease(lease)
            .map_err(invalid("lease"))?;
        Ok(PyReceiver {
            inner: Arc::new(inner),
            verifier: verifier.clone().unbind(),
            store: store.unbind(),
            remote,
        })
    }

    /// Verifies and claims a delivery, as a context manager:
    ///
    ///     with receiver.receive(body, headers) as event:
    ///         process(event)       # normal exit: completed; an exception: released, then re-raised
    ///
    /// `async with` works too (asyncio frameworks): with a `RedisStore` the store calls then run in a worker
    /// thread. Entering raises `Duplicate` when the event needs no processing here (already done: answer 200;
    /// in progress on another worker: answer 503 with Retry-After), or a `WebhookVerificationError`.
    #[pyo3(signature = (body, headers, now = None))]
    fn receive(
        slf: &Bound<'_, Self>,
        body: Bound<'_, PyAny>,
        headers: Bound<'_, PyAny>,
        now: Option<Bound<'_, PyAny>>,
    ) -> PyReception {
        PyReception {
            receiver: slf.get().inner.clone(),
            remote: slf.get().remote,
            request: Mutex::new(Some(Request {
                body: body.unbind(),
                headers: headers.unbind(),
                now: now.map(Bound::unbind),
            })),
            claimed: Mutex::new(None),
        }
    }

    /// The verifier it was built with.
    #[getter]
    fn verifier(&self, py: Python<'_>) -> Py<PyVerifier> {
        self.verifier.clone_ref(py)
    }

    /// The dedupe store it was built with.
    #[getter]
    fn store(&self, py: Python<'_>) -> Py<PyAny> {
        self.store.clone_ref(py)
    }

    /// The claim lease, in seconds.
    #[getter]
    fn lease(&self) -> f64 {
        self.inner.lease().as_secs_f64()
    }

    fn __copy__(slf: Bound<'_, Self>) -> Bound<'_, Self> {
        slf
    }

    fn __deepcopy__<'py>(slf: Bound<'py, Self>, memo: &Bound<'py, PyAny>) -> Bound<'py, Self> {
        let _ = memo;
        slf
    }

    fn __reduce__(&self) -> PyResult<()> {
        Err(PyTypeError::new_err(RECEIVER_NOT_PICKLED))
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "Receiver(verifier={}, store={}, lease={})",
            self.verifier.bind(py).repr()?,
            self.store.bind(py).repr()?,
            self.inner.lease().as_secs_f64()
        ))
    }
}

struct Request {
    body: Py<PyAny>,
    headers: Py<PyAny>,
    now: Option<Py<PyAny>>,
}

/// What `Receiver.receive` returns: use it in a `with` statement.
#[pyclass(frozen, module = "anchor_webhooks", name = "Reception")]
pub struct PyReception {
    receiver: Arc<CoreReceiver>,
    remote: bool,
    request: Mutex<Option<Request>>,
    /// The claim, and the `now=` the caller fixed (milliseconds), if any, for completing it.
    claimed: Mutex<Option<(Claimed, Option<u64>)>>,
}

/// `asyncio.to_thread(function, *args)`: the awaitable of a blocking call made off the event loop.
fn in_worker_thread<'py>(
    py: Python<'py>,
    function: Bound<'py, PyAny>,
    args: &[Option<Bound<'py, PyAny>>],
) -> PyResult<Bound<'py, PyAny>> {
    let none = py.None().into_bound(py);
    let mut call = vec![function];
    call.extend(args.iter().map(|arg| arg.clone().unwrap_or_else(|| none.clone())));
    py.import("asyncio")?.getattr("to_thread")?.call1(PyTuple::new(py, call)?)
}

/// A future of the running asyncio loop (a `RuntimeError` without one), for [`settle`].
fn new_future(py: Python<'_>) -> PyResult<Bound<'_, PyAny>> {
    py.import("asyncio")?.call_method0("get_running_loop")?.call_method0("create_future")
}

/// `future`, settled with `result`: what `async with` awaits when the work was done in place.
fn settle<'py>(
    future: Bound<'py, PyAny>,
    result: PyResult<Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    match result {
        Ok(value) => future.call_method1("set_result", (value,))?,
        Err(error) => future.call_method1("set_exception", (error.into_value(future.py()),))?,
    };
    Ok(future)
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl PyReception {
    fn signal(py: Python<'_>, verified: Verified, in_progress: bool) -> PyResult<PyErr> {
        let id = verified.event.id().to_owned();
        // The statuses come from the core's own answer for these outcomes.
        let (status, retry_after) = if in_progress {
            (Outcome::<()>::InProgress(verified.clone()).http_status(), Some(IN_PROGRESS_RETRY_AFTER_SECONDS))
        } else {
            (Outcome::<()>::Duplicate(verified.clone()).http_status(), None)
        };
        let event = Bound::new(py, PyEvent::new(verified))?.into_any().unbind();
        Ok(errors::duplicate(py, event, &id, in_progress, status, retry_after))
    }
}

#[pymethods]
impl PyReception {
    /// Shows the request it holds until entered (the body, the headers, `now`) to the cycle collector. A
    /// lock held elsewhere (never across Python code) skips the visit for this pass; a poisoned one is read.
    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        let held = match self.request.try_lock() {
            Ok(held) => held,
            Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
            Err(TryLockError::WouldBlock) => return Ok(()),
        };
        if let Some(request) = held.as_ref() {
            visit.call(&request.body)?;
            visit.call(&request.headers)?;
            if let Some(now) = &request.now {
                visit.call(now)?;
            }
        }
        Ok(())
    }

    fn __enter__(&self, py: Python<'_>) -> PyResult<PyEvent> {
        let request = lock(&self.request).take().ok_or_else(|| {
            PyRuntimeError::new_err("this reception was already entered; call receive() again")
        })?;
        let fixed_now = request.now.as_ref().map(|now| now.bind(py)).filter(|now| !now.is_none());
        let now_ms = now_millis(fixed_now)?;
        let body = request.body.bind(py);
        let headers = request.headers.bind(py);
        let body = Body::extract(body)?;
        let objects = HeaderObjects::extract(headers, self.receiver.verifier().scheme())?;
        let set = objects.bytes()?;
        let headers = HostHeaders::new(&set);
        let body = body.as_slice();
        let receive = || self.receiver.receive(&headers, body, now_ms);
        let reception =
            if self.remote || body.len() >= DETACH_BODY_BYTES { py.detach(receive) } else { receive() };
        match reception {
            Err(error) => Err(errors::to_pyerr(py, &error)),
            Ok(Reception::Fresh(claimed)) => {
                let event = PyEvent::new(claimed.verified.clone());
                *lock(&self.claimed) = Some((claimed, fixed_now.map(|_| now_ms)));
                Ok(event)
            }
            Ok(Reception::Duplicate(verified)) => Err(Self::signal(py, verified, false)?),
            Ok(Reception::InProgress(verified)) => Err(Self::signal(py, verified, true)?),
        }
    }

    /// Completes the claim when the block succeeded, releases it when it raised (the exception goes on).
    /// A failure to record completion raises `StoreUnavailableError` (answer 503: the sender retries).
    #[pyo3(signature = (exc_type = None, _exc_value = None, _traceback = None))]
    fn __exit__(
        &self,
        py: Python<'_>,
        exc_type: Option<Bound<'_, PyAny>>,
        _exc_value: Option<Bound<'_, PyAny>>,
        _traceback: Option<Bound<'_, PyAny>>,
    ) -> PyResult<bool> {
        let Some((claimed, fixed_now)) = lock(&self.claimed).take() else {
            return Ok(false);
        };
        let now_ms = match fixed_now {
            Some(now_ms) => now_ms,
            None => now_millis(None)?,
        };
        let succeeded = exc_type.is_none_or(|exc_type| exc_type.is_none());
        let result = if succeeded { Ok(()) } else { Err(()) };
        let finish = || self.receiver.finish(claimed, result, now_ms);
        let outcome = if self.remote { py.detach(finish) } else { finish() };
        if let Outcome::Rejected(error) = &outcome {
            return Err(errors::to_pyerr(py, error));
        }
        let warning = outcome.unreleased_warning().or_else(|| self.receiver.lost_claim_warning(&outcome));
        if let Some(warning) = warning {
            py.import("logging")?
                .call_method1("getLogger", ("anchor_webhooks",))?
                .call_method1("warning", (warning,))?;
        }
        Ok(false)
    }

    /// `async with receiver.receive(body, headers) as event:` for asyncio frameworks. With a `RedisStore`
    /// the claim runs in a worker thread (`asyncio.to_thread`), so the event loop never waits on Redis; a
    /// `MemoryStore` answers in microseconds, in place.
    fn __aenter__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        let py = slf.py();
        if slf.get().remote {
            return in_worker_thread(py, slf.getattr("__enter__")?, &[]);
        }
        // The future first: without a running asyncio loop (trio, a sync caller) nothing is claimed.
        let future = new_future(py)?;
        let entered = slf.get().__enter__(py).and_then(|event| Ok(Bound::new(py, event)?.into_any()));
        settle(future, entered)
    }

    /// Completes or releases as `__exit__` does, in a worker thread with a `RedisStore`.
    #[pyo3(signature = (exc_type = None, exc_value = None, traceback = None))]
    fn __aexit__<'py>(
        slf: &Bound<'py, Self>,
        exc_type: Option<Bound<'py, PyAny>>,
        exc_value: Option<Bound<'py, PyAny>>,
        traceback: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let py = slf.py();
        if slf.get().remote {
            return in_worker_thread(py, slf.getattr("__exit__")?, &[exc_type, exc_value, traceback]);
        }
        let future = new_future(py)?;
        let exited = slf.get().__exit__(py, exc_type, exc_value, traceback);
        settle(future, exited.map(|suppress| PyBool::new(py, suppress).to_owned().into_any()))
    }

    fn __repr__(&self) -> String {
        let state = if lock(&self.claimed).is_some() {
            "claimed"
        } else if lock(&self.request).is_some() {
            "not entered"
        } else {
            "finished"
        };
        format!("Reception({state})")
    }
}
