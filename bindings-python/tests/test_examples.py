"""The examples in examples/python work: each receives a signed delivery, once."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

import anchor_webhooks as aw
from conftest import REPO, SECRET, envelope

EXAMPLES = REPO / "examples" / "python"


def load(name: str, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.setenv("ANCHOR_WEBHOOK_SECRET", SECRET)
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)
    spec.loader.exec_module(module)
    return module


def test_fastapi_example(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from fastapi.testclient import TestClient

    client = TestClient(load("fastapi_receiver", monkeypatch).app)
    body = envelope("task.completed", "evt_ex_1", {"artifacts": [{"name": "a.pdf", "url": "https://x/a.pdf", "size": 3}]})
    headers = aw.sign(SECRET, body)
    first = client.post("/webhooks", content=body, headers=headers)
    assert first.status_code == 200 and first.json() == {"status": "processed", "id": "evt_ex_1"}
    second = client.post("/webhooks", content=body, headers=headers)
    assert second.status_code == 200 and second.json()["detail"]["outcome"] == "duplicate"
    assert capsys.readouterr().out.count("artifact a.pdf (3 bytes)") == 1
    assert client.post("/webhooks", content=body, headers={}).status_code == 400


def test_flask_example(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    client = load("flask_receiver", monkeypatch).app.test_client()
    body = envelope("batch.completed", "evt_ex_2", {"batch_id": "b_1"})
    headers = aw.sign(SECRET, body)
    assert client.post("/webhooks", data=body, headers=headers).get_json() == {"status": "processed", "id": "evt_ex_2"}
    assert client.post("/webhooks", data=body, headers=headers).get_json()["outcome"] == "duplicate"
    assert capsys.readouterr().out.count("batch.completed evt_ex_2") == 1
    assert client.post("/webhooks", data=body + b" ", headers=headers).status_code == 401


def test_examples_are_listed() -> None:
    listed = (EXAMPLES / "README.md").read_text()
    for example in sorted(Path(EXAMPLES).glob("*.py")):
        assert f"`{example.name}`" in listed, f"{example.name} is missing from examples/python/README.md"
