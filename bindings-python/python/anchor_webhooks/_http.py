"""What the framework integrations answer: one status, JSON body and header set per outcome.

The statuses are the core's (``error.http_status``, ``Duplicate.http_status``); this module only shapes
the response, the same way for every framework.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional, Tuple, Union

from anchor_webhooks import (
    IN_PROGRESS_RETRY_AFTER_SECONDS,
    Duplicate,
    Reception,
    Receiver,
    Verifier,
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


def body_limit(target: Union[Receiver, Verifier]) -> int:
    """The verifier's ``max_body_bytes``: an integration reads at most one byte more."""
    verifier = target if isinstance(target, Verifier) else target.verifier
    return int(verifier.max_body_bytes)


# The largest piece asked for at once (a limit may be up to 2**64 - 1, more than a read() takes).
_READ_PIECE = 1 << 20


def read_at_most(read: Callable[[int], bytes], limit: int) -> bytes:
    """Reads until the end of the body or ``limit + 1`` bytes, whichever comes first: a longer body stops
    there, and those ``limit + 1`` bytes go to the core, which answers ``body_too_large`` (413) at its own
    point in its order of checks (a header error it checks first is answered instead). Never more."""
    pieces: List[bytes] = []
    size = 0
    while size <= limit:
        piece = read(min(limit + 1 - size, _READ_PIECE))
        if not piece:
            break
        pieces.append(piece)
        size += len(piece)
    body = b"".join(pieces)
    return body[: limit + 1]


class _ServerErrorAnswer(Exception):
    """Never raised: given to ``Reception.__exit__`` to release the claim when the view answered 5xx."""


def release(reception: Reception, status: int) -> None:
    """The view answered ``status`` (5xx) without raising: release the claim, as an exception would, so the
    sender's retry is processed (the view's own answer is still the one sent)."""
    # A release never raises: a store that cannot record it lets the claim lapse with its lease instead
    # (the core reports the handler's failure, not the store's).
    reception.__exit__(_ServerErrorAnswer, _ServerErrorAnswer(f"the view answered {status}"), None)


def answered_server_error(status: Optional[int]) -> bool:
    """A 5xx answer says "try again later": the event was not processed."""
    return status is not None and int(status) >= 500
