"""FastAPI / Starlette integration: a dependency that verifies (and dedupes) the delivery.

::

    from fastapi import FastAPI
    from anchor_webhooks import Event, Receiver, Verifier
    from anchor_webhooks.fastapi import verified_event

    receiver = Receiver(Verifier(SECRET))
    app = FastAPI()

    @app.post("/webhooks")
    async def webhooks(event: Event = verified_event(receiver)):   # or Annotated[Event, verified_event(r)]
        ...   # runs once per event; raise to release the claim so the sender's retry is processed

``verified_event`` returns the ``Depends(...)`` marker itself (do not wrap it in another ``Depends``): a
dependency that reads ``await request.body()`` (the raw bytes), answers 400/401/413 on a refused
delivery, 200 on a duplicate and 503 (with ``Retry-After``) on an in-progress event or
``store_unavailable``, all without running the endpoint. With a ``Receiver`` the event is completed when
the endpoint returns and released when it raises, before the response is sent (``scope="function"``, on
FastAPI 0.121 and later; older versions finish the dependency after the response, so a failure to record
completion cannot turn the answer into a 503 there).
"""

from __future__ import annotations

import inspect
import sys
from typing import Any, AsyncIterator, Callable, Optional, Union

from fastapi import Depends, HTTPException, Request
from starlette.concurrency import run_in_threadpool

from anchor_webhooks import (
    Duplicate,
    Event,
    Receiver,
    RedisStore,
    Verifier,
    WebhookVerificationError,
    _http,
)

__all__ = ["event_dependency", "verified_event"]


def _refused(error: WebhookVerificationError, note: Optional[str]) -> HTTPException:
    status, body, headers = _http.refusal(error, note)
    return HTTPException(status_code=status, detail=body, headers=headers or None)


async def _raw_body(request: Request) -> "tuple[bytes, Optional[str]]":
    try:
        return await request.body(), None
    except RuntimeError as error:  # Starlette: "Stream consumed" after request.stream() was iterated
        return b"", _http.CONSUMED_NOTE.format(detail=f"Starlette: {error}")


# Completing (or releasing) the claim must happen before the answer is sent: `scope="function"`.
_SCOPED = "scope" in inspect.signature(Depends).parameters


def verified_event(target: Union[Receiver, Verifier]) -> Any:
    """The ``Depends`` marker of a dependency giving the verified ``Event``; ``target`` is a ``Receiver``
    (verify + dedupe) or a ``Verifier`` (verify only)."""
    dependency = event_dependency(target)
    return Depends(dependency, scope="function") if _SCOPED else Depends(dependency)


def event_dependency(target: Union[Receiver, Verifier]) -> Callable[[Request], AsyncIterator[Event]]:
    """The bare dependency function behind ``verified_event`` (for your own ``Depends(...)``; give it
    ``scope="function"`` so the claim is completed before the response is sent)."""
    if not isinstance(target, (Receiver, Verifier)):
        raise TypeError("verified_event() takes a Receiver or a Verifier")

    async def dependency(request: Request) -> AsyncIterator[Event]:
        body, note = await _raw_body(request)
        if isinstance(target, Verifier):
            try:
                event = target.verify(body, request.headers)
            except WebhookVerificationError as error:
                raise _refused(error, note) from None
            yield event
            return
        reception = target.receive(body, request.headers)
        # A Redis round trip would block the event loop: run the store calls in the thread pool.
        remote = isinstance(target.store, RedisStore)

        async def call(function: Callable[..., Any], *args: Any) -> Any:
            return await run_in_threadpool(function, *args) if remote else function(*args)

        try:
            event = await call(reception.__enter__)
        except Duplicate as signal:
            status, payload, headers = _http.duplicate(signal)
            raise HTTPException(status_code=status, detail=payload, headers=headers or None) from None
        except WebhookVerificationError as error:
            raise _refused(error, note) from None
        try:
            yield event
        except BaseException:
            await call(reception.__exit__, *sys.exc_info())
            raise
        try:
            await call(reception.__exit__, None, None, None)
        except WebhookVerificationError as error:  # store_unavailable while recording completion
            raise _refused(error, None) from None

    return dependency
