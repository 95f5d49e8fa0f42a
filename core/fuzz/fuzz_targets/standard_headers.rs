//! The Standard Webhooks header stage: arbitrary `webhook-*` (or `svix-*`) header values and body never
//! panic, every error is a catalogued header/timestamp/signature error, and a body signed by our own
//! signer always verifies (and stops verifying when one bit of it changes).
//!
//! Input layout: one flags byte, then `webhook-id`, `webhook-timestamp`, `webhook-signature` and the
//! body, separated by NUL bytes (the body is the rest of the input and may hold NULs).
#![no_main]

use anchor_webhooks::{ErrorCode, Headers, Scheme, SignOptions, Signer, Verifier};
use libfuzzer_sys::fuzz_target;
use shared::header_safe;

#[path = "shared.rs"]
mod shared;

/// The official Standard Webhooks test secret, and a second one as during a rotation.
const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const OLD_SECRET: &str = "whsec_c2Vjb25kIHNlY3JldCBmb3Igcm90YXRpb24=";
const NOW: u64 = 1_614_265_330;
const TOLERANCE: u64 = 300;

const WEBHOOK: [&str; 3] = ["webhook-id", "webhook-timestamp", "webhook-signature"];
const SVIX: [&str; 3] = ["svix-id", "svix-timestamp", "svix-signature"];

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let mut parts: Vec<&[u8]> = rest.splitn(4, |&b| b == 0).collect();
    parts.resize(4, &[]);
    let body = parts[3];

    fuzzed_headers(flags, &parts[..3], body);
    round_trip(flags, parts[0], body);
});

/// Arbitrary header values: never a panic, only the errors the header stage can produce.
fn fuzzed_headers(flags: u8, values: &[&[u8]], body: &[u8]) {
    // Bits 0-2 leave a header out, bit 3 uses the `svix-` names, bit 4 upper-cases the names, bit 5
    // repeats the signature header, bit 6 also sends the other family's names with a valid-looking
    // timestamp, bit 7 configures two secrets instead of one.
    let names = if flags & 0x08 != 0 { SVIX } else { WEBHOOK };
    let upper = flags & 0x10 != 0;
    let case = |name: &str| {
        if upper {
            name.to_ascii_uppercase()
        } else {
            name.to_owned()
        }
    };
    let mut headers: Vec<(String, &[u8])> = Vec::new();
    for (i, (name, value)) in names.iter().zip(values).enumerate() {
        if flags & (1 << i) == 0 {
            headers.push((case(name), value));
        }
    }
    if flags & 0x20 != 0 {
        headers.push((case(names[2]), values[2]));
    }
    if flags & 0x40 != 0 {
        let other = if flags & 0x08 != 0 { WEBHOOK } else { SVIX };
        headers.push((other[0].into(), b"msg_other"));
        headers.push((other[1].into(), b"1614265330"));
    }
    let headers: Vec<(&str, &[u8])> = headers.iter().map(|(n, v)| (n.as_str(), *v)).collect();

    let verifier = if flags & 0x80 != 0 {
        Verifier::standard([OLD_SECRET, SECRET])
    } else {
        Verifier::standard([SECRET])
    }
    .expect("valid secrets");

    let checked = verifier.verify_signature(&headers, body, NOW);
    match &checked {
        Ok(verified) => {
            // Only a forged HMAC could get here; if it ever does, the result must still be coherent.
            assert!(verified.matched_secret < verifier.secret_count());
            assert!(verified.timestamp.abs_diff(NOW) <= TOLERANCE);
            assert!(verified.delivery_id.is_some_and(|id| !id.is_empty()));
        }
        Err(error) => {
            let code = error.code();
            assert!(
                matches!(
                    code,
                    ErrorCode::MissingHeader
                        | ErrorCode::MalformedHeader
                        | ErrorCode::MalformedTimestamp
                        | ErrorCode::TimestampTooOld
                        | ErrorCode::TimestampTooNew
                        | ErrorCode::NoSignature
                        | ErrorCode::SignatureMismatch
                ),
                "unexpected error from the header stage: {code:?}"
            );
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
fn round_trip(flags: u8, id: &[u8], body: &[u8]) {
    // A timestamp inside the two-sided tolerance, boundaries included.
    let signed_at = NOW - TOLERANCE + (u64::from(flags) * 3).min(2 * TOLERANCE);
    let signer = Signer::new(Scheme::StandardWebhooks, [OLD_SECRET, SECRET]).expect("valid secrets");
    let new_only = Verifier::standard([SECRET]).expect("valid secret");
    let both = Verifier::standard([SECRET, OLD_SECRET]).expect("valid secrets");

    // The default (derived) message id.
    let headers = signer
        .sign(body, signed_at, SignOptions::default())
        .unwrap_or_else(|e| panic!("signing with default options failed: {e}"));
    accepts(&new_only, &headers, body, signed_at);
    accepts(&both, &headers, body, signed_at);

    // The same headers under the `svix-` names, as byte pairs.
    let pairs: Vec<(String, &[u8])> =
        headers.iter().map(|(name, value)| (name.replace("webhook-", "svix-"), value.as_bytes())).collect();
    let pairs: Vec<(&str, &[u8])> = pairs.iter().map(|(n, v)| (n.as_str(), *v)).collect();
    accepts(&new_only, &pairs, body, signed_at);

    // A caller-chosen message id, when it is header-safe (non-empty printable ASCII, at most 8 KiB).
    if let Some(id) = header_safe(id) {
        let options = SignOptions { id: Some(id), event_type: None };
        let headers = signer
            .sign(body, signed_at, options)
            .unwrap_or_else(|e| panic!("signing a header-safe id failed: {e}"));
        let verified = accepts(&new_only, &headers, body, signed_at);
        assert_eq!(verified.as_deref(), Some(id));
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
    headers: &(impl Headers + ?Sized),
    body: &[u8],
    signed_at: u64,
) -> Option<String> {
    let names: Vec<&str> = WEBHOOK.iter().chain(&SVIX).copied().collect();
    shared::accepts(verifier, headers, body, (NOW, signed_at, 0), &names)
}

fn check_error(error: &anchor_webhooks::Error) {
    shared::check_error(error, &[SECRET, OLD_SECRET]);
}
