"""okru_sdk.distributed against a real redis-server: the shared budget and token store.

The multi-process tests run the emulator in this process and several worker
processes (``tests/distributed_worker.py``) against it and one Redis.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from okru_sdk import API, NO_RETRY, RefreshServerSession, RequestTimeout, ServerSession
from okru_sdk.sessions import SessionSettings
from okru_sdk.testing import Fault, OkEmulator
from okru_sdk.testing.state import App, MethodCall, User
from okru_sdk.tokens import Tokens

from .redis_server import RedisServer, missing, run_redis_server

try:
    import redis as _redis_py  # noqa: F401  (the `redis` extra)
except ImportError:
    missing("redis-py is not installed (pip install 'okru-sdk[redis]')", module_level=True)

REPO = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:redis")


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    with run_redis_server(tmp_path_factory.mktemp("redis")) as server:
        yield server


@pytest.fixture
async def redis(redis_server: RedisServer) -> AsyncIterator[Any]:
    from redis.asyncio import Redis

    client = Redis.from_url(redis_server.url)
    await client.flushdb()
    try:
        yield client
    finally:
        await client.aclose()


def token_do_calls(emu: OkEmulator) -> int:
    return sum(1 for r in emu.requests if r.path.endswith("token.do"))


# -- the limiter on its own ----------------------------------------------------------------


async def test_the_burst_goes_at_once_and_the_next_call_waits_for_the_rate(redis: Any) -> None:
    from okru_sdk.distributed import RedisRateLimiter

    # one call a minute with a burst of 3: three go now, the fourth would wait ~60 s
    limiter = RedisRateLimiter(redis, "budget:burst", rate=1, period=60, burst=3)
    for _ in range(3):
        await asyncio.wait_for(limiter.acquire(), 5)
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(limiter.acquire(), 0.5)


async def test_limiters_on_one_key_share_the_budget_and_other_keys_do_not(
    redis: Any, redis_server: RedisServer
) -> None:
    from redis.asyncio import Redis

    from okru_sdk.distributed import RedisRateLimiter

    other_client = Redis.from_url(redis_server.url)
    try:
        first = RedisRateLimiter(redis, "budget:shared", rate=1, period=60, burst=2)
        second = RedisRateLimiter(other_client, "budget:shared", rate=1, period=60, burst=2)
        elsewhere = RedisRateLimiter(other_client, "budget:other", rate=1, period=60)
        await asyncio.wait_for(first.acquire(), 5)
        await asyncio.wait_for(second.acquire(), 5)
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(first.acquire(), 0.3)
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(second.acquire(), 0.3)
        await asyncio.wait_for(elsewhere.acquire(), 5)
    finally:
        await other_client.aclose()


async def test_a_waiting_limiter_lets_the_call_go_once_the_interval_has_passed(
    redis: Any,
) -> None:
    from okru_sdk.distributed import RedisRateLimiter

    limiter = RedisRateLimiter(redis, "budget:steady", rate=20)  # one call every 50 ms
    await limiter.acquire()
    await asyncio.wait_for(limiter.acquire(), 5)  # waits about 50 ms, then goes
    wait_us = await redis.pttl("budget:steady")
    assert wait_us > 0  # the key expires by itself once the budget is idle


def test_bad_limiter_settings_are_refused_with_their_name() -> None:
    from redis.asyncio import Redis

    from okru_sdk.distributed import RedisRateLimiter

    client = Redis()  # never connects: nothing is sent
    with pytest.raises(ValueError, match="rate"):
        RedisRateLimiter(client, "k", rate=0)
    with pytest.raises(ValueError, match="period"):
        RedisRateLimiter(client, "k", rate=1, period=float("inf"))
    with pytest.raises(ValueError, match="burst"):
        RedisRateLimiter(client, "k", rate=1, burst=0)
    with pytest.raises(ValueError, match="key"):
        RedisRateLimiter(client, "", rate=1)
    with pytest.raises(TypeError, match="redis-py asyncio client"):
        RedisRateLimiter(object(), "k", rate=1)  # type: ignore[arg-type]


async def test_rate_limit_takes_the_redis_limiter_per_method(
    emu: OkEmulator, app: App, user: User, redis: Any
) -> None:
    from okru_sdk.distributed import RedisRateLimiter

    tok = emu.issue_token(app, user, expires_in=None)
    shared = RedisRateLimiter(redis, "budget:users", rate=1, period=60, burst=1)
    async with ServerSession(
        app.app_id,
        app.app_key,
        app.app_secret_key,
        tok.access_token,
        api_url=emu.url,
        rate_limit={"users.*": shared},
        timeout=0.5,
        retry=NO_RETRY,
    ) as s:
        await API(s).call("users.getCurrentUser")
        await API(s).call("friends.get")  # not in the users budget: goes at once
        with pytest.raises(RequestTimeout, match="no complete reply within"):
            await API(s).call("users.getCurrentUser")  # the users budget is spent
    assert [r.method for r in emu.requests] == ["users.getCurrentUser", "friends.get"]


# -- the token store on its own -------------------------------------------------------------


async def test_tokens_round_trip_through_the_store_and_a_serializer_sees_them_first(
    redis: Any,
) -> None:
    from okru_sdk.distributed import RedisTokenStore

    class Reversed:
        """A stand-in for an encrypting serializer: what Redis holds is not the JSON."""

        def dumps(self, tokens: Tokens) -> bytes:
            return json.dumps(tokens.to_dict()).encode()[::-1]

        def loads(self, data: bytes) -> Tokens:
            return Tokens.from_dict(json.loads(data[::-1]))

    store = RedisTokenStore(redis, prefix="app:", serializer=Reversed())
    tokens = Tokens("ACCESS-SECRET", "REFRESH-SECRET", "", time.time() + 60)
    assert await store.load("alice") is None
    await store.save("alice", tokens)
    assert await store.load("alice") == tokens
    raw = await redis.get("app:tokens:alice")
    assert b"ACCESS-SECRET" not in raw and b"TERCES-SSECCA" in raw
    assert "SECRET" not in repr(store) and "SECRET" not in repr(tokens)


async def test_a_client_that_decodes_responses_reads_json_tokens(
    redis_server: RedisServer,
) -> None:
    from redis.asyncio import Redis

    from okru_sdk.distributed import RedisTokenStore

    client = Redis.from_url(redis_server.url, decode_responses=True)
    try:
        await client.flushdb()
        store = RedisTokenStore(client)
        await store.save("bot", Tokens("A", "R"))
        assert await store.load("bot") == Tokens("A", "R")
    finally:
        await client.aclose()


async def test_the_lock_is_free_again_after_its_timeout(redis: Any) -> None:
    from okru_sdk.distributed import RedisTokenStore

    store = RedisTokenStore(redis, lock_timeout=0.3, lock_wait=5)
    # a holder that never releases (as a killed worker): the key expires by itself
    taken = redis.lock("okru:tokens:bot:lock", timeout=0.3, thread_local=False)
    assert await taken.acquire(blocking=False)
    async with store.lock("bot"):
        assert await redis.exists("okru:tokens:bot:lock")
    assert not await redis.exists("okru:tokens:bot:lock")  # released on exit


async def test_a_lock_that_stays_taken_ends_as_request_timeout(redis: Any) -> None:
    from okru_sdk.distributed import RedisTokenStore

    store = RedisTokenStore(redis, lock_timeout=30, lock_wait=0.2)
    taken = redis.lock("okru:tokens:bot:lock", timeout=30, thread_local=False)
    assert await taken.acquire(blocking=False)
    with pytest.raises(RequestTimeout, match="'bot' stayed taken"):
        async with store.lock("bot"):
            pass


async def test_sessions_read_write_and_share_renewals_through_redis(
    emu: OkEmulator, app: App, user: User, urls: SessionSettings, redis: Any
) -> None:
    from okru_sdk.distributed import RedisTokenStore

    tok = emu.issue_token(app, user, refresh=True)
    assert tok.refresh_token
    store = RedisTokenStore(redis)
    first = RefreshServerSession(
        app.app_id,
        app.app_key,
        app.app_secret_key,
        tok.refresh_token,
        token_store=store,
        token_key="alice",
        **urls,
    )
    async with first:
        stored = await store.load("alice")
        assert stored is not None and stored.access_token == first.access_token
    # a second session with the same key signs in from the store: no token.do
    emu.clear_requests()
    async with RefreshServerSession(
        app.app_id,
        app.app_key,
        app.app_secret_key,
        tok.refresh_token,
        token_store=store,
        token_key="alice",
        **urls,
    ) as second:
        assert second.access_token == stored.access_token
        emu.expire_token(second.access_token)
        await API(second).call("users.getCurrentUser")
        renewed = await store.load("alice")
        assert renewed is not None and renewed.access_token == second.access_token
        assert renewed.access_token != stored.access_token
    assert token_do_calls(emu) == 1  # the renewal only


# -- several worker processes ---------------------------------------------------------------


async def start_workers(configs: list[dict[str, Any]]) -> list[asyncio.subprocess.Process]:
    """Start the workers and wait until each has built its session and says ``ready``."""
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.distributed_worker",
            json.dumps(config),
            cwd=REPO,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        for config in configs
    ]
    try:
        for proc in procs:
            assert proc.stdout is not None
            line = await asyncio.wait_for(proc.stdout.readline(), 60)
            if line.strip() != b"ready":
                assert proc.stderr is not None
                pytest.fail(f"a worker did not start: {(await proc.stderr.read()).decode()}")
    except BaseException:
        await stop(procs)
        raise
    return procs


def go(procs: list[asyncio.subprocess.Process]) -> None:
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write(b"go\n")


async def results_of(proc: asyncio.subprocess.Process) -> dict[str, Any]:
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, err.decode()
    result: dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
    return result


async def stop(procs: list[asyncio.subprocess.Process]) -> None:
    """Kill what still runs and close every pipe (a second communicate() is harmless)."""
    for proc in procs:
        if proc.returncode is None:
            proc.kill()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(proc.communicate(), 10)


def worker_config(
    emu: OkEmulator, app: App, redis_server: RedisServer, **extra: Any
) -> dict[str, Any]:
    return {
        "api_url": emu.url,
        "redis_url": redis_server.url,
        "app_id": app.app_id,
        "app_key": app.app_key,
        "app_secret_key": app.app_secret_key,
        **extra,
    }


async def test_workers_sharing_a_budget_stay_within_rate_plus_burst_in_any_second(
    emu: OkEmulator, app: App, user: User, redis: Any, redis_server: RedisServer
) -> None:
    rate, burst, workers, calls = 5, 1, 3, 5
    arrivals: list[float] = []

    def tick(call: MethodCall) -> object:
        arrivals.append(time.monotonic())
        return {"uid": user.uid}

    emu.register_method("test.tick", tick)
    tok = emu.issue_token(app, user, expires_in=None)
    config = worker_config(
        emu,
        app,
        redis_server,
        access_token=tok.access_token,
        method="test.tick",
        calls=calls,
        rate=rate,
        burst=burst,
        limit_key="budget:fleet",
        total_timeout=20.0,
    )
    procs = await start_workers([config] * workers)
    try:
        go(procs)
        results = [await results_of(proc) for proc in procs]
    finally:
        await stop(procs)
    assert all(r == user.uid for result in results for r in result["results"]), results
    assert len(arrivals) == workers * calls
    # every one-second window that starts at an arrival (the fullest ones do)
    busiest = max(sum(1 for t in arrivals if start <= t <= start + 1.0) for start in arrivals)
    # (without the shared budget all 15 calls arrive within a fraction of a second)
    assert busiest <= rate + burst, sorted(arrivals)


@pytest.mark.parametrize("how", ["expires_at", "102"])
async def test_one_expired_token_and_every_worker_calling_renews_once(
    emu: OkEmulator, app: App, user: User, redis: Any, redis_server: RedisServer, how: str
) -> None:
    tok = emu.issue_token(app, user, refresh=True)
    emu.expire_token(tok.access_token)  # a stale call would get 102
    config = worker_config(
        emu,
        app,
        redis_server,
        access_token=tok.access_token,
        refresh_token=tok.refresh_token,
        expires_at=time.time() - 60 if how == "expires_at" else None,
        method="users.getCurrentUser",
        calls=5,
        token_key="bot",
        lock_timeout=5.0,
    )
    procs = await start_workers([config] * 4)
    try:
        emu.clear_requests()
        go(procs)
        results = [await results_of(proc) for proc in procs]
    finally:
        await stop(procs)
    assert [r for result in results for r in result["results"]] == [user.uid] * 20, results
    assert token_do_calls(emu) == 1
    assert sum(result["renewals_reported"] for result in results) == 1
    from okru_sdk.distributed import RedisTokenStore

    stored = await RedisTokenStore(redis).load("bot")
    assert stored is not None and stored.access_token != tok.access_token
    assert stored.refresh_token == tok.refresh_token


async def test_a_worker_killed_holding_the_renewal_lock_blocks_nobody_past_its_timeout(
    emu: OkEmulator, app: App, user: User, redis: Any, redis_server: RedisServer
) -> None:
    lock_timeout = 1.5
    tok = emu.issue_token(app, user, refresh=True)
    emu.expire_token(tok.access_token)
    # the first renewal never gets an answer: its worker holds the lock until killed
    emu.faults.add(Fault.hang(), method="oauth/token.do", times=1)
    config = worker_config(
        emu,
        app,
        redis_server,
        access_token=tok.access_token,
        refresh_token=tok.refresh_token,
        method="users.getCurrentUser",
        calls=3,
        token_key="bot",
        lock_timeout=lock_timeout,
        # the others give up well before a lock that never expired would let them in
        total_timeout=lock_timeout + 8.0,
    )
    holder, *others = await start_workers([config] * 4)
    try:
        emu.clear_requests()
        go([holder])
        for _ in range(500):  # the holder has the lock once its token.do arrives
            if token_do_calls(emu):
                break
            await asyncio.sleep(0.02)
        assert token_do_calls(emu) == 1
        assert await redis.exists("okru:tokens:bot:lock")
        go(others)  # they find the lock taken
        os.kill(holder.pid, signal.SIGKILL)
        await holder.communicate()
        assert holder.returncode == -signal.SIGKILL
        results = [await results_of(proc) for proc in others]
    finally:
        emu.faults.clear()
        await stop([holder, *others])
    assert [r for result in results for r in result["results"]] == [user.uid] * 9, results
    assert token_do_calls(emu) == 2  # the killed worker's, then one for everybody else
    assert sum(result["renewals_reported"] for result in results) == 1


def test_the_many_workers_example_runs(redis_server: RedisServer) -> None:
    import subprocess

    out = subprocess.run(
        [
            sys.executable,
            "examples/many_workers.py",
            "--redis-url",
            redis_server.url,
            "--workers",
            "3",
            "--calls",
            "4",
            "--rate",
            "50",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert "3 workers, 12 API calls answered" in out.stdout
    assert "token.do calls: 1" in out.stdout
    assert "every call succeeded" in out.stdout
