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
        handle(event)    # runs once per event; raise, or return a 5xx (or 429), to have the sender retry it
        return {"ok": True}

The decorator reads the raw body, at most ``max_body_bytes + 1`` bytes (the verifier's limit: a longer body
is refused with 413 without being read further; a body read in full stays in Werkzeug's cache, so a later
``request.get_data()`` or ``request.get_json()`` still works), answers 400/401/413 on a refused delivery,
500 (``body_consumed``) when the application read the body first, 200 on a duplicate and 503 (with
``Retry-After``) on an in-progress event or ``store_unavailable``, without calling the view, and logs each of
those answers on the ``anchor_webhooks`` logger. ``MAX_CONTENT_LENGTH``, when set, is enforced by Werkzeug
first (its HTML 413): keep it at least ``max_body_bytes``. The view (sync, or async with ``flask[async]``)
gets the ``Event`` as its first argument, then the URL parameters. With a ``Receiver`` the event is
released (so the sender's retry is processed) when the view raises or returns a status the sender retries
(3xx, 408, 429, 5xx), and completed when it returns any other.
"""

from __future__ import annotations

import functools
import sys
from typing import Any, Callable, Union

from flask import current_app, jsonify, request

from anchor_webhooks import Event, Receiver, Verifier, _http

# Defined at run time too, so that reading the annotations (typing.get_type_hints: Sphinx, typeguard) works.
if sys.version_info >= (3, 10):
    from typing import Concatenate, ParamSpec
else:
    from typing_extensions import Concatenate, ParamSpec  # the `flask` extra installs it on 3.9

# The URL parameters: the view takes the event, then them; Flask calls the decorated view with them only.
_P = ParamSpec("_P")

__all__ = ["verify_webhook"]


def _answer(answer: _http.Answer) -> Any:
    return jsonify(answer.body), answer.status, answer.headers


def _raw_body(limit: int) -> _http.RawBody:
    """At most ``limit + 1`` bytes of the body (see ``_http.read_at_most``)."""
    length = request.content_length
    # Werkzeug keeps `stream` (and `form`, which reads it) in the request's __dict__ once touched.
    read_by_the_application = "stream" in request.__dict__ and getattr(request, "_cached_data", None) is None
    if getattr(request, "_cached_data", None) is not None or (length is not None and length <= limit):
        # Cached already, or Werkzeug's stream stops at a Content-Length within the limit: its own reader.
        body = request.get_data(cache=True)
    else:
        # Over the limit, or no Content-Length (a chunked body the server terminates): read it ourselves.
        body = _http.read_at_most(request.stream.read, limit)
        if len(body) <= limit:
            request._cached_data = body  # Werkzeug's cache: a later get_data() or get_json() gets it
    unreadable = None if body else _http.unterminated_chunked_body(request.environ, "Flask")
    if unreadable is not None:
        return _http.RawBody(body, unreadable=unreadable)
    if not body and (length or 0) > 0 and read_by_the_application:
        # Werkzeug leaves nothing to read once request.form or request.stream consumed the body.
        consumed = f"Flask: Content-Length is {length} but no bytes are left; request.form or request.stream was read"
        return _http.RawBody(body, consumed)
    ended = None if read_by_the_application else _http.ended_early("Flask", body, length, limit)
    return ended or _http.RawBody(body)


def verify_webhook(target: Union[Receiver, Verifier]) -> Callable[[Callable[Concatenate[Event, _P], Any]], Callable[_P, Any]]:
    """Decorates a view ``view(event, **url_params)``; ``target`` is a ``Receiver`` (verify + dedupe) or a
    ``Verifier`` (verify only)."""
    if not isinstance(target, (Receiver, Verifier)):
        raise TypeError("verify_webhook() takes a Receiver or a Verifier")
    limit = _http.body_limit(target)

    def decorate(view: Callable[Concatenate[Event, _P], Any]) -> Callable[_P, Any]:
        @functools.wraps(view)
        def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> Any:
            # The WSGI environ itself: the core's CGI adapter reads HTTP_* variables without copying.
            begun = _http.begin(target, _raw_body(limit), request.environ)
            if isinstance(begun, _http.Answer):
                return _answer(begun)
            event, reception = begun
            try:
                # Flask's own conversion of what the view returned (a tuple, a dict, None: a TypeError),
                # done here to see the status.
                response = current_app.make_response(current_app.ensure_sync(view)(event, *args, **kwargs))
            except BaseException:
                if reception is not None:
                    reception.__exit__(*sys.exc_info())
                raise
            instead = _http.finish(reception, response.status_code)
            return response if instead is None else _answer(instead)

        return wrapper

    return decorate
