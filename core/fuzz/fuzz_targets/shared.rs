//! Checks shared by the header fuzz targets (included with `#[path]`; not a target itself).

use anchor_webhooks::{Error, ErrorCode, HeaderLookup, Headers, Verifier};

/// `value` as text when it can be sent as a header value and signed (printable ASCII or tab, 1 to 8192
/// bytes, no whitespace at either end).
pub fn header_safe(value: &[u8]) -> Option<&str> {
    let is_space = |b: &u8| *b == b' ' || *b == b'\t';
    let safe = !value.is_empty()
        && value.len() <= 8192
        && value.iter().all(|&b| b == b'\t' || (b' '..=b'~').contains(&b))
        // HTTP strips whitespace at either end, so `sign` refuses it there.
        && !value.first().is_some_and(is_space)
        && !value.last().is_some_and(is_space);
    safe.then(|| std::str::from_utf8(value).unwrap())
}

/// Every error renders, maps to a status, and never quotes a secret (nor a `whsec_` secret's key part).
pub fn check_error(error: &Error, secrets: &[&str]) {
    let message = error.to_string();
    let debug = format!("{error:?}");
    for secret in secrets {
        let secret = secret.trim_start_matches("whsec_");
        assert!(!message.contains(secret) && !debug.contains(secret));
    }
    assert!(matches!(error.http_status(), 400 | 401 | 413));
    assert_eq!(ErrorCode::from_str_code(error.code().as_str()), Some(error.code()));
}

/// Asserts that `verify_signature` accepts our own delivery at `now`; returns its delivery id. On a
/// refusal, the panic shows the headers named in `names`.
pub fn accepts(
    verifier: &Verifier,
    headers: &(impl Headers + ?Sized),
    body: &[u8],
    (now, signed_at, matched): (u64, u64, usize),
    names: &[&str],
) -> Option<String> {
    match verifier.verify_signature(headers, body, now) {
        Ok(verified) => {
            assert_eq!(verified.matched_secret, matched);
            assert_eq!(verified.timestamp, signed_at);
            verified.delivery_id.map(str::to_owned)
        }
        Err(error) => {
            let seen: Vec<String> = names
                .iter()
                .map(|name| match headers.header(name) {
                    HeaderLookup::One(value) => format!("{name}: {:?}", String::from_utf8_lossy(value)),
                    other => format!("{name}: {other:?}"),
                })
                .collect();
            panic!("our own signature was refused: {error} ({:?}); headers {seen:?}", error.code())
        }
    }
}
