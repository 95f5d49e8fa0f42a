//! Header grammars of both schemes. Nothing here allocates: signatures are decoded into a fixed array.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use crate::error::Error;
use crate::headers::{HeaderLookup, Headers};

/// The largest header value read (SPEC §3.7).
pub const MAX_HEADER_BYTES: usize = 8192;
/// The most signatures of the verified version accepted in one header (SPEC §3.7).
pub const MAX_SIGNATURES: usize = 16;
/// The most digits of a timestamp (SPEC §3.3).
pub const MAX_TIMESTAMP_DIGITS: usize = 12;

/// The largest timestamp of [`MAX_TIMESTAMP_DIGITS`] digits (the year 33658).
pub const MAX_TIMESTAMP: u64 = 999_999_999_999;

pub(crate) const ANCHOR_SIGNATURE: &str = "Anchor-Signature";
pub(crate) const ANCHOR_TIMESTAMP: &str = "Anchor-Timestamp";
pub(crate) const ANCHOR_EVENT: &str = "Anchor-Event";
pub(crate) const ANCHOR_DELIVERY_ID: &str = "Anchor-Delivery-Id";
pub(crate) const WEBHOOK_ID: [&str; 2] = ["webhook-id", "svix-id"];
pub(crate) const WEBHOOK_TIMESTAMP: [&str; 2] = ["webhook-timestamp", "svix-timestamp"];
pub(crate) const WEBHOOK_SIGNATURE: [&str; 2] = ["webhook-signature", "svix-signature"];

/// Up to [`MAX_SIGNATURES`] decoded 32-byte signatures, filled in place by the parsers, and why the first
/// item that could not be read was unreadable. Such an item is skipped, as the JavaScript and Go libraries of
/// Standard Webhooks skip it: any match is enough (SPEC §3.2, §4), so a sender's stray item beside a good
/// signature costs no event. With no readable signature it is the header's error; beside readable ones
/// none of which matches, the mismatch names it.
pub(crate) struct Signatures {
    decoded: [[u8; 32]; MAX_SIGNATURES],
    len: usize,
    /// Items of the verified version, readable or not: the limit counts them all.
    items: usize,
    unreadable: Option<&'static str>,
}

const NOT_KEY_VALUE: &str = "an item is not of the form `key=value`";
const EMPTY_KEY: &str = "an item has an empty key";
const NOT_HEX: &str = "a `v1` value is not 64 hex digits";
const NOT_VERSION_SIGNATURE: &str = "an item is not of the form `version,signature`";
const NOT_BASE64: &str = "a `v1` value is not the base64 of 32 bytes";

impl Signatures {
    pub(crate) fn new() -> Signatures {
        Signatures { decoded: [[0; 32]; MAX_SIGNATURES], len: 0, items: 0, unreadable: None }
    }

    fn push_with(
        &mut self,
        header: &'static str,
        decode: impl FnOnce(&mut [u8; 32]) -> bool,
        bad_value: &'static str,
    ) -> Result<(), Error> {
        if self.items == MAX_SIGNATURES {
            return Err(Error::malformed(header, "more than 16 signatures"));
        }
        self.items += 1;
        if decode(&mut self.decoded[self.len]) {
            self.len += 1;
        } else {
            self.skip(bad_value);
        }
        Ok(())
    }

    fn skip(&mut self, why: &'static str) {
        self.unreadable.get_or_insert(why);
    }

    pub(crate) fn as_slice(&self) -> &[[u8; 32]] {
        &self.decoded[..self.len]
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The header's error when it holds no readable signature: an unreadable item, else none at all.
    pub(crate) fn none_readable(&self, header: &'static str) -> Error {
        match self.unreadable {
            Some(why) => Error::malformed(header, why),
            None => Error::NoSignature { header },
        }
    }

    /// Why an item was unreadable, for a mismatch to name: it may have been the one meant to match.
    pub(crate) fn unreadable(&self) -> Option<&'static str> {
        self.unreadable
    }
}

/// Reads one header: absent is `None`; repeated, over-long or not printable ASCII is `malformed_header`.
pub(crate) fn read<'h>(
    headers: &'h (impl Headers + ?Sized),
    name: &'static str,
) -> Result<Option<&'h [u8]>, Error> {
    checked(name, headers.header(name))
}

/// The value of a looked-up header, checked as [`read`] does.
pub(crate) fn checked<'h>(name: &'static str, found: HeaderLookup<'h>) -> Result<Option<&'h [u8]>, Error> {
    match found {
        HeaderLookup::Missing => Ok(None),
        HeaderLookup::Repeated => Err(Error::malformed(name, "it appears more than once")),
        HeaderLookup::One(value) => check_value(name, value).map(Some),
    }
}

/// [`checked`], as text: for the values handed back to the caller.
pub(crate) fn checked_str<'h>(name: &'static str, found: HeaderLookup<'h>) -> Result<Option<&'h str>, Error> {
    checked(name, found)?.map(|value| as_str(name, value)).transpose()
}

/// A header value we accept: at most [`MAX_HEADER_BYTES`] of printable ASCII, space or tab.
pub(crate) fn check_value<'v>(name: &'static str, value: &'v [u8]) -> Result<&'v [u8], Error> {
    if value.len() > MAX_HEADER_BYTES {
        return Err(Error::malformed(name, "it is longer than 8192 bytes"));
    }
    // One wrapping comparison per byte (below ' ' or above '~'), OR-reduced without an early exit, so
    // the compiler vectorises the scan.
    let invalid = value
        .iter()
        .fold(0u8, |bad, &b| bad | (u8::from(b.wrapping_sub(b' ') > b'~' - b' ') & u8::from(b != b'\t')));
    if invalid != 0 {
        return Err(Error::malformed(name, "it contains bytes that are not printable ASCII"));
    }
    Ok(value)
}

/// A value that passed [`check_value`] as text.
pub(crate) fn as_str<'v>(name: &'static str, value: &'v [u8]) -> Result<&'v str, Error> {
    // Printable ASCII is valid UTF-8, so this cannot fail after `check_value`.
    std::str::from_utf8(value).map_err(|_| Error::malformed(name, "it is not ASCII"))
}

/// Reads the first of several accepted names that is present (`webhook-id`, then `svix-id`). Returns the
/// name that was found, for error messages.
pub(crate) fn read_first<'h>(
    headers: &'h (impl Headers + ?Sized),
    names: [&'static str; 2],
) -> Result<Option<(&'static str, &'h [u8])>, Error> {
    for name in names {
        if let Some(value) = read(headers, name)? {
            return Ok(Some((name, value)));
        }
    }
    Ok(None)
}

/// Unix seconds: 1 to 12 ASCII digits, nothing else.
pub(crate) fn timestamp(digits: &[u8], source: &'static str) -> Result<u64, Error> {
    if digits.is_empty() || digits.len() > MAX_TIMESTAMP_DIGITS || !digits.iter().all(u8::is_ascii_digit) {
        return Err(Error::MalformedTimestamp { source });
    }
    Ok(digits.iter().fold(0, |acc, d| acc * 10 + u64::from(d - b'0')))
}

fn is_ows(b: &u8) -> bool {
    *b == b' ' || *b == b'\t'
}

fn trim_ows(mut item: &[u8]) -> &[u8] {
    while let [first, rest @ ..] = item {
        if !is_ows(first) {
            break;
        }
        item = rest;
    }
    while let [rest @ .., last] = item {
        if !is_ows(last) {
            break;
        }
        item = rest;
    }
    item
}

fn split_once(item: &[u8], separator: u8) -> Option<(&[u8], &[u8])> {
    let at = memchr::memchr(separator, item)?;
    Some((&item[..at], &item[at + 1..]))
}

/// The items of a list separated by `separator`, found with `memchr`.
fn items(value: &[u8], separator: u8) -> impl Iterator<Item = &[u8]> {
    let mut rest = Some(value);
    std::iter::from_fn(move || {
        let current = rest?;
        match memchr::memchr(separator, current) {
            Some(at) => {
                rest = Some(&current[at + 1..]);
                Some(&current[..at])
            }
            None => {
                rest = None;
                Some(current)
            }
        }
    })
}

/// Parses an `Anchor-Signature` header, decoding its `v1` items into `signatures`; returns its `t` item.
pub(crate) fn anchor_signature<'h>(
    value: &'h [u8],
    signatures: &mut Signatures,
) -> Result<Option<&'h [u8]>, Error> {
    const H: &str = ANCHOR_SIGNATURE;
    let mut t = None;
    for item in items(value, b',').map(trim_ows).filter(|item| !item.is_empty()) {
        let Some((key, item_value)) = split_once(item, b'=') else {
            signatures.skip(NOT_KEY_VALUE);
            continue;
        };
        match key {
            b"" => signatures.skip(EMPTY_KEY),
            b"t" if t.is_some() => return Err(Error::malformed(H, "`t` appears more than once")),
            b"t" => t = Some(item_value),
            b"v1" => signatures.push_with(H, |out| hex::decode_to_slice(item_value, out).is_ok(), NOT_HEX)?,
            // Unknown keys (a future `v2`, or case variants) are ignored by design (SPEC §3.2).
            _ => {}
        }
    }
    Ok(t)
}

/// Parses a `webhook-signature` header: items separated by spaces, each `version,base64`; only `v1` is kept.
pub(crate) fn standard_signature(
    header: &'static str,
    value: &[u8],
    signatures: &mut Signatures,
) -> Result<(), Error> {
    for item in value.split(is_ows).filter(|item| !item.is_empty()) {
        let Some((version, encoded)) = split_once(item, b',') else {
            signatures.skip(NOT_VERSION_SIGNATURE);
            continue;
        };
        if version == b"v1" {
            signatures.push_with(
                header,
                |out| matches!(STANDARD.decode_slice(encoded, out), Ok(32)),
                NOT_BASE64,
            )?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    #[test]
    fn timestamps() {
        assert_eq!(timestamp(b"0", "t").unwrap(), 0);
        assert_eq!(timestamp(b"999999999999", "t").unwrap(), 999_999_999_999);
        for bad in ["", "1e9", "+12", " 12", "12 ", "-5", "1.5", "1234567890123", "١٢"] {
            let code = timestamp(bad.as_bytes(), "t").unwrap_err().code();
            assert_eq!(code, ErrorCode::MalformedTimestamp, "{bad:?}");
        }
    }

    #[test]
    fn anchor_grammar() {
        let sig = "ab".repeat(32);
        let header = format!(" t=12 ,\tv1={sig}, v2=zz, T=1,,V1=x");
        let mut signatures = Signatures::new();
        assert_eq!(anchor_signature(header.as_bytes(), &mut signatures).unwrap(), Some(&b"12"[..]));
        assert_eq!(signatures.len(), 1);
        let duplicate_t = anchor_signature(b"t=1,t=2", &mut Signatures::new()).err().map(|e| e.code());
        assert_eq!(duplicate_t, Some(ErrorCode::MalformedHeader));
        // Unreadable items are skipped, and become the header's error when nothing readable is left.
        for (bad, why) in [
            ("t=1,novalue", "an item is not of the form `key=value`"),
            ("=x", "an item has an empty key"),
            ("v1=abc", "a `v1` value is not 64 hex digits"),
            (&format!("v1={sig}0"), "a `v1` value is not 64 hex digits"),
        ] {
            let mut signatures = Signatures::new();
            anchor_signature(bad.as_bytes(), &mut signatures).unwrap();
            assert_eq!(signatures.len(), 0);
            let message = signatures.none_readable(ANCHOR_SIGNATURE).to_string();
            assert_eq!(message, format!("malformed header `Anchor-Signature`: {why}"), "{bad}");
            assert_eq!(signatures.unreadable(), Some(why));
        }
        let mut signatures = Signatures::new();
        anchor_signature(format!("v1=x,v1={sig},=y").as_bytes(), &mut signatures).unwrap();
        assert_eq!(signatures.len(), 1);
        let first_unreadable = signatures.none_readable(ANCHOR_SIGNATURE).to_string();
        assert!(first_unreadable.ends_with("not 64 hex digits"), "{first_unreadable}");
    }

    #[test]
    fn standard_grammar() {
        let sig = "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
        let header = format!("v1a,xyz  v1,{sig} v2,abc");
        let mut signatures = Signatures::new();
        standard_signature("webhook-signature", header.as_bytes(), &mut signatures).unwrap();
        assert_eq!(signatures.len(), 1);
        for bad in ["v1", "v1,notbase64!", "v1,AAAA"] {
            let mut signatures = Signatures::new();
            standard_signature("webhook-signature", bad.as_bytes(), &mut signatures).unwrap();
            assert_eq!(
                signatures.none_readable("webhook-signature").code(),
                ErrorCode::MalformedHeader,
                "{bad}"
            );
        }
        // The limit counts unreadable items of the version too.
        let seventeen = format!("{} v1,{sig}", "v1,AAAA ".repeat(16));
        let error = standard_signature("webhook-signature", seventeen.as_bytes(), &mut Signatures::new());
        assert_eq!(
            error.unwrap_err().to_string(),
            "malformed header `webhook-signature`: more than 16 signatures"
        );
    }
}
