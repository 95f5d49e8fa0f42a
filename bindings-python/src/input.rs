//! Turning host values into what the core takes: the body as bytes, the headers as `(name, value)` pairs.
//!
//! Nothing is interpreted here: header names are matched (case-insensitively), counted and validated by
//! the core. The binding only finds the pairs in whatever container the framework handed over, leaves out
//! those the core cannot read (common headers like `User-Agent` in their usual spellings, and names of
//! another length than every header the scheme's verifier reads, `Scheme::header_names()`), and borrows their bytes without copying where CPython lets it.

use std::borrow::Cow;

use anchor_webhooks::{cgi_variable, usual_spellings, Scheme};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyByteArray, PyBytes, PyDict, PyInt, PyList, PyMemoryView, PyString, PyTuple};
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

/// A request body as bytes: borrowed from `bytes`, copied once from a `bytearray`, a `memoryview` or any
/// other object exporting a buffer (`array`, `mmap`), or a `str` as UTF-8.
pub enum Body<'a> {
    Slice(Cow<'a, [u8]>),
    /// The copy `memoryview.tobytes()` made, held alive and read in place.
    Copied(Bound<'a, PyBytes>),
}

impl<'a> Body<'a> {
    pub fn extract(object: &'a Bound<'_, PyAny>) -> PyResult<Body<'a>> {
        if let Ok(bytes) = object.cast::<PyBytes>() {
            return Ok(Body::Slice(Cow::Borrowed(bytes.as_bytes())));
        }
        if let Ok(string) = object.cast::<PyString>() {
            return Ok(Body::Slice(str_bytes(string)?));
        }
        if let Ok(array) = object.cast::<PyByteArray>() {
            return Ok(Body::Slice(Cow::Owned(array.to_vec())));
        }
        // Any other buffer exporter (`memoryview`, `array`, `mmap`): copied through a memoryview, which
        // refuses objects that are not buffers.
        if let Ok(view) = PyMemoryView::from(object) {
            let copy = view.call_method0(intern!(object.py(), "tobytes"))?;
            return Ok(Body::Copied(copy.cast_into::<PyBytes>()?));
        }
        if object.is_instance_of::<PyMemoryView>() {
            // The only memoryview that exports no buffer.
            return Err(PyTypeError::new_err(
                "the body is a released memoryview (its .release() was called, or its `with` block ended): \
                 pass the body before releasing it, or as bytes",
            ));
        }
        Err(PyTypeError::new_err(format!(
            "the body must be the raw request bytes (bytes, bytearray or memoryview; str is encoded as UTF-8), \
             not {}: pass the body exactly as received, before any JSON parsing",
            type_name(object)
        )))
    }

    pub fn as_slice(&self) -> &[u8] {
        match self {
            Body::Slice(bytes) => bytes,
            Body::Copied(bytes) => bytes.as_bytes(),
        }
    }
}

/// A number of seconds (`lease`, `ttl`, `timeout`): an `int` or a `float` (or anything `float()` takes as a
/// number, such as `Decimal`). `bool` and other types are a `TypeError` naming the argument, as for the
/// integer arguments; the range is the core's (`Setting::from_seconds`).
pub fn seconds_value(value: &Bound<'_, PyAny>, argument: &str) -> PyResult<f64> {
    let refused =
        || PyTypeError::new_err(format!("{argument} must be a number of seconds, not {}", type_name(value)));
    if value.is_instance_of::<PyBool>() || value.is_instance_of::<PyString>() {
        return Err(refused());
    }
    value.extract::<f64>().map_err(|_| refused())
}

/// An optional integer argument (`tolerance`, `max_body_bytes`, `max_entries`, `timestamp`, ...): absent or
/// `None` (PyO3 hands over both as `None`), or an `int` from 0 to 2**64 - 1. `bool` and other types are a
/// `TypeError`, negative or larger values a `ValueError`, both naming the argument.
pub fn non_negative_int<T: TryFrom<u64>>(
    value: Option<&Bound<'_, PyAny>>,
    argument: &str,
) -> PyResult<Option<T>> {
    let Some(value) = value else {
        return Ok(None);
    };
    if value.is_instance_of::<PyBool>() || !value.is_instance_of::<PyInt>() {
        return Err(PyTypeError::new_err(format!(
            "{argument} must be a non-negative integer, not {}",
            type_name(value)
        )));
    }
    value.extract::<u64>().ok().and_then(|whole| T::try_from(whole).ok()).map(Some).ok_or_else(|| {
        PyValueError::new_err(format!(
            "{argument} must be a non-negative integer below 2**64, got {}",
            value.repr().map(|r| r.to_string()).unwrap_or_default()
        ))
    })
}

pub fn type_name(object: &Bound<'_, PyAny>) -> String {
    object.get_type().name().map(|name| name.to_string()).unwrap_or_else(|_| "an unknown type".to_owned())
}

/// A header name the core may read: one of the spellings known in advance (no conversion), or the bytes
/// of the container's name.
#[derive(Clone)]
enum Name<'py> {
    Known(&'static str),
    Object(Bound<'py, PyBytes>),
}

impl Name<'_> {
    fn as_bytes(&self) -> &[u8] {
        match self {
            Name::Known(text) => text.as_bytes(),
            Name::Object(bytes) => bytes.as_bytes(),
        }
    }
}

/// Header pairs found in a host container: only those whose name may be one the verifier reads, each name
/// and value as bytes (borrowed `bytes` objects, or a `str`'s UTF-8 encoding), held alive here.
pub struct HeaderObjects<'py> {
    pairs: SmallVec<[(Name<'py>, Bound<'py, PyBytes>); 8]>,
    /// Which kinds of names the container holds; they tell a CGI/WSGI environ from a header map.
    seen: Seen,
    /// The first header the verifier reads whose value is neither text, None nor a list of text: an error
    /// in a header map, ignored in an environ (where non-text values are normal: `wsgi.input` is a stream).
    unusable: Option<(Bound<'py, PyAny>, Bound<'py, PyAny>)>,
    scheme: Scheme,
}

/// The kinds of names seen in a container (see `HeaderObjects::is_environ`).
#[derive(Default)]
struct Seen {
    /// The container is a view of an environ (Werkzeug's `EnvironHeaders`), or holds a key only a CGI/WSGI
    /// environ has (`REQUEST_METHOD`, PEP 3333's `wsgi.*`).
    environ_marker: bool,
    /// A header name the verifier reads, in any case (`anchor-signature`).
    read_header: bool,
    /// An `HTTP_*` name (`HTTP_ANCHOR_SIGNATURE`, `HTTP_HOST`).
    http_variable: bool,
}

/// The headers of one request as bytes, and whether they are environ variables (`HTTP_ANCHOR_SIGNATURE`).
pub struct HeaderSet<'a> {
    pub pairs: HeaderBytes<'a>,
    pub environ: bool,
}

/// One header as bytes.
pub type HeaderPair<'a> = (&'a [u8], &'a [u8]);

/// The pairs as byte slices, ready for the core.
pub type HeaderBytes<'a> = SmallVec<[HeaderPair<'a>; 8]>;

fn is_text(object: &Bound<'_, PyAny>) -> bool {
    // Exact `str` first: a type pointer comparison, where the subclass checks are calls on the stable ABI.
    object.is_exact_instance_of::<PyString>()
        || object.is_instance_of::<PyString>()
        || object.is_instance_of::<PyBytes>()
}

/// The bytes of a str or bytes object: the object itself, or the str's UTF-8 as a new bytes object (one
/// allocation; `surrogateescape` for lone surrogates).
fn text_bytes<'py>(object: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyBytes>> {
    let exact_str = object.cast_exact::<PyString>().ok();
    if exact_str.is_none() {
        if let Ok(bytes) = object.cast::<PyBytes>() {
            return Ok(bytes.clone());
        }
    }
    if let Some(string) = exact_str.or_else(|| object.cast::<PyString>().ok()) {
        if let Ok(encoded) = string.encode_utf8() {
            return Ok(encoded);
        }
        let py = string.py();
        let encoded = string
            .call_method1(intern!(py, "encode"), ("utf-8", "surrogateescape"))
            .or_else(|_| string.call_method1(intern!(py, "encode"), ("utf-8", "surrogatepass")))?;
        return Ok(encoded.cast_into::<PyBytes>()?);
    }
    Err(PyTypeError::new_err(format!("expected str or bytes, not {}", type_name(object))))
}

const ENVIRON_HEADER_PREFIX: &[u8] = b"HTTP_";

/// What one name of the container is for the verifier of a scheme.
struct NameClass<'py> {
    /// Set when the core may read this name (as itself, or as its `HTTP_*` environ variable).
    name: Option<Name<'py>>,
    kind: NameKind,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum NameKind {
    /// A header name the verifier reads, in any case.
    ReadHeader,
    /// `HTTP_*`: a request header in a CGI/WSGI environ.
    HttpVariable,
    /// `REQUEST_METHOD` or `wsgi.*`: only a CGI/WSGI environ has these.
    EnvironMarker,
    Other,
}

/// PEP 3333 keys (`wsgi.input`, ...), which no header map holds.
const WSGI_KEY_PREFIX: &[u8] = b"wsgi.";
/// The CGI variable every WSGI environ has (PEP 3333).
const REQUEST_METHOD: &[u8] = b"REQUEST_METHOD";

fn marker_kind(name: &[u8]) -> Option<NameKind> {
    (name == REQUEST_METHOD || name.starts_with(WSGI_KEY_PREFIX)).then_some(NameKind::EnvironMarker)
}

/// The usual spellings of every header a verifier reads (`Scheme::header_names()`: as given, lower, title
/// and upper case, and as a CGI variable) and of common headers no verifier reads, so a `str` name spelled
/// one of these ways is classified by one dict lookup (its hash is cached) instead of being encoded. Any
/// other name takes the general path.
struct KnownNames {
    spellings: Vec<KnownName>,
    /// spelling → index into `spellings`.
    index: Py<PyDict>,
}

struct KnownName {
    text: &'static str,
    /// Bit `scheme_bit(scheme)` set for every scheme whose verifier reads it.
    schemes: u8,
    /// The CGI variable of a header (`HTTP_ANCHOR_SIGNATURE`), not the header's own name.
    cgi: bool,
}

/// Headers most requests carry, known not to be read by any verifier: spelled like this (or in lower
/// case), they are skipped after one dict lookup instead of being encoded first.
const COMMON_REQUEST_HEADERS: [&str; 20] = [
    "Host",
    "User-Agent",
    "Accept",
    "Accept-Encoding",
    "Accept-Language",
    "Connection",
    "Content-Type",
    "Content-Length",
    "Content-Encoding",
    "Transfer-Encoding",
    "Expect",
    "Authorization",
    "Cookie",
    "Origin",
    "Traceparent",
    "X-Forwarded-For",
    "X-Forwarded-Host",
    "X-Forwarded-Proto",
    "X-Real-Ip",
    "X-Request-Id",
];

const SCHEMES: [Scheme; 2] = [Scheme::Anchor, Scheme::StandardWebhooks];

fn scheme_bit(scheme: Scheme) -> u8 {
    match scheme {
        Scheme::Anchor => 1,
        Scheme::StandardWebhooks => 2,
    }
}

fn known_names(py: Python<'_>) -> PyResult<&'static KnownNames> {
    static KNOWN: PyOnceLock<KnownNames> = PyOnceLock::new();
    KNOWN.get_or_try_init(py, || {
        let mut spellings: Vec<KnownName> = Vec::new();
        for scheme in SCHEMES {
            for name in scheme.header_names() {
                let variants = usual_spellings(name)
                    .into_iter()
                    .map(|text| (text, false))
                    .chain([(cgi_variable(name), true)]);
                for (text, cgi) in variants {
                    match spellings.iter_mut().find(|known| known.text == text) {
                        Some(known) => known.schemes |= scheme_bit(scheme),
                        None => spellings.push(KnownName {
                            text: Box::leak(text.into_boxed_str()),
                            schemes: scheme_bit(scheme),
                            cgi,
                        }),
                    }
                }
            }
        }
        for name in COMMON_REQUEST_HEADERS {
            let read_by_a_scheme = SCHEMES
                .iter()
                .any(|scheme| scheme.header_names().iter().any(|known| known.eq_ignore_ascii_case(name)));
            if read_by_a_scheme || name.starts_with("HTTP_") || name.starts_with("wsgi.") {
                continue;
            }
            for text in [name.to_string(), name.to_ascii_lowercase()] {
                if !spellings.iter().any(|known| known.text == text) {
                    spellings.push(KnownName {
                        text: Box::leak(text.into_boxed_str()),
                        schemes: 0,
                        cgi: false,
                    });
                }
            }
        }
        let index = PyDict::new(py);
        for (position, known) in spellings.iter().enumerate() {
            index.set_item(known.text, position)?;
        }
        Ok(KnownNames { spellings, index: index.unbind() })
    })
}

impl<'py> HeaderObjects<'py> {
    /// Finds the pairs in `headers`: a dict or any mapping (`.items()`), Starlette/FastAPI `Headers`
    /// (`.raw`), Werkzeug `EnvironHeaders` (`.environ`), Django `HttpHeaders`, a WSGI environ, or any
    /// iterable of `(name, value)` pairs (a list, `dict.items()`, a generator). A value may also be a list
    /// or tuple of values (one pair each); a `None` value is an absent header.
    ///
    /// Only pairs whose name has the length of a name the verifier of `scheme` reads (plain, or as an
    /// `HTTP_*` environ variable) are kept: the core ignores every other header, so it answers exactly as
    /// with all of them (which names match, repeats, casing: still decided by the core).
    pub fn extract(headers: &Bound<'py, PyAny>, scheme: Scheme) -> PyResult<HeaderObjects<'py>> {
        let py = headers.py();
        let mut found =
            HeaderObjects { pairs: SmallVec::new(), seen: Seen::default(), unusable: None, scheme };
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
                found.seen.environ_marker = true;
                found.add_items(environ.iter())?;
                return Ok(found);
            }
        }
        if let Ok(items) = headers.call_method0(intern!(py, "items")) {
            let pairs = items.try_iter()?.map(|item| pair(&item?));
            found.add_items_fallible(pairs)?;
            return Ok(found);
        }
        // Any other iterable of pairs (`dict.items()`, a generator); not text, whose items are characters.
        let text = headers.is_instance_of::<PyString>()
            || headers.is_instance_of::<PyBytes>()
            || headers.is_instance_of::<PyByteArray>();
        if !text {
            if let Ok(iterator) = headers.try_iter() {
                found.add_items_fallible(iterator.map(|item| pair(&item?)))?;
                return Ok(found);
            }
        }
        Err(PyTypeError::new_err(format!(
            "the headers must be a mapping (dict, Starlette/Werkzeug/Django headers), a WSGI environ or an \
             iterable of (name, value) pairs, not {}",
            type_name(headers)
        )))
    }

    /// Whether the core may read `key` (see `extract`), and what kind of name it is.
    #[inline(always)]
    fn classify(&self, key: &Bound<'py, PyAny>) -> PyResult<NameClass<'py>> {
        let py = key.py();
        if key.is_exact_instance_of::<PyString>() {
            let known = known_names(py)?;
            if let Some(position) = known.index.bind(py).get_item(key)? {
                let spelling = &known.spellings[position.extract::<usize>()?];
                let read = spelling.schemes & scheme_bit(self.scheme) != 0;
                let kind = match (spelling.cgi, read) {
                    (true, _) => NameKind::HttpVariable,
                    (false, true) => NameKind::ReadHeader,
                    (false, false) => NameKind::Other,
                };
                return Ok(NameClass { name: read.then_some(Name::Known(spelling.text)), kind });
            }
        }
        let bytes = text_bytes(key)?;
        let name = bytes.as_bytes();
        let unprefixed = name.strip_prefix(ENVIRON_HEADER_PREFIX);
        let header_names = self.scheme.header_names();
        let read = header_names.iter().any(|known| {
            known.len() == name.len() || unprefixed.is_some_and(|rest| rest.len() == known.len())
        });
        let kind = if unprefixed.is_some() {
            NameKind::HttpVariable
        } else if read && header_names.iter().any(|known| known.as_bytes().eq_ignore_ascii_case(name)) {
            NameKind::ReadHeader
        } else {
            marker_kind(name).unwrap_or(NameKind::Other)
        };
        Ok(NameClass { name: read.then_some(Name::Object(bytes)), kind })
    }

    #[inline(always)]
    fn note(&mut self, kind: NameKind) {
        match kind {
            NameKind::ReadHeader => self.seen.read_header = true,
            NameKind::HttpVariable => self.seen.http_variable = true,
            NameKind::EnvironMarker => self.seen.environ_marker = true,
            NameKind::Other => {}
        }
    }

    /// Notes a key whose value is not text (`wsgi.input`, a stream; `Content-Length` given as an int): its
    /// name still tells an environ from a header map (once an environ marker was seen, nothing else can
    /// change that answer). Only a header the verifier reads makes the value an error (in a header map):
    /// the core ignores every other one, so its value does not matter.
    fn note_unusable(&mut self, key: &Bound<'py, PyAny>, value: Bound<'py, PyAny>) -> PyResult<()> {
        if self.seen.environ_marker {
            return Ok(());
        }
        let kind = self.classify(key)?.kind;
        self.note(kind);
        if kind == NameKind::ReadHeader {
            self.unusable.get_or_insert((key.clone(), value));
        }
        Ok(())
    }

    /// Read as a CGI/WSGI environ (the core then reads `HTTP_ANCHOR_SIGNATURE`, not `Anchor-Signature`)
    /// when the container says so (Werkzeug's `EnvironHeaders`, `REQUEST_METHOD`, a `wsgi.*` key), or when
    /// no name is a header the verifier reads but some are `HTTP_*` variables. So a header map that also
    /// holds, say, `HTTP_HOST` is still read as a header map.
    fn is_environ(&self) -> bool {
        self.seen.environ_marker || (!self.seen.read_header && self.seen.http_variable)
    }

    /// Notes one text value of `key` (classifying the key on its first text value).
    fn add_value(
        &mut self,
        key: &Bound<'py, PyAny>,
        class: &mut Option<NameClass<'py>>,
        value: &Bound<'py, PyAny>,
    ) -> PyResult<()> {
        let class = match class {
            Some(class) => class,
            None => {
                let classified = self.classify(key)?;
                self.note(classified.kind);
                class.insert(classified)
            }
        };
        if let Some(name) = &class.name {
            self.pairs.push((name.clone(), text_bytes(value)?));
        }
        Ok(())
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
            let mut class = None;
            if is_text(&value) {
                self.add_value(&key, &mut class, &value)?;
            } else if value.is_none() {
                // `{name: request.headers.get(name) for name in NEEDED}`: None is an absent header.
                continue;
            } else if value.is_instance_of::<PyList>() || value.is_instance_of::<PyTuple>() {
                for one in value.try_iter()? {
                    let one = one?;
                    if one.is_none() {
                        continue;
                    }
                    if !is_text(&one) {
                        self.note_unusable(&key, one)?;
                        continue;
                    }
                    self.add_value(&key, &mut class, &one)?;
                }
            } else {
                self.note_unusable(&key, value)?;
            }
        }
        Ok(())
    }

    fn add_pair_sequence(&mut self, sequence: &Bound<'py, PyAny>) -> PyResult<()> {
        let pairs = sequence.try_iter()?.map(|item| pair(&item?));
        self.add_items_fallible(pairs)
    }

    /// The kept pairs' bytes, borrowed from the objects held here.
    pub fn bytes(&self) -> PyResult<HeaderSet<'_>> {
        let environ = self.is_environ();
        match &self.unusable {
            Some((key, value)) if !environ => Err(PyTypeError::new_err(format!(
                "header values must be str or bytes (or a list of them), not {} (header {})",
                type_name(value),
                key.repr().map(|r| r.to_string()).unwrap_or_default()
            ))),
            _ => Ok(HeaderSet {
                pairs: self.pairs.iter().map(|(name, value)| (name.as_bytes(), value.as_bytes())).collect(),
                environ,
            }),
        }
    }
}

/// One `(name, value)` item of a header list or of `.items()`: a tuple or list of exactly two elements.
/// Anything else (a 2-key dict, a set, a 1- or 3-tuple, an int, a 2-character str) is the same clear
/// `TypeError`, never an `IndexError` or `KeyError` from inside.
fn pair<'py>(item: &Bound<'py, PyAny>) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyAny>)> {
    if let Ok(tuple) = item.cast::<PyTuple>() {
        if tuple.len() == 2 {
            return Ok((tuple.get_item(0)?, tuple.get_item(1)?));
        }
    } else if let Ok(list) = item.cast::<PyList>() {
        if list.len() == 2 {
            return Ok((list.get_item(0)?, list.get_item(1)?));
        }
    }
    Err(PyTypeError::new_err(format!(
        "a header list (or a mapping's items()) must hold (name, value) pairs, not {}",
        type_name(item)
    )))
}
