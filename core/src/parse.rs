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

pub(crate) const ANCHOR_SIGNATURE: &str = "Anchor-Signature";
pub(crate) const ANCHOR_TIMESTAMP: &str = "Anchor-Timestamp";
pub(crate) const ANCHOR_EVENT: &str = "Anchor-Event";
pub(crate) const ANCHOR_DELIVERY_ID: &str = "Anchor-Delivery-Id";
pub(crate) const WEBHOOK_ID: [&str; 2] = ["webhook-id", "svix-id"];
pub(crate) const WEBHOOK_TIMESTAMP: [&str; 2] = ["webhook-timestamp", "svix-timestamp"];
pub(crate) const WEBHOOK_SIGNATURE: [&str; 2] = ["webhook-signature", "svix-signature"];

/// Up to [`MAX_SIGNATURES`] decoded 32-byte signatures.
pub(crate) struct Signatures {
    decoded: [[u8; 32]; MAX_SIGNATURES],
    len: usize,
}

impl Signatures {
    fn new() -> Signatures {
        Signatures { decoded: [[0; 32]; MAX_SIGNATURES], len: 0 }
    }

    fn push_with(
        &mut self,
        header: &'static str,
        decode: impl FnOnce(&mut [u8; 32]) -> bool,
        bad_value: &'static str,
    ) -> Result<(), Error> {
        if self.len == MAX_SIGNATURES {
            return Err(Error::malformed(header, "more than 16 signatures"));
        }
        if !decode(&mut self.decoded[self.len]) {
            return Err(Error::malformed(header, bad_value));
        }
        self.len += 1;
        Ok(())
    }

    pub(crate) fn as_slice(&self) -> &[[u8; 32]] {
        &self.decoded[..self.len]
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }
}

/// Reads one header: absent is `None`; repeated, over-long or non-ASCII is `malformed_header`.
pub(crate) fn read<'h>(
    headers: &'h (impl Headers + ?Sized),
    name: &'static str,
) -> Result<Option<&'h str>, Error> {
    match headers.header(name) {
        HeaderLookup::Missing => Ok(None),
        HeaderLookup::Repeated => Err(Error::malformed(name, "it appears more than once")),
        HeaderLookup::One(value) => check_value(name, value).map(Some),
    }
}

/// A header value we accept: at most [`MAX_HEADER_BYTES`] of printable ASCII, space or tab.
pub(crate) fn check_value<'v>(name: &'static str, value: &'v [u8]) -> Result<&'v str, Error> {
    if value.len() > MAX_HEADER_BYTES {
        return Err(Error::malformed(name, "it is longer than 8192 bytes"));
    }
    if !value.iter().all(|&b| b == b'\t' || (b' '..=b'~').contains(&b)) {
        return Err(Error::malformed(name, "it contains bytes that are not printable ASCII"));
    }
    // Printable ASCII is valid UTF-8.
    std::str::from_utf8(value).map_err(|_| Error::malformed(name, "it is not ASCII"))
}

/// Reads the first of several accepted names that is present (`webhook-id`, then `svix-id`). Returns the
/// name that was found, for error messages.
pub(crate) fn read_first<'h>(
    headers: &'h (impl Headers + ?Sized),
    names: [&'static str; 2],
) -> Result<Option<(&'static str, &'h str)>, Error> {
    for name in names {
        if let Some(value) = read(headers, name)? {
            return Ok(Some((name, value)));
        }
    }
    Ok(None)
}

pub(crate) fn require<T>(value: Option<T>, header: &'static str) -> Result<T, Error> {
    value.ok_or(Error::MissingHeader { header })
}

/// Unix seconds: 1 to 12 ASCII digits, nothing else.
pub(crate) fn timestamp(value: &str, source: &'static str) -> Result<u64, Error> {
    let digits = value.as_bytes();
    if digits.is_empty() || digits.len() > MAX_TIMESTAMP_DIGITS || !digits.iter().all(u8::is_ascii_digit) {
        return Err(Error::MalformedTimestamp { source });
    }
    Ok(digits.iter().fold(0, |acc, d| acc * 10 + u64::from(d - b'0')))
}

/// A parsed `Anchor-Signature` header.
pub(crate) struct AnchorSignature<'h> {
    pub(crate) t: Option<&'h str>,
    pub(crate) signatures: Signatures,
}

const OWS: &[char] = &[' ', '\t'];

pub(crate) fn anchor_signature(value: &str) -> Result<AnchorSignature<'_>, Error> {
    const H: &str = ANCHOR_SIGNATURE;
    let mut parsed = AnchorSignature { t: None, signatures: Signatures::new() };
    for item in value.split(',').map(|item| item.trim_matches(OWS)).filter(|item| !item.is_empty()) {
        let (key, item_value) = item
            .split_once('=')
            .ok_or_else(|| Error::malformed(H, "an item is not of the form `key=value`"))?;
        match key {
            "" => return Err(Error::malformed(H, "an item has an empty key")),
            "t" if parsed.t.is_some() => return Err(Error::malformed(H, "`t` appears more than once")),
            "t" => parsed.t = Some(item_value),
            "v1" => parsed.signatures.push_with(
                H,
                |out| hex::decode_to_slice(item_value, out).is_ok(),
                "a `v1` value is not 64 hex digits",
            )?,
            // Unknown keys (a future `v2`, or case variants) are ignored by design (SPEC §3.2).
            _ => {}
        }
    }
    Ok(parsed)
}

/// Parses a `webhook-signature` header: space-separated `version,base64` items; only `v1` is kept.
pub(crate) fn standard_signature(header: &'static str, value: &str) -> Result<Signatures, Error> {
    let mut signatures = Signatures::new();
    for item in value.split(OWS).filter(|item| !item.is_empty()) {
        let (version, encoded) = item
            .split_once(',')
            .ok_or_else(|| Error::malformed(header, "an item is not of the form `version,signature`"))?;
        if version == "v1" {
            signatures.push_with(
                header,
                |out| matches!(STANDARD.decode_slice(encoded, out), Ok(32)),
                "a `v1` value is not the base64 of 32 bytes",
            )?;
        }
    }
    Ok(signatures)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    #[test]
    fn timestamps() {
        assert_eq!(timestamp("0", "t").unwrap(), 0);
        assert_eq!(timestamp("999999999999", "t").unwrap(), 999_999_999_999);
        for bad in ["", "1e9", "+12", " 12", "12 ", "-5", "1.5", "1234567890123", "١٢"] {
            assert_eq!(timestamp(bad, "t").unwrap_err().code(), ErrorCode::MalformedTimestamp, "{bad:?}");
        }
    }

    #[test]
    fn anchor_grammar() {
        let sig = "ab".repeat(32);
        let header = format!(" t=12 ,\tv1={sig}, v2=zz, T=1,,V1=x");
        let parsed = anchor_signature(&header).unwrap();
        assert_eq!(parsed.t, Some("12"));
        assert_eq!(parsed.signatures.len(), 1);
        for bad in ["t=1,t=2", "t=1,novalue", "=x", "v1=abc", &format!("v1={sig}0")] {
            assert_eq!(
                anchor_signature(bad).err().map(|e| e.code()),
                Some(ErrorCode::MalformedHeader),
                "{bad}"
            );
        }
    }

    #[test]
    fn standard_grammar() {
        let sig = "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
        let parsed = standard_signature("webhook-signature", &format!("v1a,xyz  v1,{sig} v2,abc")).unwrap();
        assert_eq!(parsed.len(), 1);
        for bad in ["v1", "v1,notbase64!", "v1,AAAA"] {
            assert!(standard_signature("webhook-signature", bad).is_err(), "{bad}");
        }
    }
}
