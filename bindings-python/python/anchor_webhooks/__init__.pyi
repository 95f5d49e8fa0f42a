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
    code: ErrorCode
    http_status: int
    skew_seconds: Optional[int]

class InvalidSecretError(WebhookVerificationError):
    code: Literal["invalid_secret"]
class MissingHeaderError(WebhookVerificationError):
    code: Literal["missing_header"]
class MalformedHeaderError(WebhookVerificationError):
    code: Literal["malformed_header"]
class MalformedTimestampError(WebhookVerificationError):
    code: Literal["malformed_timestamp"]
class TimestampMismatchError(WebhookVerificationError):
    code: Literal["timestamp_mismatch"]
class TimestampTooOldError(WebhookVerificationError):
    code: Literal["timestamp_too_old"]
class TimestampTooNewError(WebhookVerificationError):
    code: Literal["timestamp_too_new"]
class NoSignatureError(WebhookVerificationError):
    code: Literal["no_signature"]
class SignatureMismatchError(WebhookVerificationError):
    code: Literal["signature_mismatch"]
class BodyTooLargeError(WebhookVerificationError):
    code: Literal["body_too_large"]
class InvalidPayloadError(WebhookVerificationError):
    code: Literal["invalid_payload"]
class StoreUnavailableError(WebhookVerificationError):
    code: Literal["store_unavailable"]

class Duplicate(Exception):
    in_progress: bool
    http_status: int
    retry_after: Optional[int]
    event: Event

@final
class Artifact:
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
    @property
    def artifacts(self) -> list[Artifact]: ...
    @property
    def recording_url(self) -> Optional[str]: ...
    @property
    def session_dashboard_url(self) -> Optional[str]: ...
    @property
    def task_id(self) -> Optional[str]: ...
    @property
    def execution_id(self) -> Optional[str]: ...
    @property
    def output_value(self) -> Any: ...
    @property
    def output_truncated(self) -> bool: ...
    # Like Event.type: a catalogue name for a type checker, so a misspelt one is flagged; at run time a
    # newer string the catalogue does not know yet comes through as is. Handle it in an `else` branch.
    @property
    def error_type(self) -> Optional[TaskErrorType]: ...
    @property
    def error(self) -> Optional[dict[str, Any]]: ...
    @property
    def healed_task_version_id(self) -> Optional[str]: ...

@final
class SessionData:
    @property
    def duration(self) -> Optional[float]: ...
    @property
    def proxy_bytes(self) -> Optional[int]: ...
    @property
    def recording_url(self) -> Optional[str]: ...
    @property
    def session_id(self) -> Optional[str]: ...
    def usage_field(self, name: str) -> Any: ...

@final
class Event:
    @property
    def id(self) -> str: ...
    # A catalogue name at run time, or any other string the provider sends: a type the catalogue does not
    # know yet comes through as its str, and a Standard Webhooks body with neither `type` nor `event` gives
    # "" (no type). Handle both in an `else` branch; do not `assert_never(event.type)`.
    @property
    def type(self) -> EventType: ...
    @property
    def created(self) -> Optional[datetime.datetime]: ...
    @property
    def project_id(self) -> Optional[str]: ...
    @property
    def text(self) -> Optional[str]: ...
    @property
    def data(self) -> Any: ...
    @property
    def body(self) -> Any: ...
    @property
    def matched_secret(self) -> int: ...
    @property
    def timestamp(self) -> int: ...
    @property
    def delivery_id(self) -> Optional[str]: ...
    @property
    def task(self) -> Optional[TaskData]: ...
    @property
    def session(self) -> Optional[SessionData]: ...

@final
class VerifiedSignature:
    @property
    def matched_secret(self) -> int: ...
    @property
    def timestamp(self) -> int: ...
    @property
    def delivery_id(self) -> Optional[str]: ...
    def __eq__(self, value: object, /) -> bool: ...
    __hash__: None  # type: ignore[assignment]

@final
class Verifier:
    def __new__(
        cls,
        secrets: Union[str, list[str], tuple[str, ...]],
        tolerance: Optional[int] = None,
        scheme: Scheme = "anchor",
        max_body_bytes: Optional[int] = None,
    ) -> Verifier: ...
    def verify(self, body: Body, headers: Headers, now: Now = None) -> Event: ...
    def verify_signature(self, body: Body, headers: Headers, now: Now = None) -> VerifiedSignature: ...
    @property
    def scheme(self) -> Scheme: ...
    @property
    def tolerance(self) -> int: ...
    @property
    def max_body_bytes(self) -> int: ...
    @property
    def secret_count(self) -> int: ...
    # Shared by design: copy.copy/deepcopy give the object itself; pickling it is a TypeError.
    def __copy__(self) -> Verifier: ...
    def __deepcopy__(self, memo: Any) -> Verifier: ...

@final
class MemoryStore:
    def __new__(cls, max_entries: int = 100000, ttl: float = 86400.0) -> MemoryStore: ...
    @property
    def max_entries(self) -> int: ...
    @property
    def ttl(self) -> float: ...
    def __len__(self) -> int: ...
    # Shared by design: copy.copy/deepcopy give the object itself; pickling it is a TypeError.
    def __copy__(self) -> MemoryStore: ...
    def __deepcopy__(self, memo: Any) -> MemoryStore: ...

@final
class RedisStore:
    def __new__(
        cls,
        url: str,
        key_prefix: Optional[str] = None,
        timeout: float = 1.0,
        ttl: float = 86400.0,
        max_idle_connections: int = 16,
        tls_root_certificates: Union[str, bytes, None] = None,
    ) -> RedisStore: ...
    def check(self) -> None: ...
    @property
    def key_prefix(self) -> str: ...
    @property
    def timeout(self) -> float: ...
    @property
    def ttl(self) -> float: ...
    # Shared by design: copy.copy/deepcopy give the object itself; pickling it is a TypeError.
    def __copy__(self) -> RedisStore: ...
    def __deepcopy__(self, memo: Any) -> RedisStore: ...

@final
class Reception:
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
    def __new__(
        cls,
        verifier: Verifier,
        store: Union[MemoryStore, RedisStore, None] = None,
        lease: Optional[float] = None,
    ) -> Receiver: ...
    def receive(self, body: Body, headers: Headers, now: Now = None) -> Reception: ...
    @property
    def verifier(self) -> Verifier: ...
    @property
    def store(self) -> Union[MemoryStore, RedisStore]: ...
    @property
    def lease(self) -> float: ...
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
) -> dict[str, str]: ...
def event_types() -> list[EventType]: ...
def error_codes() -> list[ErrorCode]: ...
def task_error_types() -> list[TaskErrorType]: ...
def sender_retries(status: int) -> bool:
    """Whether the sender retries a delivery answered with ``status`` (3xx, 408, 429, 5xx, anything not HTTP).
    An integration of your own releases the claim for such an answer of your code (the retry then runs it),
    and completes it for any other."""

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
