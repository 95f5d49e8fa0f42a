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
        ...   # runs once per event; raise to release the claim so the sender's retry is processed
        return {"ok": True}

The decorator reads ``request.get_data(cache=True)`` (the raw bytes; later ``request.get_json()`` still
works), answers 400/401/413 on a refused delivery, 200 on a duplicate and 503 (with ``Retry-After``) on
an in-progress event or ``store_unavailable``, without calling the view. The view (sync, or async with
``flask[async]``) gets the ``Event`` as its first argument, then the URL parameters.
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


def _raw_body() -> "tuple[bytes, Optional[str]]":
    body = request.get_data(cache=True)
    if not body and (request.content_length or 0) > 0:
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

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            body, note = _raw_body()
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
                result = current_app.ensure_sync(view)(event, *args, **kwargs)
            except BaseException:
                reception.__exit__(*sys.exc_info())
                raise
            try:
                reception.__exit__(None, None, None)
            except WebhookVerificationError as error:  # store_unavailable while recording completion
                return _answer(*_http.refusal(error))
            return result

        return wrapper  # type: ignore[return-value]

    return decorate
