"""The GIL is released while large bodies are hashed (>= 4 KiB), so other threads run meanwhile.

No timing: the switch interval is raised so far that the interpreter never takes the GIL away from a
thread by itself; the other thread can then only run while ours released the GIL on its own.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from typing import Iterator

import pytest

import anchor_webhooks as aw
from conftest import SECRET

NOW = 1_716_544_084


def body_of(size: int) -> bytes:
    head = {"id": "evt_big", "type": "task.completed", "created": "2026-05-24T12:18:05Z", "data": {"blob": ""}}
    base = len(json.dumps(head, separators=(",", ":")))
    head["data"]["blob"] = "x" * (size - base)
    body = json.dumps(head, separators=(",", ":")).encode()
    assert len(body) == size
    return body


class Counter:
    """A thread that counts while it holds the GIL, and yields it after every step (time.sleep(0))."""

    def __init__(self) -> None:
        self.count = 0
        self.stop = False
        self.started = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        self.started.set()
        while not self.stop:
            self.count += 1
            time.sleep(0)


@pytest.fixture
def counter() -> Iterator[Counter]:
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1000.0)
    counter = Counter()
    counter.thread.start()
    counter.started.wait()
    try:
        yield counter
    finally:
        counter.stop = True
        sys.setswitchinterval(previous)
        counter.thread.join()


def progress_during(counter: Counter, call) -> int:  # type: ignore[no-untyped-def]
    before = counter.count
    call()
    return counter.count - before


def test_large_body_releases_the_gil(counter: Counter) -> None:
    body = body_of(16 * 1024 * 1024)
    verifier = aw.Verifier(SECRET, max_body_bytes=len(body))
    headers = aw.sign(SECRET, body, timestamp=NOW)
    progressed = [progress_during(counter, lambda: verifier.verify(body, headers, now=NOW)) for _ in range(3)]
    assert any(steps > 0 for steps in progressed), progressed


def checker(method: str, size: int):  # type: ignore[no-untyped-def]
    body = body_of(size)
    verifier = aw.Verifier(SECRET)
    headers = aw.sign(SECRET, body, timestamp=NOW)
    check = getattr(verifier, method)
    check(body, headers, now=NOW)  # it verifies: the GIL question is about a successful call
    return lambda: check(body, headers, now=NOW)


# How long to keep trying at the threshold. A budget of time, not a count of calls: under load the other
# thread wins the short window less often, and a passing run stops at the first success (milliseconds);
# only a GIL that is never released spends the whole budget, then fails.
SECONDS_AT_THE_THRESHOLD = 10.0


@pytest.mark.parametrize("method", ["verify", "verify_signature"])
def test_body_of_exactly_4_kib_releases_the_gil(counter: Counter, method: str) -> None:
    # At 4 KiB the GIL is released for a few microseconds only, so the other thread gets to run in a few
    # percent of the calls (fewer when other processes load the machine): one call in which it did is the
    # proof, and a 4095-byte body never lets it (below). A call takes microseconds: many tries cost little.
    call = checker(method, 4096)
    deadline = time.monotonic() + SECONDS_AT_THE_THRESHOLD
    tries = 0
    while time.monotonic() < deadline:
        tries += 1
        if progress_during(counter, call) > 0:
            return
    pytest.fail(
        f"{method}: the other thread never ran during {tries} calls ({SECONDS_AT_THE_THRESHOLD} s) "
        "with a 4096-byte body"
    )


@pytest.mark.parametrize("method", ["verify", "verify_signature"])
def test_body_below_4_kib_keeps_the_gil(counter: Counter, method: str) -> None:
    call = checker(method, 4095)
    progressed = [progress_during(counter, call) for _ in range(20)]
    assert progressed == [0] * 20


def test_receiver_with_large_body_releases_the_gil(counter: Counter) -> None:
    body = body_of(16 * 1024 * 1024)
    receiver = aw.Receiver(aw.Verifier(SECRET, max_body_bytes=len(body)))
    headers = aw.sign(SECRET, body, timestamp=NOW)

    def receive() -> None:
        with receiver.receive(body, headers, now=NOW):
            pass

    assert progress_during(counter, receive) > 0
