"""Verify signed webhook deliveries (``Anchor-Signature`` and Standard Webhooks).

Everything here comes from the Rust core through the native module ``anchor_webhooks._native``; the
framework integrations live in ``anchor_webhooks.fastapi``, ``anchor_webhooks.flask`` and
``anchor_webhooks.django`` and import their framework only when used.
"""

import datetime
from typing import Any, Iterable, List, Literal, Mapping, Tuple, Union

from anchor_webhooks._native import (
    DEFAULT_MAX_BODY_BYTES,
    IN_PROGRESS_RETRY_AFTER_SECONDS,
    Artifact,
    BodyTooLargeError,
    Duplicate,
    Event,
    InvalidPayloadError,
    InvalidSecretError,
    MalformedHeaderError,
    MalformedTimestampError,
    MemoryStore,
    MissingHeaderError,
    NoSignatureError,
    Reception,
    Receiver,
    RedisStore,
    SessionData,
    SignatureMismatchError,
    StoreUnavailableError,
    TaskData,
    TimestampMismatchError,
    TimestampTooNewError,
    TimestampTooOldError,
    VerifiedSignature,
    Verifier,
    WebhookVerificationError,
    __version__,
    error_codes,
    event_types,
    sender_retries,
    sign,
    task_error_types,
)

# Type aliases (see __init__.pyi), built from the core's catalogue so they cannot drift at run time. A union
# of one-value Literals is what type checkers make of `Literal["a", "b"]`, and what stubtest compares.
EventType = Union[tuple(Literal[name] for name in event_types())]  # type: ignore[misc]
ErrorCode = Union[tuple(Literal[code] for code in error_codes())]  # type: ignore[misc]
TaskErrorType = Union[tuple(Literal[name] for name in task_error_types())]  # type: ignore[misc]
Scheme = Union[Literal["anchor"], Literal["standard"]]
Body = Union[bytes, bytearray, memoryview, str]
HeaderValue = Union[str, bytes, List[Union[str, bytes]], Tuple[Union[str, bytes], ...]]
Headers = Union[Mapping[str, Any], Mapping[bytes, Any], Iterable[Tuple[Union[str, bytes], Union[HeaderValue, None]]], Any]
Now = Union[int, float, datetime.datetime, None]

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
