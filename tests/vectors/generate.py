#!/usr/bin/env python3
"""Generate the cross-language webhook verification vectors.

Writes ``anchor.json``, ``standard.json`` and ``secrets.json`` next to this file.

    python3 tests/vectors/generate.py           # rewrite the three files
    python3 tests/vectors/generate.py --check   # exit 1 if a checked-in file is stale

Standard library only (Python 3.9+). Every positive signature is computed here, independently of the
Rust core, from the provider's published formula:

* Anchor:  hex(HMAC-SHA256(key = secret.encode("utf-8"), msg = b"v0:" + ts + b":" + body))
* Standard Webhooks: base64(HMAC-SHA256(key = base64decode(secret minus "whsec_"),
                                        msg = id + "." + ts + "." + body))

The official Standard Webhooks vector is hard-coded and the generator asserts that the formula above
reproduces it. Output is deterministic: no randomness, no clock.

Before writing anything the generator also replays every case through ``oracle_*`` below, a small,
deliberately naive Python reading of core/DECISIONS.md, and refuses to write if an expectation disagrees
with it or if a rejection case could legitimately fail in more than one way at the same stage. The
oracle is a consistency guard for this file, not a reference implementation.
"""

import argparse
import base64
import datetime
import hashlib
import hmac
import json
import math
import os
import re
import sys
import unicodedata
import uuid

FORMAT = 1
HERE = os.path.dirname(os.path.abspath(__file__))
REGEN_COMMAND = "python3 tests/vectors/generate.py"

ERROR_CODES = {
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
}
SOURCES = {"python-stdlib-hmac", "standard-webhooks-official", "rejection"}

# --------------------------------------------------------------------------------------------------
# Fixed inputs (all deterministic)
# --------------------------------------------------------------------------------------------------

NOW = 1716544084  # 2024-05-24T09:48:04Z
ANCHOR_TOLERANCE = 120
STANDARD_TOLERANCE = 300
DEFAULT_MAX_BODY = 1024 * 1024
MAX_HEADER_BYTES = 8192
MAX_SIGNATURES = 16

# The example secret of SPEC §2 (64 hex characters, used as UTF-8 text, not hex-decoded).
ANCHOR_SECRET = "36da51b166a69268a59a8d5ee0b32c9f5e5aaee7d301c7a5a36844318e116fc6"
# A second, "newer" secret for rotation cases, and a secret nobody configured.
ANCHOR_SECRET_NEW = hashlib.sha256(b"anchor-webhooks vectors: rotated anchor secret").hexdigest()
ANCHOR_SECRET_WRONG = hashlib.sha256(b"anchor-webhooks vectors: attacker secret").hexdigest()
# A non-ASCII secret: the key is its UTF-8 bytes.
ANCHOR_SECRET_UNICODE = "s\u00e9cret-\u043a\u043b\u044e\u0447-\U0001f511"

PROJECT_ID = "5d2c31f6-ab7e-481a-b6fd-8b4a96a4e197"
USER_AGENT = "Anchor-Webhooks/1.0"

# Official Standard Webhooks test vector (SPEC §4 / standard-webhooks spec).
OFFICIAL_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
OFFICIAL_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
OFFICIAL_TS = "1614265330"
OFFICIAL_BODY = b'{"test": 2432232314}'
OFFICIAL_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

# Additional Standard Webhooks secrets, derived deterministically.
STD_SECRET_2 = "whsec_" + base64.b64encode(
    hashlib.sha256(b"anchor-webhooks vectors: anyformat secret").digest()[:24]).decode()
STD_SECRET_WRONG = "whsec_" + base64.b64encode(
    hashlib.sha256(b"anchor-webhooks vectors: standard attacker secret").digest()[:24]).decode()
# 16 key bytes: padded base64 is 24 characters ending in "==", the unpadded form has 22.
STD_SECRET_UNPADDED_RAW = hashlib.sha256(b"anchor-webhooks vectors: unpadded secret").digest()[:16]
STD_SECRET_UNPADDED = "whsec_" + base64.b64encode(STD_SECRET_UNPADDED_RAW).decode().rstrip("=")

_UUID_NS = uuid.UUID("6f1c2f0e-8a43-4d2b-9a52-5a3c1e0b7d11")


def det_uuid(label):
    return str(uuid.uuid5(_UUID_NS, label))


def det_evt(label):
    return "evt_" + hashlib.sha256(("evt:" + label).encode()).hexdigest()[:26]


def rfc3339(ts, millis=0):
    dt = datetime.datetime(1970, 1, 1) + datetime.timedelta(seconds=ts, milliseconds=millis)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (dt.microsecond // 1000)


# --------------------------------------------------------------------------------------------------
# Signing (the providers' formulas, with the standard library only)
# --------------------------------------------------------------------------------------------------

def anchor_hex(secret, ts, body):
    """hex(HMAC_SHA256(key=secret.encode('utf-8'), msg=b"v0:" + ts + b":" + body))"""
    assert isinstance(ts, str) and isinstance(body, bytes)
    msg = b"v0:" + ts.encode("utf-8") + b":" + body
    return hmac.new(secret.encode("utf-8"), msg, hashlib.sha256).hexdigest()


def std_key(secret):
    raw = secret[len("whsec_"):] if secret.startswith("whsec_") else secret
    raw += "=" * (-len(raw) % 4)
    return base64.b64decode(raw, validate=True)


def std_b64(secret, msg_id, ts, body):
    msg = msg_id.encode("utf-8") + b"." + ts.encode("utf-8") + b"." + body
    return base64.b64encode(hmac.new(std_key(secret), msg, hashlib.sha256).digest()).decode()


def std_sig(secret, msg_id, ts, body):
    return "v1," + std_b64(secret, msg_id, ts, body)


assert std_sig(OFFICIAL_SECRET, OFFICIAL_ID, OFFICIAL_TS, OFFICIAL_BODY) == OFFICIAL_SIGNATURE, (
    "the Standard Webhooks formula no longer reproduces the official test vector")


def compact(obj):
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


# --------------------------------------------------------------------------------------------------
# Case construction
# --------------------------------------------------------------------------------------------------

def make_case(name, description, source, secrets, headers, body, expect, now=NOW,
              tolerance=None, max_body_bytes=None):
    assert isinstance(body, bytes)
    c = {"name": name, "description": description, "source": source, "secrets": list(secrets)}
    if tolerance is not None:
        c["tolerance"] = tolerance
    if max_body_bytes is not None:
        c["max_body_bytes"] = max_body_bytes
    c["now"] = now
    c["headers"] = [[k, v] for k, v in headers]
    try:
        c["body"] = body.decode("utf-8")
    except UnicodeDecodeError:
        c["body_base64"] = base64.b64encode(body).decode("ascii")
    c["expect"] = expect
    return c


def ok(matched, ts, evt_id, evt_type, delivery_id):
    return {"ok": True, "matched_secret": matched, "timestamp": int(ts), "id": evt_id,
            "type": evt_type, "delivery_id": delivery_id}


def err(code):
    assert code in ERROR_CODES, code
    return {"ok": False, "error": code}


def set_header(headers, name, value):
    """Replace the value of every header called `name` (exact spelling)."""
    return [(k, value if k == name else v) for k, v in headers]


def drop_header(headers, name):
    return [(k, v) for k, v in headers if k != name]


# ---------------------------------------- Anchor -------------------------------------------------

def envelope(evt_type, data, label=None, ts=NOW, text=None, **extra):
    label = label or evt_type
    env = {
        "id": det_evt(label),
        "type": evt_type,
        "created": rfc3339(ts - 1, 512),
        "project_id": PROJECT_ID,
        "text": text if text is not None else "Anchor event %s" % evt_type,
        "data": data,
    }
    env.update(extra)
    return env


def anchor_headers(body, ts=NOW, secret=ANCHOR_SECRET, event="task.completed", delivery_id=None,
                   signature=None, ts_str=None):
    """Full SPEC §2 header set for a delivery; `signature` overrides the Anchor-Signature value."""
    ts_str = str(ts) if ts_str is None else ts_str
    if signature is None:
        signature = "t=%s,v1=%s" % (ts_str, anchor_hex(secret, ts_str, body))
    h = [("User-Agent", USER_AGENT), ("Content-Type", "application/json")]
    if event is not None:
        h.append(("Anchor-Event", event))
    if delivery_id is not None:
        h.append(("Anchor-Delivery-Id", delivery_id))
    h.append(("Anchor-Timestamp", ts_str))
    h.append(("Anchor-Signature", signature))
    return h


CATALOG = [
    ("task.completed", "a completed task with artifacts, recording and output", {
        "task_id": "tsk_8f2b61c0",
        "execution_id": "exe_41d7a9e3",
        "output": {"value": "{\"invoice_total\": \"1,284.50 EUR\"}"},
        "artifacts": [
            {"name": "invoice.pdf", "url": "https://files.anchorbrowser.example/a/invoice.pdf",
             "size": 48213, "content_type": "application/pdf"},
            {"name": "screenshot.png", "url": "https://files.anchorbrowser.example/a/screenshot.png"},
        ],
        "recording_url": "https://recordings.anchorbrowser.example/r/3f9a.mp4",
        "session_dashboard_url": "https://app.anchorbrowser.example/sessions/3f9a",
    }),
    ("task.failed", "a failed task carrying error.type", {
        "task_id": "tsk_8f2b61c0",
        "execution_id": "exe_52e8b0f4",
        "error": {"type": "invalid_credentials", "message": "Login rejected by target site"},
        "artifacts": [],
        "session_dashboard_url": "https://app.anchorbrowser.example/sessions/41bb",
    }),
    ("task.cancelled", "a cancelled task with no captured artifacts", {
        "task_id": "tsk_8f2b61c0",
        "execution_id": "exe_63f9c105",
        "artifacts": [],
    }),
    ("task.healed", "a healed task carrying healed_task_version_id", {
        "task_id": "tsk_8f2b61c0",
        "healed_task_version_id": "tv_0c7d2e91",
    }),
    ("session.completed", "a completed session with duration and proxy_bytes", {
        "session_id": "ses_3f9a7c21",
        "duration": 183.4,
        "proxy_bytes": 10485760,
    }),
    ("session.failed", "a failed session with an error object", {
        "session_id": "ses_41bb02de",
        "error": {"type": "system_error", "message": "Browser process exited"},
    }),
    ("session.recording.ready", "a session recording that became available", {
        "session_id": "ses_3f9a7c21",
        "recording_url": "https://recordings.anchorbrowser.example/r/3f9a.mp4",
    }),
    ("batch.completed", "a completed batch", {
        "batch_id": "bat_77e0a412", "total": 25, "succeeded": 24, "failed": 1,
    }),
    ("batch.failed", "a failed batch", {
        "batch_id": "bat_88f1b523", "error": {"type": "timeout", "message": "Batch exceeded 3600 s"},
    }),
    ("intervention.requested", "a human intervention request", {
        "session_id": "ses_3f9a7c21", "intervention_id": "int_5a6b7c8d", "reason": "captcha",
        "live_view_url": "https://live.anchorbrowser.example/ses_3f9a7c21",
    }),
    ("intervention.resolved", "a resolved intervention", {
        "session_id": "ses_3f9a7c21", "intervention_id": "int_5a6b7c8d", "resolution": "completed",
    }),
    ("identity.authenticated", "a successful identity authentication", {
        "identity_id": "idn_19c2d3e4", "session_id": "ses_3f9a7c21",
    }),
    ("identity.authentication_failed", "a failed identity authentication", {
        "identity_id": "idn_19c2d3e4", "session_id": "ses_3f9a7c21",
        "error": {"type": "invalid_credentials", "message": "MFA code rejected"},
    }),
    ("session.ready", "a session ready event (listed only in the provider's OpenAPI file)", {
        "session_id": "ses_3f9a7c21",
        "live_view_url": "https://live.anchorbrowser.example/ses_3f9a7c21",
    }),
]


def anchor_cases():
    cases = []
    S = ANCHOR_SECRET

    def add(*a, **k):
        cases.append(make_case(*a, **k))

    # ---- one valid delivery per catalog event ------------------------------------------------
    for evt_type, what, data in CATALOG:
        env = envelope(evt_type, data)
        body = compact(env)
        did = det_uuid("delivery:" + evt_type)
        add("valid-" + evt_type.replace(".", "-").replace("_", "-"),
            "A genuine %s delivery (%s) with the full header set of SPEC section 2 verifies."
            % (evt_type, what),
            "python-stdlib-hmac", [S], anchor_headers(body, event=evt_type, delivery_id=did), body,
            ok(0, NOW, env["id"], evt_type, did))

    # Base delivery reused by most of the cases below.
    base_env = envelope("task.completed", {
        "task_id": "tsk_8f2b61c0", "execution_id": "exe_41d7a9e3", "artifacts": []}, label="base")
    B = compact(base_env)
    BID = base_env["id"]
    DID = det_uuid("delivery:base")

    def H(**k):
        k.setdefault("delivery_id", DID)
        k.setdefault("event", "task.completed")
        return anchor_headers(k.pop("body", B), **k)

    def OK(ts=NOW, matched=0, delivery_id=DID, evt_id=BID, evt_type="task.completed"):
        return ok(matched, ts, evt_id, evt_type, delivery_id)

    sig = anchor_hex(S, str(NOW), B)

    # ---- catalogue extras ---------------------------------------------------------------------
    env = envelope("task.completed", {"task_id": "tsk_8f2b61c0", "execution_id": "exe_9a0b1c2d",
                                      "output": {"value": "__truncated__"}, "artifacts": []},
                   label="truncated")
    body = compact(env)
    add("valid-task-completed-truncated-output",
        "A task.completed whose output.value was replaced by \"__truncated__\" (payload over 64 KB) verifies.",
        "python-stdlib-hmac", [S], H(body=body), body, OK(evt_id=env["id"]))

    env = envelope("widget.exploded", {"widget_id": "wdg_1"}, label="unknown-type")
    body = compact(env)
    add("unknown-event-type-verifies",
        "An event type outside the catalog (widget.exploded) verifies; unknown types are not an error.",
        "python-stdlib-hmac", [S], H(body=body, event="widget.exploded"), body,
        OK(evt_id=env["id"], evt_type="widget.exploded"))

    env = envelope("task.completed", {"artifacts": []}, label="extra-fields",
                   api_version="2026-01-01", attempt=3, metadata={"region": "eu-west-1"})
    body = compact(env)
    add("extra-envelope-fields-ok",
        "Unknown top-level envelope fields are kept and do not cause a rejection.",
        "python-stdlib-hmac", [S], H(body=body), body, OK(evt_id=env["id"]))

    env = envelope("task.completed", {"artifacts": []}, label="no-optional")
    del env["project_id"]
    del env["text"]
    body = compact(env)
    add("envelope-without-project-id-and-text-ok",
        "project_id and text are optional envelope fields.",
        "python-stdlib-hmac", [S], H(body=body), body, OK(evt_id=env["id"]))

    range_end = "is at an end of the range every host date type holds (years 1 to 9999 UTC)."
    for name, label, created, description in (
        ("created-with-numeric-offset-ok", "offset-created", "2024-05-24T11:48:03+02:00",
         "created may be any RFC 3339 timestamp, including a numeric UTC offset."),
        ("created-before-1970-with-sub-millisecond-fraction-ok", "created-sub-ms-before-1970",
         "1969-12-31T23:59:59.9995Z",
         "created half a millisecond before 1970 is -1 ms: whole milliseconds round down, never toward zero."),
        ("created-year-one-ok", "created-year-one", "0001-01-01T00:00:00Z",
         "created 0001-01-01T00:00:00Z " + range_end),
        ("created-year-9999-ok", "created-year-9999", "9999-12-31T23:59:59Z",
         "created 9999-12-31T23:59:59Z " + range_end),
    ):
        env = envelope("task.completed", {"artifacts": []}, label=label)
        env["created"] = created
        body = compact(env)
        add(name, description, "python-stdlib-hmac", [S], H(body=body), body, OK(evt_id=env["id"]))

    env = envelope("task.completed", {"artifacts": [{"name": "r\u00e9sum\u00e9.pdf",
                                                      "url": "https://files.anchorbrowser.example/r.pdf"}]},
                   label="unicode-body", text="T\u00e2che termin\u00e9e \u2705 \u4efb\u52a1\u5b8c\u6210")
    body = compact(env)
    add("non-ascii-utf8-body-ok",
        "A body with non-ASCII UTF-8 text (accents, CJK, emoji) is signed over its raw UTF-8 bytes.",
        "python-stdlib-hmac", [S], H(body=body), body, OK(evt_id=env["id"]))

    body = json.dumps(base_env, indent=2).replace("\n", "\r\n").encode() + b"\r\n"
    add("pretty-printed-crlf-body-ok",
        "A pretty-printed body with CRLF line endings and a trailing newline is hashed byte for byte.",
        "python-stdlib-hmac", [S], H(body=body), body, OK())

    body = compact(base_env)
    add("unicode-secret-utf8-key",
        "A non-ASCII secret is used as its UTF-8 bytes as the HMAC key.",
        "python-stdlib-hmac", [ANCHOR_SECRET_UNICODE], H(secret=ANCHOR_SECRET_UNICODE), B, OK())

    add("short-secret-ok",
        "Any non-empty secret without surrounding whitespace is accepted and used verbatim (here \"secret\").",
        "python-stdlib-hmac", ["secret"], H(secret="secret"), B, OK())

    # ---- header names and grammar --------------------------------------------------------------
    lower = [(k.lower(), v) for k, v in H()]
    add("header-names-lower-case", "Header names are matched case-insensitively (all lower case).",
        "python-stdlib-hmac", [S], lower, B, OK())
    upper = [(k.upper(), v) for k, v in H()]
    add("header-names-upper-case", "Header names are matched case-insensitively (all upper case).",
        "python-stdlib-hmac", [S], upper, B, OK())
    mixed = [("uSeR-aGeNt", USER_AGENT), ("content-TYPE", "application/json"),
             ("aNcHoR-eVeNt", "task.completed"), ("ANCHOR-delivery-ID", DID),
             ("anchor-TIMESTAMP", str(NOW)), ("AnChOr-SiGnAtUrE", "t=%d,v1=%s" % (NOW, sig))]
    add("header-names-mixed-case", "Header names are matched case-insensitively (mixed case).",
        "python-stdlib-hmac", [S], mixed, B, OK())

    add("whitespace-around-items",
        "Spaces and tabs around Anchor-Signature items are ignored.",
        "python-stdlib-hmac", [S], H(signature=" \t t=%d \t,\t v1=%s  \t" % (NOW, sig)), B, OK())

    add("t-item-trailing-space-trimmed",
        "A space after the t value inside Anchor-Signature is item whitespace and is trimmed.",
        "python-stdlib-hmac", [S], H(signature="t=%d ,v1=%s" % (NOW, sig)), B, OK())

    wrong = anchor_hex(ANCHOR_SECRET_WRONG, str(NOW), B)
    add("several-v1-first-wrong-second-right",
        "With several v1 items any one match is enough (the first is wrong, the second right).",
        "python-stdlib-hmac", [S], H(signature="t=%d,v1=%s,v1=%s" % (NOW, wrong, sig)), B, OK())

    add("upper-case-hex-signature",
        "v1 values are compared case-insensitively as hex (upper-case hex accepted).",
        "python-stdlib-hmac", [S], H(signature="t=%d,v1=%s" % (NOW, sig.upper())), B, OK())

    add("mixed-case-hex-signature", "v1 values in mixed-case hex are accepted.",
        "python-stdlib-hmac", [S],
        H(signature="t=%d,v1=%s" % (NOW, "".join(c.upper() if i % 2 else c for i, c in enumerate(sig)))),
        B, OK())

    sig_new = anchor_hex(ANCHOR_SECRET_NEW, str(NOW), B)
    add("two-secrets-second-matches",
        "With two configured secrets, a delivery signed only by the second reports matched_secret 1.",
        "python-stdlib-hmac", [S, ANCHOR_SECRET_NEW], H(secret=ANCHOR_SECRET_NEW), B, OK(matched=1))

    add("rotation-two-secrets-two-v1",
        "During a rotation the header carries one v1 per secret; the first configured secret that matches is reported (0).",
        "python-stdlib-hmac", [S, ANCHOR_SECRET_NEW],
        H(signature="t=%d,v1=%s,v1=%s" % (NOW, sig_new, sig)), B, OK(matched=0))

    add("rotation-receiver-has-new-secret-only",
        "A receiver configured with only the new secret accepts a rotation header whose second v1 matches it.",
        "python-stdlib-hmac", [ANCHOR_SECRET_NEW],
        H(signature="t=%d,v1=%s,v1=%s" % (NOW, sig, sig_new)), B, OK(matched=0))

    add("unknown-keys-ignored",
        "Unknown keys (v2, T, V1, v0) are ignored whatever their value; keys are case-sensitive.",
        "python-stdlib-hmac", [S],
        H(signature="T=zzz,v2=not-hex-at-all,t=%d,V1=%s,v0=,v1=%s,x=a=b" % (NOW, "0" * 10, sig)),
        B, OK())

    add("empty-items-skipped", "Empty items (\"t=1,,v1=...\" and a trailing comma) are skipped.",
        "python-stdlib-hmac", [S], H(signature=",t=%d,,v1=%s, ,\t," % (NOW, sig)), B, OK())

    add("v1-before-t", "Item order does not matter (v1 before t).",
        "python-stdlib-hmac", [S], H(signature="v1=%s,t=%d" % (sig, NOW)), B, OK())

    add("only-t-item-no-timestamp-header",
        "Without an Anchor-Timestamp header the t= item is the signed timestamp.",
        "python-stdlib-hmac", [S], drop_header(H(), "Anchor-Timestamp"), B, OK())

    add("only-timestamp-header-no-t-item",
        "Without a t= item the Anchor-Timestamp header is the signed timestamp.",
        "python-stdlib-hmac", [S], H(signature="v1=" + sig), B, OK())

    zts = "0" + str(NOW)
    add("timestamp-with-leading-zero-ok",
        "A timestamp with a leading zero is still 1 to 12 ASCII digits; the signed string keeps the zero.",
        "python-stdlib-hmac", [S], H(ts_str=zts), B, OK())

    add("timestamp-leading-zero-vs-plain-mismatch",
        "Anchor-Timestamp and t= are compared as strings: 01716544084 and 1716544084 differ.",
        "rejection", [S],
        set_header(H(), "Anchor-Signature", "t=%s,v1=%s" % (zts, sig)), B, err("timestamp_mismatch"))

    add("both-timestamps-differ-mismatch",
        "Anchor-Timestamp and t= both present and different is timestamp_mismatch.",
        "rejection", [S], set_header(H(), "Anchor-Timestamp", str(NOW - 1)), B, err("timestamp_mismatch"))

    add("no-timestamp-anywhere-missing-header",
        "Neither Anchor-Timestamp nor a t= item is missing_header.",
        "rejection", [S], drop_header(H(signature="v1=" + sig), "Anchor-Timestamp"), B,
        err("missing_header"))

    add("missing-signature-header", "No Anchor-Signature header is missing_header.",
        "rejection", [S], drop_header(H(), "Anchor-Signature"), B, err("missing_header"))

    add("missing-anchor-event-ok", "Anchor-Event is optional.",
        "python-stdlib-hmac", [S], H(event=None), B, OK())

    add("missing-delivery-id-ok", "Anchor-Delivery-Id is optional; delivery_id is then null.",
        "python-stdlib-hmac", [S], H(delivery_id=None), B, OK(delivery_id=None))

    add("missing-user-agent-and-content-type-ok",
        "User-Agent and Content-Type are not required.",
        "python-stdlib-hmac", [S],
        drop_header(drop_header(H(), "User-Agent"), "Content-Type"), B, OK())

    add("minimal-headers-signature-only",
        "Anchor-Signature with t= alone is a complete delivery.",
        "python-stdlib-hmac", [S], [("Anchor-Signature", "t=%d,v1=%s" % (NOW, sig))], B,
        OK(delivery_id=None))

    # ---- tolerance -----------------------------------------------------------------------------
    for delta, name, exp_err, desc in [
        (-120, "timestamp-exactly-120s-old-ok", None, "A timestamp exactly 120 s old passes (boundary included)."),
        (-121, "timestamp-121s-old", "timestamp_too_old", "A timestamp 121 s old is timestamp_too_old."),
        (120, "timestamp-exactly-120s-ahead-ok", None, "A timestamp exactly 120 s in the future passes."),
        (121, "timestamp-121s-ahead", "timestamp_too_new", "A timestamp 121 s in the future is timestamp_too_new."),
    ]:
        ts = NOW + delta
        add(name, desc, "python-stdlib-hmac" if exp_err is None else "rejection", [S], H(ts=ts), B,
            OK(ts=ts) if exp_err is None else err(exp_err))

    for delta, name, exp_err, desc in [
        (-5, "custom-tolerance-5-exactly-5s-old-ok", None, "With tolerance 5, a timestamp 5 s old passes."),
        (-6, "custom-tolerance-5-6s-old", "timestamp_too_old", "With tolerance 5, a timestamp 6 s old is timestamp_too_old."),
        (5, "custom-tolerance-5-exactly-5s-ahead-ok", None, "With tolerance 5, a timestamp 5 s ahead passes."),
        (6, "custom-tolerance-5-6s-ahead", "timestamp_too_new", "With tolerance 5, a timestamp 6 s ahead is timestamp_too_new."),
    ]:
        ts = NOW + delta
        add(name, desc, "python-stdlib-hmac" if exp_err is None else "rejection", [S], H(ts=ts), B,
            OK(ts=ts) if exp_err is None else err(exp_err), tolerance=5)

    add("custom-tolerance-600-accepts-300s-old",
        "A larger configured tolerance (600) accepts a timestamp 300 s old.",
        "python-stdlib-hmac", [S], H(ts=NOW - 300), B, OK(ts=NOW - 300), tolerance=600)
    add("tolerance-0-exact-now-ok", "With tolerance 0, a timestamp equal to now passes.",
        "python-stdlib-hmac", [S], H(), B, OK(), tolerance=0)
    add("tolerance-0-one-second-old", "With tolerance 0, a timestamp 1 s old is timestamp_too_old.",
        "rejection", [S], H(ts=NOW - 1), B, err("timestamp_too_old"), tolerance=0)
    add("timestamp-zero-too-old", "t=0 is a well-formed timestamp, far too old.",
        "rejection", [S], H(ts=0), B, err("timestamp_too_old"))
    add("timestamp-12-digits-too-new",
        "999999999999 (12 digits, the maximum length) is well-formed and far too new.",
        "rejection", [S], H(ts=999999999999), B, err("timestamp_too_new"))

    # ---- malformed timestamps -----------------------------------------------------------------
    def malformed_ts(name, desc, ts_str, where):
        """where: 'both' (same string in both places), 'header' (only Anchor-Timestamp), 't' (only t=)."""
        mac = anchor_hex(S, ts_str, B)
        if where == "both":
            h = H(ts_str=ts_str)
        elif where == "header":
            h = H(ts_str=ts_str, signature="v1=" + mac)
        else:
            h = drop_header(H(signature="t=%s,v1=%s" % (ts_str, mac)), "Anchor-Timestamp")
        add(name, desc, "rejection", [S], h, B, err("malformed_timestamp"))

    malformed_ts("malformed-timestamp-exponent", "1e9 (exponent notation) is malformed_timestamp.", "1e9", "both")
    malformed_ts("malformed-timestamp-plus-sign", "+12 (a sign) is malformed_timestamp.", "+1716544084", "both")
    malformed_ts("malformed-timestamp-minus-sign", "-5 (a negative number) is malformed_timestamp.", "-5", "both")
    malformed_ts("malformed-timestamp-decimal-point", "1.5 (a decimal point) is malformed_timestamp.", "1716544084.5", "both")
    malformed_ts("malformed-timestamp-leading-space-in-header",
                 "A leading space inside the Anchor-Timestamp value is part of the value: malformed_timestamp.",
                 " 1716544084", "header")
    malformed_ts("malformed-timestamp-trailing-space-in-header",
                 "A trailing space inside the Anchor-Timestamp value is part of the value: malformed_timestamp.",
                 "1716544084 ", "header")
    malformed_ts("malformed-timestamp-tab-in-header",
                 "A tab inside the Anchor-Timestamp value is malformed_timestamp.", "1716544084\t", "header")
    malformed_ts("malformed-timestamp-empty-t-item",
                 "An empty t= value (zero digits) is malformed_timestamp.", "", "t")
    malformed_ts("malformed-timestamp-empty-header",
                 "An Anchor-Timestamp header that is present but empty is malformed_timestamp (not missing_header).",
                 "", "header")
    malformed_ts("malformed-timestamp-13-digits",
                 "A 13-digit timestamp (milliseconds) exceeds 12 digits: malformed_timestamp.",
                 "1716544084000", "both")
    malformed_ts("malformed-timestamp-hex", "0x10 (hex notation) is malformed_timestamp.", "0x6650612c", "t")
    malformed_ts("malformed-timestamp-letters", "A non-numeric t value is malformed_timestamp.", "yesterday", "t")

    arabic = "".join(chr(0x0660 + int(d)) for d in str(NOW))
    mac = anchor_hex(S, arabic, B)
    add("non-ascii-digits-timestamp-malformed-header",
        "Arabic-Indic digits in Anchor-Timestamp are a non-ASCII header value: malformed_header "
        "(header well-formedness is checked before the timestamp format).",
        "rejection", [S], H(ts_str=arabic, signature="v1=" + mac), B, err("malformed_header"))

    add("malformed-header-timestamp-beats-mismatch",
        "Timestamp format is checked before equality: a malformed Anchor-Timestamp with a valid t= is malformed_timestamp.",
        "rejection", [S], set_header(H(), "Anchor-Timestamp", str(NOW) + ".0"), B, err("malformed_timestamp"))

    # ---- malformed headers --------------------------------------------------------------------
    add("duplicate-t-item", "A second t item is malformed_header, even with the same value.",
        "rejection", [S], H(signature="t=%d,t=%d,v1=%s" % (NOW, NOW, sig)), B, err("malformed_header"))
    add("duplicate-signature-header",
        "Two Anchor-Signature headers (both valid) are malformed_header.",
        "rejection", [S], H() + [("Anchor-Signature", "t=%d,v1=%s" % (NOW, sig))], B, err("malformed_header"))
    add("duplicate-signature-header-different-case",
        "Anchor-Signature and anchor-signature are the same header: appearing twice is malformed_header.",
        "rejection", [S], H() + [("anchor-signature", "t=%d,v1=%s" % (NOW, sig))], B, err("malformed_header"))
    add("duplicate-timestamp-header", "Two Anchor-Timestamp headers are malformed_header.",
        "rejection", [S], H() + [("Anchor-Timestamp", str(NOW))], B, err("malformed_header"))
    add("duplicate-delivery-id-header", "Two Anchor-Delivery-Id headers are malformed_header.",
        "rejection", [S], H() + [("Anchor-Delivery-Id", DID)], B, err("malformed_header"))
    add("duplicate-event-header", "Two Anchor-Event headers are malformed_header.",
        "rejection", [S], H() + [("Anchor-Event", "task.completed")], B, err("malformed_header"))
    # An item that cannot be read is skipped: any match is enough (SPEC section 3.2). Alone (no readable
    # signature) it is the header's error; beside signatures that all fail, the mismatch names it.
    add("item-without-equals-beside-a-good-v1", "An item without \"=\" beside a matching v1 is skipped: verifies.",
        "python-stdlib-hmac", [S], H(signature="t=%d,v1=%s,garbage" % (NOW, sig)), B, OK())
    add("item-without-equals-alone", "An item without \"=\" and no v1 item is malformed_header.",
        "rejection", [S], H(signature="t=%d,garbage" % NOW), B, err("malformed_header"))
    add("item-with-empty-key-beside-a-good-v1", "An item with an empty key (\"=x\") beside a matching v1 is skipped: verifies.",
        "python-stdlib-hmac", [S], H(signature="t=%d,=x,v1=%s" % (NOW, sig)), B, OK())
    add("item-with-empty-key-alone", "An item with an empty key (\"=x\") and no v1 item is malformed_header.",
        "rejection", [S], H(signature="t=%d,=x" % NOW), B, err("malformed_header"))
    add("v1-63-hex-digits", "A v1 value of 63 hex digits is malformed_header.",
        "rejection", [S], H(signature="t=%d,v1=%s" % (NOW, sig[:63])), B, err("malformed_header"))
    add("v1-65-hex-digits", "A v1 value of 65 hex digits is malformed_header.",
        "rejection", [S], H(signature="t=%d,v1=%s0" % (NOW, sig)), B, err("malformed_header"))
    add("v1-non-hex-characters", "A 64-character v1 value containing non-hex characters is malformed_header.",
        "rejection", [S], H(signature="t=%d,v1=%s" % (NOW, sig[:62] + "zg")), B, err("malformed_header"))
    add("v1-empty-value-alone", "An empty v1 value, the only v1, is malformed_header.",
        "rejection", [S], H(signature="t=%d,v1=" % NOW), B, err("malformed_header"))
    add("v1-empty-value-beside-a-good-v1", "An empty v1 value beside a matching v1 is skipped: verifies.",
        "python-stdlib-hmac", [S], H(signature="t=%d,v1=,v1=%s" % (NOW, sig)), B, OK())
    add("bad-v1-beside-a-good-v1", "A malformed v1 item beside a matching v1 is skipped: verifies.",
        "python-stdlib-hmac", [S], H(signature="t=%d,v1=%s,v1=xyz" % (NOW, sig)), B, OK())

    fillers = [anchor_hex(ANCHOR_SECRET_WRONG + str(i), str(NOW), B) for i in range(16)]
    add("sixteen-v1-last-correct-ok", "Exactly 16 v1 items (the limit) with the last correct verifies.",
        "python-stdlib-hmac", [S],
        H(signature="t=%d,%s" % (NOW, ",".join("v1=" + f for f in fillers[:15] + [sig]))), B, OK())
    add("seventeen-v1-items", "17 v1 items exceed the limit of 16: malformed_header.",
        "rejection", [S],
        H(signature="t=%d,%s" % (NOW, ",".join("v1=" + f for f in fillers + [sig]))), B, err("malformed_header"))
    add("seventeen-v1-items-one-unreadable", "The limit counts unreadable v1 items too: 15 + 1 unreadable + the correct one is malformed_header.",
        "rejection", [S],
        H(signature="t=%d,%s" % (NOW, ",".join("v1=" + f for f in fillers[:15] + ["zz", sig]))), B, err("malformed_header"))

    head = "t=%d,v1=%s,x=" % (NOW, sig)
    add("signature-header-exactly-8192-bytes-ok",
        "An Anchor-Signature value of exactly 8192 bytes (padded with an unknown key) verifies.",
        "python-stdlib-hmac", [S], H(signature=head + "a" * (MAX_HEADER_BYTES - len(head))), B, OK())
    add("signature-header-8193-bytes",
        "An Anchor-Signature value of 8193 bytes exceeds the 8 KiB header limit: malformed_header.",
        "rejection", [S], H(signature=head + "a" * (MAX_HEADER_BYTES + 1 - len(head))), B,
        err("malformed_header"))

    add("delivery-id-non-ascii", "A non-ASCII Anchor-Delivery-Id value is malformed_header.",
        "rejection", [S], H(delivery_id="d\u00e9livery-1"), B, err("malformed_header"))
    add("delivery-id-newline-injection",
        "A control character (newline) in a header value is malformed_header.",
        "rejection", [S], H(delivery_id=DID + "\nX-Injected: 1"), B, err("malformed_header"))
    add("event-header-non-ascii", "A non-ASCII Anchor-Event value is malformed_header.",
        "rejection", [S], H(event="task.compl\u00e9ted"), B, err("malformed_header"))
    add("signature-header-non-ascii", "A non-ASCII character in Anchor-Signature (in an unknown key) is malformed_header.",
        "rejection", [S], H(signature="t=%d,v1=%s,n\u00f8te=1" % (NOW, sig)), B, err("malformed_header"))
    add("tab-in-header-value-allowed",
        "Tabs are allowed header-value characters (here inside Anchor-Delivery-Id, reported verbatim).",
        "python-stdlib-hmac", [S], H(delivery_id="\t" + DID), B, OK(delivery_id="\t" + DID))

    add("no-v1-item", "A header with only t (no v1 item) is no_signature.",
        "rejection", [S], H(signature="t=%d" % NOW), B, err("no_signature"))
    add("only-unknown-versions-no-signature", "A header with only unknown keys (v2) besides t is no_signature.",
        "rejection", [S], H(signature="t=%d,v2=%s" % (NOW, sig)), B, err("no_signature"))
    add("empty-signature-header", "An empty Anchor-Signature value has no items: no_signature.",
        "rejection", [S], H(signature=""), B, err("no_signature"))
    add("only-commas-and-spaces-signature-header",
        "An Anchor-Signature made only of separators has no items: no_signature.",
        "rejection", [S], H(signature=" , ,\t,"), B, err("no_signature"))

    # ---- signature mismatches -----------------------------------------------------------------
    add("wrong-secret", "A delivery signed with another secret is signature_mismatch.",
        "rejection", [S], H(secret=ANCHOR_SECRET_WRONG), B, err("signature_mismatch"))
    add("two-secrets-neither-matches", "With two configured secrets and neither matching: signature_mismatch.",
        "rejection", [S, ANCHOR_SECRET_NEW], H(secret=ANCHOR_SECRET_WRONG), B, err("signature_mismatch"))
    changed = B.replace(b'"tsk_8f2b61c0"', b'"tsk_8f2b61c1"')
    assert changed != B and len(changed) == len(B)
    add("body-changed-one-byte", "Changing one byte of the signed body is signature_mismatch.",
        "rejection", [S], H(), changed, err("signature_mismatch"))
    reser = json.dumps(base_env).encode()
    assert json.loads(reser) == json.loads(B) and reser != B
    add("body-reserialised", "The same JSON re-serialised with different whitespace is signature_mismatch.",
        "rejection", [S], H(), reser, err("signature_mismatch"))
    add("body-trailing-newline-added", "A trailing newline added after signing is signature_mismatch.",
        "rejection", [S], H(), B + b"\n", err("signature_mismatch"))
    hexkey_sig = hmac.new(bytes.fromhex(S), b"v0:%d:" % NOW + B, hashlib.sha256).hexdigest()
    add("signed-with-hex-decoded-secret",
        "A signature computed with the hex-decoded secret as key is signature_mismatch (the key is the UTF-8 text).",
        "rejection", [S], H(signature="t=%d,v1=%s" % (NOW, hexkey_sig)), B, err("signature_mismatch"))
    add("timestamp-changed-after-signing",
        "Changing the timestamp (in both places) after signing is signature_mismatch.",
        "rejection", [S], H(ts=NOW - 1, signature="t=%d,v1=%s" % (NOW - 1, sig)), B, err("signature_mismatch"))
    no_v0 = hmac.new(S.encode(), b"%d:" % NOW + B, hashlib.sha256).hexdigest()
    add("signed-without-v0-prefix", "A signature over ts + \":\" + body (no \"v0:\" prefix) is signature_mismatch.",
        "rejection", [S], H(signature="t=%d,v1=%s" % (NOW, no_v0)), B, err("signature_mismatch"))
    add("signature-from-v2-key-not-used",
        "A correct signature under an unknown key (V1, upper case) does not count; the wrong v1 fails: signature_mismatch.",
        "rejection", [S], H(signature="t=%d,V1=%s,v1=%s" % (NOW, sig, wrong)), B, err("signature_mismatch"))

    # ---- body size ----------------------------------------------------------------------------
    small = envelope("task.completed", {}, label="small", text="")
    small_body = compact(small)
    limit = 256
    pad = limit - len(small_body)
    assert pad > 0
    small["text"] = "x" * pad
    exact = compact(small)
    assert len(exact) == limit
    add("body-exactly-at-limit-ok",
        "A validly signed body of exactly max_body_bytes (256) verifies.",
        "python-stdlib-hmac", [S], H(body=exact), exact, OK(evt_id=small["id"]), max_body_bytes=limit)
    small["text"] = "x" * (pad + 1)
    over = compact(small)
    assert len(over) == limit + 1
    add("body-one-byte-over-limit",
        "A validly signed body one byte over max_body_bytes (257 > 256) is body_too_large.",
        "rejection", [S], H(body=over), over, err("body_too_large"), max_body_bytes=limit)
    add("body-too-large-and-forged",
        "The size limit is checked before the signature: a forged oversized body is body_too_large.",
        "rejection", [S], H(body=over, secret=ANCHOR_SECRET_WRONG), over, err("body_too_large"),
        max_body_bytes=limit)
    add("body-too-large-and-stale",
        "The tolerance is checked before the size: a stale oversized body is timestamp_too_old.",
        "rejection", [S], H(body=over, ts=NOW - 121), over, err("timestamp_too_old"), max_body_bytes=limit)

    # ---- order of checks ----------------------------------------------------------------------
    add("stale-and-forged", "A stale and forged delivery reports timestamp_too_old (cheap check first).",
        "rejection", [S], H(ts=NOW - 3600, secret=ANCHOR_SECRET_WRONG), B, err("timestamp_too_old"))
    add("future-and-forged", "A too-new and forged delivery reports timestamp_too_new.",
        "rejection", [S], H(ts=NOW + 3600, secret=ANCHOR_SECRET_WRONG), B, err("timestamp_too_new"))
    add("mismatch-and-forged", "Differing timestamps with a forged signature report timestamp_mismatch.",
        "rejection", [S], set_header(H(secret=ANCHOR_SECRET_WRONG), "Anchor-Timestamp", str(NOW - 1)), B,
        err("timestamp_mismatch"))
    add("malformed-header-and-forged", "A malformed header (a second t) with a forged signature reports malformed_header.",
        "rejection", [S], H(signature="t=%d,t=%d,v1=%s" % (NOW, NOW, wrong)), B, err("malformed_header"))
    add("malformed-header-and-stale", "Header well-formedness is checked before the tolerance: malformed_header.",
        "rejection", [S], H(ts=NOW - 3600, signature="t=%d,v1=%s" % (NOW - 3600, sig[:63])), B,
        err("malformed_header"))
    add("unreadable-v1-beside-a-forged-v1", "An unreadable v1 item beside a forged one is signature_mismatch (its message names the unreadable item).",
        "rejection", [S], H(signature="t=%d,v1=%s,v1=abc" % (NOW, wrong)), B, err("signature_mismatch"))
    add("unreadable-v1-beside-a-forged-v1-and-stale",
        "A header with a readable v1 goes on to the tolerance: stale beats the unreadable item, timestamp_too_old.",
        "rejection", [S], H(ts=NOW - 3600, signature="t=%d,v1=%s,v1=abc" % (NOW - 3600, wrong)), B,
        err("timestamp_too_old"))
    add("no-signature-beats-malformed-timestamp",
        "no_signature is a header-stage error, reported before the timestamp format is checked.",
        "rejection", [S], drop_header(H(signature="t=abc"), "Anchor-Timestamp"), B, err("no_signature"))
    add("forged-non-json-body", "A forged body that is not JSON is signature_mismatch, never invalid_payload.",
        "rejection", [S], H(secret=ANCHOR_SECRET_WRONG, body=b"not json"), b"not json", err("signature_mismatch"))
    bad_evt_body = compact(envelope("task.failed", {}, label="forged-event"))
    add("forged-body-with-disagreeing-event-header",
        "A forged body whose Anchor-Event disagrees is signature_mismatch (the envelope is never parsed).",
        "rejection", [S], H(secret=ANCHOR_SECRET_WRONG, body=bad_evt_body, event="task.completed"),
        bad_evt_body, err("signature_mismatch"))

    # ---- payload (validly signed) -------------------------------------------------------------
    def bad_payload(name, desc, body, event="task.completed"):
        add(name, desc, "rejection", [S], H(body=body, event=event), body, err("invalid_payload"))

    bad_payload("invalid-json", "A validly signed body that is not JSON is invalid_payload.", b"{\"id\": \"evt_1\",")
    bad_payload("empty-body", "A validly signed empty body is invalid_payload.", b"", event=None)
    bad_payload("non-utf8-body", "A validly signed body that is not valid UTF-8 is invalid_payload.",
                B.replace(b"Anchor event", b"Anchor \xff\xfe event"))
    bad_payload("json-array-body", "A JSON array is not an envelope: invalid_payload.", b"[" + B + b"]")
    bad_payload("json-string-body", "A JSON string is not an envelope: invalid_payload.", b"\"task.completed\"")
    bad_payload("json-trailing-garbage", "An envelope followed by extra bytes is invalid_payload.", B + b"x")

    def env_variant(label, **changes):
        e = envelope("task.completed", {"artifacts": []}, label=label)
        for k, v in changes.items():
            if v is _DEL:
                del e[k]
            else:
                e[k] = v
        return compact(e)

    bad_payload("envelope-missing-id", "An envelope without id is invalid_payload.", env_variant("no-id", id=_DEL))
    bad_payload("envelope-empty-id", "An envelope whose id is the empty string is invalid_payload.", env_variant("empty-id", id=""))
    bad_payload("envelope-id-number", "An envelope whose id is a number is invalid_payload.", env_variant("num-id", id=42))
    bad_payload("envelope-missing-type", "An envelope without type is invalid_payload.",
                env_variant("no-type", type=_DEL), event=None)
    bad_payload("envelope-empty-type", "An envelope whose type is the empty string is invalid_payload.",
                env_variant("empty-type", type=""), event=None)
    bad_payload("envelope-missing-created", "An envelope without created is invalid_payload.",
                env_variant("no-created", created=_DEL))
    bad_payload("envelope-created-not-rfc3339", "created in a non-RFC 3339 format is invalid_payload.",
                env_variant("bad-created", created="May 24, 2024 09:48:03"))
    bad_payload("envelope-created-without-offset", "created without a UTC offset is not RFC 3339: invalid_payload.",
                env_variant("no-offset", created="2024-05-24T09:48:03.512"))
    bad_payload("envelope-created-date-only", "A date without a time is not RFC 3339: invalid_payload.",
                env_variant("date-only", created="2024-05-24"))
    bad_payload("envelope-created-unix-number", "created as a unix number is invalid_payload.",
                env_variant("num-created", created=NOW))
    bad_payload("envelope-created-month-13", "An impossible date (month 13) is invalid_payload.",
                env_variant("month-13", created="2024-13-24T09:48:03Z"))
    bad_payload("envelope-created-year-zero",
                "created in year 0 is refused: no host date type holds it (Python's datetime starts at year 1).",
                env_variant("year-zero", created="0000-06-01T00:00:00Z"))
    bad_payload("envelope-created-before-year-one-utc",
                "created whose UTC instant falls before year 1 (0001-01-01T00:30:00+01:00) is invalid_payload.",
                env_variant("before-year-one", created="0001-01-01T00:30:00+01:00"))
    bad_payload("envelope-missing-data", "An envelope without data is invalid_payload.", env_variant("no-data", data=_DEL))
    bad_payload("envelope-data-array", "data that is an array, not an object, is invalid_payload.",
                env_variant("data-array", data=[]))
    bad_payload("envelope-data-null", "data that is null is invalid_payload.", env_variant("data-null", data=None))
    bad_payload("envelope-project-id-number", "A project_id that is a number is invalid_payload.",
                env_variant("num-project", project_id=12345))
    bad_payload("envelope-text-object", "A text field that is not a string is invalid_payload.",
                env_variant("obj-text", text={"blocks": []}))
    add("event-header-disagrees-with-envelope",
        "An Anchor-Event header that differs from the signed envelope type is invalid_payload.",
        "rejection", [S], H(event="task.failed"), B, err("invalid_payload"))
    add("event-header-differs-in-case",
        "Anchor-Event must equal the envelope type exactly; a case difference is invalid_payload.",
        "rejection", [S], H(event="TASK.COMPLETED"), B, err("invalid_payload"))

    # ---- JSON limits and spellings the envelope parser must agree on ----------------------------
    # serde_json (and so the core) accepts 127 nested containers, the body object included.
    def nested_data(levels):
        prefix = env_variant("nested-%d" % levels, data={})[:-len(b'"data":{}}')]
        return prefix + b'"data":{"n":' + b"[" * (levels - 2) + b"]" * (levels - 2) + b"}}"
    body = nested_data(127)
    add("json-nesting-at-limit-ok",
        "127 nested containers (the body object, data and 125 arrays) verify.",
        "python-stdlib-hmac", [S], H(body=body), body, OK(evt_id=det_evt("nested-127")))
    bad_payload("json-nesting-too-deep", "128 nested containers exceed the JSON nesting limit: invalid_payload.",
                nested_data(128))
    bad_payload("json-number-out-of-range", "A number outside the range of a double (1e400) is invalid_payload.",
                env_variant("big-number", data={"size": 1})[:-len(b'1}}')] + b"1e400}}")
    bad_payload("json-lone-surrogate-escape",
                "A \\u escape of half a surrogate pair (\\ud83c: JSON.stringify of a string cut inside an emoji) is "
                "not a Unicode character (RFC 7493, I-JSON): invalid_payload.",
                env_variant("lone-surrogate", data={"note": "x"}).replace(b'"note":"x"', b'"note":"cut \\ud83c"'))
    env = env_variant("dup-type", data={"artifacts": []})
    body = env.replace(b'"type":"task.completed"', b'"type":"task.failed","type":"task.completed"')
    add("repeated-envelope-field-last-wins",
        "A repeated top-level field keeps its last value, as JSON parsers in every binding's host do.",
        "python-stdlib-hmac", [S], H(body=body), body, OK(evt_id=det_evt("dup-type")))
    env = env_variant("escaped-names", data={"artifacts": []})
    body = env.replace(b'"id":', b'"\\u0069d":').replace(b'"type":', b'"typ\\u0065":')
    add("escaped-envelope-field-names-ok",
        "Field names are compared after JSON unescaping: \\u0069d is id.",
        "python-stdlib-hmac", [S], H(body=body), body, OK(evt_id=det_evt("escaped-names")))

    return cases


class _Del(object):
    pass


_DEL = _Del()


# ---------------------------------------- Standard Webhooks --------------------------------------

def std_headers(msg_id, ts, body, secret=STD_SECRET_2, signature=None, prefix="webhook-"):
    ts = str(ts)
    if signature is None:
        signature = std_sig(secret, msg_id, ts, body)
    return [(prefix + "id", msg_id), (prefix + "timestamp", ts), (prefix + "signature", signature),
            ("content-type", "application/json")]


def standard_cases():
    cases = []

    def add(*a, **k):
        cases.append(make_case(*a, **k))

    O_NOW = int(OFFICIAL_TS)
    oh = [("webhook-id", OFFICIAL_ID), ("webhook-timestamp", OFFICIAL_TS),
          ("webhook-signature", OFFICIAL_SIGNATURE)]
    oexp = ok(0, OFFICIAL_TS, OFFICIAL_ID, "", OFFICIAL_ID)
    add("official-vector",
        "The official Standard Webhooks test vector verifies (type is \"\": the body has neither type nor event).",
        "standard-webhooks-official", [OFFICIAL_SECRET], oh, OFFICIAL_BODY, oexp, now=O_NOW)
    add("official-vector-svix-headers", "The official vector verifies with svix-id/svix-timestamp/svix-signature.",
        "standard-webhooks-official", [OFFICIAL_SECRET],
        [(k.replace("webhook-", "svix-"), v) for k, v in oh], OFFICIAL_BODY, oexp, now=O_NOW)
    add("official-vector-secret-without-prefix",
        "The whsec_ prefix is optional: the bare base64 secret gives the same key.",
        "standard-webhooks-official", [OFFICIAL_SECRET[len("whsec_"):]], oh, OFFICIAL_BODY, oexp, now=O_NOW)
    add("official-vector-upper-case-header-names", "Header names are matched case-insensitively.",
        "standard-webhooks-official", [OFFICIAL_SECRET],
        [("Webhook-ID", OFFICIAL_ID), ("WEBHOOK-TIMESTAMP", OFFICIAL_TS), ("Webhook-Signature", OFFICIAL_SIGNATURE)],
        OFFICIAL_BODY, oexp, now=O_NOW)
    add("official-vector-mixed-webhook-and-svix",
        "Each header falls back to its svix- name independently (webhook-id with svix-timestamp/svix-signature).",
        "standard-webhooks-official", [OFFICIAL_SECRET],
        [("webhook-id", OFFICIAL_ID), ("svix-timestamp", OFFICIAL_TS), ("svix-signature", OFFICIAL_SIGNATURE)],
        OFFICIAL_BODY, oexp, now=O_NOW)
    add("official-vector-webhook-name-wins-over-svix",
        "When both webhook-signature and svix-signature are present the webhook- one is used (the svix one is ignored).",
        "standard-webhooks-official", [OFFICIAL_SECRET],
        oh + [("svix-signature", "v1," + base64.b64encode(b"\x00" * 32).decode())], OFFICIAL_BODY, oexp, now=O_NOW)
    add("official-vector-body-modified", "The official vector with one changed body byte is signature_mismatch.",
        "rejection", [OFFICIAL_SECRET], oh, OFFICIAL_BODY.replace(b"4}", b"5}"), err("signature_mismatch"), now=O_NOW)
    add("official-vector-id-modified", "The webhook-id is signed: changing it is signature_mismatch.",
        "rejection", [OFFICIAL_SECRET], set_header(oh, "webhook-id", OFFICIAL_ID + "x"), OFFICIAL_BODY,
        err("signature_mismatch"), now=O_NOW)
    add("official-vector-now-stale", "The official vector checked at the default tolerance an hour later is timestamp_too_old.",
        "rejection", [OFFICIAL_SECRET], oh, OFFICIAL_BODY, err("timestamp_too_old"), now=O_NOW + 3600)
    add("official-vector-url-safe-base64",
        "A v1 value in URL-safe base64 (- and _) is not standard base64: malformed_header.",
        "rejection", [OFFICIAL_SECRET],
        set_header(oh, "webhook-signature", OFFICIAL_SIGNATURE.replace("+", "-").replace("/", "_")),
        OFFICIAL_BODY, err("malformed_header"), now=O_NOW)
    add("official-vector-unpadded-base64",
        "A v1 value without its \"=\" padding is not standard padded base64: malformed_header.",
        "rejection", [OFFICIAL_SECRET], set_header(oh, "webhook-signature", OFFICIAL_SIGNATURE.rstrip("=")),
        OFFICIAL_BODY, err("malformed_header"), now=O_NOW)

    # ---- AnyFormat and body typing ------------------------------------------------------------
    S = STD_SECRET_2

    def anyformat(event, status, label):
        return compact({
            "event": event,
            "timestamp": "2024-05-24T09:48:03.512Z",
            "data": {"extraction_id": "ext_" + hashlib.sha256(label.encode()).hexdigest()[:20],
                     "status": status, "workflow_id": "wf_2c9d41a7",
                     "processed_at": "2024-05-24T09:48:02.907Z"},
        })

    for evt, status in [("extraction.completed", "processed"), ("extraction.failed", "error")]:
        body = anyformat(evt, status, evt)
        mid = "msg_" + hashlib.sha256(evt.encode()).hexdigest()[:24]
        add("anyformat-" + evt.replace(".", "-"),
            "An AnyFormat %s delivery verifies and its type comes from the body's event field." % evt,
            "python-stdlib-hmac", [S], std_headers(mid, NOW, body), body, ok(0, NOW, mid, evt, mid))

    MID = "msg_2LJbQeHy9oXvMnx6zNKf1d7tWcR"
    body_t = compact({"type": "invoice.paid", "timestamp": "2024-05-24T09:48:03Z", "data": {"id": "inv_1"}})
    add("body-with-type-field", "The type comes from the body's type field when it is a string.",
        "python-stdlib-hmac", [S], std_headers(MID, NOW, body_t), body_t, ok(0, NOW, MID, "invoice.paid", MID))
    body_te = compact({"type": "invoice.paid", "event": "ignored.event", "data": {}})
    add("body-type-wins-over-event", "When both type and event are strings, type wins.",
        "python-stdlib-hmac", [S], std_headers(MID, NOW, body_te), body_te, ok(0, NOW, MID, "invoice.paid", MID))
    body_tn = compact({"type": 7, "event": "extraction.completed", "data": {}})
    add("body-type-not-string-falls-back-to-event",
        "A non-string type is ignored and the string event field is used.",
        "python-stdlib-hmac", [S], std_headers(MID, NOW, body_tn), body_tn,
        ok(0, NOW, MID, "extraction.completed", MID))
    body_n = compact({"kind": "ping", "data": {"n": 1}})
    add("body-with-neither-type-nor-event", "A body with neither type nor event has type \"\".",
        "python-stdlib-hmac", [S], std_headers(MID, NOW, body_n), body_n, ok(0, NOW, MID, "", MID))
    body_en = compact({"event": 12, "data": {}})
    add("body-event-not-string", "A non-string event field is ignored: type \"\".",
        "python-stdlib-hmac", [S], std_headers(MID, NOW, body_en), body_en, ok(0, NOW, MID, "", MID))
    body_arr = b"[1,2,3]"
    add("body-json-array-accepted", "Any JSON value is accepted for this scheme, including an array (type \"\").",
        "python-stdlib-hmac", [S], std_headers(MID, NOW, body_arr), body_arr, ok(0, NOW, MID, "", MID))
    body_null = b"null"
    add("body-json-null-accepted", "The JSON literal null is accepted for this scheme (type \"\").",
        "python-stdlib-hmac", [S], std_headers(MID, NOW, body_null), body_null, ok(0, NOW, MID, "", MID))
    body_u = compact({"type": "note.created", "data": {"text": "\u00e9t\u00e9 \u2600\ufe0f \u65e5\u672c"}})
    add("body-non-ascii-utf8", "A non-ASCII UTF-8 body is signed over its raw bytes.",
        "python-stdlib-hmac", [S], std_headers(MID, NOW, body_u), body_u, ok(0, NOW, MID, "note.created", MID))
    body_deep = b'{"type":"invoice.paid","data":' + b"[" * 126 + b"]" * 126 + b"}"
    add("json-nesting-at-limit-ok", "127 nested containers (the body object and 126 arrays) verify.",
        "python-stdlib-hmac", [S], std_headers(MID, NOW, body_deep), body_deep,
        ok(0, NOW, MID, "invoice.paid", MID))

    for name, desc, body in [
        ("non-json-body", "A validly signed body that is not JSON is invalid_payload.", b"event=extraction.completed"),
        ("empty-body", "A validly signed empty body is invalid_payload.", b""),
        ("non-utf8-body", "A validly signed body that is not valid UTF-8 is invalid_payload.",
         b'{"event": "extraction.completed", "note": "\xc3\x28"}'),
        ("truncated-json-body", "A validly signed truncated JSON body is invalid_payload.", b'{"event": "extr'),
        ("json-nesting-too-deep", "128 nested arrays exceed the JSON nesting limit: invalid_payload.",
         b"[" * 128 + b"]" * 128),
        ("json-number-out-of-range", "A number outside the range of a double is invalid_payload.",
         b'{"type": "invoice.paid", "amount": -1e400}'),
        ("json-nan-literal", "NaN is not JSON: invalid_payload.", b'{"type": "invoice.paid", "amount": NaN}'),
        ("json-lone-surrogate-escape", "A lone surrogate escape (\\udc00) is not a Unicode character: invalid_payload.",
         b'{"type": "invoice.paid", "note": "\\udc00"}'),
    ]:
        add(name, desc, "rejection", [S], std_headers(MID, NOW, body), body, err("invalid_payload"))

    # ---- signatures list ----------------------------------------------------------------------
    good = std_b64(S, MID, str(NOW), body_t)
    bad = std_b64(STD_SECRET_WRONG, MID, str(NOW), body_t)
    T = lambda sigv, **k: std_headers(MID, NOW, body_t, signature=sigv, **k)  # noqa: E731
    OKT = lambda matched=0, ts=NOW: ok(matched, ts, MID, "invoice.paid", MID)  # noqa: E731

    add("several-signatures-unknown-versions-skipped",
        "Space-separated items with unknown versions (v1a, v2) are skipped; the v1 that matches is enough.",
        "python-stdlib-hmac", [S], T("v1a,%s v2,notbase64!! v1,%s" % (good, good)), body_t, OKT())
    add("several-v1-first-wrong", "Several v1 items: the first wrong, the second right, verifies.",
        "python-stdlib-hmac", [S], T("v1,%s v1,%s" % (bad, good)), body_t, OKT())
    add("runs-of-spaces-between-items", "Runs of spaces between items are allowed.",
        "python-stdlib-hmac", [S], T("v1,%s    v1,%s" % (bad, good)), body_t, OKT())
    add("rotation-two-secrets-second-matches",
        "With two configured secrets, a delivery signed only by the second reports matched_secret 1.",
        "python-stdlib-hmac", [STD_SECRET_WRONG, S], T("v1," + good), body_t, OKT(matched=1))
    add("rotation-two-secrets-two-signatures",
        "Two secrets and two signatures: the first configured secret that matches is reported (0).",
        "python-stdlib-hmac", [STD_SECRET_WRONG, S], T("v1,%s v1,%s" % (good, bad)), body_t, OKT(matched=0))
    add("unpadded-secret-ok",
        "A whsec_ secret whose base64 lacks padding decodes to the same key and verifies.",
        "python-stdlib-hmac", [STD_SECRET_UNPADDED],
        T("v1," + std_b64(STD_SECRET_UNPADDED, MID, str(NOW), body_t)), body_t, OKT())
    add("secret-with-non-zero-trailing-bits",
        "A whsec_ secret whose last base64 character carries non-zero unused bits (whsec_AB) decodes to the "
        "key the reference libraries use (the single byte 0x00, as whsec_AA) and verifies.",
        "python-stdlib-hmac", ["whsec_AB"], T("v1," + std_b64("whsec_AA", MID, str(NOW), body_t)), body_t, OKT())
    add("wrong-signature", "A signature made with another secret is signature_mismatch.",
        "rejection", [S], T("v1," + bad), body_t, err("signature_mismatch"))
    add("signature-of-other-id",
        "A signature computed for another webhook-id is signature_mismatch.",
        "rejection", [S], T("v1," + std_b64(S, MID + "x", str(NOW), body_t)), body_t, err("signature_mismatch"))
    add("only-v1a-no-signature", "Only an unknown version (v1a) is no_signature.",
        "rejection", [S], T("v1a," + good), body_t, err("no_signature"))
    add("empty-signature-header", "An empty webhook-signature value has no items: no_signature.",
        "rejection", [S], T(""), body_t, err("no_signature"))
    # Unreadable items are skipped (any match is enough, SPEC section 4), as the JavaScript and Go libraries
    # skip them; alone they are the header's error, beside signatures that all fail the mismatch names them.
    add("item-without-comma-beside-a-good-v1", "An item without a comma beside a matching v1 is skipped: verifies.",
        "python-stdlib-hmac", [S], T("v1,%s garbage" % good), body_t, OKT())
    add("item-without-comma-alone", "An item without a comma, the only item, is malformed_header.",
        "rejection", [S], T("garbage"), body_t, err("malformed_header"))
    add("bad-v1-beside-a-forged-v1", "A malformed v1 item beside a v1 that does not match is signature_mismatch.",
        "rejection", [S], T("v1,AAAA v1," + std_b64(STD_SECRET_WRONG, MID, str(NOW), body_t)), body_t,
        err("signature_mismatch"))
    add("bad-v1-beside-a-good-v1", "A malformed v1 item (AAAA: 3 bytes, not 32) before a matching v1 is skipped: verifies.",
        "python-stdlib-hmac", [S], T("v1,AAAA v1,%s" % good), body_t, OKT())
    add("v1-not-base64", "A v1 value with characters outside standard base64 is malformed_header.",
        "rejection", [S], T("v1," + "!" * 43 + "="), body_t, err("malformed_header"))
    add("v1-wrong-length", "A v1 value that decodes to 31 bytes is malformed_header.",
        "rejection", [S], T("v1," + base64.b64encode(base64.b64decode(good)[:31]).decode()), body_t,
        err("malformed_header"))
    add("v1-hex-instead-of-base64",
        "A hex signature in a v1 item is not 32 bytes of padded base64: malformed_header.",
        "rejection", [S], T("v1," + base64.b64decode(good).hex()), body_t, err("malformed_header"))
    add("v1-empty-value-alone", "An empty v1 value, the only item, is malformed_header.",
        "rejection", [S], T("v1,"), body_t, err("malformed_header"))
    add("v1-empty-value-beside-a-good-v1", "An empty v1 value beside a matching v1 is skipped: verifies.",
        "python-stdlib-hmac", [S], T("v1, v1," + good), body_t, OKT())
    fill = [std_b64(STD_SECRET_WRONG, MID + str(i), str(NOW), body_t) for i in range(16)]
    add("sixteen-v1-last-correct-ok", "Exactly 16 v1 items (the limit) with the last correct verifies.",
        "python-stdlib-hmac", [S], T(" ".join("v1," + f for f in fill[:15] + [good])), body_t, OKT())
    add("seventeen-v1-items", "17 v1 items exceed the limit of 16: malformed_header.",
        "rejection", [S], T(" ".join("v1," + f for f in fill + [good])), body_t, err("malformed_header"))
    add("seventeen-v1-items-one-unreadable", "The limit counts unreadable v1 items too: 15 + 1 unreadable + the correct one is malformed_header.",
        "rejection", [S], T(" ".join("v1," + f for f in fill[:15] + ["AAAA", good])), body_t, err("malformed_header"))

    # ---- headers ------------------------------------------------------------------------------
    full = T("v1," + good)
    for hname in ("webhook-id", "webhook-timestamp", "webhook-signature"):
        add("missing-" + hname, "No %s (and no svix- fallback) is missing_header." % hname,
            "rejection", [S], drop_header(full, hname), body_t, err("missing_header"))
    add("empty-webhook-id", "An empty webhook-id is malformed_header.",
        "rejection", [S], std_headers("", NOW, body_t, secret=S), body_t, err("malformed_header"))
    add("duplicate-webhook-signature", "Two webhook-signature headers are malformed_header.",
        "rejection", [S], full + [("Webhook-Signature", "v1," + good)], body_t, err("malformed_header"))
    add("duplicate-webhook-id", "Two webhook-id headers are malformed_header.",
        "rejection", [S], full + [("webhook-id", MID)], body_t, err("malformed_header"))
    add("webhook-id-non-ascii", "A non-ASCII webhook-id is malformed_header.",
        "rejection", [S], std_headers("msg_\u00e9t\u00e9", NOW, body_t, secret=S), body_t, err("malformed_header"))

    # ---- timestamps ---------------------------------------------------------------------------
    for delta, name, exp, desc in [
        (-300, "timestamp-exactly-300s-old-ok", None, "A timestamp exactly 300 s old passes (default tolerance 300)."),
        (-301, "timestamp-301s-old", "timestamp_too_old", "A timestamp 301 s old is timestamp_too_old."),
        (300, "timestamp-exactly-300s-ahead-ok", None, "A timestamp exactly 300 s ahead passes."),
        (301, "timestamp-301s-ahead", "timestamp_too_new", "A timestamp 301 s ahead is timestamp_too_new."),
    ]:
        ts = NOW + delta
        add(name, desc, "python-stdlib-hmac" if exp is None else "rejection", [S], std_headers(MID, ts, body_t),
            body_t, OKT(ts=ts) if exp is None else err(exp))
    add("custom-tolerance-10-11s-old", "With tolerance 10, a timestamp 11 s old is timestamp_too_old.",
        "rejection", [S], std_headers(MID, NOW - 11, body_t), body_t, err("timestamp_too_old"), tolerance=10)
    add("custom-tolerance-10-exactly-10s-old-ok", "With tolerance 10, a timestamp 10 s old passes.",
        "python-stdlib-hmac", [S], std_headers(MID, NOW - 10, body_t), body_t, OKT(ts=NOW - 10), tolerance=10)
    for name, desc, ts_str in [
        ("malformed-timestamp-decimal", "A decimal timestamp is malformed_timestamp.", str(NOW) + ".5"),
        ("malformed-timestamp-milliseconds", "A 13-digit millisecond timestamp is malformed_timestamp.", str(NOW) + "000"),
        ("malformed-timestamp-leading-space", "A leading space in webhook-timestamp is malformed_timestamp.", " " + str(NOW)),
        ("malformed-timestamp-negative", "A negative timestamp is malformed_timestamp.", "-" + str(NOW)),
        ("malformed-timestamp-rfc3339", "An RFC 3339 date in webhook-timestamp is malformed_timestamp.",
         "2024-05-24T09:48:04Z"),
    ]:
        add(name, desc, "rejection", [S], std_headers(MID, ts_str, body_t), body_t, err("malformed_timestamp"))

    # ---- order and limits ---------------------------------------------------------------------
    add("stale-and-forged", "A stale and forged delivery reports timestamp_too_old.",
        "rejection", [S], std_headers(MID, NOW - 3600, body_t, secret=STD_SECRET_WRONG), body_t,
        err("timestamp_too_old"))
    add("no-signature-beats-malformed-timestamp",
        "no_signature is a header-stage error, reported before the timestamp format is checked.",
        "rejection", [S], std_headers(MID, "soon", body_t, signature="v1a," + good), body_t, err("no_signature"))
    add("forged-non-json-body", "A forged non-JSON body is signature_mismatch, never invalid_payload.",
        "rejection", [S], std_headers(MID, NOW, b"<xml/>", secret=STD_SECRET_WRONG), b"<xml/>",
        err("signature_mismatch"))
    add("body-exactly-at-limit-ok", "A validly signed body of exactly max_body_bytes verifies.",
        "python-stdlib-hmac", [S], std_headers(MID, NOW, body_t), body_t, OKT(), max_body_bytes=len(body_t))
    add("body-one-byte-over-limit", "A validly signed body one byte over max_body_bytes is body_too_large.",
        "rejection", [S], std_headers(MID, NOW, body_t), body_t, err("body_too_large"),
        max_body_bytes=len(body_t) - 1)

    return cases


# ---------------------------------------- secrets.json -------------------------------------------

def secret_cases():
    A = ANCHOR_SECRET
    W = OFFICIAL_SECRET
    out = []

    def add(name, description, scheme, secrets, valid):
        out.append({"name": name, "description": description, "scheme": scheme, "secrets": secrets,
                    "expect": {"ok": True} if valid else {"ok": False, "error": "invalid_secret"}})

    for scheme, good in (("anchor", A), ("standard", W)):
        p = scheme + "-"
        add(p + "empty-string", "An empty secret is refused.", scheme, [""], False)
        add(p + "only-whitespace", "A secret made only of whitespace is refused.", scheme, [" \t "], False)
        add(p + "leading-space", "A leading space (copy-paste error) is refused.", scheme, [" " + good], False)
        add(p + "trailing-newline", "A trailing newline (copy-paste error) is refused.", scheme, [good + "\n"], False)
        add(p + "trailing-tab", "A trailing tab is refused.", scheme, [good + "\t"], False)
        add(p + "trailing-crlf", "A trailing CRLF is refused.", scheme, [good + "\r\n"], False)
        add(p + "trailing-no-break-space", "Trailing Unicode whitespace (U+00A0 NO-BREAK SPACE) is refused.",
            scheme, [good + "\u00a0"], False)
        add(p + "leading-ideographic-space", "Leading Unicode whitespace (U+3000 IDEOGRAPHIC SPACE) is refused.",
            scheme, ["\u3000" + good], False)
        add(p + "double-quoted", "A secret wrapped in double quotes (pasted from JSON) is refused.",
            scheme, ['"' + good + '"'], False)
        add(p + "single-quoted", "A secret wrapped in single quotes is refused.", scheme, ["'" + good + "'"], False)
        add(p + "empty-list", "No secret at all is refused.", scheme, [], False)
        add(p + "bad-second-secret", "Every secret of the list is checked: a bad second secret is refused.",
            scheme, [good, good + " "], False)
        add(p + "two-valid-secrets", "Two valid secrets (rotation) are accepted.", scheme,
            [good, ANCHOR_SECRET_NEW if scheme == "anchor" else STD_SECRET_2], True)

        add(p + "embedded-newline", "A line break inside the secret (a line-wrapped copy) is refused.",
            scheme, [good[:20] + "\n" + good[20:]], False)
        add(p + "trailing-nul", "A NUL character (not whitespace, so not trimmed) is refused.",
            scheme, [good + "\u0000"], False)
        add(p + "leading-byte-order-mark",
            "A leading U+FEFF BYTE ORDER MARK (a file saved as UTF-8 with BOM; not whitespace) is refused.",
            scheme, ["\ufeff" + good], False)
        add(p + "trailing-zero-width-space",
            "A trailing U+200B ZERO WIDTH SPACE (copied from a web page; not whitespace) is refused.",
            scheme, [good + "\u200b"], False)

    add("anchor-valid-64-hex", "A 64-hex secret as issued by the provider is accepted.", "anchor", [A], True)
    add("anchor-upper-case-hex", "An upper-case 64-hex secret is accepted (used verbatim, not normalised).",
        "anchor", [A.upper()], True)
    add("anchor-short-secret", "A short secret (\"secret\") is accepted.", "anchor", ["secret"], True)
    add("anchor-unicode-secret", "A non-ASCII secret is accepted (its UTF-8 bytes are the key).",
        "anchor", [ANCHOR_SECRET_UNICODE], True)
    add("anchor-internal-space-ok", "Whitespace inside (not around) a secret is accepted.",
        "anchor", ["two words"], True)
    add("anchor-whsec-prefix-refused",
        "An Anchor secret starting with whsec_ is refused (it belongs to the Standard Webhooks scheme).",
        "anchor", [W], False)
    add("anchor-unmatched-leading-quote-ok", "A single leading quote is not a wrapping pair and is accepted.",
        "anchor", ['"' + A], True)
    add("standard-valid-whsec", "A whsec_ secret is accepted.", "standard", [W], True)
    add("standard-valid-without-prefix", "The whsec_ prefix is optional.", "standard", [W[len("whsec_"):]], True)
    add("standard-unpadded-base64", "Base64 without its padding is accepted.", "standard", [STD_SECRET_UNPADDED], True)
    add("standard-padded-base64", "Base64 with its padding is accepted.", "standard",
        ["whsec_" + base64.b64encode(STD_SECRET_UNPADDED_RAW).decode()], True)
    add("standard-one-byte-key", "A secret that decodes to a single byte is accepted (at least one byte).",
        "standard", ["whsec_AA=="], True)
    add("standard-bad-base64", "A secret that is not base64 is refused.", "standard", ["whsec_not*base64!"], False)
    add("standard-url-safe-base64", "URL-safe base64 (- and _) is not standard base64: refused.",
        "standard", ["whsec_ab-_cd-_"], False)
    add("standard-impossible-base64-length", "Base64 of a length that cannot be decoded (4n+1) is refused.",
        "standard", ["whsec_abcde"], False)
    add("standard-whsec-prefix-only", "whsec_ with nothing after it decodes to no bytes: refused.",
        "standard", ["whsec_"], False)
    add("standard-unprefixed-not-base64",
        "Without the whsec_ prefix the whole secret is read as base64: a raw string with characters outside "
        "standard base64 (\"my_webhook_secret\") is refused.", "standard", ["my_webhook_secret"], False)
    add("standard-non-zero-trailing-bits",
        "Base64 whose last character carries non-zero unused bits (whsec_AB, canonically whsec_AA) is accepted "
        "and decodes like the reference libraries decode it (one zero byte).", "standard", ["whsec_AB"], True)
    add("standard-asymmetric-public-key",
        "A Standard Webhooks asymmetric public key (whpk_, ed25519 for v1a signatures) cannot key an HMAC: refused.",
        "standard", ["whpk_" + base64.b64encode(hashlib.sha256(b"anchor-webhooks vectors: ed25519").digest()).decode()],
        False)
    add("anchor-asymmetric-secret-key",
        "A Standard Webhooks asymmetric secret key (whsk_) is no Anchor secret either: refused.",
        "anchor", ["whsk_" + base64.b64encode(hashlib.sha256(b"anchor-webhooks vectors: ed25519 sk").digest()).decode()],
        False)
    add("standard-bare-64-hex", "A bare 64-hex secret looks like an Anchor secret and is refused for this scheme.",
        "standard", [A], False)
    return out


# --------------------------------------------------------------------------------------------------
# Oracle: a naive reading of core/DECISIONS.md used only to validate the expectations above
# --------------------------------------------------------------------------------------------------

class Reject(Exception):
    def __init__(self, code):
        Exception.__init__(self, code)
        self.code = code


_TS_RE = re.compile(r"\A[0-9]{1,12}\Z")
_HEX64_RE = re.compile(r"\A[0-9a-fA-F]{64}\Z")
_B64_32_RE = re.compile(r"\A[A-Za-z0-9+/]{43}=\Z")
_RFC3339_RE = re.compile(
    r"\A(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-](\d{2}):(\d{2}))\Z")


def _header_values(headers, name):
    return [v for k, v in headers if k.lower() == name.lower()]


def _header_ok(value):
    return len(value.encode("utf-8")) <= MAX_HEADER_BYTES and all(
        c == "\t" or " " <= c <= "~" for c in value)


def _read_header(headers, name, stage_errors):
    vals = _header_values(headers, name)
    if len(vals) > 1:
        stage_errors.add("malformed_header")
        return vals[0]
    if vals and not _header_ok(vals[0]):
        stage_errors.add("malformed_header")
    return vals[0] if vals else None


def _rfc3339_ok(s):
    m = _RFC3339_RE.match(s)
    if not m:
        return False
    y, mo, d, h, mi, se = (int(m.group(i)) for i in range(1, 7))
    try:
        local = datetime.datetime(y, mo, d, h, mi, min(se, 59))
    except ValueError:
        return False
    if h > 23 or mi > 59 or se > 60:
        return False
    if m.group(9) is not None and (int(m.group(9)) > 23 or int(m.group(10)) > 59):
        return False
    offset_minutes = 0
    if m.group(9) is not None:
        sign = -1 if m.group(8).startswith("-") else 1
        offset_minutes = sign * (int(m.group(9)) * 60 + int(m.group(10)))
    try:
        local - datetime.timedelta(minutes=offset_minutes)  # the UTC instant: years 1 to 9999 only
    except OverflowError:
        return False
    return True


def _created_ms(text):
    """The instant of an RFC 3339 `text` in whole unix milliseconds, rounded down (a leap second :60 is
    23:59:59.999999999); None when `text` is not a date-time the verifier accepts."""
    if not isinstance(text, str) or not _rfc3339_ok(text):
        return None
    m = _RFC3339_RE.match(text)
    y, mo, d, h, mi, se = (int(m.group(i)) for i in range(1, 7))
    nanos = int((m.group(7)[1:] + "0" * 9)[:9]) if m.group(7) else 0
    if se == 60:
        se, nanos = 59, 999_999_999
    offset_minutes = 0
    if m.group(9) is not None:
        sign = -1 if m.group(8).startswith("-") else 1
        offset_minutes = sign * (int(m.group(9)) * 60 + int(m.group(10)))
    at = datetime.datetime(y, mo, d, h, mi, se, tzinfo=datetime.timezone(datetime.timedelta(minutes=offset_minutes)))
    since_epoch = at - datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
    return ((since_epoch.days * 86400 + since_epoch.seconds) * 10**9 + nanos) // 10**6


def _standard_created_ms(payload):
    return _created_ms(payload.get("timestamp")) if isinstance(payload, dict) else None


def _check_time(now, tolerance, ts_strings):
    for s in ts_strings:
        if not _TS_RE.match(s):
            raise Reject("malformed_timestamp")
    if len(ts_strings) == 2 and ts_strings[0] != ts_strings[1]:
        raise Reject("timestamp_mismatch")
    ts = int(ts_strings[0])
    if now - ts > tolerance:
        raise Reject("timestamp_too_old")
    if ts - now > tolerance:
        raise Reject("timestamp_too_new")
    return ts


def _body(case):
    if "body" in case:
        return case["body"].encode("utf-8")
    return base64.b64decode(case["body_base64"])


def _nesting(value):
    if isinstance(value, dict):
        return 1 + max(map(_nesting, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(_nesting, value), default=0)
    return 0


def _finite_float(text):
    value = float(text)
    if math.isinf(value):
        raise ValueError("number out of range")
    return value


def _refuse_constant(text):
    raise ValueError("%s is not JSON" % text)


def _load_json(body):
    """json.loads held to the limits of RFC 8259 parsers in every binding's host: numbers within a
    double's range, no NaN/Infinity, at most 127 nested containers."""
    value = json.loads(body.decode("utf-8"), parse_float=_finite_float, parse_constant=_refuse_constant,
                       parse_int=lambda text: (_finite_float(text), int(text))[1])
    # json.loads keeps a lone surrogate escape as a lone code point, which UTF-8 hosts cannot hold.
    json.dumps(value, ensure_ascii=False).encode("utf-8")
    if _nesting(value) > 127:
        raise ValueError("nested too deeply")
    return value


def _stage_result(errors):
    if len(errors) > 1:
        raise AssertionError("ambiguous: several header-stage errors %s" % sorted(errors))
    if errors:
        raise Reject(errors.pop())


def oracle_anchor(case):
    headers = case["headers"]
    now = case["now"]
    tolerance = case.get("tolerance", ANCHOR_TOLERANCE)
    max_body = case.get("max_body_bytes", DEFAULT_MAX_BODY)
    body = _body(case)
    errors = set()
    sig_header = _read_header(headers, "Anchor-Signature", errors)
    ts_header = _read_header(headers, "Anchor-Timestamp", errors)
    delivery_id = _read_header(headers, "Anchor-Delivery-Id", errors)
    event_header = _read_header(headers, "Anchor-Event", errors)
    # An item that cannot be read is skipped, and is the error only when no signature matches.
    t_item, v1s, v1_items, unreadable = None, [], 0, False
    if sig_header is None:
        errors.add("missing_header")
    else:
        for raw in sig_header.split(","):
            item = raw.strip(" \t")
            if not item:
                continue
            if "=" not in item or item.startswith("="):
                unreadable = True
                continue
            key, value = item.split("=", 1)
            if key == "t":
                if t_item is not None:
                    errors.add("malformed_header")
                t_item = value
            elif key == "v1":
                v1_items += 1
                if _HEX64_RE.match(value):
                    v1s.append(value.lower())
                else:
                    unreadable = True
        if v1_items > MAX_SIGNATURES:
            errors.add("malformed_header")
        if not v1s:
            errors.add("malformed_header" if unreadable else "no_signature")
        if ts_header is None and t_item is None:
            errors.add("missing_header")
    _stage_result(errors)
    ts_strings = [s for s in (ts_header, t_item) if s is not None]
    ts = _check_time(now, tolerance, ts_strings)
    if len(body) > max_body:
        raise Reject("body_too_large")
    matched = None
    for i, secret in enumerate(case["secrets"]):
        mac = anchor_hex(secret, ts_strings[0], body)
        if any(hmac.compare_digest(mac, v) for v in v1s):
            matched = i
            break
    if matched is None:
        raise Reject("signature_mismatch")
    try:
        env = _load_json(body)
    except (UnicodeDecodeError, ValueError):
        raise Reject("invalid_payload")
    if not isinstance(env, dict):
        raise Reject("invalid_payload")
    for key in ("id", "type"):
        if not isinstance(env.get(key), str) or not env[key]:
            raise Reject("invalid_payload")
    if not isinstance(env.get("created"), str) or not _rfc3339_ok(env["created"]):
        raise Reject("invalid_payload")
    if not isinstance(env.get("data"), dict):
        raise Reject("invalid_payload")
    for key in ("project_id", "text"):
        if key in env and not isinstance(env[key], str):
            raise Reject("invalid_payload")
    if event_header is not None and event_header != env["type"]:
        raise Reject("invalid_payload")
    return dict(ok(matched, ts, env["id"], env["type"], delivery_id), created_ms=_created_ms(env["created"]))


def oracle_standard(case):
    headers = case["headers"]
    now = case["now"]
    tolerance = case.get("tolerance", STANDARD_TOLERANCE)
    max_body = case.get("max_body_bytes", DEFAULT_MAX_BODY)
    body = _body(case)
    errors = set()
    vals = {}
    for suffix in ("id", "timestamp", "signature"):
        name = "webhook-" + suffix
        if not _header_values(headers, name):
            name = "svix-" + suffix
        vals[suffix] = _read_header(headers, name, errors)
        if vals[suffix] is None:
            errors.add("missing_header")
    if vals["id"] == "":
        errors.add("malformed_header")
    sigs = []
    v1_items = 0
    unreadable = False  # as in oracle_anchor: skipped, the error only when no signature matches
    if vals["signature"] is not None:
        for item in vals["signature"].split(" "):
            if not item:
                continue
            if "," not in item:
                unreadable = True
                continue
            version, value = item.split(",", 1)
            if version != "v1":
                continue
            v1_items += 1
            if not _B64_32_RE.match(value):
                unreadable = True
                continue
            decoded = base64.b64decode(value, validate=True)
            assert base64.b64encode(decoded).decode() == value, "non-canonical base64 in a vector"
            sigs.append(decoded)
        if v1_items > MAX_SIGNATURES:
            errors.add("malformed_header")
        if not sigs:
            errors.add("malformed_header" if unreadable else "no_signature")
    _stage_result(errors)
    ts = _check_time(now, tolerance, [vals["timestamp"]])
    if len(body) > max_body:
        raise Reject("body_too_large")
    matched = None
    for i, secret in enumerate(case["secrets"]):
        mac = base64.b64decode(std_b64(secret, vals["id"], vals["timestamp"], body))
        if any(hmac.compare_digest(mac, s) for s in sigs):
            matched = i
            break
    if matched is None:
        raise Reject("signature_mismatch")
    try:
        payload = _load_json(body)
    except (UnicodeDecodeError, ValueError):
        raise Reject("invalid_payload")
    evt_type = ""
    if isinstance(payload, dict):
        if isinstance(payload.get("type"), str):
            evt_type = payload["type"]
        elif isinstance(payload.get("event"), str):
            evt_type = payload["event"]
    return dict(ok(matched, ts, vals["id"], evt_type, vals["id"]), created_ms=_standard_created_ms(payload))


# Printed as nothing, and not whitespace: a byte order mark, zero-width characters, a soft hyphen.
_INVISIBLE = {"\u00ad", "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff"}


def oracle_secrets(case):
    secrets = case["secrets"]
    if not secrets:
        return {"ok": False, "error": "invalid_secret"}
    for s in secrets:
        if not s or s[0].isspace() or s[-1].isspace():
            return {"ok": False, "error": "invalid_secret"}
        if len(s) >= 2 and s[0] == s[-1] and s[0] in "\"'":
            return {"ok": False, "error": "invalid_secret"}
        if any(unicodedata.category(c) == "Cc" or c in _INVISIBLE for c in s):
            return {"ok": False, "error": "invalid_secret"}
        if s.startswith(("whpk_", "whsk_")):
            return {"ok": False, "error": "invalid_secret"}
        if case["scheme"] == "anchor":
            if s.startswith("whsec_"):
                return {"ok": False, "error": "invalid_secret"}
        else:
            if _HEX64_RE.match(s):
                return {"ok": False, "error": "invalid_secret"}
            raw = s[len("whsec_"):] if s.startswith("whsec_") else s
            if not re.match(r"\A[A-Za-z0-9+/]*={0,2}\Z", raw) or len(raw.rstrip("=")) % 4 == 1:
                return {"ok": False, "error": "invalid_secret"}
            try:
                if not std_key(raw):
                    return {"ok": False, "error": "invalid_secret"}
            except ValueError:
                return {"ok": False, "error": "invalid_secret"}
    return {"ok": True}


# --------------------------------------------------------------------------------------------------
# Validation and output
# --------------------------------------------------------------------------------------------------

_NAME_RE = re.compile(r"\A[a-z0-9]+(-[a-z0-9]+)*\Z")
_CASE_KEYS = ["name", "description", "source", "secrets", "tolerance", "max_body_bytes", "now", "headers",
              "body", "body_base64", "expect"]


def _run_oracle(fn, case):
    try:
        return fn(case)
    except Reject as e:
        return {"ok": False, "error": e.code}


def validate(anchor, standard, secrets):
    codes = set()
    for doc, scheme, fn in ((anchor, "anchor", oracle_anchor), (standard, "standard", oracle_standard)):
        assert doc["format"] == FORMAT and doc["scheme"] == scheme
        names = set()  # names are unique within a file
        for c in doc["cases"]:
            n = c["name"]
            assert _NAME_RE.match(n), "not kebab-case: %s" % n
            assert n not in names, "duplicate case name: %s" % n
            names.add(n)
            assert set(c) <= set(_CASE_KEYS), (n, set(c) - set(_CASE_KEYS))
            assert ("body" in c) != ("body_base64" in c), "exactly one of body/body_base64: %s" % n
            if "body_base64" in c:
                try:
                    base64.b64decode(c["body_base64"]).decode("utf-8")
                    raise AssertionError("body_base64 used for a UTF-8 body: %s" % n)
                except UnicodeDecodeError:
                    pass
            assert c["source"] in SOURCES, n
            assert c["description"].endswith("."), n
            assert isinstance(c["now"], int) and c["secrets"], n
            for pair in c["headers"]:
                assert len(pair) == 2 and all(isinstance(x, str) for x in pair), n
            exp = c["expect"]
            if exp["ok"]:
                assert c["source"] != "rejection", n
                assert set(exp) == {"ok", "matched_secret", "timestamp", "id", "type", "delivery_id", "created_ms"}, n
            else:
                assert c["source"] == "rejection", n
                assert set(exp) == {"ok", "error"} and exp["error"] in ERROR_CODES, n
                assert exp["error"] not in ("invalid_secret", "store_unavailable"), n
                codes.add(exp["error"])
            if c["source"] == "standard-webhooks-official":
                hv = dict((k.lower(), v) for k, v in c["headers"])
                assert OFFICIAL_SIGNATURE in (hv.get("webhook-signature"), hv.get("svix-signature")), n
            got = _run_oracle(fn, c)
            assert got == exp, "case %s: expected %s, oracle says %s" % (n, exp, got)
    names = set()
    for c in secrets["cases"]:
        n = c["name"]
        assert _NAME_RE.match(n) and n not in names, n
        names.add(n)
        assert c["scheme"] in ("anchor", "standard"), n
        assert c["expect"] in ({"ok": True}, {"ok": False, "error": "invalid_secret"}), n
        assert oracle_secrets(c) == c["expect"], "secrets case %s disagrees with the oracle" % n
        if not c["expect"]["ok"]:
            codes.add("invalid_secret")
    missing = ERROR_CODES - {"store_unavailable"} - codes
    assert not missing, "error codes without a case: %s" % sorted(missing)
    # Every secret used by a verification case must itself be a valid secret.
    for doc in (anchor, standard):
        for c in doc["cases"]:
            assert oracle_secrets({"scheme": doc["scheme"], "secrets": c["secrets"]}) == {"ok": True}, c["name"]


def render(obj):
    return json.dumps(obj, indent=2, ensure_ascii=False) + "\n"


def with_created(cases, created_ms_of_body):
    """Every accepted case also says what `created` the event carries (`created_ms`)."""
    for c in cases:
        if c["expect"]["ok"]:
            c["expect"]["created_ms"] = created_ms_of_body(_load_json(_body(c)))
    return cases


def build():
    anchor = {"format": FORMAT, "scheme": "anchor",
              "cases": with_created(anchor_cases(), lambda env: _created_ms(env["created"]))}
    standard = {"format": FORMAT, "scheme": "standard", "cases": with_created(standard_cases(), _standard_created_ms)}
    secrets = {"format": FORMAT, "cases": secret_cases()}
    validate(anchor, standard, secrets)
    return {"anchor.json": render(anchor), "standard.json": render(standard), "secrets.json": render(secrets)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="do not write; exit 1 if a checked-in file differs from what would be generated")
    args = parser.parse_args(argv)
    files = build()
    if args.check:
        stale = []
        for name, text in sorted(files.items()):
            path = os.path.join(HERE, name)
            try:
                with open(path, "r", encoding="utf-8", newline="") as f:
                    current = f.read()
            except FileNotFoundError:
                current = None
            if current != text:
                stale.append(name)
                print("stale: tests/vectors/%s%s" % (name, " (missing)" if current is None else ""),
                      file=sys.stderr)
        if stale:
            print("regenerate with: %s" % REGEN_COMMAND, file=sys.stderr)
            return 1
        print("tests/vectors: %d files up to date" % len(files))
        return 0
    for name, text in sorted(files.items()):
        with open(os.path.join(HERE, name), "w", encoding="utf-8", newline="") as f:
            f.write(text)
    counts = {n: len(json.loads(t)["cases"]) for n, t in files.items()}
    print("wrote " + ", ".join("%s (%d cases)" % (n, counts[n]) for n in sorted(counts)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
