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
//!   itself when the server is back.

use std::fmt;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::dedupe::{Claim, ClaimToken, DedupeStore, DEFAULT_DONE_TTL};
use crate::error::Error;
use crate::setting::Setting;

/// The value of a completed id.
const DONE: &str = "done";

/// Done if this worker's token holds the key, or if no key is left (the lease expired and nobody claimed
/// the id since): the one rule of [`DedupeStore::complete`]. `GET` of a missing key is `false` in Lua.
const COMPLETE: &str = "local held = redis.call('GET', KEYS[1]) \
     if held == ARGV[1] or held == false then \
     redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) return 1 end return 0";
const RELEASE: &str = "if redis.call('GET', KEYS[1]) == ARGV[1] then \
     redis.call('DEL', KEYS[1]) return 1 end return 0";

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
/// - Every call, connecting included, has one deadline ([`RedisOptions::timeout`], 1 s by default). A
///   failure is `store_unavailable` (answer 503, the sender retries), never `Fresh`; a broken connection
///   is dropped, so the store reconnects by itself when the server is back.
/// - **The calls block** the calling thread (redis-rs' synchronous connection) for up to the timeout. In
///   an async server, run [`Receiver::receive`](crate::Receiver::receive) and
///   [`Receiver::finish`](crate::Receiver::finish) with `tokio::task::spawn_blocking` (or your runtime's
///   equivalent), or a slow Redis stalls every task on that worker thread; the handler itself can then be
///   awaited in between.
pub struct RedisStore {
    /// Connects without any handshake: `AUTH` and `SELECT` are sent by [`RedisStore::connect`], each
    /// within the call's one deadline (redis-rs would pipeline them and wait a full timeout per reply).
    client: redis::Client,
    /// `(username, password)` for `AUTH`, from the URL.
    auth: Option<(Option<String>, String)>,
    db: i64,
    options: RedisOptions,
    idle: Mutex<Vec<redis::Connection>>,
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

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX).max(1)
}

/// A Redis store that could never work, refused when it is built: a malformed URL, a `done_ttl` or
/// `timeout` outside its [`Setting`] range, TLS roots that are not PEM. A configuration error, not
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
    /// A store for `url` (`redis://[:password@]host[:port][/db]`) with the default options. Only parses
    /// the URL: the server may be down now and come up later.
    pub fn open(url: &str) -> Result<RedisStore, RedisConfigError> {
        RedisStore::with_options(url, RedisOptions::default())
    }

    /// A malformed URL, or a `done_ttl` or `timeout` outside its [`Setting`] range, is refused naming it.
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
        let auth = info.redis.password.take().map(|password| (info.redis.username.take(), password));
        let db = std::mem::take(&mut info.redis.db);
        let client = match &options.tls_root_certificates {
            Some(roots) => {
                let certificates =
                    redis::TlsCertificates { client_tls: None, root_cert: Some(roots.clone()) };
                redis::Client::build_with_tls(info, certificates).map_err(|_| {
                    RedisConfigError::new(
                        "tls_root_certificates",
                        "invalid TLS root certificates: expected PEM",
                    )
                })?
            }
            None => redis::Client::open(info).map_err(|_| invalid())?,
        };
        Ok(RedisStore {
            client,
            auth,
            db,
            options,
            idle: Mutex::default(),
            complete: redis::Script::new(COMPLETE),
            release: redis::Script::new(RELEASE),
        })
    }

    /// The options it was opened with.
    pub fn options(&self) -> &RedisOptions {
        &self.options
    }

    fn key(&self, id: &str) -> String {
        crate::kv::key(&self.options.key_prefix, id)
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
        let pooled = self.idle.lock().unwrap_or_else(PoisonError::into_inner).pop();
        let reused = pooled.is_some();
        let mut result = self.run(pooled, deadline, &command);
        if reused && matches!(&result, Err(error) if error.is_connection_dropped()) {
            self.idle.lock().unwrap_or_else(PoisonError::into_inner).clear();
            result = self.run(None, deadline, &command);
        }
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        match result {
            Ok((connection, value)) => {
                if idle.len() < self.options.max_idle_connections {
                    idle.push(connection);
                }
                Ok(value)
            }
            Err(error) => {
                idle.clear();
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
            None => self.connect(deadline)?,
        };
        set_timeouts(&connection, deadline)?;
        command(&mut connection).map(|value| (connection, value))
    }

    fn connect(&self, deadline: Instant) -> redis::RedisResult<redis::Connection> {
        let mut connection = self.client.get_connection_with_timeout(remaining(deadline)?)?;
        if let Some((username, password)) = &self.auth {
            set_timeouts(&connection, deadline)?;
            let mut auth = redis::cmd("AUTH");
            if let Some(username) = username {
                auth.arg(username);
            }
            auth.arg(password).query::<()>(&mut connection)?;
        }
        if self.db != 0 {
            set_timeouts(&connection, deadline)?;
            redis::cmd("SELECT").arg(self.db).query::<()>(&mut connection)?;
        }
        Ok(connection)
    }
}

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

impl DedupeStore for RedisStore {
    fn claim(&self, id: &str, lease: Duration, _now_ms: u64) -> Result<Claim, Error> {
        let token = new_token()?;
        let (key, held_by_us) = (self.key(id), token_text(token));
        let previous: Option<String> = self
            .with_connection(|connection| {
                redis::cmd("SET")
                    .arg(&key)
                    .arg(&held_by_us)
                    .arg("NX")
                    .arg("PX")
                    .arg(millis(lease))
                    .arg("GET")
                    .query(connection)
            })
            .map_err(|error| match error {
                // SET's NX and GET options together came with Redis 7.0; older servers call it a syntax error.
                Error::StoreUnavailable { reason } if reason.contains("syntax error") => {
                    Error::StoreUnavailable {
                        reason: format!(
                            "{reason} (claims use SET with both NX and GET, which needs Redis 7.0 or later)"
                        ),
                    }
                }
                error => error,
            })?;
        Ok(match previous.as_deref() {
            None => Claim::Fresh(token),
            // Our own token: a first try that ran before its connection dropped, then the retry.
            Some(held) if held == held_by_us => Claim::Fresh(token),
            Some(DONE) => Claim::Done,
            Some(_) => Claim::InProgress,
        })
    }

    fn complete(&self, id: &str, token: ClaimToken, _now_ms: u64) -> Result<bool, Error> {
        let key = self.key(id);
        let ttl = millis(self.options.done_ttl);
        let updated: i64 = self.with_connection(|connection| {
            self.complete.key(&key).arg(token_text(token)).arg(DONE).arg(ttl).invoke(connection)
        })?;
        Ok(updated == 1)
    }

    fn release(&self, id: &str, token: ClaimToken, _now_ms: u64) -> Result<bool, Error> {
        let key = self.key(id);
        let deleted: i64 = self
            .with_connection(|connection| self.release.key(&key).arg(token_text(token)).invoke(connection))?;
        Ok(deleted == 1)
    }
}
