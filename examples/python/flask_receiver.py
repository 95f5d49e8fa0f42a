"""A Flask webhook receiver: verify, dedupe, then process each Anchor event once.

    pip install "./bindings-python[flask]"   # from a checkout; not on PyPI yet
    ANCHOR_WEBHOOK_SECRET=... flask --app flask_receiver run --port 8000
"""

from __future__ import annotations

import os

from flask import Flask

from anchor_webhooks import Event, MemoryStore, Receiver, Verifier
from anchor_webhooks.flask import verify_webhook

receiver = Receiver(Verifier(os.environ["ANCHOR_WEBHOOK_SECRET"]), MemoryStore())
app = Flask(__name__)


@app.post("/webhooks")
@verify_webhook(receiver)
def webhooks(event: Event) -> dict[str, str]:
    # Runs once per event id; the raw body was read with request.get_data(cache=True), so
    # request.get_json() still works here if you prefer it to event.data.
    print(f"{event.type} {event.id} (secret #{event.matched_secret}): {event.data}")
    return {"status": "processed", "id": event.id}
