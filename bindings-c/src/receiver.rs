//! `anchor_memory_store` and `anchor_receiver`: verification plus claim / complete / release dedupe.

use std::sync::Arc;
use std::time::Duration;

use anchor_webhooks::{
    claim_lost_warning, unrecorded, unreleased, DedupeStore, MemoryStore, Receiver, Reception, SettingError,
    DEFAULT_DONE_TTL, DEFAULT_LEASE, DEFAULT_MAX_ENTRIES,
};

use crate::event::{anchor_event, Held, Settled};
use crate::ffi::{self, anchor_header, Failure};
use crate::last_error::LastError;
use crate::redis::anchor_redis_store;
use crate::result::anchor_result;
use crate::verifier::{anchor_verifier, last_error_into};

/// The default largest number of ids an `anchor_memory_store` holds.
pub const ANCHOR_DEFAULT_MAX_ENTRIES: usize = 100_000;
/// The default time a completed id is remembered, in seconds (24 h).
pub const ANCHOR_DEFAULT_DONE_TTL_SECONDS: u64 = 86_400;
/// The default lease of a claim, in milliseconds (30 s).
pub const ANCHOR_DEFAULT_LEASE_MS: u64 = 30_000;
/// Seconds to put in `Retry-After` when answering 503 to an in-progress delivery.
pub const ANCHOR_IN_PROGRESS_RETRY_AFTER_SECONDS: u64 = 5;

// The header needs literals (cbindgen does not evaluate other crates' constants); these keep them equal
// to the core's, at compile time.
const _: () = assert!(ANCHOR_DEFAULT_MAX_ENTRIES == DEFAULT_MAX_ENTRIES);
const _: () = assert!(ANCHOR_DEFAULT_DONE_TTL_SECONDS == DEFAULT_DONE_TTL.as_secs());
const _: () = assert!(ANCHOR_DEFAULT_LEASE_MS as u128 == DEFAULT_LEASE.as_millis());
const _: () =
    assert!(ANCHOR_IN_PROGRESS_RETRY_AFTER_SECONDS == anchor_webhooks::IN_PROGRESS_RETRY_AFTER_SECONDS);

/// An in-process dedupe store: thread-safe, bounded, with a TTL for completed ids. When it is full, a
/// new claim makes room by forgetting the oldest completed id; a store full of claims in progress refuses
/// new ones with `ANCHOR_RESULT_STORE_UNAVAILABLE` (answer 503). Receivers share it: freeing the store handle while receivers still use
/// it is fine (they keep it alive).
pub struct anchor_memory_store {
    store: Arc<MemoryStore>,
}

/// Verification plus dedupe by event id, over a verifier (copied) and a memory or Redis store (shared).
/// Thread-safe: share it between threads.
pub struct anchor_receiver {
    inner: Receiver<Arc<dyn DedupeStore>>,
    owner: ClaimOwner,
    last_error: LastError,
}

/// The identity of one `anchor_receiver`, recorded in the events it claims. An allocation of its own
/// (not the handle's address, which a later receiver could reuse once this one is freed): every event
/// holding a clone keeps it alive, so two live identities never compare equal.
#[derive(Clone, Debug, Default)]
pub(crate) struct ClaimOwner(Arc<()>);

impl ClaimOwner {
    pub(crate) fn is(&self, other: &ClaimOwner) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

/// What `anchor_receiver_receive` found.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum anchor_reception {
    /// New: this worker holds the claim. Run the handler, then `anchor_receiver_complete` (success) or
    /// `anchor_receiver_release` (failure, so the sender's retry is processed).
    Fresh = 1,
    /// Already processed: answer 200 and do not run the handler.
    Duplicate = 2,
    /// Another worker holds a live claim: answer 503 with `Retry-After` so the sender retries.
    InProgress = 3,
}

/// A memory store holding at most `max_entries` ids (`ANCHOR_DEFAULT_MAX_ENTRIES`; at least 1: a store
/// with room for no id would answer every delivery 503), remembering completed ids for `done_ttl_seconds`
/// (`ANCHOR_DEFAULT_DONE_TTL_SECONDS`; at least 1: 0 would forget a completed id at once, so a retry would
/// run the handler again). Either refused is `ANCHOR_RESULT_INVALID_ARGUMENT`, and `anchor_last_error`
/// says why.
#[no_mangle]
pub unsafe extern "C" fn anchor_memory_store_new(
    max_entries: usize,
    done_ttl_seconds: u64,
    store_out: *mut *mut anchor_memory_store,
) -> anchor_result {
    ffi::guard(None, || {
        // SAFETY: the header's pointer contract.
        let out = unsafe { ffi::output(store_out, "store_out") }?;
        let ttl = Duration::from_secs(done_ttl_seconds);
        let store = MemoryStore::new(max_entries, ttl).map_err(|e| {
            invalid_setting(if e.setting().is_none() { "max_entries" } else { "done_ttl_seconds" }, e)
        })?;
        out.write(ffi::into_handle(anchor_memory_store { store: Arc::new(store) }));
        Ok(())
    })
}

/// A setting the core refuses (a duration, or `max_entries`), named as the C parameter.
fn invalid_setting(parameter: &str, error: SettingError) -> Failure {
    Failure::invalid(format!("invalid_argument: {parameter} {error}"))
}

/// How many ids the store holds (live, or expired and not yet evicted).
#[no_mangle]
pub unsafe extern "C" fn anchor_memory_store_len(
    store: *const anchor_memory_store,
    len_out: *mut usize,
) -> anchor_result {
    ffi::guard(None, || {
        // SAFETY: the header's pointer contract.
        let (store, out) =
            unsafe { (ffi::require(ffi::handle(store), "store")?, ffi::output(len_out, "len_out")?) };
        out.write(store.store.len());
        Ok(())
    })
}

/// Releases this handle on the store. NULL is a no-op. Receivers made from it keep the store alive.
#[no_mangle]
pub unsafe extern "C" fn anchor_memory_store_free(store: *mut anchor_memory_store) {
    // SAFETY: the header's pointer contract.
    ffi::guard_void(|| unsafe { ffi::free_handle(store) })
}

/// A receiver over a copy of `verifier` (free the verifier whenever you like) and `store` (shared),
/// claiming ids for `lease_ms` milliseconds (`ANCHOR_DEFAULT_LEASE_MS`; at least 1000: a shorter claim expires
/// under a running handler and lets a retry run it a second time: `ANCHOR_RESULT_INVALID_ARGUMENT`, and
/// `anchor_last_error` says why).
#[no_mangle]
pub unsafe extern "C" fn anchor_receiver_new(
    verifier: *const anchor_verifier,
    store: *const anchor_memory_store,
    lease_ms: u64,
    receiver_out: *mut *mut anchor_receiver,
) -> anchor_result {
    // SAFETY: the header's pointer contract.
    unsafe { new_receiver(verifier, store, lease_ms, receiver_out) }
}

/// As `anchor_receiver_new`, over a Redis store (shared by every process and replica using the same server
/// and key prefix). Its calls that reach the store (`anchor_receiver_receive` of a verified delivery,
/// `anchor_receiver_complete`, `anchor_receiver_release`) block for at most about the store's timeout, and
/// a store that fails is `ANCHOR_RESULT_STORE_UNAVAILABLE` (answer 503).
#[no_mangle]
pub unsafe extern "C" fn anchor_receiver_new_redis(
    verifier: *const anchor_verifier,
    store: *const anchor_redis_store,
    lease_ms: u64,
    receiver_out: *mut *mut anchor_receiver,
) -> anchor_result {
    // SAFETY: the header's pointer contract.
    unsafe { new_receiver(verifier, store, lease_ms, receiver_out) }
}

/// A store handle a receiver can be made over.
pub(crate) trait StoreHandle {
    /// The store itself, shared with the receiver.
    fn shared(&self) -> Arc<dyn DedupeStore>;
}

impl StoreHandle for anchor_memory_store {
    fn shared(&self) -> Arc<dyn DedupeStore> {
        self.store.clone()
    }
}

impl StoreHandle for anchor_redis_store {
    fn shared(&self) -> Arc<dyn DedupeStore> {
        self.store.clone()
    }
}

/// # Safety
/// The header's pointer contract.
unsafe fn new_receiver<S: StoreHandle>(
    verifier: *const anchor_verifier,
    store: *const S,
    lease_ms: u64,
    receiver_out: *mut *mut anchor_receiver,
) -> anchor_result {
    ffi::guard(None, || {
        // SAFETY: the caller's contract.
        let (verifier, store, out) = unsafe {
            (
                ffi::require(ffi::handle(verifier), "verifier")?,
                ffi::require(ffi::handle(store), "store")?.shared(),
                ffi::output(receiver_out, "receiver_out")?,
            )
        };
        let inner = Receiver::new(verifier.inner.clone(), store)
            .with_lease(Duration::from_millis(lease_ms))
            .map_err(|e| invalid_setting("lease_ms", e))?;
        out.write(ffi::into_handle(anchor_receiver {
            inner,
            owner: ClaimOwner::default(),
            last_error: LastError::default(),
        }));
        Ok(())
    })
}

/// Verifies a delivery, then claims its event id. `now_ms` is the receiver's clock in unix milliseconds
/// (`anchor_now_unix_ms()` for the host's). On success `*reception_out` says what to do and `*event_out`
/// is the verified event (free it with `anchor_event_free`; for `ANCHOR_RECEPTION_FRESH` it holds the
/// claim: complete or release it first). A delivery that fails verification never touches the store.
#[no_mangle]
pub unsafe extern "C" fn anchor_receiver_receive(
    receiver: *const anchor_receiver,
    headers: *const anchor_header,
    headers_len: usize,
    body: *const u8,
    body_len: usize,
    now_ms: u64,
    reception_out: *mut anchor_reception,
    event_out: *mut *mut anchor_event,
) -> anchor_result {
    // SAFETY: the header's pointer contract.
    let receiver = unsafe { ffi::handle(receiver) };
    ffi::guard(receiver.map(|r| &r.last_error), || {
        let receiver = ffi::require(receiver, "receiver")?;
        // SAFETY: the header's pointer contract.
        let (reception_out, event_out, body) = unsafe {
            (
                ffi::output(reception_out, "reception_out")?,
                ffi::output(event_out, "event_out")?,
                ffi::slice(body, body_len, "body")?,
            )
        };
        // SAFETY: the header's pointer contract.
        let reception =
            unsafe { ffi::with_headers(headers, headers_len, |h| receiver.inner.receive(h, body, now_ms)) }??;
        let (kind, held) = match reception {
            Reception::Fresh(claimed) => {
                (anchor_reception::Fresh, Held::Claimed(claimed, receiver.owner.clone()))
            }
            Reception::Duplicate(verified) => (anchor_reception::Duplicate, Held::Verified(verified)),
            Reception::InProgress(verified) => (anchor_reception::InProgress, Held::Verified(verified)),
        };
        reception_out.write(kind);
        event_out.write(ffi::into_handle(anchor_event::new(held)));
        Ok(())
    })
}

/// Marks the claimed event done (after the handler succeeded): retries of it are then duplicates.
/// `*completed_out` is false when the claim had been lost meanwhile (its lease expired and another
/// worker took it over, which may have run the handler too); the result is still `ANCHOR_RESULT_OK`, and
/// `anchor_receiver_last_error` then holds the warning to log, the same text in every language
/// (`anchor-webhooks: claim lost: the handler of event ... outlasted its 30 s lease ...`).
/// `event` must come from this receiver's `anchor_receiver_receive` with `ANCHOR_RECEPTION_FRESH`: any
/// other event (one holding no claim, or claimed through another receiver, even one sharing the store) is
/// `ANCHOR_RESULT_INVALID_ARGUMENT`, and its claim is left as it was. A claim is settled once: completing
/// or releasing an event already completed or released (a caller bug, not a lost claim) is
/// `ANCHOR_RESULT_INVALID_ARGUMENT` too, with a message saying so. A store that fails (Redis down or
/// hung) is `ANCHOR_RESULT_STORE_UNAVAILABLE`, with a message saying the handler ran but recording it as
/// done failed; the claim stays open, so the call may be made again (one whose first try did reach the
/// store is its own completion). Left so, the claim ends with its lease and a redelivery after that runs
/// the handler again: answer 503 so the sender retries (at least once, never lost).
#[no_mangle]
pub unsafe extern "C" fn anchor_receiver_complete(
    receiver: *const anchor_receiver,
    event: *const anchor_event,
    now_ms: u64,
    completed_out: *mut bool,
) -> anchor_result {
    // SAFETY: the header's pointer contract.
    unsafe { settle(receiver, event, now_ms, completed_out, Settle::Complete) }
}

/// Frees the claimed event after a handler failure, so the sender's retry is processed.
/// `*released_out` is false when the claim had been lost meanwhile. `event` must come from this
/// receiver and be settled once, as for `anchor_receiver_complete` (otherwise
/// `ANCHOR_RESULT_INVALID_ARGUMENT`). A store that fails is `ANCHOR_RESULT_STORE_UNAVAILABLE`, with a
/// message naming the event ("the claim on event ... was not released ..."): the claim stays open (the call
/// may be made again), else it ends with its lease, and retries meanwhile are answered
/// `ANCHOR_RECEPTION_IN_PROGRESS`.
#[no_mangle]
pub unsafe extern "C" fn anchor_receiver_release(
    receiver: *const anchor_receiver,
    event: *const anchor_event,
    now_ms: u64,
    released_out: *mut bool,
) -> anchor_result {
    // SAFETY: the header's pointer contract.
    unsafe { settle(receiver, event, now_ms, released_out, Settle::Release) }
}

enum Settle {
    Complete,
    Release,
}

/// # Safety
/// The header's pointer contract.
unsafe fn settle(
    receiver: *const anchor_receiver,
    event: *const anchor_event,
    now_ms: u64,
    done_out: *mut bool,
    settle: Settle,
) -> anchor_result {
    // SAFETY: the header's pointer contract.
    let receiver = unsafe { ffi::handle(receiver) };
    ffi::guard(receiver.map(|r| &r.last_error), || {
        let receiver = ffi::require(receiver, "receiver")?;
        // SAFETY: the header's pointer contract.
        let (event, out) =
            unsafe { (ffi::require(ffi::handle(event), "event")?, ffi::output(done_out, "out")?) };
        let claimed = event.claimed_by(&receiver.owner)?;
        let done = match settle {
            Settle::Complete => {
                let completed = event.settle_once(claimed, Settled::Completed, || {
                    let event_id = claimed.verified.event.id();
                    Ok(receiver.inner.complete(claimed, now_ms).map_err(|e| unrecorded(event_id, e))?)
                })?;
                if !completed {
                    // A success, but one the caller should log: the same words as every other language.
                    let event_id = claimed.verified.event.id();
                    receiver.last_error.record(&claim_lost_warning(event_id, receiver.inner.lease()));
                }
                completed
            }
            Settle::Release => event.settle_once(claimed, Settled::Released, || {
                let event_id = claimed.verified.event.id();
                Ok(receiver.inner.release(claimed, now_ms).map_err(|e| unreleased(event_id, e))?)
            })?,
        };
        out.write(done);
        Ok(())
    })
}

/// Copies this thread's last error message on `receiver` into `buf` (see `anchor_verifier_last_error`).
#[no_mangle]
pub unsafe extern "C" fn anchor_receiver_last_error(
    receiver: *const anchor_receiver,
    buf: *mut u8,
    len: usize,
    written: *mut usize,
) -> anchor_result {
    // SAFETY: the header's pointer contract.
    let receiver = unsafe { ffi::handle(receiver) };
    // SAFETY: the header's pointer contract.
    unsafe { last_error_into(receiver.map(|r| &r.last_error), "receiver", buf, len, written) }
}

/// Frees a receiver. NULL is a no-op. No call may be using it.
#[no_mangle]
pub unsafe extern "C" fn anchor_receiver_free(receiver: *mut anchor_receiver) {
    // SAFETY: the header's pointer contract.
    ffi::guard_void(|| unsafe { ffi::free_handle(receiver) })
}
