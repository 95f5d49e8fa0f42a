"""Every case of tests/vectors/*.json, with the exact exception class and code."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

import anchor_webhooks as aw
from conftest import VECTORS


def load(name: str) -> dict[str, Any]:
    document = json.loads((VECTORS / name).read_text(encoding="utf-8"))
    assert document["format"] == 1, f"{name}: unknown vector format {document['format']}"
    assert document["cases"], f"{name} has no cases"
    return document


def class_for(code: str) -> type:
    return getattr(aw, "".join(word.capitalize() for word in code.split("_")) + "Error")


def body_of(case: dict[str, Any]) -> bytes:
    if "body_base64" in case:
        return base64.b64decode(case["body_base64"])
    return case["body"].encode("utf-8")


def verification_cases() -> list[Any]:
    cases = []
    for name in ("anchor.json", "standard.json"):
        document = load(name)
        for case in document["cases"]:
            cases.append(pytest.param(document["scheme"], case, id=f"{document['scheme']}:{case['name']}"))
    return cases


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
    return [pytest.param(case, id=case["name"]) for case in load("secrets.json")["cases"]]


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
