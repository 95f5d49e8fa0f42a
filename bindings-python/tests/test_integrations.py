"""The framework integrations in-process (FastAPI TestClient, Flask and Django test clients): every answer
they give. The FastAPI and Flask apps also run under real servers in test_e2e.py."""

from __future__ import annotations

from typing import Any, Callable

import pytest
from fastapi import Depends, FastAPI, Request

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


def check_outcomes(post: Callable[[bytes, dict[str, str]], tuple[int, dict[str, str], Any]], calls: Calls, receiver: aw.Receiver) -> None:
    """The behaviour every integration must have, whatever the framework."""
    body, headers = signed("evt_a")
    status, _, answer = post(body, headers)
    assert status == 200 and calls.ids == ["evt_a"], answer
    # Duplicate: 200, handler not run.
    status, _, answer = post(body, headers)
    assert (status, answer["outcome"], answer["id"]) == (200, "duplicate", "evt_a")
    assert calls.ids == ["evt_a"]
    # Forged: 401 with the code; malformed: 400; too large: 413.
    forged_body, forged_headers = signed("evt_f", OTHER_SECRET)
    status, _, answer = post(forged_body, forged_headers)
    assert (status, answer["error"]) == (401, "signature_mismatch")
    status, _, answer = post(body, {"content-type": "application/json"})
    assert (status, answer["error"]) == (400, "missing_header")
    status, _, answer = post(body, {**headers, "Anchor-Timestamp": "soon"})
    assert (status, answer["error"]) == (400, "malformed_timestamp")
    # In progress on another worker: 503 with Retry-After, handler not run.
    body_b, headers_b = signed("evt_b")
    holding = receiver.receive(body_b, headers_b)
    holding.__enter__()
    status, answer_headers, answer = post(body_b, headers_b)
    assert (status, answer["outcome"]) == (503, "in_progress")
    assert {k.lower(): v for k, v in answer_headers.items()}["retry-after"] == str(aw.IN_PROGRESS_RETRY_AFTER_SECONDS)
    holding.__exit__(RuntimeError, RuntimeError("worker died"), None)  # released
    # The handler fails: released, so the retry is processed (exactly once more).
    calls.fail_next = True
    status, _, _ = post(body_b, headers_b)
    assert status == 500  # the framework's answer to an exception: the sender retries
    status, _, _ = post(body_b, headers_b)
    assert status == 200 and calls.ids == ["evt_a", "evt_b", "evt_b"]
    status, _, answer = post(body_b, headers_b)
    assert (status, answer["outcome"]) == (200, "duplicate") and calls.ids.count("evt_b") == 2
    # Nothing in the answers leaks the secret.
    assert SECRET not in repr(answer)


def check_store_unavailable(post: Callable[[bytes, dict[str, str]], tuple[int, dict[str, str], Any]], calls: Calls) -> None:
    status, headers, answer = post(*signed("evt_s"))
    assert (status, answer["error"]) == (503, "store_unavailable")
    assert {k.lower(): v for k, v in headers.items()}["retry-after"] == str(aw.IN_PROGRESS_RETRY_AFTER_SECONDS)
    assert calls.ids == []


def check_completion_failure(make_post: Callable[[aw.Receiver, Calls], Any]) -> None:
    """The store dies while the handler runs: recording completion fails, and the answer (sent after
    completion, never before) is 503 with Retry-After so the sender retries."""
    server = RedisServer()
    try:
        calls = Calls()
        calls.during = server.stop
        post = make_post(aw.Receiver(aw.Verifier(SECRET), aw.RedisStore(server.url, timeout=2)), calls)
        status, headers, answer = post(*signed("evt_c"))
        assert (status, answer["error"]) == (503, "store_unavailable"), answer
        assert {k.lower(): v for k, v in headers.items()}["retry-after"] == str(aw.IN_PROGRESS_RETRY_AFTER_SECONDS)
        assert calls.ids == ["evt_c"]
    finally:
        server.stop()


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
        if response.status_code == 500:
            return 500, dict(response.headers), None
        payload = response.json()
        return response.status_code, dict(response.headers), payload.get("detail", payload)

    return post


def test_fastapi_outcomes() -> None:
    calls, receiver = Calls(), aw.Receiver(aw.Verifier(SECRET))
    check_outcomes(fastapi_client(receiver, calls), calls, receiver)


def test_fastapi_store_unavailable() -> None:
    calls = Calls()
    check_store_unavailable(fastapi_client(dead_redis_receiver(), calls), calls)


def test_fastapi_completion_failure_is_503() -> None:
    check_completion_failure(fastapi_client)


def test_fastapi_consumed_stream_is_reported() -> None:
    calls = Calls()
    status, _, answer = fastapi_client(aw.Receiver(aw.Verifier(SECRET)), calls, consume_first=True)(*signed())
    assert (status, answer["error"]) == (401, "signature_mismatch")
    assert "already read before verification" in answer["message"] and "Starlette" in answer["message"]
    assert calls.ids == []


def test_fastapi_verifier_only() -> None:
    calls = Calls()
    post = fastapi_client(aw.Verifier(SECRET), calls)
    body, headers = signed()
    assert post(body, headers)[0] == 200 and post(body, headers)[0] == 200
    assert calls.ids == ["evt_1", "evt_1"]  # no dedupe without a Receiver
    assert post(body + b" ", headers)[0] == 401


# --- Flask -----------------------------------------------------------------------------------------------


def flask_client(target: Any, calls: Calls, read_form_first: bool = False, asynchronous: bool = False):  # type: ignore[no-untyped-def]
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
        response = client.post("/hook/acme", data=body, headers=headers)
        return response.status_code, dict(response.headers), response.get_json(silent=True)

    return post


def test_flask_outcomes() -> None:
    calls, receiver = Calls(), aw.Receiver(aw.Verifier(SECRET))
    check_outcomes(flask_client(receiver, calls), calls, receiver)


def test_flask_async_view_outcomes() -> None:
    calls, receiver = Calls(), aw.Receiver(aw.Verifier(SECRET))
    check_outcomes(flask_client(receiver, calls, asynchronous=True), calls, receiver)


def test_flask_store_unavailable() -> None:
    calls = Calls()
    check_store_unavailable(flask_client(dead_redis_receiver(), calls), calls)


def test_flask_completion_failure_is_503() -> None:
    check_completion_failure(flask_client)


def test_flask_consumed_body_is_reported() -> None:
    calls = Calls()
    status, _, answer = flask_client(aw.Receiver(aw.Verifier(SECRET)), calls, read_form_first=True)(*signed())
    assert (status, answer["error"]) == (401, "signature_mismatch")
    assert "already read before verification" in answer["message"] and "Flask" in answer["message"]
    assert calls.ids == []


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
            ALLOWED_HOSTS=["testserver"],
            ROOT_URLCONF=__name__,
            MIDDLEWARE=["django.middleware.csrf.CsrfViewMiddleware"],
            SECRET_KEY="django-test-only",
        )
        django.setup()


def django_client(target: Any, calls: Calls, read_first: bool = False, asynchronous: bool = False):  # type: ignore[no-untyped-def]
    configure_django()
    from django.http import JsonResponse
    from django.test import Client

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

    from django.urls import clear_url_caches, path
    from django.views.decorators.csrf import csrf_exempt

    @csrf_exempt
    def read_then_hook(request: Any) -> Any:  # stands for middleware that read the body first
        request.read()
        return hook(request)

    name = f"v{len(urlpatterns)}"
    urlpatterns.append(path(f"hook/{name}", read_then_hook if read_first else hook))
    clear_url_caches()
    client = Client(enforce_csrf_checks=True, raise_request_exception=False)

    def post(body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, str], Any]:
        response = client.post(f"/hook/{name}", data=body, content_type="application/json", headers=headers)
        if response.status_code == 500:
            return 500, dict(response.headers), None
        return response.status_code, dict(response.headers), response.json()

    return post


def test_django_outcomes() -> None:
    calls, receiver = Calls(), aw.Receiver(aw.Verifier(SECRET))
    check_outcomes(django_client(receiver, calls), calls, receiver)


def test_django_async_view_outcomes() -> None:
    calls, receiver = Calls(), aw.Receiver(aw.Verifier(SECRET))
    check_outcomes(django_client(receiver, calls, asynchronous=True), calls, receiver)


def test_django_store_unavailable() -> None:
    calls = Calls()
    check_store_unavailable(django_client(dead_redis_receiver(), calls), calls)


def test_django_completion_failure_is_503() -> None:
    check_completion_failure(django_client)


def test_django_consumed_body_is_reported() -> None:
    calls = Calls()
    status, _, answer = django_client(aw.Receiver(aw.Verifier(SECRET)), calls, read_first=True)(*signed())
    assert (status, answer["error"]) == (401, "signature_mismatch")
    assert "already read before verification" in answer["message"] and "Django" in answer["message"]


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

