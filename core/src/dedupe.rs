//! Idempotency: claim / complete / release (SPEC §6).
//!
//! "Remember the id, then process" loses events: when processing crashes after the id was stored, every
//! retry is dropped. Here a worker first *claims* an id for a lease; only when its handler succeeds does
//! it *complete* the id (done for the TTL); on failure it *releases* it so the sender's retry is
//! processed. A crashed worker's lease simply expires.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use crate::error::Error;
use crate::setting::{check_max_entries, Setting, SettingError};

/// The default time a completed id is remembered: 24 h, the provider's advice (its retry budget is
/// under 3 minutes, and the same event may reach several webhooks).
pub const DEFAULT_DONE_TTL: Duration = Duration::from_secs(24 * 60 * 60);
/// The default lease of a claim: long enough for a handler, short enough that a crashed worker's
/// event is retried well inside the sender's schedule.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(30);

/// Proof that this worker holds a claim; `complete` and `release` act only for the holder.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ClaimToken(u128);

impl ClaimToken {
    pub const fn new(value: u128) -> ClaimToken {
        ClaimToken(value)
    }

    pub const fn value(self) -> u128 {
        self.0
    }
}

/// The answer to a claim.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Claim {
    /// This worker owns the id for the lease: process it, then complete or release.
    Fresh(ClaimToken),
    /// Another worker holds a live lease on it.
    InProgress,
    /// Already processed: answer 200 and skip.
    Done,
}

/// A dedupe store. Times are the caller's clock in unix milliseconds (the core never reads the clock;
/// a store with a clock of its own, such as Redis, may ignore them). A failing store returns
/// `store_unavailable`, never `Fresh`.
pub trait DedupeStore: Send + Sync {
    /// Claims `id` for `lease` unless it is done or held by a live lease.
    fn claim(&self, id: &str, lease: Duration, now_ms: u64) -> Result<Claim, Error>;
    /// Marks `id` done for the store's TTL if `token` still holds the claim. `Ok(false)` when the claim
    /// was lost (the lease expired and another worker claimed the id).
    fn complete(&self, id: &str, token: ClaimToken, now_ms: u64) -> Result<bool, Error>;
    /// Frees `id` if `token` still holds the claim, so a retry is processed. `Ok(false)` when not held.
    fn release(&self, id: &str, token: ClaimToken, now_ms: u64) -> Result<bool, Error>;
}

impl<S: DedupeStore + ?Sized> DedupeStore for Arc<S> {
    fn claim(&self, id: &str, lease: Duration, now_ms: u64) -> Result<Claim, Error> {
        (**self).claim(id, lease, now_ms)
    }
    fn complete(&self, id: &str, token: ClaimToken, now_ms: u64) -> Result<bool, Error> {
        (**self).complete(id, token, now_ms)
    }
    fn release(&self, id: &str, token: ClaimToken, now_ms: u64) -> Result<bool, Error> {
        (**self).release(id, token, now_ms)
    }
}

impl<S: DedupeStore + ?Sized> DedupeStore for Box<S> {
    fn claim(&self, id: &str, lease: Duration, now_ms: u64) -> Result<Claim, Error> {
        (**self).claim(id, lease, now_ms)
    }
    fn complete(&self, id: &str, token: ClaimToken, now_ms: u64) -> Result<bool, Error> {
        (**self).complete(id, token, now_ms)
    }
    fn release(&self, id: &str, token: ClaimToken, now_ms: u64) -> Result<bool, Error> {
        (**self).release(id, token, now_ms)
    }
}

/// The default largest number of ids a [`MemoryStore`] holds.
pub const DEFAULT_MAX_ENTRIES: usize = 100_000;

/// An in-process store: thread-safe, bounded, with TTLs. Expired entries are evicted first; when it is
/// full of live entries it refuses new claims with `store_unavailable` rather than forget a completed
/// id early (forgetting would let a retry run the handler twice).
#[derive(Debug)]
pub struct MemoryStore {
    state: Mutex<MemoryState>,
    max_entries: usize,
    ttl: Duration,
    next_token: AtomicU64,
}

#[derive(Debug, Default)]
struct MemoryState {
    entries: HashMap<Arc<str>, Entry>,
    /// Expiry times as given out, soonest first, so eviction takes the oldest in O(log n). An item whose
    /// entry has since changed or gone is stale and skipped (a heap with lazy deletion: much less code
    /// than an ordered set, which counts in the WebAssembly build); rebuilt when stale items dominate.
    by_expiry: BinaryHeap<Reverse<(u64, Arc<str>)>>,
}

#[derive(Clone, Copy, Debug)]
struct Entry {
    holder: Option<ClaimToken>,
    expires_at_ms: u64,
}

impl Default for MemoryStore {
    fn default() -> MemoryStore {
        MemoryStore::with_valid_settings(DEFAULT_MAX_ENTRIES, DEFAULT_DONE_TTL)
    }
}

impl MemoryStore {
    /// A store holding at most `max_entries` ids, remembering completed ids for `ttl`. Refuses a
    /// `max_entries` of 0 (a store with room for no id would answer every delivery 503) and a `ttl`
    /// outside [`Setting::DoneTtl`]'s range (a TTL of 0 would forget every id at once).
    pub fn new(max_entries: usize, ttl: Duration) -> Result<MemoryStore, SettingError> {
        Ok(MemoryStore::with_valid_settings(check_max_entries(max_entries)?, Setting::DoneTtl.check(ttl)?))
    }

    fn with_valid_settings(max_entries: usize, ttl: Duration) -> MemoryStore {
        MemoryStore { state: Mutex::default(), max_entries, ttl, next_token: AtomicU64::new(1) }
    }

    pub fn max_entries(&self) -> usize {
        self.max_entries
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// How many ids are held, live or expired-but-not-yet-evicted.
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> MutexGuard<'_, MemoryState> {
        // Nothing in the critical sections panics midway, so a poisoned lock still guards consistent data.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl MemoryState {
    fn remove(&mut self, id: &str) {
        self.entries.remove(id);
    }

    fn insert(&mut self, id: Arc<str>, entry: Entry) {
        self.by_expiry.push(Reverse((entry.expires_at_ms, Arc::clone(&id))));
        self.entries.insert(id, entry);
        if self.by_expiry.len() > 2 * self.entries.len() + 64 {
            self.by_expiry = self
                .entries
                .iter()
                .map(|(id, entry)| Reverse((entry.expires_at_ms, Arc::clone(id))))
                .collect();
        }
    }

    fn evict_expired(&mut self, now_ms: u64) {
        while let Some(Reverse((expires_at_ms, _))) = self.by_expiry.peek() {
            if *expires_at_ms > now_ms {
                break;
            }
            if let Some(Reverse((expires_at_ms, id))) = self.by_expiry.pop() {
                if self.entries.get(&id).is_some_and(|entry| entry.expires_at_ms == expires_at_ms) {
                    self.entries.remove(&id);
                }
            }
        }
    }

    fn held_by(&self, id: &str, token: ClaimToken) -> bool {
        self.entries.get(id).is_some_and(|entry| entry.holder == Some(token))
    }
}

fn deadline(now_ms: u64, duration: Duration) -> u64 {
    now_ms.saturating_add(u64::try_from(duration.as_millis()).unwrap_or(u64::MAX))
}

impl DedupeStore for MemoryStore {
    fn claim(&self, id: &str, lease: Duration, now_ms: u64) -> Result<Claim, Error> {
        let mut state = self.lock();
        match state.entries.get(id) {
            Some(entry) if entry.expires_at_ms > now_ms => {
                return Ok(if entry.holder.is_some() { Claim::InProgress } else { Claim::Done });
            }
            Some(_) => state.remove(id),
            None => {}
        }
        if state.entries.len() >= self.max_entries {
            state.evict_expired(now_ms);
            if state.entries.len() >= self.max_entries {
                return Err(Error::StoreUnavailable {
                    reason: format!(
                        "the memory store holds {} live ids, its limit; raise its maximum number of entries or use a shared store",
                        self.max_entries
                    ),
                });
            }
        }
        let token = ClaimToken(u128::from(self.next_token.fetch_add(1, Ordering::Relaxed)));
        state.insert(Arc::from(id), Entry { holder: Some(token), expires_at_ms: deadline(now_ms, lease) });
        Ok(Claim::Fresh(token))
    }

    fn complete(&self, id: &str, token: ClaimToken, now_ms: u64) -> Result<bool, Error> {
        let mut state = self.lock();
        if !state.held_by(id, token) {
            return Ok(false);
        }
        state.insert(Arc::from(id), Entry { holder: None, expires_at_ms: deadline(now_ms, self.ttl) });
        Ok(true)
    }

    fn release(&self, id: &str, token: ClaimToken, _now_ms: u64) -> Result<bool, Error> {
        let mut state = self.lock();
        if !state.held_by(id, token) {
            return Ok(false);
        }
        state.remove(id);
        Ok(true)
    }
}
