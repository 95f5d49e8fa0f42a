//! `anchor-webhooks send`: build an event, sign it at the current time and POST it to a receiver.
//!
//! Output: one line `<status> <reason> in <ms> ms`, then the response body (at most 500 bytes) on a
//! second line when it is not empty. Exit 0 on a 2xx answer, 1 on any other answer or a network error,
//! 2 on a usage error.

use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anchor_webhooks::{Scheme, SignOptions, Signer};
use anchor_webhooks_sender::{clock, envelope};
use clap::Args;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::Url;
use serde_json::{json, Map, Value};

use crate::input;
use crate::output::{self, Failure};
use crate::KeyArgs;

/// The most of the response body printed.
const MAX_PRINTED_BODY_BYTES: usize = 500;
/// The `project_id` of every event `send` builds (no real project).
const PROJECT_ID: &str = "00000000-0000-0000-0000-000000000000";

#[derive(Args)]
#[command(
    after_help = "Output: `<status> <reason> in <ms> ms` (e.g. `200 OK in 3.2 ms`), then the response \
    body (first 500 bytes) on a second line when it is not empty.\n\
    Exit codes: 0 a 2xx answer; 1 any other answer, an invalid secret (JSON line on stdout) or a network \
    error (stderr); 2 usage error (stderr)."
)]
pub(crate) struct SendArgs {
    /// The receiver's URL (http:// or https://). Redirects are not followed.
    #[arg(long, value_name = "URL")]
    url: String,

    #[command(flatten)]
    keys: KeyArgs,

    /// The event type, e.g. `task.completed` (the envelope's `type`; also `Anchor-Event` for anchor).
    #[arg(long, value_name = "TYPE")]
    event: String,

    /// The event's `data`: a JSON object [default: {}].
    #[arg(long, value_name = "JSON", conflicts_with = "data_file")]
    data: Option<String>,

    /// Read the event's `data` (a JSON object) from FILE.
    #[arg(long, value_name = "FILE")]
    data_file: Option<PathBuf>,

    /// The event id: the envelope's `id` for anchor, the `webhook-id` header for standard (the dedupe key
    /// either way). Send the same id twice to see the receiver's dedupe [default: `evt_` + 32 hex digits,
    /// new each run].
    #[arg(long, value_name = "EVT_ID")]
    id: Option<String>,

    /// Seconds to wait for the whole exchange (connect, send, response).
    #[arg(long, value_name = "SECS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    timeout: u64,
}

pub(crate) fn run(args: SendArgs) -> Result<(), Failure> {
    let url = input::http_url("--url", &args.url)?;
    let data = read_data(&args)?;
    let signer = Signer::new(args.keys.scheme, &args.keys.secrets()?)?;

    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    let id = args.id.clone().unwrap_or_else(envelope::new_event_id);
    let created = clock::rfc3339(i64::try_from(now.as_millis()).unwrap_or(i64::MAX));
    let envelope = match args.keys.scheme {
        Scheme::Anchor => json!({
            "id": id,
            "type": args.event,
            "created": created,
            "project_id": PROJECT_ID,
            "text": format!("{} (sent by anchor-webhooks send)", args.event),
            "data": data,
        }),
        // Standard Webhooks carries the id in the `webhook-id` header, not in the body.
        Scheme::StandardWebhooks => json!({ "type": args.event, "timestamp": created, "data": data }),
    };
    let body = serde_json::to_vec(&envelope).map_err(|error| Failure::runtime(error.to_string()))?;
    let options = match args.keys.scheme {
        Scheme::Anchor => SignOptions { id: None, event_type: Some(&args.event) },
        Scheme::StandardWebhooks => SignOptions { id: Some(&id), event_type: None },
    };
    let signed = signer.sign(&body, now.as_secs(), options)?;
    let mut headers = HeaderMap::new();
    for (name, value) in signed.iter() {
        // The core only signs printable-ASCII values, which are always valid header values.
        let name =
            HeaderName::from_bytes(name.as_bytes()).map_err(|error| Failure::runtime(error.to_string()))?;
        let value = HeaderValue::from_str(value).map_err(|error| Failure::runtime(error.to_string()))?;
        headers.append(name, value);
    }

    let timeout = Duration::from_secs(args.timeout);
    let runtime = crate::runtime()?;
    let (status, elapsed, response_body) = runtime.block_on(post(&url, headers, body, timeout))?;

    let reason = status.canonical_reason().map_or_else(String::new, |reason| format!(" {reason}"));
    let mut text = format!("{}{reason} in {:.1} ms\n", status.as_u16(), elapsed.as_secs_f64() * 1000.0);
    if !response_body.is_empty() {
        let shown = &response_body[..response_body.len().min(MAX_PRINTED_BODY_BYTES)];
        text.push_str(String::from_utf8_lossy(shown).trim_end_matches(['\r', '\n']));
        text.push('\n');
    }
    output::print_stdout(&text)?;
    if status.is_success() {
        Ok(())
    } else {
        Err(Failure::Reported)
    }
}

/// POSTs the delivery; returns the status, the time until the whole response was read, and its body.
async fn post(
    url: &Url,
    headers: HeaderMap,
    body: Vec<u8>,
    timeout: Duration,
) -> Result<(reqwest::StatusCode, Duration, Vec<u8>), Failure> {
    let client = reqwest::Client::builder()
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|error| Failure::runtime(format!("cannot build the HTTP client: {error}")))?;
    let started = Instant::now();
    let network_error = |error: reqwest::Error| {
        // reqwest's own message is "error sending request for url (...)"; the causes say what happened.
        let causes = std::error::Error::source(&error).map_or_else(|| error.to_string(), output::error_chain);
        if error.is_timeout() {
            Failure::runtime(format!(
                "no complete answer from {url} within {} s (--timeout): {causes}",
                timeout.as_secs()
            ))
        } else if error.is_connect() {
            Failure::runtime(format!("could not connect to {url}: {causes}"))
        } else {
            Failure::runtime(format!("the request to {url} failed: {causes}"))
        }
    };
    let response =
        client.post(url.clone()).headers(headers).body(body).send().await.map_err(network_error)?;
    let status = response.status();
    let response_body = response.bytes().await.map_err(network_error)?;
    Ok((status, started.elapsed(), response_body.to_vec()))
}

/// The event's `data`: `--data`, `--data-file` or `{}`; always a JSON object.
fn read_data(args: &SendArgs) -> Result<Value, Failure> {
    let (flag, text) = match (&args.data, &args.data_file) {
        (Some(text), _) => ("--data", text.as_bytes().to_vec()),
        (None, Some(path)) => ("--data-file", input::read_file(path, "--data-file")?),
        (None, None) => return Ok(Value::Object(Map::new())),
    };
    match serde_json::from_slice::<Value>(&text) {
        Ok(value @ Value::Object(_)) => Ok(value),
        Ok(_) => {
            Err(Failure::usage(format!("{flag}: expected a JSON object, e.g. '{{\"task_id\":\"t_1\"}}'")))
        }
        Err(error) => Err(Failure::usage(format!("{flag}: not valid JSON: {error}"))),
    }
}
