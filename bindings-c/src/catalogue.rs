//! The catalogues (result codes, error codes, event types), the version and the host clock.

use std::time::{SystemTime, UNIX_EPOCH};

use anchor_webhooks::{ErrorCode, EventType};

use crate::ffi::{self, anchor_bytes, Failure};
use crate::result::anchor_result;

/// One entry of the core's error catalogue.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct anchor_error_code_info {
    /// Its result code (`ANCHOR_RESULT_SIGNATURE_MISMATCH`, ...), the core's stable number.
    pub result: anchor_result,
    /// Its stable snake_case name (`signature_mismatch`), the same in every language. Static.
    pub name: anchor_bytes,
    /// The HTTP status a receiver should answer with.
    pub http_status: u16,
}

/// The major part of the version this header belongs to (`ANCHOR_WEBHOOKS_VERSION` is the three parts as
/// a string literal). Compare `ANCHOR_WEBHOOKS_VERSION` with `anchor_version()` at start-up to catch a
/// program built against one header and run with another library; while the major version is 0, a new
/// minor version may change the ABI.
pub const ANCHOR_WEBHOOKS_VERSION_MAJOR: u32 = 0;
/// The minor part of the version this header belongs to.
pub const ANCHOR_WEBHOOKS_VERSION_MINOR: u32 = 1;
/// The patch part of the version this header belongs to.
pub const ANCHOR_WEBHOOKS_VERSION_PATCH: u32 = 0;

/// The library version, a static NUL-terminated string such as `0.1.0`.
#[no_mangle]
pub extern "C" fn anchor_version() -> *const std::ffi::c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// Whether the sender retries a delivery answered with `status`: 3xx, 408, 429, 5xx and any status outside
/// 2xx and 4xx (SPEC §2). A host whose handler answers the delivery itself releases the claim
/// (`anchor_receiver_release`) for such a status, so the retry runs the handler, and completes it for any
/// other: completing after a 429 would answer the retry `duplicate`, and the event would be lost.
#[no_mangle]
pub extern "C" fn anchor_sender_retries(status: u16) -> bool {
    anchor_webhooks::sender_retries(status)
}

/// The host clock in unix seconds, for the `now` parameters (the library never reads the clock by
/// itself: tests and replays pass their own time).
#[no_mangle]
pub extern "C" fn anchor_now_unix_seconds() -> u64 {
    anchor_now_unix_ms() / 1000
}

/// The host clock in unix milliseconds, for the `now_ms` parameters of the receiver.
#[no_mangle]
pub extern "C" fn anchor_now_unix_ms() -> u64 {
    // std panics if the OS clock cannot be read; no panic may cross into C (0 then, like a clock before 1970).
    std::panic::catch_unwind(|| {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    })
    .unwrap_or(0)
}

fn result_of(result: u32) -> Result<anchor_result, Failure> {
    anchor_result::from_number(result)
        .ok_or_else(|| Failure::invalid(format!("invalid_argument: {result} is not an anchor_result")))
}

/// The stable snake_case name of a result code (`signature_mismatch`, `null_parameter`, ...), as a static
/// view. `ANCHOR_RESULT_INVALID_ARGUMENT` for a number that is not an `anchor_result`.
#[no_mangle]
pub unsafe extern "C" fn anchor_result_name(result: u32, name_out: *mut anchor_bytes) -> anchor_result {
    ffi::guard(None, || {
        // SAFETY: the header's pointer contract.
        let out = unsafe { ffi::output(name_out, "name_out") }?;
        out.write(anchor_bytes::of(result_of(result)?.name().as_bytes()));
        Ok(())
    })
}

/// Writes a one-line description of a result code into `buf` (`len` bytes; `*written` receives its
/// length; not NUL-terminated). `ANCHOR_RESULT_BUFFER_TOO_SMALL` (nothing written to `buf`, `*written` =
/// the size needed) when it does not fit. The handle's `_last_error` has the message of a particular
/// failure.
#[no_mangle]
pub unsafe extern "C" fn anchor_result_message(
    result: u32,
    buf: *mut u8,
    len: usize,
    written: *mut usize,
) -> anchor_result {
    ffi::guard(None, || {
        let description = result_of(result)?.description();
        // SAFETY: the header's pointer contract.
        unsafe { ffi::write_text(description.as_bytes(), buf, len, written) }
    })
}

/// The HTTP status a receiver should answer with for a result: the core's suggestion for its codes
/// (401 refused, 400 malformed, 413 too large, 503 store unavailable), 500 for the ABI's own failures,
/// 200 for `ANCHOR_RESULT_OK`.
#[no_mangle]
pub unsafe extern "C" fn anchor_result_http_status(result: u32, status_out: *mut u16) -> anchor_result {
    ffi::guard(None, || {
        // SAFETY: the header's pointer contract.
        let out = unsafe { ffi::output(status_out, "status_out") }?;
        out.write(result_of(result)?.http_status());
        Ok(())
    })
}

/// The number of entries in the core's error catalogue.
#[no_mangle]
pub extern "C" fn anchor_error_codes_count() -> usize {
    ErrorCode::ALL.len()
}

/// Entry `index` (0 to `anchor_error_codes_count() - 1`) of the core's error catalogue.
#[no_mangle]
pub unsafe extern "C" fn anchor_error_codes_get(
    index: usize,
    info_out: *mut anchor_error_code_info,
) -> anchor_result {
    ffi::guard(None, || {
        // SAFETY: the header's pointer contract.
        let out = unsafe { ffi::output(info_out, "info_out") }?;
        let code = ErrorCode::ALL.get(index).ok_or_else(|| out_of_range(index, ErrorCode::ALL.len()))?;
        out.write(anchor_error_code_info {
            result: anchor_result::from_code(*code),
            name: anchor_bytes::of(code.as_str().as_bytes()),
            http_status: code.http_status(),
        });
        Ok(())
    })
}

/// The number of event types in the core's catalogue.
#[no_mangle]
pub extern "C" fn anchor_event_types_count() -> usize {
    EventType::ALL_NAMES.len()
}

/// Event type `index` (0 to `anchor_event_types_count() - 1`) of the catalogue, e.g. `task.completed`,
/// as a static view.
#[no_mangle]
pub unsafe extern "C" fn anchor_event_types_get(index: usize, name_out: *mut anchor_bytes) -> anchor_result {
    ffi::guard(None, || {
        // SAFETY: the header's pointer contract.
        let out = unsafe { ffi::output(name_out, "name_out") }?;
        let name =
            EventType::ALL_NAMES.get(index).ok_or_else(|| out_of_range(index, EventType::ALL_NAMES.len()))?;
        out.write(anchor_bytes::of(name.as_bytes()));
        Ok(())
    })
}

fn out_of_range(index: usize, len: usize) -> Failure {
    Failure::invalid(format!(
        "invalid_argument: index {index} is past the end of the catalogue ({len} entries)"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_constants_are_the_crate_version() {
        let number = |part: &str| part.parse::<u32>().expect("a numeric version part");
        assert_eq!(ANCHOR_WEBHOOKS_VERSION_MAJOR, number(env!("CARGO_PKG_VERSION_MAJOR")));
        assert_eq!(ANCHOR_WEBHOOKS_VERSION_MINOR, number(env!("CARGO_PKG_VERSION_MINOR")));
        assert_eq!(ANCHOR_WEBHOOKS_VERSION_PATCH, number(env!("CARGO_PKG_VERSION_PATCH")));
    }
}
