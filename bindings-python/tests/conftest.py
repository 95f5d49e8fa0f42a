"""Shared fixtures: the repository's vectors, the `anchor-webhooks` binary, private redis-servers, free ports."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Iterator, Optional

import pytest

REPO = Path(__file__).resolve().parents[2]
VECTORS = REPO / "tests" / "vectors"
# What each file of tests/vectors/ holds; test_vectors.py fails on a JSON file missing here (no handler).
VECTOR_FILES = {"anchor.json": "verification", "standard.json": "verification", "secrets.json": "secrets"}


def vector_documents(kind: str) -> list[tuple[str, dict]]:
    """(file name, document) of every tests/vectors/*.json of that kind (see VECTOR_FILES), by name."""
    import json

    documents = []
    for path in sorted(VECTORS.glob("*.json")):
        if VECTOR_FILES.get(path.name) == kind:
            document = json.loads(path.read_text(encoding="utf-8"))
            assert document["format"] == 1, f"{path.name}: unknown vector format {document['format']}"
            assert document["cases"], f"{path.name} has no cases"
            documents.append((path.name, document))
    return documents
SECRET = "36da51b166a69268a59a8d5ee0b32c9f5e5aaee7d301c7a5a36844318e116fc6"
OTHER_SECRET = "8f1c2a4b6d8e0f1a3c5e7a9b1d3f5a7c9e1b3d5f7a9c1e3b5d7f9a1c3e5b7d9f"
STANDARD_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for_port(port: int, process: Optional[subprocess.Popen] = None, deadline: float = 20.0) -> None:
    """Waits until something accepts connections on 127.0.0.1:port (or the process died)."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode} before listening on {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {deadline} s")


def envelope(event_type: str = "task.completed", event_id: str = "evt_1", data: Optional[dict] = None) -> bytes:
    import json

    return json.dumps(
        {
            "id": event_id,
            "type": event_type,
            "created": "2026-05-24T12:18:05.123Z",
            "project_id": "5d2c31f6-ab7e-481a-b6fd-8b4a96a4e197",
            "text": f"Anchor event {event_type}",
            "data": data if data is not None else {"task_id": "tsk_1"},
        },
        separators=(",", ":"),
    ).encode()


class RedisServer:
    """A private redis-server on a free loopback port, in its own directory, killed at the end."""

    def __init__(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server not found: run scripts/ensure-redis.sh (test.sh does)")
        self.dir = tempfile.mkdtemp(prefix="anchor-webhooks-py-redis-")
        self.port = free_port()
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--daemonize", "no", "--dir", self.dir],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port, self.process)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def cli(self, *args: str) -> str:
        """Runs redis-cli against this server (a client independent of the store under test)."""
        out = subprocess.run(
            ["redis-cli", "-p", str(self.port), "--raw", *args], check=True, capture_output=True, text=True, timeout=10
        )
        return out.stdout.strip()

    def stop(self) -> None:
        self.process.kill()
        self.process.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def anchor_binary() -> Path:
    configured = os.environ.get("ANCHOR_WEBHOOKS_BIN")
    target = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
    binary = Path(configured) if configured else target / "debug" / "anchor-webhooks"
    if not binary.is_file():
        raise RuntimeError(f"{binary} not found: build it with `cargo build -p anchor-webhooks-cli` (test.sh does)")
    return binary
