//! `anchor-webhooks serve`: the local provider emulator (management API, signing, delivery with retries,
//! delivery log) until Ctrl-C or SIGTERM.

use std::net::SocketAddr;
use std::path::PathBuf;

use anchor_webhooks_sender::{DispatchConfig, Emulator, SenderConfig, UrlPolicy, DEFAULT_API_KEY};
use clap::Args;

use crate::output::{self, Failure};

#[derive(Args)]
pub(crate) struct ServeArgs {
    /// The port of the management API; 0 picks a free one (read it from the first output line).
    #[arg(long, value_name = "PORT", default_value_t = 4010)]
    port: u16,

    /// The address to listen on. The default only accepts connections from this machine.
    #[arg(long, value_name = "HOST", default_value = "127.0.0.1")]
    host: String,

    /// Keep webhooks, secrets and the delivery log in this SQLite file (pending deliveries resume after a
    /// restart) [default: in memory].
    #[arg(long, value_name = "PATH")]
    db: Option<PathBuf>,

    /// An accepted `anchor-api-key`; repeat for several projects (each key is its own project)
    /// [default: ak_local_test].
    #[arg(long = "api-key", value_name = "KEY")]
    api_keys: Vec<String>,

    /// Multiply the retry schedule (0, 5, 15, 30, 50, 80 s) and the 10 s answer deadline (never below 5 s)
    /// by X, e.g. 0.01 for tests [default: 1].
    #[arg(long, value_name = "X", default_value_t = 1.0, value_parser = parse_time_scale)]
    time_scale: f64,

    /// Allow webhooks to target http://127.0.0.1, http://[::1] and http://localhost. Local testing only:
    /// it is off by default and announced loudly when on.
    #[arg(long)]
    allow_insecure_localhost: bool,
}

fn parse_time_scale(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(scale) if scale > 0.0 && scale.is_finite() => Ok(scale),
        _ => Err("expected a positive number, e.g. 1 or 0.01".to_owned()),
    }
}

pub(crate) fn run(args: ServeArgs) -> Result<(), Failure> {
    crate::init_logging();
    let api_keys = if args.api_keys.is_empty() { vec![DEFAULT_API_KEY.to_owned()] } else { args.api_keys };
    let policy = UrlPolicy { allow_insecure_localhost: args.allow_insecure_localhost };
    let config = SenderConfig { dispatch: DispatchConfig::scaled(args.time_scale, policy), db_path: args.db };
    let runtime = crate::runtime()?;
    runtime.block_on(async move {
        let addr: SocketAddr = format!("{}:{}", args.host, args.port)
            .parse()
            .map_err(|_| Failure::usage(format!("--host {}: expected an IP address", args.host)))?;
        let shutdown = crate::listen::shutdown_signal()?;
        let emulator = Emulator::start(addr, &api_keys, config)
            .await
            .map_err(|error| Failure::runtime(format!("cannot start the emulator on {addr}: {error}")))?;
        output::print_line(&format!("emulator listening on {}", emulator.base_url()));
        for key in &api_keys {
            output::print_line(&format!("  api key `{key}` (header `anchor-api-key`)"));
        }
        if policy.allow_insecure_localhost {
            output::print_error_line(
                "WARNING: --allow-insecure-localhost is ON: webhooks may target plain-HTTP loopback URLs. \
                 Never use this outside local testing.",
            );
        }
        shutdown.await;
        emulator.shutdown().await;
        Ok(())
    })
}
