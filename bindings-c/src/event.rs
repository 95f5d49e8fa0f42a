//! `anchor_event`: a verified event and its borrowed views.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::OnceLock;

use anchor_webhooks::time::format_description::well_known::Rfc3339;
use anchor_webhooks::{Claimed, Event, Verified};

use crate::ffi::{self, anchor_bytes, Failure};
use crate::receiver::ClaimOwner;
use crate::result::anchor_result;

/// A verified event, from `anchor_verifier_verify` or `anchor_receiver_receive`. Every accessor returns
/// a view into the event's own memory, valid until `anchor_event_free`. Read-only: any number of threads
/// may read one event at once.
pub struct anchor_event {
    held: Held,
    /// `created` as RFC 3339 text, formatted on first use.
    created_text: OnceLock<Option<String>>,
    /// Whether its claim was settled already (a [`Settled`] as `u8`): a second complete / release is a caller
    /// bug, refused rather than reported as a lost claim.
    settled: AtomicU8,
}

/// What became of the claim an event holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Settled {
    Open = 0,
    Completed = 1,
    Released = 2,
}

/// A receiver's fresh event carries its claim, for `anchor_receiver_complete` / `_release`, and which
/// receiver took it: only that one may settle it.
pub(crate) enum Held {
    Verified(Verified),
    Claimed(Claimed, ClaimOwner),
}

impl anchor_event {
    pub(crate) fn verified(verified: Verified) -> anchor_event {
        anchor_event::new(Held::Verified(verified))
    }

    pub(crate) fn new(held: Held) -> anchor_event {
        anchor_event { held, created_text: OnceLock::new(), settled: AtomicU8::new(Settled::Open as u8) }
    }

    fn verified_ref(&self) -> &Verified {
        match &self.held {
            Held::Verified(verified) => verified,
            Held::Claimed(claimed, _) => &claimed.verified,
        }
    }

    pub(crate) fn event(&self) -> &Event {
        &self.verified_ref().event
    }

    /// The claim, when `receiver` took it.
    pub(crate) fn claimed_by(&self, receiver: &ClaimOwner) -> Result<&Claimed, Failure> {
        match &self.held {
            Held::Claimed(claimed, owner) if owner.is(receiver) => Ok(claimed),
            // Settling it through another receiver (whose store may not even hold the id) would answer
            // "claim lost" while the real claim stays held until its lease ends.
            Held::Claimed(..) => Err(Failure::invalid(
                "invalid_argument: this event was claimed by another receiver: complete or release it with \
                 the anchor_receiver whose anchor_receiver_receive returned it",
            )),
            Held::Verified(_) => Err(Failure::invalid(
                "invalid_argument: this event holds no claim: only the event of a fresh reception \
                 (ANCHOR_RECEPTION_FRESH) can be completed or released",
            )),
        }
    }

    /// The id of the event whose claim is still open (taken by any receiver, settled by none yet): what a
    /// message about a settle not sent may name.
    pub(crate) fn open_claim_id(&self) -> Result<&str, Failure> {
        match &self.held {
            Held::Claimed(claimed, _) if self.settled.load(Ordering::Acquire) == Settled::Open as u8 => {
                Ok(claimed.verified.event.id())
            }
            Held::Claimed(..) => Err(Failure::invalid(
                "invalid_argument: this event's claim was already completed or released",
            )),
            Held::Verified(_) => Err(Failure::invalid(
                "invalid_argument: this event holds no claim: only the event of a fresh reception \
                 (ANCHOR_RECEPTION_FRESH) has one to complete or release",
            )),
        }
    }

    /// Marks the claim settled as `how` (completed or released) and runs `settle` on it, once: a call after
    /// the claim was settled (or while another thread settles it) is refused, so that a double settle says
    /// what it is instead of "claim lost ... choose a longer lease". A failed `settle` (the store could not
    /// record it, or it panicked) leaves the claim open, to be settled again.
    pub(crate) fn settle_once<T>(
        &self,
        claimed: &Claimed,
        how: Settled,
        settle: impl FnOnce() -> Result<T, Failure>,
    ) -> Result<T, Failure> {
        let open = Settled::Open as u8;
        if let Err(before) =
            self.settled.compare_exchange(open, how as u8, Ordering::AcqRel, Ordering::Acquire)
        {
            let done = if before == Settled::Released as u8 { "released" } else { "completed" };
            return Err(Failure::invalid(format!(
                "invalid_argument: the claim of event {} was already {done}: settle a claim once \
                 (anchor_receiver_complete after success or anchor_receiver_release after failure, then \
                 anchor_event_free)",
                claimed.verified.event.id()
            )));
        }
        /// Reopens the claim unless the settlement went through (also when `settle` unwinds).
        struct Reopen<'a>(&'a AtomicU8, bool);
        impl Drop for Reopen<'_> {
            fn drop(&mut self) {
                if self.1 {
                    self.0.store(Settled::Open as u8, Ordering::Release);
                }
            }
        }
        let mut reopen = Reopen(&self.settled, true);
        let outcome = settle();
        reopen.1 = outcome.is_err();
        outcome
    }
}

/// Runs an accessor: checks `event` and `out`, then writes what `read` returns.
///
/// # Safety
/// The header's pointer contract for `event` and `out`.
unsafe fn read<T>(
    event: *const anchor_event,
    out: *mut T,
    read: impl FnOnce(&anchor_event) -> T,
) -> anchor_result {
    ffi::guard(None, || {
        // SAFETY: the header's pointer contract.
        let (event, out) = unsafe { (ffi::require(ffi::handle(event), "event")?, ffi::output(out, "out")?) };
        out.write(read(event));
        Ok(())
    })
}

/// The event id (the dedupe key): the envelope's `id` (Anchor) or the `webhook-id` header (Standard
/// Webhooks).
#[no_mangle]
pub unsafe extern "C" fn anchor_event_id(
    event: *const anchor_event,
    out: *mut anchor_bytes,
) -> anchor_result {
    // SAFETY: the header's pointer contract.
    unsafe { read(event, out, |e| anchor_bytes::of(e.event().id().as_bytes())) }
}

/// The event type, e.g. `task.completed` (types outside the catalogue too; for Standard Webhooks the
/// body's `type` or `event` field, else empty).
#[no_mangle]
pub unsafe extern "C" fn anchor_event_type(
    event: *const anchor_event,
    out: *mut anchor_bytes,
) -> anchor_result {
    // SAFETY: the header's pointer contract.
    unsafe { read(event, out, |e| anchor_bytes::of(e.event().event_type().as_str().as_bytes())) }
}

/// When the provider created the event, as RFC 3339 text (`{NULL, 0}` when absent: a Standard Webhooks
/// body without a `timestamp`).
#[no_mangle]
pub unsafe extern "C" fn anchor_event_created(
    event: *const anchor_event,
    out: *mut anchor_bytes,
) -> anchor_result {
    // SAFETY: the header's pointer contract.
    unsafe {
        read(event, out, |e| {
            let text =
                e.created_text.get_or_init(|| e.event().created().and_then(|at| at.format(&Rfc3339).ok()));
            anchor_bytes::of_optional(text.as_deref().map(str::as_bytes))
        })
    }
}

/// When the provider created the event, as unix time: whole seconds and the nanoseconds past them.
/// `*present_out` is false (and the two numbers 0) when the event has no creation time.
#[no_mangle]
pub unsafe extern "C" fn anchor_event_created_unix(
    event: *const anchor_event,
    present_out: *mut bool,
    seconds_out: *mut i64,
    nanoseconds_out: *mut u32,
) -> anchor_result {
    ffi::guard(None, || {
        // SAFETY: the header's pointer contract.
        let (event, present_out, seconds_out, nanoseconds_out) = unsafe {
            (
                ffi::require(ffi::handle(event), "event")?,
                ffi::output(present_out, "present_out")?,
                ffi::output(seconds_out, "seconds_out")?,
                ffi::output(nanoseconds_out, "nanoseconds_out")?,
            )
        };
        let created = event.event().created();
        present_out.write(created.is_some());
        seconds_out.write(created.map_or(0, |at| at.unix_timestamp()));
        nanoseconds_out.write(created.map_or(0, |at| at.nanosecond()));
        Ok(())
    })
}

/// The envelope's `project_id` (`{NULL, 0}` when absent).
#[no_mangle]
pub unsafe extern "C" fn anchor_event_project_id(
    event: *const anchor_event,
    out: *mut anchor_bytes,
) -> anchor_result {
    // SAFETY: the header's pointer contract.
    unsafe { read(event, out, |e| anchor_bytes::of_optional(e.event().project_id().map(str::as_bytes))) }
}

/// The envelope's one-line human-readable `text` (`{NULL, 0}` when absent). Presentation only: read
/// `data`.
#[no_mangle]
pub unsafe extern "C" fn anchor_event_text(
    event: *const anchor_event,
    out: *mut anchor_bytes,
) -> anchor_result {
    // SAFETY: the header's pointer contract.
    unsafe { read(event, out, |e| anchor_bytes::of_optional(e.event().text().map(str::as_bytes))) }
}

/// The JSON text of the envelope's `data`, exactly as signed (`null` when a Standard Webhooks body has
/// none). Already validated: any JSON parser accepts it.
#[no_mangle]
pub unsafe extern "C" fn anchor_event_data(
    event: *const anchor_event,
    out: *mut anchor_bytes,
) -> anchor_result {
    // SAFETY: the header's pointer contract.
    unsafe { read(event, out, |e| anchor_bytes::of(e.event().raw_data())) }
}

/// The verified body, byte for byte.
#[no_mangle]
pub unsafe extern "C" fn anchor_event_body(
    event: *const anchor_event,
    out: *mut anchor_bytes,
) -> anchor_result {
    // SAFETY: the header's pointer contract.
    unsafe { read(event, out, |e| anchor_bytes::of(e.event().raw_body())) }
}

/// `Anchor-Delivery-Id` (Anchor; `{NULL, 0}` when the header was absent), which is not signed: a replay
/// can carry any value, so it is for logs, never for dedupe (the event id is the key). Standard Webhooks:
/// `webhook-id`, which is signed.
#[no_mangle]
pub unsafe extern "C" fn anchor_event_delivery_id(
    event: *const anchor_event,
    out: *mut anchor_bytes,
) -> anchor_result {
    // SAFETY: the header's pointer contract.
    unsafe {
        read(event, out, |e| {
            anchor_bytes::of_optional(e.verified_ref().delivery_id.as_deref().map(str::as_bytes))
        })
    }
}

/// The index of the first configured secret that matched (watch it to see when an old secret stops
/// being used during a rotation).
#[no_mangle]
pub unsafe extern "C" fn anchor_event_matched_secret(
    event: *const anchor_event,
    out: *mut usize,
) -> anchor_result {
    // SAFETY: the header's pointer contract.
    unsafe { read(event, out, |e| e.verified_ref().matched_secret) }
}

/// The signed timestamp, unix seconds.
#[no_mangle]
pub unsafe extern "C" fn anchor_event_timestamp(event: *const anchor_event, out: *mut u64) -> anchor_result {
    // SAFETY: the header's pointer contract.
    unsafe { read(event, out, |e| e.verified_ref().timestamp) }
}

/// Frees an event; every view taken from it becomes invalid. NULL is a no-op. Freeing the event of a
/// fresh reception without completing or releasing it leaves the claim to expire with its lease.
#[no_mangle]
pub unsafe extern "C" fn anchor_event_free(event: *mut anchor_event) {
    // SAFETY: the header's pointer contract.
    ffi::guard_void(|| unsafe { ffi::free_handle(event) })
}
