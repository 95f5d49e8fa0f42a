//! The Anchor header stage: arbitrary `Anchor-*` header values and body never panic, every error is a
//! catalogued header/timestamp/signature error, and a body signed by our own signer always verifies (and
//! stops verifying when one bit of it changes).
//!
//! Input layout: one flags byte, then `Anchor-Signature`, `Anchor-Timestamp`, `Anchor-Delivery-Id`,
//! `Anchor-Event` and the body, separated by NUL bytes (a NUL is never valid in a header value, so no
//! interesting value is lost; the body is the rest of the input and may hold NULs).
#![no_main]

use anchor_webhooks::{ErrorCode, Scheme, SignOptions, Signer, Verifier};
use libfuzzer_sys::fuzz_target;
use shared::header_safe;

#[path = "shared.rs"]
mod shared;

const SECRET: &str = "36da51b166a69268a59a8d5ee0b32c9f5e5aaee7d301c7a5a36844318e116fc6";
/// A second secret, as during a rotation.
const OLD_SECRET: &str = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0";
const NOW: u64 = 1_716_544_084;
const TOLERANCE: u64 = 120;

const NAMES: [&str; 4] = ["Anchor-Signature", "Anchor-Timestamp", "Anchor-Delivery-Id", "Anchor-Event"];

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let mut parts: Vec<&[u8]> = rest.splitn(5, |&b| b == 0).collect();
    parts.resize(5, &[]);
    let body = parts[4];

    fuzzed_headers(flags, &parts[..4], body);
    round_trip(flags, &parts[2..4], body);
});

/// Arbitrary header values: never a panic, only the errors the header stage can produce.
fn fuzzed_headers(flags: u8, values: &[&[u8]], body: &[u8]) {
    // Bits 0-3 leave a header out, bit 4 lower-cases the names, bit 5 repeats `Anchor-Signature`,
    // bit 6 adds unrelated headers, bit 7 configures two secrets instead of one.
    let lower = flags & 0x10 != 0;
    let mut headers: Vec<(String, &[u8])> = Vec::new();
    if flags & 0x40 != 0 {
        headers.push(("Content-Type".into(), b"application/json"));
        headers.push(("X-Anchor-Signature".into(), values[0]));
    }
    for (i, (name, value)) in NAMES.iter().zip(values).enumerate() {
        if flags & (1 << i) == 0 {
            headers.push((name_case(name, lower), value));
        }
    }
    let signature_present = flags & 0x01 == 0;
    let repeated = flags & 0x20 != 0;
    if repeated {
        headers.push((name_case(NAMES[0], !lower), values[0]));
    }
    let headers: Vec<(&str, &[u8])> = headers.iter().map(|(n, v)| (n.as_str(), *v)).collect();

    let verifier =
        if flags & 0x80 != 0 { Verifier::anchor([OLD_SECRET, SECRET]) } else { Verifier::anchor([SECRET]) }
            .expect("valid secrets");

    let checked = verifier.verify_signature(&headers, body, NOW);
    match &checked {
        Ok(verified) => {
            // Only a forged HMAC could get here; if it ever does, the result must still be coherent.
            assert!(verified.matched_secret < verifier.secret_count());
            assert!(verified.timestamp.abs_diff(NOW) <= TOLERANCE);
            let id = (flags & 0x04 == 0).then(|| std::str::from_utf8(values[2]).unwrap());
            assert_eq!(verified.delivery_id, id);
        }
        Err(error) => {
            let code = error.code();
            assert!(
                matches!(
                    code,
                    ErrorCode::MissingHeader
                        | ErrorCode::MalformedHeader
                        | ErrorCode::MalformedTimestamp
                        | ErrorCode::TimestampMismatch
                        | ErrorCode::TimestampTooOld
                        | ErrorCode::TimestampTooNew
                        | ErrorCode::NoSignature
                        | ErrorCode::SignatureMismatch
                ),
                "unexpected error from the header stage: {code:?}"
            );
            if signature_present && repeated {
                assert_eq!(code, ErrorCode::MalformedHeader, "a repeated signature header");
            }
            if !signature_present && !repeated {
                assert_eq!(code, ErrorCode::MissingHeader, "no signature header at all");
            }
            check_error(error);
        }
    }
    // `verify` runs the same checks first, then parses JSON: it fails the same way.
    match (&checked, verifier.verify(&headers, body, NOW)) {
        (Err(a), Err(b)) => assert_eq!(a.code(), b.code()),
        (Err(a), Ok(_)) => panic!("verify accepted what verify_signature refused ({:?})", a.code()),
        (Ok(_), Err(b)) => assert_eq!(b.code(), ErrorCode::InvalidPayload),
        (Ok(_), Ok(_)) => {}
    }
}

/// A body signed with the secret always verifies, whatever it holds; one flipped bit makes it fail.
fn round_trip(flags: u8, options: &[&[u8]], body: &[u8]) {
    // A timestamp anywhere inside the two-sided tolerance, boundaries included.
    let signed_at = NOW - TOLERANCE + u64::from(flags) % (2 * TOLERANCE + 1);
    let signer = Signer::new(Scheme::Anchor, [OLD_SECRET, SECRET]).expect("valid secrets");
    let new_only = Verifier::anchor([SECRET]).expect("valid secret");
    let both = Verifier::anchor([SECRET, OLD_SECRET]).expect("valid secrets");

    // Default options: the delivery id is derived, `Anchor-Event` comes from the body's `type`.
    let headers = signer
        .sign(body, signed_at, SignOptions::default())
        .unwrap_or_else(|e| panic!("signing with default options failed: {e}"));
    accepts(&new_only, &headers, body, signed_at, 0);
    accepts(&both, &headers, body, signed_at, 0);
    // The same headers as plain byte pairs, names in lower case.
    let pairs: Vec<(String, &[u8])> =
        headers.iter().map(|(name, value)| (name.to_ascii_lowercase(), value.as_bytes())).collect();
    let pairs: Vec<(&str, &[u8])> = pairs.iter().map(|(n, v)| (n.as_str(), *v)).collect();
    accepts(&new_only, &pairs, body, signed_at, 0);

    // Caller-chosen id and event type, when they are header-safe (printable ASCII, at most 8 KiB).
    let [id, event] = [options[0], options[1]].map(header_safe);
    let custom = SignOptions { id, event_type: event };
    let headers = signer
        .sign(body, signed_at, custom)
        .unwrap_or_else(|e| panic!("signing header-safe options failed: {e}"));
    let verified = accepts(&new_only, &headers, body, signed_at, 0);
    if let Some(id) = id {
        assert_eq!(verified, Some(id.to_owned()));
    }

    // Tampering: flip one bit of the body.
    if !body.is_empty() {
        let mut tampered = body.to_vec();
        tampered[usize::from(flags) % body.len()] ^= 1 << (flags % 8);
        let error =
            new_only.verify_signature(&headers, &tampered, signed_at).expect_err("a tampered body verified");
        assert_eq!(error.code(), ErrorCode::SignatureMismatch);
        check_error(&error);
    }
}

fn accepts(
    verifier: &Verifier,
    headers: &(impl anchor_webhooks::Headers + ?Sized),
    body: &[u8],
    signed_at: u64,
    matched: usize,
) -> Option<String> {
    shared::accepts(verifier, headers, body, (NOW, signed_at, matched), &NAMES)
}

fn name_case(name: &str, lower: bool) -> String {
    if lower {
        name.to_ascii_lowercase()
    } else {
        name.to_ascii_uppercase()
    }
}

fn check_error(error: &anchor_webhooks::Error) {
    shared::check_error(error, &[SECRET, OLD_SECRET]);
}
