"""Receiver semantics (complete / release / duplicate / in progress), MemoryStore, and RedisStore against a
real redis-server (and a dead port)."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from typing import Any

import pytest

import anchor_webhooks as aw
from conftest import SECRET, RedisServer, envelope, free_port

NOW = 1_716_544_084


def delivery(event_id: str = "evt_1") -> tuple[bytes, dict[str, str]]:
    body = envelope(event_id=event_id)
    return body, aw.sign(SECRET, body, timestamp=NOW)


class Boom(Exception):
    pass


def run_handler(receiver: aw.Receiver, body: bytes, headers: Any, fail: bool = False, now: float = NOW) -> str:
    """What an integration does: returns 'processed', 'duplicate', 'in_progress' or 'failed'."""
    try:
        with receiver.receive(body, headers, now=now) as event:
            assert event.id.startswith("evt_")
            if fail:
                raise Boom()
        return "processed"
    except aw.Duplicate as signal:
        return "in_progress" if signal.in_progress else "duplicate"
    except Boom:
        return "failed"


def test_complete_then_duplicate() -> None:
    receiver = aw.Receiver(aw.Verifier(SECRET), aw.MemoryStore())
    body, headers = delivery()
    assert run_handler(receiver, body, headers) == "processed"
    with pytest.raises(aw.Duplicate) as caught:
        with receiver.receive(body, headers, now=NOW):
            pytest.fail("the block must not run for a duplicate")
    signal = caught.value
    assert (signal.in_progress, signal.http_status, signal.retry_after) == (False, 200, None)
    assert signal.event.id == "evt_1" and signal.event.type == "task.completed"
    assert "already processed" in str(signal)


def test_exception_releases_so_the_retry_is_processed() -> None:
    receiver = aw.Receiver(aw.Verifier(SECRET))
    body, headers = delivery()
    runs = []

    def attempt(fail: bool) -> str:
        try:
            with receiver.receive(body, headers, now=NOW) as event:
                runs.append(event.id)
                if fail:
                    raise Boom()
            return "processed"
        except Boom:
            return "failed"

    assert attempt(fail=True) == "failed"
    assert attempt(fail=False) == "processed"
    assert runs == ["evt_1", "evt_1"]
    assert run_handler(receiver, body, headers) == "duplicate"


def test_in_progress_while_another_worker_holds_the_claim() -> None:
    receiver = aw.Receiver(aw.Verifier(SECRET), aw.MemoryStore(), lease=30)
    body, headers = delivery()
    holding = receiver.receive(body, headers, now=NOW)
    event = holding.__enter__()
    assert event.id == "evt_1"
    with pytest.raises(aw.Duplicate) as caught:
        receiver.receive(body, headers, now=NOW).__enter__()
    signal = caught.value
    assert (signal.in_progress, signal.http_status, signal.retry_after) == (True, 503, aw.IN_PROGRESS_RETRY_AFTER_SECONDS)
    assert "another worker" in str(signal)
    assert holding.__exit__(None, None, None) is False
    assert run_handler(receiver, body, headers) == "duplicate"


def test_expired_lease_can_be_claimed_again() -> None:
    receiver = aw.Receiver(aw.Verifier(SECRET, tolerance=3600), aw.MemoryStore(), lease=10)
    body, headers = delivery()
    crashed = receiver.receive(body, headers, now=NOW)
    crashed.__enter__()  # the worker "crashes": never exits
    assert run_handler(receiver, body, headers, now=NOW + 5) == "in_progress"
    assert run_handler(receiver, body, headers, now=NOW + 11) == "processed"


def test_verification_failure_never_claims() -> None:
    store = aw.MemoryStore()
    receiver = aw.Receiver(aw.Verifier(SECRET), store)
    body, headers = delivery()
    with pytest.raises(aw.SignatureMismatchError):
        receiver.receive(body + b" ", headers, now=NOW).__enter__()
    assert len(store) == 0
    assert run_handler(receiver, body, headers) == "processed"
    assert len(store) == 1


def test_reception_is_single_use_and_lazy() -> None:
    store = aw.MemoryStore()
    receiver = aw.Receiver(aw.Verifier(SECRET), store)
    body, headers = delivery()
    reception = receiver.receive(body, headers, now=NOW)
    assert len(store) == 0 and repr(reception) == "Reception(not entered)"
    with reception as event:
        assert repr(reception) == "Reception(claimed)"
        assert event.id == "evt_1"
    assert repr(reception) == "Reception(finished)"
    with pytest.raises(RuntimeError, match="already entered"):
        reception.__enter__()


def test_memory_store_full_of_claims_is_store_unavailable_and_forgets_the_oldest_completed_id() -> None:
    store = aw.MemoryStore(max_entries=1)
    receiver = aw.Receiver(aw.Verifier(SECRET), store)
    with receiver.receive(*delivery("evt_a"), now=NOW):
        # evt_a's claim is the store's one entry while its handler runs: no room for another event.
        with pytest.raises(aw.StoreUnavailableError) as caught:
            receiver.receive(*delivery("evt_b"), now=NOW).__enter__()
    assert (caught.value.code, caught.value.http_status) == ("store_unavailable", 503)
    assert str(caught.value).startswith(
        "dedupe store unavailable: the memory store is full of claims in progress (maximum entries: 1)"
    )
    # Full of a completed id, the oldest completed one makes room.
    assert run_handler(receiver, *delivery("evt_b")) == "processed"
    assert len(store) == 1 and run_handler(receiver, *delivery("evt_b")) == "duplicate"


def test_receiver_properties() -> None:
    verifier = aw.Verifier(SECRET)
    store = aw.MemoryStore(max_entries=10, ttl=60)
    receiver = aw.Receiver(verifier, store, lease=2.5)
    assert receiver.verifier is verifier and receiver.store is store and receiver.lease == 2.5
    assert (store.max_entries, store.ttl) == (10, 60.0)
    assert isinstance(aw.Receiver(verifier).store, aw.MemoryStore)
    with pytest.raises(TypeError, match="MemoryStore or a RedisStore"):
        aw.Receiver(verifier, {})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="lease"):
        aw.Receiver(verifier, store, lease=-1)


LEASE_TOO_SHORT = (
    "lease must be at least 1 s: a shorter lease expires under a running handler, and a retry would run it a "
    "second time alongside (the default is 30 s)"
)
TTL_TOO_SHORT = (
    "ttl must be at least 1 s: a shorter TTL forgets a completed id at once, and every retry would run the "
    "handler again (the default is 24 h)"
)


@pytest.mark.parametrize(
    ("lease", "message"),
    [
        (0, LEASE_TOO_SHORT),
        (0.999, LEASE_TOO_SHORT),
        (-30, LEASE_TOO_SHORT),
        (float("inf"), "lease must be at most 9007199254740 s"),
        (float("nan"), "lease must be a number of seconds, not NaN"),
    ],
)
def test_a_lease_that_would_run_a_handler_twice_is_refused(lease: float, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        aw.Receiver(aw.Verifier(SECRET), aw.MemoryStore(), lease=lease)
    assert str(caught.value) == message
    assert aw.Receiver(aw.Verifier(SECRET), lease=1).lease == 1.0


@pytest.mark.parametrize("ttl", [0, 0.5, -1])
def test_a_done_ttl_that_would_forget_completed_ids_is_refused(ttl: float) -> None:
    with pytest.raises(ValueError) as caught:
        aw.MemoryStore(ttl=ttl)
    assert str(caught.value) == TTL_TOO_SHORT
    with pytest.raises(ValueError) as caught:
        aw.RedisStore("redis://127.0.0.1:1/0", ttl=ttl)
    assert str(caught.value) == TTL_TOO_SHORT
    with pytest.raises(ValueError) as caught:
        aw.RedisStore("redis://127.0.0.1:1/0", timeout=0)
    assert str(caught.value) == "timeout must be at least 1 ms: 0 is no deadline at all"
    assert aw.MemoryStore(ttl=1).ttl == 1.0


def test_a_memory_store_with_room_for_no_id_is_refused() -> None:
    with pytest.raises(ValueError) as caught:
        aw.MemoryStore(max_entries=0)
    assert str(caught.value) == (
        "max_entries must be at least 1: a store with room for no id claims nothing, and every delivery "
        "would be answered 503 (the default is 100000)"
    )
    assert aw.MemoryStore(max_entries=1).max_entries == 1


def test_a_handler_that_outlasts_its_lease_is_logged_as_a_lost_claim(caplog: pytest.LogCaptureFixture) -> None:
    receiver = aw.Receiver(aw.Verifier(SECRET, tolerance=3600), aw.MemoryStore(), lease=1)
    body, headers = delivery("evt_slow")
    with caplog.at_level("WARNING", logger="anchor_webhooks"):
        with receiver.receive(body, headers, now=NOW):
            # The lease ran out: the sender's retry takes the event over while this handler still runs.
            assert run_handler(receiver, body, headers, now=NOW + 1) == "processed"
            assert caplog.records == []
    assert [(r.name, r.levelname, r.getMessage()) for r in caplog.records] == [
        (
            "anchor_webhooks",
            "WARNING",
            "anchor-webhooks: claim lost: the handler of event evt_slow outlasted its 1 s lease and the claim was "
            "gone when it finished (another delivery may have run it too); choose a lease longer than the handler",
        )
    ]


def test_concurrent_workers_process_once() -> None:
    receiver = aw.Receiver(aw.Verifier(SECRET), aw.MemoryStore())
    body, headers = delivery()
    outcomes: list[str] = []
    barrier = threading.Barrier(8)

    def worker() -> None:
        barrier.wait()
        outcomes.append(run_handler(receiver, body, headers))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("processed") == 1
    assert set(outcomes) <= {"processed", "duplicate", "in_progress"}


# --- async with: asyncio frameworks ---------------------------------------------------------------------


async def run_handler_async(receiver: aw.Receiver, body: bytes, headers: Any, fail: bool = False) -> str:
    """run_handler with `async with`."""
    try:
        async with receiver.receive(body, headers, now=NOW) as event:
            assert event.id.startswith("evt_")
            await asyncio.sleep(0)
            if fail:
                raise Boom()
        return "processed"
    except aw.Duplicate as signal:
        return "in_progress" if signal.in_progress else "duplicate"
    except Boom:
        return "failed"


def test_async_with_completes_releases_and_answers_duplicates() -> None:
    receiver = aw.Receiver(aw.Verifier(SECRET), aw.MemoryStore())
    body, headers = delivery("evt_async_1")

    async def scenario() -> list[str]:
        return [
            await run_handler_async(receiver, body, headers, fail=True),
            await run_handler_async(receiver, body, headers),
            await run_handler_async(receiver, body, headers),
        ]

    assert asyncio.run(scenario()) == ["failed", "processed", "duplicate"]
    with pytest.raises(aw.SignatureMismatchError):
        asyncio.run(run_handler_async(receiver, body + b" ", headers))


def test_async_with_a_memory_store_answers_in_place() -> None:
    receiver = aw.Receiver(aw.Verifier(SECRET), aw.MemoryStore())

    async def scenario() -> None:
        reception = receiver.receive(*delivery("evt_async_2"), now=NOW)
        entering = reception.__aenter__()
        assert asyncio.isfuture(entering) and entering.done()  # no thread hop for a store in memory
        assert (await entering).id == "evt_async_2"
        exiting = reception.__aexit__(None, None, None)
        assert exiting.done() and await exiting is False
        assert await run_handler_async(receiver, *delivery("evt_async_2")) == "duplicate"

    asyncio.run(scenario())


def test_async_with_outside_an_asyncio_loop_claims_nothing() -> None:
    # Awaited by another event loop (trio), or entered by sync code: a RuntimeError, and no claim left held.
    receiver = aw.Receiver(aw.Verifier(SECRET), aw.MemoryStore())
    body, headers = delivery("evt_async_no_loop")
    reception = receiver.receive(body, headers, now=NOW)
    with pytest.raises(RuntimeError, match="no running event loop"):
        reception.__aenter__()
    assert repr(reception) == "Reception(not entered)"
    assert run_handler(receiver, body, headers) == "processed"


def test_async_with_concurrent_tasks_process_once(redis_server: RedisServer) -> None:
    receiver = aw.Receiver(aw.Verifier(SECRET), aw.RedisStore(redis_server.url, key_prefix="py-test-async-once"))
    body, headers = delivery("evt_async_3")

    async def scenario() -> list[str]:
        return list(await asyncio.gather(*(run_handler_async(receiver, body, headers) for _ in range(8))))

    outcomes = asyncio.run(scenario())
    assert outcomes.count("processed") == 1
    assert set(outcomes) <= {"processed", "duplicate", "in_progress"}


def test_async_with_a_redis_store_never_blocks_the_event_loop(redis_server: RedisServer) -> None:
    receiver = aw.Receiver(aw.Verifier(SECRET), aw.RedisStore(redis_server.url, key_prefix="py-test-async-loop"))
    receiver.store.check()  # connected: the pause below is the only wait

    async def scenario() -> tuple[str, int]:
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        ticking = asyncio.create_task(ticker())
        await asyncio.sleep(0.02)
        redis_server.cli("CLIENT", "PAUSE", "600", "ALL")
        ticks = 0
        started = time.monotonic()
        outcome = await run_handler_async(receiver, *delivery("evt_async_4"))
        assert time.monotonic() - started >= 0.4  # the claim did wait for the paused server
        ticking.cancel()
        return outcome, ticks

    outcome, ticks = asyncio.run(scenario())
    assert outcome == "processed"
    assert ticks >= 10, f"the event loop ran {ticks} ticks of 10 ms while Redis was paused for 600 ms"


def test_async_with_a_store_failure_at_completion_is_store_unavailable() -> None:
    server = RedisServer()
    try:
        receiver = aw.Receiver(aw.Verifier(SECRET), aw.RedisStore(server.url, timeout=2))

        async def scenario() -> None:
            async with receiver.receive(*delivery("evt_async_killed"), now=NOW):
                server.stop()

        with pytest.raises(aw.StoreUnavailableError, match="evt_async_killed"):
            asyncio.run(scenario())
    finally:
        server.stop()


# --- Redis: a real server --------------------------------------------------------------------------------


def test_redis_store_shared_by_two_receivers(redis_server: RedisServer) -> None:
    prefix = "py-test-shared"
    first = aw.Receiver(aw.Verifier(SECRET), aw.RedisStore(redis_server.url, key_prefix=prefix))
    second = aw.Receiver(aw.Verifier(SECRET), aw.RedisStore(redis_server.url, key_prefix=prefix))
    body, headers = delivery("evt_redis_1")
    holding = first.receive(body, headers, now=NOW)
    holding.__enter__()
    keys = redis_server.cli("KEYS", f"{prefix}:*").split()
    assert len(keys) == 1 and "evt_redis_1" not in keys[0]  # hashed ids: no raw id reaches Redis
    assert run_handler(second, body, headers) == "in_progress"
    holding.__exit__(None, None, None)
    assert redis_server.cli("GET", keys[0]).startswith("done:")  # the marker carries the claim's token
    assert 0 < int(redis_server.cli("PTTL", keys[0])) <= 86_400_000
    assert run_handler(second, body, headers) == "duplicate"
    assert run_handler(first, body, headers) == "duplicate"


def test_redis_release_lets_the_retry_through(redis_server: RedisServer) -> None:
    receiver = aw.Receiver(aw.Verifier(SECRET), aw.RedisStore(redis_server.url, key_prefix="py-test-release"))
    body, headers = delivery("evt_redis_2")
    assert run_handler(receiver, body, headers, fail=True) == "failed"
    assert redis_server.cli("KEYS", "py-test-release:*") == ""
    assert run_handler(receiver, body, headers) == "processed"
    assert run_handler(receiver, body, headers) == "duplicate"


def test_redis_options(redis_server: RedisServer) -> None:
    # A live server: the timeout leaves room for the first connect on a loaded machine.
    store = aw.RedisStore(redis_server.url, key_prefix="py-test-ttl", timeout=2.5, ttl=60)
    assert (store.key_prefix, store.timeout, store.ttl) == ("py-test-ttl", 2.5, 60.0)
    assert repr(store) == "RedisStore(key_prefix='py-test-ttl', timeout=2.5, ttl=60)"
    receiver = aw.Receiver(aw.Verifier(SECRET), store)
    assert run_handler(receiver, *delivery("evt_redis_3")) == "processed"
    (key,) = redis_server.cli("KEYS", "py-test-ttl:*").split()
    assert 0 < int(redis_server.cli("PTTL", key)) <= 60_000
    assert aw.RedisStore(redis_server.url).key_prefix == "anchor-webhooks:dedupe"


def test_redis_dead_port_is_store_unavailable() -> None:
    store = aw.RedisStore(f"redis://127.0.0.1:{free_port()}/0", timeout=0.5)
    receiver = aw.Receiver(aw.Verifier(SECRET), store)
    body, headers = delivery("evt_dead")
    ran = []
    with pytest.raises(aw.StoreUnavailableError) as caught:
        with receiver.receive(body, headers, now=NOW):
            ran.append(True)
    assert ran == []
    assert (caught.value.code, caught.value.http_status) == ("store_unavailable", 503)
    assert "redis" in str(caught.value)


def test_redis_check_tells_a_setup_that_can_never_work_from_a_server_that_is_down(
    redis_server: RedisServer,
) -> None:
    aw.RedisStore(redis_server.url, timeout=2.5).check()
    # A user without the scripts' rights: the first delivery would only find out after its handler ran.
    redis_server.cli("ACL", "SETUSER", "py-noeval", "on", ">py-noeval-pw", "~*", "+set", "+get")
    with pytest.raises(ValueError) as caught:
        aw.RedisStore(f"redis://py-noeval:py-noeval-pw@127.0.0.1:{redis_server.port}/0", timeout=2.5).check()
    assert str(caught.value) == (
        "redis: this user may not run SCRIPT LOAD (NOPERM); the dedupe store needs the ACL rules "
        "+set +get +del +evalsha +script|load ~anchor-webhooks:dedupe:*"
    )
    with pytest.raises(ValueError) as caught:
        aw.RedisStore(f"redis://py-noeval:wrong-pw@127.0.0.1:{redis_server.port}/0", timeout=2.5).check()
    assert str(caught.value) == "redis: wrong user name or password, or the user is disabled (WRONGPASS)"
    assert "wrong-pw" not in repr(caught.value)
    with pytest.raises(ValueError) as caught:
        aw.RedisStore(f"redis://127.0.0.1:{redis_server.port}/99", timeout=2.5).check()
    assert str(caught.value) == (
        "redis: DB index 99 is out of range (the server's `databases` setting; 16 by default: 0 to 15)"
    )
    # Down is not misconfigured: it may come back, so a service may start anyway.
    with pytest.raises(ConnectionError) as down:
        aw.RedisStore(f"redis://127.0.0.1:{free_port()}/0", timeout=0.5).check()
    assert str(down.value) == "redis: connection refused"


def test_redis_invalid_url_is_a_configuration_error() -> None:
    # Refused at start-up as a ValueError, not store_unavailable ("answer 503" would advise nobody); the
    # message never shows the URL, which may hold a password.
    for url in ("http://not-redis", "localhost:6379", "redis://user:hunter2@127.0.0.1:notaport/0"):
        with pytest.raises(ValueError) as caught:
            aw.RedisStore(url)
        assert not isinstance(caught.value, aw.WebhookVerificationError)
        assert str(caught.value) == (
            "invalid Redis URL: expected redis:// or rediss://[username:password@]host[:port][/db]"
        )


def test_a_claim_the_store_could_not_release_is_logged_and_the_handlers_exception_goes_on(
    redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    store = aw.RedisStore(redis_server.url, key_prefix="py-test-unreleased", timeout=0.2)
    receiver = aw.Receiver(aw.Verifier(SECRET), store)
    body, headers = delivery("evt_unreleased")
    try:
        with pytest.raises(Boom), caplog.at_level(logging.WARNING, logger="anchor_webhooks"):
            with receiver.receive(body, headers, now=NOW):
                redis_server.cli("CLIENT", "PAUSE", "10000", "ALL")  # the release will time out
                raise Boom()
    finally:
        redis_server.cli("CLIENT", "UNPAUSE")
    assert [(r.name, r.levelname, r.getMessage()) for r in caplog.records] == [
        (
            "anchor_webhooks",
            "WARNING",
            "anchor-webhooks: the claim on event evt_unreleased was not released after its handler failed (redis: "
            "timed out); it ends with its lease, and deliveries of the event until then are answered in progress",
        )
    ]
    assert run_handler(receiver, body, headers) == "in_progress"  # held until its lease ends


def test_redis_server_killed_after_claim_fails_completion() -> None:
    server = RedisServer()
    try:
        receiver = aw.Receiver(aw.Verifier(SECRET), aw.RedisStore(server.url, timeout=2))
        reception = receiver.receive(*delivery("evt_killed"), now=NOW)
        reception.__enter__()
        server.stop()
        with pytest.raises(aw.StoreUnavailableError):
            reception.__exit__(None, None, None)
    finally:
        server.stop()
