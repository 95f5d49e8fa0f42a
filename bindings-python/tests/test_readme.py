"""The README's framework snippets run as written: each is executed with only `app`, `receiver` and `handle`
given, then receives a delivery (processed once, then a duplicate). A snippet whose view returns nothing
would answer 500 here."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest

import anchor_webhooks as aw
from conftest import REPO, SECRET, envelope

README = REPO / "bindings-python" / "README.md"


def snippets(section: str) -> list[str]:
    """The ```python blocks of one `## ` section of the README, in order."""
    text = README.read_text(encoding="utf-8")
    start = text.index(f"\n## {section}\n")
    end = text.find("\n## ", start + 1)
    return re.findall(r"```python\n(.*?)```", text[start : end if end >= 0 else None], flags=re.DOTALL)


def framework_snippet(framework: str) -> str:
    """The snippet of the `**Framework**` paragraph."""
    text = README.read_text(encoding="utf-8")
    start = text.index(f"\n**{framework}** (")
    return re.findall(r"```python\n(.*?)```", text[start:], flags=re.DOTALL)[0]


def run(snippet: str, namespace: dict[str, Any]) -> dict[str, Any]:
    namespace.setdefault("__name__", "readme_snippet")
    exec(compile(snippet, str(README), "exec"), namespace)
    return namespace


def deliveries(post: Any, handled: list[str], event_id: str) -> None:
    body = envelope(event_id=event_id)
    headers = aw.sign(SECRET, body)
    status, answer = post(body, headers)
    assert status == 200, answer
    status, answer = post(body, headers)  # the sender's retry
    assert (status, answer["outcome"]) == (200, "duplicate"), answer
    assert handled == [event_id]


def given() -> dict[str, Any]:
    handled: list[str] = []
    return {"receiver": aw.Receiver(aw.Verifier(SECRET)), "handle": lambda event: handled.append(event.id), "handled": handled}


def test_frameworks_section_has_the_snippets_tested_here() -> None:
    assert len(snippets("Frameworks")) == 4  # FastAPI, Flask, Django function view, Django class-based view


def test_readme_fastapi_snippet() -> None:
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    namespace = run(framework_snippet("FastAPI"), {**given(), "app": FastAPI()})
    client = TestClient(namespace["app"])

    def post(body: bytes, headers: dict[str, str]) -> tuple[int, Any]:
        response = client.post("/webhooks", content=body, headers=headers)
        payload = response.json()
        return response.status_code, payload.get("detail", payload)

    deliveries(post, namespace["handled"], "evt_fastapi")


def test_readme_flask_snippet() -> None:
    from flask import Flask

    namespace = run(framework_snippet("Flask"), {**given(), "app": Flask(__name__)})
    client = namespace["app"].test_client()

    def post(body: bytes, headers: dict[str, str]) -> tuple[int, Any]:
        response = client.post("/webhooks", data=body, headers=headers)
        return response.status_code, response.get_json(silent=True)

    deliveries(post, namespace["handled"], "evt_flask")


@pytest.mark.parametrize("kind", ["function", "class"])
def test_readme_django_snippets(kind: str) -> None:
    from test_integrations import configure_django, urlpatterns

    configure_django()
    from django.test import Client
    from django.urls import clear_url_caches, path

    function_view, class_view = snippets("Frameworks")[2:]
    namespace = run(function_view, given())
    if kind == "class":
        run(class_view, namespace)
    view = namespace["webhooks"] if kind == "function" else namespace["Webhooks"].as_view()
    name = f"readme_{kind}"
    urlpatterns.append(path(name, view))
    clear_url_caches()
    client = Client(enforce_csrf_checks=True)  # as in production: the snippets must be exempt

    def post(body: bytes, headers: dict[str, str]) -> tuple[int, Any]:
        response = client.post(f"/{name}", data=body, content_type="application/json", headers=headers)
        return response.status_code, response.json() if response["Content-Type"] == "application/json" else None

    deliveries(post, namespace["handled"], f"evt_django_{kind}")


def test_readme_receiver_snippet() -> None:
    snippet, _ = snippets("Verify, dedupe, process once: `Receiver`")
    processed: list[str] = []
    body = envelope(event_id="evt_receiver")
    namespace = {"SECRET": SECRET, "raw_body": body, "headers": aw.sign(SECRET, body), "process": lambda event: processed.append(event.id)}
    run(snippet, namespace)
    assert processed == ["evt_receiver"] and "status" not in namespace


def test_readme_async_receiver_snippet() -> None:
    """The `async with` snippet, run in a coroutine with the Receiver snippet's receiver: processed once, and
    a second delivery of the event raises the Duplicate signal from `async with`."""
    _, snippet = snippets("Verify, dedupe, process once: `Receiver`")
    processed: list[str] = []

    async def process(event: aw.Event) -> None:
        processed.append(event.id)

    body = envelope(event_id="evt_async_receiver")
    namespace: dict[str, Any] = {
        "receiver": aw.Receiver(aw.Verifier(SECRET)), "raw_body": body, "headers": aw.sign(SECRET, body), "process": process
    }
    coroutine = "async def main():\n" + "".join(f"    {line}\n" for line in snippet.splitlines())
    run(coroutine, namespace)
    asyncio.run(namespace["main"]())
    assert processed == ["evt_async_receiver"]
    with pytest.raises(aw.Duplicate):
        asyncio.run(namespace["main"]())
    assert processed == ["evt_async_receiver"]
