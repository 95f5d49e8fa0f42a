//! The Redis dedupe store (SPEC §6) against a real `redis-server`: every test starts a private server
//! (`redis_support`) or at least uses a key prefix of its own. `scripts/ensure-redis.sh` installs the
//! server; without it these tests fail rather than pass.
//!
//! Two tests spawn this test binary again as a second process (a second replica, or a receiver after a
//! restart): the `helper_*` tests are `#[ignore]`d and do nothing unless `ANCHOR_REDIS_HELPER` is set.

#![cfg(feature = "redis")]

mod redis_support;

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anchor_webhooks::{
    sign, Claim, ClaimToken, DedupeStore, Error, ErrorCode, Outcome, Receiver, RedisCheckError,
    RedisCheckErrorKind, RedisOptions, RedisStore, Scheme, Setting, Verifier,
};
use redis_support::{unique, RedisServer, Resp, TlsRedis};
use sha2::{Digest, Sha256};

const SECRET: &str = "36da51b166a69268a59a8d5ee0b32c9f5e5aaee7d301c7a5a36844318e116fc6";
/// The receiver's clock for signed deliveries (the Redis store keeps time with the server's clock).
const NOW_S: u64 = 1_716_544_084;
const NOW_MS: u64 = NOW_S * 1000;
const LONG_LEASE: Duration = Duration::from_secs(600);

/// The environment a helper process reads.
const ENV_HELPER: &str = "ANCHOR_REDIS_HELPER";
const ENV_URL: &str = "ANCHOR_REDIS_URL";
const ENV_PREFIX: &str = "ANCHOR_REDIS_PREFIX";
const ENV_OUT: &str = "ANCHOR_REDIS_OUT";
const ENV_GO_AT_MS: &str = "ANCHOR_REDIS_GO_AT_MS";

// ---------------------------------------------------------------------------------------------------
// Helpers

/// Tests that measure wall-clock time (leases, TTLs, timeouts) hold this shared; the CPU-heavy
/// two-process test holds it exclusively, so on a 2-core machine it cannot starve their deadlines.
static TIMING: RwLock<()> = RwLock::new(());

fn timing() -> RwLockReadGuard<'static, ()> {
    TIMING.read().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn heavy() -> RwLockWriteGuard<'static, ()> {
    TIMING.write().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn options(prefix: &str) -> RedisOptions {
    RedisOptions { key_prefix: prefix.to_owned(), ..RedisOptions::default() }
}

fn store(server: &RedisServer, prefix: &str) -> RedisStore {
    RedisStore::with_options(&server.url(), options(prefix)).expect("a valid URL")
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

#[track_caller]
fn fresh(claim: Result<Claim, Error>) -> ClaimToken {
    match claim {
        Ok(Claim::Fresh(token)) => token,
        other => panic!("expected Fresh, got {other:?}"),
    }
}

#[track_caller]
fn assert_unavailable<T: std::fmt::Debug>(result: Result<T, Error>, what: &str) -> Error {
    match result {
        Err(error) if error.code() == ErrorCode::StoreUnavailable => error,
        other => panic!("{what}: expected store_unavailable, got {other:?}"),
    }
}

#[track_caller]
fn assert_misconfigured(result: Result<(), RedisCheckError>, reason: &str) {
    match result {
        Err(error) => {
            assert_eq!(
                (error.kind(), error.to_string().as_str()),
                (RedisCheckErrorKind::Misconfigured, reason)
            )
        }
        Ok(()) => panic!("the check passed; expected: {reason}"),
    }
}

#[track_caller]
fn assert_check_unavailable(result: Result<(), RedisCheckError>, reason: &str) {
    match result {
        Err(error) => {
            assert_eq!((error.kind(), error.to_string().as_str()), (RedisCheckErrorKind::Unavailable, reason))
        }
        Ok(()) => panic!("the check passed; expected: {reason}"),
    }
}

fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes()).iter().fold(String::with_capacity(64), |mut hex, byte| {
        let _ = write!(hex, "{byte:02x}");
        hex
    })
}

fn is_lower_hex(text: &str, len: usize) -> bool {
    text.len() == len && text.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Runs this test binary again, only the `#[ignore]`d helper test `name`, with `env`.
fn run_helper(name: &str, env: &[(&str, String)]) -> std::process::Child {
    let exe = std::env::current_exe().expect("current_exe");
    let mut command = Command::new(exe);
    command
        .args(["--exact", name, "--nocapture", "--ignored", "--test-threads=1"])
        .env(ENV_HELPER, name)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (key, value) in env {
        command.env(key, value);
    }
    command.spawn().unwrap_or_else(|e| panic!("cannot spawn the helper process {name}: {e}"))
}

#[track_caller]
fn assert_helper_succeeded(name: &str, output: &Output) {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "helper {name} failed ({}):\n{stdout}\n{stderr}", output.status);
    // `--exact` with a misspelt name runs nothing and still succeeds: make sure the helper really ran.
    assert!(stdout.contains("1 passed"), "helper {name} ran no test:\n{stdout}\n{stderr}");
}

/// For helper tests: the variable, or `None` when this is not a helper run.
fn helper_env(name: &str) -> Option<HashMap<&'static str, String>> {
    if std::env::var(ENV_HELPER).ok().as_deref() != Some(name) {
        eprintln!("{name}: a helper process of another test; skipped when run directly");
        return None;
    }
    let var = |key: &'static str| (key, std::env::var(key).unwrap_or_else(|_| panic!("{key} is not set")));
    Some([var(ENV_URL), var(ENV_PREFIX), var(ENV_OUT)].into_iter().collect())
}

fn temp_file(label: &str) -> PathBuf {
    std::env::temp_dir().join(unique(label))
}

// ---------------------------------------------------------------------------------------------------
// Two processes × 4 threads claim the same 50 000 ids: exactly one Fresh per id, overall.

const RACE_IDS: u32 = 50_000;
const RACE_THREADS: usize = 4;
const RACE_HELPER: &str = "helper_race_claims_in_a_second_process";

/// What one process saw: the ids it got Fresh, and how many answers of each other kind.
#[derive(Debug, Default)]
struct RaceReport {
    fresh: Vec<u32>,
    in_progress: usize,
    done: usize,
    errors: Vec<String>,
    /// When the first claim was made and the last one answered (unix ms).
    window: (u64, u64),
}

impl RaceReport {
    fn to_text(&self) -> String {
        let mut text = format!(
            "in_progress {}\ndone {}\nerrors {}\nwindow {} {}\n",
            self.in_progress,
            self.done,
            self.errors.len(),
            self.window.0,
            self.window.1
        );
        for error in self.errors.iter().take(5) {
            let _ = writeln!(text, "error {}", error.replace('\n', " "));
        }
        for id in &self.fresh {
            let _ = writeln!(text, "{id}");
        }
        text
    }

    fn parse(text: &str) -> RaceReport {
        let mut report = RaceReport::default();
        for line in text.lines() {
            let (word, rest) = line.split_once(' ').unwrap_or((line, ""));
            match word {
                "in_progress" => report.in_progress = rest.parse().expect("count"),
                "done" => report.done = rest.parse().expect("count"),
                "errors" => {}
                "window" => {
                    let (start, end) = rest.split_once(' ').expect("two times");
                    report.window = (start.parse().expect("ms"), end.parse().expect("ms"));
                }
                "error" => report.errors.push(rest.to_owned()),
                id => report.fresh.push(id.parse().unwrap_or_else(|_| panic!("bad line {line:?}"))),
            }
        }
        report
    }
}

/// `RACE_THREADS` threads sharing one store claim every id in the same order, starting at `go_at_ms`.
fn race(url: &str, prefix: &str, go_at_ms: u64) -> RaceReport {
    let store = Arc::new(RedisStore::with_options(url, options(prefix)).expect("URL"));
    let barrier = Arc::new(Barrier::new(RACE_THREADS));
    let threads: Vec<_> = (0..RACE_THREADS)
        .map(|_| {
            let (store, barrier) = (Arc::clone(&store), Arc::clone(&barrier));
            std::thread::spawn(move || {
                barrier.wait();
                if let Some(wait) = go_at_ms.checked_sub(now_ms()) {
                    std::thread::sleep(Duration::from_millis(wait));
                }
                let mut report = RaceReport { window: (now_ms(), 0), ..RaceReport::default() };
                for i in 0..RACE_IDS {
                    match store.claim(&format!("evt_{i}"), LONG_LEASE, now_ms()) {
                        Ok(Claim::Fresh(_)) => report.fresh.push(i),
                        Ok(Claim::InProgress) => report.in_progress += 1,
                        Ok(Claim::Done) => report.done += 1,
                        Err(error) => report.errors.push(format!("evt_{i}: {error}")),
                    }
                }
                report.window.1 = now_ms();
                report
            })
        })
        .collect();
    let mut total = RaceReport { window: (u64::MAX, 0), ..RaceReport::default() };
    for thread in threads {
        let report = thread.join().expect("a claiming thread panicked");
        total.fresh.extend(report.fresh);
        total.in_progress += report.in_progress;
        total.done += report.done;
        total.errors.extend(report.errors);
        total.window = (total.window.0.min(report.window.0), total.window.1.max(report.window.1));
    }
    total
}

#[test]
#[ignore = "a helper process of two_processes_claim_each_id_exactly_once"]
fn helper_race_claims_in_a_second_process() {
    let Some(env) = helper_env(RACE_HELPER) else { return };
    let go_at_ms: u64 = std::env::var(ENV_GO_AT_MS).expect(ENV_GO_AT_MS).parse().expect("a number");
    let late = now_ms().saturating_sub(go_at_ms);
    let report = race(&env[ENV_URL], &env[ENV_PREFIX], go_at_ms);
    std::fs::write(&env[ENV_OUT], report.to_text()).expect("write the report");
    println!("helper: {} fresh, started {late} ms late", report.fresh.len());
}

#[test]
fn two_processes_claim_each_id_exactly_once() {
    let _exclusive = heavy();
    let server = RedisServer::start();
    let prefix = unique("race");
    let out = temp_file("anchor-redis-race");
    let started = Instant::now();
    // Both processes start claiming at the same instant (a child test binary starts in well under 1 s).
    let go_at_ms = now_ms() + 1_000;
    let child = run_helper(
        RACE_HELPER,
        &[
            (ENV_URL, server.url()),
            (ENV_PREFIX, prefix.clone()),
            (ENV_OUT, out.display().to_string()),
            (ENV_GO_AT_MS, go_at_ms.to_string()),
        ],
    );
    let parent = race(&server.url(), &prefix, go_at_ms);
    let output = child.wait_with_output().expect("wait for the helper");
    assert_helper_succeeded(RACE_HELPER, &output);
    let text = std::fs::read_to_string(&out).expect("the helper's report");
    let _ = std::fs::remove_file(&out);
    let child = RaceReport::parse(&text);

    for (who, report) in [("parent", &parent), ("child", &child)] {
        assert!(
            report.errors.is_empty(),
            "{who}: store errors: {:?}",
            &report.errors[..report.errors.len().min(5)]
        );
        assert_eq!(report.done, 0, "{who}: nothing was completed, yet some claims said Done");
        let answers = report.fresh.len() + report.in_progress;
        assert_eq!(answers, RACE_THREADS * RACE_IDS as usize, "{who}: every claim answered once");
    }
    let mut fresh_count = vec![0u8; RACE_IDS as usize];
    for &id in parent.fresh.iter().chain(&child.fresh) {
        fresh_count[id as usize] += 1;
    }
    let wrong: Vec<(usize, u8)> = fresh_count.iter().copied().enumerate().filter(|&(_, n)| n != 1).collect();
    assert!(
        wrong.is_empty(),
        "{} ids were not Fresh exactly once (id, times): {:?}",
        wrong.len(),
        &wrong[..wrong.len().min(20)]
    );
    let helper_line = String::from_utf8_lossy(&output.stdout)
        .lines()
        .find_map(|line| line.split_once("helper: ").map(|(_, rest)| rest.to_owned()))
        .unwrap_or_default();
    // Both processes really raced: they were claiming at the same time. (How the ids split is not
    // asserted: claiming in the same order, the process that gets ahead can win nearly every id.)
    let ((parent_from, parent_to), (child_from, child_to)) = (parent.window, child.window);
    assert!(
        parent_from < child_to && child_from < parent_to,
        "the processes never claimed at the same time: parent {parent_from}..{parent_to} ms, child \
         {child_from}..{child_to} ms (child: {helper_line})"
    );
    assert_eq!(server.keys(0, &format!("{prefix}:*")).len(), RACE_IDS as usize);
    println!(
        "race: {} ids, 2 processes x {RACE_THREADS} threads, parent won {}, child won {} (child: {helper_line}), {:.1} s",
        RACE_IDS,
        parent.fresh.len(),
        child.fresh.len(),
        started.elapsed().as_secs_f64()
    );
}

// ---------------------------------------------------------------------------------------------------
// Leases, release, TTL, lost leases

#[test]
fn a_live_lease_is_in_progress_and_an_expired_one_can_be_claimed_again() {
    let _timing = timing();
    let server = RedisServer::start();
    let store = store(&server, &unique("lease"));
    // 1 s: the lease must still be live for the InProgress checks right after each claim, even when this
    // thread or the redis-server is descheduled for a while (200 ms was not enough next to the hammering
    // tests). Waiting longer than the lease is always safe.
    let lease = Duration::from_secs(1);
    let first = fresh(store.claim("evt_1", lease, now_ms()));
    assert_eq!(store.claim("evt_1", lease, now_ms()).unwrap(), Claim::InProgress);
    assert_eq!(store.claim("evt_1", lease, now_ms()).unwrap(), Claim::InProgress);
    std::thread::sleep(Duration::from_millis(1300));
    let second = fresh(store.claim("evt_1", lease, now_ms()));
    assert_ne!(first, second, "each claim gets its own token");
    assert_eq!(store.claim("evt_1", lease, now_ms()).unwrap(), Claim::InProgress);
}

#[test]
fn release_after_failure_lets_the_retry_through() {
    let server = RedisServer::start();
    let store = store(&server, &unique("release"));
    let token = fresh(store.claim("evt_1", LONG_LEASE, now_ms()));
    assert!(store.release("evt_1", token, now_ms()).unwrap());
    assert!(!store.release("evt_1", token, now_ms()).unwrap(), "released twice");
    let retry = fresh(store.claim("evt_1", LONG_LEASE, now_ms()));
    assert!(
        !store.release("evt_1", token, now_ms()).unwrap(),
        "the old token must not free the retry's claim"
    );
    assert_eq!(store.claim("evt_1", LONG_LEASE, now_ms()).unwrap(), Claim::InProgress);
    assert!(store.complete("evt_1", retry, now_ms()).unwrap());
    assert_eq!(store.claim("evt_1", LONG_LEASE, now_ms()).unwrap(), Claim::Done);
    // A done id cannot be released (by any token): it stays done.
    assert!(!store.release("evt_1", retry, now_ms()).unwrap());
    assert_eq!(store.claim("evt_1", LONG_LEASE, now_ms()).unwrap(), Claim::Done);
    // Releasing an id nobody holds is simply false, and leaves it claimable.
    assert!(!store.release("evt_never", token, now_ms()).unwrap());
    assert_eq!(
        store.claim("evt_never", LONG_LEASE, now_ms()).map(|c| matches!(c, Claim::Fresh(_))),
        Ok(true)
    );
}

#[test]
fn completed_ids_are_done_until_the_ttl_then_fresh() {
    let _timing = timing();
    let server = RedisServer::start();
    let prefix = unique("ttl");
    // 2 s: the Done claim, PTTL and GET below (two of them on new connections) must all run before the
    // marker expires, even on a loaded machine; still far below LONG_LEASE, so the PTTL bound shows that
    // the TTL, not the lease, set the expiry.
    let options = RedisOptions { done_ttl: Duration::from_secs(2), ..options(&prefix) };
    let store = RedisStore::with_options(&server.url(), options).unwrap();
    let token = fresh(store.claim("evt_1", LONG_LEASE, now_ms()));
    assert!(store.complete("evt_1", token, now_ms()).unwrap());
    assert_eq!(store.claim("evt_1", LONG_LEASE, now_ms()).unwrap(), Claim::Done);
    // The done marker's expiry is the TTL, not the (long) lease it replaced.
    let key = format!("{prefix}:{}", sha256_hex("evt_1"));
    match server.command(&["PTTL", &key]) {
        Resp::Integer(ms) => assert!((1..=2000).contains(&ms), "PTTL of the done marker: {ms}"),
        other => panic!("PTTL: {other:?}"),
    }
    let marker = server.command(&["GET", &key]).into_text();
    assert!(
        marker.strip_prefix("done:").is_some_and(|token| is_lower_hex(token, 32)),
        "the done marker carries the completing claim's token: {marker:?}"
    );
    std::thread::sleep(Duration::from_millis(2200));
    fresh(store.claim("evt_1", LONG_LEASE, now_ms()));
}

#[test]
fn a_lost_lease_can_neither_complete_nor_release() {
    let _timing = timing();
    let server = RedisServer::start();
    let store = store(&server, &unique("lost"));
    let lease = Duration::from_millis(200);
    let first = fresh(store.claim("evt_1", lease, now_ms()));
    std::thread::sleep(Duration::from_millis(300));
    let second = fresh(store.claim("evt_1", LONG_LEASE, now_ms()));
    assert!(!store.complete("evt_1", first, now_ms()).unwrap(), "complete with a lost lease");
    assert!(!store.release("evt_1", first, now_ms()).unwrap(), "release with a lost lease");
    // The second worker's claim is intact.
    assert_eq!(store.claim("evt_1", LONG_LEASE, now_ms()).unwrap(), Claim::InProgress);
    assert!(store.complete("evt_1", second, now_ms()).unwrap());
    assert!(!store.complete("evt_1", first, now_ms()).unwrap(), "a stale token must not touch a done id");
    // The same claim completing again is the retry of a complete whose answer was lost (a timeout, a
    // dropped connection) after it reached the server: its own completion, not a lost claim.
    assert!(store.complete("evt_1", second, now_ms()).unwrap(), "a complete sent again");
    assert_eq!(store.claim("evt_1", LONG_LEASE, now_ms()).unwrap(), Claim::Done);
    // The worker's lease expired without anyone else claiming: its handler did run, so completing
    // records the id done (the one rule of every store), and a redelivery is a duplicate.
    let third = fresh(store.claim("evt_2", lease, now_ms()));
    std::thread::sleep(Duration::from_millis(300));
    assert!(store.complete("evt_2", third, now_ms()).unwrap(), "complete after the lease expired");
    assert_eq!(store.claim("evt_2", LONG_LEASE, now_ms()).unwrap(), Claim::Done);
    assert!(!store.release("evt_2", third, now_ms()).unwrap(), "a done id cannot be released");
}

/// Connections the server closed while they sat idle in the pool (its `timeout`, a restart) cost no
/// delivery a 503: the call tries once more on a new connection.
#[test]
fn pooled_connections_the_server_closed_are_replaced_without_a_failure() {
    let _timing = timing();
    let mut server = RedisServer::start();
    let store = store(&server, &unique("idle"));
    server.command(&["CONFIG", "SET", "timeout", "1"]);
    let token = fresh(store.claim("evt_1", LONG_LEASE, now_ms()));
    // Redis closes clients idle for over 1 s on its next check (it checks all clients within a second).
    std::thread::sleep(Duration::from_millis(3_000));
    assert!(store.complete("evt_1", token, now_ms()).unwrap(), "after an idle cut");
    assert_eq!(store.claim("evt_1", LONG_LEASE, now_ms()).unwrap(), Claim::Done);
    server.restart();
    fresh(store.claim("evt_2", LONG_LEASE, now_ms()));
}

/// A server before Redis 7.0 refuses `SET ... NX ... GET` as a syntax error: the message says which version
/// the store needs. (A fake server answering every command so: no Redis 6 is installed here.)
#[test]
fn a_server_older_than_redis_7_is_named_in_the_error() {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for mut connection in listener.incoming().flatten() {
            let mut buffer = [0u8; 4096];
            // Every command is one RESP array: answer each `*` that starts a request with the error.
            while let Ok(read @ 1..) = connection.read(&mut buffer) {
                let commands =
                    buffer[..read].split(|&b| b == b'\n').filter(|line| line.starts_with(b"*")).count();
                for _ in 0..commands {
                    if connection.write_all(b"-ERR syntax error\r\n").is_err() {
                        return;
                    }
                }
            }
        }
    });
    let store = RedisStore::open(&format!("redis://127.0.0.1:{port}")).unwrap();
    let error = assert_unavailable(store.claim("evt_1", LONG_LEASE, now_ms()), "an old server");
    assert!(
        error.to_string().ends_with(
            "(claims use SET with both NX and GET, which needs Redis 7.0 or later); answer 503 so the sender retries"
        ),
        "{error}"
    );
    // The check finds it before any delivery: the claim is its first command after connecting.
    assert_misconfigured(
        store.check(),
        "redis: ERR syntax error (claims use SET with both NX and GET, which needs Redis 7.0 or later)",
    );
}

#[test]
fn tokens_are_unique_and_only_the_holder_acts() {
    let server = RedisServer::start();
    let store = store(&server, &unique("tokens"));
    let mut tokens = std::collections::HashSet::new();
    for i in 0..200 {
        let token = fresh(store.claim(&format!("evt_{i}"), LONG_LEASE, now_ms()));
        assert!(tokens.insert(token.value()), "token reused");
    }
    let holder = fresh(store.claim("evt_x", LONG_LEASE, now_ms()));
    let forged = ClaimToken::new(holder.value() ^ 1);
    assert!(!store.complete("evt_x", forged, now_ms()).unwrap());
    assert!(!store.release("evt_x", forged, now_ms()).unwrap());
    assert!(!store.complete("evt_x", ClaimToken::new(0), now_ms()).unwrap());
    assert!(store.complete("evt_x", holder, now_ms()).unwrap());
}

// ---------------------------------------------------------------------------------------------------
// Keys, URLs, passwords

#[test]
fn keys_are_the_prefix_and_the_sha256_of_the_id_never_the_raw_id() {
    let server = RedisServer::start();
    let prefix = unique("keys");
    let store = store(&server, &prefix);
    let long = "x".repeat(10_000);
    let ids = [
        "evt with spaces",
        "line\nbreak\r\nand\ttab",
        "ünïcødé ✓ 事件 🚀",
        "*",
        "keys:injection:* \r\n*1\r\n$8\r\nFLUSHALL\r\n",
        "",
        long.as_str(),
    ];
    let mut tokens = Vec::new();
    for id in ids {
        tokens.push(fresh(store.claim(id, LONG_LEASE, now_ms())));
        assert_eq!(store.claim(id, LONG_LEASE, now_ms()).unwrap(), Claim::InProgress, "{id:?}");
    }
    assert!(store.complete(ids[0], tokens[0], now_ms()).unwrap());

    let keys = server.keys(0, "*");
    let mut expected: Vec<String> = ids.iter().map(|id| format!("{prefix}:{}", sha256_hex(id))).collect();
    expected.sort();
    assert_eq!(keys, expected, "the only keys are {{prefix}}:{{hex sha256(id)}}");
    for key in &keys {
        let hash = key.strip_prefix(&format!("{prefix}:")).expect("the prefix");
        assert!(is_lower_hex(hash, 64), "{key:?}");
        let value = server.command(&["GET", key]).into_text();
        let done_marker = value.strip_prefix("done:").is_some_and(|token| is_lower_hex(token, 32));
        assert!(done_marker || is_lower_hex(&value, 32), "value {value:?} is a token or the done marker");
    }
    assert_eq!(store.claim(ids[0], LONG_LEASE, now_ms()).unwrap(), Claim::Done);
    // The default prefix.
    let default_store = RedisStore::open(&server.url()).unwrap();
    fresh(default_store.claim("evt_default", LONG_LEASE, now_ms()));
    assert_eq!(
        server.keys(0, "anchor-webhooks:dedupe:*"),
        [format!("anchor-webhooks:dedupe:{}", sha256_hex("evt_default"))]
    );
}

#[test]
fn a_url_with_a_password_and_a_db_index_works() {
    const PASSWORD: &str = "s3cret-Pa55word";
    const WRONG: &str = "wrong-Pa55word";
    let server = RedisServer::start_with_password(PASSWORD);
    let prefix = unique("auth");
    let url = format!("redis://:{PASSWORD}@127.0.0.1:{}/3", server.port());
    let store = RedisStore::with_options(&url, options(&prefix)).unwrap();
    let token = fresh(store.claim("evt_1", LONG_LEASE, now_ms()));
    assert!(store.complete("evt_1", token, now_ms()).unwrap());
    assert_eq!(store.claim("evt_1", LONG_LEASE, now_ms()).unwrap(), Claim::Done);
    // The key lives in db 3, not db 0.
    assert_eq!(server.keys(3, &format!("{prefix}:*")), [format!("{prefix}:{}", sha256_hex("evt_1"))]);
    assert!(server.keys(0, "*").is_empty());
    let debug = format!("{store:?}");
    assert!(!debug.contains(PASSWORD), "the password leaked into Debug: {debug}");

    let wrong = RedisStore::with_options(
        &format!("redis://:{WRONG}@127.0.0.1:{}/3", server.port()),
        options(&prefix),
    )
    .expect("only the URL is checked when opening");
    let no_password =
        RedisStore::with_options(&format!("redis://127.0.0.1:{}/3", server.port()), options(&prefix))
            .unwrap();
    for (name, store) in [("wrong password", &wrong), ("no password", &no_password)] {
        let error = assert_unavailable(store.claim("evt_2", LONG_LEASE, now_ms()), name);
        for text in [error.to_string(), format!("{error:?}")] {
            assert!(!text.contains(WRONG) && !text.contains(PASSWORD), "{name}: secret in {text}");
        }
        assert_unavailable(store.complete("evt_1", token, now_ms()), name);
        assert_unavailable(store.release("evt_1", token, now_ms()), name);
    }
    // Nothing was written by the refused stores.
    assert_eq!(server.keys(3, "*").len(), 1);
}

#[test]
fn a_bad_url_is_a_configuration_error() {
    for url in ["", "not a url", "http://127.0.0.1:6379/0", "redis://127.0.0.1:notaport/0", "redis://:pw@/"] {
        match RedisStore::open(url) {
            Err(error) => {
                assert_eq!(error.option(), "url", "{url:?}: {error}");
                assert_eq!(
                    error.to_string(),
                    "invalid Redis URL: expected redis:// or rediss://[username:password@]host[:port][/db]"
                );
            }
            Ok(store) => {
                // Some shapes only fail when used; they still must never be Fresh.
                assert_unavailable(store.claim("evt_1", LONG_LEASE, now_ms()), url);
            }
        }
    }
    let options = RedisOptions { key_prefix: "x".into(), ..RedisOptions::default() };
    assert_eq!(RedisStore::with_options("nope://", options).unwrap_err().option(), "url");
}

/// URLs that would break a promise of the store are refused when it is built: a Unix socket (connected
/// without a timeout) and a user without a password (redis-rs would send no AUTH: the `default` user's
/// rights instead of the named user's).
#[test]
fn unix_socket_urls_and_a_user_without_a_password_are_refused() {
    for url in ["unix:///tmp/redis.sock", "redis+unix:///tmp/redis.sock?db=1"] {
        let error = RedisStore::open(url).unwrap_err();
        assert_eq!(error.option(), "url");
        assert_eq!(
            error.to_string(),
            "invalid Redis URL: Unix socket URLs are not supported (their connect has no timeout); use \
             redis://127.0.0.1:6379",
            "{url}"
        );
    }
    let error = RedisStore::open("redis://bob@127.0.0.1:6379/0").unwrap_err();
    assert_eq!(
        error.to_string(),
        "invalid Redis URL: it names a user but no password; write redis://username:password@host (a user \
         with `nopass` accepts any password)"
    );
    assert!(RedisStore::open("redis://bob:pw@127.0.0.1:6379/0").is_ok());
}

/// A done marker written by an earlier version (plain `done`, without the completing claim's token) still
/// answers `Done`.
#[test]
fn a_done_marker_without_a_token_is_still_done() {
    let server = RedisServer::start();
    let prefix = unique("legacy-done");
    let store = store(&server, &prefix);
    let key = format!("{prefix}:{}", sha256_hex("evt_1"));
    server.command(&["SET", &key, "done"]);
    assert_eq!(store.claim("evt_1", LONG_LEASE, now_ms()).unwrap(), Claim::Done);
}

/// A host that runs the store's calls on a bounded set of threads (the Node binding) answers a call that
/// waited for one longer than the timeout with this error instead of sending it; no server is needed.
#[test]
fn a_call_left_waiting_for_a_thread_is_store_unavailable_naming_the_threads_and_the_timeout() {
    let with_timeout = |timeout| {
        let options = RedisOptions { timeout, ..options("busy") };
        RedisStore::with_options("redis://127.0.0.1:1/0", options).unwrap()
    };
    let store = with_timeout(Duration::from_millis(500));
    let error = store.threads_busy(64);
    assert_eq!((error.code(), error.http_status()), (ErrorCode::StoreUnavailable, 503));
    assert_eq!(
        error.to_string(),
        "dedupe store unavailable: redis: all 64 threads calling Redis were busy for longer than the 500 ms \
         timeout, so this call was not sent (Redis is slow or unreachable); answer 503 so the sender retries"
    );
    let check = with_timeout(Duration::from_millis(1500)).threads_busy_check(1);
    assert_eq!(check.kind(), RedisCheckErrorKind::Unavailable);
    assert_eq!(
        check.to_string(),
        "redis: the one thread calling Redis was busy for longer than the 1.5 s timeout, so this call was not \
         sent (Redis is slow or unreachable)"
    );
}

/// `#insecure` (accept any certificate) would be accepted by redis-rs' URL parser and then fail every
/// connection of this build, after the handler ran: it is refused when the store is built. So are TLS
/// roots that could never be used.
#[test]
fn insecure_tls_and_unusable_tls_roots_are_configuration_errors() {
    for url in ["rediss://127.0.0.1:6380/#insecure", "rediss://:pw@127.0.0.1:6380/2#insecure"] {
        let error = RedisStore::open(url).unwrap_err();
        assert_eq!(error.option(), "url", "{url}");
        assert_eq!(
            error.to_string(),
            "invalid Redis URL: #insecure (TLS that accepts any server certificate) is not supported by this \
             build; trust the server's CA with tls_root_certificates instead"
        );
    }
    // Any other fragment is a malformed URL (redis-rs knows only #insecure).
    let error = RedisStore::open("rediss://127.0.0.1:6380/#verify").unwrap_err();
    assert_eq!(
        error.to_string(),
        "invalid Redis URL: expected redis:// or rediss://[username:password@]host[:port][/db]"
    );

    let with_roots = |roots: &[u8]| RedisOptions {
        tls_root_certificates: Some(roots.to_vec()),
        ..RedisOptions::default()
    };
    let pem = redis_support::test_ca_pem();
    let error = RedisStore::with_options("redis://127.0.0.1:6379/0", with_roots(&pem)).unwrap_err();
    assert_eq!(error.option(), "tls_root_certificates");
    assert_eq!(error.to_string(), "TLS root certificates need a rediss:// URL, not redis://");
    for not_pem in
        [&b""[..], b"not a certificate", b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"]
    {
        let error = RedisStore::with_options("rediss://127.0.0.1:6380/0", with_roots(not_pem)).unwrap_err();
        assert_eq!(error.option(), "tls_root_certificates");
        assert_eq!(
            error.to_string(),
            "invalid TLS root certificates: expected PEM with at least one CERTIFICATE block"
        );
    }
    RedisStore::with_options("rediss://127.0.0.1:6380/0", with_roots(&pem)).expect("a PEM certificate");
}

#[test]
fn a_done_ttl_or_timeout_outside_its_range_is_refused_naming_the_option() {
    let url = "redis://127.0.0.1:6379/0";
    let zero_ttl = RedisOptions { done_ttl: Duration::ZERO, ..RedisOptions::default() };
    let zero_timeout = RedisOptions { timeout: Duration::ZERO, ..RedisOptions::default() };
    for (options, name, setting) in
        [(zero_ttl, "done_ttl", Setting::DoneTtl), (zero_timeout, "timeout", Setting::Timeout)]
    {
        let error = RedisStore::with_options(url, options).unwrap_err();
        assert_eq!(error.option(), name);
        let reason = setting.check(Duration::ZERO).unwrap_err();
        assert_eq!(error.to_string(), format!("invalid Redis option: {name} {reason}"));
    }
}

#[test]
fn opening_does_not_connect_and_an_unreachable_server_is_store_unavailable() {
    let _timing = timing();
    // A port nobody listens on: opening succeeds (no network), every call fails fast.
    let port = redis_support::free_port();
    let timeout = Duration::from_millis(500);
    let unreachable = RedisOptions { timeout, ..options(&unique("unreachable")) };
    let store = RedisStore::with_options(&format!("redis://127.0.0.1:{port}/0"), unreachable).unwrap();
    for _ in 0..3 {
        let started = Instant::now();
        assert_unavailable(store.claim("evt_1", LONG_LEASE, now_ms()), "claim");
        assert_unavailable(store.complete("evt_1", ClaimToken::new(1), now_ms()), "complete");
        assert_unavailable(store.release("evt_1", ClaimToken::new(1), now_ms()), "release");
        assert!(started.elapsed() < 3 * (timeout + Duration::from_millis(500)), "{:?}", started.elapsed());
    }
    // The server comes up later: the same store starts working.
    let _server = RedisServer::start_on_port(port);
    let token = fresh(store.claim("evt_1", LONG_LEASE, now_ms()));
    assert!(store.complete("evt_1", token, now_ms()).unwrap());
}

// ---------------------------------------------------------------------------------------------------
// The server dies, hangs, comes back

/// What one call did while the server was being killed.
#[derive(Debug)]
struct Call {
    started: Instant,
    took: Duration,
    result: Result<&'static str, ErrorCode>,
}

fn kind(claim: &Claim) -> &'static str {
    match claim {
        Claim::Fresh(_) => "fresh",
        Claim::InProgress => "in_progress",
        Claim::Done => "done",
    }
}

/// The store's timeout in the killed and hung server tests. 1 s rather than 500 ms: before the kill,
/// a live server stalled by the load must still answer in time (those calls must be `Fresh`).
const OUTAGE_TIMEOUT: Duration = Duration::from_secs(1);
/// Every call on a dead or hung server must fail within this. 900 ms over the timeout leaves room for a
/// descheduled thread, and stays under 2 x the timeout, so a call that waits a full timeout twice (once
/// per reply, or a retry on a new connection) instead of once per call still fails the test.
const OUTAGE_BOUND: Duration = Duration::from_millis(1900);

#[test]
fn a_killed_server_is_store_unavailable_within_the_timeout_and_the_same_store_recovers() {
    let _timing = timing();
    let mut server = RedisServer::start();
    let (timeout, bound) = (OUTAGE_TIMEOUT, OUTAGE_BOUND);
    let prefix = unique("kill");
    let store = Arc::new(
        RedisStore::with_options(
            &server.url(),
            RedisOptions { timeout, max_idle_connections: 8, ..options(&prefix) },
        )
        .unwrap(),
    );
    // A claim held across the crash.
    let held = fresh(store.claim("evt_held", LONG_LEASE, now_ms()));

    // Four threads claim new ids without pause; the server is killed under them.
    let stop = Arc::new(AtomicBool::new(false));
    let calls = Arc::new(Mutex::new(Vec::<Call>::new()));
    let counter = Arc::new(AtomicUsize::new(0));
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let (store, stop, calls, counter) =
                (Arc::clone(&store), Arc::clone(&stop), Arc::clone(&calls), Arc::clone(&counter));
            std::thread::spawn(move || {
                let mut mine = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    let i = counter.fetch_add(1, Ordering::Relaxed);
                    let started = Instant::now();
                    let result = store.claim(&format!("evt_{t}_{i}"), LONG_LEASE, now_ms());
                    let took = started.elapsed();
                    let failed = result.is_err();
                    mine.push(Call { started, took, result: result.as_ref().map(kind).map_err(Error::code) });
                    if failed {
                        std::thread::sleep(Duration::from_millis(5));
                    }
                }
                calls.lock().unwrap().extend(mine);
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let killing = Instant::now();
    server.stop();
    let killed = Instant::now();
    std::thread::sleep(Duration::from_millis(1_500));
    stop.store(true, Ordering::Relaxed);
    for thread in threads {
        thread.join().expect("no panic in a claiming thread");
    }
    let calls = std::mem::take(&mut *calls.lock().unwrap());
    let before = calls.iter().filter(|c| c.started + c.took < killing).count();
    let after: Vec<&Call> = calls.iter().filter(|c| c.started >= killed).collect();
    assert!(before > 10, "the server was killed mid-run: {before} calls succeeded before");
    assert!(after.len() > 10, "calls went on while the server was down: {}", after.len());
    for call in &calls {
        assert!(call.took < bound, "a call took {:?} (timeout {timeout:?}): {call:?}", call.took);
        if call.started + call.took < killing {
            assert_eq!(call.result, Ok("fresh"), "before the kill: {call:?}");
        }
    }
    for call in &after {
        assert_eq!(call.result, Err(ErrorCode::StoreUnavailable), "after the kill: {call:?}");
    }
    for (what, result) in [
        ("complete", store.complete("evt_held", held, now_ms()).map(|_| ())),
        ("release", store.release("evt_held", held, now_ms()).map(|_| ())),
        ("claim", store.claim("evt_held", LONG_LEASE, now_ms()).map(|_| ())),
    ] {
        let started = Instant::now();
        assert_unavailable(result, what);
        assert!(started.elapsed() < bound);
    }

    // The server comes back (empty: it had no persistence). The same store object recovers.
    server.restart();
    let token = fresh(store.claim("evt_after", LONG_LEASE, now_ms()));
    assert_eq!(store.claim("evt_after", LONG_LEASE, now_ms()).unwrap(), Claim::InProgress);
    assert!(store.complete("evt_after", token, now_ms()).unwrap());
    assert_eq!(store.claim("evt_after", LONG_LEASE, now_ms()).unwrap(), Claim::Done);
    // The claim held across the crash is gone with the server's memory. Its handler did run and no other
    // claim is recorded, so completing records the id done, and a redelivery is a duplicate.
    assert!(store.complete("evt_held", held, now_ms()).unwrap());
    assert_eq!(store.claim("evt_held", LONG_LEASE, now_ms()).unwrap(), Claim::Done);
    println!(
        "kill: {before} calls before, {} after (slowest {:?})",
        after.len(),
        calls.iter().map(|c| c.took).max().unwrap_or_default()
    );
}

/// Freezes the server (SIGSTOP: the kernel still accepts connections, nothing answers) and checks every
/// call fails with `store_unavailable` within `OUTAGE_BOUND` (under 2 x the timeout), whether it uses a
/// pooled connection or has to connect (which, for a URL with a password and a db, takes several setup
/// round trips).
fn hung_server_case(password: Option<&str>, db: u32) {
    let _timing = timing();
    let server = RedisServer::start_with(password, &[]);
    let (timeout, bound) = (OUTAGE_TIMEOUT, OUTAGE_BOUND);
    let store = RedisStore::with_options(
        &server.url_with_db(db),
        RedisOptions { timeout, ..options(&unique("hang")) },
    )
    .unwrap();
    let held = fresh(store.claim("evt_held", LONG_LEASE, now_ms()));
    fresh(store.claim("evt_warm", LONG_LEASE, now_ms()));

    server.pause();
    let mut calls = Vec::new();
    for i in 0..3 {
        for (what, result, took) in [
            timed("claim", || store.claim(&format!("evt_hung_{i}"), LONG_LEASE, now_ms()).map(|c| kind(&c))),
            timed("complete", || store.complete("evt_held", held, now_ms()).map(|_| "")),
            timed("release", || store.release("evt_held", held, now_ms()).map(|_| "")),
        ] {
            calls.push((what, result.map_err(|e| e.code()), took));
        }
    }
    server.resume();
    let slowest = calls.iter().map(|c| c.2).max().unwrap_or_default();
    println!(
        "hang (password {}, db {db}): calls took {:?}",
        password.is_some(),
        calls.iter().map(|c| c.2).collect::<Vec<_>>()
    );
    for (what, result, took) in &calls {
        assert_eq!(*result, Err(ErrorCode::StoreUnavailable), "{what} on a hung server");
        assert!(
            *took < bound,
            "{what} on a hung server took {took:?}, timeout {timeout:?}; every call: {calls:?}"
        );
    }

    // Connections that timed out must not be reused: their late replies would answer the next command.
    for i in 0..20 {
        let id = format!("evt_after_{i}");
        let token = fresh(store.claim(&id, LONG_LEASE, now_ms()));
        assert_eq!(store.claim(&id, LONG_LEASE, now_ms()).unwrap(), Claim::InProgress, "{id}");
        if i % 2 == 0 {
            assert!(store.complete(&id, token, now_ms()).unwrap(), "{id}");
            assert_eq!(store.claim(&id, LONG_LEASE, now_ms()).unwrap(), Claim::Done, "{id}");
        } else {
            assert!(store.release(&id, token, now_ms()).unwrap(), "{id}");
            assert!(!store.release(&id, token, now_ms()).unwrap(), "{id}");
        }
    }
    println!("hang: slowest failing call {slowest:?} (timeout {timeout:?})");
}

#[test]
fn a_hung_server_is_store_unavailable_within_the_timeout_and_replies_never_get_mixed_up() {
    hung_server_case(None, 0);
}

#[test]
fn a_hung_server_behind_a_password_and_a_db_is_store_unavailable_within_the_timeout() {
    hung_server_case(Some("hung-Pa55word"), 2);
}

fn timed<T>(
    what: &'static str,
    call: impl FnOnce() -> Result<T, Error>,
) -> (&'static str, Result<T, Error>, Duration) {
    let started = Instant::now();
    let result = call();
    (what, result, started.elapsed())
}

#[test]
fn a_restart_while_idle_costs_no_call_though_every_pooled_connection_is_dead() {
    let _timing = timing();
    let mut server = RedisServer::start();
    let max_idle = 4;
    let store = Arc::new(
        RedisStore::with_options(
            &server.url(),
            RedisOptions { max_idle_connections: max_idle, ..options(&unique("idle")) },
        )
        .unwrap(),
    );
    // Fill the pool: `max_idle` threads hold a connection each at the same moment.
    let barrier = Arc::new(Barrier::new(max_idle));
    let threads: Vec<_> = (0..max_idle)
        .map(|t| {
            let (store, barrier) = (Arc::clone(&store), Arc::clone(&barrier));
            std::thread::spawn(move || {
                for i in 0..50 {
                    barrier.wait();
                    fresh(store.claim(&format!("evt_{t}_{i}"), LONG_LEASE, now_ms()));
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    server.restart();
    // Every pooled connection is dead now. A call that takes one finds out at once and tries again on a
    // new connection: no call fails, and none is Fresh by mistake.
    for i in 0..=max_idle {
        fresh(store.claim(&format!("evt_after_{i}"), LONG_LEASE, now_ms()));
    }
}

// ---------------------------------------------------------------------------------------------------
// Completed ids survive the receiver's restart

const PERSIST_HELPER: &str = "helper_receiver_processes_then_exits";
const PERSIST_DONE: usize = 100;
const PERSIST_CRASHED: usize = 10;
/// 2 s: the restarted receiver checks `in_progress` only with a 1 s margin left on the crashed claims'
/// lease (a new connection and a SET must fit in it), and the helper's claims may be spread out when it
/// is descheduled; waiting out a longer lease only costs time.
const PERSIST_LEASE: Duration = Duration::from_secs(2);

fn delivery(id: &str) -> (Vec<(&'static str, String)>, Vec<u8>) {
    let body = format!(
        r#"{{"id":"{id}","type":"task.completed","created":"2026-05-24T12:18:05.123Z","project_id":"p","text":"t","data":{{}}}}"#
    )
    .into_bytes();
    (sign(Scheme::Anchor, [SECRET], &body, NOW_S).unwrap().into_vec(), body)
}

fn redis_receiver(url: &str, prefix: &str) -> Receiver<RedisStore> {
    let store = RedisStore::with_options(url, options(prefix)).expect("URL");
    Receiver::new(Verifier::anchor([SECRET]).unwrap(), store).with_lease(PERSIST_LEASE).unwrap()
}

#[test]
#[ignore = "a helper process of completed_ids_survive_a_receiver_restart"]
fn helper_receiver_processes_then_exits() {
    let Some(env) = helper_env(PERSIST_HELPER) else { return };
    let receiver = redis_receiver(&env[ENV_URL], &env[ENV_PREFIX]);
    for i in 0..PERSIST_DONE {
        let (headers, body) = delivery(&format!("evt_done_{i}"));
        let outcome = receiver.handle(&headers, &body, NOW_MS, |_| Ok::<(), ()>(()));
        assert_eq!(outcome.kind(), "processed", "{outcome:?}");
    }
    // These are claimed and then the process "crashes": no complete, no release. Every lease starts
    // between `first` and `last` (the loop may be descheduled in between).
    let first_claim_ms = now_ms();
    for i in 0..PERSIST_CRASHED {
        let (headers, body) = delivery(&format!("evt_crashed_{i}"));
        let reception = receiver.receive(&headers, &body, NOW_MS).expect("claimed");
        assert!(matches!(reception, anchor_webhooks::Reception::Fresh(_)), "{reception:?}");
    }
    let last_claim_ms = now_ms();
    std::fs::write(&env[ENV_OUT], format!("ok {first_claim_ms} {last_claim_ms}\n")).expect("write");
    println!("helper: processed {PERSIST_DONE}, abandoned {PERSIST_CRASHED}");
}

#[test]
fn completed_ids_survive_a_receiver_restart() {
    let _timing = timing();
    let server = RedisServer::start();
    let prefix = unique("persist");
    let out = temp_file("anchor-redis-persist");
    let child = run_helper(
        PERSIST_HELPER,
        &[(ENV_URL, server.url()), (ENV_PREFIX, prefix.clone()), (ENV_OUT, out.display().to_string())],
    );
    let output = child.wait_with_output().expect("wait for the helper");
    assert_helper_succeeded(PERSIST_HELPER, &output);
    let report = std::fs::read_to_string(&out).expect("the helper's report");
    let _ = std::fs::remove_file(&out);
    let claims: Vec<u64> = report
        .trim()
        .strip_prefix("ok ")
        .map(|times| times.split(' ').filter_map(|ms| ms.parse().ok()).collect())
        .unwrap_or_default();
    let [first_claim_ms, last_claim_ms] = claims[..] else { panic!("the helper's report: {report}") };

    // A new receiver (a new process in real life; a new store and connection pool here).
    let receiver = redis_receiver(&server.url(), &prefix);
    // The crashed worker's claims are in progress until their lease runs out, then processed once.
    // evt_crashed_0's lease runs until at least first + lease; checked only with 1 s of it left (a new
    // connection and the claim must fit), which is nearly always the case with a 2 s lease.
    let (headers, body) = delivery("evt_crashed_0");
    let lease_ms = PERSIST_LEASE.as_millis() as u64;
    if now_ms() + 1000 < first_claim_ms + lease_ms {
        let outcome = receiver.handle(&headers, &body, NOW_MS, |_| -> Result<(), ()> { panic!("ran early") });
        assert_eq!(outcome.kind(), "in_progress");
    }
    let never = |_: &_| -> Result<(), ()> { panic!("a completed delivery ran again after the restart") };
    for i in 0..PERSIST_DONE {
        let (headers, body) = delivery(&format!("evt_done_{i}"));
        let outcome = receiver.handle(&headers, &body, NOW_MS + 60_000, never);
        assert_eq!((outcome.kind(), outcome.http_status()), ("duplicate", 200), "evt_done_{i}");
    }
    // Every crashed lease ended by last + lease; 200 ms more covers millisecond rounding between the
    // clocks of this process and redis-server.
    if let Some(wait) = (last_claim_ms + lease_ms + 200).checked_sub(now_ms()) {
        std::thread::sleep(Duration::from_millis(wait));
    }
    let runs = AtomicUsize::new(0);
    for i in 0..PERSIST_CRASHED {
        let (headers, body) = delivery(&format!("evt_crashed_{i}"));
        let outcome = receiver.handle(&headers, &body, NOW_MS, |_| {
            runs.fetch_add(1, Ordering::SeqCst);
            Ok::<(), ()>(())
        });
        assert!(
            matches!(outcome, Outcome::Processed { claim_lost: false, .. }),
            "evt_crashed_{i}: {outcome:?}"
        );
    }
    assert_eq!(runs.load(Ordering::SeqCst), PERSIST_CRASHED);
    let (headers, body) = delivery("evt_crashed_0");
    assert_eq!(receiver.handle(&headers, &body, NOW_MS, never).kind(), "duplicate");
}

/// `rediss://` against a real TLS server: trusted through its private CA it works; with the public web
/// roots only, the certificate is refused and the claim is `store_unavailable`, never `Fresh`.
#[test]
fn rediss_with_a_private_ca() {
    let tls = TlsRedis::start();
    let url = tls.url();
    let options = RedisOptions { tls_root_certificates: Some(tls.ca_pem()), ..RedisOptions::default() };
    let trusted = RedisStore::with_options(&url, options).unwrap();
    let Claim::Fresh(token) = trusted.claim("evt_tls", Duration::from_secs(5), 0).unwrap() else {
        panic!("a first claim over TLS is fresh")
    };
    assert!(trusted.complete("evt_tls", token, 0).unwrap());
    assert_eq!(trusted.claim("evt_tls", Duration::from_secs(5), 0).unwrap(), Claim::Done);

    let untrusted = RedisStore::open(&url).unwrap();
    let error = untrusted.claim("evt_tls_2", Duration::from_secs(5), 0).unwrap_err();
    assert_eq!(error.code(), ErrorCode::StoreUnavailable, "{error}");
}

/// The check over TLS: it passes with the private CA trusted, and names the cause of each setup that can
/// never work: the CA not trusted, TLS against the plain-text port, plain text against a TLS port (which
/// drops the connection, or answers with an alert).
#[test]
fn check_over_tls() {
    let _timing = timing();
    let tls = TlsRedis::start();
    let trusted = RedisStore::with_options(
        &tls.url(),
        RedisOptions { tls_root_certificates: Some(tls.ca_pem()), ..options(&unique("tls")) },
    )
    .unwrap();
    assert_eq!(trusted.check(), Ok(()));
    fresh(trusted.claim("evt_tls", LONG_LEASE, now_ms()));

    assert_misconfigured(
        RedisStore::open(&tls.url()).unwrap().check(),
        "redis: the server's TLS certificate is not signed by a trusted CA (invalid peer certificate: \
         UnknownIssuer): trust the CA that signed it with tls_root_certificates",
    );
    // A plain-text port never answers the TLS handshake; a plain-text PING in the deadline's last
    // quarter tells it from a hung server.
    let plain_port = tls.server.port();
    for url in
        [format!("rediss://127.0.0.1:{plain_port}/0"), format!("rediss://:pw@127.0.0.1:{plain_port}/3")]
    {
        let started = Instant::now();
        assert_misconfigured(
            RedisStore::open(&url).unwrap().check(),
            "redis: this port speaks plain-text Redis, not TLS: the TLS handshake got no answer and a \
             plain-text PING did (rediss:// needs the server's tls-port)",
        );
        assert!(started.elapsed() < Duration::from_millis(1500), "{:?}", started.elapsed());
    }
    // Plain text on the TLS port: the server drops the connection. So does a server going down, so this
    // one may pass: the message asks.
    let error =
        RedisStore::open(&format!("redis://127.0.0.1:{}/0", tls.tls_port)).unwrap().check().unwrap_err();
    assert_eq!(error.kind(), RedisCheckErrorKind::Unavailable, "{error}");
    let text = error.to_string();
    assert!(
        text.starts_with("redis: the connection was closed before any answer (")
            && text.ends_with("): is this a TLS port? (then the URL is rediss://)"),
        "{text}"
    );
    // A server that answers plain text with a TLS alert (what some TLS servers do) is not Redis.
    let alerting = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let alerting_port = alerting.local_addr().unwrap().port();
    std::thread::spawn(move || {
        use std::io::{Read, Write};
        for mut connection in alerting.incoming().flatten() {
            let mut request = [0u8; 256];
            let _ = connection.read(&mut request);
            // A fatal protocol_version alert, TLS 1.2 record.
            let _ = connection.write_all(&[0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x46]);
        }
    });
    assert_misconfigured(
        RedisStore::open(&format!("redis://127.0.0.1:{alerting_port}/0")).unwrap().check(),
        "redis: the server's answer is not Redis protocol: is this a TLS port? (then the URL is rediss://)",
    );
    // A hung TLS server answers neither the handshake nor the plain-text PING.
    let timeout = Duration::from_millis(400);
    let hung = RedisStore::with_options(
        &tls.url(),
        RedisOptions { tls_root_certificates: Some(tls.ca_pem()), timeout, ..options(&unique("tls")) },
    )
    .unwrap();
    tls.server.pause();
    let started = Instant::now();
    let result = hung.check();
    let took = started.elapsed();
    tls.server.resume();
    assert_check_unavailable(
        result,
        "redis: the TLS handshake got no answer within 300 ms: is this a TLS port?",
    );
    assert!(took < timeout + Duration::from_millis(500), "{took:?}");
}

// ---------------------------------------------------------------------------------------------------
// The start-up check: a setup that can never work is named before any delivery

/// What the check leaves behind: one probe key under the prefix, which no event id can produce (an
/// event's key is 64 hex digits after the prefix), holding the done marker for a second past the timeout.
#[test]
fn check_passes_on_a_healthy_server_and_leaves_only_a_short_lived_probe_key() {
    let server = RedisServer::start();
    let prefix = unique("check");
    let store = store(&server, &prefix);
    assert_eq!(store.check(), Ok(()));
    let keys = server.keys(0, "*");
    assert_eq!(keys.len(), 1, "{keys:?}");
    let random = keys[0].strip_prefix(&format!("{prefix}:check:")).unwrap_or_else(|| panic!("{keys:?}"));
    assert!(is_lower_hex(random, 32), "{keys:?}");
    assert_eq!(server.command(&["GET", &keys[0]]).into_text(), format!("done:{random}"));
    match server.command(&["PTTL", &keys[0]]) {
        // The default timeout (1 s) plus a second.
        Resp::Integer(ms) => assert!((1..=2000).contains(&ms), "PTTL of the probe key: {ms}"),
        other => panic!("PTTL: {other:?}"),
    }
    // The store works as before, on the connection the check left in the pool.
    let token = fresh(store.claim("evt_1", LONG_LEASE, now_ms()));
    assert!(store.complete("evt_1", token, now_ms()).unwrap());
    assert_eq!(store.check(), Ok(()));
}

/// A server that evicts keys under its `maxmemory` can drop a done marker (every dedupe key has a TTL), and
/// a redelivery then runs its handler again: the check says so. No limit, or `noeviction`, passes; a user
/// that may not run INFO (not among the rules the store needs) passes too (see the next test).
#[test]
fn check_refuses_a_server_that_evicts_keys() {
    let server = RedisServer::start();
    let store = store(&server, &unique("evict"));
    let reason = |policy: &str| {
        format!(
            "redis: the server evicts keys (maxmemory-policy {policy}, maxmemory 100.00M): under memory pressure \
             it can drop a dedupe key (each has a TTL), and a redelivery would then run its handler again; give \
             the store a Redis with maxmemory-policy noeviction, or no maxmemory"
        )
    };
    assert_eq!(
        server.command(&["CONFIG", "SET", "maxmemory-policy", "allkeys-lru"]),
        Resp::Simple("OK".into())
    );
    assert_eq!(store.check(), Ok(()), "no maxmemory: nothing is evicted");
    assert_eq!(server.command(&["CONFIG", "SET", "maxmemory", "100mb"]), Resp::Simple("OK".into()));
    for policy in ["allkeys-lru", "volatile-ttl"] {
        assert_eq!(server.command(&["CONFIG", "SET", "maxmemory-policy", policy]), Resp::Simple("OK".into()));
        assert_misconfigured(store.check(), &reason(policy));
    }
    assert_eq!(
        server.command(&["CONFIG", "SET", "maxmemory-policy", "noeviction"]),
        Resp::Simple("OK".into())
    );
    assert_eq!(store.check(), Ok(()));

    // A server with INFO renamed away (a common hardening) cannot tell its policy: unchecked, not refused.
    let hardened = RedisServer::start_with(None, &["--rename-command", "INFO", "", "--maxmemory", "100mb"]);
    let set = hardened.command(&["CONFIG", "SET", "maxmemory-policy", "allkeys-lru"]);
    assert_eq!(set, Resp::Simple("OK".into()));
    assert_eq!(self::store(&hardened, &unique("evict")).check(), Ok(()));
}

/// A user with exactly the ACL rules the check's messages name passes it, on a db other than 0 too, and
/// the store then works for it.
#[test]
fn a_user_with_exactly_the_named_acl_rules_passes_the_check() {
    let server = RedisServer::start();
    let prefix = unique("acl");
    server.command(&[
        "ACL",
        "SETUSER",
        "dedupe",
        "on",
        ">dedupe-pw",
        &format!("~{prefix}:*"),
        "+set",
        "+get",
        "+del",
        "+evalsha",
        "+script|load",
        "+select",
    ]);
    for db in [0, 4] {
        let url = format!("redis://dedupe:dedupe-pw@127.0.0.1:{}/{db}", server.port());
        let store = RedisStore::with_options(&url, options(&prefix)).unwrap();
        assert_eq!(store.check(), Ok(()), "db {db}");
        let token = fresh(store.claim("evt_1", LONG_LEASE, now_ms()));
        assert!(store.release("evt_1", token, now_ms()).unwrap());
        let token = fresh(store.claim("evt_1", LONG_LEASE, now_ms()));
        assert!(store.complete("evt_1", token, now_ms()).unwrap());
        assert_eq!(store.claim("evt_1", LONG_LEASE, now_ms()).unwrap(), Claim::Done);
    }
}

/// Each missing right is named, with every rule the store needs: the first one missing stops the check.
/// (Without the check, a user that may SET but not run scripts claims every event, runs the handler, and
/// fails to record it as done: each retry runs the handler again.)
#[test]
fn check_names_the_missing_acl_right() {
    let server = RedisServer::start();
    let prefix = unique("noperm");
    let needs = |select: &str| {
        format!(
            "the dedupe store needs the ACL rules +set +get +del +evalsha +script|load{select} ~{prefix}:*"
        )
    };
    let cases: [(&str, &[&str], u32, String); 6] = [
        (
            "noeval",
            &["~*", "+set", "+get"],
            0,
            format!("redis: this user may not run SCRIPT LOAD (NOPERM); {}", needs("")),
        ),
        (
            "noevalsha",
            &["~*", "+set", "+get", "+del", "+script|load"],
            0,
            format!("redis: this user may not run EVALSHA (NOPERM); {}", needs("")),
        ),
        (
            "noset",
            &["~*", "+get", "+del", "+evalsha", "+script|load"],
            0,
            format!("redis: this user may not run SET (NOPERM); {}", needs("")),
        ),
        (
            "nodel",
            &["~*", "+set", "+get", "+evalsha", "+script|load"],
            0,
            format!(
                "redis: this user may not run what the store's scripts call (GET, SET, DEL on its keys); {}",
                needs("")
            ),
        ),
        (
            "otherkeys",
            &["~other:*", "+@all"],
            0,
            format!("redis: this user may not use the keys {prefix}:* (NOPERM); {}", needs("")),
        ),
        (
            "noselect",
            &["~*", "+set", "+get", "+del", "+evalsha", "+script|load"],
            2,
            format!("redis: this user may not run SELECT (NOPERM); {}", needs(" +select")),
        ),
    ];
    for (user, rules, db, reason) in cases {
        let mut command = vec!["ACL", "SETUSER", user, "on", ">user-pw"];
        command.extend_from_slice(rules);
        assert_eq!(server.command(&command), Resp::Simple("OK".into()), "{user}");
        let url = format!("redis://{user}:user-pw@127.0.0.1:{}/{db}", server.port());
        let store = RedisStore::with_options(&url, options(&prefix)).unwrap();
        assert_misconfigured(store.check(), &reason);
    }
}

#[test]
fn check_names_a_wrong_password_a_missing_one_and_one_too_many() {
    const PASSWORD: &str = "check-Pa55word";
    const WRONG: &str = "wrong-Pa55word";
    let server = RedisServer::start_with_password(PASSWORD);
    let port = server.port();
    let cases = [
        (
            format!("redis://:{WRONG}@127.0.0.1:{port}/0"),
            "redis: wrong user name or password, or the user is disabled (WRONGPASS)",
        ),
        (
            format!("redis://default:{WRONG}@127.0.0.1:{port}/0"),
            "redis: wrong user name or password, or the user is disabled (WRONGPASS)",
        ),
        (
            format!("redis://127.0.0.1:{port}/0"),
            "redis: the server needs a password and the URL has none (NOAUTH): redis://[username]:password@host",
        ),
    ];
    for (url, reason) in &cases {
        let result = RedisStore::open(url).unwrap().check();
        let text = format!("{result:?}");
        assert!(!text.contains(WRONG) && !text.contains(PASSWORD), "a secret in {text}");
        assert_misconfigured(result, reason);
    }
    assert_eq!(RedisStore::open(&server.url()).unwrap().check(), Ok(()));

    let open = RedisServer::start();
    assert_misconfigured(
        RedisStore::open(&format!("redis://:{WRONG}@127.0.0.1:{}/0", open.port())).unwrap().check(),
        "redis: the URL has a password, but the server's default user needs none (name the user, \
         redis://username:password@host, or leave the password out)",
    );
}

#[test]
fn check_names_a_db_index_out_of_range() {
    let server = RedisServer::start();
    assert_misconfigured(
        RedisStore::open(&server.url_with_db(99)).unwrap().check(),
        "redis: DB index 99 is out of range (the server's `databases` setting; 16 by default: 0 to 15)",
    );
    assert_eq!(RedisStore::open(&server.url_with_db(15)).unwrap().check(), Ok(()));
}

/// A server that is down or hung may come back: `Unavailable`, not `Misconfigured`, and the same store
/// passes once the server is up.
#[test]
fn check_tells_an_unreachable_or_hung_server_from_a_misconfigured_one() {
    let _timing = timing();
    let port = redis_support::free_port();
    let timeout = Duration::from_millis(500);
    let store = RedisStore::with_options(
        &format!("redis://127.0.0.1:{port}/0"),
        RedisOptions { timeout, ..options(&unique("down")) },
    )
    .unwrap();
    assert_check_unavailable(store.check(), "redis: connection refused");
    let server = RedisServer::start_on_port(port);
    assert_eq!(store.check(), Ok(()));

    server.pause();
    let started = Instant::now();
    let result = store.check();
    let took = started.elapsed();
    server.resume();
    assert_check_unavailable(result, "redis: no answer within 500 ms");
    assert!(took < timeout + Duration::from_millis(500), "{took:?}");
    assert_eq!(store.check(), Ok(()));
}
