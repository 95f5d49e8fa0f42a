"""Django integration: a view decorator that verifies (and dedupes) the delivery.

::

    from anchor_webhooks import Receiver, Verifier
    from anchor_webhooks.django import webhook_view

    receiver = Receiver(Verifier(settings.ANCHOR_WEBHOOK_SECRET))

    @webhook_view(receiver)
    def webhooks(request, event):
        ...   # runs once per event; raise to release the claim so the sender's retry is processed
        return HttpResponse("ok")

The decorator reads ``request.body`` (the raw bytes), exempts the view from CSRF (a sender cannot send a
CSRF token; the signature is the authentication), answers 400/401/413 on a refused delivery, 200 on a
duplicate and 503 (with ``Retry-After``) on an in-progress event or ``store_unavailable``, without calling
the view. The view (sync or async) gets ``(request, event, *args, **kwargs)``.
"""

from __future__ import annotations

import functools
import inspect
import sys
from typing import Any, Callable, Optional, Tuple, TypeVar, Union

from asgiref.sync import sync_to_async
from django.http import HttpRequest, JsonResponse
from django.http.request import RawPostDataException
from django.http.response import HttpResponseBase
from django.views.decorators.csrf import csrf_exempt

from anchor_webhooks import Duplicate, Event, Reception, Receiver, Verifier, WebhookVerificationError, _http

__all__ = ["webhook_view"]

View = TypeVar("View", bound=Callable[..., Any])


def _answer(status: int, body: Any, headers: Any) -> JsonResponse:
    response = JsonResponse(body, status=status)
    for name, value in headers.items():
        response[name] = value
    return response


def _raw_body(request: HttpRequest) -> Tuple[bytes, Optional[str]]:
    try:
        return request.body, None
    except RawPostDataException as error:
        return b"", _http.CONSUMED_NOTE.format(detail=f"Django: {error}")


def _begin(target: Union[Receiver, Verifier], request: HttpRequest) -> Union[JsonResponse, Tuple[Event, Optional[Reception]]]:
    """Verifies (and claims): the event and its reception, or the answer to give instead of the view."""
    body, note = _raw_body(request)
    # request.META is the WSGI environ (HTTP_* variables): the core's CGI adapter reads it.
    headers = request.META
    try:
        if isinstance(target, Verifier):
            return target.verify(body, headers), None
        reception = target.receive(body, headers)
        return reception.__enter__(), reception
    except Duplicate as signal:
        return _answer(*_http.duplicate(signal))
    except WebhookVerificationError as error:
        return _answer(*_http.refusal(error, note))


def _finish(reception: Optional[Reception], result: Any) -> Any:
    """Completes the claim after the view returned; a store failure becomes the 503 answer."""
    if reception is None:
        return result
    try:
        reception.__exit__(None, None, None)
    except WebhookVerificationError as error:  # store_unavailable while recording completion
        return _answer(*_http.refusal(error))
    return result


def webhook_view(target: Union[Receiver, Verifier]) -> Callable[[View], View]:
    """Decorates a view ``view(request, event, *args, **kwargs)`` (sync or async); ``target`` is a
    ``Receiver`` (verify + dedupe) or a ``Verifier`` (verify only)."""
    if not isinstance(target, (Receiver, Verifier)):
        raise TypeError("webhook_view() takes a Receiver or a Verifier")

    def decorate(view: View) -> View:
        if inspect.iscoroutinefunction(view):

            @functools.wraps(view)
            async def async_wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
                # The store may be a network call: keep it off the event loop.
                begun = await sync_to_async(_begin)(target, request)
                if isinstance(begun, HttpResponseBase):
                    return begun
                event, reception = begun
                try:
                    result = await view(request, event, *args, **kwargs)
                except BaseException:
                    if reception is not None:
                        await sync_to_async(reception.__exit__)(*sys.exc_info())
                    raise
                return await sync_to_async(_finish)(reception, result)

            return csrf_exempt(async_wrapper)  # type: ignore[return-value]

        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            begun = _begin(target, request)
            if isinstance(begun, HttpResponseBase):
                return begun
            event, reception = begun
            try:
                result = view(request, event, *args, **kwargs)
            except BaseException:
                if reception is not None:
                    reception.__exit__(*sys.exc_info())
                raise
            return _finish(reception, result)

        return csrf_exempt(wrapper)  # type: ignore[return-value]

    return decorate
