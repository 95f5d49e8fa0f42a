"""What a user's type checker makes of the stubs: `mypy --strict` flags a misspelt event type, error code and
task error type (the README's promise), and accepts the correct spellings."""

from __future__ import annotations

import re
from pathlib import Path

import mypy.api

SERVICE = '''\
from anchor_webhooks import Event, WebhookVerificationError


def route(event: Event) -> str:
    if event.type == "task.failed":
        return "failed"
    if event.type == "task.complete":
        return "misspelt type"
    task = event.task
    if task is not None and task.error_type == "timeout":
        return "timeout"
    if task is not None and task.error_type == "timout":
        return "misspelt error type"
    return "other"


def forged(error: WebhookVerificationError) -> bool:
    return error.code == "signature_mismatch" or error.code == "signature_mismach"
'''


def test_mypy_flags_misspelt_literals(tmp_path: Path) -> None:
    service = tmp_path / "service.py"
    service.write_text(SERVICE, encoding="utf-8")
    out, err, status = mypy.api.run(
        ["--strict", "--no-incremental", "--cache-dir", str(tmp_path / "cache"), "--no-error-summary", str(service)]
    )
    assert (status, err) == (1, "")
    # One error per misspelling, on its line, naming the misspelt literal: nothing else.
    found = [
        (int(match["line"]), match["right"])
        for match in re.finditer(
            r"^.*service\.py:(?P<line>\d+): error: Non-overlapping equality check \(left operand type: "
            r"\"Literal\[[^\]]*\]( \| None)?\", right operand type: \"Literal\['(?P<right>[^']*)'\]\"\)  \[comparison-overlap\]$",
            out,
            flags=re.M,
        )
    ]
    assert found == [(7, "task.complete"), (12, "timout"), (18, "signature_mismach")], out
    assert len(out.splitlines()) == 3, out
