//! Dedupe over a store that only offers asynchronous `get` / `put` / `delete` (Workers KV, Durable
//! Objects, Deno KV, or anything a binding's users bring). The host moves the data; the decisions are
//! taken here, synchronously, on the value it read: what to answer, and what to write back. The rules are
//! `MemoryStore`'s: a live lease is `InProgress`, a completed id is `Done` for the TTL, and only the holder
//! of a claim may complete or release it; except that completing finds no record at all when the store
//! does not show its own writes yet, and then records the id as done (see [`complete`]).
//!
//! Such stores have no compare-and-set, so two workers racing on one id may both see it free: both run
//! the handler, none loses the event. Stores with transactions (Durable Objects) run claim inside one.

use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::dedupe::{Claim, ClaimToken};
use crate::error::Error;

/// The default key prefix, the one `RedisStore` uses.
pub const DEFAULT_PREFIX: &str = "anchor-webhooks:dedupe";

/// How long one call of the host to its store (a `get`, `put` or `delete`) may take by default before the
/// delivery is answered 503 `store_unavailable`. The sender waits 10 s for an answer (SPEC §2) and a
/// delivery makes two calls before its handler and two after it, so even a hung store is answered within
/// that wait; a healthy Durable Object or Deno KV answers in milliseconds. The range is
/// [`Setting::Timeout`](crate::Setting::Timeout)'s.
pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(2);

/// What to do to the stored value after a decision.
#[derive(Debug, PartialEq, Eq)]
pub enum KvWrite {
    /// Write nothing: the stored value stays as it is.
    Keep,
    /// Store `value` under the key, to expire after `ttl`.
    Put {
        /// The encoded record, opaque to the host.
        value: String,
        /// How long the store should keep it: the lease for a claim, the TTL of a completed id.
        ttl: Duration,
    },
    /// Delete the key. A store that cannot delete (only `get`/`put`) puts [`FREE`] instead.
    Delete,
}

/// The value that stands for no record, for stores without `delete`: every decision reads it as absent.
pub const FREE: &str = "free";

/// A stored record: held by a claim until `expires_at_ms`, or done until then.
#[derive(Debug, PartialEq, Eq)]
struct Record {
    holder: Option<ClaimToken>,
    expires_at_ms: u64,
}

/// `{prefix}:{hex SHA-256 of the id}`, as `RedisStore` names its keys: fixed length, and no untrusted
/// bytes in the store's key space.
pub fn key(prefix: &str, id: &str) -> String {
    format!("{prefix}:{}", hex::encode(Sha256::digest(id.as_bytes())))
}

/// `held:<token hex>:<expires ms>` or `done:<expires ms>`.
fn encode(record: &Record) -> String {
    match record.holder {
        Some(token) => format!("held:{:032x}:{}", token.value(), record.expires_at_ms),
        None => format!("done:{}", record.expires_at_ms),
    }
}

fn decode(value: &str) -> Result<Record, Error> {
    let unreadable = || Error::StoreUnavailable {
        reason:
            "the store holds a dedupe record this version cannot read; delete the key or use another prefix"
                .to_owned(),
    };
    let mut parts = value.split(':');
    let record = match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some("held"), Some(token), Some(expires), None) => Record {
            holder: Some(ClaimToken::new(u128::from_str_radix(token, 16).map_err(|_| unreadable())?)),
            expires_at_ms: expires.parse().map_err(|_| unreadable())?,
        },
        (Some("done"), Some(expires), None, None) => {
            Record { holder: None, expires_at_ms: expires.parse().map_err(|_| unreadable())? }
        }
        _ => return Err(unreadable()),
    };
    Ok(record)
}

fn read(current: Option<&str>) -> Result<Option<Record>, Error> {
    match current {
        None | Some(FREE) => Ok(None),
        Some(value) => decode(value).map(Some),
    }
}

fn deadline(now_ms: u64, duration: Duration) -> u64 {
    now_ms.saturating_add(u64::try_from(duration.as_millis()).unwrap_or(u64::MAX))
}

/// A claim: the same answers as `MemoryStore::claim`.
pub fn claim(
    current: Option<&str>,
    token: ClaimToken,
    lease: Duration,
    now_ms: u64,
) -> Result<(Claim, KvWrite), Error> {
    if let Some(record) = read(current)? {
        if record.expires_at_ms > now_ms {
            let answer = if record.holder.is_some() { Claim::InProgress } else { Claim::Done };
            return Ok((answer, KvWrite::Keep));
        }
    }
    let held = Record { holder: Some(token), expires_at_ms: deadline(now_ms, lease) };
    Ok((Claim::Fresh(token), KvWrite::Put { value: encode(&held), ttl: lease }))
}

/// Marks the id done for `ttl` if `token` still holds it, or if no record is visible at all.
///
/// Unlike `MemoryStore` and `RedisStore`, a key-value store may not show its own writes yet: Workers KV
/// caches a lookup that found nothing for up to a minute, so the read after the handler can miss the
/// claim written before it. No record means no other delivery's claim is visible either, and recording
/// the id as done is what keeps a retry from running the handler again; only a record of another claim,
/// or one already done, means the claim was lost.
pub fn complete(
    current: Option<&str>,
    token: ClaimToken,
    ttl: Duration,
    now_ms: u64,
) -> Result<(bool, KvWrite), Error> {
    match read(current)? {
        Some(Record { holder: Some(holder), .. }) if holder == token => Ok((true, done(ttl, now_ms))),
        None => Ok((true, done(ttl, now_ms))),
        _ => Ok((false, KvWrite::Keep)),
    }
}

fn done(ttl: Duration, now_ms: u64) -> KvWrite {
    KvWrite::Put { value: encode(&Record { holder: None, expires_at_ms: deadline(now_ms, ttl) }), ttl }
}

/// Ends a claim once the handler ran, as `Receiver::finish` does: completes it (done for `ttl`) after
/// success, releases it after a failure. Returns whether `token` still held the id, and the write; then
/// [`Outcome::after_handler`](crate::Outcome::after_handler) says what the delivery's answer is.
pub fn finish(
    current: Option<&str>,
    token: ClaimToken,
    handled: bool,
    ttl: Duration,
    now_ms: u64,
) -> Result<(bool, KvWrite), Error> {
    if handled {
        complete(current, token, ttl, now_ms)
    } else {
        release(current, token)
    }
}

/// Frees the id if `token` still holds it, so the sender's retry is processed.
pub fn release(current: Option<&str>, token: ClaimToken) -> Result<(bool, KvWrite), Error> {
    match read(current)? {
        Some(Record { holder: Some(holder), .. }) if holder == token => Ok((true, KvWrite::Delete)),
        _ => Ok((false, KvWrite::Keep)),
    }
}

/// The lost-claim report for a key-value store: `held` is how long the claim was held, by the host's clock
/// (`None` when the host fixed its own `now`).
///
/// Held for less than the lease, the claim was not lost to the lease: another delivery of the event claimed
/// it between this one's read and write (a store of `get` and `put` cannot claim atomically; Workers KV,
/// two locations, or a read not yet showing a write), and a longer lease would not help, so the report
/// says what happened instead. Otherwise it is [`claim_lost_warning`](crate::claim_lost_warning), which
/// blames the lease.
pub fn claim_lost_warning(event_id: &str, lease: Duration, held: Option<Duration>) -> String {
    match held {
        Some(held) if held < lease => format!(
            "anchor-webhooks: claim lost: the handler of event {} finished {} ms after its claim, within its {} \
             lease, and the store held another delivery's claim or completion: this store cannot claim \
             atomically (it reads, then writes), so deliveries of one event that arrive together may each run \
             the handler; for exactly once, use a store that serialises access (a Durable Object)",
            crate::receiver::shown(event_id),
            held.as_millis() as u64,
            crate::setting::duration_text(lease)
        ),
        _ => crate::claim_lost_warning(event_id, lease),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_claim_lost_within_its_lease_is_the_stores_race_and_after_it_the_lease() {
        let lease = Duration::from_secs(30);
        assert_eq!(
            claim_lost_warning("evt_1", lease, Some(Duration::from_millis(1500))),
            "anchor-webhooks: claim lost: the handler of event evt_1 finished 1500 ms after its claim, within \
             its 30 s lease, and the store held another delivery's claim or completion: this store cannot \
             claim atomically (it reads, then writes), so deliveries of one event that arrive together may \
             each run the handler; for exactly once, use a store that serialises access (a Durable Object)"
        );
        let blames_lease = crate::claim_lost_warning("evt 1", lease);
        assert_eq!(claim_lost_warning("evt 1", lease, Some(lease)), blames_lease);
        assert_eq!(claim_lost_warning("evt 1", lease, None), blames_lease);
        assert!(claim_lost_warning("evt 1", lease, Some(Duration::ZERO))
            .contains("event \"evt 1\" finished 0 ms"));
    }

    const LEASE: Duration = Duration::from_secs(30);
    const TTL: Duration = Duration::from_secs(86_400);

    fn stored(write: KvWrite) -> Option<String> {
        match write {
            KvWrite::Put { value, .. } => Some(value),
            KvWrite::Delete => None,
            KvWrite::Keep => panic!("expected a write"),
        }
    }

    #[test]
    fn claim_complete_then_done_until_the_ttl() {
        let (mine, other) = (ClaimToken::new(1), ClaimToken::new(2));
        let (claim, write) = claim(None, mine, LEASE, 1_000).unwrap();
        assert_eq!(claim, Claim::Fresh(mine));
        let held = stored(write);
        assert_eq!(super::claim(held.as_deref(), other, LEASE, 2_000).unwrap().0, Claim::InProgress);
        assert_eq!(complete(held.as_deref(), other, TTL, 2_000).unwrap(), (false, KvWrite::Keep));
        let (completed, write) = complete(held.as_deref(), mine, TTL, 2_000).unwrap();
        assert!(completed);
        let done = stored(write);
        assert_eq!(super::claim(done.as_deref(), other, LEASE, 3_000).unwrap().0, Claim::Done);
        let after_ttl = 2_000 + 86_400_000 + 1;
        assert_eq!(super::claim(done.as_deref(), other, LEASE, after_ttl).unwrap().0, Claim::Fresh(other));
    }

    #[test]
    fn release_frees_only_for_the_holder_and_an_expired_lease_is_free() {
        let (mine, other) = (ClaimToken::new(1), ClaimToken::new(2));
        let held = stored(claim(None, mine, LEASE, 0).unwrap().1);
        assert_eq!(release(held.as_deref(), other).unwrap(), (false, KvWrite::Keep));
        assert_eq!(release(held.as_deref(), mine).unwrap(), (true, KvWrite::Delete));
        assert_eq!(claim(held.as_deref(), other, LEASE, 30_001).unwrap().0, Claim::Fresh(other));
    }

    #[test]
    fn finish_completes_after_success_and_releases_after_failure() {
        let mine = ClaimToken::new(7);
        let held = stored(claim(None, mine, LEASE, 0).unwrap().1);
        assert_eq!(finish(held.as_deref(), mine, true, TTL, 5), complete(held.as_deref(), mine, TTL, 5));
        assert_eq!(finish(held.as_deref(), mine, false, TTL, 5).unwrap(), (true, KvWrite::Delete));
        assert_eq!(
            finish(held.as_deref(), ClaimToken::new(8), false, TTL, 5).unwrap(),
            (false, KvWrite::Keep)
        );
        let done = stored(finish(held.as_deref(), mine, true, TTL, 5).unwrap().1);
        assert_eq!(claim(done.as_deref(), ClaimToken::new(9), LEASE, 6).unwrap().0, Claim::Done);
    }

    #[test]
    fn a_free_record_is_no_record() {
        let (mine, other) = (ClaimToken::new(1), ClaimToken::new(2));
        let (claim_on_free, write) = claim(Some(FREE), mine, LEASE, 0).unwrap();
        assert_eq!(claim_on_free, Claim::Fresh(mine));
        assert!(matches!(write, KvWrite::Put { .. }));
        assert_eq!(release(Some(FREE), other).unwrap(), (false, KvWrite::Keep));
    }

    #[test]
    fn a_claim_the_store_does_not_show_yet_is_completed() {
        // The read after the handler missed the claim (a cached "not found"): the id is recorded as done,
        // so a retry is answered as a duplicate, and the claim is not reported lost.
        let mine = ClaimToken::new(1);
        for unseen in [None, Some(FREE)] {
            let (completed, write) = complete(unseen, mine, TTL, 7).unwrap();
            assert!(completed);
            let done = stored(write);
            assert_eq!(done.as_deref(), Some("done:86400007"));
            assert_eq!(claim(done.as_deref(), ClaimToken::new(2), LEASE, 8).unwrap().0, Claim::Done);
        }
        // Another delivery's claim, or its completion, is a lost claim: nothing is written.
        let theirs = stored(claim(None, ClaimToken::new(2), LEASE, 0).unwrap().1);
        assert_eq!(complete(theirs.as_deref(), mine, TTL, 5).unwrap(), (false, KvWrite::Keep));
        let done = stored(complete(theirs.as_deref(), ClaimToken::new(2), TTL, 5).unwrap().1);
        assert_eq!(complete(done.as_deref(), mine, TTL, 6).unwrap(), (false, KvWrite::Keep));
    }

    #[test]
    fn unreadable_records_are_store_unavailable_and_keys_match_redis() {
        let error = claim(Some("garbage"), ClaimToken::new(1), LEASE, 0).unwrap_err();
        assert_eq!(error.code(), crate::ErrorCode::StoreUnavailable);
        assert_eq!(key("p", "evt_1").len(), 2 + 64);
        assert!(key(DEFAULT_PREFIX, "evt_1").starts_with("anchor-webhooks:dedupe:"));
    }
}
