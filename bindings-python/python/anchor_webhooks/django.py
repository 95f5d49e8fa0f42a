"""Django integration: a view decorator that verifies (and dedupes) the delivery.

::

    from django.http import HttpResponse
    from anchor_webhooks import Receiver, Verifier
    from anchor_webhooks.django import webhook_view

    receiver = Receiver(Verifier(settings.ANCHOR_WEBHOOK_SECRET))

    @webhook_view(receiver)
    def webhooks(request, event):
        handle(event)    # runs once per event; raise, or return a 5xx (or 429), to have the sender retry it
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
400/401/413 on a refused delivery, 500 (``body_consumed``) when the application read the body first, 200 on
a duplicate and 503 (with ``Retry-After``) on an in-progress event or ``store_unavailable``, without calling
the view, and logs each of those answers on the ``anchor_webhooks`` logger. A chunked body (no
Content-Length) is read under ASGI, and under WSGI when the server marks the input terminated. Under ASGI
Django has received the whole body before the decorator runs: bound it in front of Django. The view (sync
or async) gets ``(request, event, *args, **kwargs)``. With a ``Receiver`` the event is released (so the
sender's retry is processed) when the view raises, returns no response, or returns a status the sender
retries (3xx, 408, 429, 5xx), and completed when it returns any other. A sync view that returns inside an
open transaction (``ATOMIC_REQUESTS``, or a middleware's ``atomic``) has its event completed when that
transaction commits (``transaction.on_commit``); one that rolls back leaves the claim to end with its lease,
so the sender's retry after it runs the view again.
"""

from __future__ import annotations

import functools
import inspect
import sys
from io import BytesIO
from typing import Any, Callable, List, Optional, Protocol, TypeVar, Union, overload

from asgiref.sync import sync_to_async
from django.db import connections, transaction
from django.http import HttpRequest, JsonResponse
from django.http.response import HttpResponseBase
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt

from anchor_webhooks import Event, Reception, Receiver, Verifier, _http, sender_retries

# Defined at run time too, so that reading the annotations (typing.get_type_hints: Sphinx, typeguard) works.
if sys.version_info >= (3, 10):
    from typing import Concatenate, ParamSpec
else:
    from typing_extensions import Concatenate, ParamSpec  # the `django` extra installs it on 3.9

_P = ParamSpec("_P")
_R = TypeVar("_R")
# The view's request type: HttpRequest or a subclass (WSGIRequest, ASGIRequest, one of your own).
_Request = TypeVar("_Request", bound=HttpRequest)
_ViewClass = TypeVar("_ViewClass", bound=type)


class _WebhookViewDecorator(Protocol):
    """What ``webhook_view(target)`` returns: a class-based view stays that class; a view function
    ``view(request, event, *args)`` becomes ``view(request, *args)``, sync or async as it was."""

    @overload
    def __call__(self, view: _ViewClass) -> _ViewClass: ...
    @overload
    def __call__(
        self, view: Callable[Concatenate[_Request, Event, _P], _R]
    ) -> Callable[Concatenate[_Request, _P], _R]: ...
    def __call__(self, view: Any) -> Any: ...

__all__ = ["webhook_view"]


def _answer(answer: _http.Answer) -> JsonResponse:
    response = JsonResponse(answer.body, status=answer.status)
    for name, value in answer.headers.items():
        response[name] = value
    return response


def _content_length(meta: Any) -> Optional[int]:
    """The request's Content-Length, None when it has none (a chunked body) or one that is not a number."""
    try:
        length = int(meta.get("CONTENT_LENGTH") or "")
    except ValueError:
        return None
    return length if length >= 0 else None


def _raw_body(request: HttpRequest, limit: int) -> _http.RawBody:
    """At most ``limit + 1`` bytes of the body (see ``_http.read_at_most``), read past Django's own body reader
    (``request.body``), which would refuse a body over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` with its HTML 400: the
    verifier's ``max_body_bytes`` is the limit of a webhook view."""
    length = _content_length(request.META)
    if hasattr(request, "_body"):  # read in full already (request.body, or request.POST of a form)
        return _http.RawBody(request._body)
    if getattr(request, "_read_started", False):
        # request.read(), or request.POST / request.FILES of a multipart body, took the bytes.
        consumed = (
            "Django: the request's stream was read (request.read(), or request.POST or request.FILES of a "
            "multipart body)"
        )
        return _http.RawBody(b"", consumed)
    read = request.read
    if length is None and "wsgi.input" in request.META and request.META.get("wsgi.input_terminated"):
        # WSGI without Content-Length: Django's stream stops at once (it reads Content-Length bytes, 0). A
        # server that ends a chunked body itself says so (PEP 3333 errata, read by Werkzeug likewise): read
        # the input to its end. Under ASGI, request.read() reads the body Django received in full.
        read = request.META["wsgi.input"].read
        request._read_started = True
    body = _http.read_at_most(read, limit)
    unreadable = None if body or "wsgi.input" not in request.META else _http.unterminated_chunked_body(request.META, "Django")
    if unreadable is not None:
        return _http.RawBody(body, unreadable=unreadable)
    ended = _http.ended_early("Django", body, length, limit)
    if ended is not None:
        return ended
    if len(body) <= limit:
        # Django's own cache, as `request.body` leaves it: request.body, request.POST and request.read() work.
        request._body = body
        request._stream = BytesIO(body)
    return _http.RawBody(body)


def _begin(target: Union[Receiver, Verifier], request: HttpRequest) -> Union[JsonResponse, _http.Begun]:
    """Verifies (and claims): the event and its reception, or the answer to give instead of the view."""
    # request.META is the WSGI environ (HTTP_* variables): the core's CGI adapter reads it.
    begun = _http.begin(target, _raw_body(request, _http.body_limit(target)), request.META)
    return _answer(begun) if isinstance(begun, _http.Answer) else begun


def _finish(reception: Optional[Reception], result: Any) -> Any:
    """After the view returned: completes the claim (a store failure becomes the 503 answer), or releases
    it when the answer is a status the sender retries, or not a response at all (Django then answers 500)."""
    status = result.status_code if isinstance(result, HttpResponseBase) else 500
    instead = _http.finish(reception, status)
    return result if instead is None else _answer(instead)


def _open_transactions() -> List[str]:
    """The databases whose transaction around the view is still open when it returns (``ATOMIC_REQUESTS``, or a
    middleware's ``atomic``), a test case's own transaction aside: what the view wrote is not committed yet."""
    try:
        opened = connections.all(initialized_only=True)
    except TypeError:  # Django before 4.1 has no initialized_only
        opened = connections.all()
    return [
        connection.alias
        for connection in opened
        if connection.in_atomic_block
        and not all(getattr(block, "_from_testcase", False) for block in connection.atomic_blocks)
    ]


def _complete_at_commit(reception: Reception, status: int, aliases: List[str]) -> None:
    """Completes the claim once every open transaction committed. One that rolls back (a failed COMMIT) drops
    the callbacks: the claim then ends with its lease and the sender's retry runs the view again, where
    completing now would have answered that retry ``duplicate`` over writes that never happened."""
    waiting = set(aliases)

    def committed(alias: str) -> None:
        waiting.discard(alias)
        if not waiting:
            _http.finish(reception, status)  # a store failure is logged there; the answer has gone

    for alias in aliases:
        transaction.on_commit(functools.partial(committed, alias), using=alias)


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
    if reception is not None and isinstance(result, HttpResponseBase) and not sender_retries(result.status_code):
        aliases = _open_transactions()
        if aliases:
            _complete_at_commit(reception, result.status_code, aliases)
            return result
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


def webhook_view(target: Union[Receiver, Verifier]) -> _WebhookViewDecorator:
    """Decorates a view ``view(request, event, *args, **kwargs)`` (sync or async), or a class-based view
    (its ``post(self, request, event, ...)``); ``target`` is a ``Receiver`` (verify + dedupe) or a
    ``Verifier`` (verify only)."""
    if not isinstance(target, (Receiver, Verifier)):
        raise TypeError("webhook_view() takes a Receiver or a Verifier")

    def decorate(view: Any) -> Any:
        if isinstance(view, type):
            return _decorate_class(target, view)
        if inspect.iscoroutinefunction(view):

            @functools.wraps(view)
            async def async_wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
                return await _call_async(target, request, view, args, kwargs)

            return csrf_exempt(async_wrapper)

        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            return _call(target, request, view, args, kwargs)

        return csrf_exempt(wrapper)

    return decorate
