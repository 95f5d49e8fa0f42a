//! Idempotency: claim / complete / release (SPEC §6).
//!
//! "Remember the id, then process" loses events: when processing crashes after the id was stored, every
//! retry is dropped. Here a worker first *claims* an id for a lease; only when its handler succeeds does
//! it *complete* the id (done for the TTL); on failure it *releases* it so the sender's retry is
//! processed. A crashed worker's lease simply expires.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use sha2::{Digest, Sha256};

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
    /// A token from its value: for stores that keep tokens elsewhere (a key-value record, a C handle).
    pub const fn new(value: u128) -> ClaimToken {
        ClaimToken(value)
    }

    /// The token's value, unique per claim within its store.
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
    /// Marks `id` done for the store's TTL if `token` still holds the claim, or if no record of the id is
    /// left (the lease expired and nobody claimed it since: the handler did run, and recording it done
    /// keeps a later redelivery from running it again). `Ok(false)` when the claim was lost: another
    /// worker's claim, or a completion, is recorded. Every store follows this one rule.
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

/// An in-process store: thread-safe, bounded, with TTLs.
///
/// When it is full, a new claim makes room by evicting expired entries first, then by forgetting the
/// oldest completed id before its TTL ends. A completed id is remembered for the whole TTL as long as
/// the store holds `max_entries` ids per TTL: with the defaults (100 000 ids, 24 h) that is a sustained
/// 1.16 events per second; size `max_entries` to your rate × TTL. Forgetting the oldest completed id
/// only matters if that event is delivered again after `max_entries` newer ones, long after the
/// sender's retries (80 s); refusing a new event instead would lose it once the sender gives up. Live
/// claims are never forgotten: a store full of them refuses new claims with `store_unavailable` (503,
/// so the sender retries).
pub struct MemoryStore {
    state: Mutex<MemoryState>,
    max_entries: usize,
    ttl: Duration,
    next_token: AtomicU64,
}

/// Entries by expiry time, soonest first, then in the order they were written (ids completed within one
/// millisecond leave oldest first), so eviction takes the oldest in O(log n). An item whose entry has
/// since changed or gone is stale and skipped (a heap with lazy deletion: much less code than an ordered
/// set, which counts in the WebAssembly build); rebuilt when stale items dominate.
type ByExpiry = BinaryHeap<Reverse<(u64, u64, Key)>>;

/// An id as the store keeps it: its SHA-256, as the Redis and key-value stores name their keys. An id is
/// as long as the sender makes it (up to the body limit), and 100 000 of them must not hold gigabytes.
type Key = [u8; 32];

fn key(id: &str) -> Key {
    Sha256::digest(id.as_bytes()).into()
}

#[derive(Default)]
struct MemoryState {
    entries: HashMap<Key, Entry>,
    /// Claims, by the end of their lease.
    claims: ByExpiry,
    /// Completed ids, by the end of their TTL: the first is the oldest completed (one TTL for all).
    completed: ByExpiry,
    /// Entries written so far: each entry's `written`, which orders the heaps within a millisecond.
    writes: u64,
}

#[derive(Clone, Copy, Debug)]
struct Entry {
    holder: Option<ClaimToken>,
    expires_at_ms: u64,
    /// When it was written, as a count of writes: what identifies its current item in the heaps.
    written: u64,
}

impl fmt::Debug for MemoryStore {
    /// Counts only: the ids are the senders' data, and a full store holds 100 000 of them.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryStore")
            .field("len", &self.len())
            .field("max_entries", &self.max_entries)
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
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

    /// The most ids it holds.
    pub fn max_entries(&self) -> usize {
        self.max_entries
    }

    /// How long a completed id is remembered (when the store has room).
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// How many ids are held, live or expired-but-not-yet-evicted.
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    /// Whether it holds no id.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn full_of_claims(&self) -> Error {
        Error::StoreUnavailable {
            reason: format!(
                "the memory store is full of claims in progress (maximum entries: {}); raise its maximum \
                 number of entries or use a shared store",
                self.max_entries
            ),
        }
    }

    fn lock(&self) -> MutexGuard<'_, MemoryState> {
        // Nothing in the critical sections panics midway, so a poisoned lock still guards consistent data.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl MemoryState {
    fn insert(&mut self, id: Key, holder: Option<ClaimToken>, expires_at_ms: u64) {
        self.writes += 1;
        let entry = Entry { holder, expires_at_ms, written: self.writes };
        let MemoryState { entries, claims, completed, .. } = self;
        push_by_expiry(claims, completed, id, &entry);
        entries.insert(id, entry);
        if claims.len() + completed.len() > 2 * entries.len() + 64 {
            claims.clear();
            completed.clear();
            for (&id, entry) in entries.iter() {
                push_by_expiry(claims, completed, id, entry);
            }
        }
    }

    /// Removes the entry of the first current item of the claims heap (`claims`) or the completed one,
    /// if `due` says so for its expiry time. `false` when there is none, or it is not due.
    fn evict_first(&mut self, claims: bool, due: impl Fn(u64) -> bool) -> bool {
        let MemoryState { entries, claims: claim_heap, completed, .. } = self;
        let heap = if claims { claim_heap } else { completed };
        while let Some(&Reverse((expires_at_ms, _, _))) = heap.peek() {
            if !due(expires_at_ms) {
                return false;
            }
            let Some(Reverse((_, written, id))) = heap.pop() else { break };
            if entries.get(&id).is_some_and(|entry| entry.written == written) {
                entries.remove(&id);
                return true;
            }
        }
        false
    }

    /// Makes room for one more entry: expired entries first, then the oldest completed id. `false` when
    /// the store is full of live claims.
    fn make_room(&mut self, max_entries: usize, now_ms: u64) -> bool {
        if self.entries.len() < max_entries {
            return true;
        }
        let expired = |expires_at_ms| expires_at_ms <= now_ms;
        while self.evict_first(true, expired) {}
        while self.evict_first(false, expired) {}
        self.entries.len() < max_entries || self.evict_first(false, |_| true)
    }

    fn held_by(&self, id: &Key, token: ClaimToken) -> bool {
        self.entries.get(id).is_some_and(|entry| entry.holder == Some(token))
    }
}

/// Adds `entry` to the heap of its kind: a claim's lease end, or a completed id's TTL end.
fn push_by_expiry(claims: &mut ByExpiry, completed: &mut ByExpiry, id: Key, entry: &Entry) {
    let heap = if entry.holder.is_some() { claims } else { completed };
    heap.push(Reverse((entry.expires_at_ms, entry.written, id)));
}

fn deadline(now_ms: u64, duration: Duration) -> u64 {
    now_ms.saturating_add(u64::try_from(duration.as_millis()).unwrap_or(u64::MAX))
}

impl DedupeStore for MemoryStore {
    fn claim(&self, id: &str, lease: Duration, now_ms: u64) -> Result<Claim, Error> {
        let id = key(id);
        let mut state = self.lock();
        match state.entries.get(&id) {
            Some(entry) if entry.expires_at_ms > now_ms => {
                return Ok(if entry.holder.is_some() { Claim::InProgress } else { Claim::Done });
            }
            Some(_) => {
                state.entries.remove(&id);
            }
            None => {}
        }
        if !state.make_room(self.max_entries, now_ms) {
            return Err(self.full_of_claims());
        }
        let token = ClaimToken(u128::from(self.next_token.fetch_add(1, Ordering::Relaxed)));
        state.insert(id, Some(token), deadline(now_ms, lease));
        Ok(Claim::Fresh(token))
    }

    fn complete(&self, id: &str, token: ClaimToken, now_ms: u64) -> Result<bool, Error> {
        let id = key(id);
        let mut state = self.lock();
        let recordable = match state.entries.get(&id).map(|entry| entry.holder) {
            Some(holder) => holder == Some(token),
            // The claim was evicted after its lease ended, and nobody claimed the id since: record it, or
            // say it could not be (not `false`: no other claim or completion is recorded).
            None if state.make_room(self.max_entries, now_ms) => true,
            None => return Err(self.full_of_claims()),
        };
        if recordable {
            state.insert(id, None, deadline(now_ms, self.ttl));
        }
        Ok(recordable)
    }

    fn release(&self, id: &str, token: ClaimToken, _now_ms: u64) -> Result<bool, Error> {
        let id = key(id);
        let mut state = self.lock();
        if !state.held_by(&id, token) {
            return Ok(false);
        }
        state.entries.remove(&id);
        Ok(true)
    }
}
