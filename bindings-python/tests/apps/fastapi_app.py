"""The FastAPI receiver of the end-to-end test (run by uvicorn)."""

from __future__ import annotations

from typing import Any, Dict

from fastapi import FastAPI, HTTPException
from recorder import Recorder, receiver_from_env

from anchor_webhooks import Event
from anchor_webhooks.fastapi import verified_event

receiver = receiver_from_env()
recorder = Recorder()
app = FastAPI()


@app.post("/webhooks")
async def webhooks(event: Event = verified_event(receiver)) -> Dict[str, Any]:
    recorder.record("webhooks", event)
    return {"ok": True, "id": event.id}


@app.post("/flaky")
def flaky(event: Event = verified_event(receiver)) -> Dict[str, Any]:
    if recorder.flaky_attempt(event) == 1:
        raise HTTPException(status_code=503, detail="temporarily unavailable")
    recorder.record("flaky", event)
    return {"ok": True, "id": event.id}


@app.get("/stats")
def stats() -> Dict[str, Any]:
    return recorder.stats()
