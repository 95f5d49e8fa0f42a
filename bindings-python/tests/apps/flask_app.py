"""The Flask receiver of the end-to-end test (run by waitress)."""

from __future__ import annotations

from typing import Any, Dict

from flask import Flask, abort
from recorder import Recorder, receiver_from_env

from anchor_webhooks import Event
from anchor_webhooks.flask import verify_webhook

receiver = receiver_from_env()
recorder = Recorder()
app = Flask(__name__)


@app.post("/webhooks")
@verify_webhook(receiver)
def webhooks(event: Event) -> Dict[str, Any]:
    recorder.record("webhooks", event)
    return {"ok": True, "id": event.id}


@app.post("/flaky")
@verify_webhook(receiver)
def flaky(event: Event) -> Dict[str, Any]:
    if recorder.flaky_attempt(event) == 1:
        abort(503)
    recorder.record("flaky", event)
    return {"ok": True, "id": event.id}


@app.get("/stats")
def stats() -> Dict[str, Any]:
    return recorder.stats()
