"""HTTP transport: one aiohttp client session per SDK session.

The aiohttp session is created on first use and closed by :meth:`HttpTransport.close`.
A session supplied by the user is used as it is and never closed.
"""

from __future__ import annotations

import asyncio
import platform
import re
import sys
from collections.abc import Callable, Mapping
from http.cookies import SimpleCookie
from typing import TYPE_CHECKING
from urllib.parse import quote_plus

import aiohttp
from multidict import CIMultiDictProxy
from yarl import URL

from ._version import __version__
from .errors import OkError, RequestTimeout, TransportError
from .ratelimit import MethodLimits, make_limits

if TYPE_CHECKING:
    from .ratelimit import RateLimitSetting

__all__ = [
    "DEFAULT_MAX_REPLY_SIZE",
    "HttpReply",
    "HttpTransport",
    "ReplyTooLarge",
    "SessionClosed",
    "USER_AGENT",
    "encode_form",
]

#: the default cap on one reply's size after decompression, bytes (64 MiB)
DEFAULT_MAX_REPLY_SIZE = 64 * 1024 * 1024

#: sent with every request, also through an ``http=`` session of the user's (per request,
#: so that session's own default headers stay as they are)
USER_AGENT = (
    f"okru-sdk/{__version__} (Python {platform.python_version()}; aiohttp {aiohttp.__version__})"
)
_HEADERS = {"User-Agent": USER_AGENT}
#: A dict ``data=`` costs ~100 µs a call in aiohttp (payload-registry misses,
#: a FormData with a multipart writer, then urlencode); the body is built here.
_FORM_HEADERS = {**_HEADERS, "Content-Type": "application/x-www-form-urlencoded"}
#: the same for the SDK's own aiohttp session, which has the User-Agent as a default
#: header already (merging per-request headers costs aiohttp a few µs a call)
_OWN_FORM_HEADERS = {"Content-Type": "application/x-www-form-urlencoded"}
#: how many distinct per-attempt timeouts keep a prebuilt aiohttp.ClientTimeout
_TIMEOUT_CACHE_SIZE = 16


#: characters ``quote_plus`` leaves as they are (space aside, which it turns into ``+``)
#: (and ``,``, which RFC 3986 allows in a query and form parsers take as it is: the
#: comma-joined lists OK.ru takes then need no quoting at all)
_NEEDS_QUOTING = re.compile(r"[^A-Za-z0-9_.~,-]").search


def _quote(text: str) -> str:
    # Most keys and many values need no quoting; the regex check is far cheaper.
    return quote_plus(text, safe=",") if _NEEDS_QUOTING(text) else text


def form_text(data: Mapping[str, str], pairs: list[str] | None = None) -> str:
    """``key=value&...`` of ready wire strings, percent-encoded (UTF-8): a query string.

    ``pairs``, when given, are all of ``data``'s items as ``key=value``
    strings (in any order), made already (for the signature): a form with
    nothing to quote is joined from them.
    """
    # An API call's keys and values (names, ids, hex signatures, comma-joined
    # fields) rarely need quoting: one search over all of them, not two per pair.
    if _NEEDS_QUOTING("".join(data) + "".join(data.values())) is None:
        if pairs is not None:
            return "&".join(pairs)
        return "&".join([f"{k}={v}" for k, v in data.items()])
    return "&".join([f"{_quote(k)}={_quote(v)}" for k, v in data.items()])


def encode_form(data: Mapping[str, str]) -> bytes:
    """The ``application/x-www-form-urlencoded`` body of ready wire strings (UTF-8)."""
    return form_text(data).encode()


class HttpReply:
    """One reply, read whole. (A plain class: a frozen dataclass costs a call a few µs.)"""

    __slots__ = ("body", "headers", "status", "url")

    def __init__(self, status: int, headers: CIMultiDictProxy[str], body: bytes, url: str) -> None:
        self.status = status
        self.headers = headers
        self.body = body
        self.url = url

    def __repr__(self) -> str:  # no body: it may quote what was sent
        return f"HttpReply(status={self.status}, {len(self.body)} bytes)"


class ReplyTooLarge(TransportError):
    """The reply is larger than the session's ``max_reply_size`` (after decompression)."""


class UnsendableRequest(TransportError):
    """aiohttp refused to send the request (a malformed URL or header); nothing left."""


class SessionClosed(OkError, RuntimeError):
    """The SDK session was closed; build a new one to make more calls."""


class HttpTransport:
    """Owns (or borrows) the aiohttp session and turns failures into SDK errors."""

    def __init__(
        self,
        *,
        timeout: float,
        http: aiohttp.ClientSession | None = None,
        max_connections: int = 100,
        rate_limit: RateLimitSetting | None = None,
        max_reply_size: int = DEFAULT_MAX_REPLY_SIZE,
    ) -> None:
        if max_connections < 1:
            raise ValueError(f"max_connections must be at least 1, got {max_connections!r}")
        if isinstance(max_reply_size, bool) or not (
            isinstance(max_reply_size, int) and max_reply_size > 0
        ):
            raise ValueError(
                f"max_reply_size must be a positive number of bytes, got {max_reply_size!r}"
            )
        self.max_reply_size = max_reply_size
        self.closed = False
        self._own = http is None
        self._http = http
        self.timeout = timeout
        self._max_connections = max_connections
        self._timeouts: dict[float, aiohttp.ClientTimeout] = {}
        #: the ``rate_limit=`` budgets, by method pattern (see okru_sdk.ratelimit)
        self._limits: MethodLimits | None = make_limits(rate_limit)

    @property
    def owns_http(self) -> bool:
        return self._own

    def check_open(self) -> None:
        """Raise :class:`SessionClosed` once :meth:`close` has run."""
        if self.closed:
            raise SessionClosed(
                "this okru-sdk session is closed: create a new session (or keep "
                "'async with' around all the calls that share one)"
            )

    def _client(self) -> aiohttp.ClientSession:
        self.check_open()
        http = self._http
        if http is None or (self._own and http.closed):
            # Cookies are handled per OAuth dialog by the caller; API calls need none.
            http = aiohttp.ClientSession(
                headers=_HEADERS,
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
        url: str | URL,
        *,
        what: str,
        data: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        cookies: Mapping[str, str] | None = None,
        timeout: float | None = None,
        budget: str | None = None,
        query: Mapping[str, str] | str | None = None,
        form: str | None = None,
        max_size: int | None = None,
        on_cookies: Callable[[SimpleCookie], None] | None = None,
    ) -> HttpReply:
        """Send one request without following redirects and read the whole body.

        ``what`` names the call in error messages (a method name or an endpoint),
        so no URL with credentials in its query ever reaches an exception.
        ``budget`` is the name the ``rate_limit=`` patterns are matched against
        (default: ``what``).

        ``query`` is put in the URL's query string, encoded here as the form
        body would be (or given ready, from :func:`form_text`). Such a URL can
        carry a token and a signature, and aiohttp's exceptions quote URLs, so
        their errors are raised without the aiohttp exception chained to them.
        ``form`` is a form body given ready (from :func:`form_text`), instead of ``data``.
        ``max_size`` caps this reply instead of the session's ``max_reply_size``;
        ``on_cookies`` gets the reply's ``Set-Cookie`` morsels (the OAuth dialog
        keeps its own jar per origin).
        """
        seconds = self.timeout if timeout is None else timeout
        if form is not None:
            body: bytes | None = form.encode()
        else:
            body = None if data is None else encode_form(data)
        target: str | URL = url
        if query is not None:
            text = query if isinstance(query, str) else form_text(query)
            target = URL(f"{url}?{text}", encoded=True)
        hide = query is not None  # aiohttp's exception would quote the URL
        client = self._client()
        try:
            if self._limits is not None:
                await self.wait_for_budget(what if budget is None else budget, seconds)
            async with client.request(
                http_method,
                target,
                data=body,
                headers=(
                    (None if body is None else _OWN_FORM_HEADERS)
                    if self._own
                    else (_HEADERS if body is None else _FORM_HEADERS)
                ),
                params=params,
                cookies=cookies,
                allow_redirects=False,
                timeout=self._client_timeout(seconds),
            ) as resp:
                body = await self._read(resp, what, max_size)
                if on_cookies is not None:
                    on_cookies(resp.cookies)
                return HttpReply(
                    status=resp.status,
                    headers=resp.headers,
                    body=body,
                    url=str(url) if hide else str(resp.url),
                )
        except (asyncio.TimeoutError, aiohttp.ClientError, ValueError) as exc:
            raise _failure(exc, what, seconds) from _chained(exc, hide)

    async def api_request(
        self, http_method: str, url: str, text: str, *, what: str, timeout: float | None
    ) -> HttpReply:
        """An API call: ``text`` (from :func:`form_text`) as a GET's query or a POST's form.

        What :meth:`request` does for such a call, with nothing the call does not
        use (every API call goes through here, so every step counts). A GET's
        URL carries the token and the signature: its errors are raised without
        the aiohttp exception chained to them.
        """
        seconds = self.timeout if timeout is None else timeout
        client = self._client()
        if http_method == "GET":
            target: str | URL = URL(f"{url}?{text}", encoded=True)
            body: bytes | None = None
            headers = None if self._own else _HEADERS
        else:
            target, body = url, text.encode()
            headers = _OWN_FORM_HEADERS if self._own else _FORM_HEADERS
        try:
            if self._limits is not None:
                await self.wait_for_budget(what, seconds)
            # awaited, not entered with ``async with``: its exit is one more coroutine
            # for every call; the connection goes back to the pool once the body is read
            resp = await client.request(
                http_method,
                target,
                data=body,
                headers=headers,
                allow_redirects=False,
                timeout=self._client_timeout(seconds),
            )
            try:
                head = resp.headers
                length = head.get("Content-Length")
                if (
                    length is not None
                    and "Content-Encoding" not in head
                    and int(length) <= self.max_reply_size
                ):
                    data = await resp.read()  # it waits for the request to be written, too
                    resp.release()
                else:
                    data = await self._read(resp, what)
                    await resp.wait_for_close()  # the request written, then released
            except BaseException:
                resp.close()  # a reply not read to its end: the connection is dropped
                raise
            return HttpReply(resp.status, head, data, url)
        except (asyncio.TimeoutError, aiohttp.ClientError, ValueError) as exc:
            raise _failure(exc, what, seconds) from _chained(exc, body is None)

    async def wait_for_budget(self, name: str, seconds: float) -> None:
        """Wait for the rate budgets that apply to ``name``, at most ``seconds``.

        The wait counts against the attempt's time: a budget that is not there in
        time ends as :class:`asyncio.TimeoutError`, which callers report as
        :class:`~okru_sdk.RequestTimeout`.
        """
        limits = self._limits
        if limits is None or not limits.limiters_for(name):
            return
        if sys.version_info >= (3, 11):
            async with asyncio.timeout(seconds):  # no task per call, unlike wait_for
                await limits.acquire(name)
        else:  # pragma: no cover - Python 3.10
            await asyncio.wait_for(limits.acquire(name), seconds)

    async def _read(self, resp: aiohttp.ClientResponse, what: str, cap: int | None = None) -> bytes:
        """The whole body, refused once it (or its announced length) passes the cap."""
        if cap is None:
            cap = self.max_reply_size
        length = resp.content_length
        if length is not None and length > cap:
            raise self._too_large(
                what, resp.status, f"announces {length} bytes, more than the cap of {cap} bytes"
            )
        if length is not None and "Content-Encoding" not in resp.headers:
            return await resp.read()
        # Unknown or compressed length: count the decoded bytes as they arrive.
        chunks: list[bytes] = []
        size = 0
        while chunk := await resp.content.readany():
            size += len(chunk)
            if size > cap:
                raise self._too_large(
                    what, resp.status, f"passes the cap of {cap} bytes once decoded"
                )
            chunks.append(chunk)
        return b"".join(chunks)

    def _too_large(self, what: str, status: int, detail: str) -> ReplyTooLarge:
        return ReplyTooLarge(
            f"{what}: the reply {detail} (max_reply_size)", method=what, status=status
        )

    async def close(self) -> None:
        self.closed = True
        http = self._http
        if self._own and http is not None and not http.closed:
            await http.close()


def _failure(exc: BaseException, what: str, seconds: float) -> OkError:
    """The SDK error for what aiohttp (or asyncio's timeout) raised while sending ``what``."""
    if isinstance(exc, asyncio.TimeoutError):
        return RequestTimeout(f"{what}: no complete reply within {seconds:g} s", method=what)
    if isinstance(exc, aiohttp.ClientConnectorError):
        # The connection was never made, so the request never left.
        return TransportError(
            f"{what}: {type(exc).__name__}: {_safe_reason(exc)}",
            method=what,
            reached_server=False,
        )
    if isinstance(exc, aiohttp.ClientError):
        return TransportError(f"{what}: {type(exc).__name__}: {_safe_reason(exc)}", method=what)
    # a URL or header aiohttp will not send
    return UnsendableRequest(
        f"{what}: cannot send the request: {type(exc).__name__}",
        method=what,
        reached_server=False,
    )


def _chained(exc: BaseException, hide: bool) -> BaseException | None:
    """The cause to chain: none where aiohttp's exception may quote a URL with a token."""
    if hide or (isinstance(exc, ValueError) and not isinstance(exc, aiohttp.ClientError)):
        return None
    return exc


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
