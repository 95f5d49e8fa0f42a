# Type stubs of anchor_webhooks (the native module re-exported). Checked by `mypy.stubtest` and by
# tests/test_stub_drift.py, which compares the Literals and exception classes below with the core's
# catalogue (`event_types()`, `error_codes()`, `task_error_types()`) and prints the fix when they drift.

import datetime
from collections.abc import Awaitable, Iterable, Mapping
from types import TracebackType
from typing import Any, Final, Literal, Optional, Protocol, Union, final

__version__: Final[str]
IN_PROGRESS_RETRY_AFTER_SECONDS: Final[int]
DEFAULT_MAX_BODY_BYTES: Final[int]

EventType = Literal[
    "task.completed",
    "task.failed",
    "task.cancelled",
    "task.healed",
    "session.completed",
    "session.failed",
    "session.recording.ready",
    "session.ready",
    "batch.completed",
    "batch.failed",
    "intervention.requested",
    "intervention.resolved",
    "identity.authenticated",
    "identity.authentication_failed",
    "extraction.completed",
    "extraction.failed",
]

ErrorCode = Literal[
    "invalid_secret",
    "missing_header",
    "malformed_header",
    "malformed_timestamp",
    "timestamp_mismatch",
    "timestamp_too_old",
    "timestamp_too_new",
    "no_signature",
    "signature_mismatch",
    "body_too_large",
    "invalid_payload",
    "store_unavailable",
]

TaskErrorType = Literal[
    "automation_failure",
    "invalid_credentials",
    "timeout",
    "agent_error",
    "system_error",
]

Scheme = Literal["anchor", "standard"]

# The raw request body: bytes-like (no copy) or str (encoded as UTF-8).
Body = Union[bytes, bytearray, memoryview, str]
# A header value: text, or several values of a repeated header.
HeaderValue = Union[str, bytes, list[Union[str, bytes]], tuple[Union[str, bytes], ...]]
class _SupportsItems(Protocol):
    def items(self) -> Iterable[tuple[Any, Any]]: ...

# A dict or any mapping (Starlette, Django headers), anything with items() (Werkzeug headers,
# email.message.Message), a WSGI environ, or any iterable of (name, value) pairs (a list, dict.items(), a
# generator). A None value is an absent header.
Headers = Union[
    Mapping[str, Any],
    Mapping[bytes, Any],
    _SupportsItems,
    Iterable[tuple[Union[str, bytes], Optional[HeaderValue]]],
]
# `now=`: unix seconds (0 to 999999999999, not bool) or an aware datetime (a naive one is a TypeError);
# None is the host clock.
Now = Union[int, float, datetime.datetime, None]

class WebhookVerificationError(ValueError):
    # Every error the package raises is one of the subclasses below, whose `code` is its own; only an
    # instance you build of this base class yourself has None.
    """A delivery (or a verifier's configuration) was refused. `.code` is the stable snake_case code, `.http_status` the status to answer with; subclasses exist for every code."""
    code: ErrorCode
    http_status: int
    skew_seconds: Optional[int]

class InvalidSecretError(WebhookVerificationError):
    """Raised with code `invalid_secret` (HTTP 500)."""
    code: Literal["invalid_secret"]
class MissingHeaderError(WebhookVerificationError):
    """Raised with code `missing_header` (HTTP 400)."""
    code: Literal["missing_header"]
class MalformedHeaderError(WebhookVerificationError):
    """Raised with code `malformed_header` (HTTP 400)."""
    code: Literal["malformed_header"]
class MalformedTimestampError(WebhookVerificationError):
    """Raised with code `malformed_timestamp` (HTTP 400)."""
    code: Literal["malformed_timestamp"]
class TimestampMismatchError(WebhookVerificationError):
    """Raised with code `timestamp_mismatch` (HTTP 401)."""
    code: Literal["timestamp_mismatch"]
class TimestampTooOldError(WebhookVerificationError):
    """Raised with code `timestamp_too_old` (HTTP 401)."""
    code: Literal["timestamp_too_old"]
class TimestampTooNewError(WebhookVerificationError):
    """Raised with code `timestamp_too_new` (HTTP 401)."""
    code: Literal["timestamp_too_new"]
class NoSignatureError(WebhookVerificationError):
    """Raised with code `no_signature` (HTTP 401)."""
    code: Literal["no_signature"]
class SignatureMismatchError(WebhookVerificationError):
    """Raised with code `signature_mismatch` (HTTP 401)."""
    code: Literal["signature_mismatch"]
class BodyTooLargeError(WebhookVerificationError):
    """Raised with code `body_too_large` (HTTP 413)."""
    code: Literal["body_too_large"]
class InvalidPayloadError(WebhookVerificationError):
    """Raised with code `invalid_payload` (HTTP 400)."""
    code: Literal["invalid_payload"]
class StoreUnavailableError(WebhookVerificationError):
    """Raised with code `store_unavailable` (HTTP 503)."""
    code: Literal["store_unavailable"]

class Duplicate(Exception):
    """Raised by `Receiver.receive(...)` when the event needs no processing here: already processed (`in_progress` False, answer 200) or being processed by another worker (`in_progress` True, answer 503 with `Retry-After`). `.event` is the verified event."""
    in_progress: bool
    http_status: int
    retry_after: Optional[int]
    event: Event

@final
class Artifact:
    """One captured artifact of a task."""
    @property
    def name(self) -> str: ...
    @property
    def url(self) -> str: ...
    @property
    def size(self) -> Optional[int]: ...
    @property
    def content_type(self) -> Optional[str]: ...

@final
class TaskData:
    """The documented fields of `task.*` events (`event.data` keeps every field)."""
    @property
    def artifacts(self) -> list[Artifact]:
        """Captured artifacts (entries without a string `name` and `url` are skipped); empty when none."""
    @property
    def recording_url(self) -> Optional[str]: ...
    @property
    def session_dashboard_url(self) -> Optional[str]: ...
    @property
    def task_id(self) -> Optional[str]: ...
    @property
    def execution_id(self) -> Optional[str]: ...
    @property
    def output_value(self) -> Any:
        """`output.value` as Python values (None when absent)."""
    @property
    def output_truncated(self) -> bool:
        """Whether the provider replaced `output.value` with `"__truncated__"` (payload over 64 KB)."""
    # Like Event.type: a catalogue name for a type checker, so a misspelt one is flagged; at run time a
    # newer string the catalogue does not know yet comes through as is. Handle it in an `else` branch.
    @property
    def error_type(self) -> Optional[TaskErrorType]:
        """`error.type` of `task.failed`: one of `task_error_types()`, or another string the provider added."""
    @property
    def error(self) -> Optional[dict[str, Any]]:
        """The whole `error` object (type plus any message fields) as Python values."""
    @property
    def healed_task_version_id(self) -> Optional[str]:
        """`healed_task_version_id` of `task.healed`."""

@final
class SessionData:
    """The documented fields of `session.*` events (`event.data` keeps every field)."""
    @property
    def duration(self) -> Optional[float]:
        """`duration` as a number (seconds in the provider's examples)."""
    @property
    def proxy_bytes(self) -> Optional[int]:
        """`proxy_bytes` of the resource usage (top level of `data` or under `usage`)."""
    @property
    def recording_url(self) -> Optional[str]: ...
    @property
    def session_id(self) -> Optional[str]: ...
    def usage_field(self, name: str) -> Any:
        """A resource-usage field by name (top level of `data` or under `usage`), as Python values."""

@final
class Event:
    """A verified event. Cheap to create: Python objects are built only for the fields you read."""
    @property
    def id(self) -> str:
        """The event id: the envelope `id` (Anchor) or the `webhook-id` header (Standard Webhooks). The dedupe key."""
    # A catalogue name at run time, or any other string the provider sends: a type the catalogue does not
    # know yet comes through as its str, and a Standard Webhooks body with neither `type` nor `event` gives
    # "" (no type). Handle both in an `else` branch; do not `assert_never(event.type)`.
    @property
    def type(self) -> EventType:
        """The event type, e.g. `"task.completed"`; types outside the catalogue are passed through."""
    @property
    def created(self) -> Optional[datetime.datetime]:
        """When the provider created the event, as an aware `datetime` (None when a Standard Webhooks body
        carries no RFC 3339 `timestamp`)."""
    @property
    def project_id(self) -> Optional[str]:
        """The envelope's `project_id` (Anchor), None when absent."""
    @property
    def text(self) -> Optional[str]:
        """The one-line summary (presentation only)."""
    @property
    def data(self) -> Any:
        """The `data` object as Python values (dict), built on first access and cached."""
    @property
    def body(self) -> Any:
        """The whole body as Python values, built on first access and cached."""
    @property
    def matched_secret(self) -> int:
        """Index of the first configured secret that matched (watch it to see when an old secret stops being used)."""
    @property
    def timestamp(self) -> int:
        """The signed timestamp, unix seconds."""
    @property
    def delivery_id(self) -> Optional[str]:
        """`Anchor-Delivery-Id` (None when absent) or `webhook-id`."""
    @property
    def task(self) -> Optional[TaskData]:
        """The documented task fields, for `task.*` events; None otherwise."""
    @property
    def session(self) -> Optional[SessionData]:
        """The documented session fields, for `session.*` events; None otherwise."""

@final
class VerifiedSignature:
    """What `Verifier.verify_signature` checked: which secret matched, the signed timestamp, the delivery id."""
    @property
    def matched_secret(self) -> int:
        """Index of the first configured secret that matched."""
    @property
    def timestamp(self) -> int:
        """The signed timestamp, unix seconds."""
    @property
    def delivery_id(self) -> Optional[str]:
        """`Anchor-Delivery-Id` (None when absent) or `webhook-id`."""
    def __eq__(self, value: object, /) -> bool: ...
    __hash__: None  # type: ignore[assignment]

@final
class Verifier:
    """Verifies webhook deliveries: signature, timestamp tolerance, envelope.

    `Verifier(secrets, tolerance=None, scheme="anchor", max_body_bytes=None)`: one secret, or several during
    a rotation (the new one first); `tolerance` in seconds, two-sided (default 120 for `"anchor"`, 300 for
    `"standard"`); `max_body_bytes` default 1 MiB. An unusable secret raises `InvalidSecretError` naming the
    problem (never the secret). Build it once and share it: it is thread-safe."""
    def __new__(
        cls,
        secrets: Union[str, list[str], tuple[str, ...]],
        tolerance: Optional[int] = None,
        scheme: Scheme = "anchor",
        max_body_bytes: Optional[int] = None,
    ) -> Verifier: ...
    def verify(self, body: Body, headers: Headers, now: Now = None) -> Event:
        """Verifies a delivery: `body` is the raw request body, `headers` the request headers in any container.
        Returns the `Event`, or raises the `WebhookVerificationError` subclass of the failure."""
    def verify_signature(self, body: Body, headers: Headers, now: Now = None) -> VerifiedSignature:
        """Checks the signature and the timestamp only (no JSON parsing): for receivers that parse the body
        themselves. Returns a `VerifiedSignature`, or raises the `WebhookVerificationError` subclass of
        the failure."""
    @property
    def scheme(self) -> Scheme:
        """`"anchor"` or `"standard"`."""
    @property
    def tolerance(self) -> int:
        """The two-sided timestamp tolerance in seconds."""
    @property
    def max_body_bytes(self) -> int:
        """The largest body accepted, in bytes (default 1 MiB): a longer one is `body_too_large` (413)."""
    @property
    def secret_count(self) -> int:
        """How many secrets are configured (never the secrets themselves)."""
    # Shared by design: copy.copy/deepcopy give the object itself; pickling it is a TypeError.
    def __copy__(self) -> Verifier: ...
    def __deepcopy__(self, memo: Any) -> Verifier: ...

@final
class MemoryStore:
    """An in-process dedupe store: thread-safe, bounded, completed ids remembered for `ttl` seconds."""
    def __new__(cls, max_entries: int = 100000, ttl: float = 86400.0) -> MemoryStore: ...
    @property
    def max_entries(self) -> int:
        """The most ids it holds (default 100 000)."""
    @property
    def ttl(self) -> float:
        """Seconds a completed id is remembered."""
    def __len__(self) -> int: ...
    # Shared by design: copy.copy/deepcopy give the object itself; pickling it is a TypeError.
    def __copy__(self) -> MemoryStore: ...
    def __deepcopy__(self, memo: Any) -> MemoryStore: ...

@final
class RedisStore:
    """A dedupe store in Redis (7.0 or later), shared by every replica of a receiver.

    `RedisStore(url, key_prefix=None, timeout=1.0, ttl=86400.0, max_idle_connections=16,
    tls_root_certificates=None)` only parses the URL: the server may be down now and come up later (`check()`
    tells at start-up). `timeout` (seconds) bounds every connect and command; `ttl` (seconds) is how long a
    completed id is remembered; `max_idle_connections` are kept open for the next calls (0: one connection
    per call). Redis must not evict keys (`noeviction`)."""
    def __new__(
        cls,
        url: str,
        key_prefix: Optional[str] = None,
        timeout: float = 1.0,
        ttl: float = 86400.0,
        max_idle_connections: int = 16,
        tls_root_certificates: Union[str, bytes, None] = None,
    ) -> RedisStore: ...
    def check(self) -> None:
        """Asks the server now whether this store can work (the core's `RedisStore::check`): connects,
        authenticates, selects the db, runs a claim and both scripts on a probe key. A setup that can never
        work (a missing ACL right, a wrong password, a db out of range, Redis older than 7.0, TLS trouble)
        raises `ValueError`; a server that is down or hung raises `ConnectionError` (it may come back)."""
    @property
    def key_prefix(self) -> str:
        """Keys are `{key_prefix}:{hex SHA-256 of the id}`."""
    @property
    def timeout(self) -> float:
        """The deadline of every connect and command, in seconds."""
    @property
    def ttl(self) -> float:
        """Seconds a completed id is remembered."""
    # Shared by design: copy.copy/deepcopy give the object itself; pickling it is a TypeError.
    def __copy__(self) -> RedisStore: ...
    def __deepcopy__(self, memo: Any) -> RedisStore: ...

@final
class Reception:
    """What `Receiver.receive` returns: use it in a `with` statement."""
    def __enter__(self) -> Event: ...
    def __exit__(
        self,
        exc_type: Optional[type[BaseException]] = None,
        _exc_value: Optional[BaseException] = None,
        _traceback: Optional[TracebackType] = None,
    ) -> Literal[False]: ...  # never swallows the block's exception
    def __aenter__(self) -> Awaitable[Event]: ...
    def __aexit__(
        self,
        exc_type: Optional[type[BaseException]] = None,
        exc_value: Optional[BaseException] = None,
        traceback: Optional[TracebackType] = None,
    ) -> Awaitable[Literal[False]]: ...

@final
class Receiver:
    """A verifier and a dedupe store working together; see `receive`.

    `Receiver(verifier, store=None, lease=None)`: `store` defaults to a new `MemoryStore()` (give each
    endpoint its own); `lease` (seconds, default 30, at least 1) is how long a claim is held before another
    worker may take the event over."""
    def __new__(
        cls,
        verifier: Verifier,
        store: Union[MemoryStore, RedisStore, None] = None,
        lease: Optional[float] = None,
    ) -> Receiver: ...
    def receive(self, body: Body, headers: Headers, now: Now = None) -> Reception:
        """Verifies and claims a delivery, as a context manager:

            with receiver.receive(body, headers) as event:
                process(event)       # normal exit: completed; an exception: released, then re-raised

        `async with` works too (asyncio frameworks): with a `RedisStore` the store calls then run in a worker
        thread. Entering raises `Duplicate` when the event needs no processing here (already done: answer 200;
        in progress on another worker: answer 503 with Retry-After), or a `WebhookVerificationError`."""
    @property
    def verifier(self) -> Verifier:
        """The verifier it was built with."""
    @property
    def store(self) -> Union[MemoryStore, RedisStore]:
        """The dedupe store it was built with."""
    @property
    def lease(self) -> float:
        """The claim lease, in seconds."""
    # Shared by design: copy.copy/deepcopy give the object itself; pickling it is a TypeError.
    def __copy__(self) -> Receiver: ...
    def __deepcopy__(self, memo: Any) -> Receiver: ...

def sign(
    secrets: Union[str, list[str], tuple[str, ...]],
    body: Body,
    timestamp: Optional[int] = None,
    scheme: Scheme = "anchor",
    id: Optional[str] = None,
    event_type: Optional[str] = None,
) -> dict[str, str]:
    """Signs `body` like the provider does and returns the delivery's headers (for tests and local tools)."""
def event_types() -> list[EventType]:
    """Every event type of the catalogue, in catalogue order."""
def error_codes() -> list[ErrorCode]:
    """Every error code, in catalogue order."""
def task_error_types() -> list[TaskErrorType]:
    """Every documented `error.type` of `task.failed`."""
def sender_retries(status: int) -> bool:
    """Whether the sender retries a delivery answered with `status` (the core's `sender_retries`): the
    integrations release the claim for such an answer of the view. A status outside 0..=65535 is not
    HTTP, and the sender retries anything it does not know."""

__all__ = [
    "Body",
    "ErrorCode",
    "EventType",
    "HeaderValue",
    "Headers",
    "Now",
    "Scheme",
    "TaskErrorType",
    "DEFAULT_MAX_BODY_BYTES",
    "IN_PROGRESS_RETRY_AFTER_SECONDS",
    "Artifact",
    "BodyTooLargeError",
    "Duplicate",
    "Event",
    "InvalidPayloadError",
    "InvalidSecretError",
    "MalformedHeaderError",
    "MalformedTimestampError",
    "MemoryStore",
    "MissingHeaderError",
    "NoSignatureError",
    "Reception",
    "Receiver",
    "RedisStore",
    "SessionData",
    "SignatureMismatchError",
    "StoreUnavailableError",
    "TaskData",
    "TimestampMismatchError",
    "TimestampTooNewError",
    "TimestampTooOldError",
    "VerifiedSignature",
    "Verifier",
    "WebhookVerificationError",
    "__version__",
    "error_codes",
    "event_types",
    "sender_retries",
    "sign",
    "task_error_types",
]
