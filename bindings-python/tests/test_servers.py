"""The integrations under real HTTP servers: Django under gunicorn and waitress (WSGI) and under uvicorn (ASGI),
Flask under waitress and FastAPI under uvicorn (the servers of test_e2e.py, and gunicorn, which hands a
chunked body to the application without a Content-Length, as the WSGI errata allow: waitress and uvicorn's
Django adapter differ there). Waitress and uvicorn run in this process, so pytest's caplog sees the records of
the `anchor_webhooks` logger; gunicorn runs in its own, and its app writes them to a file.

Each app serves `webhooks` (the default 1 MiB limit), `big` (an 8 MiB limit, over Django's
DATA_UPLOAD_MAX_MEMORY_SIZE of 2.5 MB) and `consumed` (the application reads the body before the
integration). Bodies are sent chunked (no Content-Length, as a proxy that streams request bodies sends them)
and with a Content-Length; every answer and every record is checked exactly.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Iterator, Optional

import pytest
from fastapi import Depends, FastAPI, Request

import anchor_webhooks as aw
from conftest import SECRET, envelope, free_port, wait_for_port
from test_integrations import (
    SENT_EMPTY,
    answered,
    configure_django,
    consumed,
    cut_short,
    django_url,
    logged,
    refused,
    too_large,
)

APPS = Path(__file__).resolve().parent / "apps"
sys.path.insert(0, str(APPS))
from django_views import BIG_LIMIT, routes  # noqa: E402

KINDS = ["django-gunicorn", "django-waitress", "django-uvicorn", "flask-waitress", "fastapi-uvicorn"]


# --- the apps ------------------------------------------------------------------------------------------------


def django_app(asgi: bool) -> tuple[Any, dict[str, str]]:
    """Django's own WSGI or ASGI handler (CSRF middleware included) and the URL of each route."""
    configure_django()
    from django.core.handlers.asgi import ASGIHandler
    from django.core.handlers.wsgi import WSGIHandler

    urls = {route: django_url(view) for route, view in routes(SECRET).items()}
    return (ASGIHandler() if asgi else WSGIHandler()), urls


def receivers() -> dict[str, aw.Receiver]:
    return {
        "webhooks": aw.Receiver(aw.Verifier(SECRET)),
        "big": aw.Receiver(aw.Verifier(SECRET, max_body_bytes=BIG_LIMIT)),
        "consumed": aw.Receiver(aw.Verifier(SECRET)),
    }


def flask_app() -> tuple[Any, dict[str, str]]:
    from flask import Flask, request

    from anchor_webhooks.flask import verify_webhook

    app = Flask(__name__)

    @app.before_request
    def read_first() -> None:  # stands for code that read the body before the decorator
        if request.path == "/consumed":
            request.stream.read()

    for route, receiver in receivers().items():

        def hook(event: aw.Event) -> Any:
            return {"ok": True, "id": event.id, "size": len(request.get_data())}

        app.add_url_rule(f"/{route}", route, verify_webhook(receiver)(hook), methods=["POST"])
    return app, {route: f"/{route}" for route in receivers()}


async def read_first(request: Request) -> None:  # stands for a dependency that read the body first
    if request.url.path == "/consumed":
        async for _ in request.stream():
            pass


def fastapi_app() -> tuple[Any, dict[str, str]]:
    from anchor_webhooks.fastapi import verified_event

    app = FastAPI()
    for route, receiver in receivers().items():

        async def hook(request: Request, _: None = Depends(read_first), event: aw.Event = verified_event(receiver)) -> Any:
            return {"ok": True, "id": event.id, "size": len(await request.body())}

        app.post(f"/{route}")(hook)
    return app, {route: f"/{route}" for route in receivers()}


# --- the servers ---------------------------------------------------------------------------------------------


@contextlib.contextmanager
def waitress_server(app: Any) -> Iterator[int]:
    from waitress import wasyncore
    from waitress.server import create_server

    channels: dict[int, Any] = {}
    server = create_server(app, map=channels, host="127.0.0.1", port=0, threads=2)
    stop = threading.Event()

    def run() -> None:  # server.run(), with a way out; the channels are closed by the loop's own thread
        while not stop.is_set():
            wasyncore.loop(timeout=0.05, map=channels, count=1)
        for channel in list(channels.values()):
            channel.handle_close()
        server.task_dispatcher.shutdown()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield int(server.effective_port)
    finally:
        stop.set()
        thread.join(10)


@contextlib.contextmanager
def uvicorn_server(app: Any) -> Iterator[int]:
    import uvicorn

    port = free_port()
    # log_config=None: leave this process's logging (and caplog's handler) alone.
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(10)


@contextlib.contextmanager
def gunicorn_server(log: Path) -> Iterator[int]:
    port = free_port()
    env = {**os.environ, "ANCHOR_SECRETS": SECRET, "ANCHOR_LOG_FILE": str(log), "PYTHONPATH": str(APPS)}
    args = [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "1", "django_wsgi:application"]
    output = log.with_suffix(".out")
    with output.open("w") as sink:
        process = subprocess.Popen(args, env=env, cwd=APPS, stdout=sink, stderr=subprocess.STDOUT)
    try:
        wait_for_port(port, process)
        yield port
    except BaseException:
        print(f"--- gunicorn output ---\n{output.read_text(errors='replace')}")
        raise
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class Served:
    """An app under a real server: where to post, and the records of the `anchor_webhooks` logger."""

    def __init__(self, kind: str, port: int, urls: dict[str, str], log: Optional[Path] = None) -> None:
        self.kind, self.port, self.urls, self.log = kind, port, urls, log
        self.read = 0

    def records(self, caplog: pytest.LogCaptureFixture) -> list[tuple[str, str]]:
        """The records since the last call, as (level, message): caplog's, or those gunicorn's app wrote."""
        if self.log is None:
            return logged(caplog)
        lines = self.log.read_text(encoding="utf-8").splitlines()
        new, self.read = lines[self.read :], len(lines)
        return [tuple(json.loads(line)) for line in new]  # type: ignore[misc]

    def answer(self, answer: dict[str, Any]) -> dict[str, Any]:
        """The JSON body of an answer the integration gives: FastAPI puts it under `detail`."""
        return {"detail": answer} if self.kind.startswith("fastapi") else answer


@pytest.fixture(scope="module", params=KINDS)
def served(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    kind = request.param
    if kind == "django-gunicorn":
        log = tmp_path_factory.mktemp("gunicorn") / "records.jsonl"
        log.touch()
        with gunicorn_server(log) as port:
            yield Served(kind, port, {route: f"/{route}" for route in routes(SECRET)}, log)
        return
    if kind.startswith("django"):
        app, urls = django_app(asgi=kind == "django-uvicorn")
    else:
        app, urls = flask_app() if kind == "flask-waitress" else fastapi_app()
    serve = uvicorn_server if kind.endswith("uvicorn") else waitress_server
    with serve(app) as port:
        yield Served(kind, port, urls)


# --- the client ----------------------------------------------------------------------------------------------


def pieces(body: bytes, size: int = 64 << 10) -> Iterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


def post(port: int, path: str, body: bytes, headers: dict[str, str], chunked: bool) -> tuple[int, str, Any]:
    """POSTs `body`, chunked (a generator: http.client sends `Transfer-Encoding: chunked`, no Content-Length)
    or with a Content-Length; returns the status, the content type and the JSON answer."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        sent: Any = pieces(body) if chunked else body
        connection.request("POST", path, body=sent, headers={**headers, "Content-Type": "application/json"})
        response = connection.getresponse()
        raw = response.read()
        content_type = response.getheader("Content-Type", "")
        return response.status, content_type, json.loads(raw) if content_type == "application/json" else raw
    finally:
        connection.close()


# --- the tests -----------------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def records_from_debug(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG", logger="anchor_webhooks")


@pytest.mark.parametrize("chunked", [True, False], ids=["chunked", "content-length"])
def test_deliveries_within_the_limit_are_verified(served: Served, chunked: bool, caplog: pytest.LogCaptureFixture) -> None:
    mode = "chunked" if chunked else "length"
    body = envelope(event_id=f"evt_small_{mode}")
    assert post(served.port, served.urls["webhooks"], body, aw.sign(SECRET, body), chunked) == (
        200, "application/json", {"ok": True, "id": f"evt_small_{mode}", "size": len(body)},
    )
    # 3 MiB: over Django's DATA_UPLOAD_MAX_MEMORY_SIZE, within the verifier's 8 MiB (the webhook view's limit).
    big = envelope(event_id=f"evt_big_{mode}", data={"blob": "a" * (3 << 20)})
    assert post(served.port, served.urls["big"], big, aw.sign(SECRET, big), chunked) == (
        200, "application/json", {"ok": True, "id": f"evt_big_{mode}", "size": len(big)},
    )
    assert served.records(caplog) == []


@pytest.mark.parametrize("chunked", [True, False], ids=["chunked", "content-length"])
def test_a_body_over_the_limit_gets_the_json_413(served: Served, chunked: bool, caplog: pytest.LogCaptureFixture) -> None:
    # A little over the limit: the part left unread fits the sockets' buffers, so the client has sent it all
    # when the answer comes (a real sender reads the answer however much it still had to send).
    body = envelope(event_id="evt_huge", data={"blob": "a" * (aw.DEFAULT_MAX_BODY_BYTES + (64 << 10))})
    # The integration stopped at limit + 1 bytes, chunked or not: the core says "more than the limit".
    message = too_large(aw.DEFAULT_MAX_BODY_BYTES)
    assert post(served.port, served.urls["webhooks"], body, aw.sign(SECRET, body), chunked) == (
        413, "application/json", served.answer(refused("body_too_large", message)),
    )
    assert served.records(caplog) == [answered("INFO", 413, "body_too_large", message)]


def test_a_body_the_application_consumed_is_500(served: Served, caplog: pytest.LogCaptureFixture) -> None:
    body = envelope(event_id="evt_consumed")
    framework = served.kind.split("-")[0]
    detail = {
        "django": "Django: the request's stream was read (request.read(), or request.POST or request.FILES of a multipart body)",
        "flask": f"Flask: Content-Length is {len(body)} but no bytes are left; request.form or request.stream was read",
        "fastapi": "Starlette: Stream consumed; request.stream() was iterated before this dependency",
    }[framework]
    message = consumed(detail)
    assert post(served.port, served.urls["consumed"], body, aw.sign(SECRET, body), chunked=False) == (
        500, "application/json", served.answer(refused("body_consumed", message)),
    )
    assert served.records(caplog) == [answered("ERROR", 500, "body_consumed", message)]
    # The same delivery with its body intact (the sender's retry, once the application is fixed): processed.
    assert post(served.port, served.urls["webhooks"], body, aw.sign(SECRET, body), chunked=False) == (
        200, "application/json", {"ok": True, "id": "evt_consumed", "size": len(body)},
    )
    assert served.records(caplog) == []


@pytest.mark.parametrize("chunked", [True, False], ids=["chunked", "content-length"])
def test_a_body_sent_empty_is_401(served: Served, chunked: bool, caplog: pytest.LogCaptureFixture) -> None:
    # Nothing shows that the application read it: the sender sent nothing, and the answer stays 401.
    headers = aw.sign(SECRET, envelope(event_id="evt_empty"))
    assert post(served.port, served.urls["webhooks"], b"", headers, chunked) == (
        401, "application/json", served.answer(refused("signature_mismatch", SENT_EMPTY)),
    )
    assert served.records(caplog) == [answered("INFO", 401, "signature_mismatch", SENT_EMPTY)]


def test_a_content_length_the_client_never_sends_is_not_blamed_on_the_application(
    served: Served, caplog: pytest.LogCaptureFixture
) -> None:
    # A client announces 100 bytes, sends none and half-closes: anyone can do it. gunicorn hands the WSGI
    # application an input that ends at once, as it would after a middleware read it: 500 (if it were the
    # middleware, the sender retries), but at WARNING and not blaming the application's code. (waitress
    # buffers the whole body first; FastAPI's answer to a client gone mid-body is tested in test_integrations.)
    if served.kind != "django-gunicorn":
        pytest.skip("gunicorn is the server here that passes an incomplete body on to a WSGI application")
    headers = aw.sign(SECRET, envelope(event_id="evt_short"))
    with socket.create_connection(("127.0.0.1", served.port), timeout=30) as connection:
        head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        connection.sendall(
            f"POST {served.urls['webhooks']} HTTP/1.1\r\nHost: localhost\r\n"
            f"Content-Length: 100\r\nConnection: close\r\n{head}\r\n".encode()
        )
        connection.shutdown(socket.SHUT_WR)
        response = http.client.HTTPResponse(connection)
        response.begin()
        status, answer = response.status, json.loads(response.read())
    detail = "Django: Content-Length is 100 but the server's input held no bytes: a WSGI middleware read it, or the client sent none"
    message = consumed(detail)
    assert (status, answer) == (500, refused("body_consumed", message))
    assert served.records(caplog) == [answered("WARNING", 500, "body_consumed", message)]


def test_a_client_gone_mid_body_is_not_taken_for_a_forgery(served: Served, caplog: pytest.LogCaptureFixture) -> None:
    # The client sends part of the body and half-closes (it died, or a proxy that streams bodies gave up):
    # gunicorn passes the bytes it got on as the whole input. Not a forgery (401): 500 at WARNING, as for an
    # input that held no bytes (a WSGI middleware that read part of it looks the same, and then the sender's
    # retry must succeed once it is fixed).
    if served.kind != "django-gunicorn":
        pytest.skip("gunicorn is the server here that passes an incomplete body on to a WSGI application")
    body = envelope(event_id="evt_cut_short")
    headers = aw.sign(SECRET, body)
    with socket.create_connection(("127.0.0.1", served.port), timeout=30) as connection:
        head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        connection.sendall(
            f"POST {served.urls['webhooks']} HTTP/1.1\r\nHost: localhost\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n{head}\r\n".encode() + body[:40]
        )
        connection.shutdown(socket.SHUT_WR)
        response = http.client.HTTPResponse(connection)
        response.begin()
        status, answer = response.status, json.loads(response.read())
    message = consumed(cut_short("Django", len(body), 40))
    assert (status, answer) == (500, refused("body_consumed", message))
    assert served.records(caplog) == [answered("WARNING", 500, "body_consumed", message)]
