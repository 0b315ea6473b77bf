"""Many worker processes, one application: a shared rate budget and one renewal, over Redis.

    pip install 'okru-sdk[redis]'
    REDIS_URL=redis://127.0.0.1:6379/0 python examples/many_workers.py [--workers 4]

Starts the bundled OK.ru emulator in this process (on 127.0.0.1) and N worker
processes. Every worker builds the same ``ServerSession`` for the group bot's
token, with a ``RedisRateLimiter`` (one budget of ``--rate`` calls per second
for the whole fleet) and a ``RedisTokenStore`` (the token renewed once for
everybody). The bot's token has expired before the workers start, so the
first calls renew it: ``token.do`` is called once. The example only touches
Redis keys under ``okru-example:``.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import time
from typing import Any

from redis.asyncio import Redis

from okru_sdk import API, ServerSession
from okru_sdk.distributed import RedisRateLimiter, RedisTokenStore
from okru_sdk.testing import OkEmulator

PREFIX = "okru-example:"


def worker_session(config: dict[str, Any], redis: Redis) -> ServerSession:
    """What each worker builds: the same keys, the same Redis, the same budget and token key."""
    return ServerSession(
        config["app_id"],
        config["app_key"],
        config["app_secret_key"],
        config["access_token"],  # as deployed; the store's newer token wins
        refresh_token=config["refresh_token"],
        rate_limit=RedisRateLimiter(redis, f"{PREFIX}budget:{config['app_id']}", config["rate"]),
        token_store=RedisTokenStore(redis, prefix=PREFIX),
        token_key=f"{config['app_id']}:group-bot",
        api_url=config["api_url"],
    )


async def work(config: dict[str, Any]) -> None:
    redis = Redis.from_url(config["redis_url"])
    try:
        async with worker_session(config, redis) as session:
            api = API(session)
            for _ in range(config["calls"]):
                me = await api.users.get_current_user(fields=["uid", "name"])
                assert me.uid == config["uid"]
    finally:
        await redis.aclose()


def worker(config: dict[str, Any]) -> None:
    asyncio.run(work(config))


async def main(redis_url: str, workers: int, calls: int, rate: float) -> int:
    redis = Redis.from_url(redis_url)
    try:
        stale = [key async for key in redis.scan_iter(match=f"{PREFIX}*")]
        if stale:
            await redis.delete(*stale)
    finally:
        await redis.aclose()
    async with OkEmulator() as emu:
        app = emu.add_app(app_id="1248", app_key="CBAKEY", app_secret_key="app-secret")
        bot = emu.add_user(login="bot@example.com", password="pw", first_name="Group bot")
        token = emu.issue_token(app, bot, refresh=True)
        emu.expire_token(token.access_token)  # every worker starts with an expired token
        config = {
            "api_url": emu.url,
            "redis_url": redis_url,
            "app_id": app.app_id,
            "app_key": app.app_key,
            "app_secret_key": app.app_secret_key,
            "access_token": token.access_token,
            "refresh_token": token.refresh_token,
            "uid": bot.uid,
            "calls": calls,
            "rate": rate,
        }
        spawn = multiprocessing.get_context("spawn")
        procs = [spawn.Process(target=worker, args=(config,)) for _ in range(workers)]
        started = time.monotonic()
        for proc in procs:
            proc.start()
        loop = asyncio.get_running_loop()
        for proc in procs:
            await loop.run_in_executor(None, proc.join)
        elapsed = time.monotonic() - started
        answered = emu.handled["users.getCurrentUser"]  # not counting 102s for the stale token
        renewals = sum(1 for r in emu.requests if r.path.endswith("token.do"))
    failed = [p.exitcode for p in procs if p.exitcode != 0]
    print(
        f"{workers} workers, {answered} API calls answered in {elapsed:.1f} s (budget {rate:g}/s)"
    )
    print(f"token.do calls: {renewals}")
    print("every call succeeded" if not failed else f"workers failed: exit codes {failed}")
    return 1 if failed else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--redis-url", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    )
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--calls", type=int, default=10, help="calls per worker")
    parser.add_argument("--rate", type=float, default=20.0, help="calls per second, all workers")
    args = parser.parse_args()
    raise SystemExit(asyncio.run(main(args.redis_url, args.workers, args.calls, args.rate)))
