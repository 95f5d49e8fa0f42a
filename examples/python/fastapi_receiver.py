"""A FastAPI webhook receiver: verify, dedupe, then process each Anchor event once.

    pip install "./bindings-python[fastapi]" uvicorn   # from a checkout; not on PyPI yet
    ANCHOR_WEBHOOK_SECRET=... uvicorn fastapi_receiver:app --port 8000

Try it against the local emulator: `anchor-webhooks serve --allow-insecure-localhost`, create a webhook for
http://127.0.0.1:8000/webhooks, and send test events (see the repository README).
"""

from __future__ import annotations

import os

from fastapi import FastAPI

from anchor_webhooks import Event, MemoryStore, Receiver, Verifier
from anchor_webhooks.fastapi import verified_event

# Several secrets during a rotation: Verifier([new, old]); a RedisStore(url) when you run several replicas.
receiver = Receiver(Verifier(os.environ["ANCHOR_WEBHOOK_SECRET"]), MemoryStore())
app = FastAPI()


@app.post("/webhooks")
async def webhooks(event: Event = verified_event(receiver)) -> dict[str, str]:
    # Runs once per event id. Raising here releases the claim, so the sender's retry is processed.
    if event.task is not None:
        for artifact in event.task.artifacts:
            print(f"{event.type}: artifact {artifact.name} ({artifact.size} bytes) at {artifact.url}")
        if event.task.error_type is not None:
            print(f"{event.type}: failed with {event.task.error_type}")
    elif event.session is not None:
        print(f"{event.type}: session {event.session.session_id} used {event.session.proxy_bytes} proxy bytes")
    else:
        print(f"{event.type}: {event.data}")
    return {"status": "processed", "id": event.id}
