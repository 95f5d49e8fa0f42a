//! `anchor-webhooks serve`: the local provider emulator (management API, signing, delivery with retries,
//! delivery log) until Ctrl-C or SIGTERM.

use std::path::PathBuf;

use anchor_webhooks_sender::{
    DispatchConfig, Emulator, SenderConfig, UrlPolicy, DEFAULT_API_KEY, MAX_TIME_SCALE, MIN_TIME_SCALE,
};
use clap::Args;

use crate::output::{self, Failure};

#[derive(Args)]
pub(crate) struct ServeArgs {
    /// The port of the management API; 0 picks a free one (read it from the first output line).
    #[arg(long, value_name = "PORT", default_value_t = 4010)]
    port: u16,

    #[arg(long, value_name = "HOST", default_value = "127.0.0.1", help = crate::listen::HOST_HELP)]
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
    /// by X, from 0.001 to 1000, e.g. 0.01 for tests.
    #[arg(long, value_name = "X", default_value_t = 1.0, value_parser = parse_time_scale)]
    time_scale: f64,

    /// Allow webhooks to target loopback addresses (127.0.0.0/8, ::1, localhost) over http or https, e.g.
    /// http://127.0.0.1:3000/hook; nothing else is relaxed. Local testing only: it is off by default and
    /// announced loudly when on.
    #[arg(long)]
    allow_insecure_localhost: bool,
}

/// A scale from [`MIN_TIME_SCALE`] to [`MAX_TIME_SCALE`]: beyond that the schedule would outlast any
/// test run (and, far beyond, overflow), below it the 80 s budget would be under 80 ms.
fn parse_time_scale(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(scale) if (MIN_TIME_SCALE..=MAX_TIME_SCALE).contains(&scale) => Ok(scale),
        _ => Err(format!("expected a number from {MIN_TIME_SCALE} to {MAX_TIME_SCALE}, e.g. 1 or 0.01")),
    }
}

pub(crate) fn run(args: ServeArgs) -> Result<(), Failure> {
    crate::init_logging();
    let api_keys = if args.api_keys.is_empty() { vec![DEFAULT_API_KEY.to_owned()] } else { args.api_keys };
    let policy = UrlPolicy { allow_insecure_localhost: args.allow_insecure_localhost };
    let config = SenderConfig { dispatch: DispatchConfig::scaled(args.time_scale, policy), db_path: args.db };
    let runtime = crate::runtime()?;
    runtime.block_on(async move {
        // Bound like `listen` binds, so `--host` means the same in both commands.
        let listener = crate::listen::bind(&args.host, args.port).await?;
        let shutdown = crate::listen::shutdown_signal()?;
        let emulator = Emulator::start_on(listener, &api_keys, config)
            .await
            .map_err(|error| Failure::runtime(format!("cannot start the emulator: {error}")))?;
        output::print_line(&format!("emulator listening on {}", emulator.base_url()));
        for key in &api_keys {
            output::print_line(&format!("  api key `{key}` (header `anchor-api-key`)"));
        }
        if policy.allow_insecure_localhost {
            output::print_error_line(
                "WARNING: --allow-insecure-localhost is ON: webhooks may target loopback addresses \
                 (127.0.0.0/8, ::1, localhost), over plain HTTP too. Never use this outside local testing.",
            );
        }
        shutdown.await;
        emulator.shutdown().await;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{CommandFactory, Parser};

    #[derive(Parser)]
    struct Serve {
        #[command(flatten)]
        args: ServeArgs,
    }

    fn time_scale(value: &str) -> Result<f64, clap::Error> {
        // `--time-scale=X`, so that `-1` is a value, as a user would have to write it too.
        let flag = format!("--time-scale={value}");
        Serve::try_parse_from(["serve", flag.as_str()]).map(|serve| serve.args.time_scale)
    }

    #[test]
    fn time_scale_accepts_its_range() {
        for (text, scale) in
            [("0.001", 0.001), ("0.01", 0.01), ("1", 1.0), ("2.5", 2.5), ("1000", 1000.0), ("1e3", 1000.0)]
        {
            assert_eq!(time_scale(text).unwrap(), scale, "{text}");
        }
        assert_eq!(Serve::try_parse_from(["serve"]).unwrap().args.time_scale, 1.0);
    }

    /// Out of range, or not a number: a usage error (exit 2) that names the accepted range.
    #[test]
    fn time_scale_refuses_values_outside_the_range() {
        for text in ["1e20", "1e17", "1000.5", "0.0009", "0", "-1", "inf", "NaN", "fast", ""] {
            let error = time_scale(text).expect_err(text);
            assert_eq!(error.kind(), clap::error::ErrorKind::ValueValidation, "{text}");
            assert_eq!(error.exit_code(), 2, "{text}");
            let message = error.to_string();
            assert!(
                message.contains(&format!(
                    "invalid value '{text}' for '--time-scale <X>': expected a number from 0.001 to 1000, e.g. 1 or 0.01"
                )),
                "{message}"
            );
        }
    }

    #[test]
    fn help_states_each_default_once() {
        let help = Serve::command().render_long_help().to_string();
        assert_eq!(help.matches("[default: 1]").count(), 1, "{help}");
        assert!(help.contains("from 0.001 to 1000, e.g. 0.01 for tests"), "{help}");
        assert_eq!(help.matches("[default: 4010]").count(), 1, "{help}");
    }
}
