//! `anchor-webhooks`: sign, verify, send and receive webhook deliveries from the command line.
//!
//! Every rule lives in the core crate (`anchor_webhooks`): this binary only parses arguments, reads
//! input, calls the core and prints. Exit codes: 0 success, 1 the core refused (a JSON line with the error
//! code on stdout), the receiver answered `send` with a non-2xx status, or a network error (stderr),
//! 2 usage error (bad flags, unreadable files, malformed `-H`; a message on stderr).
//!
//! Each subcommand lives in its own module with its own `clap::Args` struct and a `run` function that
//! returns `Result<(), Failure>`; [`output::finish`] turns that into the exit code. `sign` and `verify`
//! are synchronous; `send` and `listen` build one tokio runtime each, in their `run`.

#![forbid(unsafe_code)]

mod demo;
mod input;
mod listen;
mod output;
mod send;
mod serve;
mod sign;
mod verify;

use std::ffi::OsString;
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use anchor_webhooks::Scheme;
use clap::{Args, Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "anchor-webhooks",
    version,
    about = "Sign, verify, send and receive webhook deliveries (Anchor-Signature and Standard Webhooks).",
    after_help = "Exit codes: 0 success; 1 signing/verification refused (one JSON line on stdout: \
                  {\"ok\":false,\"error\":\"<code>\",\"message\":\"...\"}), a non-2xx answer to `send`, a \
                  network error, or a Redis `--dedupe` that can never work (message on stderr); 2 usage error \
                  (message on stderr)."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Sign a body and print the delivery headers, one `Name: value` per line.
    Sign(sign::SignArgs),
    /// Verify a delivery (headers + raw body) and print one JSON line with the result.
    Verify(verify::VerifyArgs),
    /// Build, sign and POST one event to a receiver; print the status line and the response body.
    Send(send::SendArgs),
    /// Run a local receiver: verify, dedupe (and optionally forward) deliveries, one log line each.
    Listen(listen::ListenArgs),
    /// Run the local provider emulator: webhook management API, signing, delivery with retries.
    Serve(serve::ServeArgs),
    /// The whole loop on loopback: emulator, verifying receiver, every event type, a forgery, a retry,
    /// a duplicate and a secret rotation, then a summary table.
    Demo(demo::DemoArgs),
}

/// The secrets and scheme, shared by every command that signs or verifies.
///
/// No `Debug`: it holds the secrets.
#[derive(Args)]
pub(crate) struct KeyArgs {
    /// A webhook secret. Repeat for a rotation (old and new): signing emits one signature per secret,
    /// verification accepts any and reports the index of the one that matched. Without --secret and
    /// --secret-file, the secret is read from the environment variable ANCHOR_WEBHOOK_SECRET: a command
    /// line is visible to every user of the machine (`ps`), the environment and a file are not.
    #[arg(long = "secret", value_name = "SECRET")]
    secrets: Vec<String>,

    /// Read secrets from FILE, one per line (several lines: a rotation, like repeated --secret, in that
    /// order; after any --secret). LF or CRLF line ends; empty lines are skipped.
    #[arg(long = "secret-file", value_name = "FILE")]
    secret_files: Vec<std::path::PathBuf>,

    /// The signing scheme: `anchor` (Anchor-Signature, hex secrets) or `standard` (Standard Webhooks,
    /// `whsec_` secrets).
    #[arg(long, value_name = "SCHEME", default_value = "anchor", value_parser = parse_scheme)]
    pub(crate) scheme: Scheme,
}

/// Where a secret comes from when neither `--secret` nor `--secret-file` is given.
const SECRET_VARIABLE: &str = "ANCHOR_WEBHOOK_SECRET";

impl KeyArgs {
    /// Every `--secret`, then the lines of each `--secret-file`; without either, `ANCHOR_WEBHOOK_SECRET`.
    /// What makes a secret acceptable is the core's to decide (`Verifier::new` / `Signer::new`).
    pub(crate) fn secrets(&self) -> Result<Vec<String>, output::Failure> {
        let mut secrets = self.secrets.clone();
        for path in &self.secret_files {
            let bytes = input::read_file(path, "--secret-file")?;
            let text = String::from_utf8(bytes).map_err(|_| {
                output::Failure::usage(format!(
                    "--secret-file {}: the file is not UTF-8 text",
                    path.display()
                ))
            })?;
            secrets.extend(text.lines().filter(|line| !line.is_empty()).map(str::to_owned));
        }
        if secrets.is_empty() && self.secret_files.is_empty() {
            match std::env::var(SECRET_VARIABLE) {
                Ok(secret) => secrets.push(secret),
                Err(std::env::VarError::NotUnicode(_)) => {
                    return Err(output::Failure::usage(format!("{SECRET_VARIABLE} is not UTF-8 text")))
                }
                Err(std::env::VarError::NotPresent) => {
                    return Err(output::Failure::usage(format!(
                        "no secret: give --secret SECRET or --secret-file FILE, or set {SECRET_VARIABLE}"
                    )))
                }
            }
        }
        Ok(secrets)
    }
}

fn parse_scheme(name: &str) -> Result<Scheme, String> {
    Scheme::parse(name).ok_or_else(|| "expected `anchor` or `standard`".to_owned())
}

/// The host's clock, unix seconds (the core never reads the clock; the CLI is a host).
pub(crate) fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |elapsed| elapsed.as_secs())
}

/// The host's clock, unix milliseconds (what the dedupe store takes).
pub(crate) fn unix_now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX))
}

/// A multi-threaded tokio runtime, for the commands that do network I/O (one per process).
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, output::Failure> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|error| output::Failure::runtime(format!("cannot start the async runtime: {error}")))
}

/// Sends the emulator's log (warnings and errors, or `RUST_LOG`) to stderr.
pub(crate) fn init_logging() {
    init_logging_at("warn");
}

/// Sends the emulator's log at `level` (or `RUST_LOG` when set) to stderr.
pub(crate) fn init_logging_at(level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
}

/// Parses `args` (including the program name), runs the command and returns the exit code.
pub(crate) fn run<I, T>(args: I) -> u8
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(error) => {
            // `--help` and `--version` land here too, with exit code 0 and their text on stdout.
            let _ = error.print();
            return u8::try_from(error.exit_code()).unwrap_or(output::EXIT_USAGE);
        }
    };
    let result = match cli.command {
        Command::Sign(args) => sign::run(args),
        Command::Verify(args) => verify::run(args),
        Command::Send(args) => send::run(args),
        Command::Listen(args) => listen::run(args),
        Command::Serve(args) => serve::run(args),
        Command::Demo(args) => demo::run(args),
    };
    output::finish(result)
}

fn main() -> ExitCode {
    ExitCode::from(run(std::env::args_os()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn clap_definition_is_valid() {
        Cli::command().debug_assert();
    }
}
