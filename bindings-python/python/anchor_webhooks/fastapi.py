"""FastAPI / Starlette integration: a dependency that verifies (and dedupes) the delivery.

::

    from fastapi import FastAPI
    from anchor_webhooks import Event, Receiver, Verifier
    from anchor_webhooks.fastapi import verified_event

    receiver = Receiver(Verifier(SECRET))
    app = FastAPI()

    @app.post("/webhooks")
    async def webhooks(event: Event = verified_event(receiver)):   # or Annotated[Event, verified_event(r)]
        handle(event)    # runs once per event; raise (e.g. HTTPException(503)) to have the sender retry it
        return {"ok": True}

``verified_event`` returns the ``Depends(...)`` marker itself (do not wrap it in another ``Depends``): a
dependency that reads the raw body from ``request.stream()``, at most ``max_body_bytes + 1`` bytes (the
verifier's limit: a longer body is refused with 413 without being read further; a body read in full is
left in Starlette's cache, so ``await request.body()`` still works), answers 400/401/413 on a refused
delivery, 500 (``body_consumed``) when the application iterated ``request.stream()`` first, 200 on a
duplicate and 503 (with ``Retry-After``) on an in-progress event or ``store_unavailable``, all without
running the endpoint, and logs each of those answers on the ``anchor_webhooks`` logger. With a
``Receiver`` the event is completed when the endpoint returns and released when it raises, before the
response is sent (``scope="function"``, on FastAPI 0.121 and later; older versions finish the dependency
after the response, so a failure to record completion cannot turn the answer into a 503 there).

Declare it before a database session dependency that commits after its ``yield``: dependencies end in the
reverse order of their start, so the claim is then completed after the commit, and a failed commit releases
it. Several markers for one target on a request verify and claim once; the others get the same event.

A dependency does not see a ``Response`` object the endpoint returns: to have the event retried, raise
(``HTTPException(503)``), or set the status on FastAPI's injected ``response: Response`` parameter
(``response.status_code = 503``), which the dependency does see; both release the claim. A returned
``JSONResponse(status_code=503)`` completes it.
"""

from __future__ import annotations

import inspect
import sys
from typing import Any, AsyncIterator, Callable, NoReturn, Union

from fastapi import Depends, HTTPException, Request, Response
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from anchor_webhooks import Event, Receiver, RedisStore, Verifier, _http

__all__ = ["event_dependency", "verified_event"]


def _raise(answer: _http.Answer) -> NoReturn:
    # A dependency stops a request by raising: FastAPI answers the body under `detail`.
    raise HTTPException(status_code=answer.status, detail=answer.body, headers=answer.headers or None)


async def _raw_body(request: Request, limit: int) -> _http.RawBody:
    """At most ``limit + 1`` bytes of the body (see ``_http.read_at_most``)."""
    if hasattr(request, "_body"):  # Starlette's cache: read in full already (by FastAPI or a dependency)
        return _http.RawBody(request._body)
    pieces = []
    size = 0
    stream = request.stream()
    try:
        async for piece in stream:
            pieces.append(piece)
            size += len(piece)
            if size > limit:  # the rest stays unread: the core refuses any body over the limit
                return _http.RawBody(b"".join(pieces)[: limit + 1])
    except RuntimeError as error:  # Starlette: "Stream consumed" after request.stream() was iterated
        return _http.RawBody(b"", f"Starlette: {error}; request.stream() was iterated before this dependency")
    except ClientDisconnect:
        _raise(_http.client_disconnected(f"{size} bytes received"))
    finally:
        await stream.aclose()
    body = b"".join(pieces)
    request._body = body  # Starlette's own cache: a later `await request.body()` or `.json()` gets it
    return _http.RawBody(body)


# Completing (or releasing) the claim must happen before the answer is sent: `scope="function"`.
_SCOPED = "scope" in inspect.signature(Depends).parameters


def verified_event(target: Union[Receiver, Verifier]) -> Any:
    """The ``Depends`` marker of a dependency giving the verified ``Event``; ``target`` is a ``Receiver``
    (verify + dedupe) or a ``Verifier`` (verify only)."""
    dependency = event_dependency(target)
    return Depends(dependency, scope="function") if _SCOPED else Depends(dependency)


def event_dependency(target: Union[Receiver, Verifier]) -> Callable[..., AsyncIterator[Event]]:
    """The bare dependency function behind ``verified_event`` (for your own ``Depends(...)``; give it
    ``scope="function"`` so the claim is completed before the response is sent)."""
    if not isinstance(target, (Receiver, Verifier)):
        raise TypeError("verified_event() takes a Receiver or a Verifier")
    limit = _http.body_limit(target)

    # A Redis round trip would block the event loop: the store calls run in the thread pool.
    remote = isinstance(target, Receiver) and isinstance(target.store, RedisStore)

    async def call(function: Callable[..., Any], *args: Any) -> Any:
        return await run_in_threadpool(function, *args) if remote else function(*args)

    # Where a request keeps the event this target verified: a second marker for it on the same request (a
    # router's dependencies and the endpoint's parameter) gets that event instead of claiming it again, which
    # would find its own request's claim in progress and answer 503 to every delivery.
    verified_here = f"anchor_webhooks.event.{id(target)}"

    # `response` is FastAPI's sub-response: the status an endpoint sets on it is seen here.
    async def dependency(request: Request, response: Response) -> AsyncIterator[Event]:
        earlier = request.scope.get(verified_here)
        if earlier is not None:
            yield earlier  # the first marker completes or releases the claim
            return
        begun = await call(_http.begin, target, await _raw_body(request, limit), request.headers)
        if isinstance(begun, _http.Answer):
            _raise(begun)
        event, reception = begun
        request.scope[verified_here] = event
        try:
            yield event
        except BaseException:
            if reception is not None:
                await call(reception.__exit__, *sys.exc_info())
            raise
        instead = await call(_http.finish, reception, response.status_code)
        if instead is not None:
            _raise(instead)

    return dependency
