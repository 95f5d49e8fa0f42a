//! `anchor-webhooks verify`: check a delivery and print one JSON line.

use std::ffi::OsString;
use std::path::PathBuf;

use anchor_webhooks::Verifier;
use clap::Args;
use serde_json::json;

use crate::input::{self, BodyArgs};
use crate::output::{self, Failure};
use crate::KeyArgs;

#[derive(Args)]
#[command(after_help = "Output, one JSON line on stdout:\n  \
    success (exit 0): {\"ok\":true,\"id\":...,\"type\":...,\"matched_secret\":N,\"timestamp\":T,\"delivery_id\":...}\n  \
    refused (exit 1): {\"ok\":false,\"error\":\"<code>\",\"message\":\"...\"}\n\
    Usage errors (exit 2) print a message on stderr.")]
pub(crate) struct VerifyArgs {
    #[command(flatten)]
    keys: KeyArgs,

    /// The two-sided timestamp tolerance in seconds [default: 120 for anchor, 300 for standard].
    #[arg(long, value_name = "SECS")]
    tolerance: Option<u64>,

    /// The largest body accepted, in bytes [default: 1048576].
    #[arg(long, value_name = "N")]
    max_body_bytes: Option<usize>,

    /// The receiver's clock, unix seconds (to replay a captured delivery) [default: now].
    #[arg(long, value_name = "UNIX")]
    now: Option<u64>,

    /// A delivery header, 'Name: value' (split at the first ':', spaces and tabs around the value
    /// trimmed). Repeat for each header; a repeated name is passed on as repeated.
    #[arg(short = 'H', long = "header", value_name = "NAME: VALUE", value_parser = clap::value_parser!(OsString))]
    headers: Vec<OsString>,

    /// Read headers from FILE (`-` is stdin; then give the body with --body-file): 'Name: value' lines,
    /// LF or CRLF, blank lines ignored. A file that starts with a request line (`POST /path HTTP/1.1`) is
    /// a captured request: its headers end at the first blank line, and its body is not read (give it with
    /// --body-file). Combined with any -H (file first).
    #[arg(long, value_name = "FILE")]
    headers_file: Option<PathBuf>,

    #[command(flatten)]
    body: BodyArgs,

    /// Check headers, timestamp and signature only, without parsing the body as a JSON envelope (any
    /// body, even non-JSON, is fine); `id` and `type` are then null.
    #[arg(long)]
    signature_only: bool,
}

pub(crate) fn run(args: VerifyArgs) -> Result<(), Failure> {
    let headers_from_stdin = args.headers_file.as_ref().is_some_and(|path| path.as_os_str() == "-");
    if headers_from_stdin && args.body.reads_stdin() {
        return Err(Failure::usage(
            "--headers-file - reads the headers from stdin, so the body cannot come from there too: give it \
             with --body-file FILE",
        ));
    }
    let mut headers = match &args.headers_file {
        Some(path) => input::headers_file(path)?,
        None => Vec::new(),
    };
    headers.extend(input::header_args(&args.headers)?);
    let body = args.body.read()?;

    let mut verifier = Verifier::new(args.keys.scheme, &args.keys.secrets()?)?;
    if let Some(tolerance) = args.tolerance {
        verifier = verifier.with_tolerance(tolerance);
    }
    if let Some(max_body_bytes) = args.max_body_bytes {
        verifier = verifier.with_max_body_bytes(max_body_bytes);
    }
    let now = args.now.unwrap_or_else(crate::unix_now);

    let result = if args.signature_only {
        let verified = verifier.verify_signature(&headers, &body, now)?;
        json!({
            "ok": true,
            "id": null,
            "type": null,
            "matched_secret": verified.matched_secret,
            "timestamp": verified.timestamp,
            "delivery_id": verified.delivery_id,
        })
    } else {
        let verified = verifier.verify(&headers, &body, now)?;
        json!({
            "ok": true,
            "id": verified.event.id(),
            "type": verified.event.event_type().as_str(),
            "matched_secret": verified.matched_secret,
            "timestamp": verified.timestamp,
            "delivery_id": verified.delivery_id,
        })
    };
    output::print_json(&result)
}
