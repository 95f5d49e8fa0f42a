"""What the end-to-end apps' handlers saw: handler runs per event id, and the typed fields they read."""

from __future__ import annotations

import os
import threading
from typing import Any, Dict

import anchor_webhooks as aw


def receiver_from_env() -> aw.Receiver:
    secrets = [secret for secret in os.environ["ANCHOR_SECRETS"].split(",") if secret]
    return aw.Receiver(aw.Verifier(secrets), aw.MemoryStore())


class Recorder:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.events: Dict[str, Dict[str, Any]] = {}
        self.flaky_attempts: Dict[str, int] = {}

    def record(self, route: str, event: aw.Event) -> None:
        task, session = event.task, event.session
        seen = {
            "route": route,
            "type": event.type,
            "matched_secret": event.matched_secret,
            "delivery_id": event.delivery_id,
            "created_aware": event.created is not None and event.created.utcoffset() is not None,
            "project_id": event.project_id,
            "data": event.data,
            "task": None
            if task is None
            else {
                "task_id": task.task_id,
                "artifacts": [[a.name, a.url, a.size, a.content_type] for a in task.artifacts],
                "error_type": task.error_type,
                "recording_url": task.recording_url,
                "healed_task_version_id": task.healed_task_version_id,
            },
            "session": None if session is None else {"session_id": session.session_id, "proxy_bytes": session.proxy_bytes},
        }
        with self.lock:
            entry = self.events.setdefault(event.id, {"runs": 0})
            entry.update(seen)
            entry["runs"] += 1

    def flaky_attempt(self, event: aw.Event) -> int:
        """Counts an attempt of the flaky handler; returns how many there were, this one included."""
        with self.lock:
            self.flaky_attempts[event.id] = self.flaky_attempts.get(event.id, 0) + 1
            return self.flaky_attempts[event.id]

    def stats(self) -> Dict[str, Any]:
        with self.lock:
            return {"events": dict(self.events), "flaky_attempts": dict(self.flaky_attempts)}
