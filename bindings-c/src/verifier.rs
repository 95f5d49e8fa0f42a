//! `anchor_verifier` (and its builder): verification, with the caller's clock.

use std::sync::{Mutex, MutexGuard, PoisonError};

use anchor_webhooks::{Scheme, Verifier};
use zeroize::Zeroizing;

use crate::event::anchor_event;
use crate::ffi::{self, anchor_bytes, anchor_header, Failure};
use crate::last_error::{self, LastError};
use crate::result::anchor_result;

/// The signing scheme of a verifier or a signature, passed as a `uint32_t` (any other value is
/// `ANCHOR_RESULT_INVALID_ARGUMENT`).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum anchor_scheme {
    /// `Anchor-Signature: t=...,v1=<hex>` over `v0:{timestamp}:{body}`; default tolerance 120 s.
    Anchor = 0,
    /// Standard Webhooks: `webhook-signature: v1,<base64>` over `{id}.{timestamp}.{body}`, `whsec_`
    /// secrets; default tolerance 300 s.
    Standard = 1,
}

pub(crate) fn scheme(number: u32) -> Result<Scheme, Failure> {
    match number {
        n if n == anchor_scheme::Anchor as u32 => Ok(Scheme::Anchor),
        n if n == anchor_scheme::Standard as u32 => Ok(Scheme::StandardWebhooks),
        _ => Err(Failure::invalid(format!(
            "invalid_argument: unknown scheme {number} (ANCHOR_SCHEME_ANCHOR = 0, ANCHOR_SCHEME_STANDARD = 1)"
        ))),
    }
}

/// Secrets as the core takes them: UTF-8 text (the Anchor key is the secret's UTF-8 bytes as issued).
pub(crate) fn secret_text(bytes: &[u8], index: usize) -> Result<&str, Failure> {
    std::str::from_utf8(bytes).map_err(|_| {
        Failure::new(
            anchor_result::InvalidSecret,
            format!("invalid secret #{}: it is not valid UTF-8", index + 1),
        )
    })
}

/// The caller's array of secrets, borrowed (never copied).
///
/// # Safety
/// As for `ffi::slice`, for the array and every element.
pub(crate) unsafe fn secrets_of<'a>(
    secrets: *const anchor_bytes,
    count: usize,
) -> Result<Vec<&'a str>, Failure> {
    // SAFETY: the caller's contract.
    let secrets = unsafe { ffi::slice(secrets, count, "secrets") }?;
    secrets
        .iter()
        .enumerate()
        // SAFETY: the caller's contract covers every element.
        .map(|(index, secret)| secret_text(unsafe { ffi::bytes_of(secret, "secrets[].data") }?, index))
        .collect()
}

/// Collects the secrets and options of a verifier; `anchor_verifier_builder_build` makes the verifier.
/// Secrets are zeroed when the builder is freed.
pub struct anchor_verifier_builder {
    state: Mutex<BuilderState>,
    last_error: LastError,
}

struct BuilderState {
    scheme: Scheme,
    secrets: Vec<Zeroizing<String>>,
    tolerance: Option<u64>,
    max_body_bytes: Option<usize>,
}

impl anchor_verifier_builder {
    fn state(&self) -> MutexGuard<'_, BuilderState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Verifies deliveries against one or more secrets. Immutable once built: share it between any number of
/// threads and verify concurrently. Free it with `anchor_verifier_free`.
pub struct anchor_verifier {
    pub(crate) inner: Verifier,
    last_error: LastError,
}

/// Starts a verifier for `scheme` (an `anchor_scheme` value) with the scheme's default tolerance and the
/// 1 MiB body limit. Free the builder with `anchor_verifier_builder_free` (also after building).
#[no_mangle]
pub unsafe extern "C" fn anchor_verifier_builder_new(
    scheme: u32,
    builder_out: *mut *mut anchor_verifier_builder,
) -> anchor_result {
    ffi::guard(None, || {
        // SAFETY: the header's pointer contract.
        let out = unsafe { ffi::output(builder_out, "builder_out") }?;
        let state = BuilderState {
            scheme: self::scheme(scheme)?,
            secrets: Vec::new(),
            tolerance: None,
            max_body_bytes: None,
        };
        out.write(ffi::into_handle(anchor_verifier_builder {
            state: Mutex::new(state),
            last_error: LastError::default(),
        }));
        Ok(())
    })
}

/// Adds a secret (during a rotation add the new one first: `matched_secret` is the index in the order
/// added). Bytes that are not UTF-8 are refused here with `ANCHOR_RESULT_INVALID_SECRET`; everything else
/// about the secret is checked by `anchor_verifier_builder_build`.
#[no_mangle]
pub unsafe extern "C" fn anchor_verifier_builder_add_secret(
    builder: *mut anchor_verifier_builder,
    secret: *const u8,
    secret_len: usize,
) -> anchor_result {
    // SAFETY: the header's pointer contract.
    let builder = unsafe { ffi::handle(builder) };
    ffi::guard(builder.map(|b| &b.last_error), || {
        let mut state = ffi::require(builder, "builder")?.state();
        // SAFETY: the header's pointer contract.
        let secret = unsafe { ffi::slice(secret, secret_len, "secret") }?;
        let text = secret_text(secret, state.secrets.len())?;
        state.secrets.push(Zeroizing::new(text.to_owned()));
        Ok(())
    })
}

/// Sets the two-sided timestamp tolerance in seconds (the boundary value itself passes; 0 allows no
/// skew at all).
#[no_mangle]
pub unsafe extern "C" fn anchor_verifier_builder_set_tolerance(
    builder: *mut anchor_verifier_builder,
    seconds: u64,
) -> anchor_result {
    // SAFETY: the header's pointer contract.
    let builder = unsafe { ffi::handle(builder) };
    ffi::guard(None, || {
        ffi::require(builder, "builder")?.state().tolerance = Some(seconds);
        Ok(())
    })
}

/// Sets the largest body accepted, in bytes (default 1 MiB).
#[no_mangle]
pub unsafe extern "C" fn anchor_verifier_builder_set_max_body_bytes(
    builder: *mut anchor_verifier_builder,
    bytes: usize,
) -> anchor_result {
    // SAFETY: the header's pointer contract.
    let builder = unsafe { ffi::handle(builder) };
    ffi::guard(None, || {
        ffi::require(builder, "builder")?.state().max_body_bytes = Some(bytes);
        Ok(())
    })
}

/// Builds a verifier from the builder's secrets and options (the builder is left as it was). Fails with
/// `ANCHOR_RESULT_INVALID_SECRET` when no secret was added or one is unusable;
/// `anchor_verifier_builder_last_error` then says which and why (never showing the secret).
#[no_mangle]
pub unsafe extern "C" fn anchor_verifier_builder_build(
    builder: *const anchor_verifier_builder,
    verifier_out: *mut *mut anchor_verifier,
) -> anchor_result {
    // SAFETY: the header's pointer contract.
    let builder = unsafe { ffi::handle(builder) };
    ffi::guard(builder.map(|b| &b.last_error), || {
        let state = ffi::require(builder, "builder")?.state();
        // SAFETY: the header's pointer contract.
        let out = unsafe { ffi::output(verifier_out, "verifier_out") }?;
        let mut verifier = Verifier::new(state.scheme, state.secrets.iter().map(|s| s.as_str()))?;
        if let Some(seconds) = state.tolerance {
            verifier = verifier.with_tolerance(seconds);
        }
        if let Some(bytes) = state.max_body_bytes {
            verifier = verifier.with_max_body_bytes(bytes);
        }
        out.write(ffi::into_handle(anchor_verifier { inner: verifier, last_error: LastError::default() }));
        Ok(())
    })
}

/// Copies this thread's last error message on `builder` into `buf` (see `anchor_verifier_last_error`).
#[no_mangle]
pub unsafe extern "C" fn anchor_verifier_builder_last_error(
    builder: *const anchor_verifier_builder,
    buf: *mut u8,
    len: usize,
    written: *mut usize,
) -> anchor_result {
    // SAFETY: the header's pointer contract.
    let builder = unsafe { ffi::handle(builder) };
    // SAFETY: the header's pointer contract.
    unsafe { last_error_into(builder.map(|b| &b.last_error), "builder", buf, len, written) }
}

/// Frees a builder and zeroes the secrets it holds. NULL is a no-op.
#[no_mangle]
pub unsafe extern "C" fn anchor_verifier_builder_free(builder: *mut anchor_verifier_builder) {
    // SAFETY: the header's pointer contract.
    ffi::guard_void(|| unsafe { ffi::free_handle(builder) })
}

/// A verifier for `scheme` with `secrets_len` secrets, the scheme's default tolerance and the 1 MiB body
/// limit. Fails with `ANCHOR_RESULT_INVALID_SECRET` when a secret is unusable or there is none
/// (`anchor_last_error` says which and why), and `ANCHOR_RESULT_INVALID_ARGUMENT` for an unknown `scheme`;
/// use the builder for other options.
#[no_mangle]
pub unsafe extern "C" fn anchor_verifier_new(
    scheme: u32,
    secrets: *const anchor_bytes,
    secrets_len: usize,
    verifier_out: *mut *mut anchor_verifier,
) -> anchor_result {
    ffi::guard(None, || {
        // SAFETY: the header's pointer contract.
        let out = unsafe { ffi::output(verifier_out, "verifier_out") }?;
        let scheme = self::scheme(scheme)?;
        // SAFETY: the header's pointer contract.
        let secrets = unsafe { secrets_of(secrets, secrets_len) }?;
        let verifier = Verifier::new(scheme, secrets)?;
        out.write(ffi::into_handle(anchor_verifier { inner: verifier, last_error: LastError::default() }));
        Ok(())
    })
}

/// Verifies a delivery and parses its envelope: headers as received, the raw body bytes, and `now`, the
/// receiver's clock in unix seconds (`anchor_now_unix_seconds()` for the host's). On success
/// `*event_out` is a new event (free it with `anchor_event_free`). Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn anchor_verifier_verify(
    verifier: *const anchor_verifier,
    headers: *const anchor_header,
    headers_len: usize,
    body: *const u8,
    body_len: usize,
    now: u64,
    event_out: *mut *mut anchor_event,
) -> anchor_result {
    // SAFETY: the header's pointer contract.
    let verifier = unsafe { ffi::handle(verifier) };
    ffi::guard(verifier.map(|v| &v.last_error), || {
        let verifier = ffi::require(verifier, "verifier")?;
        // SAFETY: the header's pointer contract.
        let (out, body) =
            unsafe { (ffi::output(event_out, "event_out")?, ffi::slice(body, body_len, "body")?) };
        // SAFETY: the header's pointer contract.
        let verified =
            unsafe { ffi::with_headers(headers, headers_len, |h| verifier.inner.verify(h, body, now)) }??;
        out.write(ffi::into_handle(anchor_event::verified(verified)));
        Ok(())
    })
}

/// Checks headers, timestamp and signature without parsing the body as JSON (no event is made); `now` is
/// the receiver's clock in unix seconds, as for `anchor_verifier_verify`. On success writes the index of
/// the secret that matched and the signed timestamp. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn anchor_verifier_verify_signature(
    verifier: *const anchor_verifier,
    headers: *const anchor_header,
    headers_len: usize,
    body: *const u8,
    body_len: usize,
    now: u64,
    matched_secret_out: *mut usize,
    timestamp_out: *mut u64,
) -> anchor_result {
    // SAFETY: the header's pointer contract.
    let verifier = unsafe { ffi::handle(verifier) };
    ffi::guard(verifier.map(|v| &v.last_error), || {
        let verifier = ffi::require(verifier, "verifier")?;
        // SAFETY: the header's pointer contract.
        let (matched_out, timestamp_out, body) = unsafe {
            (
                ffi::output(matched_secret_out, "matched_secret_out")?,
                ffi::output(timestamp_out, "timestamp_out")?,
                ffi::slice(body, body_len, "body")?,
            )
        };
        // SAFETY: the header's pointer contract.
        let signed = unsafe {
            ffi::with_headers(headers, headers_len, |h| {
                verifier.inner.verify_signature(h, body, now).map(|s| (s.matched_secret, s.timestamp))
            })
        }??;
        matched_out.write(signed.0);
        timestamp_out.write(signed.1);
        Ok(())
    })
}

/// Copies the message of the last failed call made by THIS thread on `verifier` into `buf` (`len`
/// bytes; `*written` receives its length; not NUL-terminated: print it with `%.*s`). Writes nothing and
/// returns `ANCHOR_RESULT_OK` with `*written = 0` when this thread had no failure. Messages say what was
/// wrong and what to do; they never contain a secret, a signature or the body.
#[no_mangle]
pub unsafe extern "C" fn anchor_verifier_last_error(
    verifier: *const anchor_verifier,
    buf: *mut u8,
    len: usize,
    written: *mut usize,
) -> anchor_result {
    // SAFETY: the header's pointer contract.
    let verifier = unsafe { ffi::handle(verifier) };
    // SAFETY: the header's pointer contract.
    unsafe { last_error_into(verifier.map(|v| &v.last_error), "verifier", buf, len, written) }
}

/// Frees a verifier (its keys are zeroed). NULL is a no-op. No call may be using it.
#[no_mangle]
pub unsafe extern "C" fn anchor_verifier_free(verifier: *mut anchor_verifier) {
    // SAFETY: the header's pointer contract.
    ffi::guard_void(|| unsafe { ffi::free_handle(verifier) })
}

/// The body of every `_last_error` function. Reading a message never replaces it, so this call records
/// nothing on the handle.
///
/// # Safety
/// The header's pointer contract for `buf` and `written`.
pub(crate) unsafe fn last_error_into(
    last_error: Option<&LastError>,
    parameter: &'static str,
    buf: *mut u8,
    len: usize,
    written: *mut usize,
) -> anchor_result {
    ffi::guard(None, || {
        let last_error = ffi::require(last_error, parameter)?;
        let message = last_error.get().unwrap_or_default();
        // SAFETY: the header's pointer contract.
        unsafe { ffi::write_text(message.as_bytes(), buf, len, written) }
    })
}

/// Copies the message of the last failed call made by THIS thread that had no handle to keep it into
/// `buf`, as `anchor_verifier_last_error` does: `anchor_memory_store_new`, `anchor_receiver_new`,
/// `anchor_receiver_new_redis`, `anchor_redis_store_builder_new`, `anchor_sign`,
/// `anchor_verifier_builder_new`, `anchor_verifier_new`, the catalogue functions, and any call given a
/// NULL handle. `*written = 0` when there was none. Calls that succeed leave it as it was.
#[no_mangle]
pub unsafe extern "C" fn anchor_last_error(buf: *mut u8, len: usize, written: *mut usize) -> anchor_result {
    ffi::guard_keeping_messages(|| {
        let message = last_error::for_thread();
        // SAFETY: the header's pointer contract.
        unsafe { ffi::write_text(message.as_bytes(), buf, len, written) }
    })
}
