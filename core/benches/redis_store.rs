//! Throughput of the Redis dedupe store against a private `redis-server`, next to what `redis-benchmark`
//! gets from the same server for plain `SET`s (the ceiling of one round trip per operation).
//!
//! `cargo bench -p anchor-webhooks --features redis --bench redis_store` (plain `main`, no criterion).
//! Writes `core/benches/REDIS_RESULTS.md`. `ANCHOR_BENCH_SECONDS` changes the measured duration (5 s).
//!
//! One operation is one `claim` or one `complete` (each is one round trip: `SET NX PX GET`, `EVALSHA`);
//! 50 threads share one `RedisStore` (max_idle_connections 64), as 50 clients share the server in
//! `redis-benchmark -t set -n 100000 -c 50`. Target: at least 70% of redis-benchmark's SET rate.

#[path = "../tests/redis_support/mod.rs"]
mod redis_support;

use std::fmt::Write as _;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use anchor_webhooks::{Claim, DedupeStore, RedisOptions, RedisStore};
use redis_support::{redis_binary, unique, RedisServer};

const THREADS: usize = 50;
const MAX_IDLE: usize = 64;
const TARGET: f64 = 0.70;
/// Rounds of (redis-benchmark, store, redis-rs): interleaved, so a noisy neighbour on a small machine
/// hits all three alike; the report uses the median of each.
const ROUNDS: usize = 3;
const LEASE: Duration = Duration::from_secs(30);

const COMPLETE_SCRIPT: &str = "if redis.call('GET', KEYS[1]) == ARGV[1] then \
     redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) return 1 end return 0";

fn main() {
    // `cargo bench` passes `--bench`; a filter that does not name us means "not this one".
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    if !args.is_empty() && !args.iter().any(|a| "redis_store".contains(a.as_str())) {
        return;
    }
    let seconds: f64 = std::env::var("ANCHOR_BENCH_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(5.0);
    let duration = Duration::from_secs_f64(seconds);
    let server = RedisServer::start();
    let version = redis_version();

    let mut rounds = Vec::new();
    for round in 1..=ROUNDS {
        let set = redis_benchmark_set(server.port());
        server.command(&["FLUSHALL"]);
        let store = store_run(&server, duration);
        assert_eq!(store.errors, 0, "the store failed during the benchmark: {}", store.first_error);
        server.command(&["FLUSHALL"]);
        let raw = redis_rs_run(&server, duration);
        server.command(&["FLUSHALL"]);
        println!(
            "round {round}: redis-benchmark SET {set:.0}/s, RedisStore {:.0} ops/s ({:.1}%), \
             redis-rs without the store {raw:.0} ops/s",
            store.ops_per_sec,
            100.0 * store.ops_per_sec / set
        );
        rounds.push(Round { set, store, raw });
    }
    let set_rate = median(rounds.iter().map(|r| r.set));
    let store_rate = median(rounds.iter().map(|r| r.store.ops_per_sec));
    let raw_rate = median(rounds.iter().map(|r| r.raw));
    let ratio = store_rate / set_rate;
    let met = ratio >= TARGET;
    println!(
        "median: RedisStore {store_rate:.0} ops/s = {:.1}% of redis-benchmark's SET {set_rate:.0}/s; \
         target {:.0}%: {}",
        ratio * 100.0,
        TARGET * 100.0,
        if met { "MET" } else { "MISSED" }
    );
    let report = report(&version, &rounds, [set_rate, store_rate, raw_rate], met, seconds);
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/REDIS_RESULTS.md");
    std::fs::write(path, report).unwrap_or_else(|e| panic!("cannot write {path}: {e}"));
    println!("wrote {path}");
}

struct Round {
    set: f64,
    store: StoreRun,
    raw: f64,
}

fn median(values: impl Iterator<Item = f64>) -> f64 {
    let mut values: Vec<f64> = values.collect();
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Runs `redis-benchmark -p P -t set -n 100000 -c 50 -q` and parses its `SET: N requests per second`.
fn redis_benchmark_set(port: u16) -> f64 {
    let binary = redis_binary("redis-benchmark");
    let output = Command::new(&binary)
        .args(["-h", "127.0.0.1", "-p", &port.to_string(), "-t", "set", "-n", "100000", "-c", "50", "-q"])
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", binary.display()));
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "redis-benchmark failed: {text}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // With -q it prints progress lines ending in '\r', then `SET: 98039.22 requests per second, p50=...`.
    text.split(['\r', '\n'])
        .filter_map(|line| line.trim().strip_prefix("SET: "))
        .filter_map(|rest| rest.split_whitespace().next()?.parse::<f64>().ok())
        .next_back()
        .unwrap_or_else(|| panic!("no `SET: N requests per second` in redis-benchmark's output: {text:?}"))
}

struct StoreRun {
    claims: u64,
    completes: u64,
    errors: u64,
    first_error: String,
    elapsed: Duration,
    ops_per_sec: f64,
}

/// `THREADS` threads share one store; each claims a new id and completes it, until `duration` is up.
fn store_run(server: &RedisServer, duration: Duration) -> StoreRun {
    let options = RedisOptions {
        key_prefix: unique("bench"),
        max_idle_connections: MAX_IDLE,
        ..RedisOptions::default()
    };
    let store = Arc::new(RedisStore::with_options(&server.url(), options).expect("URL"));
    // Warm up: open the connections the threads will use, outside the measured time.
    {
        let barrier = Arc::new(Barrier::new(THREADS));
        let threads: Vec<_> = (0..THREADS)
            .map(|t| {
                let (store, barrier) = (Arc::clone(&store), Arc::clone(&barrier));
                std::thread::spawn(move || {
                    barrier.wait();
                    store.claim(&format!("warmup-{t}"), LEASE, 0).expect("warm-up claim");
                })
            })
            .collect();
        threads.into_iter().for_each(|t| t.join().expect("warm-up thread"));
    }
    let stop = Arc::new(AtomicBool::new(false));
    let claims = Arc::new(AtomicU64::new(0));
    let completes = Arc::new(AtomicU64::new(0));
    let barrier = Arc::new(Barrier::new(THREADS + 1));
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let (store, stop, barrier) = (Arc::clone(&store), Arc::clone(&stop), Arc::clone(&barrier));
            let (claims, completes) = (Arc::clone(&claims), Arc::clone(&completes));
            std::thread::spawn(move || {
                let (mut claimed, mut completed, mut errors, mut first_error) =
                    (0u64, 0u64, 0u64, String::new());
                let mut note = |error: String| {
                    if first_error.is_empty() {
                        first_error = error;
                    }
                };
                barrier.wait();
                let mut i = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let id = format!("bench-{t}-{i}");
                    i += 1;
                    match store.claim(&id, LEASE, 0) {
                        Ok(Claim::Fresh(token)) => {
                            claimed += 1;
                            match store.complete(&id, token, 0) {
                                Ok(true) => completed += 1,
                                Ok(false) => {
                                    errors += 1;
                                    note(format!("complete {id}: lost the claim"));
                                }
                                Err(error) => {
                                    errors += 1;
                                    note(format!("complete {id}: {error}"));
                                }
                            }
                        }
                        Ok(other) => {
                            errors += 1;
                            note(format!("claim {id}: {other:?}"));
                        }
                        Err(error) => {
                            errors += 1;
                            note(format!("claim {id}: {error}"));
                        }
                    }
                }
                claims.fetch_add(claimed, Ordering::Relaxed);
                completes.fetch_add(completed, Ordering::Relaxed);
                (errors, first_error)
            })
        })
        .collect();
    barrier.wait();
    let started = Instant::now();
    std::thread::sleep(duration);
    stop.store(true, Ordering::Relaxed);
    let mut errors = 0;
    let mut first_error = String::new();
    for thread in threads {
        let (e, first) = thread.join().expect("a benchmark thread panicked");
        errors += e;
        if first_error.is_empty() {
            first_error = first;
        }
    }
    // The last operations finish a little after the stop flag: count the real elapsed time.
    let elapsed = started.elapsed();
    let (claims, completes) = (claims.load(Ordering::Relaxed), completes.load(Ordering::Relaxed));
    let ops_per_sec = (claims + completes) as f64 / elapsed.as_secs_f64();
    StoreRun { claims, completes, errors, first_error, elapsed, ops_per_sec }
}

/// The same two commands as the store (`SET NX PX GET`, then the compare-and-set script) straight
/// through redis-rs, one connection per thread: no pool, no hashing, no token. The gap between this and
/// the store is the store's own overhead; the gap between this and redis-benchmark is the client's
/// (blocking threads vs one event loop).
fn redis_rs_run(server: &RedisServer, duration: Duration) -> f64 {
    let client = redis::Client::open(server.url()).expect("URL");
    let stop = Arc::new(AtomicBool::new(false));
    let ops = Arc::new(AtomicU64::new(0));
    let barrier = Arc::new(Barrier::new(THREADS + 1));
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let mut connection = client.get_connection().expect("connect");
            let (stop, ops, barrier) = (Arc::clone(&stop), Arc::clone(&ops), Arc::clone(&barrier));
            std::thread::spawn(move || {
                let script = redis::Script::new(COMPLETE_SCRIPT);
                let token = format!("{:032x}", t);
                barrier.wait();
                let mut n = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let key = format!("raw-{t}-{n}");
                    let previous: Option<String> = redis::cmd("SET")
                        .arg(&key)
                        .arg(&token)
                        .arg("NX")
                        .arg("PX")
                        .arg(LEASE.as_millis() as u64)
                        .arg("GET")
                        .query(&mut connection)
                        .expect("SET");
                    assert!(previous.is_none());
                    let done: i64 = script
                        .key(&key)
                        .arg(&token)
                        .arg("done")
                        .arg(86_400_000)
                        .invoke(&mut connection)
                        .expect("EVALSHA");
                    assert_eq!(done, 1);
                    n += 2;
                }
                ops.fetch_add(n, Ordering::Relaxed);
            })
        })
        .collect();
    barrier.wait();
    let started = Instant::now();
    std::thread::sleep(duration);
    stop.store(true, Ordering::Relaxed);
    threads.into_iter().for_each(|t| t.join().expect("a redis-rs thread panicked"));
    ops.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64()
}

fn redis_version() -> String {
    Command::new(redis_binary("redis-server"))
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|v| v.split_whitespace().find_map(|w| w.strip_prefix("v=")).map(str::to_owned))
        .unwrap_or_else(|| "unknown".to_owned())
}

fn cpu() -> String {
    let info = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = info
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name").and_then(|r| r.split_once(':')).map(|(_, m)| m.trim().to_owned())
        })
        .unwrap_or_else(|| std::env::consts::ARCH.to_owned());
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    format!("{model}, {cores} logical CPUs available")
}

fn report(
    version: &str,
    rounds: &[Round],
    [set_rate, store_rate, raw_rate]: [f64; 3],
    met: bool,
    seconds: f64,
) -> String {
    let ratio = store_rate / set_rate;
    let date = time::OffsetDateTime::now_utc().date();
    let list = |f: &dyn Fn(&Round) -> f64| {
        rounds.iter().map(|r| format!("{:.0}", f(r))).collect::<Vec<_>>().join(", ")
    };
    let (claims, completes, elapsed): (u64, u64, f64) = rounds.iter().fold((0, 0, 0.0), |(c, d, e), r| {
        (c + r.store.claims, d + r.store.completes, e + r.store.elapsed.as_secs_f64())
    });
    let mut md = String::new();
    let _ = writeln!(md, "# Redis dedupe store throughput");
    let _ = writeln!(md);
    let _ = writeln!(
        md,
        "Written by `cargo bench -p anchor-webhooks --features redis --bench redis_store` \
         (`core/benches/redis_store.rs`); do not edit by hand."
    );
    let _ = writeln!(md);
    let _ = writeln!(md, "- Date: {date} (UTC)");
    let _ = writeln!(md, "- CPU: {}", cpu());
    let _ = writeln!(
        md,
        "- redis-server {version}: a private instance on 127.0.0.1 (no persistence), on the same CPUs as the clients"
    );
    let _ = writeln!(md, "- {ROUNDS} interleaved rounds; each rate is the median of its rounds");
    let _ = writeln!(md);
    let _ = writeln!(md, "| measurement | median | rounds |");
    let _ = writeln!(md, "| --- | ---: | --- |");
    let _ = writeln!(
        md,
        "| `redis-benchmark -t set -n 100000 -c 50 -q` | {set_rate:.0} SET/s | {} |",
        list(&|r| r.set)
    );
    let _ = writeln!(
        md,
        "| `RedisStore` claim + complete: {THREADS} threads, one shared store (max_idle_connections \
         {MAX_IDLE}), {seconds} s | {store_rate:.0} ops/s | {} |",
        list(&|r| r.store.ops_per_sec)
    );
    let _ = writeln!(
        md,
        "| for reference: the same two commands through redis-rs without the store, one connection per \
         thread | {raw_rate:.0} ops/s | {} |",
        list(&|r| r.raw)
    );
    let _ = writeln!(md);
    let _ = writeln!(
        md,
        "One operation is one `claim` (`SET key token NX PX lease GET`) or one `complete` (the compare-and-set \
         script, `EVALSHA`): one round trip each, as each `SET` of redis-benchmark is. The store made \
         {claims} claims and {completes} completes in {elapsed:.1} s, with no error."
    );
    let _ = writeln!(md);
    let _ = writeln!(
        md,
        "**Ratio: {:.1}% of redis-benchmark's SET rate. Target: at least {:.0}%. {}.**",
        ratio * 100.0,
        TARGET * 100.0,
        if met { "MET" } else { "MISSED" }
    );
    md
}
