//! The boundary: the panic guard, the pointer checks, and the conversions of raw C inputs and outputs.
//! Every `unsafe` operation of the crate that touches a raw pointer happens in this module.

use std::borrow::Cow;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr::{self, NonNull};

use crate::last_error::{self, LastError};
use crate::result::anchor_result;

/// A borrowed byte string: `len` bytes at `data`. Not NUL-terminated, not necessarily UTF-8.
///
/// As an output of the library it is a view into memory owned by a handle, valid until that handle is
/// freed; `data` is NULL (and `len` 0) when an optional value is absent, which is distinct from an
/// empty value (`len` 0 and a non-NULL `data` pointing at a real, static byte, so passing it to `memcpy`
/// with its length is defined).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct anchor_bytes {
    /// The first byte (may be NULL when `len` is 0).
    pub data: *const u8,
    /// The number of bytes.
    pub len: usize,
}

/// One HTTP header as received: name and value as byte strings (names in any case; repeated names are
/// passed as repeated entries, never merged).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct anchor_header {
    /// The header name (may be NULL when `name_len` is 0).
    pub name: *const u8,
    /// The length of `name` in bytes.
    pub name_len: usize,
    /// The header value, exactly as received (may be NULL when `value_len` is 0).
    pub value: *const u8,
    /// The length of `value` in bytes.
    pub value_len: usize,
}

/// Where every empty view points: a real address, so `memcpy(dst, data, 0)` is defined in C (an empty Rust
/// slice's pointer is dangling, e.g. `0x1`, which C17 7.24.1p2 does not allow even for a length of 0).
static EMPTY: [u8; 1] = [0];

/// The pointer to hand to C for `bytes`: their first byte, or [`EMPTY`] when there is none.
pub(crate) fn data_of(bytes: &[u8]) -> *const u8 {
    if bytes.is_empty() {
        EMPTY.as_ptr()
    } else {
        bytes.as_ptr()
    }
}

impl anchor_bytes {
    /// A view of `bytes`; it stays valid as long as they do.
    pub(crate) fn of(bytes: &[u8]) -> anchor_bytes {
        anchor_bytes { data: data_of(bytes), len: bytes.len() }
    }

    /// A view of an optional value: `{NULL, 0}` when absent.
    pub(crate) fn of_optional(bytes: Option<&[u8]>) -> anchor_bytes {
        bytes.map_or(anchor_bytes { data: ptr::null(), len: 0 }, anchor_bytes::of)
    }
}

/// Why a call failed: its result code and the message kept as the handle's last error.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) code: anchor_result,
    pub(crate) message: Cow<'static, str>,
}

impl Failure {
    pub(crate) fn new(code: anchor_result, message: impl Into<Cow<'static, str>>) -> Failure {
        Failure { code, message: message.into() }
    }

    pub(crate) fn null(parameter: &'static str) -> Failure {
        Failure::new(anchor_result::NullParameter, format!("null_parameter: `{parameter}` is NULL"))
    }

    pub(crate) fn invalid(message: impl Into<Cow<'static, str>>) -> Failure {
        Failure::new(anchor_result::InvalidArgument, message)
    }
}

/// The single mapping of core errors: the code by its catalogue number, the core's message as is.
impl From<anchor_webhooks::Error> for Failure {
    fn from(error: anchor_webhooks::Error) -> Failure {
        Failure::new(anchor_result::from_code(error.code()), error.to_string())
    }
}

pub(crate) type Outcome = Result<(), Failure>;

/// Runs the body of an exported function. A failure becomes its result code, and its message that
/// handle's last error for this thread (or, without a handle, this thread's `anchor_last_error`); a panic
/// becomes `ANCHOR_RESULT_PANIC`.
pub(crate) fn guard(last_error: Option<&LastError>, body: impl FnOnce() -> Outcome) -> anchor_result {
    run(body, |message| match last_error {
        Some(last_error) => last_error.record(message),
        None => last_error::record_for_thread(message),
    })
}

/// `guard` for `anchor_last_error` itself: its own failures (a buffer to size first) must not replace
/// the message being read.
pub(crate) fn guard_keeping_messages(body: impl FnOnce() -> Outcome) -> anchor_result {
    run(body, |_| {})
}

fn run(body: impl FnOnce() -> Outcome, keep: impl Fn(&str)) -> anchor_result {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => anchor_result::Ok,
        Ok(Err(failure)) => {
            keep(&failure.message);
            failure.code
        }
        Err(_) => {
            let _ = catch_unwind(AssertUnwindSafe(|| keep(PANIC_MESSAGE)));
            anchor_result::Panic
        }
    }
}

const PANIC_MESSAGE: &str = "panic: the library panicked; the call had no effect (please report it)";

/// `guard` for functions that return nothing (`_free`): a panic is swallowed, never unwound into C.
pub(crate) fn guard_void(body: impl FnOnce()) {
    let _ = catch_unwind(AssertUnwindSafe(body));
}

/// A handle the caller passed, or `None` for NULL (checked by [`require`], inside the guard).
///
/// # Safety
/// `handle` is NULL or points to a live value of `T` created by this library and not yet freed.
pub(crate) unsafe fn handle<'a, T>(handle: *const T) -> Option<&'a T> {
    // SAFETY: the caller's contract.
    unsafe { handle.as_ref() }
}

/// The handle, or `null_parameter` naming it.
pub(crate) fn require<T>(handle: Option<T>, parameter: &'static str) -> Result<T, Failure> {
    handle.ok_or_else(|| Failure::null(parameter))
}

/// Boxes a value as a new handle; the caller frees it with the matching `_free`.
pub(crate) fn into_handle<T>(value: T) -> *mut T {
    Box::into_raw(Box::new(value))
}

/// Frees a handle made by [`into_handle`]; NULL is a no-op.
///
/// # Safety
/// `handle` is NULL or came from [`into_handle`] with the same `T` and was not freed yet.
pub(crate) unsafe fn free_handle<T>(handle: *mut T) {
    if !handle.is_null() {
        // SAFETY: the caller's contract: it is our box, freed once.
        drop(unsafe { Box::from_raw(handle) });
    }
}

/// `len` elements at `data`: NULL with a zero length is an empty input; NULL with a non-zero length is
/// `null_parameter`; a length no allocation can have is `invalid_argument`.
///
/// # Safety
/// `data` is NULL or valid for reading `len` elements for the duration of the call.
pub(crate) unsafe fn slice<'a, T>(
    data: *const T,
    len: usize,
    parameter: &'static str,
) -> Result<&'a [T], Failure> {
    if len == 0 {
        return Ok(&[]);
    }
    if data.is_null() {
        return Err(Failure::null(parameter));
    }
    if len.checked_mul(size_of::<T>()).is_none_or(|bytes| bytes > isize::MAX as usize) {
        return Err(Failure::invalid(format!("invalid_argument: the length of `{parameter}` is impossible")));
    }
    // SAFETY: non-NULL, and the caller's contract says `len` elements are readable.
    Ok(unsafe { std::slice::from_raw_parts(data, len) })
}

/// The bytes an `anchor_bytes` refers to.
///
/// # Safety
/// As for [`slice`].
pub(crate) unsafe fn bytes_of<'a>(
    bytes: &anchor_bytes,
    parameter: &'static str,
) -> Result<&'a [u8], Failure> {
    // SAFETY: the caller's contract.
    unsafe { slice(bytes.data, bytes.len, parameter) }
}

/// An output parameter, checked for NULL up front and written at most once, at the end, on success.
pub(crate) struct Out<T>(NonNull<T>);

/// Checks an output pointer.
///
/// # Safety
/// `out` is NULL or valid for writing one `T` for the duration of the call.
pub(crate) unsafe fn output<T>(out: *mut T, parameter: &'static str) -> Result<Out<T>, Failure> {
    NonNull::new(out).map(Out).ok_or_else(|| Failure::null(parameter))
}

impl<T> Out<T> {
    pub(crate) fn write(self, value: T) {
        // SAFETY: `output` (an unsafe fn) was given a pointer valid for writing one `T`; it is not NULL.
        // `T` is `Copy` data or a raw pointer in every use, so nothing old is dropped.
        unsafe { self.0.as_ptr().write(value) }
    }
}

/// Headers this small are converted on the stack; larger sets go to the heap.
const STACK_HEADERS: usize = 16;

/// Converts the caller's header array into the pairs the core reads, then runs `f` on them. Every
/// pointer is checked first, in one pass, so the conversion itself is a plain copy (this runs on every
/// verification).
///
/// # Safety
/// `headers` is NULL or valid for reading `count` elements, each of whose pointers is NULL or valid for
/// its length, for the duration of the call.
pub(crate) unsafe fn with_headers<R>(
    headers: *const anchor_header,
    count: usize,
    f: impl FnOnce(&[(&[u8], &[u8])]) -> R,
) -> Result<R, Failure> {
    // SAFETY: the caller's contract.
    let headers = unsafe { slice(headers, count, "headers") }?;
    let unusable = |data: *const u8, len: usize| len > 0 && (data.is_null() || len > isize::MAX as usize);
    if let Some(bad) = headers.iter().find(|h| unusable(h.name, h.name_len) || unusable(h.value, h.value_len))
    {
        let (data, len, parameter) = if unusable(bad.name, bad.name_len) {
            (bad.name, bad.name_len, "headers[].name")
        } else {
            (bad.value, bad.value_len, "headers[].value")
        };
        // SAFETY: `slice` only inspects the pointer here: it fails for NULL or an impossible length.
        return Err(unsafe { slice(data, len, parameter) }.expect_err("an unusable header field"));
    }
    let view = |data: *const u8, len: usize| -> &[u8] {
        if len == 0 {
            &[]
        } else {
            // SAFETY: checked above: non-NULL and a possible length; readable by the caller's contract.
            unsafe { std::slice::from_raw_parts(data, len) }
        }
    };
    let pair = |h: &anchor_header| (view(h.name, h.name_len), view(h.value, h.value_len));
    if headers.len() <= STACK_HEADERS {
        let mut pairs: [(&[u8], &[u8]); STACK_HEADERS] = [(&[], &[]); STACK_HEADERS];
        for (slot, header) in pairs.iter_mut().zip(headers) {
            *slot = pair(header);
        }
        Ok(f(&pairs[..headers.len()]))
    } else {
        Ok(f(&headers.iter().map(pair).collect::<Vec<_>>()))
    }
}

/// Writes `text` into the caller's buffer: on success `*written` is its length (not NUL-terminated).
/// When it does not fit, the buffer is left alone, `*written` receives the size needed, and the result
/// is `buffer_too_small` (the one output written on a failure, so the caller can size a buffer).
///
/// # Safety
/// `buf` is NULL or valid for writing `len` bytes; `written` is NULL or valid for writing a `usize`.
pub(crate) unsafe fn write_text(text: &[u8], buf: *mut u8, len: usize, written: *mut usize) -> Outcome {
    // SAFETY: the caller's contract.
    let written = unsafe { output(written, "written") }?;
    if len > 0 && buf.is_null() {
        return Err(Failure::null("buf"));
    }
    if text.len() > len {
        written.write(text.len());
        return Err(Failure::new(
            anchor_result::BufferTooSmall,
            format!("buffer_too_small: {} bytes needed, the buffer has {len}", text.len()),
        ));
    }
    if !text.is_empty() {
        // SAFETY: `buf` is non-NULL here (len >= text.len() > 0) and valid for `len` bytes; the source is
        // our own memory, so the ranges do not overlap.
        unsafe { ptr::copy_nonoverlapping(text.as_ptr(), buf, text.len()) };
    }
    written.write(text.len());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_a_result_and_is_recorded() {
        let last_error = LastError::default();
        let result = guard(Some(&last_error), || panic!("boom"));
        assert_eq!(result, anchor_result::Panic);
        assert_eq!(last_error.get().as_deref(), Some(PANIC_MESSAGE));
        guard_void(|| panic!("boom in a destructor"));
    }

    #[test]
    fn failures_are_recorded_for_this_thread_only() {
        let last_error = LastError::default();
        let result = guard(Some(&last_error), || Err(Failure::null("event_out")));
        assert_eq!(result, anchor_result::NullParameter);
        assert_eq!(last_error.get().as_deref(), Some("null_parameter: `event_out` is NULL"));
        std::thread::scope(|scope| {
            scope.spawn(|| assert_eq!(last_error.get(), None));
        });
        assert_eq!(guard(Some(&last_error), || Ok(())), anchor_result::Ok);
        assert!(last_error.get().is_some(), "success leaves the last error alone");
    }

    #[test]
    fn null_and_zero_lengths() {
        // SAFETY: NULL pointers with the lengths given; nothing is dereferenced.
        unsafe {
            assert!(slice::<u8>(ptr::null(), 0, "body").unwrap().is_empty());
            assert_eq!(slice::<u8>(ptr::null(), 1, "body").unwrap_err().code, anchor_result::NullParameter);
            let one = [0u8];
            assert_eq!(
                slice::<u64>(one.as_ptr().cast(), usize::MAX, "x").unwrap_err().code,
                anchor_result::InvalidArgument
            );
        }
    }

    #[test]
    fn empty_views_point_at_a_real_address() {
        let empty = anchor_bytes::of(b"");
        assert_eq!(empty.len, 0);
        assert!(!empty.data.is_null() && empty.data as usize != 1, "dangling: {:p}", empty.data);
        assert_eq!(empty.data, anchor_bytes::of(&String::new().into_bytes()).data);
        assert_eq!(anchor_bytes::of(b"x").len, 1);
    }

    #[test]
    fn text_fits_or_reports_the_size_needed() {
        let mut buf = [0u8; 4];
        let mut written = 0usize;
        // SAFETY: our own buffer and counter.
        unsafe {
            let failure = write_text(b"hello", buf.as_mut_ptr(), buf.len(), &mut written).unwrap_err();
            assert_eq!((failure.code, written, buf), (anchor_result::BufferTooSmall, 5, [0; 4]));
            write_text(b"hey", buf.as_mut_ptr(), buf.len(), &mut written).unwrap();
            assert_eq!((written, &buf[..3]), (3, &b"hey"[..]));
            write_text(b"", ptr::null_mut(), 0, &mut written).unwrap();
            assert_eq!(written, 0);
        }
    }
}
