"""Small aiohttp servers on 127.0.0.1 for tests that need a misbehaving peer."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@asynccontextmanager
async def serve(app: web.Application) -> AsyncIterator[str]:
    """Run ``app`` on a free port of 127.0.0.1; yield its base URL."""
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


@asynccontextmanager
async def answering(handler: Handler, path: str = "/{tail:.*}") -> AsyncIterator[str]:
    """A server answering every request to ``path`` with ``handler``; yields its base URL."""
    app = web.Application()
    app.router.add_route("*", path, handler)
    async with serve(app) as url:
        yield url
