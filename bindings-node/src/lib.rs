//! The native half of the Node package `anchor-webhooks`: type conversions over the core, nothing else.
//!
//! The JavaScript half (`lib/`) walks header containers, builds `Error` objects and lazy event getters;
//! everything that decides (header lookup, verification, envelope rules, dedupe, HTTP statuses) is the
//! core's. Errors leave this crate in one place, [`fail`]: a JS `Error` whose `code` is the core's
//! snake_case code, which `fromNative` in `lib/index.cjs` turns into a `WebhookVerificationError`.
//!
//! Per-call cost matters (see `bench.mjs` and the README): `verify` and `verifySignature` are plain
//! functions bound to their verifier (a closure per verifier: no receiver unwrap or borrow bookkeeping
//! per call), headers arrive in a caller-owned scratch `Buffer` with the call's other numbers (only the
//! headers of the verifier's scheme, [`header_names`]: descriptors plus their texts written by one
//! `utf8Write`, names of [`header_table`] as codes; see [`decode_headers`]), bodies as borrowed
//! `Uint8Array` views (no copy), and a verified event leaves as ONE string (its text fields, then the JSON
//! text of `data` that JavaScript parses on first access), so nothing of it is kept natively.

#![deny(clippy::all)]

mod pool;

use std::borrow::Cow;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use anchor_webhooks::serde_json::{Map, Value};
use anchor_webhooks::{usual_spellings, SessionData, TaskData};
use anchor_webhooks::{
    Claimed, DedupeStore, Error as CoreError, ErrorCode, Event, EventType, MemoryStore, Outcome, Receiver,
    Reception, RedisCheckError, RedisCheckErrorKind, RedisOptions, RedisStore, Scheme, Setting, SettingError,
    SignOptions, Signer, Verified, Verifier, DEFAULT_DONE_TTL, DEFAULT_MAX_ENTRIES,
    IN_PROGRESS_RETRY_AFTER_SECONDS,
};
use napi::bindgen_prelude::{BufferSlice, Function, Object, ToNapiValue, Uint8ArraySlice};
use napi::{Env, JsDeferred, JsString, JsValue};
use napi_derive::napi;
use zeroize::Zeroizing;

// ---------------------------------------------------------------------------------------------------
// Errors: the one place a core error becomes a JS error.

/// The `code` of a thrown error: a core code (`signature_mismatch`, ...) or a Node-style argument code.
pub struct Code(Cow<'static, str>);

impl AsRef<str> for Code {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// A core error as a JS `Error`: `code` is the catalogue's snake_case id, `message` the core's text (which
/// never holds a secret, a signature or the body).
fn fail(error: &CoreError) -> napi::Error<Code> {
    let code = error.code().as_str();
    // A napi error carries a code and a message only: the measured skew rides in the code
    // (`timestamp_too_old:42`), and `fromNative` in lib/index.cjs splits it off into `skewSeconds`.
    let code = match error.skew_seconds() {
        Some(skew) => Cow::Owned(format!("{code}:{skew}")),
        None => Cow::Borrowed(code),
    };
    napi::Error::new(Code(code), error.to_string())
}

/// A bad argument (`fromNative` in `lib/index.cjs` turns this code into a `TypeError`).
fn invalid_arg(message: impl Into<String>) -> napi::Error<Code> {
    napi::Error::new(Code(Cow::Borrowed("ERR_INVALID_ARG_VALUE")), message.into())
}

/// Headers the scratch does not hold as expected: JavaScript retries with a list.
const RETRY_WITH_LIST: &str = "ANCHOR_HEADERS_NEED_LIST";

// ---------------------------------------------------------------------------------------------------
// Catalogues.

/// Every event type of the core catalogue, in declaration order.
#[napi]
pub fn event_types() -> Vec<&'static str> {
    EventType::ALL_NAMES.to_vec()
}

#[napi(object, object_from_js = false)]
pub struct ErrorInfo {
    pub code: &'static str,
    pub http_status: u32,
    pub number: u32,
}

/// Every error code with its suggested HTTP status and its stable number, in catalogue order.
#[napi]
pub fn error_catalogue() -> Vec<ErrorInfo> {
    ErrorCode::ALL
        .iter()
        .map(|code| ErrorInfo {
            code: code.as_str(),
            http_status: u32::from(code.http_status()),
            number: code.number(),
        })
        .collect()
}

#[napi(object, object_from_js = false)]
pub struct OutcomeInfo {
    pub kind: &'static str,
    /// The status of this outcome; for `rejected`, the status of `store_unavailable` (a rejection's
    /// status is its error's: see `errorCatalogue`).
    pub http_status: u32,
}

/// The statuses and kinds of the core's `Outcome`, asked of the core itself (so the JS `receive` answers
/// exactly what `Receiver::handle` would).
#[napi]
pub fn outcome_catalogue() -> napi::Result<Vec<OutcomeInfo>, Code> {
    let sample = || -> napi::Result<Verified, Code> {
        let body =
            br#"{"id":"evt_sample","type":"task.completed","created":"2026-01-01T00:00:00Z","data":{}}"#;
        let event = Event::from_anchor_body(body).map_err(|e| fail(&e))?;
        Ok(Verified { event, matched_secret: 0, timestamp: 0, delivery_id: None })
    };
    let outcomes: [Outcome<()>; 5] = [
        Outcome::Processed { verified: sample()?, claim_lost: false },
        Outcome::Duplicate(sample()?),
        Outcome::InProgress(sample()?),
        Outcome::Rejected(CoreError::StoreUnavailable { reason: String::new() }),
        Outcome::HandlerFailed { verified: sample()?, error: (), release_failure: None },
    ];
    Ok(outcomes
        .iter()
        .map(|outcome| OutcomeInfo { kind: outcome.kind(), http_status: u32::from(outcome.http_status()) })
        .collect())
}

/// Every header the verifier of `scheme_name` reads (`Scheme::header_names`): JavaScript hands the core
/// only headers whose name equals one of these ignoring ASCII case (the core matches them again).
#[napi]
pub fn header_names(scheme_name: String) -> napi::Result<Vec<&'static str>, Code> {
    Ok(scheme(&scheme_name)?.header_names().to_vec())
}

/// The names JavaScript sends as codes (see [`decode_headers`]): code `k` stands for entry `k - 1`.
#[napi]
pub fn header_table_of(scheme_name: String) -> napi::Result<Vec<String>, Code> {
    Ok(header_table(scheme(&scheme_name)?))
}

/// Whether the sender retries a delivery answered with `status` (the core's `sender_retries`): what
/// `lib/delivery.cjs` releases a claim for (a test holds its copy to this). Not a whole number in 0..=65535:
/// not HTTP, and the sender retries what it does not know.
#[napi]
pub fn sender_retries(status: f64) -> bool {
    if status.fract() != 0.0 || !(0.0..=65535.0).contains(&status) {
        return true;
    }
    anchor_webhooks::sender_retries(status as u16)
}

/// `Retry-After` (seconds) for an in-progress delivery.
#[napi]
pub fn retry_after_seconds() -> u32 {
    u32::try_from(IN_PROGRESS_RETRY_AFTER_SECONDS).unwrap_or(u32::MAX)
}

// ---------------------------------------------------------------------------------------------------
// Conversions.

fn scheme(name: &str) -> napi::Result<Scheme, Code> {
    Scheme::parse(name)
        .ok_or_else(|| invalid_arg(format!("scheme must be 'anchor' or 'standard', got {name:?}")))
}

/// JavaScript's `Number.MAX_SAFE_INTEGER`: larger numbers are not whole-number exact.
const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_991.0;

/// A time (unix seconds or milliseconds): its fraction is dropped, as a clock's is.
fn instant(value: f64, what: &str) -> napi::Result<u64, Code> {
    if (0.0..=MAX_SAFE_INTEGER).contains(&value) {
        Ok(value as u64)
    } else {
        Err(invalid_arg(format!("{what} must be a non-negative finite number")))
    }
}

/// A count (of entries, of connections, of bytes) or whole seconds (`tolerance`): a whole number from 0 to
/// `max`, nothing truncated or wrapped (a `tolerance` of 0.9 floored to 0 s would refuse nearly every delivery).
fn whole_count(value: f64, max: u64, what: &str) -> napi::Result<u64, Code> {
    // `max` is at most `MAX_SAFE_INTEGER` here, so it converts to `f64` exactly.
    if value.fract() == 0.0 && (0.0..=max as f64).contains(&value) {
        Ok(value as u64)
    } else {
        // No lower bound named here: where 0 is refused (`maxEntries`), the core says why.
        Err(invalid_arg(format!("{what} must be a non-negative whole number up to {max}")))
    }
}

/// A duration option in seconds, in the core's range for `setting` (`option` names it in the error).
fn seconds(setting: Setting, value: f64, option: &'static str) -> napi::Result<Duration, Code> {
    setting.from_seconds(value).map_err(invalid_setting(option))
}

/// The core's refusal of a duration as an `ERR_INVALID_ARG_VALUE` naming the JavaScript option.
fn invalid_setting(option: &'static str) -> impl Fn(SettingError) -> napi::Error<Code> {
    move |error| invalid_arg(format!("{option} {error}"))
}

/// Secrets are copied out of JS strings by napi; the copies are wiped when dropped.
fn secret_list(secrets: Vec<String>) -> Vec<Zeroizing<String>> {
    secrets.into_iter().map(Zeroizing::new).collect()
}

/// Header pairs as the core reads them: one per value, names as given.
type Pairs<'a> = Vec<(&'a [u8], &'a [u8])>;

/// The header names JavaScript sends as a code instead of their text (see [`decode_headers`]): every
/// name of `Scheme::header_names()` in the core's usual spellings (`usual_spellings`: as the core spells
/// it, lower, Title-Case and upper case). JavaScript sends a code only for a name that equals an entry
/// exactly, so the core sees the name's bytes as the container held them.
fn header_table(scheme: Scheme) -> Vec<String> {
    let mut table: Vec<String> = Vec::new();
    for spelling in scheme.header_names().iter().flat_map(|name| usual_spellings(name)) {
        if !table.contains(&spelling) {
            table.push(spelling);
        }
    }
    table
}

/// Decodes the headers `lib/index.cjs` writes (`encodeHeaders`): `pairs` descriptors of three `u32`
/// each — the name's code (`k` for `table[k - 1]`, `0` for a name given as text), the length of that
/// text (`0` for a code) and the value's length — and `bytes`, the texts one after the other (names
/// given as text, then values). `None` unless the lengths cover `bytes` exactly and every code is in the
/// table.
fn decode_headers<'a>(
    bytes: &'a [u8],
    descriptors: &[u8],
    pairs: usize,
    table: &'a [String],
    decoded: &mut Decoded<'a>,
) -> Option<()> {
    let descriptors = descriptors.get(..pairs.checked_mul(DESCRIPTOR_BYTES)?)?;
    let mut rest = bytes;
    let mut take = |length: u32| -> Option<&'a [u8]> {
        let (text, tail) = rest.split_at_checked(usize::try_from(length).ok()?)?;
        rest = tail;
        Some(text)
    };
    for descriptor in descriptors.chunks_exact(DESCRIPTOR_BYTES) {
        let word = |index: usize| {
            u32::from_ne_bytes(descriptor[4 * index..4 * index + 4].try_into().unwrap_or_default())
        };
        let name = match word(0) {
            0 => take(word(1))?,
            code => table.get(usize::try_from(code - 1).ok()?)?.as_bytes(),
        };
        decoded.push((name, take(word(2))?));
    }
    rest.is_empty().then_some(())
}

/// A descriptor: three `u32` (see [`decode_headers`]).
const DESCRIPTOR_BYTES: usize = 12;

type Pair<'a> = (&'a [u8], &'a [u8]);

/// Decoded header pairs: the usual few in place on the caller's stack, more on the heap (an allocation
/// per call costs more than decoding the headers).
struct Decoded<'a> {
    inline: [Pair<'a>; INLINE_PAIRS],
    length: usize,
    heap: Pairs<'a>,
}

const INLINE_PAIRS: usize = 6;

impl<'a> Decoded<'a> {
    fn new() -> Self {
        Decoded { inline: [(&[][..], &[][..]); INLINE_PAIRS], length: 0, heap: Vec::new() }
    }

    fn push(&mut self, pair: Pair<'a>) {
        if self.length < INLINE_PAIRS {
            self.inline[self.length] = pair;
        } else {
            if self.heap.is_empty() {
                self.heap.extend_from_slice(&self.inline);
            }
            self.heap.push(pair);
        }
        self.length += 1;
    }

    fn as_slice(&self) -> &[Pair<'a>] {
        if self.length <= INLINE_PAIRS {
            &self.inline[..self.length]
        } else {
            &self.heap
        }
    }
}

/// The headers of a call's scratch, decoded into `decoded`; an inconsistent encoding is an error that
/// makes JavaScript retry with a list.
fn headers_or_retry<'a>(
    request: &Request<'a>,
    table: &'a [String],
    decoded: &mut Decoded<'a>,
) -> napi::Result<(), Code> {
    decode_headers(request.header_bytes, request.descriptors, request.pairs, table, decoded).ok_or_else(
        || {
            napi::Error::new(
                Code(Cow::Borrowed(RETRY_WITH_LIST)),
                "the encoded headers are inconsistent".to_owned(),
            )
        },
    )
}

fn list_pairs(list: &[String]) -> napi::Result<Pairs<'_>, Code> {
    if !list.len().is_multiple_of(2) {
        return Err(invalid_arg("the header list must alternate names and values"));
    }
    Ok(list.chunks_exact(2).map(|pair| (pair[0].as_bytes(), pair[1].as_bytes())).collect())
}

// ---------------------------------------------------------------------------------------------------
// Verifier.

#[napi]
pub struct NativeVerifier {
    inner: Arc<Verifier>,
}

/// The caller's scratch `Buffer`: 16 `f64` slots (a `Float64Array` over the same memory on the JavaScript
/// side), then from [`DESCRIPTORS`] on the header descriptors (`u32`s, see [`decode_headers`]), then from
/// [`HEADER_BYTES`] on the header texts. In: [`SLOT_NOW`], [`SLOT_PAIRS`], [`SLOT_HEADER_LENGTH`]. Out:
/// the numbers of a result, from [`SLOT_MATCHED`] on. Every input is read before any slot is written.
struct Scratch<'a>(&'a mut [u8]);

const SLOT_NOW: usize = 0;
const SLOT_PAIRS: usize = 1;
const SLOT_HEADER_LENGTH: usize = 2;
const SLOT_MATCHED: usize = 0;
const SLOT_TIMESTAMP: usize = 1;
const SLOT_CREATED_MS: usize = 2;
const SLOT_FOUND: usize = 3;
const SLOT_CLAIM: usize = 4;
/// Five slots from here: the UTF-16 lengths of type, id, projectId, text and deliveryId (`-1` absent).
const SLOT_LENGTHS: usize = 5;
/// Where the header descriptors start (after the 16 slots) and where the header texts start (after room
/// for 74 descriptors); `lib/index.cjs` writes them there.
const DESCRIPTORS: usize = 128;
const HEADER_BYTES: usize = 1024;

/// What a call's scratch holds: `now` and the encoded headers.
struct Request<'a> {
    now: u64,
    pairs: usize,
    descriptors: &'a [u8],
    header_bytes: &'a [u8],
}

fn slot(bytes: &[u8], slot: usize) -> f64 {
    let mut value = [0; 8];
    value.copy_from_slice(&bytes[slot * 8..slot * 8 + 8]);
    f64::from_ne_bytes(value)
}

fn count(value: f64, what: &str) -> napi::Result<usize, Code> {
    if (0.0..=f64::from(u32::MAX)).contains(&value) {
        Ok(value as usize)
    } else {
        Err(invalid_arg(format!("the {what} is out of range")))
    }
}

impl Scratch<'_> {
    /// The slots of `buffer`, and the request it holds (`now` read as `what`).
    fn request<'b>(buffer: &'b mut [u8], what: &str) -> napi::Result<(Scratch<'b>, Request<'b>), Code> {
        if buffer.len() < HEADER_BYTES {
            return Err(invalid_arg("the scratch buffer is too small"));
        }
        let (slots, rest) = buffer.split_at_mut(DESCRIPTORS);
        let (descriptors, texts) = rest.split_at(HEADER_BYTES - DESCRIPTORS);
        let now = instant(slot(slots, SLOT_NOW), what)?;
        let pairs = count(slot(slots, SLOT_PAIRS), "header pair count")?;
        let length = count(slot(slots, SLOT_HEADER_LENGTH), "header length")?;
        let header_bytes =
            texts.get(..length).ok_or_else(|| invalid_arg("the header length is out of range"))?;
        Ok((Scratch(slots), Request { now, pairs, descriptors, header_bytes }))
    }

    /// The slots of `buffer`, for calls that only write results.
    fn new(buffer: &mut [u8]) -> napi::Result<Scratch<'_>, Code> {
        buffer
            .get_mut(..DESCRIPTORS)
            .map(Scratch)
            .ok_or_else(|| invalid_arg("the scratch buffer is too small"))
    }

    fn set(&mut self, slot: usize, value: f64) {
        self.0[slot * 8..slot * 8 + 8].copy_from_slice(&value.to_ne_bytes());
    }
}

/// A bound entry point's result: its value, or the error thrown with the same code and message as
/// [`fail`] gives every other entry point.
fn settle(
    env: &Env,
    result: napi::Result<napi::sys::napi_value, Code>,
) -> napi::Result<napi::sys::napi_value> {
    match result {
        Ok(value) => Ok(value),
        Err(error) => {
            env.throw_error(&error.reason, Some(error.status.as_ref()))?;
            // The pending exception is what JavaScript sees; the value is ignored.
            Ok(std::ptr::null_mut())
        }
    }
}

/// The start of every call that reads its request from the scratch: `now` and the header pairs (decoded
/// on the stack, see [`Decoded`]), handed to `call` with the scratch's result slots.
fn with_request<R>(
    scratch: &mut [u8],
    table: &[String],
    call: impl FnOnce(&[Pair<'_>], u64, &mut Scratch<'_>) -> napi::Result<R, Code>,
) -> napi::Result<R, Code> {
    let (mut scratch, request) = Scratch::request(scratch, "now")?;
    let mut pairs = Decoded::new();
    headers_or_retry(&request, table, &mut pairs)?;
    call(pairs.as_slice(), request.now, &mut scratch)
}

/// `verify(body, scratch)`: `now` and the headers are in the scratch; the event as ONE string (see
/// [`event_value`]).
fn bound_verify(
    verifier: &Verifier,
    table: &[String],
    env: &Env,
    body: &[u8],
    scratch: &mut [u8],
) -> napi::Result<napi::sys::napi_value, Code> {
    with_request(scratch, table, |pairs, now, scratch| {
        let verified = verifier.verify(pairs, body, now).map_err(|e| fail(&e))?;
        Ok(event_value(env, &verified, Found::Verified, None, scratch)?.raw())
    })
}

/// `verifySignature(body, scratch)`: writes the matched secret and the timestamp to the scratch.
fn bound_verify_signature(
    verifier: &Verifier,
    table: &[String],
    body: &[u8],
    scratch: &mut [u8],
) -> napi::Result<napi::sys::napi_value, Code> {
    with_request(scratch, table, |pairs, now, scratch| {
        let signed = verifier.verify_signature(pairs, body, now).map_err(|e| fail(&e))?;
        scratch.set(SLOT_MATCHED, signed.matched_secret as f64);
        scratch.set(SLOT_TIMESTAMP, signed.timestamp as f64);
        Ok(std::ptr::null_mut())
    })
}

/// A function bound to a verifier (see [`NativeVerifier::bind`]).
type Bound<'env> = Function<'env, (), napi::sys::napi_value>;

#[napi]
impl NativeVerifier {
    #[napi(constructor)]
    pub fn new(
        scheme_name: String,
        secrets: Vec<String>,
        tolerance: Option<f64>,
        max_body_bytes: Option<f64>,
    ) -> napi::Result<NativeVerifier, Code> {
        let scheme = scheme(&scheme_name)?;
        let secrets = secret_list(secrets);
        let mut inner = Verifier::new(scheme, secrets.iter().map(|s| s.as_str())).map_err(|e| fail(&e))?;
        if let Some(tolerance) = tolerance {
            inner = inner.with_tolerance(whole_count(tolerance, MAX_SAFE_INTEGER as u64, "tolerance")?);
        }
        if let Some(limit) = max_body_bytes {
            let limit = usize::try_from(whole_count(limit, MAX_SAFE_INTEGER as u64, "maxBodyBytes")?)
                .unwrap_or(usize::MAX);
            inner = inner.with_max_body_bytes(limit);
        }
        Ok(NativeVerifier { inner: Arc::new(inner) })
    }

    /// `verify(body, scratch)` and `verifySignature(body, scratch)` bound to this verifier: `now` and
    /// the encoded headers in the scratch (see [`Scratch`], [`decode_headers`]). `verify` returns the
    /// event as ONE string (see [`event_value`]).
    #[napi(
        ts_return_type = "[verify: (body: Uint8Array, scratch: Buffer) => string, verifySignature: (body: Uint8Array, scratch: Buffer) => void]"
    )]
    pub fn bind<'env>(&self, env: &'env Env) -> napi::Result<(Bound<'env>, Bound<'env>)> {
        let verifier = Arc::clone(&self.inner);
        let table = header_table(verifier.scheme());
        let signature_table = table.clone();
        let verify = env.create_function_from_closure("verify", move |ctx| {
            let body = ctx.get::<Uint8ArraySlice>(0)?;
            let mut scratch = ctx.get::<BufferSlice>(1)?;
            let result = bound_verify(&verifier, &table, ctx.env, &body, &mut scratch);
            settle(ctx.env, result)
        })?;
        let verifier = Arc::clone(&self.inner);
        let verify_signature = env.create_function_from_closure("verifySignature", move |ctx| {
            let body = ctx.get::<Uint8ArraySlice>(0)?;
            let mut scratch = ctx.get::<BufferSlice>(1)?;
            let result = bound_verify_signature(&verifier, &signature_table, &body, &mut scratch);
            settle(ctx.env, result)
        })?;
        Ok((verify, verify_signature))
    }

    /// `verify` with the headers as a flat `[name, value, ...]` list (names or values holding NUL): the
    /// event as ONE string, its numbers in `scratch` (see [`event_value`]).
    #[napi]
    pub fn verify_list<'env>(
        &self,
        env: &'env Env,
        body: Uint8ArraySlice,
        headers: Vec<String>,
        now: f64,
        mut scratch: BufferSlice,
    ) -> napi::Result<JsString<'env>, Code> {
        let now = instant(now, "now")?;
        let mut scratch = Scratch::new(&mut scratch)?;
        let verified = self.inner.verify(&list_pairs(&headers)?, &body, now).map_err(|e| fail(&e))?;
        event_value(env, &verified, Found::Verified, None, &mut scratch)
    }

    /// `verifySignature` with the headers as a flat `[name, value, ...]` list: the matched secret and the
    /// timestamp in `scratch`.
    #[napi]
    pub fn verify_signature_list(
        &self,
        body: Uint8ArraySlice,
        headers: Vec<String>,
        now: f64,
        mut scratch: BufferSlice,
    ) -> napi::Result<(), Code> {
        let now = instant(now, "now")?;
        let mut scratch = Scratch::new(&mut scratch)?;
        let pairs = list_pairs(&headers)?;
        let signed = self.inner.verify_signature(&pairs, &body, now).map_err(|e| fail(&e))?;
        scratch.set(SLOT_MATCHED, signed.matched_secret as f64);
        scratch.set(SLOT_TIMESTAMP, signed.timestamp as f64);
        Ok(())
    }

    #[napi(getter)]
    pub fn scheme(&self) -> &'static str {
        self.inner.scheme().as_str()
    }

    #[napi(getter)]
    pub fn tolerance(&self) -> f64 {
        self.inner.tolerance() as f64
    }

    #[napi(getter)]
    pub fn max_body_bytes(&self) -> f64 {
        self.inner.max_body_bytes() as f64
    }

    #[napi(getter)]
    pub fn secret_count(&self) -> u32 {
        u32::try_from(self.inner.secret_count()).unwrap_or(u32::MAX)
    }
}

// ---------------------------------------------------------------------------------------------------
// Signing (for tests and local tools).

/// Signs `body`; returns the headers as a flat `[name, value, ...]` list in the order a sender writes them.
#[napi]
pub fn sign(
    scheme_name: String,
    secrets: Vec<String>,
    body: Uint8ArraySlice,
    timestamp: f64,
    id: Option<String>,
    event_type: Option<String>,
) -> napi::Result<Vec<String>, Code> {
    let scheme = scheme(&scheme_name)?;
    let secrets = secret_list(secrets);
    let signer = Signer::new(scheme, secrets.iter().map(|s| s.as_str())).map_err(|e| fail(&e))?;
    let options = SignOptions { id: id.as_deref(), event_type: event_type.as_deref() };
    let headers = signer.sign(&body, instant(timestamp, "timestamp")?, options).map_err(|e| fail(&e))?;
    Ok(headers.iter().flat_map(|(name, value)| [name.to_owned(), value.to_owned()]).collect())
}

// ---------------------------------------------------------------------------------------------------
// Verified events, handed to JavaScript whole.
//
// Nothing of a verified event stays here: it leaves as two strings, so its memory is V8's and is
// reclaimed with the `Event` object (a napi `External` or wrapped object per event costs a weak reference
// and a deferred finalizer, more than the whole header stage, and keeps the body alive natively until the
// event loop turns). Only a fresh claim stays, in `CLAIMS`, until `complete` or `release` frees it.

/// What `receive` found.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Found {
    /// `verify` (no store).
    Verified = 0,
    /// Claimed: complete or release it.
    Fresh = 1,
    Duplicate = 2,
    InProgress = 3,
}

fn utf16_len(text: &str) -> usize {
    if text.is_ascii() {
        text.len()
    } else {
        text.encode_utf16().count()
    }
}

/// A JS string of `bytes` (valid UTF-8): ASCII, the usual JSON, is copied as is into a one-byte string.
fn js_string<'env>(env: &'env Env, bytes: &[u8]) -> napi::Result<JsString<'env>, Code> {
    let made = if bytes.is_ascii() {
        env.create_string_latin1(bytes)
    } else {
        env.create_string(String::from_utf8_lossy(bytes))
    };
    made.map_err(|e| napi::Error::new(Code(Cow::Borrowed("GenericFailure")), e.reason))
}

/// A verified event as ONE string: its type, id, projectId, text and deliveryId one after the other,
/// then the JSON text of `data` exactly as verified (which JavaScript parses with `JSON.parse` on first
/// access). The scratch gets the numbers: matched secret, timestamp, `created` in unix milliseconds (NaN
/// when absent), what was found, the claim handle (`-1` unless fresh) and the UTF-16 lengths of the five
/// strings (`-1` when absent), as JavaScript counts them.
fn event_value<'env>(
    env: &'env Env,
    verified: &Verified,
    found: Found,
    claim: Option<f64>,
    scratch: &mut Scratch<'_>,
) -> napi::Result<JsString<'env>, Code> {
    let event = &verified.event;
    let strings = [
        Some(event.event_type().as_str()),
        Some(event.id()),
        event.project_id(),
        event.text(),
        verified.delivery_id.as_deref(),
    ];
    let data = event.raw_data();
    let size = data.len() + strings.iter().flatten().map(|s| s.len()).sum::<usize>();
    let fill = |text: &mut Vec<u8>, scratch: &mut Scratch<'_>| {
        for (index, string) in strings.into_iter().enumerate() {
            let length = string.map_or(-1.0, |string| {
                text.extend_from_slice(string.as_bytes());
                utf16_len(string) as f64
            });
            scratch.set(SLOT_LENGTHS + index, length);
        }
        text.extend_from_slice(data);
    };
    scratch.set(SLOT_MATCHED, verified.matched_secret as f64);
    scratch.set(SLOT_TIMESTAMP, verified.timestamp as f64);
    let created = event.created_unix_ms().map_or(f64::NAN, |ms| ms as f64);
    scratch.set(SLOT_CREATED_MS, created);
    scratch.set(SLOT_FOUND, f64::from(found as u8));
    scratch.set(SLOT_CLAIM, claim.unwrap_or(-1.0));
    if size > EVENT_TEXT_REUSED {
        let mut text = Vec::with_capacity(size);
        fill(&mut text, scratch);
        return js_string(env, &text);
    }
    // The usual event is assembled in a buffer kept by this thread: no allocation per event (V8 copies
    // the bytes into its own string).
    EVENT_TEXT.with_borrow_mut(|text| {
        text.clear();
        fill(text, scratch);
        js_string(env, text)
    })
}

/// Events up to this size are assembled in [`EVENT_TEXT`].
const EVENT_TEXT_REUSED: usize = 16 * 1024;

thread_local! {
    static EVENT_TEXT: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// The `data` map the core's typed views read: an event's verified `data` when it is an object, else an
/// empty map (as `Event::task`/`Event::session` read it).
fn data_map(data_json: &str) -> napi::Result<Map<String, Value>, Code> {
    match anchor_webhooks::serde_json::from_str::<Value>(data_json) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Ok(Map::new()),
        Err(_) => Err(invalid_arg("not the verified JSON text of an event's data")),
    }
}

/// Whether the core gives events of `event_type` the typed view of `entity` (`task`, `session`).
fn has_view(event_type: &str, entity: &str) -> bool {
    EventType::parse(event_type).entity() == entity
}

#[napi(object)]
pub struct ArtifactView {
    pub name: String,
    pub url: String,
    pub size: Option<f64>,
    pub content_type: Option<String>,
}

/// The core's typed view of `task.*` data; JSON-valued fields travel as JSON text.
#[napi(object)]
pub struct TaskView {
    pub artifacts: Vec<ArtifactView>,
    pub recording_url: Option<String>,
    pub session_dashboard_url: Option<String>,
    pub task_id: Option<String>,
    pub execution_id: Option<String>,
    pub output_value_json: Option<String>,
    pub output_truncated: bool,
    pub error_type: Option<String>,
    pub error_json: Option<String>,
    pub healed_task_version_id: Option<String>,
}

fn task_view(task: TaskData<'_>) -> TaskView {
    let owned = |text: Option<&str>| text.map(str::to_owned);
    TaskView {
        artifacts: task
            .artifacts()
            .into_iter()
            .map(|artifact| ArtifactView {
                name: artifact.name.to_owned(),
                url: artifact.url.to_owned(),
                size: artifact.size.map(|size| size as f64),
                content_type: owned(artifact.content_type),
            })
            .collect(),
        recording_url: owned(task.recording_url()),
        session_dashboard_url: owned(task.session_dashboard_url()),
        task_id: owned(task.task_id()),
        execution_id: owned(task.execution_id()),
        output_value_json: task.output_value().map(ToString::to_string),
        output_truncated: task.output_truncated(),
        error_type: task.error_type().map(|kind| kind.as_str().to_owned()),
        error_json: task.error().map(ToString::to_string),
        healed_task_version_id: owned(task.healed_task_version_id()),
    }
}

/// The core's typed view of `session.*` data.
#[napi(object)]
pub struct SessionView {
    pub duration: Option<f64>,
    pub proxy_bytes: Option<f64>,
    pub recording_url: Option<String>,
    pub session_id: Option<String>,
}

fn session_view(session: SessionData<'_>) -> SessionView {
    SessionView {
        duration: session.duration(),
        proxy_bytes: session.proxy_bytes().map(|bytes| bytes as f64),
        recording_url: session.recording_url().map(str::to_owned),
        session_id: session.session_id().map(str::to_owned),
    }
}

/// The core's view of `task.*` data (`null` for other types).
#[napi]
pub fn event_task(event_type: String, data_json: String) -> napi::Result<Option<TaskView>, Code> {
    if !has_view(&event_type, "task") {
        return Ok(None);
    }
    Ok(Some(task_view(TaskData::new(&data_map(&data_json)?))))
}

/// The core's view of `session.*` data (`null` for other types).
#[napi]
pub fn event_session(event_type: String, data_json: String) -> napi::Result<Option<SessionView>, Code> {
    if !has_view(&event_type, "session") {
        return Ok(None);
    }
    Ok(Some(session_view(SessionData::new(&data_map(&data_json)?))))
}

/// A resource-usage field of `session.*` data as JSON text (at the top of `data` or under `usage`).
#[napi]
pub fn event_session_usage_json(
    event_type: String,
    data_json: String,
    name: String,
) -> napi::Result<Option<String>, Code> {
    if !has_view(&event_type, "session") {
        return Ok(None);
    }
    let data = data_map(&data_json)?;
    Ok(SessionData::new(&data).usage_field(&name).map(ToString::to_string))
}

// ---------------------------------------------------------------------------------------------------
// Dedupe stores.

#[napi]
pub struct NativeStore {
    inner: Arc<dyn DedupeStore>,
    memory: Option<Arc<MemoryStore>>,
    redis: Option<Arc<Redis>>,
}

/// A Redis store and the threads its blocking calls run on (see [`on_redis_thread`]): a pool per store,
/// not per process, because the pool's cap and queue deadline are the store's (each busy thread holds
/// one of this store's connections; a queued call is answered once it has waited the store's timeout),
/// and so that a hung Redis behind one store never delays the calls of another.
struct Redis {
    store: Arc<RedisStore>,
    pool: pool::Pool,
}

/// The default cap on a store's threads (`maxThreads`): each busy thread holds one Redis connection,
/// so with 20 replicas the store opens at most 1 280 of Redis's default 10 000 `maxclients`; and 64 calls
/// at once already carry over 10 000 deliveries a second at a healthy Redis's sub-millisecond answers,
/// while a hung Redis gets no more calls through with more threads (each waits out the timeout).
const DEFAULT_MAX_THREADS: usize = 64;

/// The highest `maxThreads` accepted.
const MOST_THREADS: u64 = 4096;

/// How long a store's thread waits for another call before it exits: long enough that steady traffic
/// (even a delivery every few seconds) keeps reusing it, short enough that an idle process holds none.
const THREAD_IDLE_EXIT: Duration = Duration::from_secs(30);

/// The name of every thread a store's calls run on (`/proc/<pid>/task/*/comm`, debuggers, `top -H`).
const THREAD_NAME: &str = "anchor-redis";

impl Redis {
    /// The core's error for a call that waited for one of this store's threads longer than its timeout.
    fn busy(&self) -> CoreError {
        self.store.threads_busy(self.pool.max_threads())
    }

    /// The same, for `check`.
    fn busy_check(&self) -> RedisCheckError {
        self.store.threads_busy_check(self.pool.max_threads())
    }
}

#[napi]
impl NativeStore {
    /// The in-process store (bounded, with a TTL for completed ids).
    #[napi(factory)]
    pub fn memory(max_entries: Option<f64>, ttl_seconds: Option<f64>) -> napi::Result<NativeStore, Code> {
        let max_entries = match max_entries {
            Some(n) => {
                usize::try_from(whole_count(n, MAX_SAFE_INTEGER as u64, "maxEntries")?).unwrap_or(usize::MAX)
            }
            None => DEFAULT_MAX_ENTRIES,
        };
        let ttl = ttl_seconds
            .map(|s| seconds(Setting::DoneTtl, s, "ttlSeconds"))
            .transpose()?
            .unwrap_or(DEFAULT_DONE_TTL);
        let store = MemoryStore::new(max_entries, ttl).map_err(|error| {
            invalid_setting(if error.setting().is_none() { "maxEntries" } else { "ttlSeconds" })(error)
        })?;
        let store = Arc::new(store);
        Ok(NativeStore { inner: store.clone(), memory: Some(store), redis: None })
    }

    /// The Redis store. Only parses the URL: the server may come up later. The URL is not kept by JS.
    #[napi(factory)]
    pub fn redis(
        url: String,
        key_prefix: Option<String>,
        ttl_seconds: Option<f64>,
        timeout_seconds: Option<f64>,
        max_idle_connections: Option<f64>,
        max_threads: Option<f64>,
        tls_root_certificates: Option<Uint8ArraySlice>,
    ) -> napi::Result<NativeStore, Code> {
        let url = Zeroizing::new(url);
        let mut options = RedisOptions::default();
        if let Some(prefix) = key_prefix {
            options.key_prefix = prefix;
        }
        if let Some(ttl) = ttl_seconds {
            options.done_ttl = seconds(Setting::DoneTtl, ttl, "ttlSeconds")?;
        }
        if let Some(timeout) = timeout_seconds {
            options.timeout = seconds(Setting::Timeout, timeout, "timeoutSeconds")?;
        }
        if let Some(idle) = max_idle_connections {
            let idle = whole_count(idle, u64::from(u32::MAX), "maxIdleConnections")?;
            options.max_idle_connections = usize::try_from(idle).unwrap_or(usize::MAX);
        }
        let max_threads = match max_threads.map(|n| whole_count(n, MOST_THREADS, "maxThreads")).transpose()? {
            None => DEFAULT_MAX_THREADS,
            Some(0) => {
                return Err(invalid_arg(
                    "maxThreads must be at least 1: with no thread, no Redis call can run",
                ))
            }
            Some(count) => usize::try_from(count).unwrap_or(usize::MAX),
        };
        options.tls_root_certificates = tls_root_certificates.map(|pem| pem.to_vec());
        // A configuration error (a TypeError at start-up), not `store_unavailable`: no delivery is waiting.
        let store = RedisStore::with_options(&url, options).map_err(|e| invalid_arg(e.to_string()))?;
        let store = Arc::new(store);
        let pool = pool::Pool::new(THREAD_NAME, max_threads, THREAD_IDLE_EXIT, store.options().timeout);
        let redis = Arc::new(Redis { store: store.clone(), pool });
        Ok(NativeStore { inner: store, memory: None, redis: Some(redis) })
    }

    /// The core's `RedisStore::check`, on one of the store's threads (see [`on_redis_thread`]): resolves
    /// to `null` when the store can work, else `[kind, reason]` with kind `misconfigured` (can never work
    /// as set up) or `unavailable` (down or hung: may come back; also when every thread stayed busy for
    /// longer than the timeout). `null` for a memory store, which has nothing to ask.
    #[napi(ts_return_type = "Promise<[string, string] | null>")]
    pub fn check<'env>(&self, env: &'env Env) -> napi::Result<Object<'env>, Code> {
        let Some(redis) = &self.redis else {
            return on_redis_thread(env, None, pool::Order::InTurn, |_| None::<Vec<String>>);
        };
        let store = Arc::clone(&redis.store);
        on_redis_thread(env, Some(redis), pool::Order::InTurn, move |turn| {
            let checked = match turn {
                Turn::Call => store.check(),
                Turn::WaitedTooLong(redis) => Err(redis.busy_check()),
            };
            checked.err().map(|error| {
                let kind = match error.kind() {
                    RedisCheckErrorKind::Unavailable => "unavailable",
                    _ => "misconfigured",
                };
                vec![kind.to_owned(), error.to_string()]
            })
        })
    }

    /// Whether calls may block on I/O (and so run on the store's threads, see [`on_redis_thread`]).
    #[napi(getter)]
    pub fn blocking(&self) -> bool {
        self.memory.is_none()
    }

    /// How many ids a memory store holds (live or expired-but-not-yet-evicted); `null` for Redis.
    #[napi(getter)]
    pub fn size(&self) -> Option<u32> {
        self.memory.as_ref().map(|store| u32::try_from(store.len()).unwrap_or(u32::MAX))
    }
}

// ---------------------------------------------------------------------------------------------------
// Receiver.

type SharedReceiver = Arc<Receiver<Arc<dyn DedupeStore>>>;

/// Fresh claims between `receive` and `complete`/`release`. A handle is `generation * SLOTS + index`, so
/// a handle used twice (or forged) never reaches another claim.
struct Claims {
    slots: Vec<(u32, Option<Claimed>)>,
    free: Vec<u32>,
}

const SLOTS: f64 = (1u64 << 24) as f64;

static CLAIMS: Mutex<Claims> = Mutex::new(Claims { slots: Vec::new(), free: Vec::new() });

fn claims() -> MutexGuard<'static, Claims> {
    // Nothing panics while the lock is held, so a poisoned table is still consistent.
    CLAIMS.lock().unwrap_or_else(PoisonError::into_inner)
}

fn hold_claim(claimed: Claimed) -> napi::Result<f64, Code> {
    let mut table = claims();
    let index = match table.free.pop() {
        Some(index) => index,
        None if table.slots.len() < SLOTS as usize => {
            table.slots.push((0, None));
            (table.slots.len() - 1) as u32
        }
        None => return Err(invalid_arg("too many claims held at once")),
    };
    let slot = &mut table.slots[index as usize];
    slot.1 = Some(claimed);
    Ok(f64::from(slot.0) * SLOTS + f64::from(index))
}

/// Forgets the claim behind `handle` when its `receive()` was abandoned: a handler that never settled, whose
/// promise chain the garbage collector took (lib/index.cjs's FinalizationRegistry calls this). The store's
/// claim then ends with its lease, as after a crash; without this, the event and its body stayed in the
/// table for the life of the process.
#[napi]
pub fn drop_claim(handle: f64) {
    let _ = take_claim(handle);
}

/// How many claims the addon holds for handlers still running (between `receive` and its end): a
/// diagnostic, and what the tests read to see abandoned claims freed.
#[napi]
pub fn claims_held() -> u32 {
    let table = claims();
    (table.slots.len() - table.free.len()) as u32
}

/// Takes the claim behind `handle` out of the table (each claim is completed or released once).
fn take_claim(handle: f64) -> napi::Result<Claimed, Code> {
    let not_held = || invalid_arg("this claim was already completed or released");
    if !(0.0..MAX_SAFE_INTEGER).contains(&handle) || handle.fract() != 0.0 {
        return Err(not_held());
    }
    let generation = (handle / SLOTS).floor();
    let index = (handle - generation * SLOTS) as usize;
    let mut table = claims();
    let slot =
        table.slots.get_mut(index).filter(|slot| f64::from(slot.0) == generation).ok_or_else(not_held)?;
    let claimed = slot.1.take().ok_or_else(not_held)?;
    slot.0 = (slot.0 + 1) % (1 << 28);
    table.free.push(index as u32);
    Ok(claimed)
}

/// The event of a reception as ONE string and its numbers in `scratch` (see [`event_value`]); a fresh
/// claim is held for `finish`.
fn reception_value<'env>(
    env: &'env Env,
    reception: Reception,
    scratch: &mut Scratch<'_>,
) -> napi::Result<JsString<'env>, Code> {
    match reception {
        Reception::Fresh(claimed) => {
            let value = event_value(env, &claimed.verified, Found::Fresh, None, scratch)?;
            // If holding fails, the claim is dropped here and its lease expires.
            scratch.set(SLOT_CLAIM, hold_claim(claimed)?);
            Ok(value)
        }
        Reception::Duplicate(verified) => event_value(env, &verified, Found::Duplicate, None, scratch),
        Reception::InProgress(verified) => event_value(env, &verified, Found::InProgress, None, scratch),
    }
}

/// How the core's `Receiver::finish` ended a fresh delivery: its `Outcome`'s kind and HTTP status, the
/// core's warning when the handler outlasted its lease and the claim was lost, and its warning when the
/// claim of a failed handler could not be released.
#[napi(object, object_from_js = false)]
pub struct Finished {
    pub kind: &'static str,
    pub http_status: u32,
    pub claim_lost_warning: Option<String>,
    pub unreleased_warning: Option<String>,
}

/// `Receiver::finish`: completes the claim after a handler that succeeded, releases it after one that
/// failed. A completion the store could not record is the outcome's error, thrown by [`fail`].
fn finish(
    receiver: &Receiver<Arc<dyn DedupeStore>>,
    claimed: Claimed,
    handler_succeeded: bool,
    now_ms: u64,
) -> Result<Finished, CoreError> {
    finished(receiver, receiver.finish(claimed, handler_result(handler_succeeded), now_ms))
}

fn handler_result(handler_succeeded: bool) -> Result<(), ()> {
    if handler_succeeded {
        Ok(())
    } else {
        Err(())
    }
}

/// A finished delivery's `outcome` as JavaScript reads it; a rejection is the error, thrown by [`fail`].
fn finished(receiver: &Receiver<Arc<dyn DedupeStore>>, outcome: Outcome<()>) -> Result<Finished, CoreError> {
    match outcome {
        Outcome::Rejected(error) => Err(error),
        outcome => Ok(Finished {
            kind: outcome.kind(),
            http_status: u32::from(outcome.http_status()),
            claim_lost_warning: receiver.lost_claim_warning(&outcome),
            unreleased_warning: outcome.unreleased_warning(),
        }),
    }
}

#[napi]
pub struct NativeReceiver {
    inner: SharedReceiver,
    header_table: Vec<String>,
    /// The store's threads, for a Redis store.
    redis: Option<Arc<Redis>>,
}

#[napi]
impl NativeReceiver {
    #[napi(constructor)]
    pub fn new(
        verifier: &NativeVerifier,
        store: &NativeStore,
        lease_seconds: Option<f64>,
    ) -> napi::Result<NativeReceiver, Code> {
        let mut receiver = Receiver::new(Verifier::clone(&verifier.inner), Arc::clone(&store.inner));
        if let Some(lease) = lease_seconds {
            let lease = seconds(Setting::Lease, lease, "leaseSeconds")?;
            receiver = receiver.with_lease(lease).map_err(invalid_setting("leaseSeconds"))?;
        }
        let header_table = header_table(verifier.inner.scheme());
        Ok(NativeReceiver { inner: Arc::new(receiver), header_table, redis: store.redis.clone() })
    }

    /// Verify and claim on this thread (memory store): `now` (unix milliseconds) and the encoded headers
    /// in `scratch` (see [`Scratch`]); the event as ONE string, its numbers in `scratch` (see
    /// [`event_value`]).
    #[napi]
    pub fn receive<'env>(
        &self,
        env: &'env Env,
        body: Uint8ArraySlice,
        mut scratch: BufferSlice,
    ) -> napi::Result<JsString<'env>, Code> {
        with_request(&mut scratch, &self.header_table, |pairs, now, scratch| {
            let reception = self.inner.receive(pairs, &body, now).map_err(|e| fail(&e))?;
            reception_value(env, reception, scratch)
        })
    }

    #[napi]
    pub fn receive_list<'env>(
        &self,
        env: &'env Env,
        body: Uint8ArraySlice,
        headers: Vec<String>,
        now_ms: f64,
        mut scratch: BufferSlice,
    ) -> napi::Result<JsString<'env>, Code> {
        let now_ms = instant(now_ms, "now")?;
        let mut scratch = Scratch::new(&mut scratch)?;
        let reception = self.inner.receive(&list_pairs(&headers)?, &body, now_ms).map_err(|e| fail(&e))?;
        reception_value(env, reception, &mut scratch)
    }

    /// Verify and claim on one of the store's threads (Redis, see [`on_redis_thread`]): resolves to a
    /// `NativeSettled`. A call that waited for a thread longer than the store's timeout claims nothing:
    /// it is the core's `threads_busy` error (after verification, as `receive` would answer).
    #[napi(ts_return_type = "Promise<unknown>")]
    pub fn receive_async<'env>(
        &self,
        env: &'env Env,
        body: Uint8ArraySlice,
        headers: Vec<String>,
        now_ms: f64,
    ) -> napi::Result<Object<'env>, Code> {
        if !headers.len().is_multiple_of(2) {
            return Err(invalid_arg("the header list must alternate names and values"));
        }
        let now_ms = instant(now_ms, "now")?;
        let receiver = Arc::clone(&self.inner);
        let body = body.to_vec();
        on_redis_thread(env, self.redis.as_ref(), pool::Order::InTurn, move |turn| {
            let pairs: Pairs<'_> =
                headers.chunks_exact(2).map(|pair| (pair[0].as_bytes(), pair[1].as_bytes())).collect();
            let received = match turn {
                Turn::Call => receiver.receive(&pairs, &body, now_ms),
                Turn::WaitedTooLong(redis) => {
                    Err(receiver.receive_without_store(&pairs, &body, now_ms, redis.busy()))
                }
            };
            let settled = match received {
                Ok(reception) => Settled::Received(Box::new(reception)),
                Err(error) => Settled::Failed(error),
            };
            NativeSettled { inner: Some(settled) }
        })
    }

    /// Ends a fresh delivery on this thread through the core's `Receiver::finish` (see [`finish`]).
    #[napi]
    pub fn finish(&self, claim: f64, handler_succeeded: bool, now_ms: f64) -> napi::Result<Finished, Code> {
        let now_ms = instant(now_ms, "now")?;
        finish(&self.inner, take_claim(claim)?, handler_succeeded, now_ms).map_err(|e| fail(&e))
    }

    /// `finish` on one of the store's threads (Redis, see [`on_redis_thread`]): resolves to a
    /// `NativeSettled`. A call that waited for a thread longer than the store's timeout ends the claim
    /// as the core ends one whose store failed, with the core's `threads_busy` error: a completion is
    /// `store_unavailable` (the handler ran unrecorded), a release is left to the lease.
    #[napi(ts_return_type = "Promise<unknown>")]
    pub fn finish_async<'env>(
        &self,
        env: &'env Env,
        claim: f64,
        handler_succeeded: bool,
        now_ms: f64,
    ) -> napi::Result<Object<'env>, Code> {
        let now_ms = instant(now_ms, "now")?;
        let claimed = take_claim(claim)?;
        let receiver = Arc::clone(&self.inner);
        // Ahead of queued claims: a slow Redis must not leave handlers that ran unrecorded behind new deliveries.
        on_redis_thread(env, self.redis.as_ref(), pool::Order::First, move |turn| {
            let ended = match turn {
                Turn::Call => finish(&receiver, claimed, handler_succeeded, now_ms),
                Turn::WaitedTooLong(redis) => {
                    let result = handler_result(handler_succeeded);
                    finished(&receiver, Outcome::after_handler(claimed.verified, result, Err(redis.busy())))
                }
            };
            let settled = match ended {
                Ok(finished) => Settled::Finished(finished),
                Err(error) => Settled::Failed(error),
            };
            NativeSettled { inner: Some(settled) }
        })
    }
}

/// What a blocking call's thread hands back to the JS thread, which turns it into the promise's value.
type Resolver<T> = Box<dyn FnOnce(Env) -> napi::Result<T> + Send>;

/// How a blocking call's work runs (see [`on_redis_thread`]).
enum Turn<'a> {
    /// Make the call.
    Call,
    /// The call waited for one of the store's threads longer than the store's timeout: answer without
    /// calling Redis, with the core's error ([`Redis::busy`]).
    WaitedTooLong(&'a Redis),
}

/// Runs a blocking Redis call on one of the store's threads ([`pool::Pool`]) and returns a promise of
/// its result, settled from that thread (through the deferred's threadsafe function, so the value is
/// made on the JS thread). Without a store (a memory store's `check`) the work runs here, at once.
///
/// Never on libuv's thread pool (`AsyncTask`): that pool (4 threads by default) is shared with `fs`,
/// `dns.lookup` and `zlib`, and a hung Redis would hold one of its threads per delivery in flight for up
/// to the store's timeout, stalling all of them. Nor on a thread per call: with a hung Redis that is a
/// thread (and a Redis connection) per delivery in flight, and a thread start per call otherwise. The
/// store's pool reuses its threads, runs at most `maxThreads` of them, and answers a call that waited
/// for one longer than the store's timeout with [`Turn::WaitedTooLong`]. So each call settles within
/// about twice the timeout, however many are queued: every busy thread is free within one timeout (the
/// core's deadline), a call taken before it waited one timeout runs for at most one more, and a call
/// still waiting after one timeout is answered by the first thread to come free.
///
/// The promise is always settled: the work's panic rejects it, a thread that cannot start (with none
/// running to take the call) rejects it, and so does dropping the call unsettled ([`Promised`]).
fn on_redis_thread<'env, T, W>(
    env: &'env Env,
    redis: Option<&Arc<Redis>>,
    order: pool::Order,
    work: W,
) -> napi::Result<Object<'env>, Code>
where
    T: ToNapiValue + Send + 'static,
    W: FnOnce(Turn<'_>) -> T + Send + 'static,
{
    let (deferred, promise) = env
        .create_deferred::<T, Resolver<T>>()
        .map_err(|e| napi::Error::new(Code(Cow::Borrowed("GenericFailure")), e.reason))?;
    let promised = Promised(Some(deferred));
    let Some(redis) = redis else {
        promised.settle(catch_unwind(AssertUnwindSafe(|| work(Turn::Call))));
        return Ok(promise);
    };
    let owner = Arc::clone(redis);
    redis.pool.submit(
        order,
        Box::new(move |turn| {
            let turn = match turn {
                pool::Turn::Run => Turn::Call,
                pool::Turn::TooLate => Turn::WaitedTooLong(&owner),
                pool::Turn::NoThread(error) => {
                    let reason = format!("could not start a thread for the Redis call: {error}");
                    return Box::new(move || promised.reject(napi::Error::from_reason(reason)));
                }
            };
            let result = catch_unwind(AssertUnwindSafe(|| work(turn)));
            Box::new(move || promised.settle(result))
        }),
    );
    Ok(promise)
}

/// A promise's deferred, settled once: rejected if dropped unsettled (a call dropped by a panic past
/// `catch_unwind`), so no promise is ever left pending.
struct Promised<T: ToNapiValue + Send + 'static>(Option<JsDeferred<T, Resolver<T>>>);

impl<T: ToNapiValue + Send + 'static> Promised<T> {
    /// Resolves with the work's value, or rejects when the work panicked.
    fn settle(mut self, result: std::thread::Result<T>) {
        let Some(deferred) = self.0.take() else { return };
        match result {
            Ok(value) => deferred.resolve(Box::new(move |_| Ok(value))),
            Err(_) => deferred.reject(napi::Error::from_reason("the Redis call panicked")),
        }
    }

    fn reject(mut self, error: napi::Error) {
        if let Some(deferred) = self.0.take() {
            deferred.reject(error);
        }
    }
}

impl<T: ToNapiValue + Send + 'static> Drop for Promised<T> {
    fn drop(&mut self) {
        if let Some(deferred) = self.0.take() {
            deferred.reject(napi::Error::from_reason("the Redis call ended without a result"));
        }
    }
}

/// The result of a blocking call (see [`on_redis_thread`]), read back on the JS thread by `NativeSettled` (so its errors are
/// thrown by the same [`fail`] as every other).
pub enum Settled {
    Received(Box<Reception>),
    Finished(Finished),
    Failed(CoreError),
}

/// What a blocking call (see [`on_redis_thread`]) resolved to; read once on the JS thread.
#[napi]
pub struct NativeSettled {
    inner: Option<Settled>,
}

#[napi]
impl NativeSettled {
    /// The event `receiveAsync` found as ONE string, its numbers in `scratch` (see [`event_value`]), or
    /// the error it met, thrown here.
    #[napi]
    pub fn delivery<'env>(
        &mut self,
        env: &'env Env,
        mut scratch: BufferSlice,
    ) -> napi::Result<JsString<'env>, Code> {
        let mut scratch = Scratch::new(&mut scratch)?;
        match self.inner.take() {
            Some(Settled::Received(reception)) => reception_value(env, *reception, &mut scratch),
            Some(Settled::Failed(error)) => Err(fail(&error)),
            _ => Err(invalid_arg("not an unread result of receiveAsync")),
        }
    }

    /// What `finishAsync` returned, or the error it met, thrown here.
    #[napi]
    pub fn finished(&mut self) -> napi::Result<Finished, Code> {
        match self.inner.take() {
            Some(Settled::Finished(finished)) => Ok(finished),
            Some(Settled::Failed(error)) => Err(fail(&error)),
            _ => Err(invalid_arg("not an unread result of finishAsync")),
        }
    }
}
