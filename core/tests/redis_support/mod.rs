//! A private `redis-server` for the Redis store's tests and benchmark, and the CLI's `listen` tests
//! (`cli/tests` include this file by path): its own free loopback port, its own temporary directory, no
//! persistence, killed when dropped. Also a TLS-enabled server with a private CA made at test time, and a
//! tiny blocking RESP client, so the tests can look at what the store wrote without going through it.
//!
//! `redis-server` (and, for TLS, `openssl`) must be on PATH: `scripts/ensure-redis.sh` installs it.
//! Without it the harness panics (the tests must fail, not pass silently).

#![allow(dead_code)] // each test target uses a different subset

use std::fmt;
use std::fs::{self, File};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How long a starting server may take to accept connections.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// A unique-per-run suffix (pid, clock, counter): for temporary directories and key prefixes.
pub fn unique(label: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    format!("{label}-{}-{nanos:x}-{}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed))
}

/// The path of `redis-server` (or `$REDIS_SERVER`), or a panic telling how to install it.
pub fn redis_binary(name: &str) -> PathBuf {
    let override_var = if name == "redis-server" { "REDIS_SERVER" } else { "REDIS_BENCHMARK" };
    if let Some(path) = std::env::var_os(override_var) {
        return PathBuf::from(path);
    }
    let found = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file());
    found.unwrap_or_else(|| panic!("{name} not found: run scripts/ensure-redis.sh"))
}

/// A `redis-server` child process on `127.0.0.1:port`.
pub struct RedisServer {
    port: u16,
    dir: PathBuf,
    password: Option<String>,
    extra_args: Vec<String>,
    child: Option<Child>,
}

impl fmt::Debug for RedisServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisServer").field("port", &self.port).field("dir", &self.dir).finish()
    }
}

impl RedisServer {
    /// Starts a server with no password.
    pub fn start() -> RedisServer {
        RedisServer::start_with(None, &[])
    }

    /// Starts a server that requires `password` (`--requirepass`).
    pub fn start_with_password(password: &str) -> RedisServer {
        RedisServer::start_with(Some(password), &[])
    }

    /// Starts a server on `port` (e.g. one a client was already pointed at).
    pub fn start_on_port(port: u16) -> RedisServer {
        RedisServer::start_inner(Some(port), None, &[])
    }

    /// Starts a server with an optional password and extra `redis-server` arguments. A port taken by
    /// someone else between our probe and the server's bind is retried on another port.
    pub fn start_with(password: Option<&str>, extra_args: &[&str]) -> RedisServer {
        RedisServer::start_inner(None, password, extra_args)
    }

    /// Starts a server that also listens on a second port named in its arguments (e.g. `--tls-port`):
    /// `args(second_port)` builds them. Both ports are picked again when one was taken by someone else
    /// between our probe and the server's bind. Returns the server and its second port.
    pub fn start_with_second_port(args: impl Fn(u16) -> Vec<String>) -> (RedisServer, u16) {
        let binary = redis_binary("redis-server");
        let mut server = RedisServer::not_started(None, &[]);
        let mut last_error = String::new();
        for _ in 0..5 {
            let second_port = free_port();
            server.port = free_port();
            server.extra_args = args(second_port);
            match server.spawn(&binary) {
                Ok(()) => return (server, second_port),
                Err(error) => last_error = error,
            }
        }
        panic!("could not start redis-server: {last_error}");
    }

    fn not_started(password: Option<&str>, extra_args: &[&str]) -> RedisServer {
        let dir = std::env::temp_dir().join(unique("anchor-webhooks-redis"));
        fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
        RedisServer {
            port: 0,
            dir,
            password: password.map(str::to_owned),
            extra_args: extra_args.iter().map(|a| (*a).to_owned()).collect(),
            child: None,
        }
    }

    fn start_inner(port: Option<u16>, password: Option<&str>, extra_args: &[&str]) -> RedisServer {
        let binary = redis_binary("redis-server");
        let mut server = RedisServer::not_started(password, extra_args);
        let mut last_error = String::new();
        for _ in 0..5 {
            server.port = port.unwrap_or_else(free_port);
            match server.spawn(&binary) {
                Ok(()) => return server,
                Err(error) => last_error = error,
            }
        }
        panic!("could not start redis-server: {last_error}");
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The process id, while running.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// `redis://127.0.0.1:P/0` (with the password, if any).
    pub fn url(&self) -> String {
        self.url_with_db(0)
    }

    pub fn url_with_db(&self, db: u32) -> String {
        match &self.password {
            Some(password) => format!("redis://:{password}@127.0.0.1:{}/{db}", self.port),
            None => format!("redis://127.0.0.1:{}/{db}", self.port),
        }
    }

    pub fn is_running(&mut self) -> bool {
        matches!(self.child.as_mut().map(|c| c.try_wait()), Some(Ok(None)))
    }

    /// Kills the server (SIGKILL, as a crash would) and waits for it to be gone.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port, with the same directory and arguments.
    pub fn restart(&mut self) {
        self.stop();
        let binary = redis_binary("redis-server");
        let mut last_error = String::new();
        // The port was ours a moment ago; a socket in TIME_WAIT does not stop redis (SO_REUSEADDR), but
        // give a slow system a few tries anyway.
        for _ in 0..20 {
            match self.spawn(&binary) {
                Ok(()) => return,
                Err(error) => last_error = error,
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("could not restart redis-server on port {}: {last_error}", self.port);
    }

    /// Freezes the server (SIGSTOP): connections are accepted by the kernel but nothing is answered,
    /// which is what a hung or overloaded server looks like to a client.
    pub fn pause(&self) {
        self.signal("STOP");
    }

    /// Resumes a paused server (SIGCONT).
    pub fn resume(&self) {
        self.signal("CONT");
    }

    fn signal(&self, name: &str) {
        let pid = self.pid().expect("the server is not running");
        let status = Command::new("kill")
            .args([format!("-{name}"), pid.to_string()])
            .status()
            .unwrap_or_else(|e| panic!("cannot run kill -{name}: {e}"));
        assert!(status.success(), "kill -{name} {pid} failed");
    }

    /// Sends one command on a new connection (after AUTH, if the server has a password) and returns
    /// the reply. Panics if the server cannot be reached.
    pub fn command(&self, args: &[&str]) -> Resp {
        self.command_in_db(0, args)
    }

    /// Like [`command`](Self::command), after `SELECT db`.
    pub fn command_in_db(&self, db: u32, args: &[&str]) -> Resp {
        let mut connection = self.connect().unwrap_or_else(|e| panic!("redis on port {}: {e}", self.port));
        if db != 0 {
            let reply = connection.call(&["SELECT", &db.to_string()]).expect("SELECT");
            assert_eq!(reply, Resp::Simple("OK".into()), "SELECT {db}");
        }
        connection.call(args).unwrap_or_else(|e| panic!("{args:?}: {e}"))
    }

    /// A raw connection, authenticated if the server has a password.
    pub fn connect(&self) -> Result<RespConnection, String> {
        let mut connection = RespConnection::connect(self.port, Duration::from_secs(5))?;
        if let Some(password) = &self.password {
            match connection.call(&["AUTH", password])? {
                Resp::Simple(ok) if ok == "OK" => {}
                other => return Err(format!("AUTH: {other:?}")),
            }
        }
        Ok(connection)
    }

    /// The keys matching `pattern` (`KEYS`, fine on a private test server), sorted.
    pub fn keys(&self, db: u32, pattern: &str) -> Vec<String> {
        let mut keys = match self.command_in_db(db, &["KEYS", pattern]) {
            Resp::Array(items) => items.into_iter().map(|item| item.into_text()).collect::<Vec<_>>(),
            other => panic!("KEYS: {other:?}"),
        };
        keys.sort();
        keys
    }

    fn spawn(&mut self, binary: &Path) -> Result<(), String> {
        let log_path = self.dir.join("redis.log");
        let log = File::options()
            .create(true)
            .append(true)
            .open(&log_path)
            .map_err(|e| format!("cannot open {}: {e}", log_path.display()))?;
        let log_err = log.try_clone().map_err(|e| e.to_string())?;
        let port = self.port.to_string();
        let mut command = Command::new(binary);
        command
            .args(["--port", &port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .args(["--daemonize", "no", "--protected-mode", "yes"])
            .arg("--dir")
            .arg(&self.dir);
        if let Some(password) = &self.password {
            command.args(["--requirepass", password]);
        }
        command.args(&self.extra_args).stdin(Stdio::null()).stdout(log).stderr(log_err);
        let mut child = command.spawn().map_err(|e| format!("cannot run {}: {e}", binary.display()))?;
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                let log = fs::read_to_string(&log_path).unwrap_or_default();
                let tail: Vec<&str> = log.lines().rev().take(10).collect();
                return Err(format!(
                    "redis-server on port {port} exited with {status}; log tail:\n{}",
                    tail.into_iter().rev().collect::<Vec<_>>().join("\n")
                ));
            }
            if self.ping() {
                self.child = Some(child);
                return Ok(());
            }
            if started.elapsed() > START_TIMEOUT {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "redis-server on port {port} did not answer PING within {START_TIMEOUT:?}"
                ));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// True when the server answers `+PONG` (after AUTH, if it has a password).
    fn ping(&self) -> bool {
        let Ok(mut stream) = TcpStream::connect_timeout(&loopback(self.port), Duration::from_millis(200))
        else {
            return false;
        };
        let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
        let _ = stream.set_write_timeout(Some(Duration::from_millis(500)));
        let mut request = Vec::new();
        if let Some(password) = &self.password {
            request.extend_from_slice(&encode(&["AUTH", password]));
        }
        request.extend_from_slice(b"*1\r\n$4\r\nPING\r\n");
        if stream.write_all(&request).is_err() {
            return false;
        }
        let mut reader = BufReader::new(stream);
        if self.password.is_some() {
            let mut auth = String::new();
            if reader.read_line(&mut auth).is_err() || !auth.starts_with("+OK") {
                return false;
            }
        }
        let mut line = String::new();
        reader.read_line(&mut line).is_ok() && line.starts_with("+PONG")
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        // A paused server would ignore nothing but SIGKILL anyway; kill is enough.
        self.stop();
        let _ = fs::remove_dir_all(&self.dir);
    }
}

fn loopback(port: u16) -> SocketAddr {
    SocketAddr::from((Ipv4Addr::LOCALHOST, port))
}

/// A port that was free a moment ago (the kernel's choice for an ephemeral bind).
pub fn free_port() -> u16 {
    let listener = TcpListener::bind(loopback(0)).expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local_addr").port()
}

/// A RESP reply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Resp {
    Simple(String),
    Error(String),
    Integer(i64),
    Bulk(Option<Vec<u8>>),
    Array(Vec<Resp>),
}

impl Resp {
    /// The text of a simple or bulk string; panics on anything else.
    pub fn into_text(self) -> String {
        match self {
            Resp::Simple(text) => text,
            Resp::Bulk(Some(bytes)) => String::from_utf8(bytes).expect("UTF-8 reply"),
            other => panic!("expected a string reply, got {other:?}"),
        }
    }
}

fn encode(args: &[&str]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for arg in args {
        out.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
        out.extend_from_slice(arg.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// A blocking RESP2 connection, independent of the store under test.
pub struct RespConnection {
    reader: BufReader<TcpStream>,
}

impl RespConnection {
    pub fn connect(port: u16, timeout: Duration) -> Result<RespConnection, String> {
        let stream = TcpStream::connect_timeout(&loopback(port), timeout).map_err(|e| e.to_string())?;
        stream.set_read_timeout(Some(timeout)).map_err(|e| e.to_string())?;
        stream.set_write_timeout(Some(timeout)).map_err(|e| e.to_string())?;
        Ok(RespConnection { reader: BufReader::new(stream) })
    }

    pub fn call(&mut self, args: &[&str]) -> Result<Resp, String> {
        self.reader.get_mut().write_all(&encode(args)).map_err(|e| e.to_string())?;
        self.read()
    }

    fn read(&mut self) -> Result<Resp, String> {
        let mut line = String::new();
        self.reader.read_line(&mut line).map_err(|e| e.to_string())?;
        let line = line.strip_suffix("\r\n").ok_or_else(|| format!("truncated reply {line:?}"))?;
        let (kind, rest) = line.split_at(1.min(line.len()));
        let number = || rest.parse::<i64>().map_err(|_| format!("bad length in {line:?}"));
        match kind {
            "+" => Ok(Resp::Simple(rest.to_owned())),
            "-" => Ok(Resp::Error(rest.to_owned())),
            ":" => Ok(Resp::Integer(number()?)),
            "$" => match usize::try_from(number()?) {
                Err(_) => Ok(Resp::Bulk(None)),
                Ok(len) => {
                    let mut bytes = vec![0; len + 2];
                    self.reader.read_exact(&mut bytes).map_err(|e| e.to_string())?;
                    bytes.truncate(len);
                    Ok(Resp::Bulk(Some(bytes)))
                }
            },
            "*" => match usize::try_from(number()?) {
                Err(_) => Ok(Resp::Array(Vec::new())),
                Ok(len) => (0..len).map(|_| self.read()).collect::<Result<_, _>>().map(Resp::Array),
            },
            _ => Err(format!("unknown reply {line:?}")),
        }
    }
}

/// A `redis-server` with a TLS port whose certificate (for 127.0.0.1) a private CA signed, made at test
/// time with the `openssl` CLI; its plain-text port stays open too. Removes its certificates when
/// dropped.
pub struct TlsRedis {
    pub server: RedisServer,
    pub tls_port: u16,
    certs: PathBuf,
}

impl TlsRedis {
    pub fn start() -> TlsRedis {
        let certs = tls_certificates();
        let file = |name: &str| certs.join(name).to_str().expect("a UTF-8 temp path").to_owned();
        let (cert, key, ca) = (file("server.crt"), file("server.key"), file("ca.crt"));
        let (server, tls_port) = RedisServer::start_with_second_port(|tls_port| {
            [
                "--tls-port",
                &tls_port.to_string(),
                "--tls-cert-file",
                &cert,
                "--tls-key-file",
                &key,
                "--tls-ca-cert-file",
                &ca,
                "--tls-auth-clients",
                "no",
            ]
            .map(str::to_owned)
            .to_vec()
        });
        TlsRedis { server, tls_port, certs }
    }

    /// `rediss://127.0.0.1:TLS_PORT/0`.
    pub fn url(&self) -> String {
        format!("rediss://127.0.0.1:{}/0", self.tls_port)
    }

    /// The private CA's certificate file (PEM).
    pub fn ca_file(&self) -> PathBuf {
        self.certs.join("ca.crt")
    }

    pub fn ca_pem(&self) -> Vec<u8> {
        fs::read(self.ca_file()).expect("read ca.crt")
    }
}

impl Drop for TlsRedis {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.certs);
    }
}

/// Runs `openssl ARGS` in `dir`, failing the test with its output when it fails.
fn openssl(dir: &Path, args: &[&str]) {
    let output = Command::new("openssl").args(args).current_dir(dir).output().expect("openssl runs");
    assert!(
        output.status.success(),
        "openssl {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A private CA and a server certificate for 127.0.0.1 signed by it; returns the folder holding
/// `ca.crt`, `server.crt` and `server.key`.
fn tls_certificates() -> PathBuf {
    let dir = std::env::temp_dir().join(unique("anchor-webhooks-redis-tls"));
    fs::create_dir_all(&dir).unwrap();
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    openssl(
        &dir,
        &[
            &["req", "-x509"][..],
            &ec,
            &["-keyout", "ca.key", "-out", "ca.crt", "-days", "1", "-subj", "/CN=anchor-webhooks test CA"],
        ]
        .concat(),
    );
    openssl(
        &dir,
        &[&["req"][..], &ec, &["-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1"]]
            .concat(),
    );
    fs::write(
        dir.join("server.ext"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(
        &dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.crt",
            "-days",
            "1",
            "-extfile",
            "server.ext",
        ],
    );
    dir
}

/// A CA certificate (PEM) made for the occasion: valid TLS roots, for tests that need no server.
pub fn test_ca_pem() -> Vec<u8> {
    let certs = tls_certificates();
    let pem = fs::read(certs.join("ca.crt")).expect("read ca.crt");
    let _ = fs::remove_dir_all(&certs);
    pem
}
