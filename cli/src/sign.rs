//! `anchor-webhooks sign`: print the headers of a signed delivery of a body.

use anchor_webhooks::{Scheme, SignOptions, Signer};
use clap::Args;

use crate::input::BodyArgs;
use crate::output::{self, Failure};
use crate::KeyArgs;

#[derive(Args)]
pub(crate) struct SignArgs {
    #[command(flatten)]
    keys: KeyArgs,

    /// The signing time, unix seconds [default: now].
    #[arg(long, value_name = "UNIX")]
    timestamp: Option<u64>,

    /// The delivery id (`Anchor-Delivery-Id` / `webhook-id`) [default: derived from the timestamp and
    /// body, so the same input signs the same way].
    #[arg(long, value_name = "MSG_ID")]
    id: Option<String>,

    /// The `Anchor-Event` header (anchor scheme only) [default: the body's `type` field, if any].
    #[arg(long, value_name = "TYPE")]
    event_type: Option<String>,

    #[command(flatten)]
    body: BodyArgs,
}

pub(crate) fn run(args: SignArgs) -> Result<(), Failure> {
    if args.event_type.is_some() && args.keys.scheme != Scheme::Anchor {
        return Err(Failure::usage(
            "--event-type applies to the anchor scheme only (Standard Webhooks has no event header)",
        ));
    }
    let body = args.body.read()?;
    let signer = Signer::new(args.keys.scheme, &args.keys.secrets()?)?;
    let options = SignOptions { id: args.id.as_deref(), event_type: args.event_type.as_deref() };
    let timestamp = args.timestamp.unwrap_or_else(crate::unix_now);
    let headers = signer.sign(&body, timestamp, options)?;
    output::print_stdout(&headers.to_string())
}
