"""Retries, the total deadline, token renewal and the retry policy's rules."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable

import pytest
from aiohttp import web

from okru_sdk import (
    API,
    APIError,
    CodeServerSession,
    PasswordServerSession,
    RefreshServerSession,
    RequestTimeout,
    ServerSession,
    TransportError,
)
from okru_sdk.errors import RequestTimeout as _RT
from okru_sdk.retry import NO_RETRY, RetryPolicy
from okru_sdk.sessions import SessionSettings
from okru_sdk.testing import Fault, OkEmulator
from okru_sdk.testing.state import App, MethodCall, User

from .conftest import LOGIN, PASSWORD, REDIRECT_URI

FAST = RetryPolicy(backoff=0.01, flood_backoff=0.02)


def failing_then(
    failures: list[Callable[[], web.Response]], result: object
) -> Callable[[MethodCall], object]:
    """A handler that answers with each failure in turn, then with ``result``."""
    pending = list(failures)

    def handler(call: MethodCall) -> object:
        return pending.pop(0)() if pending else result

    return handler


def html(status: int) -> Callable[[], web.Response]:
    return lambda: web.Response(status=status, body=b"<html>oops</html>", content_type="text/html")


def ok_error(code: int) -> Callable[[], web.Response]:
    body = {"error_code": code, "error_msg": f"ERR{code} : test", "error_data": None}
    return lambda: web.json_response(body, headers={"invocation-error": str(code)})


async def server_session(
    emu: OkEmulator, app: App, user: User, **settings: object
) -> ServerSession:
    tok = emu.issue_token(app, user)
    return ServerSession(
        app.app_id,
        app.app_key,
        app.app_secret_key,
        tok.access_token,
        api_url=emu.url,
        **settings,  # type: ignore[arg-type]
    )


async def read(session: ServerSession, method: str) -> object:
    """A retry-safe call of an uncatalogued test method (``api.call`` would treat
    it as a possible write and not retry it)."""
    body = await session.request(method, {}, retry_safe=True)
    return json.loads(body) if body else None


def calls_of(emu: OkEmulator, method: str) -> int:
    return sum(1 for r in emu.requests if r.method == method)


# -- retries -------------------------------------------------------------------------


async def test_a_500_then_success_is_retried_and_succeeds(
    emu: OkEmulator, app: App, user: User
) -> None:
    emu.register_method("test.flaky", failing_then([html(500)], {"ok": True}))
    async with await server_session(emu, app, user, retry=FAST) as s:
        assert await read(s, "test.flaky") == {"ok": True}
    assert calls_of(emu, "test.flaky") == 2


async def test_a_502_page_ends_as_transport_error_after_the_retries(
    emu: OkEmulator, app: App, user: User
) -> None:
    emu.register_method("test.down", failing_then([html(502)] * 10, None))
    async with await server_session(emu, app, user, retry=FAST) as s:
        with pytest.raises(TransportError) as info:
            await read(s, "test.down")
    assert info.value.status == 502
    assert calls_of(emu, "test.down") == 3  # the first attempt and 2 retries


async def test_transient_ok_errors_are_retried_and_others_are_not(
    emu: OkEmulator, app: App, user: User
) -> None:
    emu.register_method("test.service", failing_then([ok_error(2)], "fine"))
    emu.register_method("test.param", failing_then([ok_error(100)], "never"))
    async with await server_session(emu, app, user, retry=FAST) as s:
        assert await read(s, "test.service") == "fine"
        with pytest.raises(APIError) as info:
            await read(s, "test.param")
    assert info.value.code == 100
    assert calls_of(emu, "test.param") == 1


async def test_unsafe_write_is_not_retried_after_it_may_have_reached_the_server(
    emu: OkEmulator, app: App, user: User
) -> None:
    emu.register_method("test.write", failing_then([html(503)], "written"))
    async with await server_session(emu, app, user, retry=FAST) as s:
        with pytest.raises(TransportError):
            await s.request("test.write", {}, retry_safe=False)
    assert calls_of(emu, "test.write") == 1


async def test_unsafe_write_is_retried_when_the_connection_was_never_made(
    app: App,
) -> None:
    async with OkEmulator() as gone:
        url = gone.url
    started = time.monotonic()
    async with ServerSession(
        app.app_id, app.app_key, app.app_secret_key, "t", api_url=url, retry=FAST
    ) as s:
        with pytest.raises(TransportError) as info:
            await s.request("test.write", {}, retry_safe=False)
    assert info.value.reached_server is False
    assert time.monotonic() - started < 5


async def test_per_call_policy_overrides_the_session_policy(
    emu: OkEmulator, app: App, user: User
) -> None:
    emu.register_method("test.flaky", failing_then([html(500)], "ok"))
    async with await server_session(emu, app, user, retry=FAST) as s:
        with pytest.raises(TransportError):
            await s.request("test.flaky", {}, retry=NO_RETRY)
    assert calls_of(emu, "test.flaky") == 1


async def test_hung_reply_times_out_per_attempt_within_the_default_policy(
    emu: OkEmulator, app: App, user: User
) -> None:
    release = asyncio.Event()

    async def hang(call: MethodCall) -> str:
        await release.wait()
        return "late"

    emu.register_method("test.hang", hang)
    started = time.monotonic()
    async with await server_session(emu, app, user, timeout=0.2) as s:
        with pytest.raises(RequestTimeout):
            await read(s, "test.hang")
    elapsed = time.monotonic() - started
    release.set()
    assert calls_of(emu, "test.hang") == 3
    # 3 attempts of 0.2 s plus at most 0.5 + 1.0 s of backoff
    assert elapsed < 0.6 + 1.5 + 3.0  # generous: shared machines are noisy


async def test_total_deadline_bounds_all_attempts(emu: OkEmulator, app: App, user: User) -> None:
    release = asyncio.Event()

    async def hang(call: MethodCall) -> str:
        await release.wait()
        return "late"

    emu.register_method("test.hang", hang)
    policy = RetryPolicy(max_retries=50, backoff=0.01, total_timeout=0.5)
    started = time.monotonic()
    async with await server_session(emu, app, user, timeout=0.2, retry=policy) as s:
        with pytest.raises(_RT):
            await read(s, "test.hang")
    release.set()
    assert time.monotonic() - started < 0.5 + 1.5  # generous: shared machines are noisy


async def test_flood_error_backs_off_and_ends_as_code_8(
    emu: OkEmulator, app: App, user: User
) -> None:
    emu.register_method("test.flood", failing_then([ok_error(8)] * 10, None))
    async with await server_session(emu, app, user, retry=FAST) as s:
        with pytest.raises(APIError) as info:
            await read(s, "test.flood")
    assert info.value.code == 8
    assert isinstance(info.value, APIError.for_code(8))
    assert calls_of(emu, "test.flood") == 3


def test_policy_rules() -> None:
    policy = RetryPolicy()
    timeout = RequestTimeout("t")
    refused = TransportError("refused", reached_server=False)
    bad_request = TransportError("400", status=400)
    assert policy.decide(timeout, attempt=1, retry_safe=True) == "timeout"
    assert policy.decide(timeout, attempt=1, retry_safe=False) is None
    assert policy.decide(refused, attempt=2, retry_safe=False) is not None
    assert policy.decide(refused, attempt=3, retry_safe=True) is None  # out of retries
    assert policy.decide(bad_request, attempt=1, retry_safe=True) is None
    for attempt in (1, 2, 3, 10):
        assert 0 <= policy.delay(timeout, attempt=attempt) <= policy.backoff_max
    hinted = TransportError("503", status=503, retry_after=1.5)
    assert policy.delay(hinted, attempt=1) == 1.5
    with pytest.raises(ValueError, match="total_timeout"):
        RetryPolicy(total_timeout=0)


# -- renewal --------------------------------------------------------------------------


async def test_102_on_a_refresh_session_refreshes_once_and_succeeds(
    emu: OkEmulator, app: App, user: User, urls: SessionSettings
) -> None:
    tok = emu.issue_token(app, user, refresh=True)
    assert tok.refresh_token
    async with RefreshServerSession(
        app.app_id, app.app_key, app.app_secret_key, tok.refresh_token, **urls
    ) as s:
        first = s.access_token
        emu.expire_token(first)
        me = await API(s).call("users.getCurrentUser")
        assert me["uid"] == user.uid
        assert s.access_token != first
    refreshes = [r for r in emu.requests if r.path.endswith("token.do")]
    assert len(refreshes) == 2  # the sign-in and one renewal


async def test_concurrent_calls_share_one_refresh(
    emu: OkEmulator, app: App, user: User, urls: SessionSettings
) -> None:
    code = emu.issue_code(app, user, REDIRECT_URI)
    async with CodeServerSession(
        app.app_id, app.app_key, app.app_secret_key, code, REDIRECT_URI, **urls
    ) as s:
        emu.expire_token(s.access_token)
        emu.clear_requests()
        results = await asyncio.gather(*(API(s).call("users.getCurrentUser") for _ in range(20)))
    assert all(r["uid"] == user.uid for r in results)
    assert sum(1 for r in emu.requests if r.path.endswith("token.do")) == 1


async def test_expired_deadline_refreshes_before_calling(
    emu: OkEmulator, app: App, user: User, urls: SessionSettings
) -> None:
    code = emu.issue_code(app, user, REDIRECT_URI)
    async with CodeServerSession(
        app.app_id, app.app_key, app.app_secret_key, code, REDIRECT_URI, **urls
    ) as s:
        s.expires_at = time.time() - 1
        emu.clear_requests()
        await API(s).call("users.getCurrentUser")
    assert emu.requests[0].path.endswith("token.do")
    assert [r.method for r in emu.requests[1:]] == ["users.getCurrentUser"]


async def test_a_session_that_cannot_renew_raises_the_session_expired_class(
    emu: OkEmulator, app: App, user: User
) -> None:
    async with await server_session(emu, app, user, retry=FAST) as s:
        emu.expire_token(s.access_token)
        with pytest.raises(APIError) as info:
            await API(s).call("users.getCurrentUser")
    assert info.value.code == 102
    assert isinstance(info.value, APIError.for_code(102))


async def test_password_session_signs_in_again_only_when_asked(
    emu: OkEmulator, app: App, user: User, urls: SessionSettings
) -> None:
    async with PasswordServerSession(
        app.app_id, app.app_key, app.app_secret_key, LOGIN, PASSWORD, **urls
    ) as s:
        emu.expire_token(s.access_token)
        with pytest.raises(APIError):
            await API(s).call("users.getCurrentUser")
    async with PasswordServerSession(
        app.app_id, app.app_key, app.app_secret_key, LOGIN, PASSWORD, reauthorize=True, **urls
    ) as s:
        emu.expire_token(s.access_token)
        assert (await API(s).call("users.getCurrentUser"))["uid"] == user.uid
    assert sum(1 for r in emu.requests if r.method == "auth.login") == 3


# -- limits -----------------------------------------------------------------------------


async def test_rate_limit_spaces_calls(emu: OkEmulator, app: App, user: User) -> None:
    async with await server_session(emu, app, user, rate_limit=20) as s:
        started = time.monotonic()
        await asyncio.gather(*(API(s).call("users.getCurrentUser") for _ in range(30)))
        elapsed = time.monotonic() - started
    # 20 go at once from the full bucket, the other 10 drip at 20/s
    assert elapsed >= 0.3


async def test_connection_cap_is_respected(emu: OkEmulator, app: App, user: User) -> None:
    in_flight = 0
    peak = 0

    async def slow(call: MethodCall) -> int:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.02)
        in_flight -= 1
        return peak

    emu.register_method("test.slow", slow)
    async with await server_session(emu, app, user, max_connections=3) as s:
        await asyncio.gather(*(API(s).call("test.slow") for _ in range(12)))
    assert peak == 3


async def test_api_call_retries_catalogued_reads_but_not_unknown_methods(
    emu: OkEmulator, app: App, user: User
) -> None:
    emu.faults.add(Fault.http(500), method="users.getCurrentUser", times=1)
    emu.faults.add(Fault.http(500), method="test.unknownWrite", times=1)
    emu.register_method("test.unknownWrite", lambda call: "written")
    async with await server_session(emu, app, user, retry=FAST) as s:
        me = await API(s).call("users.getCurrentUser")
        assert me["uid"] == user.uid
        with pytest.raises(TransportError):
            await API(s).call("test.unknownWrite")
    assert calls_of(emu, "users.getCurrentUser") == 2
    assert calls_of(emu, "test.unknownWrite") == 1
    assert emu.handled["test.unknownWrite"] == 0
