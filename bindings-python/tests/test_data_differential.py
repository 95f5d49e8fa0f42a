"""`event.data` / `event.body` against `json.loads` of the same bytes: equal AND type for type (int vs float,
float bits, key order), for every vector body and a few hundred generated JSON texts, including the spellings
the binding's serde visitor hands back to `json.loads` (integers beyond 64 bits, `-0`) and those it converts
itself (everything else)."""

from __future__ import annotations

import base64
import json
import math
import random
from typing import Any, List

import pytest

import anchor_webhooks as aw
from conftest import SECRET, STANDARD_SECRET, vector_documents

NOW = 1_780_000_000


def same(ours: Any, theirs: Any, where: str = "data") -> None:
    """Asserts `ours` and `theirs` are the same JSON value type for type, including key order."""
    assert type(ours) is type(theirs), f"{where}: {type(ours).__name__} {ours!r} vs {type(theirs).__name__} {theirs!r}"
    if isinstance(theirs, dict):
        assert list(ours) == list(theirs), f"{where}: key order {list(ours)} vs {list(theirs)}"
        for key in theirs:
            same(ours[key], theirs[key], f"{where}[{key!r}]")
    elif isinstance(theirs, list):
        assert len(ours) == len(theirs), f"{where}: length {len(ours)} vs {len(theirs)}"
        for index, (mine, other) in enumerate(zip(ours, theirs)):
            same(mine, other, f"{where}[{index}]")
    elif isinstance(theirs, float):
        assert ours.hex() == theirs.hex() and math.copysign(1, ours) == math.copysign(1, theirs), f"{where}: {ours!r} vs {theirs!r}"
    else:
        assert ours == theirs, f"{where}: {ours!r} vs {theirs!r}"


def test_the_sameness_check_can_fail() -> None:
    for ours, theirs in ((1, 1.0), ({"a": 1, "b": 2}, {"b": 2, "a": 1}), (0.0, -0.0), ([1], [1, 2]), ("a", "b")):
        with pytest.raises(AssertionError):
            same(ours, theirs)


def anchor_body(data_text: bytes) -> bytes:
    return b'{"id":"evt_1","type":"task.completed","created":"2026-05-24T12:18:05Z","data":' + data_text + b"}"


def verified(body: bytes) -> aw.Event:
    return aw.Verifier(SECRET).verify(body, aw.sign(SECRET, body, timestamp=NOW), now=NOW)


def check_text(data_text: bytes) -> None:
    if not data_text.strip().startswith(b"{"):  # an Anchor envelope's data is an object
        data_text = b'{"v":' + data_text + b"}"
    body = anchor_body(data_text)
    event = verified(body)
    expected = json.loads(body)
    same(event.data, expected["data"])
    same(event.body, expected, "body")


def vector_bodies() -> List[Any]:
    params = []
    for _, document in vector_documents("verification"):
        for case in document["cases"]:
            if case["expect"]["ok"]:
                params.append(pytest.param(document["scheme"], case, id=f"{document['scheme']}:{case['name']}"))
    return params


@pytest.mark.parametrize("scheme, case", vector_bodies())
def test_vector_bodies(scheme: str, case: dict[str, Any]) -> None:
    body = base64.b64decode(case["body_base64"]) if "body_base64" in case else case["body"].encode("utf-8")
    options = {field: case[field] for field in ("tolerance", "max_body_bytes") if field in case}
    event = aw.Verifier(case["secrets"], scheme=scheme, **options).verify(body, case["headers"], now=case["now"])
    expected = json.loads(body)
    same(event.body, expected, "body")
    if scheme == "anchor":
        same(event.data, expected["data"])
    else:  # any JSON value; `data` is None unless it is an object with a `data` member
        same(event.data, expected.get("data") if isinstance(expected, dict) else None)


SPELLINGS = [
    # integers at and beyond 64 bits (serde_json reports those as floats: the visitor hands over to json.loads)
    b"[9223372036854775807,9223372036854775808,18446744073709551615,18446744073709551616]",
    b"[-9223372036854775808,-9223372036854775809,-18446744073709551616]",
    b"[123456789012345678901234567890123456789,-1" + b"0" * 60 + b"]",
    b'{"before":1,"big":' + b"9" * 300 + b',"after":[1.5,"x"]}',
    # -0 is the int 0, -0.0 a negative zero float
    b"[-0]",
    b"[-0.0,0.0,-0e0,0e-5]",
    b'{"a":-0,"b":[-0.0]}',
    # floats: exponents, underflow, extremes, the classic rounding cases, integral floats past 2**63
    b"[1e-400,-1e-400,5e-324,2.2250738585072014e-308,1.7976931348623157e308,1E5,1e+5,2.5E-3]",
    b"[0.1,0.2,0.30000000000000004,9007199254740993.0,1e23,8.98846567431158e307]",
    b"[9.223372036854775808e18,1e19,1.8446744073709552e19,1e300,-1e300,123456789.123456789e5]",
    b"[2.4703282292062327e-324,2.4703282292062328e-324,1.00000000000000011102230246251565404236316680908203125]",
    # strings: escapes of every kind, surrogate pairs, raw UTF-8, a NUL
    b'["\\u0041\\u00e9\\u6771\\ud83d\\ude00","\\/\\b\\f\\n\\r\\t\\"\\\\","\\u0000","' + "é東😀".encode() + b'"]',
    b'{"\\ud83d\\ude00":"key with a surrogate pair","caf\\u00e9":"escaped key","' + "café".encode() + b'":"raw key"}',
    # duplicate keys: first position, last value
    b'{"dup":1,"other":2,"dup":3}',
    b'{"a":{"x":1},"b":0,"a":[1,2],"a":null}',
    # empty containers and whitespace
    b'{"o":{},"l":[],"s":"","n":null,"t":true,"f":false}',
    b' \t\n\r{ "a" : [ 1 , { } , [ ] ] , "b" : "c" } \n',
    b"{}",
    # nesting 120
    b"[" * 120 + b"1" + b"]" * 120,
    b'{"n":' * 60 + b"[" * 60 + b"null" + b"]" * 60 + b"}" * 60,
]


@pytest.mark.parametrize("data_text", SPELLINGS, ids=range(len(SPELLINGS)))
def test_spellings(data_text: bytes) -> None:
    check_text(data_text)


def random_number_text(rng: random.Random) -> str:
    kind = rng.randrange(6)
    if kind == 0:
        return str(rng.randint(-(2**70), 2**70))
    if kind == 1:
        return str(rng.choice([2**63 - 1, 2**63, 2**64 - 1, 2**64, -(2**63), -(2**63) - 1, 0]) + rng.randint(-2, 2))
    if kind == 2:
        return repr(rng.uniform(-1e9, 1e9) * 10 ** rng.randint(-300, 300))
    if kind == 3:
        return f"{rng.randint(-999999, 999999)}e{rng.randint(-420, 300)}"
    if kind == 4:
        return f"{rng.randint(-99, 99)}.{rng.randint(0, 10**25)}E{rng.choice(['', '+', '-'])}{rng.randint(0, 30)}"
    return rng.choice(["-0", "-0.0", "0", "0.0", "1e-400", "-1e-400"])


def random_string_text(rng: random.Random) -> str:
    pieces = []
    for _ in range(rng.randrange(8)):
        kind = rng.randrange(5)
        if kind == 0:
            pieces.append(rng.choice(["\\n", "\\t", '\\"', "\\\\", "\\/", "\\b", "\\f", "\\r"]))
        elif kind == 1:
            pieces.append(f"\\u{rng.randrange(0x20, 0xd800):04x}")
        elif kind == 2:
            code = rng.randrange(0x10000, 0x110000) - 0x10000
            pieces.append(f"\\u{0xd800 + (code >> 10):04x}\\u{0xdc00 + (code & 0x3ff):04x}")
        elif kind == 3:
            pieces.append(rng.choice("abc é東京😀"))
        else:
            pieces.append("plain")
    return '"' + "".join(pieces) + '"'


def random_json_text(rng: random.Random, depth: int = 0) -> str:
    kind = rng.randrange(8 if depth < 6 else 5)
    space = rng.choice(["", "", " ", "\n "])
    if kind == 0:
        return rng.choice(["null", "true", "false"])
    if kind in (1, 2):
        return random_number_text(rng)
    if kind in (3, 4):
        return random_string_text(rng)
    if kind in (5, 6):
        keys = [random_string_text(rng) if rng.random() < 0.3 else f'"k{rng.randrange(6)}"' for _ in range(rng.randrange(6))]
        members = [f"{space}{key}{space}:{space}{random_json_text(rng, depth + 1)}" for key in keys]
        return "{" + ",".join(members) + space + "}"
    return "[" + ",".join(space + random_json_text(rng, depth + 1) for _ in range(rng.randrange(6))) + space + "]"


def test_generated_json_texts() -> None:
    rng = random.Random(5_2026_11_23)
    for _ in range(400):
        data_text = ("{" + f'"v":{random_json_text(rng)}' + "}").encode()
        check_text(data_text)


def test_standard_body_without_data() -> None:
    body = b'{"type":"x.y","n":-0,"big":18446744073709551616}'
    event = aw.Verifier(STANDARD_SECRET, scheme="standard").verify(
        body, aw.sign(STANDARD_SECRET, body, timestamp=NOW, scheme="standard"), now=NOW
    )
    assert event.data is None
    same(event.body, json.loads(body), "body")
