//! Verification plus dedupe, in that order: a delivery that fails verification never touches the store.

use std::time::Duration;

use crate::dedupe::{Claim, ClaimToken, DedupeStore, DEFAULT_LEASE};
use crate::error::Error;
use crate::headers::Headers;
use crate::setting::{duration_text, Setting, SettingError};
use crate::verify::{quoted, Verified, Verifier};

/// A verifier and a dedupe store working together. `Clone` when the store is (`Arc<MemoryStore>`,
/// `Arc<RedisStore>`), for frameworks whose shared state must be `Clone`.
#[derive(Clone, Debug)]
pub struct Receiver<S> {
    verifier: Verifier,
    store: S,
    lease: Duration,
}

/// What `receive` found.
#[derive(Debug)]
pub enum Reception {
    /// New: this worker holds the claim. Run the handler, then [`Receiver::complete`] or
    /// [`Receiver::release`].
    Fresh(Claimed),
    /// Already processed: answer 200 and skip.
    Duplicate(Verified),
    /// Another worker is processing it now: answer 503 so the sender retries later.
    InProgress(Verified),
}

/// A verified delivery this worker has claimed. End it with [`Receiver::finish`]. Dropped unfinished, it
/// holds the id until the lease ends (retries meanwhile are `InProgress`): where the handler's future may
/// be cancelled, hold it in a [`ClaimGuard`] ([`Receiver::guard`]), which releases it when dropped.
#[derive(Debug)]
pub struct Claimed {
    /// The delivery, verified.
    pub verified: Verified,
    token: ClaimToken,
}

impl Claimed {
    /// The store's proof that this worker holds the claim.
    pub fn token(&self) -> ClaimToken {
        self.token
    }
}

/// A claimed delivery that is released if it is dropped before [`finish`](ClaimGuard::finish): for async
/// handlers, whose future the server drops when the sender hangs up (its 10 s timeout), and for panics.
/// The sender's retry is then processed at once instead of waiting out the lease.
///
/// ```
/// # use anchor_webhooks::{sign, MemoryStore, Receiver, Reception, Scheme, Verifier};
/// # let secret = "36da51b166a69268a59a8d5ee0b32c9f5e5aaee7d301c7a5a36844318e116fc6";
/// # let body = br#"{"id":"evt_1","type":"task.completed","created":"2026-05-24T12:18:05.123Z","data":{}}"#;
/// # let now_ms = 1_716_544_084_000;
/// # let headers = sign(Scheme::Anchor, [secret], body, now_ms / 1000)?;
/// let receiver = Receiver::new(Verifier::anchor([secret])?, MemoryStore::default());
/// if let Reception::Fresh(claimed) = receiver.receive(&headers, body, now_ms)? {
///     let guard = receiver.guard(claimed, now_ms);
///     // let result = process(guard.verified()).await;   // dropped here: released
///     let result: Result<(), std::io::Error> = Ok(());
///     let outcome = guard.finish(result, now_ms);
///     assert_eq!(outcome.http_status(), 200);
/// }
/// # Ok::<(), anchor_webhooks::Error>(())
/// ```
#[derive(Debug)]
pub struct ClaimGuard<'r, S: DedupeStore> {
    receiver: &'r Receiver<S>,
    claimed: Option<Claimed>,
    now_ms: u64,
}

impl<S: DedupeStore> ClaimGuard<'_, S> {
    /// The delivery, verified.
    pub fn verified(&self) -> &Verified {
        &self.claimed().verified
    }

    /// The claim, as [`Receiver::receive`] gave it.
    pub fn claimed(&self) -> &Claimed {
        self.claimed.as_ref().expect("a guard holds its claim until finish or drop")
    }

    /// [`Receiver::finish`]: completes on `Ok`, releases on `Err`.
    pub fn finish<E>(mut self, result: Result<(), E>, now_ms: u64) -> Outcome<E> {
        let claimed = self.claimed.take().expect("a guard holds its claim until finish or drop");
        self.receiver.finish(claimed, result, now_ms)
    }
}

impl<S: DedupeStore> Drop for ClaimGuard<'_, S> {
    fn drop(&mut self) {
        if let Some(claimed) = self.claimed.take() {
            // Nobody is left to tell; if the store fails, the lease ends by itself.
            let _ = self.receiver.release(&claimed, self.now_ms);
        }
    }
}

/// The whole story of one delivery handled by [`Receiver::handle`].
#[derive(Debug)]
pub enum Outcome<E> {
    /// The handler ran and succeeded; the id is done. The answer is 200.
    Processed {
        /// The delivery.
        verified: Verified,
        /// The handler outlasted its lease and another delivery of the event took the claim over (and may
        /// have run the handler too), so the store kept that claim. Bindings report it
        /// ([`claim_lost_warning`]) so the lease can be made longer than the handler.
        claim_lost: bool,
    },
    /// Already processed; the handler did not run.
    Duplicate(Verified),
    /// Another worker holds the claim; the handler did not run.
    InProgress(Verified),
    /// Verification or the store failed. Before the handler, which did not run; or after it succeeded,
    /// when the store could not record the id as done (`store_unavailable`, 503: the sender's retry runs
    /// the handler again, the safe side of at-least-once); that error's message then names the event and
    /// says its handler ran.
    Rejected(Error),
    /// The handler failed; the claim was released so the sender's retry is processed.
    HandlerFailed {
        /// The delivery.
        verified: Verified,
        /// The handler's error.
        error: E,
        /// The store's error when it could not release the claim: the claim then stays until its lease
        /// ends, and deliveries of the event meanwhile are answered in progress. Bindings report it with
        /// [`Outcome::unreleased_warning`], so a run of 503s has a cause in the logs.
        release_failure: Option<Error>,
    },
}

/// The warning every binding logs (or hands to the user's callback) for `Outcome::Processed` with
/// `claim_lost`, so they all say the same.
pub fn claim_lost_warning(event_id: &str, lease: Duration) -> String {
    format!(
        "anchor-webhooks: claim lost: the handler of event {} outlasted its {} lease and the claim \
         was gone when it finished (another delivery may have run it too); choose a lease longer than the handler",
        shown(event_id),
        duration_text(lease)
    )
}

/// An event id as log text: as it is when it is printable ASCII, else [`quoted`], so an id (the sender's
/// text) never breaks a log line in two.
pub(crate) fn shown(event_id: &str) -> std::borrow::Cow<'_, str> {
    if !event_id.is_empty() && event_id.bytes().all(|b| b.is_ascii_graphic()) {
        event_id.into()
    } else {
        quoted(event_id).into()
    }
}

/// Seconds a sender should wait before retrying an in-progress delivery (`Retry-After`).
pub const IN_PROGRESS_RETRY_AFTER_SECONDS: u64 = 5;

/// Whether the sender retries a delivery answered with `status` (SPEC §2): 3xx (redirects are not
/// followed), 408, 429, 5xx, and anything outside 2xx and 4xx. Any other 4xx is final, and 2xx delivered.
///
/// The rule for a handler that answers the delivery itself (a framework integration): a status the sender
/// retries must release the claim, as a handler that failed does, so the retry runs the handler; completing
/// it would answer that retry `duplicate` and the event would never be processed. Every other status
/// completes it.
pub const fn sender_retries(status: u16) -> bool {
    !matches!(status, 200..=299 | 400..=407 | 409..=428 | 430..=499)
}

impl<E> Outcome<E> {
    /// The warning every binding logs for a `HandlerFailed` whose claim the store could not release:
    /// [`unreleased`]'s words, without the advice to answer 503 (the handler's failure is answered
    /// already); `None` for any other outcome.
    pub fn unreleased_warning(&self) -> Option<String> {
        let Outcome::HandlerFailed { verified, release_failure: Some(store_error), .. } = self else {
            return None;
        };
        let event_id = verified.event.id();
        let text = match store_error {
            Error::StoreUnavailable { reason } => unreleased_text(event_id, reason),
            other => unreleased_text(event_id, &other.to_string()),
        };
        Some(format!("anchor-webhooks: {text}"))
    }

    /// The HTTP status to answer with (README: "Suggested HTTP answers").
    pub fn http_status(&self) -> u16 {
        match self {
            Outcome::Processed { .. } | Outcome::Duplicate(_) => 200,
            Outcome::InProgress(_) => 503,
            Outcome::Rejected(error) => error.http_status(),
            Outcome::HandlerFailed { .. } => 500,
        }
    }

    /// A stable one-word name: `processed`, `duplicate`, `in_progress`, `rejected`, `handler_failed`.
    pub fn kind(&self) -> &'static str {
        match self {
            Outcome::Processed { .. } => "processed",
            Outcome::Duplicate(_) => "duplicate",
            Outcome::InProgress(_) => "in_progress",
            Outcome::Rejected(_) => "rejected",
            Outcome::HandlerFailed { .. } => "handler_failed",
        }
    }

    /// The outcome of a claimed delivery once its handler ran and the claim was ended (completed after
    /// success, released after a failure); `ended` is how ending it went: whether this worker still held
    /// the claim, or the store's error. Every receiver takes this
    /// rule from here: [`Receiver::finish`], and hosts that end claims in their own asynchronous stores
    /// ([`kv::finish`](crate::kv::finish)).
    ///
    /// A completion the store could not record is `Rejected` (503): the handler ran, and the sender's
    /// retry may run it again, which is the safe side of at-least-once. A failed release is kept in
    /// `HandlerFailed::release_failure`: the lease expires by itself, and the retry is processed then.
    pub fn after_handler(
        verified: Verified,
        result: Result<(), E>,
        ended: Result<bool, Error>,
    ) -> Outcome<E> {
        match (result, ended) {
            (Ok(()), Ok(held)) => Outcome::Processed { verified, claim_lost: !held },
            (Ok(()), Err(error)) => Outcome::Rejected(unrecorded(verified.event.id(), error)),
            (Err(error), ended) => Outcome::HandlerFailed { verified, error, release_failure: ended.err() },
        }
    }
}

/// The store's failure to record `event_id` as done, told as such: `Outcome::Rejected` does not carry the
/// delivery, so the message is the only place a log can learn which event's handler ran unrecorded.
/// Bindings that call [`Receiver::complete`] themselves (the C ABI) report its failure through this, so
/// every language says the same.
pub fn unrecorded(event_id: &str, error: Error) -> Error {
    retold(error, |reason| {
        format!(
            "the handler of event {} ran, but recording it as done failed ({reason}); a retry after the lease \
             runs it again",
            shown(event_id)
        )
    })
}

/// The store's failure to release the claim on `event_id` after its handler failed, told as such: the
/// claim stays until its lease ends, and deliveries of the event meanwhile are answered in progress. The
/// core's outcome ignores it ([`Outcome::after_handler`]); bindings that report it (the C ABI's release, Go)
/// say it in these words.
pub fn unreleased(event_id: &str, error: Error) -> Error {
    retold(error, |reason| unreleased_text(event_id, reason))
}

fn unreleased_text(event_id: &str, reason: &str) -> String {
    format!(
        "the claim on event {} was not released after its handler failed ({reason}); it ends with its lease, \
         and deliveries of the event until then are answered in progress",
        shown(event_id)
    )
}

/// A `store_unavailable` error with its reason told anew by `tell`; any other error as it is.
fn retold(error: Error, tell: impl FnOnce(&str) -> String) -> Error {
    match error {
        Error::StoreUnavailable { reason } => Error::StoreUnavailable { reason: tell(&reason) },
        other => other,
    }
}

impl<S: DedupeStore> Receiver<S> {
    /// A receiver with the default lease, [`DEFAULT_LEASE`] (30 s).
    pub fn new(verifier: Verifier, store: S) -> Receiver<S> {
        Receiver { verifier, store, lease: DEFAULT_LEASE }
    }

    /// How long a claim is held before another worker may take the event over (refused outside
    /// [`Setting::Lease`]'s range: a lease shorter than the handler lets a retry run it a second time).
    pub fn with_lease(mut self, lease: Duration) -> Result<Receiver<S>, SettingError> {
        self.lease = Setting::Lease.check(lease)?;
        Ok(self)
    }

    /// The verifier deliveries go through first.
    pub fn verifier(&self) -> &Verifier {
        &self.verifier
    }

    /// The dedupe store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// How long a claim is held.
    pub fn lease(&self) -> Duration {
        self.lease
    }

    /// Holds `claimed` so that dropping it unfinished releases it (`now_ms` is the time to release at).
    pub fn guard(&self, claimed: Claimed, now_ms: u64) -> ClaimGuard<'_, S> {
        ClaimGuard { receiver: self, claimed: Some(claimed), now_ms }
    }

    /// Verifies, then claims the event id. `now_ms` is the receiver's clock in unix milliseconds.
    pub fn receive(
        &self,
        headers: &(impl Headers + ?Sized),
        body: &[u8],
        now_ms: u64,
    ) -> Result<Reception, Error> {
        let verified = self.verifier.verify(headers, body, now_ms / 1000)?;
        Ok(match self.store.claim(verified.event.id(), self.lease, now_ms)? {
            Claim::Fresh(token) => Reception::Fresh(Claimed { verified, token }),
            Claim::Done => Reception::Duplicate(verified),
            Claim::InProgress => Reception::InProgress(verified),
        })
    }

    /// What [`receive`](Receiver::receive) answers when the store cannot be asked at all, e.g. a call a
    /// host never sent because every thread it runs store calls on stayed busy
    /// ([`RedisStore::threads_busy`](crate::RedisStore::threads_busy)): verification still comes first,
    /// so a forged or stale delivery keeps its own error (401/400) and only a genuine one gets
    /// `unavailable` (`store_unavailable`, 503).
    pub fn receive_without_store(
        &self,
        headers: &(impl Headers + ?Sized),
        body: &[u8],
        now_ms: u64,
        unavailable: Error,
    ) -> Error {
        match self.verifier.verify(headers, body, now_ms / 1000) {
            Ok(_) => unavailable,
            Err(error) => error,
        }
    }

    /// The warning to report for `outcome` when its handler outlasted this receiver's lease and lost the
    /// claim ([`claim_lost_warning`]), else `None`: what every host logs after [`finish`](Receiver::finish)
    /// or [`handle`](Receiver::handle).
    pub fn lost_claim_warning<E>(&self, outcome: &Outcome<E>) -> Option<String> {
        match outcome {
            Outcome::Processed { verified, claim_lost: true } => {
                Some(claim_lost_warning(verified.event.id(), self.lease))
            }
            _ => None,
        }
    }

    /// Marks a claimed event done. `Ok(false)` when the lease was lost to another worker meanwhile.
    pub fn complete(&self, claimed: &Claimed, now_ms: u64) -> Result<bool, Error> {
        self.store.complete(claimed.verified.event.id(), claimed.token, now_ms)
    }

    /// Frees a claimed event after a handler failure, so the sender's retry is processed.
    pub fn release(&self, claimed: &Claimed, now_ms: u64) -> Result<bool, Error> {
        self.store.release(claimed.verified.event.id(), claimed.token, now_ms)
    }

    /// Ends a fresh delivery once its handler has run: completes on `Ok`, releases on `Err`. Bindings whose
    /// handlers are asynchronous call `receive`, run the handler, then this; `handle` does all three.
    ///
    /// A failure to record completion is reported as `Rejected(store_unavailable)` (503): the handler ran,
    /// and the sender's retry may run it again, which is the safe side of at-least-once.
    pub fn finish<E>(&self, claimed: Claimed, result: Result<(), E>, now_ms: u64) -> Outcome<E> {
        let ended = match result {
            Ok(()) => self.complete(&claimed, now_ms),
            Err(_) => self.release(&claimed, now_ms),
        };
        Outcome::after_handler(claimed.verified, result, ended)
    }

    /// Verify, claim, run `handler` for fresh events, then complete (on `Ok`) or release (on `Err`). A
    /// handler that panics has its claim released before the panic goes on, so the retry is processed.
    ///
    /// A failure to record completion is reported as `Rejected(store_unavailable)` (503): the handler ran,
    /// and the sender's retry may run it again, which is the safe side of at-least-once.
    pub fn handle<E>(
        &self,
        headers: &(impl Headers + ?Sized),
        body: &[u8],
        now_ms: u64,
        handler: impl FnOnce(&Verified) -> Result<(), E>,
    ) -> Outcome<E> {
        let claimed = match self.receive(headers, body, now_ms) {
            Err(error) => return Outcome::Rejected(error),
            Ok(Reception::Duplicate(verified)) => return Outcome::Duplicate(verified),
            Ok(Reception::InProgress(verified)) => return Outcome::InProgress(verified),
            Ok(Reception::Fresh(claimed)) => claimed,
        };
        let guard = self.guard(claimed, now_ms);
        let result = handler(guard.verified());
        guard.finish(result, now_ms)
    }
}

#[cfg(test)]
mod sender_retries_tests {
    use super::sender_retries;

    #[test]
    fn the_sender_retries_3xx_408_429_5xx_and_the_unknown_and_nothing_else() {
        let expected = |status: u16| {
            let delivered = (200..300).contains(&status);
            let final_refusal = (400..500).contains(&status) && status != 408 && status != 429;
            !(delivered || final_refusal)
        };
        for status in 0..=1000 {
            assert_eq!(sender_retries(status), expected(status), "status {status}");
        }
        assert!(sender_retries(302) && sender_retries(408) && sender_retries(429) && sender_retries(503));
        assert!(!sender_retries(200) && !sender_retries(204) && !sender_retries(404) && !sender_retries(422));
    }
}
