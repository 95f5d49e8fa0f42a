//! Turning host values into what the core takes: the body as bytes, the headers as `(name, value)` pairs.
//!
//! Nothing is interpreted here: header names are matched (case-insensitively), counted and validated by
//! the core. The binding only finds the pairs in whatever container the framework handed over and
//! borrows their bytes without copying where CPython lets it.

use std::borrow::Cow;

use pyo3::exceptions::PyTypeError;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyDict, PyList, PyMemoryView, PyString, PyTuple};
use smallvec::SmallVec;

// All `unsafe` of the project lives in the C ABI crate (bindings-c); this binding uses PyO3's safe API
// only. On the 3.9 stable ABI that means a `str` is read through an encoded copy (CPython's borrowed
// UTF-8 view joined the limited API in 3.10), and a `bytearray`/`memoryview` body is copied once.

/// The UTF-8 bytes of a `str`, or, when the string holds lone surrogates, its `surrogateescape` encoding
/// (a body decoded with `errors="surrogateescape"` gets its original bytes back).
fn str_bytes<'a>(string: &'a Bound<'_, PyString>) -> PyResult<Cow<'a, [u8]>> {
    if let Ok(text) = string.to_cow() {
        return Ok(match text {
            Cow::Borrowed(text) => Cow::Borrowed(text.as_bytes()),
            Cow::Owned(text) => Cow::Owned(text.into_bytes()),
        });
    }
    let py = string.py();
    let encoded = string
        .call_method1(intern!(py, "encode"), ("utf-8", "surrogateescape"))
        .or_else(|_| string.call_method1(intern!(py, "encode"), ("utf-8", "surrogatepass")))?;
    Ok(Cow::Owned(encoded.cast::<PyBytes>()?.as_bytes().to_vec()))
}

/// The text of a `str` without lone surrogates.
pub fn str_text<'a>(string: &'a Bound<'_, PyString>) -> Option<Cow<'a, str>> {
    string.to_cow().ok()
}

/// A request body as bytes: borrowed from `bytes`, copied from a `bytearray`, a `memoryview` or any other
/// object exporting a buffer (`array`, `mmap`), or a `str` as UTF-8.
pub struct Body<'a> {
    bytes: Cow<'a, [u8]>,
}

impl<'a> Body<'a> {
    pub fn extract(object: &'a Bound<'_, PyAny>) -> PyResult<Body<'a>> {
        if let Ok(bytes) = object.cast::<PyBytes>() {
            return Ok(Body { bytes: Cow::Borrowed(bytes.as_bytes()) });
        }
        if let Ok(string) = object.cast::<PyString>() {
            return Ok(Body { bytes: str_bytes(string)? });
        }
        if let Ok(array) = object.cast::<PyByteArray>() {
            return Ok(Body { bytes: Cow::Owned(array.to_vec()) });
        }
        // Any other buffer exporter (`memoryview`, `array`, `mmap`): copied through a memoryview, which
        // refuses objects that are not buffers.
        if let Ok(view) = PyMemoryView::from(object) {
            let copy = view.call_method0(intern!(object.py(), "tobytes"))?;
            return Ok(Body { bytes: Cow::Owned(copy.cast::<PyBytes>()?.as_bytes().to_vec()) });
        }
        Err(PyTypeError::new_err(format!(
            "the body must be the raw request bytes (bytes, bytearray or memoryview; str is encoded as UTF-8), \
             not {}: pass the body exactly as received, before any JSON parsing",
            type_name(object)
        )))
    }

    pub fn as_slice(&self) -> &[u8] {
        &self.bytes
    }
}

fn type_name(object: &Bound<'_, PyAny>) -> String {
    object.get_type().name().map(|name| name.to_string()).unwrap_or_else(|_| "an unknown type".to_owned())
}

/// Header pairs found in a host container, each name and value a str or bytes object held alive here.
pub struct HeaderObjects<'py> {
    pairs: SmallVec<[(Bound<'py, PyAny>, Bound<'py, PyAny>); 16]>,
    /// Known to be a CGI/WSGI environ from the container itself (Werkzeug's `EnvironHeaders`).
    environ: bool,
    /// The first entry whose value is neither text nor a list of text: an error in a header map, normal
    /// in an environ (`wsgi.input` is a stream).
    unusable: Option<(Bound<'py, PyAny>, Bound<'py, PyAny>)>,
}

/// The headers of one request as bytes, and whether they are environ variables (`HTTP_ANCHOR_SIGNATURE`).
pub struct HeaderSet<'a> {
    pub pairs: HeaderBytes<'a>,
    pub environ: bool,
}

/// One header as bytes: borrowed from its str/bytes objects, owned only when a str needed re-encoding.
pub type HeaderPair<'a> = (Cow<'a, [u8]>, Cow<'a, [u8]>);

/// The pairs as byte slices, ready for the core.
pub type HeaderBytes<'a> = SmallVec<[HeaderPair<'a>; 16]>;

fn is_text(object: &Bound<'_, PyAny>) -> bool {
    object.is_instance_of::<PyString>() || object.is_instance_of::<PyBytes>()
}

fn text_bytes<'a>(object: &'a Bound<'_, PyAny>) -> PyResult<Cow<'a, [u8]>> {
    if let Ok(string) = object.cast::<PyString>() {
        return str_bytes(string);
    }
    if let Ok(bytes) = object.cast::<PyBytes>() {
        return Ok(Cow::Borrowed(bytes.as_bytes()));
    }
    Err(PyTypeError::new_err(format!("expected str or bytes, not {}", type_name(object))))
}

impl<'py> HeaderObjects<'py> {
    /// Finds the pairs in `headers`: a dict or any mapping (`.items()`), Starlette/FastAPI `Headers`
    /// (`.raw`), Werkzeug `EnvironHeaders` (`.environ`), Django `HttpHeaders`, a WSGI environ, or a list
    /// of `(name, value)` pairs. A value may also be a list or tuple of values (one pair each).
    pub fn extract(headers: &Bound<'py, PyAny>) -> PyResult<HeaderObjects<'py>> {
        let py = headers.py();
        let mut found = HeaderObjects { pairs: SmallVec::new(), environ: false, unusable: None };
        if let Ok(dict) = headers.cast::<PyDict>() {
            found.add_items(dict.iter())?;
            return Ok(found);
        }
        if headers.is_instance_of::<PyList>() || headers.is_instance_of::<PyTuple>() {
            found.add_pair_sequence(headers)?;
            return Ok(found);
        }
        if let Ok(raw) = headers.getattr(intern!(py, "raw")) {
            // Starlette's `Headers.raw`: the (bytes, bytes) pairs exactly as received.
            if raw.is_instance_of::<PyList>() {
                found.add_pair_sequence(&raw)?;
                return Ok(found);
            }
        }
        if let Ok(environ) = headers.getattr(intern!(py, "environ")) {
            // Werkzeug's `EnvironHeaders` is a view of the WSGI environ: read the environ itself.
            if let Ok(environ) = environ.cast::<PyDict>() {
                found.add_items(environ.iter())?;
                found.environ = true;
                return Ok(found);
            }
        }
        if let Ok(items) = headers.call_method0(intern!(py, "items")) {
            let pairs = items.try_iter()?.map(|item| {
                let item = item?;
                let key = item.get_item(0)?;
                let value = item.get_item(1)?;
                Ok((key, value))
            });
            found.add_items_fallible(pairs)?;
            return Ok(found);
        }
        Err(PyTypeError::new_err(format!(
            "the headers must be a mapping (dict, Starlette/Werkzeug/Django headers), a WSGI environ or a \
             list of (name, value) pairs, not {}",
            type_name(headers)
        )))
    }

    fn add_items(
        &mut self,
        items: impl Iterator<Item = (Bound<'py, PyAny>, Bound<'py, PyAny>)>,
    ) -> PyResult<()> {
        self.add_items_fallible(items.map(Ok))
    }

    fn add_items_fallible(
        &mut self,
        items: impl Iterator<Item = PyResult<(Bound<'py, PyAny>, Bound<'py, PyAny>)>>,
    ) -> PyResult<()> {
        for item in items {
            let (key, value) = item?;
            if !is_text(&key) {
                return Err(PyTypeError::new_err(format!(
                    "header names must be str or bytes, not {}",
                    type_name(&key)
                )));
            }
            if is_text(&value) {
                self.pairs.push((key, value));
            } else if value.is_instance_of::<PyList>() || value.is_instance_of::<PyTuple>() {
                for one in value.try_iter()? {
                    let one = one?;
                    if !is_text(&one) {
                        self.unusable.get_or_insert((key.clone(), one));
                        continue;
                    }
                    self.pairs.push((key.clone(), one));
                }
            } else {
                self.unusable.get_or_insert((key, value));
            }
        }
        Ok(())
    }

    fn add_pair_sequence(&mut self, sequence: &Bound<'py, PyAny>) -> PyResult<()> {
        let pairs = sequence.try_iter()?.map(|item| {
            let item = item?;
            let pair_len = item.len().ok();
            if pair_len != Some(2) || item.is_instance_of::<PyString>() || item.is_instance_of::<PyBytes>() {
                return Err(PyTypeError::new_err(format!(
                    "a header list must hold (name, value) pairs, not {}",
                    type_name(&item)
                )));
            }
            Ok((item.get_item(0)?, item.get_item(1)?))
        });
        self.add_items_fallible(pairs)
    }

    /// The pairs' bytes, borrowed from the objects held here.
    pub fn bytes(&self) -> PyResult<HeaderSet<'_>> {
        let mut environ = self.environ;
        let mut pairs = HeaderBytes::new();
        for (key, value) in &self.pairs {
            let key = text_bytes(key)?;
            // `HTTP_*` (every request header) and `wsgi.*` (PEP 3333's own keys) only appear in an environ.
            environ = environ || key.starts_with(b"HTTP_") || key.starts_with(b"wsgi.");
            pairs.push((key, text_bytes(value)?));
        }
        match &self.unusable {
            Some((key, value)) if !environ => Err(PyTypeError::new_err(format!(
                "header values must be str or bytes (or a list of them), not {} (header {})",
                type_name(value),
                key.repr().map(|r| r.to_string()).unwrap_or_default()
            ))),
            _ => Ok(HeaderSet { pairs, environ }),
        }
    }
}
