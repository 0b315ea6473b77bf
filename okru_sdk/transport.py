"""HTTP transport: one aiohttp client session per SDK session.

The aiohttp session is created on first use and closed by :meth:`HttpTransport.close`.
A session supplied by the user is used as it is and never closed.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import quote_plus

import aiohttp
from multidict import CIMultiDictProxy

from .errors import RequestTimeout, TransportError

if TYPE_CHECKING:
    from aiolimiter import AsyncLimiter

__all__ = ["HttpReply", "HttpTransport", "encode_form"]

#: A dict ``data=`` costs ~100 µs a call in aiohttp (payload-registry misses,
#: a FormData with a multipart writer, then urlencode); the body is built here.
_FORM_HEADERS = {"Content-Type": "application/x-www-form-urlencoded"}
#: how many distinct per-attempt timeouts keep a prebuilt aiohttp.ClientTimeout
_TIMEOUT_CACHE_SIZE = 16


#: characters ``quote_plus`` leaves as they are (space aside, which it turns into ``+``)
_NEEDS_QUOTING = re.compile(r"[^A-Za-z0-9_.~-]").search


def _quote(text: str) -> str:
    # Most keys and many values need no quoting; the regex check is far cheaper.
    return quote_plus(text) if _NEEDS_QUOTING(text) else text


def encode_form(data: Mapping[str, str]) -> bytes:
    """The ``application/x-www-form-urlencoded`` body of ready wire strings (UTF-8)."""
    return "&".join(f"{_quote(k)}={_quote(v)}" for k, v in data.items()).encode()


@dataclass(frozen=True, slots=True)
class HttpReply:
    status: int
    headers: CIMultiDictProxy[str]
    body: bytes
    url: str
    #: cookies set by this reply (name -> value)
    cookies: dict[str, str]


class HttpTransport:
    """Owns (or borrows) the aiohttp session and turns failures into SDK errors."""

    def __init__(
        self,
        *,
        timeout: float,
        http: aiohttp.ClientSession | None = None,
        max_connections: int = 100,
        rate_limit: float | None = None,
    ) -> None:
        if max_connections < 1:
            raise ValueError(f"max_connections must be at least 1, got {max_connections!r}")
        self._own = http is None
        self._http = http
        self.timeout = timeout
        self._max_connections = max_connections
        self._timeouts: dict[float, aiohttp.ClientTimeout] = {}
        self._limiter = _make_limiter(rate_limit)

    @property
    def owns_http(self) -> bool:
        return self._own

    def _client(self) -> aiohttp.ClientSession:
        http = self._http
        if http is None or (self._own and http.closed):
            # Cookies are handled per OAuth dialog by the caller; API calls need none.
            http = aiohttp.ClientSession(
                cookie_jar=aiohttp.DummyCookieJar(),
                connector=aiohttp.TCPConnector(limit=self._max_connections),
            )
            self._http = http
        return http

    def _client_timeout(self, seconds: float) -> aiohttp.ClientTimeout:
        # Only a few distinct values recur (the session's and per-call ones); a value
        # cut short by a call's total deadline is one-off, so the cache stays small.
        cached = self._timeouts.get(seconds)
        if cached is None:
            cached = aiohttp.ClientTimeout(total=seconds)
            if len(self._timeouts) < _TIMEOUT_CACHE_SIZE:
                self._timeouts[seconds] = cached
        return cached

    async def request(
        self,
        http_method: str,
        url: str,
        *,
        what: str,
        data: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        cookies: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> HttpReply:
        """Send one request without following redirects and read the whole body.

        ``what`` names the call in error messages (a method name or an endpoint),
        so no URL with credentials in its query ever reaches an exception.
        """
        seconds = self.timeout if timeout is None else timeout
        body = None if data is None else encode_form(data)
        if self._limiter is not None:
            await self._limiter.acquire()
        try:
            async with self._client().request(
                http_method,
                url,
                data=body,
                headers=None if body is None else _FORM_HEADERS,
                params=params,
                cookies=cookies,
                allow_redirects=False,
                timeout=self._client_timeout(seconds),
            ) as resp:
                body = await resp.read()
                return HttpReply(
                    status=resp.status,
                    headers=resp.headers,
                    body=body,
                    url=str(resp.url),
                    cookies={name: morsel.value for name, morsel in resp.cookies.items()},
                )
        except asyncio.TimeoutError as exc:
            raise RequestTimeout(
                f"{what}: no complete reply within {seconds:g} s", method=what
            ) from exc
        except aiohttp.ClientConnectorError as exc:
            # The connection was never made, so the request never left.
            raise TransportError(
                f"{what}: {type(exc).__name__}: {_safe_reason(exc)}",
                method=what,
                reached_server=False,
            ) from exc
        except aiohttp.ClientError as exc:
            raise TransportError(
                f"{what}: {type(exc).__name__}: {_safe_reason(exc)}", method=what
            ) from exc

    async def close(self) -> None:
        http = self._http
        if self._own and http is not None and not http.closed:
            await http.close()


def _make_limiter(rate_limit: float | None) -> AsyncLimiter | None:
    if rate_limit is None:
        return None
    if not rate_limit > 0:
        raise ValueError(
            f"rate_limit must be a positive number of calls per second, got {rate_limit!r}"
        )
    try:
        from aiolimiter import AsyncLimiter
    except ImportError:  # pragma: no cover - depends on the installation
        raise ImportError(
            "rate_limit needs aiolimiter: pip install 'okru-sdk[ratelimit]'"
        ) from None
    # A bucket of one second's worth of calls: bursts up to the rate, then steady.
    return AsyncLimiter(max_rate=rate_limit, time_period=1.0)


def _safe_reason(exc: aiohttp.ClientError) -> str:
    # aiohttp messages may quote the request URL, and a GET URL can carry a
    # token in its query; keep only the part before any URL.
    if isinstance(exc, aiohttp.ClientConnectorError):
        return f"cannot connect to {exc.host}:{exc.port}"
    if isinstance(exc, aiohttp.ClientResponseError):
        return f"HTTP {exc.status} {exc.message}"
    text = str(exc)
    cut = text.find("http")
    return (text[:cut].rstrip(" ,:'\"") or type(exc).__name__) if cut >= 0 else text
