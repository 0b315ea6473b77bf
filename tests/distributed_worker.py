"""One worker process of the Redis tests: ``python -m tests.distributed_worker '<json>'``.

It builds a ``ServerSession`` on the shared Redis (a ``RedisRateLimiter`` and/or a
``RedisTokenStore``, as the JSON says), prints ``ready``, waits for a line on
stdin (so every worker starts at once), makes its calls concurrently and prints
one JSON line: the uids or error class names of its calls.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

from redis.asyncio import Redis

from okru_sdk import ServerSession
from okru_sdk.distributed import RedisRateLimiter, RedisTokenStore
from okru_sdk.retry import RetryPolicy
from okru_sdk.sessions import SessionSettings
from okru_sdk.tokens import Tokens


async def run(config: dict[str, Any]) -> dict[str, Any]:
    redis = Redis.from_url(config["redis_url"])
    settings: SessionSettings = {
        "api_url": config["api_url"],
        "retry": RetryPolicy(backoff=0.01, total_timeout=config.get("total_timeout", 30.0)),
    }
    if config.get("rate"):
        settings["rate_limit"] = RedisRateLimiter(
            redis, config["limit_key"], config["rate"], burst=config.get("burst", 1)
        )
    reported: list[Tokens] = []
    if config.get("token_key"):
        settings["token_store"] = RedisTokenStore(redis, lock_timeout=config["lock_timeout"])
        settings["token_key"] = config["token_key"]
        settings["on_tokens"] = reported.append
    session = ServerSession(
        config["app_id"],
        config["app_key"],
        config["app_secret_key"],
        config["access_token"],
        refresh_token=config.get("refresh_token", ""),
        expires_at=config.get("expires_at"),
        **settings,
    )
    method = config["method"]

    async def one() -> str:
        try:
            body = await session.request(method, {}, retry_safe=True)
        except Exception as exc:
            return f"error: {type(exc).__name__}: {exc}"
        return str(json.loads(body).get("uid", "ok"))

    try:
        print("ready", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        results = await asyncio.gather(*(one() for _ in range(config["calls"])))
    finally:
        await session.close()
        await redis.aclose()
    return {"results": results, "renewals_reported": len(reported)}


def main() -> None:
    config = json.loads(sys.argv[1])
    print(json.dumps(asyncio.run(run(config))), flush=True)


if __name__ == "__main__":
    main()
