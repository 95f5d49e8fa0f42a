//! Property tests: sign → verify round trips, and every single-byte change is refused with the right code.

use anchor_webhooks::{ErrorCode, Scheme, SignOptions, Signer, Verifier};
use proptest::prelude::*;

const TOLERANCE: u64 = 120;

fn anchor_secret() -> impl Strategy<Value = String> {
    // Any printable secret the verifier accepts: no surrounding whitespace, not quoted, not `whsec_`.
    "[A-Za-z0-9_.~!@#%^&*()+=-]{1,80}"
        .prop_filter("not a Standard Webhooks secret", |s| !s.starts_with("whsec_"))
}

fn standard_secret() -> impl Strategy<Value = String> {
    proptest::collection::vec(any::<u8>(), 1..64).prop_map(|key| {
        use base64::Engine;
        format!("whsec_{}", base64::engine::general_purpose::STANDARD.encode(key))
    })
}

fn headers_of(signer: &Signer, body: &[u8], timestamp: u64) -> Vec<(String, String)> {
    signer
        .sign(body, timestamp, SignOptions { id: Some("msg_fixed"), event_type: None })
        .unwrap()
        .iter()
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect()
}

fn value_mut<'a>(headers: &'a mut [(String, String)], name: &str) -> &'a mut String {
    &mut headers.iter_mut().find(|(n, _)| n.eq_ignore_ascii_case(name)).unwrap().1
}

fn code_of(result: Result<impl Sized, anchor_webhooks::Error>) -> Option<ErrorCode> {
    result.err().map(|e| e.code())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn anchor_round_trip(secrets in proptest::collection::vec(anchor_secret(), 1..4),
                         body in proptest::collection::vec(any::<u8>(), 0..2048),
                         timestamp in 0u64..1_000_000_000_000,
                         skew in -120i64..=120) {
        let signer = Signer::new(Scheme::Anchor, &secrets).unwrap();
        let headers = headers_of(&signer, &body, timestamp);
        let now = timestamp.saturating_add_signed(skew);
        // Verifying with only the last secret still matches (rotation), and reports its index.
        let verifier = Verifier::anchor(&secrets).unwrap();
        let verified = verifier.verify_signature(&headers, &body, now).unwrap();
        prop_assert_eq!(verified.timestamp, timestamp);
        prop_assert_eq!(verified.matched_secret, 0);
        let last_only = Verifier::anchor(&secrets[secrets.len() - 1..]).unwrap();
        prop_assert!(last_only.verify_signature(&headers, &body, now).is_ok());
    }

    #[test]
    fn standard_round_trip(secret in standard_secret(),
                           body in proptest::collection::vec(any::<u8>(), 0..2048),
                           timestamp in 0u64..1_000_000_000_000) {
        let signer = Signer::new(Scheme::StandardWebhooks, [&secret]).unwrap();
        let headers = headers_of(&signer, &body, timestamp);
        let verifier = Verifier::standard([&secret]).unwrap();
        let verified = verifier.verify_signature(&headers, &body, timestamp).unwrap();
        prop_assert_eq!(verified.delivery_id, Some("msg_fixed"));
    }

    #[test]
    fn any_body_byte_change_is_a_mismatch(secret in anchor_secret(),
                                          body in proptest::collection::vec(any::<u8>(), 1..512),
                                          index in any::<prop::sample::Index>(),
                                          flip in 1u8..=255) {
        let signer = Signer::new(Scheme::Anchor, [&secret]).unwrap();
        let headers = headers_of(&signer, &body, 1_700_000_000);
        let mut forged = body.clone();
        let i = index.index(forged.len());
        forged[i] ^= flip;
        let verifier = Verifier::anchor([&secret]).unwrap();
        prop_assert_eq!(code_of(verifier.verify_signature(&headers, &forged, 1_700_000_000)),
                        Some(ErrorCode::SignatureMismatch));
    }

    #[test]
    fn any_signature_byte_change_is_refused(secret in anchor_secret(),
                                            body in proptest::collection::vec(any::<u8>(), 0..256),
                                            position in 0usize..64,
                                            replacement in proptest::char::range('!', '~')) {
        let signer = Signer::new(Scheme::Anchor, [&secret]).unwrap();
        let mut headers = headers_of(&signer, &body, 1_700_000_000);
        let signature = value_mut(&mut headers, "anchor-signature");
        let start = signature.find("v1=").unwrap() + 3;
        let original = signature.as_bytes()[start + position] as char;
        signature.replace_range(start + position..start + position + 1, &replacement.to_string());
        let verifier = Verifier::anchor([&secret]).unwrap();
        let expected = if replacement.eq_ignore_ascii_case(&original) {
            None // hex digits are accepted in either case
        } else if replacement.is_ascii_hexdigit() {
            Some(ErrorCode::SignatureMismatch)
        } else {
            Some(ErrorCode::MalformedHeader)
        };
        prop_assert_eq!(code_of(verifier.verify_signature(&headers, &body, 1_700_000_000)), expected);
    }

    #[test]
    fn any_timestamp_byte_change_is_refused(secret in anchor_secret(),
                                            body in proptest::collection::vec(any::<u8>(), 0..256),
                                            timestamp in 1_000_000_000u64..9_999_999_999,
                                            position in 0usize..10,
                                            replacement in proptest::char::range('!', '~'),
                                            in_header in any::<bool>()) {
        let signer = Signer::new(Scheme::Anchor, [&secret]).unwrap();
        let mut headers = headers_of(&signer, &body, timestamp);
        let original = timestamp.to_string().as_bytes()[position] as char;
        prop_assume!(replacement != original);
        let verifier = Verifier::anchor([&secret]).unwrap();
        let expected = if in_header {
            // Only `Anchor-Timestamp` changes: it now disagrees with `t=` (or is not a number).
            let value = value_mut(&mut headers, "anchor-timestamp");
            value.replace_range(position..position + 1, &replacement.to_string());
            if replacement.is_ascii_digit() { ErrorCode::TimestampMismatch } else { ErrorCode::MalformedTimestamp }
        } else {
            // Both change consistently, as an attacker replaying an old delivery would do.
            headers.retain(|(name, _)| !name.eq_ignore_ascii_case("anchor-timestamp"));
            let signature = value_mut(&mut headers, "anchor-signature");
            signature.replace_range(2 + position..3 + position, &replacement.to_string());
            // A comma ends `t=` there; the digits after it become an item without `=`, which is skipped.
            let digits = if replacement == ',' { &signature[2..2 + position] } else { &signature[2..12] };
            let forged = Some(digits)
                .filter(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
                .map(|d| d.parse::<u64>().expect("at most 10 digits"));
            match forged {
                None => ErrorCode::MalformedTimestamp,
                Some(forged) if timestamp.abs_diff(forged) > TOLERANCE => {
                    if forged < timestamp { ErrorCode::TimestampTooOld } else { ErrorCode::TimestampTooNew }
                }
                Some(_) => ErrorCode::SignatureMismatch,
            }
        };
        prop_assert_eq!(code_of(verifier.verify_signature(&headers, &body, timestamp)), Some(expected));
    }

    #[test]
    fn arbitrary_headers_never_panic(signature in proptest::collection::vec(any::<u8>(), 0..300),
                                     timestamp in proptest::collection::vec(any::<u8>(), 0..20),
                                     body in proptest::collection::vec(any::<u8>(), 0..64)) {
        for scheme in [Scheme::Anchor, Scheme::StandardWebhooks] {
            let secret = if scheme == Scheme::Anchor { "s" } else { "whsec_c2VjcmV0" };
            let verifier = Verifier::new(scheme, [secret]).unwrap();
            let headers: Vec<(&str, &[u8])> = vec![
                ("Anchor-Signature", &signature), ("Anchor-Timestamp", &timestamp),
                ("webhook-id", b"msg"), ("webhook-timestamp", &timestamp), ("webhook-signature", &signature),
            ];
            let result = verifier.verify(&headers, &body, 1_700_000_000);
            prop_assert!(result.is_err());
        }
    }
}

/// JSON-ish text: real JSON values, nested a little or a lot, with some bytes changed.
fn json_like() -> impl Strategy<Value = Vec<u8>> {
    let leaf = prop_oneof![
        Just("null".to_owned()),
        Just("true".to_owned()),
        "-?[0-9]{1,3}(\\.[0-9]{1,3})?([eE][+-]?[0-9]{1,3})?",
        "\"([a-z]|\\\\u00e9|\\\\n|\\\\ud83d\\\\ude00|\\\\ud800){0,6}\"",
    ];
    let value = leaf.prop_recursive(8, 64, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(|items| format!("[{}]", items.join(","))),
            proptest::collection::vec(
                ("(id|type|data|d\\\\u0061ta|event|timestamp|x)", inner, "[ \t\n\r]{0,2}"),
                0..5
            )
            .prop_map(|fields| {
                let fields: Vec<_> =
                    fields.iter().map(|(k, v, ws)| format!("{ws}\"{k}\"{ws}:{ws}{v}{ws}")).collect();
                format!("{{{}}}", fields.join(","))
            }),
        ]
    });
    let deep =
        (120usize..135).prop_map(|depth| format!("{{\"data\":{}{}}}", "[".repeat(depth), "]".repeat(depth)));
    (prop_oneof![4 => value, 1 => deep], any::<Option<(prop::sample::Index, u8)>>()).prop_map(
        |(text, change)| {
            let mut bytes = text.into_bytes();
            if let Some((at, byte)) = change {
                let at = at.index(bytes.len());
                bytes[at] = byte;
            }
            bytes
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2048, ..ProptestConfig::default() })]

    /// Verification validates JSON without building a `Value`, and builds it later on first use. Both must
    /// accept exactly what `serde_json::Value` parsing accepts, or `Event::body` could not be built later.
    #[test]
    fn lazy_envelope_accepts_exactly_what_value_parsing_accepts(body in json_like()) {
        let direct = serde_json::from_slice::<serde_json::Value>(&body);
        let event = anchor_webhooks::Event::from_standard_body("msg_1", &body);
        prop_assert_eq!(direct.is_ok(), event.is_ok(), "body {:?}", String::from_utf8_lossy(&body));
        if let (Ok(direct), Ok(event)) = (direct, event) {
            prop_assert_eq!(event.body(), &direct);
            // The string fields the core reads itself (its fast path for unescaped strings included).
            let text_of = |name: &str| direct.get(name).and_then(serde_json::Value::as_str);
            prop_assert_eq!(event.event_type().as_str(), text_of("type").or_else(|| text_of("event")).unwrap_or(""));
            let data = direct.get("data").cloned().unwrap_or(serde_json::Value::Null);
            prop_assert_eq!(serde_json::from_slice::<serde_json::Value>(event.raw_data()).unwrap(), data);
        }
    }
}
