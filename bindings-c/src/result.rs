//! `anchor_result`: the one result type of every fallible function, and the one place where core errors
//! become result codes.

use anchor_webhooks::ErrorCode;

/// The result of every fallible function. Numbers are stable and never reused: 0 is success, 1 to 999 are
/// the core's error catalogue (`ErrorCode::number()`, the same codes as every other language), 1000 and up
/// are conditions of the C ABI itself.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum anchor_result {
    /// Success: the outputs were written.
    Ok = 0,
    /// `invalid_secret`: a secret is empty, padded with whitespace, quoted, of the wrong format for the
    /// scheme, or not UTF-8; or no secret was given. HTTP 500 (a configuration error).
    InvalidSecret = 1,
    /// `missing_header`: a required header is absent. HTTP 400.
    MissingHeader = 2,
    /// `malformed_header`: a header is repeated, too long, not visible ASCII, or ungrammatical. HTTP 400.
    MalformedHeader = 3,
    /// `malformed_timestamp`: a timestamp is not 1 to 12 ASCII digits. HTTP 400.
    MalformedTimestamp = 4,
    /// `timestamp_mismatch`: `Anchor-Timestamp` and the signature's `t=` differ. HTTP 401.
    TimestampMismatch = 5,
    /// `timestamp_too_old`: signed longer ago than the tolerance allows. HTTP 401.
    TimestampTooOld = 6,
    /// `timestamp_too_new`: signed further ahead than the tolerance allows. HTTP 401.
    TimestampTooNew = 7,
    /// `no_signature`: the signature header carries no signature of a version we verify. HTTP 401.
    NoSignature = 8,
    /// `signature_mismatch`: no signature matches any configured secret. HTTP 401.
    SignatureMismatch = 9,
    /// `body_too_large`: the body is over the configured limit. HTTP 413.
    BodyTooLarge = 10,
    /// `invalid_payload`: the signature is valid but the body is not the expected envelope. HTTP 400.
    InvalidPayload = 11,
    /// `store_unavailable`: the dedupe store failed or is full. HTTP 503 (the sender retries).
    StoreUnavailable = 12,
    /// `null_parameter`: a required pointer was NULL (or a NULL buffer came with a non-zero length).
    NullParameter = 1000,
    /// `panic`: the library panicked; the call had no effect. Please report it.
    Panic = 1001,
    /// `buffer_too_small`: the caller's buffer cannot hold the text; nothing was written to it, and
    /// `*written` holds the size needed.
    BufferTooSmall = 1002,
    /// `invalid_argument`: an argument is out of its range (an unknown scheme or result number, an index
    /// past the end of a catalogue, an event that holds no claim).
    InvalidArgument = 1003,
    /// `store_misconfigured`: `anchor_redis_store_check` found a setup that can never work until it is
    /// changed (a wrong password, a missing ACL right, a server older than Redis 7.0, ...): refuse to
    /// start. A server that is merely down is `ANCHOR_RESULT_STORE_UNAVAILABLE`.
    StoreMisconfigured = 1004,
}

/// What `anchor_result` adds to the core's catalogue, with its stable snake_case name.
const ABI_RESULTS: [(anchor_result, &str); 6] = [
    (anchor_result::Ok, "ok"),
    (anchor_result::NullParameter, "null_parameter"),
    (anchor_result::Panic, "panic"),
    (anchor_result::BufferTooSmall, "buffer_too_small"),
    (anchor_result::InvalidArgument, "invalid_argument"),
    (anchor_result::StoreMisconfigured, "store_misconfigured"),
];

impl anchor_result {
    /// The result code of a core error code.
    pub(crate) fn from_code(code: ErrorCode) -> anchor_result {
        match code {
            ErrorCode::InvalidSecret => anchor_result::InvalidSecret,
            ErrorCode::MissingHeader => anchor_result::MissingHeader,
            ErrorCode::MalformedHeader => anchor_result::MalformedHeader,
            ErrorCode::MalformedTimestamp => anchor_result::MalformedTimestamp,
            ErrorCode::TimestampMismatch => anchor_result::TimestampMismatch,
            ErrorCode::TimestampTooOld => anchor_result::TimestampTooOld,
            ErrorCode::TimestampTooNew => anchor_result::TimestampTooNew,
            ErrorCode::NoSignature => anchor_result::NoSignature,
            ErrorCode::SignatureMismatch => anchor_result::SignatureMismatch,
            ErrorCode::BodyTooLarge => anchor_result::BodyTooLarge,
            ErrorCode::InvalidPayload => anchor_result::InvalidPayload,
            ErrorCode::StoreUnavailable => anchor_result::StoreUnavailable,
            // A code added to the core but not here: `result_enum_matches_the_core_catalogue` fails on it
            // before any release, so this arm is never taken by a tested build.
            _ => anchor_result::Panic,
        }
    }

    /// The core error code of a result, if it is one.
    pub(crate) fn code(self) -> Option<ErrorCode> {
        ErrorCode::ALL.iter().copied().find(|code| code.number() == self as u32)
    }

    /// Looks a result up by number (C passes `uint32_t`, which may hold anything).
    pub(crate) fn from_number(number: u32) -> Option<anchor_result> {
        let abi = ABI_RESULTS.iter().map(|(result, _)| *result);
        let core = ErrorCode::ALL.iter().map(|code| anchor_result::from_code(*code));
        abi.chain(core).find(|result| *result as u32 == number)
    }

    /// The stable snake_case name: the core's code (`signature_mismatch`) or the ABI's own (`panic`).
    pub(crate) fn name(self) -> &'static str {
        match self.code() {
            Some(code) => code.as_str(),
            None => ABI_RESULTS.iter().find(|(result, _)| *result == self).map_or("panic", |(_, name)| name),
        }
    }

    /// The suggested HTTP status: the core's for its codes, 500 for the ABI's failures, 200 for `Ok`.
    pub(crate) fn http_status(self) -> u16 {
        match (self, self.code()) {
            (anchor_result::Ok, _) => 200,
            (_, Some(code)) => code.http_status(),
            (_, None) => 500,
        }
    }

    /// A one-line description that does not depend on any call (the per-handle `_last_error` functions
    /// give the message of a particular failure).
    pub(crate) fn description(self) -> String {
        let what = match self {
            anchor_result::Ok => "success",
            anchor_result::NullParameter => "a required pointer parameter was NULL",
            anchor_result::Panic => "the library panicked; the call had no effect (please report it)",
            anchor_result::BufferTooSmall => "the buffer is too small; `*written` holds the size needed",
            anchor_result::InvalidArgument => "an argument is out of its range",
            anchor_result::StoreMisconfigured => {
                "the Redis store's setup can never work until it is changed (refuse to start); \
                 anchor_redis_store_last_error says why"
            }
            _ => {
                return format!(
                    "{}: an error of the core's catalogue (suggested HTTP status {}); the handle's \
                     _last_error function has the message of the failed call",
                    self.name(),
                    self.http_status()
                )
            }
        };
        format!("{}: {what}", self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The C enum is declared by hand (cbindgen cannot read the core's macro), so this test is what keeps
    /// it equal to the core's catalogue: same numbers, same names.
    #[test]
    fn result_enum_matches_the_core_catalogue() {
        let mut fixes = Vec::new();
        for code in ErrorCode::ALL {
            let result = anchor_result::from_code(*code);
            let variant = format!("{result:?}");
            let expected: String =
                code.as_str().split('_').map(|word| word[..1].to_uppercase() + &word[1..]).collect();
            if result as u32 != code.number() || variant != expected {
                fixes.push(format!(
                    "    /// `{}`: ...\n    {expected} = {},   (and map ErrorCode::{expected} in from_code)",
                    code.as_str(),
                    code.number()
                ));
            }
        }
        assert!(
            fixes.is_empty(),
            "anchor_result (bindings-c/src/result.rs) drifted from the core's ErrorCode catalogue; add or fix:\n{}\n\
             then regenerate the header: bindings-c/regen-header.sh",
            fixes.join("\n")
        );
    }

    #[test]
    fn numbers_names_and_lookups_round_trip() {
        let all: Vec<anchor_result> = ABI_RESULTS
            .iter()
            .map(|(r, _)| *r)
            .chain(ErrorCode::ALL.iter().map(|c| anchor_result::from_code(*c)))
            .collect();
        let mut numbers: Vec<u32> = all.iter().map(|r| *r as u32).collect();
        numbers.sort_unstable();
        numbers.dedup();
        assert_eq!(numbers.len(), all.len(), "result numbers are unique");
        for result in all {
            assert_eq!(anchor_result::from_number(result as u32), Some(result));
            assert!(result.description().starts_with(result.name()));
        }
        assert_eq!(anchor_result::from_number(999), None);
        assert_eq!(anchor_result::SignatureMismatch.name(), "signature_mismatch");
        assert_eq!(anchor_result::SignatureMismatch.http_status(), 401);
        assert_eq!(anchor_result::Panic.name(), "panic");
        assert_eq!(anchor_result::Panic.http_status(), 500);
    }
}
