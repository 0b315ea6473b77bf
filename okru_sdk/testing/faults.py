"""Fault injection for the emulator: make chosen requests misbehave.

Every emulator has a :class:`FaultInjector` at ``emu.faults``::

    emu.faults.add(Fault.http(502), times=2)                  # next 2 API requests
    emu.faults.add(Fault.api_error(8), method="users.getInfo", times=1)
    emu.faults.add(Fault.hang(), method="test.slow")          # until cleared
    emu.faults.add(Fault.http(503), method="oauth/token.do")  # fail token refreshes
    emu.faults.clear()

What can be faulted
-------------------
API requests (``/fb.do`` and ``/api/<group>/<method>``) and, only when a rule
names ``method="oauth/token.do"``, the token endpoint. A rule without
``method`` matches every API request; with a method it matches that API method
(case-insensitively). The OAuth dialog and ``/blank.html`` are never faulted.

Rules are tried in the order they were added; the first one that matches fires
and uses up one of its ``times`` (``times=None`` fires until cleared). Uses are
counted when a request arrives, so concurrent requests share them exactly.

Faulted requests do not run the method
--------------------------------------
A faulted request never reaches the method handler (a write behind a fault is
not performed, and ``emu.handled`` does not count it), with one exception:
:meth:`Fault.delay` waits and then handles the request normally. The request is
still recorded in ``emu.requests``; each firing is appended to
:attr:`FaultInjector.fired`.

Hung and delayed requests
-------------------------
A :meth:`Fault.hang` request waits until its rule is cleared (:meth:`FaultInjector.clear`),
:meth:`FaultInjector.release` is called, or the emulator stops; then its connection is
closed without a reply. Delays are cut short, and the connection closed, when
the emulator stops, so ``emu.stop()`` returns promptly.
"""

from __future__ import annotations

import asyncio
import dataclasses
import http
from typing import TYPE_CHECKING, Literal, NamedTuple

from aiohttp import web

from .responses import JSON_CONTENT_TYPE, api_error_response
from .state import EmulatorError, RecordedRequest

if TYPE_CHECKING:
    from .emulator import OkEmulator

__all__ = ["TOKEN_ENDPOINT", "Fault", "FaultInjector", "FaultKind", "FaultRule", "FiredFault"]

#: The ``method`` that makes a rule match ``POST /oauth/token.do``.
TOKEN_ENDPOINT = "oauth/token.do"

FaultKind = Literal[
    "http", "html", "truncated", "hang", "drop", "api_error", "expire_token", "delay"
]

#: Names of common OK.ru error codes, for the ``error_msg`` of :meth:`Fault.api_error`.
_ERROR_NAMES: dict[int, str] = {
    1: "UNKNOWN",
    2: "SERVICE",
    3: "METHOD",
    4: "REQUEST",
    7: "ACTION_BLOCKED",
    8: "FLOOD_BLOCKED",
    9: "IP_BLOCKED",
    10: "PERMISSION_DENIED",
    11: "LIMIT_REACHED",
    12: "CANCELLED",
    50: "NETWORK",
    51: "NETWORK_TIMEOUT",
    100: "PARAM",
    101: "PARAM_API_KEY",
    102: "PARAM_SESSION_EXPIRED",
    103: "PARAM_SESSION_KEY",
    104: "PARAM_SIGNATURE",
    105: "PARAM_RESIGNATURE",
    110: "PARAM_USER_ID",
    200: "PARAM_PERMISSION",
    300: "NOT_FOUND",
    451: "NOT_SESSION_METHOD",
    453: "SESSION_REQUIRED",
    9999: "SYSTEM",
}

#: The start of a valid reply, cut in the middle of a string.
TRUNCATED_BODY = '{"uid":"575662066926","first_name":"Al'

_MAINTENANCE_PAGE = (
    "<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>OK</title></head>"
    "<body><h1>Технические работы</h1><p>Сайт временно недоступен.</p></body></html>\n"
)


def _error_page(status: int) -> str:
    try:
        reason = http.HTTPStatus(status).phrase
    except ValueError:
        reason = "Error"
    title = f"{status} {reason}"
    return (
        f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n"
        f"<center><h1>{title}</h1></center>\r\n<hr><center>nginx</center>\r\n"
        "</body>\r\n</html>\r\n"
    )


@dataclasses.dataclass(frozen=True)
class Fault:
    """One way to misbehave; build it with the class methods (``Fault.http(502)``...)."""

    kind: FaultKind
    #: HTTP status (``http``, ``html``)
    status: int = 200
    #: ``Retry-After`` header value (``http``, ``html``)
    retry_after: int | str | None = None
    #: OK.ru error code and message (``api_error``, ``expire_token``)
    error_code: int | None = None
    error_msg: str | None = None
    #: seconds to wait before replying
    latency: float = 0.0

    def __post_init__(self) -> None:
        if self.latency < 0:
            raise ValueError("a delay cannot be negative")

    @property
    def name(self) -> str:
        """Short name used in :attr:`FaultInjector.fired`, e.g. ``"http_502"``."""
        if self.kind in ("http", "html"):
            return f"{self.kind}_{self.status}"
        if self.kind == "api_error":
            return f"api_error_{self.error_code}"
        return self.kind

    @classmethod
    def http(
        cls, status: int = 502, *, retry_after: int | str | None = None, delay: float = 0.0
    ) -> Fault:
        """An HTTP error (4xx/5xx) with an nginx-style HTML body."""
        if not 400 <= status <= 599:
            raise ValueError(f"Fault.http needs a 4xx or 5xx status, not {status}")
        return cls("http", status=status, retry_after=retry_after, latency=delay)

    @classmethod
    def html(
        cls, status: int = 200, *, retry_after: int | str | None = None, delay: float = 0.0
    ) -> Fault:
        """An HTML page (a maintenance page when ``status`` is 2xx) instead of JSON."""
        if not 200 <= status <= 599:
            raise ValueError(f"bad HTTP status {status}")
        return cls("html", status=status, retry_after=retry_after, latency=delay)

    @classmethod
    def truncated(cls, *, delay: float = 0.0) -> Fault:
        """HTTP 200 with a JSON content type and the start of a JSON reply, cut."""
        return cls("truncated", latency=delay)

    @classmethod
    def hang(cls) -> Fault:
        """No reply at all until the rule is cleared or the emulator stops (then a disconnect)."""
        return cls("hang")

    @classmethod
    def drop(cls, *, delay: float = 0.0) -> Fault:
        """Close the connection without a reply."""
        return cls("drop", latency=delay)

    @classmethod
    def api_error(cls, code: int, message: str | None = None, *, delay: float = 0.0) -> Fault:
        """An OK.ru API error: HTTP 200, the JSON error body, the ``invocation-error`` header.

        ``message`` defaults to ``"NAME : Injected fault"`` for known codes.
        """
        if message is None:
            message = f"{_ERROR_NAMES.get(code, 'UNKNOWN')} : Injected fault"
        return cls("api_error", error_code=code, error_msg=message, latency=delay)

    @classmethod
    def expire_token(cls, *, delay: float = 0.0) -> Fault:
        """Expire the token the request carries and answer 102 PARAM_SESSION_EXPIRED."""
        return cls(
            "expire_token",
            error_code=102,
            error_msg="PARAM_SESSION_EXPIRED : Session expired",
            latency=delay,
        )

    @classmethod
    def delay(cls, seconds: float) -> Fault:
        """Wait ``seconds``, then handle the request normally (the method runs)."""
        return cls("delay", latency=seconds)


@dataclasses.dataclass(eq=False)
class FaultRule:
    """A fault added with :meth:`FaultInjector.add`."""

    fault: Fault
    #: API method (or :data:`TOKEN_ENDPOINT`) the rule is limited to; ``None``: every API request
    method: str | None
    #: uses left; ``None`` fires until cleared
    remaining: int | None
    #: how many times it fired
    fired: int = 0

    def matches(self, is_api: bool, method: str | None) -> bool:
        if self.method is None:
            return is_api
        return method is not None and method.lower() == self.method.lower()


class FiredFault(NamedTuple):
    """One injected fault: the request's API method (or ``oauth/token.do``) and the fault name."""

    method: str | None
    fault: str


@dataclasses.dataclass(eq=False)
class _Waiter:
    future: asyncio.Future[None]
    rule: FaultRule
    #: hung requests are released by clear(); delays only by release() and stop
    hang: bool


def _target(request: web.Request, params: dict[str, str]) -> tuple[bool, str | None] | None:
    """(is an API request, method name) or ``None`` when the request cannot be faulted."""
    path = request.path
    if path == "/fb.do":
        return True, params.get("method")
    if path.startswith("/api/"):
        parts = path[len("/api/") :].strip("/").split("/")
        if len(parts) == 2 and all(parts):
            return True, ".".join(parts)
        return None
    if path == "/" + TOKEN_ENDPOINT:
        return False, TOKEN_ENDPOINT
    return None


class FaultInjector:
    """The fault rules of one emulator (``emu.faults``); see the module docs."""

    def __init__(self, emulator: OkEmulator) -> None:
        self._emulator = emulator
        self._rules: list[FaultRule] = []
        self._waiters: list[_Waiter] = []
        self._closed = False
        #: every fault that fired, in order
        self.fired: list[FiredFault] = []
        #: fault names fired per ``call_id`` request parameter (OK.ru's sequence
        #: number), so a client can tell which of its calls met which faults
        self.fired_by_call: dict[str, list[str]] = {}

    def add(
        self, fault: Fault, *, method: str | None = None, times: int | None = None
    ) -> FaultRule:
        """Make matching requests misbehave ``times`` times (``None``: until cleared).

        ``method`` limits the rule to one API method, or to the token endpoint
        with ``method="oauth/token.do"``; without it every API request matches.
        """
        if times is not None and times < 1:
            raise ValueError("times must be at least 1 (or None for until cleared)")
        if method is not None:
            method = method.strip()
            if method.lstrip("/").lower() == TOKEN_ENDPOINT:
                method = TOKEN_ENDPOINT
            if not method:
                raise ValueError("method must not be empty")
        rule = FaultRule(fault=fault, method=method, remaining=times)
        self._rules.append(rule)
        return rule

    def clear(self, method: str | None = None) -> None:
        """Remove every rule (or those limited to ``method``) and release their hung requests."""

        def hit(rule: FaultRule) -> bool:
            return method is None or (
                rule.method is not None
                and rule.method.lower() == method.strip().lstrip("/").lower()
            )

        self._rules = [rule for rule in self._rules if not hit(rule)]
        for waiter in self._waiters:
            if waiter.hang and hit(waiter.rule):
                self._wake(waiter)

    def release(self) -> int:
        """Close every hung or delayed request in flight now; returns how many were waiting."""
        count = 0
        for waiter in self._waiters:
            count += self._wake(waiter)
        return count

    @property
    def pending(self) -> list[FaultRule]:
        """Rules that can still fire, in matching order."""
        return list(self._rules)

    @property
    def in_flight(self) -> int:
        """Requests now held by a hang or a delay."""
        return sum(not waiter.future.done() for waiter in self._waiters)

    # ------------------------------------------------------------------ emulator side

    def _open(self) -> None:
        self._closed = False

    def _close(self) -> None:
        """The emulator is stopping: release every waiter, and do not let new ones wait."""
        self._closed = True
        self.release()

    @staticmethod
    def _wake(waiter: _Waiter) -> bool:
        if waiter.future.done():
            return False
        waiter.future.set_result(None)
        return True

    def _take(self, is_api: bool, method: str | None) -> FaultRule | None:
        for rule in self._rules:
            if rule.matches(is_api, method):
                rule.fired += 1
                if rule.remaining is not None:
                    rule.remaining -= 1
                    if rule.remaining <= 0:
                        self._rules.remove(rule)
                return rule
        return None

    async def intercept(
        self, request: web.Request, record: RecordedRequest
    ) -> web.StreamResponse | None:
        """Apply the first matching rule; ``None`` lets the request through."""
        if not self._rules:
            return None
        target = _target(request, record.params)
        if target is None:
            return None
        is_api, method = target
        rule = self._take(is_api, method)
        if rule is None:
            return None
        fault = rule.fault
        if is_api:
            record.method = method
        self.fired.append(FiredFault(method, fault.name))
        call_id = record.params.get("call_id")
        if call_id is not None:
            self.fired_by_call.setdefault(call_id, []).append(fault.name)

        if fault.kind == "hang":
            await self._wait(rule, None, hang=True)
            return _drop(request)
        if fault.latency > 0 and not await self._wait(rule, fault.latency, hang=False):
            return _drop(request)
        return self._respond(fault, request, record)

    async def _wait(self, rule: FaultRule, timeout: float | None, *, hang: bool) -> bool:
        """Wait ``timeout`` seconds (forever if ``None``); ``False`` if released early."""
        if self._closed:
            return False
        waiter = _Waiter(asyncio.get_running_loop().create_future(), rule, hang)
        self._waiters.append(waiter)
        try:
            done, _ = await asyncio.wait([waiter.future], timeout=timeout)
            return not done
        finally:
            self._waiters.remove(waiter)
            waiter.future.cancel()

    def _respond(
        self, fault: Fault, request: web.Request, record: RecordedRequest
    ) -> web.StreamResponse | None:
        headers: dict[str, str] = {}
        if fault.retry_after is not None:
            headers["Retry-After"] = str(fault.retry_after)
        if fault.kind == "delay":
            return None
        if fault.kind == "drop":
            return _drop(request)
        if fault.kind == "http":
            return web.Response(
                status=fault.status,
                text=_error_page(fault.status),
                content_type="text/html",
                headers=headers,
            )
        if fault.kind == "html":
            page = _MAINTENANCE_PAGE if fault.status < 300 else _error_page(fault.status)
            return web.Response(
                status=fault.status, text=page, content_type="text/html", headers=headers
            )
        if fault.kind == "truncated":
            return web.Response(
                body=TRUNCATED_BODY.encode("utf-8"), headers={"Content-Type": JSON_CONTENT_TYPE}
            )
        if fault.kind == "expire_token":
            key = record.params.get("access_token") or record.params.get("session_key")
            if key and key in self._emulator.tokens:
                self._emulator.expire_token(key)
        assert fault.error_code is not None and fault.error_msg is not None
        return api_error_response(EmulatorError(fault.error_code, fault.error_msg))


def _drop(request: web.Request) -> web.StreamResponse:
    """Close the connection; aiohttp then fails to write the returned response, quietly."""
    transport = request.transport
    if transport is not None:
        transport.close()
    return web.Response(status=500)
