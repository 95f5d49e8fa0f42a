//! Verify signed webhook deliveries: the `Anchor-Signature` scheme and Standard Webhooks.
//!
//! ```
//! use anchor_webhooks::{sign, MemoryStore, Outcome, Receiver, Scheme, Verifier};
//!
//! let secret = "36da51b166a69268a59a8d5ee0b32c9f5e5aaee7d301c7a5a36844318e116fc6";
//! let body = br#"{"id":"evt_1","type":"task.completed","created":"2026-05-24T12:18:05.123Z","data":{}}"#;
//! let now = 1_716_544_084;
//! // What the provider sends (here signed locally, as a test would).
//! let headers = sign(Scheme::Anchor, [secret], body, now)?;
//!
//! // Verify only:
//! let verifier = Verifier::anchor([secret])?;
//! let verified = verifier.verify(&headers, body, now)?;
//! assert_eq!(verified.event.event_type().as_str(), "task.completed");
//!
//! // Verify, dedupe, run the handler, answer with the status it suggests:
//! let receiver = Receiver::new(verifier, MemoryStore::default());
//! let outcome = receiver.handle(&headers, body, now * 1000, |verified| {
//!     println!("processing {}", verified.event.id());
//!     Ok::<(), std::io::Error>(())
//! });
//! assert!(matches!(outcome, Outcome::Processed { .. }));
//! assert_eq!(outcome.http_status(), 200);
//! // The retry of the same event is a duplicate: 200, handler not run.
//! let again = receiver.handle(&headers, body, now * 1000, |_| -> Result<(), std::io::Error> { unreachable!() });
//! assert_eq!(again.kind(), "duplicate");
//! # Ok::<(), anchor_webhooks::Error>(())
//! ```
//!
//! The rules (header grammar, timestamp format, order of checks, limits, secrets, HTTP answers) are in
//! [`decisions`], and pinned by the shared vectors in the repository's `tests/vectors/`, which every
//! binding runs.
//!
//! The core never reads the clock: every call takes `now` ([`Verifier`] and [`sign`] in unix seconds,
//! [`Receiver`] and [`DedupeStore`] in unix milliseconds), so bindings pass their host's time and tests pass
//! a fixed one.

#![forbid(unsafe_code)]
#![warn(missing_debug_implementations, missing_docs)]

mod dedupe;
pub mod decisions {
    #![doc = include_str!("../DECISIONS.md")]
}
mod error;
mod event;
mod headers;
pub mod kv;
mod parse;
mod receiver;
#[cfg(feature = "redis")]
mod redis_store;
mod rfc3339;
mod secret;
mod setting;
mod sign;
mod verify;

pub use dedupe::{
    Claim, ClaimToken, DedupeStore, MemoryStore, DEFAULT_DONE_TTL, DEFAULT_LEASE, DEFAULT_MAX_ENTRIES,
};
pub use error::{Error, ErrorCode, MismatchHint, SecretProblem};
pub use event::{Artifact, Event, EventType, SessionData, TaskData, TaskErrorType, TRUNCATED_MARKER};
pub use headers::{cgi_variable, usual_spellings, CgiHeaders, HeaderLookup, Headers};
pub use parse::{MAX_HEADER_BYTES, MAX_SIGNATURES, MAX_TIMESTAMP, MAX_TIMESTAMP_DIGITS};
pub use receiver::{
    claim_lost_warning, sender_retries, unrecorded, unreleased, ClaimGuard, Claimed, Outcome, Receiver,
    Reception, IN_PROGRESS_RETRY_AFTER_SECONDS,
};
#[cfg(feature = "redis")]
pub use redis_store::{RedisCheckError, RedisCheckErrorKind, RedisConfigError, RedisOptions, RedisStore};
pub use secret::STANDARD_SECRET_PREFIX;
pub use setting::{Setting, SettingError};
pub use sign::{sign, SignOptions, SignedHeaders, Signer, ANCHOR_USER_AGENT};
pub use verify::{Scheme, Verified, VerifiedSignature, Verifier, DEFAULT_MAX_BODY_BYTES};

/// Re-exported so users can read `Event::data` and `Event::created` without adding the crates.
pub use serde_json;
pub use time;
