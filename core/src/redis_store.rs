//! A Redis-backed [`DedupeStore`] (feature `redis`; `redis://` and, over TLS, `rediss://` URLs): the
//! rules a user needs are on [`RedisStore`]; this is how it keeps them.
//!
//! - claim: `SET key token NX PX lease GET` (one atomic command; Redis ≥ 7.0): nothing there → `Fresh`,
//!   the done marker → `Done`, another worker's token → `InProgress`;
//! - complete: a Lua compare-and-set turns the claim into the done marker for the TTL if this worker's
//!   token still holds it, or if the key is gone (the lease expired and nobody claimed the id since);
//!   release: a Lua compare-and-delete;
//! - keys are `{prefix}:{hex SHA-256 of the id}`: an id is attacker-influenced text and never reaches
//!   Redis raw;
//! - every connect and command has a timeout; a failure is `store_unavailable` (the receiver answers 503
//!   so the sender retries), never `Fresh`. A broken connection is dropped, so the store reconnects by
//!   itself when the server is back;
//! - `check` runs each of those commands once, on a probe key no event id can produce, so a setup that
//!   can never work (a missing ACL right, a wrong password, a server older than 7.0, TLS against a
//!   plain-text port) is found at start-up instead of after a handler ran.

use std::fmt;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use rustls::pki_types::{pem::PemObject, CertificateDer};

use crate::dedupe::{Claim, ClaimToken, DedupeStore, DEFAULT_DONE_TTL};
use crate::error::Error;
use crate::setting::Setting;

/// The value of a completed id: `done:{token of the claim that completed it}` (plain `done` from earlier
/// versions means done as well). The token lets a complete that is sent again, after its first try reached
/// the server but its answer did not reach us (a timeout, a dropped connection), see that it was its own.
const DONE: &str = "done";

/// Done if this worker's token holds the key, or if no key is left (the lease expired and nobody claimed
/// the id since): the one rule of [`DedupeStore::complete`]. `GET` of a missing key is `false` in Lua. A
/// key already holding this claim's done marker is this complete's own first try: done too.
const COMPLETE: &str = "local held = redis.call('GET', KEYS[1]) \
     if held == ARGV[1] or held == false then \
     redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) return 1 end \
     if held == ARGV[2] then return 1 end return 0";
const RELEASE: &str = "if redis.call('GET', KEYS[1]) == ARGV[1] then \
     redis.call('DEL', KEYS[1]) return 1 end return 0";

/// Why a server answers the claim's `SET ... NX PX ... GET` with a syntax error.
const NEEDS_REDIS_7: &str = "claims use SET with both NX and GET, which needs Redis 7.0 or later";

/// How much longer than the store's timeout [`RedisStore::check`]'s probe key lives: long enough that it
/// cannot expire between the check's own steps, short enough that nothing is left behind for long.
const PROBE_MARGIN: Duration = Duration::from_secs(1);

/// How a [`RedisStore`] behaves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RedisOptions {
    /// Keys are `{key_prefix}:{hex SHA-256 of the id}`.
    pub key_prefix: String,
    /// How long a completed id is remembered.
    pub done_ttl: Duration,
    /// The deadline of every connect and every command.
    pub timeout: Duration,
    /// Connections kept open for reuse.
    pub max_idle_connections: usize,
    /// For `rediss://`: PEM certificates of the authorities to trust instead of the public web roots (a
    /// server with a private CA).
    pub tls_root_certificates: Option<Vec<u8>>,
}

impl Default for RedisOptions {
    fn default() -> RedisOptions {
        RedisOptions {
            key_prefix: crate::kv::DEFAULT_PREFIX.to_owned(),
            done_ttl: DEFAULT_DONE_TTL,
            timeout: Duration::from_secs(1),
            max_idle_connections: 16,
            tls_root_certificates: None,
        }
    }
}

/// The shared dedupe store (feature `redis`), for a receiver running as several replicas: they all see
/// which events are claimed and which are done, and completed ids survive a restart. Thread-safe; share
/// one behind an `Arc`.
///
/// - **Redis 7.0 or later**: a claim is one atomic `SET key token NX PX lease GET`. Completing and
///   releasing are Lua compare-and-set scripts, acting only for the claim's token.
/// - Keys are `{key_prefix}:{hex SHA-256 of the id}` (an id is the sender's text and never reaches Redis
///   raw); a claim's key expires with its lease, a completed id's after `done_ttl` (default 24 h).
/// - **Call [`RedisStore::check`] at start-up.** Opening only parses the URL; the check runs each
///   command once and tells a setup that can never work (ACL rights, password, DB index, version, TLS)
///   from a server that is merely down, so the first delivery does not find out after its handler ran.
/// - Every call, connecting included, has one deadline ([`RedisOptions::timeout`], 1 s by default). A
///   failure is `store_unavailable` (answer 503, the sender retries), never `Fresh`; a broken connection
///   is dropped, so the store reconnects by itself when the server is back.
/// - **Fork-safe**: a process forked after the store was used (gunicorn `--preload`, Celery's prefork
///   pool) opens connections of its own instead of sharing its parent's sockets.
/// - **What the deadline does not cover**: a host name is resolved outside it, each address it resolves
///   to gets the timeout in turn, and it is set per read (a server trickling its answer stretches a call).
///   A call that timed out may still take effect when a hung server resumes (a claim then holds its id
///   until the lease ends). A read interrupted by a signal (EINTR) goes on with a new connection.
///   Unix-socket URLs are refused (connected without a timeout), and so is a user without a password.
/// - **The calls block** the calling thread (redis-rs' synchronous connection) for up to the timeout. In
///   an async server, run [`Receiver::receive`](crate::Receiver::receive) and
///   [`Receiver::finish`](crate::Receiver::finish) with `tokio::task::spawn_blocking` (or your runtime's
///   equivalent), or a slow Redis stalls every task on that worker thread; the handler itself can then be
///   awaited in between.
pub struct RedisStore {
    /// Connects without any handshake: `AUTH` and `SELECT` are sent by [`RedisStore::connect`], each
    /// within the call's one deadline (redis-rs would pipeline them and wait a full timeout per reply).
    client: redis::Client,
    /// A `rediss://` URL: what [`RedisStore::check`] says of a silent server depends on it.
    tls: bool,
    /// `(username, password)` for `AUTH`, from the URL.
    /// Zeroed on drop, as the verifier's keys are.
    auth: Option<(Option<String>, zeroize::Zeroizing<String>)>,
    db: i64,
    options: RedisOptions,
    idle: Mutex<IdleConnections>,
    complete: redis::Script,
    release: redis::Script,
}

impl fmt::Debug for RedisStore {
    /// The URL is left out: it may carry a password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStore")
            .field("db", &self.db)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

fn unavailable(reason: impl Into<String>) -> Error {
    Error::StoreUnavailable { reason: reason.into() }
}

/// A Redis error as a `store_unavailable` reason. Redis error texts name the failure (connection refused,
/// timed out, authentication) and never echo the URL or the password.
fn redis_failure(error: &redis::RedisError) -> Error {
    let what = if error.is_timeout() {
        "timed out".to_owned()
    } else if error.is_connection_refusal() {
        "connection refused".to_owned()
    } else {
        error.to_string()
    };
    unavailable(format!("redis: {what}"))
}

/// How many times one call goes on after a signal interrupted it (each time on a new connection).
const MAX_INTERRUPTIONS: usize = 3;

/// Whether a system call of this error was interrupted by a signal (EINTR).
fn was_interrupted(error: &redis::RedisError) -> bool {
    use std::error::Error as _;
    error
        .source()
        .and_then(|source| source.downcast_ref::<std::io::Error>())
        .is_some_and(|io| io.kind() == std::io::ErrorKind::Interrupted)
}

/// `result`, or while it is a failure a signal caused (`interrupted`: EINTR), `again()`, at most
/// [`MAX_INTERRUPTIONS`] times.
fn past_interruptions<T, E>(
    mut result: Result<T, E>,
    interrupted: impl Fn(&E) -> bool,
    mut again: impl FnMut() -> Result<T, E>,
) -> Result<T, E> {
    for _ in 0..MAX_INTERRUPTIONS {
        match &result {
            Err(error) if interrupted(error) => result = again(),
            _ => break,
        }
    }
    result
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX).max(1)
}

/// A Redis store that could never work, refused when it is built: a malformed URL, a URL asking for
/// `#insecure` TLS, a `done_ttl` or `timeout` outside its [`Setting`] range, TLS roots that are not PEM
/// or come with a plain `redis://` URL. What only the server can tell (its ACL rules, the password, its
/// version) is found by [`RedisStore::check`]. A configuration error, not
/// `store_unavailable`: no delivery has arrived yet, so "answer 503 so the sender retries" would be advice
/// for nobody, and a start-up that catches verification errors must not swallow it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RedisConfigError {
    option: &'static str,
    problem: String,
}

impl RedisConfigError {
    fn new(option: &'static str, problem: impl Into<String>) -> RedisConfigError {
        RedisConfigError { option, problem: problem.into() }
    }

    /// The option at fault, by its Rust name: `url`, `done_ttl`, `timeout` or `tls_root_certificates`.
    pub fn option(&self) -> &'static str {
        self.option
    }
}

impl fmt::Display for RedisConfigError {
    /// Names what is wrong, never the URL (it may hold a password).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.problem)
    }
}

impl std::error::Error for RedisConfigError {}

impl RedisStore {
    /// A store for `url` (`redis://[username:password@]host[:port][/db]`) with the default options. Only parses
    /// the URL: the server may be down now and come up later ([`RedisStore::check`] asks it).
    pub fn open(url: &str) -> Result<RedisStore, RedisConfigError> {
        RedisStore::with_options(url, RedisOptions::default())
    }

    /// A malformed URL, or a `done_ttl` or `timeout` outside its [`Setting`] range, is refused naming it.
    /// So are a URL ending in `#insecure` (TLS that accepts any certificate: this build has none; trust
    /// a private CA with [`RedisOptions::tls_root_certificates`] instead), and TLS roots with no PEM
    /// certificate in them or given with a plain `redis://` URL.
    pub fn with_options(url: &str, options: RedisOptions) -> Result<RedisStore, RedisConfigError> {
        use redis::IntoConnectionInfo;
        let checked = |setting: Setting, value: Duration, name: &'static str| {
            setting
                .check(value)
                .map_err(|error| RedisConfigError::new(name, format!("invalid Redis option: {name} {error}")))
        };
        checked(Setting::DoneTtl, options.done_ttl, "done_ttl")?;
        checked(Setting::Timeout, options.timeout, "timeout")?;
        let invalid = || {
            RedisConfigError::new(
                "url",
                "invalid Redis URL: expected redis:// or rediss://[username:password@]host[:port][/db]",
            )
        };
        let mut info = url.into_connection_info().map_err(|_| invalid())?;
        let tls = match info.addr {
            // redis-rs reads `rediss://...#insecure` as "accept any certificate", which only its
            // `tls-rustls-insecure` feature can do: without this refusal the URL is accepted here and every
            // connection fails later, after a handler ran.
            redis::ConnectionAddr::TcpTls { insecure: true, .. } => {
                return Err(RedisConfigError::new(
                    "url",
                    "invalid Redis URL: #insecure (TLS that accepts any server certificate) is not \
                     supported by this build; trust the server's CA with tls_root_certificates instead",
                ))
            }
            redis::ConnectionAddr::TcpTls { .. } => true,
            _ => false,
        };
        if matches!(info.addr, redis::ConnectionAddr::Unix(_)) {
            // redis-rs connects to a Unix socket without any timeout: a hung server would block a call
            // forever, breaking the one deadline every call has.
            return Err(RedisConfigError::new(
                "url",
                "invalid Redis URL: Unix socket URLs are not supported (their connect has no timeout); \
                 use redis://127.0.0.1:6379",
            ));
        }
        if info.redis.username.is_some() && info.redis.password.is_none() {
            // Without a password redis-rs sends no AUTH at all: the store would act as the `default` user,
            // with that user's rights, instead of the one named.
            return Err(RedisConfigError::new(
                "url",
                "invalid Redis URL: it names a user but no password; write redis://username:password@host \
                 (a user with `nopass` accepts any password)",
            ));
        }
        let auth = info
            .redis
            .password
            .take()
            .map(|password| (info.redis.username.take(), zeroize::Zeroizing::new(password)));
        let db = std::mem::take(&mut info.redis.db);
        let client = match &options.tls_root_certificates {
            Some(_) if !tls => {
                return Err(RedisConfigError::new(
                    "tls_root_certificates",
                    "TLS root certificates need a rediss:// URL, not redis://",
                ))
            }
            Some(roots) => {
                let not_pem = || {
                    RedisConfigError::new(
                        "tls_root_certificates",
                        "invalid TLS root certificates: expected PEM with at least one CERTIFICATE block",
                    )
                };
                // redis-rs skips whatever is not a certificate: a key file or a DER file would be an empty
                // set of roots, which trusts no server at all.
                if !matches!(CertificateDer::pem_slice_iter(roots).next(), Some(Ok(_))) {
                    return Err(not_pem());
                }
                let certificates =
                    redis::TlsCertificates { client_tls: None, root_cert: Some(roots.clone()) };
                redis::Client::build_with_tls(info, certificates).map_err(|_| not_pem())?
            }
            None => redis::Client::open(info).map_err(|_| invalid())?,
        };
        Ok(RedisStore {
            client,
            tls,
            auth,
            db,
            options,
            idle: Mutex::new(IdleConnections { process: std::process::id(), connections: Vec::new() }),
            complete: redis::Script::new(COMPLETE),
            release: redis::Script::new(RELEASE),
        })
    }

    /// The options it was opened with.
    pub fn options(&self) -> &RedisOptions {
        &self.options
    }

    /// The `store_unavailable` error of a call that was never sent: a host that runs this store's calls
    /// on a bounded set of `threads` threads (the Node binding does) found every one of them busy for
    /// longer than [`RedisOptions::timeout`], the deadline the call itself would have had. Answering
    /// this instead of waiting on keeps a delivery's wait bounded while Redis is slow or unreachable.
    pub fn threads_busy(&self, threads: usize) -> Error {
        unavailable(self.threads_busy_reason(threads))
    }

    /// [`RedisStore::threads_busy`] for a [`RedisStore::check`] that was never sent: the server may well
    /// be only slow, so [`RedisCheckErrorKind::Unavailable`].
    pub fn threads_busy_check(&self, threads: usize) -> RedisCheckError {
        RedisCheckError { kind: RedisCheckErrorKind::Unavailable, reason: self.threads_busy_reason(threads) }
    }

    fn threads_busy_reason(&self, threads: usize) -> String {
        let busy = match threads {
            1 => "the one thread calling Redis was".to_owned(),
            _ => format!("all {threads} threads calling Redis were"),
        };
        format!(
            "redis: {busy} busy for longer than the {} timeout, so this call was not sent (Redis is slow or \
             unreachable)",
            shown_duration(self.options.timeout)
        )
    }

    fn key(&self, id: &str) -> String {
        crate::kv::key(&self.options.key_prefix, id)
    }

    /// The idle connections, for this process (see [`IdleConnections`]).
    fn idle(&self) -> std::sync::MutexGuard<'_, IdleConnections> {
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        idle.claim_for_this_process();
        idle
    }

    /// Runs `command` on a pooled connection, everything (connecting, `AUTH`, `SELECT`, the command)
    /// within one deadline. The connection goes back to the pool only after a success; after an error it
    /// may be broken, and so may its idle siblings (a restarted server), so they are all dropped and the
    /// next call connects afresh.
    ///
    /// A pooled connection the server closed while it sat idle (a restart, a failover, the server's
    /// `timeout`, a load balancer's idle cut) fails at once with the connection dropped: the command is
    /// tried once more on a new connection, so a healthy server never costs a delivery a 503.
    fn with_connection<T>(
        &self,
        command: impl Fn(&mut redis::Connection) -> redis::RedisResult<T>,
    ) -> Result<T, Error> {
        let deadline = Instant::now() + self.options.timeout;
        let pooled = self.idle().take();
        let reused = pooled.is_some();
        let mut result = self.run(pooled, deadline, &command);
        if reused && matches!(&result, Err(error) if error.is_connection_dropped()) {
            self.idle().clear();
            result = self.run(None, deadline, &command);
        }
        // A read with a timeout is not restarted after a signal handler ran on its thread (signal(7)), so a
        // signal the host handles (Go's runtime handles SIGCHLD, SIGURG, SIGPROF; any process may get
        // SIGTERM or SIGWINCH) fails it with EINTR. The reply may be half read: go on with a new
        // connection, within the same deadline. A command that did reach the server is safe to send again:
        // a claim finds its own token, a complete its own done marker.
        match past_interruptions(result, was_interrupted, || self.run(None, deadline, &command)) {
            Ok((connection, value)) => {
                self.idle().keep(connection, self.options.max_idle_connections);
                Ok(value)
            }
            Err(error) => {
                self.idle().clear();
                Err(redis_failure(&error))
            }
        }
    }

    /// Runs `command` on `connection`, or on a new one, before `deadline`.
    fn run<T>(
        &self,
        connection: Option<redis::Connection>,
        deadline: Instant,
        command: impl Fn(&mut redis::Connection) -> redis::RedisResult<T>,
    ) -> redis::RedisResult<(redis::Connection, T)> {
        let mut connection = match connection {
            Some(connection) => connection,
            None => self.connect(deadline, &mut Progress::default())?,
        };
        set_timeouts(&connection, deadline)?;
        command(&mut connection).map(|value| (connection, value))
    }

    /// A new connection, authenticated and on the URL's db, before `deadline`; `progress` follows the
    /// steps, for [`RedisStore::check`]'s diagnosis.
    fn connect(&self, deadline: Instant, progress: &mut Progress) -> redis::RedisResult<redis::Connection> {
        progress.step = Step::Connect;
        let mut connection = self.client.get_connection_with_timeout(remaining(deadline)?)?;
        if let Some((username, password)) = &self.auth {
            progress.step = Step::Authenticate;
            set_timeouts(&connection, deadline)?;
            let mut auth = redis::cmd("AUTH");
            if let Some(username) = username {
                auth.arg(username);
            }
            auth.arg(password.as_str()).query::<()>(&mut connection)?;
            progress.answered = true;
        }
        if self.db != 0 {
            progress.step = Step::SelectDb;
            set_timeouts(&connection, deadline)?;
            redis::cmd("SELECT").arg(self.db).query::<()>(&mut connection)?;
            progress.answered = true;
        }
        Ok(connection)
    }

    /// Finds out now whether this store can work, instead of after a handler ran: within one deadline
    /// ([`RedisOptions::timeout`]) it connects as every call does (`AUTH`, `SELECT`), loads both Lua
    /// scripts (`SCRIPT LOAD`), and runs a claim, a release and a completion on a probe key of its own,
    /// `{key_prefix}:check:{random}` (never an event's key, which is 64 hex digits after the prefix; gone
    /// a second after the timeout). The connection is kept for the next call.
    ///
    /// Call it at start-up. The error's [`kind`](RedisCheckError::kind) says what to do:
    /// [`Misconfigured`](RedisCheckErrorKind::Misconfigured) (a missing ACL right, a wrong password, a
    /// DB index out of range, a server older than Redis 7.0, an untrusted TLS certificate, TLS against
    /// a plain-text port) can never work until the setup changes, and a server that evicts keys under its
    /// `maxmemory` (any policy but `noeviction`, read with `INFO memory` when the server answers it) can
    /// drop a done marker and run a handler twice: refuse to start.
    /// [`Unavailable`](RedisCheckErrorKind::Unavailable) (down, starting, hung, unreachable) may be
    /// temporary: the store works once the server is back, and until then each call is
    /// `store_unavailable`.
    pub fn check(&self) -> Result<(), RedisCheckError> {
        let started = Instant::now();
        let deadline = started + self.options.timeout;
        // A plain-text Redis port never answers a TLS handshake, nor does a hung TLS server: for
        // `rediss://`, connecting gets three quarters of the deadline, and when it got no answer at all,
        // the last quarter asks the same port in plain text which of the two it is.
        let connect_deadline = if self.tls { started + self.options.timeout * 3 / 4 } else { deadline };
        let mut progress = Progress::default();
        let first = self.probe(connect_deadline, deadline, &mut progress);
        // As in `with_connection`: a read a signal interrupted (EINTR) tells nothing about the server; probe
        // again on a new connection within the same deadline.
        let interrupted =
            |failure: &ProbeFailure| matches!(failure, ProbeFailure::Redis(error) if was_interrupted(error));
        let result = past_interruptions(first, interrupted, || {
            progress = Progress::default();
            self.probe(connect_deadline, deadline, &mut progress)
        });
        match result {
            Ok(connection) => {
                self.idle().keep(connection, self.options.max_idle_connections);
                Ok(())
            }
            Err(failure) => Err(self.diagnose(&failure, &progress, deadline)),
        }
    }

    /// The steps of [`RedisStore::check`], each command as the store's calls send it (the same
    /// `run_claim`, `run_release` and `run_complete`).
    fn probe(
        &self,
        connect_deadline: Instant,
        deadline: Instant,
        progress: &mut Progress,
    ) -> Result<redis::Connection, ProbeFailure> {
        let mut connection = self.connect(connect_deadline, progress)?;
        let token = token_text(new_token().map_err(|_| ProbeFailure::NoRandomness)?);
        let key = format!("{}:check:{token}", self.options.key_prefix);
        let lifetime = millis(self.options.timeout + PROBE_MARGIN);

        // The claim first, as a delivery does: a server older than 7.0 refuses it whatever else works.
        progress.step = Step::Claim;
        // Without AUTH or SELECT, the claim carries the TLS handshake: it gets the connecting deadline.
        set_timeouts(&connection, if progress.answered { deadline } else { connect_deadline })?;
        let previous = RedisStore::run_claim(&mut connection, &key, &token, lifetime)?;
        progress.answered = true;
        if let Some(previous) = previous {
            return Err(ProbeFailure::Answer { expected: "nil (a new key)", got: format!("{previous:?}") });
        }
        progress.step = Step::LoadScripts;
        for script in [&self.complete, &self.release] {
            set_timeouts(&connection, deadline)?;
            // The store's calls run EVALSHA, and SCRIPT LOAD when the server does not have the script yet
            // (a restarted server): both must be allowed.
            script.load(&mut connection)?;
        }
        progress.step = Step::Release;
        set_timeouts(&connection, deadline)?;
        let released = self.run_release(&mut connection, &key, &token)?;
        if released != 1 {
            return Err(ProbeFailure::Answer { expected: "1 (released)", got: released.to_string() });
        }
        // The key is gone now: completing sets the done marker, which expires with the probe's lifetime.
        progress.step = Step::Complete;
        set_timeouts(&connection, deadline)?;
        let completed = self.run_complete(&mut connection, &key, &token, lifetime)?;
        if completed != 1 {
            return Err(ProbeFailure::Answer { expected: "1 (completed)", got: completed.to_string() });
        }
        // The eviction policy, when the server tells it: INFO is not among the rules the store needs, and a
        // server may rename or disable it (or a proxy refuse it), so any refusal leaves the policy
        // unchecked. Every dedupe key has a TTL, so a Redis that evicts under its `maxmemory` can drop a
        // done marker, and a redelivery then runs its handler again.
        progress.step = Step::Info;
        set_timeouts(&connection, deadline)?;
        match redis::cmd("INFO").arg("memory").query::<String>(&mut connection) {
            Ok(info) => {
                if let Some((policy, maxmemory)) = evicting_policy(&info) {
                    return Err(ProbeFailure::Evicts { policy, maxmemory });
                }
            }
            Err(error) if error.code().is_some() => {}
            Err(error) => return Err(error.into()),
        }
        Ok(connection)
    }

    /// The ACL rules the store needs, as `ACL SETUSER` takes them.
    fn needed_acl(&self) -> String {
        let select = if self.db != 0 { " +select" } else { "" };
        format!("+set +get +del +evalsha +script|load{select} ~{}:*", self.options.key_prefix)
    }

    /// What a failed check means, in words a user acts on.
    fn diagnose(&self, failure: &ProbeFailure, progress: &Progress, deadline: Instant) -> RedisCheckError {
        let (kind, reason) = match failure {
            ProbeFailure::Redis(error) => self.diagnose_redis(error, progress, deadline),
            ProbeFailure::Answer { expected, got } => (
                RedisCheckErrorKind::Misconfigured,
                format!(
                    "redis: the server answered the check's {} with {got} where Redis answers {expected}: is \
                     this a Redis 7 server?",
                    progress.step.command()
                ),
            ),
            ProbeFailure::NoRandomness => {
                (RedisCheckErrorKind::Unavailable, "no randomness for the check's probe token".to_owned())
            }
            ProbeFailure::Evicts { policy, maxmemory } => (
                RedisCheckErrorKind::Misconfigured,
                format!(
                    "redis: the server evicts keys (maxmemory-policy {policy}, maxmemory {maxmemory}): under \
                     memory pressure it can drop a dedupe key (each has a TTL), and a redelivery would then run \
                     its handler again; give the store a Redis with maxmemory-policy noeviction, or no maxmemory"
                ),
            ),
        };
        // One line whatever a library's text holds (redis-rs' parse errors span several).
        let reason = reason.split_whitespace().collect::<Vec<_>>().join(" ");
        RedisCheckError { kind, reason }
    }

    fn diagnose_redis(
        &self,
        error: &redis::RedisError,
        progress: &Progress,
        deadline: Instant,
    ) -> (RedisCheckErrorKind, String) {
        use RedisCheckErrorKind::{Misconfigured, Unavailable};
        if let Some(tls) = self.tls_failure(error) {
            let reason = match tls {
                TlsFailure::UntrustedIssuer => format!(
                    "redis: the server's TLS certificate is not signed by a trusted CA ({error}): trust \
                     the CA that signed it with tls_root_certificates"
                ),
                TlsFailure::Certificate => {
                    format!("redis: the server's TLS certificate was refused ({error})")
                }
                TlsFailure::NotTls => format!(
                    "redis: the answer to the TLS handshake is not TLS ({error}): is this a TLS port?"
                ),
                TlsFailure::Other => format!("redis: the TLS handshake failed ({error})"),
            };
            return (Misconfigured, reason);
        }
        let nothing_answered = !progress.answered;
        if error.is_timeout() && self.tls && nothing_answered {
            // A plain-text Redis port reads the ClientHello as the start of an inline command and waits
            // for a newline; a hung TLS server does not answer either. A plain-text PING tells them apart.
            if self.answers_plain_text_redis(deadline) {
                let reason = "redis: this port speaks plain-text Redis, not TLS: the TLS handshake got no \
                              answer and a plain-text PING did (rediss:// needs the server's tls-port)";
                return (Misconfigured, reason.to_owned());
            }
            let within = shown_duration(self.options.timeout * 3 / 4);
            return (
                Unavailable,
                format!("redis: the TLS handshake got no answer within {within}: is this a TLS port?"),
            );
        }
        if error.is_timeout() {
            return (
                Unavailable,
                format!("redis: no answer within {}", shown_duration(self.options.timeout)),
            );
        }
        if error.is_connection_refusal() {
            return (Unavailable, "redis: connection refused".to_owned());
        }
        if !self.tls && nothing_answered && error.kind() == redis::ErrorKind::ParseError {
            // Not Redis at all: a TLS port's alert, or another service.
            let reason =
                "redis: the server's answer is not Redis protocol: is this a TLS port? (then the URL \
                          is rediss://)";
            return (Misconfigured, reason.to_owned());
        }
        if !self.tls && nothing_answered && error.is_connection_dropped() {
            // What a TLS port does with plain text; a server going down does it too.
            let reason = format!(
                "redis: the connection was closed before any answer ({error}): is this a TLS port? (then the \
                 URL is rediss://)"
            );
            return (Unavailable, reason);
        }
        match error.code() {
            Some(code) => self.diagnose_refusal(code, error.detail().unwrap_or_default(), progress.step),
            // Misconfigured: an address a TLS connection cannot name. Unavailable: a dropped connection,
            // a name that does not resolve (yet).
            None if error.kind() == redis::ErrorKind::InvalidClientConfig
                && !error.to_string().contains("could not resolve") =>
            {
                (Misconfigured, format!("redis: {error}"))
            }
            None => (Unavailable, format!("redis: {error}")),
        }
    }

    /// What the server's error answer `code detail` to `step` means.
    fn diagnose_refusal(&self, code: &str, detail: &str, step: Step) -> (RedisCheckErrorKind, String) {
        use RedisCheckErrorKind::{Misconfigured, Unavailable};
        let needs = || format!("the dedupe store needs the ACL rules {}", self.needed_acl());
        let server_text = format!("{code} {detail}");
        let reason = match (code, detail) {
            ("NOPERM", detail) => {
                let what = match quoted(detail) {
                    Some(command) => format!("run {}", command.to_uppercase().replace('|', " ")),
                    None if detail.contains("keys") => format!("use the keys {}:*", self.options.key_prefix),
                    None => format!("do what the check asked ({detail})"),
                };
                format!("redis: this user may not {what} (NOPERM); {}", needs())
            }
            // Commands a Lua script calls are checked against the user's ACL rules too.
            ("ERR", detail) if detail.starts_with("The user executing the script can't") => format!(
                "redis: this user may not run what the store's scripts call (GET, SET, DEL on its keys); {}",
                needs()
            ),
            ("WRONGPASS", _) => {
                "redis: wrong user name or password, or the user is disabled (WRONGPASS)".to_owned()
            }
            ("NOAUTH", _) => "redis: the server needs a password and the URL has none (NOAUTH): \
                              redis://[username]:password@host"
                .to_owned(),
            ("ERR", detail) if detail.starts_with("AUTH <password> called without any password") => {
                "redis: the URL has a password, but the server's default user needs none (name the user, \
                 redis://username:password@host, or leave the password out)"
                    .to_owned()
            }
            ("ERR", detail) if detail.starts_with("DB index is out of range") => format!(
                "redis: DB index {} is out of range (the server's `databases` setting; 16 by default: \
                 0 to 15)",
                self.db
            ),
            ("ERR", detail) if step == Step::Claim && detail.starts_with("syntax error") => {
                format!("redis: {server_text} ({NEEDS_REDIS_7})")
            }
            ("ERR", detail) if detail.starts_with("unknown command") => {
                format!("redis: {server_text} (renamed or disabled on this server?)")
            }
            // Protected mode, or a Redis Cluster node (this store follows no redirects).
            ("DENIED" | "MOVED" | "ASK" | "CROSSSLOT", _) => format!("redis: {server_text}"),
            // Loading its data set, a read-only replica during a failover, out of memory, busy, too
            // many clients: all may pass.
            _ => return (Unavailable, format!("redis: {server_text}")),
        };
        (Misconfigured, reason)
    }
}

impl RedisStore {
    /// Whether the URL's host and port answer a plain-text `PING` as Redis does (`+PONG`, or an error
    /// such as `-NOAUTH`), before `deadline`. Only asked after a TLS handshake got no answer at all: a
    /// TLS port would log the plain text as a failed handshake.
    fn answers_plain_text_redis(&self, deadline: Instant) -> bool {
        use std::io::{Read, Write};
        use std::net::{TcpStream, ToSocketAddrs};
        let redis::ConnectionAddr::TcpTls { host, port, .. } = &self.client.get_connection_info().addr else {
            return false;
        };
        let Ok(mut addresses) = (host.as_str(), *port).to_socket_addrs() else { return false };
        let Some(address) = addresses.next() else { return false };
        let left = || Some(deadline.saturating_duration_since(Instant::now())).filter(|left| !left.is_zero());
        let Some(Ok(mut stream)) = left().map(|left| TcpStream::connect_timeout(&address, left)) else {
            return false;
        };
        let mut first = [0u8; 1];
        left().is_some_and(|left| {
            stream.set_write_timeout(Some(left)).is_ok()
                && stream.set_read_timeout(Some(left)).is_ok()
                && stream.write_all(b"PING\r\n").is_ok()
                && matches!(stream.read(&mut first), Ok(1) if matches!(first[0], b'+' | b'-'))
        })
    }
}

/// The connections kept open for reuse, and the process that opened them. A process forked after it used
/// the store (gunicorn `--preload`, Celery's prefork pool, `multiprocessing`) inherits them: two
/// processes writing on one socket read each other's replies, so a claim could read another process's
/// `done` (an event lost) or its `OK` (an event run twice). A process that finds connections of another
/// process drops its copies (closing a copy leaves the other process's socket open and sends nothing) and
/// opens its own.
struct IdleConnections {
    process: u32,
    connections: Vec<redis::Connection>,
}

impl IdleConnections {
    fn claim_for_this_process(&mut self) {
        let process = std::process::id();
        if self.process != process {
            self.connections.clear();
            self.process = process;
        }
    }

    fn take(&mut self) -> Option<redis::Connection> {
        self.connections.pop()
    }

    fn keep(&mut self, connection: redis::Connection, max: usize) {
        if self.connections.len() < max {
            self.connections.push(connection);
        }
    }

    fn clear(&mut self) {
        self.connections.clear();
    }
}

/// Where [`RedisStore::check`] got to: what a failure means depends on it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Step {
    #[default]
    Connect,
    Authenticate,
    SelectDb,
    LoadScripts,
    Claim,
    Release,
    Complete,
    Info,
}

impl Step {
    /// The command of the step, as a message names it.
    fn command(self) -> &'static str {
        match self {
            Step::Connect => "connect",
            Step::Authenticate => "AUTH",
            Step::SelectDb => "SELECT",
            Step::LoadScripts => "SCRIPT LOAD",
            Step::Claim => "SET NX PX GET",
            Step::Release | Step::Complete => "EVALSHA",
            Step::Info => "INFO memory",
        }
    }
}

#[derive(Debug, Default)]
struct Progress {
    step: Step,
    /// The server answered a command on this connection (so a TLS handshake, if any, went through).
    answered: bool,
}

/// How a step of [`RedisStore::check`] failed.
enum ProbeFailure {
    Redis(redis::RedisError),
    /// An answer no Redis 7 server gives.
    Answer {
        expected: &'static str,
        got: String,
    },
    /// The system gave no random bytes for the probe's token.
    NoRandomness,
    /// The server evicts keys under its `maxmemory`, by this policy.
    Evicts {
        policy: String,
        maxmemory: String,
    },
}

/// From `INFO memory`: the eviction policy and the limit (as Redis writes it for people) when the server
/// evicts keys, `None` when it never does (`noeviction`, or no `maxmemory`).
fn evicting_policy(info: &str) -> Option<(String, String)> {
    let field =
        |name: &str| info.lines().find_map(|line| line.strip_prefix(name)?.strip_prefix(':')).map(str::trim);
    let policy = field("maxmemory_policy")?;
    if policy == "noeviction" || field("maxmemory")? == "0" {
        return None;
    }
    Some((policy.to_owned(), field("maxmemory_human").unwrap_or("set").to_owned()))
}

impl From<redis::RedisError> for ProbeFailure {
    fn from(error: redis::RedisError) -> ProbeFailure {
        ProbeFailure::Redis(error)
    }
}

/// How a TLS handshake failed.
enum TlsFailure {
    /// A certificate no trusted root signed (a private CA).
    UntrustedIssuer,
    /// Any other refused certificate (expired, for another name, ...).
    Certificate,
    /// The answer was not TLS at all: a plain-text port.
    NotTls,
    Other,
}

impl RedisStore {
    /// rustls' failure under a Redis I/O error, read from its text: redis-rs keeps the `io::Error` that
    /// wraps the `rustls::Error` private (its deprecated `cause` is not `'static`, so it cannot be
    /// downcast), and rustls 0.23 words each failure with a fixed prefix. The TLS tests pin the texts.
    fn tls_failure(&self, error: &redis::RedisError) -> Option<TlsFailure> {
        if !self.tls || error.kind() != redis::ErrorKind::IoError || error.code().is_some() {
            return None;
        }
        let text = error.to_string();
        if text.starts_with("invalid peer certificate: UnknownIssuer") {
            Some(TlsFailure::UntrustedIssuer)
        } else if text.starts_with("invalid peer certificate") {
            Some(TlsFailure::Certificate)
        } else if text.starts_with("received corrupt message") {
            Some(TlsFailure::NotTls)
        } else if ["received fatal alert", "received unexpected", "peer is incompatible", "peer misbehaved"]
            .iter()
            .any(|prefix| text.starts_with(prefix))
            || text.starts_with("TLS")
        {
            Some(TlsFailure::Other)
        } else {
            None
        }
    }
}

/// The first `'quoted'` word of a Redis error text (NOPERM names the command so).
fn quoted(text: &str) -> Option<&str> {
    let (_, rest) = text.split_once('\'')?;
    rest.split_once('\'').map(|(word, _)| word)
}

/// `1 s`, `1.5 s` or `500 ms`.
fn shown_duration(duration: Duration) -> String {
    if duration < Duration::from_secs(1) {
        format!("{} ms", duration.as_millis())
    } else {
        format!("{} s", duration.as_secs_f64())
    }
}

/// Why [`RedisStore::check`] failed: a one-line reason naming the cause (never the URL or the password),
/// and whether the same store can work later.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RedisCheckError {
    kind: RedisCheckErrorKind,
    reason: String,
}

/// Whether a failed [`RedisStore::check`] can pass later without a change to the setup.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RedisCheckErrorKind {
    /// The server is down, starting, hung or out of reach (refused, no answer in time, a dropped
    /// connection, a name that does not resolve, a replica during a failover): the same store works once
    /// it is back, and until then each call is `store_unavailable`. A service may start anyway.
    Unavailable,
    /// The server answered, and this setup can never work until it is changed: a missing ACL right, a
    /// wrong password, a DB index out of range, a server older than Redis 7.0, an untrusted TLS
    /// certificate, TLS against a plain-text port. Every delivery would fail after its handler ran:
    /// refuse to start.
    Misconfigured,
}

impl RedisCheckError {
    /// Whether the same store can work later.
    pub fn kind(&self) -> RedisCheckErrorKind {
        self.kind
    }
}

impl fmt::Display for RedisCheckError {
    /// The reason, e.g. `redis: wrong user name or password, or the user is disabled (WRONGPASS)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason)
    }
}

impl std::error::Error for RedisCheckError {}

/// The time left before `deadline`; none left is a timeout.
fn remaining(deadline: Instant) -> redis::RedisResult<Duration> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        return Err(std::io::Error::new(std::io::ErrorKind::TimedOut, "deadline passed").into());
    }
    Ok(left)
}

fn set_timeouts(connection: &redis::Connection, deadline: Instant) -> redis::RedisResult<()> {
    let left = remaining(deadline)?;
    connection.set_read_timeout(Some(left))?;
    connection.set_write_timeout(Some(left))
}

fn new_token() -> Result<ClaimToken, Error> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|_| unavailable("no randomness for a claim token"))?;
    Ok(ClaimToken::new(u128::from_le_bytes(bytes)))
}

fn token_text(token: ClaimToken) -> String {
    format!("{:032x}", token.value())
}

/// The value a completed id holds (see [`DONE`]).
fn done_marker(token: &str) -> String {
    format!("{DONE}:{token}")
}

impl RedisStore {
    /// The claim: `key` set to `token` for `lifetime_ms` unless it exists, answering what it held. The one
    /// form both [`DedupeStore::claim`] and [`RedisStore::check`]'s probe send.
    fn run_claim(
        connection: &mut redis::Connection,
        key: &str,
        token: &str,
        lifetime_ms: u64,
    ) -> redis::RedisResult<Option<String>> {
        redis::cmd("SET")
            .arg(key)
            .arg(token)
            .arg("NX")
            .arg("PX")
            .arg(lifetime_ms)
            .arg("GET")
            .query(connection)
    }

    /// The COMPLETE script for `key` and `token`, the done marker living `ttl_ms`: 1 when recorded.
    fn run_complete(
        &self,
        connection: &mut redis::Connection,
        key: &str,
        token: &str,
        ttl_ms: u64,
    ) -> redis::RedisResult<i64> {
        self.complete.key(key).arg(token).arg(done_marker(token)).arg(ttl_ms).invoke(connection)
    }

    /// The RELEASE script for `key` and `token`: 1 when the claim was deleted.
    fn run_release(
        &self,
        connection: &mut redis::Connection,
        key: &str,
        token: &str,
    ) -> redis::RedisResult<i64> {
        self.release.key(key).arg(token).invoke(connection)
    }
}

impl DedupeStore for RedisStore {
    fn claim(&self, id: &str, lease: Duration, _now_ms: u64) -> Result<Claim, Error> {
        let token = new_token()?;
        let (key, held_by_us) = (self.key(id), token_text(token));
        let previous = self
            .with_connection(|connection| RedisStore::run_claim(connection, &key, &held_by_us, millis(lease)))
            .map_err(|error| match error {
                // SET's NX and GET options together came with Redis 7.0; older servers call it a syntax error.
                Error::StoreUnavailable { reason } if reason.contains("syntax error") => {
                    Error::StoreUnavailable { reason: format!("{reason} ({NEEDS_REDIS_7})") }
                }
                error => error,
            })?;
        Ok(match previous.as_deref() {
            None => Claim::Fresh(token),
            // Our own token: a first try that ran before its connection dropped, then the retry.
            Some(held) if held == held_by_us => Claim::Fresh(token),
            Some(held) if held == DONE || held.starts_with("done:") => Claim::Done,
            Some(_) => Claim::InProgress,
        })
    }

    fn complete(&self, id: &str, token: ClaimToken, _now_ms: u64) -> Result<bool, Error> {
        let (key, token) = (self.key(id), token_text(token));
        let ttl = millis(self.options.done_ttl);
        let updated = self.with_connection(|connection| self.run_complete(connection, &key, &token, ttl))?;
        Ok(updated == 1)
    }

    fn release(&self, id: &str, token: ClaimToken, _now_ms: u64) -> Result<bool, Error> {
        let (key, token) = (self.key(id), token_text(token));
        let deleted = self.with_connection(|connection| self.run_release(connection, &key, &token))?;
        Ok(deleted == 1)
    }
}
