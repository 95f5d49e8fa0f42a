//! `anchor-webhooks listen`: a local receiver. Every POST to the path goes through the core's
//! `Receiver::handle` (verify, then claim/complete/release in the dedupe store); the answer is the status
//! the core suggests, and each delivery is logged as one line on stdout.
//!
//! stdout, flushed line by line:
//! - first: `listening on http://HOST:PORT/PATH` (the real port when `--port 0` was given);
//! - a verified delivery: `<kind> <type> <id> secret=<index> status=<status>`, where kind is
//!   `processed`, `duplicate`, `in_progress` or `handler_failed` (the forward failed);
//! - a refused one: `rejected - - error=<code> status=<status>`.
//!
//! Requests to another path (404) or with another method (405) are not deliveries and are not logged.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anchor_webhooks::{
    DedupeStore, ErrorCode, MemoryStore, Outcome, Receiver, RedisCheckErrorKind, RedisOptions, RedisStore,
    Verified, Verifier, DEFAULT_LEASE, IN_PROGRESS_RETRY_AFTER_SECONDS,
};
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use clap::Args;
use serde_json::{json, Value};

use crate::input;
use crate::output::{self, Failure};
use crate::KeyArgs;

/// How long a forward may take: the sender's own deadline for an answer (SPEC §2).
const FORWARD_TIMEOUT: Duration = Duration::from_secs(10);

/// Headers not passed on to `--forward-to`: the target's own `Host` and length, and hop-by-hop headers
/// (RFC 9110 §7.6.1), which describe this connection only.
const NOT_FORWARDED: [header::HeaderName; 8] = [
    header::HOST,
    header::CONTENT_LENGTH,
    header::CONNECTION,
    header::TRANSFER_ENCODING,
    header::TE,
    header::TRAILER,
    header::UPGRADE,
    header::PROXY_AUTHORIZATION,
];

#[derive(Args)]
#[command(after_help = "Output, one line per delivery on stdout (the first line is \
    `listening on http://HOST:PORT/PATH`):\n  \
    verified: <processed|duplicate|in_progress|handler_failed> <type> <id> secret=<index> status=<status>\n  \
    refused:  rejected - - error=<code> status=<status>\n  \
    handled, not recorded: unrecorded <type> <id> secret=<index> error=store_unavailable status=503 (the \
    handler ran, the dedupe store could not record it as done: the retry after the lease runs it again)\n\
    Answers: 200 {\"ok\":true,\"outcome\":\"processed\"|\"duplicate\",\"id\":...}; otherwise the status the core \
    suggests and {\"ok\":false,\"error\":\"<code>\",\"message\":\"...\"} (a 503 carries Retry-After; a 500 handler_failed \
    keeps the reason, which names the forward target, for stderr).\n\
    Stops cleanly on Ctrl-C or SIGTERM.")]
pub(crate) struct ListenArgs {
    #[command(flatten)]
    keys: KeyArgs,

    /// The port to listen on; 0 picks a free one (read it from the first output line).
    #[arg(long, value_name = "PORT", default_value_t = 8787)]
    port: u16,

    #[arg(long, value_name = "HOST", default_value = "127.0.0.1", help = HOST_HELP)]
    host: String,

    /// The two-sided timestamp tolerance in seconds [default: 120 for anchor, 300 for standard].
    #[arg(long, value_name = "SECS")]
    tolerance: Option<u64>,

    /// POST every verified, fresh delivery (raw body, original headers) to URL before answering; when that
    /// fails (network error or non-2xx) the claim is released and the listener answers 500, so the
    /// sender retries.
    #[arg(long, value_name = "URL")]
    forward_to: Option<String>,

    /// How long a fresh delivery's claim is held while it is forwarded; after that a retry of the same
    /// event may take it over (and a handler that finishes later reports the lost claim on stderr). Keep
    /// it longer than a forward can take (at most 10 s).
    #[arg(long, value_name = "SECS", default_value_t = DEFAULT_LEASE.as_secs())]
    lease: u64,

    /// The path deliveries are POSTed to; any other path answers 404.
    #[arg(long, value_name = "PATH", default_value = "/webhooks", value_parser = parse_path)]
    path: String,

    /// Where processed event ids are remembered: `memory` (this process, 24 h, lost on exit) or a Redis 7+
    /// URL (`redis://[username:password@]host[:port][/db]`, `rediss://` for TLS), shared by every replica.
    /// Its user needs the ACL rules +set +get +del +evalsha +script|load (and +select for a db other than
    /// 0) on ~anchor-webhooks:dedupe:*. `#insecure` is refused: trust a private CA with --dedupe-ca-file.
    /// A Redis store is checked before listening (connect, AUTH, SELECT, the scripts, a claim on a probe
    /// key): a setup that can never work (a missing ACL right, a wrong password, a DB index out of range,
    /// Redis older than 7.0, an untrusted certificate, TLS against a plain-text port), or a server that
    /// evicts keys (maxmemory with a policy other than noeviction, when INFO tells it), exits 1 naming the
    /// cause; a server that is down or does not answer only gets a warning on stderr, and deliveries are
    /// answered 503 until it is up.
    #[arg(long, value_name = "STORE", default_value = "memory", value_parser = Dedupe::parse)]
    dedupe: Dedupe,

    /// For a `rediss://` --dedupe server whose certificate a private CA signed: that CA's certificate
    /// (PEM), trusted instead of the public web roots (the Redis store's tls_root_certificates).
    #[arg(long, value_name = "PEM")]
    dedupe_ca_file: Option<PathBuf>,
}

/// The dedupe store selected with `--dedupe`: parsed here, built by [`Dedupe::store`], nowhere else.
#[derive(Clone, PartialEq, Eq)]
pub(crate) enum Dedupe {
    /// The core's in-memory store with its defaults (bounded, 24 h TTL).
    Memory,
    /// The core's Redis store: shared by every replica, survives restarts.
    Redis(String),
}

impl std::fmt::Debug for Dedupe {
    /// The URL is left out: it may carry a password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Dedupe::Memory => "Memory",
            Dedupe::Redis(_) => "Redis",
        })
    }
}

impl Dedupe {
    fn parse(text: &str) -> Result<Dedupe, String> {
        match text {
            "memory" => Ok(Dedupe::Memory),
            url if url.starts_with("redis://") || url.starts_with("rediss://") => {
                Ok(Dedupe::Redis(url.to_owned()))
            }
            _ => Err("expected `memory` or a Redis URL (redis://[username:password@]host[:port][/db], rediss://...)"
                .to_owned()),
        }
    }

    /// Builds the store, a Redis one with `ca_file` as its TLS roots. The messages name what is wrong,
    /// never the URL (it may hold a password).
    fn store(&self, ca_file: Option<&Path>) -> Result<BuiltStore, Failure> {
        let ca_flag = |path: &Path| format!("--dedupe-ca-file {}", path.display());
        let url = match (self, ca_file) {
            (Dedupe::Memory, None) => {
                return Ok(BuiltStore { store: Box::new(MemoryStore::default()), redis: None })
            }
            (Dedupe::Memory, Some(path)) => {
                return Err(Failure::usage(format!(
                    "{}: TLS root certificates need a rediss:// URL, not --dedupe memory",
                    ca_flag(path)
                )))
            }
            (Dedupe::Redis(url), _) => url,
        };
        let tls_root_certificates =
            ca_file.map(|path| input::read_file(path, "--dedupe-ca-file")).transpose()?;
        let options = RedisOptions { tls_root_certificates, ..RedisOptions::default() };
        let store = RedisStore::with_options(url, options).map_err(|error| {
            let flag = match (error.option(), ca_file) {
                ("tls_root_certificates", Some(path)) => ca_flag(path),
                _ => "--dedupe".to_owned(),
            };
            Failure::usage(format!("{flag}: {error}"))
        })?;
        let store = Arc::new(store);
        Ok(BuiltStore { store: Box::new(Arc::clone(&store)), redis: Some(store) })
    }
}

/// The store `--dedupe` selected; a Redis store is there twice, the second to [`check_redis`] once every
/// usage error had its turn.
struct BuiltStore {
    store: Box<dyn DedupeStore>,
    redis: Option<Arc<RedisStore>>,
}

/// Asks the Redis server before listening whether the store can work: a setup that never can is refused
/// (every delivery would fail after its handler ran, on every retry); a server that is down only gets a
/// warning, since the store reconnects by itself when it is back and each delivery is answered 503 until
/// then, so the sender retries.
fn check_redis(store: &RedisStore) -> Result<(), Failure> {
    match store.check() {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == RedisCheckErrorKind::Unavailable => {
            output::print_error_line(&format!(
                "warning: --dedupe: {error}; listening anyway: deliveries are answered 503 (the sender \
                 retries) until the store answers"
            ));
            Ok(())
        }
        Err(error) => Err(Failure::runtime(format!("--dedupe: {error}"))),
    }
}

fn parse_path(text: &str) -> Result<String, String> {
    if !text.starts_with('/') {
        return Err("expected a path starting with `/`, e.g. /webhooks".to_owned());
    }
    if !text.bytes().all(|b| b.is_ascii_graphic()) || text.contains(['?', '#']) {
        return Err("expected a plain path: printable ASCII, no spaces, no `?` or `#`".to_owned());
    }
    Ok(text.to_owned())
}

/// What every request handler shares.
struct App {
    receiver: Receiver<Box<dyn DedupeStore>>,
    forward: Option<Forwarder>,
    path: String,
}

pub(crate) fn run(args: ListenArgs) -> Result<(), Failure> {
    let forward = match &args.forward_to {
        Some(url) => Some(Forwarder::new(input::http_url("--forward-to", url)?)?),
        None => None,
    };
    let mut verifier = Verifier::new(args.keys.scheme, &args.keys.secrets()?)?;
    if let Some(tolerance) = args.tolerance {
        verifier = verifier.with_tolerance(tolerance);
    }
    // The body is read up to the verifier's limit; a larger one is refused before reaching the core.
    let body_limit = verifier.max_body_bytes();
    let BuiltStore { store, redis } = args.dedupe.store(args.dedupe_ca_file.as_deref())?;
    let receiver = Receiver::new(verifier, store)
        .with_lease(Duration::from_secs(args.lease))
        .map_err(|error| Failure::usage(format!("--lease {}: {error}", args.lease)))?;
    if let Some(redis) = redis {
        check_redis(&redis)?;
    }
    let app = Arc::new(App { receiver, forward, path: args.path });

    let runtime = crate::runtime()?;
    runtime.block_on(async move {
        let listener = bind(&args.host, args.port).await?;
        let address = listener.local_addr().map_err(|error| Failure::runtime(error.to_string()))?;
        let shutdown = shutdown_signal()?;
        output::print_line(&format!("listening on http://{address}{}", app.path));

        let router =
            Router::new().fallback(serve_request).layer(DefaultBodyLimit::max(body_limit)).with_state(app);
        axum::serve(listener, router)
            .with_graceful_shutdown(shutdown)
            .await
            .map_err(|error| Failure::runtime(format!("the server failed: {error}")))
    })
}

/// The `--host` help of `listen` and `serve`: one text, since [`bind`] gives both the same behaviour.
pub(crate) const HOST_HELP: &str = "The IP address (127.0.0.1, ::1 or [::1]) or host name to listen on. A \
    name such as localhost is resolved when binding, and the first of its addresses that can be bound is \
    used (the first output line shows it). The default only accepts connections from this machine.";

/// Binds `--host` and `--port` for `listen` and `serve`: an IP address, or a name resolved now (so
/// `localhost` works), trying each resolved address in turn. Failing is a runtime error (exit 1), the
/// same for an unknown name as for a port in use.
pub(crate) async fn bind(host: &str, port: u16) -> Result<tokio::net::TcpListener, Failure> {
    tokio::net::TcpListener::bind((unbracketed(host), port))
        .await
        .map_err(|error| Failure::runtime(format!("cannot listen on {host}:{port}: {error}")))
}

/// `[::1]` as written in a URL is `::1`: the brackets are URL syntax, and the resolver would take them for
/// part of a name. Anything else is left as given.
fn unbracketed(host: &str) -> &str {
    host.strip_prefix('[')
        .and_then(|inner| inner.strip_suffix(']'))
        .filter(|inner| inner.parse::<std::net::Ipv6Addr>().is_ok())
        .unwrap_or(host)
}

/// A future that resolves on Ctrl-C (SIGINT) or SIGTERM. The handlers are installed now, before the
/// `listening on` line, so a script that signals as soon as it read that line finds them in place.
#[cfg(unix)]
pub(crate) fn shutdown_signal() -> Result<impl std::future::Future<Output = ()>, Failure> {
    use tokio::signal::unix::{signal, SignalKind};
    let install = |kind: SignalKind| {
        signal(kind).map_err(|error| Failure::runtime(format!("cannot watch for signals: {error}")))
    };
    let mut interrupt = install(SignalKind::interrupt())?;
    let mut terminate = install(SignalKind::terminate())?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
    })
}

/// A future that resolves on Ctrl-C.
#[cfg(not(unix))]
pub(crate) fn shutdown_signal() -> Result<impl std::future::Future<Output = ()>, Failure> {
    Ok(async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    })
}

async fn serve_request(State(app): State<Arc<App>>, request: Request) -> Response {
    if request.uri().path() != app.path {
        let message = format!("not found: deliveries are POSTed to {}\n", app.path);
        return (StatusCode::NOT_FOUND, message).into_response();
    }
    if request.method() != Method::POST {
        let message = format!("method not allowed: deliveries are POSTed to {}\n", app.path);
        return (StatusCode::METHOD_NOT_ALLOWED, [(header::ALLOW, "POST")], message).into_response();
    }
    let headers = request.headers().clone();
    let body = match Bytes::from_request(request, &()).await {
        Ok(body) => body,
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => return body_too_large(&app),
        // The body could not be read (the client went away): not a delivery.
        Err(rejection) => return rejection.into_response(),
    };

    let now_ms = crate::unix_now_ms();
    let runtime = tokio::runtime::Handle::current();
    let worker = Arc::clone(&app);
    // `Receiver::handle` and its handler are synchronous; the forward (async) runs on this blocking thread.
    let outcome = tokio::task::spawn_blocking(move || {
        let mut handled = None;
        let outcome = worker.receiver.handle(&headers, &body, now_ms, |verified| {
            handled = Some(delivery_words(verified));
            match &worker.forward {
                None => Ok(()),
                Some(forwarder) => runtime.block_on(forwarder.forward(&headers, body.clone())),
            }
        });
        (outcome, handled)
    })
    .await;
    match outcome {
        Ok((outcome, handled)) => {
            if let Some(warning) = app.receiver.lost_claim_warning(&outcome) {
                output::print_error_line(&warning);
            }
            answer(&outcome, handled.as_deref())
        }
        Err(error) => {
            output::print_error_line(&format!("error: the delivery handler crashed: {error}"));
            let body = json!({"ok": false, "error": "internal_error", "message": "the listener failed"});
            (StatusCode::INTERNAL_SERVER_ERROR, Json(body)).into_response()
        }
    }
}

/// `<type> <id> secret=<index>`: how every stdout line names a verified delivery.
fn delivery_words(verified: &Verified) -> String {
    let event_type = field(verified.event.event_type().as_str());
    format!("{event_type} {} secret={}", field(verified.event.id()), verified.matched_secret)
}

/// Logs the outcome (one stdout line) and builds the answer. `handled` is the [`delivery_words`] of a
/// delivery whose handler ran: a rejection after it means the store could not record it as done, and
/// `Outcome::Rejected` does not carry the delivery (its error names the event id, but the stdout line names
/// every delivery by its words).
fn answer(outcome: &Outcome<String>, handled: Option<&str>) -> Response {
    let status = StatusCode::from_u16(outcome.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let kind = outcome.kind();
    let (verified, body) = match outcome {
        Outcome::Processed { verified, .. } | Outcome::Duplicate(verified) => {
            (verified, json!({"ok": true, "outcome": kind, "id": verified.event.id()}))
        }
        Outcome::InProgress(verified) => {
            let message = format!(
                "event {} is being processed by another request; retry in {IN_PROGRESS_RETRY_AFTER_SECONDS} s",
                verified.event.id()
            );
            (verified, json!({"ok": false, "error": kind, "message": message}))
        }
        Outcome::HandlerFailed { verified, error, .. } => {
            output::print_error_line(&format!("{kind} {}: {error}", field(verified.event.id())));
            // The reason stays on this side: the answer goes to the sender, which keeps answers in its
            // delivery log, and the reason names the internal forward target.
            let message = match outcome.unreleased_warning() {
                None => "the handler failed (the reason is in the receiver's log); the claim was released, so a retry is processed",
                Some(warning) => {
                    output::print_error_line(&warning);
                    "the handler failed (the reason is in the receiver's log); the claim could not be released, \
                     so a retry after its lease is processed"
                }
            };
            (verified, json!({"ok": false, "error": kind, "message": message}))
        }
        Outcome::Rejected(error) => {
            let code = error.code();
            match handled {
                // The forward went out, and the retry forwards it again: say so, with the event.
                Some(words) => {
                    output::print_line(&format!(
                        "unrecorded {words} error={} status={}",
                        code.as_str(),
                        status.as_u16()
                    ));
                    // The core's message names the event and says that its handler ran.
                    output::print_error_line(&format!("unrecorded: {error}"));
                }
                None => {
                    output::print_line(&format!(
                        "rejected - - error={} status={}",
                        code.as_str(),
                        status.as_u16()
                    ));
                    // The store's reason (down, WRONGPASS, NOPERM, ...) is for the operator, not only the sender.
                    if code == ErrorCode::StoreUnavailable {
                        output::print_error_line(&format!("rejected: {error}"));
                    }
                }
            }
            return with_retry_after((status, Json(output::failure_json(error))).into_response());
        }
    };
    output::print_line(&format!("{kind} {} status={}", delivery_words(verified), status.as_u16()));
    with_retry_after((status, Json(body)).into_response())
}

/// A 503 (an event in progress elsewhere, or the dedupe store unavailable) says when to retry.
fn with_retry_after(mut response: Response) -> Response {
    if response.status() == StatusCode::SERVICE_UNAVAILABLE {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(IN_PROGRESS_RETRY_AFTER_SECONDS));
    }
    response
}

/// A body over the limit, refused while reading it (it never reaches the core, so the store is never
/// touched): the core's `body_too_large` code and status.
fn body_too_large(app: &App) -> Response {
    let code = ErrorCode::BodyTooLarge;
    let status = StatusCode::from_u16(code.http_status()).unwrap_or(StatusCode::PAYLOAD_TOO_LARGE);
    output::print_line(&format!("rejected - - error={} status={}", code.as_str(), status.as_u16()));
    let limit = app.receiver.verifier().max_body_bytes();
    let message = format!("body too large: over the limit of {limit} bytes");
    (status, Json(json!({"ok": false, "error": code.as_str(), "message": message}))).into_response()
}

/// An event field in a log line: as is when it is one printable word, `-` when empty, else JSON-quoted
/// (an id with spaces or control characters cannot break the line format).
fn field(text: &str) -> String {
    if text.is_empty() {
        "-".to_owned()
    } else if text.bytes().all(|b| b.is_ascii_graphic()) {
        text.to_owned()
    } else {
        Value::from(text).to_string()
    }
}

/// Passes verified deliveries on to `--forward-to`.
struct Forwarder {
    url: reqwest::Url,
    /// The URL as logged: without user, password, query or fragment, which may hold credentials.
    shown: String,
    client: reqwest::Client,
}

/// `url` without the parts that may hold credentials (`user:password@`, `?token=...`, `#...`).
fn shown_url(url: &reqwest::Url) -> String {
    let mut shown = url.clone();
    // Both only fail for URLs that cannot have credentials (`data:`), which then have none to hide.
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.set_query(None);
    shown.set_fragment(None);
    shown.to_string()
}

impl Forwarder {
    fn new(url: reqwest::Url) -> Result<Forwarder, Failure> {
        let client = reqwest::Client::builder()
            .timeout(FORWARD_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|error| Failure::runtime(format!("cannot build the HTTP client: {error}")))?;
        Ok(Forwarder { shown: shown_url(&url), url, client })
    }

    /// POSTs the raw body with the delivery's headers; `Err` (the handler failed) on a network error or
    /// a non-2xx answer.
    async fn forward(&self, headers: &HeaderMap, body: Bytes) -> Result<(), String> {
        let mut headers = headers.clone();
        for name in &NOT_FORWARDED {
            headers.remove(name);
        }
        let shown = &self.shown;
        let response =
            self.client.post(self.url.clone()).headers(headers).body(body).send().await.map_err(|error| {
                let error = error.without_url();
                let causes =
                    std::error::Error::source(&error).map_or_else(|| error.to_string(), output::error_chain);
                format!("could not forward to {shown}: {causes}")
            })?;
        let status = response.status();
        if status.is_success() {
            Ok(())
        } else {
            Err(format!("forwarding to {shown}: the target answered {status}"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dedupe_values() {
        assert_eq!(Dedupe::parse("memory"), Ok(Dedupe::Memory));
        assert_eq!(Dedupe::parse("redis://localhost"), Ok(Dedupe::Redis("redis://localhost".to_owned())));
        assert_eq!(format!("{:?}", Dedupe::parse("redis://:pw@h/1").unwrap()), "Redis");
        assert!(Dedupe::parse("postgres://h").is_err());
        assert!(Dedupe::parse("").is_err());
    }

    /// `--host [::1]` binds `::1`, as `--host ::1` does; only an IPv6 address loses its brackets.
    #[test]
    fn host_brackets_are_dropped_around_an_ipv6_address_only() {
        for (given, bound) in [
            ("[::1]", "::1"),
            ("[fe80::1]", "fe80::1"),
            ("::1", "::1"),
            ("127.0.0.1", "127.0.0.1"),
            ("localhost", "localhost"),
            ("[localhost]", "[localhost]"),
            ("[127.0.0.1]", "[127.0.0.1]"),
            ("[::1", "[::1"),
            ("[]", "[]"),
        ] {
            assert_eq!(unbracketed(given), bound, "{given}");
        }
    }

    #[test]
    fn paths() {
        assert_eq!(parse_path("/webhooks"), Ok("/webhooks".to_owned()));
        assert_eq!(parse_path("/"), Ok("/".to_owned()));
        assert!(parse_path("webhooks").is_err());
        assert!(parse_path("/a b").is_err());
        assert!(parse_path("/a?x=1").is_err());
    }

    #[test]
    fn forward_urls_are_logged_without_credentials() {
        let shown = |url: &str| shown_url(&reqwest::Url::parse(url).unwrap());
        assert_eq!(
            shown("http://user:hunter2@127.0.0.1:9/hook?token=sk_live_abc#x"),
            "http://127.0.0.1:9/hook"
        );
        assert_eq!(shown("https://internal.example/a/b"), "https://internal.example/a/b");
    }

    #[test]
    fn log_fields_stay_one_word() {
        assert_eq!(field("evt_1"), "evt_1");
        assert_eq!(field(""), "-");
        assert_eq!(field("evt 1\nx"), r#""evt 1\nx""#);
    }
}
