//! Drives the built `anchor-webhooks` binary: exact exit codes and exact output.

mod common;

use common::{run, Run};

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

const ANCHOR_SECRET: &str = "36da51b166a69268a59a8d5ee0b32c9f5e5aaee7d301c7a5a36844318e116fc6";
const ANCHOR_SECRET_2: &str = "8f1c2a4b6d8e0f1a3c5e7a9b1d3f5a7c9e1b3d5f7a9c1e3b5d7f9a1c3e5b7d9f";
const STANDARD_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const STANDARD_SECRET_2: &str = "whsec_c2Vjb25kIHNlY3JldCBmb3Igcm90YXRpb24=";
const ENVELOPE: &str =
    r#"{"id":"evt_1","type":"task.completed","created":"2026-05-24T12:18:05.123Z","data":{}}"#;
const TS: &str = "1716544084";

fn temp_file(contents: &[u8]) -> PathBuf {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "cli-test-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::write(&path, contents).expect("write temp file");
    path
}

/// Signs `body` (from stdin) and returns the printed header block.
fn sign(extra: &[&str], body: &[u8]) -> String {
    let mut args = vec!["sign", "--timestamp", TS];
    args.extend_from_slice(extra);
    let out = run(&args, body);
    assert_eq!(out.code, 0, "sign failed: {}{}", out.stdout, out.stderr);
    assert_eq!(out.stderr, "");
    out.stdout
}

/// `-H` arguments for every line of a printed header block.
fn header_args(block: &str) -> Vec<String> {
    block.lines().flat_map(|line| ["-H".to_owned(), line.to_owned()]).collect()
}

fn verify(secrets_and_flags: &[&str], headers: &str, body: &[u8]) -> Run {
    let mut args: Vec<String> = vec!["verify".into(), "--now".into(), TS.into()];
    args.extend(secrets_and_flags.iter().map(|s| s.to_string()));
    args.extend(header_args(headers));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    run(&args, body)
}

fn assert_failure(out: &Run, code: &str) -> String {
    assert_eq!(out.code, 1, "stdout: {} stderr: {}", out.stdout, out.stderr);
    assert_eq!(out.stderr, "");
    let value: serde_json::Value = serde_json::from_str(&out.stdout).expect("json");
    assert_eq!(out.stdout.lines().count(), 1);
    let prefix = format!(r#"{{"ok":false,"error":"{code}","message":""#);
    assert!(out.stdout.starts_with(&prefix), "{}", out.stdout);
    value["message"].as_str().expect("message").to_owned()
}

fn header_value<'a>(block: &'a str, name: &str) -> &'a str {
    block.lines().find_map(|line| line.strip_prefix(name)?.strip_prefix(": ")).expect("header present")
}

#[test]
fn anchor_round_trip_one_secret_stdin() {
    let headers = sign(&["--secret", ANCHOR_SECRET], ENVELOPE.as_bytes());
    let delivery_id = header_value(&headers, "Anchor-Delivery-Id");
    assert!(headers.starts_with(
        "User-Agent: Anchor-Webhooks/1.0\nContent-Type: application/json\nAnchor-Event: task.completed\n"
    ));
    assert!(headers.contains(&format!("\nAnchor-Timestamp: {TS}\nAnchor-Signature: t={TS},v1=")));
    let out = verify(&["--secret", ANCHOR_SECRET], &headers, ENVELOPE.as_bytes());
    assert_eq!(out.code, 0, "{}", out.stdout);
    assert_eq!(
        out.stdout,
        format!(
            "{{\"ok\":true,\"id\":\"evt_1\",\"type\":\"task.completed\",\"matched_secret\":0,\"timestamp\":{TS},\"delivery_id\":\"{delivery_id}\"}}\n"
        )
    );
    assert_eq!(out.stderr, "");
}

#[test]
fn anchor_round_trip_two_secrets_body_file() {
    let body_file = temp_file(ENVELOPE.as_bytes());
    let body_path = body_file.to_str().expect("utf-8 path");
    let headers = sign(
        &["--secret", ANCHOR_SECRET, "--secret", ANCHOR_SECRET_2, "--id", "d-1", "--body-file", body_path],
        b"",
    );
    assert_eq!(header_value(&headers, "Anchor-Signature").matches("v1=").count(), 2);
    // The receiver knows only the new secret: index 0 of its list. Knowing (other, new): index 1.
    let out = verify(&["--secret", ANCHOR_SECRET_2, "--body-file", body_path], &headers, b"");
    assert_eq!(
        out.stdout,
        format!("{{\"ok\":true,\"id\":\"evt_1\",\"type\":\"task.completed\",\"matched_secret\":0,\"timestamp\":{TS},\"delivery_id\":\"d-1\"}}\n")
    );
    let out = verify(
        &["--secret", "an-unrelated-secret", "--secret", ANCHOR_SECRET, "--body-file", body_path],
        &headers,
        b"",
    );
    assert_eq!(out.code, 0);
    assert_eq!(
        out.stdout,
        format!("{{\"ok\":true,\"id\":\"evt_1\",\"type\":\"task.completed\",\"matched_secret\":1,\"timestamp\":{TS},\"delivery_id\":\"d-1\"}}\n")
    );
}

#[test]
fn standard_round_trip_one_and_two_secrets() {
    let body = br#"{"type":"extraction.completed","data":{"status":"processed"}}"#;
    let headers = sign(&["--scheme", "standard", "--secret", STANDARD_SECRET, "--id", "msg_1"], body);
    assert_eq!(headers.lines().next(), Some("Content-Type: application/json"));
    let out = verify(&["--scheme", "standard", "--secret", STANDARD_SECRET], &headers, body);
    assert_eq!(out.code, 0);
    assert_eq!(
        out.stdout,
        format!("{{\"ok\":true,\"id\":\"msg_1\",\"type\":\"extraction.completed\",\"matched_secret\":0,\"timestamp\":{TS},\"delivery_id\":\"msg_1\"}}\n")
    );

    let body_file = temp_file(body);
    let body_path = body_file.to_str().expect("utf-8 path");
    let headers = sign(
        &[
            "--scheme",
            "standard",
            "--secret",
            STANDARD_SECRET,
            "--secret",
            STANDARD_SECRET_2,
            "--id",
            "msg_2",
            "--body-file",
            body_path,
        ],
        b"",
    );
    let out = verify(
        &[
            "--scheme",
            "standard",
            "--secret",
            "whsec_b3RoZXI=",
            "--secret",
            STANDARD_SECRET_2,
            "--body-file",
            body_path,
        ],
        &headers,
        b"",
    );
    assert_eq!(out.code, 0, "{}", out.stdout);
    assert_eq!(
        out.stdout,
        format!("{{\"ok\":true,\"id\":\"msg_2\",\"type\":\"extraction.completed\",\"matched_secret\":1,\"timestamp\":{TS},\"delivery_id\":\"msg_2\"}}\n")
    );
}

#[test]
fn non_utf8_body_round_trip_signature_only() {
    let body: &[u8] = b"\xff\xfe\x00 not json \x80";
    for (scheme, secret) in [("anchor", ANCHOR_SECRET), ("standard", STANDARD_SECRET)] {
        let headers = sign(&["--scheme", scheme, "--secret", secret, "--id", "m1"], body);
        let out = verify(&["--scheme", scheme, "--secret", secret, "--signature-only"], &headers, body);
        assert_eq!(out.code, 0, "{scheme}: {}", out.stdout);
        assert_eq!(
            out.stdout,
            format!("{{\"ok\":true,\"id\":null,\"type\":null,\"matched_secret\":0,\"timestamp\":{TS},\"delivery_id\":\"m1\"}}\n")
        );
        // The full verification checks the signature first, then refuses the non-JSON envelope.
        let out = verify(&["--scheme", scheme, "--secret", secret], &headers, body);
        assert_failure(&out, "invalid_payload");
        // One changed byte is a mismatch.
        let out = verify(
            &["--scheme", scheme, "--secret", secret, "--signature-only"],
            &headers,
            b"\xff\xfe\x00 not json \x81",
        );
        assert_failure(&out, "signature_mismatch");
    }
}

#[test]
fn signature_only_without_delivery_id_reports_null() {
    let headers = sign(&["--secret", ANCHOR_SECRET], ENVELOPE.as_bytes());
    let without_id: String = headers
        .lines()
        .filter(|line| !line.starts_with("Anchor-Delivery-Id:"))
        .map(|line| format!("{line}\n"))
        .collect();
    let out = verify(&["--secret", ANCHOR_SECRET, "--signature-only"], &without_id, ENVELOPE.as_bytes());
    assert_eq!(
        out.stdout,
        format!("{{\"ok\":true,\"id\":null,\"type\":null,\"matched_secret\":0,\"timestamp\":{TS},\"delivery_id\":null}}\n")
    );
    let out = verify(&["--secret", ANCHOR_SECRET], &without_id, ENVELOPE.as_bytes());
    assert_eq!(
        out.stdout,
        format!("{{\"ok\":true,\"id\":\"evt_1\",\"type\":\"task.completed\",\"matched_secret\":0,\"timestamp\":{TS},\"delivery_id\":null}}\n")
    );
}

#[test]
fn official_standard_webhooks_vector() {
    let body = br#"{"test": 2432232314}"#;
    let out = run(
        &[
            "sign",
            "--scheme",
            "standard",
            "--secret",
            STANDARD_SECRET,
            "--id",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            "--timestamp",
            "1614265330",
        ],
        body,
    );
    assert_eq!(out.code, 0);
    assert_eq!(
        out.stdout,
        "Content-Type: application/json\n\
         webhook-id: msg_p5jXN8AQM9LWM0D4loKWxJek\n\
         webhook-timestamp: 1614265330\n\
         webhook-signature: v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=\n"
    );
    let mut args = vec!["verify", "--scheme", "standard", "--secret", STANDARD_SECRET, "--now", "1614265330"];
    let headers = header_args(&out.stdout);
    args.extend(headers.iter().map(String::as_str));
    let out = run(&args, body);
    assert_eq!(out.code, 0);
    assert_eq!(
        out.stdout,
        "{\"ok\":true,\"id\":\"msg_p5jXN8AQM9LWM0D4loKWxJek\",\"type\":\"\",\"matched_secret\":0,\"timestamp\":1614265330,\"delivery_id\":\"msg_p5jXN8AQM9LWM0D4loKWxJek\"}\n"
    );
}

#[test]
fn wrong_secret_is_a_mismatch_and_leaks_nothing() {
    let headers = sign(&["--secret", ANCHOR_SECRET], ENVELOPE.as_bytes());
    let signature = header_value(&headers, "Anchor-Signature");
    let v1 = signature.split("v1=").nth(1).expect("v1");
    let wrong = "a-wrong-but-well-formed-secret";
    let out = verify(&["--secret", wrong], &headers, ENVELOPE.as_bytes());
    let message = assert_failure(&out, "signature_mismatch");
    assert!(message.starts_with("signature mismatch"), "{message}");
    for secret in [wrong, ANCHOR_SECRET, v1, signature] {
        assert!(!out.stdout.contains(secret), "leaked: {}", out.stdout);
    }
}

#[test]
fn stale_delivery_reports_the_skew() {
    let headers = sign(&["--secret", ANCHOR_SECRET], ENVELOPE.as_bytes());
    let mut args = vec!["verify", "--secret", ANCHOR_SECRET, "--now", "1716545084"];
    let h = header_args(&headers);
    args.extend(h.iter().map(String::as_str));
    let out = run(&args, ENVELOPE.as_bytes());
    let message = assert_failure(&out, "timestamp_too_old");
    assert!(message.contains("1000 s"), "{message}");
    assert!(message.contains("tolerance is 120 s"), "{message}");
    // A wider tolerance accepts it; the boundary itself passes.
    args.extend(["--tolerance", "1000"]);
    assert_eq!(run(&args, ENVELOPE.as_bytes()).code, 0);
}

#[test]
fn body_limit_is_configurable() {
    let headers = sign(&["--secret", ANCHOR_SECRET], ENVELOPE.as_bytes());
    let out = verify(&["--secret", ANCHOR_SECRET, "--max-body-bytes", "10"], &headers, ENVELOPE.as_bytes());
    let message = assert_failure(&out, "body_too_large");
    assert!(message.contains("the limit is 10 bytes"), "{message}");
}

#[test]
fn missing_and_repeated_headers() {
    let out = verify(&["--secret", ANCHOR_SECRET], "", ENVELOPE.as_bytes());
    let message = assert_failure(&out, "missing_header");
    assert!(message.contains("Anchor-Signature"), "{message}");

    let headers = sign(&["--secret", ANCHOR_SECRET], ENVELOPE.as_bytes());
    let doubled = format!("{headers}anchor-timestamp: {TS}\n");
    let out = verify(&["--secret", ANCHOR_SECRET], &doubled, ENVELOPE.as_bytes());
    assert_failure(&out, "malformed_header");
}

#[test]
fn invalid_secret_is_exit_1_and_not_echoed() {
    let secret = "a-secret-with-trailing-space ";
    let out = run(&["verify", "--secret", secret, "-H", "A: b"], ENVELOPE.as_bytes());
    let message = assert_failure(&out, "invalid_secret");
    assert!(message.contains("secret #1"), "{message}");
    assert!(message.contains("whitespace"), "{message}");
    assert!(!out.stdout.contains("a-secret-with"), "{}", out.stdout);

    let out = run(&["sign", "--secret", ANCHOR_SECRET, "--secret", secret], ENVELOPE.as_bytes());
    let message = assert_failure(&out, "invalid_secret");
    assert!(message.contains("secret #2"), "{message}");
    assert!(!out.stdout.contains("a-secret-with"), "{}", out.stdout);
}

#[test]
fn headers_file_with_a_captured_request() {
    let headers = sign(&["--secret", ANCHOR_SECRET, "--id", "d-7"], ENVELOPE.as_bytes());
    let mut captured = String::from("POST /hooks/anchor HTTP/1.1\r\nHost: receiver.example:8443\r\n");
    for line in headers.lines() {
        // Extra optional whitespace around the value, as some captures have.
        let (name, value) = line.split_once(": ").expect("header line");
        captured.push_str(&format!("{name}:\t {value} \r\n"));
    }
    captured.push_str("Content-Length: 86\r\n\r\n");
    let file = temp_file(captured.as_bytes());
    let out = run(
        &[
            "verify",
            "--secret",
            ANCHOR_SECRET,
            "--now",
            TS,
            "--headers-file",
            file.to_str().expect("utf-8 path"),
        ],
        ENVELOPE.as_bytes(),
    );
    assert_eq!(out.code, 0, "{} {}", out.stdout, out.stderr);
    assert_eq!(
        out.stdout,
        format!("{{\"ok\":true,\"id\":\"evt_1\",\"type\":\"task.completed\",\"matched_secret\":0,\"timestamp\":{TS},\"delivery_id\":\"d-7\"}}\n")
    );

    // A whole captured request, body included (with a UTF-8 byte order mark, as some Windows editors
    // save it): the headers end at the blank line, the body comes from --body-file.
    let file = temp_file(format!("\u{feff}{captured}{ENVELOPE}\r\n").as_bytes());
    let body = temp_file(ENVELOPE.as_bytes());
    let (file, body) = (file.to_str().expect("utf-8 path"), body.to_str().expect("utf-8 path"));
    let verify_capture =
        ["verify", "--secret", ANCHOR_SECRET, "--now", TS, "--headers-file", file, "--body-file", body];
    let out = run(&verify_capture, b"");
    assert_eq!((out.code, out.stderr.as_str()), (0, ""), "{}", out.stdout);
    assert!(out.stdout.starts_with(r#"{"ok":true,"id":"evt_1""#), "{}", out.stdout);
    // The same from stdin.
    let verify_stdin =
        ["verify", "--secret", ANCHOR_SECRET, "--now", TS, "--headers-file", "-", "--body-file", body];
    let out = run(&verify_stdin, captured.as_bytes());
    assert_eq!((out.code, out.stderr.as_str()), (0, ""), "{}", out.stdout);
    // Headers and body cannot both come from stdin.
    let out = run(&["verify", "--secret", ANCHOR_SECRET, "--headers-file", "-"], captured.as_bytes());
    assert_eq!(out.code, 2);
    assert_eq!(
        out.stderr,
        "error: --headers-file - reads the headers from stdin, so the body cannot come from there too: give it \
         with --body-file FILE\n"
    );

    // A body pasted into a file of headers (no request line: not a capture) is a usage error, not a
    // silent header.
    let (_, headers_only) = captured.split_once("\r\n").expect("request line");
    let file = temp_file(format!("{headers_only}{ENVELOPE}\r\n").as_bytes());
    let out = run(
        &["verify", "--secret", ANCHOR_SECRET, "--headers-file", file.to_str().expect("utf-8 path")],
        ENVELOPE.as_bytes(),
    );
    assert_eq!(out.code, 2);
    assert_eq!(out.stdout, "");
    assert!(out.stderr.contains("line 10"), "{}", out.stderr);
}

#[test]
fn secrets_from_a_file_or_the_environment() {
    let headers = sign(&["--secret", ANCHOR_SECRET], ENVELOPE.as_bytes());
    let expected = |matched: usize| {
        format!(
            "{{\"ok\":true,\"id\":\"evt_1\",\"type\":\"task.completed\",\"matched_secret\":{matched},\"timestamp\":{TS},\"delivery_id\":\"{}\"}}\n",
            header_value(&headers, "Anchor-Delivery-Id")
        )
    };
    // One secret per line, CRLF or LF, empty lines skipped; the order is the rotation's order.
    let file = temp_file(format!("{ANCHOR_SECRET_2}\r\n\n{ANCHOR_SECRET}\n").as_bytes());
    let out = verify(&["--secret-file", file.to_str().expect("utf-8 path")], &headers, ENVELOPE.as_bytes());
    assert_eq!((out.code, out.stdout), (0, expected(1)));

    // Without --secret and --secret-file: ANCHOR_WEBHOOK_SECRET, which --secret overrides.
    let mut args = vec!["verify".to_owned(), "--now".to_owned(), TS.to_owned()];
    args.extend(header_args(&headers));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = common::run_with_secret_variable(&args, ENVELOPE.as_bytes(), Some(ANCHOR_SECRET));
    assert_eq!((out.code, out.stdout), (0, expected(0)));
    let overridden = [&args[..], &["--secret", ANCHOR_SECRET_2]].concat();
    let out = common::run_with_secret_variable(&overridden, ENVELOPE.as_bytes(), Some(ANCHOR_SECRET));
    assert_failure(&out, "signature_mismatch");

    // No secret anywhere: a usage error that names every way to give one.
    let out = run(&args, ENVELOPE.as_bytes());
    assert_eq!((out.code, out.stdout.as_str()), (2, ""));
    assert_eq!(
        out.stderr,
        "error: no secret: give --secret SECRET or --secret-file FILE, or set ANCHOR_WEBHOOK_SECRET\n"
    );
    // A file saved with a byte order mark: the core names the problem, never the secret.
    let file = temp_file(format!("\u{feff}{ANCHOR_SECRET}\n").as_bytes());
    let out = verify(&["--secret-file", file.to_str().expect("utf-8 path")], &headers, ENVELOPE.as_bytes());
    let message = assert_failure(&out, "invalid_secret");
    assert!(message.starts_with("invalid secret #1: it contains an invisible character"), "{message}");
    assert!(!out.stdout.contains(ANCHOR_SECRET), "{}", out.stdout);
}

#[test]
fn listen_refuses_a_malformed_redis_url_at_start_without_showing_it() {
    let url = "redis://user:hunter2@127.0.0.1:notaport/0";
    let out = run(&["listen", "--secret", ANCHOR_SECRET, "--port", "0", "--dedupe", url], b"");
    assert_eq!((out.code, out.stdout.as_str()), (2, ""));
    assert_eq!(
        out.stderr,
        "error: --dedupe: invalid Redis URL: expected redis:// or rediss://[username:password@]host[:port][/db]\n"
    );
}

#[test]
fn sign_refuses_a_timestamp_in_milliseconds() {
    let out = run(&["sign", "--secret", ANCHOR_SECRET, "--timestamp", "1716544084000"], ENVELOPE.as_bytes());
    let message = assert_failure(&out, "malformed_timestamp");
    assert!(message.contains("milliseconds instead of seconds?"), "{message}");
}

#[test]
fn usage_errors_exit_2() {
    let cases: &[&[&str]] = &[
        // -H without a colon.
        &["verify", "--secret", ANCHOR_SECRET, "-H", "Anchor-Signature t=1"],
        // Unknown flag.
        &["verify", "--secret", ANCHOR_SECRET, "--bogus"],
        // Missing --secret.
        &["verify", "-H", "A: b"],
        &["sign"],
        // Bad scheme.
        &["verify", "--secret", ANCHOR_SECRET, "--scheme", "hmac"],
        // Unreadable files.
        &["verify", "--secret", ANCHOR_SECRET, "--body-file", "/nonexistent/body"],
        &["verify", "--secret", ANCHOR_SECRET, "--headers-file", "/nonexistent/headers"],
        &["sign", "--secret", ANCHOR_SECRET, "--body-file", "/nonexistent/body"],
        // Not numbers.
        &["verify", "--secret", ANCHOR_SECRET, "--now", "yesterday"],
        &["sign", "--secret", ANCHOR_SECRET, "--timestamp", "-1"],
        // --event-type has no meaning for Standard Webhooks.
        &["sign", "--scheme", "standard", "--secret", STANDARD_SECRET, "--event-type", "x"],
        // No subcommand.
        &[],
    ];
    for args in cases {
        let out = run(args, b"{}");
        assert_eq!(out.code, 2, "{args:?}: {} {}", out.stdout, out.stderr);
        assert_eq!(out.stdout, "", "{args:?}");
        assert!(!out.stderr.is_empty(), "{args:?}");
    }
    // The -H error names the argument, not its value (which may be a signature).
    let out = run(&["verify", "--secret", ANCHOR_SECRET, "-H", "A: b", "-H", "Anchor-Signature t=1"], b"");
    assert!(out.stderr.contains("-H argument #2"), "{}", out.stderr);
    assert!(!out.stderr.contains("t=1"), "{}", out.stderr);
}

#[test]
fn version_and_help() {
    let out = run(&["--version"], b"");
    assert_eq!(out.code, 0);
    assert_eq!(out.stdout, format!("anchor-webhooks {}\n", env!("CARGO_PKG_VERSION")));

    let out = run(&["--help"], b"");
    assert_eq!(out.code, 0);
    assert!(out.stdout.contains("sign") && out.stdout.contains("verify"));

    let out = run(&["verify", "--help"], b"");
    assert_eq!(out.code, 0);
    for flag in [
        "--secret",
        "--scheme",
        "--tolerance",
        "--max-body-bytes",
        "--now",
        "-H, --header",
        "--headers-file",
        "--body-file",
        "--signature-only",
    ] {
        assert!(out.stdout.contains(flag), "verify --help lacks {flag}");
    }
    let out = run(&["sign", "--help"], b"");
    assert_eq!(out.code, 0);
    for flag in ["--secret", "--scheme", "--timestamp", "--id", "--event-type", "--body-file"] {
        assert!(out.stdout.contains(flag), "sign --help lacks {flag}");
    }
}

#[test]
fn sign_defaults_to_the_current_time() {
    let out = run(&["sign", "--secret", ANCHOR_SECRET], ENVELOPE.as_bytes());
    assert_eq!(out.code, 0);
    let ts: u64 = header_value(&out.stdout, "Anchor-Timestamp").parse().expect("number");
    assert!(ts > 1_700_000_000, "{ts}");
    // And verify defaults to the current time too.
    let mut args = vec!["verify", "--secret", ANCHOR_SECRET];
    let h = header_args(&out.stdout);
    args.extend(h.iter().map(String::as_str));
    assert_eq!(run(&args, ENVELOPE.as_bytes()).code, 0);
}
