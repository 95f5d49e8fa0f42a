"""Every case of tests/vectors/*.json (each file found by glob; one with no handler fails), with the exact
exception class and code; every field of the event read for each accepted delivery."""

from __future__ import annotations

import base64
import datetime
import json
import re
from typing import Any, Optional

import pytest

import anchor_webhooks as aw
from conftest import VECTOR_FILES, VECTORS, vector_documents


def test_every_vector_file_has_a_handler() -> None:
    found = sorted(path.name for path in VECTORS.glob("*.json"))
    unhandled = [name for name in found if name not in VECTOR_FILES]
    assert not unhandled, f"tests/vectors/ files this runner does not run: {unhandled}: add them to VECTOR_FILES"
    assert sorted(VECTOR_FILES) == found, f"VECTOR_FILES names files that do not exist: {sorted(VECTOR_FILES)} vs {found}"


def class_for(code: str) -> type:
    return getattr(aw, "".join(word.capitalize() for word in code.split("_")) + "Error")


def body_of(case: dict[str, Any]) -> bytes:
    if "body_base64" in case:
        return base64.b64decode(case["body_base64"])
    return case["body"].encode("utf-8")


def verification_cases() -> list[Any]:
    cases = []
    for _, document in vector_documents("verification"):
        for case in document["cases"]:
            cases.append(pytest.param(document["scheme"], case, id=f"{document['scheme']}:{case['name']}"))
    return cases


# RFC 3339 in its plain spelling (no leap second); the core reads more, and those cases are only read here.
PLAIN_RFC3339 = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)[Tt](\d\d):(\d\d):([0-5]\d)(?:\.(\d+))?(?:([Zz])|([+-])(\d\d):(\d\d))"
)


def plain_rfc3339(text: Any) -> Optional[datetime.datetime]:
    match = PLAIN_RFC3339.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, zulu, sign, off_hours, off_minutes = match.groups()
    offset = datetime.timedelta(0)
    if not zulu:
        offset = (-1 if sign == "-" else 1) * datetime.timedelta(hours=int(off_hours), minutes=int(off_minutes))
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    parts = (int(year), int(month), int(day), int(hour), int(minute), int(second), micro)
    return datetime.datetime(*parts, tzinfo=datetime.timezone(offset))


def read_everything(view: Any, where: str) -> dict[str, Any]:
    """Reads every property of an Event / TaskData / SessionData / Artifact (views inside, recursively) and
    its repr: a conversion that fails on a legal value fails here."""
    values: dict[str, Any] = {"__repr__": repr(view)}
    for name in dir(type(view)):
        if name.startswith("_") or callable(getattr(type(view), name)):
            continue
        value = getattr(view, name)
        if isinstance(value, (aw.TaskData, aw.SessionData, aw.Artifact)):
            read_everything(value, f"{where}.{name}")
        elif isinstance(value, list):
            for index, item in enumerate(value):
                if isinstance(item, aw.Artifact):
                    read_everything(item, f"{where}.{name}[{index}]")
        values[name] = value
    return values


# Properties each view is known to have: read_everything must have found them all (so it cannot silently read
# nothing when the classes change shape).
EVENT_FIELDS = {"id", "type", "created", "project_id", "text", "data", "body", "matched_secret", "timestamp",
                "delivery_id", "task", "session"}


def check_every_field(scheme: str, case: dict[str, Any], event: aw.Event) -> None:
    fields = read_everything(event, case["name"])
    assert EVENT_FIELDS <= set(fields), sorted(EVENT_FIELDS - set(fields))
    if event.session is not None:
        event.session.usage_field("proxy_bytes")
    body = json.loads(body_of(case))
    assert event.body == body
    envelope = body if isinstance(body, dict) else {}
    if scheme == "anchor":
        assert event.data == envelope["data"]
        written = envelope["created"]
        for field in ("project_id", "text"):
            if isinstance(envelope.get(field), str):
                assert fields[field] == envelope[field], field
    else:
        assert event.data == envelope.get("data")
        written = envelope.get("timestamp")
    created = event.created
    assert created is None or (isinstance(created, datetime.datetime) and created.utcoffset() is not None)
    expected = plain_rfc3339(written)
    if expected is not None:
        assert (created, created.utcoffset()) == (expected, expected.utcoffset()), f"created {written!r}"
    # The vector's instant, through `datetime` (exact integer arithmetic, rounded down like the vectors).
    epoch = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
    created_ms = None if created is None else (created - epoch) // datetime.timedelta(milliseconds=1)
    assert created_ms == case["expect"]["created_ms"], f"created {written!r}"


def test_the_field_check_covers_both_ends_of_the_date_range() -> None:
    names = {case["name"] for _, case in (p.values for p in verification_cases())}
    assert {"created-year-one-ok", "created-year-9999-ok"} <= names


def verifier_and_headers(scheme: str, case: dict[str, Any]) -> tuple[aw.Verifier, list[tuple[str, str]]]:
    """The case's verifier (its secrets, scheme and options) and its headers as (name, value) pairs."""
    options: dict[str, Any] = {}
    for field in ("tolerance", "max_body_bytes"):
        if field in case:
            options[field] = case[field]
    verifier = aw.Verifier(case["secrets"], scheme=scheme, **options)
    return verifier, [(name, value) for name, value in case["headers"]]


@pytest.mark.parametrize("scheme, case", verification_cases())
def test_verification_vector(scheme: str, case: dict[str, Any]) -> None:
    verifier, headers = verifier_and_headers(scheme, case)
    expect = case["expect"]
    if expect["ok"]:
        event = verifier.verify(body_of(case), headers, now=case["now"])
        assert (event.id, event.type, event.matched_secret, event.timestamp, event.delivery_id) == (
            expect["id"],
            expect["type"],
            expect["matched_secret"],
            expect["timestamp"],
            expect["delivery_id"],
        )
        check_every_field(scheme, case, event)
    else:
        with pytest.raises(aw.WebhookVerificationError) as caught:
            verifier.verify(body_of(case), headers, now=case["now"])
        assert type(caught.value) is class_for(expect["error"]), f"{case['name']}: {caught.value!r}"
        assert caught.value.code == expect["error"]
        assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize("scheme, case", verification_cases())
def test_verification_vector_signature_only(scheme: str, case: dict[str, Any]) -> None:
    """`verify_signature` agrees with `verify` on every case, except that it never reads the payload: a case
    refused with `invalid_payload` passes the signature check (the core's vectors test states the same rule)."""
    verifier, headers = verifier_and_headers(scheme, case)
    expect = case["expect"]
    if expect["ok"] or expect["error"] == "invalid_payload":
        checked = verifier.verify_signature(body_of(case), headers, now=case["now"])
        assert type(checked) is aw.VerifiedSignature
        if expect["ok"]:
            assert (checked.matched_secret, checked.timestamp, checked.delivery_id) == (
                expect["matched_secret"],
                expect["timestamp"],
                expect["delivery_id"],
            )
        full = None
        try:
            event = verifier.verify(body_of(case), headers, now=case["now"])
            full = (event.matched_secret, event.timestamp, event.delivery_id)
        except aw.InvalidPayloadError:
            assert not expect["ok"]
        if full is not None:
            assert (checked.matched_secret, checked.timestamp, checked.delivery_id) == full
    else:
        with pytest.raises(aw.WebhookVerificationError) as caught:
            verifier.verify_signature(body_of(case), headers, now=case["now"])
        assert type(caught.value) is class_for(expect["error"]), f"{case['name']}: {caught.value!r}"
        assert caught.value.code == expect["error"]


def test_signature_only_cases_cover_payload_errors() -> None:
    cases = [case for _, case in (p.values for p in verification_cases())]
    assert any(not case["expect"]["ok"] and case["expect"]["error"] == "invalid_payload" for case in cases)


def secret_cases() -> list[Any]:
    return [
        pytest.param(case, id=f"{name}:{case['name']}")
        for name, document in vector_documents("secrets")
        for case in document["cases"]
    ]


@pytest.mark.parametrize("case", secret_cases())
def test_secret_vector(case: dict[str, Any]) -> None:
    if case["expect"]["ok"]:
        verifier = aw.Verifier(case["secrets"], scheme=case["scheme"])
        assert verifier.secret_count == len(case["secrets"])
        return
    with pytest.raises(aw.InvalidSecretError) as caught:
        aw.Verifier(case["secrets"], scheme=case["scheme"])
    assert caught.value.code == "invalid_secret"
    assert caught.value.http_status == 500
    for secret in case["secrets"]:
        if len(secret.strip()) >= 8:
            assert secret.strip() not in str(caught.value), "a secret leaked into the message"


def test_every_error_code_of_the_vectors_is_exercised() -> None:
    seen = {case["expect"]["error"] for _, case in (p.values for p in verification_cases()) if not case["expect"]["ok"]}
    assert seen == set(aw.error_codes()) - {"invalid_secret", "store_unavailable"}
