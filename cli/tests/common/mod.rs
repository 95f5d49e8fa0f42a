//! Running the built `anchor-webhooks` binary from the integration tests.

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// No command of these tests takes this long; one that does (a server started by mistake) is killed.
const RUN_DEADLINE: Duration = Duration::from_secs(60);

/// What a run of the binary produced.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// The environment variable the binary reads a secret from when no `--secret` is given.
pub const SECRET_VARIABLE: &str = "ANCHOR_WEBHOOK_SECRET";

/// Runs `anchor-webhooks ARGS` with `stdin` as its standard input and waits for it (at most a minute).
/// `ANCHOR_WEBHOOK_SECRET` is removed from its environment, so only the arguments give secrets.
pub fn run(args: &[&str], stdin: &[u8]) -> Run {
    run_with_secret_variable(args, stdin, None)
}

/// [`run`] with `ANCHOR_WEBHOOK_SECRET` set to `secret` (or removed when `None`).
pub fn run_with_secret_variable(args: &[&str], stdin: &[u8], secret: Option<&str>) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_anchor-webhooks"));
    match secret {
        Some(secret) => command.env(SECRET_VARIABLE, secret),
        None => command.env_remove(SECRET_VARIABLE),
    };
    let mut child = command
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn anchor-webhooks");
    let mut pipe = child.stdin.take().expect("stdin");
    // The binary may exit before reading stdin (usage errors): a broken pipe is fine.
    let _ = pipe.write_all(stdin);
    drop(pipe);
    let read_all = |mut source: Box<dyn Read + Send>| {
        thread::spawn(move || {
            let mut text = Vec::new();
            let _ = source.read_to_end(&mut text);
            String::from_utf8(text).expect("utf-8 output")
        })
    };
    let stdout = read_all(Box::new(child.stdout.take().expect("stdout")));
    let stderr = read_all(Box::new(child.stderr.take().expect("stderr")));
    let deadline = Instant::now() + RUN_DEADLINE;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("`anchor-webhooks {}` still running after {RUN_DEADLINE:?}: killed", args.join(" "));
        }
        thread::sleep(Duration::from_millis(10));
    };
    Run {
        code: status.code().expect("exit code"),
        stdout: stdout.join().expect("stdout reader"),
        stderr: stderr.join().expect("stderr reader"),
    }
}
