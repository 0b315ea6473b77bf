"""Past one process: a rate budget and a token store shared over Redis.

Needs the ``redis`` extra (``pip install 'okru-sdk[redis]'``: redis-py and its
asyncio API). Give every worker the same Redis and the same keys::

    from redis.asyncio import Redis
    from okru_sdk import ServerSession
    from okru_sdk.distributed import RedisRateLimiter, RedisTokenStore

    redis = Redis.from_url("redis://127.0.0.1:6379/0")
    session = ServerSession(
        app_id, app_key, app_secret_key, access_token,
        refresh_token=refresh_token,
        rate_limit=RedisRateLimiter(redis, "okru:budget:app", rate=30),
        token_store=RedisTokenStore(redis),
        token_key="bot",
    )

- :class:`RedisRateLimiter` is one budget of ``rate`` calls per ``period``
  seconds for every process that uses the same Redis and key.
- :class:`RedisTokenStore` keeps each key's tokens in Redis and renews under
  a redis-py lock, so N workers holding one expired token call ``token.do``
  once, and a worker that dies holding the lock stops nobody for longer than
  the lock's timeout.

The tokens in Redis are the application's secrets: anyone who can read the
Redis (or its dumps and replicas) can call OK.ru as your users. They are never
logged; pass a ``serializer`` that encrypts them to keep them unreadable at
rest (``docs/tokens.md`` shows one with Fernet).
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager

try:
    from redis.asyncio import Redis, RedisCluster
    from redis.exceptions import LockError
except ImportError:  # pragma: no cover - depends on the installation
    raise ImportError(
        "okru_sdk.distributed needs redis-py: pip install 'okru-sdk[redis]'"
    ) from None

from .errors import RequestTimeout
from .tokens import JsonTokenSerializer, Tokens, TokenSerializer

__all__ = ["GCRA_SCRIPT", "RedisRateLimiter", "RedisTokenStore"]

log = logging.getLogger("okru_sdk")

#: a redis-py asyncio client (a cluster client works too: each script touches one key)
AnyRedis = Redis | RedisCluster

#: GCRA (the generic cell rate algorithm, as in redis-cell, go-redis/redis_rate and
#: the ``limits`` package's GCRA strategy), one atomic script per attempt. The key
#: holds the theoretical arrival time (TAT) of the next call in microseconds of
#: Redis's own clock, so the workers' clocks never matter. A call may go when
#: the TAT is at most ``burst - 1`` intervals ahead of now; it then moves the TAT
#: one interval on. Otherwise nothing is written and the script answers how many
#: microseconds to wait before asking again.
GCRA_SCRIPT = """
if redis.replicate_commands then redis.replicate_commands() end
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now) or now
if tat < now then tat = now end
local wait = tat - now - (burst - 1) * interval
if wait > 0 then return wait end
tat = tat + interval
redis.call('SET', KEYS[1], string.format('%.0f', tat), 'PX', math.ceil((tat - now) / 1000) + 1)
return 0
"""


def _positive(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a positive number, got {type(value).__name__}")
    number = float(value)
    if not (number > 0 and math.isfinite(number)):
        raise ValueError(f"{name} must be a positive, finite number, got {value!r}")
    return number


def _check_redis(redis: object, owner: str) -> None:
    if not (hasattr(redis, "register_script") and hasattr(redis, "lock")):
        raise TypeError(
            f"{owner} needs a redis-py asyncio client (redis.asyncio.Redis), "
            f"got {type(redis).__name__}"
        )


class RedisRateLimiter:
    """A budget of ``rate`` calls per ``period`` seconds shared through Redis.

    Every process (and session) using the same Redis and ``key`` draws from the
    one budget. Pass it as ``rate_limit=`` (alone, or in a mapping of method
    patterns for a per-method budget).

    **Bursts.** After an idle spell, ``burst`` calls may go at once (default
    1); after that calls are spaced ``period / rate`` seconds apart. In any
    window of ``period`` seconds at most ``rate + burst`` calls start (in a
    window of ``w`` seconds, at most ``rate * w / period + burst``). A larger
    ``burst`` lets a quiet fleet catch up faster; keep ``rate + burst`` under the
    limit OK.ru enforces.

    Each :meth:`acquire` is one Redis round trip while the budget allows; a call
    over budget sleeps for the time the script names and asks again. The wait
    counts against the call's attempt timeout and total deadline. Redis errors
    (an outage) propagate to the call: no call goes out without its budget.
    """

    def __init__(
        self, redis: AnyRedis, key: str, rate: float, period: float = 1.0, *, burst: int = 1
    ) -> None:
        _check_redis(redis, "RedisRateLimiter")
        if not isinstance(key, str) or not key:
            raise ValueError(f"key must be a non-empty str, got {key!r}")
        self.rate = _positive(rate, "rate")
        self.period = _positive(period, "period")
        if isinstance(burst, bool) or not isinstance(burst, int) or burst < 1:
            raise ValueError(f"burst must be a whole number of calls, at least 1, got {burst!r}")
        self.burst = burst
        self.key = key
        self.redis = redis
        #: microseconds between two calls at the steady rate
        self._interval_us = max(1, round(self.period / self.rate * 1_000_000))
        self._script = redis.register_script(GCRA_SCRIPT)

    async def acquire(self) -> None:
        """Return when a call may go; it is then counted against the budget."""
        args = (self._interval_us, self.burst)
        while True:
            wait_us = int(await self._script(keys=[self.key], args=args))
            if wait_us <= 0:
                return
            await asyncio.sleep(wait_us / 1_000_000)

    def __repr__(self) -> str:
        return (
            f"<RedisRateLimiter key={self.key!r} rate={self.rate:g} per {self.period:g} s "
            f"burst={self.burst}>"
        )


class RedisTokenStore:
    """Tokens kept in Redis under ``{prefix}tokens:{key}``, renewed under a redis-py lock.

    ``serializer`` turns :class:`~okru_sdk.tokens.Tokens` into the bytes stored
    (default: JSON, readable by whoever reads the Redis; supply one that
    encrypts for encryption at rest). A binary serializer needs a client made
    with ``decode_responses=False`` (redis-py's default).

    ``lock_timeout`` (seconds, default 30) is how long the renewal lock of a key
    lives if its holder never releases it (a worker killed mid-renewal): the
    others wait at most that long, then one of them renews. Keep it longer than
    a renewal takes (the session's ``timeout``); a renewal that outlives its
    lock is logged, and another process may then renew as well. ``lock_wait``
    (default twice ``lock_timeout``) bounds how long a renewal waits for the
    lock before it fails with :class:`~okru_sdk.RequestTimeout`; each call
    waits only within its own deadline anyway.
    """

    def __init__(
        self,
        redis: AnyRedis,
        prefix: str = "okru:",
        *,
        serializer: TokenSerializer | None = None,
        lock_timeout: float = 30.0,
        lock_wait: float | None = None,
    ) -> None:
        _check_redis(redis, "RedisTokenStore")
        if not isinstance(prefix, str):
            raise TypeError(f"prefix must be a str, got {type(prefix).__name__}")
        self.redis = redis
        self.prefix = prefix
        self.serializer: TokenSerializer = (
            JsonTokenSerializer() if serializer is None else serializer
        )
        if not isinstance(self.serializer, TokenSerializer):
            raise TypeError(
                "serializer must have dumps(tokens) -> bytes and loads(bytes) -> Tokens, "
                f"got {type(serializer).__name__}"
            )
        self.lock_timeout = _positive(lock_timeout, "lock_timeout")
        self.lock_wait = (
            2 * self.lock_timeout if lock_wait is None else _positive(lock_wait, "lock_wait")
        )

    def redis_key(self, key: str) -> str:
        """The Redis key holding the tokens of ``key``."""
        return f"{self.prefix}tokens:{key}"

    async def load(self, key: str) -> Tokens | None:
        data = await self.redis.get(self.redis_key(key))
        if data is None:
            return None
        if isinstance(data, str):  # a client made with decode_responses=True
            data = data.encode()
        return self.serializer.loads(bytes(data))

    async def save(self, key: str, tokens: Tokens) -> None:
        if not isinstance(tokens, Tokens):
            raise TypeError(f"a token store keeps Tokens, got {type(tokens).__name__}")
        await self.redis.set(self.redis_key(key), self.serializer.dumps(tokens))

    def lock(self, key: str) -> AbstractAsyncContextManager[object]:
        return self._hold(key)

    @asynccontextmanager
    async def _hold(self, key: str) -> AsyncIterator[object]:
        lock = self.redis.lock(
            self.redis_key(key) + ":lock",
            timeout=self.lock_timeout,
            sleep=0.05,
            blocking_timeout=self.lock_wait,
            thread_local=False,
        )
        if not await lock.acquire():
            raise RequestTimeout(
                f"the renewal lock of token key {key!r} stayed taken for {self.lock_wait:g} s",
                reached_server=False,
            )
        try:
            yield lock
        finally:
            try:
                await lock.release()
            except LockError:
                log.warning(
                    "the renewal lock of token key %r expired before the renewal ended; "
                    "make lock_timeout (%g s) longer than a renewal takes",
                    key,
                    self.lock_timeout,
                )

    def __repr__(self) -> str:
        return f"<RedisTokenStore prefix={self.prefix!r} lock_timeout={self.lock_timeout:g} s>"
