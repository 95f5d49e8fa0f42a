"""The framework integrations in-process (FastAPI TestClient, Flask and Django test clients): every answer
they give. The FastAPI and Flask apps also run under real servers in test_e2e.py."""

from __future__ import annotations

from typing import Any, Callable, Iterator, Optional

import pytest
from fastapi import Depends, FastAPI, Request, Response

import anchor_webhooks as aw
from conftest import OTHER_SECRET, SECRET, RedisServer, envelope, free_port


def signed(event_id: str = "evt_1", secret: str = SECRET) -> tuple[bytes, dict[str, str]]:
    body = envelope(event_id=event_id)
    return body, aw.sign(secret, body)


class Calls:
    """Counts handler runs and can make the handler fail."""

    def __init__(self) -> None:
        self.ids: list[str] = []
        self.fail_next = False
        self.during: Callable[[], None] = lambda: None

    def run(self, event: aw.Event) -> None:
        self.ids.append(event.id)
        self.during()
        if self.fail_next:
            self.fail_next = False
            raise RuntimeError("handler failed")


# The core's messages for the refusals below (a change to one is a change to what senders are told).
FORGED = (
    "signature mismatch: none of the 1 signature(s) matches any of the 1 secret(s); was the body parsed and "
    "re-serialised? verify the raw bytes; is this the secret of this webhook?"
)
SENT_EMPTY = (
    "signature mismatch: none of the 1 signature(s) matches any of the 1 secret(s); the body is empty: was it "
    "consumed by a body parser before verification? pass the raw request body"
)
MISSING_SIGNATURE = (
    "missing header `Anchor-Signature`: is this a signed delivery, and does your framework pass all headers through?"
)
MALFORMED_TIMESTAMP = "malformed timestamp in `Anchor-Timestamp`: expected unix seconds as 1 to 12 ASCII digits"
NO_CREATED = "invalid payload (the signature is valid): `created` is missing or not a non-empty string"
REDIS_REFUSED = "dedupe store unavailable: redis: connection refused; answer 503 so the sender retries"
RETRY_AFTER = {"retry-after": str(aw.IN_PROGRESS_RETRY_AFTER_SECONDS)}

Post = Callable[[bytes, dict[str, str]], tuple[int, dict[str, str], Any]]


def refused(code: str, message: str) -> dict[str, Any]:
    """The JSON body of a refusal (FastAPI puts it under `detail`)."""
    return {"ok": False, "error": code, "message": message}


def consumed(detail: str) -> str:
    """The message of a `body_consumed` answer: `detail` says how the framework showed the body was gone."""
    return (
        f"the request body was consumed before verification ({detail}), so the signature cannot be checked: "
        "verify before anything reads the body, or keep the raw bytes; answered 500 so the sender retries"
    )


def cut_short(server: str, length: int, received: int) -> str:
    """The `body_consumed` detail of a WSGI input that ended before its Content-Length."""
    return (
        f"{server}: Content-Length is {length} but the server's input ended after {received} bytes: a WSGI "
        "middleware read part of it, or the client went away mid-body"
    )


def logged(caplog: pytest.LogCaptureFixture) -> list[tuple[str, str]]:
    """The records of the `anchor_webhooks` logger so far, as (level, message); clears them."""
    records = [(r.levelname, r.getMessage()) for r in caplog.records if r.name == "anchor_webhooks"]
    caplog.clear()
    return records


def answered(level: str, status: int, code: str, message: str) -> tuple[str, str]:
    """The log record of an answer the integration gave instead of the view's."""
    return (level, f"anchor-webhooks: answered {status} {code}: {message}")


def retry_after(headers: dict[str, str]) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items() if k.lower() == "retry-after"}


def check_outcomes(post: Post, calls: Calls, receiver: aw.Receiver, caplog: pytest.LogCaptureFixture) -> None:
    """The behaviour every integration must have, whatever the framework: answers and log records."""
    caplog.set_level("DEBUG", logger="anchor_webhooks")
    caplog.clear()
    body, headers = signed("evt_a")
    status, _, answer = post(body, headers)
    assert (status, answer, calls.ids, logged(caplog)) == (200, {"ok": True, "id": "evt_a"}, ["evt_a"], [])
    # Duplicate: 200, handler not run; logged at DEBUG only.
    status, answer_headers, answer = post(body, headers)
    assert (status, answer, retry_after(answer_headers)) == (200, {"ok": True, "outcome": "duplicate", "id": "evt_a"}, {})
    assert calls.ids == ["evt_a"]
    assert logged(caplog) == [
        answered("DEBUG", 200, "duplicate", 'event "evt_a" was already processed: answer 200 without processing it again')
    ]
    # Forged: 401 with the code; malformed: 400; sent empty: 401. Routine: INFO, never WARNING.
    forged_body, forged_headers = signed("evt_f", OTHER_SECRET)
    for sent, sent_headers, status_code, code, message in [
        (forged_body, forged_headers, 401, "signature_mismatch", FORGED),
        (body, {"content-type": "application/json"}, 400, "missing_header", MISSING_SIGNATURE),
        (body, {**headers, "Anchor-Timestamp": "soon"}, 400, "malformed_timestamp", MALFORMED_TIMESTAMP),
        # A body the sender really sent empty (nothing shows the application read it): 401, as forged.
        (b"", headers, 401, "signature_mismatch", SENT_EMPTY),
    ]:
        status, answer_headers, answer = post(sent, sent_headers)
        assert (status, answer, retry_after(answer_headers)) == (status_code, refused(code, message), {})
        assert logged(caplog) == [answered("INFO", status_code, code, message)]
    # Signed but unusable: 400 (final for the sender: the event is lost), so WARNING.
    unusable = b'{"id":"evt_p","type":"task.completed","data":{}}'
    status, _, answer = post(unusable, aw.sign(SECRET, unusable))
    assert (status, answer) == (400, refused("invalid_payload", NO_CREATED))
    assert logged(caplog) == [answered("WARNING", 400, "invalid_payload", NO_CREATED)]
    # In progress on another worker: 503 with Retry-After, handler not run; INFO (a claim whose worker died
    # or hangs shows up in the logs until its lease ends).
    body_b, headers_b = signed("evt_b")
    holding = receiver.receive(body_b, headers_b)
    holding.__enter__()
    status, answer_headers, answer = post(body_b, headers_b)
    assert (status, answer, retry_after(answer_headers)) == (503, {"ok": False, "outcome": "in_progress", "id": "evt_b"}, RETRY_AFTER)
    assert logged(caplog) == [
        answered(
            "INFO",
            503,
            "in_progress",
            'event "evt_b" is being processed by another worker: answer 503 with Retry-After so the sender retries later',
        )
    ]
    holding.__exit__(RuntimeError, RuntimeError("worker died"), None)  # released
    # The handler fails: released, so the retry is processed (exactly once more). The framework logs the
    # exception; the integration adds nothing.
    calls.fail_next = True
    status, _, _ = post(body_b, headers_b)
    assert status == 500  # the framework's answer to an exception: the sender retries
    status, _, _ = post(body_b, headers_b)
    assert status == 200 and calls.ids == ["evt_a", "evt_b", "evt_b"]
    assert logged(caplog) == []
    status, _, answer = post(body_b, headers_b)
    assert (status, answer["outcome"]) == (200, "duplicate") and calls.ids.count("evt_b") == 2
    # Nothing in the answers or the records leaks the secret.
    assert SECRET not in repr(answer) and SECRET not in caplog.text


def check_store_unavailable(post: Post, calls: Calls, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG", logger="anchor_webhooks")
    status, headers, answer = post(*signed("evt_s"))
    assert (status, answer, retry_after(headers)) == (503, refused("store_unavailable", REDIS_REFUSED), RETRY_AFTER)
    assert logged(caplog) == [answered("WARNING", 503, "store_unavailable", REDIS_REFUSED)]
    assert calls.ids == []


def check_completion_failure(make_post: Callable[[aw.Receiver, Calls], Any], caplog: pytest.LogCaptureFixture) -> None:
    """The store dies while the handler runs: recording completion fails, and the answer (sent after
    completion, never before) is 503 with Retry-After so the sender retries; the handler ran and will run
    again, so the record is an ERROR naming the event."""
    caplog.set_level("DEBUG", logger="anchor_webhooks")
    server = RedisServer()
    try:
        calls = Calls()
        calls.during = server.stop
        post = make_post(aw.Receiver(aw.Verifier(SECRET), aw.RedisStore(server.url, timeout=2)), calls)
        status, headers, answer = post(*signed("evt_c"))
        message = (
            "dedupe store unavailable: the handler of event evt_c ran, but recording it as done failed "
            "(redis: connection refused); a retry after the lease runs it again; answer 503 so the sender retries"
        )
        assert (status, answer, retry_after(headers)) == (503, refused("store_unavailable", message), RETRY_AFTER)
        assert logged(caplog) == [answered("ERROR", 503, "store_unavailable", message)]
        assert calls.ids == ["evt_c"]
    finally:
        server.stop()


def check_consumed(post: Post, calls: Calls, detail: str, caplog: pytest.LogCaptureFixture) -> None:
    """The framework shows that the application read the body before verification: 500 (the sender retries;
    a 401 would be final and lose the event), logged at ERROR."""
    caplog.set_level("DEBUG", logger="anchor_webhooks")
    message = consumed(detail)
    body, headers = signed()
    status, answer_headers, answer = post(body, headers)
    assert (status, answer, retry_after(answer_headers)) == (500, refused("body_consumed", message), {})
    assert logged(caplog) == [answered("ERROR", 500, "body_consumed", message)]
    # A request that is no delivery at all is still refused for what it is.
    status, _, answer = post(body, {"content-type": "application/json"})
    assert (status, answer) == (400, refused("missing_header", MISSING_SIGNATURE))
    assert logged(caplog) == [answered("INFO", 400, "missing_header", MISSING_SIGNATURE)]
    assert calls.ids == []


def dead_redis_receiver() -> aw.Receiver:
    return aw.Receiver(aw.Verifier(SECRET), aw.RedisStore(f"redis://127.0.0.1:{free_port()}/0", timeout=0.3))


# --- FastAPI ---------------------------------------------------------------------------------------------


def fastapi_client(target: Any, calls: Calls, consume_first: bool = False):  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    from anchor_webhooks.fastapi import verified_event

    app = FastAPI()

    async def consume(request: Request) -> None:
        if consume_first:
            async for _ in request.stream():
                pass

    @app.post("/hook")
    async def hook(_: None = Depends(consume), event: aw.Event = verified_event(target)) -> dict:
        calls.run(event)
        return {"ok": True, "id": event.id}

    client = TestClient(app, raise_server_exceptions=False)

    def post(body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, str], Any]:
        response = client.post("/hook", content=body, headers=headers)
        if response.headers.get("content-type") != "application/json":
            return response.status_code, dict(response.headers), None  # an exception's 500
        payload = response.json()
        return response.status_code, dict(response.headers), payload.get("detail", payload)

    return post


def test_fastapi_outcomes(caplog: pytest.LogCaptureFixture) -> None:
    calls, receiver = Calls(), aw.Receiver(aw.Verifier(SECRET))
    check_outcomes(fastapi_client(receiver, calls), calls, receiver, caplog)


def test_fastapi_store_unavailable(caplog: pytest.LogCaptureFixture) -> None:
    calls = Calls()
    check_store_unavailable(fastapi_client(dead_redis_receiver(), calls), calls, caplog)


def test_fastapi_completion_failure_is_503(caplog: pytest.LogCaptureFixture) -> None:
    check_completion_failure(fastapi_client, caplog)


def test_fastapi_consumed_stream_is_500(caplog: pytest.LogCaptureFixture) -> None:
    calls = Calls()
    post = fastapi_client(aw.Receiver(aw.Verifier(SECRET)), calls, consume_first=True)
    check_consumed(post, calls, "Starlette: Stream consumed; request.stream() was iterated before this dependency", caplog)


def test_fastapi_two_markers_on_one_request_claim_once(caplog: pytest.LogCaptureFixture) -> None:
    # A router's dependencies and the endpoint's parameter: the second gets the first's event. Claiming again
    # would find the request's own claim in progress and answer 503 to every delivery, forever.
    from fastapi import APIRouter
    from fastapi.testclient import TestClient

    from anchor_webhooks.fastapi import verified_event

    caplog.set_level("DEBUG", logger="anchor_webhooks")
    calls, receiver = Calls(), aw.Receiver(aw.Verifier(SECRET))
    router = APIRouter(dependencies=[verified_event(receiver)])

    @router.post("/hook")
    async def hook(event: aw.Event = verified_event(receiver)) -> dict:
        calls.run(event)
        return {"ok": True, "id": event.id}

    app = FastAPI()
    app.include_router(router)
    client = TestClient(app)
    body, headers = signed("evt_twice")
    first = client.post("/hook", content=body, headers=headers)
    assert (first.status_code, first.json(), calls.ids) == (200, {"ok": True, "id": "evt_twice"}, ["evt_twice"])
    again = client.post("/hook", content=body, headers=headers)
    assert (again.status_code, again.json()["detail"]["outcome"], calls.ids) == (200, "duplicate", ["evt_twice"])
    assert [level for level, _ in logged(caplog)] == ["DEBUG"]


@pytest.mark.parametrize("event_first", [True, False], ids=["event-first", "session-first"])
def test_fastapi_commit_failing_after_the_endpoint(event_first: bool) -> None:
    # What the README says about declaring verified_event before a session dependency that commits after
    # its yield: declared first, the event's claim ends last and a failed commit releases it.
    from fastapi.testclient import TestClient

    from anchor_webhooks.fastapi import verified_event

    calls, receiver = Calls(), aw.Receiver(aw.Verifier(SECRET))
    commit_fails = [True]

    async def session() -> Any:
        yield "session"
        if commit_fails[0]:
            commit_fails[0] = False
            raise RuntimeError("COMMIT failed")

    app = FastAPI()
    committing = Depends(session, scope="function")
    if event_first:

        @app.post("/hook")
        async def hook(event: aw.Event = verified_event(receiver), _: Any = committing) -> dict:
            calls.run(event)
            return {"ok": True}

    else:

        @app.post("/hook")
        async def hook(_: Any = committing, event: aw.Event = verified_event(receiver)) -> dict:  # type: ignore[misc]
            calls.run(event)
            return {"ok": True}

    client = TestClient(app, raise_server_exceptions=False)
    body, headers = signed("evt_commit")
    assert client.post("/hook", content=body, headers=headers).status_code == 500
    retry = client.post("/hook", content=body, headers=headers)
    if event_first:  # released: the retry runs the endpoint, and its commit succeeds
        assert (retry.status_code, retry.json(), calls.ids) == (200, {"ok": True}, ["evt_commit", "evt_commit"])
    else:  # completed before the commit failed: the retry is a duplicate, the writes are lost
        assert (retry.status_code, retry.json()["detail"]["outcome"], calls.ids) == (200, "duplicate", ["evt_commit"])


def test_fastapi_client_gone_before_the_body_ends_is_a_quiet_400(caplog: pytest.LogCaptureFixture) -> None:
    # Starlette raises ClientDisconnect from request.stream(): answered (to no one) and logged at INFO, not
    # an unhandled exception with a traceback for every dropped delivery.
    import asyncio

    caplog.set_level("INFO")
    calls = Calls()
    app = fastapi_app(aw.Receiver(aw.Verifier(SECRET)), calls)
    body = envelope()
    headers = [(k.lower().encode(), v.encode()) for k, v in aw.sign(SECRET, body).items()]
    sent: list[dict[str, Any]] = []
    incoming = iter([{"type": "http.request", "body": body[:10], "more_body": True}, {"type": "http.disconnect"}])

    async def receive() -> dict[str, Any]:
        return next(incoming)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
        "path": "/hook", "raw_path": b"/hook", "query_string": b"", "root_path": "", "headers": headers,
        "client": ("127.0.0.1", 1), "server": ("testserver", 80),
    }
    asyncio.run(app(scope, receive, send))
    message = "the client disconnected before its body was read (10 bytes received)"
    assert sent[0]["status"] == 400 and calls.ids == []
    records = [(r.name, r.levelname, r.getMessage()) for r in caplog.records]
    assert records == [("anchor_webhooks", "INFO", f"anchor-webhooks: answered 400 client_disconnected: {message}")]


def test_fastapi_verifier_only() -> None:
    calls = Calls()
    post = fastapi_client(aw.Verifier(SECRET), calls)
    body, headers = signed()
    assert post(body, headers)[0] == 200 and post(body, headers)[0] == 200
    assert calls.ids == ["evt_1", "evt_1"]  # no dedupe without a Receiver
    assert post(body + b" ", headers)[0] == 401


# --- Flask -----------------------------------------------------------------------------------------------


def flask_client(target: Any, calls: Calls, read_form_first: bool = False, asynchronous: bool = False, environ: Optional[dict] = None):  # type: ignore[no-untyped-def]
    from flask import Flask, request

    from anchor_webhooks.flask import verify_webhook

    app = Flask(__name__)

    @app.before_request
    def parse_early() -> None:
        if read_form_first:
            request.stream.read()

    if asynchronous:  # flask[async]: asgiref is installed (Django needs it too)

        @app.post("/hook/<tenant>")
        @verify_webhook(target)
        async def hook(event: aw.Event, tenant: str) -> dict:
            assert tenant == "acme"
            calls.run(event)
            return {"ok": True, "id": event.id}

    else:

        @app.post("/hook/<tenant>")
        @verify_webhook(target)
        def hook(event: aw.Event, tenant: str) -> dict:
            assert tenant == "acme"
            calls.run(event)
            return {"ok": True, "id": event.id}

    client = app.test_client()

    def post(body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, str], Any]:
        response = client.post("/hook/acme", data=body, headers=headers, environ_overrides=environ)
        return response.status_code, dict(response.headers), response.get_json(silent=True)

    return post


def test_flask_outcomes(caplog: pytest.LogCaptureFixture) -> None:
    calls, receiver = Calls(), aw.Receiver(aw.Verifier(SECRET))
    check_outcomes(flask_client(receiver, calls), calls, receiver, caplog)


def test_flask_async_view_outcomes(caplog: pytest.LogCaptureFixture) -> None:
    calls, receiver = Calls(), aw.Receiver(aw.Verifier(SECRET))
    check_outcomes(flask_client(receiver, calls, asynchronous=True), calls, receiver, caplog)


def test_flask_store_unavailable(caplog: pytest.LogCaptureFixture) -> None:
    calls = Calls()
    check_store_unavailable(flask_client(dead_redis_receiver(), calls), calls, caplog)


def test_flask_completion_failure_is_503(caplog: pytest.LogCaptureFixture) -> None:
    check_completion_failure(flask_client, caplog)


def test_flask_consumed_body_is_500(caplog: pytest.LogCaptureFixture) -> None:
    calls = Calls()
    post = flask_client(aw.Receiver(aw.Verifier(SECRET)), calls, read_form_first=True)
    detail = f"Flask: Content-Length is {len(signed()[0])} but no bytes are left; request.form or request.stream was read"
    check_consumed(post, calls, detail, caplog)


def test_flask_input_empty_without_the_application_reading_it_is_500_at_warning(caplog: pytest.LogCaptureFixture) -> None:
    # The server's input ends before its Content-Length and nothing in Flask read it: a WSGI middleware did,
    # or the client announced a body and sent none (anyone can). 500 as for a consumed body (the sender
    # retries), but at WARNING, and not blaming the application's code.
    caplog.set_level("DEBUG", logger="anchor_webhooks")
    calls = Calls()
    overrides = {"CONTENT_LENGTH": "100", "wsgi.input_terminated": True}  # gunicorn's environ, input ended
    post = flask_client(aw.Receiver(aw.Verifier(SECRET)), calls, environ=overrides)
    status, _, answer = post(b"", signed()[1])
    detail = "Flask: Content-Length is 100 but the server's input held no bytes: a WSGI middleware read it, or the client sent none"
    message = consumed(detail)
    assert (status, answer) == (500, refused("body_consumed", message))
    assert logged(caplog) == [answered("WARNING", 500, "body_consumed", message)] and calls.ids == []


def test_flask_input_cut_short_is_500_at_warning_not_a_forgery(caplog: pytest.LogCaptureFixture) -> None:
    # gunicorn passes a body on that ended before its Content-Length (the client went away mid-body, or a WSGI
    # middleware read part of it; Werkzeug reads what there is): never a forged signature (401, final), but
    # 500 at WARNING, as for an input that held no bytes, so the sender retries if it was the middleware.
    caplog.set_level("DEBUG", logger="anchor_webhooks")
    calls = Calls()
    body, headers = signed()
    overrides = {"CONTENT_LENGTH": str(len(body)), "wsgi.input_terminated": True}
    post = flask_client(aw.Receiver(aw.Verifier(SECRET)), calls, environ=overrides)
    status, _, answer = post(body[:40], headers)
    message = consumed(cut_short("Flask", len(body), 40))
    assert (status, answer) == (500, refused("body_consumed", message))
    assert logged(caplog) == [answered("WARNING", 500, "body_consumed", message)] and calls.ids == []
    # The whole body, with the same Content-Length: processed.
    assert post(body, headers)[0] == 200 and calls.ids == ["evt_1"]


def test_flask_verifier_only() -> None:
    calls = Calls()
    post = flask_client(aw.Verifier(SECRET), calls)
    body, headers = signed()
    assert post(body, headers)[0] == 200 and post(body, headers)[0] == 200 and calls.ids == ["evt_1", "evt_1"]


# --- Django ----------------------------------------------------------------------------------------------

# This module is the test URLconf: views are added as the tests create them.
urlpatterns: list = []


def configure_django() -> None:
    import django
    from django.conf import settings

    if not settings.configured:
        settings.configure(
            DEBUG=False,
            ALLOWED_HOSTS=["testserver", "127.0.0.1"],  # the test client, and the real servers of test_servers.py
            ROOT_URLCONF=__name__,
            MIDDLEWARE=["django.middleware.csrf.CsrfViewMiddleware"],
            SECRET_KEY="django-test-only",
            # For the transaction tests; no view touches it otherwise.
            DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
        )
        django.setup()


def django_client(target: Any, calls: Calls, read_first: bool = False, asynchronous: bool = False):  # type: ignore[no-untyped-def]
    configure_django()
    from django.http import JsonResponse

    from anchor_webhooks.django import webhook_view

    if asynchronous:

        @webhook_view(target)
        async def hook(request: Any, event: aw.Event) -> Any:
            calls.run(event)
            return JsonResponse({"ok": True, "id": event.id})

    else:

        @webhook_view(target)
        def hook(request: Any, event: aw.Event) -> Any:
            calls.run(event)
            return JsonResponse({"ok": True, "id": event.id})

    from django.views.decorators.csrf import csrf_exempt

    @csrf_exempt
    def read_then_hook(request: Any) -> Any:  # stands for middleware that read the body first
        request.read()
        return hook(request)

    if asynchronous:

        @csrf_exempt
        async def read_then_hook(request: Any) -> Any:  # type: ignore[misc]
            request.read()
            return await hook(request)

    return django_poster(django_url(read_then_hook if read_first else hook))


def django_url(view: Any, suffix: str = "") -> str:
    """Serves `view` at a new `/hook/v<N><suffix>`; returns the URL to post to (a suffix such as
    `/<tenant>` is filled in with `acme`)."""
    from django.urls import clear_url_caches, path

    name = f"v{len(urlpatterns)}"
    urlpatterns.append(path(f"hook/{name}{suffix}", view))
    clear_url_caches()
    return f"/hook/{name}" + ("/acme" if suffix else "")


def django_poster(url: str) -> Any:
    """`post(body, headers) -> (status, headers, JSON answer or None for a 500)` to `url` through Django's
    test client, with CSRF checks enforced as in production."""
    from django.test import Client

    client = Client(enforce_csrf_checks=True, raise_request_exception=False)

    def post(body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, str], Any]:
        response = client.post(url, data=body, content_type="application/json", headers=headers)
        if response["Content-Type"] != "application/json":
            return response.status_code, dict(response.headers), None  # an exception's 500
        return response.status_code, dict(response.headers), response.json()

    return post


def test_django_outcomes(caplog: pytest.LogCaptureFixture) -> None:
    calls, receiver = Calls(), aw.Receiver(aw.Verifier(SECRET))
    check_outcomes(django_client(receiver, calls), calls, receiver, caplog)


def test_django_async_view_outcomes(caplog: pytest.LogCaptureFixture) -> None:
    calls, receiver = Calls(), aw.Receiver(aw.Verifier(SECRET))
    check_outcomes(django_client(receiver, calls, asynchronous=True), calls, receiver, caplog)


def test_django_store_unavailable(caplog: pytest.LogCaptureFixture) -> None:
    calls = Calls()
    check_store_unavailable(django_client(dead_redis_receiver(), calls), calls, caplog)


def test_django_completion_failure_is_503(caplog: pytest.LogCaptureFixture) -> None:
    check_completion_failure(django_client, caplog)


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
def test_django_consumed_body_is_500(asynchronous: bool, caplog: pytest.LogCaptureFixture) -> None:
    calls = Calls()
    post = django_client(aw.Receiver(aw.Verifier(SECRET)), calls, read_first=True, asynchronous=asynchronous)
    detail = "Django: the request's stream was read (request.read(), or request.POST or request.FILES of a multipart body)"
    check_consumed(post, calls, detail, caplog)


def test_django_view_in_an_open_transaction_completes_at_commit(caplog: pytest.LogCaptureFixture) -> None:
    # ATOMIC_REQUESTS (or a middleware's atomic) wraps the decorated view: completing when the view returns
    # would record the event as done before its writes commit. A failed COMMIT then answers 500, and the
    # sender's retry would be answered `duplicate` over writes that never happened.
    import time

    configure_django()
    from django.db import transaction
    from django.views.decorators.csrf import csrf_exempt

    from anchor_webhooks.django import webhook_view

    caplog.set_level("DEBUG", logger="anchor_webhooks")
    calls, receiver = Calls(), aw.Receiver(aw.Verifier(SECRET), lease=1)
    seen_before_commit: list[str] = []
    commit_fails = [True]

    @webhook_view(receiver)
    def hook(request: Any, event: aw.Event) -> Any:
        from django.http import JsonResponse

        calls.run(event)
        return JsonResponse({"ok": True, "id": event.id})

    @csrf_exempt
    def atomic_request(request: Any) -> Any:  # what ATOMIC_REQUESTS does around the view
        with transaction.atomic():
            response = hook(request)
            try:  # the same delivery while the transaction is still open: not done yet
                with receiver.receive(request.body, request.META):
                    pass
            except aw.Duplicate as signal:
                seen_before_commit.append("in_progress" if signal.in_progress else "duplicate")
            if commit_fails[0] and response.status_code == 200:
                raise RuntimeError("COMMIT failed")  # the transaction rolls back
        return response

    post = django_poster(django_url(atomic_request))
    body, headers = signed("evt_tx")
    assert post(body, headers)[0] == 500 and calls.ids == ["evt_tx"]
    assert seen_before_commit == ["in_progress"]
    # Rolled back: not completed, so the claim ends with its lease and the retry after it runs the view again.
    status, _, answer = post(body, headers)
    assert (status, answer["outcome"], calls.ids) == (503, "in_progress", ["evt_tx"])
    time.sleep(1.1)
    commit_fails[0] = False
    assert post(body, headers)[0] == 200 and calls.ids == ["evt_tx", "evt_tx"]
    assert seen_before_commit == ["in_progress", "in_progress", "in_progress"]
    # Committed: completed then, so a redelivery is a duplicate.
    status, _, answer = post(body, headers)
    assert (status, answer["outcome"], calls.ids) == (200, "duplicate", ["evt_tx", "evt_tx"])


def test_django_verifier_only_and_csrf_exempt() -> None:
    calls = Calls()
    post = django_client(aw.Verifier(SECRET), calls)  # the client enforces CSRF checks: the view is exempt
    body, headers = signed()
    assert post(body, headers)[0] == 200 and calls.ids == ["evt_1"]


def test_integrations_refuse_other_targets() -> None:
    from anchor_webhooks.django import webhook_view
    from anchor_webhooks.fastapi import verified_event
    from anchor_webhooks.flask import verify_webhook

    for make in (verified_event, verify_webhook, webhook_view):
        with pytest.raises(TypeError, match="Receiver or a Verifier"):
            make("secret")  # type: ignore[arg-type]



# --- Bodies over the limit: read at most max_body_bytes + 1 bytes -----------------------------------------

FIFTY_MIB = 50 << 20
STALE_FORGED = {"Anchor-Signature": "t=1,v1=" + "0" * 64, "Anchor-Timestamp": "1"}


class CountingInput:
    """A `wsgi.input` of `total` bytes that counts the bytes read from it (never holds them all)."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.pulled = 0

    def read(self, size: int = -1) -> bytes:
        left = self.total - self.pulled
        size = left if size is None or size < 0 else min(size, left)
        self.pulled += size
        return b"x" * size

    def readline(self, size: int = -1) -> bytes:
        return self.read(size)


def wsgi_environ(path: str, headers: dict[str, str], stream: CountingInput, content_length: bool = True) -> dict[str, Any]:
    import sys

    environ: dict[str, Any] = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "CONTENT_TYPE": "application/json",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": stream,
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    if content_length:
        environ["CONTENT_LENGTH"] = str(stream.total)
    else:
        environ["wsgi.input_terminated"] = True  # a chunked body the server ends (Werkzeug reads it)
    for name, value in headers.items():
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    return environ


def call_wsgi(app: Any, environ: dict[str, Any]) -> tuple[int, Any]:
    import json

    statuses: list[str] = []
    chunks = app(environ, lambda status, headers, exc_info=None: statuses.append(status))
    try:
        body = b"".join(chunks)
    finally:
        getattr(chunks, "close", lambda: None)()
    return int(statuses[0].split()[0]), json.loads(body)


def call_asgi(
    app: Any, headers: dict[str, str], pieces: Iterator[bytes], content_length: Optional[int], path: str = "/hook"
) -> tuple[int, Any, int]:
    """POSTs the body `pieces` (one ASGI message each, made as they are asked for) to `path`; returns the
    status, the JSON answer and how many body bytes the app pulled."""
    import asyncio
    import json

    pulled = 0
    sent: list[dict[str, Any]] = []
    pending = next(pieces, None)
    answered: Optional[asyncio.Event] = None

    async def receive() -> dict[str, Any]:
        nonlocal pulled, pending
        if pending is None:
            assert answered is not None
            await answered.wait()  # the client stays until the answer is sent (Django listens for a disconnect)
            return {"type": "http.disconnect"}
        piece, pending = pending, next(pieces, None)
        pulled += len(piece)
        return {"type": "http.request", "body": piece, "more_body": pending is not None}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)
        if message["type"] == "http.response.body" and not message.get("more_body", False):
            assert answered is not None
            answered.set()

    async def run() -> None:
        nonlocal answered
        answered = asyncio.Event()
        await app(scope, receive, send)

    raw = [(name.lower().encode(), value.encode()) for name, value in headers.items()]
    raw.append((b"content-type", b"application/json"))
    if content_length is not None:
        raw.append((b"content-length", str(content_length).encode()))
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
        "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "", "headers": raw,
        "client": ("127.0.0.1", 1), "server": ("testserver", 80),
    }
    asyncio.run(run())
    body = b"".join(message.get("body", b"") for message in sent if message["type"] == "http.response.body")
    return sent[0]["status"], json.loads(body), pulled


def fifty_mib(piece: int) -> Iterator[bytes]:
    return (b"x" * piece for _ in range(FIFTY_MIB // piece))


def one_byte_each(body: bytes) -> Iterator[bytes]:
    return (body[i : i + 1] for i in range(len(body)))


def fastapi_app(target: Any, calls: Calls) -> FastAPI:
    from anchor_webhooks.fastapi import verified_event

    app = FastAPI()

    @app.post("/hook")
    async def hook(request: Request, event: aw.Event = verified_event(target)) -> dict:
        calls.run(event)
        return {"ok": True, "id": event.id, "body": (await request.body()).decode(), "json": await request.json()}

    return app


def flask_app(target: Any, calls: Calls):  # type: ignore[no-untyped-def]
    from flask import Flask, request

    from anchor_webhooks.flask import verify_webhook

    app = Flask(__name__)

    @app.post("/hook")
    @verify_webhook(target)
    def hook(event: aw.Event) -> dict:
        calls.run(event)
        return {"ok": True, "id": event.id, "body": request.get_data(as_text=True), "json": request.get_json()}

    return app


def django_wsgi(target: Any, calls: Calls) -> tuple[Any, str]:
    """Django's own WSGI handler (middleware, CSRF included) and the path of a webhook view."""
    import json

    configure_django()
    from django.core.handlers.wsgi import WSGIHandler
    from django.http import JsonResponse

    from anchor_webhooks.django import webhook_view

    @webhook_view(target)
    def hook(request: Any, event: aw.Event) -> Any:
        calls.run(event)
        body = request.body.decode()
        return JsonResponse({"ok": True, "id": event.id, "body": body, "json": json.loads(body)})

    return WSGIHandler(), django_url(hook)


def too_large(limit: int) -> str:
    """The core's 413 message when the integration stopped reading at `limit + 1` bytes (whatever the
    Content-Length says: the core sees only the bytes)."""
    return f"body too large: more than the limit of {limit} bytes"


def check_too_large(status: int, answer: Any, calls: Calls, message: str, caplog: pytest.LogCaptureFixture) -> None:
    assert (status, answer) == (413, refused("body_too_large", message))
    assert logged(caplog) == [answered("INFO", 413, "body_too_large", message)]
    assert calls.ids == []


@pytest.mark.parametrize("content_length", [FIFTY_MIB, None], ids=["content-length", "streamed"])
def test_fastapi_reads_at_most_the_limit(content_length: Optional[int], caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("INFO", logger="anchor_webhooks")
    calls = Calls()
    app = fastapi_app(aw.Receiver(aw.Verifier(SECRET)), calls)
    piece = 64 << 10
    status, answer, pulled = call_asgi(app, aw.sign(SECRET, b"x"), fifty_mib(piece), content_length)
    assert list(answer) == ["detail"]  # FastAPI's shape for an HTTPException
    check_too_large(status, answer["detail"], calls, too_large(aw.DEFAULT_MAX_BODY_BYTES), caplog)
    # One ASGI message past the 1 MiB limit, not 50 MiB.
    assert pulled == aw.DEFAULT_MAX_BODY_BYTES + piece
    # A stale forged header: the core's earlier check answers, still after reading no more.
    status, answer, pulled = call_asgi(app, STALE_FORGED, fifty_mib(piece), content_length)
    assert (status, answer["detail"]["error"], pulled) == (401, "timestamp_too_old", aw.DEFAULT_MAX_BODY_BYTES + piece)


def test_fastapi_body_at_the_limit_and_one_byte_over(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("INFO", logger="anchor_webhooks")
    body = envelope()
    calls = Calls()
    app = fastapi_app(aw.Receiver(aw.Verifier(SECRET, max_body_bytes=len(body))), calls)
    # One byte per message, so `pulled` is exactly what the dependency read.
    status, answer, pulled = call_asgi(app, aw.sign(SECRET, body), one_byte_each(body), len(body))
    # Read in full, verified, and left in Starlette's cache: the endpoint's request.body()/json() get it.
    assert (status, answer["id"], answer["body"], answer["json"]["id"], pulled) == (200, "evt_1", body.decode(), "evt_1", len(body))
    longer = envelope(event_id="evt_12")
    assert logged(caplog) == []
    status, answer, pulled = call_asgi(app, aw.sign(SECRET, longer), one_byte_each(longer), len(longer))
    message = too_large(len(body))
    assert (status, answer, pulled) == (413, {"detail": refused("body_too_large", message)}, len(body) + 1)
    assert logged(caplog) == [answered("INFO", 413, "body_too_large", message)]
    # Without a Content-Length, the size is not known: "more than".
    status, answer, pulled = call_asgi(app, aw.sign(SECRET, longer), one_byte_each(longer), None)
    message = too_large(len(body))
    assert (status, answer, pulled) == (413, {"detail": refused("body_too_large", message)}, len(body) + 1)
    assert logged(caplog) == [answered("INFO", 413, "body_too_large", message)]
    assert calls.ids == ["evt_1"]


@pytest.mark.parametrize("content_length", [True, False], ids=["content-length", "chunked"])
def test_flask_reads_at_most_the_limit(content_length: bool, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("INFO", logger="anchor_webhooks")
    calls = Calls()
    app = flask_app(aw.Receiver(aw.Verifier(SECRET)), calls)
    stream = CountingInput(FIFTY_MIB)
    status, answer = call_wsgi(app, wsgi_environ("/hook", aw.sign(SECRET, b"x"), stream, content_length))
    message = too_large(aw.DEFAULT_MAX_BODY_BYTES)
    check_too_large(status, answer, calls, message, caplog)
    assert stream.pulled == aw.DEFAULT_MAX_BODY_BYTES + 1
    stream = CountingInput(FIFTY_MIB)
    status, answer = call_wsgi(app, wsgi_environ("/hook", STALE_FORGED, stream, content_length))
    assert (status, answer["error"], stream.pulled) == (401, "timestamp_too_old", aw.DEFAULT_MAX_BODY_BYTES + 1)


class BodyInput(CountingInput):
    """A `wsgi.input` holding `body`, counting the bytes read from it."""

    def __init__(self, body: bytes) -> None:
        super().__init__(len(body))
        self.body = body

    def read(self, size: int = -1) -> bytes:
        start = self.pulled
        return self.body[start : start + len(super().read(size))]


@pytest.mark.parametrize("content_length", [True, False], ids=["content-length", "chunked"])
def test_flask_body_at_the_limit_and_one_byte_over(content_length: bool, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("INFO", logger="anchor_webhooks")
    body = envelope()
    calls = Calls()
    app = flask_app(aw.Receiver(aw.Verifier(SECRET, max_body_bytes=len(body))), calls)
    stream = BodyInput(body)
    status, answer = call_wsgi(app, wsgi_environ("/hook", aw.sign(SECRET, body), stream, content_length))
    # Read in full and left in Werkzeug's cache: the view's get_data()/get_json() get it.
    assert (status, answer["id"], answer["body"], answer["json"]["id"]) == (200, "evt_1", body.decode(), "evt_1")
    longer = envelope(event_id="evt_12")
    stream = BodyInput(longer)
    status, answer = call_wsgi(app, wsgi_environ("/hook", aw.sign(SECRET, longer), stream, content_length))
    message = too_large(len(body))
    assert (status, answer, stream.pulled) == (413, refused("body_too_large", message), len(body) + 1)
    assert logged(caplog) == [answered("INFO", 413, "body_too_large", message)]
    assert calls.ids == ["evt_1"]


@pytest.mark.parametrize("content_length", [True, False], ids=["content-length", "chunked"])
def test_django_reads_at_most_the_limit(content_length: bool, caplog: pytest.LogCaptureFixture) -> None:
    # 50 MiB is also over DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB): the answer is still the package's JSON 413,
    # not Django's HTML 400. Without a Content-Length the WSGI input is read to its end (the server marks it
    # terminated), and no further than the limit either.
    caplog.set_level("INFO", logger="anchor_webhooks")
    calls = Calls()
    handler, path = django_wsgi(aw.Receiver(aw.Verifier(SECRET)), calls)
    stream = CountingInput(FIFTY_MIB)
    status, answer = call_wsgi(handler, wsgi_environ(path, aw.sign(SECRET, b"x"), stream, content_length))
    message = too_large(aw.DEFAULT_MAX_BODY_BYTES)
    check_too_large(status, answer, calls, message, caplog)
    assert stream.pulled == aw.DEFAULT_MAX_BODY_BYTES + 1
    stream = CountingInput(FIFTY_MIB)
    status, answer = call_wsgi(handler, wsgi_environ(path, STALE_FORGED, stream, content_length))
    assert (status, answer["error"], stream.pulled) == (401, "timestamp_too_old", aw.DEFAULT_MAX_BODY_BYTES + 1)


@pytest.mark.parametrize("content_length", [True, False], ids=["content-length", "chunked"])
def test_django_body_at_the_limit_and_one_byte_over(content_length: bool, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("INFO", logger="anchor_webhooks")
    body = envelope()
    calls = Calls()
    handler, path = django_wsgi(aw.Receiver(aw.Verifier(SECRET, max_body_bytes=len(body))), calls)
    stream = BodyInput(body)
    status, answer = call_wsgi(handler, wsgi_environ(path, aw.sign(SECRET, body), stream, content_length))
    # Read in full and left in Django's cache: the view's request.body gets it.
    assert (status, answer["id"], answer["body"], answer["json"]["id"]) == (200, "evt_1", body.decode(), "evt_1")
    longer = envelope(event_id="evt_12")
    stream = BodyInput(longer)
    status, answer = call_wsgi(handler, wsgi_environ(path, aw.sign(SECRET, longer), stream, content_length))
    message = too_large(len(body))
    assert (status, answer, stream.pulled) == (413, refused("body_too_large", message), len(body) + 1)
    assert logged(caplog) == [answered("INFO", 413, "body_too_large", message)]
    assert calls.ids == ["evt_1"]


def test_django_wsgi_without_content_length_or_terminated_input_reads_nothing() -> None:
    # PEP 3333: without a Content-Length, only a server that marks the input terminated may be read to its
    # end (Werkzeug does the same for Flask); otherwise the body is empty, as the sender's bytes never came.
    body = envelope()
    calls = Calls()
    handler, path = django_wsgi(aw.Receiver(aw.Verifier(SECRET)), calls)
    stream = BodyInput(body)
    environ = wsgi_environ(path, aw.sign(SECRET, body), stream, content_length=False)
    del environ["wsgi.input_terminated"]
    status, answer = call_wsgi(handler, environ)
    assert (status, answer, stream.pulled, calls.ids) == (401, refused("signature_mismatch", SENT_EMPTY), 0, [])


@pytest.mark.parametrize("framework", ["flask", "django"])
def test_chunked_body_a_wsgi_server_does_not_hand_over_is_500(framework: str, caplog: pytest.LogCaptureFixture) -> None:
    # wsgiref (and Django's runserver) pass a chunked request on without ending its input: the application
    # sees an empty body. A 401 would be final for the sender and lose a genuine delivery: 500, retried.
    caplog.set_level("INFO", logger="anchor_webhooks")
    body = envelope()
    calls = Calls()
    target = aw.Receiver(aw.Verifier(SECRET))
    app, path = (flask_app(target, calls), "/hook") if framework == "flask" else django_wsgi(target, calls)
    stream = BodyInput(body)
    environ = wsgi_environ(path, {**aw.sign(SECRET, body), "Transfer-Encoding": "chunked"}, stream, content_length=False)
    del environ["wsgi.input_terminated"]
    status, answer = call_wsgi(app, environ)
    server = "Flask" if framework == "flask" else "Django"
    message = (
        f"the request body could not be read ({server}: the body is chunked (Transfer-Encoding: chunked) and this "
        "WSGI server does not hand a chunked body to the application (it sets no wsgi.input_terminated); run one "
        "that does, such as gunicorn, waitress or Werkzeug's), so the signature cannot be checked; answered 500 so "
        "the sender retries"
    )
    assert (status, answer, calls.ids) == (500, refused("body_unreadable", message), [])
    assert logged(caplog) == [answered("ERROR", 500, "body_unreadable", message)]
    # A server that ends the input: read, verified, processed.
    stream = BodyInput(body)
    environ = wsgi_environ(path, {**aw.sign(SECRET, body), "Transfer-Encoding": "chunked"}, stream, content_length=False)
    assert call_wsgi(app, environ)[0] == 200 and calls.ids == ["evt_1"]


def test_django_limit_is_the_verifiers_not_data_upload_max_memory_size() -> None:
    from django.test import override_settings

    calls = Calls()
    handler, path = django_wsgi(aw.Receiver(aw.Verifier(SECRET)), calls)
    body = envelope(data={"blob": "a" * 5000})
    with override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000):
        # Over Django's in-memory limit, within the verifier's: verified, and request.body works after.
        status, answer = call_wsgi(handler, wsgi_environ(path, aw.sign(SECRET, body), BodyInput(body)))
        assert (status, answer["id"], answer["json"]["data"]["blob"]) == (200, "evt_1", "a" * 5000)
        # Over both: the package's 413 JSON (Django alone would answer its HTML 400).
        stream = CountingInput(3 << 20)
        status, answer = call_wsgi(handler, wsgi_environ(path, aw.sign(SECRET, b"x"), stream))
        assert (status, answer["error"], stream.pulled) == (413, "body_too_large", aw.DEFAULT_MAX_BODY_BYTES + 1)
    # The test client's 3 MiB body (the user review's case): JSON 413 as well.
    configure_django()
    from django.test import Client

    big = envelope(data={"blob": "a" * (3 << 20)})
    response = Client().post(path, data=big, content_type="application/json", headers=aw.sign(SECRET, big))
    message = too_large(aw.DEFAULT_MAX_BODY_BYTES)
    assert (response.status_code, response["Content-Type"], response.json()) == (413, "application/json", refused("body_too_large", message))
    assert calls.ids == ["evt_1"]


def test_django_asgi_receives_the_whole_body_before_the_view(caplog: pytest.LogCaptureFixture) -> None:
    # Django's ASGI handler spools the whole body (in memory up to FILE_UPLOAD_MAX_MEMORY_SIZE, then on disk)
    # before any view or decorator runs: the verifier's limit cannot bound what is received there (the
    # README says so; the ASGI server or a proxy must). The decorator still reads at most limit + 1 bytes of
    # it and answers the package's JSON 413, with or without a Content-Length.
    caplog.set_level("INFO", logger="anchor_webhooks")
    configure_django()
    from django.core.handlers.asgi import ASGIHandler

    calls = Calls()
    _, path = django_wsgi(aw.Receiver(aw.Verifier(SECRET)), calls)  # the view, served here by Django's ASGI handler
    handler = ASGIHandler()
    piece = 64 << 10
    for content_length in (None, 3 << 20):
        status, answer, pulled = call_asgi(handler, aw.sign(SECRET, b"x"), (b"x" * piece for _ in range(48)), content_length, path)
        check_too_large(status, answer, calls, too_large(aw.DEFAULT_MAX_BODY_BYTES), caplog)
        assert pulled == 3 << 20


def test_flask_max_content_length_answers_first() -> None:
    # Werkzeug enforces MAX_CONTENT_LENGTH before the decorator reads anything: its HTML 413, not the package's
    # JSON, and no record (the README says to keep it at least max_body_bytes, or unset).
    from flask import Flask

    from anchor_webhooks.flask import verify_webhook

    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = 16 << 10

    @app.post("/hook")
    @verify_webhook(aw.Receiver(aw.Verifier(SECRET)))
    def hook(event: aw.Event) -> dict:
        return {"ok": True, "id": event.id}

    body = envelope(data={"blob": "a" * (20 << 10)})
    response = app.test_client().post("/hook", data=body, headers=aw.sign(SECRET, body))
    assert (response.status_code, response.content_type) == (413, "text/html; charset=utf-8")


# --- A view that RETURNS a 5xx: the claim is released, the retry is processed -----------------------------


def test_sender_retries_is_the_senders_rule() -> None:
    assert [status for status in (200, 204, 301, 302, 400, 404, 408, 409, 422, 429, 500, 503, 600) if aw.sender_retries(status)] == [
        301, 302, 408, 429, 500, 503, 600,
    ]
    assert aw.sender_retries(-1) and aw.sender_retries(70000)


def check_returned_5xx(post: Callable[[bytes, dict[str, str]], tuple[int, Any]], calls: Calls, mode: dict[str, Any]) -> None:
    """`mode["status"]` is the status the view answers with; `mode["none"]` makes it return no response."""
    body, headers = signed("evt_r")
    mode["status"] = 503
    assert post(body, headers)[0] == 503
    mode["status"] = 200
    status, answer = post(body, headers)  # the sender's retry: processed
    assert status == 200 and answer["id"] == "evt_r" and calls.ids == ["evt_r", "evt_r"]
    status, answer = post(body, headers)  # then done: a duplicate, not run again
    assert (status, answer["outcome"]) == (200, "duplicate") and calls.ids == ["evt_r", "evt_r"]
    # A view that returns nothing: the framework answers 500, and the claim is released as well.
    body, headers = signed("evt_n")
    mode["none"] = True
    assert post(body, headers)[0] == 500
    mode["none"] = False
    assert post(body, headers)[0] == 200 and calls.ids.count("evt_n") == 2
    # Statuses the sender retries release the claim too (completing would make the retry a duplicate).
    for retried in (429, 408, 302):
        body, headers = signed(f"evt_{retried}")
        mode["status"] = retried
        assert post(body, headers)[0] == retried
        mode["status"] = 200
        assert post(body, headers)[0] == 200 and calls.ids.count(f"evt_{retried}") == 2
    # A 4xx the sender takes as final is an answer, not a failure: completed.
    body, headers = signed("evt_4")
    mode["status"] = 422
    assert post(body, headers)[0] == 422
    mode["status"] = 200
    status, answer = post(body, headers)
    assert (status, answer["outcome"]) == (200, "duplicate") and calls.ids.count("evt_4") == 1


def test_flask_returned_5xx_releases() -> None:
    from flask import Flask

    from anchor_webhooks.flask import verify_webhook

    calls, mode = Calls(), {"status": 200, "none": False}
    app = Flask(__name__)

    @app.post("/hook")
    @verify_webhook(aw.Receiver(aw.Verifier(SECRET)))
    def hook(event: aw.Event) -> Any:
        calls.run(event)
        if mode["none"]:
            return None
        return {"ok": mode["status"] < 500, "id": event.id}, mode["status"]

    client = app.test_client()

    def post(body: bytes, headers: dict[str, str]) -> tuple[int, Any]:
        response = client.post("/hook", data=body, headers=headers)
        return response.status_code, response.get_json(silent=True)

    check_returned_5xx(post, calls, mode)


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
def test_django_returned_5xx_releases(asynchronous: bool) -> None:
    configure_django()
    from django.http import JsonResponse
    from django.test import Client

    from anchor_webhooks.django import webhook_view

    calls, mode = Calls(), {"status": 200, "none": False}

    def answer(event: aw.Event) -> Any:
        calls.run(event)
        return None if mode["none"] else JsonResponse({"ok": True, "id": event.id}, status=mode["status"])

    if asynchronous:

        @webhook_view(aw.Receiver(aw.Verifier(SECRET)))
        async def hook(request: Any, event: aw.Event) -> Any:
            return answer(event)

    else:

        @webhook_view(aw.Receiver(aw.Verifier(SECRET)))
        def hook(request: Any, event: aw.Event) -> Any:
            return answer(event)

    url = django_url(hook)
    client = Client(enforce_csrf_checks=True, raise_request_exception=False)

    def post(body: bytes, headers: dict[str, str]) -> tuple[int, Any]:
        response = client.post(url, data=body, content_type="application/json", headers=headers)
        return response.status_code, response.json() if response["Content-Type"] == "application/json" else None

    check_returned_5xx(post, calls, mode)


def test_fastapi_status_set_on_the_injected_response_releases() -> None:
    from fastapi.responses import JSONResponse
    from fastapi.testclient import TestClient

    from anchor_webhooks.fastapi import verified_event

    calls, mode = Calls(), {"status": 200, "none": False}
    app = FastAPI()

    @app.post("/hook")
    def hook(response: Response, event: aw.Event = verified_event(aw.Receiver(aw.Verifier(SECRET)))) -> Any:
        calls.run(event)
        if mode["none"]:
            raise RuntimeError("no answer")  # FastAPI turns None into `null`: a failure here is a raise
        response.status_code = mode["status"]
        return {"ok": True, "id": event.id}

    @app.post("/returned")
    def returned(event: aw.Event = verified_event(aw.Receiver(aw.Verifier(SECRET)))) -> Any:
        calls.run(event)
        return JSONResponse({"ok": False}, status_code=503)

    client = TestClient(app, raise_server_exceptions=False)

    def post(body: bytes, headers: dict[str, str], url: str = "/hook") -> tuple[int, Any]:
        response = client.post(url, content=body, headers=headers)
        payload = response.json() if response.headers.get("content-type") == "application/json" else None
        return response.status_code, payload.get("detail", payload) if isinstance(payload, dict) else payload

    check_returned_5xx(post, calls, mode)
    # Documented limit: a Response object the endpoint returns is not seen by the dependency, so a returned
    # JSONResponse(status_code=503) completes the claim (raise HTTPException(503) instead).
    body, headers = signed("evt_j")
    assert post(body, headers, "/returned")[0] == 503
    status, answer = post(body, headers, "/returned")
    assert (status, answer["outcome"]) == (200, "duplicate") and calls.ids.count("evt_j") == 1


@pytest.mark.parametrize("framework", ["fastapi", "flask", "django"])
def test_a_raised_final_status_is_answered_and_released(framework: str) -> None:
    # README "Completed or released": a raise releases whatever its status, so a later delivery of the event
    # (a replay after a fix) runs the code again; the framework still answers the status raised.
    calls, mode = Calls(), {"refuse": True}
    receiver = aw.Receiver(aw.Verifier(SECRET))
    if framework == "fastapi":
        from fastapi import HTTPException
        from fastapi.testclient import TestClient

        from anchor_webhooks.fastapi import verified_event

        app = FastAPI()

        @app.post("/hook")
        def fastapi_hook(event: aw.Event = verified_event(receiver)) -> Any:
            calls.run(event)
            if mode["refuse"]:
                raise HTTPException(404, "no such task")
            return {"id": event.id}

        client = TestClient(app, raise_server_exceptions=False)
        post = lambda body, headers: client.post("/hook", content=body, headers=headers).status_code  # noqa: E731
    elif framework == "flask":
        from flask import Flask, abort

        from anchor_webhooks.flask import verify_webhook

        flask_app = Flask(__name__)

        @flask_app.post("/hook")
        @verify_webhook(receiver)
        def flask_hook(event: aw.Event) -> Any:
            calls.run(event)
            if mode["refuse"]:
                abort(404)
            return {"id": event.id}

        flask_client = flask_app.test_client()
        post = lambda body, headers: flask_client.post("/hook", data=body, headers=headers).status_code  # noqa: E731
    else:
        configure_django()
        from django.http import Http404, JsonResponse
        from django.test import Client

        from anchor_webhooks.django import webhook_view

        @webhook_view(receiver)
        def django_hook(request: Any, event: aw.Event) -> Any:
            calls.run(event)
            if mode["refuse"]:
                raise Http404("no such task")
            return JsonResponse({"id": event.id})

        url = django_url(django_hook)
        django_client = Client(raise_request_exception=False)
        post = lambda body, headers: django_client.post(  # noqa: E731
            url, data=body, content_type="application/json", headers=headers
        ).status_code

    body, headers = signed("evt_404")
    assert post(body, headers) == 404
    mode["refuse"] = False
    assert post(body, headers) == 200 and calls.ids == ["evt_404", "evt_404"]
    assert post(body, headers) == 200 and calls.ids == ["evt_404", "evt_404"]  # done now: a duplicate


# --- Django class-based views ------------------------------------------------------------------------------


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
def test_django_class_based_view_is_csrf_exempt(asynchronous: bool, caplog: pytest.LogCaptureFixture) -> None:
    configure_django()
    from django.http import JsonResponse
    from django.test import Client
    from django.views import View

    from anchor_webhooks.django import webhook_view

    calls = Calls()
    receiver = aw.Receiver(aw.Verifier(SECRET))
    if asynchronous:

        @webhook_view(receiver)
        class Hook(View):
            async def post(self, request: Any, event: aw.Event, tenant: str) -> Any:
                assert isinstance(self, Hook) and tenant == "acme"
                calls.run(event)
                return JsonResponse({"ok": True, "id": event.id})

    else:

        @webhook_view(receiver)
        class Hook(View):  # type: ignore[no-redef]
            def post(self, request: Any, event: aw.Event, tenant: str) -> Any:
                assert isinstance(self, Hook) and tenant == "acme"
                calls.run(event)
                return JsonResponse({"ok": True, "id": event.id})

    url = django_url(Hook.as_view(), "/<tenant>")
    check_outcomes(django_poster(url), calls, receiver, caplog)
    assert Client().get(url).status_code == 405  # only post() is a webhook


def test_django_method_decorator_recipe() -> None:
    # `method_decorator(webhook_view(...))` on post() leaves the view under CSRF (Django reads the exemption
    # from dispatch): the README's recipe adds it there; without it a real client gets 403.
    configure_django()
    from django.http import JsonResponse
    from django.test import Client
    from django.utils.decorators import method_decorator
    from django.views import View
    from django.views.decorators.csrf import csrf_exempt

    from anchor_webhooks.django import webhook_view

    calls = Calls()
    verifier = aw.Verifier(SECRET)

    @method_decorator(csrf_exempt, name="dispatch")
    class Exempt(View):
        @method_decorator(webhook_view(verifier))
        def post(self, request: Any, event: aw.Event) -> Any:
            calls.run(event)
            return JsonResponse({"ok": True, "id": event.id})

    class Forgotten(View):
        @method_decorator(webhook_view(verifier))
        def post(self, request: Any, event: aw.Event) -> Any:
            calls.run(event)
            return JsonResponse({"ok": True, "id": event.id})

    exempt, forgotten = django_url(Exempt.as_view()), django_url(Forgotten.as_view())
    client = Client(enforce_csrf_checks=True)
    body, headers = signed()
    assert client.post(exempt, data=body, content_type="application/json", headers=headers).status_code == 200
    assert client.post(forgotten, data=body, content_type="application/json", headers=headers).status_code == 403
    assert calls.ids == ["evt_1"]


def test_django_class_without_post_is_refused() -> None:
    configure_django()
    from django.views import View

    from anchor_webhooks.django import webhook_view

    class NoPost(View):
        pass

    with pytest.raises(TypeError) as caught:
        webhook_view(aw.Verifier(SECRET))(NoPost)
    assert str(caught.value) == "webhook_view() on a class decorates its post() method, and NoPost has none"
