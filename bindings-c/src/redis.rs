//! `anchor_redis_store` (and its builder): the core's Redis dedupe store, shared by every process and
//! replica of a receiver.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use anchor_webhooks::{
    unrecorded, unreleased, RedisCheckError, RedisCheckErrorKind, RedisOptions, RedisStore,
};
use zeroize::Zeroizing;

use crate::event::anchor_event;
use crate::ffi::{self, Failure};
use crate::last_error::LastError;
use crate::result::anchor_result;
use crate::verifier::last_error_into;

/// The default deadline of every connect and command of a Redis store, in milliseconds (1 s).
pub const ANCHOR_DEFAULT_REDIS_TIMEOUT_MS: u64 = 1_000;
/// The default number of connections a Redis store keeps open for reuse.
pub const ANCHOR_DEFAULT_REDIS_MAX_IDLE_CONNECTIONS: usize = 16;

/// Collects the URL and options of a Redis store; `anchor_redis_store_builder_build` makes the store. The URL
/// (which may hold a password) is zeroed when the builder is freed.
pub struct anchor_redis_store_builder {
    state: Mutex<RedisBuilderState>,
    last_error: LastError,
}

struct RedisBuilderState {
    url: Zeroizing<String>,
    options: RedisOptions,
}

impl anchor_redis_store_builder {
    fn state(&self) -> MutexGuard<'_, RedisBuilderState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The Redis dedupe store (Redis 7.0 or later): every process and replica of a receiver that uses the
/// same server and key prefix sees which events are claimed and which are done, and completed ids
/// survive a restart. Thread-safe: share it between threads and receivers. Its calls block the calling
/// thread for at most the timeout; a failure is `ANCHOR_RESULT_STORE_UNAVAILABLE` (answer 503 so the
/// sender retries), never a fresh claim. A broken connection is dropped, so the store reconnects by
/// itself when the server is back. A process forked after the store was used opens connections of its
/// own. Free it with `anchor_redis_store_free`.
pub struct anchor_redis_store {
    pub(crate) store: Arc<RedisStore>,
    last_error: LastError,
}

/// The text of a builder parameter: UTF-8, else `ANCHOR_RESULT_INVALID_ARGUMENT` naming it.
///
/// # Safety
/// As for `ffi::slice`.
unsafe fn utf8_parameter(data: *const u8, len: usize, parameter: &'static str) -> Result<String, Failure> {
    // SAFETY: the caller's contract.
    let bytes = unsafe { ffi::slice(data, len, parameter) }?;
    std::str::from_utf8(bytes)
        .map(str::to_owned)
        .map_err(|_| Failure::invalid(format!("invalid_argument: `{parameter}` is not valid UTF-8")))
}

/// Starts a Redis store for `url`: `redis://[[username]:password@]host[:port][/db]`, or `rediss://` for
/// TLS (checked against the public web roots unless `anchor_redis_store_builder_set_tls_root_certificates`
/// says otherwise). The URL is read by `anchor_redis_store_builder_build`, which refuses a malformed one. Free
/// the builder with `anchor_redis_store_builder_free` (also after building).
#[no_mangle]
pub unsafe extern "C" fn anchor_redis_store_builder_new(
    url: *const u8,
    url_len: usize,
    builder_out: *mut *mut anchor_redis_store_builder,
) -> anchor_result {
    ffi::guard(None, || {
        // SAFETY: the header's pointer contract.
        let (url, out) =
            unsafe { (utf8_parameter(url, url_len, "url")?, ffi::output(builder_out, "builder_out")?) };
        let state = RedisBuilderState { url: Zeroizing::new(url), options: RedisOptions::default() };
        out.write(ffi::into_handle(anchor_redis_store_builder {
            state: Mutex::new(state),
            last_error: LastError::default(),
        }));
        Ok(())
    })
}

/// Runs a setter on the builder's state; its failures are the builder's last error.
fn set(
    builder: Option<&anchor_redis_store_builder>,
    apply: impl FnOnce(&mut RedisBuilderState) -> ffi::Outcome,
) -> anchor_result {
    ffi::guard(builder.map(|b| &b.last_error), || apply(&mut ffi::require(builder, "builder")?.state()))
}

/// Sets the namespace of the store's keys, `{prefix}:{hex SHA-256 of the event id}` (UTF-8; default
/// `anchor-webhooks:dedupe`). Give each endpoint (webhook subscription) a prefix of its own when several
/// share one server: an event keeps its id across webhooks, so two endpoints sharing a prefix would
/// answer the second one's copy "duplicate".
#[no_mangle]
pub unsafe extern "C" fn anchor_redis_store_builder_set_key_prefix(
    builder: *mut anchor_redis_store_builder,
    prefix: *const u8,
    prefix_len: usize,
) -> anchor_result {
    // SAFETY: the header's pointer contract.
    set(unsafe { ffi::handle(builder) }, |state| {
        // SAFETY: the header's pointer contract.
        state.options.key_prefix = unsafe { utf8_parameter(prefix, prefix_len, "prefix") }?;
        Ok(())
    })
}

/// Sets how long a completed id is remembered, in seconds (`ANCHOR_DEFAULT_DONE_TTL_SECONDS`, 24 h; at
/// least 1, checked by `anchor_redis_store_builder_build`).
#[no_mangle]
pub unsafe extern "C" fn anchor_redis_store_builder_set_done_ttl_seconds(
    builder: *mut anchor_redis_store_builder,
    seconds: u64,
) -> anchor_result {
    // SAFETY: the header's pointer contract.
    set(unsafe { ffi::handle(builder) }, |state| {
        state.options.done_ttl = Duration::from_secs(seconds);
        Ok(())
    })
}

/// Sets the deadline of every connect and every command, in milliseconds
/// (`ANCHOR_DEFAULT_REDIS_TIMEOUT_MS`, 1 s; at least 1, checked by `anchor_redis_store_builder_build`). A call
/// into a receiver blocks for at most about this long on the store.
#[no_mangle]
pub unsafe extern "C" fn anchor_redis_store_builder_set_timeout_ms(
    builder: *mut anchor_redis_store_builder,
    milliseconds: u64,
) -> anchor_result {
    // SAFETY: the header's pointer contract.
    set(unsafe { ffi::handle(builder) }, |state| {
        state.options.timeout = Duration::from_millis(milliseconds);
        Ok(())
    })
}

/// Sets how many connections the store keeps open for reuse (`ANCHOR_DEFAULT_REDIS_MAX_IDLE_CONNECTIONS`;
/// 0 opens one per call). More threads than this calling at once open extra connections, closed after use.
#[no_mangle]
pub unsafe extern "C" fn anchor_redis_store_builder_set_max_idle_connections(
    builder: *mut anchor_redis_store_builder,
    connections: usize,
) -> anchor_result {
    // SAFETY: the header's pointer contract.
    set(unsafe { ffi::handle(builder) }, |state| {
        state.options.max_idle_connections = connections;
        Ok(())
    })
}

/// For a `rediss://` URL: trusts the certificate authorities in `pem` (PEM text with at least one
/// `CERTIFICATE` block) instead of the public web roots, for a server with a private CA. Checked by
/// `anchor_redis_store_builder_build` (which refuses them with a plain `redis://` URL).
#[no_mangle]
pub unsafe extern "C" fn anchor_redis_store_builder_set_tls_root_certificates(
    builder: *mut anchor_redis_store_builder,
    pem: *const u8,
    pem_len: usize,
) -> anchor_result {
    // SAFETY: the header's pointer contract.
    set(unsafe { ffi::handle(builder) }, |state| {
        // SAFETY: the header's pointer contract.
        state.options.tls_root_certificates = Some(unsafe { ffi::slice(pem, pem_len, "pem") }?.to_vec());
        Ok(())
    })
}

/// The C setter of each option the core may refuse, for the message.
fn setter_of(option: &str) -> &'static str {
    match option {
        "done_ttl" => "anchor_redis_store_builder_set_done_ttl_seconds",
        "timeout" => "anchor_redis_store_builder_set_timeout_ms",
        "tls_root_certificates" => "anchor_redis_store_builder_set_tls_root_certificates",
        _ => "anchor_redis_store_builder_new (url)",
    }
}

/// Builds the store (the builder is left as it was). Only reads the URL and the options: the server may
/// be down now and come up later, so call `anchor_redis_store_check` at start-up. A malformed URL (or
/// one ending in `#insecure`: trust a private CA with the TLS root certificates instead), a TTL or a
/// timeout of 0, or TLS roots that are not PEM or come with `redis://`, is
/// `ANCHOR_RESULT_INVALID_ARGUMENT`; `anchor_redis_store_builder_last_error` names the setting (never
/// the URL, which may hold a password).
#[no_mangle]
pub unsafe extern "C" fn anchor_redis_store_builder_build(
    builder: *const anchor_redis_store_builder,
    store_out: *mut *mut anchor_redis_store,
) -> anchor_result {
    // SAFETY: the header's pointer contract.
    let builder = unsafe { ffi::handle(builder) };
    ffi::guard(builder.map(|b| &b.last_error), || {
        let state = ffi::require(builder, "builder")?.state();
        // SAFETY: the header's pointer contract.
        let out = unsafe { ffi::output(store_out, "store_out") }?;
        let store = RedisStore::with_options(&state.url, state.options.clone()).map_err(|error| {
            Failure::invalid(format!("invalid_argument: {}: {error}", setter_of(error.option())))
        })?;
        out.write(ffi::into_handle(anchor_redis_store {
            store: Arc::new(store),
            last_error: LastError::default(),
        }));
        Ok(())
    })
}

/// Copies this thread's last error message on `builder` into `buf` (see `anchor_verifier_last_error`).
#[no_mangle]
pub unsafe extern "C" fn anchor_redis_store_builder_last_error(
    builder: *const anchor_redis_store_builder,
    buf: *mut u8,
    len: usize,
    written: *mut usize,
) -> anchor_result {
    // SAFETY: the header's pointer contract.
    let builder = unsafe { ffi::handle(builder) };
    // SAFETY: the header's pointer contract.
    unsafe { last_error_into(builder.map(|b| &b.last_error), "builder", buf, len, written) }
}

/// Frees a builder and zeroes the URL it holds. NULL is a no-op.
#[no_mangle]
pub unsafe extern "C" fn anchor_redis_store_builder_free(builder: *mut anchor_redis_store_builder) {
    // SAFETY: the header's pointer contract.
    ffi::guard_void(|| unsafe { ffi::free_handle(builder) })
}

/// Asks the server whether this store can work, running each of its commands once on a probe key no event
/// id can produce (within about the timeout). Call it at start-up:
/// - `ANCHOR_RESULT_OK`: it works;
/// - `ANCHOR_RESULT_STORE_MISCONFIGURED`: the server answered, and this setup can never work until it is
///   changed (a wrong password or user, a missing ACL right, a DB index out of range, a server older
///   than Redis 7.0, an untrusted TLS certificate, TLS against a plain-text port): refuse to start;
/// - `ANCHOR_RESULT_STORE_UNAVAILABLE`: the server is down, starting, hung or out of reach: it may come
///   back, and until then each delivery is answered 503 (the sender retries). A service may start anyway.
///
/// `anchor_redis_store_last_error` then gives the reason (never the URL or the password).
#[no_mangle]
pub unsafe extern "C" fn anchor_redis_store_check(store: *const anchor_redis_store) -> anchor_result {
    // SAFETY: the header's pointer contract.
    let store = unsafe { ffi::handle(store) };
    ffi::guard(store.map(|s| &s.last_error), || {
        ffi::require(store, "store")?.store.check().map_err(check_failure)
    })
}

/// Refuses 0 blocked calls: the busy messages describe calls not sent because others were blocked.
fn blocked(calls: usize) -> Result<(), Failure> {
    match calls {
        0 => Err(Failure::invalid("invalid_argument: `calls` is 0: no call was blocked")),
        _ => Ok(()),
    }
}

/// A failed check as `anchor_redis_store_check` reports it: its code, and its reason after the code's name.
fn check_failure(error: RedisCheckError) -> Failure {
    let code = match error.kind() {
        RedisCheckErrorKind::Misconfigured => anchor_result::StoreMisconfigured,
        _ => anchor_result::StoreUnavailable,
    };
    Failure::new(code, format!("{}: {error}", code.name()))
}

/// `anchor_redis_store_busy_message` for an `anchor_redis_store_check` that was not sent because `calls`
/// calls were already blocked on the store: the message the check leaves when it fails, for
/// `ANCHOR_RESULT_STORE_UNAVAILABLE` ("store_unavailable: redis: all 64 threads calling Redis were busy
/// ..."; the server may be only slow). `calls` must be at least 1, else `ANCHOR_RESULT_INVALID_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn anchor_redis_store_busy_check_message(
    store: *const anchor_redis_store,
    calls: usize,
    buf: *mut u8,
    len: usize,
    written: *mut usize,
) -> anchor_result {
    // SAFETY: the header's pointer contract.
    unsafe {
        busy_text(store, buf, len, written, |store| {
            blocked(calls)?;
            Ok(check_failure(store.threads_busy_check(calls)).message.into_owned())
        })
    }
}

/// The body of the busy-message functions: `message` of the store (a `Failure` to refuse), written into
/// `buf` as `anchor_result_message` writes.
///
/// # Safety
/// The header's pointer contract for `store`, `buf`, `len` and `written`.
unsafe fn busy_text(
    store: *const anchor_redis_store,
    buf: *mut u8,
    len: usize,
    written: *mut usize,
    message: impl FnOnce(&RedisStore) -> Result<String, Failure>,
) -> anchor_result {
    // SAFETY: the caller's contract.
    let store = unsafe { ffi::handle(store) };
    ffi::guard(store.map(|s| &s.last_error), || {
        let message = message(&ffi::require(store, "store")?.store)?;
        // SAFETY: the caller's contract.
        unsafe { ffi::write_text(message.as_bytes(), buf, len, written) }
    })
}

/// For hosts that bound how many calls block on the store at once (the Go binding does: a hung Redis
/// would otherwise hold one thread per waiting delivery): writes into `buf` (as `anchor_result_message`
/// does) the message of a delivery that was not sent to the store because `calls` calls were already
/// blocked on it for longer than its timeout, the core's `store_unavailable` text, the same in every
/// language. Answer such a delivery 503 (after verifying it: a forgery is still 401).
#[no_mangle]
pub unsafe extern "C" fn anchor_redis_store_busy_message(
    store: *const anchor_redis_store,
    calls: usize,
    buf: *mut u8,
    len: usize,
    written: *mut usize,
) -> anchor_result {
    // SAFETY: the header's pointer contract.
    unsafe { busy_text(store, buf, len, written, |store| Ok(store.threads_busy(calls).to_string())) }
}

/// `anchor_redis_store_busy_message` for the complete (`complete` true) or the release of `event` (an
/// event a receiver on this store claimed, whose handler ran) that was not sent because `calls` calls were
/// already blocked on the store: the text `anchor_receiver_complete` or `_release` gives when the store
/// fails ("the handler of event ... ran, but recording it as done failed (...)", "the claim on event ...
/// was not released ..."), the same in every language. Either way the claim ends with its lease: after a
/// complete not sent, a redelivery runs the handler again. The event is not settled by this call. `event` must
/// hold an open claim (a fresh reception's, not yet completed or released) and `calls` be at least 1, else
/// `ANCHOR_RESULT_INVALID_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn anchor_redis_store_busy_settle_message(
    store: *const anchor_redis_store,
    event: *const anchor_event,
    calls: usize,
    complete: bool,
    buf: *mut u8,
    len: usize,
    written: *mut usize,
) -> anchor_result {
    // SAFETY: the header's pointer contract.
    let (store, event) = unsafe { (ffi::handle(store), ffi::handle(event)) };
    ffi::guard(store.map(|s| &s.last_error), || {
        let store = ffi::require(store, "store")?;
        let event_id = ffi::require(event, "event")?.open_claim_id()?;
        blocked(calls)?;
        let busy = store.store.threads_busy(calls);
        let told = if complete { unrecorded(event_id, busy) } else { unreleased(event_id, busy) };
        // SAFETY: the header's pointer contract.
        unsafe { ffi::write_text(told.to_string().as_bytes(), buf, len, written) }
    })
}

/// Copies this thread's last error message on `store` into `buf` (see `anchor_verifier_last_error`).
#[no_mangle]
pub unsafe extern "C" fn anchor_redis_store_last_error(
    store: *const anchor_redis_store,
    buf: *mut u8,
    len: usize,
    written: *mut usize,
) -> anchor_result {
    // SAFETY: the header's pointer contract.
    let store = unsafe { ffi::handle(store) };
    // SAFETY: the header's pointer contract.
    unsafe { last_error_into(store.map(|s| &s.last_error), "store", buf, len, written) }
}

/// Releases this handle on the store (its idle connections close when the last receiver using it is
/// freed too). NULL is a no-op.
#[no_mangle]
pub unsafe extern "C" fn anchor_redis_store_free(store: *mut anchor_redis_store) {
    // SAFETY: the header's pointer contract.
    ffi::guard_void(|| unsafe { ffi::free_handle(store) })
}

#[cfg(test)]
mod tests {
    /// The header needs literals; this keeps them equal to the core's defaults (`RedisOptions::default()`
    /// is not a `const fn`, so no compile-time assertion can).
    #[test]
    fn the_header_literals_are_the_core_defaults() {
        let core = anchor_webhooks::RedisOptions::default();
        assert_eq!(super::ANCHOR_DEFAULT_REDIS_TIMEOUT_MS as u128, core.timeout.as_millis());
        assert_eq!(super::ANCHOR_DEFAULT_REDIS_MAX_IDLE_CONNECTIONS, core.max_idle_connections);
        assert_eq!(crate::ANCHOR_DEFAULT_DONE_TTL_SECONDS, core.done_ttl.as_secs());
        assert_eq!(core.key_prefix, "anchor-webhooks:dedupe");
    }
}
