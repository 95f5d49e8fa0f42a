"""End to end: the reference sender (`anchor-webhooks serve`, scaled time) delivers to a FastAPI app under a
real uvicorn server and to a Flask app under a real waitress server.

Per framework: every Anchor event type is delivered and verified (typed fields checked), a forged delivery
is answered 401, a 503-then-200 endpoint is processed exactly once, and an event fanned out to two webhooks
(plus a replay) is processed once with the duplicates answered 200 — counted by the apps' handlers and
checked in the emulator's delivery log through its API.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Iterator, Optional

import pytest

import anchor_webhooks as aw
from conftest import OTHER_SECRET, envelope, free_port, wait_for_port

APPS = Path(__file__).resolve().parent / "apps"
ANCHOR_TYPES = [name for name in aw.event_types() if not name.startswith("extraction.")]
# Artifacts in the emulator's sample data, per task type (sender/src/envelope.rs).
SAMPLE_ARTIFACTS = {"task.completed": 2, "task.failed": 1, "task.cancelled": 0, "task.healed": 1}
FINAL = {"succeeded", "failed", "dead"}
DEADLINE = 60.0


def http(method: str, url: str, body: Optional[bytes] = None, headers: Optional[dict[str, str]] = None) -> tuple[int, dict[str, str], Any]:
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, answer_headers, raw = response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        status, answer_headers, raw = error.code, dict(error.headers), error.read()
    try:
        payload = json.loads(raw) if raw else None
    except ValueError:
        payload = raw.decode("utf-8", "replace")
    return status, answer_headers, payload


class Emulator:
    def __init__(self, binary: Path, api_keys: list[str]) -> None:
        args = [str(binary), "serve", "--port", "0", "--allow-insecure-localhost", "--time-scale", "0.05"]
        for key in api_keys:
            args += ["--api-key", key]
        self.process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        first = self.process.stdout.readline().strip()
        prefix = "emulator listening on "
        assert first.startswith(prefix), f"unexpected first line {first!r}"
        self.base = first[len(prefix):]
        # Keep draining both pipes so the emulator never blocks on a full pipe.
        for pipe in (self.process.stdout, self.process.stderr):
            threading.Thread(target=pipe.read, daemon=True).start()

    def api(self, key: str, method: str, path: str, payload: Any = None) -> tuple[int, Any]:
        body = None if payload is None else json.dumps(payload).encode()
        headers = {"anchor-api-key": key, "content-type": "application/json"}
        status, _, answer = http(method, self.base + path, body, headers)
        return status, answer

    def create_webhook(self, key: str, url: str, events: list[str]) -> dict[str, Any]:
        status, webhook = self.api(key, "POST", "/v1/webhooks", {"url": url, "description": "py e2e", "subscribed_events": events})
        assert status == 201, webhook
        return webhook

    def deliveries(self, key: str, webhook_id: str) -> list[dict[str, Any]]:
        status, answer = self.api(key, "GET", f"/v1/webhooks/{webhook_id}/events?limit=100")
        assert status == 200, answer
        return answer["events"]

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture(scope="module")
def emulator(anchor_binary: Path) -> Iterator[Emulator]:
    running = Emulator(anchor_binary, ["ak_py_fastapi", "ak_py_flask"])
    try:
        yield running
    finally:
        running.stop()


class App:
    """A receiver app under a real HTTP server, in its own process."""

    def __init__(self, framework: str, secrets: list[str], port: int, log: Path) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        env = {**os.environ, "ANCHOR_SECRETS": ",".join(secrets), "PYTHONPATH": str(APPS)}
        if framework == "fastapi":
            args = [sys.executable, "-m", "uvicorn", "fastapi_app:app", "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
        else:
            args = [sys.executable, "-m", "waitress", "--listen", f"127.0.0.1:{port}", "--threads", "8", "flask_app:app"]
        self.log = log
        self.process = subprocess.Popen(args, env=env, cwd=APPS, stdout=log.open("w"), stderr=subprocess.STDOUT)
        wait_for_port(port, self.process)

    def stats(self) -> dict[str, Any]:
        status, _, answer = http("GET", self.url + "/stats")
        assert status == 200, answer
        return answer

    def post(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, str], Any]:
        return http("POST", self.url + path, body, headers)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def wait_until_final(emulator: Emulator, key: str, webhook_id: str, expected: int) -> list[dict[str, Any]]:
    end = time.monotonic() + DEADLINE
    rows: list[dict[str, Any]] = []
    while time.monotonic() < end:
        rows = emulator.deliveries(key, webhook_id)
        if len(rows) >= expected and all(row["status"] in FINAL for row in rows):
            return rows
        time.sleep(0.05)
    raise AssertionError(f"deliveries of {webhook_id} not final after {DEADLINE} s: {rows}")


@pytest.mark.parametrize("framework", ["fastapi", "flask"])
def test_end_to_end(framework: str, emulator: Emulator, tmp_path: Path) -> None:
    key = f"ak_py_{framework}"
    port = free_port()
    hooks_url = f"http://127.0.0.1:{port}/webhooks"
    main = emulator.create_webhook(key, hooks_url, ANCHOR_TYPES)
    twin = emulator.create_webhook(key, hooks_url, ANCHOR_TYPES)
    flaky = emulator.create_webhook(key, f"http://127.0.0.1:{port}/flaky", ["task.failed"])
    app = App(framework, [main["secret"], twin["secret"], flaky["secret"]], port, tmp_path / f"{framework}.log")
    try:
        run_scenario(framework, emulator, key, app, main, twin, flaky)
    except BaseException:
        print(f"--- {framework} server log ---\n{app.log.read_text(errors='replace')}")
        raise
    finally:
        app.stop()


def run_scenario(framework: str, emulator: Emulator, key: str, app: App, main: dict, twin: dict, flaky: dict) -> None:
    # 1. Every event type, sent to the main webhook only.
    sent: dict[str, str] = {}
    for event_type in ANCHOR_TYPES:
        status, answer = emulator.api(key, "POST", f"/v1/webhooks/{main['id']}/test", {"event_type": event_type})
        assert status == 202, answer
        sent[answer["external_event_id"]] = event_type

    # 2. A 503-then-200 endpoint.
    status, answer = emulator.api(key, "POST", f"/v1/webhooks/{flaky['id']}/test", {"event_type": "task.failed"})
    assert status == 202, answer
    flaky_id = answer["external_event_id"]

    # 3. One event fanned out to two webhooks on the same endpoint: processed once, the other answered 200.
    status, answer = emulator.api(key, "POST", "/v1/events", {"type": "batch.completed", "data": {"batch_id": "b_e2e"}})
    assert status == 202 and answer["deliveries"] == 2, answer
    fanned_id = answer["external_event_id"]

    main_rows = wait_until_final(emulator, key, main["id"], len(ANCHOR_TYPES) + 1)
    twin_rows = wait_until_final(emulator, key, twin["id"], 1)
    flaky_rows = wait_until_final(emulator, key, flaky["id"], 1)

    # 4. A forged delivery, a malformed one and a stale one: refused with the core's status and code.
    body = envelope("task.completed", "evt_forged_" + framework)
    status, _, answer = app.post("/webhooks", body, aw.sign(OTHER_SECRET, body))
    assert (status, answer_code(answer)) == (401, "signature_mismatch"), answer
    status, _, answer = app.post("/webhooks", body, {"content-type": "application/json"})
    assert (status, answer_code(answer)) == (400, "missing_header"), answer
    status, _, answer = app.post("/webhooks", body, aw.sign(main["secret"], body, timestamp=int(time.time()) - 3600))
    assert (status, answer_code(answer)) == (401, "timestamp_too_old"), answer

    # 5. A replay of an event already processed: 200 without running the handler.
    replayed_id = next(event_id for event_id, event_type in sent.items() if event_type == "task.completed")
    replay = json.dumps({"id": replayed_id, "type": "task.completed", "created": "2026-05-24T12:18:05Z", "data": {}}).encode()
    status, _, answer = app.post("/webhooks", replay, aw.sign(main["secret"], replay))
    assert status == 200, answer
    assert outcome_of(answer) == "duplicate", answer

    stats = app.stats()
    events = stats["events"]
    assert "evt_forged_" + framework not in events

    # Every type verified once, with its typed fields.
    for event_id, event_type in sent.items():
        seen = events[event_id]
        assert (seen["runs"], seen["type"], seen["matched_secret"], seen["route"]) == (1, event_type, 0, "webhooks"), seen
        assert seen["created_aware"] and isinstance(seen["data"], dict) and seen["project_id"]
        entity = event_type.split(".")[0]
        if entity == "task":
            assert len(seen["task"]["artifacts"]) == SAMPLE_ARTIFACTS[event_type], seen
            assert seen["task"]["task_id"] and seen["task"]["recording_url"]
            assert seen["task"]["error_type"] == ("timeout" if event_type == "task.failed" else None)
            assert bool(seen["task"]["healed_task_version_id"]) == (event_type == "task.healed")
        else:
            assert seen["task"] is None
        assert (seen["session"] is not None) == (entity == "session"), seen
    by_event = {row["external_event_id"]: row for row in main_rows}
    for event_id in sent:
        row = by_event[event_id]
        assert (row["status"], row["response_status"], row["attempt"]) == ("succeeded", 200, 1), row

    # The 503-then-200 endpoint: two attempts, one processing.
    assert stats["flaky_attempts"][flaky_id] == 2
    assert events[flaky_id]["runs"] == 1 and events[flaky_id]["route"] == "flaky"
    (flaky_row,) = flaky_rows
    assert (flaky_row["external_event_id"], flaky_row["status"], flaky_row["attempt"], flaky_row["response_status"]) == (
        flaky_id, "succeeded", 2, 200,
    ), flaky_row

    # The fanned-out event: both deliveries succeeded with 200, the handler ran once, matched either secret.
    assert events[fanned_id]["runs"] == 1 and events[fanned_id]["type"] == "batch.completed"
    assert events[fanned_id]["data"] == {"batch_id": "b_e2e"}
    for rows in (main_rows, twin_rows):
        row = next(row for row in rows if row["external_event_id"] == fanned_id)
        assert (row["status"], row["response_status"]) == ("succeeded", 200), row
    # The replay ran nothing either.
    assert events[replayed_id]["runs"] == 1
    assert sum(seen["runs"] for seen in events.values()) == len(sent) + 2


def answer_code(answer: Any) -> Optional[str]:
    body = answer.get("detail", answer) if isinstance(answer, dict) else {}
    return body.get("error") if isinstance(body, dict) else None


def outcome_of(answer: Any) -> Optional[str]:
    body = answer.get("detail", answer) if isinstance(answer, dict) else {}
    return body.get("outcome") if isinstance(body, dict) else None
