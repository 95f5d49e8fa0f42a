//! Verification cost against plain SHA-256 of the same body (SPEC §8), at 256 B, 4 KiB and 64 KiB.
//!
//! `cargo bench -p anchor-webhooks --bench verify` runs criterion, then writes `core/benches/RESULTS.md`
//! from the medians criterion saved in this same run (`<target>/criterion/<group>/<bench>/new/`).
//!
//! Per body size (one criterion group each, `body_256B`, `body_4KiB`, `body_64KiB`):
//! - `sha256`: `Sha256::digest(body)`, the floor any verifier pays;
//! - `hmac_sha256`: HMAC-SHA256 of `v0:{ts}:{body}` with a pre-keyed state, no header work (information:
//!   the part of `verify_signature` that is not parsing);
//! - `anchor_verify_signature`: headers + timestamp + HMAC, no JSON: the measured figure;
//! - `anchor_verify`: `verify_signature` plus the envelope's JSON parsing (information);
//! - `standard_verify_signature`: the Standard Webhooks scheme's `verify_signature` (information).
//!
//! Targets: `anchor_verify_signature` within 1.10× of `sha256` at 64 KiB, at most 2.0× at 256 B.

use std::hint::black_box;
use std::time::Duration;

use anchor_webhooks::{sign, Scheme, Verifier};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

const ANCHOR_SECRET: &str = "36da51b166a69268a59a8d5ee0b32c9f5e5aaee7d301c7a5a36844318e116fc6";
const STANDARD_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
/// The signing time; verification runs 30 s later, well inside both tolerances.
const SIGNED_AT: u64 = 1_716_544_084;
const NOW: u64 = SIGNED_AT + 30;

const SIZES: [(usize, &str); 3] = [(256, "256B"), (4 * 1024, "4KiB"), (64 * 1024, "64KiB")];

const SHA256: &str = "sha256";
const HMAC: &str = "hmac_sha256";
const VERIFY_SIGNATURE: &str = "anchor_verify_signature";
const VERIFY: &str = "anchor_verify";
const STANDARD_VERIFY_SIGNATURE: &str = "standard_verify_signature";
const BENCHES: [&str; 5] = [SHA256, HMAC, VERIFY_SIGNATURE, VERIFY, STANDARD_VERIFY_SIGNATURE];

/// `(size label, largest allowed verify_signature / sha256 ratio)`.
const TARGETS: [(&str, f64); 2] = [("256B", 2.0), ("64KiB", 1.10)];

fn group_name(label: &str) -> String {
    format!("body_{label}")
}

/// A `task.completed` envelope as the provider sends it (compact JSON), with `data.output.value` padded
/// so the body is exactly `size` bytes.
fn envelope(size: usize) -> Vec<u8> {
    let head = concat!(
        r#"{"id":"evt_2Zq7mW1xY8kR3tB6","type":"task.completed","created":"2026-05-24T12:18:05.123Z","#,
        r#""project_id":"5d2c31f6-ab7e-481a-b6fd-8b4a96a4e197","text":"Task completed","#,
        r#""data":{"task_id":"tsk_91c","artifacts":[],"output":{"value":""#
    );
    let tail = r#""}}}"#;
    let fixed = head.len() + tail.len();
    assert!(fixed <= size, "the envelope skeleton ({fixed} B) exceeds {size} B");
    let filler = b"The quick brown fox jumps over the lazy dog; 0123456789. ";
    let mut body = Vec::with_capacity(size);
    body.extend_from_slice(head.as_bytes());
    body.extend(filler.iter().copied().cycle().take(size - fixed));
    body.extend_from_slice(tail.as_bytes());
    assert_eq!(body.len(), size);
    body
}

fn bench_size(c: &mut Criterion, size: usize, label: &str) {
    let body = envelope(size);

    let anchor = Verifier::anchor([ANCHOR_SECRET]).expect("valid Anchor secret");
    let anchor_headers = sign(Scheme::Anchor, [ANCHOR_SECRET], &body, SIGNED_AT).expect("sign");
    let standard = Verifier::standard([STANDARD_SECRET]).expect("valid Standard secret");
    let standard_headers = sign(Scheme::StandardWebhooks, [STANDARD_SECRET], &body, SIGNED_AT).expect("sign");
    // Benchmark the success path only: a failing verification would measure an early return.
    anchor
        .verify_signature(&anchor_headers, &body, NOW)
        .expect("Anchor verify_signature accepts its own signature");
    anchor.verify(&anchor_headers, &body, NOW).expect("Anchor verify accepts the envelope");
    standard
        .verify_signature(&standard_headers, &body, NOW)
        .expect("Standard verify_signature accepts its own signature");

    let keyed = <Hmac<Sha256> as KeyInit>::new_from_slice(ANCHOR_SECRET.as_bytes()).expect("key");
    let ts = SIGNED_AT.to_string();

    let mut group = c.benchmark_group(group_name(label));
    group.throughput(Throughput::Bytes(size as u64));
    group.bench_function(SHA256, |b| b.iter(|| Sha256::digest(black_box(body.as_slice()))));
    group.bench_function(HMAC, |b| {
        b.iter(|| {
            let mut mac = keyed.clone();
            mac.update(b"v0:");
            mac.update(ts.as_bytes());
            mac.update(b":");
            mac.update(black_box(body.as_slice()));
            mac.finalize().into_bytes()
        })
    });
    group.bench_function(VERIFY_SIGNATURE, |b| {
        b.iter(|| {
            anchor.verify_signature(black_box(&anchor_headers), black_box(body.as_slice()), NOW).is_ok()
        })
    });
    group.bench_function(VERIFY, |b| {
        b.iter(|| anchor.verify(black_box(&anchor_headers), black_box(body.as_slice()), NOW))
    });
    group.bench_function(STANDARD_VERIFY_SIGNATURE, |b| {
        b.iter(|| {
            standard.verify_signature(black_box(&standard_headers), black_box(body.as_slice()), NOW).is_ok()
        })
    });
    group.finish();
}

/// When measuring began (estimates older than this are from an earlier run), and the CPU counters then.
static STARTED: std::sync::OnceLock<(std::time::SystemTime, Option<CpuTicks>)> = std::sync::OnceLock::new();

/// CPU time counters (Linux, clock ticks): all CPUs' busy and total time, and this process's own.
#[derive(Clone, Copy)]
struct CpuTicks {
    busy: u64,
    total: u64,
    own: u64,
}

fn cpu_ticks() -> Option<CpuTicks> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let fields: Vec<u64> =
        stat.lines().next()?.split_whitespace().skip(1).map(|f| f.parse().ok()).collect::<Option<_>>()?;
    // user nice system idle iowait irq softirq steal (guest time is already counted in user).
    let total: u64 = fields.iter().take(8).sum();
    let idle = fields.get(3)? + fields.get(4)?;
    let own = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the `(comm)`: utime and stime are the 12th and 13th.
    let after = own.rsplit_once(')')?.1.split_whitespace().collect::<Vec<_>>();
    let own = after.get(11)?.parse::<u64>().ok()? + after.get(12)?.parse::<u64>().ok()?;
    Some(CpuTicks { busy: total - idle, total, own })
}

fn bench_all(c: &mut Criterion) {
    STARTED.get_or_init(|| (std::time::SystemTime::now(), cpu_ticks()));
    for (size, label) in SIZES {
        bench_size(c, size, label);
    }
}

criterion_group! {
    name = benches;
    // 3 sizes × 5 benchmarks × ~4.5 s: the whole run stays near 70 s.
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = bench_all
}

criterion_main!(benches, report::write);

/// Writes `RESULTS.md` from the estimates criterion saved during this run.
mod report {
    use std::fmt::Write as _;
    use std::path::{Path, PathBuf};
    use std::process::Command;
    use std::time::SystemTime;

    use anchor_webhooks::serde_json::{self, Value};
    use anchor_webhooks::time::OffsetDateTime;

    use super::{group_name, BENCHES, SIZES, TARGETS};

    const COMMAND: &str = "cargo bench -p anchor-webhooks --bench verify";

    pub fn write() {
        let args: Vec<String> = std::env::args().skip(1).collect();
        // `cargo bench` passes `--bench`; `cargo test --benches` runs each benchmark once (`--test`), and
        // `--list` runs nothing: neither measured anything worth a report.
        let benching =
            args.iter().any(|a| a == "--bench") && !args.iter().any(|a| a == "--test" || a == "--list");
        if !benching {
            return;
        }
        let Some(criterion_dir) = criterion_dir() else {
            eprintln!("RESULTS.md not written: criterion's output directory was not found");
            return;
        };
        let Some(&(started, ticks_before)) = super::STARTED.get() else {
            return;
        };
        let mut medians = Vec::new();
        for (_, label) in SIZES {
            let mut row = Vec::new();
            for bench in BENCHES {
                let path = criterion_dir.join(group_name(label)).join(bench).join("new/estimates.json");
                match median_ns(&path, started) {
                    Ok(ns) => row.push(ns),
                    Err(why) => {
                        // A filtered run (`-- 256B`) measured only some: keep the last full report.
                        eprintln!("RESULTS.md not written: {}: {why}", path.display());
                        return;
                    }
                }
            }
            medians.push(row);
        }
        let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/RESULTS.md");
        match std::fs::write(&out, render(&medians, ticks_before)) {
            Ok(()) => eprintln!("wrote {}", out.display()),
            Err(e) => eprintln!("RESULTS.md not written: {}: {e}", out.display()),
        }
    }

    /// Where criterion writes, resolved as criterion 0.5 does it.
    fn criterion_dir() -> Option<PathBuf> {
        if let Some(home) = std::env::var_os("CRITERION_HOME") {
            return Some(PathBuf::from(home));
        }
        if let Some(target) = std::env::var_os("CARGO_TARGET_DIR") {
            return Some(PathBuf::from(target).join("criterion"));
        }
        let from_metadata = std::env::var_os("CARGO").and_then(|cargo| {
            let output =
                Command::new(cargo).args(["metadata", "--format-version", "1", "--no-deps"]).output().ok()?;
            let metadata: Value = serde_json::from_slice(&output.stdout).ok()?;
            Some(PathBuf::from(metadata.get("target_directory")?.as_str()?))
        });
        if let Some(target) = from_metadata {
            return Some(target.join("criterion"));
        }
        // `<target>/release/deps/verify-<hash>`.
        let exe = std::env::current_exe().ok()?;
        Some(exe.ancestors().nth(3)?.join("criterion"))
    }

    /// The median, in nanoseconds per iteration, of an estimate written after `since`.
    fn median_ns(path: &Path, since: SystemTime) -> Result<f64, String> {
        let modified = std::fs::metadata(path).and_then(|m| m.modified()).map_err(|e| e.to_string())?;
        if modified < since {
            return Err("not measured in this run".into());
        }
        let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
        let json: Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
        json.pointer("/median/point_estimate")
            .and_then(Value::as_f64)
            .ok_or_else(|| "no median/point_estimate".into())
    }

    fn time(ns: f64) -> String {
        if ns >= 1_000_000.0 {
            format!("{:.3} ms", ns / 1_000_000.0)
        } else if ns >= 1_000.0 {
            format!("{:.2} µs", ns / 1_000.0)
        } else {
            format!("{ns:.0} ns")
        }
    }

    fn throughput(bytes: usize, ns: f64) -> String {
        format!("{:.2} GiB/s", bytes as f64 / ns / 1.073_741_824)
    }

    fn render(medians: &[Vec<f64>], ticks_before: Option<super::CpuTicks>) -> String {
        let index = |name: &str| BENCHES.iter().position(|b| *b == name).unwrap();
        let [sha, hmac, vsig, full, std_sig] = [
            index(super::SHA256),
            index(super::HMAC),
            index(super::VERIFY_SIGNATURE),
            index(super::VERIFY),
            index(super::STANDARD_VERIFY_SIGNATURE),
        ];
        let date = OffsetDateTime::now_utc();
        let date = format!(
            "{:04}-{:02}-{:02} {:02}:{:02} UTC",
            date.year(),
            u8::from(date.month()),
            date.day(),
            date.hour(),
            date.minute()
        );
        let cpu = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|info| {
                info.lines()
                    .find(|l| l.starts_with("model name"))
                    .and_then(|l| l.split_once(':'))
                    .map(|(_, model)| model.trim().to_owned())
            })
            .unwrap_or_else(|| "unknown".into());
        let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
        let sha_ni = std::fs::read_to_string("/proc/cpuinfo")
            .map(|info| info.split_whitespace().any(|flag| flag == "sha_ni"))
            .unwrap_or(false);
        // How many cores other processes kept busy while criterion measured: another build on the same
        // cores inflates whichever benchmark runs at that moment, so the ratios suffer first.
        let others = ticks_before.zip(super::cpu_ticks()).and_then(|(before, after)| {
            let total = after.total.checked_sub(before.total)? as f64;
            let busy = after.busy.checked_sub(before.busy)? as f64;
            let own = after.own.checked_sub(before.own)? as f64;
            (total > 0.0).then(|| ((busy - own) / (total / cores.max(1) as f64)).max(0.0))
        });
        let busy = others.is_some_and(|cores_used| cores_used > 0.25);
        let rustc = Command::new(std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into()))
            .arg("--version")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .map(|v| v.trim().to_owned())
            .unwrap_or_else(|| "unknown".into());

        let mut md = String::new();
        let _ = writeln!(md, "# Core verification benchmark\n");
        let _ = writeln!(
            md,
            "Written by `core/benches/verify.rs` at the end of its own run; do not edit by hand.\n"
        );
        let _ = writeln!(md, "- date: {date}");
        let _ = writeln!(
            md,
            "- CPU: {cpu} ({cores} logical cores available, SHA extensions: {})",
            if sha_ni { "yes" } else { "no" }
        );
        let _ = writeln!(
            md,
            "- other processes during the run: {}",
            others.map_or_else(|| "unknown".to_owned(), |c| format!("{c:.2} cores busy on average"))
        );
        let _ = writeln!(md, "- toolchain: {rustc}, `bench` profile (thin LTO, 1 codegen unit)");
        let _ = writeln!(md, "- reproduce: `{COMMAND}` (from the repository root)\n");
        if busy {
            let _ = writeln!(
                md,
                "**Warning: other processes kept more than a quarter of a core busy during this run; \
                 the figures and ratios are not reliable. Rerun on an idle machine.**\n"
            );
        }
        let _ = writeln!(
            md,
            "Medians of criterion's samples (1 s warm-up, 3 s measurement). Bodies are compact JSON \
             `task.completed` envelopes padded to size; headers are signed once up front; `now` is fixed.\n"
        );
        let _ = writeln!(
            md,
            "| body | SHA-256 | HMAC-SHA256 | `verify_signature` | ratio to SHA-256 | target | result | \
             `verify` (with JSON) | Standard `verify_signature` |"
        );
        let _ = writeln!(md, "|---|---:|---:|---:|---:|---:|---|---:|---:|");
        for ((size, label), row) in SIZES.iter().zip(medians) {
            let ratio = row[vsig] / row[sha];
            let (target, result) = match TARGETS.iter().find(|(l, _)| l == label) {
                Some((_, max)) => {
                    (format!("≤ {max:.2}×"), if ratio <= *max { "PASS" } else { "MISS" }.to_owned())
                }
                None => ("—".to_owned(), "(information)".to_owned()),
            };
            let _ = writeln!(
                md,
                "| {label} | {} | {} | {} | {ratio:.2}× | {target} | {result} | {} | {} |",
                time(row[sha]),
                time(row[hmac]),
                time(row[vsig]),
                time(row[full]),
                time(row[std_sig]),
            );
            let _ = size;
        }
        let _ = writeln!(md, "\nThroughput (body bytes per second, from the same medians):\n");
        let _ = writeln!(
            md,
            "| body | SHA-256 | HMAC-SHA256 | `verify_signature` | `verify` | Standard `verify_signature` |"
        );
        let _ = writeln!(md, "|---|---:|---:|---:|---:|---:|");
        for ((size, label), row) in SIZES.iter().zip(medians) {
            let _ = writeln!(
                md,
                "| {label} | {} | {} | {} | {} | {} |",
                throughput(*size, row[sha]),
                throughput(*size, row[hmac]),
                throughput(*size, row[vsig]),
                throughput(*size, row[full]),
                throughput(*size, row[std_sig]),
            );
        }
        let _ = writeln!(
            md,
            "\nColumns: SHA-256 is `sha2::Sha256::digest(body)`; HMAC-SHA256 is the MAC of `v0:{{ts}}:{{body}}` \
             with a pre-keyed state (no header work); `verify_signature` is the Anchor scheme's headers + \
             timestamp + HMAC + constant-time compare; `verify` adds the envelope's JSON parsing; Standard \
             `verify_signature` is the same check for the Standard Webhooks scheme. Targets apply to the \
             Anchor `verify_signature` ratio: within 1.10× of SHA-256 at 64 KiB, at most 2.0× at 256 B; \
             4 KiB is reported for information."
        );
        md
    }
}
