"""Django on its own (settings, URLs, the WSGI application) for gunicorn in test_servers.py, with the views
of `django_views.py`. The secret comes from ANCHOR_SECRETS; the records of the `anchor_webhooks` logger go
to the file named by ANCHOR_LOG_FILE, one JSON `[level, message]` per line (the test reads them)."""

from __future__ import annotations

import json
import logging
import os

import django
from django.conf import settings

settings.configure(
    DEBUG=False,
    ALLOWED_HOSTS=["127.0.0.1"],
    ROOT_URLCONF=__name__,
    MIDDLEWARE=["django.middleware.csrf.CsrfViewMiddleware"],
    SECRET_KEY="django-test-only",
)
django.setup()

from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.urls import path  # noqa: E402
from django_views import routes  # noqa: E402


class JsonLines(logging.Handler):
    def __init__(self, name: str) -> None:
        super().__init__()
        self.file = open(name, "a", encoding="utf-8", buffering=1)  # line-buffered: written before the answer

    def emit(self, record: logging.LogRecord) -> None:
        self.file.write(json.dumps([record.levelname, record.getMessage()]) + "\n")


logger = logging.getLogger("anchor_webhooks")
logger.setLevel(logging.DEBUG)
logger.addHandler(JsonLines(os.environ["ANCHOR_LOG_FILE"]))

urlpatterns = [path(route, view) for route, view in routes(os.environ["ANCHOR_SECRETS"]).items()]
application = get_wsgi_application()
