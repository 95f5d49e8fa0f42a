//! Runs every case of the shared vectors in `tests/vectors/` (the same files every binding runs).

use anchor_webhooks::{Scheme, Signer, Verifier};
use base64::Engine;
use serde_json::Value;

const ANCHOR: &str = include_str!("../../tests/vectors/anchor.json");
const STANDARD: &str = include_str!("../../tests/vectors/standard.json");
const SECRETS: &str = include_str!("../../tests/vectors/secrets.json");

fn cases(file: &str) -> (Scheme, Vec<Value>) {
    let doc: Value = serde_json::from_str(file).expect("vector file is JSON");
    assert_eq!(doc["format"], 1, "unknown vector format");
    let scheme = Scheme::parse(doc["scheme"].as_str().unwrap()).expect("known scheme");
    (scheme, doc["cases"].as_array().expect("cases").clone())
}

fn strings(value: &Value) -> Vec<String> {
    value.as_array().unwrap().iter().map(|s| s.as_str().unwrap().to_owned()).collect()
}

fn body(case: &Value) -> Vec<u8> {
    match (case.get("body"), case.get("body_base64")) {
        (Some(Value::String(text)), None) => text.as_bytes().to_vec(),
        (None, Some(Value::String(encoded))) => {
            base64::engine::general_purpose::STANDARD.decode(encoded).expect("body_base64")
        }
        _ => panic!("{}: exactly one of body/body_base64", case["name"]),
    }
}

fn verifier(scheme: Scheme, case: &Value) -> Verifier {
    let mut verifier = Verifier::new(scheme, strings(&case["secrets"])).expect("vector secrets are valid");
    if let Some(tolerance) = case.get("tolerance") {
        verifier = verifier.with_tolerance(tolerance.as_u64().unwrap());
    }
    if let Some(limit) = case.get("max_body_bytes") {
        verifier = verifier.with_max_body_bytes(limit.as_u64().unwrap() as usize);
    }
    verifier
}

fn headers(case: &Value) -> Vec<(String, String)> {
    case["headers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|pair| (pair[0].as_str().unwrap().to_owned(), pair[1].as_str().unwrap().to_owned()))
        .collect()
}

/// The body is validated at verification and parsed into a `Value` only on first use; that parse must
/// agree with parsing the raw bytes directly, and `raw_data` must be the text of `data`.
fn lazy_json_problem(verified: &anchor_webhooks::Verified) -> Option<String> {
    let event = &verified.event;
    let direct: Value = match serde_json::from_slice(event.raw_body()) {
        Ok(value) => value,
        Err(e) => return Some(format!("the verified body does not parse as a Value: {e}")),
    };
    let Ok(raw_data) = serde_json::from_slice::<Value>(event.raw_data()) else {
        return Some("raw_data is not JSON".to_owned());
    };
    if event.raw_data_str().as_bytes() != event.raw_data()
        || event.raw_body_str().as_bytes() != event.raw_body()
    {
        return Some("the text and byte views of the raw body or data differ".to_owned());
    }
    let expected_data = direct.get("data").cloned().unwrap_or(Value::Null);
    if event.body() != &direct || event.data() != &expected_data || raw_data != expected_data {
        return Some("lazily parsed body, data or raw_data disagree with the raw body".to_owned());
    }
    None
}

fn run(file: &str) -> usize {
    let (scheme, cases) = cases(file);
    let mut failures = Vec::new();
    for case in &cases {
        let name = case["name"].as_str().unwrap();
        let body = body(case);
        let headers = headers(case);
        let now = case["now"].as_u64().unwrap();
        let verifier = verifier(scheme, case);
        let expect = &case["expect"];
        let result = verifier.verify(&headers, &body, now);
        let signature_only = verifier.verify_signature(&headers, &body, now);
        let problem = match (expect["ok"].as_bool().unwrap(), &result) {
            (true, Ok(verified)) => {
                let got = serde_json::json!({
                    "ok": true,
                    "matched_secret": verified.matched_secret,
                    "timestamp": verified.timestamp,
                    "id": verified.event.id(),
                    "type": verified.event.event_type().as_str(),
                    "delivery_id": verified.delivery_id,
                    "created_ms": verified.event.created_unix_ms(),
                });
                (&got != expect)
                    .then(|| format!("expected {expect}, got {got}"))
                    .or_else(|| lazy_json_problem(verified))
            }
            (false, Err(error)) => {
                let code = error.code().as_str();
                (expect["error"] != code)
                    .then(|| format!("expected {}, got {code} ({error})", expect["error"]))
            }
            (_, Ok(_)) => Some(format!("expected {}, got ok", expect["error"])),
            (_, Err(error)) => Some(format!("expected ok, got {} ({error})", error.code())),
        };
        // The signature-only check agrees with the full one, except that it never parses the payload.
        let payload_error = expect["error"] == "invalid_payload";
        let signature_problem = match (&signature_only, expect["ok"].as_bool().unwrap() || payload_error) {
            (Ok(_), true) => None,
            (Err(error), false) if expect["error"] == error.code().as_str() => None,
            (other, _) => {
                Some(format!("verify_signature disagrees: {:?}", other.as_ref().map_err(|e| e.code())))
            }
        };
        // Only the headers the scheme names matter: a binding may pass just those.
        let named: Vec<(String, String)> = headers
            .iter()
            .filter(|(name, _)| scheme.header_names().iter().any(|known| known.eq_ignore_ascii_case(name)))
            .cloned()
            .collect();
        let named_result = verifier.verify(&named, &body, now);
        let header_names_problem = (named_result.as_ref().map(|_| ()).map_err(|e| e.code())
            != result.as_ref().map(|_| ()).map_err(|e| e.code()))
        .then(|| "the scheme's header_names() leave out a header the verifier reads".to_owned());
        for problem in [problem, signature_problem, header_names_problem].into_iter().flatten() {
            failures.push(format!("{name}: {problem}"));
        }
    }
    assert!(failures.is_empty(), "{} failing case(s):\n{}", failures.len(), failures.join("\n"));
    cases.len()
}

#[test]
fn anchor_vectors() {
    assert!(run(ANCHOR) >= 60);
}

#[test]
fn standard_vectors() {
    assert!(run(STANDARD) >= 20);
}

#[test]
fn secret_vectors() {
    let doc: Value = serde_json::from_str(SECRETS).unwrap();
    let mut failures = Vec::new();
    for case in doc["cases"].as_array().unwrap() {
        let scheme = Scheme::parse(case["scheme"].as_str().unwrap()).unwrap();
        let secrets = strings(&case["secrets"]);
        let verifier = Verifier::new(scheme, &secrets);
        let signer = Signer::new(scheme, &secrets);
        let expected = case["expect"]["error"].as_str();
        let got = verifier.as_ref().err().map(|e| e.code().as_str());
        if got != expected || signer.as_ref().err().map(|e| e.code().as_str()) != expected {
            failures.push(format!("{}: expected {expected:?}, got {got:?}", case["name"]));
        }
        if let Err(error) = verifier {
            let message = error.to_string();
            for secret in secrets.iter().filter(|s| s.trim().len() > 3) {
                if message.contains(secret.trim()) {
                    failures.push(format!("{}: the message shows the secret: {message}", case["name"]));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_verification_error_code_is_covered() {
    let mut seen = std::collections::BTreeSet::new();
    for file in [ANCHOR, STANDARD] {
        for case in cases(file).1 {
            if let Some(code) = case["expect"]["error"].as_str() {
                seen.insert(code.to_owned());
            }
        }
    }
    seen.insert("invalid_secret".to_owned()); // lives in secrets.json
    seen.insert("store_unavailable".to_owned()); // a store error, covered by tests/dedupe.rs
    let all: std::collections::BTreeSet<String> =
        anchor_webhooks::ErrorCode::ALL.iter().map(|c| c.as_str().to_owned()).collect();
    assert_eq!(seen, all);
}

/// The checked-in vectors are exactly what the independent Python generator produces.
#[test]
fn vectors_match_the_generator() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let output = std::process::Command::new("python3")
        .arg("tests/vectors/generate.py")
        .arg("--check")
        .current_dir(root)
        .output()
        .expect("python3 runs (the vector generator uses only its standard library)");
    assert!(
        output.status.success(),
        "tests/vectors are stale; regenerate with `python3 tests/vectors/generate.py`\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
