"""Every body type and every header container the binding accepts, and clear refusals for the rest."""

from __future__ import annotations

import array
import collections
import datetime
import os
import subprocess
import sys
import time
import types
from typing import Any, Callable, Iterator, Optional

import pytest

import anchor_webhooks as aw
from conftest import SECRET, STANDARD_SECRET, envelope

BODY = envelope()
NOW = 1_716_544_084
SIGNED = aw.sign(SECRET, BODY, timestamp=NOW)
VERIFIER = aw.Verifier(SECRET)


def verify(body: Any, headers: Any) -> aw.Event:
    return VERIFIER.verify(body, headers, now=NOW)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(BODY, id="bytes"),
        pytest.param(bytearray(BODY), id="bytearray"),
        pytest.param(memoryview(BODY), id="memoryview"),
        pytest.param(memoryview(bytearray(BODY)), id="memoryview-of-bytearray"),
        pytest.param(memoryview(b"xx" + BODY + b"yy")[2:-2], id="memoryview-slice"),
        pytest.param(array.array("B", BODY), id="array"),
        pytest.param(BODY.decode("utf-8"), id="str"),
    ],
)
def test_body_types(body: Any) -> None:
    assert verify(body, SIGNED).id == "evt_1"


def test_non_contiguous_memoryview_is_copied() -> None:
    doubled = bytes(b for byte in BODY for b in (byte, 0))
    assert verify(memoryview(doubled)[::2], SIGNED).id == "evt_1"


COPY_PROBE = """
import array, re, sys
import anchor_webhooks as aw

def peak():  # this process's resident-memory high-water mark, bytes (its own address space, since exec)
    with open("/proc/self/status") as status:
        return int(re.search(r"^VmHWM:\\s+(\\d+) kB$", status.read(), re.M).group(1)) * 1024

size = 64 * 1024 * 1024
source = bytearray(b"x") * size
body = memoryview(source) if sys.argv[1] == "memoryview" else array.array("B", source)
verifier = aw.Verifier(sys.argv[2], max_body_bytes=size)
headers = aw.sign(sys.argv[2], b"another body", timestamp=1_716_544_084)
before = peak()
try:
    verifier.verify_signature(body, headers, now=1_716_544_084)
except aw.SignatureMismatchError:
    pass
print((peak() - before) / size)
"""


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="reads VmHWM from Linux's /proc")
@pytest.mark.parametrize("kind", ["memoryview", "array"])
def test_buffer_body_is_copied_once(kind: str) -> None:
    # The peak memory a verify adds over a 64 MiB buffer body: one copy (`tobytes()`, read in place), not two.
    # In a fresh process, so no earlier test's memory hides the peak. (Not ru_maxrss: Linux carries it
    # over from the parent through fork and exec.)
    out = subprocess.run(
        [sys.executable, "-c", COPY_PROBE, kind, SECRET], check=True, capture_output=True, text=True, timeout=120
    )
    copies = float(out.stdout)
    assert 0.9 < copies < 1.5, f"a 64 MiB {kind} body added {copies:.2f}x its size to the peak memory"


def test_str_body_is_utf8() -> None:
    body = envelope(data={"name": "café ☕ 東京"})
    signed = aw.sign(SECRET, body, timestamp=NOW)
    assert verify(body.decode("utf-8"), signed).data == {"name": "café ☕ 東京"}


def test_str_body_with_surrogateescape_gets_its_bytes_back() -> None:
    # A body that is not UTF-8, decoded by a framework with errors="surrogateescape": the original bytes
    # are verified (the signature matches), then the envelope is refused as not UTF-8.
    raw = BODY[:-2] + b"\xff}}"
    signed = aw.sign(SECRET, raw, timestamp=NOW)
    with pytest.raises(aw.InvalidPayloadError):
        verify(raw.decode("utf-8", "surrogateescape"), signed)


def test_lone_surrogate_str_body_is_our_error_not_unicode_error() -> None:
    with pytest.raises(aw.SignatureMismatchError):
        verify(BODY.decode() + "\ud800", SIGNED)


@pytest.mark.parametrize("body", [None, 42, 4.2, {"id": "evt_1"}, ["x"], object()])
def test_other_body_types_are_type_errors(body: Any) -> None:
    with pytest.raises(TypeError, match="raw request bytes"):
        verify(body, SIGNED)


class ItemsOf:
    """Not a mapping, but has an items() method (like email.message.Message): it returns what it was given."""

    def __init__(self, items: Any) -> None:
        self._items = items

    def items(self) -> Any:
        return self._items


class PlainMapping(collections.abc.Mapping):
    """A user-defined read-only Mapping (only __getitem__/__iter__/__len__)."""

    def __init__(self, pairs: dict[str, str]) -> None:
        self._pairs = pairs

    def __getitem__(self, key: str) -> str:
        return self._pairs[key]

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._pairs)

    def __len__(self) -> int:
        return len(self._pairs)


def environ_of(headers: dict[str, str]) -> dict[str, Any]:
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/webhooks",
        "wsgi.version": (1, 0),
        "wsgi.input": object(),
        "wsgi.errors": object(),
    }
    for name, value in headers.items():
        key = name.upper().replace("-", "_")
        environ[key if key in ("CONTENT_TYPE", "CONTENT_LENGTH") else "HTTP_" + key] = value
    return environ


def containers() -> list[Any]:
    lower = {name.lower(): value for name, value in SIGNED.items()}
    upper = {name.upper(): value for name, value in SIGNED.items()}
    params = [
        pytest.param(dict(SIGNED), id="dict"),
        pytest.param(lower, id="dict-lowercase"),
        pytest.param(upper, id="dict-uppercase"),
        pytest.param({name.encode(): value.encode() for name, value in SIGNED.items()}, id="dict-bytes"),
        pytest.param({name: [value] for name, value in SIGNED.items()}, id="dict-of-lists"),
        pytest.param(collections.OrderedDict(SIGNED), id="ordered-dict"),
        pytest.param(types.MappingProxyType(dict(SIGNED)), id="mappingproxy"),
        pytest.param(PlainMapping(dict(SIGNED)), id="user-mapping"),
        pytest.param(list(SIGNED.items()), id="list-of-tuples"),
        pytest.param(tuple(SIGNED.items()), id="tuple-of-tuples"),
        pytest.param([[name, value] for name, value in SIGNED.items()], id="list-of-lists"),
        pytest.param([(n.encode(), v.encode()) for n, v in SIGNED.items()], id="list-of-bytes-pairs"),
        pytest.param(SIGNED.items(), id="dict-items"),
        pytest.param(((name, value) for name, value in SIGNED.items()), id="generator"),
        pytest.param(iter(list(SIGNED.items())), id="iterator"),
        pytest.param(frozenset(SIGNED.items()), id="frozenset-of-pairs"),
        pytest.param(environ_of(SIGNED), id="wsgi-environ"),
        pytest.param({k: v for k, v in environ_of(SIGNED).items() if not k.startswith("wsgi.")}, id="cgi-environ"),
    ]
    return params


@pytest.mark.parametrize("headers", containers())
def test_header_containers(headers: Any) -> None:
    event = verify(BODY, headers)
    assert (event.id, event.delivery_id) == ("evt_1", SIGNED["Anchor-Delivery-Id"])


def test_a_delivery_of_the_other_scheme_is_named() -> None:
    # Through each way the binding walks headers (a dict, a WSGI environ, a pair list): each keeps the other
    # scheme's signature header for the core to name.
    standard = aw.sign(STANDARD_SECRET, BODY, timestamp=NOW, scheme="standard")
    for headers in (standard, environ_of(standard), list(standard.items())):
        with pytest.raises(aw.MissingHeaderError) as caught:
            verify(BODY, headers)
        assert str(caught.value) == (
            "missing header `Anchor-Signature`: the delivery carries `webhook-signature` instead, so it is signed with "
            "the Standard Webhooks scheme: verify it with a verifier of the standard scheme and that webhook's "
            "`whsec_` secret"
        )
    with pytest.raises(aw.MissingHeaderError, match="carries `Anchor-Signature` instead, so it is signed with the Anchor"):
        aw.Verifier(STANDARD_SECRET, scheme="standard").verify(BODY, SIGNED, now=NOW)


def test_starlette_headers() -> None:
    from starlette.datastructures import Headers

    raw = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in SIGNED.items()]
    assert verify(BODY, Headers(raw=raw)).id == "evt_1"
    assert verify(BODY, Headers(headers=dict(SIGNED))).id == "evt_1"


def test_werkzeug_headers() -> None:
    from werkzeug.datastructures import EnvironHeaders, Headers

    assert verify(BODY, EnvironHeaders(environ_of(SIGNED))).id == "evt_1"
    assert verify(BODY, Headers(list(SIGNED.items()))).id == "evt_1"


def test_django_headers() -> None:
    from django.http.request import HttpHeaders

    assert verify(BODY, HttpHeaders(environ_of(SIGNED))).id == "evt_1"


def test_http_client_message() -> None:
    import email.message

    message = email.message.Message()
    for name, value in SIGNED.items():
        message[name] = value
    assert verify(BODY, message).id == "evt_1"


def test_repeated_header_in_a_list_is_malformed() -> None:
    pairs = list(SIGNED.items()) + [("anchor-signature", SIGNED["Anchor-Signature"])]
    with pytest.raises(aw.MalformedHeaderError):
        verify(BODY, pairs)
    with pytest.raises(aw.MalformedHeaderError):
        verify(BODY, {**SIGNED, "Anchor-Signature": [SIGNED["Anchor-Signature"]] * 2})
    # Two spellings of one name in a dict are one header twice.
    with pytest.raises(aw.MalformedHeaderError):
        verify(BODY, {**SIGNED, "ANCHOR-SIGNATURE": SIGNED["Anchor-Signature"]})


def test_header_values_are_checked_by_the_core() -> None:
    with pytest.raises(aw.MalformedHeaderError):
        verify(BODY, {**SIGNED, "Anchor-Delivery-Id": "caf\u00e9"})
    with pytest.raises(aw.MalformedHeaderError):
        verify(BODY, {**SIGNED, "Anchor-Delivery-Id": b"caf\xc3\xa9"})
    with pytest.raises(aw.MalformedTimestampError):
        verify(BODY, {**SIGNED, "Anchor-Timestamp": "12a"})
    with pytest.raises(aw.MissingHeaderError):
        verify(BODY, {})


@pytest.mark.parametrize(
    "headers, message",
    [
        (None, "mapping"),
        (42, "mapping"),
        ("Anchor-Signature: x", "mapping"),
        ({1: "x"}, "names must be str or bytes"),
        ({"Anchor-Signature": 5}, "values must be str or bytes"),
        ([("only-a-name",)], r"\(name, value\) pairs"),
        (["Anchor-Signature"], r"\(name, value\) pairs"),
        ([{"a": "x", "b": "y"}], r"\(name, value\) pairs, not dict$"),
        ([{"a", "b"}], r"\(name, value\) pairs, not set$"),
        ([1], r"\(name, value\) pairs, not int$"),
        (["ab"], r"\(name, value\) pairs, not str$"),
        ([("Anchor-Signature", "x", "y")], r"\(name, value\) pairs, not tuple$"),
        ([["Anchor-Signature"]], r"\(name, value\) pairs, not list$"),
        (list(SIGNED.items()) + [("a",)], r"\(name, value\) pairs, not tuple$"),
        (ItemsOf([1, 2]), r"\(name, value\) pairs, not int$"),
        (ItemsOf([("Anchor-Signature",)]), r"\(name, value\) pairs, not tuple$"),
        (ItemsOf([("Anchor-Signature", "x", "y")]), r"\(name, value\) pairs, not tuple$"),
        (ItemsOf([{"a": "x", "b": "y"}]), r"\(name, value\) pairs, not dict$"),
        (ItemsOf([{"a", "b"}]), r"\(name, value\) pairs, not set$"),
        (ItemsOf(["ab"]), r"\(name, value\) pairs, not str$"),
        (ItemsOf(42), r"'int' object is not iterable"),
    ],
)
def test_unusable_header_containers_are_type_errors(headers: Any, message: str) -> None:
    with pytest.raises(TypeError, match=message) as caught:
        verify(BODY, headers)
    assert type(caught.value) is TypeError
    assert "pairs" not in message or str(caught.value).startswith(
        "a header list (or a mapping's items()) must hold (name, value) pairs, not "
    )


def test_any_iterable_of_pairs_keeps_the_pair_checks() -> None:
    pairs_error = "a header list (or a mapping's items()) must hold (name, value) pairs, not "
    for bad, type_name in (((x for x in ["ab"]), "str"), (iter([("Anchor-Signature",)]), "tuple"), ({1: 2}.keys(), "int")):
        with pytest.raises(TypeError) as caught:
            verify(BODY, bad)
        assert str(caught.value) == pairs_error + type_name
    # Text is not an iterable of pairs: the container error, not one about its characters.
    for text, type_name in (("Anchor-Signature: x", "str"), (b"Anchor-Signature: x", "bytes"), (bytearray(b"x"), "bytearray")):
        with pytest.raises(TypeError) as caught:
            verify(BODY, text)
        assert str(caught.value) == (
            "the headers must be a mapping (dict, Starlette/Werkzeug/Django headers), a WSGI environ or an "
            f"iterable of (name, value) pairs, not {type_name}"
        )


def test_none_header_value_is_an_absent_header() -> None:
    # `{n: request.headers.get(n) for n in NEEDED}` on an unsigned request: missing_header (400), not TypeError.
    needed = ("Anchor-Signature", "Anchor-Timestamp", "Anchor-Delivery-Id")
    unsigned = {name: value for name, value in SIGNED.items() if name != "Anchor-Signature"}
    for picked in (
        {name: unsigned.get(name) for name in needed},
        [(name, unsigned.get(name)) for name in needed],
        {**unsigned, "Anchor-Signature": [None]},
        environ_of({name: unsigned.get(name) for name in needed}),  # type: ignore[misc]
    ):
        with pytest.raises(aw.MissingHeaderError) as caught:
            verify(BODY, picked)
        assert (caught.value.code, caught.value.http_status) == ("missing_header", 400)
        assert str(caught.value).startswith("missing header `Anchor-Signature`")
    # A None beside the real values changes nothing.
    assert verify(BODY, {**SIGNED, "Anchor-Event": None, "X-Request-Id": None}).id == "evt_1"
    assert verify(BODY, {**SIGNED, "Anchor-Signature": [SIGNED["Anchor-Signature"], None]}).id == "evt_1"


def test_only_values_of_headers_the_verifier_reads_are_type_checked() -> None:
    body = BODY
    # Headers no verifier reads: never looked at, whatever their value.
    assert verify(body, {**SIGNED, "Content-Length": len(body), "X-Retry": 3, "X-Sixteen-Chars!": 1.5}).id == "evt_1"
    assert verify(body, [*SIGNED.items(), ("Content-Length", len(body))]).id == "evt_1"
    # A header the verifier reads: a TypeError naming it, in any spelling and container.
    for headers, name in (
        ({**SIGNED, "Anchor-Signature": 5}, "'Anchor-Signature'"),
        ({**SIGNED, "anchor-timestamp": NOW}, "'anchor-timestamp'"),
        ([*SIGNED.items(), (b"Anchor-Event", ["task.completed", 7])], "b'Anchor-Event'"),
    ):
        with pytest.raises(TypeError) as caught:
            verify(body, headers)
        assert str(caught.value) == f"header values must be str or bytes (or a list of them), not int (header {name})"


def test_released_memoryview_body_says_so() -> None:
    view = memoryview(bytearray(BODY))
    view.release()
    with pytest.raises(TypeError) as caught:
        verify(view, SIGNED)
    assert str(caught.value) == (
        "the body is a released memoryview (its .release() was called, or its `with` block ended): pass the body "
        "before releasing it, or as bytes"
    )


def test_environ_ignores_non_header_values() -> None:
    environ = environ_of(SIGNED)
    environ["wsgi.multithread"] = True
    assert verify(BODY, environ).id == "evt_1"


def test_now_accepts_int_float_and_datetime() -> None:
    assert verify(BODY, SIGNED).timestamp == NOW
    assert VERIFIER.verify(BODY, SIGNED, now=NOW + 0.9).id == "evt_1"
    at = datetime.datetime.fromtimestamp(NOW + 120, tz=datetime.timezone.utc)
    assert VERIFIER.verify(BODY, SIGNED, now=at).id == "evt_1"
    with pytest.raises(aw.TimestampTooOldError) as caught:
        VERIFIER.verify(BODY, SIGNED, now=NOW + 121)
    assert caught.value.skew_seconds == 121
    with pytest.raises(ValueError, match="non-negative"):
        VERIFIER.verify(BODY, SIGNED, now=-1)
    with pytest.raises(TypeError, match=r"^now must be unix seconds \(int or float\), an aware datetime or None, not str$"):
        VERIFIER.verify(BODY, SIGNED, now="yesterday")


NAIVE_NOW = "now must be an aware datetime (tzinfo set) or unix seconds; a naive datetime would be read as local time"


@pytest.fixture
def moscow_time() -> Iterator[None]:
    """The host's local time zone is UTC+3 (a POSIX TZ string: needs no tz database), restored afterwards."""
    previous = os.environ.get("TZ")
    os.environ["TZ"] = "MSK-3"
    time.tzset()
    try:
        assert time.timezone == -3 * 3600, "the TZ change did not take effect"
        yield
    finally:
        if previous is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = previous
        time.tzset()


class NoOffset(datetime.tzinfo):
    """A tzinfo whose utcoffset() is None: Python calls such a datetime naive too."""

    def utcoffset(self, dt: Optional[datetime.datetime]) -> Optional[datetime.timedelta]:
        return None


def now_takers() -> dict[str, Callable[[Any], object]]:
    def receive(now: Any) -> None:
        with aw.Receiver(VERIFIER).receive(BODY, SIGNED, now=now):  # a new store each time: never a duplicate
            pass

    return {
        "verify": lambda now: VERIFIER.verify(BODY, SIGNED, now=now),
        "verify_signature": lambda now: VERIFIER.verify_signature(BODY, SIGNED, now=now),
        "Receiver.receive": receive,
    }


@pytest.mark.parametrize("taker", list(now_takers()))
def test_naive_datetime_now_is_refused_under_a_non_utc_zone(moscow_time: None, taker: str) -> None:
    # The usual mistake: datetime.utcnow() (naive). Read as local time it would move the tolerance window by
    # 3 hours here: a 3-hour-old replay would pass and a fresh delivery would be "too new".
    naive = datetime.datetime.fromtimestamp(NOW, tz=datetime.timezone.utc).replace(tzinfo=None)
    call = now_takers()[taker]
    for now in (naive, naive + datetime.timedelta(hours=3), naive.replace(tzinfo=NoOffset())):
        with pytest.raises(TypeError) as caught:
            call(now)
        assert str(caught.value) == NAIVE_NOW
    call(naive.replace(tzinfo=datetime.timezone.utc))  # the same instant, aware: verifies
    call(datetime.datetime.fromtimestamp(NOW, tz=datetime.timezone(datetime.timedelta(hours=-7))))
    stale = (naive + datetime.timedelta(hours=3)).replace(tzinfo=datetime.timezone.utc)
    with pytest.raises(aw.TimestampTooOldError) as too_old:
        call(stale)
    assert too_old.value.skew_seconds == 3 * 3600


NOW_RANGE = (
    "now must be a non-negative number of unix seconds, at most 999999999999 (the largest timestamp a "
    "signature carries), or an aware datetime; got "
)


@pytest.mark.parametrize("taker", list(now_takers()))
def test_now_outside_what_the_core_can_use_is_refused(taker: str) -> None:
    call = now_takers()[taker]
    for now in (True, False):
        with pytest.raises(TypeError) as caught:
            call(now)
        assert str(caught.value) == "now must be unix seconds (int or float), an aware datetime or None, not bool"
    before_epoch = datetime.datetime(1969, 12, 31, 23, 59, 59, tzinfo=datetime.timezone.utc)
    for now in (-1, -0.5, 10**12, 2**64, 2**70, 1e12, 1e30, float("inf"), float("nan"), before_epoch):
        with pytest.raises(ValueError) as caught:
            call(now)
        assert type(caught.value) is ValueError
        assert str(caught.value) == NOW_RANGE + repr(now)
    with pytest.raises(aw.TimestampTooOldError) as too_old:
        call(999_999_999_999)
    assert too_old.value.skew_seconds == 999_999_999_999 - NOW
    with pytest.raises(aw.TimestampTooOldError) as too_old:
        call(999_999_999_998.5)
    assert too_old.value.skew_seconds == 999_999_999_998 - NOW


class HeaderName(str):
    """A str subclass as a header name (never taken for one of the spellings the binding knows in advance)."""


def test_only_the_headers_a_verifier_reads_matter_in_any_spelling() -> None:
    # The binding hands the core only the pairs it may read; the core still decides, in every spelling.
    odd = {
        "aNcHoR-sIgNaTuRe": SIGNED["Anchor-Signature"],
        "ANCHOR-timestamp": SIGNED["Anchor-Timestamp"],
        HeaderName("anchor-DELIVERY-id"): SIGNED["Anchor-Delivery-Id"],
        "content-TYPE": "application/json",
        "X-Unrelated-Header-Of-Sixteen": "x",
    }
    event = verify(BODY, odd)
    assert event.delivery_id == SIGNED["Anchor-Delivery-Id"]
    assert verify(BODY, {HeaderName(name): value for name, value in SIGNED.items()}).id == "evt_1"
    with pytest.raises(aw.MalformedHeaderError):  # one header twice, in two unusual spellings
        verify(BODY, {**odd, "anchor-SIGNATURE": SIGNED["Anchor-Signature"]})
    with pytest.raises(aw.MissingHeaderError):
        verify(BODY, {name: value for name, value in odd.items() if name != "aNcHoR-sIgNaTuRe"})
    with pytest.raises(aw.MalformedHeaderError):  # a malformed Anchor-Event header is read as well
        verify(BODY, {**odd, "ANCHOR-EVENT": "task.failed\n"})
    # The value of a header no verifier reads is never looked at (Content-Length given as an int).
    assert verify(BODY, {**SIGNED, "X-Count": 5, "Content-Length": len(BODY), "X-Unrelated-Header-Of-Sixteen": 7}).id == "evt_1"


def test_a_header_map_with_incidental_http_names_is_still_a_header_map() -> None:
    # A header the verifier reads, in any case, makes it a header map: HTTP_HOST is then just another name.
    assert verify(BODY, {**SIGNED, "HTTP_HOST": "example.com"}).delivery_id == SIGNED["Anchor-Delivery-Id"]
    lower = {name.lower(): value for name, value in SIGNED.items()}
    assert verify(BODY, {"HTTP_X_FORWARDED_FOR": "10.0.0.1", **lower}).id == "evt_1"
    assert verify(BODY, [("HTTP_HOST", "example.com"), *SIGNED.items()]).id == "evt_1"
    from conftest import STANDARD_SECRET

    verifier = aw.Verifier(STANDARD_SECRET, scheme="standard")
    signed = aw.sign(STANDARD_SECRET, BODY, timestamp=NOW, scheme="standard", id="msg_1")
    assert verifier.verify(BODY, {**signed, "HTTP_HOST": "example.com"}, now=NOW).delivery_id == "msg_1"


def test_environ_detection() -> None:
    # No header name the verifier reads, but HTTP_* names: an environ, even without REQUEST_METHOD/wsgi.*.
    http_only = {k: v for k, v in environ_of(SIGNED).items() if k.startswith("HTTP_")}
    assert set(http_only) >= {"HTTP_ANCHOR_SIGNATURE", "HTTP_ANCHOR_TIMESTAMP"}
    assert verify(BODY, http_only).delivery_id == SIGNED["Anchor-Delivery-Id"]
    environ = environ_of(SIGNED)
    environ["HTTP_anchor_SIGNATURE"] = environ.pop("HTTP_ANCHOR_SIGNATURE")
    assert verify(BODY, environ).delivery_id == SIGNED["Anchor-Delivery-Id"]
    with pytest.raises(aw.MalformedHeaderError):
        verify(BODY, {**environ, "HTTP_ANCHOR_SIGNATURE": SIGNED["Anchor-Signature"]})
    # REQUEST_METHOD or any wsgi.* key (PEP 3333) makes a mapping an environ whatever else it holds: the core
    # then reads HTTP_ANCHOR_SIGNATURE, so plain header names in it are not read.
    for marker in ({"REQUEST_METHOD": "POST"}, {"wsgi.errors": object()}, {"wsgi.url_scheme": "https"}):
        with pytest.raises(aw.MissingHeaderError):
            verify(BODY, {**SIGNED, **marker})
        assert verify(BODY, {**http_only, **SIGNED, **marker}).id == "evt_1"
    # A header the verifier reads counts even when its value is unusable: the TypeError of a header map.
    with pytest.raises(TypeError, match=r"^header values must be str or bytes \(or a list of them\), not int"):
        verify(BODY, {"Anchor-Signature": 5, "HTTP_HOST": "example.com"})
    # A header map's own HTTP_-less environ-looking names do not count: CONTENT_TYPE alone is nothing.
    assert verify(BODY, {**SIGNED, "CONTENT_TYPE": "application/json"}).id == "evt_1"


def test_standard_headers_in_any_spelling() -> None:
    from conftest import STANDARD_SECRET

    verifier = aw.Verifier(STANDARD_SECRET, scheme="standard")
    signed = aw.sign(STANDARD_SECRET, BODY, timestamp=NOW, scheme="standard", id="msg_1")
    svix = {name.replace("webhook", "svix"): value for name, value in signed.items()}
    for headers in (signed, svix, {n.upper(): v for n, v in svix.items()}, {n.title(): v for n, v in signed.items()}):
        assert verifier.verify(BODY, headers, now=NOW).delivery_id == "msg_1"
        assert verifier.verify_signature(BODY, headers, now=NOW).delivery_id == "msg_1"
    # Anchor's headers mean nothing to a Standard Webhooks verifier.
    with pytest.raises(aw.MissingHeaderError):
        verifier.verify(BODY, SIGNED, now=NOW)
