//! The durations a user chooses for dedupe and the size of a memory store, and the range each may take.
//! The rule lives here, once, so Rust, Python, Node, wasm, C and Go refuse the same values for the same
//! reason; each binding only puts its own name for the option in front of [`SettingError`]'s text.

use std::fmt;
use std::time::Duration;

use crate::dedupe::{DEFAULT_DONE_TTL, DEFAULT_LEASE, DEFAULT_MAX_ENTRIES};

/// A duration a user sets on a receiver or a store.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Setting {
    /// How long a claim is held before another worker may take the event over
    /// ([`Receiver::with_lease`](crate::Receiver::with_lease)).
    Lease,
    /// How long a completed id is remembered ([`MemoryStore::new`](crate::MemoryStore::new),
    /// [`RedisOptions::done_ttl`](crate::RedisOptions)).
    DoneTtl,
    /// The deadline of every connect and command of a remote store (`RedisOptions::timeout`, 1 s by
    /// default), or of one call to a key-value store ([`kv::DEFAULT_CALL_TIMEOUT`](crate::kv::DEFAULT_CALL_TIMEOUT)).
    Timeout,
}

impl Setting {
    /// The longest duration any setting takes: 2^53 − 1 milliseconds (about 285 000 years), so every host
    /// carries it exactly (a JavaScript number included) and no deadline arithmetic can overflow.
    pub const MAXIMUM: Duration = Duration::from_millis((1 << 53) - 1);

    /// The shortest duration this setting takes.
    ///
    /// - A lease under a second would expire under any real handler: a retry would claim the event
    ///   again and run the handler a second time, alongside the first.
    /// - A done-TTL of 0 forgets a completed id at once, so every retry runs the handler again. One
    ///   second is the least that is still a TTL; [`DEFAULT_DONE_TTL`] is what production wants.
    /// - A timeout of 0 is not a deadline at all (the socket layer refuses it).
    pub const fn minimum(self) -> Duration {
        match self {
            Setting::Lease | Setting::DoneTtl => Duration::from_secs(1),
            Setting::Timeout => Duration::from_millis(1),
        }
    }

    /// Accepts `value` when it is within `minimum()..=MAXIMUM`.
    pub fn check(self, value: Duration) -> Result<Duration, SettingError> {
        if value < self.minimum() {
            Err(SettingError(Problem::TooShort(self)))
        } else if value > Setting::MAXIMUM {
            Err(SettingError(Problem::TooLong(self)))
        } else {
            Ok(value)
        }
    }

    /// A number of seconds as host languages give it (fractions allowed, to the millisecond), then
    /// [`check`](Setting::check).
    pub fn from_seconds(self, seconds: f64) -> Result<Duration, SettingError> {
        if seconds.is_nan() {
            return Err(SettingError(Problem::NotANumber(self)));
        }
        // Milliseconds through a saturating integer cast (negative → 0, huge or infinite → u64::MAX), which
        // `check` then refuses: `Duration`'s own float conversion would cost the WebAssembly build 0.5 KB.
        self.from_millis((seconds * 1000.0) as u64)
    }

    /// A number of milliseconds, then [`check`](Setting::check).
    pub fn from_millis(self, millis: u64) -> Result<Duration, SettingError> {
        self.check(Duration::from_millis(millis))
    }

    /// The refusal of a too-short value: the minimum, what a shorter value would break, and the default.
    /// Whole texts, not formatted, which keeps the WebAssembly build small.
    const fn too_short(self) -> &'static str {
        match self {
            Setting::Lease => {
                "must be at least 1 s: a shorter lease expires under a running handler, and a retry would run it \
                 a second time alongside (the default is 30 s)"
            }
            Setting::DoneTtl => {
                "must be at least 1 s: a shorter TTL forgets a completed id at once, and every retry would run the \
                 handler again (the default is 24 h)"
            }
            // No default named: the Redis store's (1 s) and a key-value store's call (2 s) differ.
            Setting::Timeout => "must be at least 1 ms: 0 is no deadline at all",
        }
    }
}

/// Accepts a memory store's `max_entries` when it is at least 1: a store with room for no id could claim
/// nothing, and would answer every delivery 503 ([`MemoryStore::new`](crate::MemoryStore::new)).
pub(crate) fn check_max_entries(max_entries: usize) -> Result<usize, SettingError> {
    match max_entries {
        0 => Err(SettingError(Problem::NoRoom)),
        _ => Ok(max_entries),
    }
}

// The texts above and below state these.
const _: () = assert!(DEFAULT_LEASE.as_secs() == 30 && DEFAULT_DONE_TTL.as_secs() == 86_400);
const _: () = assert!(DEFAULT_MAX_ENTRIES == 100_000);
const _: () = assert!(Setting::Lease.minimum().as_secs() == 1 && Setting::DoneTtl.minimum().as_secs() == 1);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Problem {
    NotANumber(Setting),
    TooShort(Setting),
    TooLong(Setting),
    NoRoom,
}

/// A duration outside its setting's range, or a memory store's `max_entries` of 0. Its text has no
/// subject: each binding puts its own name for the option first (`lease`, `leaseSeconds`, `lease_ms`,
/// `WithLease`), as in `"lease {error}"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SettingError(Problem);

impl SettingError {
    /// The duration refused, or `None` for a memory store's `max_entries` (a count, not a duration), so a
    /// binding can name the option that [`MemoryStore::new`](crate::MemoryStore::new) refused.
    pub fn setting(&self) -> Option<Setting> {
        match self.0 {
            Problem::NotANumber(setting) | Problem::TooShort(setting) | Problem::TooLong(setting) => {
                Some(setting)
            }
            Problem::NoRoom => None,
        }
    }
}

impl fmt::Display for SettingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.0 {
            Problem::NotANumber(_) => "must be a number of seconds, not NaN",
            Problem::TooShort(setting) => setting.too_short(),
            Problem::TooLong(_) => TOO_LONG,
            Problem::NoRoom => {
                "must be at least 1: a store with room for no id claims nothing, and every delivery would be \
                 answered 503 (the default is 100000)"
            }
        })
    }
}

/// The refusal of a value over [`Setting::MAXIMUM`] (whose whole seconds it states; a test holds them equal).
const TOO_LONG: &str = "must be at most 9007199254740 s";

impl std::error::Error for SettingError {}

/// `30 s`, or `2500 ms` when not whole seconds: integers only, as float formatting would add about 20 KB
/// to the WebAssembly build.
pub(crate) fn duration_text(duration: Duration) -> String {
    match duration.subsec_millis() {
        0 => format!("{} s", duration.as_secs()),
        // Every setting fits u64 milliseconds; u128 formatting would also cost the WebAssembly build.
        _ => format!("{} ms", u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_setting_takes_its_minimum_and_the_maximum_and_nothing_outside() {
        for setting in [Setting::Lease, Setting::DoneTtl, Setting::Timeout] {
            let minimum = setting.minimum();
            assert_eq!(setting.check(minimum), Ok(minimum));
            assert_eq!(setting.check(Setting::MAXIMUM), Ok(Setting::MAXIMUM));
            assert!(setting.check(minimum - Duration::from_nanos(1)).is_err());
            assert!(setting.check(Setting::MAXIMUM + Duration::from_nanos(1)).is_err());
            assert!(setting.check(Duration::ZERO).is_err());
        }
    }

    #[test]
    fn seconds_from_hosts_are_checked_without_panicking() {
        let lease = Setting::Lease;
        assert_eq!(lease.from_seconds(2.5), Ok(Duration::from_millis(2500)));
        assert_eq!(lease.from_seconds(1.0004), Ok(Duration::from_secs(1)));
        assert_eq!(lease.from_seconds(1.0), Ok(Duration::from_secs(1)));
        assert_eq!(Setting::Timeout.from_seconds(0.001), Ok(Duration::from_millis(1)));
        for refused in [0.0, 0.999, -1.0, -0.0, f64::NEG_INFINITY, f64::INFINITY, f64::NAN, f64::MAX, 1e300] {
            assert!(lease.from_seconds(refused).is_err(), "{refused} was accepted");
        }
        assert_eq!(
            lease.from_millis(999).map_err(|e| e.to_string()),
            Err(lease.check(Duration::ZERO).unwrap_err().to_string())
        );
        assert_eq!(lease.from_millis(1000), Ok(Duration::from_secs(1)));
    }

    #[test]
    fn messages_say_the_bound_why_and_the_default() {
        let text = |setting: Setting, seconds: f64| setting.from_seconds(seconds).unwrap_err().to_string();
        assert_eq!(
            text(Setting::Lease, 0.0),
            "must be at least 1 s: a shorter lease expires under a running handler, and a retry would run it a \
             second time alongside (the default is 30 s)"
        );
        assert_eq!(
            text(Setting::DoneTtl, 0.5),
            "must be at least 1 s: a shorter TTL forgets a completed id at once, and every retry would run the \
             handler again (the default is 24 h)"
        );
        assert_eq!(text(Setting::Timeout, 0.0), "must be at least 1 ms: 0 is no deadline at all");
        assert_eq!(text(Setting::Lease, 1e300), format!("must be at most {} s", Setting::MAXIMUM.as_secs()));
        assert_eq!(text(Setting::DoneTtl, f64::NAN), "must be a number of seconds, not NaN");
    }
}
