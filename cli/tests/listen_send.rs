//! `listen` and `send` end to end: real processes talking HTTP on 127.0.0.1, exact lines and exit codes.

mod common;
// The core's private redis-server harness (plain and TLS), shared rather than copied.
#[path = "../../core/tests/redis_support/mod.rs"]
mod redis_support;

use common::{run, Run};
use redis_support::{RedisServer, Resp, TlsRedis};

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_anchor-webhooks");
const SECRET: &str = "36da51b166a69268a59a8d5ee0b32c9f5e5aaee7d301c7a5a36844318e116fc6";
const OTHER_SECRET: &str = "8f1c2a4b6d8e0f1a3c5e7a9b1d3f5a7c9e1b3d5f7a9c1e3b5d7f9a1c3e5b7d9f";
const STANDARD_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
/// How long a test waits for a line before failing (never reached when things work).
const LINE_TIMEOUT: Duration = Duration::from_secs(15);

/// A running `anchor-webhooks listen`, killed when dropped (also when a test fails).
struct Listener {
    child: Child,
    lines: Receiver<String>,
    stderr: Arc<Mutex<String>>,
    port: u16,
}

impl Listener {
    /// Starts `listen --port 0 ARGS` and reads the port from its first line.
    fn start(args: &[&str]) -> Listener {
        let mut listener = Listener::spawn("listen", &[&["--port", "0"], args].concat());
        let first = listener.next_line();
        let port = first
            .strip_prefix("listening on http://127.0.0.1:")
            .and_then(|rest| rest.strip_suffix("/webhooks").or_else(|| rest.strip_suffix("/hooks")))
            .unwrap_or_else(|| panic!("unexpected first line: {first:?}"));
        listener.port = port.parse().expect("port");
        listener
    }

    /// Starts `serve --port 0 ARGS` (the emulator) and reads the port from its first line.
    fn start_emulator(args: &[&str]) -> Listener {
        let mut emulator = Listener::spawn("serve", &[&["--port", "0"], args].concat());
        let first = emulator.next_line();
        let port = first
            .strip_prefix("emulator listening on http://127.0.0.1:")
            .unwrap_or_else(|| panic!("unexpected first line: {first:?}"));
        emulator.port = port.parse().expect("port");
        emulator
    }

    /// Starts `COMMAND ARGS`, collecting its stdout lines and stderr.
    fn spawn(command: &str, args: &[&str]) -> Listener {
        let mut child = Command::new(BIN)
            .arg(command)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn listen");
        let (sender, lines) = mpsc::channel();
        let stdout = child.stdout.take().expect("stdout");
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut pipe = child.stderr.take().expect("stderr");
        let collected = Arc::clone(&stderr);
        thread::spawn(move || {
            let mut chunk = [0u8; 4096];
            while let Ok(n @ 1..) = pipe.read(&mut chunk) {
                collected.lock().unwrap().push_str(&String::from_utf8_lossy(&chunk[..n]));
            }
        });
        Listener { child, lines, stderr, port: 0 }
    }

    fn next_line(&self) -> String {
        self.lines.recv_timeout(LINE_TIMEOUT).unwrap_or_else(|error| {
            panic!("no line from the listener ({error}); stderr: {}", self.stderr.lock().unwrap())
        })
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/webhooks", self.port)
    }

    fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Waits until stderr holds `text`: a reader thread collects it, so a line written just before the
    /// stdout line the test waited for may not have been appended yet.
    fn wait_stderr_contains(&self, text: &str) {
        let deadline = std::time::Instant::now() + LINE_TIMEOUT;
        while !self.stderr().contains(text) {
            assert!(std::time::Instant::now() < deadline, "stderr never said {text:?}: {}", self.stderr());
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `send --url URL --event task.completed ARGS`.
fn send(url: &str, args: &[&str]) -> Run {
    let mut all = vec!["send", "--url", url, "--event", "task.completed"];
    all.extend_from_slice(args);
    run(&all, b"")
}

/// Checks `<status> <reason> in <ms> ms` and the body line; returns nothing, panics with the whole run.
fn assert_sent(out: &Run, code: i32, status_and_reason: &str, body: &str) {
    assert_eq!(out.code, code, "{out:?}");
    assert_eq!(out.stderr, "", "{out:?}");
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{out:?}");
    let millis = lines[0]
        .strip_prefix(&format!("{status_and_reason} in "))
        .and_then(|rest| rest.strip_suffix(" ms"))
        .unwrap_or_else(|| panic!("status line {:?}", lines[0]));
    let (whole, tenths) = millis.split_once('.').expect("one decimal");
    assert!(whole.bytes().all(|b| b.is_ascii_digit()) && !whole.is_empty(), "{millis}");
    assert!(tenths.len() == 1 && tenths.bytes().all(|b| b.is_ascii_digit()), "{millis}");
    assert_eq!(lines[1], body);
}

/// A hand-written HTTP/1.1 request; returns the status code, the header block and the body.
fn raw_request(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> (u16, String, String) {
    raw_request_to(SocketAddr::from(([127, 0, 0, 1], port)), method, path, headers, body)
}

/// [`raw_request`] to any address (a server bound to a name may be on `[::1]`).
fn raw_request_to(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> (u16, String, String) {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(LINE_TIMEOUT)).expect("timeout");
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    stream.write_all(request.as_bytes()).expect("write head");
    stream.write_all(body).expect("write body");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read response");
    let (head, body) = response.split_once("\r\n\r\n").expect("a complete response");
    let status = head.split(' ').nth(1).expect("status").parse().expect("numeric status");
    (status, head.to_owned(), body.to_owned())
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().find_map(|line| {
        let (n, v) = line.split_once(':')?;
        n.eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// Signs `body` now with the `sign` command; returns the headers as pairs.
fn signed_headers(body: &str) -> Vec<(String, String)> {
    let out = run(&["sign", "--secret", SECRET], body.as_bytes());
    assert_eq!(out.code, 0, "{out:?}");
    out.stdout
        .lines()
        .map(|line| {
            let (name, value) = line.split_once(": ").expect("Name: value");
            (name.to_owned(), value.to_owned())
        })
        .collect()
}

/// A port nothing listens on (bound, then released): for a port another process binds later.
fn closed_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

/// A port that refuses connections for as long as the returned socket lives: bound but not listening,
/// so no other test's `bind(0)` can take it (and answer) meanwhile, as it could a released port.
fn refusing_port() -> (tokio::net::TcpSocket, u16) {
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket.bind("127.0.0.1:0".parse().unwrap()).expect("bind");
    let port = socket.local_addr().expect("addr").port();
    (socket, port)
}

#[test]
fn listen_verifies_dedupes_and_refuses() {
    let listener = Listener::start(&["--secret", SECRET]);
    let url = listener.url();

    let out = send(&url, &["--secret", SECRET, "--id", "evt_1"]);
    assert_sent(&out, 0, "200 OK", r#"{"ok":true,"outcome":"processed","id":"evt_1"}"#);
    assert_eq!(listener.next_line(), "processed task.completed evt_1 secret=0 status=200");

    // The same event again: a duplicate, still 200.
    let out = send(&url, &["--secret", SECRET, "--id", "evt_1", "--data", r#"{"task_id":"t_1"}"#]);
    assert_sent(&out, 0, "200 OK", r#"{"ok":true,"outcome":"duplicate","id":"evt_1"}"#);
    assert_eq!(listener.next_line(), "duplicate task.completed evt_1 secret=0 status=200");

    // Signed with another secret: refused, and the status line is still printed.
    let out = send(&url, &["--secret", OTHER_SECRET, "--id", "evt_2"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert_eq!(out.stderr, "");
    assert!(out.stdout.starts_with("401 Unauthorized in "), "{out:?}");
    assert!(
        out.stdout
            .lines()
            .nth(1)
            .unwrap()
            .starts_with(r#"{"ok":false,"error":"signature_mismatch","message":"#),
        "{out:?}"
    );
    assert_eq!(listener.next_line(), "rejected - - error=signature_mismatch status=401");

    // During a rotation the listener holds both secrets and reports which one matched.
    drop(listener);
    let listener = Listener::start(&["--secret", SECRET, "--secret", OTHER_SECRET]);
    let out = send(&listener.url(), &["--secret", OTHER_SECRET, "--id", "evt_2"]);
    assert_sent(&out, 0, "200 OK", r#"{"ok":true,"outcome":"processed","id":"evt_2"}"#);
    assert_eq!(listener.next_line(), "processed task.completed evt_2 secret=1 status=200");

    // No signature headers at all.
    let json = vec![("Content-Type".to_owned(), "application/json".to_owned())];
    let (status, _, body) = raw_request(listener.port, "POST", "/webhooks", &json, b"{}");
    assert_eq!(status, 400);
    assert!(body
        .starts_with(r#"{"ok":false,"error":"missing_header","message":"missing header `Anchor-Signature`"#));
    assert_eq!(listener.next_line(), "rejected - - error=missing_header status=400");

    // Not deliveries: answered by HTTP alone, and not logged.
    let (status, head, _) = raw_request(listener.port, "GET", "/webhooks", &[], b"");
    assert_eq!(status, 405);
    assert_eq!(header(&head, "allow"), Some("POST"));
    let (status, _, _) = raw_request(listener.port, "POST", "/other", &json, b"{}");
    assert_eq!(status, 404);
    let (status, _, _) = raw_request(listener.port, "GET", "/", &[], b"");
    assert_eq!(status, 404);

    // A body over the limit (1 MiB) is refused while reading it.
    let big = vec![b' '; 1024 * 1024 + 1];
    let (status, _, body) = raw_request(listener.port, "POST", "/webhooks", &json, &big);
    assert_eq!(status, 413);
    assert!(body.starts_with(r#"{"ok":false,"error":"body_too_large","#), "{body}");
    assert_eq!(listener.next_line(), "rejected - - error=body_too_large status=413");

    // The next line is the next delivery's: nothing was logged for the 404s and the 405.
    let url = listener.url();
    let out = run(
        &["send", "--url", &url, "--secret", SECRET, "--event", "session.completed", "--id", "evt_3"],
        b"",
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(listener.next_line(), "processed session.completed evt_3 secret=0 status=200");
    assert_eq!(listener.stderr(), "");
}

#[test]
fn listen_standard_scheme_on_a_custom_path() {
    let listener =
        Listener::start(&["--scheme", "standard", "--secret", STANDARD_SECRET, "--path", "/hooks"]);
    let url = format!("http://127.0.0.1:{}/hooks", listener.port);
    let args = ["--scheme", "standard", "--secret", STANDARD_SECRET, "--id", "msg_1"];
    let out = send(&url, &args);
    assert_sent(&out, 0, "200 OK", r#"{"ok":true,"outcome":"processed","id":"msg_1"}"#);
    assert_eq!(listener.next_line(), "processed task.completed msg_1 secret=0 status=200");
    let out = send(&url, &args);
    assert_sent(&out, 0, "200 OK", r#"{"ok":true,"outcome":"duplicate","id":"msg_1"}"#);
    assert_eq!(listener.next_line(), "duplicate task.completed msg_1 secret=0 status=200");

    // The default path is not served.
    let out = send(&listener.url(), &args);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stdout.starts_with("404 Not Found in "), "{out:?}");
}

#[test]
fn listen_forwards_verified_deliveries() {
    let target = Listener::start(&["--secret", SECRET]);
    let forwarder = Listener::start(&["--secret", SECRET, "--forward-to", &target.url()]);

    let out = send(&forwarder.url(), &["--secret", SECRET, "--id", "evt_f1"]);
    assert_sent(&out, 0, "200 OK", r#"{"ok":true,"outcome":"processed","id":"evt_f1"}"#);
    // The target verified the forwarded delivery: the original headers and raw body arrived intact.
    assert_eq!(target.next_line(), "processed task.completed evt_f1 secret=0 status=200");
    assert_eq!(forwarder.next_line(), "processed task.completed evt_f1 secret=0 status=200");

    // A duplicate is not forwarded again.
    let out = send(&forwarder.url(), &["--secret", SECRET, "--id", "evt_f1"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(forwarder.next_line(), "duplicate task.completed evt_f1 secret=0 status=200");

    // The target is down: the handler fails, the claim is released, the sender is told to retry (500).
    drop(target);
    for _ in 0..2 {
        let out = send(&forwarder.url(), &["--secret", SECRET, "--id", "evt_f2"]);
        assert_eq!(out.code, 1, "{out:?}");
        assert!(out.stdout.starts_with("500 Internal Server Error in "), "{out:?}");
        assert_eq!(out.stdout.lines().nth(1).unwrap(), HANDLER_FAILED_ANSWER, "{out:?}");
        // Released, so the retry runs the handler again (not `duplicate`, not `in_progress`).
        assert_eq!(forwarder.next_line(), "handler_failed task.completed evt_f2 secret=0 status=500");
    }
    forwarder.wait_stderr_contains("handler_failed evt_f2: could not forward to http://127.0.0.1:");
}

/// What the sender gets when the forward failed: no reason, which names the internal target.
const HANDLER_FAILED_ANSWER: &str = r#"{"ok":false,"error":"handler_failed","message":"the handler failed (the reason is in the receiver's log); the claim was released, so a retry is processed"}"#;

#[test]
fn a_failed_forward_never_shows_the_target_s_credentials() {
    // Nothing listens on the port of a listener that was started and stopped.
    let port = Listener::start(&["--secret", SECRET]).port;
    let target = format!("http://user:hunter2@127.0.0.1:{port}/hook?token=sk_live_abc#frag");
    let forwarder = Listener::start(&["--secret", SECRET, "--forward-to", &target]);
    let body = r#"{"id":"evt_cred","type":"task.completed","created":"2026-05-24T12:18:05.123Z","data":{}}"#;
    let (status, _, answer) =
        raw_request(forwarder.port, "POST", "/webhooks", &signed_headers(body), body.as_bytes());
    assert_eq!((status, answer.as_str()), (500, HANDLER_FAILED_ANSWER));
    assert_eq!(forwarder.next_line(), "handler_failed task.completed evt_cred secret=0 status=500");
    let logged = format!("handler_failed evt_cred: could not forward to http://127.0.0.1:{port}/hook: ");
    forwarder.wait_stderr_contains(&logged);
    let stderr = forwarder.stderr();
    for secret in ["user", "hunter2", "sk_live_abc", "token", "frag"] {
        assert!(!stderr.contains(secret), "{secret} in {stderr}");
    }
}

#[test]
fn listen_fails_the_handler_when_the_target_refuses() {
    let target = Listener::start(&["--secret", OTHER_SECRET]);
    let forwarder = Listener::start(&["--secret", SECRET, "--forward-to", &target.url()]);
    let out = send(&forwarder.url(), &["--secret", SECRET, "--id", "evt_r1"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stdout.starts_with("500 Internal Server Error in "), "{out:?}");
    assert_eq!(target.next_line(), "rejected - - error=signature_mismatch status=401");
    assert_eq!(forwarder.next_line(), "handler_failed task.completed evt_r1 secret=0 status=500");
    forwarder.wait_stderr_contains("the target answered 401 Unauthorized");
}

#[test]
fn listen_answers_in_progress_while_the_handler_runs() {
    // A forward target that accepts the connection and holds it: the first delivery's handler hangs.
    let hold = TcpListener::bind("127.0.0.1:0").expect("bind");
    let hold_url = format!("http://127.0.0.1:{}/", hold.local_addr().unwrap().port());
    let forwarder = Listener::start(&["--secret", SECRET, "--forward-to", &hold_url]);

    let url = forwarder.url();
    let first = thread::spawn(move || send(&url, &["--secret", SECRET, "--id", "evt_p"]));
    let (connection, _) = hold.accept().expect("the forward arrives");

    // Meanwhile the same event again: another request holds the claim.
    let body = r#"{"id":"evt_p","type":"task.completed","created":"2026-05-24T12:18:05.123Z","data":{}}"#;
    let (status, head, answer) =
        raw_request(forwarder.port, "POST", "/webhooks", &signed_headers(body), body.as_bytes());
    assert_eq!(status, 503);
    assert_eq!(header(&head, "retry-after"), Some("5"));
    assert!(answer.starts_with(r#"{"ok":false,"error":"in_progress","message":"#), "{answer}");
    assert_eq!(forwarder.next_line(), "in_progress task.completed evt_p secret=0 status=503");

    // The target goes away without answering: the first delivery fails and is released.
    drop(connection);
    drop(hold);
    let out = first.join().expect("send thread");
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stdout.starts_with("500 Internal Server Error in "), "{out:?}");
    assert_eq!(forwarder.next_line(), "handler_failed task.completed evt_p secret=0 status=500");
}

/// Reads one HTTP request (head and `Content-Length` body) from a forward, without answering it.
fn read_forward(connection: &mut TcpStream) {
    let mut reader = BufReader::new(connection.try_clone().expect("clone"));
    let mut length = 0;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).expect("read the forward's head");
        if line == "\r\n" {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().expect("content-length");
            }
        }
    }
    reader.read_exact(&mut vec![0; length]).expect("read the forward's body");
}

#[test]
fn listen_reports_a_claim_lost_by_a_handler_that_outlasted_its_lease() {
    // Forwards are held open by the test: the first delivery's handler outlasts its 1 s lease, a retry of the
    // same event takes the claim over, and the first forward is answered only then.
    let hold = TcpListener::bind("127.0.0.1:0").expect("bind");
    let hold_url = format!("http://127.0.0.1:{}/", hold.local_addr().unwrap().port());
    let forwarder = Listener::start(&["--secret", SECRET, "--lease", "1", "--forward-to", &hold_url]);
    let body = r#"{"id":"evt_lost","type":"task.completed","created":"2026-05-24T12:18:05.123Z","data":{}}"#;
    let headers = signed_headers(body);
    let deliver = |headers: Vec<(String, String)>| {
        let port = forwarder.port;
        thread::spawn(move || raw_request(port, "POST", "/webhooks", &headers, body.as_bytes()).0)
    };

    let first = deliver(headers.clone());
    let (mut first_forward, _) = hold.accept().expect("the first forward arrives");
    read_forward(&mut first_forward);
    thread::sleep(Duration::from_millis(1_300));
    let retry = deliver(headers);
    let (mut retry_forward, _) = hold.accept().expect("the retry is forwarded: its claim took over");
    read_forward(&mut retry_forward);

    let ok = b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n";
    first_forward.write_all(ok).expect("answer the first forward");
    drop(first_forward);
    assert_eq!(first.join().expect("first delivery"), 200);
    assert_eq!(forwarder.next_line(), "processed task.completed evt_lost secret=0 status=200");
    forwarder.wait_stderr_contains(
        "anchor-webhooks: claim lost: the handler of event evt_lost outlasted its 1 s lease and the claim was \
         gone when it finished (another delivery may have run it too); choose a lease longer than the handler\n",
    );

    retry_forward.write_all(ok).expect("answer the retry's forward");
    drop(retry_forward);
    assert_eq!(retry.join().expect("retry"), 200);
    assert_eq!(forwarder.next_line(), "processed task.completed evt_lost secret=0 status=200");
    assert_eq!(forwarder.stderr().matches("claim lost").count(), 1, "{}", forwarder.stderr());
}

#[cfg(unix)]
#[test]
fn listen_stops_cleanly_on_sigterm() {
    let mut listener = Listener::start(&["--secret", SECRET]);
    let pid = listener.child.id().to_string();
    let status = Command::new("kill").args(["-TERM", &pid]).status().expect("run kill");
    assert!(status.success());
    let status = listener.child.wait().expect("wait");
    assert_eq!(status.code(), Some(0));
}

#[test]
fn listen_usage_and_secret_errors() {
    let out = run(&["listen", "--secret", SECRET, "--dedupe", "postgres://localhost"], b"");
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("expected `memory` or a Redis URL"), "{out:?}");
    let out = run(&["listen", "--secret", SECRET, "--path", "webhooks"], b"");
    assert_eq!(out.code, 2, "{out:?}");
    let out = run(&["listen", "--secret", SECRET, "--forward-to", "localhost:9000"], b"");
    assert_eq!(out.code, 2, "{out:?}");
    assert_eq!(out.stderr, "error: --forward-to localhost:9000: expected an http:// or https:// URL (the scheme is `localhost`)\n");
    let out = run(&["listen", "--secret", SECRET, "--lease", "0"], b"");
    assert_eq!(out.code, 2, "{out:?}");
    assert_eq!(
        out.stderr,
        "error: --lease 0: must be at least 1 s: a shorter lease expires under a running handler, and a retry \
         would run it a second time alongside (the default is 30 s)\n"
    );
    // An unusable secret is refused before listening: one JSON line, exit 1.
    let out = run(&["listen", "--port", "0", "--secret", " x"], b"");
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stdout.starts_with(r#"{"ok":false,"error":"invalid_secret","#), "{out:?}");
    // The port is taken.
    let taken = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = taken.local_addr().unwrap().port().to_string();
    let out = run(&["listen", "--port", &port, "--secret", SECRET], b"");
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stderr.starts_with(&format!("error: cannot listen on 127.0.0.1:{port}: ")), "{out:?}");
}

#[test]
fn send_network_and_usage_errors() {
    let (_refusing, port) = refusing_port();
    let url = format!("http://127.0.0.1:{port}/webhooks");
    let out = send(&url, &["--secret", SECRET]);
    assert_eq!(out.code, 1, "{out:?}");
    assert_eq!(out.stdout, "");
    assert!(out.stderr.starts_with(&format!("error: could not connect to {url}: ")), "{out:?}");
    assert_eq!(out.stderr.lines().count(), 1);

    for (args, message) in [
        (
            &["--data", "{"][..],
            "error: --data: not valid JSON: EOF while parsing an object at line 1 column 1\n",
        ),
        (&["--data", "[1]"][..], "error: --data: expected a JSON object, e.g. '{\"task_id\":\"t_1\"}'\n"),
        (&["--data-file", "/nonexistent/data.json"][..], "error: --data-file /nonexistent/data.json: "),
    ] {
        let mut all = vec!["--secret", SECRET];
        all.extend_from_slice(args);
        let out = send(&url, &all);
        assert_eq!(out.code, 2, "{out:?}");
        assert_eq!(out.stdout, "");
        assert!(out.stderr.starts_with(message), "{out:?}");
    }
    let out = send("127.0.0.1:8787/webhooks", &["--secret", SECRET]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out
        .stderr
        .starts_with("error: --url 127.0.0.1:8787/webhooks: expected an http:// or https:// URL"));
    let out = send(&url, &["--secret", SECRET, "--data", "{}", "--data-file", "x"]);
    assert_eq!(out.code, 2, "{out:?}");
    let out = send(&url, &["--secret", SECRET, "--timeout", "0"]);
    assert_eq!(out.code, 2, "{out:?}");
}

#[test]
fn send_builds_the_envelope() {
    // A raw server in the test captures exactly what `send` puts on the wire.
    let server = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://127.0.0.1:{}/in", server.local_addr().unwrap().port());
    let capture = thread::spawn(move || {
        let (mut stream, _) = server.accept().expect("accept");
        let mut request = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            let n = stream.read(&mut chunk).expect("read");
            assert!(n > 0, "the request ended early");
            request.extend_from_slice(&chunk[..n]);
            let text = String::from_utf8_lossy(&request);
            if let Some((head, body)) = text.split_once("\r\n\r\n") {
                let length: usize = header(head, "content-length").expect("length").parse().unwrap();
                if body.len() >= length {
                    break;
                }
            }
        }
        stream.write_all(b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").unwrap();
        String::from_utf8(request).expect("utf-8 request")
    });
    let out = send(&url, &["--secret", SECRET, "--id", "evt_e", "--data", r#"{"task_id":"t_1"}"#]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.stdout.lines().count(), 1, "no body line for an empty body: {out:?}");
    assert!(out.stdout.starts_with("202 Accepted in "), "{out:?}");

    let request = capture.join().expect("capture");
    let (head, body) = request.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("POST /in HTTP/1.1\r\n"), "{head}");
    assert_eq!(header(head, "user-agent"), Some("Anchor-Webhooks/1.0"));
    assert_eq!(header(head, "content-type"), Some("application/json"));
    assert_eq!(header(head, "anchor-event"), Some("task.completed"));
    let timestamp = header(head, "anchor-timestamp").expect("timestamp");
    assert!(header(head, "anchor-signature").unwrap().starts_with(&format!("t={timestamp},v1=")));

    let envelope: serde_json::Value = serde_json::from_str(body).expect("json body");
    let keys: Vec<&str> = envelope.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["id", "type", "created", "project_id", "text", "data"]);
    assert_eq!(envelope["id"], "evt_e");
    assert_eq!(envelope["type"], "task.completed");
    assert_eq!(envelope["project_id"], "00000000-0000-0000-0000-000000000000");
    assert_eq!(envelope["text"], "task.completed (sent by anchor-webhooks send)");
    assert_eq!(envelope["data"], serde_json::json!({"task_id": "t_1"}));
    let created = envelope["created"].as_str().unwrap();
    assert_eq!(created.len(), "2026-05-24T12:18:05.123Z".len(), "{created}");
    assert!(created.ends_with('Z') && created.as_bytes()[19] == b'.', "{created}");

    // The captured delivery verifies with the `verify` command.
    let mut args = vec!["verify".to_owned(), "--secret".to_owned(), SECRET.to_owned()];
    for line in head.lines().skip(1) {
        args.extend(["-H".to_owned(), line.to_owned()]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = run(&args, body.as_bytes());
    assert_eq!(out.code, 0, "{out:?}");
}

/// `serve` and `listen` as real processes: a webhook created over the management API, a test event
/// delivered, verified and logged by the listener, and the delivery log saying `succeeded`.
#[test]
fn serve_delivers_to_listen() {
    let emulator = Listener::start_emulator(&["--allow-insecure-localhost", "--time-scale", "0.01"]);
    assert_eq!(emulator.next_line(), "  api key `ak_local_test` (header `anchor-api-key`)");
    let key = [("anchor-api-key".to_owned(), "ak_local_test".to_owned())];
    let json = [("Content-Type".to_owned(), "application/json".to_owned()), key[0].clone()];

    // The webhook's URL needs the listener's port and the listener needs the webhook's secret: take a free
    // port from a placeholder listener, create the webhook for it, then listen there with the secret.
    let placeholder = Listener::start(&["--secret", "placeholder"]);
    let port = placeholder.port;
    drop(placeholder);
    let create =
        format!(r#"{{"url":"http://127.0.0.1:{port}/webhooks","subscribed_events":["task.completed"]}}"#);
    let (status, _, body) = raw_request(emulator.port, "POST", "/v1/webhooks", &json, create.as_bytes());
    assert_eq!(status, 201, "{body}");
    let created: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    let (id, secret) = (created["id"].as_str().unwrap(), created["secret"].as_str().unwrap());
    let port_arg = port.to_string();
    let mut listener = Listener::spawn("listen", &["--secret", secret, "--port", &port_arg]);
    listener.port = port;
    assert_eq!(listener.next_line(), format!("listening on http://127.0.0.1:{port}/webhooks"));

    let test = br#"{"event_type":"task.completed"}"#;
    let (status, _, body) =
        raw_request(emulator.port, "POST", &format!("/v1/webhooks/{id}/test"), &json, test);
    assert_eq!(status, 202, "{body}");
    let event_id = serde_json::from_str::<serde_json::Value>(&body).unwrap()["external_event_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(listener.next_line(), format!("processed task.completed {event_id} secret=0 status=200"));

    let deadline = std::time::Instant::now() + LINE_TIMEOUT;
    loop {
        let (status, _, body) =
            raw_request(emulator.port, "GET", &format!("/v1/webhooks/{id}/events"), &key, b"");
        assert_eq!(status, 200, "{body}");
        let page: serde_json::Value = serde_json::from_str(&body).unwrap();
        if page["events"][0]["status"] == "succeeded" {
            assert_eq!(page["events"][0]["external_event_id"], event_id.as_str());
            assert_eq!(page["events"][0]["attempt"], 1);
            assert!(page.to_string().find("secret").is_none(), "history shows no secret: {page}");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "never succeeded: {page}");
        thread::sleep(Duration::from_millis(20));
    }
    // The insecure switch is announced loudly.
    assert!(emulator.stderr().contains("WARNING: --allow-insecure-localhost is ON"), "{}", emulator.stderr());
}

/// `serve --host localhost`: the name is resolved when binding, as `listen --host` does; the emulator
/// starts on a loopback address (127.0.0.1 or ::1, whichever `localhost` resolves to first here) and
/// answers the management API there.
#[test]
fn serve_accepts_a_host_name_and_answers_on_loopback() {
    let emulator = Listener::spawn("serve", &["--host", "localhost", "--port", "0"]);
    let first = emulator.next_line();
    let addr: SocketAddr = first
        .strip_prefix("emulator listening on http://")
        .and_then(|addr| addr.parse().ok())
        .unwrap_or_else(|| panic!("unexpected first line: {first:?}"));
    assert!(addr.ip().is_loopback(), "{first}");
    assert_ne!(addr.port(), 0, "{first}");
    assert_eq!(emulator.next_line(), "  api key `ak_local_test` (header `anchor-api-key`)");
    let key = [("anchor-api-key".to_owned(), "ak_local_test".to_owned())];
    let (status, _, body) = raw_request_to(addr, "GET", "/v1/webhooks", &key, b"");
    assert_eq!((status, body.as_str()), (200, r#"{"webhooks":[]}"#));
    assert_eq!(emulator.stderr(), "", "no warning without --allow-insecure-localhost");
}

/// `--host` means the same in `listen` and `serve`: one help text, and the same exit 1 and message for a
/// name that does not resolve (`.invalid` never does, RFC 6761) or a port in use.
#[test]
fn listen_and_serve_bind_their_host_the_same_way() {
    let host_help = |command: &str| {
        let out = run(&[command, "--help"], b"");
        assert_eq!(out.code, 0, "{out:?}");
        let line = out.stdout.lines().find(|line| line.trim_start().starts_with("--host <HOST>"));
        line.map(|line| line.trim_start().split_once("  ").expect("flag, then help").1.trim().to_owned())
            .unwrap_or_else(|| panic!("{command} --help has no --host: {}", out.stdout))
    };
    let help = host_help("serve");
    assert_eq!(
        help,
        "The IP address (127.0.0.1, ::1 or [::1]) or host name to listen on. A name such as localhost is \
         resolved when binding, and the first of its addresses that can be bound is used (the first output \
         line shows it). The default only accepts connections from this machine. [default: 127.0.0.1]"
    );
    assert_eq!(host_help("listen"), help);

    let taken = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = taken.local_addr().unwrap().port().to_string();
    for (host, port) in [("nonexistent.invalid", "0"), ("127.0.0.1", port.as_str())] {
        let expected = format!("error: cannot listen on {host}:{port}: ");
        for args in [
            &["serve", "--host", host, "--port", port][..],
            &["listen", "--secret", SECRET, "--host", host, "--port", port],
        ] {
            let out = run(args, b"");
            assert_eq!(out.code, 1, "{args:?}: {out:?}");
            assert_eq!(out.stdout, "", "{args:?}");
            assert!(out.stderr.starts_with(&expected), "{args:?}: {out:?}");
            assert_eq!(out.stderr.lines().count(), 1, "{args:?}: {out:?}");
        }
    }
}

/// Two replicas of a receiver share one Redis: what one processed, the other answers as a duplicate;
/// with Redis down, deliveries get 503 `store_unavailable` (the sender retries), never processed.
#[test]
fn listen_replicas_share_a_redis_dedupe_store() {
    let redis = RedisServer::start();
    let url = redis.url();
    let first = Listener::start(&["--secret", SECRET, "--dedupe", &url]);
    let second = Listener::start(&["--secret", SECRET, "--dedupe", &url]);
    let body =
        r#"{"id":"evt_replicas","type":"task.completed","created":"2026-05-24T12:18:05.123Z","data":{}}"#;
    let headers = signed_headers(body);
    let (status, _, _) = raw_request(first.port, "POST", "/webhooks", &headers, body.as_bytes());
    assert_eq!(status, 200);
    assert_eq!(first.next_line(), "processed task.completed evt_replicas secret=0 status=200");
    let (status, _, _) = raw_request(second.port, "POST", "/webhooks", &headers, body.as_bytes());
    assert_eq!(status, 200);
    assert_eq!(second.next_line(), "duplicate task.completed evt_replicas secret=0 status=200");

    drop(redis);
    let other = r#"{"id":"evt_down","type":"task.completed","created":"2026-05-24T12:18:05.123Z","data":{}}"#;
    let (status, head, answer) =
        raw_request(second.port, "POST", "/webhooks", &signed_headers(other), other.as_bytes());
    assert_eq!(status, 503, "{answer}");
    assert_eq!(header(&head, "retry-after"), Some("5"));
    assert_eq!(second.next_line(), "rejected - - error=store_unavailable status=503");
    // The store's reason is in the log too, not only in the answer the sender keeps.
    second.wait_stderr_contains(
        "rejected: dedupe store unavailable: redis: connection refused; answer 503 so the sender retries\n",
    );
}

/// The forward went out, then the store could not record the event as done: the line names the event and
/// says so (the sender's retry forwards it again), and stderr has the store's reason.
#[test]
fn listen_reports_a_handled_delivery_the_store_could_not_record() {
    let redis = RedisServer::start();
    let url = redis.url();
    let hold = TcpListener::bind("127.0.0.1:0").expect("bind");
    let hold_url = format!("http://127.0.0.1:{}/", hold.local_addr().unwrap().port());
    let forwarder = Listener::start(&["--secret", SECRET, "--dedupe", &url, "--forward-to", &hold_url]);
    let body =
        r#"{"id":"evt_unrecorded","type":"task.completed","created":"2026-05-24T12:18:05.123Z","data":{}}"#;
    let headers = signed_headers(body);
    let port = forwarder.port;
    let delivery = thread::spawn(move || raw_request(port, "POST", "/webhooks", &headers, body.as_bytes()));
    let (mut forward, _) = hold.accept().expect("the forward arrives");
    read_forward(&mut forward);
    drop(redis); // down while the handler runs: the claim was taken, the completion cannot be recorded
    forward.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n").expect("answer");
    drop(forward);
    let (status, head, answer) = delivery.join().expect("the delivery");
    assert_eq!(status, 503, "{answer}");
    assert_eq!(header(&head, "retry-after"), Some("5"));
    assert_eq!(
        forwarder.next_line(),
        "unrecorded task.completed evt_unrecorded secret=0 error=store_unavailable status=503"
    );
    forwarder.wait_stderr_contains(
        "unrecorded: dedupe store unavailable: the handler of event evt_unrecorded ran, but recording it as done \
         failed (redis: connection refused); a retry after the lease runs it again; answer 503 so the sender \
         retries\n",
    );
}

/// `serve --db`: killed with SIGKILL while deliveries are pending, restarted on the same file, it still
/// has the webhook and delivers every pending event once the receiver is up.
#[test]
fn serve_survives_a_kill_with_pending_deliveries() {
    let db =
        std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("kill-{}.db", std::process::id()));
    let _ = std::fs::remove_file(&db);
    let db_arg = db.to_str().unwrap().to_owned();
    let serve_args = ["--allow-insecure-localhost", "--db", db_arg.as_str()];
    let mut emulator = Listener::start_emulator(&serve_args);
    emulator.next_line(); // the api key line
    let json = [
        ("Content-Type".to_owned(), "application/json".to_owned()),
        ("anchor-api-key".to_owned(), "ak_local_test".to_owned()),
    ];
    // The receiver's port is closed for now: every first attempt fails and waits 5 s for its retry.
    let port = closed_port();
    let create =
        format!(r#"{{"url":"http://127.0.0.1:{port}/webhooks","subscribed_events":["task.completed"]}}"#);
    let (status, _, body) = raw_request(emulator.port, "POST", "/v1/webhooks", &json, create.as_bytes());
    assert_eq!(status, 201, "{body}");
    let created: serde_json::Value = serde_json::from_str(&body).unwrap();
    let (id, secret) =
        (created["id"].as_str().unwrap().to_owned(), created["secret"].as_str().unwrap().to_owned());
    let mut events = Vec::new();
    for _ in 0..3 {
        let publish = br#"{"type":"task.completed","data":{}}"#;
        let (status, _, body) = raw_request(emulator.port, "POST", "/v1/events", &json, publish);
        assert_eq!(status, 202, "{body}");
        events.push(
            serde_json::from_str::<serde_json::Value>(&body).unwrap()["external_event_id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let history = |port: u16| {
        let (_, _, body) = raw_request(port, "GET", &format!("/v1/webhooks/{id}/events"), &json[1..], b"");
        serde_json::from_str::<serde_json::Value>(&body).unwrap()
    };
    let deadline = std::time::Instant::now() + LINE_TIMEOUT;
    while history(emulator.port)["events"]
        .as_array()
        .unwrap()
        .iter()
        .any(|row| row["response_status"].is_null() && row["error_message"].is_null())
    {
        assert!(std::time::Instant::now() < deadline, "first attempts never failed");
        thread::sleep(Duration::from_millis(20));
    }
    // SIGKILL: no chance to clean up.
    emulator.child.kill().unwrap();
    emulator.child.wait().unwrap();

    let port_arg = port.to_string();
    let mut listener = Listener::spawn("listen", &["--secret", &secret, "--port", &port_arg]);
    listener.port = port;
    assert_eq!(listener.next_line(), format!("listening on http://127.0.0.1:{port}/webhooks"));
    let restarted = Listener::start_emulator(&serve_args);
    let page = history(restarted.port);
    assert_eq!(page["pagination"]["total"], 3, "the webhook and its history survived: {page}");
    let mut delivered: Vec<String> = (0..3)
        .map(|_| {
            let line = listener.next_line();
            let fields: Vec<&str> = line.split(' ').collect();
            assert_eq!((fields[0], fields[1]), ("processed", "task.completed"), "{line}");
            fields[2].to_owned()
        })
        .collect();
    delivered.sort();
    events.sort();
    assert_eq!(delivered, events, "every pending event was delivered after the restart");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{db_arg}{suffix}"));
    }
}

/// A Redis setup that can never work is refused before listening, naming the cause (before the check,
/// each of these was accepted, and every delivery ran its handler and then failed, on every retry).
#[test]
fn listen_refuses_a_redis_setup_that_can_never_work() {
    const PASSWORD: &str = "listen-Pa55word";
    let redis = RedisServer::start();
    let port = redis.port();
    let user = ["ACL", "SETUSER", "noeval", "on", &format!(">{PASSWORD}"), "~*", "+set", "+get"];
    assert_eq!(redis.command(&user), Resp::Simple("OK".into()));
    let cases = [
        (
            format!("redis://noeval:{PASSWORD}@127.0.0.1:{port}/0"),
            "error: --dedupe: redis: this user may not run SCRIPT LOAD (NOPERM); the dedupe store needs the \
             ACL rules +set +get +del +evalsha +script|load ~anchor-webhooks:dedupe:*\n",
        ),
        (
            format!("redis://noeval:wrong-{PASSWORD}@127.0.0.1:{port}/0"),
            "error: --dedupe: redis: wrong user name or password, or the user is disabled (WRONGPASS)\n",
        ),
        (
            format!("redis://127.0.0.1:{port}/99"),
            "error: --dedupe: redis: DB index 99 is out of range (the server's `databases` setting; 16 by \
             default: 0 to 15)\n",
        ),
        (
            format!("rediss://127.0.0.1:{port}/0"),
            "error: --dedupe: redis: this port speaks plain-text Redis, not TLS: the TLS handshake got no \
             answer and a plain-text PING did (rediss:// needs the server's tls-port)\n",
        ),
    ];
    for (url, stderr) in cases {
        let out = run(&["listen", "--port", "0", "--secret", SECRET, "--dedupe", &url], b"");
        assert_eq!((out.code, out.stdout.as_str(), out.stderr.as_str()), (1, "", stderr), "{url}");
    }
    // Refused when the store is built, before any connection: a usage error.
    let url = format!("rediss://127.0.0.1:{port}/#insecure");
    let out = run(&["listen", "--port", "0", "--secret", SECRET, "--dedupe", &url], b"");
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr.as_str()),
        (
            2,
            "",
            "error: --dedupe: invalid Redis URL: #insecure (TLS that accepts any server certificate) is not \
             supported by this build; trust the server's CA with tls_root_certificates instead\n"
        )
    );
    // Usage errors come first: the check runs only for an invocation that is otherwise sound.
    let url = format!("redis://127.0.0.1:{port}/99");
    let out = run(&["listen", "--port", "0", "--secret", SECRET, "--dedupe", &url, "--lease", "0"], b"");
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.starts_with("error: --lease 0: must be at least 1 s"), "{out:?}");
    assert_eq!(out.stderr.lines().count(), 1, "{out:?}");
}

/// A Redis server that is down may come back: listen starts anyway with a warning, and once the server is
/// up on that port, deliveries are processed.
#[test]
fn listen_starts_with_a_warning_while_redis_is_down_and_works_once_it_is_up() {
    let port = redis_support::free_port();
    let url = format!("redis://127.0.0.1:{port}/0");
    let listener = Listener::start(&["--secret", SECRET, "--dedupe", &url]);
    let warning = "warning: --dedupe: redis: connection refused; listening anyway: deliveries are answered \
                   503 (the sender retries) until the store answers\n";
    listener.wait_stderr_contains(warning);
    assert_eq!(listener.stderr(), warning);

    let _redis = RedisServer::start_on_port(port);
    let out = send(&listener.url(), &["--secret", SECRET, "--id", "evt_after_start"]);
    assert_sent(&out, 0, "200 OK", r#"{"ok":true,"outcome":"processed","id":"evt_after_start"}"#);
    assert_eq!(listener.next_line(), "processed task.completed evt_after_start secret=0 status=200");
    let out = send(&listener.url(), &["--secret", SECRET, "--id", "evt_after_start"]);
    assert_sent(&out, 0, "200 OK", r#"{"ok":true,"outcome":"duplicate","id":"evt_after_start"}"#);
    assert_eq!(listener.next_line(), "duplicate task.completed evt_after_start secret=0 status=200");
}

/// `--dedupe-ca-file`: a `rediss://` server whose certificate a private CA signed works with that CA
/// trusted, and is refused at start-up without it.
#[test]
fn listen_trusts_a_private_ca_with_dedupe_ca_file() {
    let tls = TlsRedis::start();
    let url = tls.url();
    let ca = tls.ca_file();
    let ca = ca.to_str().expect("a UTF-8 temp path");
    let listener = Listener::start(&["--secret", SECRET, "--dedupe", &url, "--dedupe-ca-file", ca]);
    let out = send(&listener.url(), &["--secret", SECRET, "--id", "evt_tls"]);
    assert_sent(&out, 0, "200 OK", r#"{"ok":true,"outcome":"processed","id":"evt_tls"}"#);
    assert_eq!(listener.next_line(), "processed task.completed evt_tls secret=0 status=200");
    let out = send(&listener.url(), &["--secret", SECRET, "--id", "evt_tls"]);
    assert_sent(&out, 0, "200 OK", r#"{"ok":true,"outcome":"duplicate","id":"evt_tls"}"#);
    assert_eq!(listener.next_line(), "duplicate task.completed evt_tls secret=0 status=200");
    assert_eq!(listener.stderr(), "");

    let out = run(&["listen", "--port", "0", "--secret", SECRET, "--dedupe", &url], b"");
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr.as_str()),
        (
            1,
            "",
            "error: --dedupe: redis: the server's TLS certificate is not signed by a trusted CA (invalid peer \
             certificate: UnknownIssuer): trust the CA that signed it with tls_root_certificates\n"
        )
    );
}

#[test]
fn listen_dedupe_ca_file_usage_errors() {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(redis_support::unique("ca-file"));
    std::fs::create_dir_all(&dir).unwrap();
    let not_pem = dir.join("not-pem.txt");
    std::fs::write(&not_pem, "not a certificate\n").unwrap();
    let missing = dir.join("missing.pem");
    let pem = dir.join("ca.pem");
    std::fs::write(&pem, redis_support::test_ca_pem()).unwrap();
    let (not_pem, missing, pem) =
        (not_pem.to_str().unwrap(), missing.to_str().unwrap(), pem.to_str().unwrap());
    let cases = [
        ("memory", pem, format!("error: --dedupe-ca-file {pem}: TLS root certificates need a rediss:// URL, not --dedupe memory\n")),
        (
            "redis://127.0.0.1:6379/0",
            pem,
            format!("error: --dedupe-ca-file {pem}: TLS root certificates need a rediss:// URL, not redis://\n"),
        ),
        (
            "rediss://127.0.0.1:6380/0",
            not_pem,
            format!(
                "error: --dedupe-ca-file {not_pem}: invalid TLS root certificates: expected PEM with at least \
                 one CERTIFICATE block\n"
            ),
        ),
        (
            "rediss://127.0.0.1:6380/0",
            missing,
            format!("error: --dedupe-ca-file {missing}: No such file or directory (os error 2)\n"),
        ),
    ];
    for (dedupe, ca_file, stderr) in cases {
        let out = run(
            &["listen", "--port", "0", "--secret", SECRET, "--dedupe", dedupe, "--dedupe-ca-file", ca_file],
            b"",
        );
        assert_eq!(
            (out.code, out.stdout.as_str(), out.stderr.as_str()),
            (2, "", stderr.as_str()),
            "{dedupe}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
