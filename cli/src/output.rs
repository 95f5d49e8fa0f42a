//! Everything the CLI prints, and the mapping from outcomes to exit codes.

use std::io::Write;

use anchor_webhooks::Error;
use serde_json::{json, Value};

pub(crate) const EXIT_OK: u8 = 0;
/// The core refused: invalid secret, or a verification failure. One JSON line on stdout.
pub(crate) const EXIT_FAILURE: u8 = 1;
/// Bad invocation or unreadable input (clap uses 2 for its own usage errors too). Message on stderr.
pub(crate) const EXIT_USAGE: u8 = 2;

/// Why a command did not succeed.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The core refused (`invalid_secret`, or any verification error): exit 1.
    Core(Error),
    /// The invocation or its input files are unusable: exit 2. The message never echoes header values
    /// or secrets.
    Usage(String),
}

impl From<Error> for Failure {
    fn from(error: Error) -> Failure {
        Failure::Core(error)
    }
}

impl Failure {
    pub(crate) fn usage(message: impl Into<String>) -> Failure {
        Failure::Usage(message.into())
    }
}

/// `{"ok":false,"error":"<code>","message":"<Display>"}`. The core's messages never contain secrets,
/// signatures or the body.
pub(crate) fn failure_json(error: &Error) -> Value {
    json!({
        "ok": false,
        "error": error.code().as_str(),
        "message": error.to_string(),
    })
}

/// Prints a JSON value on one line of stdout.
pub(crate) fn print_json(value: &Value) -> Result<(), Failure> {
    print_stdout(&format!("{value}\n"))
}

/// Prints text on stdout as is (the caller supplies the newlines).
pub(crate) fn print_stdout(text: &str) -> Result<(), Failure> {
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
        .map_err(|error| Failure::usage(format!("cannot write to stdout: {error}")))
}

/// Reports a command's outcome and returns the exit code.
pub(crate) fn finish(result: Result<(), Failure>) -> u8 {
    match result {
        Ok(()) => EXIT_OK,
        Err(Failure::Core(error)) => match print_json(&failure_json(&error)) {
            Ok(()) => EXIT_FAILURE,
            Err(failure) => finish(Err(failure)),
        },
        Err(Failure::Usage(message)) => {
            // Nothing better to do if stderr is gone too; the exit code still says it.
            let _ = writeln!(std::io::stderr(), "error: {message}");
            EXIT_USAGE
        }
    }
}
