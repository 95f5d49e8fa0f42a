"""What the framework integrations answer: one status, JSON body and header set per outcome.

The statuses are the core's (``error.http_status``, ``Duplicate.http_status``); this module only shapes
the response, the same way for every framework.
"""

from __future__ import annotations

from typing import Any, Dict, Optional, Tuple

from anchor_webhooks import (
    IN_PROGRESS_RETRY_AFTER_SECONDS,
    Duplicate,
    WebhookVerificationError,
)

Answer = Tuple[int, Dict[str, Any], Dict[str, str]]


def _retry_headers(status: int) -> Dict[str, str]:
    # 503 means "try again": say when, so the sender (or a proxy) does not hammer us.
    return {"Retry-After": str(IN_PROGRESS_RETRY_AFTER_SECONDS)} if status == 503 else {}


def refusal(error: WebhookVerificationError, note: Optional[str] = None) -> Answer:
    """A verification (or store) failure: 400/401/413 from the core's code, 503 for ``store_unavailable``."""
    message = str(error) if note is None else f"{error} ({note})"
    status = int(error.http_status)
    return status, {"ok": False, "error": error.code, "message": message}, _retry_headers(status)


def duplicate(signal: Duplicate) -> Answer:
    """Already processed (200, handler not run) or in progress elsewhere (503 with Retry-After)."""
    status = int(signal.http_status)
    outcome = "in_progress" if signal.in_progress else "duplicate"
    return status, {"ok": not signal.in_progress, "outcome": outcome, "id": signal.event.id}, _retry_headers(status)


CONSUMED_NOTE = (
    "the framework reports that the request body was already read before verification ({detail}); "
    "verify first, or keep the raw bytes"
)
