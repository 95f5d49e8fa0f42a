"""The Django webhook views of test_servers.py, served in the test's own process (waitress, uvicorn) and by
gunicorn (`django_wsgi.py`): `webhooks` (the default 1 MiB limit), `big` (an 8 MiB limit, over Django's
DATA_UPLOAD_MAX_MEMORY_SIZE of 2.5 MB) and `consumed` (the body is read before the decorator)."""

from __future__ import annotations

from typing import Any, Callable, Dict

import anchor_webhooks as aw

BIG_LIMIT = 8 << 20


def routes(secret: str) -> Dict[str, Callable[..., Any]]:
    from django.http import JsonResponse
    from django.views.decorators.csrf import csrf_exempt

    from anchor_webhooks.django import webhook_view

    def view(max_body_bytes: int = aw.DEFAULT_MAX_BODY_BYTES) -> Callable[..., Any]:
        @webhook_view(aw.Receiver(aw.Verifier(secret, max_body_bytes=max_body_bytes)))
        def hook(request: Any, event: aw.Event) -> Any:
            return JsonResponse({"ok": True, "id": event.id, "size": len(request.body)})

        return hook

    consumed = view()

    @csrf_exempt
    def read_first(request: Any) -> Any:  # stands for code that read the body before the decorator
        request.read()
        return consumed(request)

    return {"webhooks": view(), "big": view(BIG_LIMIT), "consumed": read_first}
