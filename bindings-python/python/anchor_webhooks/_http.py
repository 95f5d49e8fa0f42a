"""What the framework integrations answer and log: one status, JSON body, header set and log record per
outcome, the same for every framework.

An integration reads the body (``RawBody``) and the headers, then calls ``begin`` (verify, and claim with a
``Receiver``) and, after its view answered, ``finish`` (complete or release the claim). Both return the
``Answer`` to give instead of the view's, if any. The statuses are the core's (``error.http_status``,
``Duplicate.http_status``), except ``body_consumed`` (500), which only an integration can tell. Every
answer given here is logged on the ``anchor_webhooks`` logger, here and nowhere else.
"""

from __future__ import annotations

import logging
from typing import Any, Callable, Dict, List, NamedTuple, Optional, Tuple, Union

from anchor_webhooks import (
    IN_PROGRESS_RETRY_AFTER_SECONDS,
    Duplicate,
    Event,
    Reception,
    Receiver,
    Verifier,
    WebhookVerificationError,
    sender_retries,
)

logger = logging.getLogger("anchor_webhooks")


class Answer(NamedTuple):
    """The answer to give instead of the view's."""

    status: int
    body: Dict[str, Any]
    headers: Dict[str, str]


class RawBody(NamedTuple):
    """What an integration read of the request body."""

    data: bytes
    # How the framework shows that the application read the body before verification (None: no sign of it).
    consumed: Optional[str] = None
    # Why the server could not hand the body over (None: it did): not the application's doing, nor the sender's.
    unreadable: Optional[str] = None
    # The bytes are missing but nothing in the framework read them: something in front of it did, or the client
    # announced a Content-Length and sent nothing. Anyone can send that, so it is logged at WARNING, not ERROR.
    maybe_the_client: bool = False


# A delivery verified (and claimed, with a Receiver): the event and the reception to finish.
Begun = Tuple[Event, Optional[Reception]]

# The codes the body decides (the headers and the timestamp were fine): with a body the application had
# consumed, they say nothing about the delivery.
_DECIDED_BY_THE_BODY = frozenset({"signature_mismatch", "invalid_payload", "body_too_large"})


def _retry_headers(status: int) -> Dict[str, str]:
    # 503 means "try again": say when, so the sender (or a proxy) does not hammer us.
    return {"Retry-After": str(IN_PROGRESS_RETRY_AFTER_SECONDS)} if status == 503 else {}


def _log(level: int, status: int, code: str, message: str) -> None:
    # The message is the core's or this module's: never a secret, a signature, a header or the body.
    logger.log(level, "anchor-webhooks: answered %d %s: %s", status, code, message)


def _failure(level: int, status: int, code: str, message: str) -> Answer:
    _log(level, status, code, message)
    return Answer(status, {"ok": False, "error": code, "message": message}, _retry_headers(status))


def _lost_body(body: RawBody) -> Optional[Tuple[str, str]]:
    """The code and message for a body whose signed bytes never reached verification, or None. Not shown to be
    forged: a 401 would be final for the sender (the event lost); a 500 has it retried, and the retry
    succeeds once the server or the application is fixed."""
    if body.unreadable is not None:
        return "body_unreadable", (
            f"the request body could not be read ({body.unreadable}), so the signature cannot be checked; "
            "answered 500 so the sender retries"
        )
    if body.consumed is not None:
        return "body_consumed", (
            f"the request body was consumed before verification ({body.consumed}), so the signature cannot be "
            "checked: verify before anything reads the body, or keep the raw bytes; answered 500 so the "
            "sender retries"
        )
    return None


def _refusal(error: WebhookVerificationError, body: RawBody) -> Answer:
    status, code, message = int(error.http_status), str(error.code), str(error)
    lost = _lost_body(body) if code in _DECIDED_BY_THE_BODY else None
    if lost is not None:
        return _failure(logging.WARNING if body.maybe_the_client else logging.ERROR, 500, *lost)
    # invalid_payload: signed but unusable, never retried, so the provider's event is lost; a 5xx: the event
    # waits for the sender's retry. Forgeries and stale or malformed requests are routine: INFO.
    level = logging.WARNING if status >= 500 or code == "invalid_payload" else logging.INFO
    return _failure(level, status, code, message)


def _duplicate(signal: Duplicate) -> Answer:
    """Already processed (200, handler not run) or in progress elsewhere (503 with Retry-After)."""
    status = int(signal.http_status)
    outcome = "in_progress" if signal.in_progress else "duplicate"
    # A duplicate is routine; an event in progress for long is a claim whose holder died or hangs: visible.
    _log(logging.INFO if signal.in_progress else logging.DEBUG, status, outcome, str(signal))
    body = {"ok": not signal.in_progress, "outcome": outcome, "id": signal.event.id}
    return Answer(status, body, _retry_headers(status))


def client_disconnected(detail: str) -> Answer:
    """The client went away before its body was read: no one reads this answer, but the request ends quietly
    (not with a framework's traceback), and nothing was verified or claimed."""
    return _failure(logging.INFO, 400, "client_disconnected", f"the client disconnected before its body was read ({detail})")


def unterminated_chunked_body(environ: Any, server: str) -> Optional[str]:
    """Why a WSGI server gave no body: the request is chunked (no Content-Length) and the server does not end
    the input for the application (no ``wsgi.input_terminated``, PEP 3333 errata), so what it hands over is
    empty. None when that is not the case."""
    chunked = "chunked" in str(environ.get("HTTP_TRANSFER_ENCODING", "")).lower()
    if not chunked or environ.get("wsgi.input_terminated") or environ.get("CONTENT_LENGTH"):
        return None
    return (
        f"{server}: the body is chunked (Transfer-Encoding: chunked) and this WSGI server does not hand a "
        "chunked body to the application (it sets no wsgi.input_terminated); run one that does, such as "
        "gunicorn, waitress or Werkzeug's"
    )


def ended_early(server: str, body: bytes, length: Optional[int], limit: int) -> Optional[RawBody]:
    """A WSGI input that ended before its Content-Length (within the limit: a longer body is refused as too
    large anyway), with nothing in the framework having read it, or None. A WSGI middleware read it, or part
    of it, or the client sent none, or went away mid-body (gunicorn passes such a body on): the bytes the
    sender signed never arrived, so not a forgery. ``body_consumed`` (500, so the sender retries if it was the
    middleware), logged at WARNING since anyone can send it."""
    if length is None or len(body) >= min(length, limit + 1):
        return None
    if not body:
        why = f"{server}: Content-Length is {length} but the server's input held no bytes: a WSGI middleware read it, or the client sent none"
    else:
        why = (
            f"{server}: Content-Length is {length} but the server's input ended after {len(body)} bytes: a WSGI "
            "middleware read part of it, or the client went away mid-body"
        )
    return RawBody(body, why, maybe_the_client=True)


def body_limit(target: Union[Receiver, Verifier]) -> int:
    """The verifier's ``max_body_bytes``: an integration reads at most one byte more."""
    verifier = target if isinstance(target, Verifier) else target.verifier
    return int(verifier.max_body_bytes)


def begin(target: Union[Receiver, Verifier], body: RawBody, headers: Any) -> Union[Answer, Begun]:
    """Verifies (and claims, with a ``Receiver``): the event and its reception (None for a ``Verifier``), or
    the answer to give instead of the view (a refusal, a duplicate, an event in progress elsewhere)."""
    try:
        if isinstance(target, Verifier):
            return target.verify(body.data, headers), None
        reception = target.receive(body.data, headers)
        return reception.__enter__(), reception
    except Duplicate as signal:
        return _duplicate(signal)
    except WebhookVerificationError as error:
        return _refusal(error, body)


def finish(reception: Optional[Reception], status: Optional[int]) -> Optional[Answer]:
    """The view answered ``status`` (None: a status the view left to the framework) without raising: completes
    the claim, or releases it for a status the sender retries (3xx, 408, 429, 5xx: the view said "try again
    later", and completing would answer that retry ``duplicate``; its answer is still the one sent).
    Returns the answer to send instead when the store could not record the completion."""
    if reception is None:
        return None
    if status is not None and sender_retries(int(status)):
        _release(reception, int(status))
        return None
    try:
        reception.__exit__(None, None, None)
    except WebhookVerificationError as error:
        # store_unavailable: the handler ran but "done" was not recorded, so the retry runs it again. Its
        # message names the event.
        return _failure(logging.ERROR, int(error.http_status), str(error.code), str(error))
    return None


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
    """Never raised: given to ``Reception.__exit__`` to release the claim when the view answered a status the
    sender retries."""


def _release(reception: Reception, status: int) -> None:
    """The view answered ``status`` (one the sender retries) without raising: release the claim, as an
    exception would, so the sender's retry is processed (the view's own answer is still the one sent)."""
    # A release never raises: a store that cannot record it lets the claim lapse with its lease instead
    # (the core reports the handler's failure, not the store's).
    reception.__exit__(_ServerErrorAnswer, _ServerErrorAnswer(f"the view answered {status}"), None)
