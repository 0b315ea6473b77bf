"""The cost per call of a shared budget and token store (``okru_sdk.distributed``).

A part of ``benchmarks/run.py`` (``make bench``): against the same benchmark
server, one call after another, ``api.call("users.getCurrentUser")`` made by

- a ``ServerSession`` without ``rate_limit`` (the reference);
- the local limiter, ``rate_limit=<number>`` (aiolimiter);
- ``rate_limit=RedisRateLimiter(...)`` with ``token_store=RedisTokenStore(...)``;

next to a bare Redis round trip (``PING``) and the limiter's ``acquire()``
alone (one ``EVALSHA``). The budgets are far above the call rate, so nothing
waits: what is left is the bookkeeping. The store is read once, on first use,
so it adds nothing per call. A ``redis-server`` is started on a free loopback
port in a temporary folder; without one (or without redis-py) the part is
skipped with a message. Only the standard library is imported at the top.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

CASES = ("none", "local", "redis", "ping", "acquire")
LABELS = {
    "none": "`api.call`, no `rate_limit` (reference)",
    "local": "`api.call`, `rate_limit=1e6` (local, aiolimiter)",
    "redis": "`api.call`, `RedisRateLimiter` + `RedisTokenStore`",
    "ping": "`await redis.ping()` alone (one Redis round trip)",
    "acquire": "`await RedisRateLimiter.acquire()` alone",
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def redis_server() -> Iterator[str]:
    binary = shutil.which("redis-server")
    if binary is None:
        raise LookupError("no redis-server on PATH (Debian: apt-get install redis-server)")
    with tempfile.TemporaryDirectory() as folder:
        port = _free_port()
        proc = subprocess.Popen(
            [binary, "--bind", "127.0.0.1", "--port", str(port), "--dir", folder, "--save", ""],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 10
            while True:
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                        break
                except OSError:
                    if time.monotonic() > deadline or proc.poll() is not None:
                        raise RuntimeError("redis-server did not start") from None
                    time.sleep(0.02)
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            proc.terminate()
            proc.wait(timeout=10)


async def _measure(info: dict[str, Any], url: str, rounds: int, calls: int) -> dict[str, Any]:
    from redis.asyncio import Redis

    from okru_sdk import API, ServerSession
    from okru_sdk.distributed import RedisRateLimiter, RedisTokenStore

    redis = Redis.from_url(url)
    await redis.flushdb()

    def session(**settings: Any) -> ServerSession:
        return ServerSession(
            info["app_id"],
            info["app_key"],
            info["app_secret_key"],
            info["access_token"],
            api_url=info["url"],
            **settings,
        )

    sessions = {
        "none": session(),
        "local": session(rate_limit=1e6),
        "redis": session(
            rate_limit=RedisRateLimiter(redis, "bench:budget", rate=1e6),
            token_store=RedisTokenStore(redis, prefix="bench:"),
            token_key="bench",
        ),
    }
    limiter = RedisRateLimiter(redis, "bench:acquire", rate=1e6)
    fields = list(info["fields"])

    def api_call(s: ServerSession) -> Callable[[], Awaitable[Any]]:
        api = API(s)
        return lambda: api.call("users.getCurrentUser", fields=fields)

    call = {name: api_call(s) for name, s in sessions.items()}
    call["ping"] = redis.ping
    call["acquire"] = limiter.acquire
    wall: dict[str, list[float]] = {name: [] for name in CASES}
    cpu: dict[str, list[float]] = {name: [] for name in CASES}
    try:
        for name in CASES:  # warm up: connections, the script's SHA, the store's first read
            for _ in range(20):
                await call[name]()
        # short chunks, interleaved and rotated, so a busy moment hits every case alike
        for r in range(rounds * 4):
            shift = r % len(CASES)
            for name in CASES[shift:] + CASES[:shift]:
                fn = call[name]
                wall0, cpu0 = time.perf_counter(), time.process_time()
                for _ in range(calls):
                    await fn()
                wall[name].append((time.perf_counter() - wall0) / calls * 1e6)
                cpu[name].append((time.process_time() - cpu0) / calls * 1e6)
    finally:
        for s in sessions.values():
            await s.close()
        await redis.aclose()
    return {
        "wall": {name: statistics.median(values) for name, values in wall.items()},
        "cpu": {name: statistics.median(values) for name, values in cpu.items()},
    }


def measure(info: dict[str, Any], rounds: int, calls: int = 200) -> dict[str, Any]:
    """Median µs per call of each case (wall and client CPU), or ``{"skipped": reason}``."""
    try:
        import redis  # noqa: F401
    except ImportError:
        return {"skipped": "redis-py is not installed (pip install 'okru-sdk[redis]')"}
    try:
        with redis_server() as url:
            return asyncio.run(_measure(info, url, rounds, calls))
    except (LookupError, RuntimeError) as exc:
        return {"skipped": str(exc)}


def render(result: dict[str, Any]) -> str:
    lines = ["", "## Shared rate budget and token store (Redis)", ""]
    if "skipped" in result:
        lines += [f"Skipped: {result['skipped']}.", ""]
        return "\n".join(lines)
    wall, cpu = result["wall"], result["cpu"]
    lines += [
        "One call after another against the benchmark server; the Redis server runs on "
        "127.0.0.1 (started for the run). Budgets far above the call rate, so nothing waits. "
        "Medians over short interleaved chunks: µs per call (wall) and client CPU µs per "
        "call; added = this case minus the reference.",
        "",
        "| case | µs/call | added µs | CPU µs/call | added CPU µs |",
        "|---|---:|---:|---:|---:|",
    ]
    for name in CASES:
        limited = name in ("local", "redis")
        added = f"{wall[name] - wall['none']:,.0f}" if limited else ""
        added_cpu = f"{cpu[name] - cpu['none']:,.0f}" if limited else ""
        lines.append(
            f"| {LABELS[name]} | {wall[name]:,.0f} | {added} | {cpu[name]:,.0f} | {added_cpu} |"
        )
    redis_added = wall["redis"] - wall["none"]
    lines += [
        "",
        f"The shared budget and store add {redis_added:,.0f} µs a call "
        f"({redis_added / wall['ping']:.2f}x one Redis round trip of {wall['ping']:,.0f} µs); "
        f"the local limiter adds {wall['local'] - wall['none']:,.0f} µs.",
        "",
    ]
    return "\n".join(lines)
