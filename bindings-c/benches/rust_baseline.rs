//! The Rust side of `bindings-c/bench.sh`: the core called directly, on the very inputs the C bench loop
//! reads, timed the same way (median of samples of a calibrated batch), so the two are comparable in one
//! run. Inputs: `$ANCHOR_BENCH_DIR/{size}.body` and `{size}.headers` (`Name: value` lines, as
//! `anchor-webhooks sign` prints them) plus `secret` and `now`. Prints `rust <op> <size> <ns>` lines. With
//! `ANCHOR_BENCH_COUNT="<op> <size> <iterations>"` it only runs that many calls of one operation, untimed:
//! bench.sh counts their instructions under callgrind.

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use anchor_webhooks::Verifier;

const SAMPLES: usize = 25;
const SAMPLE_TARGET: Duration = Duration::from_millis(20);

/// Median nanoseconds per call of `f`.
fn measure(mut f: impl FnMut()) -> f64 {
    let mut batch = 1u64;
    loop {
        let start = Instant::now();
        for _ in 0..batch {
            f();
        }
        if start.elapsed() >= SAMPLE_TARGET / 4 {
            break;
        }
        batch *= 2;
    }
    batch *= 4;
    let mut samples: Vec<f64> = (0..SAMPLES)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..batch {
                f();
            }
            start.elapsed().as_nanos() as f64 / batch as f64
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    samples[SAMPLES / 2]
}

fn read(dir: &Path, name: &str) -> Vec<u8> {
    std::fs::read(dir.join(name)).unwrap_or_else(|e| panic!("{}: {e} (run bindings-c/bench.sh)", name))
}

fn main() {
    let dir = std::env::var("ANCHOR_BENCH_DIR").expect("ANCHOR_BENCH_DIR (set by bindings-c/bench.sh)");
    let dir = Path::new(&dir);
    let secret = String::from_utf8(read(dir, "secret")).expect("utf-8 secret");
    let now: u64 = String::from_utf8(read(dir, "now")).expect("utf-8").trim().parse().expect("now");
    let verifier = Verifier::anchor([secret.trim()]).expect("verifier");
    let count = std::env::var("ANCHOR_BENCH_COUNT").ok();
    let count: Option<(String, String, u64)> = count.map(|spec| {
        let mut parts = spec.split_whitespace().map(str::to_owned);
        let mut next = || parts.next().expect("ANCHOR_BENCH_COUNT=\"<op> <size> <iterations>\"");
        (next(), next(), next().parse().expect("iterations"))
    });
    for size in ["256", "4096", "65536"] {
        let body = read(dir, &format!("{size}.body"));
        let headers: Vec<(String, String)> = String::from_utf8(read(dir, &format!("{size}.headers")))
            .expect("utf-8 headers")
            .lines()
            .filter_map(|line| line.split_once(": "))
            .map(|(name, value)| (name.to_owned(), value.to_owned()))
            .collect();
        verifier.verify(&headers, &body, now).expect("the bench delivery verifies");
        if let Some((op, count_size, iterations)) = &count {
            if count_size == size {
                for _ in 0..*iterations {
                    if op == "verify" {
                        black_box(verifier.verify(black_box(&headers), black_box(&body), now).is_ok());
                    } else {
                        black_box(
                            verifier.verify_signature(black_box(&headers), black_box(&body), now).is_ok(),
                        );
                    }
                }
            }
            continue;
        }
        let full = measure(|| {
            black_box(verifier.verify(black_box(&headers), black_box(&body), now).is_ok());
        });
        let signature = measure(|| {
            black_box(verifier.verify_signature(black_box(&headers), black_box(&body), now).is_ok());
        });
        println!("rust verify {size} {full:.1}");
        println!("rust verify_signature {size} {signature:.1}");
    }
}
