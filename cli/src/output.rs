//! Everything the CLI prints, and the mapping from outcomes to exit codes.

use std::io::Write;

use anchor_webhooks::Error;
use serde_json::{json, Value};

pub(crate) const EXIT_OK: u8 = 0;
/// The core refused (invalid secret, or a verification failure: one JSON line on stdout), the receiver
/// answered `send` with a non-2xx status, or a network or server error (a message on stderr).
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
    /// Something outside the invocation failed (the receiver cannot be reached, the port is taken):
    /// exit 1, the message on stderr.
    Runtime(String),
    /// The command already printed its result, which is a failure (`send` got a non-2xx answer): exit 1,
    /// nothing more printed.
    Reported,
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

    pub(crate) fn runtime(message: impl Into<String>) -> Failure {
        Failure::Runtime(message.into())
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

/// Prints one line on stdout and flushes it at once (a server's log line: scripts read it live). Errors
/// are ignored: a server keeps serving when nobody reads its log.
pub(crate) fn print_line(line: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{line}").and_then(|()| stdout.flush());
}

/// Prints one line on stderr (diagnostics of a running command); errors are ignored.
pub(crate) fn print_error_line(line: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// An error and the errors that caused it, `outer: inner: innermost`, for network errors whose top-level
/// message alone ("error sending request") says little. A cause already included in its parent's
/// message is skipped.
pub(crate) fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let message = cause.to_string();
        if !text.contains(&message) {
            text.push_str(": ");
            text.push_str(&message);
        }
        source = cause.source();
    }
    text
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
            print_error_line(&format!("error: {message}"));
            EXIT_USAGE
        }
        Err(Failure::Runtime(message)) => {
            print_error_line(&format!("error: {message}"));
            EXIT_FAILURE
        }
        Err(Failure::Reported) => EXIT_FAILURE,
    }
}
