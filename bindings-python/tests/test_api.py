"""The public API: events and typed views, data conversion, errors, sign, repr and secret redaction."""

from __future__ import annotations

import datetime
import gc
import json
import random
import weakref
from typing import Any

import pytest

import anchor_webhooks as aw
from conftest import OTHER_SECRET, SECRET, STANDARD_SECRET, envelope

NOW = 1_716_544_084


def verified(body: bytes, secret: str = SECRET, scheme: str = "anchor") -> aw.Event:
    return aw.Verifier(secret, scheme=scheme).verify(body, aw.sign(secret, body, timestamp=NOW, scheme=scheme), now=NOW)


def test_envelope_fields() -> None:
    event = verified(envelope("session.completed", "evt_42", {"duration": 12.5, "usage": {"proxy_bytes": 2048}}))
    assert event.id == "evt_42"
    assert event.type == "session.completed"
    assert event.project_id == "5d2c31f6-ab7e-481a-b6fd-8b4a96a4e197"
    assert event.text == "Anchor event session.completed"
    assert event.created == datetime.datetime(2026, 5, 24, 12, 18, 5, 123000, tzinfo=datetime.timezone.utc)
    assert event.created.utcoffset() == datetime.timedelta(0)
    assert event.matched_secret == 0
    assert event.timestamp == NOW
    assert event.task is None
    session = event.session
    assert session is not None
    assert (session.duration, session.proxy_bytes) == (12.5, 2048)
    assert session.usage_field("proxy_bytes") == 2048
    assert session.usage_field("nope") is None


def test_created_keeps_its_offset() -> None:
    body = envelope().replace(b"2026-05-24T12:18:05.123Z", b"2026-05-24T14:18:05.5+02:00")
    created = verified(body).created
    assert created.utcoffset() == datetime.timedelta(hours=2)
    assert created == datetime.datetime(2026, 5, 24, 12, 18, 5, 500000, tzinfo=datetime.timezone.utc)


def test_task_view() -> None:
    data = {
        "task_id": "tsk_1",
        "execution_id": "exe_1",
        "artifacts": [
            {"name": "invoice.pdf", "url": "https://x/invoice.pdf", "size": 48213, "content_type": "application/pdf"},
            {"name": "shot.png", "url": "https://x/shot.png"},
            {"name": 1},
        ],
        "recording_url": "https://r/1.mp4",
        "session_dashboard_url": "https://app/s/1",
        "output": {"value": "__truncated__"},
        "error": {"type": "timeout", "message": "slow"},
    }
    task = verified(envelope("task.failed", data=data)).task
    assert task is not None
    assert [(a.name, a.url, a.size, a.content_type) for a in task.artifacts] == [
        ("invoice.pdf", "https://x/invoice.pdf", 48213, "application/pdf"),
        ("shot.png", "https://x/shot.png", None, None),
    ]
    assert (task.task_id, task.execution_id) == ("tsk_1", "exe_1")
    assert (task.recording_url, task.session_dashboard_url) == ("https://r/1.mp4", "https://app/s/1")
    assert task.output_value == "__truncated__" and task.output_truncated
    assert task.error_type == "timeout" and task.error_type in aw.task_error_types()
    assert task.error == {"type": "timeout", "message": "slow"}
    assert task.healed_task_version_id is None
    assert repr(task.artifacts[1]) == "Artifact(name='shot.png', url='https://x/shot.png', size=None, content_type=None)"
    healed = verified(envelope("task.healed", data={"healed_task_version_id": "tv_9"})).task
    assert healed is not None and healed.healed_task_version_id == "tv_9" and healed.artifacts == []


def test_other_entities_have_no_typed_view() -> None:
    event = verified(envelope("batch.completed", data={"batch_id": "b_1"}))
    assert (event.task, event.session) == (None, None)
    assert event.data == {"batch_id": "b_1"}


def test_data_is_built_once_and_cached() -> None:
    event = verified(envelope(data={"a": [1, 2]}))
    first = event.data
    assert first is event.data
    assert event.body["data"] == first and event.body is event.body


class _Marker:
    """Weakly referenceable: tells whether the cycle it was put in was collected."""


def _collected(build_cycle: Any) -> bool:
    """Builds a reference cycle through our objects around a marker, drops it, collects: was it freed?"""
    marker = _Marker()
    alive = weakref.ref(marker)
    build_cycle(marker)
    del marker
    gc.collect()
    return alive() is None


def test_cycles_through_events_views_and_receptions_are_collected() -> None:
    # An event filed in its own data (or an exception whose traceback holds it, or a typed view in the data):
    # without a way for the cycle collector to see what our objects hold, each such cycle lived forever.
    def event_in_its_data(marker: _Marker) -> None:
        event = verified(envelope(data={"a": 1}))
        event.data["marker"], event.data["event"] = marker, event
        event.body["marker"], event.body["event"] = marker, event

    def view_in_its_event_data(marker: _Marker) -> None:
        event = verified(envelope(data={"status": "completed"}))
        event.data["marker"], event.data["task"] = marker, event.task

    def reception_in_its_headers(marker: _Marker) -> None:
        body = envelope()
        headers: dict[str, Any] = dict(aw.sign(SECRET, body, timestamp=NOW))
        headers["x-marker"] = marker
        headers["x-reception"] = aw.Receiver(aw.Verifier(SECRET)).receive(body, headers, now=NOW)

    for build in (event_in_its_data, view_in_its_event_data, reception_in_its_headers):
        assert _collected(build), build.__name__


def test_standard_webhooks_event() -> None:
    body = b'{"event":"extraction.completed","timestamp":"2026-05-24T12:00:00Z","data":{"extraction_id":"ex_1"}}'
    event = aw.Verifier(STANDARD_SECRET, scheme="standard").verify(
        body, aw.sign(STANDARD_SECRET, body, timestamp=NOW, scheme="standard", id="msg_1"), now=NOW
    )
    assert (event.id, event.type, event.delivery_id) == ("msg_1", "extraction.completed", "msg_1")
    assert event.created == datetime.datetime(2026, 5, 24, 12, 0, tzinfo=datetime.timezone.utc)
    assert event.data == {"extraction_id": "ex_1"}
    assert event.project_id is None and event.text is None
    no_data = b'{"test": 2432232314}'
    event = aw.Verifier(STANDARD_SECRET, scheme="standard").verify(
        no_data, aw.sign(STANDARD_SECRET, no_data, timestamp=NOW, scheme="standard"), now=NOW
    )
    assert (event.type, event.data, event.body, event.created) == ("", None, {"test": 2432232314}, None)


TRICKY_DATA = [
    {},
    {"nested": {"deep": [[[{"x": [None, True, False]}]]]}},
    {"ints": [0, -0, 1, -1, 9223372036854775807, -9223372036854775808, 9223372036854775808, 10**30, -(10**30)]},
    {"floats": [0.0, -0.0, 1.5, 1e-300, 1.7976931348623157e308, 0.1, 2.5e-5, 123456789.123456789]},
    {"strings": ["", "plain", 'quote " and \\ backslash', "\u00e9\u6771\u4eac", "\U0001f600", "tab\tnew\nline\x00\x1f"]},
    {"escaped \"key\"": 1, "caf\u00e9": 2},
    {"output": {"value": "__truncated__"}},
]


@pytest.mark.parametrize("data", TRICKY_DATA)
def test_data_equals_json_loads(data: dict[str, Any]) -> None:
    for dumps in (lambda d: json.dumps(d), lambda d: json.dumps(d, ensure_ascii=False), lambda d: json.dumps(d, indent=2)):
        body = b'{"id":"evt_1","type":"task.completed","created":"2026-05-24T12:18:05Z","data":' + dumps(data).encode() + b"}"
        event = verified(body)
        expected = json.loads(body)["data"]
        assert event.data == expected
        assert json.dumps(event.data) == json.dumps(expected)  # same types and float bits, not just ==


def test_data_text_forms_equal_json_loads() -> None:
    # Spellings json.dumps never writes: exponents, escapes of every kind, whitespace everywhere, a repeated key.
    data_text = (
        b' { "a" : 1E5 , "b":-2.5e-3,"c":[ 1 , 2 ],"\\u0041\\u00e9\\ud83d\\ude00":"\\/\\b\\f\\n\\r\\t\\"\\\\",'
        b'"dup":1,"dup":2,"big":123456789012345678901234567890,"small":-123456789012345678901234567890,'
        b'"exp":1e308,"tiny":5e-324,"zero":-0} '
    )
    body = b'{"id":"evt_1","type":"task.completed","created":"2026-05-24T12:18:05Z","data":' + data_text + b"}"
    expected = json.loads(body)["data"]
    assert expected["dup"] == 2 and expected["big"] == 123456789012345678901234567890
    data = verified(body).data
    assert data == expected
    assert json.dumps(data) == json.dumps(expected)


def random_json(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(9 if depth < 5 else 6)
    if kind == 0:
        return None
    if kind == 1:
        return rng.random() < 0.5
    if kind == 2:
        return rng.randint(-(2**70), 2**70)
    if kind == 3:
        return rng.uniform(-1e9, 1e9) * 10 ** rng.randint(-200, 200)
    if kind in (4, 5):
        alphabet = "ab\"\\/\n\t\u00e9\u6771\U0001f600 \x01"
        return "".join(rng.choice(alphabet) for _ in range(rng.randrange(12)))
    if kind in (6, 7):
        return {f"k{rng.randrange(50)}\u00e9": random_json(rng, depth + 1) for _ in range(rng.randrange(5))}
    return [random_json(rng, depth + 1) for _ in range(rng.randrange(5))]


def test_random_data_equals_json_loads() -> None:
    rng = random.Random(20261123)
    for _ in range(300):
        data = {"v": random_json(rng)}
        ascii_only = rng.random() < 0.5
        body = json.dumps({"id": "evt_1", "type": "x.y", "created": "2026-05-24T12:18:05Z", "data": data}, ensure_ascii=ascii_only).encode()
        assert verified(body).data == json.loads(body)["data"], body


def test_error_attributes_and_hierarchy() -> None:
    codes = aw.error_codes()
    assert len(codes) == len(set(codes)) == 12
    for code in codes:
        cls = getattr(aw, "".join(w.capitalize() for w in code.split("_")) + "Error")
        assert issubclass(cls, aw.WebhookVerificationError) and issubclass(cls, ValueError)
        assert cls.code == code
        assert cls.__module__ == "anchor_webhooks"
    body = envelope()
    headers = aw.sign(SECRET, body, timestamp=NOW)
    with pytest.raises(aw.SignatureMismatchError) as caught:
        aw.Verifier(OTHER_SECRET).verify(body, headers, now=NOW)
    error = caught.value
    assert (error.code, error.http_status, error.skew_seconds) == ("signature_mismatch", 401, None)
    assert "re-serialised" in str(error) or "raw bytes" in str(error)
    with pytest.raises(aw.TimestampTooNewError) as too_new:
        aw.Verifier(SECRET).verify(body, headers, now=NOW - 500)
    assert (too_new.value.http_status, too_new.value.skew_seconds) == (401, 500)
    with pytest.raises(aw.MissingHeaderError) as missing:
        aw.Verifier(SECRET).verify(body, {}, now=NOW)
    assert missing.value.http_status == 400
    with pytest.raises(aw.BodyTooLargeError) as large:
        aw.Verifier(SECRET, max_body_bytes=10).verify(body, headers, now=NOW)
    assert large.value.http_status == 413
    with pytest.raises(ValueError):  # plain `except ValueError` catches every verification error
        aw.Verifier(SECRET).verify(b"{}", headers, now=NOW)


def test_empty_body_hint_says_consumed() -> None:
    headers = aw.sign(SECRET, envelope(), timestamp=NOW)
    with pytest.raises(aw.SignatureMismatchError, match="consumed"):
        aw.Verifier(SECRET).verify(b"", headers, now=NOW)


def test_sign() -> None:
    body = envelope()
    headers = aw.sign(SECRET, body, timestamp=NOW, id="del_1", event_type="task.completed")
    assert list(headers) == ["User-Agent", "Content-Type", "Anchor-Event", "Anchor-Delivery-Id", "Anchor-Timestamp", "Anchor-Signature"]
    assert headers["Anchor-Delivery-Id"] == "del_1" and headers["Anchor-Timestamp"] == str(NOW)
    import hashlib
    import hmac

    expected = hmac.new(SECRET.encode(), b"v0:%d:" % NOW + body, hashlib.sha256).hexdigest()
    assert headers["Anchor-Signature"] == f"t={NOW},v1={expected}"
    rotated = aw.sign([SECRET, OTHER_SECRET], body, timestamp=NOW)
    assert rotated["Anchor-Signature"].count("v1=") == 2
    assert aw.Verifier(OTHER_SECRET).verify(body, rotated, now=NOW).matched_secret == 0
    assert aw.Verifier([OTHER_SECRET, SECRET]).verify(body, rotated, now=NOW).matched_secret == 0
    assert aw.Verifier(["a" * 64, OTHER_SECRET]).verify(body, rotated, now=NOW).matched_secret == 1
    fresh = aw.sign(SECRET, body)
    import time

    assert abs(int(fresh["Anchor-Timestamp"]) - time.time()) < 60
    assert aw.Verifier(SECRET).verify(body, fresh).id == "evt_1"
    standard = aw.sign(STANDARD_SECRET, b'{"test": 2432232314}', timestamp=1614265330, scheme="standard", id="msg_p5jXN8AQM9LWM0D4loKWxJek")
    assert standard["webhook-signature"] == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    with pytest.raises(aw.MalformedHeaderError):
        aw.sign(SECRET, body, id="bad\nid")
    with pytest.raises(aw.InvalidSecretError):
        aw.sign(" padded", body)
    with pytest.raises(ValueError, match="unknown scheme"):
        aw.sign(SECRET, body, scheme="svix-ish")


def test_repr_never_shows_secrets() -> None:
    verifier = aw.Verifier([SECRET, OTHER_SECRET], tolerance=60)
    text = repr(verifier)
    assert text == "Verifier(scheme='anchor', secrets=2 (redacted), tolerance=60, max_body_bytes=1048576)"
    for secret in (SECRET, OTHER_SECRET):
        for piece in (secret, secret[:16], secret[-16:]):
            assert piece not in text
            assert piece not in str(vars(type(verifier)))
    standard = aw.Verifier(STANDARD_SECRET, scheme="standard")
    assert repr(standard) == "Verifier(scheme='standard', secrets=1 (redacted), tolerance=300, max_body_bytes=1048576)"
    assert "MfKQ9r8" not in repr(standard)
    assert not hasattr(verifier, "__dict__")  # nowhere to keep a secret string
    receiver = aw.Receiver(verifier)
    assert SECRET not in repr(receiver) and "secrets=2 (redacted)" in repr(receiver)
    redis = aw.RedisStore("redis://:hunter2-password@127.0.0.1:1/0")
    assert "hunter2" not in repr(redis)
    with pytest.raises(aw.InvalidSecretError) as caught:
        aw.Verifier(["ok-secret-value", SECRET + " "])
    assert SECRET not in str(caught.value) and "#2" in str(caught.value)


def test_verifier_properties_and_configuration_errors() -> None:
    verifier = aw.Verifier(SECRET, tolerance=5, max_body_bytes=100)
    assert (verifier.scheme, verifier.tolerance, verifier.max_body_bytes, verifier.secret_count) == ("anchor", 5, 100, 1)
    assert aw.Verifier(SECRET).tolerance == 120
    assert aw.Verifier(STANDARD_SECRET, scheme="standard").tolerance == 300
    with pytest.raises(ValueError, match="unknown scheme"):
        aw.Verifier(SECRET, scheme="hmac")
    with pytest.raises(aw.InvalidSecretError):
        aw.Verifier([])
    with pytest.raises(aw.InvalidSecretError):
        aw.Verifier(STANDARD_SECRET)  # a whsec_ secret given to the Anchor scheme
    with pytest.raises(TypeError):
        aw.Verifier(42)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        aw.Verifier([SECRET, 42])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="secret #2 is not valid Unicode"):
        aw.Verifier((SECRET, "abc\ud800def"))
    assert aw.Verifier((SECRET, OTHER_SECRET)).secret_count == 2


INTEGER_ARGUMENTS = {
    "tolerance": lambda value: aw.Verifier(SECRET, tolerance=value),
    "max_body_bytes": lambda value: aw.Verifier(SECRET, max_body_bytes=value),
    "max_entries": lambda value: aw.MemoryStore(max_entries=value),
    "max_idle_connections": lambda value: aw.RedisStore("redis://127.0.0.1:1", max_idle_connections=value),
    "timestamp": lambda value: aw.sign(SECRET, b"{}", timestamp=value),
}


# The least value each takes (a memory store with room for no id is refused: `test_receiver.py`).
LEAST_INTEGER = {"max_entries": 1}


# The core's own bound below 2**64: a timestamp has at most 12 digits, so sign() refuses a larger one with the
# error every verifier would give its delivery (milliseconds given as seconds).
GREATEST_INTEGER = {"timestamp": 999_999_999_999}


@pytest.mark.parametrize("argument", INTEGER_ARGUMENTS)
def test_integer_arguments_name_themselves(argument: str) -> None:
    build = INTEGER_ARGUMENTS[argument]
    build(LEAST_INTEGER.get(argument, 0))
    build(GREATEST_INTEGER.get(argument, 2**64 - 1))
    if argument in GREATEST_INTEGER:
        with pytest.raises(aw.MalformedTimestampError, match="over 12 digits"):
            build(GREATEST_INTEGER[argument] + 1)
    for value in (-1, 2**64, 2**70):
        with pytest.raises(ValueError) as caught:
            build(value)
        assert type(caught.value) is ValueError
        assert str(caught.value) == f"{argument} must be a non-negative integer below 2**64, got {value}"
    for value, type_name in ((True, "bool"), (False, "bool"), (1.5, "float"), ("5", "str")):
        with pytest.raises(TypeError) as caught:
            build(value)
        assert str(caught.value) == f"{argument} must be a non-negative integer, not {type_name}"


def test_integer_arguments_keep_their_values() -> None:
    verifier = aw.Verifier(SECRET, tolerance=7, max_body_bytes=2**64 - 1)
    assert (verifier.tolerance, verifier.max_body_bytes) == (7, 2**64 - 1)
    assert aw.MemoryStore(max_entries=3).max_entries == 3
    assert aw.MemoryStore().max_entries == 100_000
    assert aw.sign(SECRET, b"{}", timestamp=0)["Anchor-Timestamp"] == "0"


def test_catalogue_functions() -> None:
    assert aw.event_types()[0] == "task.completed" and "session.recording.ready" in aw.event_types()
    assert aw.error_codes()[0] == "invalid_secret" and aw.error_codes()[-1] == "store_unavailable"
    assert aw.task_error_types() == ["automation_failure", "invalid_credentials", "timeout", "agent_error", "system_error"]
    assert aw.IN_PROGRESS_RETRY_AFTER_SECONDS == 5
    assert aw.DEFAULT_MAX_BODY_BYTES == 1024 * 1024


def test_unknown_event_type_passes_through() -> None:
    event = verified(envelope("widget.exploded"))
    assert event.type == "widget.exploded" and event.type not in aw.event_types()
    assert repr(event) == f"Event(id='evt_1', type='widget.exploded', matched_secret=0, timestamp={NOW})"


def test_imported_from_the_installed_wheel() -> None:
    # test.sh runs the suite against the wheel installed in a fresh virtualenv, never the source tree.
    import os
    from pathlib import Path

    site = os.environ.get("ANCHOR_WEBHOOKS_EXPECT_INSTALLED_IN")
    if site is None:
        pytest.skip("not run by test.sh (ANCHOR_WEBHOOKS_EXPECT_INSTALLED_IN is not set)")
    package = Path(aw.__file__).resolve().parent
    assert package == Path(site).resolve() / "anchor_webhooks", package
    assert (package / "py.typed").is_file() and (package / "__init__.pyi").is_file()
    assert (package / "_native.abi3.so").is_file()


def test_verified_signature_object() -> None:
    body = envelope()
    headers = aw.sign([OTHER_SECRET], body, timestamp=NOW)
    checked = aw.Verifier([SECRET, OTHER_SECRET]).verify_signature(body, headers, now=NOW)
    delivery_id = headers["Anchor-Delivery-Id"]
    assert (checked.matched_secret, checked.timestamp, checked.delivery_id) == (1, NOW, delivery_id)
    assert repr(checked) == f"VerifiedSignature(matched_secret=1, timestamp={NOW}, delivery_id='{delivery_id}')"
    for secret in (SECRET, OTHER_SECRET):
        assert secret[:16] not in repr(checked) and secret[-16:] not in repr(checked)
    with pytest.raises(AttributeError):
        checked.timestamp = 1  # type: ignore[misc]
    assert not hasattr(checked, "__dict__")
    # No JSON is read: a body that is not an envelope passes the signature check, and only that.
    not_json = b"not json at all"
    signed = aw.sign(SECRET, not_json, timestamp=NOW)
    assert aw.Verifier(SECRET).verify_signature(not_json, signed, now=NOW).delivery_id == signed["Anchor-Delivery-Id"]
    with pytest.raises(aw.InvalidPayloadError):
        aw.Verifier(SECRET).verify(not_json, signed, now=NOW)
    with pytest.raises(aw.SignatureMismatchError):
        aw.Verifier(SECRET).verify_signature(not_json + b" ", signed, now=NOW)
    standard = b'{"type":"x"}'
    standard_headers = aw.sign(STANDARD_SECRET, standard, timestamp=NOW, scheme="standard", id="msg_1")
    checked = aw.Verifier(STANDARD_SECRET, scheme="standard").verify_signature(standard, standard_headers, now=NOW)
    assert (checked.matched_secret, checked.delivery_id) == (0, "msg_1")


def test_import_loads_no_framework() -> None:
    # In a fresh interpreter: the integrations import their framework only when used.
    import subprocess
    import sys

    probe = "import sys, anchor_webhooks; print(sorted(set(sys.modules) & {'fastapi', 'flask', 'django', 'starlette'}))"
    out = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "[]"
    # The probe can see a framework: importing one shows up.
    seen = subprocess.run(
        [sys.executable, "-c", "import flask; " + probe], check=True, capture_output=True, text=True, timeout=60
    )
    assert seen.stdout.strip() == "['flask']"


def test_version_is_the_workspace_version() -> None:
    import importlib.metadata

    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    from conftest import REPO

    workspace = tomllib.loads((REPO / "Cargo.toml").read_text(encoding="utf-8"))["workspace"]["package"]["version"]
    assert aw.__version__ == workspace
    assert importlib.metadata.version("anchor-webhooks") == workspace


def test_type_errors_name_the_argument_and_the_fix() -> None:
    released = memoryview(b"{}")
    released.release()
    cases = [
        (lambda: aw.Verifier(SECRET, scheme=None), 'scheme must be "anchor" or "standard", not NoneType'),
        (lambda: aw.sign(SECRET, b"{}", scheme=1), 'scheme must be "anchor" or "standard", not int'),
        (lambda: aw.Receiver(SECRET), "verifier must be a Verifier, not str: build one from the secret, Receiver(Verifier(secret))"),
        (lambda: aw.Receiver([SECRET]), "verifier must be a Verifier, not list: build one from the secret, Receiver(Verifier(secret))"),
        (lambda: aw.Receiver(aw.MemoryStore()), "verifier must be a Verifier, not MemoryStore"),
        (lambda: aw.MemoryStore(ttl="1"), "ttl must be a number of seconds, not str"),
        (
            lambda: aw.Verifier(SECRET.encode()),
            "secrets must be a str or a list of str (several during a rotation), not bytes: decode the bytes of the "
            "secret's text first (secret.decode()); raw key bytes, as standardwebhooks' Webhook(b\"...\") takes them, "
            'are given as "whsec_" + base64.b64encode(key).decode()',
        ),
        (lambda: aw.Verifier(42), "secrets must be a str or a list of str (several during a rotation), not int"),
        (
            lambda: aw.Verifier([SECRET, SECRET.encode()]),
            "secret #2 must be a str, not bytes: decode the bytes of the secret's text first (secret.decode()); raw key "
            'bytes, as standardwebhooks\' Webhook(b"...") takes them, are given as "whsec_" + base64.b64encode(key).decode()',
        ),
        (lambda: aw.Verifier((SECRET, OTHER_SECRET, None)), "secret #3 must be a str, not NoneType"),
        (lambda: aw.sign([OTHER_SECRET, 7], b"{}"), "secret #2 must be a str, not int"),
        (
            lambda: aw.Verifier(SECRET).verify(released, {}),
            "the body is a released memoryview (its .release() was called, or its `with` block ended): pass the body "
            "before releasing it, or as bytes",
        ),
    ]
    for call, message in cases:
        with pytest.raises(TypeError) as caught:
            call()
        assert type(caught.value) is TypeError and str(caught.value) == message
        assert SECRET not in str(caught.value) and OTHER_SECRET not in str(caught.value)
    # The defaults still apply when the argument is left out.
    assert aw.Verifier(SECRET).scheme == "anchor" and aw.sign(SECRET, b"{}")["Anchor-Timestamp"]


SECONDS_ARGUMENTS = {
    "lease": lambda value: aw.Receiver(aw.Verifier(SECRET), lease=value).lease,
    "ttl": lambda value: aw.MemoryStore(ttl=value).ttl,
    "redis ttl": lambda value: aw.RedisStore("redis://127.0.0.1:1", ttl=value).ttl,
    "timeout": lambda value: aw.RedisStore("redis://127.0.0.1:1", timeout=value).timeout,
}


@pytest.mark.parametrize("argument", SECONDS_ARGUMENTS)
def test_seconds_arguments_refuse_bool_like_the_integer_ones(argument: str) -> None:
    import decimal

    build = SECONDS_ARGUMENTS[argument]
    name = argument.split()[-1]
    assert build(2) == 2.0 and build(2.5) == 2.5 and build(decimal.Decimal("3")) == 3.0
    for value, type_name in ((True, "bool"), (False, "bool"), ("1", "str"), (b"1", "bytes"), ([1], "list")):
        with pytest.raises(TypeError) as caught:
            build(value)
        assert str(caught.value) == f"{name} must be a number of seconds, not {type_name}"


def test_seconds_arguments_keep_their_defaults() -> None:
    assert aw.Receiver(aw.Verifier(SECRET)).lease == 30.0
    assert aw.MemoryStore().ttl == 86400.0
    store = aw.RedisStore("redis://127.0.0.1:1")
    assert (store.ttl, store.timeout) == (86400.0, 1.0)
    import inspect

    assert str(inspect.signature(aw.MemoryStore)) == "(max_entries=100000, ttl=86400.0)"
    assert str(inspect.signature(aw.Verifier)) == "(secrets, tolerance=None, scheme='anchor', max_body_bytes=None)"


def shared_objects() -> dict[str, Any]:
    verifier = aw.Verifier(SECRET)
    store = aw.MemoryStore()
    return {
        "Verifier": verifier,
        "MemoryStore": store,
        "RedisStore": aw.RedisStore("redis://:hunter2@127.0.0.1:1/0"),
        "Receiver": aw.Receiver(verifier, store),
    }


NOT_PICKLED = {
    "Verifier": "a Verifier cannot be pickled: it holds the webhook secrets, which a pickle would carry in clear; "
    "build it from the secret in each process (Verifier(secret)); copy.copy/deepcopy return it as is",
    "MemoryStore": "a MemoryStore cannot be pickled: its claims live in this process's memory, and a copy in another "
    "process would not see them; create one per process (or share a RedisStore between processes); "
    "copy.copy/deepcopy return it as is",
    "RedisStore": "a RedisStore cannot be pickled: it holds a connection pool and the URL's password; create one per "
    "process from the URL (RedisStore(url)); copy.copy/deepcopy return it as is",
    "Receiver": "a Receiver cannot be pickled: its Verifier holds the webhook secrets, which a pickle would carry in "
    "clear, and its store lives in this process; build it in each process (Receiver(Verifier(secret), store)); "
    "copy.copy/deepcopy return it as is",
}


def test_an_event_is_not_pickled_or_copied_and_says_what_to_enqueue() -> None:
    import copy
    import pickle

    event = verified(envelope("task.completed", "evt_q"))
    message = (
        "an Event cannot be pickled or copied: it is a view of the verified delivery in this process; enqueue "
        "plain data instead: event.body (the whole envelope as a dict), or event.id, event.type and event.data"
    )
    attempts = [lambda: copy.copy(event), lambda: copy.deepcopy({"e": event})]
    attempts += [lambda protocol=protocol: pickle.dumps(event, protocol=protocol) for protocol in range(pickle.HIGHEST_PROTOCOL + 1)]
    for attempt in attempts:
        with pytest.raises(TypeError) as caught:
            attempt()
        assert str(caught.value) == message
    # What the message suggests does pickle, and carries the event.
    assert pickle.loads(pickle.dumps(event.body))["id"] == "evt_q"


@pytest.mark.parametrize("kind", NOT_PICKLED)
def test_copies_are_the_object_itself_and_pickles_are_refused(kind: str) -> None:
    import copy
    import dataclasses
    import pickle
    import weakref

    shared = shared_objects()[kind]
    assert copy.copy(shared) is shared and copy.deepcopy(shared) is shared
    config = {"webhooks": [shared], "name": "x"}
    assert copy.deepcopy(config)["webhooks"][0] is shared

    @dataclasses.dataclass
    class Settings:
        value: Any

    assert dataclasses.asdict(Settings(shared))["value"] is shared
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        with pytest.raises(TypeError) as caught:
            pickle.dumps(shared, protocol=protocol)
        assert str(caught.value) == NOT_PICKLED[kind]
    reference = weakref.ref(shared)
    assert reference() is shared
    del shared, config
    import gc

    gc.collect()
    assert reference() is None
