//! The WebAssembly binding of `anchor-webhooks`, for edge workers and browsers.
//!
//! These exports are the raw layer: `js/api.mjs` wraps them into the public API (`Verifier`, `Event`,
//! `MemoryStore`, `Receiver`, `sign`, ...). Everything here converts types and maps errors; the rules are
//! the core's. The clock and the randomness of claim tokens come from the host (`Date.now()`,
//! `crypto.getRandomValues`): the core never reads either.

use anchor_webhooks::kv;

use std::sync::Arc;
use std::time::Duration;

use anchor_webhooks::{
    Claim, ClaimToken, Claimed, Error, ErrorCode, EventType, MemoryStore, Outcome, Receiver, Reception,
    Scheme, Setting, SettingError, SignOptions, Signer, Verified, Verifier, DEFAULT_DONE_TTL, DEFAULT_LEASE,
    DEFAULT_MAX_ENTRIES, IN_PROGRESS_RETRY_AFTER_SECONDS,
};
use js_sys::{Array, Function, Reflect};
use wasm_bindgen::prelude::*;
use zeroize::Zeroize;

// ---------------------------------------------------------------------------------------------------
// Errors: the one place where a core error becomes a JS value.

thread_local! {
    /// `WebhookVerificationError`, registered by `js/api.mjs` so errors thrown from here are instances of
    /// the class users import.
    static ERROR_CLASS: std::cell::RefCell<Option<Function>> = const { std::cell::RefCell::new(None) };
}

#[wasm_bindgen(js_name = registerErrorClass)]
pub fn register_error_class(class: Function) {
    ERROR_CLASS.with(|slot| *slot.borrow_mut() = Some(class));
}

/// A core error as a `WebhookVerificationError(message, code, httpStatus, skewSeconds)`. The message is
/// the core's, which never contains a secret, a signature or the body.
fn js_error(error: &Error) -> JsValue {
    let code = error.code();
    let skew = error.skew_seconds().map_or(JsValue::NULL, |skew| JsValue::from_f64(skew as f64));
    let args = Array::of4(
        &JsValue::from_str(&error.to_string()),
        &JsValue::from_str(code.as_str()),
        &JsValue::from_f64(f64::from(code.http_status())),
        &skew,
    );
    let class = ERROR_CLASS.with(|slot| slot.borrow().clone());
    if let Some(class) = class {
        if let Ok(error) = Reflect::construct(&class, &args) {
            return error;
        }
    }
    // Used only if the raw module is loaded without js/api.mjs: still an Error with `name` and `code`.
    let plain = js_sys::Error::new(&error.to_string());
    plain.set_name("WebhookVerificationError");
    let _ = Reflect::set(&plain, &"code".into(), &args.get(1));
    let _ = Reflect::set(&plain, &"httpStatus".into(), &args.get(2));
    let _ = Reflect::set(&plain, &"skewSeconds".into(), &skew);
    plain.into()
}

/// A misuse of the API (a wrong option), not a problem with a delivery.
fn usage_error(message: &str) -> JsValue {
    js_sys::TypeError::new(message).into()
}

/// `store_unavailable` for a failure of a user's asynchronous store (its `get`/`put`/`delete` threw).
#[wasm_bindgen(js_name = storeUnavailableError)]
pub fn store_unavailable_error(reason: &str) -> JsValue {
    js_error(&Error::StoreUnavailable { reason: reason.to_owned() })
}

// ---------------------------------------------------------------------------------------------------
// Conversions.

/// A whole number of seconds (or bytes, or milliseconds) given as a JS number. A fraction is refused, not
/// rounded: a `tolerance` of 0.9 would otherwise become 0 s and refuse nearly every genuine delivery.
fn whole(name: &str, value: f64) -> Result<u64, JsValue> {
    if value.fract() == 0.0 && (0.0..=9_007_199_254_740_991.0).contains(&value) {
        Ok(value as u64)
    } else {
        Err(usage_error(&format!("`{name}` must be a whole number from 0 to 2^53 - 1")))
    }
}

/// A time (unix seconds or milliseconds) given as a JS number: its fraction is dropped, as a clock's is.
fn instant(name: &str, value: f64) -> Result<u64, JsValue> {
    whole(name, value.floor())
}

fn scheme(name: Option<String>) -> Result<Scheme, JsValue> {
    match name {
        None => Ok(Scheme::Anchor),
        Some(name) => {
            Scheme::parse(&name).ok_or_else(|| usage_error("`scheme` must be \"anchor\" or \"standard\""))
        }
    }
}

/// Header pairs from one string of names and values laid end to end, with their lengths in UTF-16 code
/// units (JavaScript's string length). One string crosses the boundary instead of one per name and value.
fn header_pairs<'a>(joined: &'a str, lengths: &[u32]) -> Result<Vec<(&'a str, &'a str)>, JsValue> {
    let bad = || usage_error("internal: header lengths do not match the joined header text");
    let mut parts = Vec::with_capacity(lengths.len());
    let mut rest = joined;
    // Once, not per header: a delivery with thousands of headers would otherwise cost their square.
    let ascii = joined.is_ascii();
    for &length in lengths {
        let length = length as usize;
        let split = if ascii {
            length
        } else {
            let mut units = 0;
            let mut bytes = 0;
            for ch in rest.chars() {
                if units >= length {
                    break;
                }
                units += ch.len_utf16();
                bytes += ch.len_utf8();
            }
            if units != length {
                return Err(bad());
            }
            bytes
        };
        if split > rest.len() {
            return Err(bad());
        }
        let (part, tail) = rest.split_at(split);
        parts.push(part);
        rest = tail;
    }
    if !rest.is_empty() || parts.len() % 2 != 0 {
        return Err(bad());
    }
    Ok(parts.chunks_exact(2).map(|pair| (pair[0], pair[1])).collect())
}

/// The copies of the secrets made in wasm memory; the core keeps only keyed HMAC states (zeroed on drop).
fn wipe(mut secrets: Vec<String>) {
    secrets.zeroize();
}

// ---------------------------------------------------------------------------------------------------
// Catalogue.

/// Every event type name of the catalogue, in catalogue order.
#[wasm_bindgen(js_name = eventTypes)]
pub fn event_types() -> Vec<String> {
    EventType::ALL_NAMES.iter().map(|name| (*name).to_owned()).collect()
}

/// Every error code, in catalogue order.
#[wasm_bindgen(js_name = errorCodes)]
pub fn error_codes() -> Vec<String> {
    ErrorCode::ALL.iter().map(|code| code.as_str().to_owned()).collect()
}

#[wasm_bindgen(js_name = defaultLeaseMs)]
pub fn default_lease_ms() -> f64 {
    DEFAULT_LEASE.as_millis() as f64
}

#[wasm_bindgen(js_name = defaultKvTimeoutMs)]
pub fn default_kv_timeout_ms() -> f64 {
    kv::DEFAULT_CALL_TIMEOUT.as_millis() as f64
}

#[wasm_bindgen(js_name = defaultDoneTtlMs)]
pub fn default_done_ttl_ms() -> f64 {
    DEFAULT_DONE_TTL.as_millis() as f64
}

/// A duration option in seconds as milliseconds, in the core's range for `setting` (`lease`, `doneTtl`
/// or `timeout`); `option` names it in the error as the user wrote it.
#[wasm_bindgen(js_name = settingMs)]
pub fn setting_ms(setting: &str, option: &str, seconds: f64) -> Result<f64, JsValue> {
    let setting = match setting {
        "lease" => Setting::Lease,
        "doneTtl" => Setting::DoneTtl,
        "timeout" => Setting::Timeout,
        _ => return Err(usage_error("internal: unknown setting")),
    };
    // Within the range every duration is under 2^53 ms: exact as a JavaScript number.
    setting.from_seconds(seconds).map(|d| d.as_millis() as u64 as f64).map_err(|e| setting_error(option, e))
}

fn setting_error(option: &str, error: SettingError) -> JsValue {
    usage_error(&format!("`{option}` {error}"))
}

/// The core's report of a lost claim: `heldMs` is how long it was held by the host's clock, when known
/// (a key-value store's claim lost within its lease is that store's race, not the lease's fault).
#[wasm_bindgen(js_name = claimLostWarning)]
pub fn claim_lost_warning_text(event_id: &str, lease_ms: f64, held_ms: Option<f64>) -> String {
    let held = held_ms.map(|ms| Duration::from_millis(ms as u64));
    kv::claim_lost_warning(event_id, Duration::from_millis(lease_ms as u64), held)
}

#[wasm_bindgen(js_name = inProgressRetryAfterSeconds)]
pub fn in_progress_retry_after_seconds() -> f64 {
    IN_PROGRESS_RETRY_AFTER_SECONDS as f64
}

/// The core's `body_too_large` for a body of `len` bytes: JavaScript hands the core only `limit + 1` bytes
/// of an oversized body (copying all of it could exhaust wasm memory), then states the real length with
/// this. A length beyond the address space saturates (a body over 4 GiB is reported as 4 GiB).
#[wasm_bindgen(js_name = bodyTooLargeError)]
pub fn body_too_large_error(len: f64, limit: f64) -> JsValue {
    let bytes = |n: f64| if n >= usize::MAX as f64 { usize::MAX } else { n as usize };
    js_error(&Error::BodyTooLarge { len: bytes(len), limit: bytes(limit) })
}

/// The crate version, which is the workspace version.
#[wasm_bindgen]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_owned()
}

// ---------------------------------------------------------------------------------------------------
// Verifier.

impl WasmVerifier {
    fn verified(&self, body: &[u8], joined: &str, lengths: &[u32], now: f64) -> Result<Verified, JsValue> {
        let headers = header_pairs(joined, lengths)?;
        self.inner.verify(&headers, body, instant("now", now)?).map_err(|e| js_error(&e))
    }
}

/// Where the JSON text of `data` sits in the verified body, as `[start, end)` in bytes, or in UTF-16
/// code units when the body was given as a JS string. `None` when the body has no `data` (the core's
/// `raw_data()` is then a `null` of its own, outside the body).
fn data_span(event: &anchor_webhooks::Event, utf16: bool) -> Option<(usize, usize)> {
    let body = event.raw_body();
    let data = event.raw_data();
    let start = (data.as_ptr() as usize).checked_sub(body.as_ptr() as usize)?;
    let end = start.checked_add(data.len()).filter(|end| *end <= body.len())?;
    if !utf16 || body[..end].is_ascii() {
        return Some((start, end));
    }
    // The core validated the body as UTF-8, and JSON values start and end on character boundaries.
    let units = |bytes: &[u8]| std::str::from_utf8(bytes).map(|text| text.encode_utf16().count()).ok();
    let start16 = units(&body[..start])?;
    Some((start16, start16 + units(&body[start..end])?))
}

/// Everything `js/api.mjs` needs to build an `Event`, as ONE string (one crossing, one UTF-8 decode,
/// instead of an array filled element by element and a decode per string):
/// `createdMs,matchedSecret,timestamp,dataStart,dataEnd,idLen,typeLen,projectIdLen,textLen,deliveryIdLen;`
/// then the five strings end to end. An absent number or string is an empty field; lengths are in
/// UTF-16 code units (JavaScript's `slice`).
fn event_text(verified: &Verified, utf16: bool) -> String {
    use std::fmt::Write as _;
    let event = &verified.event;
    let strings = [
        Some(event.id()),
        Some(event.event_type().as_str()),
        event.project_id(),
        event.text(),
        verified.delivery_id.as_deref(),
    ];
    let mut text = String::with_capacity(64 + strings.iter().flatten().map(|s| s.len()).sum::<usize>());
    if let Some(created_ms) = event.created_unix_ms() {
        let _ = write!(text, "{created_ms}");
    }
    let _ = write!(text, ",{},{},", verified.matched_secret, verified.timestamp);
    if let Some((start, end)) = data_span(event, utf16) {
        let _ = write!(text, "{start},{end}");
    } else {
        text.push(',');
    }
    for string in strings {
        text.push(',');
        if let Some(string) = string {
            let units = if string.is_ascii() { string.len() } else { string.encode_utf16().count() };
            let _ = write!(text, "{units}");
        }
    }
    text.push(';');
    for string in strings.into_iter().flatten() {
        text.push_str(string);
    }
    text
}

#[wasm_bindgen(js_name = RawVerifier)]
pub struct WasmVerifier {
    inner: Verifier,
}

#[wasm_bindgen(js_class = RawVerifier)]
impl WasmVerifier {
    #[wasm_bindgen(constructor)]
    pub fn new(
        secrets: Vec<String>,
        scheme_name: Option<String>,
        tolerance: Option<f64>,
        max_body_bytes: Option<f64>,
    ) -> Result<WasmVerifier, JsValue> {
        let built =
            scheme(scheme_name).and_then(|scheme| Verifier::new(scheme, &secrets).map_err(|e| js_error(&e)));
        wipe(secrets);
        let mut inner = built?;
        if let Some(seconds) = tolerance {
            inner = inner.with_tolerance(whole("tolerance", seconds)?);
        }
        if let Some(bytes) = max_body_bytes {
            let bytes = usize::try_from(whole("maxBodyBytes", bytes)?).unwrap_or(usize::MAX);
            inner = inner.with_max_body_bytes(bytes);
        }
        Ok(WasmVerifier { inner })
    }

    /// Verifies body bytes; `now` is unix seconds from the host clock. Returns the event's fields (see
    /// `event_text`), with the span of `data` in bytes, or in UTF-16 code units when `utf16` (the bytes are
    /// the UTF-8 of a JS string, which JavaScript then slices instead of decoding `data` again). A string
    /// body is encoded by `TextEncoder` in JavaScript rather than passed as `&str`: wasm-bindgen copies an
    /// ASCII string one character at a time, about 110 µs for 64 KiB against 15 µs.
    pub fn verify(
        &self,
        body: &[u8],
        joined: &str,
        lengths: &[u32],
        now: f64,
        utf16: bool,
    ) -> Result<String, JsValue> {
        Ok(event_text(&self.verified(body, joined, lengths, now)?, utf16))
    }

    /// Headers, timestamp and signature only, without reading the body as JSON (the core's
    /// `verify_signature`): `[matchedSecret, timestamp]`.
    #[wasm_bindgen(js_name = verifySignature)]
    pub fn verify_signature(
        &self,
        body: &[u8],
        joined: &str,
        lengths: &[u32],
        now: f64,
    ) -> Result<Vec<f64>, JsValue> {
        let headers = header_pairs(joined, lengths)?;
        let signed =
            self.inner.verify_signature(&headers, body, instant("now", now)?).map_err(|e| js_error(&e))?;
        Ok(vec![signed.matched_secret as f64, signed.timestamp as f64])
    }

    /// Verification for a dedupe step that follows (a key-value store's claim).
    #[wasm_bindgen(js_name = verifyDelivery)]
    pub fn verify_delivery(
        &self,
        body: &[u8],
        joined: &str,
        lengths: &[u32],
        now: f64,
    ) -> Result<Delivery, JsValue> {
        Ok(Delivery::new(State::Verified(self.verified(body, joined, lengths, now)?)))
    }

    #[wasm_bindgen(getter)]
    pub fn scheme(&self) -> String {
        self.inner.scheme().as_str().to_owned()
    }

    #[wasm_bindgen(getter)]
    pub fn tolerance(&self) -> f64 {
        self.inner.tolerance() as f64
    }

    #[wasm_bindgen(getter, js_name = maxBodyBytes)]
    pub fn max_body_bytes(&self) -> f64 {
        self.inner.max_body_bytes() as f64
    }

    #[wasm_bindgen(getter, js_name = secretCount)]
    pub fn secret_count(&self) -> usize {
        self.inner.secret_count()
    }
}

// ---------------------------------------------------------------------------------------------------
// One verified delivery, through its dedupe steps.

enum State {
    /// Verified; no store involved yet.
    Verified(Verified),
    /// Claimed in a `MemoryStore` (the core's `Receiver`).
    Claimed(Claimed),
    /// Claimed in a key-value store with this token.
    KvClaimed(Verified, ClaimToken),
    Duplicate(Verified),
    InProgress(Verified),
    /// The outcome was taken.
    Finished,
}

#[wasm_bindgen]
pub struct Delivery {
    state: State,
    /// Whether this delivery still held its key-value claim when `kvFinish` ended it.
    kv_claim_held: bool,
    /// Why `kvFinish` could not end the claim (a record it cannot read), for `outcome` to decide on.
    kv_finish_failure: Option<Error>,
}

impl Delivery {
    fn new(state: State) -> Delivery {
        Delivery { state, kv_claim_held: true, kv_finish_failure: None }
    }

    fn verified(&self) -> Result<&Verified, JsValue> {
        match &self.state {
            State::Verified(verified)
            | State::KvClaimed(verified, _)
            | State::Duplicate(verified)
            | State::InProgress(verified) => Ok(verified),
            State::Claimed(claimed) => Ok(&claimed.verified),
            State::Finished => Err(usage_error("internal: this delivery is finished")),
        }
    }

    fn after_claim(&mut self, claim: Claim, token: Option<ClaimToken>) -> Result<(), JsValue> {
        let State::Verified(verified) = std::mem::replace(&mut self.state, State::Finished) else {
            return Err(usage_error("internal: claim on a delivery that is not just verified"));
        };
        self.state = match (claim, token) {
            (Claim::Fresh(_), Some(token)) => State::KvClaimed(verified, token),
            (Claim::Done, _) => State::Duplicate(verified),
            _ => State::InProgress(verified),
        };
        Ok(())
    }

    fn token(&self) -> Result<ClaimToken, JsValue> {
        match &self.state {
            State::KvClaimed(_, token) => Ok(*token),
            _ => Err(usage_error("internal: this delivery holds no key-value claim")),
        }
    }
}

/// What to write back to a key-value store: `[action, value, ttlSeconds]`, action `keep`/`put`/`delete`;
/// a `delete` carries the value a store without `delete` puts instead (the core's `kv::FREE`).
fn write_plan(write: kv::KvWrite) -> Array {
    match write {
        kv::KvWrite::Keep => Array::of1(&"keep".into()),
        kv::KvWrite::Delete => Array::of2(&"delete".into(), &kv::FREE.into()),
        kv::KvWrite::Put { value, ttl } => Array::of3(
            &"put".into(),
            &JsValue::from_str(&value),
            &JsValue::from_f64(ttl.as_secs_f64().ceil()),
        ),
    }
}

/// The core's `Outcome` as JavaScript reads it: `[kind, httpStatus, claimLost, unreleasedWarning]`
/// (`claimLost`: processed, but the handler outlasted its lease and the claim was gone when it finished;
/// `unreleasedWarning`: the core's words when the claim of a failed handler could not be released).
fn outcome_pair<E>(outcome: &Outcome<E>) -> Array {
    let claim_lost = matches!(outcome, Outcome::Processed { claim_lost: true, .. });
    Array::of4(
        &outcome.kind().into(),
        &JsValue::from_f64(f64::from(outcome.http_status())),
        &claim_lost.into(),
        &outcome.unreleased_warning().into(),
    )
}

fn token_from_hex(token: &str) -> Result<ClaimToken, JsValue> {
    u128::from_str_radix(token, 16)
        .map(ClaimToken::new)
        .map_err(|_| usage_error("internal: a claim token is 32 hex digits"))
}

fn ms(name: &str, value: f64) -> Result<Duration, JsValue> {
    Ok(Duration::from_millis(instant(name, value)?))
}

#[wasm_bindgen]
impl Delivery {
    /// The event's fields, as `RawVerifier.verify` returns them.
    pub fn fields(&self, utf16: bool) -> Result<String, JsValue> {
        Ok(event_text(self.verified()?, utf16))
    }

    /// `verified`, `fresh`, `duplicate` or `in_progress`.
    #[wasm_bindgen(getter)]
    pub fn kind(&self) -> String {
        match self.state {
            State::Verified(_) => "verified",
            State::Claimed(_) | State::KvClaimed(..) => "fresh",
            State::Duplicate(_) => "duplicate",
            State::InProgress(_) => "in_progress",
            State::Finished => "finished",
        }
        .to_owned()
    }

    /// The core's `Outcome` for this delivery: `[kind, httpStatus, claimLost, unreleasedWarning]`. For a fresh delivery claimed in a
    /// key-value store, `handled` is whether its handler succeeded and `endFailure` the store's reason when
    /// reading or writing to end the claim failed: the core's `Outcome::after_handler` decides, and a
    /// completion the store could not record is thrown as its error (`store_unavailable`, naming the event).
    /// Both are ignored for duplicates and deliveries in progress.
    pub fn outcome(&mut self, handled: bool, end_failure: Option<String>) -> Result<Array, JsValue> {
        let outcome: Outcome<()> = match std::mem::replace(&mut self.state, State::Finished) {
            State::Duplicate(verified) => Outcome::Duplicate(verified),
            State::InProgress(verified) => Outcome::InProgress(verified),
            State::KvClaimed(verified, _) => {
                let result = if handled { Ok(()) } else { Err(()) };
                let ended = match (end_failure, self.kv_finish_failure.take()) {
                    (Some(reason), _) => Err(Error::StoreUnavailable { reason }),
                    (None, Some(error)) => Err(error),
                    (None, None) => Ok(self.kv_claim_held),
                };
                match Outcome::after_handler(verified, result, ended) {
                    Outcome::Rejected(error) => return Err(js_error(&error)),
                    outcome => outcome,
                }
            }
            State::Verified(_) | State::Claimed(_) | State::Finished => {
                return Err(usage_error("internal: no key-value dedupe decision was taken for this delivery"))
            }
        };
        Ok(outcome_pair(&outcome))
    }

    /// The key-value store key of this event (`prefix` defaults to the Redis store's).
    #[wasm_bindgen(js_name = kvKey)]
    pub fn kv_key(&self, prefix: Option<String>) -> Result<String, JsValue> {
        let id = self.verified()?.event.id();
        Ok(kv::key(prefix.as_deref().unwrap_or(kv::DEFAULT_PREFIX), id))
    }

    /// Decides a claim on the value read from the store; returns the write plan (see `write_plan`).
    #[wasm_bindgen(js_name = kvClaim)]
    pub fn kv_claim(
        &mut self,
        current: Option<String>,
        token: &str,
        lease_ms: f64,
        now_ms: f64,
    ) -> Result<Array, JsValue> {
        let token = token_from_hex(token)?;
        let (claim, write) =
            kv::claim(current.as_deref(), token, ms("lease", lease_ms)?, instant("now", now_ms)?)
                .map_err(|e| js_error(&e))?;
        self.after_claim(claim, Some(token))?;
        Ok(write_plan(write))
    }

    /// Ends a key-value claim once the handler ran (the core's `kv::finish`: completes after success,
    /// releases after a failure), on the value read from the store; returns the write plan.
    #[wasm_bindgen(js_name = kvFinish)]
    pub fn kv_finish(
        &mut self,
        current: Option<String>,
        handled: bool,
        ttl_ms: f64,
        now_ms: f64,
    ) -> Result<Array, JsValue> {
        let (ttl, now_ms) = (ms("ttl", ttl_ms)?, instant("now", now_ms)?);
        // A record the core cannot read is not thrown: `outcome` decides on it, as on a failed write.
        let write = match kv::finish(current.as_deref(), self.token()?, handled, ttl, now_ms) {
            Ok((held, write)) => {
                self.kv_claim_held = held;
                write
            }
            Err(error) => {
                self.kv_finish_failure = Some(error);
                kv::KvWrite::Keep
            }
        };
        Ok(write_plan(write))
    }
}

// ---------------------------------------------------------------------------------------------------
// The in-memory store and the receiver over it (the core's `Receiver`).

#[wasm_bindgen(js_name = RawMemoryStore)]
pub struct WasmMemoryStore {
    inner: Arc<MemoryStore>,
}

#[wasm_bindgen(js_class = RawMemoryStore)]
impl WasmMemoryStore {
    #[wasm_bindgen(constructor)]
    pub fn new(max_entries: Option<f64>, ttl_seconds: Option<f64>) -> Result<WasmMemoryStore, JsValue> {
        let max_entries = match max_entries {
            Some(n) => usize::try_from(whole("maxEntries", n)?).unwrap_or(usize::MAX),
            None => DEFAULT_MAX_ENTRIES,
        };
        let ttl = match ttl_seconds {
            Some(seconds) => {
                Setting::DoneTtl.from_seconds(seconds).map_err(|e| setting_error("ttlSeconds", e))?
            }
            None => DEFAULT_DONE_TTL,
        };
        let store = MemoryStore::new(max_entries, ttl)
            .map_err(|e| setting_error(if e.setting().is_none() { "maxEntries" } else { "ttlSeconds" }, e))?;
        Ok(WasmMemoryStore { inner: Arc::new(store) })
    }

    /// How many ids are held (live, or expired and not yet evicted).
    #[wasm_bindgen(getter)]
    pub fn size(&self) -> usize {
        self.inner.len()
    }

    #[wasm_bindgen(getter, js_name = maxEntries)]
    pub fn max_entries(&self) -> usize {
        self.inner.max_entries()
    }

    #[wasm_bindgen(getter)]
    pub fn ttl(&self) -> f64 {
        self.inner.ttl().as_secs_f64()
    }
}

#[wasm_bindgen(js_name = RawReceiver)]
pub struct WasmReceiver {
    inner: Receiver<Arc<MemoryStore>>,
}

#[wasm_bindgen(js_class = RawReceiver)]
impl WasmReceiver {
    #[wasm_bindgen(constructor)]
    pub fn new(
        verifier: &WasmVerifier,
        store: &WasmMemoryStore,
        lease_ms: Option<f64>,
    ) -> Result<WasmReceiver, JsValue> {
        let mut inner = Receiver::new(verifier.inner.clone(), Arc::clone(&store.inner));
        if let Some(lease) = lease_ms {
            inner = inner.with_lease(ms("lease", lease)?).map_err(|e| setting_error("leaseSeconds", e))?;
        }
        Ok(WasmReceiver { inner })
    }

    /// Verifies and claims (`Receiver::receive`); `now_ms` is unix milliseconds.
    pub fn receive(
        &self,
        body: &[u8],
        joined: &str,
        lengths: &[u32],
        now_ms: f64,
    ) -> Result<Delivery, JsValue> {
        let headers = header_pairs(joined, lengths)?;
        let reception =
            self.inner.receive(&headers, body, instant("now", now_ms)?).map_err(|e| js_error(&e))?;
        Ok(Delivery::new(match reception {
            Reception::Fresh(claimed) => State::Claimed(claimed),
            Reception::Duplicate(verified) => State::Duplicate(verified),
            Reception::InProgress(verified) => State::InProgress(verified),
        }))
    }

    /// Ends a fresh delivery once its handler ran, through the core's `Receiver::finish` (completes when
    /// `handled`, releases otherwise): `[kind, httpStatus, claimLost, unreleasedWarning]` of the core's `Outcome`; a completion the store
    /// could not record is thrown as its error (`store_unavailable`).
    pub fn finish(&self, delivery: &mut Delivery, handled: bool, now_ms: f64) -> Result<Array, JsValue> {
        let now_ms = instant("now", now_ms)?;
        let State::Claimed(claimed) = std::mem::replace(&mut delivery.state, State::Finished) else {
            return Err(usage_error("internal: this delivery holds no claim"));
        };
        let result = if handled { Ok(()) } else { Err(()) };
        match self.inner.finish(claimed, result, now_ms) {
            Outcome::Rejected(error) => Err(js_error(&error)),
            outcome => Ok(outcome_pair(&outcome)),
        }
    }
}

// ---------------------------------------------------------------------------------------------------
// Signing (tests, local tools).

/// Signs `body` at `timestamp` (unix seconds); returns the headers as `[name, value, name, value, ...]`.
#[wasm_bindgen]
pub fn sign(
    secrets: Vec<String>,
    body: &[u8],
    timestamp: f64,
    scheme_name: Option<String>,
    id: Option<String>,
    event_type: Option<String>,
) -> Result<Vec<String>, JsValue> {
    let signer =
        scheme(scheme_name).and_then(|scheme| Signer::new(scheme, &secrets).map_err(|e| js_error(&e)));
    wipe(secrets);
    let signer = signer?;
    let options = SignOptions { id: id.as_deref(), event_type: event_type.as_deref() };
    let headers = signer.sign(body, instant("timestamp", timestamp)?, options).map_err(|e| js_error(&e))?;
    Ok(headers.iter().flat_map(|(name, value)| [name.to_owned(), value.to_owned()]).collect())
}
