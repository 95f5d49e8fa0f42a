"""A RedisStore used before a fork (gunicorn --preload, Celery's prefork pool): each process gets its own
connections, so no process reads another's replies."""

from __future__ import annotations

import json
import os

import anchor_webhooks as aw
from conftest import SECRET, RedisServer
from test_receiver import delivery, run_handler

EVENTS_PER_PROCESS = 300


def outcomes(receiver: aw.Receiver, tag: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for i in range(EVENTS_PER_PROCESS):
        try:
            outcome = run_handler(receiver, *delivery(f"evt_fork_{tag}_{i}"))
        except aw.WebhookVerificationError as error:
            outcome = error.code
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts


def test_a_redis_store_used_before_a_fork_works_in_both_processes(redis_server: RedisServer) -> None:
    store = aw.RedisStore(redis_server.url, key_prefix=f"py-fork-{os.getpid()}", timeout=2.5)
    store.check()  # as at start-up: leaves an idle connection in the pool, which the child inherits
    receiver = aw.Receiver(aw.Verifier(SECRET), store)
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child reports through the pipe
        os.close(read_end)
        try:
            report = json.dumps(outcomes(receiver, "child")).encode()
        except BaseException as error:  # noqa: BLE001 - anything the child meets is the parent's failure
            report = json.dumps({"child raised": repr(error)}).encode()
        os.write(write_end, report)
        os._exit(0)
    os.close(write_end)
    in_parent = outcomes(receiver, "parent")
    with os.fdopen(read_end, "rb") as pipe:
        in_child = json.loads(pipe.read())
    os.waitpid(child, 0)
    # Every event is new: each process processes all of its own, none is a duplicate or a store error.
    assert in_parent == {"processed": EVENTS_PER_PROCESS}
    assert in_child == {"processed": EVENTS_PER_PROCESS}
