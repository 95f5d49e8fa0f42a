"""Benchmark of the Python binding against the usual alternatives, side by side in one run.

    bindings-python/bench.sh          # sets up the dependencies, then runs this
    python bench.py [--quick] [--out FILE]

At 256 B, 4 KiB and 64 KiB bodies:

* Anchor scheme: a careful standard-library implementation (`hmac.new` + `hmac.compare_digest`, with the
  header parsing and the timestamp check a careful user writes) against `Verifier.verify_signature` (the
  same work) and `Verifier.verify` (which also validates the JSON envelope), with the floors of the same
  run: `hashlib.sha256(body)` and `hmac.new(...).digest()` alone.
* Standard Webhooks scheme: the `standardwebhooks` package's `Webhook.verify` (which JSON-parses the body)
  against `Verifier(..., scheme="standard").verify(...)` with `event.data` read as a dict (the same work:
  verified and parsed), and `svix`'s `Webhook.verify` (which, in svix 2.x, verifies without parsing)
  against our `verify`.

Each figure is the median of many rounds of timed loops (`time.perf_counter_ns` around `number` calls);
the contenders of one size are interleaved round by round, so a load change on the machine hits them
alike. Figures are microseconds per call. The results table is written to BENCH_RESULTS.md and printed.
"""

from __future__ import annotations

import argparse
import datetime
import gc
import hashlib
import hmac
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple

import standardwebhooks.webhooks
import svix.webhooks

import anchor_webhooks as aw

ANCHOR_SECRET = "36da51b166a69268a59a8d5ee0b32c9f5e5aaee7d301c7a5a36844318e116fc6"
STANDARD_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SIZES = [256, 4 * 1024, 64 * 1024]
TOLERANCE = 120


def envelope(size: int) -> bytes:
    """A realistic Anchor envelope of exactly `size` bytes (the padding is inside `data`)."""
    doc: Dict[str, Any] = {
        "id": "evt_c7788aacd587216c3ba012f8aa",
        "type": "task.completed",
        "created": "2026-05-24T12:18:05.123Z",
        "project_id": "5d2c31f6-ab7e-481a-b6fd-8b4a96a4e197",
        "text": "Task completed",
        "data": {"task_id": "tsk_8f2b61c0", "output": {"value": ""}},
    }
    base = len(json.dumps(doc, separators=(",", ":")))
    if base > size:
        raise ValueError(f"size {size} is below the envelope's {base} bytes")
    doc["data"]["output"]["value"] = "x" * (size - base)
    body = json.dumps(doc, separators=(",", ":")).encode()
    assert len(body) == size
    return body


def standard_body(size: int) -> bytes:
    """An AnyFormat-style Standard Webhooks body of exactly `size` bytes."""
    doc: Dict[str, Any] = {
        "event": "extraction.completed",
        "timestamp": "2026-05-24T12:18:05Z",
        "data": {"extraction_id": "ex_41d7a9e3", "status": "processed", "workflow_id": "wf_1", "result": ""},
    }
    base = len(json.dumps(doc, separators=(",", ":")))
    doc["data"]["result"] = "x" * (size - base)
    body = json.dumps(doc, separators=(",", ":")).encode()
    assert len(body) == size
    return body


class StdlibVerifier:
    """What a careful user writes with the standard library for the Anchor scheme."""

    def __init__(self, secret: str, tolerance: int = TOLERANCE) -> None:
        self.key = secret.encode("utf-8")
        self.tolerance = tolerance

    def verify(self, body: bytes, headers: Mapping[str, str]) -> bool:
        signature = headers.get("Anchor-Signature")
        if signature is None:
            raise ValueError("missing Anchor-Signature")
        header_ts = headers.get("Anchor-Timestamp")
        t = None
        candidates: List[str] = []
        for item in signature.split(","):
            item = item.strip(" \t")
            if not item:
                continue
            key, sep, value = item.partition("=")
            if not sep or not key:
                raise ValueError("malformed Anchor-Signature")
            if key == "t":
                if t is not None:
                    raise ValueError("duplicate t")
                t = value
            elif key == "v1":
                if len(value) != 64:
                    raise ValueError("malformed v1")
                candidates.append(value.lower())
        if not candidates:
            raise ValueError("no v1 signature")
        if header_ts is not None and t is not None and header_ts != t:
            raise ValueError("timestamp mismatch")
        ts = header_ts if header_ts is not None else t
        if ts is None or not (ts.isascii() and ts.isdigit() and len(ts) <= 12):
            raise ValueError("malformed timestamp")
        if abs(time.time() - int(ts)) > self.tolerance:
            raise ValueError("timestamp outside the tolerance")
        expected = hmac.new(self.key, b"v0:" + ts.encode() + b":" + body, hashlib.sha256).hexdigest()
        if not any(hmac.compare_digest(expected, candidate) for candidate in candidates):
            raise ValueError("signature mismatch")
        return True


def measure(call: Callable[[], Any], number: int) -> float:
    """Microseconds per call over one loop of `number` calls."""
    start = time.perf_counter_ns()
    for _ in range(number):
        call()
    return (time.perf_counter_ns() - start) / number / 1000.0


def calibrate(call: Callable[[], Any], round_seconds: float) -> int:
    number = 1
    while True:
        start = time.perf_counter()
        for _ in range(number):
            call()
        if time.perf_counter() - start >= round_seconds / 4:
            return max(1, int(number * round_seconds / max(time.perf_counter() - start, 1e-9)))
        number *= 2


def run_group(contenders: Dict[str, Callable[[], Any]], rounds: int, round_seconds: float) -> Dict[str, float]:
    """Median microseconds per call of each contender, interleaved round by round."""
    numbers = {name: calibrate(call, round_seconds) for name, call in contenders.items()}
    samples: Dict[str, List[float]] = {name: [] for name in contenders}
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(rounds):
            for name, call in contenders.items():
                samples[name].append(measure(call, numbers[name]))
    finally:
        if gc_was_enabled:
            gc.enable()
    return {name: statistics.median(values) for name, values in samples.items()}


def contenders_for(size: int) -> Tuple[Dict[str, Callable[[], Any]], Dict[str, Callable[[], Any]]]:
    body = envelope(size)
    headers = aw.sign(ANCHOR_SECRET, body)
    stdlib = StdlibVerifier(ANCHOR_SECRET)
    ours = aw.Verifier(ANCHOR_SECRET)
    # Sanity: every contender accepts its delivery and gives the same data.
    assert stdlib.verify(body, headers)
    assert ours.verify(body, headers).data == json.loads(body)["data"]
    assert ours.verify_signature(body, headers).delivery_id == headers["Anchor-Delivery-Id"]
    key = ANCHOR_SECRET.encode("utf-8")
    signed_message = b"v0:" + headers["Anchor-Timestamp"].encode() + b":" + body
    assert hmac.new(key, signed_message, hashlib.sha256).hexdigest() in headers["Anchor-Signature"]
    anchor = {
        "stdlib": lambda: stdlib.verify(body, headers),
        "stdlib+json": lambda: stdlib.verify(body, headers) and json.loads(body)["data"],
        "ours-signature": lambda: ours.verify_signature(body, headers),
        "ours": lambda: ours.verify(body, headers),
        "ours+data": lambda: ours.verify(body, headers).data,
        # Floors: what any Python-called verification must at least spend (one C call each, no parsing).
        "sha256": lambda: hashlib.sha256(body).digest(),
        "hmac": lambda: hmac.new(key, signed_message, hashlib.sha256).digest(),
    }

    sbody = standard_body(size)
    sheaders = aw.sign(STANDARD_SECRET, sbody, scheme="standard")
    standard_webhook = standardwebhooks.webhooks.Webhook(STANDARD_SECRET)
    svix_webhook = svix.webhooks.Webhook(STANDARD_SECRET)
    ours_standard = aw.Verifier(STANDARD_SECRET, scheme="standard")
    parsed = json.loads(sbody)
    assert standard_webhook.verify(sbody, sheaders) == parsed
    assert svix_webhook.verify(sbody, sheaders) is None  # svix 2.x verifies without parsing
    assert ours_standard.verify(sbody, sheaders).data == parsed["data"]
    standard = {
        "standardwebhooks": lambda: standard_webhook.verify(sbody, sheaders),
        "svix": lambda: svix_webhook.verify(sbody, sheaders),
        "ours-signature": lambda: ours_standard.verify_signature(sbody, sheaders),
        "ours": lambda: ours_standard.verify(sbody, sheaders),
        "ours+data": lambda: ours_standard.verify(sbody, sheaders).data,
    }
    return anchor, standard


# (figure, reading, size, target ratio): ratio = alternative time / our time. The "verify vs stdlib"
# is read two ways: `verify_signature` (like for like: neither side reads the body beyond the MAC; our
# judgement of the intent) and the full `verify` (which also validates the JSON envelope).
TARGETS = [
    ("verify vs stdlib", "verify_signature (like for like)", 256, 5.0),
    ("verify vs stdlib", "verify (+ envelope validation)", 256, 5.0),
    ("verify vs stdlib", "verify_signature (like for like)", 64 * 1024, 1.15),
    ("verify vs stdlib", "verify (+ envelope validation)", 64 * 1024, 1.15),
    ("verify+data vs standardwebhooks", "verify + `event.data`", 256, 3.0),
    ("verify+data vs standardwebhooks", "verify + `event.data`", 4 * 1024, 3.0),
    ("verify+data vs standardwebhooks", "verify + `event.data`", 64 * 1024, 1.2),
]


def target_ratio(results: Dict[int, Tuple[Dict[str, float], Dict[str, float]]], reading: str, size: int) -> float:
    anchor, standard = results[size]
    if reading.startswith("verify_signature"):
        return anchor["stdlib"] / anchor["ours-signature"]
    if reading.startswith("verify (+"):
        return anchor["stdlib"] / anchor["ours"]
    return standard["standardwebhooks"] / standard["ours+data"]


def below_floor(
    results: Dict[int, Tuple[Dict[str, float], Dict[str, float]]], figure: str, size: int, target: float
) -> Optional[str]:
    """For the figures against the stdlib code: when the time the target allows (stdlib ÷ target) is below
    `hashlib.sha256(body)` alone in the same run, no verification called from Python can meet it."""
    anchor, _ = results[size]
    if figure != "verify vs stdlib":
        return None
    allowed = anchor["stdlib"] / target
    if allowed >= anchor["sha256"]:
        return None
    return f"stdlib ÷ {target:g} = {allowed:.2f} µs < `hashlib.sha256(body)` {anchor['sha256']:.2f} µs"


def human(size: int) -> str:
    return f"{size // 1024} KiB" if size >= 1024 else f"{size} B"


def _load_reading(load: Tuple[float, float]) -> str:
    # The benchmark itself keeps one CPU busy; the rest of the load average is other processes (the
    # 1-minute average also still carries whatever ran just before).
    others = max(load) - 1.0
    if others >= 0.5:
        return (f"other processes kept about {others:.1f} CPUs busy, so absolute figures may be inflated "
                "(the interleaving keeps the ratios comparable)")
    return "besides the benchmark's own CPU, the machine was about idle"


def report(
    results: Dict[int, Tuple[Dict[str, float], Dict[str, float]]], rounds: int, quick: bool, load: Tuple[float, float]
) -> str:
    versions = {
        "python": platform.python_version(),
        "anchor-webhooks": aw.__version__,
        "standardwebhooks": _version("standardwebhooks"),
        "svix": _version("svix"),
    }
    lines = [
        "# Python binding benchmark",
        "",
        f"Written by `bindings-python/bench.py` on {datetime.date.today().isoformat()} "
        f"({platform.machine()}, {_cpus()} CPUs; " + ", ".join(f"{k} {v}" for k, v in versions.items()) + ").",
        f"Median of {rounds} interleaved rounds per figure, microseconds per call (lower is better); "
        "ratio = the alternative's time / ours (higher is better)." + (" QUICK RUN: indicative only." if quick else ""),
        f"Load average (1 min) at the start and the end of the run: {load[0]:.2f} and {load[1]:.2f} "
        f"on {_cpus()} CPUs: {_load_reading(load)}.",
        "",
        "## Anchor scheme: careful stdlib implementation vs `Verifier.verify_signature` and `Verifier.verify`",
        "",
        "| body | stdlib (hmac + compare_digest) | ours: verify_signature | ratio | ours: verify | ratio "
        "| stdlib + `json.loads` | ours: verify + `event.data` | ratio |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for size, (anchor, _) in results.items():
        lines.append(
            f"| {human(size)} | {anchor['stdlib']:.2f} | {anchor['ours-signature']:.2f} | "
            f"{anchor['stdlib'] / anchor['ours-signature']:.2f}× | {anchor['ours']:.2f} | "
            f"{anchor['stdlib'] / anchor['ours']:.2f}× | {anchor['stdlib+json']:.2f} | {anchor['ours+data']:.2f} | "
            f"{anchor['stdlib+json'] / anchor['ours+data']:.2f}× |"
        )
    lines += [
        "",
        "The stdlib code checks what ours checks in the header stage (grammar, duplicate `t`, timestamp digits, "
        "`t` = `Anchor-Timestamp`, two-sided tolerance) and the MAC, and never reads the body otherwise: "
        "`verify_signature` does the same work (headers, timestamp, signature), while `verify` also validates "
        "the JSON envelope (the core refuses a bad one with `invalid_payload` before any handler runs). The last "
        "three columns compare verified *and* parsed.",
        "",
        "### Floors, same run",
        "",
        "| body | `hashlib.sha256(body).digest()` | `hmac.new(key, msg, sha256).digest()` | stdlib ÷ 5 (256 B target) / ÷ 1.15 (64 KiB target) | ours: verify_signature |",
        "|---|---:|---:|---:|---:|",
    ]
    for size, (anchor, _) in results.items():
        divisor = 5.0 if size < 4096 else 1.15
        lines.append(
            f"| {human(size)} | {anchor['sha256']:.2f} | {anchor['hmac']:.2f} | "
            f"{anchor['stdlib'] / divisor:.2f} (÷ {divisor:g}) | {anchor['ours-signature']:.2f} |"
        )
    lines += [
        "",
        "`hashlib.sha256` is one C call hashing the body (OpenSSL, SHA extensions), no HMAC, no header work; "
        "`hmac.new(...).digest()` is the MAC alone on the signed message. Any verification called from Python "
        "costs at least the SHA-256 of the body plus a call.",
        "",
        "## Standard Webhooks scheme: `standardwebhooks` and `svix` vs `Verifier(scheme=\"standard\")`",
        "",
        "| body | standardwebhooks.verify (parses) | ours: verify + `event.data` | ratio | svix Webhook.verify (no parsing) "
        "| ours: verify_signature | ratio | ours: verify | ratio |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for size, (_, standard) in results.items():
        lines.append(
            f"| {human(size)} | {standard['standardwebhooks']:.2f} | {standard['ours+data']:.2f} | "
            f"{standard['standardwebhooks'] / standard['ours+data']:.2f}× | {standard['svix']:.2f} | "
            f"{standard['ours-signature']:.2f} | {standard['svix'] / standard['ours-signature']:.2f}× | "
            f"{standard['ours']:.2f} | {standard['svix'] / standard['ours']:.2f}× |"
        )
    lines += [
        "",
        "## Targets (issue 5)",
        "",
        "| figure | reading | body | target | measured | verdict |",
        "|---|---|---|---:|---:|---|",
    ]
    for figure, reading, size, target in TARGETS:
        ratio = target_ratio(results, reading, size)
        verdict = "**MET**" if ratio >= target else "**MISS**"
        floor = below_floor(results, figure, size, target)
        if floor is not None:
            verdict += f" (target below the SHA-256 floor: {floor})"
        # Three decimals where two would round across the target (a 1.147× MISS is not shown as 1.15×).
        digits = 2 if (round(ratio, 2) >= target) == (ratio >= target) else 3
        lines.append(f"| {figure} | {reading} | {human(size)} | ≥ {target:g}× | {ratio:.{digits}f}× | {verdict} |")
    lines += ["", NOTES]
    return "\n".join(lines) + "\n"


NOTES = """## Reading the figures (and why the misses)

- **Which reading of "verify vs stdlib" is the issue's.** The stdlib contender (a) is `hmac.new` +
  `compare_digest` with the header checks a careful user writes: it verifies the signature and never reads
  the body as JSON. `verify_signature` does exactly that work, so we judge it the issue's figure (like for
  like). `verify` also validates the JSON envelope (a job the stdlib code skips); it is reported beside it.
- **256 B, ≥ 5×: not reached.** The target time is the stdlib figure ÷ 5 (floors table). A perf profile of
  `verify_signature` in a tight loop (256 B, frame-pointer build) splits the call into the core (about a
  third: the HMAC, header grammar, compare), the header stage of the binding (about a quarter: walking the
  header dict, one lookup per name in the table of known spellings, one UTF-8 copy per value the core reads:
  the 3.9 stable ABI has no borrowed UTF-8 view of a `str`), and the interpreter's call machinery (tuple
  arguments: abi3 for 3.9 has no vectorcall), the clock and the result object for the rest. A simpler
  header pre-filter (names kept by length only, every name encoded to see its length and its `HTTP_` /
  `wsgi.` prefix) was measured against the table of spellings and was about 5 % slower per call, so the
  table stays. What is left for the binding to cut is below the noise of this machine; the target needs a
  faster core `verify_signature`.
- **64 KiB, ≥ 1.15×: the target can sit below the SHA-256 floor.** `verify_signature` is one SHA-256 pass
  over the body (the `sha2` crate with the CPU's SHA extensions, GIL released) and lands within a few per
  cent of `hashlib.sha256(body)` alone (OpenSSL) in the floors table. The stdlib code pays its HMAC plus a
  64 KiB concatenation (`b"v0:" + ts + b":" + body`), which is the whole margin. When the time the target
  allows (stdlib ÷ 1.15) is below `hashlib.sha256(body)` measured in the same run, the verdict says so: no
  verification called from Python, however thin, can meet the target in that run; the ratio then moves with
  the machine's load (1.09× to 1.25× across runs on a shared machine). `verify` adds the validation of
  64 KiB of JSON, which the stdlib code never reads.
- **verify + `event.data` vs `standardwebhooks`.** `event.data` is built straight from the verified text by
  a serde visitor (serde_json parses `Event::raw_data_str`, text the core already checked as UTF-8, so no
  string is UTF-8-checked twice; no JSON tree, no `bytes` copy, no `json.loads` call). At 4 KiB the
  remaining time is SHA-256, the core's envelope validation, and for `event.data` one more scan of the 4 KiB
  string (serde_json's word-at-a-time search for a quote, backslash or control byte) and its copy into a
  Python `str`; the figure sits under 3× (2.5× to 2.9× across runs). Tried and not kept: a cache of key
  strings across deliveries (saves about 0.06 µs per `event.data`, a few per cent, for a global cache).
"""


def _version(distribution: str) -> str:
    from importlib.metadata import version

    try:
        return version(distribution)
    except Exception:  # pragma: no cover - informational only
        return "?"


def _cpus() -> int:
    return os.cpu_count() or 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="few short rounds (a smoke run: prints, writes no file)")
    parser.add_argument("--out", help="the results file (default: BENCH_RESULTS.md next to this script)")
    args = parser.parse_args()
    rounds, round_seconds = (5, 0.01) if args.quick else (41, 0.04)
    results: Dict[int, Tuple[Dict[str, float], Dict[str, float]]] = {}
    load_start = os.getloadavg()[0]
    for size in SIZES:
        anchor, standard = contenders_for(size)
        results[size] = (run_group(anchor, rounds, round_seconds), run_group(standard, rounds, round_seconds))
        print(f"{human(size)} done", file=sys.stderr)
    text = report(results, rounds, args.quick, (load_start, os.getloadavg()[0]))
    out = args.out or (None if args.quick else str(Path(__file__).resolve().parent / "BENCH_RESULTS.md"))
    if out is not None:
        Path(out).write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
