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


DECORATED = '''\
from flask import Flask
from django.http import HttpRequest, HttpResponse
from anchor_webhooks import Event, Receiver, Verifier
from anchor_webhooks.django import webhook_view
from anchor_webhooks.flask import verify_webhook

app = Flask(__name__)
receiver = Receiver(Verifier("s3cret"))


@app.post("/t/<tenant>")
@verify_webhook(receiver)
def flask_view(event: Event, tenant: str) -> str:
    return tenant + event.id


class SignedInRequest(HttpRequest):  # type: ignore[misc]  # of the application's own (Django has no types here)
    pass


@webhook_view(receiver)
async def django_view(request: SignedInRequest, event: Event, tenant: str) -> HttpResponse:
    return HttpResponse(event.id)


reveal_type(flask_view)
reveal_type(django_view)
'''


def test_the_decorated_views_take_what_the_framework_passes(tmp_path: Path) -> None:
    """The decorators take the event off the view's parameters: Flask calls the view with the URL parameters
    only, Django with the request (of the view's own request type) and them (an async view stays async)."""
    service = tmp_path / "views.py"
    service.write_text(DECORATED, encoding="utf-8")
    config = Path(__file__).resolve().parents[1] / "pyproject.toml"
    out, err, status = mypy.api.run(
        ["--config-file", str(config), "--no-incremental", "--cache-dir", str(tmp_path / "cache"), "--no-error-summary", str(service)]
    )
    revealed = re.findall(r'Revealed type is "(.*)"', out)
    assert revealed == [
        "def (tenant: str) -> Any",
        "def (views.SignedInRequest, tenant: str) -> typing.Coroutine[Any, Any, Any]",
    ], out
    assert "error" not in out, out
