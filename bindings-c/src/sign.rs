//! `anchor_sign`: signed deliveries for tests (the sender's side of the scheme).

use anchor_webhooks::{SignOptions, Signer};

use crate::ffi::{self, anchor_bytes, anchor_header, Failure};
use crate::result::anchor_result;
use crate::verifier::{scheme, secrets_of};

/// Optional parts of a signed delivery; `(NULL, 0)` (or the whole options pointer being NULL) means the
/// default. `(NULL, n > 0)` is `ANCHOR_RESULT_NULL_PARAMETER`; `(non-NULL, 0)` is an empty value, which no
/// header can carry: `ANCHOR_RESULT_MALFORMED_HEADER`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct anchor_sign_options {
    /// `Anchor-Delivery-Id` / `webhook-id`. Default (`NULL`, 0): derived from the timestamp and body.
    pub id: *const u8,
    /// The length of `id`.
    pub id_len: usize,
    /// `Anchor-Event`. Default (`NULL`, 0): the body's `type` field when it has one.
    pub event_type: *const u8,
    /// The length of `event_type`.
    pub event_type_len: usize,
}

/// The headers of a signed delivery, in the order a sender writes them. `anchor_signed_headers_get`
/// gives them as an `anchor_header` array that `anchor_verifier_verify` accepts as is.
pub struct anchor_signed_headers {
    /// Keeps the values the header array points into.
    _values: Vec<String>,
    headers: Vec<anchor_header>,
}

/// Signs `body` at `timestamp` (unix seconds) with every secret (one signature each, as during a
/// rotation), as the provider would. For tests and local tools. On success `*signed_out` holds the
/// headers; free them with `anchor_signed_headers_free`. Fails (`anchor_last_error` says why) with
/// `ANCHOR_RESULT_INVALID_SECRET` for an unusable secret, `ANCHOR_RESULT_MALFORMED_HEADER` for an id or
/// event type that cannot be a header value, and `ANCHOR_RESULT_INVALID_ARGUMENT` for an unknown `scheme`.
#[no_mangle]
pub unsafe extern "C" fn anchor_sign(
    scheme: u32,
    secrets: *const anchor_bytes,
    secrets_len: usize,
    body: *const u8,
    body_len: usize,
    timestamp: u64,
    options: *const anchor_sign_options,
    signed_out: *mut *mut anchor_signed_headers,
) -> anchor_result {
    ffi::guard(None, || {
        // SAFETY: the header's pointer contract.
        let (out, body, secrets, options) = unsafe {
            (
                ffi::output(signed_out, "signed_out")?,
                ffi::slice(body, body_len, "body")?,
                secrets_of(secrets, secrets_len)?,
                ffi::handle(options).copied(),
            )
        };
        let scheme = self::scheme(scheme)?;
        let text = |data: *const u8, len: usize, what: &'static str| -> Result<Option<&str>, Failure> {
            // Only (NULL, 0) means "the default"; (NULL, n > 0) is NULL_PARAMETER, as for every other input.
            if data.is_null() && len == 0 {
                return Ok(None);
            }
            // SAFETY: the header's pointer contract.
            let bytes = unsafe { ffi::slice(data, len, what) }?;
            std::str::from_utf8(bytes).map(Some).map_err(|_| {
                Failure::new(
                    anchor_result::MalformedHeader,
                    format!("malformed header: the {what} to sign is not UTF-8"),
                )
            })
        };
        let sign_options = match options {
            Some(o) => SignOptions {
                id: text(o.id, o.id_len, "id")?,
                event_type: text(o.event_type, o.event_type_len, "event_type")?,
            },
            None => SignOptions::default(),
        };
        let signed = Signer::new(scheme, secrets)?.sign(body, timestamp, sign_options)?;
        let (names, values): (Vec<&'static str>, Vec<String>) = signed.into_vec().into_iter().unzip();
        // The strings' heap buffers do not move when the vector holding them moves into the handle.
        let headers = names
            .iter()
            .zip(&values)
            .map(|(name, value)| anchor_header {
                name: ffi::data_of(name.as_bytes()),
                name_len: name.len(),
                value: ffi::data_of(value.as_bytes()),
                value_len: value.len(),
            })
            .collect();
        out.write(ffi::into_handle(anchor_signed_headers { _values: values, headers }));
        Ok(())
    })
}

/// The signed headers as an array of `*len_out` entries, valid until `anchor_signed_headers_free`.
#[no_mangle]
pub unsafe extern "C" fn anchor_signed_headers_get(
    signed_headers: *const anchor_signed_headers,
    headers_out: *mut *const anchor_header,
    len_out: *mut usize,
) -> anchor_result {
    ffi::guard(None, || {
        // SAFETY: the header's pointer contract.
        let (signed, headers_out, len_out) = unsafe {
            (
                ffi::require(ffi::handle(signed_headers), "signed_headers")?,
                ffi::output(headers_out, "headers_out")?,
                ffi::output(len_out, "len_out")?,
            )
        };
        headers_out.write(signed.headers.as_ptr());
        len_out.write(signed.headers.len());
        Ok(())
    })
}

/// Frees signed headers. NULL is a no-op.
#[no_mangle]
pub unsafe extern "C" fn anchor_signed_headers_free(signed_headers: *mut anchor_signed_headers) {
    // SAFETY: the header's pointer contract.
    ffi::guard_void(|| unsafe { ffi::free_handle(signed_headers) })
}
