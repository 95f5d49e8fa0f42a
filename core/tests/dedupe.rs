//! Dedupe semantics of SPEC §6 on the memory store, and the receiver built on it.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::time::Duration;

use anchor_webhooks::{
    sign, Claim, ClaimToken, DedupeStore, Error, ErrorCode, MemoryStore, Outcome, Receiver, Reception,
    Scheme, Setting, Verifier,
};

const LEASE: Duration = Duration::from_millis(500);
const SECRET: &str = "36da51b166a69268a59a8d5ee0b32c9f5e5aaee7d301c7a5a36844318e116fc6";
const NOW_S: u64 = 1_716_544_084;
const NOW_MS: u64 = NOW_S * 1000;

fn fresh(claim: Claim) -> ClaimToken {
    match claim {
        Claim::Fresh(token) => token,
        other => panic!("expected Fresh, got {other:?}"),
    }
}

#[test]
fn concurrent_claims_give_exactly_one_fresh_per_id() {
    const THREADS: usize = 8;
    const IDS: usize = 2_000;
    let store = Arc::new(MemoryStore::new(IDS, Duration::from_secs(60)).unwrap());
    let barrier = Arc::new(Barrier::new(THREADS));
    let handles: Vec<_> = (0..THREADS)
        .map(|_| {
            let (store, barrier) = (Arc::clone(&store), Arc::clone(&barrier));
            std::thread::spawn(move || {
                barrier.wait();
                (0..IDS)
                    .filter(|i| {
                        matches!(store.claim(&format!("evt_{i}"), LEASE, NOW_MS).unwrap(), Claim::Fresh(_))
                    })
                    .count()
            })
        })
        .collect();
    let fresh_counts: Vec<usize> = handles.into_iter().map(|handle| handle.join().unwrap()).collect();
    assert_eq!(fresh_counts.iter().sum::<usize>(), IDS, "per thread: {fresh_counts:?}");
}

#[test]
fn a_live_lease_is_in_progress_and_an_expired_one_can_be_claimed_again() {
    let store = MemoryStore::default();
    let first = fresh(store.claim("evt_1", LEASE, NOW_MS).unwrap());
    assert_eq!(store.claim("evt_1", LEASE, NOW_MS + 499).unwrap(), Claim::InProgress);
    let second = fresh(store.claim("evt_1", LEASE, NOW_MS + 500).unwrap());
    assert_ne!(first, second);
    // The first worker lost its claim: it can neither complete nor release it.
    assert!(!store.complete("evt_1", first, NOW_MS + 600).unwrap());
    assert!(!store.release("evt_1", first, NOW_MS + 600).unwrap());
    assert!(store.complete("evt_1", second, NOW_MS + 600).unwrap());
    assert_eq!(store.claim("evt_1", LEASE, NOW_MS + 700).unwrap(), Claim::Done);
}

#[test]
fn release_after_failure_lets_the_retry_through() {
    let store = MemoryStore::default();
    let token = fresh(store.claim("evt_1", LEASE, NOW_MS).unwrap());
    assert!(store.release("evt_1", token, NOW_MS + 1).unwrap());
    fresh(store.claim("evt_1", LEASE, NOW_MS + 2).unwrap());
}

#[test]
fn completed_ids_stay_done_until_the_ttl() {
    let store = MemoryStore::new(10, Duration::from_secs(60)).unwrap();
    let token = fresh(store.claim("evt_1", LEASE, NOW_MS).unwrap());
    assert!(store.complete("evt_1", token, NOW_MS).unwrap());
    assert_eq!(store.claim("evt_1", LEASE, NOW_MS + 59_999).unwrap(), Claim::Done);
    fresh(store.claim("evt_1", LEASE, NOW_MS + 60_000).unwrap());
}

#[test]
fn a_full_store_evicts_expired_entries_first_then_the_oldest_completed_never_a_live_claim() {
    let store = MemoryStore::new(3, Duration::from_secs(60)).unwrap();
    for (id, at) in [("a", NOW_MS), ("b", NOW_MS + 1)] {
        let token = fresh(store.claim(id, LEASE, at).unwrap());
        assert!(store.complete(id, token, at).unwrap());
    }
    fresh(store.claim("c", LEASE, NOW_MS + 2).unwrap());
    // Full: `c`'s lease is live, nothing has expired, so the oldest completed id (`a`) makes room.
    fresh(store.claim("d", LEASE, NOW_MS + 3).unwrap());
    assert_eq!(store.len(), 3);
    assert_eq!(store.claim("b", LEASE, NOW_MS + 3).unwrap(), Claim::Done);
    assert_eq!(store.claim("c", LEASE, NOW_MS + 3).unwrap(), Claim::InProgress);
    // Once `c`'s lease has expired, it goes before any completed id.
    fresh(store.claim("e", LEASE, NOW_MS + 502).unwrap());
    assert_eq!(store.claim("b", LEASE, NOW_MS + 502).unwrap(), Claim::Done);
    assert_eq!(store.len(), 3);
}

#[test]
fn a_store_full_of_live_claims_refuses_a_new_one() {
    let store = MemoryStore::new(2, Duration::from_secs(60)).unwrap();
    fresh(store.claim("a", LEASE, NOW_MS).unwrap());
    fresh(store.claim("b", LEASE, NOW_MS).unwrap());
    let full = store.claim("c", LEASE, NOW_MS + 1).unwrap_err();
    assert_eq!(full.code(), ErrorCode::StoreUnavailable);
    assert_eq!(full.http_status(), 503);
    // Option names differ by language (max_entries, maxEntries, MaxEntries): the message names none.
    assert_eq!(
        full.to_string(),
        "dedupe store unavailable: the memory store is full of claims in progress (maximum entries: 2); raise \
         its maximum number of entries or use a shared store; answer 503 so the sender retries"
    );
    assert_eq!(store.claim("a", LEASE, NOW_MS + 1).unwrap(), Claim::InProgress);
    fresh(store.claim("c", LEASE, NOW_MS + 500).unwrap());
}

#[test]
fn the_default_store_keeps_taking_events_at_any_rate() {
    // 100 000 ids per 24 h is 1.16 events per second; at 10 per second the oldest completed ids make room.
    let store = MemoryStore::default();
    for n in 0..250_000u64 {
        let (id, at) = (format!("evt_{n}"), NOW_MS + n * 100);
        let token = fresh(store.claim(&id, LEASE, at).unwrap());
        assert!(store.complete(&id, token, at).unwrap());
    }
    assert_eq!(store.len(), 100_000);
    let last = NOW_MS + 250_000 * 100;
    assert_eq!(store.claim("evt_249999", LEASE, last).unwrap(), Claim::Done);
    assert_eq!(store.claim("evt_150000", LEASE, last).unwrap(), Claim::Done);
    fresh(store.claim("evt_149999", LEASE, last).unwrap());
}

#[test]
fn completing_after_the_lease_ended_records_the_id_done_unless_another_worker_claimed_it() {
    let store = MemoryStore::new(1, Duration::from_secs(60)).unwrap();
    let slow = fresh(store.claim("slow", LEASE, NOW_MS).unwrap());
    // The lease ends, and another id's claim evicts the expired entry: no record of `slow` is left.
    let other = fresh(store.claim("other", LEASE, NOW_MS + 600).unwrap());
    assert!(store.release("other", other, NOW_MS + 600).unwrap());
    assert!(store.complete("slow", slow, NOW_MS + 700).unwrap());
    assert_eq!(store.claim("slow", LEASE, NOW_MS + 800).unwrap(), Claim::Done);
}

#[test]
fn completing_after_the_lease_ended_in_a_store_full_of_claims_is_store_unavailable_not_a_lost_claim() {
    let store = MemoryStore::new(2, Duration::from_secs(60)).unwrap();
    let slow = fresh(store.claim("slow", LEASE, NOW_MS).unwrap());
    // The lease ends; two other claims evict the expired entry and fill the store.
    fresh(store.claim("a", LEASE, NOW_MS + 600).unwrap());
    fresh(store.claim("b", LEASE, NOW_MS + 600).unwrap());
    // Nobody else claimed `slow`, and nothing records it: not `false` (which says another worker's claim or a
    // completion is recorded), but a failure to record, which the receiver reports as such.
    let error = store.complete("slow", slow, NOW_MS + 700).unwrap_err();
    assert_eq!(error.code(), ErrorCode::StoreUnavailable);
    assert!(error.to_string().contains("full of claims in progress (maximum entries: 2)"), "{error}");
    // Once a claim ends, there is room again, and a completion retried is recorded.
    assert!(store.complete("slow", slow, NOW_MS + 1_200).unwrap());
    assert_eq!(store.claim("slow", LEASE, NOW_MS + 1_200).unwrap(), Claim::Done);
}

#[test]
fn ids_completed_within_one_millisecond_are_forgotten_oldest_first() {
    // Full, the store forgets the oldest completed id; ids completed in the same millisecond go in the
    // order they were completed, not in the order of their keys.
    let store = MemoryStore::new(50, Duration::from_secs(60)).unwrap();
    for n in 0..200 {
        let id = format!("evt_{n}");
        let token = fresh(store.claim(&id, LEASE, NOW_MS).unwrap());
        assert!(store.complete(&id, token, NOW_MS).unwrap());
        if n >= 1 {
            let previous = format!("evt_{}", n - 1);
            assert_eq!(store.claim(&previous, LEASE, NOW_MS).unwrap(), Claim::Done, "{previous} after {id}");
        }
    }
    assert_eq!(store.len(), 50);
    for n in 150..200 {
        assert_eq!(store.claim(&format!("evt_{n}"), LEASE, NOW_MS).unwrap(), Claim::Done);
    }
}

#[test]
fn eviction_stays_right_after_many_claims_of_the_same_ids() {
    // Every claim, completion and release gives out a new expiry time; the old ones must neither evict a
    // live entry nor pile up.
    let store = MemoryStore::new(2, Duration::from_secs(60)).unwrap();
    for round in 0..1_000 {
        let token = fresh(store.claim("x", LEASE, NOW_MS + round).unwrap());
        assert!(store.release("x", token, NOW_MS + round).unwrap());
    }
    let token = fresh(store.claim("a", LEASE, NOW_MS + 1_000).unwrap());
    assert!(store.complete("a", token, NOW_MS + 1_000).unwrap());
    fresh(store.claim("b", LEASE, NOW_MS + 1_000).unwrap());
    // `b`'s lease ends: it makes room; `a` (completed, 60 s) stays, though its lease time passed too.
    fresh(store.claim("c", LEASE, NOW_MS + 1_000 + LEASE.as_millis() as u64).unwrap());
    assert_eq!(store.claim("a", LEASE, NOW_MS + 2_000 + LEASE.as_millis() as u64).unwrap(), Claim::Done);
    assert_eq!(store.len(), 2);
}

fn delivery(id: &str) -> (Vec<(&'static str, String)>, Vec<u8>) {
    let body = format!(
        r#"{{"id":"{id}","type":"task.completed","created":"2026-05-24T12:18:05.123Z","project_id":"p","text":"t","data":{{}}}}"#
    )
    .into_bytes();
    (sign(Scheme::Anchor, [SECRET], &body, NOW_S).unwrap().into_vec(), body)
}

/// Counts the calls that reach the inner store, to prove forged deliveries never do.
struct Counting<S> {
    inner: S,
    calls: AtomicUsize,
}

impl<S: DedupeStore> DedupeStore for Counting<S> {
    fn claim(&self, id: &str, lease: Duration, now_ms: u64) -> Result<Claim, Error> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.inner.claim(id, lease, now_ms)
    }
    fn complete(&self, id: &str, token: ClaimToken, now_ms: u64) -> Result<bool, Error> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.inner.complete(id, token, now_ms)
    }
    fn release(&self, id: &str, token: ClaimToken, now_ms: u64) -> Result<bool, Error> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.inner.release(id, token, now_ms)
    }
}

/// A store whose backend is down.
struct Down;

impl DedupeStore for Down {
    fn claim(&self, _: &str, _: Duration, _: u64) -> Result<Claim, Error> {
        Err(Error::StoreUnavailable { reason: "connection refused".into() })
    }
    fn complete(&self, _: &str, _: ClaimToken, _: u64) -> Result<bool, Error> {
        Err(Error::StoreUnavailable { reason: "connection refused".into() })
    }
    fn release(&self, _: &str, _: ClaimToken, _: u64) -> Result<bool, Error> {
        Err(Error::StoreUnavailable { reason: "connection refused".into() })
    }
}

fn receiver<S: DedupeStore>(store: S) -> Receiver<S> {
    Receiver::new(Verifier::anchor([SECRET]).unwrap(), store).with_lease(Setting::Lease.minimum()).unwrap()
}

#[test]
fn a_lease_or_ttl_that_would_run_a_handler_twice_is_refused_when_set() {
    let message = |error: anchor_webhooks::SettingError| error.to_string();
    let lease = Receiver::new(Verifier::anchor([SECRET]).unwrap(), MemoryStore::default())
        .with_lease(Duration::from_millis(999))
        .map(drop)
        .map_err(message);
    assert_eq!(lease, Err(Setting::Lease.check(Duration::ZERO).unwrap_err().to_string()));
    assert!(lease
        .unwrap_err()
        .starts_with("must be at least 1 s: a shorter lease expires under a running handler"));
    let ttl = MemoryStore::new(10, Duration::ZERO).map(drop).map_err(message).unwrap_err();
    assert!(ttl.starts_with("must be at least 1 s: a shorter TTL forgets a completed id at once"), "{ttl}");
    assert_eq!(MemoryStore::new(10, Duration::from_secs(1)).unwrap().ttl(), Duration::from_secs(1));
}

#[test]
fn a_memory_store_with_room_for_no_id_is_refused_and_named_apart_from_the_ttl() {
    let no_room = MemoryStore::new(0, Duration::from_secs(60)).unwrap_err();
    assert_eq!(no_room.setting(), None);
    assert_eq!(
        no_room.to_string(),
        "must be at least 1: a store with room for no id claims nothing, and every delivery would be answered \
         503 (the default is 100000)"
    );
    let short_ttl = MemoryStore::new(10, Duration::ZERO).unwrap_err();
    assert_eq!(short_ttl.setting(), Some(Setting::DoneTtl));
    // Both wrong: the count is named first, whichever a binding reports.
    assert_eq!(MemoryStore::new(0, Duration::ZERO).unwrap_err(), no_room);
    assert_eq!(MemoryStore::new(1, Duration::from_secs(60)).unwrap().max_entries(), 1);
}

#[test]
fn forged_deliveries_never_reach_the_store() {
    let receiver = receiver(Counting { inner: MemoryStore::default(), calls: AtomicUsize::new(0) });
    let (headers, mut body) = delivery("evt_forged");
    body[10] ^= 1;
    let outcome = receiver.handle(&headers, &body, NOW_MS, |_| -> Result<(), ()> { panic!("handler ran") });
    assert!(matches!(&outcome, Outcome::Rejected(e) if e.code() == ErrorCode::SignatureMismatch));
    assert_eq!(outcome.http_status(), 401);
    assert_eq!(receiver.store().calls.load(Ordering::SeqCst), 0);
}

#[test]
fn a_store_that_cannot_be_asked_still_verifies_first() {
    let receiver = receiver(Counting { inner: MemoryStore::default(), calls: AtomicUsize::new(0) });
    let busy = || Error::StoreUnavailable { reason: "all 4 threads busy".into() };
    let (headers, body) = delivery("evt_unasked");
    assert_eq!(receiver.receive_without_store(&headers, &body, NOW_MS, busy()), busy());
    // Forged or stale: verification's own error (401), as `receive` answers it, never the store's 503.
    let mut forged = body.clone();
    forged[10] ^= 1;
    let error = receiver.receive_without_store(&headers, &forged, NOW_MS, busy());
    assert_eq!((error.code(), error.http_status()), (ErrorCode::SignatureMismatch, 401));
    let stale = receiver.receive_without_store(&headers, &body, NOW_MS + 3_600_000, busy());
    assert_eq!(stale.code(), ErrorCode::TimestampTooOld);
    assert_eq!(receiver.store().calls.load(Ordering::SeqCst), 0);
}

#[test]
fn handler_failure_releases_so_the_retry_is_processed_exactly_once() {
    let receiver = receiver(MemoryStore::default());
    let (headers, body) = delivery("evt_retry");
    let runs = AtomicUsize::new(0);
    let failing = receiver.handle(&headers, &body, NOW_MS, |_| {
        runs.fetch_add(1, Ordering::SeqCst);
        Err("database down")
    });
    assert!(matches!(failing, Outcome::HandlerFailed { error: "database down", .. }));
    assert_eq!(failing.http_status(), 500);
    let retried = receiver.handle(&headers, &body, NOW_MS + 5_000, |_| {
        runs.fetch_add(1, Ordering::SeqCst);
        Ok::<(), &str>(())
    });
    assert_eq!((retried.kind(), retried.http_status()), ("processed", 200));
    let duplicate =
        receiver.handle(&headers, &body, NOW_MS + 15_000, |_| -> Result<(), &str> { panic!("ran twice") });
    assert_eq!((duplicate.kind(), duplicate.http_status()), ("duplicate", 200));
    assert_eq!(runs.load(Ordering::SeqCst), 2);
}

#[test]
fn a_handler_that_panics_has_its_claim_released_so_the_retry_is_processed() {
    let receiver = receiver(MemoryStore::default());
    let (headers, body) = delivery("evt_panic");
    let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        receiver.handle(&headers, &body, NOW_MS, |_| -> Result<(), ()> { panic!("handler bug") })
    }));
    assert_eq!(panicked.unwrap_err().downcast_ref::<&str>(), Some(&"handler bug"));
    // Not `in_progress` for the rest of the lease: the retry runs the handler.
    let retried = receiver.handle(&headers, &body, NOW_MS + 1, |_| Ok::<(), ()>(()));
    assert_eq!((retried.kind(), retried.http_status()), ("processed", 200));
}

#[test]
fn a_claim_guard_dropped_unfinished_releases_the_claim() {
    let receiver = receiver(MemoryStore::default());
    let (headers, body) = delivery("evt_cancelled");
    let Reception::Fresh(claimed) = receiver.receive(&headers, &body, NOW_MS).unwrap() else {
        panic!("not fresh")
    };
    let guard = receiver.guard(claimed, NOW_MS);
    assert_eq!(guard.verified().event.id(), "evt_cancelled");
    assert!(matches!(receiver.receive(&headers, &body, NOW_MS + 1).unwrap(), Reception::InProgress(_)));
    drop(guard); // an async handler's future, dropped when the sender hung up
    let Reception::Fresh(claimed) = receiver.receive(&headers, &body, NOW_MS + 2).unwrap() else {
        panic!("the dropped guard kept the claim")
    };
    let outcome = receiver.guard(claimed, NOW_MS + 2).finish(Ok::<(), ()>(()), NOW_MS + 3);
    assert_eq!((outcome.kind(), outcome.http_status()), ("processed", 200));
    assert!(matches!(receiver.receive(&headers, &body, NOW_MS + 4).unwrap(), Reception::Duplicate(_)));
}

#[test]
fn receivers_sharing_a_store_clone_and_their_debug_shows_no_event_ids() {
    let first = receiver(std::sync::Arc::new(MemoryStore::default()));
    let second = first.clone();
    let (headers, body) = delivery("evt_shared");
    assert_eq!(first.handle(&headers, &body, NOW_MS, |_| Ok::<(), ()>(())).kind(), "processed");
    assert_eq!(second.handle(&headers, &body, NOW_MS + 1, |_| Ok::<(), ()>(())).kind(), "duplicate");
    let debug = format!("{first:?}");
    assert!(debug.contains("MemoryStore { len: 1, max_entries: 100000, ttl: 86400s, .. }"), "{debug}");
    assert!(!debug.contains("evt_shared"), "{debug}");
}

#[test]
fn a_delivery_in_progress_elsewhere_is_answered_503() {
    let receiver = receiver(MemoryStore::default());
    let (headers, body) = delivery("evt_busy");
    let Reception::Fresh(claimed) = receiver.receive(&headers, &body, NOW_MS).unwrap() else {
        panic!("not fresh")
    };
    let outcome = receiver.handle(&headers, &body, NOW_MS + 1, |_| -> Result<(), ()> { panic!("ran") });
    assert_eq!((outcome.kind(), outcome.http_status()), ("in_progress", 503));
    assert!(receiver.complete(&claimed, NOW_MS + 2).unwrap());
}

#[test]
fn a_handler_that_outlasts_its_lease_is_processed_with_the_claim_lost() {
    let receiver = receiver(MemoryStore::default());
    let lease_ms = receiver.lease().as_millis() as u64;
    let (headers, body) = delivery("evt_slow");
    let Reception::Fresh(slow) = receiver.receive(&headers, &body, NOW_MS).unwrap() else {
        panic!("not fresh")
    };
    // The lease ran out; the sender's retry takes the event over while the first handler still runs.
    let Reception::Fresh(retry) = receiver.receive(&headers, &body, NOW_MS + lease_ms).unwrap() else {
        panic!("the expired claim was not taken over")
    };
    let first = receiver.finish(slow, Ok::<(), ()>(()), NOW_MS + lease_ms + 1);
    assert!(matches!(first, Outcome::Processed { claim_lost: true, .. }), "{first:?}");
    assert_eq!(first.http_status(), 200);
    let second = receiver.finish(retry, Ok::<(), ()>(()), NOW_MS + lease_ms + 2);
    assert!(matches!(second, Outcome::Processed { claim_lost: false, .. }), "{second:?}");
    assert_eq!(
        receiver.lost_claim_warning(&first).as_deref(),
        Some(
            "anchor-webhooks: claim lost: the handler of event evt_slow outlasted its 1 s lease and the claim was \
             gone when it finished (another delivery may have run it too); choose a lease longer than the handler"
        )
    );
    assert_eq!(receiver.lost_claim_warning(&second), None);
}

#[test]
fn a_failing_store_is_store_unavailable_never_fresh() {
    let receiver = receiver(Down);
    let (headers, body) = delivery("evt_down");
    let outcome = receiver.handle(&headers, &body, NOW_MS, |_| -> Result<(), ()> { panic!("ran") });
    assert!(matches!(&outcome, Outcome::Rejected(e) if e.code() == ErrorCode::StoreUnavailable));
    assert_eq!(outcome.http_status(), 503);
}

#[test]
fn secrets_never_appear_in_debug_or_errors() {
    let verifier = Verifier::anchor([SECRET, "second-secret"]).unwrap();
    let debug = format!("{verifier:?}");
    assert!(!debug.contains(SECRET) && !debug.contains("second-secret"), "{debug}");
    assert!(debug.contains("2 redacted"), "{debug}");
    let (headers, body) = delivery("evt_x");
    let signer = anchor_webhooks::Signer::new(Scheme::Anchor, ["other"]).unwrap();
    assert!(!format!("{signer:?}").contains("other"));
    let error = Verifier::anchor(["other"]).unwrap().verify(&headers, &body, NOW_S).unwrap_err();
    let signature = headers.iter().find(|(n, _)| *n == "Anchor-Signature").unwrap().1.clone();
    let v1 = signature.split("v1=").nth(1).unwrap();
    for text in [error.to_string(), format!("{error:?}")] {
        assert!(!text.contains(v1) && !text.contains("other") && !text.contains("evt_x"), "{text}");
    }
}

#[test]
fn ending_a_claim_decides_the_answer_the_same_way_for_every_store() {
    let verified = || {
        let (headers, body) = delivery("evt_end");
        Verifier::anchor([SECRET]).unwrap().verify(&headers, &body, NOW_S).unwrap()
    };
    let down = || Err(Error::StoreUnavailable { reason: "down".to_owned() });
    let processed = Outcome::after_handler(verified(), Ok::<(), &str>(()), Ok(true));
    assert!(matches!(processed, Outcome::Processed { claim_lost: false, .. }));
    assert_eq!((processed.kind(), processed.http_status()), ("processed", 200));
    // The claim was gone when the handler finished: still processed and 200, but reported.
    let lost = Outcome::after_handler(verified(), Ok::<(), &str>(()), Ok(false));
    assert!(matches!(lost, Outcome::Processed { claim_lost: true, .. }));
    assert_eq!((lost.kind(), lost.http_status()), ("processed", 200));
    // The handler ran but its completion was not recorded: 503, so the sender retries (at-least-once).
    let unrecorded = Outcome::after_handler(verified(), Ok::<(), &str>(()), down());
    let Outcome::Rejected(error) = &unrecorded else { panic!("{unrecorded:?}") };
    assert_eq!(error.code(), ErrorCode::StoreUnavailable);
    // The outcome drops the delivery, so the message names the event whose handler ran.
    assert_eq!(
        error.to_string(),
        "dedupe store unavailable: the handler of event evt_end ran, but recording it as done failed (down); a \
         retry after the lease runs it again; answer 503 so the sender retries"
    );
    assert_eq!(unrecorded.http_status(), 503);
    // An id that would break a log line is quoted and escaped, in this message and in the claim-lost one.
    let (headers, body) = delivery(r"evt\nforged line"); // JSON text: the id holds a line feed
    let odd = Verifier::anchor([SECRET]).unwrap().verify(&headers, &body, NOW_S).unwrap();
    let Outcome::Rejected(error) = Outcome::after_handler(odd, Ok::<(), &str>(()), down()) else { panic!() };
    assert!(error.to_string().contains(r#"the handler of event "evt\nforged line" ran"#), "{error}");
    let warning = anchor_webhooks::claim_lost_warning("evt\nforged line", Duration::from_secs(30));
    assert!(
        warning.contains(r#"the handler of event "evt\nforged line" outlasted its 30 s lease"#),
        "{warning}"
    );
    // Told by the bindings that report a failed release (C, Go): which event, and what follows.
    let Error::StoreUnavailable { .. } = anchor_webhooks::unreleased("evt_end", down().unwrap_err()) else {
        panic!()
    };
    assert_eq!(
        anchor_webhooks::unreleased("evt_end", down().unwrap_err()).to_string(),
        "dedupe store unavailable: the claim on event evt_end was not released after its handler failed (down); it \
         ends with its lease, and deliveries of the event until then are answered in progress; answer 503 so the \
         sender retries"
    );
    // A failed release is ignored: the lease expires by itself.
    for ended in [Ok(true), Ok(false), down()] {
        let failed = Outcome::after_handler(verified(), Err("boom"), ended);
        assert!(matches!(failed, Outcome::HandlerFailed { error: "boom", .. }));
        assert_eq!(failed.http_status(), 500);
    }
}
