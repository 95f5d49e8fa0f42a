"""Flask integration: a view decorator that verifies (and dedupes) the delivery.

::

    from flask import Flask
    from anchor_webhooks import Receiver, Verifier
    from anchor_webhooks.flask import verify_webhook

    receiver = Receiver(Verifier(SECRET))
    app = Flask(__name__)

    @app.post("/webhooks")
    @verify_webhook(receiver)
    def webhooks(event):
        handle(event)    # runs once per event; raise, or return a 5xx, to have the sender retry it
        return {"ok": True}

The decorator reads the raw body, at most ``max_body_bytes + 1`` bytes (the verifier's limit: a longer body
is refused with 413 without being read further; a body read in full stays in Werkzeug's cache, so a later
``request.get_data()`` or ``request.get_json()`` still works), answers 400/401/413 on a refused delivery,
200 on a duplicate and 503 (with ``Retry-After``) on an in-progress event or ``store_unavailable``, without
calling the view. The view (sync, or async with ``flask[async]``) gets the ``Event`` as its first argument,
then the URL parameters. With a ``Receiver`` the event is completed when the view returns a response below
500, and released (so the sender's retry is processed) when the view raises or returns a 5xx.
"""

from __future__ import annotations

import functools
import sys
from typing import Any, Callable, Optional, TypeVar, Union

from flask import current_app, jsonify, request

from anchor_webhooks import Duplicate, Receiver, Verifier, WebhookVerificationError, _http

__all__ = ["verify_webhook"]

View = TypeVar("View", bound=Callable[..., Any])


def _answer(status: int, body: Any, headers: Any) -> Any:
    return jsonify(body), status, headers


def _raw_body(limit: int) -> "tuple[bytes, Optional[str]]":
    """At most ``limit + 1`` bytes of the body (see ``_http.read_at_most``), and the note to add to a
    refusal when the body was consumed before verification."""
    length = request.content_length
    if getattr(request, "_cached_data", None) is not None or (length is not None and length <= limit):
        # Cached already, or Werkzeug's stream stops at a Content-Length within the limit: its own reader.
        body = request.get_data(cache=True)
    else:
        # Over the limit, or no Content-Length (a chunked body the server terminates): read it ourselves.
        body = _http.read_at_most(request.stream.read, limit)
        if len(body) <= limit:
            request._cached_data = body  # Werkzeug's cache: a later get_data() or get_json() gets it
    if not body and (length or 0) > 0:
        # Werkzeug leaves nothing to read once request.form or request.stream consumed the body.
        return body, _http.CONSUMED_NOTE.format(
            detail=f"Flask: Content-Length is {request.content_length} but no bytes are left; request.form or "
            "request.stream was read"
        )
    return body, None


def verify_webhook(target: Union[Receiver, Verifier]) -> Callable[[View], View]:
    """Decorates a view ``view(event, **url_params)``; ``target`` is a ``Receiver`` (verify + dedupe) or a
    ``Verifier`` (verify only)."""
    if not isinstance(target, (Receiver, Verifier)):
        raise TypeError("verify_webhook() takes a Receiver or a Verifier")
    limit = _http.body_limit(target)

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            body, note = _raw_body(limit)
            # The WSGI environ itself: the core's CGI adapter reads HTTP_* variables without copying.
            headers = request.environ
            if isinstance(target, Verifier):
                try:
                    event = target.verify(body, headers)
                except WebhookVerificationError as error:
                    return _answer(*_http.refusal(error, note))
                return current_app.ensure_sync(view)(event, *args, **kwargs)
            reception = target.receive(body, headers)
            try:
                event = reception.__enter__()
            except Duplicate as signal:
                return _answer(*_http.duplicate(signal))
            except WebhookVerificationError as error:
                return _answer(*_http.refusal(error, note))
            try:
                # Flask's own conversion of what the view returned (a tuple, a dict, None: a TypeError),
                # done here to see the status.
                response = current_app.make_response(current_app.ensure_sync(view)(event, *args, **kwargs))
            except BaseException:
                reception.__exit__(*sys.exc_info())
                raise
            if _http.answered_server_error(response.status_code):  # the view said "try again later"
                _http.release(reception, response.status_code)
                return response
            try:
                reception.__exit__(None, None, None)
            except WebhookVerificationError as error:  # store_unavailable while recording completion
                return _answer(*_http.refusal(error))
            return response

        return wrapper  # type: ignore[return-value]

    return decorate
