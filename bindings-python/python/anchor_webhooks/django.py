"""Django integration: a view decorator that verifies (and dedupes) the delivery.

::

    from django.http import HttpResponse
    from anchor_webhooks import Receiver, Verifier
    from anchor_webhooks.django import webhook_view

    receiver = Receiver(Verifier(settings.ANCHOR_WEBHOOK_SECRET))

    @webhook_view(receiver)
    def webhooks(request, event):
        handle(event)    # runs once per event; raise, or return a 5xx, to have the sender retry it
        return HttpResponse("ok")

    @webhook_view(receiver)              # a class-based view: decorate the class, its post() gets the event
    class Webhooks(View):
        def post(self, request, event):
            handle(event)
            return HttpResponse("ok")

The decorator reads the raw body, at most ``max_body_bytes + 1`` bytes (the verifier's limit, which is the
limit of a webhook view rather than ``DATA_UPLOAD_MAX_MEMORY_SIZE``: a longer body is refused with the
package's 413 without being read further; a body read in full is ``request.body`` afterwards), exempts the
view from CSRF (a sender cannot send a CSRF token; the signature is the authentication), answers
400/401/413 on a refused delivery, 200 on a duplicate and 503 (with ``Retry-After``) on an in-progress event
or ``store_unavailable``, without calling the view. The view (sync or async) gets ``(request, event, *args,
**kwargs)``. With a ``Receiver`` the event is completed when the view returns a response below 500, and
released (so the sender's retry is processed) when the view raises or returns a 5xx (or no response).
"""

from __future__ import annotations

import functools
import inspect
import sys
from io import BytesIO
from typing import Any, Callable, Optional, Tuple, TypeVar, Union

from asgiref.sync import sync_to_async
from django.http import HttpRequest, JsonResponse
from django.http.request import RawPostDataException
from django.http.response import HttpResponseBase
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt

from anchor_webhooks import Duplicate, Event, Reception, Receiver, Verifier, WebhookVerificationError, _http

__all__ = ["webhook_view"]

View = TypeVar("View", bound=Callable[..., Any])


def _answer(status: int, body: Any, headers: Any) -> JsonResponse:
    response = JsonResponse(body, status=status)
    for name, value in headers.items():
        response[name] = value
    return response


def _content_length(request: HttpRequest) -> int:
    try:
        return max(int(request.META.get("CONTENT_LENGTH") or 0), 0)
    except ValueError:
        return 0


def _raw_body(request: HttpRequest, limit: int) -> Tuple[bytes, Optional[str]]:
    """At most ``limit + 1`` bytes of the body (see ``_http.read_at_most``), and the note to add to a
    refusal when the body was consumed before verification."""
    from django.conf import settings  # read at request time: importing this module needs no settings

    length = _content_length(request)
    in_memory = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    if hasattr(request, "_body") or (length <= limit and (in_memory is None or length <= in_memory)):
        # Read already, or within both limits: Django's own reader (which stops at Content-Length).
        try:
            return request.body, None
        except RawPostDataException as error:
            return b"", _http.CONSUMED_NOTE.format(detail=f"Django: {error}")
    # Over a limit: request.body would read it all, or refuse it with Django's HTML 400 when it is over
    # DATA_UPLOAD_MAX_MEMORY_SIZE. Read at most limit + 1 bytes: the core answers 413 for more.
    body = _http.read_at_most(request.read, limit)
    if not body and length > 0:
        return body, _http.CONSUMED_NOTE.format(
            detail=f"Django: Content-Length is {length} but no bytes are left; request.read() or request.POST was read"
        )
    if len(body) <= limit:
        # Django's own cache, as `request.body` leaves it: request.body, request.POST and request.read() work.
        request._body = body
        request._stream = BytesIO(body)
    return body, None


def _begin(target: Union[Receiver, Verifier], request: HttpRequest) -> Union[JsonResponse, Tuple[Event, Optional[Reception]]]:
    """Verifies (and claims): the event and its reception, or the answer to give instead of the view."""
    body, note = _raw_body(request, _http.body_limit(target))
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
    """After the view returned: completes the claim (a store failure becomes the 503 answer), or releases
    it when the answer is a 5xx, or not a response at all (Django then answers 500)."""
    if reception is None:
        return result
    status = result.status_code if isinstance(result, HttpResponseBase) else 500
    if _http.answered_server_error(status):  # the view said "try again later"
        _http.release(reception, status)
        return result
    try:
        reception.__exit__(None, None, None)
    except WebhookVerificationError as error:  # store_unavailable while recording completion
        return _answer(*_http.refusal(error))
    return result


def _call(target: Union[Receiver, Verifier], request: HttpRequest, view: Callable[..., Any], args: Any, kwargs: Any) -> Any:
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


async def _call_async(target: Union[Receiver, Verifier], request: HttpRequest, view: Callable[..., Any], args: Any, kwargs: Any) -> Any:
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


def _decorate_class(target: Union[Receiver, Verifier], view_class: type) -> type:
    """A class-based view: its ``post(self, request, event, ...)`` gets the event, and ``dispatch`` is exempt
    from CSRF (Django's CSRF check reads the attribute on the view ``as_view()`` makes from ``dispatch``)."""
    post = getattr(view_class, "post", None)
    if post is None:
        raise TypeError(f"webhook_view() on a class decorates its post() method, and {view_class.__name__} has none")
    if inspect.iscoroutinefunction(post):

        @functools.wraps(post)
        async def async_post(self: Any, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            return await _call_async(target, request, functools.partial(post, self), args, kwargs)

        view_class.post = async_post  # type: ignore[attr-defined]
    else:

        @functools.wraps(post)
        def sync_post(self: Any, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            return _call(target, request, functools.partial(post, self), args, kwargs)

        view_class.post = sync_post  # type: ignore[attr-defined]
    return method_decorator(csrf_exempt, name="dispatch")(view_class)  # type: ignore[no-any-return]


def webhook_view(target: Union[Receiver, Verifier]) -> Callable[[View], View]:
    """Decorates a view ``view(request, event, *args, **kwargs)`` (sync or async), or a class-based view
    (its ``post(self, request, event, ...)``); ``target`` is a ``Receiver`` (verify + dedupe) or a
    ``Verifier`` (verify only)."""
    if not isinstance(target, (Receiver, Verifier)):
        raise TypeError("webhook_view() takes a Receiver or a Verifier")

    def decorate(view: View) -> View:
        if isinstance(view, type):
            return _decorate_class(target, view)  # type: ignore[return-value]
        if inspect.iscoroutinefunction(view):

            @functools.wraps(view)
            async def async_wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
                return await _call_async(target, request, view, args, kwargs)

            return csrf_exempt(async_wrapper)  # type: ignore[return-value]

        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            return _call(target, request, view, args, kwargs)

        return csrf_exempt(wrapper)  # type: ignore[return-value]

    return decorate
